/*
 * Redbun soak test: `bun run soak` (this file). Not part of `bun test`.
 *
 * Copies main.ts to a temp dir (so concurrent edits don't matter), starts it on a free port with
 * `--appendonly yes --appendfsync everysec --save ''`, and runs mixed load from SOAK_CLIENTS
 * connections for SOAK_SECONDS: strings (SET/GET/INCR/APPEND, EX/PX expiries), lists, BLPOP fed
 * by another client, hashes, sets, sorted sets, streams (XADD MAXLEN ~ / XREADGROUP / XACK),
 * pub/sub and WATCH/MULTI/EXEC. Each client writes only keys under its own prefix `c<i>:` and
 * checks every reply against its own model. Every 10 s it samples the server's VmRSS and INFO
 * used_memory. At the end it verifies every model, snapshots the whole dataset (keys without TTL),
 * SHUTDOWNs, restarts on the same dir (AOF load), snapshots again and compares.
 *
 * Environment: SOAK_SECONDS (default 600), SOAK_CLIENTS (default 20), SOAK_KEEP=1 keeps the temp dir.
 * Exit code 0 only when there were no wrong replies, the models matched and the restart matched.
 */
import { connect, type Socket } from "node:net";
import { copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const NCLIENTS = Math.max(4, Number(process.env.SOAK_CLIENTS ?? 20)) & ~1; // even: queue pairs share a db
const tmp = mkdtempSync(join(tmpdir(), "redbun-soak-"));
const mainCopy = join(tmp, "main.ts");
copyFileSync(join(import.meta.dir, "..", "main.ts"), mainCopy);
const dataDir = join(tmp, "data");
mkdirSync(dataDir);
let logFile = "", starts = 0;

// ---------------------------------------------------------------- tiny RESP2 client (pipelined)
class RErr { constructor(public msg: string) {} toString() { return `(error) ${this.msg}`; } }
type Reply = string | number | null | RErr | Reply[];
const INCOMPLETE = Symbol("incomplete");
let totalCommands = 0;

function parse(b: Buffer, p: { i: number }): Reply | typeof INCOMPLETE {
  const nl = b.indexOf("\r\n", p.i);
  if (nl < 0) return INCOMPLETE;
  const t = String.fromCharCode(b[p.i]), line = b.toString("latin1", p.i + 1, nl);
  const start = p.i;
  p.i = nl + 2;
  if (t === "+") return line;
  if (t === "-") return new RErr(line);
  if (t === ":") return Number(line);
  if (t === "$") {
    const n = Number(line);
    if (n < 0) return null;
    if (b.length < p.i + n + 2) { p.i = start; return INCOMPLETE; }
    const s = b.toString("latin1", p.i, p.i + n);
    p.i += n + 2;
    return s;
  }
  if (t === "*") {
    const n = Number(line);
    if (n < 0) return null;
    const out: Reply[] = [];
    for (let k = 0; k < n; k++) {
      const v = parse(b, p);
      if (v === INCOMPLETE) { p.i = start; return INCOMPLETE; }
      out.push(v);
    }
    return out;
  }
  throw new Error(`bad RESP type ${JSON.stringify(t)}`);
}

class Conn {
  sock!: Socket;
  buf: Buffer = Buffer.alloc(0);
  q: { res: (v: Reply) => void; rej: (e: Error) => void }[] = [];
  onPush: ((v: Reply) => void) | null = null;
  static open(port: number): Promise<Conn> {
    const c = new Conn();
    return new Promise((res, rej) => {
      c.sock = connect(port, "127.0.0.1", () => res(c));
      c.sock.setNoDelay(true);
      c.sock.on("error", (e) => { rej(e); c.fail(e); });
      c.sock.on("close", () => c.fail(new Error("connection closed")));
      c.sock.on("data", (d: Buffer) => c.onData(d));
    });
  }
  fail(e: Error) { for (const w of this.q.splice(0)) w.rej(e); }
  onData(d: Buffer) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    const p = { i: 0 };
    for (;;) {
      const v = parse(this.buf, p);
      if (v === INCOMPLETE) break;
      const w = this.q.shift();
      if (w) w.res(v); else this.onPush?.(v);
    }
    this.buf = this.buf.subarray(p.i);
  }
  cmd(...args: (string | number)[]): Promise<Reply> {
    totalCommands++;
    let s = `*${args.length}\r\n`;
    for (const a of args) { const x = String(a); s += `$${Buffer.byteLength(x)}\r\n${x}\r\n`; }
    this.sock.write(s);
    return new Promise((res, rej) => this.q.push({ res, rej }));
  }
  close() { this.sock.destroy(); }
}

// ---------------------------------------------------------------- server process
let server!: ReturnType<typeof Bun.spawn>;
let serverExited = false;
async function freePort(): Promise<number> {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = l.port; l.stop(true); return p;
}
async function startServer(port: number): Promise<Conn> {
  serverExited = false;
  logFile = join(tmp, `server${++starts}.log`);
  const fd = openSync(logFile, "a");
  server = Bun.spawn([process.execPath, mainCopy, "--port", String(port), "--dir", dataDir,
    "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""], { stdout: fd, stderr: fd, cwd: tmp });
  server.exited.then(() => { serverExited = true; });
  for (let t = 0; t < 200; t++) {
    try { const c = await Conn.open(port); if ((await c.cmd("PING")) === "PONG") return c; c.close(); } catch {}
    await Bun.sleep(50);
  }
  throw new Error("server did not start");
}
const logTail = (n = 40) => { try { return readFileSync(logFile, "utf8").split("\n").slice(-n).join("\n"); } catch { return ""; } };
const rssKB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))?.[1] ?? 0);

// ---------------------------------------------------------------- checking
let wrongReplies = 0;
const wrongSamples: string[] = [];
function check(ok: boolean, what: string, got: unknown, want: unknown) {
  if (ok) return;
  wrongReplies++;
  if (wrongSamples.length < 15) wrongSamples.push(`${what}: got ${JSON.stringify(got)} want ${JSON.stringify(want)}`);
}
const eq = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const rnd = (n: number) => Math.floor(Math.random() * n);
const zsorted = (m: Map<string, number>) =>
  [...m].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).flatMap(([k, v]) => [k, String(v)]);
const idLess = (a: string, b: string) => { const [am, as] = a.split("-").map(Number), [bm, bs] = b.split("-").map(Number); return am < bm || (am === bm && as < bs); };

// ---------------------------------------------------------------- workers
const txnOk = [0, 0]; // successful WATCH transactions on shared:ctr, per db
let published = 0, received = 0;
const pubSeen = new Map<number, number>();

class Worker {
  c!: Conn; db: number; p: string;
  str = new Map<string, string>(); ctr = new Map<string, number>(); app = new Map<string, string>();
  vol = new Map<string, { v: string; sent: number; acked: number; px: number }>();
  lists = new Map<string, string[]>(); hashes = new Map<string, Map<string, string>>();
  sets = new Map<string, Set<string>>(); zsets = new Map<string, Map<string, number>>();
  xIds: string[] = []; xVals = new Map<string, string>(); xAdded = 0; xLast = "0-0"; xDelivered = "0-0";
  txn = 0; produced = 0; consumed = 0; pubSeq = 0;
  constructor(public i: number) { this.db = i % 2; this.p = `c${i}:`; }
  get target() { return `c${(this.i + 2) % NCLIENTS}:bq`; } // the queue this worker feeds

  async start(port: number) {
    this.c = await Conn.open(port);
    check((await this.c.cmd("SELECT", this.db)) === "OK", "SELECT", "", "OK");
    const r = await this.c.cmd("XGROUP", "CREATE", this.p + "x", "g", "$", "MKSTREAM");
    check(r === "OK", "XGROUP CREATE", r, "OK");
  }

  async step() {
    const c = this.c, p = this.p, op = rnd(100);
    if (op < 8) { // SET / GET plain
      const k = p + "s:" + rnd(50);
      if (rnd(2)) { const v = "v" + rnd(1e9); const r = await c.cmd("SET", k, v); check(r === "OK", "SET", r, "OK"); this.str.set(k, v); }
      else { const r = await c.cmd("GET", k); check(r === (this.str.get(k) ?? null), `GET ${k}`, r, this.str.get(k) ?? null); }
    } else if (op < 16) { // volatile strings, EX or PX
      const k = p + "t:" + rnd(30);
      if (rnd(2)) {
        const v = "t" + rnd(1e9), ex = rnd(2), n = ex ? 1 + rnd(2) : 100 + rnd(1400), sent = Date.now();
        const r = await c.cmd("SET", k, v, ex ? "EX" : "PX", n);
        check(r === "OK", "SET EX/PX", r, "OK");
        this.vol.set(k, { v, sent, acked: Date.now(), px: ex ? n * 1000 : n });
      } else {
        const m = this.vol.get(k), sent = Date.now();
        const r = await c.cmd("GET", k); const now = Date.now();
        if (!m) check(r === null, `GET ${k} (never set)`, r, null);
        else if (now < m.sent + m.px - 5) check(r === m.v, `GET ${k} before expiry`, r, m.v);
        else if (sent > m.acked + m.px + 20) check(r === null, `GET ${k} after expiry`, r, null);
        else check(r === null || r === m.v, `GET ${k} near expiry`, r, [m.v, null]);
      }
    } else if (op < 22) { // INCR
      const k = p + "n:" + rnd(20), want = (this.ctr.get(k) ?? 0) + 1;
      const r = await c.cmd("INCR", k); check(r === want, `INCR ${k}`, r, want); this.ctr.set(k, want);
    } else if (op < 27) { // APPEND / GET / DEL
      const k = p + "a:" + rnd(20), cur = this.app.get(k) ?? "";
      if (cur.length > 400) { const r = await c.cmd("DEL", k); check(r === 1, `DEL ${k}`, r, 1); this.app.delete(k); }
      else if (rnd(3)) { const s = "x" + rnd(1000); const r = await c.cmd("APPEND", k, s); check(r === cur.length + s.length, `APPEND ${k}`, r, cur.length + s.length); this.app.set(k, cur + s); }
      else { const r = await c.cmd("GET", k); check(r === (this.app.get(k) ?? null), `GET ${k}`, r, this.app.get(k) ?? null); }
    } else if (op < 37) { // lists
      const k = p + "l:" + rnd(20), l = this.lists.get(k) ?? [], o = rnd(4);
      if (o === 0 && l.length < 60) { const a = "e" + rnd(1e6), b = "e" + rnd(1e6); const r = await c.cmd("LPUSH", k, a, b); l.unshift(b, a); check(r === l.length, `LPUSH ${k}`, r, l.length); }
      else if (o === 1) { const want = l.pop() ?? null; const r = await c.cmd("RPOP", k); check(r === want, `RPOP ${k}`, r, want); }
      else if (o === 2) { const r = await c.cmd("LRANGE", k, 0, -1); check(eq(r, l), `LRANGE ${k}`, r, l); }
      else { const r = await c.cmd("LLEN", k); check(r === l.length, `LLEN ${k}`, r, l.length); }
      if (l.length) this.lists.set(k, l); else this.lists.delete(k);
    } else if (op < 43) { // blocking pops fed by another client (FIFO: RPUSH + BLPOP, single producer)
      if (rnd(2)) { const r = await c.cmd("RPUSH", this.target, ++this.produced); check(typeof r === "number" && r >= 1, "RPUSH queue", r, ">=1"); }
      else {
        const r = await c.cmd("BLPOP", p + "bq", "0.05");
        if (r !== null) { const want = [p + "bq", String(this.consumed + 1)]; check(eq(r, want), "BLPOP", r, want); this.consumed++; }
      }
    } else if (op < 53) { // hashes
      const k = p + "h:" + rnd(10), h = this.hashes.get(k) ?? new Map<string, string>(), f = "f" + rnd(20), o = rnd(5);
      if (o <= 1) { const v = "hv" + rnd(1e6); const r = await c.cmd("HSET", k, f, v); check(r === (h.has(f) ? 0 : 1), `HSET ${k}`, r, h.has(f) ? 0 : 1); h.set(f, v); }
      else if (o === 2) { const r = await c.cmd("HDEL", k, f); check(r === (h.has(f) ? 1 : 0), `HDEL ${k}`, r, h.has(f) ? 1 : 0); h.delete(f); }
      else if (o === 3) { const r = await c.cmd("HGET", k, f); check(r === (h.get(f) ?? null), `HGET ${k} ${f}`, r, h.get(f) ?? null); }
      else { const r = await c.cmd("HLEN", k); check(r === h.size, `HLEN ${k}`, r, h.size); }
      if (h.size) this.hashes.set(k, h); else this.hashes.delete(k);
    } else if (op < 61) { // sets
      const k = p + "S:" + rnd(10), s = this.sets.get(k) ?? new Set<string>(), m = "m" + rnd(30), o = rnd(5);
      if (o <= 1) { const r = await c.cmd("SADD", k, m); check(r === (s.has(m) ? 0 : 1), `SADD ${k}`, r, s.has(m) ? 0 : 1); s.add(m); }
      else if (o === 2) { const r = await c.cmd("SREM", k, m); check(r === (s.has(m) ? 1 : 0), `SREM ${k}`, r, s.has(m) ? 1 : 0); s.delete(m); }
      else if (o === 3) { const r = await c.cmd("SCARD", k); check(r === s.size, `SCARD ${k}`, r, s.size); }
      else { const r = await c.cmd("SISMEMBER", k, m); check(r === (s.has(m) ? 1 : 0), `SISMEMBER ${k}`, r, s.has(m) ? 1 : 0); }
      if (s.size) this.sets.set(k, s); else this.sets.delete(k);
    } else if (op < 71) { // sorted sets (integer scores)
      const k = p + "z:" + rnd(10), z = this.zsets.get(k) ?? new Map<string, number>(), m = "m" + rnd(30), o = rnd(6);
      if (o <= 1) { const sc = rnd(1000); const r = await c.cmd("ZADD", k, sc, m); check(r === (z.has(m) ? 0 : 1), `ZADD ${k}`, r, z.has(m) ? 0 : 1); z.set(m, sc); }
      else if (o === 2) { const want = (z.get(m) ?? 0) + 7; const r = await c.cmd("ZINCRBY", k, 7, m); check(r === String(want), `ZINCRBY ${k}`, r, String(want)); z.set(m, want); }
      else if (o === 3) { const r = await c.cmd("ZREM", k, m); check(r === (z.has(m) ? 1 : 0), `ZREM ${k}`, r, z.has(m) ? 1 : 0); z.delete(m); }
      else if (o === 4) { const r = await c.cmd("ZCARD", k); check(r === z.size, `ZCARD ${k}`, r, z.size); }
      else { const r = await c.cmd("ZRANGE", k, 0, -1, "WITHSCORES"); check(eq(r, zsorted(z)), `ZRANGE ${k}`, r, zsorted(z)); }
      if (z.size) this.zsets.set(k, z); else this.zsets.delete(k);
    } else if (op < 80) { // streams
      const k = p + "x", o = rnd(4);
      if (o <= 1) {
        const v = "sv" + rnd(1e6); const r = await c.cmd("XADD", k, "MAXLEN", "~", 100, "*", "f", v);
        check(typeof r === "string" && idLess(this.xLast, r), "XADD id", r, `> ${this.xLast}`);
        if (typeof r === "string") { this.xLast = r; this.xIds.push(r); this.xVals.set(r, v); this.xAdded++; }
        if (this.xIds.length > 3000) this.xVals.delete(this.xIds.shift()!);
      } else if (o === 2) {
        const r = await c.cmd("XREADGROUP", "GROUP", "g", "w" + this.i, "COUNT", 10, "STREAMS", k, ">");
        if (r === null) return;
        const ents = (r as Reply[][])[0]?.[1] as [string, string[]][] | undefined;
        if (!Array.isArray(ents)) return check(false, "XREADGROUP shape", r, "[[key,[...]]]");
        for (const [id, fv] of ents) {
          check(idLess(this.xDelivered, id) && eq(fv, ["f", this.xVals.get(id)]), `XREADGROUP entry ${id}`, fv, ["f", this.xVals.get(id)]);
          this.xDelivered = id;
        }
        if (ents.length) { const a = await c.cmd("XACK", k, "g", ...ents.map((e) => e[0])); check(a === ents.length, "XACK", a, ents.length); }
      } else {
        const r = await c.cmd("XLEN", k);
        check(typeof r === "number" && r <= this.xAdded && r >= Math.min(this.xAdded, 100), `XLEN ${k}`, r, `${Math.min(this.xAdded, 100)}..${this.xAdded}`);
      }
    } else if (op < 86) { // pub/sub
      const r = await c.cmd("PUBLISH", "soak:ch", `${this.i}:${++this.pubSeq}`); published++;
      check(r === 1, "PUBLISH receivers", r, 1);
    } else if (op < 93) { // WATCH / MULTI / EXEC on a counter shared by all clients of this db
      check((await c.cmd("WATCH", "shared:ctr")) === "OK", "WATCH", "", "OK");
      const v = Number((await c.cmd("GET", "shared:ctr")) ?? 0);
      check((await c.cmd("MULTI")) === "OK", "MULTI", "", "OK");
      const q1 = await c.cmd("SET", "shared:ctr", v + 1), q2 = await c.cmd("INCR", p + "txn");
      check(q1 === "QUEUED" && q2 === "QUEUED", "QUEUED", [q1, q2], ["QUEUED", "QUEUED"]);
      const r = await c.cmd("EXEC");
      if (r !== null) { this.txn++; txnOk[this.db]++; check(eq(r, ["OK", this.txn]), "EXEC", r, ["OK", this.txn]); }
    } else { // plain MULTI/EXEC over several types
      const kl = p + "ml", kn = p + "mn";
      const want = ["OK", "QUEUED", "QUEUED", "QUEUED", "QUEUED"];
      const got = [await c.cmd("MULTI"), await c.cmd("RPUSH", kl, "a"), await c.cmd("INCR", kn), await c.cmd("LTRIM", kl, -5, -1), await c.cmd("LLEN", kl)];
      check(eq(got, want), "MULTI queueing", got, want);
      const n = (this.ctr.get(kn) ?? 0) + 1; this.ctr.set(kn, n);
      const l = this.lists.get(kl) ?? []; l.push("a");
      const exp = [l.length, n, "OK", Math.min(l.length, 5)];
      if (l.length > 5) l.splice(0, l.length - 5);
      this.lists.set(kl, l);
      const r = await c.cmd("EXEC");
      check(eq(r, exp), "EXEC multi-type", r, exp);
    }
  }

  /** After the load: every key in the model read back in full. */
  async verifyModel() {
    const c = this.c, all: Promise<void>[] = [];
    const want = (cmd: (string | number)[], w: unknown, norm = (x: Reply) => x as unknown) =>
      all.push(c.cmd(...cmd).then((r) => check(eq(norm(r), w), `final ${cmd.join(" ")}`, norm(r), w)));
    for (const [k, v] of [...this.str, ...this.app]) want(["GET", k], v);
    for (const [k, v] of this.ctr) want(["GET", k], String(v));
    for (const [k, l] of this.lists) want(["LRANGE", k, 0, -1], l);
    for (const [k, h] of this.hashes) want(["HGETALL", k], [...h].sort().flat(), (r) => pairs(r as string[]).sort().flat());
    for (const [k, s] of this.sets) want(["SMEMBERS", k], [...s].sort(), (r) => [...(r as string[])].sort());
    for (const [k, z] of this.zsets) want(["ZRANGE", k, 0, -1, "WITHSCORES"], zsorted(z));
    want(["GET", this.p + "txn"], this.txn ? String(this.txn) : null);
    await Promise.all(all);
  }
}
const pairs = (a: string[]) => { const o: string[][] = []; for (let i = 0; i < a.length; i += 2) o.push([a[i], a[i + 1]]); return o; };

// ---------------------------------------------------------------- dataset snapshot (keys without TTL)
async function snapshot(c: Conn): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const dbs = Number(((await c.cmd("CONFIG", "GET", "databases")) as string[])[1] ?? 16);
  for (let db = 0; db < dbs; db++) {
    await c.cmd("SELECT", db);
    const keys = (await c.cmd("KEYS", "*")) as string[];
    await Promise.all(keys.map(async (k) => {
      const [ttl, type] = await Promise.all([c.cmd("TTL", k), c.cmd("TYPE", k)]);
      if (ttl !== -1) return;
      let v: Reply;
      if (type === "string") v = await c.cmd("GET", k);
      else if (type === "list") v = await c.cmd("LRANGE", k, 0, -1);
      else if (type === "hash") v = pairs((await c.cmd("HGETALL", k)) as string[]).sort().flat();
      else if (type === "set") v = [...((await c.cmd("SMEMBERS", k)) as string[])].sort();
      else if (type === "zset") v = await c.cmd("ZRANGE", k, 0, -1, "WITHSCORES");
      else if (type === "stream") v = await c.cmd("XRANGE", k, "-", "+");
      else v = `?${String(type)}`;
      out.set(`db${db} ${k}`, `${String(type)} ${JSON.stringify(v)}`);
    }));
  }
  await c.cmd("SELECT", 0);
  return out;
}

// ---------------------------------------------------------------- main
const port = await freePort();
const t0 = Date.now();
let admin = await startServer(port);
const pid1 = server.pid;
const sub = await Conn.open(port);
sub.onPush = (m) => {
  const [kind, , payload] = m as string[];
  if (kind !== "message") return;
  received++;
  const [i, seq] = payload.split(":").map(Number);
  check(seq === (pubSeen.get(i) ?? 0) + 1, `pubsub order from c${i}`, seq, (pubSeen.get(i) ?? 0) + 1);
  pubSeen.set(i, seq);
};
check(eq(await sub.cmd("SUBSCRIBE", "soak:ch"), ["subscribe", "soak:ch", 1]), "SUBSCRIBE", "", "");

const workers = Array.from({ length: NCLIENTS }, (_, i) => new Worker(i));
await Promise.all(workers.map((w) => w.start(port)));
const usedMemory = async () => Number(/used_memory:(\d+)/.exec((await admin.cmd("INFO", "memory")) as string)?.[1] ?? 0);
const dbsize = async () => { const r = (await admin.cmd("INFO", "keyspace")) as string; return [...r.matchAll(/keys=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0); };
type Sample = { t: number; ops: number; rss: number; used: number; keys: number };
const samples: Sample[] = [];
const mb = (b: number) => (b / 1048576).toFixed(1);
console.log(`soak: ${NCLIENTS} clients, ${SECONDS}s, server pid ${pid1} port ${port}, dir ${tmp}`);
console.log("   t(s)    ops/s   RSS(MB)  used_memory(MB)  keys  wrong");
let lastCmds = 0, lastT = Date.now();
const sample = async () => {
  const now = Date.now(), s = { t: Math.round((now - t0) / 1000), ops: now > lastT ? Math.round((totalCommands - lastCmds) / ((now - lastT) / 1000)) : 0, rss: rssKB() * 1024, used: await usedMemory(), keys: await dbsize() };
  lastCmds = totalCommands; lastT = now; samples.push(s);
  console.log(`${String(s.t).padStart(7)} ${String(s.ops).padStart(8)} ${mb(s.rss).padStart(9)} ${mb(s.used).padStart(16)} ${String(s.keys).padStart(5)} ${String(wrongReplies).padStart(6)}`);
};
await sample();
const endAt = Date.now() + SECONDS * 1000;
const timer = setInterval(() => { if (!serverExited) sample().catch(() => {}); }, 10_000);
let loadErrors: string[] = [];
await Promise.all(workers.map(async (w) => {
  try { while (Date.now() < endAt && !serverExited) await w.step(); }
  catch (e) { loadErrors.push(`c${w.i}: ${(e as Error).message}`); }
}));
clearInterval(timer);
const loadEnd = Date.now();
const loadCommands = totalCommands;

let crashed = serverExited, restartResult = "not run", modelOk = true;
if (!crashed) {
  await sample();
  // drain: every published message should reach the subscriber, every produced queue item is consumed or queued
  for (let t = 0; t < 100 && received < published; t++) await Bun.sleep(20);
  check(received === published, "pubsub delivered", received, published);
  const before = wrongReplies;
  await Promise.all(workers.map((w) => w.verifyModel()));
  for (const w of workers) {
    const producer = workers[(w.i - 2 + NCLIENTS) % NCLIENTS];
    const left = await w.c.cmd("LLEN", w.p + "bq");
    check(w.consumed + (left as number) === producer.produced, `queue ${w.p}bq consumed+left`, w.consumed + (left as number), producer.produced);
  }
  for (const db of [0, 1]) {
    await admin.cmd("SELECT", db);
    const r = await admin.cmd("GET", "shared:ctr");
    check(r === (txnOk[db] ? String(txnOk[db]) : null), `shared:ctr db${db}`, r, String(txnOk[db]));
  }
  modelOk = wrongReplies === before;
  const snap1 = await snapshot(admin);
  for (const w of workers) w.c.close();
  sub.close();
  admin.cmd("SHUTDOWN").catch(() => {});
  await server.exited;
  admin = await startServer(port);
  const snap2 = await snapshot(admin);
  const diffs: string[] = [];
  for (const [k, v] of snap1) if (snap2.get(k) !== v) diffs.push(`${k}: before ${v.slice(0, 120)} after ${(snap2.get(k) ?? "<missing>").slice(0, 120)}`);
  for (const k of snap2.keys()) if (!snap1.has(k)) diffs.push(`${k}: only after restart`);
  restartResult = diffs.length ? `MISMATCH: ${diffs.length} of ${snap1.size} keys differ` : `OK: ${snap1.size} keys (no TTL) identical after SHUTDOWN + AOF reload`;
  if (diffs.length) console.log("restart diffs:\n  " + diffs.slice(0, 10).join("\n  "));
  await admin.cmd("SHUTDOWN").catch(() => {});
  await server.exited;
} else {
  console.log(`SERVER EXITED during load (code ${server.exitCode}, signal ${server.signalCode}). Log tail:\n${logTail()}`);
}

// ---------------------------------------------------------------- summary
const loadSecs = (loadEnd - t0) / 1000;
const rs = samples.slice(1).map((s) => s.rss), third = Math.floor(rs.length / 3);
const avg = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
let rssVerdict = "n/a (too few samples)";
if (third >= 1) {
  const mid = avg(rs.slice(third, 2 * third)), last = avg(rs.slice(2 * third)), g = ((last - mid) / mid) * 100;
  rssVerdict = `${g >= 0 ? "+" : ""}${g.toFixed(1)}% (last third avg ${mb(last)} MB vs middle third ${mb(mid)} MB) -> ${Math.abs(g) < 10 ? "STABLE" : "GROWING"}`;
}
if (wrongSamples.length) console.log("first wrong replies:\n  " + wrongSamples.join("\n  "));
if (loadErrors.length) console.log("client errors:\n  " + loadErrors.slice(0, 10).join("\n  "));
console.log(`
==== SOAK SUMMARY ====
duration:          ${loadSecs.toFixed(0)} s load (${SECONDS} s requested), ${NCLIENTS} clients + 1 subscriber
total commands:    ${loadCommands}
commands/s:        ${Math.round(loadCommands / loadSecs)}
wrong replies:     ${wrongReplies}${modelOk ? "" : " (includes final model check failures)"}
client errors:     ${loadErrors.length}
pub/sub:           ${published} published, ${received} received
WATCH txns ok:     db0 ${txnOk[0]}, db1 ${txnOk[1]}
RSS:               start ${mb(samples[0].rss)} MB, peak ${mb(Math.max(...samples.map((s) => s.rss)))} MB, end ${mb(samples.at(-1)!.rss)} MB
RSS stability:     ${rssVerdict}
used_memory:       start ${mb(samples[0].used)} MB, end ${mb(samples.at(-1)!.used)} MB
server crashed:    ${crashed ? "YES" : "no"}
restart compare:   ${restartResult}
server log:        ${logFile}`);
const ok = !crashed && wrongReplies === 0 && loadErrors.length === 0 && restartResult.startsWith("OK");
if (!process.env.SOAK_KEEP && ok) rmSync(tmp, { recursive: true, force: true });
process.exit(ok ? 0 : 1);
