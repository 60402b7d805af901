// main.ts, Sorted sets: one describe per command, plus one block of read commands on a
// single 200k-member set (built once, as building it dominates the cost). The differential suite
// compares short scripts with a real Redis; these tests check what it cannot: the skiplist's
// O(log n) ranks and range starts at 200k members, its consistency under random updates (against a
// JS model), random picks that are cheap and spread, ZSCAN's guarantee, the listpack -> skiplist
// conversion at its thresholds (CONFIG SET included), keys deleted when emptied, and ZRANK/ZREVRANK's
// WITHSCORE (Redis 7.2's form, which Redbun supports on purpose). Timing bounds are generous.
import { describe, test, expect, beforeAll, afterAll } from "bun:test";
import { connect, pipeline, elapsedMs, budgetMs, seededRandom, bulk, bulks, arr, int } from "./helpers.ts";
import { RawClient } from "./client.ts";

/** ZADDs member m<i> with score i for i in [from, to), in batches of 10k pairs. */
async function zaddRange(c: RawClient, key: string, from: number, to: number): Promise<void> {
  for (let b = from; b < to; b += 10000) {
    const args: (string | number)[] = ["ZADD", key];
    for (let i = b; i < Math.min(to, b + 10000); i++) args.push(i, `m${i}`);
    await c.raw(...args);
  }
}

/** Member/score pairs as a RESP2 WITHSCORES reply. */
const withScores = (...pairs: [string, number | string][]) => bulks(...pairs.flatMap(([m, s]) => [m, String(s)]));
const members = (from: number, to: number, step = 1): string[] => {
  const out: string[] = [];
  for (let i = from; step > 0 ? i < to : i > to; i += step) out.push(`m${i}`);
  return out;
};

const encoding = (c: RawClient, key: string) => c.raw("OBJECT", "ENCODING", key);
const LISTPACK = bulk("listpack"), SKIPLIST = bulk("skiplist");

describe("ZADD", () => {
  test("a sorted set is a listpack up to 128 members, a skiplist from the 129th, and stays one when it shrinks", async () => {
    const c = await connect();
    await zaddRange(c, "z", 0, 128);
    expect(await encoding(c, "z")).toBe(LISTPACK);
    expect(await c.raw("ZADD", "z", 128, "m128")).toBe(int(1));
    expect(await encoding(c, "z")).toBe(SKIPLIST);
    expect(await c.raw("ZREMRANGEBYRANK", "z", 1, -1)).toBe(int(128));
    expect(await encoding(c, "z")).toBe(SKIPLIST);
    expect(await c.raw("ZRANGE", "z", 0, -1, "WITHSCORES")).toBe(withScores(["m0", 0]));
    c.close();
  });

  test("a member longer than 64 bytes makes a skiplist; 64 bytes still fit a listpack", async () => {
    const c = await connect();
    await c.raw("ZADD", "fits", 1, "x".repeat(64));
    expect(await encoding(c, "fits")).toBe(LISTPACK);
    await c.raw("ZADD", "long", 1, "a", 2, "x".repeat(65));
    expect(await encoding(c, "long")).toBe(SKIPLIST);
    await c.raw("ZADD", "later", 1, "a");
    await c.raw("ZINCRBY", "later", 1, "y".repeat(65));
    expect(await encoding(c, "later")).toBe(SKIPLIST);
    c.close();
  });

  // Redis 7.0 converts as members are inserted; the size hint from the pair count came in 7.2.
  test("counts members, not pairs: a ZADD of 129 pairs naming at most 128 members keeps a listpack", async () => {
    const c = await connect();
    const same = Array.from({ length: 129 }, (_, i) => [i, "same"]).flat();
    expect(await c.raw("ZADD", "new", ...same)).toBe(int(1));
    expect(await encoding(c, "new")).toBe(LISTPACK);
    expect(await c.raw("ZSCORE", "new", "same")).toBe(bulk("128"));
    await zaddRange(c, "old", 0, 100);
    const updates = Array.from({ length: 129 }, (_, i) => [i, `m${i % 100}`]).flat();
    expect(await c.raw("ZADD", "old", ...updates)).toBe(int(0));
    expect(await encoding(c, "old")).toBe(LISTPACK);
    expect(await c.raw("ZCARD", "old")).toBe(int(100));
    c.close();
  });

  test("CONFIG SET of the thresholds (or their ziplist aliases) applies to new sets and to the next new member of old ones", async () => {
    const c = await connect();
    await c.raw("ZADD", "old", 1, "a", 2, "b", 3, "c");
    try {
      expect(await c.raw("CONFIG", "SET", "zset-max-ziplist-entries", 2, "zset-max-listpack-value", 4)).toBe("+OK\r\n");
      expect(await c.raw("CONFIG", "GET", "zset-max-listpack-entries")).toBe(bulks("zset-max-listpack-entries", "2"));
      expect(await c.raw("ZADD", "old", 5, "a")).toBe(int(0)); // a new score is not a new member
      expect(await encoding(c, "old")).toBe(LISTPACK);
      expect(await c.raw("ZADD", "old", 4, "d")).toBe(int(1));
      expect(await encoding(c, "old")).toBe(SKIPLIST);
      await c.raw("ZADD", "two", 1, "a", 2, "b");
      expect(await encoding(c, "two")).toBe(LISTPACK);
      await c.raw("ZADD", "three", 1, "a", 2, "b", 3, "c");
      expect(await encoding(c, "three")).toBe(SKIPLIST);
      await c.raw("ZADD", "len4", 1, "abcd");
      expect(await encoding(c, "len4")).toBe(LISTPACK);
      await c.raw("ZADD", "len5", 1, "abcde");
      expect(await encoding(c, "len5")).toBe(SKIPLIST);
      expect(await c.raw("CONFIG", "SET", "zset-max-listpack-entries", 0)).toBe("+OK\r\n");
      await c.raw("ZADD", "zero", 1, "a");
      expect(await encoding(c, "zero")).toBe(SKIPLIST);
    } finally {
      await c.raw("CONFIG", "SET", "zset-max-listpack-entries", 128, "zset-max-listpack-value", 64);
    }
    c.close();
  });

  test("random adds, score updates, ZINCRBY and ZREM on 10k members keep ranges, ranks and counts in line with a model", async () => {
    const c = await connect();
    const rnd = seededRandom(11);
    const model = new Map<string, number>();
    const sorted = () => [...model].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (let round = 0; round < 8; round++) {
      const cmds: (string | number)[][] = [];
      for (let i = 0; i < 3000; i++) {
        const m = `m${Math.floor(rnd() * 10000)}`;
        const s = Math.floor(rnd() * 1000) / 4; // many ties, so member order matters
        const op = rnd();
        if (op < 0.6) { cmds.push(["ZADD", "z", s, m]); model.set(m, s); }
        else if (op < 0.8) { cmds.push(["ZINCRBY", "z", 1.5, m]); model.set(m, (model.get(m) ?? 0) + 1.5); }
        else { cmds.push(["ZREM", "z", m]); model.delete(m); }
      }
      await pipeline(c, cmds);
      const all = sorted();
      expect(await c.raw("ZCARD", "z")).toBe(int(all.length));
      const at = Math.floor(rnd() * (all.length - 20));
      expect(await c.raw("ZRANGE", "z", at, at + 19, "WITHSCORES")).toBe(withScores(...all.slice(at, at + 20)));
      for (const k of [0, at, all.length - 1]) {
        expect(await c.raw("ZRANK", "z", all[k][0])).toBe(int(k));
        expect(await c.raw("ZREVRANK", "z", all[k][0])).toBe(int(all.length - 1 - k));
      }
      const lo = all[at][1], hi = all[at + 19][1];
      expect(await c.raw("ZCOUNT", "z", lo, hi)).toBe(int(all.filter(([, s]) => s >= lo && s <= hi).length));
      expect(await c.raw("ZCOUNT", "z", `(${lo}`, `(${hi}`)).toBe(int(all.filter(([, s]) => s > lo && s < hi).length));
    }
    c.close();
  });
});

describe("A 200k-member sorted set (m<i> scored i)", () => {
  let c: RawClient;
  let buildMs = 0;
  const N = 200000;

  beforeAll(async () => {
    c = await connect();
    buildMs = await elapsedMs(() => zaddRange(c, "z", 0, N));
  });
  afterAll(() => c.close());

  /** Runs 100 (or n) pipelined commands, checks they take well under 500 ms and less than the build. */
  async function fast(commands: (string | number)[][]): Promise<string[]> {
    let replies: string[] = [];
    const ms = await elapsedMs(async () => { replies = await pipeline(c, commands); });
    expect(ms).toBeLessThan(await budgetMs(c, commands.length, 500));
    expect(ms).toBeLessThan(buildMs);
    return replies;
  }

  test("ZCARD counts every member and the encoding is a skiplist", async () => {
    expect(await c.raw("ZCARD", "z")).toBe(int(N));
    expect(await encoding(c, "z")).toBe(SKIPLIST);
  });

  test("100 pipelined ZRANGE 0 9 and ZREVRANGE 0 9 answer both ends quickly", async () => {
    const first = await fast(Array.from({ length: 100 }, () => ["ZRANGE", "z", 0, 9]));
    expect(new Set(first)).toEqual(new Set([bulks(...members(0, 10))]));
    const last = await fast(Array.from({ length: 100 }, () => ["ZREVRANGE", "z", 0, 9, "WITHSCORES"]));
    expect(last[99]).toBe(withScores(...members(N - 1, N - 11, -1).map((m) => [m, m.slice(1)] as [string, string])));
    expect(await c.raw("ZRANGE", "z", 100000, 100002)).toBe(bulks("m100000", "m100001", "m100002"));
    expect(await c.raw("ZRANGE", "z", -2, -1)).toBe(bulks("m199998", "m199999"));
  });

  test("ZRANK and ZREVRANK answer the position of 1000 members spread over the set", async () => {
    const idx = Array.from({ length: 1000 }, (_, i) => i * 199 + 7);
    const ranks = await fast(idx.map((i) => ["ZRANK", "z", `m${i}`]));
    expect(ranks).toEqual(idx.map((i) => int(i)));
    const rev = await fast(idx.map((i) => ["ZREVRANK", "z", `m${i}`]));
    expect(rev).toEqual(idx.map((i) => int(N - 1 - i)));
  });

  test("ZRANGEBYSCORE with LIMIT starts mid-set without walking to it", async () => {
    const starts = Array.from({ length: 1000 }, (_, i) => i * 197);
    const replies = await fast(starts.map((s) => ["ZRANGEBYSCORE", "z", s, "+inf", "LIMIT", 5, 3]));
    starts.forEach((s, i) => expect(replies[i]).toBe(bulks(`m${s + 5}`, `m${s + 6}`, `m${s + 7}`)));
    expect(await c.raw("ZREVRANGEBYSCORE", "z", "(100000", "-inf", "LIMIT", 0, 3)).toBe(bulks("m99999", "m99998", "m99997"));
    expect(await c.raw("ZRANGEBYSCORE", "z", "(199997", "+inf", "WITHSCORES", "LIMIT", 1, 10)).toBe(withScores(["m199999", 199999]));
    expect(await c.raw("ZRANGE", "z", "150000", "(150002", "BYSCORE")).toBe(bulks("m150000", "m150001"));
  });

  test("ZCOUNT counts any range from ranks, not by walking it: 1000 whole-set counts", async () => {
    const replies = await fast(Array.from({ length: 1000 }, () => ["ZCOUNT", "z", "-inf", "+inf"]));
    expect(new Set(replies)).toEqual(new Set([int(N)]));
    expect(await c.raw("ZCOUNT", "z", 1000, "(2000")).toBe(int(1000));
    expect(await c.raw("ZCOUNT", "z", "(199998", "+inf")).toBe(int(1));
    expect(await c.raw("ZCOUNT", "z", 300000, "+inf")).toBe(int(0));
  });

  test("ZSCORE and ZMSCORE look members up directly", async () => {
    const replies = await fast(Array.from({ length: 1000 }, (_, i) => ["ZSCORE", "z", `m${i * 150}`]));
    expect(replies).toEqual(Array.from({ length: 1000 }, (_, i) => bulk(String(i * 150))));
    expect(await c.raw("ZMSCORE", "z", "m0", "nosuch", "m199999")).toBe(arr(bulk("0"), "$-1\r\n", bulk("199999")));
  });

  test("ZREMRANGEBYRANK of the middle half shifts later ranks down by exactly what it removed", async () => {
    expect(await c.raw("ZREMRANGEBYRANK", "z", 50000, 149999)).toBe(int(100000));
    expect(await c.raw("ZCARD", "z")).toBe(int(100000));
    expect(await c.raw("ZRANK", "z", "m150000")).toBe(int(50000));
    expect(await c.raw("ZRANK", "z", "m100000")).toBe("$-1\r\n");
    expect(await c.raw("ZRANGE", "z", 49999, 50000)).toBe(bulks("m49999", "m150000"));
    expect(await c.raw("ZCOUNT", "z", 0, 199999)).toBe(int(100000));
  });
});

describe("ZRANK", () => {
  test("WITHSCORE answers [rank, score]: the score a bulk string in RESP2 and a double in RESP3", async () => {
    const c = await connect();
    await c.raw("ZADD", "z", 1.5, "a", 2, "b", "inf", "c");
    expect(await c.raw("ZRANK", "z", "a", "WITHSCORE")).toBe(arr(int(0), bulk("1.5")));
    expect(await c.raw("ZRANK", "z", "c", "withscore")).toBe(arr(int(2), bulk("inf")));
    await c.raw("HELLO", 3);
    expect(await c.raw("ZRANK", "z", "a", "WITHSCORE")).toBe(arr(int(0), ",1.5\r\n"));
    expect(await c.raw("ZRANK", "z", "b", "WITHSCORE")).toBe(arr(int(1), ",2\r\n"));
    expect(await c.raw("ZRANK", "z", "c", "WITHSCORE")).toBe(arr(int(2), ",inf\r\n"));
    c.close();
  });

  test("WITHSCORE answers a null array for a missing member or key (*-1 in RESP2, _ in RESP3) and WRONGTYPE for another type", async () => {
    const c = await connect();
    await c.raw("ZADD", "z", 1, "a");
    expect(await c.raw("ZRANK", "z", "nosuch", "WITHSCORE")).toBe("*-1\r\n");
    expect(await c.raw("ZRANK", "missing", "a", "WITHSCORE")).toBe("*-1\r\n");
    expect(await c.raw("ZRANK", "z", "nosuch")).toBe("$-1\r\n");
    await c.raw("SET", "s", "v");
    expect(await c.raw("ZRANK", "s", "a", "WITHSCORE")).toBe("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    await c.raw("HELLO", 3);
    expect(await c.raw("ZRANK", "z", "nosuch", "WITHSCORE")).toBe("_\r\n");
    expect(await c.raw("ZRANK", "missing", "a", "WITHSCORE")).toBe("_\r\n");
    c.close();
  });

  test("any other extra argument keeps Redis 7.0's arity error", async () => {
    const c = await connect();
    await c.raw("ZADD", "z", 1, "a");
    expect(await c.raw("ZRANK", "z", "a", "WITHSCORES")).toBe("-ERR wrong number of arguments for 'zrank' command\r\n");
    expect(await c.raw("ZRANK", "z", "a", "WITHSCORE", "x")).toBe("-ERR wrong number of arguments for 'zrank' command\r\n");
    c.close();
  });

  test("ranks 10k members of equal score by their bytes", async () => {
    const c = await connect();
    const names = Array.from({ length: 10000 }, (_, i) => `k${String(i * 7919 % 10000).padStart(5, "0")}`);
    for (let i = 0; i < names.length; i += 5000) await c.raw("ZADD", "z", ...names.slice(i, i + 5000).flatMap((m) => [0, m]));
    await c.raw("ZADD", "z", 0, "k\xff", 0, "k\x00");
    const sorted = [...names, "k\xff", "k\x00"].sort();
    const probe = [0, 1, 4999, 10000, 10001].map((r) => sorted[r]);
    expect(await pipeline(c, probe.map((m) => ["ZRANK", "z", m]))).toEqual(probe.map((m) => int(sorted.indexOf(m))));
    expect(await c.raw("ZRANGEBYLEX", "z", "[k05000", "(k05003")).toBe(bulks("k05000", "k05001", "k05002"));
    expect(await c.raw("ZRANGEBYLEX", "z", "(k09999", "+")).toBe(bulks("k\xff"));
    expect(await c.raw("ZLEXCOUNT", "z", "-", "(k00100")).toBe(int(101));
    c.close();
  });
});

describe("ZREVRANK", () => {
  test("WITHSCORE answers [reverse rank, score], and a null array when missing", async () => {
    const c = await connect();
    await c.raw("ZADD", "z", 1.5, "a", 2, "b", "-inf", "c");
    expect(await c.raw("ZREVRANK", "z", "a", "WITHSCORE")).toBe(arr(int(1), bulk("1.5")));
    expect(await c.raw("ZREVRANK", "z", "c", "WITHSCORE")).toBe(arr(int(2), bulk("-inf")));
    expect(await c.raw("ZREVRANK", "z", "nosuch", "WITHSCORE")).toBe("*-1\r\n");
    await c.raw("HELLO", 3);
    expect(await c.raw("ZREVRANK", "z", "b", "WITHSCORE")).toBe(arr(int(0), ",2\r\n"));
    expect(await c.raw("ZREVRANK", "z", "c", "WITHSCORE")).toBe(arr(int(2), ",-inf\r\n"));
    expect(await c.raw("ZREVRANK", "missing", "a", "WITHSCORE")).toBe("_\r\n");
    expect(await c.raw("ZREVRANK", "z", "a", "WITHSCORES")).toBe("-ERR wrong number of arguments for 'zrevrank' command\r\n");
    c.close();
  });
});

describe("ZREM", () => {
  test("members added, re-scored and removed at random keep the order, ranks and counts of a model, through growth and shrinking", async () => {
    // The skiplist reuses freed nodes and rebuilds itself once it holds an eighth of its nodes:
    // the phases below grow past 4096 members (its members are kept in pages of 4096 nodes), fall
    // to a few, and grow again.
    const c = await connect();
    const rand = seededRandom(23);
    const pool = Array.from({ length: 10000 }, (_, i) => `m${i}`);
    const model = new Map<string, number>();
    const sorted = () => [...model].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    // A phase is a share of ZADDs among random commands, or (a negative number) the survivors
    // of ZREMs of every other member.
    for (const phase of [0.95, 0.5, -50, 0.8, 0.3, -10, 0.9]) {
      const cmds: string[][] = [];
      if (phase < 0) {
        for (const m of [...model.keys()].slice(-phase)) { cmds.push(["ZREM", "churn", m]); model.delete(m); }
      } else {
        for (let k = 0; k < 15000; k++) {
          const m = pool[Math.floor(rand() * pool.length)];
          if (rand() < phase) { const score = Math.floor(rand() * 50); cmds.push(["ZADD", "churn", String(score), m]); model.set(m, score); } else { cmds.push(["ZREM", "churn", m]); model.delete(m); }
        }
      }
      await pipeline(c, cmds, 30000);
      const order = sorted();
      expect(await c.raw("ZCARD", "churn")).toBe(int(model.size));
      const all = (await c.cmd("ZRANGE", "churn", 0, -1, "WITHSCORES")) as string[];
      expect(all).toEqual(order.flatMap(([m, sc]) => [m, String(sc)]));
      const probes = order.filter((_, i) => i % 97 === 0);
      const ranks = await pipeline(c, probes.map(([m]) => ["ZRANK", "churn", m]));
      expect(ranks).toEqual(probes.map(([m]) => int(order.findIndex(([x]) => x === m))));
      expect(await c.raw("ZCOUNT", "churn", 10, "(20")).toBe(int(order.filter(([, sc]) => sc >= 10 && sc < 20).length));
      expect(await c.cmd("ZREVRANGE", "churn", 0, 2)).toEqual(order.slice(-3).reverse().map(([m]) => m));
    }
    await c.raw("DEL", "churn");
    c.close();
  });

  test("deletes the key with its last member, for a listpack and for a skiplist", async () => {
    const c = await connect();
    await c.raw("ZADD", "small", 1, "a", 2, "b");
    expect(await c.raw("ZREM", "small", "a", "b", "c")).toBe(int(2));
    expect(await c.raw("EXISTS", "small")).toBe(int(0));
    await zaddRange(c, "big", 0, 1000);
    expect(await c.raw("ZREM", "big", ...members(0, 1000))).toBe(int(1000));
    expect(await c.raw("EXISTS", "big")).toBe(int(0));
    c.close();
  });
});

describe("ZPOPMIN", () => {
  test("pops a 50k set in score order in chunks, then the key is gone", async () => {
    const c = await connect();
    await zaddRange(c, "z", 0, 50000);
    const replies = await pipeline(c, Array.from({ length: 50 }, () => ["ZPOPMIN", "z", 1000]));
    const chunk = (k: number) => withScores(...members(k * 1000, (k + 1) * 1000).map((m) => [m, m.slice(1)] as [string, string]));
    for (const k of [0, 1, 25, 49]) expect(replies[k]).toBe(chunk(k));
    expect(await c.raw("EXISTS", "z")).toBe(int(0));
    c.close();
  });

  test("deletes the key when it pops the last member, with or without a count", async () => {
    const c = await connect();
    await c.raw("ZADD", "a", 1, "x");
    expect(await c.raw("ZPOPMIN", "a")).toBe(withScores(["x", 1]));
    expect(await c.raw("EXISTS", "a")).toBe(int(0));
    await c.raw("ZADD", "b", 1, "x", 2, "y");
    expect(await c.raw("ZPOPMIN", "b", 10)).toBe(withScores(["x", 1], ["y", 2]));
    expect(await c.raw("EXISTS", "b")).toBe(int(0));
    c.close();
  });
});

describe("ZPOPMAX", () => {
  test("deletes the key when it pops the last member, with or without a count", async () => {
    const c = await connect();
    await c.raw("ZADD", "a", 1, "x");
    expect(await c.raw("ZPOPMAX", "a")).toBe(withScores(["x", 1]));
    expect(await c.raw("EXISTS", "a")).toBe(int(0));
    await c.raw("ZADD", "b", 1, "x", 2, "y");
    expect(await c.raw("ZPOPMAX", "b", 2)).toBe(withScores(["y", 2], ["x", 1]));
    expect(await c.raw("EXISTS", "b")).toBe(int(0));
    c.close();
  });
});

describe("ZMPOP", () => {
  test("deletes the key when it pops the last member", async () => {
    const c = await connect();
    await c.raw("ZADD", "z", 1, "x", 2, "y");
    expect(await c.raw("ZMPOP", 2, "missing", "z", "MAX", "COUNT", 5)).toBe(arr(bulk("z"), arr(bulks("y", "2"), bulks("x", "1"))));
    expect(await c.raw("EXISTS", "z")).toBe(int(0));
    c.close();
  });
});

describe("ZREMRANGEBYSCORE", () => {
  test("deletes the key when the range covers every member", async () => {
    const c = await connect();
    await zaddRange(c, "z", 0, 300);
    expect(await c.raw("ZREMRANGEBYSCORE", "z", "(100", 200)).toBe(int(100));
    expect(await c.raw("ZCOUNT", "z", "-inf", "+inf")).toBe(int(200));
    expect(await c.raw("ZREMRANGEBYSCORE", "z", "-inf", "+inf")).toBe(int(200));
    expect(await c.raw("EXISTS", "z")).toBe(int(0));
    c.close();
  });
});

describe("ZREMRANGEBYRANK", () => {
  test("deletes the key when the range covers every member", async () => {
    const c = await connect();
    await c.raw("ZADD", "z", 1, "a", 2, "b");
    expect(await c.raw("ZREMRANGEBYRANK", "z", 0, -1)).toBe(int(2));
    expect(await c.raw("EXISTS", "z")).toBe(int(0));
    c.close();
  });
});

describe("ZREMRANGEBYLEX", () => {
  test("deletes the key when the range covers every member", async () => {
    const c = await connect();
    await c.raw("ZADD", "z", 0, "a", 0, "b", 0, "c");
    expect(await c.raw("ZREMRANGEBYLEX", "z", "-", "+")).toBe(int(3));
    expect(await c.raw("EXISTS", "z")).toBe(int(0));
    c.close();
  });
});

describe("ZRANGESTORE", () => {
  test("deletes the destination when the range is empty, and ZINTERSTORE does too", async () => {
    const c = await connect();
    await c.raw("ZADD", "src", 1, "a");
    await c.raw("ZADD", "dst", 1, "old");
    expect(await c.raw("ZRANGESTORE", "dst", "src", 5, 10)).toBe(int(0));
    expect(await c.raw("EXISTS", "dst")).toBe(int(0));
    await c.raw("ZADD", "dst", 1, "old");
    expect(await c.raw("ZINTERSTORE", "dst", 2, "src", "missing")).toBe(int(0));
    expect(await c.raw("EXISTS", "dst")).toBe(int(0));
    c.close();
  });
});

describe("ZRANDMEMBER", () => {
  let c: RawClient;
  beforeAll(async () => {
    c = await connect();
    await zaddRange(c, "z", 0, 100000);
  });
  afterAll(() => c.close());

  test("2000 calls on a 100k set, with and without a count, take well under 400 ms each way", async () => {
    for (const args of [[], [5], [-5, "WITHSCORES"], [5, "WITHSCORES"]]) {
      let replies: string[] = [];
      const ms = await elapsedMs(async () => { replies = await pipeline(c, Array.from({ length: 2000 }, () => ["ZRANDMEMBER", "z", ...args])); });
      expect(ms).toBeLessThan(await budgetMs(c, 2000, 400));
      expect(replies[1999]).toMatch(args.length ? /^\*(5|10)\r\n/ : /^\$\d+\r\nm\d+\r\n$/);
    }
  });

  test("a positive count gives distinct members of a 100k set with their own scores", async () => {
    const flat = (await c.cmd("ZRANDMEMBER", "z", 3000, "WITHSCORES")) as string[];
    const seen = new Set<string>();
    for (let i = 0; i < flat.length; i += 2) {
      if (flat[i] !== `m${flat[i + 1]}`) throw new Error(`${flat[i]} came with score ${flat[i + 1]}`);
      seen.add(flat[i]);
    }
    expect(seen.size).toBe(3000);
  });

  test("picks are spread over every member of a listpack and of a skiplist", async () => {
    await zaddRange(c, "small", 0, 10);
    await zaddRange(c, "large", 0, 1000);
    const tally = new Map<string, number>();
    for (const r of await pipeline(c, Array.from({ length: 1000 }, () => ["ZRANDMEMBER", "small"]))) {
      const m = r.split("\r\n")[1];
      tally.set(m, (tally.get(m) ?? 0) + 1);
    }
    expect(tally.size).toBe(10);
    for (const n of tally.values()) expect(n).toBeGreaterThanOrEqual(40);
    expect(new Set((await c.cmd("ZRANDMEMBER", "small", -1000)) as string[]).size).toBe(10);
    expect(new Set((await c.cmd("ZRANDMEMBER", "large", -1000)) as string[]).size).toBeGreaterThan(500);
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) for (const m of (await c.cmd("ZRANDMEMBER", "small", 3)) as string[]) seen.add(m);
    expect(seen.size).toBe(10);
  });
});

describe("ZSCAN", () => {
  test("returns every member of a 30k set exactly once, with its score, when nothing changes", async () => {
    const c = await connect();
    await zaddRange(c, "z", 0, 30000);
    const seen = new Set<string>();
    let cursor = "0", total = 0;
    do {
      const [next, items] = (await c.cmd("ZSCAN", "z", cursor, "COUNT", 1000)) as [string, string[]];
      for (let i = 0; i < items.length; i += 2) {
        if (items[i] !== `m${items[i + 1]}`) throw new Error(`${items[i]} came with score ${items[i + 1]}`);
        seen.add(items[i]);
        total++;
      }
      cursor = next;
    } while (cursor !== "0");
    expect(total).toBe(30000);
    expect(seen.size).toBe(30000);
    c.close();
  });
});
