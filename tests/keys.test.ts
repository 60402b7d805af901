// main.ts, Keyspace and Keys: lazy and active expiry, SCAN, INFO keyspace and the key commands; one
// describe per command, plus the expiry machinery. The differential suite already compares plain
// scripts with a real Redis; these tests steer the server's clock (advanceClock), change the
// keyspace in the middle of a SCAN, and watch the active expiry cycle work on untouched keys; and,
// at the end, SORT and SORT_RO against a JS model at scale and as other clients see them.
import { describe, test, expect } from "bun:test";
import { connect, advanceClock, pipeline, sharedServer, keyspaceEvents, keyspaceEvent, asAclUser, NOPERM_KEYS, spawnServer, tapReplication } from "./helpers.ts";
import { RawClient, decode } from "./client.ts";

const SEC = 1000;

/** A deterministic PRNG (mulberry32), so the "random" churn during SCAN is the same on every run. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The server's clock now, in ms (it runs ahead of Date.now() by what advanceClock added). */
async function serverNow(c: RawClient): Promise<number> {
  await c.raw("SET", "__clock", "x", "PX", "1000000");
  const when = Number(await c.cmd("PEXPIRETIME", "__clock"));
  await c.raw("DEL", "__clock");
  return when - 1000000;
}

/** INFO stats' expired_keys. */
async function expiredKeys(c: RawClient): Promise<number> {
  const text = (await c.cmd("INFO", "stats")) as string;
  return Number(/^expired_keys:(\d+)\r$/m.exec(text)![1]);
}

/** INFO keyspace's line for one database, as { keys, expires, avg_ttl }; null when not listed. */
async function keyspaceLine(c: RawClient, db: number): Promise<{ keys: number; expires: number; avgTtl: number } | null> {
  const text = (await c.cmd("INFO", "keyspace")) as string;
  const m = new RegExp(`^db${db}:keys=(\\d+),expires=(\\d+),avg_ttl=(\\d+)\r$`, "m").exec(text);
  return m ? { keys: Number(m[1]), expires: Number(m[2]), avgTtl: Number(m[3]) } : null;
}

/** Runs fn with the active expiry cycle off, so only lazy expiry (on access) deletes keys. */
async function withoutActiveExpire(c: RawClient, fn: () => Promise<void>): Promise<void> {
  expect(await c.raw("DEBUG", "SET-ACTIVE-EXPIRE", "0")).toBe("+OK\r\n");
  try { await fn(); } finally { await c.raw("DEBUG", "SET-ACTIVE-EXPIRE", "1"); }
}

/** Creates n keys prefix:0 .. prefix:n-1 in one pipeline, each with `PX px` when given. */
async function populate(c: RawClient, prefix: string, n: number, px?: number): Promise<void> {
  let frame = "";
  for (let i = 0; i < n; i++) {
    const args = ["SET", `${prefix}:${i}`, "v", ...(px === undefined ? [] : ["PX", String(px)])];
    frame += `*${args.length}\r\n` + args.map((a) => `$${a.length}\r\n${a}\r\n`).join("");
  }
  c.write(frame);
  for (let i = 0; i < n; i++) expect(await c.readRaw()).toBe("+OK\r\n");
}

/** Polls `probe` until it returns `want` or the deadline passes; returns the last value. */
async function eventually<T>(probe: () => Promise<T>, want: T, ms = 1500): Promise<T> {
  const until = Date.now() + ms;
  let got = await probe();
  while (got !== want && Date.now() < until) { await Bun.sleep(20); got = await probe(); }
  return got;
}

/** One SCAN call: [next cursor, keys]. */
async function scan(c: RawClient, cursor: string, ...opts: string[]): Promise<[string, string[]]> {
  const [next, keys] = (await c.cmd("SCAN", cursor, ...opts)) as [string, string[]];
  return [next, keys];
}

/** A whole SCAN iteration: every key returned (with repeats) and the number of calls. */
async function scanAll(c: RawClient, ...opts: string[]): Promise<{ keys: string[]; calls: number }> {
  let cursor = "0", calls = 0;
  const keys: string[] = [];
  do {
    const [next, batch] = await scan(c, cursor, ...opts);
    keys.push(...batch);
    cursor = next;
    calls++;
  } while (cursor !== "0" && calls < 100000);
  return { keys, calls };
}

const INT_RANGE_ERR = "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n";

describe("active expiry", () => {
  test("keys past their TTL vanish without being touched, and are counted in expired_keys", async () => {
    const c = await connect();
    await populate(c, "short", 500, 1000);
    await populate(c, "long", 10);
    const expired = await expiredKeys(c);
    advanceClock(2 * SEC);
    // DBSIZE reads no key, so only the cron's cycle can bring it down.
    expect(await eventually(() => c.raw("DBSIZE"), ":10\r\n")).toBe(":10\r\n");
    expect(await expiredKeys(c)).toBe(expired + 500);
    expect(await keyspaceLine(c, 0)).toEqual({ keys: 10, expires: 0, avgTtl: expect.any(Number) });
    c.close();
  });

  test("DEBUG SET-ACTIVE-EXPIRE 0 stops the cycle and 1 starts it again", async () => {
    const c = await connect();
    await populate(c, "short", 200, 1000);
    await populate(c, "long", 10);
    expect(await c.raw("DEBUG", "SET-ACTIVE-EXPIRE", "0")).toBe("+OK\r\n");
    try {
      const expired = await expiredKeys(c);
      advanceClock(2 * SEC);
      await Bun.sleep(300); // three cron periods at hz 10
      expect(await c.raw("DBSIZE")).toBe(":210\r\n");
      expect(await expiredKeys(c)).toBe(expired);
    } finally {
      expect(await c.raw("DEBUG", "SET-ACTIVE-EXPIRE", "1")).toBe("+OK\r\n");
    }
    expect(await eventually(() => c.raw("DBSIZE"), ":10\r\n")).toBe(":10\r\n");
    c.close();
  });

  test("keys whose TTL has not passed are left alone", async () => {
    const c = await connect();
    await populate(c, "later", 100, 60 * SEC);
    advanceClock(30 * SEC);
    await Bun.sleep(300);
    expect(await c.raw("DBSIZE")).toBe(":100\r\n");
    c.close();
  });

  test("the cycle visits every database", async () => {
    const c = await connect();
    await populate(c, "a", 50, 1000);
    await c.raw("SELECT", "5");
    await populate(c, "b", 50, 1000);
    await c.raw("SET", "stay", "v");
    advanceClock(2 * SEC);
    expect(await eventually(() => c.raw("DBSIZE"), ":1\r\n")).toBe(":1\r\n");
    await c.raw("SELECT", "0");
    expect(await eventually(() => c.raw("DBSIZE"), ":0\r\n")).toBe(":0\r\n");
    c.close();
  });
});

describe("lazy expiry", () => {
  test("a key past its TTL stays counted until it is accessed, then is gone and counted as expired", async () => {
    const c = await connect();
    await withoutActiveExpire(c, async () => {
      await c.raw("SET", "k", "v", "PX", "1000");
      await c.raw("SET", "keep", "v");
      advanceClock(2 * SEC);
      const expired = await expiredKeys(c);
      expect(await c.raw("DBSIZE")).toBe(":2\r\n");
      expect(await c.raw("EXISTS", "k")).toBe(":0\r\n");
      expect(await c.raw("DBSIZE")).toBe(":1\r\n");
      expect(await expiredKeys(c)).toBe(expired + 1);
    });
    c.close();
  });
});

describe("INFO keyspace", () => {
  test("an empty server has a header and nothing else", async () => {
    const c = await connect();
    expect(await c.raw("INFO", "keyspace")).toBe("$12\r\n# Keyspace\r\n\r\n");
    c.close();
  });

  test("lists each non-empty database with its keys and expires, in order", async () => {
    const c = await connect();
    await c.raw("SELECT", "3");
    await c.raw("MSET", "a", "1", "b", "2");
    await c.raw("SELECT", "0");
    await c.raw("MSET", "a", "1", "b", "2", "c", "3");
    await c.raw("EXPIRE", "a", "100");
    const text = (await c.cmd("INFO", "keyspace")) as string;
    expect(text).toMatch(/^# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=\d+\r\ndb3:keys=2,expires=0,avg_ttl=0\r\n$/);
    c.close();
  });

  test("avg_ttl estimates the remaining TTL once the cycle has sampled the keys", async () => {
    const c = await connect();
    await populate(c, "t", 10, 100 * SEC);
    await Bun.sleep(250);
    const line = await keyspaceLine(c, 0);
    expect(line!.avgTtl).toBeGreaterThan(90 * SEC);
    expect(line!.avgTtl).toBeLessThanOrEqual(100 * SEC);
    c.close();
  });

  test("avg_ttl goes back to 0 once no key has a TTL", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v", "EX", "1000");
    await Bun.sleep(250);
    expect((await keyspaceLine(c, 0))!.avgTtl).toBeGreaterThan(0);
    expect(await c.raw("PERSIST", "k")).toBe(":1\r\n");
    await Bun.sleep(250);
    expect(await c.raw("INFO", "keyspace")).toBe("$44\r\n# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n\r\n");
    c.close();
  });
});

describe("DEL", () => {
  test("keys set and deleted at random stay findable while the keyspace grows, shrinks and grows again", async () => {
    const c = await connect();
    await c.raw("SELECT", "5");
    // 10000 keys: their slots span three of the Dict's 4096-entry pages.
    const pool = Array.from({ length: 10000 }, (_, i) => `churn:${(i * 7919) % 10007}`);
    const model = new Map<string, string>();
    let seed = 11;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (const phase of [0.9, 0.05, 0.7, 0.01, 0.6]) {
      const cmds: string[][] = [];
      for (let k = 0; k < 20000; k++) {
        const key = pool[Math.floor(rand() * pool.length)];
        if (rand() < phase) { const v = String(k); cmds.push(["SET", key, v]); model.set(key, v); } else { cmds.push(["DEL", key]); model.delete(key); }
      }
      await pipeline(c, cmds);
      const got = await pipeline(c, pool.map((k) => ["GET", k]));
      const wrong = pool.filter((k, i) => got[i] !== (model.has(k) ? `$${model.get(k)!.length}\r\n${model.get(k)}\r\n` : "$-1\r\n"));
      expect(wrong).toEqual([]);
      expect(await c.raw("DBSIZE")).toBe(`:${model.size}\r\n`);
    }
    await c.raw("FLUSHDB");
    c.close();
  });

  test("counts only live keys, each once", async () => {
    const c = await connect();
    await c.raw("SET", "a", "1");
    await c.raw("SET", "b", "2", "PX", "1000");
    advanceClock(2 * SEC);
    expect(await c.raw("DEL", "a", "b", "c", "a")).toBe(":1\r\n");
    expect(await c.raw("DBSIZE")).toBe(":0\r\n");
    c.close();
  });

  test("takes the TTL with the key", async () => {
    const c = await connect();
    await c.raw("SET", "a", "v", "EX", "100");
    expect(await c.raw("DEL", "a")).toBe(":1\r\n");
    await c.raw("SET", "a", "w", "KEEPTTL");
    expect(await c.raw("TTL", "a")).toBe(":-1\r\n");
    c.close();
  });

  test("a key past its TTL is counted as expired, not as deleted", async () => {
    const c = await connect();
    await withoutActiveExpire(c, async () => {
      await c.raw("SET", "a", "v", "PX", "1000");
      advanceClock(2 * SEC);
      const expired = await expiredKeys(c);
      expect(await c.raw("DEL", "a")).toBe(":0\r\n");
      expect(await expiredKeys(c)).toBe(expired + 1);
    });
    c.close();
  });
});

describe("UNLINK", () => {
  test("removes keys like DEL and counts the live ones", async () => {
    const c = await connect();
    await c.raw("MSET", "a", "1", "b", "2");
    await c.raw("PEXPIRE", "b", "1000");
    advanceClock(2 * SEC);
    expect(await c.raw("UNLINK", "a", "b", "c")).toBe(":1\r\n");
    expect(await c.raw("DBSIZE")).toBe(":0\r\n");
    c.close();
  });
});

describe("EXISTS", () => {
  test("counts a key given twice twice, and keys past their TTL not at all", async () => {
    const c = await connect();
    await c.raw("SET", "a", "1");
    await c.raw("SET", "b", "2", "PX", "1000");
    expect(await c.raw("EXISTS", "a", "a", "b")).toBe(":3\r\n");
    advanceClock(2 * SEC);
    expect(await c.raw("EXISTS", "a", "a", "b")).toBe(":2\r\n");
    c.close();
  });
});

describe("TYPE", () => {
  test("is string for a string and none for a missing key or one past its TTL", async () => {
    const c = await connect();
    await c.raw("SET", "a", "1");
    await c.raw("SET", "b", "2", "PX", "1000");
    expect(await c.raw("TYPE", "b")).toBe("+string\r\n");
    advanceClock(2 * SEC);
    expect(await c.raw("TYPE", "a")).toBe("+string\r\n");
    expect(await c.raw("TYPE", "b")).toBe("+none\r\n");
    expect(await c.raw("TYPE", "c")).toBe("+none\r\n");
    c.close();
  });
});

describe("KEYS", () => {
  test("leaves out keys past their TTL without deleting them", async () => {
    const c = await connect();
    await withoutActiveExpire(c, async () => {
      await c.raw("SET", "a", "1");
      await c.raw("SET", "b", "2", "PX", "1000");
      advanceClock(2 * SEC);
      expect(await c.raw("KEYS", "*")).toBe("*1\r\n$1\r\na\r\n");
      expect(await c.raw("DBSIZE")).toBe(":2\r\n");
    });
    c.close();
  });

  test("matches binary keys byte for byte", async () => {
    const c = await connect();
    await c.raw("MSET", "a\0b", "1", "a\r\nb", "2", "a*b", "3");
    expect(await c.raw("KEYS", "a\0*")).toBe("*1\r\n$3\r\na\0b\r\n");
    expect(await c.raw("KEYS", "a\\*b")).toBe("*1\r\n$3\r\na*b\r\n");
    expect(await c.raw("KEYS", "a?\nb")).toBe("*1\r\n$4\r\na\r\nb\r\n");
    c.close();
  });
});

describe("SCAN", () => {
  test("returns every key that is present for the whole iteration, while others come and go", async () => {
    const c = await connect();
    const rand = prng(1234);
    const N = 1000;
    await populate(c, "orig", N);
    const deleted = new Set<string>();
    const everExisted = new Set<string>(Array.from({ length: N }, (_, i) => `orig:${i}`));
    const seen = new Set<string>();
    let cursor = "0", calls = 0, added = 0;
    do {
      const [next, batch] = await scan(c, cursor, "COUNT", "20");
      for (const k of batch) seen.add(k);
      cursor = next;
      calls++;
      // Between calls: delete 5 original keys and add 5 new ones.
      for (let i = 0; i < 5; i++) {
        const victim = `orig:${Math.floor(rand() * N)}`;
        await c.raw("DEL", victim);
        deleted.add(victim);
        const fresh = `new:${added++}`;
        await c.raw("SET", fresh, "v");
        everExisted.add(fresh);
      }
    } while (cursor !== "0" && calls < 10000);
    expect(calls).toBeLessThan(200);
    const missed = [...everExisted].filter((k) => k.startsWith("orig:") && !deleted.has(k) && !seen.has(k));
    expect(missed).toEqual([]);
    expect([...seen].filter((k) => !everExisted.has(k))).toEqual([]);
    c.close();
  });

  test("keys that expire in the middle of an iteration do not hide live keys", async () => {
    const c = await connect();
    await withoutActiveExpire(c, async () => {
      // Interleaved, so that dying keys sit in the part of the table not yet visited.
      for (let i = 0; i < 300; i++) {
        c.send("SET", `live:${i}`, "v");
        c.send("SET", `dying:${i}`, "v", "PX", String(5 * SEC));
      }
      for (let i = 0; i < 600; i++) expect(await c.readRaw()).toBe("+OK\r\n");
      const seen = new Set<string>();
      let cursor = "0", calls = 0;
      do {
        const [next, batch] = await scan(c, cursor, "COUNT", "10");
        for (const k of batch) seen.add(k);
        cursor = next;
        // Halfway through, every "dying" key passes its TTL: the scan itself deletes them.
        if (++calls === 30) advanceClock(6 * SEC);
        if (calls > 30) expect(batch.filter((k) => k.startsWith("dying:"))).toEqual([]);
      } while (cursor !== "0" && calls < 10000);
      for (let i = 0; i < 300; i++) expect(seen.has(`live:${i}`)).toBe(true);
      // The scan deleted the dying keys it passed after the clock moved (the others wait).
      const size = Number(await c.cmd("DBSIZE"));
      expect(size).toBeGreaterThanOrEqual(300);
      expect(size).toBeLessThanOrEqual(450);
    });
    c.close();
  });

  test("a full iteration over an unchanged database returns each key exactly once", async () => {
    const c = await connect();
    await populate(c, "k", 500);
    const { keys, calls } = await scanAll(c, "COUNT", "7");
    expect(keys.length).toBe(500);
    expect(new Set(keys).size).toBe(500);
    expect(calls).toBeGreaterThan(1);
    c.close();
  });

  test("COUNT bounds the work of each call", async () => {
    const c = await connect();
    await populate(c, "k", 100);
    const [cursor, batch] = await scan(c, "0", "COUNT", "5");
    expect(cursor).not.toBe("0");
    expect(batch.length).toBeGreaterThan(0);
    expect(batch.length).toBeLessThanOrEqual(10);
    c.close();
  });

  test("MATCH filters after COUNT: calls may return nothing, yet the iteration finds every match", async () => {
    const c = await connect();
    await populate(c, "noise", 300);
    await c.raw("MSET", "user:1", "a", "user:2", "b", "user:3", "c");
    const { keys, calls } = await scanAll(c, "MATCH", "user:*", "COUNT", "10");
    expect(keys.sort()).toEqual(["user:1", "user:2", "user:3"]);
    expect(calls).toBeGreaterThan(3);
    c.close();
  });

  test("TYPE filters by type name, case-insensitively", async () => {
    const c = await connect();
    await populate(c, "k", 20);
    expect((await scanAll(c, "TYPE", "string", "COUNT", "100")).keys.length).toBe(20);
    expect((await scanAll(c, "TYPE", "STRING", "COUNT", "100")).keys.length).toBe(20);
    expect((await scanAll(c, "TYPE", "hash", "COUNT", "100")).keys).toEqual([]);
    expect((await scanAll(c, "TYPE", "nosuchtype", "COUNT", "100")).keys).toEqual([]);
    c.close();
  });

  test("keys past their TTL are not returned, and are deleted as the scan passes them", async () => {
    const c = await connect();
    await withoutActiveExpire(c, async () => {
      await populate(c, "live", 10);
      await populate(c, "dead", 10, 1000);
      advanceClock(2 * SEC);
      const expired = await expiredKeys(c);
      const { keys } = await scanAll(c, "COUNT", "100");
      expect(keys.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `live:${i}`).sort());
      expect(await c.raw("DBSIZE")).toBe(":10\r\n");
      expect(await expiredKeys(c)).toBe(expired + 10);
    });
    c.close();
  });

  test("expired keys that MATCH filters out are left for later", async () => {
    const c = await connect();
    await withoutActiveExpire(c, async () => {
      await populate(c, "dead", 10, 1000);
      advanceClock(2 * SEC);
      expect((await scanAll(c, "MATCH", "nothing*", "COUNT", "100")).keys).toEqual([]);
      expect(await c.raw("DBSIZE")).toBe(":10\r\n");
    });
    c.close();
  });
});

describe("RANDOMKEY", () => {
  test("never returns a key past its TTL", async () => {
    const c = await connect();
    await withoutActiveExpire(c, async () => {
      await populate(c, "dead", 100, 1000);
      await c.raw("SET", "keep", "v");
      advanceClock(2 * SEC);
      const expired = await expiredKeys(c);
      for (let i = 0; i < 30; i++) expect(await c.raw("RANDOMKEY")).toBe("$4\r\nkeep\r\n");
      // The expired keys it drew on the way were deleted.
      const size = Number(await c.cmd("DBSIZE"));
      expect(size).toBeLessThan(101);
      expect(await expiredKeys(c)).toBe(expired + (101 - size));
    });
    c.close();
  });

  test("answers nil when every key is past its TTL, deleting them", async () => {
    const c = await connect();
    await withoutActiveExpire(c, async () => {
      await populate(c, "dead", 20, 1000);
      advanceClock(2 * SEC);
      expect(await c.raw("RANDOMKEY")).toBe("$-1\r\n");
      expect(await c.raw("DBSIZE")).toBe(":0\r\n");
    });
    c.close();
  });

  test("draws every key sooner or later", async () => {
    const c = await connect();
    await populate(c, "k", 5);
    const seen = new Set<string>();
    for (let i = 0; i < 200 && seen.size < 5; i++) seen.add((await c.cmd("RANDOMKEY")) as string);
    expect([...seen].sort()).toEqual(["k:0", "k:1", "k:2", "k:3", "k:4"]);
    c.close();
  });
});

describe("RENAME", () => {
  test("moves the TTL with the value", async () => {
    const c = await connect();
    await c.raw("SET", "a", "v", "EX", "100");
    expect(await c.raw("RENAME", "a", "b")).toBe("+OK\r\n");
    expect(await c.raw("TTL", "b")).toBe(":100\r\n");
    expect(await c.raw("TTL", "a")).toBe(":-2\r\n");
    advanceClock(101 * SEC);
    expect(await c.raw("GET", "b")).toBe("$-1\r\n");
    c.close();
  });

  test("drops the destination's TTL when the source has none", async () => {
    const c = await connect();
    await c.raw("SET", "b", "old", "EX", "100");
    await c.raw("SET", "a", "new");
    expect(await c.raw("RENAME", "a", "b")).toBe("+OK\r\n");
    expect(await c.raw("TTL", "b")).toBe(":-1\r\n");
    expect(await c.raw("GET", "b")).toBe("$3\r\nnew\r\n");
    c.close();
  });

  test("a source past its TTL is no such key", async () => {
    const c = await connect();
    await c.raw("SET", "a", "v", "PX", "1000");
    advanceClock(2 * SEC);
    expect(await c.raw("RENAME", "a", "b")).toBe("-ERR no such key\r\n");
    expect(await c.raw("RENAME", "a", "a")).toBe("-ERR no such key\r\n");
    c.close();
  });
});

describe("RENAMENX", () => {
  test("treats a destination past its TTL as absent", async () => {
    const c = await connect();
    await c.raw("SET", "b", "old", "PX", "1000");
    await c.raw("SET", "a", "new");
    expect(await c.raw("RENAMENX", "a", "b")).toBe(":0\r\n");
    advanceClock(2 * SEC);
    expect(await c.raw("RENAMENX", "a", "b")).toBe(":1\r\n");
    expect(await c.raw("GET", "b")).toBe("$3\r\nnew\r\n");
    expect(await c.raw("TTL", "b")).toBe(":-1\r\n");
    c.close();
  });
});

describe("COPY", () => {
  test("copies the TTL, and both keys expire", async () => {
    const c = await connect();
    await c.raw("SET", "a", "v", "EX", "100");
    expect(await c.raw("COPY", "a", "b")).toBe(":1\r\n");
    expect(await c.raw("TTL", "b")).toBe(":100\r\n");
    advanceClock(101 * SEC);
    expect(await c.raw("EXISTS", "a", "b")).toBe(":0\r\n");
    c.close();
  });

  test("REPLACE drops the destination's TTL when the source has none", async () => {
    const c = await connect();
    await c.raw("SET", "b", "old", "EX", "100");
    await c.raw("SET", "a", "new");
    expect(await c.raw("COPY", "a", "b")).toBe(":0\r\n");
    expect(await c.raw("COPY", "a", "b", "REPLACE")).toBe(":1\r\n");
    expect(await c.raw("TTL", "b")).toBe(":-1\r\n");
    c.close();
  });

  test("DB copies into another database, TTL included", async () => {
    const c = await connect();
    await c.raw("SET", "a", "v", "EX", "100");
    expect(await c.raw("COPY", "a", "a", "DB", "2")).toBe(":1\r\n");
    await c.raw("SELECT", "2");
    expect(await c.raw("GET", "a")).toBe("$1\r\nv\r\n");
    expect(await c.raw("TTL", "a")).toBe(":100\r\n");
    c.close();
  });

  test("the copy is independent of the source", async () => {
    const c = await connect();
    await c.raw("SET", "a", "v");
    await c.raw("COPY", "a", "b");
    await c.raw("APPEND", "b", "x");
    await c.raw("SETRANGE", "a", "0", "z");
    expect(await c.raw("MGET", "a", "b")).toBe("*2\r\n$1\r\nz\r\n$2\r\nvx\r\n");
    c.close();
  });

  test("a source past its TTL copies nothing", async () => {
    const c = await connect();
    await c.raw("SET", "a", "v", "PX", "1000");
    advanceClock(2 * SEC);
    expect(await c.raw("COPY", "a", "b")).toBe(":0\r\n");
    expect(await c.raw("EXISTS", "b")).toBe(":0\r\n");
    c.close();
  });

  test("a DB index outside the int range gets Redis's range error", async () => {
    const c = await connect();
    await c.raw("SET", "a", "v");
    expect(await c.raw("COPY", "a", "b", "DB", "2147483648")).toBe(INT_RANGE_ERR);
    expect(await c.raw("COPY", "a", "b", "DB", "-2147483649")).toBe(INT_RANGE_ERR);
    expect(await c.raw("COPY", "a", "b", "DB", "99999999999999999999")).toBe("-ERR value is not an integer or out of range\r\n");
    c.close();
  });
});

describe("MOVE", () => {
  test("moves the TTL to the other database", async () => {
    const c = await connect();
    await c.raw("SET", "a", "v", "EX", "100");
    expect(await c.raw("MOVE", "a", "1")).toBe(":1\r\n");
    expect(await c.raw("EXISTS", "a")).toBe(":0\r\n");
    await c.raw("SELECT", "1");
    expect(await c.raw("TTL", "a")).toBe(":100\r\n");
    advanceClock(101 * SEC);
    expect(await c.raw("GET", "a")).toBe("$-1\r\n");
    c.close();
  });

  test("fails when the destination holds the key, unless that key is past its TTL", async () => {
    const c = await connect();
    await c.raw("SELECT", "1");
    await c.raw("SET", "a", "there", "PX", "1000");
    await c.raw("SELECT", "0");
    await c.raw("SET", "a", "here");
    expect(await c.raw("MOVE", "a", "1")).toBe(":0\r\n");
    advanceClock(2 * SEC);
    expect(await c.raw("MOVE", "a", "1")).toBe(":1\r\n");
    await c.raw("SELECT", "1");
    expect(await c.raw("GET", "a")).toBe("$4\r\nhere\r\n");
    c.close();
  });

  test("a DB index outside the int range gets Redis's range error", async () => {
    const c = await connect();
    await c.raw("SET", "a", "v");
    expect(await c.raw("MOVE", "a", "4294967297")).toBe(INT_RANGE_ERR);
    expect(await c.raw("MOVE", "a", "-2147483649")).toBe(INT_RANGE_ERR);
    c.close();
  });
});

describe("TOUCH", () => {
  test("counts live keys; a key past its TTL counts 0", async () => {
    const c = await connect();
    await c.raw("SET", "a", "1");
    await c.raw("SET", "b", "2", "PX", "1000");
    advanceClock(2 * SEC);
    expect(await c.raw("TOUCH", "a", "b", "c", "a")).toBe(":2\r\n");
    c.close();
  });
});

describe("EXPIRE", () => {
  test("the key vanishes once its seconds have passed", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v");
    expect(await c.raw("EXPIRE", "k", "10")).toBe(":1\r\n");
    advanceClock(9 * SEC);
    expect(await c.raw("GET", "k")).toBe("$1\r\nv\r\n");
    advanceClock(1 * SEC + 100);
    expect(await c.raw("GET", "k")).toBe("$-1\r\n");
    c.close();
  });

  test("zero or a negative time deletes the key at once, without counting it as expired", async () => {
    const c = await connect();
    await c.raw("MSET", "a", "1", "b", "2");
    const expired = await expiredKeys(c);
    expect(await c.raw("EXPIRE", "a", "0")).toBe(":1\r\n");
    expect(await c.raw("EXPIRE", "b", "-1")).toBe(":1\r\n");
    expect(await c.raw("DBSIZE")).toBe(":0\r\n");
    expect(await expiredKeys(c)).toBe(expired);
    c.close();
  });

  test("on a key past its TTL answers 0", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v", "PX", "1000");
    advanceClock(2 * SEC);
    expect(await c.raw("EXPIRE", "k", "100")).toBe(":0\r\n");
    expect(await c.raw("EXISTS", "k")).toBe(":0\r\n");
    c.close();
  });

  test("GT and LT compare with the TTL that is left, which shrinks as time passes", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v", "EX", "100");
    advanceClock(50 * SEC);
    // 50 s are left of the 100: 60 is greater, then 55 is less than those 60.
    expect(await c.raw("EXPIRE", "k", "60", "GT")).toBe(":1\r\n");
    expect(await c.raw("EXPIRE", "k", "55", "LT")).toBe(":1\r\n");
    expect(await c.raw("EXPIRE", "k", "58", "LT")).toBe(":0\r\n");
    expect(await c.raw("TTL", "k")).toBe(":55\r\n");
    c.close();
  });
});

describe("PEXPIRE", () => {
  test("counts milliseconds", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v");
    expect(await c.raw("PEXPIRE", "k", "1500")).toBe(":1\r\n");
    advanceClock(1000);
    expect(await c.raw("GET", "k")).toBe("$1\r\nv\r\n");
    advanceClock(600);
    expect(await c.raw("GET", "k")).toBe("$-1\r\n");
    c.close();
  });
});

describe("EXPIREAT", () => {
  test("takes an absolute time in seconds on the server's clock; a past one deletes", async () => {
    const c = await connect();
    await c.raw("MSET", "a", "1", "b", "2");
    const at = Math.floor((await serverNow(c)) / SEC) + 10;
    expect(await c.raw("EXPIREAT", "a", String(at))).toBe(":1\r\n");
    expect(await c.raw("EXPIRETIME", "a")).toBe(`:${at}\r\n`);
    expect(await c.raw("EXPIREAT", "b", String(at - 20))).toBe(":1\r\n");
    expect(await c.raw("EXISTS", "b")).toBe(":0\r\n");
    advanceClock(11 * SEC);
    expect(await c.raw("GET", "a")).toBe("$-1\r\n");
    c.close();
  });
});

describe("PEXPIREAT", () => {
  test("takes an absolute time in milliseconds; a past one deletes", async () => {
    const c = await connect();
    await c.raw("MSET", "a", "1", "b", "2");
    const now = await serverNow(c);
    expect(await c.raw("PEXPIREAT", "a", String(now + 2000))).toBe(":1\r\n");
    expect(await c.raw("PEXPIRETIME", "a")).toBe(`:${now + 2000}\r\n`);
    expect(await c.raw("PEXPIREAT", "b", "1")).toBe(":1\r\n");
    expect(await c.raw("EXISTS", "b")).toBe(":0\r\n");
    advanceClock(2100);
    expect(await c.raw("GET", "a")).toBe("$-1\r\n");
    c.close();
  });
});

describe("TTL", () => {
  test("rounds the milliseconds left to the nearest second", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v", "PX", "10000");
    advanceClock(8400); // ~1600 ms left
    expect(await c.raw("TTL", "k")).toBe(":2\r\n");
    advanceClock(200); // ~1400 ms left
    expect(await c.raw("TTL", "k")).toBe(":1\r\n");
    advanceClock(1000); // ~400 ms left: the key still exists
    expect(await c.raw("TTL", "k")).toBe(":0\r\n");
    expect(await c.raw("EXISTS", "k")).toBe(":1\r\n");
    c.close();
  });

  test("is -1 without a TTL and -2 for a missing key or one past its TTL", async () => {
    const c = await connect();
    await c.raw("SET", "a", "1");
    await c.raw("SET", "b", "2", "PX", "1000");
    advanceClock(2 * SEC);
    expect(await c.raw("TTL", "a")).toBe(":-1\r\n");
    expect(await c.raw("TTL", "b")).toBe(":-2\r\n");
    expect(await c.raw("TTL", "c")).toBe(":-2\r\n");
    c.close();
  });
});

describe("PTTL", () => {
  test("counts down with the server's clock", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v", "PX", "10000");
    advanceClock(3000);
    const pttl = Number(await c.cmd("PTTL", "k"));
    expect(pttl).toBeGreaterThan(6900);
    expect(pttl).toBeLessThanOrEqual(7000);
    c.close();
  });
});

describe("EXPIRETIME", () => {
  test("stays the same as time passes", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v", "EX", "100");
    const before = await c.raw("EXPIRETIME", "k");
    advanceClock(50 * SEC);
    expect(await c.raw("EXPIRETIME", "k")).toBe(before);
    expect(await c.raw("EXPIRETIME", "nope")).toBe(":-2\r\n");
    c.close();
  });
});

describe("PEXPIRETIME", () => {
  test("is the absolute time set, to the millisecond", async () => {
    const c = await connect();
    const now = await serverNow(c);
    await c.raw("SET", "k", "v", "PXAT", String(now + 12345));
    advanceClock(10 * SEC);
    expect(await c.raw("PEXPIRETIME", "k")).toBe(`:${now + 12345}\r\n`);
    await c.raw("SET", "p", "v");
    expect(await c.raw("PEXPIRETIME", "p")).toBe(":-1\r\n");
    c.close();
  });
});

describe("PERSIST", () => {
  test("removes the TTL, and the key outlives it", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v", "EX", "10");
    expect(await c.raw("PERSIST", "k")).toBe(":1\r\n");
    advanceClock(20 * SEC);
    expect(await c.raw("GET", "k")).toBe("$1\r\nv\r\n");
    expect(await c.raw("TTL", "k")).toBe(":-1\r\n");
    c.close();
  });

  test("answers 0 for a key without TTL, a missing key and a key past its TTL", async () => {
    const c = await connect();
    await c.raw("SET", "a", "1");
    await c.raw("SET", "b", "2", "PX", "1000");
    advanceClock(2 * SEC);
    expect(await c.raw("PERSIST", "a")).toBe(":0\r\n");
    expect(await c.raw("PERSIST", "b")).toBe(":0\r\n");
    expect(await c.raw("PERSIST", "c")).toBe(":0\r\n");
    expect(await c.raw("EXISTS", "b")).toBe(":0\r\n");
    c.close();
  });
});

describe("SELECT", () => {
  test("each database has its own keys and TTLs", async () => {
    const c = await connect();
    await c.raw("SET", "k", "zero", "EX", "100");
    expect(await c.raw("SELECT", "1")).toBe("+OK\r\n");
    expect(await c.raw("GET", "k")).toBe("$-1\r\n");
    await c.raw("SET", "k", "one");
    expect(await c.raw("TTL", "k")).toBe(":-1\r\n");
    advanceClock(101 * SEC);
    expect(await c.raw("GET", "k")).toBe("$3\r\none\r\n");
    await c.raw("SELECT", "0");
    expect(await c.raw("GET", "k")).toBe("$-1\r\n");
    c.close();
  });

  test("an index outside the int range gets Redis's range error", async () => {
    const c = await connect();
    expect(await c.raw("SELECT", "2147483648")).toBe(INT_RANGE_ERR);
    expect(await c.raw("SELECT", "-2147483649")).toBe(INT_RANGE_ERR);
    expect(await c.raw("SELECT", "99999999999999999999")).toBe("-ERR value is not an integer or out of range\r\n");
    expect(await c.raw("SELECT", "16")).toBe("-ERR DB index is out of range\r\n");
    c.close();
  });
});

describe("SWAPDB", () => {
  test("a client on the other database sees the swapped keys and TTLs at once", async () => {
    const a = await connect();
    const b = await connect();
    await a.raw("SELECT", "1");
    await a.raw("SET", "one", "1");
    await b.raw("SET", "k", "v", "EX", "100");
    expect(await b.raw("SWAPDB", "0", "1")).toBe("+OK\r\n");
    expect(await a.raw("GET", "k")).toBe("$1\r\nv\r\n");
    expect(await a.raw("TTL", "k")).toBe(":100\r\n");
    expect(await b.raw("GET", "one")).toBe("$1\r\n1\r\n");
    expect(await b.raw("EXISTS", "k")).toBe(":0\r\n");
    advanceClock(101 * SEC);
    expect(await a.raw("GET", "k")).toBe("$-1\r\n");
    a.close();
    b.close();
  });

  test("the active cycle expires keys in their new database", async () => {
    const c = await connect();
    await populate(c, "short", 50, 1000);
    await c.raw("SWAPDB", "0", "7");
    advanceClock(2 * SEC);
    await c.raw("SELECT", "7");
    expect(await eventually(() => c.raw("DBSIZE"), ":0\r\n")).toBe(":0\r\n");
    c.close();
  });
});

describe("DBSIZE", () => {
  test("counts keys past their TTL until something deletes them", async () => {
    const c = await connect();
    await withoutActiveExpire(c, async () => {
      await populate(c, "dead", 3, 1000);
      await c.raw("SET", "live", "v");
      advanceClock(2 * SEC);
      expect(await c.raw("DBSIZE")).toBe(":4\r\n");
      await c.raw("GET", "dead:0");
      expect(await c.raw("DBSIZE")).toBe(":3\r\n");
    });
    c.close();
  });
});

describe("FLUSHDB", () => {
  test("empties only the selected database, TTLs included", async () => {
    const c = await connect();
    await c.raw("SET", "a", "v", "EX", "100");
    await c.raw("SELECT", "1");
    await c.raw("SET", "b", "v", "EX", "100");
    expect(await c.raw("FLUSHDB")).toBe("+OK\r\n");
    expect(await c.raw("DBSIZE")).toBe(":0\r\n");
    expect(await keyspaceLine(c, 1)).toBe(null);
    expect((await keyspaceLine(c, 0))!.expires).toBe(1);
    await c.raw("SET", "b", "v", "KEEPTTL");
    expect(await c.raw("TTL", "b")).toBe(":-1\r\n");
    c.close();
  });

  test("ASYNC empties the database before answering", async () => {
    const c = await connect();
    await populate(c, "k", 100);
    expect(await c.raw("FLUSHDB", "ASYNC")).toBe("+OK\r\n");
    expect(await c.raw("DBSIZE")).toBe(":0\r\n");
    c.close();
  });

  test("reaches replicas (and the AOF) even when the database was already empty, as Redis forces it", async () => {
    const srv = await spawnServer(["--save", ""]);
    try {
      const c = await RawClient.connect(srv.port), tap = await tapReplication(srv.port);
      for (const cmd of [["SET", "k", "v"], ["FLUSHDB"], ["FLUSHDB"], ["FLUSHALL"], ["FLUSHALL"], ["SET", "end", "1"]]) await c.raw(...cmd);
      const deadline = Date.now() + 5000;
      while (!tap.writes().some((w) => w[1] === "end") && Date.now() < deadline) await Bun.sleep(10);
      expect(tap.writes().filter((w) => w[0] !== "PING" && w[0] !== "SELECT").map((w) => w.join(" ").toLowerCase())).toEqual(["set k v", "flushdb", "flushdb", "flushall", "flushall", "set end 1"]);
      tap.close();
      c.close();
    } finally {
      await srv.stop();
    }
  });
});

describe("FLUSHALL", () => {
  test("empties every database", async () => {
    const c = await connect();
    for (const db of ["0", "3", "15"]) {
      await c.raw("SELECT", db);
      await c.raw("SET", "k", "v", "EX", "100");
    }
    expect(await c.raw("FLUSHALL")).toBe("+OK\r\n");
    expect(await c.raw("INFO", "keyspace")).toBe("$12\r\n# Keyspace\r\n\r\n");
    c.close();
  });

  test("stops a BGSAVE in progress (no file, no error, the changes stay unsaved), as Redis does", async () => {
    const srv = await spawnServer(["--save", ""]);
    try {
      const c = await RawClient.connect(srv.port);
      await pipeline(c, Array.from({ length: 2000 }, (_, i) => ["SET", `k${i}`, "v"]));
      await c.raw("CONFIG", "SET", "rdb-key-save-delay", "1000"); // 1 ms per key: a 2 s save
      expect(await c.raw("BGSAVE")).toBe("+Background saving started\r\n");
      expect(await c.raw("FLUSHALL")).toBe("+OK\r\n");
      const info = String(await c.cmd("INFO", "persistence"));
      expect(info).toContain("rdb_bgsave_in_progress:0\r\n");
      expect(info).toContain("rdb_last_bgsave_status:ok\r\n");
      expect(Number(/rdb_changes_since_last_save:(\d+)/.exec(info)![1])).toBeGreaterThan(1999);
      await c.raw("CONFIG", "SET", "rdb-key-save-delay", "0");
      expect(await c.raw("SET", "x", "1")).toBe("+OK\r\n");
      c.close();
    } finally {
      await srv.stop();
    }
  });

  test("with save points, saves the emptied dataset at once", async () => {
    const srv = await spawnServer(["--save", "3600 1"]);
    try {
      const c = await RawClient.connect(srv.port);
      await c.raw("SET", "k", "v");
      expect(await c.raw("FLUSHALL")).toBe("+OK\r\n");
      const info = String(await c.cmd("INFO", "persistence"));
      expect(info).toContain("rdb_changes_since_last_save:0\r\n"); // saved just now, as redis-server 7.0.15 says
      expect(srv.stdout()).toContain("DB saved on disk");
      c.close();
    } finally {
      await srv.stop();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// --- SORT and SORT_RO. The differential suite compares scripts of a few elements with a real
// Redis (every option, error and tie rule); these tests sort 3000 elements with BY and GET
// patterns against a JS model, and check the other clients' side: a client blocked in BLPOP on a
// STORE destination, keyspace notifications, WATCH, and ACL (SORT_RO for read-only users, BY and
// GET only with access to every key). The model and every expected reply were checked by running
// these tests against redis-server 7.0.15.

/** 3000 list elements (ids 0..2799 and 200 repeats, shuffled) and the keys their patterns name:
 *  w_<id> numeric weights (many ties, a quarter missing), h_<id> hashes whose field f is a
 *  weight, d_<id> data (a fifth missing), a_<id> distinct lowercase words. */
interface SortData { elems: string[]; w: Map<string, string>; hf: Map<string, string>; d: Map<string, string>; a: Map<string, string> }

function sortData(seed: number): SortData {
  const rnd = prng(seed);
  const ids = Array.from({ length: 2800 }, (_, i) => String(i));
  const elems = [...ids, ...Array.from({ length: 200 }, () => ids[Math.floor(rnd() * ids.length)])];
  for (let i = elems.length - 1; i > 0; i--) { const j = Math.floor(rnd() * (i + 1)); [elems[i], elems[j]] = [elems[j], elems[i]]; }
  const w = new Map<string, string>(), hf = new Map<string, string>(), d = new Map<string, string>(), a = new Map<string, string>();
  const words = new Set<string>();
  for (const id of ids) {
    const r = rnd();
    if (r < 0.4) w.set(id, String(Math.floor(rnd() * 101) - 50));
    else if (r < 0.6) w.set(id, ((rnd() - 0.5) * 200).toFixed(2));
    else if (r < 0.75) w.set(id, `${Math.floor(rnd() * 9) + 1}e${Math.floor(rnd() * 3)}`);
    if (rnd() < 0.6) hf.set(id, String(Math.floor(rnd() * 41) - 20));
    if (rnd() < 0.8) d.set(id, `data-${Math.floor(rnd() * 1e9)}`);
    let word: string;
    do word = Array.from({ length: 8 }, () => String.fromCharCode(97 + Math.floor(rnd() * 26))).join(""); while (words.has(word));
    words.add(word);
    a.set(id, word);
  }
  return { elems, w, hf, d, a };
}

/** Loads the data: the list "l" and the pattern keys, pipelined. */
async function loadSortData(c: RawClient, s: SortData): Promise<void> {
  const cmds: string[][] = [["RPUSH", "l", ...s.elems]];
  const mset: string[] = [];
  for (const [id, v] of s.w) mset.push(`w_${id}`, v);
  for (const [id, v] of s.d) mset.push(`d_${id}`, v);
  for (const [id, v] of s.a) mset.push(`a_${id}`, v);
  cmds.push(["MSET", ...mset]);
  for (const [id, v] of s.hf) cmds.push(["HSET", `h_${id}`, "f", v, "g", `g${id}`]);
  for (const r of await pipeline(c, cmds)) expect(r).not.toStartWith("-");
}

interface SortOpts { by?: "w" | "hf" | "a"; alpha?: boolean; desc?: boolean; limit?: [number, number]; get?: ("#" | "d" | "hf" | "hg")[] }

/** SORT's model: numeric by the weight (0 when missing; ties by the element's bytes), or ALPHA
 *  (here only digits, or the distinct words); DESC reverses the order; LIMIT takes a slice; each
 *  GET adds a value (null when missing) per element. */
function modelSort(s: SortData, elems: string[], o: SortOpts): (string | null)[] {
  const byValue = (e: string): string | undefined => (o.by === "w" ? s.w.get(e) : o.by === "hf" ? s.hf.get(e) : o.by === "a" ? s.a.get(e) : e);
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  const sorted = [...elems].sort((x, y) => {
    let r: number;
    if (o.alpha) r = cmp(byValue(x)!, byValue(y)!);
    else {
      const a = Number(byValue(x) ?? 0), b = Number(byValue(y) ?? 0);
      r = a < b ? -1 : a > b ? 1 : cmp(x, y);
    }
    return o.desc ? -r : r;
  });
  let out = sorted;
  if (o.limit) {
    const [offset, count] = o.limit;
    out = sorted.slice(Math.max(0, offset), count < 0 ? undefined : Math.max(0, offset) + count);
  }
  if (!o.get) return out;
  return out.flatMap((e) => o.get!.map((g) => (g === "#" ? e : g === "d" ? s.d.get(e) ?? null : g === "hf" ? s.hf.get(e) ?? null : s.hf.has(e) ? `g${e}` : null)));
}

/** SORT's arguments for the options. */
function sortArgs(o: SortOpts): string[] {
  const pattern = { w: "w_*", hf: "h_*->f", a: "a_*" };
  const get = { "#": "#", d: "d_*", hf: "h_*->f", hg: "h_*->g" };
  return [
    ...(o.by ? ["BY", pattern[o.by]] : []),
    ...(o.limit ? ["LIMIT", String(o.limit[0]), String(o.limit[1])] : []),
    ...(o.get ?? []).flatMap((g) => ["GET", get[g]]),
    ...(o.desc ? ["DESC"] : []),
    ...(o.alpha ? ["ALPHA"] : []),
  ];
}

const SORT_CASES: SortOpts[] = [
  {},
  { desc: true, limit: [100, 50] },
  { alpha: true, limit: [0, 40] },
  { by: "w" },
  { by: "w", desc: true, get: ["#", "d"] },
  { by: "w", limit: [2950, 100], get: ["d", "hf", "#"] },
  { by: "w", limit: [-5, 10] },
  { by: "w", limit: [1000, 0] },
  { by: "w", limit: [20, -1], get: ["hg"] },
  { by: "hf", get: ["#", "hf"] },
  { by: "hf", desc: true, limit: [500, 300] },
  { by: "a", alpha: true, get: ["#"] },
  { by: "a", alpha: true, desc: true, limit: [7, 70], get: ["d"] },
];


const ONE = "*1\r\n+PONG\r\n", ABORTED = "*-1\r\n";

describe("SORT", () => {
  test("3000 list elements, BY weights or hash fields, GET data, # and hash fields, DESC, ALPHA and LIMIT, as the model sorts them", async () => {
    const c = await connect();
    const s = sortData(41);
    await loadSortData(c, s);
    const got = await pipeline(c, SORT_CASES.map((o) => ["SORT", "l", ...sortArgs(o)]));
    SORT_CASES.forEach((o, i) => {
      const reply = decode(Buffer.from(got[i], "latin1"), 0)[0];
      expect([sortArgs(o), reply]).toEqual([sortArgs(o), modelSort(s, s.elems, o)]);
    });
    c.close();
  });

  test("a 2800-member set sorts as the model; a sorted set BY nosort keeps its own order, LIMIT and DESC included", async () => {
    const c = await connect();
    const s = sortData(42);
    await loadSortData(c, s);
    const ids = [...new Set(s.elems)];
    await c.raw("SADD", "set", ...ids);
    const cases: SortOpts[] = [{}, { by: "w", get: ["#", "d"] }, { by: "hf", desc: true, limit: [10, 25] }, { by: "a", alpha: true }];
    for (const o of cases) expect([sortArgs(o), await c.cmd("SORT", "set", ...sortArgs(o))]).toEqual([sortArgs(o), modelSort(s, ids, o)]);
    await c.raw("ZADD", "z", ...ids.flatMap((id) => [Number(id) % 97, id]));
    const zorder = (await c.cmd("ZRANGE", "z", 0, -1)) as string[];
    expect(await c.cmd("SORT", "z", "BY", "nosort")).toEqual(zorder);
    expect(await c.cmd("SORT", "z", "BY", "nosort", "LIMIT", 1000, 10)).toEqual(zorder.slice(1000, 1010));
    expect(await c.cmd("SORT", "z", "BY", "nosort", "DESC", "LIMIT", 5, 20, "GET", "d_*")).toEqual([...zorder].reverse().slice(5, 25).map((id) => s.d.get(id) ?? null));
    c.close();
  });

  test("STORE writes the sorted list (missing GET values as empty strings)", async () => {
    const c = await connect();
    const s = sortData(43);
    await loadSortData(c, s);
    const o: SortOpts = { by: "w", limit: [100, 500], get: ["d", "#"] };
    const want = modelSort(s, s.elems, o).map((v) => v ?? "");
    expect(await c.raw("SORT", "l", ...sortArgs(o), "STORE", "dst")).toBe(`:${want.length}\r\n`);
    expect(await c.cmd("LRANGE", "dst", 0, -1)).toEqual(want);
    c.close();
  });

  test("STORE serves a client blocked in BLPOP, BRPOP or BLMOVE on the destination; an empty result leaves it blocked", async () => {
    const c = await connect();
    await c.raw("RPUSH", "l", "3", "1", "2");
    const w = await RawClient.connect((await sharedServer()).port);
    const wid = await w.cmd("CLIENT", "ID");
    const block = async (...args: (string | number)[]) => {
      w.send(...args);
      for (let t = 0; !/ flags=b /.test((await c.cmd("CLIENT", "LIST", "ID", wid as number)) as string); t++) {
        if (t > 1000) throw new Error(`${args[0]} did not block`);
        await Bun.sleep(2);
      }
    };
    await block("BLPOP", "dst", 0);
    expect(await c.raw("SORT", "missing", "STORE", "dst")).toBe(":0\r\n");
    expect(await c.raw("SORT", "l", "STORE", "dst")).toBe(":3\r\n");
    expect(await w.readRaw()).toBe("*2\r\n$3\r\ndst\r\n$1\r\n1\r\n");
    expect(await c.cmd("LRANGE", "dst", 0, -1)).toEqual(["2", "3"]);
    await c.raw("DEL", "dst");
    await block("BRPOP", "dst", 0);
    expect(await c.raw("SORT", "l", "DESC", "STORE", "dst")).toBe(":3\r\n");
    expect(await w.readRaw()).toBe("*2\r\n$3\r\ndst\r\n$1\r\n1\r\n");
    await c.raw("DEL", "dst");
    await block("BLMOVE", "dst", "out", "LEFT", "RIGHT", 0);
    expect(await c.raw("SORT", "l", "STORE", "dst")).toBe(":3\r\n");
    expect(await w.readRaw()).toBe("$1\r\n1\r\n");
    expect(await c.cmd("LRANGE", "out", 0, -1)).toEqual(["1"]);
    w.close();
    c.close();
  });

  test("STORE notifies sortstore, or del when an empty result deletes the destination; it touches a WATCHed destination the same way", async () => {
    const c = await connect();
    await c.raw("RPUSH", "l", "3", "1", "2");
    await c.raw("SET", "str", "x");
    const got = await keyspaceEvents(c, async () => {
      expect(await c.raw("SORT", "l", "STORE", "dst")).toBe(":3\r\n");
      expect(await c.raw("SORT", "l", "BY", "nosort", "STORE", "dst")).toBe(":3\r\n");
      expect(await c.raw("SORT", "l", "STORE", "str")).toBe(":3\r\n");
      expect(await c.raw("SORT", "missing", "STORE", "dst")).toBe(":0\r\n");
      expect(await c.raw("SORT", "missing", "STORE", "dst")).toBe(":0\r\n");
      expect(await c.raw("SORT", "l")).toBe("*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n");
    });
    expect(got).toEqual([...keyspaceEvent("sortstore", "dst"), ...keyspaceEvent("sortstore", "dst"), ...keyspaceEvent("sortstore", "str"), ...keyspaceEvent("del", "dst")]);
    expect(await c.raw("TYPE", "str")).toBe("+list\r\n");
    const other = await RawClient.connect((await sharedServer()).port);
    for (const [cmd, exec] of [[["SORT", "l", "STORE", "dst"], ABORTED], [["SORT", "missing", "STORE", "dst"], ABORTED], [["SORT", "missing", "STORE", "dst"], ONE], [["SORT", "l"], ONE]] as const) {
      expect(await c.raw("WATCH", "dst")).toBe("+OK\r\n");
      await other.raw(...cmd);
      await c.raw("MULTI");
      await c.raw("PING");
      expect([cmd, await c.raw("EXEC")]).toEqual([cmd, exec]);
    }
    other.close();
    c.close();
  });

  test("ACL: read access runs SORT but not its STORE; BY and GET patterns need access to every key", async () => {
    const c = await connect();
    await c.raw("RPUSH", "l", "2", "1");
    await c.raw("SET", "w_1", "5");
    await asAclUser(c, ["+@all", "%R~*"], async (u) => {
      expect(await u.raw("SORT", "l", "BY", "w_*", "GET", "#")).toBe("*2\r\n$1\r\n2\r\n$1\r\n1\r\n");
      expect(await u.raw("SORT", "l", "STORE", "dst")).toBe(NOPERM_KEYS);
    });
    await asAclUser(c, ["+@all", "%R~*", "%W~d*"], async (u) => {
      expect(await u.raw("SORT", "l", "BY", "w_*", "STORE", "dst")).toBe(":2\r\n");
      expect(await u.raw("SORT", "l", "BY", "w_*", "STORE", "x")).toBe(NOPERM_KEYS);
    });
    await asAclUser(c, ["+@all", "~l*"], async (u) => {
      expect(await u.raw("SORT", "l", "BY", "w_*")).toBe("-ERR BY option of SORT denied due to insufficient ACL permissions.\r\n");
      expect(await u.raw("SORT", "l", "GET", "#")).toBe("-ERR GET option of SORT denied due to insufficient ACL permissions.\r\n");
      expect(await u.raw("SORT", "l", "GET", "w_*")).toBe("-ERR GET option of SORT denied due to insufficient ACL permissions.\r\n");
      expect(await u.raw("SORT", "l", "BY", "nosort")).toBe("*2\r\n$1\r\n2\r\n$1\r\n1\r\n");
      expect(await u.raw("SORT", "l", "BY", "nostar")).toBe("*2\r\n$1\r\n2\r\n$1\r\n1\r\n");
      expect(await u.raw("SORT", "l", "STORE", "l2")).toBe(":2\r\n");
      expect(await u.raw("SORT", "l", "STORE", "dst")).toBe(NOPERM_KEYS);
    });
    expect(await c.cmd("LRANGE", "l2", 0, -1)).toEqual(["1", "2"]);
    c.close();
  });
});

describe("SORT_RO", () => {
  test("answers as SORT, on the model's 3000 elements", async () => {
    const c = await connect();
    const s = sortData(44);
    await loadSortData(c, s);
    const cases = SORT_CASES.filter((_, i) => i % 2 === 1);
    const got = await pipeline(c, cases.map((o) => ["SORT_RO", "l", ...sortArgs(o)]));
    cases.forEach((o, i) => {
      expect([sortArgs(o), decode(Buffer.from(got[i], "latin1"), 0)[0]]).toEqual([sortArgs(o), modelSort(s, s.elems, o)]);
    });
    c.close();
  });

  test("is what a user with only +@read commands may run; BY and GET patterns still need access to every key", async () => {
    const c = await connect();
    await c.raw("RPUSH", "l", "2", "1");
    await c.raw("SET", "w_1", "5");
    await asAclUser(c, ["+@read", "~*"], async (u) => {
      expect(await u.raw("SORT_RO", "l")).toBe("*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
      expect(await u.raw("SORT_RO", "l", "BY", "w_*")).toBe("*2\r\n$1\r\n2\r\n$1\r\n1\r\n");
      expect(await u.raw("SORT", "l")).toBe("-NOPERM this user has no permissions to run the 'sort' command\r\n");
    });
    await asAclUser(c, ["+@read", "~l*"], async (u) => {
      expect(await u.raw("SORT_RO", "l", "BY", "nosort")).toBe("*2\r\n$1\r\n2\r\n$1\r\n1\r\n");
      expect(await u.raw("SORT_RO", "l", "BY", "w_*")).toBe("-ERR BY option of SORT denied due to insufficient ACL permissions.\r\n");
      expect(await u.raw("SORT_RO", "l", "GET", "#")).toBe("-ERR GET option of SORT denied due to insufficient ACL permissions.\r\n");
    });
    c.close();
  });
});
