// main.ts, Blocking: one describe per blocking command, then the commands
// that act on blocked clients (CLIENT UNBLOCK, INFO, SWAPDB, FLUSHALL). The differential suite runs
// one connection at a time, so it only sees the immediate and timeout paths; these tests use two or
// more connections to check who gets served, in what order, and what everyone else sees meanwhile.
// Every expectation was first checked against a real redis-server 7.0.15.
//
// No sleeps decide an outcome: `block()` waits until CLIENT LIST shows the client parked, and after
// any reply on the control connection the server has already served whoever that command woke
// (blocked clients are served before the next command runs), so `isBlocked()` is exact.
import { describe, test, expect, afterEach } from "bun:test";
import { connect, sharedServer, arr, bulk, bulks, int } from "./helpers.ts";
import { RawClient, encode } from "./client.ts";

/** Every connection a test opens; closed after it, so no blocked client outlives its test. */
let opened: RawClient[] = [];
const ids = new WeakMap<RawClient, number>();

afterEach(async () => {
  for (const c of opened) c.close();
  opened = [];
  const ctl = await RawClient.connect((await sharedServer()).port);
  await until(async () => (await blockedClients(ctl)) === 0);
  ctl.close();
});

/** The control connection of a test, on an empty dataset. */
async function setup(): Promise<RawClient> {
  const ctl = await connect();
  opened.push(ctl);
  return ctl;
}

/** Another connection (no FLUSHALL), with its CLIENT ID noted; `resp` 3 says HELLO 3 first. */
async function client(resp = 2): Promise<RawClient> {
  const c = await RawClient.connect((await sharedServer()).port);
  opened.push(c);
  ids.set(c, (await c.cmd("CLIENT", "ID")) as number);
  if (resp === 3) await c.cmd("HELLO", 3);
  return c;
}

async function until(check: () => Promise<boolean>, what = "condition"): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(1);
  }
}

/** True when CLIENT LIST shows c parked in a blocking command. */
async function isBlocked(ctl: RawClient, c: RawClient): Promise<boolean> {
  return / flags=b /.test((await ctl.cmd("CLIENT", "LIST", "ID", ids.get(c)!)) as string);
}

/** Sends a blocking command on c and returns once the server has parked c. */
async function block(ctl: RawClient, c: RawClient, args: (string | number)[]): Promise<void> {
  c.send(...args);
  await until(() => isBlocked(ctl, c), `${args[0]} to block`);
}

/** INFO clients' blocked_clients. */
async function blockedClients(ctl: RawClient): Promise<number> {
  return Number(/^blocked_clients:(\d+)\r$/m.exec((await ctl.cmd("INFO", "clients")) as string)![1]);
}

/** A blocking command's reply and how long it took. */
async function timed(c: RawClient, args: (string | number)[]): Promise<{ reply: string; ms: number }> {
  const t = performance.now();
  const reply = await c.raw(...args);
  return { reply, ms: performance.now() - t };
}

// ---------------------------------------------------------------------------------------------
// What the tests below need to know about each blocking command
// ---------------------------------------------------------------------------------------------

interface Blocker {
  name: string;
  type: "list" | "zset";
  /** The command, blocking on `keys` for `timeout` seconds. */
  cmd(keys: string[], timeout: string | number): (string | number)[];
  multiKey: boolean;
  /** It takes from the head (LEFT, lowest score) rather than the tail. */
  fromHead: boolean;
  /** Its reply when served `member` from `key`. */
  served(key: string, member: string): string;
}

/** Members are named e<score>: e1 has score 1 in a sorted set. */
const score = (member: string): string => member.slice(1);

/** Adds members to a key of the blocker's type: RPUSH for lists, ZADD e<n> with score n for zsets. */
function feed(b: Blocker, key: string, ...members: string[]): (string | number)[] {
  return b.type === "list" ? ["RPUSH", key, ...members] : ["ZADD", key, ...members.flatMap((m) => [score(m), m])];
}
const countCmd = (b: Blocker, key: string) => [b.type === "list" ? "LLEN" : "ZCARD", key];

const BLOCKERS: Blocker[] = [
  { name: "BLPOP", type: "list", multiKey: true, fromHead: true, cmd: (keys, t) => ["BLPOP", ...keys, t], served: (k, m) => bulks(k, m) },
  { name: "BRPOP", type: "list", multiKey: true, fromHead: false, cmd: (keys, t) => ["BRPOP", ...keys, t], served: (k, m) => bulks(k, m) },
  { name: "BLMOVE", type: "list", multiKey: false, fromHead: true, cmd: (keys, t) => ["BLMOVE", keys[0], "dst", "LEFT", "RIGHT", t], served: (_k, m) => bulk(m) },
  { name: "BRPOPLPUSH", type: "list", multiKey: false, fromHead: false, cmd: (keys, t) => ["BRPOPLPUSH", keys[0], "dst", t], served: (_k, m) => bulk(m) },
  { name: "BLMPOP", type: "list", multiKey: true, fromHead: true, cmd: (keys, t) => ["BLMPOP", t, keys.length, ...keys, "LEFT"], served: (k, m) => arr(bulk(k), bulks(m)) },
  { name: "BZPOPMIN", type: "zset", multiKey: true, fromHead: true, cmd: (keys, t) => ["BZPOPMIN", ...keys, t], served: (k, m) => bulks(k, m, score(m)) },
  { name: "BZPOPMAX", type: "zset", multiKey: true, fromHead: false, cmd: (keys, t) => ["BZPOPMAX", ...keys, t], served: (k, m) => bulks(k, m, score(m)) },
  { name: "BZMPOP", type: "zset", multiKey: true, fromHead: true, cmd: (keys, t) => ["BZMPOP", t, keys.length, ...keys, "MIN"], served: (k, m) => arr(bulk(k), arr(bulks(m, score(m)))) },
];
const blocker = (name: string): Blocker => BLOCKERS.find((b) => b.name === name)!;

/** The tests every blocking command passes. */
function blockingCommandTests(b: Blocker): void {
  const otherType = (key: string) => (b.type === "list" ? ["ZADD", key, 1, "m"] : ["RPUSH", key, "v"]);

  test("clients blocked on one key are served in the order they blocked by a push of three", async () => {
    const ctl = await setup();
    const waiters = [await client(), await client(), await client()];
    for (const w of waiters) await block(ctl, w, b.cmd(["k"], 0));
    expect(await ctl.raw(...feed(b, "k", "e1", "e2", "e3"))).toBe(int(3));
    const order = b.fromHead ? ["e1", "e2", "e3"] : ["e3", "e2", "e1"];
    for (let i = 0; i < 3; i++) expect(await waiters[i].readRaw()).toBe(b.served("k", order[i]));
    expect(await ctl.raw("EXISTS", "k")).toBe(int(0));
  });

  test("clients blocked on one key are served in the order they blocked by one push at a time", async () => {
    const ctl = await setup();
    const waiters = [await client(), await client(), await client()];
    for (const w of waiters) await block(ctl, w, b.cmd(["k"], 0));
    for (let i = 0; i < 3; i++) {
      expect(await ctl.raw(...feed(b, "k", `e${i + 1}`))).toBe(int(1));
      expect(await waiters[i].readRaw()).toBe(b.served("k", `e${i + 1}`));
      for (const w of waiters.slice(i + 1)) expect(await isBlocked(ctl, w)).toBe(true);
    }
  });

  test("the pusher's reply counts every element it added, and its next command sees what the waiters took", async () => {
    const ctl = await setup();
    const waiters = [await client(), await client()];
    for (const w of waiters) await block(ctl, w, b.cmd(["k"], 0));
    ctl.write(Buffer.concat([encode(feed(b, "k", "e1", "e2", "e3")), encode(countCmd(b, "k"))]));
    expect(await ctl.readRaw()).toBe(int(3));
    expect(await ctl.readRaw()).toBe(int(1));
    const order = b.fromHead ? ["e1", "e2"] : ["e3", "e2"];
    expect(await waiters[0].readRaw()).toBe(b.served("k", order[0]));
    expect(await waiters[1].readRaw()).toBe(b.served("k", order[1]));
  });

  if (b.multiKey) {
    test("a client blocked on several keys is served by the first key that gets data, and the reply names it", async () => {
      const ctl = await setup();
      const w = await client();
      await block(ctl, w, b.cmd(["k1", "k2", "k3"], 0));
      expect(await blockedClients(ctl)).toBe(1);
      expect(await ctl.raw(...feed(b, "k2", "e7"))).toBe(int(1));
      expect(await w.readRaw()).toBe(b.served("k2", "e7"));
      // It left the other keys' queues: data there now stays put.
      expect(await ctl.raw(...feed(b, "k1", "e1"))).toBe(int(1));
      expect(await ctl.raw(...countCmd(b, "k1"))).toBe(int(1));
    });

    test("a client served through one key no longer waits on the others, so the next waiter there gets the data", async () => {
      const ctl = await setup();
      const first = await client(), second = await client();
      await block(ctl, first, b.cmd(["k1", "k2"], 0));
      await block(ctl, second, b.cmd(["k2"], 0));
      await ctl.raw(...feed(b, "k1", "e1"));
      expect(await first.readRaw()).toBe(b.served("k1", "e1"));
      await ctl.raw(...feed(b, "k2", "e2"));
      expect(await second.readRaw()).toBe(b.served("k2", "e2"));
    });
  }

  test("times out after its decimal timeout (0.05 s) with *-1 in RESP2 and _ in RESP3", async () => {
    await setup();
    const [c2, c3] = [await client(2), await client(3)];
    const [r2, r3] = await Promise.all([timed(c2, b.cmd(["k"], "0.05")), timed(c3, b.cmd(["k"], "0.05"))]);
    expect(r2.reply).toBe("*-1\r\n");
    expect(r3.reply).toBe("_\r\n");
    for (const r of [r2, r3]) {
      expect(r.ms).toBeGreaterThanOrEqual(40);
      expect(r.ms).toBeLessThan(3000);
    }
  });

  test("timeout 0 waits until data arrives", async () => {
    const ctl = await setup();
    const w = await client();
    await block(ctl, w, b.cmd(["k"], 0));
    await Bun.sleep(30);
    expect(await isBlocked(ctl, w)).toBe(true);
    expect(w.pending()).toBe("");
    await ctl.raw(...feed(b, "k", "e5"));
    expect(await w.readRaw()).toBe(b.served("k", "e5"));
  });

  test("a negative timeout and a timeout that is not a number are errors", async () => {
    const c = await setup();
    expect(await c.raw(...b.cmd(["k"], -1))).toBe("-ERR timeout is negative\r\n");
    expect(await c.raw(...b.cmd(["k"], "-0.5"))).toBe("-ERR timeout is negative\r\n");
    expect(await c.raw(...b.cmd(["k"], "soon"))).toBe("-ERR timeout is not a float or out of range\r\n");
    expect(await c.raw(...b.cmd(["k"], ""))).toBe("-ERR timeout is not a float or out of range\r\n");
  });

  test("a client that disconnects while blocked leaves no trace: the next waiter gets the element and nothing is lost", async () => {
    const ctl = await setup();
    const ghost = await client(), w = await client();
    await block(ctl, ghost, b.cmd(["k"], 0));
    await block(ctl, w, b.cmd(["k"], 0));
    ghost.close();
    await until(async () => (await blockedClients(ctl)) === 1, "the ghost to leave");
    expect(await ctl.raw(...feed(b, "k", "e1", "e2"))).toBe(int(2));
    expect(await w.readRaw()).toBe(b.served("k", b.fromHead ? "e1" : "e2"));
    expect(await ctl.raw(...countCmd(b, "k"))).toBe(int(1));
  });

  test("a client killed by CLIENT KILL while blocked leaves no trace either", async () => {
    const ctl = await setup();
    const victim = await client(), w = await client();
    await block(ctl, victim, b.cmd(["k"], 0));
    await block(ctl, w, b.cmd(["k"], 0));
    expect(await ctl.raw("CLIENT", "KILL", "ID", ids.get(victim)!)).toBe(int(1));
    expect(await blockedClients(ctl)).toBe(1);
    await ctl.raw(...feed(b, "k", "e1"));
    expect(await w.readRaw()).toBe(b.served("k", "e1"));
  });

  test("CLIENT UNBLOCK ends the wait with the timeout reply, or with -UNBLOCKED when asked for ERROR", async () => {
    const ctl = await setup();
    const [c2, c3] = [await client(2), await client(3)];
    await block(ctl, c2, b.cmd(["k"], 0));
    expect(await ctl.raw("CLIENT", "UNBLOCK", ids.get(c2)!)).toBe(int(1));
    expect(await c2.readRaw()).toBe("*-1\r\n");
    await block(ctl, c3, b.cmd(["k"], 0));
    expect(await ctl.raw("CLIENT", "UNBLOCK", ids.get(c3)!, "TIMEOUT")).toBe(int(1));
    expect(await c3.readRaw()).toBe("_\r\n");
    await block(ctl, c2, b.cmd(["k"], 0));
    expect(await ctl.raw("CLIENT", "UNBLOCK", ids.get(c2)!, "ERROR")).toBe(int(1));
    expect(await c2.readRaw()).toBe("-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
    expect(await blockedClients(ctl)).toBe(0);
  });

  test("commands pipelined behind it run only after it is served", async () => {
    const ctl = await setup();
    const w = await client();
    w.write(Buffer.concat([encode(b.cmd(["k"], 0)), encode(["PING"]), encode(countCmd(b, "k"))]));
    await until(() => isBlocked(ctl, w));
    expect(await ctl.raw("PING")).toBe("+PONG\r\n");
    expect(w.pending()).toBe("");
    await ctl.raw(...feed(b, "k", "e1", "e2"));
    expect(await w.readRaw()).toBe(b.served("k", b.fromHead ? "e1" : "e2"));
    expect(await w.readRaw()).toBe("+PONG\r\n");
    expect(await w.readRaw()).toBe(int(1));
  });

  test("commands pipelined behind it run after it times out", async () => {
    await setup();
    const w = await client();
    w.write(Buffer.concat([encode(b.cmd(["k"], "0.01")), encode(["PING"])]));
    expect(await w.readRaw()).toBe("*-1\r\n");
    expect(await w.readRaw()).toBe("+PONG\r\n");
  });

  test(`a key recreated with another type does not wake it: it waits for a ${b.type}`, async () => {
    const ctl = await setup();
    const w = await client();
    await block(ctl, w, b.cmd(["k"], 0));
    await ctl.raw(...otherType("k"));
    expect(await isBlocked(ctl, w)).toBe(true);
    expect(await ctl.raw("DEL", "k")).toBe(int(1));
    expect(await ctl.raw("SET", "k", "string")).toBe("+OK\r\n");
    expect(await isBlocked(ctl, w)).toBe(true);
    await ctl.raw("DEL", "k");
    await ctl.raw(...feed(b, "k", "e1"));
    expect(await w.readRaw()).toBe(b.served("k", "e1"));
    expect(w.pending()).toBe("");
  });

  test("deletes the key when it takes the last element, at once or after blocking", async () => {
    const ctl = await setup();
    const w = await client();
    await ctl.raw(...feed(b, "k", "e1"));
    expect(await w.raw(...b.cmd(["k"], 0))).toBe(b.served("k", "e1"));
    expect(await ctl.raw("EXISTS", "k")).toBe(int(0));
    await block(ctl, w, b.cmd(["k"], 0));
    await ctl.raw(...feed(b, "k", "e2"));
    expect(await w.readRaw()).toBe(b.served("k", "e2"));
    expect(await ctl.raw("EXISTS", "k")).toBe(int(0));
    expect(await ctl.raw("TYPE", "k")).toBe("+none\r\n");
  });
}

// ---------------------------------------------------------------------------------------------
// The blocking commands
// ---------------------------------------------------------------------------------------------

describe("BLPOP", () => {
  blockingCommandTests(blocker("BLPOP"));

  test("a client blocked twice on the same key counts once and is served once", async () => {
    const ctl = await setup();
    const w = await client();
    await block(ctl, w, ["BLPOP", "k", "k", 0]);
    expect(await blockedClients(ctl)).toBe(1);
    expect(await ctl.raw("RPUSH", "k", "v", "w")).toBe(int(2));
    expect(await w.readRaw()).toBe(bulks("k", "v"));
    expect(await ctl.raw("LRANGE", "k", 0, -1)).toBe(bulks("w"));
  });

  test("a later command from a blocked client waits behind it", async () => {
    const ctl = await setup();
    const w = await client();
    await block(ctl, w, ["BLPOP", "k", 0]);
    w.send("PING");
    expect(await ctl.raw("PING")).toBe("+PONG\r\n");
    expect(await isBlocked(ctl, w)).toBe(true);
    await ctl.raw("RPUSH", "k", "v");
    expect(await w.readRaw()).toBe(bulks("k", "v"));
    expect(await w.readRaw()).toBe("+PONG\r\n");
  });

  test("is served by a list that RENAME, COPY, MOVE or LMOVE puts under its key", async () => {
    const ctl = await setup();
    const w = await client();
    await ctl.raw("RPUSH", "src", "renamed");
    await block(ctl, w, ["BLPOP", "k", 0]);
    expect(await ctl.raw("RENAME", "src", "k")).toBe("+OK\r\n");
    expect(await w.readRaw()).toBe(bulks("k", "renamed"));

    await ctl.raw("RPUSH", "src", "copied");
    await block(ctl, w, ["BLPOP", "k", 0]);
    expect(await ctl.raw("COPY", "src", "k")).toBe(int(1));
    expect(await w.readRaw()).toBe(bulks("k", "copied"));
    expect(await ctl.raw("LRANGE", "src", 0, -1)).toBe(bulks("copied"));

    await ctl.raw("SELECT", 1);
    await ctl.raw("RPUSH", "k", "moved");
    await block(ctl, w, ["BLPOP", "k", 0]);
    expect(await ctl.raw("MOVE", "k", 0)).toBe(int(1));
    expect(await w.readRaw()).toBe(bulks("k", "moved"));
    await ctl.raw("SELECT", 0);

    await block(ctl, w, ["BLPOP", "k", 0]);
    expect(await ctl.raw("LMOVE", "src", "k", "LEFT", "LEFT")).toBe(bulk("copied"));
    expect(await w.readRaw()).toBe(bulks("k", "copied"));
    expect(await ctl.raw("EXISTS", "src", "k")).toBe(int(0));
  });

  test("a client blocked in database 1 is not served by a push to the same key in database 0", async () => {
    const ctl = await setup();
    const w = await client();
    await w.raw("SELECT", 1);
    await block(ctl, w, ["BLPOP", "k", 0]);
    await ctl.raw("RPUSH", "k", "db0");
    expect(await isBlocked(ctl, w)).toBe(true);
    await ctl.raw("SELECT", 1);
    await ctl.raw("RPUSH", "k", "db1");
    expect(await w.readRaw()).toBe(bulks("k", "db1"));
    await ctl.raw("SELECT", 0);
    expect(await ctl.raw("LRANGE", "k", 0, -1)).toBe(bulks("db0"));
  });

  test("a list waiter and a sorted-set waiter on one key each wait for their own type", async () => {
    const ctl = await setup();
    const lw = await client(), zw = await client();
    await block(ctl, lw, ["BLPOP", "k", 0]);
    await block(ctl, zw, ["BZPOPMIN", "k", 0]);
    expect(await ctl.raw("ZADD", "k", 1, "m")).toBe(int(1));
    expect(await zw.readRaw()).toBe(bulks("k", "m", "1"));
    expect(await isBlocked(ctl, lw)).toBe(true);
    expect(await ctl.raw("RPUSH", "k", "x")).toBe(int(1));
    expect(await lw.readRaw()).toBe(bulks("k", "x"));
  });

  // Redis turns seconds into ms with ceill(), so any positive timeout waits at least 1 ms.
  test("a timeout under a millisecond is rounded up, so BLPOP k 0.0001 times out instead of waiting forever", async () => {
    const ctl = await setup();
    const w = await client();
    w.send("BLPOP", "k", "0.0001");
    expect(await w.readRaw(500)).toBe("*-1\r\n");
    expect(await blockedClients(ctl)).toBe(0);
  });

  // ceill(-0.001L * 1000) is 0 in Redis's long double arithmetic: "block forever", not an error.
  test("a timeout of -0.001 rounds up to 0 and blocks forever; -0.0011 is negative", async () => {
    const ctl = await setup();
    const w = await client();
    expect(await w.raw("BLPOP", "k", "-0.0011")).toBe("-ERR timeout is negative\r\n");
    w.send("BLPOP", "k", "-0.0005");
    await until(() => isBlocked(ctl, w));
    await ctl.raw("RPUSH", "k", "a");
    expect(await w.readRaw()).toBe(bulks("k", "a"));
    w.send("BLPOP", "k", "-0.001");
    await Bun.sleep(20);
    expect(w.pending()).toBe("");
    expect(await isBlocked(ctl, w)).toBe(true);
  });
});

describe("BRPOP", () => {
  blockingCommandTests(blocker("BRPOP"));
});

describe("BLMOVE", () => {
  blockingCommandTests(blocker("BLMOVE"));

  test("pushes what it pops onto its destination, in the order the waiters were served", async () => {
    const ctl = await setup();
    const waiters = [await client(), await client(), await client()];
    for (const w of waiters) await block(ctl, w, ["BLMOVE", "src", "dst", "LEFT", "RIGHT", 0]);
    await ctl.raw("RPUSH", "src", "a", "b", "c");
    for (const [i, m] of ["a", "b", "c"].entries()) expect(await waiters[i].readRaw()).toBe(bulk(m));
    expect(await ctl.raw("LRANGE", "dst", 0, -1)).toBe(bulks("a", "b", "c"));
  });

  test("chains: a client blocked on its destination is served in turn, down the chain", async () => {
    const ctl = await setup();
    const a = await client(), b = await client(), c = await client();
    await block(ctl, a, ["BLMOVE", "src", "mid", "LEFT", "RIGHT", 0]);
    await block(ctl, b, ["BLMOVE", "mid", "dst", "LEFT", "LEFT", 0]);
    await block(ctl, c, ["BLPOP", "dst", 0]);
    expect(await ctl.raw("RPUSH", "src", "e1", "e2")).toBe(int(2));
    expect(await a.readRaw()).toBe(bulk("e1"));
    expect(await b.readRaw()).toBe(bulk("e1"));
    expect(await c.readRaw()).toBe(bulks("dst", "e1"));
    expect(await ctl.raw("LRANGE", "src", 0, -1)).toBe(bulks("e2"));
    expect(await ctl.raw("EXISTS", "mid", "dst")).toBe(int(0));
  });

  test("two clients moving between the same two lists in opposite directions end with the element at rest", async () => {
    const ctl = await setup();
    const a = await client(), b = await client();
    await block(ctl, a, ["BLMOVE", "x", "y", "LEFT", "LEFT", 0]);
    await block(ctl, b, ["BLMOVE", "y", "x", "LEFT", "LEFT", 0]);
    await ctl.raw("RPUSH", "x", "e");
    expect(await a.readRaw()).toBe(bulk("e"));
    expect(await b.readRaw()).toBe(bulk("e"));
    expect(await ctl.raw("LRANGE", "x", 0, -1)).toBe(bulks("e"));
    expect(await ctl.raw("EXISTS", "y")).toBe(int(0));
  });

  test("moving a list onto itself rotates it once the element arrives", async () => {
    const ctl = await setup();
    const w = await client();
    await block(ctl, w, ["BLMOVE", "k", "k", "RIGHT", "LEFT", 0]);
    await ctl.raw("RPUSH", "k", "a");
    expect(await w.readRaw()).toBe(bulk("a"));
    expect(await ctl.raw("LRANGE", "k", 0, -1)).toBe(bulks("a"));
  });

  test("a destination of the wrong type answers WRONGTYPE when served, and the element stays in the source", async () => {
    const ctl = await setup();
    const w = await client();
    await ctl.raw("SET", "dst", "string");
    await block(ctl, w, ["BLMOVE", "src", "dst", "LEFT", "LEFT", 0]);
    await ctl.raw("RPUSH", "src", "x");
    expect(await w.readRaw()).toBe("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    expect(await ctl.raw("LRANGE", "src", 0, -1)).toBe(bulks("x"));
    expect(await blockedClients(ctl)).toBe(0);
  });

  test("answers RESP3 clients with the element as a bulk string", async () => {
    const ctl = await setup();
    const w = await client(3);
    await block(ctl, w, ["BLMOVE", "l1", "l2", "LEFT", "LEFT", 0]);
    await ctl.raw("RPUSH", "l1", "v");
    expect(await w.readRaw()).toBe(bulk("v"));
  });
});

describe("BRPOPLPUSH", () => {
  blockingCommandTests(blocker("BRPOPLPUSH"));

  test("chains into a client blocked on its destination", async () => {
    const ctl = await setup();
    const a = await client(), b = await client();
    await block(ctl, a, ["BRPOPLPUSH", "s", "d", 0]);
    await block(ctl, b, ["BRPOP", "d", 0]);
    expect(await ctl.raw("LPUSH", "s", "x")).toBe(int(1));
    expect(await a.readRaw()).toBe(bulk("x"));
    expect(await b.readRaw()).toBe(bulks("d", "x"));
    expect(await ctl.raw("EXISTS", "s", "d")).toBe(int(0));
  });
});

describe("BLMPOP", () => {
  blockingCommandTests(blocker("BLMPOP"));

  test("COUNT takes up to that many for each waiter, in the order they blocked", async () => {
    const ctl = await setup();
    const a = await client(), b = await client();
    await block(ctl, a, ["BLMPOP", 0, 2, "m1", "m2", "LEFT", "COUNT", 2]);
    await block(ctl, b, ["BLMPOP", 0, 1, "m2", "RIGHT", "COUNT", 5]);
    expect(await ctl.raw("RPUSH", "m2", "1", "2", "3")).toBe(int(3));
    expect(await a.readRaw()).toBe(arr(bulk("m2"), bulks("1", "2")));
    expect(await b.readRaw()).toBe(arr(bulk("m2"), bulks("3")));
    expect(await ctl.raw("EXISTS", "m2")).toBe(int(0));
  });

  test("answers a served RESP3 client with the same nested arrays", async () => {
    const ctl = await setup();
    const w = await client(3);
    await block(ctl, w, ["BLMPOP", 0, 1, "l", "LEFT"]);
    await ctl.raw("RPUSH", "l", "q");
    expect(await w.readRaw()).toBe(arr(bulk("l"), bulks("q")));
  });
});

describe("BZPOPMIN", () => {
  blockingCommandTests(blocker("BZPOPMIN"));

  test("is served by a sorted set that ZUNIONSTORE, ZINTERSTORE, ZRANGESTORE or ZINCRBY creates", async () => {
    const ctl = await setup();
    const w = await client();
    await ctl.raw("ZADD", "src", 1, "x", 2, "y");
    await block(ctl, w, ["BZPOPMIN", "zd", 0]);
    expect(await ctl.raw("ZUNIONSTORE", "zd", 1, "src")).toBe(int(2));
    expect(await w.readRaw()).toBe(bulks("zd", "x", "1"));
    expect(await ctl.raw("ZRANGE", "zd", 0, -1)).toBe(bulks("y"));
    await ctl.raw("DEL", "zd");
    await block(ctl, w, ["BZPOPMIN", "zd", 0]);
    expect(await ctl.raw("ZINTERSTORE", "zd", 1, "src")).toBe(int(2));
    expect(await w.readRaw()).toBe(bulks("zd", "x", "1"));
    await ctl.raw("DEL", "zd");
    await block(ctl, w, ["BZPOPMIN", "zd", 0]);
    expect(await ctl.raw("ZRANGESTORE", "zd", "src", 0, -1)).toBe(int(2));
    expect(await w.readRaw()).toBe(bulks("zd", "x", "1"));
    await ctl.raw("DEL", "zd");
    await block(ctl, w, ["BZPOPMIN", "zd", 0]);
    expect(await ctl.raw("ZINCRBY", "zd", 5, "new")).toBe(bulk("5"));
    expect(await w.readRaw()).toBe(bulks("zd", "new", "5"));
  });

  test("is not woken by a ZADD XX on a missing key, and is by ZADD INCR", async () => {
    const ctl = await setup();
    const w = await client();
    await block(ctl, w, ["BZPOPMIN", "z", 0]);
    expect(await ctl.raw("ZADD", "z", "XX", 1, "a")).toBe(int(0));
    expect(await isBlocked(ctl, w)).toBe(true);
    expect(await ctl.raw("ZADD", "z", "INCR", 1, "a")).toBe(bulk("1"));
    expect(await w.readRaw()).toBe(bulks("z", "a", "1"));
  });
});

describe("BZPOPMAX", () => {
  blockingCommandTests(blocker("BZPOPMAX"));

  test("answers a served RESP3 client with the score as a double", async () => {
    const ctl = await setup();
    const w = await client(3);
    await block(ctl, w, ["BZPOPMAX", "z1", "z2", 0]);
    await ctl.raw("ZADD", "z2", 2.5, "m", "-inf", "n");
    expect(await w.readRaw()).toBe(arr(bulk("z2"), bulk("m"), ",2.5\r\n"));
  });
});

describe("BZMPOP", () => {
  blockingCommandTests(blocker("BZMPOP"));

  test("three waiters on one sorted set: each pops from its own end, as many as its COUNT", async () => {
    const ctl = await setup();
    const a = await client(), b = await client(), c = await client();
    await block(ctl, a, ["BZPOPMIN", "z", 0]);
    await block(ctl, b, ["BZPOPMAX", "z", 0]);
    await block(ctl, c, ["BZMPOP", 0, 1, "z", "MIN", "COUNT", 2]);
    expect(await ctl.raw("ZADD", "z", 1, "a", 2, "b", 3, "c", 4, "d", 5, "e")).toBe(int(5));
    expect(await a.readRaw()).toBe(bulks("z", "a", "1"));
    expect(await b.readRaw()).toBe(bulks("z", "e", "5"));
    expect(await c.readRaw()).toBe(arr(bulk("z"), arr(bulks("b", "2"), bulks("c", "3"))));
    expect(await ctl.raw("ZRANGE", "z", 0, -1, "WITHSCORES")).toBe(bulks("d", "4"));
  });

  test("answers a served RESP3 client with [member, double] pairs", async () => {
    const ctl = await setup();
    const w = await client(3);
    await block(ctl, w, ["BZMPOP", 0, 2, "z1", "z2", "MAX", "COUNT", 10]);
    await ctl.raw("ZADD", "z2", 1, "a", 2, "b", 3.5, "c");
    expect(await w.readRaw()).toBe(arr(bulk("z2"), arr(arr(bulk("c"), ",3.5\r\n"), arr(bulk("b"), ",2\r\n"), arr(bulk("a"), ",1\r\n"))));
    expect(await ctl.raw("EXISTS", "z2")).toBe(int(0));
  });
});

// ---------------------------------------------------------------------------------------------
// Commands that act on blocked clients
// ---------------------------------------------------------------------------------------------

describe("CLIENT UNBLOCK", () => {
  test("answers 0 for a client that is not blocked and for an unknown id", async () => {
    const ctl = await setup();
    const w = await client();
    expect(await ctl.raw("CLIENT", "UNBLOCK", ids.get(w)!)).toBe(int(0));
    expect(await ctl.raw("CLIENT", "UNBLOCK", ids.get(w)!, "ERROR")).toBe(int(0));
    expect(await ctl.raw("CLIENT", "UNBLOCK", 999999999)).toBe(int(0));
    expect(await w.raw("PING")).toBe("+PONG\r\n");
  });

  test("rejects a reason other than TIMEOUT or ERROR and an id that is not a number", async () => {
    const ctl = await setup();
    const w = await client();
    await block(ctl, w, ["BLPOP", "k", 0]);
    expect(await ctl.raw("CLIENT", "UNBLOCK", ids.get(w)!, "NOW")).toBe("-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n");
    expect(await ctl.raw("CLIENT", "UNBLOCK", "abc")).toBe("-ERR value is not an integer or out of range\r\n");
    expect(await isBlocked(ctl, w)).toBe(true);
  });

  test("an unblocked client runs the commands it pipelined behind the blocking one", async () => {
    const ctl = await setup();
    const w = await client();
    w.write(Buffer.concat([encode(["BLPOP", "k", 0]), encode(["ECHO", "next"])]));
    await until(() => isBlocked(ctl, w));
    expect(await ctl.raw("CLIENT", "UNBLOCK", ids.get(w)!)).toBe(int(1));
    expect(await w.readRaw()).toBe("*-1\r\n");
    expect(await w.readRaw()).toBe(bulk("next"));
  });

  test("an unblocked client is gone from the key's queue: a later push goes to the next waiter", async () => {
    const ctl = await setup();
    const a = await client(), b = await client();
    await block(ctl, a, ["BLPOP", "k", 0]);
    await block(ctl, b, ["BLPOP", "k", 0]);
    await ctl.raw("CLIENT", "UNBLOCK", ids.get(a)!);
    expect(await a.readRaw()).toBe("*-1\r\n");
    await ctl.raw("RPUSH", "k", "v");
    expect(await b.readRaw()).toBe(bulks("k", "v"));
    expect(a.pending()).toBe("");
  });
});

describe("INFO", () => {
  test("blocked_clients counts blocked clients and drops back when they are served, time out, are unblocked or leave", async () => {
    const ctl = await setup();
    const a = await client(), b = await client(), c = await client(), d = await client();
    expect(await blockedClients(ctl)).toBe(0);
    await block(ctl, d, ["BRPOP", "t", "0.25"]);
    await block(ctl, a, ["BLPOP", "k", 0]);
    await block(ctl, b, ["BZPOPMIN", "z1", "z2", 0]);
    await block(ctl, c, ["BLMOVE", "s", "d", "LEFT", "LEFT", 0]);
    expect(await blockedClients(ctl)).toBe(4);
    await ctl.raw("RPUSH", "k", "v");
    expect(await a.readRaw()).toBe(bulks("k", "v"));
    expect(await blockedClients(ctl)).toBe(3);
    expect(await d.readRaw()).toBe("*-1\r\n");
    expect(await blockedClients(ctl)).toBe(2);
    await ctl.raw("CLIENT", "UNBLOCK", ids.get(b)!);
    expect(await blockedClients(ctl)).toBe(1);
    c.close();
    await until(async () => (await blockedClients(ctl)) === 0, "blocked_clients to drop to 0");
  });

  test("clients_in_timeout_table counts the blocked clients that have a timeout", async () => {
    const ctl = await setup();
    const a = await client(), b = await client();
    await block(ctl, a, ["BLPOP", "k", 10]);
    await block(ctl, b, ["BLPOP", "k", 0]);
    expect((await ctl.cmd("INFO", "clients")) as string).toContain("\r\nblocked_clients:2\r\ntracking_clients:0\r\nclients_in_timeout_table:1\r\n");
  });

  test("CLIENT LIST shows a blocked client with flag b and its command", async () => {
    const ctl = await setup();
    const w = await client();
    await block(ctl, w, ["BZPOPMIN", "z", 0]);
    expect((await ctl.cmd("CLIENT", "LIST", "ID", ids.get(w)!)) as string).toMatch(/ flags=b db=0 .* cmd=bzpopmin /);
  });
});

describe("SWAPDB", () => {
  test("serves a client blocked on a key that the swapped-in database holds", async () => {
    const ctl = await setup();
    const a = await client(), b = await client();
    await ctl.raw("SELECT", 1);
    await ctl.raw("RPUSH", "k", "from1", "second");
    await ctl.raw("ZADD", "z", 1, "m");
    await ctl.raw("SELECT", 0);
    await block(ctl, a, ["BLPOP", "k", 0]);
    await block(ctl, b, ["BZPOPMIN", "z", 0]);
    expect(await ctl.raw("SWAPDB", 0, 1)).toBe("+OK\r\n");
    expect(await a.readRaw()).toBe(bulks("k", "from1"));
    expect(await b.readRaw()).toBe(bulks("z", "m", "1"));
    expect(await ctl.raw("LRANGE", "k", 0, -1)).toBe(bulks("second"));
    expect(await ctl.raw("EXISTS", "z")).toBe(int(0));
  });

  test("a client blocked in database 1 is served when SWAPDB moves a list there", async () => {
    const ctl = await setup();
    const w = await client();
    await w.raw("SELECT", 1);
    await block(ctl, w, ["BLPOP", "k", 0]);
    await ctl.raw("RPUSH", "k", "zero");
    expect(await isBlocked(ctl, w)).toBe(true);
    expect(await ctl.raw("SWAPDB", 1, 0)).toBe("+OK\r\n");
    expect(await w.readRaw()).toBe(bulks("k", "zero"));
    expect(await ctl.raw("EXISTS", "k")).toBe(int(0));
  });

  test("keeps a client blocked when the swapped-in key has another type", async () => {
    const ctl = await setup();
    const w = await client();
    await ctl.raw("SELECT", 1);
    await ctl.raw("SET", "k", "string");
    await ctl.raw("SELECT", 0);
    await block(ctl, w, ["BLPOP", "k", 0]);
    expect(await ctl.raw("SWAPDB", 0, 1)).toBe("+OK\r\n");
    expect(await isBlocked(ctl, w)).toBe(true);
    expect(await ctl.raw("GET", "k")).toBe(bulk("string"));
  });
});

describe("FLUSHALL", () => {
  test("leaves blocked clients blocked, and the next push serves them", async () => {
    const ctl = await setup();
    const a = await client(), b = await client();
    await block(ctl, a, ["BLPOP", "k", 0]);
    await block(ctl, b, ["BZPOPMIN", "z", 0]);
    expect(await ctl.raw("FLUSHALL")).toBe("+OK\r\n");
    expect(await ctl.raw("FLUSHDB")).toBe("+OK\r\n");
    expect(await blockedClients(ctl)).toBe(2);
    expect(await ctl.raw("RPUSH", "k", "after")).toBe(int(1));
    expect(await a.readRaw()).toBe(bulks("k", "after"));
    expect(await ctl.raw("ZADD", "z", 3, "q")).toBe(int(1));
    expect(await b.readRaw()).toBe(bulks("z", "q", "3"));
  });
});
