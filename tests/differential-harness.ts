// Differential test harness: the same command scripts are sent to a real redis-server and to a
// candidate server, and the replies are compared byte for byte (after a few explicit, per-command
// masking rules). Used by tests/differential.test.ts and tests/differential-collections.test.ts;
// each test file calls runDifferentialSuites() once with its scripts.
//
// Target selection (the "candidate" compared against the reference redis-server):
//   default              Redbun, started in-process via sharedServer() from ./helpers.ts
//   DIFF_TARGET=redis    a second redis-server spawned by the harness (self-check of the harness)
//   DIFF_TARGET_PORT=N   an already running server on 127.0.0.1:N (it gets FLUSHALLed!)
// REQUIRE_REDIS=1 makes a missing redis-server binary a failure instead of a skip.
// DIFF_ONLY=substr runs only scripts whose "family / name" contains substr.
// DIFF_DUMP=1 prints every step with the reference server's reply.
//
// Each runDifferentialSuites() call (one per test file) starts its own reference redis-server
// (and, with DIFF_TARGET=redis, its own candidate) in beforeAll and stops it in afterAll, so
// several differential files can run in one `bun test` process; Redbun is the shared in-process
// server either way.
import { describe, test, beforeAll, afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RawClient, replyEnd } from "./client.ts";

// ---------------------------------------------------------------------------------------------
// Script format
// ---------------------------------------------------------------------------------------------

/** A rule turns a raw reply into its comparable form (masking / sorting). */
export type Rule = (raw: string) => string;

export type Step =
  /** Shorthand: a command whose arguments are separated by single spaces (no quoting). */
  | string
  /** A command given as exact arguments (latin1 strings; use for empty/binary/space args). */
  | string[]
  /** A command with a per-step rule that replaces the per-command rule. */
  | { c: string | string[]; rule: Rule }
  /**
   * Literal bytes written to the socket. `read` says what to compare afterwards:
   *   n          the next n replies
   *   "close"    everything the server sends until it closes the connection (must close)
   *   "pending"  whatever arrived after a short pause (usually "" for incomplete input)
   */
  | { raw: string; read: number | "close" | "pending" }
  /** Pause (e.g. to let a short expire elapse); compared as nothing. */
  | { sleep: number };

export interface Script { name: string; steps: Step[] }

/** Scripts grouped by family; each family becomes one `describe`. */
export type Suites = Record<string, Script[]>;

// ---------------------------------------------------------------------------------------------
// Masking and sorting rules (explicit, per command)
// ---------------------------------------------------------------------------------------------

/** Splits the raw bytes of an aggregate reply into [header, element raws]; null if not an aggregate. */
export function splitAggregate(raw: string): [string, string[]] | null {
  if (!"*~%".includes(raw[0])) return null;
  const buf = Buffer.from(raw, "latin1");
  const nl = buf.indexOf("\r\n");
  const n = Number(buf.latin1Slice(1, nl));
  if (n < 0) return null;
  const count = raw[0] === "%" ? 2 * n : n;
  const elems: string[] = [];
  let p = nl + 2;
  for (let i = 0; i < count; i++) {
    const e = replyEnd(buf, p);
    elems.push(buf.latin1Slice(p, e));
    p = e;
  }
  return [buf.latin1Slice(0, nl + 2), elems];
}

export const rules = {
  /** Compare as-is. */
  exact: ((raw) => raw) as Rule,
  /** An array whose element order is unspecified (KEYS): sort the elements. */
  sorted: ((raw) => {
    const s = splitAggregate(raw);
    return s ? s[0] + [...s[1]].sort().join("") : raw;
  }) as Rule,
  /** SCAN-like [cursor, [elements]]: sort the inner array. */
  sortedSecond: ((raw) => {
    const s = splitAggregate(raw);
    if (!s || s[1].length !== 2) return raw;
    return s[0] + s[1][0] + rules.sorted(s[1][1]);
  }) as Rule,
  /** Every integer / number in the reply is masked (e.g. EXPIRETIME after a relative EXPIRE). */
  anyInt: ((raw) => raw.replace(/^([:(])-?\d+\r\n/gm, "$1<int>\r\n")) as Rule,
  /** TIME: two bulk-string numbers. */
  time: ((raw) => raw.replace(/\$\d+\r\n\d+\r\n/g, "$$<n>\r\n<digits>\r\n")) as Rule,
  /** HELLO / CLIENT INFO style: only the client id differs. */
  helloId: ((raw) => raw.replace(/(\$2\r\nid\r\n):\d+\r\n/, "$1:<id>\r\n")) as Rule,
  /** PTTL ticks by the millisecond: compare positive values rounded to the second. */
  pttlSeconds: ((raw) => raw.replace(/^:(\d+)\r\n$/, (_m, n) => `:~${Math.round(Number(n) / 1000)}s\r\n`)) as Rule,
  /**
   * Field/value pairs in unspecified order (HGETALL of a hashtable-encoded hash): sorts the pairs of
   * a RESP2 flat array or a RESP3 map; an array of [field, value] arrays (RESP3 HRANDFIELD
   * WITHVALUES) has its elements sorted.
   */
  sortedPairs: ((raw) => {
    const s = splitAggregate(raw);
    if (!s) return raw;
    const [head, elems] = s;
    if (elems.every((e) => "*~%".includes(e[0]))) return head + [...elems].sort().join("");
    const pairs: string[] = [];
    for (let i = 0; i < elems.length; i += 2) pairs.push(elems[i] + (elems[i + 1] ?? ""));
    return head + pairs.sort().join("");
  }) as Rule,
  /** [cursor, [field, value, ...]] (HSCAN of a hashtable-encoded hash): sorts the pairs of the inner array. */
  sortedPairsSecond: ((raw) => {
    const s = splitAggregate(raw);
    if (!s || s[1].length !== 2) return raw;
    return s[0] + s[1][0] + rules.sortedPairs(s[1][1]);
  }) as Rule,
  /**
   * Random picks (SRANDMEMBER with a negative count, SPOP with a count below the size, ...): keeps
   * the reply's shape (aggregate headers, scalar types) and replaces every scalar that is one of
   * `allowed` with `<in>`, so a pick from outside the data set still shows up as a difference.
   */
  shapeIn(allowed: string[]): Rule {
    const ok = new Set(allowed);
    const mask = (raw: string): string => {
      const s = splitAggregate(raw);
      if (s) return s[0] + s[1].map(mask).join("");
      const m = /^([$=])(\d+)\r\n([\s\S]*)\r\n$/.exec(raw);
      if (m && ok.has(m[3])) return `${m[1]}<in>\r\n`;
      const t = /^([+:,(])(.*)\r\n$/.exec(raw);
      if (t && ok.has(t[2])) return `${t[1]}<in>\r\n`;
      return raw;
    };
    return mask;
  },
};

/** Default rule per command (upper-case name, or "NAME SUBCOMMAND"); anything else is exact. */
const COMMAND_RULES: Record<string, Rule> = {
  KEYS: rules.sorted,
  SCAN: rules.sortedSecond,
  TIME: rules.time,
  HELLO: rules.helloId,
  "CLIENT ID": rules.anyInt,
  PTTL: rules.pttlSeconds,
};

function ruleFor(args: string[], extra: Record<string, Rule>): Rule {
  const name = (args[0] ?? "").toUpperCase();
  const sub = `${name} ${(args[1] ?? "").toUpperCase()}`;
  return extra[sub] ?? extra[name] ?? COMMAND_RULES[sub] ?? COMMAND_RULES[name] ?? rules.exact;
}

// ---------------------------------------------------------------------------------------------
// Helpers for building scripts
// ---------------------------------------------------------------------------------------------

export const ALL_BYTES = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join("");
export const CRLF_VALUE = "line1\r\nline2\r\n$3\r\n*1\r\n\r\n";
export const FAR_SEC = "4102444800"; // 2100-01-01T00:00:00Z
export const FAR_MS = "4102444800000";
export const PAST_SEC = "1000000000"; // 2001
export const I64_MAX = "9223372036854775807";
export const I64_MIN = "-9223372036854775808";

export const cmd = (...a: string[]) => a;
/** The same command with each argument in the list appended, as separate steps. */
export const each = (prefix: string[], values: string[]): string[][] => values.map((v) => [...prefix, v]);

// ---------------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------------

interface Target { port: number; close(): Promise<void> }

const REDIS_BIN = Bun.which("redis-server");

async function freePort(): Promise<number> {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

async function waitForPing(port: number, timeoutMs: number, alive: () => boolean): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    if (!alive()) throw new Error(`server on port ${port} exited during startup`);
    try {
      const c = await RawClient.connect(port);
      try { if ((await c.raw("PING")) === "+PONG\r\n") return; } finally { c.close(); }
    } catch (e) { last = e; }
    await Bun.sleep(20);
  }
  throw new Error(`server on port ${port} did not answer PING: ${last}`);
}

async function startRealRedis(): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), "redbun-diff-"));
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const proc = Bun.spawn(
      [REDIS_BIN!, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--databases", "16",
        "--dir", dir, "--daemonize", "no", "--protected-mode", "no", "--loglevel", "warning", "--enable-debug-command", "yes"],
      { stdout: "ignore", stderr: "pipe" },
    );
    let exited = false;
    proc.exited.then(() => { exited = true; });
    const killOnExit = () => { if (!exited) proc.kill("SIGKILL"); };
    process.on("exit", killOnExit); // never leave a redis-server behind, even if afterAll does not run
    try {
      await waitForPing(port, 5000, () => !exited);
    } catch (e) {
      proc.kill();
      if (attempt < 3) continue; // port raced away; try another
      throw e;
    }
    return {
      port,
      async close() { proc.kill("SIGKILL"); await proc.exited; rmSync(dir, { recursive: true, force: true }); },
    };
  }
}

async function startTarget(ownProcess: boolean): Promise<{ target: Target; label: string }> {
  if (process.env.DIFF_TARGET_PORT) {
    const port = Number(process.env.DIFF_TARGET_PORT);
    await waitForPing(port, 2000, () => true);
    return { target: { port, async close() {} }, label: `port ${port}` };
  }
  if (process.env.DIFF_TARGET === "redis") return { target: await startRealRedis(), label: "redis-server (self-check)" };
  if (ownProcess) {
    const { spawnServer } = await import("./helpers.ts");
    const srv = await spawnServer(["--save", "", "--appendonly", "no", "--enable-debug-command", "local"]);
    return { target: { port: srv.port, async close() { await srv.stop(); } }, label: "redbun (own process)" };
  }
  // Default: Redbun, in-process, shared with the other test files.
  const { sharedServer } = await import("./helpers.ts");
  const srv = await sharedServer();
  const target: Target = { port: srv.port, async close() {} };
  return { target, label: "redbun" };
}

// ---------------------------------------------------------------------------------------------
// Running a script on one server
// ---------------------------------------------------------------------------------------------

const READ_TIMEOUT_MS = 2000;
const PENDING_PAUSE_MS = 60;

interface Outcome { label: string; rule: Rule; out: string }

function stepArgs(s: string | string[]): string[] { return typeof s === "string" ? s.split(" ") : s; }

function describeStep(step: Step, commandRules: Record<string, Rule>): { label: string; rule: Rule } {
  if (typeof step === "string" || Array.isArray(step)) {
    const args = stepArgs(step);
    return { label: JSON.stringify(args), rule: ruleFor(args, commandRules) };
  }
  if ("c" in step) return { label: JSON.stringify(stepArgs(step.c)), rule: step.rule };
  if ("raw" in step) {
    const shown = step.raw.length > 120 ? `${step.raw.slice(0, 120)}... (${step.raw.length} bytes)` : step.raw;
    return { label: `raw ${JSON.stringify(shown)} read=${step.read}`, rule: rules.exact };
  }
  return { label: `sleep ${step.sleep}ms`, rule: rules.exact };
}

/** Runs the script on a fresh connection; returns one output string per step (errors become <<...>> markers). */
async function runScript(port: number, steps: Step[]): Promise<string[]> {
  const out: string[] = [];
  const c = await RawClient.connect(port);
  let dead: string | null = null;
  const read = async (): Promise<string> => {
    if (dead) return `<<not read: ${dead}>>`;
    try { return await c.readRaw(READ_TIMEOUT_MS); } catch (e) {
      dead = c.closed ? "connection closed" : "timeout";
      return `<<${(e as Error).message}>>`;
    }
  };
  try {
    c.send("FLUSHALL");
    const flush = await read();
    if (flush !== "+OK\r\n") throw new Error(`FLUSHALL failed on port ${port}: ${JSON.stringify(flush)}`);
    let i = 0;
    while (i < steps.length) {
      const step = steps[i];
      if (typeof step === "string" || Array.isArray(step) || "c" in step) {
        // Pipeline the run of consecutive commands.
        let j = i;
        const batch: string[][] = [];
        for (; j < steps.length; j++) {
          const s = steps[j];
          if (typeof s === "string" || Array.isArray(s)) batch.push(stepArgs(s));
          else if ("c" in s) batch.push(stepArgs(s.c));
          else break;
        }
        if (!dead) for (const args of batch) c.send(...args);
        for (const _ of batch) out.push(await read());
        i = j;
        continue;
      }
      if ("sleep" in step) { await Bun.sleep(step.sleep); out.push(""); i++; continue; }
      if (dead) { out.push(`<<not sent: ${dead}>>`); i++; continue; }
      c.write(step.raw);
      if (typeof step.read === "number") {
        const parts: string[] = [];
        for (let k = 0; k < step.read; k++) parts.push(await read());
        out.push(parts.join(""));
      } else if (step.read === "pending") {
        await Bun.sleep(PENDING_PAUSE_MS);
        const p = c.pending();
        // consume what arrived so the next step starts clean
        if (p.length) { try { while (c.pending().length) await c.readRaw(10); } catch { /* partial reply: leave it */ } }
        out.push(p + (c.closed ? "<<closed>>" : ""));
      } else {
        let rest: string;
        try { rest = await c.waitClosed(READ_TIMEOUT_MS) + "<<closed>>"; } catch { rest = c.pending() + "<<still open>>"; }
        dead = "connection closed";
        out.push(rest);
      }
      i++;
    }
  } finally {
    if (!c.closed) c.close();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------------

const only = process.env.DIFF_ONLY;
const selected = (family: string, name: string) => !only || `${family} / ${name}`.includes(only);

export interface SuiteOptions {
  /** Default rules per command (upper-case "NAME" or "NAME SUBCOMMAND") on top of the built-in ones. */
  commandRules?: Record<string, Rule>;
  /** Redbun as a process of its own (`bun run main.ts`) rather than the shared in-process server:
   *  for what depends on the thread a server runs on, such as how deep Lua may nest before the
   *  stack gives out (a startServer server runs in a Worker, whose stack is smaller). */
  ownProcess?: boolean;
}

/**
 * Registers one `describe` per family and one test per script, plus the beforeAll/afterAll that
 * start and stop this file's servers. Call it once, at the top level of a test file.
 */
export function runDifferentialSuites(suites: Suites, options: SuiteOptions = {}): void {
  const commandRules = options.commandRules ?? {};
  if (!REDIS_BIN) {
    const msg = "differential tests: `redis-server` not found on PATH; ";
    if (process.env.REQUIRE_REDIS === "1") {
      test("redis-server is required (REQUIRE_REDIS=1)", () => { throw new Error(msg + "REQUIRE_REDIS=1 so this is a failure"); });
    } else {
      console.warn(msg + "skipping the differential suite (set REQUIRE_REDIS=1 to make this fail)");
      describe.skip("differential (redis-server missing)", () => { test("skipped", () => {}); });
    }
  } else {
    let reference: Target;
    let candidate: Target;
    let candidateLabel = "candidate";

    beforeAll(async () => {
      reference = await startRealRedis(); // assigned before the candidate starts so afterAll always stops it
      const cand = await startTarget(options.ownProcess === true);
      candidate = cand.target;
      candidateLabel = cand.label;
    }, 20000);

    afterAll(async () => {
      await Promise.all([reference?.close(), candidate?.close()]);
    });

    for (const [family, scripts] of Object.entries(suites)) {
      describe(family, () => {
        for (const script of scripts) {
          if (!selected(family, script.name)) continue;
          test(script.name, async () => {
            const [want, got] = await Promise.all([runScript(reference.port, script.steps), runScript(candidate.port, script.steps)]);
            const problems: string[] = [];
            if (process.env.DIFF_DUMP) {
              console.log(`== ${family} / ${script.name}`);
              script.steps.forEach((step, i) => console.log(`  ${describeStep(step, commandRules).label} -> ${JSON.stringify(want[i])}`));
            }
            // A reference reply that never came (e.g. a blocking command that blocks forever) would
            // compare equal to a candidate timing out the same way: that is a broken script.
            const stuck = want.findIndex((w) => w.startsWith("<<timeout"));
            if (stuck >= 0) {
              throw new Error(`${family} / ${script.name}: script error: the reference redis-server did not answer step #${stuck} ` +
                `${describeStep(script.steps[stuck], commandRules).label} within ${READ_TIMEOUT_MS}ms`);
            }
            script.steps.forEach((step, i) => {
              const { label, rule } = describeStep(step, commandRules);
              const w = rule(want[i]);
              const g = rule(got[i]);
              if (w !== g) {
                problems.push(
                  `#${i} ${label}\n    redis:  ${JSON.stringify(want[i])}\n    ${candidateLabel}: ${JSON.stringify(got[i])}` +
                    (w !== want[i] || g !== got[i] ? `\n    (masked: ${JSON.stringify(w)} vs ${JSON.stringify(g)})` : ""),
                );
              }
            });
            if (problems.length) {
              throw new Error(`${family} / ${script.name}: ${problems.length} mismatching step(s)\n` + problems.join("\n"));
            }
          });
        }
      });
    }
  }
}
