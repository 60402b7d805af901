// Shared test setup. `sharedServer()` starts one server (startServer: its own thread, any free
// port) for all test files; tests that need their own configuration start their own with
// startServer, and those that need a process of their own (signals, restarts) use `spawnServer()`.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, type RedbunServer } from "../main.ts";
import { RawClient, decode, encode, replyEnd } from "./client.ts";

let shared: Promise<RedbunServer> | null = null;
let sharedStarted: RedbunServer | null = null;

/** The server shared by the test files (DEBUG allowed from localhost), in its own directory (so
 *  SAVE and BGSAVE in tests never touch the working tree). advanceClock() moves its clock, so
 *  expiry tests need not sleep. */
export function sharedServer(): Promise<RedbunServer> {
  shared ??= startServer({ "enable-debug-command": "local" }).then((srv) => (sharedStarted = srv));
  return shared;
}

/** Moves the shared server's clock forward (at once: the clock is shared memory). */
export function advanceClock(ms: number): void { void sharedStarted!.time.advance(ms); }

/** A fresh connection to the shared server, on an empty dataset (FLUSHALL) in RESP2. */
export async function connect(): Promise<RawClient> {
  const srv = await sharedServer();
  const c = await RawClient.connect(srv.port);
  await c.cmd("FLUSHALL");
  return c;
}

export interface SpawnedServer { port: number; proc: ReturnType<typeof Bun.spawn>; stdout(): string; stop(): Promise<number> }

/** Starts `bun run main.ts ...args` in its own process on a free port and waits until it answers. */
export async function spawnServer(args: string[] = [], opts: { cwd?: string; portFlag?: boolean } = {}): Promise<SpawnedServer> {
  const port = await freePort();
  const argv = ["bun", "run", `${import.meta.dir}/../main.ts`, ...args];
  if (opts.portFlag !== false) argv.push("--port", String(port));
  // A fresh working directory, so a final save on SIGTERM lands there and not in the tree.
  const proc = Bun.spawn(argv, { cwd: opts.cwd ?? mkdtempSync(join(tmpdir(), "redbun-spawn-")), stdout: "pipe", stderr: "pipe" });
  let out = "";
  const reader = (async () => { for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) out += Buffer.from(chunk).toString("latin1"); })();
  const deadline = Date.now() + 10000;
  for (;;) {
    try {
      const c = await RawClient.connect(port);
      c.close();
      break;
    } catch {
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start: ${out}`);
      await Bun.sleep(50);
    }
  }
  // Like Redis, the server listens before it loads its data: it has started when it says so
  // (if its log comes here: not with a logfile or at loglevel warning).
  const says = !args.includes("--logfile") && !args.includes("warning");
  while (says && !out.includes("Ready to accept connections") && Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`server did not start: ${out}`);
    await Bun.sleep(10);
  }
  return {
    port, proc,
    stdout: () => out,
    async stop() { proc.kill("SIGTERM"); const code = await proc.exited; await reader; return code; },
  };
}

/** A server process started by a test (Redbun or redis-server, with any arguments), its stdout
 *  and stderr collected as it goes. */
export interface LaunchedServer {
  proc: ReturnType<typeof Bun.spawn>;
  /** stdout and stderr so far (where the log goes when there is no logfile). */
  output(): string;
  /** Polls the output until it contains `text` (throws after `ms`, or if the process exits first
   *  without having written it). */
  waitForOutput(text: string, ms?: number): Promise<void>;
  /** The exit code (128 + n for a death by signal n), once the output is all read too. */
  exited(): Promise<number>;
  /** SIGTERM (SIGKILL if it has not exited 10 s later), then the exit code. Safe to call twice. */
  stop(): Promise<number>;
}

/** Starts `argv` in `cwd` with its output collected; it is SIGKILLed if the test process exits
 *  first, whatever happens. */
export function launchServer(argv: string[], cwd: string): LaunchedServer {
  const proc = Bun.spawn(argv, { cwd, stdout: "pipe", stderr: "pipe" });
  let out = "";
  const drain = async (s: ReadableStream<Uint8Array>) => { for await (const chunk of s) out += Buffer.from(chunk).toString("latin1"); };
  const readers = Promise.all([drain(proc.stdout as ReadableStream<Uint8Array>), drain(proc.stderr as ReadableStream<Uint8Array>)]);
  const killOnExit = () => { if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL"); };
  process.on("exit", killOnExit);
  const exited = async () => { const code = await proc.exited; await readers; process.off("exit", killOnExit); return code; };
  return {
    proc,
    output: () => out,
    async waitForOutput(text, ms = 10000) {
      const deadline = Date.now() + ms;
      while (!out.includes(text)) {
        if (proc.exitCode !== null || proc.signalCode !== null) { await readers; if (out.includes(text)) return; throw new Error(`exited without writing ${JSON.stringify(text)}: ${out}`); }
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${JSON.stringify(text)}: ${out}`);
        await Bun.sleep(10);
      }
    },
    exited,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 10000);
      const code = await exited();
      clearTimeout(t);
      return code;
    },
  };
}

/** Sends one command from a chosen local address (say 127.0.0.2, a loopback address other than
 *  127.0.0.1) and returns the reply's exact bytes. */
export async function commandFrom(localAddress: string, port: number, args: (string | number)[]): Promise<string> {
  const { connect: netConnect } = await import("node:net");
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const s = netConnect({ host: "127.0.0.1", port, localAddress }, () => s.write(encode(args)));
    s.on("data", (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (replyEnd(got, 0) > 0) { s.destroy(); resolve(got.latin1Slice()); }
    });
    s.on("error", reject);
    setTimeout(() => { s.destroy(); reject(new Error(`no reply to ${args[0]} from ${localAddress}`)); }, 5000);
  });
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

/** Sends the commands in one write and returns each reply's exact bytes, in order. */
export async function pipeline(c: RawClient, commands: (string | number)[][], timeoutMs = 10000): Promise<string[]> {
  c.write(Buffer.concat(commands.map(encode)));
  const replies: string[] = [];
  for (let i = 0; i < commands.length; i++) replies.push(await c.readRaw(timeoutMs));
  return replies;
}

/** The milliseconds an async step takes. */
export async function elapsedMs(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** A deterministic pseudo-random generator (mulberry32) in [0, 1), so big randomized scripts
 *  replay the same way on every run. */
export function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Reply bytes, so expectations read as the reply they describe: arr(bulk("k"), int(1)).
export const bulk = (s: string): string => `$${Buffer.byteLength(s, "latin1")}\r\n${s}\r\n`;
export const bulks = (...items: string[]): string => arr(...items.map(bulk));
export const arr = (...items: string[]): string => `*${items.length}\r\n${items.join("")}`;
export const int = (n: number): string => `:${n}\r\n`;

/** A time budget for `n` pipelined commands that should each be O(1) or O(log n): `floorMs`, or
 *  20 times what n pipelined PINGs take right now if that is more, so a machine (or a test process)
 *  that is slow for other reasons does not fail the test, while an O(size) command per call still
 *  does (on a 100k collection it costs hundreds of PINGs). */
export async function budgetMs(c: RawClient, n: number, floorMs: number): Promise<number> {
  const pingMs = await elapsedMs(() => pipeline(c, Array.from({ length: n }, () => ["PING"])));
  return Math.max(floorMs, 20 * pingMs);
}

/** Sends PSYNC ? -1 on a raw socket, skips the RDB and records the commands of the stream. */
export async function tapReplication(port: number): Promise<{ writes(): string[][]; close(): void }> {
  let buf = Buffer.alloc(0), stage = "line" as "line" | "rdbhead" | "rdb" | "stream", rdbLeft = 0;
  const commands: string[][] = [];
  const sock = await Bun.connect({
    hostname: "127.0.0.1", port,
    socket: {
      data(_s, d) {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          if (stage === "line" || stage === "rdbhead") {
            while (buf.length && buf[0] === 10) buf = buf.subarray(1); // keepalive newlines
            const nl = buf.indexOf("\r\n");
            if (nl < 0) return;
            if (stage === "rdbhead") rdbLeft = Number(buf.latin1Slice(1, nl));
            buf = buf.subarray(nl + 2);
            stage = stage === "line" ? "rdbhead" : "rdb";
          } else if (stage === "rdb") {
            if (buf.length < rdbLeft) return;
            buf = buf.subarray(rdbLeft);
            stage = "stream";
          } else {
            const end = replyEnd(buf, 0);
            if (end < 0) return;
            commands.push(decode(buf, 0)[0] as string[]);
            buf = buf.subarray(end);
          }
        }
      },
    },
  });
  sock.write(encode(["PSYNC", "?", "-1"]));
  const deadline = Date.now() + 5000;
  while (stage !== "stream") {
    if (Date.now() > deadline) throw new Error("no RDB from the master");
    await Bun.sleep(5);
  }
  return { writes: () => commands.filter((a) => !/^(ping|replconf)$/i.test(a[0])), close: () => sock.end() };
}

/** The keyspace and keyevent messages that `fn`'s commands publish, in order, as "channel
 *  payload": notifications are on (KEA) for the call, heard by a PSUBSCRIBE on a second connection
 *  (`subscriber`'s, by default a new one to the shared server). */
export async function keyspaceEvents(c: RawClient, fn: () => Promise<void>, subscriber?: () => Promise<RawClient>): Promise<string[]> {
  const sub = subscriber ? await subscriber() : await RawClient.connect((await sharedServer()).port);
  const got: string[] = [];
  try {
    const ok = await c.raw("CONFIG", "SET", "notify-keyspace-events", "KEA");
    if (ok !== "+OK\r\n") throw new Error(`CONFIG SET notify-keyspace-events answered ${JSON.stringify(ok)}`);
    await sub.raw("PSUBSCRIBE", "__key*__:*");
    await fn();
    await c.raw("PUBLISH", "__keyevent@0__:end-of-test", "x");
    for (;;) {
      const m = (await sub.read()) as string[];
      if (m[2] === "__keyevent@0__:end-of-test") break;
      got.push(`${m[2]} ${m[3]}`);
    }
  } finally {
    await c.raw("CONFIG", "SET", "notify-keyspace-events", "");
    sub.close();
  }
  return got;
}

/** One event on one key as keyspaceEvents lists it: the keyspace message, then the keyevent one. */
export const keyspaceEvent = (event: string, key: string) => [`__keyspace@0__:${key} ${event}`, `__keyevent@0__:${event} ${key}`];

/** Runs fn as a fresh ACL user (no password) with these rules on the shared server, on a
 *  connection of its own, deleting the user after. */
export async function asAclUser(admin: RawClient, rules: string[], fn: (u: RawClient) => Promise<void>): Promise<void> {
  const ok = await admin.raw("ACL", "SETUSER", "acl-test-user", "reset", "on", "nopass", ...rules);
  if (ok !== "+OK\r\n") throw new Error(`ACL SETUSER answered ${JSON.stringify(ok)}`);
  const u = await RawClient.connect((await sharedServer()).port);
  try {
    const auth = await u.raw("AUTH", "acl-test-user", "any");
    if (auth !== "+OK\r\n") throw new Error(`AUTH answered ${JSON.stringify(auth)}`);
    await fn(u);
  } finally {
    u.close();
    await admin.raw("ACL", "DELUSER", "acl-test-user");
  }
}

/** The NOPERM reply to a command touching a key the user may not (Redis's exact bytes). */
export const NOPERM_KEYS = "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n";
