// main.ts, Sets: one describe per command. The differential suite compares short
// scripts with a real Redis; these tests check what it cannot: 100k-member sets (random picks that
// cost O(1) per call and are spread over every member, SPOP removing exactly what it returns, SSCAN's
// guarantees, intersections that walk the smallest set), the intset -> hashtable conversion at its
// thresholds, including thresholds changed by CONFIG SET, and keys deleted when their last member
// goes. Timing bounds are generous (the machine is shared).
import { describe, test, expect, beforeAll, afterAll } from "bun:test";
import { connect, pipeline, elapsedMs, budgetMs, seededRandom, bulk, bulks, int } from "./helpers.ts";
import type { RawClient } from "./client.ts";

const MEMBERS = Array.from({ length: 100000 }, (_, i) => `m${i}`);

/** SADDs the members in batches of 10k and checks SCARD. */
async function saddAll(c: RawClient, key: string, members: string[]): Promise<void> {
  for (let i = 0; i < members.length; i += 10000) await c.raw("SADD", key, ...members.slice(i, i + 10000));
  expect(await c.raw("SCARD", key)).toBe(int(new Set(members).size));
}

/** The single bulk string of a reply ("$2\r\nm1\r\n" -> "m1"). */
const bulkValue = (reply: string): string => reply.split("\r\n")[1];

const encoding = (c: RawClient, key: string) => c.raw("OBJECT", "ENCODING", key);
const INTSET = bulk("intset"), HASHTABLE = bulk("hashtable");

describe("SADD", () => {
  test("integers make an intset up to 512 members, a hashtable from the 513th, and it stays one when it shrinks", async () => {
    const c = await connect();
    const ints = Array.from({ length: 512 }, (_, i) => String(i));
    await saddAll(c, "s", ints);
    expect(await encoding(c, "s")).toBe(INTSET);
    expect(await c.raw("SADD", "s", "512")).toBe(int(1));
    expect(await encoding(c, "s")).toBe(HASHTABLE);
    expect(await c.raw("SREM", "s", ...ints.slice(1), "512")).toBe(int(512));
    expect(await encoding(c, "s")).toBe(HASHTABLE);
    expect(await c.raw("SMEMBERS", "s")).toBe(bulks("0"));
    c.close();
  });

  test("one member that is not a 64-bit integer in canonical form makes a hashtable", async () => {
    const c = await connect();
    await c.raw("SADD", "edges", "9223372036854775807", "-9223372036854775808", "0", "-1");
    expect(await encoding(c, "edges")).toBe(INTSET);
    for (const odd of ["9223372036854775808", "01", "-0", "+1", "1.0", " 1", "a"]) {
      await c.raw("SADD", `s:${odd}`, "1", "2");
      expect(await c.raw("SADD", `s:${odd}`, odd)).toBe(int(1));
      expect(await encoding(c, `s:${odd}`)).toBe(HASHTABLE);
    }
    c.close();
  });

  test("512 integers added in random order come back from SMEMBERS in ascending numeric order", async () => {
    const c = await connect();
    const rnd = seededRandom(9);
    const ints = new Set<bigint>([9223372036854775807n, -9223372036854775808n, 0n, -1n]);
    while (ints.size < 512) ints.add(BigInt(Math.floor((rnd() - 0.5) * 2 ** 52)));
    const shuffled = [...ints].map(String).sort(() => rnd() - 0.5);
    await saddAll(c, "s", shuffled);
    expect(await encoding(c, "s")).toBe(INTSET);
    const ascending = [...ints].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(String);
    expect(await c.raw("SMEMBERS", "s")).toBe(bulks(...ascending));
    c.close();
  });

  test("CONFIG SET set-max-intset-entries applies to new sets and to the next add to old ones", async () => {
    const c = await connect();
    await c.raw("SADD", "old", 1, 2, 3);
    try {
      expect(await c.raw("CONFIG", "SET", "set-max-intset-entries", 2)).toBe("+OK\r\n");
      expect(await encoding(c, "old")).toBe(INTSET);
      await c.raw("SADD", "two", 1, 2);
      expect(await encoding(c, "two")).toBe(INTSET);
      await c.raw("SADD", "three", 1, 2, 3);
      expect(await encoding(c, "three")).toBe(HASHTABLE);
      expect(await c.raw("SADD", "old", 4)).toBe(int(1));
      expect(await encoding(c, "old")).toBe(HASHTABLE);
      expect(await c.raw("CONFIG", "SET", "set-max-intset-entries", 0)).toBe("+OK\r\n");
      await c.raw("SADD", "zero", 1);
      expect(await encoding(c, "zero")).toBe(HASHTABLE);
    } finally {
      await c.raw("CONFIG", "SET", "set-max-intset-entries", 512);
    }
    c.close();
  });

  // Redis checks the limit only when intsetAdd really added something.
  test("re-adding existing members does not convert an intset that is over a lowered limit", async () => {
    const c = await connect();
    await c.raw("SADD", "s", 1, 2, 3);
    try {
      await c.raw("CONFIG", "SET", "set-max-intset-entries", 1);
      expect(await c.raw("SADD", "s", 2, 3)).toBe(int(0));
      expect(await encoding(c, "s")).toBe(INTSET);
      expect(await c.raw("SADD", "s", 4)).toBe(int(1));
      expect(await encoding(c, "s")).toBe(HASHTABLE);
    } finally {
      await c.raw("CONFIG", "SET", "set-max-intset-entries", 512);
    }
    c.close();
  });

  test("100k members: SISMEMBER and SMISMEMBER answer for sampled members and non-members", async () => {
    const c = await connect();
    await saddAll(c, "s", MEMBERS);
    expect(await c.raw("SADD", "s", "m5", "m100000")).toBe(int(1));
    const sample = MEMBERS.filter((_, i) => i % 1009 === 0);
    const replies = await pipeline(c, sample.flatMap((m) => [["SISMEMBER", "s", m], ["SISMEMBER", "s", `x${m}`]]));
    expect(replies.join("")).toBe(sample.map(() => int(1) + int(0)).join(""));
    expect(await c.raw("SMISMEMBER", "s", "m0", "nosuch", "m100000")).toBe(`*3\r\n${int(1)}${int(0)}${int(1)}`);
    c.close();
  });
});

describe("SREM", () => {
  test("members added and removed at random stay findable while the table grows, shrinks and grows again", async () => {
    // The member index is an open-addressing table whose deletes move other entries back: a
    // model Set checks every member after each phase.
    const c = await connect();
    const rand = seededRandom(7);
    // A big pool (its slots span three of the Dict's 4096-entry pages), and a small one whose
    // tables are small enough for clusters to wrap around.
    for (const [key, size] of [["churn", 10000], ["small", 40]] as const) {
      const pool = Array.from({ length: size }, (_, i) => `p${i}:${Math.floor(rand() * 1e9)}`);
      const model = new Set<string>();
      for (const phase of [0.9, 0.1, 0.6, 0.02, 0.7, 0.3, 0.95, 0.5]) {
        // Each phase moves the set towards holding `phase` of the pool.
        const cmds: string[][] = [];
        for (let k = 0; k < 2 * size; k++) {
          const m = pool[Math.floor(rand() * pool.length)];
          if (rand() < phase) { cmds.push(["SADD", key, m]); model.add(m); } else { cmds.push(["SREM", key, m]); model.delete(m); }
        }
        await pipeline(c, cmds);
        const answers = await pipeline(c, pool.map((m) => ["SISMEMBER", key, m]));
        expect(answers.filter((r, i) => (r === int(1)) !== model.has(pool[i])).length).toBe(0);
        expect(await c.raw("SCARD", key)).toBe(int(model.size));
      }
      const members = (await c.cmd("SMEMBERS", key)) as string[];
      expect(members.sort()).toEqual([...model].sort());
    }
    c.close();
  });

  test("removing every other member of a 100k set leaves exactly the rest", async () => {
    const c = await connect();
    await saddAll(c, "s", MEMBERS);
    const gone = MEMBERS.filter((_, i) => i % 2 === 0);
    let removed = 0;
    for (let i = 0; i < gone.length; i += 10000) removed += Number(await c.cmd("SREM", "s", ...gone.slice(i, i + 10000)));
    expect(removed).toBe(50000);
    const rest = (await c.cmd("SMEMBERS", "s")) as string[];
    expect(rest.sort()).toEqual(MEMBERS.filter((_, i) => i % 2 === 1).sort());
    c.close();
  });

  test("deletes the key with its last member, for an intset and for a hashtable", async () => {
    const c = await connect();
    await c.raw("SADD", "i", 1, 2);
    expect(await c.raw("SREM", "i", 1, 2, 3)).toBe(int(2));
    expect(await c.raw("EXISTS", "i")).toBe(int(0));
    await saddAll(c, "h", MEMBERS.slice(0, 1000));
    expect(await c.raw("SREM", "h", ...MEMBERS.slice(0, 1000))).toBe(int(1000));
    expect(await c.raw("EXISTS", "h")).toBe(int(0));
    c.close();
  });
});

describe("SPOP", () => {
  test("2000 single pops from a 100k set are fast, all different, and really gone", async () => {
    const c = await connect();
    await saddAll(c, "s", MEMBERS);
    let replies: string[] = [];
    const ms = await elapsedMs(async () => { replies = await pipeline(c, Array.from({ length: 2000 }, () => ["SPOP", "s"])); });
    expect(ms).toBeLessThan(await budgetMs(c, 2000, 400));
    const popped = replies.map(bulkValue);
    expect(new Set(popped).size).toBe(2000);
    expect(await c.raw("SCARD", "s")).toBe(int(98000));
    const still = await pipeline(c, popped.map((m) => ["SISMEMBER", "s", m]));
    expect(still.every((r) => r === int(0))).toBe(true);
    c.close();
  });

  test("with a count, takes that many distinct members of a 100k set and removes exactly those", async () => {
    const c = await connect();
    await saddAll(c, "s", MEMBERS);
    const popped = (await c.cmd("SPOP", "s", 30000)) as string[];
    expect(popped.length).toBe(30000);
    expect(new Set(popped).size).toBe(30000);
    const rest = (await c.cmd("SMEMBERS", "s")) as string[];
    expect(rest.length).toBe(70000);
    expect(new Set([...rest, ...popped]).size).toBe(100000);
    c.close();
  });

  test("picks are spread: popping and re-adding from a 10-member set pops each member at least 20 times in 500", async () => {
    const c = await connect();
    const ten = MEMBERS.slice(0, 10);
    await c.raw("SADD", "s", ...ten);
    const replies = await pipeline(c, Array.from({ length: 500 }, () => [["SPOP", "s"], ["SADD", "s", ...ten]]).flat());
    const tally = new Map<string, number>();
    for (let i = 0; i < replies.length; i += 2) { const m = bulkValue(replies[i]); tally.set(m, (tally.get(m) ?? 0) + 1); }
    expect([...tally.keys()].sort()).toEqual(ten.slice().sort());
    for (const n of tally.values()) expect(n).toBeGreaterThanOrEqual(20);
    c.close();
  });

  test("deletes the key when it pops the last member, with or without a count", async () => {
    const c = await connect();
    await c.raw("SADD", "a", "x");
    expect(await c.raw("SPOP", "a")).toBe(bulk("x"));
    expect(await c.raw("EXISTS", "a")).toBe(int(0));
    await c.raw("SADD", "b", 1, 2, 3);
    expect(await c.raw("SPOP", "b", 3)).toBe(bulks("1", "2", "3"));
    expect(await c.raw("EXISTS", "b")).toBe(int(0));
    await saddAll(c, "c", MEMBERS.slice(0, 1000));
    expect(((await c.cmd("SPOP", "c", 999)) as string[]).length).toBe(999);
    expect(((await c.cmd("SPOP", "c", 5)) as string[]).length).toBe(1);
    expect(await c.raw("EXISTS", "c")).toBe(int(0));
    c.close();
  });
});

describe("SRANDMEMBER", () => {
  let c: RawClient;
  beforeAll(async () => {
    c = await connect();
    await saddAll(c, "s", MEMBERS);
  });
  afterAll(() => c.close());

  test("a negative count of 50k answers that many members, each one of the set's, short or long", async () => {
    const long = "L".repeat(300); // past the 255 bytes kept in the arena
    await c.cmd("SADD", "few", "a", "bb", long);
    const got = (await c.cmd("SRANDMEMBER", "few", -50000)) as string[];
    expect(got.length).toBe(50000);
    expect(new Set(got)).toEqual(new Set(["a", "bb", long]));
  });

  test("2000 calls on a 100k set, with and without a count, take well under 400 ms each way", async () => {
    for (const args of [[], [10], [-10]]) {
      let replies: string[] = [];
      const ms = await elapsedMs(async () => { replies = await pipeline(c, Array.from({ length: 2000 }, () => ["SRANDMEMBER", "s", ...args])); });
      expect(ms).toBeLessThan(await budgetMs(c, 2000, 400));
      expect(replies[1999]).toMatch(args.length ? /^\*10\r\n/ : /^\$\d+\r\nm\d+\r\n$/);
    }
    expect(await c.raw("SCARD", "s")).toBe(int(100000));
  });

  test("a positive count gives distinct members; a negative one may repeat", async () => {
    const picks = (await c.cmd("SRANDMEMBER", "s", 5000)) as string[];
    expect(new Set(picks).size).toBe(5000);
    const members = new Set(MEMBERS);
    expect(picks.every((m) => members.has(m))).toBe(true);
    await c.raw("SADD", "two", "a", "b");
    const repeats = (await c.cmd("SRANDMEMBER", "two", -200)) as string[];
    expect(repeats.length).toBe(200);
    expect(new Set(repeats)).toEqual(new Set(["a", "b"]));
  });

  test("picks are spread over every member of an intset and of a hashtable", async () => {
    await c.raw("SADD", "ints", ...Array.from({ length: 10 }, (_, i) => i * 7));
    await c.raw("SADD", "strs", ...MEMBERS.slice(0, 10));
    for (const key of ["ints", "strs"]) {
      const tally = new Map<string, number>();
      for (const r of await pipeline(c, Array.from({ length: 1000 }, () => ["SRANDMEMBER", key]))) tally.set(bulkValue(r), (tally.get(bulkValue(r)) ?? 0) + 1);
      expect(tally.size).toBe(10);
      for (const n of tally.values()) expect(n).toBeGreaterThanOrEqual(40);
      const many = (await c.cmd("SRANDMEMBER", key, -1000)) as string[];
      expect(new Set(many).size).toBe(10);
      const seen = new Set<string>();
      for (let i = 0; i < 50; i++) for (const m of (await c.cmd("SRANDMEMBER", key, 3)) as string[]) seen.add(m);
      expect(seen.size).toBe(10);
    }
  });
});

describe("SMOVE", () => {
  test("deletes the source when it moves the last member away", async () => {
    const c = await connect();
    await c.raw("SADD", "src", "x");
    expect(await c.raw("SMOVE", "src", "dst", "x")).toBe(int(1));
    expect(await c.raw("EXISTS", "src")).toBe(int(0));
    expect(await c.raw("SMEMBERS", "dst")).toBe(bulks("x"));
    c.close();
  });
});

describe("SINTER", () => {
  test("walks the smallest set: 1000 intersections of a 3-member set with a 100k set take well under 500 ms", async () => {
    const c = await connect();
    await saddAll(c, "big", MEMBERS);
    await c.raw("SADD", "small", "m1", "m50000", "nosuch");
    let replies: string[] = [];
    const ms = await elapsedMs(async () => { replies = await pipeline(c, Array.from({ length: 1000 }, () => ["SINTER", "big", "small"])); });
    expect(ms).toBeLessThan(await budgetMs(c, 1000, 500));
    expect(((await c.cmd("SINTER", "big", "small")) as string[]).sort()).toEqual(["m1", "m50000"]);
    expect(replies[999]).toMatch(/^\*2\r\n/);
    c.close();
  });
});

describe("SINTERSTORE", () => {
  test("deletes the destination when the intersection is empty", async () => {
    const c = await connect();
    await c.raw("SADD", "a", 1, 2);
    await c.raw("SADD", "b", 3);
    await c.raw("SADD", "dst", "old");
    expect(await c.raw("SINTERSTORE", "dst", "a", "b")).toBe(int(0));
    expect(await c.raw("EXISTS", "dst")).toBe(int(0));
    await c.raw("SADD", "dst", "old");
    expect(await c.raw("SDIFFSTORE", "dst", "a", "a")).toBe(int(0));
    expect(await c.raw("EXISTS", "dst")).toBe(int(0));
    c.close();
  });
});

describe("SSCAN", () => {
  test("returns every member of a 50k set exactly once when nothing changes", async () => {
    const c = await connect();
    await saddAll(c, "s", MEMBERS.slice(0, 50000));
    const seen: string[] = [];
    let cursor = "0";
    do {
      const [next, items] = (await c.cmd("SSCAN", "s", cursor, "COUNT", 1000)) as [string, string[]];
      seen.push(...items);
      cursor = next;
    } while (cursor !== "0");
    expect(seen.length).toBe(50000);
    expect(new Set(seen).size).toBe(50000);
    c.close();
  });

  test("returns every member present for the whole scan at least once while others are removed", async () => {
    const c = await connect();
    await saddAll(c, "s", MEMBERS.slice(0, 20000));
    const seen = new Set<string>();
    let cursor = "0", round = 0;
    do {
      const [next, items] = (await c.cmd("SSCAN", "s", cursor, "COUNT", 500)) as [string, string[]];
      for (const m of items) seen.add(m);
      cursor = next;
      const gone = MEMBERS.slice(10000 + round * 250, 10000 + ++round * 250);
      if (gone.length) await c.raw("SREM", "s", ...gone);
    } while (cursor !== "0");
    for (const m of MEMBERS.slice(0, 10000)) if (!seen.has(m)) throw new Error(`SSCAN missed ${m}`);
    c.close();
  });
});
