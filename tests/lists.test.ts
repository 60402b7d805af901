// main.ts, Lists: one describe per command. The differential suite compares short
// scripts with a real Redis; these tests check what only scale shows: a ring-buffer deque that grows
// and shrinks through many resizes stays in order (checked against a JS array as the model), index
// access is constant-time, the O(n) edits keep everything else in place, and every command that can
// empty a list deletes its key. Timing bounds are generous (the machine is shared): they tell O(1)
// from O(n) per call, not fast from slow.
import { describe, test, expect } from "bun:test";
import { connect, pipeline, elapsedMs, budgetMs, seededRandom, bulk, bulks, arr, int } from "./helpers.ts";
import type { RawClient } from "./client.ts";

const range = (from: number, to: number, f: (i: number) => string): string[] => Array.from({ length: to - from }, (_, i) => f(from + i));

/** RPUSHes the elements in batches of 10k (one command per batch) and checks the final length. */
async function rpushAll(c: RawClient, key: string, elements: string[]): Promise<void> {
  let len = "";
  for (let i = 0; i < elements.length; i += 10000) len = await c.raw("RPUSH", key, ...elements.slice(i, i + 10000));
  expect(len).toBe(int(elements.length));
}

/** Checks LLEN, both ends and a few slices of `key` against the model. */
async function expectList(c: RawClient, key: string, model: string[], rnd: () => number): Promise<void> {
  const n = model.length;
  expect(await c.raw("LLEN", key)).toBe(int(n));
  if (n === 0) return expect(await c.raw("EXISTS", key)).toBe(int(0));
  expect(await c.raw("LINDEX", key, 0)).toBe(bulk(model[0]));
  expect(await c.raw("LINDEX", key, -1)).toBe(bulk(model[n - 1]));
  for (let i = 0; i < 3; i++) {
    const start = Math.floor(rnd() * n), stop = Math.min(n - 1, start + Math.floor(rnd() * 50));
    expect(await c.raw("LRANGE", key, start, stop)).toBe(bulks(...model.slice(start, stop + 1)));
    expect(await c.raw("LRANGE", key, start - n, stop - n)).toBe(bulks(...model.slice(start, stop + 1)));
  }
  expect(await c.raw("LRANGE", key, -3, -1)).toBe(bulks(...model.slice(-3)));
}

const HUNDRED_K = range(0, 100000, (i) => `e${i}`);

describe("LPUSH", () => {
  test("100k elements pushed at the head in batches come back in reverse, at both ends and in slices", async () => {
    const c = await connect();
    const model: string[] = [];
    for (let i = 0; i < 100000; i += 10000) {
      const batch = HUNDRED_K.slice(i, i + 10000);
      expect(await c.raw("LPUSH", "l", ...batch)).toBe(int(i + 10000));
      model.unshift(...batch.slice().reverse());
    }
    await expectList(c, "l", model, seededRandom(1));
    expect(await c.raw("LINDEX", "l", 0)).toBe(bulk("e99999"));
    expect(await c.raw("LINDEX", "l", 99999)).toBe(bulk("e0"));
    c.close();
  });
});

describe("RPUSH", () => {
  test("100k elements pushed at the tail keep their order, at both ends and in slices", async () => {
    const c = await connect();
    await rpushAll(c, "l", HUNDRED_K);
    await expectList(c, "l", HUNDRED_K, seededRandom(2));
    expect(await c.raw("LRANGE", "l", 49998, 50001)).toBe(bulks("e49998", "e49999", "e50000", "e50001"));
    c.close();
  });
});

describe("LPOP", () => {
  test("a list grown past 100k and emptied by random pushes and pops at both ends matches the model all the way", async () => {
    const c = await connect();
    const rnd = seededRandom(42);
    const model: string[] = [];
    let next = 0, peak = 0;
    const fresh = (n: number) => range(0, n, () => `v${next++}`);
    // Grow (pushes outweigh pops), then shrink: the ring buffer doubles and halves many times.
    for (const [steps, pushBias] of [[200, 0.85], [200, 0.25]] as const) {
      for (let s = 0; s < steps; s++) {
        const n = 1 + Math.floor(rnd() * 2000);
        const head = rnd() < 0.5;
        if (rnd() < pushBias) {
          const items = fresh(n);
          expect(await c.raw(head ? "LPUSH" : "RPUSH", "l", ...items)).toBe(int(model.length + n));
          if (head) model.unshift(...items.slice().reverse());
          else model.push(...items);
        } else {
          const taken = head ? model.splice(0, n) : model.splice(Math.max(0, model.length - n)).reverse();
          const reply = await c.raw(head ? "LPOP" : "RPOP", "l", n);
          expect(reply).toBe(taken.length ? bulks(...taken) : "*-1\r\n");
        }
        if (s % 10 === 0) await expectList(c, "l", model, rnd);
        peak = Math.max(peak, model.length);
      }
    }
    expect(peak).toBeGreaterThan(100000);
    expect(model.length).toBeGreaterThan(0);
    expect(await c.raw("LPOP", "l", model.length)).toBe(bulks(...model));
    expect(await c.raw("EXISTS", "l")).toBe(int(0));
    c.close();
  }, 20000);

  test("pops the whole of a 100k list from the head in order, then deletes the key", async () => {
    const c = await connect();
    await rpushAll(c, "l", HUNDRED_K);
    const replies = await pipeline(c, Array.from({ length: 100 }, () => ["LPOP", "l", 1000]));
    for (let i = 0; i < 100; i++) expect(replies[i]).toBe(bulks(...HUNDRED_K.slice(i * 1000, (i + 1) * 1000)));
    expect(await c.raw("EXISTS", "l")).toBe(int(0));
    expect(await c.raw("LPOP", "l")).toBe("$-1\r\n");
    c.close();
  });

  test("deletes the key when it pops the last element, with or without a count", async () => {
    const c = await connect();
    await c.raw("RPUSH", "a", "x");
    expect(await c.raw("LPOP", "a")).toBe(bulk("x"));
    expect(await c.raw("EXISTS", "a")).toBe(int(0));
    await c.raw("RPUSH", "b", "x", "y");
    expect(await c.raw("LPOP", "b", 5)).toBe(bulks("x", "y"));
    expect(await c.raw("EXISTS", "b")).toBe(int(0));
    c.close();
  });
});

describe("RPOP", () => {
  test("pops the whole of a 100k list from the tail in reverse order, then deletes the key", async () => {
    const c = await connect();
    await rpushAll(c, "l", HUNDRED_K);
    const replies = await pipeline(c, Array.from({ length: 100 }, () => ["RPOP", "l", 1000]));
    for (let i = 0; i < 100; i++) expect(replies[i]).toBe(bulks(...HUNDRED_K.slice(100000 - (i + 1) * 1000, 100000 - i * 1000).reverse()));
    expect(await c.raw("EXISTS", "l")).toBe(int(0));
    c.close();
  });

  test("deletes the key when it pops the last element, with or without a count", async () => {
    const c = await connect();
    await c.raw("RPUSH", "a", "x");
    expect(await c.raw("RPOP", "a")).toBe(bulk("x"));
    expect(await c.raw("EXISTS", "a")).toBe(int(0));
    await c.raw("RPUSH", "b", "x", "y");
    expect(await c.raw("RPOP", "b", 2)).toBe(bulks("y", "x"));
    expect(await c.raw("EXISTS", "b")).toBe(int(0));
    c.close();
  });
});

describe("LRANGE", () => {
  test("100 pipelined 100-element slices from the middle of a 100k list take well under 500 ms", async () => {
    const c = await connect();
    await rpushAll(c, "l", HUNDRED_K);
    let replies: string[] = [];
    const ms = await elapsedMs(async () => { replies = await pipeline(c, Array.from({ length: 100 }, (_, i) => ["LRANGE", "l", 40000 + i * 100, 40099 + i * 100])); });
    expect(ms).toBeLessThan(await budgetMs(c, 100, 500));
    for (let i = 0; i < 100; i++) expect(replies[i]).toBe(bulks(...HUNDRED_K.slice(40000 + i * 100, 40100 + i * 100)));
    c.close();
  });
});

describe("LINDEX", () => {
  test("reaches any index of a 100k list in constant time: 2000 pipelined lookups in well under 500 ms", async () => {
    const c = await connect();
    await rpushAll(c, "l", HUNDRED_K);
    const rnd = seededRandom(7);
    const idx = Array.from({ length: 2000 }, () => Math.floor(rnd() * 200000) - 100000);
    let replies: string[] = [];
    const ms = await elapsedMs(async () => { replies = await pipeline(c, idx.map((i) => ["LINDEX", "l", i])); });
    expect(ms).toBeLessThan(await budgetMs(c, 2000, 500));
    idx.forEach((i, n) => expect(replies[n]).toBe(bulk(HUNDRED_K[i < 0 ? 100000 + i : i])));
    expect(await c.raw("LINDEX", "l", 100000)).toBe("$-1\r\n");
    expect(await c.raw("LINDEX", "l", -100001)).toBe("$-1\r\n");
    c.close();
  });
});

describe("LSET", () => {
  test("sets the first, last and middle elements of a 100k list that has wrapped around its buffer", async () => {
    const c = await connect();
    await rpushAll(c, "l", HUNDRED_K.slice(0, 60000));
    // Pops at the head and pushes at the tail move the ring's start away from slot 0.
    await c.raw("LPOP", "l", 20000);
    for (let i = 60000; i < 100000; i += 10000) await c.raw("RPUSH", "l", ...HUNDRED_K.slice(i, i + 10000));
    const model = HUNDRED_K.slice(20000);
    for (const [i, v] of [[0, "first"], [-1, "last"], [39999, "middle"], [-40000, "neg"]] as const) {
      expect(await c.raw("LSET", "l", i, v)).toBe("+OK\r\n");
      model[i < 0 ? model.length + i : i] = v;
    }
    await expectList(c, "l", model, seededRandom(3));
    expect(await c.raw("LRANGE", "l", 39998, 40001)).toBe(bulks("e59998", "middle", "neg", "e60001"));
    expect(await c.raw("LSET", "l", 80000, "x")).toBe("-ERR index out of range\r\n");
    expect(await c.raw("LSET", "l", -80001, "x")).toBe("-ERR index out of range\r\n");
    c.close();
  });
});

describe("LINSERT", () => {
  test("inserts next to pivots near either end of a 100k list and keeps everything else in order", async () => {
    const c = await connect();
    await rpushAll(c, "l", HUNDRED_K);
    const model = HUNDRED_K.slice();
    expect(await c.raw("LINSERT", "l", "BEFORE", "e0", "head")).toBe(int(100001));
    model.unshift("head");
    expect(await c.raw("LINSERT", "l", "AFTER", "e99999", "tail")).toBe(int(100002));
    model.push("tail");
    expect(await c.raw("LINSERT", "l", "AFTER", "e50000", "mid")).toBe(int(100003));
    model.splice(model.indexOf("e50000") + 1, 0, "mid");
    expect(await c.raw("LINSERT", "l", "BEFORE", "nosuch", "x")).toBe(int(-1));
    await expectList(c, "l", model, seededRandom(4));
    expect(await c.raw("LRANGE", "l", 50000, 50003)).toBe(bulks("e49999", "e50000", "mid", "e50001"));
    c.close();
  });

  test("inserts relative to the first occurrence of the pivot from the head", async () => {
    const c = await connect();
    await rpushAll(c, "l", range(0, 30000, (i) => (i % 10000 === 5 ? "p" : `e${i}`)));
    expect(await c.raw("LINSERT", "l", "AFTER", "p", "x")).toBe(int(30001));
    expect(await c.raw("LRANGE", "l", 4, 7)).toBe(bulks("e4", "p", "x", "e6"));
    expect(await c.raw("LPOS", "l", "p", "COUNT", 0)).toBe(arr(int(5), int(10006), int(20006)));
    c.close();
  });
});

describe("LREM", () => {
  test("on a 100k list: a negative count removes from the tail, a positive one from the head, 0 all", async () => {
    const c = await connect();
    const items = range(0, 100000, (i) => (i % 1000 === 0 ? "x" : `e${i}`)); // 100 "x", at 0, 1000, ...
    await rpushAll(c, "l", items);
    expect(await c.raw("LREM", "l", -3, "x")).toBe(int(3));
    expect(await c.raw("LPOS", "l", "x", "RANK", -1)).toBe(int(96000));
    expect(await c.raw("LREM", "l", 2, "x")).toBe(int(2));
    expect(await c.raw("LPOS", "l", "x")).toBe(int(1998));
    expect(await c.raw("LLEN", "l")).toBe(int(99995));
    const model = items.slice();
    for (const at of [99000, 98000, 97000, 1000, 0]) model.splice(at, 1);
    await expectList(c, "l", model, seededRandom(5));
    expect(await c.raw("LREM", "l", 0, "x")).toBe(int(95));
    expect(await c.raw("LPOS", "l", "x")).toBe("$-1\r\n");
    expect(await c.raw("LLEN", "l")).toBe(int(99900));
    expect(await c.raw("LREM", "l", -1, "nosuch")).toBe(int(0));
    c.close();
  });

  test("deletes the key when it removes the last element", async () => {
    const c = await connect();
    await c.raw("RPUSH", "l", "x", "x", "x");
    expect(await c.raw("LREM", "l", -5, "x")).toBe(int(3));
    expect(await c.raw("EXISTS", "l")).toBe(int(0));
    c.close();
  });
});

describe("LTRIM", () => {
  test("trims a 100k list to a middle slice, then to its last element, then to nothing (deleting the key)", async () => {
    const c = await connect();
    await rpushAll(c, "l", HUNDRED_K);
    expect(await c.raw("LTRIM", "l", 25000, -25001)).toBe("+OK\r\n");
    await expectList(c, "l", HUNDRED_K.slice(25000, 75000), seededRandom(6));
    expect(await c.raw("LTRIM", "l", -1, -1)).toBe("+OK\r\n");
    expect(await c.raw("LRANGE", "l", 0, -1)).toBe(bulks("e74999"));
    expect(await c.raw("LTRIM", "l", 1, 0)).toBe("+OK\r\n");
    expect(await c.raw("EXISTS", "l")).toBe(int(0));
    c.close();
  });
});

describe("LMOVE", () => {
  test("rotating a 100k list 5000 times moves the head to the tail each time and stays fast", async () => {
    const c = await connect();
    await rpushAll(c, "l", HUNDRED_K);
    let replies: string[] = [];
    const ms = await elapsedMs(async () => { replies = await pipeline(c, Array.from({ length: 5000 }, () => ["LMOVE", "l", "l", "LEFT", "RIGHT"])); });
    expect(ms).toBeLessThan(await budgetMs(c, 5000, 1000));
    expect(replies[4999]).toBe(bulk("e4999"));
    await expectList(c, "l", [...HUNDRED_K.slice(5000), ...HUNDRED_K.slice(0, 5000)], seededRandom(8));
    c.close();
  });

  test("deletes the source when it moves the last element away", async () => {
    const c = await connect();
    await c.raw("RPUSH", "src", "x");
    expect(await c.raw("LMOVE", "src", "dst", "RIGHT", "LEFT")).toBe(bulk("x"));
    expect(await c.raw("EXISTS", "src")).toBe(int(0));
    expect(await c.raw("LRANGE", "dst", 0, -1)).toBe(bulks("x"));
    expect(await c.raw("LMOVE", "dst", "dst", "LEFT", "RIGHT")).toBe(bulk("x"));
    expect(await c.raw("LRANGE", "dst", 0, -1)).toBe(bulks("x"));
    c.close();
  });
});

describe("RPOPLPUSH", () => {
  test("deletes the source when it moves the last element away", async () => {
    const c = await connect();
    await c.raw("RPUSH", "src", "a", "b");
    expect(await c.raw("RPOPLPUSH", "src", "dst")).toBe(bulk("b"));
    expect(await c.raw("RPOPLPUSH", "src", "dst")).toBe(bulk("a"));
    expect(await c.raw("EXISTS", "src")).toBe(int(0));
    expect(await c.raw("LRANGE", "dst", 0, -1)).toBe(bulks("a", "b"));
    c.close();
  });
});

describe("LMPOP", () => {
  test("pops 100k elements in one reply with a large COUNT and deletes the key", async () => {
    const c = await connect();
    await rpushAll(c, "l", HUNDRED_K);
    expect(await c.raw("LMPOP", 2, "missing", "l", "RIGHT", "COUNT", 1000000)).toBe(arr(bulk("l"), bulks(...HUNDRED_K.slice().reverse())));
    expect(await c.raw("EXISTS", "l")).toBe(int(0));
    c.close();
  });

  test("deletes the key when it pops the last element", async () => {
    const c = await connect();
    await c.raw("RPUSH", "l", "x");
    expect(await c.raw("LMPOP", 1, "l", "LEFT")).toBe(arr(bulk("l"), bulks("x")));
    expect(await c.raw("EXISTS", "l")).toBe(int(0));
    c.close();
  });
});
