// main.ts, Pub/Sub: with several connections, who receives a PUBLISH, in what
// order and shape, RESP3 subscribers, the pubsub class of client-output-buffer-limit, and real
// client libraries. Single-connection replies (confirmations, counts, the RESP2 subscribed
// context, PUBSUB ...) are compared with a real Redis in differential-events.test.ts; keyspace
// notifications in notifications.test.ts. Expected values come from redis-server 7.0.15.
import { describe, test, expect } from "bun:test";
import { RedisClient } from "bun";
import IORedis from "ioredis";
import { createClient } from "redis";
import { connect, sharedServer } from "./helpers.ts";
import { RawClient, ReplyPush, encode, type Reply } from "./client.ts";

async function port(): Promise<number> { return (await sharedServer()).port; }

/** A connection subscribed with `cmd` (SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE) to `names`, confirmations read. */
async function subscriber(cmd: string, ...names: string[]): Promise<RawClient> {
  const c = await RawClient.connect(await port());
  c.send(cmd, ...names);
  for (const _ of names) await c.read();
  return c;
}

/** Reads the n messages a subscriber should have got, then checks that nothing else came. */
async function messages(c: RawClient, n: number): Promise<Reply[]> {
  const out: Reply[] = [];
  for (let i = 0; i < n; i++) out.push(await c.read());
  await Bun.sleep(5);
  expect(c.pending()).toBe("");
  return out;
}

/** Waits until `probe` returns `want` (or 3 s pass) and returns its last answer. */
async function eventually<T>(probe: () => Promise<T>, want: T): Promise<T> {
  const until = Date.now() + 3000;
  let got = await probe();
  while (got !== want && Date.now() < until) { await Bun.sleep(10); got = await probe(); }
  return got;
}

/** INFO clients' connected_clients. */
async function connectedClients(c: RawClient): Promise<number> {
  return Number(/connected_clients:(\d+)/.exec((await c.cmd("INFO", "clients")) as string)![1]);
}

describe("PUBLISH", () => {
  test("answers the number of receivers: channel subscribers plus every matching pattern of every client", async () => {
    const pub = await connect();
    const s1 = await subscriber("SUBSCRIBE", "news");
    const s2 = await subscriber("PSUBSCRIBE", "n*", "news");
    const s3 = await subscriber("SUBSCRIBE", "news");
    s3.send("PSUBSCRIBE", "n*"); await s3.read();
    expect(await pub.raw("PUBLISH", "news", "hi")).toBe(":5\r\n");
    expect(await pub.raw("PUBLISH", "nope", "hi")).toBe(":2\r\n");
    expect(await pub.raw("PUBLISH", "other", "hi")).toBe(":0\r\n");
    expect(await messages(s1, 1)).toEqual([["message", "news", "hi"]]);
    const s2got = (await messages(s2, 3)) as string[][];
    expect(s2got.map((m) => m.join(" ")).sort()).toEqual(["pmessage n* news hi", "pmessage n* nope hi", "pmessage news news hi"]);
    expect(await messages(s3, 3)).toEqual([["message", "news", "hi"], ["pmessage", "n*", "news", "hi"], ["pmessage", "n*", "nope", "hi"]]);
    for (const c of [pub, s1, s2, s3]) c.close();
  });

  test("a subscriber receives pipelined messages in the order they were published", async () => {
    const pub = await connect();
    const sub = await subscriber("SUBSCRIBE", "seq");
    const n = 1000;
    pub.write(Buffer.concat(Array.from({ length: n }, (_, i) => encode(["PUBLISH", "seq", `m${i}`]))));
    for (let i = 0; i < n; i++) expect(await pub.readRaw()).toBe(":1\r\n");
    for (let i = 0; i < n; i++) expect(await sub.read()).toEqual(["message", "seq", `m${i}`]);
    pub.close(); sub.close();
  });

  test("messages from several publishers keep each publisher's order", async () => {
    const sub = await subscriber("PSUBSCRIBE", "p*");
    const pubs = await Promise.all([1, 2, 3].map(async () => RawClient.connect(await port())));
    await Promise.all(pubs.map(async (p, k) => {
      for (let i = 0; i < 50; i++) p.send("PUBLISH", `p${k}`, String(i));
      for (let i = 0; i < 50; i++) expect(await p.readRaw()).toBe(":1\r\n");
    }));
    const got = (await messages(sub, 150)) as string[][];
    for (let k = 0; k < 3; k++) expect(got.filter((m) => m[2] === `p${k}`).map((m) => m[3])).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
    for (const c of [sub, ...pubs]) c.close();
  });

  test("patterns match as KEYS globs do (?, *, [set], [^set], [a-b], escapes); Redis has no [!set]", async () => {
    const patterns = ["h?llo", "h*llo", "h[ae]llo", "h[^e]llo", "h[a-b]llo", "h\\*llo", "*", "h[!e]llo", "[", "\\h\\e\\l\\l\\o"];
    const subs = await Promise.all(patterns.map((p) => subscriber("PSUBSCRIBE", p)));
    const pub = await connect();
    // Receivers per channel, as redis-server 7.0.15 counts them.
    const counts: Record<string, number> = { hello: 6, hallo: 6, hxllo: 4, hllo: 2, heeeello: 2, "h*llo": 5, "h-llo": 4, "h!llo": 5, "[": 1, "h]llo": 4 };
    for (const [ch, n] of Object.entries(counts)) expect(`${ch} ${await pub.raw("PUBLISH", ch, "m")}`).toBe(`${ch} :${n}\r\n`);
    const want: Record<string, string> = {
      "h?llo": "hello,hallo,hxllo,h*llo,h-llo,h!llo,h]llo",
      "h*llo": "hello,hallo,hxllo,hllo,heeeello,h*llo,h-llo,h!llo,h]llo",
      "h[ae]llo": "hello,hallo",
      "h[^e]llo": "hallo,hxllo,h*llo,h-llo,h!llo,h]llo",
      "h[a-b]llo": "hallo",
      "h\\*llo": "h*llo",
      "*": "hello,hallo,hxllo,hllo,heeeello,h*llo,h-llo,h!llo,[,h]llo",
      "h[!e]llo": "hello,h!llo",
      "[": "",
      "\\h\\e\\l\\l\\o": "hello",
    };
    for (let i = 0; i < patterns.length; i++) {
      const got = ((await messages(subs[i], want[patterns[i]] ? want[patterns[i]].split(",").length : 0)) as string[][]).map((m) => m[2]).join(",");
      expect(`${patterns[i]} -> ${got}`).toBe(`${patterns[i]} -> ${want[patterns[i]]}`);
    }
    for (const c of [pub, ...subs]) c.close();
  });

  test("channels and messages are binary safe", async () => {
    const ch = "\x00\r\n\xff chan";
    const msg = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join("");
    const sub = await subscriber("SUBSCRIBE", ch);
    const psub = await subscriber("PSUBSCRIBE", "\x00*");
    const pub = await connect();
    expect(await pub.raw("PUBLISH", ch, msg)).toBe(":2\r\n");
    expect(await sub.read()).toEqual(["message", ch, msg]);
    expect(await psub.read()).toEqual(["pmessage", "\x00*", ch, msg]);
    for (const c of [pub, sub, psub]) c.close();
  });

  test("PUBLISH inside MULTI delivers at EXEC", async () => {
    const sub = await subscriber("SUBSCRIBE", "tx");
    const pub = await connect();
    await pub.raw("MULTI");
    expect(await pub.raw("PUBLISH", "tx", "one")).toBe("+QUEUED\r\n");
    expect(await pub.raw("PUBLISH", "tx", "two")).toBe("+QUEUED\r\n");
    expect(await messages(sub, 0)).toEqual([]);
    expect(await pub.raw("EXEC")).toBe("*2\r\n:1\r\n:1\r\n");
    expect(await messages(sub, 2)).toEqual([["message", "tx", "one"], ["message", "tx", "two"]]);
    pub.close(); sub.close();
  });
});

describe("SUBSCRIBE / UNSUBSCRIBE", () => {
  test("messages stop after UNSUBSCRIBE; PUBSUB NUMSUB counts clients, not subscriptions", async () => {
    const a = await subscriber("SUBSCRIBE", "c1", "c2");
    const b = await subscriber("SUBSCRIBE", "c1");
    const pub = await connect();
    expect(await pub.raw("PUBSUB", "NUMSUB", "c1", "c2", "c3")).toBe("*6\r\n$2\r\nc1\r\n:2\r\n$2\r\nc2\r\n:1\r\n$2\r\nc3\r\n:0\r\n");
    a.send("UNSUBSCRIBE", "c1");
    expect(await a.read()).toEqual(["unsubscribe", "c1", 1]);
    expect(await pub.raw("PUBLISH", "c1", "x")).toBe(":1\r\n");
    expect(await pub.raw("PUBLISH", "c2", "y")).toBe(":1\r\n");
    expect(await messages(a, 1)).toEqual([["message", "c2", "y"]]);
    expect(await messages(b, 1)).toEqual([["message", "c1", "x"]]);
    for (const c of [a, b, pub]) c.close();
  });

  test("a subscriber that disconnects is removed from every channel and pattern", async () => {
    const pub = await connect();
    const sub = await subscriber("SUBSCRIBE", "gone1", "gone2");
    sub.send("PSUBSCRIBE", "gone*"); await sub.read();
    sub.send("SSUBSCRIBE", "gone3"); await sub.read();
    expect(await pub.raw("PUBLISH", "gone1", "x")).toBe(":2\r\n");
    sub.close();
    expect(await eventually(() => pub.raw("PUBLISH", "gone1", "x"), ":0\r\n")).toBe(":0\r\n");
    expect(await pub.raw("PUBSUB", "CHANNELS", "gone*")).toBe("*0\r\n");
    expect(await pub.raw("PUBSUB", "SHARDCHANNELS")).toBe("*0\r\n");
    expect(await pub.raw("SPUBLISH", "gone3", "x")).toBe(":0\r\n");
    pub.close();
  });

  test("RESET unsubscribes from everything", async () => {
    const pub = await connect();
    const sub = await subscriber("SUBSCRIBE", "r1");
    sub.send("PSUBSCRIBE", "r*"); await sub.read();
    expect(await sub.raw("RESET")).toBe("+RESET\r\n");
    expect(await pub.raw("PUBLISH", "r1", "x")).toBe(":0\r\n");
    expect(await sub.raw("GET", "k")).toBe("$-1\r\n");
    pub.close(); sub.close();
  });
});

describe("PSUBSCRIBE / PUNSUBSCRIBE", () => {
  test("PUBSUB NUMPAT counts distinct patterns across clients", async () => {
    const pub = await connect();
    const base = Number(await pub.cmd("PUBSUB", "NUMPAT"));
    const a = await subscriber("PSUBSCRIBE", "np.*", "np2.*");
    const b = await subscriber("PSUBSCRIBE", "np.*");
    expect(await pub.cmd("PUBSUB", "NUMPAT")).toBe(base + 2);
    a.send("PUNSUBSCRIBE", "np.*"); await a.read();
    expect(await pub.cmd("PUBSUB", "NUMPAT")).toBe(base + 2);
    b.close();
    expect(await eventually(async () => Number(await pub.cmd("PUBSUB", "NUMPAT")), base + 1)).toBe(base + 1);
    expect(await pub.raw("PUBLISH", "np.x", "m")).toBe(":0\r\n");
    expect(await pub.raw("PUBLISH", "np2.x", "m")).toBe(":1\r\n");
    expect(await messages(a, 1)).toEqual([["pmessage", "np2.*", "np2.x", "m"]]);
    a.close(); pub.close();
  });
});

describe("SSUBSCRIBE / SPUBLISH", () => {
  test("shard channels are a namespace of their own", async () => {
    const shard = await subscriber("SSUBSCRIBE", "orders");
    const plain = await subscriber("SUBSCRIBE", "orders");
    const pattern = await subscriber("PSUBSCRIBE", "*");
    const pub = await connect();
    expect(await pub.raw("SPUBLISH", "orders", "s")).toBe(":1\r\n");
    expect(await pub.raw("PUBLISH", "orders", "p")).toBe(":2\r\n");
    expect(await messages(shard, 1)).toEqual([["smessage", "orders", "s"]]);
    expect(await messages(plain, 1)).toEqual([["message", "orders", "p"]]);
    expect(await messages(pattern, 1)).toEqual([["pmessage", "*", "orders", "p"]]);
    expect(await pub.raw("PUBSUB", "SHARDNUMSUB", "orders")).toBe("*2\r\n$6\r\norders\r\n:1\r\n");
    expect(await pub.raw("PUBSUB", "NUMSUB", "orders")).toBe("*2\r\n$6\r\norders\r\n:1\r\n");
    for (const c of [shard, plain, pattern, pub]) c.close();
  });
});

describe("RESP3 subscribers", () => {
  test("receive push frames and can run any command between messages", async () => {
    const sub = await RawClient.connect(await port());
    await sub.cmd("HELLO", "3");
    expect(await sub.raw("SUBSCRIBE", "r3")).toBe(">3\r\n$9\r\nsubscribe\r\n$2\r\nr3\r\n:1\r\n");
    sub.send("PSUBSCRIBE", "r*"); await sub.read();
    const pub = await connect();
    expect(await pub.raw("PUBLISH", "r3", "one")).toBe(":2\r\n");
    expect(await sub.readRaw()).toBe(">3\r\n$7\r\nmessage\r\n$2\r\nr3\r\n$3\r\none\r\n");
    expect(await sub.readRaw()).toBe(">4\r\n$8\r\npmessage\r\n$2\r\nr*\r\n$2\r\nr3\r\n$3\r\none\r\n");
    expect(await sub.raw("SET", "k", "v")).toBe("+OK\r\n");
    expect(await sub.raw("GET", "k")).toBe("$1\r\nv\r\n");
    expect(await sub.raw("PING")).toBe("+PONG\r\n");
    // A message published between two of the subscriber's commands comes between their replies.
    await pub.raw("PUBLISH", "r3", "two");
    await Bun.sleep(10);
    sub.send("GET", "k");
    const frames = [await sub.read(), await sub.read(), await sub.read()];
    expect(frames[0]).toEqual(new ReplyPush(["message", "r3", "two"]));
    expect(frames[1]).toEqual(new ReplyPush(["pmessage", "r*", "r3", "two"]));
    expect(frames[2]).toBe("v");
    pub.close(); sub.close();
  });
});

describe("client-output-buffer-limit pubsub", () => {
  /** Sets client-output-buffer-limit for the test's duration. */
  async function withLimits(admin: RawClient, limits: string, fn: () => Promise<void>): Promise<void> {
    const before = ((await admin.cmd("CONFIG", "GET", "client-output-buffer-limit")) as string[])[1];
    expect(await admin.raw("CONFIG", "SET", "client-output-buffer-limit", limits)).toBe("+OK\r\n");
    try { await fn(); } finally { await admin.raw("CONFIG", "SET", "client-output-buffer-limit", before); }
  }

  /** A subscriber that stops reading its socket once subscribed, so its output piles up in the server. */
  async function stalledSubscriber(channel: string) {
    const state = { closed: false };
    const sock = await Bun.connect({
      hostname: "127.0.0.1", port: await port(),
      socket: { data() {}, close() { state.closed = true; }, error() { state.closed = true; } },
    });
    sock.write(encode(["SUBSCRIBE", channel]));
    return { sock, state };
  }

  test("a subscriber that never reads is disconnected past the hard limit; everyone else stays responsive", async () => {
    const admin = await connect();
    await withLimits(admin, "pubsub 1mb 512kb 1", async () => {
      const { sock } = await stalledSubscriber("flood");
      const pub = await RawClient.connect(await port());
      expect(await eventually(() => pub.raw("PUBSUB", "NUMSUB", "flood"), "*2\r\n$5\r\nflood\r\n:1\r\n")).toBe("*2\r\n$5\r\nflood\r\n:1\r\n");
      sock.pause();
      const clientsBefore = await connectedClients(admin);
      const bystander = await RawClient.connect(await port());
      let slowest = 0, stop = false;
      const pinger = (async () => {
        while (!stop) {
          const t = performance.now();
          expect(await bystander.raw("PING")).toBe("+PONG\r\n");
          slowest = Math.max(slowest, performance.now() - t);
          await Bun.sleep(1);
        }
      })();
      const big = "x".repeat(256 * 1024);
      let sent = 0;
      // Kernel socket buffers take a few MB before the server's own buffer grows at all.
      for (; sent < 400; sent++) {
        const t = performance.now();
        const receivers = await pub.raw("PUBLISH", "flood", big);
        slowest = Math.max(slowest, performance.now() - t);
        if (receivers === ":0\r\n") break;
        expect(receivers).toBe(":1\r\n");
      }
      stop = true;
      await pinger;
      expect(sent).toBeGreaterThanOrEqual(4); // the server's own buffer held at least the 1 MB hard limit
      expect(sent).toBeLessThan(400);
      expect(slowest).toBeLessThan(1000);
      expect(await pub.raw("PUBSUB", "NUMSUB", "flood")).toBe("*2\r\n$5\r\nflood\r\n:0\r\n");
      expect(await eventually(() => connectedClients(admin), clientsBefore)).toBe(clientsBefore); // bystander in, subscriber out
      expect(await pub.raw("PING")).toBe("+PONG\r\n");
      sock.resume();
      sock.end();
      pub.close(); bystander.close();
    });
    admin.close();
  });

  test("past the soft limit only, the subscriber is disconnected once it stayed there for the limit's seconds", async () => {
    const admin = await connect();
    await withLimits(admin, "pubsub 0 256kb 1", async () => {
      const { sock } = await stalledSubscriber("soft");
      const pub = await RawClient.connect(await port());
      await eventually(() => pub.raw("PUBSUB", "NUMSUB", "soft"), "*2\r\n$4\r\nsoft\r\n:1\r\n");
      sock.pause();
      const big = "x".repeat(256 * 1024);
      // Fill the kernel buffers and then some: the server's buffer is now past the soft limit.
      for (let i = 0; i < 60; i++) expect(await pub.raw("PUBLISH", "soft", big)).toBe(":1\r\n");
      const over = performance.now();
      await Bun.sleep(300);
      expect(await pub.raw("PUBLISH", "soft", "tick")).toBe(":1\r\n"); // not yet: under a second past the limit
      let gone = 0;
      while (performance.now() - over < 4000) {
        await Bun.sleep(100);
        if ((await pub.raw("PUBLISH", "soft", "tick")) === ":0\r\n") { gone = performance.now() - over; break; }
      }
      // Redis counts whole seconds (it drops the client once more than 1 s has elapsed on its
      // second-resolution clock), so anywhere from 1 s to 3 s is Redis-like.
      expect(gone).toBeGreaterThanOrEqual(1000);
      expect(gone).toBeLessThan(3200);
      sock.resume();
      sock.end();
      pub.close();
    });
    admin.close();
  });

  test("a subscriber that keeps reading is never disconnected, even with small limits", async () => {
    const admin = await connect();
    await withLimits(admin, "pubsub 1mb 512kb 1", async () => {
      const sub = await subscriber("SUBSCRIBE", "steady");
      const pub = await RawClient.connect(await port());
      const msg = "y".repeat(100 * 1024);
      for (let i = 0; i < 50; i++) {
        expect(await pub.raw("PUBLISH", "steady", msg)).toBe(":1\r\n");
        expect(await sub.read()).toEqual(["message", "steady", msg]);
      }
      pub.close(); sub.close();
    });
    admin.close();
  });
});

describe("real clients", () => {
  test("ioredis: subscribe, psubscribe and ssubscribe receive messages", async () => {
    const p = await port();
    const sub = new IORedis(p, "127.0.0.1", { lazyConnect: true });
    const pub = new IORedis(p, "127.0.0.1", { lazyConnect: true });
    const got: string[] = [];
    try {
      await sub.connect(); await pub.connect();
      sub.on("message", (ch, m) => got.push(`message ${ch} ${m}`));
      sub.on("pmessage", (pat, ch, m) => got.push(`pmessage ${pat} ${ch} ${m}`));
      sub.on("smessage", (ch, m) => got.push(`smessage ${ch} ${m}`));
      expect(await sub.subscribe("io.a", "io.b")).toBe(2);
      expect(await sub.psubscribe("io.*")).toBe(3);
      expect(await sub.ssubscribe("io.s")).toBe(1);
      expect(await pub.publish("io.a", "1")).toBe(2);
      expect(await pub.publish("io.zz", "2")).toBe(1);
      expect(await pub.spublish("io.s", "3")).toBe(1);
      await eventually(async () => got.length, 4);
      expect(got).toEqual(["message io.a 1", "pmessage io.* io.a 1", "pmessage io.* io.zz 2", "smessage io.s 3"]);
      await sub.unsubscribe("io.a");
      expect(await pub.publish("io.a", "4")).toBe(1);
    } finally {
      sub.disconnect(); pub.disconnect();
    }
  });

  test("node-redis: subscribe, pSubscribe and sSubscribe receive messages", async () => {
    const url = `redis://127.0.0.1:${await port()}`;
    const pub = createClient({ url });
    const sub = pub.duplicate();
    const got: string[] = [];
    try {
      await pub.connect(); await sub.connect();
      await sub.subscribe("nr.a", (m, ch) => got.push(`message ${ch} ${m}`));
      await sub.pSubscribe("nr.*", (m, ch) => got.push(`pmessage ${ch} ${m}`));
      await sub.sSubscribe("nr.s", (m, ch) => got.push(`smessage ${ch} ${m}`));
      expect(await pub.publish("nr.a", "1")).toBe(2);
      expect(await pub.sPublish("nr.s", "2")).toBe(1);
      await eventually(async () => got.length, 3);
      expect(got).toEqual(["message nr.a 1", "pmessage nr.a 1", "smessage nr.s 2"]);
      // The subscribed connection still answers (node-redis 6 speaks RESP3, where that is allowed).
      expect(await sub.ping()).toBe("PONG");
      await sub.unsubscribe("nr.a");
      expect(await pub.publish("nr.a", "3")).toBe(1);
    } finally {
      await sub.quit().catch(() => {}); await pub.quit().catch(() => {});
    }
  });

  test("Bun RedisClient: subscribe receives messages (its psubscribe has no listener form)", async () => {
    const url = `redis://127.0.0.1:${await port()}`;
    const sub = new RedisClient(url);
    const pub = new RedisClient(url);
    const got: string[] = [];
    try {
      await sub.connect(); await pub.connect();
      await sub.subscribe("bun.a", (m, ch) => got.push(`${ch} ${m}`));
      expect(await pub.publish("bun.a", "hello")).toBe(1);
      expect(await pub.publish("bun.a", "again")).toBe(1);
      await eventually(async () => got.length, 2);
      expect(got).toEqual(["bun.a hello", "bun.a again"]);
      await sub.unsubscribe("bun.a");
      expect(await pub.publish("bun.a", "nobody")).toBe(0);
    } finally {
      sub.close(); pub.close();
    }
  });
});
