// main.ts, Replication: with real processes, Redbun masters and replicas started with
// `bun run main.ts`, and redis-server 7.0.15 on either side of the link where it is installed (those
// tests are skipped without it, unless REQUIRE_REDIS=1 makes that a failure). Every server runs in
// its own temp directory on a port found free, and is stopped by the describe that started it.
// Nothing sleeps for a fixed time to let replication happen: tests poll INFO until offsets agree,
// then compare whole datasets (every db, every key: type, value, absolute expiry time). A replica
// that must lag (FAILOVER's waits) is held back with SIGSTOP, not by timing.
// REDBUN_REPL_REFERENCE=redis runs the Redbun-only tests against redis-server instead, which is how
// their expectations were checked.
import { describe, test, expect, beforeAll, afterAll, setDefaultTimeout } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import type { TCPSocketListener } from "bun";
import { RawClient, decode, encode, replyEnd, type Reply } from "./client.ts";
import { freePort, pipeline, seededRandom, spawnServer } from "./helpers.ts";

const REDIS_SERVER = Bun.which("redis-server");
const REDIS_CLI = Bun.which("redis-cli");
const REDIS_CHECK_RDB = Bun.which("redis-check-rdb");
/** Tests that need redis-server are skipped without it, unless REQUIRE_REDIS=1. */
const noRedis = !REDIS_SERVER && process.env.REQUIRE_REDIS !== "1";

// Waits inside tests have their own deadlines (8 s at most); this only bounds a test as a whole.
setDefaultTimeout(20000);

// ---------------------------------------------------------------------------------------------
// Servers.

/** A server under test, Redbun or redis-server, with one connection the test may use. */
interface Node {
  kind: "redbun" | "redis";
  port: number;
  dir: string;
  c: RawClient;
  /** Its process, for SIGSTOP and SIGCONT. */
  pid: number;
  /** SIGTERM (after a SIGCONT, in case a test left it stopped), wait for the exit, remove the
   *  directory. Safe to call twice. */
  stop(): Promise<void>;
  /** What it logged so far. */
  log(): string;
}

/** Every server still running, so a failing test cannot leak one past the file. */
const live = new Set<Node>();
afterAll(async () => { for (const n of [...live]) await n.stop(); });

/** Config parameters as command-line flags (`{ save: "" }` → `--save ""`). */
const flags = (params: Record<string, string | number>) => Object.entries(params).flatMap(([k, v]) => [`--${k}`, String(v)]);

/** Starts Redbun in a fresh temp dir with persistence off, DEBUG allowed, and diskless sync
 *  without the default 5 s wait for more replicas (as redis-server below). */
async function startRedbun(params: Record<string, string | number> = {}): Promise<Node> {
  if (process.env.REDBUN_REPL_REFERENCE === "redis") return startRedis(params);
  const dir = mkdtempSync(join(tmpdir(), "redbun-repl-"));
  const srv = await spawnServer(flags({ save: "", appendonly: "no", dir, "enable-debug-command": "yes", "repl-diskless-sync-delay": 0, ...params }), { cwd: dir });
  const c = await RawClient.connect(srv.port);
  let stopped = false;
  const node: Node = {
    kind: "redbun", port: srv.port, dir, c, pid: srv.proc.pid,
    async stop() {
      if (stopped) return;
      stopped = true;
      live.delete(node);
      c.close();
      srv.proc.kill("SIGCONT");
      await srv.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => srv.stdout(),
  };
  live.add(node);
  return node;
}

/** A Redbun master and a Redbun replica in sync with it, after `seed` ran on the master: the setup
 *  most describes here share. */
async function primaryAndReplica(seed?: (m: Node) => Promise<void>): Promise<[Node, Node]> {
  const [m, r] = await Promise.all([startRedbun(), startRedbun()]);
  if (seed) await seed(m);
  await replicaOf(r, m);
  await waitInSync(m, r);
  return [m, r];
}

/** Starts redis-server in a fresh temp dir: persistence off, DEBUG allowed, and diskless sync
 *  without the default 5 s wait for more replicas. */
async function startRedis(params: Record<string, string | number> = {}): Promise<Node> {
  const dir = mkdtempSync(join(tmpdir(), "redbun-repl-redis-"));
  const port = await freePort();
  const logfile = join(dir, "redis.log");
  const proc = Bun.spawn([REDIS_SERVER!, ...flags({
    port, bind: "127.0.0.1", save: "", appendonly: "no", dir, logfile, "repl-diskless-sync-delay": 0, "enable-debug-command": "yes", ...params,
  })], { cwd: dir, stdout: "ignore", stderr: "ignore" });
  const deadline = Date.now() + 10000;
  let c: RawClient;
  for (;;) {
    try { c = await RawClient.connect(port); break; } catch {
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start: ${existsSync(logfile) ? readFileSync(logfile, "latin1") : ""}`);
      await Bun.sleep(20);
    }
  }
  let stopped = false;
  const node: Node = {
    kind: "redis", port, dir, c, pid: proc.pid,
    async stop() {
      if (stopped) return;
      stopped = true;
      live.delete(node);
      c.close();
      proc.kill("SIGCONT");
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await proc.exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => (existsSync(logfile) ? readFileSync(logfile, "latin1") : ""),
  };
  live.add(node);
  return node;
}

// ---------------------------------------------------------------------------------------------
// Polling and introspection.

/** Polls `cond` until it returns true; anything else it returns describes the state for the
 *  failure message. */
async function waitFor(what: string, cond: () => Promise<true | string>, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await cond();
    if (r === true) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${r}`);
    await Bun.sleep(15);
  }
}

/** INFO <section> as name → value, in the server's order. */
async function info(c: RawClient, section = "replication"): Promise<Record<string, string>> {
  const text = (await c.cmd("INFO", section)) as string;
  const out: Record<string, string> = {};
  for (const line of text.split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0 && !line.startsWith("#")) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** INFO fields with some replaced (by placeholders for what varies). */
const withFields = (i: Record<string, string>, replace: Record<string, string>): Record<string, string> => ({ ...i, ...replace });

/** INFO stats' sync counters. */
async function syncStats(n: Node): Promise<{ full: number; partialOk: number; partialErr: number }> {
  const s = await info(n.c, "stats");
  return { full: Number(s.sync_full), partialOk: Number(s.sync_partial_ok), partialErr: Number(s.sync_partial_err) };
}

/** REPLICAOF master, answered +OK. */
async function replicaOf(replica: Node, master: Node): Promise<void> {
  expect(await replica.c.raw("REPLICAOF", "127.0.0.1", master.port)).toBe("+OK\r\n");
}

/** Waits until each replica's link is up and it has applied everything its master produced. */
async function waitInSync(master: Node, ...replicas: Node[]): Promise<void> {
  await waitInSyncWithin(8000, master, ...replicas);
}

async function waitInSyncWithin(ms: number, master: Node, ...replicas: Node[]): Promise<void> {
  await waitFor(`replicas of :${master.port} in sync`, async () => {
    const m = await info(master.c);
    for (const r of replicas) {
      const ri = await info(r.c);
      if (ri.master_link_status !== "up" || ri.slave_repl_offset !== m.master_repl_offset) {
        return `master_repl_offset ${m.master_repl_offset}; replica :${r.port} link ${ri.master_link_status}, slave_repl_offset ${ri.slave_repl_offset}`;
      }
    }
    return true;
  }, ms);
}

/** Waits until the master has seen every replica ack its whole stream (INFO's slaveN offset). */
async function waitAcked(master: Node, n: number): Promise<void> {
  await waitFor(`${n} replicas acking :${master.port}`, async () => {
    const m = await info(master.c);
    const acked = Object.keys(m).filter((k) => /^slave\d+$/.test(k) && m[k].includes(`,state=online,offset=${m.master_repl_offset},`));
    return acked.length === n || `${JSON.stringify(m)}`;
  });
}

type Dataset = Record<string, { type: string; value: unknown; expireAt: Reply }>;

/** Reads a whole dataset back over a fresh connection: for every db and key its type, its value
 *  (hash fields and set members sorted) and PEXPIRETIME, so two servers can be compared with
 *  toEqual. `ttl: "presence"` keeps only whether a key has an expiry (for servers fed the same
 *  commands at different moments). */
async function dataset(port: number, ttl: "exact" | "presence" = "exact"): Promise<Dataset> {
  const c = await RawClient.connect(port);
  const out: Dataset = {};
  try {
    for (let db = 0; db < 16; db++) {
      await c.cmd("SELECT", db);
      const keys = ((await c.cmd("KEYS", "*")) as string[]).sort();
      if (!keys.length) continue;
      const types = (await pipeline(c, keys.map((k) => ["TYPE", k]))).map((r) => r.slice(1, -2));
      const reads: (string | number)[][] = [];
      keys.forEach((k, i) => {
        const t = types[i];
        reads.push(t === "string" ? ["GET", k] : t === "list" ? ["LRANGE", k, 0, -1] : t === "hash" ? ["HGETALL", k]
          : t === "set" ? ["SMEMBERS", k] : t === "zset" ? ["ZRANGE", k, 0, -1, "WITHSCORES"] : t === "stream" ? ["XRANGE", k, "-", "+"] : ["TYPE", k]);
        reads.push(["PEXPIRETIME", k]);
      });
      const replies = (await pipeline(c, reads)).map((r) => decode(Buffer.from(r, "latin1"), 0)[0]);
      // A stream's metadata and consumer groups, besides its entries.
      const streams = keys.filter((_, i) => types[i] === "stream");
      const meta = (await pipeline(c, streams.flatMap((k) => [["XINFO", "STREAM", k], ["XINFO", "GROUPS", k]]))).map((r) => decode(Buffer.from(r, "latin1"), 0)[0] as Reply[]);
      keys.forEach((k, i) => {
        let value: unknown = replies[2 * i];
        if (types[i] === "hash") {
          const v = value as string[];
          const pairs: string[][] = [];
          for (let j = 0; j < v.length; j += 2) pairs.push([v[j], v[j + 1]]);
          value = pairs.sort((a, b) => (a[0] < b[0] ? -1 : 1));
        }
        if (types[i] === "set") value = (value as string[]).sort();
        if (types[i] === "stream") {
          const j = streams.indexOf(k);
          const st = meta[2 * j];
          const fields: Record<string, Reply> = {};
          for (let f = 0; f < st.length; f += 2) fields[st[f] as string] = st[f + 1];
          const { length, "last-generated-id": last, "max-deleted-entry-id": maxDeleted, "entries-added": added } = fields;
          // Not entries-read and lag: redis-server's own replicas do not track them (XREADGROUP
          // reaches a replica as XCLAIMs, which leave entries-read unknown there).
          const groups = (meta[2 * j + 1] as Reply[][]).map((g) => g.slice(0, 8));
          value = { entries: value, length, last, maxDeleted, added, groups };
        }
        const at = replies[2 * i + 1] as number;
        out[`${db}:${k}`] = { type: types[i], value, expireAt: ttl === "exact" ? at : at > 0 };
      });
    }
  } finally {
    c.close();
  }
  return out;
}

/** Asserts two servers hold the same data, and that it is not empty. */
async function expectSameData(a: Node, b: Node, ttl: "exact" | "presence" = "exact"): Promise<Dataset> {
  const [da, db] = await Promise.all([dataset(a.port, ttl), dataset(b.port, ttl)]);
  expect(Object.keys(da).length).toBeGreaterThan(0);
  expect(db).toEqual(da);
  return da;
}

/** Sends a blocking command on `waiter` and returns once `ctl`'s server counts it as blocked. */
async function block(waiter: RawClient, ctl: RawClient, ...args: (string | number)[]): Promise<void> {
  const before = Number((await info(ctl, "clients")).blocked_clients);
  waiter.send(...args);
  await waitFor(`${args[0]} to block`, async () => Number((await info(ctl, "clients")).blocked_clients) > before || "not blocked");
}

// ---------------------------------------------------------------------------------------------
// A fake replica that records a master's stream, and a fake master that sends one piece by piece.

/** Sends PSYNC ? -1 on a raw socket and parses what a master sends back: +FULLRESYNC, the RDB
 *  (length-prefixed) and then the command stream, kept as argv arrays with their byte counts. */
class Tap {
  private buf = Buffer.alloc(0);
  private stage: "reply" | "rdbhead" | "rdb" | "rdbeof" | "stream" = "reply";
  private rdbLeft = 0;
  private rdbParts: Buffer[] = [];
  private sock!: Awaited<ReturnType<typeof Bun.connect>>;
  replid = "";
  /** The offset +FULLRESYNC named: the stream's first byte is at startOffset + 1. */
  startOffset = -1;
  /** Bytes of stream received after the RDB. */
  streamBytes = 0;
  rdb: Buffer | null = null;
  /** The RDB's header line: "$<length>", or "$EOF:<40 characters>" (diskless, streamed). */
  rdbHeader = "";
  commands: string[][] = [];
  private psync: Buffer = Buffer.alloc(0);

  /** `sync: "SYNC"` speaks the protocol from before PSYNC: no +FULLRESYNC line, no offsets.
   *  `capaEof` announces (REPLCONF capa eof) that it reads an RDB of unknown length. */
  static async open(port: number, sync: "PSYNC" | "SYNC" = "PSYNC", capaEof = false): Promise<Tap> {
    const t = new Tap();
    if (sync === "SYNC") t.stage = "rdbhead";
    t.sock = await Bun.connect({
      hostname: "127.0.0.1", port,
      socket: { data: (_s, d) => { t.buf = Buffer.concat([t.buf, d]); t.parse(); } },
    });
    // After REPLCONF's reply: a master refuses a sync while a reply is still pending.
    t.psync = encode(sync === "SYNC" ? ["SYNC"] : ["PSYNC", "?", "-1"]);
    t.sock.write(capaEof ? encode(["REPLCONF", "capa", "eof"]) : t.psync);
    await waitFor("the tap's RDB", async () => t.rdb !== null || `stage ${t.stage}`);
    return t;
  }

  private parse(): void {
    for (;;) {
      if (this.stage === "reply" || this.stage === "rdbhead") {
        while (this.buf.length && this.buf[0] === 10) this.buf = this.buf.subarray(1); // keepalive newlines
        const nl = this.buf.indexOf("\r\n");
        if (nl < 0) return;
        const line = this.buf.latin1Slice(0, nl);
        this.buf = this.buf.subarray(nl + 2);
        if (this.stage === "reply") {
          if (line === "+OK") { this.sock.write(this.psync); continue; } // REPLCONF's
          const m = /^\+FULLRESYNC ([0-9a-f]{40}) (\d+)$/.exec(line);
          if (!m) throw new Error(`unexpected PSYNC reply ${line}`);
          [this.replid, this.startOffset] = [m[1], Number(m[2])];
          this.stage = "rdbhead";
        } else {
          this.rdbHeader = line;
          if (/^\$EOF:.{40}$/.test(line)) { this.stage = "rdbeof"; continue; }
          if (!/^\$\d+$/.test(line)) throw new Error(`unexpected RDB header ${line}`);
          this.rdbLeft = Number(line.slice(1));
          this.stage = "rdb";
        }
      } else if (this.stage === "rdbeof") {
        // Up to the mark, which may arrive split across reads.
        this.rdbParts.push(this.buf);
        this.buf = Buffer.alloc(0);
        const all = Buffer.concat(this.rdbParts);
        const mark = this.rdbHeader.slice(5);
        const at = all.indexOf(mark, 0, "latin1");
        this.rdbParts = [all];
        if (at < 0) return;
        this.rdb = all.subarray(0, at);
        this.buf = all.subarray(at + 40);
        this.stage = "stream";
      } else if (this.stage === "rdb") {
        const take = this.buf.subarray(0, this.rdbLeft);
        this.rdbParts.push(Buffer.from(take));
        this.rdbLeft -= take.length;
        this.buf = this.buf.subarray(take.length);
        if (this.rdbLeft > 0) return;
        this.rdb = Buffer.concat(this.rdbParts);
        this.stage = "stream";
      } else {
        const end = replyEnd(this.buf, 0);
        if (end < 0) return;
        this.commands.push(decode(this.buf, 0)[0] as string[]);
        this.streamBytes += end;
        this.buf = this.buf.subarray(end);
      }
    }
  }

  /** The stream without the master's PINGs and REPLCONF GETACKs. */
  writes(): string[][] { return this.commands.filter((a) => !/^(ping|replconf)$/i.test(a[0])); }

  async waitForWrite(what: string, pred: (argv: string[]) => boolean): Promise<void> {
    await waitFor(what, async () => this.writes().some(pred) || JSON.stringify(this.writes().slice(-5)));
  }

  close(): void { this.sock.end(); }
}

/** A master played by the test on a port of its own: it answers the handshake (PING, REPLCONF,
 *  PSYNC with +FULLRESYNC at offset 0 and the given RDB), then sends the stream exactly as the
 *  test writes it, in as many pieces as it likes, and records the replica's acks. `psync` replaces
 *  its answer to PSYNC (a broken one, say); `silent` makes it answer nothing at all. */
class FakeMaster {
  private listener!: TCPSocketListener<undefined>;
  private sock: { write(d: string | Uint8Array): number } | null = null;
  private buf = Buffer.alloc(0);
  port = 0;
  connections = 0;
  synced = false;
  acks: number[] = [];

  static start(rdb: Buffer, opts: { psync?: Buffer; silent?: boolean } = {}): FakeMaster {
    const f = new FakeMaster();
    f.listener = Bun.listen<undefined>({
      hostname: "127.0.0.1", port: 0,
      socket: {
        open: (s) => { f.sock = s; f.connections++; f.buf = Buffer.alloc(0); },
        data: (s, d) => {
          if (opts.silent) return;
          f.buf = Buffer.concat([f.buf, d]);
          for (;;) {
            const end = replyEnd(f.buf, 0);
            if (end < 0) break;
            const argv = decode(f.buf, 0)[0] as string[];
            f.buf = f.buf.subarray(end);
            const cmd = argv[0].toUpperCase();
            if (cmd === "PING") s.write("+PONG\r\n");
            else if (cmd === "REPLCONF" && argv[1].toUpperCase() === "ACK") f.acks.push(Number(argv[2]));
            else if (cmd === "REPLCONF") s.write("+OK\r\n");
            else if (cmd === "PSYNC") {
              s.write(opts.psync ?? Buffer.concat([Buffer.from(`+FULLRESYNC ${"f".repeat(40)} 0\r\n$${rdb.length}\r\n`, "latin1"), rdb]));
              f.synced = true;
            }
          }
        },
      },
    });
    f.port = f.listener.port;
    return f;
  }

  send(bytes: string): void { this.sock!.write(Buffer.from(bytes, "latin1")); }
  stop(): void { this.listener.stop(true); }
}

// ---------------------------------------------------------------------------------------------
// Workloads.

/** Expiry times in the stream depend on the moment: compare them by shape. */
const normalizeTimes = (argv: string[]) => argv.map((a) => (/^1\d{9}$|^1\d{12}$/.test(a) ? "<unix time>" : /^1\d{12}-\d+$/.test(a) ? "<stream id>" : a));
/** The same for replies, which may hold generated stream IDs. */
const normalizeReply = (r: Reply): Reply => (Array.isArray(r) ? r.map(normalizeReply) : typeof r === "string" ? normalizeTimes([r])[0] : r);

/** One of each kind of write, on `c` (with `b` for clients that block), waiting for the expired
 *  keys to leave through the tap. The script is the same for Redbun and redis-server. */
async function everyWriteClass(c: RawClient, b: RawClient, tap: Tap): Promise<Reply[]> {
  const replies: Reply[] = [];
  const run = async (...args: (string | number)[]) => { replies.push(await c.cmd(...args)); };
  const sec = Math.floor(Date.now() / 1000);
  await run("SET", "plain", "v");
  await run("SET", "ex", "v", "EX", 100);
  await run("SET", "px", "v", "PX", 100000);
  await run("SET", "exat", "v", "EXAT", sec + 100);
  await run("SET", "ex", "v2", "KEEPTTL");
  await run("SET", "nx", "v", "NX");
  await run("SET", "nx", "v2", "NX");
  await run("SET", "nx", "v3", "GET", "EX", 100);
  await run("SETEX", "setex", 100, "v");
  await run("PSETEX", "psetex", 100000, "v");
  await run("GETEX", "ex", "EX", 200);
  await run("GETEX", "px", "PERSIST");
  await run("GETEX", "plain");
  await run("EXPIRE", "plain", 100);
  await run("PEXPIRE", "plain", 100000);
  await run("EXPIREAT", "plain", sec + 100);
  await run("PEXPIREAT", "plain", sec * 1000 + 100000);
  await run("EXPIRE", "plain", 100, "NX");
  await run("PERSIST", "plain");
  await run("SET", "past", "v");
  await run("EXPIRE", "past", -1);
  await run("SET", "f", "10.5");
  await run("INCRBYFLOAT", "f", "0.1");
  await run("HSET", "h", "a", "1");
  await run("HINCRBYFLOAT", "h", "a", "1.5");
  await run("INCR", "n");
  await run("INCRBY", "n", 5);
  await run("APPEND", "plain", "x");
  await run("SETRANGE", "plain", 0, "Z");
  await run("GETDEL", "plain");
  await run("GETSET", "gs", "v");
  await run("MSET", "a", "1", "b", "2");
  await run("MSETNX", "c", "3", "d", "4");
  await run("SADD", "one", "m");
  await run("SPOP", "one");
  await run("SADD", "all", "x", "y", "z");
  replies.push(((await c.cmd("SPOP", "all", 5)) as string[]).sort()); // members come in hash order
  await run("SADD", "s", "a", "b", "c");
  await run("SREM", "s", "a");
  await run("SMOVE", "s", "s2", "b");
  await run("RPUSH", "l", "a", "b", "c", "d", "e");
  await run("LPOP", "l");
  await run("RPOP", "l", 2);
  await run("LMOVE", "l", "l2", "LEFT", "RIGHT");
  await run("LMPOP", 1, "l2", "LEFT", "COUNT", 1);
  await run("ZADD", "z", 1, "a", 2, "b", 3, "c", 4, "d");
  await run("ZPOPMIN", "z");
  await run("ZMPOP", 1, "z", "MAX", "COUNT", 1);
  await run("ZINCRBY", "z", 1, "b");
  // Blocked clients served by a later write.
  for (const [blocking, feed] of [
    [["BLPOP", "bl", 0], ["RPUSH", "bl", "x", "y"]],
    [["BRPOP", "bl2", 0], ["LPUSH", "bl2", "p"]],
    [["BZPOPMIN", "bz", 0], ["ZADD", "bz", 1, "m"]],
    [["BLMPOP", 0, 1, "bm", "LEFT"], ["RPUSH", "bm", "q"]],
  ] as (string | number)[][][]) {
    await block(b, c, ...blocking);
    await run(...feed);
    replies.push(await b.read());
  }
  await run("MULTI");
  await run("SET", "t1", "1");
  await run("INCR", "t1");
  await run("LPUSH", "tl", "a");
  await run("EXEC");
  await run("MULTI");
  await run("GET", "t1");
  await run("EXEC");
  await run("MULTI");
  await run("SET", "t2", "1");
  await run("LPUSH", "t2", "x");
  await run("EXEC");
  await run("SELECT", 3);
  await run("SET", "d3", "v");
  await run("SELECT", 0);
  await run("SWAPDB", 0, 3);
  await run("COPY", "d3", "d3copy");
  await run("RENAME", "d3copy", "d3renamed");
  await run("MOVE", "d3renamed", 5);
  // Expiry: lazily on access (also inside a transaction), then by the active cycle.
  await run("DEBUG", "SET-ACTIVE-EXPIRE", 0);
  await run("SET", "lazy", "v", "PX", 20);
  await run("SET", "lazy2", "v", "PX", 20);
  const t = Date.now();
  await waitFor("lazy to be past its TTL", async () => Date.now() > t + 40 || "not yet");
  await run("GET", "lazy");
  await run("MULTI");
  await run("GET", "lazy2");
  await run("SET", "after", "1");
  await run("EXEC");
  await run("DEBUG", "SET-ACTIVE-EXPIRE", 1);
  await run("SET", "active", "v", "PX", 20);
  await tap.waitForWrite("the active expiry's DEL", (a) => /^(del|unlink)$/i.test(a[0]) && a[1] === "active");
  await run("FLUSHDB");
  await run("SELECT", 5);
  await run("FLUSHALL");
  await run("SET", "__end__", "1");
  await tap.waitForWrite("the end marker", (a) => a[1] === "__end__");
  return replies;
}

/** Every type in several dbs, with small and big encodings, binary-safe keys and values, empty
 *  values and expiry times far enough ahead that none expires during a test. `infinities: false`
 *  leaves out the infinite zset scores (tested on their own where one bug would spoil a whole
 *  describe's data). */
function allTypesCommands({ infinities = true } = {}): (string | number)[][] {
  const rnd = seededRandom(7);
  const noise = (n: number) => Array.from({ length: n }, () => String.fromCharCode(Math.floor(rnd() * 256))).join("");
  const later = Date.now() + 3_600_000;
  const cmds: (string | number)[][] = [];
  for (const db of [0, 1, 7, 15]) {
    cmds.push(["SELECT", db]);
    cmds.push(["SET", "str", `hello ${db}`], ["SET", "empty", ""], ["SET", "int", "12345"], ["SET", "neg", "-7"], ["SET", "float", "3.25"]);
    cmds.push(["SET", "bin\r\n\0key", "v\0\r\nal\xff"], ["SET", "ttl", "v", "PX", 3_600_000], ["SET", "exat", "v", "PXAT", later + db]);
    cmds.push(["RPUSH", "list", "a", "b", "", "12", "c"], ["HSET", "hash", "a", "1", "b", "", "c", "x".repeat(100)]);
    cmds.push(["SADD", "intset", 1, 2, 3, -5], ["SADD", "set", "a", "b", ""], ["ZADD", "zset", 1, "a", 2.5, "b", -3, "c", ...(infinities ? ["inf", "top", "-inf", "bottom"] : [])]);
    cmds.push(["XADD", "stream", "1-1", "a", "1"], ["XADD", "stream", "2-0", "b", "2", "c", ""], ["XADD", "stream", "3-0", "d", "4"], ["XDEL", "stream", "2-0"]);
    cmds.push(["XGROUP", "CREATE", "stream", "g", "0"], ["XREADGROUP", "GROUP", "g", "alice", "COUNT", 1, "STREAMS", "stream", ">"]);
    cmds.push(["EXPIRE", "hash", 7200], ["PEXPIREAT", "list", later], ["EXPIRE", "zset", 9000]);
  }
  cmds.push(["SELECT", 0]);
  cmds.push(["SET", "big", "x".repeat(100_000)], ["SET", "noise", noise(200_000)]); // LZF-compressed, and not
  cmds.push(["RPUSH", "biglist", ...Array.from({ length: 2000 }, (_, i) => `item ${i}`)]);
  cmds.push(["HSET", "bighash", ...Array.from({ length: 600 }, (_, i) => [`f${i}`, noise(20)]).flat()]);
  cmds.push(["SADD", "bigintset", ...Array.from({ length: 600 }, (_, i) => i * 7)]);
  cmds.push(["SADD", "bigset", ...Array.from({ length: 600 }, (_, i) => `m${i}`)]);
  cmds.push(["ZADD", "bigzset", ...Array.from({ length: 300 }, (_, i) => [i / 3, `m${i}`]).flat(), ...(infinities ? ["inf", "top", "-inf", "bottom"] : [])]);
  cmds.push(["XADD", "bigstream", "MAXLEN", 900, "1-1", "f", "v"]);
  for (let i = 2; i < 1000; i++) cmds.push(["XADD", "bigstream", "MAXLEN", "900", `${i}-0`, "f", `v${i}`, "g", noise(10)]);
  cmds.push(["XGROUP", "CREATE", "bigstream", "g1", "0"]);
  cmds.push(["XREADGROUP", "GROUP", "g1", "c1", "COUNT", 10, "STREAMS", "bigstream", ">"], ["XACK", "bigstream", "g1", "150-0", "151-0"]);
  cmds.push(["EXPIRE", "bigset", 5000]);
  return cmds;
}

/** Replies other than errors, to check a workload ran as meant. */
function expectNoErrors(replies: string[]): void {
  expect(replies.filter((r) => r[0] === "-")).toEqual([]);
}

/** A deterministic random load of writes that do not depend on randomness on the server (no
 *  SPOP, no SRANDMEMBER), so two masters fed it end with the same data. Errors (WRONGTYPE and
 *  the like) are part of it. */
function randomLoad(seed: number, n: number): (string | number)[][] {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  const key = () => pick(["a", "b", "c", "d", "e", "f", "g", "h"]);
  const val = () => pick(["x", "yy", "", "12", "-3", "4.5", "zzz\r\n", "\0"]);
  const num = () => Math.floor(rnd() * 20) - 5;
  const gens: (() => (string | number)[])[] = [
    () => ["SET", key(), val()], () => ["SET", key(), val(), "EX", 1000 + num()], () => ["APPEND", key(), val()],
    () => ["INCR", key()], () => ["INCRBYFLOAT", key(), "1.5"], () => ["SETRANGE", key(), num() & 7, val()], () => ["GETDEL", key()],
    () => ["DEL", key(), key()], () => ["LPUSH", key(), val(), val()], () => ["RPUSH", key(), val()], () => ["LPOP", key()],
    () => ["RPOP", key(), 2], () => ["LMOVE", key(), key(), "LEFT", "RIGHT"], () => ["LTRIM", key(), 0, 5], () => ["LREM", key(), 0, val()],
    () => ["LINSERT", key(), "BEFORE", val(), val()], () => ["HSET", key(), val(), val()], () => ["HDEL", key(), val()],
    () => ["HINCRBY", key(), "n", num()], () => ["HINCRBYFLOAT", key(), "f", "0.25"], () => ["SADD", key(), val(), num()],
    () => ["SREM", key(), val()], () => ["SMOVE", key(), key(), val()], () => ["SINTERSTORE", key(), key(), key()],
    () => ["SUNIONSTORE", key(), key(), key()], () => ["ZADD", key(), num() / 2, val()], () => ["ZINCRBY", key(), 1.5, val()],
    () => ["ZREM", key(), val()], () => ["ZPOPMIN", key()], () => ["ZUNIONSTORE", key(), 2, key(), key()],
    () => ["ZRANGESTORE", key(), key(), 0, 2], () => ["EXPIRE", key(), 2000], () => ["PERSIST", key()], () => ["RENAME", key(), key()],
    () => ["COPY", key(), key(), "DB", pick([0, 1, 2, 3]), "REPLACE"], () => ["MOVE", key(), pick([0, 1, 2, 3])], () => ["SELECT", pick([0, 1, 2, 3])],
  ];
  const out: (string | number)[][] = [];
  while (out.length < n) {
    const r = rnd();
    if (r < 0.03) {
      out.push(["MULTI"], pick(gens)(), pick(gens)(), pick(gens)(), ["EXEC"]);
    } else if (r < 0.035) {
      out.push(["SWAPDB", pick([0, 1, 2, 3]), pick([0, 1, 2, 3])]);
    } else {
      out.push(pick(gens)());
    }
  }
  out.push(["SELECT", 0]);
  return out;
}

/** Sends a load in pipelined batches, calling `midway` once after about half of it. */
async function sendLoad(c: RawClient, load: (string | number)[][], midway?: () => Promise<void>): Promise<void> {
  const batch = 200;
  for (let i = 0; i < load.length; i += batch) {
    await pipeline(c, load.slice(i, i + batch)); // a MULTI block may span two batches: no matter
    if (midway && i < load.length / 2 && i + batch >= load.length / 2) await midway();
  }
}

/** A few writes of the kinds that need care on the other end: a blocked pop served later, a
 *  transaction, relative expiry times, a float increment, SWAPDB. */
async function streamSomeWrites(m: Node): Promise<void> {
  const b = await RawClient.connect(m.port);
  try {
    await block(b, m.c, "BLPOP", "queue", 0);
    await m.c.cmd("RPUSH", "queue", "first", "second");
    expect(await b.read()).toEqual(["queue", "first"]);
    expect(await pipeline(m.c, [
      ["MULTI"], ["INCR", "ctr"], ["SET", "tx", "v", "EX", 500], ["EXEC"], ["INCRBYFLOAT", "fl", "2.5"], ["EXPIRE", "str", 900], ["SELECT", 1],
      ["SWAPDB", 1, 7], ["SET", "in1", "v"], ["SELECT", 0], ["SPOP", "bigset", 3],
    ])).toEqual(["+OK\r\n", "+QUEUED\r\n", "+QUEUED\r\n", "*2\r\n:1\r\n+OK\r\n", "$3\r\n2.5\r\n", ":1\r\n", "+OK\r\n", "+OK\r\n", "+OK\r\n", "+OK\r\n", expect.stringMatching(/^\*3\r\n/)]);
  } finally {
    b.close();
  }
}

// ---------------------------------------------------------------------------------------------
// What a master sends: the stream a fake replica records, Redbun's next to redis-server's.

describe("the propagated form of every write class", () => {
  test.skipIf(noRedis)("is what redis-server 7.0 sends its replicas, command for command", async () => {
    const [rb, rs] = await Promise.all([startRedbun(), startRedis()]);
    try {
      const out = [];
      for (const n of [rb, rs]) {
        const tap = await Tap.open(n.port);
        const b = await RawClient.connect(n.port);
        const replies = await everyWriteClass(n.c, b, tap);
        b.close();
        tap.close();
        out.push({ replies, writes: tap.writes().map(normalizeTimes) });
      }
      expect(out[0].replies).toEqual(out[1].replies);
      expect(out[0].writes).toEqual(out[1].writes);
    } finally {
      await rb.stop();
      await rs.stop();
    }
  }, 20000);

  test.skipIf(noRedis)("a script's writes are sent as the commands it ran, wrapped in MULTI/EXEC when there are several, as redis-server sends them", async () => {
    const [rb, rs] = await Promise.all([startRedbun(), startRedis()]);
    try {
      const out = [];
      for (const n of [rb, rs]) {
        const tap = await Tap.open(n.port);
        const replies: Reply[] = [];
        const sha = (await n.c.cmd("SCRIPT", "LOAD", "redis.call('INCR', KEYS[1]); return redis.call('INCR', KEYS[1])")) as string;
        for (const cmd of [
          ["EVAL", "return redis.call('SET', KEYS[1], ARGV[1])", 1, "one", "v"],
          ["EVAL", "redis.call('SET', 'a', 1); redis.call('LPUSH', 'l', 'x', 'y'); return redis.call('GET', 'a')", 0],
          ["EVALSHA", sha, 1, "ctr"],
          ["EVAL", "return redis.call('GET', 'a')", 0],
          ["EVAL", "redis.call('SET', 'before', 1); return redis.call('INCR', 'l')", 0],
          ["EVAL", "redis.call('SET', 'p1', 1); redis.pcall('INCR', 'l'); redis.call('SET', 'p2', 2); return 1", 0],
          ["EVAL", "redis.call('SELECT', 2); redis.call('SET', 'in2', 1); redis.call('SELECT', 0); redis.call('SET', 'in0', 1); return 1", 0],
          ["EVAL", "redis.set_repl(redis.REPL_NONE); redis.call('SET', 'hidden', 1); redis.set_repl(redis.REPL_ALL); redis.call('SET', 'shown', 1); return 1", 0],
          ["EVAL", "redis.set_repl(redis.REPL_AOF); redis.call('SET', 'aofonly', 1); return 1", 0],
          ["EVAL", "redis.call('SET', 'e', 1, 'EX', 100); redis.call('EXPIRE', 'e', 200); return redis.call('SPOP', 'nope')", 0],
          ["EVAL", "return redis.call('DEL', 'nothing')", 0],
          ["MULTI"], ["EVAL", "return redis.call('INCR', 'm')", 0], ["SET", "m2", 1], ["EXEC"],
          ["SET", "__end__", "1"],
        ] as (string | number)[][]) replies.push(await n.c.cmd(...cmd));
        await tap.waitForWrite("the end marker", (a) => a[1] === "__end__");
        tap.close();
        out.push({ replies, writes: tap.writes().map(normalizeTimes) });
      }
      expect(out[0].replies).toEqual(out[1].replies);
      expect(out[0].writes).toEqual(out[1].writes);
    } finally {
      await rb.stop();
      await rs.stop();
    }
  }, 20000);

  test.skipIf(noRedis)("stream writes, consumer groups and a blocked XREADGROUP served later are sent as redis-server sends them", async () => {
    const [rb, rs] = await Promise.all([startRedbun(), startRedis()]);
    try {
      const out = [];
      for (const n of [rb, rs]) {
        const tap = await Tap.open(n.port);
        const b = await RawClient.connect(n.port);
        const replies: Reply[] = [];
        for (const cmd of [
          ["XADD", "s", "1-0", "a", "1"], ["XADD", "s", "2-0", "b", "2"], ["XADD", "s", "MAXLEN", 2, "3-0", "c", "3"], ["XADD", "s", "4-0", "d", "4"],
          ["XADD", "nope", "NOMKSTREAM", "*", "f", "v"], ["XDEL", "s", "3-0", "99-0"], ["XTRIM", "s", "MAXLEN", 5], ["XTRIM", "s", "MINID", "2-0"],
          ["XGROUP", "CREATE", "s", "g", "0"], ["XGROUP", "CREATE", "new", "g", "$", "MKSTREAM"], ["XGROUP", "CREATECONSUMER", "s", "g", "bob"],
          ["XADD", "s", "5-0", "e", "5"], ["XREADGROUP", "GROUP", "g", "alice", "COUNT", 2, "STREAMS", "s", ">"],
          ["XREADGROUP", "GROUP", "g", "alice", "NOACK", "STREAMS", "s", ">"], ["XREADGROUP", "GROUP", "g", "frank", "NOACK", "STREAMS", "s", "0"],
          ["XREADGROUP", "GROUP", "g", "grace", "STREAMS", "s", ">"], ["XACK", "s", "g", "4-0"], ["XCLAIM", "s", "g", "bob", 0, "5-0"],
          ["XCLAIM", "s", "g", "bob", 0, "5-0", "JUSTID"], ["XAUTOCLAIM", "s", "g", "carol", 0, "0"], ["XGROUP", "SETID", "s", "g", "0"],
          ["XREADGROUP", "GROUP", "g", "erin", "STREAMS", "s", "0"], ["XGROUP", "DELCONSUMER", "s", "g", "bob"], ["XSETID", "s", "10-0"], ["XGROUP", "SETID", "s", "g", "$"],
        ] as (string | number)[][]) replies.push(await n.c.cmd(...cmd));
        await block(b, n.c, "XREADGROUP", "GROUP", "g", "dave", "BLOCK", 0, "STREAMS", "s", ">");
        replies.push(await n.c.cmd("XADD", "s", "11-0", "f", "v"));
        replies.push(await b.read());
        for (const cmd of [["XGROUP", "DESTROY", "s", "g"], ["XADD", "auto", "*", "f", "v"], ["XADD", "auto", "MAXLEN", "~", 1, "*", "g", "w"]]) {
          replies.push(await n.c.cmd(...cmd));
        }
        await n.c.cmd("SET", "__end__", "1");
        await tap.waitForWrite("the end marker", (a) => a[1] === "__end__");
        out.push({ replies: replies.map(normalizeReply), writes: tap.writes().map(normalizeTimes) });
        b.close();
        tap.close();
      }
      expect(out[0].replies).toEqual(out[1].replies);
      expect(out[0].writes).toEqual(out[1].writes);
    } finally {
      await rb.stop();
      await rs.stop();
    }
  });

  test.skipIf(noRedis)("BLMOVE and BRPOPLPUSH, served at once or later, are sent as redis-server sends them (lmove's directions in lower case, RPOPLPUSH)", async () => {
    const [rb, rs] = await Promise.all([startRedbun(), startRedis()]);
    try {
      const out: string[][][] = [];
      for (const n of [rb, rs]) {
        const tap = await Tap.open(n.port);
        const b = await RawClient.connect(n.port);
        await n.c.cmd("RPUSH", "src", "a", "b", "c", "d");
        expect(await n.c.cmd("BLMOVE", "src", "dst", "LEFT", "RIGHT", 0)).toBe("a");
        expect(await n.c.cmd("BLMOVE", "src", "dst", "right", "left", 0)).toBe("d");
        expect(await n.c.cmd("BRPOPLPUSH", "src", "dst", 0)).toBe("c");
        expect(await n.c.cmd("RPOPLPUSH", "src", "dst")).toBe("b");
        for (const [blocking, feed] of [
          [["BLMOVE", "src", "dst", "LEFT", "RIGHT", 0], ["RPUSH", "src", "e"]],
          [["BLMOVE", "src", "dst", "right", "left", 0], ["RPUSH", "src", "e"]],
          [["BRPOPLPUSH", "src", "dst", 0], ["RPUSH", "src", "e"]],
        ] as (string | number)[][][]) {
          await block(b, n.c, ...blocking);
          await n.c.cmd(...feed);
          expect(await b.read()).toBe("e");
        }
        await n.c.cmd("SET", "__end__", "1");
        await tap.waitForWrite("the end marker", (a) => a[1] === "__end__");
        out.push(tap.writes());
        b.close();
        tap.close();
      }
      expect(out[0]).toEqual(out[1]);
    } finally {
      await rb.stop();
      await rs.stop();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Redbun to Redbun.

describe("full synchronization", () => {
  let m: Node, r: Node;
  beforeAll(async () => {
    [m, r] = await Promise.all([startRedbun(), startRedbun()]);
    expectNoErrors(await pipeline(m.c, allTypesCommands()));
    // The replica's own data, which a full sync replaces.
    await pipeline(r.c, [["SET", "stale", "1"], ["SELECT", 9], ["SET", "stale9", "1"], ["SELECT", 0]]);
  });
  afterAll(async () => { await m.stop(); await r.stop(); });

  test("a replica gets every type in every db, with the master's absolute expiry times, and loses its own keys", async () => {
    await replicaOf(r, m);
    await waitInSync(m, r);
    const data = await expectSameData(m, r);
    expect(Object.keys(data).filter((k) => k.startsWith("7:")).length).toBe(14);
    expect(data["0:stale"]).toBeUndefined();
    expect(await r.c.raw("DBSIZE")).toBe(await m.c.raw("DBSIZE"));
  });

  test("the master counts one full sync and one refused partial one; both sides share the master's replication ID", async () => {
    // As in Redis, a master turned replica first offers its own history (PSYNC <its replid>
    // <offset+1>), which the master refuses and counts in sync_partial_err.
    expect(await syncStats(m)).toEqual({ full: 1, partialOk: 0, partialErr: 1 });
    expect((await info(r.c)).master_replid).toBe((await info(m.c)).master_replid);
    expect(r.log()).toContain("MASTER <-> REPLICA sync: Finished with success");
  });

  test("SYNC, the protocol from before PSYNC, gets the RDB without a +FULLRESYNC line, then the stream", async () => {
    const tap = await Tap.open(m.port, "SYNC");
    try {
      expect(tap.rdb!.latin1Slice(0, 9)).toBe("REDIS0010");
      await m.c.cmd("SET", "after-sync", "1");
      await tap.waitForWrite("the SET", (a) => a[1] === "after-sync");
      expect(tap.writes()).toEqual([["SELECT", "0"], ["SET", "after-sync", "1"]]);
    } finally {
      tap.close();
    }
    await m.c.cmd("DEL", "after-sync");
  });

  test("a second replica arriving later gets the data as it is then", async () => {
    await m.c.cmd("SET", "later", "1");
    await m.c.cmd("DEL", "big");
    const r2 = await startRedbun();
    try {
      await replicaOf(r2, m);
      await waitInSync(m, r, r2);
      await expectSameData(m, r2);
      expect(await r2.c.cmd("GET", "later")).toBe("1");
      expect((await syncStats(m)).full).toBe(3); // r, the SYNC above, r2
    } finally {
      await r2.stop();
    }
  });
});

describe("repl-diskless-sync", () => {
  test("a replica announcing capa eof gets the RDB as it is made, between '$EOF:<40 characters>' and the same 40 characters, then the stream", async () => {
    const m = await startRedbun();
    try {
      await m.c.cmd("SET", "k", "v");
      const tap = await Tap.open(m.port, "PSYNC", true);
      try {
        expect(tap.rdbHeader).toMatch(/^\$EOF:[0-9a-f]{40}$/);
        expect(tap.rdb!.latin1Slice(0, 9)).toBe("REDIS0010");
        expect(tap.rdb!.includes("\x01k")).toBe(true);
        await m.c.cmd("SET", "after", "1");
        await tap.waitForWrite("the SET", (a) => a[1] === "after");
        expect(tap.writes()).toEqual([["SELECT", "0"], ["SET", "after", "1"]]);
      } finally {
        tap.close();
      }
    } finally {
      await m.stop();
    }
  });

  test("with repl-diskless-sync no, or to a replica without capa eof, the RDB is one length-prefixed bulk", async () => {
    const m = await startRedbun({ "repl-diskless-sync": "no" });
    const m2 = await startRedbun();
    try {
      const [a, b] = [await Tap.open(m.port, "PSYNC", true), await Tap.open(m2.port, "PSYNC", false)];
      expect([a.rdbHeader, b.rdbHeader]).toEqual([`$${a.rdb!.length}`, `$${b.rdb!.length}`]);
      a.close();
      b.close();
    } finally {
      await m.stop();
      await m2.stop();
    }
  });

  test("repl-diskless-sync-delay holds a full sync for replicas to share one transfer; repl-diskless-sync-max-replicas starts it once that many wait", async () => {
    const m = await startRedbun({ "repl-diskless-sync-delay": 60, "repl-diskless-sync-max-replicas": 2 });
    const [r1, r2] = await Promise.all([startRedbun(), startRedbun()]);
    try {
      await m.c.cmd("SET", "k", "v");
      await replicaOf(r1, m);
      await waitFor("r1 waiting", async () => m.log().includes("Delay next BGSAVE for diskless SYNC") || "no delay logged");
      await Bun.sleep(1500); // past a replicationCron pass or two
      expect((await info(m.c)).slave0).toMatch(/state=wait_bgsave,/);
      expect((await info(r1.c)).master_link_status).toBe("down");
      expect((await info(m.c, "persistence")).rdb_bgsave_in_progress).toBe("0");
      await replicaOf(r2, m);
      await waitInSyncWithin(5000, m, r1, r2);
      expect(await r2.c.cmd("GET", "k")).toBe("v");
      expect(m.log().match(/Starting BGSAVE for SYNC with target: replicas sockets/g)?.length).toBe(1);
    } finally {
      await Promise.all([m.stop(), r1.stop(), r2.stop()]);
    }
  });

  test("a replica waiting for its delayed sync gets a newline each second, so it does not time the link out", async () => {
    const m = await startRedbun({ "repl-diskless-sync-delay": 60 });
    const r = await startRedbun({ "repl-timeout": 2 });
    try {
      await replicaOf(r, m);
      await Bun.sleep(4000);
      expect(r.log()).not.toContain("Timeout connecting to the MASTER");
      expect(((await r.c.cmd("ROLE")) as string[])[3]).toBe("handshake");
    } finally {
      await Promise.all([m.stop(), r.stop()]);
    }
  });

  test("a snapshot for replicas is a BGSAVE to INFO (rdb_bgsave_in_progress:1) while it runs", async () => {
    const m = await startRedbun({ "rdb-key-save-delay": 100000 }); // 0.1 s per key
    const r = await startRedbun();
    try {
      await pipeline(m.c, Array.from({ length: 20 }, (_, i) => ["SET", `k${i}`, "v"]));
      await replicaOf(r, m);
      await waitFor("the snapshot", async () => (await info(m.c, "persistence")).rdb_bgsave_in_progress === "1" || "not in progress");
      expect((await info(r.c)).master_sync_in_progress).toBe("1");
      await m.c.cmd("CONFIG", "SET", "rdb-key-save-delay", "0");
      await waitInSync(m, r);
      expect((await info(m.c, "persistence")).rdb_bgsave_in_progress).toBe("0");
      expect(await r.c.cmd("DBSIZE")).toBe(20);
    } finally {
      await Promise.all([m.stop(), r.stop()]);
    }
  });
});

describe("the replication stream", () => {
  let m: Node, r: Node;
  beforeAll(async () => { [m, r] = await primaryAndReplica(); });
  afterAll(async () => { await m.stop(); await r.stop(); });

  test("SET with EX, PX and EXAT, SETEX, PSETEX, GETEX and EXPIRE give the replica the master's absolute expiry time", async () => {
    const sec = Math.floor(Date.now() / 1000);
    expectNoErrors(await pipeline(m.c, [
      ["SET", "ex", "v", "EX", 100], ["SET", "px", "v", "PX", 100000], ["SET", "exat", "v", "EXAT", sec + 100], ["SETEX", "setex", 100, "v"],
      ["PSETEX", "psetex", 100000, "v"], ["SET", "getex", "v"], ["GETEX", "getex", "EX", 300], ["SET", "e1", "v"], ["EXPIRE", "e1", 50],
      ["SET", "e2", "v"], ["PEXPIRE", "e2", 50000], ["SET", "e3", "v", "EX", 10], ["PERSIST", "e3"], ["SET", "kept", "v", "EX", 100], ["SET", "kept", "w", "KEEPTTL"],
    ]));
    await waitInSync(m, r);
    const data = await expectSameData(m, r);
    for (const k of ["ex", "px", "setex", "psetex", "getex", "e1", "e2", "kept"]) expect(data[`0:${k}`].expireAt as number).toBeGreaterThan(Date.now());
    expect(data["0:exat"].expireAt).toBe((sec + 100) * 1000);
    expect(data["0:e3"].expireAt).toBe(-1);
  });

  test("INCRBYFLOAT, HINCRBYFLOAT and the other read-modify-writes leave the replica with the master's values", async () => {
    expectNoErrors(await pipeline(m.c, [
      ["SET", "f", "10.5"], ["INCRBYFLOAT", "f", "0.1"], ["INCRBYFLOAT", "f", "1e3"], ["HSET", "h", "a", "1"], ["HINCRBYFLOAT", "h", "a", "1.5"],
      ["INCR", "n"], ["INCRBY", "n", 41], ["DECRBY", "n", 2], ["APPEND", "s", "ab"], ["SETRANGE", "s", 5, "z"], ["GETSET", "gs", "1"], ["GETDEL", "s"],
      ["MSET", "a", "1", "b", "2"], ["MSETNX", "c", "3", "d", "4"], ["SETNX", "a", "9"],
    ]));
    await waitInSync(m, r);
    await expectSameData(m, r);
    expect(await r.c.cmd("GET", "f")).toBe("1010.59999999999999998"); // redis-server's long double result too
    expect(await r.c.cmd("HGET", "h", "a")).toBe("2.5");
  });

  test("SPOP with and without a count leaves the replica with exactly the master's remaining members", async () => {
    await m.c.cmd("SADD", "pool", ...Array.from({ length: 200 }, (_, i) => `m${i}`));
    await m.c.cmd("SADD", "ints", ...Array.from({ length: 100 }, (_, i) => i));
    for (let i = 0; i < 5; i++) await m.c.cmd("SPOP", "pool");
    await m.c.cmd("SPOP", "pool", 50);
    await m.c.cmd("SPOP", "ints", 30);
    await m.c.cmd("SADD", "tiny", "a", "b");
    await m.c.cmd("SPOP", "tiny", 10);
    await waitInSync(m, r);
    const data = await expectSameData(m, r);
    expect((data["0:pool"].value as string[]).length).toBe(145);
    expect((data["0:ints"].value as string[]).length).toBe(70);
    expect(data["0:tiny"]).toBeUndefined();
  });

  test("list, hash, set and sorted-set writes, and the STORE commands, reach the replica", async () => {
    expectNoErrors(await pipeline(m.c, [
      ["RPUSH", "l", "a", "b", "c", "d", "e", "f"], ["LPOP", "l"], ["RPOP", "l", 2], ["LMOVE", "l", "l2", "LEFT", "RIGHT"], ["LINSERT", "l", "AFTER", "c", "x"],
      ["LSET", "l", 0, "first"], ["LREM", "l", 0, "x"], ["LMPOP", 1, "l2", "RIGHT", "COUNT", 5], ["RPUSH", "lt", 1, 2, 3, 4, 5], ["LTRIM", "lt", 1, 2],
      ["HSET", "hh", "a", "1", "b", "2"], ["HDEL", "hh", "a"], ["HSETNX", "hh", "c", "3"], ["HINCRBY", "hh", "b", 5],
      ["SADD", "s1", "a", "b", "c"], ["SADD", "s2", "b", "c", "d"], ["SREM", "s1", "a"], ["SMOVE", "s2", "s1", "d"], ["SINTERSTORE", "si", "s1", "s2"],
      ["SUNIONSTORE", "su", "s1", "s2"], ["SDIFFSTORE", "sd", "s1", "s2"],
      ["ZADD", "z", 1, "a", 2, "b", 3, "c", 4, "d"], ["ZINCRBY", "z", 10, "a"], ["ZREM", "z", "b"], ["ZPOPMIN", "z"], ["ZPOPMAX", "z"], ["ZADD", "z2", 5, "q", 6, "c"],
      ["ZUNIONSTORE", "zu", 2, "z", "z2", "WEIGHTS", 2, 3], ["ZINTERSTORE", "zi", 2, "z", "z2"], ["ZRANGESTORE", "zr", "zu", 0, 0], ["ZREMRANGEBYSCORE", "zu", 0, 12],
      ["ZMPOP", 1, "z2", "MIN"],
    ]));
    await waitInSync(m, r);
    await expectSameData(m, r);
  });

  test("pops of clients blocked until a later write reach the replica as the pops the master made", async () => {
    const b = await RawClient.connect(m.port);
    try {
      for (const [blocking, feed, served] of [
        [["BLPOP", "q1", 0], ["RPUSH", "q1", "x", "y"], ["q1", "x"]],
        [["BRPOP", "q2", 0], ["LPUSH", "q2", "p", "q"], ["q2", "p"]],
        [["BLMOVE", "q3", "q3dst", "LEFT", "RIGHT", 0], ["RPUSH", "q3", "e", "f"], "e"],
        [["BRPOPLPUSH", "q4", "q4dst", 0], ["RPUSH", "q4", "e", "f"], "f"],
        [["BZPOPMIN", "q5", 0], ["ZADD", "q5", 1, "m", 2, "n"], ["q5", "m", "1"]],
        [["BZPOPMAX", "q6", 0], ["ZADD", "q6", 1, "m", 2, "n"], ["q6", "n", "2"]],
        [["BLMPOP", 0, 1, "q7", "RIGHT", "COUNT", 2], ["RPUSH", "q7", "a", "b", "c"], ["q7", ["c", "b"]]],
        [["BZMPOP", 0, 1, "q8", "MIN"], ["ZADD", "q8", 1, "a", 2, "b"], ["q8", [["a", "1"]]]],
      ] as [(string | number)[], (string | number)[], Reply][]) {
        await block(b, m.c, ...blocking);
        await m.c.cmd(...feed);
        expect(await b.read()).toEqual(served);
      }
      await waitInSync(m, r);
      const data = await expectSameData(m, r);
      expect(data["0:q1"].value).toEqual(["y"]);
      expect(data["0:q3dst"].value).toEqual(["e"]);
      expect(data["0:q7"].value).toEqual(["a"]);
    } finally {
      b.close();
    }
  });

  test("stream writes and consumer-group reads leave the replica with the master's entries, groups and pending lists", async () => {
    const b = await RawClient.connect(m.port);
    try {
      expectNoErrors(await pipeline(m.c, [
        ["XADD", "st", "1-0", "a", "1"], ["XADD", "st", "2-0", "b", "2"], ["XADD", "st", "3-0", "c", "3"], ["XADD", "st", "4-0", "d", "4"], ["XDEL", "st", "3-0"],
        ["XGROUP", "CREATE", "st", "g", "0"], ["XGROUP", "CREATE", "st", "h", "$"], ["XREADGROUP", "GROUP", "g", "alice", "COUNT", 2, "STREAMS", "st", ">"],
        ["XREADGROUP", "GROUP", "h", "bob", "NOACK", "STREAMS", "st", "0"], ["XACK", "st", "g", "1-0"], ["XCLAIM", "st", "g", "carol", 0, "2-0"],
        ["XADD", "st", "MAXLEN", 10, "*", "e", "5"], ["XTRIM", "st", "MINID", "2-0"], ["XADD", "auto", "*", "f", "v"], ["XGROUP", "SETID", "st", "g", "$"],
      ]));
      await block(b, m.c, "XREADGROUP", "GROUP", "g", "dave", "BLOCK", 0, "STREAMS", "st", ">");
      await m.c.cmd("XADD", "st", "*", "late", "1");
      expect(((await b.read()) as Reply[][])[0][0]).toBe("st");
      await waitInSync(m, r);
      const data = await expectSameData(m, r);
      expect(Object.keys(data).filter((k) => data[k].type === "stream").sort()).toEqual(["0:auto", "0:st"]);
      expect(await r.c.cmd("XPENDING", "st", "g")).toEqual(await m.c.cmd("XPENDING", "st", "g"));
    } finally {
      b.close();
      await m.c.cmd("DEL", "st", "auto"); // so a difference here does not spoil the next tests
    }
  });

  test("a MULTI/EXEC transaction reaches the replica whole, including the commands that ran after one that failed", async () => {
    const replies = await pipeline(m.c, [["MULTI"], ["SET", "t", "1"], ["INCR", "t"], ["LPUSH", "t", "x"], ["RPUSH", "tl", "a"], ["SELECT", 2], ["SET", "t2", "v"], ["EXEC"], ["SELECT", 0]]);
    expect(replies[7]).toBe("*6\r\n+OK\r\n:2\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n:1\r\n+OK\r\n+OK\r\n");
    await waitInSync(m, r);
    await expectSameData(m, r);
    expect(await r.c.cmd("GET", "t")).toBe("2");
  });

  test("SELECT, SWAPDB, MOVE and COPY across dbs keep every db of the replica equal to the master's", async () => {
    expectNoErrors(await pipeline(m.c, [
      ["SELECT", 3], ["SET", "in3", "v"], ["RPUSH", "l3", "a"], ["SELECT", 4], ["SET", "in4", "w"], ["SWAPDB", 3, 4], ["SELECT", 0],
      ["SET", "mv", "1"], ["MOVE", "mv", 6], ["SET", "cp", "2"], ["COPY", "cp", "cp", "DB", 5], ["RENAME", "cp", "cp2"], ["SWAPDB", 0, 8], ["SWAPDB", 0, 8],
    ]));
    await waitInSync(m, r);
    const data = await expectSameData(m, r);
    expect(data["4:in3"].value).toBe("v");
    expect(data["3:in4"].value).toBe("w");
    expect(data["6:mv"].value).toBe("1");
    expect(data["5:cp"].value).toBe("2");
  });

  test("keys expired by a lookup and by the active cycle leave the replica as DELs", async () => {
    await m.c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", 0);
    await m.c.cmd("SET", "lazy", "v", "PX", 30);
    await waitInSync(m, r);
    const size = Number(await r.c.cmd("DBSIZE"));
    await waitFor("lazy to expire", async () => (await r.c.cmd("EXISTS", "lazy")) === 0 || "still there");
    expect(await m.c.cmd("GET", "lazy")).toBe(null);
    await waitFor("the DEL of lazy", async () => (await r.c.cmd("DBSIZE")) === size - 1 || "not yet");
    await m.c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", 1);
    await m.c.cmd("SET", "active", "v", "PX", 30);
    await waitFor("the active cycle's DEL of active", async () => (await r.c.cmd("DBSIZE")) === size - 1 && (await info(m.c, "stats")).expired_keys === "2" || "not yet");
    await waitInSync(m, r);
    await expectSameData(m, r);
  });

  test("FLUSHDB and FLUSHALL empty the replica too", async () => {
    await m.c.cmd("SELECT", 3);
    await m.c.cmd("FLUSHDB");
    await m.c.cmd("SELECT", 0);
    await waitInSync(m, r);
    expect(Object.keys(await dataset(r.port)).some((k) => k.startsWith("3:"))).toBe(false);
    await expectSameData(m, r);
    await m.c.cmd("FLUSHALL");
    await m.c.cmd("SET", "only", "1");
    await waitInSync(m, r);
    expect(Object.keys(await dataset(r.port))).toEqual(["0:only"]);
  });
});

describe("masterauth", () => {
  let m: Node;
  beforeAll(async () => { m = await startRedbun({ requirepass: "s3cret" }); });
  afterAll(async () => { await m.stop(); });

  test("a replica with the master's password syncs; one without it stays down and says so in INFO", async () => {
    expect(await m.c.raw("AUTH", "s3cret")).toBe("+OK\r\n");
    await m.c.cmd("SET", "k", "v");
    const [good, bad] = await Promise.all([startRedbun({ masterauth: "s3cret" }), startRedbun()]);
    try {
      await replicaOf(good, m);
      await replicaOf(bad, m);
      await waitInSync(m, good);
      expect(await good.c.raw("GET", "k")).toBe("$1\r\nv\r\n");
      expect((await info(m.c)).connected_slaves).toBe("1");
      const i = await info(bad.c);
      expect([i.master_link_status, i.slave_repl_offset]).toEqual(["down", "0"]);
      expect(await bad.c.raw("GET", "k")).toBe("$-1\r\n");
    } finally {
      await good.stop();
      await bad.stop();
    }
  });
});

describe("a command split across socket reads", () => {
  // M → A → B, each fed a 300 kB SET that reaches the replica in several reads.
  let m: Node, a: Node, b: Node;
  beforeAll(async () => {
    [m, a, b] = await Promise.all([startRedbun(), startRedbun(), startRedbun()]);
    await replicaOf(a, m);
    await waitInSync(m, a);
    await replicaOf(b, a);
    await waitInSync(a, b);
    await m.c.cmd("SET", "huge", "h".repeat(300_000));
    await m.c.cmd("SET", "after", "1");
  });
  afterAll(async () => { await m.stop(); await a.stop(); await b.stop(); });

  test("is applied by the replica and counted whole in its offset, so the offsets still agree", async () => {
    await waitFor("the replica to apply both", async () => (await a.c.cmd("GET", "after")) === "1" || "not yet");
    expect(await a.c.cmd("STRLEN", "huge")).toBe(300_000);
    await waitInSyncWithin(3000, m, a);
  });

  test("a small command that arrives in two pieces is counted whole in the offset the replica acks", async () => {
    const tap = await Tap.open(m.port); // just for a valid RDB
    tap.close();
    const fake = FakeMaster.start(tap.rdb!);
    const r = await startRedbun();
    try {
      expect(await r.c.raw("REPLICAOF", "127.0.0.1", fake.port)).toBe("+OK\r\n");
      await waitFor("the replica's first ack", async () => fake.acks.length > 0 || "none yet");
      expect(fake.acks[0]).toBe(0);
      const cmd = encode(["SET", "k", "v"]).latin1Slice();
      fake.send(cmd.slice(0, 20)); // "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$"
      await Bun.sleep(50);
      fake.send(cmd.slice(20));
      const getack = encode(["REPLCONF", "GETACK", "*"]).latin1Slice();
      fake.send(getack);
      await waitFor("the replica to apply it", async () => (await r.c.cmd("GET", "k")) === "v" || "not yet");
      await waitFor("an ack after the GETACK", async () => fake.acks.length > 1 || "none yet");
      // What a replica acks for GETACK is its offset before the GETACK itself.
      expect(fake.acks[1]).toBe(cmd.length);
      expect((await info(r.c)).slave_repl_offset).toBe(String(cmd.length + getack.length));
    } finally {
      await r.stop();
      fake.stop();
    }
  });

  test("reaches the end of a chain intact: the middle proxies every byte of it", async () => {
    await waitFor("the end of the chain to apply both", async () => (await b.c.cmd("GET", "after")) === "1" || `after is ${await b.c.cmd("GET", "after")}`, 3000);
    expect(await b.c.cmd("STRLEN", "huge")).toBe(300_000);
    await waitInSyncWithin(3000, a, b);
  });
});

describe("a master that misbehaves", () => {
  // The smallest RDB: the header, EOF, and a zero checksum (not checked).
  const EMPTY_RDB = Buffer.concat([Buffer.from("REDIS0010", "latin1"), Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 0])]);
  const FULLRESYNC = `+FULLRESYNC ${"a".repeat(40)} 0\r\n`;
  const SET_K = encode(["SET", "k", "v"]).latin1Slice();
  let r: Node;
  beforeAll(async () => { r = await startRedbun({ "repl-timeout": 1 }); });
  afterAll(async () => { await r.stop(); });

  /** Points the replica at a fake master, waits until it has connected `times` times, and
   *  returns to being a master. */
  async function expectRetries(fake: FakeMaster, times: number, ms = 8000): Promise<void> {
    try {
      expect(await r.c.raw("REPLICAOF", "127.0.0.1", fake.port)).toBe("+OK\r\n");
      await waitFor(`${times} connection attempts`, async () => fake.connections >= times || `${fake.connections} so far`, ms);
      expect((await info(r.c)).master_link_status).toBe("down");
    } finally {
      await r.c.cmd("REPLICAOF", "NO", "ONE");
      fake.stop();
    }
  }

  test("one that never answers the handshake: it times out after repl-timeout and is tried again", async () => {
    await expectRetries(FakeMaster.start(EMPTY_RDB, { silent: true }), 2);
    expect(r.log()).toContain("Timeout connecting to the MASTER...");
  });

  test("one that stops in the middle of the RDB: the transfer times out and is tried again", async () => {
    await expectRetries(FakeMaster.start(EMPTY_RDB, { psync: Buffer.from(`${FULLRESYNC}$1000\r\nREDIS0010`, "latin1") }), 2);
    expect(r.log()).toContain("Timeout receiving bulk data from MASTER...");
  });

  test("a +FULLRESYNC without an ID and offset is refused; the offsets stay numbers", async () => {
    await expectRetries(FakeMaster.start(EMPTY_RDB, { psync: Buffer.from("+FULLRESYNC\r\n$18\r\n", "latin1") }), 2);
    expect(r.log()).toContain("Master replied with wrong +FULLRESYNC syntax");
    expect((await info(r.c)).master_repl_offset).toMatch(/^\d+$/);
  });

  test("a payload length that is not a number is refused", async () => {
    await expectRetries(FakeMaster.start(EMPTY_RDB, { psync: Buffer.from(`${FULLRESYNC}$abc\r\n`, "latin1") }), 2);
    expect(r.log()).toContain("Bad protocol from MASTER: '$abc' is neither a payload length nor an EOF mark");
  });

  test("a diskless payload with the stream right behind its EOF mark, in the same read, is loaded and the stream applied", async () => {
    const mark = "0123456789".repeat(4);
    const fake = FakeMaster.start(EMPTY_RDB, { psync: Buffer.from(`${FULLRESYNC}$EOF:${mark}\r\n${EMPTY_RDB.latin1Slice()}${mark}${SET_K}`, "latin1") });
    try {
      expect(await r.c.raw("REPLICAOF", "127.0.0.1", fake.port)).toBe("+OK\r\n");
      await waitFor("the SET after the payload", async () => (await r.c.cmd("GET", "k")) === "v" || "not yet");
      expect((await info(r.c)).master_link_status).toBe("up");
      expect(fake.connections).toBe(1);
    } finally {
      await r.c.cmd("REPLICAOF", "NO", "ONE");
      fake.stop();
    }
  });

  test("an EOF mark split across two reads still ends the payload", async () => {
    const mark = "abcdefghij".repeat(4);
    const fake = FakeMaster.start(EMPTY_RDB, { psync: Buffer.from(`${FULLRESYNC}$EOF:${mark}\r\n${EMPTY_RDB.latin1Slice()}${mark.slice(0, 25)}`, "latin1") });
    try {
      await r.c.cmd("DEL", "k");
      expect(await r.c.raw("REPLICAOF", "127.0.0.1", fake.port)).toBe("+OK\r\n");
      await waitFor("the handshake", async () => fake.synced || "not yet");
      await Bun.sleep(50);
      fake.send(mark.slice(25) + SET_K);
      await waitFor("the SET after the payload", async () => (await r.c.cmd("GET", "k")) === "v" || "not yet");
    } finally {
      await r.c.cmd("REPLICAOF", "NO", "ONE");
      fake.stop();
    }
  });
});

describe("repl-diskless-load", () => {
  /** A master that makes its RDB slowly (10 ms a key, 300 keys) for a replica with repl-diskless-load
   *  swapdb, which holds keys of its own (DBSIZE 101). */
  async function slowTransfer(replicaParams: Record<string, string | number> = {}): Promise<[Node, Node]> {
    const [m, r] = await Promise.all([startRedbun({ "rdb-key-save-delay": 10000 }), startRedbun({ "repl-diskless-load": "swapdb", ...replicaParams })]);
    await m.c.cmd("DEBUG", "POPULATE", "300", "master", "10");
    await r.c.cmd("DEBUG", "POPULATE", "100", "replica", "10");
    await r.c.cmd("SET", "mykey", "myvalue");
    return [m, r];
  }

  test("swapdb: while the RDB arrives the replica is loading (-LOADING); a failed transfer leaves its old data and is retried at once", async () => {
    const [m, r] = await slowTransfer();
    try {
      await replicaOf(r, m);
      await waitFor("loading", async () => (await info(r.c, "persistence")).loading === "1" || "not loading");
      expect((await info(r.c, "persistence")).async_loading).toBe("0");
      expect(await r.c.raw("GET", "mykey")).toBe("-LOADING Redis is loading the dataset in memory\r\n");
      expect(await r.c.raw("CONFIG", "SET", "appendonly", "no")).toBe("-LOADING Redis is loading the dataset in memory\r\n");
      await m.c.cmd("CONFIG", "SET", "repl-diskless-sync-delay", "60"); // no new sync at once
      expect(await m.c.cmd("CLIENT", "KILL", "TYPE", "replica")).toBe(1);
      await waitFor("the end of loading", async () => (await info(r.c, "persistence")).loading === "0" || "still loading");
      expect([await r.c.cmd("GET", "mykey"), await r.c.cmd("DBSIZE")]).toEqual(["myvalue", 101]);
      expect(r.log()).toMatch(/Internal error in RDB reading offset \d+: Unexpected EOF reading RDB file/);
      // It asks again at once, as Redis's replica does after a failed transfer; the master stopped
      // the snapshot nobody read any more.
      expect(r.log()).toContain(`Reconnecting to MASTER 127.0.0.1:${m.port} after failure`);
      expect(m.log()).toContain("Diskless rdb transfer, last replica dropped, killing fork child.");
    } finally {
      await Promise.all([m.stop(), r.stop()]);
    }
  });

  test("swapdb, the master's history being the replica's own: async loading, the old data served, REPLICAOF and CONFIG SET appendonly refused", async () => {
    const [m, r] = await slowTransfer({ "replica-read-only": "no" });
    try {
      await m.c.cmd("CONFIG", "SET", "rdb-key-save-delay", "0");
      await replicaOf(r, m);
      await waitInSync(m, r);
      await r.c.cmd("SET", "mykey", "myvalue"); // writable replica: its own key
      await m.c.cmd("CONFIG", "SET", "rdb-key-save-delay", "10000");
      // A full resync again (the backlog no longer has what the replica lacks), with the same history.
      await m.c.cmd("CONFIG", "SET", "repl-backlog-size", "16384");
      await pipeline(m.c, [["MULTI"], ["CLIENT", "KILL", "TYPE", "replica"], ...Array.from({ length: 4 }, (_, i) => ["SET", `big${i}`, "A".repeat(16384)]), ["EXEC"]]);
      await waitFor("async loading", async () => (await info(r.c, "persistence")).async_loading === "1" || "not async loading");
      expect((await info(r.c, "persistence")).loading).toBe("0");
      expect(await r.c.cmd("GET", "mykey")).toBe("myvalue");
      expect(await r.c.raw("REPLICAOF", "NO", "ONE")).toBe("-LOADING Redis is loading the dataset in memory\r\n");
      expect(await r.c.raw("CONFIG", "SET", "appendonly", "no")).toBe("-LOADING Redis is loading the dataset in memory\r\n");
      await m.c.cmd("CONFIG", "SET", "rdb-key-save-delay", "0");
      await waitInSync(m, r);
      expect((await info(r.c, "persistence")).async_loading).toBe("0");
      expect(await r.c.cmd("GET", "mykey")).toBe(null);
    } finally {
      await Promise.all([m.stop(), r.stop()]);
    }
  });
});

describe("a replica running a busy script", () => {
  test("holds the master's stream until the script ends, then applies all of it (no write answered -BUSY and lost)", async () => {
    const [m, r] = await primaryAndReplica();
    const [script, ctl] = [await RawClient.connect(r.port), await RawClient.connect(r.port)];
    try {
      await r.c.cmd("CONFIG", "SET", "busy-reply-threshold", "100");
      script.send("EVAL", "while true do end", "0");
      await waitFor("the script to be busy", async () => String(await ctl.raw("PING")).startsWith("-BUSY") || "not busy yet");
      await m.c.cmd("SET", "a", "1");
      for (let i = 0; i < 10; i++) await m.c.cmd("INCR", "n");
      await Bun.sleep(300);
      expect(await ctl.cmd("SCRIPT", "KILL")).toBe("OK");
      await waitInSync(m, r);
      expect([await r.c.cmd("GET", "a"), await r.c.cmd("GET", "n")]).toEqual(["1", "10"]);
      expect(r.log()).not.toContain("This replica is sending an error to its master");
    } finally {
      script.close();
      ctl.close();
      await Promise.all([m.stop(), r.stop()]);
    }
  });
});

describe("a read-only replica", () => {
  let m: Node, r: Node;
  beforeAll(async () => {
    [m, r] = await primaryAndReplica(async (m) => { await m.c.cmd("SET", "k", "v"); });
  });
  afterAll(async () => { await m.stop(); await r.stop(); });

  test("refuses every write with -READONLY and the exact text, and still answers reads", async () => {
    for (const w of [["SET", "k", "w"], ["DEL", "k"], ["LPUSH", "l", "a"], ["EXPIRE", "k", 10], ["FLUSHALL"], ["INCRBYFLOAT", "k", 1]]) {
      expect(await r.c.raw(...w)).toBe("-READONLY You can't write against a read only replica.\r\n");
    }
    expect(await r.c.raw("GET", "k")).toBe("$1\r\nv\r\n");
    expect((await info(r.c, "errorstats")).errorstat_READONLY).toBe("count=6");
  });

  test("a write queued in MULTI is refused at once and EXEC discards the transaction", async () => {
    expect(await pipeline(r.c, [["MULTI"], ["GET", "k"], ["SET", "k", "w"], ["EXEC"]])).toEqual([
      "+OK\r\n", "+QUEUED\r\n", "-READONLY You can't write against a read only replica.\r\n",
      "-EXECABORT Transaction discarded because of previous errors.\r\n",
    ]);
  });

  test("INFO says slave_read_only:1, and with replica-read-only no a local write is accepted", async () => {
    expect((await info(r.c)).slave_read_only).toBe("1");
    expect(await r.c.raw("CONFIG", "SET", "replica-read-only", "no")).toBe("+OK\r\n");
    try {
      expect((await info(r.c)).slave_read_only).toBe("0");
      expect(await r.c.raw("SET", "local", "1")).toBe("+OK\r\n");
      expect(await r.c.raw("GET", "local")).toBe("$1\r\n1\r\n");
      expect(await m.c.raw("EXISTS", "local")).toBe(":0\r\n");
    } finally {
      await r.c.cmd("CONFIG", "SET", "replica-read-only", "yes");
    }
  });
});

describe("DEBUG LOADAOF on a read-only replica", () => {
  /** A server with appendonly yes gets a function, keys in two databases and keys DEBUG POPULATE
   *  makes (which no AOF records), becomes a read-only replica of a master that is not there, runs
   *  DEBUG LOADAOF, is promoted again, and reports what it then holds. */
  async function loadAofScenario(start: (p: Record<string, string | number>) => Promise<Node>): Promise<Record<string, unknown>> {
    const n = await start({ appendonly: "yes" });
    try {
      const lib = "#!lua name=aoflib\nredis.register_function('aoffn', function(keys, args) return 'from aoflib' end)";
      expectNoErrors(await pipeline(n.c, [["FUNCTION", "LOAD", lib], ["SET", "k", "v"], ["RPUSH", "l", "a", "b"], ["SELECT", 3], ["HSET", "h", "f", "1"], ["SELECT", 0], ["DEBUG", "POPULATE", "3", "populated"]]));
      const seen: Record<string, unknown> = {
        replicaof: await n.c.raw("REPLICAOF", "127.0.0.1", 0),
        readOnly: [await n.c.cmd("CONFIG", "GET", "replica-read-only"), await n.c.raw("SET", "x", "1")],
        loadaof: await n.c.raw("DEBUG", "LOADAOF"),
        promoted: await n.c.raw("REPLICAOF", "NO", "ONE"),
      };
      seen.data = await dataset(n.port);
      seen.fcall = await n.c.raw("FCALL", "aoffn", 0);
      seen.libraries = ((await n.c.cmd("FUNCTION", "LIST")) as Reply[][]).map((l) => l[1]);
      seen.logged = n.log().includes("Append Only File loaded by DEBUG LOADAOF");
      return seen;
    } finally {
      await n.stop();
    }
  }
  const expected = {
    replicaof: "+OK\r\n",
    readOnly: [["replica-read-only", "yes"], "-READONLY You can't write against a read only replica.\r\n"],
    loadaof: "+OK\r\n", promoted: "+OK\r\n",
    // The AOF's writes and FUNCTION LOAD came back; the DEBUG POPULATE keys, never in the AOF, did
    // not: the databases were emptied and replayed.
    data: {
      "0:k": { type: "string", value: "v", expireAt: -1 },
      "0:l": { type: "list", value: ["a", "b"], expireAt: -1 },
      "3:h": { type: "hash", value: [["f", "1"]], expireAt: -1 },
    },
    fcall: "$11\r\nfrom aoflib\r\n", libraries: ["aoflib"], logged: true,
  };

  test("replays the AOF's writes and FUNCTION LOADs although the replica refuses writes from clients", async () => {
    expect(await loadAofScenario(startRedbun)).toEqual(expected);
  });

  test.skipIf(noRedis)("redis-server replays the same", async () => {
    expect(await loadAofScenario(startRedis)).toEqual(expected);
  });
});

describe("expiry on a replica", () => {
  let m: Node, r: Node;
  beforeAll(async () => { [m, r] = await primaryAndReplica(); });
  afterAll(async () => { await m.stop(); await r.stop(); });

  test("a key past its TTL reads as missing on the replica but is deleted only when the master's DEL arrives", async () => {
    await m.c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", 0);
    await m.c.cmd("SET", "keep", "v");
    const t = Date.now();
    await m.c.cmd("SET", "k", "v", "PX", 1000);
    await waitInSync(m, r);
    const live = await r.c.raw("GET", "k");
    if (Date.now() - t < 800) expect(live).toBe("$1\r\nv\r\n"); // else the machine was too slow to see it live
    await waitFor("k to be past its TTL on the replica", async () => (await r.c.cmd("EXISTS", "k")) === 0 || "still live");
    expect(await pipeline(r.c, [["GET", "k"], ["EXISTS", "k"], ["TTL", "k"], ["PTTL", "k"], ["TYPE", "k"], ["KEYS", "*"], ["DBSIZE"]])).toEqual([
      "$-1\r\n", ":0\r\n", ":-2\r\n", ":-2\r\n", "+none\r\n", "*1\r\n$4\r\nkeep\r\n", ":2\r\n",
    ]);
    // The replica's own cron never deletes it: a few cycles later it is still counted.
    await Bun.sleep(300);
    expect(await r.c.raw("DBSIZE")).toBe(":2\r\n");
    expect((await info(r.c, "stats")).expired_keys).toBe("0");
    expect(await m.c.raw("DBSIZE")).toBe(":2\r\n");
    // A lookup on the master expires it there, and the DEL it propagates deletes it here.
    expect(await m.c.raw("GET", "k")).toBe("$-1\r\n");
    await waitFor("the master's DEL", async () => (await r.c.cmd("DBSIZE")) === 1 || "still counted");
    await waitInSync(m, r);
  });

  test("the master's active expiry cycle removes the key from the replica", async () => {
    await m.c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", 1);
    await m.c.cmd("SET", "k2", "v", "PX", 50);
    await waitInSync(m, r);
    await waitFor("the active cycle's DEL", async () => (await r.c.cmd("DBSIZE")) === 1 || "still counted");
    expect(await r.c.raw("KEYS", "*")).toBe("*1\r\n$4\r\nkeep\r\n");
  });

  test("on a writable replica, keys its own clients gave a TTL expire there; the master's expired keys are deleted by a local write", async () => {
    await r.c.cmd("CONFIG", "SET", "replica-read-only", "no");
    try {
      await r.c.cmd("SELECT", 5);
      for (const k of ["own1", "own2"]) expect(await r.c.raw("SET", k, "1", "PX", 100)).toBe("+OK\r\n");
      expect(await r.c.raw("DBSIZE")).toBe(":2\r\n");
      await waitFor("the replica's own keys to expire", async () => (await r.c.cmd("DBSIZE")) === 0 || "still counted");
      expect(await m.c.raw("DBSIZE")).toBe(":1\r\n"); // the master never had them
      // A key from the master, past its TTL with the master's expiry off, is only hidden ...
      await r.c.cmd("SELECT", 0);
      await m.c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", 0);
      await m.c.cmd("SET", "m1", "5", "PX", 10);
      await m.c.cmd("SET", "m2", "5", "PX", 10);
      await waitInSync(m, r);
      await waitFor("m1 and m2 to be past their TTL", async () => (await r.c.cmd("EXISTS", "m1", "m2")) === 0 || "still live");
      expect(await r.c.raw("DBSIZE")).toBe(":3\r\n");
      // ... until a write of the replica's own client looks it up: INCR expires and re-creates it.
      expect(await r.c.raw("INCR", "m1")).toBe(":1\r\n");
      expect(await r.c.raw("TTL", "m1")).toBe(":-1\r\n");
      expect(await r.c.raw("GET", "m2")).toBe("$-1\r\n");
      expect(await r.c.raw("DBSIZE")).toBe(":3\r\n");
    } finally {
      await r.c.cmd("CONFIG", "SET", "replica-read-only", "yes");
      await m.c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", 1);
    }
  });
});

describe("INFO replication and ROLE", () => {
  let m: Node, r: Node;
  beforeAll(async () => { [m, r] = await Promise.all([startRedbun(), startRedbun()]); });
  afterAll(async () => { await m.stop(); await r.stop(); });

  test("a master without replicas has no backlog and offset 0", async () => {
    const i = await info(m.c);
    expect(i.master_replid).toMatch(/^[0-9a-f]{40}$/);
    expect(withFields(i, { master_replid: "<id>" })).toEqual({
      role: "master", connected_slaves: "0", master_failover_state: "no-failover", master_replid: "<id>", master_replid2: "0".repeat(40),
      master_repl_offset: "0", second_repl_offset: "-1", repl_backlog_active: "0", repl_backlog_size: "1048576",
      repl_backlog_first_byte_offset: "0", repl_backlog_histlen: "0",
    });
    expect(await m.c.raw("ROLE")).toBe("*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n");
  });

  test("two Redbun processes have different replication IDs", async () => {
    expect((await info(m.c)).master_replid).not.toBe((await info(r.c)).master_replid);
  });

  test("once in sync, both sides report Redis's fields and the offsets agree", async () => {
    await m.c.cmd("SET", "a", "1");
    await replicaOf(r, m);
    await waitInSync(m, r);
    await m.c.cmd("SET", "b", "2");
    expect(await m.c.cmd("WAIT", 1, 2000)).toBe(1);
    await waitAcked(m, 1);
    const [mi, ri] = [await info(m.c), await info(r.c)];
    const off = mi.master_repl_offset;
    expect(Number(off)).toBeGreaterThan(0);
    expect(withFields(mi, { slave0: mi.slave0.replace(/lag=\d+$/, "lag=<n>") })).toEqual({
      role: "master", connected_slaves: "1", slave0: `ip=127.0.0.1,port=${r.port},state=online,offset=${off},lag=<n>`,
      master_failover_state: "no-failover", master_replid: mi.master_replid, master_replid2: "0".repeat(40), master_repl_offset: off,
      second_repl_offset: "-1", repl_backlog_active: "1", repl_backlog_size: "1048576", repl_backlog_first_byte_offset: "1", repl_backlog_histlen: off,
    });
    expect(Number(/lag=(\d+)$/.exec(mi.slave0)![1])).toBeLessThanOrEqual(1);
    expect(Number(ri.master_last_io_seconds_ago)).toBeLessThanOrEqual(1);
    expect(Number(ri.master_last_io_seconds_ago)).toBeGreaterThanOrEqual(0);
    expect(withFields(ri, { master_last_io_seconds_ago: "<n>", repl_backlog_first_byte_offset: "<n>", repl_backlog_histlen: "<n>" })).toEqual({
      role: "slave", master_host: "127.0.0.1", master_port: String(m.port), master_link_status: "up", master_last_io_seconds_ago: "<n>",
      master_sync_in_progress: "0", slave_read_repl_offset: off, slave_repl_offset: off, slave_priority: "100", slave_read_only: "1",
      replica_announced: "1", connected_slaves: "0", master_failover_state: "no-failover", master_replid: mi.master_replid,
      master_replid2: "0".repeat(40), master_repl_offset: off, second_repl_offset: "-1", repl_backlog_active: "1", repl_backlog_size: "1048576",
      repl_backlog_first_byte_offset: "<n>", repl_backlog_histlen: "<n>",
    });
    // The replica's backlog holds what it received since its full sync, ending at the same offset.
    expect(Number(ri.repl_backlog_first_byte_offset) + Number(ri.repl_backlog_histlen) - 1).toBe(Number(off));
    expect(await m.c.cmd("ROLE")).toEqual(["master", Number(off), [["127.0.0.1", String(r.port), off]]]);
    expect(await r.c.cmd("ROLE")).toEqual(["slave", "127.0.0.1", m.port, "connected", Number(off)]);
  });

  test("the master's offset counts the bytes of the stream exactly as a replica receives them", async () => {
    const tap = await Tap.open(m.port);
    try {
      await m.c.cmd("SET", "c", "3");
      await m.c.cmd("SELECT", 2);
      await m.c.cmd("RPUSH", "l", "x", "y");
      await m.c.cmd("SELECT", 0);
      await tap.waitForWrite("RPUSH", (a) => a[0] === "RPUSH");
      expect(tap.replid).toBe((await info(m.c)).master_replid);
      expect(tap.startOffset + tap.streamBytes).toBe(Number((await info(m.c)).master_repl_offset));
      expect(tap.writes()).toEqual([["SELECT", "0"], ["SET", "c", "3"], ["SELECT", "2"], ["RPUSH", "l", "x", "y"]]);
      await waitInSync(m, r);
    } finally {
      tap.close();
    }
  });

  // CLIENT LIST flags a replica's connection S on its master and the link to the master M on the
  // replica (CLIENT LIST TYPE replica / TYPE master select them).
  test("CLIENT LIST flags a replica's connection S on the master, and the master's link M on the replica, as redis-server does", async () => {
    const [master, replica] = await primaryAndReplica();
    try {
      const flagsOf = async (n: Node, type: string) => String(await n.c.cmd("CLIENT", "LIST", "TYPE", type)).trim().split("\n").map((l) => /flags=(\S+)/.exec(l)?.[1]);
      expect(await flagsOf(master, "replica")).toEqual(["S"]);
      expect(await flagsOf(replica, "master")).toEqual(["M"]);
    } finally {
      await master.stop();
      await replica.stop();
    }
  });
});

describe("WAIT", () => {
  let m: Node, r: Node, alone: Node;
  beforeAll(async () => {
    [m, r, alone] = await Promise.all([startRedbun(), startRedbun(), startRedbun()]);
    await replicaOf(r, m);
    await waitInSync(m, r);
  });
  afterAll(async () => { await m.stop(); await r.stop(); await alone.stop(); });

  test("without replicas answers 0 at once for 0 replicas, and 0 after the timeout for more", async () => {
    await alone.c.cmd("SET", "k", "v");
    let t = performance.now();
    expect(await alone.c.raw("WAIT", 0, 5000)).toBe(":0\r\n");
    expect(performance.now() - t).toBeLessThan(500);
    t = performance.now();
    expect(await alone.c.raw("WAIT", 1, 200)).toBe(":0\r\n");
    expect(performance.now() - t).toBeGreaterThanOrEqual(190);
  });

  test("answers 1 soon after a write, once the replica acknowledged it", async () => {
    await m.c.cmd("SET", "k", "v");
    const t = performance.now();
    expect(await m.c.raw("WAIT", 1, 5000)).toBe(":1\r\n");
    // The master asks for an ack (REPLCONF GETACK) instead of waiting for the replica's next one.
    expect(performance.now() - t).toBeLessThan(800);
  });

  test("asking for more replicas than there are returns the number that acked when the timeout fires", async () => {
    await m.c.cmd("SET", "k", "w");
    const t = performance.now();
    expect(await m.c.raw("WAIT", 2, 300)).toBe(":1\r\n");
    const took = performance.now() - t;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(2000);
  });

  test("inside MULTI it does not block", async () => {
    const t = performance.now();
    expect(await pipeline(m.c, [["MULTI"], ["SET", "k", "x"], ["WAIT", 5, 3000], ["EXEC"]])).toEqual(["+OK\r\n", "+QUEUED\r\n", "+QUEUED\r\n", expect.stringMatching(/^\*2\r\n\+OK\r\n:[01]\r\n$/)]);
    expect(performance.now() - t).toBeLessThan(1000);
  });

  test("on a replica answers Redis's error", async () => {
    expect(await r.c.raw("WAIT", 0, 0)).toBe("-ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.\r\n");
  });

  test("rejects a bad count or timeout with Redis's messages", async () => {
    expect(await pipeline(m.c, [["WAIT", "a", 0], ["WAIT", 0, "a"], ["WAIT", 0, "0.5"], ["WAIT", 0, -1], ["WAIT", 0], ["WAIT", 0, 0, 0]])).toEqual([
      "-ERR value is not an integer or out of range\r\n", "-ERR timeout is not an integer or out of range\r\n",
      "-ERR timeout is not an integer or out of range\r\n", "-ERR timeout is negative\r\n",
      "-ERR wrong number of arguments for 'wait' command\r\n", "-ERR wrong number of arguments for 'wait' command\r\n",
    ]);
  });
});

describe("commands that start the replica's Lua VM", () => {
  // The first FUNCTION LOAD a replica applies waits for its Lua VM to start; the stream must wait
  // with it. (A Redbun replica once went on parsing meanwhile, then parsed the rest as inline
  // commands: a protocol error, which propagation-error-behavior panic turns into a crash.)
  test("the master's FUNCTION LOAD and the writes after it apply in order, with no error to the master", async () => {
    const m = await startRedbun();
    const r = await startRedbun({ "propagation-error-behavior": "panic" });
    try {
      await replicaOf(r, m);
      await waitInSync(m, r);
      // (Its reply once went to the master, which read it as a command and answered an error.)
      const code = "#!lua name=lib\nredis.register_function{function_name='f', callback=function(KEYS, ARGV)\n return 'hi' \nend, flags={'no-writes'}}";
      expect(await pipeline(m.c, [["SELECT", "9"], ["FUNCTION", "LOAD", code]])).toEqual(["+OK\r\n", "$3\r\nlib\r\n"]);
      await waitInSync(m, r);
      await Bun.sleep(300); // the replica's VM starts and runs the held FUNCTION LOAD with nothing after it
      expect(await pipeline(m.c, [["SET", "after", "1"], ["FCALL", "f", "0"]])).toEqual(["+OK\r\n", "$2\r\nhi\r\n"]);
      await waitInSync(m, r);
      await r.c.cmd("SELECT", "9");
      expect(await r.c.raw("FCALL_RO", "f", "0")).toBe("$2\r\nhi\r\n");
      expect(await r.c.raw("GET", "after")).toBe("$1\r\n1\r\n");
      expect(r.log()).not.toContain("== CRITICAL ==");
      expect(await info(m.c, "stats")).toMatchObject({ total_error_replies: "0" });
    } finally {
      await m.stop();
      await r.stop();
    }
  });
});

describe("partial resynchronization", () => {
  let m: Node, r: Node;
  beforeAll(async () => {
    [m, r] = await primaryAndReplica(async (m) => expectNoErrors(await pipeline(m.c, allTypesCommands())));
  });
  afterAll(async () => { await m.stop(); await r.stop(); });

  test("after CLIENT KILL TYPE replica during a write load the replica continues from the backlog, without a full sync", async () => {
    const before = await syncStats(m);
    const loader = await RawClient.connect(m.port);
    try {
      await sendLoad(loader, randomLoad(1, 4000), async () => {
        expect(await m.c.raw("CLIENT", "KILL", "TYPE", "replica")).toBe(":1\r\n");
      });
    } finally {
      loader.close();
    }
    await waitInSync(m, r);
    const after = await syncStats(m);
    expect(after).toEqual({ ...before, partialOk: before.partialOk + 1 });
    expect(r.log()).toContain("Successful partial resynchronization with master.");
    await expectSameData(m, r);
  });

  // The master does not repeat its SELECT after a partial resync: the replica must go on in the
  // database the stream had selected (a Redbun replica once went back to db 0 and wrote there).
  for (const kind of ["redbun", "redis"] as const) {
    test(`the stream goes on in the database it had selected (a ${kind} master)`, async () => {
      const master = kind === "redis" ? await startRedis() : await startRedbun();
      const replica = await startRedbun();
      try {
        await master.c.cmd("SELECT", "11");
        await master.c.cmd("SET", "before", "1");
        await replicaOf(replica, master);
        await waitInSync(master, replica);
        await master.c.cmd("SET", "before2", "1"); // the stream's SELECT 11 is behind us now
        await waitInSync(master, replica);
        expect(await replica.c.raw("CLIENT", "KILL", "TYPE", "master")).toBe(":1\r\n");
        await waitFor("the replica reconnected", async () => ((await info(replica.c)).master_link_status === "up" ? true : "down"));
        await master.c.cmd("SET", "after", "1");
        await waitInSync(master, replica);
        expect(replica.log()).toContain("Successful partial resynchronization with master.");
        expect(await replica.c.raw("EXISTS", "after")).toBe(":0\r\n"); // db 0
        await replica.c.cmd("SELECT", "11");
        expect(await replica.c.raw("EXISTS", "before", "before2", "after")).toBe(":3\r\n");
      } finally {
        await master.stop();
        await replica.stop();
      }
    });
  }

  test("a replica whose offset has left the master's backlog gets a full sync instead", async () => {
    const small = await startRedbun({ "repl-backlog-size": 16384 });
    const rs = await startRedbun();
    try {
      await small.c.cmd("SET", "k", "v");
      await replicaOf(rs, small);
      await waitInSync(small, rs);
      const before = await syncStats(small);
      // The kill and 200 kB of writes arrive together, so they run before the replica can
      // reconnect and ask for an offset the 16 kB backlog no longer has.
      const writes = Array.from({ length: 200 }, (_, i) => ["SET", `k${i}`, "v".repeat(1000)]);
      expect((await pipeline(small.c, [["CLIENT", "KILL", "TYPE", "replica"], ...writes]))[0]).toBe(":1\r\n");
      await waitInSync(small, rs);
      expect(await syncStats(small)).toEqual({ full: before.full + 1, partialOk: before.partialOk, partialErr: before.partialErr + 1 });
      await expectSameData(small, rs);
    } finally {
      await small.stop();
      await rs.stop();
    }
  });
});

describe("repl-backlog-size", () => {
  let m: Node, r: Node;
  beforeAll(async () => { [m, r] = await primaryAndReplica(); });
  afterAll(async () => { await m.stop(); await r.stop(); });

  test("raised with CONFIG SET, the backlog keeps more than the default 1 MB", async () => {
    expect(await m.c.raw("CONFIG", "SET", "repl-backlog-size", "4194304")).toBe("+OK\r\n");
    for (let i = 0; i < 4; i++) await pipeline(m.c, Array.from({ length: 500 }, (_, j) => ["SET", `k${j}`, "x".repeat(1000)]));
    const i = await info(m.c);
    expect(i.repl_backlog_size).toBe("4194304");
    expect(Number(i.master_repl_offset)).toBeGreaterThan(2_000_000);
    expect([i.repl_backlog_first_byte_offset, i.repl_backlog_histlen]).toEqual(["1", i.master_repl_offset]);
  });

  test("lowered with CONFIG SET, the backlog lets the oldest bytes go", async () => {
    expect(await m.c.raw("CONFIG", "SET", "repl-backlog-size", "16384")).toBe("+OK\r\n");
    await pipeline(m.c, Array.from({ length: 300 }, (_, j) => ["SET", `k${j}`, "y".repeat(1000)]));
    // redis-server trims a few 16 kB blocks per write, and only blocks its replicas were sent, so
    // it takes some more writes to get there, and it may keep somewhat more than 16 kB.
    let i: Record<string, string> = {};
    await waitFor("the backlog to shrink", async () => {
      await m.c.cmd("SET", "tick", "1");
      i = await info(m.c);
      return Number(i.repl_backlog_histlen) < 100_000 || `repl_backlog_histlen ${i.repl_backlog_histlen}`;
    }, 3000);
    expect(Number(i.repl_backlog_first_byte_offset)).toBe(Number(i.master_repl_offset) - Number(i.repl_backlog_histlen) + 1);
  });
});

describe("promotion with REPLICAOF NO ONE", () => {
  let m: Node, a: Node, b: Node, c: Node;
  beforeAll(async () => {
    // No PINGs from m during the test, so a and b stop at the very same offset.
    [m, a, b, c] = await Promise.all([startRedbun({ "repl-ping-replica-period": 60 }), startRedbun(), startRedbun(), startRedbun()]);
    expectNoErrors(await pipeline(m.c, allTypesCommands()));
    for (const r of [a, b, c]) await replicaOf(r, m);
    await waitInSync(m, a, b, c);
  });
  afterAll(async () => { for (const n of [m, a, b, c]) await n.stop(); });

  let oldId = "", oldOffset = 0;

  test("the promoted replica takes a new ID and keeps the old one as master_replid2, valid up to its offset + 1", async () => {
    const old = await info(a.c);
    [oldId, oldOffset] = [old.master_replid, Number(old.master_repl_offset)];
    expect(await a.c.raw("REPLICAOF", "NO", "ONE")).toBe("+OK\r\n");
    const now = await info(a.c);
    expect(now.role).toBe("master");
    expect(now.master_replid).toMatch(/^[0-9a-f]{40}$/);
    expect(now.master_replid).not.toBe(oldId);
    expect(now.master_replid2).toBe(oldId);
    expect(now.master_repl_offset).toBe(String(oldOffset));
    expect(now.second_repl_offset).toBe(String(oldOffset + 1));
    expect(await a.c.cmd("ROLE")).toEqual(["master", oldOffset, []]);
    expect(await a.c.raw("SET", "written", "on a")).toBe("+OK\r\n");
  });

  test("a former sibling that follows it continues by partial resync, takes its ID and gets its later writes", async () => {
    const before = await syncStats(a);
    await replicaOf(b, a);
    await waitInSync(a, b);
    expect(await syncStats(a)).toEqual({ ...before, partialOk: before.partialOk + 1 });
    const [ai, bi] = [await info(a.c), await info(b.c)];
    expect(bi.master_replid).toBe(ai.master_replid);
    expect(bi.master_replid2).toBe(oldId);
    expect(bi.second_repl_offset).toBe(String(oldOffset + 1));
    expect(await b.c.raw("GET", "written")).toBe("$4\r\non a\r\n");
    await a.c.cmd("RPUSH", "later", "1", "2");
    await waitInSync(a, b);
    await expectSameData(a, b);
  });

  test("a sibling that got writes the promoted replica never saw needs a full sync, and loses them", async () => {
    await m.c.cmd("SET", "only", "on m");
    await waitInSync(m, c);
    const before = await syncStats(a);
    await replicaOf(c, a);
    await waitInSync(a, c);
    expect(await syncStats(a)).toEqual({ full: before.full + 1, partialOk: before.partialOk, partialErr: before.partialErr + 1 });
    expect(await c.c.raw("GET", "only")).toBe("$-1\r\n");
    await expectSameData(a, c);
  });

  test("the old master's later writes reach neither", async () => {
    await m.c.cmd("SET", "after", "promotion");
    expect(await m.c.raw("ROLE")).toBe("*3\r\n$6\r\nmaster\r\n:" + (await info(m.c)).master_repl_offset + "\r\n*0\r\n");
    await a.c.cmd("SET", "sync", "point");
    await waitInSync(a, b, c);
    for (const n of [a, b, c]) expect(await n.c.raw("EXISTS", "after")).toBe(":0\r\n");
  });
});

describe("chained replication", () => {
  let m: Node, a: Node, b: Node;
  beforeAll(async () => {
    [m, a, b] = await Promise.all([startRedbun(), startRedbun(), startRedbun()]);
    expectNoErrors(await pipeline(m.c, allTypesCommands()));
    await replicaOf(a, m);
    await waitInSync(m, a);
    await replicaOf(b, a);
    await waitInSync(a, b);
  });
  afterAll(async () => { await m.stop(); await a.stop(); await b.stop(); });

  test("a replica of a replica gets the master's data, ID and offset", async () => {
    await expectSameData(m, b);
    const [mi, bi] = [await info(m.c), await info(b.c)];
    expect(bi.master_replid).toBe(mi.master_replid);
    expect(bi.slave_repl_offset).toBe(mi.master_repl_offset);
    expect((await info(a.c)).connected_slaves).toBe("1");
    expect((await info(a.c)).slave0).toMatch(new RegExp(`^ip=127\\.0\\.0\\.1,port=${b.port},state=online,offset=\\d+,lag=\\d+$`));
  });

  test("writes on the master reach the end of the chain, with the master's offsets at every step", async () => {
    const loader = await RawClient.connect(m.port);
    try {
      await sendLoad(loader, randomLoad(2, 2000));
    } finally {
      loader.close();
    }
    await waitInSync(m, a);
    await waitInSync(a, b);
    const [mi, ai, bi] = [await info(m.c), await info(a.c), await info(b.c)];
    expect([ai.master_repl_offset, bi.master_repl_offset]).toEqual([mi.master_repl_offset, mi.master_repl_offset]);
    await expectSameData(m, b);
  });

  test("the middle replica refuses writes, and the end of the chain survives the middle's link dropping", async () => {
    expect(await a.c.raw("SET", "x", "1")).toBe("-READONLY You can't write against a read only replica.\r\n");
    expect(await m.c.raw("CLIENT", "KILL", "TYPE", "replica")).toBe(":1\r\n");
    await m.c.cmd("SET", "after", "kill");
    await waitInSync(m, a);
    await waitInSync(a, b);
    expect(await b.c.raw("GET", "after")).toBe("$4\r\nkill\r\n");
    await expectSameData(m, b);
  });
});

describe("REPLICAOF and SLAVEOF", () => {
  let m: Node, n: Node;
  beforeAll(async () => { [m, n] = await Promise.all([startRedbun(), startRedbun()]); });
  afterAll(async () => { await m.stop(); await n.stop(); });

  test("answer +OK, then +OK Already connected to specified master for the same master, under either name", async () => {
    expect(await n.c.raw("REPLICAOF", "127.0.0.1", m.port)).toBe("+OK\r\n");
    expect(await n.c.raw("REPLICAOF", "127.0.0.1", m.port)).toBe("+OK Already connected to specified master\r\n");
    expect(await n.c.raw("SLAVEOF", "127.0.0.1", String(m.port))).toBe("+OK Already connected to specified master\r\n");
    await waitInSync(m, n);
    expect(await n.c.raw("SLAVEOF", "NO", "ONE")).toBe("+OK\r\n");
    expect((await info(n.c)).role).toBe("master");
    expect(await n.c.raw("slaveof", "127.0.0.1", m.port)).toBe("+OK\r\n");
    await waitInSync(m, n);
    expect(await n.c.raw("replicaof", "no", "one")).toBe("+OK\r\n");
  });

  test("REPLICAOF NO ONE on a master answers +OK and changes nothing", async () => {
    const before = await info(m.c);
    expect(await m.c.raw("REPLICAOF", "NO", "ONE")).toBe("+OK\r\n");
    expect((await info(m.c)).master_replid).toBe(before.master_replid);
  });

  test("a port that is not an integer from 0 to 65535 is refused, and so is a wrong argument count", async () => {
    expect(await pipeline(n.c, [
      ["REPLICAOF", "127.0.0.1", "abc"], ["REPLICAOF", "127.0.0.1", "70000"], ["REPLICAOF", "127.0.0.1", "-1"], ["REPLICAOF", "no", "two"],
      ["SLAVEOF", "127.0.0.1", "1.5"], ["REPLICAOF", "127.0.0.1"], ["SLAVEOF", "a", "b", "c"],
    ])).toEqual([
      "-ERR Invalid master port\r\n", "-ERR Invalid master port\r\n", "-ERR Invalid master port\r\n", "-ERR Invalid master port\r\n",
      "-ERR Invalid master port\r\n", "-ERR wrong number of arguments for 'replicaof' command\r\n", "-ERR wrong number of arguments for 'slaveof' command\r\n",
    ]);
    expect((await info(n.c)).role).toBe("master");
  });

  // Redis 7.0.15 accepts any host here and CONFIG REWRITE writes it as it is, so a host holding
  // newlines adds directives to the config file; Redbun refuses what is not a name or an address.
  test("a host that is not a host name or an IP address is refused", async () => {
    expect(await pipeline(n.c, [
      ["REPLICAOF", "127.0.0.1\t1\nenable-debug-command\tyes\n", "1"], ["REPLICAOF", "a b", "1"], ["REPLICAOF", "", "1"],
      ["REPLICAOF", "host\"", "1"], ["REPLICAOF", "::1%", "1"],
    ])).toEqual(Array(5).fill("-ERR Invalid master host\r\n"));
    expect((await info(n.c)).role).toBe("master");
    // Names, IPv4 and IPv6 addresses are fine (nothing listens there: the replica keeps retrying).
    for (const host of ["localhost", "redis-1.internal_net.example.", "10.0.0.1", "::1", "fe80::1%lo"]) {
      expect(await n.c.raw("REPLICAOF", host, "1")).toBe("+OK\r\n");
    }
    expect(await n.c.raw("REPLICAOF", "NO", "ONE")).toBe("+OK\r\n");
  });

  test("switching a replica to another master drops its data for the new master's", async () => {
    const other = await startRedbun();
    try {
      await other.c.cmd("SET", "from", "other");
      await m.c.cmd("SET", "from", "m");
      await replicaOf(n, m);
      await waitInSync(m, n);
      await replicaOf(n, other);
      await waitInSync(other, n);
      await expectSameData(other, n);
      expect((await info(m.c)).connected_slaves).toBe("0");
    } finally {
      await other.stop();
      await n.c.cmd("REPLICAOF", "NO", "ONE");
    }
  });
});

describe("bind-source-addr", () => {
  // Linux routes all of 127.0.0.0/8 to lo, so 127.0.0.2 can be a connection's source address.
  const loopback8 = Object.values(networkInterfaces()).flat().some((a) => a?.address === "127.0.0.1" && a.netmask === "255.0.0.0");

  /** A master (protected mode off: 127.0.0.2 is not a loopback client to Redis) and two replicas,
   *  one with bind-source-addr 127.0.0.2; the address the master sees for each. */
  async function sourceAddrScenario(startMaster: typeof startRedbun, startReplica: typeof startRedbun): Promise<unknown> {
    const [m, a, b] = await Promise.all([startMaster({ "protected-mode": "no" }), startReplica(), startReplica()]);
    try {
      const set = await a.c.raw("CONFIG", "SET", "bind-source-addr", "127.0.0.2");
      const get = await a.c.cmd("CONFIG", "GET", "bind-source-addr");
      await replicaOf(a, m);
      await replicaOf(b, m);
      await waitInSync(m, a, b);
      const im = await info(m.c);
      // slaveN: ip=...,port=<its listening port>: which replica is which.
      const slaves = [im.slave0, im.slave1].map((l) => {
        const [, ip, port] = /ip=([^,]*),port=(\d+),/.exec(l ?? "") ?? [];
        return `${ip} ${Number(port) === a.port ? "with" : Number(port) === b.port ? "without" : `unknown (${l})`}`;
      }).sort();
      const addrs = String(await m.c.cmd("CLIENT", "LIST", "TYPE", "replica")).trim().split("\n").map((l) => /addr=(\S+):\d+ /.exec(l)?.[1]).sort();
      return { set, get, slaves, addrs };
    } finally {
      await Promise.all([m.stop(), a.stop(), b.stop()]);
    }
  }

  for (const [name, master, replica] of [["a Redbun replica of Redbun", startRedbun, startRedbun], ["a Redbun replica of redis-server", startRedis, startRedbun], ["redis-server's replica of redis-server (the reference)", startRedis, startRedis]] as const) {
    test.skipIf(!loopback8 || (master === startRedis && noRedis))(`${name} connects from 127.0.0.2 with bind-source-addr 127.0.0.2, and from 127.0.0.1 without`, async () => {
      expect(await sourceAddrScenario(master, replica)).toEqual({
        set: "+OK\r\n", get: ["bind-source-addr", "127.0.0.2"], slaves: ["127.0.0.1 without", "127.0.0.2 with"], addrs: ["127.0.0.1", "127.0.0.2"],
      });
    });
  }
});

describe("FAILOVER", () => {
  const READONLY = "-READONLY You can't write against a read only replica.\r\n";
  const NOMASTERLINK = "-NOMASTERLINK Can't SYNC while failing over\r\n";
  const FORCE_NEEDS = "-ERR FAILOVER with force option requires both a timeout and target HOST and IP.\r\n";
  const NOT_A_REPLICA = "-ERR FAILOVER target HOST and PORT is not a replica.\r\n";
  const NOTHING_TO_ABORT = "-ERR No failover in progress.\r\n";

  const failoverState = async (n: Node) => (await info(n.c)).master_failover_state;

  /** Waits until INFO says no failover is in progress any more. */
  async function failoverEnded(n: Node): Promise<void> {
    await waitFor(`the failover of :${n.port} to end`, async () => { const s = await failoverState(n); return s === "no-failover" || s; });
  }

  /** Waits until `n` has logged `line` (Redbun's log reaches the test through a pipe). */
  async function logged(n: Node, line: string): Promise<void> {
    await waitFor(`:${n.port} to log ${JSON.stringify(line)}`, async () => n.log().includes(line) || n.log().split("\n").slice(-5).join("\n"));
  }

  /** Runs `fn` while `n` is stopped (SIGSTOP): a replica that neither reads nor acknowledges, so
   *  a failover to it cannot finish until it runs again (SIGCONT, whatever `fn` did). */
  async function whileStopped<T>(n: Node, fn: () => Promise<T>): Promise<T> {
    process.kill(n.pid, "SIGSTOP");
    try { return await fn(); } finally { process.kill(n.pid, "SIGCONT"); }
  }

  /** Sends a write (on `w`, or on a connection of its own) and waits until the server holds it
   *  (INFO counts a paused client in blocked_clients, as Redis counts it). Returns a function that
   *  reads its reply (and closes the connection it opened). */
  async function heldWrite(n: Node, args: (string | number)[], w?: RawClient): Promise<() => Promise<string>> {
    const conn = w ?? (await RawClient.connect(n.port));
    const before = Number((await info(n.c, "clients")).blocked_clients);
    conn.send(...args);
    await waitFor(`${args[0]} to be held`, async () => Number((await info(n.c, "clients")).blocked_clients) > before || "answered or not arrived");
    return () => conn.readRaw(8000).finally(() => { if (!w) conn.close(); });
  }
  /** The SHA1 EVAL names a script by in its errors. */
  const sha1 = (script: string) => createHash("sha1").update(script).digest("hex");

  /** A master with a small dataset and one replica in sync with it, which the master counts as
   *  online (redis-server notices the end of a diskless transfer a little after the replica). */
  async function smallPair(): Promise<[Node, Node]> {
    const [m, r] = await primaryAndReplica(async (n) => { expectNoErrors(await pipeline(n.c, [["SET", "k", "v"], ["RPUSH", "l", "a", "b"], ["SELECT", 3], ["SET", "k3", "v", "EX", 1000], ["SELECT", 0]])); });
    await waitAcked(m, 1);
    return [m, r];
  }

  /** FAILOVER's refusals on a master without replicas: the argument checks first, in order, then
   *  the state ones. */
  const WITHOUT_REPLICAS: [(string | number)[], string][] = [
    [["FAILOVER", "ABORT"], NOTHING_TO_ABORT],
    [["FAILOVER"], "-ERR FAILOVER requires connected replicas.\r\n"],
    [["failover", "to", "127.0.0.1", 1, "timeout", 100], "-ERR FAILOVER requires connected replicas.\r\n"],
    [["FAILOVER", "FORCE"], "-ERR FAILOVER requires connected replicas.\r\n"],
    [["FAILOVER", "TIMEOUT", 0], "-ERR FAILOVER timeout must be greater than 0\r\n"],
    [["FAILOVER", "TIMEOUT", -5], "-ERR FAILOVER timeout must be greater than 0\r\n"],
    [["FAILOVER", "TIMEOUT", "abc"], "-ERR value is not an integer or out of range\r\n"],
    [["FAILOVER", "TIMEOUT", "99999999999999999999"], "-ERR value is not an integer or out of range\r\n"],
    [["FAILOVER", "TO", "127.0.0.1", "port"], "-ERR value is not an integer or out of range\r\n"],
    [["FAILOVER", "TIMEOUT", "abc", "bogus"], "-ERR value is not an integer or out of range\r\n"],
    [["FAILOVER", "bogus", "TIMEOUT", "abc"], "-ERR syntax error\r\n"],
    [["FAILOVER", "TIMEOUT"], "-ERR syntax error\r\n"],
    [["FAILOVER", "TO", "127.0.0.1"], "-ERR syntax error\r\n"],
    [["FAILOVER", "ABORT", "ABORT"], "-ERR syntax error\r\n"],
    [["FAILOVER", "ABORT", "TIMEOUT", 5], "-ERR syntax error\r\n"],
    [["FAILOVER", "TIMEOUT", 10, "TIMEOUT", 10], "-ERR syntax error\r\n"],
    [["FAILOVER", "FORCE", "FORCE"], "-ERR syntax error\r\n"],
    [["FAILOVER", "TO", "127.0.0.1", 1, "TO", "127.0.0.1", 2], "-ERR syntax error\r\n"],
    [["EVAL", "return redis.call('failover')", 0], `-ERR This Redis command is not allowed from script script: ${sha1("return redis.call('failover')")}, on @user_script:1.\r\n`],
  ];

  test("without replicas, refuses every form with Redis's errors: arguments first, then 'requires connected replicas'", async () => {
    const m = await startRedbun();
    try {
      expect(await pipeline(m.c, WITHOUT_REPLICAS.map(([cmd]) => cmd))).toEqual(WITHOUT_REPLICAS.map(([, reply]) => reply));
      expect(await m.c.raw("FAILOVER", "TO", "127.0.0.1", 1, "TIMEOUT", 100, "FORCE")).toBe("-ERR FAILOVER requires connected replicas.\r\n");
      const p = await RawClient.connect(m.port);
      expect(await p.raw("PSYNC", (await info(m.c)).master_replid, 1, "FAILOVER")).toBe("-ERR PSYNC FAILOVER can't be sent to a master.\r\n");
      p.close();
      expect(await failoverState(m)).toBe("no-failover");
      expect((await info(m.c)).role).toBe("master");
    } finally {
      await m.stop();
    }
  });

  test.skipIf(noRedis)("redis-server 7.0.15 gives the same replies to the same commands (the reference for the test above)", async () => {
    const r = await startRedis();
    try {
      expect(await pipeline(r.c, WITHOUT_REPLICAS.map(([cmd]) => cmd))).toEqual(WITHOUT_REPLICAS.map(([, reply]) => reply));
    } finally {
      await r.stop();
    }
  });

  /** FAILOVER's refusals on a master with the replica `r` online and a second one (a raw PSYNC
   *  announcing port 4444) still waiting for its snapshot, which rdb-key-save-delay makes slow;
   *  then on `r` itself, and PSYNC ... FAILOVER sent to `r` with another ID. */
  async function refusalsWithReplicas(m: Node, r: Node): Promise<string[]> {
    await m.c.cmd("CONFIG", "SET", "rdb-key-save-delay", 5_000_000);
    let got = "";
    const fake = await Bun.connect({ hostname: "127.0.0.1", port: m.port, socket: { data: (_s, d) => { got += d.latin1Slice(); } } });
    try {
      // PSYNC only once REPLCONF is answered: with a reply still pending, PSYNC is refused.
      fake.write(encode(["REPLCONF", "listening-port", "4444"]));
      await waitFor("REPLCONF's +OK", async () => got === "+OK\r\n" || JSON.stringify(got));
      fake.write(encode(["PSYNC", "?", "-1"]));
      await waitFor("the second replica to wait for its snapshot", async () => Object.values(await info(m.c)).some((v) => /port=4444,state=wait_bgsave/.test(v)) || JSON.stringify(await info(m.c)));
      const onMaster = await pipeline(m.c, [
        ["FAILOVER", "FORCE"], ["FAILOVER", "TIMEOUT", 100, "FORCE"], ["FAILOVER", "TO", "127.0.0.1", r.port, "FORCE"],
        ["FAILOVER", "TO", "127.0.0.1", 1], ["FAILOVER", "TO", "localhost", r.port], ["FAILOVER", "TO", "127.0.0.1", r.port + 100000],
        ["FAILOVER", "TO", "127.0.0.1", 4444], ["FAILOVER", "TO", "127.0.0.1", 4444, "TIMEOUT", 100, "FORCE"], ["FAILOVER", "ABORT"],
      ]);
      const onReplica = await pipeline(r.c, [["FAILOVER"], ["FAILOVER", "TO", "127.0.0.1", m.port], ["FAILOVER", "ABORT"], ["FAILOVER", "TIMEOUT", 0]]);
      const p = await RawClient.connect(r.port);
      const psync = await p.raw("PSYNC", "0".repeat(40), 1, "FAILOVER");
      p.close();
      return [...onMaster, ...onReplica, psync, await failoverState(m), (await info(m.c)).role, (await info(r.c)).role];
    } finally {
      fake.end();
      await m.c.cmd("CONFIG", "SET", "rdb-key-save-delay", 0);
    }
  }
  const REFUSALS_WITH_REPLICAS = [
    FORCE_NEEDS, FORCE_NEEDS, FORCE_NEEDS, NOT_A_REPLICA, NOT_A_REPLICA, NOT_A_REPLICA,
    "-ERR FAILOVER target replica is not online.\r\n", "-ERR FAILOVER target replica is not online.\r\n", NOTHING_TO_ABORT,
    "-ERR FAILOVER is not valid when server is a replica.\r\n", "-ERR FAILOVER is not valid when server is a replica.\r\n", NOTHING_TO_ABORT,
    "-ERR FAILOVER timeout must be greater than 0\r\n", "-ERR PSYNC FAILOVER replid must match my replid.\r\n",
    "no-failover", "master", "slave",
  ];

  test("with replicas: FORCE needs TO and TIMEOUT, TO must name an online replica (by the address it connects from), and a replica refuses it", async () => {
    const [m, r] = await smallPair();
    try {
      expect(await refusalsWithReplicas(m, r)).toEqual(REFUSALS_WITH_REPLICAS);
      await m.c.cmd("SET", "still", "replicating");
      await waitInSync(m, r);
    } finally {
      await m.stop();
      await r.stop();
    }
  });

  test.skipIf(noRedis)("redis-server 7.0.15 refuses the same commands with the same errors (the reference for the test above)", async () => {
    const [m, r] = await Promise.all([startRedis(), startRedis()]);
    try {
      await m.c.cmd("SET", "k", "v"); // one key for rdb-key-save-delay to slow down
      await replicaOf(r, m);
      await waitInSync(m, r);
      await waitAcked(m, 1);
      expect(await refusalsWithReplicas(m, r)).toEqual(REFUSALS_WITH_REPLICAS);
    } finally {
      await m.stop();
      await r.stop();
    }
  });

  /** The whole hand-over from `m` to its replica `r`, whatever each runs: `r` is stopped, so `m`
   *  waits for it (writes held, reads served, REPLICAOF, a second FAILOVER and SYNC refused); once
   *  `r` runs again it catches up and is made the master, and `m` follows it. */
  async function handOver(m: Node, r: Node): Promise<void> {
    const oldId = (await info(m.c)).master_replid;
    const served = await syncStats(r);
    let heldReply!: () => Promise<string>;
    await whileStopped(r, async () => {
      await m.c.cmd("SET", "written", "while r was stopped");
      expect(await m.c.raw("FAILOVER")).toBe("+OK\r\n");
      expect(await failoverState(m)).toBe("waiting-for-sync");
      heldReply = await heldWrite(m, ["SET", "held", "during the failover"]);
      expect(await pipeline(m.c, [["GET", "written"], ["DBSIZE"], ["REPLICAOF", "127.0.0.1", r.port], ["REPLICAOF", "NO", "ONE"], ["FAILOVER"], ["FAILOVER", "TO", "127.0.0.1", r.port]])).toEqual([
        "$19\r\nwhile r was stopped\r\n", expect.stringMatching(/^:\d+\r\n$/), "-ERR REPLICAOF not allowed while failing over.\r\n",
        "-ERR REPLICAOF not allowed while failing over.\r\n", "-ERR FAILOVER already in progress.\r\n", "-ERR FAILOVER already in progress.\r\n",
      ]);
      const s = await RawClient.connect(m.port);
      expect(await s.raw("SYNC")).toBe(NOMASTERLINK);
      expect(await s.raw("PSYNC", "?", -1)).toBe(NOMASTERLINK);
      s.close();
      expect(await failoverState(m)).toBe("waiting-for-sync");
    });
    await failoverEnded(m);
    // The write held all along ran after the switch: m is a replica now.
    expect(await heldReply()).toBe(READONLY);
    const [mi, ri] = [await info(m.c), await info(r.c)];
    expect([mi.role, mi.master_host, mi.master_port, ri.role]).toEqual(["slave", "127.0.0.1", String(r.port), "master"]);
    await logged(m, "FAILOVER requested to any replica.");
    await logged(m, `Failover target 127.0.0.1:${r.port} is synced, failing over.`);
    await logged(r, `Failover request received for replid ${oldId}.`);
    await logged(r, "MASTER MODE enabled (failover request from 'id=");
    // r continues m's history, and m follows it from where it was (a partial resync).
    await waitInSync(r, m);
    expect(ri.master_replid2).toBe(oldId);
    expect((await info(m.c)).master_replid).toBe(ri.master_replid);
    expect(await syncStats(r)).toEqual({ ...served, partialOk: served.partialOk + 1 });
    expect(await m.c.raw("GET", "written")).toBe("$19\r\nwhile r was stopped\r\n");
    expect(await m.c.raw("EXISTS", "held")).toBe(":0\r\n");
    await expectSameData(r, m);
    expect(await m.c.raw("SET", "on m", "1")).toBe(READONLY);
    await r.c.cmd("SET", "on r", "after the failover");
    await waitInSync(r, m);
    expect(await m.c.raw("GET", "on r")).toBe("$18\r\nafter the failover\r\n");
  }

  test("to any replica: writes wait while reads run, then the replica is the master with the same data, the old master follows it, and the held writes get -READONLY", async () => {
    const [m, r] = await primaryAndReplica(async (n) => { expectNoErrors(await pipeline(n.c, allTypesCommands())); });
    try {
      await handOver(m, r);
    } finally {
      await m.stop();
      await r.stop();
    }
  });

  test("a write paused in a transaction, a script, a blocking pop or PUBLISH is answered after the switch, as the replica it became answers it", async () => {
    const [m, r] = await smallPair();
    try {
      const script = "return redis.call('SET', 'script', '1')";
      const tx = await RawClient.connect(m.port);
      const replies = await whileStopped(r, async () => {
        await m.c.cmd("SET", "lag", "1");
        expect(await m.c.raw("FAILOVER")).toBe("+OK\r\n");
        // In a transaction the write is held before it is even queued.
        expect(await tx.raw("MULTI")).toBe("+OK\r\n");
        const held = [
          await heldWrite(m, ["SET", "tx", "1"], tx), await heldWrite(m, ["EVAL", script, 0]), await heldWrite(m, ["BLPOP", "q", 0]),
          await heldWrite(m, ["PUBLISH", "ch", "x"]), await heldWrite(m, ["INCR", "n"]),
        ];
        expect(await m.c.raw("GET", "k")).toBe("$1\r\nv\r\n");
        return held;
      });
      await failoverEnded(m);
      expect(await Promise.all(replies.map((read) => read()))).toEqual([
        READONLY, `-READONLY You can't write against a read only replica. script: ${sha1(script)}, on @user_script:1.\r\n`, READONLY, ":0\r\n", READONLY,
      ]);
      expect(await tx.raw("EXEC")).toBe("-EXECABORT Transaction discarded because of previous errors.\r\n");
      tx.close();
    } finally {
      await m.stop();
      await r.stop();
    }
  });

  test("TO host port picks that replica; the other one stays with the old master, which relays the new master's writes to it", async () => {
    const [m, r1, r2] = await Promise.all([startRedbun(), startRedbun(), startRedbun()]);
    try {
      expectNoErrors(await pipeline(m.c, allTypesCommands()));
      await replicaOf(r1, m);
      await replicaOf(r2, m);
      await waitInSync(m, r1, r2);
      await waitAcked(m, 2);
      expect(await m.c.raw("FAILOVER", "TO", "127.0.0.1", r2.port)).toBe("+OK\r\n");
      await failoverEnded(m);
      await logged(m, `FAILOVER requested to 127.0.0.1:${r2.port}.`);
      await logged(m, `Failover target 127.0.0.1:${r2.port} is synced, failing over.`);
      const [mi, r1i, r2i] = [await info(m.c), await info(r1.c), await info(r2.c)];
      expect([mi.role, mi.master_port, r1i.role, r1i.master_port, r2i.role]).toEqual(["slave", String(r2.port), "slave", String(m.port), "master"]);
      await r2.c.cmd("SET", "on r2", "after the failover");
      await waitInSync(r2, m);
      await waitInSync(m, r1);
      expect(await r1.c.raw("GET", "on r2")).toBe("$18\r\nafter the failover\r\n");
      await expectSameData(r2, r1);
    } finally {
      for (const n of [m, r1, r2]) await n.stop();
    }
  });

  test("ABORT while waiting for the replica: a master again at once, the held writes run, and the replica catches up", async () => {
    const [m, r] = await smallPair();
    try {
      const id = (await info(m.c)).master_replid;
      await whileStopped(r, async () => {
        await m.c.cmd("SET", "lag", "1");
        expect(await m.c.raw("FAILOVER", "TIMEOUT", 60000)).toBe("+OK\r\n");
        const held = await heldWrite(m, ["SET", "held", "1"]);
        expect(await m.c.raw("FAILOVER", "ABORT")).toBe("+OK\r\n");
        expect(await held()).toBe("+OK\r\n");
        expect(await failoverState(m)).toBe("no-failover");
        expect(await m.c.raw("FAILOVER", "ABORT")).toBe(NOTHING_TO_ABORT);
      });
      await logged(m, "FAILOVER to any replica aborted: Failover manually aborted");
      await waitInSync(m, r);
      expect([(await info(m.c)).role, (await info(m.c)).master_replid, (await info(r.c)).role]).toEqual(["master", id, "slave"]);
      expect(await r.c.raw("GET", "held")).toBe("$1\r\n1\r\n");
    } finally {
      await m.stop();
      await r.stop();
    }
  });

  test("TIMEOUT without FORCE: a replica that has not caught up in time makes it give up, a master still, and the held writes run", async () => {
    const [m, r] = await smallPair();
    try {
      await whileStopped(r, async () => {
        await m.c.cmd("SET", "lag", "1");
        // Time enough to see it wait, and hold a write, even on a busy machine.
        const t0 = Date.now();
        expect(await m.c.raw("FAILOVER", "TO", "127.0.0.1", r.port, "TIMEOUT", 1500)).toBe("+OK\r\n");
        const held = await heldWrite(m, ["SET", "held", "1"]);
        expect(await failoverState(m)).toBe("waiting-for-sync");
        await failoverEnded(m);
        expect(Date.now() - t0).toBeGreaterThanOrEqual(1500);
        expect(await held()).toBe("+OK\r\n");
        expect((await info(m.c)).role).toBe("master");
      });
      await logged(m, `FAILOVER to 127.0.0.1:${r.port} aborted: Replica never caught up before timeout`);
      await waitInSync(m, r);
      expect(await r.c.raw("GET", "held")).toBe("$1\r\n1\r\n");
    } finally {
      await m.stop();
      await r.stop();
    }
  });

  test("TO host port TIMEOUT ms FORCE: once the time is out it fails over to the target anyway, and the target takes over when it runs again", async () => {
    const [m, r] = await smallPair();
    try {
      const id = (await info(m.c)).master_replid;
      let heldReply!: () => Promise<string>;
      await whileStopped(r, async () => {
        await m.c.cmd("SET", "lag", "1");
        const t0 = Date.now();
        expect(await m.c.raw("FAILOVER", "TO", "127.0.0.1", r.port, "TIMEOUT", 300, "FORCE")).toBe("+OK\r\n");
        heldReply = await heldWrite(m, ["SET", "held", "1"]);
        await waitFor("failover-in-progress", async () => { const s = await failoverState(m); return s === "failover-in-progress" || s; });
        expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
        await logged(m, `FAILOVER to 127.0.0.1:${r.port} time out exceeded, failing over.`);
        // Already r's replica (the link is not up: r cannot answer), reads still served, writes still held.
        const mi = await info(m.c);
        expect([mi.role, mi.master_port, mi.master_link_status, mi.master_failover_state]).toEqual(["slave", String(r.port), "down", "failover-in-progress"]);
        expect(await m.c.raw("GET", "lag")).toBe("$1\r\n1\r\n");
        expect((await info(m.c, "clients")).blocked_clients).toBe("1");
      });
      await failoverEnded(m);
      expect(await heldReply()).toBe(READONLY);
      await logged(r, `Failover request received for replid ${id}.`);
      expect([(await info(m.c)).role, (await info(r.c)).role]).toEqual(["slave", "master"]);
      await waitInSync(r, m);
      await expectSameData(r, m);
    } finally {
      await m.stop();
      await r.stop();
    }
  });

  test("ABORT after FORCE made it the target's replica: a master again with a new replication ID, and the held writes run", async () => {
    const [m, r] = await smallPair();
    try {
      const id = (await info(m.c)).master_replid;
      await whileStopped(r, async () => {
        await m.c.cmd("SET", "lag", "1");
        expect(await m.c.raw("FAILOVER", "TO", "127.0.0.1", r.port, "TIMEOUT", 100, "FORCE")).toBe("+OK\r\n");
        const held = await heldWrite(m, ["SET", "held", "1"]);
        await waitFor("failover-in-progress", async () => { const s = await failoverState(m); return s === "failover-in-progress" || s; });
        expect(await m.c.raw("FAILOVER", "ABORT")).toBe("+OK\r\n");
        expect(await held()).toBe("+OK\r\n");
        const mi = await info(m.c);
        expect([mi.role, mi.master_failover_state, mi.master_replid2]).toEqual(["master", "no-failover", id]);
        expect(mi.master_replid).not.toBe(id);
      });
      await logged(m, `FAILOVER to 127.0.0.1:${r.port} aborted: Failover manually aborted`);
      // r never heard of the failover: it reconnects to m and continues from its backlog.
      await waitInSync(m, r);
      expect((await info(r.c)).role).toBe("slave");
      expect(await r.c.raw("GET", "held")).toBe("$1\r\n1\r\n");
    } finally {
      await m.stop();
      await r.stop();
    }
  });

  test("a target that refuses PSYNC (ACL -psync) ends the failover: a master again with a new replication ID, followed by the same replica", async () => {
    const [m, r] = await smallPair();
    try {
      const id = (await info(m.c)).master_replid;
      expect(await r.c.raw("ACL", "SETUSER", "default", "-psync")).toBe("+OK\r\n");
      expect(await m.c.raw("FAILOVER", "TO", "127.0.0.1", r.port)).toBe("+OK\r\n");
      await failoverEnded(m);
      await logged(m, `FAILOVER to 127.0.0.1:${r.port} aborted: Failover target rejected psync request`);
      const mi = await info(m.c);
      expect([mi.role, mi.master_replid2]).toEqual(["master", id]);
      expect(mi.master_replid).not.toBe(id);
      expect(await m.c.raw("SET", "after", "1")).toBe("+OK\r\n");
      await waitInSync(m, r);
      expect([(await info(r.c)).role, await r.c.raw("GET", "after")]).toEqual(["slave", "$1\r\n1\r\n"]);
    } finally {
      await m.stop();
      await r.stop();
    }
  });

  for (const [name, startMaster, startReplica] of [
    ["a Redbun master hands over to a redis-server replica, and follows it", startRedbun, startRedis],
    ["a redis-server master hands over to a Redbun replica, which takes the role", startRedis, startRedbun],
  ] as const) {
    test.skipIf(noRedis)(name, async () => {
      const [m, r] = await Promise.all([startMaster(), startReplica()]);
      try {
        expectNoErrors(await pipeline(m.c, allTypesCommands({ infinities: false })));
        await replicaOf(r, m);
        await waitInSync(m, r);
        await handOver(m, r);
      } finally {
        await m.stop();
        await r.stop();
      }
    });
  }

  // A master that becomes a replica (here FAILOVER ... FORCE once its time is out; REPLICAOF host
  // port on a master with replicas is the same path) keeps its own replicas connected, as Redis
  // 7.0: they go when the replication ID changes after the PSYNC to the new master. With the target
  // r stopped (SIGSTOP): FAILOVER TO 127.0.0.1 <r> TIMEOUT 100 FORCE, then INFO replication once
  // failover-in-progress shows connected_slaves:1 and its slave0 line.
  test("while failover-in-progress, INFO still lists the replicas, which are dropped only when the replication ID changes", async () => {
    const [m, r] = await smallPair();
    try {
      await whileStopped(r, async () => {
        expect(await m.c.raw("FAILOVER", "TO", "127.0.0.1", r.port, "TIMEOUT", 100, "FORCE")).toBe("+OK\r\n");
        await waitFor("failover-in-progress", async () => { const s = await failoverState(m); return s === "failover-in-progress" || s; });
        const mi = await info(m.c);
        expect([mi.connected_slaves, mi.slave0?.replace(/,offset=\d+,lag=\d+$/, "")]).toEqual(["1", `ip=127.0.0.1,port=${r.port},state=online`]);
      });
    } finally {
      await m.stop();
      await r.stop();
    }
  });
});

describe("replica-serve-stale-data no", () => {
  let n: Node, ref: Node | null = null, nowhere = 0;
  /** Commands a stale replica refuses or still runs, as redis-server answers them. */
  const probes: (string | number)[][] = [
    ["GET", "k"], ["SET", "k", "v"], ["DBSIZE"], ["PING"], ["ECHO", "x"], ["EXISTS", "k"], ["CONFIG", "GET", "replica-serve-stale-data"],
    ["MULTI"], ["GET", "k"], ["EXEC"], ["CLIENT", "SETNAME", "x"], ["SELECT", 1], ["SELECT", 0], ["PUBLISH", "ch", "m"],
  ];
  beforeAll(async () => {
    nowhere = await freePort(); // nothing listens there
    const starts = [startRedbun({ "replica-serve-stale-data": "no" })];
    if (!noRedis) starts.push(startRedis({ "replica-serve-stale-data": "no" }));
    [n, ref = null] = await Promise.all(starts) as [Node, Node?];
    for (const s of [n, ref]) if (s) expect(await s.c.raw("REPLICAOF", "127.0.0.1", nowhere)).toBe("+OK\r\n");
  });
  afterAll(async () => { await n.stop(); await ref?.stop(); });

  test("while the link is down, reads answer -MASTERDOWN with the exact text and writes -READONLY", async () => {
    expect(await n.c.raw("GET", "k")).toBe("-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n");
    expect(await n.c.raw("SET", "k", "v")).toBe("-READONLY You can't write against a read only replica.\r\n");
    const i = await info(n.c);
    expect([i.role, i.master_link_status, i.master_port]).toEqual(["slave", "down", String(nowhere)]);
    const role = (await n.c.cmd("ROLE")) as Reply[];
    expect([role[0], role[1], role[2], role[4]]).toEqual(["slave", "127.0.0.1", nowhere, -1]);
    expect(["connect", "connecting"]).toContain(role[3] as string);
  });

  test("INFO's master_link_down_since_seconds is -1 while the link has never been up", async () => {
    expect((await info(n.c)).master_link_down_since_seconds).toBe("-1");
  });

  test.skipIf(noRedis)("every other command is refused or run as redis-server does, and INFO has its fields in its order", async () => {
    const out = [];
    for (const s of [n, ref!]) {
      const c = await RawClient.connect(s.port);
      out.push(await pipeline(c, probes));
      c.close();
    }
    expect(out[0]).toEqual(out[1]);
    expect(Object.keys(await info(n.c))).toEqual(Object.keys(await info(ref!.c)));
  });

  test("a replica whose master stops starts answering -MASTERDOWN; with the default (yes) it keeps serving its data", async () => {
    const m = await startRedbun();
    const lenient = await startRedbun();
    try {
      await m.c.cmd("SET", "k", "v");
      await replicaOf(n, m);
      await replicaOf(lenient, m);
      await waitInSync(m, n, lenient);
      expect(await n.c.raw("GET", "k")).toBe("$1\r\nv\r\n");
      await m.stop();
      await waitFor("the link to drop", async () => (await info(n.c)).master_link_status === "down" || "still up");
      expect(await n.c.raw("GET", "k")).toBe("-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n");
      expect(Number((await info(n.c)).master_link_down_since_seconds)).toBeGreaterThanOrEqual(0);
      await waitFor("the other link to drop", async () => (await info(lenient.c)).master_link_status === "down" || "still up");
      expect(await lenient.c.raw("GET", "k")).toBe("$1\r\nv\r\n");
    } finally {
      await m.stop();
      await lenient.stop();
    }
  });
});

describe("min-replicas-to-write", () => {
  let m: Node, r: Node;
  beforeAll(async () => { [m, r] = await Promise.all([startRedbun({ "min-replicas-to-write": 1 }), startRedbun()]); });
  afterAll(async () => { await m.stop(); await r.stop(); });

  test("without enough replicas, writes answer -NOREPLICAS with the exact text and reads still run", async () => {
    expect(await pipeline(m.c, [["SET", "k", "v"], ["GET", "k"], ["DEL", "k"], ["MULTI"], ["SET", "k", "v"], ["EXEC"]])).toEqual([
      "-NOREPLICAS Not enough good replicas to write.\r\n", "$-1\r\n", "-NOREPLICAS Not enough good replicas to write.\r\n",
      "+OK\r\n", "-NOREPLICAS Not enough good replicas to write.\r\n", "-EXECABORT Transaction discarded because of previous errors.\r\n",
    ]);
  });

  test("an EXEC of writes queued while writes were allowed is refused with the reason", async () => {
    expect(await m.c.raw("CONFIG", "SET", "min-replicas-to-write", "0")).toBe("+OK\r\n");
    expect(await pipeline(m.c, [["MULTI"], ["SET", "k", "v"]])).toEqual(["+OK\r\n", "+QUEUED\r\n"]);
    const other = await RawClient.connect(m.port);
    expect(await other.raw("CONFIG", "SET", "min-replicas-to-write", "1")).toBe("+OK\r\n");
    other.close();
    expect(await m.c.raw("EXEC")).toBe("-EXECABORT Transaction discarded because of: NOREPLICAS Not enough good replicas to write.\r\n");
    expect(await m.c.raw("EXISTS", "k")).toBe(":0\r\n");
  });

  test("once a replica is connected and acking, writes are accepted", async () => {
    await replicaOf(r, m);
    await waitFor("writes to be accepted", async () => {
      const reply = await m.c.raw("SET", "k", "v");
      return reply === "+OK\r\n" || reply;
    });
    await waitInSync(m, r);
    expect(await r.c.raw("GET", "k")).toBe("$1\r\nv\r\n");
  });
});

// ---------------------------------------------------------------------------------------------
// Redbun and redis-server on the two ends of a link.

describe.skipIf(noRedis)("interoperability with redis-server", () => {
  let rm: Node, br: Node; // a redis-server master, a Redbun replica
  let bm: Node, rr: Node; // a Redbun master, a redis-server replica
  beforeAll(async () => {
    // rm keeps redis-server's default diskless sync (only without its 5 s delay), so br gets an
    // EOF-marked payload.
    [rm, br, bm, rr] = await Promise.all([startRedis(), startRedbun(), startRedbun(), startRedis()]);
    for (const m of [rm, bm]) expectNoErrors(await pipeline(m.c, allTypesCommands({ infinities: false })));
  });
  afterAll(async () => { for (const n of [rm, br, bm, rr]) await n.stop(); });

  test("a Redbun replica of redis-server loads its diskless full sync and then applies its stream", async () => {
    await replicaOf(br, rm);
    await waitInSync(rm, br);
    expect(rm.log()).toContain("Starting BGSAVE for SYNC with target: replicas sockets");
    await waitFor("redis-server's log of the socket transfer", async () => rm.log().includes(`Streamed RDB transfer with replica 127.0.0.1:${br.port} succeeded (socket)`) || "not logged");
    await expectSameData(rm, br);
    await streamSomeWrites(rm);
    await waitInSync(rm, br);
    await expectSameData(rm, br);
  });

  test("a redis-server replica of Redbun loads its full sync and then applies its stream", async () => {
    await replicaOf(rr, bm);
    await waitInSync(bm, rr);
    expect(rr.log()).toContain("MASTER <-> REPLICA sync: Finished with success");
    await expectSameData(bm, rr);
    await streamSomeWrites(bm);
    await waitInSync(bm, rr);
    await expectSameData(bm, rr);
  });

  test("infinite zset scores in redis-server's snapshot load as inf and -inf", async () => {
    const [m, r] = await Promise.all([startRedis(), startRedbun()]);
    try {
      await m.c.cmd("ZADD", "small", "inf", "top", "-inf", "bottom", 1, "one");
      await m.c.cmd("ZADD", "big", "inf", "top", "-inf", "bottom", ...Array.from({ length: 200 }, (_, i) => [i, `m${i}`]).flat());
      await replicaOf(r, m);
      await waitInSync(m, r);
      expect(await r.c.cmd("ZRANGE", "small", 0, -1, "WITHSCORES")).toEqual(["bottom", "-inf", "one", "1", "top", "inf"]);
      expect(await r.c.cmd("ZSCORE", "big", "top")).toBe("inf");
      expect(await r.c.cmd("ZSCORE", "big", "bottom")).toBe("-inf");
    } finally {
      await m.stop();
      await r.stop();
    }
  });

  test("INFO replication and ROLE have redis-server's fields, in its order, on both sides", async () => {
    await Promise.all([waitAcked(rm, 1), waitAcked(bm, 1)]);
    const [irm, ibm, ibr, irr] = await Promise.all([rm, bm, br, rr].map((n) => info(n.c)));
    expect(Object.keys(ibm)).toEqual(Object.keys(irm));
    expect(Object.keys(ibr)).toEqual(Object.keys(irr));
    const shape = (r: Reply): Reply => (Array.isArray(r) ? r.map(shape) : typeof r);
    expect(shape(await bm.c.cmd("ROLE"))).toEqual(shape(await rm.c.cmd("ROLE")));
    expect(shape(await br.c.cmd("ROLE"))).toEqual(shape(await rr.c.cmd("ROLE")));
  });

  test("WAIT counts the replica on the other kind of server", async () => {
    for (const m of [rm, bm]) {
      await m.c.cmd("SET", "waited", "1");
      expect(await m.c.raw("WAIT", 1, 5000)).toBe(":1\r\n");
    }
  });

  test("the same mixed write load on both masters leaves each replica equal to its master, and the masters equal", async () => {
    // streamSomeWrites' SPOP took random members, so the masters differ there.
    for (const m of [rm, bm]) await m.c.cmd("DEL", "bigset");
    const load = randomLoad(3, 3000);
    const loaders = await Promise.all([RawClient.connect(rm.port), RawClient.connect(bm.port)]);
    try {
      await Promise.all([sendLoad(loaders[0], load), sendLoad(loaders[1], load)]);
    } finally {
      for (const l of loaders) l.close();
    }
    await Promise.all([waitInSync(rm, br), waitInSync(bm, rr)]);
    await expectSameData(rm, br);
    await expectSameData(bm, rr);
    await expectSameData(rm, bm, "presence");
  });

  test("after CLIENT KILL TYPE replica on redis-server during a load, the Redbun replica continues by partial resync", async () => {
    const before = await syncStats(rm);
    const loader = await RawClient.connect(rm.port);
    try {
      await sendLoad(loader, randomLoad(4, 3000), async () => { expect(await rm.c.raw("CLIENT", "KILL", "TYPE", "replica")).toBe(":1\r\n"); });
    } finally {
      loader.close();
    }
    await waitInSync(rm, br);
    expect(await syncStats(rm)).toEqual({ ...before, partialOk: before.partialOk + 1 });
    await expectSameData(rm, br);
  });

  test("after CLIENT KILL TYPE replica on Redbun during a load, the redis-server replica continues by partial resync", async () => {
    const before = await syncStats(bm);
    const loader = await RawClient.connect(bm.port);
    try {
      await sendLoad(loader, randomLoad(5, 3000), async () => { expect(await bm.c.raw("CLIENT", "KILL", "TYPE", "replica")).toBe(":1\r\n"); });
    } finally {
      loader.close();
    }
    await waitInSync(bm, rr);
    expect(await syncStats(bm)).toEqual({ ...before, partialOk: before.partialOk + 1 });
    expect(rr.log()).toContain("Successful partial resynchronization with master.");
    await expectSameData(bm, rr);
  });

  test("a key past its TTL reads the same on both replicas, and goes when the master's DEL arrives", async () => {
    for (const m of [rm, bm]) {
      await m.c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", 0);
      await m.c.cmd("SET", "short", "v", "PX", 300);
      await m.c.cmd("SET", "lasting", "w");
    }
    await Promise.all([waitInSync(rm, br), waitInSync(bm, rr)]);
    await waitFor("short to be past its TTL", async () => ((await br.c.cmd("EXISTS", "short")) === 0 && (await rr.c.cmd("EXISTS", "short")) === 0) || "still live");
    const sizes = [Number(await br.c.cmd("DBSIZE")), Number(await rr.c.cmd("DBSIZE"))];
    const probe: (string | number)[][] = [["GET", "short"], ["EXISTS", "short"], ["TTL", "short"], ["TYPE", "short"], ["KEYS", "shor*"], ["MGET", "short", "lasting"]];
    expect(await pipeline(br.c, probe)).toEqual(await pipeline(rr.c, probe));
    for (const m of [rm, bm]) {
      expect(await m.c.raw("GET", "short")).toBe("$-1\r\n");
      await m.c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", 1);
    }
    await Promise.all([waitInSync(rm, br), waitInSync(bm, rr)]);
    expect([Number(await br.c.cmd("DBSIZE")), Number(await rr.c.cmd("DBSIZE"))]).toEqual([sizes[0] - 1, sizes[1] - 1]);
  });
});

describe.skipIf(noRedis || !REDIS_CLI || !REDIS_CHECK_RDB)("redis-cli --rdb", () => {
  let m: Node, dir: string;
  beforeAll(async () => {
    m = await startRedbun();
    expectNoErrors(await pipeline(m.c, allTypesCommands()));
    dir = mkdtempSync(join(tmpdir(), "redbun-repl-rdb-"));
  });
  afterAll(async () => { await m.stop(); rmSync(dir, { recursive: true, force: true }); });

  test("fetches a snapshot that redis-check-rdb accepts and redis-server loads with the same data", async () => {
    const file = join(dir, "dump.rdb");
    const cli = Bun.spawnSync([REDIS_CLI!, "-p", String(m.port), "--rdb", file], { timeout: 10000 });
    expect(cli.exitCode).toBe(0);
    expect(cli.stdout.toString() + cli.stderr.toString()).toContain("Transfer finished with success");
    const check = Bun.spawnSync([REDIS_CHECK_RDB!, file], { timeout: 10000 });
    const out = check.stdout.toString() + check.stderr.toString();
    expect(check.exitCode).toBe(0);
    expect(out).toContain("\\o/ RDB looks OK! \\o/");
    const keys = Object.keys(await dataset(m.port)).length;
    expect(out).toContain(`[info] ${keys} keys read`);
    // The fetch was not a replica: nothing stays connected.
    await waitFor("the fetch's connection to go", async () => (await info(m.c)).connected_slaves === "0" || "still listed");
    const loaded = await startRedis({ dbfilename: "dump.rdb", dir });
    try {
      await expectSameData(m, loaded);
    } finally {
      await loaded.stop();
    }
  });
});

describe.skipIf(noRedis || !REDIS_CLI || !REDIS_CHECK_RDB)("redis-cli --functions-rdb (REPLCONF rdb-filter-only)", () => {
  /** A master with a library and keys in two databases; what redis-cli --functions-rdb and --rdb
   *  fetch from it (redis-check-rdb's verdict, and what Redbun and redis-server hold after loading
   *  each file), and REPLCONF rdb-filter-only's errors. */
  async function functionsRdbScenario(start: typeof startRedbun): Promise<Record<string, unknown>> {
    const m = await start();
    const dir = mkdtempSync(join(tmpdir(), "redbun-repl-fnrdb-"));
    try {
      const lib = "#!lua name=fnrdb\nredis.register_function('fnrdb_f', function(keys, args) return 1 end)";
      expectNoErrors(await pipeline(m.c, [["FUNCTION", "LOAD", lib], ["SET", "k", "v"], ["HSET", "h", "f", "v"], ["SELECT", 2], ["SET", "k2", "x"], ["SELECT", 0]]));
      const seen: Record<string, unknown> = {};
      for (const [flag, file] of [["--functions-rdb", "functions.rdb"], ["--rdb", "all.rdb"]]) {
        const cli = Bun.spawnSync([REDIS_CLI!, "-p", String(m.port), flag, join(dir, file)], { timeout: 10000 });
        const check = Bun.spawnSync([REDIS_CHECK_RDB!, join(dir, file)], { timeout: 10000 });
        const checked = check.stdout.toString() + check.stderr.toString();
        const loadedBy: Record<string, unknown> = {};
        for (const [kind, loader] of [["redbun", startRedbun], ["redis", startRedis]] as const) {
          const n = await loader({ dir, dbfilename: file });
          try {
            loadedBy[kind] = { keys: Object.keys(await dataset(n.port)).sort(), libraries: ((await n.c.cmd("FUNCTION", "LIST")) as Reply[][]).map((l) => l[1]) };
          } finally {
            await n.stop();
          }
        }
        seen[flag] = {
          cli: [cli.exitCode, /Transfer finished with success/.test(cli.stdout.toString() + cli.stderr.toString())],
          check: [check.exitCode, checked.includes("\\o/ RDB looks OK! \\o/"), /\[info\] (\d+) keys read/.exec(checked)?.[1]],
          loadedBy,
        };
      }
      seen.errors = await pipeline(m.c, [["REPLCONF", "rdb-filter-only", "foo"], ["REPLCONF", "rdb-filter-only", "functions foo"], ["REPLCONF", "rdb-filter-only", "\"functions"], ["REPLCONF", "rdb-filter-only", ""]]);
      // The fetches were not replicas: nothing stays connected.
      await waitFor("the fetches' connections to go", async () => (await info(m.c)).connected_slaves === "0" || "still listed");
      return seen;
    } finally {
      await m.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const loaded = (keys: string[]) => ({ redbun: { keys, libraries: ["fnrdb"] }, redis: { keys, libraries: ["fnrdb"] } });
  const expected = {
    "--functions-rdb": { cli: [0, true], check: [0, true, "0"], loadedBy: loaded([]) },
    "--rdb": { cli: [0, true], check: [0, true, "3"], loadedBy: loaded(["0:h", "0:k", "2:k2"]) },
    errors: [
      "-ERR Unsupported rdb-filter-only option: foo\r\n", "-ERR Unsupported rdb-filter-only option: foo\r\n",
      "-ERR Missing rdb-filter-only values\r\n", "+OK\r\n",
    ],
  };

  test("from Redbun: the functions and no keys, or with --rdb everything; a filter other than functions is refused", async () => {
    expect(await functionsRdbScenario(startRedbun)).toEqual(expected);
  });

  test("from redis-server: the same", async () => {
    expect(await functionsRdbScenario(startRedis)).toEqual(expected);
  });
});

describe("client-output-buffer-limit replica", () => {
  test("a replica that stops reading is dropped at its class's hard limit, with Redis's log line", async () => {
    const m = await startRedbun({ "client-output-buffer-limit": "replica 2mb 0 0" });
    const { connect } = await import("node:net");
    // A replica that sends PSYNC and then never reads: its stream piles up on the master.
    const stalled = connect(m.port, "127.0.0.1");
    await new Promise((resolve) => stalled.once("connect", resolve));
    stalled.write(encode(["PSYNC", "?", "-1"]));
    try {
      await waitFor("the replica to be online", async () => (await info(m.c)).slave0?.includes("state=online") || "not online");
      const value = "v".repeat(100_000);
      for (let i = 0; i < 10 && (await info(m.c)).connected_slaves !== "0"; i++) {
        await pipeline(m.c, Array.from({ length: 50 }, (_, j) => ["SET", `k${j}`, value]));
      }
      expect((await info(m.c)).connected_slaves).toBe("0");
      expect(m.log()).toMatch(/scheduled to be closed ASAP for overcoming of output buffer limits/);
    } finally {
      stalled.destroy();
      await m.stop();
    }
  });
});
