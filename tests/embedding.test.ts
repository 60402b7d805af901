// main.ts, Event loop: startServer, servers inside a program (a project's tests). Every call
// starts an independent server (its own thread, keyspace, configuration, clients and files) with
// defaults for tests; server.time moves its clock (expiry, blocked timeouts, TIME, idle times);
// DEBUG TIME and DEBUG SEED do the same over RESP; `seed` makes random choices repeatable.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue, QueueEvents, Worker } from "bullmq";
import { startServer, type RedbunServer } from "../main.ts";
import { RawClient, ReplyError } from "./client.ts";

/** Runs fn with servers started by startServer, closing them whatever happens. */
async function withServers(options: Parameters<typeof startServer>[0][], fn: (...servers: RedbunServer[]) => Promise<void>): Promise<void> {
  const servers: RedbunServer[] = [];
  try {
    for (const o of options) servers.push(await startServer(o));
    await fn(...servers);
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
}

async function waitFor(what: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await Bun.sleep(10);
  }
}

describe("startServer", () => {
  test("with no options: a port of its own, no save points, no AOF, and a fresh directory that close() removes", async () => {
    const srv = await startServer();
    const c = await RawClient.connect(srv.port);
    expect(srv.port).toBeGreaterThan(0);
    expect(srv.url).toBe(`redis://127.0.0.1:${srv.port}`);
    expect(await c.cmd("CONFIG", "GET", "save")).toEqual(["save", ""]);
    expect(await c.cmd("CONFIG", "GET", "appendonly")).toEqual(["appendonly", "no"]);
    const dir = ((await c.cmd("CONFIG", "GET", "dir")) as string[])[1];
    expect(dir).not.toBe(process.cwd());
    expect(readdirSync(dir)).toEqual([]);
    // Its files go there, not to the current directory.
    expect(await c.cmd("SET", "k", "v")).toBe("OK");
    expect(await c.cmd("SAVE")).toBe("OK");
    expect(readdirSync(dir)).toEqual(["dump.rdb"]);
    c.close();
    await srv.close();
    expect(existsSync(dir)).toBe(false);
    // The port is closed.
    await expect(RawClient.connect(srv.port)).rejects.toThrow();
  });

  test("a dump.rdb in the current directory is not read; with a dir given, that directory's is, and stays after close()", async () => {
    const dir = mkdtempSync(join(tmpdir(), "redbun-embed-"));
    try {
      await withServers([{ dir }], async (a) => {
        const c = await RawClient.connect(a.port);
        await c.cmd("SET", "kept", "1");
        await c.cmd("SAVE");
        c.close();
      });
      expect(existsSync(join(dir, "dump.rdb"))).toBe(true);
      await withServers([{ dir }, {}], async (withDir, fresh) => {
        const c1 = await RawClient.connect(withDir.port), c2 = await RawClient.connect(fresh.port);
        expect(await c1.cmd("GET", "kept")).toBe("1");
        expect(await c2.cmd("DBSIZE")).toBe(0);
        c1.close(); c2.close();
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("takes any redis.conf parameter by its name, booleans as yes/no", async () => {
    await withServers([{ maxmemory: "1mb", "maxmemory-policy": "allkeys-lru", "notify-keyspace-events": "KEA", "lazyfree-lazy-eviction": true, databases: 4 }], async (srv) => {
      const c = await RawClient.connect(srv.port);
      expect(await c.cmd("CONFIG", "GET", "maxmemory")).toEqual(["maxmemory", "1048576"]);
      expect(await c.cmd("CONFIG", "GET", "maxmemory-policy")).toEqual(["maxmemory-policy", "allkeys-lru"]);
      expect(await c.cmd("CONFIG", "GET", "notify-keyspace-events")).toEqual(["notify-keyspace-events", "AKE"]);
      expect(await c.cmd("CONFIG", "GET", "lazyfree-lazy-eviction")).toEqual(["lazyfree-lazy-eviction", "yes"]);
      expect(await c.cmd("SELECT", "4")).toEqual(new ReplyError("ERR DB index is out of range"));
      c.close();
    });
  });

  test("a bad parameter or a port in use rejects with redis-server's reason, and leaves nothing behind", async () => {
    const ours = () => readdirSync(tmpdir()).filter((f) => f.startsWith(`redbun-${process.pid}-`)).sort();
    const before = ours();
    await expect(startServer({ "no-such-thing": "1" })).rejects.toThrow("Bad directive or wrong number of arguments");
    await expect(startServer({ maxmemory: "lots" })).rejects.toThrow("argument must be a memory value");
    expect(() => startServer({ seed: "abc" as unknown as number })).toThrow("seed must be an integer");
    await withServers([{}], async (a) => {
      await expect(startServer({ port: a.port })).rejects.toThrow(/Failed listening on port/);
    });
    expect(ours()).toEqual(before);
  });

  test("many servers in one process: a primary and two replicas, each with its own keyspace", async () => {
    await withServers([{}], async (primary) => {
      await withServers([{ replicaof: `127.0.0.1 ${primary.port}` }, { replicaof: `127.0.0.1 ${primary.port}` }], async (r1, r2) => {
        const p = await RawClient.connect(primary.port), c1 = await RawClient.connect(r1.port), c2 = await RawClient.connect(r2.port);
        expect(new Set([primary.port, r1.port, r2.port]).size).toBe(3);
        await waitFor(async () => String(await p.cmd("INFO", "replication")).includes("connected_slaves:2"));
        expect(await p.cmd("SET", "k", "v")).toBe("OK");
        expect(await p.cmd("WAIT", 2, 5000)).toBe(2);
        expect(await c1.cmd("GET", "k")).toBe("v");
        expect(await c2.cmd("GET", "k")).toBe("v");
        // Their own state: a replica's configuration is not the primary's.
        expect(await c1.cmd("CONFIG", "SET", "replica-read-only", "no")).toBe("OK");
        expect(await c1.cmd("SET", "only-here", "1")).toBe("OK");
        expect(await p.cmd("EXISTS", "only-here")).toBe(0);
        expect(await c2.cmd("CONFIG", "GET", "replica-read-only")).toEqual(["replica-read-only", "yes"]);
        p.close(); c1.close(); c2.close();
      });
    });
  });

  test("SHUTDOWN from a client ends that server alone; close() afterwards has nothing left to do", async () => {
    await withServers([{}, {}], async (a, b) => {
      const ca = await RawClient.connect(a.port), cb = await RawClient.connect(b.port);
      ca.send("SHUTDOWN", "NOSAVE");
      await ca.waitClosed();
      await expect(RawClient.connect(a.port)).rejects.toThrow();
      expect(await cb.cmd("PING")).toBe("PONG");
      cb.close();
    });
  });

  test("a server starts quickly (60–100 ms to PING here; the bound leaves room for a loaded machine)", async () => {
    const t0 = performance.now();
    const srv = await startServer();
    const c = await RawClient.connect(srv.port);
    expect(await c.cmd("PING")).toBe("PONG");
    const ms = performance.now() - t0;
    c.close();
    await srv.close();
    expect(ms).toBeLessThan(3000);
  });

  test("DEBUG SEGFAULT ends that server's thread only (not the process); the program goes on", async () => {
    await withServers([{ "enable-debug-command": "yes" }, {}], async (a, b) => {
      const ca = await RawClient.connect(a.port), cb = await RawClient.connect(b.port);
      ca.send("DEBUG", "SEGFAULT");
      await ca.waitClosed();
      await expect(RawClient.connect(a.port)).rejects.toThrow();
      expect(await cb.cmd("PING")).toBe("PONG");
      cb.close();
    });
  });

  test("BullMQ runs on it: a Worker processes the jobs a Queue adds", async () => {
    await withServers([{}], async (srv) => {
      const connection = { host: "127.0.0.1", port: srv.port, maxRetriesPerRequest: null };
      const queue = new Queue("emails", { connection }), events = new QueueEvents("emails", { connection });
      const worker = new Worker("emails", async (job) => `sent to ${job.data.to}`, { connection });
      try {
        await events.waitUntilReady();
        const jobs = await Promise.all(["a@x", "b@x"].map((to) => queue.add("send", { to })));
        expect(await Promise.all(jobs.map((j) => j.waitUntilFinished(events, 10000)))).toEqual(["sent to a@x", "sent to b@x"]);
        expect((await queue.getJobCounts()).completed).toBe(2);
      } finally {
        await worker.close(); await events.close(); await queue.close();
      }
    });
  }, 30000);
});

describe("server.time", () => {
  test("advance() expires keys, lazily and in the active cycle", async () => {
    await withServers([{}], async (srv) => {
      const c = await RawClient.connect(srv.port);
      await srv.time.freeze(); // only advance() moves it: real time spent here counts for nothing
      await c.cmd("SET", "a", "1", "EX", "100");
      await c.cmd("SET", "b", "1", "EX", "100");
      await srv.time.advance(99_000);
      expect(await c.cmd("TTL", "a")).toBe(1);
      await srv.time.advance(1_000);
      expect(await c.cmd("GET", "a")).toBe(null);
      // b was never touched: the active cycle removed it.
      expect(String(await c.cmd("INFO", "stats"))).toContain("expired_keys:2");
      expect(await c.cmd("DBSIZE")).toBe(0);
      c.close();
    });
  });

  test("a blocked client times out when the clock passes its timeout, not before", async () => {
    await withServers([{}], async (srv) => {
      const c = await RawClient.connect(srv.port), other = await RawClient.connect(srv.port);
      await srv.time.freeze();
      c.send("BLPOP", "q", "5");
      await waitFor(async () => String(await other.cmd("INFO", "clients")).includes("blocked_clients:1"));
      await srv.time.advance(4_000);
      expect(String(await other.cmd("INFO", "clients"))).toContain("blocked_clients:1");
      await srv.time.advance(1_000);
      // Answered by the time advance() resolves.
      expect(c.pending()).toBe("*-1\r\n");
      c.close(); other.close();
    });
  });

  test("advance() takes whole milliseconds (a fraction is dropped) and refuses what is not a finite number", async () => {
    await withServers([{}], async (srv) => {
      const c = await RawClient.connect(srv.port);
      await srv.time.freeze();
      const t = srv.time.now();
      await srv.time.advance(1.5);
      expect(srv.time.now()).toBe(t + 1);
      expect(await c.cmd("XADD", "s", "*", "f", "v")).toBe(`${t + 1}-0`);
      expect(() => srv.time.advance(NaN)).toThrow("finite");
      expect(() => srv.time.set(Infinity)).toThrow("finite");
      c.close();
    });
  });

  test("freeze() stops it (TIME stands still), resume() runs on from there, set() jumps; now() is the server's", async () => {
    await withServers([{}], async (srv) => {
      const c = await RawClient.connect(srv.port);
      const serverMs = async () => { const [s, us] = (await c.cmd("TIME")) as string[]; return Number(s) * 1000 + Math.floor(Number(us) / 1000); };
      await srv.time.freeze();
      const frozen = srv.time.now();
      expect(await serverMs()).toBe(frozen);
      await Bun.sleep(30);
      expect(await serverMs()).toBe(frozen);
      expect(srv.time.now()).toBe(frozen);
      await srv.time.advance(1500);
      expect(await serverMs()).toBe(frozen + 1500);
      await srv.time.set(Date.UTC(2030, 0, 1));
      expect(await serverMs()).toBe(Date.UTC(2030, 0, 1));
      // XADD's IDs follow the clock.
      expect(await c.cmd("XADD", "s", "*", "f", "v")).toBe(`${Date.UTC(2030, 0, 1)}-0`);
      await srv.time.resume();
      await Bun.sleep(20);
      const t = await serverMs();
      expect(t).toBeGreaterThan(Date.UTC(2030, 0, 1));
      expect(t).toBeLessThan(Date.UTC(2030, 0, 1) + 5000);
      expect(Math.abs(srv.time.now() - t)).toBeLessThan(1000);
      c.close();
    });
  });

  test("OBJECT IDLETIME, CLIENT LIST's idle and SLOWLOG's times move with it", async () => {
    await withServers([{ "slowlog-log-slower-than": 0 }], async (srv) => {
      const c = await RawClient.connect(srv.port);
      await c.cmd("SET", "k", "v");
      const before = (((await c.cmd("SLOWLOG", "GET", "1")) as unknown[][])[0][1]) as number;
      await srv.time.advance(3_600_000);
      expect(await c.cmd("OBJECT", "IDLETIME", "k")).toBeGreaterThanOrEqual(3600);
      const other = await RawClient.connect(srv.port);
      await srv.time.advance(60_000);
      const list = String(await other.cmd("CLIENT", "LIST"));
      expect(list).toMatch(/idle=6\d /); // the first client, idle for a minute by the clock
      const after = (((await c.cmd("SLOWLOG", "GET", "1")) as unknown[][])[0][1]) as number;
      expect(after - before).toBeGreaterThanOrEqual(3660);
      c.close(); other.close();
    });
  });
});

describe("DEBUG TIME", () => {
  test("NOW, ADVANCE, SET, FREEZE and RESUME over RESP, where DEBUG is allowed", async () => {
    await withServers([{ "enable-debug-command": "local" }], async (srv) => {
      const c = await RawClient.connect(srv.port);
      expect(await c.cmd("DEBUG", "TIME", "FREEZE")).toBe("OK");
      const t = (await c.cmd("DEBUG", "TIME", "NOW")) as number;
      expect(Math.abs(t - Date.now())).toBeLessThan(1000);
      await c.cmd("SET", "k", "v", "PX", "500");
      expect(await c.cmd("DEBUG", "TIME", "ADVANCE", "500")).toBe("OK");
      expect(await c.cmd("DEBUG", "TIME", "NOW")).toBe(t + 500);
      expect(await c.cmd("GET", "k")).toBe(null);
      expect(await c.cmd("DEBUG", "TIME", "SET", "1000000000000")).toBe("OK");
      expect(await c.cmd("TIME")).toEqual(["1000000000", "0"]);
      // The starter's view is the same clock.
      expect(srv.time.now()).toBe(1_000_000_000_000);
      expect(await c.cmd("DEBUG", "TIME", "RESUME")).toBe("OK");
      expect(await c.cmd("DEBUG", "TIME", "ADVANCE", "soon")).toEqual(new ReplyError("ERR value is not an integer or out of range"));
      expect(await c.cmd("DEBUG", "TIME", "WARP")).toBeInstanceOf(ReplyError);
      c.close();
    });
  });

  test("moving the clock past `timeout` closes the idle clients, not the one that moved it", async () => {
    await withServers([{ "enable-debug-command": "local", timeout: 2 }], async (srv) => {
      const c = await RawClient.connect(srv.port), idle = await RawClient.connect(srv.port);
      expect(await idle.cmd("PING")).toBe("PONG");
      expect(await c.cmd("DEBUG", "TIME", "ADVANCE", "5000")).toBe("OK");
      await idle.waitClosed();
      expect(await c.cmd("PING")).toBe("PONG");
      c.close();
    });
  });

  test("refused, as every DEBUG subcommand, when enable-debug-command is no (Redis's default)", async () => {
    await withServers([{}], async (srv) => {
      const c = await RawClient.connect(srv.port);
      expect(String(await c.cmd("DEBUG", "TIME", "NOW"))).toContain("ERR DEBUG command not allowed");
      c.close();
    });
  });
});

describe("DEBUG SEED", () => {
  /** What a server answers to the random commands over the same data. */
  async function randomReplies(port: number, seed: (c: RawClient) => Promise<void>): Promise<unknown[]> {
    const c = await RawClient.connect(port);
    await c.cmd("FLUSHALL");
    const members = Array.from({ length: 100 }, (_, i) => `m${i}`);
    await c.cmd("SADD", "s", ...members);
    await c.cmd("HSET", "h", ...members.flatMap((m) => [m, "1"]));
    await c.cmd("ZADD", "z", ...members.flatMap((m, i) => [i, m]));
    await c.cmd("MSET", ...members.flatMap((m) => [`key:${m}`, "1"]));
    await seed(c);
    const out = [
      await c.cmd("SRANDMEMBER", "s", 10), await c.cmd("SRANDMEMBER", "s", -10), await c.cmd("SPOP", "s", 5),
      await c.cmd("HRANDFIELD", "h", 10), await c.cmd("ZRANDMEMBER", "z", 10), await c.cmd("RANDOMKEY"), await c.cmd("RANDOMKEY"),
    ];
    c.close();
    return out;
  }

  test("the seed option and DEBUG SEED make SRANDMEMBER, SPOP, HRANDFIELD, ZRANDMEMBER and RANDOMKEY repeat", async () => {
    await withServers([{ seed: 7 }, { seed: 7 }, { seed: 8, "enable-debug-command": "local" }], async (a, b, c) => {
      const none = async () => {};
      const ra = await randomReplies(a.port, none), rb = await randomReplies(b.port, none), rc = await randomReplies(c.port, none);
      expect(ra).toEqual(rb);
      expect(rc).not.toEqual(ra);
      const again = await randomReplies(c.port, async (cl) => { expect(await cl.cmd("DEBUG", "SEED", "42")).toBe("OK"); });
      expect(await randomReplies(c.port, async (cl) => { await cl.cmd("DEBUG", "SEED", "42"); })).toEqual(again);
      const cl = await RawClient.connect(c.port);
      expect(await cl.cmd("DEBUG", "SEED", "x")).toEqual(new ReplyError("ERR value is not an integer or out of range"));
      cl.close();
    });
  });
});

describe("redbun/node", () => {
  test("starts `bun main.ts` with the same defaults and API: time and seed over RESP, close() stops it", async () => {
    const proc = Bun.spawn(["node", "--input-type=module", "-e", `
      import { startServer } from ${JSON.stringify(join(import.meta.dir, "..", "node", "index.mjs"))};
      import { connect } from "node:net";
      const srv = await startServer({ seed: 1 });
      const ask = (line) => new Promise((resolve) => { const s = connect(srv.port, "127.0.0.1"); s.on("data", (d) => { resolve(String(d)); s.destroy(); }); s.write(line); });
      await ask("SET k v EX 10\\r\\n");
      await srv.time.advance(10000);
      const get = await ask("GET k\\r\\n");
      await srv.time.freeze();
      const now = srv.time.now();
      const time = await ask("DEBUG TIME NOW\\r\\n");
      const save = await ask("CONFIG GET save\\r\\n");
      await srv.close();
      let closed = false;
      await new Promise((resolve) => { const s = connect(srv.port, "127.0.0.1"); s.on("error", () => { closed = true; resolve(); }); s.on("connect", () => { s.destroy(); resolve(); }); });
      console.log(JSON.stringify({ url: srv.url === "redis://127.0.0.1:" + srv.port, get, time: time === ":" + now + "\\r\\n", save, closed }));
    `], { stdout: "pipe", stderr: "pipe" });
    const [out, err] = [await new Response(proc.stdout).text(), await new Response(proc.stderr).text()];
    expect(err).toBe("");
    expect(JSON.parse(out)).toEqual({ url: true, get: "$-1\r\n", time: true, save: "*2\r\n$4\r\nsave\r\n$0\r\n\r\n", closed: true });
  });

  test("CommonJS runners (Jest) require the same module", async () => {
    const proc = Bun.spawn(["node", "-e", `
      const { startServer } = require(${JSON.stringify(join(import.meta.dir, "..", "node", "index.cjs"))});
      startServer({ "maxmemory-policy": "allkeys-lfu" }).then(async (srv) => {
        const sock = require("node:net").connect(srv.port, "127.0.0.1");
        sock.on("data", async (d) => { console.log(String(d)); sock.destroy(); await srv.close(); });
        sock.write("CONFIG GET maxmemory-policy\\r\\n");
      });
    `], { stdout: "pipe", stderr: "pipe" });
    expect(await new Response(proc.stdout).text()).toBe("*2\r\n$16\r\nmaxmemory-policy\r\n$11\r\nallkeys-lfu\r\n\n");
    expect(await proc.exited).toBe(0);
  });

  test("a server with a password starts (time still moves), and a port another server holds is refused, leaving nothing running", async () => {
    const proc = Bun.spawn(["node", "-e", `
      const { startServer } = require(${JSON.stringify(join(import.meta.dir, "..", "node", "index.cjs"))});
      (async () => {
        const a = await startServer({ requirepass: "pw" });
        await a.time.freeze();
        const t = a.time.now();
        await a.time.advance(1000);
        const moved = a.time.now() - t;
        let refused = "";
        await startServer({ port: a.port }).catch((e) => { refused = e.message; });
        await a.close();
        console.log(JSON.stringify({ moved, refused }));
      })();
    `], { stdout: "pipe", stderr: "pipe" });
    const out = JSON.parse(await new Response(proc.stdout).text());
    expect(out.moved).toBe(1000);
    // Found answering in its place, or seen exiting (bind refused): whichever comes first.
    expect(out.refused).toMatch(/^(another server answers on port|redbun exited)/);
  });

  test("a clear error when bun is not on the PATH", async () => {
    const proc = Bun.spawn(["node", "--input-type=module", "-e", `
      import { startServer } from ${JSON.stringify(join(import.meta.dir, "..", "node", "index.mjs"))};
      try { await startServer(); } catch (e) { console.log(e.message); }
    `], { stdout: "pipe", env: { ...process.env, BUN_BINARY: "/nonexistent/bun" } });
    expect(await new Response(proc.stdout).text()).toContain("bun is not on the PATH");
  });
});
