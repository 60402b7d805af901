// main.ts, Server: real clients against Redbun, with their default options: each one's connect sequence (see
// /work/shared/CLIENTS.md) must succeed, then it runs the string commands applications use most.
// The redis-cli and redis-benchmark tests need those binaries: they are skipped when missing,
// unless REQUIRE_REDIS=1 makes that a failure.
import { describe, test, expect, beforeAll } from "bun:test";
import { RedisClient } from "bun";
import IORedis from "ioredis";
import { createClient } from "redis";
import { connect, sharedServer, spawnServer } from "./helpers.ts";
import { RawClient } from "./client.ts";

const REDIS_CLI = Bun.which("redis-cli");
const REDIS_BENCHMARK = Bun.which("redis-benchmark");
const requireRedis = process.env.REQUIRE_REDIS === "1";

let port = 0;
beforeAll(async () => { port = (await sharedServer()).port; });

/** Runs a command to its end, feeding it stdin. Asynchronous on purpose: the server under test
 *  lives in this process, so a blocking spawnSync would stop it from answering. */
async function run(argv: string[], stdin = ""): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(argv, { stdin: new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 20000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

describe("Bun RedisClient", () => {
  test("connects with HELLO 3 and runs SET, GET, INCR, DEL, EXPIRE, TTL and MGET", async () => {
    await connect(); // empty dataset
    const client = new RedisClient(`redis://127.0.0.1:${port}`);
    try {
      await client.connect();
      expect(await client.set("greeting", "hello")).toBe("OK");
      expect(await client.get("greeting")).toBe("hello");
      expect(await client.get("missing")).toBeNull();
      expect(await client.incr("counter")).toBe(1);
      expect(await client.incr("counter")).toBe(2);
      expect(await client.expire("greeting", 100)).toBe(1);
      expect(await client.ttl("greeting")).toBe(100);
      expect(await client.ttl("counter")).toBe(-1);
      expect(await client.mget("greeting", "missing", "counter")).toEqual(["hello", null, "2"]);
      expect(await client.del("greeting", "counter", "missing")).toBe(2);
      expect(await client.send("EXISTS", ["greeting"])).toBe(0);
    } finally {
      client.close();
    }
  });

  test("sees RESP3 types: a null for a missing key and a map for CONFIG GET", async () => {
    const client = new RedisClient(`redis://127.0.0.1:${port}`);
    try {
      expect(await client.send("GET", ["missing"])).toBeNull();
      expect(await client.send("CONFIG", ["GET", "maxmemory"])).toEqual({ maxmemory: "0" });
    } finally {
      client.close();
    }
  });
});

describe("ioredis", () => {
  test("connects with default options and runs SET, GET, INCR, DEL, EXPIRE, TTL and MGET", async () => {
    await connect();
    const client = new IORedis(port, "127.0.0.1", { lazyConnect: false, maxRetriesPerRequest: 1 });
    try {
      expect(await client.set("greeting", "hello")).toBe("OK");
      expect(await client.get("greeting")).toBe("hello");
      expect(await client.get("missing")).toBeNull();
      expect(await client.incr("counter")).toBe(1);
      expect(await client.incr("counter")).toBe(2);
      expect(await client.expire("greeting", 100)).toBe(1);
      expect(await client.ttl("greeting")).toBe(100);
      expect(await client.mget("greeting", "missing", "counter")).toEqual(["hello", null, "2"]);
      expect(await client.del("greeting", "counter", "missing")).toBe(2);
      expect(client.status).toBe("ready");
    } finally {
      await client.quit();
    }
  });

  test("gets INFO as text it can split on CRLF, as its ready check does", async () => {
    const client = new IORedis(port, "127.0.0.1", { maxRetriesPerRequest: 1 });
    try {
      const info = await client.info();
      expect(typeof info).toBe("string");
      const lines = info.split("\r\n");
      expect(lines).toContain("redis_version:7.0.15");
      expect(lines).toContain("loading:0");
    } finally {
      await client.quit();
    }
  });
});

describe("node-redis", () => {
  test("connects with default options and runs SET, GET, INCR, DEL, EXPIRE, TTL and MGET", async () => {
    await connect();
    const client = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false } });
    const errors: unknown[] = [];
    client.on("error", (e) => errors.push(e));
    try {
      await client.connect();
      expect(await client.set("greeting", "hello")).toBe("OK");
      expect(await client.get("greeting")).toBe("hello");
      expect(await client.get("missing")).toBeNull();
      expect(await client.incr("counter")).toBe(1);
      expect(await client.incr("counter")).toBe(2);
      expect(await client.expire("greeting", 100)).toBe(1);
      expect(await client.ttl("greeting")).toBe(100);
      expect(await client.mGet(["greeting", "missing", "counter"])).toEqual(["hello", null, "2"]);
      expect(await client.del(["greeting", "counter", "missing"])).toBe(2);
      expect(errors).toEqual([]);
    } finally {
      client.destroy();
    }
  });
});

describe("redis-cli", () => {
  const skip = !REDIS_CLI && !requireRedis;

  test.skipIf(skip)("runs one-shot SET and GET", async () => {
    expect(REDIS_CLI).not.toBeNull();
    await connect();
    expect(await run([REDIS_CLI!, "-p", String(port), "set", "k", "v"])).toEqual({ code: 0, stdout: "OK\n", stderr: "" });
    expect(await run([REDIS_CLI!, "-p", String(port), "get", "k"])).toEqual({ code: 0, stdout: "v\n", stderr: "" });
    expect(await run([REDIS_CLI!, "-p", String(port), "get", "missing"])).toEqual({ code: 0, stdout: "\n", stderr: "" });
  });

  test.skipIf(skip)("-3 speaks RESP3: HELLO's map and CONFIG GET's map print as pairs", async () => {
    expect(REDIS_CLI).not.toBeNull();
    const hello = await run([REDIS_CLI!, "-3", "-p", String(port), "hello", "3"]);
    expect(hello.code).toBe(0);
    expect(hello.stdout).toMatch(/^server redis\nversion 7\.0\.15\nproto 3\nid \d+\nmode standalone\nrole master\nmodules \n$/);
    expect(await run([REDIS_CLI!, "-3", "-p", String(port), "config", "get", "hz"])).toEqual({ code: 0, stdout: "hz 10\n", stderr: "" });
  });

  test.skipIf(skip)("--pipe sends piped commands and reports no errors and every reply", async () => {
    expect(REDIS_CLI).not.toBeNull();
    await connect();
    const r = await run([REDIS_CLI!, "-p", String(port), "--pipe"], "SET a 1\r\nSET b 2\r\nINCR a\r\nGET a\r\n");
    expect(r).toEqual({
      code: 0,
      stdout: "All data transferred. Waiting for the last reply...\nLast reply received from server.\nerrors: 0, replies: 4\n",
      stderr: "",
    });
    expect(await run([REDIS_CLI!, "-p", String(port), "mget", "a", "b"])).toEqual({ code: 0, stdout: "2\n2\n", stderr: "" });
  });

  test.skipIf(skip)("--pipe counts error replies and prints them", async () => {
    expect(REDIS_CLI).not.toBeNull();
    const r = await run([REDIS_CLI!, "-p", String(port), "--pipe"], "SET a 1\r\nINCR\r\nNOSUCH\r\n");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("All data transferred. Waiting for the last reply...\nLast reply received from server.\nerrors: 2, replies: 3\n");
    expect(r.stderr).toBe("ERR wrong number of arguments for 'incr' command\nERR unknown command 'NOSUCH', with args beginning with: \n");
  });
});

describe("redis-benchmark", () => {
  test.skipIf(!REDIS_BENCHMARK && !requireRedis)("a short run of SET, GET, INCR and MSET completes without errors", async () => {
    expect(REDIS_BENCHMARK).not.toBeNull();
    const r = await run([REDIS_BENCHMARK!, "-p", String(port), "-t", "set,get,incr,mset", "-n", "2000", "-q"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).not.toMatch(/error/i);
    const results = r.stdout.split(/[\r\n]/).map((l) => l.trim()).filter((l) => l.includes("requests per second"));
    expect(results.map((l) => l.slice(0, l.indexOf(":")))).toEqual(["SET", "GET", "INCR", "MSET (10 keys)"]);
  });

  test.skipIf(!REDIS_BENCHMARK && !requireRedis)("a short run of the list, set, hash and sorted-set tests against a spawned server completes without errors", async () => {
    expect(REDIS_BENCHMARK).not.toBeNull();
    const srv = await spawnServer(["--save", "", "--appendonly", "no"]);
    try {
      const tests = "lpush,lpop,rpush,rpop,sadd,hset,spop,zadd,lrange_100,lrange_600";
      const r = await run([REDIS_BENCHMARK!, "-p", String(srv.port), "-t", tests, "-n", "2000", "-q"]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("");
      expect(r.stdout).not.toMatch(/error/i);
      const results = r.stdout.split(/[\r\n]/).map((l) => l.trim()).filter((l) => l.includes("requests per second"));
      expect(results.map((l) => l.slice(0, l.indexOf(":")))).toEqual([
        "LPUSH", "RPUSH", "LPOP", "RPOP", "SADD", "HSET", "SPOP", "ZADD",
        "LPUSH (needed to benchmark LRANGE)", "LRANGE_100 (first 100 elements)", "LRANGE_600 (first 600 elements)",
      ]);
      // What the run leaves behind, as on a real Redis: SPOP emptied (and deleted) the set.
      const c = await RawClient.connect(srv.port);
      expect(await c.raw("LLEN", "mylist")).toBe(":2000\r\n");
      expect(await c.raw("ZCARD", "myzset")).toBe(":1\r\n");
      expect(await c.raw("HLEN", "myhash")).toBe(":1\r\n");
      expect(await c.raw("EXISTS", "myset")).toBe(":0\r\n");
      c.close();
    } finally {
      await srv.stop();
    }
  }, 30000);
});
