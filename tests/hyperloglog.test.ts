// main.ts, HyperLogLog and HyperLogLog sketches: one describe per command. The differential suite
// compares short scripts with a real Redis (every reply and error, and the sketch's bytes after
// random adds at four hll-sparse-max-bytes, merges and corruption); these tests check what a short
// script cannot:
//   - estimates of 10^2..10^6 distinct elements (added in batches) against the true count, and
//     unions (PFMERGE, PFCOUNT of several keys) against the sketch of the union;
//   - the registers against a JS model of Redis's hashing (MurmurHash64A, hllPatLen), through
//     PFADD's replies and PFDEBUG GETREG and DECODE;
//   - the promotion from sparse to dense at an hll-sparse-max-bytes set by CONFIG SET;
//   - the cached cardinality in bytes 8..15 (made stale by PFADD and PFMERGE, refreshed by PFCOUNT);
//   - what other clients see: keyspace notifications, WATCH, MULTI/EXEC, and the replication stream
//     (a PFCOUNT that refreshes the cache is a write and is propagated; a PFCOUNT of several keys
//     changes nothing and is not);
//   - sketches moving between redis-server and Redbun (a DUMP taken from redis-server restored here,
//     DUMPs and sketches of Redbun's equal to redis-server's), DUMP/RESTORE, DEBUG RELOAD and OBJECT
//     ENCODING.
// Every expected value comes from redis-server 7.0.15 or from the model. HLL_TARGET_PORT=<port> runs
// the same tests against a redis-server already listening there (started with
// --enable-debug-command yes --repl-diskless-sync no), which is how the expectations were checked:
//   HLL_TARGET_PORT=7791 bun test tests/hyperloglog.test.ts
import { describe, test, expect, afterEach } from "bun:test";
import { createHash } from "node:crypto";
import { pipeline, seededRandom, sharedServer, spawnServer, tapReplication, arr, bulk, int, keyspaceEvents, keyspaceEvent } from "./helpers.ts";
import { RawClient } from "./client.ts";

const TARGET_PORT = Number(process.env.HLL_TARGET_PORT ?? 0);
const serverPort = async (): Promise<number> => TARGET_PORT || (await sharedServer()).port;

let opened: RawClient[] = [];
afterEach(() => { for (const c of opened) c.close(); opened = []; });

/** Another connection to the server under test (no FLUSHALL), closed after the test. */
async function another(): Promise<RawClient> {
  const c = await RawClient.connect(await serverPort());
  opened.push(c);
  return c;
}

/** keyspaceEvents with the subscriber on this file's server. */
const keyspaceEventsVia = (c: RawClient, fn: () => Promise<void>) => keyspaceEvents(c, fn, another);

/** A connection on an empty dataset. */
async function fresh(): Promise<RawClient> {
  const c = await another();
  expect(await c.raw("FLUSHALL")).toBe("+OK\r\n");
  return c;
}

/** Runs fn with hll-sparse-max-bytes set to max, and the default 3000 back after. */
async function withSparseMax(c: RawClient, max: number, fn: () => Promise<void>): Promise<void> {
  expect(await c.raw("CONFIG", "SET", "hll-sparse-max-bytes", max)).toBe("+OK\r\n");
  try {
    await fn();
  } finally {
    expect(await c.raw("CONFIG", "SET", "hll-sparse-max-bytes", 3000)).toBe("+OK\r\n");
  }
}

const HDR = 16, DENSE_LEN = HDR + (16384 * 6) / 8;
const hex = (s: string): string => Buffer.from(s, "latin1").toString("hex");
const unhex = (h: string): string => Buffer.from(h, "hex").toString("latin1");
const sha256 = (s: string): string => createHash("sha256").update(Buffer.from(s, "latin1")).digest("hex");
/** A uint64 as the 8 little-endian bytes of the header's cached cardinality. */
const le64 = (n: number): string => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b.toString("latin1"); };
const bytesOf = async (c: RawClient, key: string): Promise<string> => (await c.cmd("GET", key)) as string;
const countOf = async (c: RawClient, ...keys: string[]): Promise<number> => (await c.cmd("PFCOUNT", ...keys)) as number;

/** PFADDs of elements in batches of 10000 (one pipeline), each expected to answer :1. */
async function addAll(c: RawClient, key: string, elements: string[]): Promise<void> {
  const cmds: string[][] = [];
  for (let i = 0; i < elements.length; i += 10000) cmds.push(["PFADD", key, ...elements.slice(i, i + 10000)]);
  expect(await pipeline(c, cmds, 30000)).toEqual(cmds.map(() => int(1)));
}
const range = (prefix: string, from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`);

/** PFSELFTEST's bound on an estimate's error: 6 standard errors (1.04 / sqrt(16384) each). */
const maxError = (n: number): number => Math.ceil(6 * (1.04 / Math.sqrt(16384)) * n);

// ---------------------------------------------------------------------------------------------
// The model: Redis's hllPatLen. An element's 64-bit MurmurHash64A (seed 0xadc83b19) picks a
// register with its low 14 bits, and the register's candidate value is 1 + the number of zero bits
// that follow (at most 51). A sketch's registers are the maxima of its elements' values.

const MUL = 0xc6a4a7935bd1e995n, U64 = (1n << 64n) - 1n;

function murmurHash64A(s: string): bigint {
  const b = Buffer.from(s, "latin1"), len = b.length, end = len - (len & 7);
  let h = (0xadc83b19n ^ ((BigInt(len) * MUL) & U64)) & U64;
  for (let i = 0; i < end; i += 8) {
    let k = (b.readBigUInt64LE(i) * MUL) & U64;
    k = ((k ^ (k >> 47n)) * MUL) & U64;
    h = ((h ^ k) * MUL) & U64;
  }
  if (len & 7) {
    for (let i = (len & 7) - 1; i >= 0; i--) h ^= BigInt(b[end + i]) << BigInt(8 * i);
    h = (h * MUL) & U64;
  }
  h = ((h ^ (h >> 47n)) * MUL) & U64;
  return h ^ (h >> 47n);
}

/** [register, value] for an element. */
function patLen(element: string): [number, number] {
  const h = murmurHash64A(element);
  let rest = (h >> 14n) | (1n << 50n), value = 1;
  while (!(rest & 1n)) { value++; rest >>= 1n; }
  return [Number(h & 16383n), value];
}

/** Adds elements to model registers; returns whether some register grew. */
function modelAdd(regs: number[], elements: string[]): boolean {
  let changed = false;
  for (const e of elements) {
    const [i, v] = patLen(e);
    if (v > regs[i]) { regs[i] = v; changed = true; }
  }
  return changed;
}
const modelRegisters = (elements: string[]): number[] => { const r = new Array(16384).fill(0); modelAdd(r, elements); return r; };

/** Random elements of 1..24 bytes, any byte value (seeded). */
function randomElements(seed: number, n: number): string[] {
  const rnd = seededRandom(seed);
  return Array.from({ length: n }, () => String.fromCharCode(...Array.from({ length: 1 + Math.floor(rnd() * 24) }, () => Math.floor(rnd() * 256))));
}

/** The registers a PFDEBUG DECODE string describes (z:len and Z:len zeros, v:value,len runs). */
function registersOfDecode(decoded: string): { regs: number[]; bytes: number } {
  const regs: number[] = [];
  let bytes = 0;
  for (const op of decoded.split(" ")) {
    let m: RegExpExecArray | null;
    if ((m = /^z:(\d+)$/.exec(op))) { regs.push(...new Array(Number(m[1])).fill(0)); bytes += 1; }
    else if ((m = /^Z:(\d+)$/.exec(op))) { regs.push(...new Array(Number(m[1])).fill(0)); bytes += 2; }
    else if ((m = /^v:(\d+),(\d+)$/.exec(op))) { regs.push(...new Array(Number(m[2])).fill(Number(m[1]))); bytes += 1; }
    else throw new Error(`bad opcode ${op}`);
  }
  return { regs, bytes };
}

// ---------------------------------------------------------------------------------------------
// Sketches taken from redis-server 7.0.15.

/** DUMP of a sketch holding "redis:0".."redis:99" (sparse, cached cardinality stale), from
 *  redis-server: its value is the 289 bytes after the 3-byte header, then RDB version 10 and CRC64. */
const REDIS_DUMP_100 =
  "00412148594c4c010000000000000000000080404d80411c8040a28440ac8440de8440be80406f8832840d803280409c803a800288048440748041748040a38041ab881a" +
  "8442308041388840c8803f8040f78040948c417c80416a8440678040b38841d58040968440968041d684407384338040ca844143840a8440618013842a8c40a48040c7" +
  "8c406c80078441018440958440a980409d8040a984404a8040468841508401840984415490423190409788408184404d8440b3803884408780248440a88040b5804060" +
  "84407a8840ec8416800680421280407a804096a0405c84408684406084405880168040508040cb8040a880369840ae80423584039840a0804051841980405a84413e80" +
  "1388338441088040e688405b84409890416680098440b90a0053b5e8f20e21dbc7";
/** The same sketch's DUMP after a PFCOUNT (99) cached its cardinality in bytes 8..15. */
const REDIS_DUMP_100_CACHED =
  "00412148594c4c010000006300000000000000404d80411c8040a28440ac8440de8440be80406f8832840d803280409c803a800288048440748041748040a38041ab881a" +
  "8442308041388840c8803f8040f78040948c417c80416a8440678040b38841d58040968440968041d684407384338040ca844143840a8440618013842a8c40a48040c7" +
  "8c406c80078441018440958440a980409d8040a984404a8040468841508401840984415490423190409788408184404d8440b3803884408780248440a88040b5804060" +
  "84407a8840ec8416800680421280407a804096a0405c84408684406084405880168040508040cb8040a880369840ae80423584039840a0804051841980405a84413e80" +
  "1388338441088040e688405b84409890416680098440b90a001a2d441b8a5a7c30";

/** SHA-256 of redis-server's dense sketch of "dense:0".."dense:19999" (12304 bytes, estimate 20129). */
const REDIS_DENSE_SHA = "db6faeb533c7914ebd25075214263939fef3202e323938e2c729de5284c11d48";

// ---------------------------------------------------------------------------------------------
// Other clients: subscribers, WATCH, a replica.


/** Whether `write`, run on another connection between WATCH key and EXEC, aborts the EXEC. */
async function abortsWatch(c: RawClient, key: string, write: (string | number)[], reply: string): Promise<boolean> {
  const other = await another();
  expect(await c.raw("WATCH", key)).toBe("+OK\r\n");
  expect(await other.raw(...write)).toBe(reply);
  expect(await c.raw("MULTI")).toBe("+OK\r\n");
  expect(await c.raw("PING")).toBe("+QUEUED\r\n");
  const exec = await c.raw("EXEC");
  expect([arr("+PONG\r\n"), "*-1\r\n"]).toContain(exec);
  return exec === "*-1\r\n";
}

/** The commands a replica receives while fn runs commands on the master (a server of its own, or
 *  the target redis-server), up to a final SET end 1. */
async function replicated(fn: (m: RawClient) => Promise<void>): Promise<string[][]> {
  const own = TARGET_PORT ? null : await spawnServer();
  try {
    const port = own ? own.port : TARGET_PORT;
    const m = await RawClient.connect(port);
    opened.push(m);
    expect(await m.raw("FLUSHALL")).toBe("+OK\r\n");
    const tap = await tapReplication(port);
    try {
      await fn(m);
      expect(await m.raw("SET", "end", "1")).toBe("+OK\r\n");
      const deadline = Date.now() + 5000;
      while (!tap.writes().some((a) => a[0] === "SET")) {
        if (Date.now() > deadline) throw new Error(JSON.stringify(tap.writes()));
        await Bun.sleep(5);
      }
      return tap.writes();
    } finally {
      tap.close();
    }
  } finally {
    await own?.stop();
  }
}

// ---------------------------------------------------------------------------------------------

describe("PFADD", () => {
  test("answers 1 exactly when a register grows (the model's), over 3000 random adds from sparse to dense", async () => {
    const c = await fresh();
    const pool = randomElements(11, 2500);
    const rnd = seededRandom(12);
    const regs = new Array(16384).fill(0);
    const cmds: string[][] = [], want: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const els = Array.from({ length: 1 + Math.floor(rnd() * 5) }, () => pool[Math.floor(rnd() * pool.length)]);
      cmds.push(["PFADD", "h", ...els]);
      want.push(int(modelAdd(regs, els) || i === 0 ? 1 : 0));
    }
    const got = await pipeline(c, cmds);
    expect(got.filter((r) => r === int(0)).length).toBeGreaterThan(500); // many adds change nothing
    cmds.forEach((cmd, i) => expect([i, got[i]]).toEqual([i, want[i]]));
    expect(await c.raw("PFDEBUG", "ENCODING", "h")).toBe("+dense\r\n");
    expect(await c.cmd("PFDEBUG", "GETREG", "h")).toEqual(regs);
  });

  test("a sparse sketch turns dense when it would grow past hll-sparse-max-bytes (as set by CONFIG SET)", async () => {
    const c = await fresh();
    // [limit, the element whose PFADD promotes, the last sparse length], as redis-server 7.0.15 has them.
    for (const [max, promotedAt, lastSparse] of [[200, 65, 199], [1000, 479, 1000], [3000, 1691, 2999]]) {
      await withSparseMax(c, max, async () => {
        const cmds = range("x", 0, 2000).flatMap((e) => [["PFADD", `p${max}`, e], ["STRLEN", `p${max}`]]);
        const lens = (await pipeline(c, cmds)).filter((_, i) => i % 2 === 1).map((r) => Number(r.slice(1, -2)));
        const first = lens.indexOf(DENSE_LEN);
        expect([max, first, lens[first - 1]]).toEqual([max, promotedAt, lastSparse]);
        // An add grows a sparse sketch by at most 3 bytes, so the last sparse length is within 3 of the limit.
        expect(lastSparse).toBeLessThanOrEqual(max);
        expect(lastSparse).toBeGreaterThan(max - 3);
        expect(lens.slice(first).every((n) => n === DENSE_LEN)).toBe(true);
        expect(await c.raw("PFDEBUG", "ENCODING", `p${max}`)).toBe("+dense\r\n");
      });
    }
    // Lowering the limit under a sparse sketch: an add that changes nothing leaves it sparse, the
    // next one that grows it promotes it.
    await c.raw("PFADD", "s", ...range("x", 0, 400));
    const len = Number((await c.raw("STRLEN", "s")).slice(1, -2));
    expect(len).toBeGreaterThan(300);
    await withSparseMax(c, 300, async () => {
      expect(await c.raw("PFADD", "s", "x7")).toBe(int(0));
      expect(await c.raw("PFDEBUG", "ENCODING", "s")).toBe("+sparse\r\n");
      expect(await c.raw("STRLEN", "s")).toBe(int(len));
      expect(await c.raw("PFADD", "s", "new-element")).toBe(int(1));
      expect(await c.raw("PFDEBUG", "ENCODING", "s")).toBe("+dense\r\n");
    });
    expect(await c.raw("CONFIG", "GET", "hll-sparse-max-bytes")).toBe(arr(bulk("hll-sparse-max-bytes"), bulk("3000")));
  });

  test("writes redis-server's bytes: the DUMP of a sparse sketch, a dense sketch's 12304 bytes", async () => {
    const c = await fresh();
    expect(await c.raw("PFADD", "r", ...range("redis:", 0, 100))).toBe(int(1));
    expect(hex((await c.cmd("DUMP", "r")) as string)).toBe(REDIS_DUMP_100);
    expect(await c.raw("PFCOUNT", "r")).toBe(int(99));
    expect(hex((await c.cmd("DUMP", "r")) as string)).toBe(REDIS_DUMP_100_CACHED);
    await addAll(c, "d", range("dense:", 0, 20000));
    const bytes = await bytesOf(c, "d");
    expect(bytes.length).toBe(DENSE_LEN);
    expect(sha256(bytes)).toBe(REDIS_DENSE_SHA);
  });

  test("notifies pfadd when it creates the key or grows a register, and not for an add that changes nothing", async () => {
    const c = await fresh();
    await c.raw("SET", "str", "not a sketch");
    const got = await keyspaceEventsVia(c, async () => {
      expect(await c.raw("PFADD", "h")).toBe(int(1)); // creates an empty sketch
      expect(await c.raw("PFADD", "h")).toBe(int(0));
      expect(await c.raw("PFADD", "h", "a", "b")).toBe(int(1));
      expect(await c.raw("PFADD", "h", "b", "a")).toBe(int(0));
      expect(await c.raw("PFADD", "str", "a")).toBe("-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n");
      expect(await c.raw("PFCOUNT", "h")).toBe(int(2));
      expect(await c.raw("PFADD", "h", "c")).toBe(int(1));
    });
    expect(got).toEqual([...keyspaceEvent("pfadd", "h"), ...keyspaceEvent("pfadd", "h"), ...keyspaceEvent("pfadd", "h")]);
  });

  test("a PFADD that grows a register aborts a WATCH; one that changes nothing does not", async () => {
    const c = await fresh();
    expect(await abortsWatch(c, "h", ["PFADD", "h"], int(1))).toBe(true); // created
    expect(await abortsWatch(c, "h", ["PFADD", "h"], int(0))).toBe(false);
    expect(await abortsWatch(c, "h", ["PFADD", "h", "a", "b", "c"], int(1))).toBe(true);
    expect(await abortsWatch(c, "h", ["PFADD", "h", "c", "a"], int(0))).toBe(false);
  });

  test("in MULTI it is queued, and EXEC's replies hold it and the counts and merges after it", async () => {
    const c = await fresh();
    expect(await c.raw("MULTI")).toBe("+OK\r\n");
    for (const cmd of [
      ["PFADD", "h", "a", "b", "c"], ["PFADD", "h", "a"], ["PFCOUNT", "h"], ["PFADD", "g", "c", "d"],
      ["PFCOUNT", "h", "g"], ["PFMERGE", "m", "h", "g"], ["PFCOUNT", "m"], ["GETRANGE", "m", 8, 15],
    ]) expect(await c.raw(...cmd)).toBe("+QUEUED\r\n");
    expect(await c.raw("EXEC")).toBe(arr(int(1), int(0), int(3), int(1), int(4), "+OK\r\n", int(4), bulk(le64(4))));
  });
});

describe("PFCOUNT", () => {
  test("estimates 10^2..10^6 distinct elements within PFSELFTEST's bound, as redis-server does", async () => {
    const c = await fresh();
    // The estimates redis-server 7.0.15 gives for "el:0".."el:<n-1>".
    const redis = new Map([[100, 100], [1000, 999], [10000, 10019], [100000, 98893], [1000000, 995821]]);
    let n = 0;
    for (const [target, estimate] of redis) {
      await addAll(c, "h", range("el:", n, target));
      n = target;
      const got = await countOf(c, "h");
      expect(Math.abs(got - target)).toBeLessThanOrEqual(maxError(target));
      expect([target, got]).toEqual([target, estimate]);
      expect(await c.raw("PFDEBUG", "ENCODING", "h")).toBe(target <= 1000 ? "+sparse\r\n" : "+dense\r\n");
      if (target === 10000) expect(await c.raw("PFADD", "h", ...range("el:", 0, 10000))).toBe(int(0)); // all seen
    }
  }, 30000);

  test("caches the estimate in bytes 8..15: PFADD and PFMERGE set byte 15's top bit (stale), PFCOUNT writes the count", async () => {
    const c = await fresh();
    const cache = async (key: string) => (await c.cmd("GETRANGE", key, 8, 15)) as string;
    expect(await c.raw("PFADD", "h", "a", "b", "c")).toBe(int(1));
    expect(await cache("h")).toBe("\0".repeat(7) + "\x80");
    expect(await countOf(c, "h")).toBe(3);
    expect(await cache("h")).toBe(le64(3));
    expect(await c.raw("PFADD", "h", "a")).toBe(int(0));
    expect(await cache("h")).toBe(le64(3)); // still valid
    expect(await c.raw("PFADD", "h", "d")).toBe(int(1));
    expect(await cache("h")).toBe(le64(3).slice(0, 7) + "\x80"); // the old count, marked stale
    expect(await countOf(c, "h")).toBe(4);
    expect(await cache("h")).toBe(le64(4));
    // A valid cache is what PFCOUNT answers: overwrite it and PFCOUNT tells the new number.
    const len = await c.raw("STRLEN", "h");
    expect(await c.raw("SETRANGE", "h", 8, le64(123456789))).toBe(len);
    expect(await countOf(c, "h")).toBe(123456789);
    // A dense sketch caches the same way; PFMERGE makes the destination's cache stale.
    await addAll(c, "d", range("d:", 0, 50000));
    const estimate = await countOf(c, "d");
    expect(Math.abs(estimate - 50000)).toBeLessThanOrEqual(maxError(50000));
    expect(await cache("d")).toBe(le64(estimate));
    expect(await c.raw("PFMERGE", "d")).toBe("+OK\r\n");
    expect(await cache("d")).toBe(le64(estimate).slice(0, 7) + "\x80");
    expect(await countOf(c, "d")).toBe(estimate);
    expect(await c.raw("PFMERGE", "d", "h")).toBe("+OK\r\n");
    expect((await cache("d")).charCodeAt(7)).toBe(0x80);
    const merged = await countOf(c, "d");
    expect(merged).toBe(50284);
    expect(await cache("d")).toBe(le64(merged));
  });

  test("of several keys changes none of them (stale caches stay stale), and answers their union", async () => {
    const c = await fresh();
    await addAll(c, "a", range("u:", 0, 30000));
    await addAll(c, "b", range("u:", 20000, 40000));
    expect(await c.raw("PFADD", "s", ...range("u:", 39000, 39500))).toBe(int(1));
    await countOf(c, "b"); // b's cache valid, a's and s's stale
    const before = await pipeline(c, [["GET", "a"], ["GET", "b"], ["GET", "s"]]);
    const union = await countOf(c, "a", "b", "s", "missing");
    expect(await pipeline(c, [["GET", "a"], ["GET", "b"], ["GET", "s"]])).toEqual(before);
    expect(await c.raw("EXISTS", "missing")).toBe(int(0));
    await addAll(c, "all", range("u:", 0, 40000));
    expect(union).toBe(await countOf(c, "all"));
    expect(Math.abs(union - 40000)).toBeLessThanOrEqual(maxError(40000));
  });

  test("a refresh of the cache is a write: it aborts a WATCH; a cached answer or a count of several keys does not", async () => {
    const c = await fresh();
    await c.raw("PFADD", "h", "a", "b");
    await c.raw("PFADD", "g", "c");
    expect(await abortsWatch(c, "h", ["PFCOUNT", "h", "g"], int(3))).toBe(false);
    expect(await abortsWatch(c, "h", ["PFCOUNT", "h"], int(2))).toBe(true);
    expect(await abortsWatch(c, "h", ["PFCOUNT", "h"], int(2))).toBe(false);
  });

  test("a replica receives a PFCOUNT that refreshed the cache, not one answered from it nor one of several keys; PFADD, PFMERGE and PFDEBUG only when they change the value", async () => {
    const writes = await replicated(async (m) => {
      for (const [cmd, reply] of [
        [["PFADD", "h", "a", "b", "c"], int(1)],
        [["PFADD", "h", "a"], int(0)],
        [["PFCOUNT", "h"], int(3)],
        [["PFCOUNT", "h"], int(3)],
        [["PFADD", "g", "x", "y"], int(1)],
        [["PFCOUNT", "h", "g"], int(5)],
        [["PFCOUNT", "g", "nokey"], int(2)],
        [["PFMERGE", "m", "h", "g"], "+OK\r\n"],
        [["PFDEBUG", "ENCODING", "m"], "+sparse\r\n"],
        [["PFDEBUG", "GETREG", "g"], null],
        [["PFDEBUG", "GETREG", "g"], null],
        [["PFDEBUG", "TODENSE", "h"], int(1)],
        [["PFDEBUG", "TODENSE", "h"], int(0)],
        [["PFDEBUG", "DECODE", "m"], null],
      ] as [string[], string | null][]) {
        const got = await m.raw(...cmd);
        if (reply !== null) expect([cmd, got]).toEqual([cmd, reply]);
      }
    });
    expect(writes).toEqual([
      ["SELECT", "0"],
      ["PFADD", "h", "a", "b", "c"],
      ["PFCOUNT", "h"],
      ["PFADD", "g", "x", "y"],
      ["PFMERGE", "m", "h", "g"],
      ["PFDEBUG", "GETREG", "g"],
      ["PFDEBUG", "TODENSE", "h"],
      ["SET", "end", "1"],
    ]);
  });

  test("counts sketches written by redis-server, restored by RESTORE or SET, as redis-server does", async () => {
    const c = await fresh();
    expect(await c.raw("RESTORE", "r", 0, unhex(REDIS_DUMP_100))).toBe("+OK\r\n");
    const value = unhex(REDIS_DUMP_100.slice(6, 6 + 2 * 289));
    expect(await bytesOf(c, "r")).toBe(value);
    expect(await c.raw("PFDEBUG", "ENCODING", "r")).toBe("+sparse\r\n");
    expect(await countOf(c, "r")).toBe(99);
    expect(hex((await c.cmd("DUMP", "r")) as string)).toBe(REDIS_DUMP_100_CACHED);
    expect(await c.raw("SET", "s", value)).toBe("+OK\r\n");
    expect(await countOf(c, "s")).toBe(99);
    expect(await c.raw("RESTORE", "rc", 0, unhex(REDIS_DUMP_100_CACHED))).toBe("+OK\r\n");
    expect(await countOf(c, "rc")).toBe(99);
    // Redis's dense sketch of "dense:0".."dense:19999" (its SHA-256 as redis-server has it), set
    // with SET on a fresh key.
    await addAll(c, "d", range("dense:", 0, 20000));
    const dense = await bytesOf(c, "d");
    expect(sha256(dense)).toBe(REDIS_DENSE_SHA);
    expect(await c.raw("DEL", "d")).toBe(int(1));
    expect(await c.raw("SET", "d2", dense)).toBe("+OK\r\n");
    expect(await countOf(c, "d2")).toBe(20129);
    expect(await countOf(c, "d2", "r")).toBe(20217);
  });

  test("keeps a value SET as embstr until a PFCOUNT of that key alone, which makes it raw", async () => {
    const c = await fresh();
    expect(await c.raw("PFADD", "h", "a", "b", "c")).toBe(int(1));
    const stale = await bytesOf(c, "h");
    expect(await countOf(c, "h")).toBe(3);
    const cached = await bytesOf(c, "h");
    expect(stale.length).toBe(27);
    await c.raw("SET", "s", stale);
    await c.raw("SET", "t", cached);
    expect(await pipeline(c, [["OBJECT", "ENCODING", "s"], ["OBJECT", "ENCODING", "t"]])).toEqual([bulk("embstr"), bulk("embstr")]);
    expect(await countOf(c, "s", "t")).toBe(3);
    expect(await pipeline(c, [["OBJECT", "ENCODING", "s"], ["OBJECT", "ENCODING", "t"]])).toEqual([bulk("embstr"), bulk("embstr")]);
    expect(await countOf(c, "s")).toBe(3);
    expect(await countOf(c, "t")).toBe(3); // answered from the cache
    expect(await pipeline(c, [["OBJECT", "ENCODING", "s"], ["OBJECT", "ENCODING", "t"]])).toEqual([bulk("raw"), bulk("raw")]);
    expect(await bytesOf(c, "s")).toBe(cached);
    expect(await bytesOf(c, "t")).toBe(cached);
  });

  test("DUMP/RESTORE and DEBUG RELOAD keep every byte of sparse and dense sketches, stale or cached", async () => {
    const c = await fresh();
    await c.raw("PFADD", "sparse-stale", ...range("k", 0, 300));
    await c.raw("PFADD", "sparse-cached", ...range("k", 0, 200));
    await addAll(c, "dense-stale", range("k", 0, 20000));
    await addAll(c, "dense-cached", range("k", 0, 30000));
    const counts = [await countOf(c, "sparse-cached"), await countOf(c, "dense-cached")];
    const keys = ["sparse-stale", "sparse-cached", "dense-stale", "dense-cached"];
    const values = await pipeline(c, keys.map((k) => ["GET", k]));
    for (const k of keys) {
      const dump = (await c.cmd("DUMP", k)) as string;
      expect(await c.raw("RESTORE", `${k}-copy`, 0, dump)).toBe("+OK\r\n");
    }
    expect(await pipeline(c, keys.map((k) => ["GET", `${k}-copy`]))).toEqual(values);
    expect(await c.raw("DEBUG", "RELOAD")).toBe("+OK\r\n");
    expect(await pipeline(c, keys.map((k) => ["GET", k]))).toEqual(values);
    expect(await pipeline(c, keys.map((k) => ["PFDEBUG", "ENCODING", k]))).toEqual(["+sparse\r\n", "+sparse\r\n", "+dense\r\n", "+dense\r\n"]);
    expect([await countOf(c, "sparse-cached"), await countOf(c, "dense-cached")]).toEqual(counts);
    expect(await pipeline(c, keys.map((k) => ["PFCOUNT", `${k}-copy`]))).toEqual(await pipeline(c, keys.map((k) => ["PFCOUNT", k])));
  });
});

describe("PFMERGE", () => {
  test("of two dense sketches writes the registers of the union's own sketch; PFCOUNT of both agrees", async () => {
    const c = await fresh();
    await addAll(c, "a", range("m:", 0, 60000));
    await addAll(c, "b", range("m:", 40000, 100000));
    await addAll(c, "u", range("m:", 0, 100000));
    expect(await c.raw("PFMERGE", "m", "a", "b")).toBe("+OK\r\n");
    expect(await c.raw("PFDEBUG", "ENCODING", "m")).toBe("+dense\r\n");
    expect(await c.cmd("GETRANGE", "m", HDR, -1)).toBe(await c.cmd("GETRANGE", "u", HDR, -1));
    const estimate = await countOf(c, "u");
    expect(Math.abs(estimate - 100000)).toBeLessThanOrEqual(maxError(100000));
    expect(estimate).toBe(100441);
    expect(await countOf(c, "m")).toBe(estimate);
    expect(await countOf(c, "a", "b")).toBe(estimate);
    // Into an existing source: a becomes the union too.
    expect(await c.raw("PFMERGE", "a", "b")).toBe("+OK\r\n");
    expect(await c.cmd("GETRANGE", "a", HDR, -1)).toBe(await c.cmd("GETRANGE", "u", HDR, -1));
  });

  test("of sparse sketches stays sparse while the union fits hll-sparse-max-bytes; a dense source makes it dense", async () => {
    const c = await fresh();
    const a = randomElements(21, 300), b = [...a.slice(0, 100), ...randomElements(22, 200)];
    expect(await c.raw("PFADD", "a", ...a)).toBe(int(1));
    expect(await c.raw("PFADD", "b", ...b)).toBe(int(1));
    const union = modelRegisters([...a, ...b]);
    expect(await c.raw("PFMERGE", "m", "a", "b")).toBe("+OK\r\n");
    expect(await c.raw("PFDEBUG", "ENCODING", "m")).toBe("+sparse\r\n");
    const len = Number((await c.raw("STRLEN", "m")).slice(1, -2));
    expect(registersOfDecode((await c.cmd("PFDEBUG", "DECODE", "m")) as string)).toEqual({ regs: union, bytes: len - HDR });
    await withSparseMax(c, len - 1, async () => {
      expect(await c.raw("PFMERGE", "m2", "a", "b")).toBe("+OK\r\n");
      expect(await c.raw("PFDEBUG", "ENCODING", "m2")).toBe("+dense\r\n");
    });
    expect(await c.cmd("PFDEBUG", "GETREG", "m2")).toEqual(union);
    await c.raw("PFADD", "d", "x");
    await c.raw("PFDEBUG", "TODENSE", "d");
    expect(await c.raw("PFMERGE", "m3", "a", "d")).toBe("+OK\r\n");
    expect(await c.raw("PFDEBUG", "ENCODING", "m3")).toBe("+dense\r\n");
    expect(await c.cmd("PFDEBUG", "GETREG", "m3")).toEqual(modelRegisters([...a, "x"]));
  });

  test("notifies pfadd every time, even when no register changes; an error notifies nothing", async () => {
    const c = await fresh();
    await c.raw("PFADD", "a", "x", "y");
    await c.raw("SET", "str", "not a sketch");
    const got = await keyspaceEventsVia(c, async () => {
      expect(await c.raw("PFMERGE", "m", "a")).toBe("+OK\r\n");
      expect(await c.raw("PFMERGE", "m", "a")).toBe("+OK\r\n");
      expect(await c.raw("PFMERGE", "n")).toBe("+OK\r\n"); // creates an empty sketch
      expect(await c.raw("PFMERGE", "m", "str")).toBe("-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n");
    });
    expect(got).toEqual([...keyspaceEvent("pfadd", "m"), ...keyspaceEvent("pfadd", "m"), ...keyspaceEvent("pfadd", "n")]);
  });

  test("aborts a WATCH on its destination even when no register changes", async () => {
    const c = await fresh();
    await c.raw("PFADD", "a", "x", "y");
    await c.raw("PFMERGE", "m", "a");
    expect(await abortsWatch(c, "m", ["PFMERGE", "m", "a"], "+OK\r\n")).toBe(true);
    expect(await abortsWatch(c, "a", ["PFMERGE", "m", "a"], "+OK\r\n")).toBe(false);
  });
});

describe("PFDEBUG", () => {
  test("GETREG lists the model's registers for 20000 elements of any bytes; on a sparse sketch it converts it first", async () => {
    const c = await fresh();
    const els = randomElements(31, 20000);
    await addAll(c, "d", els);
    expect(await c.cmd("PFDEBUG", "GETREG", "d")).toEqual(modelRegisters(els));
    const few = els.slice(0, 500);
    expect(await c.raw("PFADD", "s", ...few)).toBe(int(1));
    expect(await c.raw("PFDEBUG", "ENCODING", "s")).toBe("+sparse\r\n");
    expect(await c.cmd("PFDEBUG", "GETREG", "s")).toEqual(modelRegisters(few));
    expect(await c.raw("PFDEBUG", "ENCODING", "s")).toBe("+dense\r\n");
    expect(await c.raw("STRLEN", "s")).toBe(int(DENSE_LEN));
  });

  test("DECODE's opcodes spell the model's registers and take exactly the sketch's bytes", async () => {
    const c = await fresh();
    for (const n of [1, 20, 300, 1200]) {
      const els = randomElements(40 + n, n);
      expect(await c.raw("PFADD", `s${n}`, ...els)).toBe(int(1));
      const len = Number((await c.raw("STRLEN", `s${n}`)).slice(1, -2));
      expect(registersOfDecode((await c.cmd("PFDEBUG", "DECODE", `s${n}`)) as string)).toEqual({ regs: modelRegisters(els), bytes: len - HDR });
    }
  });

  test("TODENSE keeps the registers and the cached cardinality", async () => {
    const c = await fresh();
    const els = randomElements(50, 700);
    expect(await c.raw("PFADD", "s", ...els)).toBe(int(1));
    const estimate = await countOf(c, "s");
    expect(Math.abs(estimate - 700)).toBeLessThanOrEqual(maxError(700));
    const header = await c.cmd("GETRANGE", "s", 0, 15);
    expect(await c.raw("PFDEBUG", "TODENSE", "s")).toBe(int(1));
    expect(await c.cmd("GETRANGE", "s", 0, 15)).toBe((header as string).slice(0, 4) + "\x00" + (header as string).slice(5));
    expect(await c.cmd("PFDEBUG", "GETREG", "s")).toEqual(modelRegisters(els));
    expect(await countOf(c, "s")).toBe(estimate);
  });
});

describe("PFSELFTEST", () => {
  test("passes", async () => {
    // It checks the dense registers' packing, then feeds 10^7 elements to a dense and a sparse sketch.
    const c = await another();
    c.send("PFSELFTEST");
    expect(await c.readRaw(15000)).toBe("+OK\r\n");
  }, 20000);
});
