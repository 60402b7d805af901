// main.ts, Scripting: what a single connection cannot show, or what the differential corpus
// (differential-scripting.test.ts) cannot compare: the VM's first start, atomicity and frozen time,
// other clients, MONITOR, ACL, INFO and commandstats, client libraries. Expected replies are Redis
// 7.0.15's, checked by hand against a real redis-server.
import { describe, test, expect } from "bun:test";
import IORedis from "ioredis";
import { connect, sharedServer, spawnServer, pipeline } from "./helpers.ts";
import { RawClient, ReplyError } from "./client.ts";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { startRedbun, startRedis, tempDir, noRedis, waitFor } from "./persistence-harness.ts";

/** A script's SHA1, as errors name it. */
const sha1 = (body: string): string => new Bun.CryptoHasher("sha1").update(body, "latin1").digest("hex");

/** INFO section as a map. */
async function info(c: RawClient, section: string): Promise<Record<string, string>> {
  const text = (await c.cmd("INFO", section)) as string;
  return Object.fromEntries(text.split("\r\n").filter((l) => l.includes(":")).map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1)]));
}

describe("EVAL", () => {
  test("the first script of a fresh server waits for the VM to start, and the commands pipelined after it keep their order", async () => {
    const s = await spawnServer(["--save", ""]);
    try {
      const c = await RawClient.connect(s.port);
      const replies = await pipeline(c, [["SET", "k", "1"], ["EVAL", "return redis.call('INCR', 'k')", 0], ["INCR", "k"], ["GET", "k"]]);
      expect(replies).toEqual(["+OK\r\n", ":2\r\n", ":3\r\n", "$1\r\n3\r\n"]);
      c.close();
    } finally {
      await s.stop();
    }
  });

  test("inside MULTI on a fresh server, EXEC waits for the VM too", async () => {
    const s = await spawnServer(["--save", ""]);
    try {
      const c = await RawClient.connect(s.port);
      const replies = await pipeline(c, [["MULTI"], ["EVAL", "return 7", 0], ["PING"], ["EXEC"]]);
      expect(replies).toEqual(["+OK\r\n", "+QUEUED\r\n", "+QUEUED\r\n", "*2\r\n:7\r\n+PONG\r\n"]);
      c.close();
    } finally {
      await s.stop();
    }
  });

  test("time is frozen for the whole script: a key does not expire while it runs", async () => {
    const c = await connect();
    const body = "redis.call('SET', 'k', 'v', 'PX', 5); local t = redis.call('TIME'); " +
      "repeat local n = redis.call('TIME') until (n[1] - t[1]) * 1000000 + (n[2] - t[2]) > 20000; return redis.call('GET', 'k')";
    expect(await c.cmd("EVAL", body, 0)).toBe("v");
    expect(await c.cmd("GET", "k")).toBe(null);
    c.close();
  });

  test("a script is atomic: another client's command waits until it ends", async () => {
    const c = await connect();
    const other = await RawClient.connect((await sharedServer()).port);
    c.send("EVAL", "redis.call('SET', 'x', 1); local t = redis.call('TIME'); repeat local n = redis.call('TIME') until n[1] * 1000000 + n[2] - t[1] * 1000000 - t[2] > 30000; redis.call('SET', 'x', 2); return 1", 0);
    await Bun.sleep(5);
    other.send("GET", "x");
    expect(await c.read()).toBe(1);
    expect(await other.read()).toBe("2");
    c.close();
    other.close();
  });

  test("a blocking command in a script answers at once; BLPOP is refused and XREAD's BLOCK is an error, as in Redis 7.0", async () => {
    const c = await connect();
    expect(await c.raw("EVAL", "return redis.call('BLMPOP', 0, 1, 'none', 'LEFT')", 0)).toBe("$-1\r\n");
    const blpop = "return redis.call('BLPOP', 'none', 0)", xread = "return redis.call('XREAD', 'BLOCK', 0, 'STREAMS', 's', '$')";
    expect(await c.cmd("EVAL", blpop, 0)).toEqual(new ReplyError(`ERR This Redis command is not allowed from script script: ${sha1(blpop)}, on @user_script:1.`));
    expect(await c.cmd("EVAL", xread, 0)).toEqual(new ReplyError(`ERR XREAD command is not allowed with BLOCK option from scripts script: ${sha1(xread)}, on @user_script:1.`));
    c.close();
  });

  test("a script's writes touch WATCHed keys and wake clients blocked on them", async () => {
    const c = await connect();
    const b = await RawClient.connect((await sharedServer()).port);
    expect(await c.cmd("WATCH", "w")).toBe("OK");
    await b.cmd("EVAL", "return redis.call('SET', 'w', 1)", 0);
    expect(await c.cmd("MULTI")).toBe("OK");
    expect(await c.cmd("PING")).toBe("QUEUED");
    expect(await c.raw("EXEC")).toBe("*-1\r\n");
    b.send("BLPOP", "bl", 0);
    await Bun.sleep(20);
    expect(await c.cmd("EVAL", "return redis.call('RPUSH', 'bl', 'a', 'b')", 0)).toBe(2);
    expect(await b.read()).toEqual(["bl", "a"]);
    c.close();
    b.close();
  });

  test("an error table without a message does not take the server down (redis-server 7.0.15 crashes on it)", async () => {
    const c = await connect();
    const reply = await c.raw("EVAL", "error({})", 0);
    expect(reply.startsWith("-")).toBe(true);
    expect(await c.cmd("PING")).toBe("PONG");
    c.close();
  });

  test("deep tables, big strings and many values cross both ways", async () => {
    const c = await connect();
    const big = "x".repeat(1 << 20);
    expect(await c.cmd("EVAL", "redis.call('SET', 'big', ARGV[1]); return redis.call('GET', 'big')", 0, big)).toBe(big);
    const deep = (await c.cmd("EVAL", "local t = {} local cur = t for i = 1, 100 do cur[1] = {} cur = cur[1] end return t", 0)) as unknown[];
    let depth = 0;
    for (let x: unknown = deep; Array.isArray(x) && x.length; x = x[0]) depth++;
    expect(depth).toBe(100);
    const n = (await c.cmd("EVAL", "for i = 1, 10000 do redis.call('RPUSH', 'l', i) end return #redis.call('LRANGE', 'l', 0, -1)", 0)) as number;
    expect(n).toBe(10000);
    expect(await c.cmd("EVAL", "return ARGV[1]", 0, "\0\x01\xff")).toBe("\0\x01\xff");
    c.close();
  });
});

describe("EVALSHA", () => {
  test("runs a script by its SHA1 (any case) until SCRIPT FLUSH forgets it", async () => {
    const c = await connect();
    const sha = (await c.cmd("SCRIPT", "LOAD", "return ARGV[1] .. '!'")) as string;
    expect(sha).toBe(sha1("return ARGV[1] .. '!'"));
    expect(await c.cmd("EVALSHA", sha, 0, "hi")).toBe("hi!");
    expect(await c.cmd("EVALSHA", sha.toUpperCase(), 0, "yo")).toBe("yo!");
    expect(await c.cmd("SCRIPT", "FLUSH")).toBe("OK");
    expect(await c.cmd("EVALSHA", sha, 0, "hi")).toEqual(new ReplyError("NOSCRIPT No matching script. Please use EVAL."));
    c.close();
  });
});

describe("EVAL_RO", () => {
  test("refuses writes and runs reads", async () => {
    const c = await connect();
    await c.cmd("SET", "k", "v");
    expect(await c.cmd("EVAL_RO", "return redis.call('GET', KEYS[1])", 1, "k")).toBe("v");
    const body = "return redis.call('DEL', KEYS[1])";
    expect(await c.cmd("EVAL_RO", body, 1, "k")).toEqual(
      new ReplyError(`ERR Write commands are not allowed from read-only scripts. script: ${sha1(body)}, on @user_script:1.`));
    expect(await c.cmd("GET", "k")).toBe("v");
    c.close();
  });
});

describe("SCRIPT", () => {
  test("INFO counts the cached scripts and their memory; SCRIPT FLUSH empties the cache", async () => {
    const c = await connect();
    await c.cmd("SCRIPT", "FLUSH");
    await c.cmd("SCRIPT", "LOAD", "return 1");
    await c.cmd("EVAL", "return 2", 0);
    const m = await info(c, "memory");
    expect(m.number_of_cached_scripts).toBe("2");
    expect(Number(m.used_memory_scripts_eval)).toBeGreaterThan(0);
    expect(Number(m.used_memory_vm_eval)).toBeGreaterThan(10000);
    await c.cmd("SCRIPT", "FLUSH", "ASYNC");
    expect((await info(c, "memory")).number_of_cached_scripts).toBe("0");
    c.close();
  });

  test("SCRIPT DEBUG NO is accepted; YES and SYNC answer Redis's error: there is no debugger", async () => {
    const c = await connect();
    expect(await c.cmd("SCRIPT", "DEBUG", "NO")).toBe("OK");
    expect(await c.cmd("SCRIPT", "DEBUG", "YES")).toEqual(new ReplyError("ERR Use SCRIPT DEBUG YES/SYNC/NO"));
    c.close();
  });

  test("SCRIPT KILL finds no script running", async () => {
    const c = await connect();
    expect(await c.cmd("SCRIPT", "KILL")).toEqual(new ReplyError("NOTBUSY No scripts in execution right now."));
    c.close();
  });
});

describe("a long script (past busy-reply-threshold)", () => {
  /** A server whose scripts count as busy after 50 ms, and a client started on an endless script. */
  async function busyServer(body: string) {
    const s = await spawnServer(["--save", "", "--busy-reply-threshold", "50"]);
    const runner = await RawClient.connect(s.port), other = await RawClient.connect(s.port);
    expect(await other.cmd("EVAL", "return 1", 0)).toBe(1); // the VM is up before the clock starts
    runner.send("EVAL", body, 0);
    runner.send("PING"); // pipelined behind the script: answered after it, in order
    await Bun.sleep(200);
    return { s, runner, other };
  }
  const busy = new ReplyError("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.");

  test("other clients get BUSY, even for PING, until SCRIPT KILL ends it with Redis's error; then the script's client gets its pipelined reply", async () => {
    const { s, runner, other } = await busyServer("while true do end");
    try {
      expect(await other.cmd("PING")).toEqual(busy);
      expect(await other.cmd("GET", "k")).toEqual(busy);
      expect(await other.cmd("SCRIPT", "KILL")).toBe("OK");
      expect(await runner.read()).toEqual(new ReplyError(`ERR Script killed by user with SCRIPT KILL... script: ${sha1("while true do end")}, on @user_script:1.`));
      expect(await runner.read()).toBe("PONG");
      expect(await other.cmd("PING")).toBe("PONG");
      expect(await other.cmd("SCRIPT", "KILL")).toEqual(new ReplyError("NOTBUSY No scripts in execution right now."));
    } finally {
      runner.close(); other.close();
      await s.stop();
    }
  });

  test("pcall cannot catch SCRIPT KILL: the script stops at its next line", async () => {
    const body = "local f = function() while 1 do redis.call('PING') end end; while 1 do pcall(f) end";
    const { s, runner, other } = await busyServer(body);
    try {
      expect(await other.cmd("SCRIPT", "KILL")).toBe("OK");
      expect(String(await runner.read())).toContain("Script killed by user with SCRIPT KILL...");
      expect(await runner.read()).toBe("PONG");
    } finally {
      runner.close(); other.close();
      await s.stop();
    }
  });

  test("a script that wrote cannot be killed; SHUTDOWN NOSAVE stops the server, SHUTDOWN alone is BUSY", async () => {
    const { s, runner, other } = await busyServer("redis.call('SET', 'k', 'v'); while true do end");
    try {
      expect(await other.cmd("SCRIPT", "KILL")).toEqual(new ReplyError("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."));
      expect(await other.cmd("SHUTDOWN")).toEqual(busy);
      other.send("SHUTDOWN", "NOSAVE");
      expect(await s.proc.exited).toBe(0);
    } finally {
      runner.close(); other.close();
      await s.stop();
    }
  });

  test("a busy script that ends by itself replies as usual, and the log says it was slow", async () => {
    // Mostly plain Lua, so the time-limit hook (every 100,000 instructions) runs often.
    const body = "local t = redis.call('TIME'); repeat for i = 1, 20000 do end; local n = redis.call('TIME') until (n[1] - t[1]) * 1000000 + (n[2] - t[2]) > 400000; return 'done'";
    const { s, runner, other } = await busyServer(body);
    try {
      expect(await other.cmd("PING")).toEqual(busy);
      expect(await other.cmd("INFO", "server")).toEqual(busy); // as in Redis: only a few commands are allow-busy
      expect(await runner.read()).toBe("done");
      expect(await runner.read()).toBe("PONG");
      expect(await other.cmd("PING")).toBe("PONG");
      expect(s.stdout()).toContain("Slow script detected");
    } finally {
      runner.close(); other.close();
      await s.stop();
    }
  });
});

/** A library of two functions: one writes, one (no-writes) reads. */
const LIBRARY = "#!lua name=kv\n" +
  "redis.register_function('kv_set', function(keys, args) return redis.call('SET', keys[1], args[1]) end)\n" +
  "redis.register_function{function_name='kv_get', callback=function(keys) return redis.call('GET', keys[1]) end, flags={'no-writes'}}";

describe("FUNCTION LOAD and FCALL across restarts and servers", () => {
  test.skipIf(noRedis)("libraries survive SAVE and a restart, and dump.rdb files move between Redbun and redis-server both ways", async () => {
    const dir = tempDir("fn-rdb");
    let s = await startRedbun(dir);
    expect(await s.c.cmd("FUNCTION", "LOAD", LIBRARY)).toBe("kv");
    expect(await s.c.cmd("FCALL", "kv_set", "1", "k", "v")).toBe("OK");
    expect(await s.c.cmd("SAVE")).toBe("OK");
    await s.stop();
    // A fresh Redbun reads the library before its VM has started: FCALL waits for it.
    s = await startRedbun(dir);
    expect(await s.c.cmd("FCALL_RO", "kv_get", "1", "k")).toBe("v");
    await s.stop();
    const r = await startRedis(dir);
    expect(await r.c.cmd("FCALL_RO", "kv_get", "1", "k")).toBe("v");
    expect(await r.c.cmd("FUNCTION", "LOAD", "#!lua name=fromredis\nredis.register_function('hello', function() return 'hi' end)")).toBe("fromredis");
    expect(await r.c.cmd("SAVE")).toBe("OK");
    await r.stop();
    s = await startRedbun(dir);
    expect(await s.c.cmd("FCALL", "hello", "0")).toBe("hi");
    expect(await s.c.cmd("FCALL_RO", "kv_get", "1", "k")).toBe("v");
    await s.stop();
  });

  test.skipIf(noRedis)("the AOF logs FUNCTION LOAD and DELETE, replays them at start, and a rewrite (RDB preamble or commands) keeps the libraries", async () => {
    const dir = tempDir("fn-aof");
    let s = await startRedbun(dir, { appendonly: "yes" });
    await s.c.cmd("FUNCTION", "LOAD", LIBRARY);
    await s.c.cmd("FUNCTION", "LOAD", "#!lua name=gone\nredis.register_function('gone', function() return 1 end)");
    await s.c.cmd("FUNCTION", "DELETE", "gone");
    await s.c.cmd("FCALL", "kv_set", "1", "k", "v");
    await s.stop();
    for (const preamble of ["yes", "no"]) {
      s = await startRedbun(dir, { appendonly: "yes", "aof-use-rdb-preamble": preamble });
      expect(await s.c.cmd("FCALL_RO", "kv_get", "1", "k")).toBe("v");
      expect(await s.c.cmd("FCALL", "gone", "0")).toEqual(new ReplyError("ERR Function not found"));
      expect(await s.c.cmd("BGREWRITEAOF")).toBe("Background append only file rewriting started");
      await waitFor("the rewrite", async () => String(await s.c.cmd("INFO", "persistence")).includes("aof_rewrite_in_progress:0"));
      await s.stop();
    }
    const r = await startRedis(dir, { appendonly: "yes" });
    expect(await r.c.cmd("FCALL_RO", "kv_get", "1", "k")).toBe("v");
    await r.stop();
  });

  test.skipIf(noRedis)("FUNCTION DUMP payloads restore in the other server, with FLUSH, APPEND and REPLACE as Redis has them", async () => {
    const s = await startRedbun(tempDir("fn-dump")), r = await startRedis(tempDir("fn-dump-r"));
    try {
      await r.c.cmd("FUNCTION", "LOAD", LIBRARY);
      const fromRedis = await r.c.cmd("FUNCTION", "DUMP");
      expect(await s.c.cmd("FUNCTION", "RESTORE", fromRedis as string)).toBe("OK");
      expect(await s.c.cmd("FUNCTION", "RESTORE", fromRedis as string)).toEqual(new ReplyError("ERR Library kv already exists"));
      expect(await s.c.cmd("FUNCTION", "RESTORE", fromRedis as string, "REPLACE")).toBe("OK");
      expect(await s.c.cmd("FUNCTION", "DELETE", "kv")).toBe("OK");
      expect(await s.c.cmd("FUNCTION", "LOAD", "#!lua name=other\nredis.register_function('kv_set', function() return 0 end)")).toBe("other");
      // kv_set now belongs to "other": restoring kv collides on a function, and changes nothing.
      expect(await s.c.cmd("FUNCTION", "RESTORE", fromRedis as string)).toEqual(new ReplyError("ERR Function kv_set already exists"));
      expect(await s.c.cmd("FCALL", "kv_set", "0")).toBe(0);
      expect(await s.c.cmd("FUNCTION", "RESTORE", fromRedis as string, "FLUSH")).toBe("OK");
      expect(await s.c.cmd("FCALL", "kv_set", "1", "k", "v")).toBe("OK");
      const fromRedbun = await s.c.cmd("FUNCTION", "DUMP");
      await r.c.cmd("FUNCTION", "FLUSH");
      expect(await r.c.cmd("FUNCTION", "RESTORE", fromRedbun as string)).toBe("OK");
      expect(await r.c.cmd("FCALL_RO", "kv_get", "1", "k")).toBe(null);
    } finally {
      await s.stop();
      await r.stop();
    }
  });

  test.skipIf(noRedis)("a redis-server replica gets the libraries in the full sync and FUNCTION LOAD, DELETE and FLUSH after it", async () => {
    const s = await startRedbun(tempDir("fn-repl"), { "repl-diskless-sync-delay": 0 });
    await s.c.cmd("FUNCTION", "LOAD", LIBRARY);
    const r = await startRedis(tempDir("fn-repl-r"), { replicaof: `127.0.0.1 ${s.port}` });
    try {
      await waitFor("the sync", async () => String(await r.c.cmd("INFO", "replication")).includes("master_link_status:up"));
      await s.c.cmd("FUNCTION", "LOAD", "#!lua name=late\nredis.register_function{function_name='late', callback=function() return 'late' end, flags={'no-writes'}}");
      await s.c.cmd("FCALL", "kv_set", "1", "k", "v");
      await waitFor("the write", async () => (await r.c.cmd("GET", "k")) === "v");
      expect(await r.c.cmd("FCALL_RO", "kv_get", "1", "k")).toBe("v");
      expect(await r.c.cmd("FCALL", "late", "0")).toBe("late");
      await s.c.cmd("FUNCTION", "DELETE", "late");
      await waitFor("the delete", async () => (await r.c.cmd("FCALL", "late", "0")) instanceof ReplyError);
      await s.c.cmd("FUNCTION", "FLUSH");
      await waitFor("the flush", async () => ((await r.c.cmd("FUNCTION", "LIST")) as unknown[]).length === 0);
    } finally {
      await r.stop();
      await s.stop();
    }
  });

  test("a function past busy-reply-threshold: FUNCTION STATS shows it, SCRIPT KILL refuses it, FUNCTION KILL ends it", async () => {
    const s = await spawnServer(["--save", "", "--busy-reply-threshold", "50"]);
    const runner = await RawClient.connect(s.port), other = await RawClient.connect(s.port);
    try {
      expect(await other.cmd("FUNCTION", "LOAD", "#!lua name=spin\nredis.register_function('spin', function() while true do end end)")).toBe("spin");
      runner.send("FCALL", "spin", "0");
      await Bun.sleep(200);
      const busy = new ReplyError("BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.");
      expect(await other.cmd("PING")).toEqual(busy);
      expect(await other.cmd("SCRIPT", "KILL")).toEqual(busy);
      const stats = (await other.cmd("FUNCTION", "STATS")) as unknown[];
      expect(stats[0]).toBe("running_script");
      expect((stats[1] as unknown[]).slice(0, 4)).toEqual(["name", "spin", "command", ["FCALL", "spin", "0"]]);
      expect(await other.cmd("FUNCTION", "KILL")).toBe("OK");
      expect(await runner.read()).toEqual(new ReplyError("ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2."));
      expect(await other.cmd("PING")).toBe("PONG");
    } finally {
      runner.close(); other.close();
      await s.stop();
    }
  });

  test("a library whose code runs past 500 ms fails to load, and the server goes on", async () => {
    const c = await connect();
    expect(await c.cmd("FUNCTION", "LOAD", "#!lua name=slow\nlocal a = 1 while 1 do a = a + 1 end")).toEqual(new ReplyError("ERR Error registering functions: ERR FUNCTION LOAD timeout"));
    expect(await c.cmd("EVAL", "local n = 0; for i = 1, 1000 do n = n + i end; return n", 0)).toBe(500500);
    c.close();
  });
});

describe("scripts and the rest of the server", () => {
  test("MONITOR shows EVAL, then the commands it ran, from the lua client", async () => {
    const c = await connect();
    const m = await RawClient.connect((await sharedServer()).port);
    expect(await m.cmd("MONITOR")).toBe("OK");
    await c.cmd("EVAL", "return redis.call('SET', KEYS[1], 'v')", 1, "mk");
    const first = (await m.read()) as string, second = (await m.read()) as string;
    expect(first).toMatch(/^\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "EVAL" "return redis\.call\('SET', KEYS\[1\], 'v'\)" "1" "mk"$/);
    expect(second).toMatch(/^\d+\.\d{6} \[0 lua\] "SET" "mk" "v"$/);
    m.close();
    c.close();
  });

  test("ACL: redis.call checks the caller's permissions on commands and keys, and logs the denial", async () => {
    const admin = await connect();
    await admin.cmd("ACL", "SETUSER", "scripter", "on", ">pw", "~allowed*", "+@all", "-flushall");
    const c = await RawClient.connect((await sharedServer()).port);
    expect(await c.cmd("AUTH", "scripter", "pw")).toBe("OK");
    expect(await c.cmd("EVAL", "return redis.call('SET', 'allowed1', 1)", 0)).toBe("OK");
    const body1 = "return redis.call('SET', 'other', 1)", body2 = "return redis.call('FLUSHALL')";
    expect(await c.cmd("EVAL", body1, 0)).toEqual(new ReplyError(`ERR The user executing the script can't access at least one of the keys mentioned in the command arguments script: ${sha1(body1)}, on @user_script:1.`));
    expect(await c.cmd("EVAL", body2, 0)).toEqual(new ReplyError(`ERR The user executing the script can't run this command or subcommand script: ${sha1(body2)}, on @user_script:1.`));
    expect(await c.cmd("EVAL", "return redis.acl_check_cmd('SET', 'other', 1)", 0)).toBe(null);
    expect(await c.cmd("EVAL", "return redis.acl_check_cmd('SET', 'allowed2', 1)", 0)).toBe(1);
    const log = (await admin.cmd("ACL", "LOG", 1)) as unknown[][];
    expect(log[0]).toContain("lua");
    await admin.cmd("ACL", "DELUSER", "scripter");
    c.close();
    admin.close();
  });

  test("commandstats count the script and the commands it ran; errorstats count an error once", async () => {
    const c = await connect();
    await c.cmd("CONFIG", "RESETSTAT");
    await c.cmd("SET", "s", "x");
    await c.cmd("EVAL", "redis.call('GET', 's'); return redis.call('GET', 's')", 0);
    await c.cmd("EVAL", "return redis.call('INCR', 's')", 0);
    await c.cmd("EVAL", "return redis.pcall('INCR', 's')", 0);
    const stats = await info(c, "commandstats");
    expect(stats.cmdstat_get).toMatch(/^calls=2,/);
    expect(stats.cmdstat_eval).toMatch(/^calls=3,.*,rejected_calls=0,failed_calls=2$/);
    expect(stats.cmdstat_incr).toMatch(/rejected_calls=0,failed_calls=2$/);
    const errs = await info(c, "errorstats");
    expect(errs.errorstat_ERR).toBe("count=2");
    c.close();
  });

  test("CLIENT PAUSE WRITE holds a script that declares writes, not one flagged no-writes", async () => {
    const c = await connect();
    const w = await RawClient.connect((await sharedServer()).port);
    await c.cmd("SET", "k", "v");
    expect(await c.cmd("CLIENT", "PAUSE", 100000, "WRITE")).toBe("OK");
    expect(await c.cmd("EVAL", "#!lua flags=no-writes\nreturn redis.call('GET', 'k')", 0)).toBe("v");
    w.send("EVAL", "#!lua\nreturn redis.call('SET', 'k', 'w')", 0);
    await Bun.sleep(50);
    expect(await c.cmd("GET", "k")).toBe("v");
    expect(await c.cmd("CLIENT", "UNPAUSE")).toBe("OK");
    expect(await w.read()).toBe("OK");
    expect(await c.cmd("GET", "k")).toBe("w");
    w.close();
    c.close();
  });

  test("maxmemory: a script flagged allow-oom or no-writes runs over the limit; one with a shebang and no flags is refused; an old-style script fails at its first write", async () => {
    const c = await connect();
    await c.cmd("SET", "k", "v");
    await c.cmd("CONFIG", "SET", "maxmemory", 1);
    try {
      // Refused before it runs, as any command that may grow memory.
      expect(await c.cmd("EVAL", "#!lua\nreturn 1", 0)).toEqual(new ReplyError("OOM command not allowed when used memory > 'maxmemory'."));
      expect(await c.cmd("EVAL", "#!lua flags=no-writes\nreturn redis.call('GET', 'k')", 0)).toBe("v");
      expect(await c.cmd("EVAL", "#!lua flags=allow-oom\nreturn redis.call('SET', 'k', 'w')", 0)).toBe("OK");
      const body = "return redis.call('SET', 'k', 'x')";
      expect(await c.cmd("EVAL", body, 0)).toEqual(new ReplyError(`OOM command not allowed when used memory > 'maxmemory'. script: ${sha1(body)}, on @user_script:1.`));
    } finally {
      await c.cmd("CONFIG", "SET", "maxmemory", 0);
    }
    c.close();
  });
});

describe("client libraries", () => {
  test("ioredis defineCommand runs through EVALSHA, falling back to EVAL once", async () => {
    const port = (await sharedServer()).port;
    const r = new IORedis({ port, lazyConnect: true });
    await r.connect();
    await r.script("FLUSH");
    r.defineCommand("incrTwice", { numberOfKeys: 1, lua: "redis.call('INCR', KEYS[1]); return redis.call('INCR', KEYS[1])" });
    const rr = r as unknown as { incrTwice(k: string): Promise<number> };
    expect(await rr.incrTwice("lib:ctr")).toBe(2);
    expect(await rr.incrTwice("lib:ctr")).toBe(4);
    await r.del("lib:ctr");
    r.disconnect();
  });
});
