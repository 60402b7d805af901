// main.ts, main: the command line. `bun run main.ts` takes redis-server's arguments (an
// optional config file, then --name value flags), fails on a bad one with redis-server's fatal
// config error text and exit code 1, and exits 0 on SIGTERM and SIGINT. A dump.rdb whose
// checksum is wrong stops the start as it stops redis-server's.
// Where redis-server is installed, its output for the same bad arguments is the reference.
import { describe, test, expect, beforeAll, afterAll } from "bun:test";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { RawClient } from "./client.ts";
import { freePort, launchServer, spawnServer, type LaunchedServer } from "./helpers.ts";
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
      expect(srv.stdout()).toContain("Ready to accept connections\n");
    } finally {
      await srv.stop();
    }
  });

  test("logs as redis-server: the start as warnings (#), then where the logo would be drawn the mode and port", async () => {
    const srv = await spawnServer(["--save", ""]);
    try {
      const lines = srv.stdout().split("\n").map((l) => l.replace(/^\d+:M \d\d \w{3} \d{4} [\d:.]+ /, ""));
      expect(lines.slice(0, 3)).toEqual([
        "# oO0OoO0OoO0Oo Redbun is starting oO0OoO0OoO0Oo",
        `# Redbun version=0.1.0, Redis version=7.0.15, bun=${Bun.version}, pid=${srv.proc.pid}, just started`,
        "# Warning: no config file specified, using the default config. In order to specify a config file use bun run main.ts /path/to/redis.conf",
      ]);
      expect(lines).toContain(`* Running mode=standalone, port=${srv.port}.`);
    } finally {
      await srv.stop();
    }
  });

  // The suite's default.conf sets always-show-logo: Redis's logo carries " PID: <pid>", which the
  // suite waits for, and is drawn once the server listens.
  test("with always-show-logo yes, a banner with the port and ' PID: <pid>' follows the start lines, once listening", async () => {
    const srv = await spawnServer(["--save", "", "--always-show-logo", "yes"]);
    try {
      const out = srv.stdout();
      expect(out).toContain(`Port: ${srv.port}\n`);
      expect(out).toContain(` PID: ${srv.proc.pid}\n`);
      expect(out).not.toContain("Running mode=");
      expect(out.indexOf(" PID: ")).toBeGreaterThan(out.indexOf("just started"));
      expect(out.indexOf(" PID: ")).toBeLessThan(out.indexOf("Ready to accept connections"));
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

// ---------------------------------------------------------------------------------------------
// Listening on a unix socket, what `bind` listens on, daemonize, the log file, crash reports.
// Each scenario runs on Redbun and, where it is installed, on redis-server 7.0.15 with the same
// expected outcome.

type Kind = "redbun" | "redis";
/** A budget for a test that starts server processes, for a loaded machine. */
const SLOW = 30000;
const KINDS: Kind[] = ["redbun", "redis"];
/** Tests on redis-server are skipped without it, unless REQUIRE_REDIS=1. */
const skipKind = (kind: Kind) => kind === "redis" && !REDIS_SERVER && !requireRedis;

/** The command line of a server of this kind with these flags. */
const serverArgv = (kind: Kind, flags: (string | number)[]): string[] =>
  [...(kind === "redbun" ? ["bun", "run", MAIN] : [REDIS_SERVER!]), ...flags.map(String)];

/** What a TCP client on host:port gets for PING: the reply, or "refused" when nothing listens. */
async function pingOver(host: string, port: number): Promise<string> {
  let c: RawClient;
  try { c = await RawClient.connect(port, host); } catch { return "refused"; }
  try { return await c.raw("PING"); } finally { c.close(); }
}

/** What a client of the unix socket at `path` gets for PING (or "refused"). */
async function pingUnix(path: string): Promise<string> {
  let c: RawClient;
  try { c = await RawClient.connectUnix(path); } catch { return "refused"; }
  try { return await c.raw("PING"); } finally { c.close(); }
}

/** Polls until `cond` holds (throws after `ms`). */
async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

/** Starts a server of this kind in a fresh directory with its log on stdout (no logfile) and waits
 *  until it says it is ready; `ready` is the log text to wait for. */
async function launch(kind: Kind, flags: (string | number)[], ready = "Ready to accept connections"): Promise<{ srv: LaunchedServer; dir: string }> {
  const d = mkdtempSync(join(dir, `${kind}-`));
  const srv = launchServer(serverArgv(kind, ["--save", "", "--dir", d, ...flags]), d);
  try {
    await srv.waitForOutput(ready);
  } catch (err) {
    await srv.stop();
    throw err;
  }
  return { srv, dir: d };
}

describe("unixsocket and unixsocketperm", () => {
  /** Starts a server with a unix socket (mode 700 given in octal), talks to it only through the
   *  socket, shuts it down from there, and reports what was seen. */
  async function unixSocketScenario(kind: Kind): Promise<Record<string, unknown>> {
    const port = await freePort();
    const d = mkdtempSync(join(dir, `unix-${kind}-`));
    const path = join(d, "server.sock");
    const srv = launchServer(serverArgv(kind, ["--port", port, "--save", "", "--dir", d, "--unixsocket", path, "--unixsocketperm", "700"]), d);
    try {
      await srv.waitForOutput(`The server is now ready to accept connections at ${path}\n`);
      const st = statSync(path);
      const u = await RawClient.connectUnix(path);
      const seen: Record<string, unknown> = {
        socketFile: st.isSocket(),
        mode: (st.mode & 0o777).toString(8),
        // Protected mode is on and the default user has no password: a unix socket client is local.
        config: await u.cmd("CONFIG", "GET", "protected-mode"),
        ping: await u.raw("PING"),
        set: await u.raw("SET", "k", "v"),
      };
      u.send("SHUTDOWN", "NOSAVE");
      seen.shutdownReply = await u.waitClosed();
      seen.code = await srv.exited();
      seen.removalLogged = srv.output().includes("Removing the unix socket file.\n");
      seen.fileLeft = existsSync(path);
      return seen;
    } finally {
      await srv.stop();
    }
  }

  const expected = {
    socketFile: true, mode: "700", config: ["protected-mode", "yes"], ping: "+PONG\r\n", set: "+OK\r\n",
    shutdownReply: "", code: 0, removalLogged: true, fileLeft: false,
  };

  for (const kind of KINDS) {
    test.skipIf(skipKind(kind))(`${kind}: listens at the path with the mode, logs it, lets its clients in under protected mode, and removes the file at shutdown`, async () => {
      expect(await unixSocketScenario(kind)).toEqual(expected);
    }, SLOW);
  }
});

/** True when this machine can listen on IPv6 loopback. */
const ipv6 = hasIPv6();

describe("the default bind, '* -::*'", () => {
  /** Starts a server without --bind and reports what answers where, before and after listening on
   *  `::*` alone (an IPv6 socket that is IPv6-only takes no IPv4 connection). */
  async function defaultBindScenario(kind: Kind): Promise<Record<string, unknown>> {
    const port = await freePort();
    const { srv } = await launch(kind, ["--port", port]);
    try {
      const c = await RawClient.connect(port);
      const seen: Record<string, unknown> = {
        bind: await c.cmd("CONFIG", "GET", "bind"),
        v4: await pingOver("127.0.0.1", port),
        v6: await pingOver("::1", port),
        setV6Only: await c.raw("CONFIG", "SET", "bind", "::*"),
        v4AfterV6Only: await pingOver("127.0.0.1", port),
        v6AfterV6Only: await pingOver("::1", port),
      };
      c.close();
      return seen;
    } finally {
      await srv.stop();
    }
  }

  for (const kind of KINDS) {
    test.skipIf(!ipv6 || skipKind(kind))(`${kind}: CONFIG GET bind says '* -::*'; 127.0.0.1 and ::1 both answer; '::*' alone does not take 127.0.0.1`, async () => {
      expect(await defaultBindScenario(kind)).toEqual({
        bind: ["bind", "* -::*"], v4: "+PONG\r\n", v6: "+PONG\r\n",
        setV6Only: "+OK\r\n", v4AfterV6Only: "refused", v6AfterV6Only: "+PONG\r\n",
      });
    }, SLOW);
  }
});

describe("CONFIG SET bind", () => {
  const BIND_FAILED = "-ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified addresses.\r\n";

  /** A server with a unix socket and the default bind; a connection made at the start sets bind to
   *  each value in turn (connections stay when listeners change), and after each step the test
   *  records the reply, CONFIG GET bind, and what a new client gets on 127.0.0.1, ::1 and the
   *  unix socket. */
  async function bindScenario(kind: Kind, values: string[]): Promise<string[][]> {
    const port = await freePort();
    const sockDir = mkdtempSync(join(dir, `bind-${kind}-`));
    const path = join(sockDir, "server.sock");
    const { srv } = await launch(kind, ["--port", port, "--unixsocket", path], `The server is now ready to accept connections at ${path}\n`);
    try {
      const c = await RawClient.connect(port);
      const steps: string[][] = [];
      for (const value of values) {
        const reply = await c.raw("CONFIG", "SET", "bind", value);
        const now = ((await c.cmd("CONFIG", "GET", "bind")) as string[])[1];
        steps.push([value, reply, now, await pingOver("127.0.0.1", port), ipv6 ? await pingOver("::1", port) : "no IPv6 here", await pingUnix(path)]);
      }
      c.close();
      return steps;
    } finally {
      await srv.stop();
    }
  }

  const PONG = "+PONG\r\n", OK = "+OK\r\n", V6 = (r: string) => (ipv6 ? r : "no IPv6 here");

  for (const kind of KINDS) {
    test.skipIf(skipKind(kind))(`${kind}: "" stops TCP (the unix socket still answers), '* -::*' brings it back, 127.0.0.1 replaces *, a bad address is refused and the old ones still answer`, async () => {
      expect(await bindScenario(kind, ["", "* -::*", "127.0.0.1", "999.999.999.999"])).toEqual([
        ["", OK, "", "refused", V6("refused"), PONG],
        ["* -::*", OK, "* -::*", PONG, V6(PONG), PONG],
        ["127.0.0.1", OK, "127.0.0.1", PONG, V6("refused"), PONG],
        ["999.999.999.999", BIND_FAILED, "127.0.0.1", PONG, V6("refused"), PONG],
      ]);
    }, SLOW);
  }

  // Redis fails an address that does not parse even when it is marked optional (only
  // EADDRNOTAVAIL is skipped for '-'), and a second listen on the same address fails with
  // EADDRINUSE (Redbun once skipped any optional address that failed and listened once per address).
  test("CONFIG SET bind '-999.999.999.999 127.0.0.1' and '127.0.0.1 127.0.0.1' are refused as by redis-server (Failed to bind to specified addresses., bind unchanged)", async () => {
    expect(await bindScenario("redbun", ["127.0.0.1", "-999.999.999.999 127.0.0.1", "127.0.0.1 127.0.0.1"])).toEqual([
      ["127.0.0.1", OK, "127.0.0.1", PONG, V6("refused"), PONG],
      ["-999.999.999.999 127.0.0.1", BIND_FAILED, "127.0.0.1", PONG, V6("refused"), PONG],
      ["127.0.0.1 127.0.0.1", BIND_FAILED, "127.0.0.1", PONG, V6("refused"), PONG],
    ]);
  }, SLOW);
});

/** Whether a process is still running (a zombie no one reaped yet counts as gone). */
function running(pid: number): boolean {
  try { return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, "latin1")); } catch { return false; }
}

/** A process's session id (field 6 of /proc/<pid>/stat). */
function sessionOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]);
}

/** The processes whose command line contains `text` (to find a daemon by its unique paths). */
function processesWith(text: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try { if (readFileSync(`/proc/${entry}/cmdline`, "latin1").replaceAll("\0", " ").includes(text)) out.push(Number(entry)); } catch { /* gone */ }
  }
  return out;
}

describe("daemonize yes", () => {
  /** Launches `... --daemonize yes --pidfile F --logfile L`, waits for the launcher to exit and the
   *  daemon to answer, then shuts the daemon down with SHUTDOWN and reports what was seen. */
  async function daemonScenario(kind: Kind): Promise<Record<string, unknown>> {
    const d = mkdtempSync(join(dir, `daemon-${kind}-`));
    const pidfile = join(d, "server.pid"), logfile = join(d, "server.log"), port = await freePort();
    const launcher = Bun.spawn(serverArgv(kind, ["--port", port, "--daemonize", "yes", "--pidfile", pidfile, "--logfile", logfile, "--save", "", "--dir", d]),
      { cwd: d, stdout: "pipe", stderr: "pipe" });
    const timer = setTimeout(() => launcher.kill("SIGKILL"), 10000);
    const [out, err, launcherCode] = await Promise.all([new Response(launcher.stdout).text(), new Response(launcher.stderr).text(), launcher.exited]);
    clearTimeout(timer);
    let pid = 0;
    try {
      const seen: Record<string, unknown> = { launcherCode, launcherOutput: out + err };
      // The daemon: it answers on the port and has written its pid.
      let c: RawClient | null = null;
      await until("the daemon to answer PING", async () => {
        try { c = await RawClient.connect(port); } catch { return false; }
        return true;
      });
      seen.ping = await c!.raw("PING");
      await until("the pid file", () => existsSync(pidfile) && readFileSync(pidfile, "latin1").endsWith("\n"));
      const text = readFileSync(pidfile, "latin1");
      pid = Number(text.trim());
      seen.pidfile = text.replace(/^\d+\n$/, "<pid>\n");
      seen.daemonIsAnotherProcess = pid !== launcher.pid && running(pid);
      seen.ownSession = sessionOf(pid) === pid;
      seen.logsHere = readFileSync(logfile, "latin1").includes(`${pid}:M `);
      c!.send("SHUTDOWN");
      seen.shutdownReply = await c!.waitClosed();
      await until("the daemon to exit", () => !running(pid));
      seen.pidfileLeft = existsSync(pidfile);
      const log = readFileSync(logfile, "latin1");
      seen.removalLogged = log.includes("Removing the pid file.\n") && log.indexOf("Removing the pid file.") < log.indexOf("ready to exit, bye bye");
      return seen;
    } finally {
      // Never left behind: the pid it wrote, or else whatever runs with this test's paths or port.
      for (const p of new Set([...(pid ? [pid] : []), ...processesWith(pidfile), ...processesWith(`redis-server *:${port}`)])) {
        if (running(p)) process.kill(p, "SIGKILL");
      }
    }
  }

  for (const kind of KINDS) {
    test.skipIf(skipKind(kind))(`${kind}: the launcher exits 0 at once; a process of its own, in its own session, serves the port, writes its pid and its log; SHUTDOWN removes the pid file and says so`, async () => {
      expect(await daemonScenario(kind)).toEqual({
        launcherCode: 0, launcherOutput: "", ping: "+PONG\r\n", pidfile: "<pid>\n", daemonIsAnotherProcess: true, ownSession: true,
        logsHere: true, shutdownReply: "", pidfileLeft: false, removalLogged: true,
      });
    }, SLOW);
  }
});

describe("logfile", () => {
  const HEAD = "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n";
  const TAIL = "Can't open the log file: No such file or directory\n";
  const args = ["--port", "0", "--save", "", "--logfile", "/nonexistent/dir/x.log"];

  for (const kind of KINDS) {
    test.skipIf(skipKind(kind))(`${kind}: a log file that cannot be opened stops the start with exit code 1 and the fatal config error`, async () => {
      const r = await run(serverArgv(kind, args), dir);
      expect({ code: r.code, stdout: r.stdout, head: r.stderr.startsWith(HEAD), tail: r.stderr.endsWith(TAIL) }).toEqual({ code: 1, stdout: "", head: true, tail: true });
    }, SLOW);
  }

  // redis-server checks the log file after the whole configuration is read, when no line is
  // current any more, so it names none.
  test("`--port 0 --save '' --logfile /nonexistent/dir/x.log`: only the header and the reason, as redis-server prints them", async () => {
    const ours = await runMain(args);
    expect(ours.stderr).toBe(HEAD + TAIL);
  }, SLOW);
});

describe("crash reports", () => {
  type Crash = "DEBUG SEGFAULT" | "DEBUG PANIC" | "SIGABRT";
  /** Crashes a server the given way; returns how its process ended and what it logged. */
  async function crash(kind: Kind, how: Crash): Promise<{ code: number; signal: string | null; log: string; from: number; to: number }> {
    const port = await freePort();
    const { srv } = await launch(kind, ["--port", port, "--enable-debug-command", "yes"]);
    try {
      const c = await RawClient.connect(port);
      expect(await c.raw("PING")).toBe("+PONG\r\n");
      const from = Math.floor(Date.now() / 1000);
      if (how === "SIGABRT") srv.proc.kill("SIGABRT");
      else c.send(...how.split(" "));
      const code = await srv.exited();
      const to = Math.floor(Date.now() / 1000);
      c.close();
      return { code, signal: srv.proc.signalCode === null ? null : String(srv.proc.signalCode), log: srv.output(), from, to };
    } finally {
      await srv.stop();
    }
  }

  /** The report's markers, in order around the line that names the signal. */
  function expectReport(kind: Kind, log: string, signal: number): void {
    const name = "REDIS"; // Redbun writes Redis's banners word for word (tools look for them)
    const start = log.indexOf(`=== ${name} BUG REPORT START`), line = log.search(new RegExp(`crashed by signal: ${signal}, `)), end = log.indexOf(`=== ${name} BUG REPORT END`);
    expect({ start: start >= 0, line: line > start, end: end > line }).toEqual({ start: true, line: true, end: true });
  }

  for (const kind of KINDS) {
    test.skipIf(skipKind(kind))(`${kind}: DEBUG SEGFAULT logs a bug report for signal 11 and the process dies of SIGSEGV`, async () => {
      const r = await crash(kind, "DEBUG SEGFAULT");
      expect([r.code, r.signal]).toEqual([139, "SIGSEGV"]);
      expectReport(kind, r.log, 11);
    }, SLOW);

    test.skipIf(skipKind(kind))(`${kind}: a SIGABRT from outside logs a bug report for signal 6 and the process dies of SIGABRT`, async () => {
      const r = await crash(kind, "SIGABRT");
      expect([r.code, r.signal]).toEqual([134, "SIGABRT"]);
      expectReport(kind, r.log, 6);
    }, SLOW);

    test.skipIf(skipKind(kind))(`${kind}: DEBUG PANIC logs the Guru Meditation line with the Unix time and the process dies of SIGABRT`, async () => {
      const r = await crash(kind, "DEBUG PANIC");
      expect([r.code, r.signal]).toEqual([134, "SIGABRT"]);
      const t = /Guru Meditation: DEBUG PANIC called at Unix time (\d+)/.exec(r.log);
      expect(t).not.toBeNull();
      expect(Number(t![1])).toBeGreaterThanOrEqual(r.from);
      expect(Number(t![1])).toBeLessThanOrEqual(r.to);
      expect(r.log).toContain("=== REDIS BUG REPORT END");
    }, SLOW);
  }

  // Redis's panic report (serverPanic) opens the report before the Guru Meditation lines and names
  // no signal; DEBUG SEGFAULT's real fault has si_code 2 (SEGV_ACCERR).
  test("DEBUG PANIC's log: the bug report opens, then the '------' / 'Software Failure' / 'Guru Meditation' lines, and no 'crashed by signal' line; DEBUG SEGFAULT says si_code: 2", async () => {
    const r = await crash("redbun", "DEBUG PANIC");
    expect(r.log.indexOf("=== REDIS BUG REPORT START")).toBeLessThan(r.log.indexOf("Guru Meditation"));
    expect(r.log).not.toContain("crashed by signal");
    expect((await crash("redbun", "DEBUG SEGFAULT")).log).toContain("crashed by signal: 11, si_code: 2");
  }, SLOW);
});
