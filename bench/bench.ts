/*
 * Redbun benchmark: `bun run bench` (this file).
 *
 * Starts a real redis-server and Redbun with the same settings, each in its own temp dir on a free
 * port, and measures both side by side:
 *
 *   1. Throughput — redis-benchmark against both, interleaved (Redis, Redbun, Redis, Redbun ...)
 *      for several rounds so that machine noise hits both alike. For every test and mode it
 *      reports the median requests/s of each, their ratio, and the ratio of server CPU time per
 *      request (utime+stime from /proc/<pid>/stat around each run), which stays meaningful when
 *      the benchmark client, not the server, is the bottleneck.
 *   2. Memory and persistence — RSS after 1M small string keys (DEBUG POPULATE) and after a
 *      1M-member hash / set / zset; time to first PING reply when loading a 1M-key RDB; the
 *      longest PING latency while a BGSAVE of that dataset runs.
 *
 * Writes bench/results.md (tables) and bench/results.svg (a hand-written bar chart).
 *
 * Environment:
 *   BENCH_QUICK=1       smoke run (~1 minute): one round, short runs, 100k-item datasets
 *   BENCH_ROUNDS=n      measured rounds per test and mode (default 5, quick 1)
 *   BENCH_REQUESTS=n    requests per redis-benchmark run, the same for every test and mode.
 *                       By default each (mode, test) gets its own count, calibrated so that one
 *                       run takes about BENCH_SECONDS on the slower of the two servers.
 *   BENCH_SECONDS=s     target duration of one run when calibrating (default 0.6, quick 0.15)
 *   BENCH_ITEMS=n       size of the memory / persistence datasets (default 1000000, quick 100000)
 *   BENCH_REV=commit    benchmark main.ts as committed there (default: the working tree's main.ts)
 *   BENCH_KEEP=1        keep the temp dirs (server logs, RDB files) after the run
 *   BENCH_TESTS=a,b     throughput of these tests only (e.g. evalsha,evalsha_5,fcall), printed as a table;
 *                       no memory part, and results.md and results.svg are left as they are
 *
 * When `taskset` is available, the servers run on CPU 1 and the client (redis-benchmark,
 * redis-cli and this script) on CPU 0. Only one server is busy at a time.
 */

import type { Socket } from "bun";
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir, totalmem, release, availableParallelism } from "node:os";
import { join, resolve } from "node:path";

// ============================================================================================
// Settings

const ROOT = resolve(import.meta.dir, "..");
const OUT_MD = join(ROOT, "bench", "results.md");
const KEPT_SECTION = "## Measurements behind choices in main.ts";
const OUT_SVG = join(ROOT, "bench", "results.svg");

const env = process.env;
const QUICK = env.BENCH_QUICK === "1";
const ROUNDS = Number(env.BENCH_ROUNDS ?? (QUICK ? 1 : 5));
const FIXED_REQUESTS = env.BENCH_REQUESTS ? Number(env.BENCH_REQUESTS) : 0;
const RUN_SECONDS = Number(env.BENCH_SECONDS ?? (QUICK ? 0.15 : 0.6));
const ITEMS = Number(env.BENCH_ITEMS ?? (QUICK ? 100_000 : 1_000_000));
const PERSIST_ROUNDS = QUICK ? 1 : 3; // BGSAVE stall and RDB load are repeated, median reported
const KEEP = env.BENCH_KEEP === "1";

const NCPU = availableParallelism();
const PIN = Bun.which("taskset") !== null && NCPU >= 2;
const SERVER_PIN = PIN ? ["taskset", "-c", "1"] : [];
const CLIENT_PIN = PIN ? ["taskset", "-c", "0"] : [];
const CLK_TCK = Number(sh(["getconf", "CLK_TCK"]) || 100);

type Kind = "redis" | "redbun";
const KINDS: Kind[] = ["redis", "redbun"];
const LABEL: Record<Kind, string> = { redis: "Redis", redbun: "Redbun" };

/** redis-benchmark modes. `inflight` = clients × pipeline, used to size the calibration runs. */
interface Mode { id: string; title: string; args: string[]; dataSize: number; inflight: number }
const MODES: Mode[] = [
  { id: "c50", title: "50 clients", args: ["-c", "50"], dataSize: 3, inflight: 50 },
  { id: "p16", title: "50 clients, pipeline 16 (-P 16)", args: ["-c", "50", "-P", "16"], dataSize: 3, inflight: 800 },
  { id: "c1", title: "1 client (-c 1)", args: ["-c", "1"], dataSize: 3, inflight: 1 },
  { id: "d1024", title: "50 clients, 1 KiB values (-d 1024)", args: ["-c", "50", "-d", "1024"], dataSize: 1024, inflight: 50 },
  { id: "r1m", title: "50 clients, pipeline 16, 1M random keys (-r 1000000 -P 16)", args: ["-c", "50", "-P", "16", "-r", "1000000"], dataSize: 3, inflight: 800 },
];

/**
 * Tests, in redis-benchmark's own order (later ones rely on earlier ones: lpop pops what lpush
 * pushed). Built-in tests run with `-t name`. lrange_* and xadd run as custom command lines:
 * redis-benchmark's own lrange tests first run an LPUSH of n requests, which would be counted in
 * the CPU time, so the list is filled here instead (600 values of the mode's size, as
 * redis-benchmark does), and redis-benchmark 7.0 has no xadd test. Tests in the same `group`
 * use one request count so that pushes and pops stay balanced across rounds.
 */
interface Test { name: string; group?: string; cmd?: (m: Mode) => string[]; before?: (c: Conn, m: Mode) => Promise<void> }
const value = (m: Mode) => "x".repeat(m.dataSize);
const fillList = async (c: Conn, m: Mode) => { await c.cmd("DEL", "mylist"); await c.cmd("RPUSH", "mylist", ...Array(600).fill(value(m))); };
/** The scripts of the scripting tests: one redis.call, five, and a function doing one. */
const SCRIPT_1 = "return redis.call('INCR', KEYS[1])";
const SCRIPT_5 = "redis.call('SET', KEYS[1], ARGV[1]); redis.call('GET', KEYS[1]); redis.call('INCR', KEYS[2]); " +
  "redis.call('EXPIRE', KEYS[1], 100); return redis.call('TTL', KEYS[1])";
const LIBRARY = "#!lua name=bench\nredis.register_function('bench_incr', function(keys) return redis.call('INCR', keys[1]) end)";
const sha1 = (s: string) => new Bun.CryptoHasher("sha1").update(s).digest("hex");
const loadScripts = async (c: Conn) => {
  await c.cmd("SCRIPT", "LOAD", SCRIPT_1);
  await c.cmd("SCRIPT", "LOAD", SCRIPT_5);
  await c.cmd("FUNCTION", "LOAD", "REPLACE", LIBRARY);
};
/** The data model tests' keys: a 125 KB bitmap (a million bits), a HyperLogLog, and 10,000
 *  positions around Sicily for GEOSEARCH. */
const fillBitmap = async (c: Conn) => { await c.cmd("DEL", "mybits"); await c.cmd("SETBIT", "mybits", "999999", "1"); };
/** GEOADD's position: in the -r mode random, from `__rand_int__` (a 12-digit integer there) read
 *  as 0..99.9999 and 0..9.99999 degrees; otherwise fixed (redis-benchmark leaves `__rand_int__`
 *  as it is outside -r). */
const geoaddPosition = (m: Mode) => (m.args.includes("-r") ? ["__rand_int__e-4", "__rand_int__e-5"] : ["13.361389", "38.115556"]);
const fillGeo = async (c: Conn) => {
  await c.cmd("DEL", "mygeo");
  for (let b = 0; b < 10; b++) {
    const args: string[] = [];
    for (let i = b * 1000; i < (b + 1) * 1000; i++) args.push(String(13 + ((i * 7919) % 1000) / 400), String(36.5 + ((i * 104729) % 1000) / 500), `p${i}`);
    await c.cmd("GEOADD", "mygeo", ...args);
  }
};
const ALL_TESTS: Test[] = [
  { name: "set" }, { name: "get" }, { name: "incr" },
  { name: "lpush", group: "list" }, { name: "rpush", group: "list" }, { name: "lpop", group: "list" }, { name: "rpop", group: "list" },
  { name: "sadd", group: "set" }, { name: "hset" }, { name: "spop", group: "set" }, { name: "zadd" },
  { name: "lrange_100", cmd: () => ["LRANGE", "mylist", "0", "99"], before: fillList },
  { name: "lrange_600", cmd: () => ["LRANGE", "mylist", "0", "599"], before: fillList },
  { name: "mset" },
  { name: "xadd", cmd: (m) => ["XADD", "mystream", "*", "field", value(m)], before: async (c) => { await c.cmd("DEL", "mystream"); } },
  { name: "evalsha", cmd: () => ["EVALSHA", sha1(SCRIPT_1), "1", "counter"], before: loadScripts },
  { name: "evalsha_5", cmd: (m) => ["EVALSHA", sha1(SCRIPT_5), "2", "skey", "counter", value(m)], before: loadScripts },
  { name: "fcall", cmd: () => ["FCALL", "bench_incr", "1", "counter"], before: loadScripts },
  { name: "setbit", cmd: () => ["SETBIT", "mybits", "100003", "1"], before: fillBitmap },
  { name: "getbit", cmd: () => ["GETBIT", "mybits", "100003"], before: fillBitmap },
  { name: "bitcount", cmd: () => ["BITCOUNT", "mybits"], before: fillBitmap },
  { name: "pfadd", cmd: () => ["PFADD", "myhll", "__rand_int__"], before: async (c) => { await c.cmd("DEL", "myhll"); } },
  { name: "pfcount", cmd: () => ["PFCOUNT", "myhll"] },
  { name: "geoadd", cmd: (m) => ["GEOADD", "mygeo", ...geoaddPosition(m), "__rand_int__"], before: async (c) => { await c.cmd("DEL", "mygeo"); } },
  { name: "geosearch", cmd: () => ["GEOSEARCH", "mygeo", "FROMLONLAT", "14", "37.5", "BYRADIUS", "20", "km", "ASC", "COUNT", "10"], before: fillGeo },
];
const ONLY = env.BENCH_TESTS ? new Set(env.BENCH_TESTS.split(",")) : null;
const TESTS = ALL_TESTS.filter((t) => !ONLY || ONLY.has(t.name));

// ============================================================================================
// Small helpers

function sh(cmd: string[]): string {
  try {
    const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
    return (r.stdout.toString() || r.stderr.toString()).trim();
  } catch { return ""; }
}
const sleep = (ms: number) => Bun.sleep(ms);
const now = () => performance.now();
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const k = s.length >> 1; return s.length ? (s.length % 2 ? s[k] : (s[k - 1] + s[k]) / 2) : NaN; };
const geomean = (xs: number[]) => xs.length ? Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length) : NaN;
const log = (s: string) => console.log(s);
const notes: string[] = []; // errors, crashes and outliers, listed at the end of results.md

/** A free TCP port on 127.0.0.1 (ask the kernel for one, then release it). */
function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

// ============================================================================================
// A minimal RESP2 client (setup commands, PING probes)

type Reply = string | number | null | Error | Reply[];

function parseReply(b: Buffer, p: number): [Reply, number] | null {
  const eol = b.indexOf("\r\n", p);
  if (eol < 0) return null;
  const line = b.toString("latin1", p + 1, eol), next = eol + 2;
  switch (b[p]) {
    case 43: return [line, next]; // +
    case 45: return [new Error(line), next]; // -
    case 58: return [Number(line), next]; // :
    case 36: { // $
      const n = Number(line);
      if (n < 0) return [null, next];
      return next + n + 2 <= b.length ? [b.toString("latin1", next, next + n), next + n + 2] : null;
    }
    case 42: { // *
      const n = Number(line);
      if (n < 0) return [null, next];
      const items: Reply[] = [];
      let q = next;
      for (let i = 0; i < n; i++) {
        const r = parseReply(b, q);
        if (!r) return null;
        items.push(r[0]);
        q = r[1];
      }
      return [items, q];
    }
  }
  throw new Error(`unexpected reply byte ${b[p]}`);
}

class Conn {
  private sock!: Socket<undefined>;
  private buf = Buffer.alloc(0);
  private out: Buffer[] = [];
  private waiting: ((r: Reply) => void)[] = [];

  static async open(port: number): Promise<Conn> {
    const c = new Conn();
    c.sock = await Bun.connect({
      hostname: "127.0.0.1", port,
      socket: {
        data: (_s, chunk) => c.onData(chunk),
        drain: () => c.flush(),
        close: () => c.onClose(),
        error: () => c.onClose(),
      },
    });
    return c;
  }
  /** Sends one command; resolves with the reply (an Error object for error replies). */
  send(...args: (string | number)[]): Promise<Reply> {
    let s = `*${args.length}\r\n`;
    for (const a of args) { const v = String(a); s += `$${Buffer.byteLength(v)}\r\n${v}\r\n`; }
    this.out.push(Buffer.from(s));
    this.flush();
    return new Promise((res) => this.waiting.push(res));
  }
  /** As send, but throws on error replies. */
  async cmd(...args: (string | number)[]): Promise<Reply> {
    const r = await this.send(...args);
    if (r instanceof Error) throw new Error(`${args[0]}: ${r.message}`);
    return r;
  }
  close() { this.sock.end(); }
  private flush() {
    while (this.out.length) {
      const b = this.out[0], n = this.sock.write(b);
      if (n < b.length) { this.out[0] = b.subarray(Math.max(n, 0)); return; }
      this.out.shift();
    }
  }
  private onData(chunk: Buffer) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : Buffer.from(chunk);
    let pos = 0;
    for (let r; pos < this.buf.length && (r = parseReply(this.buf, pos)); pos = r[1]) this.waiting.shift()?.(r[0]);
    this.buf = this.buf.subarray(pos);
  }
  private onClose() { for (const w of this.waiting.splice(0)) w(new Error("connection closed")); }
}

/** One command on a fresh connection. */
async function once(port: number, ...args: (string | number)[]): Promise<Reply> {
  const c = await Conn.open(port);
  try { return await c.cmd(...args); } finally { c.close(); }
}

// ============================================================================================
// Servers

const WORK = mkdtempSync(join(tmpdir(), "redbun-bench-"));
// Run Redbun from a snapshot of main.ts so that every start in this run uses the same code:
// the working tree's, or with BENCH_REV=<commit> the one committed there.
const REV = env.BENCH_REV ?? "";
const MAIN = join(WORK, "main.ts");
if (REV) {
  const r = Bun.spawnSync(["git", "-C", ROOT, "show", `${REV}:main.ts`], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`git show ${REV}:main.ts failed: ${r.stderr.toString()}`);
  writeFileSync(MAIN, r.stdout);
} else copyFileSync(join(ROOT, "main.ts"), MAIN);
const running = new Set<Server>();

class Server {
  port = 0;
  proc!: ReturnType<typeof Bun.spawn>;
  readonly log: string;
  constructor(readonly kind: Kind, readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.log = join(dir, "server.log");
  }
  get pid() { return this.proc.pid; }
  get alive() { return this.proc?.exitCode === null && this.proc.signalCode === null; }

  /** Starts the server; resolves with the ms from spawn to the first +PONG. */
  async start(): Promise<number> {
    this.port = freePort();
    const args = ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
      "--enable-debug-command", "yes", "--dir", this.dir];
    const cmd = this.kind === "redis" ? ["redis-server", ...args] : ["bun", "run", MAIN, ...args];
    const fd = openSync(this.log, "a");
    const t0 = now();
    this.proc = Bun.spawn([...SERVER_PIN, ...cmd], { cwd: this.dir, stdin: "ignore", stdout: fd, stderr: fd });
    closeSync(fd);
    running.add(this);
    while (now() - t0 < 120_000) {
      if (!this.alive) throw new Error(`${LABEL[this.kind]} exited at startup:\n${this.logTail()}`);
      try {
        const c = await Conn.open(this.port);
        try {
          for (;;) {
            const r = await c.send("PING");
            if (r === "PONG") return now() - t0;
            if (!(r instanceof Error && r.message.startsWith("LOADING"))) break;
            await sleep(2);
          }
        } finally { c.close(); }
      } catch { /* not listening yet */ }
      await sleep(2);
    }
    throw new Error(`${LABEL[this.kind]} did not answer PING within 120 s`);
  }

  async stop() {
    running.delete(this);
    if (!this.alive) return;
    this.proc.kill("SIGTERM");
    const done = await Promise.race([this.proc.exited.then(() => true), sleep(15_000).then(() => false)]);
    if (!done) { this.proc.kill("SIGKILL"); await this.proc.exited; }
  }

  /** utime+stime of the whole process (all threads), in seconds. */
  cpuSeconds(): number {
    const stat = readFileSync(`/proc/${this.pid}/stat`, "latin1");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // f[0] is field 3 (state)
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  }
  rssBytes(): number {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, "latin1"));
    return m ? Number(m[1]) * 1024 : NaN;
  }
  logTail(lines = 15): string {
    try { return readFileSync(this.log, "utf8").trimEnd().split("\n").slice(-lines).join("\n"); } catch { return ""; }
  }
}

async function stopAll() { await Promise.all([...running].map((s) => s.stop())); }
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, async () => { await stopAll(); if (!KEEP) rmSync(WORK, { recursive: true, force: true }); process.exit(130); });
}

// ============================================================================================
// 1. Throughput: redis-benchmark runs

interface Run { rps: number; cpuPerReq: number; error?: string }

/** One redis-benchmark run against one server, with the server's CPU time around it. */
async function runBenchmark(s: Server, m: Mode, t: Test, n: number): Promise<Run> {
  const cmd = [...CLIENT_PIN, "redis-benchmark", "-h", "127.0.0.1", "-p", String(s.port), "-n", String(n), "--csv", ...m.args,
    ...(t.cmd ? t.cmd(m) : ["-t", t.name])];
  const cpu0 = s.cpuSeconds();
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => p.kill("SIGKILL"), 120_000);
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  await p.exited;
  clearTimeout(timer);
  const cpu = s.alive ? s.cpuSeconds() - cpu0 : NaN;
  const row = out.split("\n").find((l) => l && !l.startsWith('"test"'));
  const rps = row ? Number(row.split('","')[1]) : NaN;
  if (p.exitCode !== 0 || !(rps > 0)) {
    const why = p.signalCode === "SIGKILL" ? "timed out after 120 s" : (err + out).trim().split("\n").slice(-3).join(" / ");
    return { rps: NaN, cpuPerReq: NaN, error: `exit ${p.exitCode ?? p.signalCode}: ${why.slice(0, 300)}` };
  }
  return { rps, cpuPerReq: cpu / n };
}

/** Restarts a server that died (recorded in the notes), so the rest of the run can go on. */
async function ensureAlive(s: Server, where: string) {
  if (s.alive) return;
  const msg = `${LABEL[s.kind]} died during ${where} (exit ${s.proc.exitCode ?? s.proc.signalCode}); log tail:\n\n\`\`\`\n${s.logTail()}\n\`\`\``;
  notes.push(msg);
  log(`!! ${msg}`);
  await s.stop();
  await s.start();
}

/**
 * Calibrates a request count so one run takes ~RUN_SECONDS on the slower server (doubles as
 * warm-up): a tiny run, then two short ones per server. Noise only ever lowers a rate, so each
 * server's best short run counts, and the slower server's rate decides.
 */
async function calibrate(servers: Server[], m: Mode, t: Test): Promise<number> {
  const best = new Map<Server, number>(); // each server's best rate at the current size
  const measure = async (n: number) => {
    for (const s of servers) {
      if (t.before) { const c = await Conn.open(s.port); await t.before(c, m); c.close(); }
      const r = await runBenchmark(s, m, t, n);
      best.set(s, Math.max(best.get(s) ?? 0, r.error ? 1000 : r.rps));
    }
    return Math.min(...best.values());
  };
  let rate = await measure(Math.max(1000, m.inflight * 4)); // tiny run: a rough rate
  if (!QUICK) {
    const n = Math.max(1000, m.inflight * 4, Math.round(rate * Math.min(RUN_SECONDS, 0.15)));
    best.clear();
    await measure(n);
    rate = await measure(n);
  }
  const target = Math.max(1000, m.inflight * 8, rate * RUN_SECONDS);
  const mag = 10 ** Math.floor(Math.log10(target) - 1); // two significant digits
  return Math.round(target / mag) * mag;
}

interface Cell { test: string; n: number; runs: Record<Kind, Run[]> }

async function throughput(servers: Record<Kind, Server>): Promise<Record<string, Cell[]>> {
  const results: Record<string, Cell[]> = {};
  const list = [servers.redis, servers.redbun]; // the interleaving order
  const reset = async () => { for (const s of list) await once(s.port, "FLUSHALL"); };
  for (const m of MODES) {
    log(`\n== ${m.title}`);
    // Calibrate (and warm up) every test, then share counts within groups.
    await reset();
    const n: Record<string, number> = {};
    for (const t of TESTS) n[t.name] = FIXED_REQUESTS || await calibrate(list, m, t);
    for (const t of TESTS) if (t.group) n[t.name] = Math.min(...TESTS.filter((u) => u.group === t.group).map((u) => n[u.name]));
    const cells: Cell[] = TESTS.map((t) => ({ test: t.name, n: n[t.name], runs: { redis: [], redbun: [] } }));
    await reset();
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [i, t] of TESTS.entries()) {
        const cell = cells[i];
        for (const s of list) {
          if (t.before) { const c = await Conn.open(s.port); await t.before(c, m); c.close(); }
          let r = await runBenchmark(s, m, t, cell.n);
          if (r.error) { // recorded, then retried once (after a restart if the server died)
            const msg = `${LABEL[s.kind]} ${m.id} ${t.name} round ${round}: redis-benchmark failed: ${r.error}`;
            log(`!! ${msg}`);
            await ensureAlive(s, `${m.id} ${t.name}`);
            if (t.before) { const c = await Conn.open(s.port); await t.before(c, m); c.close(); }
            r = await runBenchmark(s, m, t, cell.n);
            notes.push(`${msg}${r.error ? `; the retry failed too: ${r.error}` : "; the retry succeeded and is counted"}`);
          }
          cell.runs[s.kind].push(r);
          await ensureAlive(s, `${m.id} ${t.name}`);
        }
        const [a, b] = [cell.runs.redis.at(-1)!, cell.runs.redbun.at(-1)!];
        log(`[${m.id} ${round}/${ROUNDS}] ${t.name.padEnd(10)} n=${String(cell.n).padEnd(8)} Redis ${fmtInt(a.rps).padStart(10)}/s ` +
          `Redbun ${fmtInt(b.rps).padStart(10)}/s  ratio ${fmtRatio(b.rps / a.rps)}  cpu/req ratio ${fmtRatio(b.cpuPerReq / a.cpuPerReq)}`);
      }
    }
    results[m.id] = cells;
  }
  return results;
}

// ============================================================================================
// 2. Memory and persistence

interface Persist {
  rss: Record<string, Record<Kind, { empty: number; full: number; buildSec: number }>>;
  startEmptyMs: Record<Kind, number[]>;
  loadMs: Record<Kind, number[]>;
  saveSec: Record<Kind, number>;
  rdbBytes: Record<Kind, number>;
  loadedKeys: Record<Kind, number>;
  stall: Record<Kind, { maxMs: number; idleMaxMs: number; bgsaveSec: number; pings: number }[]>;
}

/** Max PING latency while `during` runs, pinging every ~1 ms on one connection. */
async function pingWhile(port: number, during: () => Promise<void>): Promise<{ maxMs: number; pings: number }> {
  const c = await Conn.open(port);
  let stop = false, maxMs = 0, pings = 0;
  const loop = (async () => {
    while (!stop) {
      const t0 = now();
      const r = await c.send("PING");
      const dt = now() - t0;
      if (r !== "PONG") throw new Error(`PING: ${r}`);
      maxMs = Math.max(maxMs, dt);
      pings++;
      await sleep(1); // Bun.sleep rounds fractions of a millisecond down to 0
    }
  })();
  await during();
  stop = true;
  await loop;
  c.close();
  return { maxMs, pings };
}

/** Sets the CPU affinity of all threads of a process (no-op without taskset). */
function setAffinity(pid: number, cpus: string) { if (PIN) sh(["taskset", "-a", "-p", "-c", cpus, String(pid)]); }

async function bgsaveStall(s: Server) {
  // Unpinned for this test: with the server pinned to one CPU, Redis's forked child would compete
  // with its own parent for that CPU, which is not how Redis is meant to run.
  const all = `0-${NCPU - 1}`;
  setAffinity(s.pid, all); setAffinity(process.pid, all);
  try { return await bgsaveStallUnpinned(s); } finally { setAffinity(s.pid, "1"); setAffinity(process.pid, "0"); }
}

async function bgsaveStallUnpinned(s: Server) {
  const idle = await pingWhile(s.port, () => sleep(500));
  const ctl = await Conn.open(s.port);
  let bgsaveSec = 0;
  const r = await pingWhile(s.port, async () => {
    await sleep(20);
    const t0 = now();
    await ctl.cmd("BGSAVE");
    for (;;) {
      const info = String(await ctl.cmd("INFO", "persistence"));
      if (/rdb_bgsave_in_progress:0/.test(info)) {
        if (!/rdb_last_bgsave_status:ok/.test(info)) throw new Error(`${LABEL[s.kind]}: BGSAVE failed`);
        break;
      }
      await sleep(10);
    }
    bgsaveSec = (now() - t0) / 1000;
    await sleep(20);
  });
  ctl.close();
  return { maxMs: r.maxMs, idleMaxMs: idle.maxMs, bgsaveSec, pings: r.pings };
}

/** Writes the RESP protocol of `count` commands to a file, for redis-cli --pipe. */
function protocolFile(path: string, count: number, args: (i: number) => string[]) {
  const parts: string[] = [];
  const fd = openSync(path, "w");
  for (let i = 0; i < count; i++) {
    const a = args(i);
    let s = `*${a.length}\r\n`;
    for (const v of a) s += `$${v.length}\r\n${v}\r\n`;
    parts.push(s);
    if (parts.length === 10_000 || i === count - 1) { writeSync(fd, parts.join("")); parts.length = 0; }
  }
  closeSync(fd);
}

async function pipeInto(s: Server, file: string): Promise<number> {
  const t0 = now();
  const p = Bun.spawn([...CLIENT_PIN, "redis-cli", "-h", "127.0.0.1", "-p", String(s.port), "--pipe"],
    { stdin: Bun.file(file), stdout: "pipe", stderr: "pipe" });
  const out = await new Response(p.stdout).text() + await new Response(p.stderr).text();
  await p.exited;
  const m = /errors: (\d+), replies: (\d+)/.exec(out);
  if (p.exitCode !== 0 || !m || m[1] !== "0") throw new Error(`${LABEL[s.kind]}: redis-cli --pipe failed: ${out.trim().slice(-300)}`);
  return (now() - t0) / 1000;
}

const settle = () => sleep(QUICK ? 300 : 2000); // let both processes finish freeing / collecting before reading RSS

async function persistence(): Promise<Persist> {
  const P: Persist = {
    rss: {}, startEmptyMs: { redis: [], redbun: [] }, loadMs: { redis: [], redbun: [] }, saveSec: { redis: 0, redbun: 0 },
    rdbBytes: { redis: 0, redbun: 0 }, loadedKeys: { redis: 0, redbun: 0 }, stall: { redis: [], redbun: [] },
  };
  const fresh = async (tag: string) => {
    const ss = KINDS.map((k) => new Server(k, join(WORK, `${tag}-${k}`)));
    for (const s of ss) await s.start();
    return ss;
  };

  // Startup time of an empty server, for context to the RDB load time.
  log(`\n== Memory and persistence (${fmtInt(ITEMS)} items)`);
  for (let i = 0; i < PERSIST_ROUNDS; i++) {
    for (const k of KINDS) { const s = new Server(k, join(WORK, `empty-${k}-${i}`)); P.startEmptyMs[k].push(await s.start()); await s.stop(); }
  }

  // Strings via DEBUG POPULATE; then BGSAVE stalls, SAVE, and restarts that load the RDB.
  const strings = await fresh("strings");
  P.rss.strings = {} as any;
  for (const s of strings) {
    await settle();
    const empty = s.rssBytes(), t0 = now();
    await once(s.port, "DEBUG", "POPULATE", ITEMS);
    const buildSec = (now() - t0) / 1000;
    await settle();
    P.rss.strings[s.kind] = { empty, full: s.rssBytes(), buildSec };
    log(`strings: ${LABEL[s.kind]} RSS ${fmtMB(P.rss.strings[s.kind].full)} (DEBUG POPULATE ${buildSec.toFixed(2)} s)`);
  }
  for (let i = 0; i < PERSIST_ROUNDS; i++) {
    for (const s of strings) {
      const r = await bgsaveStall(s);
      P.stall[s.kind].push(r);
      log(`BGSAVE: ${LABEL[s.kind]} max PING latency ${r.maxMs.toFixed(1)} ms (idle ${r.idleMaxMs.toFixed(1)} ms, BGSAVE ${r.bgsaveSec.toFixed(2)} s, ${r.pings} pings)`);
    }
  }
  for (const s of strings) {
    const t0 = now();
    await once(s.port, "SAVE");
    P.saveSec[s.kind] = (now() - t0) / 1000;
    P.rdbBytes[s.kind] = statSync(join(s.dir, "dump.rdb")).size;
  }
  for (let i = 0; i < PERSIST_ROUNDS; i++) {
    for (const s of strings) {
      await s.stop();
      const ms = await s.start();
      P.loadMs[s.kind].push(ms);
      P.loadedKeys[s.kind] = Number(await once(s.port, "DBSIZE"));
      log(`RDB load: ${LABEL[s.kind]} first PONG after ${ms.toFixed(0)} ms, ${P.loadedKeys[s.kind]} keys`);
    }
  }
  for (const s of strings) await s.stop();

  // A hash, a set and a sorted set of ITEMS members each, built with redis-cli --pipe.
  const builds: [string, (i: number) => string[]][] = [
    ["hash", (i) => ["HSET", "myhash", `field:${i}`, `value:${i}`]],
    ["set", (i) => ["SADD", "myset", `member:${i}`]],
    ["zset", (i) => ["ZADD", "myzset", String(i), `member:${i}`]],
  ];
  for (const [name, args] of builds) {
    const file = join(WORK, `${name}.resp`);
    protocolFile(file, ITEMS, args);
    const ss = await fresh(name);
    P.rss[name] = {} as any;
    for (const s of ss) {
      await settle();
      const empty = s.rssBytes();
      const buildSec = await pipeInto(s, file);
      await settle();
      P.rss[name][s.kind] = { empty, full: s.rssBytes(), buildSec };
      log(`${name}: ${LABEL[s.kind]} RSS ${fmtMB(P.rss[name][s.kind].full)} (built in ${buildSec.toFixed(2)} s)`);
    }
    for (const s of ss) await s.stop();
    rmSync(file, { force: true });
  }
  return P;
}

// ============================================================================================
// Formatting

const fmtInt = (x: number) => Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "—";
const fmtRatio = (x: number) => Number.isFinite(x) ? `${x.toFixed(2)}×` : "—";
const fmtMB = (b: number) => Number.isFinite(b) ? `${(b / 2 ** 20).toFixed(1)} MiB` : "—";
const fmtUs = (sec: number) => Number.isFinite(sec) ? (sec * 1e6).toPrecision(3) : "—";
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

interface Row { test: string; n: number; rps: Record<Kind, number>; cpu: Record<Kind, number>; ratio: number; cpuRatio: number; spread: [number, number]; errors: number }

function summarize(c: Cell): Row {
  const ok = (rs: Run[]) => rs.filter((r) => !r.error);
  const rps = { redis: median(ok(c.runs.redis).map((r) => r.rps)), redbun: median(ok(c.runs.redbun).map((r) => r.rps)) };
  // CPU per request pooled over rounds (total CPU ÷ total requests): /proc/<pid>/stat counts in 10 ms ticks.
  const pooled = (rs: Run[]) => { const g = ok(rs).filter((r) => Number.isFinite(r.cpuPerReq)); return g.reduce((a, r) => a + r.cpuPerReq, 0) / g.length; };
  const cpu = { redis: pooled(c.runs.redis), redbun: pooled(c.runs.redbun) };
  const paired = c.runs.redis.map((r, i) => c.runs.redbun[i].rps / r.rps).filter(Number.isFinite);
  return {
    test: c.test, n: c.n, rps, cpu, ratio: rps.redbun / rps.redis, cpuRatio: cpu.redbun / cpu.redis,
    spread: [Math.min(...paired), Math.max(...paired)], errors: [...c.runs.redis, ...c.runs.redbun].filter((r) => r.error).length,
  };
}

function machine() {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? "unknown CPU";
  const git = sh(["git", "-C", ROOT, "rev-parse", "--short", REV || "HEAD"]);
  const dirty = !REV && sh(["git", "-C", ROOT, "status", "--porcelain", "main.ts"]) ? " + uncommitted changes to main.ts" : "";
  return {
    nproc: NCPU, model, memGiB: (totalmem() / 2 ** 30).toFixed(1), kernel: release(),
    redis: (() => { const v = sh(["redis-server", "--version"]); return `${/v=(\S+)/.exec(v)?.[1] ?? v} (${/malloc=(\S+)/.exec(v)?.[1] ?? "?"})`; })(),
    benchmark: sh(["redis-benchmark", "--version"]), bun: Bun.version, redbun: `${git}${dirty}`,
    pin: PIN ? "servers on CPU 1, client on CPU 0 (taskset)" : "none (taskset not available or 1 CPU)",
  };
}

function markdown(results: Record<string, Cell[]>, P: Persist, info: ReturnType<typeof machine>, date: string, minutes: number, loadavg: string[]): string {
  const L: string[] = [];
  L.push("# Redbun vs Redis benchmark", "");
  L.push(`Generated by \`bun run bench\` on ${date} in ${minutes.toFixed(1)} minutes${QUICK ? " (**quick mode: smoke test, numbers are rough**)" : ""}.`, "");
  L.push(`- Machine: ${info.nproc} × ${info.model}, ${info.memGiB} GiB RAM, Linux ${info.kernel}; load average ${loadavg[0]} at start, ${loadavg[1]} at end (shared machine)`);
  L.push(`- Redis: redis-server ${info.redis}; client: redis-benchmark ${info.benchmark.replace(/^redis-benchmark /, "")}`);
  L.push(`- Redbun: commit ${info.redbun}, Bun ${info.bun}`);
  L.push(`- Both started with \`--save '' --appendonly no --enable-debug-command yes --bind 127.0.0.1\` in temp dirs; CPU pinning: ${info.pin}`);
  L.push(`- ${ROUNDS} round(s); each round runs every test against Redis then Redbun; ${FIXED_REQUESTS ? `${FIXED_REQUESTS} requests per run` : `requests per run calibrated to ~${RUN_SECONDS} s on the slower server`}`);
  L.push("", "Ratios are Redbun ÷ Redis. Throughput: above 1 means Redbun is faster. CPU per request: the server process's",
    "utime+stime (all threads) summed over the rounds, divided by the requests; above 1 means Redbun uses more CPU. Where both reach about the same",
    "requests/s, the single-threaded client is the bottleneck and the CPU ratio is the number to look at. \"Per-round",
    "ratios\" is the range of Redbun ÷ Redis over the rounds, run by run; a wide range means the machine was noisy.", "");

  const rows: Record<string, Row[]> = {};
  for (const m of MODES) rows[m.id] = (results[m.id] ?? []).map(summarize);

  L.push("## Summary (geometric mean over tests)", "", "| mode | throughput ratio | CPU per request ratio |", "|---|---:|---:|");
  for (const m of MODES) {
    const rs = rows[m.id];
    L.push(`| ${m.title} | ${fmtRatio(geomean(rs.map((r) => r.ratio).filter(Number.isFinite)))} | ${fmtRatio(geomean(rs.map((r) => r.cpuRatio).filter((x) => Number.isFinite(x) && x > 0)))} |`);
  }
  L.push("", "![Redbun vs Redis](results.svg)", "");

  for (const m of MODES) {
    L.push(`## ${m.title}`, "", `\`redis-benchmark ${m.args.join(" ")} -n <requests> --csv -t <test>\``, "");
    L.push("| test | requests | Redis req/s | Redbun req/s | ratio | per-round ratios | Redis CPU µs/req | Redbun CPU µs/req | CPU ratio |",
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const r of rows[m.id]) {
      L.push(`| ${r.test}${r.errors ? ` ⚠ ${r.errors} failed` : ""} | ${fmtInt(r.n)} | ${fmtInt(r.rps.redis)} | ${fmtInt(r.rps.redbun)} | **${fmtRatio(r.ratio)}** | ` +
        `${Number.isFinite(r.spread[0]) ? `${r.spread[0].toFixed(2)}–${r.spread[1].toFixed(2)}` : "—"} | ` +
        `${fmtUs(r.cpu.redis)} | ${fmtUs(r.cpu.redbun)} | **${fmtRatio(r.cpuRatio)}** |`);
      if (r.ratio < 0.5) notes.push(`Low throughput ratio: ${m.id} ${r.test} ${fmtRatio(r.ratio)} (CPU ratio ${fmtRatio(r.cpuRatio)}).`);
      else if (r.cpuRatio > 3) notes.push(`High CPU per request: ${m.id} ${r.test} ${fmtRatio(r.cpuRatio)} (throughput ratio ${fmtRatio(r.ratio)}).`);
    }
    L.push("");
  }
  L.push("lrange_100/lrange_600 run as custom commands (`LRANGE mylist 0 99` / `0 599`) on a 600-element list filled",
    "beforehand, so redis-benchmark's own LPUSH pre-fill is not counted. redis-benchmark 7.0 has no xadd test; xadd runs",
    "`XADD mystream * field <value>` with a value of the mode's size, on a stream deleted before each run.",
    "evalsha runs `EVALSHA <sha1> 1 counter` of `return redis.call('INCR', KEYS[1])`; evalsha_5 a script of five",
    "redis.call (SET, GET, INCR, EXPIRE, TTL) with a value of the mode's size; fcall a function doing one INCR.",
    "setbit, getbit and bitcount work on a 125 KB bitmap (bit 999,999 set first), setbit and getbit at bit 100,003",
    "(`__rand_int__` cannot be an offset: redis-benchmark pads it with zeros, which offsets refuse). pfadd adds `__rand_int__`",
    "to one HyperLogLog, deleted first; pfcount counts it (its cached estimate, refreshed after each change).",
    "geoadd adds a member named `__rand_int__`, in the -r mode at a random position (`__rand_int__e-4 __rand_int__e-5`),",
    "elsewhere at a fixed one; geosearch asks for the 10 nearest within 20 km among 10,000 positions.", "");

  // Memory and persistence
  const rss = (k: string) => P.rss[k];
  L.push(`## Memory (${fmtInt(ITEMS)} items)`, "", "RSS from /proc/<pid>/status after building the dataset (and ~2 s to settle); per item = (RSS − RSS of the empty server) ÷ items.", "");
  L.push("| dataset | Redis RSS | Redbun RSS | ratio | Redis bytes/item | Redbun bytes/item | build time Redis / Redbun |", "|---|---:|---:|---:|---:|---:|---:|");
  const dsTitle: Record<string, string> = {
    strings: `${fmtInt(ITEMS)} string keys (DEBUG POPULATE)`, hash: `hash of ${fmtInt(ITEMS)} fields (HSET)`,
    set: `set of ${fmtInt(ITEMS)} members (SADD)`, zset: `zset of ${fmtInt(ITEMS)} members (ZADD)`,
  };
  for (const k of Object.keys(P.rss)) {
    const a = rss(k).redis, b = rss(k).redbun;
    L.push(`| ${dsTitle[k]} | ${fmtMB(a.full)} | ${fmtMB(b.full)} | **${fmtRatio(b.full / a.full)}** | ${fmtInt((a.full - a.empty) / ITEMS)} | ` +
      `${fmtInt((b.full - b.empty) / ITEMS)} | ${a.buildSec.toFixed(2)} s / ${b.buildSec.toFixed(2)} s |`);
  }
  L.push("", "Hash, set and zset are built by piping one command per member through `redis-cli --pipe`.", "");

  L.push("## Persistence", "", "| | Redis | Redbun | ratio |", "|---|---:|---:|---:|");
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  const medStart = { redis: median(P.startEmptyMs.redis), redbun: median(P.startEmptyMs.redbun) };
  const medLoad = { redis: median(P.loadMs.redis), redbun: median(P.loadMs.redbun) };
  L.push(`| start, empty: spawn → first PONG (median of ${PERSIST_ROUNDS}) | ${ms(medStart.redis)} | ${ms(medStart.redbun)} | ${fmtRatio(medStart.redbun / medStart.redis)} |`);
  L.push(`| start with ${fmtInt(ITEMS)}-key RDB: spawn → first PONG (median of ${PERSIST_ROUNDS}) | ${ms(medLoad.redis)} | ${ms(medLoad.redbun)} | **${fmtRatio(medLoad.redbun / medLoad.redis)}** |`);
  L.push(`| keys after load | ${fmtInt(P.loadedKeys.redis)} | ${fmtInt(P.loadedKeys.redbun)} | |`);
  L.push(`| RDB file size | ${fmtMB(P.rdbBytes.redis)} | ${fmtMB(P.rdbBytes.redbun)} | ${fmtRatio(P.rdbBytes.redbun / P.rdbBytes.redis)} |`);
  L.push(`| SAVE time | ${P.saveSec.redis.toFixed(2)} s | ${P.saveSec.redbun.toFixed(2)} s | ${fmtRatio(P.saveSec.redbun / P.saveSec.redis)} |`);
  const st = (k: Kind, f: "maxMs" | "idleMaxMs" | "bgsaveSec") => P.stall[k].map((x) => x[f]);
  L.push(`| longest PING latency during BGSAVE (median of ${PERSIST_ROUNDS}; worst) | ${median(st("redis", "maxMs")).toFixed(1)} ms; ${Math.max(...st("redis", "maxMs")).toFixed(1)} ms | ` +
    `${median(st("redbun", "maxMs")).toFixed(1)} ms; ${Math.max(...st("redbun", "maxMs")).toFixed(1)} ms | **${fmtRatio(median(st("redbun", "maxMs")) / median(st("redis", "maxMs")))}** |`);
  L.push(`| longest PING latency, idle 0.5 s (median) | ${median(st("redis", "idleMaxMs")).toFixed(1)} ms | ${median(st("redbun", "idleMaxMs")).toFixed(1)} ms | |`);
  L.push(`| BGSAVE duration (median) | ${median(st("redis", "bgsaveSec")).toFixed(2)} s | ${median(st("redbun", "bgsaveSec")).toFixed(2)} s | ${fmtRatio(median(st("redbun", "bgsaveSec")) / median(st("redis", "bgsaveSec")))} |`);
  L.push("", "During BGSAVE a client sends PING about every 1 ms on one connection and records the slowest reply; Redis",
    "forks (the stall is mostly the fork), Redbun snapshots incrementally on its event loop. For this test the server",
    "and client are not pinned, so Redis's child can run on another CPU than its parent. BGSAVE duration is",
    "measured by polling INFO every 10 ms (Redis notices its child's exit in serverCron, up to 100 ms later).", "");

  L.push("## Notes", "");
  if (!notes.length) L.push("No errors, crashes or outliers.");
  for (const n of notes) L.push(`- ${n}`);
  L.push("");
  return L.join("\n");
}

// ============================================================================================
// SVG chart: ratio per test (rows) and mode (coloured bars), on a log scale centred on 1

const COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#e15759"];

function svg(results: Record<string, Cell[]>, P: Persist, info: ReturnType<typeof machine>, date: string): string {
  const rows: Record<string, Row[]> = {};
  for (const m of MODES) rows[m.id] = (results[m.id] ?? []).map(summarize);
  const all = MODES.flatMap((m) => rows[m.id].flatMap((r) => [r.ratio, r.cpuRatio])).filter((x) => Number.isFinite(x) && x > 0);
  const lo = Math.min(-1, Math.floor(Math.log2(Math.min(...all)))), hi = Math.max(1, Math.ceil(Math.log2(Math.max(...all))));
  const W = 1000, left = 90, panelW = 400, gap = 90, top = 96, barH = 5, rowH = MODES.length * barH + 10;
  const x0 = [left, left + panelW + gap];
  const xs = (panel: number, r: number) => x0[panel] + ((Math.log2(Math.min(Math.max(r, 2 ** lo), 2 ** hi)) - lo) / (hi - lo)) * panelW;
  const o: string[] = [];
  const text = (x: number, y: number, s: string, extra = "") => o.push(`<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${extra}>${esc(s)}</text>`);

  const memRows = Object.keys(P.rss).map((k) => ({ label: `RSS ${k}`, r: P.rss[k].redbun.full / P.rss[k].redis.full }));
  memRows.push({ label: "RDB load", r: median(P.loadMs.redbun) / median(P.loadMs.redis) });
  memRows.push({ label: "BGSAVE stall", r: median(P.stall.redbun.map((x) => x.maxMs)) / median(P.stall.redis.map((x) => x.maxMs)) });
  const memAll = memRows.map((m) => m.r).filter((x) => Number.isFinite(x) && x > 0);
  const mlo = Math.min(-1, Math.floor(Math.log2(Math.min(...memAll)))), mhi = Math.max(1, Math.ceil(Math.log2(Math.max(...memAll))));
  const memTop = top + TESTS.length * rowH + 80, memRowH = 16;
  const H = memTop + memRows.length * memRowH + 50;

  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="11">`);
  o.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  text(left, 22, "Redbun ÷ Redis (redis-benchmark, median of rounds; log scale, 1× = same as Redis)", `font-size="15" font-weight="bold"`);
  text(left, 40, `${date} · ${info.nproc} × ${info.model} · Redis ${info.redis.split(" ")[0]} · Bun ${info.bun} · Redbun ${info.redbun.split(" ")[0]}${QUICK ? " · QUICK MODE" : ""}`, `fill="#555"`);
  MODES.forEach((m, i) => {
    const lx = left + (i % 3) * 290, ly = 56 + Math.floor(i / 3) * 14;
    o.push(`<rect x="${lx}" y="${ly - 8}" width="10" height="8" fill="${COLORS[i]}"/>`);
    text(lx + 14, ly, m.title, `fill="#333"`);
  });

  // Throughput (panel 0) and CPU per request (panel 1)
  const titles = ["Throughput (higher is better for Redbun)", "Server CPU per request (lower is better for Redbun)"];
  const bottom = top + TESTS.length * rowH;
  for (const panel of [0, 1]) {
    text(x0[panel], top - 8, titles[panel], `font-weight="bold"`);
    for (let e = lo; e <= hi; e++) {
      const x = xs(panel, 2 ** e);
      o.push(`<line x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${bottom}" stroke="${e === 0 ? "#000" : "#ddd"}" stroke-width="${e === 0 ? 1.2 : 1}"/>`);
      text(x, bottom + 14, e >= 0 ? `${2 ** e}×` : `1/${2 ** -e}`, `text-anchor="middle" fill="#555"`);
    }
    TESTS.forEach((t, ti) => {
      const y = top + ti * rowH + 5;
      text(x0[panel] - 6, y + (MODES.length * barH) / 2 + 4, t.name, `text-anchor="end"`);
      MODES.forEach((m, mi) => {
        const r = rows[m.id].find((rr) => rr.test === t.name);
        const v = r ? (panel === 0 ? r.ratio : r.cpuRatio) : NaN;
        const by = y + mi * barH;
        if (!(Number.isFinite(v) && v > 0)) { text(xs(panel, 1) + 3, by + barH, "✕ failed", `font-size="7" fill="#c00"`); return; }
        const a = xs(panel, 1), b = xs(panel, v);
        o.push(`<rect x="${Math.min(a, b).toFixed(1)}" y="${by}" width="${Math.max(1, Math.abs(b - a)).toFixed(1)}" height="${barH - 1}" fill="${COLORS[mi]}"><title>${esc(`${t.name}, ${m.title}: ${v.toFixed(2)}×`)}</title></rect>`);
      });
    });
  }

  // Memory and persistence
  text(left, memTop - 22, `Memory and persistence, ${fmtInt(ITEMS)} items (lower is better for Redbun)`, `font-weight="bold"`);
  const mx = (r: number) => left + ((Math.log2(Math.min(Math.max(r, 2 ** mlo), 2 ** mhi)) - mlo) / (mhi - mlo)) * (panelW * 2 + gap);
  const memBottom = memTop + memRows.length * memRowH;
  for (let e = mlo; e <= mhi; e++) {
    const x = mx(2 ** e);
    o.push(`<line x1="${x.toFixed(1)}" y1="${memTop - 6}" x2="${x.toFixed(1)}" y2="${memBottom}" stroke="${e === 0 ? "#000" : "#ddd"}"/>`);
    text(x, memBottom + 14, e >= 0 ? `${2 ** e}×` : `1/${2 ** -e}`, `text-anchor="middle" fill="#555"`);
  }
  memRows.forEach((m, i) => {
    const y = memTop + i * memRowH - 4;
    text(left - 6, y + 10, m.label, `text-anchor="end"`);
    if (!(Number.isFinite(m.r) && m.r > 0)) return;
    const a = mx(1), b = mx(m.r);
    o.push(`<rect x="${Math.min(a, b).toFixed(1)}" y="${y}" width="${Math.max(1, Math.abs(b - a)).toFixed(1)}" height="${memRowH - 5}" fill="#76b7b2"/>`);
    text(b + (m.r >= 1 ? 4 : -4), y + 9, `${m.r.toFixed(2)}×`, `font-size="10" fill="#333" ${m.r >= 1 ? "" : `text-anchor="end"`}`);
  });
  o.push("</svg>");
  return o.join("\n") + "\n";
}

// ============================================================================================
// main

async function main() {
  for (const tool of ["redis-server", "redis-benchmark", "redis-cli"]) {
    if (!Bun.which(tool)) throw new Error(`${tool} not found on PATH (Debian: apt-get install redis-server redis-tools)`);
  }
  if (PIN) sh(["taskset", "-a", "-p", "-c", "0", String(process.pid)]); // this script is part of the client side
  const t0 = now();
  const date = new Date().toISOString().replace("T", " ").slice(0, 16) + " UTC";
  const loadavg = [readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")];
  const info = machine();
  log(`Redbun benchmark${QUICK ? " (quick)" : ""}: ${ROUNDS} round(s), ${FIXED_REQUESTS ? `${FIXED_REQUESTS} requests/run` : `~${RUN_SECONDS} s/run`}, ` +
    `${fmtInt(ITEMS)} items for memory; pinning: ${info.pin}; work dir ${WORK}`);

  // 1. Throughput, on one Redis and one Redbun that stay up for all modes.
  const servers = { redis: new Server("redis", join(WORK, "tp-redis")), redbun: new Server("redbun", join(WORK, "tp-redbun")) };
  for (const s of Object.values(servers)) await s.start();
  const results = await throughput(servers);
  await stopAll();
  if (ONLY) {
    log("\n| mode | test | Redis req/s | Redbun req/s | ratio | per-round ratios | CPU ratio |\n|---|---|---:|---:|---:|---:|---:|");
    for (const m of MODES) {
      for (const r of (results[m.id] ?? []).map(summarize)) {
        log(`| ${m.id} | ${r.test} | ${fmtInt(r.rps.redis)} | ${fmtInt(r.rps.redbun)} | ${fmtRatio(r.ratio)} | ` +
          `${r.spread[0].toFixed(2)}–${r.spread[1].toFixed(2)} | ${fmtRatio(r.cpuRatio)} |`);
      }
    }
    return;
  }

  // 2. Memory and persistence, on fresh servers.
  const P = await persistence();

  loadavg.push(readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" "));
  const minutes = (now() - t0) / 60_000;
  // The hand-written section at the end (the measurements behind choices made in main.ts) is kept.
  const previous = readFileSync(OUT_MD, "utf8"), at = previous.indexOf(KEPT_SECTION);
  writeFileSync(OUT_MD, markdown(results, P, info, date, minutes, loadavg) + (at >= 0 ? "\n" + previous.slice(at) : ""));
  writeFileSync(OUT_SVG, svg(results, P, info, date));
  log(`\nDone in ${minutes.toFixed(1)} min. Wrote ${OUT_MD} and ${OUT_SVG}`);
}

try {
  await main();
} finally {
  await stopAll();
  if (!KEEP) rmSync(WORK, { recursive: true, force: true });
}
