// Shared by tests/rdb.test.ts and tests/aof.test.ts: servers that run in their own temp
// directories (Redbun as `bun run main.ts`, and a real redis-server as the reference), a walker that
// reads a whole dataset back (every db, every key: type, value, TTL, encoding) so two servers or
// two moments can be compared, and the few byte-level tools the persistence tests need (CRC64 for
// hand-made DUMP payloads, RDB/AOF files on disk).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RawClient, decode, encode, replyEnd, ReplyError, type Reply } from "./client.ts";
import { freePort, spawnServer, type SpawnedServer } from "./helpers.ts";

export const MAIN = join(import.meta.dir, "..", "main.ts");
export const REDIS_SERVER = Bun.which("redis-server");
export const REDIS_CHECK_RDB = Bun.which("redis-check-rdb");
export const REDIS_CHECK_AOF = Bun.which("redis-check-aof");
/** Tests that need the real redis-server are skipped without it, unless REQUIRE_REDIS=1. */
export const noRedis = !REDIS_SERVER && process.env.REQUIRE_REDIS !== "1";

/** A fresh empty directory under the system temp dir: every file a test server writes goes there. */
export function tempDir(tag: string): string { return mkdtempSync(join(tmpdir(), `redbun-${tag}-`)); }

/** A tmpfs of `bytes` mounted on a fresh directory, for the tests of a full disk: what a server
 *  writes there fails with ENOSPC once it is full, exactly as on a real disk. resize() grows it
 *  (space freed) or shrinks it. Mounting needs root, which CI and the development machines have. */
export interface SmallDisk { dir: string; resize(bytes: number): void; unmount(): void }
export function smallDisk(tag: string, bytes: number): SmallDisk {
  const dir = tempDir(tag);
  const sh = (...argv: string[]) => {
    const r = Bun.spawnSync(argv);
    if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr.toString()} (the full-disk tests mount a small tmpfs: they need root)`);
  };
  sh("mount", "-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", dir);
  let mounted = true;
  return {
    dir,
    resize: (n) => sh("mount", "-o", `remount,size=${n}`, dir),
    unmount: () => {
      if (mounted) sh("umount", "-l", dir);
      mounted = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Config parameters as command-line flags (`{ save: "" }` → `--save ""`). */
function flags(params: Record<string, string | number>): string[] {
  return Object.entries(params).flatMap(([k, v]) => [`--${k}`, String(v)]);
}

/** A server under test, Redbun or redis-server, with a connection the test can use. */
export interface Server {
  port: number;
  dir: string;
  c: RawClient;
  /** SIGTERM (a final save happens if save points are configured), then the exit code. */
  stop(): Promise<number>;
  /** SIGKILL: no final save, no flush. */
  kill(): Promise<number>;
  /** What it logged so far. */
  log(): string;
}

/** Starts Redbun in `dir` (also its cwd) with persistence off unless `params` turn it on. */
export async function startRedbun(dir: string, params: Record<string, string | number> = {}): Promise<Server> {
  const srv: SpawnedServer = await spawnServer(flags({ save: "", appendonly: "no", dir, ...params }), { cwd: dir });
  // Never left behind, even if the test process ends before the test could stop it.
  const killOnExit = () => { if (srv.proc.exitCode === null) srv.proc.kill("SIGKILL"); };
  process.on("exit", killOnExit);
  const c = await RawClient.connect(srv.port);
  return {
    port: srv.port, dir, c,
    stop: async () => { c.close(); const code = await srv.stop(); process.off("exit", killOnExit); return code; },
    kill: async () => { c.close(); srv.proc.kill("SIGKILL"); const code = await srv.proc.exited; process.off("exit", killOnExit); return code; },
    log: () => srv.stdout(),
  };
}

/** Starts a real redis-server in `dir`, logging to dir/redis.log, with persistence off unless
 *  `params` turn it on. Killed when the test process exits, whatever happens. */
export async function startRedis(dir: string, params: Record<string, string | number> = {}): Promise<Server> {
  const logFile = join(dir, "redis.log");
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const proc = Bun.spawn(
      [REDIS_SERVER!, ...flags({ port, bind: "127.0.0.1", save: "", appendonly: "no", dir, daemonize: "no", logfile: logFile, "enable-debug-command": "yes", ...params })],
      { cwd: dir, stdout: "ignore", stderr: "ignore" },
    );
    let exited = false;
    void proc.exited.then(() => { exited = true; });
    const killOnExit = () => { if (!exited) proc.kill("SIGKILL"); };
    process.on("exit", killOnExit);
    let c: RawClient | null = null;
    for (const until = Date.now() + 10000; !c && !exited && Date.now() < until;) {
      try {
        const t = await RawClient.connect(port);
        // Redis answers -LOADING while it loads a big file: wait for a real PONG.
        if ((await t.raw("PING")) === "+PONG\r\n") c = t;
        else { t.close(); await Bun.sleep(20); }
      } catch { await Bun.sleep(20); }
    }
    if (!c) {
      proc.kill("SIGKILL");
      await proc.exited;
      if (!exited && attempt < 3) continue; // the port raced away: try another
      throw new Error(`redis-server did not start: ${existsSync(logFile) ? readFileSync(logFile, "latin1") : ""}`);
    }
    const client = c;
    return {
      port, dir, c: client,
      stop: async () => { client.close(); proc.kill("SIGTERM"); const code = await proc.exited; process.off("exit", killOnExit); return code; },
      kill: async () => { client.close(); proc.kill("SIGKILL"); const code = await proc.exited; process.off("exit", killOnExit); return code; },
      log: () => (existsSync(logFile) ? readFileSync(logFile, "latin1") : ""),
    };
  }
}

/** Runs a program to its end (killed after 20 s) and returns its exit code and output. */
export async function run(argv: string[], cwd?: string): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn(argv, { cwd, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 20000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, out: stdout + stderr };
}

/** Starts Redbun expecting it to refuse: returns its exit code and output, and whether anything
 *  ever answered on its port meanwhile. */
export async function startRedbunExpectingFailure(dir: string, params: Record<string, string | number> = {}): Promise<{ code: number; out: string; served: boolean }> {
  const port = await freePort();
  const proc = Bun.spawn(["bun", "run", MAIN, ...flags({ save: "", appendonly: "no", dir, ...params, port })], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 20000);
  let served = false, exited = false;
  const outP = Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  void proc.exited.then(() => { exited = true; });
  // Served means a PING answered: like Redis, Redbun listens before it loads, so a connection
  // may be accepted and then dropped when the load fails.
  while (!exited) {
    try {
      const t = await RawClient.connect(port);
      try {
        if ((await t.raw("PING")) === "+PONG\r\n") {
          served = true;
          proc.kill("SIGKILL"); // it started after all: that is the answer
          break;
        }
      } catch { /* dropped unanswered: not served */ }
      finally { t.close(); }
    } catch { /* not listening: good */ }
    await Bun.sleep(10);
  }
  const code = await proc.exited;
  clearTimeout(timer);
  const [o, e] = await outP;
  return { code, out: o + e, served };
}

/** A PING loop in a process of its own (so the test process's own work does not delay it): PINGs
 *  the server one at a time until stop() (or until the server goes away), and returns each round
 *  trip's milliseconds. */
export async function startPinger(port: number, dir: string): Promise<{ stop(): Promise<number[]> }> {
  const script = join(dir, "pinger.ts"), stopFile = join(dir, "pinger.stop"), readyFile = join(dir, "pinger.ready");
  await Bun.write(script, `
    const [port, stopFile, readyFile] = process.argv.slice(2);
    const fs = require("node:fs");
    let wake = () => {}, got = "";
    const times = [];
    const done = () => { console.log(JSON.stringify(times)); process.exit(0); };
    const sock = await Bun.connect({ hostname: "127.0.0.1", port: Number(port), socket: { data(_s, d) { got += d.toString(); wake(); }, close: done, error: done } });
    fs.writeFileSync(readyFile, "");
    while (!fs.existsSync(stopFile)) {
      const t = performance.now();
      sock.write("PING\\r\\n");
      while (!got.includes("\\r\\n")) await new Promise((r) => (wake = r));
      got = "";
      times.push(performance.now() - t);
      await Bun.sleep(1);
    }
    done();
  `);
  const proc = Bun.spawn(["bun", "run", script, String(port), stopFile, readyFile], { stdout: "pipe", stderr: "inherit" });
  const killOnExit = () => { if (proc.exitCode === null) proc.kill("SIGKILL"); };
  process.on("exit", killOnExit);
  const out = new Response(proc.stdout).text();
  await waitFor("the pinger to connect", () => existsSync(readyFile), 10000);
  return {
    async stop() {
      await Bun.write(stopFile, "");
      const times = JSON.parse((await out) || "[]") as number[];
      await proc.exited;
      process.off("exit", killOnExit);
      return times;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Talking to a server
// ---------------------------------------------------------------------------------------------

/** Sends the commands in one write and decodes each reply, in order. */
export async function pipe(c: RawClient, commands: (string | number)[][], timeoutMs = 20000): Promise<Reply[]> {
  c.write(Buffer.concat(commands.map(encode)));
  const out: Reply[] = [];
  for (let i = 0; i < commands.length; i++) out.push(await c.read(timeoutMs));
  return out;
}

/** Sends a big batch in chunks of `per` commands (each chunk pipelined), checking nothing failed. */
export async function load(c: RawClient, commands: (string | number)[][], per = 5000): Promise<void> {
  for (let i = 0; i < commands.length; i += per) {
    const replies = await pipe(c, commands.slice(i, i + per));
    const bad = replies.findIndex((r) => r instanceof ReplyError);
    if (bad >= 0) throw new Error(`${JSON.stringify(commands[i + bad])} failed: ${replies[bad]}`);
  }
}

/** INFO's fields (of one section) as a map. */
export async function info(c: RawClient, section = "persistence"): Promise<Record<string, string>> {
  const text = String(await c.cmd("INFO", section));
  const out: Record<string, string> = {};
  for (const line of text.split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0 && !line.startsWith("#")) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** Polls until `cond` holds (or throws after `timeoutMs`). */
export async function waitFor(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 10000, stepMs = 10): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(stepMs);
  }
}

/** Waits until neither a BGSAVE nor an AOF rewrite is running. */
export async function waitForBackgroundWork(c: RawClient, timeoutMs = 15000): Promise<void> {
  await waitFor("background save/rewrite to finish", async () => {
    const i = await info(c);
    return i.rdb_bgsave_in_progress === "0" && i.aof_rewrite_in_progress === "0" && i.aof_rewrite_scheduled === "0";
  }, timeoutMs, 20);
}

// ---------------------------------------------------------------------------------------------
// Reading a whole dataset back
// ---------------------------------------------------------------------------------------------

/** One key as a client sees it. `value` is canonical: hashes and sets sorted, lists and sorted sets
 *  in order (sorted set scores as the server formats them), streams as XINFO STREAM FULL shows
 *  them (entries, groups, consumers, pending entries). `pttl` is -1 without a TTL. */
export interface KeyState { type: string; value: string; pttl: number; encoding: string }
/** Every key of every database, as "db/key" → state. */
export type Dataset = Map<string, KeyState>;

const READ: Record<string, (k: string) => (string | number)[]> = {
  string: (k) => ["GET", k],
  list: (k) => ["LRANGE", k, 0, -1],
  hash: (k) => ["HGETALL", k],
  set: (k) => ["SMEMBERS", k],
  zset: (k) => ["ZRANGE", k, 0, -1, "WITHSCORES"],
  stream: (k) => ["XINFO", "STREAM", k, "FULL"],
};

/** XINFO STREAM FULL without what depends on memory layout (radix-tree-*), and with unix times
 *  in ms (delivery and seen times) shown as <ms>, since two servers never build them at the same
 *  millisecond. */
function canonicalStream(r: Reply): Reply {
  if (Array.isArray(r)) {
    const out: Reply[] = [];
    for (let i = 0; i < r.length; i++) {
      if (r[i] === "radix-tree-keys" || r[i] === "radix-tree-nodes") { i++; continue; }
      out.push(canonicalStream(r[i]));
    }
    return out;
  }
  return typeof r === "number" && r > 1e12 ? "<ms>" : r;
}

function canonical(type: string, r: Reply): string {
  if (type === "string") return String(r);
  if (type === "stream") return JSON.stringify(canonicalStream(r));
  const a = r as string[];
  if (type === "set") return JSON.stringify([...a].sort());
  if (type === "hash") {
    const pairs: string[][] = [];
    for (let i = 0; i < a.length; i += 2) pairs.push([a[i], a[i + 1]]);
    return JSON.stringify(pairs.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)));
  }
  return JSON.stringify(a);
}

/** Reads every key of databases 0..dbs-1 (KEYS *, then TYPE, the read command for the type, PTTL
 *  and OBJECT ENCODING, pipelined). Leaves the connection on db 0. */
export async function readDataset(c: RawClient, dbs = 16): Promise<Dataset> {
  const out: Dataset = new Map();
  for (let db = 0; db < dbs; db++) {
    const [, keys] = (await pipe(c, [["SELECT", db], ["KEYS", "*"]])) as [string, string[]];
    for (let i = 0; i < keys.length; i += 2000) {
      const batch = keys.slice(i, i + 2000);
      const types = (await pipe(c, batch.map((k) => ["TYPE", k]))) as string[];
      const replies = await pipe(c, batch.flatMap((k, j) => [READ[types[j]](k), ["PTTL", k], ["OBJECT", "ENCODING", k]]));
      batch.forEach((k, j) => {
        const [v, pttl, enc] = replies.slice(3 * j, 3 * j + 3);
        out.set(`${db}/${k}`, { type: types[j], value: canonical(types[j], v), pttl: Number(pttl), encoding: String(enc) });
      });
    }
  }
  await c.cmd("SELECT", 0);
  return out;
}

/** The differences between two datasets, as readable lines (empty when they match). TTLs match
 *  within `ttlToleranceMs`; encodings are compared unless `encodings` is false. */
export function diffDatasets(expected: Dataset, actual: Dataset, opts: { ttlToleranceMs?: number; encodings?: boolean } = {}): string[] {
  const tol = opts.ttlToleranceMs ?? 3000;
  const out: string[] = [];
  const show = (s: string) => JSON.stringify(s.length > 120 ? `${s.slice(0, 120)}...(${s.length} chars)` : s);
  for (const [k, e] of expected) {
    const a = actual.get(k);
    if (!a) { out.push(`${show(k)}: missing`); continue; }
    if (a.type !== e.type) out.push(`${show(k)}: type ${a.type}, expected ${e.type}`);
    else if (a.value !== e.value) out.push(`${show(k)}: value ${show(a.value)}, expected ${show(e.value)}`);
    if ((a.pttl === -1) !== (e.pttl === -1) || Math.abs(a.pttl - e.pttl) > tol) out.push(`${show(k)}: pttl ${a.pttl}, expected ${e.pttl}`);
    if (opts.encodings !== false && a.encoding !== e.encoding) out.push(`${show(k)}: encoding ${a.encoding}, expected ${e.encoding}`);
  }
  for (const k of actual.keys()) if (!expected.has(k)) out.push(`${show(k)}: unexpected key`);
  return out.slice(0, 40);
}

// ---------------------------------------------------------------------------------------------
// Datasets to persist
// ---------------------------------------------------------------------------------------------

/** Every byte value once, in order. */
export const ALL_BYTES = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join("");

/** A string LZF cannot shrink (seeded pseudo-random bytes). */
export function incompressible(n: number, seed = 1): string {
  let s = "", x = seed;
  for (let i = 0; i < n; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; s += String.fromCharCode((x >>> 16) & 0xff); }
  return s;
}

/** Commands that build one key of every type and encoding Redis 7.0 has (61 keys, 6 with a TTL),
 *  in databases 0, 1, 7 and 15. Applied to Redbun and to redis-server alike, they give datasets
 *  that must read back the same. */
export function everyTypeCommands(): (string | number)[][] {
  const cmds: (string | number)[][] = [];
  const range = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
  cmds.push(["SELECT", 0]);
  // Strings: integers (int), short (embstr), long (raw), LZF-compressible and not, binary.
  const strings: [string, string][] = [
    ["str:int", "12345"], ["str:int0", "0"], ["str:neg", "-42"], ["str:int8max", "127"], ["str:int16", "-32768"],
    ["str:int32", "2147483647"], ["str:int32min", "-2147483648"], ["str:int64", "9223372036854775807"], ["str:int64min", "-9223372036854775808"],
    ["str:bigger", "92233720368547758070"], ["str:leadingzero", "007"], ["str:plus", "+5"], ["str:float", "3.14"], ["str:negzero", "-0"],
    ["str:empty", ""], ["str:short", "hello"], ["str:44", "x".repeat(44)], ["str:45", "y".repeat(45)],
    ["str:21compressible", "a".repeat(21)], ["str:20compressible", "b".repeat(20)],
    ["str:compressible", "abcdefgh".repeat(500)], ["str:runs", "z".repeat(100000)],
    ["str:longref", incompressible(9000, 3) + incompressible(9000, 3)],
    ["str:incompressible", incompressible(300)], ["str:binary", ALL_BYTES], ["str:binary4", ALL_BYTES.repeat(4)],
    ["str:crlf", "a\r\nb\r\n\0c"], ["bin\0key\r\n\xff", "binary key"],
  ];
  for (const [k, v] of strings) cmds.push(["SET", k, v]);
  // Strings that APPEND and SETRANGE made long, which Redbun keeps as bytes changed in place.
  cmds.push(["SET", "str:appended", "a".repeat(4000)], ["APPEND", "str:appended", incompressible(300, 5)]);
  cmds.push(["SETRANGE", "str:setrange", 1_100_000, "end"], ["SETRANGE", "str:setrange", 10, incompressible(100, 7)]);
  cmds.push(["SET", "str:ttl", "v", "PX", 500000], ["SET", "str:ttlsoon", "v", "EX", 3600]);
  // Lists: small, with integers, large enough for several quicklist nodes, with a big element.
  cmds.push(["RPUSH", "list:small", "a", "b", "", "1", "-7", "a"]);
  cmds.push(["RPUSH", "list:ints", ...range(100, (i) => String(i * 1000 - 50000))]);
  cmds.push(["RPUSH", "list:big", ...range(3000, (i) => `element-${i}`)]);
  cmds.push(["RPUSH", "list:bigelem", "small", "q".repeat(10000), ALL_BYTES]);
  cmds.push(["RPUSH", "list:ttl", "x", "y"], ["PEXPIRE", "list:ttl", 400000]);
  // Hashes: listpack (small) and hashtable (many fields, or one long value).
  cmds.push(["HSET", "hash:small", "f1", "v1", "f2", "2", "", "empty field", "ef", ""]);
  cmds.push(["HSET", "hash:big", ...range(300, (i) => [`field${i}`, `value${i}`]).flat()]);
  cmds.push(["HSET", "hash:longvalue", "f", "v".repeat(100), "g", "1"]);
  cmds.push(["HSET", "hash:binary", ALL_BYTES, ALL_BYTES, "k", "\0"]);
  cmds.push(["HSET", "hash:ttl", "a", "1"], ["EXPIRE", "hash:ttl", 300]);
  // Sets: intset (small, and with 64-bit members), hashtable (strings, or too many integers).
  cmds.push(["SADD", "set:intset", "1", "2", "3", "-5", "100000"]);
  cmds.push(["SADD", "set:intset64", "9223372036854775807", "-9223372036854775808", "0"]);
  cmds.push(["SADD", "set:strings", "a", "b", "c", "", ALL_BYTES]);
  cmds.push(["SADD", "set:bigints", ...range(600, (i) => String(i * 7))]);
  cmds.push(["SADD", "set:big", ...range(1000, (i) => `m${i}`)]);
  // Sorted sets: listpack and skiplist, with inf, -inf, -0, fractional and huge scores.
  cmds.push(["ZADD", "zset:small", "1", "one", "2.5", "two.5", "-3", "neg", "inf", "pinf", "-inf", "ninf", "-0", "negzero", "0", "zero"]);
  cmds.push(["ZADD", "zset:precise", "0.1", "a", "1e308", "b", "-1.7976931348623157e308", "c", "5e-324", "d", "123456789.123456789", "e"]);
  cmds.push(["ZADD", "zset:big", ...range(200, (i) => [String(i / 3), `member${i}`]).flat()]);
  cmds.push(["ZADD", "zset:bigskip", "inf", "top", "-inf", "bottom", "-0", "nz", ...range(150, (i) => [String(i - 75), `m${i}`]).flat()]);
  cmds.push(["ZADD", "zset:longmember", "1", "m".repeat(100)]);
  cmds.push(["ZADD", "zset:ttl", "1", "a"], ["PEXPIREAT", "zset:ttl", Date.now() + 250000]);
  // Streams: one with consumer groups, consumers and pending entries; one of several listpack nodes
  // with a deleted entry; one whose entries were all deleted.
  cmds.push(["XADD", "stream:small", "1-1", "a", "1", "b", "2"], ["XADD", "stream:small", "1-2", "a", "3"], ["XADD", "stream:small", "5-0", "c", "x".repeat(100)]);
  cmds.push(["XGROUP", "CREATE", "stream:small", "g1", "0"], ["XGROUP", "CREATE", "stream:small", "g2", "5-0", "ENTRIESREAD", "3"]);
  cmds.push(["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "2", "STREAMS", "stream:small", ">"], ["XGROUP", "CREATECONSUMER", "stream:small", "g1", "bob"]);
  cmds.push(["XACK", "stream:small", "g1", "1-1"], ["XSETID", "stream:small", "9-9"]);
  cmds.push(["XADD", "stream:big", "MAXLEN", "1000", "1-0", "f", "0"], ...range(249, (i) => ["XADD", "stream:big", `${i + 2}-0`, "f", String(i + 1), "g", ALL_BYTES.slice(i, i + 3)]), ["XDEL", "stream:big", "12-0"]);
  cmds.push(["XADD", "stream:empty", "1-0", "x", "y"], ["XDEL", "stream:empty", "1-0"]);
  // Other databases.
  cmds.push(["SELECT", 1], ["SET", "db1:key", "in db 1"], ["RPUSH", "db1:list", "1", "2"], ["SET", "str:int", "same name, db 1"]);
  cmds.push(["SELECT", 7], ["HSET", "db7:hash", "a", "b"], ["SET", "db7:ttl", "x", "EX", 1000]);
  cmds.push(["SELECT", 15], ["ZADD", "db15:zset", "1", "x"], ["SADD", "db15:set", "7"]);
  cmds.push(["SELECT", 0]);
  return cmds;
}

/** Applies commands one after another (pipelined), failing on any error reply. */
export async function apply(c: RawClient, cmds: (string | number)[][]): Promise<void> {
  const replies = await pipe(c, cmds);
  replies.forEach((r, i) => { if (r instanceof ReplyError) throw new Error(`${JSON.stringify(cmds[i]).slice(0, 200)}: ${r.message}`); });
}

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

/** The files in a directory, sorted (none if it does not exist). */
export function listDir(dir: string): string[] { return existsSync(dir) ? readdirSync(dir).sort() : []; }

/** Splits an AOF file's bytes into commands (each an argv of latin1 strings). */
export function parseAof(buf: Buffer): string[][] {
  const out: string[][] = [];
  let p = 0;
  while (p < buf.length) {
    const end = replyEnd(buf, p);
    if (end < 0) throw new Error(`truncated AOF at ${p}`);
    out.push(decode(buf, p)[0] as string[]);
    p = end;
  }
  return out;
}

// --- CRC64 (Jones, reflected), as Redis puts at the end of RDB files and DUMP payloads.
const CRC_TABLE = (() => {
  const t: bigint[] = [];
  const poly = 0x95ac9329ac4bc9b5n;
  for (let i = 0; i < 256; i++) {
    let crc = BigInt(i);
    for (let j = 0; j < 8; j++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
    t.push(crc);
  }
  return t;
})();

/** Redis's crc64(0, buf). */
export function crc64(buf: Uint8Array): bigint {
  let crc = 0n;
  for (const b of buf) crc = CRC_TABLE[Number((crc ^ BigInt(b)) & 0xffn)] ^ (crc >> 8n);
  return crc;
}

/** A DUMP payload around a body (type byte + value): RDB version (2 bytes LE) and CRC64. */
export function dumpPayload(body: Uint8Array, rdbVersion = 10): string {
  const head = Buffer.concat([Buffer.from(body), Buffer.from([rdbVersion & 0xff, rdbVersion >> 8])]);
  const tail = Buffer.alloc(8);
  tail.writeBigUInt64LE(crc64(head));
  return Buffer.concat([head, tail]).latin1Slice();
}
