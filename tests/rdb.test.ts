// main.ts, RDB: every test runs its servers in their own temp directory
// (--dir), so no dump.rdb ever lands in the working tree. Redbun's files are checked by the real
// tools (redis-check-rdb, redis-server loading them), and real Redis's files and DUMP payloads by
// Redbun, comparing whole datasets key by key (type, value, TTL, OBJECT ENCODING). MIGRATE runs
// from a redis-server and from a Redbun, to both kinds of target and to fake targets, and the
// replies must match byte for byte. Corrupt RESTORE payloads (every small encoding damaged field
// by field and at random) must be answered as redis-server answers them. Tests that need
// redis-server are skipped without it (or run Redbun against Redbun only); REQUIRE_REDIS=1 makes
// that a failure.
import { describe, test, expect, beforeAll, afterAll, setDefaultTimeout } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RawClient, ReplyError, decode, encode, replyEnd, type Reply } from "./client.ts";
import { arr, bulk, bulks, freePort, int, pipeline, seededRandom, tapReplication } from "./helpers.ts";
import {
  ALL_BYTES, MAIN, incompressible, REDIS_CHECK_RDB, REDIS_SERVER, apply, diffDatasets, dumpPayload, everyTypeCommands, info, load, noRedis, pipe, readDataset,
  listDir, run, smallDisk, startPinger, startRedbun, startRedbunExpectingFailure, startRedis, tempDir, waitFor, type Dataset, type Server,
} from "./persistence-harness.ts";

// Each test starts servers as processes, which a busy machine makes slow.
setDefaultTimeout(30_000);

const dirs: string[] = [];
/** A temp directory removed after the file's tests. */
function dir(tag: string): string { const d = tempDir(tag); dirs.push(d); return d; }

// A save point of one second fires one to two seconds after the server starts. The two servers of
// the "save points" test start (and get their write) before the file's first test, so that wait
// overlaps the other tests instead of adding to them.
let savePointServers: Promise<{ on: Server; off: Server; started: number }> | null = null;
beforeAll(() => {
  savePointServers = (async () => {
    const on = await startRedbun(dir("savepoint-on"), { save: "1 1" });
    const off = await startRedbun(dir("savepoint-off"), { save: "" });
    const started = Date.now();
    await on.c.cmd("SET", "k", "v");
    await off.c.cmd("SET", "k", "v");
    return { on, off, started };
  })();
  savePointServers.catch(() => {}); // reported by the test that awaits it
});
afterAll(async () => {
  const x = await savePointServers?.catch(() => null);
  await x?.on.kill();
  await x?.off.kill();
});
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

/** Runs `fn` with the servers, stopping them (SIGKILL: no final save) whatever happens. */
async function using<T>(servers: Server[], fn: () => Promise<T>): Promise<T> {
  try { return await fn(); } finally { for (const s of servers) await s.kill(); }
}

/** Restarts a Redbun on its directory: SIGTERM, then a new process on the same --dir. */
async function restart(s: Server, params: Record<string, string | number> = {}): Promise<Server> {
  await s.stop();
  return startRedbun(s.dir, params);
}

/** redis-check-rdb's verdict on a file: exit code, and its counts of keys, expires and already
 *  expired keys. */
async function checkRdb(path: string): Promise<{ code: number; out: string; keys: number; expires: number; expired: number }> {
  const r = await run([REDIS_CHECK_RDB ?? "redis-check-rdb", path]);
  const n = (what: string) => Number(new RegExp(`\\[info\\] (\\d+) ${what}`).exec(r.out)?.[1] ?? -1);
  return { ...r, keys: n("keys read"), expires: n("expires"), expired: n("already expired") };
}

describe("SAVE and a restart", () => {
  test("give back every type and encoding with the same values, TTLs and OBJECT ENCODING", async () => {
    let s = await startRedbun(dir("rdb-roundtrip"));
    try {
      await apply(s.c, everyTypeCommands());
      const before = await readDataset(s.c);
      expect(before.size).toBe(63);
      expect(await s.c.raw("SAVE")).toBe("+OK\r\n");
      s = await restart(s);
      const after = await readDataset(s.c);
      expect(diffDatasets(before, after, { ttlToleranceMs: 5000 })).toEqual([]);
      // The TTLs were saved as absolute times: they went on running while the server was down.
      expect(after.get("0/str:ttl")!.pttl).toBeLessThanOrEqual(before.get("0/str:ttl")!.pttl);
    } finally { await s.kill(); }
  });

  test.skipIf(noRedis)("leave each key in the encoding redis-server gives it after loading the same data", async () => {
    // A collection that grew past the listpack limits and shrank again is a hashtable/skiplist in
    // memory but is loaded back compact, by both servers.
    const shrunk: (string | number)[][] = [
      ["HSET", "hash:shrunk", ...Array.from({ length: 200 }, (_, i) => [`f${i}`, "v"]).flat()],
      ["HDEL", "hash:shrunk", ...Array.from({ length: 197 }, (_, i) => `f${i}`)],
      ["ZADD", "zset:shrunk", ...Array.from({ length: 200 }, (_, i) => [i, `m${i}`]).flat()],
      ["ZREMRANGEBYRANK", "zset:shrunk", 0, 196],
      ["SADD", "set:shrunk", "a", ...Array.from({ length: 10 }, (_, i) => String(i))], ["SREM", "set:shrunk", "a"],
      ["SET", "str:appended", "ab"], ["APPEND", "str:appended", "cd"], ["SET", "str:incr", "10"], ["INCR", "str:incr"],
    ];
    let s = await startRedbun(dir("rdb-enc-redbun"));
    let r = await startRedis(dir("rdb-enc-redis"));
    try {
      for (const x of [s, r]) { await apply(x.c, [...everyTypeCommands(), ...shrunk]); expect(await x.c.raw("SAVE")).toBe("+OK\r\n"); }
      s = await restart(s);
      await r.stop();
      r = await startRedis(r.dir);
      expect(diffDatasets(await readDataset(r.c), await readDataset(s.c))).toEqual([]);
    } finally { await s.kill(); await r.kill(); }
  });

  test("drop keys whose TTL ran out while the server was down, and count them in INFO", async () => {
    let s = await startRedbun(dir("rdb-expired"));
    try {
      await apply(s.c, [["SET", "lives", "1"], ["SET", "dies", "1", "PX", 100], ["HSET", "dies:hash", "a", "b"], ["PEXPIRE", "dies:hash", 100]]);
      expect(await s.c.raw("SAVE")).toBe("+OK\r\n");
      await Bun.sleep(150);
      s = await restart(s);
      expect(await s.c.cmd("KEYS", "*")).toEqual(["lives"]);
      const i = await info(s.c);
      expect([i.rdb_last_load_keys_loaded, i.rdb_last_load_keys_expired]).toEqual(["1", "2"]);
    } finally { await s.kill(); }
  });
});

describe("a missing dump.rdb", () => {
  test("starts an empty server", async () => {
    const s = await startRedbun(dir("rdb-missing"));
    await using([s], async () => {
      expect(existsSync(join(s.dir, "dump.rdb"))).toBe(false);
      expect(await s.c.raw("DBSIZE")).toBe(":0\r\n");
      expect(await s.c.raw("SET", "k", "v")).toBe("+OK\r\n");
    });
  });
});

describe("a dump.rdb that takes a while to load", () => {
  /** dump.rdb with 20,000 keys, and a server loading it slowly (key-load-delay 100 µs, giving way
   *  to clients every KB, as the suite's rdb unit sets it), up to its first answer. */
  async function slowLoad(tag: string): Promise<{ d: string; port: number; proc: ReturnType<typeof Bun.spawn>; out: () => string }> {
    const d = dir(tag);
    const s = await startRedbun(d, { "enable-debug-command": "yes" });
    await using([s], async () => {
      expect(await s.c.cmd("DEBUG", "POPULATE", "20000", "key", "100")).toBe("OK");
      expect(await s.c.cmd("SAVE")).toBe("OK");
    });
    const port = await freePort();
    const proc = Bun.spawn(["bun", "run", MAIN, "--port", String(port), "--dir", d, "--save", "", "--enable-debug-command", "yes",
      "--key-load-delay", "100", "--loading-process-events-interval-bytes", "1024"], { cwd: d, stdout: "pipe", stderr: "pipe" });
    let out = "";
    void (async () => { for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) out += Buffer.from(chunk).toString("latin1"); })();
    return { d, port, proc, out: () => out };
  }
  async function connectTo(port: number): Promise<RawClient> {
    for (let i = 0; ; i++) {
      try { return await RawClient.connect(port); } catch (e) { if (i > 500) throw e; await Bun.sleep(10); }
    }
  }

  test("serves meanwhile: -LOADING to the data's commands, INFO with loading:1 and its progress, DEBUG LOG; then the data", async () => {
    const { d, port, proc, out } = await slowLoad("rdb-slow-load");
    try {
      const c = await connectTo(port);
      expect(await c.raw("GET", "key:1")).toBe("-LOADING Redis is loading the dataset in memory\r\n");
      expect(await c.raw("MULTI")).toBe("+OK\r\n"); // allowed; a command refused in it aborts the EXEC
      expect(await c.raw("GET", "key:1")).toBe("-LOADING Redis is loading the dataset in memory\r\n");
      expect(await c.raw("EXEC")).toBe("-EXECABORT Transaction discarded because of previous errors.\r\n");
      const i = await info(c, "persistence");
      expect(i.loading).toBe("1");
      expect(Number(i.loading_total_bytes)).toBe(statSync(join(d, "dump.rdb")).size);
      expect(Number(i.loading_loaded_bytes)).toBeLessThan(Number(i.loading_total_bytes));
      expect(i.loading_loaded_perc).toMatch(/^\d+\.\d\d$/);
      expect(await c.raw("DEBUG", "LOG", "hello")).toBe("+OK\r\n");
      await waitFor("the load", async () => (await c.raw("DBSIZE")) === ":20000\r\n", 60_000, 50);
      expect((await info(c, "persistence")).loading).toBe("0");
      expect(await c.raw("GET", "key:1")).toStartWith("$100\r\nvalue:1");
      expect(out()).toContain("DEBUG LOG: hello");
      expect(out().indexOf("Ready to accept connections")).toBeGreaterThan(out().indexOf("DEBUG LOG: hello"));
      c.close();
    } finally {
      proc.kill("SIGKILL");
      await proc.exited;
    }
  }, 90_000);

  test("SIGTERM while loading ends the server at once, without saving (the file is left as it was)", async () => {
    const { d, port, proc } = await slowLoad("rdb-slow-load-term");
    const before = readFileSync(join(d, "dump.rdb"));
    const c = await connectTo(port);
    expect(await c.raw("PING")).toBe("-LOADING Redis is loading the dataset in memory\r\n");
    c.close();
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    expect(readFileSync(join(d, "dump.rdb")).equals(before)).toBe(true);
  }, 60_000);
});

describe("Redbun's dump.rdb in the real tools", () => {
  test.skipIf(noRedis)("passes redis-check-rdb, with every key and expire counted", async () => {
    const s = await startRedbun(dir("rdb-check"));
    await using([s], async () => {
      await apply(s.c, everyTypeCommands());
      expect(await s.c.raw("SAVE")).toBe("+OK\r\n");
      const r = await checkRdb(join(s.dir, "dump.rdb"));
      expect(r.out).toContain("\\o/ RDB looks OK! \\o/");
      expect(r.out).toContain("Checksum OK");
      expect([r.code, r.keys, r.expires, r.expired]).toEqual([0, 63, 6, 0]);
    });
  });

  test.skipIf(noRedis)("loads in redis-server with identical data", async () => {
    const s = await startRedbun(dir("rdb-to-redis"));
    const ref = await startRedis(dir("rdb-to-redis-ref"));
    let r: Server | null = null;
    try {
      // The reference is the same commands applied to redis-server directly.
      for (const x of [s, ref]) await apply(x.c, everyTypeCommands());
      expect(await s.c.raw("SAVE")).toBe("+OK\r\n");
      const d = dir("rdb-to-redis-load");
      copyFileSync(join(s.dir, "dump.rdb"), join(d, "dump.rdb"));
      r = await startRedis(d);
      expect(r.log()).toContain("Done loading RDB, keys loaded: 63, keys expired: 0.");
      const loaded = await readDataset(r.c);
      expect(diffDatasets(await readDataset(s.c), loaded, { encodings: false })).toEqual([]);
      expect(diffDatasets(await readDataset(ref.c), loaded)).toEqual([]);
    } finally { await s.kill(); await ref.kill(); await r?.kill(); }
  });

  test.skipIf(noRedis)("stores strings LZF-compressed that redis-server decompresses, at every length", async () => {
    // Lengths around LZF's limits: literal runs of 32, back-references of up to 264 bytes and 8 KiB.
    const s = await startRedbun(dir("rdb-lzf"));
    let r: Server | null = null;
    try {
      const cmds: (string | number)[][] = [];
      for (const n of [21, 22, 31, 32, 33, 64, 100, 263, 264, 265, 266, 1000, 8191, 8192, 8193, 8200, 20000, 70000]) {
        cmds.push(["SET", `rep:${n}`, "ab".repeat(n).slice(0, n)]);
        cmds.push(["SET", `mix:${n}`, Array.from({ length: n }, (_, i) => String.fromCharCode((i * 7 + (i >> 5)) & 0xff)).join("")]);
        cmds.push(["SET", `far:${n}`, Array.from({ length: n }, (_, i) => String.fromCharCode(((i % 8000) * 31) & 0xff)).join("")]);
        cmds.push(["SET", `bytes:${n}`, ALL_BYTES.repeat(Math.ceil(n / 256)).slice(0, n)]);
      }
      await apply(s.c, cmds);
      expect(await s.c.raw("SAVE")).toBe("+OK\r\n");
      // Compressed strings really are in there: the file is smaller than the values.
      const raw = cmds.reduce((n, c) => n + String(c[2]).length, 0);
      expect(statSync(join(s.dir, "dump.rdb")).size).toBeLessThan(raw / 2);
      const d = dir("rdb-lzf-load");
      copyFileSync(join(s.dir, "dump.rdb"), join(d, "dump.rdb"));
      r = await startRedis(d);
      expect(diffDatasets(await readDataset(s.c), await readDataset(r.c), { encodings: false })).toEqual([]);
    } finally { await s.kill(); await r?.kill(); }
  });
});

describe("rdbcompression no, rdbchecksum no and another dbfilename", () => {
  test("give a plain file with a zero checksum under that name, which redis-check-rdb accepts and Redbun loads back", async () => {
    const params = { rdbcompression: "no", rdbchecksum: "no", dbfilename: "other.rdb" };
    let s = await startRedbun(dir("rdb-plain"), params);
    try {
      await apply(s.c, [["SET", "compressible", "a".repeat(1000)], ["RPUSH", "l", "b".repeat(100)]]);
      expect(await s.c.raw("SAVE")).toBe("+OK\r\n");
      expect(existsSync(join(s.dir, "dump.rdb"))).toBe(false);
      const file = readFileSync(join(s.dir, "other.rdb"));
      expect(file.subarray(file.length - 8).toString("hex")).toBe("0000000000000000");
      expect(file.length).toBeGreaterThan(1100); // stored as they are
      if (!noRedis) {
        const r = await checkRdb(join(s.dir, "other.rdb"));
        expect(r.out).toContain("RDB file was saved with checksum disabled: no check performed.");
        expect([r.code, r.keys]).toEqual([0, 2]);
      }
      await s.stop();
      s = await startRedbun(s.dir, params);
      expect(await s.c.cmd("GET", "compressible")).toBe("a".repeat(1000));
      expect(await s.c.cmd("LRANGE", "l", 0, -1)).toEqual(["b".repeat(100)]);
    } finally { await s.kill(); }
  });
});

/** Builds, in a real redis-server, a dataset of every encoding Redis 7.0 writes, saves it and
 *  returns the file's directory and the dataset as redis-server reads it back after loading. */
async function redisDumpOfEveryEncoding(): Promise<{ file: string; expected: Dataset }> {
  // Small quicklist nodes (several per list) and compressed inner nodes: QUICKLIST_2 with LZF blobs.
  const params = { "list-max-listpack-size": 4, "list-compress-depth": 1 };
  const r = await startRedis(dir("rdb-from-redis"), params);
  try {
    await apply(r.c, everyTypeCommands());
    await apply(r.c, [
      ["RPUSH", "list:quicklist", ...Array.from({ length: 50 }, (_, i) => `node element ${i} ${"pad".repeat(i % 5)}`)],
      ["RPUSH", "list:quicklist:ints", ...Array.from({ length: 30 }, (_, i) => String(i * 100003 - 1000000))],
      ["RPUSH", "list:bigelement", "a", "P".repeat(20000), "b"],
      ["HSET", "hash:1000", ...Array.from({ length: 1000 }, (_, i) => [`field:${i}`, i % 3 ? `value ${i}` : String(i)]).flat()],
      ["SADD", "set:intset16", "1", "-2", "300"], ["SADD", "set:intset32", "70000", "-70000"],
      ["ZADD", "zset:lp:ints", "1", "10", "2", "-20", "3", "300000"],
      ["HSET", "hash:lp:ints", "1", "2", "-3", "40000", "5", "9999999999"],
      ["SET", "expires:sec", "x", "EX", 5000], ["SET", "expires:ms", "x", "PX", 123456789],
      ["SELECT", 3], ["RPUSH", "db3:list", ...Array.from({ length: 20 }, (_, i) => `e${i}`)], ["SELECT", 0],
    ]);
    expect(await r.c.cmd("OBJECT", "ENCODING", "hash:1000")).toBe("hashtable");
    expect(String(await r.c.cmd("DEBUG", "OBJECT", "list:quicklist"))).toMatch(/ql_nodes:13 .*ql_compressed:1 /);
    expect(await r.c.raw("SAVE")).toBe("+OK\r\n");
    await r.stop();
    // What redis-server itself gives back from that file is the reference.
    const again = await startRedis(r.dir, params);
    try {
      return { file: join(r.dir, "dump.rdb"), expected: await readDataset(again.c) };
    } finally { await again.kill(); }
  } finally { await r.kill(); }
}

describe("redis-server's dump.rdb in Redbun", () => {
  test.skipIf(noRedis)("loads every type and encoding (quicklists of several nodes, intsets, listpacks, a 1000-field hashtable, expires, several dbs) with identical data", async () => {
    const { file, expected } = await redisDumpOfEveryEncoding();
    expect(expected.size).toBe(74);
    const d = dir("rdb-from-redis-load");
    copyFileSync(file, join(d, "dump.rdb"));
    const s = await startRedbun(d);
    await using([s], async () => {
      expect(s.log()).toContain("Done loading RDB, keys loaded: 74, keys expired: 0.");
      expect(diffDatasets(expected, await readDataset(s.c))).toEqual([]);
    });
  });

  test.skipIf(noRedis)("keeps inf and -inf scores of a listpack sorted set", async () => {
    const r = await startRedis(dir("rdb-inf"));
    let s: Server | null = null;
    try {
      await apply(r.c, [["ZADD", "z", "-inf", "low", "0", "mid", "inf", "high"]]);
      expect(await r.c.cmd("OBJECT", "ENCODING", "z")).toBe("listpack");
      expect(await r.c.raw("SAVE")).toBe("+OK\r\n");
      const d = dir("rdb-inf-load");
      copyFileSync(join(r.dir, "dump.rdb"), join(d, "dump.rdb"));
      s = await startRedbun(d);
      expect(await s.c.cmd("ZRANGE", "z", 0, -1, "WITHSCORES")).toEqual(["low", "-inf", "mid", "0", "high", "inf"]);
      expect(await s.c.cmd("ZSCORE", "z", "high")).toBe("inf");
    } finally { await r.kill(); await s?.kill(); }
  });
});

describe("DUMP and RESTORE", () => {
  // One Redbun and one redis-server for the whole describe, flushed (and set back to noeviction)
  // before each test.
  let servers: Promise<{ s: Server; r: Server }> | null = null;
  async function dumpServers(): Promise<{ s: Server; r: Server }> {
    servers ??= (async () => ({ s: await startRedbun(dir("dump")), r: noRedis ? (null as unknown as Server) : await startRedis(dir("dump-ref"), { "list-max-listpack-size": 4 }) }))();
    const x = await servers;
    for (const c of [x.s.c, x.r?.c]) if (c) await pipe(c, [["FLUSHALL"], ["CONFIG", "SET", "maxmemory-policy", "noeviction"]]);
    return x;
  }
  afterAll(async () => { const x = await servers?.catch(() => null); await x?.s.kill(); await x?.r?.kill(); });

  test.skipIf(noRedis)("payloads from redis-server restore in Redbun with the same value and encoding, for every type", async () => {
    const { s, r } = await dumpServers();
    await apply(r.c, [...everyTypeCommands(), ["HSET", "hash:1000", ...Array.from({ length: 1000 }, (_, i) => [`f${i}`, `v${i}`]).flat()]]);
    const expected = await readDataset(r.c, 1);
    const keys = [...expected.keys()].map((k) => k.slice(2));
    const payloads = (await pipe(r.c, keys.map((k) => ["DUMP", k]))) as string[];
    const replies = await pipe(s.c, keys.map((k, i) => ["RESTORE", k, Math.max(0, expected.get(`0/${k}`)!.pttl), payloads[i]]));
    expect(replies.map((x, i) => `${keys[i]}: ${x}`)).toEqual(keys.map((k) => `${k}: OK`));
    expect(diffDatasets(expected, await readDataset(s.c, 1), { ttlToleranceMs: 2000 })).toEqual([]);
  });

  test.skipIf(noRedis)("Redbun's payloads restore in redis-server with the same value and encoding, for every type", async () => {
    const { s, r } = await dumpServers();
    await apply(s.c, everyTypeCommands());
    await apply(r.c, everyTypeCommands());
    const expected = await readDataset(r.c, 1);
    const keys = [...expected.keys()].map((k) => k.slice(2));
    const payloads = (await pipe(s.c, keys.map((k) => ["DUMP", k]))) as string[];
    await r.c.cmd("FLUSHALL");
    const replies = await pipe(r.c, keys.map((k, i) => ["RESTORE", k, Math.max(0, expected.get(`0/${k}`)!.pttl), payloads[i]]));
    expect(replies.map((x, i) => `${keys[i]}: ${x}`)).toEqual(keys.map((k) => `${k}: OK`));
    expect(diffDatasets(expected, await readDataset(r.c, 1), { ttlToleranceMs: 2000 })).toEqual([]);
  });

  test("Redbun restores its own payloads with value and encoding unchanged", async () => {
    const { s } = await dumpServers();
    await apply(s.c, everyTypeCommands());
    const before = await readDataset(s.c, 1);
    const keys = [...before.keys()].map((k) => k.slice(2));
    const payloads = (await pipe(s.c, keys.map((k) => ["DUMP", k]))) as string[];
    await s.c.cmd("FLUSHDB");
    await apply(s.c, keys.map((k, i) => ["RESTORE", k, Math.max(0, before.get(`0/${k}`)!.pttl), payloads[i]]));
    expect(diffDatasets(before, await readDataset(s.c, 1), { ttlToleranceMs: 2000 })).toEqual([]);
  });

  test("REPLACE overwrites an existing key of another type; without it the reply is BUSYKEY and nothing changes", async () => {
    const { s } = await dumpServers();
    await apply(s.c, [["RPUSH", "src", "a", "b"], ["SET", "dst", "old", "EX", 100]]);
    const p = String(await s.c.cmd("DUMP", "src"));
    expect(await s.c.raw("RESTORE", "dst", 0, p)).toBe("-BUSYKEY Target key name already exists.\r\n");
    expect(await s.c.raw("GET", "dst")).toBe("$3\r\nold\r\n");
    expect(await s.c.raw("RESTORE", "dst", 0, p, "REPLACE")).toBe("+OK\r\n");
    expect(await s.c.cmd("LRANGE", "dst", 0, -1)).toEqual(["a", "b"]);
    expect(await s.c.raw("PTTL", "dst")).toBe(":-1\r\n"); // the old TTL went with the old value
  });

  test("a TTL is relative, or with ABSTTL a unix time in ms; one in the past replies OK and leaves no key (REPLACE deletes the old one)", async () => {
    const { s } = await dumpServers();
    await apply(s.c, [["SET", "src", "v"], ["SET", "old", "x"]]);
    const p = String(await s.c.cmd("DUMP", "src"));
    const at = Date.now() + 100000;
    expect(await s.c.raw("RESTORE", "rel", 50000, p)).toBe("+OK\r\n");
    expect(Number(await s.c.cmd("PTTL", "rel"))).toBeWithin(48000, 50001);
    expect(await s.c.raw("RESTORE", "abs", at, p, "ABSTTL")).toBe("+OK\r\n");
    expect(await s.c.raw("PEXPIRETIME", "abs")).toBe(`:${at}\r\n`);
    expect(await s.c.raw("RESTORE", "past", Date.now() - 1000, p, "ABSTTL")).toBe("+OK\r\n");
    expect(await s.c.raw("EXISTS", "past")).toBe(":0\r\n");
    expect(await s.c.raw("RESTORE", "old", 1, p, "ABSTTL", "REPLACE")).toBe("+OK\r\n");
    expect(await s.c.raw("EXISTS", "old")).toBe(":0\r\n");
    expect(await s.c.raw("RESTORE", "none", 0, p)).toBe("+OK\r\n");
    expect(await s.c.raw("PTTL", "none")).toBe(":-1\r\n");
  });

  test("a relative TTL that overflows a long long when added to the clock leaves no key, as Redis's wrapped sum does", async () => {
    // redis-server 7.0.15 adds the clock to a relative TTL in a long long: past LLONG_MAX the
    // sum wraps negative and the key counts as already expired (REPLACE deletes the old one).
    const { s } = await dumpServers();
    await apply(s.c, [["SET", "src", "v"], ["RPUSH", "old", "a"]]);
    const p = String(await s.c.cmd("DUMP", "src"));
    expect(await s.c.raw("RESTORE", "old", "9223372036854775807", p, "REPLACE")).toBe("+OK\r\n");
    expect(await s.c.raw("EXISTS", "old")).toBe(":0\r\n");
    expect(await s.c.raw("RESTORE", "new", "9223372036854775000", p)).toBe("+OK\r\n");
    expect(await s.c.raw("EXISTS", "new")).toBe(":0\r\n");
    // Just below the overflow the key stays. (Expire times are kept as doubles: beyond 2^53 ms
    // they are rounded, to within 1024 ms here.)
    const before = Date.now();
    expect(await s.c.raw("RESTORE", "far", "9223370000000000000", p)).toBe("+OK\r\n");
    const offset = BigInt(String(await s.c.cmd("PEXPIRETIME", "far"))) - 9223370000000000000n;
    expect(offset >= BigInt(before - 1024) && offset <= BigInt(Date.now() + 1024)).toBe(true);
  });

  test("IDLETIME sets the idle time OBJECT IDLETIME reports", async () => {
    const { s } = await dumpServers();
    await s.c.cmd("SET", "src", "v");
    const p = String(await s.c.cmd("DUMP", "src"));
    expect(await s.c.raw("RESTORE", "k", 0, p, "IDLETIME", 1000)).toBe("+OK\r\n");
    expect(Number(await s.c.cmd("OBJECT", "IDLETIME", "k"))).toBeWithin(1000, 1002);
  });

  test("FREQ sets the LFU counter OBJECT FREQ reports, under an LFU policy", async () => {
    const { s } = await dumpServers();
    await s.c.cmd("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu");
    await s.c.cmd("SET", "src", "v");
    const p = String(await s.c.cmd("DUMP", "src"));
    expect(await s.c.raw("RESTORE", "k", 0, p, "FREQ", 100)).toBe("+OK\r\n");
    expect(await s.c.raw("OBJECT", "FREQ", "k")).toBe(":100\r\n");
    expect(await s.c.raw("RESTORE", "k2", 0, p, "FREQ", 255)).toBe("+OK\r\n");
    expect(await s.c.raw("OBJECT", "FREQ", "k2")).toBe(":255\r\n");
  });

  test("a payload of an empty collection is refused with ERR Bad data format and creates no key", async () => {
    const { s } = await dumpServers();
    for (const [type, name] of [[1, "list"], [2, "set"], [3, "zset"], [4, "hash"], [5, "zset2"]] as const) {
      expect(`${name}: ${await s.c.raw("RESTORE", name, 0, dumpPayload(Buffer.from([type, 0])))}`).toBe(`${name}: -ERR Bad data format\r\n`);
    }
    expect(await s.c.raw("DBSIZE")).toBe(":0\r\n");
  });

  test("a payload with a wrong checksum or a newer RDB version is refused with ERR DUMP payload version or checksum are wrong", async () => {
    const { s } = await dumpServers();
    await s.c.cmd("SET", "src", "value");
    const p = Buffer.from(String(await s.c.cmd("DUMP", "src")), "latin1");
    const bad = Buffer.from(p);
    bad[bad.length - 1] ^= 1;
    const err = "-ERR DUMP payload version or checksum are wrong\r\n";
    expect(await s.c.raw("RESTORE", "k", 0, bad.latin1Slice())).toBe(err);
    expect(await s.c.raw("RESTORE", "k", 0, dumpPayload(Buffer.from([0, 3, 97, 98, 99]), 11))).toBe(err);
    expect(await s.c.raw("RESTORE", "k", 0, "short")).toBe(err);
    expect(await s.c.raw("EXISTS", "k")).toBe(":0\r\n");
    // An older RDB version is fine.
    expect(await s.c.raw("RESTORE", "k", 0, dumpPayload(Buffer.from([0, 3, 97, 98, 99]), 9))).toBe("+OK\r\n");
    expect(await s.c.raw("GET", "k")).toBe("$3\r\nabc\r\n");
  });

  test.skipIf(noRedis)("answers every error exactly as redis-server does, checking options, then BUSYKEY, then the TTL, then the payload", async () => {
    const { s, r } = await dumpServers();
    const p = dumpPayload(Buffer.from([0, 3, 97, 98, 99]));
    const cases: (string | number)[][] = [
      ["RESTORE", "exists", 0, p], ["RESTORE", "exists", -1, p], ["RESTORE", "exists", -1, p, "REPLACE"], ["RESTORE", "exists", 0, "junk", "REPLACE"],
      ["RESTORE", "new", -1, p], ["RESTORE", "new", "abc", p], ["RESTORE", "new", "1.5", p], ["RESTORE", "new", 0, p + "x"], ["RESTORE", "new", 0, ""],
      ["RESTORE", "new", 0, p, "IDLETIME", -1], ["RESTORE", "new", 0, p, "IDLETIME", "x"], ["RESTORE", "new", 0, p, "IDLETIME"],
      ["RESTORE", "new", 0, p, "FREQ", 256], ["RESTORE", "new", 0, p, "FREQ", -1], ["RESTORE", "new", 0, p, "IDLETIME", 10, "FREQ", 5],
      ["RESTORE", "new", 0, p, "FREQ", 5, "IDLETIME", 10], ["RESTORE", "new", 0, p, "BOGUS"], ["RESTORE", "exists", 0, p, "IDLETIME", -1],
      ["RESTORE", "exists", 0, p, "BOGUS"], ["RESTORE", "new"], ["RESTORE", "new", 0], ["DUMP"], ["DUMP", "a", "b"], ["DUMP", "missing"],
      ["RESTORE", "new", 0, dumpPayload(Buffer.from([99, 3, 97, 98, 99]))], // unknown type
      ["RESTORE", "empty:set", 0, dumpPayload(Buffer.from([2, 0]))],
      ["RESTORE", "empty:list", 0, dumpPayload(Buffer.from([1, 0]))],
      ["RESTORE", "empty:hash", 0, dumpPayload(Buffer.from([4, 0]))],
      ["RESTORE", "empty:zset", 0, dumpPayload(Buffer.from([5, 0]))],
      ["EXISTS", "new", "empty:set", "empty:list", "empty:hash", "empty:zset"],
    ];
    for (const x of [s, r]) await x.c.cmd("SET", "exists", "1");
    const ours = await pipe(s.c, cases), theirs = await pipe(r.c, cases);
    const show = (rs: unknown[]) => rs.map((x, i) => `${JSON.stringify(cases[i]).slice(0, 60)} -> ${x}`);
    expect(show(ours)).toEqual(show(theirs));
  });
});

describe("a corrupt dump.rdb", () => {
  let good: Buffer | null = null;
  /** A valid file of every type to damage. */
  async function goodFile(): Promise<Buffer> {
    if (good) return good;
    const s = await startRedbun(dir("rdb-corrupt-src"));
    await using([s], async () => { await apply(s.c, everyTypeCommands()); await s.c.cmd("SAVE"); });
    good = readFileSync(join(s.dir, "dump.rdb"));
    return good;
  }
  const damages: [string, (b: Buffer) => Buffer, RegExp][] = [
    ["a byte flipped in the middle", (b) => { const c = Buffer.from(b); c[c.length >> 1] ^= 0x55; return c; }, /checksum|CRC|corrupt|invalid|unexpected|integrity/i],
    ["the database number after SELECTDB made an encoding byte", (b) => { const c = Buffer.from(b); c[b.indexOf(Buffer.from([0xfe, 0x00, 0xfb])) + 1] = 0xff; return c; }, /length|encoding|unexpected/i],
    ["the file cut in half", (b) => b.subarray(0, b.length >> 1), /end of file|eof|short read/i],
    ["the last byte of the checksum missing", (b) => b.subarray(0, b.length - 1), /end of file|eof|short read|checksum/i],
    ["the whole checksum missing", (b) => b.subarray(0, b.length - 8), /end of file|eof|short read|checksum/i],
    ["a wrong checksum", (b) => { const c = Buffer.from(b); c[c.length - 3] ^= 1; return c; }, /RDB CRC error/],
    ["no RDB signature", () => Buffer.from("this is not an RDB file at all"), /signature/i],
    ["an empty file", () => Buffer.alloc(0), /end of file|eof|short read/i],
  ];
  for (const [what, damage, problem] of damages) {
    test(`with ${what}: Redbun refuses to start, names the problem and an offset, and never serves`, async () => {
      const d = dir("rdb-corrupt");
      writeFileSync(join(d, "dump.rdb"), damage(await goodFile()));
      const r = await startRedbunExpectingFailure(d);
      expect(r.served).toBe(false);
      expect(r.code).not.toBe(0);
      const fatal = r.out.split("\n").find((l) => /offset \d+/.test(l)) ?? r.out;
      expect(fatal).toMatch(/offset \d+/);
      expect(fatal).toMatch(problem);
    });
  }

  test("that cannot be read (a directory of that name) stops the start: unreadable is not empty", async () => {
    const d = dir("rdb-unreadable");
    mkdirSync(join(d, "dump.rdb"));
    const r = await startRedbunExpectingFailure(d);
    expect([r.served, r.code]).toEqual([false, 1]);
    expect(r.out).toContain("Fatal error loading the DB: Is a directory. Exiting.");
  });

  test.skipIf(noRedis)("redis-server refuses the same damaged files (the reference for the cases above)", async () => {
    const b = await goodFile();
    for (const [what, damage] of damages) {
      const d = dir("rdb-corrupt-ref");
      writeFileSync(join(d, "dump.rdb"), damage(b));
      const r = await run([REDIS_SERVER!, "--port", "0", "--unixsocket", join(d, "sock"), "--dir", d, "--save", "", "--daemonize", "no"]);
      expect(`${what}: ${r.code}`).toBe(`${what}: 1`);
    }
    const d = dir("rdb-unreadable-ref");
    mkdirSync(join(d, "dump.rdb"));
    const r = await run([REDIS_SERVER!, "--port", "0", "--unixsocket", join(d, "sock"), "--dir", d, "--save", "", "--daemonize", "no"]);
    expect(`a directory: ${r.code}`).toBe("a directory: 1");
  });
});

describe("BGSAVE", () => {
  test("of big values gives way to other clients between them (64 values of 1 MB: no PING waits 150 ms)", async () => {
    const s = await startRedbun(dir("bgsave-big"), { "rdbcompression": "no" });
    await using([s], async () => {
      const mb = "A".repeat(1 << 20);
      await pipe(s.c, Array.from({ length: 64 }, (_, i) => ["SET", `big${i}`, mb]));
      const p = await RawClient.connect(s.port);
      expect(await s.c.cmd("BGSAVE")).toBe("Background saving started");
      let worst = 0, pings = 0;
      for (;;) {
        const t = performance.now();
        expect(await p.raw("PING")).toBe("+PONG\r\n");
        worst = Math.max(worst, performance.now() - t);
        pings++;
        if ((await info(s.c)).rdb_bgsave_in_progress === "0") break;
      }
      p.close();
      expect(pings).toBeGreaterThan(0);
      expect(worst).toBeLessThan(150); // all 64 MB in one slice took ~0.5 s here
      expect((await info(s.c)).rdb_last_bgsave_status).toBe("ok");
    });
  });

  /** The INFO persistence fields a save moves, and LASTSAVE. */
  async function saveState(c: RawClient) {
    const i = await info(c);
    return {
      inProgress: i.rdb_bgsave_in_progress, status: i.rdb_last_bgsave_status, saves: Number(i.rdb_saves),
      changes: Number(i.rdb_changes_since_last_save), lastSave: Number(i.rdb_last_save_time), lastSaveCmd: Number(await c.cmd("LASTSAVE")),
    };
  }

  /** A script of saves and writes; returns what a client sees at each step, timestamps made relative. */
  async function bgsaveScript(s: Server): Promise<unknown[]> {
    const seen: unknown[] = [];
    const t0 = Math.floor(Date.now() / 1000);
    const rel = (st: Awaited<ReturnType<typeof saveState>>) => ({ ...st, lastSave: st.lastSave >= t0 - 2 && st.lastSave <= t0 + 5, lastSaveIsLASTSAVE: st.lastSave === st.lastSaveCmd, lastSaveCmd: undefined });
    seen.push(rel(await saveState(s.c)));
    await apply(s.c, [["SET", "a", "1"], ["SET", "b", "2"], ["DEL", "b"], ["DEL", "nothing"]]);
    seen.push(rel(await saveState(s.c)));
    // In one write: the save starts, and INFO right after sees it running.
    const [reply, infoText] = await pipe(s.c, [["BGSAVE"], ["INFO", "persistence"]]);
    seen.push(reply, /rdb_bgsave_in_progress:(\d)/.exec(String(infoText))![1]);
    await waitFor("BGSAVE", async () => (await info(s.c)).rdb_bgsave_in_progress === "0");
    seen.push(rel(await saveState(s.c)));
    // Writes made while a save runs are still changes since the last save afterwards.
    seen.push(await pipe(s.c, [["BGSAVE"], ["SET", "c", "3"], ["SET", "d", "4"]]));
    await waitFor("BGSAVE", async () => (await info(s.c)).rdb_bgsave_in_progress === "0");
    seen.push(rel(await saveState(s.c)));
    expect(existsSync(join(s.dir, "dump.rdb"))).toBe(true);
    return seen;
  }

  test("replies Background saving started and moves INFO persistence and LASTSAVE as expected", async () => {
    const s = await startRedbun(dir("bgsave-info"));
    await using([s], async () => {
      const seen = await bgsaveScript(s);
      const st = (saves: number, changes: number) => ({ inProgress: "0", status: "ok", saves, changes, lastSave: true, lastSaveIsLASTSAVE: true, lastSaveCmd: undefined });
      expect(seen).toEqual([st(0, 0), st(0, 3), "Background saving started", "1", st(1, 0), ["Background saving started", "OK", "OK"], st(2, 2)]);
    });
  });

  test.skipIf(noRedis)("moves INFO persistence and LASTSAVE as redis-server does", async () => {
    const s = await startRedbun(dir("bgsave-info-a"));
    const r = await startRedis(dir("bgsave-info-b"));
    await using([s, r], async () => { expect(await bgsaveScript(s)).toEqual(await bgsaveScript(r)); });
  });

  /** Sends the steps in one write, right after a save or rewrite the first one starts (so it is
   *  still running for the others), then waits until rdb_saves reaches `saves` and nothing runs or
   *  is scheduled. Returns the replies. The expected strings are redis-server 7.0.15's. */
  async function whileBusy(s: Server, steps: (string | number)[][], saves: number): Promise<string[]> {
    await apply(s.c, Array.from({ length: 2000 }, (_, i) => ["SET", `k${i}`, "x".repeat(100)]));
    const replies = (await pipe(s.c, steps)).map(String);
    await waitFor(`rdb_saves:${saves} and no background work`, async () => {
      const i = await info(s.c);
      return i.rdb_saves === String(saves) && i.rdb_bgsave_in_progress === "0" && i.aof_rewrite_in_progress === "0" && i.aof_rewrite_scheduled === "0";
    }, 10000, 20);
    return replies;
  }

  test("while a save runs, BGSAVE (with or without SCHEDULE) and SAVE are refused and BGREWRITEAOF is scheduled", async () => {
    const s = await startRedbun(dir("bgsave-busy"));
    await using([s], async () => {
      expect(await whileBusy(s, [["BGSAVE"], ["BGSAVE"], ["BGSAVE", "SCHEDULE"], ["SAVE"], ["BGREWRITEAOF"], ["BGSAVE", "NOW"]], 1)).toEqual([
        "Background saving started", "ERR Background save already in progress", "ERR Background save already in progress",
        "ERR Background save already in progress", "Background append only file rewriting scheduled", "ERR syntax error",
      ]);
      expect((await info(s.c)).aof_rewrites).toBe("1"); // the scheduled rewrite ran
    });
  });

  test("while an AOF rewrite runs, BGSAVE is refused and BGSAVE SCHEDULE runs it afterwards", async () => {
    const s = await startRedbun(dir("bgsave-sched"));
    await using([s], async () => {
      expect(await whileBusy(s, [["BGREWRITEAOF"], ["BGSAVE"], ["BGSAVE", "SCHEDULE"], ["BGSAVE", "SCHEDULE"]], 1)).toEqual([
        "Background append only file rewriting started",
        "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
        "Background saving scheduled", "Background saving scheduled",
      ]);
      expect(existsSync(join(s.dir, "dump.rdb"))).toBe(true);
    });
  });

  test("leaves out stream consumer-group changes made during the save (XREADGROUP, XCLAIM, XAUTOCLAIM), as every other write", async () => {
    const s = await startRedbun(dir("bgsave-streams"));
    await using([s], async () => {
      await apply(s.c, [
        ["XADD", "st", "1-0", "a", "1"], ["XADD", "st", "2-0", "a", "2"], ["XADD", "st", "3-0", "a", "3"], ["XGROUP", "CREATE", "st", "g", "0"],
        ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "st", ">"],
        ["XADD", "st2", "1-0", "a", "1"], ["XGROUP", "CREATE", "st2", "g", "0"], ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "st2", ">"],
      ]);
      /** Who holds which entry, how often it was delivered, and each group's position. */
      const groups = async (c: RawClient) => {
        const out: unknown[] = [];
        for (const k of ["st", "st2"]) {
          out.push(((await c.cmd("XPENDING", k, "g", "-", "+", 10)) as unknown[][]).map(([id, consumer, , n]) => [k, id, consumer, n]));
          out.push(((await c.cmd("XINFO", "GROUPS", k)) as unknown[][]).map((g) => [k, g[1], "last", g[7], "read", g[9]]));
        }
        return out;
      };
      const before = await groups(s.c);
      // In the same write as BGSAVE: they run before the save has written anything.
      const replies = await pipe(s.c, [["BGSAVE"], ["XCLAIM", "st", "g", "bob", 0, "1-0"], ["XAUTOCLAIM", "st2", "g", "carol", 0, "0"], ["XREADGROUP", "GROUP", "g", "dave", "STREAMS", "st", ">"]]);
      expect(replies[0]).toBe("Background saving started");
      expect(await groups(s.c)).not.toEqual(before);
      await waitFor("BGSAVE", async () => (await info(s.c)).rdb_bgsave_in_progress === "0");
      const d = dir("bgsave-streams-load");
      copyFileSync(join(s.dir, "dump.rdb"), join(d, "dump.rdb"));
      const loaded = await startRedbun(d);
      await using([loaded], async () => { expect(await groups(loaded.c)).toEqual(before); });
    });
  });

  test("inside MULTI is scheduled rather than started, as in redis-server", async () => {
    const s = await startRedbun(dir("bgsave-multi"));
    await using([s], async () => {
      await s.c.cmd("SET", "k", "v");
      expect(await pipe(s.c, [["MULTI"], ["BGSAVE"], ["EXEC"]])).toEqual(["OK", "QUEUED", ["Background saving scheduled"]]);
      await waitFor("scheduled BGSAVE", async () => (await info(s.c)).rdb_saves === "1", 5000, 20);
    });
  });
});

describe("a failed save", () => {
  const MISCONF = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

  test("is reported by SAVE as ERR and by INFO as rdb_last_bgsave_status:err", async () => {
    const d = dir("save-fails");
    const s = await startRedbun(d);
    await using([s], async () => {
      rmSync(d, { recursive: true, force: true }); // nowhere to write
      expect(await s.c.raw("SAVE")).toBe("-ERR\r\n");
      expect(await s.c.cmd("BGSAVE")).toBe("Background saving started");
      await waitFor("the save to end", async () => (await info(s.c)).rdb_bgsave_in_progress === "0");
      expect((await info(s.c)).rdb_last_bgsave_status).toBe("err");
    });
  });

  test("with save points, makes writes and PING fail with MISCONF (stop-writes-on-bgsave-error), reads still work, until it is turned off", async () => {
    const d = dir("save-misconf");
    const s = await startRedbun(d, { save: "3600 1" });
    await using([s], async () => {
      await s.c.cmd("SET", "a", "1");
      rmSync(d, { recursive: true, force: true });
      expect(await s.c.cmd("BGSAVE")).toBe("Background saving started");
      await waitFor("the save to fail", async () => (await info(s.c)).rdb_last_bgsave_status === "err");
      expect(await s.c.raw("SET", "b", "2")).toBe(`-${MISCONF}\r\n`);
      expect(await s.c.raw("DEL", "a")).toBe(`-${MISCONF}\r\n`);
      expect(await s.c.raw("PING")).toBe(`-${MISCONF}\r\n`);
      expect(await s.c.raw("GET", "a")).toBe("$1\r\n1\r\n");
      expect(await s.c.cmd("CONFIG", "SET", "stop-writes-on-bgsave-error", "no")).toBe("OK");
      expect(await s.c.raw("SET", "b", "2")).toBe("+OK\r\n");
    });
  });

  for (const [name, start] of [["Redbun", startRedbun], ["redis-server", startRedis]] as const) {
    test.skipIf(name !== "Redbun" && noRedis)(`${name}: on a full disk, BGSAVE and SAVE fail cleanly, leave no temp file, and the next save that fits clears MISCONF`, async () => {
      const disk = smallDisk("rdb-full", 1 << 20);
      try {
        // Incompressible enough: DEBUG POPULATE pads with zeros, which LZF would shrink.
        const s = await start(disk.dir, { save: "3600 1", rdbcompression: "no", "enable-debug-command": "yes" });
        await using([s], async () => {
          expect(await s.c.raw("SET", "a", "1")).toBe("+OK\r\n");
          expect(await s.c.raw("DEBUG", "POPULATE", "5000", "key", "500")).toBe("+OK\r\n"); // ~2.5 MB
          const temps = () => listDir(disk.dir).filter((f) => f.startsWith("temp-"));
          for (let round = 0; round < 2; round++) {
            // Each failure ends: the next BGSAVE starts rather than "already in progress".
            expect(await s.c.cmd("BGSAVE")).toBe("Background saving started");
            await waitFor("the save to end", async () => (await info(s.c)).rdb_bgsave_in_progress === "0");
            expect((await info(s.c)).rdb_last_bgsave_status).toBe("err");
            expect(temps()).toEqual([]);
          }
          expect(await s.c.raw("SET", "b", "2")).toBe(`-${MISCONF}\r\n`);
          expect(await s.c.raw("SAVE")).toBe("-ERR\r\n");
          expect(temps()).toEqual([]);
          disk.resize(8 << 20);
          expect(await s.c.cmd("BGSAVE")).toBe("Background saving started");
          await waitFor("the save to end", async () => (await info(s.c)).rdb_bgsave_in_progress === "0");
          expect((await info(s.c)).rdb_last_bgsave_status).toBe("ok");
          expect(await s.c.raw("SET", "b", "2")).toBe("+OK\r\n");
        });
      } finally {
        disk.unmount();
      }
    });
  }

  test("a temp file left by a save that was killed is removed at the next start; one of a live process is not", async () => {
    const d = dir("rdb-stale-temp");
    const gone = Bun.spawnSync(["true"]).pid; // a process that has exited
    writeFileSync(join(d, `temp-${gone}-1.rdb`), "half a save");
    writeFileSync(join(d, `temp-${process.pid}-1.rdb`), "a save in progress elsewhere");
    const s = await startRedbun(d);
    await using([s], async () => {
      expect(listDir(d).filter((f) => f.startsWith("temp-"))).toEqual([`temp-${process.pid}-1.rdb`]);
    });
  });

  test.skipIf(noRedis)("answers as redis-server does", async () => {
    const seen: unknown[][] = [];
    for (const start of [startRedbun, startRedis]) {
      const d = dir("save-misconf-cmp");
      const x = await start(d, { save: "3600 1" });
      await using([x], async () => {
        await x.c.cmd("SET", "a", "1");
        rmSync(d, { recursive: true, force: true });
        const replies = [String(await x.c.cmd("BGSAVE"))];
        await waitFor("the save to fail", async () => (await info(x.c)).rdb_last_bgsave_status === "err");
        for (const cmd of [["SET", "b", "2"], ["PING"], ["GET", "a"], ["SAVE"], ["CONFIG", "SET", "stop-writes-on-bgsave-error", "no"], ["SET", "b", "2"]]) replies.push(String(await x.c.cmd(...cmd)));
        seen.push(replies);
      });
    }
    expect(seen[0]).toEqual(seen[1]);
  });
});

describe("BGSAVE of 200k keys while they change", () => {
  // The dataset is written pipelined; BGSAVE then goes out in the same write as the first of ~45k
  // commands that overwrite, delete, append to, expire, rename, move and add keys, touch every
  // collection, swap and flush databases. The rest follow, 500 at a time, while the save runs, and
  // last a FLUSHDB of every database (a FLUSHALL would stop the save, as in Redis). The file must
  // hold exactly what was there when BGSAVE started. A process of
  // its own PINGs the server all along.
  const N = 200_000;
  type Entry = { type: string; value: string; expireAt: number };
  const snapshot = new Map<string, Entry>(); // "db/key" -> what BGSAVE must capture
  const SOON = 100; // keys with a 300 ms TTL when the save starts: in the file, expired at load time
  let file = "";
  let infoDuringSave: Record<string, string> = {};
  let pings: number[] = [];
  let saveMs = 0;
  let savedAt = 0;

  /** The commands that build the dataset, recording it in `snapshot`. */
  function populate(t0: number): (string | number)[][] {
    const cmds: (string | number)[][] = [];
    const put = (db: number, key: string, e: Entry) => snapshot.set(`${db}/${key}`, e);
    for (let i = 0; i < N; i += 100) {
      const mset: string[] = ["MSET"];
      for (let j = i; j < i + 100; j++) {
        const v = `v${j}:${"x".repeat(j % 40)}`;
        mset.push(`k:${j}`, v);
        put(0, `k:${j}`, { type: "string", value: v, expireAt: -1 });
      }
      cmds.push(mset);
    }
    for (let i = 0; i < N; i += 50) {
      cmds.push(["PEXPIREAT", `k:${i}`, t0 + 3_600_000 + i]);
      snapshot.get(`0/k:${i}`)!.expireAt = t0 + 3_600_000 + i;
    }
    for (let j = 0; j < 1000; j++) {
      cmds.push(["RPUSH", `l:${j}`, `a${j}`, "b", "c"], ["HSET", `h:${j}`, "f1", String(j), "f2", "x"], ["SADD", `s:${j}`, String(j), "x"], ["ZADD", `z:${j}`, 1, "a", 2, "b"]);
      put(0, `l:${j}`, { type: "list", value: JSON.stringify([`a${j}`, "b", "c"]), expireAt: -1 });
      put(0, `h:${j}`, { type: "hash", value: JSON.stringify([["f1", String(j)], ["f2", "x"]]), expireAt: -1 });
      put(0, `s:${j}`, { type: "set", value: JSON.stringify([String(j), "x"].sort()), expireAt: -1 });
      put(0, `z:${j}`, { type: "zset", value: JSON.stringify(["a", "1", "b", "2"]), expireAt: -1 });
    }
    for (const [db, n] of [[1, 5000], [2, 1000], [3, 1000], [4, 1000]]) {
      cmds.push(["SELECT", db]);
      for (let i = 0; i < n; i++) { cmds.push(["SET", `d${db}:${i}`, `in db ${db}`]); put(db, `d${db}:${i}`, { type: "string", value: `in db ${db}`, expireAt: -1 }); }
      cmds.push(["SELECT", 0]);
    }
    return cmds;
  }

  /** Writes that change much of the dataset (none of them may reach the file). */
  function churn(): (string | number)[][] {
    const cmds: (string | number)[][] = [];
    for (let i = 0; i < N; i++) {
      const k = `k:${i}`;
      if (i % 50 === 1) cmds.push(["SET", k, "overwritten"]);
      else if (i % 50 === 2) cmds.push(["DEL", k]);
      else if (i % 50 === 3) cmds.push(["APPEND", k, "+appended"]);
      else if (i % 50 === 4) cmds.push(["EXPIRE", k, 100000]);
      else if (i % 50 === 5) cmds.push(["SETRANGE", k, 0, "Z"]);
      else if (i % 100 === 0) cmds.push(["PERSIST", k]);
      else if (i % 100 === 50) cmds.push(["PEXPIRE", k, 1]); // gone by the active cycle during the save
      else if (i % 1000 === 6) cmds.push(["RENAME", k, `renamed:${i}`]);
      else if (i % 1000 === 16) cmds.push(["RENAME", k, `k:${i + 1}`]);
      else if (i % 1000 === 7) cmds.push(["MOVE", k, 1]);
      else if (i % 1000 === 9) cmds.push(["COPY", k, `k:${i - 1}`, "REPLACE"]);
      else if (i % 1000 === 11) cmds.push(["GETDEL", k]);
      else if (i % 1000 === 12) cmds.push(["GETEX", k, "EX", 100]);
      else if (i % 1000 === 13) cmds.push(["SET", k, "5", "KEEPTTL"], ["INCR", k]);
      else if (i % 1000 === 14) cmds.push(["UNLINK", k]);
      if (i % 20 === 0) cmds.push(["SET", `new:${i}`, "born during the save"]);
    }
    for (let j = 0; j < 1000; j++) {
      cmds.push(["LPUSH", `l:${j}`, "new"], ["RPOP", `l:${j}`], ["LSET", `l:${j}`, 1, "set"], ["HSET", `h:${j}`, "f1", "changed", "f3", "new"], ["HDEL", `h:${j}`, "f2"]);
      cmds.push(["SADD", `s:${j}`, "new"], ["SREM", `s:${j}`, "x"], ["ZADD", `z:${j}`, 5, "a"], ["ZINCRBY", `z:${j}`, 3, "b"], ["ZREM", `z:${j}`, "zz"]);
      if (j % 10 === 0) cmds.push(["LMOVE", `l:${j}`, `l:${j + 1}`, "LEFT", "RIGHT"], ["SMOVE", `s:${j}`, `s:${j + 1}`, String(j)], ["DEL", `h:${j + 1}`]);
      if (j % 10 === 5) cmds.push(["SINTERSTORE", `s:${j}`, `s:${j}`, `s:${j + 1}`], ["ZUNIONSTORE", `z:${j}`, 2, `z:${j}`, `z:${j + 1}`], ["LTRIM", `l:${j}`, 0, 0]);
    }
    cmds.push(["SWAPDB", 2, 3], ["SELECT", 3], ["SET", "d2:0", "changed after the swap"], ["DEL", "d2:1"], ["SELECT", 4], ["FLUSHDB"], ["SET", "d4:0", "after flush"]);
    cmds.push(["SELECT", 1], ["SET", "d1:0", "changed"], ["DEL", "d1:1"], ["SELECT", 0]);
    return cmds;
  }

  /** Compares what a server holds with `snapshot`; returns the differences (empty if none). Strings
   *  are read with MGET, TTLs with PEXPIRETIME where one is expected, and INFO keyspace's expires
   *  count says no other key has one. */
  async function diffSnapshot(c: RawClient): Promise<string[]> {
    const bad: string[] = [];
    const keyspace = String(await c.cmd("INFO", "keyspace"));
    for (let db = 0; db < 16; db++) {
      const want = [...snapshot.entries()].filter(([k]) => k.startsWith(`${db}/`)).map(([k, e]) => [k.slice(k.indexOf("/") + 1), e] as const);
      const withTtl = want.filter(([, e]) => e.expireAt !== -1);
      const line = new RegExp(`^db${db}:keys=(\\d+),expires=(\\d+)`, "m").exec(keyspace);
      if (`${line?.[1] ?? 0}/${line?.[2] ?? 0}` !== `${want.length}/${withTtl.length}`) bad.push(`db ${db}: keys/expires ${line?.[1] ?? 0}/${line?.[2] ?? 0}, expected ${want.length}/${withTtl.length}`);
      if (!want.length) continue;
      await c.cmd("SELECT", db);
      const strings = want.filter(([, e]) => e.type === "string");
      for (let i = 0; i < strings.length; i += 1000) {
        const batch = strings.slice(i, i + 1000);
        const got = (await c.cmd("MGET", ...batch.map(([k]) => k))) as (string | null)[];
        batch.forEach(([k, e], j) => { if (got[j] !== e.value) bad.push(`db ${db}: ${k} is ${JSON.stringify(got[j])}, expected ${JSON.stringify(e.value)}`); });
      }
      const others = want.filter(([, e]) => e.type !== "string");
      const read = (k: string, type: string) => (type === "list" ? ["LRANGE", k, 0, -1] : type === "hash" ? ["HGETALL", k] : type === "set" ? ["SMEMBERS", k] : ["ZRANGE", k, 0, -1, "WITHSCORES"]);
      const replies = await pipe(c, others.map(([k, e]) => read(k, e.type)));
      others.forEach(([k, e], j) => {
        const v = replies[j] as string[];
        let got: string;
        if (e.type === "hash") { const p: string[][] = []; for (let x = 0; x < v.length; x += 2) p.push([v[x], v[x + 1]]); got = JSON.stringify(p.sort((x, y) => (x[0] < y[0] ? -1 : 1))); }
        else if (e.type === "set") got = JSON.stringify([...v].sort());
        else got = JSON.stringify(v);
        if (got !== e.value) bad.push(`db ${db}: ${k} is ${got}, expected ${e.value}`);
      });
      const whens = await pipe(c, withTtl.map(([k]) => ["PEXPIRETIME", k]));
      withTtl.forEach(([k, e], j) => { if (Number(whens[j]) !== e.expireAt) bad.push(`db ${db}: ${k} expires at ${whens[j]}, expected ${e.expireAt}`); });
    }
    await c.cmd("SELECT", 0);
    return bad.slice(0, 30);
  }

  test("the file holds exactly the dataset of the moment BGSAVE started, though 50k writes and FLUSHDBs came during the save", async () => {
    const s = await startRedbun(dir("bgsave-pit"));
    await using([s], async () => {
      const t0 = Date.now();
      await load(s.c, populate(t0), 2000);
      const soon = Array.from({ length: SOON }, (_, i) => ["SET", `soon:${i}`, "x", "PX", 300]);
      const pinger = await startPinger(s.port, s.dir);
      const start = performance.now();
      savedAt = Date.now();
      // BGSAVE and the first writes in one write: they run before the save writes anything.
      const writes = churn();
      const replies = await pipe(s.c, [["SELECT", 0], ...soon, ["BGSAVE"], ...writes.slice(0, 500), ["INFO", "persistence"]]);
      expect(replies[SOON + 1]).toBe("Background saving started");
      expect(replies.filter((r) => r instanceof ReplyError)).toEqual([]);
      infoDuringSave = Object.fromEntries(String(replies[replies.length - 1]).split("\r\n").filter((l) => l.includes(":")).map((l) => l.split(":")));
      // The rest as a busy client sends them, 500 at a time.
      await load(s.c, writes.slice(500), 500);
      // Lazy expiry of the short-TTL keys, late writes, then everything goes.
      await Bun.sleep(Math.max(0, savedAt + 350 - Date.now()));
      await load(s.c, [...Array.from({ length: SOON / 2 }, (_, i) => ["GET", `soon:${i}`]), ...Array.from({ length: N / 40 }, (_, i) => ["SET", `k:${i * 40 + 8}`, "late write"]), ...[0, 1, 2, 3, 4].flatMap((db) => [["SELECT", db], ["FLUSHDB"]]), ["SELECT", 0], ["SET", "after", "flushdb"]], 500);
      await waitFor("BGSAVE", async () => (await info(s.c)).rdb_bgsave_in_progress === "0", 30000, 5);
      saveMs = performance.now() - start;
      pings = await pinger.stop();
      expect((await info(s.c)).rdb_last_bgsave_status).toBe("ok");
      file = join(s.dir, "dump.rdb");
    });
    // The writes were made while the save was running, not after it.
    expect(infoDuringSave.rdb_bgsave_in_progress).toBe("1");
    const copy = join(dir("bgsave-pit-load"), "dump.rdb");
    copyFileSync(file, copy);
    const verifier = noRedis ? await startRedbun(join(copy, "..")) : await startRedis(join(copy, ".."));
    await using([verifier], async () => {
      expect(await diffSnapshot(verifier.c)).toEqual([]);
    });
  }, 60000);

  test.skipIf(noRedis)("redis-check-rdb finds every key of that moment, including the short-TTL ones that expired during the save", async () => {
    expect(file).not.toBe("");
    const r = await checkRdb(file);
    const expires = [...snapshot.values()].filter((e) => e.expireAt !== -1).length;
    expect([r.code, r.keys, r.expires, r.expired]).toEqual([0, snapshot.size + SOON, expires + SOON, SOON]);
  });

  test("PING is answered promptly all through that save (the save runs in slices, it never holds the server)", () => {
    // Measured from a process of its own. A save that held the event loop would stall a PING for
    // about the whole save (~1 s for 200k keys). The machine is shared, so single PINGs may lag for
    // other reasons: the median must stay under 50 ms and the slowest under 250 ms, or under a
    // quarter of the save when the machine is so busy that the save itself takes seconds.
    expect(pings.length).toBeGreaterThan(20);
    const sorted = [...pings].sort((a, b) => a - b);
    const seen = { medianMs: Math.round(sorted[sorted.length >> 1]), maxMs: Math.round(sorted[sorted.length - 1]), saveMs: Math.round(saveMs), pings: pings.length };
    expect({ ...seen, ok: seen.medianMs < 50 && seen.maxMs < Math.max(250, seen.saveMs / 4) }).toMatchObject({ ok: true });
  });
});

describe("save points", () => {
  test("--save '1 1' saves by itself after a write; --save '' never does", async () => {
    const { on, off, started } = await savePointServers!;
    await waitFor("the save point to fire", () => existsSync(join(on.dir, "dump.rdb")), 5000, 50);
    expect(on.log()).toContain("1 changes in 1 seconds. Saving...");
    await waitFor("rdb_saves", async () => (await info(on.c)).rdb_saves === "1", 3000);
    expect((await info(on.c)).rdb_changes_since_last_save).toBe("0");
    // Long enough for the same save point to have fired on the other one.
    await Bun.sleep(Math.max(0, started + 2600 - Date.now()));
    expect(existsSync(join(off.dir, "dump.rdb"))).toBe(false);
    expect((await info(off.c)).rdb_changes_since_last_save).toBe("1");
    await on.kill();
    const again = await startRedbun(on.dir);
    await using([again], async () => { expect(await again.c.raw("GET", "k")).toBe("$1\r\nv\r\n"); });
  });

  /** Starts Redbun with `save`, writes a key, stops it with `how`; returns whether dump.rdb holds the key. */
  async function savedOnExit(save: string, how: (s: Server) => Promise<unknown>): Promise<boolean> {
    const s = await startRedbun(dir("shutdown"), { save });
    try {
      await s.c.cmd("SET", "k", "v");
      await how(s);
      expect(await s.stop()).toBe(0);
    } finally { await s.kill(); }
    if (!existsSync(join(s.dir, "dump.rdb"))) return false;
    const again = await startRedbun(s.dir);
    try { return (await again.c.cmd("GET", "k")) === "v"; } finally { await again.kill(); }
  }
  /** SHUTDOWN [args]: the connection closes without a reply. */
  const shutdown = (...args: string[]) => async (s: Server) => {
    s.c.send("SHUTDOWN", ...args);
    expect(await s.c.waitClosed()).toBe("");
  };

  test("SHUTDOWN saves when save points exist", async () => { expect(await savedOnExit("3600 1", shutdown())).toBe(true); });
  test("SHUTDOWN does not save without save points", async () => { expect(await savedOnExit("", shutdown())).toBe(false); });
  test("SHUTDOWN NOSAVE does not save, even with save points", async () => { expect(await savedOnExit("3600 1", shutdown("NOSAVE"))).toBe(false); });
  test("SHUTDOWN SAVE saves even with --save ''", async () => { expect(await savedOnExit("", shutdown("SAVE"))).toBe(true); });
  test("SIGTERM saves when save points exist", async () => { expect(await savedOnExit("3600 1", async () => {})).toBe(true); });
  test("SIGTERM does not save without save points", async () => { expect(await savedOnExit("", async () => {})).toBe(false); });
});

// ---------------------------------------------------------------------------------------------
// MIGRATE
// ---------------------------------------------------------------------------------------------

describe("MIGRATE", () => {
  // Differential: every scenario runs from a redis-server source and from a Redbun source, each
  // against a redis-server target and a Redbun target, and the four runs must read the same, byte
  // for byte (without redis-server, only Redbun to Redbun runs). The servers are started once;
  // each run starts from FLUSHALL on both sides. Sources keep their connections to a target
  // cached, so a scenario that depends on the connection's state says so.
  type Role = { name: string; s: Server };
  interface World { sources: Role[]; targets: Role[]; authTargets: Role[] }
  const PASS = "secret", USER = "mig", USER_PASS = "pw";
  let world: Promise<World> | null = null;

  /** Starts the servers once: the sources (redis-server's with disk-based replication, so that
   *  tapReplication can read its RDB), plain targets, and targets with requirepass PASS and an ACL
   *  user USER (password USER_PASS). The test connections were opened before requirepass was set,
   *  so they stay authenticated. */
  async function servers(): Promise<World> {
    world ??= (async () => {
      const redbun = (tag: string) => startRedbun(dir(tag));
      const redis = (tag: string, params: Record<string, string | number> = {}) => (noRedis ? Promise.resolve(null) : startRedis(dir(tag), params));
      const [sb, sr, tb, tr, ab, ar] = await Promise.all([
        redbun("mig-src"), redis("mig-src-ref", { "repl-diskless-sync": "no" }), redbun("mig-tgt"), redis("mig-tgt-ref"), redbun("mig-auth"), redis("mig-auth-ref"),
      ]);
      const roles = (r: Server | null, b: Server): Role[] => [...(r ? [{ name: "redis", s: r }] : []), { name: "redbun", s: b }];
      const w: World = { sources: roles(sr, sb), targets: roles(tr, tb), authTargets: roles(ar, ab) };
      for (const { s } of w.authTargets) {
        await apply(s.c, [["CONFIG", "SET", "requirepass", PASS], ["ACL", "SETUSER", USER, "on", `>${USER_PASS}`, "~*", "+@all"]]);
      }
      return w;
    })();
    return world;
  }
  afterAll(async () => {
    const w = await world?.catch(() => null);
    for (const { s } of [...(w?.sources ?? []), ...(w?.targets ?? []), ...(w?.authTargets ?? [])]) await s.kill();
  });

  // Cached connections last 10 s after their last use. They are watched on two sources of their
  // own, which nothing else uses, from before this describe's first test: the wait overlaps the
  // other tests, and the last test reads the outcome.
  interface CacheWatch { counts: number[]; releasedAfterMs: number }
  let cacheWatch: Promise<Record<string, CacheWatch>> | null = null;
  beforeAll(() => {
    cacheWatch = (async () => {
      const sources = await Promise.all([startRedbun(dir("mig-cache")), noRedis ? null : startRedis(dir("mig-cache-ref"))]);
      const named: [string, Server][] = [];
      for (const [name, src] of [["redbun", sources[0]], ["redis", sources[1]]] as const) if (src) named.push([name, src]);
      try {
        return Object.fromEntries(await Promise.all(named.map(async ([name, src]) => [name, await watchCache(src)])));
      } finally {
        for (const src of sources) await src?.kill();
      }
    })();
    cacheWatch.catch(() => {}); // reported by the test that awaits it
  });

  /** MIGRATEs (COPY) from `src` to a fake target, to another, to the first again and to a closed
   *  port, reading INFO's count before and after each; then waits for the count to drop to 0 and
   *  for the fakes to see both connections closed. */
  async function watchCache(src: Server): Promise<CacheWatch> {
    const [a, b] = [fakeTarget(() => OK), fakeTarget(() => OK)];
    const closed = await freePort();
    try {
      const counts = [await cachedSockets(src.c)];
      const m = async (port: number) => {
        const r = await src.c.raw("MIGRATE", "127.0.0.1", port, "k", 0, 5000, "COPY", "REPLACE");
        if (r !== (port === closed ? IOERR_WRITING : OK)) throw new Error(`MIGRATE to ${port} answered ${JSON.stringify(r)}`);
        counts.push(await cachedSockets(src.c));
      };
      await src.c.raw("SET", "k", "v");
      await m(a.port); // a new connection
      await m(b.port); // another
      await m(a.port); // the first one again
      const lastUse = performance.now();
      await m(closed); // refused: nothing cached
      await waitFor("the cached connections to go", async () => (await cachedSockets(src.c)) === 0, 20000, 100);
      const releasedAfterMs = performance.now() - lastUse;
      await waitFor("the fakes to see the connections closed", () => a.closed() === 1 && b.closed() === 1);
      return { counts, releasedAfterMs };
    } finally {
      a.stop();
      b.stop();
    }
  }

  /** One run of a scenario: `s` and `t` send a command to the source and to the target and return
   *  the reply's exact bytes; `m` sends MIGRATE 127.0.0.1 <target port> ...args from the source. */
  interface Run { src: Server; tgt: Server; s(...a: (string | number)[]): Promise<string>; t(...a: (string | number)[]): Promise<string>; m(...a: (string | number)[]): Promise<string> }
  const runOf = (src: Server, tgt: Server): Run => ({
    src, tgt,
    s: (...a) => src.c.raw(...a),
    t: (...a) => tgt.c.raw(...a),
    m: (...a) => src.c.raw("MIGRATE", "127.0.0.1", tgt.port, ...a),
  });

  /** Runs `scenario` for every source and target (of `which`), one after another, each on flushed
   *  servers with db 0 selected; returns "source→target" → what it returned. */
  async function onPairs<T>(scenario: (x: Run) => Promise<T>, which: "targets" | "authTargets" = "targets"): Promise<Record<string, T>> {
    const w = await servers();
    const out: Record<string, T> = {};
    for (const src of w.sources) {
      for (const tgt of w[which]) {
        for (const c of [src.s.c, tgt.s.c]) await apply(c, [["SELECT", 0], ["FLUSHALL"]]);
        out[`${src.name}→${tgt.name}`] = await scenario(runOf(src.s, tgt.s));
      }
    }
    return out;
  }

  /** The same for each source alone (for what does not depend on the target). */
  async function onSources<T>(scenario: (src: Server) => Promise<T>): Promise<Record<string, T>> {
    const w = await servers();
    const out: Record<string, T> = {};
    for (const src of w.sources) {
      await apply(src.s.c, [["SELECT", 0], ["FLUSHALL"]]);
      out[src.name] = await scenario(src.s);
    }
    return out;
  }

  /** What every run must have given: `expected` under each name of `got`. */
  const everywhere = <T>(got: Record<string, T>, expected: T): Record<string, T> => Object.fromEntries(Object.keys(got).map((k) => [k, expected]));

  const OK = "+OK\r\n", NOKEY = "+NOKEY\r\n", NIL = "$-1\r\n";
  const targetError = (e: string) => `-ERR Target instance replied with error: ${e}\r\n`;
  const BUSYKEY = targetError("BUSYKEY Target key name already exists.");
  const IOERR_WRITING = "-IOERR error or timeout writing to target instance\r\n";
  const IOERR_READING = "-IOERR error or timeout reading to target instance\r\n";
  const cachedSockets = async (c: RawClient) => Number((await info(c, "stats")).migrate_cached_sockets);

  test("moves a key: OK, gone from the source, on the target with its value", async () => {
    const got = await onPairs(async (x) => [
      await x.s("SET", "k", "v"),
      await x.m("k", 0, 5000),
      await x.s("EXISTS", "k"),
      await x.t("GET", "k"),
      // Again, on the connection the source kept.
      await x.s("RPUSH", "list", "a", "b"),
      await x.m("list", 0, 5000),
      await x.s("EXISTS", "list"),
      await x.t("LRANGE", "list", 0, -1),
    ]);
    expect(got).toEqual(everywhere(got, [OK, OK, int(0), bulk("v"), int(2), OK, int(0), bulks("a", "b")]));
  });

  test("every type and encoding arrives with the same value, TTL and OBJECT ENCODING (KEYS form, binary key names)", async () => {
    const got = await onPairs(async (x) => {
      await apply(x.src.c, everyTypeCommands());
      const before = await readDataset(x.src.c, 1);
      const keys = [...before.keys()].map((k) => k.slice(2));
      const reply = await x.m("", 0, 10000, "KEYS", ...keys);
      return [reply, await x.s("DBSIZE"), diffDatasets(before, await readDataset(x.tgt.c, 1), { ttlToleranceMs: 2000 })];
    });
    expect(got).toEqual(everywhere(got, [OK, int(0), []]));
  });

  test("KEYS moves the keys that exist and skips the missing ones; none at all, or a key that just expired, is NOKEY", async () => {
    const got = await onPairs(async (x) => [
      await x.s("MSET", "a", "1", "b", "2", "c", "3"),
      await x.m("", 0, 5000, "KEYS", "a", "missing", "b"),
      await x.s("KEYS", "*"),
      await x.t("MGET", "a", "missing", "b", "c"),
      await x.m("", 0, 5000, "KEYS", "missing", "a"),
      await x.m("missing", 0, 5000),
      await x.m("", 0, 5000), // the empty key name, without KEYS
      await x.s("SET", "gone", "v", "PX", 1),
      await Bun.sleep(5).then(() => x.m("gone", 0, 5000)),
      await x.t("EXISTS", "gone"),
      // Words after KEYS are all keys, options included.
      await x.s("MSET", "COPY", "x", "AUTH", "y"),
      await x.m("", 0, 5000, "KEYS", "COPY", "AUTH"),
      await x.s("EXISTS", "COPY", "AUTH"),
      await x.t("MGET", "COPY", "AUTH"),
    ]);
    expect(got).toEqual(everywhere(got, [
      OK, OK, bulks("c"), arr(bulk("1"), NIL, bulk("2"), NIL), NOKEY, NOKEY, NOKEY, OK, NOKEY, int(0),
      OK, OK, int(0), bulks("x", "y"),
    ]));
  });

  test("COPY leaves the key on the source; a key the target has is BUSYKEY (nothing changes) unless REPLACE", async () => {
    const got = await onPairs(async (x) => [
      await x.s("SET", "k", "v"),
      await x.m("k", 0, 5000, "COPY"),
      await x.s("GET", "k"),
      await x.t("GET", "k"),
      // BUSYKEY: the source keeps its key, with or without COPY; the target keeps its value.
      await x.t("SET", "k", "old"),
      await x.m("k", 0, 5000, "COPY"),
      await x.m("k", 0, 5000),
      await x.s("GET", "k"),
      await x.t("GET", "k"),
      await x.m("k", 0, 5000, "COPY", "REPLACE"),
      await x.s("GET", "k"),
      await x.t("GET", "k"),
      await x.t("RPUSH", "other", "x"),
      await x.s("SET", "other", "new"),
      await x.m("other", 0, 5000, "REPLACE"),
      await x.s("EXISTS", "other"),
      await x.t("GET", "other"),
      // With KEYS, each key that the target acknowledged leaves the source; the first error is
      // the reply.
      await x.s("MSET", "a", "1", "b", "2", "c", "3"),
      await x.t("SET", "b", "there"),
      await x.m("", 0, 5000, "KEYS", "a", "b", "c"),
      await x.s("MGET", "a", "b", "c"),
      await x.t("MGET", "a", "b", "c"),
    ]);
    expect(got).toEqual(everywhere(got, [
      OK, OK, bulk("v"), bulk("v"),
      OK, BUSYKEY, BUSYKEY, bulk("v"), bulk("old"),
      OK, bulk("v"), bulk("v"),
      int(1), OK, OK, int(0), bulk("new"),
      OK, OK, BUSYKEY, arr(NIL, bulk("2"), NIL), bulks("1", "there", "3"),
    ]));
  });

  test("the TTL goes along (PTTL on the target within what the source had), a key without one gets none", async () => {
    const got = await onPairs(async (x) => {
      await apply(x.src.c, [["SET", "t", "v", "PX", 100000], ["HSET", "h", "f", "v"], ["EXPIRE", "h", 5000], ["SET", "p", "v"]]);
      const before = [Number(await x.src.c.cmd("PTTL", "t")), Number(await x.src.c.cmd("PTTL", "h"))];
      const reply = await x.m("", 0, 5000, "KEYS", "t", "h", "p");
      const after = [Number(await x.tgt.c.cmd("PTTL", "t")), Number(await x.tgt.c.cmd("PTTL", "h"))];
      const close = after.map((ms, i) => (ms <= before[i] && ms > before[i] - 2000 ? "close" : `${ms} after ${before[i]}`));
      return [reply, ...close, await x.t("PTTL", "p")];
    });
    expect(got).toEqual(everywhere(got, [OK, "close", "close", int(-1)]));
  });

  test("the destination db is SELECTed when it changes; a db the target refuses is its error, and the RESTORE still ran where the connection was", async () => {
    const got = await onPairs(async (x) => [
      await x.s("SET", "k", "v"),
      await x.m("k", 3, 5000),
      await x.t("SELECT", 3),
      await x.t("GET", "k"),
      await x.t("SELECT", 0),
      await x.t("EXISTS", "k"),
      await x.s("SET", "k", "v2"),
      await x.m("k", 0, 5000),
      await x.t("GET", "k"),
      // SELECT 99 fails, the RESTORE behind it runs in db 0 (where the connection is): the key is
      // on both sides, as redis-server leaves it.
      await x.s("SET", "k99", "v3"),
      await x.m("k99", 99, 5000),
      await x.s("GET", "k99"),
      await x.t("GET", "k99"),
      // The next MIGRATE selects again.
      await x.m("k99", 5, 5000),
      await x.t("SELECT", 5),
      await x.t("GET", "k99"),
      await x.s("EXISTS", "k99"),
      // A negative db is the target's error too.
      await x.s("SET", "n", "v"),
      await x.m("n", -1, 5000),
    ]);
    expect(got).toEqual(everywhere(got, [
      OK, OK, OK, bulk("v"), OK, int(0), OK, OK, bulk("v2"),
      OK, targetError("ERR DB index is out of range"), bulk("v3"), bulk("v3"),
      OK, OK, bulk("v3"), int(0),
      OK, targetError("ERR DB index is out of range"),
    ]));
  });

  test("AUTH and AUTH2 log in on the target: without them NOAUTH, a wrong password WRONGPASS (the keys stay)", async () => {
    const wrongpass = targetError("WRONGPASS invalid username-password pair or user is disabled.");
    const got = await onPairs(async (x) => {
      // A new connection from the source: the target drops the one it may have cached.
      await x.t("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
      const step = async (...opts: string[]) => [await x.s("SET", "k", "v"), await x.m("k", 0, 5000, ...opts), await x.s("EXISTS", "k"), await x.t("DEL", "k")];
      return [
        ...(await step()),
        ...(await step("AUTH", "wrong")),
        ...(await step("AUTH2", USER, "wrong")),
        ...(await step("AUTH2", "nosuchuser", USER_PASS)),
        ...(await step("AUTH", PASS)),
        ...(await step("AUTH2", USER, USER_PASS)),
        // The cached connection is logged in now: without AUTH it goes through; a wrong password
        // is still the reply, the source keeps the key though the target restored it.
        ...(await step()),
        ...(await step("AUTH", "wrong")),
        ...(await step("AUTH2", USER, "wrong", "COPY")),
      ];
    }, "authTargets");
    expect(got).toEqual(everywhere(got, [
      OK, targetError("NOAUTH Authentication required."), int(1), int(0),
      OK, wrongpass, int(1), int(0),
      OK, wrongpass, int(1), int(0),
      OK, wrongpass, int(1), int(0),
      OK, OK, int(0), int(1),
      OK, OK, int(0), int(1),
      OK, OK, int(0), int(1),
      OK, wrongpass, int(1), int(1),
      OK, wrongpass, int(1), int(1),
    ]));
  });

  test("a port nobody listens on is the writing error; the key stays and no connection is cached", async () => {
    const port = await freePort();
    const got = await onSources(async (src) => {
      const cached = await cachedSockets(src.c);
      return [
        await src.c.raw("SET", "k", "v"),
        await src.c.raw("MIGRATE", "127.0.0.1", port, "k", 0, 1000),
        await src.c.raw("MIGRATE", "127.0.0.1", port, "", 0, 1000, "COPY", "AUTH", "pw", "KEYS", "k"),
        await src.c.raw("GET", "k"),
        (await cachedSockets(src.c)) - cached,
      ];
    });
    expect(got).toEqual(everywhere(got, [OK, IOERR_WRITING, IOERR_WRITING, bulk("v"), 0]));
  });

  test("argument errors: options first (syntax), then the timeout and the db as integers; KEYS needs an empty key", async () => {
    const cases: (string | number)[][] = [
      ["k", 0, 1000, "BOGUS"], ["k", "abc", "x", "BOGUS"], ["k", 0, 1000, "AUTH"], ["k", 0, 1000, "AUTH2", "u"], ["k", 0, 1000, "COPY", "KEYS"],
      ["k", 0, 1000, "KEYS", "k"], ["k", "x", 1000, "KEYS", "k"], ["k", 0, "abc"], ["k", "abc", 1000], ["k", "abc", "def"], ["k", 0, "1.5"],
      ["k", "1.5", 1000], ["k", 0, "99999999999999999999"], ["k", 0], [], ["k", 0, 1000, "replace", "copy", "Copy"],
    ];
    const port = await freePort();
    const got = await onSources(async (src) => {
      await src.c.raw("SET", "k", "v");
      const out = [];
      for (const a of cases) out.push(`${JSON.stringify(a)} ${await src.c.raw("MIGRATE", "127.0.0.1", port, ...a)}`);
      return [...out, await src.c.raw("GET", "k")];
    });
    const syntax = "-ERR syntax error\r\n", notInt = "-ERR value is not an integer or out of range\r\n";
    const keysErr = "-ERR When using MIGRATE KEYS option, the key argument must be set to the empty string\r\n";
    const arity = "-ERR wrong number of arguments for 'migrate' command\r\n";
    expect(got).toEqual(everywhere(got, [
      ...[syntax, syntax, syntax, syntax, keysErr, keysErr, keysErr, notInt, notInt, notInt, notInt, notInt, notInt, arity, arity, IOERR_WRITING].map((r, i) => `${JSON.stringify(cases[i])} ${r}`),
      bulk("v"),
    ]));
  });

  test("COMMAND GETKEYS and ACL key permissions find its keys as redis-server does (AUTH's password is no key)", async () => {
    const getkeys: string[][] = [
      ["k", "0", "1"], ["", "0", "1"], ["", "0", "1", "KEYS", "a", "b"], ["", "0", "1", "AUTH", "keys", "KEYS", "a"], ["", "0", "1", "AUTH2", "keys", "x", "KEYS", "a"],
      ["", "0", "1", "COPY", "REPLACE", "KEYS", "a"], ["k", "0", "1", "AUTH", "x"], ["", "0", "1", "AUTH", "keys"], ["", "0", "1", "BOGUS", "KEYS", "a"],
      ["", "0", "1", "KEYS", "a", "KEYS", "b"],
    ];
    const acl: string[][] = [
      ["k", "0", "1000"], ["a", "0", "1000"], ["", "0", "1000", "KEYS", "a", "a2"], ["", "0", "1000", "KEYS", "a", "b"],
      ["", "0", "1000", "AUTH", "b", "KEYS", "a"], ["", "0", "1000", "AUTH2", "b", "b", "KEYS", "a"], ["a", "0", "1000", "KEYS", "b"], ["", "0", "1000", "COPY"],
    ];
    const got = await onSources(async (src) => {
      const out: string[] = [];
      for (const a of getkeys) out.push(`GETKEYS ${JSON.stringify(a)} ${await src.c.raw("COMMAND", "GETKEYS", "MIGRATE", "h", "p", ...a)}`);
      expect(await src.c.raw("ACL", "SETUSER", "lim", "reset", "on", "nopass", "+migrate", "~a*")).toBe(OK);
      const u = await RawClient.connect(src.port);
      try {
        expect(await u.raw("AUTH", "lim", "x")).toBe(OK);
        for (const a of acl) out.push(`ACL ${JSON.stringify(a)} ${await u.raw("MIGRATE", "127.0.0.1", 1, ...a)}`);
      } finally {
        u.close();
        await apply(src.c, [["ACL", "DELUSER", "lim"], ["ACL", "LOG", "RESET"]]);
      }
      return out;
    });
    const noperm = "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n";
    expect(got).toEqual(everywhere(got, [
      ...[bulks("k"), bulks(""), bulks("a", "b"), bulks("a"), bulks("a"), bulks("a"), bulks("k"), bulks(""), bulks("a"), bulks("a", "KEYS", "b")].map((r, i) => `GETKEYS ${JSON.stringify(getkeys[i])} ${r}`),
      ...[noperm, NOKEY, NOKEY, noperm, NOKEY, NOKEY, "-ERR When using MIGRATE KEYS option, the key argument must be set to the empty string\r\n", noperm].map((r, i) => `ACL ${JSON.stringify(acl[i])} ${r}`),
    ]));
  });

  test("large values: a 1 MB string and a hash of 10k fields arrive whole", async () => {
    const big = incompressible(1 << 20, 11);
    const fields = Array.from({ length: 10000 }, (_, i) => [`field:${i}`, `value:${i}:${"x".repeat(i % 50)}`]).flat();
    const got = await onPairs(async (x) => {
      await apply(x.src.c, [["SET", "big", big], ["HSET", "hash", ...fields], ["EXPIRE", "hash", 1000]]);
      const before = await readDataset(x.src.c, 1);
      return [await x.m("", 0, 20000, "KEYS", "big", "hash"), await x.s("DBSIZE"), await x.t("STRLEN", "big"), await x.t("HLEN", "hash"), diffDatasets(before, await readDataset(x.tgt.c, 1))];
    });
    expect(got).toEqual(everywhere(got, [OK, int(0), int(1 << 20), int(10000), []]));
  });

  test("the source propagates a DEL of the keys the target acknowledged (nothing for COPY or a failure)", async () => {
    const closed = await freePort();
    const got = await onPairs(async (x) => {
      const tap = await tapReplication(x.src.port);
      try {
        const replies = [
          await x.s("SELECT", 2),
          await x.s("MSET", "a", "1", "b", "2", "c", "3", "d", "4"),
          await x.m("", 0, 5000, "KEYS", "a", "missing", "b"),
          await x.m("c", 0, 5000, "COPY"),
          await x.m("", 0, 5000, "KEYS", "c", "d"), // c is BUSYKEY now: only d goes
          await x.s("MIGRATE", "127.0.0.1", closed, "c", 0, 1000),
          await x.s("SET", "end", "1"),
          await x.s("SELECT", 0),
        ];
        await waitFor("the stream to reach SET end", () => tap.writes().some((w) => w[1] === "end"));
        return [...replies, tap.writes()];
      } finally { tap.close(); }
    });
    expect(got).toEqual(everywhere(got, [
      OK, OK, OK, OK, BUSYKEY, IOERR_WRITING, OK, OK,
      [["SELECT", "2"], ["MSET", "a", "1", "b", "2", "c", "3", "d", "4"], ["DEL", "a", "b"], ["DEL", "d"], ["SET", "end", "1"]],
    ]));
  });

  test("MONITOR and SLOWLOG show the passwords of AUTH and AUTH2 as (redacted), and MIGRATE itself (not the DEL)", async () => {
    const got = await onPairs(async (x) => {
      const mon = await RawClient.connect(x.src.port);
      try {
        expect(await mon.raw("MONITOR")).toBe(OK);
        await apply(x.src.c, [["CONFIG", "SET", "slowlog-log-slower-than", 0], ["SLOWLOG", "RESET"]]);
        const replies = [
          await x.s("SET", "k", "v"),
          await x.m("k", 0, 5000, "AUTH", PASS),
          await x.s("SET", "k", "v"),
          await x.m("k", 0, 5000, "COPY", "REPLACE", "AUTH2", USER, USER_PASS),
          await x.m("", 0, 5000, "AUTH", "x", "KEYS", "AUTH", PASS), // after KEYS, names of keys
          await x.m("", 0, 5000, "AUTH", "x", "AUTH"), // a syntax error, redacted all the same
          await x.s("PING"),
        ];
        const port = String(x.tgt.port);
        const monitored: string[] = [];
        for (let i = 0; i < 7; i++) monitored.push((await mon.readRaw()).replace(/^\+[\d.]+ \[\d+ [\d.:]+\] /, "").replaceAll(`"${port}"`, '"<port>"'));
        const slowlog = ((await x.src.c.cmd("SLOWLOG", "GET", 7)) as string[][]).map((e) => (e[3] as unknown as string[]).map((a) => (a === port ? "<port>" : a)).join(" ")).reverse();
        await apply(x.src.c, [["CONFIG", "SET", "slowlog-log-slower-than", 10000], ["SLOWLOG", "RESET"]]);
        return [replies, monitored, slowlog];
      } finally { mon.close(); }
    }, "authTargets");
    const m = '"MIGRATE" "127.0.0.1" "<port>"';
    expect(got).toEqual(everywhere(got, [
      [OK, OK, OK, OK, NOKEY, "-ERR syntax error\r\n", "+PONG\r\n"],
      [
        '"SET" "k" "v"', `${m} "k" "0" "5000" "AUTH" "(redacted)"`, '"SET" "k" "v"',
        `${m} "k" "0" "5000" "COPY" "REPLACE" "AUTH2" "(redacted)" "(redacted)"`, `${m} "" "0" "5000" "AUTH" "(redacted)" "KEYS" "AUTH" "${PASS}"`,
        `${m} "" "0" "5000" "AUTH" "(redacted)" "AUTH"`, '"PING"',
      ].map((l) => `${l}\r\n`),
      [
        "SET k v", "MIGRATE 127.0.0.1 <port> k 0 5000 AUTH (redacted)", "SET k v",
        "MIGRATE 127.0.0.1 <port> k 0 5000 COPY REPLACE AUTH2 (redacted) (redacted)", `MIGRATE 127.0.0.1 <port>  0 5000 AUTH (redacted) KEYS AUTH ${PASS}`,
        "MIGRATE 127.0.0.1 <port>  0 5000 AUTH (redacted) AUTH", "PING",
      ],
    ]));
  });

  // ---- Against a fake target: a Bun.listen server that records what it is sent and answers (or
  // not) as the test says, so the conversation and the failures are deterministic.

  /** What a fake target does with one command: write this reply, HOLD it until release(), CLOSE
   *  the connection, or stay SILENT. */
  const HOLD = "hold", CLOSE = "close", SILENT = "silent";
  interface FakeTarget {
    port: number;
    /** The commands received, per connection, each as its argv. */
    conns: string[][][];
    /** How many commands arrived, on every connection. */
    received(): number;
    /** How many of its connections were closed. */
    closed(): number;
    /** Writes the replies held so far ("+OK" each). */
    release(): void;
    stop(): void;
  }
  function fakeTarget(answer: (argv: string[], conn: number) => string): FakeTarget {
    const conns: string[][][] = [];
    let held: { write(d: string): void }[] = [], closed = 0;
    const l = Bun.listen<{ id: number; buf: Buffer }>({
      hostname: "127.0.0.1", port: 0,
      socket: {
        open(s) { s.data = { id: conns.length, buf: Buffer.alloc(0) }; conns.push([]); },
        close() { closed++; },
        data(s, d) {
          s.data.buf = Buffer.concat([s.data.buf, d]);
          for (let end; (end = replyEnd(s.data.buf, 0)) > 0;) {
            const argv = decode(s.data.buf, 0)[0] as string[];
            s.data.buf = s.data.buf.subarray(end);
            conns[s.data.id].push(argv);
            const a = answer(argv, s.data.id);
            if (a === CLOSE) { s.end(); return; }
            if (a === HOLD) held.push(s);
            else if (a !== SILENT) s.write(a);
          }
        },
      },
    });
    return {
      port: l.port, conns,
      received: () => conns.reduce((n, c) => n + c.length, 0),
      closed: () => closed,
      release() { const h = held; held = []; for (const s of h) s.write(OK); },
      stop: () => l.stop(true),
    };
  }

  /** Runs `scenario` from each source against a fake target of its own (answering `answer`). */
  async function onSourcesWithFake<T>(answer: (argv: string[], conn: number) => string, scenario: (src: Server, fake: FakeTarget, m: (...a: (string | number)[]) => Promise<string>) => Promise<T>): Promise<Record<string, T>> {
    return onSources(async (src) => {
      const fake = fakeTarget(answer);
      try { return await scenario(src, fake, (...a) => src.c.raw("MIGRATE", "127.0.0.1", fake.port, ...a)); } finally { fake.stop(); }
    });
  }

  test("sends AUTH, then SELECT only when the db changes, then a RESTORE per key, as redis-server does", async () => {
    const got = await onSourcesWithFake(() => OK, async (src, fake, m) => [
      await src.c.raw("MSET", "k", "v", "k2", "v2"),
      await m("", 0, 5000, "KEYS", "k", "missing", "k2"),
      await src.c.raw("SET", "k", "v"),
      await m("k", 0, 5000, "REPLACE"),
      await src.c.raw("SET", "k", "v"),
      await m("k", 4, 5000, "COPY", "AUTH", "pw"),
      await m("k", 4, 5000, "COPY", "AUTH2", "user", "pw", "REPLACE"),
      await src.c.raw("SET", "t", "v", "PX", 100000),
      await m("t", 4, 5000),
      // What the fake got, the RESTORE of t with its TTL checked apart.
      fake.conns.map((conn) => conn.map((argv) => (argv[1] === "t" ? [...argv.slice(0, 2), Number(argv[2]) > 97000 && Number(argv[2]) <= 100000 ? "<ttl>" : argv[2], ...argv.slice(3)] : argv))),
    ]);
    const payload = (s: string) => dumpPayload(Buffer.from([0, s.length, ...Buffer.from(s)])); // a short string
    expect(got).toEqual(everywhere(got, [
      OK, OK, OK, OK, OK, OK, OK, OK, OK,
      [[
        ["SELECT", "0"], ["RESTORE", "k", "0", payload("v")], ["RESTORE", "k2", "0", payload("v2")],
        ["RESTORE", "k", "0", payload("v"), "REPLACE"],
        ["AUTH", "pw"], ["SELECT", "4"], ["RESTORE", "k", "0", payload("v")],
        ["AUTH", "user", "pw"], ["RESTORE", "k", "0", payload("v"), "REPLACE"],
        ["RESTORE", "t", "<ttl>", payload("v")],
      ]],
    ]));
  });

  test("the first error the target answers is the reply, the keys it acknowledged are gone, and the next MIGRATE selects again", async () => {
    const answers: Record<string, string> = { a: OK, b: "-E1 first error\r\n", c: "-E2 second\r\n", d: OK };
    const got = await onSourcesWithFake((argv) => (argv[0] === "RESTORE" ? answers[argv[1]] : OK), async (src, fake, m) => [
      await src.c.raw("MSET", "a", "1", "b", "2", "c", "3", "d", "4"),
      await m("", 0, 5000, "KEYS", "a", "b", "c", "d"),
      await src.c.raw("MGET", "a", "b", "c", "d"),
      await m("b", 0, 5000),
      await m("d", 0, 5000),
      fake.conns.map((conn) => conn.map((argv) => argv.slice(0, 2).join(" "))),
    ]);
    expect(got).toEqual(everywhere(got, [
      OK, targetError("E1 first error"), arr(NIL, bulk("2"), bulk("3"), NIL), targetError("E1 first error"), NOKEY,
      [["SELECT 0", "RESTORE a", "RESTORE b", "RESTORE c", "RESTORE d", "SELECT 0", "RESTORE b"]],
    ]));
  });

  test("a target that never answers: the reading error after the timeout (0 means 1 s), not retried; the key stays, the connection is dropped", async () => {
    const got = await onSourcesWithFake(() => SILENT, async (src, fake, m) => {
      await src.c.raw("SET", "k", "v");
      const cached = await cachedSockets(src.c);
      const t0 = performance.now();
      const reply = await m("k", 0, 0);
      const ms = performance.now() - t0;
      return [reply, ms >= 950 && ms < 5000 ? "about 1 s" : `${ms} ms`, await src.c.raw("GET", "k"), fake.conns.length, (await cachedSockets(src.c)) - cached];
    });
    expect(got).toEqual(everywhere(got, [IOERR_READING, "about 1 s", bulk("v"), 1, 0]));
  });

  test("a target that hangs up before any answer: one more try on a new connection, then the reading error", async () => {
    const got = await onSourcesWithFake(() => CLOSE, async (src, fake, m) => [
      await src.c.raw("SET", "k", "v"),
      await m("k", 0, 5000),
      await src.c.raw("GET", "k"),
      fake.conns.map((conn) => conn.map((argv) => argv[0])),
    ]);
    // The fake hangs up on SELECT, the first command of each connection.
    expect(got).toEqual(everywhere(got, [OK, IOERR_READING, bulk("v"), [["SELECT"], ["SELECT"]]]));
  });

  test("a target that hangs up after acknowledging some keys: those are gone, no retry, the reading error", async () => {
    const got = await onSourcesWithFake((argv) => (argv[1] === "b" ? CLOSE : OK), async (src, fake, m) => [
      await src.c.raw("MSET", "a", "1", "b", "2", "c", "3"),
      await m("", 0, 5000, "KEYS", "a", "b", "c"),
      await src.c.raw("MGET", "a", "b", "c"),
      fake.conns.length,
    ]);
    expect(got).toEqual(everywhere(got, [OK, IOERR_READING, arr(NIL, bulk("2"), bulk("3")), 1]));
  });

  test("while it waits for the target, every other command waits too, its client's and others' (and expiry): they run after the key is gone", async () => {
    const got = await onSourcesWithFake(() => HOLD, async (src, fake) => {
      const other = await RawClient.connect(src.port), sub = await RawClient.connect(src.port);
      try {
        await apply(src.c, [["CONFIG", "SET", "notify-keyspace-events", "Ex"], ["SET", "k", "v"], ["SET", "soon", "x", "PX", 150]]);
        expect(await sub.raw("SUBSCRIBE", "__keyevent@0__:expired")).toBe(arr(bulk("subscribe"), bulk("__keyevent@0__:expired"), int(1)));
        // The MIGRATE and, in the same write, a GET of the same client.
        src.c.write(Buffer.concat([encode(["MIGRATE", "127.0.0.1", fake.port, "k", 0, 10000]), encode(["GET", "k"])]));
        await waitFor("the fake to get SELECT and RESTORE", () => fake.received() === 2);
        const heard = sub.pending();
        other.write(Buffer.concat([encode(["GET", "k"]), encode(["SET", "k", "other"]), encode(["PING"])]));
        // Nothing may be answered while the target holds its replies (soon expires meanwhile, but
        // nobody hears of it): a wait for something that must not happen.
        await Bun.sleep(300);
        const meanwhile = [src.c.pending(), other.pending(), sub.pending() === heard];
        fake.release();
        const after = [await src.c.readRaw(), await src.c.readRaw(), await other.readRaw(), await other.readRaw(), await other.readRaw(), await src.c.raw("GET", "k")];
        // Expiry goes on afterwards.
        const expired = heard || (await sub.readRaw());
        return [meanwhile, after, expired];
      } finally {
        other.close();
        sub.close();
        await src.c.raw("CONFIG", "SET", "notify-keyspace-events", "");
      }
    });
    expect(got).toEqual(everywhere(got, [
      ["", "", true],
      [OK, NIL, NIL, OK, "+PONG\r\n", bulk("other")],
      arr(bulk("message"), bulk("__keyevent@0__:expired"), bulk("soon")),
    ]));
  });

  test("INFO migrate_cached_sockets counts the connections kept per host:port; they are closed about 10 s after their last use", async () => {
    const got = await cacheWatch!;
    // redis-server checks once a second, with its clock in seconds: 10 to 12 s.
    const shown = Object.fromEntries(Object.entries(got).map(([k, w]) => [k, [w.counts, w.releasedAfterMs >= 9500 && w.releasedAfterMs < 14000 ? "after ~10 s" : `after ${w.releasedAfterMs} ms`]]));
    expect(shown).toEqual(everywhere(shown, [[0, 1, 2, 2, 2], "after ~10 s"]));
  });

  // ---- The network's failures and MIGRATE's blocking, as redis-server 7.0.15 has them.

  // A connection that does not complete within the timeout: redis-server 7.0.15's blocking
  // connect gives up waiting but reports success (connSocketBlockingConnect sets the error state,
  // then CONNECTED over it), so the error comes from the write:
  //   (a listener whose backlog is full) MIGRATE 127.0.0.1 P k 0 500
  //   -IOERR error or timeout writing to target instance
  test("a connect that times out is the writing error, as redis-server's non-blocking connect makes it", async () => {
    const py = Bun.spawn(["python3", "-c", [
      "import socket, time", "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)", "fill = []",
      "for i in range(4):\n  c = socket.socket(); c.setblocking(False)\n  try: c.connect(s.getsockname())\n  except BlockingIOError: pass\n  fill.append(c)",
      "time.sleep(0.2); print(s.getsockname()[1], flush=True); time.sleep(60)",
    ].join("\n")], { stdout: "pipe" });
    try {
      // Its first line is the port.
      const { value } = await (py.stdout as ReadableStream<Uint8Array>).getReader().read();
      const port = Number(Buffer.from(value ?? []).toString().trim());
      if (!port) throw new Error("the python3 listener did not start");
      const got = await onSources(async (src) => [await src.c.raw("SET", "k", "v"), await src.c.raw("MIGRATE", "127.0.0.1", port, "k", 0, 500)]);
      expect(got).toEqual(everywhere(got, [OK, IOERR_WRITING]));
    } finally { py.kill(); }
  });

  // A host that does not resolve fails in redis-server's connect (anetTcpNonBlockConnect's
  // getaddrinfo), before any socket exists: MIGRATE 256.1.1.1 6379 k 0 1000 (or
  // nonexistent.invalid) is -IOERR error or timeout connecting to the client.
  test("a host that does not resolve is the connecting error", async () => {
    const got = await onSources(async (src) => [await src.c.raw("SET", "k", "v"), await src.c.raw("MIGRATE", "256.1.1.1", 6379, "k", 0, 1000)]);
    expect(got).toEqual(everywhere(got, [OK, "-IOERR error or timeout connecting to the client\r\n"]));
  });

  // MIGRATE blocks the server until the target has answered, so inside MULTI it runs to its end
  // in its place: SET k v; MULTI; MIGRATE 127.0.0.1 <target> k 0 5000; GET k; EXEC is
  // *2\r\n+OK\r\n$-1\r\n.
  test("inside MULTI it runs in its place within EXEC (it blocks, as in redis-server)", async () => {
    const got = await onPairs(async (x) => [await x.s("SET", "k", "v"), await pipe(x.src.c, [["MULTI"], ["MIGRATE", "127.0.0.1", x.tgt.port, "k", 0, 5000], ["GET", "k"], ["EXEC"]]), await x.t("GET", "k")]);
    expect(got).toEqual(everywhere(got, [OK, ["OK", "QUEUED", "QUEUED", ["OK", null]], bulk("v")]));
  });

  // From a script, redis.call('MIGRATE', ...) returns MIGRATE's own reply (+OK, or the target's
  // error), once the target has answered.
  test("from a script it returns its own reply, after the target answered", async () => {
    const got = await onPairs(async (x) => [
      await x.s("SET", "k", "v"),
      await x.s("EVAL", "return redis.call('PING')", 0),
      await x.s("EVAL", "return redis.pcall('MIGRATE','127.0.0.1',ARGV[1],'k',0,5000)", 0, x.tgt.port),
      await x.s("SET", "k", "v"),
      await x.s("EVAL", "return redis.pcall('MIGRATE','127.0.0.1',ARGV[1],'k',0,5000)", 0, x.tgt.port),
    ]);
    expect(got).toEqual(everywhere(got, [OK, "+PONG\r\n", OK, OK, BUSYKEY]));
  });

  // ---- Where Redbun differs from redis-server 7.0.15 (run it with `bun test --todo`).

  // redis-server's key specs for MIGRATE (its getkeys falls back to migrateGetKeys only when the
  // KEYS spec, which is "incomplete", finds its keyword), so:
  //   COMMAND GETKEYS MIGRATE h p k 0 1 KEYS a   redis: -ERR Invalid arguments specified for command
  //                                              Redbun: -ERR The command has no key arguments
  //   COMMAND GETKEYS MIGRATE h p "" 0 1 KEYS    redis: *1\r\n$0\r\n\r\n   Redbun: -ERR The command has no key arguments
  //   as a user with ~a*: MIGRATE 127.0.0.1 1 "" 0 1000 KEYS   redis: -NOPERM ...   Redbun: +NOKEY
  //   COMMAND INFO migrate: redis lists two key specs, flags RW access delete (index 3) and
  //   RW access delete incomplete (keyword KEYS from -2, range to -1); Redbun one, RW update.
  test.todo("DIFFERS FROM REDIS: MIGRATE's key specs (COMMAND INFO), and COMMAND GETKEYS and ACL when KEYS ends the command or follows a key", async () => {
    const got = await onSources(async (src) => {
      await src.c.raw("ACL", "SETUSER", "lim", "reset", "on", "nopass", "+migrate", "~a*");
      const u = await RawClient.connect(src.port);
      try {
        await u.raw("AUTH", "lim", "x");
        const specs = ((await src.c.cmd("COMMAND", "INFO", "migrate")) as unknown[][])[0][8];
        return [
          await src.c.raw("COMMAND", "GETKEYS", "MIGRATE", "h", "p", "k", 0, 1, "KEYS", "a"),
          await src.c.raw("COMMAND", "GETKEYS", "MIGRATE", "h", "p", "", 0, 1, "KEYS"),
          await u.raw("MIGRATE", "127.0.0.1", 1, "", 0, 1000, "KEYS"),
          JSON.stringify(specs),
        ];
      } finally { u.close(); await apply(src.c, [["ACL", "DELUSER", "lim"], ["ACL", "LOG", "RESET"]]); }
    });
    expect(got.redbun).toEqual(got.redis);
  });
});

// ---------------------------------------------------------------------------------------------
// Corrupt RESTORE payloads
// ---------------------------------------------------------------------------------------------

// The small encodings byte by byte, as listpack.c, ziplist.c, intset.c and zipmap.c lay them out,
// so that the tests can build them and damage each field on purpose.

const u16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16LE(n & 0xffff); return b; };
const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(n >>> 0); return b; };

/** An RDB length: 6, 14 or 32 bits. */
function rdbLen(n: number): Buffer {
  if (n < 64) return Buffer.from([n]);
  if (n < 16384) return Buffer.from([0x40 | (n >> 8), n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = 0x80;
  b.writeUInt32BE(n, 1);
  return b;
}
/** The RDB length at p, and the position after it. */
function readRdbLen(b: Buffer, p: number): [number, number] {
  if (b[p] >> 6 === 0) return [b[p], p + 1];
  if (b[p] >> 6 === 1) return [((b[p] & 0x3f) << 8) | b[p + 1], p + 2];
  if (b[p] === 0x80) return [b.readUInt32BE(p + 1), p + 5];
  throw new Error(`RDB length byte ${b[p]} (an LZF or integer string?)`);
}
/** An RDB string: its length, then its bytes. */
const rdbStr = (s: Buffer | string): Buffer => { const b = typeof s === "string" ? Buffer.from(s, "latin1") : s; return Buffer.concat([rdbLen(b.length), b]); };

/** A listpack entry's back-length as lpEncodeBacklen writes it. Its bounds are Redis's, not 7 bits
 *  per byte: an entry of exactly 16383 (or 2097151) bytes takes one byte more. */
function lpBacklen(l: number): Buffer {
  if (l <= 127) return Buffer.from([l]);
  if (l < 16383) return Buffer.from([l >> 7, (l & 127) | 128]);
  if (l < 2097151) return Buffer.from([l >> 14, ((l >> 7) & 127) | 128, (l & 127) | 128]);
  return Buffer.from([l >> 21, ((l >> 14) & 127) | 128, ((l >> 7) & 127) | 128, (l & 127) | 128]);
}
/** A listpack entry before its back-length: a number as the smallest integer encoding (7, 13, 16,
 *  24, 32 or 64 bits), a string with a 6, 12 or 32-bit length. */
function lpEncode(v: string | number | bigint): Buffer {
  if (typeof v === "string") {
    const s = Buffer.from(v, "latin1");
    if (s.length < 64) return Buffer.concat([Buffer.from([0x80 | s.length]), s]);
    if (s.length < 4096) return Buffer.concat([Buffer.from([0xe0 | (s.length >> 8), s.length & 0xff]), s]);
    return Buffer.concat([Buffer.from([0xf0]), u32(s.length), s]);
  }
  const n = BigInt(v);
  if (n >= 0n && n <= 127n) return Buffer.from([Number(n)]);
  if (n >= -4096n && n <= 4095n) { const x = Number(BigInt.asUintN(13, n)); return Buffer.from([0xc0 | (x >> 8), x & 0xff]); }
  const width = n >= -32768n && n <= 32767n ? 2 : n >= -8388608n && n <= 8388607n ? 3 : n >= -2147483648n && n <= 2147483647n ? 4 : 8;
  const b = Buffer.alloc(1 + width);
  b[0] = width === 2 ? 0xf1 : width === 3 ? 0xf2 : width === 4 ? 0xf3 : 0xf4;
  if (width === 8) b.writeBigInt64LE(n, 1);
  else b.writeIntLE(Number(n), 1, width);
  return b;
}
/** A listpack of these entries (header: total bytes, element count, which may be told to lie). */
function listpack(values: (string | number | bigint)[], count = values.length): Buffer {
  const body = Buffer.concat(values.map((v) => { const e = lpEncode(v); return Buffer.concat([e, lpBacklen(e.length)]); }));
  return Buffer.concat([u32(6 + body.length + 1), u16(count), body, Buffer.from([0xff])]);
}
/** Where a well-formed listpack's entries are: offset, encoding and length bytes, data bytes,
 *  back-length bytes, and whether it holds a string. */
interface LpEntry { at: number; hdr: number; len: number; back: number; str: boolean }
function lpLayout(b: Buffer): LpEntry[] {
  const out: LpEntry[] = [];
  for (let p = 6; b[p] !== 0xff;) {
    const e = b[p];
    let hdr = 1, len = 0, str = false;
    if ((e & 0xc0) === 0x80) { len = e & 0x3f; str = true; }
    else if ((e & 0xe0) === 0xc0) len = 1;
    else if ((e & 0xf0) === 0xe0) { hdr = 2; len = ((e & 0x0f) << 8) | b[p + 1]; str = true; }
    else if (e === 0xf0) { hdr = 5; len = b.readUInt32LE(p + 1); str = true; }
    else if (e >= 0xf1) len = [2, 3, 4, 8][e - 0xf1];
    const back = lpBacklen(hdr + len).length;
    out.push({ at: p, hdr, len, back, str });
    p += hdr + len + back;
  }
  return out;
}

/** A ziplist entry without its prevlen: strings with a 6, 14 or 32-bit length ({ s, long: true }
 *  forces the 32-bit one, valid though Redis never chose it for a short string), integers as 0..12
 *  in the encoding byte, or in 8, 16, 24, 32 or 64 bits. */
type ZlValue = string | number | bigint | { s: string; long: true };
function zlEncode(v: ZlValue): Buffer {
  if (typeof v === "object" || (typeof v === "string" && v.length >= 16384)) {
    const s = Buffer.from(typeof v === "object" ? v.s : v, "latin1");
    const h = Buffer.alloc(5);
    h[0] = 0x80;
    h.writeUInt32BE(s.length, 1);
    return Buffer.concat([h, s]);
  }
  if (typeof v === "string") {
    const s = Buffer.from(v, "latin1");
    return Buffer.concat([s.length < 64 ? Buffer.from([s.length]) : Buffer.from([0x40 | (s.length >> 8), s.length & 0xff]), s]);
  }
  const n = BigInt(v);
  if (n >= 0n && n <= 12n) return Buffer.from([0xf1 + Number(n)]);
  const [enc, width] = n >= -128n && n <= 127n ? [0xfe, 1] : n >= -32768n && n <= 32767n ? [0xc0, 2] : n >= -8388608n && n <= 8388607n ? [0xf0, 3]
    : n >= -2147483648n && n <= 2147483647n ? [0xd0, 4] : [0xe0, 8];
  const b = Buffer.alloc(1 + width);
  b[0] = enc;
  if (width === 8) b.writeBigInt64LE(n, 1);
  else b.writeIntLE(Number(n), 1, width);
  return b;
}
/** A ziplist (Redis 6's small lists, hashes and sorted sets): total bytes, tail offset, count,
 *  entries each after the previous one's length (1 byte, or 0xfe and 4 bytes from 254 on), 0xff. */
function ziplist(values: ZlValue[]): Buffer {
  const entries: Buffer[] = [];
  let prev = 0, at = 10, tail = 10;
  for (const v of values) {
    const e = Buffer.concat([prev < 254 ? Buffer.from([prev]) : Buffer.concat([Buffer.from([0xfe]), u32(prev)]), zlEncode(v)]);
    entries.push(e);
    tail = at;
    at += e.length;
    prev = e.length;
  }
  const body = Buffer.concat(entries);
  return Buffer.concat([u32(10 + body.length + 1), u32(tail), u16(values.length), body, Buffer.from([0xff])]);
}
/** Where a well-formed ziplist's entries are: offset, prevlen bytes, encoding bytes, data bytes. */
interface ZlEntry { at: number; prev: number; hdr: number; len: number; str: boolean }
function zlLayout(b: Buffer): ZlEntry[] {
  const out: ZlEntry[] = [];
  for (let p = 10; b[p] !== 0xff;) {
    const prev = b[p] < 0xfe ? 1 : 5, e = b[p + prev];
    let hdr = 1, len: number;
    if (e >> 6 === 0) len = e & 0x3f;
    else if (e >> 6 === 1) { hdr = 2; len = ((e & 0x3f) << 8) | b[p + prev + 1]; }
    else if (e >> 6 === 2) { hdr = 5; len = b.readUInt32BE(p + prev + 1); }
    else len = e === 0xfe ? 1 : e === 0xc0 ? 2 : e === 0xf0 ? 3 : e === 0xd0 ? 4 : e === 0xe0 ? 8 : 0;
    out.push({ at: p, prev, hdr, len, str: e >> 6 !== 3 });
    p += prev + hdr + len;
  }
  return out;
}

/** An intset: member width (2, 4 or 8), count (which may be told to lie), members little-endian. */
function intset(width: 2 | 4 | 8, values: (number | bigint)[], count = values.length): Buffer {
  const b = Buffer.alloc(8 + width * values.length);
  b.writeUInt32LE(width, 0);
  b.writeUInt32LE(count, 4);
  values.forEach((v, i) => { if (width === 8) b.writeBigInt64LE(BigInt(v), 8 + 8 * i); else b.writeIntLE(Number(v), 8 + width * i, width); });
  return b;
}

/** A zipmap (Redis 2.4's small hashes): a count byte (254: unknown), then per pair the field's
 *  length and bytes, the value's length, a free-bytes count, the value and its free bytes; 0xff.
 *  Lengths are 1 byte, or 0xfe and 4 bytes from 254 on. Also says where each length byte is. */
function zipmap(pairs: [string, string, number?][], count = pairs.length): { blob: Buffer; lengths: { at: number; what: string; wide: boolean }[] } {
  const parts: Buffer[] = [Buffer.from([Math.min(count, 254)])];
  const lengths: { at: number; what: string; wide: boolean }[] = [];
  let at = 1;
  const len = (n: number, what: string) => {
    lengths.push({ at, what, wide: n >= 254 });
    const b = n < 254 ? Buffer.from([n]) : Buffer.concat([Buffer.from([0xfe]), u32(n)]);
    parts.push(b);
    at += b.length;
  };
  const bytes = (b: Buffer) => { parts.push(b); at += b.length; };
  pairs.forEach(([f, v, free = 0], i) => {
    len(f.length, `field ${i} length`);
    bytes(Buffer.from(f, "latin1"));
    len(v.length, `value ${i} length`);
    lengths.push({ at, what: `value ${i} free bytes`, wide: false });
    bytes(Buffer.concat([Buffer.from([free]), Buffer.from(v, "latin1"), Buffer.alloc(free, 0x2a)]));
  });
  parts.push(Buffer.from([0xff]));
  return { blob: Buffer.concat(parts), lengths };
}

describe("corrupt RESTORE payloads", () => {
  // Differential against redis-server 7.0.15. Both servers run with sanitize-dump-payload yes, so
  // that Redis checks every payload deeply as Redbun always does, and with DEBUG
  // SET-SKIP-CHECKSUM-VALIDATION 1, so that a damaged payload needs no new CRC: every payload here
  // ends in a bogus one. Valid payloads of each small encoding come from redis-server's DUMP
  // (listpacks of hashes, sorted sets, lists and streams; intsets) or are built by hand (ziplists
  // and zipmaps, which Redis 7 reads but no longer writes). They are damaged field by field and at
  // random (seeded), and for every case the RESTORE reply must be redis-server's byte for byte;
  // after an error the key must not exist; when both accept, the value read back and OBJECT
  // ENCODING must match; both must still answer PING afterwards. Where Redbun is known to answer
  // otherwise, DIFFERENCES says which cases, and a test.todo at the end keeps each difference in
  // view (run them with `bun test --todo`).

  /** The footer of every payload here: RDB version 10, then 8 bytes that are not its CRC64. */
  const FOOTER = Buffer.concat([Buffer.from([10, 0]), Buffer.from("not crc!")]);
  const payload = (...body: Buffer[]): string => Buffer.concat([...body, FOOTER]).latin1Slice();
  const OK = "+OK\r\n";

  /** One RESTORE to try. `may` names the known difference it may show (see DIFFERENCES). */
  interface Case { name: string; payload: string; may?: DifferenceName }
  /** What a server made of a case: the reply's bytes, then the key as TYPE, OBJECT ENCODING and its
   *  value read back (hashes and sets sorted, streams as XLEN and XRANGE) show it. */
  interface Outcome { reply: string; type: string; encoding: string; value: string }

  // ---- The known differences, each with the cases it explains when they mismatch.

  type DifferenceName = "backlenBit" | "backlenSize" | "zsetOrder" | "scoreText" | "zipmapCount" | "stream" | "frame" | "newerTypes" | "emptyZiplistTail" | "longValues";
  const sortedPairs = (json: string) => { const a = JSON.parse(json) as string[]; const p: string[] = []; for (let i = 0; i < a.length; i += 2) p.push(`${a[i]}\0${a[i + 1]}`); return p.sort().join("\n"); };
  const DIFFERENCES: Record<DifferenceName, (c: Case, ours: Outcome, theirs: Outcome) => boolean> = {
    // Redbun reads a listpack entry's back-length as a fixed number of bytes and ignores each
    // byte's continuation bit (0x80); Redis decodes it as lpDecodeBacklen does, from the last byte
    // back while the bit is set, so a flipped bit makes the length wrong and the payload corrupt.
    backlenBit: (c) => c.may === "backlenBit",
    // Redbun's back-length is 2 bytes for an entry of 16383 bytes and 3 for one of 2097151, where
    // Redis's lpEncodeBacklen writes 3 and 4 (its bounds are `l < 16383`, `l < 2097151`): redis-
    // server's own DUMP of such a list (RPUSH l <16378 bytes>) is refused as corrupt.
    backlenSize: (c) => c.may === "backlenSize",
    // Redis keeps a listpack sorted set as the payload has it and never checks its order: ZRANGE
    // then answers in the payload's order. Redbun sorts it. Same members and scores, other order.
    zsetOrder: (_c, ours, theirs) => ours.type === "zset" && theirs.type === "zset" && ours.value !== theirs.value && sortedPairs(ours.value) === sortedPairs(theirs.value),
    // Redis reads a listpack or ziplist score written as text with strtod, which takes the longest
    // prefix that is a number ("1.5abc" is 1.5, "abc" is 0, "0b11" is 0, "nan" is NaN, "infinity"
    // is inf) and never refuses one; Redbun reads it with Number() and refuses what is NaN.
    scoreText: (c) => c.may === "scoreText",
    // Redis checks a zipmap's count byte (unless 254, unknown) and stops at the first end marker;
    // Redbun ignores the count byte and wants the end marker last.
    zipmapCount: (c) => c.may === "zipmapCount",
    // Redbun reads a stream listpack without Redis's stream checks (entry flags, IDs, field counts,
    // lp-count, the master entry's terminator: redis-server refuses, Redbun accepts), checks the
    // listpack's element count, which Redis's stream check does not, and refuses a stream whose
    // length field disagrees with its entries, which Redis loads as it is.
    stream: (c, ours, theirs) => c.may === "stream" && ours.reply !== theirs.reply,
    // Redis reads the value from the whole payload and never checks where it ends: bytes after it
    // are ignored, and a value longer than the payload runs on into the RDB version and CRC.
    frame: (c) => c.may === "frame",
    // Types 20 (set listpack) and 21 (stream listpacks 3) are Redis 7.2's: redis-server 7.0 does not
    // know them (Bad data format); Redbun loads them, even in a payload of RDB version 10.
    newerTypes: (c) => c.may === "newerTypes",
    // An empty ziplist node of a quicklist: Redis checks the tail offset only against the size
    // when there is no entry; Redbun wants it to be 10.
    emptyZiplistTail: (c) => c.may === "emptyZiplistTail",
    // Redis 7.0 converts a loaded listpack/ziplist hash or sorted set only by its number of
    // entries; Redbun also by the length of its values (hash-max-listpack-value 64): same value,
    // OBJECT ENCODING hashtable/skiplist where redis-server says listpack.
    longValues: (_c, ours, theirs) => ours.reply === theirs.reply && ours.value === theirs.value && theirs.encoding === "listpack" && ours.encoding !== "listpack",
  };

  // ---- The servers, and running cases on them.

  let servers: Promise<{ s: Server; r: Server }> | null = null;
  /** One Redbun and one redis-server for the describe, both logging at verbose level (where the
   *  reasons of a refused payload go), set up as said above. */
  async function corruptServers(): Promise<{ s: Server; r: Server }> {
    servers ??= (async () => {
      const s = await startRedbun(dir("corrupt"), { "enable-debug-command": "yes", loglevel: "verbose" });
      // rdbcompression no: DUMP's listpacks are plain strings the tests can take apart.
      const r = await startRedis(dir("corrupt-ref"), { loglevel: "verbose", rdbcompression: "no" });
      for (const x of [s, r]) expect(await pipe(x.c, [["CONFIG", "SET", "sanitize-dump-payload", "yes"], ["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", 1]])).toEqual(["OK", "OK"]);
      return { s, r };
    })();
    return servers;
  }
  afterAll(async () => { const x = await servers?.catch(() => null); await x?.s.kill(); await x?.r.kill(); });

  const READ_BACK: Record<string, (k: string) => (string | number)[][]> = {
    string: (k) => [["GET", k]], list: (k) => [["LRANGE", k, 0, -1]], hash: (k) => [["HGETALL", k]], set: (k) => [["SMEMBERS", k]],
    zset: (k) => [["ZRANGE", k, 0, -1, "WITHSCORES"]], stream: (k) => [["XLEN", k], ["XRANGE", k, "-", "+"]], none: () => [],
  };
  /** A value read back as one string: hashes as sorted pairs, sets sorted, errors as their text. */
  function canonical(type: string, replies: Reply[]): string {
    const show = (r: Reply): unknown => (r instanceof ReplyError ? `(error) ${r.message}` : Array.isArray(r) ? r.map(show) : r);
    let v = replies.map(show);
    if (type === "set" && Array.isArray(v[0])) v = [[...(v[0] as string[])].sort()];
    if (type === "hash" && Array.isArray(v[0])) {
      const a = v[0] as string[], pairs: string[][] = [];
      for (let i = 0; i < a.length; i += 2) pairs.push([a[i], a[i + 1]]);
      v = [pairs.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)).flat()];
    }
    return JSON.stringify(v.length === 1 ? v[0] : v);
  }
  /** RESTOREs the cases (in pipelined batches, each on a flushed db) and reads back what each left. */
  async function outcomes(x: Server, cases: Case[]): Promise<Outcome[]> {
    const out: Outcome[] = [];
    for (let i = 0; i < cases.length; i += 250) {
      const batch = cases.slice(i, i + 250), keys = batch.map((_, j) => `k${j}`);
      await x.c.cmd("FLUSHALL");
      const replies = await pipeline(x.c, batch.map((c, j) => ["RESTORE", keys[j], 0, c.payload]), 20000);
      const types = (await pipe(x.c, keys.map((k) => ["TYPE", k]))) as string[];
      const reads = keys.map((k, j) => [["OBJECT", "ENCODING", k], ...(READ_BACK[types[j]] ?? READ_BACK.none)(k)]);
      const got = await pipe(x.c, reads.flat());
      let p = 0;
      batch.forEach((_, j) => {
        const [encoding, ...value] = got.slice(p, (p += reads[j].length));
        out.push({ reply: replies[j], type: types[j], encoding: String(encoding), value: canonical(types[j], value) });
      });
    }
    expect(await x.c.raw("PING")).toBe("+PONG\r\n");
    return out;
  }

  const short = (s: string) => (s.length > 100 ? `${s.slice(0, 80)}...(${s.length} chars)` : s);
  const show = (o: Outcome) => (o.reply.startsWith("+") ? `${o.reply.trim()}, ${o.type} ${o.encoding} ${short(o.value)}` : o.reply.trim());
  const same = (a: Outcome, b: Outcome) => a.reply === b.reply && a.type === b.type && a.encoding === b.encoding && a.value === b.value;
  /** A case as a line of a report: its name, both servers' outcomes and the payload's bytes. */
  const report = (c: Case, ours: Outcome, theirs: Outcome) =>
    `${c.name}: Redbun ${show(ours)} | redis-server ${show(theirs)} | payload ${short(Buffer.from(c.payload, "latin1").subarray(0, -FOOTER.length).toString("hex"))}`;

  /** Runs the cases on both servers. Returns the mismatches no known difference covers, and checks
   *  that after every error the key is absent, on both. */
  async function differential(cases: Case[]): Promise<{ unexplained: string[]; refused: number; accepted: number }> {
    const { s, r } = await corruptServers();
    const [ours, theirs] = await Promise.all([outcomes(s, cases), outcomes(r, cases)]);
    const leftovers = cases.flatMap((c, i) => ([["Redbun", ours[i]], ["redis-server", theirs[i]]] as const)
      .filter(([, o]) => o.reply.startsWith("-") && o.type !== "none").map(([who]) => `${c.name}: ${who} left a key after an error`));
    expect(leftovers).toEqual([]);
    const unexplained = cases.flatMap((c, i) => (same(ours[i], theirs[i]) || Object.values(DIFFERENCES).some((covers) => covers(c, ours[i], theirs[i])) ? [] : [report(c, ours[i], theirs[i])]));
    return { unexplained, refused: theirs.filter((o) => o.reply.startsWith("-")).length, accepted: theirs.filter((o) => o.reply === "+OK\r\n").length };
  }

  // ---- The payloads.

  /** A payload with a blob (listpack, ziplist, intset, zipmap) inside, as `head`, the blob's RDB
   *  length, the blob, `tail`. */
  interface Base { name: string; kind: "listpack" | "ziplist" | "intset" | "zipmap"; head: Buffer; blob: Buffer; tail: Buffer; zset?: boolean; stream?: boolean }
  const wrap = (b: Base, blob: Buffer) => payload(b.head, rdbLen(blob.length), blob, b.tail);

  /** Takes a redis-server DUMP apart (a listpack or intset type, a quicklist of one node, or a
   *  stream of one node). */
  function fromDump(name: string, dump: string): Base {
    const d = Buffer.from(dump, "latin1"), body = d.subarray(0, d.length - 10);
    let p = 1;
    if (d[0] === 18) { const [nodes, q] = readRdbLen(body, p); expect(nodes).toBe(1); p = readRdbLen(body, q)[1]; }
    if (d[0] === 19) { const [nodes, q] = readRdbLen(body, p); expect(nodes).toBe(1); const [keyLen, k] = readRdbLen(body, q); p = k + keyLen; }
    const [len, q] = readRdbLen(body, p);
    return { name, kind: d[0] === 11 ? "intset" : "listpack", head: body.subarray(0, p), blob: body.subarray(q, q + len), tail: body.subarray(q + len), zset: d[0] === 17, stream: d[0] === 19 };
  }

  let basesCache: Promise<{ listpacks: Base[]; intsets: Base[]; ziplists: Base[]; zipmap: Base & { lengths: { at: number; what: string; wide: boolean }[] }; dumps: Case[] }> | null = null;
  /** The valid payloads the damage starts from: redis-server's DUMPs of small values of every
   *  listpack and intset kind (and of bigger values, for the valid-payload test), and hand-made
   *  ziplists and a zipmap. */
  function bases() {
    basesCache ??= (async () => {
      const { r } = await corruptServers();
      // Every listpack entry encoding (7, 13, 16, 24, 32, 64-bit integers; 6 and 12-bit string
      // lengths; 1 and 2-byte back-lengths) and every intset width.
      const small: [string, (string | number)[][]][] = [
        ["hash listpack", [["HSET", "k", "f1", "v1", "f2", "2", "f3", "-3000", "f4", "x".repeat(40)]]],
        ["zset listpack", [["ZADD", "k", "1", "a", "2.5", "b", "-100000", "c", "1e20", "d"]]],
        ["list listpack", [["RPUSH", "k", "a", "", "5", "-1", "1000", "-4000", "30000", "3000000", "300000000", "30000000000", "x".repeat(63), "y".repeat(64), "z".repeat(200)]]],
        ["stream listpack", [["XADD", "k", "1-1", "a", "1", "b", "2"], ["XADD", "k", "1-2", "a", "3", "b", "4"], ["XADD", "k", "2-0", "c", "5"]]],
        ["intset16", [["SADD", "k", "1", "2", "-3"]]], ["intset32", [["SADD", "k", "70000", "-70000", "1"]]], ["intset64", [["SADD", "k", "1099511627776", "-5"]]],
      ];
      const dump = async (cmds: (string | number)[][]) => { await apply(r.c, [["DEL", "k"], ...cmds]); return String(await r.c.cmd("DUMP", "k")); };
      const dumped: Record<string, string> = {};
      for (const [name, cmds] of small) dumped[name] = await dump(cmds);
      const zm = zipmap([["f1", "v1"], ["f2", "v2", 2], ["field3", "x".repeat(300)]]);
      // Valid payloads of other encodings, restored as they are.
      const others: [string, (string | number)[][]][] = [
        ["hash hashtable", [["HSET", "k", ...Array.from({ length: 600 }, (_, i) => [`f${i}`, `v${i}`]).flat()]]],
        ["zset skiplist", [["ZADD", "k", ...Array.from({ length: 200 }, (_, i) => [i / 7, `m${i}`]).flat()]]],
        ["set hashtable", [["SADD", "k", "a", "b", "1"]]],
        ["list of several nodes", [["RPUSH", "k", ...Array.from({ length: 2000 }, (_, i) => `element ${i}`)]]],
        ["stream with a group", [["XADD", "k", "1-1", "a", "1"], ["XADD", "k", "2-1", "b", "2"], ["XGROUP", "CREATE", "k", "g", "0"], ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "k", ">"]]],
        ["string", [["SET", "k", "some value"]]], ["string int", [["SET", "k", "12345"]]],
      ];
      const dumps: Case[] = [];
      for (const [name, cmds] of others) dumps.push({ name: `redis-server's DUMP of a ${name}`, payload: await dump(cmds) });
      // Listpack entries of 16383 and 2097151 bytes, whose back-length takes a byte more than 7 bits
      // per byte need, and their neighbours.
      for (const n of [16377, 16378, 2097145, 2097146]) {
        const name = `redis-server's DUMP of a list of one ${n}-byte element (a listpack entry of ${n + 5} bytes)`;
        dumps.push({ name, payload: await dump([["RPUSH", "k", "q".repeat(n)]]), may: n === 16378 || n === 2097146 ? "backlenSize" : undefined });
      }
      await r.c.cmd("DEL", "k");
      const raw = (name: string, head: number[], blob: Buffer): Base => ({ name, kind: head[0] === 9 ? "zipmap" : "ziplist", head: Buffer.from(head), blob, tail: Buffer.alloc(0), zset: head[0] === 12 });
      return {
        listpacks: ["hash listpack", "zset listpack", "list listpack", "stream listpack"].map((n) => fromDump(n, dumped[n])),
        intsets: ["intset16", "intset32", "intset64"].map((n) => fromDump(n, dumped[n])),
        ziplists: [
          // Every entry encoding, and entries of 300 bytes whose successors' prevlen takes 5 bytes.
          raw("list ziplist", [10], ziplist(["a", "", 12, 100, 1000, 100000, 100000000, 1000000000000n, "x".repeat(70), "y".repeat(300), "z", { s: "long", long: true }])),
          raw("hash ziplist", [13], ziplist(["f1", "v1", "f2", 7, "f3", -20000])),
          raw("zset ziplist", [12], ziplist(["a", 1, "b", "2.5", "c", 300])),
          raw("quicklist ziplist node", [14, 1], ziplist(["a", 2, "c".repeat(260), "d"])),
        ],
        zipmap: { ...raw("zipmap", [9], zm.blob), lengths: zm.lengths },
        dumps,
      };
    })();
    return basesCache;
  }

  /** Damage to a base: its name and what it does to (a copy of) the blob. */
  type Damage = [string, (x: Buffer) => Buffer | void, DifferenceName?];
  function damaged(b: Base, damages: Damage[]): Case[] {
    return damages.map(([what, f, may]) => {
      const x = Buffer.from(b.blob);
      return { name: `${b.name}: ${what}`, payload: wrap(b, f(x) ?? x), may: may ?? (b.stream ? "stream" : undefined) };
    });
  }
  const set = (at: number, v: number) => (x: Buffer) => { x[at] = v; };
  const add = (at: number, d: number) => (x: Buffer) => { x[at] = (x[at] + d) & 0xff; };
  const flip = (at: number, mask: number) => (x: Buffer) => { x[at] ^= mask; };
  /** The blob cut to k bytes, with a new end marker and the total bytes (at 0) fixed to match. */
  const cutFixed = (k: number) => (x: Buffer) => { const y = Buffer.concat([x.subarray(0, k), Buffer.from([0xff])]); if (y.length >= 4) y.writeUInt32LE(k + 1, 0); return y; };

  /** Damage to each field of a listpack: header, each entry's encoding, length, last data byte and
   *  back-length, the end marker, and cuts at every byte. */
  function listpackDamage(b: Base): Damage[] {
    const n = b.blob.length, count = b.blob.readUInt16LE(4), out: Damage[] = [];
    for (const v of [n - 1, n + 1, 0, 0xffffffff]) out.push([`total bytes ${v} (is ${n})`, (x) => { x.writeUInt32LE(v >>> 0, 0); }]);
    // 65535 means "unknown": valid.
    for (const v of [count - 1, count + 1, 0, 0xfffe, 0xffff]) out.push([`element count ${v} (is ${count})`, (x) => { x.writeUInt16LE(v, 4); }]);
    lpLayout(b.blob).forEach((e, i) => {
      const enc = b.blob[e.at];
      for (const m of [0x80, 0x40, 0x20, 0x10, 0x01]) out.push([`entry ${i} encoding ^0x${m.toString(16)}`, flip(e.at, m)]);
      for (const v of [0xf5, 0xfe, 0xff]) out.push([`entry ${i} encoding 0x${v.toString(16)}`, set(e.at, v)]);
      if ((enc & 0xc0) === 0x80) for (const d of [1, -1]) out.push([`entry ${i} length ${d > 0 ? "+" : ""}${d}`, set(e.at, 0x80 | ((enc + d) & 0x3f))]);
      if ((enc & 0xf0) === 0xe0) for (const d of [1, -1]) out.push([`entry ${i} length ${d > 0 ? "+" : ""}${d}`, add(e.at + 1, d)]);
      if (e.len) out.push([`entry ${i} last data byte ^0x01`, flip(e.at + e.hdr + e.len - 1, 1)]);
      for (let k = 0; k < e.back; k++) {
        const at = e.at + e.hdr + e.len + k;
        for (const d of [1, -1]) out.push([`entry ${i} back-length byte ${k} ${d > 0 ? "+" : ""}${d}`, add(at, d)]);
        out.push([`entry ${i} back-length byte ${k} ^0x80`, flip(at, 0x80), "backlenBit"]);
      }
    });
    for (const v of [0x00, 0x7f, 0xfe]) out.push([`end marker 0x${v.toString(16)}`, set(n - 1, v)]);
    out.push(["no end marker", (x) => x.subarray(0, n - 1)]);
    out.push(["no end marker, total bytes fixed", (x) => { const y = Buffer.from(x.subarray(0, n - 1)); y.writeUInt32LE(n - 1, 0); return y; }]);
    out.push(["a byte after the end marker", (x) => Buffer.concat([x, Buffer.from([0])])]);
    out.push(["a byte after the end marker, total bytes fixed", (x) => { const y = Buffer.concat([x, Buffer.from([0])]); y.writeUInt32LE(n + 1, 0); return y; }]);
    for (let k = 0; k < n - 1; k++) out.push([`cut to ${k} bytes`, (x) => x.subarray(0, k)], [`cut to ${k} bytes, total bytes and end marker fixed`, cutFixed(k)]);
    return out;
  }

  /** Damage to each field of a ziplist: header (total bytes, tail offset, count), each entry's
   *  prevlen, encoding, length and last data byte, the end marker, and cuts at every byte. */
  function ziplistDamage(b: Base): Damage[] {
    const n = b.blob.length, tail = b.blob.readUInt32LE(4), count = b.blob.readUInt16LE(8), out: Damage[] = [];
    for (const v of [n - 1, n + 1, 0]) out.push([`total bytes ${v} (is ${n})`, (x) => { x.writeUInt32LE(v, 0); }]);
    for (const v of [tail - 1, tail + 1, 10, n - 1, n, 0]) out.push([`tail offset ${v} (is ${tail})`, (x) => { x.writeUInt32LE(v, 4); }]);
    for (const v of [count - 1, count + 1, 0, 0xfffe, 0xffff]) out.push([`entry count ${v} (is ${count})`, (x) => { x.writeUInt16LE(v, 8); }]);
    zlLayout(b.blob).forEach((e, i) => {
      if (e.prev === 1) {
        for (const d of [1, -1]) out.push([`entry ${i} prevlen ${d > 0 ? "+" : ""}${d}`, add(e.at, d)]);
        for (const v of [0xfe, 0xff]) out.push([`entry ${i} prevlen 0x${v.toString(16)}`, set(e.at, v)]);
      } else {
        for (const d of [1, -1]) out.push([`entry ${i} 5-byte prevlen ${d > 0 ? "+" : ""}${d}`, (x) => { x.writeUInt32LE(x.readUInt32LE(e.at + 1) + d, e.at + 1); }]);
        for (const v of [0xfd, 0xff]) out.push([`entry ${i} 5-byte prevlen marker 0x${v.toString(16)}`, set(e.at, v)]);
      }
      const at = e.at + e.prev, enc = b.blob[at];
      for (const m of [0x80, 0x40, 0x20, 0x10, 0x01]) out.push([`entry ${i} encoding ^0x${m.toString(16)}`, flip(at, m)]);
      for (const v of [0xc1, 0xff]) out.push([`entry ${i} encoding 0x${v.toString(16)}`, set(at, v)]);
      const lenAt = enc >> 6 === 0 ? at : enc >> 6 === 1 ? at + 1 : enc >> 6 === 2 ? at + 4 : -1;
      if (lenAt >= 0) for (const d of [1, -1]) out.push([`entry ${i} length ${d > 0 ? "+" : ""}${d}`, enc >> 6 === 0 ? set(at, (enc + d) & 0x3f) : add(lenAt, d)]);
      if (e.len) out.push([`entry ${i} last data byte ^0x01`, flip(at + e.hdr + e.len - 1, 1)]);
    });
    for (const v of [0x00, 0xfe]) out.push([`end marker 0x${v.toString(16)}`, set(n - 1, v)]);
    out.push(["no end marker", (x) => x.subarray(0, n - 1)]);
    out.push(["no end marker, total bytes fixed", (x) => { const y = Buffer.from(x.subarray(0, n - 1)); y.writeUInt32LE(n - 1, 0); return y; }]);
    out.push(["a byte after the end marker, total bytes fixed", (x) => { const y = Buffer.concat([x, Buffer.from([0])]); y.writeUInt32LE(n + 1, 0); return y; }]);
    for (let k = 0; k < n - 1; k++) out.push([`cut to ${k} bytes`, (x) => x.subarray(0, k)], [`cut to ${k} bytes, total bytes and end marker fixed`, cutFixed(k)]);
    return out;
  }

  /** Damage to an intset: its width, count and size, members out of order or repeated, cuts, and
   *  single bits of every member byte. */
  function intsetDamage(b: Base): Damage[] {
    const n = b.blob.length, w = b.blob.readUInt32LE(0), count = b.blob.readUInt32LE(4), out: Damage[] = [];
    for (const v of [0, 1, 2, 3, 4, 8, 16].filter((v) => v !== w)) out.push([`width ${v} (is ${w})`, (x) => { x.writeUInt32LE(v, 0); }]);
    for (const v of [count - 1, count + 1, 0, 0xffffffff]) out.push([`count ${v} (is ${count})`, (x) => { x.writeUInt32LE(v >>> 0, 4); }]);
    out.push(["a byte more", (x) => Buffer.concat([x, Buffer.from([0])])]);
    out.push(["a member more, count unchanged", (x) => Buffer.concat([x, Buffer.alloc(w, 0x7f)])]);
    out.push(["a member more, count fixed", (x) => { const y = Buffer.concat([x, Buffer.alloc(w, 0x7f)]); y.writeUInt32LE(count + 1, 4); return y; }]);
    for (let i = 0; i + 1 < count; i++) {
      const m = (j: number) => 8 + j * w;
      out.push([`members ${i} and ${i + 1} swapped`, (x) => { const t = Buffer.from(x.subarray(m(i), m(i + 1))); x.copy(x, m(i), m(i + 1), m(i + 2)); t.copy(x, m(i + 1)); }]);
      out.push([`member ${i + 1} repeats member ${i}`, (x) => { x.copy(x, m(i + 1), m(i), m(i + 1)); }]);
    }
    for (let k = 0; k < n; k++) out.push([`cut to ${k} bytes`, (x) => x.subarray(0, k)]);
    for (let k = 8; k < n; k++) for (const m of [0x01, 0x80]) out.push([`byte ${k} ^0x${m.toString(16)}`, flip(k, m)]);
    return out;
  }

  /** Damage to a zipmap: its count byte, each length and free-bytes count, the end marker, cuts. */
  function zipmapDamage(b: Base & { lengths: { at: number; what: string; wide: boolean }[] }): Damage[] {
    const n = b.blob.length, out: Damage[] = [];
    // 254 means "unknown": valid.
    for (const v of [2, 4, 0, 254, 255]) out.push([`count byte ${v} (is 3)`, set(0, v), "zipmapCount"]);
    for (const { at, what, wide } of b.lengths) {
      if (wide) for (const d of [1, -1]) out.push([`${what} (5 bytes) ${d > 0 ? "+" : ""}${d}`, (x) => { x.writeUInt32LE(x.readUInt32LE(at + 1) + d, at + 1); }]);
      else for (const d of [1, -1]) out.push([`${what} ${d > 0 ? "+" : ""}${d}`, add(at, d)]);
      for (const v of [0xfe, 0xff]) if (!wide) out.push([`${what} 0x${v.toString(16)}`, set(at, v)]);
    }
    for (const v of [0x00, 0xfe]) out.push([`end marker 0x${v.toString(16)}`, set(n - 1, v)]);
    out.push(["no end marker", (x) => x.subarray(0, n - 1)]);
    out.push(["a byte after the end marker", (x) => Buffer.concat([x, Buffer.from([0xff])]), "zipmapCount"]);
    for (let k = 0; k < n - 1; k++) out.push([`cut to ${k} bytes, end marker fixed`, (x) => Buffer.concat([x.subarray(0, k), Buffer.from([0xff])]), "zipmapCount"]);
    return out;
  }

  /** Seeded damage: `n` cases of 1 to 3 bytes set to random values. A case may show scoreText
   *  when it changed the text of a score, zipmapCount when it changed a zipmap's count byte, and
   *  backlenBit when it flipped only the continuation bit of a back-length byte. */
  function randomDamage(b: Base, n: number, seed: number): Damage[] {
    const rnd = seededRandom(seed), len = b.blob.length, out: Damage[] = [];
    const scoreText = new Set<number>(), backlen = new Set<number>();
    if (b.kind === "listpack") {
      lpLayout(b.blob).forEach((e, i) => {
        if (b.zset && i % 2 && e.str) for (let k = e.at + e.hdr; k < e.at + e.hdr + e.len; k++) scoreText.add(k);
        for (let k = 0; k < e.back; k++) backlen.add(e.at + e.hdr + e.len + k);
      });
    }
    if (b.kind === "ziplist" && b.zset) zlLayout(b.blob).forEach((e, i) => { if (i % 2 && e.str) for (let k = e.at + e.prev + e.hdr; k < e.at + e.prev + e.hdr + e.len; k++) scoreText.add(k); });
    for (let i = 0; i < n; i++) {
      const spots = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => [Math.floor(rnd() * len), Math.floor(rnd() * 256)]);
      const may: DifferenceName | undefined = spots.some(([at]) => scoreText.has(at)) ? "scoreText" : b.kind === "zipmap" && spots.some(([at]) => at === 0) ? "zipmapCount"
        : spots.some(([at, v]) => backlen.has(at) && (b.blob[at] ^ v) === 0x80) ? "backlenBit" : undefined;
      out.push([`random ${i}: ${spots.map(([at, v]) => `byte ${at} = 0x${v.toString(16)}`).join(", ")}`, (x) => { for (const [at, v] of spots) x[at] = v; }, may]);
    }
    return out;
  }

  /** A sorted set's score as text, in a listpack and in a ziplist. */
  const scoreCases = (score: string): Case[] => [
    { name: `zset listpack with a score ${JSON.stringify(score)}`, payload: payload(Buffer.from([17]), rdbStr(listpack(["m", score, "n", 2]))), may: "scoreText" },
    { name: `zset ziplist with a score ${JSON.stringify(score)}`, payload: payload(Buffer.from([12]), rdbStr(ziplist(["m", score, "n", 2]))), may: "scoreText" },
  ];
  const typed = (type: number, ...body: Buffer[]) => payload(Buffer.from([type]), ...body);
  /** A plain (RDB_TYPE_LIST or _SET) collection of these strings. */
  const strings = (items: string[]) => Buffer.concat([rdbLen(items.length), ...items.map((x) => rdbStr(x))]);
  const double = (d: number) => { const b = Buffer.alloc(8); b.writeDoubleLE(d); return b; };

  /** The cases of each test below, by test. */
  const CASES = {
    /** Valid payloads: redis-server's DUMPs of every small encoding (and of bigger values), the
     *  hand-made ziplists and zipmap, and valid oddities. */
    async valid(): Promise<Case[]> {
      const b = await bases();
      return [
        ...[...b.listpacks, ...b.intsets, ...b.ziplists, b.zipmap].map((x) => ({ name: `${x.name}: as it is`, payload: wrap(x, x.blob) })),
        ...b.dumps,
        { name: "intset of 64-bit width holding small members", payload: typed(11, rdbStr(intset(8, [-1, 2, 3]))) },
        { name: "intset of 600 members (over set-max-intset-entries)", payload: typed(11, rdbStr(intset(2, Array.from({ length: 600 }, (_, i) => i * 3 - 900)))) },
        { name: "zipmap whose count byte says unknown (254)", payload: typed(9, rdbStr(zipmap([["a", "b"]], 254).blob)) },
        { name: "hash listpack whose count says unknown (65535)", payload: typed(16, rdbStr(listpack(["f", "v"], 0xffff))) },
        { name: "list listpack with repeated elements", payload: typed(18, rdbLen(1), rdbLen(2), rdbStr(listpack(["a", "a", 1, 1]))) },
        { name: "hash listpack with a 5000-byte value (32-bit string length)", payload: typed(16, rdbStr(listpack(["f", "v".repeat(5000)]))), may: "longValues" },
        { name: "zset listpack with a 100-byte member", payload: typed(17, rdbStr(listpack(["m".repeat(100), 1]))), may: "longValues" },
        { name: "hash ziplist with a 300-byte value", payload: typed(13, rdbStr(ziplist(["f", "v".repeat(300)]))), may: "longValues" },
      ];
    },
    async listpacks(): Promise<Case[]> {
      return (await bases()).listpacks.filter((x) => !x.stream).flatMap((x) => damaged(x, listpackDamage(x)));
    },
    async streams(): Promise<Case[]> {
      const st = (await bases()).listpacks.find((x) => x.stream)!;
      const lens = (...v: number[]) => Buffer.concat(v.map(rdbLen));
      // After the listpacks: length, last ID, first ID, max deleted ID, entries added, groups.
      const meta = (length: number) => lens(length, 2, 0, 1, 1, 0, 0, 3, 0);
      return [
        ...damaged(st, listpackDamage(st)),
        ...[2, 4, 0].map((n): Case => ({ name: `stream: its length ${n} (is 3)`, payload: payload(st.head, rdbStr(st.blob), meta(n)), may: "stream" })),
        { name: "stream: a node key of 15 bytes", payload: typed(19, rdbLen(1), rdbStr(Buffer.alloc(15)), rdbStr(st.blob), meta(3)) },
        { name: "stream: no node, length 3", payload: typed(19, rdbLen(0), meta(3)) },
        { name: "stream: no node, length 0 (an empty stream)", payload: typed(19, rdbLen(0), lens(0, 2, 0, 0, 0, 0, 0, 3, 0)) },
        { name: "stream: a node whose listpack is empty", payload: payload(st.head, rdbStr(listpack([])), lens(0, 2, 0, 0, 0, 0, 0, 3, 0)), may: "stream" },
        { name: "stream: two nodes with the same key", payload: typed(19, rdbLen(2), st.head.subarray(2), rdbStr(st.blob), st.head.subarray(2), rdbStr(st.blob), meta(6)), may: "stream" },
      ];
    },
    async ziplists(): Promise<Case[]> {
      return (await bases()).ziplists.flatMap((x) => damaged(x, ziplistDamage(x)));
    },
    async intsets(): Promise<Case[]> {
      return [...(await bases()).intsets.flatMap((x) => damaged(x, intsetDamage(x))), { name: "intset: empty (count 0)", payload: typed(11, rdbStr(intset(2, []))) }];
    },
    async zipmaps(): Promise<Case[]> {
      const zm = (await bases()).zipmap;
      return [...damaged(zm, zipmapDamage(zm)), { name: "zipmap: empty", payload: typed(9, rdbStr(Buffer.from([0, 0xff]))) }];
    },
    /** Pairs: a field or member twice, odd counts; NaN scores; repeats where they are fine. */
    async pairs(): Promise<Case[]> {
      // A listpack whose second field is the string "5" where the first is the integer 5.
      const intAndString = Buffer.concat([listpack([5, "1"]).subarray(0, -1), lpEncode("5"), lpBacklen(2), lpEncode("2"), lpBacklen(2), Buffer.from([0xff])]);
      intAndString.writeUInt32LE(intAndString.length, 0);
      intAndString.writeUInt16LE(4, 4);
      return [
        { name: "hash listpack: a field twice", payload: typed(16, rdbStr(listpack(["f", "1", "f", "2"]))) },
        { name: "hash listpack: a field twice, as an integer and as a string", payload: typed(16, rdbStr(intAndString)) },
        { name: "hash listpack: an odd number of entries", payload: typed(16, rdbStr(listpack(["f", "1", "g"]))) },
        { name: "hash listpack: a value equal to a field (fine)", payload: typed(16, rdbStr(listpack(["f", "g", "g", "f"]))) },
        { name: "zset listpack: a member twice", payload: typed(17, rdbStr(listpack(["a", 1, "a", 2]))) },
        { name: "zset listpack: an odd number of entries", payload: typed(17, rdbStr(listpack(["a", 1, "b"]))) },
        { name: "zset listpack: members out of order", payload: typed(17, rdbStr(listpack(["b", 2, "a", 1]))) },
        { name: "hash ziplist: a field twice", payload: typed(13, rdbStr(ziplist(["f", "1", "f", "2"]))) },
        { name: "hash ziplist: a field twice, as an integer and as a string", payload: typed(13, rdbStr(ziplist([7, "1", "7", "2"]))) },
        { name: "hash ziplist: an odd number of entries", payload: typed(13, rdbStr(ziplist(["f", "1", "g"]))) },
        { name: "zset ziplist: a member twice", payload: typed(12, rdbStr(ziplist(["a", 1, "a", 2]))) },
        { name: "zset ziplist: an odd number of entries", payload: typed(12, rdbStr(ziplist(["a", 1, "b"]))) },
        { name: "zipmap: a field twice", payload: typed(9, rdbStr(zipmap([["f", "1"], ["f", "2"]]).blob)) },
        { name: "intset: a member twice", payload: typed(11, rdbStr(intset(2, [1, 1]))) },
        { name: "hash: a field twice", payload: typed(4, rdbLen(2), rdbStr("f"), rdbStr("1"), rdbStr("f"), rdbStr("2")) },
        { name: "hash of 601 fields (a hashtable from the start): a field twice", payload: typed(4, rdbLen(601), ...Array.from({ length: 600 }, (_, i) => [rdbStr(`f${i}`), rdbStr("v")]).flat(), rdbStr("f0"), rdbStr("x")) },
        { name: "hash: a field twice after a long value (a hashtable midway)", payload: typed(4, rdbLen(3), rdbStr("f"), rdbStr("1"), rdbStr("g"), rdbStr("v".repeat(100)), rdbStr("f"), rdbStr("2")) },
        { name: "set: an integer member twice (an intset)", payload: typed(2, strings(["1", "2", "1"])) },
        { name: "set: a string member twice", payload: typed(2, strings(["a", "b", "a"])) },
        { name: "set of 601 members (a hashtable from the start): a member twice", payload: typed(2, strings([...Array.from({ length: 600 }, (_, i) => String(i)), "5"])) },
        { name: "zset (binary scores): a member twice", payload: typed(5, rdbLen(2), rdbStr("a"), double(1), rdbStr("a"), double(2)) },
        { name: "zset (text scores): a member twice", payload: typed(3, rdbLen(2), rdbStr("a"), Buffer.from([1, 0x31]), rdbStr("a"), Buffer.from([1, 0x32])) },
        { name: "zset (binary scores): a NaN score", payload: typed(5, rdbLen(1), rdbStr("a"), double(NaN)) },
        { name: "zset (text scores): a NaN score", payload: typed(3, rdbLen(1), rdbStr("a"), Buffer.from([253])) },
        { name: "list: an element twice (fine)", payload: typed(1, strings(["a", "a"])) },
        { name: "list ziplist: an element twice (fine)", payload: typed(10, rdbStr(ziplist(["a", "a"]))) },
      ];
    },
    /** Quicklists of both types: node containers and counts, empty and plain nodes. */
    async quicklists(): Promise<Case[]> {
      const two = listpack(["a", "b"]), none = listpack([]);
      const emptyZl = ziplist([]), emptyZlTail5 = Buffer.from(emptyZl);
      emptyZlTail5.writeUInt32LE(5, 4);
      return [
        ...[0, 3, 63].map((k): Case => ({ name: `quicklist: a node of container ${k}`, payload: typed(18, rdbLen(1), rdbLen(k), rdbStr(two)) })),
        { name: "quicklist: no node", payload: typed(18, rdbLen(0)) },
        { name: "quicklist: an empty listpack node, then a node", payload: typed(18, rdbLen(2), rdbLen(2), rdbStr(none), rdbLen(2), rdbStr(two)) },
        { name: "quicklist: only an empty listpack node", payload: typed(18, rdbLen(1), rdbLen(2), rdbStr(none)) },
        { name: "quicklist: a plain node, then a listpack node", payload: typed(18, rdbLen(2), rdbLen(1), rdbStr("plain value"), rdbLen(2), rdbStr(two)) },
        { name: "quicklist: an empty plain node", payload: typed(18, rdbLen(1), rdbLen(1), rdbStr("")) },
        { name: "quicklist: an empty string as a listpack node", payload: typed(18, rdbLen(1), rdbLen(2), rdbStr("")) },
        { name: "quicklist: 2 nodes said, 1 there", payload: typed(18, rdbLen(2), rdbLen(2), rdbStr(two)) },
        { name: "quicklist of ziplists: an empty node, then a node", payload: typed(14, rdbLen(2), rdbStr(emptyZl), rdbStr(ziplist(["a", 1]))) },
        { name: "quicklist of ziplists: only an empty node", payload: typed(14, rdbLen(1), rdbStr(emptyZl)) },
        { name: "quicklist of ziplists: an empty node whose tail offset is 5, then a node", payload: typed(14, rdbLen(2), rdbStr(emptyZlTail5), rdbStr(ziplist(["a", 1]))), may: "emptyZiplistTail" },
        { name: "list ziplist: empty", payload: typed(10, rdbStr(emptyZl)) },
        { name: "hash ziplist: empty, its tail offset 5", payload: typed(13, rdbStr(emptyZlTail5)) },
      ];
    },
    /** The payload around the value: every type byte, the body cut anywhere (the footer kept),
     *  bytes after the value, a value longer than the payload. */
    async frame(): Promise<Case[]> {
      const b = await bases();
      const hash = b.listpacks[0], hashPayload = Buffer.from(wrap(hash, hash.blob), "latin1");
      const cases: Case[] = [];
      for (let type = 0; type < 256; type++) {
        const x = Buffer.from(hashPayload);
        x[0] = type;
        // As 17 (a sorted set listpack), its values are scores that strtod reads and Number() does not.
        cases.push({ name: `a hash listpack's payload with type byte ${type}`, payload: x.latin1Slice(), may: type === 20 || type === 21 ? "newerTypes" : type === 17 ? "scoreText" : undefined });
      }
      for (const x of [hash, b.intsets[0], b.ziplists[1]]) {
        const body = Buffer.from(wrap(x, x.blob), "latin1").subarray(0, -FOOTER.length);
        for (let k = 0; k < body.length; k++) cases.push({ name: `${x.name}: the payload cut to ${k} bytes before the footer`, payload: payload(body.subarray(0, k)), may: "frame" });
      }
      return [...cases,
        { name: "a string followed by 3 more bytes", payload: typed(0, rdbStr("abc"), Buffer.from("xyz")), may: "frame" },
        { name: "a hash listpack followed by a byte", payload: payload(hash.head, rdbStr(hash.blob), Buffer.from([0])), may: "frame" },
        { name: "a set of 2 members followed by a third", payload: typed(2, rdbLen(2), rdbStr("a"), rdbStr("b"), rdbStr("c")), may: "frame" },
        { name: "a quicklist of 1 node followed by another", payload: typed(18, rdbLen(1), rdbLen(2), rdbStr(listpack(["a"])), rdbLen(2), rdbStr(listpack(["b"]))), may: "frame" },
        { name: "a 15-byte string with 10 bytes before the footer", payload: typed(0, rdbLen(15), Buffer.from("0123456789")), may: "frame" },
        { name: "a 20-byte string with 10 bytes before the footer", payload: typed(0, rdbLen(20), Buffer.from("0123456789")), may: "frame" },
        { name: "a 21-byte string with 10 bytes before the footer", payload: typed(0, rdbLen(21), Buffer.from("0123456789")) },
        { name: "a set of 4 members with 3 before the footer", payload: typed(2, rdbLen(4), rdbStr("a"), rdbStr("b"), rdbStr("c")) },
        { name: "a set listpack (Redis 7.2's type 20)", payload: typed(20, rdbStr(listpack(["a", "b"]))), may: "newerTypes" },
      ];
    },
    async scores(): Promise<Case[]> {
      return ["2", "-3.5", "", " 1", "1 ", ".5", "-inf", "1e400", "0x10", "+5", "5.", "inf", "Infinity", "abc", "1.5abc", "nan", "-nan", "infinity", "1e", "1,5", "0b11"].flatMap(scoreCases);
    },
    async random(): Promise<Case[]> {
      const b = await bases();
      return [...b.listpacks, ...b.intsets, ...b.ziplists, b.zipmap].flatMap((x, i) => damaged(x, randomDamage(x, 150, 1000 + i)));
    },
  };

  // ---- The tests.

  test.skipIf(noRedis)("valid payloads (redis-server's DUMPs, hand-made ziplists, zipmaps and intsets) restore identically: value, encoding, TTL", async () => {
    const { s, r } = await corruptServers();
    const cases = await CASES.valid();
    const { unexplained, accepted } = await differential(cases);
    expect(unexplained).toEqual([]);
    expect(accepted).toBe(cases.length);
    // And the whole dataset as the harness reads it (streams with their groups), restored with TTLs.
    const keep = cases.filter((c) => !c.may);
    for (const x of [s, r]) {
      await x.c.cmd("FLUSHALL");
      expect(await pipe(x.c, keep.map((c, i) => ["RESTORE", `valid:${i}`, 100000 + i, c.payload]))).toEqual(keep.map(() => "OK"));
    }
    expect(diffDatasets(await readDataset(r.c, 1), await readDataset(s.c, 1))).toEqual([]);
  });

  test.skipIf(noRedis)("listpacks of hashes, sorted sets and lists: each header field, each entry's encoding, length, data and back-length, the end marker, cuts at every byte", async () => {
    const cases = await CASES.listpacks();
    const { unexplained, refused, accepted } = await differential(cases);
    expect(unexplained).toEqual([]);
    expect({ enough: cases.length > 900, mostlyRefused: refused > cases.length / 2, someAccepted: accepted > 20 }).toEqual({ enough: true, mostlyRefused: true, someAccepted: true });
  });

  test.skipIf(noRedis)("stream listpacks: the same damage, and damage to the stream's own fields (node key, node count, length)", async () => {
    const { unexplained, refused } = await differential(await CASES.streams());
    expect(unexplained).toEqual([]);
    expect(refused).toBeGreaterThan(100);
  });

  test.skipIf(noRedis)("ziplists of lists, hashes, sorted sets and quicklist nodes: each header field, each entry's prevlen, encoding, length and data, the end marker, cuts at every byte", async () => {
    const cases = await CASES.ziplists();
    const { unexplained, refused, accepted } = await differential(cases);
    expect(unexplained).toEqual([]);
    expect({ enough: cases.length > 1000, mostlyRefused: refused > cases.length / 2, someAccepted: accepted > 20 }).toEqual({ enough: true, mostlyRefused: true, someAccepted: true });
  });

  test.skipIf(noRedis)("intsets of 16, 32 and 64-bit members: width, count and size, members unsorted or repeated, cuts, flipped bits", async () => {
    const { unexplained, refused, accepted } = await differential(await CASES.intsets());
    expect(unexplained).toEqual([]);
    expect({ someRefused: refused > 50, someAccepted: accepted > 20 }).toEqual({ someRefused: true, someAccepted: true });
  });

  test.skipIf(noRedis)("zipmaps: the count byte, each length (of 1 and 5 bytes) and free-bytes count, the end marker, cuts", async () => {
    const cases = await CASES.zipmaps();
    const { unexplained, refused } = await differential(cases);
    expect(unexplained).toEqual([]);
    expect(refused).toBeGreaterThan(cases.length / 2);
  });

  test.skipIf(noRedis)("a field or member twice and odd pair counts, in every encoding that holds pairs; NaN scores; repeats in lists are fine", async () => {
    expect((await differential(await CASES.pairs())).unexplained).toEqual([]);
  });

  test.skipIf(noRedis)("quicklists of listpacks and of ziplists: node containers and counts, empty, plain and empty-string nodes", async () => {
    expect((await differential(await CASES.quicklists())).unexplained).toEqual([]);
  });

  test.skipIf(noRedis)("the payload around the value: every type byte, the body cut anywhere, bytes after the value, a value longer than the payload", async () => {
    expect((await differential(await CASES.frame())).unexplained).toEqual([]);
  });

  test.skipIf(noRedis)("sorted set scores written as text in listpacks and ziplists", async () => {
    expect((await differential(await CASES.scores())).unexplained).toEqual([]);
  });

  test.skipIf(noRedis)("1 to 3 bytes set at random (seeded) in every kind of blob, 150 cases each", async () => {
    const { unexplained, refused, accepted } = await differential(await CASES.random());
    expect(unexplained).toEqual([]);
    expect({ someRefused: refused > 500, someAccepted: accepted > 200 }).toEqual({ someRefused: true, someAccepted: true });
  });

  test.skipIf(noRedis)("a refused RESTORE ... REPLACE leaves the old value and its TTL", async () => {
    const { s, r } = await corruptServers();
    const hash = (await bases()).listpacks[0], bad = Buffer.from(hash.blob);
    bad[bad.length - 1] = 0;
    const got = await Promise.all([s, r].map(async (x) => [
      await x.c.raw("SET", "k", "old"), await x.c.raw("EXPIRE", "k", 100),
      await x.c.raw("RESTORE", "k", 0, wrap(hash, bad), "REPLACE"),
      await x.c.raw("GET", "k"), Number(await x.c.cmd("TTL", "k")) > 90,
      await x.c.raw("RESTORE", "k", 0, wrap(hash, hash.blob), "REPLACE"), await x.c.raw("TYPE", "k"), await x.c.raw("TTL", "k"),
    ]));
    expect(got[0]).toEqual(got[1]);
    expect(got[0]).toEqual([OK, int(1), "-ERR Bad data format\r\n", bulk("old"), true, OK, "+hash\r\n", int(-1)]);
  });

  test.skipIf(noRedis)("a bad CRC is refused unless DEBUG SET-SKIP-CHECKSUM-VALIDATION 1; a newer RDB version always", async () => {
    const { s, r } = await corruptServers();
    const good = dumpPayload(Buffer.from([0, 3, 97, 98, 99]));
    const badCrc = typed(0, rdbStr("abc"));
    const v11 = Buffer.concat([Buffer.from([0]), rdbStr("abc"), Buffer.from([11, 0]), Buffer.from("not crc!")]).latin1Slice();
    const got = await Promise.all([s, r].map(async (x) => {
      try {
        return await pipe(x.c, [
          ["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", 0], ["RESTORE", "a", 0, badCrc], ["RESTORE", "b", 0, good], ["RESTORE", "c", 0, v11],
          ["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", 1], ["RESTORE", "d", 0, badCrc], ["RESTORE", "e", 0, v11], ["MGET", "a", "b", "c", "d", "e"], ["DEL", "b", "d"],
        ]);
      } finally { await x.c.cmd("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", 1); }
    }));
    expect(got[0]).toEqual(got[1]);
    const wrong = new ReplyError("ERR DUMP payload version or checksum are wrong");
    expect(got[0]).toEqual(["OK", wrong, "OK", wrong, "OK", "OK", wrong, [null, "abc", null, "abc", null], 2]);
  });

  /** Each server's reason for refusing `p`, as the line it logs at verbose level says it (the part
   *  after "Internal error in RDB reading offset ... -> "). */
  async function loggedReasons(p: string): Promise<string[]> {
    const { s, r } = await corruptServers();
    return Promise.all([s, r].map(async (x) => {
      const lines = () => x.log().split("\n").filter((l) => l.includes("Internal error in RDB reading"));
      const before = lines().length;
      expect(await x.c.raw("RESTORE", "logged", 0, p)).toBe("-ERR Bad data format\r\n");
      await waitFor("the log line", () => lines().length > before, 5000);
      return lines()[before].replace(/^.* -> /, "").trim();
    }));
  }

  test.skipIf(noRedis)("at verbose level, Redbun logs why it refused a payload ('... integrity check failed.'), in redis-server's words", async () => {
    const b = await bases();
    const [hashLp, zsetLp, , streamLp] = b.listpacks;
    const refused: [string, string][] = [
      [wrap(hashLp, Buffer.concat([hashLp.blob, Buffer.from([0])])), "Hash listpack integrity check failed."],
      [wrap(zsetLp, zsetLp.blob.subarray(0, -1)), "Zset listpack integrity check failed."],
      [typed(18, rdbLen(1), rdbLen(2), rdbStr(listpack(["a"], 2))), "Listpack integrity check failed."],
      [wrap(streamLp, Buffer.concat([streamLp.blob.subarray(0, -1), Buffer.from([0])])), "Stream listpack integrity check failed."],
      [typed(14, rdbLen(1), rdbStr(ziplist(["a"]).subarray(0, -1))), "Ziplist integrity check failed."],
      [typed(10, rdbStr(Buffer.concat([ziplist(["a"]), Buffer.from([0])]))), "List ziplist integrity check failed."],
      [typed(13, rdbStr(ziplist(["f", "1", "f", "2"]))), "Hash ziplist integrity check failed."],
      [typed(12, rdbStr(ziplist(["a", 1, "b"]))), "Zset ziplist integrity check failed."],
      [typed(11, rdbStr(intset(2, [2, 1]))), "Intset integrity check failed."],
      [typed(9, rdbStr(Buffer.from([0, 0xff]))), "Zipmap integrity check failed."],
      [typed(18, rdbLen(1), rdbLen(3), rdbStr(listpack(["a"]))), "Quicklist integrity check failed."],
      [typed(2, strings(["a", "a"])), "Duplicate set members detected"],
      [typed(5, rdbLen(2), rdbStr("a"), double(0), rdbStr("a"), double(0)), "Duplicate zset fields detected"],
      [typed(3, rdbLen(1), rdbStr("a"), Buffer.from([253])), "Zset with NAN score detected"],
      [typed(4, rdbLen(601), ...Array.from({ length: 600 }, (_, i) => [rdbStr(`f${i}`), rdbStr("v")]).flat(), rdbStr("f0"), rdbStr("v")), "Duplicate hash fields detected"],
    ];
    const got: string[] = [];
    for (const [p, reason] of refused) got.push(`${(await loggedReasons(p)).join(" | ")} (expected ${reason})`);
    expect(got).toEqual(refused.map(([, reason]) => `${reason} | ${reason} (expected ${reason})`));
    expect((await corruptServers()).s.log()).toMatch(/Internal error in RDB reading offset \d+ -> Hash listpack integrity check failed\./);
  });

  test("at the default log level, Redbun logs nothing for a refused payload", async () => {
    const s = await startRedbun(dir("corrupt-notice"));
    await using([s], async () => {
      expect(await s.c.raw("RESTORE", "k", 0, dumpPayload(Buffer.concat([Buffer.from([11]), rdbStr(intset(2, [2, 1]))])))).toBe("-ERR Bad data format\r\n");
      expect(await s.c.raw("PING")).toBe("+PONG\r\n");
      expect(s.log()).not.toContain("Internal error in RDB reading");
    });
  });

  /** The cases that still differ for this reason (none, for the reasons fixed since). */
  async function stillDiffering(name: DifferenceName): Promise<string[]> {
    const cases = (await Promise.all(Object.values(CASES).map((f) => f()))).flat();
    const { s, r } = await corruptServers();
    const [ours, theirs] = await Promise.all([outcomes(s, cases), outcomes(r, cases)]);
    return cases.flatMap((c, i) => (!same(ours[i], theirs[i]) && DIFFERENCES[name](c, ours[i], theirs[i]) ? [report(c, ours[i], theirs[i])] : []));
  }

  test("a listpack back-length byte with its continuation bit flipped is refused, as Redis decodes it", async () => {
    expect(await stillDiffering("backlenBit")).toEqual([]);
  });
  test("a listpack entry of exactly 16383 or 2097151 bytes, whose back-length Redis writes in 3 (4) bytes: redis-server's own DUMP of such a list restores", async () => {
    expect(await stillDiffering("backlenSize")).toEqual([]);
  });

  test("logged reasons: a field twice in a hash of up to 512 fields is 'Hash with dup elements', in a zipmap 'Hash zipmap with dup elements, or big length (n)', a zipmap length past its end 'Zipmap integrity check failed.', as Redis logs them", async () => {
    const pastTheEnd = zipmap([["f", "v"]]).blob;
    pastTheEnd[pastTheEnd.length - 1] = 0; // a length byte read where the end marker was, then 4 bytes beyond
    const got = [
      await loggedReasons(typed(4, rdbLen(2), rdbStr("f"), rdbStr("1"), rdbStr("f"), rdbStr("2"))),
      await loggedReasons(typed(9, rdbStr(zipmap([["f", "1"], ["f", "2"]]).blob))),
      await loggedReasons(typed(9, rdbStr(pastTheEnd))),
    ];
    expect(got.filter(([ours, theirs]) => ours !== theirs)).toEqual([]);
  });

  // ---- Where Redbun differs from redis-server 7.0.15 (run them with `bun test --todo`). Each one
  // runs every case above and fails on those that still differ for that reason, listing them with
  // both outcomes and the payload's bytes.

  test.todo("DIFFERS FROM REDIS: a sorted set listpack out of order is sorted (Redis keeps the payload's order, and ZRANGE shows it)", async () => {
    expect(await stillDiffering("zsetOrder")).toEqual([]);
  });
  test.todo("DIFFERS FROM REDIS: a listpack/ziplist score as text: hex ('0x10') reads 0 and 'nan' is refused (Redis's strtod reads 16 and keeps NaN); out-of-order pairs are sorted (see above)", async () => {
    expect(await stillDiffering("scoreText")).toEqual([]);
  });
  test.todo("DIFFERS FROM REDIS: a zipmap's count byte is not checked, and bytes after its end marker are refused", async () => {
    expect(await stillDiffering("zipmapCount")).toEqual([]);
  });
  test.todo("DIFFERS FROM REDIS: a stream listpack is read without Redis's stream checks, with a check of its element count Redis does not make, and the stream's length must match its entries", async () => {
    expect(await stillDiffering("stream")).toEqual([]);
  });
  test.todo("DIFFERS FROM REDIS: bytes after the value are refused (Redis ignores them), and a value that runs into the RDB version and CRC is refused (Redis reads them as data)", async () => {
    expect(await stillDiffering("frame")).toEqual([]);
  });
  test.todo("DIFFERS FROM REDIS: Redis 7.2's types 20 (set listpack) and 21 (stream listpacks 3) are loaded, where redis-server 7.0 answers Bad data format", async () => {
    expect(await stillDiffering("newerTypes")).toEqual([]);
  });
  test.todo("DIFFERS FROM REDIS: an empty ziplist node whose tail offset is not 10 is refused (Redis checks it only against the size when there is no entry)", async () => {
    expect(await stillDiffering("emptyZiplistTail")).toEqual([]);
  });
  test.todo("DIFFERS FROM REDIS: a listpack/ziplist hash or sorted set with a value over 64 bytes becomes a hashtable/skiplist (Redis 7.0 converts by entry count only)", async () => {
    expect(await stillDiffering("longValues")).toEqual([]);
  });
  // Redis logs 'Hash with dup elements' and 'Hash zipmap with dup elements, or big length (1)' for
  // the first two, and 'Zipmap integrity check failed.' for the third.
});
