// main.ts, ACL: what one connection cannot show: other clients disconnected by
// ACL DELUSER and ACL SETUSER, the aclfile (ACL SAVE, ACL LOAD, loading at startup), passwords kept
// out of CLIENT LIST, MONITOR and SLOWLOG, client libraries logging in as an ACL user, and
// requirepass as the default user's password. The replies of single commands are compared with
// redis-server's in differential-acl.test.ts.
//
// Every expected value here was taken from redis-server 7.0.15. ACL_TARGET=redis runs the same
// tests against redis-server instead of Redbun (the shared server becomes a redis-server spawned
// for this file, and the tests that start their own server start redis-server with the same flags),
// which is how the expectations are checked:
//   ACL_TARGET=redis bun test tests/acl.test.ts
import { describe, test, expect, beforeAll, afterAll } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import IORedis from "ioredis";
import { createClient } from "redis";
import { RawClient } from "./client.ts";
import { arr, bulk, bulks, freePort, int, sharedServer, spawnServer } from "./helpers.ts";

const ON_REDIS = process.env.ACL_TARGET === "redis";
const REDIS_BIN = Bun.which("redis-server");
const MAIN = join(import.meta.dir, "..", "main.ts");

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** A server in its own process. */
interface OwnServer { port: number; stop(): Promise<number>; output(): string }

/** Starts Redbun (`bun run main.ts`), or redis-server under ACL_TARGET=redis, in its own process
 *  with these redis-server flags (plus no persistence) and waits until it accepts connections. */
async function startOwnServer(args: string[], dir: string): Promise<OwnServer> {
  const base = ["--save", "", "--appendonly", "no", "--dir", dir];
  if (!ON_REDIS) {
    const s = await spawnServer([...base, ...args], { cwd: dir });
    return { port: s.port, stop: s.stop, output: s.stdout };
  }
  if (!REDIS_BIN) throw new Error("ACL_TARGET=redis but redis-server is not on the PATH");
  const port = await freePort();
  const proc = Bun.spawn([REDIS_BIN, "--port", String(port), "--bind", "127.0.0.1", "--protected-mode", "no", "--daemonize", "no", ...base, ...args],
    { cwd: dir, stdout: "pipe", stderr: "pipe" });
  let out = "";
  const reader = (async () => { for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) out += Buffer.from(chunk).toString("latin1"); })();
  const deadline = Date.now() + 10000;
  for (;;) {
    try { (await RawClient.connect(port)).close(); break; } catch {
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start: ${out}`);
      await Bun.sleep(20);
    }
  }
  return { port, output: () => out, async stop() { proc.kill("SIGTERM"); const code = await proc.exited; await reader; return code; } };
}

/** Runs a server that is expected to refuse to start; returns its exit code and stdout. */
async function runToExit(args: string[], dir: string): Promise<{ code: number; stdout: string }> {
  const port = String(await freePort());
  const argv = ON_REDIS ? [REDIS_BIN!, "--port", port, "--save", "", "--daemonize", "no", ...args] : ["bun", "run", MAIN, "--port", port, "--save", "", ...args];
  const proc = Bun.spawn(argv, { cwd: dir, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 10000);
  const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout };
}

let port = 0; // the shared server: Redbun in-process, or one redis-server for this file
let ownRedis: OwnServer | null = null;
let dir = "";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "redbun-acl-"));
  if (ON_REDIS) { ownRedis = await startOwnServer([], dir); port = ownRedis.port; } else port = (await sharedServer()).port;
});
afterAll(async () => {
  await ownRedis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A connection to the shared server, as `default`. */
const conn = () => RawClient.connect(port);

/** A connection logged in as `user` with `pass`. */
async function loggedIn(user: string, pass: string, p = port): Promise<RawClient> {
  const c = await RawClient.connect(p);
  expect(await c.raw("AUTH", user, pass)).toBe("+OK\r\n");
  return c;
}

/** Runs `body` with a connection as `default`, then deletes `users` whatever happened. */
async function withAdmin(users: string[], body: (admin: RawClient) => Promise<void>): Promise<void> {
  const admin = await conn();
  try {
    await admin.raw("ACL", "DELUSER", ...users);
    await body(admin);
  } finally {
    if (!admin.closed) {
      await admin.raw("ACL", "DELUSER", ...users);
      await admin.raw("ACL", "LOG", "RESET");
      admin.close();
    }
  }
}

/** Whether the server closed the connection within a second (it sends nothing first). */
async function closedQuietly(c: RawClient): Promise<string | "open"> {
  try { return await c.waitClosed(1000); } catch { return "open"; }
}

const NOPERM_KEYS = "NOPERM this user has no permissions to access one of the keys used as arguments";
const WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled.";
const NO_CHANGE = "WARNING: ACL errors detected, no change to the previously active ACL rules was performed";

describe("ACL CAT", () => {
  test("each category lists exactly the commands and subcommands whose COMMAND INFO carries it", async () => {
    await withAdmin([], async (admin) => {
      const table = (await admin.cmd("COMMAND")) as unknown[][];
      const withCategory = new Map<string, string[]>();
      const walk = (info: unknown[]) => {
        for (const cat of info[6] as string[]) withCategory.set(cat.slice(1), [...(withCategory.get(cat.slice(1)) ?? []), info[0] as string]);
        for (const sub of (info[9] as unknown[][]) ?? []) walk(sub);
      };
      table.forEach(walk);
      const categories = (await admin.cmd("ACL", "CAT")) as string[];
      expect(categories.length).toBe(21);
      for (const cat of categories) {
        const listed = ((await admin.cmd("ACL", "CAT", cat)) as string[]).slice().sort();
        expect([cat, listed]).toEqual([cat, (withCategory.get(cat) ?? []).sort()]);
      }
    });
  });
});

describe("ACL DELUSER", () => {
  test("closes every connection logged in as a deleted user, and no other", async () => {
    await withAdmin(["alice", "bob"], async (admin) => {
      expect(await admin.raw("ACL", "SETUSER", "alice", "on", ">pw", "+@all", "~*", "&*")).toBe("+OK\r\n");
      expect(await admin.raw("ACL", "SETUSER", "bob", "on", ">pw", "+@all", "~*", "&*")).toBe("+OK\r\n");
      const a1 = await loggedIn("alice", "pw");
      const a2 = await loggedIn("alice", "pw");
      expect(await a2.raw("SUBSCRIBE", "chat")).toBe(arr(bulk("subscribe"), bulk("chat"), int(1)));
      const b = await loggedIn("bob", "pw");
      const other = await conn();
      expect(await admin.raw("ACL", "DELUSER", "alice")).toBe(int(1));
      expect(await closedQuietly(a1)).toBe("");
      expect(await closedQuietly(a2)).toBe("");
      expect(await b.raw("ACL", "WHOAMI")).toBe(bulk("bob"));
      expect(await other.raw("PING")).toBe("+PONG\r\n");
      b.close();
      other.close();
    });
  });

  test("answers, then closes the connection that deleted its own user", async () => {
    await withAdmin(["alice"], async (admin) => {
      expect(await admin.raw("ACL", "SETUSER", "alice", "on", ">pw", "+@all", "~*", "&*")).toBe("+OK\r\n");
      const a = await loggedIn("alice", "pw");
      a.send("ACL", "DELUSER", "alice");
      expect(await a.waitClosed(1000)).toBe(int(1));
      expect(await admin.raw("ACL", "USERS")).toBe(bulks("default"));
    });
  });
});

describe("ACL SETUSER", () => {
  test("closes a subscribed connection of the user once one of its channels or patterns is no longer allowed", async () => {
    await withAdmin(["alice"], async (admin) => {
      expect(await admin.raw("ACL", "SETUSER", "alice", "on", ">pw", "+@all", "~*", "&*")).toBe("+OK\r\n");
      const idle = await loggedIn("alice", "pw");
      const chat = await loggedIn("alice", "pw");
      expect(await chat.raw("SUBSCRIBE", "chat")).toBe(arr(bulk("subscribe"), bulk("chat"), int(1)));
      const pattern = await loggedIn("alice", "pw");
      expect(await pattern.raw("PSUBSCRIBE", "ch*")).toBe(arr(bulk("psubscribe"), bulk("ch*"), int(1)));
      const news = await loggedIn("alice", "pw");
      expect(await news.raw("SUBSCRIBE", "news")).toBe(arr(bulk("subscribe"), bulk("news"), int(1)));

      // A pattern subscription must be allowed literally: &chat does not cover PSUBSCRIBE ch*.
      expect(await admin.raw("ACL", "SETUSER", "alice", "resetchannels", "&chat", "&news")).toBe("+OK\r\n");
      expect(await closedQuietly(pattern)).toBe("");
      expect(await admin.raw("PUBLISH", "chat", "hi")).toBe(int(1));
      expect(await chat.readRaw()).toBe(arr(bulk("message"), bulk("chat"), bulk("hi")));

      expect(await admin.raw("ACL", "SETUSER", "alice", "resetchannels", "&chat")).toBe("+OK\r\n");
      expect(await closedQuietly(news)).toBe("");
      expect(await chat.raw("PING")).toBe(bulks("pong", ""));
      expect(await idle.raw("PING")).toBe("+PONG\r\n");
      chat.close();
      idle.close();
    });
  });

  test("leaves a logged-in connection open when the user is turned off or loses its passwords, and refuses its next command only for lack of permission", async () => {
    await withAdmin(["alice"], async (admin) => {
      expect(await admin.raw("ACL", "SETUSER", "alice", "on", ">pw", "+@all", "~*", "&*")).toBe("+OK\r\n");
      const a = await loggedIn("alice", "pw");
      expect(await admin.raw("ACL", "SETUSER", "alice", "off", "resetpass")).toBe("+OK\r\n");
      expect(await a.raw("ACL", "WHOAMI")).toBe(bulk("alice"));
      expect(await admin.raw("ACL", "SETUSER", "alice", "-@all")).toBe("+OK\r\n");
      expect(await a.raw("PING")).toBe("-NOPERM this user has no permissions to run the 'ping' command\r\n");
      const b = await conn();
      expect(await b.raw("AUTH", "alice", "pw")).toBe(`-${WRONGPASS}\r\n`);
      a.close();
      b.close();
    });
  });
});

describe("ACL SAVE and --aclfile", () => {
  // Users whose descriptions hold at most one single-command rule in a row: Redis 7.0 lists
  // several in the command table's hash order, which changes with every start.
  const USERS = [
    ["alice", "on", ">pw", "~k*", "%R~r*", "&c*", "+@hash", "-hdel", "(~x", "+get)"],
    ["bob", "off", "nopass", "+@all", "-@dangerous"],
    ["carol", "on", `#${sha256("secret")}`, "allkeys", "allchannels", "+select|0"],
  ];

  test("ACL SAVE writes ACL LIST to the file, and a restart loads the same users", async () => {
    const file = join(dir, "save.acl");
    writeFileSync(file, "");
    let list: string;
    const first = await startOwnServer(["--aclfile", file], dir);
    try {
      const c = await RawClient.connect(first.port);
      for (const u of USERS) expect(await c.raw("ACL", "SETUSER", ...u)).toBe("+OK\r\n");
      list = await c.raw("ACL", "LIST");
      expect(list).toBe(bulks(
        `user alice on #${sha256("pw")} ~k* %R~r* resetchannels &c* -@all +@hash -hdel (~x resetchannels -@all +get)`,
        "user bob off nopass resetchannels +@all -@dangerous",
        `user carol on #${sha256("secret")} ~* &* -@all +select|0`,
        "user default on nopass ~* &* +@all",
      ));
      expect(await c.raw("ACL", "SAVE")).toBe("+OK\r\n");
      c.close();
    } finally {
      await first.stop();
    }
    expect(readFileSync(file, "latin1")).toBe(
      `user alice on #${sha256("pw")} ~k* %R~r* resetchannels &c* -@all +@hash -hdel (~x resetchannels -@all +get)\n` +
      "user bob off nopass resetchannels +@all -@dangerous\n" +
      `user carol on #${sha256("secret")} ~* &* -@all +select|0\n` +
      "user default on nopass ~* &* +@all\n",
    );
    const second = await startOwnServer(["--aclfile", file], dir);
    try {
      const c = await RawClient.connect(second.port);
      expect(await c.raw("ACL", "LIST")).toBe(list);
      expect(await c.raw("AUTH", "carol", "secret")).toBe("+OK\r\n");
      expect(await c.raw("SELECT", "0")).toBe("+OK\r\n");
      expect(await c.raw("SELECT", "1")).toBe("-NOPERM this user has no permissions to run the 'select' command\r\n");
      c.close();
    } finally {
      await second.stop();
    }
  }, 20000);

  test("the user lines of --aclfile are loaded at startup; ACL LOAD refuses a whole file for one bad line and keeps the users it had", async () => {
    const file = join(dir, "load.acl");
    // CRLF line ends and empty lines are accepted; a user the file leaves out (default) gets its
    // built-in rules.
    writeFileSync(file, "user carol on >pw ~app:* +@all\r\n\nuser dave\n");
    const srv = await startOwnServer(["--aclfile", file], dir);
    try {
      const c = await RawClient.connect(srv.port);
      const before = bulks(
        `user carol on #${sha256("pw")} ~app:* resetchannels +@all`,
        "user dave off resetchannels -@all",
        "user default on nopass ~* &* +@all",
      );
      expect(await c.raw("ACL", "LIST")).toBe(before);
      const carol = await loggedIn("carol", "pw", srv.port);
      expect(await carol.raw("SET", "app:1", "v")).toBe("+OK\r\n");
      expect(await carol.raw("SET", "other", "v")).toBe(`-${NOPERM_KEYS}\r\n`);
      carol.close();

      const refused: [string, string][] = [
        ["user erin on >pw ~* +@all\nuser frank on bogus\n", `${file}:2: Syntax error. ${NO_CHANGE}`],
        ["user erin on >pw +nosuch\n", `${file}:1: Error in applying operation '+nosuch': Unknown command or category name in ACL. ${NO_CHANGE}`],
        ["user erin on\n# a comment\n", `${file}:2 should start with user keyword followed by the username. ${NO_CHANGE}`],
        ["user\n", `${file}:1 should start with user keyword followed by the username. ${NO_CHANGE}`],
        ["user erin on\nuser erin off\n", `WARNING: Duplicate user 'erin' found on line 2. ${NO_CHANGE}`],
        // Not "Error in applying operation" here: Redis words this one differently.
        ["user erin on allkeys ~foo\n", `${file}:1: Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns. ${NO_CHANGE}`],
      ];
      for (const [content, error] of refused) {
        writeFileSync(file, content);
        expect(await c.raw("ACL", "LOAD")).toBe(`-ERR ${error}\r\n`);
        expect(await c.raw("ACL", "LIST")).toBe(before);
      }

      writeFileSync(file, "user erin on >pw ~* +@all\n");
      expect(await c.raw("ACL", "LOAD")).toBe("+OK\r\n");
      expect(await c.raw("ACL", "LIST")).toBe(bulks("user default on nopass ~* &* +@all", `user erin on #${sha256("pw")} ~* resetchannels +@all`));

      rmSync(file);
      expect(await c.raw("ACL", "LOAD")).toBe(`-ERR Error loading ACLs, opening file '${file}': No such file or directory\r\n`);
      c.close();
    } finally {
      await srv.stop();
    }
  }, 20000);

  test("a server whose aclfile has a bad line, or is missing, refuses to start", async () => {
    const file = join(dir, "bad.acl");
    writeFileSync(file, "user erin on >pw +nosuch\n");
    const bad = await runToExit(["--aclfile", file], dir);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`# Aborting Redis startup because of ACL errors: ${file}:1: Error in applying operation '+nosuch': ` +
      `Unknown command or category name in ACL. ${NO_CHANGE}\n`);
    const missing = await runToExit(["--aclfile", join(dir, "missing.acl")], dir);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain(`# Aborting Redis startup because of ACL errors: Error loading ACLs, opening file '${join(dir, "missing.acl")}': ` +
      "No such file or directory\n");
  }, 20000);
});

describe("passwords in CLIENT LIST, MONITOR and SLOWLOG", () => {
  test("CLIENT LIST shows the user of a connection, never its password", async () => {
    await withAdmin(["alice"], async (admin) => {
      expect(await admin.raw("ACL", "SETUSER", "alice", "on", ">sekrit", "+@all", "~*")).toBe("+OK\r\n");
      const a = await loggedIn("alice", "sekrit");
      expect(await a.raw("CLIENT", "SETNAME", "alice-conn")).toBe("+OK\r\n");
      const list = String(await admin.cmd("CLIENT", "LIST"));
      const line = list.split("\n").find((l) => l.includes(" name=alice-conn "));
      expect(line).toMatch(/ cmd=client\|setname user=alice redir=-1 resp=2$/);
      expect(list).not.toContain("sekrit");
      a.close();
    });
  });

  test("MONITOR shows AUTH and HELLO AUTH with the user name and password redacted, failed logins included", async () => {
    await withAdmin(["alice"], async (admin) => {
      expect(await admin.raw("ACL", "SETUSER", "alice", "on", ">sekrit", "+@all", "~*")).toBe("+OK\r\n");
      const monitor = await conn();
      expect(await monitor.raw("MONITOR")).toBe("+OK\r\n");
      const c = await conn();
      expect(await c.raw("AUTH", "alice", "sekrit")).toBe("+OK\r\n");
      expect(await c.raw("AUTH", "alice", "wrongpw")).toBe(`-${WRONGPASS}\r\n`);
      expect((await c.raw("HELLO", "3", "AUTH", "alice", "sekrit")).startsWith("%7\r\n")).toBe(true);
      expect(await c.raw("HELLO", "2", "AUTH", "alice", "badpw2", "SETNAME", "x")).toBe(`-${WRONGPASS}\r\n`);
      expect(await c.raw("PING")).toBe("+PONG\r\n");
      const lines: string[] = [];
      for (let i = 0; i < 5; i++) lines.push((await monitor.readRaw()).replace(/^\+\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] /, ""));
      expect(lines).toEqual([
        '"AUTH" "(redacted)" "(redacted)"\r\n',
        '"AUTH" "(redacted)" "(redacted)"\r\n',
        '"HELLO" "3" "AUTH" "(redacted)" "(redacted)"\r\n',
        '"HELLO" "2" "AUTH" "(redacted)" "(redacted)" "SETNAME" "x"\r\n',
        '"PING"\r\n',
      ]);
      monitor.close();
      c.close();
    });
  });

  test("SLOWLOG keeps AUTH, HELLO AUTH and ACL SETUSER with their arguments redacted", async () => {
    await withAdmin(["alice"], async (admin) => {
      const c = await conn();
      try {
        expect(await admin.raw("CONFIG", "SET", "slowlog-log-slower-than", "0")).toBe("+OK\r\n");
        expect(await admin.raw("SLOWLOG", "RESET")).toBe("+OK\r\n");
        expect(await c.raw("ACL", "SETUSER", "alice", "on", ">sekrit", "+@all", "~*")).toBe("+OK\r\n");
        expect(await c.raw("AUTH", "alice", "sekrit")).toBe("+OK\r\n");
        expect(await c.raw("AUTH", "alice", "wrongpw")).toBe(`-${WRONGPASS}\r\n`);
        expect((await c.raw("HELLO", "2", "AUTH", "alice", "sekrit")).startsWith("*14\r\n")).toBe(true);
        expect(await admin.raw("CONFIG", "SET", "slowlog-log-slower-than", "10000")).toBe("+OK\r\n");
        const raw = await admin.raw("SLOWLOG", "GET", "-1");
        expect(raw).not.toContain("sekrit");
        expect(raw).not.toContain("wrongpw");
        const entries = (await admin.cmd("SLOWLOG", "GET", "-1")) as unknown[][];
        const argvs = entries.map((e) => e[3] as string[]).filter((a) => ["ACL", "AUTH", "HELLO"].includes(a[0])).reverse();
        expect(argvs).toEqual([
          ["ACL", "SETUSER", "(redacted)", "(redacted)", "(redacted)", "(redacted)", "(redacted)"],
          ["AUTH", "(redacted)", "(redacted)"],
          ["AUTH", "(redacted)", "(redacted)"],
          ["HELLO", "2", "AUTH", "(redacted)", "(redacted)"],
        ]);
      } finally {
        await admin.raw("CONFIG", "SET", "slowlog-log-slower-than", "10000");
        await admin.raw("SLOWLOG", "RESET");
        c.close();
      }
    });
  });
});

describe("client libraries logging in as an ACL user", () => {
  const APP_USER = ["app", "on", ">app-pw", "~app:*", "+@all"];

  test("ioredis with username and password reads and writes its keys and gets NOPERM for another key", async () => {
    await withAdmin(["app"], async (admin) => {
      expect(await admin.raw("FLUSHALL")).toBe("+OK\r\n");
      expect(await admin.raw("ACL", "SETUSER", ...APP_USER)).toBe("+OK\r\n");
      const client = new IORedis({ port, host: "127.0.0.1", username: "app", password: "app-pw", maxRetriesPerRequest: 1 });
      try {
        expect(await client.set("app:greeting", "hello")).toBe("OK");
        expect(await client.get("app:greeting")).toBe("hello");
        expect(await client.call("ACL", "WHOAMI")).toBe("app");
        const err = await client.get("other").then(() => null, (e: Error) => e);
        expect(err?.message).toBe(NOPERM_KEYS);
        expect(client.status).toBe("ready");
      } finally {
        await client.quit();
      }
    });
  });

  test("node-redis with user:pass in the URL reads and writes its keys and gets NOPERM for another key", async () => {
    await withAdmin(["app"], async (admin) => {
      expect(await admin.raw("FLUSHALL")).toBe("+OK\r\n");
      expect(await admin.raw("ACL", "SETUSER", ...APP_USER)).toBe("+OK\r\n");
      const client = createClient({ url: `redis://app:app-pw@127.0.0.1:${port}`, socket: { reconnectStrategy: false } });
      const errors: unknown[] = [];
      client.on("error", (e) => errors.push(e));
      try {
        await client.connect();
        expect(await client.set("app:greeting", "hello")).toBe("OK");
        expect(await client.get("app:greeting")).toBe("hello");
        expect(String(await client.sendCommand(["ACL", "WHOAMI"]))).toBe("app");
        const err = await client.get("other").then(() => null, (e: Error) => e);
        expect(err?.message).toBe(NOPERM_KEYS);
        expect(errors).toEqual([]);
      } finally {
        client.destroy();
      }
    });
  });

  test("node-redis with a wrong password fails to connect with WRONGPASS", async () => {
    await withAdmin(["app"], async (admin) => {
      expect(await admin.raw("ACL", "SETUSER", ...APP_USER)).toBe("+OK\r\n");
      const client = createClient({ url: `redis://app:nope@127.0.0.1:${port}`, socket: { reconnectStrategy: false } });
      client.on("error", () => {});
      const err = await client.connect().then(() => null, (e: Error) => e);
      expect(err?.message).toBe(WRONGPASS);
      client.destroy();
    });
  });
});

describe("requirepass", () => {
  test("CONFIG SET requirepass gives the default user that one password; an empty one makes it nopass again", async () => {
    const srv = await startOwnServer([], dir);
    try {
      const c = await RawClient.connect(srv.port);
      expect(await c.raw("CONFIG", "SET", "requirepass", "s3cret")).toBe("+OK\r\n");
      const defaultWith = (flags: string[], passwords: string[]) => arr(
        bulk("flags"), bulks(...flags), bulk("passwords"), bulks(...passwords), bulk("commands"), bulk("+@all"), bulk("keys"), bulk("~*"),
        bulk("channels"), bulk("&*"), bulk("selectors"), arr(),
      );
      expect(await c.raw("ACL", "GETUSER", "default")).toBe(defaultWith(["on"], [sha256("s3cret")]));
      expect(await c.raw("ACL", "LIST")).toBe(bulks(`user default on #${sha256("s3cret")} ~* &* +@all`));
      expect(await c.raw("ACL", "WHOAMI")).toBe(bulk("default")); // this connection stays logged in

      const other = await RawClient.connect(srv.port);
      expect(await other.raw("PING")).toBe("-NOAUTH Authentication required.\r\n");
      expect(await other.raw("AUTH", "wrong")).toBe(`-${WRONGPASS}\r\n`);
      expect(await other.raw("AUTH", "s3cret")).toBe("+OK\r\n");
      expect(await other.raw("AUTH", "default", "s3cret")).toBe("+OK\r\n");
      expect(await other.raw("AUTH", "default", "wrong")).toBe(`-${WRONGPASS}\r\n`);
      expect(await other.raw("ACL", "WHOAMI")).toBe(bulk("default"));
      other.close();

      // ACL SETUSER does not write back to requirepass.
      expect(await c.raw("ACL", "SETUSER", "default", ">more")).toBe("+OK\r\n");
      expect(await c.raw("CONFIG", "GET", "requirepass")).toBe(bulks("requirepass", "s3cret"));
      expect(await c.raw("ACL", "GETUSER", "default")).toBe(defaultWith(["on"], [sha256("s3cret"), sha256("more")]));

      expect(await c.raw("CONFIG", "SET", "requirepass", "")).toBe("+OK\r\n");
      expect(await c.raw("ACL", "GETUSER", "default")).toBe(defaultWith(["on", "nopass"], []));
      expect(await c.raw("ACL", "LIST")).toBe(bulks("user default on nopass ~* &* +@all"));
      c.close();
    } finally {
      await srv.stop();
    }
  }, 20000);

  test("--requirepass at startup is the default user's password", async () => {
    const srv = await startOwnServer(["--requirepass", "boot-pw"], dir);
    try {
      const c = await RawClient.connect(srv.port);
      expect(await c.raw("ACL", "LIST")).toBe("-NOAUTH Authentication required.\r\n");
      expect(await c.raw("AUTH", "boot-pw")).toBe("+OK\r\n");
      expect(await c.raw("ACL", "LIST")).toBe(bulks(`user default on #${sha256("boot-pw")} ~* &* +@all`));
      c.close();
    } finally {
      await srv.stop();
    }
  }, 20000);
});
