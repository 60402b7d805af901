// main.ts, Clients: client eviction (maxmemory-clients, CLIENT NO-EVICT), the reply buffer resizing
// that DEBUG REPLYBUFFER controls, and the memory fields of CLIENT LIST (qbuf, argv-mem, multi-mem,
// rbs, obl, oll, omem, tot-mem). Every test starts its own Redbun (`bun run main.ts`): eviction
// frees connections, which the shared server's other users would not survive. When redis-server
// 7.0.15 is installed, the same scenario runs on it too and both must come out as the test expects
// (REQUIRE_REDIS=1 makes a missing redis-server a failure). Memory figures differ by design (Redbun
// counts its own buffers, Redis jemalloc's), so the scenarios compare what happens (who is evicted,
// what is counted, which fields are zero, what qbuf says), never tot-mem values. Where Redbun
// differs from redis-server: test.todo (run them with `bun test --todo`).
import { describe, test, expect } from "bun:test";
import net from "node:net";
import { spawnServer } from "./helpers.ts";
import { RawClient, encode } from "./client.ts";
import { info, noRedis, startRedis, tempDir } from "./persistence-harness.ts";

const MB = 1024 * 1024;
const TIMEOUT = 30000; // per test; each usually takes one to four seconds

// ---------------------------------------------------------------------------------------------
// A server of either kind, and the scenario run on both
// ---------------------------------------------------------------------------------------------

interface Target {
  name: "redbun" | "redis";
  port: number;
  /** Named "control" and CLIENT NO-EVICT on: the test's own connection, never evicted (it still
   *  counts in the clients' total, as in Redis). */
  control: RawClient;
  /** What the server logged so far. */
  log(): string;
  /** A new connection named `name`, closed when the server stops. */
  open(name: string): Promise<RawClient>;
  /** Something else to close when the server stops. */
  onStop(fn: () => void): void;
}

async function startTarget(name: "redbun" | "redis"): Promise<Target & { stop(): Promise<void> }> {
  let port: number, control: RawClient, log: () => string, stopServer: () => Promise<unknown>;
  if (name === "redbun") {
    const srv = await spawnServer(["--save", "", "--enable-debug-command", "yes"]);
    const killOnExit = () => { if (srv.proc.exitCode === null) srv.proc.kill("SIGKILL"); };
    process.on("exit", killOnExit); // never left behind, even if the test process ends first
    port = srv.port;
    control = await RawClient.connect(port);
    log = srv.stdout;
    stopServer = async () => { await srv.stop(); process.off("exit", killOnExit); };
  } else {
    const srv = await startRedis(tempDir("client-eviction"), { "enable-debug-command": "yes" });
    port = srv.port;
    control = srv.c;
    log = srv.log;
    stopServer = srv.stop;
  }
  const closers: (() => void)[] = [() => control.close()];
  try {
    expect(await control.raw("CLIENT", "SETNAME", "control")).toBe("+OK\r\n");
    expect(await control.raw("CLIENT", "NO-EVICT", "on")).toBe("+OK\r\n");
  } catch (e) { await stopServer(); throw e; }
  return {
    name, port, control, log,
    async open(clientName) {
      const c = await RawClient.connect(port);
      closers.push(() => c.close());
      expect(await c.raw("CLIENT", "SETNAME", clientName)).toBe("+OK\r\n");
      return c;
    },
    onStop(fn) { closers.push(fn); },
    async stop() {
      for (const f of closers) { try { f(); } catch { /* already gone */ } }
      await stopServer();
    },
  };
}

const KINDS: ("redbun" | "redis")[] = noRedis ? ["redbun"] : ["redbun", "redis"];

/** Runs the scenario on a fresh Redbun, then on a fresh redis-server (when there is one), stopping
 *  each whatever happens, and returns what it returned on each. */
async function onBoth<T>(scenario: (t: Target) => Promise<T>): Promise<Partial<Record<"redbun" | "redis", T>>> {
  const out: Partial<Record<"redbun" | "redis", T>> = {};
  for (const kind of KINDS) {
    const t = await startTarget(kind);
    try { out[kind] = await scenario(t); } finally { await t.stop(); }
  }
  return out;
}

/** Each server's outcome must be `expected` (the diff names the server that differs). */
function expectBoth<T>(got: Partial<Record<"redbun" | "redis", T>>, expected: T): void {
  expect(got).toEqual(Object.fromEntries(KINDS.map((k) => [k, expected])));
}

// ---------------------------------------------------------------------------------------------
// Looking at clients
// ---------------------------------------------------------------------------------------------

type ClientFields = Record<string, string>;

/** CLIENT LIST, as one record of fields per client. */
async function clientList(t: Target): Promise<ClientFields[]> {
  const text = String(await t.control.cmd("CLIENT", "LIST"));
  return text.trim().split("\n").map((line) => parseClientInfo(line.trim()));
}

function parseClientInfo(line: string): ClientFields {
  const out: ClientFields = {};
  for (const kv of line.split(" ")) {
    const i = kv.indexOf("=");
    if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

/** The named client's CLIENT LIST fields (undefined when it is not connected). */
async function client(t: Target, name: string): Promise<ClientFields | undefined> {
  return (await clientList(t)).find((c) => c.name === name);
}

/** The names of the connected clients, sorted. */
async function names(t: Target): Promise<string[]> {
  return (await clientList(t)).map((c) => c.name).filter(Boolean).sort();
}

async function evictedClients(t: Target): Promise<number> {
  return Number((await info(t.control, "stats")).evicted_clients);
}

/** Polls until probe gives something other than undefined/false, and returns it. */
async function poll<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

/** Waits for the named client to leave CLIENT LIST; false if it is still there after the timeout. */
async function leaves(t: Target, name: string, timeoutMs = 10000): Promise<boolean> {
  try {
    await poll(`${name} to go`, async () => !(await client(t, name)), timeoutMs);
    return true;
  } catch { return false; }
}

/** Waits for the named client's field to reach n; returns its fields then. */
async function fieldReaches(t: Target, name: string, field: string, n: number): Promise<ClientFields> {
  return poll(`${name}'s ${field} to reach ${n}`, async () => {
    const c = await client(t, name);
    if (!c) throw new Error(`${name} is gone (waiting for its ${field} to reach ${n})`);
    return Number(c[field]) >= n && c;
  });
}

/** Whether the server closed the connection within the timeout. */
async function closedByServer(c: RawClient, timeoutMs = 10000): Promise<boolean> {
  try { await c.waitClosed(timeoutMs); return true; } catch { return false; }
}

// ---------------------------------------------------------------------------------------------
// Clients that hold memory
// ---------------------------------------------------------------------------------------------

/** A connection named `name` that sends, in one write, the start of a command whose last argument
 *  is `len` bytes: `head` (the arguments before it), its `$len` header and `sent` of its bytes. */
async function partialBulk(t: Target, name: string, len: number, sent = len, head: string[] = []): Promise<RawClient> {
  const c = await t.open(name);
  const before = head.map((a) => `$${a.length}\r\n${a}\r\n`).join("");
  c.write(`*${head.length + 1}\r\n${before}$${len}\r\n${"v".repeat(sent)}`);
  return c;
}

/** A connection that stops reading its replies (its socket paused), so they pile up in the
 *  server's output buffer once the kernel's buffers are full. */
interface StuckReader {
  send(...args: (string | number)[]): void;
  /** Reads again; resolves once `bytes` more bytes have arrived. */
  resume(bytes: number): Promise<void>;
}

async function stuckReader(t: Target, name: string): Promise<StuckReader> {
  const sock = net.connect({ host: "127.0.0.1", port: t.port });
  sock.on("error", () => {}); // an evicted reader's socket may be reset
  t.onStop(() => sock.destroy());
  await new Promise<void>((resolve, reject) => { sock.once("connect", resolve); sock.once("error", reject); });
  let got = 0, wake = () => {};
  sock.on("data", (d: Buffer) => { got += d.length; wake(); });
  sock.write(encode(["CLIENT", "SETNAME", name]));
  await poll("the SETNAME reply", () => got >= 5, 5000); // +OK\r\n
  sock.pause();
  got = 0;
  return {
    send: (...args) => { sock.write(encode(args)); },
    async resume(bytes) {
      sock.resume();
      const until = Date.now() + 15000;
      while (got < bytes) {
        if (Date.now() > until) throw new Error(`read ${got} of ${bytes} bytes`);
        await new Promise<void>((r) => { wake = r; setTimeout(r, 100); });
      }
    },
  };
}

/** The reply to GET of a `len`-byte value, in bytes. */
const bulkReplyBytes = (len: number) => `$${len}\r\n`.length + len + 2;

/** The eviction log line, as what matters in it: Redis's log format (pid:role date time * text),
 *  the evicted client's name and flags, and whether its tot-mem was at least `limit`. */
function evictionLogLine(line: string, limit: number) {
  const m = /^\d+:M \d\d \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3} \* Evicting client: (id=\d+ addr=\S+ laddr=\S+ fd=\d+ name=.*)$/.exec(line.trim());
  if (!m) return { line };
  const c = parseClientInfo(m[1]);
  return { name: c.name, flags: c.flags, overLimit: Number(c["tot-mem"]) >= limit };
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

describe("maxmemory-clients", () => {
  test("a client whose unfinished 3 MB argument passes 1mb is evicted: its connection closes, evicted_clients counts it, the log names it; a small client and a command under the limit are left alone", async () => {
    const got = await onBoth(async (t) => {
      expect(await t.control.raw("CONFIG", "SET", "maxmemory-clients", "1mb")).toBe("+OK\r\n");
      const small = await t.open("small");
      const underLimit = [await small.raw("SET", "k", "v".repeat(500000)), await small.raw("STRLEN", "k")];
      const evictedBefore = await evictedClients(t);
      const big = await partialBulk(t, "big", 3000000);
      const bigClosed = await closedByServer(big);
      const line = await poll("the eviction to be logged", () => t.log().split("\n").find((l) => l.includes("Evicting client:")));
      return {
        underLimit, evictedBefore, bigClosed,
        clients: await names(t), evicted: await evictedClients(t),
        smallStillAnswers: await small.raw("PING"),
        log: evictionLogLine(line, MB),
      };
    });
    expectBoth(got, {
      underLimit: ["+OK\r\n", ":500000\r\n"], evictedBefore: 0, bigClosed: true,
      clients: ["control", "small"], evicted: 1,
      smallStillAnswers: "+PONG\r\n",
      log: { name: "big", flags: "N", overLimit: true },
    });
  }, TIMEOUT);

  test("lowering the limit evicts the clients of the biggest size first, and only those", async () => {
    const sizes = [128 * 1024, MB, 3 * MB];
    const got = await onBoth(async (t) => {
      expect(await t.control.raw("DEBUG", "REPLYBUFFER", "RESIZING", "0")).toBe("+OK\r\n"); // steady sizes, as Redis's own test
      for (let i = 0; i < sizes.length; i++) for (let j = 0; j < 3; j++) await partialBulk(t, `size${i}-${j}`, sizes[i], sizes[i], ["x"]);
      for (let i = 0; i < sizes.length; i++) for (let j = 0; j < 3; j++) await fieldReaches(t, `size${i}-${j}`, "qbuf", sizes[i]);
      const listed = await clientList(t);
      const sum = (pred: (c: ClientFields) => boolean) => listed.filter(pred).reduce((n, c) => n + Number(c["tot-mem"]), 0);
      let total = sum(() => true);
      const steps: { clients: string[]; evicted: number }[] = [];
      // Each limit leaves room for all but the biggest group left (plus 64 KiB of slack, far less
      // than any group): exactly that group must go. The last one is under the 128 KiB floor.
      for (let i = sizes.length - 1; i >= 0; i--) {
        total -= sum((c) => c.name.startsWith(`size${i}-`));
        expect(await t.control.raw("CONFIG", "SET", "maxmemory-clients", String(total + 64 * 1024))).toBe("+OK\r\n");
        steps.push({ clients: await names(t), evicted: await evictedClients(t) });
      }
      return steps;
    });
    const group = (i: number) => [0, 1, 2].map((j) => `size${i}-${j}`);
    expectBoth(got, [
      { clients: ["control", ...group(0), ...group(1)], evicted: 3 },
      { clients: ["control", ...group(0)], evicted: 6 },
      { clients: ["control"], evicted: 9 },
    ]);
  }, TIMEOUT);

  test("of ten clients of the same size, only as many are evicted as bring the total under the limit", async () => {
    const got = await onBoth(async (t) => {
      expect(await t.control.raw("DEBUG", "REPLYBUFFER", "RESIZING", "0")).toBe("+OK\r\n");
      for (let j = 0; j < 10; j++) await partialBulk(t, `c${j}`, MB, MB, ["x"]);
      for (let j = 0; j < 10; j++) await fieldReaches(t, `c${j}`, "qbuf", MB);
      const listed = await clientList(t);
      const each = Math.max(...listed.filter((c) => c.name !== "control").map((c) => Number(c["tot-mem"])));
      const control = Number(listed.find((c) => c.name === "control")!["tot-mem"]);
      // Room for five and a half: after five evictions the total is under it, after four not.
      expect(await t.control.raw("CONFIG", "SET", "maxmemory-clients", String(Math.floor(5.5 * each) + control))).toBe("+OK\r\n");
      const left = (await names(t)).filter((n) => n !== "control");
      return { left: left.length, evicted: await evictedClients(t) };
    });
    expectBoth(got, { left: 5, evicted: 5 });
  }, TIMEOUT);

  test("N% is N% of maxmemory; with maxmemory 0 a percentage limits nothing, until maxmemory is set", async () => {
    const got = await onBoth(async (t) => {
      const set = [
        await t.control.raw("CONFIG", "SET", "maxmemory", "10mb"),
        await t.control.raw("CONFIG", "SET", "maxmemory-clients", "10%"),
        await t.control.raw("CONFIG", "GET", "maxmemory-clients"),
      ];
      await partialBulk(t, "half", 500000); // half of the 1 MiB limit: kept
      const halfQbuf = (await fieldReaches(t, "half", "qbuf", 500000)).qbuf;
      const over = await partialBulk(t, "over", 1100000); // more than the limit: the biggest, evicted
      const overClosed = await closedByServer(over);
      const afterOver = { clients: await names(t), evicted: await evictedClients(t) };
      expect(await t.control.raw("CONFIG", "SET", "maxmemory", "0")).toBe("+OK\r\n");
      await partialBulk(t, "unlimited", 3000000);
      const unlimitedQbuf = (await fieldReaches(t, "unlimited", "qbuf", 3000000)).qbuf;
      const whileUnlimited = { clients: await names(t), evicted: await evictedClients(t) };
      expect(await t.control.raw("CONFIG", "SET", "maxmemory", "10mb")).toBe("+OK\r\n");
      const unlimitedGoes = await leaves(t, "unlimited");
      return { set, halfQbuf, overClosed, afterOver, unlimitedQbuf, whileUnlimited, unlimitedGoes, end: { clients: await names(t), evicted: await evictedClients(t) } };
    });
    expectBoth(got, {
      set: ["+OK\r\n", "+OK\r\n", "*2\r\n$17\r\nmaxmemory-clients\r\n$3\r\n10%\r\n"],
      halfQbuf: "500000", overClosed: true,
      afterOver: { clients: ["control", "half"], evicted: 1 },
      unlimitedQbuf: "3000000",
      whileUnlimited: { clients: ["control", "half", "unlimited"], evicted: 1 },
      unlimitedGoes: true,
      end: { clients: ["control", "half"], evicted: 2 },
    });
  }, TIMEOUT);

  test("CONFIG SET maxmemory-clients 0 stops eviction: a 3 MB argument then arrives whole and its command runs", async () => {
    const got = await onBoth(async (t) => {
      expect(await t.control.raw("CONFIG", "SET", "maxmemory-clients", "1mb")).toBe("+OK\r\n");
      const first = await partialBulk(t, "first", 3000000);
      const firstClosed = await closedByServer(first);
      expect(await t.control.raw("CONFIG", "SET", "maxmemory-clients", "0")).toBe("+OK\r\n");
      const second = await partialBulk(t, "second", 3000000, 3000000, ["SET", "k"]);
      const secondQbuf = (await fieldReaches(t, "second", "qbuf", 3000000)).qbuf;
      second.write("\r\n");
      return {
        firstClosed, secondQbuf, reply: await second.readRaw(10000), strlen: await t.control.raw("STRLEN", "k"),
        clients: await names(t), evicted: await evictedClients(t),
      };
    });
    expectBoth(got, { firstClosed: true, secondQbuf: "3000000", reply: "+OK\r\n", strlen: ":3000000\r\n", clients: ["control", "second"], evicted: 1 });
  }, TIMEOUT);

  test("a limit under 128 KiB counts as 128 KiB: maxmemory-clients 1 leaves small clients alone, and evicts one of 200 KB", async () => {
    const got = await onBoth(async (t) => {
      expect(await t.control.raw("CONFIG", "SET", "maxmemory-clients", "1")).toBe("+OK\r\n");
      const small = await t.open("small");
      const smallAnswers = [await small.raw("PING"), await small.raw("SET", "k", "v".repeat(1000))];
      const before = { clients: await names(t), evicted: await evictedClients(t) };
      const big = await partialBulk(t, "big", 200000);
      return { smallAnswers, before, bigClosed: await closedByServer(big), clients: await names(t), evicted: await evictedClients(t) };
    });
    expectBoth(got, {
      smallAnswers: ["+PONG\r\n", "+OK\r\n"],
      before: { clients: ["control", "small"], evicted: 0 },
      bigClosed: true, clients: ["control", "small"], evicted: 1,
    });
  }, TIMEOUT);

  test("commands queued in MULTI count: a transaction under the limit runs, one that grows past it is evicted before EXEC", async () => {
    const limit = 3000000, value = "v".repeat(limit / 4);
    const got = await onBoth(async (t) => {
      expect(await t.control.raw("CONFIG", "SET", "maxmemory-clients", String(limit))).toBe("+OK\r\n");
      const m = await t.open("multi");
      const underLimit = [await m.raw("MULTI"), await m.raw("SET", "k", value), await m.raw("SET", "k", value), await m.raw("EXEC")];
      expect(await m.raw("MULTI")).toBe("+OK\r\n");
      const replies: string[] = [];
      for (let j = 0; j < 5; j++) {
        const r = await m.raw("SET", "k", value).catch(() => null);
        if (r === null) break;
        replies.push(r);
      }
      return {
        underLimit,
        // Evicted after queueing some (how many depends on how each server counts), never all five.
        queuedSomeThenEvicted: replies.length >= 2 && replies.length < 5 && replies.every((r) => r === "+QUEUED\r\n"),
        closed: m.closed, clients: await names(t), evicted: await evictedClients(t),
      };
    });
    expectBoth(got, {
      underLimit: ["+OK\r\n", "+QUEUED\r\n", "+QUEUED\r\n", "*2\r\n+OK\r\n+OK\r\n"],
      queuedSomeThenEvicted: true, closed: true, clients: ["control"], evicted: 1,
    });
  }, TIMEOUT);

  test("watched keys count: with maxmemory-clients 200000, a client watching 1000 keys stays, one that goes on watching more is evicted", async () => {
    const got = await onBoth(async (t) => {
      expect(await t.control.raw("CONFIG", "SET", "maxmemory-clients", "200000")).toBe("+OK\r\n");
      const w = await t.open("watcher");
      const batch = (n: number) => Array.from({ length: 1000 }, (_, i) => `key:${n}:${i}`);
      const first = await w.raw("WATCH", ...batch(0));
      const after1000 = { clients: await names(t), evicted: await evictedClients(t) };
      let batches = 1;
      for (; batches < 20; batches++) if ((await w.raw("WATCH", ...batch(batches)).catch(() => null)) === null) break;
      return { first, after1000, evictedBefore20000: batches < 20 && w.closed, clients: await names(t), evicted: await evictedClients(t) };
    });
    expectBoth(got, {
      first: "+OK\r\n", after1000: { clients: ["control", "watcher"], evicted: 0 },
      evictedBefore20000: true, clients: ["control"], evicted: 1,
    });
  }, TIMEOUT);

  test("subscriptions count, and pubsub clients are evicted too: channels and patterns, with maxmemory-clients 200000", async () => {
    const got = await onBoth(async (t) => {
      expect(await t.control.raw("CONFIG", "SET", "maxmemory-clients", "200000")).toBe("+OK\r\n");
      const out: Record<string, unknown> = {};
      for (const [cmd, name, shape] of [["SUBSCRIBE", "subscriber", (i: number) => `ch:${i}`], ["PSUBSCRIBE", "psubscriber", (i: number) => `p:${i}:*`]] as const) {
        const s = await t.open(name);
        let n = 0, closed = false;
        while (n < 20000 && !closed) {
          s.send(cmd, ...Array.from({ length: 500 }, (_, i) => shape(n + i)));
          try { for (let i = 0; i < 500; i++) await s.readRaw(); } catch { closed = true; break; }
          n += 500;
          if (n === 500) out[`${name}After500`] = (await client(t, name))?.flags; // kept, and a pubsub client
        }
        out[`${name}EvictedBefore20000`] = closed && n < 20000;
      }
      return { ...out, clients: await names(t), evicted: await evictedClients(t) } as Record<string, unknown>;
    });
    expectBoth(got, {
      subscriberAfter500: "P", subscriberEvictedBefore20000: true,
      psubscriberAfter500: "P", psubscriberEvictedBefore20000: true,
      clients: ["control"], evicted: 2,
    });
  }, TIMEOUT);

  test("unread replies count: a client that stops reading is evicted, and never seen with tot-mem over the limit", async () => {
    const got = await onBoth(async (t) => {
      expect(await t.control.raw("SETRANGE", "k", 199999, "v")).toBe(":200000\r\n");
      expect(await t.control.raw("CONFIG", "SET", "maxmemory-clients", "1mb")).toBe("+OK\r\n");
      const r = await stuckReader(t, "reader");
      let maxSeen = 0, gets = 0;
      const until = Date.now() + 15000;
      for (;;) {
        const c = await client(t, "reader");
        if (!c) break;
        maxSeen = Math.max(maxSeen, Number(c["tot-mem"]));
        if (Date.now() > until) throw new Error(`reader still there after ${gets} GETs; ${JSON.stringify(c)}`);
        for (let i = 0; i < 5; i++) r.send("GET", "k");
        gets += 5;
        await Bun.sleep(20);
      }
      return { seenUnderLimit: maxSeen > 0 && maxSeen < MB, clients: await names(t), evicted: await evictedClients(t) };
    });
    expectBoth(got, { seenUnderLimit: true, clients: ["control"], evicted: 1 });
  }, TIMEOUT);
});

describe("CLIENT NO-EVICT", () => {
  test("ON and OFF (any case) answer +OK and set or clear flag e; other values and arities are errors", async () => {
    const got = await onBoth(async (t) => {
      const c = await t.open("c");
      const flags = async () => (await client(t, "c"))!.flags;
      const out: string[] = [await flags()];
      for (const args of [["on"], ["OFF"], ["On"], ["maybe"], [], ["on", "x"]]) {
        out.push(await c.raw("CLIENT", "NO-EVICT", ...args));
        out.push(await flags());
      }
      return out;
    });
    const arity = "-ERR wrong number of arguments for 'client|no-evict' command\r\n";
    expectBoth(got, ["N", "+OK\r\n", "e", "+OK\r\n", "N", "+OK\r\n", "e", "-ERR syntax error\r\n", "e", arity, "e", arity, "e"]);
  }, TIMEOUT);

  test("a no-evict client keeps its unfinished 3 MB argument under maxmemory-clients 1mb, and its command then runs", async () => {
    const got = await onBoth(async (t) => {
      expect(await t.control.raw("CONFIG", "SET", "maxmemory-clients", "1mb")).toBe("+OK\r\n");
      const keeper = await t.open("keeper");
      expect(await keeper.raw("CLIENT", "NO-EVICT", "on")).toBe("+OK\r\n");
      keeper.write(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n${"v".repeat(3000000)}`);
      const held = await fieldReaches(t, "keeper", "qbuf", 3000000);
      const whileHeld = { qbuf: held.qbuf, flags: held.flags, overLimit: Number(held["tot-mem"]) > MB, clients: await names(t), evicted: await evictedClients(t) };
      keeper.write("\r\n");
      return { whileHeld, reply: await keeper.readRaw(10000), strlen: await keeper.raw("STRLEN", "k"), evicted: await evictedClients(t) };
    });
    expectBoth(got, {
      whileHeld: { qbuf: "3000000", flags: "e", overLimit: true, clients: ["control", "keeper"], evicted: 0 },
      reply: "+OK\r\n", strlen: ":3000000\r\n", evicted: 0,
    });
  }, TIMEOUT);

  test("turned OFF, a client over the limit is evicted at once (its unread replies held it over 2 MB)", async () => {
    const got = await onBoth(async (t) => {
      expect(await t.control.raw("SETRANGE", "k", 199999, "v")).toBe(":200000\r\n");
      const r = await stuckReader(t, "reader");
      r.send("CLIENT", "NO-EVICT", "on");
      await poll("reader's flag e", async () => (await client(t, "reader"))?.flags === "e", 5000);
      expect(await t.control.raw("CONFIG", "SET", "maxmemory-clients", "1mb")).toBe("+OK\r\n");
      const until = Date.now() + 15000;
      for (;;) {
        const c = await client(t, "reader");
        if (!c) throw new Error("the no-evict reader was evicted");
        if (Number(c["tot-mem"]) > 2 * MB) break;
        if (Date.now() > until) throw new Error(`reader's tot-mem stays ${c["tot-mem"]}`);
        for (let i = 0; i < 5; i++) r.send("GET", "k");
        await Bun.sleep(20);
      }
      const whileNoEvict = { clients: await names(t), evicted: await evictedClients(t) };
      r.send("CLIENT", "NO-EVICT", "off");
      return { whileNoEvict, goes: await leaves(t, "reader"), clients: await names(t), evicted: await evictedClients(t) };
    });
    expectBoth(got, { whileNoEvict: { clients: ["control", "reader"], evicted: 0 }, goes: true, clients: ["control"], evicted: 1 });
  }, TIMEOUT);
});

describe("DEBUG REPLYBUFFER", () => {
  test("RESIZING and PEAK-RESET-TIME answer +OK; a bad subcommand or arity is the subcommand error, a bad time not an integer", async () => {
    const cmds = [
      ["RESIZING", "0"], ["resizing", "1"], ["RESIZING", "x"], // atoi: anything goes
      ["PEAK-RESET-TIME", "NEVER"], ["peak-reset-time", "reset"], ["PEAK-RESET-TIME", "250"], ["PEAK-RESET-TIME", "-5"],
      ["PEAK-RESET-TIME", "1.5"], ["PEAK-RESET-TIME", "abc"],
      ["BOGUS", "1"], ["RESIZING"], [], ["RESIZING", "0", "1"],
    ];
    const got = await onBoth(async (t) => {
      const out: string[] = [];
      for (const args of cmds) out.push(await t.control.raw("DEBUG", "REPLYBUFFER", ...args));
      return out;
    });
    const sub = "-ERR unknown subcommand or wrong number of arguments for 'REPLYBUFFER'. Try DEBUG HELP.\r\n";
    const notInt = "-ERR value is not an integer or out of range\r\n";
    expectBoth(got, ["+OK\r\n", "+OK\r\n", "+OK\r\n", "+OK\r\n", "+OK\r\n", "+OK\r\n", "+OK\r\n", notInt, notInt, sub, sub, sub, sub]);
  }, TIMEOUT);

  test("RESIZING 0 keeps an idle client's 16 KiB reply buffer (rbs=16384); RESIZING 1 lets it shrink to 1024", async () => {
    const got = await onBoth(async (t) => {
      expect(await t.control.raw("DEBUG", "REPLYBUFFER", "RESIZING", "0")).toBe("+OK\r\n");
      await t.open("idle");
      const atFirst = (await client(t, "idle"))!.rbs;
      await Bun.sleep(1500); // some fifteen cron passes: nothing may change
      const afterWaiting = (await client(t, "idle"))!.rbs;
      expect(await t.control.raw("DEBUG", "REPLYBUFFER", "RESIZING", "1")).toBe("+OK\r\n");
      const shrunk = await poll("rbs=1024", async () => (await client(t, "idle"))!.rbs === "1024", 5000);
      return { atFirst, afterWaiting, shrunk };
    });
    expectBoth(got, { atFirst: "16384", afterWaiting: "16384", shrunk: true });
  }, TIMEOUT);

  test("under PEAK-RESET-TIME NEVER a reply buffer that a big reply filled is not shrunk; with a short reset time it goes back to 1024", async () => {
    const got = await onBoth(async (t) => {
      expect(await t.control.raw("SET", "five-k", "x".repeat(5000))).toBe("+OK\r\n");
      const c = await t.open("c");
      await poll("rbs=1024", async () => (await client(t, "c"))!.rbs === "1024", 5000);
      expect(await t.control.raw("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "NEVER")).toBe("+OK\r\n");
      expect((await c.raw("GET", "five-k")).length).toBe(bulkReplyBytes(5000));
      // Redis grows it in cron (to 2048), Redbun as the reply is written: either way past 1024.
      const grew = await poll("rbs over 1024", async () => Number((await client(t, "c"))!.rbs) > 1024, 5000);
      await Bun.sleep(1500);
      const keptUnderNever = Number((await client(t, "c"))!.rbs) > 1024;
      expect(await t.control.raw("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "100")).toBe("+OK\r\n");
      const shrunk = await poll("rbs=1024", async () => (await client(t, "c"))!.rbs === "1024", 5000);
      return { grew, keptUnderNever, shrunk };
    });
    expectBoth(got, { grew: true, keptUnderNever: true, shrunk: true });
  }, TIMEOUT);

  // A new client's reply-buffer peak starts at the buffer's size (createClient sets buf_peak =
  // buf_usable_size), so its first CLIENT LIST line says rbs=16384 rbp=16384, and under
  // PEAK-RESET-TIME NEVER (peak never reset) its buffer is never shrunk.
  test("a new client's reply-buffer peak starts at 16384 (rbp=16384), so under PEAK-RESET-TIME NEVER it is never shrunk", async () => {
    const got = await onBoth(async (t) => {
      expect(await t.control.raw("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "NEVER")).toBe("+OK\r\n");
      await t.open("idle");
      const atFirst = (await client(t, "idle"))!.rbp;
      await Bun.sleep(1500);
      return { atFirst, after: (await client(t, "idle"))!.rbs };
    });
    expectBoth(got, { atFirst: "16384", after: "16384" });
  }, TIMEOUT);
});

describe("CLIENT LIST memory fields", () => {
  test("qbuf is exactly the bytes of a big argument received so far, argv-mem the arguments before it, tot-mem covers the whole argument", async () => {
    const got = await onBoth(async (t) => {
      const c = await partialBulk(t, "p", 300000, 1000, ["SET", "k"]);
      const first = await fieldReaches(t, "p", "qbuf", 1000);
      c.write("v".repeat(99000));
      const second = await fieldReaches(t, "p", "qbuf", 100000);
      c.write(`${"v".repeat(200000)}\r\n`);
      const reply = await c.readRaw(10000);
      const done = (await client(t, "p"))!;
      const view = (f: ClientFields) => ({ qbuf: f.qbuf, argvMem: f["argv-mem"], coversArgument: Number(f["tot-mem"]) >= 300000 });
      return { first: view(first), second: view(second), reply, done: { qbuf: done.qbuf, argvMem: done["argv-mem"] } };
    });
    expectBoth(got, {
      first: { qbuf: "1000", argvMem: "4", coversArgument: true },
      second: { qbuf: "100000", argvMem: "4", coversArgument: true },
      reply: "+OK\r\n", done: { qbuf: "0", argvMem: "0" },
    });
  }, TIMEOUT);

  // Redis sizes a big argument's query buffer when it parses the `$len` line, even if no byte of
  // the argument came with it (Redbun once kept its small size until bytes came: eviction missed it).
  test("a big argument's $len header that arrives alone already counts the whole argument (tot-mem, eviction)", async () => {
    const got = await onBoth(async (t) => {
      const c = await t.open("header");
      c.write("*1\r\n$300000\r\n");
      const covers = await poll("tot-mem to cover the argument", async () => Number((await client(t, "header"))!["tot-mem"]) >= 300000, 3000).catch(() => false);
      c.close();
      expect(await t.control.raw("CONFIG", "SET", "maxmemory-clients", "1mb")).toBe("+OK\r\n");
      const big = await t.open("big-header");
      big.write("*1\r\n$3000000\r\n");
      return { covers, evicted: await closedByServer(big, 3000), count: await evictedClients(t) };
    });
    expectBoth(got, { covers: true, evicted: true, count: 1 });
  }, TIMEOUT);

  test("argv-mem is the bytes of the running command's arguments; multi-mem those of the queued commands plus a pointer per argument", async () => {
    const got = await onBoth(async (t) => {
      const q = await t.open("q");
      const self = (await client(t, "control"))!; // CLIENT LIST itself is running: "client" + "list"
      const out = [await q.raw("MULTI")];
      const empty = (await client(t, "q"))!;
      out.push(await q.raw("SET", "key", "value"), await q.raw("INCRBY", "n", "12345"));
      const queued = (await client(t, "q"))!;
      out.push(await q.raw("EXEC"));
      const after = (await client(t, "q"))!;
      const view = (f: ClientFields) => ({ flags: f.flags, multi: f.multi, multiMem: f["multi-mem"], argvMem: f["argv-mem"] });
      return { selfArgvMem: self["argv-mem"], out, empty: view(empty), queued: view(queued), after: view(after) };
    });
    expectBoth(got, {
      selfArgvMem: "10",
      out: ["+OK\r\n", "+QUEUED\r\n", "+QUEUED\r\n", "*2\r\n+OK\r\n:12345\r\n"],
      empty: { flags: "x", multi: "0", multiMem: "0", argvMem: "0" },
      // (3+3+5 + 3*8) + (6+1+5 + 3*8)
      queued: { flags: "x", multi: "2", multiMem: "71", argvMem: "0" },
      after: { flags: "N", multi: "-1", multiMem: "0", argvMem: "0" },
    });
  }, TIMEOUT);

  test("a client that does not read: omem and oll show its pending replies (events=rw) and count in tot-mem; once it reads, obl, oll and omem are 0", async () => {
    const value = 200000;
    const got = await onBoth(async (t) => {
      expect(await t.control.raw("SETRANGE", "k", value - 1, "v")).toBe(`:${value}\r\n`);
      const r = await stuckReader(t, "reader");
      let gets = 0;
      const pending = await poll("replies to pile up", async () => {
        const c = (await client(t, "reader"))!;
        if (Number(c.omem) > 0) return c;
        for (let i = 0; i < 5; i++) r.send("GET", "k");
        gets += 5;
        await Bun.sleep(20);
        return undefined;
      }, 15000);
      await r.resume(gets * bulkReplyBytes(value));
      const drained = await poll("the output buffer to empty", async () => {
        const c = (await client(t, "reader"))!;
        return c.omem === "0" && c.obl === "0" && c;
      }, 5000);
      return {
        common: {
          pending: { events: pending.events, oll: Number(pending.oll) > 0, coveredByTotMem: Number(pending["tot-mem"]) >= Number(pending.omem) + Number(pending.obl) },
          drained: { events: drained.events, obl: drained.obl, oll: drained.oll, omem: drained.omem },
        },
        oblWhenOmem: pending.obl,
      };
    });
    // Redbun's own layout: obl is the first 16 KiB of what is pending, omem the rest (Redis's obl
    // is its static reply buffer, which big replies bypass).
    expect(got.redbun?.oblWhenOmem).toBe("16384");
    expectBoth(Object.fromEntries(Object.entries(got).map(([k, g]) => [k, g.common])), {
      pending: { events: "rw", oll: true, coveredByTotMem: true },
      drained: { events: "r", obl: "0", oll: "0", omem: "0" },
    });
  }, TIMEOUT);
});
