// main.ts, Strings: one describe per command. The differential suite already compares
// plain command scripts with a real Redis; these tests add what it cannot do: steering the
// server's clock (advanceClock) to check TTL semantics without sleeping, and exact 64-bit and
// long-double edges; and, at the end, the bitmap commands against JS models at scale. Replies are
// compared as exact wire bytes.
import { describe, test, expect } from "bun:test";
import { connect, advanceClock, budgetMs, elapsedMs, pipeline, seededRandom, sharedServer, arr, bulk, int, keyspaceEvents, keyspaceEvent, asAclUser, NOPERM_KEYS } from "./helpers.ts";
import { RawClient } from "./client.ts";

const SEC = 1000;

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

/** Runs fn with the active expiry cycle off, so only lazy expiry (on access) deletes keys. */
async function withoutActiveExpire(c: RawClient, fn: () => Promise<void>): Promise<void> {
  expect(await c.raw("DEBUG", "SET-ACTIVE-EXPIRE", "0")).toBe("+OK\r\n");
  try { await fn(); } finally { await c.raw("DEBUG", "SET-ACTIVE-EXPIRE", "1"); }
}

/** A key "k" = "v" whose TTL has already passed on the server's clock. */
async function setExpiredKey(c: RawClient, key = "k", value = "v"): Promise<void> {
  expect(await c.raw("SET", key, value, "PX", "1000")).toBe("+OK\r\n");
  advanceClock(2 * SEC);
}

const I64_MAX = "9223372036854775807";
const I64_MIN = "-9223372036854775808";

describe("SET", () => {
  test("EX keeps the key for its seconds, then GET answers nil", async () => {
    const c = await connect();
    expect(await c.raw("SET", "k", "v", "EX", "100")).toBe("+OK\r\n");
    advanceClock(99 * SEC);
    expect(await c.raw("GET", "k")).toBe("$1\r\nv\r\n");
    expect(await c.raw("TTL", "k")).toBe(":1\r\n");
    advanceClock(1 * SEC + 100);
    expect(await c.raw("GET", "k")).toBe("$-1\r\n");
    expect(await c.raw("TTL", "k")).toBe(":-2\r\n");
    expect(await c.raw("EXISTS", "k")).toBe(":0\r\n");
    c.close();
  });

  test("PX counts milliseconds", async () => {
    const c = await connect();
    expect(await c.raw("SET", "k", "v", "PX", "5000")).toBe("+OK\r\n");
    advanceClock(4000);
    const pttl = Number(await c.cmd("PTTL", "k"));
    expect(pttl).toBeGreaterThan(900);
    expect(pttl).toBeLessThanOrEqual(1000);
    advanceClock(1100);
    expect(await c.raw("GET", "k")).toBe("$-1\r\n");
    c.close();
  });

  test("EXAT and PXAT are absolute times on the server's clock", async () => {
    const c = await connect();
    const now = await serverNow(c);
    expect(await c.raw("SET", "p", "v", "PXAT", String(now + 10 * SEC))).toBe("+OK\r\n");
    expect(await c.raw("PEXPIRETIME", "p")).toBe(`:${now + 10 * SEC}\r\n`);
    const at = Math.floor(now / SEC) + 20;
    expect(await c.raw("SET", "e", "v", "EXAT", String(at))).toBe("+OK\r\n");
    expect(await c.raw("EXPIRETIME", "e")).toBe(`:${at}\r\n`);
    advanceClock(11 * SEC);
    expect(await c.raw("MGET", "p", "e")).toBe("*2\r\n$-1\r\n$1\r\nv\r\n");
    advanceClock(10 * SEC);
    expect(await c.raw("GET", "e")).toBe("$-1\r\n");
    c.close();
  });

  test("a PXAT in the past stores a key that is already expired: gone on access, counted as expired", async () => {
    const c = await connect();
    await withoutActiveExpire(c, async () => {
      const expired = await expiredKeys(c);
      expect(await c.raw("SET", "k", "v", "PXAT", "1")).toBe("+OK\r\n");
      expect(await c.raw("DBSIZE")).toBe(":1\r\n");
      expect(await c.raw("GET", "k")).toBe("$-1\r\n");
      expect(await c.raw("DBSIZE")).toBe(":0\r\n");
      expect(await expiredKeys(c)).toBe(expired + 1);
    });
    c.close();
  });

  test("KEEPTTL keeps the TTL of the value it replaces", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v", "EX", "100");
    advanceClock(50 * SEC);
    expect(await c.raw("SET", "k", "v2", "KEEPTTL")).toBe("+OK\r\n");
    expect(await c.raw("TTL", "k")).toBe(":50\r\n");
    advanceClock(49 * SEC);
    expect(await c.raw("GET", "k")).toBe("$2\r\nv2\r\n");
    advanceClock(1 * SEC + 100);
    expect(await c.raw("GET", "k")).toBe("$-1\r\n");
    c.close();
  });

  test("without KEEPTTL, SET clears the TTL", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v", "EX", "100");
    expect(await c.raw("SET", "k", "v2")).toBe("+OK\r\n");
    expect(await c.raw("TTL", "k")).toBe(":-1\r\n");
    await c.raw("SET", "k", "v", "EX", "100");
    expect(await c.raw("SET", "k", "v3", "XX")).toBe("+OK\r\n");
    expect(await c.raw("TTL", "k")).toBe(":-1\r\n");
    advanceClock(200 * SEC);
    expect(await c.raw("GET", "k")).toBe("$2\r\nv3\r\n");
    c.close();
  });

  test("GET with a new expire answers the old value and replaces the TTL", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v", "EX", "100");
    expect(await c.raw("SET", "k", "w", "GET", "PX", "5000")).toBe("$1\r\nv\r\n");
    advanceClock(6 * SEC);
    expect(await c.raw("GET", "k")).toBe("$-1\r\n");
    c.close();
  });

  test("NX succeeds on a key whose TTL has passed, and the new key has no TTL", async () => {
    const c = await connect();
    await setExpiredKey(c);
    expect(await c.raw("SET", "k", "w", "NX")).toBe("+OK\r\n");
    expect(await c.raw("TTL", "k")).toBe(":-1\r\n");
    expect(await c.raw("GET", "k")).toBe("$1\r\nw\r\n");
    c.close();
  });

  test("XX fails on a key whose TTL has passed", async () => {
    const c = await connect();
    await setExpiredKey(c);
    expect(await c.raw("SET", "k", "w", "XX")).toBe("$-1\r\n");
    expect(await c.raw("EXISTS", "k")).toBe(":0\r\n");
    c.close();
  });

  test("NX GET on a key whose TTL has passed answers nil and sets the key", async () => {
    const c = await connect();
    await setExpiredKey(c);
    expect(await c.raw("SET", "k", "w", "NX", "GET")).toBe("$-1\r\n");
    expect(await c.raw("GET", "k")).toBe("$1\r\nw\r\n");
    c.close();
  });
});

describe("GET", () => {
  test("a key past its TTL is deleted lazily by the GET, counted as expired and as a miss", async () => {
    const c = await connect();
    await withoutActiveExpire(c, async () => {
      await setExpiredKey(c);
      const expired = await expiredKeys(c);
      const stats = (await c.cmd("INFO", "stats")) as string;
      const misses = Number(/^keyspace_misses:(\d+)\r$/m.exec(stats)![1]);
      expect(await c.raw("DBSIZE")).toBe(":1\r\n");
      expect(await c.raw("GET", "k")).toBe("$-1\r\n");
      expect(await c.raw("DBSIZE")).toBe(":0\r\n");
      expect(await expiredKeys(c)).toBe(expired + 1);
      const after = (await c.cmd("INFO", "stats")) as string;
      expect(Number(/^keyspace_misses:(\d+)\r$/m.exec(after)![1])).toBe(misses + 1);
    });
    c.close();
  });

  test("reading a key does not change its TTL", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v", "EX", "100");
    advanceClock(30 * SEC);
    expect(await c.raw("GET", "k")).toBe("$1\r\nv\r\n");
    expect(await c.raw("TTL", "k")).toBe(":70\r\n");
    c.close();
  });
});

describe("GETEX", () => {
  test("without options leaves the TTL alone", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v", "EX", "100");
    expect(await c.raw("GETEX", "k")).toBe("$1\r\nv\r\n");
    expect(await c.raw("TTL", "k")).toBe(":100\r\n");
    c.close();
  });

  test("EX and PX set a new TTL that then expires", async () => {
    const c = await connect();
    await c.raw("SET", "a", "1");
    await c.raw("SET", "b", "2", "EX", "100");
    expect(await c.raw("GETEX", "a", "EX", "10")).toBe("$1\r\n1\r\n");
    expect(await c.raw("GETEX", "b", "PX", "5000")).toBe("$1\r\n2\r\n");
    expect(await c.raw("TTL", "a")).toBe(":10\r\n");
    expect(await c.raw("TTL", "b")).toBe(":5\r\n");
    advanceClock(6 * SEC);
    expect(await c.raw("MGET", "a", "b")).toBe("*2\r\n$1\r\n1\r\n$-1\r\n");
    advanceClock(5 * SEC);
    expect(await c.raw("GET", "a")).toBe("$-1\r\n");
    c.close();
  });

  test("EXAT and PXAT set absolute times on the server's clock", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v");
    const now = await serverNow(c);
    expect(await c.raw("GETEX", "k", "PXAT", String(now + 3 * SEC))).toBe("$1\r\nv\r\n");
    expect(await c.raw("PEXPIRETIME", "k")).toBe(`:${now + 3 * SEC}\r\n`);
    advanceClock(4 * SEC);
    expect(await c.raw("GET", "k")).toBe("$-1\r\n");
    c.close();
  });

  test("PERSIST removes the TTL", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v", "EX", "10");
    expect(await c.raw("GETEX", "k", "PERSIST")).toBe("$1\r\nv\r\n");
    expect(await c.raw("TTL", "k")).toBe(":-1\r\n");
    advanceClock(20 * SEC);
    expect(await c.raw("GET", "k")).toBe("$1\r\nv\r\n");
    c.close();
  });

  test("a PXAT in the past answers the value, then deletes the key without counting it expired", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v");
    const expired = await expiredKeys(c);
    expect(await c.raw("GETEX", "k", "PXAT", "1")).toBe("$1\r\nv\r\n");
    expect(await c.raw("EXISTS", "k")).toBe(":0\r\n");
    expect(await expiredKeys(c)).toBe(expired);
    c.close();
  });

  test("on a key whose TTL has passed answers nil and sets no TTL", async () => {
    const c = await connect();
    await setExpiredKey(c);
    expect(await c.raw("GETEX", "k", "EX", "100")).toBe("$-1\r\n");
    expect(await c.raw("EXISTS", "k")).toBe(":0\r\n");
    c.close();
  });

  test("an invalid expire is refused before anything changes", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v", "EX", "100");
    expect(await c.raw("GETEX", "k", "EX", "0")).toBe("-ERR invalid expire time in 'getex' command\r\n");
    expect(await c.raw("GETEX", "k", "PX", "-1")).toBe("-ERR invalid expire time in 'getex' command\r\n");
    expect(await c.raw("GETEX", "k", "EX", "10", "PERSIST")).toBe("-ERR syntax error\r\n");
    expect(await c.raw("TTL", "k")).toBe(":100\r\n");
    c.close();
  });
});

describe("GETDEL", () => {
  test("deletes the key and its TTL", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v", "EX", "100");
    await c.raw("SET", "other", "x");
    expect(await c.raw("GETDEL", "k")).toBe("$1\r\nv\r\n");
    expect(await c.raw("TTL", "k")).toBe(":-2\r\n");
    // avg_ttl is left out: it is a sample the expiry cycle may have taken while k existed.
    expect(await c.raw("INFO", "keyspace")).toMatch(/^\$\d+\r\n# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=\d+\r\n\r\n$/);
    c.close();
  });

  test("on a key whose TTL has passed answers nil", async () => {
    const c = await connect();
    await setExpiredKey(c);
    expect(await c.raw("GETDEL", "k")).toBe("$-1\r\n");
    c.close();
  });
});

describe("GETSET", () => {
  test("replaces the value and clears the TTL", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v", "EX", "100");
    expect(await c.raw("GETSET", "k", "w")).toBe("$1\r\nv\r\n");
    expect(await c.raw("TTL", "k")).toBe(":-1\r\n");
    advanceClock(200 * SEC);
    expect(await c.raw("GET", "k")).toBe("$1\r\nw\r\n");
    c.close();
  });

  test("on a key whose TTL has passed answers nil and sets the new value", async () => {
    const c = await connect();
    await setExpiredKey(c);
    expect(await c.raw("GETSET", "k", "w")).toBe("$-1\r\n");
    expect(await c.raw("GET", "k")).toBe("$1\r\nw\r\n");
    c.close();
  });
});

describe("SETNX", () => {
  test("sets a key whose TTL has passed", async () => {
    const c = await connect();
    await setExpiredKey(c);
    expect(await c.raw("SETNX", "k", "w")).toBe(":1\r\n");
    expect(await c.raw("TTL", "k")).toBe(":-1\r\n");
    c.close();
  });

  test("leaves a live key and its TTL untouched", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v", "EX", "100");
    expect(await c.raw("SETNX", "k", "w")).toBe(":0\r\n");
    expect(await c.raw("GET", "k")).toBe("$1\r\nv\r\n");
    expect(await c.raw("TTL", "k")).toBe(":100\r\n");
    c.close();
  });
});

describe("SETEX", () => {
  test("sets a TTL in seconds that then expires", async () => {
    const c = await connect();
    expect(await c.raw("SETEX", "k", "10", "v")).toBe("+OK\r\n");
    expect(await c.raw("TTL", "k")).toBe(":10\r\n");
    advanceClock(9 * SEC);
    expect(await c.raw("GET", "k")).toBe("$1\r\nv\r\n");
    advanceClock(1 * SEC + 100);
    expect(await c.raw("GET", "k")).toBe("$-1\r\n");
    c.close();
  });

  test("replaces an existing value and TTL", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v", "EX", "1000");
    expect(await c.raw("SETEX", "k", "10", "w")).toBe("+OK\r\n");
    expect(await c.raw("TTL", "k")).toBe(":10\r\n");
    expect(await c.raw("GET", "k")).toBe("$1\r\nw\r\n");
    c.close();
  });

  test("refuses a non-positive TTL and keeps the old key", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v");
    expect(await c.raw("SETEX", "k", "0", "w")).toBe("-ERR invalid expire time in 'setex' command\r\n");
    expect(await c.raw("SETEX", "k", "-5", "w")).toBe("-ERR invalid expire time in 'setex' command\r\n");
    expect(await c.raw("GET", "k")).toBe("$1\r\nv\r\n");
    c.close();
  });
});

describe("PSETEX", () => {
  test("sets a TTL in milliseconds that then expires", async () => {
    const c = await connect();
    expect(await c.raw("PSETEX", "k", "1500", "v")).toBe("+OK\r\n");
    const pttl = Number(await c.cmd("PTTL", "k"));
    expect(pttl).toBeGreaterThan(1400);
    expect(pttl).toBeLessThanOrEqual(1500);
    advanceClock(1600);
    expect(await c.raw("GET", "k")).toBe("$-1\r\n");
    expect(await c.raw("PSETEX", "k", "0", "v")).toBe("-ERR invalid expire time in 'psetex' command\r\n");
    c.close();
  });
});

describe("MGET", () => {
  test("answers nil for missing keys and keys whose TTL has passed", async () => {
    const c = await connect();
    await c.raw("MSET", "a", "1", "b", "2");
    await c.raw("PEXPIRE", "a", "1000");
    advanceClock(2 * SEC);
    expect(await c.raw("MGET", "a", "b", "c", "b")).toBe("*4\r\n$-1\r\n$1\r\n2\r\n$-1\r\n$1\r\n2\r\n");
    c.close();
  });
});

describe("MSET", () => {
  test("clears the TTL of keys it overwrites", async () => {
    const c = await connect();
    await c.raw("SET", "a", "v", "EX", "100");
    expect(await c.raw("MSET", "a", "1", "b", "2")).toBe("+OK\r\n");
    expect(await c.raw("TTL", "a")).toBe(":-1\r\n");
    advanceClock(200 * SEC);
    expect(await c.raw("MGET", "a", "b")).toBe("*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    c.close();
  });

  test("a key given twice keeps the last value", async () => {
    const c = await connect();
    expect(await c.raw("MSET", "k", "1", "k", "2")).toBe("+OK\r\n");
    expect(await c.raw("GET", "k")).toBe("$1\r\n2\r\n");
    expect(await c.raw("DBSIZE")).toBe(":1\r\n");
    c.close();
  });
});

describe("MSETNX", () => {
  test("sets nothing if any key exists", async () => {
    const c = await connect();
    await c.raw("SET", "b", "x", "EX", "100");
    expect(await c.raw("MSETNX", "a", "1", "b", "2")).toBe(":0\r\n");
    expect(await c.raw("MGET", "a", "b")).toBe("*2\r\n$-1\r\n$1\r\nx\r\n");
    expect(await c.raw("TTL", "b")).toBe(":100\r\n");
    c.close();
  });

  test("treats a key whose TTL has passed as absent", async () => {
    const c = await connect();
    await setExpiredKey(c, "b", "x");
    expect(await c.raw("MSETNX", "a", "1", "b", "2")).toBe(":1\r\n");
    expect(await c.raw("MGET", "a", "b")).toBe("*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    expect(await c.raw("TTL", "b")).toBe(":-1\r\n");
    c.close();
  });
});

describe("APPEND", () => {
  test("keeps the TTL", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v", "EX", "100");
    expect(await c.raw("APPEND", "k", "w")).toBe(":2\r\n");
    expect(await c.raw("TTL", "k")).toBe(":100\r\n");
    advanceClock(101 * SEC);
    expect(await c.raw("GET", "k")).toBe("$-1\r\n");
    c.close();
  });

  test("on a key whose TTL has passed starts a new key without a TTL", async () => {
    const c = await connect();
    await setExpiredKey(c, "k", "abc");
    expect(await c.raw("APPEND", "k", "x")).toBe(":1\r\n");
    expect(await c.raw("TTL", "k")).toBe(":-1\r\n");
    expect(await c.raw("GET", "k")).toBe("$1\r\nx\r\n");
    c.close();
  });

  test("appends raw bytes and answers the length in bytes", async () => {
    const c = await connect();
    expect(await c.raw("APPEND", "k", "\0\r\n")).toBe(":3\r\n");
    expect(await c.raw("APPEND", "k", "\xff")).toBe(":4\r\n");
    expect(await c.raw("APPEND", "k", "")).toBe(":4\r\n");
    expect(await c.raw("GET", "k")).toBe("$4\r\n\0\r\n\xff\r\n");
    c.close();
  });

  test("appending to a number makes a string that INCR still reads", async () => {
    const c = await connect();
    await c.raw("INCRBY", "n", "10");
    expect(await c.raw("APPEND", "n", "5")).toBe(":3\r\n");
    expect(await c.raw("INCR", "n")).toBe(":106\r\n");
    c.close();
  });
});

describe("STRLEN", () => {
  test("is 0 once the TTL has passed", async () => {
    const c = await connect();
    await c.raw("SET", "k", "hello", "PX", "1000");
    expect(await c.raw("STRLEN", "k")).toBe(":5\r\n");
    advanceClock(2 * SEC);
    expect(await c.raw("STRLEN", "k")).toBe(":0\r\n");
    c.close();
  });
});

describe("GETRANGE", () => {
  test("clamps 64-bit extreme indexes", async () => {
    const c = await connect();
    await c.raw("SET", "k", "ohmytext");
    expect(await c.raw("GETRANGE", "k", "0", I64_MAX)).toBe("$8\r\nohmytext\r\n");
    expect(await c.raw("GETRANGE", "k", I64_MIN, "-1")).toBe("$8\r\nohmytext\r\n");
    expect(await c.raw("GETRANGE", "k", "5", I64_MIN)).toBe("$0\r\n\r\n");
    expect(await c.raw("GETRANGE", "k", "0", "9223372036854775808")).toBe("-ERR value is not an integer or out of range\r\n");
    c.close();
  });

  test("is empty once the TTL has passed", async () => {
    const c = await connect();
    await setExpiredKey(c, "k", "hello");
    expect(await c.raw("GETRANGE", "k", "0", "-1")).toBe("$0\r\n\r\n");
    c.close();
  });
});

describe("SUBSTR", () => {
  test("is GETRANGE under its old name", async () => {
    const c = await connect();
    await c.raw("SET", "k", "ohmytext");
    expect(await c.raw("SUBSTR", "k", "2", "3")).toBe("$2\r\nmy\r\n");
    expect(await c.raw("SUBSTR", "k", "-4", "-1")).toBe("$4\r\ntext\r\n");
    expect(await c.raw("SUBSTR", "missing", "0", "-1")).toBe("$0\r\n\r\n");
    c.close();
  });
});

describe("SETRANGE", () => {
  test("on a 50 MB string costs the bytes it writes, not the string's length (so does APPEND)", async () => {
    const c = await connect();
    expect(await c.raw("SETRANGE", "big", 50_000_000, "x")).toBe(":50000001\r\n");
    // 300 writes: rebuilding the string each time (~20 ms apiece) would take seconds.
    const writes = Array.from({ length: 100 }, (_, i) => [["SETRANGE", "big", i * 499_999, "y"], ["APPEND", "big", "z"], ["GETRANGE", "big", 0, 0]]).flat();
    const ms = await elapsedMs(() => pipeline(c, writes, 30000));
    expect(ms).toBeLessThan(await budgetMs(c, 300, 500));
    expect(await c.raw("STRLEN", "big")).toBe(":50000101\r\n");
    expect(await c.raw("GETRANGE", "big", 49_999_999, 50_000_003)).toBe("$5\r\n\0xzzz\r\n");
    expect(await c.raw("GETRANGE", "big", 499_998, 500_000)).toBe("$3\r\n\0y\0\r\n");
    await c.raw("DEL", "big");
    c.close();
  });

  test("keeps the TTL", async () => {
    const c = await connect();
    await c.raw("SET", "k", "hello", "EX", "100");
    expect(await c.raw("SETRANGE", "k", "1", "a")).toBe(":5\r\n");
    expect(await c.raw("TTL", "k")).toBe(":100\r\n");
    expect(await c.raw("GET", "k")).toBe("$5\r\nhallo\r\n");
    c.close();
  });

  test("on a key whose TTL has passed starts from an empty string, padded with zero bytes", async () => {
    const c = await connect();
    await setExpiredKey(c, "k", "hello");
    expect(await c.raw("SETRANGE", "k", "2", "ab")).toBe(":4\r\n");
    expect(await c.raw("GET", "k")).toBe("$4\r\n\0\0ab\r\n");
    expect(await c.raw("TTL", "k")).toBe(":-1\r\n");
    c.close();
  });

  test("refuses to grow past proto-max-bulk-len without allocating", async () => {
    const c = await connect();
    expect(await c.raw("SETRANGE", "k", "536870911", "xx")).toBe("-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n");
    expect(await c.raw("SETRANGE", "k", "536870912", "")).toBe(":0\r\n");
    expect(await c.raw("EXISTS", "k")).toBe(":0\r\n");
    await c.raw("SET", "k", "abc");
    expect(await c.raw("SETRANGE", "k", "536870912", "")).toBe(":3\r\n");
    expect(await c.raw("SETRANGE", "k", I64_MAX, "x")).toBe("-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n");
    c.close();
  });
});

describe("INCR", () => {
  test("keeps the TTL", async () => {
    const c = await connect();
    await c.raw("SET", "n", "1", "EX", "100");
    expect(await c.raw("INCR", "n")).toBe(":2\r\n");
    expect(await c.raw("TTL", "n")).toBe(":100\r\n");
    advanceClock(101 * SEC);
    expect(await c.raw("GET", "n")).toBe("$-1\r\n");
    c.close();
  });

  test("on a key whose TTL has passed starts again from 0, without a TTL", async () => {
    const c = await connect();
    await setExpiredKey(c, "n", "41");
    expect(await c.raw("INCR", "n")).toBe(":1\r\n");
    expect(await c.raw("TTL", "n")).toBe(":-1\r\n");
    c.close();
  });

  test("reaches the 64-bit maximum and then refuses to overflow", async () => {
    const c = await connect();
    await c.raw("SET", "n", "9223372036854775806");
    expect(await c.raw("INCR", "n")).toBe(`:${I64_MAX}\r\n`);
    expect(await c.raw("INCR", "n")).toBe("-ERR increment or decrement would overflow\r\n");
    expect(await c.raw("GET", "n")).toBe(`$19\r\n${I64_MAX}\r\n`);
    c.close();
  });

  test("counts exactly past 2^53", async () => {
    const c = await connect();
    await c.raw("SET", "n", "9007199254740992");
    expect(await c.raw("INCR", "n")).toBe(":9007199254740993\r\n");
    expect(await c.raw("INCR", "n")).toBe(":9007199254740994\r\n");
    expect(await c.raw("GET", "n")).toBe("$16\r\n9007199254740994\r\n");
    c.close();
  });

  test("refuses values that are not canonical 64-bit integers", async () => {
    const c = await connect();
    for (const v of ["007", " 1", "1 ", "+1", "1.0", "-0", "", "9223372036854775808", "-9223372036854775809", "1e3", "0x10"]) {
      await c.raw("SET", "n", v);
      expect(await c.raw("INCR", "n")).toBe("-ERR value is not an integer or out of range\r\n");
    }
    c.close();
  });
});

describe("DECR", () => {
  test("reaches the 64-bit minimum and then refuses to overflow", async () => {
    const c = await connect();
    await c.raw("SET", "n", "-9223372036854775807");
    expect(await c.raw("DECR", "n")).toBe(`:${I64_MIN}\r\n`);
    expect(await c.raw("DECR", "n")).toBe("-ERR increment or decrement would overflow\r\n");
    c.close();
  });

  test("keeps the TTL", async () => {
    const c = await connect();
    await c.raw("SET", "n", "1", "PX", "5000");
    expect(await c.raw("DECR", "n")).toBe(":0\r\n");
    advanceClock(6 * SEC);
    expect(await c.raw("GET", "n")).toBe("$-1\r\n");
    c.close();
  });
});

describe("INCRBY", () => {
  test("takes 64-bit increments at both ends of the range", async () => {
    const c = await connect();
    expect(await c.raw("INCRBY", "n", I64_MIN)).toBe(`:${I64_MIN}\r\n`);
    expect(await c.raw("INCRBY", "n", I64_MAX)).toBe(":-1\r\n");
    expect(await c.raw("INCRBY", "n", I64_MAX)).toBe(":9223372036854775806\r\n");
    expect(await c.raw("INCRBY", "n", "2")).toBe("-ERR increment or decrement would overflow\r\n");
    expect(await c.raw("INCRBY", "n", "9223372036854775808")).toBe("-ERR value is not an integer or out of range\r\n");
    c.close();
  });

  test("adds exactly beyond 2^53", async () => {
    const c = await connect();
    await c.raw("SET", "n", "9007199254740993");
    expect(await c.raw("INCRBY", "n", "9007199254740993")).toBe(":18014398509481986\r\n");
    expect(await c.raw("INCRBY", "n", "-18014398509481987")).toBe(":-1\r\n");
    c.close();
  });

  test("keeps the TTL", async () => {
    const c = await connect();
    await c.raw("SET", "n", "1", "EX", "100");
    expect(await c.raw("INCRBY", "n", "10")).toBe(":11\r\n");
    expect(await c.raw("TTL", "n")).toBe(":100\r\n");
    c.close();
  });
});

describe("DECRBY", () => {
  test("refuses to negate the 64-bit minimum", async () => {
    const c = await connect();
    expect(await c.raw("DECRBY", "n", I64_MIN)).toBe("-ERR decrement would overflow\r\n");
    expect(await c.raw("EXISTS", "n")).toBe(":0\r\n");
    expect(await c.raw("DECRBY", "n", I64_MAX)).toBe(":-9223372036854775807\r\n");
    expect(await c.raw("DECRBY", "n", "1")).toBe(`:${I64_MIN}\r\n`);
    expect(await c.raw("DECRBY", "n", "1")).toBe("-ERR increment or decrement would overflow\r\n");
    c.close();
  });
});

describe("INCRBYFLOAT", () => {
  test("0.1 + 0.2 is 0.3, as Redis's long double arithmetic prints it", async () => {
    const c = await connect();
    await c.raw("SET", "f", "0");
    expect(await c.raw("INCRBYFLOAT", "f", "0.1")).toBe("$3\r\n0.1\r\n");
    expect(await c.raw("INCRBYFLOAT", "f", "0.2")).toBe("$3\r\n0.3\r\n");
    expect(await c.raw("GET", "f")).toBe("$3\r\n0.3\r\n");
    c.close();
  });

  test("keeps the TTL", async () => {
    const c = await connect();
    await c.raw("SET", "f", "1.5", "EX", "100");
    expect(await c.raw("INCRBYFLOAT", "f", "1")).toBe("$3\r\n2.5\r\n");
    expect(await c.raw("TTL", "f")).toBe(":100\r\n");
    advanceClock(101 * SEC);
    expect(await c.raw("GET", "f")).toBe("$-1\r\n");
    c.close();
  });

  test("prints big exponents in full, with the long double's exact digits", async () => {
    const c = await connect();
    expect(await c.raw("INCRBYFLOAT", "a", "1.5e20")).toBe("$21\r\n150000000000000000000\r\n");
    expect(await c.raw("INCRBYFLOAT", "b", "1e30")).toBe("$31\r\n1000000000000000000024696061952\r\n");
    expect(await c.raw("INCRBYFLOAT", "c", "5.0e3")).toBe("$4\r\n5000\r\n");
    const huge = await c.raw("INCRBYFLOAT", "d", "1e4000");
    const head = "$4000\r\n99999999999999999999654638730996237849324925835069576313015083330432619433063423554818216418655";
    expect(huge.slice(0, head.length)).toBe(head);
    expect(huge.length).toBe("$4000\r\n".length + 4000 + 2);
    expect(/^\$4000\r\n\d{4000}\r\n$/.test(huge)).toBe(true);
    c.close();
  });

  test("keeps 17 decimals, so tiny increments vanish and long fractions round", async () => {
    const c = await connect();
    expect(await c.raw("INCRBYFLOAT", "t", "1.5e-20")).toBe("$1\r\n0\r\n");
    expect(await c.raw("INCRBYFLOAT", "u", "3.0000000000000000001")).toBe("$1\r\n3\r\n");
    expect(await c.raw("INCRBYFLOAT", "u", "1e-17")).toBe("$19\r\n3.00000000000000001\r\n");
    expect(await c.raw("INCRBYFLOAT", "v", "1e17")).toBe("$18\r\n100000000000000000\r\n");
    expect(await c.raw("INCRBYFLOAT", "v", "0.5")).toBe("$20\r\n100000000000000000.5\r\n");
    expect(await c.raw("INCRBYFLOAT", "w", "123456789012345678.9")).toBe("$26\r\n123456789012345678.8984375\r\n");
    c.close();
  });

  test("accepts hex and -0, and refuses inf, overflow and values out of long double range", async () => {
    const c = await connect();
    expect(await c.raw("INCRBYFLOAT", "h", "0x10")).toBe("$2\r\n16\r\n");
    expect(await c.raw("INCRBYFLOAT", "z", "-0.0")).toBe("$1\r\n0\r\n");
    expect(await c.raw("INCRBYFLOAT", "h", "inf")).toBe("-ERR increment would produce NaN or Infinity\r\n");
    expect(await c.raw("INCRBYFLOAT", "h", "1e5000")).toBe("-ERR value is not a valid float\r\n");
    await c.raw("SET", "m", "1e4932");
    expect(await c.raw("INCRBYFLOAT", "m", "1e4932")).toBe("-ERR increment would produce NaN or Infinity\r\n");
    expect(await c.raw("GET", "m")).toBe("$6\r\n1e4932\r\n");
    await c.raw("SET", "s", " 1");
    expect(await c.raw("INCRBYFLOAT", "s", "1")).toBe("-ERR value is not a valid float\r\n");
    c.close();
  });

  test("on a key whose TTL has passed starts again from 0", async () => {
    const c = await connect();
    await setExpiredKey(c, "f", "10.5");
    expect(await c.raw("INCRBYFLOAT", "f", "0.25")).toBe("$4\r\n0.25\r\n");
    expect(await c.raw("TTL", "f")).toBe(":-1\r\n");
    c.close();
  });
});

describe("LCS", () => {
  test("finds the common subsequence, its length and its ranges", async () => {
    const c = await connect();
    await c.raw("MSET", "a", "ohmytext", "b", "mynewtext");
    expect(await c.raw("LCS", "a", "b")).toBe("$6\r\nmytext\r\n");
    expect(await c.raw("LCS", "a", "b", "LEN")).toBe(":6\r\n");
    expect(await c.raw("LCS", "a", "b", "IDX")).toBe(
      "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n");
    expect(await c.raw("LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN")).toBe(
      "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n");
    expect(await c.raw("LCS", "a", "b", "LEN", "IDX")).toBe("-ERR If you want both the length and indexes, please just use IDX.\r\n");
    c.close();
  });

  test("treats a key whose TTL has passed as an empty string", async () => {
    const c = await connect();
    await c.raw("SET", "b", "mynewtext");
    await setExpiredKey(c, "a", "ohmytext");
    expect(await c.raw("LCS", "a", "b")).toBe("$0\r\n\r\n");
    expect(await c.raw("LCS", "a", "b", "LEN")).toBe(":0\r\n");
    c.close();
  });

  test("compares bytes, including zero bytes and CRLF", async () => {
    const c = await connect();
    await c.raw("MSET", "a", "x\0\r\ny", "b", "\0z\r\n");
    expect(await c.raw("LCS", "a", "b")).toBe("$3\r\n\0\r\n\r\n");
    c.close();
  });
});

// ---------------------------------------------------------------------------------------------
// --- Bitmaps (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO). The differential
// suite compares scripts of a few commands each with a real Redis; these tests compare thousands
// of random commands on strings of up to a few MB with JS models of Redis's bitmap code (its
// range rules, its BITFIELD overflow checks to the last quirk), and check the other clients'
// side: keyspace notifications, WATCH and ACL key permissions. The models and every expected
// reply were checked by running these tests against redis-server 7.0.15.

/** The bit at `offset` (most significant bit of byte 0 first); 0 past the end. */
const bitAt = (s: Uint8Array, offset: number): number => (offset >> 3 < s.length ? (s[offset >> 3] >> (7 - (offset & 7))) & 1 : 0);
const bytes = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, "latin1"));
const latin1 = (b: Uint8Array): string => Buffer.from(b).toString("latin1");
const popcount = (x: number): number => { let n = 0; for (; x; x &= x - 1) n++; return n; };

/** Random test strings: random bytes, runs of 0x00 and 0xff with a few other bytes, integers
 *  (kept as integers by the server, read as their digits), and the short ones. */
function randomStrings(seed: number, n: number, maxLen: number): string[] {
  const rnd = seededRandom(seed);
  const out = ["", "a", "\xff", "\x00", "12345", "-1", "0", "9223372036854775807"];
  while (out.length < n) {
    const kind = out.length % 4, len = 1 + Math.floor(rnd() * maxLen);
    if (kind === 0) out.push(latin1(Uint8Array.from({ length: len }, () => Math.floor(rnd() * 256))));
    else if (kind === 3) out.push(String(Math.floor((rnd() - 0.5) * 2 ** 40)));
    else {
      const b = new Uint8Array(len);
      for (let i = 0; i < len; ) {
        const run = 1 + Math.floor(rnd() * 64), fill = rnd() < 0.5 ? 0 : 0xff;
        for (let j = 0; j < run && i < len; j++, i++) b[i] = rnd() < 0.02 ? Math.floor(rnd() * 256) : fill;
      }
      out.push(latin1(b));
    }
  }
  return out;
}

/** A random BITCOUNT / BITPOS range for a string of len bytes: indexes from well before the
 *  start to well past the end, negative ones included. */
function randomRange(rnd: () => number, len: number, unit: "BYTE" | "BIT"): [number, number] {
  const span = unit === "BIT" ? len * 8 : len;
  const pick = () => Math.floor((rnd() * 2 - 1) * (span + 3) * 1.2);
  return [pick(), pick()];
}

/** Redis's normalization of a range over `total` indexes: negatives count from the end, then
 *  both are clamped into the string. Empty (start > end) as null. */
function normalizeRange(start: number, end: number, total: number): [number, number] | null {
  if (start < 0) start += total;
  if (end < 0) end += total;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= total) end = total - 1;
  return start > end ? null : [start, end];
}

/** BITCOUNT's model. */
function modelBitcount(s: Uint8Array, range?: [number, number, "BYTE" | "BIT"]): number {
  if (!range) return s.reduce((n, b) => n + popcount(b), 0);
  const [start, end, unit] = range;
  // Both negative and start after end: 0 before any clamping.
  if (start < 0 && end < 0 && start > end) return 0;
  const r = normalizeRange(start, end, unit === "BIT" ? s.length * 8 : s.length);
  if (!r) return 0;
  const [from, to] = unit === "BIT" ? r : [r[0] * 8, r[1] * 8 + 7];
  let n = 0;
  for (let i = from; i <= to; i++) n += bitAt(s, i);
  return n;
}

/** BITPOS's model: the first `bit` in the range, or -1; looking for a 0 with no end given, the
 *  string counts as followed by zeros (the bit after its end). */
function modelBitpos(s: Uint8Array, bit: number, start?: number, end?: number, unit: "BYTE" | "BIT" = "BYTE"): number {
  let from = 0, to = s.length * 8 - 1;
  if (start !== undefined) {
    const total = unit === "BIT" ? s.length * 8 : s.length;
    const r = normalizeRange(start, end ?? (unit === "BIT" ? total + 7 : total - 1), total);
    if (!r) return -1;
    [from, to] = unit === "BIT" ? r : [r[0] * 8, r[1] * 8 + 7];
  } else if (s.length === 0) return -1;
  for (let i = from; i <= to; i++) if (bitAt(s, i) === bit) return i;
  return bit === 0 && end === undefined ? to + 1 : -1;
}


/** Whether `write`, run on another connection between WATCH key and EXEC, aborts the EXEC. */
async function abortsWatch(c: RawClient, key: string, write: (string | number)[]): Promise<boolean> {
  const other = await RawClient.connect((await sharedServer()).port);
  expect(await c.raw("WATCH", key)).toBe("+OK\r\n");
  await other.raw(...write);
  other.close();
  expect(await c.raw("MULTI")).toBe("+OK\r\n");
  await c.raw("PING");
  const reply = await c.raw("EXEC");
  expect([arr("+PONG\r\n"), "*-1\r\n"]).toContain(reply);
  return reply === "*-1\r\n";
}


describe("SETBIT", () => {
  test("5000 random SETBITs over a 64 KB range answer the old bit and leave the model's bytes", async () => {
    const c = await connect();
    const rnd = seededRandom(31);
    const model = new Uint8Array(1 << 16);
    let len = 0;
    const cmds: (string | number)[][] = [], want: string[] = [];
    for (let i = 0; i < 5000; i++) {
      // Most of them near earlier ones, so bits are set, cleared and set again.
      const offset = i % 4 === 0 ? Math.floor(rnd() * 8 * (1 << 16)) : Math.floor(rnd() * 4096);
      const value = rnd() < 0.6 ? 1 : 0;
      cmds.push(["SETBIT", "b", offset, value]);
      want.push(int(bitAt(model, offset)));
      if (value) model[offset >> 3] |= 0x80 >> (offset & 7);
      else model[offset >> 3] &= ~(0x80 >> (offset & 7));
      len = Math.max(len, (offset >> 3) + 1);
    }
    expect(await pipeline(c, cmds)).toEqual(want);
    expect(await c.raw("STRLEN", "b")).toBe(int(len));
    expect(await c.raw("GET", "b")).toBe(bulk(latin1(model.subarray(0, len))));
    c.close();
  });

  test("a bit 4 MB out grows the string with zero bytes, keeping what was there", async () => {
    const c = await connect();
    await c.raw("SET", "b", "abc");
    const offset = 4 * 8 * 1024 * 1024 - 1;
    expect(await c.raw("SETBIT", "b", offset, 1)).toBe(int(0));
    expect(await c.raw("STRLEN", "b")).toBe(int(4 * 1024 * 1024));
    expect(await c.raw("GETRANGE", "b", 0, 4)).toBe(bulk("abc\0\0"));
    expect(await c.raw("GETRANGE", "b", -2, -1)).toBe(bulk("\0\x01"));
    expect(await c.raw("BITCOUNT", "b")).toBe(int(modelBitcount(bytes("abc")) + 1));
    expect(await c.raw("BITPOS", "b", 1, 3)).toBe(int(offset));
    expect(await c.raw("BITPOS", "b", 0, -1)).toBe(int(offset - 7));
    expect(await c.raw("GETBIT", "b", offset)).toBe(int(1));
    expect(await c.raw("SETBIT", "b", offset, 0)).toBe(int(1));
    expect(await c.raw("BITPOS", "b", 1, 3)).toBe(int(-1));
    c.close();
  });

  test("notifies setbit, and touches WATCHed keys, only when a bit changes or the string grows", async () => {
    const c = await connect();
    const got = await keyspaceEvents(c, async () => {
      expect(await c.raw("SETBIT", "b", 7, 1)).toBe(int(0)); // creates
      expect(await c.raw("SETBIT", "b", 7, 1)).toBe(int(1)); // no change
      expect(await c.raw("SETBIT", "b", 3, 0)).toBe(int(0)); // no change
      expect(await c.raw("SETBIT", "b", 7, 0)).toBe(int(1)); // changes
      expect(await c.raw("SETBIT", "b", 100, 0)).toBe(int(0)); // grows
    });
    expect(got).toEqual([...keyspaceEvent("setbit", "b"), ...keyspaceEvent("setbit", "b"), ...keyspaceEvent("setbit", "b")]);
    expect(await abortsWatch(c, "b", ["SETBIT", "b", 3, 0])).toBe(false);
    expect(await abortsWatch(c, "b", ["SETBIT", "b", 3, 1])).toBe(true);
    expect(await abortsWatch(c, "b", ["SETBIT", "b", 3, 1])).toBe(false);
    expect(await abortsWatch(c, "b", ["SETBIT", "b", 200, 0])).toBe(true);
    c.close();
  });
});

describe("GETBIT", () => {
  test("reads random offsets in and past the end of random strings, integers among them, as the model does", async () => {
    const c = await connect();
    const rnd = seededRandom(32);
    const strings = randomStrings(320, 40, 3000);
    await c.raw("MSET", ...strings.flatMap((s, i) => [`s${i}`, s]));
    const cmds: (string | number)[][] = [], want: string[] = [];
    strings.forEach((s, i) => {
      for (let k = 0; k < 50; k++) {
        const offset = Math.floor(rnd() * (s.length * 8 + 40));
        cmds.push(["GETBIT", `s${i}`, offset]);
        want.push(int(bitAt(bytes(s), offset)));
      }
    });
    expect(await pipeline(c, cmds)).toEqual(want);
    c.close();
  });
});

describe("BITCOUNT", () => {
  test("whole strings and random BYTE and BIT ranges, negative ones included, count as the model does", async () => {
    const c = await connect();
    const rnd = seededRandom(33);
    const strings = randomStrings(330, 60, 4000);
    await c.raw("MSET", ...strings.flatMap((s, i) => [`s${i}`, s]));
    const cmds: (string | number)[][] = [], want: string[] = [];
    strings.forEach((s, i) => {
      const b = bytes(s);
      cmds.push(["BITCOUNT", `s${i}`]);
      want.push(int(modelBitcount(b)));
      for (let k = 0; k < 30; k++) {
        const unit = k % 3 === 0 ? "BIT" : "BYTE";
        const [start, end] = randomRange(rnd, b.length, unit);
        cmds.push(k % 3 === 1 ? ["BITCOUNT", `s${i}`, start, end] : ["BITCOUNT", `s${i}`, start, end, unit]);
        want.push(int(modelBitcount(b, [start, end, unit])));
      }
    });
    const got = await pipeline(c, cmds);
    cmds.forEach((cmd, i) => expect([cmd, got[i]]).toEqual([cmd, want[i]]));
    c.close();
  });
});

describe("BITPOS", () => {
  test("finds the first 0 or 1 of random strings, whole or in random BYTE and BIT ranges, as the model does", async () => {
    const c = await connect();
    const rnd = seededRandom(34);
    const strings = randomStrings(340, 60, 3000);
    await c.raw("MSET", ...strings.flatMap((s, i) => [`s${i}`, s]));
    const cmds: (string | number)[][] = [], want: string[] = [];
    strings.forEach((s, i) => {
      const b = bytes(s);
      for (const bit of [0, 1]) {
        cmds.push(["BITPOS", `s${i}`, bit]);
        want.push(int(modelBitpos(b, bit)));
        for (let k = 0; k < 15; k++) {
          const unit = k % 3 === 0 ? "BIT" : "BYTE";
          const [start, end] = randomRange(rnd, b.length, unit);
          if (k % 3 === 1) {
            // Only a start (bytes).
            cmds.push(["BITPOS", `s${i}`, bit, start]);
            want.push(int(modelBitpos(b, bit, start)));
          } else {
            cmds.push(k % 3 === 2 ? ["BITPOS", `s${i}`, bit, start, end] : ["BITPOS", `s${i}`, bit, start, end, unit]);
            want.push(int(modelBitpos(b, bit, start, end, unit)));
          }
        }
      }
    });
    const got = await pipeline(c, cmds);
    cmds.forEach((cmd, i) => expect([cmd, got[i]]).toEqual([cmd, want[i]]));
    c.close();
  });
});

describe("BITOP", () => {
  test("AND, OR and XOR of 1 to 4 sources of different lengths (missing keys and integers included), and NOT, as the model computes them", async () => {
    const c = await connect();
    const rnd = seededRandom(35);
    const strings = randomStrings(350, 30, 2000);
    await c.raw("MSET", ...strings.flatMap((s, i) => [`s${i}`, s]));
    const value = (k: string) => (k.startsWith("s") ? bytes(strings[Number(k.slice(1))]) : new Uint8Array(0));
    for (let round = 0; round < 150; round++) {
      const op = ["AND", "OR", "XOR", "NOT"][round % 4];
      const n = op === "NOT" ? 1 : 1 + Math.floor(rnd() * 4);
      const keys = Array.from({ length: n }, () => (rnd() < 0.1 ? "missing" : `s${Math.floor(rnd() * strings.length)}`));
      const srcs = keys.map(value);
      const len = Math.max(...srcs.map((s) => s.length));
      const out = new Uint8Array(len);
      for (let i = 0; i < len; i++) {
        const at = srcs.map((s) => (i < s.length ? s[i] : 0));
        out[i] = op === "NOT" ? ~at[0] & 0xff : at.reduce((a, b) => (op === "AND" ? a & b : op === "OR" ? a | b : a ^ b));
      }
      expect(await c.raw("BITOP", op, "dest", ...keys)).toBe(int(len));
      expect(await c.raw("GET", "dest")).toBe(len ? bulk(latin1(out)) : "$-1\r\n");
    }
    c.close();
  });

  test("notifies set on the destination, or del when an empty result deletes it; touches a WATCHed destination the same way", async () => {
    const c = await connect();
    await c.raw("SET", "a", "x");
    const got = await keyspaceEvents(c, async () => {
      expect(await c.raw("BITOP", "AND", "d", "a")).toBe(int(1));
      expect(await c.raw("BITOP", "NOT", "d", "a")).toBe(int(1));
      expect(await c.raw("BITOP", "OR", "d", "missing")).toBe(int(0));
      expect(await c.raw("BITOP", "OR", "d", "missing")).toBe(int(0));
    });
    expect(got).toEqual([...keyspaceEvent("set", "d"), ...keyspaceEvent("set", "d"), ...keyspaceEvent("del", "d")]);
    expect(await abortsWatch(c, "d", ["BITOP", "AND", "d", "a"])).toBe(true);
    expect(await abortsWatch(c, "d", ["BITOP", "AND", "d", "missing"])).toBe(true);
    expect(await abortsWatch(c, "d", ["BITOP", "AND", "d", "missing"])).toBe(false);
    c.close();
  });

  test("needs write access to the destination's key", async () => {
    const c = await connect();
    await c.raw("SET", "a", "x");
    await asAclUser(c, ["+@all", "%R~*"], async (u) => {
      expect(await u.raw("BITCOUNT", "a")).toBe(int(4));
      expect(await u.raw("BITOP", "AND", "d", "a")).toBe(NOPERM_KEYS);
    });
    await asAclUser(c, ["+@all", "%R~*", "%W~d*"], async (u) => {
      expect(await u.raw("BITOP", "AND", "d", "a")).toBe(int(1));
      expect(await u.raw("BITOP", "AND", "x", "a")).toBe(NOPERM_KEYS);
    });
    expect(await c.raw("EXISTS", "d", "x")).toBe(int(1));
    c.close();
  });
});

// BITFIELD's model: Redis's checkSignedBitfieldOverflow and checkUnsignedBitfieldOverflow as
// written, in 64-bit two's complement (BigInt.asIntN / asUintN), quirks included: a SET of a
// value below about -2^63 + 2^(bits-1) saturates to the maximum, as its int64 subtraction wraps.

type Overflow = "WRAP" | "SAT" | "FAIL";
const i64 = (x: bigint): bigint => BigInt.asIntN(64, x);
const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);

/** [overflow: 1 up, -1 down, 0 none, the value to write when it overflowed (WRAP or SAT)]. */
function checkSigned(value: bigint, incr: bigint, bits: number, ow: Overflow): [number, bigint] {
  const max = bits === 64 ? (1n << 63n) - 1n : (1n << BigInt(bits - 1)) - 1n;
  const min = -max - 1n;
  const maxincr = i64(u64(max) - u64(value)), minincr = i64(min - value);
  const wrap = (): bigint => {
    let sum = u64(value + incr);
    if (bits < 64) {
      const mask = u64(-1n << BigInt(bits));
      sum = sum & (1n << BigInt(bits - 1)) ? sum | mask : sum & ~mask;
    }
    return i64(sum);
  };
  if (value > max || (bits !== 64 && incr > maxincr) || (value >= 0n && incr > 0n && incr > maxincr)) return [1, ow === "WRAP" ? wrap() : max];
  if (value < min || (bits !== 64 && incr < minincr) || (value < 0n && incr < 0n && incr < minincr)) return [-1, ow === "WRAP" ? wrap() : min];
  return [0, 0n];
}

function checkUnsigned(value: bigint, incr: bigint, bits: number, ow: Overflow): [number, bigint] {
  const max = (1n << BigInt(bits)) - 1n;
  const maxincr = i64(u64(max - value)), minincr = i64(u64(-value));
  const wrap = (): bigint => u64(value + incr) & max;
  if (value > max || (incr > 0n && incr > maxincr)) return [1, ow === "WRAP" ? wrap() : max];
  if (incr < 0n && incr < minincr) return [-1, ow === "WRAP" ? wrap() : 0n];
  return [0, 0n];
}

/** Reads `bits` bits at `offset` as an unsigned number. */
function readField(s: Uint8Array, offset: number, bits: number): bigint {
  let v = 0n;
  for (let i = 0; i < bits; i++) v = (v << 1n) | BigInt(bitAt(s, offset + i));
  return v;
}

/** Writes the low `bits` bits of v at `offset` (s is long enough). */
function writeField(s: Uint8Array, offset: number, bits: number, v: bigint): void {
  const u = u64(v);
  for (let i = 0; i < bits; i++) {
    const pos = offset + i, bit = Number((u >> BigInt(bits - 1 - i)) & 1n);
    s[pos >> 3] = (s[pos >> 3] & ~(0x80 >> (pos & 7))) | (bit << (7 - (pos & 7)));
  }
}

interface FieldOp { op: "GET" | "SET" | "INCRBY"; signed: boolean; bits: number; offset: string; value?: bigint; ow: Overflow }

/** Runs one BITFIELD's operations on the model string; returns the new string and the replies
 *  (null for a FAILed write). A write makes the string long enough for every write first. */
function modelBitfield(s: Uint8Array, ops: FieldOp[]): [Uint8Array, (bigint | null)[]] {
  const at = (f: FieldOp) => (f.offset.startsWith("#") ? Number(f.offset.slice(1)) * f.bits : Number(f.offset));
  const writes = ops.filter((f) => f.op !== "GET");
  if (writes.length) {
    const need = Math.max(...writes.map((f) => ((at(f) + f.bits - 1) >> 3) + 1));
    if (need > s.length) { const t = new Uint8Array(need); t.set(s); s = t; }
  }
  const replies: (bigint | null)[] = [];
  for (const f of ops) {
    const offset = at(f), raw = readField(s, offset, f.bits);
    const old = f.signed && raw >> BigInt(f.bits - 1) ? raw - (1n << BigInt(f.bits)) : raw;
    if (f.op === "GET") { replies.push(old); continue; }
    let next: bigint, ov: number, limit: bigint;
    if (f.signed) {
      if (f.op === "INCRBY") { [ov, limit] = checkSigned(old, f.value!, f.bits, f.ow); next = ov ? limit : old + f.value!; }
      else { [ov, limit] = checkSigned(f.value!, 0n, f.bits, f.ow); next = ov ? limit : f.value!; }
    } else {
      const v = f.op === "INCRBY" ? f.value! : u64(f.value!);
      if (f.op === "INCRBY") { [ov, limit] = checkUnsigned(old, v, f.bits, f.ow); next = ov ? limit : u64(old + v); }
      else { [ov, limit] = checkUnsigned(v, 0n, f.bits, f.ow); next = ov ? limit : v; }
    }
    if (ov && f.ow === "FAIL") { replies.push(null); continue; }
    replies.push(f.op === "INCRBY" ? next : old);
    writeField(s, offset, f.bits, next);
  }
  return [s, replies];
}

/** A random field and value: every width, bit and #-scaled offsets, values near the width's
 *  limits, small ones and 64-bit extremes. */
function randomFieldOp(rnd: () => number, ow: Overflow, readOnly = false): FieldOp {
  const signed = rnd() < 0.5, bits = 1 + Math.floor(rnd() * (signed ? 64 : 63));
  const offset = rnd() < 0.3 ? `#${Math.floor(rnd() * (512 / bits))}` : String(Math.floor(rnd() * 500));
  const op = readOnly ? "GET" : (["GET", "SET", "INCRBY"] as const)[Math.floor(rnd() * 3)];
  const edges = [0n, 1n, -1n, 1n << BigInt(bits - 1), -(1n << BigInt(bits - 1)), (1n << BigInt(bits)) - 1n, 1n << BigInt(bits), (1n << 63n) - 1n, -(1n << 63n), -(1n << 63n) + 5n];
  let value: bigint;
  const r = rnd();
  if (r < 0.4) value = edges[Math.floor(rnd() * edges.length)] + BigInt(Math.floor(rnd() * 5) - 2);
  else if (r < 0.7) value = BigInt(Math.floor((rnd() - 0.5) * 1000));
  else value = BigInt.asIntN(64, BigInt(Math.floor(rnd() * 2 ** 32)) * BigInt(Math.floor(rnd() * 2 ** 32)) + BigInt(Math.floor(rnd() * 2 ** 32)));
  return { op, signed, bits, offset, value: i64(value), ow };
}

const fieldArgs = (f: FieldOp): string[] => [f.op, `${f.signed ? "i" : "u"}${f.bits}`, f.offset, ...(f.op === "GET" ? [] : [String(f.value)])];
const fieldReply = (rs: (bigint | null)[]): string => arr(...rs.map((r) => (r === null ? "$-1\r\n" : `:${r}\r\n`)));

describe("BITFIELD", () => {
  test("3000 random GET, SET and INCRBY, on every width with WRAP, SAT and FAIL, answer and write as the model does", async () => {
    const c = await connect();
    const rnd = seededRandom(36);
    let model: Uint8Array = new Uint8Array(0);
    const cmds: string[][] = [], want: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const args = ["BITFIELD", "bf"], ops: FieldOp[] = [];
      let ow: Overflow = "WRAP";
      for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--) {
        if (rnd() < 0.5) { ow = (["WRAP", "SAT", "FAIL"] as const)[Math.floor(rnd() * 3)]; args.push("OVERFLOW", ow); }
        const f = randomFieldOp(rnd, ow);
        ops.push(f);
        args.push(...fieldArgs(f));
      }
      const [next, replies] = modelBitfield(model, ops);
      model = next;
      cmds.push(args);
      want.push(fieldReply(replies));
    }
    const got = await pipeline(c, cmds);
    cmds.forEach((cmd, i) => expect([cmd, got[i]]).toEqual([cmd, want[i]]));
    expect(await c.raw("GET", "bf")).toBe(bulk(latin1(model)));
    c.close();
  });

  test("notifies setbit, and touches WATCHed keys, when a value changes or the string grows; a FAILed write that creates the key does neither", async () => {
    const c = await connect();
    await c.raw("SETBIT", "b", 7, 1);
    const got = await keyspaceEvents(c, async () => {
      expect(await c.raw("BITFIELD", "b", "SET", "u8", 0, 1)).toBe(arr(int(1))); // no change
      expect(await c.raw("BITFIELD", "b", "INCRBY", "u8", 0, 0)).toBe(arr(int(1)));
      expect(await c.raw("BITFIELD", "b", "SET", "u8", 0, 5)).toBe(arr(int(1)));
      expect(await c.raw("BITFIELD", "b", "GET", "u8", 0, "SET", "u8", 16, 0)).toBe(arr(int(5), int(0))); // grows
      expect(await c.raw("BITFIELD", "n", "OVERFLOW", "FAIL", "INCRBY", "u2", 100, 5)).toBe(arr("$-1\r\n"));
    });
    expect(got).toEqual([...keyspaceEvent("setbit", "b"), ...keyspaceEvent("setbit", "b")]);
    expect(await c.raw("STRLEN", "n")).toBe(int(13));
    expect(await abortsWatch(c, "b", ["BITFIELD", "b", "SET", "u8", 0, 5])).toBe(false);
    expect(await abortsWatch(c, "b", ["BITFIELD", "b", "INCRBY", "u8", 0, 1])).toBe(true);
    expect(await abortsWatch(c, "b", ["BITFIELD", "b", "OVERFLOW", "FAIL", "INCRBY", "u4", 4, 100])).toBe(false);
    expect(await abortsWatch(c, "b", ["BITFIELD", "b", "SET", "u8", 100, 0])).toBe(true);
    expect(await abortsWatch(c, "m", ["BITFIELD", "m", "OVERFLOW", "FAIL", "INCRBY", "u4", 40, 100])).toBe(false);
    expect(await c.raw("EXISTS", "m")).toBe(int(1));
    c.close();
  });

  test("with read access to the key, a BITFIELD of GETs (and OVERFLOWs) runs; SET and INCRBY need read and write access", async () => {
    const c = await connect();
    await c.raw("SET", "bits", "ab");
    await asAclUser(c, ["+@all", "%R~*"], async (u) => {
      expect(await u.raw("BITFIELD", "bits", "GET", "u8", 0, "GET", "i4", 4)).toBe(arr(int(97), int(1)));
      expect(await u.raw("BITFIELD", "bits", "OVERFLOW", "SAT", "GET", "u8", 0)).toBe(arr(int(97)));
      expect(await u.raw("BITFIELD", "bits", "SET", "u8", 0, 1)).toBe(NOPERM_KEYS);
      expect(await u.raw("BITFIELD", "bits", "GET", "u8", 0, "INCRBY", "u8", 0, 1)).toBe(NOPERM_KEYS);
    });
    await asAclUser(c, ["+@all", "%W~*"], async (u) => {
      expect(await u.raw("BITFIELD", "bits", "GET", "u8", 0)).toBe(NOPERM_KEYS);
      expect(await u.raw("BITFIELD", "bits", "SET", "u8", 0, 1)).toBe(NOPERM_KEYS);
    });
    expect(await c.raw("GET", "bits")).toBe(bulk("ab"));
    c.close();
  });
});

describe("BITFIELD_RO", () => {
  test("reads every width at random offsets of random strings as BITFIELD's GET and the model do", async () => {
    const c = await connect();
    const rnd = seededRandom(37);
    const strings = randomStrings(370, 20, 80);
    await c.raw("MSET", ...strings.flatMap((s, i) => [`s${i}`, s]));
    const cmds: string[][] = [], want: string[] = [];
    strings.forEach((s, i) => {
      for (let k = 0; k < 40; k++) {
        const ops = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => randomFieldOp(rnd, "WRAP", true));
        const reply = fieldReply(modelBitfield(bytes(s), ops)[1]);
        cmds.push(["BITFIELD_RO", `s${i}`, ...ops.flatMap(fieldArgs)], ["BITFIELD", `s${i}`, ...ops.flatMap(fieldArgs)]);
        want.push(reply, reply);
      }
    });
    const got = await pipeline(c, cmds);
    cmds.forEach((cmd, i) => expect([cmd, got[i]]).toEqual([cmd, want[i]]));
    // Only reads: no key was created or grown.
    expect(await c.raw("DBSIZE")).toBe(int(strings.length));
    expect(await pipeline(c, strings.map((_, i) => ["STRLEN", `s${i}`]))).toEqual(strings.map((s) => int(s.length)));
    c.close();
  });

  test("is what a user with only +@read commands may run", async () => {
    const c = await connect();
    await c.raw("SET", "bits", "ab");
    await asAclUser(c, ["+@read", "~*"], async (u) => {
      expect(await u.raw("BITFIELD_RO", "bits", "GET", "u8", 0, "GET", "i4", 12)).toBe(arr(int(97), int(2)));
      expect(await u.raw("BITFIELD", "bits", "GET", "u8", 0)).toBe("-NOPERM this user has no permissions to run the 'bitfield' command\r\n");
    });
    c.close();
  });
});
