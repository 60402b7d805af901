// main.ts, Scripting: libraries whose logic runs as Lua scripts on the server, used as applications
// use them: BullMQ (queues, workers, events), redlock (distributed locks) and rate-limiter-flexible.
// Each case runs against Redbun (its own process) and against a real redis-server 7.0.15, which
// shows that the test itself is right. Timings are short (delays of 100-300 ms), waits are for
// events with a deadline, and every client, queue and worker is closed in `finally`, so a failing
// case does not leave the run hanging.
import { describe, test, expect, beforeAll, afterAll } from "bun:test";
import IORedis from "ioredis";
import { createClient } from "redis";
import { Queue, Worker, QueueEvents, FlowProducer, type Job } from "bullmq";
// @ts-expect-error redlock 5.0.0-beta.2's package.json "exports" has no "types" entry, so TypeScript
// cannot reach its index.d.ts through the package name: the types are taken from the file itself.
import * as redlockModule from "redlock";
import type * as RedlockTypes from "../node_modules/redlock/dist/index";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { startRedbun, startRedis, tempDir, noRedis, waitFor, type Server } from "./persistence-harness.ts";

const { default: Redlock, ExecutionError } = redlockModule as typeof RedlockTypes;

type Kind = "Redbun" | "redis-server";
const KINDS: Kind[] = ["Redbun", "redis-server"];

const servers = new Map<Kind, Server>();
beforeAll(async () => {
  servers.set("Redbun", await startRedbun(tempDir("libs")));
  if (!noRedis) servers.set("redis-server", await startRedis(tempDir("libs-redis")));
});
afterAll(async () => {
  for (const s of servers.values()) await s.stop();
});

/** One test per server kind, named "<kind>: <name>", given that server's port. */
function eachServer(name: string, fn: (port: number) => Promise<void>): void {
  for (const kind of KINDS) {
    test.skipIf(kind === "redis-server" && noRedis)(`${kind}: ${name}`, async () => {
      const s = servers.get(kind);
      if (!s) throw new Error(`${kind} did not start`);
      await fn(s.port);
    });
  }
}

/** What a test opened, closed in reverse order whatever happens. */
class Closers {
  private list: (() => Promise<unknown> | unknown)[] = [];
  add<T>(thing: T, close: (t: T) => Promise<unknown> | unknown): T {
    this.list.push(() => close(thing));
    return thing;
  }
  /** Closes everything, even past a close that fails, then throws the first failure. */
  async closeAll(): Promise<void> {
    const errors: unknown[] = [];
    for (const close of this.list.reverse()) {
      try { await close(); } catch (e) { errors.push(e); }
    }
    this.list = [];
    if (errors.length) throw errors[0];
  }
}

/** `p`, or a rejection naming `what` after `ms`: a missing event fails the test instead of hanging it. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms); });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** A promise that resolves once `n` calls of the returned callback have happened. */
function counter<A extends unknown[]>(n: number): { hit: (...args: A) => void; done: Promise<A[]> } {
  const calls: A[] = [];
  let resolve!: (v: A[]) => void;
  const done = new Promise<A[]>((r) => { resolve = r; });
  return { hit: (...args: A) => { calls.push(args); if (calls.length === n) resolve(calls); }, done };
}

const ioredis = (port: number, db = 0) => new IORedis(port, "127.0.0.1", { db, maxRetriesPerRequest: 1 });
// BullMQ's workers block on the server, and BullMQ requires maxRetriesPerRequest null for them.
const bullConnection = (port: number) => ({ host: "127.0.0.1", port, maxRetriesPerRequest: null });
const NO_JOBS = { active: 0, completed: 0, delayed: 0, failed: 0, prioritized: 0, waiting: 0, "waiting-children": 0 };

describe("BullMQ", () => {
  eachServer("a Worker starts on an empty queue, the queue counts no jobs, pauses, resumes and is obliterated", async (port) => {
    const cl = new Closers();
    try {
      const connection = bullConnection(port);
      const queue = cl.add(new Queue("empty", { connection }), (q) => q.close());
      const worker = cl.add(new Worker("empty", async () => "never", { connection }), (w) => w.close());
      await within(worker.waitUntilReady(), 5000, "the worker");
      // The worker's first steps are scripts: the stalled-jobs check and moveToActive.
      await Bun.sleep(100);
      expect(await queue.getJobCounts()).toEqual(NO_JOBS);
      await queue.pause();
      expect(await queue.isPaused()).toBe(true);
      await queue.resume();
      expect(await queue.isPaused()).toBe(false);
      await worker.close();
      await queue.obliterate({ force: true });
      const raw = cl.add(ioredis(port), (c) => c.quit());
      expect(await raw.keys("bull:empty:*")).toEqual([]);
    } finally {
      await cl.closeAll();
    }
  });

  eachServer("a Worker processes added jobs: its 'completed' event fires for each, QueueEvents sees 'progress' and 'completed', getJobCounts agrees", async (port) => {
    const cl = new Closers();
    try {
      const connection = bullConnection(port);
      const queue = cl.add(new Queue("basic", { connection }), (q) => q.close());
      const events = cl.add(new QueueEvents("basic", { connection }), (e) => e.close());
      await within(events.waitUntilReady(), 5000, "QueueEvents");
      const progress: unknown[] = [];
      events.on("progress", ({ data }) => { progress.push(data); });
      const completedEvents = counter<[Job, unknown]>(3);
      const worker = cl.add(new Worker("basic", async (job: Job) => {
        await job.updateProgress(50);
        return { doubled: job.data.x * 2 };
      }, { connection }), (w) => w.close());
      worker.on("completed", completedEvents.hit);
      const jobs = await Promise.all([1, 2, 3].map((x) => queue.add("double", { x })));
      const results = await within(Promise.all(jobs.map((j) => j.waitUntilFinished(events))), 5000, "the jobs to finish");
      expect(results).toEqual([{ doubled: 2 }, { doubled: 4 }, { doubled: 6 }]);
      const calls = await within(completedEvents.done, 5000, "the worker's 'completed' events");
      expect(calls.map(([job, rv]) => [job.data.x, rv]).sort()).toEqual([[1, { doubled: 2 }], [2, { doubled: 4 }], [3, { doubled: 6 }]]);
      expect(progress).toEqual([50, 50, 50]);
      expect(await queue.getJobCounts()).toEqual({ ...NO_JOBS, completed: 3 });
      const stored = await queue.getJob(jobs[1].id!);
      expect(stored?.returnvalue).toEqual({ doubled: 4 });
      expect(await stored?.getState()).toBe("completed");
    } finally {
      await cl.closeAll();
    }
  });

  eachServer("jobs added with priorities before the worker starts run highest priority first", async (port) => {
    const cl = new Closers();
    try {
      const connection = bullConnection(port);
      const queue = cl.add(new Queue("prio", { connection }), (q) => q.close());
      for (const priority of [10, 1, 5, 3]) await queue.add(`p${priority}`, {}, { priority });
      expect(await queue.getJobCounts()).toEqual({ ...NO_JOBS, prioritized: 4 });
      const order: string[] = [];
      const done = counter(4);
      const worker = cl.add(new Worker("prio", async (job: Job) => { order.push(job.name); }, { connection, concurrency: 1 }), (w) => w.close());
      worker.on("completed", done.hit);
      await within(done.done, 5000, "four completions");
      expect(order).toEqual(["p1", "p3", "p5", "p10"]);
    } finally {
      await cl.closeAll();
    }
  });

  eachServer("a delayed job waits in 'delayed', then runs once its delay has passed", async (port) => {
    const cl = new Closers();
    try {
      const connection = bullConnection(port);
      const queue = cl.add(new Queue("delayed", { connection }), (q) => q.close());
      const events = cl.add(new QueueEvents("delayed", { connection }), (e) => e.close());
      await within(events.waitUntilReady(), 5000, "QueueEvents");
      const worker = cl.add(new Worker("delayed", async (job: Job) => `ran ${job.data.n}`, { connection }), (w) => w.close());
      await within(worker.waitUntilReady(), 5000, "the worker");
      const job = await queue.add("later", { n: 1 }, { delay: 250 });
      expect(await job.getState()).toBe("delayed");
      expect(await queue.getJobCounts()).toEqual({ ...NO_JOBS, delayed: 1 });
      expect(await within(job.waitUntilFinished(events), 5000, "the delayed job")).toBe("ran 1");
      const stored = (await queue.getJob(job.id!))!;
      expect(stored.processedOn! - stored.timestamp).toBeGreaterThanOrEqual(250);
      expect(await queue.getJobCounts()).toEqual({ ...NO_JOBS, completed: 1 });
    } finally {
      await cl.closeAll();
    }
  });

  eachServer("a job with attempts and backoff fails, is retried after the backoff and completes; one that always fails ends in 'failed'", async (port) => {
    const cl = new Closers();
    try {
      const connection = bullConnection(port);
      const queue = cl.add(new Queue("retry", { connection }), (q) => q.close());
      const events = cl.add(new QueueEvents("retry", { connection }), (e) => e.close());
      await within(events.waitUntilReady(), 5000, "QueueEvents");
      const failedEvents = counter<[string, string, number]>(3);
      const startedAt = new Map<string, number[]>();
      const worker = cl.add(new Worker("retry", async (job: Job) => {
        startedAt.set(job.name, [...(startedAt.get(job.name) ?? []), Date.now()]);
        if (job.name === "always") throw new Error("always fails");
        if (job.attemptsMade === 0) throw new Error("first attempt fails");
        return `ok after ${job.attemptsMade}`;
      }, { connection }), (w) => w.close());
      worker.on("failed", (job, err) => failedEvents.hit(job!.name, err.message, job!.attemptsMade));
      const flaky = await queue.add("flaky", {}, { attempts: 3, backoff: { type: "fixed", delay: 150 } });
      const always = await queue.add("always", {}, { attempts: 2, backoff: { type: "exponential", delay: 50 } });
      expect(await within(flaky.waitUntilFinished(events), 5000, "the flaky job")).toBe("ok after 1");
      await expect(within(always.waitUntilFinished(events), 5000, "the failing job")).rejects.toThrow("always fails");
      expect((await within(failedEvents.done, 5000, "three 'failed' events")).sort()).toEqual([["always", "always fails", 1], ["always", "always fails", 2], ["flaky", "first attempt fails", 1]]);
      const [first, second] = startedAt.get("flaky")!;
      expect(second - first).toBeGreaterThanOrEqual(150);
      const stored = (await queue.getJob(always.id!))!;
      expect([stored.failedReason, stored.attemptsMade, stored.stacktrace?.length]).toEqual(["always fails", 2, 2]);
      expect(await queue.getJobCounts()).toEqual({ ...NO_JOBS, completed: 1, failed: 1 });
    } finally {
      await cl.closeAll();
    }
  });

  eachServer("a job scheduler (repeat every 150 ms, limit 3) produces three jobs, then is removed", async (port) => {
    const cl = new Closers();
    try {
      const connection = bullConnection(port);
      const queue = cl.add(new Queue("sched", { connection }), (q) => q.close());
      await queue.upsertJobScheduler("tick", { every: 150, limit: 3 }, { name: "tick", data: { t: 1 } });
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers.map((s) => [s.key, s.every, s.limit])).toEqual([["tick", 150, 3]]);
      const done = counter<[Job, unknown]>(3);
      const worker = cl.add(new Worker("sched", async (job: Job) => job.data.t, { connection }), (w) => w.close());
      worker.on("completed", done.hit);
      const calls = await within(done.done, 5000, "three scheduled jobs");
      const ids = calls.map(([job]) => job.id!);
      expect(new Set(ids).size).toBe(3);
      expect(ids.every((id) => id.startsWith("repeat:tick:"))).toBe(true);
      expect(await queue.removeJobScheduler("tick")).toBe(true);
      expect(await queue.getJobSchedulersCount()).toBe(0);
    } finally {
      await cl.closeAll();
    }
  });

  eachServer("a flow: the parent waits for its children, then reads their return values", async (port) => {
    const cl = new Closers();
    try {
      const connection = bullConnection(port);
      const queue = cl.add(new Queue("flow", { connection }), (q) => q.close());
      const events = cl.add(new QueueEvents("flow", { connection }), (e) => e.close());
      await within(events.waitUntilReady(), 5000, "QueueEvents");
      const flow = cl.add(new FlowProducer({ connection }), (f) => f.close());
      const tree = await flow.add({ name: "parent", queueName: "flow", data: {}, children: [1, 2].map((c) => ({ name: "child", queueName: "flow", data: { c } })) });
      expect(await tree.job.getState()).toBe("waiting-children");
      cl.add(new Worker("flow", async (job: Job) => {
        if (job.name === "child") return job.data.c * 10;
        return Object.values(await job.getChildrenValues()).sort();
      }, { connection }), (w) => w.close());
      expect(await within(tree.job.waitUntilFinished(events), 5000, "the parent")).toEqual([10, 20]);
      expect(await queue.getJobCounts()).toEqual({ ...NO_JOBS, completed: 3 });
    } finally {
      await cl.closeAll();
    }
  });
});

describe("redlock", () => {
  eachServer("acquire; a second acquire of the same resource fails; extend, release, and acquire again", async (port) => {
    const cl = new Closers();
    try {
      const c = cl.add(ioredis(port), (c) => c.quit());
      const redlock = new Redlock([c], { retryCount: 0 });
      const lock = await redlock.acquire(["lock:a"], 1000);
      expect(await c.get("lock:a")).toBe(lock.value);
      const ttl = await c.pttl("lock:a");
      expect(ttl).toBeGreaterThan(500);
      expect(ttl).toBeLessThanOrEqual(1000);
      await expect(redlock.acquire(["lock:a"], 1000)).rejects.toBeInstanceOf(ExecutionError);
      expect(await c.get("lock:a")).toBe(lock.value);
      const extended = await lock.extend(5000);
      expect(extended.value).toBe(lock.value);
      expect(await c.pttl("lock:a")).toBeGreaterThan(4000);
      await extended.release();
      expect(await c.exists("lock:a")).toBe(0);
      const again = await redlock.acquire(["lock:a", "lock:b"], 1000);
      expect(again.value).not.toBe(lock.value);
      expect(await c.mget("lock:a", "lock:b")).toEqual([again.value, again.value]);
      await again.release();
      expect(await c.exists("lock:a", "lock:b")).toBe(0);
    } finally {
      await cl.closeAll();
    }
  });

  eachServer("a lock that was lost can neither be extended nor release its new owner's lock; an expired lock frees the resource", async (port) => {
    const cl = new Closers();
    try {
      const c = cl.add(ioredis(port), (c) => c.quit());
      const redlock = new Redlock([c], { retryCount: 0 });
      const first = await redlock.acquire(["lock:lost"], 5000);
      await c.del("lock:lost"); // lost, as if it had expired
      const second = await redlock.acquire(["lock:lost"], 5000);
      await expect(first.extend(5000)).rejects.toBeInstanceOf(ExecutionError);
      await expect(first.release()).rejects.toBeInstanceOf(ExecutionError);
      expect(await c.get("lock:lost")).toBe(second.value);
      await second.release();
      // A short lock that nobody releases expires on the server (SET PX inside the script).
      const short = await redlock.acquire(["lock:short"], 300);
      await expect(redlock.acquire(["lock:short"], 300)).rejects.toBeInstanceOf(ExecutionError);
      await waitFor("the lock to expire", async () => (await c.exists("lock:short")) === 0, 3000);
      const after = await redlock.acquire(["lock:short"], 300);
      expect(after.value).not.toBe(short.value);
      expect(await c.get("lock:short")).toBe(after.value);
    } finally {
      await cl.closeAll();
    }
  });

  eachServer("after SCRIPT FLUSH, EVALSHA's NOSCRIPT error makes redlock send the script with EVAL, and locking goes on", async (port) => {
    const cl = new Closers();
    try {
      const c = cl.add(ioredis(port), (c) => c.quit());
      const redlock = new Redlock([c], { retryCount: 0 });
      await (await redlock.acquire(["lock:flush"], 1000)).release();
      expect(await c.script("EXISTS", redlock.scripts.acquireScript.hash, redlock.scripts.releaseScript.hash)).toEqual([1, 1]);
      expect(await c.script("FLUSH")).toBe("OK");
      const lock = await redlock.acquire(["lock:flush"], 1000);
      expect(await c.get("lock:flush")).toBe(lock.value);
      await lock.release();
      expect(await c.exists("lock:flush")).toBe(0);
      expect(await c.script("EXISTS", redlock.scripts.acquireScript.hash, redlock.scripts.releaseScript.hash)).toEqual([1, 1]);
    } finally {
      await cl.closeAll();
    }
  });

  eachServer("with three instances (databases 0-2), a quorum of two acquires; one of three does not", async (port) => {
    const cl = new Closers();
    try {
      const cs = [0, 1, 2].map((db) => cl.add(ioredis(port, db), (c) => c.quit()));
      const redlock = new Redlock(cs, { retryCount: 0 });
      await cs[2].set("lock:q", "someone", "PX", 5000);
      const lock = await redlock.acquire(["lock:q"], 1000);
      expect(await Promise.all(cs.map((c) => c.get("lock:q")))).toEqual([lock.value, lock.value, "someone"]);
      await cs[1].set("lock:r", "someone", "PX", 5000);
      await cs[2].set("lock:r", "someone", "PX", 5000);
      await expect(redlock.acquire(["lock:r"], 1000)).rejects.toBeInstanceOf(ExecutionError);
      // The failed attempt leaves nothing behind on the instance where it got the lock.
      expect(await Promise.all(cs.map((c) => c.get("lock:r")))).toEqual([null, "someone", "someone"]);
      await lock.release();
      expect(await Promise.all(cs.map((c) => c.get("lock:q")))).toEqual([null, null, "someone"]);
    } finally {
      await cl.closeAll();
    }
  });

  eachServer("using: the lock is extended while the routine runs past its duration, and released after", async (port) => {
    const cl = new Closers();
    try {
      const c = cl.add(ioredis(port), (c) => c.quit());
      const redlock = new Redlock([c], { retryCount: 0, automaticExtensionThreshold: 200 });
      const seen = await redlock.using(["lock:using"], 400, async (signal) => {
        const before = await c.get("lock:using");
        await Bun.sleep(700); // past the 400 ms it was taken for: extended every 200 ms
        return { before, after: await c.get("lock:using"), aborted: signal.aborted };
      });
      expect(seen.before).toMatch(/^[0-9a-f]{32}$/);
      expect(seen).toEqual({ before: seen.before, after: seen.before, aborted: false });
      expect(await c.exists("lock:using")).toBe(0);
    } finally {
      await cl.closeAll();
    }
  });

  eachServer("using: when another client takes the key, the extensions fail, the routine's signal aborts when the lock runs out, and using rejects", async (port) => {
    const cl = new Closers();
    try {
      const c = cl.add(ioredis(port), (c) => c.quit());
      const redlock = new Redlock([c], { retryCount: 0, automaticExtensionThreshold: 150 });
      let signalState: [boolean, string | undefined] | undefined;
      const run = redlock.using(["lock:stolen"], 300, async (signal) => {
        await c.set("lock:stolen", "thief", "PX", 5000);
        // The extension is due after 150 ms; it fails, and redlock tries again until the lock's own
        // 300 ms are over, then aborts.
        await within(new Promise((resolve) => signal.addEventListener("abort", resolve)), 3000, "the abort");
        signalState = [signal.aborted, signal.error?.name];
      });
      await expect(run).rejects.toBeInstanceOf(ExecutionError); // its release cannot reach a quorum
      await run.catch(() => {});
      expect(signalState).toEqual([true, "ExecutionError"]);
      expect(await c.get("lock:stolen")).toBe("thief");
    } finally {
      await cl.closeAll();
    }
  });
});

describe("rate-limiter-flexible", () => {
  eachServer("RateLimiterRedis on ioredis: consume up to the points, the next is rejected with msBeforeNext, the window resets", async (port) => {
    const cl = new Closers();
    try {
      const c = cl.add(ioredis(port), (c) => c.quit());
      const limiter = new RateLimiterRedis({ storeClient: c, useRedisPackage: false, keyPrefix: "rl", points: 3, duration: 1 });
      const results = [];
      for (let i = 0; i < 3; i++) results.push(await limiter.consume("user"));
      expect(results.map((r) => [r.consumedPoints, r.remainingPoints])).toEqual([[1, 2], [2, 1], [3, 0]]);
      expect(results[0].isFirstInDuration).toBe(true);
      expect(results[0].msBeforeNext).toBeGreaterThan(900);
      expect(results[0].msBeforeNext).toBeLessThanOrEqual(1000);
      const rejected: unknown = await limiter.consume("user").then(() => null, (e) => e);
      expect(rejected).toBeInstanceOf(RateLimiterRes);
      const res = rejected as RateLimiterRes;
      expect([res.consumedPoints, res.remainingPoints]).toEqual([4, 0]);
      expect(res.msBeforeNext).toBeGreaterThan(0);
      expect(res.msBeforeNext).toBeLessThanOrEqual(1000);
      expect(await c.get("rl:user")).toBe("4");
      // Another key has its own window.
      expect((await limiter.consume("other", 2)).remainingPoints).toBe(1);
      await Bun.sleep(res.msBeforeNext + 50);
      const fresh = await limiter.consume("user");
      expect([fresh.consumedPoints, fresh.remainingPoints, fresh.isFirstInDuration]).toEqual([1, 2, true]);
    } finally {
      await cl.closeAll();
    }
  });

  eachServer("RateLimiterRedis on node-redis (useRedisPackage): blockDuration blocks past the window; get, penalty, reward and delete", async (port) => {
    const cl = new Closers();
    try {
      const c = createClient({ url: `redis://127.0.0.1:${port}` });
      await c.connect();
      cl.add(c, (c) => c.quit());
      const limiter = new RateLimiterRedis({ storeClient: c, useRedisPackage: true, keyPrefix: "nr", points: 2, duration: 1, blockDuration: 3 });
      expect((await limiter.consume("ip")).remainingPoints).toBe(1);
      expect((await limiter.consume("ip")).remainingPoints).toBe(0);
      const rejected = (await limiter.consume("ip").then(() => null, (e) => e)) as RateLimiterRes;
      expect(rejected).toBeInstanceOf(RateLimiterRes);
      // Blocked for blockDuration (3 s), longer than the 1 s window.
      expect(rejected.msBeforeNext).toBeGreaterThan(2000);
      expect(await c.pTTL("nr:ip")).toBeGreaterThan(2000);
      const got = (await limiter.get("ip"))!;
      expect(got.consumedPoints).toBe(3);
      expect(await limiter.get("nobody")).toBe(null);
      expect((await limiter.penalty("p", 2)).consumedPoints).toBe(2);
      expect((await limiter.reward("p", 1)).consumedPoints).toBe(1);
      expect(await limiter.delete("ip")).toBe(true);
      expect((await limiter.consume("ip")).remainingPoints).toBe(1);
    } finally {
      await cl.closeAll();
    }
  });
});
