// main.ts, Server: connection and introspection commands, one `describe` per command.
// Replies are compared byte for byte with what redis-server 7.0.15 sends; where a value cannot be
// the same (ids, addresses, times, allocator sizes) the test pins down the shape and says why.
// Tests that need a password, a config file or a server they may shut down spawn their own.
import { describe, test, expect, beforeAll, afterAll, afterEach } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RawClient } from "./client.ts";
import { advanceClock, commandFrom, connect, freePort, launchServer, pipeline, sharedServer, spawnServer, type SpawnedServer } from "./helpers.ts";
import { MAIN, REDIS_SERVER, noRedis, startRedis, tempDir, waitFor, type Server } from "./persistence-harness.ts";

const OK = "+OK\r\n";
const NIL = "$-1\r\n";
const bulk = (s: string) => `$${Buffer.byteLength(s, "latin1")}\r\n${s}\r\n`;
const bulks = (...items: string[]) => `*${items.length}\r\n${items.map(bulk).join("")}`;

/** HELLO's reply as Redis 7.0.15 sends it: a map in RESP3, a flat array in RESP2. */
function helloReply(proto: 2 | 3, id: number): string {
  const fields: [string, string][] = [
    ["server", bulk("redis")], ["version", bulk("7.0.15")], ["proto", `:${proto}\r\n`], ["id", `:${id}\r\n`],
    ["mode", bulk("standalone")], ["role", bulk("master")], ["modules", "*0\r\n"],
  ];
  return (proto === 3 ? "%7\r\n" : "*14\r\n") + fields.map(([k, v]) => bulk(k) + v).join("");
}

/** INFO's text parsed into field → value (RESP2 connection). */
async function infoFields(c: RawClient, ...sections: string[]): Promise<Map<string, string>> {
  const text = String(await c.cmd("INFO", ...sections));
  const fields = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    const at = line.indexOf(":");
    if (at > 0 && !line.startsWith("#")) fields.set(line.slice(0, at), line.slice(at + 1));
  }
  return fields;
}

/** The section headers of an INFO reply, in order. */
async function infoHeaders(c: RawClient, ...sections: string[]): Promise<string[]> {
  const text = String(await c.cmd("INFO", ...sections));
  return text.split("\r\n").filter((l) => l.startsWith("# "));
}

/** A CONFIG GET reply decoded into [name, value] pairs sorted by name (Redis answers globs in hash order). */
async function configPairs(c: RawClient, ...patterns: string[]): Promise<string[][]> {
  const flat = (await c.cmd("CONFIG", "GET", ...patterns)) as string[];
  const pairs: string[][] = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i], flat[i + 1]]);
  return pairs.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/** This connection's address as the server sees it (CLIENT INFO addr=). */
async function clientAddr(c: RawClient): Promise<string> {
  return /addr=(\S+)/.exec(String(await c.cmd("CLIENT", "INFO")))![1];
}

/** Resolves with the next reply, or with "timeout" if none arrives within ms. */
async function replyWithin(c: RawClient, ms: number): Promise<string> {
  return c.readRaw(ms).catch(() => "timeout");
}

/** A real redis-server 7.0.15 for the differential checks (DEBUG allowed), started on first use
 *  and stopped when the file is done. */
let reference: Promise<Server> | null = null;
function redisServer(): Promise<Server> {
  reference ??= startRedis(tempDir("server-ref"));
  return reference;
}
afterAll(async () => { if (reference) await (await reference).stop(); });

/** A fresh connection to the reference redis-server, on an empty dataset (FLUSHALL) in RESP2. */
async function connectRedis(): Promise<RawClient> {
  const c = await RawClient.connect((await redisServer()).port);
  await c.cmd("FLUSHALL");
  return c;
}

/** Sends one command to every client at once and returns their replies' exact bytes, in order. */
async function onEach(clients: RawClient[], ...args: (string | number)[]): Promise<string[]> {
  for (const c of clients) c.send(...args);
  return Promise.all(clients.map((c) => c.readRaw(10000)));
}

/** Resolves just after the wall clock enters a new second, so that what follows shares it. */
async function atNextSecond(): Promise<void> {
  const s = Math.floor(Date.now() / 1000);
  while (Math.floor(Date.now() / 1000) === s) await Bun.sleep(2);
}

/** Expects `got` to be `expected(t)` for one of the Unix seconds from `from` to `to`: a reply that
 *  shows how long ago something happened depends on the second the server answered in. */
function expectForSomeSecond(got: string, from: number, to: number, expected: (t: number) => string): void {
  for (let t = from; t <= to; t++) if (got === expected(t)) return;
  expect(got).toBe(expected(from));
}

/** LATENCY HISTORY's samples (RESP2) as [unix second, ms] pairs. */
async function latencyHistory(c: RawClient, event: string): Promise<[number, number][]> {
  return (await c.cmd("LATENCY", "HISTORY", event)) as [number, number][];
}

/** LATENCY LATEST's all-time high for one event (RESP2). */
async function latencyAllTimeHigh(c: RawClient, event: string): Promise<number> {
  const latest = (await c.cmd("LATENCY", "LATEST")) as [string, number, number, number][];
  return latest.find((e) => e[0] === event)![3];
}

/** The µs values LATENCY HISTOGRAM can report: hdr_histogram's log walk visits 1024 ns, 2048 ns,
 *  ... and reports the top of the bucket holding each level (128 buckets per power of two). */
const HISTOGRAM_LEVELS_USEC = Array.from({ length: 20 }, (_, i) => Math.floor((1024 * 2 ** i * (1 + 1 / 128) - 1) / 1000));

/** LATENCY HISTOGRAM's entry for one command in RESP2 (an array of pairs) or RESP3 (maps): its
 *  calls, and [µs, cumulative calls] for each level at which the count grew. */
function histogramEntry(proto: 2 | 3, name: string, calls: number, buckets: [number, number][]): string {
  const agg = (n: number) => (proto === 3 ? `%${n}\r\n` : `*${2 * n}\r\n`);
  return bulk(name) + agg(2) + bulk("calls") + `:${calls}\r\n` + bulk("histogram_usec") + agg(buckets.length) +
    buckets.map(([us, n]) => `:${us}\r\n:${n}\r\n`).join("");
}
const histogramReply = (proto: 2 | 3, ...entries: string[]) => (proto === 3 ? `%${entries.length}\r\n` : `*${2 * entries.length}\r\n`) + entries.join("");

describe("PING", () => {
  test("without an argument it answers +PONG", async () => {
    const c = await connect();
    expect(await c.raw("PING")).toBe("+PONG\r\n");
  });

  test("with an argument it echoes it as a bulk string", async () => {
    const c = await connect();
    expect(await c.raw("PING", "hello world")).toBe("$11\r\nhello world\r\n");
    expect(await c.raw("PING", "")).toBe("$0\r\n\r\n");
  });

  test("more than one argument is an arity error", async () => {
    const c = await connect();
    expect(await c.raw("PING", "a", "b")).toBe("-ERR wrong number of arguments for 'ping' command\r\n");
  });

  test("answers +PONG in RESP3 too", async () => {
    const c = await connect();
    await c.raw("HELLO", "3");
    expect(await c.raw("PING")).toBe("+PONG\r\n");
  });
});

describe("ECHO", () => {
  test("returns its argument byte for byte, CRLF and NUL included", async () => {
    const c = await connect();
    expect(await c.raw("ECHO", "a\r\nb\0\xff")).toBe("$6\r\na\r\nb\0\xff\r\n");
  });

  test("returns an empty string as an empty bulk, not nil", async () => {
    const c = await connect();
    expect(await c.raw("ECHO", "")).toBe("$0\r\n\r\n");
  });

  test("without exactly one argument is an arity error", async () => {
    const c = await connect();
    expect(await c.raw("ECHO")).toBe("-ERR wrong number of arguments for 'echo' command\r\n");
    expect(await c.raw("ECHO", "a", "b")).toBe("-ERR wrong number of arguments for 'echo' command\r\n");
  });
});

describe("QUIT", () => {
  test("replies +OK and then closes the connection", async () => {
    const c = await connect();
    c.send("QUIT");
    expect(await c.waitClosed()).toBe(OK);
  });

  test("commands pipelined after QUIT are not run", async () => {
    const c = await connect();
    c.write("*1\r\n$4\r\nQUIT\r\n*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$1\r\n1\r\n");
    expect(await c.waitClosed()).toBe(OK);
    const d = await RawClient.connect((await sharedServer()).port);
    expect(await d.raw("EXISTS", "after")).toBe(":0\r\n");
    d.close();
  });
});

describe("RESET", () => {
  test("answers +RESET and restores db 0, RESP2 and no name", async () => {
    const c = await connect();
    await c.raw("SELECT", "3");
    await c.raw("SET", "in3", "x");
    await c.raw("HELLO", "3", "SETNAME", "before");
    expect(await c.raw("RESET")).toBe("+RESET\r\n");
    expect(await c.raw("GET", "in3")).toBe(NIL); // db 0 again, and RESP2's nil
    expect(await c.raw("CLIENT", "GETNAME")).toBe(NIL);
    expect(String(await c.cmd("CLIENT", "INFO"))).toMatch(/ db=0 .* resp=2\n$/);
  });

  test("turns CLIENT REPLY back on", async () => {
    const c = await connect();
    c.send("CLIENT", "REPLY", "OFF");
    expect(await c.raw("RESET")).toBe("+RESET\r\n");
    expect(await c.raw("PING")).toBe("+PONG\r\n");
  });

  test("takes a client out of MONITOR mode", async () => {
    const m = await connect();
    const c = await connect();
    expect(await m.raw("MONITOR")).toBe(OK);
    expect(await m.raw("RESET")).toBe("+RESET\r\n");
    await c.raw("SET", "k", "v");
    expect(await m.raw("ECHO", "after")).toBe(bulk("after"));
    m.close();
  });

  test("takes no arguments", async () => {
    const c = await connect();
    expect(await c.raw("RESET", "x")).toBe("-ERR wrong number of arguments for 'reset' command\r\n");
  });
});

describe("HELLO", () => {
  test("without arguments answers Redis's server map in the current protocol (RESP2)", async () => {
    const c = await connect();
    const id = (await c.cmd("CLIENT", "ID")) as number;
    expect(await c.raw("HELLO")).toBe(helloReply(2, id));
  });

  test("HELLO 3 answers the RESP3 map and switches the connection to RESP3", async () => {
    const c = await connect();
    const id = (await c.cmd("CLIENT", "ID")) as number;
    expect(await c.raw("HELLO", "3")).toBe(helloReply(3, id));
    expect(await c.raw("GET", "missing")).toBe("_\r\n");
  });

  test("HELLO 2 switches a RESP3 connection back to RESP2", async () => {
    const c = await connect();
    const id = (await c.cmd("CLIENT", "ID")) as number;
    await c.raw("HELLO", "3");
    expect(await c.raw("HELLO", "2")).toBe(helloReply(2, id));
    expect(await c.raw("GET", "missing")).toBe(NIL);
  });

  test("the id field is the connection's CLIENT ID", async () => {
    const c = await connect();
    const id = (await c.cmd("CLIENT", "ID")) as number;
    expect(await c.raw("HELLO", "3")).toContain(`$2\r\nid\r\n:${id}\r\n`);
  });

  test("an unsupported protocol version is a NOPROTO error", async () => {
    const c = await connect();
    expect(await c.raw("HELLO", "1")).toBe("-NOPROTO unsupported protocol version\r\n");
    expect(await c.raw("HELLO", "4")).toBe("-NOPROTO unsupported protocol version\r\n");
  });

  test("a version that is not an integer is an error", async () => {
    const c = await connect();
    expect(await c.raw("HELLO", "abc")).toBe("-ERR Protocol version is not an integer or out of range\r\n");
    expect(await c.raw("HELLO", "1.0")).toBe("-ERR Protocol version is not an integer or out of range\r\n");
    expect(await c.raw("HELLO", "99999999999999999999")).toBe("-ERR Protocol version is not an integer or out of range\r\n");
  });

  test("a version that is an integer but not 2 or 3 is NOPROTO, however large", async () => {
    const c = await connect();
    expect(await c.raw("HELLO", "0")).toBe("-NOPROTO unsupported protocol version\r\n");
    expect(await c.raw("HELLO", "-1")).toBe("-NOPROTO unsupported protocol version\r\n");
    expect(await c.raw("HELLO", "2147483648")).toBe("-NOPROTO unsupported protocol version\r\n");
    expect(await c.raw("HELLO", "99999999999")).toBe("-NOPROTO unsupported protocol version\r\n");
  });

  test("SETNAME names the connection", async () => {
    const c = await connect();
    const id = (await c.cmd("CLIENT", "ID")) as number;
    expect(await c.raw("HELLO", "2", "SETNAME", "worker-1")).toBe(helloReply(2, id));
    expect(await c.raw("CLIENT", "GETNAME")).toBe(bulk("worker-1"));
  });

  test("SETNAME with a space is refused with CLIENT SETNAME's error", async () => {
    const c = await connect();
    expect(await c.raw("HELLO", "3", "SETNAME", "a b")).toBe("-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
  });

  test("an option missing its arguments, or an unknown option, is a syntax error naming it", async () => {
    const c = await connect();
    expect(await c.raw("HELLO", "3", "SETNAME")).toBe("-ERR Syntax error in HELLO option 'SETNAME'\r\n");
    expect(await c.raw("HELLO", "3", "AUTH", "default")).toBe("-ERR Syntax error in HELLO option 'AUTH'\r\n");
    expect(await c.raw("HELLO", "3", "FOO")).toBe("-ERR Syntax error in HELLO option 'FOO'\r\n");
  });

  test("a failed HELLO leaves the protocol unchanged", async () => {
    const c = await connect();
    await c.raw("HELLO", "3", "FOO");
    expect(await c.raw("GET", "missing")).toBe(NIL);
  });

  test("AUTH with an unknown user is WRONGPASS", async () => {
    const c = await connect();
    expect(await c.raw("HELLO", "3", "AUTH", "nobody", "x")).toBe("-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    expect(await c.raw("GET", "missing")).toBe(NIL);
  });

  test("AUTH default with any password succeeds when the default user has none", async () => {
    const c = await connect();
    const id = (await c.cmd("CLIENT", "ID")) as number;
    expect(await c.raw("HELLO", "3", "AUTH", "default", "anything")).toBe(helloReply(3, id));
  });
});

describe("AUTH", () => {
  let srv: SpawnedServer;
  beforeAll(async () => { srv = await spawnServer(["--requirepass", "pw", "--save", ""]); });
  afterAll(async () => { await srv.stop(); });

  const noauth = "-NOAUTH Authentication required.\r\n";
  const wrongpass = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";

  test("before authenticating, ordinary commands are refused with NOAUTH", async () => {
    const c = await RawClient.connect(srv.port);
    expect(await c.raw("PING")).toBe(noauth);
    expect(await c.raw("GET", "k")).toBe(noauth);
    expect(await c.raw("SELECT", "1")).toBe(noauth);
    expect(await c.raw("CLIENT", "ID")).toBe(noauth);
    expect(await c.raw("COMMAND", "COUNT")).toBe(noauth);
    c.close();
  });

  test("an unknown command is still reported as unknown before authenticating", async () => {
    const c = await RawClient.connect(srv.port);
    expect(await c.raw("NOSUCH")).toBe("-ERR unknown command 'NOSUCH', with args beginning with: \r\n");
    c.close();
  });

  test("HELLO without AUTH is refused with Redis's NOAUTH text", async () => {
    const c = await RawClient.connect(srv.port);
    const msg = "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n";
    expect(await c.raw("HELLO", "3")).toBe(msg);
    expect(await c.raw("HELLO")).toBe(msg);
    c.close();
  });

  test("a wrong password is WRONGPASS, with or without a user name", async () => {
    const c = await RawClient.connect(srv.port);
    expect(await c.raw("AUTH", "wrong")).toBe(wrongpass);
    expect(await c.raw("AUTH", "default", "wrong")).toBe(wrongpass);
    expect(await c.raw("AUTH", "nobody", "pw")).toBe(wrongpass);
    expect(await c.raw("HELLO", "3", "AUTH", "default", "wrong")).toBe(wrongpass);
    expect(await c.raw("PING")).toBe(noauth);
    c.close();
  });

  test("AUTH <password> authenticates the connection", async () => {
    const c = await RawClient.connect(srv.port);
    expect(await c.raw("AUTH", "pw")).toBe(OK);
    expect(await c.raw("PING")).toBe("+PONG\r\n");
    c.close();
  });

  test("AUTH default <password> authenticates the connection", async () => {
    const c = await RawClient.connect(srv.port);
    expect(await c.raw("AUTH", "default", "pw")).toBe(OK);
    expect(await c.raw("SET", "k", "v")).toBe(OK);
    expect(await c.raw("GET", "k")).toBe(bulk("v"));
    c.close();
  });

  test("HELLO 3 AUTH default <password> authenticates and switches to RESP3 in one step", async () => {
    const c = await RawClient.connect(srv.port);
    const reply = await c.raw("HELLO", "3", "AUTH", "default", "pw");
    const id = Number(/\$2\r\nid\r\n:(\d+)\r\n/.exec(reply)![1]);
    expect(reply).toBe(helloReply(3, id));
    expect(await c.raw("CLIENT", "ID")).toBe(`:${id}\r\n`);
    expect(await c.raw("GET", "missing")).toBe("_\r\n");
    c.close();
  });

  test("RESET forgets the authentication", async () => {
    const c = await RawClient.connect(srv.port);
    await c.raw("AUTH", "pw");
    expect(await c.raw("RESET")).toBe("+RESET\r\n");
    expect(await c.raw("PING")).toBe(noauth);
    c.close();
  });

  test("QUIT works before authenticating", async () => {
    const c = await RawClient.connect(srv.port);
    c.send("QUIT");
    expect(await c.waitClosed()).toBe(OK);
  });

  test("on a server without a password, AUTH <password> is an error explaining why", async () => {
    const c = await connect();
    expect(await c.raw("AUTH", "x")).toBe("-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n");
    expect(await c.raw("AUTH", "default", "x")).toBe(OK);
  });

  test("more than two arguments is a syntax error", async () => {
    const c = await connect();
    expect(await c.raw("AUTH", "a", "b", "c")).toBe("-ERR syntax error\r\n");
    expect(await c.raw("AUTH")).toBe("-ERR wrong number of arguments for 'auth' command\r\n");
  });
});

describe("SELECT", () => {
  test("switches database: each database has its own keys", async () => {
    const c = await connect();
    await c.raw("SET", "k", "db0");
    expect(await c.raw("SELECT", "1")).toBe(OK);
    expect(await c.raw("GET", "k")).toBe(NIL);
    await c.raw("SET", "k", "db1");
    expect(await c.raw("SELECT", "0")).toBe(OK);
    expect(await c.raw("GET", "k")).toBe(bulk("db0"));
  });

  test("an index outside 0..15 is out of range", async () => {
    const c = await connect();
    expect(await c.raw("SELECT", "16")).toBe("-ERR DB index is out of range\r\n");
    expect(await c.raw("SELECT", "-1")).toBe("-ERR DB index is out of range\r\n");
  });

  test("an index that is not an integer is an error", async () => {
    const c = await connect();
    expect(await c.raw("SELECT", "x")).toBe("-ERR value is not an integer or out of range\r\n");
    expect(await c.raw("SELECT", "1.5")).toBe("-ERR value is not an integer or out of range\r\n");
  });
});

describe("TIME", () => {
  test("answers unix seconds and microseconds as two bulk strings", async () => {
    const c = await connect();
    const before = Date.now();
    const reply = await c.raw("TIME");
    const m = /^\*2\r\n\$(\d+)\r\n(\d+)\r\n\$(\d+)\r\n(\d+)\r\n$/.exec(reply)!;
    expect(m).not.toBeNull();
    expect(Number(m[1])).toBe(m[2].length);
    expect(Number(m[3])).toBe(m[4].length);
    expect(Number(m[4])).toBeLessThan(1_000_000);
    const ms = Number(m[2]) * 1000 + Number(m[4]) / 1000;
    expect(Math.abs(ms - before)).toBeLessThan(2000);
  });

  test("takes no arguments", async () => {
    const c = await connect();
    expect(await c.raw("TIME", "x")).toBe("-ERR wrong number of arguments for 'time' command\r\n");
  });
});

describe("INFO", () => {
  // Field names of Redis 7.0.15's default sections, in its order.
  const FIELDS: Record<string, string[]> = {
    Server: ["redis_version", "redis_git_sha1", "redis_git_dirty", "redis_build_id", "redis_mode", "os", "arch_bits", "monotonic_clock", "multiplexing_api", "atomicvar_api", "gcc_version", "process_id", "process_supervised", "run_id", "tcp_port", "server_time_usec", "uptime_in_seconds", "uptime_in_days", "hz", "configured_hz", "lru_clock", "executable", "config_file", "io_threads_active"],
    Clients: ["connected_clients", "cluster_connections", "maxclients", "client_recent_max_input_buffer", "client_recent_max_output_buffer", "blocked_clients", "tracking_clients", "clients_in_timeout_table"],
    Memory: ["used_memory", "used_memory_human", "used_memory_rss", "used_memory_rss_human", "used_memory_peak", "used_memory_peak_human", "used_memory_peak_perc", "used_memory_overhead", "used_memory_startup", "used_memory_dataset", "used_memory_dataset_perc", "allocator_allocated", "allocator_active", "allocator_resident", "total_system_memory", "total_system_memory_human", "used_memory_lua", "used_memory_vm_eval", "used_memory_lua_human", "used_memory_scripts_eval", "number_of_cached_scripts", "number_of_functions", "number_of_libraries", "used_memory_vm_functions", "used_memory_vm_total", "used_memory_vm_total_human", "used_memory_functions", "used_memory_scripts", "used_memory_scripts_human", "maxmemory", "maxmemory_human", "maxmemory_policy", "allocator_frag_ratio", "allocator_frag_bytes", "allocator_rss_ratio", "allocator_rss_bytes", "rss_overhead_ratio", "rss_overhead_bytes", "mem_fragmentation_ratio", "mem_fragmentation_bytes", "mem_not_counted_for_evict", "mem_replication_backlog", "mem_total_replication_buffers", "mem_clients_slaves", "mem_clients_normal", "mem_cluster_links", "mem_aof_buffer", "mem_allocator", "active_defrag_running", "lazyfree_pending_objects", "lazyfreed_objects"],
    Persistence: ["loading", "async_loading", "current_cow_peak", "current_cow_size", "current_cow_size_age", "current_fork_perc", "current_save_keys_processed", "current_save_keys_total", "rdb_changes_since_last_save", "rdb_bgsave_in_progress", "rdb_last_save_time", "rdb_last_bgsave_status", "rdb_last_bgsave_time_sec", "rdb_current_bgsave_time_sec", "rdb_saves", "rdb_last_cow_size", "rdb_last_load_keys_expired", "rdb_last_load_keys_loaded", "aof_enabled", "aof_rewrite_in_progress", "aof_rewrite_scheduled", "aof_last_rewrite_time_sec", "aof_current_rewrite_time_sec", "aof_last_bgrewrite_status", "aof_rewrites", "aof_rewrites_consecutive_failures", "aof_last_write_status", "aof_last_cow_size", "module_fork_in_progress", "module_fork_last_cow_size"],
    Stats: ["total_connections_received", "total_commands_processed", "instantaneous_ops_per_sec", "total_net_input_bytes", "total_net_output_bytes", "total_net_repl_input_bytes", "total_net_repl_output_bytes", "instantaneous_input_kbps", "instantaneous_output_kbps", "instantaneous_input_repl_kbps", "instantaneous_output_repl_kbps", "rejected_connections", "sync_full", "sync_partial_ok", "sync_partial_err", "expired_keys", "expired_stale_perc", "expired_time_cap_reached_count", "expire_cycle_cpu_milliseconds", "evicted_keys", "evicted_clients", "total_eviction_exceeded_time", "current_eviction_exceeded_time", "keyspace_hits", "keyspace_misses", "pubsub_channels", "pubsub_patterns", "pubsubshard_channels", "latest_fork_usec", "total_forks", "migrate_cached_sockets", "slave_expires_tracked_keys", "active_defrag_hits", "active_defrag_misses", "active_defrag_key_hits", "active_defrag_key_misses", "total_active_defrag_time", "current_active_defrag_time", "tracking_total_keys", "tracking_total_items", "tracking_total_prefixes", "unexpected_error_replies", "total_error_replies", "dump_payload_sanitizations", "total_reads_processed", "total_writes_processed", "io_threaded_reads_processed", "io_threaded_writes_processed", "reply_buffer_shrinks", "reply_buffer_expands"],
    Replication: ["role", "connected_slaves", "master_failover_state", "master_replid", "master_replid2", "master_repl_offset", "second_repl_offset", "repl_backlog_active", "repl_backlog_size", "repl_backlog_first_byte_offset", "repl_backlog_histlen"],
    CPU: ["used_cpu_sys", "used_cpu_user", "used_cpu_sys_children", "used_cpu_user_children", "used_cpu_sys_main_thread", "used_cpu_user_main_thread"],
    Cluster: ["cluster_enabled"],
  };
  const DEFAULT_HEADERS = ["# Server", "# Clients", "# Memory", "# Persistence", "# Stats", "# Replication", "# CPU", "# Modules", "# Errorstats", "# Cluster", "# Keyspace"];
  const ALL_HEADERS = ["# Server", "# Clients", "# Memory", "# Persistence", "# Stats", "# Replication", "# CPU", "# Modules", "# Commandstats", "# Errorstats", "# Latencystats", "# Cluster", "# Keyspace"];

  test("without arguments it lists the default sections under Redis's headers, in order", async () => {
    const c = await connect();
    expect(await infoHeaders(c)).toEqual(DEFAULT_HEADERS);
    expect(await infoHeaders(c, "default")).toEqual(DEFAULT_HEADERS);
  });

  test("INFO everything and INFO all add Commandstats and Latencystats", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v"); // so Latencystats has a line
    expect(await infoHeaders(c, "everything")).toEqual(ALL_HEADERS);
    expect(await infoHeaders(c, "all")).toEqual(ALL_HEADERS);
  });

  test("INFO default commandstats adds one section to the defaults", async () => {
    const c = await connect();
    expect(await infoHeaders(c, "default", "commandstats")).toEqual([...DEFAULT_HEADERS.slice(0, 8), "# Commandstats", ...DEFAULT_HEADERS.slice(8)]);
  });

  test("section names are case-insensitive and several can be asked at once", async () => {
    const c = await connect();
    expect(await infoHeaders(c, "CPU")).toEqual(["# CPU"]);
    expect(await infoHeaders(c, "server", "clients")).toEqual(["# Server", "# Clients"]);
  });

  for (const [section, names] of Object.entries(FIELDS)) {
    test(`the ${section} section carries Redis's field names in Redis's order`, async () => {
      const c = await connect();
      const fields = [...(await infoFields(c, section)).keys()];
      expect(fields.filter((f) => names.includes(f))).toEqual(names);
    });
  }

  test("the Server section reports version 7.0.15, standalone mode and the listening port", async () => {
    const c = await connect();
    const f = await infoFields(c, "server");
    const port = (await sharedServer()).port;
    expect(f.get("redis_version")).toBe("7.0.15");
    expect(f.get("redis_mode")).toBe("standalone");
    expect(f.get("tcp_port")).toBe(String(port));
    expect(f.get("run_id")).toMatch(/^[0-9a-f]{40}$/);
  });

  test("the Replication section says master, and persistence is not loading", async () => {
    const c = await connect();
    const f = await infoFields(c, "replication", "persistence", "memory");
    expect(f.get("role")).toBe("master");
    expect(f.get("loading")).toBe("0"); // ioredis waits while loading:1
    expect(f.get("maxmemory_policy")).toBe("noeviction"); // BullMQ warns otherwise
  });

  test("used_memory grows with the keys and comes back to the empty figure when they are deleted", async () => {
    // Each write moves the estimate by its own delta (strings in and out of the keyspace's byte
    // arena, collections changed in place), so any drift would stay behind once all is deleted.
    const c = await connect();
    const used = async () => Number((await infoFields(c, "memory")).get("used_memory"));
    const empty = await used();
    const keys = Array.from({ length: 300 }, (_, i) => `key:${"x".repeat(i % 40)}:${i}`);
    const mset = (round: number) => c.raw("MSET", ...keys.flatMap((k, i) => [k, "v".repeat((i * 7 + round * 13) % 300)]));
    await mset(1);
    const full = await used();
    expect(full).toBeGreaterThan(empty + 300 * 100);
    for (const cmd of [
      ["SET", "a", "x"], ["SET", "a", "y".repeat(256)], ["SET", "a", "short again"], ["APPEND", "a", "z".repeat(250)],
      ["INCR", "n"], ["INCRBY", "n", "1000"], ["SET", "n", "text"], ["SETRANGE", "n", "300", "far"], ["SET", "n", "5"], ["DECR", "n"],
      ["RPUSH", "l", "1", "2", "3"], ["SET", "l", "a string now"], ["HSET", "h", "f", "v", "g", "w".repeat(300)], ["HSET", "h", "f", "longer value"],
      ["SET", "k".repeat(300), "long key"], ["RENAME", "a", "b"], ["COPY", "b", "c"], ["GETDEL", "c"], ["SADD", "s", "m"], ["SET", "s", "v"],
      ["DEL", ...keys.filter((_, i) => i % 3 === 0)], ["SET", "l", "x"], ["RPUSH", "l2", "a"], ["LPOP", "l2"],
    ]) await c.raw(...cmd);
    await mset(2);
    await c.raw("DEL", ...keys.filter((_, i) => i % 2 === 0));
    await mset(3);
    expect(await used()).toBeGreaterThan(empty + 300 * 100);
    const all = String(await c.cmd("KEYS", "*")).split(",");
    expect(await c.raw("DEL", ...all)).toBe(`:${all.length}\r\n`);
    expect(await c.raw("DBSIZE")).toBe(":0\r\n");
    expect(await used()).toBe(empty);
  });

  test("INFO keyspace on an empty dataset is only the header", async () => {
    const c = await connect();
    expect(await c.raw("INFO", "keyspace")).toBe(bulk("# Keyspace\r\n"));
  });

  test("INFO keyspace counts keys and keys with a TTL per database", async () => {
    const c = await connect();
    await c.raw("SET", "a", "1");
    await c.raw("SET", "b", "2", "EX", "100");
    await c.raw("SELECT", "2");
    await c.raw("SET", "c", "3");
    const text = String(await c.cmd("INFO", "KEYSPACE"));
    expect(text).toMatch(/^# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=\d+\r\ndb2:keys=1,expires=0,avg_ttl=0\r\n$/);
  });

  test("an unknown section answers an empty string", async () => {
    const c = await connect();
    expect(await c.raw("INFO", "nosuchsection")).toBe("$0\r\n\r\n");
  });

  test("INFO commandstats counts calls, rejected calls and failed calls per command", async () => {
    const c = await connect();
    await c.raw("CONFIG", "RESETSTAT");
    await c.raw("SET", "k", "1");
    await c.raw("SET", "k", "2");
    await c.raw("SET", "k", "3", "NX", "XX"); // fails inside the command
    await c.raw("SET", "k"); // rejected before running (arity)
    await c.raw("CONFIG", "GET", "hz");
    const text = String(await c.cmd("INFO", "commandstats"));
    expect(text).toMatch(/\r\ncmdstat_set:calls=3,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=1,failed_calls=1\r\n/);
    expect(text).toMatch(/\r\ncmdstat_config\|get:calls=1,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0\r\n/);
    expect(text).toMatch(/^# Commandstats\r\n/);
    expect(text).not.toContain("cmdstat_get:");
  });

  test("stats keyspace_hits and keyspace_misses count reads that found or missed a key", async () => {
    const c = await connect();
    await c.raw("SET", "here", "1");
    const before = await infoFields(c, "stats");
    await c.raw("GET", "here");
    await c.raw("GET", "here");
    await c.raw("GET", "missing");
    const after = await infoFields(c, "stats");
    expect(Number(after.get("keyspace_hits")) - Number(before.get("keyspace_hits"))).toBe(2);
    expect(Number(after.get("keyspace_misses")) - Number(before.get("keyspace_misses"))).toBe(1);
  });

  test("errorstats counts error replies by code, sorted by code", async () => {
    const c = await connect();
    await c.raw("CONFIG", "RESETSTAT");
    await c.raw("HELLO", "3", "AUTH", "nobody", "x"); // WRONGPASS
    await c.raw("HELLO", "4"); // NOPROTO
    await c.raw("NOSUCH"); // ERR
    await c.raw("GET"); // ERR
    expect(await c.raw("INFO", "errorstats")).toBe(bulk("# Errorstats\r\nerrorstat_ERR:count=2\r\nerrorstat_NOPROTO:count=1\r\nerrorstat_WRONGPASS:count=1\r\n"));
    expect((await infoFields(c, "stats")).get("total_error_replies")).toBe("4");
  });

  test("in RESP3 the reply is a verbatim string", async () => {
    const c = await connect();
    await c.raw("HELLO", "3");
    expect(await c.raw("INFO", "keyspace")).toBe("=16\r\ntxt:# Keyspace\r\n\r\n");
  });

  test("percentiles print as Redis's %f with its trailing zeros trimmed: 99.9, in CONFIG GET and INFO latencystats", async () => {
    const c = await connect();
    const [, before] = (await c.cmd("CONFIG", "GET", "latency-tracking-info-percentiles")) as string[];
    try {
      expect(await c.raw("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9 100 0.0000001")).toBe(OK);
      expect(await c.raw("CONFIG", "GET", "latency-tracking-info-percentiles")).toBe(bulks("latency-tracking-info-percentiles", "50 99 99.9 100 0"));
      await c.raw("ECHO", "x");
      expect(String(await c.cmd("INFO", "latencystats"))).toMatch(/latency_percentiles_usec_echo:p50=[\d.]+,p99=[\d.]+,p99\.9=[\d.]+,p100=[\d.]+,p0=[\d.]+\r\n/);
    } finally {
      await c.raw("CONFIG", "SET", "latency-tracking-info-percentiles", before);
    }
  });

  /** On a fresh connection to the server at `port`: two BLPOPs, one ended by CLIENT UNBLOCK (TIMEOUT,
   *  the default) and one by CLIENT UNBLOCK ERROR; after each, what the waiter got and INFO's
   *  cmdstat_blpop (times masked). */
  async function unblockedCallStats(port: number): Promise<string[]> {
    const ctl = await RawClient.connect(port), w1 = await RawClient.connect(port), w2 = await RawClient.connect(port);
    try {
      const stat = async () => (/cmdstat_blpop:(.*)\r\n/.exec(String(await ctl.cmd("INFO", "commandstats")))?.[1] ?? "none").replace(/usec=\d+,usec_per_call=[\d.]+/, "usec=<t>");
      const [id1, id2] = [await w1.cmd("CLIENT", "ID"), await w2.cmd("CLIENT", "ID")];
      await ctl.raw("CONFIG", "RESETSTAT");
      w1.send("BLPOP", "unblock:q1", 0);
      w2.send("BLPOP", "unblock:q2", 0);
      await waitFor("both BLPOPs to block", async () => (await infoFields(ctl, "clients")).get("blocked_clients") === "2");
      const seen = [await stat()];
      seen.push(await ctl.raw("CLIENT", "UNBLOCK", id1 as number), await w1.readRaw(), await stat());
      seen.push(await ctl.raw("CLIENT", "UNBLOCK", id2 as number, "ERROR"), await w2.readRaw(), await stat());
      return seen;
    } finally {
      for (const c of [ctl, w1, w2]) c.close();
    }
  }
  const UNBLOCKED_STATS = [
    "calls=2,usec=<t>,rejected_calls=0,failed_calls=0",
    ":1\r\n", "*-1\r\n", "calls=2,usec=<t>,rejected_calls=0,failed_calls=1",
    ":1\r\n", "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n", "calls=2,usec=<t>,rejected_calls=0,failed_calls=2",
  ];

  test("commandstats counts a BLPOP ended by CLIENT UNBLOCK as a failed call, with TIMEOUT and with ERROR", async () => {
    // A server of its own: no BLPOP left blocked by another test can end (and count) meanwhile.
    const srv = await spawnServer(["--save", ""]);
    try {
      expect(await unblockedCallStats(srv.port)).toEqual(UNBLOCKED_STATS);
    } finally {
      await srv.stop();
    }
  }, 30000);

  test.skipIf(noRedis)("redis-server 7.0.15 counts both as failed calls too", async () => {
    expect(await unblockedCallStats((await redisServer()).port)).toEqual(UNBLOCKED_STATS);
  }, 30000);

  /** rdb_changes_since_last_save after SET, SET, FLUSHALL with a save point, then after SET,
   *  FLUSHALL without one. */
  async function changesAfterFlushall(c: RawClient): Promise<string[]> {
    const changes = async () => (await infoFields(c, "persistence")).get("rdb_changes_since_last_save")!;
    const seen: string[] = [];
    try {
      seen.push(await c.raw("CONFIG", "SET", "save", "3600 1"), await c.raw("SET", "a", "1"), await c.raw("SET", "b", "2"), await changes());
      seen.push(await c.raw("FLUSHALL"), await changes());
      seen.push(await c.raw("CONFIG", "SET", "save", ""), await c.raw("SET", "a", "1"), await changes(), await c.raw("FLUSHALL"), await changes());
    } finally {
      await c.raw("CONFIG", "SET", "save", "");
    }
    return seen;
  }
  const CHANGES_AFTER_FLUSHALL = [OK, OK, OK, "2", OK, "0", OK, OK, "1", OK, "2"];

  test("rdb_changes_since_last_save is 0 after FLUSHALL with save points (it saves the empty dataset), and counts on without", async () => {
    const dir = tempDir("flushall-changes");
    const srv = await spawnServer(["--save", "", "--dir", dir]);
    const c = await RawClient.connect(srv.port);
    try {
      expect(await changesAfterFlushall(c)).toEqual(CHANGES_AFTER_FLUSHALL);
    } finally {
      c.close();
      await srv.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30000);

  test.skipIf(noRedis)("redis-server counts the same changes around FLUSHALL", async () => {
    const r = await connectRedis();
    try {
      expect(await changesAfterFlushall(r)).toEqual(CHANGES_AFTER_FLUSHALL);
    } finally { r.close(); }
  }, 30000);
});

describe("CONFIG GET", () => {
  test("answers the parameter and its value", async () => {
    const c = await connect();
    expect(await c.raw("CONFIG", "GET", "maxmemory")).toBe(bulks("maxmemory", "0"));
    expect(await c.raw("CONFIG", "GET", "appendonly")).toBe(bulks("appendonly", "no"));
  });

  test("echoes the name as the caller spelled it", async () => {
    const c = await connect();
    expect(await c.raw("CONFIG", "GET", "MAXMEMORY")).toBe(bulks("MAXMEMORY", "0"));
  });

  test("a glob returns every matching parameter", async () => {
    const c = await connect();
    expect(await configPairs(c, "maxmemory*")).toEqual([
      ["maxmemory", "0"], ["maxmemory-clients", "0"], ["maxmemory-eviction-tenacity", "10"], ["maxmemory-policy", "noeviction"], ["maxmemory-samples", "5"],
    ]);
  });

  test("aliases answer under their own names", async () => {
    const c = await connect();
    expect(await c.raw("CONFIG", "GET", "slave-read-only")).toBe(bulks("slave-read-only", "yes"));
    expect(await c.raw("CONFIG", "GET", "hash-max-ziplist-entries")).toBe(bulks("hash-max-ziplist-entries", "512"));
    expect(await c.raw("CONFIG", "GET", "lua-time-limit")).toBe(bulks("lua-time-limit", "5000"));
  });

  test("a glob matches aliases as well as current names", async () => {
    const c = await connect();
    expect(await configPairs(c, "*max-*-entries*")).toEqual([
      ["hash-max-listpack-entries", "512"], ["hash-max-ziplist-entries", "512"], ["set-max-intset-entries", "512"],
      ["zset-max-listpack-entries", "128"], ["zset-max-ziplist-entries", "128"],
    ]);
  });

  test("several patterns are answered together, each parameter once", async () => {
    const c = await connect();
    expect(await configPairs(c, "hz", "save", "appendonly")).toEqual([["appendonly", "no"], ["hz", "10"], ["save", ""]]);
    expect(await c.raw("CONFIG", "GET", "hz", "hz")).toBe(bulks("hz", "10"));
    expect(await c.raw("CONFIG", "GET", "hz", "HZ")).toBe(bulks("hz", "10"));
  });

  test("an unknown parameter answers an empty list", async () => {
    const c = await connect();
    expect(await c.raw("CONFIG", "GET", "nosuch")).toBe("*0\r\n");
  });

  test("in RESP3 the reply is a map", async () => {
    const c = await connect();
    await c.raw("HELLO", "3");
    expect(await c.raw("CONFIG", "GET", "hz")).toBe("%1\r\n$2\r\nhz\r\n$2\r\n10\r\n");
  });

  test("without a pattern it is an arity error", async () => {
    const c = await connect();
    expect(await c.raw("CONFIG", "GET")).toBe("-ERR wrong number of arguments for 'config|get' command\r\n");
  });
});

describe("CONFIG SET", () => {
  const failed = (param: string, why: string) => `-ERR CONFIG SET failed (possibly related to argument '${param}') - ${why}\r\n`;
  afterAll(async () => {
    const c = await connect();
    await c.raw("CONFIG", "SET", "hz", "10", "maxmemory", "0", "maxmemory-policy", "noeviction", "replica-read-only", "yes", "activerehashing", "yes");
    c.close();
  });

  test("sets a value that CONFIG GET then reads back", async () => {
    const c = await connect();
    expect(await c.raw("CONFIG", "SET", "hz", "20")).toBe(OK);
    expect(await c.raw("CONFIG", "GET", "hz")).toBe(bulks("hz", "20"));
    expect(await c.raw("CONFIG", "SET", "HZ", "10")).toBe(OK);
    expect(await c.raw("CONFIG", "GET", "hz")).toBe(bulks("hz", "10"));
  });

  test("memory values take units and are shown in bytes", async () => {
    const c = await connect();
    expect(await c.raw("CONFIG", "SET", "maxmemory", "10mb")).toBe(OK);
    expect(await c.raw("CONFIG", "GET", "maxmemory")).toBe(bulks("maxmemory", "10485760"));
    expect(await c.raw("CONFIG", "SET", "maxmemory", "1GB")).toBe(OK);
    expect(await c.raw("CONFIG", "GET", "maxmemory")).toBe(bulks("maxmemory", "1073741824"));
    expect(await c.raw("CONFIG", "SET", "maxmemory", "0")).toBe(OK);
  });

  test("enums are case-insensitive and shown in lower case", async () => {
    const c = await connect();
    expect(await c.raw("CONFIG", "SET", "maxmemory-policy", "ALLKEYS-LRU")).toBe(OK);
    expect(await c.raw("CONFIG", "GET", "maxmemory-policy")).toBe(bulks("maxmemory-policy", "allkeys-lru"));
    expect(await c.raw("CONFIG", "SET", "maxmemory-policy", "noeviction")).toBe(OK);
  });

  test("an alias sets the parameter it stands for", async () => {
    const c = await connect();
    expect(await c.raw("CONFIG", "SET", "slave-read-only", "no")).toBe(OK);
    expect(await c.raw("CONFIG", "GET", "replica-read-only")).toBe(bulks("replica-read-only", "no"));
    expect(await c.raw("CONFIG", "SET", "replica-read-only", "yes")).toBe(OK);
  });

  test("save accepts an empty string and a list of save points", async () => {
    const c = await connect();
    expect(await c.raw("CONFIG", "SET", "save", "100 10 60 1000")).toBe(OK);
    expect(await c.raw("CONFIG", "GET", "save")).toBe(bulks("save", "100 10 60 1000"));
    expect(await c.raw("CONFIG", "SET", "save", "")).toBe(OK);
    expect(await c.raw("CONFIG", "GET", "save")).toBe(bulks("save", ""));
    expect(await c.raw("CONFIG", "SET", "save", "x")).toBe(failed("save", "Invalid save parameters"));
  });

  test("a bad boolean is refused with Redis's message", async () => {
    const c = await connect();
    expect(await c.raw("CONFIG", "SET", "activerehashing", "maybe")).toBe(failed("activerehashing", "argument must be 'yes' or 'no'"));
  });

  test("a bad integer is refused with Redis's message", async () => {
    const c = await connect();
    expect(await c.raw("CONFIG", "SET", "hz", "abc")).toBe(failed("hz", "argument couldn't be parsed into an integer"));
    expect(await c.raw("CONFIG", "SET", "hz", "1.5")).toBe(failed("hz", "argument couldn't be parsed into an integer"));
    expect(await c.raw("CONFIG", "SET", "hz", "99999999999999999999")).toBe(failed("hz", "argument couldn't be parsed into an integer"));
  });

  test("an integer out of range is refused with the range", async () => {
    const c = await connect();
    expect(await c.raw("CONFIG", "SET", "hz", "-1")).toBe(failed("hz", "argument must be between 0 and 2147483647 inclusive"));
  });

  test("a bad enum value is refused with the list of allowed values", async () => {
    const c = await connect();
    expect(await c.raw("CONFIG", "SET", "maxmemory-policy", "foo")).toBe(failed("maxmemory-policy",
      "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"));
    expect(await c.raw("CONFIG", "SET", "loglevel", "loud")).toBe(failed("loglevel", "argument(s) must be one of the following: debug, verbose, notice, warning"));
  });

  test("a bad memory value is refused", async () => {
    const c = await connect();
    expect(await c.raw("CONFIG", "SET", "maxmemory", "10xb")).toBe(failed("maxmemory", "argument must be a memory value"));
    expect(await c.raw("CONFIG", "SET", "maxmemory", "-1")).toBe(failed("maxmemory", "argument must be a memory value"));
    expect(await c.raw("CONFIG", "SET", "maxmemory", "1.5")).toBe(failed("maxmemory", "argument must be a memory value"));
  });

  test("an immutable parameter cannot be set at run time", async () => {
    const c = await connect();
    expect(await c.raw("CONFIG", "SET", "daemonize", "yes")).toBe(failed("daemonize", "can't set immutable config"));
    expect(await c.raw("CONFIG", "SET", "databases", "4")).toBe(failed("databases", "can't set immutable config"));
  });

  test("an unknown parameter is refused", async () => {
    const c = await connect();
    expect(await c.raw("CONFIG", "SET", "nosuch", "1")).toBe("-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n");
  });

  test("the same parameter twice is a duplicate, whatever its case", async () => {
    const c = await connect();
    expect(await c.raw("CONFIG", "SET", "hz", "10", "hz", "11")).toBe(failed("hz", "duplicate parameter"));
    expect(await c.raw("CONFIG", "SET", "HZ", "10", "hz", "11")).toBe(failed("hz", "duplicate parameter"));
  });

  test("a parameter and its alias in one call are not duplicates: the last one wins", async () => {
    const c = await connect();
    expect(await c.raw("CONFIG", "SET", "replica-read-only", "yes", "slave-read-only", "no")).toBe(OK);
    expect(await c.raw("CONFIG", "GET", "replica-read-only")).toBe(bulks("replica-read-only", "no"));
    expect(await c.raw("CONFIG", "SET", "replica-read-only", "yes")).toBe(OK);
  });

  test("is all or nothing: one bad pair leaves every parameter unchanged", async () => {
    const c = await connect();
    expect(await c.raw("CONFIG", "SET", "hz", "20", "maxmemory", "1mb", "maxmemory-policy", "foo")).toMatch(/^-ERR CONFIG SET failed \(possibly related to argument 'maxmemory-policy'\)/);
    expect(await c.raw("CONFIG", "GET", "hz")).toBe(bulks("hz", "10"));
    expect(await c.raw("CONFIG", "GET", "maxmemory")).toBe(bulks("maxmemory", "0"));
    expect(await c.raw("CONFIG", "SET", "hz", "20", "daemonize", "yes")).toBe(failed("daemonize", "can't set immutable config"));
    expect(await c.raw("CONFIG", "GET", "hz")).toBe(bulks("hz", "10"));
  });

  test("sets several parameters in one call", async () => {
    const c = await connect();
    expect(await c.raw("CONFIG", "SET", "hz", "15", "maxmemory", "2mb")).toBe(OK);
    expect(await configPairs(c, "hz", "maxmemory")).toEqual([["hz", "15"], ["maxmemory", "2097152"]]);
    expect(await c.raw("CONFIG", "SET", "hz", "10", "maxmemory", "0")).toBe(OK);
  });

  test("dir and dbfilename are protected configs: refused while enable-protected-configs is no", async () => {
    const c = await connect();
    expect(await c.raw("CONFIG", "SET", "dir", "/tmp")).toBe(failed("dir", "can't set protected config"));
    expect(await c.raw("CONFIG", "SET", "dbfilename", "authorized_keys")).toBe(failed("dbfilename", "can't set protected config"));
    expect(await c.raw("CONFIG", "SET", "hz", "20", "dbfilename", "x.rdb")).toBe(failed("dbfilename", "can't set protected config"));
    expect(await c.raw("CONFIG", "GET", "hz")).toBe(bulks("hz", "10"));
  });

  test("every name is checked before any value: an immutable name wins over an earlier bad value", async () => {
    const c = await connect();
    expect(await c.raw("CONFIG", "SET", "hz", "abc", "daemonize", "yes")).toBe(failed("daemonize", "can't set immutable config"));
    expect(await c.raw("CONFIG", "SET", "replicaof", "127.0.0.1 1")).toBe(failed("replicaof", "can't set immutable config"));
  });

  test("with enable-protected-configs yes, dir changes and dbfilename must be a plain file name", async () => {
    const srv = await spawnServer(["--save", "", "--enable-protected-configs", "yes"]);
    const dir = mkdtempSync(join(tmpdir(), "redbun-protected-"));
    try {
      const c = await RawClient.connect(srv.port);
      const before = (await c.cmd("CONFIG", "GET", "dir")) as string[];
      expect(await c.raw("CONFIG", "SET", "dbfilename", "../elsewhere.rdb")).toBe(failed("dbfilename", "dbfilename can't be a path, just a filename"));
      expect(await c.raw("CONFIG", "SET", "dbfilename", "sub\\x.rdb")).toBe(failed("dbfilename", "dbfilename can't be a path, just a filename"));
      // A later bad value undoes the directory change that parsing `dir` made.
      expect(await c.raw("CONFIG", "SET", "dir", dir, "hz", "abc")).toBe(failed("hz", "argument couldn't be parsed into an integer"));
      expect(await c.cmd("CONFIG", "GET", "dir")).toEqual(before);
      // So does a failure while applying (a port someone else holds).
      const busy = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
      expect(await c.raw("CONFIG", "SET", "dir", dir, "port", String(busy.port))).toBe(failed("port", "Unable to listen on this port. Check server logs."));
      busy.stop(true);
      expect(await c.cmd("CONFIG", "GET", "dir")).toEqual(before);
      expect(await c.raw("CONFIG", "SET", "dir", dir, "dbfilename", "mine.rdb")).toBe(OK);
      expect(await c.raw("SET", "k", "v")).toBe(OK);
      expect(await c.raw("SAVE")).toBe(OK);
      expect(readFileSync(join(dir, "mine.rdb")).latin1Slice(0, 5)).toBe("REDIS");
      c.close();
    } finally {
      await srv.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("enable-protected-configs local admits 127.0.0.1 exactly, not the rest of 127/8", async () => {
    const srv = await spawnServer(["--save", "", "--protected-mode", "no", "--enable-protected-configs", "local"]);
    try {
      expect(await commandFrom("127.0.0.1", srv.port, ["CONFIG", "SET", "dbfilename", "a.rdb"])).toBe(OK);
      expect(await commandFrom("127.0.0.2", srv.port, ["CONFIG", "SET", "dbfilename", "b.rdb"])).toBe(failed("dbfilename", "can't set protected config"));
      expect(await commandFrom("127.0.0.1", srv.port, ["CONFIG", "GET", "dbfilename"])).toBe(bulks("dbfilename", "a.rdb"));
    } finally {
      await srv.stop();
    }
  });

  test("a name without a value is an arity error, an odd count past that a syntax error", async () => {
    const c = await connect();
    expect(await c.raw("CONFIG", "SET", "hz")).toBe("-ERR wrong number of arguments for 'config|set' command\r\n");
    expect(await c.raw("CONFIG", "SET", "hz", "10", "maxmemory")).toBe("-ERR syntax error\r\n");
  });
});

describe("CONFIG RESETSTAT", () => {
  test("zeroes commandstats, errorstats and the error counter", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v");
    await c.raw("NOSUCH");
    expect(await c.raw("CONFIG", "RESETSTAT")).toBe(OK);
    // RESETSTAT itself is counted after it ran, as in Redis.
    expect(String(await c.cmd("INFO", "commandstats"))).toMatch(/^# Commandstats\r\ncmdstat_config\|resetstat:calls=1,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0\r\n$/);
    expect(await c.raw("INFO", "errorstats")).toBe(bulk("# Errorstats\r\n"));
    expect((await infoFields(c, "stats")).get("total_error_replies")).toBe("0");
  });

  test("takes no arguments", async () => {
    const c = await connect();
    expect(await c.raw("CONFIG", "RESETSTAT", "x")).toBe("-ERR wrong number of arguments for 'config|resetstat' command\r\n");
  });
});

describe("CONFIG REWRITE", () => {
  let dir: string;
  let srv: SpawnedServer | null = null;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), "redbun-rewrite-")); });
  afterAll(async () => {
    if (srv) await srv.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("without a config file it is an error", async () => {
    const c = await connect();
    expect(await c.raw("CONFIG", "REWRITE")).toBe("-ERR The server is running without a config file\r\n");
  });

  test("writes changed parameters in place and appends new ones, keeping comments", async () => {
    const file = join(dir, "redis.conf");
    writeFileSync(file, '# my config\nhz 15\nsave ""\n');
    srv = await spawnServer([file]);
    const c = await RawClient.connect(srv.port);
    expect(await c.raw("CONFIG", "SET", "hz", "25")).toBe(OK);
    expect(await c.raw("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")).toBe(OK);
    expect(await c.raw("CONFIG", "REWRITE")).toBe(OK);
    c.close();
    const lines = readFileSync(file, "latin1").split("\n");
    expect(lines.slice(0, 3)).toEqual(["# my config", "hz 25", 'save ""']);
    const generated = lines.indexOf("# Generated by CONFIG REWRITE");
    expect(generated).toBeGreaterThan(2);
    expect(lines.slice(generated)).toContain("maxmemory-policy allkeys-lru");
    expect(lines.slice(generated)).toContain(`port ${srv.port}`);
    expect(lines.filter((l) => l.startsWith("hz "))).toEqual(["hz 25"]);
  });

  test("writes memory values with Redis's units", async () => {
    const c = await RawClient.connect(srv!.port);
    expect(await c.raw("CONFIG", "SET", "maxmemory", "2mb")).toBe(OK);
    expect(await c.raw("CONFIG", "REWRITE")).toBe(OK);
    c.close();
    expect(readFileSync(join(dir, "redis.conf"), "latin1").split("\n")).toContain("maxmemory 2mb");
  });

  test("writes every ACL user as a `user` line, as redis-server does without an aclfile", async () => {
    const c = await RawClient.connect(srv!.port);
    expect(await c.raw("ACL", "SETUSER", "bob", "on", ">x", "~k*", "+get")).toBe(OK);
    expect(await c.raw("CONFIG", "REWRITE")).toBe(OK);
    c.close();
    const lines = readFileSync(join(dir, "redis.conf"), "latin1").split("\n");
    expect(lines.filter((l) => l.startsWith("user "))).toEqual([
      "user bob on #2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881 ~k* resetchannels -@all +get",
      "user default on nopass ~* &* +@all",
    ]);
  });

  test("writes strings quoted as Redis does, so a value with newlines stays one value", async () => {
    const c = await RawClient.connect(srv!.port);
    const sneaky = "x\nenable-debug-command yes\nprotected-mode \"no\"";
    expect(await c.raw("CONFIG", "SET", "masterauth", sneaky)).toBe(OK);
    expect(await c.raw("CONFIG", "REWRITE")).toBe(OK);
    const lines = readFileSync(join(dir, "redis.conf"), "latin1").split("\n");
    expect(lines).toContain('masterauth "x\\nenable-debug-command yes\\nprotected-mode \\"no\\""');
    expect(lines.filter((l) => l.startsWith("enable-debug-command"))).toEqual([]);
    // Redis always writes dir, quoted.
    expect(lines.filter((l) => l.startsWith("dir "))).toEqual([`dir "${String(((await c.cmd("CONFIG", "GET", "dir")) as string[])[1])}"`]);
    c.close();
  });

  test("a server started from the rewritten file has the rewritten settings and users", async () => {
    await srv!.stop();
    srv = await spawnServer([join(dir, "redis.conf")]);
    const c = await RawClient.connect(srv.port);
    expect(await configPairs(c, "hz", "maxmemory-policy")).toEqual([["hz", "25"], ["maxmemory-policy", "allkeys-lru"]]);
    expect(await configPairs(c, "masterauth", "enable-debug-command")).toEqual([["enable-debug-command", "no"], ["masterauth", "x\nenable-debug-command yes\nprotected-mode \"no\""]]);
    expect(await c.raw("AUTH", "bob", "x")).toBe(OK);
    expect(await c.raw("GET", "other")).toBe("-NOPERM this user has no permissions to access one of the keys used as arguments\r\n");
    c.close();
  });

  /** Starts a server (Redbun or redis-server) from `rel.conf`, named by a path relative to its
   *  working directory, with --dir elsewhere; sets hz, moves dir once more (CONFIG SET dir, allowed
   *  by enable-protected-configs yes), and reads the files as soon as CONFIG REWRITE answers. */
  async function rewriteRelative(kind: "redbun" | "redis"): Promise<Record<string, unknown>> {
    const home = tempDir(`rewrite-relative-${kind}`), data = join(home, "data"), moved = join(home, "moved");
    mkdirSync(data);
    mkdirSync(moved);
    writeFileSync(join(home, "rel.conf"), '# relative\nhz 15\nsave ""\n');
    const port = await freePort();
    const argv = [...(kind === "redbun" ? ["bun", "run", MAIN] : [REDIS_SERVER!]), "rel.conf", "--port", String(port), "--dir", data, "--enable-protected-configs", "yes"];
    const srv = launchServer(argv, home);
    try {
      await srv.waitForOutput("Ready to accept connections");
      const c = await RawClient.connect(port);
      const seen: Record<string, unknown> = { configFile: (await infoFields(c, "server")).get("config_file") === join(home, "rel.conf") };
      seen.replies = [await c.raw("CONFIG", "SET", "hz", "33"), await c.raw("CONFIG", "REWRITE")];
      const first = readFileSync(join(home, "rel.conf"), "latin1").split("\n");
      seen.afterDir = [first[0], first[1], first.includes(`dir "${data}"`), first.at(-1)];
      seen.replies2 = [await c.raw("CONFIG", "SET", "dir", moved), await c.raw("CONFIG", "SET", "hz", "34"), await c.raw("CONFIG", "REWRITE")];
      const second = readFileSync(join(home, "rel.conf"), "latin1").split("\n");
      seen.afterMove = [second[0], second[1], second.includes(`dir "${moved}"`), second.includes(`port ${port}`), second.at(-1)];
      seen.strays = [existsSync(join(data, "rel.conf")), existsSync(join(moved, "rel.conf"))];
      c.close();
      return seen;
    } finally {
      await srv.stop();
      rmSync(home, { recursive: true, force: true });
    }
  }
  const REWRITTEN_IN_PLACE = {
    configFile: true,
    replies: [OK, OK], afterDir: ["# relative", "hz 33", true, ""],
    replies2: [OK, OK, OK], afterMove: ["# relative", "hz 34", true, true, ""],
    strays: [false, false],
  };

  test("a config file named by a relative path is rewritten where it is after dir moved the working directory, and is whole when +OK arrives", async () => {
    expect(await rewriteRelative("redbun")).toEqual(REWRITTEN_IN_PLACE);
  }, 30000);

  test.skipIf(noRedis)("redis-server rewrites the same file the same way", async () => {
    expect(await rewriteRelative("redis")).toEqual(REWRITTEN_IN_PLACE);
  }, 30000);
});

describe("CLIENT ID", () => {
  test("answers an integer that grows with each new connection", async () => {
    const a = await connect();
    const b = await connect();
    const idA = await a.raw("CLIENT", "ID");
    const idB = await b.raw("CLIENT", "ID");
    expect(idA).toMatch(/^:\d+\r\n$/);
    expect(Number(idB.slice(1))).toBeGreaterThan(Number(idA.slice(1)));
    expect(await a.raw("CLIENT", "ID")).toBe(idA);
  });

  test("takes no arguments", async () => {
    const c = await connect();
    expect(await c.raw("CLIENT", "ID", "x")).toBe("-ERR wrong number of arguments for 'client|id' command\r\n");
  });
});

describe("CLIENT SETNAME", () => {
  test("names the connection", async () => {
    const c = await connect();
    expect(await c.raw("CLIENT", "SETNAME", "conn-1")).toBe(OK);
    expect(await c.raw("CLIENT", "GETNAME")).toBe(bulk("conn-1"));
  });

  test("an empty name removes the name", async () => {
    const c = await connect();
    await c.raw("CLIENT", "SETNAME", "x");
    expect(await c.raw("CLIENT", "SETNAME", "")).toBe(OK);
    expect(await c.raw("CLIENT", "GETNAME")).toBe(NIL);
  });

  test("a name with spaces or newlines is refused", async () => {
    const c = await connect();
    const err = "-ERR Client names cannot contain spaces, newlines or special characters.\r\n";
    expect(await c.raw("CLIENT", "SETNAME", "a b")).toBe(err);
    expect(await c.raw("CLIENT", "SETNAME", "a\nb")).toBe(err);
    expect(await c.raw("CLIENT", "GETNAME")).toBe(NIL);
  });

  test("without a name it is an arity error", async () => {
    const c = await connect();
    expect(await c.raw("CLIENT", "SETNAME")).toBe("-ERR wrong number of arguments for 'client|setname' command\r\n");
  });
});

describe("CLIENT GETNAME", () => {
  test("answers nil for an unnamed connection, RESP3's null in RESP3", async () => {
    const c = await connect();
    expect(await c.raw("CLIENT", "GETNAME")).toBe(NIL);
    await c.raw("HELLO", "3");
    expect(await c.raw("CLIENT", "GETNAME")).toBe("_\r\n");
  });
});

describe("CLIENT LIST", () => {
  const FIELD_NAMES = ["id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub", "psub", "ssub", "multi", "qbuf", "qbuf-free",
    "argv-mem", "multi-mem", "rbs", "rbp", "obl", "oll", "omem", "tot-mem", "events", "cmd", "user", "redir", "resp"];

  test("has one line per connection with Redis's fields, in order", async () => {
    const a = await connect();
    const b = await connect();
    await b.raw("CLIENT", "SETNAME", "second");
    const text = String(await a.cmd("CLIENT", "LIST"));
    expect(text.endsWith("\n")).toBe(true);
    const lines = text.slice(0, -1).split("\n");
    const idB = (await b.cmd("CLIENT", "ID")) as number;
    const lineB = lines.find((l) => l.startsWith(`id=${idB} `))!;
    expect(lineB).toBeDefined();
    expect(lineB.split(" ").map((kv) => kv.slice(0, kv.indexOf("=")))).toEqual(FIELD_NAMES);
    expect(lineB).toContain(` addr=${await clientAddr(b)} `);
    expect(lineB).toContain(" name=second ");
    expect(lineB).toContain(" cmd=client|setname ");
    expect(lineB).toContain(" user=default ");
    expect(lineB).toMatch(/ flags=N db=0 /);
  });

  test("ID filters by client id", async () => {
    const a = await connect();
    const id = (await a.cmd("CLIENT", "ID")) as number;
    const text = String(await a.cmd("CLIENT", "LIST", "ID", String(id), "999999"));
    expect(text).toMatch(new RegExp(`^id=${id} [^\\n]* cmd=client\\|list [^\\n]*\\n$`));
    expect(await a.raw("CLIENT", "LIST", "ID", "999999")).toBe("$0\r\n\r\n");
  });

  test("TYPE normal lists ordinary clients", async () => {
    const a = await connect();
    const id = (await a.cmd("CLIENT", "ID")) as number;
    expect(String(await a.cmd("CLIENT", "LIST", "TYPE", "normal"))).toContain(`id=${id} `);
    expect(await a.raw("CLIENT", "LIST", "TYPE", "master")).toBe("$0\r\n\r\n");
  });

  test("bad arguments are refused with Redis's errors", async () => {
    const c = await connect();
    expect(await c.raw("CLIENT", "LIST", "TYPE", "foo")).toBe("-ERR Unknown client type 'foo'\r\n");
    expect(await c.raw("CLIENT", "LIST", "ID", "x")).toBe("-ERR Invalid client ID\r\n");
    expect(await c.raw("CLIENT", "LIST", "foo")).toBe("-ERR syntax error\r\n");
  });

  /** CLIENT LIST's addr, laddr and flags for a client of the unix socket at `path` (and the flags
   *  of a TCP client beside it), on the server at `port`. */
  async function unixClientFields(port: number, path: string): Promise<Record<string, string>> {
    const tcp = await RawClient.connect(port), u = await RawClient.connectUnix(path);
    try {
      expect(await u.raw("CLIENT", "SETNAME", "via-unix")).toBe(OK);
      const lines = String(await tcp.cmd("CLIENT", "LIST")).split("\n");
      const field = (line: string, name: string) => new RegExp(` ${name}=(\\S*)`).exec(line)?.[1] ?? "missing";
      const mine = lines.find((l) => l.includes(" name=via-unix "))!, other = lines.find((l) => l.includes(" cmd=client|list "))!;
      return { addr: field(mine, "addr"), laddr: field(mine, "laddr"), flags: field(mine, "flags"), tcpFlags: field(other, "flags"), info: field(String(await u.cmd("CLIENT", "INFO")), "addr") };
    } finally {
      tcp.close();
      u.close();
    }
  }
  const unixFields = (path: string) => ({ addr: `${path}:0`, laddr: `${path}:0`, flags: "U", tcpFlags: "N", info: `${path}:0` });

  test("a client of the unix socket shows addr=<path>:0 laddr=<path>:0 and flag U", async () => {
    const dir = tempDir("client-list-unix");
    const path = join(dir, "redbun.sock");
    const srv = await spawnServer(["--save", "", "--unixsocket", path]);
    try {
      expect(await unixClientFields(srv.port, path)).toEqual(unixFields(path));
    } finally {
      await srv.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30000);

  test.skipIf(noRedis)("redis-server shows a unix socket client the same way", async () => {
    const dir = tempDir("client-list-unix-ref");
    const path = join(dir, "redis.sock");
    const r = await startRedis(dir, { unixsocket: path });
    try {
      expect(await unixClientFields(r.port, path)).toEqual(unixFields(path));
    } finally {
      await r.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30000);

  /** cmd= in CLIENT LIST for a client after each of these commands of its own. */
  async function lastCommands(list: RawClient, c: RawClient): Promise<string[]> {
    const id = await c.cmd("CLIENT", "ID");
    const seen: string[] = [];
    for (const args of [["NOSUCHCMD", "x"], ["CLIENT", "NOSUCH"], ["GET"], ["PING"], ["nosuchcmd"], ["CONFIG", "GET", "hz"], ["CONFIG", "NOSUCH"]]) {
      const reply = await c.raw(...args);
      seen.push(`${args.join(" ")} -> ${reply.slice(0, 1)} ${/ cmd=(\S+) /.exec(String(await list.cmd("CLIENT", "LIST", "ID", id as number)))?.[1]}`);
    }
    return seen;
  }
  const LAST_COMMANDS = ["NOSUCHCMD x -> - NULL", "CLIENT NOSUCH -> - NULL", "GET -> - get", "PING -> + ping", "nosuchcmd -> - NULL", "CONFIG GET hz -> * config|get", "CONFIG NOSUCH -> - NULL"];

  test("a client whose last command was unknown (or an unknown subcommand) shows cmd=NULL", async () => {
    const a = await connect(), b = await connect();
    expect(await lastCommands(a, b)).toEqual(LAST_COMMANDS);
  });

  test.skipIf(noRedis)("redis-server shows cmd=NULL after the same commands", async () => {
    const a = await connectRedis(), b = await connectRedis();
    try {
      expect(await lastCommands(a, b)).toEqual(LAST_COMMANDS);
    } finally { a.close(); b.close(); }
  });
});

describe("CLIENT INFO", () => {
  test("describes this connection in one CLIENT LIST line", async () => {
    const c = await connect();
    const id = (await c.cmd("CLIENT", "ID")) as number;
    await c.raw("SELECT", "4");
    const text = String(await c.cmd("CLIENT", "INFO"));
    expect(text).toMatch(new RegExp(`^id=${id} addr=127\\.0\\.0\\.1:\\d+ laddr=127\\.0\\.0\\.1:\\d+ fd=\\d+ name= age=\\d+ idle=\\d+ flags=N db=4 sub=0 psub=0 ssub=0 multi=-1 .* cmd=client\\|info user=default redir=-1 resp=2\\n$`));
  });

  test("is a verbatim string in RESP3 and reports resp=3", async () => {
    const c = await connect();
    await c.raw("HELLO", "3");
    const reply = await c.raw("CLIENT", "INFO");
    const m = /^=(\d+)\r\ntxt:(.*)\r\n$/s.exec(reply)!;
    expect(m).not.toBeNull();
    expect(Number(m[1])).toBe(m[2].length + 4);
    expect(m[2]).toMatch(/ resp=3\n$/);
  });
});

describe("CLIENT KILL", () => {
  test("ID closes that connection and answers the number killed", async () => {
    const c = await connect();
    const victim = await connect();
    const id = (await victim.cmd("CLIENT", "ID")) as number;
    expect(await c.raw("CLIENT", "KILL", "ID", String(id))).toBe(":1\r\n");
    expect(await victim.waitClosed()).toBe("");
    expect(await c.raw("CLIENT", "KILL", "ID", String(id))).toBe(":0\r\n");
  });

  test("ADDR closes the connection from that address", async () => {
    const c = await connect();
    const victim = await connect();
    expect(await c.raw("CLIENT", "KILL", "ADDR", await clientAddr(victim))).toBe(":1\r\n");
    expect(await victim.waitClosed()).toBe("");
    expect(await c.raw("CLIENT", "KILL", "ADDR", "1.2.3.4:5")).toBe(":0\r\n");
  });

  test("the old form with only an address answers +OK or no such client", async () => {
    const c = await connect();
    const victim = await connect();
    expect(await c.raw("CLIENT", "KILL", await clientAddr(victim))).toBe(OK);
    expect(await victim.waitClosed()).toBe("");
    expect(await c.raw("CLIENT", "KILL", "1.2.3.4:5")).toBe("-ERR No such client\r\n");
  });

  test("SKIPME yes (the default) spares the caller, SKIPME no does not", async () => {
    const c = await connect();
    const id = (await c.cmd("CLIENT", "ID")) as number;
    expect(await c.raw("CLIENT", "KILL", "ID", String(id))).toBe(":0\r\n");
    expect(await c.raw("CLIENT", "KILL", "ID", String(id), "SKIPME", "yes")).toBe(":0\r\n");
    c.send("CLIENT", "KILL", "ID", String(id), "SKIPME", "no");
    c.send("PING");
    expect(await c.waitClosed()).toBe(":1\r\n"); // the reply is written before the connection closes
  });

  test("bad filters are refused with Redis's errors", async () => {
    const c = await connect();
    expect(await c.raw("CLIENT", "KILL", "ID", "x")).toBe("-ERR client-id should be greater than 0\r\n");
    expect(await c.raw("CLIENT", "KILL", "ID", "0")).toBe("-ERR client-id should be greater than 0\r\n");
    expect(await c.raw("CLIENT", "KILL", "FOO", "bar")).toBe("-ERR syntax error\r\n");
    expect(await c.raw("CLIENT", "KILL", "SKIPME", "maybe")).toBe("-ERR syntax error\r\n");
    expect(await c.raw("CLIENT", "KILL", "TYPE", "foo")).toBe("-ERR Unknown client type 'foo'\r\n");
    expect(await c.raw("CLIENT", "KILL", "ID", "1", "SKIPME")).toBe("-ERR syntax error\r\n");
  });
});

describe("CLIENT SETINFO", () => {
  // CLIENT SETINFO is Redis 7.2's (7.0.15 answers "unknown subcommand"); Redbun answers as 7.2 does.
  test("records the library name and version, shown by CLIENT INFO", async () => {
    const c = await connect();
    expect(await c.raw("CLIENT", "SETINFO", "LIB-NAME", "mylib")).toBe(OK);
    expect(await c.raw("CLIENT", "SETINFO", "lib-ver", "1.0")).toBe(OK);
    expect(String(await c.cmd("CLIENT", "INFO"))).toEndWith(" lib-name=mylib lib-ver=1.0\n");
  });

  test("refuses other attributes and values with spaces, as Redis 7.2 does", async () => {
    const c = await connect();
    expect(await c.raw("CLIENT", "SETINFO", "color", "red")).toBe("-ERR Unrecognized option 'color'\r\n");
    expect(await c.raw("CLIENT", "SETINFO", "LIB-NAME", "my lib")).toBe("-ERR lib-name cannot contain spaces, newlines or special characters.\r\n");
    expect(await c.raw("CLIENT", "SETINFO", "LIB-NAME")).toBe("-ERR wrong number of arguments for 'client|setinfo' command\r\n");
  });
});

describe("CLIENT NO-EVICT", () => {
  test("ON and OFF set and clear the e flag", async () => {
    const c = await connect();
    expect(await c.raw("CLIENT", "NO-EVICT", "on")).toBe(OK);
    expect(String(await c.cmd("CLIENT", "INFO"))).toContain(" flags=e ");
    expect(await c.raw("CLIENT", "NO-EVICT", "OFF")).toBe(OK);
    expect(String(await c.cmd("CLIENT", "INFO"))).toContain(" flags=N ");
  });

  test("anything but ON or OFF is a syntax error", async () => {
    const c = await connect();
    expect(await c.raw("CLIENT", "NO-EVICT", "maybe")).toBe("-ERR syntax error\r\n");
  });
});

describe("CLIENT NO-TOUCH", () => {
  // CLIENT NO-TOUCH is Redis 7.2's (7.0.15 answers "unknown subcommand"); Redbun answers as 7.2 does.
  test("ON and OFF set and clear the T flag", async () => {
    const c = await connect();
    expect(await c.raw("CLIENT", "NO-TOUCH", "on")).toBe(OK);
    expect(String(await c.cmd("CLIENT", "INFO"))).toContain(" flags=T ");
    expect(await c.raw("CLIENT", "NO-TOUCH", "off")).toBe(OK);
    expect(String(await c.cmd("CLIENT", "INFO"))).toContain(" flags=N ");
    expect(await c.raw("CLIENT", "NO-TOUCH", "maybe")).toBe("-ERR syntax error\r\n");
  });
});

describe("CLIENT REPLY", () => {
  test("OFF silences every reply until ON, which answers +OK", async () => {
    const c = await connect();
    c.send("CLIENT", "REPLY", "OFF");
    c.send("SET", "k", "v");
    c.send("GET", "k");
    c.send("CLIENT", "REPLY", "ON");
    expect(await c.readRaw()).toBe(OK);
    expect(await c.raw("GET", "k")).toBe(bulk("v")); // the silenced SET did run
  });

  test("SKIP drops the reply of the next command only", async () => {
    const c = await connect();
    c.send("CLIENT", "REPLY", "SKIP");
    c.send("ECHO", "dropped");
    c.send("ECHO", "kept");
    expect(await c.readRaw()).toBe(bulk("kept"));
  });

  test("SKIP twice in a row still skips only one command's reply", async () => {
    const c = await connect();
    c.send("CLIENT", "REPLY", "SKIP");
    c.send("CLIENT", "REPLY", "SKIP");
    c.send("ECHO", "dropped");
    c.send("ECHO", "kept");
    expect(await c.readRaw()).toBe(bulk("kept"));
  });

  test("an unknown mode is a syntax error", async () => {
    const c = await connect();
    expect(await c.raw("CLIENT", "REPLY", "sometimes")).toBe("-ERR syntax error\r\n");
  });
});

describe("CLIENT PAUSE", () => {
  // Not connect(): its FLUSHALL is a write, which a leftover pause would hold.
  afterEach(async () => {
    const c = await RawClient.connect((await sharedServer()).port);
    await c.raw("CLIENT", "UNPAUSE");
    c.close();
  });

  test("a timeout whose end overflows a long long is no pause at all, as Redis's wrapped sum", async () => {
    const admin = await connect();
    const writer = await connect();
    for (const mode of [[], ["WRITE"]]) {
      expect(await admin.raw("CLIENT", "PAUSE", "9223372036854775807", ...mode)).toBe(OK);
      expect(await writer.raw("SET", "k", "v")).toBe(OK);
    }
  });

  test("the mode is checked before the timeout", async () => {
    const c = await connect();
    expect(await c.raw("CLIENT", "PAUSE", "abc", "foo")).toBe("-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n");
    expect(await c.raw("CLIENT", "PAUSE", "abc", "all")).toBe("-ERR timeout is not an integer or out of range\r\n");
  });

  test("WRITE holds a SET but lets a GET through; UNPAUSE releases the SET", async () => {
    const admin = await connect();
    const writer = await connect();
    const reader = await connect();
    await admin.raw("SET", "k", "old");
    expect(await admin.raw("CLIENT", "PAUSE", "2000", "WRITE")).toBe(OK);
    writer.send("SET", "k", "new");
    reader.send("GET", "k");
    expect(await replyWithin(reader, 1000)).toBe(bulk("old"));
    expect(await replyWithin(writer, 150)).toBe("timeout");
    expect(await admin.raw("CLIENT", "UNPAUSE")).toBe(OK);
    expect(await replyWithin(writer, 1000)).toBe(OK);
    expect(await reader.raw("GET", "k")).toBe(bulk("new"));
  });

  test("commands pipelined behind a held command wait for it and keep their order", async () => {
    const admin = await connect();
    const writer = await connect();
    expect(await admin.raw("CLIENT", "PAUSE", "2000", "WRITE")).toBe(OK);
    writer.send("SET", "k", "1");
    writer.send("GET", "k");
    expect(await replyWithin(writer, 150)).toBe("timeout");
    await admin.raw("CLIENT", "UNPAUSE");
    expect(await replyWithin(writer, 1000)).toBe(OK);
    expect(await replyWithin(writer, 1000)).toBe(bulk("1"));
  });

  test("WRITE holds an EXEC whose queue writes, and lets one that only reads through", async () => {
    const admin = await connect();
    const tx = await connect();
    const reads = await connect();
    await admin.raw("SET", "k", "old");
    expect(await tx.raw("MULTI")).toBe(OK);
    expect(await tx.raw("SET", "k", "new")).toBe("+QUEUED\r\n");
    expect(await reads.raw("MULTI")).toBe(OK);
    expect(await reads.raw("GET", "k")).toBe("+QUEUED\r\n");
    expect(await admin.raw("CLIENT", "PAUSE", "5000", "WRITE")).toBe(OK);
    tx.send("EXEC");
    expect(await replyWithin(tx, 150)).toBe("timeout");
    expect(await replyWithin((reads.send("EXEC"), reads), 1000)).toBe(`*1\r\n${bulk("old")}`);
    expect(await admin.raw("CLIENT", "UNPAUSE")).toBe(OK);
    expect(await replyWithin(tx, 1000)).toBe(`*1\r\n${OK}`);
  });

  test("keys that expire during a pause look gone but stay until it ends (expired_keys unchanged)", async () => {
    const admin = await connect();
    const expired = async () => Number(/expired_keys:(\d+)/.exec(await admin.raw("INFO", "stats"))![1]);
    expect(await admin.raw("SET", "k", "v", "PX", "30")).toBe(OK);
    const before = await expired();
    expect(await admin.raw("CLIENT", "PAUSE", "5000", "WRITE")).toBe(OK);
    await Bun.sleep(80);
    expect(await admin.raw("GET", "k")).toBe(NIL);
    expect(await admin.raw("DBSIZE")).toBe(":1\r\n");
    expect(await expired()).toBe(before);
    expect(await admin.raw("CLIENT", "UNPAUSE")).toBe(OK);
    expect(await admin.raw("GET", "k")).toBe(NIL);
    expect(await expired()).toBe(before + 1);
  });

  test("a timed pause ends by itself", async () => {
    const admin = await connect();
    const writer = await connect();
    const start = Date.now();
    expect(await admin.raw("CLIENT", "PAUSE", "200", "WRITE")).toBe(OK);
    writer.send("SET", "k", "v");
    expect(await replyWithin(writer, 2000)).toBe(OK);
    const waited = Date.now() - start;
    expect(waited).toBeGreaterThanOrEqual(150);
    expect(waited).toBeLessThan(2000);
  });

  test("ALL (the default) holds reads too", async () => {
    const admin = await connect();
    const reader = await connect();
    const start = Date.now();
    expect(await admin.raw("CLIENT", "PAUSE", "200")).toBe(OK);
    reader.send("GET", "k");
    expect(await replyWithin(reader, 2000)).toBe(NIL);
    expect(Date.now() - start).toBeGreaterThanOrEqual(150);
  });

  test("bad arguments are refused with Redis's errors", async () => {
    const c = await connect();
    expect(await c.raw("CLIENT", "PAUSE", "x")).toBe("-ERR timeout is not an integer or out of range\r\n");
    expect(await c.raw("CLIENT", "PAUSE", "-1")).toBe("-ERR timeout is negative\r\n");
    expect(await c.raw("CLIENT", "PAUSE", "10", "foo")).toBe("-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n");
    expect(await c.raw("CLIENT", "PAUSE")).toBe("-ERR wrong number of arguments for 'client|pause' command\r\n");
  });
});

describe("CLIENT UNPAUSE", () => {
  test("answers +OK even when nothing is paused", async () => {
    const c = await connect();
    expect(await c.raw("CLIENT", "UNPAUSE")).toBe(OK);
  });
});

describe("CLIENT HELP", () => {
  // Redis 7.0's text, plus 7.2's SETINFO and NO-TOUCH.
  test("lists the CLIENT subcommands in Redis's words", async () => {
    const c = await connect();
    const lines = [
      "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CACHING (YES|NO)", "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
      "GETREDIR", "    Return the client ID we are redirecting to when tracking is enabled.",
      "GETNAME", "    Return the name of the current connection.",
      "ID", "    Return the ID of the current connection.",
      "INFO", "    Return information about the current client connection.",
      "KILL <ip:port>", "    Kill connection made from <ip:port>.",
      "KILL <option> <value> [<option> <value> [...]]", "    Kill connections. Options are:",
      "    * ADDR (<ip:port>|<unixsocket>:0)", "      Kill connections made from the specified address",
      "    * LADDR (<ip:port>|<unixsocket>:0)", "      Kill connections made to specified local address",
      "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)", "      Kill connections by type.",
      "    * USER <username>", "      Kill connections authenticated by <username>.",
      "    * SKIPME (YES|NO)", "      Skip killing current connection (default: yes).",
      "LIST [options ...]", "    Return information about client connections. Options:",
      "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)", "      Return clients of specified type.",
      "UNPAUSE", "    Stop the current client pause, resuming traffic.",
      "PAUSE <timeout> [WRITE|ALL]", "    Suspend all, or just write, clients for <timeout> milliseconds.",
      "REPLY (ON|OFF|SKIP)", "    Control the replies sent to the current connection.",
      "SETNAME <name>", "    Assign the name <name> to the current connection.",
      "SETINFO <option> <value>", "    Set client meta attr. Options are:",
      "    * LIB-NAME: the client lib name.", "    * LIB-VER: the client lib version.",
      "UNBLOCK <clientid> [TIMEOUT|ERROR]", "    Unblock the specified blocked client.",
      "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]", "         [OPTIN] [OPTOUT] [NOLOOP]",
      "    Control server assisted client side caching.",
      "TRACKINGINFO", "    Report tracking status for the current connection.",
      "NO-EVICT (ON|OFF)", "    Protect current client connection from eviction.",
      "NO-TOUCH (ON|OFF)", "    Will not touch LRU/LFU stats when this mode is on.",
      "HELP", "    Prints this help.",
    ];
    expect(await c.raw("CLIENT", "HELP")).toBe(`*${lines.length}\r\n${lines.map((l) => `+${l}\r\n`).join("")}`);
  });

  test("an unknown subcommand points to CLIENT HELP", async () => {
    const c = await connect();
    expect(await c.raw("CLIENT", "FOO")).toBe("-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n");
    expect(await c.raw("CLIENT")).toBe("-ERR wrong number of arguments for 'client' command\r\n");
  });
});

describe("COMMAND", () => {
  // The first seven fields of COMMAND INFO (name, arity, flags, first/last key, step, ACL categories) as Redis sends them.
  const GET_HEAD = "*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@fast\r\n";
  const GET_INFO = GET_HEAD + "*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n" +
    "$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n";
  const SET_HEAD = "*10\r\n$3\r\nset\r\n:-3\r\n*2\r\n+write\r\n+denyoom\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@write\r\n+@string\r\n+@slow\r\n";
  const MSET_HEAD = "*10\r\n$4\r\nmset\r\n:-3\r\n*2\r\n+write\r\n+denyoom\r\n:1\r\n:-1\r\n:2\r\n*3\r\n+@write\r\n+@string\r\n+@slow\r\n";

  test("COUNT answers how many commands COMMAND lists", async () => {
    const c = await connect();
    const count = (await c.cmd("COMMAND", "COUNT")) as number;
    const all = (await c.cmd("COMMAND")) as unknown[];
    expect(count).toBe(all.length);
    expect(count).toBeGreaterThan(50);
  });

  test("INFO get answers Redis's exact entry, key specs included", async () => {
    const c = await connect();
    expect(await c.raw("COMMAND", "INFO", "get")).toBe("*1\r\n" + GET_INFO);
    expect(await c.raw("COMMAND", "INFO", "GET")).toBe("*1\r\n" + GET_INFO);
  });

  test("INFO set and mset give Redis's arity, flags, key positions and categories", async () => {
    const c = await connect();
    expect((await c.raw("COMMAND", "INFO", "set")).startsWith("*1\r\n" + SET_HEAD)).toBe(true);
    expect((await c.raw("COMMAND", "INFO", "mset")).startsWith("*1\r\n" + MSET_HEAD)).toBe(true);
  });

  test("INFO of a subcommand uses the container|sub name", async () => {
    const c = await connect();
    expect(await c.raw("COMMAND", "INFO", "config|get")).toBe(
      "*1\r\n*10\r\n$10\r\nconfig|get\r\n:-3\r\n*4\r\n+admin\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n*3\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n*0\r\n*0\r\n*0\r\n");
  });

  test("INFO of an unknown command is a null bulk in its place", async () => {
    const c = await connect();
    expect(await c.raw("COMMAND", "INFO", "nosuch")).toBe("*1\r\n$-1\r\n");
    expect(await c.raw("COMMAND", "INFO", "get", "nosuch")).toBe("*2\r\n" + GET_INFO + "$-1\r\n");
  });

  test("INFO in RESP3 sends flags and categories as sets", async () => {
    const c = await connect();
    await c.raw("HELLO", "3");
    expect((await c.raw("COMMAND", "INFO", "get")).startsWith(
      "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n+@string\r\n+@fast\r\n")).toBe(true);
    expect(await c.raw("COMMAND", "INFO", "nosuch")).toBe("*1\r\n_\r\n");
  });

  test("DOCS answers a map from command name to its documentation, with its group", async () => {
    const c = await connect();
    const reply = (await c.cmd("COMMAND", "DOCS", "get")) as string[];
    expect(reply.length).toBe(2);
    expect(reply[0]).toBe("get");
    const doc = reply[1] as unknown as string[];
    expect(doc[doc.indexOf("group") + 1]).toBe("string");
  });

  test("DOCS of an unknown command is left out", async () => {
    const c = await connect();
    expect(await c.raw("COMMAND", "DOCS", "nosuch")).toBe("*0\r\n");
  });

  test("LIST FILTERBY PATTERN lists the matching commands", async () => {
    const c = await connect();
    expect(((await c.cmd("COMMAND", "LIST", "FILTERBY", "PATTERN", "incr*")) as string[]).sort()).toEqual(["incr", "incrby", "incrbyfloat"]);
    expect(await c.raw("COMMAND", "LIST", "FILTERBY", "PATTERN", "CLIENT|ID")).toBe(bulks("client|id"));
    expect(await c.raw("COMMAND", "LIST", "FILTERBY", "PATTERN", "xx*")).toBe("*0\r\n");
  });

  test("LIST FILTERBY ACLCAT lists the commands of a category, subcommands included", async () => {
    const c = await connect();
    const names = (await c.cmd("COMMAND", "LIST", "FILTERBY", "ACLCAT", "connection")) as string[];
    for (const n of ["ping", "echo", "quit", "reset", "hello", "auth", "select", "client|id", "client|list", "command", "command|info"]) expect(names).toContain(n);
    expect(names).not.toContain("get");
    expect(names).not.toContain("client");
    expect(await c.raw("COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuchcat")).toBe("*0\r\n");
  });

  test("LIST FILTERBY MODULE lists nothing, and a bad filter is a syntax error", async () => {
    const c = await connect();
    expect(await c.raw("COMMAND", "LIST", "FILTERBY", "MODULE", "x")).toBe("*0\r\n");
    expect(await c.raw("COMMAND", "LIST", "FILTERBY", "FOO", "x")).toBe("-ERR syntax error\r\n");
    expect(await c.raw("COMMAND", "LIST", "FOO")).toBe("-ERR syntax error\r\n");
  });

  test("GETKEYS answers the key arguments of a command line", async () => {
    const c = await connect();
    expect(await c.raw("COMMAND", "GETKEYS", "get", "k")).toBe(bulks("k"));
    expect(await c.raw("COMMAND", "GETKEYS", "set", "k", "v")).toBe(bulks("k"));
    expect(await c.raw("COMMAND", "GETKEYS", "mset", "a", "1", "b", "2")).toBe(bulks("a", "b"));
  });

  test("GETKEYS refuses unknown commands, bad arities and commands without keys", async () => {
    const c = await connect();
    expect(await c.raw("COMMAND", "GETKEYS", "nosuch", "x", "y")).toBe("-ERR Invalid command specified\r\n");
    expect(await c.raw("COMMAND", "GETKEYS", "set", "k")).toBe("-ERR Invalid number of arguments specified for command\r\n");
    expect(await c.raw("COMMAND", "GETKEYS", "ping", "x")).toBe("-ERR The command has no key arguments\r\n");
    expect(await c.raw("COMMAND", "GETKEYS", "get")).toBe("-ERR wrong number of arguments for 'command|getkeys' command\r\n");
  });
});

describe("MONITOR", () => {
  test("a monitor sees another client's command in Redis's format", async () => {
    const m = await connect();
    const c = await connect();
    const port = (await clientAddr(c)).split(":")[1];
    expect(await m.raw("MONITOR")).toBe(OK);
    const before = Date.now() / 1000;
    expect(await c.raw("set", "k", "v")).toBe(OK);
    const line = await m.readRaw();
    const match = /^\+(\d+)\.(\d{6}) \[0 127\.0\.0\.1:(\d+)\] "set" "k" "v"\r\n$/.exec(line)!;
    expect(match).not.toBeNull();
    expect(match[3]).toBe(port);
    expect(Math.abs(Number(`${match[1]}.${match[2]}`) - before)).toBeLessThan(2);
    m.close(); // a monitor left open would copy every later test's commands
  });

  test("arguments are quoted and escaped, and the database is the one the command ran in", async () => {
    const m = await connect();
    const c = await connect();
    await m.raw("MONITOR");
    await c.raw("SELECT", "2");
    await c.raw("SET", "k", 'a "b"\n\x01');
    expect(await m.readRaw()).toMatch(/^\+\d+\.\d{6} \[2 127\.0\.0\.1:\d+\] "SELECT" "2"\r\n$/);
    expect(await m.readRaw()).toMatch(/^\+\d+\.\d{6} \[2 127\.0\.0\.1:\d+\] "SET" "k" "a \\"b\\"\\n\\x01"\r\n$/);
    m.close();
  });

  test("passwords given to AUTH and HELLO are redacted", async () => {
    const m = await connect();
    const c = await connect();
    await m.raw("MONITOR");
    await c.raw("AUTH", "default", "secret");
    await c.raw("HELLO", "2", "AUTH", "default", "secret", "SETNAME", "n");
    expect(await m.readRaw()).toMatch(/^\+\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "AUTH" "\(redacted\)" "\(redacted\)"\r\n$/);
    expect(await m.readRaw()).toMatch(/^\+\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "HELLO" "2" "AUTH" "\(redacted\)" "\(redacted\)" "SETNAME" "n"\r\n$/);
    m.close();
  });

  test("admin commands and unknown commands are not shown", async () => {
    const m = await connect();
    const c = await connect();
    await m.raw("MONITOR");
    await c.raw("CONFIG", "GET", "hz");
    await c.raw("NOSUCH");
    await c.raw("ECHO", "shown");
    expect(await m.readRaw()).toMatch(/^\+\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "ECHO" "shown"\r\n$/);
    m.close();
  });
});

describe("SLOWLOG", () => {
  afterAll(async () => {
    const c = await connect();
    await c.raw("CONFIG", "SET", "slowlog-log-slower-than", "10000");
    await c.raw("SLOWLOG", "RESET");
    c.close();
  });

  test("with a threshold of 0 every command is logged: LEN counts, GET shows them newest first", async () => {
    const c = await connect();
    await c.raw("CLIENT", "SETNAME", "slowpoke");
    const myAddr = await clientAddr(c);
    await c.raw("CONFIG", "SET", "slowlog-log-slower-than", "0");
    expect(await c.raw("SLOWLOG", "RESET")).toBe(OK);
    await c.raw("SET", "k", "v");
    expect(await c.raw("SLOWLOG", "LEN")).toBe(":2\r\n"); // SLOWLOG RESET itself, then SET
    const entries = (await c.cmd("SLOWLOG", "GET", "1")) as unknown[][];
    expect(entries.length).toBe(1);
    const [id, time, usec, argv, addr, name] = entries[0];
    expect(typeof id).toBe("number");
    expect(Math.abs((time as number) - Date.now() / 1000)).toBeLessThan(2);
    expect(usec as number).toBeGreaterThanOrEqual(0);
    expect(argv).toEqual(["SLOWLOG", "LEN"]);
    expect(addr).toBe(myAddr);
    expect(name).toBe("slowpoke");
    const all = (await c.cmd("SLOWLOG", "GET")) as unknown[][];
    expect(all.map((e) => e[3])).toEqual([["SLOWLOG", "GET", "1"], ["SLOWLOG", "LEN"], ["SET", "k", "v"], ["SLOWLOG", "RESET"]]);
    expect(all.map((e) => e[0] as number)).toEqual([3, 2, 1, 0].map((i) => (all[3][0] as number) + i));
  });

  test("long argument lists and long arguments are shortened as Redis does", async () => {
    const c = await connect();
    await c.raw("CONFIG", "SET", "slowlog-log-slower-than", "0");
    const args = Array.from({ length: 40 }, (_, i) => String(i));
    await c.raw("MSET", ...args);
    await c.raw("SET", "k", "x".repeat(130));
    const [setEntry, msetEntry] = (await c.cmd("SLOWLOG", "GET", "2")) as unknown[][];
    expect(setEntry[3]).toEqual(["SET", "k", "x".repeat(128) + "... (2 more bytes)"]);
    expect(msetEntry[3]).toEqual(["MSET", ...args.slice(0, 30), "... (10 more arguments)"]);
  });

  test("RESET empties the log, and commands under the threshold are not logged", async () => {
    const c = await connect();
    await c.raw("CONFIG", "SET", "slowlog-log-slower-than", "1000000");
    expect(await c.raw("SLOWLOG", "RESET")).toBe(OK);
    await c.raw("SET", "k", "v");
    expect(await c.raw("SLOWLOG", "LEN")).toBe(":0\r\n");
    expect(await c.raw("SLOWLOG", "GET")).toBe("*0\r\n");
  });

  test("a negative threshold turns the log off", async () => {
    const c = await connect();
    await c.raw("CONFIG", "SET", "slowlog-log-slower-than", "-1");
    await c.raw("SLOWLOG", "RESET");
    await c.raw("DEBUG", "SLEEP", "0.01");
    expect(await c.raw("SLOWLOG", "LEN")).toBe(":0\r\n");
  });

  test("GET with a bad count is refused", async () => {
    const c = await connect();
    expect(await c.raw("SLOWLOG", "GET", "x")).toBe("-ERR count should be greater than or equal to -1\r\n");
    expect(await c.raw("SLOWLOG", "GET", "-2")).toBe("-ERR count should be greater than or equal to -1\r\n");
    expect(await c.raw("SLOWLOG", "FOO")).toBe("-ERR unknown subcommand 'FOO'. Try SLOWLOG HELP.\r\n");
  });
});

describe("LATENCY", () => {
  afterAll(async () => {
    const c = await connect();
    await c.raw("CONFIG", "SET", "latency-monitor-threshold", "0");
    await c.raw("LATENCY", "RESET");
    c.close();
  });

  test("with monitoring off nothing is recorded", async () => {
    const c = await connect();
    await c.raw("CONFIG", "SET", "latency-monitor-threshold", "0");
    await c.raw("LATENCY", "RESET");
    await c.raw("DEBUG", "SLEEP", "0.01");
    expect(await c.raw("LATENCY", "LATEST")).toBe("*0\r\n");
    expect(await c.raw("LATENCY", "HISTORY", "command")).toBe("*0\r\n");
  });

  test("a command slower than latency-monitor-threshold is recorded as a 'command' event", async () => {
    const c = await connect();
    await c.raw("LATENCY", "RESET");
    await c.raw("CONFIG", "SET", "latency-monitor-threshold", "1");
    expect(await c.raw("DEBUG", "SLEEP", "0.01")).toBe(OK);
    const latest = await c.raw("LATENCY", "LATEST");
    const m = /^\*1\r\n\*4\r\n\$7\r\ncommand\r\n:(\d+)\r\n:(\d+)\r\n:(\d+)\r\n$/.exec(latest)!;
    expect(m).not.toBeNull();
    expect(Math.abs(Number(m[1]) - Date.now() / 1000)).toBeLessThan(2);
    expect(Number(m[2])).toBeGreaterThanOrEqual(10);
    expect(Number(m[3])).toBe(Number(m[2]));
    expect(await c.raw("LATENCY", "HISTORY", "command")).toBe(`*1\r\n*2\r\n:${m[1]}\r\n:${m[2]}\r\n`);
  });

  test("RESET clears the named events, or all, and answers how many it cleared", async () => {
    const c = await connect();
    await c.raw("CONFIG", "SET", "latency-monitor-threshold", "1");
    await c.raw("DEBUG", "SLEEP", "0.01");
    expect(await c.raw("LATENCY", "RESET", "nosuch")).toBe(":0\r\n");
    expect(await c.raw("LATENCY", "RESET", "command")).toBe(":1\r\n");
    expect(await c.raw("LATENCY", "LATEST")).toBe("*0\r\n");
    await c.raw("DEBUG", "SLEEP", "0.01");
    expect(await c.raw("LATENCY", "RESET")).toBe(":1\r\n");
    expect(await c.raw("LATENCY", "RESET")).toBe(":0\r\n");
  });

  test("HISTORY of an unknown event is empty; bad calls are refused", async () => {
    const c = await connect();
    expect(await c.raw("LATENCY", "HISTORY", "nosuch")).toBe("*0\r\n");
    expect(await c.raw("LATENCY", "HISTORY")).toBe("-ERR wrong number of arguments for 'latency|history' command\r\n");
    expect(await c.raw("LATENCY", "FOO")).toBe("-ERR unknown subcommand 'FOO'. Try LATENCY HELP.\r\n");
  });
});

describe("LATENCY HISTOGRAM", () => {
  /** The histogram of `debug` after CONFIG RESETSTAT and these DEBUG SLEEPs, on each client at once;
   *  tried up to 3 times until every reply is `expected`, as a stall of a busy machine can push a
   *  sleep into the next bucket (a fault in the histogram fails every try). */
  async function sleepsHistogram(clients: RawClient[], sleeps: string[], query: string[], expected: string): Promise<string[]> {
    let got: string[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      await onEach(clients, "CONFIG", "RESETSTAT");
      for (const s of sleeps) expect(await onEach(clients, "DEBUG", "SLEEP", s)).toEqual(clients.map(() => OK));
      got = await onEach(clients, "LATENCY", "HISTOGRAM", ...query);
      if (got.every((g) => g === expected)) break;
    }
    return got;
  }

  test("reports each call of a command in the bucket of its duration, cumulatively: two 10 ms sleeps fall at 16908 µs", async () => {
    const c = await connect();
    // A 10 ms sleep, with the call's overhead, falls between the levels 8.4 ms and 16.8 ms: the
    // bucket holding 2^24 ns tops at 16908 µs.
    const expected = histogramReply(2, histogramEntry(2, "debug", 2, [[16908, 2]]));
    expect(await sleepsHistogram([c], ["0.01", "0.01"], ["debug"], expected)).toEqual([expected]);
    await c.raw("SET", "k", "v");
    expect(await c.raw("LATENCY", "HISTOGRAM", "debug")).toBe(expected);
    await c.raw("HELLO", "3");
    expect(await c.raw("LATENCY", "HISTOGRAM", "debug")).toBe(histogramReply(3, histogramEntry(3, "debug", 2, [[16908, 2]])));
  });

  test("a command's entry has its calls and one pair per level its count grew at, in RESP2 and RESP3 shapes", async () => {
    const c = await connect();
    const buckets: [number, number][] = [[16908, 1], [33816, 3], [67633, 4], [135266, 5]];
    const expected = histogramReply(2, histogramEntry(2, "debug", 5, buckets));
    expect(await sleepsHistogram([c], ["0.01", "0.02", "0.02", "0.04", "0.1"], ["debug"], expected)).toEqual([expected]);
    await c.raw("HELLO", "3");
    expect(await c.raw("LATENCY", "HISTOGRAM", "debug")).toBe(histogramReply(3, histogramEntry(3, "debug", 5, buckets)));
  });

  test.skipIf(noRedis)("answers the same bytes as redis-server for the same sleeps, in RESP2 and RESP3", async () => {
    const c = await connect(), r = await connectRedis();
    try {
      const buckets: [number, number][] = [[16908, 2], [33816, 3], [67633, 4], [135266, 5]];
      const expected = histogramReply(2, histogramEntry(2, "debug", 5, buckets));
      const [mine, theirs] = await sleepsHistogram([c, r], ["0.01", "0.01", "0.02", "0.04", "0.1"], ["debug", "nosuch", "debug|x"], expected);
      expect(mine).toBe(theirs);
      expect(mine).toBe(expected);
      await onEach([c, r], "HELLO", "3");
      const [mine3, theirs3] = await onEach([c, r], "LATENCY", "HISTOGRAM", "DEBUG");
      expect(mine3).toBe(theirs3);
      expect(mine3).toBe(histogramReply(3, histogramEntry(3, "debug", 5, buckets)));
    } finally { r.close(); }
  });

  // Redis's histogram tracks up to 1 s: its last bucket ends at 2^30 - 1 ns, whose top the walk's
  // last level reports for anything longer than 2^29 ns.
  test("a call longer than 2^29 ns (537 ms) is reported at 1073741 µs, the top of the histogram's last bucket", async () => {
    const c = await connect();
    await c.raw("CONFIG", "RESETSTAT");
    await c.raw("DEBUG", "SLEEP", "0.6");
    expect(await c.raw("LATENCY", "HISTOGRAM", "debug")).toBe("*2\r\n$5\r\ndebug\r\n*4\r\n$5\r\ncalls\r\n:1\r\n$14\r\nhistogram_usec\r\n*2\r\n:1073741\r\n:1\r\n");
  });

  test("the values are the tops of the buckets holding 1024 ns, 2048 ns, ...", async () => {
    const c = await connect();
    await c.raw("CONFIG", "RESETSTAT");
    for (let i = 0; i < 20; i++) await c.raw("SET", `k${i}`, "v");
    const [name, entry] = (await c.cmd("LATENCY", "HISTOGRAM", "set")) as [string, [string, number, string, number[]]];
    expect(name).toBe("set");
    expect(entry.slice(0, 3)).toEqual(["calls", 20, "histogram_usec"]);
    const pairs = entry[3];
    for (let i = 0; i < pairs.length; i += 2) expect(HISTOGRAM_LEVELS_USEC).toContain(pairs[i]);
    expect(pairs.at(-1)).toBe(20); // cumulative: the last count is every call
    for (let i = 3; i < pairs.length; i += 2) expect(pairs[i]).toBeGreaterThan(pairs[i - 2]);
  });

  test("unknown names are skipped; a name given twice is answered twice; full names and any case work", async () => {
    const c = await connect();
    await c.raw("CONFIG", "RESETSTAT");
    await c.raw("DEBUG", "SLEEP", "0");
    const alone = await c.raw("LATENCY", "HISTOGRAM", "debug");
    expect(alone).toMatch(/^\*2\r\n\$5\r\ndebug\r\n\*4\r\n\$5\r\ncalls\r\n:1\r\n\$14\r\nhistogram_usec\r\n\*2\r\n:\d+\r\n:1\r\n$/);
    const debug = alone.slice("*2\r\n".length);
    expect(await c.raw("LATENCY", "HISTOGRAM", "nosuch", "DeBuG", "debug|x", "debug")).toBe(`*4\r\n${debug}${debug}`);
    for (const odd of ["nosuch", "config|", "|", "config|resetstat|x", "get"]) expect(await c.raw("LATENCY", "HISTOGRAM", odd)).toBe("*0\r\n");
    expect(await c.raw("LATENCY", "HISTOGRAM", "CONFIG|RESETSTAT")).toMatch(/^\*2\r\n\$16\r\nconfig\|resetstat\r\n\*4\r\n\$5\r\ncalls\r\n:1\r\n\$14\r\nhistogram_usec\r\n\*2\r\n:\d+\r\n:1\r\n$/);
    await c.raw("HELLO", "3");
    expect(await c.raw("LATENCY", "HISTOGRAM", "nosuch")).toBe("%0\r\n");
  });

  test("a container's name lists those of its subcommands that were called", async () => {
    const c = await connect();
    await c.raw("CONFIG", "RESETSTAT");
    await c.raw("CLIENT", "ID");
    expect(await c.raw("LATENCY", "HISTOGRAM", "client")).toMatch(/^\*2\r\n\$9\r\nclient\|id\r\n\*4\r\n\$5\r\ncalls\r\n:1\r\n\$14\r\nhistogram_usec\r\n\*2\r\n:\d+\r\n:1\r\n$/);
    await c.raw("CLIENT", "GETNAME");
    await c.raw("CLIENT", "GETNAME");
    // Redis lists them in its subcommand table's hash order: compared as a set.
    const flat = (await c.cmd("LATENCY", "HISTOGRAM", "client")) as unknown[];
    const calls = new Map(Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i] as string, (flat[2 * i + 1] as unknown[])[1]]));
    expect([...calls].sort()).toEqual([["client|getname", 2], ["client|id", 1]]);
  });

  test("after CONFIG RESETSTAT it lists nothing but CONFIG RESETSTAT itself, counted once it has run", async () => {
    const c = await connect();
    const [ok, all] = await pipeline(c, [["CONFIG", "RESETSTAT"], ["LATENCY", "HISTOGRAM"]]);
    expect(ok).toBe(OK);
    expect(all).toMatch(/^\*2\r\n\$16\r\nconfig\|resetstat\r\n\*4\r\n\$5\r\ncalls\r\n:1\r\n\$14\r\nhistogram_usec\r\n\*2\r\n:\d+\r\n:1\r\n$/);
    // Now LATENCY HISTOGRAM has run once too.
    const names = ((await c.cmd("LATENCY", "HISTOGRAM")) as unknown[]).filter((_, i) => i % 2 === 0);
    expect(names.sort()).toEqual(["config|resetstat", "latency|histogram"]);
  });

  test.skipIf(noRedis)("without names it lists the same commands as redis-server, with the same calls", async () => {
    const c = await connect(), r = await connectRedis();
    try {
      await onEach([c, r], "CONFIG", "RESETSTAT");
      for (const args of [["DEBUG", "SLEEP", "0"], ["SET", "a", "1"], ["GET", "a"], ["GET", "a"], ["CLIENT", "ID"], ["CONFIG", "GET", "hz"]]) await onEach([c, r], ...args);
      const calls = async (x: RawClient) => {
        const flat = (await x.cmd("LATENCY", "HISTOGRAM")) as unknown[];
        return Array.from({ length: flat.length / 2 }, (_, i) => `${flat[2 * i]} ${(flat[2 * i + 1] as unknown[])[1]}`).sort();
      };
      const mine = await calls(c);
      expect(mine).toEqual(await calls(r));
      expect(mine).toEqual(["client|id 1", "config|get 1", "config|resetstat 1", "debug 1", "get 2", "set 1"]);
    } finally { r.close(); }
  });
});

/** Samples of one event taken on each client in one go: HISTORY, the all-time high, then `ask`'s
 *  reply (with the seconds it may have been answered in), then HISTORY again. With
 *  latency-monitor-threshold low enough to catch the test's sleeps, a command slowed down by a
 *  busy machine can add a sample of its own: `stable` says no sample came or changed meanwhile. */
interface LatencyRead { samples: [number, number][]; high: number; reply: string; from: number; to: number; stable: boolean }
async function readLatency(x: RawClient, event: string, ask: (string | number)[]): Promise<LatencyRead> {
  const samples = await latencyHistory(x, event), high = await latencyAllTimeHigh(x, event);
  const from = Math.floor(Date.now() / 1000);
  const reply = await x.raw(...ask);
  const to = Math.floor(Date.now() / 1000);
  const stable = JSON.stringify(await latencyHistory(x, event)) === JSON.stringify(samples);
  return { samples, high, reply, from, to, stable };
}

/** Sets latency-monitor-threshold to 10 ms on each client, resets the events, and sleeps each of
 *  `sleeps` at the start of its own second (spikes in the same second are merged into one sample). */
async function spikesInSuccessiveSeconds(clients: RawClient[], sleeps: string[]): Promise<void> {
  await onEach(clients, "CONFIG", "SET", "latency-monitor-threshold", "10");
  await onEach(clients, "LATENCY", "RESET");
  for (const s of sleeps) {
    await atNextSecond();
    await onEach(clients, "DEBUG", "SLEEP", s);
  }
}

describe("LATENCY GRAPH", () => {
  afterAll(async () => {
    const c = await connect();
    await c.raw("CONFIG", "SET", "latency-monitor-threshold", "0");
    await c.raw("LATENCY", "RESET");
    c.close();
  });

  /** Redis's sparkline rows (sparkline.c, filled): each value scaled to one of rows*3 steps between
   *  the smallest and the largest (C's truncations kept), drawn with "_o#" in its own row and '|'
   *  in the rows below. */
  function sparklineRows(values: number[], rows: number): string[] {
    const min = Math.min(...values), relmax = Math.max(...values) - min || 1, steps = rows * 3;
    const step = (v: number) => Math.min(steps - 1, Math.max(0, Math.trunc(Math.trunc((v - min) * steps) / relmax)));
    return Array.from({ length: rows }, (_, row) => values.map((v) => {
      const k = step(v) - (rows - row - 1) * 3;
      return k < 0 ? " " : k < 3 ? "_o#"[k] : "|";
    }).join(""));
  }

  /** The graph Redis draws for an event's samples when asked at Unix second `now`: a header, 80
   *  dashes, the 4 rows of the sparkline, a blank row, then each sample's age ("3s") written
   *  downwards, one column per sample. */
  function expectedGraph(event: string, samples: [number, number][], allTimeHigh: number, now: number): string {
    const ms = samples.map((s) => s[1]);
    const labels = samples.map(([t]) => `${now - t}s`);
    const labelRows = Array.from({ length: Math.max(...labels.map((l) => l.length)) }, (_, j) => labels.map((l) => l[j] ?? " ").join(""));
    return `${event} - high ${Math.max(...ms)} ms, low ${Math.min(...ms)} ms (all time high ${allTimeHigh} ms)\n${"-".repeat(80)}\n` +
      [...sparklineRows(ms, 4), " ".repeat(samples.length), ...labelRows].map((l) => `${l}\n`).join("");
  }

  test("the sparkline's steps, worked by hand: 20, 140, 65 and 35 ms", () => {
    // Range 120 over 12 steps: 20 is step 0 ('_' at the bottom), 140 step 11 ('#' on top of '|'),
    // 65 step 4 (4.5: 'o' in the third row), 35 step 1 (1.5: 'o' at the bottom).
    expect(sparklineRows([20, 140, 65, 35], 4)).toEqual([" #  ", " |  ", " |o ", "_||o"]);
    expect(sparklineRows([30], 4)).toEqual([" ", " ", " ", "_"]); // one value: no range, step 0
  });

  test("an event without samples is refused, its name as given; arity is checked first", async () => {
    const c = await connect();
    await c.raw("LATENCY", "RESET");
    expect(await c.raw("LATENCY", "GRAPH", "x")).toBe("-ERR No samples available for event 'x'\r\n");
    expect(await c.raw("LATENCY", "GRAPH", "command")).toBe("-ERR No samples available for event 'command'\r\n");
    expect(await c.raw("LATENCY", "GRAPH")).toBe("-ERR wrong number of arguments for 'latency|graph' command\r\n");
    expect(await c.raw("LATENCY", "GRAPH", "a", "b")).toBe("-ERR wrong number of arguments for 'latency|graph' command\r\n");
  });

  test("one sample: its column is the lowest step, '_', labelled with its age; a bulk in RESP2, a txt verbatim in RESP3", async () => {
    const c = await connect();
    let two: LatencyRead, three: LatencyRead;
    for (let attempt = 0; ; attempt++) {
      await c.raw("HELLO", "2");
      await spikesInSuccessiveSeconds([c], ["0.03"]);
      two = await readLatency(c, "command", ["LATENCY", "GRAPH", "command"]);
      await c.raw("HELLO", "3");
      three = await readLatency(c, "command", ["LATENCY", "GRAPH", "command"]);
      if ((two.stable && three.stable && two.samples.length === 1) || attempt === 2) break;
    }
    expect(two.samples.length).toBe(1);
    expectForSomeSecond(two.reply, two.from, two.to, (t) => bulk(expectedGraph("command", two.samples, two.high, t)));
    expect(two.reply).toContain("\n \n \n \n_\n \n");
    const verbatim = (s: string) => `=${s.length + 4}\r\ntxt:${s}\r\n`;
    expectForSomeSecond(three.reply, three.from, three.to, (t) => verbatim(expectedGraph("command", three.samples, three.high, t)));
    // Event names are case-sensitive.
    expect(await c.raw("LATENCY", "GRAPH", "COMMAND")).toBe("-ERR No samples available for event 'COMMAND'\r\n");
  });

  test.skipIf(noRedis)("draws the same graph as redis-server for spikes in four successive seconds", async () => {
    const c = await connect(), r = await connectRedis();
    try {
      let reads: LatencyRead[] = [];
      for (let attempt = 0; attempt < 3; attempt++) {
        // Sleeps that draw distinct columns (the hand-worked case above).
        await spikesInSuccessiveSeconds([c, r], ["0.02", "0.14", "0.065", "0.035"]);
        reads = [await readLatency(c, "command", ["LATENCY", "GRAPH", "command"]), await readLatency(r, "command", ["LATENCY", "GRAPH", "command"])];
        if (reads.every((x) => x.stable && x.samples.length === 4)) break; // else a stall merged seconds or added a spike: again
      }
      for (const [who, x] of [["Redbun", reads[0]], ["redis-server", reads[1]]] as const) {
        expect([who, x.samples.length]).toEqual([who, 4]);
        expectForSomeSecond(x.reply, x.from, x.to, (t) => bulk(expectedGraph("command", x.samples, x.high, t)));
      }
    } finally { r.close(); }
  }, 45000);
});

describe("LATENCY DOCTOR", () => {
  afterAll(async () => {
    const c = await connect();
    await c.raw("CONFIG", "SET", "latency-monitor-threshold", "0");
    await c.raw("LATENCY", "RESET");
    c.close();
  });

  /** Redis's line for the n-th event of the report, asked at Unix second `now`: the number of
   *  samples, their integer average and mean deviation, the seconds since the oldest (at least 1)
   *  per sample, and the all-time high. */
  function eventLine(n: number, event: string, samples: [number, number][], allTimeHigh: number, now: number): string {
    const ms = samples.map((s) => s[1]), k = ms.length;
    const avg = Math.floor(ms.reduce((a, b) => a + b, 0) / k);
    const mad = Math.floor(ms.reduce((a, b) => a + Math.abs(avg - b), 0) / k);
    const period = Math.max(1, now - Math.min(...samples.map((s) => s[0])));
    return `${n}. ${event}: ${k} latency spikes (average ${avg}ms, mean deviation ${mad}ms, period ${(period / k).toFixed(2)} sec). Worst all time event ${allTimeHigh}ms.`;
  }

  /** The report's numbered event lines (the rest is prose, Redbun's own and not Redis's). */
  const eventLines = (report: string) => report.split("\n").filter((l) => /^\d+\. /.test(l));
  /** The text of a bulk (RESP2) or txt verbatim (RESP3) reply, checked to be well framed. */
  function reportText(raw: string): string {
    const verbatim = raw.startsWith("=");
    const text = raw.slice(raw.indexOf("\r\n") + (verbatim ? 6 : 2), -2);
    expect(raw).toBe(verbatim ? `=${text.length + 4}\r\ntxt:${text}\r\n` : bulk(text));
    expect(text.endsWith("\n")).toBe(true);
    return text;
  }

  test("with monitoring off and nothing recorded it says so in one line naming latency-monitor-threshold", async () => {
    const c = await connect();
    await c.raw("CONFIG", "SET", "latency-monitor-threshold", "0");
    await c.raw("LATENCY", "RESET");
    expect(reportText(await c.raw("LATENCY", "DOCTOR"))).toMatch(/^[^\n]*latency-monitor-threshold[^\n]*\n$/);
  });

  test("with monitoring on and no spike it lists no event, and does not say monitoring is off", async () => {
    const c = await connect();
    await c.raw("CONFIG", "SET", "latency-monitor-threshold", "0");
    await c.raw("LATENCY", "RESET");
    const off = reportText(await c.raw("LATENCY", "DOCTOR"));
    await c.raw("CONFIG", "SET", "latency-monitor-threshold", "1000");
    const report = reportText(await c.raw("LATENCY", "DOCTOR"));
    expect(report).not.toBe(off);
    expect(report).toMatch(/^[^\n]+\n$/);
  });

  test("one line per event with Redis's figures, as a bulk in RESP2 and a txt verbatim in RESP3, also once monitoring is off", async () => {
    const c = await connect();
    let two: LatencyRead, three: LatencyRead;
    for (let attempt = 0; ; attempt++) {
      await c.raw("HELLO", "2");
      await spikesInSuccessiveSeconds([c], ["0.03"]);
      two = await readLatency(c, "command", ["LATENCY", "DOCTOR"]);
      // Turning monitoring off keeps the report on what was recorded.
      await c.raw("CONFIG", "SET", "latency-monitor-threshold", "0");
      await c.raw("HELLO", "3");
      three = await readLatency(c, "command", ["LATENCY", "DOCTOR"]);
      if ((two.stable && two.samples.length === 1) || attempt === 2) break;
    }
    for (const x of [two, three]) {
      expect(x.samples.length).toBe(1);
      expectForSomeSecond(eventLines(reportText(x.reply)).join("\n"), x.from, x.to, (t) => eventLine(1, "command", x.samples, x.high, t));
    }
    expect(three.reply.startsWith("=")).toBe(true);
  });

  test("takes no arguments", async () => {
    const c = await connect();
    expect(await c.raw("LATENCY", "DOCTOR", "x")).toBe("-ERR wrong number of arguments for 'latency|doctor' command\r\n");
  });

  test.skipIf(noRedis)("writes the same event line as redis-server for spikes in two seconds", async () => {
    const c = await connect(), r = await connectRedis();
    try {
      let reads: LatencyRead[] = [];
      for (let attempt = 0; attempt < 3; attempt++) {
        await spikesInSuccessiveSeconds([c, r], ["0.02", "0.1"]);
        reads = [await readLatency(c, "command", ["LATENCY", "DOCTOR"]), await readLatency(r, "command", ["LATENCY", "DOCTOR"])];
        if (reads.every((x) => x.stable && x.samples.length === 2)) break;
      }
      for (const [who, x] of [["Redbun", reads[0]], ["redis-server", reads[1]]] as const) {
        expect([who, x.samples.length]).toEqual([who, 2]);
        const lines = eventLines(reportText(x.reply));
        expectForSomeSecond(lines.join("\n"), x.from, x.to, (t) => eventLine(1, "command", x.samples, x.high, t));
      }
    } finally { r.close(); }
  }, 30000);
});

describe("MEMORY STATS", () => {
  /** The reply as [field, value] pairs (RESP2: a flat array). */
  async function stats(c: RawClient): Promise<[string, unknown][]> {
    const flat = (await c.cmd("MEMORY", "STATS")) as unknown[];
    return Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i] as string, flat[2 * i + 1]]);
  }

  test("lists Redis 7.0's fields in Redis's order, a db.N entry per database that has keys", async () => {
    const c = await connect();
    await c.cmd("SET", "a", "1");
    await c.cmd("SELECT", "3");
    await c.cmd("SET", "b", "2", "EX", "100");
    const s = await stats(c);
    expect(s.map(([k]) => k)).toEqual([
      "peak.allocated", "total.allocated", "startup.allocated", "replication.backlog", "clients.slaves", "clients.normal",
      "cluster.links", "aof.buffer", "lua.caches", "functions.caches", "db.0", "db.3", "overhead.total", "keys.count",
      "keys.bytes-per-key", "dataset.bytes", "dataset.percentage", "peak.percentage", "allocator.allocated", "allocator.active",
      "allocator.resident", "allocator-fragmentation.ratio", "allocator-fragmentation.bytes", "allocator-rss.ratio",
      "allocator-rss.bytes", "rss-overhead.ratio", "rss-overhead.bytes", "fragmentation", "fragmentation.bytes",
    ]);
    const m = Object.fromEntries(s);
    expect(m["db.3"]).toEqual(["overhead.hashtable.main", expect.any(Number), "overhead.hashtable.expires", expect.any(Number), "overhead.hashtable.slot-to-keys", 0]);
    expect((m["db.3"] as number[])[3]).toBeGreaterThan(0); // the key with a TTL
    expect(m["keys.count"]).toBe(2);
    expect(m["dataset.bytes"] as number).toBeLessThanOrEqual(m["total.allocated"] as number);
    expect(m["peak.allocated"] as number).toBeGreaterThanOrEqual(m["total.allocated"] as number);
    // Ratios are doubles: bulk strings in RESP2.
    expect(String(m["dataset.percentage"])).toMatch(/^\d+(\.\d+)?$/);
  });

  test("grows with the dataset", async () => {
    const c = await connect();
    const before = Object.fromEntries(await stats(c));
    await pipeline(c, Array.from({ length: 1000 }, (_, i) => ["SET", `key:${i}`, "x".repeat(100)]));
    const after = Object.fromEntries(await stats(c));
    expect((after["dataset.bytes"] as number) - (before["dataset.bytes"] as number)).toBeGreaterThan(100_000);
    expect(after["keys.count"]).toBe(1000);
  });
});

describe("MEMORY DOCTOR", () => {
  test("on an (almost) empty instance answers Redis's text, verbatim in RESP3", async () => {
    const c = await connect();
    const text = "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n";
    expect(await c.raw("MEMORY", "DOCTOR")).toBe(bulk(text));
    await c.cmd("HELLO", "3");
    expect(await c.raw("MEMORY", "DOCTOR")).toBe(`=${text.length + 4}\r\ntxt:${text}\r\n`);
  });

  test("with more than 5 MB of data, reports on it instead", async () => {
    const c = await connect();
    await pipeline(c, Array.from({ length: 100 }, (_, i) => ["SET", `big:${i}`, "x".repeat(100_000)]));
    const report = (await c.cmd("MEMORY", "DOCTOR")) as string;
    expect(report).toMatch(/^(Hi Sam, I can't find any memory issue in your instance\. I can only account for what occurs on this base\.\n|Sam, I detected a few issues in this Redis instance memory implants:\n\n[^]*I'm here to keep you safe, Sam\. I want to help you\.\n)$/);
    await c.cmd("FLUSHALL");
  });
});

describe("MEMORY PURGE and MALLOC-STATS", () => {
  test("PURGE answers OK; MALLOC-STATS answers what Redis does without jemalloc", async () => {
    const c = await connect();
    expect(await c.raw("MEMORY", "PURGE")).toBe("+OK\r\n");
    expect(await c.raw("MEMORY", "MALLOC-STATS")).toBe(bulk("Stats not supported for the current allocator"));
    expect(await c.raw("MEMORY", "STATS", "x")).toBe("-ERR wrong number of arguments for 'memory|stats' command\r\n");
  });
});

describe("MEMORY USAGE", () => {
  // The number depends on the allocator (jemalloc in Redis), so only its shape is checked.
  test("answers an estimate in bytes for an existing key", async () => {
    const c = await connect();
    await c.raw("SET", "k", "x".repeat(1000));
    const reply = await c.raw("MEMORY", "USAGE", "k");
    expect(reply).toMatch(/^:\d+\r\n$/);
    expect(Number(reply.slice(1))).toBeGreaterThanOrEqual(1000);
    expect(await c.raw("MEMORY", "USAGE", "k", "SAMPLES", "0")).toMatch(/^:\d+\r\n$/);
  });

  test("answers nil for a missing key", async () => {
    const c = await connect();
    expect(await c.raw("MEMORY", "USAGE", "missing")).toBe(NIL);
  });

  test("bad options are refused", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v");
    expect(await c.raw("MEMORY", "USAGE", "k", "SAMPLES", "x")).toBe("-ERR value is not an integer or out of range\r\n");
    expect(await c.raw("MEMORY", "USAGE", "k", "FOO", "1")).toBe("-ERR syntax error\r\n");
    expect(await c.raw("MEMORY", "FOO")).toBe("-ERR unknown subcommand 'FOO'. Try MEMORY HELP.\r\n");
  });
});

describe("OBJECT", () => {
  afterAll(async () => {
    const c = await connect();
    await c.raw("CONFIG", "SET", "maxmemory-policy", "noeviction");
    c.close();
  });

  test("ENCODING is int for integers that fit in 64 bits", async () => {
    const c = await connect();
    for (const v of ["123", "-1", "0", "-9223372036854775808", "9223372036854775807"]) {
      await c.raw("SET", "k", v);
      expect(await c.raw("OBJECT", "ENCODING", "k")).toBe(bulk("int"));
    }
  });

  test("ENCODING is embstr up to 44 bytes and for numbers that are not canonical integers", async () => {
    const c = await connect();
    for (const v of ["abc", "01", "+1", "9223372036854775808", "12345678901234567890", "x".repeat(44)]) {
      await c.raw("SET", "k", v);
      expect(await c.raw("OBJECT", "ENCODING", "k")).toBe(bulk("embstr"));
    }
  });

  test("ENCODING is raw past 44 bytes", async () => {
    const c = await connect();
    await c.raw("SET", "k", "x".repeat(45));
    expect(await c.raw("OBJECT", "ENCODING", "k")).toBe(bulk("raw"));
  });

  test("ENCODING is raw for a value grown by APPEND, and int after INCR", async () => {
    const c = await connect();
    await c.raw("SET", "k", "ab");
    await c.raw("APPEND", "k", "c");
    expect(await c.raw("OBJECT", "ENCODING", "k")).toBe(bulk("raw"));
    await c.raw("SET", "n", "5");
    await c.raw("INCR", "n");
    expect(await c.raw("OBJECT", "ENCODING", "n")).toBe(bulk("int"));
  });

  test("REFCOUNT is INT_MAX for the shared integers 0..9999 and 1 otherwise", async () => {
    const c = await connect();
    for (const [v, n] of [["0", 2147483647], ["9999", 2147483647], ["10000", 1], ["-1", 1], ["abc", 1]] as const) {
      await c.raw("SET", "k", v);
      expect(await c.raw("OBJECT", "REFCOUNT", "k")).toBe(`:${n}\r\n`);
    }
  });

  test("IDLETIME of a fresh key is 0", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v");
    expect(await c.raw("OBJECT", "IDLETIME", "k")).toBe(":0\r\n");
  });

  test("SET over an existing key makes its idle time 0 again, as a new value object does", async () => {
    const c = await connect();
    await c.raw("SET", "idle", "v");
    advanceClock(5000);
    expect(await c.raw("OBJECT", "IDLETIME", "idle")).toBe(":5\r\n");
    await c.raw("SET", "idle", "w");
    expect(await c.raw("OBJECT", "IDLETIME", "idle")).toBe(":0\r\n");
  });

  test("FREQ needs an LFU policy and IDLETIME needs a non-LFU one", async () => {
    const c = await connect();
    await c.raw("SET", "k", "v");
    expect(await c.raw("OBJECT", "FREQ", "k")).toBe("-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n");
    await c.raw("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu");
    expect(await c.raw("OBJECT", "FREQ", "k")).toMatch(/^:\d+\r\n$/);
    expect(await c.raw("OBJECT", "IDLETIME", "k")).toBe("-ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n");
    expect(await c.raw("OBJECT", "FREQ", "missing")).toBe(NIL);
    await c.raw("CONFIG", "SET", "maxmemory-policy", "noeviction");
  });

  test("a missing key answers nil", async () => {
    const c = await connect();
    expect(await c.raw("OBJECT", "ENCODING", "missing")).toBe(NIL);
    expect(await c.raw("OBJECT", "REFCOUNT", "missing")).toBe(NIL);
    expect(await c.raw("OBJECT", "IDLETIME", "missing")).toBe(NIL);
  });

  test("bad calls are refused with Redis's errors", async () => {
    const c = await connect();
    expect(await c.raw("OBJECT", "FOO", "k")).toBe("-ERR unknown subcommand 'FOO'. Try OBJECT HELP.\r\n");
    expect(await c.raw("OBJECT")).toBe("-ERR wrong number of arguments for 'object' command\r\n");
    expect(await c.raw("OBJECT", "ENCODING")).toBe("-ERR wrong number of arguments for 'object|encoding' command\r\n");
  });

  /** OBJECT REFCOUNT of a small integer SET under each maxmemory policy, with maxmemory 1gb (and
   *  with maxmemory 0 under allkeys-lru). Leaves maxmemory 0 and noeviction. */
  async function sharedIntegerRefcounts(c: RawClient): Promise<string[]> {
    const seen: string[] = [];
    try {
      for (const [maxmemory, policy] of [["0", "noeviction"], ["1gb", "noeviction"], ["1gb", "allkeys-lru"], ["1gb", "volatile-lru"], ["1gb", "allkeys-lfu"], ["1gb", "volatile-lfu"], ["1gb", "allkeys-random"], ["1gb", "volatile-ttl"], ["0", "allkeys-lru"]]) {
        await c.raw("CONFIG", "SET", "maxmemory", maxmemory, "maxmemory-policy", policy);
        await c.raw("SET", "n", "5");
        seen.push(`${maxmemory} ${policy}: ${(await c.raw("OBJECT", "REFCOUNT", "n")).trim()}`);
      }
    } finally {
      await c.raw("CONFIG", "SET", "maxmemory", "0", "maxmemory-policy", "noeviction");
    }
    return seen;
  }
  const SHARED_INTEGER_REFCOUNTS = [
    "0 noeviction: :2147483647", "1gb noeviction: :2147483647", "1gb allkeys-lru: :1", "1gb volatile-lru: :1", "1gb allkeys-lfu: :1",
    "1gb volatile-lfu: :1", "1gb allkeys-random: :2147483647", "1gb volatile-ttl: :2147483647", "0 allkeys-lru: :2147483647",
  ];

  test("REFCOUNT of a small integer is 1 when maxmemory is set with an LRU or LFU policy (integers are not shared then)", async () => {
    const c = await connect();
    expect(await sharedIntegerRefcounts(c)).toEqual(SHARED_INTEGER_REFCOUNTS);
  });

  test.skipIf(noRedis)("redis-server shares small integers under the same policies", async () => {
    const r = await connectRedis();
    try {
      expect(await sharedIntegerRefcounts(r)).toEqual(SHARED_INTEGER_REFCOUNTS);
    } finally { r.close(); }
  });

  // Redis decides at SET whether the value is the shared object, and the key keeps that object.
  test.todo("DIFFERS FROM REDIS: SET n 5, then CONFIG SET maxmemory 1gb maxmemory-policy allkeys-lru: OBJECT REFCOUNT n is :2147483647 in redis-server (the shared object stays), :1 in Redbun; and SET n 5 under allkeys-lru, then CONFIG SET maxmemory 0: :1 in redis-server, :2147483647 in Redbun", async () => {
    const c = await connect();
    try {
      await c.raw("SET", "n", "5");
      await c.raw("CONFIG", "SET", "maxmemory", "1gb", "maxmemory-policy", "allkeys-lru");
      expect(await c.raw("OBJECT", "REFCOUNT", "n")).toBe(":2147483647\r\n");
      await c.raw("SET", "n", "5");
      await c.raw("CONFIG", "SET", "maxmemory", "0");
      expect(await c.raw("OBJECT", "REFCOUNT", "n")).toBe(":1\r\n");
    } finally {
      await c.raw("CONFIG", "SET", "maxmemory", "0", "maxmemory-policy", "noeviction");
    }
  });
});

describe("DEBUG", () => {
  afterAll(async () => {
    const c = await connect();
    await c.raw("DEBUG", "SET-ACTIVE-EXPIRE", "1");
    c.close();
  });

  test("enable-debug-command local admits 127.0.0.1 exactly, not the rest of 127/8", async () => {
    // protected-mode no, or 127.0.0.2 would not get in at all (it is not a loopback client to Redis).
    const srv = await spawnServer(["--save", "", "--protected-mode", "no", "--enable-debug-command", "local"]);
    try {
      expect(await commandFrom("127.0.0.1", srv.port, ["DEBUG", "SLEEP", "0"])).toBe(OK);
      expect(await commandFrom("127.0.0.2", srv.port, ["DEBUG", "SLEEP", "0"])).toBe(
        '-ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n');
    } finally {
      await srv.stop();
    }
  });

  test("SLEEP blocks the server for the given seconds, decimals allowed", async () => {
    const c = await connect();
    const start = performance.now();
    expect(await c.raw("DEBUG", "SLEEP", "0.05")).toBe(OK);
    expect(performance.now() - start).toBeGreaterThanOrEqual(45);
    expect(await c.raw("DEBUG", "SLEEP", "0")).toBe(OK);
  });

  test("SLEEP with a non-number sleeps 0 seconds, as strtod reads it", async () => {
    const c = await connect();
    expect(await c.raw("DEBUG", "SLEEP", "x")).toBe(OK);
  });

  test("SET-ACTIVE-EXPIRE 0 and 1 answer +OK", async () => {
    const c = await connect();
    expect(await c.raw("DEBUG", "SET-ACTIVE-EXPIRE", "0")).toBe(OK);
    expect(await c.raw("DEBUG", "SET-ACTIVE-EXPIRE", "1")).toBe(OK);
  });

  test("POPULATE creates key:N = value:N keys, skipping existing ones", async () => {
    const c = await connect();
    await c.raw("SET", "key:1", "mine");
    expect(await c.raw("DEBUG", "POPULATE", "3")).toBe(OK);
    expect(await c.raw("DBSIZE")).toBe(":3\r\n");
    expect(await c.raw("MGET", "key:0", "key:1", "key:2")).toBe(bulks("value:0", "mine", "value:2"));
  });

  test("POPULATE with a prefix and a size pads with NULs or truncates", async () => {
    const c = await connect();
    expect(await c.raw("DEBUG", "POPULATE", "2", "p", "10")).toBe(OK);
    expect(await c.raw("GET", "p:1")).toBe(bulk("value:1\0\0\0"));
    expect(await c.raw("DEBUG", "POPULATE", "1", "q", "3")).toBe(OK);
    expect(await c.raw("GET", "q:0")).toBe(bulk("val"));
    expect(await c.raw("DEBUG", "POPULATE", "1", "r", "0")).toBe(OK); // 0: no size
    expect(await c.raw("GET", "r:0")).toBe(bulk("value:0"));
  });

  test("POPULATE cuts keys to 127 bytes, as Redis's 128-byte buffer does, and a count of 0 does nothing", async () => {
    const c = await connect();
    await c.raw("SELECT", 9);
    expect(await c.raw("DEBUG", "POPULATE", "3", "p".repeat(130))).toBe(OK);
    expect(await c.raw("KEYS", "*")).toBe(bulks("p".repeat(127)));
    expect(await c.raw("DEBUG", "POPULATE", "0", "x", "100000000000")).toBe(OK);
    expect(await c.raw("DBSIZE")).toBe(":1\r\n");
    await c.raw("FLUSHDB");
  });

  test("POPULATE touches WATCHed keys it creates", async () => {
    const c = await connect(), other = await connect();
    await c.raw("SELECT", 9);
    await other.raw("SELECT", 9);
    expect(await c.raw("WATCH", "w:1")).toBe(OK);
    expect(await other.raw("DEBUG", "POPULATE", "2", "w")).toBe(OK);
    expect(await c.raw("MULTI")).toBe(OK);
    expect(await c.raw("PING")).toBe("+QUEUED\r\n");
    expect(await c.raw("EXEC")).toBe("*-1\r\n");
    await c.raw("FLUSHDB");
  });

  test("RELOAD saves, empties and loads the databases back; NOSAVE loads the file; NOFLUSH MERGE adds it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "redbun-reload-"));
    const srv = await spawnServer(["--save", "", "--dir", dir, "--enable-debug-command", "yes"]);
    const c = await RawClient.connect(srv.port);
    try {
      expect(await c.raw("DEBUG", "RELOAD", "foo")).toBe("-ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.\r\n");
      await c.raw("SET", "a", "1");
      await c.raw("HSET", "h", "f", "v");
      await c.raw("SET", "t", "x", "EX", 100);
      await c.raw("SELECT", 3);
      await c.raw("RPUSH", "l", "x", "y");
      await c.raw("SELECT", 0);
      expect(await c.raw("DEBUG", "RELOAD")).toBe(OK);
      expect(await c.raw("GET", "a")).toBe(bulk("1"));
      expect(await c.raw("HGET", "h", "f")).toBe(bulk("v"));
      expect(await c.raw("TTL", "t")).toBe(":100\r\n");
      expect(await c.raw("LRANGE", "l", 0, -1)).toBe("*0\r\n");
      await c.raw("SELECT", 3);
      expect(await c.raw("LRANGE", "l", 0, -1)).toBe(bulks("x", "y"));
      await c.raw("SELECT", 0);
      // NOSAVE: the file as it is, without what was written since.
      await c.raw("SET", "b", "2");
      expect(await c.raw("DEBUG", "RELOAD", "NOSAVE")).toBe(OK);
      expect(await c.raw("EXISTS", "b")).toBe(":0\r\n");
      // NOFLUSH MERGE: the file's keys over the current ones, the others kept.
      await c.raw("SET", "a", "2");
      await c.raw("SET", "c", "3");
      expect(await c.raw("DEBUG", "RELOAD", "nosave", "noflush", "merge")).toBe(OK);
      expect(await c.raw("MGET", "a", "c")).toBe(bulks("1", "3"));
      // Without MERGE a key present in both stops the load (redis-server exits there).
      expect(await c.raw("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH")).toBe("-ERR Error trying to load the RDB dump\r\n");
      // No file: the databases were emptied first, as in Redis.
      rmSync(join(dir, "dump.rdb"));
      expect(await c.raw("DEBUG", "RELOAD", "NOSAVE")).toBe("-ERR Error trying to load the RDB dump\r\n");
      expect(await c.raw("DBSIZE")).toBe(":0\r\n");
    } finally {
      c.close();
      await srv.stop();
    }
  });

  test("RELOAD answers a bare -ERR, as SAVE does, when the save fails, and keeps the data", async () => {
    const dir = mkdtempSync(join(tmpdir(), "redbun-reload-fail-"));
    const srv = await spawnServer(["--save", "", "--dir", dir, "--enable-debug-command", "yes"]);
    // Made after the start (a dump.rdb that cannot be read stops a start): the save's rename onto
    // a directory fails.
    mkdirSync(join(dir, "dump.rdb"));
    writeFileSync(join(dir, "dump.rdb", "x"), "x");
    const c = await RawClient.connect(srv.port);
    try {
      await c.raw("SET", "a", "1");
      expect(await c.raw("SAVE")).toBe("-ERR\r\n");
      expect(await c.raw("DEBUG", "RELOAD")).toBe("-ERR\r\n");
      expect(await c.raw("GET", "a")).toBe(bulk("1"));
    } finally {
      c.close();
      await srv.stop();
    }
  });

  test("POPULATE with a negative or non-numeric size is refused", async () => {
    const c = await connect();
    expect(await c.raw("DEBUG", "POPULATE", "2", "s", "-1")).toBe("-ERR value is out of range, must be positive\r\n");
    expect(await c.raw("DEBUG", "POPULATE", "2", "s", "x")).toBe("-ERR value is out of range, must be positive\r\n");
    expect(await c.raw("EXISTS", "s:0")).toBe(":0\r\n");
  });

  test("POPULATE with a bad count is refused", async () => {
    const c = await connect();
    expect(await c.raw("DEBUG", "POPULATE", "x")).toBe("-ERR value is out of range, must be positive\r\n");
    expect(await c.raw("DEBUG", "POPULATE", "-1")).toBe("-ERR value is out of range, must be positive\r\n");
  });

  test("OBJECT describes a key's value in Redis's format", async () => {
    const c = await connect();
    await c.raw("SET", "k", "hello");
    expect(await c.raw("DEBUG", "OBJECT", "k")).toMatch(/^\+Value at:0x[0-9a-f]+ refcount:1 encoding:embstr serializedlength:6 lru:\d+ lru_seconds_idle:\d+\r\n$/);
    expect(await c.raw("DEBUG", "OBJECT", "missing")).toBe("-ERR no such key\r\n");
  });

  test("an unknown subcommand is refused with Redis's text", async () => {
    const c = await connect();
    expect(await c.raw("DEBUG", "FOO")).toBe("-ERR unknown subcommand or wrong number of arguments for 'FOO'. Try DEBUG HELP.\r\n");
    expect(await c.raw("DEBUG")).toBe("-ERR wrong number of arguments for 'debug' command\r\n");
  });

  test("a server with the default enable-debug-command refuses DEBUG", async () => {
    const srv = await spawnServer(["--save", ""]);
    try {
      const c = await RawClient.connect(srv.port);
      const refused = "-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n";
      expect(await c.raw("DEBUG", "SLEEP", "0")).toBe(refused);
      expect(await c.raw("DEBUG", "FOO")).toBe(refused);
      c.close();
    } finally {
      await srv.stop();
    }
  });
});

describe("DEBUG PAUSE-CRON", () => {
  afterEach(async () => {
    const c = await connect();
    await c.raw("DEBUG", "PAUSE-CRON", "0"); // a paused cron would stop active expiry for every later test
    c.close();
  });

  /** A key in db 0 that is past its TTL by the server's clock: set with 500 ms, then the clock
   *  moves on by a second (a small step: the shared server's clock stays near real time for the
   *  files that run after this one). */
  async function expiredKey(c: RawClient, key: string): Promise<void> {
    expect(await c.raw("SET", key, "v", "PX", 500)).toBe(OK);
    advanceClock(1000);
  }

  /** Serves cron periods (hz 10, so 100 ms each) without touching the key space. */
  const cronPeriods = (n: number) => Bun.sleep(100 * n);

  test("answers +OK to 0 and 1, reading its argument as atoi does; anything but one argument is refused", async () => {
    const c = await connect();
    for (const v of ["1", "0", "5", "-1", "x", "0"]) expect(await c.raw("DEBUG", "PAUSE-CRON", v)).toBe(OK);
    const refused = "-ERR unknown subcommand or wrong number of arguments for 'PAUSE-CRON'. Try DEBUG HELP.\r\n";
    expect(await c.raw("DEBUG", "PAUSE-CRON")).toBe(refused);
    expect(await c.raw("DEBUG", "PAUSE-CRON", "1", "2")).toBe(refused);
    expect(await c.raw("DEBUG", "pause-cron")).toBe("-ERR unknown subcommand or wrong number of arguments for 'pause-cron'. Try DEBUG HELP.\r\n");
  });

  test.skipIf(noRedis)("its replies are redis-server's", async () => {
    const c = await connect(), r = await connectRedis();
    try {
      for (const args of [["1"], ["0"], ["x"], [], ["1", "2"], ["0"]]) {
        const [mine, theirs] = await onEach([c, r], "DEBUG", "PAUSE-CRON", ...args);
        expect([args, mine]).toEqual([args, theirs]);
      }
      expect(await onEach([c, r], "debug", "pause-cron")).toEqual(Array(2).fill("-ERR unknown subcommand or wrong number of arguments for 'pause-cron'. Try DEBUG HELP.\r\n"));
    } finally { r.close(); }
  });

  test("while the cron is paused an expired key is not actively expired (DBSIZE stays 1); once resumed it is", async () => {
    const c = await connect();
    await c.raw("DEBUG", "SET-ACTIVE-EXPIRE", "1");
    // First, with the cron running: the active cycle finds it.
    await expiredKey(c, "before");
    await waitFor("active expiry with the cron running", async () => (await c.raw("DBSIZE")) === ":0\r\n", 5000);
    expect(await c.raw("DEBUG", "PAUSE-CRON", "1")).toBe(OK);
    await expiredKey(c, "k");
    const expired = (await infoFields(c, "stats")).get("expired_keys");
    await cronPeriods(5);
    expect(await c.raw("DBSIZE")).toBe(":1\r\n"); // DBSIZE counts without expiring
    expect((await infoFields(c, "stats")).get("expired_keys")).toBe(expired);
    expect(await c.raw("DEBUG", "PAUSE-CRON", "0")).toBe(OK);
    await waitFor("active expiry once the cron runs again", async () => (await c.raw("DBSIZE")) === ":0\r\n", 5000);
    expect(Number((await infoFields(c, "stats")).get("expired_keys"))).toBe(Number(expired) + 1);
  });

  test("a paused cron does not stop lazy expiry nor the timeouts of blocked clients", async () => {
    const c = await connect(), b = await connect();
    expect(await c.raw("DEBUG", "PAUSE-CRON", "1")).toBe(OK);
    await expiredKey(c, "k");
    await expiredKey(c, "k2");
    expect(await c.raw("DBSIZE")).toBe(":2\r\n");
    expect(await c.raw("GET", "k")).toBe(NIL);
    expect(await c.raw("DBSIZE")).toBe(":1\r\n");
    // Blocked clients time out in beforeSleep, not in serverCron (as in Redis).
    const start = performance.now();
    expect(await b.raw("BLPOP", "q", "0.2")).toBe("*-1\r\n");
    expect(performance.now() - start).toBeGreaterThanOrEqual(150);
    b.close();
  });

  test.skipIf(noRedis)("redis-server behaves the same: DBSIZE 1 while paused, lazy expiry and BLPOP's timeout still work", async () => {
    // The reference run of the two tests above (real TTLs: redis-server's clock cannot be moved).
    const r = await connectRedis(), b = await connectRedis();
    try {
      expect(await r.raw("DEBUG", "PAUSE-CRON", "1")).toBe(OK);
      await r.raw("SET", "k", "v", "PX", 10);
      await r.raw("SET", "k2", "v", "PX", 10);
      await cronPeriods(5);
      expect(await r.raw("DBSIZE")).toBe(":2\r\n");
      expect(await r.raw("GET", "k")).toBe(NIL);
      expect(await r.raw("DBSIZE")).toBe(":1\r\n");
      expect(await b.raw("BLPOP", "q", "0.2")).toBe("*-1\r\n");
      expect(await r.raw("DEBUG", "PAUSE-CRON", "0")).toBe(OK);
      await waitFor("redis-server's active expiry", async () => (await r.raw("DBSIZE")) === ":0\r\n", 5000);
    } finally {
      await r.raw("DEBUG", "PAUSE-CRON", "0");
      r.close();
      b.close();
    }
  });

  // As in Redis, whose fast expire cycle before sleeping ends a CLIENT PAUSE on time.
  test("a CLIENT PAUSE still ends at its timeout while the cron is paused", async () => {
    const c = await connect(), b = await connect();
    try {
      expect(await c.raw("DEBUG", "PAUSE-CRON", "1")).toBe(OK);
      expect(await c.raw("CLIENT", "PAUSE", "300", "WRITE")).toBe(OK);
      const start = performance.now();
      expect(await b.raw("SET", "paused-write", "1")).toBe(OK);
      expect(performance.now() - start).toBeGreaterThanOrEqual(250);
    } finally {
      await c.raw("DEBUG", "PAUSE-CRON", "0");
      await c.raw("CLIENT", "UNPAUSE");
      b.close();
    }
  });
});

describe("LOLWUT", () => {
  test("in 7.0 it is the version line, a verbatim string in RESP3", async () => {
    const c = await connect();
    expect(await c.raw("LOLWUT")).toBe("$18\r\nRedis ver. 7.0.15\n\r\n");
    expect(await c.raw("LOLWUT", "VERSION", "7")).toBe("$18\r\nRedis ver. 7.0.15\n\r\n");
    await c.raw("HELLO", "3");
    expect(await c.raw("LOLWUT")).toBe("=22\r\ntxt:Redis ver. 7.0.15\n\r\n");
  });

  test("VERSION 5 draws Schotter in Braille: first rows in order, then more and more disorder", async () => {
    const c = await connect();
    const art = Buffer.from(String(await c.cmd("LOLWUT", "VERSION", "5", "20", "4", "6")), "latin1").toString("utf8").split("\n");
    expect(art.at(-1)).toBe("");
    expect(art.at(-2)).toBe("Georg Nees - schotter, plotter on paper, 1968. Redis ver. 7.0.15");
    const rows = art.slice(0, -3);
    // 20 columns of 2x4-dot characters.
    for (const r of rows) expect([...r].every((ch) => ch.codePointAt(0)! >= 0x2800 && ch.codePointAt(0)! <= 0x28ff)).toBe(true);
    expect(rows.every((r) => [...r].length === 20)).toBe(true);
    expect(await c.raw("LOLWUT", "VERSION", "5", "x")).toBe("-ERR value is not an integer or out of range\r\n");
  });

  test("VERSION 6 draws a skyline of rows x columns terminal cells", async () => {
    const c = await connect();
    const art = String(await c.cmd("LOLWUT", "VERSION", "6", "30", "8")).split("\n");
    expect(art.slice(-3)).toEqual(["Dedicated to the 8 bit game developers of past and present.", "Original 8 bit image from Plaguemon by hikikomori. Redis ver. 7.0.15", ""]);
    const rows = art.slice(0, -3);
    expect(rows.length).toBe(8);
    for (const r of rows) expect(r.match(/\x1b\[0;(30;40|90;100|37;47|97;107)m \x1b\[0m/g)!.length).toBe(30);
  });

  test.skipIf(noRedis)("answers as redis-server wherever chance plays no part (the default, errors, Schotter's first two rows)", async () => {
    const c = await connect(), r = await connectRedis();
    try {
      for (const args of [["LOLWUT"], ["LOLWUT", "VERSION", "7"], ["LOLWUT", "VERSION", "-1"], ["LOLWUT", "VERSION", "4.9"], ["LOLWUT", "VERSION", "5", "x"],
        ["LOLWUT", "VERSION", "5", "10", "1", "1"], ["LOLWUT", "VERSION", "5", "30", "3", "2"], ["LOLWUT", "VERSION", "5", "7", "5", "1"],
        ["LOLWUT", "VERSION", "5", "0", "0", "0"], ["LOLWUT", "VERSION", "5", "2000", "300", "2"], ["LOLWUT", "VERSION", "6", "x"],
        ["LOLWUT", "VERSION"], ["COMMAND", "INFO", "LOLWUT"]]) {
        const [mine, theirs] = await onEach([c, r], ...args);
        expect(mine).toBe(theirs);
      }
    } finally { r.close(); }
  });
});

describe("MODULE", () => {
  test("with enable-module-command yes, LOAD and LOADEX fail as a library that cannot be opened (said in the log), UNLOAD finds nothing", async () => {
    const srv = await spawnServer(["--save", "", "--enable-module-command", "yes"]);
    try {
      const c = await RawClient.connect(srv.port);
      const failed = "-ERR Error loading the extension. Please check the server logs.\r\n";
      expect(await c.raw("MODULE", "LOAD", "/tmp/some.so", "arg")).toBe(failed);
      expect(await c.raw("MODULE", "LOADEX", "/tmp/some.so", "CONFIG", "a", "b")).toBe(failed);
      expect(await c.raw("MODULE", "UNLOAD", "some")).toBe("-ERR Error unloading module: no such module with that name\r\n");
      expect(await c.raw("MODULE", "LIST")).toBe("*0\r\n");
      expect(srv.stdout()).toContain("Module /tmp/some.so failed to load");
      c.close();
    } finally {
      await srv.stop();
    }
  });

  test("without it, LOAD, LOADEX and UNLOAD are refused as redis-server refuses them; LIST answers", async () => {
    const c = await connect();
    const refused = "-ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n";
    for (const sub of [["LOAD", "/x.so"], ["LOADEX", "/x.so"], ["UNLOAD", "x"]]) expect(await c.raw("MODULE", ...sub)).toBe(refused);
    expect(await c.raw("MODULE", "LIST")).toBe("*0\r\n");
  });
});

describe("CLUSTER", () => {
  const DISABLED = "-ERR This instance has cluster support disabled\r\n";
  /** Redis 7.0.15's CLUSTER subcommands and their arities (negative: at least). */
  const SUBCOMMANDS: [string, number][] = [
    ["addslots", -3], ["addslotsrange", -4], ["bumpepoch", 2], ["count-failure-reports", 3], ["countkeysinslot", 3],
    ["delslots", -3], ["delslotsrange", -4], ["failover", -2], ["flushslots", 2], ["forget", 3], ["getkeysinslot", 4],
    ["help", 2], ["info", 2], ["keyslot", 3], ["links", 2], ["meet", -4], ["myid", 2], ["nodes", 2], ["replicas", 3],
    ["replicate", 3], ["reset", -2], ["saveconfig", 2], ["set-config-epoch", 3], ["setslot", -4], ["shards", 2],
    ["slaves", 3], ["slots", 2],
  ];
  /** CLUSTER <sub> with `argc` arguments in all (the command and subcommand included). */
  const call = (sub: string, argc: number) => ["CLUSTER", sub, ...Array.from({ length: argc - 2 }, (_, i) => String(i + 1))];
  const arityError = (sub: string) => `-ERR wrong number of arguments for 'cluster|${sub}' command\r\n`;

  /** Every call the tests make, with the reply a redis-server without cluster support gives. */
  function cases(): [string[], string][] {
    const out: [string[], string][] = [];
    for (const [sub, arity] of SUBCOMMANDS) {
      const n = Math.abs(arity);
      out.push([call(sub, n), DISABLED], [call(sub.toUpperCase(), n), DISABLED]);
      if (arity < 0) out.push([call(sub, n + 3), DISABLED]);
      else out.push([call(sub, n + 1), arityError(sub)]);
      if (n > 2) out.push([call(sub, n - 1), arityError(sub)]);
    }
    out.push(
      [["CLUSTER"], "-ERR wrong number of arguments for 'cluster' command\r\n"],
      [["CLUSTER", "nosuch"], "-ERR unknown subcommand 'nosuch'. Try CLUSTER HELP.\r\n"],
      [["cluster", "NoSuch", "x"], "-ERR unknown subcommand 'NoSuch'. Try CLUSTER HELP.\r\n"],
      [["cLuStEr", "InFo"], DISABLED],
      [["READONLY"], DISABLED], [["READWRITE"], DISABLED], [["ASKING"], DISABLED],
      [["READONLY", "x"], "-ERR wrong number of arguments for 'readonly' command\r\n"],
      [["READWRITE", "x"], "-ERR wrong number of arguments for 'readwrite' command\r\n"],
      [["ASKING", "x"], "-ERR wrong number of arguments for 'asking' command\r\n"],
      [["COMMAND", "GETKEYS", "CLUSTER", "INFO"], "-ERR The command has no key arguments\r\n"],
    );
    return out;
  }

  test("every subcommand, called with a valid number of arguments, answers that cluster support is disabled", async () => {
    const c = await connect();
    for (const [sub, arity] of SUBCOMMANDS) expect([sub, await c.raw(...call(sub, Math.abs(arity)))]).toEqual([sub, DISABLED]);
    expect(await c.raw("CLUSTER", "HELP")).toBe(DISABLED); // even HELP
  });

  test("arity and unknown-subcommand errors come before the disabled error; READONLY, READWRITE and ASKING answer as CLUSTER", async () => {
    const c = await connect();
    for (const [args, reply] of cases()) expect([args, await c.raw(...args)]).toEqual([args, reply]);
  });

  test.skipIf(noRedis)("answers every case as redis-server does, in RESP2 and RESP3", async () => {
    const c = await connect(), r = await connectRedis();
    try {
      for (const proto of ["2", "3"]) {
        await onEach([c, r], "HELLO", proto);
        for (const [args] of cases()) {
          const [mine, theirs] = await onEach([c, r], ...args);
          expect([args, mine]).toEqual([args, theirs]);
        }
      }
    } finally { r.close(); }
  });

  test("COMMAND INFO shows arity, flags and categories as Redis does", async () => {
    const c = await connect();
    expect(await c.raw("COMMAND", "INFO", "cluster|reset", "readonly", "asking", "cluster|setslot")).toBe(
      "*4\r\n" +
      "*10\r\n$13\r\ncluster|reset\r\n:-2\r\n*3\r\n+admin\r\n+noscript\r\n+stale\r\n:0\r\n:0\r\n:0\r\n*3\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n*0\r\n*0\r\n*0\r\n" +
      "*10\r\n$8\r\nreadonly\r\n:1\r\n*3\r\n+loading\r\n+stale\r\n+fast\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@fast\r\n+@connection\r\n*0\r\n*0\r\n*0\r\n" +
      "*10\r\n$6\r\nasking\r\n:1\r\n*1\r\n+fast\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@fast\r\n+@connection\r\n*0\r\n*0\r\n*0\r\n" +
      "*10\r\n$15\r\ncluster|setslot\r\n:-4\r\n*3\r\n+admin\r\n+stale\r\n+no_async_loading\r\n:0\r\n:0\r\n:0\r\n*3\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n*0\r\n*0\r\n*0\r\n");
  });

  // The subcommands redis-server gives the command tip nondeterministic_output (Redbun gives no
  // command any tips: COMMAND INFO's tips field is always empty, see the test.todo below).
  const WITH_TIPS = ["bumpepoch", "count-failure-reports", "getkeysinslot", "info", "links", "nodes", "replicas", "shards", "slaves", "slots"];

  test.skipIf(noRedis)("COMMAND INFO of each subcommand without tips, and of READONLY, READWRITE, ASKING, is redis-server's", async () => {
    const c = await connect(), r = await connectRedis();
    try {
      const names = [...SUBCOMMANDS.map(([s]) => `cluster|${s}`).filter((n) => !WITH_TIPS.includes(n.slice(8))), "readonly", "readwrite", "asking", "CLUSTER|RESET"];
      for (const name of names) {
        const [mine, theirs] = await onEach([c, r], "COMMAND", "INFO", name);
        expect([name, mine]).toEqual([name, theirs]);
      }
      // The container and its subcommands, in any order (Redis lists them in hash order).
      const list = async (x: RawClient) => ((await x.cmd("COMMAND", "LIST", "FILTERBY", "PATTERN", "cluster*")) as string[]).sort();
      expect(await list(c)).toEqual(await list(r));
      expect((await list(c)).length).toBe(28);
    } finally { r.close(); }
  });

  // Differs from redis-server 7.0.15: `COMMAND INFO cluster|info` ends `*1\r\n$23\r\nnondeterministic_output\r\n*0\r\n*0\r\n`
  // there (the tips, then key specs and subcommands) and `*0\r\n*0\r\n*0\r\n` in Redbun; the same
  // for every subcommand in WITH_TIPS, and for other commands' tips (KEYS, RANDOMKEY, CLIENT LIST...).
  test.todo("DIFFERS FROM REDIS: COMMAND INFO lists the tips (nondeterministic_output) of CLUSTER INFO, NODES, SLOTS, SHARDS, LINKS, ...");

  test("a script may not call CLUSTER RESET (noscript), but may call the others, which answer disabled", async () => {
    const c = await connect();
    const noscript = "-ERR This Redis command is not allowed from script\r\n";
    expect(await c.raw("EVAL", "return redis.pcall('cluster','reset')", 0)).toBe(noscript);
    expect(await c.raw("EVAL", "return redis.pcall('cluster','reset','hard')", 0)).toBe(noscript);
    expect(await c.raw("EVAL", "return redis.pcall('cluster','info')", 0)).toBe(DISABLED);
    expect(await c.raw("EVAL", "return redis.pcall('readonly')", 0)).toBe(DISABLED);
    // Arity and unknown subcommands, as a script is told them.
    expect(await c.raw("EVAL", "return redis.pcall('cluster')", 0)).toBe("-ERR Wrong number of args calling Redis command from script\r\n");
    expect(await c.raw("EVAL", "return redis.pcall('cluster','info','x')", 0)).toBe("-ERR Wrong number of args calling Redis command from script\r\n");
    expect(await c.raw("EVAL", "return redis.pcall('cluster','nosuch')", 0)).toBe("-ERR Unknown Redis command called from script\r\n");
    const script = "return redis.call('cluster','reset')";
    const sha = new Bun.CryptoHasher("sha1").update(script).digest("hex");
    expect(await c.raw("EVAL", script, 0)).toBe(`-ERR This Redis command is not allowed from script script: ${sha}, on @user_script:1.\r\n`);
  });

  test.skipIf(noRedis)("scripts and functions are answered as redis-server answers them", async () => {
    const c = await connect(), r = await connectRedis();
    try {
      const steps: (string | number)[][] = [
        ...["'cluster','reset'", "'cluster','reset','a','b','c'", "'cluster','info'", "'cluster','keyslot','x'", "'cluster'", "'cluster','nosuch'", "'asking'", "'readwrite'"]
          .flatMap((a) => [["EVAL", `return redis.pcall(${a})`, 0], ["EVAL", `return redis.call(${a})`, 0]]),
        ["FUNCTION", "LOAD", "#!lua name=cl\nredis.register_function('f', function() return redis.pcall('cluster','reset') end)\n" +
          "redis.register_function{function_name='g', callback=function() return redis.pcall('cluster','info') end, flags={'no-writes'}}"],
        ["FCALL", "f", 0], ["FCALL_RO", "g", 0], ["FUNCTION", "DELETE", "cl"],
      ];
      for (const args of steps) {
        const [mine, theirs] = await onEach([c, r], ...args);
        expect([args, mine]).toEqual([args, theirs]);
      }
    } finally { r.close(); }
  });

  test("in MULTI the subcommands are queued and fail at EXEC; an arity or unknown-subcommand error discards the transaction", async () => {
    const c = await connect();
    expect(await pipeline(c, [["MULTI"], ["CLUSTER", "INFO"], ["CLUSTER", "RESET"], ["READONLY"], ["EXEC"]])).toEqual([
      OK, "+QUEUED\r\n", "+QUEUED\r\n", "+QUEUED\r\n", `*3\r\n${DISABLED}${DISABLED}${DISABLED}`]);
    expect(await pipeline(c, [["MULTI"], ["CLUSTER", "NOSUCH"], ["CLUSTER", "INFO", "x"], ["EXEC"]])).toEqual([
      OK, "-ERR unknown subcommand 'NOSUCH'. Try CLUSTER HELP.\r\n", arityError("info"),
      "-EXECABORT Transaction discarded because of previous errors.\r\n"]);
  });

  test("a disabled answer counts as a failed call, an arity error as a rejected one, both as ERR errors", async () => {
    const c = await connect();
    await c.raw("CONFIG", "RESETSTAT");
    await c.raw("CLUSTER", "INFO");
    await c.raw("CLUSTER", "INFO", "x");
    await c.raw("CLUSTER", "NOSUCH");
    await c.raw("READONLY");
    const stats = String(await c.cmd("INFO", "commandstats")).split("\r\n");
    expect(stats.find((l) => l.startsWith("cmdstat_cluster|info:"))).toMatch(/^cmdstat_cluster\|info:calls=1,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=1,failed_calls=1$/);
    expect(stats.find((l) => l.startsWith("cmdstat_readonly:"))).toMatch(/^cmdstat_readonly:calls=1,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=1$/);
    expect(stats.some((l) => l.startsWith("cmdstat_cluster:"))).toBe(false);
    expect(await c.raw("INFO", "errorstats")).toBe(bulk("# Errorstats\r\nerrorstat_ERR:count=4\r\n"));
    expect(await c.raw("INFO", "cluster")).toBe(bulk("# Cluster\r\ncluster_enabled:0\r\n"));
  });
});

describe("SHUTDOWN", () => {
  let srv: SpawnedServer;
  beforeAll(async () => { srv = await spawnServer(["--save", ""]); });
  afterAll(async () => { if (srv.proc.exitCode === null) await srv.stop(); });

  test("an unknown option is a syntax error and the server keeps running", async () => {
    const c = await RawClient.connect(srv.port);
    expect(await c.raw("SHUTDOWN", "FOO")).toBe("-ERR syntax error\r\n");
    expect(await c.raw("PING")).toBe("+PONG\r\n");
    c.close();
  });

  test("conflicting options (NOSAVE with SAVE, ABORT with anything) are a syntax error", async () => {
    // Its own server: a server that wrongly obeys must not take the other tests' server down.
    const own = await spawnServer(["--save", ""]);
    try {
      const c = await RawClient.connect(own.port);
      expect(await c.raw("SHUTDOWN", "NOSAVE", "SAVE").catch(() => "closed")).toBe("-ERR syntax error\r\n");
      expect(await c.raw("SHUTDOWN", "NOSAVE", "ABORT").catch(() => "closed")).toBe("-ERR syntax error\r\n");
      expect(await c.raw("PING").catch(() => "closed")).toBe("+PONG\r\n");
      c.close();
    } finally {
      if (own.proc.exitCode === null) await own.stop();
    }
  });

  test("ABORT without a shutdown in progress is an error", async () => {
    const c = await RawClient.connect(srv.port);
    expect(await c.raw("SHUTDOWN", "ABORT")).toBe("-ERR No shutdown in progress.\r\n");
    c.close();
  });

  test("closes every connection without a reply and the process exits with 0", async () => {
    const c = await RawClient.connect(srv.port);
    const other = await RawClient.connect(srv.port);
    c.send("SHUTDOWN");
    expect(await c.waitClosed()).toBe("");
    expect(await other.waitClosed()).toBe("");
    expect(await srv.proc.exited).toBe(0);
    expect(srv.stdout()).toContain("ready to exit, bye bye");
  });
});

describe("FUNCTION FLUSH", () => {
  test("answers +OK, with or without SYNC/ASYNC", async () => {
    const c = await connect();
    expect(await c.raw("FUNCTION", "FLUSH")).toBe(OK);
    expect(await c.raw("FUNCTION", "FLUSH", "ASYNC")).toBe(OK);
    expect(await c.raw("FUNCTION", "FLUSH", "sync")).toBe(OK);
  });

  test("any other option is refused", async () => {
    const c = await connect();
    expect(await c.raw("FUNCTION", "FLUSH", "x")).toBe("-ERR FUNCTION FLUSH only supports SYNC|ASYNC option\r\n");
    expect(await c.raw("FUNCTION", "FLUSH", "SYNC", "x")).toBe("-ERR unknown subcommand or wrong number of arguments for 'FLUSH'. Try FUNCTION HELP.\r\n");
    // The subcommand is named as typed, the command upper-cased (checked against redis-server 7.0.15).
    expect(await c.raw("function", "flush", "sync", "x")).toBe("-ERR unknown subcommand or wrong number of arguments for 'flush'. Try FUNCTION HELP.\r\n");
  });
});

describe("timeout", () => {
  test("a client idle for longer than timeout seconds is closed; subscribers, monitors and blocked clients are not", async () => {
    const srv = await spawnServer(["--timeout", "1", "--save", ""]);
    try {
      const idle = await RawClient.connect(srv.port), sub = await RawClient.connect(srv.port);
      const monitor = await RawClient.connect(srv.port), blocked = await RawClient.connect(srv.port);
      expect(await idle.raw("PING")).toBe("+PONG\r\n");
      expect(await sub.raw("SUBSCRIBE", "ch")).toBe("*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
      expect(await monitor.raw("MONITOR")).toBe("+OK\r\n");
      blocked.send("BLPOP", "q", 0);
      await idle.waitClosed(4000); // throws if still open
      await Bun.sleep(300);
      expect([sub.closed, monitor.closed, blocked.closed]).toEqual([false, false, false]);
      const admin = await RawClient.connect(srv.port);
      expect(await admin.raw("RPUSH", "q", "x")).toBe(":1\r\n");
      admin.close();
      expect(await blocked.readRaw()).toBe("*2\r\n$1\r\nq\r\n$1\r\nx\r\n");
      for (const c of [sub, monitor, blocked]) c.close();
    } finally { await srv.stop(); }
  });
});

describe("tcp-keepalive", () => {
  const SS = Bun.which("ss");
  test.skipIf(!SS)("client sockets get SO_KEEPALIVE with the configured idle time, as ss shows", async () => {
    const srv = await spawnServer(["--tcp-keepalive", "60", "--save", ""]);
    try {
      const c = await RawClient.connect(srv.port);
      const myPort = /addr=127\.0\.0\.1:(\d+)/.exec(String(await c.cmd("CLIENT", "INFO")))![1];
      const out = Bun.spawnSync([SS!, "-tno", "state", "established", `( sport = :${srv.port} and dport = :${myPort} )`]).stdout.toString();
      expect(out).toMatch(/timer:\(keepalive,(59|1min)/);
      c.close();
    } finally { await srv.stop(); }
  });
});
