// main.ts, Client-side caching: CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO, and the
// invalidations they cause (RESP3 pushes, __redis__:invalidate messages for a RESP2 REDIRECT
// target), in order with the replies around them; then pushes under CLIENT REPLY OFF. Expected
// bytes come from redis-server 7.0.15. The last part runs multi-connection sessions on a real
// redis-server and on Redbun and compares every byte each connection receives; its KNOWN
// DIFFERENCES are test.todo sessions where Redbun differs (see them with `bun test --todo`).
import { describe, test, expect, beforeAll, afterAll } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, freePort, sharedServer, bulks, bulk, int } from "./helpers.ts";
import { RawClient } from "./client.ts";

let port = 0;
beforeAll(async () => { port = (await sharedServer()).port; });

/** A new connection, in RESP3 if asked, with `CLIENT TRACKING ON <tracking>` if given. No FLUSHALL:
 *  that would send every tracking client a null. */
async function open(opts: { resp3?: boolean; tracking?: string } = {}): Promise<RawClient> {
  const c = await RawClient.connect(port);
  if (opts.resp3) await c.cmd("HELLO", "3");
  if (opts.tracking !== undefined) expect(await c.raw("CLIENT", "TRACKING", "ON", ...opts.tracking.split(" ").filter(Boolean))).toBe("+OK\r\n");
  return c;
}

const idOf = async (c: RawClient): Promise<number> => (await c.cmd("CLIENT", "ID")) as number;
/** The RESP3 invalidation push for these keys. */
const inv = (...keys: string[]) => `>2\r\n$10\r\ninvalidate\r\n${bulks(...keys)}`;
const INV_ALL = ">2\r\n$10\r\ninvalidate\r\n_\r\n"; // FLUSHALL / FLUSHDB
/** What a RESP2 REDIRECT target subscribed to __redis__:invalidate gets; payload is the keys' array or $-1. */
const msg = (payload: string) => `*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n${payload}`;
/** Waits until the CLIENT LIST line of client `id` matches `re` (GONE: the server dropped it). */
async function clientListUntil(admin: RawClient, id: number | string, re: RegExp): Promise<void> {
  while (!re.test(await admin.raw("CLIENT", "LIST", "ID", id))) await Bun.sleep(5);
}
const GONE = /^\$0\r\n\r\n$/, BLOCKED = / flags=\S*b/;
/** Nothing else is waiting for c: a PING round trip answers PONG first. */
async function nothingMore(c: RawClient): Promise<void> { expect(await c.raw("PING")).toBe("+PONG\r\n"); }
/** Sends a command and returns `n` frames (the reply and the pushes that follow it) as one string. */
async function frames(c: RawClient, n: number, ...args: string[]): Promise<string> {
  c.send(...args);
  let s = "";
  for (let i = 0; i < n; i++) s += await c.readRaw();
  return s;
}
/** INFO's tracking_clients, tracking_total_keys, _items and _prefixes, once they equal `want` (3 s at most). */
async function trackingCounts(c: RawClient, want: string): Promise<string> {
  for (const until = Date.now() + 3000; ; await Bun.sleep(10)) {
    const info = (await c.cmd("INFO")) as string;
    const got = ["clients", "total_keys", "total_items", "total_prefixes"].map((f) => new RegExp(`tracking_${f}:(\\d+)`).exec(info)![1]).join(" ");
    if (got === want || Date.now() > until) return got;
  }
}

const E = {
  noRedirect: "-ERR The client ID you want redirect to does not exist\r\n",
  bcastSwitch: "-ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.\r\n",
  optSwitch: "-ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.\r\n",
  cachingOff: "-ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled\r\n",
  overlapNew: (p: string, q: string) => `-ERR Prefix '${p}' overlaps with another provided prefix '${q}'. Prefixes for a single client must not overlap.\r\n`,
  overlapOld: (p: string, q: string) => `-ERR Prefix '${p}' overlaps with an existing prefix '${q}'. Prefixes for a single client must not overlap.\r\n`,
};

describe("CLIENT TRACKING", () => {
  test("answers Redis's exact errors for bad arguments and +OK for ON and OFF", async () => {
    const c = await connect(), o = await open();
    const other = await idOf(o);
    const cases: [string[], string][] = [
      [[], "-ERR wrong number of arguments for 'client|tracking' command\r\n"],
      [["MAYBE"], "-ERR syntax error\r\n"],
      [["ON", "FOO"], "-ERR syntax error\r\n"],
      [["ON", "REDIRECT"], "-ERR syntax error\r\n"],
      [["ON", "PREFIX"], "-ERR syntax error\r\n"],
      [["ON", "REDIRECT", "abc"], "-ERR value is not an integer or out of range\r\n"],
      [["ON", "REDIRECT", "0"], E.noRedirect],
      [["ON", "REDIRECT", "99999"], E.noRedirect],
      [["ON", "REDIRECT", String(other), "REDIRECT", String(other)], "-ERR A client can only redirect to a single other client\r\n"],
      [["ON", "PREFIX", "a"], "-ERR PREFIX option requires BCAST mode to be enabled\r\n"],
      [["ON", "BCAST", "OPTIN"], "-ERR OPTIN and OPTOUT are not compatible with BCAST\r\n"],
      [["ON", "OPTIN", "OPTOUT"], "-ERR You can't specify both OPTIN mode and OPTOUT mode\r\n"],
      [["OFF", "BCAST", "OPTIN", "PREFIX", "a"], "+OK\r\n"], // OFF ignores the options
      [["on", "optin", "noloop"], "+OK\r\n"],
      [["ON", "BCAST"], E.bcastSwitch],
      [["ON", "OPTOUT"], E.optSwitch],
      [["ON"], "+OK\r\n"], // same mode again: fine
      [["OFF"], "+OK\r\n"],
    ];
    for (const [args, want] of cases) expect([args.join(" "), await c.raw("CLIENT", "TRACKING", ...args)]).toEqual([args.join(" "), want]);
    c.close(); o.close();
  });

  test("BCAST prefixes must not overlap; an overlap found past the first prefix answers an error and then +OK (Redis 7.0.15)", async () => {
    const c = await connect();
    expect(await c.raw("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a", "PREFIX", "a")).toBe(E.overlapNew("a", "a"));
    expect(await frames(c, 2, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a", "PREFIX", "b", "PREFIX", "bc")).toBe(E.overlapNew("b", "bc") + "+OK\r\n");
    expect(await c.raw("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "ab")).toBe(E.overlapOld("ab", "a"));
    expect(await c.raw("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "b")).toBe(E.overlapOld("b", "b"));
    expect(await c.raw("CLIENT", "TRACKINGINFO")).toBe(`*6\r\n$5\r\nflags\r\n${bulks("on", "bcast")}$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n${bulks("a", "b", "bc")}`);
    c.close();
  });

  test("CLIENT LIST shows flags t, B, R and redir=; INFO counts tracking clients, keys, items and prefixes", async () => {
    const admin = await connect();
    const target = await open();
    const tid = await idOf(target);
    const a = await open({ tracking: `REDIRECT ${tid}` }), b = await open({ tracking: "BCAST PREFIX x PREFIX y" }), c = await open({ tracking: "" });
    await a.cmd("MGET", "k1", "k2");
    await c.cmd("GET", "k1");
    expect(await trackingCounts(admin, "3 2 3 2")).toBe("3 2 3 2");
    const line = async (x: RawClient) => (await admin.cmd("CLIENT", "LIST", "ID", await idOf(x)) as string);
    expect(await line(a)).toMatch(new RegExp(` flags=t .* redir=${tid} resp=2\n$`));
    expect(await line(b)).toMatch(/ flags=tB .* redir=0 resp=2\n$/);
    target.close();
    await clientListUntil(admin, tid, GONE);
    await admin.cmd("SET", "k2", "v"); // a's invalidation finds its target gone
    expect(await line(a)).toMatch(/ flags=tR /);
    await c.cmd("CLIENT", "TRACKING", "OFF");
    expect(await line(c)).toMatch(/ flags=N .* redir=-1 /);
    for (const x of [a, b, c]) x.close();
    expect(await trackingCounts(admin, "0 1 2 0")).toBe("0 1 2 0"); // the ids of closed clients stay in the table
    expect(await admin.raw("FLUSHALL")).toBe("+OK\r\n");
    expect(await trackingCounts(admin, "0 0 0 0")).toBe("0 0 0 0");
    admin.close();
  });
});

describe("CLIENT CACHING", () => {
  test("needs tracking in the matching OPTIN or OPTOUT mode", async () => {
    const c = await connect();
    expect(await c.raw("CLIENT", "CACHING")).toBe("-ERR wrong number of arguments for 'client|caching' command\r\n");
    expect(await c.raw("CLIENT", "CACHING", "maybe")).toBe(E.cachingOff);
    expect(await c.raw("CLIENT", "CACHING", "YES")).toBe(E.cachingOff);
    await c.cmd("CLIENT", "TRACKING", "ON");
    expect(await c.raw("CLIENT", "CACHING", "YES")).toBe("-ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.\r\n");
    expect(await c.raw("CLIENT", "CACHING", "NO")).toBe("-ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.\r\n");
    expect(await c.raw("CLIENT", "CACHING", "maybe")).toBe("-ERR syntax error\r\n");
    c.close();
  });

  test("OPTIN tracks only the command after CACHING YES (a whole transaction); OPTOUT skips the one after CACHING NO", async () => {
    const w = await connect();
    const a = await open({ resp3: true, tracking: "OPTIN" });
    await a.cmd("GET", "k1");
    expect(await a.raw("CLIENT", "CACHING", "yes")).toBe("+OK\r\n");
    await a.cmd("GET", "k2"); // tracked
    await a.cmd("GET", "k3"); // not: the hint lasted one command
    await a.cmd("CLIENT", "CACHING", "YES");
    await a.cmd("MULTI"); await a.cmd("GET", "k4"); await a.cmd("GET", "k5"); await a.cmd("EXEC");
    await w.cmd("MSET", "k1", "1", "k2", "1", "k3", "1", "k4", "1", "k5", "1");
    expect((await a.readRaw()) + (await a.readRaw()) + (await a.readRaw())).toBe(inv("k2") + inv("k4") + inv("k5"));
    await nothingMore(a);
    const b = await open({ resp3: true, tracking: "OPTOUT" });
    await b.cmd("CLIENT", "CACHING", "NO");
    await b.cmd("GET", "k6"); // not tracked
    await b.cmd("GET", "k7");
    await w.cmd("MSET", "k6", "1", "k7", "1");
    expect(await b.readRaw()).toBe(inv("k7"));
    await nothingMore(b);
    for (const x of [w, a, b]) x.close();
  });
});

describe("CLIENT GETREDIR", () => {
  test("answers -1 with tracking off, 0 without a redirection, else the target's id", async () => {
    const c = await connect(), t = await open();
    expect(await c.raw("CLIENT", "GETREDIR")).toBe(":-1\r\n");
    expect(await c.raw("CLIENT", "GETREDIR", "x")).toBe("-ERR wrong number of arguments for 'client|getredir' command\r\n");
    await c.cmd("CLIENT", "TRACKING", "ON");
    expect(await c.raw("CLIENT", "GETREDIR")).toBe(":0\r\n");
    await c.cmd("CLIENT", "TRACKING", "ON", "REDIRECT", await idOf(t));
    expect(await c.raw("CLIENT", "GETREDIR")).toBe(int(await idOf(t)));
    c.close(); t.close();
  });
});

describe("CLIENT TRACKINGINFO", () => {
  const info = (flags: string[], redirect: number, prefixes: string[], resp3: boolean) => resp3
    ? `%3\r\n$5\r\nflags\r\n~${flags.length}\r\n${flags.map(bulk).join("")}$8\r\nredirect\r\n${int(redirect)}$8\r\nprefixes\r\n${bulks(...prefixes)}`
    : `*6\r\n$5\r\nflags\r\n${bulks(...flags)}$8\r\nredirect\r\n${int(redirect)}$8\r\nprefixes\r\n${bulks(...prefixes)}`;

  test("is a map of a set in RESP3 and flat arrays in RESP2, flags in Redis's order", async () => {
    const c = await connect();
    expect(await c.raw("CLIENT", "TRACKINGINFO")).toBe(info(["off"], -1, [], false));
    expect(await c.raw("CLIENT", "TRACKINGINFO", "x")).toBe("-ERR wrong number of arguments for 'client|trackinginfo' command\r\n");
    await c.cmd("HELLO", "3");
    expect(await c.raw("CLIENT", "TRACKINGINFO")).toBe(info(["off"], -1, [], true));
    await c.cmd("CLIENT", "TRACKING", "ON", "OPTOUT", "NOLOOP");
    await c.cmd("CLIENT", "CACHING", "NO");
    expect(await c.raw("CLIENT", "TRACKINGINFO")).toBe(info(["on", "optout", "caching-no", "noloop"], 0, [], true));
    await c.cmd("CLIENT", "TRACKING", "OFF");
    await c.cmd("CLIENT", "TRACKING", "ON", "OPTIN");
    await c.cmd("CLIENT", "CACHING", "YES");
    expect(await c.raw("CLIENT", "TRACKINGINFO")).toBe(info(["on", "optin", "caching-yes"], 0, [], true));
    await c.cmd("CLIENT", "TRACKING", "OFF");
    await c.cmd("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "z", "PREFIX", "y", "NOLOOP");
    expect(await c.raw("CLIENT", "TRACKINGINFO")).toBe(info(["on", "bcast", "noloop"], 0, ["y", "z"], true));
    expect(await c.raw("RESET")).toBe("+RESET\r\n"); // RESET turns tracking off
    expect(await c.raw("CLIENT", "TRACKINGINFO")).toBe(info(["off"], -1, [], false));
    c.close();
  });

  test("shows broken_redirect once an invalidation found the target gone", async () => {
    const w = await connect(), t = await open();
    const tid = await idOf(t);
    const a = await open({ resp3: true, tracking: `REDIRECT ${tid}` }), b = await open({ tracking: `REDIRECT ${tid}` });
    await a.cmd("GET", "k"); await b.cmd("GET", "k");
    t.close();
    await clientListUntil(w, tid, GONE);
    await w.cmd("SET", "k", "1");
    expect(await a.readRaw()).toBe(`>2\r\n$21\r\ntracking-redir-broken\r\n${int(tid)}`); // RESP2 b is told nothing
    expect(await a.raw("CLIENT", "TRACKINGINFO")).toBe(info(["on", "broken_redirect"], tid, [], true));
    expect(await b.raw("CLIENT", "TRACKINGINFO")).toBe(info(["on", "broken_redirect"], tid, [], false));
    await a.cmd("GET", "k");
    expect(await frames(a, 2, "SET", "k", "2")).toBe(`+OK\r\n>2\r\n$21\r\ntracking-redir-broken\r\n${int(tid)}`);
    await nothingMore(b);
    for (const x of [w, a, b]) x.close();
  });
});

describe("invalidation delivery and ordering", () => {
  test("a key read once is invalidated once, on the next change by anyone, in any database", async () => {
    const w = await connect();
    const a = await open({ resp3: true, tracking: "" });
    expect(await a.raw("MGET", "k", "k2")).toBe("*2\r\n_\r\n_\r\n");
    await w.cmd("SET", "k", "v");
    expect(await a.readRaw()).toBe(inv("k"));
    await w.cmd("SET", "k", "again"); // not read since: nothing
    await w.cmd("SELECT", "1");
    await w.cmd("SET", "k2", "v"); // the table knows key names, not databases
    expect(await a.readRaw()).toBe(inv("k2"));
    await nothingMore(a);
    w.close(); a.close();
  });

  test("what a client changes itself is told after its whole reply: a command, EXEC, a served BLMOVE", async () => {
    const w = await connect();
    const a = await open({ resp3: true, tracking: "" });
    await a.cmd("GET", "k");
    expect(await frames(a, 2, "SET", "k", "1")).toBe("+OK\r\n" + inv("k"));
    await a.cmd("GET", "k"); await a.cmd("MULTI");
    for (const args of [["SET", "k", "2"], ["GET", "k"], ["INCR", "k"]]) await a.cmd(...args);
    expect(await frames(a, 3, "EXEC")).toBe("*3\r\n+OK\r\n$1\r\n2\r\n:3\r\n" + inv("k") + inv("k"));
    await a.cmd("LRANGE", "src", "0", "-1"); await a.cmd("LRANGE", "dst", "0", "-1");
    const aid = await idOf(a);
    a.send("BLMOVE", "src", "dst", "LEFT", "RIGHT", "0");
    await clientListUntil(w, aid, BLOCKED);
    expect(await w.raw("RPUSH", "src", "x")).toBe(":1\r\n");
    // src changed by the pusher (told at once), dst by a's own BLMOVE (told after its reply).
    expect((await a.readRaw()) + (await a.readRaw()) + (await a.readRaw())).toBe(inv("src") + "$1\r\nx\r\n" + inv("dst"));
    await nothingMore(a);
    w.close(); a.close();
  });

  test("NOLOOP leaves out a client's own changes; a RESP2 client without REDIRECT is never interrupted", async () => {
    const w = await connect();
    const a = await open({ resp3: true, tracking: "NOLOOP" }), r2 = await open({ tracking: "" });
    await a.cmd("GET", "k"); await r2.cmd("GET", "k");
    expect(await frames(a, 1, "SET", "k", "1")).toBe("+OK\r\n");
    await a.cmd("GET", "k");
    await w.cmd("SET", "k", "2");
    expect(await a.readRaw()).toBe(inv("k"));
    await nothingMore(a); await nothingMore(r2);
    for (const x of [w, a, r2]) x.close();
  });
});

describe("BCAST", () => {
  test("keys changed under a prefix go out once per turn, sorted, a prefix at a time; NOLOOP drops its own", async () => {
    const w = await connect();
    const a = await open({ resp3: true, tracking: "BCAST PREFIX b PREFIX a" }), n = await open({ resp3: true, tracking: "BCAST NOLOOP PREFIX s" });
    await w.cmd("MSET", "b1", "1", "a1", "1", "a0", "1", "c", "1");
    expect((await a.readRaw()) + (await a.readRaw())).toBe(inv("a0", "a1") + inv("b1"));
    expect(await n.raw("MSET", "s1", "1", "s2", "1")).toBe("+OK\r\n"); // its own: nothing
    await w.cmd("MSET", "s2", "x", "s3", "x");
    expect(await n.readRaw()).toBe(inv("s2", "s3"));
    const all = await open({ resp3: true, tracking: "BCAST" });
    expect(await frames(all, 2, "SET", "zz", "1")).toBe("+OK\r\n" + inv("zz"));
    for (const x of [a, n, all]) await nothingMore(x);
    for (const x of [w, a, n, all]) x.close();
  });
});

describe("REDIRECT", () => {
  test("a subscribed RESP2 target gets __redis__:invalidate messages, a RESP3 target pushes, an unsubscribed RESP2 one nothing", async () => {
    const w = await connect(), sub = await open(), r3 = await open({ resp3: true });
    const a = await open({ tracking: `REDIRECT ${await idOf(sub)}` }), b = await open({ tracking: `REDIRECT ${await idOf(r3)}` });
    await sub.cmd("SUBSCRIBE", "__redis__:invalidate");
    await a.cmd("MGET", "k", "k2"); await b.cmd("GET", "k");
    await w.cmd("MSET", "k", "1", "k2", "1");
    expect((await sub.readRaw()) + (await sub.readRaw())).toBe(msg(bulks("k")) + msg(bulks("k2")));
    expect(await r3.readRaw()).toBe(inv("k"));
    await sub.cmd("UNSUBSCRIBE");
    await a.cmd("GET", "k");
    await w.cmd("SET", "k", "2");
    await nothingMore(sub); await nothingMore(r3); await nothingMore(a);
    for (const x of [w, sub, r3, a, b]) x.close();
  });
});

describe("FLUSHALL and FLUSHDB", () => {
  test("every tracking client gets one null, after the flusher's own reply", async () => {
    const w = await connect(), sub = await open();
    const a = await open({ resp3: true, tracking: "" }), b = await open({ resp3: true, tracking: "BCAST" }), r = await open({ tracking: `REDIRECT ${await idOf(sub)}` });
    await sub.cmd("SUBSCRIBE", "__redis__:invalidate");
    expect(await frames(a, 2, "FLUSHALL")).toBe("+OK\r\n" + INV_ALL);
    expect(await b.readRaw()).toBe(INV_ALL);
    expect(await sub.readRaw()).toBe(msg("$-1\r\n"));
    await w.cmd("SELECT", "5");
    expect(await w.raw("FLUSHDB")).toBe("+OK\r\n"); // any database
    expect(await a.readRaw()).toBe(INV_ALL);
    expect(await b.readRaw()).toBe(INV_ALL);
    expect(await sub.readRaw()).toBe(msg("$-1\r\n"));
    for (const x of [a, b, r]) await nothingMore(x);
    for (const x of [w, sub, a, b, r]) x.close();
  });
});

describe("tracking-table-max-keys", () => {
  test("the table is cut back to the limit by invalidating random keys", async () => {
    const admin = await connect();
    const a = await open({ resp3: true, tracking: "" });
    const keys = Array.from({ length: 10 }, (_, i) => `t${i}`);
    try {
      expect(await admin.raw("CONFIG", "SET", "tracking-table-max-keys", "1")).toBe("+OK\r\n");
      await a.cmd("MGET", ...keys);
      const told: string[] = [];
      a.send("PING"); // the next command (or the cron before it) trims the table
      for (let f = await a.readRaw(); f !== "+PONG\r\n"; f = await a.readRaw()) told.push(f);
      expect(told.length).toBe(9);
      expect(new Set(told).size).toBe(9);
      for (const f of told) expect(keys.map((k) => inv(k))).toContain(f);
      expect(await trackingCounts(admin, "1 1 1 0")).toBe("1 1 1 0");
    } finally {
      await admin.cmd("CONFIG", "SET", "tracking-table-max-keys", "1000000");
    }
    admin.close(); a.close();
  });
});

describe("scripts", () => {
  test("a read inside a script tracks the keys the script declared, for its caller; EVAL_RO alone tracks nothing", async () => {
    const w = await connect();
    const a = await open({ resp3: true, tracking: "" });
    await a.cmd("EVAL", "return redis.call('get','undeclared')", "2", "d1", "d2");
    await a.cmd("EVAL_RO", "return 1", "1", "r1");
    await a.cmd("EVAL", "return 1", "1", "r2");
    await a.cmd("EVAL_RO", "return redis.call('get',KEYS[1])", "1", "r3");
    await w.cmd("MSET", "undeclared", "1", "d1", "1", "d2", "1", "r1", "1", "r2", "1", "r3", "1");
    expect((await a.readRaw()) + (await a.readRaw()) + (await a.readRaw())).toBe(inv("d1") + inv("d2") + inv("r3"));
    await nothingMore(a);
    await a.cmd("GET", "w");
    const script = "redis.call('set','w','1') redis.call('get','w') return redis.call('incr','w')";
    expect(await frames(a, 3, "EVAL", script, "1", "w")).toBe(":2\r\n" + inv("w") + inv("w"));
    w.close(); a.close();
  });
});

describe("pushes under CLIENT REPLY OFF", () => {
  test("RESP2 subscribe confirmations and messages still arrive; other replies do not", async () => {
    const p = await connect(), c = await open();
    c.send("CLIENT", "REPLY", "OFF");
    expect(await frames(c, 2, "SUBSCRIBE", "ch1", "ch2")).toBe(`*3\r\n$9\r\nsubscribe\r\n$3\r\nch1\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$3\r\nch2\r\n:2\r\n`);
    c.send("PING");
    await p.cmd("PUBLISH", "ch1", "hi");
    expect(await c.readRaw()).toBe(bulks("message", "ch1", "hi"));
    expect(await frames(c, 2, "UNSUBSCRIBE", "ch1", "ch2")).toBe("*3\r\n$11\r\nunsubscribe\r\n$3\r\nch1\r\n:1\r\n*3\r\n$11\r\nunsubscribe\r\n$3\r\nch2\r\n:0\r\n");
    expect(await c.raw("CLIENT", "REPLY", "ON")).toBe("+OK\r\n");
    p.close(); c.close();
  });

  test("RESP3 subscribe confirmations and invalidations still arrive, also after CLIENT REPLY SKIP", async () => {
    const c = await open({ resp3: true, tracking: "" });
    c.send("CLIENT", "REPLY", "OFF");
    expect(await c.raw("SUBSCRIBE", "ch3")).toBe(">3\r\n$9\r\nsubscribe\r\n$3\r\nch3\r\n:1\r\n");
    c.send("GET", "q");
    expect(await c.raw("SET", "q", "1")).toBe(inv("q")); // the +OK is dropped, the push is not
    expect(await c.raw("CLIENT", "REPLY", "ON")).toBe("+OK\r\n");
    c.send("CLIENT", "REPLY", "SKIP");
    expect(await c.raw("SUBSCRIBE", "ch4")).toBe(">3\r\n$9\r\nsubscribe\r\n$3\r\nch4\r\n:2\r\n"); // skipped: its reply, not its push
    expect(await c.raw("PING")).toBe("+PONG\r\n");
    c.close();
  });
});

// ---------------------------------------------------------------------------------------------
// Differential: sessions over several connections, on a real redis-server and on Redbun
// ---------------------------------------------------------------------------------------------

/**
 * A session step, on connections named A, B, C ... (opened on first use):
 *   "A: GET k"   sends on A and reads one frame;  "A:2 ..." reads two, "A:0 ..." none (CLIENT REPLY OFF)
 *   "B<"         reads one more frame on B (a push), "B<2" two
 *   "B blocked"  waits until B's command is blocked;  "B close" closes B and waits until the server dropped it
 * An array ["A:", ...args] carries arguments with spaces. "$B" in an argument is B's client id.
 * HELLO's reply (server version, client id) is not compared; client ids are shown by name.
 */
type SessionStep = string | string[];

const READ_MS = 3000;

/** Runs a session; returns one line per frame read, "A <bytes>", then any frame a connection got
 *  that the script did not read (each connection answers a PING last: what precedes its PONG). */
async function runSession(port: number, steps: SessionStep[]): Promise<string[]> {
  const admin = await RawClient.connect(port);
  const conns = new Map<string, RawClient>(), ids = new Map<string, number>(), out: string[] = [];
  await admin.raw("FLUSHALL");
  const conn = async (name: string) => {
    if (!conns.has(name)) { const c = await RawClient.connect(port); conns.set(name, c); ids.set(name, await idOf(c)); }
    return conns.get(name)!;
  };
  const name = (id: string) => [...ids].find(([, v]) => String(v) === id)?.[0];
  const silent = new Set<string>(); // connections that missed a reply: not waited for again
  const read = async (n: string, c: RawClient, args: string[] = []) => {
    let f = "<no reply>";
    if (!silent.has(n)) try { f = await c.readRaw(READ_MS); } catch { silent.add(n); }
    // Client ids, where tracking shows them (TRACKINGINFO, redir-broken pushes, GETREDIR), by connection name.
    const ids = args.join(" ").toUpperCase() === "CLIENT GETREDIR" ? /()^:(\d+)\r\n/ : /(redirect\r\n|tracking-redir-broken\r\n):(\d+)\r\n/g;
    f = f.replace(ids, (_m, pre, id) => `${pre}:${name(id) ? `<${name(id)}>` : id}\r\n`); // 0 and -1 are no id
    out.push(`${n} ${args[0]?.toUpperCase() === "HELLO" ? "<hello>" : JSON.stringify(f)}`);
  };
  for (const step of steps) {
    const [head, ...rest] = typeof step === "string" ? step.split(" ") : step;
    const m = /^([A-Z])(?::(\d*)|<(\d*))?$/.exec(head)!;
    const c = await conn(m[1]);
    if (rest[0] === "close" && rest.length === 1) {
      c.close(); conns.delete(m[1]);
      await clientListUntil(admin, ids.get(m[1])!, GONE);
    } else if (rest[0] === "blocked" && rest.length === 1) {
      await clientListUntil(admin, ids.get(m[1])!, BLOCKED);
    } else if (m[3] !== undefined) {
      for (let i = 0; i < Number(m[3] || 1); i++) await read(m[1], c);
    } else {
      for (const [, k] of rest.join(" ").matchAll(/\$([A-Z])/g)) await conn(k);
      c.send(...rest.map((a) => a.replace(/\$([A-Z])/g, (_x, k) => String(ids.get(k)))));
      for (let i = 0; i < Number(m[2] || 1); i++) await read(m[1], c, rest);
    }
  }
  for (const [n, c] of conns) {
    if (silent.has(n)) { out.push(`${n} (unread) ${JSON.stringify(c.pending())}`); c.close(); continue; }
    c.send("PING");
    for (;;) {
      const f = await c.readRaw(READ_MS).catch(() => "<no PONG>");
      if (/^(\+PONG\r\n|<no PONG>|\*2\r\n\$4\r\npong\r\n)/.test(f)) break;
      out.push(`${n} (unread) ${JSON.stringify(f)}`);
    }
    c.close();
  }
  admin.close();
  return out;
}

/** A redis-server of its own, for the sessions. */
async function startRedis(): Promise<{ port: number; stop(): Promise<void> }> {
  const p = await freePort();
  const proc = Bun.spawn(["redis-server", "--port", String(p), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
    "--dir", mkdtempSync(join(tmpdir(), "redbun-csc-")), "--enable-debug-command", "yes", "--loglevel", "warning"], { stdout: "ignore", stderr: "ignore" });
  process.on("exit", () => proc.kill("SIGKILL"));
  for (const until = Date.now() + 5000; ;) {
    try { const c = await RawClient.connect(p); c.close(); break; } catch { if (Date.now() > until) throw new Error("redis-server did not start"); await Bun.sleep(20); }
  }
  return { port: p, async stop() { proc.kill("SIGKILL"); await proc.exited; } };
}

const SESSIONS: Record<string, SessionStep[]> = {
  "errors, the BCAST prefix quirk, TRACKINGINFO and GETREDIR": [
    "B: PING", "A: CLIENT TRACKING", "A: CLIENT TRACKING MAYBE", "A: CLIENT TRACKING ON REDIRECT", "A: CLIENT TRACKING ON REDIRECT x",
    "A: CLIENT TRACKING ON REDIRECT 0", "A: CLIENT TRACKING ON REDIRECT $B REDIRECT $B", "A: CLIENT TRACKING ON PREFIX a",
    "A: CLIENT TRACKING ON BCAST OPTOUT", "A: CLIENT TRACKING ON OPTIN OPTOUT", "A: CLIENT TRACKING OFF NOLOOP PREFIX a", "A: CLIENT GETREDIR",
    "A: CLIENT CACHING YES", "A: CLIENT TRACKINGINFO", "A:2 CLIENT TRACKING ON BCAST PREFIX a PREFIX b PREFIX bc", "A: CLIENT TRACKINGINFO",
    "A: CLIENT TRACKING ON BCAST PREFIX ab", "A: CLIENT TRACKING ON", "A: CLIENT TRACKING OFF", "A:2 CLIENT TRACKING ON BCAST PREFIX x PREFIX a PREFIX ab",
    "A: CLIENT TRACKING ON BCAST NOLOOP REDIRECT $B", "A: CLIENT TRACKINGINFO", "A: CLIENT GETREDIR", "A: CLIENT TRACKING OFF",
    "A: CLIENT TRACKING ON OPTIN", "A: CLIENT CACHING NO", "A: CLIENT CACHING YES", "A: HELLO 3", "A: CLIENT TRACKINGINFO",
    "A: CLIENT TRACKING ON OPTOUT", "A: CLIENT TRACKING ON BCAST", "A: CLIENT CACHING maybe", "A: CLIENT CACHING YES NO", "A: CLIENT GETREDIR x",
  ],
  "default mode: others' writes, own writes after the reply, EXEC, NOLOOP, a stale entry": [
    "A: HELLO 3", "A: CLIENT TRACKING ON", "A: GET k", "B: SET k v", "A<", "A: MGET k k2 k3", "A:2 SET k v2", "A: GET k",
    "A: MULTI", "A: SET k 1", "A: GET k", "A: INCR k", "A:3 EXEC", "B: SET k2 x", "A<", "B: SET k2 y", "A: CLIENT TRACKING ON NOLOOP",
    "A: SET k y", "A: GET k", "B: SET k z", "A<", "C: CLIENT TRACKING ON", "C: GET k", "B: SET k w", "A: GET j", "A: CLIENT TRACKING OFF",
    "A: CLIENT TRACKING ON", "B: SET j 1", "A<", "A: GET m", "B: SELECT 1", "B: SET m 1", "A<", "A: DEL k3", "B: SET k3 1", "A<",
  ],
  "a served BLMOVE: the pusher's change first, the reply, then its own": [
    "A: HELLO 3", "A: CLIENT TRACKING ON", "A: LRANGE src 0 -1", "A: LRANGE dst 0 -1", "A:0 BLMOVE src dst LEFT RIGHT 0", "A blocked",
    "B: RPUSH src x", "A<3", "A: LRANGE dst 0 -1", "A: LRANGE src 0 -1", "A:0 BLPOP src 0", "A blocked",
    "B: MULTI", "B: RPUSH src y", "B: RPUSH dst z", "B: EXEC", "A<3",
  ],
  "BCAST: prefixes, one array per prefix per turn, NOLOOP": [
    "A: HELLO 3", "C: HELLO 3", "D: HELLO 3", "A: CLIENT TRACKING ON BCAST PREFIX b PREFIX a", "C: CLIENT TRACKING ON BCAST NOLOOP PREFIX s",
    "B: MSET b1 1 a1 1 a0 1 c 1", "A<2", "B: SET s1 1", "C<", "C: MSET s2 1 s3 1", "B: MSET s3 x s4 x", "C<",
    "D: CLIENT TRACKING ON BCAST", "D:2 SET x 1", "B: DEL nothing", "A: CLIENT TRACKING OFF", "B: SET a2 1", "D<",
    "C: MULTI", "C: SET s5 1", "C: SET t 1", "C: EXEC", "D<",
  ],
  "OPTIN and OPTOUT with CLIENT CACHING": [
    "A: HELLO 3", "A: CLIENT TRACKING ON OPTIN", "A: GET k1", "B: SET k1 1", "A: CLIENT CACHING YES", "A: CLIENT TRACKINGINFO",
    "A: GET k1", "A: GET k2", "B: MSET k1 2 k2 2", "A<", "A: CLIENT CACHING YES", "A: MULTI", "A: GET k3", "A: GET k4", "A: EXEC",
    "B: MSET k3 1 k4 1", "A<2", "A: MULTI", "A: CLIENT CACHING YES", "A: GET k5", "A: EXEC", "A: GET k6", "B: MSET k5 1 k6 1", "A<",
    "A: CLIENT CACHING YES", "A: PING", "A: GET k7", "B: SET k7 1", "A: CLIENT TRACKING OFF", "A: CLIENT TRACKING ON OPTOUT", "A: GET k8",
    "A: CLIENT CACHING NO", "A: CLIENT TRACKINGINFO", "A: GET k9", "A: GET k10", "B: MSET k8 1 k9 1 k10 1", "A<2",
  ],
  "REDIRECT to RESP2 subscribers and RESP3 clients; FLUSHALL and FLUSHDB nulls": [
    "B: SUBSCRIBE __redis__:invalidate", "A: CLIENT TRACKING ON REDIRECT $B", "A: GET k", "A: MGET k2 k3", "C: SET k 1", "B<",
    "A: MSET k2 1 k3 2", "B<2", "A: FLUSHALL", "B<", "A: FLUSHDB", "B<", "A: CLIENT GETREDIR", "D: HELLO 3", "E: CLIENT TRACKING ON REDIRECT $D",
    "A: CLIENT TRACKING ON REDIRECT $D", "A: GET r", "E: GET r", "C: SET r 1", "D<2", "C: SELECT 3", "C: FLUSHDB", "D<2",
    "B: PSUBSCRIBE nothing*", "B: UNSUBSCRIBE", "F: CLIENT TRACKING ON REDIRECT $B", "F: GET z", "C: SET z 1", "B<", "B: PUNSUBSCRIBE",
    "F: GET z", "C: SET z 2",
  ],
  "a broken redirect": [
    "A: HELLO 3", "A: CLIENT TRACKING ON REDIRECT $B", "D: CLIENT TRACKING ON REDIRECT $B", "A: GET bk", "D: GET bk", "B close",
    "C: SET bk 1", "A<", "A: CLIENT TRACKINGINFO", "D: CLIENT TRACKINGINFO", "A: CLIENT GETREDIR", "A: GET bk", "A:2 SET bk 2",
    "A: CLIENT TRACKING ON REDIRECT $B", "A: CLIENT TRACKING OFF", "A: CLIENT TRACKINGINFO",
  ],
  "scripts: the caller tracks the declared keys; an expired key is invalidated": [
    "A: HELLO 3", "A: CLIENT TRACKING ON", ["A:", "EVAL", "return redis.call('get','und')", "2", "d1", "d2"], "B: MSET und 1 d1 1 d2 1", "A<2",
    ["A:", "EVAL_RO", "return 1", "1", "r1"], ["A:", "EVAL", "return 1", "1", "r2"], ["A:", "EVAL_RO", "return redis.call('get',KEYS[1])", "1", "r3"],
    "B: MSET r1 1 r2 1 r3 1", "A<", "A: GET w", ["A:3", "EVAL", "redis.call('set','w','1') redis.call('get','w') return redis.call('incr','w')", "1", "w"],
    ["A:", "EVAL", "redis.call('set',KEYS[1],'1','px','1') return redis.call('get',KEYS[1])", "1", "ex"], "B: DEBUG SLEEP 0.01", "B: GET ex", "A<",
    "C: HELLO 3", "C: CLIENT TRACKING ON BCAST NOLOOP PREFIX p", ["C:2", "EVAL", "redis.call('set',KEYS[1],'1')", "1", "p1"], "C: SET p2 1",
  ],
  "pushes under CLIENT REPLY OFF and SKIP": [
    "A:0 CLIENT REPLY OFF", "A:2 SUBSCRIBE ch1 ch2", "A:0 PING", "B: PUBLISH ch1 hi", "A<", "A: PSUBSCRIBE p*", "A: SSUBSCRIBE s1",
    "B: PUBLISH px m", "A<", "A:2 UNSUBSCRIBE ch1 ch2", "A: PUNSUBSCRIBE", "A: SUNSUBSCRIBE", "A: UNSUBSCRIBE", "A: CLIENT REPLY ON",
    "C: HELLO 3", "C:0 CLIENT REPLY OFF", "C: SUBSCRIBE ch3", "C:0 PING", "B: PUBLISH ch3 yo", "C<", "C:0 CLIENT TRACKING ON", "C:0 GET q",
    "C: SET q 1", "C:0 GET q", "C: SUBSCRIBE ch4", "B: SET q 2", "C<", "C: CLIENT REPLY ON", "C:0 CLIENT REPLY SKIP", "C: SUBSCRIBE ch5",
    "C: PING", "D:0 CLIENT REPLY SKIP", "D: SUBSCRIBE q", "D: PING",
  ],
};

/** CLIENT REPLY's own rules, which pushes must get through. */
const REPLY_SESSIONS: Record<string, SessionStep[]> = {
  "CLIENT REPLY SKIP while OFF leaves replies off": [
    "A:0 CLIENT REPLY OFF", "A:0 CLIENT REPLY SKIP", "A:0 PING", "A:0 PING", "A: CLIENT REPLY ON",
  ],
  "under CLIENT REPLY OFF, commands queued by MULTI answer nothing, pushes still arrive": [
    "A: HELLO 3", "A: CLIENT TRACKING ON", "A: GET q", "A:0 CLIENT REPLY OFF", "A:0 MULTI", "A:0 SET q 1", "A:0 SUBSCRIBE ch9", "A:0 EXEC",
    "A<2", "A: CLIENT REPLY ON",
  ],
};

describe.skipIf(!Bun.which("redis-server"))("differential: sessions compared byte for byte with redis-server 7.0.15", () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => { redis = await startRedis(); });
  afterAll(async () => { await redis?.stop(); });
  const compare = async (steps: SessionStep[]) => {
    const want = await runSession(redis.port, steps);
    if (want.some((l) => l.includes("<no reply>"))) throw new Error(`script error: redis-server did not answer a read:\n${want.join("\n")}`);
    expect(await runSession(port, steps)).toEqual(want);
  };
  for (const [name, steps] of Object.entries({ ...SESSIONS, ...REPLY_SESSIONS })) test(name, () => compare(steps), 20000);
});
