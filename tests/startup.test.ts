// main.ts, main: the command line. `bun run main.ts` takes redis-server's arguments (an
// optional config file, then --name value flags), fails on a bad one with redis-server's fatal
// config error text and exit code 1, and exits 0 on SIGTERM and SIGINT. A dump.rdb whose
// checksum is wrong stops the start as it stops redis-server's.
// Where redis-server is installed, its output for the same bad arguments is the reference.
import { describe, test, expect, beforeAll, afterAll } from "bun:test";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { RawClient } from "./client.ts";
import { freePort, spawnServer } from "./helpers.ts";
import { crc64, startRedbun, startRedbunExpectingFailure } from "./persistence-harness.ts";

const MAIN = join(import.meta.dir, "..", "main.ts");
const REDIS_SERVER = Bun.which("redis-server");
const requireRedis = process.env.REQUIRE_REDIS === "1";

interface Run { code: number; stdout: string; stderr: string }

/** Runs a command to its end (killed after 10 s, so a server that wrongly starts cannot hang the test). */
async function run(argv: string[], cwd?: string): Promise<Run> {
  const proc = Bun.spawn(argv, { cwd, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 10000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** `bun run main.ts ...args`, run to its end. */
const runMain = (args: string[]) => run(["bun", "run", MAIN, ...args]);

/** redis-server's fatal config error, as it prints it on stderr. */
const fatal = (line: number, directive: string, why: string) =>
  `\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line ${line}\n>>> '${directive}'\n${why}\n`;

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), "redbun-startup-")); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

describe("bun run main.ts --port N", () => {
  test("listens on that port and logs that it is ready to accept connections", async () => {
    const srv = await spawnServer(["--save", ""]);
    try {
      const c = await RawClient.connect(srv.port);
      expect(await c.raw("PING")).toBe("+PONG\r\n");
      expect(await c.raw("CONFIG", "GET", "port")).toBe(`*2\r\n$4\r\nport\r\n$${String(srv.port).length}\r\n${srv.port}\r\n`);
      c.close();
      expect(srv.stdout()).toContain("Ready to accept connections tcp\n");
    } finally {
      await srv.stop();
    }
  });
});

describe("an unknown option", () => {
  test("exits with 1 and prints redis-server's fatal config error on stderr", async () => {
    const r = await runMain(["--foo", "bar"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(fatal(2, 'foo "bar"', "Bad directive or wrong number of arguments"));
  });

  test.skipIf(!REDIS_SERVER && !requireRedis)("prints exactly what redis-server prints", async () => {
    expect(REDIS_SERVER).not.toBeNull();
    const ours = await runMain(["--foo", "bar"]);
    const theirs = await run([REDIS_SERVER!, "--foo", "bar"], dir);
    expect({ code: ours.code, stderr: ours.stderr }).toEqual({ code: theirs.code, stderr: theirs.stderr });
  });

  test("after a config file, is reported at its line past the file's last line", async () => {
    const file = join(dir, "ok.conf");
    writeFileSync(file, "hz 15\nmaxmemory 1mb\n");
    const r = await runMain([file, "--foo", "1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(fatal(4, 'foo "1"', "Bad directive or wrong number of arguments"));
  });
});

describe("a bad value", () => {
  const cases: [string[], string, string][] = [
    [["--port", "abc"], 'port "abc"', "argument couldn't be parsed into an integer"],
    [["--port", "70000"], 'port "70000"', "argument must be between 0 and 65535 inclusive"],
    [["--appendonly", "maybe"], 'appendonly "maybe"', "argument must be 'yes' or 'no'"],
    [["--maxmemory", "10xb"], 'maxmemory "10xb"', "argument must be a memory value"],
    [["--save", "abc"], 'save "abc"', "Invalid save parameters"],
    [["--hz", "10", "20"], 'hz "10" "20"', "wrong number of arguments"],
    [["--port"], "port", "wrong number of arguments"],
  ];
  for (const [args, directive, why] of cases) {
    test(`${args.join(" ")} exits with 1 and prints "${why}"`, async () => {
      const r = await runMain(args);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(fatal(2, directive, why));
    });
  }

  test.skipIf(!REDIS_SERVER && !requireRedis)("prints exactly what redis-server prints for each of them", async () => {
    expect(REDIS_SERVER).not.toBeNull();
    for (const [args] of cases) {
      const ours = await runMain(args);
      const theirs = await run([REDIS_SERVER!, ...args], dir);
      expect({ args, code: ours.code, stderr: ours.stderr }).toEqual({ args, code: theirs.code, stderr: theirs.stderr });
    }
  });

  test("a bad line in the config file is reported with its line number", async () => {
    const file = join(dir, "bad.conf");
    writeFileSync(file, "hz 15\n# a comment\nnosuch 1\n");
    const r = await runMain([file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(fatal(3, "nosuch 1", "Bad directive or wrong number of arguments"));
  });

  test("a config file that cannot be opened is a fatal error naming it", async () => {
    const r = await runMain([join(dir, "missing.conf")]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(new RegExp(`# Fatal error, can't open config file '${join(dir, "missing.conf")}': No such file or directory\\n`));
  });
});

describe("a config file followed by flags", () => {
  test("takes its settings from the file, and a flag overrides the file", async () => {
    const file = join(dir, "base.conf");
    const filePort = await freePort();
    writeFileSync(file, `# base\nport ${filePort}\nhz 15\nmaxmemory 1mb\nmaxmemory-policy allkeys-lru\n`);
    const srv = await spawnServer([file, "--hz", "20"]); // spawnServer adds --port N last
    try {
      expect(srv.port).not.toBe(filePort);
      const c = await RawClient.connect(srv.port);
      const get = async (name: string) => ((await c.cmd("CONFIG", "GET", name)) as string[])[1];
      expect(await get("hz")).toBe("20");
      expect(await get("maxmemory")).toBe("1048576");
      expect(await get("maxmemory-policy")).toBe("allkeys-lru");
      expect(await get("port")).toBe(String(srv.port));
      c.close();
    } finally {
      await srv.stop();
    }
  });
});

describe("--save and --appendonly", () => {
  test("--save '' and --appendonly no are accepted and shown by CONFIG GET", async () => {
    const srv = await spawnServer(["--save", "", "--appendonly", "no"]);
    try {
      const c = await RawClient.connect(srv.port);
      expect(await c.raw("CONFIG", "GET", "save")).toBe("*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
      expect(await c.raw("CONFIG", "GET", "appendonly")).toBe("*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
      c.close();
    } finally {
      await srv.stop();
    }
  });

  test("--save takes several save points, as one argument or as several", async () => {
    const srv = await spawnServer(["--save", "3600 1 300 100", "--save", "60", "10000"]);
    try {
      const c = await RawClient.connect(srv.port);
      expect(await c.raw("CONFIG", "GET", "save")).toBe("*2\r\n$4\r\nsave\r\n$23\r\n3600 1 300 100 60 10000\r\n");
      c.close();
    } finally {
      await srv.stop();
    }
  });
});

/** True when this machine can listen on IPv6 loopback. */
function hasIPv6(): boolean {
  try {
    const l = Bun.listen({ hostname: "::1", port: 0, socket: { data() {} } });
    l.stop(true);
    return true;
  } catch {
    return false;
  }
}

describe("--bind", () => {
  const ipv6 = hasIPv6();
  let srv: Awaited<ReturnType<typeof spawnServer>> | null = null;
  beforeAll(async () => { if (ipv6) srv = await spawnServer(["--bind", "127.0.0.1 ::1", "--save", ""]); });
  afterAll(async () => { await srv?.stop(); });

  test.skipIf(!ipv6)("--bind \"127.0.0.1 ::1\" listens on both addresses", async () => {
    const v4 = await RawClient.connect(srv!.port, "127.0.0.1");
    const v6 = await RawClient.connect(srv!.port, "::1");
    expect(await v4.raw("PING")).toBe("+PONG\r\n");
    expect(await v6.raw("PING")).toBe("+PONG\r\n");
    expect(await v4.raw("CONFIG", "GET", "bind")).toBe("*2\r\n$4\r\nbind\r\n$13\r\n127.0.0.1 ::1\r\n");
    v4.close();
    v6.close();
  });

  test.skipIf(!ipv6)("CLIENT INFO writes IPv6 addresses in brackets, the local one too", async () => {
    const v6 = await RawClient.connect(srv!.port, "::1");
    expect(String(await v6.cmd("CLIENT", "INFO"))).toMatch(new RegExp(` addr=\\[::1\\]:\\d+ laddr=\\[::1\\]:${srv!.port} `));
    v6.close();
  });
});

describe("signals", () => {
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    test(`${sig} shuts the server down cleanly with exit code 0`, async () => {
      const srv = await spawnServer(["--save", ""]);
      const c = await RawClient.connect(srv.port);
      expect(await c.raw("PING")).toBe("+PONG\r\n");
      srv.proc.kill(sig);
      expect(await srv.proc.exited).toBe(0);
      expect(await c.waitClosed()).toBe("");
      expect(srv.stdout()).toContain(`Received ${sig} scheduling shutdown...`);
      expect(srv.stdout()).toContain("ready to exit, bye bye...");
    });
  }
});

/** This machine's first non-loopback IPv4 address, if it has one: connecting to it is "not local". */
function externalIPv4(): string | null {
  for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  return null;
}

/** What a server sends a client that connects from `host` and says PING, until it closes or 1 s passes. */
async function greeting(host: string, port: number): Promise<string> {
  let got = "";
  await new Promise<void>((resolve) => {
    const done = setTimeout(resolve, 1000);
    Bun.connect({ hostname: host, port, socket: {
      open(s) { s.write("PING\r\n"); },
      data(_s, d) { got += Buffer.from(d).toString("latin1"); },
      close() { clearTimeout(done); resolve(); },
    } });
  });
  return got;
}

describe("protected mode", () => {
  const external = externalIPv4();
  const args = ["--bind", "* -::*", "--save", ""];

  test.skipIf(!external)("without a password, a client from a non-loopback address gets DENIED and is closed; loopback gets in", async () => {
    const srv = await spawnServer(args);
    try {
      const denied = await greeting(external!, srv.port);
      expect(denied).toStartWith("-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user.");
      expect(denied).toEndWith("the server to start accepting connections from the outside.\r\n");
      const c = await RawClient.connect(srv.port, "127.0.0.1");
      expect(await c.raw("INFO", "stats")).toMatch(/rejected_connections:1\r\n/);
      // Either way out of protected mode lets the external client in.
      expect(await c.raw("CONFIG", "SET", "protected-mode", "no")).toBe("+OK\r\n");
      expect(await greeting(external!, srv.port)).toBe("+PONG\r\n");
      expect(await c.raw("CONFIG", "SET", "protected-mode", "yes", "requirepass", "pw")).toBe("+OK\r\n");
      expect(await greeting(external!, srv.port)).toBe("-NOAUTH Authentication required.\r\n");
      c.close();
    } finally { await srv.stop(); }
  });

  test.skipIf(!external || (!REDIS_SERVER && !requireRedis))("the DENIED text is redis-server's, byte for byte", async () => {
    const port = await freePort();
    const redis = Bun.spawn([REDIS_SERVER!, "--port", String(port), ...args], { cwd: dir, stdout: "ignore", stderr: "ignore" });
    const srv = await spawnServer(args);
    try {
      for (let i = 0; i < 100; i++) { try { (await RawClient.connect(port, "127.0.0.1")).close(); break; } catch { await Bun.sleep(50); } }
      expect(await greeting(external!, srv.port)).toBe(await greeting(external!, port));
    } finally { redis.kill(); await redis.exited; await srv.stop(); }
  });
});

describe("a dump.rdb with a wrong checksum", () => {
  // A file made by hand, so the checksums in the log are computed here: "REDIS0010", SELECTDB 0,
  // RESIZEDB 1 0, the string k = v, EOF, then the CRC64 of all that (little-endian).
  const body = Buffer.concat([Buffer.from("REDIS0010", "latin1"), Buffer.from([0xfe, 0x00, 0xfb, 0x01, 0x00, 0x00, 0x01, 0x6b, 0x01, 0x76, 0xff])]);
  const withChecksum = (crc: bigint) => { const tail = Buffer.alloc(8); tail.writeBigUInt64LE(crc); return Buffer.concat([body, tail]); };
  const good = crc64(body), wrong = good ^ 0x10000n;
  /** A fresh directory holding only this dump.rdb. */
  function withDump(file: Buffer): string {
    const d = mkdtempSync(join(dir, "rdb-crc-"));
    writeFileSync(join(d, "dump.rdb"), file);
    return d;
  }
  const LINE = `Wrong RDB checksum expected: (${good.toString(16)}) but got (${wrong.toString(16)}). Aborting now.`;

  test("stops the start with exit code 1, logging Redis's line with the computed and the stored checksum, then RDB CRC error", async () => {
    const r = await startRedbunExpectingFailure(withDump(withChecksum(wrong)));
    expect([r.served, r.code]).toEqual([false, 1]);
    expect(r.out).toContain(LINE);
    expect(r.out.slice(r.out.indexOf(LINE))).toContain("RDB CRC error");
  });

  test.skipIf(!REDIS_SERVER && !requireRedis)("redis-server logs the same line and exits 1 for a copy of the same directory", async () => {
    const d = withDump(withChecksum(wrong));
    const copy = mkdtempSync(join(dir, "rdb-crc-ref-"));
    cpSync(d, copy, { recursive: true });
    const theirs = await run([REDIS_SERVER!, "--port", "0", "--unixsocket", join(copy, "redis.sock"), "--dir", copy, "--save", "", "--daemonize", "no"], copy);
    const ours = await startRedbunExpectingFailure(d);
    expect([theirs.code, ours.code]).toEqual([1, 1]);
    expect(theirs.stdout).toContain(LINE);
    expect(theirs.stdout).toContain("RDB CRC error");
    expect(ours.out).toContain(LINE);
  });

  test("the same file with its checksum right loads, and so does one with a zero checksum (saved with rdbchecksum no: not checked)", async () => {
    for (const crc of [good, 0n]) {
      const s = await startRedbun(withDump(withChecksum(crc)));
      try {
        expect(await s.c.raw("GET", "k")).toBe("$1\r\nv\r\n");
      } finally {
        await s.kill();
      }
    }
  });

  // rdbchecksum no turns the check off when loading too (rdbLoadRio tests server.rdb_checksum
  // before comparing): the file above with its wrong checksum loads with --rdbchecksum no.
  test("with rdbchecksum no, a file whose checksum is wrong loads, as in redis-server", async () => {
    const s = await startRedbun(withDump(withChecksum(wrong)), { rdbchecksum: "no" });
    try {
      expect(await s.c.raw("GET", "k")).toBe("$1\r\nv\r\n");
    } finally {
      await s.kill();
    }
  });
});
