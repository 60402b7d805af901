// main.ts, Hashes: one describe per command. The differential suite compares short
// scripts with a real Redis; these tests check what it cannot: behaviour at 100k fields (SCAN's
// guarantees, constant-time random picks with no per-call copying, picks spread over every field),
// the listpack -> hashtable conversion at its thresholds, including thresholds changed by CONFIG SET,
// and keys deleted when their last field goes. Timing bounds are generous (the machine is shared).
import { describe, test, expect, beforeAll, afterAll } from "bun:test";
import { connect, pipeline, elapsedMs, budgetMs, bulk, bulks, arr, int } from "./helpers.ts";
import type { RawClient } from "./client.ts";

const FIELDS = Array.from({ length: 100000 }, (_, i) => `f${i}`);
const valueOf = (field: string) => `v${field.slice(1)}`;

/** HSETs the fields (value v<n> for f<n>) in batches of 10k. */
async function hsetAll(c: RawClient, key: string, fields: string[]): Promise<void> {
  for (let i = 0; i < fields.length; i += 10000) await c.raw("HSET", key, ...fields.slice(i, i + 10000).flatMap((f) => [f, valueOf(f)]));
  expect(await c.raw("HLEN", key)).toBe(int(fields.length));
}

/** Runs fn with hash config parameters changed, restoring Redis's defaults afterwards. */
async function withHashConfig(c: RawClient, params: Record<string, number>, fn: () => Promise<void>): Promise<void> {
  try {
    for (const [k, v] of Object.entries(params)) expect(await c.raw("CONFIG", "SET", k, v)).toBe("+OK\r\n");
    await fn();
  } finally {
    await c.raw("CONFIG", "SET", "hash-max-listpack-entries", 512, "hash-max-listpack-value", 64);
  }
}

const encoding = (c: RawClient, key: string) => c.raw("OBJECT", "ENCODING", key);
const LISTPACK = bulk("listpack"), HASHTABLE = bulk("hashtable");

/** Every field HSCAN returns over a whole iteration, in order of arrival (repeats kept). */
async function hscanAll(c: RawClient, key: string, count: number, between?: (round: number) => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  let cursor = "0", round = 0;
  do {
    const [next, items] = (await c.cmd("HSCAN", key, cursor, "COUNT", count)) as [string, string[]];
    for (let i = 0; i < items.length; i += 2) {
      if (items[i + 1] !== valueOf(items[i])) throw new Error(`HSCAN gave ${items[i]} = ${items[i + 1]}`);
      seen.push(items[i]);
    }
    cursor = next;
    if (between) await between(round++);
  } while (cursor !== "0");
  return seen;
}

describe("HSET", () => {
  test("a hash is a listpack up to 512 fields, a hashtable from the 513th, and stays one when it shrinks", async () => {
    const c = await connect();
    await hsetAll(c, "h", FIELDS.slice(0, 512));
    expect(await encoding(c, "h")).toBe(LISTPACK);
    expect(await c.raw("HSET", "h", "f512", "v512")).toBe(int(1));
    expect(await encoding(c, "h")).toBe(HASHTABLE);
    expect(await c.raw("HDEL", "h", ...FIELDS.slice(1, 513))).toBe(int(512));
    expect(await c.raw("HGETALL", "h")).toBe(bulks("f0", "v0"));
    expect(await encoding(c, "h")).toBe(HASHTABLE);
    c.close();
  });

  test("a field or value longer than 64 bytes makes a hashtable; 64 bytes still fit a listpack", async () => {
    const c = await connect();
    await c.raw("HSET", "fits", "x".repeat(64), "y".repeat(64));
    expect(await encoding(c, "fits")).toBe(LISTPACK);
    await c.raw("HSET", "longvalue", "f", "v", "g", "y".repeat(65));
    expect(await encoding(c, "longvalue")).toBe(HASHTABLE);
    await c.raw("HSET", "longfield", "f", "v");
    await c.raw("HSET", "longfield", "x".repeat(65), "v");
    expect(await encoding(c, "longfield")).toBe(HASHTABLE);
    await c.raw("HDEL", "longfield", "x".repeat(65));
    expect(await encoding(c, "longfield")).toBe(HASHTABLE);
    c.close();
  });

  test("CONFIG SET of the thresholds (or their ziplist aliases) applies to new hashes and to the next write of old ones", async () => {
    const c = await connect();
    await c.raw("HSET", "old", "a", 1, "b", 2, "c", 3);
    await withHashConfig(c, { "hash-max-ziplist-entries": 2, "hash-max-listpack-value": 8 }, async () => {
      expect(await c.raw("CONFIG", "GET", "hash-max-listpack-entries")).toBe(bulks("hash-max-listpack-entries", "2"));
      expect(await encoding(c, "old")).toBe(LISTPACK);
      expect(await c.raw("HSET", "old", "a", 9)).toBe(int(0)); // an update counts too
      expect(await encoding(c, "old")).toBe(HASHTABLE);
      await c.raw("HSET", "two", "a", 1, "b", 2);
      expect(await encoding(c, "two")).toBe(LISTPACK);
      await c.raw("HSET", "three", "a", 1, "b", 2, "c", 3);
      expect(await encoding(c, "three")).toBe(HASHTABLE);
      await c.raw("HSET", "v8", "f", "12345678");
      expect(await encoding(c, "v8")).toBe(LISTPACK);
      await c.raw("HSET", "v9", "f", "123456789");
      expect(await encoding(c, "v9")).toBe(HASHTABLE);
    });
    await withHashConfig(c, { "hash-max-listpack-entries": 0 }, async () => {
      await c.raw("HSET", "zero", "a", 1);
      expect(await encoding(c, "zero")).toBe(HASHTABLE);
    });
    c.close();
  });

  test("sets 100k fields in batches; HGET and HMGET of sampled fields and HSTRLEN agree", async () => {
    const c = await connect();
    await hsetAll(c, "h", FIELDS);
    expect(await encoding(c, "h")).toBe(HASHTABLE);
    const sample = FIELDS.filter((_, i) => i % 997 === 0);
    const replies = await pipeline(c, sample.map((f) => ["HGET", "h", f]));
    sample.forEach((f, i) => expect(replies[i]).toBe(bulk(valueOf(f))));
    expect(await c.raw("HMGET", "h", "f0", "nosuch", "f99999")).toBe(arr(bulk("v0"), "$-1\r\n", bulk("v99999")));
    expect(await c.raw("HSET", "h", "f5", "new", "f100000", "v100000")).toBe(int(1));
    expect(await c.raw("HLEN", "h")).toBe(int(100001));
    expect(await c.raw("HSTRLEN", "h", "f5")).toBe(int(3));
    c.close();
  });
});

describe("HDEL", () => {
  test("deleting every other field of a 100k hash leaves exactly the rest", async () => {
    const c = await connect();
    await hsetAll(c, "h", FIELDS);
    const gone = FIELDS.filter((_, i) => i % 2 === 0);
    let deleted = 0;
    for (let i = 0; i < gone.length; i += 10000) deleted += Number(await c.cmd("HDEL", "h", ...gone.slice(i, i + 10000), "nosuch"));
    expect(deleted).toBe(50000);
    expect(await c.raw("HLEN", "h")).toBe(int(50000));
    const keys = (await c.cmd("HKEYS", "h")) as string[];
    expect(keys.slice().sort()).toEqual(FIELDS.filter((_, i) => i % 2 === 1).sort());
    expect(await c.raw("HEXISTS", "h", "f0")).toBe(int(0));
    expect(await c.raw("HEXISTS", "h", "f99999")).toBe(int(1));
    c.close();
  });

  test("a listpack hash of 10000 fields keeps insertion order through deletes on every page", async () => {
    // A listpack's deletes keep the other entries in order (the Dict shifts every later slot
    // down, across its 4096-entry pages); the limit is raised so that the hash stays a listpack.
    const c = await connect();
    await withHashConfig(c, { "hash-max-listpack-entries": 20000 }, async () => {
      const fields = FIELDS.slice(0, 10000);
      await hsetAll(c, "ordered", fields);
      expect(await encoding(c, "ordered")).toBe(LISTPACK);
      const gone = new Set(["f0", "f1", "f4095", "f4096", "f4097", "f5000", "f8191", "f8192", "f9998", "f9999"]);
      expect(await c.raw("HDEL", "ordered", ...gone)).toBe(int(gone.size));
      const rest = fields.filter((f) => !gone.has(f));
      expect(await c.cmd("HKEYS", "ordered")).toEqual(rest);
      expect(await c.cmd("HVALS", "ordered")).toEqual(rest.map(valueOf));
      expect(await c.raw("HGET", "ordered", "f4098")).toBe(bulk("v4098"));
      expect(await c.raw("HEXISTS", "ordered", "f4096")).toBe(int(0));
      expect(await c.raw("HSET", "ordered", "f4096", "again")).toBe(int(1));
      expect(((await c.cmd("HKEYS", "ordered")) as string[]).at(-1)).toBe("f4096");
    });
    c.close();
  });

  test("deletes the key with its last field, for a listpack and for a hashtable", async () => {
    const c = await connect();
    await c.raw("HSET", "small", "a", 1, "b", 2);
    expect(await c.raw("HDEL", "small", "a", "b", "c")).toBe(int(2));
    expect(await c.raw("EXISTS", "small")).toBe(int(0));
    await hsetAll(c, "big", FIELDS.slice(0, 1000));
    expect(await c.raw("HDEL", "big", ...FIELDS.slice(0, 1000))).toBe(int(1000));
    expect(await c.raw("EXISTS", "big")).toBe(int(0));
    expect(await c.raw("TYPE", "big")).toBe("+none\r\n");
    c.close();
  });

  test("a listpack hash keeps its insertion order after deletes in the middle", async () => {
    const c = await connect();
    await c.raw("HSET", "h", "a", 1, "b", 2, "c", 3, "d", 4, "e", 5);
    await c.raw("HDEL", "h", "b", "d");
    await c.raw("HSET", "h", "b", 6, "a", 7);
    expect(await c.raw("HGETALL", "h")).toBe(bulks("a", "7", "c", "3", "e", "5", "b", "6"));
    c.close();
  });
});

describe("HGETALL", () => {
  test("returns every pair of a 50k-field hash once", async () => {
    const c = await connect();
    await hsetAll(c, "h", FIELDS.slice(0, 50000));
    const flat = (await c.cmd("HGETALL", "h")) as string[];
    expect(flat.length).toBe(100000);
    const fields = new Set<string>();
    let wrong = 0;
    for (let i = 0; i < flat.length; i += 2) {
      if (flat[i + 1] !== valueOf(flat[i])) wrong++;
      fields.add(flat[i]);
    }
    expect(wrong).toBe(0);
    expect(fields.size).toBe(50000);
    c.close();
  });
});

describe("HRANDFIELD", () => {
  let c: RawClient;
  beforeAll(async () => {
    c = await connect();
    await hsetAll(c, "h", FIELDS);
  });
  afterAll(() => c.close());

  test("a negative count with WITHVALUES pairs each field with its own value, short or long", async () => {
    const long = "L".repeat(300); // past the 255 bytes kept in the arena
    await c.cmd("HSET", "few", "a", "1", long, "2", "c", long);
    const got = (await c.cmd("HRANDFIELD", "few", -30000, "WITHVALUES")) as string[];
    expect(got.length).toBe(60000);
    const pairs = new Set<string>();
    for (let i = 0; i < got.length; i += 2) pairs.add(`${got[i]}=${got[i + 1]}`);
    expect(pairs).toEqual(new Set(["a=1", `${long}=2`, `c=${long}`]));
  });

  test("2000 calls on a 100k-field hash, with and without a count, take well under 400 ms each way", async () => {
    for (const args of [[], [5], [-5, "WITHVALUES"], [5, "WITHVALUES"]]) {
      let replies: string[] = [];
      const ms = await elapsedMs(async () => { replies = await pipeline(c, Array.from({ length: 2000 }, () => ["HRANDFIELD", "h", ...args])); });
      expect(ms).toBeLessThan(await budgetMs(c, 2000, 400));
      expect(replies[1999]).toMatch(args.length ? /^\*(5|10)\r\n/ : /^\$\d+\r\nf\d+\r\n$/);
    }
  });

  test("a positive count gives distinct fields with their own values; a negative one may repeat", async () => {
    const picks = (await c.cmd("HRANDFIELD", "h", 1000, "WITHVALUES")) as string[];
    expect(picks.length).toBe(2000);
    const fields = new Set<string>();
    for (let i = 0; i < picks.length; i += 2) {
      expect(picks[i + 1]).toBe(valueOf(picks[i]));
      fields.add(picks[i]);
    }
    expect(fields.size).toBe(1000);
    await c.raw("HSET", "three", "a", 1, "b", 2, "c", 3);
    const repeats = (await c.cmd("HRANDFIELD", "three", -300)) as string[];
    expect(repeats.length).toBe(300);
    expect(new Set(repeats)).toEqual(new Set(["a", "b", "c"]));
  });

  test("picks are spread over every field: 1000 draws from 10 fields see each at least 40 times", async () => {
    const ten = FIELDS.slice(0, 10);
    await hsetAll(c, "small", ten);
    await hsetAll(c, "large", FIELDS.slice(0, 1000)); // a hashtable
    for (const key of ["small", "large"]) {
      const tally = new Map<string, number>();
      const singles = await pipeline(c, Array.from({ length: 1000 }, () => ["HRANDFIELD", key]));
      for (const r of singles) { const f = r.split("\r\n")[1]; tally.set(f, (tally.get(f) ?? 0) + 1); }
      if (key === "small") {
        expect([...tally.keys()].sort()).toEqual(ten.slice().sort());
        for (const n of tally.values()) expect(n).toBeGreaterThanOrEqual(40);
      } else expect(tally.size).toBeGreaterThan(500);
    }
    const many = (await c.cmd("HRANDFIELD", "small", -1000)) as string[];
    for (const f of ten) expect(many.filter((x) => x === f).length).toBeGreaterThanOrEqual(40);
    const seen = new Set<string>();
    for (const r of await pipeline(c, Array.from({ length: 100 }, () => ["HRANDFIELD", "small", 3]))) for (const f of r.split("\r\n").filter((l) => l.startsWith("f"))) seen.add(f);
    expect(seen.size).toBe(10);
  });
});

describe("HSCAN", () => {
  test("returns every field of a 50k-field hash exactly once when nothing changes", async () => {
    const c = await connect();
    await hsetAll(c, "h", FIELDS.slice(0, 50000));
    const seen = await hscanAll(c, "h", 1000);
    expect(seen.length).toBe(50000);
    expect(new Set(seen).size).toBe(50000);
    c.close();
  });

  test("returns every field present for the whole scan at least once while others are deleted and added", async () => {
    const c = await connect();
    await hsetAll(c, "h", FIELDS.slice(0, 20000));
    // Fields f0..f9999 stay; f10000..f19999 are deleted as the scan goes, and new ones added.
    const seen = await hscanAll(c, "h", 500, async (round) => {
      const del = FIELDS.slice(10000 + round * 250, 10000 + (round + 1) * 250);
      if (del.length) await c.raw("HDEL", "h", ...del);
      await c.raw("HSET", "h", `f${100000 + round}`, `v${100000 + round}`);
    });
    const got = new Set(seen);
    for (const f of FIELDS.slice(0, 10000)) if (!got.has(f)) throw new Error(`HSCAN missed ${f}`);
    c.close();
  });
});
