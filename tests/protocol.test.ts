// main.ts, RESP: the resumable request parser (split frames, pipelines, binary-safe
// bulks, inline commands, protocol errors, the unauthenticated limits) and the reply writer (a slow
// reader's output buffer, RESP3 types). Replies are compared as exact wire bytes.
import { describe, test, expect, beforeAll, afterAll } from "bun:test";
import net from "node:net";
import { connect, sharedServer, spawnServer, type SpawnedServer } from "./helpers.ts";
import { RawClient, encode, replyEnd } from "./client.ts";

/** A deterministic PRNG (mulberry32), so "random" splits are the same on every run. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Lets the in-process server run its read handler, so the next write arrives as a separate read. */
const tick = () => Bun.sleep(1);

/** "$<n>\r\n<s>\r\n" for a latin1 string. */
const bulk = (s: string) => `$${s.length}\r\n${s}\r\n`;

/** One INFO field, as a string. */
async function infoField(c: RawClient, section: string, field: string): Promise<string> {
  const text = (await c.cmd("INFO", section)) as string;
  const m = new RegExp(`^${field}:(.*)\r$`, "m").exec(text);
  if (!m) throw new Error(`no ${field} in INFO ${section}`);
  return m[1];
}

/** Reads n replies and returns them concatenated. */
async function readReplies(c: RawClient, n: number): Promise<string> {
  let out = "";
  for (let i = 0; i < n; i++) out += await c.readRaw();
  return out;
}

const ALL_BYTES = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join("");

describe("request parser: frames split across reads", () => {
  test("a command written one byte at a time gets the reply it gets when written whole", async () => {
    const c = await connect();
    const frame = encode(["SET", "k\r\n", "v\r\n$1\r\n*"]);
    const readsBefore = Number(await infoField(c, "stats", "total_reads_processed"));
    for (const byte of frame) { c.write(Uint8Array.of(byte)); await tick(); }
    expect(await c.readRaw()).toBe("+OK\r\n");
    // The server really saw one read per byte, or the test proves nothing.
    const reads = Number(await infoField(c, "stats", "total_reads_processed")) - readsBefore;
    expect(reads).toBeGreaterThanOrEqual(frame.length);
    expect(await c.raw("GET", "k\r\n")).toBe(bulk("v\r\n$1\r\n*"));
    c.close();
  });

  test("an inline command written one byte at a time is answered once, at its newline", async () => {
    const c = await connect();
    for (const ch of 'SET k "a b"\r\n') { c.write(ch); await tick(); }
    expect(await c.readRaw()).toBe("+OK\r\n");
    expect(c.pending()).toBe("");
    expect(await c.raw("GET", "k")).toBe("$3\r\na b\r\n");
    c.close();
  });

  test("a two-command pipeline split at every byte boundary gets both replies", async () => {
    const c = await connect();
    const frame = Buffer.concat([encode(["SET", "k", "a\r\nb"]), encode(["GET", "k"]), Buffer.from("PING\r\n")]);
    for (let at = 1; at < frame.length; at++) {
      c.write(frame.subarray(0, at));
      await tick();
      c.write(frame.subarray(at));
      expect(await readReplies(c, 3)).toBe("+OK\r\n$4\r\na\r\nb\r\n+PONG\r\n");
    }
    c.close();
  });

  test("a mixed pipeline cut at seeded random points is answered exactly as if sent whole", async () => {
    const c = await connect();
    const rand = prng(42);
    const model = new Map<string, string>();
    let counter = 0;
    const parts: Buffer[] = [];
    let expected = "";
    for (let i = 0; i < 120; i++) {
      const key = `k${Math.floor(rand() * 10)}`;
      const r = rand();
      if (r < 0.3) {
        const len = Math.floor(rand() * 40);
        let val = "";
        for (let j = 0; j < len; j++) val += rand() < 0.2 ? "\r\n" : String.fromCharCode(Math.floor(rand() * 256));
        parts.push(encode(["SET", key, val]));
        model.set(key, val);
        expected += "+OK\r\n";
      } else if (r < 0.55) {
        parts.push(encode(["GET", key]));
        const v = model.get(key);
        expected += v === undefined ? "$-1\r\n" : bulk(v);
      } else if (r < 0.7) {
        parts.push(Buffer.from("INCR counter\r\n"));
        expected += `:${++counter}\r\n`;
      } else if (r < 0.8) {
        parts.push(encode(["ECHO", ""]));
        expected += "$0\r\n\r\n";
      } else if (r < 0.9) {
        parts.push(Buffer.from(rand() < 0.5 ? "*0\r\n" : "\r\n")); // ignored, no reply
      } else {
        parts.push(Buffer.from('ECHO "x\\x00y"\r\n'));
        expected += "$3\r\nx\0y\r\n";
      }
    }
    const all = Buffer.concat(parts);
    for (let pos = 0; pos < all.length;) {
      const n = 1 + Math.floor(rand() * 48);
      c.write(all.subarray(pos, pos + n));
      pos += n;
      await tick();
    }
    let got = "";
    while (got.length < expected.length) got += await c.readRaw();
    expect(got).toBe(expected);
    c.close();
  });

  test("a bulk length line split between its digits is read as one number", async () => {
    const c = await connect();
    c.write("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1");
    await tick();
    c.write("2\r\nhello world!\r\n");
    expect(await c.readRaw()).toBe("+OK\r\n");
    expect(await c.raw("STRLEN", "k")).toBe(":12\r\n");
    c.close();
  });

  test("a CR at the end of a read and its LF at the start of the next still end the line", async () => {
    const c = await connect();
    c.write("*1\r");
    await tick();
    c.write("\n$4\r");
    await tick();
    c.write("\nPING\r");
    await tick();
    expect(c.pending()).toBe("");
    c.write("\n");
    expect(await c.readRaw()).toBe("+PONG\r\n");
    c.close();
  });
});

describe("request parser: pipelines", () => {
  test("10,000 commands in one write are all answered, complete and in order", async () => {
    const c = await connect();
    const parts: Buffer[] = [];
    let expected = "";
    for (let i = 0; i < 5000; i++) {
      parts.push(encode(["SET", `key:${i}`, `value:${i}`]), encode(["GET", `key:${i}`]));
      expected += "+OK\r\n" + bulk(`value:${i}`);
    }
    c.write(Buffer.concat(parts));
    expect(await readReplies(c, 10000)).toBe(expected);
    expect(await c.raw("DBSIZE")).toBe(":5000\r\n");
    c.close();
  });

  test("10,000 inline commands in one write are answered in order", async () => {
    const c = await connect();
    c.write("INCR n\r\n".repeat(10000));
    let expected = "";
    for (let i = 1; i <= 10000; i++) expected += `:${i}\r\n`;
    expect(await readReplies(c, 10000)).toBe(expected);
    c.close();
  });

  test("a pipeline whose replies far exceed the socket buffers arrives complete", async () => {
    const c = await connect();
    const value = "0123456789abcdef".repeat(512); // 8 KB
    await c.raw("SET", "v", value);
    c.write(encode(["GET", "v"]).toString("latin1").repeat(2000)); // 16 MB of replies
    const one = bulk(value);
    for (let i = 0; i < 2000; i++) expect(await c.readRaw()).toBe(one);
    expect(c.pending()).toBe("");
    c.close();
  });
});

describe("request parser: bulk arguments are binary-safe", () => {
  test("a value and a key holding all 256 byte values round-trip through SET and GET", async () => {
    const c = await connect();
    expect(await c.raw("SET", ALL_BYTES, ALL_BYTES)).toBe("+OK\r\n");
    expect(await c.raw("GET", ALL_BYTES)).toBe(bulk(ALL_BYTES));
    expect(await c.raw("STRLEN", ALL_BYTES)).toBe(":256\r\n");
    expect(await c.raw("KEYS", "*")).toBe("*1\r\n" + bulk(ALL_BYTES));
    c.close();
  });

  test("CRLF and protocol-looking bytes inside a value are data, not frames", async () => {
    const c = await connect();
    const value = "\r\n*1\r\n$4\r\nPING\r\n\r\n-ERR x\r\n+OK\r\n";
    expect(await c.raw("SET", "k", value)).toBe("+OK\r\n");
    expect(await c.raw("GET", "k")).toBe(bulk(value));
    expect(c.pending()).toBe("");
    c.close();
  });

  test("lengths count bytes, not characters: a UTF-8 é is two bytes", async () => {
    const c = await connect();
    const e = Buffer.from("é", "utf8").toString("latin1");
    expect(await c.raw("SET", "k", e)).toBe("+OK\r\n");
    expect(await c.raw("STRLEN", "k")).toBe(":2\r\n");
    expect(await c.raw("APPEND", "k", e)).toBe(":4\r\n");
    expect(await c.raw("GETRANGE", "k", "1", "2")).toBe("$2\r\n\xa9\xc3\r\n");
    c.close();
  });

  test("an empty bulk is an empty value, not nil", async () => {
    const c = await connect();
    expect(await c.raw("SET", "", "")).toBe("+OK\r\n");
    expect(await c.raw("GET", "")).toBe("$0\r\n\r\n");
    expect(await c.raw("EXISTS", "")).toBe(":1\r\n");
    c.close();
  });

  test("a 5 MB value of varied bytes round-trips intact", async () => {
    const c = await connect();
    const rand = prng(7);
    const bytes = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < bytes.length; i += 4) bytes.writeUInt32LE(Math.floor(rand() * 4294967296), i);
    const value = bytes.toString("latin1");
    expect(await c.raw("SET", "big", value)).toBe("+OK\r\n");
    expect(await c.raw("STRLEN", "big")).toBe(":5242880\r\n");
    const reply = await c.raw("GET", "big");
    expect(reply.length).toBe(bulk(value).length);
    expect(reply === bulk(value)).toBe(true); // not toBe(): a failing diff of 5 MB is unreadable
    expect(await c.raw("GETRANGE", "big", "-3", "-1")).toBe(bulk(value.slice(-3)));
    c.close();
  });

  test("a 5 MB value dribbled in 64 KB reads is assembled correctly", async () => {
    const c = await connect();
    const value = "abcdefghij".repeat(524288); // 5 MB
    const frame = encode(["SET", "big", value]);
    for (let pos = 0; pos < frame.length; pos += 64 * 1024) {
      c.write(frame.subarray(pos, pos + 64 * 1024));
      await tick();
    }
    expect(await c.readRaw()).toBe("+OK\r\n");
    expect(await c.raw("STRLEN", "big")).toBe(`:${value.length}\r\n`);
    c.close();
  });
});

describe("request parser: inline commands", () => {
  test('"\\x41" in double quotes is the byte A', async () => {
    const c = await connect();
    c.write('SET k "\\x41"\r\n');
    expect(await c.readRaw()).toBe("+OK\r\n");
    expect(await c.raw("GET", "k")).toBe("$1\r\nA\r\n");
    c.close();
  });

  test("\\' inside single quotes is a quote", async () => {
    const c = await connect();
    c.write("SET k '\\''\r\n");
    expect(await c.readRaw()).toBe("+OK\r\n");
    expect(await c.raw("GET", "k")).toBe("$1\r\n'\r\n");
    c.close();
  });

  test('"a\\nb" in double quotes holds a real newline', async () => {
    const c = await connect();
    c.write('SET k "a\\nb"\r\n');
    expect(await c.readRaw()).toBe("+OK\r\n");
    expect(await c.raw("GET", "k")).toBe("$3\r\na\nb\r\n");
    c.close();
  });

  test("other escapes, a broken \\x and an escaped quote follow sdssplitargs", async () => {
    const c = await connect();
    c.write('SET k "\\x4g\\y\\\\\\"\\t\\r\\a\\b\\xff\\x00"\r\nGET k\r\n');
    expect(await readReplies(c, 2)).toBe("+OK\r\n$12\r\nx4gy\\\"\t\r\x07\b\xff\0\r\n");
    c.close();
  });

  test("tabs and runs of spaces separate arguments; a bare LF ends the line", async () => {
    const c = await connect();
    c.write("\t SET  k\tv \nGET k\n");
    expect(await readReplies(c, 2)).toBe("+OK\r\n$1\r\nv\r\n");
    c.close();
  });

  test('"" and \'\' are empty arguments', async () => {
    const c = await connect();
    c.write("SET \"\" ''\r\nSTRLEN \"\"\r\n");
    expect(await readReplies(c, 2)).toBe("+OK\r\n:0\r\n");
    c.close();
  });
});

describe("request parser: empty requests", () => {
  test("empty lines, blank lines, *0 and *-1 get no reply at all", async () => {
    const c = await connect();
    c.write("\r\n\n   \r\n\t\r\n*0\r\n*-1\r\n");
    await Bun.sleep(30);
    expect(c.pending()).toBe("");
    expect(await c.raw("PING")).toBe("+PONG\r\n");
    expect(c.pending()).toBe("");
    c.close();
  });

  test("they do not count as commands", async () => {
    const c = await connect();
    const before = Number(await infoField(c, "stats", "total_commands_processed"));
    c.write("\r\n*0\r\n\r\n");
    await Bun.sleep(30);
    // Only the INFO itself counts.
    expect(Number(await infoField(c, "stats", "total_commands_processed"))).toBe(before + 1);
    c.close();
  });
});

describe("request parser: protocol errors", () => {
  const cases: [string, string, string][] = [
    ["a non-number multibulk count", "*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n"],
    ["a multibulk count above INT_MAX", "*2147483648\r\n", "-ERR Protocol error: invalid multibulk length\r\n"],
    ["a non-number bulk length", "*1\r\n$abc\r\n", "-ERR Protocol error: invalid bulk length\r\n"],
    ["a negative bulk length", "*1\r\n$-1\r\n", "-ERR Protocol error: invalid bulk length\r\n"],
    ["a bulk above proto-max-bulk-len", "*1\r\n$536870913\r\n", "-ERR Protocol error: invalid bulk length\r\n"],
    ["a missing $", "*2\r\n$4\r\nECHO\r\nhello\r\n", "-ERR Protocol error: expected '$', got 'h'\r\n"],
    ["a CR where $ belongs (shown as a space)", "*1\r\n\r\n\r\n", "-ERR Protocol error: expected '$', got ' '\r\n"],
    ["unbalanced double quotes", 'SET k "v\r\n', "-ERR Protocol error: unbalanced quotes in request\r\n"],
    ["unbalanced single quotes", "SET k 'v\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"],
    ["a closing quote followed by a letter", 'SET k "v"x\r\n', "-ERR Protocol error: unbalanced quotes in request\r\n"],
    ["an inline request over 64 KB without a newline", "x".repeat(64 * 1024 + 1), "-ERR Protocol error: too big inline request\r\n"],
    ["a multibulk count line over 64 KB", "*" + "1".repeat(64 * 1024 + 1), "-ERR Protocol error: too big mbulk count string\r\n"],
    ["a bulk count line over 64 KB", "*1\r\n$" + "1".repeat(64 * 1024 + 1), "-ERR Protocol error: too big bulk count string\r\n"],
  ];
  for (const [what, input, reply] of cases) {
    test(`${what} gets its exact error, then the connection closes`, async () => {
      const c = await connect();
      c.write(input);
      expect(await c.waitClosed()).toBe(reply);
    });
  }

  test("commands before the bad frame in the same write are answered first", async () => {
    const c = await connect();
    c.write("SET k v\r\n*1\r\n$3\r\nGET\r\n*x\r\nPING\r\n");
    expect(await c.waitClosed()).toBe("+OK\r\n-ERR wrong number of arguments for 'get' command\r\n-ERR Protocol error: invalid multibulk length\r\n");
  });

  test("the error closes only that connection: other clients keep working, mid-frame too", async () => {
    const other = await connect();
    const bad = await connect();
    await bad.raw("SET", "kept", "yes");
    other.write("*2\r\n$3\r\nGET\r\n$4\r\nke"); // half a command, pending on the other client
    bad.write("*1\r\nfoo\r\n");
    expect(await bad.waitClosed()).toBe("-ERR Protocol error: expected '$', got 'f'\r\n");
    other.write("pt\r\n");
    expect(await other.readRaw()).toBe("$3\r\nyes\r\n");
    expect(await other.raw("PING")).toBe("+PONG\r\n");
    const fresh = await RawClient.connect((await sharedServer()).port);
    expect(await fresh.raw("GET", "kept")).toBe("$3\r\nyes\r\n");
    other.close();
    fresh.close();
  });
});

describe("request parser: unauthenticated limits", () => {
  let srv: SpawnedServer;
  beforeAll(async () => { srv = await spawnServer(["--requirepass", "pw", "--save", ""]); });
  afterAll(async () => { await srv?.stop(); });

  test("a multibulk of more than 10 arguments before AUTH is a protocol error", async () => {
    const c = await RawClient.connect(srv.port);
    c.write("*11\r\n");
    expect(await c.waitClosed()).toBe("-ERR Protocol error: unauthenticated multibulk length\r\n");
  });

  test("a multibulk of 10 arguments before AUTH is parsed and refused with NOAUTH", async () => {
    const c = await RawClient.connect(srv.port);
    c.send("MSET", "a", "1", "b", "2", "c", "3", "d", "4", "e");
    expect(await c.readRaw()).toBe("-NOAUTH Authentication required.\r\n");
    c.close();
  });

  test("a bulk longer than 16384 bytes before AUTH is a protocol error", async () => {
    const c = await RawClient.connect(srv.port);
    c.write("*2\r\n$4\r\nECHO\r\n$16385\r\n");
    expect(await c.waitClosed()).toBe("-ERR Protocol error: unauthenticated bulk length\r\n");
  });

  test("a bulk of exactly 16384 bytes before AUTH is read whole and refused with NOAUTH", async () => {
    const c = await RawClient.connect(srv.port);
    c.send("ECHO", "x".repeat(16384));
    expect(await c.readRaw()).toBe("-NOAUTH Authentication required.\r\n");
    c.close();
  });

  test("after AUTH, both limits are gone", async () => {
    const c = await RawClient.connect(srv.port);
    expect(await c.raw("AUTH", "pw")).toBe("+OK\r\n");
    expect(await c.raw("MSET", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5")).toBe("+OK\r\n");
    expect(await c.raw("SET", "big", "y".repeat(20000))).toBe("+OK\r\n");
    expect(await c.raw("STRLEN", "big")).toBe(":20000\r\n");
    c.close();
  });
});

describe("reply writer: slow readers", () => {
  test("a client that stops reading gets every byte later, and others are served meanwhile", async () => {
    const c = await connect();
    const N = 32, SIZE = 512 * 1024; // 16 MB of replies: far more than the kernel buffers hold
    let expected = "";
    for (let i = 0; i < N; i++) {
      const v = String.fromCharCode(65 + (i % 26)).repeat(SIZE - 8) + String(i).padStart(8, "0");
      await c.raw("SET", `big:${i}`, v);
      expected += bulk(v);
    }
    const slow = net.connect((await sharedServer()).port, "127.0.0.1");
    await new Promise((r) => slow.once("connect", r));
    slow.pause();
    const chunks: Buffer[] = [];
    slow.on("data", (d: Buffer) => chunks.push(d));
    slow.pause();
    slow.write(Buffer.concat(Array.from({ length: N }, (_, i) => encode(["GET", `big:${i}`]))));
    await Bun.sleep(150);
    // The server holds the rest in the client's output buffer (obl: its first 16 KiB, omem: the
    // rest, as Redis's reply buffer and reply list), not lost and not blocking.
    const list = (await c.cmd("CLIENT", "LIST")) as string;
    const line = list.split("\n").find((l) => l.includes(` addr=127.0.0.1:${slow.localPort} `))!;
    expect(Number(/ obl=(\d+)/.exec(line)![1])).toBe(16384);
    expect(Number(/ omem=(\d+)/.exec(line)![1])).toBeGreaterThan(1024 * 1024);
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      expect(await c.raw("PING")).toBe("+PONG\r\n");
      expect(performance.now() - t0).toBeLessThan(100);
    }
    slow.resume();
    const until = Date.now() + 5000;
    let got = 0;
    while (got < expected.length && Date.now() < until) {
      await Bun.sleep(10);
      got = chunks.reduce((n, b) => n + b.length, 0);
    }
    const all = Buffer.concat(chunks).toString("latin1");
    expect(all.length).toBe(expected.length);
    expect(all === expected).toBe(true);
    slow.destroy();
    c.close();
  });

  test("a slow reader that keeps sending commands gets their replies after the backlog, in order", async () => {
    const c = await connect();
    await c.raw("SET", "big", "z".repeat(1024 * 1024));
    const slow = net.connect((await sharedServer()).port, "127.0.0.1");
    await new Promise((r) => slow.once("connect", r));
    const chunks: Buffer[] = [];
    slow.on("data", (d: Buffer) => chunks.push(d));
    slow.pause();
    slow.write(encode(["GET", "big"]).toString("latin1").repeat(10));
    await Bun.sleep(50);
    slow.write(encode(["ECHO", "after"]));
    await Bun.sleep(50);
    slow.resume();
    const expected = bulk("z".repeat(1024 * 1024)).repeat(10) + "$5\r\nafter\r\n";
    const until = Date.now() + 5000;
    while (chunks.reduce((n, b) => n + b.length, 0) < expected.length && Date.now() < until) await Bun.sleep(10);
    expect(Buffer.concat(chunks).toString("latin1") === expected).toBe(true);
    slow.destroy();
    c.close();
  });

  test("each socket write is counted in INFO's total_writes_processed", async () => {
    const c = await connect();
    const before = Number(await infoField(c, "stats", "total_writes_processed"));
    for (let i = 0; i < 5; i++) await c.raw("PING");
    // Five PINGs and the first INFO were each written back in one write.
    expect(Number(await infoField(c, "stats", "total_writes_processed")) - before).toBeGreaterThanOrEqual(6);
    c.close();
  });
});

describe("reply writer: RESP3 after HELLO 3", () => {
  /** HELLO's reply with the client id replaced, since ids depend on test order. */
  const maskId = (raw: string) => raw.replace(/(\$2\r\nid\r\n):\d+\r\n/, "$1:<id>\r\n");

  test("HELLO 3 answers a map and switches the connection", async () => {
    const c = await connect();
    expect(maskId(await c.raw("HELLO", "3"))).toBe(
      "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:<id>\r\n" +
      "$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n");
    expect(await c.raw("GET", "missing")).toBe("_\r\n");
    c.close();
  });

  test("nil is _ for GET, inside MGET, for SET ... NX GET and for RANDOMKEY on an empty db", async () => {
    const c = await connect();
    await c.raw("HELLO", "3");
    expect(await c.raw("GET", "missing")).toBe("_\r\n");
    await c.raw("SET", "a", "1");
    expect(await c.raw("MGET", "a", "missing")).toBe("*2\r\n$1\r\n1\r\n_\r\n");
    expect(await c.raw("SET", "n", "v", "NX", "GET")).toBe("_\r\n");
    expect(await c.raw("GETDEL", "missing")).toBe("_\r\n");
    expect(await c.raw("SELECT", "9")).toBe("+OK\r\n");
    expect(await c.raw("RANDOMKEY")).toBe("_\r\n");
    c.close();
  });

  test("CONFIG GET is a map", async () => {
    const c = await connect();
    await c.raw("HELLO", "3");
    expect(await c.raw("CONFIG", "GET", "maxmemory")).toBe("%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n");
    expect(await c.raw("CONFIG", "GET", "maxmemory-policy", "maxmemory")).toBe(
      "%2\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n");
    expect(await c.raw("CONFIG", "GET", "no-such-parameter")).toBe("%0\r\n");
    c.close();
  });

  test("INFO is a verbatim string with the txt: prefix", async () => {
    const c = await connect();
    await c.raw("HELLO", "3");
    await c.raw("SET", "k", "v");
    const body = "txt:# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n";
    expect(await c.raw("INFO", "keyspace")).toBe(`=${body.length}\r\n${body}\r\n`);
    c.close();
  });

  test("INCRBYFLOAT stays a bulk string, not a RESP3 double", async () => {
    const c = await connect();
    await c.raw("HELLO", "3");
    expect(await c.raw("INCRBYFLOAT", "f", "1.5")).toBe("$3\r\n1.5\r\n");
    c.close();
  });

  test("LCS IDX is a map", async () => {
    const c = await connect();
    await c.raw("HELLO", "3");
    await c.raw("SET", "a", "abc");
    expect(await c.raw("LCS", "a", "a", "IDX")).toBe("%2\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:0\r\n:2\r\n*2\r\n:0\r\n:2\r\n$3\r\nlen\r\n:3\r\n");
    c.close();
  });

  test("COMMAND INFO uses sets for flags, categories, tips, key specs and missing subcommands", async () => {
    const c = await connect();
    await c.raw("HELLO", "3");
    expect(await c.raw("COMMAND", "INFO", "get")).toBe(
      "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n" +
      "~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n" +
      "$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n");
    c.close();
  });

  test("HELLO 2 goes back to RESP2 shapes", async () => {
    const c = await connect();
    await c.raw("HELLO", "3");
    await c.raw("HELLO", "2");
    expect(await c.raw("GET", "missing")).toBe("$-1\r\n");
    expect(await c.raw("CONFIG", "GET", "maxmemory")).toBe("*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n");
    c.close();
  });

  test("one client's HELLO 3 does not change another client's protocol", async () => {
    const a = await connect();
    const b = await connect();
    await a.raw("HELLO", "3");
    expect(await a.raw("GET", "missing")).toBe("_\r\n");
    expect(await b.raw("GET", "missing")).toBe("$-1\r\n");
    a.close();
    b.close();
  });
});
