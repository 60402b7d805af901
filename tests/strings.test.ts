// main.ts, Strings: one describe per command. The differential suite already compares
// plain command scripts with a real Redis; these tests add what it cannot do: steering the
// server's clock (advanceClock) to check TTL semantics without sleeping, and exact 64-bit and
// long-double edges. Replies are compared as exact wire bytes.
import { describe, test, expect } from "bun:test";
import { connect, advanceClock, budgetMs, elapsedMs, pipeline } from "./helpers.ts";
import type { RawClient } from "./client.ts";

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
