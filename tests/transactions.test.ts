// main.ts, Transactions: with more than one connection, what another client does to
// a watched key, EXEC's atomicity, and clients blocked on keys that a transaction fills. The
// single-connection behaviour (queueing, EXECABORT, nested MULTI, ...) is compared with a real
// Redis in differential-events.test.ts. Expected replies are Redis 7.0.15's, checked by hand
// against a real redis-server where the comment says so.
import { describe, test, expect } from "bun:test";
import IORedis from "ioredis";
import { connect, advanceClock, sharedServer } from "./helpers.ts";
import { RawClient, encode } from "./client.ts";

const NULL_ARRAY = "*-1\r\n";
const PONG_EXEC = "*1\r\n+PONG\r\n";

/** Runs MULTI, PING, EXEC on c and returns EXEC's reply: PONG_EXEC, or NULL_ARRAY when a watched key changed. */
async function execPing(c: RawClient): Promise<string> {
  expect(await c.raw("MULTI")).toBe("+OK\r\n");
  expect(await c.raw("PING")).toBe("+QUEUED\r\n");
  return c.raw("EXEC");
}

/** Two connections on an empty dataset: `a` watches, `b` is the other client. */
async function pair(): Promise<[RawClient, RawClient]> {
  const a = await connect();
  const b = await RawClient.connect((await sharedServer()).port);
  return [a, b];
}

/** Runs fn with the active expiry cycle off, so only lookups expire keys. */
async function withoutActiveExpire(c: RawClient, fn: () => Promise<void>): Promise<void> {
  expect(await c.raw("DEBUG", "SET-ACTIVE-EXPIRE", "0")).toBe("+OK\r\n");
  try { await fn(); } finally { await c.raw("DEBUG", "SET-ACTIVE-EXPIRE", "1"); }
}

/** INFO clients' blocked_clients. */
async function blockedClients(c: RawClient): Promise<number> {
  return Number(/blocked_clients:(\d+)/.exec((await c.cmd("INFO", "clients")) as string)![1]);
}

/** Sends a blocking command on `waiter` and returns once the server counts it as blocked. */
async function block(waiter: RawClient, ctl: RawClient, ...args: string[]): Promise<void> {
  const before = await blockedClients(ctl);
  waiter.send(...args);
  const until = Date.now() + 3000;
  while ((await blockedClients(ctl)) <= before) {
    if (Date.now() > until) throw new Error(`${args.join(" ")} never blocked`);
    await Bun.sleep(5);
  }
}

describe("WATCH", () => {
  test("another client's write to the key makes EXEC answer a null array and run nothing", async () => {
    const [a, b] = await pair();
    await a.raw("SET", "k", "1");
    expect(await a.raw("WATCH", "k")).toBe("+OK\r\n");
    expect(await b.raw("SET", "k", "2")).toBe("+OK\r\n");
    expect(await a.raw("MULTI")).toBe("+OK\r\n");
    expect(await a.raw("SET", "k", "from-a")).toBe("+QUEUED\r\n");
    expect(await a.raw("EXEC")).toBe(NULL_ARRAY);
    expect(await a.raw("GET", "k")).toBe("$1\r\n2\r\n");
    a.close(); b.close();
  });

  test("a write that lands while the transaction is queueing breaks it too", async () => {
    const [a, b] = await pair();
    expect(await a.raw("WATCH", "k")).toBe("+OK\r\n");
    expect(await a.raw("MULTI")).toBe("+OK\r\n");
    expect(await a.raw("INCR", "k")).toBe("+QUEUED\r\n");
    expect(await b.raw("SET", "k", "5")).toBe("+OK\r\n");
    expect(await a.raw("EXEC")).toBe(NULL_ARRAY);
    expect(await a.raw("GET", "k")).toBe("$1\r\n5\r\n");
    a.close(); b.close();
  });

  test("another client's DEL breaks it, DEL of a missing key does not", async () => {
    const [a, b] = await pair();
    await a.raw("SET", "k", "1");
    await a.raw("WATCH", "k", "missing");
    expect(await b.raw("DEL", "missing")).toBe(":0\r\n");
    expect(await execPing(a)).toBe(PONG_EXEC);
    await a.raw("WATCH", "k");
    expect(await b.raw("DEL", "k")).toBe(":1\r\n");
    expect(await execPing(a)).toBe(NULL_ARRAY);
    a.close(); b.close();
  });

  test("another client's EXPIRE and PERSIST break it; EXPIRE on a missing key does not", async () => {
    const [a, b] = await pair();
    await a.raw("SET", "k", "1");
    await a.raw("WATCH", "k", "missing");
    expect(await b.raw("EXPIRE", "missing", "100")).toBe(":0\r\n");
    expect(await b.raw("PERSIST", "k")).toBe(":0\r\n");
    expect(await execPing(a)).toBe(PONG_EXEC);
    await a.raw("WATCH", "k");
    expect(await b.raw("EXPIRE", "k", "100")).toBe(":1\r\n");
    expect(await execPing(a)).toBe(NULL_ARRAY);
    await a.raw("WATCH", "k");
    expect(await b.raw("PERSIST", "k")).toBe(":1\r\n");
    expect(await execPing(a)).toBe(NULL_ARRAY);
    a.close(); b.close();
  });

  test("a watched key whose TTL passes before EXEC breaks it, even if nothing deleted it yet", async () => {
    const [a, b] = await pair();
    await withoutActiveExpire(a, async () => {
      await a.raw("SET", "k", "v", "PX", "1000");
      await a.raw("WATCH", "k");
      advanceClock(2000);
      expect(await execPing(a)).toBe(NULL_ARRAY);
    });
    a.close(); b.close();
  });

  test("a watched key that the active cycle expires before EXEC breaks it", async () => {
    const [a, b] = await pair();
    await a.raw("SET", "k", "v", "PX", "1000");
    await a.raw("WATCH", "k");
    advanceClock(2000);
    for (let i = 0; i < 100 && (await b.raw("DBSIZE")) !== ":0\r\n"; i++) await Bun.sleep(20);
    expect(await b.raw("DBSIZE")).toBe(":0\r\n");
    expect(await execPing(a)).toBe(NULL_ARRAY);
    a.close(); b.close();
  });

  // Redis 7.0.15 remembers that a key was already logically expired when WATCHed; deleting it
  // later (lazily or by the active cycle) changes nothing logically, so EXEC runs
  // (touchWatchedKey's `wk->expired` case). Checked against redis-server 7.0.15 with
  // DEBUG SET-ACTIVE-EXPIRE 0, SET x v PX 30, sleep, WATCH x, GET x, MULTI, PING, EXEC -> *1 +PONG.
  test("a key already past its TTL when watched, then expired lazily by another client's read, does not break it", async () => {
    const [a, b] = await pair();
    await withoutActiveExpire(a, async () => {
      await a.raw("SET", "k", "v", "PX", "1000");
      advanceClock(2000);
      expect(await a.raw("WATCH", "k")).toBe("+OK\r\n");
      expect(await b.raw("GET", "k")).toBe("$-1\r\n");
      expect(await execPing(a)).toBe(PONG_EXEC);
    });
    a.close(); b.close();
  });

  test("a key already past its TTL when watched, then removed by the active cycle, does not break it", async () => {
    const [a, b] = await pair();
    await withoutActiveExpire(a, async () => {
      await a.raw("SET", "k", "v", "PX", "1000");
      advanceClock(2000);
      expect(await a.raw("WATCH", "k")).toBe("+OK\r\n");
    });
    for (let i = 0; i < 100 && (await b.raw("DBSIZE")) !== ":0\r\n"; i++) await Bun.sleep(20);
    expect(await b.raw("DBSIZE")).toBe(":0\r\n");
    expect(await execPing(a)).toBe(PONG_EXEC);
    a.close(); b.close();
  });

  test("a key already past its TTL when watched, then set again by another client, breaks it", async () => {
    const [a, b] = await pair();
    await withoutActiveExpire(a, async () => {
      await a.raw("SET", "k", "v", "PX", "1000");
      advanceClock(2000);
      await a.raw("WATCH", "k");
      await b.raw("SET", "k", "new");
      expect(await execPing(a)).toBe(NULL_ARRAY);
    });
    a.close(); b.close();
  });

  test("another client's FLUSHDB and FLUSHALL break it when the key existed", async () => {
    const [a, b] = await pair();
    await a.raw("SET", "k", "1");
    await a.raw("WATCH", "k");
    await b.raw("FLUSHDB");
    expect(await execPing(a)).toBe(NULL_ARRAY);
    await a.raw("SET", "k", "1");
    await a.raw("WATCH", "k");
    await b.raw("FLUSHALL");
    expect(await execPing(a)).toBe(NULL_ARRAY);
    await a.raw("WATCH", "k"); // missing now: flushing changes nothing for it
    await b.raw("FLUSHALL");
    expect(await execPing(a)).toBe(PONG_EXEC);
    a.close(); b.close();
  });

  test("FLUSHDB of another database leaves it alone", async () => {
    const [a, b] = await pair();
    await a.raw("SET", "k", "1");
    await a.raw("WATCH", "k");
    await b.raw("SELECT", "3");
    await b.raw("SET", "k", "x");
    await b.raw("FLUSHDB");
    expect(await execPing(a)).toBe(PONG_EXEC);
    a.close(); b.close();
  });

  test("another client's SWAPDB breaks it when either side holds the key", async () => {
    const [a, b] = await pair();
    await a.raw("SET", "k", "1");
    await a.raw("WATCH", "k");
    await b.raw("SWAPDB", "0", "1");
    expect(await execPing(a)).toBe(NULL_ARRAY);
    // k is now in db 1 only: swapping it back into db 0 changes db 0's k.
    await a.raw("WATCH", "k");
    await b.raw("SWAPDB", "1", "0");
    expect(await execPing(a)).toBe(NULL_ARRAY);
    await a.raw("WATCH", "nowhere");
    await b.raw("SWAPDB", "0", "1");
    expect(await execPing(a)).toBe(PONG_EXEC);
    await b.raw("FLUSHALL");
    a.close(); b.close();
  });

  test("another client's RENAME breaks it for the source and the destination", async () => {
    const [a, b] = await pair();
    await a.raw("SET", "src", "1");
    await a.raw("WATCH", "src");
    await b.raw("RENAME", "src", "dst");
    expect(await execPing(a)).toBe(NULL_ARRAY);
    await a.raw("WATCH", "src");
    await b.raw("RENAME", "dst", "src");
    expect(await execPing(a)).toBe(NULL_ARRAY);
    a.close(); b.close();
  });

  test("another client's MOVE breaks it in the source and the target database, a failed MOVE does not", async () => {
    const [a, b] = await pair();
    await a.raw("SET", "k", "1");
    await a.raw("WATCH", "k");
    expect(await b.raw("MOVE", "k", "2")).toBe(":1\r\n");
    expect(await execPing(a)).toBe(NULL_ARRAY);
    await a.raw("SELECT", "3");
    await a.raw("WATCH", "k");
    await b.raw("SET", "k", "2");
    expect(await b.raw("MOVE", "k", "3")).toBe(":1\r\n");
    expect(await execPing(a)).toBe(NULL_ARRAY);
    await a.raw("WATCH", "k");
    await b.raw("SET", "k", "3");
    expect(await b.raw("MOVE", "k", "3")).toBe(":0\r\n"); // db 3 has its own k: nothing moves
    expect(await execPing(a)).toBe(PONG_EXEC);
    await b.raw("FLUSHALL");
    a.close(); b.close();
  });

  test("another client's reads leave it alone", async () => {
    const [a, b] = await pair();
    await a.raw("SET", "k", "1");
    await a.raw("RPUSH", "l", "x");
    await a.raw("WATCH", "k", "l");
    for (const cmd of [["GET", "k"], ["EXISTS", "k"], ["TTL", "k"], ["TYPE", "k"], ["STRLEN", "k"], ["KEYS", "*"], ["SCAN", "0"],
      ["LRANGE", "l", "0", "-1"], ["LLEN", "l"], ["OBJECT", "ENCODING", "k"], ["TOUCH", "k"], ["DBSIZE"], ["RANDOMKEY"], ["MGET", "k", "l"]]) {
      await b.raw(...cmd);
    }
    expect(await execPing(a)).toBe(PONG_EXEC);
    a.close(); b.close();
  });

  test("a write to the same name in another database leaves it alone", async () => {
    const [a, b] = await pair();
    await a.raw("WATCH", "k");
    await b.raw("SELECT", "1");
    await b.raw("SET", "k", "elsewhere");
    expect(await execPing(a)).toBe(PONG_EXEC);
    await b.raw("FLUSHALL");
    a.close(); b.close();
  });

  test("another client's transaction that writes the key breaks it", async () => {
    const [a, b] = await pair();
    await a.raw("WATCH", "k");
    await b.raw("MULTI");
    await b.raw("SET", "k", "1");
    expect(await b.raw("EXEC")).toBe("*1\r\n+OK\r\n");
    expect(await execPing(a)).toBe(NULL_ARRAY);
    a.close(); b.close();
  });

  test("two watchers of the same key: the first EXEC wins, the second fails", async () => {
    const [a, b] = await pair();
    await a.raw("SET", "counter", "10");
    await a.raw("WATCH", "counter");
    await b.raw("WATCH", "counter");
    for (const c of [a, b]) { await c.raw("MULTI"); await c.raw("INCR", "counter"); }
    expect(await a.raw("EXEC")).toBe("*1\r\n:11\r\n");
    expect(await b.raw("EXEC")).toBe(NULL_ARRAY);
    expect(await b.raw("GET", "counter")).toBe("$2\r\n11\r\n");
    a.close(); b.close();
  });

  test("UNWATCH and DISCARD stop watching, so a later write does not matter", async () => {
    const [a, b] = await pair();
    await a.raw("WATCH", "k");
    await a.raw("UNWATCH");
    await b.raw("SET", "k", "1");
    expect(await execPing(a)).toBe(PONG_EXEC);
    await a.raw("WATCH", "k");
    await a.raw("MULTI");
    await a.raw("DISCARD");
    await b.raw("SET", "k", "2");
    expect(await execPing(a)).toBe(PONG_EXEC);
    a.close(); b.close();
  });

  test("a watcher that disconnects is forgotten; writers are unaffected", async () => {
    const [a, b] = await pair();
    await a.raw("WATCH", "k");
    a.close();
    await Bun.sleep(20);
    expect(await b.raw("SET", "k", "1")).toBe("+OK\r\n");
    expect(await b.raw("GET", "k")).toBe("$1\r\n1\r\n");
    b.close();
  });

  test("CLIENT LIST shows the d flag once a watched key changed, and x with the queue length while queueing", async () => {
    const [a, b] = await pair();
    const id = await a.cmd("CLIENT", "ID");
    const line = async () => ((await b.cmd("CLIENT", "LIST", "ID", String(id))) as string);
    await a.raw("WATCH", "k");
    expect(await line()).toContain(" flags=N ");
    await b.raw("SET", "k", "1");
    expect(await line()).toContain(" flags=d ");
    await a.raw("MULTI");
    expect(await line()).toMatch(/ flags=xd .* multi=0 /);
    expect(await a.raw("EXEC")).toBe(NULL_ARRAY);
    expect(await line()).toMatch(/ flags=N .* multi=-1 /);
    await a.raw("MULTI");
    await a.raw("PING");
    await a.raw("ECHO", "x");
    expect(await line()).toMatch(/ flags=x .* multi=2 /);
    expect(await a.raw("EXEC")).toBe("*2\r\n+PONG\r\n$1\r\nx\r\n");
    a.close(); b.close();
  });

  // Checked against redis-server 7.0.15: a queued command becomes the client's cmd=, and once a
  // watched key changed Redis stops queueing (multi=0), since EXEC will fail anyway.
  test("CLIENT LIST of a client in MULTI names its last queued command; a doomed transaction queues nothing", async () => {
    const [a, b] = await pair();
    const id = await a.cmd("CLIENT", "ID");
    const line = async () => ((await b.cmd("CLIENT", "LIST", "ID", String(id))) as string);
    await a.raw("MULTI");
    await a.raw("PING");
    expect(await line()).toMatch(/ flags=x .* multi=1 .* cmd=ping /);
    await a.raw("DISCARD");
    await a.raw("WATCH", "k");
    await b.raw("SET", "k", "1");
    await a.raw("MULTI");
    expect(await a.raw("INCR", "k")).toBe("+QUEUED\r\n");
    expect(await line()).toMatch(/ flags=xd .* multi=0 .* cmd=incr /);
    expect(await a.raw("EXEC")).toBe(NULL_ARRAY);
    a.close(); b.close();
  });

  test("ioredis: watch() then multi().exec() resolves null when another connection changed the key", async () => {
    const port = (await sharedServer()).port;
    const c = await connect();
    const client = new IORedis(port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await client.connect();
      await client.set("balance", "100");
      expect(await client.watch("balance")).toBe("OK");
      expect(await c.raw("SET", "balance", "50")).toBe("+OK\r\n");
      expect(await client.multi().decrby("balance", 30).get("balance").exec()).toBeNull();
      expect(await client.get("balance")).toBe("50");
      // Unchanged this time: the transaction commits.
      expect(await client.watch("balance")).toBe("OK");
      expect(await client.multi().decrby("balance", 30).get("balance").exec()).toEqual([[null, 20], [null, "20"]]);
    } finally {
      client.disconnect();
      c.close();
    }
  });
});

describe("EXEC", () => {
  test("a pipelined MULTI of 1000 INCRs is never seen half done by a client polling GET", async () => {
    const [a, b] = await pair();
    const frame = Buffer.concat([encode(["MULTI"]), ...Array.from({ length: 1000 }, () => encode(["INCR", "n"])), encode(["EXEC"])]);
    const seen = new Set<string>();
    let done = false;
    const poller = (async () => {
      while (!done) seen.add(await b.raw("GET", "n"));
    })();
    await Bun.sleep(5);
    // Written in small pieces so the server gets the transaction over many reads, with the
    // poller's GETs in between.
    for (let i = 0; i < frame.length; i += 2048) {
      a.write(frame.subarray(i, i + 2048));
      await Bun.sleep(0);
    }
    for (let i = 0; i < 1001; i++) expect(await a.readRaw()).toBe(i === 0 ? "+OK\r\n" : "+QUEUED\r\n");
    const exec = await a.readRaw();
    expect(exec.startsWith("*1000\r\n:1\r\n:2\r\n")).toBe(true);
    expect(exec.endsWith(":1000\r\n")).toBe(true);
    seen.add(await b.raw("GET", "n"));
    done = true;
    await poller;
    expect([...seen].sort()).toEqual(["$-1\r\n", "$4\r\n1000\r\n"]);
    a.close(); b.close();
  });

  test("another client's commands run while a transaction is still queueing", async () => {
    const [a, b] = await pair();
    await a.raw("MULTI");
    await a.raw("SET", "k", "from-a");
    expect(await b.raw("GET", "k")).toBe("$-1\r\n");
    expect(await b.raw("SET", "k", "from-b")).toBe("+OK\r\n");
    expect(await a.raw("EXEC")).toBe("*1\r\n+OK\r\n");
    expect(await b.raw("GET", "k")).toBe("$6\r\nfrom-a\r\n");
    a.close(); b.close();
  });

  test("a client blocked on a list is served once, after the whole transaction", async () => {
    const [a, b] = await pair();
    await block(b, a, "BLPOP", "q", "5");
    await a.raw("MULTI");
    await a.raw("RPUSH", "q", "a");
    await a.raw("LPOP", "q");
    await a.raw("RPUSH", "q", "b", "c");
    // Served mid-transaction the waiter would get "a" and LPOP nil; Redis serves it after EXEC.
    expect(await a.raw("EXEC")).toBe("*3\r\n:1\r\n$1\r\na\r\n:2\r\n");
    expect(await b.readRaw()).toBe("*2\r\n$1\r\nq\r\n$1\r\nb\r\n");
    expect(await a.raw("LRANGE", "q", "0", "-1")).toBe("*1\r\n$1\r\nc\r\n");
    a.close(); b.close();
  });

  test("a transaction that pushes and then empties the list leaves the waiter blocked", async () => {
    const [a, b] = await pair();
    await block(b, a, "BLPOP", "q", "5");
    await a.raw("MULTI");
    await a.raw("RPUSH", "q", "x");
    await a.raw("DEL", "q");
    expect(await a.raw("EXEC")).toBe("*2\r\n:1\r\n:1\r\n");
    await Bun.sleep(20);
    expect(b.pending()).toBe("");
    expect(await a.raw("RPUSH", "q", "later")).toBe(":1\r\n");
    expect(await b.readRaw()).toBe("*2\r\n$1\r\nq\r\n$5\r\nlater\r\n");
    a.close(); b.close();
  });

  test("a pipelined MULTI RPUSH a, RPUSH b, EXEC serves the waiter 'a' and leaves 'b'", async () => {
    const [a, b] = await pair();
    await block(b, a, "BLPOP", "q", "5");
    a.write(Buffer.concat([encode(["MULTI"]), encode(["RPUSH", "q", "a"]), encode(["RPUSH", "q", "b"]), encode(["EXEC"])]));
    for (const want of ["+OK\r\n", "+QUEUED\r\n", "+QUEUED\r\n", "*2\r\n:1\r\n:2\r\n"]) expect(await a.readRaw()).toBe(want);
    expect(await b.readRaw()).toBe("*2\r\n$1\r\nq\r\n$1\r\na\r\n");
    expect(await a.raw("LRANGE", "q", "0", "-1")).toBe("*1\r\n$1\r\nb\r\n");
    a.close(); b.close();
  });

  test("clients blocked on a sorted set and on a list are each served after EXEC", async () => {
    const [a, b] = await pair();
    const c = await RawClient.connect((await sharedServer()).port);
    await block(b, a, "BZPOPMIN", "z", "5");
    await block(c, a, "BLMOVE", "src", "dst", "LEFT", "RIGHT", "5");
    await a.raw("MULTI");
    await a.raw("ZADD", "z", "2", "two", "1", "one");
    await a.raw("RPUSH", "src", "m");
    await a.raw("ZADD", "z", "0", "zero");
    expect(await a.raw("EXEC")).toBe("*3\r\n:2\r\n:1\r\n:1\r\n");
    expect(await b.readRaw()).toBe("*3\r\n$1\r\nz\r\n$4\r\nzero\r\n$1\r\n0\r\n");
    expect(await c.readRaw()).toBe("$1\r\nm\r\n");
    expect(await a.raw("LRANGE", "dst", "0", "-1")).toBe("*1\r\n$1\r\nm\r\n");
    a.close(); b.close(); c.close();
  });
});

describe("DISCARD", () => {
  test("another client never sees the discarded commands", async () => {
    const [a, b] = await pair();
    await a.raw("MULTI");
    await a.raw("SET", "k", "v");
    await a.raw("RPUSH", "q", "x");
    expect(await a.raw("DISCARD")).toBe("+OK\r\n");
    expect(await b.raw("EXISTS", "k", "q")).toBe(":0\r\n");
    a.close(); b.close();
  });
});
