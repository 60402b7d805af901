// main.ts, Keyspace: keyspace notifications, compared with a real redis-server: a subscriber
// on each server runs PSUBSCRIBE __key*__:*, a second connection runs the same command script on
// both, and the two sequences of messages (channel and payload, in arrival order) must be equal,
// as must the script's replies. A message PUBLISHed by the script connection at the end
// marks the end of the events: a subscriber receives messages in the order they were published,
// so once it has the marker it has every event.
//
// Scripts run with the active expiry cycle off on both servers (DEBUG SET-ACTIVE-EXPIRE 0) unless
// they say otherwise: when the cycle happens to run would otherwise decide where an "expired"
// event lands. Needs redis-server on PATH (skipped without it, unless REQUIRE_REDIS=1 makes that
// a failure). Redbun is the shared in-process server; every test puts notify-keyspace-events back
// to "" and the active cycle back on.
import { describe, test, expect, beforeAll, afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RawClient } from "./client.ts";
import { sharedServer, freePort } from "./helpers.ts";

const REDIS_BIN = Bun.which("redis-server");

// ---------------------------------------------------------------------------------------------
// Script format
// ---------------------------------------------------------------------------------------------

type NStep =
  /** A command on the script connection ("shorthand with spaces" or exact arguments); its reply is compared. */
  | string
  | string[]
  /** A command whose reply is random (SPOP with a count, ...): only its events are compared. */
  | { any: string | string[] }
  /** Sends a command on the second script connection ("b") without waiting for its reply. */
  | { b: string | string[] }
  /** Reads the next reply on connection "b" (compared). */
  | { bRead: true }
  /** Waits until the server reports this many more blocked clients than when the script started. */
  | { blocked: number }
  /** Pause, e.g. to let a short TTL pass or the active expiry cycle run. */
  | { sleep: number };

interface NScript {
  name: string;
  flags: string;
  steps: NStep[];
  /** Scripts run with the active expiry cycle off (DEBUG SET-ACTIVE-EXPIRE 0), so that only
   *  commands expire keys and the events come in a known order; this turns it on. */
  activeExpire?: boolean;
}

const args = (s: string | string[]) => (typeof s === "string" ? s.split(" ") : s);
const END_CHANNEL = "__keyspace@0__:__end-of-script__";

interface Outcome { replies: string[]; events: string[] }

/** Runs a script on one server; returns the script's replies and every event the subscriber got. */
async function runNotificationScript(port: number, script: NScript): Promise<Outcome> {
  const sub = await RawClient.connect(port);
  const c = await RawClient.connect(port);
  let b: RawClient | null = null;
  const replies: string[] = [];
  const events: string[] = [];
  try {
    expect(await c.raw("FLUSHALL")).toBe("+OK\r\n");
    expect(await c.raw("CONFIG", "SET", "notify-keyspace-events", script.flags)).toBe("+OK\r\n");
    if (!script.activeExpire) expect(await c.raw("DEBUG", "SET-ACTIVE-EXPIRE", "0")).toBe("+OK\r\n");
    const blockedBefore = await blockedClients(c); // clients other tests left blocked, if any
    expect(await sub.raw("PSUBSCRIBE", "__key*__:*")).toStartWith("*3\r\n$10\r\npsubscribe\r\n");
    for (const step of script.steps) {
      if (typeof step === "string" || Array.isArray(step)) replies.push(await c.raw(...args(step)));
      else if ("any" in step) { await c.raw(...args(step.any)); replies.push("<any>"); }
      else if ("b" in step) { b ??= await RawClient.connect(port); b.send(...args(step.b)); }
      else if ("bRead" in step) replies.push(await b!.readRaw());
      else if ("blocked" in step) await waitBlocked(c, blockedBefore + step.blocked);
      else await Bun.sleep(step.sleep);
    }
    await c.raw("PUBLISH", END_CHANNEL, "end");
    for (;;) {
      const m = (await sub.read()) as string[];
      if (m[2] === END_CHANNEL) break;
      events.push(`${m[2]} ${m[3]}`);
    }
  } finally {
    await c.raw("CONFIG", "SET", "notify-keyspace-events", "").catch(() => {});
    if (!script.activeExpire) await c.raw("DEBUG", "SET-ACTIVE-EXPIRE", "1").catch(() => {});
    sub.close();
    c.close();
    b?.close();
  }
  return { replies, events };
}

/** INFO clients' blocked_clients. */
async function blockedClients(c: RawClient): Promise<number> {
  return Number(/blocked_clients:(\d+)/.exec((await c.cmd("INFO", "clients")) as string)![1]);
}

/** Polls INFO clients until blocked_clients reaches n. */
async function waitBlocked(c: RawClient, n: number): Promise<void> {
  const until = Date.now() + 3000;
  while ((await blockedClients(c)) < n) {
    if (Date.now() > until) throw new Error(`blocked_clients never reached ${n}`);
    await Bun.sleep(5);
  }
}

// ---------------------------------------------------------------------------------------------
// The reference redis-server
// ---------------------------------------------------------------------------------------------

interface Reference { port: number; stop(): Promise<void> }

/** Starts a redis-server of our own on a free port (DEBUG allowed, for SET-ACTIVE-EXPIRE). */
async function startReference(): Promise<Reference> {
  const dir = mkdtempSync(join(tmpdir(), "redbun-notify-"));
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const proc = Bun.spawn([REDIS_BIN!, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
      "--dir", dir, "--daemonize", "no", "--protected-mode", "no", "--loglevel", "warning", "--enable-debug-command", "local"], { stdout: "ignore", stderr: "ignore" });
    process.on("exit", () => proc.kill("SIGKILL"));
    const until = Date.now() + 5000;
    while (Date.now() < until && proc.exitCode === null) {
      try {
        const c = await RawClient.connect(port);
        const pong = await c.raw("PING");
        c.close();
        if (pong === "+PONG\r\n") {
          return { port, async stop() { proc.kill("SIGKILL"); await proc.exited; rmSync(dir, { recursive: true, force: true }); } };
        }
      } catch { /* not listening yet */ }
      await Bun.sleep(20);
    }
    proc.kill("SIGKILL");
    if (attempt >= 3) throw new Error("redis-server did not start");
  }
}

let reference: Reference;
let redbunPort = 0;

if (REDIS_BIN) {
  beforeAll(async () => {
    reference = await startReference();
    redbunPort = (await sharedServer()).port;
  }, 20000);
  afterAll(async () => { await reference?.stop(); });
}

/** Registers one test per script, comparing Redbun's events and replies with Redis's. */
function notificationSuite(family: string, scripts: NScript[]): void {
  if (!REDIS_BIN) {
    if (process.env.REQUIRE_REDIS === "1") test(`${family}: redis-server is required`, () => { throw new Error("redis-server not on PATH"); });
    else describe.skip(family, () => { test("redis-server missing", () => {}); });
    return;
  }
  describe(family, () => {
    for (const script of scripts) {
      test(`${script.name} (${JSON.stringify(script.flags)})`, async () => {
        const [want, got] = await Promise.all([runNotificationScript(reference.port, script), runNotificationScript(redbunPort, script)]);
        expect(got.events).toEqual(want.events);
        expect(got.replies).toEqual(want.replies);
      });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The scripts
// ---------------------------------------------------------------------------------------------

notificationSuite("strings", [
  { name: "SET and its options, SETNX, SETEX, PSETEX, GETSET, GETDEL", flags: "KEA", steps: [
    "SET a 1", "SET a 2", "SET a 3 NX", "SET a 4 XX", "SET b 1 XX", "SET a 5 EX 100", "SET a 6 KEEPTTL", "SET a 7 GET",
    "SET a 8 PX 100000 GET", "SET p v EXAT 1000000000", "EXISTS p", "SETNX a x", "SETNX c x", "SETEX d 100 v", "PSETEX e 100000 v",
    "GETSET a z", "GETSET f z", "GETDEL a", "GETDEL a",
  ] },
  { name: "GETEX", flags: "KEA", steps: [
    "SET a v", "GETEX a", "GETEX a EX 100", "GETEX a PX 200000", "GETEX a EXAT 4102444800", "GETEX a PERSIST", "GETEX a PERSIST",
    "GETEX a PXAT 1", "EXISTS a", "GETEX missing EX 10",
  ] },
  { name: "MSET, MSETNX", flags: "KEA", steps: ["MSET a 1 b 2 a 3", "MSETNX c 1 d 2", "MSETNX c 1 e 2", "MGET a b c d e"] },
  { name: "APPEND, SETRANGE (including the no-op forms)", flags: "KEA", steps: [
    "APPEND a x", "APPEND a y", ["APPEND", "a", ""], ["APPEND", "n", ""], "SETRANGE a 1 Z", "SETRANGE b 3 Q",
    ["SETRANGE", "a", "0", ""], ["SETRANGE", "nokey", "5", ""], "GET a", "GET b",
  ] },
  { name: "INCR family and INCRBYFLOAT", flags: "KEA", steps: [
    "INCR a", "INCRBY a 10", "DECR a", "DECRBY a 5", "INCRBYFLOAT a 1.5", "INCRBYFLOAT f 0.1", "SET s x", "INCR s", "INCRBYFLOAT s 1",
  ] },
  { name: "errors and wrong types publish nothing", flags: "KEA", steps: [
    "RPUSH l x", "SET l v XX GET", "APPEND l x", "INCR l", "GETSET l v", "SETRANGE l 0 x", "SET k v EX 0", "GETEX l EX 10",
  ] },
]);

notificationSuite("keys", [
  { name: "DEL, UNLINK", flags: "KEA", steps: ["MSET a 1 b 2 c 3", "DEL a missing b", "DEL a", "UNLINK c", "UNLINK c"] },
  { name: "RENAME, RENAMENX (onto an existing key, to itself)", flags: "KEA", steps: [
    "SET a 1", "SET b 2", "RENAME a c", "RENAME c b", "RENAME b b", "RENAMENX b d", "SET e 1", "RENAMENX d e", "RENAME missing x",
    "SET t v EX 100", "RENAME t u", "TTL u",
  ] },
  { name: "COPY, within a database and to another", flags: "KEA", steps: [
    "SET a 1", "COPY a b", "COPY a b", "COPY a b REPLACE", "COPY a a", "COPY a b DB 1", "COPY missing z",
    "RPUSH l x y", "COPY l l2", "HSET h f v", "COPY h h2 DB 2", "SELECT 2", "HGETALL h2", "SELECT 0",
  ] },
  { name: "MOVE", flags: "KEA", steps: [
    "SET a 1", "MOVE a 1", "MOVE a 1", "SET a 2", "SELECT 1", "MOVE a 0", "SET b 1", "MOVE b 3", "SELECT 0",
  ] },
  { name: "EXPIRE family, PERSIST", flags: "KEA", steps: [
    "SET a v", "EXPIRE a 100", "PEXPIRE a 100000", "EXPIREAT a 4102444800", "PEXPIREAT a 4102444800000", "EXPIRE a 200 NX",
    "EXPIRE a 300 XX", "EXPIRE a 10 GT", "EXPIRE a 400 LT", "PERSIST a", "PERSIST a", "EXPIRE missing 10", "PERSIST missing",
  ] },
  { name: "EXPIRE family with times in the past delete the key", flags: "KEA", steps: [
    "MSET a 1 b 2 c 3 d 4 e 5", "EXPIRE a 0", "PEXPIRE b -1", "EXPIREAT c 1000000000", "PEXPIREAT d 1", "EXPIRE e -5 NX",
    "DBSIZE", "EXPIRE missing -1",
  ] },
  { name: "a key read after its TTL is expired lazily", flags: "KEA", steps: [
    "SET a v PX 20", "SET b v PX 20", "RPUSH l x", "PEXPIRE l 20", { sleep: 60 }, "GET a", "EXISTS b", "LLEN l", "GET a",
  ] },
  { name: "a key written after its TTL is expired, then created again", flags: "KEA", steps: [
    "SET a v PX 20", { sleep: 60 }, "SET a w", "RPUSH l x", "PEXPIRE l 20", { sleep: 60 }, "RPUSH l y", "LRANGE l 0 -1",
  ] },
  { name: "every kind of command expires a key past its TTL before using it", flags: "KEA", steps: [
    "SET s1 v PX 20", "SET s2 1 PX 20", "SET s3 v PX 20", "RPUSH l1 x", "PEXPIRE l1 20", "HSET h1 f v", "PEXPIRE h1 20",
    "SADD z1 m", "PEXPIRE z1 20", "ZADD o1 1 m", "PEXPIRE o1 20", "SET r1 v PX 20", "SET e1 v PX 20", "SET t1 v PX 20",
    "SET c1 v PX 20", "SET m1 v PX 20", "SET g1 v PX 20",
    { sleep: 60 },
    "APPEND s1 x", "INCR s2", "SETRANGE s3 0 x", "LPUSH l1 y", "HSET h1 g w", "SADD z1 n", "ZADD o1 2 n", "RENAME r1 r2",
    "EXPIRE e1 100", "TYPE t1", "COPY c1 c2", "MOVE m1 1", "GETSET g1 new",
  ] },
  { name: "SET, SETEX, PSETEX, SETNX, MSET and MSETNX over a key past its TTL expire it first", flags: "KEA", steps: [
    "SET a v PX 20", "SET b v PX 20", "SET c v PX 20", "SET d v PX 20", "SET e v PX 20", "SET f v PX 20", "SET g v PX 20",
    { sleep: 60 },
    "SET a w", "SETEX b 100 w", "PSETEX c 100000 w", "SETNX d w", "MSET e w", "MSETNX f w", "SET g w NX",
  ] },
  { name: "a key past its TTL that SET replaces is a new key", flags: "Exn", steps: [
    "SET a v PX 20", { sleep: 60 }, "SET a w",
  ] },
  { name: "an untouched key is expired by the active cycle", flags: "KEA", activeExpire: true, steps: [
    "SET a v PX 20", { sleep: 350 }, "DBSIZE",
  ] },
  { name: "FLUSHDB, FLUSHALL and SWAPDB publish nothing", flags: "KEA", steps: [
    "SET a 1", "SWAPDB 0 1", "SELECT 1", "SET b 2", "FLUSHDB", "SELECT 0", "SET c 3", "FLUSHALL",
  ] },
  { name: "events carry the database number", flags: "KEA", steps: ["SELECT 7", "SET a 1", "DEL a", "SELECT 15", "LPUSH l x", "SELECT 0"] },
  { name: "keys with spaces, CRLF and binary bytes", flags: "KEA", steps: [
    ["SET", "a key", "v"], ["SET", "line\r\nbreak", "v"], ["SET", "\x00\xff", "v"], ["SET", "", "empty"], ["DEL", "a key", "line\r\nbreak", "\x00\xff", ""],
  ] },
]);

notificationSuite("lists", [
  { name: "pushes and pops", flags: "KEA", steps: [
    "LPUSH l a b", "RPUSH l c", "LPUSHX l d", "RPUSHX l e", "LPUSHX nol x", "RPUSHX nol x", "LPOP l", "RPOP l", "LPOP l 2",
    "RPOP l 5", "EXISTS l", "LPOP l", "RPOP nol 2",
  ] },
  { name: "LSET, LINSERT, LREM, LTRIM", flags: "KEA", steps: [
    "RPUSH l a b c a", "LSET l 0 z", "LINSERT l BEFORE b y", "LINSERT l AFTER nope x", "LREM l 0 a", "LREM l 0 nope",
    "LTRIM l 0 -1", "LTRIM l 1 2", "LRANGE l 0 -1", "LTRIM l 5 10", "EXISTS l",
  ] },
  { name: "LMOVE and RPOPLPUSH, across keys and onto themselves", flags: "KEA", steps: [
    "RPUSH s a b c", "LMOVE s d LEFT RIGHT", "RPOPLPUSH s d", "LMOVE s s LEFT RIGHT", "RPOPLPUSH s s", "LMOVE s d RIGHT LEFT",
    "LMOVE s d LEFT LEFT", "LRANGE d 0 -1", "RPUSH w x", "SET str v", "LMOVE w str LEFT LEFT", "LLEN w",
  ] },
  { name: "LMPOP", flags: "KEA", steps: ["RPUSH a 1 2 3", "LMPOP 2 nokey a LEFT COUNT 2", "LMPOP 1 a RIGHT COUNT 5", "LMPOP 1 a LEFT"] },
  { name: "BLPOP, BRPOP, BLMOVE, BLMPOP served at once", flags: "KEA", steps: [
    "RPUSH l a b c d e", "BLPOP l 1", "BRPOP l 1", "BLMOVE l m LEFT RIGHT 1", "BLMPOP 1 1 l RIGHT COUNT 5", "BRPOPLPUSH m m 1",
  ] },
  { name: "BLPOP waiting on another connection, served by LPUSH", flags: "KEA", steps: [
    { b: "BLPOP q 5" }, { blocked: 1 }, "LPUSH q x y", { bRead: true }, "LRANGE q 0 -1",
  ] },
  { name: "BLMOVE waiting, served by RPUSH that empties the list again", flags: "KEA", steps: [
    { b: "BLMOVE q dst LEFT RIGHT 5" }, { blocked: 1 }, "RPUSH q x", { bRead: true }, "EXISTS q", "LRANGE dst 0 -1",
  ] },
  { name: "BLMPOP waiting, served by a MULTI that pushes twice", flags: "KEA", steps: [
    { b: "BLMPOP 5 1 q LEFT COUNT 3" }, { blocked: 1 }, "MULTI", "RPUSH q a", "RPUSH q b", "EXEC", { bRead: true }, "EXISTS q",
  ] },
]);

notificationSuite("hashes", [
  { name: "HSET, HSETNX, HMSET, HDEL", flags: "KEA", steps: [
    "HSET h a 1 b 2", "HSET h a 1", "HMSET h c 3", "HSETNX h a 9", "HSETNX h d 4", "HDEL h a nope", "HDEL h nope",
    "HDEL h b c d", "EXISTS h",
  ] },
  { name: "HINCRBY, HINCRBYFLOAT", flags: "KEA", steps: ["HINCRBY h n 5", "HINCRBY h n -2", "HINCRBYFLOAT h f 1.5", "HSET h s x", "HINCRBY h s 1", "HINCRBYFLOAT h s 1"] },
]);

notificationSuite("sets", [
  { name: "SADD, SREM", flags: "KEA", steps: ["SADD s a b", "SADD s a", "SREM s nope", "SREM s a", "SREM s b", "EXISTS s"] },
  { name: "SMOVE", flags: "KEA", steps: [
    "SADD a x y", "SADD b y", "SMOVE a b x", "SMOVE a b nope", "SMOVE a b y", "EXISTS a", "SMOVE b b x", "SMOVE b c x", "SMEMBERS c",
  ] },
  { name: "SPOP", flags: "KEA", steps: [
    "SADD s a", "SPOP s", "SADD s a b c d", { any: "SPOP s 2" }, "SPOP s 0", { any: "SPOP s 10" }, "EXISTS s", "SPOP s", "SPOP s 3",
  ] },
  { name: "SINTERSTORE, SUNIONSTORE, SDIFFSTORE (including empty results)", flags: "KEA", steps: [
    "SADD a 1 2 3", "SADD b 2 3 4", "SINTERSTORE d a b", "SUNIONSTORE d a b", "SDIFFSTORE d a b", "SDIFFSTORE d a a",
    "EXISTS d", "SINTERSTORE d nope a", "SUNIONSTORE e nope", "SET d x", "SINTERSTORE d a b", "TYPE d",
  ] },
]);

notificationSuite("sorted sets", [
  { name: "ZADD and its options, ZINCRBY", flags: "KEA", steps: [
    "ZADD z 1 a 2 b", "ZADD z 1 a", "ZADD z XX 5 a", "ZADD z NX 5 c", "ZADD z NX 9 a", "ZADD z INCR 2 a", "ZADD z XX INCR 1 nope",
    "ZADD z GT 1 a", "ZADD z LT CH 0 a", "ZINCRBY z 3 b", "ZINCRBY z 1 n", "ZADD y XX 1 a",
  ] },
  { name: "ZREM and the ZREMRANGE family", flags: "KEA", steps: [
    "ZADD z 1 a 2 b 3 c 4 d 5 e 6 f", "ZREM z a nope", "ZREM z nope", "ZREMRANGEBYRANK z 0 0", "ZREMRANGEBYSCORE z 3 4",
    "ZREMRANGEBYSCORE z 100 200", "ZADD lex 0 a 0 b 0 c", "ZREMRANGEBYLEX lex [a [b", "ZREMRANGEBYLEX lex [x [y",
    "ZREMRANGEBYRANK z 0 -1", "EXISTS z", "ZREMRANGEBYLEX lex - +",
  ] },
  { name: "ZPOPMIN, ZPOPMAX, ZMPOP, BZPOPMIN, BZMPOP", flags: "KEA", steps: [
    "ZADD z 1 a 2 b 3 c 4 d 5 e 6 f", "ZPOPMIN z", "ZPOPMAX z 2", "ZPOPMIN z 0", "ZMPOP 1 z MIN COUNT 1", "BZPOPMIN z 1",
    "BZMPOP 1 1 z MAX COUNT 5", "EXISTS z", "ZPOPMIN z",
  ] },
  { name: "BZPOPMAX waiting on another connection, served by ZADD", flags: "KEA", steps: [
    { b: "BZPOPMAX z 5" }, { blocked: 1 }, "ZADD z 1 a 2 b", { bRead: true }, "ZRANGE z 0 -1",
  ] },
  { name: "ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE, ZRANGESTORE (including empty results)", flags: "KEA", steps: [
    "ZADD a 1 x 2 y", "ZADD b 3 y 4 z", "ZUNIONSTORE d 2 a b", "ZINTERSTORE d 2 a b", "ZDIFFSTORE d 2 a b", "ZDIFFSTORE d 2 a a",
    "EXISTS d", "ZRANGESTORE r a 0 -1", "ZRANGESTORE r a 5 10", "EXISTS r", "ZINTERSTORE d 2 a nope", "ZUNIONSTORE d 1 nope",
  ] },
]);

notificationSuite("event classes", [
  { name: "only keyevent, generic and string events", flags: "Eg$", steps: [
    "SET a 1", "EXPIRE a 100", "LPUSH l x", "HSET h f v", "RENAME a b", "DEL b l h", "SET c v PX 20", { sleep: 60 }, "GET c",
  ] },
  { name: "only keyspace list events", flags: "Kl", steps: ["SET a 1", "LPUSH l x y", "LPOP l", "SADD s x", "DEL l", "RPUSH l z", "DEL l"] },
  { name: "only expired events", flags: "Ex", steps: ["SET a v PX 20", "SET b v EX 100", "DEL b", { sleep: 60 }, "GET a", "SET c v", "EXPIRE c 0"] },
  { name: "everything plus key misses", flags: "AKEm", steps: ["GET nope", "SET a 1", "GET a", "LPOP nope", "HGET nope f"] },
  { name: "new keys only", flags: "En", steps: [
    "SET a 1", "SET a 2", "LPUSH l x", "LPUSH l y", "HSET h f v", "SADD s m", "ZADD z 1 m", "INCR n", "APPEND ap x",
    "COPY a b", "RENAME b c", "MOVE c 1", "MSET m1 1 m2 2", "SETRANGE sr 2 x", "LMOVE l dst LEFT LEFT", "SUNIONSTORE su s",
    "ZUNIONSTORE zu 1 z", "HINCRBY hi f 1", "INCRBYFLOAT fl 1", "DEL a", "SET a 3",
  ] },
  { name: "new keys with keyspace and generic", flags: "Kgn", steps: ["SET a 1", "DEL a", "SET a 1", "EXPIRE a 10"] },
  { name: "key misses on every kind of read", flags: "Em", steps: [
    "GET nope", "MGET a b", "EXISTS nope", "TYPE nope", "TTL nope", "PTTL nope", "EXPIRETIME nope", "STRLEN nope", "GETRANGE nope 0 1",
    "LLEN nope", "LRANGE nope 0 -1", "LINDEX nope 0", "LPOS nope x", "HGET nope f", "HGETALL nope", "HLEN nope", "HEXISTS nope f",
    "SMEMBERS nope", "SISMEMBER nope x", "SCARD nope", "SINTER nope other", "SUNION nope", "SRANDMEMBER nope",
    "ZSCORE nope m", "ZRANGE nope 0 -1", "ZCARD nope", "ZRANK nope m", "ZUNION 2 nope other", "LCS nope other",
    "OBJECT ENCODING nope", "TOUCH nope", "RANDOMKEY", "KEYS *", "SCAN 0", "LPOP nope", "INCR n", "DEL nope", "GETDEL nope",
    "GETEX nope", "COPY nope x", "SET k v", "GET k", "HGET k f", "SDIFFSTORE d nope", "SINTERCARD 1 nope", "ZINTERCARD 1 nope",
  ] },
  { name: "a read that expires a key reports expired then keymiss", flags: "AKEm", steps: ["SET a v PX 20", { sleep: 60 }, "GET a"] },
]);

// CONFIG GET shows notify-keyspace-events in Redis's canonical spelling; compared for a range of
// inputs, valid and not.
const SPELLINGS = [
  "KEA", "AKE", "Eg$", "Kl", "Ex", "AKEm", "En", "EA", "A", "K", "E", "m", "", "Ag", "gA", "g$lshzxetd", "g$lshzxetdKE",
  "EKzhslx$g", "d", "n", "An", "AKEmn", "tE", "eK", "KKEE", "mmm", "xA",
];
const BAD_SPELLINGS = ["Q", "KEa", "K E", "KE1", "kea", "M"];
// Redis reads the value as a C string, so a NUL byte ends it.
const NUL_SPELLINGS = ["\x00", "K\x00E", "E\x00Q"];

/** CONFIG SET then CONFIG GET of each value, as one line of exact replies per value. */
async function spellings(port: number, values: string[]): Promise<string[]> {
  const c = await RawClient.connect(port);
  const out: string[] = [];
  try {
    await c.raw("CONFIG", "SET", "notify-keyspace-events", "KEA"); // so that a refused value shows as KEA
    for (const s of values) {
      out.push(`${JSON.stringify(s)} -> ${await c.raw("CONFIG", "SET", "notify-keyspace-events", s)} ${await c.raw("CONFIG", "GET", "notify-keyspace-events")}`);
    }
  } finally {
    await c.raw("CONFIG", "SET", "notify-keyspace-events", "");
    c.close();
  }
  return out;
}

if (REDIS_BIN) {
  describe("CONFIG SET / GET notify-keyspace-events", () => {
    test("CONFIG GET shows Redis's canonical spelling of every valid input", async () => {
      const [want, got] = await Promise.all([spellings(reference.port, SPELLINGS), spellings(redbunPort, SPELLINGS)]);
      expect(got).toEqual(want);
    });

    test("an unknown class character is refused with Redis's error, which lists n too", async () => {
      const [want, got] = await Promise.all([spellings(reference.port, BAD_SPELLINGS), spellings(redbunPort, BAD_SPELLINGS)]);
      expect(got).toEqual(want);
    });

    test("a NUL byte ends the value", async () => {
      const [want, got] = await Promise.all([spellings(reference.port, NUL_SPELLINGS), spellings(redbunPort, NUL_SPELLINGS)]);
      expect(got).toEqual(want);
    });
  });
}
