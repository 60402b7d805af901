// main.ts, Streams and Blocking: streams and the clients blocked on them (serveClientBlockedOnStream):
// what tests/differential-streams.test.ts cannot check with one connection at a time.
//
//   - Blocked readers (XREAD / XREADGROUP BLOCK) with several clients and streams. Each scenario
//     runs on a real redis-server 7.0.15 and on Redbun, and the two transcripts (every reply's exact
//     bytes, and who is still blocked after each step) must be equal; a few scenarios also spell
//     out the expected bytes. Nothing decides an outcome by sleeping: `block()` waits until CLIENT
//     LIST shows the client parked, and once the command that woke someone has replied, whoever it
//     woke has been served (Redis serves blocked clients before the next command).
//   - A stream of a million entries: range reads, appends and head trims stay fast; so do the
//     commands over a pending entries list of 100 000 entries.
//   - Persistence: an RDB with streams, groups and pending entries survives SAVE and a restart, loads
//     in redis-server, and a redis-server RDB loads in Redbun; DUMP / RESTORE both ways.
//   - ioredis, as applications use it: an XREAD BLOCK loop and XREADGROUP workers with XACK.
//
// Tests that need redis-server are skipped without it, unless REQUIRE_REDIS=1.
import { describe, test, expect, beforeAll, afterAll } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import IORedis from "ioredis";
import { connect, sharedServer, spawnServer, pipeline, type SpawnedServer } from "./helpers.ts";
import { RawClient, encode } from "./client.ts";
import { startRedbun, startRedis, tempDir, run, noRedis, REDIS_CHECK_RDB, type Server } from "./persistence-harness.ts";

// ---------------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------------

/** A real redis-server shared by the tests of this file that compare against it. */
let redis: Server | null = null;
let redbunPort = 0;

beforeAll(async () => {
  redbunPort = (await sharedServer()).port;
  if (!noRedis) redis = await startRedis(tempDir("streams-ref"));
}, 20000);

afterAll(async () => { await redis?.stop(); });

const withRedis = noRedis ? test.skip : test;

// ---------------------------------------------------------------------------------------------
// Masks for replies that carry times or estimates
// ---------------------------------------------------------------------------------------------

/** XINFO STREAM: radix-tree-nodes counts inner nodes of Redis's radix tree; Redbun estimates it. */
const maskRadixNodes = (raw: string): string => raw.replace(/(\$16\r\nradix-tree-nodes\r\n):\d+\r\n/g, "$1:<n>\r\n");
/** XPENDING's extended form and XINFO CONSUMERS: idle times, rounded to whole minutes. */
const maskIdle = (raw: string): string =>
  raw.replace(/^:(\d+)\r\n(?=:\d+\r\n)/gm, (_m, n) => `:<idle-${Math.round(Number(n) / 60000)}min>\r\n`)
    .replace(/(\$4\r\nidle\r\n):(\d+)\r\n/g, (_m, k, n) => `${k}:<idle-${Math.round(Number(n) / 60000)}min>\r\n`);

// ---------------------------------------------------------------------------------------------
// Scenarios with blocked clients, run on redis-server and on Redbun
// ---------------------------------------------------------------------------------------------

interface Session {
  /** The control connection, on an empty dataset. */
  ctl: RawClient;
  /** Another connection (RESP3 after HELLO 3 when `resp` is 3). */
  client(resp?: number): Promise<RawClient>;
  /** Sends a blocking command on c and returns once the server has parked c. */
  block(c: RawClient, ...args: (string | number)[]): Promise<void>;
  isBlocked(c: RawClient): Promise<boolean>;
  /** c's CLIENT ID. */
  id(c: RawClient): number;
  /** Runs a command on ctl and notes its reply. */
  run(...args: (string | number)[]): Promise<string>;
  /** Runs a command on ctl and notes its reply as `mask` shows it. */
  runMasked(mask: (raw: string) => string, ...args: (string | number)[]): Promise<string>;
  /** Notes the next reply of c. */
  reply(c: RawClient, label: string): Promise<string>;
  /** Notes whether each client is still blocked. */
  blocked(...cs: RawClient[]): Promise<void>;
  /** Notes c's reply if it has been served, or that it is still blocked. */
  settle(c: RawClient, label: string): Promise<void>;
  /** CLIENT UNBLOCK c [TIMEOUT | ERROR], noted without the id. */
  unblock(c: RawClient, how?: string): Promise<void>;
  note(line: string): void;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(1);
  }
}

async function blockedClients(ctl: RawClient): Promise<number> {
  return Number(/^blocked_clients:(\d+)\r$/m.exec((await ctl.cmd("INFO", "clients")) as string)![1]);
}

/** Runs a scenario on the server at `port` and returns its transcript. */
async function transcript(port: number, body: (s: Session) => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const opened: RawClient[] = [];
  const ids = new Map<RawClient, number>();
  const names = new Map<RawClient, string>();
  const ctl = await RawClient.connect(port);
  opened.push(ctl);
  await ctl.cmd("FLUSHALL");
  const isBlocked = async (c: RawClient) => / flags=b /.test((await ctl.cmd("CLIENT", "LIST", "ID", ids.get(c)!)) as string);
  const s: Session = {
    ctl,
    async client(resp = 2) {
      const c = await RawClient.connect(port);
      opened.push(c);
      ids.set(c, (await c.cmd("CLIENT", "ID")) as number);
      names.set(c, `c${names.size + 1}`);
      if (resp === 3) await c.cmd("HELLO", 3);
      return c;
    },
    async block(c, ...args) {
      c.send(...args);
      await until(() => isBlocked(c), `${args.join(" ")} to block`);
      lines.push(`${names.get(c)} blocked in ${args.join(" ")}`);
    },
    isBlocked,
    id: (c) => ids.get(c)!,
    async run(...args) {
      const raw = await ctl.raw(...args);
      lines.push(`${args.join(" ")} -> ${JSON.stringify(raw)}`);
      return raw;
    },
    async runMasked(mask, ...args) {
      const raw = await ctl.raw(...args);
      lines.push(`${args.join(" ")} -> ${JSON.stringify(mask(raw))}`);
      return raw;
    },
    async reply(c, label) {
      const raw = await c.readRaw(3000);
      lines.push(`${names.get(c)} ${label}: ${JSON.stringify(raw)}`);
      return raw;
    },
    async blocked(...cs) {
      for (const c of cs) lines.push(`${names.get(c)} ${(await isBlocked(c)) ? "still blocked" : "not blocked"}`);
    },
    async settle(c, label) {
      if (await isBlocked(c)) lines.push(`${names.get(c)} still blocked`);
      else await s.reply(c, label);
    },
    async unblock(c, how) {
      const raw = await ctl.raw("CLIENT", "UNBLOCK", ids.get(c)!, ...(how ? [how] : []));
      lines.push(`CLIENT UNBLOCK ${names.get(c)}${how ? ` ${how}` : ""} -> ${JSON.stringify(raw)}`);
    },
    note(line) { lines.push(line); },
  };
  try {
    await body(s);
  } finally {
    for (const c of opened.slice(1)) c.close();
    await until(async () => (await blockedClients(ctl)) === 0, "no blocked clients left");
    ctl.close();
  }
  return lines;
}

/** Runs the scenario on redis-server, then on Redbun; the transcripts must be equal. Returns Redbun's. */
async function sameAsRedis(body: (s: Session) => Promise<void>): Promise<string[]> {
  const want = await transcript(redis!.port, body);
  const got = await transcript(redbunPort, body);
  expect(got).toEqual(want);
  return got;
}

const entry = (id: string, ...fields: string[]) => `*2\r\n$${id.length}\r\n${id}\r\n*${fields.length}\r\n${fields.map((f) => `$${f.length}\r\n${f}\r\n`).join("")}`;
/** RESP2 reply of XREAD / XREADGROUP with one stream. */
const oneStream = (key: string, ...entries: string[]) => `*1\r\n*2\r\n$${key.length}\r\n${key}\r\n*${entries.length}\r\n${entries.join("")}`;

describe("XREAD BLOCK", () => {
  withRedis("is woken by an XADD to any of its streams, and replies with that stream only", async () => {
    const t = await sameAsRedis(async (s) => {
      const a = await s.client();
      await s.run("XADD", "s1", "1-0", "f", "v");
      await s.block(a, "XREAD", "BLOCK", 0, "STREAMS", "s1", "s2", "s3", "$", "$", "$");
      await s.run("XADD", "s2", "5-0", "k", "v");
      await s.reply(a, "woken");
      await s.block(a, "XREAD", "BLOCK", 0, "STREAMS", "s1", "s2", "s3", "$", "$", "$");
      await s.run("XADD", "s3", "1-0", "k", "v");
      await s.reply(a, "woken");
    });
    expect(t).toContain(`c1 woken: ${JSON.stringify(oneStream("s2", entry("5-0", "k", "v")))}`);
  });

  withRedis("with $ gets only what is added after it blocked", async () => {
    const t = await sameAsRedis(async (s) => {
      const [a, b] = [await s.client(), await s.client()];
      await s.run("XADD", "s", "1-0", "f", "old");
      await s.block(a, "XREAD", "BLOCK", 0, "STREAMS", "s", "$");
      await s.run("XADD", "s", "2-0", "f", "new");
      await s.reply(a, "woken");
      // $ on a missing key means "anything": the stream's first entry.
      await s.block(b, "XREAD", "BLOCK", 0, "STREAMS", "fresh", "$");
      await s.run("XADD", "fresh", "0-1", "f", "first");
      await s.reply(b, "woken");
    });
    expect(t).toContain(`c1 woken: ${JSON.stringify(oneStream("s", entry("2-0", "f", "new")))}`);
  });

  withRedis("with an explicit ID is served only by an entry after that ID", async () => {
    await sameAsRedis(async (s) => {
      const a = await s.client();
      await s.run("XADD", "s", "1-0", "f", "v");
      await s.block(a, "XREAD", "BLOCK", 0, "STREAMS", "s", "5-0");
      await s.run("XADD", "s", "3-0", "f", "v");
      await s.blocked(a);
      await s.run("XADD", "s", "5-0", "f", "v");
      await s.blocked(a);
      await s.run("XADD", "s", "5-1", "f", "v");
      await s.reply(a, "woken");
    });
  });

  withRedis("several readers blocked on one stream all get the same entry", async () => {
    const t = await sameAsRedis(async (s) => {
      const cs = [await s.client(), await s.client(), await s.client(3)];
      await s.run("XADD", "s", "1-0", "f", "v");
      await s.block(cs[0], "XREAD", "BLOCK", 0, "STREAMS", "s", "$");
      await s.block(cs[1], "XREAD", "COUNT", 5, "BLOCK", 0, "STREAMS", "other", "s", "$", "1-0");
      await s.block(cs[2], "XREAD", "BLOCK", 0, "STREAMS", "s", "$");
      await s.run("XADD", "s", "2-0", "f", "shared");
      for (const c of cs) await s.reply(c, "woken");
    });
    expect(t.filter((l) => l.includes(JSON.stringify(oneStream("s", entry("2-0", "f", "shared")))))).toHaveLength(2);
    // RESP3: a map of stream name to entries.
    expect(t).toContain(`c3 woken: ${JSON.stringify(`%1\r\n$1\r\ns\r\n*1\r\n${entry("2-0", "f", "shared")}`)}`);
  });

  withRedis("COUNT caps what a reader woken by a transaction of several XADDs gets", async () => {
    await sameAsRedis(async (s) => {
      const [a, b] = [await s.client(), await s.client()];
      await s.run("XADD", "s", "1-0", "f", "v");
      await s.block(a, "XREAD", "COUNT", 2, "BLOCK", 0, "STREAMS", "s", "$");
      await s.block(b, "XREAD", "BLOCK", 0, "STREAMS", "s", "$");
      await s.run("MULTI");
      for (const id of ["2-0", "3-0", "4-0"]) await s.run("XADD", "s", id, "f", id);
      await s.run("EXEC");
      await s.reply(a, "woken");
      await s.reply(b, "woken");
    });
  });

  withRedis("an entry added and deleted in one transaction, or trimmed by its own XADD", async () => {
    await sameAsRedis(async (s) => {
      const [a, b] = [await s.client(), await s.client()];
      await s.run("XADD", "s", "1-0", "f", "v");
      await s.block(a, "XREAD", "BLOCK", 0, "STREAMS", "s", "$");
      await s.run("MULTI");
      await s.run("XADD", "s", "2-0", "f", "v");
      await s.run("XDEL", "s", "2-0");
      await s.run("EXEC");
      await s.settle(a, "woken");
      await s.block(b, "XREAD", "BLOCK", 0, "STREAMS", "t", "$");
      await s.run("XADD", "t", "MAXLEN", 0, "1-0", "f", "v");
      await s.settle(b, "woken");
    });
  });

  withRedis("is not woken by the same key in another database", async () => {
    await sameAsRedis(async (s) => {
      const a = await s.client();
      await a.cmd("SELECT", 1);
      await s.block(a, "XREAD", "BLOCK", 0, "STREAMS", "s", "$");
      await s.run("XADD", "s", "1-0", "f", "db0");
      await s.blocked(a);
      await s.run("SELECT", 1);
      await s.run("XADD", "s", "1-0", "f", "db1");
      await s.reply(a, "woken");
    });
  });

  withRedis("stays blocked when its key is deleted, and a new stream must pass the ID it waits after", async () => {
    await sameAsRedis(async (s) => {
      const a = await s.client();
      await s.run("XADD", "s", "5-0", "f", "v");
      await s.block(a, "XREAD", "BLOCK", 0, "STREAMS", "s", "$");
      await s.run("DEL", "s");
      await s.blocked(a);
      await s.run("XADD", "s", "3-0", "f", "v");
      await s.blocked(a);
      await s.run("SET", "s", "string now");
      await s.blocked(a);
      await s.run("DEL", "s");
      await s.run("XADD", "s", "6-0", "f", "v");
      await s.reply(a, "woken");
    });
  });

  withRedis("runs the commands pipelined behind it only once it is served", async () => {
    await sameAsRedis(async (s) => {
      const a = await s.client();
      a.write(Buffer.concat([encode(["XREAD", "BLOCK", 0, "STREAMS", "s", "$"]), encode(["XLEN", "s"]), encode(["PING"])]));
      await until(() => s.isBlocked(a), "the reader to block");
      await s.run("XADD", "s", "1-0", "f", "v");
      await s.reply(a, "woken");
      await s.reply(a, "then XLEN");
      await s.reply(a, "then PING");
    });
  });

  withRedis("times out with a null (RESP2) or _ (RESP3), and CLIENT UNBLOCK ends it either way", async () => {
    await sameAsRedis(async (s) => {
      const [a, b] = [await s.client(), await s.client(3)];
      await s.run("XADD", "s", "1-0", "f", "v");
      a.send("XREAD", "BLOCK", 20, "STREAMS", "s", "$");
      await s.reply(a, "timed out");
      b.send("XREAD", "BLOCK", 20, "STREAMS", "s", "missing", "$", "$");
      await s.reply(b, "timed out");
      await s.block(a, "XREAD", "BLOCK", 0, "STREAMS", "s", "$");
      await s.unblock(a);
      await s.reply(a, "unblocked");
      await s.block(a, "XREAD", "BLOCK", 0, "STREAMS", "s", "$");
      await s.unblock(a, "ERROR");
      await s.reply(a, "unblocked");
    });
  });

  test("BLOCK 0 waits until an entry comes, however long that takes", async () => {
    const ctl = await connect();
    const a = await RawClient.connect(redbunPort);
    try {
      const id = (await a.cmd("CLIENT", "ID")) as number;
      a.send("XREAD", "BLOCK", 0, "STREAMS", "s", "$");
      await until(async () => / flags=b /.test((await ctl.cmd("CLIENT", "LIST", "ID", id)) as string), "the reader to block");
      await Bun.sleep(300); // a BLOCK 0 that was a short timeout would have answered by now
      expect(a.pending()).toBe("");
      expect(await ctl.raw("XADD", "s", "1-0", "f", "v")).toBe("$3\r\n1-0\r\n");
      expect(await a.readRaw()).toBe(oneStream("s", entry("1-0", "f", "v")));
    } finally {
      a.close();
      ctl.close();
    }
  });

  test("a timeout answers after about its milliseconds", async () => {
    const c = await connect();
    try {
      const t = performance.now();
      expect(await c.raw("XREAD", "BLOCK", 100, "STREAMS", "s", "$")).toBe("*-1\r\n");
      const ms = performance.now() - t;
      expect(ms).toBeGreaterThanOrEqual(95);
      expect(ms).toBeLessThan(1500);
    } finally {
      c.close();
    }
  });
});

describe("XREADGROUP BLOCK", () => {
  withRedis("delivers each new entry once across consumers of a group, in the order they blocked", async () => {
    const t = await sameAsRedis(async (s) => {
      const cs = [await s.client(), await s.client(), await s.client()];
      await s.run("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
      for (const [i, c] of cs.entries()) await s.block(c, "XREADGROUP", "GROUP", "g", `consumer${i + 1}`, "BLOCK", 0, "STREAMS", "s", ">");
      for (const [i, c] of cs.entries()) {
        await s.run("XADD", "s", `${i + 1}-0`, "job", `${i + 1}`);
        await s.reply(c, "woken");
        await s.blocked(...cs.slice(i + 1));
      }
      await s.runMasked(maskIdle, "XPENDING", "s", "g", "-", "+", 10);
      await s.run("XPENDING", "s", "g");
      await s.run("XINFO", "GROUPS", "s");
    });
    expect(t).toContain(`c2 woken: ${JSON.stringify(oneStream("s", entry("2-0", "job", "2")))}`);
  });

  withRedis("a transaction of several XADDs wakes one group reader with all of them; the others stay blocked", async () => {
    await sameAsRedis(async (s) => {
      const [a, b, c] = [await s.client(), await s.client(), await s.client()];
      await s.run("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
      await s.block(a, "XREADGROUP", "GROUP", "g", "a", "BLOCK", 0, "STREAMS", "s", ">");
      await s.block(b, "XREADGROUP", "GROUP", "g", "b", "COUNT", 1, "BLOCK", 0, "STREAMS", "s", ">");
      await s.block(c, "XREAD", "BLOCK", 0, "STREAMS", "s", "$");
      await s.run("MULTI");
      for (const id of ["1-0", "2-0", "3-0"]) await s.run("XADD", "s", id, "f", id);
      await s.run("EXEC");
      await s.reply(a, "woken");
      await s.reply(c, "woken");
      await s.blocked(b);
      await s.run("XADD", "s", "4-0", "f", "4-0");
      await s.reply(b, "woken");
      await s.run("XPENDING", "s", "g");
    });
  });

  withRedis("two groups and a plain reader each get the same entry; NOACK leaves no pending entry", async () => {
    await sameAsRedis(async (s) => {
      const [a, b, c] = [await s.client(), await s.client(), await s.client(3)];
      await s.run("XGROUP", "CREATE", "s", "g1", "$", "MKSTREAM");
      await s.run("XGROUP", "CREATE", "s", "g2", "$");
      await s.block(a, "XREADGROUP", "GROUP", "g1", "a", "BLOCK", 0, "STREAMS", "s", ">");
      await s.block(b, "XREADGROUP", "GROUP", "g2", "b", "NOACK", "BLOCK", 0, "STREAMS", "s", ">");
      await s.block(c, "XREADGROUP", "GROUP", "g1", "c", "BLOCK", 0, "STREAMS", "s", ">");
      await s.run("XADD", "s", "1-0", "f", "v");
      await s.reply(a, "woken");
      await s.reply(b, "woken");
      await s.blocked(c);
      await s.run("XADD", "s", "2-0", "f", "v");
      await s.reply(c, "woken (RESP3)");
      await s.run("XPENDING", "s", "g1");
      await s.run("XPENDING", "s", "g2");
      await s.run("XINFO", "GROUPS", "s");
    });
  });

  withRedis("on several streams, is woken by the one that gets an entry", async () => {
    await sameAsRedis(async (s) => {
      const a = await s.client();
      for (const k of ["s1", "s2"]) await s.run("XGROUP", "CREATE", k, "g", "$", "MKSTREAM");
      await s.block(a, "XREADGROUP", "GROUP", "g", "a", "COUNT", 10, "BLOCK", 0, "STREAMS", "s1", "s2", ">", ">");
      await s.run("XADD", "s2", "7-0", "f", "v");
      await s.reply(a, "woken");
      await s.run("XPENDING", "s1", "g");
      await s.run("XPENDING", "s2", "g");
    });
  });

  withRedis("XGROUP DESTROY while a reader waits: -NOGROUP the consumer group this client was blocked on no longer exists", async () => {
    const t = await sameAsRedis(async (s) => {
      const [a, b] = [await s.client(), await s.client()];
      await s.run("CONFIG", "RESETSTAT");
      await s.run("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
      await s.run("XGROUP", "CREATE", "s", "other", "$");
      await s.block(a, "XREADGROUP", "GROUP", "g", "a", "BLOCK", 0, "STREAMS", "s", ">");
      await s.block(b, "XREADGROUP", "GROUP", "other", "b", "BLOCK", 0, "STREAMS", "s", ">");
      await s.run("XGROUP", "DESTROY", "s", "g");
      await s.reply(a, "woken");
      // The woken reader's call counts as failed; XGROUP DESTROY's does not.
      const calls = (raw: string) => [...raw.matchAll(/cmdstat_(xreadgroup|xgroup\|destroy):calls=(\d+),.*rejected_calls=(\d+),failed_calls=(\d+)/g)].map((m) => m.slice(1).join(" ")).sort().join("; ");
      await s.runMasked(calls, "INFO", "commandstats");
      await s.blocked(b);
      await s.run("XADD", "s", "1-0", "f", "v");
      await s.reply(b, "woken");
    });
    expect(t.join("\n")).toContain("xreadgroup 2 0 1");
    expect(t).toContain(`c1 woken: ${JSON.stringify("-NOGROUP the consumer group this client was blocked on no longer exists\r\n")}`);
  });

  withRedis("DEL of the key while a group reader waits: -UNBLOCKED the stream key no longer exists", async () => {
    const t = await sameAsRedis(async (s) => {
      const [a, b] = [await s.client(), await s.client()];
      await s.run("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
      await s.block(a, "XREADGROUP", "GROUP", "g", "a", "BLOCK", 0, "STREAMS", "s", ">");
      await s.block(b, "XREAD", "BLOCK", 0, "STREAMS", "s", "$");
      await s.run("DEL", "s");
      await s.reply(a, "woken");
      await s.blocked(b);
    });
    expect(t).toContain(`c1 woken: ${JSON.stringify("-UNBLOCKED the stream key no longer exists\r\n")}`);
  });

  withRedis("the key overwritten, renamed, or flushed while a group reader waits", async () => {
    await sameAsRedis(async (s) => {
      const [a, b, c, d] = [await s.client(), await s.client(), await s.client(), await s.client()];
      for (const k of ["s1", "s2", "s3", "s4"]) await s.run("XGROUP", "CREATE", k, "g", "$", "MKSTREAM");
      await s.block(a, "XREADGROUP", "GROUP", "g", "a", "BLOCK", 0, "STREAMS", "s1", ">");
      await s.block(b, "XREADGROUP", "GROUP", "g", "b", "BLOCK", 0, "STREAMS", "s2", ">");
      await s.block(c, "XREADGROUP", "GROUP", "g", "c", "BLOCK", 0, "STREAMS", "s3", ">");
      await s.run("SET", "s1", "now a string");
      await s.settle(a, "after SET");
      await s.run("RENAME", "s2", "elsewhere");
      await s.settle(b, "after RENAME");
      await s.run("XADD", "plain", "1-0", "f", "v");
      await s.run("RENAME", "plain", "s3");
      await s.settle(c, "after RENAME onto its key");
      await s.block(d, "XREADGROUP", "GROUP", "g", "d", "BLOCK", 0, "STREAMS", "s4", ">");
      await s.run("FLUSHALL");
      await s.settle(d, "after FLUSHALL");
    });
  });

  withRedis("XGROUP SETID back while a reader waits: the next XADD delivers from the new position", async () => {
    await sameAsRedis(async (s) => {
      const a = await s.client();
      for (const id of ["1-0", "2-0"]) await s.run("XADD", "s", id, "f", id);
      await s.run("XGROUP", "CREATE", "s", "g", "$");
      await s.block(a, "XREADGROUP", "GROUP", "g", "a", "BLOCK", 0, "STREAMS", "s", ">");
      await s.run("XGROUP", "SETID", "s", "g", "0");
      await s.blocked(a);
      await s.run("XADD", "s", "3-0", "f", "3-0");
      await s.reply(a, "woken");
      await s.run("XINFO", "GROUPS", "s");
    });
  });

  withRedis("its consumer is created when it is served, not when it blocks", async () => {
    await sameAsRedis(async (s) => {
      const a = await s.client();
      await s.run("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
      await s.block(a, "XREADGROUP", "GROUP", "g", "a", "BLOCK", 0, "STREAMS", "s", ">");
      await s.runMasked(maskIdle, "XINFO", "CONSUMERS", "s", "g");
      await s.run("XGROUP", "DELCONSUMER", "s", "g", "a");
      await s.run("XADD", "s", "1-0", "f", "v");
      await s.reply(a, "woken");
      await s.runMasked(maskIdle, "XINFO", "CONSUMERS", "s", "g");
      await s.run("XPENDING", "s", "g");
    });
  });

  withRedis("an entry added and deleted in one transaction, or trimmed by its own XADD", async () => {
    await sameAsRedis(async (s) => {
      const [a, b] = [await s.client(), await s.client()];
      await s.run("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
      await s.block(a, "XREADGROUP", "GROUP", "g", "a", "BLOCK", 0, "STREAMS", "s", ">");
      await s.run("MULTI");
      await s.run("XADD", "s", "1-0", "f", "v");
      await s.run("XDEL", "s", "1-0");
      await s.run("EXEC");
      await s.settle(a, "woken");
      await s.run("XGROUP", "CREATE", "t", "g", "$", "MKSTREAM");
      await s.block(b, "XREADGROUP", "GROUP", "g", "b", "BLOCK", 0, "STREAMS", "t", ">");
      await s.run("XADD", "t", "MAXLEN", 0, "1-0", "f", "v");
      await s.settle(b, "woken");
      await s.run("XINFO", "GROUPS", "s");
      await s.run("XINFO", "GROUPS", "t");
    });
  });

  withRedis("times out with a null; waiting creates no consumer", async () => {
    await sameAsRedis(async (s) => {
      const [a, b] = [await s.client(), await s.client(3)];
      await s.run("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
      a.send("XREADGROUP", "GROUP", "g", "a", "BLOCK", 20, "STREAMS", "s", ">");
      await s.reply(a, "timed out");
      b.send("XREADGROUP", "GROUP", "g", "b", "BLOCK", 20, "STREAMS", "s", ">");
      await s.reply(b, "timed out");
      await s.run("XINFO", "GROUPS", "s");
      await s.block(a, "XREADGROUP", "GROUP", "g", "a", "BLOCK", 0, "STREAMS", "s", ">");
      await s.unblock(a, "ERROR");
      await s.reply(a, "unblocked");
    });
  });

  test("a consumer that disconnects while blocked leaves the others waiting and served", async () => {
    const ctl = await connect();
    const [a, b] = [await RawClient.connect(redbunPort), await RawClient.connect(redbunPort)];
    try {
      await ctl.cmd("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
      a.send("XREADGROUP", "GROUP", "g", "a", "BLOCK", 0, "STREAMS", "s", ">");
      b.send("XREADGROUP", "GROUP", "g", "b", "BLOCK", 0, "STREAMS", "s", ">");
      await until(async () => (await blockedClients(ctl)) === 2, "both readers to block");
      a.close();
      await until(async () => (await blockedClients(ctl)) === 1, "the closed reader to go");
      await ctl.cmd("XADD", "s", "1-0", "f", "v");
      expect(await b.readRaw()).toBe(oneStream("s", entry("1-0", "f", "v")));
      expect(await ctl.cmd("XPENDING", "s", "g")).toEqual([1, "1-0", "1-0", [["b", "1"]]]);
    } finally {
      b.close();
      ctl.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// A stream of a million entries
// ---------------------------------------------------------------------------------------------

/** Writes the chunks (each a batch of whole commands) as the socket takes them and counts the
 *  replies without decoding them, so a million pipelined XADDs take what the server takes. Every
 *  reply must be a bulk string (XADD's ID); returns how many were errors. */
async function bulkXadd(port: number, chunks: Iterable<Buffer>, n: number): Promise<number> {
  let errors = 0, replies = 0, carry = Buffer.alloc(0);
  let done!: () => void, fail!: (e: Error) => void;
  const finished = new Promise<void>((res, rej) => { done = res; fail = rej; });
  const it = chunks[Symbol.iterator]();
  let head: Uint8Array | null = null;
  const flush = (sock: { write(b: Uint8Array): number }) => {
    for (;;) {
      if (!head) { const r = it.next(); if (r.done) return; head = r.value; }
      const w = sock.write(head!);
      if (w < head!.length) { head = head!.subarray(Math.max(0, w)); return; }
      head = null;
    }
  };
  const sock = await Bun.connect({
    hostname: "127.0.0.1", port,
    socket: {
      data(_s, d) {
        const buf = carry.length ? Buffer.concat([carry, d]) : Buffer.from(d);
        let p = 0;
        for (;;) {
          const nl = buf.indexOf(13, p);
          if (nl < 0 || nl + 1 >= buf.length) break;
          if (buf[p] === 36) { // $<len>\r\n<id>\r\n
            const nl2 = buf.indexOf(13, nl + 2);
            if (nl2 < 0 || nl2 + 1 >= buf.length) break;
            p = nl2 + 2;
          } else { errors++; p = nl + 2; }
          replies++;
        }
        carry = buf.subarray(p);
        if (replies >= n) done();
      },
      drain(s) { flush(s); },
      close() { fail(new Error(`connection closed after ${replies} replies`)); },
      error(_s, e) { fail(e); },
    },
  });
  flush(sock);
  await finished;
  sock.end();
  return errors;
}

/** XADD key <i>-0 f <i> for i in [from, to), in chunks of 20 000 commands. */
function* xaddChunks(key: string, from: number, to: number): Generator<Buffer> {
  for (let i = from; i < to; i += 20000) {
    let s = "";
    for (let j = i; j < Math.min(to, i + 20000); j++) {
      const id = `${j}-0`, v = String(j);
      s += `*5\r\n$4\r\nXADD\r\n$${key.length}\r\n${key}\r\n$${id.length}\r\n${id}\r\n$1\r\nf\r\n$${v.length}\r\n${v}\r\n`;
    }
    yield Buffer.from(s, "latin1");
  }
}

/** The fastest of `tries` round trips of one command (`args(i)` for the i-th try), in ms. */
async function fastestMs(c: RawClient, args: (i: number) => (string | number)[], tries = 5): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < tries; i++) {
    const t = performance.now();
    const raw = await c.raw(...args(i));
    best = Math.min(best, performance.now() - t);
    if (raw.startsWith("-")) throw new Error(`${args(i).join(" ")}: ${raw}`);
  }
  return best;
}

/** "Well under a few milliseconds": what one O(log n) stream command may take, round trip included. */
const FAST_MS = 5;

describe("a stream of a million entries", () => {
  const N = 1_000_000;
  let srv: SpawnedServer;
  let c: RawClient;

  beforeAll(async () => {
    srv = await spawnServer(["--save", "", "--appendonly", "no"]);
    c = await RawClient.connect(srv.port);
    expect(await bulkXadd(srv.port, xaddChunks("big", 1, N + 1), N)).toBe(0);
    expect(await c.raw("XLEN", "big")).toBe(`:${N}\r\n`);
  }, 60000);

  afterAll(async () => {
    c?.close();
    await srv?.stop();
  });

  test("XRANGE, XREVRANGE and XREAD of 10 entries from the middle each take well under a few ms", async () => {
    expect(await c.raw("XRANGE", "big", "500000", "+", "COUNT", 10)).toStartWith(`*10\r\n${entry("500000-0", "f", "500000")}`);
    const checks: [string, (i: number) => (string | number)[]][] = [
      ["XRANGE start + COUNT 10", (i) => ["XRANGE", "big", `${400000 + i * 1000}`, "+", "COUNT", 10]],
      ["XRANGE start end", (i) => ["XRANGE", "big", `${500000 + i}-0`, `${500009 + i}-0`]],
      ["XRANGE exclusive start", (i) => ["XRANGE", "big", `(${600000 + i}-0`, "+", "COUNT", 10]],
      ["XREVRANGE end - COUNT 10", (i) => ["XREVRANGE", "big", `${500000 + i * 7}`, "-", "COUNT", 10]],
      ["XREAD COUNT 10", (i) => ["XREAD", "COUNT", 10, "STREAMS", "big", `${700000 + i}-0`]],
      ["XLEN", () => ["XLEN", "big"]],
      ["XINFO STREAM", () => ["XINFO", "STREAM", "big"]],
    ];
    const slow = [];
    for (const [name, args] of checks) {
      const ms = await fastestMs(c, args);
      if (ms >= FAST_MS) slow.push(`${name}: ${ms.toFixed(2)} ms`);
    }
    expect(slow).toEqual([]);
    // 200 reads from all over the stream, pipelined, cost about what 200 PINGs do.
    const cmds = Array.from({ length: 200 }, (_, i) => ["XRANGE", "big", `${1 + ((i * 4999) % (N - 20))}`, "+", "COUNT", 10]);
    const t = performance.now();
    const replies = await pipeline(c, cmds);
    const ms = performance.now() - t;
    expect(replies.every((r) => r.startsWith("*10\r\n"))).toBe(true);
    expect(ms).toBeLessThan(200 * FAST_MS / 2);
  });

  test("XADD and XDEL take well under a few ms", async () => {
    let next = N + 1;
    expect(await fastestMs(c, () => ["XADD", "big", `${next++}-0`, "f", "v"])).toBeLessThan(FAST_MS);
    expect(await fastestMs(c, () => ["XADD", "big", "*", "f", "v"])).toBeLessThan(FAST_MS);
    expect(await fastestMs(c, (i) => ["XDEL", "big", `${300000 + i * 11}-0`])).toBeLessThan(FAST_MS);
    expect(await c.raw("XRANGE", "big", "300011", "300011")).toBe("*0\r\n");
    expect(await c.raw("XRANGE", "big", "300010", "300012")).toBe(arrOf(entry("300010-0", "f", "300010"), entry("300012-0", "f", "300012")));
  });

  test("XTRIM MAXLEN ~ and MINID ~ from the head take well under a few ms", async () => {
    const len = () => c.cmd("XLEN", "big") as Promise<number>;
    const before = await len();
    // Each trim drops whole nodes (100 entries each by default) from the head.
    const ms = await fastestMs(c, (i) => ["XTRIM", "big", "MAXLEN", "~", before - 1000 * (i + 1)]);
    expect(ms).toBeLessThan(FAST_MS);
    const after = await len();
    expect(after).toBeLessThanOrEqual(before - 4000);
    expect(after).toBeGreaterThan(before - 5200);
    const first = (await c.cmd("XRANGE", "big", "-", "+", "COUNT", 1)) as [string, string[]][];
    const firstMs = Number(first[0][0].split("-")[0]);
    expect(await fastestMs(c, (i) => ["XTRIM", "big", "MINID", "~", firstMs + 1000 * (i + 1)])).toBeLessThan(FAST_MS);
    expect(await fastestMs(c, () => ["XADD", "big", "MAXLEN", "~", 900000, "*", "f", "v"])).toBeLessThan(FAST_MS);
    expect(await len()).toBeGreaterThanOrEqual(900000);
  });

  test("commands over a pending entries list of 100 000 entries each take well under a few ms", async () => {
    expect(await c.raw("XGROUP", "CREATE", "big", "g", "0")).toBe("+OK\r\n");
    // Deliver 100 000 entries to alice, 1000 per XREADGROUP.
    const replies = await pipeline(c, Array.from({ length: 100 }, () => ["XREADGROUP", "GROUP", "g", "alice", "COUNT", 1000, "STREAMS", "big", ">"]), 60000);
    expect(replies.every((r) => r.startsWith("*1\r\n*2\r\n$3\r\nbig\r\n*1000\r\n"))).toBe(true);
    const [[firstPending]] = (await c.cmd("XPENDING", "big", "g", "-", "+", 1)) as string[][];
    const mid = BigInt(firstPending.split("-")[0]) + 50000n;
    const checks: [string, (i: number) => (string | number)[]][] = [
      ["XPENDING summary", () => ["XPENDING", "big", "g"]],
      ["XPENDING - + 10", () => ["XPENDING", "big", "g", "-", "+", 10]],
      ["XPENDING from the middle", (i) => ["XPENDING", "big", "g", `${mid + BigInt(i)}`, "+", 10, "alice"]],
      ["XPENDING IDLE from the middle", (i) => ["XPENDING", "big", "g", "IDLE", 0, `${mid + BigInt(i)}`, "+", 10]],
      ["XREADGROUP history COUNT 10", (i) => ["XREADGROUP", "GROUP", "g", "alice", "COUNT", 10, "STREAMS", "big", `${mid + BigInt(i * 20)}`]],
      ["XCLAIM one", (i) => ["XCLAIM", "big", "g", "bob", 0, `${mid + 100n + BigInt(i)}-0`]],
      ["XAUTOCLAIM COUNT 10", (i) => ["XAUTOCLAIM", "big", "g", "bob", 0, `${mid + 1000n + BigInt(i * 20)}`, "COUNT", 10]],
      ["XACK one", (i) => ["XACK", "big", "g", `${mid + 2000n + BigInt(i)}-0`]],
      ["XINFO STREAM FULL COUNT 10", () => ["XINFO", "STREAM", "big", "FULL", "COUNT", 10]],
      ["XINFO GROUPS", () => ["XINFO", "GROUPS", "big"]],
      ["XINFO CONSUMERS", () => ["XINFO", "CONSUMERS", "big", "g"]],
    ];
    const slow = [];
    for (const [name, args] of checks) {
      const ms = await fastestMs(c, args, 3);
      if (ms >= FAST_MS) slow.push(`${name}: ${ms.toFixed(2)} ms`);
    }
    expect(slow).toEqual([]);
  }, 60000);
});

const arrOf = (...items: string[]) => `*${items.length}\r\n${items.join("")}`;

// ---------------------------------------------------------------------------------------------
// Persistence: RDB files and DUMP / RESTORE
// ---------------------------------------------------------------------------------------------

const range = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

/** Streams of every shape the RDB format has to carry (in db 0, except `s` in db 3): several
 *  nodes, entries whose fields differ from their node's first entry, integers of every listpack
 *  width, long and binary values, deleted entries inside nodes, groups with pending entries
 *  across consumers (one pending entry's message deleted), an idle consumer, groups with and
 *  without entries-read, an empty stream with a group, a stream whose entries were all deleted,
 *  and IDs at the top of the ID space. Consumers and groups are created in name order. */
const STREAMS: (string | number)[][] = [
  ...range(250, (i) => ["XADD", "s", `${1000 + i}-${i % 3}`, ...(i % 5 === 0 ? ["other", `x${i}`] : ["f", `${i}`, "n", `${i * 1000003 - 500000}`])]),
  ["XADD", "s", "2000-0", "big", "b".repeat(5000), "bin", "\x00\x01\r\n\xff", "mid", "m".repeat(100)],
  ["XADD", "s", "2000-1", "i64", "9223372036854775807", "neg", "-9223372036854775808", "", "", "small", "-4096", "w16", "32767", "w24", "-8388608"],
  ["XDEL", "s", "1010-1", "1100-0", "1201-0", "1203-2"],
  ["XTRIM", "s", "MAXLEN", 245],
  ["XGROUP", "CREATE", "s", "g1", "0"],
  ["XREADGROUP", "GROUP", "g1", "alice", "COUNT", 20, "STREAMS", "s", ">"],
  ["XREADGROUP", "GROUP", "g1", "bob", "COUNT", 5, "STREAMS", "s", ">"],
  ["XACK", "s", "g1", "1006-0", "1007-1", "1008-2"],
  ["XCLAIM", "s", "g1", "carol", 0, "1009-0", "1011-2", "TIME", 1000, "RETRYCOUNT", 7],
  ["XGROUP", "CREATECONSUMER", "s", "g1", "dave"],
  ["XDEL", "s", "1012-0"],
  ["XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", 17],
  ["XGROUP", "CREATE", "s", "g3", "1100-0", "ENTRIESREAD", 95],
  ["XREADGROUP", "GROUP", "g3", "zed", "NOACK", "COUNT", 3, "STREAMS", "s", ">"],
  ["XSETID", "s", "3000-0", "ENTRIESADDED", 1000, "MAXDELETEDID", "1500-0"],
  ["XGROUP", "CREATE", "empty", "g", "$", "MKSTREAM"],
  ["XADD", "gone", "5-0", "a", "1"], ["XADD", "gone", "6-0", "a", "1"], ["XDEL", "gone", "5-0", "6-0"],
  ["XADD", "top", "18446744073709551615-18446744073709551614", "a", "1"], ["XADD", "top", "18446744073709551615-*", "b", "2"],
  ["SELECT", 3], ["XADD", "s", "1-1", "a", "1"], ["XGROUP", "CREATE", "s", "g", "0"], ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"],
  ["SELECT", 0],
];
const STREAM_KEYS: [number, string][] = [[0, "s"], [0, "empty"], [0, "gone"], [0, "top"], [3, "s"]];

/** XINFO STREAM's first-entry and last-entry of an empty stream: which null type they are is the
 *  differential suite's business; here only the persisted data counts. */
const sameNulls = (raw: string): string => raw.replace(/(\$1[01]\r\n(?:first|last)-entry\r\n)[*$]-1\r\n/g, "$1<null>\r\n");

/** Everything a stream shows of itself (times included: they come from the file), per key. */
async function streamSnapshot(c: RawClient): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [db, key] of STREAM_KEYS) {
    await c.cmd("SELECT", db);
    for (const args of [["TYPE", key], ["XINFO", "STREAM", key], ["XINFO", "STREAM", key, "FULL", "COUNT", 0], ["XINFO", "GROUPS", key], ["XRANGE", key, "-", "+"]]) {
      out[`db${db} ${args.join(" ")}`] = sameNulls(maskRadixNodes(await c.raw(...args)));
    }
  }
  await c.cmd("SELECT", 0);
  return out;
}

async function apply(c: RawClient, cmds: (string | number)[][]): Promise<void> {
  const replies = await pipeline(c, cmds);
  replies.forEach((r, i) => { if (r.startsWith("-")) throw new Error(`${JSON.stringify(cmds[i]).slice(0, 120)}: ${r}`); });
}

describe("RDB persistence of streams", () => {
  test("SAVE and a restart keep streams, groups, consumers and pending entries exactly", async () => {
    const dir = tempDir("streams-rdb");
    let srv = await startRedbun(dir);
    try {
      await apply(srv.c, STREAMS);
      const before = await streamSnapshot(srv.c);
      expect(await srv.c.raw("SAVE")).toBe("+OK\r\n");
      await srv.stop();
      srv = await startRedbun(dir);
      expect(await streamSnapshot(srv.c)).toEqual(before);
      // And the reloaded streams go on as before.
      expect(await srv.c.raw("XADD", "s", "3000-*", "f", "v")).toBe("$6\r\n3000-1\r\n");
      // alice's next pending entry after 1009-0 is 1012-0, whose message was deleted: [id, nil].
      expect(await srv.c.raw("XREADGROUP", "GROUP", "g1", "alice", "COUNT", 1, "STREAMS", "s", "1009-0")).toBe(oneStream("s", "*2\r\n$6\r\n1012-0\r\n*-1\r\n"));
    } finally {
      await srv.stop();
    }
  }, 30000);

  withRedis("redis-check-rdb accepts Redbun's file, and redis-server loads it to the same streams", async () => {
    const dir = tempDir("streams-rdb-out");
    const srv = await startRedbun(dir);
    let ref: Server | null = null;
    try {
      await apply(srv.c, STREAMS);
      const mine = await streamSnapshot(srv.c);
      expect(await srv.c.raw("SAVE")).toBe("+OK\r\n");
      if (REDIS_CHECK_RDB) {
        const check = await run([REDIS_CHECK_RDB, join(dir, "dump.rdb")]);
        expect(check.out).toContain("RDB looks OK");
      }
      const refDir = tempDir("streams-rdb-ref");
      copyFileSync(join(dir, "dump.rdb"), join(refDir, "dump.rdb"));
      ref = await startRedis(refDir);
      expect(await streamSnapshot(ref.c)).toEqual(mine);
    } finally {
      await ref?.stop();
      await srv.stop();
    }
  }, 30000);

  withRedis("an RDB written by redis-server loads in Redbun to the same streams", async () => {
    const refDir = tempDir("streams-rdb-ref");
    const ref = await startRedis(refDir);
    let srv: Server | null = null;
    try {
      await apply(ref.c, STREAMS);
      const theirs = await streamSnapshot(ref.c);
      expect(await ref.c.raw("SAVE")).toBe("+OK\r\n");
      const dir = tempDir("streams-rdb-in");
      copyFileSync(join(refDir, "dump.rdb"), join(dir, "dump.rdb"));
      srv = await startRedbun(dir);
      expect(await streamSnapshot(srv.c)).toEqual(theirs);
    } finally {
      await srv?.stop();
      await ref.stop();
    }
  }, 30000);

  withRedis("a file's stream nodes stay as they were: the node count and ~ trims match redis-server loading the same file", async () => {
    const refDir = tempDir("streams-rdb-nodes");
    const ref = await startRedis(refDir);
    let srv: Server | null = null, reloaded: Server | null = null;
    try {
      // Nodes of 10 entries in the file; both servers load it with the default of 100.
      expect(await ref.c.raw("CONFIG", "SET", "stream-node-max-entries", 10)).toBe("+OK\r\n");
      for (let i = 1; i <= 35; i++) await ref.c.raw("XADD", "s", `${i}-0`, "f", `v${i}`);
      await ref.c.raw("XDEL", "s", "3-0", "12-0");
      expect(await ref.c.raw("SAVE")).toBe("+OK\r\n");
      await ref.stop();
      const dir = tempDir("streams-rdb-nodes-in");
      copyFileSync(join(refDir, "dump.rdb"), join(dir, "dump.rdb"));
      reloaded = await startRedis(refDir);
      srv = await startRedbun(dir);
      const nodes = async (c: RawClient) => /radix-tree-keys\r\n:(\d+)/.exec(await c.raw("XINFO", "STREAM", "s"))![1];
      expect(await nodes(srv.c)).toBe(await nodes(reloaded.c));
      expect(await nodes(srv.c)).toBe("4");
      for (const c of [srv.c, reloaded.c]) await c.raw("XADD", "s", "36-0", "f", "v36");
      expect(await srv.c.raw("XTRIM", "s", "MAXLEN", "~", 20)).toBe(await reloaded.c.raw("XTRIM", "s", "MAXLEN", "~", 20));
      expect(await srv.c.raw("XRANGE", "s", "-", "+")).toBe(await reloaded.c.raw("XRANGE", "s", "-", "+"));
    } finally {
      await reloaded?.stop();
      await srv?.stop();
    }
  }, 30000);
});

describe("DUMP and RESTORE of streams", () => {
  /** XINFO STREAM FULL of `key` and its entries, as compared between the two servers. */
  const look = async (c: RawClient, key: string) =>
    [maskRadixNodes(await c.raw("XINFO", "STREAM", key, "FULL", "COUNT", 0)), await c.raw("XINFO", "GROUPS", key), await c.raw("XRANGE", key, "-", "+")];

  withRedis("a stream DUMPed by Redbun RESTOREs in redis-server to the same stream, and the other way round", async () => {
    const mine = await connect();
    const theirs = redis!.c;
    try {
      await theirs.cmd("FLUSHALL");
      const db0 = STREAMS.slice(0, STREAMS.findIndex((a) => a[0] === "SELECT"));
      await apply(mine, db0);
      await apply(theirs, db0);
      for (const key of ["s", "empty", "gone", "top"]) {
        const fromRedbun = (await mine.cmd("DUMP", key)) as string;
        expect(await theirs.raw("RESTORE", `${key}:from-redbun`, 0, fromRedbun)).toBe("+OK\r\n");
        const fromRedis = (await theirs.cmd("DUMP", key)) as string;
        expect(await mine.raw("RESTORE", `${key}:from-redis`, 0, fromRedis)).toBe("+OK\r\n");
        expect(await look(theirs, `${key}:from-redbun`)).toEqual(await look(mine, key));
        expect(await look(mine, `${key}:from-redis`)).toEqual(await look(theirs, key));
      }
      // A damaged payload is refused the same way by both.
      const dump = (await mine.cmd("DUMP", "s")) as string;
      const bad = dump.slice(0, 20) + String.fromCharCode(dump.charCodeAt(20) ^ 1) + dump.slice(21);
      expect(await mine.raw("RESTORE", "x", 0, bad)).toBe(await theirs.raw("RESTORE", "x", 0, bad));
    } finally {
      mine.close();
    }
  }, 30000);
});

// ---------------------------------------------------------------------------------------------
// ioredis
// ---------------------------------------------------------------------------------------------

describe("ioredis", () => {
  test("an XREAD BLOCK loop sees every entry a producer adds, once and in order", async () => {
    await (await connect()).close();
    const producer = new IORedis(redbunPort, "127.0.0.1", { maxRetriesPerRequest: 1 });
    const consumer = new IORedis(redbunPort, "127.0.0.1", { maxRetriesPerRequest: 1 });
    const TOTAL = 500;
    const seen: string[] = [];
    try {
      const reading = (async () => {
        let last = "$";
        const deadline = Date.now() + 10000;
        while (seen.length < TOTAL && Date.now() < deadline) {
          const res = (await consumer.xread("COUNT", 100, "BLOCK", 1000, "STREAMS", "events", last)) as [string, [string, string[]][]][] | null;
          if (!res) continue;
          for (const [id, fields] of res[0][1]) { seen.push(`${id} ${fields.join(" ")}`); last = id; }
        }
      })();
      // Wait until the consumer is parked, so '$' is the empty stream's start and nothing is missed.
      await until(async () => /blocked_clients:1\r/.test(await producer.info("clients")), "the consumer to block");
      for (let batch = 0; batch < 10; batch++) {
        const p = producer.pipeline();
        for (let i = 0; i < TOTAL / 10; i++) p.xadd("events", "*", "n", String(batch * (TOTAL / 10) + i));
        await p.exec();
        await Bun.sleep(1);
      }
      await reading;
      expect(seen).toHaveLength(TOTAL);
      expect(seen.map((s) => s.split(" ")[2])).toEqual(range(TOTAL, (i) => String(i)));
      const ids = seen.map((s) => s.split(" ")[0]);
      expect(new Set(ids).size).toBe(TOTAL);
      expect(await producer.xlen("events")).toBe(TOTAL);
    } finally {
      producer.disconnect();
      consumer.disconnect();
    }
  });

  test("XREADGROUP workers with XACK process every entry exactly once", async () => {
    await (await connect()).close();
    const admin = new IORedis(redbunPort, "127.0.0.1", { maxRetriesPerRequest: 1 });
    const workers = ["w1", "w2", "w3"].map((name) => ({ name, client: new IORedis(redbunPort, "127.0.0.1", { maxRetriesPerRequest: 1 }) }));
    const TOTAL = 300;
    const processed = new Map<string, string[]>();
    let stop = false;
    try {
      expect(await admin.xgroup("CREATE", "tasks", "workers", "$", "MKSTREAM")).toBe("OK");
      const loops = workers.map(async ({ name, client }) => {
        while (!stop) {
          const res = (await client.xreadgroup("GROUP", "workers", name, "COUNT", 7, "BLOCK", 100, "STREAMS", "tasks", ">")) as [string, [string, string[]][]][] | null;
          if (!res) continue;
          for (const [id, fields] of res[0][1]) {
            processed.set(fields[1], [...(processed.get(fields[1]) ?? []), name]);
            expect(await client.xack("tasks", "workers", id)).toBe(1);
          }
        }
      });
      for (let i = 0; i < TOTAL; i++) {
        await admin.xadd("tasks", "*", "task", String(i));
        if (i % 25 === 0) await Bun.sleep(1);
      }
      await until(async () => processed.size === TOTAL, "every task to be processed", 10000);
      stop = true;
      await Promise.all(loops);
      expect([...processed.values()].filter((by) => by.length !== 1)).toEqual([]);
      expect(new Set(processed.keys())).toEqual(new Set(range(TOTAL, (i) => String(i))));
      expect(await admin.xpending("tasks", "workers")).toEqual([0, null, null, null]);
      const [group] = (await admin.xinfo("GROUPS", "tasks")) as unknown[][];
      expect(group.slice(6)).toEqual(["last-delivered-id", (await admin.xrevrange("tasks", "+", "-", "COUNT", 1))[0][0], "entries-read", TOTAL, "lag", 0]);
      // More than one worker got work.
      const perWorker = new Map<string, number>();
      for (const [by] of processed.values()) perWorker.set(by, (perWorker.get(by) ?? 0) + 1);
      expect(perWorker.size).toBeGreaterThan(1);
    } finally {
      stop = true;
      admin.disconnect();
      for (const { client } of workers) client.disconnect();
    }
  });
});
