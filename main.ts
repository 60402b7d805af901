/*
 * Redbun — a Redis-compatible server in one TypeScript file, running on Bun.
 *
 * It speaks RESP2 and RESP3 to real clients (redis-cli, ioredis, node-redis, Bun's RedisClient,
 * redis-py) and answers as Redis 7.0.15 does, reply for reply and error for error. Run it as
 *
 *     bun run main.ts [/path/to/redis.conf] [--port 6380] [--save ''] [--appendonly no] ...
 *
 * Flags and config files follow redis-server. Everything runs on one thread: a command runs to the
 * end before the next starts, as in Redis, so no data structure needs a lock.
 *
 * What it deliberately does not do (yet): cluster and TLS. CLUSTER, READONLY, READWRITE and ASKING
 * answer as a server without cluster support.
 *
 * The file is a book in three parts. Part I, the request path, is read in one sitting; each
 * chapter of Part II can be read alone; Part III holds what the chapters are built on. Every
 * part and chapter opens with a banner; this map names them all, in order (a test keeps it true):
 *
 *   Part I. The request path
 *     Global state — the server, its counters, the hot configuration, AOF and replication state
 *     Utilities — integers and doubles, glob matching, argument splitting, the clock, the log
 *     Configuration — the parameter registry, config files and flags, CONFIG
 *     RESP — the resumable request parser, the reply writer (addReply*), error strings
 *     Clients — per-connection state, output buffers and their limits, client eviction
 *     Dispatch — the command table, processCommand's gates in order, call, propagation
 *     Keyspace — lookups, lazy and active expiry, eviction, notifications, SCAN's walk
 *     Blocking — clients parked on keys, served in order when a key becomes ready
 *     Transactions — MULTI/EXEC/DISCARD, WATCH as optimistic locking
 *     Pub/Sub — channels, patterns, shard channels
 *     Event loop — Bun.listen, serverCron, startServer
 *   Part II. Chapters
 *     Strings — SET ... LCS, bitmaps (SETBIT ... BITFIELD); JS strings, and RBytes for strings written in place
 *     Lists — a ring-buffer deque; LPUSH ... LMPOP and the blocking forms
 *     Hashes — HSET ... HSCAN, and the random picks of HRANDFIELD/SRANDMEMBER/ZRANDMEMBER
 *     Sets — SADD ... SSCAN
 *     Sorted sets — ZADD ... ZSCAN, BZPOPMIN/BZMPOP
 *     Geo — positions as geohash scores in sorted sets; GEOADD ... GEOHASH, GEOSEARCH and GEORADIUS
 *     HyperLogLog — PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST on strings holding Redis's sketches
 *     Streams — entries in nodes, consumer groups with pending lists; XADD ... XINFO
 *     Keys — DEL, RENAME, COPY, EXPIRE, TTL, SCAN, SELECT, FLUSHALL, SORT ...
 *     Server — PING, HELLO, CLIENT, COMMAND, MONITOR, SLOWLOG, LATENCY, MEMORY, OBJECT, DEBUG, INFO ...
 *     Client-side caching — CLIENT TRACKING and CACHING: the tracking table, BCAST prefixes, invalidations
 *     ACL — users, selectors, permission checks, AUTH, the ACL log and file
 *     RDB — Redis's snapshot format, SAVE/BGSAVE without stalling, DUMP/RESTORE, MIGRATE
 *     AOF — Redis 7's multi-part append-only file, fsync policies, rewrite
 *     Replication — PSYNC master and replica, backlog, WAIT, ROLE, REPLICAOF
 *     Scripting — EVAL, SCRIPT, FUNCTION and FCALL on a real Lua 5.1 (WebAssembly): the sandbox, redis.call, replies
 *   Part III. Containers and algorithms
 *     Hash tables — Dict, the Arena that keeps short keys and values as bytes, and Db
 *     Skiplist — Redis's skiplist with spans, nodes in one buffer block each
 *     Listpack sizes — the bytes Redis's listpacks take, for stream nodes
 *     HyperLogLog sketches — Redis's HLL bytes: dense and sparse registers, MurmurHash64A, the estimator
 *     Bit counting — BITCOUNT's popcount, i64.popcnt in a 98-byte WebAssembly module
 *     Long double — 80-bit arithmetic for INCRBYFLOAT
 *     Partial quicksort — Redis's pqsort, whose order of ties SORT ... LIMIT and GEOSEARCH ... COUNT show
 *     CRC64 and LZF — the RDB format's checksum and compression
 *     main — the command-line entry point
 *
 * Where a change goes:
 *   - a new command: its handler in its chapter, with a syntax line above it, and its row in the
 *     chapter's table of rows (XXX_COMMANDS, at the chapter's end);
 *   - a new data type or topic: a new chapter in Part II, in the same form (API, commands, RDB/AOF
 *     forms, serve hook for blocking commands, table rows), its name in this map and its table
 *     in buildCommandTable (Dispatch);
 *   - a new config parameter: a line of CONFIG_TABLE (Configuration), and a case in
 *     applyConfigChanges if changing it at run time must do something;
 *   - a new gate every command passes: processCommand (Dispatch), in Redis's order;
 *   - a faster container: behind its interface in Part III, with the numbers in bench/results.md.
 */

import type { Socket, Subprocess, TCPSocketListener, TCPSocketListenOptions, UnixSocketListener } from "bun";
import { cpuUsage, memoryUsage } from "node:process";
import { appendFileSync, chmodSync, closeSync, constants as fsConstants, fstatSync, fsync, fsyncSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { dirname, resolve as resolvePath } from "node:path";
import { constants as osConstants, tmpdir, totalmem } from "node:os";
import { getSystemErrorMessage } from "node:util";

declare global {
  // Node's latin1 fast paths, which Bun implements: one byte per char, no UTF-8 decoding.
  interface Buffer {
    latin1Slice(start?: number, end?: number): string;
    latin1Write(s: string, offset?: number, length?: number): number;
  }
}

// ############################################################################################
// Part I. The request path
//
// Read in one sitting: a request from the socket to the reply. The state every part shares, the
// configuration, the RESP parser and writer, clients and their buffers, the command table and the
// gates of processCommand, the keyspace API every command uses, blocking, transactions, pub/sub,
// and the event loop that drives it all.
// ############################################################################################

// ============================================================================================
// Global state
//
// What the whole server shares, declared before anything uses it: the version we answer as, the
// live configuration (`conf`, and `hot`, the parameters every command reads, as plain fields),
// the counters INFO reports (`stats`), the server itself (`server`: databases, clients, save
// state), and the state of the AOF (`aof`) and of replication (`repl`), whose chapters explain them.
// ============================================================================================

const REDIS_VERSION = "7.0.15"; // the Redis whose behaviour we match; clients gate features on it
const REDIS_VERSION_NUM = 0x07000f; // the same as a number, 0xMMmmpp (redis.REDIS_VERSION_NUM)
const REDBUN_VERSION = "0.1.0";
/** This copy of the file runs a server that startServer started, in a thread of its own (see
 *  startServer): it shares the process, so it neither changes the working directory nor exits it. */
const embedded = !Bun.isMainThread && threads().workerData?.redbun !== undefined;
/** node:worker_threads, loaded only where it is used (startServer, and a server's own thread):
 *  the command-line server starts without it (its import costs ~7 ms of start-up). */
function threads(): typeof import("node:worker_threads") { return require("node:worker_threads"); }

/** The live configuration, by canonical name: numbers for int/mem, booleans for bool, else strings. */
const conf: Record<string, ConfigValue> = {};

/** The parameters every command reads, copied out of `conf` (a dictionary with ~200 keys) into
 *  plain fields whenever the configuration changes (see applyConfigChanges). */
const hot = {
  latencyTracking: true, slowlogSlowerThan: 10000, latencyMonitorThreshold: 0, maxmemory: 0,
  protoMaxBulkLen: 512 * 1024 * 1024, stopWritesOnBgsaveError: true, hasSavePoints: true, queryBufferLimit: 1024 * 1024 * 1024,
  lfu: false, // maxmemory-policy is one of the LFU ones: keys keep access counters, not clocks
  minReplicasToWrite: 0, minReplicasMaxLag: 10,
  // The encoding limits that every write to a small collection checks.
  hashMaxListpackEntries: 128, hashMaxListpackValue: 64, setMaxIntsetEntries: 512, zsetMaxListpackEntries: 128, zsetMaxListpackValue: 64,
  streamNodeMaxEntries: 100, streamNodeMaxBytes: 4096, hllSparseMaxBytes: 3000,
};
const EMPTY = Buffer.alloc(0);
interface AofFileInfo { name: string; seq: number; type: "b" | "h" | "i" }

const aof = {
  on: false,
  fd: -1, // the incremental file being appended to
  buf: [] as string[], // RESP not yet written
  bufLen: 0,
  selectedDb: -1,
  base: null as AofFileInfo | null,
  incrs: [] as AofFileInfo[],
  lastFsync: 0,
  fsyncInFlight: false,
  currentSize: 0,
  baseSize: 0,
  loading: false,
  rewriting: false,
  waitRewrite: false, // appendonly was just turned on: the AOF is not whole until its first rewrite ends (Redis's AOF_WAIT_REWRITE)
  killRewrite: null as (() => void) | null, // stops the rewrite in progress and removes its temp file
  rewriteStart: 0,
  lastRewriteOk: true,
  lastRewriteSecs: -1,
  rewrites: 0,
  lastWriteOk: true,
  writeErr: "", // why the last write or background fsync failed (strerror); "" once one succeeds
  lastWriteErrorLog: 0,
  unwritten: EMPTY, // bytes a failed write left behind: written first on the next try
  incrSize: 0, // bytes in the open incremental file: where a short write is cut back to
  rewriteFailures: 0, // consecutive failed rewrites
  retryLimit: { delayMin: 0, at: 0 }, // the cron's rewrites back off after repeated failures
  scheduled: false,
  timestamp: 0, // the second of the last #TS: annotation written (aof-timestamp-enabled)
  flushSleepUs: 0, // DEBUG AOF-FLUSH-SLEEP: a pause before each write, for the suite's fsync-barrier test
};
const repl = {
  replid: "",
  replid2: "0".repeat(40),
  offset: 0, // master_repl_offset
  secondOffset: -1,
  backlog: null as Buffer | null,
  backlogIdx: 0, // where the next byte goes in the ring
  backlogHistlen: 0,
  seldb: -1, // the db the stream last SELECTed
  replicas: new Set<Client>(),
  snapshot: null as { replicas: Set<Client>; pending: Buffer[]; pendingBytes: number; offset: number; socket: boolean } | null,
  lastNewline: 0, // when the replicas waiting for a snapshot last got their keepalive newline
  lastPing: 0, // the second (since start-up) of replicationCron's last run (Redis's first runs as the server starts)
  // Replica side.
  masterHost: "",
  masterPort: 0,
  state: "none" as "none" | "connect" | "connecting" | "handshake" | "sync" | "connected",
  master: null as Client | null, // the link's client once the stream flows
  link: null as Socket<MasterLink> | null,
  lastIo: 0,
  downSince: 0,
  lastAck: 0,
  retryTimer: null as ReturnType<typeof setTimeout> | null,
  retryDelay: 100,
  connectSeq: 0, // which connection attempt is current: a late answer to an abandoned one is dropped
  cachedReplid: "", // the history we can continue with PSYNC after the link dropped
  cachedMasterDb: 0, // the database the master's stream had selected then (Redis's cached master keeps it)
  getAckPending: false, // a WAIT wants fresh acks: send REPLCONF GETACK before sleeping
};

/** Per-connection state of the replica's link to its master, during handshake and transfer. */
interface MasterLink {
  buf: Buffer;
  expect: string;
  rdbLen: number;
  eofMark: Buffer | null; // diskless: the payload ends at these 40 bytes
  eofTail: Buffer; // the last bytes received, where a mark split across reads begins
  rdbChunks: Buffer[];
  rdbGot: number;
  fullSync: { replid: string; offset: number } | null;
}
// Scripting: the Lua VM (started on first use), the script cache, and the run in progress; the
// Scripting chapter explains them.
const scripting = {
  lua: null as Lua | null,
  starting: null as Promise<void> | null,
  waiting: new Set<Client>(), // clients whose command waits for the VM's first start
  scripts: new Map<string, LuaScript>(), // by SHA1, lower case
  scriptsMemory: 0,
  run: null as ScriptRun | null,
  client: null as Client | null, // the fake client redis.call runs commands as
  realGlobals: 0, // registry references: the globals behind the read-only proxy, and the sandbox's
  threadError: 0, // function that turns a failed script's error into Redis's error table
  proxyTargets: 0, // and its table from each read-only proxy to the real table behind it
  hookYield: false, // the time-limit hook (or the sandbox passing it on) made the last yield
  suspended: null as SuspendedScript | null, // a script past busy-reply-threshold, between two slices
  gcCount: 0, // a GC step every 50 runs, as Redis
  idleThread: 0, // a thread (and its registry reference) whose script returned, for the next one
  idleThreadRef: 0,
  cjsonSettings: 0, // where the scripts' cjson keeps its settings (SCRIPT FLUSH resets them)
};
/** Function libraries (FUNCTION LOAD, FCALL; see Scripting). */
const functions = {
  libraries: new Map<string, FunctionLibrary>(), // by name, case-sensitive
  byName: new Map<string, LuaFunction>(), // every library's functions, by lower-cased name: FCALL ignores case
  pending: new Map<string, string>(), // libraries read from disk before the VM started: name to code
  loading: null as FunctionLibrary | null, // the library whose code FUNCTION LOAD is running
  loadDeadline: Infinity, // when that run times out
  env: 0, // registry references: the functions' globals, and the sandbox's switch of what they see
  setLoading: 0,
};
const stats = {
  connections: 0, rejectedConnections: 0, commands: 0, errorReplies: 0, netInput: 0, netOutput: 0, reads: 0, writes: 0,
  keyspaceHits: 0, keyspaceMisses: 0, expiredKeys: 0, expiredStalePerc: 0, expiredTimeCapReached: 0, expireCycleMs: 0,
  opsPerSec: 0, inputKbps: 0, outputKbps: 0, evictedKeys: 0, evictedClients: 0, unexpectedErrorReplies: 0, replyBufferShrinks: 0, replyBufferExpands: 0, syncFull: 0, syncPartialOk: 0, syncPartialErr: 0,
};
const errorStats = new Map<string, number>();

const server = {
  dbs: [] as Db[],
  clients: new Map<number, Client>(),
  monitors: new Set<Client>(),
  pausedClients: new Set<Client>(),
  blockingKeysCount: 0, // (client, key) pairs parked in the databases' blocking maps
  notifyFlags: 0, // notify-keyspace-events, parsed
  // RDB state, as INFO persistence reports it.
  loading: false,
  rdbChildRunning: false, // a BGSAVE is in progress (Redis's rdb_child_pid != -1)
  rdbSaveStart: 0,
  lastBgsaveOk: true,
  lastBgsaveTry: 0,
  bgsaveScheduled: false,
  rdbSaves: 0,
  rdbLastSaveSeconds: -1,
  rdbLoadedKeys: 0,
  rdbLoadedExpired: 0,
  nextClientId: 0,
  dirty: 0,
  port: 0,
  logToStdout: true, // log lines go to stdout when there is no logfile (a server startServer started keeps quiet unless asked)
  runId: "",
  startTime: wallClock(),
  lastSave: Math.floor(wallClock() / 1000),
  configFile: "",
  pauseEnd: 0,
  pauseType: "all" as "all" | "write",
  activeExpireEnabled: true,
  cronPaused: false, // DEBUG PAUSE-CRON 1: serverCron does nothing
  replyBufferResizing: true, // DEBUG REPLYBUFFER RESIZING 0: idle output buffers keep their size
  replyBufferPeakResetMs: 5000, // DEBUG REPLYBUFFER PEAK-RESET-TIME (-1: never)
  skipChecksumValidation: false, // DEBUG SET-SKIP-CHECKSUM-VALIDATION 1: RDB files and RESTORE payloads are not checked
  killRdbSave: null as (() => void) | null, // stops the BGSAVE in progress (see rdbSave)
  failoverPause: false, // FAILOVER holds writes until it ends (see Replication)
  shutdownPause: false, // a shutdown waiting for replicas holds writes (see SHUTDOWN)
  slowlog: [] as SlowlogEntry[],
  slowlogNextId: 0,
  latency: new Map<string, { samples: { time: number; ms: number }[]; max: number }>(),
  peakMemory: 0,
  listeners: [] as TCPSocketListener<Client>[],
  unixListener: null as UnixSocketListener<Client> | null, // unixsocket, when set
  running: false, // between initServer and close
  cronTimer: null as ReturnType<typeof setInterval> | null,
  shutdown: null as (() => Promise<void>) | null,
  opsSample: { time: wallClock(), commands: 0, input: 0, output: 0 },
};

// ============================================================================================
// Utilities
//
// Keys and values are latin1 strings: one char per byte, so any byte sequence round-trips and
// `s.length` is the length in bytes. Integers follow C's long long (64 bits) as Redis's
// string2ll does; JS numbers are exact up to 2^53, so larger values go through BigInt. Also here:
// glob matching, argument splitting and quoting, the clock commands read, and the log.
// ============================================================================================

const LLONG_MAX = 9223372036854775807n;
const LLONG_MIN = -9223372036854775808n;

/** Parses a string exactly as Redis's string2ll: no spaces, no '+', no leading zeros, 64-bit. */
function string2ll(s: string): number | null {
  const n = s.length;
  if (n === 0 || n >= 21) return null;
  let i = 0;
  if (s.charCodeAt(0) === 45) { i = 1; if (n === 1) return null; }
  const first = s.charCodeAt(i);
  if (first < 49 || first > 57) return n === 1 && first === 48 ? 0 : null;
  let v = 0;
  for (; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return null;
    v = v * 10 + d;
  }
  if (v > 9007199254740991) {
    // Beyond 2^53 the float is inexact: check the 64-bit range exactly.
    const b = BigInt(s);
    if (b > LLONG_MAX || b < LLONG_MIN) return null;
    return Number(s); // correctly rounded, unlike the digit loop above
  }
  return s.charCodeAt(0) === 45 ? -v : v;
}

/** Exact 64-bit value of a string already accepted by string2ll. */
function string2bigint(s: string): bigint { return BigInt(s); }

/** Parses a C double as Redis's string2d/strtod does: no spaces, no NaN, whole string. */
function string2d(s: string): number | null {
  const int = string2ll(s); // the common case, a plain integer: strtod gives the nearest double
  if (int !== null) return int;
  if (s.length === 0 || s.length > 5 * 1024) return null;
  const c0 = s.charCodeAt(0);
  if (c0 === 32 || (c0 >= 9 && c0 <= 13)) return null;
  const last = s.charCodeAt(s.length - 1);
  if (last === 32 || (last >= 9 && last <= 13)) return null;
  if (/^[+-]?(inf|infinity)$/i.test(s)) return s[0] === "-" ? -Infinity : Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) {
    if (/^[+-]?0x/i.test(s)) return parseHexFloat(s);
    return null;
  }
  const d = Number(s);
  // strtod's ERANGE: Redis refuses overflow to infinity and underflow of a nonzero value to 0.
  if (!Number.isFinite(d)) return null;
  if (d === 0 && /[1-9]/.test(s.replace(/e.*$/i, ""))) return null;
  return d;
}

/** strtod's hexadecimal floats ("0x1p3"), which Redis accepts wherever it accepts a double. */
function parseHexFloat(s: string): number | null {
  const m = /^([+-]?)0x([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?\d+))?$/i.exec(s);
  if (!m || (m[2] === "" && !m[3])) return null;
  const digits = m[2] + (m[3] ?? "");
  let v = 0;
  for (const ch of digits) v = v * 16 + parseInt(ch, 16);
  v *= Math.pow(2, Number(m[4] ?? 0) - 4 * (m[3]?.length ?? 0));
  return m[1] === "-" ? -v : v;
}

/** Formats a double as Redis 7.0's addReplyDouble: "%.17g", with inf/-inf spelled out. */
function formatDouble(d: number): string {
  if (d === Infinity) return "inf";
  if (d === -Infinity) return "-inf";
  if (Number.isInteger(d) && Math.abs(d) < 1e17) return d === 0 && 1 / d < 0 ? "-0" : String(d);
  return formatG17(d);
}

/** C's "%.17g": 17 significant digits, fixed or exponent form by the exponent, zeros trimmed. */
function formatG17(d: number): string {
  if (d === 0) return 1 / d < 0 ? "-0" : "0";
  if (!Number.isFinite(d)) return Number.isNaN(d) ? "nan" : d > 0 ? "inf" : "-inf";
  if (Number.isInteger(d) && Math.abs(d) < 1e17) return String(d); // all its digits, no exponent
  const [mant, e] = d.toExponential(16).split("e");
  const x = Number(e);
  const trim = (s: string) => (s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s);
  if (x < -4 || x >= 17) return `${trim(mant)}e${x < 0 ? "-" : "+"}${String(Math.abs(x)).padStart(2, "0")}`;
  return trim(d.toFixed(16 - x));
}

/** Redis's stringmatchlen: glob-style matching with `*`, `?`, `[...]`, `[^...]` and `\` escapes. */
function stringmatch(pattern: string, str: string, nocase = false): boolean {
  return matchImpl(pattern, 0, str, 0, nocase, { skipLonger: false }, 0);
}

/** A faithful port of stringmatchlen_impl, including its signed-char ranges and its early exit. */
function matchImpl(p: string, pi: number, s: string, si: number, nocase: boolean, st: { skipLonger: boolean }, nesting: number): boolean {
  // Redis bounds the recursion so that abusive patterns cannot take exponential time.
  if (nesting > 1000) return false;
  const plen = p.length, slen = s.length;
  const same = (a: number, b: number) => a === b || (nocase && lower(a) === lower(b));
  while (pi < plen && si < slen) {
    const c = p.charCodeAt(pi);
    if (c === 42 /* * */) {
      while (pi + 1 < plen && p.charCodeAt(pi + 1) === 42) pi++;
      if (pi + 1 === plen) return true;
      for (; si < slen; si++) {
        if (matchImpl(p, pi + 1, s, si, nocase, st, nesting + 1)) return true;
        if (st.skipLonger) return false;
      }
      // Nothing after this star matches anywhere in the rest: longer matches of earlier stars can't either.
      st.skipLonger = true;
      return false;
    } else if (c === 63 /* ? */) {
      si++;
    } else if (c === 91 /* [ */) {
      pi++;
      const not = p.charCodeAt(pi) === 94;
      if (not) pi++;
      let match = false;
      const sc = s.charCodeAt(si);
      for (;;) {
        if (pi < plen && p.charCodeAt(pi) === 92 && plen - pi >= 2) {
          pi++;
          if (p.charCodeAt(pi) === sc) match = true;
        } else if (pi < plen && p.charCodeAt(pi) === 93) {
          break;
        } else if (pi >= plen) {
          pi--;
          break;
        } else if (plen - pi >= 3 && p.charCodeAt(pi + 1) === 45) {
          // C compares signed chars here, so bytes >= 0x80 sort below 'a'.
          let start = signed(p.charCodeAt(pi)), end = signed(p.charCodeAt(pi + 2)), ch = signed(sc);
          if (start > end) [start, end] = [end, start];
          if (nocase) { start = lower(start); end = lower(end); ch = lower(ch); }
          pi += 2;
          if (ch >= start && ch <= end) match = true;
        } else if (same(p.charCodeAt(pi), sc)) {
          match = true;
        }
        pi++;
      }
      if (not) match = !match;
      if (!match) return false;
      si++;
    } else {
      if (c === 92 /* \ */ && plen - pi >= 2) pi++;
      if (!same(p.charCodeAt(pi), s.charCodeAt(si))) return false;
      si++;
    }
    pi++;
    if (si === slen) {
      while (pi < plen && p.charCodeAt(pi) === 42) pi++;
      break;
    }
  }
  return pi >= plen && si === slen;
}

function signed(c: number): number { return c > 127 ? c - 256 : c; }

function lower(c: number): number { return c >= 65 && c <= 90 ? c + 32 : c; }

/** Redis's sdssplitargs: splits a line into arguments with "..." (C escapes) and '...' quoting.
 *  Returns null for unbalanced quotes. Used by inline commands and config files alike. */
function splitArgs(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  const isSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9 || c === 11 || c === 12;
  // A bare word ends only at space, tab, CR or LF (VT and FF are part of it), as in sdssplitargs.
  const isWordEnd = (c: number) => c === 32 || c === 10 || c === 13 || c === 9 || c === 0;
  const isHex = (c: string) => /^[0-9a-fA-F]$/.test(c);
  for (;;) {
    while (i < n && isSpace(line.charCodeAt(i))) i++;
    if (i >= n) return out;
    let cur = "";
    let inq = false, insq = false, done = false;
    while (!done) {
      const ch = line[i];
      if (inq) {
        if (i >= n) return null;
        if (ch === "\\" && line[i + 1] === "x" && i + 3 < n && isHex(line[i + 2]) && isHex(line[i + 3])) {
          cur += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (ch === "\\" && i + 1 < n) {
          i++;
          const e = line[i];
          cur += e === "n" ? "\n" : e === "r" ? "\r" : e === "t" ? "\t" : e === "b" ? "\b" : e === "a" ? "\x07" : e;
        } else if (ch === '"') {
          // The closing quote must be followed by a space or nothing.
          if (i + 1 < n && !isSpace(line.charCodeAt(i + 1))) return null;
          done = true;
        } else cur += ch;
      } else if (insq) {
        if (i >= n) return null;
        if (ch === "\\" && line[i + 1] === "'") { i++; cur += "'"; }
        else if (ch === "'") {
          if (i + 1 < n && !isSpace(line.charCodeAt(i + 1))) return null;
          done = true;
        } else cur += ch;
      } else if (i >= n || isWordEnd(line.charCodeAt(i))) {
        done = true;
      } else if (ch === '"') inq = true;
      else if (ch === "'") insq = true;
      else cur += ch;
      if (i < n) i++;
    }
    out.push(cur);
  }
}

/** Quotes a string as Redis's sdscatrepr does ("..." with \n, \xHH escapes), for logs and MONITOR. */
function reprString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i];
    if (ch === "\\" || ch === '"') out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c === 7) out += "\\a";
    else if (c === 8) out += "\\b";
    else if (c >= 32 && c < 127) out += ch;
    else out += "\\x" + c.toString(16).padStart(2, "0");
  }
  return out + '"';
}

/** `chars` random hex digits, for run IDs, replication IDs and ACL GENPASS. Web Crypto's
 *  getRandomValues rather than node:crypto, whose import alone costs ~40 ms of start-up. */
function randomHex(chars: number): string {
  const bytes = new Uint8Array(Math.ceil(chars / 2));
  crypto.getRandomValues(bytes);
  return Buffer.from(bytes.buffer).toString("hex").slice(0, chars);
}

/** A number in [0, 1) for everything a seed makes repeatable: SPOP, SRANDMEMBER, HRANDFIELD,
 *  ZRANDMEMBER, RANDOMKEY, eviction's samples, LFU's counter, skiplist levels. sfc32 (Chris
 *  Doty-Humphrey's small fast counter generator, 128 bits of state), seeded from the system's
 *  entropy, or from a test's `seed` (startServer's option, DEBUG SEED). */
function random(): number {
  const s = rngState;
  const t = (s[0] + s[1] + s[3]) | 0;
  s[3] = s[3] + 1;
  s[0] = s[1] ^ (s[1] >>> 9);
  s[1] = s[2] + (s[2] << 3);
  s[2] = ((s[2] << 21) | (s[2] >>> 11)) + t;
  return (t >>> 0) / 4294967296;
}
const rngState = crypto.getRandomValues(new Uint32Array(4));
/** Restarts random() from a seed: the same seed, the same numbers. */
function seedRandom(seed: number): void {
  rngState[0] = seed >>> 0;
  rngState[1] = Math.floor(seed / 4294967296) >>> 0;
  rngState[2] = 0x9e3779b9;
  rngState[3] = 1;
  for (let i = 0; i < 16; i++) random(); // mixes the seed's bits through the state
}

/** C's strerror() text for a failed system call, as Redis's logs and MISCONF errors quote it
 *  ("No space left on device"); libuv's own texts differ in case and sometimes in words. */
function strerror(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const known = e?.code ? STRERROR[e.code] : undefined;
  if (known) return known;
  if (typeof e?.errno === "number") {
    const m = getSystemErrorMessage(e.errno);
    return m[0].toUpperCase() + m.slice(1);
  }
  return String(e?.message ?? err);
}

const STRERROR: Record<string, string> = {
  ENOSPC: "No space left on device", EDQUOT: "Disk quota exceeded", EIO: "Input/output error", EFBIG: "File too large",
  EACCES: "Permission denied", EPERM: "Operation not permitted", EROFS: "Read-only file system", ENOENT: "No such file or directory",
  EISDIR: "Is a directory", ENOTDIR: "Not a directory", EEXIST: "File exists", EMFILE: "Too many open files", EBADF: "Bad file descriptor",
  ENAMETOOLONG: "File name too long", ECONNREFUSED: "Connection refused", ETIMEDOUT: "Connection timed out",
};

/** The server's clock in milliseconds: real time, until a test moves it (server.time of
 *  startServer, or DEBUG TIME over RESP); then controlledClock. */
let clock: () => number = Date.now;
/** The clock tests move: [0] milliseconds added to real time, [1] the time it stands at while
 *  frozen (NaN while it runs). A server started by startServer has it in memory shared with the
 *  thread that started it, whose server.time reads and moves the very clock the server runs by. */
let timeCtl: Float64Array<ArrayBufferLike> = new Float64Array([0, NaN]);
function controlledClock(): number {
  return isFrozen(timeCtl) ? timeCtl[1] : Date.now() + timeCtl[0];
}
/** Whether a controlled clock is frozen (its [1] is a time, not NaN). */
function isFrozen(t: Float64Array<ArrayBufferLike>): boolean { return !Number.isNaN(t[1]); }
type TimeOp = "advance" | "set" | "freeze" | "resume";
/** Moves a controlled clock: advance by ms, set to a unix time in ms, freeze where it is, resume
 *  running from where it stands. Shared by DEBUG TIME and startServer's server.time. */
function moveTime(t: Float64Array<ArrayBufferLike>, op: TimeOp, ms = 0): void {
  // Whole milliseconds, as the clock Redis keeps: a fraction would reach stream IDs and TTLs.
  if (!Number.isFinite(ms)) throw new RangeError(`the server's clock moves by a finite number of milliseconds, not ${ms}`);
  ms = Math.trunc(ms);
  const frozen = isFrozen(t);
  if (op === "advance") frozen ? (t[1] += ms) : (t[0] += ms);
  else if (op === "set") frozen ? (t[1] = ms) : (t[0] = ms - Date.now());
  else if (op === "freeze") { if (!frozen) t[1] = Date.now() + t[0]; }
  else if (frozen) { t[0] = t[1] - Date.now(); t[1] = NaN; }
}
/** The client whose command is running: a script's commands run as the scripting client (the
 *  `c` of Redis's call(); CLIENT NO-TOUCH, expiry on replicas and tracking's NOLOOP for BCAST read it). */
let currentClient: Client | null = null;
/** The client whose request is being processed, whatever runs it (Redis's server.current_client):
 *  set from its gates to its end, and while a blocked client is served; null between requests. */
let requestClient: Client | null = null;
/** Time cached at the start of each command, as Redis's server.mstime: one command sees one now. */
let cmdTime = 0;
function now(): number { return clock(); }
/** Real time in milliseconds, whatever a test does to now(): what the process itself lives by
 *  (replication links and their timeouts, WAIT, output-buffer soft limits, fsync pacing, rates,
 *  uptime, INFO's clock fields, the ACL log's ages, the times logs show). now() is the server's
 *  clock that tests move: keys' expiry and TTLs, access clocks (IDLETIME, LFU), stream IDs,
 *  blocked clients' timeouts, client idle times, SLOWLOG and LATENCY times, CLIENT PAUSE, TIME. */
function wallClock(): number { return Date.now(); }
/** clock() minus performance.now(), taken once per read event and per cron tick, so that each
 *  command's start time serves as both its duration's start and its cached clock (one clock
 *  read per command start instead of two). */
let clockBase = Date.now() - performance.now();
/** Refreshes clockBase; returns the performance.now() it read. */
function refreshClockBase(): number {
  const p = performance.now();
  clockBase = clock() - p;
  return p;
}
/** Within one read event, commands are timed back to back: each command's end, one clock read,
 *  is the next one's start (what lies between is the next command's parsing). -1 elsewhere. */
let chainClock = -1;

function log(level: "debug" | "verbose" | "notice" | "warning", msg: string): void {
  const levels = ["debug", "verbose", "notice", "warning"];
  if (levels.indexOf(level) < levels.indexOf(String(conf.loglevel))) return;
  if (conf.loglevel === "nothing") return;
  const mark = level === "debug" ? "." : level === "verbose" ? "-" : level === "notice" ? "*" : "#";
  if (heldLog) return void heldLog.push([wallClock(), `${mark} ${msg}`]);
  logRaw(`${process.pid}:M ${logTimestamp()} ${mark} ${msg}\n`);
}

/** Lines logged while the server starts, held with their times until it listens (initServer
 *  writes them then, or on the way out if it never does). The first local-time stamp costs ~10 ms
 *  (the time zone is loaded) and so does opening stdout: held, they are paid once the port is
 *  open, so that a supervisor or a test harness connecting as soon as the process runs finds it
 *  open. null once written. */
let heldLog: [number, string][] | null = [];
function writeHeldLog(): void {
  const lines = heldLog;
  heldLog = null;
  for (const [ms, text] of lines ?? []) logRaw(`${process.pid}:M ${logTimestamp(ms)} ${text}\n`);
}

/** To `logfile` (opened for each line, as Redis does, so a rotated file is followed), or stdout. */
function logRaw(text: string): void {
  const file = conf.logfile;
  if (!file) return void (server.logToStdout && process.stdout.write(text));
  try { appendFileSync(filePath(String(file)), text); } catch { /* nowhere to say so */ }
}

/** "21 Nov 2026 05:14:43.773", as redis-server stamps its log lines. */
function logTimestamp(ms = wallClock()): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  return `${pad(d.getDate())} ${months[d.getMonth()]} ${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

// ============================================================================================
// Configuration
//
// One registry holds every parameter Redis 7.0 has, with its name, type, default and aliases, so
// that config files, command-line flags and CONFIG GET/SET/REWRITE all agree. Parameters whose
// feature Redbun lacks are still accepted and stored; `applyConfigChanges` gives effect to the
// ones we implement, and `refreshHotConfig` copies the hot ones into `hot`. To add a parameter:
// a line of CONFIG_TABLE, and an `apply` case if changing it at run time must do something.
// ============================================================================================

type ConfigValue = string | number | boolean;
interface ConfigParam {
  name: string;
  type: "bool" | "int" | "mem" | "str" | "enum" | "special";
  def: string;
  min?: number;
  max?: number;
  values?: string[];
  immutable?: boolean;
  /** Settable at run time only as enable-protected-configs allows (they can write files). */
  protected?: boolean;
  /** A testing parameter: CONFIG GET shows it only when asked by its exact name. */
  hidden?: boolean;
  /** Also takes a percentage ("10%", kept as -10), as maxmemory-clients does. */
  percent?: boolean;
  alias?: string;
}

/* name type default [min..max | one|of|these] [immutable|protected|hidden|percent] [alias=name] —
 * Redis 7.0's defaults and flags. */
const CONFIG_TABLE = `
acl-pubsub-default enum resetchannels allchannels|resetchannels
aclfile str "" immutable
acllog-max-len int 128 0..9223372036854775807
active-defrag-cycle-max int 25 1..99
active-defrag-cycle-min int 1 1..99
active-defrag-ignore-bytes mem 104857600 1..9223372036854775807
active-defrag-max-scan-fields int 1000 1..9223372036854775807
active-defrag-threshold-lower int 10 0..1000
active-defrag-threshold-upper int 100 0..1000
active-expire-effort int 1 1..10
activedefrag bool no
activerehashing bool yes
always-show-logo bool no immutable
aof-disable-auto-gc bool no
aof-load-truncated bool yes
aof-rewrite-incremental-fsync bool yes
aof-timestamp-enabled bool no
aof-use-rdb-preamble bool yes
aof_rewrite_cpulist str "" immutable
appenddirname str appendonlydir immutable
appendfilename str appendonly.aof immutable
appendfsync enum everysec always|everysec|no
appendonly bool no
auto-aof-rewrite-min-size mem 67108864 0..9223372036854775807
auto-aof-rewrite-percentage int 100 0..2147483647
bgsave_cpulist str "" immutable
bind special "* -::*"
bind-source-addr str ""
bio_cpulist str "" immutable
busy-reply-threshold int 5000 0..9223372036854775807 alias=lua-time-limit
client-output-buffer-limit special "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
client-query-buffer-limit mem 1073741824 1048576..9223372036854775807
cluster-allow-pubsubshard-when-down bool yes
cluster-allow-reads-when-down bool no
cluster-allow-replica-migration bool yes
cluster-announce-bus-port int 0 0..65535
cluster-announce-hostname str ""
cluster-announce-ip str ""
cluster-announce-port int 0 0..65535
cluster-announce-tls-port int 0 0..65535
cluster-config-file str nodes.conf immutable
cluster-enabled bool no immutable
cluster-link-sendbuf-limit mem 0 0..9223372036854775807
cluster-migration-barrier int 1 0..2147483647
cluster-node-timeout int 15000 0..9223372036854775807
cluster-port int 0 0..65535 immutable
cluster-preferred-endpoint-type enum ip ip|hostname|unknown-endpoint
cluster-replica-no-failover bool no alias=cluster-slave-no-failover
cluster-replica-validity-factor int 10 0..2147483647 alias=cluster-slave-validity-factor
cluster-require-full-coverage bool yes
crash-log-enabled bool yes
crash-memcheck-enabled bool yes
daemonize bool no immutable
databases int 16 1..2147483647 immutable
dbfilename str dump.rdb protected
dir special "" protected
disable-thp bool yes immutable
dynamic-hz bool yes
enable-debug-command enum no yes|no|local immutable
enable-module-command enum no yes|no|local immutable
enable-protected-configs enum no yes|no|local immutable
hash-max-listpack-entries int 512 0..9223372036854775807 alias=hash-max-ziplist-entries
hash-max-listpack-value mem 64 0..9223372036854775807 alias=hash-max-ziplist-value
hll-sparse-max-bytes mem 3000 0..9223372036854775807
hz int 10 0..2147483647
ignore-warnings str ""
io-threads int 1 1..128 immutable
io-threads-do-reads bool no immutable
jemalloc-bg-thread bool yes
key-load-delay int 0 -2147483648..2147483647 hidden
latency-monitor-threshold int 0 0..9223372036854775807
latency-tracking bool yes
latency-tracking-info-percentiles special "50 99 99.9"
lazyfree-lazy-eviction bool no
lazyfree-lazy-expire bool no
lazyfree-lazy-server-del bool no
lazyfree-lazy-user-del bool no
lazyfree-lazy-user-flush bool no
lfu-decay-time int 1 0..2147483647
lfu-log-factor int 10 0..2147483647
list-compress-depth int 0 0..2147483647
list-max-listpack-size int -2 -5..2147483647 alias=list-max-ziplist-size
loading-process-events-interval-bytes int 2097152 1024..2147483647 hidden
logfile str "" immutable
loglevel enum notice debug|verbose|notice|warning
masterauth str ""
masteruser str ""
maxclients int 10000 1..4294967295
maxmemory mem 0 0..9223372036854775807
maxmemory-clients mem 0 -100..9223372036854775807 percent
maxmemory-eviction-tenacity int 10 0..100
maxmemory-policy enum noeviction volatile-lru|volatile-lfu|volatile-random|volatile-ttl|allkeys-lru|allkeys-lfu|allkeys-random|noeviction
maxmemory-samples int 5 1..2147483647
min-replicas-max-lag int 10 0..2147483647 alias=min-slaves-max-lag
min-replicas-to-write int 0 0..2147483647 alias=min-slaves-to-write
no-appendfsync-on-rewrite bool no
notify-keyspace-events special ""
oom-score-adj enum no no|yes|relative|absolute
oom-score-adj-values special "0 200 800"
pidfile str "" immutable
port int 6379 0..65535
proc-title-template str "{title} {listen-addr} {server-mode}"
propagation-error-behavior enum ignore ignore|panic|panic-on-replicas
protected-mode bool yes
proto-max-bulk-len mem 536870912 1048576..9223372036854775807
rdb-del-sync-files bool no
rdb-key-save-delay int 0 -2147483648..2147483647 hidden
rdb-save-incremental-fsync bool yes
rdbchecksum bool yes immutable
rdbcompression bool yes
repl-backlog-size mem 1048576 1..9223372036854775807
repl-backlog-ttl int 3600 0..9223372036854775807
repl-disable-tcp-nodelay bool no
repl-diskless-load enum disabled disabled|on-empty-db|swapdb
repl-diskless-sync bool yes
repl-diskless-sync-delay int 5 0..2147483647
repl-diskless-sync-max-replicas int 0 0..2147483647
repl-ping-replica-period int 10 1..2147483647 alias=repl-ping-slave-period
repl-timeout int 60 1..2147483647
replica-announce-ip str "" alias=slave-announce-ip
replica-announce-port int 0 0..65535 alias=slave-announce-port
replica-announced bool yes
replica-ignore-disk-write-errors bool no
replica-ignore-maxmemory bool yes alias=slave-ignore-maxmemory
replica-lazy-flush bool no alias=slave-lazy-flush
replica-priority int 100 0..2147483647 alias=slave-priority
replica-read-only bool yes alias=slave-read-only
replica-serve-stale-data bool yes alias=slave-serve-stale-data
replicaof special "" immutable alias=slaveof
requirepass str ""
sanitize-dump-payload enum no no|yes|clients
save special "3600 1 300 100 60 10000"
server_cpulist str "" immutable
set-max-intset-entries int 512 0..9223372036854775807
set-proc-title bool yes immutable
shutdown-on-sigint enum default default|save|nosave|now|force
shutdown-on-sigterm enum default default|save|nosave|now|force
shutdown-timeout int 10 0..2147483647
slowlog-log-slower-than int 10000 -1..9223372036854775807
slowlog-max-len int 128 0..9223372036854775807
socket-mark-id int 0 0..4294967295
stop-writes-on-bgsave-error bool yes
stream-node-max-bytes mem 4096 0..9223372036854775807
stream-node-max-entries int 100 0..9223372036854775807
supervised enum no upstart|systemd|auto|no immutable
syslog-enabled bool no immutable
syslog-facility enum local0 user|local0|local1|local2|local3|local4|local5|local6|local7 immutable
syslog-ident str redis immutable
tcp-backlog int 511 0..2147483647 immutable
tcp-keepalive int 300 0..2147483647
timeout int 0 0..2147483647
tls-auth-clients enum yes yes|no|optional
tls-ca-cert-dir str ""
tls-ca-cert-file str ""
tls-cert-file str ""
tls-ciphers str ""
tls-ciphersuites str ""
tls-client-cert-file str ""
tls-client-key-file str ""
tls-client-key-file-pass str ""
tls-cluster bool no
tls-dh-params-file str ""
tls-key-file str ""
tls-key-file-pass str ""
tls-port int 0 0..65535
tls-prefer-server-ciphers bool no
tls-protocols str ""
tls-replication bool no
tls-session-cache-size int 20480 0..2147483647
tls-session-cache-timeout int 300 0..2147483647
tls-session-caching bool yes
tracking-table-max-keys int 1000000 0..9223372036854775807
unixsocket str "" immutable
unixsocketperm int 0 0..777 immutable
use-exit-on-panic bool no hidden
watchdog-period int 0 0..2147483647 hidden
zset-max-listpack-entries int 128 0..9223372036854775807 alias=zset-max-ziplist-entries
zset-max-listpack-value mem 64 0..9223372036854775807 alias=zset-max-ziplist-value
`;

const configParams = new Map<string, ConfigParam>(); // by name and by alias
for (const line of CONFIG_TABLE.trim().split("\n")) {
  const [name, type, def, ...rest] = splitArgs(line)!;
  const p: ConfigParam = { name, type: type as ConfigParam["type"], def };
  for (const r of rest) {
    if (r === "immutable") p.immutable = true;
    else if (r === "protected") p.protected = true;
    else if (r === "hidden") p.hidden = true;
    else if (r === "percent") p.percent = true;
    else if (r.startsWith("alias=")) p.alias = r.slice(6);
    else if (r.includes("..")) [p.min, p.max] = r.split("..").map(Number);
    else p.values = r.split("|");
  }
  configParams.set(name, p);
  if (p.alias) configParams.set(p.alias, p);
}

function refreshHotConfig(): void {
  hot.latencyTracking = Boolean(conf["latency-tracking"]);
  hot.slowlogSlowerThan = confNum("slowlog-log-slower-than");
  hot.latencyMonitorThreshold = confNum("latency-monitor-threshold");
  hot.maxmemory = confNum("maxmemory");
  hot.protoMaxBulkLen = confNum("proto-max-bulk-len");
  hot.stopWritesOnBgsaveError = Boolean(conf["stop-writes-on-bgsave-error"]);
  hot.hasSavePoints = String(conf.save).trim() !== "";
  hot.queryBufferLimit = confNum("client-query-buffer-limit");
  hot.lfu = String(conf["maxmemory-policy"]).endsWith("lfu");
  hot.minReplicasToWrite = confNum("min-replicas-to-write");
  hot.minReplicasMaxLag = confNum("min-replicas-max-lag");
  hot.hashMaxListpackEntries = confNum("hash-max-listpack-entries");
  hot.hashMaxListpackValue = confNum("hash-max-listpack-value");
  hot.setMaxIntsetEntries = confNum("set-max-intset-entries");
  hot.zsetMaxListpackEntries = confNum("zset-max-listpack-entries");
  hot.zsetMaxListpackValue = confNum("zset-max-listpack-value");
  hot.streamNodeMaxEntries = confNum("stream-node-max-entries");
  hot.streamNodeMaxBytes = confNum("stream-node-max-bytes");
  hot.hllSparseMaxBytes = confNum("hll-sparse-max-bytes");
}

/** A numeric parameter (int or mem) as the table types it: the one way code reads a number from
 *  `conf` (the hot ones are read from `hot`, which refreshHotConfig fills through here). */
function confNum(name: string): number {
  const v = conf[name];
  if (typeof v !== "number") throw new Error(`config ${name} is not a number`);
  return v;
}

/** Parses a memory value as Redis's memtoull: digits with an optional b/k/kb/m/mb/g/gb unit. */
function parseMemory(s: string): number | null {
  const m = /^(\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(s);
  if (!m) return null;
  const unit = (m[2] ?? "b").toLowerCase();
  const mul: Record<string, number> = { b: 1, k: 1000, kb: 1024, m: 1e6, mb: 1024 * 1024, g: 1e9, gb: 1024 * 1024 * 1024 };
  return Number(m[1]) * mul[unit];
}

/** Validates and converts one parameter's value; returns an error message or the value. */
function parseConfigValue(p: ConfigParam, args: string[]): { value: ConfigValue } | { err: string } {
  const v = args.join(" ");
  switch (p.type) {
    case "bool": {
      const l = v.toLowerCase();
      if (l === "yes" || l === "no") return { value: l === "yes" };
      return { err: "argument must be 'yes' or 'no'" };
    }
    case "int":
    case "mem": {
      let n: number | null;
      if (p.type === "mem") {
        n = parseMemory(v);
        if (n === null && p.percent && v.length > 1 && v.endsWith("%")) {
          // A percentage, kept negative; only its lower bound is checked.
          const pct = string2ll(v.slice(0, -1));
          if (pct !== null && pct >= 0) {
            if (-pct < p.min!) return { err: `percentage argument must be less or equal to ${-p.min!}` };
            return { value: -pct };
          }
        }
        if (n === null) return { err: p.percent ? "argument must be a memory or percent value" : "argument must be a memory value" };
      } else {
        n = string2ll(v);
        if (n === null) return { err: "argument couldn't be parsed into an integer" };
      }
      if (p.min !== undefined && (n < p.min || n > p.max!)) return { err: `argument must be between ${p.min} and ${p.max} inclusive` };
      // As Redis's updateHZ: any hz is accepted and kept between 1 and 500 (CONFIG GET shows that).
      if (p.name === "hz") return { value: Math.min(500, Math.max(1, n)) };
      return { value: n };
    }
    case "enum": {
      const l = v.toLowerCase();
      if (!p.values!.includes(l)) return { err: `argument(s) must be one of the following: ${p.values!.join(", ")}` };
      return { value: l };
    }
    case "str": {
      const err = STRING_CONFIG_RULES[p.name]?.(v);
      return err ? { err } : { value: v };
    }
    case "special":
      return parseSpecialConfig(p.name, v);
  }
}

/** The string parameters with a rule of their own: file names that must stay inside `dir`. */
const STRING_CONFIG_RULES: Record<string, (v: string) => string | null> = {
  dbfilename: (v) => (isBaseName(v) ? null : "dbfilename can't be a path, just a filename"),
  appendfilename: (v) => (v === "" ? "appendfilename can't be empty" : isBaseName(v) ? null : "appendfilename can't be a path, just a filename"),
  appenddirname: (v) => (v === "" ? "appenddirname can't be empty" : isBaseName(v) ? null : "appenddirname can't be a path, just a dirname"),
};

/** Redis's pathIsBaseName: no directory separator of either kind. */
function isBaseName(path: string): boolean { return !path.includes("/") && !path.includes("\\"); }

/** A master's address as REPLICAOF and `replicaof` take it: a host name (letters, digits, '-',
 *  '_' and dots) or an IPv4 or IPv6 address. Anything else (spaces, newlines, quotes) is refused,
 *  so no value can smuggle a line into a rewritten config file. */
function isValidHost(host: string): boolean {
  if (host.length === 0 || host.length > 255) return false;
  if (host.includes(":")) return /^[0-9a-f:.]+(%[\w.-]+)?$/i.test(host); // IPv6, with an optional zone
  return /^[\w-]+(\.[\w-]+)*\.?$/.test(host);
}

/** The parameters whose values have their own grammar. */
function parseSpecialConfig(name: string, v: string): { value: ConfigValue } | { err: string } {
  const words = v.split(" ").filter((w) => w !== "");
  switch (name) {
    case "save": {
      if (words.length % 2 !== 0 || words.some((w) => string2ll(w) === null || string2ll(w)! < 0)) return { err: "Invalid save parameters" };
      return { value: words.join(" ") };
    }
    case "client-output-buffer-limit": {
      if (words.length % 4 !== 0) return { err: "Wrong number of arguments in buffer limit configuration." };
      const current = String(conf[name] ?? configParams.get(name)!.def).split(" ");
      const classes = ["normal", "slave", "pubsub"];
      for (let i = 0; i < words.length; i += 4) {
        const cls = words[i].toLowerCase() === "replica" ? "slave" : words[i].toLowerCase();
        const at = classes.indexOf(cls);
        const hard = parseMemory(words[i + 1]), soft = parseMemory(words[i + 2]), secs = string2ll(words[i + 3]);
        if (at < 0) return { err: "Invalid client class specified in buffer limit configuration." };
        if (hard === null || soft === null || secs === null || secs < 0) return { err: "Error in hard, soft or soft_seconds setting in buffer limit configuration." };
        current.splice(at * 4, 4, cls, String(hard), String(soft), String(secs));
      }
      return { value: current.join(" ") };
    }
    case "notify-keyspace-events": {
      // Redis reads the value as a C string: a NUL byte ends it.
      const flags = keyspaceEventsStringToFlags(v.includes("\0") ? v.slice(0, v.indexOf("\0")) : v);
      if (flags === null) return { err: "Invalid event class character. Use 'Ag$lshzxeKEtmdn'." };
      return { value: keyspaceEventsFlagsToString(flags) };
    }
    case "dir": {
      if (v === "") return { value: workingDir() };
      if (embedded) {
        // A server that shares its process keeps its directory as a path (see filePath).
        const dir = resolvePath(String(conf.dir), v);
        try { if (!statSync(dir).isDirectory()) return { err: "Not a directory" }; } catch (e) { return { err: strerror(e) }; }
        return { value: dir };
      }
      try { process.chdir(v); } catch (e) { return { err: String((e as Error).message) }; }
      return { value: process.cwd() };
    }
    case "replicaof": {
      if (words.length === 0 || (words.length === 2 && words[0].toLowerCase() === "no" && words[1].toLowerCase() === "one")) return { value: "" };
      const port = string2ll(words[1] ?? "");
      if (words.length !== 2 || port === null || port < 0 || port > 65535) return { err: "Invalid master port" };
      if (!isValidHost(words[0])) return { err: "Invalid master host" };
      return { value: `${words[0]} ${port}` };
    }
    case "oom-score-adj-values": {
      if (words.length !== 3 || words.some((w) => string2ll(w) === null || Math.abs(string2ll(w)!) > 2000)) return { err: "Invalid oom-score-adj-values" };
      return { value: words.join(" ") };
    }
    case "latency-tracking-info-percentiles": {
      if (words.some((w) => { const d = string2d(w); return d === null || d < 0 || d > 100; })) return { err: "latency-tracking-info-percentiles parameters should be a list of doubles between 0 and 100" };
      return { value: words.map((w) => formatPercentile(Number(w))).join(" ") };
    }
    default: // bind
      return { value: words.join(" ") };
  }
}

/** A percentile as Redis prints it: %f with its trailing zeros (and dot) trimmed. */
function formatPercentile(d: number): string {
  return d.toFixed(6).replace(/\.?0+$/, "");
}

/** The working directory, or "" when it cannot be read (it was deleted), as Redis's getcwd use. */
function workingDir(): string {
  if (embedded) return String(conf.dir);
  try { return process.cwd(); } catch { return ""; }
}

/** A file name as the server opens it. redis-server changes the process's working directory to
 *  `dir`, so relative names (logfile, unixsocket, aclfile) are relative to it; the command-line
 *  server does the same. A server started by startServer shares its process with others, so its
 *  `dir` is a path that relative names are joined to. */
function filePath(name: string): string {
  return embedded && !name.startsWith("/") ? `${conf.dir}/${name}` : name;
}

/** Formats a value as CONFIG GET shows it. */
function formatConfigValue(p: ConfigParam): string {
  if (p.name === "dir") return workingDir(); // as Redis's getcwd(): the directory really in use
  const v = conf[p.name];
  if (p.percent && typeof v === "number" && v < 0) return `${-v}%`;
  return typeof v === "boolean" ? (v ? "yes" : "no") : String(v);
}

/** Sets every parameter to Redis's default (called before a config file and flags are read). */
function loadConfigDefaults(): void {
  for (const p of new Set(configParams.values())) {
    const r = parseConfigValue(p, [p.def]);
    conf[p.name] = "value" in r ? r.value : p.def;
  }
  conf.dir = process.cwd();
}

class ConfigError extends Error {}

/** The parameters whose value is several words (Redis's MULTI_ARG_CONFIG). */
const MULTI_ARG_CONFIGS = new Set(["save", "client-output-buffer-limit", "oom-score-adj-values", "bind", "replicaof",
  "latency-tracking-info-percentiles", "shutdown-on-sigint", "shutdown-on-sigterm"]);

/** Loads redis.conf-style text (config file contents and flags): one directive per line. Throws
 *  ConfigError with redis-server's fatal-error text on the first bad line. */
function loadConfigText(text: string): void {
  const lines = text.split("\n");
  const seenSave = { reset: false };
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const argv = splitArgs(line);
    const fail = (why: string) => {
      throw new ConfigError(`\n*** FATAL CONFIG FILE ERROR (Redis ${REDIS_VERSION}) ***\nReading the configuration file, at line ${i + 1}\n>>> '${line}'\n${why}`);
    };
    if (argv === null) return fail("Unbalanced quotes in configuration line");
    const name = argv[0].toLowerCase();
    if (name === "user" && argv.length >= 2) {
      const err = aclAppendUserForLoading(argv);
      return err ? fail(err) : undefined;
    }
    const p = configParams.get(name);
    if (!p) return fail("Bad directive or wrong number of arguments");
    // A parameter that takes several words may take none ("save" alone: no save points).
    if (argv.length < 2 && !MULTI_ARG_CONFIGS.has(p.name)) return fail("wrong number of arguments");
    let args = argv.slice(1);
    if (p.name === "save") {
      // Each `save` line adds a save point; the first one replaces the default list.
      if (args.length === 1 && args[0] === "") { conf.save = ""; seenSave.reset = true; return; }
      const r = parseSpecialConfig("save", args.join(" "));
      if ("err" in r) return fail(r.err);
      conf.save = seenSave.reset ? `${conf.save} ${r.value}`.trim() : String(r.value);
      seenSave.reset = true;
      return;
    }
    if (p.type !== "special" && p.type !== "str" && args.length !== 1) return fail("wrong number of arguments");
    if (p.type === "str" && args.length !== 1) return fail("wrong number of arguments");
    const r = parseConfigValue(p, args);
    if ("err" in r) return fail(r.err);
    conf[p.name] = r.value;
  });
  // As Redis, once every line is read: a log file that cannot be opened for appending stops the start.
  if (conf.logfile) {
    try { appendFileSync(filePath(String(conf.logfile)), ""); } catch (err) {
      throw new ConfigError(`\n*** FATAL CONFIG FILE ERROR (Redis ${REDIS_VERSION}) ***\nCan't open the log file: ${strerror(err)}`);
    }
  }
}

/** Turns redis-server style argv (`[config-file] --name value ... --name value`) into config text,
 *  as redis-server does: each `--name` starts a line, the words after it are its arguments. */
function argvToConfigText(argv: string[]): string {
  let text = "";
  let i = 0;
  if (argv[0] && !argv[0].startsWith("--")) {
    text = readFileSync(argv[0], "latin1");
    i = 1;
  }
  text += "\n"; // as redis-server does, so a bad first flag is reported "at line 2"
  let line = "";
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith("--") && a.length > 2) {
      if (line) text += line + "\n";
      line = a.slice(2);
    } else {
      line += " " + reprString(a);
    }
  }
  if (line) text += line + "\n";
  return text;
}

/* CONFIG GET parameter [parameter ...] */
function configGetCommand(c: Client): void {
  // Keyed case-insensitively, keeping the first spelling, as Redis's matches dict does.
  const found = new Map<string, [string, string]>();
  for (const pattern of c.argv.slice(2)) {
    if (!/[*?[]/.test(pattern)) {
      const exact = configParams.get(pattern.toLowerCase());
      if (exact && !found.has(pattern.toLowerCase())) found.set(pattern.toLowerCase(), [pattern, formatConfigValue(exact)]);
      continue;
    }
    for (const [name, p] of configParams) if (!p.hidden && stringmatch(pattern, name, true) && !found.has(name)) found.set(name, [name, formatConfigValue(p)]);
  }
  addReplyMapLen(c, found.size);
  for (const [k, v] of found.values()) { addReplyBulk(c, k); addReplyBulk(c, v); }
}

/* CONFIG SET parameter value [parameter value ...]: all or nothing. As Redis, every name is
 * checked (known, settable, not twice) before any value is parsed. */
function configSetCommand(c: Client): void {
  const argv = c.argv;
  if (argv.length % 2 !== 0) return addReplyError(c, E.syntax);
  const failed = (param: string, why: string) => `ERR CONFIG SET failed (possibly related to argument '${param}') - ${why}`;
  const params: ConfigParam[] = [];
  const named = new Set<string>();
  for (let j = 2; j < argv.length; j += 2) {
    const p = configParams.get(argv[j].toLowerCase());
    if (!p) return addReplyError(c, `ERR Unknown option or number of arguments for CONFIG SET - '${argv[j]}'`);
    if (p.immutable) return addReplyError(c, failed(argv[j], "can't set immutable config"));
    if (p.protected && !allowProtectedAction(conf["enable-protected-configs"], c)) return addReplyError(c, failed(argv[j], "can't set protected config"));
    if (named.has(argv[j].toLowerCase())) return addReplyError(c, failed(argv[j], "duplicate parameter"));
    named.add(argv[j].toLowerCase());
    params.push(p);
  }
  // Parsing `dir` changes the working directory: a failure anywhere after it changes it back.
  const cwd = workingDir();
  const undo = (previous: Map<ConfigParam, ConfigValue>) => {
    for (const [p, v] of previous) conf[p.name] = v;
    if (!embedded && cwd && workingDir() !== cwd) process.chdir(cwd);
    applyConfigChanges([...previous.keys()].map((p) => p.name));
  };
  const updates = new Map<ConfigParam, ConfigValue>();
  for (let i = 0; i < params.length; i++) {
    const p = params[i], value = argv[3 + 2 * i];
    const r = p.name === "save" && value === "" ? { value: "" } : parseConfigValue(p, [value]);
    if ("err" in r) {
      undo(new Map());
      return addReplyError(c, failed(argv[2 + 2 * i], r.err));
    }
    updates.set(p, r.value);
  }
  const previous = new Map<ConfigParam, ConfigValue>();
  for (const [p, v] of updates) { previous.set(p, conf[p.name]); conf[p.name] = v; }
  const err = applyConfigChanges([...updates.keys()].map((p) => p.name));
  if (err) {
    undo(previous);
    return addReplyError(c, failed(err.param, err.why));
  }
  addReplyOK(c);
}

/** Gives effect to changed parameters that need more than a new value in `conf`. */
function applyConfigChanges(names: string[]): { param: string; why: string } | null {
  refreshHotConfig();
  if (names.includes("maxmemory-clients") || (confNum("maxmemory-clients") !== 0) !== (clientMem.buckets !== null)) clientEvictionConfigChanged();
  server.notifyFlags = keyspaceEventsStringToFlags(String(conf["notify-keyspace-events"])) ?? 0;
  for (const name of names) {
    if (name === "requirepass") aclUpdateDefaultUserPassword(String(conf.requirepass));
    if (name === "repl-backlog-size" && repl.backlog) resizeReplicationBacklog();
    if (name === "appendonly" && server.running && Boolean(conf.appendonly) !== aof.on) {
      if (!conf.appendonly) stopAppendOnly();
      else if (!startAppendOnly(false)) return { param: name, why: "Unable to turn on AOF. Check server logs." };
    }
    if ((name === "port" || name === "bind") && server.running) {
      const err = rebindListeners(name);
      if (err) return { param: name, why: err };
    }
  }
  return null;
}

/* CONFIG RESETSTAT */
function configResetstatCommand(c: Client): void {
  resetStats();
  addReplyOK(c);
}

/* CONFIG REWRITE: rewrites the config file we started from, keeping its comments and order. */
function configRewriteCommand(c: Client): void {
  if (!server.configFile) return addReplyError(c, "ERR The server is running without a config file");
  try {
    const lines = readFileSync(server.configFile, "latin1").split("\n");
    const written = new Set<string>();
    const out: string[] = [];
    // ACL users live in the config file unless there is an ACL file: all of them, default included.
    const userLines = conf.aclfile ? [] : aclSortedUsers().map((u) => `user ${u.name} ${aclDescribeUser(u)}`);
    for (const line of lines) {
      const argv = splitArgs(line.trim());
      if (argv?.[0]?.toLowerCase() === "user") {
        if (!written.has("user")) out.push(...userLines);
        written.add("user");
        continue;
      }
      const p = argv && argv.length ? configParams.get(argv[0].toLowerCase()) : undefined;
      if (!p) { out.push(line); continue; }
      if (written.has(p.name)) continue;
      written.add(p.name);
      out.push(...configRewriteLines(p));
    }
    // Redis always writes these two, default or not.
    const forced = (p: ConfigParam) => p.name === "dir" || p.name === "latency-tracking-info-percentiles";
    const changed = [...new Set(configParams.values())].filter((p) => !written.has(p.name) && (forced(p) || formatConfigValue(p) !== defaultConfigValue(p)));
    const generated = [...changed.flatMap(configRewriteLines), ...(written.has("user") ? [] : userLines)];
    if (generated.length) out.push("# Generated by CONFIG REWRITE", ...generated);
    // Written whole before the reply, through a temp file and a rename, as Redis does.
    const tmp = `${server.configFile}.tmp-${process.pid}`;
    writeFileSync(tmp, out.join("\n").replace(/\n*$/, "\n"), "latin1");
    renameSync(tmp, server.configFile);
    addReplyOK(c);
  } catch (err) {
    addReplyError(c, `ERR Rewriting config file: ${(err as Error).message}`);
  }
}

function defaultConfigValue(p: ConfigParam): string {
  const r = parseConfigValue(p, [p.def]);
  return "value" in r ? (typeof r.value === "boolean" ? (r.value ? "yes" : "no") : String(r.value)) : p.def;
}

function configRewriteLines(p: ConfigParam): string[] {
  const v = formatConfigValue(p);
  if (p.name === "save") {
    if (v === "") return ['save ""'];
    const w = v.split(" ");
    const lines: string[] = [];
    for (let i = 0; i < w.length; i += 2) lines.push(`save ${w[i]} ${w[i + 1]}`);
    return lines;
  }
  // Strings are written quoted, as Redis's sdscatrepr does; a list's words are validated when
  // set, and any word that is not plain printable text is quoted too, so that no value can ever
  // add a line of its own to the file.
  if (p.type === "str" || p.name === "dir") return [`${p.name} ${reprString(v)}`];
  if (p.type === "special") return [`${p.name} ${v === "" ? '""' : v.split(" ").map((w) => (/^[\x21-\x7e]+$/.test(w) && !/["'\\]/.test(w) ? w : reprString(w))).join(" ")}`];
  if (p.type === "mem") {
    const n = conf[p.name] as number;
    const unit = n && n % 1073741824 === 0 ? [1073741824, "gb"] : n && n % 1048576 === 0 ? [1048576, "mb"] : n && n % 1024 === 0 ? [1024, "kb"] : [1, ""];
    return [`${p.name} ${n / (unit[0] as number)}${unit[1]}`];
  }
  return [`${p.name} ${v}`]; // numbers, yes/no and enum names
}

function configHelpCommand(c: Client): void {
  addReplyHelp(c, "CONFIG", [
    "GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>", "    Set the configuration <directive> to <value>.",
    "RESETSTAT", "    Reset statistics reported by the INFO command.",
    "REWRITE", "    Rewrite the configuration file.",
  ]);
}

/** This chapter's rows of the command table (see Dispatch). */
const CONFIG_COMMANDS: CommandRows[] = [
  { group: "server", specs: [
    ["config", -2, "", 0, 0, 0, "", () => {}],
  ], subs: {
    config: [
      ["get", -3, "admin noscript loading stale", 0, 0, 0, "", configGetCommand],
      ["set", -4, "admin noscript loading stale", 0, 0, 0, "", configSetCommand],
      ["resetstat", 2, "admin noscript loading stale", 0, 0, 0, "", configResetstatCommand],
      ["rewrite", 2, "admin noscript loading stale", 0, 0, 0, "", configRewriteCommand],
      ["help", 2, "loading stale", 0, 0, 0, "", configHelpCommand],
    ],
  } },
];

// ============================================================================================
// RESP
//
// The parser is a resumable state machine over each client's input bytes: it keeps its position
// (qpos), the count of arguments still expected (mbLen) and the length of the bulk being read
// (bulkLen), so a frame split across packets returns "need more" and resumes on the next read;
// nothing is allocated until a whole argument is buffered. Malformed input gets Redis's exact
// "Protocol error" text and the connection closes after that reply, as in Redis.
// ============================================================================================

// Replies are appended to one output buffer per client and written once per read event. The
// addReply* functions know both protocols: RESP3 types (maps, sets, doubles, nulls, booleans,
// verbatim strings, pushes) degrade to their RESP2 shapes for RESP2 clients. E holds the exact
// error strings many commands share.

const PROTO_INLINE_MAX_SIZE = 64 * 1024; // longest inline command or length line, as in Redis
const PROTO_MBULK_BIG_ARG = 32 * 1024;
const INT_MAX = 2147483647;
const REQ_INLINE = 1, REQ_MULTIBULK = 2;
const OUTBUF_INITIAL = 16 * 1024;
/** A client's argv between commands: shared, never written (the parser starts a fresh array). */
const NO_ARGV: string[] = [];

/** Parses the digits between pos and end (a length line's, a counter's) as string2ll would; NaN
 *  when invalid. Exact up to 15 digits. */
function parseIntBytes(buf: Buffer, pos: number, end: number): number {
  const n = end - pos;
  if (n <= 0 || n >= 21) return NaN;
  let i = pos, neg = false;
  if (buf[i] === 45) { neg = true; i++; if (i === end) return NaN; }
  if (buf[i] === 48) return i + 1 === end && !neg ? 0 : NaN;
  let v = 0;
  for (; i < end; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

/** A big argument is being read into the buffer made for it (see parseMultibulk). */
function bigArgPending(c: Client): boolean { return c.qOwned && c.bulkLen >= PROTO_MBULK_BIG_ARG && !c.isMaster; }

/** Appends newly read bytes to the client's query buffer. The common case (nothing pending) keeps
 *  the socket's own chunk without copying. */
function appendInput(c: Client, chunk: Buffer): void {
  if (c.qpos === c.qlen && !bigArgPending(c)) {
    c.qbuf = chunk; c.qpos = 0; c.qlen = chunk.length; c.qOwned = false;
    return;
  }
  const pending = c.qlen - c.qpos;
  if (!c.qOwned || c.qbuf.length - c.qlen < chunk.length) {
    // Past a big argument's end only what came is added (Redis reads no further than it).
    const size = bigArgPending(c) ? pending + chunk.length : Math.max(OUTBUF_INITIAL, (pending + chunk.length) * 2);
    const next = Buffer.allocUnsafe(size);
    c.qbuf.copy(next, 0, c.qpos, c.qlen);
    c.qbuf = next; c.qpos = 0; c.qlen = pending; c.qOwned = true;
  }
  chunk.copy(c.qbuf, c.qlen);
  c.qlen += chunk.length;
}

/** After parsing: keeps any partial frame in a buffer the client owns (the socket may reuse its). */
function compactInput(c: Client): void {
  if (c.qpos === c.qlen && !bigArgPending(c)) {
    c.qbuf = EMPTY; c.qpos = 0; c.qlen = 0; c.qOwned = false;
  } else if (!c.qOwned) {
    const pending = c.qlen - c.qpos;
    const next = Buffer.allocUnsafe(Math.max(OUTBUF_INITIAL, pending * 2));
    c.qbuf.copy(next, 0, c.qpos, c.qlen);
    c.qbuf = next; c.qpos = 0; c.qlen = pending; c.qOwned = true;
  } else if (c.qpos > 0) {
    // As Redis trims its query buffer: what is left starts the buffer (CLIENT LIST's qbuf).
    c.qbuf.copy(c.qbuf, 0, c.qpos, c.qlen);
    c.qlen -= c.qpos;
    c.qpos = 0;
  }
}

/** Answers a protocol error and marks the client to be closed once the reply is written. */
function protocolError(c: Client, msg: string): void {
  log("verbose", `Protocol error (${msg}) from client: ${clientInfoString(c)}`);
  addReplyError(c, `ERR Protocol error: ${msg}`);
  c.closeAfterReply = true;
  c.qpos = c.qlen;
}

/** Parses one inline (telnet-style) command. Returns true when c.argv holds a whole command. */
function parseInline(c: Client): boolean {
  const buf = c.qbuf;
  const nl = buf.indexOf(10, c.qpos);
  // Redis finds the end of a line with strchr, which stops at a NUL byte: a line with a NUL
  // before its newline never ends, and waits until it is too big.
  if (nl < 0 || nl >= c.qlen || buf.subarray(c.qpos, nl).indexOf(0) >= 0) {
    if (c.qlen - c.qpos > PROTO_INLINE_MAX_SIZE) protocolError(c, "too big inline request");
    return false;
  }
  const end = nl > c.qpos && buf[nl - 1] === 13 ? nl - 1 : nl;
  const argv = splitArgs(buf.latin1Slice(c.qpos, end));
  if (argv === null) {
    protocolError(c, "unbalanced quotes in request");
    return false;
  }
  c.qpos = nl + 1;
  c.argv = argv;
  c.argvLen = argvBytes(argv);
  return true;
}

/** The first arguments of the last command read, up to 64 bytes each. Pipelines repeat the same
 *  few command names, often the same key, field names (HSET, XADD) and small values, so comparing
 *  bytes with the argument at the same position usually saves making a string (a miss costs a
 *  compare that mostly stops at the length), a repeated key is the very string the keyspace
 *  remembered last, and repeated field names are stored once. */
const RECENT_ARGS = 32;
const recentArgs: string[] = new Array(RECENT_ARGS).fill("");

function recentArgString(idx: number, buf: Buffer, pos: number, len: number): string {
  const last = recentArgs[idx];
  if (last.length === len) {
    let i = 0;
    while (i < len && last.charCodeAt(i) === buf[pos + i]) i++;
    if (i === len) return last;
  }
  const s = buf.latin1Slice(pos, pos + len);
  if (len <= 64) recentArgs[idx] = s;
  return s;
}

/** Parses (or continues parsing) one multibulk command. Returns true when c.argv is complete. */
function parseMultibulk(c: Client): boolean {
  const buf = c.qbuf, end = c.qlen;
  let pos = c.qpos;
  if (c.mbLen === 0) {
    // The length lines end at their CR as Redis finds it (strchr): a NUL before it hides it.
    let cr = pos;
    while (cr < end && buf[cr] !== 13 && buf[cr] !== 0) cr++;
    if (cr >= end || buf[cr] === 0) {
      if (end - pos > PROTO_INLINE_MAX_SIZE) protocolError(c, "too big mbulk count string");
      return false;
    }
    if (cr + 1 >= end) return false; // the '\n' is not here yet
    const ll = parseIntBytes(buf, pos + 1, cr);
    if (Number.isNaN(ll) || ll > INT_MAX) { protocolError(c, "invalid multibulk length"); return false; }
    if (ll > 10 && authRequired(c)) { protocolError(c, "unauthenticated multibulk length"); return false; }
    c.qpos = pos = cr + 2;
    if (ll <= 0) { c.argv = NO_ARGV; return true; }
    c.mbLen = ll;
    c.argv = [];
    c.argvLen = 0;
  }
  while (c.mbLen > 0) {
    if (c.bulkLen === -1) {
      // A length line is a few bytes: a loop finds its CR sooner than a native indexOf call.
      let cr = pos;
      while (cr < end && buf[cr] !== 13 && buf[cr] !== 0) cr++;
      if (cr >= end || buf[cr] === 0) {
        if (end - pos > PROTO_INLINE_MAX_SIZE) { protocolError(c, "too big bulk count string"); return false; }
        break;
      }
      if (cr + 1 >= end) break;
      if (buf[pos] !== 36 /* $ */) {
        // Redis's error replies never carry CR or LF: they become spaces.
        const got = buf[pos] === 13 || buf[pos] === 10 ? " " : String.fromCharCode(buf[pos]);
        protocolError(c, `expected '$', got '${got}'`);
        return false;
      }
      const ll = parseIntBytes(buf, pos + 1, cr);
      if (Number.isNaN(ll) || ll < 0 || (!c.isMaster && ll > hot.protoMaxBulkLen)) { protocolError(c, "invalid bulk length"); return false; }
      if (ll > 16384 && authRequired(c)) { protocolError(c, "unauthenticated bulk length"); return false; }
      pos = cr + 2;
      c.bulkLen = ll;
      if (ll >= PROTO_MBULK_BIG_ARG && !c.isMaster && end - pos < ll + 2) {
        // As Redis, a big argument gets a buffer of its own size that it starts: its bytes are
        // read into place, and the client's memory is the argument's from its first byte on.
        const next = Buffer.allocUnsafe(ll + 2);
        buf.copy(next, 0, pos, end);
        c.qbuf = next; c.qOwned = true; c.qpos = 0; c.qlen = end - pos;
        return false;
      }
    }
    // Like Redis, the two bytes after the payload are skipped unchecked.
    if (end - pos < c.bulkLen + 2) break;
    const argc = c.argv.length;
    c.argv.push(argc < RECENT_ARGS ? recentArgString(argc, buf, pos, c.bulkLen) : buf.latin1Slice(pos, pos + c.bulkLen));
    c.argvLen += c.bulkLen;
    pos += c.bulkLen + 2;
    c.bulkLen = -1;
    c.mbLen--;
  }
  c.qpos = pos;
  return c.mbLen === 0;
}

/** Makes room for n more bytes in the client's output buffer and queues the client for writing. */
function reserve(c: Client, n: number): Buffer {
  if (c.outLen === 0 && !c.pendingWrite) { c.pendingWrite = true; clientsPendingWrite.push(c); }
  let out = c.out;
  if (out.length - c.outLen < n) {
    const next = Buffer.allocUnsafe(Math.max(out.length * 2, c.outLen + n));
    out.copy(next, 0, 0, c.outLen);
    c.out = out = next;
    updateClientMemUsage(c);
  }
  return out;
}

/** Copies a latin1 string into `out` at p; returns the end. Short strings are copied by hand,
 *  which costs less than the native call. */
function writeLatin1(out: Buffer, s: string, p: number): number {
  const n = s.length;
  if (n > 16) return p + out.latin1Write(s, p);
  for (let i = 0; i < n; i++) out[p + i] = s.charCodeAt(i);
  return p + n;
}

/** The number of decimal digits of a non-negative integer. */
function decimalDigits(n: number): number {
  if (n < 2147483648) {
    return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : n < 100000 ? 5 : n < 1000000 ? 6 : n < 10000000 ? 7
      : n < 100000000 ? 8 : n < 1000000000 ? 9 : 10;
  }
  let digits = 1;
  for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
  return digits;
}

/** Writes an integer in decimal at p, by hand (no string on the hot path); returns the end. */
function writeDecimal(out: Buffer, p: number, n: number): number {
  if (n < 0) { out[p++] = 45; n = -n; }
  if (n < 10) out[p++] = 48 + n;
  else if (n < 2147483648) {
    // Int32 arithmetic, the common case (lengths, counts).
    const digits = decimalDigits(n);
    for (let i = p + digits - 1; i >= p; i--) { const q = (n / 10) | 0; out[i] = 48 + n - q * 10; n = q; }
    p += digits;
  } else if (n >= 1e15) p += out.latin1Write(String(n), p);
  else {
    const digits = decimalDigits(n);
    for (let i = p + digits - 1; i >= p; i--) { out[i] = 48 + (n % 10); n = Math.floor(n / 10); }
    p += digits;
  }
  return p;
}

/** Appends a latin1 string of protocol bytes as they are. */
function addReplyProto(c: Client, s: string): void {
  const out = reserve(c, s.length);
  c.outLen = writeLatin1(out, s, c.outLen);
}

/** Appends "<prefix><integer>\r\n". */
function addReplyPrefixedInt(c: Client, prefix: number, n: number): void {
  const out = reserve(c, 24);
  let p = c.outLen;
  out[p++] = prefix;
  p = writeDecimal(out, p, n);
  out[p++] = 13; out[p++] = 10;
  c.outLen = p;
}

function addReplyStatus(c: Client, s: string): void { addReplyProto(c, `+${s}\r\n`); }
function addReplyOK(c: Client): void { addReplyProto(c, "+OK\r\n"); }

/** Appends an error; `msg` starts with its code ("ERR ...", "WRONGTYPE ..."). Newlines become
 *  spaces, and the error is counted in INFO errorstats, as in Redis, unless `count` is false (an
 *  error a script passes on was counted when its command failed). */
function addReplyError(c: Client, msg: string, count = true): void {
  if (msg.includes("\r") || msg.includes("\n")) msg = msg.replace(/[\r\n]/g, " ");
  addReplyProto(c, `-${msg}\r\n`);
  if (count) countErrorReply(msg);
  if (c.isMaster || c.isAof) errorToSource(c, msg);
}

/** An error for a command from our master or the AOF: the data may have diverged. Logged with the
 *  latest backlog, counted, and, as propagation-error-behavior says, fatal (Redis's afterErrorReply). */
function errorToSource(c: Client, msg: string): void {
  const [from, to] = c.isAof ? ["server", "AOF-loading-client"] : ["replica", "master"];
  log("warning", `== CRITICAL == This ${from} is sending an error to its ${to}: '${msg.slice(0, 4096)}' after processing the command '${c.lastCmd === "NULL" ? "<unknown>" : c.lastCmd}'`);
  if (c.isMaster && repl.backlog && repl.backlogHistlen > 0) {
    const n = Math.min(256, repl.backlogHistlen);
    log("warning", `Latest backlog is: '${reprString(backlogSlice(repl.backlogHistlen - n, n))}'`);
  }
  stats.unexpectedErrorReplies++;
  const behavior = String(conf["propagation-error-behavior"]);
  if ((c.isMaster && conf["replica-read-only"] && behavior !== "ignore") || (c.isAof && behavior === "panic")) {
    crashWithReport("SIGABRT", 0, `This ${from} panicked sending an error to its ${to} after processing the command '${c.lastCmd === "NULL" ? "<unknown>" : c.lastCmd}'`);
  }
}

/** Counts an error reply in INFO's total_error_replies and errorstats, by its code. */
function countErrorReply(msg: string): void {
  stats.errorReplies++;
  const sp = msg.indexOf(" ");
  const code = sp < 0 ? msg : msg.slice(0, sp);
  errorStats.set(code, (errorStats.get(code) ?? 0) + 1);
}

/** ":<n>\r\n" for an integer already formatted as a string. */
function addReplyIntegerString(c: Client, s: string): void {
  const out = reserve(c, s.length + 3);
  let p = c.outLen;
  out[p++] = 58; // :
  p = writeLatin1(out, s, p);
  out[p++] = 13; out[p++] = 10;
  c.outLen = p;
}

function addReplyLongLong(c: Client, n: number | bigint): void {
  if (typeof n === "bigint") addReplyIntegerString(c, String(n));
  else addReplyPrefixedInt(c, 58 /* : */, n);
}

/** Appends a bulk string: "$<len>\r\n<bytes>\r\n". */
function addReplyBulk(c: Client, s: string): void {
  const out = reserve(c, s.length + 26);
  let p = c.outLen;
  out[p++] = 36; // $
  p = writeDecimal(out, p, s.length);
  out[p++] = 13; out[p++] = 10;
  p = writeLatin1(out, s, p);
  out[p++] = 13; out[p++] = 10;
  c.outLen = p;
}

/** The bytes of b from start to end as a bulk string. */
function addReplyBulkBytes(c: Client, b: Buffer, start: number, end: number): void {
  const n = end - start, out = reserve(c, n + 26);
  let p = c.outLen;
  out[p++] = 36; // $
  p = writeDecimal(out, p, n);
  out[p++] = 13; out[p++] = 10;
  if (n > 16) p += b.copy(out, p, start, end);
  else for (let i = start; i < end; i++) out[p++] = b[i];
  out[p++] = 13; out[p++] = 10;
  c.outLen = p;
}

function addReplyNull(c: Client): void { addReplyProto(c, c.resp === 2 ? "$-1\r\n" : "_\r\n"); }
function addReplyNullArray(c: Client): void { addReplyProto(c, c.resp === 2 ? "*-1\r\n" : "_\r\n"); }
function addReplyArrayLen(c: Client, n: number): void { addReplyPrefixedInt(c, 42 /* * */, n); }
function addReplyMapLen(c: Client, n: number): void {
  if (c.resp === 2) addReplyPrefixedInt(c, 42, n * 2);
  else addReplyPrefixedInt(c, 37 /* % */, n);
}
function addReplySetLen(c: Client, n: number): void { addReplyPrefixedInt(c, c.resp === 2 ? 42 : 126 /* ~ */, n); }
function addReplyPushLen(c: Client, n: number): void { addReplyPrefixedInt(c, c.resp === 2 ? 42 : 62 /* > */, n); }
function addReplyBool(c: Client, b: boolean): void { addReplyProto(c, c.resp === 2 ? (b ? ":1\r\n" : ":0\r\n") : b ? "#t\r\n" : "#f\r\n"); }

/** A double: a bulk string in RESP2, a ',' double in RESP3. */
function addReplyDouble(c: Client, d: number): void {
  const s = Number.isNaN(d) ? "nan" : formatDouble(d);
  if (c.resp === 2) addReplyBulk(c, s);
  else addReplyProto(c, `,${s}\r\n`);
}

/** A big number: a bulk string in RESP2, a '(' big number in RESP3. */
function addReplyBigNum(c: Client, s: string): void {
  if (c.resp === 2) addReplyBulk(c, s);
  else addReplyProto(c, `(${s}\r\n`);
}

/** Text meant for humans (INFO, CLIENT LIST ...): a verbatim string in RESP3, whose format is
 *  three characters (cut or padded with spaces, as Redis writes it). */
function addReplyVerbatim(c: Client, s: string, ext = "txt"): void {
  if (c.resp === 2) return addReplyBulk(c, s);
  addReplyPrefixedInt(c, 61 /* = */, s.length + 4);
  addReplyProto(c, `${ext.length === 3 ? ext : ext.slice(0, 3).padEnd(3, " ")}:`);
  const out = reserve(c, s.length + 2);
  let p = c.outLen + out.latin1Write(s, c.outLen);
  out[p++] = 13; out[p++] = 10;
  c.outLen = p;
}

function addReplyBulks(c: Client, items: string[]): void {
  addReplyArrayLen(c, items.length);
  for (const s of items) addReplyBulk(c, s);
}

/** Redis's addReplySubcommandSyntaxError: the subcommand as typed (at most 128 bytes), the
 *  command upper-cased. */
function addReplySubcommandSyntaxError(c: Client): void {
  addReplyError(c, `ERR unknown subcommand or wrong number of arguments for '${c.argv[1].slice(0, 128)}'. Try ${c.argv[0].toUpperCase()} HELP.`);
}

/** A help text: RESP2 array of status lines, as Redis's addReplyHelp. */
function addReplyHelp(c: Client, cmd: string, lines: string[]): void {
  const all = [`${cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`, ...lines, "HELP", "    Prints this help."];
  addReplyArrayLen(c, all.length);
  for (const l of all) addReplyStatus(c, l);
}
/** Exact error strings shared by many commands. */
const E = {
  syntax: "ERR syntax error",
  notInt: "ERR value is not an integer or out of range",
  notFloat: "ERR value is not a valid float",
  wrongType: "WRONGTYPE Operation against a key holding the wrong kind of value",
  noKey: "ERR no such key",
  overflow: "ERR increment or decrement would overflow",
  outOfRange: "ERR index out of range",
  dbIndex: "ERR DB index is out of range",
  noAuth: "NOAUTH Authentication required.",
  wrongPass: "WRONGPASS invalid username-password pair or user is disabled.",
  nanOrInf: "ERR increment would produce NaN or Infinity",
  bigString: "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
  busyScript: "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
  busyFunction: "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.",
  misconfRdb: "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.",
};

// ============================================================================================
// Clients
//
// A Client is one connection: its parser state, its output buffer, and what the protocol needs
// to remember about it (database, RESP version, MULTI queue, subscriptions, blocking state,
// replica state). Output goes out once per event loop turn (handleClientsWithPendingWrites);
// what the socket does not take waits for `drain`, within client-output-buffer-limit.
// ============================================================================================

class Client {
  id = ++server.nextClientId;
  db = 0;
  resp = 2;
  name = "";
  libName = "";
  libVer = "";
  authenticated = false;
  user: AclUser | null = defaultUser; // null: the master link and the AOF loader, which may run anything
  // Input: the query buffer and the parser's state.
  qbuf: Buffer = EMPTY;
  qpos = 0;
  qlen = 0;
  qOwned = false;
  reqtype = 0;
  mbLen = 0;
  bulkLen = -1;
  argv: string[] = [];
  // Output.
  out: Buffer = Buffer.allocUnsafe(OUTBUF_INITIAL);
  outLen = 0;
  pendingWrite = false;
  closeAfterReply = false;
  closed = false;
  // State shown by CLIENT LIST / INFO.
  createdAt = now();
  lastInteraction = now();
  lastCmd = "NULL";
  isMaster = false;
  isAof = false; // the fake client that replays the AOF
  // Replication, when this client is a replica of ours.
  replState: "" | "wait_bgsave" | "wait_bgsave_next" | "online" | "rdb_only" = "";
  replOldSync = false; // SYNC rather than PSYNC: no +FULLRESYNC line
  replCapaPsync2 = false;
  replCapaEof = false; // REPLCONF capa eof: reads an RDB of unknown length ($EOF:<mark>), streamed as it is made
  replListeningPort = 0;
  replIp = "";
  replAckOff = 0;
  replAckTime = 0;
  rdbOnly = false; // REPLCONF rdb-only (redis-cli --rdb): the RDB, then goodbye
  replRdbFilter: { functions: boolean } | null = null; // REPLCONF rdb-filter-only: an RDB without keys
  replCmdBytes: Buffer[] = []; // on the master link: the bytes of the command being received
  woff = 0; // the replication offset after this client's last write (for WAIT)
  waitState: { numreplicas: number; offset: number; timer: ReturnType<typeof setTimeout> | null } | null = null;
  propArgv: string[] | null = null; // what the running command propagates instead of its argv
  preventProp = false; // the running command propagated its effects itself (XREADGROUP, XCLAIM)
  propTargets = PROPAGATE_AOF | PROPAGATE_REPL; // where its writes go (a script's redis.set_repl)
  xreadState: { targets: XReadTarget[]; groupName: string; consumerName: string; count: number; noack: boolean } | null = null;
  monitor = false;
  // CLIENT REPLY: OFF silences every reply, SKIP the next request's (replySkipNext turns into
  // replySkip when the CLIENT REPLY SKIP request ends); pushes get through (keptPushes).
  replyOff = false;
  replySkip = false;
  replySkipNext = false;
  keptPushes: number[] | null = null; // [start, end) spans of pushes written while its replies are silenced
  noEvict = false;
  noTouch = false;
  unixSocket = false; // connected through unixsocket
  shutdownWait = false; // its SHUTDOWN waits for replicas (it is answered only if that fails)
  paused: string[] | null = null; // the command held back by CLIENT PAUSE
  bstate: BlockState | null = null; // set while blocked on keys (BLPOP ...)
  // Transactions: the queued commands while in MULTI, and why EXEC must fail.
  mstate: { cmd: RedisCommand; argv: string[] }[] | null = null;
  dirtyExec = false; // an error while queueing: EXECABORT
  dirtyCas = false; // a watched key changed: EXEC answers nil
  watched: WatchedKey[] = [];
  denyBlocking = false; // inside EXEC, blocking commands do not block
  scriptBlocked = false; // its script is past busy-reply-threshold: its next commands wait for the end
  // Pub/Sub.
  channels = new Set<string>();
  patterns = new Set<string>();
  shardChannels = new Set<string>();
  // Client-side caching (its chapter): TRACKING_* flags, where invalidations go, BCAST prefixes.
  tracking = 0;
  trackingRedirect = 0;
  trackingPrefixes: Set<string> | null = null;
  softLimitSince = 0; // when the output buffer first passed its soft limit
  rbs = OUTBUF_INITIAL; // its reply buffer's size, as Redis sizes it (see clientsCron)
  // The most output it held since outPeakSince (the reply buffer's peak). As in Redis, a new
  // client's peak is its whole buffer, and its first peak reset comes at clientsCron's first pass
  // (Redis stamps it in seconds and compares in milliseconds).
  outPeak = OUTBUF_INITIAL;
  outPeakSince = 0;
  argvLen = 0; // the bytes of the arguments read so far of the command being read
  multiMem = 0; // the bytes of the commands queued in MULTI
  memUsage = 0; // its memory as last counted (see updateClientMemUsage)
  memEvictable = false; // memUsage is in clientMem.evictable
  memBucket: Set<Client> | null = null; // its client eviction bucket, if it may be evicted
  rdbInFlight = 0; // a replica's RDB bytes still in `out`: not counted against its output limit
  constructor(public sock: Socket<Client> | null, public addr = "", public laddr = "") {}
}

/** Redis's islocalClient, which DEBUG and protected configs allow under "local": the peer is
 *  127.0.0.1 or ::1 exactly (not all of 127/8), or an internal client with no socket. */
function isLocalClient(c: Client): boolean {
  return !c.sock || c.unixSocket || isLoopbackIp(c.addr.slice(0, c.addr.lastIndexOf(":")).replace(/^\[|\]$/g, ""));
}

/** 127.0.0.1 or ::1, also as IPv4-mapped IPv6 (a dual-stack socket's spelling of 127.0.0.1). */
function isLoopbackIp(ip: string): boolean { return ip === "127.0.0.1" || ip === "::1" || ip === "::ffff:127.0.0.1"; }

/** Redis's allowProtectedAction: may this client use what enable-debug-command,
 *  enable-module-command or enable-protected-configs guard? */
function allowProtectedAction(setting: ConfigValue, c: Client): boolean {
  return setting === "yes" || (setting === "local" && isLocalClient(c));
}

/** True while this client must authenticate before running commands: the default user has a
 *  password or is disabled, and the client has not logged in. */
function authRequired(c: Client): boolean {
  return !c.authenticated && (defaultUser.flags & (USER_NOPASS | USER_OFF)) !== USER_NOPASS;
}

/** One line of CLIENT LIST / CLIENT INFO for this client. */
function clientInfoString(c: Client): string {
  const nowMs = now();
  // The letters and their order are Redis's (see getClientInfoString).
  const flags = (c.monitor ? "O" : c.replState ? "S" : "") + (c.isMaster ? "M" : "") + (clientTotalSubscriptions(c) ? "P" : "") + (c.mstate ? "x" : "") +
    (c.paused || c.bstate ? "b" : "") + (c.tracking & TRACKING_ON ? "t" : "") + (c.tracking & TRACKING_BROKEN_REDIR ? "R" : "") +
    (c.tracking & TRACKING_BCAST ? "B" : "") + (c.dirtyCas ? "d" : "") + (c.closeAfterReply ? "c" : "") +
    (c.unixSocket ? "U" : "") + (c.noEvict ? "e" : "") + (c.noTouch ? "T" : "") || "N";
  return `id=${c.id} addr=${c.addr} laddr=${c.laddr} fd=${c.id + 7} name=${c.name} age=${Math.floor((nowMs - c.createdAt) / 1000)} ` +
    `idle=${Math.floor((nowMs - c.lastInteraction) / 1000)} flags=${flags} db=${c.db} sub=${c.channels.size} psub=${c.patterns.size} ssub=${c.shardChannels.size} multi=${c.mstate ? c.mstate.length : -1} ` +
    `qbuf=${c.qlen} qbuf-free=${c.qOwned ? c.qbuf.length - c.qlen : 0} argv-mem=${c.argvLen} ` +
    `multi-mem=${c.mstate ? c.multiMem : 0} rbs=${c.rbs} rbp=${Math.min(Math.max(c.outPeak, c.outLen), c.rbs)} ` +
    `obl=${Math.min(c.outLen, c.rbs)} oll=${Math.ceil(Math.max(0, c.outLen - c.rbs) / OUTBUF_INITIAL)} omem=${Math.max(0, c.outLen - c.rbs)} ` +
    `tot-mem=${clientMemoryUsage(c)} events=r${c.outLen ? "w" : ""} cmd=${c.lastCmd} user=${c.user?.name ?? "(superuser)"} redir=${c.tracking & TRACKING_ON ? c.trackingRedirect : -1} resp=${c.resp}` +
    (c.libName || c.libVer ? ` lib-name=${c.libName} lib-ver=${c.libVer}` : "");
}

const clientsPendingWrite: Client[] = [];

/** Writes every client's pending output: one socket write per client per event. What the socket
 *  does not take stays in the buffer and goes out on 'drain'. */
function handleClientsWithPendingWrites(): void {
  if (tracking.bcastPending) trackingBroadcastInvalidationMessages(); // the keys BCAST clients asked for, once per turn
  flushAppendOnlyFile(); // what a reply acknowledges is written (and, with "always", synced) first
  replicationRequestAckIfNeeded();
  for (let i = 0; i < clientsPendingWrite.length; i++) {
    const c = clientsPendingWrite[i];
    c.pendingWrite = false;
    writeToClient(c);
  }
  clientsPendingWrite.length = 0;
  if (clientMem.buckets) evictClients();
}

function writeToClient(c: Client): void {
  // Nothing goes back to our master as a reply (as Redis's prepareClientToWrite refuses it): its
  // commands may run later than they arrived (waiting for the Lua VM), after the stream loop
  // dropped their replies. REPLCONF ACK is written to the link directly.
  if (c.closed || !c.sock || c.isMaster) { c.outLen = 0; return; }
  if (c.outLen > c.outPeak) c.outPeak = c.outLen;
  if (c.outLen > 0) {
    const written = c.sock.write(c.out, 0, c.outLen);
    if (written < 0) return freeClient(c);
    stats.writes++;
    stats.netOutput += written;
    if (written < c.outLen) {
      c.out.copyWithin(0, written, c.outLen);
      c.outLen -= written;
      if (c.rdbInFlight) c.rdbInFlight = Math.max(0, c.rdbInFlight - written);
      checkClientOutputBufferLimits(c);
      if (clientMem.buckets || hot.maxmemory) updateClientMemUsage(c);
      return; // the rest goes on 'drain'
    }
    c.outLen = 0;
    c.rdbInFlight = 0;
    // A burst (a huge GET, say) must not pin its buffer for the connection's lifetime.
    if (c.out.length > 1024 * 1024) c.out = Buffer.allocUnsafe(c.rbs);
  }
  if (c.closeAfterReply) return freeClient(c);
  if (clientMem.buckets || hot.maxmemory) updateClientMemUsage(c);
}

/** Closes a client's connection and forgets it. */
function freeClient(c: Client): void {
  if (c.closed) return;
  c.closed = true;
  server.clients.delete(c.id);
  server.monitors.delete(c);
  server.pausedClients.delete(c);
  unblockClient(c);
  unwatchAllKeys(c);
  pubsubUnsubscribeEverything(c);
  if (c.tracking & TRACKING_ON) disableTracking(c);
  if (c.replState) { repl.replicas.delete(c); repl.snapshot?.replicas.delete(c); }
  if (c.waitState) { if (c.waitState.timer) clearTimeout(c.waitState.timer); waitingClients.delete(c); }
  if (c === repl.master) masterLinkLost();
  if (c.shutdownWait) shutdownState.waiting.delete(c);
  clientMem.total -= c.memUsage;
  if (c.memEvictable) clientMem.evictable -= c.memUsage;
  c.memUsage = 0;
  c.memBucket?.delete(c);
  c.memBucket = null;
  c.sock?.end();
}

let outputLimitsCache: [string, number[]] = ["", []];
/** client-output-buffer-limit as numbers ("normal h s secs slave ... pubsub ..."), parsed once per value. */
function outputBufferLimits(): number[] {
  const s = String(conf["client-output-buffer-limit"]);
  if (outputLimitsCache[0] !== s) outputLimitsCache = [s, s.split(" ").map(Number)];
  return outputLimitsCache[1];
}

/** Closes a client whose output buffer passed its class's client-output-buffer-limit: at once
 *  past the hard limit, or after staying past the soft limit for its seconds. A replica's buffer
 *  is the replication stream: while it waits for its RDB, what the snapshot has held back for it;
 *  once online, what it has not read yet, the RDB itself excepted (Redis sends that from the file). */
function checkClientOutputBufferLimits(c: Client): void {
  const type = clientType(c);
  if (type === "master") return;
  const cls = type === "pubsub" ? 2 : type === "replica" ? 1 : 0;
  const limits = outputBufferLimits();
  const hard = limits[cls * 4 + 1], soft = limits[cls * 4 + 2], secs = limits[cls * 4 + 3];
  const used = type !== "replica" ? c.outLen : c.replState === "online" ? c.outLen - c.rdbInFlight :
    repl.snapshot?.replicas.has(c) ? repl.snapshot.pendingBytes : 0;
  let over = hard > 0 && used >= hard;
  if (!over && soft > 0 && used >= soft) {
    // In whole seconds, as Redis's server.unixtime: past the limit for more than `secs` of them.
    if (!c.softLimitSince) c.softLimitSince = wallClock();
    else if (Math.floor(wallClock() / 1000) - Math.floor(c.softLimitSince / 1000) > secs) over = true;
  } else if (used < soft || soft === 0) c.softLimitSince = 0;
  if (over && !c.closed) {
    log("warning", `Client ${clientInfoString(c)} scheduled to be closed ASAP for overcoming of output buffer limits.`);
    c.outLen = 0;
    c.out = Buffer.allocUnsafe(OUTBUF_INITIAL);
    freeClient(c);
  }
}

/** The class a client belongs to for CLIENT LIST/KILL TYPE and output buffer limits. */
function clientType(c: Client): "normal" | "master" | "replica" | "pubsub" {
  if (c.isMaster) return "master";
  if (c.replState) return "replica";
  return clientTotalSubscriptions(c) ? "pubsub" : "normal";
}

// --- Client memory, and client eviction (maxmemory-clients)
//
// What a client holds, counted as Redis's getClientMemoryUsage counts it: its output buffer, its
// query buffer, the arguments of the command being
// read, the commands queued in MULTI, and a few words per watched key, subscription and tracking
// prefix. Each client's figure is counted again when it changes (after a read and its commands,
// when the output buffer grows, after a write, once a second in clientsCron), and the sum of all
// but replicas' is part of used_memory: client buffers count against maxmemory, as in Redis.
//
// With maxmemory-clients set, every normal or pubsub client without CLIENT NO-EVICT sits in one of
// 19 buckets by the log2 of its memory (32 KiB and under in the first, 8 GiB and over in the
// last), as Redis's client_mem_usage_buckets. When normal and pubsub clients together reach the
// limit, the clients of the highest bucket are freed first, in the order they entered it, until
// the total is below the limit again: before each command and at the end of each event.

const CLIENT_MEM_BUCKET_MIN_LOG = 15, CLIENT_MEM_BUCKET_MAX_LOG = 33;
/** The smallest reply buffer clientsCron shrinks to (its largest is OUTBUF_INITIAL). */
const PROTO_REPLY_MIN_BYTES = 1024;
/** The Client object and its sets, as a constant: Redis counts zmalloc_size(c) there. */
const CLIENT_BASE_BYTES = 1024;

const clientMem = {
  total: 0, // every client but replicas: used_memory's share
  evictable: 0, // normal and pubsub clients: what maxmemory-clients limits (Redis's stat_clients_type_memory)
  buckets: null as Set<Client>[] | null, // while maxmemory-clients is set
};

/** The bytes of some arguments (Redis's argv_len_sum). */
function argvBytes(argv: string[]): number {
  let n = 0;
  for (let i = 0; i < argv.length; i++) n += argv[i].length;
  return n;
}

/** A client's memory. Its output buffer counts as Redis's reply buffer and reply list would:
 *  the reply buffer's size (rbs), and past it the bytes still waiting (Redis frees a reply block
 *  once written; the room this buffer keeps after a burst is not counted, and clientsCron gives
 *  it back once the client is idle). */
function clientMemoryUsage(c: Client): number {
  const out = c.rbs + Math.max(0, c.outLen - c.rbs);
  let mem = CLIENT_BASE_BYTES + out + (c.qOwned ? c.qbuf.length : 0) + c.argvLen + 8 * c.argv.length;
  if (c.mstate) mem += c.multiMem + 24 * c.mstate.length;
  mem += 40 * c.watched.length + 24 * c.patterns.size + 32 * (c.channels.size + c.shardChannels.size);
  if (c.trackingPrefixes) mem += 32 * c.trackingPrefixes.size;
  return mem;
}

/** maxmemory-clients in bytes (a percentage is of maxmemory), at least 128 KiB; 0 when unset. */
function clientEvictionLimit(): number {
  const v = confNum("maxmemory-clients"), maxmemory = confNum("maxmemory");
  let limit: number;
  if (v < 0 && maxmemory > 0) limit = Math.floor((maxmemory * -v) / 100);
  else if (v > 0) limit = v;
  else return 0;
  return Math.max(limit, 128 * 1024);
}

/** Counts a client's memory again and, with client eviction on, moves it to its bucket (Redis's
 *  updateClientMemUsageAndBucket). Returns whether it may be evicted. */
function updateClientMemUsage(c: Client): boolean {
  if (c.closed || !c.sock) return false; // the Lua and AOF clients are not connections
  const type = clientType(c);
  const mem = type === "replica" ? 0 : clientMemoryUsage(c);
  const evictable = type === "normal" || type === "pubsub";
  clientMem.total += mem - c.memUsage;
  clientMem.evictable += (evictable ? mem : 0) - (c.memEvictable ? c.memUsage : 0);
  c.memUsage = mem;
  c.memEvictable = evictable;
  const buckets = clientMem.buckets;
  if (!buckets) return false;
  let bucket: Set<Client> | null = null;
  if (evictable && !c.noEvict) {
    const bits = mem < 2 ** 32 ? 32 - Math.clz32(mem) : 64 - Math.clz32(Math.floor(mem / 2 ** 32));
    bucket = buckets[Math.min(Math.max(bits, CLIENT_MEM_BUCKET_MIN_LOG), CLIENT_MEM_BUCKET_MAX_LOG) - CLIENT_MEM_BUCKET_MIN_LOG];
  }
  if (bucket !== c.memBucket) {
    c.memBucket?.delete(c);
    bucket?.add(c);
    c.memBucket = bucket;
  }
  return bucket !== null;
}

/** maxmemory-clients set, changed or unset: the buckets are made and filled, or let go. */
function clientEvictionConfigChanged(): void {
  const on = confNum("maxmemory-clients") !== 0;
  if (on && !clientMem.buckets) {
    clientMem.buckets = Array.from({ length: CLIENT_MEM_BUCKET_MAX_LOG - CLIENT_MEM_BUCKET_MIN_LOG + 1 }, () => new Set<Client>());
  }
  if (!on) clientMem.buckets = null;
  for (const c of server.clients.values()) {
    if (!on) c.memBucket = null;
    updateClientMemUsage(c);
  }
}

/** Frees the biggest clients until all of them together hold less than maxmemory-clients. */
function evictClients(): void {
  const buckets = clientMem.buckets;
  if (!buckets) return;
  const limit = clientEvictionLimit();
  if (!limit) return;
  let b = buckets.length - 1;
  while (clientMem.evictable >= limit) {
    const next = buckets[b].values().next();
    if (next.done) {
      if (--b < 0) { log("warning", "Over client maxmemory after evicting all evictable clients"); break; }
      continue;
    }
    const c = next.value;
    log("notice", `Evicting client: ${clientInfoString(c)}`);
    freeClient(c);
    stats.evictedClients++;
  }
}

let clientsCronIter: Iterator<Client> | null = null;

/** The clients' share of serverCron (Redis's clientsCron), each client about once a second: a
 *  soft output limit ends in time even without traffic, the reply buffer is resized to what it
 *  has needed lately (between 1 KiB and 16 KiB, as Redis resizes its own), an idle client gives
 *  back the room a burst took, and its memory is counted again. */
function clientsCron(): void {
  const t = wallClock(), n = server.clients.size;
  let iterations = Math.floor(n / confNum("hz"));
  if (iterations < 5) iterations = Math.min(n, 5);
  while (iterations-- > 0) {
    let next = clientsCronIter?.next();
    if (!next || next.done) {
      clientsCronIter = server.clients.values();
      next = clientsCronIter.next();
      if (next.done) return;
    }
    const c = next.value;
    if (c.outLen > 0) { checkClientOutputBufferLimits(c); if (c.closed) continue; }
    if (server.replyBufferResizing) {
      // Redis's rules: shrink to the peak when it stays under half, double (up to 16 KiB) when full.
      const len = c.rbs, peak = Math.min(c.outPeak, len);
      if (len / 2 >= PROTO_REPLY_MIN_BYTES && peak < len / 2) { c.rbs = Math.max(PROTO_REPLY_MIN_BYTES, peak + 1); stats.replyBufferShrinks++; }
      else if (len * 2 < OUTBUF_INITIAL * 2 && peak === len) { c.rbs = Math.min(OUTBUF_INITIAL, len * 2); stats.replyBufferExpands++; }
      if (server.replyBufferPeakResetMs >= 0 && t - c.outPeakSince >= server.replyBufferPeakResetMs) {
        c.outPeak = c.outLen;
        c.outPeakSince = t;
      }
    }
    if (c.outLen === 0 && c.out.length !== c.rbs) c.out = Buffer.allocUnsafe(c.rbs); // the room a burst took goes back
    updateClientMemUsage(c);
  }
}

// ============================================================================================
// Dispatch
//
// The command table is data: each chapter holds its rows (name, arity, negative meaning at least,
// flags, key positions, ACL categories, handler), and buildCommandTable registers them all.
// processCommand runs a request through its gates in Redis's order with Redis's exact errors;
// call() runs the handler and does the bookkeeping (stats, slowlog, MONITOR) and the propagation
// of its effects to the AOF and replicas. Handlers only reply. The argument parsers that reply
// their own errors (parseIntOrReply ...) are here too.
// ============================================================================================

// Command flags, as bits. Their names are Redis's, in the order COMMAND INFO lists them.
const FLAG_NAMES = ["write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript", "blocking", "loading", "stale",
  "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth", "may_replicate", "sentinel", "only_sentinel",
  "no_mandatory_keys", "protected", "no_async_loading", "no_multi", "movablekeys", "allow_busy"] as const;
const CMD_WRITE = 1 << 0, CMD_READONLY = 1 << 1, CMD_DENYOOM = 1 << 2, CMD_ADMIN = 1 << 4, CMD_PUBSUB = 1 << 5,
  CMD_NOSCRIPT = 1 << 6, CMD_BLOCKING = 1 << 7, CMD_LOADING = 1 << 8, CMD_STALE = 1 << 9, CMD_SKIP_MONITOR = 1 << 10,
  CMD_SKIP_SLOWLOG = 1 << 11, CMD_FAST = 1 << 13, CMD_NO_AUTH = 1 << 14, CMD_MAY_REPLICATE = 1 << 15, CMD_PROTECTED = 1 << 19,
  CMD_NO_MANDATORY_KEYS = 1 << 18, CMD_NO_MULTI = 1 << 21, CMD_ALLOW_BUSY = 1 << 23;
// ACL categories, in Redis's order (COMMAND INFO and ACL CAT list them in this order).
const ACL_CATEGORIES = ["keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog",
  "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection", "transaction", "scripting"];

interface RedisCommand {
  id: number; // indexes ACL selectors' command bitmaps
  name: string; // "get", or "config|get" for a subcommand
  arity: number;
  flags: number;
  firstKey: number;
  lastKey: number;
  step: number;
  categories: number; // bitmask over ACL_CATEGORIES
  group: string;
  proc: (c: Client) => void;
  flagsOf: ((argv: string[], cmd: RedisCommand) => number) | null; // flags that depend on the arguments (EVAL's)
  subcommands?: Map<string, RedisCommand>;
  parent?: RedisCommand;
  // INFO commandstats and latencystats (an HDR-style histogram: count per bucket, see latencyRecord).
  latency: Uint32Array | null;
  latencyCount: number;
  calls: number;
  usec: number;
  rejectedCalls: number;
  failedCalls: number;
}

// A row of the command table: name, arity, flags, first key, last key, key step, ACL categories
// (beyond those implied by flags), handler: Redis 7.0's values. Each chapter holds its own rows.
type CommandSpec = [name: string, arity: number, flags: string, firstKey: number, lastKey: number, step: number, categories: string, proc: (c: Client) => void];
/** A group of a chapter's rows: the COMMAND DOCS group, the rows, and container commands' subcommands. */
interface CommandRows { group: string; specs: CommandSpec[]; subs?: Record<string, CommandSpec[]> }

let nextCommandId = 0;

/** Builds a command from its table row; categories implied by flags are added as Redis does. */
function makeCommand(spec: CommandSpec, group: string, parent?: RedisCommand): RedisCommand {
  const [name, arity, flagStr, firstKey, lastKey, step, catStr, proc] = spec;
  let flags = 0;
  for (const f of flagStr.split(" ")) if (f) flags |= 1 << FLAG_NAMES.indexOf(f as (typeof FLAG_NAMES)[number]);
  const cats = new Set(catStr.split(" ").filter(Boolean));
  if (flags & CMD_WRITE) cats.add("write");
  if (flags & CMD_READONLY && !cats.has("scripting")) cats.add("read"); // EVAL_RO is not @read, as in Redis
  if (flags & CMD_ADMIN) { cats.add("admin"); cats.add("dangerous"); }
  if (flags & CMD_PUBSUB) cats.add("pubsub");
  if (flags & CMD_FAST) cats.add("fast");
  if (flags & CMD_BLOCKING) cats.add("blocking");
  if (!(flags & CMD_FAST)) cats.add("slow");
  let categories = 0;
  for (const cat of cats) categories |= 1 << ACL_CATEGORIES.indexOf(cat);
  return { id: nextCommandId++, name: parent ? `${parent.name}|${name}` : name, arity, flags, firstKey, lastKey, step, categories, group, proc, flagsOf: null, parent, latency: null, latencyCount: 0, calls: 0, usec: 0, rejectedCalls: 0, failedCalls: 0 };
}

/** The command table, by lower-case name. A second map answers upper-case names without
 *  lower-casing on the hot path. */
const commandTable = new Map<string, RedisCommand>();
const commandLookup = new Map<string, RedisCommand>();

/** Registers a group of commands; `subs` lists the subcommands of container commands. */
function registerCommands(group: string, specs: CommandSpec[], subs: Record<string, CommandSpec[]> = {}): void {
  for (const spec of specs) {
    const cmd = makeCommand(spec, group);
    if (subs[cmd.name]) {
      cmd.subcommands = new Map();
      for (const s of subs[cmd.name]) cmd.subcommands.set(s[0], makeCommand(s, group, cmd));
    }
    commandTable.set(cmd.name, cmd);
    commandLookup.set(cmd.name, cmd);
    commandLookup.set(cmd.name.toUpperCase(), cmd);
  }
}

/** Builds the command table from every chapter's rows, once all of them are defined (the
 *  last statement before main runs). */
function buildCommandTable(): void {
  for (const rows of [CONFIG_COMMANDS, TRANSACTION_COMMANDS, PUBSUB_COMMANDS, STRING_COMMANDS, LIST_COMMANDS, HASH_COMMANDS, SET_COMMANDS, ZSET_COMMANDS, GEO_COMMANDS, HLL_COMMANDS, STREAM_COMMANDS, KEY_COMMANDS, SERVER_COMMANDS, ACL_COMMANDS, RDB_COMMANDS, AOF_COMMANDS, REPLICATION_COMMANDS, SCRIPTING_COMMANDS])
    for (const { group, specs, subs } of rows) registerCommands(group, specs, subs);
  for (const [name, flagsOf] of Object.entries(COMMAND_FLAGS_OF)) commandTable.get(name)!.flagsOf = flagsOf;
}

/** A command's flags for this call (Redis's getCommandFlags): a script declares its own. */
function commandFlags(cmd: RedisCommand, argv: string[]): number {
  return cmd.flagsOf === null ? cmd.flags : cmd.flagsOf(argv, cmd);
}

/** The last name looked up and its command: a pipeline's names are mostly the parser's reused
 *  strings, which compare by identity. */
let lastLookupName = "", lastLookupCmd: RedisCommand | undefined;

function lookupCommand(argv: string[]): RedisCommand | undefined {
  let cmd = lastLookupCmd;
  if (argv[0] !== lastLookupName) {
    cmd = lastLookupCmd = commandLookup.get(argv[0]) ?? commandTable.get(argv[0].toLowerCase());
    lastLookupName = argv[0];
  }
  if (cmd?.subcommands && argv.length >= 2) cmd = cmd.subcommands.get(argv[1].toLowerCase());
  return cmd;
}

/** Answers an error for a command refused before running, counting it as Redis does. */
function rejectCommand(c: Client, msg: string, cmd?: RedisCommand): void {
  if (cmd) cmd.rejectedCalls++;
  if (c.mstate) c.dirtyExec = true; // an error while queueing poisons the transaction
  if (cmd?.name === "exec") {
    // A refused EXEC ends the transaction, saying why (Redis's execCommandAbort).
    discardTransaction(c);
    return addReplyError(c, `EXECABORT Transaction discarded because of: ${msg.startsWith("ERR ") ? msg.slice(4) : msg}`);
  }
  addReplyError(c, msg);
}

/** Runs one request as Redis's current client (`requestClient`), drops its replies if CLIENT
 *  REPLY silences them, then resets what lasts one request (Redis's processCommandAndResetClient).
 *  A request that blocks, waits for a pause or a busy script is reset when it ends. */
function processCommandAndResetClient(c: Client): void {
  const outer = requestClient, mark = c.outLen;
  requestClient = c;
  processCommand(c);
  if (c.replyOff || c.replySkip) dropReply(c, mark);
  if (!c.bstate && !c.paused && !c.scriptBlocked) resetClient(c, c.argv);
  requestClient = outer;
}

/** What lasts one request (Redis's resetClient): the replies CLIENT REPLY SKIP silenced, the
 *  pushes kept meanwhile, and a CLIENT CACHING hint (unless a transaction is open or the request
 *  was CLIENT itself). */
function resetClient(c: Client, argv: string[]): void {
  c.keptPushes = null;
  c.replySkip = c.replySkipNext;
  c.replySkipNext = false;
  if (c.tracking & TRACKING_CACHING && !c.mstate && lookupCommand(argv)?.parent?.name !== "client") c.tracking &= ~TRACKING_CACHING;
}

/** Writes the reply of a request that ended later than it ran (a blocked command served, timed
 *  out or unblocked; a busy script's end), silenced as CLIENT REPLY says, and resets the client. */
function replyLater(c: Client, argv: string[], write: () => void): void {
  const mark = c.outLen;
  write();
  if (c.replyOff || c.replySkip) dropReply(c, mark);
  resetClient(c, argv);
}

/** Checks everything that can refuse a command before it runs, then runs it. The gates, in order
 *  (each answers with Redis's exact error and counts the command as rejected):
 *    1. the command exists (unknown command, unknown subcommand);
 *    2. its arity;
 *    3. DEBUG and MODULE as enable-debug-command / enable-module-command allow;
 *    4. authentication (NOAUTH), unless the command needs none;
 *    5. commands that cannot run inside MULTI;
 *    6. ACL: the user may run it on these keys and channels (NOPERM, logged in the ACL log);
 *       then clients over maxmemory-clients are evicted (this one too, if so: nothing runs);
 *    7. a read-only replica refuses writes (READONLY), a stale one most commands (MASTERDOWN);
 *    8. min-replicas-to-write (NOREPLICAS);
 *    9. a RESP2 client in subscribe mode may only manage subscriptions, and while a script is past
 *       busy-reply-threshold only commands flagged allow_busy run (BUSY);
 *   10. the disk refuses writes (MISCONF: a failed BGSAVE with save points, or an AOF write error);
 *   11. maxmemory: evict, then refuse what may grow memory (OOM);
 *   12. CLIENT PAUSE holds the command until the pause ends, and a scripting command waits for the
 *       Lua VM's first start;
 *   13. inside MULTI the command is queued (+QUEUED); otherwise call() runs it, and clients blocked
 *       on keys it made ready are served. */
function processCommand(c: Client): void {
  const argv = c.argv;
  const cmd = lookupCommand(argv);
  if (!cmd) {
    c.lastCmd = "NULL"; // as Redis's lastcmd, which the lookup sets
    const container = commandTable.get(argv[0].toLowerCase());
    if (container?.subcommands) {
      return rejectCommand(c, `ERR unknown subcommand '${argv[1].slice(0, 128)}'. Try ${argv[0].toUpperCase()} HELP.`);
    }
    // Redis formats these with C strings, so each one ends at its first NUL byte.
    const cstr = (s: string, max: number) => { const z = s.indexOf("\0"); return (z < 0 ? s : s.slice(0, z)).slice(0, max); };
    let args = "";
    for (let i = 1; i < argv.length && args.length < 128; i++) args += `'${cstr(argv[i], 128 - args.length)}' `;
    return rejectCommand(c, `ERR unknown command '${cstr(argv[0], 128)}', with args beginning with: ${args}`);
  }
  c.lastCmd = cmd.name; // CLIENT LIST's cmd= names it even if it is only queued or refused
  const flags = cmd.flagsOf === null ? cmd.flags : cmd.flagsOf(argv, cmd);
  if ((cmd.arity > 0 && argv.length !== cmd.arity) || argv.length < -cmd.arity) {
    return rejectCommand(c, `ERR wrong number of arguments for '${cmd.name}' command`, cmd);
  }
  if (cmd.flags & CMD_PROTECTED) {
    const which = cmd.name === "debug" ? "debug" : "module"; // DEBUG, or MODULE's LOAD, LOADEX and UNLOAD
    if (!allowProtectedAction(conf[`enable-${which}-command`], c)) {
      return rejectCommand(c, `ERR ${which.toUpperCase()} command not allowed. If the enable-${which}-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.`, cmd);
    }
  }
  if (authRequired(c) && !(cmd.flags & CMD_NO_AUTH)) return rejectCommand(c, E.noAuth, cmd);
  if (c.mstate && cmd.flags & CMD_NO_MULTI) return rejectCommand(c, "ERR Command not allowed inside a transaction", cmd);
  if (c.user && !c.user.unrestricted) {
    const denied = aclCheckCommand(c.user, cmd, argv);
    if (denied) {
      aclLogDenied(c, denied, cmd, argv);
      return rejectCommand(c, aclDeniedMessage(denied, cmd), cmd);
    }
  }
  if (clientMem.buckets) {
    // Clients over maxmemory-clients go first, which may be this one: then nothing runs.
    evictClients();
    if (c.closed) return;
  }
  if (isReplica() && !c.isMaster && !c.isAof) { // Redis's mustObeyClient: the master and the AOF are obeyed
    if (conf["replica-read-only"] && flags & CMD_WRITE) return rejectCommand(c, "READONLY You can't write against a read only replica.", cmd);
    if (repl.state !== "connected" && !conf["replica-serve-stale-data"] && !(flags & CMD_STALE)) {
      return rejectCommand(c, "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", cmd);
    }
  }
  const writesSomething = (flags & CMD_WRITE) !== 0 || (cmd.name === "exec" && (c.mstate?.some((q) => commandFlags(q.cmd, q.argv) & CMD_WRITE) ?? false));
  if (writesSomething && !c.isMaster && !enoughGoodReplicas()) return rejectCommand(c, "NOREPLICAS Not enough good replicas to write.", cmd);
  if (c.resp === 2 && clientTotalSubscriptions(c) > 0 && !PUBSUB_CONTEXT_COMMANDS.has(cmd.name)) {
    return rejectCommand(c, `ERR Can't execute '${cmd.name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`, cmd);
  }
  // A server still loading its data (an AOF whose scripts wait for the Lua VM) answers only the
  // commands flagged loading (INFO, CONFIG ...); EXEC, only if all it queued are.
  if (server.loading && !c.isAof && (!(flags & CMD_LOADING) || (cmd.name === "exec" && c.mstate?.some((q) => !(q.cmd.flags & CMD_LOADING))))) {
    return rejectCommand(c, "LOADING Redis is loading the dataset in memory", cmd);
  }
  if (scripting.suspended && !(flags & CMD_ALLOW_BUSY)) return rejectCommand(c, scripting.suspended.run.isEval ? E.busyScript : E.busyFunction, cmd);
  // A failed background save (with save points) or an AOF the disk refuses stops writes and PING.
  if ((!server.lastBgsaveOk || aof.writeErr) && !c.isMaster && !c.isAof && (writesSomething || cmd.name === "ping")) {
    const err = diskWriteError();
    if (err) return rejectCommand(c, err, cmd);
  }
  if (hot.maxmemory && !c.isMaster && !c.isAof && !scripting.suspended) {
    // Evict before running anything; refuse what may grow memory if that was not enough.
    const oom = !performEvictions();
    const mayGrow = (flags & CMD_DENYOOM) !== 0 || (c.mstate !== null && !["exec", "discard", "quit", "reset"].includes(cmd.name));
    if (oom && mayGrow) return rejectCommand(c, "OOM command not allowed when used memory > 'maxmemory'.", cmd);
  }
  if (tracking.clients) trackingLimitUsedSlots(); // keep the tracking table within tracking-table-max-keys
  if (!c.isMaster && isPausedFor(cmd.name === "exec" ? pauseFlags(c, cmd, argv) : flags)) {
    c.paused = argv;
    server.pausedClients.add(c);
    return;
  }
  if (scripting.lua === null && scriptingHoldUntilReady(c, cmd)) return;
  if (c.mstate && !MULTI_IMMEDIATE_COMMANDS.has(cmd.name)) {
    // A transaction already doomed (a watched key changed, an error queued) keeps nothing.
    if (!c.dirtyCas && !c.dirtyExec) { c.mstate.push({ cmd, argv }); c.multiMem += argvBytes(argv) + 8 * argv.length; }
    return addReplyProto(c, "+QUEUED\r\n");
  }
  call(c, cmd);
  if (readyKeys.length && !scripting.suspended) handleClientsBlockedOnKeys();
}

/** Records a duration in an HDR-style histogram with 3 significant digits in binary, as Redis's
 *  hdr_histogram does, so INFO latencystats prints the same kind of values (1.003, 659.455).
 *  Buckets 0..255 hold exact values in ns; above, each power of two 2^e is cut in 128 buckets. */
const LATENCY_BUCKETS = 256 + (50 - 8) * 128; // up to 2^50 ns, about 13 days
function latencyRecord(cmd: RedisCommand, ns: number): void {
  // As Redis records it: whole microseconds in ns, between 1 ns and 1 s.
  const v = Math.min(1e9, Math.max(1, Math.round(ns / 1000) * 1000));
  (cmd.latency ??= new Uint32Array(LATENCY_BUCKETS))[latencyBucketIndex(v)]++;
  cmd.latencyCount++;
}

/** The bucket of a value in ns. */
function latencyBucketIndex(v: number): number {
  if (v < 256) return v;
  const e = Math.min(49, v < 2 ** 31 ? 31 - Math.clz32(v) : Math.floor(Math.log2(v)));
  return 256 + (e - 8) * 128 + (Math.min(255, Math.floor(v / 2 ** (e - 7))) - 128);
}
/** The last bucket of a histogram that tracks up to 1 s, as Redis's (it ends at 2^30 - 1 ns). */
const LATENCY_TOP_BUCKET = latencyBucketIndex(2 ** 30 - 1);

/** The largest value a bucket holds, in ns. */
function latencyBucketValue(idx: number): number {
  if (idx < 256) return idx;
  const e = 8 + Math.floor((idx - 256) / 128), width = 2 ** (e - 7);
  return (128 + ((idx - 256) % 128)) * width + width - 1;
}

/** The value at a percentile of a command's latency histogram, in ns. */
function latencyPercentile(cmd: RedisCommand, p: number): number {
  const target = Math.max(1, Math.round((p / 100) * cmd.latencyCount));
  let seen = 0;
  for (let idx = 0; cmd.latency && idx < LATENCY_BUCKETS; idx++) {
    seen += cmd.latency[idx];
    if (seen >= target) return latencyBucketValue(idx);
  }
  return 0;
}

/** True while CLIENT PAUSE holds back a command with these flags: everything under ALL, writes
 *  under WRITE. */
function isPausedFor(flags: number): boolean {
  if (!clientsArePaused()) return false;
  if (server.pauseType === "all" && server.pauseEnd > now()) return true;
  return (flags & (CMD_WRITE | CMD_MAY_REPLICATE)) !== 0;
}

/** True while CLIENT PAUSE (ALL or WRITE) is in force. The dataset then stays as it is: expired
 *  keys only look gone, nothing is evicted (Redis's checkClientPauseTimeoutAndReturnIfPaused). */
function clientsArePaused(): boolean { return server.failoverPause || server.shutdownPause || (server.pauseEnd !== 0 && server.pauseEnd > now()); }

/** The flags CLIENT PAUSE judges a command by: its own, and for EXEC those of what it queued. */
function pauseFlags(c: Client, cmd: RedisCommand, argv: string[]): number {
  let flags = commandFlags(cmd, argv);
  if (cmd.name === "exec" && c.mstate) for (const q of c.mstate) flags |= commandFlags(q.cmd, q.argv) & (CMD_WRITE | CMD_MAY_REPLICATE);
  return flags;
}

/** Redis's checkGoodReplicasStatus: min-replicas-to-write is met, or not asked for. */
function enoughGoodReplicas(): boolean {
  if (hot.minReplicasToWrite <= 0 || hot.minReplicasMaxLag <= 0 || isReplica()) return true;
  const maxLag = hot.minReplicasMaxLag * 1000, t = wallClock();
  let good = 0;
  for (const r of repl.replicas) if (r.replState === "online" && t - r.replAckTime <= maxLag) good++;
  return good >= hot.minReplicasToWrite;
}

/** What a RESP2 client with subscriptions may still run. */
const PUBSUB_CONTEXT_COMMANDS = new Set(["ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe", "punsubscribe", "quit", "reset"]);
/** What runs at once instead of being queued inside MULTI. */
const MULTI_IMMEDIATE_COMMANDS = new Set(["exec", "discard", "multi", "watch", "quit", "reset"]);

/** Runs a command and does what every command needs afterwards: stats, slowlog, MONITOR. */
function call(c: Client, cmd: RedisCommand): void {
  const st: CallState = { cmd, outMark: c.outLen, dirtyBefore: server.dirty, start: chainClock >= 0 ? chainClock : performance.now() };
  errorsSeen = stats.errorReplies;
  // Commands run by EXEC or a script see the time their caller started at, as in Redis.
  if (callDepth === 0) cmdTime = isFrozen(timeCtl) ? timeCtl[1] : Math.floor(clockBase + st.start);
  c.lastCmd = cmd.name;
  c.propArgv = null;
  c.preventProp = false;
  currentClient = c;
  callDepth++;
  try {
    cmd.proc(c);
  } catch (err) {
    // A bug in one command (or a reply too big for an output buffer) answers an error in place of
    // whatever part of the reply was written, and is logged; the server and connection live on.
    log("warning", `Error running '${cmd.name}': ${(err as Error).stack ?? err}`);
    if (c.outLen > st.outMark) c.outLen = st.outMark;
    addReplyError(c, `ERR internal error running '${cmd.name}': ${(err as Error).message}`);
  }
  callDepth--;
  // A script past busy-reply-threshold gave way to the event loop: its command ends with it.
  if (c.scriptBlocked) {
    scripting.suspended!.call = st;
    return;
  }
  callEnd(c, st);
}

/** What call() knows about a command while it runs. */
interface CallState { cmd: RedisCommand; outMark: number; dirtyBefore: number; start: number }

/** The error-reply count when a command last started or ended (Redis's prev_err_count): a command
 *  failed if errors were replied since. Nested calls move it, so an EVAL whose redis.pcall met an
 *  error, and then returned normally, did not fail; the nested command did. */
let errorsSeen = 0;

/** What every command needs after its handler: propagation, stats, slowlog, MONITOR. */
function callEnd(c: Client, st: CallState): void {
  const cmd = st.cmd;
  // What changed the dataset reaches the AOF and replicas, in its effective form. EXEC is never
  // propagated itself: its commands are, wrapped in MULTI/EXEC by propagatePendingCommands.
  if (server.dirty > st.dirtyBefore && cmd.name !== "exec" && !c.preventProp) alsoPropagate(c.db, c.propArgv ?? c.argv, c.propTargets);
  if (callDepth === 0 && pendingOps.length && !scripting.suspended) propagatePendingCommands();
  if (server.dirty > st.dirtyBefore) c.woff = repl.offset;
  const end = performance.now();
  if (chainClock >= 0) chainClock = end;
  if (c.isAof) return;
  const elapsedMs = end - st.start;
  const usec = Math.round(elapsedMs * 1000);
  if (hot.latencyTracking) latencyRecord(cmd, elapsedMs * 1e6);
  cmd.calls++;
  cmd.usec += usec;
  if (stats.errorReplies > errorsSeen) cmd.failedCalls++;
  errorsSeen = stats.errorReplies;
  stats.commands++;
  // A tracking client will be told when what it just read changes (scripts: their caller, keys it declared).
  if (tracking.clients && cmd.flags & CMD_READONLY) trackingAfterRead(c, cmd);
  // A command that blocked reaches the slow log when it is served (updateStatsOnUnblock).
  if (usec >= hot.slowlogSlowerThan && hot.slowlogSlowerThan >= 0 && !(cmd.flags & CMD_SKIP_SLOWLOG) && !c.bstate) slowlogPush(c, cmd, usec);
  if (server.monitors.size && !(cmd.flags & (CMD_SKIP_MONITOR | CMD_ADMIN))) feedMonitors(c, redactedArgv(cmd, c.argv));
  if (hot.latencyMonitorThreshold > 0 && Math.floor(usec / 1000) >= hot.latencyMonitorThreshold) latencyAddSample(cmd.flags & CMD_FAST ? "fast-command" : "command", usec / 1000);
  // Invalidations the client caused itself follow the whole reply (a transaction's, a script's).
  if (tracking.pending.length && callDepth === 0 && !scripting.suspended) trackingHandlePendingKeyInvalidations();
}

/** Drops what a request replied after `mark`, keeping the pushes written meanwhile (Redis's
 *  CLIENT_PUSHING: subscribe confirmations, messages, invalidations reach a client whatever its
 *  CLIENT REPLY mode). */
function dropReply(c: Client, mark: number): void {
  const kept = c.keptPushes;
  let p = mark;
  if (kept) {
    for (let i = 0; i < kept.length; i += 2) {
      if (kept[i] < mark || kept[i + 1] > c.outLen) continue;
      c.out.copyWithin(p, kept[i], kept[i + 1]);
      p += kept[i + 1] - kept[i];
    }
  }
  c.outLen = p;
  c.keptPushes = null;
}

/** Notes a push just written to c from `start`, if c's own request is running with its replies
 *  silenced: dropReply keeps it. */
function keepPush(c: Client, start: number): void {
  if ((c.replyOff || c.replySkip) && c === requestClient) (c.keptPushes ??= []).push(start, c.outLen);
}

// --- Propagation: a command's effects reach the AOF and replicas as commands, after it ran.

interface PropagatedOp { dbIndex: number; argv: string[]; targets: number }
/** Where a propagated command goes (a script chooses with redis.set_repl). */
const PROPAGATE_AOF = 1, PROPAGATE_REPL = 2;
let pendingOps: PropagatedOp[] = [];
let callDepth = 0;

/** True when anything consumes propagated commands: the AOF, or the replication backlog. */
function propagationWanted(): boolean { return (aof.on || repl.backlog !== null) && !aof.loading; }

/** Queues a write for the AOF and replicas (Redis's alsoPropagate). */
function alsoPropagate(dbIndex: number, argv: string[], targets = PROPAGATE_AOF | PROPAGATE_REPL): void {
  if (targets && propagationWanted()) pendingOps.push({ dbIndex, argv, targets });
}

/** Sends what the outermost command queued: one op as is, several wrapped in MULTI/EXEC so
 *  they apply atomically elsewhere too. */
function propagatePendingCommands(): void {
  const ops = pendingOps;
  pendingOps = [];
  const wrap = ops.length > 1;
  if (wrap) propagateNow(ops[0].dbIndex, ["MULTI"]);
  for (const op of ops) propagateNow(op.dbIndex, op.argv, op.targets);
  if (wrap) propagateNow(-1, ["EXEC"]); // in whatever database the last command left selected
}

function propagateNow(dbIndex: number, argv: string[], targets = PROPAGATE_AOF | PROPAGATE_REPL): void {
  if (aof.on && targets & PROPAGATE_AOF) feedAppendOnlyFile(dbIndex, argv);
  if (targets & PROPAGATE_REPL) replicationFeed(dbIndex, argv);
}

/** An expired or evicted key leaves as DEL (UNLINK with lazy freeing), as Redis propagates it. */
function propagateDeletion(db: Db, key: string, lazy: boolean): void {
  alsoPropagate(db.id, [lazy ? "UNLINK" : "DEL", key]);
  if (callDepth === 0 && pendingOps.length && !scripting.suspended) propagatePendingCommands();
}

/** Runs `fn` once the current event is done, then writes what it produced. Used where running
 *  another client's commands inside this command (UNPAUSE, CLIENT UNBLOCK) would interleave them. */
function afterThisCommand(fn: () => void): void {
  queueMicrotask(() => { fn(); handleClientsWithPendingWrites(); });
}

/** Runs every complete command in the client's query buffer, in order. */
function processInputBuffer(c: Client): void {
  // The master's stream has its own loop: it counts the offset and passes the bytes on.
  if (c === repl.master) return masterStreamData(c, EMPTY);
  const p = refreshClockBase();
  // Once per read, as Redis stamps it with its cached clock.
  c.lastInteraction = Math.round(clockBase + p);
  chainClock = p;
  try {
    while (c.qpos < c.qlen && !c.closeAfterReply && !c.paused && !c.bstate && !c.closed && !c.scriptBlocked && !c.shutdownWait && !(c.isMaster && scripting.suspended)) {
      if (!c.reqtype) c.reqtype = c.qbuf[c.qpos] === 42 /* * */ ? REQ_MULTIBULK : REQ_INLINE;
      const complete = c.reqtype === REQ_INLINE ? parseInline(c) : parseMultibulk(c);
      if (!complete) break;
      c.reqtype = 0;
      if (c.argv.length > 0) {
        processCommandAndResetClient(c);
        // Replies wait in c.out until the event ends: a pipeline of big replies meets the limit here.
        if (c.outLen > 65536) checkClientOutputBufferLimits(c);
      }
      c.argv = NO_ARGV;
      c.argvLen = 0;
      if (clientMem.buckets) updateClientMemUsage(c);
    }
  } finally {
    chainClock = -1;
  }
  compactInput(c);
  // Fresh when maxmemory or client eviction needs it; otherwise clientsCron keeps INFO's figure.
  if (clientMem.buckets || hot.maxmemory) updateClientMemUsage(c);
}
/** Replies with an integer parsed from s, or Redis's error; returns undefined on error. */
function parseIntOrReply(c: Client, s: string, msg = E.notInt): number | undefined {
  const v = string2ll(s);
  if (v === null) { addReplyError(c, msg); return undefined; }
  return v;
}

/** LIMIT's offset and count, the two arguments after argv[j] (ZRANGE, SORT); undefined after
 *  replying that one is not an integer. */
function parseLimitOrReply(c: Client, j: number): [offset: number, count: number] | undefined {
  const offset = parseIntOrReply(c, c.argv[j + 1]);
  if (offset === undefined) return undefined;
  const count = parseIntOrReply(c, c.argv[j + 2]);
  return count === undefined ? undefined : [offset, count];
}

/** As getIntFromObjectOrReply: a 32-bit signed integer. */
function parseInt32OrReply(c: Client, s: string, msg?: string): number | undefined {
  return parseRangeIntOrReply(c, s, -2147483648n, 2147483647n, msg);
}

/** An integer in [min, max] (compared exactly, beyond 2^53 too), or `msg` (Redis's default
 *  range error when absent). */
function parseRangeIntOrReply(c: Client, s: string, min: bigint, max: bigint, msg?: string): number | undefined {
  const v = string2ll(s);
  if (v === null) { addReplyError(c, msg ?? E.notInt); return undefined; }
  const exact = Number.isSafeInteger(v) ? BigInt(v) : BigInt(s);
  if (exact < min || exact > max) {
    addReplyError(c, msg ?? `ERR value is out of range, value must between ${min} and ${max}`);
    return undefined;
  }
  return v;
}

/** As getPositiveLongFromObjectOrReply: 0 or more. */
function parsePositiveOrReply(c: Client, s: string, msg = "ERR value is out of range, must be positive"): number | undefined {
  const v = string2ll(s);
  if (v === null || v < 0) { addReplyError(c, msg); return undefined; }
  return v;
}

// ============================================================================================
// Keyspace
//
// A database (Db, in Part III) is a Dict of keys with each key's access clock and memory estimate
// beside it, plus a Map of expire times, as Redis keeps its expires dict. Every command reaches
// keys through the lookupKey* functions, where lazy expiry lives (expireIfNeeded), and reports a
// change with keyModified, which fails WATCHers' EXEC, updates the memory estimate and sends
// keyspace notifications. Also here: the active expiry cycle, eviction, and SCAN's walk.
// ============================================================================================

// Keyspace notifications are messages published on __keyspace@<db>__:<key> and
// __keyevent@<db>__:<event>, filtered by the classes in notify-keyspace-events.

/** A stored value: a latin1 string, or one of the collection types below. */
type RValue = string | RBytes | RList | RHash | RSet | RZSet | RStream;
/** A string value: a JS string, or bytes being changed in place (RBytes). */
type RString = string | RBytes;

// --- Memory accounting. used_memory is an estimate of the dataset, kept up to date key by key
// (not the JS heap at the moment of asking, which moves with garbage collection): each key
// costs its name, its value's bytes and a per-entry overhead measured for JS structures.
const MEM_BASELINE = 900 * 1024; // an empty server, as Redis reports one
// A key's place in its database: its index buckets (24 bytes on average), its slot in the pages
// (16) and its per-slot numbers (16). A key with its value in the arena adds its entry's header
// and rounding: 1M keys of DEBUG POPULATE take 88 bytes of RSS each, 22 of them names and values.
const MEM_SLOT = 56, MEM_PACKED_OVERHEAD = MEM_SLOT + 8;
const MEM_KEY_OVERHEAD = 96, MEM_STRING_OVERHEAD = 24, MEM_LIST_ELEMENT = 32, MEM_HASH_FIELD = 80,
  MEM_SET_MEMBER = 64, MEM_ZSET_MEMBER = 160, MEM_STREAM_ENTRY = 64;

function valueBytes(v: RValue): number { return typeof v === "string" ? v.length + MEM_STRING_OVERHEAD : v.bytes; }

/** used_memory: the baseline, every database's keys, and what clients hold (see Clients). */
function usedMemory(): number {
  let total = MEM_BASELINE + clientMem.total;
  for (const db of server.dbs) total += db.memTotal;
  return total;
}

/** What used_memory is made of, as Redis's getMemoryOverheadData reports it to INFO memory,
 *  MEMORY STATS and MEMORY DOCTOR: the server's own structures, then the dataset. Ratios are
 *  single-precision, as Redis computes them in floats. The allocator figures are JSC's heap. */
function memoryOverhead() {
  const total = usedMemory();
  server.peakMemory = Math.max(server.peakMemory, total);
  const m = memoryUsage();
  let clientsSlaves = 0, clientsNormal = 0;
  for (const x of server.clients.values()) x.replState ? (clientsSlaves += x.outLen) : (clientsNormal += x.memUsage);
  const replBacklog = repl.backlog?.length ?? 0;
  const aofBuffer = aof.buf.reduce((n, s) => n + s.length, 0);
  const dbs = server.dbs.filter((db) => db.size > 0).map((db) => ({ id: db.id, main: db.size * MEM_SLOT, expires: db.expires.size * 32, keys: db.size }));
  const overhead = MEM_BASELINE + replBacklog + clientsSlaves + clientsNormal + aofBuffer + dbs.reduce((n, d) => n + d.main + d.expires, 0);
  const keys = dbs.reduce((n, d) => n + d.keys, 0);
  const net = total > MEM_BASELINE ? total - MEM_BASELINE : 1;
  const dataset = Math.max(0, total - overhead);
  return {
    total, peak: server.peakMemory, startup: MEM_BASELINE, replBacklog, clientsSlaves, clientsNormal, aofBuffer, dbs, overhead, keys,
    bytesPerKey: keys ? Math.floor(net / keys) : 0, dataset, datasetPerc: Math.fround((dataset * 100) / net),
    peakPerc: Math.fround((total * 100) / server.peakMemory),
    allocated: m.heapUsed, active: m.heapTotal, resident: m.rss, rss: m.rss,
  };
}

/** Updates a key's cost after its value changed in place (called by keyModified). JS strings
 *  never change in place: writing one (Db.setValAt) accounts for it. */
function keyMemoryChanged(db: Db, key: string): void {
  const i = db.slot(key);
  if (i === undefined || db.handleAt(i) >= 0 || typeof db.valAt(i) === "string") return;
  const before = db.memEst[i];
  db.memTotal += db.recost(i) - before;
}

const LRU_CLOCK_MAX = (1 << 24) - 1;
const LFU_INIT_VAL = 5;
/** The time a key access is stamped with: the running command's cached clock, if any. */
function accessTime(): number { return callDepth > 0 ? cmdTime : now(); }
function lruClock(): number { return Math.floor(accessTime() / 1000) & LRU_CLOCK_MAX; }
function lfuPolicy(): boolean { return hot.lfu; }
function lfuMinutes(): number { return Math.floor(accessTime() / 60000) & 65535; }
function newAccessWord(): number { return lfuPolicy() ? (lfuMinutes() << 8) | LFU_INIT_VAL : lruClock(); }

/** Seconds since the key was last touched (OBJECT IDLETIME), from its LRU clock. */
function keyIdleSeconds(word: number): number {
  const clock = lruClock();
  return clock >= word ? clock - word : clock + (LRU_CLOCK_MAX - word);
}

/** The LFU counter after decay (one step per lfu-decay-time minutes idle), as LFUDecrAndReturn. */
function lfuDecrAndReturn(word: number): number {
  const ldt = word >> 8, counter = word & 255;
  const nowMin = lfuMinutes();
  const elapsed = nowMin >= ldt ? nowMin - ldt : 65535 - ldt + nowMin;
  const decay = confNum("lfu-decay-time");
  const periods = decay ? Math.floor(elapsed / decay) : 0;
  return periods > counter ? 0 : counter - periods;
}

/** Records an access: the LRU clock, or a logarithmic LFU increment (LFULogIncr). */
function touchKey(db: Db, i: number): void {
  if (currentClient?.noTouch && currentClient.lastCmd !== "touch") return;
  if (!lfuPolicy()) { db.access[i] = lruClock(); return; }
  let counter = lfuDecrAndReturn(db.access[i]);
  if (counter < 255) {
    const base = Math.max(0, counter - LFU_INIT_VAL);
    if (random() < 1 / (base * confNum("lfu-log-factor") + 1)) counter++;
  }
  db.access[i] = (lfuMinutes() << 8) | counter;
}

const LOOKUP_NOTOUCH = 1;

/** Adds a key that does not exist. */
function dbAdd(db: Db, key: string, val: RValue): void {
  db.set(key, val);
  if (server.blockingKeysCount && db.blocking.has(key)) signalKeyAsReady(db, key);
  if (server.notifyFlags & NOTIFY_NEW) notifyKeyspaceEvent(NOTIFY_NEW, "new", key, db.id);
}

/** Replaces the value of an existing key, keeping its TTL. */
function dbOverwrite(db: Db, key: string, val: RValue): void {
  if (saveJob) saveBeforeChange(db, key);
  db.setValAt(db.slot(key)!, val);
  if (db.encodings.size) db.encodings.delete(key);
}

/** Deletes a key and its expire time. Returns false if it did not exist. */
function dbDelete(db: Db, key: string): boolean {
  if (saveJob) saveBeforeChange(db, key);
  if (!db.delete(key)) return false;
  if (db.expires.size) db.expires.delete(key);
  // Group readers blocked on a deleted stream must hear about it.
  if (server.blockingKeysCount && db.blocking.has(key)) signalKeyAsReady(db, key);
  if (db.encodings.size) db.encodings.delete(key);
  return true;
}

/** Deletes a collection that a command emptied, with the "del" event Redis sends then. */
function deleteEmptied(db: Db, key: string): void {
  dbDelete(db, key);
  if (server.notifyFlags) notifyKeyspaceEvent(NOTIFY_GENERIC, "del", key, db.id);
}

/** The high-level set: add or overwrite, dropping any TTL unless keepTtl (SET's semantics). */
function setKey(db: Db, key: string, val: RValue, keepTtl = false): void {
  if (db.expires.size) expireIfNeeded(db, key, true); // a key past its TTL expires (and says so) first
  const i = db.slot(key);
  if (i === undefined) dbAdd(db, key, val);
  else {
    if (saveJob) saveBeforeChange(db, key);
    db.setValAt(i, val);
    // The key was looked up for writing (an LFU counter counts that) and has a new value object,
    // whose LRU clock is now.
    if (hot.lfu) touchKey(db, i);
    else db.access[i] = lruClock();
    if (!keepTtl && db.expires.size) db.expires.delete(key);
    if (db.encodings.size) db.encodings.delete(key);
    if (server.blockingKeysCount && db.blocking.has(key)) signalKeyAsReady(db, key);
  }
}

function setExpire(db: Db, key: string, when: number): void {
  if (saveJob) saveBeforeChange(db, key);
  db.expires.set(key, when);
  // On a writable replica, a TTL its own client set is the replica's to enforce.
  if (isReplica() && currentClient && !currentClient.isMaster) {
    let dbs = replicaKeysWithExpire.get(key);
    if (!dbs) replicaKeysWithExpire.set(key, (dbs = new Set()));
    dbs.add(db.id);
  }
}

/** Keys that clients of a writable replica gave a TTL, with their databases (Redis's
 *  slaveKeysWithExpire): no DEL from the master will come for them. */
const replicaKeysWithExpire = new Map<string, Set<number>>();

/** Expires the replica's own keys whose time has come (expireSlaveKeys), and forgets those that
 *  are gone or lost their TTL. */
function expireReplicaKeys(): void {
  const t = now();
  for (const [key, dbs] of replicaKeysWithExpire) {
    for (const id of dbs) {
      const db = server.dbs[id], when = db?.expires.get(key);
      if (when !== undefined && when > t) continue;
      if (when !== undefined) deleteExpiredKey(db, key);
      dbs.delete(id);
    }
    if (!dbs.size) replicaKeysWithExpire.delete(key);
  }
}

/** Removes a key's TTL; returns false if it had none. */
function removeExpire(db: Db, key: string): boolean {
  if (!db.expires.has(key)) return false;
  if (saveJob) saveBeforeChange(db, key);
  return db.expires.delete(key);
}
function getExpire(db: Db, key: string): number { return db.expires.size ? db.expires.get(key) ?? -1 : -1; }

/** True if the key has a TTL in the past. */
function keyIsExpired(db: Db, key: string): boolean {
  if (!db.expires.size || server.loading) return false; // nothing expires while a file loads
  const when = db.expires.get(key);
  return when !== undefined && when <= (cmdTime || now());
}

/** Lazy expiry: deletes the key if its time has passed. Returns true if it was deleted. */
function expireIfNeeded(db: Db, key: string, forWrite = false): boolean {
  if (!keyIsExpired(db, key)) return false;
  // A replica leaves expiry to its master, whose DEL will come: readers see the key as gone, and
  // the master's own commands still see it. Only a write by one of its own clients (a writable
  // replica) deletes it, as Redis's write lookups do.
  if (isReplica()) {
    if (currentClient?.isMaster) return false;
    if (!forWrite) return true;
  }
  if (clientsArePaused()) return true; // deleted once the pause ends
  deleteExpiredKey(db, key);
  return true;
}

function deleteExpiredKey(db: Db, key: string): void {
  dbDelete(db, key);
  stats.expiredKeys++;
  keyModified(db, key, NOTIFY_EXPIRED, "expired", null); // no client changed it
  propagateDeletion(db, key, Boolean(conf["lazyfree-lazy-expire"]));
}

/** Looks a key up for reading: expires it if due and counts a keyspace hit or miss. */
function lookupKeyRead(db: Db, key: string, flags = 0): RValue | undefined {
  const i = lookupSlotRead(db, key, flags);
  return i < 0 ? undefined : db.valAt(i);
}

/** lookupKeyRead's lookup: the key's slot, or -1. */
function lookupSlotRead(db: Db, key: string, flags = 0): number {
  const i = db.slot(key);
  if (i === undefined || (db.expires.size && expireIfNeeded(db, key))) {
    stats.keyspaceMisses++;
    if (server.notifyFlags & NOTIFY_KEY_MISS) notifyKeyspaceEvent(NOTIFY_KEY_MISS, "keymiss", key, db.id);
    return -1;
  }
  stats.keyspaceHits++;
  if (!(flags & LOOKUP_NOTOUCH)) touchKey(db, i);
  return i;
}

/** Looks a key up before writing it: expires it if due, no stats. */
function lookupKeyWrite(db: Db, key: string): RValue | undefined {
  const i = lookupSlotWrite(db, key);
  return i < 0 ? undefined : db.valAt(i);
}

/** lookupKeyWrite's lookup: the key's slot, or -1. */
function lookupSlotWrite(db: Db, key: string): number {
  const i = db.slot(key);
  if (i === undefined || (db.expires.size && expireIfNeeded(db, key, true))) return -1;
  // A write may change the value in place: a running snapshot must take the old one first.
  if (saveJob) saveBeforeChange(db, key);
  touchKey(db, i);
  return i;
}

/** The type name TYPE reports. */
function typeName(v: RValue): string {
  return typeof v === "string" ? "string" : v.type;
}

function cdb(c: Client): Db { return server.dbs[c.db]; }

/** Empties one database (or all with id -1). Returns the number of keys removed. */
function emptyData(id: number): number {
  let removed = 0;
  for (let i = 0; i < server.dbs.length; i++) {
    if (id !== -1 && i !== id) continue;
    removed += server.dbs[i].size;
    const fresh = new Db(i);
    touchAllWatchedKeysInDb(server.dbs[i], null);
    // Blocked and watching clients wait on the db index, not on its content.
    fresh.blocking = server.dbs[i].blocking;
    fresh.watched = server.dbs[i].watched;
    server.dbs[i] = fresh;
    for (const key of fresh.blocking.keys()) signalKeyAsReady(fresh, key); // group readers learn the stream is gone
  }
  trackingInvalidateKeysOnFlush(); // clients caching keys drop them all
  return removed;
}

const ACTIVE_EXPIRE_KEYS_PER_LOOP = 20; // keys checked per database per round, as in Redis
const ACTIVE_EXPIRE_ACCEPTABLE_STALE = 10; // percent of expired keys worth another round
const ACTIVE_EXPIRE_SLOW_TIME_PERC = 25; // share of a cron period the cycle may take

/** The active expiry cycle: resumes each database's walk over its expires, deleting what is due,
 *  and goes on while many sampled keys were expired and the time budget lasts. */
function activeExpireCycle(): void {
  if (!server.activeExpireEnabled) return;
  if (isReplica()) return expireReplicaKeys(); // the master expires the rest
  const start = performance.now();
  const budget = (1000 / (confNum("hz") || 10)) * ACTIVE_EXPIRE_SLOW_TIME_PERC / 100;
  const nowMs = now();
  let sampled = 0, expired = 0;
  for (const db of server.dbs) {
    if (!db.expires.size) { db.avgTtl = 0; continue; }
    for (;;) {
      let loopSampled = 0, loopExpired = 0, ttlSum = 0, ttlCount = 0;
      db.expireCursor ??= db.expires.entries();
      while (loopSampled < ACTIVE_EXPIRE_KEYS_PER_LOOP) {
        const next = db.expireCursor.next();
        if (next.done) { db.expireCursor = null; break; }
        const [key, when] = next.value;
        loopSampled++;
        if (when <= nowMs) { deleteExpiredKey(db, key); loopExpired++; }
        else { ttlSum += when - nowMs; ttlCount++; }
      }
      if (ttlCount) {
        const avg = ttlSum / ttlCount;
        db.avgTtl = db.avgTtl ? (db.avgTtl / 50) * 49 + avg / 50 : avg;
      }
      sampled += loopSampled;
      expired += loopExpired;
      if (performance.now() - start > budget) { stats.expiredTimeCapReached++; break; }
      if (!db.expireCursor || loopExpired * 100 < loopSampled * ACTIVE_EXPIRE_ACCEPTABLE_STALE) break;
    }
  }
  const elapsed = performance.now() - start;
  stats.expireCycleMs += elapsed;
  if (hot.latencyMonitorThreshold > 0 && Math.floor(elapsed) >= hot.latencyMonitorThreshold) latencyAddSample("expire-cycle", elapsed);
  const perc = sampled ? expired / sampled : 0;
  stats.expiredStalePerc = perc * 0.05 + stats.expiredStalePerc * 0.95;
}

// --- Eviction (maxmemory-policy), with Redis's approximated LRU/LFU: sample maxmemory-samples
// keys per database, keep the best candidates in a pool of 16 across rounds, evict the best.

const EVPOOL_SIZE = 16;
let evictionPool: { db: Db; key: string; score: number }[] = [];

/** The eviction score of a key: higher goes first (idle time, rarity, or nearness of expiry). */
function evictionScore(db: Db, i: number, policy: string): number {
  if (policy.endsWith("lru")) return keyIdleSeconds(db.access[i]);
  if (policy.endsWith("lfu")) return 255 - lfuDecrAndReturn(db.access[i]);
  return -(db.expires.get(db.keyAt(i)) ?? Infinity); // volatile-ttl: the soonest expiry first
}

/** Picks the next key to evict under the current policy, or null if none qualifies. */
function pickEvictionVictim(policy: string): { db: Db; key: string } | null {
  const volatile = policy.startsWith("volatile");
  const dbs = server.dbs.filter((db) => (volatile ? db.expires.size : db.size) > 0);
  if (!dbs.length) return null;
  const samples = confNum("maxmemory-samples");
  const sampleKeys = (db: Db): string[] => {
    if (!volatile) return Array.from({ length: Math.min(samples, db.size) }, () => db.keyAt(db.randomIndex()));
    // Volatile keys are walked with a rotating cursor over the expires map: a fair sample.
    const out: string[] = [];
    for (let n = 0; n < samples && n < db.expires.size; n++) {
      db.evictCursor ??= db.expires.keys();
      const next = db.evictCursor.next();
      if (next.done) { db.evictCursor = null; n--; continue; }
      out.push(next.value);
    }
    return out;
  };
  if (policy.endsWith("random")) {
    const db = dbs[Math.floor(random() * dbs.length)];
    const key = sampleKeys(db)[0];
    return key === undefined ? null : { db, key };
  }
  for (const db of dbs) {
    for (const key of sampleKeys(db)) {
      const i = db.slot(key);
      if (i === undefined || evictionPool.some((p) => p.db === db && p.key === key)) continue;
      evictionPool.push({ db, key, score: evictionScore(db, i, policy) });
    }
  }
  evictionPool.sort((a, b) => a.score - b.score);
  if (evictionPool.length > EVPOOL_SIZE) evictionPool = evictionPool.slice(-EVPOOL_SIZE);
  while (evictionPool.length) {
    const best = evictionPool.pop()!;
    if (server.dbs.includes(best.db) && best.db.has(best.key)) return best;
  }
  return null;
}

/** Frees memory down to maxmemory by evicting keys per maxmemory-policy. Returns false if the
 *  server is still over the limit (noeviction, or nothing left to evict). */
function performEvictions(): boolean {
  const max = hot.maxmemory;
  if (!max || usedMemory() <= max) return true;
  const policy = String(conf["maxmemory-policy"]);
  if (clientsArePaused()) return true; // the dataset stays as it is during a pause
  if (policy === "noeviction" || (isReplica() && conf["replica-ignore-maxmemory"])) return false;
  // As Redis: what to free is fixed first, and only what deleting keys frees counts towards it.
  // The memory that propagating the DELs and sending invalidations takes is freed once clients
  // read it; counting it here would evict ever more keys (a feedback loop).
  const toFree = usedMemory() - max;
  let freed = 0;
  while (freed < toFree) {
    const victim = pickEvictionVictim(policy);
    if (!victim) return false;
    const before = victim.db.memTotal;
    dbDelete(victim.db, victim.key);
    freed += before - victim.db.memTotal;
    stats.evictedKeys++;
    keyModified(victim.db, victim.key, NOTIFY_EVICTED, "evicted", null);
    propagateDeletion(victim.db, victim.key, Boolean(conf["lazyfree-lazy-eviction"]));
  }
  return true;
}

/** Parses a SCAN cursor as Redis's strtoul does: an optional sign, then an unsigned 64-bit
 *  decimal ("-1" wraps around). Cursors this server hands out are slot numbers; anything past
 *  2^32 cannot be one, and ends the scan as Redis's huge cursors do. */
function parseScanCursorOrReply(c: Client, s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s) || BigInt(s.replace(/^[+-]/, "")) > 18446744073709551615n) {
    addReplyError(c, "ERR invalid cursor");
    return undefined;
  }
  const v = Number(s);
  return v < 0 || v > 2 ** 32 ? SCAN_DONE : v;
}
const SCAN_DONE = -1;

/** SCAN, HSCAN, SSCAN and ZSCAN: options from argv[optStart], then one step over `dict` (the
 *  keyspace when `db` is given). `small` collections (listpack/intset in Redis) answer whole,
 *  with cursor 0, as Redis does; `withValues` emits field/value pairs. */
function scanGeneric(c: Client, dict: Dict<unknown>, cursor: number, optStart: number, db: Db | null, small: boolean, withValues: (i: number) => string | null): void {
  let count = 10, pattern: string | null = null, type: string | null = null;
  const argv = c.argv;
  for (let i = optStart; i < argv.length; i += 2) {
    const opt = argv[i].toLowerCase();
    const more = argv.length - i - 1;
    if (opt === "count" && more >= 1) {
      const n = parseIntOrReply(c, argv[i + 1]);
      if (n === undefined) return;
      if (n < 1) return addReplyError(c, E.syntax);
      count = n;
    } else if (opt === "match" && more >= 1) {
      pattern = argv[i + 1] === "*" ? null : argv[i + 1];
    } else if (opt === "type" && db && more >= 1) {
      type = argv[i + 1].toLowerCase();
    } else return addReplyError(c, E.syntax);
  }
  const found: number[] = [];
  let next = 0;
  if (small) for (let i = 0; i < dict.size; i++) found.push(i);
  else next = dict.scan(cursor, count, (i) => found.push(i));
  const out: string[] = [];
  // Filter after the walk, as Redis does; deleting expired keys now cannot disturb the cursor.
  const keys = found.map((i) => dict.keyAt(i));
  const vals = found.map((i) => withValues(i));
  for (let n = 0; n < keys.length; n++) {
    const k = keys[n];
    if (pattern !== null && !stringmatch(pattern, k)) continue;
    if (db) {
      if (expireIfNeeded(db, k)) continue;
      if (type !== null && typeName(db.get(k)!) !== type) continue;
    }
    out.push(k);
    if (vals[n] !== null) out.push(vals[n]!);
  }
  addReplyArrayLen(c, 2);
  addReplyBulk(c, String(next));
  addReplyBulks(c, out);
}

/** Replies WRONGTYPE and returns true when v exists and is not of the given type. */
/** The value classes by the name TYPE reports them under, for the typed lookups. */
interface RTypes { string: RString; list: RList; hash: RHash; set: RSet; zset: RZSet; stream: RStream }
type RTypeName = keyof RTypes;

/** Replies WRONGTYPE and returns true if v exists and is not of `type`; when it returns false,
 *  v is of that type (or undefined), as far as the compiler is concerned too. */
function checkType<T extends RTypeName>(c: Client, v: RValue | undefined, type: T): v is Exclude<RValue, RTypes[T]> {
  if (v !== undefined && typeName(v) !== type) { addReplyError(c, E.wrongType); return true; }
  return false;
}

/** The value at key for a read, of `type`; undefined after replying `empty()` (no such key) or
 *  WRONGTYPE. Every type's read commands find their value through here. */
function lookupReadOrReply<T extends RTypeName>(c: Client, key: string, type: T, empty: () => void): RTypes[T] | undefined {
  const v = lookupKeyRead(cdb(c), key);
  if (v === undefined) { empty(); return undefined; }
  return checkType(c, v, type) ? undefined : (v as RTypes[T]);
}

// Keyspace notification classes, as Redis's NOTIFY_* bits.
const NOTIFY_KEYSPACE = 1 << 0, NOTIFY_KEYEVENT = 1 << 1, NOTIFY_GENERIC = 1 << 2, NOTIFY_STRING = 1 << 3,
  NOTIFY_LIST = 1 << 4, NOTIFY_SET = 1 << 5, NOTIFY_HASH = 1 << 6, NOTIFY_ZSET = 1 << 7, NOTIFY_EXPIRED = 1 << 8,
  NOTIFY_EVICTED = 1 << 9, NOTIFY_STREAM = 1 << 10, NOTIFY_KEY_MISS = 1 << 11, NOTIFY_MODULE = 1 << 13, NOTIFY_NEW = 1 << 14;
const NOTIFY_ALL = NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET | NOTIFY_HASH | NOTIFY_ZSET | NOTIFY_EXPIRED |
  NOTIFY_EVICTED | NOTIFY_STREAM | NOTIFY_MODULE;
const NOTIFY_CHARS: [string, number][] = [["g", NOTIFY_GENERIC], ["$", NOTIFY_STRING], ["l", NOTIFY_LIST], ["s", NOTIFY_SET],
  ["h", NOTIFY_HASH], ["z", NOTIFY_ZSET], ["x", NOTIFY_EXPIRED], ["e", NOTIFY_EVICTED], ["t", NOTIFY_STREAM],
  ["d", NOTIFY_MODULE], ["n", NOTIFY_NEW], ["K", NOTIFY_KEYSPACE], ["E", NOTIFY_KEYEVENT], ["m", NOTIFY_KEY_MISS]];

/** notify-keyspace-events as flags, or null for an unknown class character. */
function keyspaceEventsStringToFlags(s: string): number | null {
  let flags = 0;
  for (const ch of s) {
    if (ch === "A") { flags |= NOTIFY_ALL; continue; }
    const e = NOTIFY_CHARS.find(([k]) => k === ch);
    if (!e) return null;
    flags |= e[1];
  }
  return flags;
}

/** The canonical spelling CONFIG GET shows (Redis's keyspaceEventsFlagsToString). */
function keyspaceEventsFlagsToString(flags: number): string {
  let s = "";
  if ((flags & NOTIFY_ALL) === NOTIFY_ALL) s = "A";
  else for (const [ch, bit] of NOTIFY_CHARS.slice(0, 11)) if (flags & bit) s += ch;
  if (flags & NOTIFY_KEYSPACE) s += "K";
  if (flags & NOTIFY_KEYEVENT) s += "E";
  if (flags & NOTIFY_KEY_MISS) s += "m";
  return s;
}

/** Publishes a keyspace event when its class is enabled (Redis's notifyKeyspaceEvent). */
function notifyKeyspaceEvent(type: number, event: string, key: string, dbid: number): void {
  const flags = server.notifyFlags;
  if (!(flags & type)) return;
  if (flags & NOTIFY_KEYSPACE) pubsubPublishMessage(`__keyspace@${dbid}__:${key}`, event);
  if (flags & NOTIFY_KEYEVENT) pubsubPublishMessage(`__keyevent@${dbid}__:${event}`, key);
}

/** What every write does once it has changed a key: fail the watchers' EXEC, invalidate the
 *  key for the clients caching it, and notify. `by` is who changed it (null: expiry, eviction). */
function keyModified(db: Db, key: string, type: number, event: string, by: Client | null = currentClient): void {
  signalModifiedKey(db, key, by);
  keyMemoryChanged(db, key);
  if (server.notifyFlags) notifyKeyspaceEvent(type, event, key, db.id);
}

// ============================================================================================
// Blocking
//
// A client blocked by BLPOP & co. is parked in its database's `blocking` map under each key it
// waits for, first come first served, and reads none of its further input. A write that can wake
// it calls signalKeyAsReady; after every command, handleClientsBlockedOnKeys serves the parked
// clients of each ready key in order through their type's serve hook (in its chapter), as Redis
// does, so the command that made the key ready always replies first. A timeout is a timer.
// ============================================================================================

/** The timeout argument of blocking commands: seconds as a float, 0 = forever. Returns the
 *  absolute deadline in ms (0 for none), or undefined after replying. */
function parseTimeoutOrReply(c: Client, s: string): number | undefined {
  const ld = parseLongDouble(s);
  if (!ld) { addReplyError(c, "ERR timeout is not a float or out of range"); return undefined; }
  const ms = ldMillisCeil(ld);
  // Past 2^63 the C cast to long long yields LLONG_MIN, which Redis then calls negative.
  if (ms < 0 || Number.isNaN(ms) || ms >= 9223372036854775808) { addReplyError(c, "ERR timeout is negative"); return undefined; }
  if (ms > 0) {
    if (ms > 9223372036854775807 - cmdTime) { addReplyError(c, "ERR timeout is out of range"); return undefined; }
    return cmdTime + ms;
  }
  return 0;
}
interface BlockState {
  type: "list" | "zset" | "stream";
  dbIndex: number;
  keys: string[];
  where: number; // list end or zset MIN (LIST_HEAD) / MAX (LIST_TAIL)
  whereto: number; // BLMOVE's destination end
  target: string | null; // BLMOVE's destination key
  count: number; // -1 for the single-element forms (BLPOP, BZPOPMIN ...)
  deadline: number; // when it times out on the server's clock (ms), 0 for never
  timer: ReturnType<typeof setTimeout> | null;
  argv: string[]; // the blocking command, for the slow log when it is served
}

let readyKeys: { db: Db; key: string }[] = [];

/** Parks a client until one of `keys` can serve it or `timeout` (absolute ms, 0 = never) passes. */
function blockForKeys(c: Client, type: BlockState["type"], keys: string[], timeout: number, params: Pick<BlockState, "where" | "whereto" | "target" | "count">): void {
  // Inside a transaction nothing may block: answer as a timeout would, at once.
  if (c.denyBlocking) return params.target !== null ? addReplyNull(c) : addReplyNullArray(c);
  const db = cdb(c);
  const unique = [...new Set(keys)];
  c.bstate = { type, dbIndex: c.db, keys: unique, deadline: timeout, timer: null, argv: c.argv, ...params };
  for (const key of unique) {
    let q = db.blocking.get(key);
    if (!q) db.blocking.set(key, (q = []));
    q.push(c);
    server.blockingKeysCount++;
  }
  if (timeout > 0) armBlockTimer(c);
}

/** Sets the timer of a blocked client's timeout from its deadline and the server's clock. A
 *  timer that fires early (the clock was set back) sets itself again; on a frozen clock the
 *  client waits for the clock to move (clockMoved). */
function armBlockTimer(c: Client): void {
  const b = c.bstate!;
  if (b.timer) clearTimeout(b.timer);
  b.timer = null;
  const left = b.deadline - now();
  if (isFrozen(timeCtl) && left > 0) return;
  // (A timer longer than 2^31-1 ms would fire at once: a far deadline is reached in steps.)
  b.timer = setTimeout(() => {
    if (c.bstate !== b) return;
    if (now() < b.deadline) armBlockTimer(c);
    else blockedClientTimedOut(c);
  }, Math.min(Math.max(0, left), 2 ** 31 - 1));
}

/** Removes a client from every queue it waits in. */
function unblockClient(c: Client): void {
  const b = c.bstate;
  if (!b) return;
  c.xreadState = null;
  const db = server.dbs[b.dbIndex];
  for (const key of b.keys) {
    const q = db.blocking.get(key);
    if (!q) continue;
    const i = q.indexOf(c);
    if (i >= 0) { q.splice(i, 1); server.blockingKeysCount--; }
    if (q.length === 0) db.blocking.delete(key);
  }
  if (b.timer) clearTimeout(b.timer);
  c.bstate = null;
}

/** The timeout reply (a null array), then the client goes on with its pipelined input. */
function blockedClientTimedOut(c: Client): void {
  if (!c.bstate || c.closed) return;
  const argv = c.bstate.argv;
  unblockClient(c);
  replyLater(c, argv, () => addReplyNullArray(c));
  resumeClient(c);
  handleClientsWithPendingWrites();
}

/** Runs whatever a client sent while it was blocked or paused. */
function resumeClient(c: Client): void {
  if (!c.closed && c.qpos < c.qlen) processInputBuffer(c);
}

/** Notes that a key may now serve blocked clients (lists and sorted sets). */
function signalKeyAsReady(db: Db, key: string): void {
  if (!server.blockingKeysCount || !db.blocking.has(key)) return;
  if (!readyKeys.some((r) => r.db === db && r.key === key)) readyKeys.push({ db, key });
}

/** A served client's blocking command is counted now: the time its reply took, a failure if
 *  the reply was an error (a reader whose group went), and the slow log (Redis's
 *  updateStatsOnUnblock; one that times out never reaches the slow log, as in Redis 7.0). */
function blockedCommandServed(c: Client, argv: string[], start: number, errorsBefore: number, failed = false): void {
  const cmd = lookupCommand(argv);
  if (!cmd) return;
  const usec = Math.round((performance.now() - start) * 1000);
  cmd.usec += usec;
  if (failed || stats.errorReplies > errorsBefore) cmd.failedCalls++;
  if (!(cmd.flags & CMD_SKIP_SLOWLOG)) slowlogPush(c, cmd, usec, argv);
}

/** True while a blocked client's command is being served (it runs outside call()). */
let servingBlocked = false;

/** Runs `serve` for a blocked client as its command would run: as the current client, its reply
 *  silenced if CLIENT REPLY says so, the invalidations of what it changed itself sent after its
 *  reply (Redis's afterCommand); then its request ends (resetClient). */
function serveAs(receiver: Client, argv: string[], serve: () => boolean): boolean {
  const outerRequest = requestClient, outerCurrent = currentClient, mark = receiver.outLen;
  requestClient = currentClient = receiver;
  servingBlocked = true;
  const served = serve();
  servingBlocked = false;
  if (served) {
    if (receiver.replyOff || receiver.replySkip) dropReply(receiver, mark);
    if (tracking.pending.length) trackingHandlePendingKeyInvalidations();
    resetClient(receiver, argv);
  }
  receiver.keptPushes = null;
  requestClient = outerRequest;
  currentClient = outerCurrent;
  return served;
}

/** Serves clients blocked on the keys that became ready, in the order they blocked. Serving can
 *  make other keys ready (BLMOVE pushes), so it loops until nothing is left. */
function handleClientsBlockedOnKeys(): void {
  const served: Client[] = [];
  while (readyKeys.length) {
    const batch = readyKeys;
    readyKeys = [];
    for (const { db, key } of batch) {
      const q = db.blocking.get(key);
      if (!q) continue;
      for (const receiver of [...q]) {
        const v = lookupKeyWrite(db, key);
        const b = receiver.bstate!;
        if (b.type === "stream") {
          // A stream reader is served only if there is something new for it (or its group went).
          if (v !== undefined && !(v instanceof RStream) && !receiver.xreadState?.groupName) continue;
          cmdTime = now();
          const start = performance.now(), errors = stats.errorReplies;
          if (!serveAs(receiver, b.argv, () => serveClientBlockedOnStream(receiver, db, key, v))) continue;
          unblockClient(receiver);
          blockedCommandServed(receiver, b.argv, start, errors);
          served.push(receiver);
          continue;
        }
        if (v === undefined) break;
        if (typeof v === "string" || v.type !== b.type) continue;
        cmdTime = now();
        const start = performance.now(), errors = stats.errorReplies;
        unblockClient(receiver);
        serveAs(receiver, b.argv, () => {
          if (v instanceof RList) serveClientBlockedOnList(receiver, db, key, v, b);
          else if (v instanceof RZSet) serveClientBlockedOnZset(receiver, db, key, v, b);
          return true;
        });
        blockedCommandServed(receiver, b.argv, start, errors);
        served.push(receiver);
      }
    }
  }
  for (const c of served) resumeClient(c);
}

// ============================================================================================
// Transactions
//
// MULTI queues commands (after the same checks processCommand makes, so an unknown command or a
// wrong arity poisons the transaction: EXECABORT); EXEC runs them back to back through call(),
// so nothing interleaves, with blocking commands behaving as their non-blocking forms. WATCH is
// optimistic locking: every write calls signalModifiedKey, which marks the clients watching that
// key, and EXEC then answers a null array. Watched keys belong to a database index, like blocked
// clients, so SWAPDB and FLUSHALL touch them as Redis does.
// ============================================================================================

interface WatchedKey { dbIndex: number; key: string; expiredAtWatch: boolean }

/** A key changed: the clients watching it will see their EXEC fail (Redis's touchWatchedKey), and
 *  the clients that may cache it are told (client-side caching). */
function signalModifiedKey(db: Db, key: string, by: Client | null = currentClient): void {
  if (tracking.table.size !== 0 || tracking.prefixes.size !== 0) trackingInvalidateKey(by, key, true);
  if (!db.watched.size) return;
  const watchers = db.watched.get(key);
  if (!watchers) return;
  for (const c of watchers) {
    const w = c.watched.find((x) => x.key === key && server.dbs[x.dbIndex] === db);
    // A key already expired when watched, now deleted by expiry, has not logically changed.
    if (w?.expiredAtWatch && !db.has(key)) { w.expiredAtWatch = false; continue; }
    c.dirtyCas = true;
  }
}

/** Touches every watched key of a database that exists in `emptied` or in `replacedWith`
 *  (FLUSHDB, FLUSHALL, SWAPDB). */
function touchAllWatchedKeysInDb(emptied: Db, replacedWith: Db | null): void {
  for (const [key, watchers] of emptied.watched) {
    if (emptied.has(key) || replacedWith?.has(key)) for (const c of watchers) c.dirtyCas = true;
  }
}

function unwatchAllKeys(c: Client): void {
  for (const w of c.watched) {
    const db = server.dbs[w.dbIndex];
    const set = db.watched.get(w.key);
    if (!set) continue;
    set.delete(c);
    if (set.size === 0) db.watched.delete(w.key);
  }
  c.watched = [];
}

/** True if a key that was alive when watched has expired since (EXEC then fails, as in 7.0). */
function isWatchedKeyExpired(c: Client): boolean {
  return c.watched.some((w) => !w.expiredAtWatch && keyIsExpired(server.dbs[w.dbIndex], w.key));
}

function discardTransaction(c: Client): void {
  c.mstate = null;
  c.dirtyExec = false;
  c.dirtyCas = false;
  unwatchAllKeys(c);
}

/* MULTI */
function multiCommand(c: Client): void {
  if (c.mstate) return addReplyError(c, "ERR MULTI calls can not be nested");
  c.mstate = [];
  c.multiMem = 0;
  addReplyOK(c);
}

/* DISCARD */
function discardCommand(c: Client): void {
  if (!c.mstate) return addReplyError(c, "ERR DISCARD without MULTI");
  discardTransaction(c);
  addReplyOK(c);
}

/* EXEC */
function execCommand(c: Client): void {
  if (!c.mstate) return addReplyError(c, "ERR EXEC without MULTI");
  if (isWatchedKeyExpired(c)) c.dirtyCas = true;
  if (c.dirtyExec || c.dirtyCas) {
    if (c.dirtyExec) addReplyError(c, "EXECABORT Transaction discarded because of previous errors.");
    else addReplyNullArray(c);
    return discardTransaction(c);
  }
  const queued = c.mstate;
  unwatchAllKeys(c);
  const origArgv = c.argv;
  const wasDenying = c.denyBlocking;
  c.denyBlocking = true;
  addReplyArrayLen(c, queued.length);
  for (const q of queued) {
    c.argv = q.argv;
    // Permissions may have changed since the command was queued.
    const denied = c.user && !c.user.unrestricted ? aclCheckCommand(c.user, q.cmd, q.argv) : ACL_OK;
    if (denied) {
      c.lastCmd = "exec";
      aclLogDenied(c, denied, q.cmd, q.argv, "multi");
      const why = denied === DENIED_CMD ? "no permission to execute the command or subcommand" :
        denied === DENIED_KEY ? "no permission to touch the specified keys" : "no permission to access one of the channels used as arguments";
      addReplyError(c, `NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: ${why}`);
      continue;
    }
    call(c, q.cmd);
  }
  c.denyBlocking = wasDenying;
  c.argv = origArgv;
  c.lastCmd = "exec";
  discardTransaction(c);
}

/* WATCH key [key ...] */
function watchCommand(c: Client): void {
  if (c.mstate) return addReplyError(c, "ERR WATCH inside MULTI is not allowed");
  // A client that already failed its CAS need not watch more: EXEC will fail anyway.
  if (c.dirtyCas) return addReplyOK(c);
  const db = cdb(c);
  for (const key of c.argv.slice(1)) {
    if (c.watched.some((w) => w.dbIndex === c.db && w.key === key)) continue;
    let set = db.watched.get(key);
    if (!set) db.watched.set(key, (set = new Set()));
    set.add(c);
    c.watched.push({ dbIndex: c.db, key, expiredAtWatch: keyIsExpired(db, key) });
  }
  addReplyOK(c);
}

/* UNWATCH */
function unwatchCommand(c: Client): void {
  unwatchAllKeys(c);
  c.dirtyCas = false;
  addReplyOK(c);
}

/** This chapter's rows of the command table (see Dispatch). */
const TRANSACTION_COMMANDS: CommandRows[] = [
  { group: "transactions", specs: [
    ["multi", 1, "noscript loading stale fast allow_busy", 0, 0, 0, "transaction", multiCommand],
    ["exec", 1, "noscript loading stale skip_slowlog", 0, 0, 0, "transaction", execCommand],
    ["discard", 1, "noscript loading stale fast allow_busy", 0, 0, 0, "transaction", discardCommand],
    ["watch", -2, "noscript loading stale fast allow_busy", 1, -1, 1, "transaction", watchCommand],
    ["unwatch", 1, "noscript loading stale fast allow_busy", 0, 0, 0, "transaction", unwatchCommand],
  ] },
];

// ============================================================================================
// Pub/Sub
//
// Channels and patterns map to the clients subscribed to them; PUBLISH writes the message into
// each receiver's output buffer and returns at once, so a subscriber that does not read only grows
// its own buffer until client-output-buffer-limit closes it. Shard channels (SSUBSCRIBE) are a
// separate namespace with their own counts. In RESP2 a subscribed client may only manage its
// subscriptions, PING, QUIT and RESET; in RESP3 messages are push frames and anything goes.
// ============================================================================================

const pubsubChannels = new Map<string, Set<Client>>();
const pubsubPatterns = new Map<string, Set<Client>>();
const pubsubShardChannels = new Map<string, Set<Client>>();

/** Subscriptions that count for SUBSCRIBE/PSUBSCRIBE replies (shard ones count apart). */
function clientSubscriptionsCount(c: Client): number { return c.channels.size + c.patterns.size; }
function clientTotalSubscriptions(c: Client): number { return c.channels.size + c.patterns.size + c.shardChannels.size; }

/** One subscribe/unsubscribe confirmation: [kind, channel, count] (a push frame in RESP3). */
function addReplyPubsubConfirm(c: Client, kind: string, channel: string | null, count: number): void {
  const start = c.outLen;
  addReplyPushLen(c, 3);
  addReplyBulk(c, kind);
  channel === null ? addReplyNull(c) : addReplyBulk(c, channel);
  addReplyLongLong(c, count);
  keepPush(c, start); // it reaches a client under CLIENT REPLY OFF too, as Redis's pushes do
}

type SubKind = "channel" | "pattern" | "shard";
const SUB_KINDS: Record<SubKind, { map: Map<string, Set<Client>>; own: (c: Client) => Set<string>; sub: string; unsub: string; count: (c: Client) => number }> = {
  channel: { map: pubsubChannels, own: (c) => c.channels, sub: "subscribe", unsub: "unsubscribe", count: clientSubscriptionsCount },
  pattern: { map: pubsubPatterns, own: (c) => c.patterns, sub: "psubscribe", unsub: "punsubscribe", count: clientSubscriptionsCount },
  shard: { map: pubsubShardChannels, own: (c) => c.shardChannels, sub: "ssubscribe", unsub: "sunsubscribe", count: (c) => c.shardChannels.size },
};

function pubsubSubscribe(c: Client, kind: SubKind, name: string): void {
  const k = SUB_KINDS[kind];
  if (!k.own(c).has(name)) {
    k.own(c).add(name);
    let set = k.map.get(name);
    if (!set) k.map.set(name, (set = new Set()));
    set.add(c);
  }
  addReplyPubsubConfirm(c, k.sub, name, k.count(c));
}

function pubsubUnsubscribe(c: Client, kind: SubKind, name: string, notify: boolean): void {
  const k = SUB_KINDS[kind];
  if (k.own(c).delete(name)) {
    const set = k.map.get(name)!;
    set.delete(c);
    if (set.size === 0) k.map.delete(name);
  }
  if (notify) addReplyPubsubConfirm(c, k.unsub, name, k.count(c));
}

/** UNSUBSCRIBE/PUNSUBSCRIBE/SUNSUBSCRIBE without arguments: everything, or one nil reply. */
function pubsubUnsubscribeAll(c: Client, kind: SubKind, notify: boolean): void {
  const names = [...SUB_KINDS[kind].own(c)];
  for (const n of names) pubsubUnsubscribe(c, kind, n, notify);
  if (notify && names.length === 0) addReplyPubsubConfirm(c, SUB_KINDS[kind].unsub, null, SUB_KINDS[kind].count(c));
}

/** Forgets every subscription of a client (disconnect, RESET). */
function pubsubUnsubscribeEverything(c: Client): void {
  pubsubUnsubscribeAll(c, "channel", false);
  pubsubUnsubscribeAll(c, "pattern", false);
  pubsubUnsubscribeAll(c, "shard", false);
}

/* SUBSCRIBE channel [channel ...] */
function subscribeCommand(c: Client): void { for (const ch of c.argv.slice(1)) pubsubSubscribe(c, "channel", ch); }
/* PSUBSCRIBE pattern [pattern ...] */
function psubscribeCommand(c: Client): void { for (const p of c.argv.slice(1)) pubsubSubscribe(c, "pattern", p); }
/* SSUBSCRIBE shardchannel [shardchannel ...] */
function ssubscribeCommand(c: Client): void { for (const ch of c.argv.slice(1)) pubsubSubscribe(c, "shard", ch); }

/** UNSUBSCRIBE, PUNSUBSCRIBE and SUNSUBSCRIBE. */
function unsubscribeGeneric(c: Client, kind: SubKind): void {
  if (c.argv.length === 1) return pubsubUnsubscribeAll(c, kind, true);
  for (const name of c.argv.slice(1)) pubsubUnsubscribe(c, kind, name, true);
}
function unsubscribeCommand(c: Client): void { unsubscribeGeneric(c, "channel"); }
function punsubscribeCommand(c: Client): void { unsubscribeGeneric(c, "pattern"); }
function sunsubscribeCommand(c: Client): void { unsubscribeGeneric(c, "shard"); }

/** Delivers a message to the subscribers of a channel and of the matching patterns. Returns the
 *  number of receivers. */
function pubsubPublishMessage(channel: string, message: string, shard = false): number {
  let receivers = 0;
  const subs = (shard ? pubsubShardChannels : pubsubChannels).get(channel);
  if (subs) {
    for (const c of subs) {
      const start = c.outLen;
      addReplyPushLen(c, 3);
      addReplyBulk(c, shard ? "smessage" : "message");
      addReplyBulk(c, channel);
      addReplyBulk(c, message);
      keepPush(c, start);
      checkClientOutputBufferLimits(c);
      updateClientMemUsage(c);
      receivers++;
    }
  }
  if (shard) return receivers;
  for (const [pattern, clients] of pubsubPatterns) {
    if (!stringmatch(pattern, channel)) continue;
    for (const c of clients) {
      const start = c.outLen;
      addReplyPushLen(c, 4);
      addReplyBulk(c, "pmessage");
      addReplyBulk(c, pattern);
      addReplyBulk(c, channel);
      addReplyBulk(c, message);
      keepPush(c, start);
      checkClientOutputBufferLimits(c);
      updateClientMemUsage(c);
      receivers++;
    }
  }
  return receivers;
}

/* PUBLISH channel message */
function publishCommand(c: Client): void { addReplyLongLong(c, pubsubPublishMessage(c.argv[1], c.argv[2])); }
/* SPUBLISH shardchannel message */
function spublishCommand(c: Client): void { addReplyLongLong(c, pubsubPublishMessage(c.argv[1], c.argv[2], true)); }

/** PUBSUB CHANNELS and SHARDCHANNELS [pattern] */
function pubsubChannelsGeneric(c: Client, map: Map<string, Set<Client>>): void {
  const pattern = c.argv[2];
  if (c.argv.length > 3) return addReplySubcommandSyntaxError(c);
  addReplyBulks(c, [...map.keys()].filter((ch) => pattern === undefined || stringmatch(pattern, ch)));
}
function pubsubChannelsCommand(c: Client): void { pubsubChannelsGeneric(c, pubsubChannels); }
function pubsubShardchannelsCommand(c: Client): void { pubsubChannelsGeneric(c, pubsubShardChannels); }

/** PUBSUB NUMSUB and SHARDNUMSUB [channel ...]: channel/count pairs. */
function pubsubNumsubGeneric(c: Client, map: Map<string, Set<Client>>): void {
  const names = c.argv.slice(2);
  addReplyArrayLen(c, names.length * 2); // a flat array even in RESP3, as Redis 7.0 sends it
  for (const n of names) { addReplyBulk(c, n); addReplyLongLong(c, map.get(n)?.size ?? 0); }
}
function pubsubNumsubCommand(c: Client): void { pubsubNumsubGeneric(c, pubsubChannels); }
function pubsubShardnumsubCommand(c: Client): void { pubsubNumsubGeneric(c, pubsubShardChannels); }

/* PUBSUB NUMPAT */
function pubsubNumpatCommand(c: Client): void { addReplyLongLong(c, pubsubPatterns.size); }

function pubsubHelpCommand(c: Client): void {
  addReplyHelp(c, "PUBSUB", [
    "CHANNELS [<pattern>]", "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT", "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]", "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]", "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]", "    Return the number of subscribers for the specified shard level channel(s)",
  ]);
}

/** This chapter's rows of the command table (see Dispatch). */
const PUBSUB_COMMANDS: CommandRows[] = [
  { group: "pubsub", specs: [
    ["subscribe", -2, "pubsub noscript loading stale", 0, 0, 0, "", subscribeCommand],
    ["unsubscribe", -1, "pubsub noscript loading stale", 0, 0, 0, "", unsubscribeCommand],
    ["psubscribe", -2, "pubsub noscript loading stale", 0, 0, 0, "", psubscribeCommand],
    ["punsubscribe", -1, "pubsub noscript loading stale", 0, 0, 0, "", punsubscribeCommand],
    ["publish", 3, "pubsub loading stale fast may_replicate", 0, 0, 0, "", publishCommand],
    ["ssubscribe", -2, "pubsub noscript loading stale", 1, -1, 1, "", ssubscribeCommand],
    ["sunsubscribe", -1, "pubsub noscript loading stale", 1, -1, 1, "", sunsubscribeCommand],
    ["spublish", 3, "pubsub loading stale fast may_replicate", 1, 1, 1, "", spublishCommand],
    ["pubsub", -2, "", 0, 0, 0, "", () => {}],
  ], subs: {
    pubsub: [
      ["channels", -2, "pubsub loading stale", 0, 0, 0, "", pubsubChannelsCommand],
      ["numsub", -2, "pubsub loading stale", 0, 0, 0, "", pubsubNumsubCommand],
      ["numpat", 2, "pubsub loading stale", 0, 0, 0, "", pubsubNumpatCommand],
      ["shardchannels", -2, "pubsub loading stale", 0, 0, 0, "", pubsubShardchannelsCommand],
      ["shardnumsub", -2, "pubsub loading stale", 0, 0, 0, "", pubsubShardnumsubCommand],
      ["help", 2, "loading stale", 0, 0, 0, "", pubsubHelpCommand],
    ],
  } },
];

// ============================================================================================
// Event loop
//
// Bun.listen delivers each read as one `data` event: the client's commands run to completion,
// then handleClientsWithPendingWrites sends the replies. serverCron runs hz times a second
// (active expiry, save points, AOF fsync and rewrites, replication pings and timeouts, idle
// clients), and startServer/initServer put it all together.
// ============================================================================================

const E_PROTECTED_MODE = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. " +
  "In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you " +
  "may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the " +
  "loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible " +
  "from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by " +
  "editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the " +
  "server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default " +
  "user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/** A new connection becomes a client, unless maxclients or protected mode turn it away. */
function acceptClient(sock: Socket<Client>, unixSocket: boolean): void {
  if (server.clients.size >= confNum("maxclients")) {
    stats.rejectedConnections++;
    sock.write("-ERR max number of clients reached\r\n");
    sock.end();
    return;
  }
  // Protected mode: while the default user has no password, only loopback clients get in.
  const peer = sock.remoteAddress;
  if (!unixSocket && conf["protected-mode"] && defaultUser.flags & USER_NOPASS && !isLoopbackIp(peer)) {
    stats.rejectedConnections++;
    sock.write(E_PROTECTED_MODE);
    sock.end();
    return;
  }
  let c: Client;
  if (unixSocket) {
    c = new Client(sock, `${conf.unixsocket}:0`, `${conf.unixsocket}:0`);
    c.unixSocket = true;
  } else {
    const keepAlive = confNum("tcp-keepalive");
    if (keepAlive) sock.setKeepAlive(true, keepAlive * 1000); // dead peers are found, as Redis's SO_KEEPALIVE
    const addr = sock.remoteAddress.includes(":") ? `[${sock.remoteAddress}]` : sock.remoteAddress;
    const local = sock.localAddress ?? "";
    c = new Client(sock, `${addr}:${sock.remotePort}`, `${local.includes(":") ? `[${local}]` : local}:${server.port}`);
  }
  clientSetDefaultAuth(c);
  sock.data = c;
  server.clients.set(c.id, c);
  stats.connections++;
  updateClientMemUsage(c);
}

const socketHandlers = {
  open(sock: Socket<Client>) { acceptClient(sock, false); },
  data(sock: Socket<Client>, chunk: Buffer) {
    const c = sock.data;
    if (!c || c.closed) return;
    stats.reads++;
    stats.netInput += chunk.length;
    appendInput(c, chunk);
    if (c.qlen - c.qpos > hot.queryBufferLimit) {
      log("warning", `Closing client that reached max query buffer length: ${clientInfoString(c)}`);
      freeClient(c);
      return;
    }
    processInputBuffer(c);
    handleClientsWithPendingWrites();
  },
  drain(sock: Socket<Client>) {
    const c = sock.data;
    if (c && !c.closed) writeToClient(c);
  },
  close(sock: Socket<Client>) {
    const c = sock.data;
    if (c) freeClient(c);
  },
  error(sock: Socket<Client>, err: Error) {
    log("verbose", `Client error: ${err.message}`);
    const c = sock.data;
    if (c) freeClient(c);
  },
};

/** The unix socket's connections: the same, as local clients. */
const unixSocketHandlers = { ...socketHandlers, open(sock: Socket<Client>) { acceptClient(sock, true); } };

/** Listens on every address in `bind` (a leading '-' marks an optional address, `*` every IPv4
 *  address and `::*` every IPv6 one, as in Redis; an empty bind listens on no TCP address).
 *  Listeners in `reuse` on a wanted address and port are kept; the others are closed first. */
function listenAll(reuse: TCPSocketListener<Client>[] = []): string | null {
  const wanted = String(conf.bind).split(" ").filter(Boolean).map((a) => {
    const optional = a.startsWith("-"), name = optional ? a.slice(1) : a;
    return { optional, host: name === "*" ? "0.0.0.0" : name === "::*" ? "::" : name };
  });
  let port = confNum("port");
  // Redis skips an optional address only when it is not this host's (EADDRNOTAVAIL): a malformed
  // one, or one named twice (EADDRINUSE), fails.
  const malformed = (h: string) => /^\d+\.\d+\.\d+\.\d+$/.test(h) && h.split(".").some((o) => Number(o) > 255);
  if (wanted.some((w, i) => malformed(w.host) || wanted.findIndex((x) => x.host === w.host) !== i)) {
    for (const l of reuse) l.stop(false);
    server.listeners = [];
    return `Failed listening on port ${conf.port} (tcp), aborting: bad or repeated address in '${conf.bind}'`;
  }
  const kept = port === 0 ? [] : reuse.filter((l) => l.port === port && wanted.some((w) => w.host === l.hostname));
  for (const l of reuse) if (!kept.includes(l)) l.stop(false);
  const listeners = [...kept], opened: TCPSocketListener<Client>[] = [];
  for (const { optional, host } of wanted) {
    if (kept.some((l) => l.hostname === host)) continue;
    try {
      // IPv6 sockets are IPv6 only, as Redis makes them, so `* -::*` can listen on both.
      // (ipv6Only is Bun 1.4.5's; its type definitions do not list it for listen yet.)
      const l = Bun.listen<Client>({ hostname: host, port, ipv6Only: host.includes(":"), socket: socketHandlers } as TCPSocketListenOptions<Client>);
      port = l.port; // with port 0, the other addresses share the first one's port
      listeners.push(l);
      opened.push(l);
    } catch (err) {
      if (optional) continue;
      for (const l of opened) l.stop(true);
      server.listeners = kept;
      return `Failed listening on port ${conf.port} (tcp), aborting: ${(err as Error).message}`;
    }
  }
  server.listeners = listeners;
  server.port = port;
  return null;
}

/** CONFIG SET port/bind, as Redis's changeBindAddr/changeListenPort: the addresses both old and
 *  new keep their listener, the others close, then the new ones open. If one cannot, the change
 *  is refused, and undoing it listens on the old addresses again. Connected clients stay. */
function rebindListeners(param: "port" | "bind"): string | null {
  const err = listenAll(server.listeners);
  if (!err) return null;
  log("warning", err);
  return param === "bind" ? "Failed to bind to specified addresses." : "Unable to listen on this port. Check server logs.";
}

/** Listens on the unixsocket path, if set (a file left there is replaced, as Redis does), with
 *  unixsocketperm's mode. Its clients are local: protected mode lets them in. */
function listenUnixSocket(): string | null {
  if (!conf.unixsocket) return null;
  const path = filePath(String(conf.unixsocket));
  try { unlinkSync(path); } catch { /* not there */ }
  try {
    server.unixListener = Bun.listen<Client>({ unix: path, socket: unixSocketHandlers });
    const perm = confNum("unixsocketperm");
    if (perm) chmodSync(path, parseInt(String(perm), 8));
  } catch (err) {
    return `Failed opening Unix socket: ${(err as Error).message}`;
  }
  return null;
}

/** Stops listening everywhere (TCP and the unix socket, whose file goes, as Redis logs it). */
function closeListeningSockets(): void {
  for (const l of server.listeners) l.stop(true);
  server.listeners = [];
  if (server.unixListener) {
    server.unixListener.stop(true);
    server.unixListener = null;
    log("notice", "Removing the unix socket file.");
    try { unlinkSync(filePath(String(conf.unixsocket))); } catch (err) {
      // Bun's stop() may have removed it already.
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") log("warning", `Error removing the unix socket file: ${strerror(err)}`);
    }
  }
}


/** Periodic work: active expiry, ops/sec sampling, the end of CLIENT PAUSE. */
function serverCron(): void {
  refreshClockBase();
  if (server.cronPaused) {
    // Redis still ends a CLIENT PAUSE on time, from the fast expiry pass it runs before sleeping.
    if (server.activeExpireEnabled && !scripting.suspended) endClientPauseIfDue();
    handleClientsWithPendingWrites();
    return;
  }
  try {
    // While a script is suspended nothing may touch the dataset: no expiry, saves or rewrites.
    if (!scripting.suspended) {
      endClientPauseIfDue();
      if (!clientsArePaused()) activeExpireCycle();
      checkSavePoints();
      aofCron();
    }
    replicationCron();
    shutdownCron();
    closeIdleClients();
    clientsCron();
    updateFailoverStatus();
    if (tracking.clients) trackingLimitUsedSlots();
    if (migrateConns.size) migrateCloseTimedoutConns();
    const t = wallClock(), s = server.opsSample;
    if (t - s.time >= 1000) {
      const dt = (t - s.time) / 1000;
      stats.opsPerSec = Math.round((stats.commands - s.commands) / dt);
      stats.inputKbps = (stats.netInput - s.input) / dt / 1024;
      stats.outputKbps = (stats.netOutput - s.output) / dt / 1024;
      server.opsSample = { time: t, commands: stats.commands, input: stats.netInput, output: stats.netOutput };
    }
    handleClientsWithPendingWrites();
  } catch (err) {
    log("warning", `serverCron: ${(err as Error).stack ?? err}`);
  }
}

/** Moves the server's clock (DEBUG TIME, or startServer's server.time, which has already moved
 *  the shared clock and passes no op). Blocked clients' timeouts are set again from it, and what
 *  is now due happens at once, as the next cron would do it: keys expire, pauses end. */
function clockMoved(op: TimeOp | null, ms: number): void {
  if (op) moveTime(timeCtl, op, ms);
  clock = controlledClock;
  if (op) {
    // From DEBUG TIME, in the middle of a command: the rest runs once it has replied (its own
    // client is not idle, whatever the clock says).
    if (currentClient) currentClient.lastInteraction = now();
    for (const c of server.clients.values()) if (c.bstate?.deadline) armBlockTimer(c);
    setImmediate(serverCron);
    return;
  }
  // From startServer's server.time: what is due happens before its promise resolves.
  for (const c of [...server.clients.values()]) {
    if (!c.bstate?.deadline) continue;
    if (now() >= c.bstate.deadline) blockedClientTimedOut(c);
    else armBlockTimer(c);
  }
  serverCron();
}

/** The end of a CLIENT PAUSE whose time has come: the held clients go on. */
function endClientPauseIfDue(): void {
  if (!server.pauseEnd || server.pauseEnd > now()) return;
  server.pauseEnd = 0;
  unpauseClients();
}

/** Closes clients idle for more than `timeout` seconds, as Redis's clientsCronHandleTimeout:
 *  replicas, the master, monitors, subscribers and blocked clients are left alone. */
function closeIdleClients(): void {
  const maxIdleMs = confNum("timeout") * 1000;
  if (!maxIdleMs) return;
  const t = now();
  for (const c of server.clients.values()) {
    if (clientType(c) !== "normal" || c.monitor || c.bstate || t - c.lastInteraction <= maxIdleMs) continue;
    log("verbose", "Closing idle client");
    freeClient(c);
  }
}

/** Startup: with appendonly the AOF directory is the truth; otherwise dump.rdb. Either way a
 *  corrupt file stops the start rather than serving a partial dataset. */
/** Loads the data at startup. Returns a promise when the load goes on later (an AOF whose
 *  scripts wait for the Lua VM), null when the data is in. */
function loadPersistedData(): Promise<void> | null {
  removeStaleTempFiles();
  server.loading = true;
  let later: Promise<void> | null = null;
  try {
    if (conf.appendonly) {
      const loaded = loadAppendOnlyFiles();
      if (loaded instanceof Promise) later = loaded.then((l) => void startAppendOnly(l)).finally(() => { server.loading = false; });
      else startAppendOnly(loaded);
    } else {
      // Redis reads (and checks) the AOF manifest even with appendonly off: turning it on later
      // continues that directory's numbering.
      const manifest = aofReadManifest();
      if (manifest) { aof.base = manifest.base; aof.incrs = manifest.incrs; }
      loadDataFromDisk();
    }
  } finally {
    if (!later) server.loading = false;
  }
  return later;
}

// --- startServer: servers inside a program (a project's tests)
//
// The server's state is module-global, as Redis's is process-global; so each server that
// startServer starts runs in a thread of its own (a Worker loading this file), and any number
// run side by side in one process, each with its own keyspace, configuration, clients and files.
// The clock lives in memory the two threads share: server.time moves it without a round trip.

/** A server started by startServer. */
export interface RedbunServer {
  /** The TCP port it listens on (the one the system chose, with port 0). */
  readonly port: number;
  /** `redis://127.0.0.1:<port>`, for clients that take a URL. */
  readonly url: string;
  /** The server's clock. Moving it expires keys (lazily and in the active cycle), times out
   *  blocked clients, and moves XADD's IDs, OBJECT IDLETIME, LFU decay, SLOWLOG and LATENCY
   *  times, client idle times and TIME. The promises resolve once the server has acted on it. */
  readonly time: ServerClock;
  /** Stops it: clients disconnected, sockets, timers and its thread gone, and the directory
   *  startServer made for it (when no `dir` was given) removed. */
  close(): Promise<void>;
}

export interface ServerClock {
  /** The server's time, in unix milliseconds. */
  now(): number;
  advance(ms: number): Promise<void>;
  /** Sets it to a unix time in milliseconds; it runs on from there (unless frozen). */
  set(unixMs: number): Promise<void>;
  /** Stops it where it is: only advance() and set() move it. */
  freeze(): Promise<void>;
  /** Lets it run again from where it stands. */
  resume(): Promise<void>;
}

/** Any redis.conf parameter by its name (`port`, `maxmemory`, `"notify-keyspace-events"` ...;
 *  booleans may be given as true/false), and `seed`, which makes the random choices repeatable. */
export type ServerOptions = { [param: string]: string | number | boolean | undefined; seed?: number };

/** What a server for tests starts with unless an option says otherwise: any free port, no save
 *  points, no AOF, replicas synced at once (no repl-diskless-sync-delay: Redis waits 5 s for more
 *  replicas to share a transfer), a fresh directory of its own (so nothing is read from or
 *  written to the current one), and no log lines unless `loglevel` or `logfile` is given. */
const EMBEDDED_DEFAULTS: Record<string, string> = { port: "0", save: "", appendonly: "no", "repl-diskless-sync-delay": "0" };

/** The directories startServer made for servers still running: a program that ends without
 *  closing them leaves none behind (its threads end with it). */
/** The directories startServer made for servers still running, removed when the program exits
 *  without closing them. Not every runner lets a program see its exit (bun test does not), so the
 *  first startServer of a process also removes those that programs no longer running left behind:
 *  a directory's name carries its maker's pid (redbun-<pid>-XXXXXX). */
const startedDirs = new Set<string>();
if (Bun.isMainThread) process.on("exit", () => { for (const dir of startedDirs) rmSync(dir, { recursive: true, force: true }); });
let staleDirsSwept = false;
function sweepStaleDirs(): void {
  staleDirsSwept = true;
  let names: string[];
  try { names = readdirSync(tmpdir()); } catch { return; }
  for (const name of names) {
    const m = /^redbun-(\d+)-\w{6}$/.exec(name);
    if (m && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))) rmSync(`${tmpdir()}/${name}`, { recursive: true, force: true });
  }
}

/** Starts a server in a thread of its own; resolves once it accepts connections. */
export async function startServer(options: ServerOptions = {}): Promise<RedbunServer> {
  const params: Record<string, string> = { ...EMBEDDED_DEFAULTS };
  let seed: number | undefined;
  for (const [name, v] of Object.entries(options)) {
    if (v === undefined) continue;
    if (name === "seed") {
      seed = Number(v);
      if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, not ${v}`);
    } else params[name.toLowerCase()] = typeof v === "boolean" ? (v ? "yes" : "no") : String(v);
  }
  if (!staleDirsSwept) sweepStaleDirs();
  const ownDir = params.dir === undefined ? mkdtempSync(`${tmpdir()}/redbun-${process.pid}-`) : null;
  if (ownDir) { params.dir = ownDir; startedDirs.add(ownDir); }
  const quiet = params.loglevel === undefined && params.logfile === undefined;
  const clockMem = new Float64Array(new SharedArrayBuffer(16));
  clockMem[1] = NaN;
  const worker = new (threads().Worker)(import.meta.path, { workerData: { redbun: { params, seed, quiet, clock: clockMem } } });
  const pending = new Map<number, () => void>();
  let nextId = 0, exited = false, closing: Promise<void> | null = null;
  const cleanUp = () => {
    exited = true;
    for (const done of pending.values()) done();
    pending.clear();
    if (ownDir) { rmSync(ownDir, { recursive: true, force: true }); startedDirs.delete(ownDir); }
  };
  const port = await new Promise<number>((resolve, reject) => {
    // A refusal rejects once the thread has ended and its directory is gone.
    let why = "the server's thread ended before it started";
    worker.on("message", (m: { op: string; port?: number; message?: string; id?: number }) => {
      if (m.op === "ready") resolve(m.port!);
      else if (m.op === "error") why = m.message!;
      else if (m.op === "done") { pending.get(m.id!)?.(); pending.delete(m.id!); }
    });
    worker.on("error", (err) => { why = (err as Error).message; });
    worker.on("exit", () => { cleanUp(); reject(new Error(why)); });
  });
  /** Asks the server to act on its clock having moved. */
  const clockChanged = () => new Promise<void>((resolve) => {
    if (exited) return resolve();
    const id = nextId++;
    pending.set(id, resolve);
    worker.postMessage({ op: "clock", id });
  });
  const move = (op: TimeOp, ms = 0) => { moveTime(clockMem, op, ms); return clockChanged(); };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    time: {
      now: () => isFrozen(clockMem) ? clockMem[1] : Date.now() + clockMem[0],
      advance: (ms) => move("advance", ms),
      set: (unixMs) => move("set", unixMs),
      freeze: () => move("freeze"),
      resume: () => move("resume"),
    },
    close: () => closing ??= (async () => {
      if (!exited) {
        const stopped = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
        worker.postMessage({ op: "close" });
        await stopped;
      }
    })(),
  };
}

/** The thread of a server that startServer started: runs the server, and answers its starter
 *  (started, or why not; the clock moved; close). */
async function serveStarter(): Promise<void> {
  const { params, seed, quiet, clock: shared } = threads().workerData.redbun as { params: Record<string, string>; seed?: number; quiet: boolean; clock: Float64Array };
  const starter = threads().parentPort!;
  timeCtl = shared;
  clock = controlledClock;
  if (seed !== undefined) seedRandom(seed);
  server.logToStdout = !quiet;
  // As the command-line server: what escapes a handler is logged, and the server goes on.
  process.on("uncaughtException", (err) => log("warning", `Uncaught exception: ${err.stack ?? err}`));
  process.on("unhandledRejection", (err) => log("warning", `Unhandled rejection: ${err}`));
  let srv: ReturnType<typeof initServer>;
  try {
    loadConfigDefaults();
    loadConfigText(Object.entries(params).map(([k, v]) => `${k} ${reprString(v)}`).join("\n"));
    srv = initServer();
  } catch (err) {
    writeHeldLog();
    starter.postMessage({ op: "error", message: (err as Error).message.trim() });
    process.exit(1);
  }
  try {
    await srv.ready;
  } catch (err) {
    writeHeldLog();
    starter.postMessage({ op: "error", message: (err as Error).message.trim() });
    process.exit(1);
  }
  starter.postMessage({ op: "ready", port: srv.port });
  starter.on("message", async (m: { op: string; id?: number }) => {
    if (m.op === "clock") {
      clockMoved(null, 0);
      starter.postMessage({ op: "done", id: m.id });
    } else if (m.op === "close") {
      await srv.close();
      process.exit(0);
    }
  });
}

/** Opens the server's sockets, loads its data and starts serverCron, with the configuration
 *  already read. Returns its port and how to stop it. */
/** Where redis-server draws its logo, once listening: to a terminal (logging to stdout), or
 *  anywhere with `always-show-logo yes`, a banner with the port and PID (a harness waiting for
 *  " PID: <pid>" then finds the port open); otherwise one line with the port, as chosen. */
function startupBanner(): void {
  const showLogo = conf["always-show-logo"] === true || (!conf.logfile && !conf["syslog-enabled"] && process.stdout.isTTY === true);
  if (!showLogo) return log("notice", `Running mode=standalone, port=${server.port}.`);
  if (conf.loglevel === "warning" || conf.loglevel === "nothing") return; // as Redis's LL_NOTICE
  logRaw([
    "",
    `    (\\_/)     Redbun ${REDBUN_VERSION} (Redis ${REDIS_VERSION} compatible) 64 bit, bun ${Bun.version}`,
    "   ( o.o )    Running in standalone mode",
    `   (")_(")    Port: ${server.port}`,
    `              PID: ${process.pid}`,
    "",
    "",
  ].join("\n"));
}

function initServer(): { readonly port: number; ready: Promise<void>; close(): Promise<void> } {
  refreshClockBase();
  applyConfigChanges([]);
  const aclErr = aclLoadUsersAtStartup();
  if (aclErr) throw new Error(aclErr);
  server.dbs = Array.from({ length: confNum("databases") }, (_, i) => new Db(i));
  scriptingCreateClient();
  server.runId = randomHex(40);
  repl.replid = randomHex(40);
  server.startTime = wallClock();
  // As Redis: listen first, then load. A client that connects meanwhile waits in the kernel's
  // backlog and is served once the data is in (a process that started listens at once, which is
  // what a supervisor or a test harness waiting for the port sees).
  const err = listenAll() ?? listenUnixSocket();
  writeHeldLog();
  if (err) { closeListeningSockets(); throw new Error(err); }
  if (!server.listeners.length && !server.unixListener) throw new Error("Configured to not listen anywhere, exiting.");
  server.running = true;
  startupBanner();
  log("warning", "Server initialized");
  let loading: Promise<void> | null;
  try {
    loading = loadPersistedData();
  } catch (loadErr) {
    closeListeningSockets();
    server.running = false;
    throw loadErr;
  }
  const serve = () => {
    if (server.listeners.length) log("notice", "Ready to accept connections");
    if (server.unixListener) log("notice", `The server is now ready to accept connections at ${conf.unixsocket}`);
    if (conf.replicaof) {
      const [host, port] = String(conf.replicaof).split(" ");
      replicationSetMaster(host, Number(port), true);
    }
    server.cronTimer = setInterval(serverCron, Math.max(1, Math.floor(1000 / Math.min(500, Math.max(1, confNum("hz"))))));
  };
  // Loaded, or (scripts in the AOF waiting for the Lua VM) loading on: clients are answered
  // -LOADING meanwhile, and a load that fails then ends the server as it would have at once.
  const ready = loading ? loading.then(serve) : Promise.resolve(serve());
  const close = async () => {
    if (server.cronTimer) clearInterval(server.cronTimer);
    server.cronTimer = null;
    // The listening sockets first, as Redis: a client that sees its connection end finds the
    // port closed.
    closeListeningSockets();
    for (const c of [...server.clients.values()]) freeClient(c);
    killRdbChild();
    server.running = false;
    shutdownState.asap = false;
    shutdownState.deadline = 0;
    server.shutdownPause = false;
    migrateWorker?.terminate();
    migrateWorker = null;
    migrateConns.clear();
  };
  server.shutdown = async () => {
    await close();
    if (conf.pidfile && isMainProcess) {
      log("notice", "Removing the pid file.");
      try { unlinkSync(String(conf.pidfile)); } catch { /* never written, or gone */ }
    }
    log("warning", "Redis is now ready to exit, bye bye...");
    if (server.configFile !== null && isMainProcess) process.exit(0);
    if (embedded) process.exit(0); // its thread ends; startServer's close() then has nothing to do
  };
  return { get port() { return server.port; }, ready, close };
}

// ############################################################################################
// Part II. Chapters
//
// One topic each, each read alone. A chapter holds its type's API, its commands (each with its
// syntax line), the serve hook of its blocking commands, and at its end its rows of the command
// table. To add a command: write `xxxCommand(c)` in its chapter and add its row to the chapter's
// table; processCommand, ACL, COMMAND, MULTI and propagation then know it.
// ############################################################################################

// ============================================================================================
// Strings
//
// A string value is a latin1 JS string (kept as bytes in its database's Arena while short), or
// an RBytes once APPEND or SETRANGE make it long: bytes changed in place, as Redis's sds. Integer
// commands (INCR ...) parse and format 64-bit integers exactly; INCRBYFLOAT computes in 80-bit
// extended precision as Redis's long double. Bitmaps (SETBIT ... BITFIELD) read and write a
// string's bits, the first the most significant bit of its first byte.
// ============================================================================================

function isString(v: RValue): v is RString { return typeof v === "string" || v instanceof RBytes; }

/** A string value's bytes as a JS string (made afresh from an RBytes: O(length)). */
function strOf(v: RString): string { return typeof v === "string" ? v : v.toString(); }

/** Replies a string value as a bulk string; an RBytes is copied from its buffer. */
function addReplyString(c: Client, v: RString): void {
  if (typeof v === "string") addReplyBulk(c, v);
  else addReplyBulkBytes(c, v.buf, 0, v.len);
}

/** A string value whose bytes are changed in place (APPEND, SETRANGE): a Buffer with room to
 *  grow, as Redis's sds, so that a write costs the bytes it writes rather than the length of the
 *  string. A string becomes one when such a command makes it longer than RBYTES_MIN bytes;
 *  shorter ones stay JS strings (or arena entries), which every other command reads directly.
 *  From 1 MB on, the bytes live in a resizable ArrayBuffer, which grows in place (its pages are
 *  reserved up to proto-max-bulk-len and committed as they are written): a 500 MB string takes one
 *  more byte without a second 500 MB copy beside it. */
class RBytes {
  readonly type = "string";
  constructor(public buf: Buffer, public len: number) {}
  /** A copy of s with room for `capacity` bytes (zero-filled past s). */
  static from(s: string, capacity: number): RBytes {
    const buf = RBytes.alloc(Math.max(capacity, s.length));
    buf.latin1Write(s, 0);
    return new RBytes(buf, s.length);
  }
  get length(): number { return this.len; }
  /** Bytes held, for memory accounting: the slack counts, as sds's does in Redis. */
  get bytes(): number { return this.buf.length + MEM_STRING_OVERHEAD; }
  toString(): string { return this.buf.latin1Slice(0, this.len); }
  /** Writes s at offset, zero-filling any gap past the end. */
  setRange(offset: number, s: string): void {
    const end = offset + s.length;
    if (end > this.buf.length) this.grow(end);
    if (offset > this.len) this.buf.fill(0, this.len, offset);
    this.buf.latin1Write(s, offset);
    if (end > this.len) this.len = end;
  }
  append(s: string): void { this.setRange(this.len, s); }
  /** Makes room for n bytes in all (zeros past the length), keeping the length. */
  reserve(n: number): void { if (n > this.buf.length) this.grow(n); }
  private grow(n: number): void {
    const ab = this.buf.buffer as ResizableArrayBuffer;
    if (ab.resizable && n <= ab.maxByteLength) {
      ab.resize(n); // in place; the new bytes are zeros
      this.buf = Buffer.from(ab, 0, n);
      return;
    }
    const next = RBytes.alloc(RBytes.roomFor(n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  /** A capacity for n bytes with slack, as sdsMakeRoomFor: double below 1 MB (a resizable buffer
   *  above that needs none). */
  static roomFor(n: number): number { return n < 1048576 ? n * 2 : n; }
  /** n zeroed bytes: a plain Buffer below 1 MB, a resizable one from there on. */
  private static alloc(n: number): Buffer {
    if (n < 1048576) return Buffer.alloc(n);
    const ab = new (ArrayBuffer as ResizableArrayBufferConstructor)(n, { maxByteLength: Math.max(n, hot.protoMaxBulkLen) });
    return Buffer.from(ab, 0, n);
  }
}
// ES2024's resizable ArrayBuffer, which Bun has and this project's TypeScript lib does not declare.
type ResizableArrayBuffer = ArrayBuffer & { resizable?: boolean; maxByteLength: number; resize(n: number): void };
type ResizableArrayBufferConstructor = new (n: number, opts: { maxByteLength: number }) => ResizableArrayBuffer;
/** Strings longer than this that APPEND or SETRANGE write become RBytes. */
const RBYTES_MIN = 4096;

/** Refuses strings longer than proto-max-bulk-len, as Redis's checkStringLength. */
function checkStringLength(c: Client, size: number): boolean {
  if (size > hot.protoMaxBulkLen) { addReplyError(c, E.bigString); return false; }
  return true;
}

const OBJ_NX = 1, OBJ_XX = 2, OBJ_GET = 4, OBJ_KEEPTTL = 8, OBJ_PERSIST = 16, OBJ_EX = 32, OBJ_PX = 64, OBJ_EXAT = 128, OBJ_PXAT = 256;
const EXPIRE_FLAGS = OBJ_EX | OBJ_PX | OBJ_EXAT | OBJ_PXAT;

/** Parses SET's and GETEX's options (NX XX GET KEEPTTL PERSIST EX PX EXAT PXAT) from argv[start].
 *  Returns the flags and the expire argument, or undefined after replying a syntax error. */
function parseExtendedStringArgs(c: Client, start: number, forSet: boolean): { flags: number; expire?: string } | undefined {
  let flags = 0;
  let expire: string | undefined;
  const argv = c.argv;
  for (let j = start; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    const next = j + 1 < argv.length ? argv[j + 1] : undefined;
    if (opt === "nx" && !(flags & OBJ_XX) && forSet) flags |= OBJ_NX;
    else if (opt === "xx" && !(flags & OBJ_NX) && forSet) flags |= OBJ_XX;
    else if (opt === "get" && forSet) flags |= OBJ_GET;
    else if (opt === "keepttl" && !(flags & (OBJ_PERSIST | EXPIRE_FLAGS)) && forSet) flags |= OBJ_KEEPTTL;
    else if (opt === "persist" && !forSet && !(flags & (EXPIRE_FLAGS | OBJ_KEEPTTL))) flags |= OBJ_PERSIST;
    else if (next !== undefined && (opt === "ex" || opt === "px" || opt === "exat" || opt === "pxat")) {
      const bit = opt === "ex" ? OBJ_EX : opt === "px" ? OBJ_PX : opt === "exat" ? OBJ_EXAT : OBJ_PXAT;
      if (flags & (OBJ_KEEPTTL | OBJ_PERSIST | (EXPIRE_FLAGS & ~bit))) { addReplyError(c, E.syntax); return undefined; }
      flags |= bit;
      expire = next;
      j++;
    } else { addReplyError(c, E.syntax); return undefined; }
  }
  return { flags, expire };
}

/** Turns an EX/PX/EXAT/PXAT argument into an absolute unix time in ms, or replies an error. */
function expireMillisecondsOrReply(c: Client, expire: string, flags: number): number | undefined {
  let ms = parseIntOrReply(c, expire);
  if (ms === undefined) return undefined;
  const seconds = (flags & (OBJ_EX | OBJ_EXAT)) !== 0;
  if (ms <= 0 || (seconds && ms > 9223372036854775)) return replyInvalidExpire(c);
  if (seconds) ms *= 1000;
  if (flags & (OBJ_EX | OBJ_PX)) {
    if (ms > 9223372036854775807 - cmdTime) return replyInvalidExpire(c);
    ms += cmdTime;
  }
  return ms;
}

function replyInvalidExpire(c: Client): undefined {
  addReplyError(c, `ERR invalid expire time in '${lookupCommand(c.argv)!.name}' command`);
  return undefined;
}

/** GET's reply for SET ... GET and GETSET: the old value, nil, or WRONGTYPE (returns false). */
function getGeneric(c: Client): boolean {
  const v = lookupKeyRead(cdb(c), c.argv[1]);
  if (v === undefined) { addReplyNull(c); return true; }
  if (!isString(v)) { addReplyError(c, E.wrongType); return false; }
  addReplyString(c, v);
  return true;
}

/** The body shared by SET, SETNX, SETEX and PSETEX. */
function setGeneric(c: Client, flags: number, key: string, val: string, expire: string | undefined, okReply: string | null, abortReply: string | null): void {
  let when = 0;
  if (expire !== undefined) {
    const ms = expireMillisecondsOrReply(c, expire, flags);
    if (ms === undefined) return;
    when = ms;
  }
  if (flags & OBJ_GET && !getGeneric(c)) return;
  const db = cdb(c);
  const found = lookupKeyWrite(db, key) !== undefined;
  if ((flags & OBJ_NX && found) || (flags & OBJ_XX && !found)) {
    if (!(flags & OBJ_GET)) abortReply === null ? addReplyNull(c) : addReplyProto(c, abortReply);
    return;
  }
  setKey(db, key, val, (flags & OBJ_KEEPTTL) !== 0);
  server.dirty++;
  keyModified(db, key, NOTIFY_STRING, "set");
  if (expire !== undefined) {
    setExpire(db, key, when);
    if (server.notifyFlags) notifyKeyspaceEvent(NOTIFY_GENERIC, "expire", key, db.id);
    // Relative times would drift on replay: propagate the absolute time.
    if (!(flags & OBJ_PXAT)) c.propArgv = ["SET", key, val, "PXAT", String(when)];
  }
  if (!(flags & OBJ_GET)) okReply === null ? addReplyOK(c) : addReplyProto(c, okReply);
  else if (!c.propArgv) c.propArgv = c.argv.filter((a, i) => i < 3 || a.toLowerCase() !== "get"); // replicas need no reply
}

/* SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL] */
function setCommand(c: Client): void {
  if (c.argv.length === 3) {
    // The common case, without options: no parsing, no allocation.
    const db = cdb(c);
    setKey(db, c.argv[1], c.argv[2]);
    server.dirty++;
    keyModified(db, c.argv[1], NOTIFY_STRING, "set");
    return addReplyOK(c);
  }
  const opts = parseExtendedStringArgs(c, 3, true);
  if (!opts) return;
  setGeneric(c, opts.flags, c.argv[1], c.argv[2], opts.expire, null, null);
}

/* SETNX key value */
function setnxCommand(c: Client): void { setGeneric(c, OBJ_NX, c.argv[1], c.argv[2], undefined, ":1\r\n", ":0\r\n"); }
/* SETEX key seconds value */
function setexCommand(c: Client): void { setGeneric(c, OBJ_EX, c.argv[1], c.argv[3], c.argv[2], null, null); }
/* PSETEX key milliseconds value */
function psetexCommand(c: Client): void { setGeneric(c, OBJ_PX, c.argv[1], c.argv[3], c.argv[2], null, null); }

/* GET key */
function getCommand(c: Client): void {
  const db = cdb(c), i = lookupSlotRead(db, c.argv[1]);
  if (i < 0) return addReplyNull(c);
  // A value in the arena is copied from there, with no string made for it.
  const h = db.handleAt(i);
  if (h >= 0) return db.arena!.replyVal(c, h);
  const v = db.valAt(i);
  if (!isString(v)) return addReplyError(c, E.wrongType);
  addReplyString(c, v);
}

/* GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST] */
function getexCommand(c: Client): void {
  const opts = parseExtendedStringArgs(c, 2, false);
  if (!opts) return;
  const db = cdb(c), key = c.argv[1];
  const v = lookupKeyRead(db, key);
  if (v === undefined) return addReplyNull(c);
  if (checkType(c, v, "string")) return;
  let when = 0;
  if (opts.expire !== undefined) {
    const ms = expireMillisecondsOrReply(c, opts.expire, opts.flags);
    if (ms === undefined) return;
    when = ms;
  }
  addReplyString(c, v);
  if (opts.flags & (OBJ_EXAT | OBJ_PXAT) && checkAlreadyExpired(when)) {
    dbDelete(db, key);
    server.dirty++;
    keyModified(db, key, NOTIFY_GENERIC, "del");
    c.propArgv = [conf["lazyfree-lazy-expire"] ? "UNLINK" : "DEL", key];
  } else if (opts.expire !== undefined) {
    setExpire(db, key, when);
    server.dirty++;
    keyModified(db, key, NOTIFY_GENERIC, "expire");
    c.propArgv = ["PEXPIREAT", key, String(when)];
  } else if (opts.flags & OBJ_PERSIST && removeExpire(db, key)) {
    server.dirty++;
    keyModified(db, key, NOTIFY_GENERIC, "persist");
    c.propArgv = ["PERSIST", key];
  }
}

/* GETDEL key */
function getdelCommand(c: Client): void {
  const db = cdb(c);
  const v = lookupKeyRead(db, c.argv[1]);
  if (v === undefined) return addReplyNull(c);
  if (checkType(c, v, "string")) return;
  addReplyString(c, v);
  dbDelete(db, c.argv[1]);
  server.dirty++;
  keyModified(db, c.argv[1], NOTIFY_GENERIC, "del");
  c.propArgv = ["DEL", c.argv[1]];
}

/* GETSET key value */
function getsetCommand(c: Client): void {
  if (!getGeneric(c)) return;
  setKey(cdb(c), c.argv[1], c.argv[2]);
  server.dirty++;
  keyModified(cdb(c), c.argv[1], NOTIFY_STRING, "set");
  c.propArgv = ["SET", c.argv[1], c.argv[2]];
}

/* MGET key [key ...] */
function mgetCommand(c: Client): void {
  const db = cdb(c);
  addReplyArrayLen(c, c.argv.length - 1);
  for (let i = 1; i < c.argv.length; i++) {
    const v = lookupKeyRead(db, c.argv[i]);
    if (v !== undefined && isString(v)) addReplyString(c, v);
    else addReplyNull(c);
  }
}

/* MSET key value [key value ...] and MSETNX */
function msetGeneric(c: Client, nx: boolean): void {
  const argv = c.argv, db = cdb(c);
  if (argv.length % 2 === 0) return addReplyError(c, `ERR wrong number of arguments for '${argv[0].toLowerCase()}' command`);
  if (nx) {
    for (let i = 1; i < argv.length; i += 2) if (lookupKeyWrite(db, argv[i]) !== undefined) return addReplyLongLong(c, 0);
  }
  for (let i = 1; i < argv.length; i += 2) {
    setKey(db, argv[i], argv[i + 1]);
    keyModified(db, argv[i], NOTIFY_STRING, "set");
  }
  server.dirty += (argv.length - 1) / 2;
  nx ? addReplyLongLong(c, 1) : addReplyOK(c);
}
function msetCommand(c: Client): void { msetGeneric(c, false); }
function msetnxCommand(c: Client): void { msetGeneric(c, true); }

/* APPEND key value */
function appendCommand(c: Client): void {
  const db = cdb(c), key = c.argv[1], add = c.argv[2];
  const v = lookupKeyWrite(db, key);
  if (v === undefined) {
    dbAdd(db, key, add);
    server.dirty++;
    keyModified(db, key, NOTIFY_STRING, "append");
    return addReplyLongLong(c, add.length);
  }
  if (checkType(c, v, "string")) return;
  const len = v.length + add.length;
  if (!checkStringLength(c, len)) return;
  if (v instanceof RBytes) {
    v.append(add); // in place: the snapshot, if one runs, took the old value in lookupKeyWrite
  } else {
    dbOverwrite(db, key, len > RBYTES_MIN ? RBytes.from(v + add, RBytes.roomFor(len)) : v + add);
    db.encodings.set(key, "raw"); // Redis appends to an unshared raw copy
  }
  server.dirty++;
  keyModified(db, key, NOTIFY_STRING, "append");
  addReplyLongLong(c, len);
}

/* STRLEN key */
function strlenCommand(c: Client): void {
  const v = lookupKeyRead(cdb(c), c.argv[1]);
  if (checkType(c, v, "string")) return;
  addReplyLongLong(c, v === undefined ? 0 : v.length);
}

/* GETRANGE key start end (and SUBSTR) */
function getrangeCommand(c: Client): void {
  let start = parseIntOrReply(c, c.argv[2]);
  if (start === undefined) return;
  let end = parseIntOrReply(c, c.argv[3]);
  if (end === undefined) return;
  const v = lookupKeyRead(cdb(c), c.argv[1]);
  if (v === undefined) return addReplyBulk(c, "");
  if (checkType(c, v, "string")) return;
  const len = v.length;
  if (start < 0 && end < 0 && start > end) return addReplyBulk(c, "");
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) return addReplyBulk(c, "");
  if (v instanceof RBytes) addReplyBulkBytes(c, v.buf, start, end + 1);
  else addReplyBulk(c, v.slice(start, end + 1));
}

/* SETRANGE key offset value */
function setrangeCommand(c: Client): void {
  const offset = parseIntOrReply(c, c.argv[2]);
  if (offset === undefined) return;
  if (offset < 0) return addReplyError(c, "ERR offset is out of range");
  const db = cdb(c), key = c.argv[1], value = c.argv[3];
  const v = lookupKeyWrite(db, key);
  if (checkType(c, v, "string")) return;
  if (value.length === 0) return addReplyLongLong(c, v?.length ?? 0);
  if (!checkStringLength(c, offset + value.length)) return;
  const len = stringWriteRange(db, key, v, offset, value);
  server.dirty++;
  keyModified(db, key, NOTIFY_STRING, "setrange");
  addReplyLongLong(c, len);
}

/** Writes `value` at `offset` of the string at key (made, or padded with zero bytes, as needed),
 *  in place for a big one; returns the string's length. SETRANGE and SETBIT write through here. */
function stringWriteRange(db: Db, key: string, v: RString | undefined, offset: number, value: string): number {
  if (v === undefined) {
    const len = offset + value.length;
    // A new big string is allocated at its exact size, as Redis's sdsnewlen.
    dbAdd(db, key, len > RBYTES_MIN ? RBytes.from("", len) : "\0".repeat(offset) + value);
    const nv = db.valAt(db.slot(key)!);
    if (nv instanceof RBytes) nv.setRange(offset, value);
    db.encodings.set(key, "raw");
    return len;
  }
  if (v instanceof RBytes) {
    v.setRange(offset, value); // in place: the snapshot, if one runs, took the old value in lookupKeyWrite
  } else {
    const len = Math.max(v.length, offset + value.length);
    if (len > RBYTES_MIN) {
      const b = RBytes.from(v, len);
      b.setRange(offset, value);
      dbOverwrite(db, key, b);
    } else {
      const padded = v.length < offset ? v + "\0".repeat(offset - v.length) : v;
      dbOverwrite(db, key, padded.slice(0, offset) + value + padded.slice(offset + value.length));
    }
    db.encodings.set(key, "raw");
  }
  return Math.max(v.length, offset + value.length);
}

// --- Bitmaps: strings as arrays of bits, the first bit the most significant of the first byte.

/** A bit offset argument: an integer from 0 to below proto-max-bulk-len bytes' worth of bits. */
function parseBitOffsetOrReply(c: Client, s: string): number | undefined {
  const v = string2ll(s);
  if (v === null || v < 0 || (!c.isMaster && !c.isAof && Math.floor(v / 8) >= hot.protoMaxBulkLen)) {
    addReplyError(c, "ERR bit offset is not an integer or out of range");
    return undefined;
  }
  return v;
}

/* SETBIT key offset value */
function setbitCommand(c: Client): void {
  const offset = parseBitOffsetOrReply(c, c.argv[2]);
  if (offset === undefined) return;
  const on = string2ll(c.argv[3]);
  if (on !== 0 && on !== 1) return addReplyError(c, "ERR bit is not an integer or out of range");
  const db = cdb(c), key = c.argv[1];
  const v = lookupKeyWrite(db, key);
  if (checkType(c, v, "string")) return;
  const byte = Math.floor(offset / 8), mask = 1 << (7 - (offset % 8));
  const cur = v !== undefined && byte < v.length ? byteAt(v as RString, byte) : 0;
  const old = cur & mask ? 1 : 0;
  // Only a change (or a string made or grown) is a write, as in Redis.
  if (v === undefined || byte >= v.length || old !== on) {
    stringWriteRange(db, key, v, byte, String.fromCharCode(on ? cur | mask : cur & ~mask));
    keyModified(db, key, NOTIFY_STRING, "setbit");
    server.dirty++;
  }
  addReplyLongLong(c, old);
}

/* GETBIT key offset */
function getbitCommand(c: Client): void {
  const offset = parseBitOffsetOrReply(c, c.argv[2]);
  if (offset === undefined) return;
  const v = lookupReadOrReply(c, c.argv[1], "string", () => addReplyLongLong(c, 0));
  if (v === undefined) return;
  const byte = Math.floor(offset / 8);
  addReplyLongLong(c, byte < v.length && byteAt(v, byte) & (1 << (7 - (offset % 8))) ? 1 : 0);
}

/** A BITCOUNT or BITPOS range over a string of `len` bytes: [start, end] in bytes, and with BIT
 *  the masks of the bits of the first and last bytes that are outside it. Null after replying. */
function bitRangeOrReply(c: Client, len: number, startArg: string, endArg: string | null, unit: string | null, forPos: boolean):
  { start: number; end: number; firstMask: number; lastMask: number; isBit: boolean } | null {
  let start = parseIntOrReply(c, startArg);
  if (start === undefined) return null;
  let isBit = false;
  const parseUnit = () => {
    if (unit === null) return true;
    if (unit.toLowerCase() === "bit") isBit = true;
    else if (unit.toLowerCase() !== "byte") { addReplyError(c, E.syntax); return false; }
    return true;
  };
  let end: number;
  if (forPos) {
    if (!parseUnit()) return null;
    if (endArg !== null) {
      const e = parseIntOrReply(c, endArg);
      if (e === undefined) return null;
      end = e;
    } else end = isBit ? len * 8 + 7 : len - 1;
  } else {
    const e = parseIntOrReply(c, endArg!);
    if (e === undefined) return null;
    end = e;
    if (start < 0 && end < 0 && start > end) return { start: 1, end: 0, firstMask: 0, lastMask: 0, isBit };
    if (!parseUnit()) return null;
  }
  const total = isBit ? len * 8 : len;
  if (start < 0) start += total;
  if (end < 0) end += total;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= total) end = total - 1;
  let firstMask = 0, lastMask = 0;
  if (isBit && start <= end) {
    firstMask = ~((1 << (8 - (start & 7))) - 1) & 0xff;
    lastMask = (1 << (7 - (end & 7))) - 1;
    start = Math.floor(start / 8);
    end = Math.floor(end / 8);
  }
  return { start, end, firstMask, lastMask, isBit };
}

/** Byte i of a string value, read without making a JS string of an RBytes. */
function byteAt(v: RString, i: number): number { return typeof v === "string" ? v.charCodeAt(i) : v.buf[i]; }

/** Set bits in a byte, by table. */
const POPCOUNT = Uint8Array.from({ length: 256 }, (_, i) => { let n = 0; for (let b = i; b; b >>= 1) n += b & 1; return n; });

/* BITCOUNT key [start end [BYTE | BIT]] */
function bitcountCommand(c: Client): void {
  const v = lookupReadOrReply(c, c.argv[1], "string", () => addReplyLongLong(c, 0));
  if (v === undefined) return;
  const argc = c.argv.length;
  let start = 0, end = v.length - 1, firstMask = 0, lastMask = 0;
  if (argc === 4 || argc === 5) {
    const r = bitRangeOrReply(c, v.length, c.argv[2], c.argv[3], argc === 5 ? c.argv[4] : null, false);
    if (!r) return;
    ({ start, end, firstMask, lastMask } = r);
  } else if (argc !== 2) return addReplyError(c, E.syntax);
  if (start > end) return addReplyLongLong(c, 0);
  let count = 0;
  if (typeof v === "string") for (let i = start; i <= end; i++) count += POPCOUNT[v.charCodeAt(i)];
  else count = popcount(v.buf, start, end + 1);
  // The bits of the edge bytes outside a BIT range are taken off again.
  if (firstMask) count -= POPCOUNT[byteAt(v, start) & firstMask];
  if (lastMask) count -= POPCOUNT[byteAt(v, end) & lastMask];
  addReplyLongLong(c, count);
}

/** The position of the first `bit` in str[from, from + n), counting from `from`'s first bit; if
 *  none, -1 when looking for a 1 and n * 8 (the zero padding after the end) for a 0. */
function bitposIn(str: RString, from: number, n: number, bit: number): number {
  const skip = bit ? 0 : 0xff;
  for (let i = 0; i < n; i++) {
    const b = byteAt(str, from + i);
    if (b === skip) continue;
    for (let k = 0; k < 8; k++) if (((b >> (7 - k)) & 1) === bit) return i * 8 + k;
  }
  return bit ? -1 : n * 8;
}

/* BITPOS key bit [start [end [BYTE | BIT]]] */
function bitposCommand(c: Client): void {
  const bit = string2ll(c.argv[2]);
  if (bit === null) return addReplyError(c, E.notInt);
  if (bit !== 0 && bit !== 1) return addReplyError(c, "ERR The bit argument must be 1 or 0.");
  const v = lookupKeyRead(cdb(c), c.argv[1]);
  // A missing key is an endless run of zeros.
  if (v === undefined) return addReplyLongLong(c, bit ? -1 : 0);
  if (checkType(c, v, "string")) return;
  const str = v as RString, argc = c.argv.length;
  let start = 0, end = str.length - 1, firstMask = 0, lastMask = 0;
  const endGiven = argc >= 5;
  if (argc >= 4 && argc <= 6) {
    const r = bitRangeOrReply(c, str.length, c.argv[3], endGiven ? c.argv[4] : null, argc === 6 ? c.argv[5] : null, true);
    if (!r) return;
    ({ start, end, firstMask, lastMask } = r);
  } else if (argc !== 3) return addReplyError(c, E.syntax);
  if (start > end) return addReplyLongLong(c, -1);
  // The edge bytes of a BIT range are searched with the bits outside it set to what is not
  // looked for, then the bytes between.
  const edge = (b: number, mask: number) => (bit ? b & ~mask : b | mask) & 0xff;
  let bytes = end - start + 1, pos: number;
  search: {
    if (firstMask) {
      let b = edge(byteAt(str, start), firstMask);
      if (lastMask && bytes === 1) b = edge(b, lastMask);
      pos = bitposIn(String.fromCharCode(b), 0, 1, bit);
      if (bytes === 1 || (pos !== -1 && pos !== 8)) break search;
      start++;
      bytes--;
    }
    const middle = bytes - (lastMask ? 1 : 0);
    if (middle > 0) {
      pos = bitposIn(str, start, middle, bit);
      if (bytes === middle || (pos !== -1 && pos !== middle * 8)) break search;
      start += middle;
      bytes -= middle;
    }
    pos = bitposIn(String.fromCharCode(edge(byteAt(str, end), lastMask)), 0, 1, bit);
  }
  // With an explicit end, a 0 past the range is not in it.
  if (endGiven && bit === 0 && pos === bytes * 8) return addReplyLongLong(c, -1);
  addReplyLongLong(c, pos !== -1 ? pos + start * 8 : -1);
}

/** A BITFIELD operation, parsed: GET, SET or INCRBY of a signed or unsigned field of `bits` at
 *  bit `offset`, with the OVERFLOW mode in force when it was given. */
interface BitfieldOp { op: "get" | "set" | "incrby"; signed: boolean; bits: number; offset: number; value: bigint; overflow: string }

/** The field of `bits` at bit `offset` of buf (zero past its end), as an unsigned value. */
function bitfieldRead(buf: Buffer, offset: number, bits: number): bigint {
  let v = 0n;
  for (let i = 0; i < bits; i++) {
    const byte = (offset + i) >> 3;
    v = (v << 1n) | BigInt(byte < buf.length ? (buf[byte] >> (7 - ((offset + i) & 7))) & 1 : 0);
  }
  return v;
}

/** Writes the low `bits` of v at bit `offset` of buf. */
function bitfieldWrite(buf: Buffer, offset: number, bits: number, v: bigint): void {
  for (let i = 0; i < bits; i++) {
    const byte = (offset + i) >> 3, mask = 1 << (7 - ((offset + i) & 7));
    if ((v >> BigInt(bits - 1 - i)) & 1n) buf[byte] |= mask;
    else buf[byte] &= ~mask;
  }
}

/** value + incr in a field of `bits` (Redis's check{Signed,Unsigned}BitfieldOverflow): the result,
 *  or null when it overflows under FAIL. WRAP wraps it into the field, SAT clamps it. All in
 *  64-bit two's complement, as the C code computes it. */
function bitfieldAdd(signed: boolean, bits: number, value: bigint, incr: bigint, overflow: string): bigint | null {
  const i64 = (x: bigint) => BigInt.asIntN(64, x), u64 = (x: bigint) => BigInt.asUintN(64, x);
  const B = BigInt(bits);
  const wrap = () => {
    const sum = u64(value + incr);
    if (!signed) return sum & ((1n << B) - 1n);
    if (bits === 64) return i64(sum);
    return (sum >> (B - 1n)) & 1n ? i64(sum | u64(-1n << B)) : sum & ((1n << B) - 1n);
  };
  let dir = 0;
  if (signed) {
    const max = (1n << (B - 1n)) - 1n, min = -max - 1n;
    const maxincr = i64(u64(max) - u64(value)), minincr = i64(min - value);
    if (value > max || (bits !== 64 && incr > maxincr) || (value >= 0n && incr > 0n && incr > maxincr)) dir = 1;
    else if (value < min || (bits !== 64 && incr < minincr) || (value < 0n && incr < 0n && incr < minincr)) dir = -1;
    if (!dir) return value + incr;
    return overflow === "wrap" ? wrap() : overflow === "sat" ? (dir > 0 ? max : min) : null;
  }
  const max = (1n << B) - 1n, uvalue = u64(value);
  if (uvalue > max || (incr > 0n && incr > i64(max - uvalue))) dir = 1;
  else if (incr < 0n && incr < i64(-uvalue)) dir = -1;
  if (!dir) return uvalue + incr;
  return overflow === "wrap" ? wrap() : overflow === "sat" ? (dir > 0 ? max : 0n) : null;
}

/* BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset increment] [OVERFLOW WRAP|SAT|FAIL] ... */
function bitfieldCommand(c: Client): void { bitfieldGeneric(c, false); }
/* BITFIELD_RO key [GET type offset] ... */
function bitfieldRoCommand(c: Client): void { bitfieldGeneric(c, true); }

function bitfieldGeneric(c: Client, readonlyCommand: boolean): void {
  const argv = c.argv, ops: BitfieldOp[] = [];
  let overflow = "wrap", highestWrite = -1;
  for (let j = 2; j < argv.length; j++) {
    const sub = argv[j].toLowerCase(), left = argv.length - j - 1;
    if (sub === "overflow" && left >= 1) {
      overflow = argv[++j].toLowerCase();
      if (!["wrap", "sat", "fail"].includes(overflow)) return addReplyError(c, "ERR Invalid OVERFLOW type specified");
      continue;
    }
    if (!((sub === "get" && left >= 2) || ((sub === "set" || sub === "incrby") && left >= 3))) return addReplyError(c, E.syntax);
    // The type: i1..i64 or u1..u63.
    const t = argv[j + 1], signed = t[0] === "i", bits = string2ll(t.slice(1));
    if ((t[0] !== "i" && t[0] !== "u") || bits === null || bits < 1 || bits > (signed ? 64 : 63)) {
      return addReplyError(c, "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.");
    }
    // The offset: in bits, or #n for the n-th field of this width.
    const o = argv[j + 2], hash = o[0] === "#";
    let offset = string2ll(hash ? o.slice(1) : o);
    if (offset !== null && hash) offset *= bits;
    if (offset === null || offset < 0 || (!c.isMaster && !c.isAof && Math.floor(offset / 8) >= hot.protoMaxBulkLen)) {
      return addReplyError(c, "ERR bit offset is not an integer or out of range");
    }
    let value = 0n;
    if (sub !== "get") {
      highestWrite = Math.max(highestWrite, offset + bits - 1);
      if (string2ll(argv[j + 3]) === null) return addReplyError(c, E.notInt);
      value = BigInt(argv[j + 3]);
    }
    ops.push({ op: sub as BitfieldOp["op"], signed, bits, offset, value, overflow });
    j += sub === "get" ? 2 : 3;
  }
  const db = cdb(c), key = argv[1];
  let v: RValue | undefined;
  if (highestWrite < 0) {
    v = lookupKeyRead(db, key);
    if (checkType(c, v, "string")) return;
  } else {
    if (readonlyCommand) return addReplyError(c, "ERR BITFIELD_RO only supports the GET subcommand");
    v = lookupKeyWrite(db, key);
    if (checkType(c, v, "string")) return;
  }
  // As Redis, the string grows with zeros to the farthest bit written before any operation runs
  // (so it grows even when every write fails on OVERFLOW FAIL).
  const len = v === undefined ? 0 : (v as RString).length;
  const need = highestWrite < 0 ? len : Math.max(len, Math.floor(highestWrite / 8) + 1);
  const grown = highestWrite >= 0 && (v === undefined || need > len);
  if (grown) stringWriteRange(db, key, v as RString | undefined, need - 1, "\0"); // the gap is zero-filled
  // Each operation works on the few bytes it covers, read from and written to the value in place.
  const window = Buffer.alloc(9);
  let changes = 0;
  addReplyArrayLen(c, ops.length);
  for (const op of ops) {
    const slot = db.slot(key), cur = slot === undefined ? undefined : (db.valAt(slot) as RString);
    const first = Math.floor(op.offset / 8), last = Math.floor((op.offset + op.bits - 1) / 8), at = op.offset - first * 8;
    for (let i = first; i <= last; i++) window[i - first] = cur !== undefined && i < cur.length ? byteAt(cur, i) : 0;
    const raw = bitfieldRead(window, at, op.bits);
    const current = op.signed ? BigInt.asIntN(op.bits, raw) : raw;
    if (op.op === "get") { addReplyLongLong(c, current); continue; }
    const next = op.op === "incrby" ? bitfieldAdd(op.signed, op.bits, current, op.value, op.overflow)
      : bitfieldAdd(op.signed, op.bits, op.value, 0n, op.overflow);
    if (next === null) { addReplyNull(c); continue; }
    addReplyLongLong(c, op.op === "incrby" ? next : current);
    if (next !== current) {
      bitfieldWrite(window, at, op.bits, BigInt.asUintN(op.bits, next));
      stringWriteRange(db, key, cur, first, window.latin1Slice(0, last - first + 1));
    }
    if (grown || next !== current) changes++;
  }
  if (changes) {
    keyModified(db, key, NOTIFY_STRING, "setbit");
    server.dirty += changes;
  }
}

/* BITOP AND|OR|XOR|NOT destkey key [key ...] */
function bitopCommand(c: Client): void {
  const op = c.argv[1].toLowerCase(), db = cdb(c), dest = c.argv[2], keys = c.argv.slice(3);
  if (!["and", "or", "xor", "not"].includes(op)) return addReplyError(c, E.syntax);
  if (op === "not" && keys.length !== 1) return addReplyError(c, "ERR BITOP NOT must be called with a single source key.");
  const srcs: string[] = [];
  for (const k of keys) {
    const v = lookupKeyRead(db, k);
    if (v === undefined) { srcs.push(""); continue; }
    if (!isString(v)) return addReplyError(c, E.wrongType);
    srcs.push(strOf(v));
  }
  const maxlen = Math.max(0, ...srcs.map((x) => x.length));
  const out = Buffer.allocUnsafe(maxlen);
  for (let j = 0; j < maxlen; j++) {
    // Past its end a source reads as zero bytes.
    let acc = j < srcs[0].length ? srcs[0].charCodeAt(j) : 0;
    if (op === "not") acc = ~acc & 0xff;
    for (let i = 1; i < srcs.length; i++) {
      const b = j < srcs[i].length ? srcs[i].charCodeAt(j) : 0;
      acc = op === "and" ? acc & b : op === "or" ? acc | b : acc ^ b;
    }
    out[j] = acc;
  }
  if (maxlen) {
    setKey(db, dest, out.latin1Slice(0, maxlen));
    keyModified(db, dest, NOTIFY_STRING, "set");
    server.dirty++;
  } else if (dbDelete(db, dest)) {
    keyModified(db, dest, NOTIFY_GENERIC, "del");
    server.dirty++;
  }
  addReplyLongLong(c, maxlen);
}

/** The body of INCR, DECR, INCRBY and DECRBY: exact 64-bit arithmetic, keeping the TTL. */
function incrDecr(c: Client, incr: number | bigint): void {
  const db = cdb(c), key = c.argv[1];
  const i = lookupSlotWrite(db, key), h = i < 0 ? -1 : db.handleAt(i);
  // A counter in the arena is read there, without making a string of it.
  let cur: number | null = h >= 0 ? db.arena!.intVal(h) : NaN, v: RValue | undefined;
  if (Number.isNaN(cur)) {
    v = i < 0 ? undefined : db.valAt(i);
    if (checkType(c, v, "string")) return;
    cur = v === undefined ? 0 : string2ll(strOf(v));
    if (cur === null) return addReplyError(c, E.notInt);
  }
  let next: number | bigint = typeof incr === "number" ? cur + incr : 0;
  if (typeof incr === "bigint" || !Number.isSafeInteger(next) || !Number.isSafeInteger(cur)) {
    const big = (Number.isSafeInteger(cur) ? BigInt(cur) : BigInt(strOf(v as RString))) + BigInt(incr);
    if (big > LLONG_MAX || big < LLONG_MIN) return addReplyError(c, E.overflow);
    next = big;
  }
  const s = String(next);
  if (i < 0) dbAdd(db, key, s);
  else dbOverwrite(db, key, s);
  server.dirty++;
  keyModified(db, key, NOTIFY_STRING, "incrby");
  addReplyIntegerString(c, s);
}

/** An increment argument: a number when exact, else a bigint. */
function parseIncrOrReply(c: Client, s: string): number | bigint | undefined {
  const v = parseIntOrReply(c, s);
  if (v === undefined) return undefined;
  return Number.isSafeInteger(v) ? v : string2bigint(s);
}

/* INCR key */
function incrCommand(c: Client): void { incrDecr(c, 1); }
/* DECR key */
function decrCommand(c: Client): void { incrDecr(c, -1); }
/* INCRBY key increment */
function incrbyCommand(c: Client): void {
  const incr = parseIncrOrReply(c, c.argv[2]);
  if (incr !== undefined) incrDecr(c, incr);
}
/* DECRBY key decrement */
function decrbyCommand(c: Client): void {
  const incr = parseIncrOrReply(c, c.argv[2]);
  if (incr === undefined) return;
  if (incr === LLONG_MIN) return addReplyError(c, "ERR decrement would overflow");
  incrDecr(c, typeof incr === "bigint" ? -incr : -incr);
}

/* INCRBYFLOAT key increment */
function incrbyfloatCommand(c: Client): void {
  const db = cdb(c), key = c.argv[1];
  const v = lookupKeyWrite(db, key);
  if (checkType(c, v, "string")) return;
  const cur = parseLongDouble(v === undefined ? "0" : strOf(v));
  const incr = cur && parseLongDouble(c.argv[2]);
  if (!cur || !incr) return addReplyError(c, E.notFloat);
  const sum = addLongDouble(cur, incr);
  if (!isFiniteLD(sum)) return addReplyError(c, E.nanOrInf);
  const s = formatLongDoubleHuman(sum);
  if (v === undefined) dbAdd(db, key, s);
  else dbOverwrite(db, key, s);
  // Redis stores the formatted number as a plain string object: never "int".
  if (s.length <= 44) db.encodings.set(key, "embstr");
  server.dirty++;
  keyModified(db, key, NOTIFY_STRING, "incrbyfloat");
  c.propArgv = ["SET", key, s, "KEEPTTL"]; // the exact result, not a float addition to redo
  addReplyBulk(c, s);
}

/* LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN] */
function lcsCommand(c: Client): void {
  const db = cdb(c), argv = c.argv;
  const va = lookupKeyRead(db, argv[1]), vb = lookupKeyRead(db, argv[2]);
  if ((va !== undefined && !isString(va)) || (vb !== undefined && !isString(vb))) {
    return addReplyError(c, "ERR The specified keys must contain string values");
  }
  const a = va === undefined ? "" : strOf(va), b = vb === undefined ? "" : strOf(vb);
  let getLen = false, getIdx = false, withMatchLen = false, minMatchLen = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    if (opt === "idx") getIdx = true;
    else if (opt === "len") getLen = true;
    else if (opt === "withmatchlen") withMatchLen = true;
    else if (opt === "minmatchlen" && j < argv.length - 1) {
      const n = parseIntOrReply(c, argv[++j]);
      if (n === undefined) return;
      minMatchLen = Math.max(0, n);
    } else return addReplyError(c, E.syntax);
  }
  if (getIdx && getLen) return addReplyError(c, "ERR If you want both the length and indexes, please just use IDX.");
  const alen = a.length, blen = b.length, w = blen + 1;
  if ((alen + 1) * w * 4 > hot.protoMaxBulkLen) {
    return addReplyError(c, "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
  }
  // The classic dynamic-programming table: T[i*w + j] = LCS length of a[0..i) and b[0..j).
  const T = new Uint32Array((alen + 1) * w);
  for (let i = 1; i <= alen; i++) {
    for (let j = 1; j <= blen; j++) {
      T[i * w + j] = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? T[(i - 1) * w + j - 1] + 1 : Math.max(T[(i - 1) * w + j], T[i * w + j - 1]);
    }
  }
  let idx = T[alen * w + blen];
  const total = idx;
  if (getLen) return addReplyLongLong(c, total);
  // Walk back from the end, collecting the string and the matching ranges, as Redis does.
  const result: string[] = new Array(idx);
  const ranges: number[][] = [];
  let aStart = alen, aEnd = 0, bStart = 0, bEnd = 0;
  let i = alen, j = blen;
  while (i > 0 && j > 0) {
    let emit = false;
    if (a.charCodeAt(i - 1) === b.charCodeAt(j - 1)) {
      result[idx - 1] = a[i - 1];
      if (aStart === alen) { aStart = i - 1; aEnd = i - 1; bStart = j - 1; bEnd = j - 1; }
      else if (aStart === i && bStart === j) { aStart--; bStart--; }
      else emit = true;
      if (aStart === 0 || bStart === 0) emit = true;
      idx--; i--; j--;
    } else {
      if (T[(i - 1) * w + j] > T[i * w + j - 1]) i--;
      else j--;
      if (aStart !== alen) emit = true;
    }
    const matchLen = aEnd - aStart + 1;
    if (emit) {
      if (minMatchLen === 0 || matchLen >= minMatchLen) ranges.push([aStart, aEnd, bStart, bEnd, matchLen]);
      aStart = alen;
    }
  }
  if (!getIdx) return addReplyBulk(c, result.join(""));
  addReplyMapLen(c, 2);
  addReplyBulk(c, "matches");
  addReplyArrayLen(c, ranges.length);
  for (const [as, ae, bs, be, ml] of ranges) {
    addReplyArrayLen(c, withMatchLen ? 3 : 2);
    addReplyArrayLen(c, 2); addReplyLongLong(c, as); addReplyLongLong(c, ae);
    addReplyArrayLen(c, 2); addReplyLongLong(c, bs); addReplyLongLong(c, be);
    if (withMatchLen) addReplyLongLong(c, ml);
  }
  addReplyBulk(c, "len");
  addReplyLongLong(c, total);
}

/** This chapter's rows of the command table (see Dispatch). */
const STRING_COMMANDS: CommandRows[] = [
  { group: "string", specs: [
    ["get", 2, "readonly fast", 1, 1, 1, "string", getCommand],
    ["set", -3, "write denyoom", 1, 1, 1, "string", setCommand],
    ["setnx", 3, "write denyoom fast", 1, 1, 1, "string", setnxCommand],
    ["setex", 4, "write denyoom", 1, 1, 1, "string", setexCommand],
    ["psetex", 4, "write denyoom", 1, 1, 1, "string", psetexCommand],
    ["getex", -2, "write fast", 1, 1, 1, "string", getexCommand],
    ["getdel", 2, "write fast", 1, 1, 1, "string", getdelCommand],
    ["getset", 3, "write denyoom fast", 1, 1, 1, "string", getsetCommand],
    ["mget", -2, "readonly fast", 1, -1, 1, "string", mgetCommand],
    ["mset", -3, "write denyoom", 1, -1, 2, "string", msetCommand],
    ["msetnx", -3, "write denyoom", 1, -1, 2, "string", msetnxCommand],
    ["append", 3, "write denyoom fast", 1, 1, 1, "string", appendCommand],
    ["strlen", 2, "readonly fast", 1, 1, 1, "string", strlenCommand],
    ["getrange", 4, "readonly", 1, 1, 1, "string", getrangeCommand],
    ["substr", 4, "readonly", 1, 1, 1, "string", getrangeCommand],
    ["setrange", 4, "write denyoom", 1, 1, 1, "string", setrangeCommand],
    ["incr", 2, "write denyoom fast", 1, 1, 1, "string", incrCommand],
    ["decr", 2, "write denyoom fast", 1, 1, 1, "string", decrCommand],
    ["incrby", 3, "write denyoom fast", 1, 1, 1, "string", incrbyCommand],
    ["decrby", 3, "write denyoom fast", 1, 1, 1, "string", decrbyCommand],
    ["incrbyfloat", 3, "write denyoom fast", 1, 1, 1, "string", incrbyfloatCommand],
    ["lcs", -3, "readonly", 1, 2, 1, "string", lcsCommand],
  ] },
  { group: "bitmap", specs: [
    ["setbit", 4, "write denyoom", 1, 1, 1, "bitmap", setbitCommand],
    ["getbit", 3, "readonly fast", 1, 1, 1, "bitmap", getbitCommand],
    ["bitcount", -2, "readonly", 1, 1, 1, "bitmap", bitcountCommand],
    ["bitpos", -3, "readonly", 1, 1, 1, "bitmap", bitposCommand],
    ["bitop", -4, "write denyoom", 2, -1, 1, "bitmap", bitopCommand],
    ["bitfield", -2, "write denyoom", 1, 1, 1, "bitmap", bitfieldCommand],
    ["bitfield_ro", -2, "readonly fast", 1, 1, 1, "bitmap", bitfieldRoCommand],
  ] },
];

// ============================================================================================
// Lists
//
// A list (RList) is a deque: a ring buffer whose capacity is a power of two, so pushes and pops at
// both ends are O(1) and index access is O(1); insertions and removals in the middle shift the
// shorter side. Redis 7.0 calls every list a "quicklist", and so does OBJECT ENCODING here.
// Pops that empty a list delete its key; pushes wake clients blocked on it (the Blocking
// chapter), served by serveClientBlockedOnList.
// ============================================================================================

const LIST_HEAD = 0, LIST_TAIL = 1;

class RList {
  readonly type = "list";
  // A ring buffer of `cap` slots (a power of two), in pages of 4096 when it is bigger than that,
  // for the collector's sake (see Dict.pages): a list pushed to a million elements would
  // otherwise be one array rescanned after every push.
  private pages: string[][] = RList.emptyPages(4);
  private cap = 4;
  private head = 0;
  length = 0;
  bytes = 0; // element bytes plus per-element overhead, for maxmemory (see the memory accounting in Keyspace)

  private static emptyPages(cap: number): string[][] {
    if (cap <= PAGE_MASK + 1) return [new Array<string>(cap)];
    return Array.from({ length: cap >> PAGE_BITS }, () => new Array<string>(PAGE_MASK + 1));
  }
  private slotAt(j: number): string { return this.pages[j >> PAGE_BITS][j & PAGE_MASK]; }
  private setSlot(j: number, v: string): void { this.pages[j >> PAGE_BITS][j & PAGE_MASK] = v; }

  get(i: number): string { return this.slotAt((this.head + i) & (this.cap - 1)); }
  set(i: number, v: string): void {
    this.bytes += v.length - this.get(i).length;
    this.setSlot((this.head + i) & (this.cap - 1), v);
  }

  push(v: string, where: number): void {
    this.bytes += v.length + MEM_LIST_ELEMENT;
    if (this.length === this.cap) this.resize(this.cap * 2);
    if (where === LIST_HEAD) {
      this.head = (this.head - 1) & (this.cap - 1);
      this.setSlot(this.head, v);
    } else this.setSlot((this.head + this.length) & (this.cap - 1), v);
    this.length++;
  }

  /** Removes and returns the element at one end; the list must not be empty. */
  pop(where: number): string {
    const mask = this.cap - 1;
    const at = where === LIST_HEAD ? this.head : (this.head + this.length - 1) & mask;
    const v = this.slotAt(at);
    this.bytes -= v.length + MEM_LIST_ELEMENT;
    this.setSlot(at, undefined as unknown as string); // let the value be collected
    if (where === LIST_HEAD) this.head = (this.head + 1) & mask;
    this.length--;
    if (this.cap > 64 && this.length < this.cap / 4) this.resize(this.cap / 2);
    return v;
  }

  /** Elements start..end inclusive (already clamped), in order. */
  range(start: number, end: number): string[] {
    const out = new Array<string>(end - start + 1);
    for (let i = start; i <= end; i++) out[i - start] = this.get(i);
    return out;
  }

  /** Replaces the whole content (used by the O(n) edits: LREM, LTRIM, LINSERT). */
  replace(items: string[]): void {
    let cap = 4;
    while (cap < items.length) cap *= 2;
    this.pages = RList.emptyPages(cap);
    this.cap = cap;
    for (let i = 0; i < items.length; i++) this.setSlot(i, items[i]);
    this.head = 0;
    this.length = items.length;
    this.bytes = items.reduce((n, s) => n + s.length + MEM_LIST_ELEMENT, 0);
  }

  private resize(cap: number): void {
    const next = RList.emptyPages(cap);
    for (let i = 0; i < this.length; i++) next[i >> PAGE_BITS][i & PAGE_MASK] = this.get(i);
    this.pages = next;
    this.cap = cap;
    this.head = 0;
  }
}

/** LEFT/RIGHT as a list end, or undefined after a syntax error. */
function parseListPositionOrReply(c: Client, s: string): number | undefined {
  const l = s.toLowerCase();
  if (l === "left") return LIST_HEAD;
  if (l === "right") return LIST_TAIL;
  addReplyError(c, E.syntax);
  return undefined;
}

/** After elements left a list: the event, and the key's deletion once the list is empty. */
function listElementsRemoved(db: Db, key: string, list: RList, event: string): void {
  keyModified(db, key, NOTIFY_LIST, event);
  if (list.length === 0) {
    dbDelete(db, key);
    if (server.notifyFlags) notifyKeyspaceEvent(NOTIFY_GENERIC, "del", key, db.id);
  }
  server.dirty++;
}

/** Pushes to a list, creating it if needed (LMOVE's destination). */
function listPushOrCreate(db: Db, key: string, list: RList | undefined, v: string, where: number): RList {
  if (!list) { list = new RList(); dbAdd(db, key, list); }
  list.push(v, where);
  signalKeyAsReady(db, key);
  keyModified(db, key, NOTIFY_LIST, where === LIST_HEAD ? "lpush" : "rpush");
  return list;
}

/* LPUSH key element [element ...], RPUSH, LPUSHX and RPUSHX */
function pushGeneric(c: Client, where: number, xx: boolean): void {
  const db = cdb(c), key = c.argv[1];
  let list = lookupKeyWrite(db, key);
  if (checkType(c, list, "list")) return;
  if (!list) {
    if (xx) return addReplyLongLong(c, 0);
    list = new RList();
    dbAdd(db, key, list);
  }
  const l = list;
  for (let j = 2; j < c.argv.length; j++) l.push(c.argv[j], where);
  server.dirty += c.argv.length - 2;
  signalKeyAsReady(db, key);
  keyModified(db, key, NOTIFY_LIST, where === LIST_HEAD ? "lpush" : "rpush");
  addReplyLongLong(c, l.length);
}
function lpushCommand(c: Client): void { pushGeneric(c, LIST_HEAD, false); }
function rpushCommand(c: Client): void { pushGeneric(c, LIST_TAIL, false); }
function lpushxCommand(c: Client): void { pushGeneric(c, LIST_HEAD, true); }
function rpushxCommand(c: Client): void { pushGeneric(c, LIST_TAIL, true); }

/** Replies the elements start..end of a list (negative indexes from the end), reversed if asked. */
function addListRangeReply(c: Client, list: RList, start: number, end: number, reverse: boolean): void {
  const len = list.length;
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (start > end || start >= len) return addReplyArrayLen(c, 0);
  if (end >= len) end = len - 1;
  const items = list.range(start, end);
  if (reverse) items.reverse();
  addReplyBulks(c, items);
}

/* LPOP key [count] and RPOP */
function popGeneric(c: Client, where: number): void {
  if (c.argv.length > 3) return addReplyError(c, `ERR wrong number of arguments for '${lookupCommand(c.argv)!.name}' command`);
  const hasCount = c.argv.length === 3;
  let count = 0;
  if (hasCount) {
    const n = parseRangeIntOrReply(c, c.argv[2], 0n, LLONG_MAX, "ERR value is out of range, must be positive");
    if (n === undefined) return;
    count = n;
  }
  const db = cdb(c), key = c.argv[1];
  const list = lookupKeyWrite(db, key);
  if (list === undefined) return hasCount ? addReplyNullArray(c) : addReplyNull(c);
  if (checkType(c, list, "list")) return;
  const l = list;
  if (hasCount && count === 0) return addReplyArrayLen(c, 0);
  if (!hasCount) {
    addReplyBulk(c, l.pop(where));
  } else {
    const n = Math.min(count, l.length);
    addReplyArrayLen(c, n);
    for (let i = 0; i < n; i++) addReplyBulk(c, l.pop(where));
  }
  listElementsRemoved(db, key, l, where === LIST_HEAD ? "lpop" : "rpop");
}
function lpopCommand(c: Client): void { popGeneric(c, LIST_HEAD); }
function rpopCommand(c: Client): void { popGeneric(c, LIST_TAIL); }


/* LLEN key */
function llenCommand(c: Client): void {
  const l = lookupReadOrReply(c, c.argv[1], "list", () => addReplyLongLong(c, 0));
  if (l) addReplyLongLong(c, l.length);
}

/* LRANGE key start stop */
function lrangeCommand(c: Client): void {
  const start = parseIntOrReply(c, c.argv[2]);
  if (start === undefined) return;
  const end = parseIntOrReply(c, c.argv[3]);
  if (end === undefined) return;
  const l = lookupReadOrReply(c, c.argv[1], "list", () => addReplyArrayLen(c, 0));
  if (l) addListRangeReply(c, l, start, end, false);
}

/* LINDEX key index */
function lindexCommand(c: Client): void {
  const l = lookupReadOrReply(c, c.argv[1], "list", () => addReplyNull(c));
  if (!l) return;
  let index = parseIntOrReply(c, c.argv[2]);
  if (index === undefined) return;
  if (index < 0) index += l.length;
  if (index < 0 || index >= l.length) return addReplyNull(c);
  addReplyBulk(c, l.get(index));
}

/* LSET key index element */
function lsetCommand(c: Client): void {
  const db = cdb(c);
  const l = lookupKeyWrite(db, c.argv[1]);
  if (l === undefined) return addReplyError(c, E.noKey);
  if (checkType(c, l, "list")) return;
  let index = parseIntOrReply(c, c.argv[2]);
  if (index === undefined) return;
  if (index < 0) index += l.length;
  if (index < 0 || index >= l.length) return addReplyError(c, E.outOfRange);
  l.set(index, c.argv[3]);
  server.dirty++;
  keyModified(db, c.argv[1], NOTIFY_LIST, "lset");
  addReplyOK(c);
}

/* LINSERT key BEFORE|AFTER pivot element */
function linsertCommand(c: Client): void {
  const where = c.argv[2].toLowerCase();
  if (where !== "before" && where !== "after") return addReplyError(c, E.syntax);
  const db = cdb(c);
  const l = lookupKeyWrite(db, c.argv[1]);
  if (l === undefined) return addReplyLongLong(c, 0);
  if (checkType(c, l, "list")) return;
  const items = l.range(0, l.length - 1);
  const at = items.indexOf(c.argv[3]);
  if (at < 0) return addReplyLongLong(c, -1);
  items.splice(where === "after" ? at + 1 : at, 0, c.argv[4]);
  l.replace(items);
  server.dirty++;
  keyModified(db, c.argv[1], NOTIFY_LIST, "linsert");
  addReplyLongLong(c, l.length);
}

/* LREM key count element */
function lremCommand(c: Client): void {
  const count = parseIntOrReply(c, c.argv[2]);
  if (count === undefined) return;
  const db = cdb(c), key = c.argv[1], ele = c.argv[3];
  const l = lookupKeyWrite(db, key);
  if (l === undefined) return addReplyLongLong(c, 0);
  if (checkType(c, l, "list")) return;
  const items = l.range(0, l.length - 1);
  const limit = count === 0 ? Infinity : Math.abs(count);
  let removed = 0;
  const keep = new Array<boolean>(items.length).fill(true);
  for (let n = 0; n < items.length && removed < limit; n++) {
    const i = count < 0 ? items.length - 1 - n : n;
    if (items[i] === ele) { keep[i] = false; removed++; }
  }
  if (removed) {
    l.replace(items.filter((_, i) => keep[i]));
    server.dirty += removed - 1;
    listElementsRemoved(db, key, l, "lrem");
  }
  addReplyLongLong(c, removed);
}

/* LTRIM key start stop */
function ltrimCommand(c: Client): void {
  let start = parseIntOrReply(c, c.argv[2]);
  if (start === undefined) return;
  let end = parseIntOrReply(c, c.argv[3]);
  if (end === undefined) return;
  const db = cdb(c), key = c.argv[1];
  const l = lookupKeyWrite(db, key);
  if (l === undefined) return addReplyOK(c);
  if (checkType(c, l, "list")) return;
  const len = l.length;
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  let ltrim: number, rtrim: number;
  if (start > end || start >= len) { ltrim = len; rtrim = 0; }
  else { if (end >= len) end = len - 1; ltrim = start; rtrim = len - end - 1; }
  for (let i = 0; i < ltrim; i++) l.pop(LIST_HEAD);
  for (let i = 0; i < rtrim; i++) l.pop(LIST_TAIL);
  listElementsRemoved(db, key, l, "ltrim");
  addReplyOK(c);
}

/* LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len] */
function lposCommand(c: Client): void {
  const argv = c.argv, ele = argv[2];
  let rank = 1, count = -1, maxlen = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    const more = j < argv.length - 1;
    if (opt === "rank" && more) {
      const r = parseIntOrReply(c, argv[++j]);
      if (r === undefined) return;
      if (r === 0) return addReplyError(c, "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
      rank = r;
    } else if (opt === "count" && more) {
      const n = parsePositiveOrReply(c, argv[++j], "ERR COUNT can't be negative");
      if (n === undefined) return;
      count = n;
    } else if (opt === "maxlen" && more) {
      const n = parsePositiveOrReply(c, argv[++j], "ERR MAXLEN can't be negative");
      if (n === undefined) return;
      maxlen = n;
    } else return addReplyError(c, E.syntax);
  }
  const fromTail = rank < 0;
  // -LLONG_MIN overflows in C and stays negative, so every match qualifies: keep that.
  if (fromTail && rank !== -9223372036854775808) rank = -rank;
  const l = lookupKeyRead(cdb(c), argv[1]);
  if (l === undefined) return count !== -1 ? addReplyArrayLen(c, 0) : addReplyNull(c);
  if (checkType(c, l, "list")) return;
  const len = l.length;
  const found: number[] = [];
  let matches = 0;
  for (let n = 0; n < len && (maxlen === 0 || n < maxlen); n++) {
    const i = fromTail ? len - 1 - n : n;
    if (l.get(i) !== ele) continue;
    matches++;
    if (matches >= rank) {
      found.push(i);
      if (count === -1 || (count && matches - rank + 1 >= count)) break;
    }
  }
  if (count !== -1) {
    addReplyArrayLen(c, found.length);
    for (const i of found) addReplyLongLong(c, i);
  } else if (found.length) addReplyLongLong(c, found[0]);
  else addReplyNull(c);
}

/** LMOVE's core: pops from src and pushes to dst, replying the element; false if dst has the
 *  wrong type (after replying the error). */
function lmoveHandle(c: Client, db: Db, srcKey: string, src: RList, dstKey: string, wherefrom: number, whereto: number): boolean {
  const dst = lookupKeyWrite(db, dstKey);
  if (checkType(c, dst, "list")) return false;
  const v = src.pop(wherefrom);
  // Redis pushes (and notifies) the destination before it notifies the pop from the source.
  listPushOrCreate(db, dstKey, dst, v, whereto);
  keyModified(db, srcKey, NOTIFY_LIST, wherefrom === LIST_HEAD ? "lpop" : "rpop");
  addReplyBulk(c, v);
  if (src.length === 0 && db.get(srcKey) === src) {
    dbDelete(db, srcKey);
    if (server.notifyFlags) notifyKeyspaceEvent(NOTIFY_GENERIC, "del", srcKey, db.id);
  }
  server.dirty++;
  return true;
}

/** The command that replays a move served later: RPOPLPUSH for BRPOPLPUSH, else LMOVE with
 *  lower-case directions, as Redis propagates it. */
function lmovePropArgv(src: string, dst: string, wherefrom: number, whereto: number, wasRpoplpush: boolean): string[] {
  if (wasRpoplpush) return ["RPOPLPUSH", src, dst];
  return ["LMOVE", src, dst, wherefrom === LIST_HEAD ? "left" : "right", whereto === LIST_HEAD ? "left" : "right"];
}

/* LMOVE source destination LEFT|RIGHT LEFT|RIGHT and RPOPLPUSH */
function lmoveGeneric(c: Client, wherefrom: number, whereto: number): void {
  const db = cdb(c);
  const v = lookupKeyWrite(db, c.argv[1]);
  if (v === undefined) return addReplyNull(c);
  if (checkType(c, v, "list")) return;
  lmoveHandle(c, db, c.argv[1], v, c.argv[2], wherefrom, whereto);
}
function lmoveCommand(c: Client): void {
  const from = parseListPositionOrReply(c, c.argv[3]);
  if (from === undefined) return;
  const to = parseListPositionOrReply(c, c.argv[4]);
  if (to === undefined) return;
  lmoveGeneric(c, from, to);
}
function rpoplpushCommand(c: Client): void { lmoveGeneric(c, LIST_TAIL, LIST_HEAD); }

/** Pops up to `count` elements from one end and replies [key, [elements]] (LMPOP, BLMPOP). */
function listPopRangeAndReplyWithKey(c: Client, db: Db, key: string, list: RList, where: number, count: number): void {
  const n = Math.min(count, list.length);
  c.propArgv = [where === LIST_HEAD ? "LPOP" : "RPOP", key, String(n)];
  addReplyArrayLen(c, 2);
  addReplyBulk(c, key);
  addReplyArrayLen(c, n);
  for (let i = 0; i < n; i++) addReplyBulk(c, list.pop(where));
  listElementsRemoved(db, key, list, where === LIST_HEAD ? "lpop" : "rpop");
}

/** Parses the shared tail of LMPOP/BLMPOP/ZMPOP/BZMPOP: numkeys key... <where> [COUNT n].
 *  Returns the keys, the parsed `where` word and the count, or undefined after replying. */
function parseMpopArgs(c: Client, numkeysIdx: number, whereWords: [string, string]): { keys: string[]; where: number; count: number } | undefined {
  const argv = c.argv;
  const numkeys = parseRangeIntOrReply(c, argv[numkeysIdx], 1n, LLONG_MAX, "ERR numkeys should be greater than 0");
  if (numkeys === undefined) return undefined;
  const whereIdx = numkeysIdx + numkeys + 1;
  if (whereIdx >= argv.length) { addReplyError(c, E.syntax); return undefined; }
  const w = argv[whereIdx].toLowerCase();
  const where = w === whereWords[0] ? LIST_HEAD : w === whereWords[1] ? LIST_TAIL : -1;
  if (where < 0) { addReplyError(c, E.syntax); return undefined; }
  let count = -1;
  for (let j = whereIdx + 1; j < argv.length; j++) {
    if (count === -1 && argv[j].toLowerCase() === "count" && j < argv.length - 1) {
      const n = parseRangeIntOrReply(c, argv[++j], 1n, LLONG_MAX, "ERR count should be greater than 0");
      if (n === undefined) return undefined;
      count = n;
    } else { addReplyError(c, E.syntax); return undefined; }
  }
  return { keys: argv.slice(numkeysIdx + 1, whereIdx), where, count: count === -1 ? 1 : count };
}

/* LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count] */
function lmpopCommand(c: Client): void { lmpopGeneric(c, false); }

/** LMPOP and BLMPOP: pops from the first non-empty list; with nothing to pop, nil, or BLMPOP
 *  blocks on all the keys. */
function lmpopGeneric(c: Client, blocking: boolean): void {
  const args = parseMpopArgs(c, blocking ? 2 : 1, ["left", "right"]);
  if (!args) return;
  const timeout = blocking ? parseTimeoutOrReply(c, c.argv[1]) : 0;
  if (timeout === undefined) return;
  const db = cdb(c);
  for (const key of args.keys) {
    const l = lookupKeyWrite(db, key);
    if (l === undefined) continue;
    if (checkType(c, l, "list")) return;
    return listPopRangeAndReplyWithKey(c, db, key, l, args.where, args.count);
  }
  if (blocking) blockForKeys(c, "list", args.keys, timeout, { where: args.where, whereto: 0, target: null, count: args.count });
  else addReplyNullArray(c);
}

/* BLPOP key [key ...] timeout and BRPOP */
function blockingPopGeneric(c: Client, where: number): void {
  const timeout = parseTimeoutOrReply(c, c.argv[c.argv.length - 1]);
  if (timeout === undefined) return;
  const db = cdb(c), keys = c.argv.slice(1, -1);
  for (const key of keys) {
    const v = lookupKeyWrite(db, key);
    if (v === undefined) continue;
    if (checkType(c, v, "list")) return;
    const l = v;
    addReplyArrayLen(c, 2);
    addReplyBulk(c, key);
    addReplyBulk(c, l.pop(where));
    listElementsRemoved(db, key, l, where === LIST_HEAD ? "lpop" : "rpop");
    c.propArgv = [where === LIST_HEAD ? "LPOP" : "RPOP", key];
    return;
  }
  blockForKeys(c, "list", keys, timeout, { where, whereto: 0, target: null, count: -1 });
}
function blpopCommand(c: Client): void { blockingPopGeneric(c, LIST_HEAD); }
function brpopCommand(c: Client): void { blockingPopGeneric(c, LIST_TAIL); }

/* BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout and BRPOPLPUSH source destination timeout */
function blmoveGeneric(c: Client, wherefrom: number, whereto: number, timeout: number): void {
  const v = lookupKeyWrite(cdb(c), c.argv[1]);
  if (checkType(c, v, "list")) return;
  if (v === undefined) return blockForKeys(c, "list", [c.argv[1]], timeout, { where: wherefrom, whereto, target: c.argv[2], count: -1 });
  lmoveGeneric(c, wherefrom, whereto);
  // Served at once: the non-blocking form, with the directions as the client spelled them.
  c.propArgv = c.argv.length === 6 ? ["LMOVE", c.argv[1], c.argv[2], c.argv[3], c.argv[4]] : ["RPOPLPUSH", c.argv[1], c.argv[2]];
}
function blmoveCommand(c: Client): void {
  const from = parseListPositionOrReply(c, c.argv[3]);
  if (from === undefined) return;
  const to = parseListPositionOrReply(c, c.argv[4]);
  if (to === undefined) return;
  const timeout = parseTimeoutOrReply(c, c.argv[5]);
  if (timeout !== undefined) blmoveGeneric(c, from, to, timeout);
}
function brpoplpushCommand(c: Client): void {
  const timeout = parseTimeoutOrReply(c, c.argv[3]);
  if (timeout !== undefined) blmoveGeneric(c, LIST_TAIL, LIST_HEAD, timeout);
}

/* BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count] */
function blmpopCommand(c: Client): void { lmpopGeneric(c, true); }

/** Gives a blocked list client its element(s): BLPOP/BRPOP, BLMPOP, or BLMOVE's move. */
function serveClientBlockedOnList(c: Client, db: Db, key: string, list: RList, b: BlockState): void {
  c.propArgv = null;
  if (b.target !== null) {
    if (lmoveHandle(c, db, key, list, b.target, b.where, b.whereto)) c.propArgv = lmovePropArgv(key, b.target, b.where, b.whereto, c.lastCmd === "brpoplpush");
  } else if (b.count !== -1) {
    listPopRangeAndReplyWithKey(c, db, key, list, b.where, b.count);
  } else {
    addReplyArrayLen(c, 2);
    addReplyBulk(c, key);
    addReplyBulk(c, list.pop(b.where));
    listElementsRemoved(db, key, list, b.where === LIST_HEAD ? "lpop" : "rpop");
    c.propArgv = [b.where === LIST_HEAD ? "LPOP" : "RPOP", key];
  }
  // Served outside call(): propagate what the pop did, as the blocking command would have.
  if (c.propArgv) alsoPropagate(b.dbIndex, c.propArgv);
  propagatePendingCommands();
}

/** This chapter's rows of the command table (see Dispatch). */
const LIST_COMMANDS: CommandRows[] = [
  { group: "list", specs: [
    ["lpush", -3, "write denyoom fast", 1, 1, 1, "list", lpushCommand],
    ["rpush", -3, "write denyoom fast", 1, 1, 1, "list", rpushCommand],
    ["lpushx", -3, "write denyoom fast", 1, 1, 1, "list", lpushxCommand],
    ["rpushx", -3, "write denyoom fast", 1, 1, 1, "list", rpushxCommand],
    ["lpop", -2, "write fast", 1, 1, 1, "list", lpopCommand],
    ["rpop", -2, "write fast", 1, 1, 1, "list", rpopCommand],
    ["llen", 2, "readonly fast", 1, 1, 1, "list", llenCommand],
    ["lrange", 4, "readonly", 1, 1, 1, "list", lrangeCommand],
    ["lindex", 3, "readonly", 1, 1, 1, "list", lindexCommand],
    ["lset", 4, "write denyoom", 1, 1, 1, "list", lsetCommand],
    ["linsert", 5, "write denyoom", 1, 1, 1, "list", linsertCommand],
    ["lrem", 4, "write", 1, 1, 1, "list", lremCommand],
    ["ltrim", 4, "write", 1, 1, 1, "list", ltrimCommand],
    ["lpos", -3, "readonly", 1, 1, 1, "list", lposCommand],
    ["lmove", 5, "write denyoom", 1, 2, 1, "list", lmoveCommand],
    ["rpoplpush", 3, "write denyoom", 1, 2, 1, "list", rpoplpushCommand],
    ["lmpop", -4, "write movablekeys", 0, 0, 0, "list", lmpopCommand],
    ["blpop", -3, "write noscript blocking", 1, -2, 1, "list", blpopCommand],
    ["brpop", -3, "write noscript blocking", 1, -2, 1, "list", brpopCommand],
    ["blmove", 6, "write denyoom noscript blocking", 1, 2, 1, "list", blmoveCommand],
    ["brpoplpush", 4, "write denyoom noscript blocking", 1, 2, 1, "list", brpoplpushCommand],
    ["blmpop", -5, "write blocking movablekeys", 0, 0, 0, "list", blmpopCommand],
  ] },
];

// ============================================================================================
// Hashes
//
// A hash (RHash) is a Dict of field -> value. While it is small (hash-max-listpack-entries fields
// of at most hash-max-listpack-value bytes) Redis stores it as a listpack, which keeps insertion
// order even across deletes; we keep that order too, so HGETALL answers in the same order as
// Redis. Past those limits it becomes a "hashtable" for good, as in Redis. The random picks
// HRANDFIELD shares with SRANDMEMBER and ZRANDMEMBER are here.
// ============================================================================================

class RHash {
  readonly type = "hash";
  dict = new Dict<string>("strings");
  listpack = true;
  bytes = 0;
  /** Sets a field; returns true if it is new. Converts to a hashtable past the listpack limits. */
  set(field: string, value: string): boolean {
    if (this.listpack && (field.length > hot.hashMaxListpackValue || value.length > hot.hashMaxListpackValue)) this.listpack = false;
    const i = this.dict.slot(field);
    this.bytes += i === undefined ? field.length + value.length + MEM_HASH_FIELD : value.length - this.dict.strLengthAt(i);
    const added = this.dict.set(field, value);
    if (this.listpack && this.dict.size > hot.hashMaxListpackEntries) this.listpack = false;
    return added;
  }
  delete(field: string): boolean {
    const old = this.dict.get(field);
    if (old === undefined) return false;
    this.bytes -= field.length + old.length + MEM_HASH_FIELD;
    return this.dict.delete(field, this.listpack);
  }
  get size(): number { return this.dict.size; }
}

/** Looks up a hash for writing, creating it if missing; undefined after WRONGTYPE. */
function hashLookupWriteOrCreate(c: Client, key: string): RHash | undefined {
  const db = cdb(c);
  const v = lookupKeyWrite(db, key);
  if (checkType(c, v, "hash")) return undefined;
  if (v) return v;
  const h = new RHash();
  dbAdd(db, key, h);
  return h;
}


/* HSET key field value [field value ...] and HMSET */
function hsetCommand(c: Client): void {
  const argv = c.argv;
  if (argv.length % 2 === 1) return addReplyError(c, `ERR wrong number of arguments for '${lookupCommand(argv)!.name}' command`);
  const h = hashLookupWriteOrCreate(c, argv[1]);
  if (!h) return;
  let created = 0;
  for (let i = 2; i < argv.length; i += 2) if (h.set(argv[i], argv[i + 1])) created++;
  server.dirty += (argv.length - 2) / 2;
  keyModified(cdb(c), argv[1], NOTIFY_HASH, "hset");
  if (argv[0][1] === "s" || argv[0][1] === "S") addReplyLongLong(c, created);
  else addReplyOK(c);
}

/* HSETNX key field value */
function hsetnxCommand(c: Client): void {
  const h = hashLookupWriteOrCreate(c, c.argv[1]);
  if (!h) return;
  if (h.dict.has(c.argv[2])) return addReplyLongLong(c, 0);
  h.set(c.argv[2], c.argv[3]);
  server.dirty++;
  keyModified(cdb(c), c.argv[1], NOTIFY_HASH, "hset");
  addReplyLongLong(c, 1);
}

/* HGET key field */
function hgetCommand(c: Client): void {
  const h = lookupReadOrReply(c, c.argv[1], "hash", () => addReplyNull(c));
  if (!h) return;
  const v = h.dict.get(c.argv[2]);
  v === undefined ? addReplyNull(c) : addReplyBulk(c, v);
}

/* HMGET key field [field ...] */
function hmgetCommand(c: Client): void {
  const h = lookupKeyRead(cdb(c), c.argv[1]);
  if (checkType(c, h, "hash")) return;
  addReplyArrayLen(c, c.argv.length - 2);
  for (let i = 2; i < c.argv.length; i++) {
    const x = h?.dict.get(c.argv[i]);
    x === undefined ? addReplyNull(c) : addReplyBulk(c, x);
  }
}

/* HDEL key field [field ...] */
function hdelCommand(c: Client): void {
  const db = cdb(c), key = c.argv[1];
  const h = lookupKeyWrite(db, key);
  if (h === undefined) return addReplyLongLong(c, 0);
  if (checkType(c, h, "hash")) return;
  let deleted = 0;
  for (let i = 2; i < c.argv.length; i++) if (h.delete(c.argv[i])) deleted++;
  if (deleted) {
    keyModified(db, key, NOTIFY_HASH, "hdel");
    if (h.size === 0) deleteEmptied(db, key);
  }
  server.dirty += deleted;
  addReplyLongLong(c, deleted);
}

/* HLEN key */
function hlenCommand(c: Client): void {
  const h = lookupReadOrReply(c, c.argv[1], "hash", () => addReplyLongLong(c, 0));
  if (h) addReplyLongLong(c, h.size);
}

/* HSTRLEN key field */
function hstrlenCommand(c: Client): void {
  const h = lookupReadOrReply(c, c.argv[1], "hash", () => addReplyLongLong(c, 0));
  if (h) addReplyLongLong(c, h.dict.get(c.argv[2])?.length ?? 0);
}

/* HEXISTS key field */
function hexistsCommand(c: Client): void {
  const h = lookupReadOrReply(c, c.argv[1], "hash", () => addReplyLongLong(c, 0));
  if (h) addReplyLongLong(c, h.dict.has(c.argv[2]) ? 1 : 0);
}

/** HKEYS, HVALS and HGETALL. */
function hgetallGeneric(c: Client, keys: boolean, vals: boolean): void {
  const h = lookupReadOrReply(c, c.argv[1], "hash", () => (keys && vals ? addReplyMapLen(c, 0) : addReplyArrayLen(c, 0)));
  if (!h) return;
  const d = h.dict;
  if (keys && vals) addReplyMapLen(c, d.size);
  else addReplyArrayLen(c, d.size);
  for (let i = 0; i < d.size; i++) {
    if (keys) addReplyBulk(c, d.keyAt(i));
    if (vals) addReplyBulk(c, d.valAt(i));
  }
}
function hkeysCommand(c: Client): void { hgetallGeneric(c, true, false); }
function hvalsCommand(c: Client): void { hgetallGeneric(c, false, true); }
function hgetallCommand(c: Client): void { hgetallGeneric(c, true, true); }

/* HINCRBY key field increment */
function hincrbyCommand(c: Client): void {
  const incr = parseIntOrReply(c, c.argv[3]);
  if (incr === undefined) return;
  const h = hashLookupWriteOrCreate(c, c.argv[1]);
  if (!h) return;
  const cur = h.dict.get(c.argv[2]);
  const old = cur === undefined ? 0 : string2ll(cur);
  if (old === null) return addReplyError(c, "ERR hash value is not an integer");
  const sum = BigInt(cur ?? "0") + BigInt(c.argv[3]);
  if (sum > LLONG_MAX || sum < LLONG_MIN) return addReplyError(c, E.overflow);
  h.set(c.argv[2], String(sum));
  server.dirty++;
  keyModified(cdb(c), c.argv[1], NOTIFY_HASH, "hincrby");
  addReplyLongLong(c, Number.isSafeInteger(Number(sum)) ? Number(sum) : sum);
}

/* HINCRBYFLOAT key field increment */
function hincrbyfloatCommand(c: Client): void {
  const incr = parseLongDouble(c.argv[3]);
  if (!incr) return addReplyError(c, E.notFloat);
  if (!isFiniteLD(incr)) return addReplyError(c, "ERR value is NaN or Infinity");
  const h = hashLookupWriteOrCreate(c, c.argv[1]);
  if (!h) return;
  const cur = h.dict.get(c.argv[2]);
  const old = parseLongDouble(cur ?? "0");
  if (!old) return addReplyError(c, "ERR hash value is not a float");
  const sum = addLongDouble(old, incr);
  if (!isFiniteLD(sum)) return addReplyError(c, E.nanOrInf);
  const s = formatLongDoubleHuman(sum);
  h.set(c.argv[2], s);
  server.dirty++;
  keyModified(cdb(c), c.argv[1], NOTIFY_HASH, "hincrbyfloat");
  c.propArgv = ["HSET", c.argv[1], c.argv[2], s];
  addReplyBulk(c, s);
}

/* HRANDFIELD key [count [WITHVALUES]] */
function hrandfieldCommand(c: Client): void {
  const argv = c.argv;
  if (argv.length === 2) {
    const h = lookupReadOrReply(c, argv[1], "hash", () => addReplyNull(c));
    if (h) addReplyBulk(c, h.dict.keyAt(h.dict.randomIndex()));
    return;
  }
  const l = parseRangeIntOrReply(c, argv[2], -LLONG_MAX, LLONG_MAX);
  if (l === undefined) return;
  let withValues = false;
  if (argv.length > 4 || (argv.length === 4 && argv[3].toLowerCase() !== "withvalues")) return addReplyError(c, E.syntax);
  if (argv.length === 4) {
    withValues = true;
    if (!withinHalfLongRange(argv[2])) return addReplyError(c, "ERR value is out of range");
  }
  const h = lookupReadOrReply(c, argv[1], "hash", () => addReplyArrayLen(c, 0));
  if (!h) return;
  const d = h.dict;
  addReplyRandomEntries(c, d, l, withValues && c.resp === 2 ? 2 : 1, (i) => {
    if (withValues && c.resp > 2) addReplyArrayLen(c, 2);
    d.replyKeyAt(c, i);
    if (withValues) {
      const h = d.handleAt(i);
      if (h >= 0) d.arena!.replyVal(c, h);
      else addReplyBulk(c, d.valAt(i));
    }
  });
}

/** HRANDFIELD WITHVALUES and ZRANDMEMBER WITHSCORES take counts within ±LONG_MAX/2 (C's integer
 *  division: ±4611686018427387903), checked on the digits since a double cannot hold them. */
function withinHalfLongRange(arg: string): boolean {
  const n = BigInt(arg);
  return n >= -4611686018427387903n && n <= 4611686018427387903n;
}

/** HRANDFIELD/SRANDMEMBER/ZRANDMEMBER with a count: `emit` writes one entry's reply elements
 *  (`perEntry` of them) for a slot of `d`. A negative count may repeat entries and is streamed,
 *  one random slot at a time, as Redis does: a count of millions builds no array of picks. A
 *  positive one gives distinct entries (all of them, in slot order, when count >= size). */
function addReplyRandomEntries(c: Client, d: Dict<unknown>, count: number, perEntry: number, emit: (slot: number) => void): void {
  const n = d.size === 0 ? 0 : count < 0 ? -count : Math.min(count, d.size);
  addReplyArrayLen(c, n * perEntry);
  if (count < 0 || n === 1) {
    for (let k = 0; k < n && !c.closed; k++) {
      emit(d.randomIndex());
      if ((k & 1023) === 1023) checkClientOutputBufferLimits(c); // as Redis, stop for a client over its limit
    }
    return;
  }
  if (n === d.size) {
    for (let i = 0; i < n; i++) emit(i);
    return;
  }
  // Distinct picks: a sparse Fisher-Yates over slot numbers, O(count) time and space.
  const swapped = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (d.size - i));
    const vj = swapped.get(j) ?? j;
    swapped.set(j, swapped.get(i) ?? i);
    emit(vj);
  }
}

/* HSCAN key cursor [MATCH pattern] [COUNT count] */
function hscanCommand(c: Client): void {
  const cursor = parseScanCursorOrReply(c, c.argv[2]);
  if (cursor === undefined) return;
  const h = lookupReadOrReply(c, c.argv[1], "hash", () => addReplyProto(c, "*2\r\n$1\r\n0\r\n*0\r\n"));
  if (h) scanGeneric(c, h.dict, cursor, 3, null, h.listpack, (i) => h.dict.valAt(i));
}

/** This chapter's rows of the command table (see Dispatch). */
const HASH_COMMANDS: CommandRows[] = [
  { group: "hash", specs: [
    ["hset", -4, "write denyoom fast", 1, 1, 1, "hash", hsetCommand],
    ["hsetnx", 4, "write denyoom fast", 1, 1, 1, "hash", hsetnxCommand],
    ["hget", 3, "readonly fast", 1, 1, 1, "hash", hgetCommand],
    ["hmset", -4, "write denyoom fast", 1, 1, 1, "hash", hsetCommand],
    ["hmget", -3, "readonly fast", 1, 1, 1, "hash", hmgetCommand],
    ["hdel", -3, "write fast", 1, 1, 1, "hash", hdelCommand],
    ["hexists", 3, "readonly fast", 1, 1, 1, "hash", hexistsCommand],
    ["hlen", 2, "readonly fast", 1, 1, 1, "hash", hlenCommand],
    ["hstrlen", 3, "readonly fast", 1, 1, 1, "hash", hstrlenCommand],
    ["hkeys", 2, "readonly", 1, 1, 1, "hash", hkeysCommand],
    ["hvals", 2, "readonly", 1, 1, 1, "hash", hvalsCommand],
    ["hgetall", 2, "readonly", 1, 1, 1, "hash", hgetallCommand],
    ["hincrby", 4, "write denyoom fast", 1, 1, 1, "hash", hincrbyCommand],
    ["hincrbyfloat", 4, "write denyoom fast", 1, 1, 1, "hash", hincrbyfloatCommand],
    ["hrandfield", -2, "readonly", 1, 1, 1, "hash", hrandfieldCommand],
    ["hscan", -3, "readonly", 1, 1, 1, "hash", hscanCommand],
  ] },
];

// ============================================================================================
// Sets
//
// A set (RSet) is a Dict of members. A set of integers only, up to set-max-intset-entries, is an
// "intset" in Redis and iterates in ascending numeric order; we keep the flag and sort on the
// way out (at most 512 members), so SMEMBERS answers as Redis does. Anything else is a
// "hashtable", whose order is unspecified in Redis too.
// ============================================================================================

class RSet {
  readonly type = "set";
  dict = new Dict<true>("keys");
  intset = true;
  bytes = 0;
  /** Adds a member; returns true if it is new. Leaves intset form when Redis would. */
  add(m: string): boolean {
    if (this.intset && string2ll(m) === null) this.intset = false;
    const added = this.dict.set(m, true);
    if (added) this.bytes += m.length + MEM_SET_MEMBER;
    if (added && this.intset && this.dict.size > hot.setMaxIntsetEntries) this.intset = false;
    return added;
  }
  remove(m: string): boolean {
    if (!this.dict.delete(m)) return false;
    this.bytes -= m.length + MEM_SET_MEMBER;
    return true;
  }
  has(m: string): boolean { return this.dict.has(m); }
  get size(): number { return this.dict.size; }
  /** Members in Redis's iteration order: ascending for intsets. */
  members(): string[] {
    const keys = this.dict.keyList();
    return this.intset ? keys.sort((a, b) => Number(BigInt(a) - BigInt(b))) : keys;
  }
}

/** A new set holding `first`'s kind: an intset if it is an integer, as Redis's setTypeCreate. */
function setTypeCreate(first: string): RSet {
  const s = new RSet();
  if (string2ll(first) === null) s.intset = false;
  return s;
}


/* SADD key member [member ...] */
function saddCommand(c: Client): void {
  const db = cdb(c), key = c.argv[1];
  let s = lookupKeyWrite(db, key);
  if (checkType(c, s, "set")) return;
  if (!s) { s = setTypeCreate(c.argv[2]); dbAdd(db, key, s); }
  let added = 0;
  for (let i = 2; i < c.argv.length; i++) if (s.add(c.argv[i])) added++;
  server.dirty += added;
  if (added) keyModified(db, key, NOTIFY_SET, "sadd");
  addReplyLongLong(c, added);
}

/* SREM key member [member ...] */
function sremCommand(c: Client): void {
  const db = cdb(c), key = c.argv[1];
  const s = lookupKeyWrite(db, key);
  if (s === undefined) return addReplyLongLong(c, 0);
  if (checkType(c, s, "set")) return;
  let removed = 0;
  for (let i = 2; i < c.argv.length; i++) if (s.remove(c.argv[i])) removed++;
  if (removed) {
    keyModified(db, key, NOTIFY_SET, "srem");
    if (s.size === 0) deleteEmptied(db, key);
  }
  server.dirty += removed;
  addReplyLongLong(c, removed);
}

/* SISMEMBER key member */
function sismemberCommand(c: Client): void {
  const s = lookupReadOrReply(c, c.argv[1], "set", () => addReplyLongLong(c, 0));
  if (s) addReplyLongLong(c, s.has(c.argv[2]) ? 1 : 0);
}

/* SMISMEMBER key member [member ...] */
function smismemberCommand(c: Client): void {
  const s = lookupKeyRead(cdb(c), c.argv[1]);
  if (checkType(c, s, "set")) return;
  addReplyArrayLen(c, c.argv.length - 2);
  for (let i = 2; i < c.argv.length; i++) addReplyLongLong(c, s?.has(c.argv[i]) ? 1 : 0);
}

/* SCARD key */
function scardCommand(c: Client): void {
  const s = lookupReadOrReply(c, c.argv[1], "set", () => addReplyLongLong(c, 0));
  if (s) addReplyLongLong(c, s.size);
}

/* SMOVE source destination member */
function smoveCommand(c: Client): void {
  const db = cdb(c), member = c.argv[3];
  const src = lookupKeyWrite(db, c.argv[1]);
  const dst = lookupKeyWrite(db, c.argv[2]);
  if (src === undefined) return addReplyLongLong(c, 0);
  if (checkType(c, src, "set") || checkType(c, dst, "set")) return;
  const s = src;
  if (src === dst) return addReplyLongLong(c, s.has(member) ? 1 : 0);
  if (!s.remove(member)) return addReplyLongLong(c, 0);
  keyModified(db, c.argv[1], NOTIFY_SET, "srem");
  if (s.size === 0) deleteEmptied(db, c.argv[1]);
  let d = dst;
  if (!d) { d = setTypeCreate(member); dbAdd(db, c.argv[2], d); }
  if (d.add(member)) keyModified(db, c.argv[2], NOTIFY_SET, "sadd");
  server.dirty++;
  addReplyLongLong(c, 1);
}

/* SPOP key [count] */
function spopCommand(c: Client): void {
  const argv = c.argv;
  if (argv.length > 3) return addReplyError(c, E.syntax);
  const db = cdb(c), key = argv[1];
  if (argv.length === 2) {
    const s = lookupKeyWrite(db, key);
    if (s === undefined) return addReplyNull(c);
    if (checkType(c, s, "set")) return;
    const m = s.dict.keyAt(s.dict.randomIndex());
    s.remove(m);
    keyModified(db, key, NOTIFY_SET, "spop");
    if (s.size === 0) deleteEmptied(db, key);
    server.dirty++;
    c.propArgv = ["SREM", key, m]; // the random pick, not another one
    return addReplyBulk(c, m);
  }
  const count = parsePositiveOrReply(c, argv[2]);
  if (count === undefined) return;
  const s = lookupKeyWrite(db, key);
  if (s === undefined) return addReplySetLen(c, 0);
  if (checkType(c, s, "set")) return;
  if (count === 0) return addReplySetLen(c, 0);
  if (count >= s.size) {
    const all = s.members();
    addReplySetLen(c, all.length);
    for (const m of all) addReplyBulk(c, m);
    keyModified(db, key, NOTIFY_SET, "spop");
    deleteEmptied(db, key);
    server.dirty++;
    c.propArgv = ["DEL", key];
    return;
  }
  addReplySetLen(c, count);
  const popped: string[] = [];
  for (let i = 0; i < count; i++) {
    const m = s.dict.keyAt(s.dict.randomIndex());
    s.remove(m);
    popped.push(m);
    addReplyBulk(c, m);
  }
  keyModified(db, key, NOTIFY_SET, "spop");
  server.dirty++;
  c.propArgv = ["SREM", key, ...popped];
}

/* SRANDMEMBER key [count] */
function srandmemberCommand(c: Client): void {
  const argv = c.argv;
  if (argv.length > 3) return addReplyError(c, E.syntax);
  if (argv.length === 2) {
    const s = lookupReadOrReply(c, argv[1], "set", () => addReplyNull(c));
    if (s) addReplyBulk(c, s.dict.keyAt(s.dict.randomIndex()));
    return;
  }
  const l = parseRangeIntOrReply(c, argv[2], -LLONG_MAX, LLONG_MAX);
  if (l === undefined) return;
  const s = lookupReadOrReply(c, argv[1], "set", () => addReplyArrayLen(c, 0));
  if (!s) return;
  if (l >= s.size) return addReplyBulks(c, s.members());
  addReplyRandomEntries(c, s.dict, l, 1, (i) => s.dict.replyKeyAt(c, i));
}

/** Looks up the sets named by `keys`; null entries for missing keys; undefined after WRONGTYPE. */
function lookupSetsOrReply(c: Client, keys: string[]): (RSet | null)[] | undefined {
  const db = cdb(c);
  const sets: (RSet | null)[] = [];
  for (const k of keys) {
    const v = lookupKeyRead(db, k);
    if (v === undefined) { sets.push(null); continue; }
    if (checkType(c, v, "set")) return undefined;
    sets.push(v as RSet);
  }
  return sets;
}

/** Stores a computed set (or deletes dstkey when it is empty) and replies its size. */
function storeSetResult(c: Client, dstkey: string, result: RSet, event: string): void {
  const db = cdb(c);
  if (result.size > 0) {
    setKey(db, dstkey, result);
    keyModified(db, dstkey, NOTIFY_SET, event);
    server.dirty++;
  } else if (dbDelete(db, dstkey)) {
    keyModified(db, dstkey, NOTIFY_GENERIC, "del");
    server.dirty++;
  }
  addReplyLongLong(c, result.size);
}

/** SINTER, SINTERSTORE, SINTERCARD and SMEMBERS: walks the smallest set, testing the others. */
function sinterGeneric(c: Client, keys: string[], dstkey: string | null, cardinalityOnly: boolean, limit: number): void {
  const sets = lookupSetsOrReply(c, keys);
  if (!sets) return;
  if (sets.includes(null)) {
    if (dstkey !== null) {
      if (dbDelete(cdb(c), dstkey)) {
        keyModified(cdb(c), dstkey, NOTIFY_GENERIC, "del");
        server.dirty++;
      }
      return addReplyLongLong(c, 0);
    }
    return cardinalityOnly ? addReplyLongLong(c, 0) : addReplySetLen(c, 0);
  }
  const sorted = (sets as RSet[]).slice().sort((a, b) => a.size - b.size);
  const first = sorted[0];
  const out: string[] = [];
  for (const m of first.members()) {
    let all = true;
    for (let j = 1; j < sorted.length; j++) if (sorted[j] !== first && !sorted[j].has(m)) { all = false; break; }
    if (!all) continue;
    out.push(m);
    if (cardinalityOnly && limit && out.length >= limit) break;
  }
  if (cardinalityOnly) return addReplyLongLong(c, out.length);
  if (dstkey !== null) {
    const result = new RSet();
    for (const m of out) result.add(m);
    return storeSetResult(c, dstkey, result, "sinterstore");
  }
  addReplySetLen(c, out.length);
  for (const m of out) addReplyBulk(c, m);
}

/* SINTER key [key ...] and SMEMBERS key */
function sinterCommand(c: Client): void { sinterGeneric(c, c.argv.slice(1), null, false, 0); }
/* SINTERSTORE destination key [key ...] */
function sinterstoreCommand(c: Client): void { sinterGeneric(c, c.argv.slice(2), c.argv[1], false, 0); }

/* SINTERCARD numkeys key [key ...] [LIMIT limit] */
function sintercardCommand(c: Client): void {
  const argv = c.argv;
  const numkeys = parseRangeIntOrReply(c, argv[1], 1n, LLONG_MAX, "ERR numkeys should be greater than 0");
  if (numkeys === undefined) return;
  if (numkeys > argv.length - 2) return addReplyError(c, "ERR Number of keys can't be greater than number of args");
  let limit = 0;
  for (let j = 2 + numkeys; j < argv.length; j++) {
    if (argv[j].toLowerCase() === "limit" && j < argv.length - 1) {
      const n = parsePositiveOrReply(c, argv[++j], "ERR LIMIT can't be negative");
      if (n === undefined) return;
      limit = n;
    } else return addReplyError(c, E.syntax);
  }
  sinterGeneric(c, argv.slice(2, 2 + numkeys), null, true, limit);
}

/** SUNION, SDIFF and their STORE forms: the result is built as a new set (an intset while it
 *  can be one), which also gives Redis's output order. */
function sunionDiffGeneric(c: Client, keys: string[], dstkey: string | null, diff: boolean): void {
  const sets = lookupSetsOrReply(c, keys);
  if (!sets) return;
  const result = new RSet();
  if (!diff) {
    for (const s of sets) if (s) for (const m of s.dict.keyList()) result.add(m);
  } else if (sets[0] && !sets.slice(1).includes(sets[0])) {
    for (const m of sets[0].dict.keyList()) if (!sets.slice(1).some((s) => s?.has(m))) result.add(m);
  }
  if (dstkey !== null) return storeSetResult(c, dstkey, result, diff ? "sdiffstore" : "sunionstore");
  const members = result.members();
  addReplySetLen(c, members.length);
  for (const m of members) addReplyBulk(c, m);
}
function sunionCommand(c: Client): void { sunionDiffGeneric(c, c.argv.slice(1), null, false); }
function sunionstoreCommand(c: Client): void { sunionDiffGeneric(c, c.argv.slice(2), c.argv[1], false); }
function sdiffCommand(c: Client): void { sunionDiffGeneric(c, c.argv.slice(1), null, true); }
function sdiffstoreCommand(c: Client): void { sunionDiffGeneric(c, c.argv.slice(2), c.argv[1], true); }

/* SSCAN key cursor [MATCH pattern] [COUNT count] */
function sscanCommand(c: Client): void {
  const cursor = parseScanCursorOrReply(c, c.argv[2]);
  if (cursor === undefined) return;
  const s = lookupReadOrReply(c, c.argv[1], "set", () => addReplyProto(c, "*2\r\n$1\r\n0\r\n*0\r\n"));
  if (!s) return;
  if (s.intset) {
    // An intset answers whole and in order, as in Redis.
    const sorted = new Dict<true>();
    for (const m of s.members()) sorted.set(m, true);
    return scanGeneric(c, sorted, cursor, 3, null, true, () => null);
  }
  scanGeneric(c, s.dict, cursor, 3, null, false, () => null);
}

/** This chapter's rows of the command table (see Dispatch). */
const SET_COMMANDS: CommandRows[] = [
  { group: "set", specs: [
    ["sadd", -3, "write denyoom fast", 1, 1, 1, "set", saddCommand],
    ["srem", -3, "write fast", 1, 1, 1, "set", sremCommand],
    ["smembers", 2, "readonly", 1, 1, 1, "set", sinterCommand],
    ["sismember", 3, "readonly fast", 1, 1, 1, "set", sismemberCommand],
    ["smismember", -3, "readonly fast", 1, 1, 1, "set", smismemberCommand],
    ["scard", 2, "readonly fast", 1, 1, 1, "set", scardCommand],
    ["spop", -2, "write fast", 1, 1, 1, "set", spopCommand],
    ["srandmember", -2, "readonly", 1, 1, 1, "set", srandmemberCommand],
    ["smove", 4, "write fast", 1, 2, 1, "set", smoveCommand],
    ["sinter", -2, "readonly", 1, -1, 1, "set", sinterCommand],
    ["sintercard", -3, "readonly movablekeys", 0, 0, 0, "set", sintercardCommand],
    ["sinterstore", -3, "write denyoom", 1, -1, 1, "set", sinterstoreCommand],
    ["sunion", -2, "readonly", 1, -1, 1, "set", sunionCommand],
    ["sunionstore", -3, "write denyoom", 1, -1, 1, "set", sunionstoreCommand],
    ["sdiff", -2, "readonly", 1, -1, 1, "set", sdiffCommand],
    ["sdiffstore", -3, "write denyoom", 1, -1, 1, "set", sdiffstoreCommand],
    ["sscan", -3, "readonly", 1, 1, 1, "set", sscanCommand],
  ] },
];

// ============================================================================================
// Sorted sets
//
// A sorted set (RZSet) is Redis's pair of structures: a skiplist ordered by (score, member) whose
// links carry spans (Part III), so insert, delete, rank and the start of any range are O(log n),
// and a Dict from member to score for O(1) lookups and random members. Members compare as bytes.
// Small sets are "listpack" in Redis; the flag only changes OBJECT ENCODING and ZSCAN, since
// both encodings iterate in score order. Blocking pops are served by serveClientBlockedOnZset.
// ============================================================================================

/** One side of a score or lex range, tested on a node's score and member. */
type ZRangeTest = (score: number, member: string) => boolean;

class RZSet {
  readonly type = "zset";
  dict = new Dict<number>();
  zsl = new SkipList();
  listpack: boolean;
  bytes = 0;
  constructor(sizeHint = 0, lenHint = 0) {
    // As Redis's zsetTypeCreate: start as a listpack unless the first write is already too big.
    this.listpack = sizeHint <= hot.zsetMaxListpackEntries && lenHint <= hot.zsetMaxListpackValue;
  }
  get size(): number { return this.dict.size; }
  /** Adds or re-scores a member. */
  set(member: string, score: number): void {
    const cur = this.dict.get(member);
    if (cur !== undefined) {
      if (cur === score) return;
      this.zsl.delete(cur, member);
    } else if (this.listpack && (this.dict.size + 1 > hot.zsetMaxListpackEntries || member.length > hot.zsetMaxListpackValue)) {
      this.listpack = false;
    }
    // A listpack stores integral scores as integers, so -0 comes back as 0.
    if (this.listpack && score === 0) score = 0;
    this.zsl.insert(score, member);
    if (this.dict.set(member, score)) this.bytes += member.length + MEM_ZSET_MEMBER;
  }
  delete(member: string): boolean {
    const score = this.dict.get(member);
    if (score === undefined) return false;
    this.zsl.delete(score, member);
    this.dict.delete(member);
    this.bytes -= member.length + MEM_ZSET_MEMBER;
    return true;
  }
  /** Back to listpack when a computed result is small enough, as zsetConvertToListpackIfNeeded. */
  shrinkIfSmall(): void {
    let maxlen = 0;
    for (let i = 0; i < this.size; i++) maxlen = Math.max(maxlen, this.dict.keyAt(i).length);
    if (this.size > hot.zsetMaxListpackEntries || maxlen > hot.zsetMaxListpackValue) return;
    this.listpack = true;
    // What the listpack stores as an integer comes back as 0, not -0 (as in set()).
    for (const m of this.dict.keyList()) {
      const score = this.dict.get(m)!;
      if (Object.is(score, -0)) { this.zsl.delete(score, m); this.zsl.insert(0, m); this.dict.set(m, 0); }
    }
  }
}

interface ScoreRange { min: number; max: number; minex: boolean; maxex: boolean }
interface LexRange { min: string | null; max: string | null; minex: boolean; maxex: boolean; minInf: number; maxInf: number }

/** strtod as zslParseRange uses it: leading spaces allowed, the whole rest must be a number. */
function strtodWhole(s: string): number | null {
  if (s === "") return 0;
  const t = s.replace(/^[ \t\n\v\f\r]+/, "");
  if (t === "") return null;
  const d = string2d(t);
  return d === null || Number.isNaN(d) ? null : d;
}

/** Parses "(1.5", "-inf", "+inf" ... as Redis's zslParseRange. */
function parseScoreRange(minArg: string, maxArg: string): ScoreRange | null {
  const one = (s: string): [number, boolean] | null => {
    const ex = s[0] === "(";
    const v = strtodWhole(ex ? s.slice(1) : s);
    return v === null ? null : [v, ex];
  };
  const a = one(minArg), b = one(maxArg);
  if (!a || !b) return null;
  return { min: a[0], minex: a[1], max: b[0], maxex: b[1] };
}

/** Parses "[a", "(a", "-", "+" as Redis's zslParseLexRange. */
function parseLexRange(minArg: string, maxArg: string): LexRange | null {
  const one = (s: string): [string | null, boolean, number] | null => {
    if (s === "+") return [null, false, 1];
    if (s === "-") return [null, false, -1];
    if (s[0] === "(") return [s.slice(1), true, 0];
    if (s[0] === "[") return [s.slice(1), false, 0];
    return null;
  };
  const a = one(minArg), b = one(maxArg);
  if (!a || !b) return null;
  return { min: a[0], minex: a[1], minInf: a[2], max: b[0], maxex: b[1], maxInf: b[2] };
}

function scoreGteMin(r: ScoreRange): ZRangeTest { return (score) => (r.minex ? score > r.min : score >= r.min); }
function scoreLteMax(r: ScoreRange): ZRangeTest { return (score) => (r.maxex ? score < r.max : score <= r.max); }
function lexGteMin(r: LexRange): ZRangeTest {
  return (_, member) => (r.minInf === -1 ? true : r.minInf === 1 ? false : r.minex ? member > r.min! : member >= r.min!);
}
function lexLteMax(r: LexRange): ZRangeTest {
  return (_, member) => (r.maxInf === 1 ? true : r.maxInf === -1 ? false : r.maxex ? member < r.max! : member <= r.max!);
}
/** True when a score range cannot contain anything (Redis checks this before walking). */
function scoreRangeEmpty(r: ScoreRange): boolean { return r.min > r.max || (r.min === r.max && (r.minex || r.maxex)); }
function lexRangeEmpty(r: LexRange): boolean {
  if (r.minInf === 1 || r.maxInf === -1) return true;
  if (r.minInf === -1 || r.maxInf === 1) return false;
  return r.min! > r.max! || (r.min === r.max && (r.minex || r.maxex));
}


const ZADD_NX = 1, ZADD_XX = 2, ZADD_GT = 4, ZADD_LT = 8, ZADD_INCR = 16;

/** ZADD and ZINCRBY: options, then every score parsed before anything changes. */
function zaddGeneric(c: Client, flags: number): void {
  const argv = c.argv, key = argv[1];
  let ch = false, idx = 2;
  for (; idx < argv.length; idx++) {
    const opt = argv[idx].toLowerCase();
    if (opt === "nx") flags |= ZADD_NX;
    else if (opt === "xx") flags |= ZADD_XX;
    else if (opt === "ch") ch = true;
    else if (opt === "incr") flags |= ZADD_INCR;
    else if (opt === "gt") flags |= ZADD_GT;
    else if (opt === "lt") flags |= ZADD_LT;
    else break;
  }
  const incr = (flags & ZADD_INCR) !== 0, nx = (flags & ZADD_NX) !== 0, xx = (flags & ZADD_XX) !== 0;
  const gt = (flags & ZADD_GT) !== 0, lt = (flags & ZADD_LT) !== 0;
  const pairs = argv.length - idx;
  if (pairs % 2 || !pairs) return addReplyError(c, E.syntax);
  const n = pairs / 2;
  if (nx && xx) return addReplyError(c, "ERR XX and NX options at the same time are not compatible");
  if ((gt && nx) || (lt && nx) || (gt && lt)) return addReplyError(c, "ERR GT, LT, and/or NX options at the same time are not compatible");
  if (incr && n > 1) return addReplyError(c, "ERR INCR option supports a single increment-element pair");
  const scores: number[] = [];
  for (let j = 0; j < n; j++) {
    const d = string2d(argv[idx + j * 2]);
    if (d === null) return addReplyError(c, E.notFloat);
    scores.push(d);
  }
  const db = cdb(c);
  let z = lookupKeyWrite(db, key) as RZSet | undefined;
  if (checkType(c, z, "zset")) return;
  let added = 0, updated = 0, processed = 0, score = 0;
  if (!z) {
    if (xx) return incr ? addReplyNull(c) : addReplyLongLong(c, 0);
    // Redis 7.0 starts a listpack unless the first member alone is too long; members convert it.
    z = new RZSet(1, argv[idx + 1].length);
    dbAdd(db, key, z);
  }
  for (let j = 0; j < n; j++) {
    const member = argv[idx + 1 + j * 2];
    score = scores[j];
    const cur = z.dict.get(member);
    if (cur !== undefined) {
      if (nx) continue;
      if (incr) {
        score += cur;
        if (Number.isNaN(score)) return addReplyError(c, "ERR resulting score is not a number (NaN)");
      }
      if ((lt && score >= cur) || (gt && score <= cur)) continue;
      if (score !== cur) { z.set(member, score); updated++; }
      processed++;
    } else if (!xx) {
      z.set(member, score);
      added++;
      processed++;
    }
  }
  if (z.size === 0) dbDelete(db, key);
  server.dirty += added + updated;
  if (added + updated) {
    signalKeyAsReady(db, key);
    keyModified(db, key, NOTIFY_ZSET, incr ? "zincr" : "zadd");
  }
  if (incr) processed ? addReplyDouble(c, score) : addReplyNull(c);
  else addReplyLongLong(c, ch ? added + updated : added);
}
/* ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...] */
function zaddCommand(c: Client): void { zaddGeneric(c, 0); }
/* ZINCRBY key increment member */
function zincrbyCommand(c: Client): void { zaddGeneric(c, ZADD_INCR); }

/* ZREM key member [member ...] */
function zremCommand(c: Client): void {
  const db = cdb(c), key = c.argv[1];
  const z = lookupKeyWrite(db, key);
  if (z === undefined) return addReplyLongLong(c, 0);
  if (checkType(c, z, "zset")) return;
  let deleted = 0;
  for (let i = 2; i < c.argv.length; i++) if (z.delete(c.argv[i])) deleted++;
  if (deleted) {
    keyModified(db, key, NOTIFY_ZSET, "zrem");
    if (z.size === 0) deleteEmptied(db, key);
  }
  server.dirty += deleted;
  addReplyLongLong(c, deleted);
}

/* ZSCORE key member */
function zscoreCommand(c: Client): void {
  const z = lookupReadOrReply(c, c.argv[1], "zset", () => addReplyNull(c));
  if (!z) return;
  const s = z.dict.get(c.argv[2]);
  s === undefined ? addReplyNull(c) : addReplyDouble(c, s);
}

/* ZMSCORE key member [member ...] */
function zmscoreCommand(c: Client): void {
  const z = lookupKeyRead(cdb(c), c.argv[1]);
  if (checkType(c, z, "zset")) return;
  addReplyArrayLen(c, c.argv.length - 2);
  for (let i = 2; i < c.argv.length; i++) {
    const s = z?.dict.get(c.argv[i]);
    s === undefined ? addReplyNull(c) : addReplyDouble(c, s);
  }
}

/* ZCARD key */
function zcardCommand(c: Client): void {
  const z = lookupReadOrReply(c, c.argv[1], "zset", () => addReplyLongLong(c, 0));
  if (z) addReplyLongLong(c, z.size);
}

/** Counts the nodes between two in-range nodes using ranks (ZCOUNT, ZLEXCOUNT). */
function zslCountInRange(z: RZSet, gteMin: ZRangeTest, lteMax: ZRangeTest): number {
  const zsl = z.zsl, first = zsl.firstInRange(gteMin, lteMax);
  if (!first) return 0;
  const last = zsl.lastInRange(gteMin, lteMax);
  return zsl.rank(zsl.score(last), zsl.member(last)) - zsl.rank(zsl.score(first), zsl.member(first)) + 1;
}

/* ZCOUNT key min max */
function zcountCommand(c: Client): void {
  const r = parseScoreRange(c.argv[2], c.argv[3]);
  if (!r) return addReplyError(c, "ERR min or max is not a float");
  const z = lookupReadOrReply(c, c.argv[1], "zset", () => addReplyLongLong(c, 0));
  if (z) addReplyLongLong(c, scoreRangeEmpty(r) ? 0 : zslCountInRange(z, scoreGteMin(r), scoreLteMax(r)));
}

/* ZLEXCOUNT key min max */
function zlexcountCommand(c: Client): void {
  const r = parseLexRange(c.argv[2], c.argv[3]);
  if (!r) return addReplyError(c, "ERR min or max not valid string range item");
  const z = lookupReadOrReply(c, c.argv[1], "zset", () => addReplyLongLong(c, 0));
  if (z) addReplyLongLong(c, lexRangeEmpty(r) ? 0 : zslCountInRange(z, lexGteMin(r), lexLteMax(r)));
}

type RangeType = "auto" | "rank" | "score" | "lex";

/** Replies a list of members (and scores): a flat array in RESP2, [member, score] pairs in RESP3. */
function addReplyZsetMembers(c: Client, nodes: { member: string; score: number }[], withScores: boolean): void {
  addReplyArrayLen(c, withScores && c.resp === 2 ? nodes.length * 2 : nodes.length);
  for (const n of nodes) {
    if (withScores && c.resp > 2) addReplyArrayLen(c, 2);
    addReplyBulk(c, n.member);
    if (withScores) addReplyDouble(c, n.score);
  }
}

/** The nodes of a rank range (negative ranks from the end), in forward or reverse order. */
function zsetRangeByRank(z: RZSet, start: number, end: number, reverse: boolean): ZEntry[] {
  const len = z.size;
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (start > end || start >= len) return [];
  if (end >= len) end = len - 1;
  const out: ZEntry[] = [], zsl = z.zsl;
  let n = zsl.byRank(reverse ? len - start : start + 1);
  for (let i = start; i <= end && n; i++) {
    out.push(zsl.entry(n));
    n = reverse ? zsl.prevOf(n) : zsl.next(n);
  }
  return out;
}

/** The nodes of a score or lex range with Redis's LIMIT offset/count semantics. */
function zsetRangeByBounds(z: RZSet, gteMin: ZRangeTest, lteMax: ZRangeTest, offset: number, limit: number, reverse: boolean): ZEntry[] {
  if (offset > 0 && offset >= z.size) return [];
  const zsl = z.zsl;
  let n = reverse ? zsl.lastInRange(gteMin, lteMax) : zsl.firstInRange(gteMin, lteMax);
  // A negative offset makes Redis skip everything; a negative limit means no limit.
  if (offset < 0) return [];
  while (n && offset-- > 0) n = reverse ? zsl.prevOf(n) : zsl.next(n);
  const out: ZEntry[] = [];
  while (n && limit-- !== 0) {
    if (reverse ? !gteMin(zsl.score(n), zsl.member(n)) : !lteMax(zsl.score(n), zsl.member(n))) break;
    out.push(zsl.entry(n));
    n = reverse ? zsl.prevOf(n) : zsl.next(n);
  }
  return out;
}

/** Every ZRANGE form (ZRANGE, ZREVRANGE, Z[REV]RANGEBYSCORE, Z[REV]RANGEBYLEX, ZRANGESTORE):
 *  the arguments start at argv[argStart] (the source key); `dstkey` stores instead of replying. */
function zrangeGeneric(c: Client, argStart: number, dstkey: string | null, rangeType: RangeType, reverse: boolean | null): void {
  const argv = c.argv, key = argv[argStart];
  let minIdx = argStart + 1, maxIdx = argStart + 2;
  let withScores = false, offset = 0, limit = -1;
  for (let j = argStart + 3; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    const left = argv.length - j - 1;
    if (dstkey === null && opt === "withscores") withScores = true;
    else if (opt === "limit" && left >= 2) {
      const l = parseLimitOrReply(c, j);
      if (!l) return;
      [offset, limit] = l;
      j += 2;
    } else if (reverse === null && opt === "rev") reverse = true;
    else if (rangeType === "auto" && opt === "bylex") rangeType = "lex";
    else if (rangeType === "auto" && opt === "byscore") rangeType = "score";
    else return addReplyError(c, E.syntax);
  }
  const rev = reverse === true;
  const type = rangeType === "auto" ? "rank" : rangeType;
  if (limit !== -1 && type === "rank") return addReplyError(c, "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
  if (withScores && type === "lex") return addReplyError(c, "ERR syntax error, WITHSCORES not supported in combination with BYLEX");
  if (rev && type !== "rank") [minIdx, maxIdx] = [maxIdx, minIdx];
  let select: (z: RZSet) => ZEntry[];
  if (type === "rank") {
    const start = parseIntOrReply(c, argv[minIdx]);
    if (start === undefined) return;
    const end = parseIntOrReply(c, argv[maxIdx]);
    if (end === undefined) return;
    select = (z) => zsetRangeByRank(z, start, end, rev);
  } else if (type === "score") {
    const r = parseScoreRange(argv[minIdx], argv[maxIdx]);
    if (!r) return addReplyError(c, "ERR min or max is not a float");
    select = (z) => (scoreRangeEmpty(r) ? [] : zsetRangeByBounds(z, scoreGteMin(r), scoreLteMax(r), offset, limit, rev));
  } else {
    const r = parseLexRange(argv[minIdx], argv[maxIdx]);
    if (!r) return addReplyError(c, "ERR min or max not valid string range item");
    select = (z) => (lexRangeEmpty(r) ? [] : zsetRangeByBounds(z, lexGteMin(r), lexLteMax(r), offset, limit, rev));
  }
  const v = lookupKeyRead(cdb(c), key);
  if (v !== undefined && checkType(c, v, "zset")) return;
  const nodes = v === undefined ? [] : select(v as RZSet);
  if (dstkey === null) return addReplyZsetMembers(c, nodes, withScores);
  const result = new RZSet(nodes.length, 0);
  for (const n of nodes) result.set(n.member, n.score);
  storeZsetResult(c, dstkey, result, "zrangestore");
}

/** Stores a computed sorted set (or deletes dstkey when it is empty) and replies its size. */
function storeZsetResult(c: Client, dstkey: string, result: RZSet, event: string): void {
  const db = cdb(c);
  if (result.size > 0) {
    setKey(db, dstkey, result);
    signalKeyAsReady(db, dstkey);
    keyModified(db, dstkey, NOTIFY_ZSET, event);
    server.dirty++;
  } else if (dbDelete(db, dstkey)) {
    keyModified(db, dstkey, NOTIFY_GENERIC, "del");
    server.dirty++;
  }
  addReplyLongLong(c, result.size);
}

/* ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES] */
function zrangeCommand(c: Client): void { zrangeGeneric(c, 1, null, "auto", null); }
/* ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count] */
function zrangestoreCommand(c: Client): void { zrangeGeneric(c, 2, c.argv[1], "auto", null); }
/* ZREVRANGE key start stop [WITHSCORES] */
function zrevrangeCommand(c: Client): void { zrangeGeneric(c, 1, null, "rank", true); }
/* ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count] */
function zrangebyscoreCommand(c: Client): void { zrangeGeneric(c, 1, null, "score", false); }
/* ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count] */
function zrevrangebyscoreCommand(c: Client): void { zrangeGeneric(c, 1, null, "score", true); }
/* ZRANGEBYLEX key min max [LIMIT offset count] */
function zrangebylexCommand(c: Client): void { zrangeGeneric(c, 1, null, "lex", false); }
/* ZREVRANGEBYLEX key max min [LIMIT offset count] */
function zrevrangebylexCommand(c: Client): void { zrangeGeneric(c, 1, null, "lex", true); }

/** ZRANK and ZREVRANK, with Redis 7.2's WITHSCORE (anything else keeps 7.0's arity error). */
function zrankGeneric(c: Client, reverse: boolean): void {
  const argv = c.argv;
  const withScore = argv.length === 4 && argv[3].toLowerCase() === "withscore";
  if (argv.length > 3 && !withScore) return addReplyError(c, `ERR wrong number of arguments for '${reverse ? "zrevrank" : "zrank"}' command`);
  const missing = () => (withScore ? addReplyNullArray(c) : addReplyNull(c));
  const z = lookupReadOrReply(c, argv[1], "zset", missing);
  if (!z) return;
  const score = z.dict.get(argv[2]);
  if (score === undefined) return missing();
  const rank = z.zsl.rank(score, argv[2]) - 1;
  if (withScore) addReplyArrayLen(c, 2);
  addReplyLongLong(c, reverse ? z.size - 1 - rank : rank);
  if (withScore) addReplyDouble(c, score);
}
/* ZRANK key member [WITHSCORE] */
function zrankCommand(c: Client): void { zrankGeneric(c, false); }
/* ZREVRANK key member [WITHSCORE] */
function zrevrankCommand(c: Client): void { zrankGeneric(c, true); }

/** ZREMRANGEBYRANK, ZREMRANGEBYSCORE and ZREMRANGEBYLEX. */
function zremrangeGeneric(c: Client, type: "rank" | "score" | "lex"): void {
  const argv = c.argv;
  let select: (z: RZSet) => ZEntry[];
  if (type === "rank") {
    const start = parseIntOrReply(c, argv[2]);
    if (start === undefined) return;
    const end = parseIntOrReply(c, argv[3]);
    if (end === undefined) return;
    select = (z) => zsetRangeByRank(z, start, end, false);
  } else if (type === "score") {
    const r = parseScoreRange(argv[2], argv[3]);
    if (!r) return addReplyError(c, "ERR min or max is not a float");
    select = (z) => (scoreRangeEmpty(r) ? [] : zsetRangeByBounds(z, scoreGteMin(r), scoreLteMax(r), 0, -1, false));
  } else {
    const r = parseLexRange(argv[2], argv[3]);
    if (!r) return addReplyError(c, "ERR min or max not valid string range item");
    select = (z) => (lexRangeEmpty(r) ? [] : zsetRangeByBounds(z, lexGteMin(r), lexLteMax(r), 0, -1, false));
  }
  const db = cdb(c), key = argv[1];
  const z = lookupKeyWrite(db, key);
  if (z === undefined) return addReplyLongLong(c, 0);
  if (checkType(c, z, "zset")) return;
  const nodes = select(z);
  for (const n of nodes) z.delete(n.member);
  if (nodes.length) {
    keyModified(db, key, NOTIFY_ZSET, `zremrangeby${type}`);
    if (z.size === 0) deleteEmptied(db, key);
  }
  server.dirty += nodes.length;
  addReplyLongLong(c, nodes.length);
}
function zremrangebyrankCommand(c: Client): void { zremrangeGeneric(c, "rank"); }
function zremrangebyscoreCommand(c: Client): void { zremrangeGeneric(c, "score"); }
function zremrangebylexCommand(c: Client): void { zremrangeGeneric(c, "lex"); }

/** The body of every pop: ZPOPMIN/ZPOPMAX, BZPOPMIN/BZPOPMAX, ZMPOP/BZMPOP (see Redis's
 *  genericZpopCommand for the four reply shapes). `count` -1 pops one. */
function genericZpop(c: Client, keys: string[], where: number, emitKey: boolean, count: number, nested: boolean, nilWhenEmpty: boolean): void {
  const db = cdb(c);
  let key = "", z: RZSet | undefined;
  for (const k of keys) {
    const v = lookupKeyWrite(db, k);
    if (v === undefined) continue;
    if (checkType(c, v, "zset")) return;
    key = k;
    z = v;
    break;
  }
  if (!z) return nilWhenEmpty ? addReplyNullArray(c) : addReplyArrayLen(c, 0);
  if (count === 0) return addReplyArrayLen(c, 0);
  const n = Math.min(count === -1 ? 1 : count, z.size);
  if (!nested && !emitKey) addReplyArrayLen(c, n * 2);
  else if (nested && !emitKey) addReplyArrayLen(c, n);
  else if (!nested && emitKey) { addReplyArrayLen(c, n * 2 + 1); addReplyBulk(c, key); }
  else { addReplyArrayLen(c, 2); addReplyBulk(c, key); addReplyArrayLen(c, n); }
  c.propArgv = count === -1 ? [where === LIST_HEAD ? "ZPOPMIN" : "ZPOPMAX", key] : [where === LIST_HEAD ? "ZPOPMIN" : "ZPOPMAX", key, String(n)];
  for (let i = 0; i < n; i++) {
    const node = where === LIST_HEAD ? z.zsl.first() : z.zsl.tail;
    const member = z.zsl.member(node), score = z.zsl.score(node);
    z.delete(member);
    if (nested) addReplyArrayLen(c, 2);
    addReplyBulk(c, member);
    addReplyDouble(c, score);
  }
  keyModified(db, key, NOTIFY_ZSET, where === LIST_HEAD ? "zpopmin" : "zpopmax");
  if (z.size === 0) deleteEmptied(db, key);
  server.dirty += n;
}

/** ZPOPMIN key [count] and ZPOPMAX. */
function zpopMinMax(c: Client, where: number): void {
  if (c.argv.length > 3) return addReplyError(c, E.syntax);
  let count = -1;
  if (c.argv.length === 3) {
    const n = parsePositiveOrReply(c, c.argv[2]);
    if (n === undefined) return;
    count = n;
  }
  genericZpop(c, [c.argv[1]], where, false, count, c.resp > 2 && count !== -1, false);
}
function zpopminCommand(c: Client): void { zpopMinMax(c, LIST_HEAD); }
function zpopmaxCommand(c: Client): void { zpopMinMax(c, LIST_TAIL); }

/** BZPOPMIN/BZPOPMAX/BZMPOP: pop now if any key has members, else block. */
function blockingGenericZpop(c: Client, keys: string[], where: number, timeoutArg: string, count: number, nested: boolean): void {
  const timeout = parseTimeoutOrReply(c, timeoutArg);
  if (timeout === undefined) return;
  const db = cdb(c);
  for (const key of keys) {
    const v = lookupKeyWrite(db, key);
    if (v === undefined) continue;
    if (checkType(c, v, "zset")) return;
    return genericZpop(c, [key], where, true, count, nested, nested);
  }
  blockForKeys(c, "zset", keys, timeout, { where, whereto: 0, target: null, count: nested ? count : -1 });
}
/* BZPOPMIN key [key ...] timeout */
function bzpopminCommand(c: Client): void { blockingGenericZpop(c, c.argv.slice(1, -1), LIST_HEAD, c.argv[c.argv.length - 1], -1, false); }
/* BZPOPMAX key [key ...] timeout */
function bzpopmaxCommand(c: Client): void { blockingGenericZpop(c, c.argv.slice(1, -1), LIST_TAIL, c.argv[c.argv.length - 1], -1, false); }

/* ZMPOP numkeys key [key ...] MIN|MAX [COUNT count] */
function zmpopCommand(c: Client): void {
  const args = parseMpopArgs(c, 1, ["min", "max"]);
  if (args) genericZpop(c, args.keys, args.where, true, args.count, true, true);
}
/* BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count] */
function bzmpopCommand(c: Client): void {
  const args = parseMpopArgs(c, 2, ["min", "max"]);
  if (args) blockingGenericZpop(c, args.keys, args.where, c.argv[1], args.count, true);
}

/** Gives a blocked sorted-set client its pop: BZPOPMIN/BZPOPMAX or BZMPOP (count >= 1). */
function serveClientBlockedOnZset(c: Client, _db: Db, key: string, _z: RZSet, b: BlockState): void {
  const nested = b.count !== -1;
  const prevDb = c.db;
  c.db = b.dbIndex;
  c.propArgv = null;
  genericZpop(c, [key], b.where, true, b.count, nested, nested);
  c.db = prevDb;
  if (c.propArgv) alsoPropagate(b.dbIndex, c.propArgv);
  propagatePendingCommands();
}

/* ZRANDMEMBER key [count [WITHSCORES]] */
function zrandmemberCommand(c: Client): void {
  const argv = c.argv;
  if (argv.length === 2) {
    const z = lookupReadOrReply(c, argv[1], "zset", () => addReplyNull(c));
    if (z) addReplyBulk(c, z.dict.keyAt(z.dict.randomIndex()));
    return;
  }
  const l = parseRangeIntOrReply(c, argv[2], -LLONG_MAX, LLONG_MAX);
  if (l === undefined) return;
  if (argv.length > 4 || (argv.length === 4 && argv[3].toLowerCase() !== "withscores")) return addReplyError(c, E.syntax);
  const withScores = argv.length === 4;
  if (withScores && !withinHalfLongRange(argv[2])) return addReplyError(c, "ERR value is out of range");
  const z = lookupReadOrReply(c, argv[1], "zset", () => addReplyArrayLen(c, 0));
  if (!z) return;
  // Redis 7.0 answers "the whole set" from the highest score down.
  if (l >= z.size) return addReplyZsetMembers(c, zsetRangeByRank(z, 0, -1, true), withScores);
  const d = z.dict;
  addReplyRandomEntries(c, d, l, withScores && c.resp === 2 ? 2 : 1, (i) => {
    if (withScores && c.resp > 2) addReplyArrayLen(c, 2);
    addReplyBulk(c, d.keyAt(i));
    if (withScores) addReplyDouble(c, d.valAt(i));
  });
}

const AGGR_SUM = 0, AGGR_MIN = 1, AGGR_MAX = 2;

/** ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD (Redis's
 *  zunionInterDiffGenericCommand). Plain sets take part with score 1. */
function zsetOpGeneric(c: Client, dstkey: string | null, numkeysIdx: number, op: "union" | "inter" | "diff", cardinalityOnly: boolean): void {
  const argv = c.argv;
  const setnum = parseIntOrReply(c, argv[numkeysIdx]);
  if (setnum === undefined) return;
  if (setnum < 1) return addReplyError(c, `ERR at least 1 input key is needed for '${lookupCommand(argv)!.name}' command`);
  if (setnum > argv.length - (numkeysIdx + 1)) return addReplyError(c, E.syntax);
  const db = cdb(c);
  const srcs: { v: RZSet | RSet | null; weight: number }[] = [];
  let j = numkeysIdx + 1;
  for (let i = 0; i < setnum; i++, j++) {
    const v = lookupKeyRead(db, argv[j]);
    if (v !== undefined && typeName(v) !== "zset" && typeName(v) !== "set") return addReplyError(c, E.wrongType);
    srcs.push({ v: (v as RZSet | RSet | undefined) ?? null, weight: 1 });
  }
  let aggregate = AGGR_SUM, withScores = false, limit = 0;
  while (j < argv.length) {
    const opt = argv[j].toLowerCase();
    const remaining = argv.length - j;
    if (op !== "diff" && !cardinalityOnly && remaining >= setnum + 1 && opt === "weights") {
      j++;
      for (let i = 0; i < setnum; i++, j++) {
        const w = string2d(argv[j]);
        if (w === null) return addReplyError(c, "ERR weight value is not a float");
        srcs[i].weight = w;
      }
    } else if (op !== "diff" && !cardinalityOnly && remaining >= 2 && opt === "aggregate") {
      const a = argv[j + 1].toLowerCase();
      if (a === "sum") aggregate = AGGR_SUM;
      else if (a === "min") aggregate = AGGR_MIN;
      else if (a === "max") aggregate = AGGR_MAX;
      else return addReplyError(c, E.syntax);
      j += 2;
    } else if (remaining >= 1 && dstkey === null && !cardinalityOnly && opt === "withscores") {
      j++;
      withScores = true;
    } else if (cardinalityOnly && remaining >= 2 && opt === "limit") {
      const n = parsePositiveOrReply(c, argv[j + 1], "ERR LIMIT can't be negative");
      if (n === undefined) return;
      limit = n;
      j += 2;
    } else return addReplyError(c, E.syntax);
  }
  const size = (s: { v: RZSet | RSet | null }) => s.v?.size ?? 0;
  const entries = (s: { v: RZSet | RSet | null }): [string, number][] => {
    if (!s.v) return [];
    if (s.v instanceof RZSet) return zsetRangeByRank(s.v, 0, -1, false).map((n) => [n.member, n.score]);
    return s.v.members().map((m) => [m, 1]);
  };
  const scoreIn = (s: { v: RZSet | RSet | null }, m: string): number | undefined =>
    s.v instanceof RZSet ? s.v.dict.get(m) : s.v?.has(m) ? 1 : undefined;
  const agg = (a: number, b: number): number => {
    if (aggregate === AGGR_SUM) { const r = a + b; return Number.isNaN(r) ? 0 : r; }
    return aggregate === AGGR_MIN ? (b < a ? b : a) : b > a ? b : a;
  };
  const weighted = (w: number, s: number) => { const r = w * s; return Number.isNaN(r) ? 0 : r; };
  if (op !== "diff") srcs.sort((a, b) => size(a) - size(b));
  const result = new RZSet(0, 0);
  result.listpack = false;
  let cardinality = 0;
  if (op === "inter") {
    if (size(srcs[0]) > 0) {
      for (const [m, s0] of entries(srcs[0])) {
        let score = weighted(srcs[0].weight, s0), k = 1;
        for (; k < srcs.length; k++) {
          const v = srcs[k].v === srcs[0].v ? s0 : scoreIn(srcs[k], m);
          if (v === undefined) break;
          score = agg(score, srcs[k].weight * v);
        }
        if (k < srcs.length) continue;
        if (cardinalityOnly) {
          cardinality++;
          if (limit && cardinality >= limit) break;
        } else result.set(m, score);
      }
    }
  } else if (op === "union") {
    const acc = new Map<string, number>();
    for (const s of srcs) {
      for (const [m, sc] of entries(s)) {
        const score = weighted(s.weight, sc);
        const cur = acc.get(m);
        acc.set(m, cur === undefined ? score : agg(cur, score));
      }
    }
    for (const [m, s] of acc) result.set(m, s);
  } else if (srcs[0].v) {
    for (const [m, s] of entries(srcs[0])) {
      if (!srcs.slice(1).some((o) => o.v === srcs[0].v || scoreIn(o, m) !== undefined)) result.set(m, s);
    }
  }
  if (cardinalityOnly) return addReplyLongLong(c, cardinality);
  if (dstkey !== null) {
    result.shrinkIfSmall();
    return storeZsetResult(c, dstkey, result, `z${op}store`);
  }
  addReplyZsetMembers(c, zsetRangeByRank(result, 0, -1, false), withScores);
}
/* ZUNION numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX] [WITHSCORES] */
function zunionCommand(c: Client): void { zsetOpGeneric(c, null, 1, "union", false); }
/* ZINTER numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX] [WITHSCORES] */
function zinterCommand(c: Client): void { zsetOpGeneric(c, null, 1, "inter", false); }
/* ZDIFF numkeys key [key ...] [WITHSCORES] */
function zdiffCommand(c: Client): void { zsetOpGeneric(c, null, 1, "diff", false); }
/* ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS ...] [AGGREGATE ...] */
function zunionstoreCommand(c: Client): void { zsetOpGeneric(c, c.argv[1], 2, "union", false); }
/* ZINTERSTORE destination numkeys key [key ...] [WEIGHTS ...] [AGGREGATE ...] */
function zinterstoreCommand(c: Client): void { zsetOpGeneric(c, c.argv[1], 2, "inter", false); }
/* ZDIFFSTORE destination numkeys key [key ...] */
function zdiffstoreCommand(c: Client): void { zsetOpGeneric(c, c.argv[1], 2, "diff", false); }
/* ZINTERCARD numkeys key [key ...] [LIMIT limit] */
function zintercardCommand(c: Client): void { zsetOpGeneric(c, null, 1, "inter", true); }

/* ZSCAN key cursor [MATCH pattern] [COUNT count] */
function zscanCommand(c: Client): void {
  const cursor = parseScanCursorOrReply(c, c.argv[2]);
  if (cursor === undefined) return;
  const z = lookupReadOrReply(c, c.argv[1], "zset", () => addReplyProto(c, "*2\r\n$1\r\n0\r\n*0\r\n"));
  if (!z) return;
  if (z.listpack) {
    // A listpack answers whole and in score order, as in Redis.
    const ordered = new Dict<number>();
    for (const n of zsetRangeByRank(z, 0, -1, false)) ordered.set(n.member, n.score);
    return scanGeneric(c, ordered, cursor, 3, null, true, (i) => formatDouble(ordered.valAt(i)));
  }
  scanGeneric(c, z.dict, cursor, 3, null, false, (i) => formatDouble(z.dict.valAt(i)));
}

/** This chapter's rows of the command table (see Dispatch). */
const ZSET_COMMANDS: CommandRows[] = [
  { group: "sorted-set", specs: [
    ["zadd", -4, "write denyoom fast", 1, 1, 1, "sortedset", zaddCommand],
    ["zincrby", 4, "write denyoom fast", 1, 1, 1, "sortedset", zincrbyCommand],
    ["zrem", -3, "write fast", 1, 1, 1, "sortedset", zremCommand],
    ["zscore", 3, "readonly fast", 1, 1, 1, "sortedset", zscoreCommand],
    ["zmscore", -3, "readonly fast", 1, 1, 1, "sortedset", zmscoreCommand],
    ["zcard", 2, "readonly fast", 1, 1, 1, "sortedset", zcardCommand],
    ["zcount", 4, "readonly fast", 1, 1, 1, "sortedset", zcountCommand],
    ["zlexcount", 4, "readonly fast", 1, 1, 1, "sortedset", zlexcountCommand],
    ["zrange", -4, "readonly", 1, 1, 1, "sortedset", zrangeCommand],
    ["zrangestore", -5, "write denyoom", 1, 2, 1, "sortedset", zrangestoreCommand],
    ["zrangebyscore", -4, "readonly", 1, 1, 1, "sortedset", zrangebyscoreCommand],
    ["zrevrangebyscore", -4, "readonly", 1, 1, 1, "sortedset", zrevrangebyscoreCommand],
    ["zrangebylex", -4, "readonly", 1, 1, 1, "sortedset", zrangebylexCommand],
    ["zrevrangebylex", -4, "readonly", 1, 1, 1, "sortedset", zrevrangebylexCommand],
    ["zrevrange", -4, "readonly", 1, 1, 1, "sortedset", zrevrangeCommand],
    ["zrank", -3, "readonly fast", 1, 1, 1, "sortedset", zrankCommand],
    ["zrevrank", -3, "readonly fast", 1, 1, 1, "sortedset", zrevrankCommand],
    ["zremrangebyrank", 4, "write", 1, 1, 1, "sortedset", zremrangebyrankCommand],
    ["zremrangebyscore", 4, "write", 1, 1, 1, "sortedset", zremrangebyscoreCommand],
    ["zremrangebylex", 4, "write", 1, 1, 1, "sortedset", zremrangebylexCommand],
    ["zpopmin", -2, "write fast", 1, 1, 1, "sortedset", zpopminCommand],
    ["zpopmax", -2, "write fast", 1, 1, 1, "sortedset", zpopmaxCommand],
    ["zmpop", -4, "write movablekeys", 0, 0, 0, "sortedset", zmpopCommand],
    ["zrandmember", -2, "readonly", 1, 1, 1, "sortedset", zrandmemberCommand],
    ["zunion", -3, "readonly movablekeys", 0, 0, 0, "sortedset", zunionCommand],
    ["zinter", -3, "readonly movablekeys", 0, 0, 0, "sortedset", zinterCommand],
    ["zdiff", -3, "readonly movablekeys", 0, 0, 0, "sortedset", zdiffCommand],
    ["zunionstore", -4, "write denyoom movablekeys", 1, 1, 1, "sortedset", zunionstoreCommand],
    ["zinterstore", -4, "write denyoom movablekeys", 1, 1, 1, "sortedset", zinterstoreCommand],
    ["zdiffstore", -4, "write denyoom movablekeys", 1, 1, 1, "sortedset", zdiffstoreCommand],
    ["zintercard", -3, "readonly movablekeys", 0, 0, 0, "sortedset", zintercardCommand],
    ["zscan", -3, "readonly", 1, 1, 1, "sortedset", zscanCommand],
    ["bzpopmin", -3, "write noscript blocking fast", 1, -2, 1, "sortedset", bzpopminCommand],
    ["bzpopmax", -3, "write noscript blocking fast", 1, -2, 1, "sortedset", bzpopmaxCommand],
    ["bzmpop", -5, "write blocking movablekeys", 0, 0, 0, "sortedset", bzmpopCommand],
  ] },
];

// ============================================================================================
// Geo
//
// Positions are sorted-set members whose score is the 52-bit geohash of their longitude and
// latitude (26 bits each, interleaved, latitude in the even bits), over Redis's ranges: longitude
// -180..180, latitude -85.05112878..85.05112878 (Web Mercator's). A position read back is the
// centre of its cell. Searches look in the cell around the centre and its neighbours.
// ============================================================================================

const GEO_LAT_MIN = -85.05112878, GEO_LAT_MAX = 85.05112878, GEO_LONG_MIN = -180, GEO_LONG_MAX = 180;
const GEO_STEP = 26; // bits per coordinate
const EARTH_RADIUS_IN_METERS = 6372797.560856;
const MERCATOR_MAX = 20037726.37;
const DEG_TO_RAD = Math.PI / 180;

// --- The grid. At `step` bits per coordinate the world is 2^step by 2^step cells; a cell is named
// by its latitude and longitude indexes, and its hash interleaves them (latitude in the even bits).
// Hashes are kept as doubles: a stored score is one, and 52 bits fit. Indexes are below 2^32, so
// interleaving works on 16-bit halves with 32-bit integer arithmetic.

/** A cell of the grid at `step` bits per coordinate. */
interface GeoCell { lat: number; lon: number; step: number }

/** The low 16 bits of x spread to the even bits of a 32-bit word. */
function geoSpread16(x: number): number {
  x &= 0xffff;
  x = (x | (x << 8)) & 0x00ff00ff;
  x = (x | (x << 4)) & 0x0f0f0f0f;
  x = (x | (x << 2)) & 0x33333333;
  return (x | (x << 1)) & 0x55555555;
}

/** The even bits of a 32-bit word packed into 16. */
function geoSqueeze16(x: number): number {
  x &= 0x55555555;
  x = (x | (x >>> 1)) & 0x33333333;
  x = (x | (x >>> 2)) & 0x0f0f0f0f;
  x = (x | (x >>> 4)) & 0x00ff00ff;
  return (x | (x >>> 8)) & 0x0000ffff;
}

/** A cell's hash: its indexes interleaved, as a double (rounded, as C's uint64 to double, in the
 *  one corner cell whose overflow bits reach past 2^53). */
function geoCellBits(cell: GeoCell): number {
  const lo = (geoSpread16(cell.lat) | (geoSpread16(cell.lon) << 1)) >>> 0;
  const hi = (geoSpread16(cell.lat >>> 16) | (geoSpread16(cell.lon >>> 16) << 1)) >>> 0;
  return hi * 4294967296 + lo;
}

/** The cell holding (longitude, latitude), over the given latitude range (Redis's geohashEncode):
 *  each offset scaled to 2^step and truncated. At the top of a range the index is 2^step itself,
 *  one bit above the grid, as in Redis. */
function geoCellOf(longitude: number, latitude: number, step: number, latMin = GEO_LAT_MIN, latMax = GEO_LAT_MAX): GeoCell {
  const lat = Math.trunc(((latitude - latMin) / (latMax - latMin)) * 2 ** step);
  const lon = Math.trunc(((longitude - GEO_LONG_MIN) / (GEO_LONG_MAX - GEO_LONG_MIN)) * 2 ** step);
  return { lat, lon, step };
}

/** The 52-bit score of (longitude, latitude). */
function geohashEncode(longitude: number, latitude: number): number {
  return geoCellBits(geoCellOf(longitude, latitude, GEO_STEP));
}

/** A score as C's (uint64_t) cast of it, in two 32-bit words [hi, lo]. Scores GEOADD wrote are
 *  below 2^53; anything else a ZADD put there goes the slow way. */
function geoScoreWords(score: number): [number, number] {
  if (score >= 0 && score < 2 ** 53) {
    const hi = Math.floor(score / 4294967296);
    return [hi, Math.floor(score - hi * 4294967296)];
  }
  let v: bigint;
  if (score < 0) v = score >= -(2 ** 63) ? BigInt.asUintN(64, BigInt(Math.trunc(score))) : 1n << 63n;
  else v = score < 2 ** 64 ? BigInt(score) : 0n;
  return [Number(v >> 32n), Number(v & 0xffffffffn)];
}

/** A cell's edges, [lonMin, lonMax, latMin, latMax] (Redis's geohashDecode). */
function geoCellArea(cell: GeoCell): [number, number, number, number] {
  const scale = 2 ** cell.step, latScale = GEO_LAT_MAX - GEO_LAT_MIN, lonScale = GEO_LONG_MAX - GEO_LONG_MIN;
  // The index is a uint32 in C: one past the largest wraps to 0.
  return [
    GEO_LONG_MIN + (cell.lon / scale) * lonScale, GEO_LONG_MIN + (((cell.lon + 1) >>> 0) / scale) * lonScale,
    GEO_LAT_MIN + (cell.lat / scale) * latScale, GEO_LAT_MIN + (((cell.lat + 1) >>> 0) / scale) * latScale,
  ];
}

/** The centre of a score's cell as [longitude, latitude] (Redis's decodeGeohash). */
function geohashDecode(score: number): [number, number] {
  geoDecodeScore(score);
  return [geoLon, geoLat];
}

// geoDecodeScore's results: a search decodes every member of nine cells, so no arrays per member.
let geoLon = 0, geoLat = 0;

/** The centre of a score's cell into geoLon and geoLat: geoCellArea's edges at step 26, averaged
 *  and clamped to the ranges. */
function geoDecodeScore(score: number): void {
  let hi: number, lo: number;
  if (score >= 0 && score < 2 ** 53) {
    hi = Math.floor(score / 4294967296);
    lo = Math.floor(score - hi * 4294967296);
  } else [hi, lo] = geoScoreWords(score);
  const lat = (geoSqueeze16(lo) | (geoSqueeze16(hi) << 16)) >>> 0;
  const lon = (geoSqueeze16(lo >>> 1) | (geoSqueeze16(hi >>> 1) << 16)) >>> 0;
  const scale = 2 ** GEO_STEP, latScale = GEO_LAT_MAX - GEO_LAT_MIN, lonScale = GEO_LONG_MAX - GEO_LONG_MIN;
  const lonMin = GEO_LONG_MIN + (lon / scale) * lonScale, lonMax = GEO_LONG_MIN + (((lon + 1) >>> 0) / scale) * lonScale;
  const latMin = GEO_LAT_MIN + (lat / scale) * latScale, latMax = GEO_LAT_MIN + (((lat + 1) >>> 0) / scale) * latScale;
  geoLon = Math.min(Math.max((lonMin + lonMax) / 2, GEO_LONG_MIN), GEO_LONG_MAX);
  geoLat = Math.min(Math.max((latMin + latMax) / 2, GEO_LAT_MIN), GEO_LAT_MAX);
}

/** Great-circle distance in meters (Redis's geohashGetDistance: haversine, or the latitude
 *  difference alone when the longitudes are the same). */
function geoDistance(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const v = Math.sin((lon2 * DEG_TO_RAD - lon1 * DEG_TO_RAD) / 2);
  if (v === 0) return geoLatDistance(lat1, lat2);
  const lat1r = lat1 * DEG_TO_RAD, lat2r = lat2 * DEG_TO_RAD;
  const u = Math.sin((lat2r - lat1r) / 2);
  const a = u * u + Math.cos(lat1r) * Math.cos(lat2r) * v * v;
  return 2 * EARTH_RADIUS_IN_METERS * Math.asin(Math.sqrt(a));
}

/** The distance along a meridian between two latitudes. */
function geoLatDistance(lat1: number, lat2: number): number {
  return EARTH_RADIUS_IN_METERS * Math.abs(lat2 * DEG_TO_RAD - lat1 * DEG_TO_RAD);
}

/** A distance as Redis's addReplyDoubleDistance prints it: rounded half to even at 4 decimals
 *  after scaling by 10^4 (fixedpoint_d2string), which is not always toFixed(4)'s rounding. */
function geoFormatDistance(d: number): string {
  if (d === 0) return "0.0000";
  const x = d * 10000;
  let v = Math.floor(x);
  const frac = x - v;
  if (frac > 0.5 || (frac === 0.5 && v % 2 !== 0)) v++;
  const digits = BigInt(Math.abs(v)).toString().padStart(5, "0");
  return (v < 0 ? "-" : "") + digits.slice(0, -4) + "." + digits.slice(-4);
}

/** A member's position, or null when the key or the member is missing. */
function geoMemberPosition(z: RZSet | undefined, member: string): [number, number] | null {
  const score = z?.dict.get(member);
  return score === undefined ? null : geohashDecode(score);
}

/* GEOADD key [NX | XX] [CH] longitude latitude member [longitude latitude member ...] */
function geoaddCommand(c: Client): void {
  const argv = c.argv;
  let nx = false, xx = false, idx = 2;
  for (; idx < argv.length; idx++) {
    const opt = argv[idx].toLowerCase();
    if (opt === "nx") nx = true;
    else if (opt === "xx") xx = true;
    else if (opt !== "ch") break;
  }
  if ((argv.length - idx) % 3 || (nx && xx)) return addReplyError(c, E.syntax);
  // The work is ZADD's, of the members' hashes as scores; replicas and the AOF get that ZADD.
  const zadd = ["zadd", ...argv.slice(1, idx)];
  for (let i = idx; i < argv.length; i += 3) {
    const xy = geoLonLatOrReply(c, i);
    if (!xy) return;
    zadd.push(String(geohashEncode(xy[0], xy[1])), argv[i + 2]);
  }
  c.argv = zadd;
  try {
    zaddGeneric(c, 0);
  } finally {
    c.argv = argv;
  }
  c.propArgv = zadd;
}

/* GEOPOS key [member ...] */
function geoposCommand(c: Client): void {
  const z = lookupKeyRead(cdb(c), c.argv[1]);
  if (checkType(c, z, "zset")) return;
  addReplyArrayLen(c, c.argv.length - 2);
  for (let i = 2; i < c.argv.length; i++) {
    const xy = geoMemberPosition(z, c.argv[i]);
    if (!xy) { addReplyNullArray(c); continue; }
    addReplyArrayLen(c, 2);
    addReplyHumanDouble(c, xy[0]);
    addReplyHumanDouble(c, xy[1]);
  }
}

/** A coordinate as Redis's addReplyHumanLongDouble writes it: 17 decimals, trailing zeros off;
 *  a bulk string in RESP2, a double in RESP3. */
function addReplyHumanDouble(c: Client, d: number): void {
  let s = d.toFixed(17);
  if (s.includes(".")) s = s.replace(/0+$/, "").replace(/\.$/, "");
  if (c.resp === 2) addReplyBulk(c, s);
  else addReplyProto(c, `,${s}\r\n`);
}

/** Meters per unit of a unit argument, or undefined after replying Redis's error. */
function geoUnitOrReply(c: Client, unit: string): number | undefined {
  const u = unit.toLowerCase();
  const perUnit = u === "m" ? 1 : u === "km" ? 1000 : u === "ft" ? 0.3048 : u === "mi" ? 1609.34 : undefined;
  if (perUnit === undefined) addReplyError(c, "ERR unsupported unit provided. please use M, KM, FT, MI");
  return perUnit;
}

/* GEODIST key member1 member2 [M | KM | FT | MI] */
function geodistCommand(c: Client): void {
  let perUnit = 1;
  if (c.argv.length === 5) {
    const u = geoUnitOrReply(c, c.argv[4]);
    if (u === undefined) return;
    perUnit = u;
  } else if (c.argv.length > 5) return addReplyError(c, E.syntax);
  const z = lookupReadOrReply(c, c.argv[1], "zset", () => addReplyNull(c));
  if (!z) return;
  const a = geoMemberPosition(z, c.argv[2]), b = geoMemberPosition(z, c.argv[3]);
  if (!a || !b) return addReplyNull(c);
  addReplyBulk(c, geoFormatDistance(geoDistance(a[0], a[1], b[0], b[1]) / perUnit));
}

/* GEOHASH key [member ...]: the standard 11-character geohash, over latitudes -90..90. */
function geohashCommand(c: Client): void {
  const alphabet = "0123456789bcdefghjkmnpqrstuvwxyz";
  const z = lookupKeyRead(cdb(c), c.argv[1]);
  if (checkType(c, z, "zset")) return;
  addReplyArrayLen(c, c.argv.length - 2);
  for (let i = 2; i < c.argv.length; i++) {
    const xy = geoMemberPosition(z, c.argv[i]);
    if (!xy) { addReplyNull(c); continue; }
    const hash = geoCellBits(geoCellOf(xy[0], xy[1], GEO_STEP, -90, 90));
    let out = "";
    // 52 bits make ten characters; the eleventh is taken as zero bits.
    for (let j = 0; j < 11; j++) out += alphabet[j === 10 ? 0 : Math.floor(hash / 2 ** (52 - (j + 1) * 5)) % 32];
    addReplyBulk(c, out);
  }
}

// --- Searching. GEOSEARCH and the GEORADIUS family look in nine cells, the one holding the centre
// and its eight neighbours, at a cell size chosen from the radius (Redis's
// geohashCalculateAreasByShapeWGS84); each cell is a range of scores. Unsorted results come in
// that walk's order, and ANY stops it early, so the walk is Redis's, cell for cell.

/** What to search: around (lon, lat), within `radius` or within a `width` by `height` box, in
 *  units of `perUnit` meters. */
interface GeoShape { lon: number; lat: number; box: boolean; radius: number; width: number; height: number; perUnit: number }

/** A point found: its member and score, its decoded position, its distance in meters. */
interface GeoPoint { member: string; score: number; lon: number; lat: number; dist: number }

/** The grid step whose cells are about the size of the radius (geohashEstimateStepsByRadius). */
function geoStepForRadius(meters: number, lat: number): number {
  if (meters === 0) return 26;
  let step = 1;
  while (meters < MERCATOR_MAX) { meters *= 2; step++; }
  step -= 2; // so that the radius fits in most cases
  // Meridians converge towards the poles: bigger cells there.
  if (lat > 66 || lat < -66) { step--; if (lat > 80 || lat < -80) step--; }
  return Math.min(Math.max(step, 1), 26);
}

/** The shape's bounding box, [lonMin, latMin, lonMax, latMax] (geohashBoundingBox); the
 *  longitude span is the one at the edge nearer the pole, where it is widest. */
function geoBoundingBox(s: GeoShape): [number, number, number, number] {
  const height = s.perUnit * (s.box ? s.height / 2 : s.radius);
  const width = s.perUnit * (s.box ? s.width / 2 : s.radius);
  const latDelta = height / EARTH_RADIUS_IN_METERS / DEG_TO_RAD;
  const lonDeltaTop = width / EARTH_RADIUS_IN_METERS / Math.cos((s.lat + latDelta) * DEG_TO_RAD) / DEG_TO_RAD;
  const lonDeltaBottom = width / EARTH_RADIUS_IN_METERS / Math.cos((s.lat - latDelta) * DEG_TO_RAD) / DEG_TO_RAD;
  const lonDelta = s.lat < 0 ? lonDeltaBottom : lonDeltaTop;
  return [s.lon - lonDelta, s.lat - latDelta, s.lon + lonDelta, s.lat + latDelta];
}

/** A cell's neighbour, dLon cells east and dLat north, wrapping around the grid. Redis's
 *  geohash_move_x/y mask only the coordinate that moves, so the other keeps an overflow bit. */
function geoNeighbour(cell: GeoCell, dLon: number, dLat: number): GeoCell {
  const size = 2 ** cell.step;
  const move = (i: number, d: number) => (d === 0 ? i : (((i + d) % size) + size) % size);
  return { lat: move(cell.lat, dLat), lon: move(cell.lon, dLon), step: cell.step };
}

/** The cell around (lon, lat) at `step` and its neighbours, in Redis's order: centre, N, S, E, W,
 *  NE, NW, SE, SW. */
function geoNineCells(lon: number, lat: number, step: number): (GeoCell | null)[] {
  const c = geoCellOf(lon, lat, step);
  const n = (dLon: number, dLat: number) => geoNeighbour(c, dLon, dLat);
  return [c, n(0, 1), n(0, -1), n(1, 0), n(-1, 0), n(1, 1), n(-1, 1), n(1, -1), n(-1, -1)];
}

/** The cells a search looks in: the nine around the centre, null where a neighbour cannot hold
 *  a match. */
function geoSearchCells(s: GeoShape): (GeoCell | null)[] {
  const [minLon, minLat, maxLon, maxLat] = geoBoundingBox(s);
  const halfW = s.width / 2, halfH = s.height / 2;
  const meters = (s.box ? Math.sqrt(halfW * halfW + halfH * halfH) : s.radius) * s.perUnit;
  let step = geoStepForRadius(meters, s.lat);
  let cells = geoNineCells(s.lon, s.lat, step);
  // When the box reaches past a side neighbour the cells are too small: one step bigger.
  const north = geoCellArea(cells[1]!), south = geoCellArea(cells[2]!), east = geoCellArea(cells[3]!), west = geoCellArea(cells[4]!);
  if (step > 1 && (north[3] < maxLat || south[2] > minLat || east[1] < maxLon || west[0] > minLon)) {
    cells = geoNineCells(s.lon, s.lat, --step);
  }
  if (step >= 2) {
    const [lonMin, lonMax, latMin, latMax] = geoCellArea(cells[0]!);
    const drop = (...which: number[]) => { for (const i of which) cells[i] = null; };
    if (latMin < minLat) drop(2, 8, 7); // south, south-west, south-east
    if (latMax > maxLat) drop(1, 5, 6); // north, north-east, north-west
    if (lonMin < minLon) drop(4, 8, 6); // west, south-west, north-west
    if (lonMax > maxLon) drop(3, 7, 5); // east, south-east, north-east
  }
  return cells;
}

/** The points of z within the shape, in the order Redis finds them; with a limit (ANY), stops
 *  once that many are found. */
function geoSearch(z: RZSet, s: GeoShape, limit: number): GeoPoint[] {
  const found: GeoPoint[] = [];
  const cells = geoSearchCells(s);
  let last = 0;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    if (!cell) continue;
    // Over thousands of km neighbours coincide; Redis skips one equal to the last searched (and
    // never counts the centre as that).
    const prev = cells[last];
    if (last && prev && prev.lat === cell.lat && prev.lon === cell.lon) continue;
    if (limit && found.length >= limit) break;
    // The cell's scores: its hash followed by zeros, up to the next hash (excluded).
    const bits = geoCellBits(cell), shift = 2 ** (2 * (GEO_STEP - cell.step));
    geoSearchScores(z, s, bits * shift, (bits + 1) * shift, found, limit);
    last = i;
  }
  return found;
}

/** Adds the members scored min <= score < max that are within the shape (geoGetPointsInRange). */
function geoSearchScores(z: RZSet, s: GeoShape, min: number, max: number, found: GeoPoint[], limit: number): void {
  const zsl = z.zsl;
  for (let n = zsl.firstInRange((score) => score >= min, (score) => score < max); n; n = zsl.next(n)) {
    const score = zsl.score(n);
    if (!(score < max)) break;
    geoDecodeScore(score);
    const dist = geoDistanceIfWithin(s, geoLon, geoLat);
    if (dist !== null) found.push({ member: zsl.member(n), score, lon: geoLon, lat: geoLat, dist });
    if (limit && found.length >= limit) break;
  }
}

/** The distance from the shape's centre to (lon, lat) in meters, or null when outside the
 *  shape. A box is tested on the latitude first, then on the longitude at the point's latitude. */
function geoDistanceIfWithin(s: GeoShape, lon: number, lat: number): number | null {
  if (s.box) {
    if (geoLatDistance(lat, s.lat) > (s.height * s.perUnit) / 2) return null;
    if (geoDistance(lon, lat, s.lon, lat) > (s.width * s.perUnit) / 2) return null;
    return geoDistanceFromCentre(s, lon, lat);
  }
  // A great-circle distance is never shorter than the latitudes' difference along a meridian:
  // points clearly beyond it in latitude alone skip the trigonometry (the margin covers rounding,
  // so no point Redis would take is left out).
  const limit = s.radius * s.perUnit;
  if (geoLatDistance(lat, s.lat) > limit * (1 + 1e-9) + 1e-6) return null;
  const dist = geoDistanceFromCentre(s, lon, lat);
  return dist > limit ? null : dist;
}

// The centre's terms of geoDistance, computed once per search rather than once per member.
let geoCentre: GeoShape | null = null, geoCentreLonR = 0, geoCentreLatR = 0, geoCentreCos = 0;

/** geoDistance(s.lon, s.lat, lon, lat), to the bit, with the centre's radians and cosine kept. */
function geoDistanceFromCentre(s: GeoShape, lon: number, lat: number): number {
  if (geoCentre !== s) {
    geoCentre = s;
    geoCentreLonR = s.lon * DEG_TO_RAD;
    geoCentreLatR = s.lat * DEG_TO_RAD;
    geoCentreCos = Math.cos(geoCentreLatR);
  }
  const v = Math.sin((lon * DEG_TO_RAD - geoCentreLonR) / 2);
  if (v === 0) return geoLatDistance(s.lat, lat);
  const lat2r = lat * DEG_TO_RAD;
  const u = Math.sin((lat2r - geoCentreLatR) / 2);
  const a = u * u + geoCentreCos * Math.cos(lat2r) * v * v;
  return 2 * EARTH_RADIUS_IN_METERS * Math.asin(Math.sqrt(a));
}

/** A double argument, or null after replying `error` (getDoubleFromObjectOrReply). */
function geoDoubleOrReply(c: Client, arg: string, error: string): number | null {
  const d = string2d(arg);
  if (d === null || Number.isNaN(d)) addReplyError(c, error);
  return d === null || Number.isNaN(d) ? null : d;
}

/** C's %f of a double: six decimals, "inf", and "-0.000000" for negative zero. */
function formatDoubleF6(d: number): string {
  if (!Number.isFinite(d)) return d < 0 ? "-inf" : "inf";
  if (Math.abs(d) >= 1e21) return BigInt(d).toString() + ".000000";
  return (Object.is(d, -0) ? "-" : "") + d.toFixed(6);
}

/** Reads "longitude latitude" at argv[i] into [lon, lat], or replies Redis's error. */
function geoLonLatOrReply(c: Client, i: number): [number, number] | null {
  const lon = geoDoubleOrReply(c, c.argv[i], E.notFloat);
  if (lon === null) return null;
  const lat = geoDoubleOrReply(c, c.argv[i + 1], E.notFloat);
  if (lat === null) return null;
  if (lon < GEO_LONG_MIN || lon > GEO_LONG_MAX || lat < GEO_LAT_MIN || lat > GEO_LAT_MAX) {
    addReplyError(c, `ERR invalid longitude,latitude pair ${formatDoubleF6(lon)},${formatDoubleF6(lat)}`);
    return null;
  }
  return [lon, lat];
}

/** Reads "radius unit" at argv[i] into the shape, or replies Redis's error. */
function geoRadiusOrReply(c: Client, i: number, s: GeoShape): boolean {
  const radius = geoDoubleOrReply(c, c.argv[i], "ERR need numeric radius");
  if (radius === null) return false;
  if (radius < 0) { addReplyError(c, "ERR radius cannot be negative"); return false; }
  const perUnit = geoUnitOrReply(c, c.argv[i + 1]);
  if (perUnit === undefined) return false;
  Object.assign(s, { box: false, radius, perUnit });
  return true;
}

/** Reads "width height unit" at argv[i] into the shape, or replies Redis's error. */
function geoBoxOrReply(c: Client, i: number, s: GeoShape): boolean {
  const width = geoDoubleOrReply(c, c.argv[i], "ERR need numeric width");
  if (width === null) return false;
  const height = geoDoubleOrReply(c, c.argv[i + 1], "ERR need numeric height");
  if (height === null) return false;
  if (height < 0 || width < 0) { addReplyError(c, "ERR height or width cannot be negative"); return false; }
  const perUnit = geoUnitOrReply(c, c.argv[i + 2]);
  if (perUnit === undefined) return false;
  Object.assign(s, { box: true, width, height, perUnit });
  return true;
}

/** Sets the shape's centre to a member's position, or replies Redis's error. */
function geoCentreFromMemberOrReply(c: Client, z: RZSet, member: string, s: GeoShape): boolean {
  const xy = geoMemberPosition(z, member);
  if (!xy) { addReplyError(c, "ERR could not decode requested zset member"); return false; }
  [s.lon, s.lat] = xy;
  return true;
}

/** How georadiusGeneric is called: around coordinates or a member (GEORADIUS*), without STORE
 *  (the _RO forms), or with GEOSEARCH's arguments. */
const GEO_FROM_COORDS = 1, GEO_FROM_MEMBER = 2, GEO_NO_STORE = 4, GEO_SEARCH = 8, GEO_SEARCH_STORE = 16;

/** Every search command: the source key at argv[srcIdx]. Options are read in Redis's order, so
 *  the first bad one is the one reported. */
function georadiusGeneric(c: Client, srcIdx: number, flags: number): void {
  const argv = c.argv, db = cdb(c);
  const z = lookupKeyRead(db, argv[srcIdx]);
  if (checkType(c, z, "zset")) return;
  const shape: GeoShape = { lon: 0, lat: 0, box: false, radius: 0, width: 0, height: 0, perUnit: 1 };
  let storeKey: string | null = null, storeDist = false, base: number;
  if (flags & GEO_FROM_COORDS) {
    base = 6;
    const xy = geoLonLatOrReply(c, 2);
    if (!xy || !geoRadiusOrReply(c, 4, shape)) return;
    [shape.lon, shape.lat] = xy;
  } else if (flags & GEO_FROM_MEMBER) {
    base = 5;
    // Without the key there is no member to find, but the options still decide the reply.
    if (z && (!geoCentreFromMemberOrReply(c, z, argv[2], shape) || !geoRadiusOrReply(c, 3, shape))) return;
  } else {
    base = flags & GEO_SEARCH_STORE ? 3 : 2;
    if (flags & GEO_SEARCH_STORE) storeKey = argv[1];
  }
  const search = (flags & GEO_SEARCH) !== 0, canStore = !(flags & GEO_NO_STORE) && !search;
  let withDist = false, withHash = false, withCoord = false, any = false, count = 0;
  let fromMember = false, fromLonLat = false, byRadius = false, byBox = false;
  let order: "asc" | "desc" | null = null;
  for (let i = base; i < argv.length; i++) {
    const arg = argv[i].toLowerCase(), left = argv.length - i - 1;
    if (arg === "withdist") withDist = true;
    else if (arg === "withhash") withHash = true;
    else if (arg === "withcoord") withCoord = true;
    else if (arg === "any") any = true;
    else if (arg === "asc" || arg === "desc") order = arg;
    else if (arg === "count" && left >= 1) {
      const n = string2ll(argv[++i]);
      if (n === null) return addReplyError(c, E.notInt);
      if (n <= 0) return addReplyError(c, "ERR COUNT must be > 0");
      count = n;
    } else if ((arg === "store" || arg === "storedist") && left >= 1 && canStore) {
      storeKey = argv[++i];
      storeDist = arg === "storedist";
    } else if (arg === "storedist" && flags & GEO_SEARCH_STORE) storeDist = true;
    else if (arg === "frommember" && left >= 1 && search && !fromLonLat) {
      if (z && !geoCentreFromMemberOrReply(c, z, argv[i + 1], shape)) return;
      fromMember = true;
      i++;
    } else if (arg === "fromlonlat" && left >= 2 && search && !fromMember) {
      const xy = geoLonLatOrReply(c, i + 1);
      if (!xy) return;
      [shape.lon, shape.lat] = xy;
      fromLonLat = true;
      i += 2;
    } else if (arg === "byradius" && left >= 2 && search && !byBox) {
      if (!geoRadiusOrReply(c, i + 1, shape)) return;
      byRadius = true;
      i += 2;
    } else if (arg === "bybox" && left >= 3 && search && !byRadius) {
      if (!geoBoxOrReply(c, i + 1, shape)) return;
      byBox = true;
      i += 3;
    } else return addReplyError(c, E.syntax);
  }
  if (storeKey !== null && (withDist || withHash || withCoord)) {
    const what = flags & GEO_SEARCH_STORE ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS";
    return addReplyError(c, `ERR ${what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options`);
  }
  if (search && !fromMember && !fromLonLat) return addReplyError(c, `ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${argv[0]}`);
  if (search && !byRadius && !byBox) return addReplyError(c, `ERR exactly one of BYRADIUS and BYBOX can be specified for ${argv[0]}`);
  if (any && !count) return addReplyError(c, "ERR the ANY argument requires COUNT argument");

  if (!z) {
    if (storeKey === null) return addReplyArrayLen(c, 0);
    if (dbDelete(db, storeKey)) {
      keyModified(db, storeKey, NOTIFY_GENERIC, "del");
      server.dirty++;
    }
    return addReplyLongLong(c, 0);
  }
  // COUNT means the nearest ones, unless ANY says any will do.
  if (count && !order && !any) order = "asc";
  const found = geoSearch(z, shape, any ? count : 0);
  if (!found.length && storeKey === null) return addReplyArrayLen(c, 0);
  const returned = count && count < found.length ? count : found.length;
  if (order) {
    // Redis's comparison (1, 0 or -1 on the distances) and its sorts: qsort, which is glibc's
    // stable merge sort, for all of them; pqsort when only the first `count` are wanted.
    const cmp = (a: GeoPoint, b: GeoPoint) => (a.dist > b.dist ? 1 : a.dist === b.dist ? 0 : -1) * (order === "asc" ? 1 : -1);
    if (returned === found.length) found.sort(cmp);
    else partialQuicksort(found, cmp, 0, returned - 1);
  }

  if (storeKey === null) {
    const extras = +withDist + +withHash + +withCoord;
    addReplyArrayLen(c, returned);
    for (let i = 0; i < returned; i++) {
      const p = found[i];
      if (extras) addReplyArrayLen(c, extras + 1);
      addReplyBulk(c, p.member);
      if (withDist) addReplyBulk(c, geoFormatDistance(p.dist / shape.perUnit));
      if (withHash) addReplyLongLong(c, Math.trunc(p.score));
      if (withCoord) {
        addReplyArrayLen(c, 2);
        addReplyHumanDouble(c, p.lon);
        addReplyHumanDouble(c, p.lat);
      }
    }
    return;
  }
  if (returned) {
    let maxLen = 0;
    for (let i = 0; i < returned; i++) maxLen = Math.max(maxLen, found[i].member.length);
    const result = new RZSet(returned, maxLen);
    for (let i = 0; i < returned; i++) result.set(found[i].member, storeDist ? found[i].dist / shape.perUnit : found[i].score);
    setKey(db, storeKey, result);
    signalKeyAsReady(db, storeKey);
    keyModified(db, storeKey, NOTIFY_ZSET, search ? "geosearchstore" : "georadiusstore");
    server.dirty += returned;
  } else if (dbDelete(db, storeKey)) {
    keyModified(db, storeKey, NOTIFY_GENERIC, "del");
    server.dirty++;
  }
  addReplyLongLong(c, returned);
}

/* GEORADIUS key longitude latitude radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH]
 *   [COUNT count [ANY]] [ASC|DESC] [STORE key | STOREDIST key] */
function georadiusCommand(c: Client): void { georadiusGeneric(c, 1, GEO_FROM_COORDS); }
/* GEORADIUS_RO key longitude latitude radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC] */
function georadiusRoCommand(c: Client): void { georadiusGeneric(c, 1, GEO_FROM_COORDS | GEO_NO_STORE); }
/* GEORADIUSBYMEMBER key member radius M|KM|FT|MI [options as GEORADIUS] */
function georadiusbymemberCommand(c: Client): void { georadiusGeneric(c, 1, GEO_FROM_MEMBER); }
/* GEORADIUSBYMEMBER_RO key member radius M|KM|FT|MI [options as GEORADIUS_RO] */
function georadiusbymemberRoCommand(c: Client): void { georadiusGeneric(c, 1, GEO_FROM_MEMBER | GEO_NO_STORE); }
/* GEOSEARCH key FROMMEMBER member | FROMLONLAT longitude latitude
 *   BYRADIUS radius M|KM|FT|MI | BYBOX width height M|KM|FT|MI [ASC|DESC] [COUNT count [ANY]]
 *   [WITHCOORD] [WITHDIST] [WITHHASH] */
function geosearchCommand(c: Client): void { georadiusGeneric(c, 1, GEO_SEARCH); }
/* GEOSEARCHSTORE destination source FROMMEMBER ... | FROMLONLAT ... BYRADIUS ... | BYBOX ...
 *   [ASC|DESC] [COUNT count [ANY]] [STOREDIST] */
function geosearchstoreCommand(c: Client): void { georadiusGeneric(c, 2, GEO_SEARCH | GEO_SEARCH_STORE); }

/** This chapter's rows of the command table (see Dispatch). */
const GEO_COMMANDS: CommandRows[] = [
  { group: "geo", specs: [
    ["geoadd", -5, "write denyoom", 1, 1, 1, "geo", geoaddCommand],
    ["geopos", -2, "readonly", 1, 1, 1, "geo", geoposCommand],
    ["geodist", -4, "readonly", 1, 1, 1, "geo", geodistCommand],
    ["geohash", -2, "readonly", 1, 1, 1, "geo", geohashCommand],
    ["georadius", -6, "write denyoom movablekeys", 1, 1, 1, "geo", georadiusCommand],
    ["georadius_ro", -6, "readonly", 1, 1, 1, "geo", georadiusRoCommand],
    ["georadiusbymember", -5, "write denyoom movablekeys", 1, 1, 1, "geo", georadiusbymemberCommand],
    ["georadiusbymember_ro", -5, "readonly", 1, 1, 1, "geo", georadiusbymemberRoCommand],
    ["geosearch", -7, "readonly", 1, 1, 1, "geo", geosearchCommand],
    ["geosearchstore", -8, "write denyoom", 1, 2, 1, "geo", geosearchstoreCommand],
  ] },
];

// ============================================================================================
// HyperLogLog
//
// PFADD, PFCOUNT, PFMERGE and their debugging commands, on strings holding Redis's sketches
// (their bytes and algorithms are in Part III, HyperLogLog sketches). A sketch is a plain
// string to every other command: GET, SETRANGE, DUMP, the RDB and AOF see its bytes. The
// commands change it in place as an RBytes; one held as a JS string (from SET, RESTORE or a
// load) becomes an RBytes the first time one of them touches it, as Redis unshares it.
// ============================================================================================

const E_HLL_INVALID = "INVALIDOBJ Corrupted HLL object detected";

/** Whether v (already looked up) is a sketch; replies WRONGTYPE otherwise. */
function hllCheckOrReply(c: Client, v: RValue): v is RString {
  if (checkType(c, v, "string")) return false;
  if (hllIsValid(v as RString)) return true;
  addReplyError(c, "WRONGTYPE Key is not a valid HyperLogLog string value.");
  return false;
}

/** The sketch at key as bytes to change in place (dbUnshareStringValue). */
function hllForWrite(db: Db, key: string, v: RString): RBytes {
  if (v instanceof RBytes) return v;
  const b = RBytes.from(v, v.length);
  dbOverwrite(db, key, b);
  keyMemoryChanged(db, key);
  return b;
}

/* PFADD key [element ...] */
function pfaddCommand(c: Client): void {
  const db = cdb(c), key = c.argv[1];
  const v = lookupKeyWrite(db, key);
  let b: RBytes, updated = 0;
  if (v === undefined) {
    b = hllCreate();
    dbAdd(db, key, b);
    updated++;
  } else {
    if (!hllCheckOrReply(c, v)) return;
    b = hllForWrite(db, key, v);
  }
  for (let j = 2; j < c.argv.length; j++) {
    const r = hllAdd(b, c.argv[j]);
    if (r === 1) updated++;
    else if (r < 0) {
      keyMemoryChanged(db, key);
      return addReplyError(c, E_HLL_INVALID);
    }
  }
  if (updated) {
    b.buf[15] |= 0x80; // the cached cardinality is stale
    keyModified(db, key, NOTIFY_STRING, "pfadd");
    server.dirty += updated;
  }
  addReplyLongLong(c, updated ? 1 : 0);
}

/* PFCOUNT key [key ...]: one key's estimate, cached in its header; several keys' union. */
function pfcountCommand(c: Client): void {
  const db = cdb(c);
  if (c.argv.length > 2) {
    const max = new Uint8Array(HLL_REGISTERS);
    for (let j = 1; j < c.argv.length; j++) {
      const v = lookupKeyRead(db, c.argv[j]);
      if (v === undefined) continue; // an empty sketch
      if (!hllCheckOrReply(c, v)) return;
      if (!hllMerge(max, hllBytesOf(v))) return addReplyError(c, E_HLL_INVALID);
    }
    return hllReplyCount(c, hllCount(null, max));
  }
  const key = c.argv[1];
  const v = lookupKeyRead(db, key);
  if (v === undefined) return addReplyLongLong(c, 0);
  if (!hllCheckOrReply(c, v)) return;
  const b = hllForWrite(db, key, v);
  const buf = b.buf;
  if (!(buf[15] & 0x80)) {
    const hi = buf.readUInt32LE(12);
    return addReplyLongLong(c, hi < 0x200000 ? hi * 4294967296 + buf.readUInt32LE(8) : buf.readBigUInt64LE(8));
  }
  const card = hllCount(buf.subarray(0, b.len));
  if (card < 0) return addReplyError(c, E_HLL_INVALID);
  // Caching changes the value: a write, propagated as the PFCOUNT itself (as Redis does).
  if (saveJob) saveBeforeChange(db, key);
  buf.writeBigUInt64LE(BigInt(card), 8);
  signalModifiedKey(db, key);
  server.dirty++;
  hllReplyCount(c, card);
}

/** An estimate as Redis replies it: a uint64 sent as a long long. */
function hllReplyCount(c: Client, card: number): void {
  addReplyLongLong(c, card < 2 ** 53 ? card : BigInt.asIntN(64, BigInt(card)));
}

/* PFMERGE destkey [sourcekey ...] */
function pfmergeCommand(c: Client): void {
  const db = cdb(c), argv = c.argv;
  const max = new Uint8Array(HLL_REGISTERS);
  let useDense = false;
  for (let j = 1; j < argv.length; j++) {
    const v = lookupKeyRead(db, argv[j]);
    if (v === undefined) continue;
    if (!hllCheckOrReply(c, v)) return;
    const bytes = hllBytesOf(v);
    if (bytes[4] === HLL_DENSE) useDense = true; // then the result is dense from the start
    if (!hllMerge(max, bytes)) return addReplyError(c, E_HLL_INVALID);
  }
  const key = argv[1];
  const v = lookupKeyWrite(db, key) as RString | undefined; // checked above, as a source
  let b: RBytes;
  if (v === undefined) {
    b = hllCreate();
    dbAdd(db, key, b);
  } else b = hllForWrite(db, key, v);
  if (useDense && !hllSparseToDense(b)) return addReplyError(c, E_HLL_INVALID);
  for (let i = 0; i < HLL_REGISTERS; i++) {
    if (max[i] === 0) continue;
    if (b.buf[4] === HLL_DENSE) hllDenseSet(b.buf, i, max[i]);
    else hllSparseSet(b, i, max[i]);
  }
  b.buf[15] |= 0x80;
  // Redis emits pfadd for a merge: in effect, many elements added.
  keyModified(db, key, NOTIFY_STRING, "pfadd");
  server.dirty++;
  addReplyOK(c);
}

/* PFDEBUG GETREG|DECODE|ENCODING|TODENSE key */
function pfdebugCommand(c: Client): void {
  const db = cdb(c), sub = c.argv[1], key = c.argv[2];
  const v = lookupKeyWrite(db, key);
  if (v === undefined) return addReplyError(c, "ERR The specified key does not exist");
  if (!hllCheckOrReply(c, v)) return;
  const b = hllForWrite(db, key, v);
  switch (sub.toLowerCase()) {
    case "getreg": {
      if (b.buf[4] === HLL_SPARSE) {
        if (!hllSparseToDense(b)) return addReplyError(c, E_HLL_INVALID);
        keyMemoryChanged(db, key);
        server.dirty++; // the encoding changed: replicas must convert too
      }
      addReplyArrayLen(c, HLL_REGISTERS);
      for (let i = 0; i < HLL_REGISTERS; i++) addReplyLongLong(c, hllDenseGet(b.buf, i));
      return;
    }
    case "decode": {
      if (b.buf[4] !== HLL_SPARSE) return addReplyError(c, "ERR HLL encoding is not sparse");
      const ops: string[] = [];
      for (let p = HLL_HDR_SIZE; p < b.len;) {
        const op = b.buf[p];
        if ((op & 0xc0) === 0) { ops.push(`z:${(op & 0x3f) + 1}`); p++; }
        else if ((op & 0xc0) === 0x40) { ops.push(`Z:${(((op & 0x3f) << 8) | (p + 1 < b.len ? b.buf[p + 1] : 0)) + 1}`); p += 2; }
        else { ops.push(`v:${((op >> 2) & 0x1f) + 1},${(op & 3) + 1}`); p++; }
      }
      return addReplyBulk(c, ops.join(" "));
    }
    case "encoding":
      return addReplyStatus(c, b.buf[4] === HLL_DENSE ? "dense" : "sparse");
    case "todense": {
      if (b.buf[4] !== HLL_SPARSE) return addReplyLongLong(c, 0);
      if (!hllSparseToDense(b)) return addReplyError(c, E_HLL_INVALID);
      keyMemoryChanged(db, key);
      server.dirty++;
      return addReplyLongLong(c, 1);
    }
    default:
      addReplyError(c, `ERR Unknown PFDEBUG subcommand '${sub}'`);
  }
}

/* PFSELFTEST: checks the dense registers' bit packing, then that dense and sparse sketches fed
 * the same 10 million elements agree, and their estimates stay within 6 standard errors. */
function pfselftestCommand(c: Client): void {
  const dense = Buffer.alloc(HLL_DENSE_SIZE), expected = new Uint8Array(HLL_REGISTERS);
  for (let cycle = 0; cycle < 1000; cycle++) {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      expected[i] = (random() * 64) | 0;
      hllDenseSetRegister(dense, i, expected[i]);
    }
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const got = hllDenseGet(dense, i);
      if (got !== expected[i]) return addReplyError(c, `TESTFAILED Register ${i} should be ${expected[i]} but is ${got}`);
    }
  }
  dense.fill(0, HLL_HDR_SIZE);
  const sparse = hllCreate();
  const relerr = 1.04 / Math.sqrt(HLL_REGISTERS);
  const seedLo = (random() * 2 ** 32) >>> 0, seedHi = (random() * 2 ** 32) >>> 0;
  const byte = (x: number, k: number) => (x >>> (8 * k)) & 0xff;
  let checkpoint = 1;
  for (let j = 1; j <= 10000000; j++) {
    // The element: j ^ seed as 8 bytes, little endian.
    const lo = (j ^ seedLo) >>> 0;
    const ele = String.fromCharCode(byte(lo, 0), byte(lo, 1), byte(lo, 2), byte(lo, 3), byte(seedHi, 0), byte(seedHi, 1), byte(seedHi, 2), byte(seedHi, 3));
    const count = hllPatLen(ele); // Redis hashes twice; once gives the same register and value
    hllDenseSet(dense, hllIndex, count);
    if (sparse.buf[4] === HLL_DENSE) hllDenseSet(sparse.buf, hllIndex, count);
    else hllSparseSet(sparse, hllIndex, count);
    if (j !== checkpoint) continue;
    if (j < hot.hllSparseMaxBytes / 2 && sparse.buf[4] !== HLL_SPARSE) return addReplyError(c, "TESTFAILED sparse encoding not used");
    const card = hllCount(dense);
    if (card !== hllCount(sparse.buf.subarray(0, sparse.len))) return addReplyError(c, "TESTFAILED dense/sparse disagree");
    const abserr = Math.abs(checkpoint - card), maxerr = j === 10 ? 1 : Math.ceil(relerr * 6 * checkpoint);
    if (abserr > maxerr) return addReplyError(c, `TESTFAILED Too big error. card:${checkpoint} abserr:${abserr}`);
    checkpoint *= 10;
  }
  addReplyOK(c);
}

/** This chapter's rows of the command table (see Dispatch). */
const HLL_COMMANDS: CommandRows[] = [
  { group: "hyperloglog", specs: [
    ["pfadd", -2, "write denyoom fast", 1, 1, 1, "hyperloglog", pfaddCommand],
    ["pfcount", -2, "readonly may_replicate", 1, -1, 1, "hyperloglog", pfcountCommand],
    ["pfmerge", -2, "write denyoom", 1, -1, 1, "hyperloglog", pfmergeCommand],
    ["pfdebug", 3, "write denyoom admin", 2, 2, 1, "hyperloglog", pfdebugCommand],
    ["pfselftest", 1, "admin", 0, 0, 0, "hyperloglog", pfselftestCommand],
  ] },
];

// ============================================================================================
// Streams
//
// A stream (RStream) is a sequence of nodes, each holding up to stream-node-max-entries entries
// (or about stream-node-max-bytes) as Redis's listpack nodes do: appending is O(1), a range read
// seeks by binary search over nodes then within one, and trimming drops whole nodes from the head
// (the "~" trims of Redis remove exactly the same nodes). XREAD and XREADGROUP block through the
// Blocking chapter (serveClientBlockedOnStream); the RDB and AOF forms end the chapter.
// ============================================================================================

// An entry keeps its fields and values in one flat array. IDs are two unsigned 64-bit numbers,
// held as BigInts. Consumer groups keep the last delivered ID, the pending entries list (ID ->
// consumer, delivery time and count) and their consumers, exactly enough for XPENDING, XCLAIM and
// XAUTOCLAIM to answer as Redis does.

const U64_MAX = 18446744073709551615n;
const MAX_SAFE_BIG = 9007199254740991n; // Number.MAX_SAFE_INTEGER as a BigInt

interface SID { ms: bigint; seq: bigint }
/** An entry as the commands see it: its ID and its fields and values, copied out of its node. */
interface StreamEntry { ms: bigint; seq: bigint; fields: string[] }
interface StreamNack { id: SID; consumer: StreamConsumer; deliveryTime: number; deliveryCount: number }
interface StreamConsumer { name: string; seenTime: number; pel: PelMap }
interface StreamGroup { name: string; lastId: SID; entriesRead: bigint; pel: PelMap; consumers: Map<string, StreamConsumer> }

const SCG_INVALID_ENTRIES_READ = -1n; // entries_read and entries_added are bigints: long longs in Redis

function sidCmp(a: SID, b: SID): number { return a.ms < b.ms ? -1 : a.ms > b.ms ? 1 : a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0; }
/** "ms-seq". Consecutive IDs usually share their millisecond: its digits are kept. */
let sidMsCache: [bigint, string] = [-1n, ""];
function sidStr(id: SID): string {
  if (id.ms !== sidMsCache[0]) sidMsCache = [id.ms, `${id.ms}-`];
  const seq = id.seq; // a double prints faster than a BigInt, and nearly every seq is one exactly
  return sidMsCache[1] + (seq <= MAX_SAFE_BIG ? String(Number(seq)) : String(seq));
}

/** A pending entries list (Redis's rax of NACKs): a Map by ID string that also keeps its
 *  entries in ID order, so XPENDING, XAUTOCLAIM and history reads start with a binary search
 *  instead of sorting the whole list. Deliveries arrive in ID order and append; anything else
 *  marks the order stale until the next ordered read. */
class PelMap extends Map<string, StreamNack> {
  private order: StreamNack[] = [];
  private stale = false;
  override set(key: string, nack: StreamNack): this {
    if (!this.stale) {
      const order = this.order;
      if (super.has(key)) order[this.lowerBound(nack.id)] = nack;
      else if (!order.length || sidCmp(order[order.length - 1].id, nack.id) < 0) order.push(nack);
      else this.stale = true;
    }
    return super.set(key, nack);
  }
  override delete(key: string): boolean {
    const nack = super.get(key);
    if (!nack) return false;
    if (!this.stale) this.order.splice(this.lowerBound(nack.id), 1);
    return super.delete(key);
  }
  /** The entries in ID order; the array is shared, so copy a window before changing the PEL. */
  sorted(): StreamNack[] {
    if (this.stale) { this.order = [...super.values()].sort((a, b) => sidCmp(a.id, b.id)); this.stale = false; }
    return this.order;
  }
  /** Index in sorted() of the first entry with an ID >= `id`. */
  lowerBound(id: SID): number {
    const order = this.sorted();
    let lo = 0, hi = order.length;
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (sidCmp(order[mid].id, id) < 0) lo = mid + 1; else hi = mid; }
    return lo;
  }
}
const SID_MIN: SID = { ms: 0n, seq: 0n };
const SID_MAX: SID = { ms: U64_MAX, seq: U64_MAX };
function sidIsZero(id: SID): boolean { return id.ms === 0n && id.seq === 0n; }

/** A node: the entries of one of Redis's listpacks, in flat arrays rather than an object and an
 *  array per entry (a million entries were two million objects for the collector to mark).
 *  Entry k has the ID (ms[k], seq[k]) and its fields and values in items[at[k] .. at[k + 1]).
 *  Deleted entries stay, flagged, until their node goes, as in the listpack. */
class StreamNode {
  ms: bigint[] = [];
  seq: bigint[] = [];
  deleted: boolean[] = [];
  at: number[] = [0];
  items: string[] = [];
  live = 0;
  constructor(public bytes: number) {}
  get count(): number { return this.ms.length; }
  /** Entry k's ID compared with id. */
  cmp(k: number, id: SID): number {
    const ms = this.ms[k], seq = this.seq[k];
    return ms < id.ms ? -1 : ms > id.ms ? 1 : seq < id.seq ? -1 : seq > id.seq ? 1 : 0;
  }
  entry(k: number): StreamEntry { return { ms: this.ms[k], seq: this.seq[k], fields: this.items.slice(this.at[k], this.at[k + 1]) }; }
  liveEntries(): StreamEntry[] {
    const out: StreamEntry[] = [];
    for (let k = 0; k < this.count; k++) if (!this.deleted[k]) out.push(this.entry(k));
    return out;
  }
  /** The index of the live entry with this ID, or -1. */
  indexOf(id: SID): number {
    for (let k = 0; k < this.count; k++) if (!this.deleted[k] && this.cmp(k, id) === 0) return k;
    return -1;
  }
  /** The bytes of entry k's fields and values, with the per-item overheads of used_memory. */
  entryBytes(k: number): number {
    let n = MEM_STREAM_ENTRY;
    for (let i = this.at[k]; i < this.at[k + 1]; i++) n += this.items[i].length + 24;
    return n;
  }
  /** Appends an entry from argv[from ..] (field, value, ...) and returns its size in the listpack:
   *  flags, ID deltas from the master entry (entry 0), the values (or the field count, fields and
   *  values when the names differ from the master's), element count. Names equal to the master's
   *  are stored as the master's strings, as the listpack stores them once. */
  add(ms: bigint, seq: bigint, argv: string[], from: number): number {
    const k = this.count, n = (argv.length - from) / 2;
    let same = k === 0 || this.at[1] === 2 * n;
    for (let i = 0; k > 0 && same && i < n; i++) same = this.items[2 * i] === argv[from + 2 * i];
    this.ms.push(ms);
    this.seq.push(seq);
    this.deleted.push(false);
    for (let i = 0; i < n; i++) this.items.push(same && k > 0 ? this.items[2 * i] : argv[from + 2 * i], argv[from + 2 * i + 1]);
    this.at.push(this.items.length);
    const mMs = this.ms[0], mSeq = this.seq[0];
    const msDelta = ms === mMs ? 0 : BigInt.asIntN(64, ms - mMs);
    const seqDelta = seq <= MAX_SAFE_BIG && mSeq <= MAX_SAFE_BIG ? Number(seq) - Number(mSeq) : BigInt.asIntN(64, seq - mSeq);
    let size = lpElementSize(same ? 2 : 0) + lpElementSize(msDelta) + lpElementSize(seqDelta) + lpElementSize(same ? n + 3 : 2 * n + 4);
    if (!same) size += lpElementSize(n);
    for (let i = same ? 1 : 0; i < 2 * n; i += same ? 2 : 1) size += lpElementSize(argv[from + i]);
    return size;
  }
}

class RStream {
  readonly type = "stream";
  nodes: StreamNode[] = [];
  head = 0; // nodes before this index were trimmed away
  length = 0;
  lastId: SID = SID_MIN;
  firstId: SID = SID_MIN;
  maxDeletedId: SID = SID_MIN;
  entriesAdded = 0n;
  groups = new Map<string, StreamGroup>();
  bytes = 0;

  get size(): number { return this.length; }
  liveNodes(): StreamNode[] { return this.nodes.slice(this.head); }

  /** Appends an entry whose ID (ms-seq) is greater than lastId, with the fields and values in
   *  argv[from ..], opening a new node as Redis would (or when `newNode`: an RDB file's nodes are
   *  kept as they were). Returns its ID, the new lastId. */
  append(ms: bigint, seq: bigint, argv: string[], from: number, newNode = false): SID {
    let node = this.nodes[this.nodes.length - 1];
    let bytes = 0;
    for (let i = from; i < argv.length; i++) bytes += argv[i].length;
    const maxEntries = hot.streamNodeMaxEntries;
    const maxBytes = hot.streamNodeMaxBytes || 1 << 30;
    if (newNode || !node || this.nodes.length === this.head || node.bytes + bytes >= maxBytes || (maxEntries && node.count >= maxEntries)) {
      // A node's listpack opens with a master entry: count, deleted, the first entry's field names, 0.
      node = new StreamNode(7 + lpElementSize(1) + lpElementSize(0) * 2 + lpElementSize((argv.length - from) / 2));
      for (let i = from; i < argv.length; i += 2) node.bytes += lpElementSize(argv[i]);
      this.nodes.push(node);
    } else node.bytes += lpElementSize(node.live + 1) - lpElementSize(node.live);
    node.bytes += node.add(ms, seq, argv, from);
    this.bytes += bytes + MEM_STREAM_ENTRY + (argv.length - from) * 24;
    node.live++;
    this.length++;
    this.entriesAdded++;
    const id = { ms, seq };
    this.lastId = id;
    if (this.length === 1) this.firstId = id;
    return id;
  }

  /** The first node index (>= head) whose last entry is >= id: where a forward range starts. */
  seekNode(id: SID): number {
    let lo = this.head, hi = this.nodes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const n = this.nodes[mid];
      if (n.cmp(n.count - 1, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Live entries between start and end inclusive, forward or backward, at most `count` (0 = all). */
  range(start: SID, end: SID, count: number, rev: boolean): StreamEntry[] {
    const out: StreamEntry[] = [];
    if (sidCmp(start, end) > 0) return out;
    if (!rev) {
      for (let ni = this.seekNode(start); ni < this.nodes.length; ni++) {
        const node = this.nodes[ni];
        for (let k = 0; k < node.count; k++) {
          if (node.deleted[k] || node.cmp(k, start) < 0) continue;
          if (node.cmp(k, end) > 0) return out;
          out.push(node.entry(k));
          if (count && out.length >= count) return out;
        }
      }
    } else {
      for (let ni = Math.min(this.seekNode(end), this.nodes.length - 1); ni >= this.head; ni--) {
        const node = this.nodes[ni];
        for (let k = node.count - 1; k >= 0; k--) {
          if (node.deleted[k] || node.cmp(k, end) > 0) continue;
          if (node.cmp(k, start) < 0) return out;
          out.push(node.entry(k));
          if (count && out.length >= count) return out;
        }
      }
    }
    return out;
  }

  /** The live entry with exactly this ID. */
  find(id: SID): StreamEntry | undefined {
    const node = this.nodes[this.seekNode(id)];
    const k = node ? node.indexOf(id) : -1;
    return k < 0 ? undefined : node.entry(k);
  }

  /** XDEL of one ID: marks it deleted, drops its node when empty. Returns false if absent. */
  delete(id: SID): boolean {
    const ni = this.seekNode(id);
    const node = this.nodes[ni];
    const k = node ? node.indexOf(id) : -1;
    if (k < 0) return false;
    node.deleted[k] = true;
    node.live--;
    this.length--;
    if (node.live === 0) this.nodes.splice(ni, 1);
    if (sidCmp(id, this.maxDeletedId) > 0) this.maxDeletedId = id;
    this.refreshFirstId();
    return true;
  }

  refreshFirstId(): void {
    const first = this.range(SID_MIN, SID_MAX, 1, false)[0];
    this.firstId = first ? { ms: first.ms, seq: first.seq } : SID_MIN;
  }

  /** Redis's streamTrim: whole nodes from the head, then (unless approximate) entries inside the
   *  next node. Returns how many entries went. */
  trim(strategy: "maxlen" | "minid", maxlen: number, minid: SID, approx: boolean, limit: number): number {
    let deleted = 0;
    while (this.head < this.nodes.length) {
      if (strategy === "maxlen" && this.length <= maxlen) break;
      const node = this.nodes[this.head];
      if (limit && deleted + node.live > limit) break;
      const removeNode = strategy === "maxlen" ? this.length - node.live >= maxlen : node.cmp(node.count - 1, minid) < 0;
      if (removeNode) {
        this.length -= node.live;
        deleted += node.live;
        for (let k = 0; k < node.count; k++) this.bytes -= node.entryBytes(k);
        this.head++;
        continue;
      }
      if (approx) break;
      for (let k = 0; k < node.count; k++) {
        if (strategy === "maxlen" ? this.length <= maxlen : node.cmp(k, minid) >= 0) break;
        if (node.deleted[k]) continue;
        node.deleted[k] = true;
        node.live--;
        this.length--;
        deleted++;
      }
      break;
    }
    // Drop trimmed nodes from the array once they are a good part of it (amortised O(1)).
    if (this.head > 32 && this.head * 2 > this.nodes.length) { this.nodes.splice(0, this.head); this.head = 0; }
    this.refreshFirstId();
    return deleted;
  }
}

/** Parses "ms-seq", "ms" (seq taken from `missingSeq`), "-" and "+". With `autoSeq`, "ms-*" is
 *  accepted and reported. Returns null when invalid. */
function parseStreamId(s: string, missingSeq: bigint, autoSeq = false): { id: SID; seqGiven: boolean } | null {
  if (s === "-") return { id: SID_MIN, seqGiven: true };
  if (s === "+") return { id: SID_MAX, seqGiven: true };
  if (s.length > 127) return null;
  const dash = s.indexOf("-");
  const u64 = string2ull;
  if (dash < 0) {
    const ms = u64(s);
    return ms === null ? null : { id: { ms, seq: missingSeq }, seqGiven: true };
  }
  const ms = u64(s.slice(0, dash));
  if (ms === null) return null;
  const rest = s.slice(dash + 1);
  if (autoSeq && rest === "*") return { id: { ms, seq: 0n }, seqGiven: false };
  const seq = u64(rest);
  return seq === null ? null : { id: { ms, seq }, seqGiven: true };
}

/** Redis's string2ull: a canonical integer, or else whatever strtoull(3) takes whole (leading
 *  spaces, a sign, leading zeros; "-n" wraps modulo 2^64). Null when out of range or invalid. */
function string2ull(x: string): bigint | null {
  if (/^(0|-?[1-9]\d{0,18})$/.test(x)) {
    const v = BigInt(x);
    if (v <= LLONG_MAX) return v < 0n ? null : v;
  }
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)$/.exec(x);
  if (!m) return null;
  const v = BigInt(m[2]);
  if (v > U64_MAX) return null;
  return m[1] === "-" ? (U64_MAX + 1n - v) & U64_MAX : v;
}

const E_STREAM_ID = "ERR Invalid stream ID specified as stream command argument";

/** An ID where a real one is required ("-" and "+" are refused, as streamParseStrictIDOrReply). */
function parseStrictStreamIdOrReply(c: Client, s: string): SID | undefined {
  if (s === "-" || s === "+") { addReplyError(c, E_STREAM_ID); return undefined; }
  return parseStreamIdOrReply(c, s, 0n);
}

function parseStreamIdOrReply(c: Client, s: string, missingSeq: bigint): SID | undefined {
  const r = parseStreamId(s, missingSeq);
  if (!r) { addReplyError(c, E_STREAM_ID); return undefined; }
  return r.id;
}

/** An XRANGE bound: an ID, "-"/"+", or an exclusive "(" ID (7.0), moved past itself. */
function parseIntervalIdOrReply(c: Client, s: string, missingSeq: bigint, isStart: boolean): SID | undefined {
  if (s[0] === "(" && s.length > 1) {
    const id = s === "(-" || s === "(+" ? parseStrictStreamIdOrReply(c, s.slice(1)) : parseStreamIdOrReply(c, s.slice(1), missingSeq);
    if (!id) return undefined;
    const next = isStart ? sidIncr(id) : sidDecr(id);
    if (!next) { addReplyError(c, `ERR invalid ${isStart ? "start" : "end"} ID for the interval`); return undefined; }
    return next;
  }
  return parseStreamIdOrReply(c, s, missingSeq);
}

/** The running command's millisecond clock as a BigInt, converted once per millisecond. */
let cmdTimeBigCache: [number, bigint] = [-1, 0n];
function cmdTimeBig(): bigint {
  if (cmdTimeBigCache[0] !== cmdTime) cmdTimeBigCache = [cmdTime, BigInt(cmdTime)];
  return cmdTimeBigCache[1];
}

/** seq + 1. Sequences below 4096 come from a table of shared BigInts: within a millisecond XADD
 *  counts up from 0, and a BigInt of its own would cost every entry ~40 bytes and an allocation. */
const SMALL_SEQS: bigint[] = Array.from({ length: 4096 }, (_, i) => BigInt(i));
function seqAfter(seq: bigint): bigint { return seq < 4095n ? SMALL_SEQS[Number(seq) + 1] : seq + 1n; }

function sidIncr(id: SID): SID | null {
  if (id.seq < U64_MAX) return { ms: id.ms, seq: id.seq + 1n };
  return id.ms < U64_MAX ? { ms: id.ms + 1n, seq: 0n } : null;
}
function sidDecr(id: SID): SID | null {
  if (id.seq > 0n) return { ms: id.ms, seq: id.seq - 1n };
  return id.ms > 0n ? { ms: id.ms - 1n, seq: U64_MAX } : null;
}

/** An ID as a bulk string, its sequence number written digit by digit when it is a double. */
function addReplyStreamId(c: Client, id: SID): void {
  if (id.seq > MAX_SAFE_BIG) return addReplyBulk(c, sidStr(id));
  if (id.ms !== sidMsCache[0]) sidMsCache = [id.ms, `${id.ms}-`];
  const prefix = sidMsCache[1], seq = Number(id.seq);
  const out = reserve(c, prefix.length + 48);
  let p = c.outLen;
  out[p++] = 36; // $
  p = writeDecimal(out, p, prefix.length + decimalDigits(seq));
  out[p++] = 13; out[p++] = 10;
  p = writeLatin1(out, prefix, p);
  p = writeDecimal(out, p, seq);
  out[p++] = 13; out[p++] = 10;
  c.outLen = p;
}

/** One entry as Redis replies it: [id, [field, value, ...]]. */
function addReplyStreamEntry(c: Client, e: StreamEntry): void {
  addReplyArrayLen(c, 2);
  addReplyStreamId(c, e);
  addReplyBulks(c, e.fields);
}

function streamLookupWriteOrCreate(c: Client, key: string, noCreate: boolean): RStream | null | undefined {
  const db = cdb(c);
  const v = lookupKeyWrite(db, key);
  if (checkType(c, v, "stream")) return undefined;
  if (v) return v;
  if (noCreate) return null;
  const s = new RStream();
  dbAdd(db, key, s);
  return s;
}

interface TrimArgs { strategy: "none" | "maxlen" | "minid"; maxlen: number; minid: SID; approx: boolean; limit: number; argIdx: number; id?: SID; seqGiven: boolean; idGiven: boolean; noMkstream: boolean; idPos: number }

/** XADD's and XTRIM's options (Redis's streamParseAddOrTrimArgsOrReply). */
function parseAddOrTrimArgs(c: Client, xadd: boolean): TrimArgs | undefined {
  const argv = c.argv;
  const a: TrimArgs = { strategy: "none", maxlen: 0, minid: SID_MIN, approx: false, limit: 0, argIdx: 0, seqGiven: false, idGiven: false, noMkstream: false, idPos: 0 };
  let limitGiven = false;
  let i = 2;
  for (; i < argv.length; i++) {
    const more = argv.length - 1 - i;
    const opt = argv[i], lopt = opt.toLowerCase();
    if (xadd && opt === "*") break;
    if ((lopt === "maxlen" || lopt === "minid") && more) {
      if (a.strategy !== "none") { addReplyError(c, "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"); return undefined; }
      a.approx = false;
      const next = argv[i + 1];
      if (more >= 2 && next === "~") { a.approx = true; i++; } else if (more >= 2 && next === "=") i++;
      if (lopt === "maxlen") {
        const n = parseIntOrReply(c, argv[i + 1]);
        if (n === undefined) return undefined;
        if (n < 0) { addReplyError(c, "ERR The MAXLEN argument must be >= 0."); return undefined; }
        a.maxlen = n;
      } else {
        const r = argv[i + 1] === "-" || argv[i + 1] === "+" ? null : parseStreamId(argv[i + 1], 0n);
        if (!r) { addReplyError(c, E_STREAM_ID); return undefined; }
        a.minid = r.id;
      }
      i++;
      a.strategy = lopt as "maxlen" | "minid";
      a.argIdx = i;
    } else if (lopt === "limit" && more) {
      const n = parseIntOrReply(c, argv[i + 1]);
      if (n === undefined) return undefined;
      if (n < 0) { addReplyError(c, "ERR The LIMIT argument must be >= 0."); return undefined; }
      a.limit = n;
      limitGiven = true;
      i++;
    } else if (xadd && lopt === "nomkstream") a.noMkstream = true;
    else if (xadd) {
      const r = parseStreamId(opt, 0n, true);
      if (!r || opt === "-" || opt === "+") { addReplyError(c, E_STREAM_ID); return undefined; }
      a.id = r.id;
      a.seqGiven = r.seqGiven;
      a.idGiven = true;
      break;
    } else { addReplyError(c, E.syntax); return undefined; }
  }
  a.idPos = i;
  if (a.limit && a.strategy === "none") { addReplyError(c, "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"); return undefined; }
  if (!xadd && a.strategy === "none") { addReplyError(c, "ERR syntax error, XTRIM must be called with a trimming strategy"); return undefined; }
  if (c.isMaster || c.isAof) a.limit = 0; // replicated trims were rewritten exactly
  else if (limitGiven) {
    if (!a.approx) { addReplyError(c, "ERR syntax error, LIMIT cannot be used without the special ~ option"); return undefined; }
  } else if (a.approx) {
    a.limit = 100 * hot.streamNodeMaxEntries;
    if (a.limit <= 0 || a.limit > 10000) a.limit = 10000;
  } else a.limit = 0;
  return a;
}

/** After an approximate trim, what to propagate: the exact effect, as Redis rewrites it. */
function streamRewriteTrim(c: Client, s: RStream, a: TrimArgs, argv: string[]): void {
  argv[a.argIdx - 1] = "=";
  argv[a.argIdx] = a.strategy === "maxlen" ? String(s.length) : s.length ? sidStr(s.firstId) : sidStr(SID_MAX);
}

/* XADD key [NOMKSTREAM] [<MAXLEN | MINID> [= | ~] threshold [LIMIT count]] <* | id> field value [field value ...] */
function xaddCommand(c: Client): void {
  const a = parseAddOrTrimArgs(c, true);
  if (!a) return;
  const fieldPos = a.idPos + 1;
  const nfields = c.argv.length - fieldPos;
  if (nfields < 2 || nfields % 2 === 1) return addReplyError(c, "ERR wrong number of arguments for 'xadd' command");
  if (a.idGiven && a.seqGiven && sidIsZero(a.id!)) return addReplyError(c, "ERR The ID specified in XADD must be greater than 0-0");
  const s = streamLookupWriteOrCreate(c, c.argv[1], a.noMkstream);
  if (s === undefined) return;
  if (s === null) return addReplyNull(c);
  if (s.lastId.ms === U64_MAX && s.lastId.seq === U64_MAX) return addReplyError(c, "ERR The stream has exhausted the last possible ID, unable to add more items");
  let ms: bigint, seq: bigint;
  const last = s.lastId;
  if (!a.idGiven) {
    ms = cmdTimeBig();
    if (ms > last.ms) seq = 0n;
    else if (last.seq < U64_MAX) { ms = last.ms; seq = seqAfter(last.seq); }
    else { ms = last.ms + 1n; seq = 0n; }
  } else {
    ms = a.id!.ms;
    // "ms-*": the next sequence within that millisecond.
    if (!a.seqGiven) {
      // Redis 7.0 fails this case without setting errno, so XADD reports the other error it knows.
      if (ms === last.ms && last.seq === U64_MAX) return addReplyError(c, "ERR Elements are too large to be stored");
      seq = ms === last.ms ? seqAfter(last.seq) : 0n;
    } else seq = a.id!.seq;
    if (ms < last.ms || (ms === last.ms && seq <= last.seq)) return addReplyError(c, "ERR The ID specified in XADD is equal or smaller than the target stream top item");
  }
  const id = s.append(ms, seq, c.argv, fieldPos);
  addReplyStreamId(c, id);
  const db = cdb(c), key = c.argv[1];
  keyModified(db, key, NOTIFY_STREAM, "xadd");
  server.dirty++;
  const prop = propagationWanted() ? c.argv.slice() : null;
  if (a.strategy !== "none") {
    if (s.trim(a.strategy, a.maxlen, a.minid, a.approx, a.limit) && server.notifyFlags) notifyKeyspaceEvent(NOTIFY_STREAM, "xtrim", key, db.id);
    if (a.approx && prop) streamRewriteTrim(c, s, a, prop);
  }
  if (prop) { prop[a.idPos] = sidStr(id); c.propArgv = prop; } // replicas and the AOF get the ID actually generated
  signalKeyAsReady(db, key);
}

/* XTRIM key <MAXLEN | MINID> [= | ~] threshold [LIMIT count] */
function xtrimCommand(c: Client): void {
  const db = cdb(c);
  const v = lookupKeyWrite(db, c.argv[1]);
  if (checkType(c, v, "stream")) return;
  const a = parseAddOrTrimArgs(c, false);
  if (!a) return;
  if (a.idPos < c.argv.length) return addReplyError(c, E.syntax);
  if (v === undefined) return addReplyLongLong(c, 0);
  const s = v;
  const deleted = s.trim(a.strategy as "maxlen" | "minid", a.maxlen, a.minid, a.approx, a.limit);
  if (deleted) {
    keyModified(db, c.argv[1], NOTIFY_STREAM, "xtrim");
    server.dirty += deleted;
    if (a.approx) { const prop = c.argv.slice(); streamRewriteTrim(c, s, a, prop); c.propArgv = prop; }
  }
  addReplyLongLong(c, deleted);
}

/** XRANGE and XREVRANGE. */
function xrangeGeneric(c: Client, rev: boolean): void {
  const argv = c.argv;
  const startArg = rev ? argv[3] : argv[2], endArg = rev ? argv[2] : argv[3];
  const start = parseIntervalIdOrReply(c, startArg, 0n, true);
  if (!start) return;
  const end = parseIntervalIdOrReply(c, endArg, U64_MAX, false);
  if (!end) return;
  let count = -1;
  for (let j = 4; j < argv.length; j++) {
    if (argv[j].toLowerCase() === "count" && j < argv.length - 1) {
      const n = parseIntOrReply(c, argv[++j]);
      if (n === undefined) return;
      count = n < 0 ? 0 : n;
    } else return addReplyError(c, E.syntax);
  }
  const v = lookupKeyRead(cdb(c), argv[1]);
  if (v === undefined) return addReplyArrayLen(c, 0);
  if (checkType(c, v, "stream")) return;
  if (count === 0) return addReplyNullArray(c);
  const entries = v.range(start, end, count === -1 ? 0 : count, rev);
  addReplyArrayLen(c, entries.length);
  for (const e of entries) addReplyStreamEntry(c, e);
}
/* XRANGE key start end [COUNT count] */
function xrangeCommand(c: Client): void { xrangeGeneric(c, false); }
/* XREVRANGE key end start [COUNT count] */
function xrevrangeCommand(c: Client): void { xrangeGeneric(c, true); }

/* XLEN key */
function xlenCommand(c: Client): void {
  const v = lookupKeyRead(cdb(c), c.argv[1]);
  if (checkType(c, v, "stream")) return;
  addReplyLongLong(c, v ? v.length : 0);
}

/* XDEL key id [id ...] */
function xdelCommand(c: Client): void {
  const db = cdb(c);
  const v = lookupKeyWrite(db, c.argv[1]);
  if (v === undefined) return addReplyLongLong(c, 0);
  if (checkType(c, v, "stream")) return;
  const ids: SID[] = [];
  for (const a of c.argv.slice(2)) {
    const id = parseStrictStreamIdOrReply(c, a);
    if (!id) return;
    ids.push(id);
  }
  const s = v;
  let deleted = 0;
  for (const id of ids) if (s.delete(id)) deleted++;
  if (deleted) {
    keyModified(db, c.argv[1], NOTIFY_STREAM, "xdel");
    server.dirty += deleted;
  }
  addReplyLongLong(c, deleted);
}

/* XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id] */
function xsetidCommand(c: Client): void {
  const argv = c.argv;
  const id = parseStrictStreamIdOrReply(c, argv[2]);
  if (!id) return;
  let entriesAdded = -1n;
  let maxXdel: SID | null = null;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j].toLowerCase(), more = j < argv.length - 1;
    if (opt === "entriesadded" && more) {
      const n = parseIntOrReply(c, argv[++j]);
      if (n === undefined) return;
      if (n < 0) return addReplyError(c, "ERR entries_added must be positive");
      entriesAdded = BigInt(argv[j]);
    } else if (opt === "maxdeletedid" && more) {
      const m = parseStrictStreamIdOrReply(c, argv[++j]);
      if (!m) return;
      if (sidCmp(id, m) < 0) return addReplyError(c, "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
      maxXdel = m;
    } else return addReplyError(c, E.syntax);
  }
  const db = cdb(c);
  const s = lookupKeyWrite(db, argv[1]);
  if (s === undefined) return addReplyError(c, E.noKey);
  if (checkType(c, s, "stream")) return;
  if (entriesAdded !== -1n && s.length > entriesAdded) return addReplyError(c, "ERR The entries_added specified in XSETID is smaller than the target stream length");
  if (s.length > 0 && sidCmp(id, s.lastId) < 0) return addReplyError(c, "ERR The ID specified in XSETID is smaller than the target stream top item");
  s.lastId = id;
  if (entriesAdded !== -1n) s.entriesAdded = entriesAdded;
  if (maxXdel && !sidIsZero(maxXdel)) s.maxDeletedId = maxXdel;
  keyModified(db, argv[1], NOTIFY_STREAM, "xsetid");
  server.dirty++;
  addReplyOK(c);
}

// --- Consumer groups.

/** streamEstimateDistanceFromFirstEverEntry: the entries_read an ID stands for, or -1. */
function streamEstimateDistance(s: RStream, id: SID): bigint {
  if (!s.entriesAdded) return 0n;
  if (!s.length && sidCmp(id, s.lastId) < 1) return s.entriesAdded;
  const cmpLast = sidCmp(id, s.lastId);
  if (cmpLast === 0) return s.entriesAdded;
  if (cmpLast > 0) return SCG_INVALID_ENTRIES_READ;
  const cmpFirst = sidCmp(id, s.firstId);
  if (sidIsZero(s.maxDeletedId) || sidCmp(s.maxDeletedId, s.firstId) < 0) {
    if (cmpFirst < 0) return s.entriesAdded - BigInt(s.length);
    if (cmpFirst === 0) return s.entriesAdded - BigInt(s.length) + 1n;
  }
  return SCG_INVALID_ENTRIES_READ;
}

/** True if a tombstone may lie between start and end (streamRangeHasTombstones). */
function streamRangeHasTombstones(s: RStream, start: SID | null, end: SID | null): boolean {
  if (!s.length || sidIsZero(s.maxDeletedId)) return false;
  if (sidCmp(s.firstId, s.maxDeletedId) > 0) return false;
  return sidCmp(start ?? SID_MIN, s.maxDeletedId) <= 0 && sidCmp(s.maxDeletedId, end ?? SID_MAX) <= 0;
}

/** The lag XINFO reports, or null when it cannot be known. */
function streamGroupLag(s: RStream, g: StreamGroup): bigint | null {
  if (!s.entriesAdded) return 0n;
  if (g.entriesRead !== SCG_INVALID_ENTRIES_READ && !streamRangeHasTombstones(s, g.lastId, null)) return s.entriesAdded - g.entriesRead;
  const read = streamEstimateDistance(s, g.lastId);
  return read === SCG_INVALID_ENTRIES_READ ? null : s.entriesAdded - read;
}

/** A group's consumer, created on demand. One created by a read or a claim (`at`: its stream)
 *  is a change (dirty, an `xgroup-createconsumer` event, as Redis's streamCreateConsumer); it
 *  reaches replicas through the XCLAIMs that follow, and only a NOACK read, which sends none,
 *  propagates it as XGROUP CREATECONSUMER (`at.propagate`), as Redis 7.0 does. */
function lookupConsumer(g: StreamGroup, name: string, create: boolean, at?: { db: number; key: string; propagate?: boolean }): StreamConsumer | undefined {
  let cons = g.consumers.get(name);
  if (!cons && create) {
    g.consumers.set(name, (cons = { name, seenTime: cmdTime, pel: new PelMap() }));
    if (at) {
      server.dirty++;
      if (server.notifyFlags) notifyKeyspaceEvent(NOTIFY_STREAM, "xgroup-createconsumer", at.key, at.db);
      if (at.propagate) alsoPropagate(at.db, ["XGROUP", "CREATECONSUMER", at.key, g.name, name]);
    }
  }
  return cons;
}

/* XGROUP CREATE key group <id | $> [MKSTREAM] [ENTRIESREAD entries-read] */
function xgroupCreateCommand(c: Client): void {
  const argv = c.argv, key = argv[2], name = argv[3];
  let mkstream = false, entriesRead = SCG_INVALID_ENTRIES_READ;
  for (let j = 5; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    if (opt === "mkstream") mkstream = true;
    else if (opt === "entriesread" && j < argv.length - 1) {
      const n = parseIntOrReply(c, argv[++j]);
      if (n === undefined) return;
      if (n < 0 && n !== -1) return addReplyError(c, "ERR value for ENTRIESREAD must be positive or -1");
      entriesRead = BigInt(argv[j]);
    } else return addReplySubcommandSyntaxError(c);
  }
  const db = cdb(c);
  let s = lookupKeyWrite(db, key);
  if (checkType(c, s, "stream")) return;
  if (!s && !mkstream) return addReplyError(c, "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.");
  let id: SID;
  if (argv[4] === "$") id = s ? s.lastId : SID_MIN;
  else {
    const r = parseStrictStreamIdOrReply(c, argv[4]);
    if (!r) return;
    id = r;
  }
  if (!s) {
    s = new RStream();
    dbAdd(db, key, s);
    signalModifiedKey(db, key);
  }
  if (s.groups.has(name)) return addReplyError(c, "BUSYGROUP Consumer Group name already exists");
  // Redis 7.0 leaves entries-read unknown unless ENTRIESREAD is given; the lag is estimated later.
  s.groups.set(name, { name, lastId: id, entriesRead, pel: new PelMap(), consumers: new Map() });
  addReplyOK(c);
  server.dirty++;
  if (server.notifyFlags) notifyKeyspaceEvent(NOTIFY_STREAM, "xgroup-create", key, db.id);
}

/** The stream and group named by an XGROUP subcommand, or the replies Redis gives. */
function xgroupLookupOrReply(c: Client): { s: RStream; g: StreamGroup } | undefined {
  const v = lookupKeyWrite(cdb(c), c.argv[2]);
  if (v === undefined) { addReplyError(c, "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."); return undefined; }
  if (checkType(c, v, "stream")) return undefined;
  const s = v;
  const g = s.groups.get(c.argv[3]);
  if (!g) { addReplyError(c, `NOGROUP No such consumer group '${c.argv[3]}' for key name '${c.argv[2]}'`); return undefined; }
  return { s, g };
}

/* XGROUP SETID key group <id | $> [ENTRIESREAD entries-read] */
function xgroupSetidCommand(c: Client): void {
  const argv = c.argv;
  let entriesRead = SCG_INVALID_ENTRIES_READ;
  if (argv.length === 7 && argv[5].toLowerCase() === "entriesread") {
    const n = parseIntOrReply(c, argv[6]);
    if (n === undefined) return;
    if (n < 0 && n !== -1) return addReplyError(c, "ERR value for ENTRIESREAD must be positive or -1");
    entriesRead = BigInt(argv[6]);
  } else if (argv.length !== 5) return addReplySubcommandSyntaxError(c);
  const found = xgroupLookupOrReply(c);
  if (!found) return;
  const { s, g } = found;
  let id: SID;
  if (argv[4] === "$") id = s.lastId;
  else {
    const r = parseStreamIdOrReply(c, argv[4], 0n); // unlike CREATE, SETID takes "-" and "+"
    if (!r) return;
    id = r;
  }
  g.lastId = id;
  g.entriesRead = entriesRead;
  addReplyOK(c);
  server.dirty++;
  if (server.notifyFlags) notifyKeyspaceEvent(NOTIFY_STREAM, "xgroup-setid", argv[2], cdb(c).id);
}

/* XGROUP DESTROY key group */
function xgroupDestroyCommand(c: Client): void {
  const db = cdb(c);
  const s = lookupKeyWrite(db, c.argv[2]);
  if (s === undefined) return addReplyError(c, "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.");
  if (checkType(c, s, "stream")) return;
  if (!s.groups.delete(c.argv[3])) return addReplyLongLong(c, 0);
  addReplyLongLong(c, 1);
  server.dirty++;
  if (server.notifyFlags) notifyKeyspaceEvent(NOTIFY_STREAM, "xgroup-destroy", c.argv[2], db.id);
  // Readers blocked on this group are told it is gone.
  signalKeyAsReady(db, c.argv[2]);
}

/* XGROUP CREATECONSUMER key group consumer */
function xgroupCreateconsumerCommand(c: Client): void {
  const found = xgroupLookupOrReply(c);
  if (!found) return;
  const created = !found.g.consumers.has(c.argv[4]);
  lookupConsumer(found.g, c.argv[4], true);
  addReplyLongLong(c, created ? 1 : 0);
  if (created) {
    server.dirty++;
    if (server.notifyFlags) notifyKeyspaceEvent(NOTIFY_STREAM, "xgroup-createconsumer", c.argv[2], cdb(c).id);
  }
}

/* XGROUP DELCONSUMER key group consumer */
function xgroupDelconsumerCommand(c: Client): void {
  const found = xgroupLookupOrReply(c);
  if (!found) return;
  const cons = found.g.consumers.get(c.argv[4]);
  if (!cons) return addReplyLongLong(c, 0);
  for (const key of cons.pel.keys()) found.g.pel.delete(key);
  found.g.consumers.delete(c.argv[4]);
  addReplyLongLong(c, cons.pel.size);
  server.dirty++;
  if (server.notifyFlags) notifyKeyspaceEvent(NOTIFY_STREAM, "xgroup-delconsumer", c.argv[2], cdb(c).id);
}

function xgroupHelpCommand(c: Client): void {
  addReplyHelp(c, "XGROUP", [
    "CREATE <key> <groupname> <id|$> [option]", "    Create a new consumer group. Options are:",
    "    * MKSTREAM", "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read", "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>", "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>", "    Remove the specified consumer.",
    "DESTROY <key> <groupname>", "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]", "    Set the current group ID and entries_read counter.",
  ]);
}

interface XReadTarget { key: string; id: SID; newOnly: boolean }

/** Delivers a group read for one stream (Redis's streamReplyWithRange with a group): new
 *  entries (">") move last_delivered_id and enter the PEL; a history read replays the consumer's
 *  own pending entries from `start`. Returns the entries replied. */
function streamGroupRead(c: Client, s: RStream, g: StreamGroup, cons: StreamConsumer, start: SID, count: number, noack: boolean, history: boolean, propKey: string): number {
  if (history) {
    // Like XREAD, a history read starts after the given ID.
    const after = sidIncr(start) ?? SID_MAX;
    const from = sidCmp(start, SID_MAX) === 0 ? cons.pel.size : cons.pel.lowerBound(after);
    const picked = cons.pel.sorted().slice(from, count ? from + count : undefined);
    addReplyArrayLen(c, picked.length);
    for (const n of picked) {
      const e = s.find(n.id);
      // A pending entry deleted from the stream is replied as [id, nil], as Redis does.
      if (e) addReplyStreamEntry(c, e);
      else { addReplyArrayLen(c, 2); addReplyStreamId(c, n.id); addReplyNullArray(c); }
      n.deliveryCount++;
      n.deliveryTime = cmdTime;
    }
    return picked.length;
  }
  const from = sidIncr(g.lastId) ?? SID_MAX;
  const entries = sidCmp(g.lastId, SID_MAX) === 0 ? [] : s.range(from, SID_MAX, count, false);
  addReplyArrayLen(c, entries.length);
  for (const e of entries) {
    const id = { ms: e.ms, seq: e.seq };
    g.lastId = id;
    if (g.entriesRead !== SCG_INVALID_ENTRIES_READ && !streamRangeHasTombstones(s, id, null)) g.entriesRead++;
    else if (s.entriesAdded) g.entriesRead = streamEstimateDistance(s, id);
    addReplyStreamEntry(c, e);
    if (!noack) {
      const key = sidStr(id);
      const old = g.pel.get(key);
      if (old) old.consumer.pel.delete(key);
      const nack: StreamNack = { id, consumer: cons, deliveryTime: cmdTime, deliveryCount: 1 };
      g.pel.set(key, nack);
      cons.pel.set(key, nack);
    }
    // Propagated as the XCLAIM that recreates this PEL entry and moves the group (Redis's way).
    if (!noack) alsoPropagate(c.db, ["XCLAIM", propKey, g.name, cons.name, "0", sidStr(id), "TIME", String(cmdTime), "RETRYCOUNT", "1", "FORCE", "JUSTID", "LASTID", sidStr(id)]);
  }
  if (entries.length) {
    // Without PEL entries (NOACK) nothing else carries the group's new position.
    if (noack) alsoPropagate(c.db, ["XGROUP", "SETID", propKey, g.name, sidStr(g.lastId), "ENTRIESREAD", String(g.entriesRead)]);
    server.dirty++;
  }
  c.preventProp = true; // the XCLAIMs and SETID above are what replicas need, not XREADGROUP
  return entries.length;
}

/* XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...] and
 * XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...] */
function xreadGeneric(c: Client, group: boolean): void {
  const argv = c.argv;
  // What a read changes (consumers, PELs, the group's position) propagates as its own commands.
  c.preventProp = true;
  let count = 0, block = -1, noack = false, streamsIdx = -1;
  let groupName = "", consumerName = "";
  for (let i = 1; i < argv.length; i++) {
    const opt = argv[i].toLowerCase(), more = argv.length - i - 1;
    if (opt === "block" && more) {
      // In a script BLOCK is an error, not a non-blocking read (Redis keeps it so for old scripts).
      if (c === scripting.client) return addReplyError(c, `ERR ${argv[0]} command is not allowed with BLOCK option from scripts`);
      const ms = parseIntOrReply(c, argv[++i], "ERR timeout is not an integer or out of range");
      if (ms === undefined) return;
      if (ms < 0) return addReplyError(c, "ERR timeout is negative");
      block = ms;
    } else if (opt === "count" && more) {
      const n = parseIntOrReply(c, argv[++i]);
      if (n === undefined) return;
      count = Math.max(0, n);
    } else if (opt === "streams" && more) {
      streamsIdx = i + 1;
      break;
    } else if (opt === "group" && more >= 2) {
      if (!group) return addReplyError(c, "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
      groupName = argv[++i];
      consumerName = argv[++i];
    } else if (opt === "noack") {
      if (!group) return addReplyError(c, "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
      noack = true;
    } else return addReplyError(c, E.syntax);
  }
  if (streamsIdx < 0) return addReplyError(c, E.syntax);
  if (group && !groupName) return addReplyError(c, "ERR Missing GROUP option for XREADGROUP");
  const nkeys = (argv.length - streamsIdx) / 2;
  if ((argv.length - streamsIdx) % 2 !== 0) return addReplyError(c, "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
  const db = cdb(c);
  const targets: XReadTarget[] = [];
  const groups: (StreamGroup | null)[] = [];
  // A group read changes the stream's groups in place: a running snapshot takes them first.
  if (group && saveJob) for (let k = 0; k < nkeys; k++) saveBeforeChange(db, argv[streamsIdx + k]);
  for (let k = 0; k < nkeys; k++) {
    const key = argv[streamsIdx + k], idArg = argv[streamsIdx + nkeys + k];
    const s = lookupKeyRead(db, key);
    if (checkType(c, s, "stream")) return;
    let g: StreamGroup | null = null;
    if (group) {
      g = s?.groups.get(groupName) ?? null;
      if (!s || !g) return addReplyError(c, `NOGROUP No such key '${key}' or consumer group '${groupName}' in XREADGROUP with GROUP option`);
    }
    groups.push(g);
    if (idArg === "$") {
      if (group) return addReplyError(c, "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.");
      targets.push({ key, id: s ? s.lastId : SID_MIN, newOnly: true });
    } else if (idArg === ">") {
      if (!group) return addReplyError(c, "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.");
      targets.push({ key, id: g!.lastId, newOnly: true });
    } else {
      const id = parseStrictStreamIdOrReply(c, idArg);
      if (!id) return;
      targets.push({ key, id, newOnly: false });
    }
  }
  // Serve what is there now.
  let replied = 0;
  for (let k = 0; k < nkeys; k++) {
    const t = targets[k];
    const s = db.get(t.key) as RStream | undefined;
    if (!s) continue;
    const g = groups[k];
    if (g) {
      const history = argv[streamsIdx + nkeys + k] !== ">";
      if (!history && !groupHasNew(s, g)) continue;
      if (replied === 0) (c.resp === 2 ? addReplyArrayLen(c, countServeable()) : addReplyMapLen(c, countServeable()));
      const cons = lookupConsumer(g, consumerName, true, { db: c.db, key: t.key, propagate: noack })!;
      cons.seenTime = cmdTime;
      if (c.resp === 2) addReplyArrayLen(c, 2);
      addReplyBulk(c, t.key);
      streamGroupRead(c, s, g, cons, t.id, count, noack, history, t.key);
      replied++;
    } else {
      if (sidCmp(s.lastId, t.id) <= 0 || s.length === 0) continue;
      const entries = s.range(sidIncr(t.id) ?? SID_MAX, SID_MAX, count, false);
      if (!entries.length) continue;
      if (replied === 0) (c.resp === 2 ? addReplyArrayLen(c, countServeable()) : addReplyMapLen(c, countServeable()));
      if (c.resp === 2) addReplyArrayLen(c, 2);
      addReplyBulk(c, t.key);
      addReplyArrayLen(c, entries.length);
      for (const e of entries) addReplyStreamEntry(c, e);
      replied++;
    }
  }
  if (replied) return;
  if (block < 0 || c.denyBlocking) return addReplyNullArray(c);
  c.xreadState = { targets, groupName, consumerName, count, noack };
  blockForKeys(c, "stream", targets.map((t) => t.key), block > 0 ? cmdTime + block : 0, { where: 0, whereto: 0, target: null, count: -1 });

  /** How many of the requested streams have something to give right now. */
  function countServeable(): number {
    let n = 0;
    for (let k = 0; k < nkeys; k++) {
      const s = db.get(targets[k].key) as RStream | undefined;
      if (!s) continue;
      const g = groups[k];
      if (g) { if (argv[streamsIdx + nkeys + k] !== ">" || groupHasNew(s, g)) n++; }
      else if (s.length && sidCmp(s.lastId, targets[k].id) > 0 && s.range(sidIncr(targets[k].id) ?? SID_MAX, SID_MAX, 1, false).length) n++;
    }
    return n;
  }
}
function xreadCommand(c: Client): void { xreadGeneric(c, false); }
function xreadgroupCommand(c: Client): void { xreadGeneric(c, true); }

/** Groups and consumers in name order (byte order), as Redis's radix trees list them. */
function byName<T>(m: Map<string, T>): T[] {
  return [...m.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((k) => m.get(k)!);
}

/** True when the group has undelivered entries (not just a last ID past its own). */
function groupHasNew(s: RStream, g: StreamGroup): boolean {
  return sidCmp(s.lastId, g.lastId) > 0 && s.range(sidIncr(g.lastId) ?? SID_MAX, SID_MAX, 1, false).length > 0;
}

/** Serves a reader blocked on a stream that got new entries (or lost its group). */
function serveClientBlockedOnStream(c: Client, db: Db, key: string, s: RValue | undefined): boolean {
  const st = c.xreadState!;
  const t = st.targets.find((x) => x.key === key)!;
  if (st.groupName) {
    const g = s instanceof RStream ? s.groups.get(st.groupName) : undefined;
    if (!(s instanceof RStream) || !g) {
      c.xreadState = null;
      addReplyError(c, s instanceof RStream ? "NOGROUP the consumer group this client was blocked on no longer exists" : "UNBLOCKED the stream key no longer exists");
      return true;
    }
    if (sidCmp(s.lastId, g.lastId) <= 0) return false;
    c.xreadState = null;
    const cons = lookupConsumer(g, st.consumerName, true, { db: c.db, key, propagate: st.noack })!;
    cons.seenTime = cmdTime;
    c.resp === 2 ? addReplyArrayLen(c, 1) : addReplyMapLen(c, 1);
    if (c.resp === 2) addReplyArrayLen(c, 2);
    addReplyBulk(c, key);
    const prevDb = c.db;
    c.db = db.id;
    streamGroupRead(c, s, g, cons, g.lastId, st.count, st.noack, false, key);
    c.db = prevDb;
    propagatePendingCommands();
    return true;
  }
  if (!(s instanceof RStream) || sidCmp(s.lastId, t.id) <= 0) return false;
  // Served once the last ID passed the one waited after, even if those entries are already gone
  // (added and deleted in one transaction): the reply then lists the stream with no entries.
  const entries = s.range(sidIncr(t.id) ?? SID_MAX, SID_MAX, st.count, false);
  c.xreadState = null;
  c.resp === 2 ? addReplyArrayLen(c, 1) : addReplyMapLen(c, 1);
  if (c.resp === 2) addReplyArrayLen(c, 2);
  addReplyBulk(c, key);
  addReplyArrayLen(c, entries.length);
  for (const e of entries) addReplyStreamEntry(c, e);
  return true;
}

/* XACK key group id [id ...] */
function xackCommand(c: Client): void {
  const v = lookupKeyWrite(cdb(c), c.argv[1]);
  if (checkType(c, v, "stream")) return;
  const g = v?.groups.get(c.argv[2]);
  if (!g) return addReplyLongLong(c, 0);
  const ids: SID[] = [];
  for (const a of c.argv.slice(3)) {
    const id = parseStrictStreamIdOrReply(c, a);
    if (!id) return;
    ids.push(id);
  }
  let acked = 0;
  for (const id of ids) {
    const key = sidStr(id);
    const nack = g.pel.get(key);
    if (!nack) continue;
    g.pel.delete(key);
    nack.consumer.pel.delete(key);
    acked++;
  }
  server.dirty += acked;
  addReplyLongLong(c, acked);
}

/* XPENDING key group [[IDLE min-idle-time] start end count [consumer]] */
function xpendingCommand(c: Client): void {
  const argv = c.argv;
  const extended = argv.length >= 6;
  let minIdle = 0, argPos = 3;
  let start = SID_MIN, end = SID_MAX, count = 0, consumerName: string | null = null;
  if (argv.length !== 3 && (argv.length < 6 || argv.length > 9)) return addReplyError(c, E.syntax);
  if (extended) {
    if (argv[3].toLowerCase() === "idle") {
      const n = parseIntOrReply(c, argv[4]);
      if (n === undefined) return;
      if (argv.length < 8) return addReplyError(c, E.syntax);
      minIdle = n < 0 ? 0 : n;
      argPos = 5;
    }
    const n = parseIntOrReply(c, argv[argPos + 2]);
    if (n === undefined) return;
    count = n < 0 ? 0 : n;
    const s = parseIntervalIdOrReply(c, argv[argPos], 0n, true);
    if (!s) return;
    const e = parseIntervalIdOrReply(c, argv[argPos + 1], U64_MAX, false);
    if (!e) return;
    start = s; end = e;
    if (argPos + 3 < argv.length) consumerName = argv[argPos + 3]; // anything after it is ignored, as in Redis
  }
  const v = lookupKeyRead(cdb(c), argv[1]);
  if (checkType(c, v, "stream")) return;
  const g = v?.groups.get(argv[2]);
  if (!g) return addReplyError(c, `NOGROUP No such key '${argv[1]}' or consumer group '${argv[2]}'`);
  const all = g.pel.sorted();
  if (!extended) {
    if (!all.length) {
      addReplyArrayLen(c, 4);
      addReplyLongLong(c, 0);
      addReplyNull(c);
      addReplyNull(c);
      return addReplyNullArray(c);
    }
    addReplyArrayLen(c, 4);
    addReplyLongLong(c, all.length);
    addReplyStreamId(c, all[0].id);
    addReplyStreamId(c, all[all.length - 1].id);
    const busy = byName(g.consumers).filter((cons) => cons.pel.size);
    addReplyArrayLen(c, busy.length);
    for (const cons of busy) {
      addReplyArrayLen(c, 2);
      addReplyBulk(c, cons.name);
      addReplyBulk(c, String(cons.pel.size));
    }
    return;
  }
  const picked: StreamNack[] = [];
  if (count) {
    for (let i = g.pel.lowerBound(start); i < all.length; i++) {
      const n = all[i];
      if (sidCmp(n.id, end) > 0) break;
      if (consumerName !== null && n.consumer.name !== consumerName) continue;
      if (minIdle && cmdTime - n.deliveryTime < minIdle) continue;
      picked.push(n);
      if (picked.length >= count) break;
    }
  }
  addReplyArrayLen(c, picked.length);
  for (const n of picked) {
    addReplyArrayLen(c, 4);
    addReplyStreamId(c, n.id);
    addReplyBulk(c, n.consumer.name);
    addReplyLongLong(c, Math.max(0, cmdTime - n.deliveryTime));
    addReplyLongLong(c, n.deliveryCount);
  }
}

/* XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid] */
function xclaimCommand(c: Client): void {
  const argv = c.argv, db = cdb(c);
  if (saveJob) saveBeforeChange(db, argv[1]);
  const s = lookupKeyRead(db, argv[1]);
  if (checkType(c, s, "stream")) return;
  const g = s?.groups.get(argv[2]);
  if (!s || !g) return addReplyError(c, `NOGROUP No such key '${argv[1]}' or consumer group '${argv[2]}'`);
  const minIdleArg = parseIntOrReply(c, argv[4], "ERR Invalid min-idle-time argument for XCLAIM");
  if (minIdleArg === undefined) return;
  const minIdle = Math.max(0, minIdleArg);
  const ids: SID[] = [];
  let j = 5;
  for (; j < argv.length; j++) {
    const r = parseStreamId(argv[j], 0n);
    if (!r || argv[j] === "-" || argv[j] === "+") break;
    ids.push(r.id);
  }
  const lastIdArgPos = j;
  let deliverytime = cmdTime, retrycount = -1, force = false, justid = false;
  let lastId: SID | null = null;
  for (; j < argv.length; j++) {
    const opt = argv[j].toLowerCase(), more = j < argv.length - 1;
    if (opt === "force") force = true;
    else if (opt === "justid") justid = true;
    else if (opt === "idle" && more) {
      const n = parseIntOrReply(c, argv[++j], "ERR Invalid IDLE option argument for XCLAIM");
      if (n === undefined) return;
      deliverytime = cmdTime - n;
    } else if (opt === "time" && more) {
      const n = parseIntOrReply(c, argv[++j], "ERR Invalid TIME option argument for XCLAIM");
      if (n === undefined) return;
      deliverytime = n;
    } else if (opt === "retrycount" && more) {
      const n = parseIntOrReply(c, argv[++j], "ERR Invalid RETRYCOUNT option argument for XCLAIM");
      if (n === undefined) return;
      retrycount = n;
    } else if (opt === "lastid" && more) {
      const r = parseStreamIdOrReply(c, argv[++j], 0n);
      if (!r) return;
      lastId = r;
    } else return addReplyError(c, `ERR Unrecognized XCLAIM option '${argv[j]}'`);
  }
  void lastIdArgPos;
  if (lastId && sidCmp(lastId, g.lastId) > 0) {
    g.lastId = lastId;
    alsoPropagate(c.db, ["XGROUP", "SETID", argv[1], g.name, sidStr(lastId), "ENTRIESREAD", String(g.entriesRead)]);
    server.dirty++;
  }
  if (deliverytime > cmdTime) deliverytime = cmdTime;
  let cons: StreamConsumer | undefined;
  const claimed: SID[] = [];
  const replies: (() => void)[] = [];
  for (const id of ids) {
    const key = sidStr(id);
    let nack = g.pel.get(key);
    const entry = s.find(id);
    // FORCE creates the missing NACK, and a NACK created so is claimed whatever min-idle-time says.
    const forced = force && entry !== undefined && !nack;
    if (forced) {
      cons ??= lookupConsumer(g, argv[3], true, { db: c.db, key: argv[1] });
      nack = { id, consumer: cons!, deliveryTime: cmdTime, deliveryCount: 1 };
      g.pel.set(key, nack);
      cons!.pel.set(key, nack);
    }
    if (!nack) continue;
    if (!entry) {
      // The entry was deleted: it leaves the PEL (Redis 7 does this while claiming).
      g.pel.delete(key);
      nack.consumer.pel.delete(key);
      continue;
    }
    if (!forced && minIdle && cmdTime - nack.deliveryTime < minIdle) continue;
    cons ??= lookupConsumer(g, argv[3], true, { db: c.db, key: argv[1] });
    if (nack.consumer !== cons) {
      nack.consumer.pel.delete(key);
      cons!.pel.set(key, nack);
      nack.consumer = cons!;
    }
    nack.deliveryTime = deliverytime;
    if (retrycount >= 0) nack.deliveryCount = retrycount;
    else if (!justid) nack.deliveryCount++;
    cons!.seenTime = cmdTime;
    claimed.push(id);
    replies.push(justid ? () => addReplyBulk(c, key) : () => addReplyStreamEntry(c, entry));
    alsoPropagate(c.db, ["XCLAIM", argv[1], g.name, argv[3], "0", key, "TIME", String(deliverytime), "RETRYCOUNT", String(nack.deliveryCount), "FORCE", "JUSTID", "LASTID", sidStr(g.lastId)]);
  }
  addReplyArrayLen(c, replies.length);
  for (const r of replies) r();
  if (claimed.length) server.dirty++;
  c.preventProp = true; // propagated above, one exact XCLAIM per entry
}

/* XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID] */
function xautoclaimCommand(c: Client): void {
  const argv = c.argv, db = cdb(c);
  // Arguments are checked before the key, as in Redis.
  const minIdleArg = parseIntOrReply(c, argv[4], "ERR Invalid min-idle-time argument for XAUTOCLAIM");
  if (minIdleArg === undefined) return;
  const minIdle = Math.max(0, minIdleArg);
  const start = parseIntervalIdOrReply(c, argv[5], 0n, true);
  if (!start) return;
  let count = 100, justid = false;
  for (let j = 6; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    if (opt === "count" && j < argv.length - 1) {
      const n = parseRangeIntOrReply(c, argv[++j], 1n, LLONG_MAX / 16n, "ERR COUNT must be > 0");
      if (n === undefined) return;
      count = n;
    } else if (opt === "justid") justid = true;
    else return addReplyError(c, E.syntax);
  }
  if (saveJob) saveBeforeChange(db, argv[1]);
  const s = lookupKeyRead(db, argv[1]);
  if (checkType(c, s, "stream")) return;
  const g = s?.groups.get(argv[2]);
  if (!s || !g) return addReplyError(c, `NOGROUP No such key '${argv[1]}' or consumer group '${argv[2]}'`);
  // Redis allocates COUNT deleted-ID slots of 16 bytes up front; more than the machine has fails.
  if (count * 16 > totalmem()) return addReplyError(c, "ERR Insufficient memory, failed allocating transient memory, COUNT too high.");
  let attempts = count * 10;
  const from = g.pel.lowerBound(start);
  const pending = g.pel.sorted().slice(from, from + attempts + 1);
  const claimed: StreamNack[] = [];
  const deleted: SID[] = [];
  let next = SID_MIN;
  let i = 0;
  let cons: StreamConsumer | undefined; // created by its first claim, as in Redis 7.0
  let left = count;
  for (; i < pending.length && attempts-- > 0 && left > 0; i++) {
    const nack = pending[i];
    const key = sidStr(nack.id);
    const entry = s.find(nack.id);
    if (!entry) {
      g.pel.delete(key);
      nack.consumer.pel.delete(key);
      deleted.push(nack.id);
      left--; // deleted entries count toward COUNT, as in Redis
      continue;
    }
    if (minIdle && cmdTime - nack.deliveryTime < minIdle) continue;
    cons ??= lookupConsumer(g, argv[3], true, { db: c.db, key: argv[1] })!;
    if (nack.consumer !== cons) {
      nack.consumer.pel.delete(key);
      cons.pel.set(key, nack);
      nack.consumer = cons;
    }
    nack.deliveryTime = cmdTime;
    if (!justid) nack.deliveryCount++;
    claimed.push(nack);
    left--;
    alsoPropagate(c.db, ["XCLAIM", argv[1], g.name, argv[3], "0", key, "TIME", String(cmdTime), "RETRYCOUNT", String(nack.deliveryCount), "FORCE", "JUSTID", "LASTID", sidStr(g.lastId)]);
  }
  if (i < pending.length) next = pending[i].id;
  if (cons) cons.seenTime = cmdTime;
  addReplyArrayLen(c, 3);
  addReplyStreamId(c, next);
  addReplyArrayLen(c, claimed.length);
  for (const n of claimed) justid ? addReplyStreamId(c, n.id) : addReplyStreamEntry(c, s.find(n.id)!);
  addReplyArrayLen(c, deleted.length);
  for (const d of deleted) addReplyStreamId(c, d);
  if (claimed.length || deleted.length) server.dirty++;
  c.preventProp = true; // propagated above, one exact XCLAIM per entry
}

/* XINFO STREAM key [FULL [COUNT count]] | GROUPS key | CONSUMERS key group */
function xinfoStreamCommand(c: Client): void {
  const argv = c.argv;
  const v = lookupKeyRead(cdb(c), argv[2]);
  if (v === undefined) return addReplyError(c, E.noKey);
  if (checkType(c, v, "stream")) return;
  let full = false, count = 10;
  const badArgs = () => addReplySubcommandSyntaxError(c);
  if (argv.length > 3) {
    if (argv[3].toLowerCase() !== "full") return badArgs();
    full = true;
    if (argv.length === 6 && argv[4].toLowerCase() === "count") {
      const n = parseIntOrReply(c, argv[5]);
      if (n === undefined) return;
      count = Math.max(0, n);
    } else if (argv.length !== 4) return badArgs();
  }
  const s = v;
  const nodes = s.nodes.length - s.head;
  addReplyMapLen(c, full ? 9 : 10);
  addReplyBulk(c, "length"); addReplyLongLong(c, s.length);
  addReplyBulk(c, "radix-tree-keys"); addReplyLongLong(c, nodes);
  // Redis counts its radix tree's internal nodes; ours is a plain array, so this is an estimate.
  addReplyBulk(c, "radix-tree-nodes"); addReplyLongLong(c, nodes + 1);
  addReplyBulk(c, "last-generated-id"); addReplyStreamId(c, s.lastId);
  addReplyBulk(c, "max-deleted-entry-id"); addReplyStreamId(c, s.maxDeletedId);
  addReplyBulk(c, "entries-added"); addReplyLongLong(c, s.entriesAdded);
  addReplyBulk(c, "recorded-first-entry-id"); addReplyStreamId(c, s.firstId);
  if (!full) {
    addReplyBulk(c, "groups"); addReplyLongLong(c, s.groups.size);
    const first = s.range(SID_MIN, SID_MAX, 1, false)[0], last = s.range(SID_MIN, SID_MAX, 1, true)[0];
    addReplyBulk(c, "first-entry"); first ? addReplyStreamEntry(c, first) : addReplyNull(c);
    addReplyBulk(c, "last-entry"); last ? addReplyStreamEntry(c, last) : addReplyNull(c);
    return;
  }
  const entries = s.range(SID_MIN, SID_MAX, count, false);
  addReplyBulk(c, "entries");
  addReplyArrayLen(c, entries.length);
  for (const e of entries) addReplyStreamEntry(c, e);
  addReplyBulk(c, "groups");
  addReplyArrayLen(c, s.groups.size);
  for (const g of byName(s.groups)) {
    addReplyMapLen(c, 7);
    addReplyBulk(c, "name"); addReplyBulk(c, g.name);
    addReplyBulk(c, "last-delivered-id"); addReplyStreamId(c, g.lastId);
    addReplyBulk(c, "entries-read"); g.entriesRead === SCG_INVALID_ENTRIES_READ ? addReplyNull(c) : addReplyLongLong(c, g.entriesRead);
    const lag = streamGroupLag(s, g);
    addReplyBulk(c, "lag"); lag === null ? addReplyNull(c) : addReplyLongLong(c, lag);
    addReplyPendingList(c, g.pel, count, true);
    addReplyBulk(c, "consumers");
    addReplyArrayLen(c, g.consumers.size);
    for (const cons of byName(g.consumers)) {
      addReplyMapLen(c, 4);
      addReplyBulk(c, "name"); addReplyBulk(c, cons.name);
      addReplyBulk(c, "seen-time"); addReplyLongLong(c, cons.seenTime);
      addReplyPendingList(c, cons.pel, count, false);
    }
  }
}

/** XINFO STREAM FULL's "pel-count" and "pending" fields of a group (each entry with its consumer)
 *  or of a consumer: the first `count` entries in ID order (all of them for a count of 0). */
function addReplyPendingList(c: Client, pel: PelMap, count: number, withConsumer: boolean): void {
  addReplyBulk(c, "pel-count"); addReplyLongLong(c, pel.size);
  const all = pel.sorted();
  const shown = count ? all.slice(0, count) : all;
  addReplyBulk(c, "pending");
  addReplyArrayLen(c, shown.length);
  for (const n of shown) {
    addReplyArrayLen(c, withConsumer ? 4 : 3);
    addReplyStreamId(c, n.id);
    if (withConsumer) addReplyBulk(c, n.consumer.name);
    addReplyLongLong(c, n.deliveryTime); addReplyLongLong(c, n.deliveryCount);
  }
}

function xinfoGroupsCommand(c: Client): void {
  const s = lookupKeyRead(cdb(c), c.argv[2]);
  if (s === undefined) return addReplyError(c, E.noKey);
  if (checkType(c, s, "stream")) return;
  addReplyArrayLen(c, s.groups.size);
  for (const g of byName(s.groups)) {
    addReplyMapLen(c, 6);
    addReplyBulk(c, "name"); addReplyBulk(c, g.name);
    addReplyBulk(c, "consumers"); addReplyLongLong(c, g.consumers.size);
    addReplyBulk(c, "pending"); addReplyLongLong(c, g.pel.size);
    addReplyBulk(c, "last-delivered-id"); addReplyStreamId(c, g.lastId);
    addReplyBulk(c, "entries-read"); g.entriesRead === SCG_INVALID_ENTRIES_READ ? addReplyNull(c) : addReplyLongLong(c, g.entriesRead);
    const lag = streamGroupLag(s, g);
    addReplyBulk(c, "lag"); lag === null ? addReplyNull(c) : addReplyLongLong(c, lag);
  }
}

function xinfoConsumersCommand(c: Client): void {
  const v = lookupKeyRead(cdb(c), c.argv[2]);
  if (v === undefined) return addReplyError(c, E.noKey);
  if (checkType(c, v, "stream")) return;
  const g = v.groups.get(c.argv[3]);
  if (!g) return addReplyError(c, `NOGROUP No such consumer group '${c.argv[3]}' for key name '${c.argv[2]}'`);
  addReplyArrayLen(c, g.consumers.size);
  for (const cons of byName(g.consumers)) {
    addReplyMapLen(c, 3);
    addReplyBulk(c, "name"); addReplyBulk(c, cons.name);
    addReplyBulk(c, "pending"); addReplyLongLong(c, cons.pel.size);
    addReplyBulk(c, "idle"); addReplyLongLong(c, Math.max(0, cmdTime - cons.seenTime));
  }
}

function xinfoHelpCommand(c: Client): void {
  addReplyHelp(c, "XINFO", [
    "CONSUMERS <key> <groupname>", "    Show consumers of <groupname>.",
    "GROUPS <key>", "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]", "    Show information about the stream.",
  ]);
}

function sidBytes(id: SID): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigUInt64BE(id.ms, 0);
  b.writeBigUInt64BE(id.seq, 8);
  return b;
}

// --- Streams in RDB files (type 19, STREAM_LISTPACKS_2, as Redis 7.0 writes them).
/** A stream's body: listpack nodes (live entries only), metadata, groups with their PELs. */
function rdbWriteStream(w: RdbWriter, s: RStream): void {
  const nodes = s.liveNodes().map((n) => n.liveEntries()).filter((es) => es.length);
  w.length(nodes.length);
  for (const es of nodes) {
    const master = es[0];
    const masterFields = master.fields.filter((_, i) => i % 2 === 0);
    const els: (string | number | bigint)[] = [es.length, 0, masterFields.length, ...masterFields, 0];
    for (const e of es) {
      const names = e.fields.filter((_, i) => i % 2 === 0);
      const same = names.length === masterFields.length && names.every((f, i) => f === masterFields[i]);
      els.push(same ? 2 : 0, BigInt.asIntN(64, e.ms - master.ms), BigInt.asIntN(64, e.seq - master.seq)); // int64 deltas, wrapping as in C
      if (same) els.push(...e.fields.filter((_, i) => i % 2 === 1));
      else els.push(names.length, ...e.fields);
      els.push(same ? names.length + 3 : e.fields.length + 4);
    }
    const key = sidBytes(master);
    w.length(key.length);
    w.bytes(key);
    const lp = lpEncode(els);
    w.length(lp.length);
    w.bytes(lp);
  }
  w.length(s.length);
  w.lengthBig(s.lastId.ms); w.lengthBig(s.lastId.seq);
  w.lengthBig(s.firstId.ms); w.lengthBig(s.firstId.seq);
  w.lengthBig(s.maxDeletedId.ms); w.lengthBig(s.maxDeletedId.seq);
  w.lengthBig(s.entriesAdded);
  w.length(s.groups.size);
  for (const g of s.groups.values()) {
    w.string(g.name);
    w.lengthBig(g.lastId.ms); w.lengthBig(g.lastId.seq);
    w.lengthBig(g.entriesRead === SCG_INVALID_ENTRIES_READ ? U64_MAX : g.entriesRead);
    const pel = g.pel.sorted();
    w.length(pel.length);
    for (const n of pel) { w.bytes(sidBytes(n.id)); w.millis(n.deliveryTime); w.length(n.deliveryCount); }
    w.length(g.consumers.size);
    for (const cons of g.consumers.values()) {
      w.string(cons.name);
      w.millis(cons.seenTime);
      const mine = cons.pel.sorted();
      w.length(mine.length);
      for (const n of mine) w.bytes(sidBytes(n.id));
    }
  }
}

/** Reads a stream of RDB type 15, 19 or 21. */
function rdbReadStream(r: RdbReader, type: number): RStream {
  const s = new RStream();
  const at = r.pos;
  const nodes = r.length();
  for (let i = 0; i < nodes; i++) {
    const key = r.stringBytes();
    if (key.length !== 16) throw new RdbError("Stream node key entry is not the size of a stream ID", at);
    const master: SID = { ms: key.readBigUInt64BE(0), seq: key.readBigUInt64BE(8) };
    const lpAt = r.pos;
    const els = listpackEntries(r.stringBytes(), lpAt, "Stream listpack");
    let p = 0;
    const count = Number(els[p++]), deleted = Number(els[p++]), nmaster = Number(els[p++]);
    const masterFields = els.slice(p, p + nmaster);
    p += nmaster + 1;
    let first = true;
    for (let k = 0; k < count + deleted; k++) {
      const flags = Number(els[p++]);
      const ms = BigInt.asUintN(64, master.ms + BigInt(els[p++])), seq = BigInt.asUintN(64, master.seq + BigInt(els[p++]));
      let fields: string[];
      if (flags & 2) { fields = []; for (const f of masterFields) fields.push(f, els[p++]); }
      else { const n = Number(els[p++]); fields = els.slice(p, p + 2 * n); p += 2 * n; }
      p++; // lp-count
      if (!(flags & 1)) { s.append(ms, seq, fields, 0, first); s.entriesAdded--; first = false; }
    }
  }
  const length = r.length();
  s.lastId = { ms: r.lengthBig(), seq: r.lengthBig() };
  if (type >= RDB_TYPE_STREAM_LISTPACKS_2) {
    s.firstId = { ms: r.lengthBig(), seq: r.lengthBig() };
    s.maxDeletedId = { ms: r.lengthBig(), seq: r.lengthBig() };
    s.entriesAdded = r.lengthBig();
  } else {
    s.entriesAdded = BigInt(length);
    s.refreshFirstId();
  }
  if (length !== s.length) throw new RdbError("Stream length mismatch", at);
  const ngroups = r.length();
  for (let i = 0; i < ngroups; i++) {
    const name = r.string();
    const lastId = { ms: r.lengthBig(), seq: r.lengthBig() };
    let entriesRead = SCG_INVALID_ENTRIES_READ;
    if (type >= RDB_TYPE_STREAM_LISTPACKS_2) {
      const er = r.lengthBig();
      entriesRead = er === U64_MAX ? SCG_INVALID_ENTRIES_READ : er;
    } else entriesRead = streamEstimateDistance(s, lastId);
    const g: StreamGroup = { name, lastId, entriesRead, pel: new PelMap(), consumers: new Map() };
    const pelSize = r.length();
    for (let k = 0; k < pelSize; k++) {
      r.need(16);
      const id: SID = { ms: r.buf.readBigUInt64BE(r.pos), seq: r.buf.readBigUInt64BE(r.pos + 8) };
      r.pos += 16;
      const deliveryTime = r.millis();
      const deliveryCount = r.length();
      if (g.pel.has(sidStr(id))) throw new RdbError("Duplicated global PEL entry loading stream consumer group", r.pos);
      g.pel.set(sidStr(id), { id, consumer: null as unknown as StreamConsumer, deliveryTime, deliveryCount });
    }
    const ncons = r.length();
    for (let k = 0; k < ncons; k++) {
      const cname = r.string();
      if (g.consumers.has(cname)) throw new RdbError("Duplicate stream consumer detected.", r.pos);
      const cons: StreamConsumer = { name: cname, seenTime: r.millis(), pel: new PelMap() };
      if (type >= RDB_TYPE_STREAM_LISTPACKS_3) r.millis(); // active-time (Redis 7.2)
      const n = r.length();
      for (let m = 0; m < n; m++) {
        r.need(16);
        const key = sidStr({ ms: r.buf.readBigUInt64BE(r.pos), seq: r.buf.readBigUInt64BE(r.pos + 8) });
        r.pos += 16;
        const nack = g.pel.get(key);
        if (!nack) throw new RdbError("Consumer PEL entry missing from the group PEL", r.pos);
        if (cons.pel.has(key)) throw new RdbError("Duplicated consumer PEL entry  loading a stream consumer group", r.pos);
        nack.consumer = cons;
        cons.pel.set(key, nack);
      }
      g.consumers.set(cons.name, cons);
    }
    for (const nack of g.pel.values()) if (!nack.consumer) throw new RdbError("Group PEL entry without a consumer", r.pos);
    s.groups.set(name, g);
  }
  return s;
}

/** A stream as commands (Redis's rewriteStreamObject): its entries, its IDs and counters, its
 *  groups and their pending entries. */
function aofRewriteStream(emit: (argv: string[]) => void, key: string, s: RStream): void {
  const entries = s.range(SID_MIN, SID_MAX, 0, false);
  for (const e of entries) emit(["XADD", key, sidStr(e), ...e.fields]);
  if (!entries.length) emit(["XADD", key, "MAXLEN", "0", sidStr(s.lastId), "x", "y"]);
  emit(["XSETID", key, sidStr(s.lastId), "ENTRIESADDED", String(s.entriesAdded), "MAXDELETEDID", sidStr(s.maxDeletedId)]);
  for (const g of s.groups.values()) {
    emit(["XGROUP", "CREATE", key, g.name, sidStr(g.lastId), "ENTRIESREAD", String(g.entriesRead)]);
    for (const n of g.pel.sorted()) {
      emit(["XCLAIM", key, g.name, n.consumer.name, "0", sidStr(n.id), "TIME", String(n.deliveryTime), "RETRYCOUNT", String(n.deliveryCount), "JUSTID", "FORCE"]);
    }
    for (const cons of g.consumers.values()) if (!cons.pel.size) emit(["XGROUP", "CREATECONSUMER", key, g.name, cons.name]);
  }
}

/** This chapter's rows of the command table (see Dispatch). */
const STREAM_COMMANDS: CommandRows[] = [
  { group: "stream", specs: [
    ["xadd", -5, "write denyoom fast", 1, 1, 1, "stream", xaddCommand],
    ["xrange", -4, "readonly", 1, 1, 1, "stream", xrangeCommand],
    ["xrevrange", -4, "readonly", 1, 1, 1, "stream", xrevrangeCommand],
    ["xlen", 2, "readonly fast", 1, 1, 1, "stream", xlenCommand],
    ["xdel", -3, "write fast", 1, 1, 1, "stream", xdelCommand],
    ["xtrim", -4, "write", 1, 1, 1, "stream", xtrimCommand],
    ["xsetid", -3, "write denyoom fast", 1, 1, 1, "stream", xsetidCommand],
    ["xread", -4, "readonly blocking movablekeys", 0, 0, 0, "stream", xreadCommand],
    ["xreadgroup", -7, "write blocking movablekeys", 0, 0, 0, "stream", xreadgroupCommand],
    ["xgroup", -2, "", 0, 0, 0, "", () => {}],
    ["xack", -4, "write fast", 1, 1, 1, "stream", xackCommand],
    ["xpending", -3, "readonly", 1, 1, 1, "stream", xpendingCommand],
    ["xclaim", -6, "write fast", 1, 1, 1, "stream", xclaimCommand],
    ["xautoclaim", -6, "write fast", 1, 1, 1, "stream", xautoclaimCommand],
    ["xinfo", -2, "", 0, 0, 0, "", () => {}],
  ], subs: {
    xgroup: [
      ["create", -5, "write denyoom", 2, 2, 1, "stream", xgroupCreateCommand],
      ["setid", -5, "write", 2, 2, 1, "stream", xgroupSetidCommand],
      ["destroy", 4, "write", 2, 2, 1, "stream", xgroupDestroyCommand],
      ["createconsumer", 5, "write denyoom", 2, 2, 1, "stream", xgroupCreateconsumerCommand],
      ["delconsumer", 5, "write", 2, 2, 1, "stream", xgroupDelconsumerCommand],
      ["help", 2, "loading stale", 0, 0, 0, "stream", xgroupHelpCommand],
    ],
    xinfo: [
      ["stream", -3, "readonly", 2, 2, 1, "stream", xinfoStreamCommand],
      ["groups", 3, "readonly", 2, 2, 1, "stream", xinfoGroupsCommand],
      ["consumers", 4, "readonly", 2, 2, 1, "stream", xinfoConsumersCommand],
      ["help", 2, "loading stale", 0, 0, 0, "stream", xinfoHelpCommand],
    ],
  } },
];

// ============================================================================================
// Keys
//
// Commands that work on keys of any type: DEL, EXISTS, RENAME, COPY, MOVE, the EXPIRE family,
// TTL, SCAN, SELECT, SWAPDB, FLUSHDB/FLUSHALL, and SORT (of lists, sets and sorted sets).
// ============================================================================================

/* SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] */
function scanCommand(c: Client): void {
  const cursor = parseScanCursorOrReply(c, c.argv[1]);
  if (cursor === undefined) return;
  scanGeneric(c, cdb(c), cursor, 2, cdb(c), false, () => null);
}
/* DEL key [key ...] and UNLINK: values are freed by the garbage collector either way. */
function delCommand(c: Client): void {
  const db = cdb(c);
  let deleted = 0;
  for (let i = 1; i < c.argv.length; i++) {
    if (lookupKeyWrite(db, c.argv[i]) !== undefined && dbDelete(db, c.argv[i])) {
      deleted++;
      keyModified(db, c.argv[i], NOTIFY_GENERIC, "del");
    }
  }
  server.dirty += deleted;
  addReplyLongLong(c, deleted);
}

/* EXISTS key [key ...]: a key given twice counts twice. */
function existsCommand(c: Client): void {
  const db = cdb(c);
  let n = 0;
  const flags = c.lastCmd === "touch" ? 0 : LOOKUP_NOTOUCH;
  for (let i = 1; i < c.argv.length; i++) if (lookupKeyRead(db, c.argv[i], flags) !== undefined) n++;
  addReplyLongLong(c, n);
}

/* TOUCH key [key ...]: EXISTS that also updates the keys' access time. */
function touchCommand(c: Client): void { existsCommand(c); }

/* TYPE key */
function typeCommand(c: Client): void {
  const v = lookupKeyRead(cdb(c), c.argv[1], LOOKUP_NOTOUCH);
  addReplyStatus(c, v === undefined ? "none" : typeName(v));
}

/* KEYS pattern */
function keysCommand(c: Client): void {
  const db = cdb(c), pattern = c.argv[1];
  const all = pattern === "*";
  const out: string[] = [];
  for (let i = 0; i < db.size; i++) {
    const k = db.keyAt(i);
    if ((all || stringmatch(pattern, k)) && !keyIsExpired(db, k)) out.push(k);
  }
  addReplyBulks(c, out);
}

/* RANDOMKEY */
function randomkeyCommand(c: Client): void {
  const db = cdb(c);
  while (db.size > 0) {
    const k = db.keyAt(Math.floor(random() * db.size));
    if (!expireIfNeeded(db, k)) return addReplyBulk(c, k);
  }
  addReplyNull(c);
}

/* RENAME key newkey and RENAMENX: the value and its TTL move to the new name. */
function renameGeneric(c: Client, nx: boolean): void {
  const db = cdb(c), src = c.argv[1], dst = c.argv[2];
  const v = lookupKeyWrite(db, src);
  if (v === undefined) return addReplyError(c, E.noKey);
  if (src === dst) return nx ? addReplyLongLong(c, 0) : addReplyOK(c);
  if (lookupKeyWrite(db, dst) !== undefined) {
    if (nx) return addReplyLongLong(c, 0);
    dbDelete(db, dst);
  }
  moveKey(db, src, db, dst, v, "rename");
  nx ? addReplyLongLong(c, 1) : addReplyOK(c);
}

/** RENAME's and MOVE's move: the value, its TTL and its recorded encoding go to a free key (of
 *  the same or another database), with <event>_from and <event>_to notifications. */
function moveKey(src: Db, srcKey: string, dst: Db, dstKey: string, v: RValue, event: string): void {
  const expire = getExpire(src, srcKey), enc = src.encodings.get(srcKey);
  dbAdd(dst, dstKey, v);
  if (enc) dst.encodings.set(dstKey, enc);
  if (expire !== -1) setExpire(dst, dstKey, expire);
  dbDelete(src, srcKey);
  server.dirty++;
  keyModified(src, srcKey, NOTIFY_GENERIC, `${event}_from`);
  keyModified(dst, dstKey, NOTIFY_GENERIC, `${event}_to`);
}
function renameCommand(c: Client): void { renameGeneric(c, false); }
function renamenxCommand(c: Client): void { renameGeneric(c, true); }

/** Returns the database with that index, or replies Redis's error. */
function dbByIndexOrReply(c: Client, s: string): Db | undefined {
  const id = parseInt32OrReply(c, s);
  if (id === undefined) return undefined;
  if (id < 0 || id >= server.dbs.length) { addReplyError(c, E.dbIndex); return undefined; }
  return server.dbs[id];
}

/** A value copied for COPY, so the two keys never share a mutable object. */
function dupValue(v: RValue): RValue {
  if (typeof v === "string") return v;
  if (v instanceof RBytes) return new RBytes(Buffer.from(v.buf), v.len);
  if (v instanceof RList) { const l = new RList(); l.replace(v.range(0, v.length - 1)); return l; }
  if (v instanceof RHash) { const h = new RHash(); h.listpack = v.listpack; for (let i = 0; i < v.size; i++) h.dict.set(v.dict.keyAt(i), v.dict.valAt(i)); h.bytes = v.bytes; return h; }
  if (v instanceof RSet) { const s = new RSet(); s.intset = v.intset; for (let i = 0; i < v.size; i++) s.dict.set(v.dict.keyAt(i), true); s.bytes = v.bytes; return s; }
  if (v instanceof RStream) {
    // A stream copies through its RDB form: entries, metadata and groups, nothing shared.
    const w = new RdbWriter();
    rdbWriteStream(w, v);
    return rdbReadStream(new RdbReader(w.take()), RDB_TYPE_STREAM_LISTPACKS_2);
  }
  const z = new RZSet();
  z.listpack = v.listpack;
  for (const n of zsetRangeByRank(v, 0, -1, false)) { z.zsl.insert(n.score, n.member); z.dict.set(n.member, n.score); }
  z.bytes = v.bytes;
  return z;
}

/* COPY source destination [DB destination-db] [REPLACE] */
function copyCommand(c: Client): void {
  const argv = c.argv, src = cdb(c);
  let dst = src, replace = false;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    if (opt === "replace") replace = true;
    else if (opt === "db" && j < argv.length - 1) {
      const d = dbByIndexOrReply(c, argv[++j]);
      if (!d) return;
      dst = d;
    } else return addReplyError(c, E.syntax);
  }
  const key = argv[1], newkey = argv[2];
  if (src === dst && key === newkey) return addReplyError(c, "ERR source and destination objects are the same");
  const v = lookupKeyRead(src, key);
  if (v === undefined) return addReplyLongLong(c, 0);
  const expire = getExpire(src, key);
  if (lookupKeyWrite(dst, newkey) !== undefined) {
    if (!replace) return addReplyLongLong(c, 0);
    dbDelete(dst, newkey);
  }
  dbAdd(dst, newkey, dupValue(v));
  const enc = src.encodings.get(key);
  if (enc) dst.encodings.set(newkey, enc);
  if (expire !== -1) setExpire(dst, newkey, expire);
  server.dirty++;
  keyModified(dst, newkey, NOTIFY_GENERIC, "copy_to");
  addReplyLongLong(c, 1);
}

/* MOVE key db */
function moveCommand(c: Client): void {
  const src = cdb(c), key = c.argv[1];
  const dst = dbByIndexOrReply(c, c.argv[2]);
  if (!dst) return;
  if (src === dst) return addReplyError(c, "ERR source and destination objects are the same");
  const v = lookupKeyWrite(src, key);
  if (v === undefined) return addReplyLongLong(c, 0);
  if (lookupKeyWrite(dst, key) !== undefined) return addReplyLongLong(c, 0);
  moveKey(src, key, dst, key, v, "move");
  addReplyLongLong(c, 1);
}

const EXPIRE_NX = 1, EXPIRE_XX = 2, EXPIRE_GT = 4, EXPIRE_LT = 8;

/** EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT: `basetime` is now for relative forms, 0 for absolute. */
/** An expire time already past deletes the key at once, except while loading or on a replica,
 *  which keep the key until the DEL that follows (Redis's checkAlreadyExpired). */
function checkAlreadyExpired(when: number): boolean {
  return when <= cmdTime && !server.loading && !isReplica();
}

function expireGeneric(c: Client, basetime: number, seconds: boolean): void {
  const argv = c.argv, db = cdb(c), key = argv[1];
  let flags = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    if (opt === "nx") flags |= EXPIRE_NX;
    else if (opt === "xx") flags |= EXPIRE_XX;
    else if (opt === "gt") flags |= EXPIRE_GT;
    else if (opt === "lt") flags |= EXPIRE_LT;
    else return addReplyError(c, `ERR Unsupported option ${argv[j]}`);
  }
  if (flags & EXPIRE_NX && flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT)) return addReplyError(c, "ERR NX and XX, GT or LT options at the same time are not compatible");
  if (flags & EXPIRE_GT && flags & EXPIRE_LT) return addReplyError(c, "ERR GT and LT options at the same time are not compatible");
  let when = parseIntOrReply(c, argv[2]);
  if (when === undefined) return;
  // Redis's overflow checks, in 64-bit integers: near these bounds doubles cannot tell the
  // integers apart, so large values are checked exactly.
  if (Math.abs(when) >= 2 ** 52) {
    const w = BigInt(argv[2]), LLONG_MAX = 9223372036854775807n;
    if (seconds && (w > LLONG_MAX / 1000n || w < -LLONG_MAX / 1000n)) return void replyInvalidExpire(c);
    if ((seconds ? w * 1000n : w) > LLONG_MAX - BigInt(basetime)) return void replyInvalidExpire(c);
  }
  if (seconds) when *= 1000;
  when += basetime;
  if (lookupKeyWrite(db, key) === undefined) return addReplyLongLong(c, 0);
  if (flags) {
    const current = getExpire(db, key);
    if (flags & EXPIRE_NX && current !== -1) return addReplyLongLong(c, 0);
    if (flags & EXPIRE_XX && current === -1) return addReplyLongLong(c, 0);
    if (flags & EXPIRE_GT && (when <= current || current === -1)) return addReplyLongLong(c, 0);
    if (flags & EXPIRE_LT && current !== -1 && when >= current) return addReplyLongLong(c, 0);
  }
  if (checkAlreadyExpired(when)) {
    dbDelete(db, key);
    keyModified(db, key, NOTIFY_GENERIC, "del");
    c.propArgv = [conf["lazyfree-lazy-expire"] ? "UNLINK" : "DEL", key];
  } else {
    setExpire(db, key, when);
    keyModified(db, key, NOTIFY_GENERIC, "expire");
    c.propArgv = ["PEXPIREAT", key, String(when)];
  }
  server.dirty++;
  addReplyLongLong(c, 1);
}

/* EXPIRE key seconds [NX | XX | GT | LT] */
function expireCommand(c: Client): void { expireGeneric(c, cmdTime, true); }
/* PEXPIRE key milliseconds [NX | XX | GT | LT] */
function pexpireCommand(c: Client): void { expireGeneric(c, cmdTime, false); }
/* EXPIREAT key unix-time-seconds [NX | XX | GT | LT] */
function expireatCommand(c: Client): void { expireGeneric(c, 0, true); }
/* PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT] */
function pexpireatCommand(c: Client): void { expireGeneric(c, 0, false); }

/** TTL, PTTL, EXPIRETIME and PEXPIRETIME: -2 for no key, -1 for no TTL. */
function ttlGeneric(c: Client, ms: boolean, absolute: boolean): void {
  const db = cdb(c), key = c.argv[1];
  if (lookupKeyRead(db, key, LOOKUP_NOTOUCH) === undefined) return addReplyLongLong(c, -2);
  const expire = getExpire(db, key);
  if (expire === -1) return addReplyLongLong(c, -1);
  const ttl = Math.max(0, absolute ? expire : expire - cmdTime);
  addReplyLongLong(c, ms ? ttl : Math.floor((ttl + 500) / 1000));
}
/* TTL key */
function ttlCommand(c: Client): void { ttlGeneric(c, false, false); }
/* PTTL key */
function pttlCommand(c: Client): void { ttlGeneric(c, true, false); }
/* EXPIRETIME key */
function expiretimeCommand(c: Client): void { ttlGeneric(c, false, true); }
/* PEXPIRETIME key */
function pexpiretimeCommand(c: Client): void { ttlGeneric(c, true, true); }

/* PERSIST key */
function persistCommand(c: Client): void {
  const db = cdb(c), key = c.argv[1];
  if (lookupKeyWrite(db, key) === undefined || !removeExpire(db, key)) return addReplyLongLong(c, 0);
  server.dirty++;
  keyModified(db, key, NOTIFY_GENERIC, "persist");
  addReplyLongLong(c, 1);
}

/* SELECT index */
function selectCommand(c: Client): void {
  const id = parseInt32OrReply(c, c.argv[1]);
  if (id === undefined) return;
  if (id < 0 || id >= server.dbs.length) return addReplyError(c, E.dbIndex);
  c.db = id;
  addReplyOK(c);
}

/* SWAPDB index1 index2 */
function swapdbCommand(c: Client): void {
  const a = parseInt32OrReply(c, c.argv[1], "ERR invalid first DB index");
  if (a === undefined) return;
  const b = parseInt32OrReply(c, c.argv[2], "ERR invalid second DB index");
  if (b === undefined) return;
  if (a < 0 || a >= server.dbs.length || b < 0 || b >= server.dbs.length) return addReplyError(c, E.dbIndex);
  if (a === b) return addReplyOK(c);
  const dbs = server.dbs;
  touchAllWatchedKeysInDb(dbs[a], dbs[b]);
  touchAllWatchedKeysInDb(dbs[b], dbs[a]);
  [dbs[a], dbs[b]] = [dbs[b], dbs[a]];
  dbs[a].id = a;
  dbs[b].id = b;
  // Blocked clients stay with the index they blocked on, and may now find their keys.
  [dbs[a].blocking, dbs[b].blocking] = [dbs[b].blocking, dbs[a].blocking];
  [dbs[a].watched, dbs[b].watched] = [dbs[b].watched, dbs[a].watched];
  for (const db of [dbs[a], dbs[b]]) for (const key of db.blocking.keys()) if (db.has(key)) signalKeyAsReady(db, key);
  server.dirty++;
  addReplyOK(c);
}

/* DBSIZE */
function dbsizeCommand(c: Client): void { addReplyLongLong(c, cdb(c).size); }

/** FLUSHDB's and FLUSHALL's [ASYNC | SYNC] argument; false after replying a syntax error. */
function parseFlushFlagsOrReply(c: Client): boolean {
  if (c.argv.length > 2) { addReplyError(c, E.syntax); return false; }
  if (c.argv.length === 2 && !["sync", "async"].includes(c.argv[1].toLowerCase())) { addReplyError(c, E.syntax); return false; }
  return true;
}

/* FLUSHDB [ASYNC | SYNC] */
function flushdbCommand(c: Client): void {
  if (!parseFlushFlagsOrReply(c)) return;
  server.dirty += emptyData(c.db);
  // Propagated even when the database was already empty, as Redis forces it.
  alsoPropagate(c.db, c.argv);
  c.preventProp = true;
  addReplyOK(c);
}

/* FLUSHALL [ASYNC | SYNC]: a BGSAVE in progress is stopped (it would save what is gone), and with
 * save points the empty dataset is saved at once, as Redis does. */
function flushallCommand(c: Client): void {
  if (!parseFlushFlagsOrReply(c)) return;
  server.dirty += emptyData(-1);
  killRdbChild();
  if (hot.hasSavePoints) rdbSave(false);
  alsoPropagate(c.db, c.argv);
  c.preventProp = true;
  addReplyOK(c);
}

// --- SORT
//
// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE dest]
// sorts a list, set or sorted set numerically (or ALPHA, by bytes), by the elements or by keys
// their names make (BY weight_*, BY h_*->field), and replies or stores them or keys they name
// (GET #, GET data_*). BY a pattern without '*' does not sort: elements come in their own order.

/** The value a pattern names for an element (Redis's lookupKeyByPattern): `#` is the element;
 *  `*` is replaced by it, and after `->` comes a hash field; a key of the wrong type, or a
 *  pattern without `*`, names nothing. */
function sortLookupByPattern(db: Db, pattern: string, ele: string): string | null {
  if (pattern === "#") return ele;
  const star = pattern.indexOf("*");
  if (star < 0) return null;
  const arrow = pattern.indexOf("->", star + 1);
  const field = arrow >= 0 && arrow + 2 < pattern.length ? pattern.slice(arrow + 2) : null;
  const key = pattern.slice(0, star) + ele + pattern.slice(star + 1, field !== null ? arrow : pattern.length);
  const v = lookupKeyRead(db, key);
  if (v === undefined) return null;
  if (field !== null) return v instanceof RHash ? v.dict.get(field) ?? null : null;
  return isString(v) ? strOf(v) : null;
}

/** strtod as SORT checks it: the whole string a number (leading spaces allowed, "" is 0), not
 *  NaN, and not out of a double's range. */
function sortScore(s: string): number | null {
  const d = strtodWhole(s);
  if (d === null || (!Number.isFinite(d) && !/inf/i.test(s))) return null;
  return d;
}

/** True when some selector of the user allows the command with access to every key: what BY and
 *  GET with a pattern need, since the keys they read are not known in advance. */
function aclHasFullKeyAccess(c: Client, cmd: RedisCommand): boolean {
  const u = c.user;
  if (!u || u.unrestricted) return true;
  return u.selectors.some((s) => (s.allKeys || s.keys.some((k) => k.pattern === "*" && (k.perms & KEY_READ))) &&
    aclSelectorCheck(s, cmd, c.argv, { list: [] }) === ACL_OK);
}

/* SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE destination] */
function sortCommand(c: Client): void { sortGenericCommand(c, false); }
/* SORT_RO: SORT without STORE */
function sortRoCommand(c: Client): void { sortGenericCommand(c, true); }

function sortGenericCommand(c: Client, readonly: boolean): void {
  const db = cdb(c), argv = c.argv;
  let desc = false, alpha = false, dontsort = false, limitStart = 0, limitCount = -1;
  let storeKey: string | null = null, sortBy: string | null = null;
  const gets: string[] = [];
  const cmd = lookupCommand(argv)!;
  for (let j = 2; j < argv.length; j++) {
    const opt = argv[j].toLowerCase(), left = argv.length - j - 1;
    if (opt === "asc") desc = false;
    else if (opt === "desc") desc = true;
    else if (opt === "alpha") alpha = true;
    else if (opt === "limit" && left >= 2) {
      const l = parseLimitOrReply(c, j);
      if (!l) return;
      [limitStart, limitCount] = l;
      j += 2;
    } else if (!readonly && opt === "store" && left >= 1) storeKey = argv[++j];
    else if (opt === "by" && left >= 1) {
      sortBy = argv[++j];
      if (!sortBy.includes("*")) dontsort = true;
      else if (!aclHasFullKeyAccess(c, cmd)) return addReplyError(c, "ERR BY option of SORT denied due to insufficient ACL permissions.");
    } else if (opt === "get" && left >= 1) {
      if (!aclHasFullKeyAccess(c, cmd)) return addReplyError(c, "ERR GET option of SORT denied due to insufficient ACL permissions.");
      gets.push(argv[++j]);
    } else return addReplyError(c, E.syntax);
  }
  const v = lookupKeyRead(db, argv[1]);
  if (v !== undefined && !(v instanceof RList || v instanceof RSet || v instanceof RZSet)) return addReplyError(c, E.wrongType);
  // A set has no order of its own to keep: stored, or read by a script, it is sorted anyway, so
  // that what replicas and the AOF get is what the master has.
  if (dontsort && v instanceof RSet && (storeKey !== null || c === scripting.client)) {
    dontsort = false;
    alpha = true;
    sortBy = null;
  }
  const len = v === undefined ? 0 : v instanceof RList ? v.length : v.size;
  let start = Math.min(Math.max(limitStart, 0), len);
  const count = Math.min(Math.max(limitCount, -1), len);
  let end = count < 0 ? len - 1 : start + count - 1;
  if (start >= len) { start = len - 1; end = len - 2; }
  if (end >= len) end = len - 1;
  // The elements: for a list or a sorted set left unsorted, only the range, in order (reversed
  // with DESC); otherwise all of them.
  let elements: string[] = [];
  if ((v instanceof RList || v instanceof RZSet) && dontsort) {
    if (end >= start) {
      if (v instanceof RList) {
        for (let i = start; i <= end; i++) elements.push(v.get(desc ? len - 1 - i : i));
      } else elements = zsetRangeByRank(v, start, end, desc).map((e) => e.member);
      end -= start;
      start = 0;
    }
  } else if (v instanceof RList) {
    for (let i = 0; i < len; i++) elements.push(v.get(i));
  } else if (v instanceof RSet) elements = v.members();
  else if (v instanceof RZSet) elements = zsetRangeByRank(v, 0, -1, false).map((e) => e.member);
  if (!dontsort) {
    const n = elements.length, scores = new Float64Array(n), byValues: (string | null)[] = new Array(n).fill(null);
    let conversionError = false;
    for (let j = 0; j < n && !conversionError; j++) {
      const by = sortBy !== null ? sortLookupByPattern(db, sortBy, elements[j]) : elements[j];
      if (by === null) continue; // no such key: score 0, or first in an ALPHA sort
      if (alpha) { if (sortBy !== null) byValues[j] = by; }
      else {
        const d = sortScore(by);
        if (d === null) conversionError = true;
        else scores[j] = d;
      }
    }
    if (conversionError) return addReplyError(c, "ERR One or more scores can't be converted into double");
    const bytes = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    const compare = (x: number, y: number) => {
      let cmp: number;
      if (!alpha) cmp = scores[x] > scores[y] ? 1 : scores[x] < scores[y] ? -1 : bytes(elements[x], elements[y]);
      else if (sortBy !== null) {
        const a = byValues[x], b = byValues[y];
        cmp = a === null || b === null ? (a === b ? 0 : a === null ? -1 : 1) : bytes(a, b);
      } else cmp = bytes(elements[x], elements[y]);
      return desc ? -cmp : cmp;
    };
    // Ties (ALPHA BY) end in Redis's order: its qsort is glibc's stable merge sort, as Array.sort
    // is, but with BY and a LIMIT that leaves some out it uses pqsort.
    const order = Array.from({ length: n }, (_, j) => j);
    if (sortBy !== null && (start !== 0 || end !== n - 1)) partialQuicksort(order, compare, start, end);
    else order.sort(compare);
    elements = order.map((j) => elements[j]);
  }
  const picked = end >= start ? elements.slice(start, end + 1) : [];
  const outputLen = gets.length ? gets.length * picked.length : picked.length;
  if (storeKey === null) {
    addReplyArrayLen(c, outputLen);
    for (const ele of picked) {
      if (!gets.length) addReplyBulk(c, ele);
      for (const pattern of gets) {
        const val = sortLookupByPattern(db, pattern, ele);
        val === null ? addReplyNull(c) : addReplyBulk(c, val);
      }
    }
    return;
  }
  if (outputLen) {
    const list = new RList();
    for (const ele of picked) {
      if (!gets.length) list.push(ele, LIST_TAIL);
      for (const pattern of gets) list.push(sortLookupByPattern(db, pattern, ele) ?? "", LIST_TAIL);
    }
    setKey(db, storeKey, list);
    keyModified(db, storeKey, NOTIFY_LIST, "sortstore");
    server.dirty += outputLen;
  } else if (dbDelete(db, storeKey)) {
    keyModified(db, storeKey, NOTIFY_GENERIC, "del");
    server.dirty++;
  }
  addReplyLongLong(c, outputLen);
}

/** This chapter's rows of the command table (see Dispatch). */
const KEY_COMMANDS: CommandRows[] = [
  { group: "connection", specs: [
    ["select", 2, "loading stale fast", 0, 0, 0, "connection", selectCommand],
  ] },
  { group: "generic", specs: [
    ["del", -2, "write", 1, -1, 1, "keyspace", delCommand],
    ["unlink", -2, "write fast", 1, -1, 1, "keyspace", delCommand],
    ["exists", -2, "readonly fast", 1, -1, 1, "keyspace", existsCommand],
    ["touch", -2, "readonly fast", 1, -1, 1, "keyspace", touchCommand],
    ["type", 2, "readonly fast", 1, 1, 1, "keyspace", typeCommand],
    ["keys", 2, "readonly", 0, 0, 0, "keyspace dangerous", keysCommand],
    ["scan", -2, "readonly", 0, 0, 0, "keyspace", scanCommand],
    ["randomkey", 1, "readonly", 0, 0, 0, "keyspace", randomkeyCommand],
    ["rename", 3, "write", 1, 2, 1, "keyspace", renameCommand],
    ["renamenx", 3, "write fast", 1, 2, 1, "keyspace", renamenxCommand],
    ["copy", -3, "write denyoom", 1, 2, 1, "keyspace", copyCommand],
    ["sort", -2, "write denyoom movablekeys", 1, 1, 1, "set sortedset list dangerous", sortCommand],
    ["sort_ro", -2, "readonly movablekeys", 1, 1, 1, "set sortedset list dangerous", sortRoCommand],
    ["move", 3, "write fast", 1, 1, 1, "keyspace", moveCommand],
    ["expire", -3, "write fast", 1, 1, 1, "keyspace", expireCommand],
    ["pexpire", -3, "write fast", 1, 1, 1, "keyspace", pexpireCommand],
    ["expireat", -3, "write fast", 1, 1, 1, "keyspace", expireatCommand],
    ["pexpireat", -3, "write fast", 1, 1, 1, "keyspace", pexpireatCommand],
    ["ttl", 2, "readonly fast", 1, 1, 1, "keyspace", ttlCommand],
    ["pttl", 2, "readonly fast", 1, 1, 1, "keyspace", pttlCommand],
    ["expiretime", 2, "readonly fast", 1, 1, 1, "keyspace", expiretimeCommand],
    ["pexpiretime", 2, "readonly fast", 1, 1, 1, "keyspace", pexpiretimeCommand],
    ["persist", 2, "write fast", 1, 1, 1, "keyspace", persistCommand],
  ] },
  { group: "server", specs: [
    ["swapdb", 3, "write fast", 0, 0, 0, "keyspace dangerous", swapdbCommand],
    ["dbsize", 1, "readonly fast", 0, 0, 0, "keyspace", dbsizeCommand],
    ["flushdb", -1, "write", 0, 0, 0, "keyspace dangerous", flushdbCommand],
    ["flushall", -1, "write", 0, 0, 0, "keyspace dangerous", flushallCommand],
  ] },
];

// ============================================================================================
// Server
//
// Connection and introspection commands: PING, HELLO, CLIENT, COMMAND, MONITOR, SLOWLOG,
// LATENCY, MEMORY, OBJECT, DEBUG, SHUTDOWN, INFO. Each family has a sub-banner.
// ============================================================================================

/* PING [message] */
function pingCommand(c: Client): void {
  if (c.argv.length > 2) return addReplyError(c, "ERR wrong number of arguments for 'ping' command");
  if (c.resp === 2 && clientTotalSubscriptions(c) > 0) {
    addReplyArrayLen(c, 2);
    addReplyBulk(c, "pong");
    return addReplyBulk(c, c.argv[1] ?? "");
  }
  if (c.argv.length === 1) addReplyProto(c, "+PONG\r\n");
  else addReplyBulk(c, c.argv[1]);
}

/* ECHO message */
function echoCommand(c: Client): void { addReplyBulk(c, c.argv[1]); }

/* QUIT */
function quitCommand(c: Client): void {
  addReplyOK(c);
  c.closeAfterReply = true;
}

/* RESET: back to a fresh connection's state. */
function resetCommand(c: Client): void {
  discardTransaction(c);
  pubsubUnsubscribeEverything(c);
  c.db = 0;
  c.resp = 2;
  c.name = "";
  c.replyOff = c.replySkip = c.replySkipNext = false;
  c.noEvict = false;
  c.noTouch = false;
  if (c.monitor) { c.monitor = false; server.monitors.delete(c); }
  if (c.tracking & TRACKING_ON) disableTracking(c);
  clientSetDefaultAuth(c);
  addReplyStatus(c, "RESET");
}

/* HELLO [protover [AUTH username password] [SETNAME clientname]] */
function helloCommand(c: Client): void {
  const argv = c.argv;
  let ver = 0;
  if (argv.length >= 2) {
    const v = string2ll(argv[1]);
    if (v === null) return addReplyError(c, "ERR Protocol version is not an integer or out of range");
    if (v < 2 || v > 3) return addReplyError(c, "NOPROTO unsupported protocol version");
    ver = v;
  }
  let user: string | undefined, pass: string | undefined;
  for (let j = 2; j < argv.length; j++) {
    const more = argv.length - j - 1;
    const opt = argv[j].toLowerCase();
    if (opt === "auth" && more >= 2) { user = argv[++j]; pass = argv[++j]; }
    else if (opt === "setname" && more >= 1) {
      // Redis 7.0 names the client as it parses, so a later bad option leaves the name set.
      if (!setClientNameOrReply(c, argv[++j])) return;
    }
    else return addReplyError(c, `ERR Syntax error in HELLO option '${argv[j]}'`);
  }
  if (user !== undefined && !aclAuthenticate(c, user, pass!)) return addReplyError(c, E.wrongPass);
  if (authRequired(c)) return addReplyError(c, "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
  if (ver) c.resp = ver;
  addReplyMapLen(c, 7);
  addReplyBulk(c, "server"); addReplyBulk(c, "redis");
  addReplyBulk(c, "version"); addReplyBulk(c, REDIS_VERSION);
  addReplyBulk(c, "proto"); addReplyLongLong(c, c.resp);
  addReplyBulk(c, "id"); addReplyLongLong(c, c.id);
  addReplyBulk(c, "mode"); addReplyBulk(c, "standalone");
  addReplyBulk(c, "role"); addReplyBulk(c, "master");
  addReplyBulk(c, "modules"); addReplyArrayLen(c, 0);
}

/** Validates and sets a client name: no spaces or newlines, as Redis. */
function setClientNameOrReply(c: Client, name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name.charCodeAt(i);
    if (ch < 33 || ch > 126) {
      addReplyError(c, "ERR Client names cannot contain spaces, newlines or special characters.");
      return false;
    }
  }
  c.name = name;
  return true;
}

/* TIME */
function timeCommand(c: Client): void {
  // In microseconds; on a moved clock, its offset added (or, frozen, where it stands).
  const us = isFrozen(timeCtl) ? timeCtl[1] * 1000 : Math.floor((performance.timeOrigin + performance.now() + timeCtl[0]) * 1000);
  addReplyArrayLen(c, 2);
  addReplyBulk(c, String(Math.floor(us / 1e6)));
  addReplyBulk(c, String(us % 1e6));
}

/* LASTSAVE: the time of the last successful save; the start time until one happens. */
function lastsaveCommand(c: Client): void { addReplyLongLong(c, server.lastSave); }

// --- CLIENT

/* CLIENT <subcommand> ... */
function clientIdCommand(c: Client): void { addReplyLongLong(c, c.id); }
function clientGetnameCommand(c: Client): void { c.name ? addReplyBulk(c, c.name) : addReplyNull(c); }
function clientSetnameCommand(c: Client): void { if (setClientNameOrReply(c, c.argv[2])) addReplyOK(c); }
function clientInfoCommand(c: Client): void { addReplyVerbatim(c, clientInfoString(c) + "\n"); }

/* CLIENT LIST [TYPE normal|master|replica|pubsub] [ID client-id ...] */
function clientListCommand(c: Client): void {
  const argv = c.argv;
  let clients = [...server.clients.values()];
  if (argv.length === 4 && argv[2].toLowerCase() === "type") {
    const type = argv[3].toLowerCase();
    if (!["normal", "master", "replica", "slave", "pubsub"].includes(type)) return addReplyError(c, `ERR Unknown client type '${argv[3]}'`);
    clients = clients.filter((x) => clientType(x) === (type === "slave" ? "replica" : type));
  } else if (argv.length >= 4 && argv[2].toLowerCase() === "id") {
    const ids = new Set<number>();
    for (const s of argv.slice(3)) {
      const id = string2ll(s);
      if (id === null || id <= 0) return addReplyError(c, "ERR Invalid client ID");
      ids.add(id);
    }
    clients = clients.filter((x) => ids.has(x.id));
  } else if (argv.length !== 2) return addReplyError(c, E.syntax);
  addReplyVerbatim(c, clients.map((x) => clientInfoString(x) + "\n").join(""));
}

/* CLIENT SETINFO <LIB-NAME libname | LIB-VER libver> (Redis 7.2) */
function clientSetinfoCommand(c: Client): void {
  const attr = c.argv[2].toLowerCase(), val = c.argv[3];
  if (attr !== "lib-name" && attr !== "lib-ver") return addReplyError(c, `ERR Unrecognized option '${c.argv[2]}'`);
  for (let i = 0; i < val.length; i++) {
    const ch = val.charCodeAt(i);
    if (ch < 33 || ch > 126) return addReplyError(c, `ERR ${attr} cannot contain spaces, newlines or special characters.`);
  }
  if (attr === "lib-name") c.libName = val;
  else c.libVer = val;
  addReplyOK(c);
}

/** CLIENT NO-EVICT / NO-TOUCH on|off. */
function clientOnOff(c: Client, set: (on: boolean) => void): void {
  const v = c.argv[2].toLowerCase();
  if (v !== "on" && v !== "off") return addReplyError(c, E.syntax);
  set(v === "on");
  addReplyOK(c);
}
function clientNoEvictCommand(c: Client): void { clientOnOff(c, (on) => (c.noEvict = on)); }
function clientNoTouchCommand(c: Client): void { clientOnOff(c, (on) => (c.noTouch = on)); }

/* CLIENT REPLY ON|OFF|SKIP */
function clientReplyCommand(c: Client): void {
  const mode = c.argv[2].toLowerCase();
  if (mode === "on") {
    c.replyOff = c.replySkip = false;
    addReplyOK(c);
  } else if (mode === "off") c.replyOff = true;
  else if (mode === "skip") { if (!c.replyOff) c.replySkipNext = true; } // SKIP means nothing while OFF
  else addReplyError(c, E.syntax);
}

/* CLIENT KILL addr | CLIENT KILL [ID id] [ADDR addr] [LADDR addr] [USER user] [SKIPME yes|no] */
function clientKillCommand(c: Client): void {
  const argv = c.argv;
  if (argv.length === 3) {
    const victim = [...server.clients.values()].find((x) => x.addr === argv[2]);
    if (!victim) return addReplyError(c, "ERR No such client");
    addReplyOK(c);
    killClient(c, victim);
    return;
  }
  let id: number | undefined, addr: string | undefined, laddr: string | undefined, user: AclUser | undefined, type: string | undefined, skipme = true;
  for (let j = 2; j < argv.length; j += 2) {
    const opt = argv[j].toLowerCase();
    if (j + 1 >= argv.length) return addReplyError(c, E.syntax);
    const val = argv[j + 1];
    if (opt === "id") {
      const n = string2ll(val);
      if (n === null || n <= 0) return addReplyError(c, "ERR client-id should be greater than 0");
      id = n;
    } else if (opt === "addr") addr = val;
    else if (opt === "laddr") laddr = val;
    else if (opt === "user") {
      user = aclUsers.get(val);
      if (!user) return addReplyError(c, `ERR No such user '${val}'`);
    }
    else if (opt === "type") {
      if (!["normal", "master", "replica", "slave", "pubsub"].includes(val.toLowerCase())) return addReplyError(c, `ERR Unknown client type '${val}'`);
      type = val.toLowerCase() === "slave" ? "replica" : val.toLowerCase();
    } else if (opt === "skipme") {
      const v = val.toLowerCase();
      if (v !== "yes" && v !== "no") return addReplyError(c, E.syntax);
      skipme = v === "yes";
    } else return addReplyError(c, E.syntax);
  }
  const victims = [...server.clients.values()].filter((x) =>
    (id === undefined || x.id === id) && (addr === undefined || x.addr === addr) && (laddr === undefined || x.laddr === laddr) &&
    (user === undefined || x.user === user) && (type === undefined || clientType(x) === type) && !(skipme && x === c));
  addReplyLongLong(c, victims.length);
  for (const v of victims) killClient(c, v);
}

/** Closes a client; killing oneself waits until the reply is written. */
function killClient(c: Client, victim: Client): void {
  if (victim === c) c.closeAfterReply = true;
  else freeClient(victim);
}

/* CLIENT PAUSE timeout [WRITE | ALL] */
function clientPauseCommand(c: Client): void {
  let type: "all" | "write" = "all";
  if (c.argv.length === 4) {
    const m = c.argv[3].toLowerCase();
    if (m !== "write" && m !== "all") return addReplyError(c, "ERR CLIENT PAUSE mode must be WRITE or ALL");
    type = m;
  }
  const ms = parseIntOrReply(c, c.argv[2], "ERR timeout is not an integer or out of range");
  if (ms === undefined) return;
  if (ms < 0) return addReplyError(c, "ERR timeout is negative");
  // As Redis's pauseClients: the latest type applies, and the later end time is kept. The end is
  // the timeout plus the clock in a long long: past LLONG_MAX it wraps negative, so no pause.
  const end = BigInt(c.argv[2]) + BigInt(now()) > LLONG_MAX ? -1 : now() + ms;
  server.pauseType = type;
  server.pauseEnd = server.pauseEnd > now() ? Math.max(server.pauseEnd, end) : end;
  addReplyOK(c);
  if (type === "write") afterThisCommand(unpauseClients); // reads held by an earlier ALL pause may go
}

/* CLIENT UNBLOCK client-id [TIMEOUT | ERROR] */
function clientUnblockCommand(c: Client): void {
  let error = false;
  if (c.argv.length === 4) {
    const how = c.argv[3].toLowerCase();
    if (how === "error") error = true;
    else if (how !== "timeout") return addReplyError(c, "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
  }
  const id = parseIntOrReply(c, c.argv[2]);
  if (id === undefined) return;
  const target = server.clients.get(id);
  if (!target || !target.bstate) return addReplyLongLong(c, 0);
  const blockedArgv = target.bstate.argv, start = performance.now();
  unblockClient(target);
  replyLater(target, blockedArgv, () => error ? addReplyError(target, "UNBLOCKED client unblocked via CLIENT UNBLOCK") : addReplyNullArray(target));
  // Redis 7.0 counts the unblocked command as failed either way (updateStatsOnUnblock(..., 1)).
  blockedCommandServed(target, blockedArgv, start, stats.errorReplies, true);
  addReplyLongLong(c, 1);
  // Like a timeout, the unblocked client resumes after this command.
  afterThisCommand(() => resumeClient(target));
}

/* CLIENT UNPAUSE */
function clientUnpauseCommand(c: Client): void {
  server.pauseEnd = 0;
  addReplyOK(c);
  afterThisCommand(unpauseClients);
}

/** Runs the commands held back by CLIENT PAUSE, then whatever those clients sent after them. */
function unpauseClients(): void {
  const held = [...server.pausedClients];
  server.pausedClients.clear();
  for (const c of held) {
    if (c.closed || !c.paused) continue;
    const cmd = lookupCommand(c.paused);
    if (isPausedFor(cmd ? pauseFlags(c, cmd, c.paused) : 0)) { server.pausedClients.add(c); continue; }
    c.argv = c.paused;
    c.paused = null;
    processCommandAndResetClient(c);
    c.argv = [];
    if (!c.paused) processInputBuffer(c);
  }
}

/* CLIENT HELP: Redis 7.0's text for the subcommands Redbun has, and 7.2's for SETINFO and NO-TOUCH. */
function clientHelpCommand(c: Client): void {
  addReplyHelp(c, "CLIENT", [
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
  ]);
}

// --- COMMAND

/** One command's COMMAND INFO entry: Redis 7's ten fields. */
function addReplyCommandInfo(c: Client, cmd: RedisCommand): void {
  addReplyArrayLen(c, 10);
  addReplyBulk(c, cmd.name);
  addReplyLongLong(c, cmd.arity);
  // may_replicate and protected are internal flags: COMMAND hides them, as Redis does.
  const flags = FLAG_NAMES.filter((_, i) => cmd.flags & (1 << i) & ~(CMD_MAY_REPLICATE | CMD_PROTECTED));
  addReplySetLen(c, flags.length);
  for (const f of flags) addReplyStatus(c, f);
  addReplyLongLong(c, cmd.firstKey);
  addReplyLongLong(c, cmd.lastKey);
  addReplyLongLong(c, cmd.step);
  const cats = ACL_CATEGORIES.filter((_, i) => cmd.categories & (1 << i));
  addReplySetLen(c, cats.length);
  for (const cat of cats) addReplyStatus(c, "@" + cat);
  addReplySetLen(c, 0); // tips
  // One key spec derived from the legacy range; Redis has hand-written specs with finer flags.
  if (cmd.firstKey > 0) {
    addReplySetLen(c, 1);
    addReplyMapLen(c, 3);
    addReplyBulk(c, "flags");
    const kflags = cmd.flags & CMD_WRITE ? ["RW", "update"] : ["RO", "access"];
    addReplySetLen(c, 2);
    for (const f of kflags) addReplyStatus(c, f);
    addReplyBulk(c, "begin_search");
    addReplyMapLen(c, 2);
    addReplyBulk(c, "type"); addReplyBulk(c, "index");
    addReplyBulk(c, "spec"); addReplyMapLen(c, 1); addReplyBulk(c, "index"); addReplyLongLong(c, cmd.firstKey);
    addReplyBulk(c, "find_keys");
    addReplyMapLen(c, 2);
    addReplyBulk(c, "type"); addReplyBulk(c, "range");
    addReplyBulk(c, "spec"); addReplyMapLen(c, 3);
    addReplyBulk(c, "lastkey"); addReplyLongLong(c, cmd.lastKey < 0 ? cmd.lastKey : cmd.lastKey - cmd.firstKey);
    addReplyBulk(c, "keystep"); addReplyLongLong(c, cmd.step);
    addReplyBulk(c, "limit"); addReplyLongLong(c, 0);
  } else addReplySetLen(c, 0);
  const subs = cmd.subcommands ? [...cmd.subcommands.values()] : [];
  if (subs.length) addReplyArrayLen(c, subs.length);
  else addReplySetLen(c, 0);
  for (const s of subs) addReplyCommandInfo(c, s);
}

/** Finds a command by "name" or "name|sub", as COMMAND INFO/DOCS take them. */
function lookupCommandByName(name: string): RedisCommand | undefined {
  const [base, sub, more] = name.toLowerCase().split("|");
  if (more !== undefined) return undefined;
  const cmd = commandTable.get(base);
  return sub === undefined ? cmd : cmd?.subcommands?.get(sub);
}

/* COMMAND */
function commandCommand(c: Client): void {
  addReplyArrayLen(c, commandTable.size);
  for (const cmd of commandTable.values()) addReplyCommandInfo(c, cmd);
}

/* COMMAND COUNT */
function commandCountCommand(c: Client): void { addReplyLongLong(c, commandTable.size); }

/* COMMAND INFO [command-name ...] */
function commandInfoCommand(c: Client): void {
  if (c.argv.length === 2) return commandCommand(c);
  addReplyArrayLen(c, c.argv.length - 2);
  for (const name of c.argv.slice(2)) {
    const cmd = lookupCommandByName(name);
    if (cmd) addReplyCommandInfo(c, cmd);
    else addReplyNull(c);
  }
}

/* COMMAND DOCS [command-name ...]: the group of each command and its subcommands (Redbun carries
 * no per-argument documentation). */
function commandDocsCommand(c: Client): void {
  const cmds = c.argv.length === 2 ? [...commandTable.values()] : c.argv.slice(2).map(lookupCommandByName).filter((x): x is RedisCommand => !!x);
  const docs = (cmd: RedisCommand): void => {
    const subs = cmd.subcommands ? [...cmd.subcommands.values()] : [];
    addReplyMapLen(c, subs.length ? 2 : 1);
    addReplyBulk(c, "group"); addReplyBulk(c, cmd.group);
    if (subs.length) {
      addReplyBulk(c, "subcommands");
      addReplyMapLen(c, subs.length);
      for (const s of subs) { addReplyBulk(c, s.name); docs(s); }
    }
  };
  addReplyMapLen(c, cmds.length);
  for (const cmd of cmds) { addReplyBulk(c, cmd.name); docs(cmd); }
}

/* COMMAND LIST [FILTERBY MODULE module-name | ACLCAT category | PATTERN pattern] */
function commandListCommand(c: Client): void {
  const argv = c.argv;
  let filter = (_: RedisCommand) => true;
  if (argv.length === 5 && argv[2].toLowerCase() === "filterby") {
    const kind = argv[3].toLowerCase(), arg = argv[4];
    if (kind === "module") filter = () => false;
    else if (kind === "aclcat") {
      const bit = ACL_CATEGORIES.indexOf(arg.toLowerCase());
      filter = (cmd) => bit >= 0 && (cmd.categories & (1 << bit)) !== 0;
    } else if (kind === "pattern") filter = (cmd) => stringmatch(arg, cmd.name, true);
    else return addReplyError(c, E.syntax);
  } else if (argv.length !== 2) return addReplyError(c, E.syntax);
  const names: string[] = [];
  for (const cmd of commandTable.values()) {
    if (filter(cmd)) names.push(cmd.name);
    for (const s of cmd.subcommands?.values() ?? []) if (filter(s)) names.push(s.name);
  }
  addReplyBulks(c, names);
}

/** Where the numkeys argument sits in commands whose keys move (LMPOP numkeys key ...). */
const NUMKEYS_INDEX: Record<string, number> = {
  lmpop: 1, blmpop: 2, sintercard: 1, zmpop: 1, bzmpop: 2, zunion: 1, zinter: 1, zdiff: 1, zintercard: 1,
  zunionstore: 2, zinterstore: 2, zdiffstore: 2, eval: 2, evalsha: 2, eval_ro: 2, evalsha_ro: 2, fcall: 2, fcall_ro: 2,
};

/** The key positions of a command line, from the table's first/last/step or its numkeys. */
function getKeysFromCommand(cmd: RedisCommand, argv: string[]): number[] {
  if (cmd.name === "xread" || cmd.name === "xreadgroup") {
    // The keys are the first half of what follows STREAMS.
    const s = argv.findIndex((a, i) => i > 0 && a.toLowerCase() === "streams");
    if (s < 0 || (argv.length - s - 1) % 2) return [];
    const n = (argv.length - s - 1) / 2;
    return Array.from({ length: n }, (_, i) => s + 1 + i);
  }
  if (cmd.name === "georadius" || cmd.name === "georadiusbymember") {
    // The key, then the words after the first STORE and the first STOREDIST, as Redis's key
    // specs find them (searching from the options, never in the last argument).
    const keys = [1];
    for (const word of ["store", "storedist"]) {
      for (let i = cmd.name === "georadius" ? 6 : 5; i < argv.length - 1; i++) {
        if (argv[i].toLowerCase() === word) { keys.push(i + 1); break; }
      }
    }
    return keys;
  }
  if (cmd.name === "migrate") return migrateGetKeys(argv);
  if (cmd.name === "sort") {
    // The key, and STORE's (the last one given), skipping the other options' arguments.
    let store = -1;
    for (let i = 2; i < argv.length; i++) {
      const o = argv[i].toLowerCase();
      if (o === "limit") i += 2;
      else if (o === "get" || o === "by") i += 1;
      else if (o === "store") store = ++i;
    }
    return store > 0 && store < argv.length ? [1, store] : [1];
  }
  const nk = NUMKEYS_INDEX[cmd.name];
  if (nk !== undefined) {
    const n = string2ll(argv[nk] ?? "");
    if (n === null || n < 1 || nk + n >= argv.length) return [];
    const keys = cmd.name.endsWith("store") ? [1] : [];
    for (let i = 1; i <= n; i++) keys.push(nk + i);
    return keys;
  }
  if (cmd.firstKey <= 0) return [];
  const last = cmd.lastKey < 0 ? argv.length + cmd.lastKey : cmd.lastKey;
  const keys: number[] = [];
  for (let i = cmd.firstKey; i <= last && i < argv.length; i += cmd.step) keys.push(i);
  return keys;
}

/* COMMAND GETKEYS command [arg ...] */
function commandGetkeysCommand(c: Client): void {
  const argv = c.argv.slice(2);
  const cmd = lookupCommand(argv);
  if (!cmd) return addReplyError(c, "ERR Invalid command specified");
  if ((cmd.arity > 0 && argv.length !== cmd.arity) || argv.length < -cmd.arity) return addReplyError(c, "ERR Invalid number of arguments specified for command");
  const keys = getKeysFromCommand(cmd, argv);
  if (!keys.length) {
    if (cmd.flags & CMD_NO_MANDATORY_KEYS) return addReplyArrayLen(c, 0);
    return addReplyError(c, "ERR The command has no key arguments");
  }
  addReplyBulks(c, keys.map((i) => argv[i]));
}

function commandHelpCommand(c: Client): void {
  addReplyHelp(c, "COMMAND", [
    "(no subcommand)", "    Return details about all Redis commands.",
    "COUNT", "    Return the total number of commands in this Redis server.",
    "LIST", "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]", "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]", "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>", "    Return the keys from a full Redis command.",
  ]);
}

// --- MONITOR

/* MONITOR: from now on, this client receives every command the server runs. */
function monitorCommand(c: Client): void {
  if (c.monitor) return addReplyOK(c);
  c.monitor = true;
  server.monitors.add(c);
  addReplyOK(c);
}

/** Sends one command line to every MONITOR client, in Redis's format. */
/** The arguments as MONITOR and SLOWLOG show them: passwords become "(redacted)", as in Redis. */
function redactedArgv(cmd: RedisCommand, argv: string[]): string[] {
  const R = "(redacted)";
  if (cmd.name === "auth") return [argv[0], ...argv.slice(1).map(() => R)];
  if (cmd.name === "acl|setuser") return [...argv.slice(0, 2), ...argv.slice(2).map(() => R)];
  if (cmd.name === "hello") {
    const out = argv.slice();
    for (let j = 2; j < out.length; j++) {
      if (out[j].toLowerCase() === "auth" && j + 2 < out.length) { out[j + 1] = out[j + 2] = R; j += 2; }
      else if (out[j].toLowerCase() === "setname") j++;
    }
    return out;
  }
  if (cmd.name === "migrate") {
    const out = argv.slice();
    for (let j = 6; j < out.length; j++) {
      const opt = out[j].toLowerCase();
      if (opt === "auth" && j + 1 < out.length) out[++j] = R;
      else if (opt === "auth2" && j + 2 < out.length) { out[++j] = R; out[++j] = R; }
      else if (opt === "keys") break;
    }
    return out;
  }
  if (cmd.name === "config|set") {
    const out = argv.slice();
    for (let j = 2; j + 1 < out.length; j += 2) if (["requirepass", "masterauth"].includes(out[j].toLowerCase())) out[j + 1] = R;
    return out;
  }
  return argv;
}

function feedMonitors(c: Client, argv: string[]): void {
  const t = performance.timeOrigin + performance.now();
  const secs = Math.floor(t / 1000), us = Math.floor((t * 1000) % 1e6);
  const line = `+${secs}.${String(us).padStart(6, "0")} [${c.db} ${c.addr}] ${argv.map(reprString).join(" ")}\r\n`;
  for (const m of server.monitors) addReplyProto(m, line);
}

// --- SLOWLOG

interface SlowlogEntry { id: number; time: number; usec: number; argv: string[]; addr: string; name: string }

/** Records a command in the slow log when it took at least slowlog-log-slower-than µs. */
function slowlogPush(c: Client, cmd: RedisCommand, usec: number, full = c.argv): void {
  const threshold = hot.slowlogSlowerThan;
  if (threshold < 0 || usec < threshold) return;
  // Redis keeps at most 32 arguments and 128 bytes of each.
  const argv = redactedArgv(cmd, full).slice(0, full.length > 32 ? 31 : 32).map((a) => (a.length > 128 ? `${a.slice(0, 128)}... (${a.length - 128} more bytes)` : a));
  if (full.length > 32) argv.push(`... (${full.length - 31} more arguments)`);
  server.slowlog.unshift({ id: server.slowlogNextId++, time: Math.floor(now() / 1000), usec, argv, addr: c.addr, name: c.name });
  const max = confNum("slowlog-max-len");
  if (server.slowlog.length > max) server.slowlog.length = max;
}

/* SLOWLOG GET [count] | LEN | RESET */
function slowlogGetCommand(c: Client): void {
  let count = 10;
  if (c.argv.length === 3) {
    const n = string2ll(c.argv[2]);
    if (n === null || n < -1) return addReplyError(c, "ERR count should be greater than or equal to -1");
    count = n === -1 ? server.slowlog.length : n;
  }
  const entries = server.slowlog.slice(0, count);
  addReplyArrayLen(c, entries.length);
  for (const e of entries) {
    addReplyArrayLen(c, 6);
    addReplyLongLong(c, e.id);
    addReplyLongLong(c, e.time);
    addReplyLongLong(c, e.usec);
    addReplyBulks(c, e.argv);
    addReplyBulk(c, e.addr);
    addReplyBulk(c, e.name);
  }
}
function slowlogLenCommand(c: Client): void { addReplyLongLong(c, server.slowlog.length); }
function slowlogResetCommand(c: Client): void { server.slowlog = []; addReplyOK(c); }
function slowlogHelpCommand(c: Client): void {
  addReplyHelp(c, "SLOWLOG", [
    "GET [<count>]", "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:", "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name", "LEN", "    Return the length of the slowlog.", "RESET", "    Reset the slowlog.",
  ]);
}

// --- LATENCY

/** Records a latency spike for an event, as Redis's latencyAddSample (one sample per second). */
function latencyAddSample(event: string, ms: number): void {
  const t = Math.floor(now() / 1000);
  let ev = server.latency.get(event);
  if (!ev) server.latency.set(event, (ev = { samples: [], max: 0 }));
  ms = Math.floor(ms); // whole milliseconds, as Redis's duration/1000
  ev.max = Math.max(ev.max, ms);
  const last = ev.samples[ev.samples.length - 1];
  if (last && last.time === t) { last.ms = Math.max(last.ms, ms); return; }
  ev.samples.push({ time: t, ms });
  if (ev.samples.length > 160) ev.samples.shift();
}

/* LATENCY LATEST */
function latencyLatestCommand(c: Client): void {
  addReplyArrayLen(c, server.latency.size);
  for (const [name, ev] of server.latency) {
    const last = ev.samples[ev.samples.length - 1];
    addReplyArrayLen(c, 4);
    addReplyBulk(c, name);
    addReplyLongLong(c, last.time);
    addReplyLongLong(c, last.ms);
    addReplyLongLong(c, ev.max);
  }
}

/* LATENCY HISTORY event */
function latencyHistoryCommand(c: Client): void {
  const ev = server.latency.get(c.argv[2]);
  const samples = ev?.samples ?? [];
  addReplyArrayLen(c, samples.length);
  for (const s of samples) { addReplyArrayLen(c, 2); addReplyLongLong(c, s.time); addReplyLongLong(c, s.ms); }
}

/* LATENCY RESET [event ...] */
function latencyResetCommand(c: Client): void {
  let n = 0;
  if (c.argv.length === 2) { n = server.latency.size; server.latency.clear(); }
  else for (const e of c.argv.slice(2)) if (server.latency.delete(e)) n++;
  addReplyLongLong(c, n);
}

/* LATENCY HISTOGRAM [command ...]: for each command with samples (a container's subcommands
 *  with it), its calls and the cumulative distribution of its latencies. Unknown names are
 *  skipped; every command, in the table's order, when none is named. */
function latencyHistogramCommand(c: Client): void {
  const withData: RedisCommand[] = [];
  const add = (cmd: RedisCommand) => {
    if (cmd.latency) withData.push(cmd);
    for (const sub of cmd.subcommands?.values() ?? []) if (sub.latency) withData.push(sub);
  };
  if (c.argv.length === 2) for (const cmd of commandTable.values()) add(cmd);
  else for (const name of c.argv.slice(2)) { const cmd = lookupCommandByName(name); if (cmd) add(cmd); }
  addReplyMapLen(c, withData.length);
  for (const cmd of withData) {
    addReplyBulk(c, cmd.name);
    addReplyMapLen(c, 2);
    addReplyBulk(c, "calls");
    addReplyLongLong(c, cmd.latencyCount);
    addReplyBulk(c, "histogram_usec");
    // hdr_histogram's logarithmic walk from 1024 ns, doubling: each level reports the calls up
    // to the top of its bucket, in µs, when that count grew since the last level.
    const pairs: number[] = [];
    let seen = 0, idx = 0;
    // Redis's histogram tracks up to 1 s: its last bucket ends at 2^30 - 1 ns, where the walk stops.
    for (let level = 1024; seen < cmd.latencyCount; level *= 2) {
      const top = Math.min(latencyBucketIndex(level), LATENCY_TOP_BUCKET), before = seen;
      for (; idx <= top; idx++) seen += cmd.latency![idx];
      if (seen > before) pairs.push(Math.floor(latencyBucketValue(top) / 1000), seen);
      if (top === LATENCY_TOP_BUCKET) break;
    }
    addReplyMapLen(c, pairs.length / 2);
    for (const n of pairs) addReplyLongLong(c, n);
  }
}

/* LATENCY GRAPH event: the event's samples as an ASCII sparkline, 80 columns wide, 4 rows high,
 *  each column labelled (vertically) with how long ago its sample was taken. */
function latencyGraphCommand(c: Client): void {
  const ev = server.latency.get(c.argv[2]);
  if (!ev) return addReplyError(c, `ERR No samples available for event '${c.argv[2]}'`);
  const t = Math.floor(now() / 1000);
  const ago = (s: number) => s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m` : s < 86400 ? `${Math.floor(s / 3600)}h` : `${Math.floor(s / 86400)}d`;
  const values = ev.samples.map((s) => s.ms), labels = ev.samples.map((s) => ago(t - s.time));
  const high = values.length ? Math.max(...values) : 0, low = values.length ? Math.min(...values) : 0;
  addReplyVerbatim(c, `${c.argv[2]} - high ${high} ms, low ${low} ms (all time high ${ev.max} ms)\n${"-".repeat(80)}\n` +
    sparkline(values, labels, 80, 4));
}

/** Redis's sparkline (sparkline.c, filled style): for every value a column of `rows` rows from
 *  "_o#" steps and '|' fill, scaled between the smallest and largest value, then a blank row and
 *  the labels written downwards; wider sequences wrap in blocks of `columns`. */
function sparkline(values: number[], labels: string[], columns: number, rows: number): string {
  // The sequence's min and max as sparklineSequenceAddSample keeps them (a new minimum is never
  // also checked as a maximum).
  let min = 0, max = 0;
  values.forEach((v, i) => { if (i === 0) min = max = v; else if (v < min) min = v; else if (v > max) max = v; });
  const steps = 3 * rows, relmax = max - min || 1;
  let out = "";
  for (let from = 0; from < values.length; from += columns) {
    if (from !== 0) out += "\n";
    const len = Math.min(columns, values.length - from);
    for (let row = 0; ; row++) {
      let line = "", more = false;
      if (row < rows) {
        more = true;
        for (let j = 0; j < len; j++) {
          // C's (int)(relval*steps)/relmax, truncated again into an int.
          const step = Math.min(steps - 1, Math.max(0, Math.trunc(Math.trunc((values[from + j] - min) * steps) / relmax)));
          const k = step - (rows - row - 1) * 3;
          line += k >= 0 && k < 3 ? "_o#"[k] : k >= 3 ? "|" : " ";
        }
      } else if (row === rows) {
        more = true; // the margin above the labels
        line = " ".repeat(len);
      } else {
        const at = row - rows - 1;
        for (let j = 0; j < len; j++) {
          const label = labels[from + j];
          if (label.length > at) { line += label[at]; more = true; } else line += " ";
        }
      }
      if (!more) break;
      out += line + "\n";
    }
  }
  return out;
}

/** Each event's kind of trouble, and what to look at for it (LATENCY DOCTOR's advice). */
const LATENCY_ADVICE: Record<string, string[]> = {
  command: ["slowlog", "large-objects"],
  "fast-command": ["scheduler"],
  "expire-cycle": ["hz", "large-objects"],
  "eviction-cycle": ["mass-eviction"],
};
const LATENCY_ADVICE_TEXT: Record<string, string> = {
  slowlog: "- Some commands took long: SLOWLOG GET shows which ones, with their arguments.",
  "large-objects": "- Deleting, expiring or evicting a key with a very large value happens in one step: splitting such values over several keys keeps each step short.",
  scheduler: "- Commands that should take microseconds took milliseconds: the machine is busy (other processes, a noisy neighbour on a shared host), or the process was paused by a garbage collection.",
  hz: "- Expiry works in small steps hz times a second: 'CONFIG SET hz 100' makes the steps smaller.",
  "mass-eviction": "- Evicting many keys at once (after lowering maxmemory, or one very large write) stops the server while it frees memory: change maxmemory in smaller steps.",
};

/* LATENCY DOCTOR: each event's spikes (count, average, mean deviation, period, worst), then
 *  advice for the kinds of event seen. The per-event lines are Redis's; the prose is Redbun's. */
function latencyDoctorCommand(c: Client): void {
  if (server.latency.size === 0 && hot.latencyMonitorThreshold === 0) {
    return addReplyVerbatim(c, "Latency monitoring is disabled: 'CONFIG SET latency-monitor-threshold <milliseconds>' turns it on for events slower than that.\n");
  }
  const t = Math.floor(now() / 1000), advice = new Set<string>();
  let report = "", n = 0;
  for (const [name, ev] of server.latency) {
    const ms = ev.samples.map((s) => s.ms), k = ms.length;
    const avg = k ? Math.floor(ms.reduce((a, b) => a + b, 0) / k) : 0;
    const mad = k ? Math.floor(ms.reduce((a, b) => a + Math.abs(avg - b), 0) / k) : 0;
    const period = k ? Math.max(1, t - Math.min(...ev.samples.map((s) => s.time))) : 0;
    if (++n === 1) report += "Latency spikes were observed in this instance:\n\n";
    report += `${n}. ${name}: ${k} latency spikes (average ${avg}ms, mean deviation ${mad}ms, period ${(period / k).toFixed(2)} sec). Worst all time event ${ev.max}ms.\n`;
    for (const a of LATENCY_ADVICE[name] ?? []) advice.add(a);
  }
  if (n === 0) report = "No latency spike was observed since the server started.\n";
  else if (advice.size === 0) report += "\nNo easy fix is known for these events.\n";
  else report += `\nWhat may help:\n\n${[...advice].map((a) => LATENCY_ADVICE_TEXT[a]).join("\n")}\n`;
  addReplyVerbatim(c, report);
}

function latencyHelpCommand(c: Client): void {
  addReplyHelp(c, "LATENCY", [
    "DOCTOR", "    Return a human readable latency analysis report.",
    "GRAPH <event>", "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>", "    Return time-latency samples for the <event> class.",
    "LATEST", "    Return the latest latency samples for all events.",
    "RESET [<event> ...]", "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]", "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
    "    If no commands are specified then all histograms are replied.",
  ]);
}

// --- MEMORY

function memoryHelpCommand(c: Client): void {
  addReplyHelp(c, "MEMORY", [
    "DOCTOR", "    Return memory problems reports.",
    "MALLOC-STATS", "    Return internal statistics report from the memory allocator.",
    "PURGE", "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS", "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]", "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
  ]);
}

/* MEMORY STATS */
function memoryStatsCommand(c: Client): void {
  const mh = memoryOverhead();
  const fields: [string, number, "int" | "double"][] = [
    ["peak.allocated", mh.peak, "int"], ["total.allocated", mh.total, "int"], ["startup.allocated", mh.startup, "int"],
    ["replication.backlog", mh.replBacklog, "int"], ["clients.slaves", mh.clientsSlaves, "int"], ["clients.normal", mh.clientsNormal, "int"],
    ["cluster.links", 0, "int"], ["aof.buffer", mh.aofBuffer, "int"], ["lua.caches", 0, "int"], ["functions.caches", 0, "int"],
  ];
  const tail: [string, number, "int" | "double"][] = [
    ["overhead.total", mh.overhead, "int"], ["keys.count", mh.keys, "int"], ["keys.bytes-per-key", mh.bytesPerKey, "int"],
    ["dataset.bytes", mh.dataset, "int"], ["dataset.percentage", mh.datasetPerc, "double"], ["peak.percentage", mh.peakPerc, "double"],
    ["allocator.allocated", mh.allocated, "int"], ["allocator.active", mh.active, "int"], ["allocator.resident", mh.resident, "int"],
    ["allocator-fragmentation.ratio", Math.fround(mh.active / mh.allocated), "double"], ["allocator-fragmentation.bytes", mh.active - mh.allocated, "int"],
    ["allocator-rss.ratio", Math.fround(mh.resident / mh.active), "double"], ["allocator-rss.bytes", mh.resident - mh.active, "int"],
    ["rss-overhead.ratio", Math.fround(mh.rss / mh.resident), "double"], ["rss-overhead.bytes", mh.rss - mh.resident, "int"],
    ["fragmentation", Math.fround(mh.rss / mh.total), "double"], ["fragmentation.bytes", mh.rss - mh.total, "int"],
  ];
  const field = ([name, v, kind]: [string, number, "int" | "double"]) => {
    addReplyBulk(c, name);
    kind === "int" ? addReplyLongLong(c, v) : addReplyDouble(c, v);
  };
  addReplyMapLen(c, fields.length + mh.dbs.length + tail.length);
  fields.forEach(field);
  for (const d of mh.dbs) {
    addReplyBulk(c, `db.${d.id}`);
    addReplyMapLen(c, 3);
    addReplyBulk(c, "overhead.hashtable.main"); addReplyLongLong(c, d.main);
    addReplyBulk(c, "overhead.hashtable.expires"); addReplyLongLong(c, d.expires);
    addReplyBulk(c, "overhead.hashtable.slot-to-keys"); addReplyLongLong(c, 0);
  }
  tail.forEach(field);
}

/* MEMORY DOCTOR: Redis's report, from the same figures as MEMORY STATS. */
function memoryDoctorCommand(c: Client): void {
  const mh = memoryOverhead();
  const MB10 = 10 << 20;
  const replicas = [...server.clients.values()].filter((x) => x.replState).length;
  const normal = server.clients.size - replicas;
  const found = {
    peak: Math.fround(mh.peak / mh.total) > 1.5,
    frag: Math.fround(mh.rss / mh.total) > 1.4 && mh.rss - mh.total > MB10,
    allocFrag: Math.fround(mh.active / mh.allocated) > 1.1 && mh.active - mh.allocated > MB10,
    allocRss: Math.fround(mh.resident / mh.active) > 1.1 && mh.resident - mh.active > MB10,
    clientBuf: normal > 0 && mh.clientsNormal / normal > 200 * 1024,
    replicaBuf: replicas > 0 && mh.clientsSlaves / replicas > 10 * 1024 * 1024,
  };
  let s: string;
  if (mh.total < 5 * 1024 * 1024) {
    s = "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n";
  } else if (!Object.values(found).some(Boolean)) {
    s = "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n";
  } else {
    s = "Sam, I detected a few issues in this Redis instance memory implants:\n\n";
    if (found.peak) s += " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n";
    if (found.frag) s += ` * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is "bun-${Bun.version}".\n\n`;
    if (found.allocFrag) s += " * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n";
    if (found.allocRss) s += " * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n";
    if (found.replicaBuf) s += " * Big replica buffers: The replica output buffers in this instance are greater than 10MB for each replica (on average). This likely means that there is some replica instance that is struggling receiving data, either because it is too slow or because of networking issues. As a result, data piles on the master output buffers. Please try to identify what replica is not receiving data correctly and why. You can use the INFO output in order to check the replicas delays and the CLIENT LIST command to check the output buffers of each replica.\n\n";
    if (found.clientBuf) s += " * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n";
    s += "I'm here to keep you safe, Sam. I want to help you.\n";
  }
  addReplyVerbatim(c, s);
}

/* MEMORY MALLOC-STATS: what Redis answers when not built with jemalloc. */
function memoryMallocStatsCommand(c: Client): void { addReplyBulk(c, "Stats not supported for the current allocator"); }

/* MEMORY PURGE: a full garbage collection, JSC's way of returning free pages. */
function memoryPurgeCommand(c: Client): void {
  Bun.gc(true);
  addReplyOK(c);
}

/* MEMORY USAGE key [SAMPLES count] */
function memoryUsageCommand(c: Client): void {
  if (c.argv.length === 5 && c.argv[3].toLowerCase() === "samples") {
    if (parseIntOrReply(c, c.argv[4]) === undefined) return;
  } else if (c.argv.length !== 3) return addReplyError(c, E.syntax);
  // The bytes a key and its value take: the same estimate maxmemory counts (Db.costAt).
  const db = cdb(c), i = lookupSlotRead(db, c.argv[2]);
  if (i < 0) return addReplyNull(c);
  addReplyLongLong(c, db.costAt(i));
}

// --- OBJECT

/** OBJECT ENCODING's name for a string, as Redis picks it: int, embstr (<= 44 bytes) or raw. */
function stringEncoding(s: string, forced?: string): string {
  if (forced) return forced;
  if (s.length <= 20 && string2ll(s) !== null) return "int";
  return s.length <= 44 ? "embstr" : "raw";
}

/** Looks up OBJECT's key without touching it, or replies nil. */
function objectLookupOrReply(c: Client): RValue | undefined {
  const db = cdb(c), key = c.argv[2];
  const v = db.has(key) && !expireIfNeeded(db, key) ? db.valAt(db.slot(key)!) : undefined;
  if (v === undefined) addReplyNull(c);
  return v;
}

/* OBJECT ENCODING key */
function objectEncodingCommand(c: Client): void {
  const v = objectLookupOrReply(c);
  if (v !== undefined) addReplyBulk(c, objectEncoding(v, cdb(c).encodings.get(c.argv[2])));
}

/** The encoding name Redis 7.0 would report for a value (`forced`: a string's recorded history). */
function objectEncoding(v: RValue, forced?: string): string {
  if (typeof v === "string") return stringEncoding(v, forced);
  if (v instanceof RBytes) return "raw";
  if (v instanceof RList) return "quicklist";
  if (v instanceof RHash) return v.listpack ? "listpack" : "hashtable";
  if (v instanceof RSet) return v.intset ? "intset" : "hashtable";
  if (v instanceof RStream) return "stream";
  return v.listpack ? "listpack" : "skiplist";
}
/* OBJECT REFCOUNT key: values are never shared here. */
function objectRefcountCommand(c: Client): void {
  const v = objectLookupOrReply(c);
  // Redis shares the integers 0..9999 (refcount INT_MAX), except under an LRU or LFU maxmemory
  // policy, where each key needs its own access time. (Redis decides when the value is stored;
  // here, by the configuration of the moment.)
  const noShared = hot.maxmemory > 0 && /lru|lfu/.test(String(conf["maxmemory-policy"]));
  if (v !== undefined) addReplyLongLong(c, !noShared && typeof v === "string" && stringEncoding(v) === "int" && Number(v) >= 0 && Number(v) < 10000 ? 2147483647 : 1);
}
/* OBJECT IDLETIME key */
function objectIdletimeCommand(c: Client): void {
  if (String(conf["maxmemory-policy"]).includes("lfu")) {
    return addReplyError(c, "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
  }
  const v = objectLookupOrReply(c);
  if (v !== undefined) addReplyLongLong(c, keyIdleSeconds(cdb(c).access[cdb(c).slot(c.argv[2])!]));
}
/* OBJECT FREQ key */
function objectFreqCommand(c: Client): void {
  if (!String(conf["maxmemory-policy"]).includes("lfu")) {
    return addReplyError(c, "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
  }
  const v = objectLookupOrReply(c);
  if (v !== undefined) addReplyLongLong(c, lfuDecrAndReturn(cdb(c).access[cdb(c).slot(c.argv[2])!]));
}
function objectHelpCommand(c: Client): void {
  addReplyHelp(c, "OBJECT", [
    "ENCODING <key>", "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>", "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>", "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>", "    Return the number of references of the value associated with the specified",
    "    <key>.",
  ]);
}

// --- DEBUG

// --- DEBUG DIGEST and DIGEST-VALUE: Redis's digest of a dataset or of values, so that a Redbun and
// a redis-server holding the same data answer the same 40 hex digits (Redis's suite compares a
// master's with its replicas' this way). Unordered things (keys, set members, hash fields,
// sorted-set members) are combined by xor, ordered ones (list elements, stream entries) by mixing.

/** digest ^= SHA1(bytes) (Redis's xorDigest). */
function xorDigest(digest: Buffer, bytes: string | Uint8Array): void {
  const h = new Bun.CryptoHasher("sha1").update(typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes).digest();
  for (let j = 0; j < 20; j++) digest[j] ^= h[j];
}

/** digest = SHA1(digest ^ SHA1(bytes)) (Redis's mixDigest): the order of the mixes counts. */
function mixDigest(digest: Buffer, bytes: string | Uint8Array): void {
  xorDigest(digest, bytes);
  new Bun.CryptoHasher("sha1").update(digest).digest().copy(digest);
}

/** A 32-bit number as the 4 bytes htonl gives. */
function be32(n: number): Buffer { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; }

/** Mixes a value into `digest` as Redis's xorObjectDigest: its type number, its contents, and
 *  a marker when the key has a TTL. */
function xorObjectDigest(db: Db, key: string, digest: Buffer, v: RValue): void {
  const type = isString(v) ? 0 : v instanceof RList ? 1 : v instanceof RSet ? 2 : v instanceof RZSet ? 3 : v instanceof RHash ? 4 : 6;
  mixDigest(digest, be32(type));
  if (isString(v)) mixDigest(digest, strOf(v));
  else if (v instanceof RList) for (let i = 0; i < v.length; i++) mixDigest(digest, v.get(i));
  else if (v instanceof RSet) for (let i = 0; i < v.size; i++) xorDigest(digest, v.dict.keyAt(i));
  else if (v instanceof RHash || v instanceof RZSet) {
    // Each pair digested on its own (field then value, member then "%.17g" score), then xored in.
    for (let i = 0; i < v.dict.size; i++) {
      const pair = Buffer.alloc(20);
      mixDigest(pair, v.dict.keyAt(i));
      mixDigest(pair, v instanceof RHash ? v.dict.valAt(i) : formatG17(v.dict.valAt(i)));
      xorDigest(digest, pair);
    }
  } else {
    for (const node of (v as RStream).liveNodes()) {
      for (const e of node.liveEntries()) {
        mixDigest(digest, `${e.ms}.${e.seq}`);
        for (const f of e.fields) mixDigest(digest, f);
      }
    }
  }
  if (getExpire(db, key) !== -1) xorDigest(digest, "!!expire!!");
}

/** The digest of every database (computeDatasetDigest), as 40 hex digits: zeros when empty. */
function datasetDigest(): string {
  const final = Buffer.alloc(20);
  server.dbs.forEach((db, j) => {
    if (!db.size) return;
    mixDigest(final, be32(j));
    for (let i = 0; i < db.size; i++) {
      const key = db.keyAt(i), digest = Buffer.alloc(20);
      mixDigest(digest, key);
      xorObjectDigest(db, key, digest, db.valAt(i));
      xorDigest(final, digest);
    }
  });
  return final.toString("hex");
}

/** Redis's bug report, for the crashes that are asked for (DEBUG SEGFAULT, DEBUG PANIC, a SIGABRT
 *  sent from outside): the signal, INFO and the clients in the log, then the process dies of that
 *  signal, as Redis re-raises it. (A fault in Bun itself ends the process before JavaScript runs.) */
function crashWithReport(signal: "SIGSEGV" | "SIGABRT", siCode = 0, panic = ""): never {
  const n = signal === "SIGSEGV" ? 11 : 6;
  // Redis's banners, word for word: tools (and Redis's test suite) look for them.
  logRaw("\n\n=== REDIS BUG REPORT START: Cut & paste starting from here ===\n");
  if (panic) {
    // A panic (serverPanic) is reported as such, not as a signal.
    log("warning", "------------------------------------------------");
    log("warning", "!!! Software Failure. Press left mouse button to continue");
    log("warning", `Guru Meditation: ${panic}`);
  } else log("warning", `Redbun ${REDBUN_VERSION} (Redis ${REDIS_VERSION}) crashed by signal: ${n}, si_code: ${siCode}`);
  try {
    logRaw(`\n------ INFO OUTPUT ------\n${genRedisInfoString(["all"]).replaceAll("\r\n", "\n")}\n`);
    logRaw(`------ CLIENT LIST OUTPUT ------\n${[...server.clients.values()].map((c) => clientInfoString(c) + "\n").join("")}\n`);
  } catch { /* the report is best effort */ }
  logRaw("=== REDIS BUG REPORT END. Make sure to include from START to END. ===\n\n");
  if (conf.daemonize && conf.pidfile) { try { unlinkSync(String(conf.pidfile)); } catch { /* gone */ } }
  // A server in a thread of its own ends its thread only (its starter sees it gone).
  if (embedded) process.exit(128 + n);
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
  process.exit(128 + n); // not reached
}

/* DEBUG SLEEP seconds | SET-ACTIVE-EXPIRE 0|1 | PAUSE-CRON 0|1 | POPULATE count [prefix] [size] | OBJECT key |
 *  RELOAD [MERGE] [NOFLUSH] [NOSAVE] | REPLYBUFFER PEAK-RESET-TIME NEVER|RESET|ms | REPLYBUFFER RESIZING 0|1 */
function debugCommand(c: Client): void {
  const argv = c.argv, sub = argv[1].toLowerCase();
  if (sub === "sleep" && argv.length === 3) {
    const secs = parseFloat(argv[2]) || 0; // strtod: whatever prefix parses, else 0
    Bun.sleepSync(Math.max(0, secs * 1000)); // blocking the loop is the point: it simulates a slow command
    return addReplyOK(c);
  }
  if (sub === "digest" && argv.length === 2) return addReplyStatus(c, datasetDigest());
  if (sub === "digest-value") {
    // Straight from the keyspace: a logically expired key still has a digest.
    const db = cdb(c);
    addReplyArrayLen(c, argv.length - 2);
    for (const key of argv.slice(2)) {
      const digest = Buffer.alloc(20), i = db.slot(key);
      if (i !== undefined) xorObjectDigest(db, key, digest, db.valAt(i));
      addReplyStatus(c, digest.toString("hex"));
    }
    return;
  }
  if (sub === "aof-flush-sleep" && argv.length === 3) {
    aof.flushSleepUs = parseInt(argv[2], 10) || 0; // atoi
    return addReplyOK(c);
  }
  if (sub === "set-skip-checksum-validation" && argv.length === 3) {
    server.skipChecksumValidation = (parseInt(argv[2], 10) || 0) !== 0; // atoi
    return addReplyOK(c);
  }
  if (sub === "segfault") crashWithReport("SIGSEGV", 2); // Redis writes to read-only memory: SEGV_ACCERR
  if (sub === "replicate" && argv.length >= 3) {
    // The arguments go to the replicas as a command, not run here (to test their error paths).
    replicationFeed(repl.seldb, argv.slice(2)); // no SELECT: as Redis, in the stream's current db
    return addReplyOK(c);
  }
  if (sub === "panic") crashWithReport("SIGABRT", 0, `DEBUG PANIC called at Unix time ${Math.floor(Date.now() / 1000)}`);
  if (sub === "replybuffer" && argv.length === 4) {
    const what = argv[2].toLowerCase(), v = argv[3].toLowerCase();
    if (what === "peak-reset-time") {
      if (v === "never") server.replyBufferPeakResetMs = -1;
      else if (v === "reset") server.replyBufferPeakResetMs = 5000;
      else {
        const n = parseIntOrReply(c, argv[3]);
        if (n === undefined) return;
        server.replyBufferPeakResetMs = n;
      }
    } else if (what === "resizing") server.replyBufferResizing = (parseInt(argv[3], 10) || 0) !== 0; // atoi
    else return addReplySubcommandSyntaxError(c);
    return addReplyOK(c);
  }
  if (sub === "pause-cron" && argv.length === 3) {
    server.cronPaused = (parseInt(argv[2], 10) || 0) !== 0; // atoi
    return addReplyOK(c);
  }
  if (sub === "set-active-expire" && argv.length === 3) {
    server.activeExpireEnabled = argv[2] !== "0";
    return addReplyOK(c);
  }
  if (sub === "populate" && argv.length >= 3 && argv.length <= 5) {
    const count = parsePositiveOrReply(c, argv[2]);
    if (count === undefined) return;
    const prefix = argv[3] ?? "key";
    const size = argv.length === 5 ? parsePositiveOrReply(c, argv[4]) : 0;
    if (size === undefined) return;
    if (count === 0) return addReplyOK(c);
    // Keys and values are written into a buffer and sliced out, as the parser makes them: a
    // template string would be a rope, whose cell costs twice a flat string's in the heap.
    // Keys are cut to 127 bytes (Redis formats them into a 128-byte buffer). A size pads the
    // value with zero bytes or cuts it (0 means none, as in Redis).
    const db = cdb(c), head = `${prefix}:`, buf = Buffer.allocUnsafe(Math.max(head.length + 32, size));
    const flat = (text: string, i: number, pad: number, max: number): string => {
      let n = Math.min(writeDecimal(buf, buf.latin1Write(text, 0), i), max);
      if (pad > 0) { if (n < pad) buf.fill(0, n, pad); n = pad; }
      return buf.latin1Slice(0, n);
    };
    for (let i = 0; i < count; i++) {
      const key = flat(head, i, 0, 127);
      if (lookupKeyWrite(db, key) !== undefined) continue;
      dbAdd(db, key, flat("value:", i, size, Infinity));
      signalModifiedKey(db, key);
    }
    return addReplyOK(c);
  }
  if (sub === "reload") {
    let flush = true, save = true, merge = false;
    for (const opt of argv.slice(2)) {
      const o = opt.toLowerCase();
      if (o === "merge") merge = true;
      else if (o === "noflush") flush = false;
      else if (o === "nosave") save = false;
      else return addReplyError(c, "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
    }
    // As in Redis: save (synchronously), empty the databases, load the file back. Where Redis
    // panics (NOFLUSH without MERGE meeting a key it has), the load stops with an error.
    if (save) {
      let saved = false;
      rdbSave(false, (ok) => { saved = ok; });
      if (!saved) return addReplyError(c, "ERR"); // Redis's shared.err, as SAVE answers
    }
    if (flush) { emptyData(-1); functionsClear(); }
    try {
      const res = rdbLoad(readFileSync(rdbPath()), { into: !flush, replace: merge });
      server.rdbLoadedKeys = res.keys;
      server.rdbLoadedExpired = res.expired;
    } catch (err) {
      log("warning", `DEBUG RELOAD: ${(err as Error).message}`);
      return addReplyError(c, "ERR Error trying to load the RDB dump");
    }
    log("warning", "DB reloaded by DEBUG RELOAD");
    return addReplyOK(c);
  }
  if (sub === "loadaof" && argv.length === 2) {
    // As Redis: write out what is buffered, empty the databases, replay the AOF's files. A load
    // that fails (or finds no AOF) ends the process, as it ends redis-server.
    if (aof.on) flushAppendOnlyFile();
    emptyData(-1);
    functionsClear();
    let loaded = false;
    try {
      // The VM has started (scriptingHoldUntilReady held this command for it): scripts in the
      // AOF run in order, within this command.
      loaded = loadAppendOnlyFiles() === true;
    } catch (err) {
      log("warning", `DEBUG LOADAOF: ${(err as Error).message}`);
    }
    if (!loaded) process.exit(1);
    server.dirty = 0; // what the load did is neither propagated nor a reason to save
    log("warning", "Append Only File loaded by DEBUG LOADAOF");
    return addReplyOK(c);
  }
  if (sub === "object" && argv.length === 3) {
    const db = cdb(c);
    const v = db.has(argv[2]) ? db.valAt(db.slot(argv[2])!) : undefined;
    if (v === undefined) return addReplyError(c, E.noKey);
    const enc = objectEncoding(v, db.encodings.get(argv[2]));
    return addReplyStatus(c, `Value at:0x0 refcount:1 encoding:${enc} serializedlength:${isString(v) ? rdbStringLength(strOf(v)) : 0} lru:${db.access[db.slot(argv[2])!]} lru_seconds_idle:${keyIdleSeconds(db.access[db.slot(argv[2])!])}`);
  }
  // Redbun's own, for tests in any language: the server's clock and random numbers.
  if (sub === "time" && argv.length >= 3) {
    const op = argv[2].toLowerCase(), arg = argv.length === 4 ? string2ll(argv[3]) : null;
    if (op === "now" && argv.length === 3) return addReplyLongLong(c, now());
    if ((op === "freeze" || op === "resume") && argv.length === 3) return clockMoved(op, 0), addReplyOK(c);
    if ((op === "advance" || op === "set") && argv.length === 4) {
      if (arg === null) return addReplyError(c, "ERR value is not an integer or out of range");
      return clockMoved(op, arg), addReplyOK(c);
    }
  }
  if (sub === "seed" && argv.length === 3) {
    const seed = string2ll(argv[2]);
    if (seed === null) return addReplyError(c, "ERR value is not an integer or out of range");
    seedRandom(seed);
    return addReplyOK(c);
  }
  if (sub === "help") {
    return addReplyHelp(c, "DEBUG", [
      "AOF-FLUSH-SLEEP <microsec>", "    Server will sleep before flushing the AOF, this is used for testing.",
      "DIGEST", "    Output a hex signature representing the current DB content.",
      "DIGEST-VALUE <key> [<key> ...]", "    Output a hex signature of the values of all the specified keys.",
      "LOADAOF", "    Flush the AOF buffers on disk and reload the AOF in memory.",
      "OBJECT <key>", "    Show low level info about the `key` and associated value.",
      "PAUSE-CRON <0|1>", "    Stop periodic cron job processing.",
      "POPULATE <count> [<prefix>] [<size>]", "    Create <count> string keys named key:<num>. If <prefix> is specified then",
      "    it is used instead of the 'key' prefix. These are not propagated to",
      "    replicas. Cluster slots are not respected so keys not belonging to the",
      "    current node can be created in cluster mode.",
      "RELOAD [option ...]", "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
      "    * MERGE: conflicting keys will be loaded from RDB.",
      "    * NOFLUSH: the existing database will not be removed before load, but",
      "      a conflicting key stops the load with an error (Redis exits there).",
      "    * NOSAVE: the database will be loaded from an existing RDB file.",
      "    Examples:",
      "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
      "      the database.",
      "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
      "      existing RDB file.",
      "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
      "      file to the database.",
      "SET-ACTIVE-EXPIRE <0|1>", "    Setting it to 0 disables expiring keys in background when they are not",
      "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
      "    default.",
      "SET-SKIP-CHECKSUM-VALIDATION <0|1>", "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
      "PANIC", "    Crash the server simulating a panic.",
      "SEGFAULT", "    Crash the server with sigsegv.",
      "SLEEP <seconds>", "    Stop the server for <seconds>. Decimals allowed.",
      "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>", "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
      "    In case NEVER is provided the last observed peak will never be reset",
      "    In case RESET is provided the peak reset time will be restored to the default value",
      "REPLYBUFFER RESIZING <0|1>", "    Enable or disable the reply buffer resize cron job",
      "TIME NOW|ADVANCE <ms>|SET <unix-time-ms>|FREEZE|RESUME", "    (Redbun) Read or move the server's clock, by which keys expire, blocked",
      "    clients time out and TIME answers. NOW replies with it in milliseconds.",
      "SEED <integer>", "    (Redbun) Make the random choices (SPOP, RANDOMKEY, eviction ...) repeatable.",
    ]);
  }
  addReplySubcommandSyntaxError(c);
}

// --- LOLWUT: computer art, a different piece for each Redis version. For 7.0 it is the version
// line alone; VERSION 5 draws Georg Nees's "Schotter" in Braille dots, VERSION 6 a city skyline
// in four terminal grays. Both pieces are random, as in Redis (their geometry follows Redis's
// float arithmetic, so the parts without randomness come out identical).

/** A canvas of pixels with a color each (0..3), drawn on by LOLWUT's pieces. */
class LwCanvas {
  pixels: Uint8Array;
  constructor(public width: number, public height: number, bg: number) { this.pixels = new Uint8Array(width * height).fill(bg); }
  set(x: number, y: number, color: number): void {
    if (x >= 0 && x < this.width && y >= 0 && y < this.height) this.pixels[x + y * this.width] = color;
  }
  get(x: number, y: number): number {
    return x >= 0 && x < this.width && y >= 0 && y < this.height ? this.pixels[x + y * this.width] : 0;
  }
  /** Bresenham's line. */
  line(x1: number, y1: number, x2: number, y2: number, color: number): void {
    const dx = Math.abs(x2 - x1), dy = Math.abs(y2 - y1), sx = x1 < x2 ? 1 : -1, sy = y1 < y2 ? 1 : -1;
    let err = dx - dy;
    for (;;) {
      this.set(x1, y1, color);
      if (x1 === x2 && y1 === y2) break;
      const e2 = err * 2;
      if (e2 > -dy) { err -= dy; x1 += sx; }
      if (e2 < dx) { err += dx; y1 += sy; }
    }
  }
  /** A square of side `size` centered at x,y and turned by `angle`: its corners on a circle. */
  square(x: number, y: number, size: number, angle: number, color: number): void {
    const f = Math.fround;
    const side = f(Math.round(f(size / 1.4142135623)));
    let k = f(Math.PI / 4 + angle);
    const px: number[] = [], py: number[] = [];
    for (let j = 0; j < 4; j++) {
      px.push(Math.round(Math.sin(k) * side + x));
      py.push(Math.round(Math.cos(k) * side + y));
      k = f(k + Math.PI / 2);
    }
    for (let j = 0; j < 4; j++) this.line(px[j], py[j], px[(j + 1) % 4], py[(j + 1) % 4], color);
  }
}

/** C's rand(): 0 .. RAND_MAX (2^31 - 1). */
function cRand(): number { return Math.floor(random() * 2147483648); }

/* LOLWUT [VERSION version] [piece arguments ...] */
function lolwutCommand(c: Client): void {
  let args = c.argv.slice(1), version = REDIS_VERSION;
  if (args.length >= 2 && args[0].toLowerCase() === "version") {
    const v = parseIntOrReply(c, args[1]);
    if (v === undefined) return;
    version = `${v >>> 0}.0.0`; // formatted as Redis's %u
    args = args.slice(2);
  }
  const [major, minor] = version.split(".");
  if ((major === "5" && minor[0] !== "9") || (major === "4" && minor[0] === "9")) return lolwut5(c, args);
  if ((major === "6" && minor[0] !== "9") || (major === "5" && minor[0] === "9")) return lolwut6(c, args);
  addReplyVerbatim(c, `Redis ver. ${REDIS_VERSION}\n`);
}

/** LOLWUT's optional numeric arguments, clamped; null after replying to a bad one. */
function lolwutArgs(c: Client, args: string[], defaults: number[], limits: [number, number][]): number[] | null {
  const out = defaults.slice();
  for (let i = 0; i < defaults.length && i < args.length; i++) {
    const v = parseIntOrReply(c, args[i]);
    if (v === undefined) return null;
    out[i] = v;
  }
  return out.map((v, i) => Math.min(limits[i][1], Math.max(limits[i][0], v)));
}

/* LOLWUT VERSION 5 [columns] [squares-per-row] [squares-per-col]: Schotter, squares more and more
 * disordered down the rows, drawn in 2x4-dot Braille characters. */
function lolwut5(c: Client, args: string[]): void {
  const a = lolwutArgs(c, args, [66, 8, 12], [[1, 1000], [1, 200], [1, 200]]);
  if (!a) return;
  const [cols, perRow, perCol] = a, f = Math.fround;
  const width = cols * 2, padding = width > 4 ? 2 : 0;
  const side = f((width - padding * 2) / perRow);
  const canvas = new LwCanvas(width, Math.trunc(f(f(side * perCol) + padding * 2)), 0);
  for (let y = 0; y < perCol; y++) {
    for (let x = 0; x < perRow; x++) {
      let sx = Math.trunc(f(f(f(x * side) + f(side / 2)) + padding)), sy = Math.trunc(f(f(f(y * side) + f(side / 2)) + padding));
      let angle = 0;
      if (y > 1) {
        const r = () => f(f(f(cRand()) / 2147483647) / perCol * y);
        let r1 = r(), r2 = r(), r3 = r();
        if (cRand() % 2) r1 = -r1;
        if (cRand() % 2) r2 = -r2;
        if (cRand() % 2) r3 = -r3;
        angle = r1;
        sx = Math.trunc(sx + f(f(r2 * side) / 3));
        sy = Math.trunc(sy + f(f(r3 * side) / 3));
      }
      canvas.square(sx, sy, side, angle, 1);
    }
  }
  // Each character shows 2x4 dots: bits 0-2 the left column's top three, 3-5 the right's, 6-7 the bottom row.
  let text = "";
  for (let y = 0; y < canvas.height; y += 4) {
    for (let x = 0; x < canvas.width; x += 2) {
      const bits = canvas.get(x, y) | (canvas.get(x, y + 1) << 1) | (canvas.get(x, y + 2) << 2) | (canvas.get(x + 1, y) << 3) |
        (canvas.get(x + 1, y + 1) << 4) | (canvas.get(x + 1, y + 2) << 5) | (canvas.get(x, y + 3) << 6) | (canvas.get(x + 1, y + 3) << 7);
      text += Buffer.from(String.fromCharCode(0x2800 + bits), "utf8").latin1Slice();
    }
    if (y !== canvas.height - 1) text += "\n";
  }
  addReplyVerbatim(c, `${text}\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. ${REDIS_VERSION}\n`);
}

/* LOLWUT VERSION 6 [columns] [rows]: a skyline of two rows of gray skyscrapers behind a black one
 * with lit windows, each pixel a space in a terminal color. */
function lolwut6(c: Client, args: string[]): void {
  const a = lolwutArgs(c, args, [80, 20], [[1, 1000], [1, 1000]]);
  if (!a) return;
  const [cols, rows] = a;
  const canvas = new LwCanvas(cols, rows, 3);
  const skyscraper = (xoff: number, width: number, height: number, windows: boolean, color: number) => {
    const starty = canvas.height - 1, endy = starty - height + 1;
    for (let y = starty; y >= endy; y--) {
      for (let x = xoff; x < xoff + width; x++) {
        if (y === endy && (x <= xoff + 1 || x >= xoff + width - 2)) continue; // the roof is narrower
        let pixel = color;
        if (windows && x > xoff + 1 && x < xoff + width - 2 && y > endy + 1 && y < starty - 1) {
          const relx = x - (xoff + 1), rely = y - (endy + 1);
          // Windows two pixels wide, one tall, in one of the grays.
          if (Math.trunc(relx / 2) % 2 && rely % 2) {
            do pixel = 1 + (cRand() % 2); while (pixel === color);
            if (relx % 2) pixel = canvas.get(x - 1, y);
          }
        }
        canvas.set(x, y, pixel);
      }
    }
  };
  for (let color = 2; color >= 1; color--) {
    for (let offset = -10; offset < canvas.width;) {
      offset += cRand() % 8;
      const width = 10 + (cRand() % 9);
      const height = Math.trunc(canvas.height / 2) + Math.trunc((cRand() % canvas.height) / (color === 2 ? 2 : 3));
      skyscraper(offset, width, height, false, color);
      offset += color === 2 ? Math.trunc(width / 2) : width + 1;
    }
  }
  for (let offset = -10; offset < canvas.width;) {
    offset += cRand() % 8;
    let width = 5 + (cRand() % 14);
    if (width % 4) width += width % 3;
    const height = Math.trunc(canvas.height / 3) + Math.trunc((cRand() % canvas.height) / 2);
    skyscraper(offset, width, height, true, 0);
    offset += width + 5;
  }
  const escapes = ["0;30;40m", "0;90;100m", "0;37;47m", "0;97;107m"];
  let text = "";
  for (let y = 0; y < canvas.height; y++) {
    for (let x = 0; x < canvas.width; x++) text += `\x1b[${escapes[canvas.get(x, y)]} \x1b[0m`;
    if (y !== canvas.height - 1) text += "\n";
  }
  addReplyVerbatim(c, `${text}\nDedicated to the 8 bit game developers of past and present.\nOriginal 8 bit image from Plaguemon by hikikomori. Redis ver. ${REDIS_VERSION}\n`);
}

// --- MODULE. Redis modules are native libraries loaded into redis-server's process; Redbun loads
// none. The list is empty, a load fails as redis-server's does when a library cannot be opened
// (the reason in the log), and an unload finds no such module.

/* MODULE LIST */
function moduleListCommand(c: Client): void { addReplyArrayLen(c, 0); }

/* MODULE LOAD path [arg ...], MODULE LOADEX path [CONFIG name value ...] [ARGS arg ...] */
function moduleLoadCommand(c: Client): void {
  log("warning", `Module ${c.argv[2]} failed to load: Redbun cannot load Redis modules (native libraries for redis-server)`);
  addReplyError(c, "ERR Error loading the extension. Please check the server logs.");
}

/* MODULE UNLOAD name */
function moduleUnloadCommand(c: Client): void { addReplyError(c, "ERR Error unloading module: no such module with that name"); }

function moduleHelpCommand(c: Client): void {
  addReplyHelp(c, "MODULE", [
    "LIST", "    Return a list of loaded modules.",
    "LOAD <path> [<arg> ...]", "    Load a module library from <path>, passing to it any optional arguments.",
    "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
    "    Load a module library from <path>, while passing it module configurations and optional arguments.",
    "UNLOAD <name>", "    Unload a module.",
  ]);
}

// --- CLUSTER, READONLY, READWRITE, ASKING: cluster commands, refused as by a redis-server
// without cluster support enabled (even CLUSTER HELP).
function clusterDisabledCommand(c: Client): void { addReplyError(c, "ERR This instance has cluster support disabled"); }

// --- SHUTDOWN
//
// Redis 7.0's sequence. SHUTDOWN, or SIGTERM/SIGINT (noted by the handler, acted on by serverCron),
// first waits up to shutdown-timeout seconds, with writes paused, for every replica to acknowledge
// the master's offset (not with NOW); then finishShutdown logs the lagging replicas, stops a BGSAVE
// or AOF rewrite, syncs the AOF, saves the final RDB (unless NOSAVE; without save points only with
// SAVE) and exits. A save that fails cancels the shutdown unless FORCE: the server goes on, and a
// SHUTDOWN client waiting gets an error. SHUTDOWN ABORT cancels one that is pending.

type ShutdownFlags = { save: boolean; nosave: boolean; now: boolean; force: boolean };

const shutdownState = {
  asap: false, // a signal asked for a shutdown: serverCron starts it
  signal: "", // which one
  flags: { save: false, nosave: false, now: false, force: false } as ShutdownFlags,
  deadline: 0, // while waiting for replicas (Redis's shutdown_mstime; 0: not initiated)
  waiting: new Set<Client>(), // SHUTDOWN callers, answered only if it fails
};

/* SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT] */
function shutdownCommand(c: Client): void {
  const flags: ShutdownFlags = { save: false, nosave: false, now: false, force: false };
  let abort = false;
  for (const a of c.argv.slice(1)) {
    const o = a.toLowerCase();
    if (o === "nosave" || o === "save" || o === "now" || o === "force") flags[o] = true;
    else if (o === "abort") abort = true;
    else return addReplyError(c, E.syntax);
  }
  if ((abort && (flags.save || flags.nosave || flags.now || flags.force)) || (flags.save && flags.nosave)) return addReplyError(c, E.syntax);
  if (abort) return abortShutdown() ? addReplyOK(c) : addReplyError(c, "ERR No shutdown in progress.");
  if (!flags.now && c.denyBlocking) return addReplyError(c, "ERR SHUTDOWN without NOW or ABORT isn't allowed for DENY BLOCKING client");
  if (scripting.suspended && !flags.nosave) return addReplyError(c, scripting.suspended.run.isEval ? E.busyScript : E.busyFunction); // only NOSAVE stops a busy server
  shutdownState.waiting.add(c); // answered only if the shutdown fails
  c.shutdownWait = true;
  if (prepareForShutdown(flags)) exitAfterShutdown();
}

/** Starts a shutdown (Redis's prepareForShutdown). True when the process may exit now; false
 *  while it waits for replicas, or if it failed (and was cancelled). */
function prepareForShutdown(flags: ShutdownFlags): boolean {
  if (shutdownState.deadline) return false;
  if (server.loading) flags = { ...flags, save: false, nosave: true };
  shutdownState.flags = flags;
  log("warning", "User requested shutdown...");
  if (!flags.now && confNum("shutdown-timeout") !== 0 && !replicasInSync()) {
    shutdownState.deadline = wallClock() + confNum("shutdown-timeout") * 1000;
    if (!clientsArePaused()) repl.getAckPending = true;
    server.shutdownPause = true;
    log("notice", "Waiting for replicas before shutting down.");
    return false;
  }
  return finishShutdown();
}

/** Every replica has acknowledged the master's whole stream (Redis's isReadyToShutdown). */
function replicasInSync(): boolean {
  for (const r of repl.replicas) if (r.replAckOff !== repl.offset) return false;
  return true;
}

/** serverCron's part: a shutdown a signal asked for, or the end of the wait for replicas. */
function shutdownCron(): void {
  if (shutdownState.asap && !shutdownState.deadline) {
    const setting = String(conf[shutdownState.signal === "SIGINT" ? "shutdown-on-sigint" : "shutdown-on-sigterm"]).split(" ");
    const flags = { save: setting.includes("save"), nosave: setting.includes("nosave"), now: setting.includes("now"), force: setting.includes("force") };
    if (prepareForShutdown(flags)) exitAfterShutdown();
  } else if (shutdownState.deadline && (wallClock() >= shutdownState.deadline || replicasInSync())) {
    if (finishShutdown()) exitAfterShutdown();
  }
}

/** SHUTDOWN ABORT: true if there was a shutdown to cancel. */
function abortShutdown(): boolean {
  if (shutdownState.deadline) cancelShutdown();
  else if (shutdownState.asap) shutdownState.asap = false;
  else return false;
  log("notice", "Shutdown manually aborted.");
  return true;
}

/** A shutdown that failed or was aborted: the server goes on, and SHUTDOWN callers get the error. */
function cancelShutdown(): void {
  shutdownState.asap = false;
  shutdownState.signal = "";
  shutdownState.deadline = 0;
  for (const c of shutdownState.waiting) {
    c.shutdownWait = false;
    if (c.closed) continue;
    addReplyError(c, "ERR Errors trying to SHUTDOWN. Check logs.");
    afterThisCommand(() => resumeClient(c));
  }
  shutdownState.waiting.clear();
  if (server.shutdownPause) { server.shutdownPause = false; afterThisCommand(unpauseClients); }
}

/** The last steps (Redis's finishShutdown). True when the process may exit. */
function finishShutdown(): boolean {
  const { save, nosave, force } = shutdownState.flags;
  const fail = (why: string) => {
    log("warning", why);
    log("warning", "Errors trying to shut down the server. Check the logs for more information.");
    cancelShutdown();
    return false;
  };
  let lagging = 0;
  for (const r of repl.replicas) {
    if (r.replAckOff === repl.offset) continue;
    lagging++;
    const lag = r.replState === "online" ? Math.floor((wallClock() - r.replAckTime) / 1000) : 0;
    log("warning", `Lagging replica ${replicaName(r)} reported offset ${repl.offset - r.replAckOff} behind master, lag=${lag}, state=${replicaStateName(r)}.`);
  }
  if (repl.replicas.size) log("notice", `${repl.replicas.size - lagging} of ${repl.replicas.size} replicas are in sync when shutting down.`);
  if (server.rdbChildRunning) {
    log("warning", "There is a child saving an .rdb. Killing it!");
    killRdbChild();
  }
  if (aof.rewriting) {
    // An AOF not written whole yet would lose the dataset.
    if (aof.waitRewrite) {
      if (force) log("warning", "Writing initial AOF. Exit anyway.");
      else return fail("Writing initial AOF, can't exit.");
    }
    log("warning", "There is a child rewriting the AOF. Killing it!");
    killAppendOnlyChild();
  }
  if (aof.on) {
    log("notice", "Calling fsync() on the AOF file.");
    flushAppendOnlyFile();
    try { fsyncSync(aof.fd); } catch (err) { log("warning", `Fail to fsync the AOF file: ${strerror(err)}.`); }
  }
  if ((hot.hasSavePoints && !nosave) || save) {
    log("notice", "Saving the final RDB snapshot before exiting.");
    let ok = false;
    rdbSave(false, (r) => (ok = r));
    if (!ok) {
      if (force) log("warning", "Error trying to save the DB. Exit anyway.");
      else return fail("Error trying to save the DB, can't exit.");
    }
  }
  return true;
}

/** The shutdown went through: replicas get what they can, listeners close, the process ends. */
function exitAfterShutdown(): void {
  handleClientsWithPendingWrites();
  void server.shutdown?.();
}

// --- INFO

/** Bytes as Redis's bytesToHuman shows them: 1.50K, 2.00M ... */
function bytesToHuman(n: number): string {
  const units = ["B", "K", "M", "G", "T", "P"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return i === 0 ? `${n}B` : `${n.toFixed(2)}${units[i]}`;
}

/** The sections of INFO, in Redis's order, each a list of "field:value" lines. */
const INFO_SECTIONS: Record<string, () => string[]> = {
  server: () => {
    const up = Math.floor((wallClock() - server.startTime) / 1000);
    return [
      `redis_version:${REDIS_VERSION}`, "redis_git_sha1:00000000", "redis_git_dirty:0", "redis_build_id:0", "redis_mode:standalone",
      `os:${process.platform === "linux" ? "Linux" : process.platform} ${process.arch === "x64" ? "x86_64" : process.arch}`,
      "arch_bits:64", "monotonic_clock:POSIX clock_gettime", "multiplexing_api:epoll", "atomicvar_api:c11-builtin",
      `gcc_version:0.0.0`, `process_id:${process.pid}`, "process_supervised:no", `run_id:${server.runId}`,
      `tcp_port:${server.port}`, `server_time_usec:${Math.floor((performance.timeOrigin + performance.now()) * 1000)}`,
      `uptime_in_seconds:${up}`, `uptime_in_days:${Math.floor(up / 86400)}`, `hz:${conf.hz}`, `configured_hz:${conf.hz}`,
      `lru_clock:${Math.floor(wallClock() / 1000) & 0xffffff}`, `executable:${process.argv[1] ?? ""}`,
      `config_file:${server.configFile}`, "io_threads_active:0",
      ...(shutdownState.deadline ? [`shutdown_in_milliseconds:${Math.max(0, shutdownState.deadline - wallClock())}`] : []),
      `redbun_version:${REDBUN_VERSION}`, `bun_version:${Bun.version}`,
    ];
  },
  clients: () => [
    `connected_clients:${server.clients.size - repl.replicas.size}`, "cluster_connections:0", `maxclients:${conf.maxclients}`,
    "client_recent_max_input_buffer:0", "client_recent_max_output_buffer:0", `blocked_clients:${server.pausedClients.size + shutdownState.waiting.size + [...server.clients.values()].filter((x) => x.bstate).length}`,
    `tracking_clients:${tracking.clients}`, `clients_in_timeout_table:${[...server.clients.values()].filter((x) => x.bstate?.timer).length}`,
  ],
  memory: () => {
    const m = memoryUsage();
    const mh = memoryOverhead();
    const used = mh.total, dataset = mh.dataset, overhead = mh.overhead;
    const sys = totalmem();
    const lm = scriptingInfoMemory(), fm = functionsInfoMemory();
    // The allocator fields describe JSC's heap: allocated = live objects, active = heap size.
    return [
      `used_memory:${used}`, `used_memory_human:${bytesToHuman(used)}`, `used_memory_rss:${m.rss}`,
      `used_memory_rss_human:${bytesToHuman(m.rss)}`, `used_memory_peak:${server.peakMemory}`,
      `used_memory_peak_human:${bytesToHuman(server.peakMemory)}`,
      `used_memory_peak_perc:${((used / server.peakMemory) * 100).toFixed(2)}%`,
      `used_memory_overhead:${overhead}`, `used_memory_startup:${mh.startup}`,
      `used_memory_dataset:${dataset}`, `used_memory_dataset_perc:${mh.datasetPerc.toFixed(2)}%`,
      `allocator_allocated:${m.heapUsed}`, `allocator_active:${m.heapTotal}`, `allocator_resident:${m.rss}`,
      `total_system_memory:${sys}`, `total_system_memory_human:${bytesToHuman(sys)}`,
      `used_memory_lua:${lm.vm}`, `used_memory_vm_eval:${lm.vm}`, `used_memory_lua_human:${bytesToHuman(lm.vm)}`,
      `used_memory_scripts_eval:${lm.scripts}`, `number_of_cached_scripts:${scripting.scripts.size}`, `number_of_functions:${fm.functions}`,
      // Functions share the scripts' VM: its memory is counted once, as eval's.
      `number_of_libraries:${fm.libraries}`, "used_memory_vm_functions:0", `used_memory_vm_total:${lm.vm}`,
      `used_memory_vm_total_human:${bytesToHuman(lm.vm)}`, `used_memory_functions:${fm.memory}`, `used_memory_scripts:${lm.scripts + fm.memory}`,
      `used_memory_scripts_human:${bytesToHuman(lm.scripts + fm.memory)}`,
      `maxmemory:${conf.maxmemory}`, `maxmemory_human:${bytesToHuman(hot.maxmemory)}`,
      `maxmemory_policy:${conf["maxmemory-policy"]}`,
      `allocator_frag_ratio:${(m.heapTotal / Math.max(1, m.heapUsed)).toFixed(2)}`, `allocator_frag_bytes:${m.heapTotal - m.heapUsed}`,
      `allocator_rss_ratio:${(m.rss / Math.max(1, m.heapTotal)).toFixed(2)}`, `allocator_rss_bytes:${m.rss - m.heapTotal}`,
      "rss_overhead_ratio:1.00", "rss_overhead_bytes:0",
      `mem_fragmentation_ratio:${(m.rss / Math.max(1, used)).toFixed(2)}`, `mem_fragmentation_bytes:${m.rss - used}`,
      "mem_not_counted_for_evict:0", `mem_replication_backlog:${mh.replBacklog}`, `mem_total_replication_buffers:${replicationBuffersSize()}`, `mem_clients_slaves:${mh.clientsSlaves}`,
      `mem_clients_normal:${mh.clientsNormal}`, "mem_cluster_links:0", `mem_aof_buffer:${mh.aofBuffer}`, `mem_allocator:bun-${Bun.version}`, "active_defrag_running:0",
      "lazyfree_pending_objects:0", "lazyfreed_objects:0",
    ];
  },
  persistence: () => {
    const job = saveJob;
    const lines = [
      `loading:${server.loading ? 1 : 0}`, "async_loading:0", "current_cow_peak:0", "current_cow_size:0", "current_cow_size_age:0",
      "current_fork_perc:0.00", "current_save_keys_processed:0", "current_save_keys_total:0",
      `rdb_changes_since_last_save:${server.dirty}`, `rdb_bgsave_in_progress:${server.rdbChildRunning || repl.snapshot ? 1 : 0}`,
      `rdb_last_save_time:${server.lastSave}`, `rdb_last_bgsave_status:${server.lastBgsaveOk ? "ok" : "err"}`,
      `rdb_last_bgsave_time_sec:${server.rdbLastSaveSeconds}`,
      `rdb_current_bgsave_time_sec:${server.rdbChildRunning ? Math.floor((wallClock() - server.rdbSaveStart) / 1000) : -1}`,
      `rdb_saves:${server.rdbSaves}`, "rdb_last_cow_size:0", `rdb_last_load_keys_expired:${server.rdbLoadedExpired}`,
      `rdb_last_load_keys_loaded:${server.rdbLoadedKeys}`,
      `aof_enabled:${aof.on ? 1 : 0}`, `aof_rewrite_in_progress:${aof.rewriting ? 1 : 0}`,
      `aof_rewrite_scheduled:${aof.scheduled ? 1 : 0}`, `aof_last_rewrite_time_sec:${aof.lastRewriteSecs}`,
      `aof_current_rewrite_time_sec:${aof.rewriting ? Math.floor((wallClock() - aof.rewriteStart) / 1000) : -1}`,
      `aof_last_bgrewrite_status:${aof.lastRewriteOk ? "ok" : "err"}`, `aof_rewrites:${aof.rewrites}`,
      `aof_rewrites_consecutive_failures:${aof.rewriteFailures}`, `aof_last_write_status:${aof.lastWriteOk ? "ok" : "err"}`, "aof_last_cow_size:0",
      "module_fork_in_progress:0", "module_fork_last_cow_size:0",
    ];
    if (aof.on) {
      lines.push(`aof_current_size:${aof.currentSize}`, `aof_base_size:${aof.baseSize}`, "aof_pending_rewrite:0",
        `aof_buffer_length:${aof.bufLen}`, "aof_pending_bio_fsync:0", "aof_delayed_fsync:0");
    }
    void job;
    return lines;
  },
  stats: () => [
    `total_connections_received:${stats.connections}`, `total_commands_processed:${stats.commands}`,
    `instantaneous_ops_per_sec:${stats.opsPerSec}`, `total_net_input_bytes:${stats.netInput}`,
    `total_net_output_bytes:${stats.netOutput}`, "total_net_repl_input_bytes:0", "total_net_repl_output_bytes:0",
    `instantaneous_input_kbps:${stats.inputKbps.toFixed(2)}`, `instantaneous_output_kbps:${stats.outputKbps.toFixed(2)}`,
    "instantaneous_input_repl_kbps:0.00", "instantaneous_output_repl_kbps:0.00",
    `rejected_connections:${stats.rejectedConnections}`, `sync_full:${stats.syncFull}`, `sync_partial_ok:${stats.syncPartialOk}`,
    `sync_partial_err:${stats.syncPartialErr}`,
    `expired_keys:${stats.expiredKeys}`, `expired_stale_perc:${(stats.expiredStalePerc * 100).toFixed(2)}`,
    `expired_time_cap_reached_count:${stats.expiredTimeCapReached}`, `expire_cycle_cpu_milliseconds:${Math.round(stats.expireCycleMs)}`,
    `evicted_keys:${stats.evictedKeys}`, `evicted_clients:${stats.evictedClients}`, "total_eviction_exceeded_time:0", "current_eviction_exceeded_time:0",
    `keyspace_hits:${stats.keyspaceHits}`, `keyspace_misses:${stats.keyspaceMisses}`, `pubsub_channels:${pubsubChannels.size}`,
    `pubsub_patterns:${pubsubPatterns.size}`, `pubsubshard_channels:${pubsubShardChannels.size}`, "latest_fork_usec:0", "total_forks:0", `migrate_cached_sockets:${migrateConns.size}`,
    "slave_expires_tracked_keys:0", "active_defrag_hits:0", "active_defrag_misses:0", "active_defrag_key_hits:0",
    "active_defrag_key_misses:0", "total_active_defrag_time:0", "current_active_defrag_time:0", `tracking_total_keys:${tracking.table.size}`,
    `tracking_total_items:${tracking.items}`, `tracking_total_prefixes:${tracking.prefixes.size}`, `unexpected_error_replies:${stats.unexpectedErrorReplies}`,
    `total_error_replies:${stats.errorReplies}`, "dump_payload_sanitizations:0", `total_reads_processed:${stats.reads}`,
    `total_writes_processed:${stats.writes}`, "io_threaded_reads_processed:0", "io_threaded_writes_processed:0",
    `reply_buffer_shrinks:${stats.replyBufferShrinks}`, `reply_buffer_expands:${stats.replyBufferExpands}`,
  ],
  replication: () => replicationInfo(),
  cpu: () => {
    const u = cpuUsage();
    return [
      `used_cpu_sys:${(u.system / 1e6).toFixed(6)}`, `used_cpu_user:${(u.user / 1e6).toFixed(6)}`,
      "used_cpu_sys_children:0.000000", "used_cpu_user_children:0.000000",
      `used_cpu_sys_main_thread:${(u.system / 1e6).toFixed(6)}`, `used_cpu_user_main_thread:${(u.user / 1e6).toFixed(6)}`,
    ];
  },
  modules: () => [],
  commandstats: () => {
    const lines: string[] = [];
    const add = (cmd: RedisCommand) => {
      if (cmd.calls || cmd.rejectedCalls || cmd.failedCalls) {
        lines.push(`cmdstat_${cmd.name}:calls=${cmd.calls},usec=${cmd.usec},usec_per_call=${(cmd.calls ? cmd.usec / cmd.calls : 0).toFixed(2)},rejected_calls=${cmd.rejectedCalls},failed_calls=${cmd.failedCalls}`);
      }
    };
    for (const cmd of commandTable.values()) { add(cmd); for (const s of cmd.subcommands?.values() ?? []) add(s); }
    return lines;
  },
  errorstats: () => [...errorStats].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([code, n]) => `errorstat_${code}:count=${n}`),
  latencystats: () => {
    const percentiles = String(conf["latency-tracking-info-percentiles"]).split(" ").filter(Boolean).map(Number);
    const lines: string[] = [];
    const add = (cmd: RedisCommand) => {
      if (!cmd.latencyCount) return;
      const ps = percentiles.map((p) => `p${formatPercentile(p)}=${(latencyPercentile(cmd, p) / 1000).toFixed(3)}`);
      lines.push(`latency_percentiles_usec_${cmd.name}:${ps.join(",")}`);
    };
    for (const cmd of commandTable.values()) { add(cmd); for (const s of cmd.subcommands?.values() ?? []) add(s); }
    return lines;
  },
  cluster: () => ["cluster_enabled:0"],
  keyspace: () => server.dbs.filter((db) => db.size > 0).map((db) => `db${db.id}:keys=${db.size},expires=${db.expires.size},avg_ttl=${Math.round(db.avgTtl)}`),
};
const INFO_DEFAULT = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "errorstats", "cluster", "keyspace"];
const INFO_TITLES: Record<string, string> = { cpu: "CPU" };

/** The INFO text for the requested sections ("default", "all", "everything" or names). */
function genRedisInfoString(requested: string[]): string {
  let names: string[];
  const req = requested.map((s) => s.toLowerCase());
  if (req.includes("all") || req.includes("everything")) names = Object.keys(INFO_SECTIONS);
  else if (req.length === 0 || req.includes("default")) names = [...INFO_DEFAULT, ...req.filter((r) => r !== "default")];
  else names = req;
  const order = Object.keys(INFO_SECTIONS);
  const chosen = order.filter((s) => names.includes(s));
  return chosen.map((s) => {
    const title = INFO_TITLES[s] ?? s[0].toUpperCase() + s.slice(1);
    const lines = INFO_SECTIONS[s]();
    return `# ${title}\r\n${lines.map((l) => l + "\r\n").join("")}`;
  }).join("\r\n");
}

/* INFO [section ...] */
function infoCommand(c: Client): void {
  addReplyVerbatim(c, genRedisInfoString(c.argv.slice(1)));
}

/** Zeroes what CONFIG RESETSTAT resets. */
function resetStats(): void {
  for (const k of Object.keys(stats) as (keyof typeof stats)[]) stats[k] = 0;
  errorStats.clear();
  for (const cmd of commandTable.values()) {
    for (const x of [cmd, ...(cmd.subcommands?.values() ?? [])]) {
      x.calls = x.usec = x.rejectedCalls = x.failedCalls = x.latencyCount = 0;
      x.latency = null;
    }
  }
  server.slowlog = [];
}

/** This chapter's rows of the command table (see Dispatch). */
const SERVER_COMMANDS: CommandRows[] = [
  { group: "connection", specs: [
    ["ping", -1, "fast", 0, 0, 0, "connection", pingCommand],
    ["echo", 2, "loading stale fast", 0, 0, 0, "connection", echoCommand],
    ["quit", -1, "noscript loading stale fast no_auth allow_busy", 0, 0, 0, "connection", quitCommand],
    ["reset", 1, "noscript loading stale fast no_auth allow_busy", 0, 0, 0, "connection", resetCommand],
    ["hello", -1, "noscript loading stale fast no_auth allow_busy", 0, 0, 0, "connection", helloCommand],
    ["client", -2, "", 0, 0, 0, "", () => {}],
  ], subs: {
    client: [
      ["id", 2, "noscript loading stale", 0, 0, 0, "connection", clientIdCommand],
      ["info", 2, "noscript loading stale", 0, 0, 0, "connection", clientInfoCommand],
      ["list", -2, "admin noscript loading stale", 0, 0, 0, "connection", clientListCommand],
      ["getname", 2, "noscript loading stale", 0, 0, 0, "connection", clientGetnameCommand],
      ["setname", 3, "noscript loading stale", 0, 0, 0, "connection", clientSetnameCommand],
      ["setinfo", 4, "noscript loading stale", 0, 0, 0, "connection", clientSetinfoCommand],
      ["kill", -3, "admin noscript loading stale", 0, 0, 0, "connection", clientKillCommand],
      ["no-evict", 3, "admin noscript loading stale", 0, 0, 0, "connection", clientNoEvictCommand],
      ["no-touch", 3, "noscript loading stale", 0, 0, 0, "connection", clientNoTouchCommand],
      ["reply", 3, "noscript loading stale", 0, 0, 0, "connection", clientReplyCommand],
      ["pause", -3, "admin noscript loading stale", 0, 0, 0, "connection", clientPauseCommand],
      ["unpause", 2, "admin noscript loading stale", 0, 0, 0, "connection", clientUnpauseCommand],
      ["unblock", -3, "admin noscript loading stale", 0, 0, 0, "connection", clientUnblockCommand],
      // Client-side caching (its chapter).
      ["tracking", -3, "noscript loading stale", 0, 0, 0, "connection", clientTrackingCommand],
      ["caching", 3, "noscript loading stale", 0, 0, 0, "connection", clientCachingCommand],
      ["getredir", 2, "noscript loading stale", 0, 0, 0, "connection", clientGetredirCommand],
      ["trackinginfo", 2, "noscript loading stale", 0, 0, 0, "connection", clientTrackinginfoCommand],
      ["help", 2, "loading stale", 0, 0, 0, "connection", clientHelpCommand],
    ],
  } },
  // Cluster commands, answered as by a redis-server without cluster support: every one exists
  // (arity, flags, ACL categories, noscript) and answers that cluster support is disabled.
  { group: "cluster", specs: [
    ["readonly", 1, "loading stale fast", 0, 0, 0, "connection", clusterDisabledCommand],
    ["readwrite", 1, "loading stale fast", 0, 0, 0, "connection", clusterDisabledCommand],
    ["asking", 1, "fast", 0, 0, 0, "connection", clusterDisabledCommand],
    ["cluster", -2, "", 0, 0, 0, "", () => {}],
  ], subs: {
    cluster: ([
      ["addslots", -3, "no_async_loading admin stale"], ["addslotsrange", -4, "no_async_loading admin stale"],
      ["bumpepoch", 2, "no_async_loading admin stale"], ["count-failure-reports", 3, "admin stale"],
      ["countkeysinslot", 3, "stale"], ["delslots", -3, "no_async_loading admin stale"],
      ["delslotsrange", -4, "no_async_loading admin stale"], ["failover", -2, "no_async_loading admin stale"],
      ["flushslots", 2, "no_async_loading admin stale"], ["forget", 3, "no_async_loading admin stale"],
      ["getkeysinslot", 4, "stale"], ["help", 2, "loading stale"], ["info", 2, "stale"], ["keyslot", 3, "stale"],
      ["links", 2, "stale"], ["meet", -4, "no_async_loading admin stale"], ["myid", 2, "stale"], ["nodes", 2, "stale"],
      ["replicas", 3, "admin stale"], ["replicate", 3, "no_async_loading admin stale"], ["reset", -2, "admin stale noscript"],
      ["saveconfig", 2, "no_async_loading admin stale"], ["set-config-epoch", 3, "no_async_loading admin stale"],
      ["setslot", -4, "no_async_loading admin stale"], ["shards", 2, "stale"], ["slaves", 3, "admin stale"], ["slots", 2, "stale"],
    ] as [string, number, string][]).map(([name, arity, flags]): CommandSpec => [name, arity, flags, 0, 0, 0, "", clusterDisabledCommand]),
  } },
  { group: "generic", specs: [
    ["object", -2, "", 0, 0, 0, "", () => {}],
  ], subs: {
    object: [
      ["encoding", 3, "readonly", 2, 2, 1, "keyspace", objectEncodingCommand],
      ["freq", 3, "readonly", 2, 2, 1, "keyspace", objectFreqCommand],
      ["idletime", 3, "readonly", 2, 2, 1, "keyspace", objectIdletimeCommand],
      ["refcount", 3, "readonly", 2, 2, 1, "keyspace", objectRefcountCommand],
      ["help", 2, "loading stale", 0, 0, 0, "keyspace", objectHelpCommand],
    ],
  } },
  { group: "server", specs: [
    ["time", 1, "loading stale fast", 0, 0, 0, "", timeCommand],
    ["lolwut", -1, "readonly fast", 0, 0, 0, "", lolwutCommand],
    ["lastsave", 1, "loading stale fast", 0, 0, 0, "admin dangerous", lastsaveCommand],
    ["info", -1, "loading stale", 0, 0, 0, "dangerous", infoCommand],
    ["monitor", 1, "admin noscript loading stale", 0, 0, 0, "", monitorCommand],
    ["debug", -2, "admin noscript loading stale protected", 0, 0, 0, "", debugCommand],
    ["module", -2, "", 0, 0, 0, "", () => {}],
    ["shutdown", -1, "admin noscript loading stale no_multi allow_busy", 0, 0, 0, "", shutdownCommand],
    ["command", -1, "loading stale", 0, 0, 0, "connection", commandCommand],
    ["slowlog", -2, "", 0, 0, 0, "", () => {}],
    ["latency", -2, "", 0, 0, 0, "", () => {}],
    ["memory", -2, "", 0, 0, 0, "", () => {}],
  ], subs: {
    module: [
      ["list", 2, "admin noscript", 0, 0, 0, "", moduleListCommand],
      ["load", -3, "admin noscript no_async_loading protected", 0, 0, 0, "", moduleLoadCommand],
      ["loadex", -3, "admin noscript no_async_loading protected", 0, 0, 0, "", moduleLoadCommand],
      ["unload", 3, "admin noscript no_async_loading protected", 0, 0, 0, "", moduleUnloadCommand],
      ["help", 2, "loading stale", 0, 0, 0, "", moduleHelpCommand],
    ],
    command: [
      ["count", 2, "loading stale", 0, 0, 0, "connection", commandCountCommand],
      ["info", -2, "loading stale", 0, 0, 0, "connection", commandInfoCommand],
      ["docs", -2, "loading stale", 0, 0, 0, "connection", commandDocsCommand],
      ["list", -2, "loading stale", 0, 0, 0, "connection", commandListCommand],
      ["getkeys", -4, "loading stale", 0, 0, 0, "connection", commandGetkeysCommand],
      ["help", 2, "loading stale", 0, 0, 0, "connection", commandHelpCommand],
    ],
    slowlog: [
      ["get", -2, "admin loading stale", 0, 0, 0, "", slowlogGetCommand],
      ["len", 2, "admin loading stale", 0, 0, 0, "", slowlogLenCommand],
      ["reset", 2, "admin loading stale", 0, 0, 0, "", slowlogResetCommand],
      ["help", 2, "loading stale", 0, 0, 0, "", slowlogHelpCommand],
    ],
    latency: [
      ["latest", 2, "admin noscript loading stale", 0, 0, 0, "", latencyLatestCommand],
      ["history", 3, "admin noscript loading stale", 0, 0, 0, "", latencyHistoryCommand],
      ["reset", -2, "admin noscript loading stale", 0, 0, 0, "", latencyResetCommand],
      ["histogram", -2, "admin noscript loading stale", 0, 0, 0, "", latencyHistogramCommand],
      ["graph", 3, "admin noscript loading stale", 0, 0, 0, "", latencyGraphCommand],
      ["doctor", 2, "admin noscript loading stale", 0, 0, 0, "", latencyDoctorCommand],
      ["help", 2, "loading stale", 0, 0, 0, "", latencyHelpCommand],
    ],
    memory: [
      ["doctor", 2, "", 0, 0, 0, "", memoryDoctorCommand],
      ["malloc-stats", 2, "", 0, 0, 0, "", memoryMallocStatsCommand],
      ["purge", 2, "", 0, 0, 0, "", memoryPurgeCommand],
      ["stats", 2, "", 0, 0, 0, "", memoryStatsCommand],
      ["usage", -3, "readonly", 2, 2, 1, "", memoryUsageCommand],
      ["help", 2, "loading stale", 0, 0, 0, "", memoryHelpCommand],
    ],
  } },
];

// ============================================================================================
// Client-side caching
//
// CLIENT TRACKING lets a client cache what it reads and be told when to drop it. By default the
// server remembers, per key, the ids of the tracking clients that read it (the tracking table,
// filled after every read-only command); the next change to the key sends each of them an
// invalidation and forgets the key, so a client hears about a key once per read. In BCAST mode
// nothing is remembered per read: the client subscribes to key prefixes, and the keys changed
// under a prefix during one turn of the event loop go out together before the replies are
// written. OPTIN and OPTOUT make the remembering depend on CLIENT CACHING before the command;
// NOLOOP skips what the client changed itself; REDIRECT sends the invalidations to another
// connection (a RESP3 one as pushes, a RESP2 one as messages on __redis__:invalidate if it is
// subscribed). FLUSHALL and FLUSHDB invalidate everything with one null, and
// tracking-table-max-keys bounds the table by invalidating random keys. What a client changes
// that it tracks itself is told after its command's whole reply (Redis's tracking_pending_keys).
// The hooks are in Part I: signalModifiedKey, emptyData, callEnd, handleClientsWithPendingWrites.
// ============================================================================================

const TRACKING_ON = 1, TRACKING_BCAST = 2, TRACKING_OPTIN = 4, TRACKING_OPTOUT = 8, TRACKING_CACHING = 16,
  TRACKING_NOLOOP = 32, TRACKING_BROKEN_REDIR = 64;

/** A key of the tracking table: the ids of the clients that may cache it, and its place in `keys`. */
interface TrackedKey { ids: Set<number>; index: number }
/** A BCAST prefix: its clients, and the keys changed under it this turn, each with the client
 *  that changed it last (null: expiry, eviction), which NOLOOP leaves out. */
interface BcastPrefix { clients: Set<Client>; keys: Map<string, Client | null> }

const tracking = {
  clients: 0, // clients with tracking on (INFO's tracking_clients)
  table: new Map<string, TrackedKey>(),
  keys: [] as string[], // the table's keys, for random picks when it is over tracking-table-max-keys
  items: 0, // client ids across the table (tracking_total_items)
  prefixes: new Map<string, BcastPrefix>(),
  bcastPending: false, // a prefix has keys to send at the end of this turn
  pending: [] as (string | null)[], // invalidations for the request's own client, sent after its reply (null: a flush)
  limitRounds: 0, // rounds that ended still over tracking-table-max-keys: each one tries harder
};

/** CLIENT TRACKING ON (Redis's enableTracking): the flags of this call replace the old ones. */
function enableTracking(c: Client, redirect: number, options: number, prefixes: string[]): void {
  if (!(c.tracking & TRACKING_ON)) tracking.clients++;
  c.tracking = (c.tracking & TRACKING_CACHING) | TRACKING_ON | (options & (TRACKING_BCAST | TRACKING_OPTIN | TRACKING_OPTOUT | TRACKING_NOLOOP));
  c.trackingRedirect = redirect;
  if (options & TRACKING_BCAST) {
    if (prefixes.length === 0) enableBcastTrackingForPrefix(c, "");
    for (const p of prefixes) enableBcastTrackingForPrefix(c, p);
  }
}

function enableBcastTrackingForPrefix(c: Client, prefix: string): void {
  let bs = tracking.prefixes.get(prefix);
  if (!bs) tracking.prefixes.set(prefix, (bs = { clients: new Set(), keys: new Map() }));
  bs.clients.add(c);
  (c.trackingPrefixes ??= new Set()).add(prefix);
}

/** CLIENT TRACKING OFF, RESET and disconnection. The client's ids stay in the tracking table and
 *  are skipped when their keys change, as in Redis (a cleanup would cost a walk of the table). */
function disableTracking(c: Client): void {
  if (c.tracking & TRACKING_BCAST) {
    for (const p of c.trackingPrefixes ?? []) {
      const bs = tracking.prefixes.get(p)!;
      bs.clients.delete(c);
      if (bs.clients.size === 0) tracking.prefixes.delete(p);
    }
    c.trackingPrefixes = null;
  }
  if (c.tracking & TRACKING_ON) tracking.clients--;
  c.tracking = 0;
}

/** After a read-only command: remember its keys for the tracking client that read them. A command
 *  run by a script counts for the script's caller, with the keys the script declared; EVAL_RO and
 *  FCALL_RO themselves remember nothing (what they run does). */
function trackingAfterRead(c: Client, cmd: RedisCommand): void {
  if (cmd.name === "eval_ro" || cmd.name === "evalsha_ro" || cmd.name === "fcall_ro") return;
  const run = c === scripting.client ? scripting.run : null;
  const caller = run ? run.caller : c;
  if ((caller.tracking & (TRACKING_ON | TRACKING_BCAST)) !== TRACKING_ON) return;
  const optin = caller.tracking & TRACKING_OPTIN, optout = caller.tracking & TRACKING_OPTOUT, caching = caller.tracking & TRACKING_CACHING;
  if ((optin && !caching) || (optout && caching)) return;
  const argv = run ? run.argv : c.argv;
  const callerCmd = run ? lookupCommand(argv) : cmd;
  // Shard channels are keys only for routing: not something to cache.
  if (!callerCmd || callerCmd.flags & CMD_PUBSUB) return;
  for (const i of getKeysFromCommand(callerCmd, argv)) {
    if (i >= argv.length) continue;
    const key = argv[i];
    let entry = tracking.table.get(key);
    if (!entry) {
      tracking.table.set(key, (entry = { ids: new Set(), index: tracking.keys.length }));
      tracking.keys.push(key);
    }
    if (!entry.ids.has(caller.id)) { entry.ids.add(caller.id); tracking.items++; }
  }
}

/** An invalidation of one key, as the RESP array that follows "invalidate". */
function trackingKeyPayload(key: string): string { return `*1\r\n$${key.length}\r\n${key}\r\n`; }

/** Sends an invalidation (payload: the RESP of its keys, or a null for "everything") for client c:
 *  to c as a push in RESP3, or to its REDIRECT client: a push if that one speaks RESP3, a
 *  __redis__:invalidate message if it is a subscribed RESP2 client, nothing otherwise. A redirect
 *  client that is gone marks c's redirection broken and, in RESP3, tells c so. */
function sendTrackingMessage(c: Client, payload: string): void {
  let to = c;
  if (c.trackingRedirect) {
    const redirect = server.clients.get(c.trackingRedirect);
    if (!redirect) {
      c.tracking |= TRACKING_BROKEN_REDIR;
      if (c.resp > 2) {
        const start = c.outLen;
        addReplyPushLen(c, 2);
        addReplyBulk(c, "tracking-redir-broken");
        addReplyLongLong(c, c.trackingRedirect);
        keepPush(c, start);
      }
      return;
    }
    to = redirect;
  }
  const start = to.outLen;
  if (to.resp > 2) addReplyProto(to, ">2\r\n$10\r\ninvalidate\r\n");
  else if (c.trackingRedirect && clientTotalSubscriptions(to) > 0) addReplyProto(to, "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n");
  else return; // RESP2 has no way to tell a client in the middle of its replies
  addReplyProto(to, payload);
  keepPush(to, start);
  updateClientMemUsage(to); // its output may not be written this turn: client eviction must see it
}

/** A key changed (Redis's trackingInvalidateKey): every client that may cache it is told, once,
 *  and the key leaves the table. `by` is who changed it; `bcast` is false when the table only
 *  makes room (the key itself did not change, BCAST clients need not know). */
function trackingInvalidateKey(by: Client | null, key: string, bcast: boolean): void {
  if (bcast && tracking.prefixes.size) trackingRememberKeyToBroadcast(by, key);
  const entry = tracking.table.get(key);
  if (!entry) return;
  for (const id of entry.ids.size > 1 ? [...entry.ids].sort(raxIdOrder) : entry.ids) {
    const target = server.clients.get(id);
    // Gone, tracking off, or in BCAST mode since it read the key: nothing to say.
    if (!target || (target.tracking & (TRACKING_ON | TRACKING_BCAST)) !== TRACKING_ON) continue;
    if (target.tracking & TRACKING_NOLOOP && target === requestClient) continue;
    // The request's own client hears after its reply, never in the middle of it.
    if (target === requestClient && (callDepth > 0 || servingBlocked)) tracking.pending.push(key);
    else sendTrackingMessage(target, trackingKeyPayload(key));
  }
  tracking.items -= entry.ids.size;
  tracking.table.delete(key);
  const last = tracking.keys.pop()!;
  if (last !== key) { tracking.keys[entry.index] = last; tracking.table.get(last)!.index = entry.index; }
}

/** Redis keeps a key's client ids in a radix tree of their 8 bytes, little-endian: invalidations
 *  go out in that order (the lowest byte first), which shows when several redirect to one client. */
function raxIdOrder(a: number, b: number): number {
  for (let i = 0; i < 7; i++) {
    const d = (a % 256) - (b % 256);
    if (d !== 0) return d;
    a = Math.floor(a / 256);
    b = Math.floor(b / 256);
  }
  return a - b;
}

/** The invalidations held for the request's client while its command ran, now that its reply is
 *  written (Redis's trackingHandlePendingKeyInvalidations). */
function trackingHandlePendingKeyInvalidations(): void {
  const pending = tracking.pending, c = requestClient;
  tracking.pending = [];
  if (!c || c.closed) return;
  for (const key of pending) sendTrackingMessage(c, key === null ? (c.resp === 2 ? "$-1\r\n" : "_\r\n") : trackingKeyPayload(key));
}

/** FLUSHALL, FLUSHDB and every other emptying of a database: each tracking client gets one null
 *  ("everything"), and the table starts over. */
function trackingInvalidateKeysOnFlush(): void {
  if (tracking.clients) {
    for (const c of server.clients.values()) {
      if (!(c.tracking & TRACKING_ON)) continue;
      if (c === requestClient) tracking.pending.push(null);
      else sendTrackingMessage(c, c.resp === 2 ? "$-1\r\n" : "_\r\n");
    }
  }
  tracking.table = new Map();
  tracking.keys = [];
  tracking.items = 0;
}

/** Keeps the table within tracking-table-max-keys by invalidating random keys, as if they had
 *  changed: 100 tries per round, 100 more for every round that ended still over the limit. */
function trackingLimitUsedSlots(): void {
  const max = confNum("tracking-table-max-keys");
  if (max === 0) return;
  if (tracking.table.size <= max) { tracking.limitRounds = 0; return; }
  for (let effort = 100 * (tracking.limitRounds + 1); effort > 0 && tracking.keys.length; effort--) {
    trackingInvalidateKey(null, tracking.keys[Math.floor(random() * tracking.keys.length)], false);
    if (tracking.table.size <= max) { tracking.limitRounds = 0; return; }
  }
  tracking.limitRounds++;
}

/** A changed key joins the pending keys of every BCAST prefix it starts with. */
function trackingRememberKeyToBroadcast(by: Client | null, key: string): void {
  for (const [prefix, bs] of tracking.prefixes) {
    if (prefix.length > key.length || !key.startsWith(prefix)) continue;
    bs.keys.set(key, by);
    tracking.bcastPending = true;
  }
}

/** Once per turn of the event loop: each prefix's changed keys, in byte order as Redis's radix tree
 *  holds them, go to the prefix's clients in one array (a NOLOOP client's leaves out its own). */
function trackingBroadcastInvalidationMessages(): void {
  tracking.bcastPending = false;
  for (const prefix of [...tracking.prefixes.keys()].sort()) {
    const bs = tracking.prefixes.get(prefix)!;
    if (bs.keys.size === 0) continue;
    const keys = [...bs.keys.keys()].sort();
    const all = trackingBroadcastPayload(keys, bs.keys, null)!;
    for (const c of bs.clients) {
      if (!(c.tracking & TRACKING_NOLOOP)) { sendTrackingMessage(c, all); continue; }
      const own = trackingBroadcastPayload(keys, bs.keys, c);
      if (own !== null) sendTrackingMessage(c, own);
    }
    bs.keys = new Map();
  }
}

/** The RESP array of the keys not changed by `except` last; null if that leaves none. */
function trackingBroadcastPayload(keys: string[], by: Map<string, Client | null>, except: Client | null): string | null {
  let out = "", n = 0;
  for (const k of keys) {
    if (except !== null && by.get(k) === except) continue;
    out += `$${k.length}\r\n${k}\r\n`;
    n++;
  }
  return except !== null && n === 0 ? null : `*${n}\r\n${out}`;
}

/** Two prefixes overlap when one starts the other: a key under both would be sent twice. */
function prefixesOverlap(a: string, b: string): boolean { return a.startsWith(b) || b.startsWith(a); }

/** Refuses BCAST prefixes that overlap each other or the client's own (Redis's
 *  checkPrefixCollisionsOrReply). Returns false to stop the command. Redis returns the index of
 *  the prefix for an overlap among the new ones, so past the first prefix the command goes on
 *  after its error and answers +OK as well: two replies, which Redis 7.0 sends and we send too. */
function checkPrefixCollisionsOrReply(c: Client, prefixes: string[]): boolean {
  const own = c.trackingPrefixes ? [...c.trackingPrefixes].sort() : [];
  for (let i = 0; i < prefixes.length; i++) {
    const p = prefixes[i];
    const clash = own.find((o) => prefixesOverlap(o, p));
    if (clash !== undefined) {
      addReplyError(c, `ERR Prefix '${p}' overlaps with an existing prefix '${clash}'. Prefixes for a single client must not overlap.`);
      return false;
    }
    for (let j = i + 1; j < prefixes.length; j++) {
      if (!prefixesOverlap(p, prefixes[j])) continue;
      addReplyError(c, `ERR Prefix '${p}' overlaps with another provided prefix '${prefixes[j]}'. Prefixes for a single client must not overlap.`);
      return i !== 0;
    }
  }
  return true;
}

/* CLIENT TRACKING (ON|OFF) [REDIRECT id] [BCAST] [PREFIX prefix ...] [OPTIN] [OPTOUT] [NOLOOP] */
function clientTrackingCommand(c: Client): void {
  const argv = c.argv;
  let redirect = 0, options = 0;
  const prefixes: string[] = [];
  for (let j = 3; j < argv.length; j++) {
    const more = j < argv.length - 1, opt = argv[j].toLowerCase();
    if (opt === "redirect" && more) {
      j++;
      if (redirect !== 0) return addReplyError(c, "ERR A client can only redirect to a single other client");
      const id = parseIntOrReply(c, argv[j]);
      if (id === undefined) return;
      // The client must exist now; if it goes later, the redirection is marked broken.
      if (!server.clients.has(id)) return addReplyError(c, "ERR The client ID you want redirect to does not exist");
      redirect = id;
    } else if (opt === "bcast") options |= TRACKING_BCAST;
    else if (opt === "optin") options |= TRACKING_OPTIN;
    else if (opt === "optout") options |= TRACKING_OPTOUT;
    else if (opt === "noloop") options |= TRACKING_NOLOOP;
    else if (opt === "prefix" && more) prefixes.push(argv[++j]);
    else return addReplyError(c, E.syntax);
  }
  const mode = argv[2].toLowerCase();
  if (mode === "on") {
    if (!(options & TRACKING_BCAST) && prefixes.length) return addReplyError(c, "ERR PREFIX option requires BCAST mode to be enabled");
    if (c.tracking & TRACKING_ON && !(c.tracking & TRACKING_BCAST) !== !(options & TRACKING_BCAST)) {
      return addReplyError(c, "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.");
    }
    if (options & TRACKING_BCAST && options & (TRACKING_OPTIN | TRACKING_OPTOUT)) return addReplyError(c, "ERR OPTIN and OPTOUT are not compatible with BCAST");
    if (options & TRACKING_OPTIN && options & TRACKING_OPTOUT) return addReplyError(c, "ERR You can't specify both OPTIN mode and OPTOUT mode");
    if ((options & TRACKING_OPTIN && c.tracking & TRACKING_OPTOUT) || (options & TRACKING_OPTOUT && c.tracking & TRACKING_OPTIN)) {
      return addReplyError(c, "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.");
    }
    if (options & TRACKING_BCAST && !checkPrefixCollisionsOrReply(c, prefixes)) return;
    enableTracking(c, redirect, options, prefixes);
  } else if (mode === "off") disableTracking(c);
  else return addReplyError(c, E.syntax);
  addReplyOK(c);
}

/* CLIENT CACHING (YES|NO): whether the next command's keys are tracked, in OPTIN or OPTOUT mode. */
function clientCachingCommand(c: Client): void {
  if (!(c.tracking & TRACKING_ON)) return addReplyError(c, "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
  const opt = c.argv[2].toLowerCase();
  if (opt === "yes") {
    if (!(c.tracking & TRACKING_OPTIN)) return addReplyError(c, "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
  } else if (opt === "no") {
    if (!(c.tracking & TRACKING_OPTOUT)) return addReplyError(c, "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
  } else return addReplyError(c, E.syntax);
  c.tracking |= TRACKING_CACHING; // until the end of the next command (processCommandAndResetClient)
  addReplyOK(c);
}

/* CLIENT GETREDIR: the redirection's client id, 0 for none, -1 when tracking is off. */
function clientGetredirCommand(c: Client): void {
  addReplyLongLong(c, c.tracking & TRACKING_ON ? c.trackingRedirect : -1);
}

/* CLIENT TRACKINGINFO */
function clientTrackinginfoCommand(c: Client): void {
  const t = c.tracking, flags = [t & TRACKING_ON ? "on" : "off"];
  if (t & TRACKING_BCAST) flags.push("bcast");
  if (t & TRACKING_OPTIN) flags.push("optin", ...(t & TRACKING_CACHING ? ["caching-yes"] : []));
  if (t & TRACKING_OPTOUT) flags.push("optout", ...(t & TRACKING_CACHING ? ["caching-no"] : []));
  if (t & TRACKING_NOLOOP) flags.push("noloop");
  if (t & TRACKING_BROKEN_REDIR) flags.push("broken_redirect");
  addReplyMapLen(c, 3);
  addReplyBulk(c, "flags");
  addReplySetLen(c, flags.length);
  for (const f of flags) addReplyBulk(c, f);
  addReplyBulk(c, "redirect");
  addReplyLongLong(c, t & TRACKING_ON ? c.trackingRedirect : -1);
  addReplyBulk(c, "prefixes");
  addReplyBulks(c, c.trackingPrefixes ? [...c.trackingPrefixes].sort() : []);
}

// ============================================================================================
// ACL
//
// A user has flags (on/off, nopass), SHA-256 password hashes and selectors: the root selector plus
// any "(...)" ones. A selector allows commands as a bitmap over command ids (with first-argument
// exceptions such as +select|0), keys as glob patterns with read/write permissions, and channels
// as glob patterns; a command line runs if any one selector allows all of it. ACL LIST describes
// a bitmap back as rules with Redis's best-fit algorithm, so it round-trips through ACL SETUSER.
// ============================================================================================

/** What a key pattern grants: %R~ reads, %W~ writes, ~ both. */
const KEY_READ = 1, KEY_WRITE = 2;
const USER_ON = 1, USER_OFF = 2, USER_NOPASS = 4, USER_SKIP_SANITIZE = 8, USER_SANITIZE = 16;
/** User flags, in the order ACL LIST and ACL GETUSER show them. */
const USER_FLAG_NAMES: [number, string][] = [[USER_ON, "on"], [USER_OFF, "off"], [USER_NOPASS, "nopass"], [USER_SKIP_SANITIZE, "skip-sanitize-payload"], [USER_SANITIZE, "sanitize-payload"]];
/** Why a command line was refused. When selectors disagree the highest reason is reported. */
const ACL_OK = 0, DENIED_CMD = 1, DENIED_KEY = 2, DENIED_AUTH = 3, DENIED_CHANNEL = 4;
/** Command ids index a selector's bitmap. Only +@all sets the last bit, which stands for commands
 *  that do not exist yet: it is how ACL LIST knows to start from +@all rather than -@all. */
const COMMAND_BITS = 1024, FUTURE_COMMANDS_BIT = COMMAND_BITS - 1;

/** ACL SETUSER's error texts (Redis's ACLSetUserStringError). */
const ACL_ERR = {
  noent: "Unknown command or category name in ACL",
  inval: "Syntax error",
  exist: "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
  isdir: "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
  nodev: "The password you are trying to remove from the user does not exist",
  badmsg: "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
  already: "Duplicate user found. A user can only be defined once in config files",
  child: "Allowing first-arg of a subcommand is not supported",
};

class AclSelector {
  allKeys = false;
  allChannels = conf["acl-pubsub-default"] === "allchannels";
  allCommands = false;
  bits = new Uint8Array(COMMAND_BITS);
  firstArgs: Map<number, string[]> | null = null; // command id -> first arguments allowed although the command is not
  keys: { pattern: string; perms: number }[] = [];
  channels: string[] = [];
  constructor(public root: boolean) {}

  clone(): AclSelector {
    const s = new AclSelector(this.root);
    s.allKeys = this.allKeys; s.allChannels = this.allChannels; s.allCommands = this.allCommands;
    s.bits.set(this.bits);
    s.firstArgs = this.firstArgs && new Map([...this.firstArgs].map(([id, args]) => [id, args.slice()]));
    s.keys = this.keys.map((k) => ({ ...k }));
    s.channels = this.channels.slice();
    return s;
  }
}

class AclUser {
  flags = USER_OFF;
  passwords: string[] = []; // SHA-256 digests in lowercase hex
  selectors = [new AclSelector(true)];
  unrestricted = false; // the root selector allows every command, key and channel: checks are skipped
  constructor(public name: string) {}

  /** Takes over another user's rules in place, so clients holding this object see the change. */
  copyFrom(src: AclUser): void {
    this.flags = src.flags;
    this.passwords = src.passwords.slice();
    this.selectors = src.selectors.map((s) => s.clone());
    this.refresh();
  }

  /** To be called after the rules change. */
  refresh(): void {
    const root = this.selectors[0];
    this.unrestricted = root.allCommands && root.allKeys && root.allChannels;
  }
}

/** Every command and subcommand, each container before its subcommands: the order in which
 *  category rules apply and ACL LIST lists single commands. */
let aclCommandList: RedisCommand[] | null = null;
function aclAllCommands(): RedisCommand[] {
  if (aclCommandList) return aclCommandList;
  aclCommandList = [];
  for (const cmd of commandTable.values()) aclCommandList.push(cmd, ...(cmd.subcommands?.values() ?? []));
  return aclCommandList;
}

/** Users by name; ACL LIST and ACL USERS show them sorted, as Redis's radix tree does. */
let aclUsers = new Map<string, AclUser>();
const defaultUser = builtinDefaultUser();
aclUsers.set(defaultUser.name, defaultUser);
/** `user` lines of the config file, validated, applied once the server starts. */
const aclUsersToLoad: string[][] = [];

/** The default user as a server starts with it (and as ACL LOAD restores it when the file has none). */
function builtinDefaultUser(): AclUser {
  const u = new AclUser("default");
  for (const op of ["+@all", "~*", "&*", "on", "nopass"]) aclSetUser(u, op);
  u.refresh();
  return u;
}

function aclHashPassword(pass: string): string {
  return new Bun.CryptoHasher("sha256").update(pass, "latin1").digest("hex");
}

/** True if s has whitespace (C's isspace) or NUL, which Redis refuses in user names and patterns. */
function aclHasSpaces(s: string): boolean {
  return /[ \t\n\v\f\r\0]/.test(s);
}

/** Allows or denies one command; a container takes its subcommands along. */
function aclChangeCommandPerm(s: AclSelector, cmd: RedisCommand, allow: boolean): void {
  s.bits[cmd.id] = allow ? 1 : 0;
  if (!allow) s.allCommands = false;
  s.firstArgs?.delete(cmd.id);
  for (const sub of cmd.subcommands?.values() ?? []) {
    s.bits[sub.id] = allow ? 1 : 0;
  }
}

function aclSetCategory(s: AclSelector, catMask: number, allow: boolean): void {
  for (const cmd of aclAllCommands()) if (cmd.categories & catMask) aclChangeCommandPerm(s, cmd, allow);
}

/** Applies one selector rule (keys, channels, commands). Returns the error text, or null. */
function aclSetSelector(s: AclSelector, op: string): string | null {
  const lop = op.toLowerCase();
  if (lop === "allkeys" || op === "~*") { s.allKeys = true; s.keys = []; }
  else if (lop === "resetkeys") { s.allKeys = false; s.keys = []; }
  else if (lop === "allchannels" || op === "&*") { s.allChannels = true; s.channels = []; }
  else if (lop === "resetchannels") { s.allChannels = false; s.channels = []; }
  else if (lop === "allcommands" || lop === "+@all") { s.bits.fill(1); s.allCommands = true; s.firstArgs = null; }
  else if (lop === "nocommands" || lop === "-@all") { s.bits.fill(0); s.allCommands = false; s.firstArgs = null; }
  else if (op[0] === "~" || op[0] === "%") {
    if (s.allKeys) return ACL_ERR.exist;
    let perms = KEY_READ | KEY_WRITE, offset = 1;
    if (op[0] === "%") {
      perms = 0;
      for (; offset < op.length; offset++) {
        const ch = op[offset];
        if ((ch === "R" || ch === "r") && !(perms & KEY_READ)) perms |= KEY_READ;
        else if ((ch === "W" || ch === "w") && !(perms & KEY_WRITE)) perms |= KEY_WRITE;
        else if (ch === "~") { offset++; break; }
        else return ACL_ERR.inval;
      }
      if (!perms) return ACL_ERR.inval;
    }
    const pattern = op.slice(offset);
    if (aclHasSpaces(pattern)) return ACL_ERR.inval;
    const same = s.keys.find((k) => k.pattern === pattern);
    if (same) same.perms |= perms;
    else s.keys.push({ pattern, perms });
    s.allKeys = false;
  } else if (op[0] === "&") {
    if (s.allChannels) return ACL_ERR.isdir;
    const pattern = op.slice(1);
    if (aclHasSpaces(pattern)) return ACL_ERR.inval;
    if (!s.channels.includes(pattern)) s.channels.push(pattern);
  } else if (op[0] === "+" && op[1] !== "@") {
    const bar = op.lastIndexOf("|");
    if (bar < 0) {
      const cmd = lookupCommandByName(op.slice(1));
      if (!cmd) return ACL_ERR.noent;
      aclChangeCommandPerm(s, cmd, true);
    } else {
      const cmd = lookupCommandByName(op.slice(1, bar)), first = op.slice(bar + 1);
      if (!cmd) return ACL_ERR.noent;
      if (cmd.parent) return ACL_ERR.child;
      if (first === "") return ACL_ERR.inval;
      if (cmd.subcommands) {
        const sub = cmd.subcommands.get(first.toLowerCase());
        if (!sub) return ACL_ERR.noent;
        aclChangeCommandPerm(s, sub, true);
      } else {
        // +select|0: this first argument of an otherwise denied command is allowed.
        s.firstArgs ??= new Map();
        const args = s.firstArgs.get(cmd.id) ?? [];
        if (!args.some((a) => a.toLowerCase() === first.toLowerCase())) args.push(first);
        s.firstArgs.set(cmd.id, args);
      }
    }
  } else if (op[0] === "-" && op[1] !== "@") {
    const cmd = lookupCommandByName(op.slice(1));
    if (!cmd) return ACL_ERR.noent;
    aclChangeCommandPerm(s, cmd, false);
  } else if ((op[0] === "+" || op[0] === "-") && op[1] === "@") {
    const cat = ACL_CATEGORIES.indexOf(lop.slice(2));
    if (cat < 0) return ACL_ERR.noent;
    aclSetCategory(s, 1 << cat, op[0] === "+");
  } else return ACL_ERR.inval;
  return null;
}

/** Applies one ACL SETUSER rule to a user. Returns the error text, or null. */
function aclSetUser(u: AclUser, op: string): string | null {
  if (op === "") return null;
  const lop = op.toLowerCase();
  if (lop === "on") u.flags = (u.flags | USER_ON) & ~USER_OFF;
  else if (lop === "off") u.flags = (u.flags | USER_OFF) & ~USER_ON;
  else if (lop === "skip-sanitize-payload") u.flags = (u.flags | USER_SKIP_SANITIZE) & ~USER_SANITIZE;
  else if (lop === "sanitize-payload") u.flags = (u.flags | USER_SANITIZE) & ~USER_SKIP_SANITIZE;
  else if (lop === "nopass") { u.flags |= USER_NOPASS; u.passwords = []; }
  else if (lop === "resetpass") { u.flags &= ~USER_NOPASS; u.passwords = []; }
  else if (op[0] === ">" || op[0] === "#" || op[0] === "<" || op[0] === "!") {
    const hash = op[0] === ">" || op[0] === "<" ? aclHashPassword(op.slice(1)) : op.slice(1);
    if ((op[0] === "#" || op[0] === "!") && !/^[0-9a-f]{64}$/.test(hash)) return ACL_ERR.badmsg;
    const at = u.passwords.indexOf(hash);
    if (op[0] === ">" || op[0] === "#") {
      if (at < 0) u.passwords.push(hash);
      u.flags &= ~USER_NOPASS;
    } else {
      if (at < 0) return ACL_ERR.nodev;
      u.passwords.splice(at, 1);
    }
  } else if (op[0] === "(" && op[op.length - 1] === ")") {
    const s = new AclSelector(false);
    for (const sop of splitArgs(op.slice(1, -1)) ?? []) {
      const err = aclSetSelector(s, sop);
      if (err) return err;
    }
    u.selectors.push(s);
  } else if (lop === "clearselectors") u.selectors.length = 1;
  else if (lop === "reset") {
    const pubsub = conf["acl-pubsub-default"] === "allchannels" ? ["allchannels"] : [];
    for (const r of ["resetpass", "resetkeys", "resetchannels", ...pubsub, "off", "sanitize-payload", "clearselectors", "-@all"]) aclSetUser(u, r);
  } else return aclSetSelector(u.selectors[0], op);
  return null;
}

/** Joins selector rules split over several arguments ("(~x" "+get)" -> "(~x +get)"). Returns
 *  null and the index of the unclosed "(" if one is never closed. */
function aclMergeSelectorArgs(args: string[]): { merged: string[] } | { unclosed: number } {
  const merged: string[] = [];
  let open = -1, selector = "";
  for (let j = 0; j < args.length; j++) {
    const op = args[j];
    if (op[0] === "(" && op[op.length - 1] !== ")") { selector = op; open = j; continue; }
    if (open !== -1) {
      selector += " " + op;
      if (op[op.length - 1] === ")") { open = -1; merged.push(selector); }
      continue;
    }
    merged.push(op);
  }
  return open === -1 ? { merged } : { unclosed: open };
}

/** Applies a list of rules to a copy of the user (or a new one): all of them or none. */
function aclStageUser(name: string, rules: string[]): { user: AclUser } | { err: string; rule: string } {
  const staged = new AclUser(name);
  const existing = aclUsers.get(name);
  if (existing) staged.copyFrom(existing);
  for (const rule of rules) {
    const err = aclSetUser(staged, rule);
    if (err) return { err, rule };
  }
  return { user: staged };
}

/** Installs a staged user under its name, updating the live object if the user exists. */
function aclCommitUser(staged: AclUser): AclUser {
  let u = aclUsers.get(staged.name);
  if (!u) aclUsers.set(staged.name, (u = new AclUser(staged.name)));
  u.copyFrom(staged);
  return u;
}

// --- Describing users: the rules ACL LIST prints and ACL SAVE writes.

/** How many commands of a category a selector allows (on) and denies (off). */
function aclCountCategory(s: AclSelector, catMask: number): [on: number, off: number] {
  let on = 0, off = 0;
  for (const cmd of aclAllCommands()) if (cmd.categories & catMask) s.bits[cmd.id] ? on++ : off++;
  return [on, off];
}

/** A selector's command permissions as rules: +@all or -@all, then the categories that best fit
 *  what remains, then single commands and first arguments (Redis's ACLDescribeSelectorCommandRules). */
function aclDescribeCommandRules(s: AclSelector): string {
  const additive = s.bits[FUTURE_COMMANDS_BIT] === 0;
  let rules = additive ? "-@all " : "+@all ";
  // `fake` replays the emitted rules; `temp` loses each category once it is emitted.
  const fake = new AclSelector(false);
  aclSetSelector(fake, additive ? "-@all" : "+@all");
  const temp = new AclSelector(false);
  temp.bits.set(s.bits);
  const applied = new Set<number>();
  for (;;) {
    let best = -1, minDiff = Infinity, maxSame = 0;
    for (let j = 0; j < ACL_CATEGORIES.length; j++) {
      if (applied.has(j)) continue;
      const [on, off] = aclCountCategory(temp, 1 << j);
      const diff = additive ? off : on, same = additive ? on : off;
      if (same > diff && (diff < minDiff || (diff === minDiff && same > maxSame))) { best = j; minDiff = diff; maxSame = same; }
    }
    if (best === -1) break;
    aclSetCategory(fake, 1 << best, additive);
    aclSetCategory(temp, 1 << best, !additive);
    rules += `${additive ? "+" : "-"}@${ACL_CATEGORIES[best]} `;
    applied.add(best);
  }
  for (const cmd of aclAllCommands()) {
    const userBit = s.bits[cmd.id];
    if (userBit !== fake.bits[cmd.id]) {
      rules += `${userBit ? "+" : "-"}${cmd.name} `;
      aclChangeCommandPerm(fake, cmd, userBit === 1);
    }
    if (!userBit) for (const first of s.firstArgs?.get(cmd.id) ?? []) rules += `+${cmd.name}|${first} `;
  }
  return rules.slice(0, -1);
}

function aclDescribeKeyPattern(k: { pattern: string; perms: number }): string {
  return (k.perms === (KEY_READ | KEY_WRITE) ? "~" : k.perms === KEY_READ ? "%R~" : "%W~") + k.pattern;
}

function aclDescribeSelector(s: AclSelector): string {
  let res = s.allKeys ? "~* " : s.keys.map((k) => aclDescribeKeyPattern(k) + " ").join("");
  res += s.allChannels ? "&* " : "resetchannels " + s.channels.map((ch) => `&${ch} `).join("");
  return res + aclDescribeCommandRules(s);
}

/** A user as ACL LIST shows it after "user <name> ": flags, password hashes, selectors. */
function aclDescribeUser(u: AclUser): string {
  let res = "";
  for (const [flag, name] of USER_FLAG_NAMES) if (u.flags & flag) res += name + " ";
  for (const p of u.passwords) res += `#${p} `;
  for (const s of u.selectors) res += s.root ? aclDescribeSelector(s) : ` (${aclDescribeSelector(s)})`;
  return res;
}

function aclSortedUsers(): AclUser[] {
  return [...aclUsers.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

// --- Authentication.

/** The user a name/password pair logs in as, or null (unknown, disabled or wrong password). */
function aclCheckCredentials(name: string, pass: string): AclUser | null {
  const u = aclUsers.get(name);
  if (!u || u.flags & USER_OFF) return null;
  if (u.flags & USER_NOPASS) return u;
  const hash = aclHashPassword(pass);
  let match = false;
  for (const p of u.passwords) {
    // Compared in constant time, so timing reveals nothing about the stored hash.
    let diff = 0;
    for (let i = 0; i < 64; i++) diff |= hash.charCodeAt(i) ^ p.charCodeAt(i);
    if (diff === 0) match = true;
  }
  return match ? u : null;
}

/** Logs a client in (AUTH, HELLO AUTH); a failure is written to the ACL log. */
function aclAuthenticate(c: Client, name: string, pass: string): boolean {
  const u = aclCheckCredentials(name, pass);
  if (!u) {
    aclLogAdd(c, DENIED_AUTH, c.argv[0], name);
    return false;
  }
  c.authenticated = true;
  c.user = u;
  return true;
}

/** Back to the default user, logged in only if it needs no password (new connections, RESET). */
function clientSetDefaultAuth(c: Client): void {
  c.user = defaultUser;
  c.authenticated = (defaultUser.flags & (USER_NOPASS | USER_OFF)) === USER_NOPASS;
}

/** `requirepass` is the default user's password: setting it replaces all its passwords. */
function aclUpdateDefaultUserPassword(pass: string): void {
  aclSetUser(defaultUser, "resetpass");
  aclSetUser(defaultUser, pass === "" ? "nopass" : `>${pass}`);
}

// --- Permission checks.

/** How commands use their keys, for %R~ and %W~ patterns: Redis's key-spec flags reduced to read
 *  (ACCESS) and write (INSERT, DELETE, UPDATE). "-" is neither, "w r" gives the first key write
 *  and the rest read. Commands not listed read their keys if read-only, read and write them if
 *  they write. SET is decided per call (its GET option reads). */
const KEY_PERMS_EXCEPTIONS: Record<string, string> = {
  "w": "append del expire expireat geoadd hdel hmset hset hsetnx linsert lpush lpushx lrem lset ltrim mset msetnx persist pexpire " +
    "pexpireat pfadd psetex restore rpush rpushx sadd setex setnx setrange srem unlink xack xadd xautoclaim xclaim xdel " +
    "xgroup|create xgroup|createconsumer xgroup|delconsumer xgroup|destroy xgroup|setid xsetid xtrim zadd zrem " +
    "zremrangebylex zremrangebyrank zremrangebyscore",
  "w r": "bitop geosearchstore sdiffstore sinterstore sunionstore zdiffstore zinterstore zrangestore zunionstore",
  "rw w": "blmove brpoplpush lmove rename renamenx rpoplpush smove",
  "r w": "copy georadius georadiusbymember sort",
  "rw r": "pfmerge",
  "rw": "eval evalsha fcall",
  "r": "eval_ro evalsha_ro fcall_ro pfdebug xreadgroup",
  "-": "exists hexists hlen hstrlen llen memory|usage object|encoding object|freq object|idletime object|refcount scard " +
    "sismember strlen touch type watch xlen zcard",
};
const keyPermsByCommand = new Map<string, number[]>();
for (const [spec, names] of Object.entries(KEY_PERMS_EXCEPTIONS)) {
  const perms = spec.split(" ").map((p) => (p.includes("r") ? KEY_READ : 0) | (p.includes("w") ? KEY_WRITE : 0));
  for (const name of names.split(" ")) keyPermsByCommand.set(name, perms);
}

/** The permissions the j-th key of a command line needs. */
function aclKeyPermsNeeded(cmd: RedisCommand, argv: string[], j: number): number {
  if (cmd.name === "set") return argv.some((a, i) => i > 2 && a.toLowerCase() === "get") ? KEY_READ | KEY_WRITE : KEY_WRITE;
  if (cmd.name === "bitfield") return bitfieldIsReadOnly(argv) ? KEY_READ : KEY_READ | KEY_WRITE;
  const perms = keyPermsByCommand.get(cmd.name);
  if (perms) return perms[Math.min(j, perms.length - 1)];
  return cmd.flags & CMD_READONLY ? KEY_READ : cmd.flags & CMD_WRITE ? KEY_READ | KEY_WRITE : 0;
}

/** Whether a BITFIELD line only reads (bitfieldGetKeys): GETs and OVERFLOWs, well formed, up to
 *  the first SET or INCRBY. */
function bitfieldIsReadOnly(argv: string[]): boolean {
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i].toLowerCase(), left = argv.length - i - 1;
    if (arg === "get" && left >= 2) i += 2;
    else if (arg === "overflow" && left >= 1) i += 1;
    else return false; // SET, INCRBY, or a syntax error: taken as a write
  }
  return true;
}

/** The position of the first channel argument of a command, or 0 if it names none; and whether
 *  only one argument (PUBLISH) or all the rest are channels, and whether they are patterns. */
function aclChannelArgs(cmd: RedisCommand): [first: number, all: boolean, pattern: boolean] {
  switch (cmd.name) {
    case "publish": case "spublish": return [1, false, false];
    case "subscribe": case "ssubscribe": return [1, true, false];
    case "psubscribe": return [1, true, true];
    default: return [0, false, false];
  }
}

/** Whether a channel is in a list of allowed patterns. A PSUBSCRIBE pattern must appear there
 *  literally; a channel is matched against the patterns. */
function aclChannelAllowed(patterns: string[], channel: string, isPattern: boolean): boolean {
  return patterns.some((p) => (isPattern ? p === channel : stringmatch(p, channel)));
}

/** Where the check failed: the argument ACL LOG names for a key or channel. */
let aclDeniedPos = 0;

/** Checks a command line against one selector. */
function aclSelectorCheck(s: AclSelector, cmd: RedisCommand, argv: string[], keys: { list: number[] | null }): number {
  if (!s.allCommands && !(cmd.flags & CMD_NO_AUTH) && !s.bits[cmd.id]) {
    const allowed = s.firstArgs?.get(cmd.id);
    const arg = argv[cmd.parent ? 2 : 1];
    if (argv.length < 2 || !allowed || !allowed.some((a) => a.toLowerCase() === arg.toLowerCase())) return DENIED_CMD;
  }
  if (!s.allKeys && !(cmd.flags & CMD_PUBSUB)) {
    const list = (keys.list ??= getKeysFromCommand(cmd, argv));
    for (let j = 0; j < list.length; j++) {
      const need = aclKeyPermsNeeded(cmd, argv, j), key = argv[list[j]];
      if (!s.keys.some((k) => (k.perms & need) === need && stringmatch(k.pattern, key))) {
        aclDeniedPos = list[j];
        return DENIED_KEY;
      }
    }
  }
  if (!s.allChannels) {
    const [first, all, isPattern] = aclChannelArgs(cmd);
    for (let j = first; first && j < (all ? argv.length : first + 1); j++) {
      if (!aclChannelAllowed(s.channels, argv[j], isPattern)) {
        aclDeniedPos = j;
        return DENIED_CHANNEL;
      }
    }
  }
  return ACL_OK;
}

/** ACL_OK if some selector of the user allows the whole command line; otherwise why not (the
 *  highest reason over the selectors, and for it the last position, in aclDeniedPos). */
function aclCheckCommand(u: AclUser, cmd: RedisCommand, argv: string[]): number {
  let reason = DENIED_CMD, pos = 0;
  const keys = { list: null };
  for (const s of u.selectors) {
    aclDeniedPos = 0;
    const r = aclSelectorCheck(s, cmd, argv, keys);
    if (r === ACL_OK) return ACL_OK;
    if (r > reason || (r === reason && aclDeniedPos > pos)) { reason = r; pos = aclDeniedPos; }
  }
  aclDeniedPos = pos;
  return reason;
}

/** processCommand's error for a refused command line. */
function aclDeniedMessage(reason: number, cmd: RedisCommand): string {
  if (reason === DENIED_CMD) return `NOPERM this user has no permissions to run the '${cmd.name}' command`;
  if (reason === DENIED_KEY) return "NOPERM this user has no permissions to access one of the keys used as arguments";
  return "NOPERM this user has no permissions to access one of the channels used as arguments";
}

/** After SETUSER narrows a user's channels, its subscribers to channels no longer allowed are
 *  disconnected (Redis's ACLKillPubsubClientsIfNeeded, including its shortcut: nothing happens
 *  if every old channel pattern is still listed). */
function aclKillPubsubClientsIfNeeded(c: Client, updated: AclUser, original: AclUser): void {
  if (updated.selectors.some((s) => s.allChannels)) return;
  const upcoming = updated.selectors.flatMap((s) => s.channels);
  // An old selector with all channels is never covered by the new, narrower lists.
  if (original.selectors.every((s) => !s.allChannels && s.channels.every((ch) => upcoming.includes(ch)))) return;
  for (const x of [...server.clients.values()]) {
    if (x.user !== original || clientType(x) !== "pubsub") continue;
    const kill = [...x.patterns].some((p) => !aclChannelAllowed(upcoming, p, true)) ||
      [...x.channels, ...x.shardChannels].some((ch) => !aclChannelAllowed(upcoming, ch, false));
    if (kill) killClient(c, x);
  }
}

/** Deletes a user; clients logged in as it are disconnected (after this reply, for the caller). */
function aclDeleteUser(c: Client | null, u: AclUser): void {
  aclUsers.delete(u.name);
  for (const x of [...server.clients.values()]) {
    if (x.user !== u) continue;
    clientSetDefaultAuth(x);
    x.authenticated = false;
    if (c) killClient(c, x);
    else freeClient(x);
  }
}

// --- The ACL log: refused commands and failed logins, similar ones grouped within a minute.

interface AclLogEntry { count: number; reason: number; context: string; object: string; username: string; ctime: number; cinfo: string }
const aclLog: AclLogEntry[] = []; // newest first

function aclLogAdd(c: Client, reason: number, object: string, username = c.user?.name ?? "", context = c.mstate ? "multi" : "toplevel"): void {
  const entry: AclLogEntry = { count: 1, reason, context, object, username, ctime: wallClock(), cinfo: clientInfoString(c) };
  for (let i = 0; i < Math.min(10, aclLog.length); i++) {
    const e = aclLog[i];
    if (e.reason === reason && e.context === context && Math.abs(e.ctime - entry.ctime) <= 60000 && e.object === object && e.username === username) {
      aclLog.splice(i, 1);
      aclLog.unshift(e);
      e.cinfo = entry.cinfo;
      e.ctime = entry.ctime;
      e.count++;
      return;
    }
  }
  aclLog.unshift(entry);
  if (aclLog.length > confNum("acllog-max-len")) aclLog.length = confNum("acllog-max-len");
}

/** Logs a refused command line: the command's name, or the key or channel that was refused. */
function aclLogDenied(c: Client, reason: number, cmd: RedisCommand, argv: string[], context?: string): void {
  aclLogAdd(c, reason, reason === DENIED_CMD ? cmd.name : argv[aclDeniedPos], c.user?.name ?? "", context);
}

// --- The ACL file.

/** Reads an ACL file into a fresh set of users. Returns Redis's error text if any line is wrong,
 *  in which case nothing changes. On success the users replace the current ones: the default
 *  user is updated in place, the others' clients are disconnected, as Redis frees them. */
function aclLoadFromFile(c: Client | null): string | null {
  const file = String(conf.aclfile);
  let text: string;
  try {
    text = readFileSync(filePath(file), "latin1");
  } catch (err) {
    return `Error loading ACLs, opening file '${file}': ${strerror(err)}`;
  }
  const loaded = new Map<string, AclUser>();
  let errors = "";
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
    if (line === "") return;
    const argv = line.split(" ");
    if (argv[0] !== "user" || argv.length < 2) {
      errors += `${file}:${i + 1} should start with user keyword followed by the username. `;
      return;
    }
    if (aclHasSpaces(argv[1])) {
      errors += `'${file}:${i + 1}: username '${argv[1]}' contains invalid characters. `;
      return;
    }
    if (loaded.has(argv[1])) {
      errors += `WARNING: Duplicate user '${argv[1]}' found on line ${i + 1}. `;
      return;
    }
    const u = new AclUser(argv[1]);
    loaded.set(u.name, u);
    const m = aclMergeSelectorArgs(argv.slice(2));
    if ("unclosed" in m) {
      errors += `${file}:${i + 1}: Unmatched parenthesis in selector definition.`;
      return;
    }
    let syntaxError = false;
    for (const merged of m.merged) {
      const rule = merged.replace(/^[\t\r\n]+|[\t\r\n]+$/g, "");
      const err = aclSetUser(u, rule);
      // An unknown command is named (it reveals nothing); of other errors, which may be about a
      // password, only the first of the line is reported, without the rule.
      if (err === ACL_ERR.noent) errors += `${file}:${i + 1}: Error in applying operation '${rule}': ${err}. `;
      else if (err && !syntaxError) { errors += `${file}:${i + 1}: ${err}. `; syntaxError = true; }
    }
  });
  if (errors) return errors + "WARNING: ACL errors detected, no change to the previously active ACL rules was performed";
  const newDefault = loaded.get("default") ?? builtinDefaultUser();
  for (const u of aclUsers.values()) if (u !== defaultUser) aclDeleteUser(c, u);
  defaultUser.copyFrom(newDefault);
  aclUsers = new Map([["default", defaultUser]]);
  for (const u of loaded.values()) {
    if (u.name !== "default") { u.refresh(); aclUsers.set(u.name, u); }
  }
  return null;
}

/** Writes every user to the ACL file, through a temporary file and a rename. */
function aclSaveToFile(): boolean {
  const file = filePath(String(conf.aclfile));
  const tmp = `${file}.tmp-${process.pid}-${wallClock()}`;
  try {
    writeFileSync(tmp, aclSortedUsers().map((u) => `user ${u.name} ${aclDescribeUser(u)}\n`).join(""), "latin1");
    renameSync(tmp, file);
    return true;
  } catch (err) {
    log("warning", `Writing ACL file for ACL SAVE: ${(err as Error).message}`);
    try { unlinkSync(tmp); } catch {}
    return false;
  }
}

/** At startup: the default user's password from requirepass, then `user` lines from the config
 *  file or the ACL file (not both). Returns the reason startup must stop, or null. */
function aclLoadUsersAtStartup(): string | null {
  aclUpdateDefaultUserPassword(String(conf.requirepass));
  if (conf.aclfile && aclUsersToLoad.length) {
    return "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.";
  }
  for (const [name, ...rules] of aclUsersToLoad) {
    const u = aclUsers.get(name) ?? new AclUser(name);
    if (u === defaultUser) aclSetUser(u, "reset");
    for (const rule of rules) {
      const err = aclSetUser(u, rule);
      if (err) return `Error loading ACL rule '${rule}' for the user named '${name}': ${err}`;
    }
    aclCommitUser(u);
  }
  if (conf.aclfile) {
    const errors = aclLoadFromFile(null);
    if (errors) return `Aborting Redis startup because of ACL errors: ${errors}`;
  }
  return null;
}

/** Validates a config file's `user <name> <rules...>` line. Returns the error text, or null. */
function aclAppendUserForLoading(argv: string[]): string | null {
  if (aclUsersToLoad.some((u) => u[0] === argv[1])) return `Error in user declaration '${argv[1]}': ${ACL_ERR.already}`;
  const m = aclMergeSelectorArgs(argv.slice(2));
  if ("unclosed" in m) return `Error in user declaration '${argv[m.unclosed + 2]}': Unmatched parenthesis`;
  const fake = new AclUser(argv[1]);
  for (const rule of m.merged) {
    const err = aclSetUser(fake, rule);
    // Unknown commands are let through, as Redis does for commands modules may add later.
    if (err && err !== ACL_ERR.noent) return `Error in user declaration '${rule}': ${err}`;
  }
  aclUsersToLoad.push([argv[1], ...m.merged]);
  return null;
}

// --- Commands.

/* AUTH [username] password */
function authCommand(c: Client): void {
  const argv = c.argv;
  if (argv.length > 3) return addReplyError(c, E.syntax);
  if (argv.length === 2 && defaultUser.flags & USER_NOPASS) {
    return addReplyError(c, "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
  }
  const name = argv.length === 3 ? argv[1] : "default";
  if (!aclAuthenticate(c, name, argv[argv.length - 1])) return addReplyError(c, E.wrongPass);
  addReplyOK(c);
}

/* ACL SETUSER username [rule ...] */
function aclSetuserCommand(c: Client): void {
  const name = c.argv[2];
  if (aclHasSpaces(name)) return addReplyError(c, "ERR Usernames can't contain spaces or null characters");
  const m = aclMergeSelectorArgs(c.argv.slice(3));
  if ("unclosed" in m) return addReplyError(c, `ERR Unmatched parenthesis in acl selector starting at '${c.argv[m.unclosed + 3]}'.`);
  const staged = aclStageUser(name, m.merged);
  if ("err" in staged) return addReplyError(c, `ERR Error in ACL SETUSER modifier '${staged.rule}': ${staged.err}`);
  const existing = aclUsers.get(name);
  if (existing) aclKillPubsubClientsIfNeeded(c, staged.user, existing);
  aclCommitUser(staged.user);
  addReplyOK(c);
}

/* ACL DELUSER username [username ...] */
function aclDeluserCommand(c: Client): void {
  if (c.argv.slice(2).includes("default")) return addReplyError(c, "ERR The 'default' user cannot be removed");
  let deleted = 0;
  for (const name of c.argv.slice(2)) {
    const u = aclUsers.get(name);
    if (!u) continue;
    aclDeleteUser(c, u);
    deleted++;
  }
  addReplyLongLong(c, deleted);
}

/** The commands/keys/channels fields of a selector, as ACL GETUSER shows them. */
function addReplySelectorDescription(c: Client, s: AclSelector): void {
  addReplyBulk(c, "commands"); addReplyBulk(c, aclDescribeCommandRules(s));
  addReplyBulk(c, "keys"); addReplyBulk(c, s.allKeys ? "~*" : s.keys.map(aclDescribeKeyPattern).join(" "));
  addReplyBulk(c, "channels"); addReplyBulk(c, s.allChannels ? "&*" : s.channels.map((ch) => `&${ch}`).join(" "));
}

/* ACL GETUSER username */
function aclGetuserCommand(c: Client): void {
  const u = aclUsers.get(c.argv[2]);
  if (!u) return addReplyNull(c);
  addReplyMapLen(c, 6);
  addReplyBulk(c, "flags");
  const flags = USER_FLAG_NAMES.filter(([f]) => u.flags & f).map(([, name]) => name);
  addReplySetLen(c, flags.length);
  for (const f of flags) addReplyBulk(c, f);
  addReplyBulk(c, "passwords");
  addReplyBulks(c, u.passwords);
  addReplySelectorDescription(c, u.selectors[0]);
  addReplyBulk(c, "selectors");
  addReplyArrayLen(c, u.selectors.length - 1);
  for (const s of u.selectors.slice(1)) {
    addReplyMapLen(c, 3);
    addReplySelectorDescription(c, s);
  }
}

/* ACL LIST */
function aclListCommand(c: Client): void {
  addReplyBulks(c, aclSortedUsers().map((u) => `user ${u.name} ${aclDescribeUser(u)}`));
}

/* ACL USERS */
function aclUsersCommand(c: Client): void { addReplyBulks(c, aclSortedUsers().map((u) => u.name)); }

/* ACL WHOAMI */
function aclWhoamiCommand(c: Client): void { c.user ? addReplyBulk(c, c.user.name) : addReplyNull(c); }

const NO_ACLFILE = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";

/* ACL LOAD */
function aclLoadCommand(c: Client): void {
  if (!conf.aclfile) return addReplyError(c, NO_ACLFILE);
  const errors = aclLoadFromFile(c);
  errors === null ? addReplyOK(c) : addReplyError(c, `ERR ${errors}`);
}

/* ACL SAVE */
function aclSaveCommand(c: Client): void {
  if (!conf.aclfile) return addReplyError(c, NO_ACLFILE);
  if (aclSaveToFile()) addReplyOK(c);
  else addReplyError(c, "ERR There was an error trying to save the ACLs. Please check the server logs for more information");
}

/* ACL CAT [category] */
function aclCatCommand(c: Client): void {
  if (c.argv.length > 3) return addReplySubcommandSyntaxError(c);
  if (c.argv.length === 2) return addReplyBulks(c, ACL_CATEGORIES);
  const cat = ACL_CATEGORIES.indexOf(c.argv[2].toLowerCase());
  if (cat < 0) return addReplyError(c, `ERR Unknown category '${c.argv[2].slice(0, 128)}'`);
  addReplyBulks(c, aclAllCommands().filter((cmd) => cmd.categories & (1 << cat)).map((cmd) => cmd.name));
}

/* ACL GENPASS [bits] */
function aclGenpassCommand(c: Client): void {
  if (c.argv.length > 3) return addReplySubcommandSyntaxError(c);
  let bits = 256;
  if (c.argv.length === 3) {
    const n = parseIntOrReply(c, c.argv[2]);
    if (n === undefined) return;
    bits = n;
  }
  if (bits <= 0 || bits > 4096) return addReplyError(c, "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096");
  const chars = Math.floor((bits + 3) / 4);
  addReplyBulk(c, randomHex(chars));
}

/* ACL LOG [count | RESET] */
function aclLogCommand(c: Client): void {
  if (c.argv.length > 3) return addReplySubcommandSyntaxError(c);
  let count = 10;
  if (c.argv.length === 3) {
    if (c.argv[2].toLowerCase() === "reset") {
      aclLog.length = 0;
      return addReplyOK(c);
    }
    const n = parseIntOrReply(c, c.argv[2]);
    if (n === undefined) return;
    count = Math.max(0, n);
  }
  const entries = aclLog.slice(0, count);
  const reasons = ["", "command", "key", "auth", "channel"];
  const nowMs = wallClock();
  addReplyArrayLen(c, entries.length);
  for (const e of entries) {
    addReplyMapLen(c, 7);
    addReplyBulk(c, "count"); addReplyLongLong(c, e.count);
    addReplyBulk(c, "reason"); addReplyBulk(c, reasons[e.reason]);
    addReplyBulk(c, "context"); addReplyBulk(c, e.context);
    addReplyBulk(c, "object"); addReplyBulk(c, e.object);
    addReplyBulk(c, "username"); addReplyBulk(c, e.username);
    addReplyBulk(c, "age-seconds"); addReplyDouble(c, (nowMs - e.ctime) / 1000);
    addReplyBulk(c, "client-info"); addReplyBulk(c, e.cinfo);
  }
}

/* ACL DRYRUN username command [arg ...] */
function aclDryrunCommand(c: Client): void {
  const u = aclUsers.get(c.argv[2]);
  if (!u) return addReplyError(c, `ERR User '${c.argv[2]}' not found`);
  const argv = c.argv.slice(3);
  const cmd = lookupCommand(argv);
  if (!cmd) return addReplyError(c, `ERR Command '${argv[0]}' not found`);
  if ((cmd.arity > 0 && argv.length !== cmd.arity) || argv.length < -cmd.arity) return addReplyError(c, `ERR wrong number of arguments for '${cmd.name}' command`);
  const reason = aclCheckCommand(u, cmd, argv);
  if (reason === ACL_OK) return addReplyOK(c);
  if (reason === DENIED_CMD) return addReplyBulk(c, `This user has no permissions to run the '${cmd.name}' command`);
  addReplyBulk(c, `This user has no permissions to access the '${argv[aclDeniedPos]}' ${reason === DENIED_KEY ? "key" : "channel"}`);
}

function aclHelpCommand(c: Client): void {
  addReplyHelp(c, "ACL", [
    "CAT [<category>]", "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]", "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]", "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>", "    Get the user's details.",
    "GENPASS [<bits>]", "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST", "    Show users details in config file format.",
    "LOAD", "    Reload users from the ACL file.",
    "LOG [<count> | RESET]", "    Show the ACL log entries.",
    "SAVE", "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]", "    Create or modify a user with the specified attributes.",
    "USERS", "    List all the registered usernames.",
    "WHOAMI", "    Return the current connection username.",
  ]);
}

/** This chapter's rows of the command table (see Dispatch). */
const ACL_COMMANDS: CommandRows[] = [
  { group: "connection", specs: [
    ["auth", -2, "noscript loading stale fast no_auth allow_busy", 0, 0, 0, "connection", authCommand],
  ] },
  { group: "server", specs: [
    ["acl", -2, "", 0, 0, 0, "", () => {}],
  ], subs: {
    acl: [
      ["cat", -2, "noscript loading stale", 0, 0, 0, "", aclCatCommand],
      ["deluser", -3, "admin noscript loading stale", 0, 0, 0, "", aclDeluserCommand],
      ["dryrun", -4, "admin noscript loading stale", 0, 0, 0, "", aclDryrunCommand],
      ["genpass", -2, "noscript loading stale", 0, 0, 0, "", aclGenpassCommand],
      ["getuser", 3, "admin noscript loading stale", 0, 0, 0, "", aclGetuserCommand],
      ["help", 2, "loading stale", 0, 0, 0, "", aclHelpCommand],
      ["list", 2, "admin noscript loading stale", 0, 0, 0, "", aclListCommand],
      ["load", 2, "admin noscript loading stale", 0, 0, 0, "", aclLoadCommand],
      ["log", -2, "admin noscript loading stale", 0, 0, 0, "", aclLogCommand],
      ["save", 2, "admin noscript loading stale", 0, 0, 0, "", aclSaveCommand],
      ["setuser", -3, "admin noscript loading stale", 0, 0, 0, "", aclSetuserCommand],
      ["users", 2, "admin noscript loading stale", 0, 0, 0, "", aclUsersCommand],
      ["whoami", 2, "noscript loading stale", 0, 0, 0, "", aclWhoamiCommand],
    ],
  } },
];

// ============================================================================================
// RDB
//
// Redis's own RDB format (version 10, what Redis 7.0 writes), so dump files move between Redbun and
// Redis in both directions and pass redis-check-rdb. We write the plain encodings every Redis
// version loads and read every encoding Redis 7.x writes (integer and LZF strings, ziplists,
// listpacks, intsets, zipmaps, quicklists); CRC64 and LZF are in Part III. Also DUMP and RESTORE,
// and MIGRATE, which moves keys to another server as RESTOREs.
// ============================================================================================

// BGSAVE runs on the event loop in slices of a millisecond. It walks each database's slots from
// the top down (like SCAN, so a key present throughout is met exactly once thanks to a per-slot
// save mark), and copy-on-write keeps it a point-in-time snapshot: before any key that the walk
// has not reached yet is changed, deleted, or has its TTL touched, saveBeforeChange writes its
// current entry out first. Keys created after the start are marked as done, and FLUSHALL or
// SWAPDB leave the snapshot's Db objects alone. The file is written to a temp name, fsynced and
// renamed, so a crash never leaves a half-written dump.rdb behind; a save the disk refuses
// removes its temp file and reports the error.

const RDB_VERSION = 10;
const RDB_TYPE_STRING = 0, RDB_TYPE_LIST = 1, RDB_TYPE_SET = 2, RDB_TYPE_ZSET = 3, RDB_TYPE_HASH = 4, RDB_TYPE_ZSET_2 = 5,
  RDB_TYPE_MODULE = 6, RDB_TYPE_MODULE_2 = 7, RDB_TYPE_HASH_ZIPMAP = 9, RDB_TYPE_LIST_ZIPLIST = 10, RDB_TYPE_SET_INTSET = 11,
  RDB_TYPE_ZSET_ZIPLIST = 12, RDB_TYPE_HASH_ZIPLIST = 13, RDB_TYPE_LIST_QUICKLIST = 14, RDB_TYPE_STREAM_LISTPACKS = 15,
  RDB_TYPE_HASH_LISTPACK = 16, RDB_TYPE_ZSET_LISTPACK = 17, RDB_TYPE_LIST_QUICKLIST_2 = 18, RDB_TYPE_STREAM_LISTPACKS_2 = 19,
  RDB_TYPE_SET_LISTPACK = 20, RDB_TYPE_STREAM_LISTPACKS_3 = 21;
const RDB_OPCODE_SLOT_INFO = 244, RDB_OPCODE_FUNCTION2 = 245, RDB_OPCODE_FUNCTION = 246, RDB_OPCODE_MODULE_AUX = 247,
  RDB_OPCODE_IDLE = 248, RDB_OPCODE_FREQ = 249, RDB_OPCODE_AUX = 250, RDB_OPCODE_RESIZEDB = 251,
  RDB_OPCODE_EXPIRETIME_MS = 252, RDB_OPCODE_EXPIRETIME = 253, RDB_OPCODE_SELECTDB = 254, RDB_OPCODE_EOF = 255;
const RDB_ENC_INT8 = 0, RDB_ENC_INT16 = 1, RDB_ENC_INT32 = 2, RDB_ENC_LZF = 3;

// --- Writing.

/** An append-only byte buffer for RDB output. */
class RdbWriter {
  buf = Buffer.allocUnsafe(64 * 1024);
  len = 0;
  private ensure(n: number): void {
    if (this.buf.length - this.len >= n) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  byte(b: number): void { this.ensure(1); this.buf[this.len++] = b; }
  bytes(b: Uint8Array): void { this.ensure(b.length); this.buf.set(b, this.len); this.len += b.length; }
  latin1(s: string): void { this.ensure(s.length); this.len += this.buf.latin1Write(s, this.len); }
  /** Redis's length encoding: 6, 14, 32 or 64 bits. */
  length(n: number): void {
    this.ensure(9);
    if (n < 64) this.buf[this.len++] = n;
    else if (n < 16384) { this.buf[this.len++] = 0x40 | (n >> 8); this.buf[this.len++] = n & 0xff; }
    else if (n <= 0xffffffff) { this.buf[this.len++] = 0x80; this.buf.writeUInt32BE(n, this.len); this.len += 4; }
    else { this.buf[this.len++] = 0x81; this.buf.writeBigUInt64BE(BigInt(n), this.len); this.len += 8; }
  }
  /** A string: integer-encoded when it is a small integer in canonical form, LZF-compressed when
   *  rdbcompression is on and it helps, else plain. */
  string(s: string): void {
    if (s.length <= 11) {
      const v = string2ll(s);
      if (v !== null && v >= -2147483648 && v <= 2147483647 && String(v) === s) {
        this.ensure(5);
        if (v >= -128 && v <= 127) { this.buf[this.len++] = 0xc0 | RDB_ENC_INT8; this.buf.writeInt8(v, this.len); this.len += 1; }
        else if (v >= -32768 && v <= 32767) { this.buf[this.len++] = 0xc0 | RDB_ENC_INT16; this.buf.writeInt16LE(v, this.len); this.len += 2; }
        else { this.buf[this.len++] = 0xc0 | RDB_ENC_INT32; this.buf.writeInt32LE(v, this.len); this.len += 4; }
        return;
      }
    }
    if (s.length > 20 && conf.rdbcompression && this.lzf(Buffer.from(s, "latin1"))) return;
    this.length(s.length);
    this.latin1(s);
  }
  /** A string value: an RBytes from its buffer (it is too long to be an integer). */
  stringValue(v: RString): void {
    if (typeof v === "string") return this.string(v);
    const raw = v.buf.subarray(0, v.len);
    if (conf.rdbcompression && this.lzf(raw)) return;
    this.length(raw.length);
    this.bytes(raw);
  }
  /** Writes `raw` LZF-compressed if that makes it shorter; returns false (writing nothing) if not. */
  private lzf(raw: Buffer): boolean {
    const packed = lzfCompress(raw);
    if (!packed) return false;
    this.byte(0xc0 | RDB_ENC_LZF);
    this.length(packed.length);
    this.length(raw.length);
    this.bytes(packed);
    return true;
  }
  /** A length that may need all 64 bits (stream IDs). */
  lengthBig(n: bigint): void {
    if (n <= 0xffffffffn) return this.length(Number(n));
    this.ensure(9);
    this.buf[this.len++] = 0x81;
    this.buf.writeBigUInt64BE(n, this.len);
    this.len += 8;
  }
  double(d: number): void { this.ensure(8); this.buf.writeDoubleLE(d, this.len); this.len += 8; }
  millis(ms: number): void { this.ensure(8); this.buf.writeBigInt64LE(ms >= 2 ** 63 ? LLONG_MAX : ms < -(2 ** 63) ? -LLONG_MAX - 1n : BigInt(ms), this.len); this.len += 8; }
  take(): Buffer { const out = this.buf.subarray(0, this.len); this.buf = Buffer.allocUnsafe(64 * 1024); this.len = 0; return out; }
}

/** The bytes a string takes in an RDB file (without LZF): an integer encoding or a length prefix. */
function rdbStringLength(s: string): number {
  const n = s.length <= 11 ? string2ll(s) : null;
  if (n !== null && String(n) === s) {
    if (n >= -128 && n <= 127) return 2;
    if (n >= -32768 && n <= 32767) return 3;
    if (n >= -2147483648 && n <= 2147483647) return 5;
  }
  return (s.length < 64 ? 1 : s.length < 16384 ? 2 : 5) + s.length;
}

/** A list, hash, set or sorted set without elements, which a file or payload must not hold (an
 *  empty stream is a valid key, as in Redis). */
function isEmptyCollection(v: RValue): boolean {
  if (isString(v) || v instanceof RStream) return false;
  return (v instanceof RList ? v.length : v.size) === 0;
}

/** The RDB type a value is written as: the plain encodings every Redis loads. */
function rdbObjectType(v: RValue): number {
  if (isString(v)) return RDB_TYPE_STRING;
  if (v instanceof RList) return RDB_TYPE_LIST;
  if (v instanceof RSet) return RDB_TYPE_SET;
  if (v instanceof RHash) return RDB_TYPE_HASH;
  if (v instanceof RStream) return RDB_TYPE_STREAM_LISTPACKS_2;
  return RDB_TYPE_ZSET_2;
}

/** The body of a value (after its type byte). */
function rdbWriteObject(w: RdbWriter, v: RValue): void {
  if (isString(v)) return w.stringValue(v);
  if (v instanceof RList) {
    w.length(v.length);
    for (let i = 0; i < v.length; i++) w.string(v.get(i));
  } else if (v instanceof RSet) {
    w.length(v.size);
    for (let i = 0; i < v.size; i++) w.string(v.dict.keyAt(i));
  } else if (v instanceof RHash) {
    w.length(v.size);
    for (let i = 0; i < v.size; i++) { w.string(v.dict.keyAt(i)); w.string(v.dict.valAt(i)); }
  } else if (v instanceof RStream) {
    rdbWriteStream(w, v);
  } else {
    // From the highest score down, as Redis writes skiplists.
    w.length(v.size);
    for (let n = v.zsl.tail; n; n = v.zsl.prevOf(n)) { w.string(v.zsl.member(n)); w.double(v.zsl.score(n)); }
  }
}

/** One key: its expire time, then type, name and value. */
function rdbWriteKey(w: RdbWriter, key: string, v: RValue, expire: number): void {
  if (expire !== -1) { w.byte(RDB_OPCODE_EXPIRETIME_MS); w.millis(expire); }
  w.byte(rdbObjectType(v));
  w.string(key);
  rdbWriteObject(w, v);
}

/** The header and AUX fields Redis writes. */
function rdbWriteHeader(w: RdbWriter, aofBase: boolean): void {
  w.latin1(`REDIS${String(RDB_VERSION).padStart(4, "0")}`);
  const aux = (k: string, v: string) => { w.byte(RDB_OPCODE_AUX); w.string(k); w.string(v); };
  aux("redis-ver", REDIS_VERSION);
  aux("redis-bits", "64");
  aux("ctime", String(Math.floor(wallClock() / 1000)));
  aux("used-mem", String(memoryUsage().heapUsed));
  // Where the replication stream stands, so a restarted replica can continue with PSYNC and a
  // restarted master can let its replicas (Redis's rdbPopulateSaveInfo; not in an AOF base).
  const streamDb = aofBase ? null : rdbReplStreamDb();
  if (streamDb !== null) {
    aux("repl-stream-db", String(streamDb));
    aux("repl-id", repl.replid);
    aux("repl-offset", String(repl.offset));
  }
  aux("aof-base", aofBase ? "1" : "0");
}

/** The database the replication stream has selected, or null when there is no stream to go on
 *  with: a master without a backlog, a replica that never had a master. */
function rdbReplStreamDb(): number | null {
  if (!isReplica()) return repl.backlog ? Math.max(repl.seldb, 0) : null;
  if (repl.master) return repl.master.db;
  if (repl.cachedReplid) return repl.cachedMasterDb;
  return null;
}

/** After loading dump.rdb at start-up: the replication history it carries (Redis's loadDataFromDisk).
 *  A replica continues it with PSYNC; a master keeps it as its second ID, so its replicas can. */
function restoreReplicationInfo(aux: Map<string, string>): boolean {
  const id = aux.get("repl-id"), off = Number(aux.get("repl-offset") ?? NaN), db = Number(aux.get("repl-stream-db") ?? -1);
  if (!id || id.length !== 40 || !Number.isSafeInteger(off) || off < 0 || !(db >= 0)) return false;
  if (conf.replicaof) {
    repl.offset = off;
    repl.replid = id;
    repl.cachedReplid = id;
    repl.cachedMasterDb = db;
  } else {
    // The history continues after `off`: what the load put in the backlog (DELs) comes after it.
    repl.offset += off;
    repl.replid2 = id;
    repl.secondOffset = off + 1;
  }
  return true;
}

interface SaveJob {
  format: "rdb" | "aof"; // an RDB image, or the commands of an AOF base
  epoch: number;
  dbs: Db[]; // the databases as they were when the save started
  dbPos: number; // the database being written
  cursor: number; // its next slot, walking down
  started: boolean[]; // SELECTDB written for each database
  pending: Buffer[][]; // entries copied on write for databases not reached yet
  out: (chunk: Buffer) => void;
  w: RdbWriter;
  crc: [number, number];
  done: (err: Error | null) => void;
  startTime: number;
  error: Error | null; // the first failure of `out` (a full disk, say): the job stops and reports it
  killed: boolean; // stopped from outside (the AOF turned off): it ends without calling `done`
  waitMs: number; // rdb-key-save-delay: how long the keys of the last step "took"
}

let saveEpoch = 0;
let saveJob: SaveJob | null = null;
// A background save writes for this long between events. A command that arrives meanwhile waits
// for the rest of the slice, so the slice is the latency a BGSAVE adds (bench/results.md).
const SAVE_SLICE_MS = 1;

/** Copy-on-write: called before any change to a key while a save runs. If the save has not
 *  written that key yet, it writes it now, as it was. */
function saveBeforeChange(db: Db, key: string): void {
  const job = saveJob;
  if (!job) return;
  const i = db.slot(key);
  if (i === undefined || db.saveMark[i] === job.epoch) return;
  const dbIndex = job.dbs.indexOf(db);
  if (dbIndex < 0) return;
  db.saveMark[i] = job.epoch;
  saveWriteKey(job, key, db.valAt(i), getExpire(db, key));
  const entry = job.w.take();
  if (dbIndex === job.dbPos && job.started[dbIndex]) saveEmit(job, entry);
  else job.pending[dbIndex].push(entry);
}

function saveWriteKey(job: SaveJob, key: string, v: RValue, expire: number): void {
  if (job.format === "rdb") rdbWriteKey(job.w, key, v, expire);
  else aofRewriteKey(job.w, key, v, expire);
}

/** Hands a chunk to the job's destination. A destination that throws ends the job (at its next
 *  step) rather than the command whose copy-on-write emitted the chunk. */
function saveEmit(job: SaveJob, chunk: Buffer): void {
  if (job.error) return;
  crc64Update(job.crc, chunk);
  try {
    job.out(chunk);
  } catch (err) {
    job.error = err as Error;
  }
}

/** Writes the next part of the snapshot, for about `budgetMs`. Returns true when finished.
 *  rdb-key-save-delay (a testing parameter, in µs per key) makes a save slow on purpose, as it
 *  makes Redis's child sleep after every key: a background step then writes the keys that fit in
 *  a millisecond of delay and waits that long (job.waitMs) before the next, without blocking the
 *  server; a foreground save sleeps, as Redis's SAVE does. */
function saveStep(job: SaveJob, budgetMs: number): boolean {
  const start = performance.now();
  const w = job.w;
  const keyDelayUs = confNum("rdb-key-save-delay");
  let delayedKeys = 0;
  job.waitMs = 0;
  while (job.dbPos < job.dbs.length) {
    if (job.error) return true;
    const db = job.dbs[job.dbPos];
    if (!job.started[job.dbPos]) {
      job.started[job.dbPos] = true;
      if (db.size === 0 && job.pending[job.dbPos].length === 0) { job.dbPos++; continue; }
      if (job.format === "aof") w.latin1(respCommand(["SELECT", String(job.dbPos)]));
      else {
        w.byte(RDB_OPCODE_SELECTDB);
        w.length(job.dbPos);
        w.byte(RDB_OPCODE_RESIZEDB);
        w.length(db.size);
        w.length(db.expires.size);
      }
      saveEmit(job, w.take());
      for (const e of job.pending[job.dbPos]) saveEmit(job, e);
      job.pending[job.dbPos] = [];
      job.cursor = db.size;
    }
    while (job.cursor > 0) {
      const i = --job.cursor;
      if (i >= db.size || db.saveMark[i] === job.epoch) continue;
      db.saveMark[i] = job.epoch;
      saveWriteKey(job, db.keyAt(i), db.valAt(i), getExpire(db, db.keyAt(i)));
      if (w.len > 256 * 1024) saveEmit(job, w.take());
      if (job.error) return true;
      if (keyDelayUs > 0) {
        if (budgetMs === Infinity) Bun.sleepSync(keyDelayUs / 1000);
        else if (++delayedKeys * keyDelayUs >= 1000 || job.cursor === 0) {
          if (w.len) saveEmit(job, w.take());
          job.waitMs = (delayedKeys * keyDelayUs) / 1000;
          if (job.cursor === 0) job.dbPos++;
          return job.dbPos >= job.dbs.length && saveFinish(job);
        }
      }
      if ((job.cursor & 255) === 0 && performance.now() - start > budgetMs) {
        if (w.len) saveEmit(job, w.take());
        return false;
      }
    }
    if (w.len) saveEmit(job, w.take());
    job.dbPos++;
  }
  return saveFinish(job);
}

/** The end of a snapshot: an RDB's EOF opcode and checksum. Returns true. */
function saveFinish(job: SaveJob): boolean {
  const w = job.w;
  if (job.format === "aof") return true;
  w.byte(RDB_OPCODE_EOF);
  const eof = w.take();
  crc64Update(job.crc, eof);
  const tail = Buffer.allocUnsafe(8);
  tail.writeUInt32LE(conf.rdbchecksum ? job.crc[0] : 0, 0);
  tail.writeUInt32LE(conf.rdbchecksum ? job.crc[1] : 0, 4);
  if (!job.error) {
    try { job.out(Buffer.concat([eof, tail])); } catch (err) { job.error = err as Error; }
  }
  return true;
}

/** Starts a snapshot of every database, delivered in chunks to `out`. With `background`, it runs
 *  in slices between events; otherwise it completes before returning. */
function startSnapshot(out: (chunk: Buffer) => void, background: boolean, aofBase: boolean, done: (err: Error | null) => void, format: "rdb" | "aof" = "rdb",
  include = { data: true, functions: true }): SaveJob {
  const job: SaveJob = {
    format, epoch: ++saveEpoch, dbs: include.data ? server.dbs.slice() : [], dbPos: 0, cursor: 0,
    started: server.dbs.map(() => false), pending: server.dbs.map(() => []), out, w: new RdbWriter(),
    crc: [0, 0], done, startTime: wallClock(), error: null, killed: false, waitMs: 0,
  };
  const w = job.w;
  if (format === "rdb") rdbWriteHeader(w, aofBase);
  if (format === "aof" && conf["aof-timestamp-enabled"] === true) saveEmit(job, Buffer.from(aofTimestampAnnotation(true)!, "latin1"));
  if (include.functions) rdbWriteFunctions(w, format);
  saveEmit(job, w.take());
  if (!background) {
    try {
      saveStep(job, Infinity);
    } catch (err) {
      job.error ??= err as Error;
    }
    done(job.error);
    return job;
  }
  saveJob = job;
  const tick = () => {
    if (job.killed) return;
    try {
      if (!saveStep(job, SAVE_SLICE_MS)) return void (job.waitMs > 0 ? setTimeout(tick, job.waitMs) : setImmediate(tick));
    } catch (err) {
      job.error ??= err as Error;
    }
    saveJob = null;
    done(job.error);
  };
  setImmediate(tick);
  return job;
}

/** Stops a background snapshot where it is (its destination cleans up after itself). */
function killSaveJob(job: SaveJob): void {
  job.killed = true;
  if (saveJob === job) saveJob = null;
}

/** Writes a file atomically: a temp name in the same directory, fsync, rename. Every method
 *  throws (or reports) the disk's refusal; abort() then removes the temp file. */
class AtomicFile {
  private fd: number;
  private tmp: string;
  private closed = false;
  /** temp-<pid>-<n>.rdb: the pid tells a later start-up whether its writer is still alive. */
  static tempName(): string { return `temp-${process.pid}-${++AtomicFile.seq}.rdb`; }
  private static seq = 0;
  constructor(private path: string) {
    this.tmp = `${dirname(path)}/${AtomicFile.tempName()}`;
    this.fd = openSync(this.tmp, "w");
  }
  write(chunk: Uint8Array): void {
    const { err } = writeAll(this.fd, chunk);
    if (err) throw err;
  }
  commit(): void {
    fsyncSync(this.fd);
    this.close();
    renameSync(this.tmp, this.path);
  }
  /** As commit, with the fsync (milliseconds for a big file) off the event loop. */
  commitAsync(done: (err: Error | null) => void): void {
    fsync(this.fd, (err) => {
      if (err) return done(err);
      try {
        this.close();
        renameSync(this.tmp, this.path);
      } catch (e) {
        return done(e as Error);
      }
      done(null);
    });
  }
  abort(): void {
    this.close();
    try { unlinkSync(this.tmp); } catch { /* never created, or renamed */ }
  }
  private close(): void {
    if (this.closed) return;
    this.closed = true;
    try { closeSync(this.fd); } catch { /* already closed */ }
  }
}

/** A background save's file, written by a child process as Redis's forked child writes it:
 *  `temp-<child pid>.rdb` in the same directory, the bytes streamed to the child's standard input
 *  (a `cat`), then fsync and rename here. Killing the child (kill -9, as operators and Redis's
 *  tests do) ends the save as a failure; `onDeath` hears of it while the save still runs. */
class ChildSaveFile {
  private proc: Subprocess<"pipe", "ignore", "pipe">;
  readonly tmp: string;
  readonly pid: number;
  private buffered = 0;
  private ending = false;
  constructor(private path: string, onDeath: (why: string, bySignal: boolean) => void) {
    const dir = dirname(path);
    this.proc = Bun.spawn(["sh", "-c", 'exec cat > "$0/temp-$$.rdb"', dir], {
      stdin: "pipe", stdout: "ignore", stderr: "pipe", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C" },
    });
    this.pid = this.proc.pid;
    this.tmp = `${dir}/temp-${this.pid}.rdb`;
    void this.proc.exited.then(async () => { if (!this.ending) onDeath(await this.failure(), this.proc.signalCode !== null); });
  }
  write(chunk: Uint8Array): void {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) throw new Error(this.why());
    this.proc.stdin.write(chunk);
    this.buffered += chunk.length;
    if (this.buffered >= 1 << 20) {
      this.buffered = 0;
      // A child that died meanwhile rejects this with EPIPE: onDeath reports it.
      const flushed = this.proc.stdin.flush();
      if (flushed instanceof Promise) flushed.catch(() => {});
    }
  }
  /** Waits for the child to write everything, then fsync and rename (off the event loop). */
  commitAsync(done: (err: Error | null) => void): void {
    this.ending = true;
    void (async () => {
      try {
        await this.proc.stdin.end();
        await this.proc.exited;
        if (this.proc.signalCode !== null || this.proc.exitCode !== 0) throw new Error(await this.failure());
        const fd = openSync(this.tmp, "r");
        try { await new Promise<void>((res, rej) => fsync(fd, (e) => (e ? rej(e) : res()))); } finally { closeSync(fd); }
        renameSync(this.tmp, this.path);
      } catch (err) {
        this.removeTemp();
        return done(err as Error);
      }
      done(null);
    })();
  }
  /** Kills the child (SIGUSR1, as Redis's killRDBChild) and removes its file. */
  abort(): void {
    this.ending = true;
    try { this.proc.kill("SIGUSR1"); } catch { /* gone */ }
    this.removeTemp();
  }
  private removeTemp(): void { try { unlinkSync(this.tmp); } catch { /* never created, or renamed */ } }
  private why(): string {
    const sig = this.proc.signalCode;
    return sig ? `terminated by signal ${osConstants.signals[sig as keyof typeof osConstants.signals] ?? sig}` : `exited with code ${this.proc.exitCode}`;
  }
  /** What the child said when it failed (a full disk: "No space left on device"). */
  private async failure(): Promise<string> {
    if (this.proc.signalCode) return this.why();
    const said = (await new Response(this.proc.stderr).text()).trim();
    const m = /: ([^:]+)$/.exec(said);
    return m ? m[1] : said || this.why();
  }
}

/** Removes the temp files of saves that died with their process (kill -9 during a BGSAVE or an
 *  AOF rewrite), as found at start-up in `dir` and the AOF directory. A file whose pid is alive
 *  belongs to another server sharing the directory and is left alone. */
function removeStaleTempFiles(): void {
  for (const dir of [String(conf.dir), aofDir()]) {
    let names: string[];
    try { names = readdirSync(dir); } catch { continue; }
    for (const name of names) {
      const m = /^temp-(\d+)(?:-\d+)?\.rdb$/.exec(name);
      if (!m || Number(m[1]) === process.pid || processAlive(Number(m[1]))) continue;
      try {
        unlinkSync(`${dir}/${name}`);
        log("notice", `Removed the temp file ${name} of an unfinished save`);
      } catch { /* someone else's, or gone */ }
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function rdbPath(): string { return `${conf.dir}/${conf.dbfilename}`; }

/** Saves the dataset to dbfilename (SAVE, SHUTDOWN, save points with `background`). Whatever
 *  fails (opening, writing, fsync, rename), the temp file is removed and the old file stays; a
 *  failed background save reports rdb_last_bgsave_status:err (and, with save points, refuses
 *  writes with MISCONF) until a save succeeds. */
function rdbSave(background: boolean, onDone?: (ok: boolean) => void): void {
  const dirtyAtStart = server.dirty;
  const start = wallClock();
  const failed = (quiet = false) => {
    server.rdbChildRunning = false;
    server.killRdbSave = null;
    if (background) {
      if (!quiet) log("warning", "Background saving error");
      server.lastBgsaveOk = false;
    }
    onDone?.(false);
  };
  let file: AtomicFile | ChildSaveFile;
  let job: SaveJob | null = null, killed = false;
  try {
    // In the background the file is written by a child process, as Redis's fork writes it.
    file = background ? new ChildSaveFile(rdbPath(), (why, bySignal) => {
      if (killed || !job) return;
      killed = true;
      killSaveJob(job);
      (file as ChildSaveFile).abort();
      log("warning", bySignal ? `Background saving ${why}` : `Write error saving DB on disk: ${why}`);
      failed(bySignal); // Redis says only how a child that was killed ended
    }) : new AtomicFile(rdbPath());
  } catch (err) {
    log("warning", `Failed opening the temp RDB file ${AtomicFile.tempName()} (in server root dir ${workingDir() || "unknown"}) for saving: ${strerror(err)}`);
    return failed();
  }
  if (background) {
    server.rdbChildRunning = true;
    server.rdbSaveStart = start;
    log("notice", "Background saving started");
  }
  const fail = (err: Error) => {
    file.abort();
    log("warning", `Write error saving DB on disk: ${strerror(err)}`);
    failed();
  };
  const succeed = () => {
    server.rdbChildRunning = false;
    server.killRdbSave = null;
    server.dirty -= dirtyAtStart;
    server.lastSave = Math.floor(start / 1000);
    server.lastBgsaveOk = true;
    server.rdbSaves++;
    server.rdbLastSaveSeconds = Math.round((wallClock() - start) / 1000);
    log("notice", background ? "Background saving terminated with success" : "DB saved on disk");
    onDone?.(true);
  };
  job = startSnapshot((chunk) => file.write(chunk), background, false, (err) => {
    if (err) return fail(err);
    // In the background, the child writes and the fsync runs off the event loop.
    if (background) return file.commitAsync((e) => killed ? undefined : e ? fail(e) : succeed());
    try {
      (file as AtomicFile).commit();
    } catch (e) {
      return fail(e as Error);
    }
    succeed();
  });
  if (!background) return;
  // Stopped on purpose (FLUSHALL): no file, no error, the changes still count as unsaved.
  server.killRdbSave = () => {
    killed = true;
    killSaveJob(job!);
    file.abort();
    server.rdbChildRunning = false;
    server.killRdbSave = null;
    log("warning", "Background saving terminated by signal 10");
    onDone?.(false);
  };
}

/** Stops a BGSAVE in progress, as Redis's killRDBChild (a signal it does not count as a failure). */
function killRdbChild(): void {
  server.killRdbSave?.();
}

/* SAVE */
function saveCommand(c: Client): void {
  if (server.rdbChildRunning) return addReplyError(c, "ERR Background save already in progress");
  rdbSave(false, (ok) => (ok ? addReplyOK(c) : addReplyError(c, "ERR")));
}

/* BGSAVE [SCHEDULE] */
function bgsaveCommand(c: Client): void {
  let schedule = false;
  if (c.argv.length > 1) {
    if (c.argv.length === 2 && c.argv[1].toLowerCase() === "schedule") schedule = true;
    else return addReplyError(c, E.syntax);
  }
  if (server.rdbChildRunning) return addReplyError(c, "ERR Background save already in progress");
  if (c.denyBlocking) {
    // Inside EXEC a save cannot start in the middle of the transaction: it is scheduled.
    server.bgsaveScheduled = true;
    return addReplyStatus(c, "Background saving scheduled");
  }
  if (aof.rewriting) {
    if (!schedule) return addReplyError(c, "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");
    server.bgsaveScheduled = true;
    return addReplyStatus(c, "Background saving scheduled");
  }
  rdbSave(true);
  addReplyStatus(c, "Background saving started");
}

/** serverCron's part: start a BGSAVE when a save point is reached (or one was scheduled). */
function checkSavePoints(): void {
  if (server.rdbChildRunning || aof.rewriting || server.loading) return;
  if (server.bgsaveScheduled) { server.bgsaveScheduled = false; return rdbSave(true); }
  const points = String(conf.save).split(" ").filter(Boolean).map(Number);
  const nowSec = Math.floor(wallClock() / 1000);
  for (let i = 0; i < points.length; i += 2) {
    const seconds = points[i], changes = points[i + 1];
    // After a failed save, retry only every 5 seconds, as Redis does.
    if (server.dirty >= changes && nowSec - server.lastSave > seconds && (server.lastBgsaveOk || nowSec - server.lastBgsaveTry > 5)) {
      log("notice", `${changes} changes in ${seconds} seconds. Saving...`);
      server.lastBgsaveTry = nowSec;
      return rdbSave(true);
    }
  }
}

// --- Reading.

class RdbError extends Error {
  constructor(public reason: string, public offset: number) { super(`${reason} (at byte offset ${offset})`); }
}

/** A cursor over RDB bytes with Redis's decoding rules. */
class RdbReader {
  pos = 0;
  constructor(public buf: Buffer) {}
  need(n: number): void { if (this.pos + n > this.buf.length) throw new RdbError("Unexpected end of file", this.pos); }
  byte(): number { this.need(1); return this.buf[this.pos++]; }
  /** A length, or a special string encoding (returned as -1 - encoding). */
  lengthOrEnc(): number {
    const first = this.byte();
    const kind = first >> 6;
    if (kind === 0) return first & 0x3f;
    if (kind === 1) return ((first & 0x3f) << 8) | this.byte();
    if (kind === 3) return -1 - (first & 0x3f);
    if (first === 0x80) { this.need(4); const v = this.buf.readUInt32BE(this.pos); this.pos += 4; return v; }
    if (first === 0x81) { this.need(8); const v = Number(this.buf.readBigUInt64BE(this.pos)); this.pos += 8; return v; }
    throw new RdbError(`Unknown length encoding ${first}`, this.pos - 1);
  }
  lengthBig(): bigint {
    if (this.buf[this.pos] === 0x81) { this.need(9); const v = this.buf.readBigUInt64BE(this.pos + 1); this.pos += 9; return v; }
    return BigInt(this.length());
  }
  length(): number {
    const n = this.lengthOrEnc();
    if (n < 0) throw new RdbError("Unexpected string encoding where a length was expected", this.pos - 1);
    return n;
  }
  /** Raw string bytes (decompressing LZF, expanding integers). */
  stringBytes(): Buffer {
    const n = this.lengthOrEnc();
    if (n >= 0) { this.need(n); const b = this.buf.subarray(this.pos, this.pos + n); this.pos += n; return b; }
    const enc = -1 - n;
    if (enc === RDB_ENC_INT8) { this.need(1); return Buffer.from(String(this.buf.readInt8(this.pos++)), "latin1"); }
    if (enc === RDB_ENC_INT16) { this.need(2); const v = this.buf.readInt16LE(this.pos); this.pos += 2; return Buffer.from(String(v), "latin1"); }
    if (enc === RDB_ENC_INT32) { this.need(4); const v = this.buf.readInt32LE(this.pos); this.pos += 4; return Buffer.from(String(v), "latin1"); }
    if (enc === RDB_ENC_LZF) {
      const at = this.pos;
      const clen = this.length(), len = this.length();
      this.need(clen);
      const out = lzfDecompress(this.buf.subarray(this.pos, this.pos + clen), len);
      if (!out) throw new RdbError("Invalid LZF compressed string", at);
      this.pos += clen;
      return Buffer.from(out.buffer, out.byteOffset, out.length);
    }
    throw new RdbError(`Unknown string encoding ${enc}`, this.pos - 1);
  }
  string(): string {
    // A plain string (the common case) is sliced straight from the file, without a Buffer view.
    const first = this.buf[this.pos];
    if (first !== undefined && first < 0x40) {
      const n = first & 0x3f;
      this.pos++;
      this.need(n);
      const s = this.buf.latin1Slice(this.pos, this.pos + n);
      this.pos += n;
      return s;
    }
    return this.stringBytes().latin1Slice();
  }
  /** Old-style (RDB_TYPE_ZSET) double: a length byte then ASCII, with 253-255 for nan/inf/-inf. */
  asciiDouble(): number {
    const len = this.byte();
    if (len === 253) return NaN;
    if (len === 254) return Infinity;
    if (len === 255) return -Infinity;
    this.need(len);
    const s = this.buf.latin1Slice(this.pos, this.pos + len);
    this.pos += len;
    return Number(s);
  }
  binaryDouble(): number { this.need(8); const v = this.buf.readDoubleLE(this.pos); this.pos += 8; return v; }
  millis(): number { this.need(8); const v = Number(this.buf.readBigInt64LE(this.pos)); this.pos += 8; return v; }
  seconds(): number { this.need(4); const v = this.buf.readInt32LE(this.pos); this.pos += 4; return v * 1000; }
}

/** The entries of a ziplist (Redis < 7 small lists, hashes and sorted sets), checked as Redis's
 *  ziplistValidateIntegrity with deep checks (Redis 7 converts every ziplist it loads, so it always
 *  checks them deeply): the header's byte count, tail offset and entry count, each entry's
 *  encoding and bounds, each prevlen against the entry before, and the end marker. Anything off
 *  is `<what> integrity check failed.` */
function ziplistEntries(b: Buffer, at: number, what = "Ziplist"): string[] {
  const bad = () => new RdbError(`${what} integrity check failed.`, at);
  const end = b.length - 1; // where the 0xff end marker must be
  if (b.length < 11 || b.readUInt32LE(0) !== b.length || b.readUInt32LE(4) > end || b[end] !== 0xff) throw bad();
  const tail = b.readUInt32LE(4), count = b.readUInt16LE(8);
  let p = 10, prevLen = 0, last = -1;
  const out: string[] = [];
  while (p < end && b[p] !== 0xff) {
    const start = p;
    let prevRaw: number;
    if (b[p] < 0xfe) prevRaw = b[p++];
    else { if (p + 5 > end) throw bad(); prevRaw = b.readUInt32LE(p + 1); p += 5; }
    if (prevRaw !== prevLen || p >= end) throw bad();
    const enc = b[p];
    let header: number, len: number;
    if (enc >> 6 === 0) { header = 1; len = enc & 0x3f; }
    else if (enc >> 6 === 1) { if (p + 2 > end) throw bad(); header = 2; len = ((enc & 0x3f) << 8) | b[p + 1]; }
    else if (enc >> 6 === 2) { if (p + 5 > end) throw bad(); header = 5; len = b.readUInt32BE(p + 1); }
    else {
      header = 1;
      len = enc === 0xc0 ? 2 : enc === 0xd0 ? 4 : enc === 0xe0 ? 8 : enc === 0xf0 ? 3 : enc === 0xfe ? 1 : enc >= 0xf1 && enc <= 0xfd ? 0 : -1;
      if (len < 0) throw bad();
    }
    if (p + header + len > end) throw bad(); // an entry may not reach the end marker
    const v = p + header;
    if (enc >> 6 !== 3) out.push(b.latin1Slice(v, v + len));
    else if (enc === 0xc0) out.push(String(b.readInt16LE(v)));
    else if (enc === 0xd0) out.push(String(b.readInt32LE(v)));
    else if (enc === 0xe0) out.push(String(b.readBigInt64LE(v)));
    else if (enc === 0xf0) out.push(String(b.readIntLE(v, 3)));
    else if (enc === 0xfe) out.push(String(b.readInt8(v)));
    else out.push(String((enc & 0x0f) - 1));
    p = v + len;
    prevLen = p - start;
    last = start;
  }
  if (p !== end || tail !== (last < 0 ? 10 : last) || (count !== 0xffff && count !== out.length)) throw bad();
  return out;
}

/** The bytes a listpack entry's back-length takes: one per 7 bits of the entry's length. */
function lpBacklenSize(len: number): number { return len <= 127 ? 1 : len < 16383 ? 2 : len < 2097151 ? 3 : len < 268435455 ? 4 : 5; }

/** The entries of a listpack (Redis 7 small collections and stream nodes), checked as Redis's
 *  lpValidateIntegrity with deep checks: the header's byte and element counts, each entry's
 *  encoding, bounds and back-length, and the end marker. */
function listpackEntries(b: Buffer, at: number, what = "Listpack"): string[] {
  const bad = () => new RdbError(`${what} integrity check failed.`, at);
  const end = b.length - 1;
  if (b.length < 7 || b.readUInt32LE(0) !== b.length || b[end] !== 0xff) throw bad();
  const count = b.readUInt16LE(4);
  let p = 6;
  const out: string[] = [];
  while (p < end) {
    const enc = b[p];
    let header: number, len: number;
    if ((enc & 0x80) === 0) { header = 1; len = 0; }
    else if ((enc & 0xc0) === 0x80) { header = 1; len = enc & 0x3f; }
    else if ((enc & 0xe0) === 0xc0) { header = 2; len = 0; }
    else if ((enc & 0xf0) === 0xe0) { header = 2; len = p + 1 < end ? ((enc & 0x0f) << 8) | b[p + 1] : 0; }
    else if (enc === 0xf0) { header = 5; len = p + 4 < end ? b.readUInt32LE(p + 1) : 0; }
    else if (enc >= 0xf1 && enc <= 0xf4) { header = 1; len = enc === 0xf1 ? 2 : enc === 0xf2 ? 3 : enc === 0xf3 ? 4 : 8; }
    else throw bad();
    const entryLen = header + len, backlen = lpBacklenSize(entryLen);
    if (p + entryLen + backlen > end) throw bad();
    // The back-length, read as Redis's lpDecodeBacklen: 7-bit groups from the last byte backwards,
    // every byte but the first (most significant) flagged 0x80; it must give the entry's length.
    let stored = 0, shift = 0;
    for (let q = p + entryLen + backlen - 1; ; q--, shift += 7) {
      if (shift > 28) throw bad();
      stored += (b[q] & 0x7f) * 2 ** shift;
      if (!(b[q] & 0x80)) break;
    }
    if (stored !== entryLen) throw bad();
    const v = p + header;
    if ((enc & 0x80) === 0) out.push(String(enc & 0x7f));
    else if ((enc & 0xc0) === 0x80 || (enc & 0xf0) === 0xe0 || enc === 0xf0) out.push(b.latin1Slice(v, v + len));
    else if ((enc & 0xe0) === 0xc0) { let n = ((enc & 0x1f) << 8) | b[p + 1]; if (n >= 1 << 12) n -= 1 << 13; out.push(String(n)); }
    else if (enc === 0xf1) out.push(String(b.readInt16LE(v)));
    else if (enc === 0xf2) out.push(String(b.readIntLE(v, 3)));
    else if (enc === 0xf3) out.push(String(b.readInt32LE(v)));
    else out.push(String(b.readBigInt64LE(v)));
    p += entryLen + backlen;
  }
  if (p !== end || (count !== 0xffff && count !== out.length)) throw bad();
  return out;
}

/** A ziplist or listpack of field/value (or member/score) pairs: an even count, no field twice. */
function pairsEntries(entries: string[], at: number, what: string): string[] {
  if (entries.length % 2) throw new RdbError(`${what} integrity check failed.`, at);
  const seen = new Set<string>();
  for (let i = 0; i < entries.length; i += 2) {
    if (seen.has(entries[i])) throw new RdbError(`${what} integrity check failed.`, at);
    seen.add(entries[i]);
  }
  return entries;
}

/** The members of an intset, checked as Redis's intsetValidateIntegrity (deep): a known width, a
 *  size that is exactly the header and the members, members ascending without repeats. */
function intsetEntries(b: Buffer, at: number): string[] {
  const bad = () => new RdbError("Intset integrity check failed.", at);
  if (b.length < 8) throw bad();
  const width = b.readUInt32LE(0), n = b.readUInt32LE(4);
  if ((width !== 2 && width !== 4 && width !== 8) || 8 + width * n !== b.length) throw bad();
  const out: string[] = [];
  let prev: bigint | null = null;
  for (let i = 0; i < n; i++) {
    const p = 8 + i * width;
    const v = width === 2 ? BigInt(b.readInt16LE(p)) : width === 4 ? BigInt(b.readInt32LE(p)) : b.readBigInt64LE(p);
    if (prev !== null && v <= prev) throw bad();
    prev = v;
    out.push(String(v));
  }
  return out;
}

/** The field/value pairs of a zipmap (very old small hashes). */
function zipmapEntries(b: Buffer, at: number): string[] {
  try {
    return zipmapEntriesUnchecked(b, at);
  } catch (err) {
    if (err instanceof RdbError) throw err;
    throw new RdbError("Zipmap integrity check failed.", at); // a length past the end
  }
}
function zipmapEntriesUnchecked(b: Buffer, at: number): string[] {
  let p = 1;
  const out: string[] = [];
  const len = () => { const f = b[p++]; if (f < 254) return f; const v = b.readUInt32LE(p); p += 4; return v; };
  while (p < b.length && b[p] !== 0xff) {
    const kl = len(); out.push(b.latin1Slice(p, p + kl)); p += kl;
    const vl = len(); const free = b[p++]; out.push(b.latin1Slice(p, p + vl)); p += vl + free;
  }
  // It must end at its last byte, and hold something (an empty one is corrupt, as in Redis).
  if (p !== b.length - 1 || out.length === 0) throw new RdbError("Zipmap integrity check failed.", at);
  return out;
}

/** A hash from field/value pairs; a field twice is corruption, reported in Redis's words for
 *  how it was stored (`dupReason`). */
function hashFromPairs(pairs: string[], at = 0, dupReason = "Duplicate hash fields detected"): RHash {
  const h = new RHash();
  for (let i = 0; i < pairs.length; i += 2) if (!h.set(pairs[i], pairs[i + 1])) throw new RdbError(dupReason, at);
  return h;
}
function setFromMembers(members: string[], at = 0): RSet {
  const s = new RSet();
  if (members.length > hot.setMaxIntsetEntries) s.intset = false;
  for (const m of members) s.add(m);
  if (s.size !== members.length) throw new RdbError("Duplicate set members detected", at);
  return s;
}
/** A score as a listpack stores it: an integer, or text from d2string ("inf", "-inf", "1.5"),
 *  read as Redis's zzlStrtod reads it (strtod: the longest number at the start, 0 if none). */
function rdbScore(s: string): number {
  const m = /^\s*([+-]?)(inf(inity)?|nan)/i.exec(s);
  if (m) return /^nan/i.test(m[2]) ? NaN : m[1] === "-" ? -Infinity : Infinity;
  const v = parseFloat(s);
  return Number.isNaN(v) ? 0 : v;
}

/** A sorted set as Redis ends up with it after loading: a listpack when small enough. */
function zsetFromPairs(pairs: [string, number][], at: number): RZSet {
  // A NaN score would break the order every other command relies on (Redis refuses it too).
  if (pairs.some(([, s]) => Number.isNaN(s))) throw new RdbError("Zset with NAN score detected", at);
  const z = new RZSet(0, 0);
  z.listpack = pairs.length <= hot.zsetMaxListpackEntries && pairs.every(([m]) => m.length <= hot.zsetMaxListpackValue);
  for (const [m, s] of pairs) z.set(m, s);
  if (z.size !== pairs.length) throw new RdbError("Duplicate zset fields detected", at);
  return z;
}

/** Reads one value of the given RDB type. */
function rdbReadObject(r: RdbReader, type: number): RValue {
  const at = r.pos;
  switch (type) {
    case RDB_TYPE_STRING: return r.string();
    case RDB_TYPE_LIST: case RDB_TYPE_SET: {
      const n = r.length();
      const items: string[] = [];
      for (let i = 0; i < n; i++) items.push(r.string());
      if (type === RDB_TYPE_SET) return setFromMembers(items, at);
      const l = new RList();
      l.replace(items);
      return l;
    }
    case RDB_TYPE_ZSET: case RDB_TYPE_ZSET_2: {
      const n = r.length();
      const pairs: [string, number][] = [];
      for (let i = 0; i < n; i++) pairs.push([r.string(), type === RDB_TYPE_ZSET ? r.asciiDouble() : r.binaryDouble()]);
      return zsetFromPairs(pairs, at);
    }
    case RDB_TYPE_HASH: {
      const n = r.length();
      const pairs: string[] = [];
      for (let i = 0; i < n; i++) pairs.push(r.string(), r.string());
      // Redis loads a hash small enough for a listpack through one, where a repeat has other words.
      return hashFromPairs(pairs, at, n <= hot.hashMaxListpackEntries ? "Hash with dup elements" : "Duplicate hash fields detected");
    }
    case RDB_TYPE_HASH_ZIPMAP: {
      const e = zipmapEntries(r.stringBytes(), at);
      const fields = new Set<string>();
      for (let i = 0; i < e.length; i += 2) {
        if (fields.has(e[i])) throw new RdbError(`Hash zipmap with dup elements, or big length (${e[i].length})`, at);
        fields.add(e[i]);
      }
      return hashFromPairs(e, at);
    }
    case RDB_TYPE_LIST_ZIPLIST: { const l = new RList(); l.replace(ziplistEntries(r.stringBytes(), at, "List ziplist")); return l; }
    case RDB_TYPE_SET_INTSET: return setFromMembers(intsetEntries(r.stringBytes(), at), at);
    case RDB_TYPE_SET_LISTPACK: return setFromMembers(listpackEntries(r.stringBytes(), at), at);
    case RDB_TYPE_ZSET_ZIPLIST: case RDB_TYPE_ZSET_LISTPACK: {
      const e = type === RDB_TYPE_ZSET_ZIPLIST ? pairsEntries(ziplistEntries(r.stringBytes(), at, "Zset ziplist"), at, "Zset ziplist")
        : pairsEntries(listpackEntries(r.stringBytes(), at, "Zset listpack"), at, "Zset listpack");
      const pairs: [string, number][] = [];
      for (let i = 0; i < e.length; i += 2) pairs.push([e[i], rdbScore(e[i + 1])]);
      return zsetFromPairs(pairs, at);
    }
    case RDB_TYPE_HASH_ZIPLIST: return hashFromPairs(pairsEntries(ziplistEntries(r.stringBytes(), at, "Hash ziplist"), at, "Hash ziplist"));
    case RDB_TYPE_HASH_LISTPACK: return hashFromPairs(pairsEntries(listpackEntries(r.stringBytes(), at, "Hash listpack"), at, "Hash listpack"));
    case RDB_TYPE_LIST_QUICKLIST: case RDB_TYPE_LIST_QUICKLIST_2: {
      const nodes = r.length();
      const items: string[] = [];
      for (let i = 0; i < nodes; i++) {
        // QUICKLIST_2 nodes say whether they are a listpack (2) or one plain element (1).
        const container = type === RDB_TYPE_LIST_QUICKLIST_2 ? r.length() : 2;
        if (container !== 1 && container !== 2) throw new RdbError("Quicklist integrity check failed.", at);
        const nodeAt = r.pos;
        const b = r.stringBytes();
        if (b.length === 0) throw new RdbError("Quicklist integrity check failed.", at);
        if (container === 1) items.push(b.latin1Slice());
        else for (const e of type === RDB_TYPE_LIST_QUICKLIST ? ziplistEntries(b, nodeAt) : listpackEntries(b, nodeAt)) items.push(e);
      }
      const l = new RList();
      l.replace(items);
      return l;
    }
    case RDB_TYPE_STREAM_LISTPACKS: case RDB_TYPE_STREAM_LISTPACKS_2: case RDB_TYPE_STREAM_LISTPACKS_3:
      return rdbReadStream(r, type);
    case RDB_TYPE_MODULE: case RDB_TYPE_MODULE_2:
      throw new RdbError("The RDB file contains module data types, which Redbun cannot load", at - 1);
  }
  throw new RdbError(`Unknown RDB object type ${type}`, at - 1);
}

interface RdbLoadResult { keys: number; expired: number; emptySkipped: number; aux: Map<string, string>; end: number /* where the image ends */ }

/** Loads an RDB image, checking its version and CRC64, replacing the databases once it has all
 *  been read; or, with `into`, into the current databases, where a key already present is an
 *  error unless `replace` (DEBUG RELOAD NOFLUSH [MERGE]). Throws RdbError (with the offset) on
 *  anything corrupt, leaving the databases untouched. */
function rdbLoad(buf: Buffer, opts: { replicaLoad?: boolean; into?: boolean; replace?: boolean; feedRepl?: boolean } = {}): RdbLoadResult {
  const r = new RdbReader(buf);
  r.need(9);
  if (buf.latin1Slice(0, 5) !== "REDIS") throw new RdbError("Wrong signature trying to load DB from file", 0);
  const version = Number(buf.latin1Slice(5, 9));
  if (!(version >= 1 && version <= 11)) throw new RdbError(`Can't handle RDB format version ${buf.latin1Slice(5, 9)}`, 5);
  r.pos = 9;
  const dbs = opts.into ? server.dbs : server.dbs.map((_, i) => new Db(i));
  const aux = new Map<string, string>();
  let db = dbs[0];
  let expire = -1, keys = 0, expired = 0, emptySkipped = 0;
  let lruIdle = -1, lfuFreq = -1;
  const nowMs = now();
  // Every key is stamped with the time the load started, read once.
  const lfu = lfuPolicy(), lruNow = lruClock(), lfuNow = lfuMinutes(), newAccess = newAccessWord();
  for (;;) {
    const type = r.byte();
    if (type === RDB_OPCODE_EOF) break;
    if (type === RDB_OPCODE_EXPIRETIME_MS) { expire = r.millis(); continue; }
    if (type === RDB_OPCODE_EXPIRETIME) { expire = r.seconds(); continue; }
    if (type === RDB_OPCODE_FREQ) { lfuFreq = r.byte(); continue; }
    if (type === RDB_OPCODE_IDLE) { lruIdle = r.length(); continue; }
    if (type === RDB_OPCODE_SELECTDB) {
      const id = r.length();
      if (id >= dbs.length) throw new RdbError(`FATAL: Data file was created with a Redis server configured to handle more than ${dbs.length} databases. Exiting`, r.pos);
      db = dbs[id];
      continue;
    }
    if (type === RDB_OPCODE_RESIZEDB) { r.length(); r.length(); continue; }
    if (type === RDB_OPCODE_AUX) { const k = r.string(); aux.set(k, r.string()); continue; }
    if (type === RDB_OPCODE_SLOT_INFO) { r.length(); r.length(); r.length(); continue; }
    if (type === RDB_OPCODE_FUNCTION2 || type === RDB_OPCODE_FUNCTION) {
      const at = r.pos;
      const err = functionsLoadFromDisk(rdbReadFunction(r, type), opts.replace ?? false);
      if (err !== null) throw new RdbError(`Failed loading library: ${err}`, at);
      continue;
    }
    if (type === RDB_OPCODE_MODULE_AUX) throw new RdbError("The RDB file contains module auxiliary data, which Redbun cannot load", r.pos - 1);
    const key = r.string();
    const val = rdbReadObject(r, type);
    // An empty collection is dropped, as Redis does since files with them were once written (an
    // empty stream is a valid key).
    const empty = isEmptyCollection(val);
    if (empty && emptySkipped++ < 10) log("warning", `rdbLoadObject skipping empty key: ${key}`);
    // A master drops keys already expired on disk; a replica keeps them for its master to expire.
    if (!empty && (expire === -1 || expire > nowMs || opts.replicaLoad)) {
      const access = lfuFreq >= 0 && lfu ? (lfuNow << 8) | lfuFreq : lruIdle >= 0 && !lfu ? (lruNow - lruIdle) & LRU_CLOCK_MAX : newAccess;
      if (opts.replace && db.has(key)) dbDelete(db, key);
      if (!db.addLoaded(key, val, access)) throw new RdbError(`Duplicate key '${key}' in DB ${db.id}`, r.pos);
      if (expire !== -1) db.expires.set(key, expire);
      keys++;
    } else if (!empty) {
      expired++;
      // A master starting up tells its future replicas (through the backlog) that the key is gone.
      if (opts.feedRepl) replicationFeed(db.id, [conf["lazyfree-lazy-expire"] ? "UNLINK" : "DEL", key]);
    }
    expire = lruIdle = lfuFreq = -1;
  }
  if (version >= 5 && r.pos + 8 > buf.length) throw new RdbError("Unexpected EOF reading RDB file: the checksum is missing", r.pos);
  if (version >= 5) {
    const expected = [buf.readUInt32LE(r.pos), buf.readUInt32LE(r.pos + 4)];
    if ((expected[0] !== 0 || expected[1] !== 0) && conf.rdbchecksum && !server.skipChecksumValidation) {
      const crc: [number, number] = [0, 0];
      crc64Update(crc, buf, 0, r.pos);
      if (crc[0] !== expected[0] || crc[1] !== expected[1]) {
        const hex = (h: number[]) => ((BigInt(h[1]) << 32n) | BigInt(h[0])).toString(16);
        log("warning", `Wrong RDB checksum expected: (${hex(crc)}) but got (${hex(expected)}). Aborting now.`);
        throw new RdbError("RDB CRC error", r.pos);
      }
    }
  }
  for (let i = 0; i < dbs.length && !opts.into; i++) {
    dbs[i].blocking = server.dbs[i].blocking;
    dbs[i].watched = server.dbs[i].watched;
    server.dbs[i] = dbs[i];
  }
  return { keys, expired, emptySkipped, aux, end: version >= 5 ? r.pos + 8 : r.pos };
}

/** Loads dbfilename at startup, if it exists. Exits with a clear message if it is corrupt. */
function loadDataFromDisk(): void {
  const path = rdbPath();
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return; // no dump file yet
    // Unreadable is not empty: starting empty would let the next save replace the real data.
    throw new Error(`Fatal error loading the DB: ${strerror(err)}. Exiting.`);
  }
  const start = performance.now();
  try {
    // A master's backlog exists from the start, for the DELs of keys that expired on disk.
    const master = !conf.replicaof;
    if (master) createReplicationBacklog();
    const res = rdbLoad(buf, { feedRepl: master, replicaLoad: !master }); // a replica keeps expired keys for its master to delete
    server.rdbLoadedKeys = res.keys;
    server.rdbLoadedExpired = res.expired;
    // Without a history to continue, no backlog until a replica comes.
    if (!restoreReplicationInfo(res.aux) && master) repl.backlog = null;
    if (res.emptySkipped) log("warning", `Done loading RDB, keys loaded: ${res.keys}, keys expired: ${res.expired}, empty keys skipped: ${res.emptySkipped}.`);
    else log("notice", `Done loading RDB, keys loaded: ${res.keys}, keys expired: ${res.expired}.`);
    log("notice", `DB loaded from disk: ${((performance.now() - start) / 1000).toFixed(3)} seconds`);
  } catch (err) {
    log("warning", `Fatal error loading the DB from ${path}: ${(err as Error).message}. Refusing to start with a partial dataset.`);
    log("warning", "Terminating server after rdb file reading failure.");
    throw err;
  }
}

/** DUMP's payload: type, value, RDB version (2 bytes LE) and CRC64 of it all (8 bytes LE). */
function createDumpPayload(v: RValue): Buffer {
  const w = new RdbWriter();
  w.byte(rdbObjectType(v));
  rdbWriteObject(w, v);
  return dumpPayloadFrame(w);
}

/** What w holds, framed as DUMP and FUNCTION DUMP payloads are: RDB version and CRC64 after it. */
function dumpPayloadFrame(w: RdbWriter): Buffer {
  w.byte(RDB_VERSION & 0xff);
  w.byte(RDB_VERSION >> 8);
  const body = w.take();
  const crc: [number, number] = [0, 0];
  crc64Update(crc, body);
  const tail = Buffer.allocUnsafe(8);
  tail.writeUInt32LE(crc[0], 0);
  tail.writeUInt32LE(crc[1], 4);
  return Buffer.concat([body, tail]);
}

/** Checks a DUMP payload's footer: an RDB version this server's (7.0) loader accepts and a
 *  matching CRC64. */
function verifyDumpPayload(p: Buffer): boolean {
  if (p.length < 10) return false;
  const version = p[p.length - 10] | (p[p.length - 9] << 8);
  if (version > RDB_VERSION) return false;
  if (server.skipChecksumValidation) return true; // DEBUG SET-SKIP-CHECKSUM-VALIDATION 1
  const crc: [number, number] = [0, 0];
  crc64Update(crc, p, 0, p.length - 8);
  return crc[0] === p.readUInt32LE(p.length - 8) && crc[1] === p.readUInt32LE(p.length - 4);
}

/* DUMP key */
function dumpCommand(c: Client): void {
  const v = lookupKeyRead(cdb(c), c.argv[1]);
  if (v === undefined) return addReplyNull(c);
  addReplyBulk(c, createDumpPayload(v).latin1Slice());
}

/* RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency] */
function restoreCommand(c: Client): void {
  const argv = c.argv, db = cdb(c), key = argv[1];
  let replace = false, absttl = false, idle = -1, freq = -1;
  for (let j = 4; j < argv.length; j++) {
    const opt = argv[j].toLowerCase(), more = j < argv.length - 1;
    if (opt === "replace") replace = true;
    else if (opt === "absttl") absttl = true;
    else if (opt === "idletime" && more && freq === -1) {
      const n = parseIntOrReply(c, argv[++j]);
      if (n === undefined) return;
      if (n < 0) return addReplyError(c, "ERR Invalid IDLETIME value, must be >= 0");
      idle = n;
    } else if (opt === "freq" && more && idle === -1) {
      const n = parseIntOrReply(c, argv[++j]);
      if (n === undefined) return;
      if (n < 0 || n > 255) return addReplyError(c, "ERR Invalid FREQ value, must be >= 0 and <= 255");
      freq = n;
    } else return addReplyError(c, E.syntax);
  }
  if (!replace && lookupKeyWrite(db, key) !== undefined) return addReplyError(c, "BUSYKEY Target key name already exists.");
  const ttl = parseIntOrReply(c, argv[2]);
  if (ttl === undefined) return;
  if (ttl < 0) return addReplyError(c, "ERR Invalid TTL value, must be >= 0");
  const payload = Buffer.from(argv[3], "latin1");
  if (!verifyDumpPayload(payload)) return addReplyError(c, "ERR DUMP payload version or checksum are wrong");
  let v: RValue;
  try {
    const r = new RdbReader(payload.subarray(0, payload.length - 10));
    v = rdbReadObject(r, r.byte());
    if (r.pos !== r.buf.length) throw new RdbError("trailing bytes", r.pos);
    if (isEmptyCollection(v)) throw new RdbError("empty", r.pos);
  } catch (err) {
    // Said in the log at verbose level, as Redis reports a corrupt payload in a RESTORE.
    log("verbose", `Internal error in RDB reading offset ${err instanceof RdbError ? err.offset : 0} -> ${err instanceof RdbError ? err.reason : String(err)}`);
    return addReplyError(c, "ERR Bad data format");
  }
  const deleted = replace && dbDelete(db, key);
  // The expire time, exactly (ttl may be beyond 2^53). Redis adds the clock to a relative TTL in
  // a long long: past LLONG_MAX the sum wraps negative, and the key is already expired.
  const whenExact = BigInt(argv[2]) + (ttl && !absttl ? BigInt(cmdTime) : 0n);
  const when = whenExact > LLONG_MAX ? -1 : Number(whenExact);
  if (ttl && checkAlreadyExpired(when)) {
    // Already expired: the key is gone, as Redis replies and propagates it.
    if (deleted) { keyModified(db, key, NOTIFY_GENERIC, "del"); server.dirty++; c.propArgv = ["DEL", key]; }
    return addReplyOK(c);
  }
  dbAdd(db, key, v);
  if (ttl) {
    setExpire(db, key, when);
    if (!absttl) c.propArgv = [...argv.slice(0, 2), String(whenExact), ...argv.slice(3), "ABSTTL"];
  }
  const i = db.slot(key)!;
  if (freq >= 0 && lfuPolicy()) db.access[i] = (lfuMinutes() << 8) | freq;
  else if (idle >= 0 && !lfuPolicy()) db.access[i] = (lruClock() - idle) & LRU_CLOCK_MAX;
  keyModified(db, key, NOTIFY_GENERIC, "restore");
  server.dirty++;
  addReplyOK(c);
}

// --- MIGRATE: keys sent to another server (a redis-server or a Redbun) as RESTORE commands, and
// deleted here once it has them. Redis does it in one blocking call, and so do we: the network
// part runs in a worker thread while this thread waits for it (Atomics.wait), so nothing else runs
// meanwhile, inside MULTI and scripts too. Connections are kept per host:port for 10 seconds (at
// most 64), with the target's selected database remembered.

const MIGRATE_SOCKET_CACHE_ITEMS = 64, MIGRATE_SOCKET_CACHE_TTL_MS = 10_000;

/** The cached connections, as this thread knows them (the sockets live in the worker). */
const migrateConns = new Map<string, { lastDb: number; lastUse: number }>();
let migrateWorker: Worker | null = null;

/** The worker's code (run from its source text, so it shares nothing with this thread): for each
 *  request it connects (or reuses the cached socket), writes the commands, and reads `lines`
 *  reply lines, each within the timeout; the outcome goes to the shared buffer, then it wakes the
 *  waiting thread. Status: 0 ok, 1 the host could not be resolved, 2 write error, 3 read error,
 *  4 and 5 the same timed out. */
function migrateWorkerMain(): void {
  type Conn = { sock: { write(d: Uint8Array): number; end(): void } | null; input: string; closed: boolean; wake: (() => void) | null };
  const conns = new Map<string, Conn>();
  const wait = (conn: Conn, ready: () => boolean, ms: number) => new Promise<boolean>((resolve) => {
    const deadline = Date.now() + ms;
    const check = () => {
      if (ready()) return resolve(true);
      if (conn.closed || Date.now() >= deadline) return resolve(false);
      const t = setTimeout(() => { conn.wake = null; check(); }, deadline - Date.now());
      conn.wake = () => { clearTimeout(t); conn.wake = null; check(); };
    };
    check();
  });
  const connect = async (host: string, port: number, ms: number): Promise<Conn | null> => {
    const conn: Conn = { sock: null, input: "", closed: false, wake: null };
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const sock = await Promise.race([
        Bun.connect({ hostname: host, port, socket: {
          data(_s: unknown, d: Uint8Array) { conn.input += Buffer.from(d).toString("latin1"); conn.wake?.(); },
          drain() { conn.wake?.(); }, close() { conn.closed = true; conn.wake?.(); }, error() { conn.closed = true; conn.wake?.(); },
        } }),
        new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), ms); }),
      ]);
      // A connect that does not complete in time, or is refused, shows as a failed write, as in
      // Redis (whose non-blocking connect "succeeds"); only a name that does not resolve fails here.
      if (!sock) conn.closed = true;
      else { sock.setNoDelay(true); conn.sock = sock; }
    } catch (err) {
      if ((err as { code?: string }).code === "ENOTFOUND") return null;
      conn.closed = true;
    } finally {
      clearTimeout(timer);
    }
    return conn;
  };
  (globalThis as unknown as { onmessage: (ev: MessageEvent) => void }).onmessage = async (ev: MessageEvent) => {
    const m = ev.data;
    if (m.op === "close") { const c = conns.get(m.name); conns.delete(m.name); if (c) { c.closed = true; c.sock?.end(); } return; }
    const ctl = new Int32Array(m.shared, 0, 4), out = new Uint8Array(m.shared, 16);
    let status = 0;
    const lines: string[] = [];
    let conn = conns.get(m.name) ?? null;
    if (conn && conn.closed) { conns.delete(m.name); conn = null; }
    if (!conn) {
      conn = await connect(m.host, m.port, m.timeout);
      if (conn && !conn.closed) conns.set(m.name, conn);
    }
    if (!conn) status = 1;
    else {
      const data: Uint8Array = m.data;
      let pos = 0;
      const written = await wait(conn, () => { if (pos < data.length && !conn!.closed) pos += Math.max(0, conn!.sock!.write(data.subarray(pos))); return pos >= data.length; }, m.timeout);
      if (!written) status = conn.closed ? 2 : 4;
      else {
        for (let i = 0; i < m.lines; i++) {
          if (!(await wait(conn, () => conn!.input.includes("\n"), m.timeout))) { status = conn.closed ? 3 : 5; break; }
          const nl = conn.input.indexOf("\n");
          lines.push(conn.input.slice(0, nl).replace(/\r$/, ""));
          conn.input = conn.input.slice(nl + 1);
        }
      }
      if (status !== 0) { conns.delete(m.name); conn.closed = true; conn.sock?.end(); }
    }
    const text = Buffer.from(lines.join("\n"), "latin1").subarray(0, out.length);
    out.set(text);
    ctl[1] = text.length;
    ctl[2] = status;
    ctl[3] = lines.length;
    Atomics.store(ctl, 0, 1);
    Atomics.notify(ctl, 0);
  };
}

/** Sends `data` to host:port and waits (blocking this thread) for `nLines` reply lines. */
function migrateExchange(name: string, host: string, port: string, data: Buffer, nLines: number, timeoutMs: number): { status: number; lines: string[] } {
  if (!migrateWorker) {
    migrateWorker = new Worker(URL.createObjectURL(new Blob([`(${migrateWorkerMain.toString()})()`], { type: "application/javascript" })));
    migrateWorker.unref(); // it never keeps the process alive
  }
  const shared = new SharedArrayBuffer(16 + nLines * 1024 + 1024);
  const ctl = new Int32Array(shared, 0, 4);
  migrateWorker.postMessage({ op: "run", shared, name, host, port: parseInt(port, 10) || 0, data, lines: nLines, timeout: timeoutMs }); // atoi, as Redis reads the port
  // The worker answers within its own timeouts (connect, write, then one per line); the bound here
  // is only a safety net.
  if (Atomics.wait(ctl, 0, 0, timeoutMs * (nLines + 3) + 5000) === "timed-out") return { status: 3, lines: [] };
  const text = Buffer.from(new Uint8Array(shared, 16, ctl[1])).latin1Slice();
  return { status: ctl[2], lines: ctl[3] ? text.split("\n") : [] };
}

function migrateCloseConn(name: string): void {
  if (!migrateConns.delete(name)) return;
  migrateWorker?.postMessage({ op: "close", name });
}

/** serverCron's part: connections unused for 10 seconds are closed. */
function migrateCloseTimedoutConns(): void {
  const t = wallClock();
  for (const [name, conn] of migrateConns) if (t - conn.lastUse > MIGRATE_SOCKET_CACHE_TTL_MS) migrateCloseConn(name);
}

/* MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password |
 *   AUTH2 username password] [KEYS key [key ...]] */
function migrateCommand(c: Client): void {
  const argv = c.argv;
  let copy = false, replace = false, username: string | null = null, password: string | null = null;
  let firstKey = 3, numKeys = 1;
  for (let j = 6; j < argv.length; j++) {
    const opt = argv[j].toLowerCase(), more = argv.length - 1 - j;
    if (opt === "copy") copy = true;
    else if (opt === "replace") replace = true;
    else if (opt === "auth") {
      if (!more) return addReplyError(c, E.syntax);
      password = argv[++j];
    } else if (opt === "auth2") {
      if (more < 2) return addReplyError(c, E.syntax);
      username = argv[++j];
      password = argv[++j];
    } else if (opt === "keys") {
      if (argv[3].length !== 0) return addReplyError(c, "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string");
      firstKey = j + 1;
      numKeys = argv.length - j - 1;
      break; // all the rest are keys
    } else return addReplyError(c, E.syntax);
  }
  let timeout = parseIntOrReply(c, argv[5]);
  if (timeout === undefined) return;
  const dbid = parseIntOrReply(c, argv[4]);
  if (dbid === undefined) return;
  if (timeout <= 0) timeout = 1000;
  // Keys that are gone are skipped; none at all is not an error (it may just have expired).
  const db = cdb(c), keys: string[] = [];
  for (let j = 0; j < numKeys; j++) if (lookupKeyRead(db, argv[firstKey + j]) !== undefined) keys.push(argv[firstKey + j]);
  if (keys.length === 0) return addReplyStatus(c, "NOKEY");
  const name = `${argv[1]}:${argv[2]}`;
  for (let attempt = 0; ; attempt++) {
    // Connection cache: one goes at random when it is full.
    let conn = migrateConns.get(name);
    if (!conn) {
      if (migrateConns.size >= MIGRATE_SOCKET_CACHE_ITEMS) {
        const names = [...migrateConns.keys()];
        migrateCloseConn(names[Math.floor(random() * names.length)]);
      }
      conn = { lastDb: -1, lastUse: 0 };
    }
    conn.lastUse = wallClock();
    // AUTH, SELECT (when its database differs), then a RESTORE per key with what is left of its
    // TTL (a key that expired since the lookup is left out).
    const select = conn.lastDb !== dbid, sent: string[] = [];
    let out = "";
    if (password !== null) out += respCommand(username !== null ? ["AUTH", username, password] : ["AUTH", password]);
    if (select) out += respCommand(["SELECT", String(dbid)]);
    for (const key of keys) {
      const when = getExpire(db, key);
      let ttl = 0;
      if (when !== -1) {
        ttl = when - now();
        if (ttl < 0) continue;
        if (ttl < 1) ttl = 1;
      }
      out += respCommand(["RESTORE", key, String(ttl), createDumpPayload(db.get(key)!).latin1Slice(), ...(replace ? ["REPLACE"] : [])]);
      sent.push(key);
    }
    const head = (password !== null ? 1 : 0) + (select ? 1 : 0);
    const r = migrateExchange(name, argv[1], argv[2], Buffer.from(out, "latin1"), head + sent.length, timeout);
    if (r.status === 1) { migrateConns.delete(name); return addReplyError(c, "IOERR error or timeout connecting to the client"); }
    if (r.status === 0) migrateConns.set(name, conn);
    // Each RESTORE acknowledged deletes its key here (without COPY); the first error is the reply.
    const authLine = password !== null ? r.lines[0] : undefined, selectLine = select ? r.lines[password !== null ? 1 : 0] : undefined;
    const replies = r.lines.slice(head);
    let targetError: string | null = null;
    const deleted: string[] = [];
    for (let j = 0; j < replies.length; j++) {
      const failed = authLine?.startsWith("-") ? authLine : selectLine?.startsWith("-") ? selectLine : replies[j].startsWith("-") ? replies[j] : null;
      if (failed !== null) {
        if (targetError === null) { conn.lastDb = -1; targetError = failed.slice(1); }
      } else if (!copy) deleted.push(sent[j]);
    }
    for (const key of deleted) {
      if (dbDelete(db, key)) { keyModified(db, key, NOTIFY_GENERIC, "del"); server.dirty++; }
    }
    if (deleted.length) {
      // Replicas and the AOF get the DEL of the keys the target took, not the MIGRATE.
      c.propArgv = ["DEL", ...deleted];
    } else c.preventProp = true;
    if (targetError !== null) return addReplyError(c, `ERR Target instance replied with error: ${targetError}`);
    if (r.status !== 0) {
      migrateCloseConn(name);
      // A cached connection the target had closed: one more try, if nothing was read yet (not
      // after a timeout).
      if (attempt === 0 && (r.status === 2 || r.status === 3) && r.lines.length === 0) continue;
      return addReplyError(c, `IOERR error or timeout ${r.status === 2 || r.status === 4 ? "writing" : "reading"} to target instance`);
    }
    conn.lastDb = dbid;
    return addReplyOK(c);
  }
}

/** MIGRATE's keys (Redis's migrateGetKeys): the key argument, or with KEYS (and an empty key
 *  argument) everything after it, skipping the options' arguments on the way. */
function migrateGetKeys(argv: string[]): number[] {
  const skip: Record<string, number> = { copy: 0, replace: 0, auth: 1, auth2: 2 };
  for (let i = 6; i < argv.length; i++) {
    const a = argv[i].toLowerCase();
    if (a === "keys") {
      if (argv[3].length > 0) return []; // a syntax error MIGRATE itself reports
      return Array.from({ length: argv.length - i - 1 }, (_, k) => i + 1 + k);
    }
    i += skip[a] ?? 0;
  }
  return [3];
}

/** This chapter's rows of the command table (see Dispatch). */
const RDB_COMMANDS: CommandRows[] = [
  { group: "server", specs: [
    ["save", 1, "admin noscript no_async_loading no_multi", 0, 0, 0, "", saveCommand],
    ["bgsave", -1, "admin noscript no_async_loading", 0, 0, 0, "", bgsaveCommand],
  ] },
  { group: "generic", specs: [
    ["dump", 2, "readonly", 1, 1, 1, "keyspace", dumpCommand],
    ["restore", -4, "write denyoom", 1, 1, 1, "keyspace dangerous", restoreCommand],
    ["migrate", -6, "write movablekeys", 3, 3, 1, "keyspace dangerous", migrateCommand],
    // What a cluster's MIGRATE sends; outside a cluster it is RESTORE.
    ["restore-asking", -4, "write denyoom asking", 1, 1, 1, "keyspace dangerous", restoreCommand],
  ] },
];

// ============================================================================================
// AOF
//
// Redis 7's multi-part AOF: a directory (appenddirname) holding a base file (an RDB image, or
// commands when aof-use-rdb-preamble is off), incremental files of RESP commands, and a manifest
// naming them, so real Redis loads our directory and we load theirs. What gets logged is what
// call() propagates: the effective form of each write (absolute expiry times, the pops that
// blocking commands really did, DEL for expired keys), with SELECT and MULTI/EXEC as needed.
// ============================================================================================

// The buffer is written before any reply leaves the server; with appendfsync always it is also
// fsynced first, so an acknowledged write survives kill -9. When the disk refuses a write, the
// unwritten bytes are kept and retried and writes are refused with MISCONF until one succeeds.
// BGREWRITEAOF opens a new incremental file at once (new writes go there, the manifest names it
// first), writes a new base with the same incremental snapshot as BGSAVE, and then switches the
// manifest atomically (temp file + rename); a rewrite that fails leaves the old files in charge.

function aofDir(): string { return `${conf.dir}/${conf.appenddirname}`; }
function aofManifestName(): string { return `${conf.appendfilename}.manifest`; }

/** Encodes a command as RESP, the form AOF files and replication streams carry. */
function respCommand(argv: string[]): string {
  let s = `*${argv.length}\r\n`;
  for (const a of argv) s += `$${a.length}\r\n${a}\r\n`;
  return s;
}

/** Appends one propagated command to the AOF buffer, preceded by SELECT when the db changes. */
function feedAppendOnlyFile(dbIndex: number, argv: string[]): void {
  if (conf["aof-timestamp-enabled"] === true) {
    const ts = aofTimestampAnnotation(false);
    if (ts) { aof.buf.push(ts); aof.bufLen += ts.length; }
  }
  if (dbIndex !== aof.selectedDb && dbIndex >= 0) {
    const sel = respCommand(["SELECT", String(dbIndex)]);
    aof.buf.push(sel);
    aof.bufLen += sel.length;
    aof.selectedDb = dbIndex;
  }
  const s = respCommand(argv);
  aof.buf.push(s);
  aof.bufLen += s.length;
}

/** With aof-timestamp-enabled, a "#TS:<unix seconds>" line goes before the first command of each
 *  second, and at the head of a rewritten base (`base`, which leaves the incremental file's count
 *  alone, as Redis's rewrite child does): redis-check-aof --truncate-to-timestamp cuts an AOF back
 *  to such a point. Loading skips these annotations ('#' lines). */
function aofTimestampAnnotation(base: boolean): string | null {
  const secs = Math.floor(wallClock() / 1000);
  if (!base) {
    if (secs <= aof.timestamp) return null;
    aof.timestamp = secs;
  }
  return `#TS:${secs}\r\n`;
}

/** Writes all of `data` at the end of `fd`, as Redis's aofWrite: a short write is continued until
 *  the system refuses. Returns the bytes written and, if it stopped short, why. */
function writeAll(fd: number, data: Uint8Array): { n: number; err: unknown } {
  let n = 0;
  while (n < data.length) {
    try {
      const w = writeSync(fd, data, n, data.length - n);
      if (w <= 0) return { n, err: Object.assign(new Error("short write"), { code: "ENOSPC" }) };
      n += w;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EINTR") continue;
      return { n, err };
    }
  }
  return { n, err: null };
}

/** Writes the AOF buffer (and fsyncs it under appendfsync always). Called before replies go out,
 *  so nothing is acknowledged that is not in the file. When the disk refuses (full, read-only):
 *  a partial command is cut off the file again, the unwritten bytes are kept and retried on the
 *  next call, and writes are refused with MISCONF until a write succeeds; under "always" the
 *  server exits instead, before any reply leaves, as Redis does. */
function flushAppendOnlyFile(): void {
  if (!aof.on || aof.fd < 0 || (aof.bufLen === 0 && aof.unwritten.length === 0)) return;
  let data = aof.unwritten;
  if (aof.bufLen) {
    const fresh = Buffer.from(aof.buf.length === 1 ? aof.buf[0] : aof.buf.join(""), "latin1");
    data = data.length ? Buffer.concat([data, fresh]) : fresh;
    aof.buf = [];
    aof.bufLen = 0;
  }
  aof.unwritten = EMPTY;
  if (aof.flushSleepUs > 0) Bun.sleepSync(aof.flushSleepUs / 1000);
  let { n, err } = writeAll(aof.fd, data);
  if (err) {
    // Redis logs a write error at most once every 30 seconds.
    const canLog = wallClock() - aof.lastWriteErrorLog > 30000;
    if (canLog) aof.lastWriteErrorLog = wallClock();
    if (n === 0) {
      if (canLog) log("warning", `Error writing to the AOF file: ${strerror(err)}`);
      aof.writeErr = strerror(err);
    } else {
      if (canLog) log("warning", `Short write while writing to the AOF file: (nwritten=${n}, expected=${data.length})`);
      try {
        ftruncateSync(aof.fd, aof.incrSize);
        n = 0; // the partial command is gone: all of it is written again later
      } catch (e) {
        if (canLog) log("warning", `Could not remove short write from the append-only file.  Redis may refuse to load the AOF the next time it starts.  ftruncate: ${strerror(e)}`);
      }
      aof.writeErr = STRERROR.ENOSPC;
    }
    if (conf.appendfsync === "always") {
      log("warning", "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
      process.exit(1);
    }
    aof.lastWriteOk = false;
    aof.currentSize += n;
    aof.incrSize += n;
    aof.unwritten = data.subarray(n);
    return;
  }
  if (!aof.lastWriteOk) {
    log("warning", "AOF write error looks solved, Redis can write again.");
    aof.lastWriteOk = true;
    aof.writeErr = "";
  }
  aof.currentSize += n;
  aof.incrSize += n;
  if (conf.appendfsync === "always") {
    try {
      fsyncSync(aof.fd);
    } catch (e) {
      log("warning", `Can't persist AOF for fsync error when the AOF fsync policy is 'always': ${strerror(e)}. Exiting...`);
      process.exit(1);
    }
    aof.lastFsync = wallClock();
  } else if (conf.appendfsync === "everysec") aofBackgroundFsync(false);
}

/** fsync in the background at most once a second (everysec), without holding the loop. A failed
 *  fsync refuses writes (MISCONF) until one succeeds, as Redis's aof_bio_fsync_status does. */
function aofBackgroundFsync(force: boolean): void {
  if (aof.fd < 0 || aof.fsyncInFlight || (!force && wallClock() - aof.lastFsync < 1000)) return;
  aof.fsyncInFlight = true;
  const fd = aof.fd;
  fsync(fd, (err) => {
    aof.fsyncInFlight = false;
    aof.lastFsync = wallClock();
    if (err && fd === aof.fd) {
      log("warning", `Fail to fsync the AOF file: ${strerror(err)}`);
      aof.writeErr = strerror(err);
    } else if (!err && aof.lastWriteOk && aof.writeErr) aof.writeErr = "";
  });
}

/** Why writes are refused (Redis's writeCommandsDeniedByDiskError), or null: a failed background
 *  save while save points exist and stop-writes-on-bgsave-error is on, or an AOF that cannot be
 *  written or synced. */
function diskWriteError(): string | null {
  if (hot.stopWritesOnBgsaveError && !server.lastBgsaveOk && hot.hasSavePoints) return E.misconfRdb;
  if (aof.on && aof.writeErr) return `MISCONF Errors writing to the AOF file: ${aof.writeErr}`;
  return null;
}

function aofFileName(seq: number, type: "b" | "i", rdbBase = true): string {
  return type === "b" ? `${conf.appendfilename}.${seq}.base.${rdbBase ? "rdb" : "aof"}` : `${conf.appendfilename}.${seq}.incr.aof`;
}

/** Writes a manifest atomically: a temp file, fsync, rename. Throws (leaving the old manifest in
 *  place and no temp file) if the disk refuses. */
function aofWriteManifest(base: AofFileInfo | null, incrs: AofFileInfo[]): void {
  const lines: string[] = [];
  const q = (n: string) => (/[\s"']/.test(n) ? reprString(n) : n);
  if (base) lines.push(`file ${q(base.name)} seq ${base.seq} type b`);
  for (const f of incrs) lines.push(`file ${q(f.name)} seq ${f.seq} type i`);
  const tmp = `${aofDir()}/temp-${aofManifestName()}`;
  const fd = openSync(tmp, "w");
  try {
    const { err } = writeAll(fd, Buffer.from(lines.join("\n") + "\n", "latin1"));
    if (err) throw err;
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try { unlinkSync(tmp); } catch { /* gone */ }
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, `${aofDir()}/${aofManifestName()}`);
}

/** Reads the manifest, or null if there is none. Throws on a malformed or unreadable one. */
function aofReadManifest(): { base: AofFileInfo | null; incrs: AofFileInfo[]; history: string[] } | null {
  const path = `${aofDir()}/${aofManifestName()}`;
  let text: string;
  try {
    text = readFileSync(path, "latin1");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw new Error(`Fatal error: can't open the AOF manifest file ${path} for reading: ${strerror(err)}`);
  }
  // Read as Redis's aofLoadManifestFromFile reads it (fgets of at most 1024 bytes), with its
  // checks and its fatal error's lines.
  let base: AofFileInfo | null = null, linenum = 0, maxSeq = 0, pos = 0;
  const incrs: AofFileInfo[] = [], history: string[] = [];
  const fatal = (line: string | null, err: string): never => {
    log("warning", "\n*** FATAL AOF MANIFEST FILE ERROR ***\n");
    if (line !== null) {
      log("warning", `Reading the manifest file, at line ${linenum}\n`);
      log("warning", `>>> '${line}'\n`);
    }
    throw new Error(`${err}\n`);
  };
  for (;;) {
    if (pos >= text.length) {
      if (linenum === 0) fatal(null, "Found an empty AOF manifest");
      break;
    }
    const nl = text.indexOf("\n", pos);
    const end = nl >= 0 && nl - pos < 1024 ? nl + 1 : Math.min(pos + 1024, text.length);
    const buf = text.slice(pos, end);
    pos = end;
    linenum++;
    if (buf[0] === "#") continue;
    if (!buf.includes("\n")) fatal(null, "The AOF manifest file contains too long line");
    const line = buf.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
    if (line === "") fatal(line, "Invalid AOF manifest file format");
    const argv = splitArgs(line);
    if (!argv || argv.length < 6 || argv.length % 2 !== 0) fatal(line, "Invalid AOF manifest file format");
    let name = "", seq = 0, type = "";
    for (let i = 0; i < argv!.length; i += 2) {
      const k = argv![i].toLowerCase();
      if (k === "file") {
        name = argv![i + 1];
        if (!isBaseName(name)) fatal(line, "File can't be a path, just a filename");
      } else if (k === "seq") seq = parseInt(argv![i + 1], 10) || 0; // atoll
      else if (k === "type") type = argv![i + 1].charAt(0);
    }
    if (!name || !seq || !type) fatal(line, "Invalid AOF manifest file format");
    if (type === "b") {
      if (base) fatal(line, "Found duplicate base file information");
      base = { name, seq, type };
    } else if (type === "i") {
      if (seq <= maxSeq) fatal(line, "Found a non-monotonic sequence number");
      incrs.push({ name, seq, type });
      maxSeq = seq;
    } else if (type === "h") history.push(name); // left over from a rewrite: deleted, never loaded
    else fatal(line, "Unknown AOF file type");
  }
  return { base, incrs, history };
}

/** The files a rewrite left behind (type h in the manifest): deleted, and the manifest rewritten
 *  without them, as Redis's aofDelHistoryFiles. */
function aofDeleteHistoryFiles(manifest: { base: AofFileInfo | null; incrs: AofFileInfo[]; history: string[] }): void {
  for (const name of manifest.history) {
    try { unlinkSync(`${aofDir()}/${name}`); } catch { /* already gone */ }
    log("notice", `Removing the history file ${name} in the background`);
  }
  manifest.history = [];
  aofWriteManifest(manifest.base, manifest.incrs);
}

/** Whether a path exists (a file or a directory). */
function fileExists(path: string): boolean {
  try { statSync(path); return true; } catch { return false; }
}

/** Redis 7 reads the single appendonly.aof of older versions (in `dir`) by moving it into the AOF
 *  directory as its base, with a manifest naming it (Redis's aofUpgradePrepare). */
function aofUpgradeOldFile(): { base: AofFileInfo; incrs: AofFileInfo[]; history: string[] } {
  const name = String(conf.appendfilename);
  try {
    mkdirSync(aofDir(), { recursive: true });
  } catch (err) {
    throw new Error(`Can't open or create append-only dir ${conf.appenddirname}: ${strerror(err)}`);
  }
  const base: AofFileInfo = { name, seq: 1, type: "b" };
  aofWriteManifest(base, []);
  try {
    renameSync(filePath(name), `${aofDir()}/${name}`);
  } catch (err) {
    throw new Error(`Error trying to move the old AOF file ${name} into dir ${conf.appenddirname}: ${strerror(err)}`);
  }
  log("notice", `Successfully migrated an old-style AOF file (${name}) into the AOF directory (${conf.appenddirname}).`);
  return { base, incrs: [], history: [] };
}

/** Opens a new incremental file and makes it the one written to. The manifest names it first
 *  (when there is a base), so a restart during a rewrite still replays it; if the disk refuses
 *  either step nothing changes and it returns false, as Redis's openNewIncrAofForAppend. */
function aofOpenNewIncr(): boolean {
  flushAppendOnlyFile();
  const seq = (aof.incrs[aof.incrs.length - 1]?.seq ?? 0) + 1;
  const info: AofFileInfo = { name: aofFileName(seq, "i"), seq, type: "i" };
  const path = `${aofDir()}/${info.name}`;
  let fd: number;
  try {
    // Appending (O_APPEND) even to a new file: after a short write is cut off with ftruncate, the
    // next write must land at the new end, not at the old offset past it (a hole of zeros).
    fd = openSync(path, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC | fsConstants.O_APPEND);
  } catch (err) {
    log("warning", `Can't open the append-only file ${info.name}: ${strerror(err)}`);
    return false;
  }
  if (aof.base) {
    try {
      aofWriteManifest(aof.base, [...aof.incrs, info]);
    } catch (err) {
      log("warning", `Can't persist the AOF manifest file ${aofManifestName()}: ${strerror(err)}`);
      closeSync(fd);
      try { unlinkSync(path); } catch { /* gone */ }
      return false;
    }
  }
  if (aof.fd >= 0) { try { fsyncSync(aof.fd); closeSync(aof.fd); } catch { /* already closed */ } }
  aof.fd = fd;
  aof.incrSize = 0;
  aof.incrs.push(info);
  aof.selectedDb = -1; // a new file starts with its own SELECT
  return true;
}

/** An AOF being replayed: the client its commands run as (an open transaction's queue lives
 *  there) and where the open transaction's MULTI began (-1: none), across its files. */
interface AofReplay { fake: Client; multiStart: number }

function aofReplayStart(): AofReplay {
  const fake = new Client(null, "", "");
  fake.authenticated = true;
  fake.user = null;
  fake.isAof = true;
  return { fake, multiStart: -1 };
}

/** Executes the commands of an AOF file (or of a base written as commands), from `start` (past an
 *  RDB preamble). A truncated last file is cut after its last complete command when
 *  aof-load-truncated allows it; anything else incomplete is fatal. Returns -1 at the file's end,
 *  or the offset of a command that needs the Lua VM before it has started (an EVAL, in an AOF of
 *  Redis before 5): the VM is starting, and the replay goes on from there once it has. */
function aofReplay(r: AofReplay, buf: Buffer, name: string, last: boolean, start = 0): number {
  refreshClockBase();
  const fake = r.fake;
  let pos = start, lastGood = start;
  const fail = () => { throw new Error(`Bad file format reading the append only file ${name}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>`); };
  while (pos < buf.length) {
    if (buf[pos] === 35 /* # */) { // an annotation (#TS:...): skipped
      const eol = buf.indexOf(10, pos);
      pos = lastGood = eol < 0 ? buf.length : eol + 1;
      continue;
    }
    if (buf[pos] !== 42 /* * */) fail();
    fake.qbuf = buf; fake.qpos = pos; fake.qlen = buf.length; fake.mbLen = 0; fake.bulkLen = -1;
    if (!parseMultibulk(fake)) {
      if (fake.closeAfterReply) fail();
      break; // a truncated last command
    }
    const argv = fake.argv;
    const cmdStart = pos;
    pos = fake.qpos;
    const cmd = lookupCommand(argv);
    if (!cmd) throw new Error(`Unknown command '${argv[0].split("\0")[0]}' reading the append only file ${name}`);
    if (cmd!.name === "multi") r.multiStart = lastGood;
    fake.outLen = 0;
    processCommandAndResetClient(fake);
    if (fake.paused) {
      // Held for the VM (scriptingHoldUntilReady): it runs again, in order, when the replay resumes.
      scripting.waiting.delete(fake);
      fake.paused = null;
      fake.argv = [];
      return cmdStart;
    }
    if (cmd!.name === "exec") r.multiStart = -1;
    lastGood = pos;
  }
  fake.argv = [];
  if (lastGood < buf.length || fake.mstate) {
    // A transaction without its EXEC is as incomplete as a half-written command.
    const cut = fake.mstate ? r.multiStart : lastGood;
    if (!last || !conf["aof-load-truncated"]) {
      throw new Error(`Unexpected end of file reading the append only file ${name} (at byte offset ${cut}). You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.`);
    }
    log("warning", `!!! Warning: short read while loading the AOF file ${name}!!!`);
    log("warning", `!!! Truncating the AOF ${name} at offset ${cut} !!!`);
    truncateSync(`${aofDir()}/${name}`, cut);
    log("warning", "AOF loaded anyway because aof-load-truncated is enabled");
    if (fake.mstate) discardTransaction(fake);
  }
  return -1;
}

/** Loads the AOF directory (at startup, and for DEBUG LOADAOF). Returns false if there is none,
 *  true once loaded, or a promise of true when a command in it waits for the Lua VM's start (the
 *  server stays LOADING meanwhile). Throws, or rejects, on corruption. */
function loadAppendOnlyFiles(): boolean | Promise<boolean> {
  let manifest = aofReadManifest();
  // An old-style appendonly.aof in `dir`, and no AOF directory naming other files: upgrade it.
  const old = String(conf.appendfilename);
  if (fileExists(filePath(old))) {
    if (!fileExists(aofDir()) || !manifest || (!manifest.base && !manifest.incrs.length) ||
      (manifest.base && !manifest.incrs.length && manifest.base.name === old && !fileExists(`${aofDir()}/${old}`))) {
      manifest = aofUpgradeOldFile();
    }
  }
  if (manifest?.history.length) aofDeleteHistoryFiles(manifest);
  if (!manifest || (!manifest.base && !manifest.incrs.length)) return false;
  const m = manifest;
  const files = [...(m.base ? [m.base] : []), ...m.incrs];
  const replay = aofReplayStart();
  const start = performance.now();
  const read = (f: AofFileInfo) => {
    try {
      return readFileSync(`${aofDir()}/${f.name}`);
    } catch (err) {
      // A file the manifest lists must be there and readable: anything else is fatal.
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new Error(`Unable to obtain the AOF file ${f.name} length. stat: ${strerror(err)}`);
      throw new Error(`Fatal error: can't open the append log file ${f.name} for reading: ${strerror(err)}`);
    }
  };
  // From file `from`, offset `pos` (0: the file's start, where an RDB preamble may be).
  const run = (from: number, pos: number, buf: Buffer | null): boolean | Promise<boolean> => {
    for (let i = from; i < files.length; i++) {
      const f = files[i], last = i === files.length - 1;
      buf ??= read(f);
      let stopped = -1;
      if (pos === 0 && buf.latin1Slice(0, 5) === "REDIS") {
        // An RDB preamble (a base, or an old-style AOF) may be followed by commands.
        const { end } = rdbLoad(buf);
        if (end < buf.length) stopped = aofReplay(replay, buf, f.name, last, end);
      } else stopped = aofReplay(replay, buf, f.name, last, pos);
      if (stopped >= 0) {
        const held = buf;
        return scripting.starting!.then(() => run(i, stopped, held));
      }
      log("notice", `DB loaded from ${f.type === "b" ? "base" : "incr"} file ${f.name}: ${((performance.now() - start) / 1000).toFixed(3)} seconds`);
      pos = 0;
      buf = null;
    }
    aof.base = m.base;
    aof.incrs = m.incrs;
    aof.baseSize = m.base ? statSync(`${aofDir()}/${m.base.name}`).size : 0;
    aof.currentSize = files.reduce((n, f) => n + statSync(`${aofDir()}/${f.name}`).size, 0);
    return true;
  };
  aof.loading = true;
  let result: boolean | Promise<boolean>;
  try {
    result = run(0, 0, null);
  } catch (err) {
    aof.loading = false;
    throw err;
  }
  if (!(result instanceof Promise)) aof.loading = false;
  else result = result.finally(() => { aof.loading = false; });
  return result;
}

/** Turns the AOF on: reopens the last incremental file, or (no AOF yet) writes a base first.
 *  Returns false if it could not start (the directory or the first files refused). */
function startAppendOnly(onStartup: boolean): boolean {
  aof.on = true;
  if (onStartup && aof.incrs.length) {
    const last = aof.incrs[aof.incrs.length - 1];
    aof.fd = openSync(`${aofDir()}/${last.name}`, "a");
    aof.incrSize = fstatSync(aof.fd).size;
    aof.selectedDb = -1;
    return true;
  }
  // A base alone (an upgraded old AOF, say): writes go to a new incremental file, as Redis.
  if (onStartup && aof.base) {
    if (aofOpenNewIncr()) return true;
    throw new Error("Can't open the append-only file");
  }
  if (onStartup) {
    aofCreateBaseOnStart();
    if (aofOpenNewIncr()) return true;
    throw new Error("Can't open the append-only file");
  }
  if (rewriteAppendOnlyFile(false)) { aof.waitRewrite = aof.rewriting; return true; }
  aof.on = false;
  log("warning", "Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.");
  return false;
}

/** Starting with appendonly yes and no AOF at all, the base of the (empty) dataset is written in
 *  the foreground before anything else, as Redis's aofOpenIfNeededOnServerStart does: the files
 *  are whole from the first moment. Failing is fatal. */
function aofCreateBaseOnStart(): void {
  try {
    mkdirSync(aofDir(), { recursive: true });
  } catch (err) {
    throw new Error(`Can't open or create append-only dir ${conf.appenddirname}: ${strerror(err)}`);
  }
  const base: AofFileInfo = { name: aofFileName(1, "b", Boolean(conf["aof-use-rdb-preamble"])), seq: 1, type: "b" };
  const file = new AtomicFile(`${aofDir()}/${base.name}`);
  let size = 0;
  startSnapshot((chunk) => { size += chunk.length; file.write(chunk); }, false, true, (err) => { if (err) throw err; },
    conf["aof-use-rdb-preamble"] ? "rdb" : "aof");
  file.commit();
  aofWriteManifest(base, []);
  aof.base = base;
  aof.incrs = [];
  aof.baseSize = aof.currentSize = size;
  log("notice", `Creating AOF base file ${base.name} on server start`);
}

function stopAppendOnly(): void {
  killAppendOnlyChild();
  flushAppendOnlyFile();
  if (aof.fd >= 0) { try { fsyncSync(aof.fd); closeSync(aof.fd); } catch { /* closed */ } }
  aof.fd = -1;
  aof.on = false;
  aof.buf = [];
  aof.bufLen = 0;
  aof.unwritten = EMPTY;
  aof.lastWriteOk = true;
  aof.writeErr = "";
}

/** A key as the commands that rebuild it (an AOF base without RDB preamble), in batches of 64
 *  items per command as Redis writes them. */
function aofRewriteKey(w: RdbWriter, key: string, v: RValue, expire: number): void {
  const emit = (argv: string[]) => w.latin1(respCommand(argv));
  const batches = (cmd: string, items: string[], per: number) => {
    for (let i = 0; i < items.length; i += 64 * per) emit([cmd, key, ...items.slice(i, i + 64 * per)]);
  };
  if (isString(v)) emit(["SET", key, strOf(v)]);
  else if (v instanceof RList) batches("RPUSH", v.range(0, v.length - 1), 1);
  else if (v instanceof RSet) batches("SADD", v.dict.keyList(), 1);
  else if (v instanceof RHash) batches("HMSET", v.dict.keyList().flatMap((f, i) => [f, v.dict.valAt(i)]), 2);
  else if (v instanceof RStream) aofRewriteStream(emit, key, v);
  else batches("ZADD", zsetRangeByRank(v, 0, -1, false).flatMap((n) => [formatDouble(n.score), n.member]), 2);
  if (expire !== -1) emit(["PEXPIREAT", key, String(expire)]);
}

/** BGREWRITEAOF: a new incremental file right away, a new base in the background, then the
 *  manifest switch and the old files' removal. Returns false if it could not start. Whatever
 *  fails later, the files the manifest names keep every write, the temp file is removed, and
 *  the failure shows as aof_last_bgrewrite_status:err. */
function rewriteAppendOnlyFile(counted = true): boolean {
  const failed = (why: string) => {
    log("warning", why);
    aof.lastRewriteOk = false;
    aof.rewriteFailures++;
    return false;
  };
  try {
    mkdirSync(aofDir(), { recursive: true });
  } catch (err) {
    return failed(`Can't open or create append-only dir ${conf.appenddirname}: ${strerror(err)}`);
  }
  if (aof.on) {
    // Writes the disk refused would land in the new incr file after the snapshot has them too.
    flushAppendOnlyFile();
    if (!aof.lastWriteOk) return failed(`Can't rewrite the append only file while it cannot be written: ${aof.writeErr}`);
  }
  if (saveJob) {
    // One snapshot at a time: run after the BGSAVE, keeping new writes in a fresh incr meanwhile.
    if (aof.on && aof.fd < 0 && !aofOpenNewIncr()) return failed("Can't open a new incremental AOF file");
    aof.scheduled = true;
    return true;
  }
  const oldBase = aof.base, oldIncrs = aof.incrs.slice();
  if (aof.on && !aofOpenNewIncr()) return failed("Can't open a new incremental AOF file for the rewrite");
  const keptIncr = aof.on ? aof.incrs.slice(-1) : [];
  const seq = (oldBase?.seq ?? 0) + 1;
  const rdbBase = Boolean(conf["aof-use-rdb-preamble"]);
  const base: AofFileInfo = { name: aofFileName(seq, "b", rdbBase), seq, type: "b" };
  let file: AtomicFile;
  try {
    file = new AtomicFile(`${aofDir()}/${base.name}`);
  } catch (err) {
    return failed(`Can't open the temp file for the AOF rewrite: ${strerror(err)}`);
  }
  aof.rewriting = true;
  aof.rewriteStart = wallClock();
  let size = 0;
  log("notice", "Background append only file rewriting started");
  const write = (chunk: Buffer) => { size += chunk.length; file.write(chunk); };
  const fail = (err: unknown) => {
    aof.rewriting = false;
    aof.waitRewrite &&= aof.on && !aof.base; // still waiting for a first base, if that is what failed
    aof.killRewrite = null;
    file.abort();
    failed(`Background AOF rewrite failed: ${strerror(err)}`);
    // Turning the AOF on needs a base: try again from the cron.
    if (aof.on && !aof.base) aof.scheduled = true;
  };
  const installBase = () => {
    aof.rewriting = false;
    aof.waitRewrite = false;
    aof.killRewrite = null;
    // The new manifest goes to disk before anything changes in memory or is deleted.
    try {
      aofWriteManifest(base, keptIncr);
    } catch (e) {
      try { unlinkSync(`${aofDir()}/${base.name}`); } catch { /* gone */ }
      return fail(e);
    }
    aof.base = base;
    aof.incrs = keptIncr;
    for (const f of [...(oldBase ? [oldBase] : []), ...oldIncrs.filter((f) => !keptIncr.includes(f))]) {
      try { unlinkSync(`${aofDir()}/${f.name}`); } catch { /* already gone */ }
    }
    aof.baseSize = size;
    aof.currentSize = size + (keptIncr.length ? aof.incrSize : 0);
    aof.lastRewriteOk = true;
    aof.rewriteFailures = 0;
    aof.lastRewriteSecs = Math.round((wallClock() - aof.rewriteStart) / 1000);
    if (counted) aof.rewrites++;
    log("notice", "Background AOF rewrite terminated with success");
    log("notice", "Background AOF rewrite finished successfully");
  };
  // The new base is fsynced off the event loop (in Redis, the child does it), then installed.
  let killed = false;
  const job = startSnapshot(write, true, true, (err) => {
    if (err) return fail(err);
    file.commitAsync((e) => killed ? undefined : e ? fail(e) : installBase());
  }, rdbBase ? "rdb" : "aof");
  aof.killRewrite = () => {
    killed = true;
    killSaveJob(job);
    file.abort();
    aof.rewriting = false;
    aof.waitRewrite = false;
    aof.killRewrite = null;
  };
  return true;
}

/** Stops the AOF rewrite in progress, if any (Redis's killAppendOnlyChild; ours is a job of this
 *  process, not a child). Its temp file is removed; the rewrite counts neither as done nor failed. */
function killAppendOnlyChild(): void {
  if (!aof.rewriting || !aof.killRewrite) return;
  log("notice", "Killing running AOF rewrite child (the rewrite job)");
  aof.killRewrite();
}

/* BGREWRITEAOF */
function bgrewriteaofCommand(c: Client): void {
  if (aof.rewriting) return addReplyError(c, "ERR Background append only file rewriting already in progress");
  // Like a BGSAVE, a rewrite never starts in the middle of a transaction (its writes would be in
  // both the new base and the new incr file).
  if (server.rdbChildRunning || c.denyBlocking) {
    aof.scheduled = true;
    return addReplyStatus(c, "Background append only file rewriting scheduled");
  }
  if (!rewriteAppendOnlyFile()) return addReplyError(c, "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.");
  addReplyStatus(c, "Background append only file rewriting started");
}

/** After three failed rewrites in a row, the cron's own rewrites (scheduled and automatic) wait 1
 *  minute, then 2, 4 ... up to an hour between tries, as Redis's aofRewriteLimited. */
function aofRewriteLimited(): boolean {
  const limit = aof.retryLimit;
  if (aof.rewriteFailures < 3) { limit.delayMin = 0; limit.at = 0; return false; }
  if (limit.at) {
    if (wallClock() < limit.at) return true;
    limit.at = 0;
    return false;
  }
  limit.delayMin = Math.min(60, limit.delayMin ? limit.delayMin * 2 : 1);
  limit.at = wallClock() + limit.delayMin * 60000;
  log("warning", `Background AOF rewrite has repeatedly failed and triggered the limit, will retry in ${limit.delayMin} minutes`);
  return true;
}

/** serverCron's part: fsync every second, scheduled and automatic rewrites. */
function aofCron(): void {
  if (aof.on && (conf.appendfsync === "everysec" || !aof.lastWriteOk)) { flushAppendOnlyFile(); aofBackgroundFsync(false); }
  if (aof.rewriting || server.rdbChildRunning) return;
  if (aof.scheduled && !aofRewriteLimited()) { aof.scheduled = false; rewriteAppendOnlyFile(); return; }
  const perc = confNum("auto-aof-rewrite-percentage");
  if (aof.on && aof.lastWriteOk && perc && aof.currentSize > confNum("auto-aof-rewrite-min-size") && !aofRewriteLimited()) {
    const base = aof.baseSize || 1;
    const growth = ((aof.currentSize - base) * 100) / base;
    if (growth >= perc) {
      log("notice", `Starting automatic rewriting of AOF on ${Math.round(growth)}% growth`);
      rewriteAppendOnlyFile();
    }
  }
}

/** This chapter's rows of the command table (see Dispatch). */
const AOF_COMMANDS: CommandRows[] = [
  { group: "server", specs: [
    ["bgrewriteaof", 1, "admin noscript no_async_loading", 0, 0, 0, "", bgrewriteaofCommand],
  ] },
];

// ============================================================================================
// Replication
//
// Redis's PSYNC protocol, so Redbun and Redis replicate from each other in both directions. A
// master has a replication ID and an offset: every propagated write (with SELECT as needed,
// MULTI/EXEC, PINGs) is appended to a circular backlog and to each replica's output buffer, and
// the offset counts those bytes. A replica asking PSYNC <replid> <offset> continues from the
// backlog when it can (+CONTINUE) and otherwise gets +FULLRESYNC and a point-in-time RDB.
// ============================================================================================

// A replica connects out with the handshake Redis uses (PING, AUTH, REPLCONF listening-port and
// capa, PSYNC), loads the RDB (length-prefixed or diskless with an EOF mark), then applies the
// stream through a client flagged as the master, counting the bytes of each command applied. It
// acks every second, proxies the stream byte for byte to its own replicas, lets keys expire only
// when the master says so, and reconnects with a partial resync when the link drops. Every phase
// of the link times out after repl-timeout seconds of silence and is retried.

function isReplica(): boolean { return repl.masterHost !== ""; }

/** Appends bytes to the backlog ring and advances the offset. */
function feedBacklog(bytes: Buffer): void {
  const b = repl.backlog!;
  repl.offset += bytes.length;
  let src = bytes.length > b.length ? bytes.subarray(bytes.length - b.length) : bytes;
  while (src.length) {
    const n = Math.min(src.length, b.length - repl.backlogIdx);
    src.copy(b, repl.backlogIdx, 0, n);
    repl.backlogIdx = (repl.backlogIdx + n) % b.length;
    src = src.subarray(n);
  }
  repl.backlogHistlen = Math.min(b.length, repl.backlogHistlen + bytes.length);
}

/** The first offset the backlog still holds. */
function backlogFirstOffset(): number { return repl.offset - repl.backlogHistlen + 1; }

/** `len` bytes of the backlog's history from `skip` bytes after its first one, as latin1. */
function backlogSlice(skip: number, len: number): string {
  const b = repl.backlog!;
  const start = (repl.backlogIdx - repl.backlogHistlen + skip + b.length * 2) % b.length;
  const first = Math.min(len, b.length - start);
  return b.latin1Slice(start, start + first) + (len > first ? b.latin1Slice(0, len - first) : "");
}

/** Writes raw stream bytes to the backlog and every replica (those waiting for their RDB get
 *  them from the snapshot's pending buffer afterwards). */
function replicationFeedBytes(bytes: Buffer): void {
  if (!repl.backlog) return;
  feedBacklog(bytes);
  for (const r of repl.replicas) {
    if (r.replState !== "online") continue;
    addReplyProto(r, bytes.latin1Slice());
    if (r.outLen > 65536) checkClientOutputBufferLimits(r);
  }
  if (repl.snapshot) {
    repl.snapshot.pending.push(bytes);
    repl.snapshot.pendingBytes += bytes.length;
    for (const r of repl.snapshot.replicas) checkClientOutputBufferLimits(r);
  }
}

/** Sends a propagated command to the replicas, preceded by SELECT when the db changes. A replica
 *  does not feed its replicas from its own writes: it proxies its master's stream instead. */
function replicationFeed(dbIndex: number, argv: string[]): void {
  if (!repl.backlog || isReplica()) return;
  let s = "";
  if (dbIndex !== repl.seldb && dbIndex >= 0) {
    s += respCommand(["SELECT", String(dbIndex)]);
    repl.seldb = dbIndex;
  }
  s += respCommand(argv);
  replicationFeedBytes(Buffer.from(s, "latin1"));
}

/** The backlog exists from the first replica on; starting it starts a new history. */
function createReplicationBacklog(): void {
  repl.backlog = Buffer.alloc(Math.max(16 * 1024, confNum("repl-backlog-size")));
  repl.backlogIdx = 0;
  repl.backlogHistlen = 0;
  if (!isReplica()) {
    repl.replid2 = "0".repeat(40);
    repl.secondOffset = -1;
  }
}

/** CONFIG SET repl-backlog-size: a new ring keeping the most recent history that fits. */
function resizeReplicationBacklog(): void {
  const old = repl.backlog!;
  const size = Math.max(16 * 1024, confNum("repl-backlog-size"));
  if (size === old.length) return;
  const keep = Math.min(repl.backlogHistlen, size);
  const data = Buffer.alloc(keep);
  for (let i = 0; i < keep; i++) data[i] = old[(repl.backlogIdx - keep + i + old.length * 2) % old.length];
  repl.backlog = Buffer.alloc(size);
  data.copy(repl.backlog, 0);
  repl.backlogIdx = keep % size;
  repl.backlogHistlen = keep;
}

/** A new replication ID after a promotion; the old one stays valid up to this offset, so former
 *  siblings can continue from us (Redis's shiftReplicationId). */
function shiftReplicationId(): void {
  repl.replid2 = repl.replid;
  repl.secondOffset = repl.offset + 1;
  repl.replid = randomHex(40);
}

/* SYNC and PSYNC replicationid offset: a replica asks for the stream. */
function syncCommand(c: Client): void {
  if (c.replState) return; // already a replica: ignore, as Redis does
  // PSYNC replid offset FAILOVER: our master hands over to us (its FAILOVER); we become the master
  // and it continues as our replica.
  if (c.argv.length > 3 && c.argv[0].toLowerCase() === "psync" && c.argv[3].toLowerCase() === "failover") {
    log("warning", `Failover request received for replid ${c.argv[1]}.`);
    if (!isReplica()) return addReplyError(c, "ERR PSYNC FAILOVER can't be sent to a master.");
    if (c.argv[1] !== repl.replid) return addReplyError(c, "ERR PSYNC FAILOVER replid must match my replid.");
    replicationUnsetMaster();
    log("notice", `MASTER MODE enabled (failover request from '${clientInfoString(c)}')`);
  }
  if (failover.state !== "no-failover") return addReplyError(c, "NOMASTERLINK Can't SYNC while failing over");
  if (isReplica() && repl.state !== "connected") return addReplyError(c, "NOMASTERLINK Can't SYNC while not connected with my master");
  if (c.outLen > 0) return addReplyError(c, "ERR SYNC and PSYNC are invalid with pending output");
  if (c.argv[0].toLowerCase() === "psync") {
    if (tryPartialResync(c)) return;
  } else c.replOldSync = true;
  if (!repl.backlog) createReplicationBacklog();
  stats.syncFull++;
  repl.replicas.add(c);
  log("notice", `Replica ${c.addr} asks for synchronization`);
  if (c.replRdbFilter) return startFilteredSnapshot(c);
  c.replState = "wait_bgsave_next";
  const snap = repl.snapshot;
  if (snap && !snap.socket && !c.rdbOnly && [...snap.replicas].some((r) => !r.rdbOnly)) {
    // A snapshot kept whole before it is sent: this replica can have the same one, and what was
    // written since (as Redis attaches a replica to a BGSAVE with disk target).
    snap.replicas.add(c);
    c.replState = "wait_bgsave";
    if (!c.replOldSync) addReplyProto(c, `+FULLRESYNC ${repl.replid} ${snap.offset}\r\n`);
    return log("notice", "Waiting for end of BGSAVE for SYNC");
  }
  if (snap) return log("notice", "Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC");
  if (saveJob) return log("notice", "No BGSAVE in progress, but another BG operation is active. BGSAVE for replication delayed");
  if (conf["repl-diskless-sync"] && c.replCapaEof && confNum("repl-diskless-sync-delay") > 0) return log("notice", "Delay next BGSAVE for diskless SYNC");
  startReplicaSnapshot([...repl.replicas].filter((r) => r.replState === "wait_bgsave_next"));
}

/** replicationCron's part, and at the end of a snapshot: replicas waiting for a full resync get
 *  one when no snapshot is running, at once with disk-based sync; with diskless sync once
 *  repl-diskless-sync-max-replicas of them wait, or the first has waited
 *  repl-diskless-sync-delay seconds, so that replicas arriving together share one transfer. */
function replicationStartPendingSnapshot(): void {
  if (repl.snapshot || saveJob) return;
  const waiting = [...repl.replicas].filter((r) => r.replState === "wait_bgsave_next");
  if (!waiting.length) return;
  const t = Math.floor(now() / 1000);
  const maxIdle = Math.max(...waiting.map((r) => t - Math.floor(r.lastInteraction / 1000)));
  const most = confNum("repl-diskless-sync-max-replicas");
  if (!conf["repl-diskless-sync"] || (most > 0 && waiting.length >= most) || maxIdle >= confNum("repl-diskless-sync-delay")) startReplicaSnapshot(waiting);
}

/** +CONTINUE: the replica's history is ours (current or previous ID) and the backlog still has
 *  everything after its offset. */
function tryPartialResync(c: Client): boolean {
  const [replid, offArg] = [c.argv[1], c.argv[2]];
  const offset = Number(offArg);
  const known = replid === repl.replid || (replid === repl.replid2 && offset <= repl.secondOffset);
  if (replid !== "?") stats.syncPartialErr++;
  if (!known || !repl.backlog || !/^-?\d+$/.test(offArg) || offset < backlogFirstOffset() || offset > repl.offset + 1) {
    if (replid !== "?") log("notice", `Partial resynchronization not accepted for replica ${c.addr}`);
    return false;
  }
  if (replid !== "?") stats.syncPartialErr--;
  stats.syncPartialOk++;
  c.replState = "online";
  repl.replicas.add(c);
  addReplyProto(c, c.replCapaPsync2 ? `+CONTINUE ${repl.replid}\r\n` : "+CONTINUE\r\n");
  // The bytes the replica lacks, from the ring.
  const b = repl.backlog;
  const skip = offset - backlogFirstOffset();
  const len = repl.backlogHistlen - skip;
  if (len > 0) addReplyProto(c, backlogSlice(skip, len));
  log("notice", `Partial resynchronization request from ${c.addr} accepted. Sending ${Math.max(0, len)} bytes of backlog starting from offset ${offset}.`);
  return true;
}

/** The RDB to a replica, then what was written since the snapshot (nothing more, and goodbye,
 *  for an rdb-only one such as redis-cli --rdb). */
function sendSnapshotToReplica(r: Client, rdb: Buffer, pending: Buffer): void {
  addReplyProto(r, `$${rdb.length}\r\n`);
  addReplyProto(r, rdb.latin1Slice());
  r.rdbInFlight = r.outLen;
  finishReplicaSync(r, pending);
}

/** The RDB is out (or in the replica's buffer): the replica is online, and what was written
 *  meanwhile follows (an rdb-only one, such as redis-cli --rdb, is done and let go). */
function finishReplicaSync(r: Client, pending: Buffer): void {
  r.replState = r.rdbOnly ? "rdb_only" : "online";
  if (r.rdbOnly) { r.closeAfterReply = true; return; }
  addReplyProto(r, pending.latin1Slice());
  log("notice", `Synchronization with replica ${r.addr} succeeded`);
}

/** REPLCONF rdb-filter-only (redis-cli --functions-rdb): no keys, so a snapshot of its own, at once. */
function startFilteredSnapshot(c: Client): void {
  c.replState = "wait_bgsave";
  if (!c.replOldSync) addReplyProto(c, `+FULLRESYNC ${repl.replid} ${repl.offset}\r\n`);
  repl.seldb = -1;
  const chunks: Buffer[] = [];
  startSnapshot((chunk) => chunks.push(Buffer.from(chunk)), false, false, (err) => {
    if (err) return freeClient(c);
    sendSnapshotToReplica(c, Buffer.concat(chunks), EMPTY);
    handleClientsWithPendingWrites();
  }, "rdb", { data: false, functions: c.replRdbFilter!.functions });
}

/** Full resync of the waiting replicas: +FULLRESYNC now, then the RDB, then what was written
 *  since. With repl-diskless-sync (and replicas that read $EOF), the RDB goes to them as it is
 *  made, between an "$EOF:<40 random characters>" line and those 40 characters again, as Redis
 *  streams it to replicas' sockets: nothing is held but what they have not read yet. Otherwise
 *  it is kept whole and sent as one bulk ($<length>), as Redis sends the file of a disk BGSAVE.
 *  INFO shows the snapshot as rdb_bgsave_in_progress, Redis's replication BGSAVE. */
function startReplicaSnapshot(waiting: Client[]): void {
  const socket = Boolean(conf["repl-diskless-sync"]) && waiting.every((r) => r.replCapaEof);
  log("notice", `Starting BGSAVE for SYNC with target: ${socket ? "replicas sockets" : "disk"}`);
  const snap = { replicas: new Set(waiting), pending: [] as Buffer[], pendingBytes: 0, offset: repl.offset, socket };
  repl.snapshot = snap;
  repl.seldb = -1; // the stream after the snapshot starts with a SELECT
  const mark = socket ? randomHex(40) : "";
  for (const r of waiting) {
    r.replState = "wait_bgsave";
    if (!r.replOldSync) addReplyProto(r, `+FULLRESYNC ${repl.replid} ${snap.offset}\r\n`);
    if (socket) addReplyProto(r, `$EOF:${mark}\r\n`);
  }
  handleClientsWithPendingWrites();
  const chunks: Buffer[] = [];
  const stream = (chunk: Buffer) => {
    const bytes = chunk.latin1Slice();
    for (const r of snap.replicas) {
      if (r.closed) continue;
      addReplyProto(r, bytes);
      r.rdbInFlight += chunk.length;
    }
    handleClientsWithPendingWrites();
  };
  startSnapshot(socket ? stream : (chunk) => chunks.push(Buffer.from(chunk)), true, false, (err) => {
    repl.snapshot = null;
    const pending = Buffer.concat(snap.pending);
    const rdb = socket ? null : Buffer.concat(chunks);
    for (const r of snap.replicas) {
      if (r.closed || !repl.replicas.has(r)) continue;
      if (err) { freeClient(r); continue; }
      if (rdb) sendSnapshotToReplica(r, rdb, pending);
      else {
        addReplyProto(r, mark);
        r.rdbInFlight += mark.length;
        finishReplicaSync(r, pending);
      }
    }
    if (err) log("warning", "BGSAVE for replication failed");
    handleClientsWithPendingWrites();
    // Replicas that came in meanwhile get the next snapshot.
    replicationStartPendingSnapshot();
  });
}

/* REPLCONF <option> <value> ... */
function replconfCommand(c: Client): void {
  const argv = c.argv;
  if (argv.length % 2 === 0) return addReplyError(c, E.syntax);
  for (let j = 1; j < argv.length; j += 2) {
    const opt = argv[j].toLowerCase(), val = argv[j + 1];
    if (opt === "listening-port") {
      const port = parseIntOrReply(c, val);
      if (port === undefined) return;
      c.replListeningPort = port;
    } else if (opt === "ip-address") c.replIp = val;
    else if (opt === "capa") {
      if (val.toLowerCase() === "psync2") c.replCapaPsync2 = true;
      else if (val.toLowerCase() === "eof") c.replCapaEof = true;
    }
    else if (opt === "ack") {
      // From a replica: no reply. It tells how far it got (WAIT, lag).
      const off = Number(val);
      if (c.replState && off > c.replAckOff) c.replAckOff = off;
      c.replAckTime = wallClock();
      if (waitingClients.size) processClientsWaitingReplicas();
      return;
    } else if (opt === "getack") {
      if (c.isMaster) replicationSendAck();
      return;
    } else if (opt === "rdb-only") c.rdbOnly = val === "1";
    else if (opt === "rdb-filter-only") {
      // Include filters: none given means an empty RDB; "functions" is the only one there is.
      const filters = splitArgs(val);
      if (!filters) return addReplyError(c, "ERR Missing rdb-filter-only values");
      c.replRdbFilter = { functions: false };
      for (const f of filters) {
        if (f.toLowerCase() === "functions") c.replRdbFilter.functions = true;
        else return addReplyError(c, `ERR Unsupported rdb-filter-only option: ${f}`);
      }
    }
    else return addReplyError(c, `ERR Unrecognized REPLCONF option: ${argv[j]}`);
  }
  addReplyOK(c);
}

// --- WAIT.

const waitingClients = new Set<Client>();

/** Replicas whose last ack reached `offset`. */
function replicationCountAcksByOffset(offset: number): number {
  let n = 0;
  for (const r of repl.replicas) if (r.replState === "online" && r.replAckOff >= offset) n++;
  return n;
}

/* WAIT numreplicas timeout */
function waitCommand(c: Client): void {
  if (isReplica()) return addReplyError(c, "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.");
  const numreplicas = parseIntOrReply(c, c.argv[1]);
  if (numreplicas === undefined) return;
  const ms = parseIntOrReply(c, c.argv[2], "ERR timeout is not an integer or out of range");
  if (ms === undefined) return;
  if (ms < 0) return addReplyError(c, "ERR timeout is negative");
  const acked = replicationCountAcksByOffset(c.woff);
  if (acked >= numreplicas || c.denyBlocking) return addReplyLongLong(c, acked);
  c.waitState = { numreplicas, offset: c.woff, timer: ms > 0 ? setTimeout(() => finishWait(c), ms) : null };
  waitingClients.add(c);
  // Ask the replicas where they are now rather than waiting for their next periodic ack.
  repl.getAckPending = true;
}

function finishWait(c: Client): void {
  const w = c.waitState;
  if (!w) return;
  if (w.timer) clearTimeout(w.timer);
  c.waitState = null;
  waitingClients.delete(c);
  if (c.closed) return;
  addReplyLongLong(c, replicationCountAcksByOffset(w.offset));
  resumeClient(c);
  handleClientsWithPendingWrites();
}

function processClientsWaitingReplicas(): void {
  for (const c of waitingClients) {
    if (replicationCountAcksByOffset(c.waitState!.offset) >= c.waitState!.numreplicas) finishWait(c);
  }
}

/** Sends REPLCONF GETACK * down the stream when a WAIT is pending (once per event loop turn). */
function replicationRequestAckIfNeeded(): void {
  if (!repl.getAckPending) return;
  repl.getAckPending = false;
  if (repl.backlog && !isReplica()) replicationFeedBytes(Buffer.from(respCommand(["REPLCONF", "GETACK", "*"]), "latin1"));
}

/* ROLE */
function roleCommand(c: Client): void {
  if (!isReplica()) {
    const rs = [...repl.replicas].filter((r) => r.replState === "online");
    addReplyArrayLen(c, 3);
    addReplyBulk(c, "master");
    addReplyLongLong(c, repl.offset);
    addReplyArrayLen(c, rs.length);
    for (const r of rs) { addReplyArrayLen(c, 3); addReplyBulk(c, replicaIp(r)); addReplyBulk(c, String(r.replListeningPort)); addReplyBulk(c, String(r.replAckOff)); }
    return;
  }
  addReplyArrayLen(c, 5);
  addReplyBulk(c, "slave");
  addReplyBulk(c, repl.masterHost);
  addReplyLongLong(c, repl.masterPort);
  addReplyBulk(c, repl.state === "connected" ? "connected" : repl.state === "sync" ? "sync" : repl.state === "handshake" ? "handshake" : repl.state === "connecting" ? "connecting" : "connect");
  addReplyLongLong(c, repl.state === "connected" ? repl.offset : -1);
}

// --- FAILOVER: a coordinated switch of roles with one of our replicas. Writes are paused, the
// server waits until a replica (the one named, or any) has acknowledged the whole stream, then
// becomes a replica of it and sends it PSYNC ... FAILOVER, which makes it a master that continues
// our history; the pause ends when that PSYNC is answered. FAILOVER ABORT, a TIMEOUT without
// FORCE, or a refused PSYNC makes us a master again.

/** The failover in progress (Redis's failover_state and its companions). */
const failover = {
  state: "no-failover" as "no-failover" | "waiting-for-sync" | "failover-in-progress",
  endTime: 0, // TIMEOUT's deadline (ms), 0 for none
  force: false,
  host: null as string | null, // the target, once known
  port: 0,
};

/** A replica's IP: the one it announced (REPLCONF ip-address), else its connection's, unbracketed. */
function replicaIp(r: Client): string {
  return r.replIp || r.addr.slice(0, r.addr.lastIndexOf(":")).replace(/^\[|\]$/g, "");
}

/** Redis 7.0's replication buffer is one, shared by the backlog and the replicas: it holds the
 *  last bytes of the stream as far back as the backlog or the most lagging replica needs. Here,
 *  the larger of the backlog's bytes and the most a replica has not taken yet. */
function replicationBuffersSize(): number {
  let n = repl.backlog ? repl.backlogHistlen : 0;
  for (const r of repl.replicas) if (r.replState === "online" && r.outLen - r.rdbInFlight > n) n = r.outLen - r.rdbInFlight;
  return n;
}

/** ip:port as Redis's replicationGetSlaveName writes a replica (an IPv6 address in brackets). */
function replicaName(r: Client): string {
  const ip = replicaIp(r);
  return `${ip.includes(":") ? `[${ip}]` : ip}:${r.replListeningPort}`;
}

/** A replica's state as INFO and the shutdown log name it. */
function replicaStateName(r: Client): string { return r.replState === "online" ? "online" : "wait_bgsave"; }

/** The replica at host:port (the address it announced, or its connection's), as Redis's findReplica. */
function findReplica(host: string, port: number): Client | undefined {
  for (const r of repl.replicas) {
    const ip = replicaIp(r);
    if (ip.toLowerCase() === host.toLowerCase() && r.replListeningPort === port) return r;
  }
  return undefined;
}

/* FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds] */
function failoverCommand(c: Client): void {
  const argv = c.argv;
  if (argv.length === 2 && argv[1].toLowerCase() === "abort") {
    if (failover.state === "no-failover") return addReplyError(c, "ERR No failover in progress.");
    abortFailover("Failover manually aborted");
    return addReplyOK(c);
  }
  let timeout = 0, force = false, port = 0, host: string | null = null;
  for (let j = 1; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    if (opt === "timeout" && j + 1 < argv.length && timeout === 0) {
      const t = parseIntOrReply(c, argv[j + 1]);
      if (t === undefined) return;
      if (t <= 0) return addReplyError(c, "ERR FAILOVER timeout must be greater than 0");
      timeout = t;
      j++;
    } else if (opt === "to" && j + 2 < argv.length && host === null) {
      const p = parseIntOrReply(c, argv[j + 2]);
      if (p === undefined) return;
      port = p;
      host = argv[j + 1];
      j += 2;
    } else if (opt === "force" && !force) force = true;
    else return addReplyError(c, E.syntax);
  }
  if (failover.state !== "no-failover") return addReplyError(c, "ERR FAILOVER already in progress.");
  if (isReplica()) return addReplyError(c, "ERR FAILOVER is not valid when server is a replica.");
  if (repl.replicas.size === 0) return addReplyError(c, "ERR FAILOVER requires connected replicas.");
  if (force && (!timeout || host === null)) return addReplyError(c, "ERR FAILOVER with force option requires both a timeout and target HOST and IP.");
  if (host !== null) {
    const target = findReplica(host, port);
    if (!target) return addReplyError(c, "ERR FAILOVER target HOST and PORT is not a replica.");
    if (target.replState !== "online") return addReplyError(c, "ERR FAILOVER target replica is not online.");
    failover.host = host;
    failover.port = port;
    log("notice", `FAILOVER requested to ${host}:${port}.`);
  } else log("notice", "FAILOVER requested to any replica.");
  failover.endTime = timeout ? wallClock() + timeout : 0;
  failover.force = force;
  failover.state = "waiting-for-sync";
  server.failoverPause = true; // writes wait until the failover ends, however it ends
  addReplyOK(c);
}

/** serverCron's part (Redis's updateFailoverStatus): the timeout, or the switch once the target
 *  (or, without TO, the first replica found) has acknowledged our whole stream. */
function updateFailoverStatus(): void {
  if (failover.state !== "waiting-for-sync") return;
  if (failover.endTime && failover.endTime <= wallClock()) {
    if (!failover.force) return abortFailover("Replica never caught up before timeout");
    log("notice", `FAILOVER to ${failover.host}:${failover.port} time out exceeded, failing over.`);
    failover.state = "failover-in-progress";
    return replicationSetMaster(failover.host!, failover.port);
  }
  let target: Client | undefined;
  if (failover.host !== null) target = findReplica(failover.host, failover.port);
  else {
    for (const r of repl.replicas) {
      if (r.replAckOff !== repl.offset) continue;
      target = r;
      failover.host = replicaIp(r);
      failover.port = r.replListeningPort;
      break;
    }
  }
  if (target && target.replAckOff === repl.offset) {
    failover.state = "failover-in-progress";
    log("notice", `Failover target ${failover.host}:${failover.port} is synced, failing over.`);
    replicationSetMaster(failover.host!, failover.port);
  }
}

/** The end of a failover, however it went: the write pause ends (Redis's clearFailoverState). */
function clearFailoverState(): void {
  failover.endTime = 0;
  failover.force = false;
  failover.host = null;
  failover.port = 0;
  failover.state = "no-failover";
  server.failoverPause = false;
  unpauseClients();
}

/** Gives up a failover; once we had become the target's replica, we are a master again. */
function abortFailover(why: string): void {
  if (failover.state === "no-failover") return;
  log("notice", failover.host !== null ? `FAILOVER to ${failover.host}:${failover.port} aborted: ${why}` : `FAILOVER to any replica aborted: ${why}`);
  if (failover.state === "failover-in-progress") replicationUnsetMaster();
  clearFailoverState();
}

/* REPLICAOF host port | NO ONE (and SLAVEOF) */
function replicaofCommand(c: Client): void {
  if (failover.state !== "no-failover") return addReplyError(c, "ERR REPLICAOF not allowed while failing over.");
  const [host, portArg] = [c.argv[1], c.argv[2]];
  if (host.toLowerCase() === "no" && portArg.toLowerCase() === "one") {
    if (isReplica()) {
      replicationUnsetMaster();
      log("notice", "MASTER MODE enabled (user request from client)");
    }
    return addReplyOK(c);
  }
  const port = parseIntOrReply(c, portArg, "ERR Invalid master port");
  if (port === undefined) return;
  if (port < 0 || port > 65535) return addReplyError(c, "ERR Invalid master port");
  if (!isValidHost(host)) return addReplyError(c, "ERR Invalid master host");
  if (repl.masterHost === host && repl.masterPort === port) {
    log("notice", "REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
    return addReplyStatus(c, "OK Already connected to specified master");
  }
  replicationSetMaster(host, port);
  log("notice", `REPLICAOF ${host}:${port} enabled (user request from client)`);
  addReplyOK(c);
}

/** Becomes a replica of host:port: keeps our dataset and offset so a partial resync is possible,
 *  and connects. Our own replicas stay, as in Redis 7.0, until our history changes (a new
 *  replication ID from the new master, or a full sync): they may continue with us. */
function replicationSetMaster(host: string, port: number, atStartup = false): void {
  const wasMaster = !isReplica() && !atStartup;
  replicationDropLink();
  repl.masterHost = host;
  repl.masterPort = port;
  conf.replicaof = `${host} ${port}`;
  for (const c of [...server.clients.values()]) if (c.bstate) { unblockClient(c); addReplyError(c, "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)"); }
  // PSYNC with our own history first (a new master starts its stream with a SELECT).
  if (wasMaster) { repl.cachedReplid = repl.replid; repl.cachedMasterDb = 0; }
  repl.state = "connect";
  repl.downSince = 0; // -1 in INFO until a link has existed and dropped
  connectToMaster();
}

/** REPLICAOF NO ONE: a master again, with a new ID (the old one kept as the second ID). */
function replicationUnsetMaster(): void {
  replicationDropLink();
  replicaKeysWithExpire.clear(); // a master expires every key itself
  repl.masterHost = "";
  repl.masterPort = 0;
  conf.replicaof = "";
  repl.state = "none";
  shiftReplicationId();
  repl.seldb = -1;
  // Our replicas hear the new ID by reconnecting (they will continue partially).
  for (const r of [...repl.replicas]) freeClient(r);
}

/** Closes the link to the master, keeping where we were for a partial resync later. */
function replicationDropLink(): void {
  if (repl.retryTimer) clearTimeout(repl.retryTimer);
  repl.retryTimer = null;
  if (repl.master) {
    repl.cachedReplid = repl.replid;
    repl.cachedMasterDb = repl.master.db;
    const m = repl.master;
    repl.master = null;
    freeClient(m);
  }
  if (repl.link) { const l = repl.link; repl.link = null; l.end(); }
}

/** Tells the master how far we got. */
function replicationSendAck(): void {
  const m = repl.master;
  if (!m || !m.sock) return;
  m.sock.write(respCommand(["REPLCONF", "ACK", String(repl.offset)]));
  repl.lastAck = wallClock();
}

/** Starts (or retries) the connection to the master. */
function connectToMaster(): void {
  repl.state = "connecting";
  repl.lastIo = wallClock(); // the timeout of each phase counts from here
  const seq = ++repl.connectSeq;
  const link: MasterLink = { buf: EMPTY, expect: "", rdbLen: -1, eofMark: null, eofTail: EMPTY, rdbChunks: [], rdbGot: 0, fullSync: null };
  log("notice", `Connecting to MASTER ${repl.masterHost}:${repl.masterPort}`);
  // bind-source-addr: the address the link leaves from (localAddress is in Bun's runtime, not
  // yet in its type definitions).
  const source = String(conf["bind-source-addr"]);
  Bun.connect<MasterLink>({
    hostname: repl.masterHost, port: repl.masterPort, data: link, ...(source ? { localAddress: source } : {}),
    socket: {
      open(sock) {
        if (!isReplica() || seq !== repl.connectSeq) return void sock.end();
        repl.link = sock;
        repl.state = "handshake";
        repl.lastIo = wallClock();
        log("notice", "MASTER <-> REPLICA sync started");
        handshakeStep(sock, "");
      },
      data(sock, chunk) {
        try { masterLinkData(sock, chunk); } catch (err) { log("warning", `Replication error: ${(err as Error).message}`); sock.end(); }
      },
      close(sock) { if (repl.link === sock || (repl.master && repl.master.sock === (sock as unknown))) masterLinkLost(); },
      error(sock) { if (repl.link === sock) masterLinkLost(); },
    },
  }).catch((err) => {
    if (seq !== repl.connectSeq) return;
    log("warning", `Error condition on socket for SYNC: ${strerror(err)}`);
    masterLinkLost();
  });
}

/** Gives up the connection attempt or handshake in progress (it timed out or the master spoke
 *  nonsense) and retries, as Redis's cancelReplicationHandshake. */
function cancelReplicationHandshake(): void {
  repl.connectSeq++;
  if (repl.link) { const l = repl.link; repl.link = null; l.end(); }
  masterLinkLost();
}

/** The link is gone: keep serving (per replica-serve-stale-data) and retry with backoff. */
function masterLinkLost(): void {
  if (!isReplica()) return;
  if (repl.master) { repl.cachedReplid = repl.replid; repl.cachedMasterDb = repl.master.db; const m = repl.master; repl.master = null; freeClient(m); }
  repl.link = null;
  if (repl.state === "connected") log("warning", "Connection with master lost.");
  if (repl.state === "connected") repl.downSince = wallClock();
  repl.state = "connect";
  if (repl.retryTimer) return;
  repl.retryTimer = setTimeout(() => { repl.retryTimer = null; if (isReplica() && repl.state === "connect") connectToMaster(); }, repl.retryDelay);
  repl.retryDelay = Math.min(1000, repl.retryDelay * 2);
}

/** The handshake, one reply line at a time: PING, AUTH (with masterauth), REPLCONF
 *  listening-port, REPLCONF capa, PSYNC. `reply` answers what the previous step sent. */
function handshakeStep(sock: Socket<MasterLink>, reply: string): void {
  const link = sock.data;
  const send = (argv: string[]) => sock.write(respCommand(argv));
  const fail = (why: string) => { log("warning", why); sock.end(); };
  const step = link.expect;
  if (step === "") { link.expect = "ping"; return void send(["PING"]); }
  if (step === "ping") {
    if (reply[0] === "-" && !/^-(NOAUTH|NOPERM|ERR operation not permitted)/.test(reply)) return fail(`Error reply to PING from master: '${reply}'`);
    if (conf.masterauth) {
      link.expect = "auth";
      return void send(conf.masteruser ? ["AUTH", String(conf.masteruser), String(conf.masterauth)] : ["AUTH", String(conf.masterauth)]);
    }
  }
  if (step === "auth" && reply[0] === "-") return fail(`Unable to AUTH to MASTER: ${reply}`);
  if (step === "ping" || step === "auth") { link.expect = "port"; return void send(["REPLCONF", "listening-port", String(server.port)]); }
  // Errors to REPLCONF are ignored, as Redis does: old masters may not know them.
  if (step === "port") { link.expect = "capa"; return void send(["REPLCONF", "capa", "eof", "capa", "psync2"]); }
  if (step === "capa") {
    link.expect = "psync";
    const replid = repl.cachedReplid || "?";
    // A master handing over (FAILOVER) asks its target to take the role.
    return void send(["PSYNC", replid, replid === "?" ? "-1" : String(repl.offset + 1), ...(failover.state === "failover-in-progress" ? ["FAILOVER"] : [])]);
  }
  // Our FAILOVER's target has answered our PSYNC: a sync means it took the role.
  if (failover.state === "failover-in-progress") {
    if (reply.startsWith("+FULLRESYNC") || reply.startsWith("+CONTINUE")) clearFailoverState();
    else return abortFailover("Failover target rejected psync request");
  }
  if (reply.startsWith("+FULLRESYNC")) {
    // Checked strictly: a replid or offset taken from a bad line would break every later PSYNC.
    const m = /^\+FULLRESYNC ([0-9a-f]{40}) (\d{1,18})$/i.exec(reply);
    if (!m) return fail(`Master replied with wrong +FULLRESYNC syntax: '${reply}'`);
    const [, replid, off] = m;
    link.fullSync = { replid, offset: Number(off) };
    link.expect = "rdb";
    repl.state = "sync";
    log("notice", `Full resync from master: ${replid}:${off}`);
    return;
  }
  if (reply === "+CONTINUE" || reply.startsWith("+CONTINUE ")) {
    // Redis takes a new ID only when it has its 40 characters.
    const newId = /^\+CONTINUE ([0-9a-f]{40})$/i.exec(reply)?.[1];
    if (newId && newId !== repl.replid) {
      // The master has a new ID (it was promoted): adopt it, keeping ours as the second one; our
      // replicas reconnect to learn it (they continue partially).
      repl.replid2 = repl.replid;
      repl.secondOffset = repl.offset + 1;
      repl.replid = newId;
      for (const r of [...repl.replicas]) freeClient(r);
    }
    log("notice", "Successful partial resynchronization with master.");
    if (!repl.backlog) createReplicationBacklog();
    // The stream goes on where it broke, in the database it had selected: the master sends no
    // SELECT again (Redis resurrects its cached master client, database included).
    startMasterStream(sock);
    repl.master!.db = repl.cachedMasterDb;
    return;
  }
  fail(`Unexpected reply to PSYNC from master: ${reply}`);
}

/** Bytes from the master: handshake replies, then the RDB, then the command stream. */
function masterLinkData(sock: Socket<MasterLink>, chunk: Buffer): void {
  const link = sock.data;
  repl.lastIo = wallClock();
  if (repl.master && repl.master.sock === (sock as unknown)) return masterStreamData(repl.master, chunk);
  link.buf = link.buf.length ? Buffer.concat([link.buf, chunk]) : chunk;
  while (link.buf.length) {
    if (link.expect !== "rdb") {
      // A master may send bare newlines to keep the link alive before it replies.
      while (link.buf.length && link.buf[0] === 10) link.buf = link.buf.subarray(1);
      const nl = link.buf.indexOf("\r\n");
      if (nl < 0) return;
      const line = link.buf.latin1Slice(0, nl);
      link.buf = link.buf.subarray(nl + 2);
      handshakeStep(sock, line);
      if (repl.master) return void (link.buf.length && masterStreamData(repl.master, link.buf));
      continue;
    }
    // The RDB payload: "$<len>\r\n<bytes>" or diskless "$EOF:<40 bytes>\r\n<bytes><40 bytes>".
    if (link.rdbLen < 0 && !link.eofMark) {
      while (link.buf.length && link.buf[0] === 10) link.buf = link.buf.subarray(1); // keepalive newlines
      const nl = link.buf.indexOf("\r\n");
      if (nl < 0) {
        if (link.buf.length > 1024) throw new Error("Bad protocol from MASTER: no payload header in the first 1024 bytes");
        return;
      }
      const head = link.buf.latin1Slice(0, nl);
      link.buf = link.buf.subarray(nl + 2);
      if (head[0] === "-") throw new Error(`MASTER aborted replication with an error: ${head.slice(1)}`);
      if (head[0] !== "$") throw new Error(`Bad protocol from MASTER, the first byte is not '$' (we received '${head}'), are you sure the host and port are right?`);
      if (/^\$EOF:.{40}$/.test(head)) link.eofMark = Buffer.from(head.slice(5), "latin1");
      else if (/^\$\d{1,15}$/.test(head)) link.rdbLen = Number(head.slice(1));
      else throw new Error(`Bad protocol from MASTER: '${head}' is neither a payload length nor an EOF mark`);
      continue;
    }
    if (link.rdbLen >= 0) {
      const need = link.rdbLen - link.rdbGot;
      const take = link.buf.subarray(0, need);
      link.rdbChunks.push(Buffer.from(take));
      link.rdbGot += take.length;
      link.buf = link.buf.subarray(take.length);
      if (link.rdbGot < link.rdbLen) return;
      return finishFullSync(sock, Buffer.concat(link.rdbChunks));
    }
    // Diskless: look for the mark in what just arrived, and across the end of what came before;
    // whatever follows it is already the command stream.
    const chunk = Buffer.from(link.buf);
    link.buf = EMPTY;
    const window = link.eofTail.length ? Buffer.concat([link.eofTail, chunk]) : chunk;
    const at = window.indexOf(link.eofMark!);
    link.rdbChunks.push(chunk);
    if (at < 0) {
      link.rdbGot += chunk.length;
      link.eofTail = Buffer.from(window.subarray(Math.max(0, window.length - 39)));
      return;
    }
    const all = Buffer.concat(link.rdbChunks);
    const end = link.rdbGot - link.eofTail.length + at;
    link.buf = all.subarray(end + link.eofMark!.length);
    return finishFullSync(sock, all.subarray(0, end));
  }
}

/** Loads the master's RDB (flushing ours first) and starts applying its stream. */
function finishFullSync(sock: Socket<MasterLink>, rdb: Buffer): void {
  const link = sock.data;
  log("notice", `MASTER <-> REPLICA sync: receiving ${rdb.length} bytes from master to memory`);
  log("notice", "MASTER <-> REPLICA sync: Flushing old data");
  replicaKeysWithExpire.clear();
  emptyData(-1);
  functionsClear();
  log("notice", "MASTER <-> REPLICA sync: Loading DB in memory");
  server.loading = true;
  try {
    rdbLoad(rdb, { replicaLoad: true });
  } finally {
    server.loading = false;
  }
  repl.replid = link.fullSync!.replid;
  repl.offset = link.fullSync!.offset;
  repl.replid2 = "0".repeat(40);
  repl.secondOffset = -1;
  // Our own backlog restarts at the master's offset, so our replicas can chain from us.
  createReplicationBacklog();
  for (const r of [...repl.replicas]) freeClient(r);
  log("notice", "MASTER <-> REPLICA sync: Finished with success");
  const rest = link.buf;
  link.buf = EMPTY;
  startMasterStream(sock);
  if (rest.length) masterStreamData(repl.master!, rest);
  if (conf.appendonly) rewriteAppendOnlyFile();
}

/** From now on the link is a client whose commands are applied as the master's. */
function startMasterStream(sock: Socket<MasterLink>): void {
  const m = new Client(sock as unknown as Socket<Client>, `${repl.masterHost}:${repl.masterPort}`, "");
  m.isMaster = true;
  m.authenticated = true;
  m.user = null;
  server.clients.set(m.id, m);
  repl.master = m;
  repl.state = "connected";
  repl.downSince = 0;
  repl.retryDelay = 100;
  repl.cachedReplid = "";
  replicationSendAck();
}

/** Applies the master's stream, counting each command's bytes into our offset and passing the
 *  very same bytes on to our own replicas. */
function masterStreamData(m: Client, chunk: Buffer): void {
  appendInput(m, chunk);
  refreshClockBase();
  // A command held back (waiting for the Lua VM's first start) stops the stream until it has run:
  // the master's commands apply in order (the VM's start resumes here, through processInputBuffer).
  // So does a busy script: the stream accumulates, rather than each write answering -BUSY and
  // being lost, and applies once the script ends (scriptContinue), as in Redis.
  while (m.qpos < m.qlen && !m.closed && !m.paused && !scripting.suspended) {
    const start = m.qpos;
    if (!m.reqtype) m.reqtype = m.qbuf[m.qpos] === 42 ? REQ_MULTIBULK : REQ_INLINE;
    const complete = m.reqtype === REQ_INLINE ? parseInline(m) : parseMultibulk(m);
    // The parser consumes whole arguments of a command that is not complete yet: keep those
    // bytes, since the offset and our own replicas need the command's exact bytes.
    if (m.qpos > start) m.replCmdBytes.push(Buffer.from(m.qbuf.subarray(start, m.qpos)));
    if (!complete) break;
    m.reqtype = 0;
    const bytes = m.replCmdBytes.length === 1 ? m.replCmdBytes[0] : Buffer.concat(m.replCmdBytes);
    m.replCmdBytes = [];
    if (m.argv.length) processCommandAndResetClient(m);
    m.argv = [];
    m.argvLen = 0;
    m.outLen = 0; // replies to the master are never sent (REPLCONF ACK goes out directly)
    // The offset moves after the command, so a GETACK reports what came before it.
    if (repl.backlog) replicationFeedBytes(bytes);
    else repl.offset += bytes.length;
  }
  compactInput(m);
  handleClientsWithPendingWrites();
}

/** serverCron's part: PING the replicas, ack the master, time out the link. */
function replicationCron(): void {
  const t = wallClock();
  // As Redis's once-a-second replicationCron: the replicas get a PING on the seconds (counted
  // from start-up) that are multiples of repl-ping-replica-period.
  const second = Math.floor((t - server.startTime) / 1000);
  if (second !== repl.lastPing) {
    repl.lastPing = second;
    if (!isReplica() && repl.backlog && repl.replicas.size && second % confNum("repl-ping-replica-period") === 0) {
      replicationFeedBytes(Buffer.from(respCommand(["PING"]), "latin1"));
    }
  }
  if (isReplica() && repl.state === "connected" && t - repl.lastAck >= 1000) replicationSendAck();
  // Every phase times out after repl-timeout seconds without a byte from the master.
  const silent = t - repl.lastIo > confNum("repl-timeout") * 1000;
  if (isReplica() && silent && (repl.state === "connecting" || repl.state === "handshake")) {
    log("warning", "Timeout connecting to the MASTER...");
    cancelReplicationHandshake();
  } else if (isReplica() && silent && repl.state === "sync") {
    log("warning", "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.");
    cancelReplicationHandshake();
  } else if (isReplica() && silent && repl.state === "connected") {
    log("warning", "MASTER timeout: no data nor PING received...");
    replicationDropLink();
    masterLinkLost();
  }
  if (isReplica() && repl.state === "connect" && !repl.retryTimer && !repl.link) connectToMaster();
  // Replicas waiting for their RDB to start (or, disk target, to be whole) get a newline each
  // second, as from Redis: their link is not silent, so they do not time it out.
  if (t - repl.lastNewline >= 1000) {
    repl.lastNewline = t;
    for (const r of repl.replicas) {
      if (r.replState === "wait_bgsave_next" || (r.replState === "wait_bgsave" && !repl.snapshot?.socket)) addReplyProto(r, "\n");
    }
  }
  replicationStartPendingSnapshot();
}

/** INFO replication's lines. */
function replicationInfo(): string[] {
  const lines = [`role:${isReplica() ? "slave" : "master"}`];
  if (isReplica()) {
    const up = repl.state === "connected";
    lines.push(`master_host:${repl.masterHost}`, `master_port:${repl.masterPort}`, `master_link_status:${up ? "up" : "down"}`,
      `master_last_io_seconds_ago:${up ? Math.floor((wallClock() - repl.lastIo) / 1000) : -1}`,
      `master_sync_in_progress:${repl.state === "sync" ? 1 : 0}`, `slave_read_repl_offset:${repl.offset}`, `slave_repl_offset:${repl.offset}`);
    if (!up) lines.push(`master_link_down_since_seconds:${repl.downSince ? Math.floor((wallClock() - repl.downSince) / 1000) : -1}`);
    lines.push(`slave_priority:${conf["replica-priority"]}`, `slave_read_only:${conf["replica-read-only"] ? 1 : 0}`,
      `replica_announced:${conf["replica-announced"] ? 1 : 0}`);
  }
  const online = [...repl.replicas];
  lines.push(`connected_slaves:${online.length}`);
  online.forEach((r, i) => {
    const ip = replicaIp(r);
    const state = replicaStateName(r);
    lines.push(`slave${i}:ip=${ip},port=${r.replListeningPort},state=${state},offset=${r.replAckOff},lag=${r.replAckTime ? Math.floor((wallClock() - r.replAckTime) / 1000) : 0}`);
  });
  lines.push(`master_failover_state:${failover.state}`, `master_replid:${repl.replid}`, `master_replid2:${repl.replid2}`,
    `master_repl_offset:${repl.offset}`, `second_repl_offset:${repl.secondOffset}`, `repl_backlog_active:${repl.backlog ? 1 : 0}`,
    `repl_backlog_size:${conf["repl-backlog-size"]}`, `repl_backlog_first_byte_offset:${repl.backlog ? backlogFirstOffset() : 0}`,
    `repl_backlog_histlen:${repl.backlogHistlen}`);
  return lines;
}

/** This chapter's rows of the command table (see Dispatch). */
const REPLICATION_COMMANDS: CommandRows[] = [
  { group: "replication", specs: [
    ["replicaof", 3, "admin noscript stale no_async_loading", 0, 0, 0, "", replicaofCommand],
    ["slaveof", 3, "admin noscript stale no_async_loading", 0, 0, 0, "", replicaofCommand],
    ["sync", 1, "admin noscript no_async_loading no_multi", 0, 0, 0, "", syncCommand],
    ["psync", -3, "admin noscript no_async_loading no_multi", 0, 0, 0, "", syncCommand],
    ["replconf", -1, "admin noscript loading stale allow_busy", 0, 0, 0, "", replconfCommand],
    ["wait", 3, "noscript", 0, 0, 0, "connection", waitCommand],
    ["role", 1, "noscript loading stale fast", 0, 0, 0, "admin dangerous", roleCommand],
    ["failover", -1, "admin noscript stale", 0, 0, 0, "", failoverCommand],
  ] },
];

// ============================================================================================
// Scripting
//
// EVAL and FCALL and their families run Lua 5.1 scripts as Redis 7.0 does: the Lua is real (PUC Lua 5.1.5 built
// to WebAssembly, the npm package wasmoon-lua5.1, pinned), reached only through the Lua class
// below. A script is compiled once and kept by its SHA1; it runs atomically, reaches the dataset
// through redis.call/pcall (a fake client, with the caller's user, database and ACL checks, as
// Redis's scriptCall), and its effects are propagated as the commands it ran, in MULTI/EXEC.
// ============================================================================================

// Redis 7.0 sandboxes its globals with a patched Lua (read-only tables). Stock Lua 5.1 has no such
// tables, so the sandbox is built from what it has: the globals and every library table that
// scripts see are empty proxies whose metatables read through to the real tables and refuse
// writes; rawset, setmetatable, rawget, next and pairs know the proxies. A script runs on a Lua
// thread, so one past busy-reply-threshold can yield to the event loop (see Running a script).
// Not there yet: the debugger.

// --- The Lua engine: the one place that knows the VM. Values cross as latin1 strings (one char a
// byte), numbers and booleans; the scripting code drives the stack through these methods.

const LUA_REGISTRYINDEX = -10000, LUA_GLOBALSINDEX = -10002, LUA_MULTRET = -1;
const LUA_TNIL = 0, LUA_TBOOLEAN = 1, LUA_TNUMBER = 3, LUA_TSTRING = 4, LUA_TTABLE = 5, LUA_TFUNCTION = 6;
const LUA_MASKLINE = 4, LUA_MASKCOUNT = 8, LUA_YIELD = 1;

/** The Emscripten module of wasmoon-lua5.1: Lua's C API as _lua_* functions over its heap. */
// deno-lint-ignore no-explicit-any
type LuaModule = any;

/** One Lua state and the few operations scripting needs on it. Strings are copied through a
 *  scratch area of the WebAssembly heap, byte for byte. */
class Lua {
  private scratch = 0;
  private scratchSize = 0;
  private readonly lenPtr: number;
  /** The state the stack operations work on: the main one, or the thread a script runs in (a
   *  host function called from a thread works on that thread's stack). */
  L: number;
  private heapView: Buffer;
  private constructor(private readonly M: LuaModule, private readonly X: LuaModule, readonly main: number) {
    this.lenPtr = X.malloc(4);
    this.L = main;
    this.heapView = Buffer.from(M.HEAPU8.buffer);
  }
  /** Loads the VM (compiling the WebAssembly, ~25 ms) and opens the standard libraries. The C API
   *  is called on the WebAssembly instance's own exports: the package's build wraps each one in a
   *  checking function that took 6.6 times as long as the call itself (12% of an EVALSHA's time
   *  went there; see bench/results.md). They are taken as the package instantiates the module. */
  static async create(): Promise<Lua> {
    const instantiate = WebAssembly.instantiate;
    let exports: LuaModule = null;
    WebAssembly.instantiate = (async (...args: Parameters<typeof instantiate>) => {
      const r = await instantiate.apply(WebAssembly, args) as WebAssembly.WebAssemblyInstantiatedSource | WebAssembly.Instance;
      exports ??= ("instance" in r ? r.instance : r).exports;
      return r;
    }) as typeof instantiate;
    let M: LuaModule;
    try {
      const { LuaApi } = await import("wasmoon-lua5.1");
      M = (await LuaApi.initialize()).module;
    } finally {
      WebAssembly.instantiate = instantiate;
    }
    // Without them (a package that instantiates differently), the wrapped functions do the same.
    const X = exports && typeof exports.lua_pushnil === "function" ? exports
      : Object.fromEntries(Object.keys(M).filter((k) => k.startsWith("_")).map((k) => [k.slice(1), M[k]]));
    const L = X.luaL_newstate();
    X.luaL_openlibs(L);
    return new Lua(M, X, L);
  }
  /** The heap as a Buffer, made again when the heap has grown (the old memory is detached). */
  private heap(): Buffer {
    if (this.heapView.buffer !== this.M.HEAPU8.buffer) this.heapView = Buffer.from(this.M.HEAPU8.buffer);
    return this.heapView;
  }
  private room(n: number): number {
    if (n > this.scratchSize) {
      if (this.scratch) this.X.free(this.scratch);
      this.scratchSize = Math.max(256, n * 2);
      this.scratch = this.X.malloc(this.scratchSize);
    }
    return this.scratch;
  }
  /** Copies s (latin1) into the heap; returns its address (valid until the next copy). */
  private put(s: string): number {
    const p = this.room(s.length || 1);
    this.heap().latin1Write(s, p, s.length);
    return p;
  }
  top(): number { return this.X.lua_gettop(this.L); }
  /** Makes room for n more values on the stack (lua_checkstack): a push beyond it would write
   *  past the stack's end. False when the stack cannot grow. */
  checkStack(n: number): boolean { return this.X.lua_checkstack(this.L, n) !== 0; }
  setTop(n: number): void { this.X.lua_settop(this.L, n); }
  pop(n = 1): void { this.X.lua_settop(this.L, -n - 1); }
  type(i: number): number { return this.X.lua_type(this.L, i); }
  pushNil(): void { this.X.lua_pushnil(this.L); }
  pushBoolean(b: boolean): void { this.X.lua_pushboolean(this.L, b ? 1 : 0); }
  pushNumber(n: number): void { this.X.lua_pushnumber(this.L, n); }
  pushString(s: string): void { this.X.lua_pushlstring(this.L, this.put(s), s.length); }
  pushValue(i: number): void { this.X.lua_pushvalue(this.L, i); }
  newTable(narr = 0, nrec = 0): void { this.X.lua_createtable(this.L, narr, nrec); }
  toNumber(i: number): number { return this.X.lua_tonumber(this.L, i); }
  toBoolean(i: number): boolean { return this.X.lua_toboolean(this.L, i) !== 0; }
  isNumber(i: number): boolean { return this.X.lua_isnumber(this.L, i) !== 0; }
  /** The string at i (a number is converted in place, as lua_tolstring does), or null. */
  toString(i: number): string | null {
    const p = this.X.lua_tolstring(this.L, i, this.lenPtr);
    if (!p) return null;
    const n = this.M.HEAPU32[this.lenPtr >> 2];
    return this.heap().latin1Slice(p, p + n);
  }
  /** t[name] with t at i, raw, pushed. */
  rawGetField(i: number, name: string): void {
    const t = i < 0 && i > LUA_REGISTRYINDEX ? this.top() + i + 1 : i;
    this.pushString(name);
    this.X.lua_rawget(this.L, t);
  }
  /** t[name] = top, raw, with t at i; pops the value. */
  rawSetField(i: number, name: string): void {
    const t = i < 0 && i > LUA_REGISTRYINDEX ? this.top() + i + 1 : i;
    this.pushString(name);
    this.X.lua_insert(this.L, -2);
    this.X.lua_rawset(this.L, t);
  }
  rawGetI(i: number, n: number): void { this.X.lua_rawgeti(this.L, i, n); }
  /** t[k] = v with t at i and k, v on top (popped), through metamethods. */
  setTable(i: number): void { this.X.lua_settable(this.L, i); }
  /** t[k] with t at i and k on top (replaced by the value), through metamethods. */
  getTable(i: number): void { this.X.lua_gettable(this.L, i); }
  rawSetI(i: number, n: number): void { this.X.lua_rawseti(this.L, i, n); }
  /** lua_next on the table at i: pushes the next key and value, or returns false. */
  next(i: number): boolean { return this.X.lua_next(this.L, i) !== 0; }
  /** Registers fn as a C function: t[name] = fn for the table at i. fn reads its arguments from the
   *  stack and returns how many results it pushed. A JS exception must never cross the VM, so one
   *  that escapes fn becomes a Lua error. */
  setFunction(i: number, name: string, fn: () => number): void {
    const t = i < 0 && i > LUA_REGISTRYINDEX ? this.top() + i + 1 : i;
    this.pushString(name);
    this.pushFunction(fn);
    this.X.lua_rawset(this.L, t);
  }
  /** Pushes fn as a C function (see setFunction). */
  pushFunction(fn: () => number): void {
    this.X.lua_pushcclosure(this.L, this.hostFunction(fn), 0);
  }
  /** luaL_checkinteger: argument n as an integer, or Lua's "bad argument" error. */
  checkInteger(n: number): number { return this.X.luaL_checkinteger(this.L, n); }
  /** luaL_argerror: raises "bad argument #n to '<function>' (msg)", with the caller's place. */
  argError(n: number, msg: string): number {
    this.X.luaL_argerror(this.L, n, this.putCString(msg));
    throw LUA_RAISE; // not reached
  }
  /** luaL_error: raises msg after the place in the script that called us (luaL_where). */
  raiseWhere(msg: string): number {
    this.X.luaL_where(this.L, 1);
    const where = this.toString(-1) ?? "";
    this.pop();
    this.pushString(where + msg);
    return this.raise();
  }
  /** Raises the value on top of the stack as a Lua error (lua_error). Returns never. */
  raise(): number {
    this.X.lua_error(this.L);
    throw LUA_RAISE; // not reached: lua_error unwinds with the VM's own exception
  }
  /** Compiles a chunk and leaves the function on the stack; returns the error message instead. */
  load(code: string, chunkName: string): string | null {
    const name = this.M.stringToNewUTF8(chunkName);
    const status = this.X.luaL_loadbuffer(this.L, this.put(code), code.length, name);
    this.X.free(name);
    if (status === 0) return null;
    const msg = this.toString(-1) ?? "";
    this.pop();
    return msg;
  }
  /** lua_pcall with the error handler at `handler` (0 for none); returns the status. */
  pcall(nargs: number, nresults: number, handler: number): number { return this.X.lua_pcall(this.L, nargs, nresults, handler); }
  /** A reference in the registry to the value on top (popped), and back. */
  ref(): number { return this.X.luaL_ref(this.L, LUA_REGISTRYINDEX); }
  unref(r: number): void { this.X.luaL_unref(this.L, LUA_REGISTRYINDEX, r); }
  getRef(r: number): void { this.rawGetI(LUA_REGISTRYINDEX, r); }
  /** Makes the table on top (popped) the environment of the function at i (lua_setfenv). */
  setFenv(i: number): void { this.X.lua_setfenv(this.L, i); }
  /** Makes the table on top (popped) the globals of every chunk compiled from now on. */
  replaceGlobals(): void { this.X.lua_replace(this.L, LUA_GLOBALSINDEX); }
  /** Calls `hook` every `count` instructions on the main state and the threads made after (a new
   *  thread inherits its maker's hook); with `everyLine`, at every line instead. The hook may raise
   *  or yield. Only on the current state when `everyLine` is set. */
  setHook(count: number, hook: () => void, everyLine = false): void {
    this.hookFp ||= this.M.addFunction((calledOn: number) => {
      const outer = this.L;
      this.L = calledOn;
      try { this.hookFn(); } finally { this.L = outer; }
    }, "vii");
    this.hookFn = hook;
    this.X.lua_sethook(this.L, this.hookFp, everyLine ? LUA_MASKLINE : LUA_MASKCOUNT, count);
  }
  private hookFp = 0;
  private hookFn: () => void = () => {};
  /** A new thread (coroutine) pushed on the current stack; returns its state. */
  newThread(): number { return this.X.lua_newthread(this.L); }
  /** Moves n values from the top of `from`'s stack to `to`'s. */
  xmove(from: number, to: number, n: number): void { this.X.lua_xmove(from, to, n); }
  /** lua_resume of a thread with nargs on its stack: 0 when its function returned (the results on
   *  its stack), LUA_YIELD when it yielded, an error status (the error on its stack) otherwise. */
  resume(thread: number, nargs: number): number {
    const outer = this.L;
    try { return this.X.lua_resume(thread, nargs); } finally { this.L = outer; }
  }
  /** Yields the current thread, from a hook or as a C function's `return lua.yield()`. Only when
   *  canYield(): otherwise Lua raises "attempt to yield across metamethod/C-call boundary". */
  yield(): number { return this.X.lua_yield(this.L, 0); }
  /** True when the current thread may yield: no C function (pcall, a metamethod, sort's compare)
   *  stands between it and its resume. Lua 5.1 has no API for it; the test lua_yield makes reads
   *  two fields of lua_State, nCcalls and baseCcalls (wasm32 offsets 52 and 54; checkLayout). */
  canYield(): boolean {
    const base = this.M.HEAPU16[(this.L + 54) >> 1];
    return base > 0 && this.M.HEAPU16[(this.L + 52) >> 1] === base;
  }
  /** Checks the lua_State offsets canYield reads, on this build: a C function called from a thread
   *  sees nCcalls == baseCcalls > 0, and one under pcall in it sees one more. */
  checkLayout(): boolean {
    const seen: number[][] = [];
    const T = this.newThread();
    const outer = this.L;
    this.L = T;
    this.pushFunction(() => { seen.push([this.M.HEAPU16[(this.L + 52) >> 1], this.M.HEAPU16[(this.L + 54) >> 1]]); return 0; });
    this.rawSetField(LUA_REGISTRYINDEX, "__redbun_probe");
    const err = this.load("local p = ...; p(); pcall(p)", "=probe");
    this.L = outer;
    if (err !== null) return false;
    this.L = T;
    this.rawGetField(LUA_REGISTRYINDEX, "__redbun_probe");
    this.L = outer;
    const status = this.resume(T, 1);
    this.pop(); // the thread
    return status === 0 && seen.length === 2 && seen[0][1] > 0 && seen[0][0] === seen[0][1] && seen[1][0] === seen[0][1] + 1;
  }
  /** Kilobytes the state uses (lua_gc LUA_GCCOUNT), and a collection step. */
  memoryKb(): number { return this.X.lua_gc(this.L, 3, 0); }
  gcStep(n: number): void { this.X.lua_gc(this.L, 5, n); }
  /** luaL_checknumber: argument n as a number (a double: this build's lua_Integer is 32 bits, so a
   *  library that needs C's 64-bit integers converts this itself), or the "bad argument" error. */
  checkNumber(n: number): number { return this.X.luaL_checknumber(this.L, n); }
  /** luaL_checklstring: argument n as a latin1 string (a number is converted in place), or the error. */
  checkString(n: number): string {
    const p = this.X.luaL_checklstring(this.L, n, this.lenPtr);
    const len = this.M.HEAPU32[this.lenPtr >> 2];
    return this.heap().latin1Slice(p, p + len);
  }
  /** luaL_checkstack: room for n more values, or the error "stack overflow (what)". */
  checkStackOrRaise(n: number, what: string): void {
    if (!this.checkStack(n)) this.raiseWhere(`stack overflow (${what})`);
  }
  /** Moves the value on top into position i, shifting up the ones above it (lua_insert). */
  insert(i: number): void { this.X.lua_insert(this.L, i); }
  /** The 64 bits of the number at stack index i, as stored. A NaN's sign and payload survive here;
   *  through lua_tonumber a JS number may not keep them (engines canonicalize NaNs). */
  numberBits(i: number): bigint { return new DataView(this.M.HEAPU8.buffer).getBigUint64(this.slot(i), true); }
  /** Pushes the number whose 64 bits are given (any NaN, exactly; see numberBits). */
  pushNumberBits(bits: bigint): void {
    this.pushNumber(0);
    new DataView(this.M.HEAPU8.buffer).setBigUint64(this.slot(-1), bits, true);
  }
  /** The address of the value at stack index i (not a pseudo-index): this build's lua_State has
   *  top at offset 8 and base at 12, and a TValue is 16 bytes, the number first. */
  private slot(i: number): number {
    const H = this.M.HEAPU32;
    return i > 0 ? H[(this.L + 12) >> 2] + (i - 1) * 16 : H[(this.L + 8) >> 2] + i * 16;
  }
  /** fn as a C function's address, for pushFunction and pushClosure. Each one takes a slot of the
   *  WebAssembly function table for good: make one per function, not one per push. */
  hostFunction(fn: () => number): number {
    return this.M.addFunction((calledOn: number) => {
      const outer = this.L;
      this.L = calledOn;
      try {
        return fn();
      } catch (err) {
        // lua_error unwinds as Emscripten's longjmp, a thrown number: it must pass.
        if (typeof err === "number" || err === LUA_RAISE) throw err;
        this.setTop(0);
        this.pushString(`internal error: ${(err as Error).message}`);
        return this.raise();
      } finally {
        this.L = outer;
      }
    }, "ii");
  }
  /** Pushes the C function at fp (from hostFunction) with the n values on top as its upvalues,
   *  which it reads at the pseudo-indices LUA_GLOBALSINDEX - 1, - 2 ... (lua_upvalueindex). */
  pushClosure(fp: number, n: number): void { this.X.lua_pushcclosure(this.L, fp, n); }
  /** A new full userdata of `size` bytes, pushed; returns its address. */
  newUserdata(size: number): number { return this.X.lua_newuserdata(this.L, size); }
  /** The address of the userdata at i (full or light), 0 if it is not one. */
  toUserdata(i: number): number { return this.X.lua_touserdata(this.L, i); }
  pushLightUserdata(p: number): void { this.X.lua_pushlightuserdata(this.L, p); }
  /** A 32-bit integer of the heap (a userdata's field), read and written. */
  readInt32(addr: number): number { return this.M.HEAP32[addr >> 2]; }
  writeInt32(addr: number, v: number): void { this.M.HEAP32[addr >> 2] = v; }
  /** luaL_typerror: raises "bad argument #n to '<function>' (<tname> expected, got <type>)". */
  typeError(n: number, tname: string): number {
    this.X.luaL_typerror(this.L, n, this.putCString(tname));
    throw LUA_RAISE; // not reached
  }
  /** luaL_checkany: an error unless there is an argument n. */
  checkAny(n: number): void { this.X.luaL_checkany(this.L, n); }
  /** luaL_callmeta: if the value at i has the metamethod `event`, pushes what it returns. */
  callMeta(i: number, event: string): boolean { return this.X.luaL_callmeta(this.L, i, this.putCString(event)) !== 0; }
  /** lua_topointer: the address of the table, function, thread or userdata at i, else 0. */
  toPointer(i: number): number { return this.X.lua_topointer(this.L, i); }
  /** Copies s into the heap with a NUL after it, for the C functions that take a char *. */
  private putCString(s: string): number {
    const p = this.room(s.length + 1);
    this.heap().latin1Write(s + "\0", p, s.length + 1);
    return p;
  }
}
/** Thrown by Lua.raise past lua_error, which never returns. */
const LUA_RAISE = Symbol("lua error");

// --- The sandbox, made once at start-up (and again by SCRIPT FLUSH).

/** Lua run once on a new state, with the real globals: Redis 7.0's environment for scripts. */
const LUA_SANDBOX = `
local hook_yielded, pass_yield, register_function = ...
local globals = _G -- the real table, before _G becomes its read-only proxy
local raw_rawget, raw_rawset, raw_setmetatable, raw_next, raw_pcall = rawget, rawset, setmetatable, next, pcall
local raw_loadstring, raw_load = loadstring, load
local co_create, co_resume, co_status, co_running, co_yield = coroutine.create, coroutine.resume, coroutine.status, coroutine.running, coroutine.yield
local type, error, tostring, dbg = type, error, tostring, debug
-- What Redis's environment does not have.
for _, name in ipairs({"debug", "print", "dofile", "loadfile", "require", "module", "package", "io", "os",
                       "getfenv", "setfenv", "newproxy"}) do _G[name] = nil end
-- Where an error happened, Redis's way: the function that raised it, or, when that is a C
-- function, its caller. This chunk's functions stand in for Redis's C code: the place is where
-- the script called them. info(level) is debug.getinfo for a level of the failing stack.
local function error_table(err, info, level)
  local i = info(level)
  if i and i.what == 'C' then level = level + 1; i = info(level) end
  while i and (i.source == '@sandbox' or i.what == 'tail') do
    level = level + 1; i = info(level)
    if i and i.what == 'C' then level = level + 1; i = info(level) end
  end
  if type(err) ~= 'table' then err = {err = 'ERR ' .. tostring(err)} end
  if i then err['source'] = i.source; err['line'] = i.currentline end
  return err
end
-- The error handler as Redis has it, a global: a table {err=, source=, line=} for the caller.
function __redis__err__handler(err)
  return error_table(err, function(level) return dbg.getinfo(level + 1, 'nSl') end, 2)
end
-- The same for a script that failed in its thread (scripts run in a coroutine, see below).
local function thread_error(co, err)
  return error_table(err, function(level) return dbg.getinfo(co, level, 'nSl') end, 0)
end
-- Scripts run in a coroutine, so that past busy-reply-threshold the time-limit hook can yield
-- to the server, which then answers other clients (BUSY, SCRIPT KILL) and resumes the script.
-- A yield cannot cross a C function, so pcall runs a Lua function in a coroutine of its own and
-- passes such a yield on; coroutine.resume and wrap do the same for the script's coroutines. To
-- the script, its own thread and pcall's look like Redis's main thread.
local user_threads = raw_setmetatable({}, {__mode = 'k'})
local function finish(co, ...)
  if co_status(co) == 'suspended' and hook_yielded() then
    pass_yield()
    return finish(co, co_resume(co))
  end
  return ...
end
-- pcall gives back the message of a redis.call error table, as Redis 7's pcall does.
local function pcall_result(ok, ...)
  if ok then return true, ... end
  local e = ...
  if type(e) == 'table' then
    local m = e.err
    if type(m) == 'string' or type(m) == 'number' then e = m end
  end
  return false, e
end
_G.pcall = function(f, ...)
  if type(f) ~= 'function' or dbg.getinfo(f, 'S').what == 'C' then return pcall_result(raw_pcall(f, ...)) end
  local co = co_create(f)
  return pcall_result(finish(co, co_resume(co, ...)))
end
coroutine.create = function(f)
  local co = co_create(f)
  user_threads[co] = true
  return co
end
coroutine.resume = function(co, ...)
  return finish(co, co_resume(co, ...))
end
-- A failed wrapped coroutine's message gets the caller's place in front, as Lua's own wrap
-- does: results is not a tail call, so level 3 is the script's call of the wrapper.
local function pass(...) return ... end
coroutine.wrap = function(f)
  local co = coroutine.create(f)
  local function results(ok, ...)
    if ok then return ... end
    local e = ...
    if type(e) == 'string' or type(e) == 'number' then error(e, 3) end
    error(e, 0)
  end
  return function(...)
    return pass(results(finish(co, co_resume(co, ...))))
  end
end
coroutine.running = function()
  local co = co_running()
  if user_threads[co] then return co end
  return nil
end
coroutine.yield = function(...)
  if not user_threads[co_running()] then error("attempt to yield across metamethod/C-call boundary", 0) end
  return co_yield(...)
end
-- Redis's Lua loads source only: a precompiled chunk fails as the text parser sees it.
local function chunkid(name)
  local c = name:sub(1, 1)
  if c == '=' or c == '@' then return name:sub(2) end
  local s = name:match('^[^%z]*')
  local line = s:match('^[^\\n\\r]*')
  if #line > 43 or #line < #s then return '[string "' .. line:sub(1, 43) .. '..."]' end
  return '[string "' .. s .. '"]'
end
_G.loadstring = function(s, name)
  if type(s) == 'string' and s:byte(1) == 27 then
    return nil, chunkid(type(name) == 'string' and name or s) .. ":1: unexpected symbol near 'char(27)'"
  end
  return raw_loadstring(s, name)
end
_G.load = function(f, name)
  if type(f) ~= 'function' then return raw_load(f, name) end
  local first = f()
  if type(first) == 'string' and first:byte(1) == 27 then
    return nil, chunkid(type(name) == 'string' and name or '=(load)') .. ":1: unexpected symbol near 'char(27)'"
  end
  local pending = first
  return raw_load(function()
    local p = pending
    if p ~= nil then pending = nil; return p end
    return f()
  end, name)
end
-- Read-only tables: a proxy per protected table reads through and refuses writes.
local real = {}
local function refuse() error("Attempt to modify a readonly table", 2) end
local function protect(t)
  local p = {}
  real[p] = t
  raw_setmetatable(p, {__index = t, __newindex = refuse, __metatable = p})
  return p
end
_G.rawset = function(t, k, v)
  if real[t] then error("Attempt to modify a readonly table", 0) end
  return raw_rawset(t, k, v)
end
_G.setmetatable = function(t, mt)
  if real[t] then error("Attempt to modify a readonly table", 0) end
  return raw_setmetatable(t, mt)
end
_G.rawget = function(t, k) return raw_rawget(real[t] or t, k) end
local function see_through_next(t, k) return raw_next(real[t] or t, k) end
_G.next = see_through_next
_G.pairs = function(t) return see_through_next, t, nil end
for _, name in ipairs({"string", "table", "math", "coroutine", "redis", "cjson", "struct", "cmsgpack", "bit"}) do
  _G[name] = protect(_G[name])
end
getmetatable("").__index = _G.string
-- Reading a global that does not exist is an error.
raw_setmetatable(_G, {__index = function(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end})
local g = protect(_G)
raw_rawset(_G, "_G", g)
-- Functions (FUNCTION LOAD, FCALL). Redis runs them in a second Lua state; here they share this
-- one, under globals of their own that refuse writes. While FUNCTION LOAD runs a library's code,
-- a read sees only the library API (redis.register_function, redis.log, the constants); when a
-- function runs, it sees what scripts see, less KEYS and ARGV (a function gets them as arguments).
local function nonexistent(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end
local lib_redis = raw_setmetatable({register_function = register_function, log = redis.log}, {__index = nonexistent})
for _, k in ipairs({"LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING", "REDIS_VERSION", "REDIS_VERSION_NUM"}) do
  raw_rawset(lib_redis, k, redis[k])
end
lib_redis = protect(lib_redis)
local function library_api(_, k)
  if k == 'redis' then return lib_redis end
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end
-- Functions have a cjson of their own, as Redis's have their own Lua state: their settings are
-- not the scripts', and SCRIPT FLUSH leaves them.
local function_cjson = protect(cjson.new())
local function function_globals(_, k)
  if k == 'cjson' then return function_cjson end
  local v = raw_rawget(globals, k)
  if v == nil or k == 'KEYS' or k == 'ARGV' then
    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
  end
  return v
end
local fenv_meta = {__index = function_globals, __newindex = refuse}
local fenv = raw_setmetatable({}, fenv_meta)
local function set_loading(loading)
  fenv_meta.__index = loading and library_api or function_globals
end
return g, thread_error, real, fenv, set_loading
`;

/** Creates the Lua state scripts run in: the libraries, the redis table, the sandbox. */
async function scriptingCreateLua(): Promise<Lua> {
  const lua = await Lua.create();
  // Redis's own libraries, then the redis table and math's random functions, before the sandbox locks them.
  luaOpenCjson(lua);
  luaOpenStruct(lua);
  luaOpenCmsgpack(lua);
  luaOpenBit(lua);
  lua.newTable();
  lua.setFunction(-1, "call", () => luaRedisCall(true));
  lua.setFunction(-1, "pcall", () => luaRedisCall(false));
  lua.setFunction(-1, "sha1hex", luaSha1hex);
  lua.setFunction(-1, "error_reply", luaErrorReply);
  lua.setFunction(-1, "status_reply", luaStatusReply);
  lua.setFunction(-1, "log", luaLog);
  lua.setFunction(-1, "setresp", luaSetResp);
  lua.setFunction(-1, "set_repl", luaSetRepl);
  lua.setFunction(-1, "replicate_commands", () => { lua.pushBoolean(true); return 1; });
  lua.setFunction(-1, "breakpoint", () => { lua.pushBoolean(false); return 1; }); // no debugging session
  lua.setFunction(-1, "debug", () => 0);
  lua.setFunction(-1, "acl_check_cmd", luaAclCheckCmd);
  for (const [name, v] of [["LOG_DEBUG", 0], ["LOG_VERBOSE", 1], ["LOG_NOTICE", 2], ["LOG_WARNING", 3], ["REPL_NONE", 0], ["REPL_AOF", 1],
    ["REPL_SLAVE", 2], ["REPL_REPLICA", 2], ["REPL_ALL", 3], ["REDIS_VERSION_NUM", REDIS_VERSION_NUM]] as const) {
    lua.pushNumber(v);
    lua.rawSetField(-2, name);
  }
  lua.pushString(REDIS_VERSION);
  lua.rawSetField(-2, "REDIS_VERSION");
  lua.rawSetField(LUA_GLOBALSINDEX, "redis");
  lua.rawGetField(LUA_GLOBALSINDEX, "math");
  lua.setFunction(-1, "random", luaMathRandom);
  lua.setFunction(-1, "randomseed", luaMathRandomseed);
  lua.pop();
  const err = lua.load(LUA_SANDBOX, "@sandbox");
  if (err !== null) throw new Error(`Lua sandbox: ${err}`);
  // Its two helpers for the yields of the time-limit hook (see scriptingHook).
  lua.pushFunction(() => {
    lua.pushBoolean(scripting.hookYield);
    scripting.hookYield = false;
    return 1;
  });
  lua.pushFunction(() => {
    if (!lua.canYield()) return 0; // under a C function: the script goes on without yielding
    scripting.hookYield = true;
    return lua.yield();
  });
  lua.pushFunction(luaRegisterFunction);
  if (lua.pcall(3, 5, 0) !== 0) throw new Error(`Lua sandbox: ${lua.toString(-1)}`);
  functions.setLoading = lua.ref();
  functions.env = lua.ref();
  scripting.proxyTargets = lua.ref();
  scripting.threadError = lua.ref();
  // The proxy of the globals becomes the globals every script is compiled with; the real table
  // stays reachable from here, for KEYS and ARGV.
  lua.pushValue(LUA_GLOBALSINDEX);
  scripting.realGlobals = lua.ref();
  lua.replaceGlobals();
  // Every 100,000 instructions (Redis's period) the hook checks busy-reply-threshold, if the
  // build's lua_State is laid out as canYield expects; if not, scripts run uninterrupted.
  if (lua.checkLayout()) lua.setHook(100000, scriptingHook);
  else log("warning", "Lua: unexpected lua_State layout; long scripts will not be interruptible (no BUSY, no SCRIPT KILL)");
  return lua;
}

// --- Scripts and their flags.

const SCRIPT_FLAG_NO_WRITES = 1, SCRIPT_FLAG_ALLOW_OOM = 2, SCRIPT_FLAG_ALLOW_STALE = 4, SCRIPT_FLAG_NO_CLUSTER = 8,
  SCRIPT_FLAG_ALLOW_CROSS_SLOT = 16, SCRIPT_FLAG_EVAL_COMPAT_MODE = 32;
const SCRIPT_FLAG_NAMES: Record<string, number> = {
  "no-writes": SCRIPT_FLAG_NO_WRITES, "allow-oom": SCRIPT_FLAG_ALLOW_OOM, "allow-stale": SCRIPT_FLAG_ALLOW_STALE,
  "no-cluster": SCRIPT_FLAG_NO_CLUSTER, "allow-cross-slot-keys": SCRIPT_FLAG_ALLOW_CROSS_SLOT,
};

/** A cached script: its body, its shebang flags, its compiled function (a registry reference). */
interface LuaScript { body: string; flags: number; ref: number }

/** The flags of a script's `#!lua flags=...` line (COMPAT_MODE without one), and the line's length;
 *  or Redis's error text. */
function evalExtractShebangFlags(body: string): { flags: number; shebangLen: number } | { err: string } {
  if (!body.startsWith("#!")) return { flags: SCRIPT_FLAG_EVAL_COMPAT_MODE, shebangLen: 0 };
  const end = body.indexOf("\n");
  if (end < 0) return { err: "Invalid script shebang" };
  const parts = splitArgs(body.slice(0, end));
  if (!parts || parts.length === 0) return { err: "Invalid engine in script shebang" };
  if (parts[0] !== "#!lua") return { err: `Unexpected engine in script shebang: ${parts[0]}` };
  let flags = 0;
  for (const part of parts.slice(1)) {
    if (!part.startsWith("flags=")) return { err: `Unknown lua shebang option: ${part}` };
    for (const f of part.length > 6 ? part.slice(6).split(",") : []) {
      const bit = SCRIPT_FLAG_NAMES[f];
      if (bit === undefined) return { err: `Unexpected flag in script shebang: ${f}` };
      flags |= bit;
    }
  }
  return { flags, shebangLen: end };
}

function sha1hex(s: string): string { return new Bun.CryptoHasher("sha1").update(s, "latin1").digest("hex"); }

/** Compiles a script into the cache (SCRIPT LOAD, EVAL of a new body); returns its SHA1, or
 *  undefined after replying the compile error. */
function luaCreateFunction(c: Client, body: string): string | undefined {
  const sha = sha1hex(body);
  if (scripting.scripts.has(sha)) return sha;
  const shebang = evalExtractShebangFlags(body);
  if ("err" in shebang) { addReplyError(c, `ERR ${shebang.err}`); return undefined; }
  const lua = scripting.lua!;
  // The shebang line is skipped, its line feed kept, so line numbers stay the user's.
  const err = lua.load(body.slice(shebang.shebangLen), "@user_script");
  if (err !== null) { addReplyError(c, `ERR Error compiling script (new function): ${err}`); return undefined; }
  scripting.scripts.set(sha, { body, flags: shebang.flags, ref: lua.ref() });
  scripting.scriptsMemory += body.length + 40 + MEM_KEY_OVERHEAD;
  return sha;
}

/** A script's flags as command flags, for processCommand's gates (Redis's evalGetCommandFlags):
 *  a script with a shebang declares whether it writes, may run out of memory, or runs stale. */
function evalCommandFlags(argv: string[], cmd: RedisCommand): number {
  const evalsha = cmd.name.startsWith("evalsha");
  if (argv.length < 2 || (evalsha && argv[1].length !== 40)) return cmd.flags;
  const script = scripting.scripts.get(evalsha ? argv[1].toLowerCase() : sha1hex(argv[1]));
  let flags: number;
  if (script) flags = script.flags;
  else if (evalsha) return cmd.flags;
  else {
    const shebang = evalExtractShebangFlags(argv[1]);
    if ("err" in shebang) return cmd.flags;
    flags = shebang.flags;
  }
  return scriptFlagsToCmdFlags(cmd.flags, flags);
}

/** Command flags as a script's flags make them (Redis's scriptFlagsToCmdFlags). */
function scriptFlagsToCmdFlags(cmdFlags: number, flags: number): number {
  if (flags & SCRIPT_FLAG_EVAL_COMPAT_MODE) return cmdFlags;
  let out = cmdFlags & ~(CMD_STALE | CMD_DENYOOM | CMD_WRITE | CMD_MAY_REPLICATE);
  if (!(flags & (SCRIPT_FLAG_ALLOW_OOM | SCRIPT_FLAG_NO_WRITES))) out |= CMD_DENYOOM;
  if (!(flags & SCRIPT_FLAG_NO_WRITES)) out |= CMD_WRITE;
  if (flags & SCRIPT_FLAG_ALLOW_STALE) out |= CMD_STALE;
  return out;
}

// --- A run: what redis.call needs to know about the script it runs in.

interface ScriptRun {
  caller: Client; // who sent EVAL
  argv: string[]; // what it sent (FUNCTION STATS shows it)
  readOnly: boolean; // EVAL_RO, or a no-writes script: every write is refused
  allowOom: boolean;
  oomAtStart: boolean; // maxmemory was exceeded when the script started
  writeDirty: boolean; // a write ran: later ones are not refused for server state, it can't stop halfway
  replTargets: number; // redis.set_repl
  start: number; // wall clock, for busy-reply-threshold
  cmdTime: number; // the time the script's commands see, frozen at its start
  name: string; // what errors and logs call it: the SHA1 (EVAL) or the function's name (FCALL)
  isEval: boolean; // EVAL's family, not FCALL's: SCRIPT KILL, not FUNCTION KILL, ends it
  thread: number; // the Lua thread it runs in, kept alive by a registry reference
  threadRef: number;
  canSuspend: boolean; // a top-level call from a client: it may give way to the event loop
  timedOut: boolean; // past busy-reply-threshold
  killed: boolean; // SCRIPT KILL asked for its end
}

/** The checks before a script runs (Redis's scriptPrepareForRun): a script with a shebang declares
 *  what it does, and is refused up front when the server state forbids it. Returns the run, or
 *  null after replying. */
function scriptPrepareForRun(c: Client, flags: number, ro: boolean): ScriptRun | null {
  const stale = isReplica() && repl.state !== "connected" && !conf["replica-serve-stale-data"];
  const oom = hot.maxmemory > 0 && usedMemory() > hot.maxmemory;
  if (!(flags & SCRIPT_FLAG_EVAL_COMPAT_MODE)) {
    if (stale && !(flags & SCRIPT_FLAG_ALLOW_STALE)) {
      addReplyError(c, "MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set on the script.");
      return null;
    }
    if (!(flags & SCRIPT_FLAG_NO_WRITES)) {
      if (isReplica() && conf["replica-read-only"] && !c.isMaster && !c.isAof) {
        addReplyError(c, "READONLY Can not run script with write flag on readonly replica");
        return null;
      }
      const disk = diskWriteError();
      if (disk && !c.isMaster) {
        addReplyError(c, disk === E.misconfRdb
          ? "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts."
          : `MISCONF Redis is configured to persist data to AOF, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts. AOF error: ${aof.writeErr}`);
        return null;
      }
      if (ro) { addReplyError(c, "ERR Can not execute a script with write flag using *_ro command."); return null; }
      if (!isReplica() && !enoughGoodReplicas()) { addReplyError(c, "NOREPLICAS Not enough good replicas to write."); return null; }
    }
    if (oom && !(flags & (SCRIPT_FLAG_ALLOW_OOM | SCRIPT_FLAG_NO_WRITES))) {
      addReplyError(c, "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'");
      return null;
    }
  } else if (stale) {
    addReplyError(c, "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
    return null;
  }
  const compat = (flags & SCRIPT_FLAG_EVAL_COMPAT_MODE) !== 0;
  return {
    caller: c, argv: c.argv, readOnly: ro || (!compat && (flags & SCRIPT_FLAG_NO_WRITES) !== 0), allowOom: !compat && (flags & SCRIPT_FLAG_ALLOW_OOM) !== 0,
    oomAtStart: oom, writeDirty: false, replTargets: PROPAGATE_AOF | PROPAGATE_REPL, start: wallClock(), cmdTime,
    name: "", isEval: true, thread: 0, threadRef: 0, canSuspend: callDepth === 1 && c.sock !== null && !c.isMaster, timedOut: false, killed: false,
  };
}

/** Runs one command for a script (Redis's scriptCall), through the scripting client. Returns null
 *  (the reply is in the client's output buffer) or the error, as "-CODE message" or a plain
 *  message that takes ERR. */
function scriptCall(run: ScriptRun, argv: string[]): string | null {
  const c = scripting.client!, cmd = lookupCommand(argv);
  c.user = run.caller.user;
  if (!cmd || (cmd.arity > 0 && argv.length !== cmd.arity) || argv.length < -cmd.arity) {
    return cmd ? "Wrong number of args calling Redis command from script" : "Unknown Redis command called from script";
  }
  const refuse = (err: string) => {
    cmd.rejectedCalls++;
    countErrorReply(err.startsWith("-") ? err.slice(1) : `ERR ${err}`);
    errorsSeen = stats.errorReplies;
    return err;
  };
  if (cmd.flags & CMD_NOSCRIPT) return refuse("This Redis command is not allowed from script");
  if (isReplica() && repl.state !== "connected" && !conf["replica-serve-stale-data"] && !(cmd.flags & CMD_STALE)) {
    return refuse("Can not execute the command on a stale replica");
  }
  if (c.user && !c.user.unrestricted) {
    const denied = aclCheckCommand(c.user, cmd, argv);
    if (denied) {
      aclLogDenied(c, denied, cmd, argv, "lua");
      return refuse(`The user executing the script ${denied === DENIED_CMD ? "can't run this command or subcommand"
        : denied === DENIED_KEY ? "can't access at least one of the keys mentioned in the command arguments"
          : "can't publish to the channel mentioned in the command"}`);
    }
  }
  if (run.readOnly && cmd.flags & (CMD_WRITE | CMD_MAY_REPLICATE)) return refuse("Write commands are not allowed from read-only scripts.");
  if (cmd.flags & CMD_WRITE && !run.writeDirty) {
    if (isReplica() && conf["replica-read-only"] && !run.caller.isMaster && !run.caller.isAof) return refuse("-READONLY You can't write against a read only replica.");
    const disk = diskWriteError();
    if (disk) return refuse(`-${disk}`);
    if (!isReplica() && !enoughGoodReplicas()) return refuse("-NOREPLICAS Not enough good replicas to write.");
  }
  if (!run.allowOom && hot.maxmemory && !run.caller.isMaster && !run.writeDirty && run.oomAtStart && cmd.flags & CMD_DENYOOM) {
    return refuse("-OOM command not allowed when used memory > 'maxmemory'.");
  }
  if (cmd.flags & CMD_WRITE) run.writeDirty = true;
  c.argv = argv;
  c.propTargets = run.replTargets;
  call(c, cmd);
  c.argv = NO_ARGV;
  currentClient = run.caller;
  return null;
}

// --- The redis table's functions. Each reads its arguments from the Lua stack and returns how
// many results it pushed.

/** Pushes a redis.pcall-style error table for `err` ("-CODE msg" keeps its code, "msg" takes ERR),
 *  as Redis's luaPushErrorBuff. */
function luaPushErrorTable(err: string): void {
  const lua = scripting.lua!;
  let code = "ERR", msg = err;
  if (err.startsWith("-")) {
    const sp = err.indexOf(" ");
    if (sp < 0) msg = err.slice(1);
    else { code = err.slice(1, sp); msg = err.slice(sp + 1); }
  }
  msg = msg.replace(/^[\r\n]+|[\r\n]+$/g, "");
  lua.newTable();
  lua.pushString(`${code} ${msg}`);
  lua.rawSetField(-2, "err");
}

/** redis.call (raise) and redis.pcall. */
function luaRedisCall(raise: boolean): number {
  const lua = scripting.lua!, run = scripting.run;
  if (!run) {
    luaPushErrorTable("redis.call/pcall can only be called inside a script invocation");
    return lua.raise();
  }
  const n = lua.top();
  if (n === 0) {
    luaPushErrorTable("Please specify at least one argument for this redis lib call");
    return raise ? lua.raise() : 1;
  }
  const argv: string[] = new Array(n);
  for (let i = 1; i <= n; i++) {
    const t = lua.type(i);
    // A number is formatted with %.17g: Lua's own conversion loses precision.
    const s = t === LUA_TNUMBER ? formatG17(lua.toNumber(i)) : t === LUA_TSTRING ? lua.toString(i) : null;
    if (s === null) {
      lua.setTop(0);
      luaPushErrorTable("Lua redis lib command arguments must be strings or integers");
      return raise ? lua.raise() : 1;
    }
    argv[i - 1] = s;
  }
  lua.setTop(0);
  const err = scriptCall(run, argv);
  const c = scripting.client!;
  if (err !== null) {
    c.outLen = 0;
    luaPushErrorTable(err);
    lua.pushBoolean(true);
    lua.rawSetField(-2, "ignore_error_stats_update");
    return raise ? lua.raise() : 1;
  }
  const isError = c.out[0] === 45;
  luaPushReply(c.out, 0);
  c.outLen = 0;
  return raise && isError ? lua.raise() : 1;
}

/** Pushes the RESP reply at pos as Lua values (Redis's redisProtocolToLuaType); returns the
 *  position after it. */
function luaPushReply(b: Buffer, pos: number): number {
  const lua = scripting.lua!;
  if (!lua.checkStack(3)) throw new Error("lua stack limit reached when parsing redis.call reply");
  const nl = b.indexOf(13, pos);
  const type = b[pos], head = b.latin1Slice(pos + 1, nl);
  let p = nl + 2;
  switch (type) {
    case 43: // + status
      lua.newTable(); lua.pushString(head); lua.rawSetField(-2, "ok");
      return p;
    case 45: // - error
      luaPushErrorTable(`-${head}`);
      lua.pushBoolean(true); lua.rawSetField(-2, "ignore_error_stats_update");
      return p;
    case 58: lua.pushNumber(Number(head)); return p; // : integer
    case 36: { // $ bulk (nil: false)
      const n = Number(head);
      if (n < 0) { lua.pushBoolean(false); return p; }
      lua.pushString(b.latin1Slice(p, p + n));
      return p + n + 2;
    }
    case 42: case 126: case 37: case 62: { // * array, ~ set, % map, > push
      const n = Number(head);
      if (n < 0) { lua.pushBoolean(false); return p; }
      if (type === 42 || type === 62) {
        lua.newTable(n);
        for (let i = 1; i <= n; i++) { p = luaPushReply(b, p); lua.rawSetI(-2, i); }
        return p;
      }
      lua.newTable();
      lua.newTable();
      for (let i = 0; i < n; i++) {
        p = luaPushReply(b, p);
        if (type === 37) p = luaPushReply(b, p);
        else lua.pushBoolean(true);
        lua.setTable(-3);
      }
      lua.rawSetField(-2, type === 37 ? "map" : "set");
      return p;
    }
    case 95: lua.pushNil(); return p; // _ null
    case 35: lua.pushBoolean(head === "t"); return p; // # boolean
    case 44: lua.newTable(); lua.pushNumber(parseRespDouble(head)); lua.rawSetField(-2, "double"); return p; // , double
    case 40: lua.newTable(); lua.pushString(head); lua.rawSetField(-2, "big_number"); return p; // ( big number
    case 61: { // = verbatim: "fmt:text"
      const n = Number(head), text = b.latin1Slice(p, p + n);
      lua.newTable(); lua.newTable();
      lua.pushString(text.slice(4)); lua.rawSetField(-2, "string");
      lua.pushString(text.slice(0, 3)); lua.rawSetField(-2, "format");
      lua.rawSetField(-2, "verbatim_string");
      return p + n + 2;
    }
    case 124: { // | attribute: skipped, then the reply it annotates
      const n = Number(head);
      const top = lua.top();
      for (let i = 0; i < 2 * n; i++) p = luaPushReply(b, p);
      lua.setTop(top);
      return luaPushReply(b, p);
    }
  }
  throw new Error(`unexpected reply type ${type}`);
}

function parseRespDouble(s: string): number { return s === "inf" ? Infinity : s === "-inf" ? -Infinity : s === "nan" ? NaN : Number(s); }

/** redis.sha1hex(string) */
function luaSha1hex(): number {
  const lua = scripting.lua!;
  if (lua.top() !== 1) { luaPushErrorTable("wrong number of arguments"); return lua.raise(); }
  const s = lua.toString(1) ?? "";
  lua.pushString(sha1hex(s));
  return 1;
}

/** redis.error_reply(msg): {err="CODE msg"} (a message without a code takes ERR... unless it
 *  starts with '-', whose first word is the code). */
function luaErrorReply(): number {
  const lua = scripting.lua!;
  if (lua.top() !== 1 || lua.type(-1) !== LUA_TSTRING) { luaPushErrorTable("wrong number or type of arguments"); return 1; }
  const msg = lua.toString(-1)!;
  luaPushErrorTable(msg.startsWith("-") ? msg : `-${msg}`);
  return 1;
}

/** redis.status_reply(msg): {ok=msg} */
function luaStatusReply(): number {
  const lua = scripting.lua!;
  if (lua.top() !== 1 || lua.type(-1) !== LUA_TSTRING) { luaPushErrorTable("wrong number or type of arguments"); return 1; }
  const msg = lua.toString(-1)!;
  lua.newTable(); lua.pushString(msg); lua.rawSetField(-2, "ok");
  return 1;
}

/** redis.log(level, message ...) */
function luaLog(): number {
  const lua = scripting.lua!, n = lua.top();
  if (n < 2) { luaPushErrorTable("redis.log() requires two arguments or more."); return lua.raise(); }
  if (!lua.isNumber(1)) { luaPushErrorTable("First argument must be a number (log level)."); return lua.raise(); }
  const level = Math.trunc(lua.toNumber(1));
  if (level < 0 || level > 3) { luaPushErrorTable("Invalid debug level."); return lua.raise(); }
  const parts: string[] = [];
  for (let i = 2; i <= n; i++) { const s = lua.toString(i); if (s !== null) parts.push(s); }
  log((["debug", "verbose", "notice", "warning"] as const)[level], parts.join(" "));
  return 0;
}

/** redis.setresp(2|3): the protocol redis.call's replies are converted from. */
function luaSetResp(): number {
  const lua = scripting.lua!;
  if (!scripting.run) { luaPushErrorTable("redis.setresp can only be called inside a script invocation"); return lua.raise(); }
  if (lua.top() !== 1) { luaPushErrorTable("redis.setresp() requires one argument."); return lua.raise(); }
  const resp = Math.trunc(lua.toNumber(1));
  if (resp !== 2 && resp !== 3) { luaPushErrorTable("RESP version must be 2 or 3."); return lua.raise(); }
  scripting.client!.resp = resp;
  return 0;
}

/** redis.set_repl(REPL_*): where the script's following writes are propagated. */
function luaSetRepl(): number {
  const lua = scripting.lua!, run = scripting.run;
  if (!run) { luaPushErrorTable("redis.set_repl can only be called inside a script invocation"); return lua.raise(); }
  if (lua.top() !== 1) { luaPushErrorTable("redis.set_repl() requires two arguments."); return lua.raise(); }
  const flags = Math.trunc(lua.toNumber(-1));
  if ((flags & ~(PROPAGATE_AOF | PROPAGATE_REPL)) !== 0) {
    luaPushErrorTable("Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
    return lua.raise();
  }
  run.replTargets = flags;
  return 0;
}

/** redis.acl_check_cmd(command, args ...): may the script's user run it? */
function luaAclCheckCmd(): number {
  const lua = scripting.lua!, run = scripting.run;
  if (!run) { luaPushErrorTable("redis.acl_check_cmd can only be called inside a script invocation"); return lua.raise(); }
  const n = lua.top();
  if (n === 0) { luaPushErrorTable("Please specify at least one argument for this redis lib call"); return lua.raise(); }
  const argv: string[] = [];
  for (let i = 1; i <= n; i++) {
    const s = lua.type(i) === LUA_TNUMBER ? formatG17(lua.toNumber(i)) : lua.type(i) === LUA_TSTRING ? lua.toString(i) : null;
    if (s === null) { luaPushErrorTable("Lua redis lib command arguments must be strings or integers"); return lua.raise(); }
    argv.push(s);
  }
  lua.setTop(0);
  const cmd = lookupCommand(argv);
  if (!cmd) { luaPushErrorTable("Invalid command passed to redis.acl_check_cmd()"); return lua.raise(); }
  const u = run.caller.user;
  lua.pushBoolean(!u || u.unrestricted || aclCheckCommand(u, cmd, argv) === 0);
  return 1;
}

// math.random and math.randomseed: Redis's own rand48, so a seed gives the same sequence as there.
// The 48-bit state is kept as three 16-bit words, as Redis's rand.c keeps it.
const rand48 = { x: [0x330e, 0xabcd, 0x1234] };
function redisLrand48(): number {
  // x = a * x + c (mod 2^48), a = 0x5DEECE66D, c = 0xB, over BigInts for exactness.
  const x = BigInt(rand48.x[0]) | (BigInt(rand48.x[1]) << 16n) | (BigInt(rand48.x[2]) << 32n);
  const next = (x * 0x5deece66dn + 0xbn) & 0xffffffffffffn;
  rand48.x = [Number(next & 0xffffn), Number((next >> 16n) & 0xffffn), Number(next >> 32n)];
  return Number(next >> 17n);
}
function luaMathRandom(): number {
  const lua = scripting.lua!;
  const INT32_MAX = 2147483647;
  const r = (redisLrand48() % INT32_MAX) / INT32_MAX;
  switch (lua.top()) {
    case 0: lua.pushNumber(r); return 1;
    case 1: {
      const u = lua.checkInteger(1);
      if (u < 1) return lua.argError(1, "interval is empty");
      lua.pushNumber(Math.floor(r * u) + 1);
      return 1;
    }
    case 2: {
      const l = lua.checkInteger(1), u = lua.checkInteger(2);
      if (l > u) return lua.argError(2, "interval is empty");
      lua.pushNumber(Math.floor(r * (u - l + 1)) + l);
      return 1;
    }
    default: return lua.raiseWhere("wrong number of arguments");
  }
}
function luaMathRandomseed(): number {
  const seed = scripting.lua!.checkInteger(1) | 0;
  rand48.x = [0x330e, seed & 0xffff, (seed >>> 16) & 0xffff];
  return 0;
}

// --- Redis's Lua libraries: cmsgpack and struct. Redis links them into its Lua in C; here they are
// host functions, opened before the sandbox, that make the C code's Lua stack calls in its order, so
// results, error texts and where the stack runs out match. Their numbers go through C's casts as
// x86-64 (where Redis runs) computes them; the helpers just below do that.

const TWO_63 = 2 ** 63, TWO_64 = 2 ** 64;
/** Scratch for the bytes of floats and doubles. */
const numberScratch = new DataView(new ArrayBuffer(8));

/** C's (int64_t) of a double, as a number: truncated; NaN and what does not fit give INT64_MIN. */
function cInt64(d: number): number {
  return d >= -TWO_63 && d < TWO_63 ? Math.trunc(d) : -TWO_63;
}
/** C's (uint64_t) of a double, as gcc compiles it for x86-64: below 2^63 (negatives and NaN too)
 *  through the signed conversion, wrapped; from 2^63 by subtracting 2^63 first, so 2^64 and more
 *  (and +inf) give 0. */
function cUint64(d: number): bigint {
  if (!(d >= TWO_63)) return BigInt.asUintN(64, BigInt(cInt64(d)));
  return d >= TWO_64 ? 0n : BigInt(d);
}
/** The 64 bits of a double (a NaN only as the canonical one: see Lua.numberBits). */
function doubleBits(d: number): bigint {
  numberScratch.setFloat64(0, d);
  return numberScratch.getBigUint64(0);
}
/** The bits of the float C's (float) makes of the double with these bits: a NaN keeps its sign and
 *  the top of its payload, and becomes quiet, as x86's conversion does. */
function doubleBitsToFloatBits(bits: bigint): number {
  if ((bits & 0x7ff0000000000000n) === 0x7ff0000000000000n && (bits & 0xfffffffffffffn) !== 0n) {
    return (Number(bits >> 63n) ? 0xff800000 : 0x7f800000) + (0x400000 | Number((bits >> 29n) & 0x7fffffn));
  }
  numberScratch.setBigUint64(0, bits);
  numberScratch.setFloat32(0, numberScratch.getFloat64(0));
  return numberScratch.getUint32(0);
}
/** Pushes the float with these bits as a Lua number; a NaN becomes the quiet double NaN x86 makes. */
function luaPushFloatBits(lua: Lua, bits: number): void {
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) {
    lua.pushNumberBits((BigInt(bits >>> 31) << 63n) | 0x7ff8000000000000n | (BigInt(bits & 0x3fffff) << 29n));
  } else {
    numberScratch.setUint32(0, bits);
    lua.pushNumber(numberScratch.getFloat32(0));
  }
}
/** Pushes the double with these bits as a Lua number. */
function luaPushDoubleBits(lua: Lua, bits: bigint): void {
  numberScratch.setBigUint64(0, bits);
  const d = numberScratch.getFloat64(0);
  if (Number.isNaN(d)) lua.pushNumberBits(bits);
  else lua.pushNumber(d);
}
/** The bits of argument i, a number (or a string read as one) whose value d is already known. */
function luaArgNumberBits(lua: Lua, i: number, d: number): bigint {
  if (!Number.isNaN(d)) return doubleBits(d);
  if (lua.type(i) === LUA_TNUMBER) return lua.numberBits(i);
  return glibcNanBits(lua.toString(i) ?? "");
}
/** The NaN glibc's strtod reads from a string that starts with "nan" (this VM's strtod keeps no
 *  payload): quiet, negative after a '-', and "nan(n)" puts n (read as strtoull reads it, base 0,
 *  all of it or nothing) in the low 51 bits. */
function glibcNanBits(s: string): bigint {
  const m = /^\s*([+-]?)nan(?:\(([0-9A-Za-z_]*)\))?/i.exec(s);
  let bits = m?.[1] === "-" ? 0xfff8000000000000n : 0x7ff8000000000000n;
  const n = m?.[2] ?? "";
  if (/^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.test(n)) {
    const v = BigInt(/^0[0-7]+$/.test(n) ? "0o" + n.slice(1) : n);
    bits |= (v > 0xffffffffffffffffn ? 0xffffffffffffffffn : v) & 0x7ffffffffffffn; // strtoull saturates
  }
  return bits;
}
/** luaL_optinteger as 64-bit Lua computes it: argument n truncated to an int64, or def if absent. */
function luaOptInt64(lua: Lua, n: number, def: number): number {
  return lua.type(n) <= LUA_TNIL ? def : cInt64(lua.checkNumber(n));
}
/** n (an integer below 2^53 in magnitude, or a bigint) as `width` bytes, most significant first;
 *  a negative n in two's complement. */
function bytesBigEndian(n: number | bigint, width: number): string {
  if (width === 8) {
    const v = BigInt.asUintN(64, BigInt(n));
    return bytesBigEndian(Number(v >> 32n), 4) + bytesBigEndian(Number(v & 0xffffffffn), 4);
  }
  let s = "";
  for (let i = width - 1; i >= 0; i--) s += String.fromCharCode((Number(n) >>> (8 * i)) & 0xff);
  return s;
}

// cmsgpack: MessagePack as Redis's bundled lua-cmsgpack 0.4.0 writes and reads it.
//
// pack(v, ...) encodes its arguments one after another; unpack(s) decodes every value in s;
// unpack_one(s [, offset]) and unpack_limit(s, limit [, offset]) decode at most that many from a
// 0-based offset and return the next offset first (-1 once s is used up). The encodings are that
// library's choices: an integral number that fits an int64 takes the smallest integer form, any
// other number a float32 if that loses nothing, else a float64; a table whose keys are exactly
// 1..n is an array, any other a map; strings are always str (fixstr, str8, str16, str32), never
// bin; a table nested 16 deep is written as nil, so cycles end. Decoding knows no bin or ext
// type ("Bad data format").

const MP_MAX_NESTING = 16;
const MP_ERR_EOF = 1, MP_ERR_BADFMT = 2;

/** cmsgpack.pack(v, ...): the arguments' encodings, concatenated. */
function mpPack(lua: Lua): number {
  const nargs = lua.top();
  if (nargs === 0) return lua.argError(0, "MessagePack pack needs input.");
  if (!lua.checkStack(nargs)) return lua.argError(0, "Too many arguments for MessagePack pack.");
  const out: string[] = [];
  for (let i = 1; i <= nargs; i++) {
    lua.checkStackOrRaise(1, "in function mp_check");
    lua.pushValue(i);
    mpEncode(lua, out, 0);
    lua.pushNil(); // holds the stack slot where the C code keeps each argument's encoding
  }
  lua.setTop(nargs);
  lua.pushString(out.join(""));
  return 1;
}

/** Appends the encoding of the value on top of the stack, and pops it. `level` counts the tables
 *  it is nested in. */
function mpEncode(lua: Lua, out: string[], level: number): void {
  let t = lua.type(-1);
  if (t === LUA_TTABLE && level === MP_MAX_NESTING) t = LUA_TNIL;
  switch (t) {
    case LUA_TSTRING: mpEncodeString(out, lua.toString(-1)!); break;
    case LUA_TBOOLEAN: out.push(lua.toBoolean(-1) ? "\xc3" : "\xc2"); break;
    case LUA_TNUMBER: mpEncodeNumber(lua, out); break;
    case LUA_TTABLE: {
      lua.checkStackOrRaise(2, "in function table_is_an_array");
      mpSeeThroughProxy(lua);
      const len = mpArrayLength(lua);
      if (len !== null) mpEncodeArray(lua, out, len, level);
      else mpEncodeMap(lua, out, level);
      break;
    }
    default: out.push("\xc0"); // nil, and what MessagePack cannot hold (functions, ...)
  }
  lua.pop();
}

function mpEncodeString(out: string[], s: string): void {
  const len = s.length;
  if (len < 32) out.push(String.fromCharCode(0xa0 | len));
  else if (len <= 0xff) out.push("\xd9" + String.fromCharCode(len));
  else if (len <= 0xffff) out.push("\xda" + bytesBigEndian(len, 2));
  else out.push("\xdb" + bytesBigEndian(len, 4));
  out.push(s);
}

/** The number on top: as an integer when it is one that fits an int64 (-0 is 0), else as a float
 *  when converting to float and back gives it again (infinities do; NaN never), else a double. */
function mpEncodeNumber(lua: Lua, out: string[]): void {
  const n = lua.toNumber(-1);
  if (Number.isInteger(n) && n >= -TWO_63 && n < TWO_63) {
    out.push(mpIntegerEncoding(n));
  } else if (Math.fround(n) === n) {
    numberScratch.setFloat32(0, n);
    out.push("\xca" + bytesBigEndian(numberScratch.getUint32(0), 4));
  } else {
    out.push("\xcb" + bytesBigEndian(Number.isNaN(n) ? lua.numberBits(-1) : doubleBits(n), 8));
  }
}

/** The shortest encoding of an integer: a fixint, else the smallest unsigned width for a positive
 *  number and the smallest signed one for a negative. */
function mpIntegerEncoding(n: number): string {
  if (n >= 0) {
    if (n <= 127) return String.fromCharCode(n);
    if (n <= 0xff) return "\xcc" + String.fromCharCode(n);
    if (n <= 0xffff) return "\xcd" + bytesBigEndian(n, 2);
    if (n <= 0xffffffff) return "\xce" + bytesBigEndian(n, 4);
    return "\xcf" + bytesBigEndian(BigInt(n), 8);
  }
  if (n >= -32) return String.fromCharCode(n & 0xff);
  if (n >= -128) return "\xd0" + String.fromCharCode(n & 0xff);
  if (n >= -32768) return "\xd1" + bytesBigEndian(n, 2);
  if (n >= -2147483648) return "\xd2" + bytesBigEndian(n, 4);
  return "\xd3" + bytesBigEndian(BigInt(n), 8);
}

/** An array or map header: the fix form up to 15 entries, then 16 and 32 bits. */
function mpHeader(n: number, fix: number, type16: string, type32: string): string {
  if (n <= 15) return String.fromCharCode(fix | n);
  return n <= 0xffff ? type16 + bytesBigEndian(n, 2) : type32 + bytesBigEndian(n, 4);
}

/** Replaces the table on top by the real one when it is a read-only proxy of the sandbox (string,
 *  math, redis, ...): Redis's library tables are read-only in place, so pack sees what they hold.
 *  Uses the two stack slots table_is_an_array has checked for. */
function mpSeeThroughProxy(lua: Lua): void {
  lua.getRef(scripting.proxyTargets);
  lua.pushValue(-2);
  lua.getTable(-2);
  if (lua.type(-1) === LUA_TTABLE) lua.insert(-3);
  lua.pop(2);
}

/** The length of the table on top if its keys are exactly 1..n (each a number that C's int holds;
 *  the empty table counts, with n = 0), else null: then it is a map. */
function mpArrayLength(lua: Lua): number | null {
  const top = lua.top();
  let count = 0, max = 0;
  lua.pushNil();
  while (lua.next(-2)) {
    lua.pop();
    const n = lua.type(-1) === LUA_TNUMBER ? lua.toNumber(-1) : 0;
    if (!(n > 0 && n <= 2147483647 && Number.isInteger(n))) {
      lua.setTop(top);
      return null;
    }
    if (n > max) max = n;
    count++;
  }
  lua.setTop(top);
  return max === count ? count : null;
}

function mpEncodeArray(lua: Lua, out: string[], len: number, level: number): void {
  out.push(mpHeader(len, 0x90, "\xdc", "\xdd"));
  lua.checkStackOrRaise(1, "in function mp_encode_lua_table_as_array");
  for (let j = 1; j <= len; j++) {
    lua.rawGetI(-1, j); // the C code's lua_gettable: the same, as every key 1..len is there
    mpEncode(lua, out, level + 1);
  }
}

/** A map in the table's own order (lua_next's), which Redis's Lua shares with this one. */
function mpEncodeMap(lua: Lua, out: string[], level: number): void {
  lua.checkStackOrRaise(3, "in function mp_encode_lua_table_as_map");
  let len = 0;
  lua.pushNil();
  while (lua.next(-2)) {
    lua.pop();
    len++;
  }
  out.push(mpHeader(len, 0x80, "\xde", "\xdf"));
  lua.pushNil();
  while (lua.next(-2)) {
    lua.pushValue(-2);
    mpEncode(lua, out, level + 1); // the key
    mpEncode(lua, out, level + 1); // the value
  }
}

/** Where decoding is in the input: s from byte p; err is set (and decoding stops) on a value that
 *  runs past the end (MP_ERR_EOF) or a type byte it does not know (MP_ERR_BADFMT). */
interface MpCursor { s: string; p: number; err: number }

/** An array or map being filled: its table is on the stack (under its pending key or index), with
 *  `left` entries still to read. */
interface MpOpen { map: boolean; left: number; index: number; key: boolean }

/** An unsigned big-endian integer of `width` bytes (at most 4) of s at p. */
function mpUint(s: string, p: number, width: number): number {
  let n = 0;
  for (let i = 0; i < width; i++) n = n * 256 + s.charCodeAt(p + i);
  return n;
}

/** Decodes one value at the cursor and pushes it; on an error sets c.err (the caller raises it).
 *  The C code recurses into arrays and maps; this keeps the open ones in a list instead, so input
 *  nested thousands deep runs out of Lua stack, as there, before it runs out of JS stack. The
 *  stack operations are the C code's, in its order. */
function mpDecode(lua: Lua, c: MpCursor): void {
  const open: MpOpen[] = [];
  for (;;) {
    const opened = mpDecodeItem(lua, c);
    if (c.err) return;
    if (opened) open.push(opened);
    else if (open.length === 0) return;
    // A table has just been opened, or a value is on top for the innermost open one: settle it,
    // and close what is complete, until some table wants another value.
    let fresh = opened !== null;
    for (;;) {
      const t = open[open.length - 1];
      if (!fresh) {
        if (t.map && t.key) { // that was a key: its value comes next
          t.key = false;
          break;
        }
        lua.setTable(-3);
      }
      if (t.left === 0) {
        open.pop();
        if (open.length === 0) return;
        fresh = false;
        continue;
      }
      t.left--;
      if (t.map) t.key = true;
      else lua.pushNumber(++t.index);
      break;
    }
  }
}

/** Decodes the value at the cursor: pushes a scalar (returning null), or pushes the new table of
 *  an array or map and returns it as open; on an error sets c.err. */
function mpDecodeItem(lua: Lua, c: MpCursor): MpOpen | null {
  const s = c.s, p = c.p, left = s.length - p;
  if (left < 1) { c.err = MP_ERR_EOF; return null; }
  lua.checkStackOrRaise(1, "too many return values at once; use unpack_one or unpack_limit instead.");
  const b = s.charCodeAt(p);
  switch (b) {
    case 0xcc: return mpDecodeNumber(lua, c, 1, false);
    case 0xcd: return mpDecodeNumber(lua, c, 2, false);
    case 0xce: return mpDecodeNumber(lua, c, 4, false);
    case 0xcf: return mpDecodeNumber(lua, c, 8, false);
    case 0xd0: return mpDecodeNumber(lua, c, 1, true);
    case 0xd1: return mpDecodeNumber(lua, c, 2, true);
    case 0xd2: return mpDecodeNumber(lua, c, 4, true);
    case 0xd3: return mpDecodeNumber(lua, c, 8, true);
    case 0xc0: lua.pushNil(); c.p++; return null;
    case 0xc2: lua.pushBoolean(false); c.p++; return null;
    case 0xc3: lua.pushBoolean(true); c.p++; return null;
    case 0xca:
      if (left < 5) { c.err = MP_ERR_EOF; return null; }
      luaPushFloatBits(lua, mpUint(s, p + 1, 4));
      c.p += 5;
      return null;
    case 0xcb:
      if (left < 9) { c.err = MP_ERR_EOF; return null; }
      luaPushDoubleBits(lua, (BigInt(mpUint(s, p + 1, 4)) << 32n) | BigInt(mpUint(s, p + 5, 4)));
      c.p += 9;
      return null;
    case 0xd9: return mpDecodeString(lua, c, 1);
    case 0xda: return mpDecodeString(lua, c, 2);
    case 0xdb: return mpDecodeString(lua, c, 4);
    case 0xdc: return mpOpenAggregate(lua, c, 2, false);
    case 0xdd: return mpOpenAggregate(lua, c, 4, false);
    case 0xde: return mpOpenAggregate(lua, c, 2, true);
    case 0xdf: return mpOpenAggregate(lua, c, 4, true);
  }
  if (b < 0x80) { lua.pushNumber(b); c.p++; return null; } // positive fixint
  if (b >= 0xe0) { lua.pushNumber(b - 256); c.p++; return null; } // negative fixint
  if ((b & 0xe0) === 0xa0) return mpDecodeString(lua, c, 0);
  if ((b & 0xf0) === 0x90) return mpOpenAggregate(lua, c, 0, false);
  if ((b & 0xf0) === 0x80) return mpOpenAggregate(lua, c, 0, true);
  c.err = MP_ERR_BADFMT; // 0xc1, bin 8/16/32, ext and fixext
  return null;
}

/** Pushes the integer in the `width` bytes after the type byte. */
function mpDecodeNumber(lua: Lua, c: MpCursor, width: number, signed: boolean): null {
  if (c.s.length - c.p < 1 + width) { c.err = MP_ERR_EOF; return null; }
  const u = mpUint(c.s, c.p + 1, Math.min(width, 4));
  if (width === 8) {
    // Both 64-bit types go through C's int64: a uint64 from 2^63 up reads as negative.
    lua.pushNumber(Number(BigInt.asIntN(64, (BigInt(u) << 32n) | BigInt(mpUint(c.s, c.p + 5, 4)))));
  } else {
    lua.pushNumber(signed && u >= 2 ** (8 * width - 1) ? u - 2 ** (8 * width) : u);
  }
  c.p += 1 + width;
  return null;
}

/** Pushes the string whose length is in the `width` bytes after the type byte (0: a fixstr). */
function mpDecodeString(lua: Lua, c: MpCursor, width: number): null {
  const left = c.s.length - c.p;
  if (left < 1 + width) { c.err = MP_ERR_EOF; return null; }
  const len = width ? mpUint(c.s, c.p + 1, width) : c.s.charCodeAt(c.p) & 0x1f, start = c.p + 1 + width;
  if (left < 1 + width + len) { c.err = MP_ERR_EOF; return null; }
  lua.pushString(c.s.slice(start, start + len));
  c.p = start + len;
  return null;
}

/** Opens the array or map whose length is in the `width` bytes after the type byte (0: the fix
 *  form): pushes its table. */
function mpOpenAggregate(lua: Lua, c: MpCursor, width: number, map: boolean): MpOpen | null {
  if (c.s.length - c.p < 1 + width) { c.err = MP_ERR_EOF; return null; }
  const len = width ? mpUint(c.s, c.p + 1, width) : c.s.charCodeAt(c.p) & 0xf;
  c.p += 1 + width;
  lua.newTable();
  if (!map) lua.checkStackOrRaise(1, "in function mp_decode_to_lua_array");
  // A map's entries are set as decoded, so a nil or NaN key raises Lua's own "table index is nil".
  return { map, left: len, index: 0, key: false };
}

/** Decodes up to `limit` values of the string argument from `offset`; limit and offset both 0
 *  means all of them, and then no next offset is returned. */
function mpUnpack(lua: Lua, limit: number, offset: number): number {
  const s = lua.checkString(1);
  const len = s.length;
  // The C code prints both through (int), and the input's length where the limit belongs.
  if (offset < 0 || limit < 0) return lua.raiseWhere(`Invalid request to unpack with offset of ${offset | 0} and limit of ${len | 0}.`);
  if (offset > len) return lua.raiseWhere(`Start offset ${offset | 0} greater than input length ${len | 0}.`);
  const all = limit === 0 && offset === 0;
  if (all) limit = 2147483647;
  const c: MpCursor = { s, p: offset, err: 0 };
  let count = 0;
  for (; c.p < len && count < limit; count++) {
    mpDecode(lua, c);
    if (c.err === MP_ERR_EOF) return lua.raiseWhere("Missing bytes in input.");
    if (c.err === MP_ERR_BADFMT) return lua.raiseWhere("Bad data format in input.");
  }
  if (all) return count;
  lua.checkStackOrRaise(1, "in function mp_unpack_full");
  lua.pushNumber(c.p === len ? -1 : c.p);
  lua.insert(2);
  return count + 1;
}

/** cmsgpack.unpack_one(s [, offset]) and cmsgpack.unpack_limit(s, limit [, offset]). */
function mpUnpackOne(lua: Lua): number {
  const offset = luaOptInt64(lua, 2, 0);
  if (lua.top() > 1) lua.setTop(1);
  return mpUnpack(lua, 1, offset);
}
function mpUnpackLimit(lua: Lua): number {
  const limit = cInt64(lua.checkNumber(2)), offset = luaOptInt64(lua, 3, 0);
  if (lua.top() > 1) lua.setTop(1);
  return mpUnpack(lua, limit, offset);
}

/** Creates the global table cmsgpack (fields set in the C library's order, which fixes pairs()'s). */
function luaOpenCmsgpack(lua: Lua): void {
  lua.newTable();
  lua.setFunction(-1, "pack", () => mpPack(lua));
  lua.setFunction(-1, "unpack", () => mpUnpack(lua, 0, 0));
  lua.setFunction(-1, "unpack_one", () => mpUnpackOne(lua));
  lua.setFunction(-1, "unpack_limit", () => mpUnpackLimit(lua));
  for (const [name, value] of [["_NAME", "cmsgpack"], ["_VERSION", "lua-cmsgpack 0.4.0"],
    ["_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo"], ["_DESCRIPTION", "MessagePack C implementation for Lua"]]) {
    lua.pushString(value);
    lua.rawSetField(-2, name);
  }
  lua.rawSetField(LUA_GLOBALSINDEX, "cmsgpack");
}

// struct: binary records, the struct library of Lua's authors (2018) as Redis builds it.
//
// pack(fmt, v, ...) writes values as the format says, unpack(fmt, s [, pos]) reads them back and
// returns the position after them last, size(fmt) is the length of a record of fixed size. Format
// letters: b/B h/H l/L i/I[n] (signed/unsigned, 1, 2, 8 and n bytes, 4 by default, at most 32), T
// (size_t, 8), f and d (float, double), x (a zero byte), c[n] (n bytes; c0 is the whole string when
// packing and the previous number as the length when unpacking), s (zero-terminated string);
// '<' and '>' set the byte order (little by default), '![n]' the alignment (1 by default, 8 without
// n), ' ' is ignored. Sizes are those of x86-64, where Redis runs. Integers cross through C's
// 64-bit casts and come back as doubles, so what passes 2^53 rounds as it does there.

const STRUCT_BIG = 0, STRUCT_LITTLE = 1;
const STRUCT_MAX_INT_SIZE = 32, STRUCT_MAX_ALIGN = 8;

/** A format being read (from position i), with the byte order and alignment in force. */
interface StructFormat { s: string; i: number; endian: number; align: number }

/** luaL_checkstring's format: C stops at its first zero byte. */
function structFormat(lua: Lua): StructFormat {
  const s = lua.checkString(1), nul = s.indexOf("\0");
  return { s: nul < 0 ? s : s.slice(0, nul), i: 0, endian: STRUCT_LITTLE, align: 1 };
}

const isDigit = (ch: string | undefined): boolean => ch !== undefined && ch >= "0" && ch <= "9";

/** The count after an option, or df without one; one past C's int is an error. */
function structNumber(lua: Lua, f: StructFormat, df: number): number {
  if (!isDigit(f.s[f.i])) return df;
  let a = 0;
  do {
    const d = f.s.charCodeAt(f.i) - 48;
    if (a > Math.floor(2147483647 / 10) || a * 10 > 2147483647 - d) lua.raiseWhere("integral size overflow");
    a = a * 10 + d;
    f.i++;
  } while (isDigit(f.s[f.i]));
  return a;
}

/** The size of option opt, reading its count; 0 for options that take no room of their own. */
function structOptionSize(lua: Lua, opt: string, f: StructFormat): number {
  switch (opt) {
    case "B": case "b": case "x": return 1;
    case "H": case "h": return 2;
    case "f": return 4;
    case "L": case "l": case "T": case "d": return 8;
    case "c": return structNumber(lua, f, 1);
    case "i": case "I": {
      const size = structNumber(lua, f, 4);
      if (size > STRUCT_MAX_INT_SIZE) lua.raiseWhere(`integral size ${size} is larger than limit of ${STRUCT_MAX_INT_SIZE}`);
      return size;
    }
    default: return 0;
  }
}

/** Padding before an item of this size at position pos: to the smaller of its size and the
 *  alignment (C's formula as is, also for sizes that are not powers of 2). */
function structPadding(pos: number, f: StructFormat, opt: string, size: number): number {
  if (size === 0 || opt === "c") return 0;
  if (size > f.align) size = f.align;
  return (size - (pos & (size - 1))) & (size - 1);
}

/** The options that only change how what follows is read: ' ', '<', '>', '!n'; any other is
 *  an error. */
function structControl(lua: Lua, opt: string, f: StructFormat): void {
  switch (opt) {
    case " ": return;
    case ">": f.endian = STRUCT_BIG; return;
    case "<": f.endian = STRUCT_LITTLE; return;
    case "!": {
      const a = structNumber(lua, f, STRUCT_MAX_ALIGN);
      if (!(a > 0 && (a & (a - 1)) === 0)) lua.raiseWhere(`alignment ${a} is not a power of 2`);
      f.align = a;
      return;
    }
    default: lua.argError(1, `invalid format option '${opt}'`);
  }
}

/** Bytes in the chosen order from bytes given most significant first. */
const structOrder = (bigEndian: string, endian: number): string =>
  endian === STRUCT_BIG ? bigEndian : [...bigEndian].reverse().join("");

/** An integer of `size` bytes from a Lua number: a negative one through C's (long), any other
 *  through (unsigned long); past 8 bytes the high ones are zero. */
function structIntegerBytes(n: number, size: number, endian: number): string {
  let v = n < 0 ? BigInt.asUintN(64, BigInt(cInt64(n))) : cUint64(n);
  let s = "";
  for (let i = 0; i < size; i++) {
    s = String.fromCharCode(Number(v & 0xffn)) + s;
    v >>= 8n;
  }
  return structOrder(s, endian);
}

/** struct.pack(fmt, v, ...): the record. */
function structPack(lua: Lua): number {
  const f = structFormat(lua);
  const out: string[] = [];
  let arg = 2, total = 0;
  lua.pushNil(); // the C code's mark after the arguments: one too many reads as this nil
  while (f.i < f.s.length) {
    const opt = f.s[f.i++];
    let size = structOptionSize(lua, opt, f);
    const pad = structPadding(total, f, opt, size);
    if (pad) out.push("\0".repeat(pad));
    total += pad;
    switch (opt) {
      case "b": case "B": case "h": case "H": case "l": case "L": case "T": case "i": case "I":
        out.push(structIntegerBytes(lua.checkNumber(arg++), size, f.endian));
        break;
      case "x": out.push("\0"); break;
      case "f": case "d": {
        const d = lua.checkNumber(arg), bits = luaArgNumberBits(lua, arg++, d);
        out.push(structOrder(opt === "f" ? bytesBigEndian(doubleBitsToFloatBits(bits), 4) : bytesBigEndian(bits, 8), f.endian));
        break;
      }
      case "c": case "s": {
        const s = lua.checkString(arg++);
        if (size === 0) size = s.length;
        if (s.length < size) return lua.argError(arg, "string too short"); // arg is one past, as in C
        out.push(s.slice(0, size));
        if (opt === "s") {
          out.push("\0");
          size++;
        }
        break;
      }
      default: structControl(lua, opt, f);
    }
    total += size;
  }
  lua.pushString(out.join(""));
  return 1;
}

/** The integer in `size` bytes of s at pos, as C's 64-bit arithmetic reads it: past 8 bytes only
 *  the low 8 count, and the sign bit of a signed one is found by a shift that x86 takes mod 64. */
function structReadInteger(s: string, pos: number, endian: number, signed: boolean, size: number): number {
  let v = 0n;
  for (let i = 0; i < size; i++) {
    const byte = s.charCodeAt(endian === STRUCT_BIG ? pos + i : pos + size - 1 - i);
    v = BigInt.asUintN(64, (v << 8n) | BigInt(byte));
  }
  if (!signed) return Number(v);
  const mask = BigInt.asUintN(64, ~0n << BigInt((size * 8 - 1) & 63));
  if (v & mask) v |= mask;
  return Number(BigInt.asIntN(64, v));
}

/** struct.unpack(fmt, s [, pos]): the values, then the position after them (1-based). */
function structUnpack(lua: Lua): number {
  const f = structFormat(lua);
  const data = lua.checkString(2), ld = data.length;
  const first = luaOptInt64(lua, 3, 1);
  if (first === 0) return lua.argError(3, "offset must be 1 or greater"); // pos is unsigned in C: only 0 fails
  const start = BigInt.asUintN(64, BigInt(first)) - 1n;
  if (f.s.length === 0) {
    lua.pushNumber(Number(BigInt.asIntN(64, start + 1n)));
    return 1;
  }
  // A start past 2^53 is rounded here, but then every option finds the data too short, as in C.
  let pos = Number(start), n = 0;
  const tooShort = (size: number) => !(size <= ld && pos <= ld - size);
  while (f.i < f.s.length) {
    const opt = f.s[f.i++];
    let size = structOptionSize(lua, opt, f);
    pos += structPadding(pos, f, opt, size);
    if (tooShort(size)) return lua.argError(2, "data string too short");
    lua.checkStackOrRaise(2, "too many results");
    switch (opt) {
      case "b": case "B": case "h": case "H": case "l": case "L": case "T": case "i": case "I":
        lua.pushNumber(structReadInteger(data, pos, f.endian, opt >= "a", size));
        n++;
        break;
      case "x": break;
      case "f":
        luaPushFloatBits(lua, mpUint(structOrder(data.slice(pos, pos + 4), f.endian), 0, 4));
        n++;
        break;
      case "d": {
        const be = structOrder(data.slice(pos, pos + 8), f.endian);
        luaPushDoubleBits(lua, (BigInt(mpUint(be, 0, 4)) << 32n) | BigInt(mpUint(be, 4, 4)));
        n++;
        break;
      }
      case "c":
        if (size === 0) {
          if (n === 0 || !lua.isNumber(-1)) lua.raiseWhere("format 'c0' needs a previous size");
          const want = cUint64(lua.toNumber(-1));
          lua.pop();
          n--;
          if (want > BigInt(ld) || tooShort(Number(want))) return lua.argError(2, "data string too short");
          size = Number(want);
        }
        lua.pushString(data.slice(pos, pos + size));
        n++;
        break;
      case "s": {
        const end = data.indexOf("\0", pos);
        if (end < 0) lua.raiseWhere("unfinished string in data");
        size = end - pos + 1;
        lua.pushString(data.slice(pos, end));
        n++;
        break;
      }
      default: structControl(lua, opt, f);
    }
    pos += size;
  }
  lua.pushNumber(pos + 1);
  return n + 1;
}

/** struct.size(fmt): the length of the record; letters it does not know count as nothing here. */
function structSize(lua: Lua): number {
  const f = structFormat(lua);
  let pos = 0;
  while (f.i < f.s.length) {
    const opt = f.s[f.i++];
    const size = structOptionSize(lua, opt, f);
    pos += structPadding(pos, f, opt, size);
    if (opt === "s") return lua.argError(1, "option 's' has no fixed size");
    if (opt === "c" && size === 0) return lua.argError(1, "option 'c0' has no fixed size");
    if (!/[0-9A-Za-z]/.test(opt)) structControl(lua, opt, f);
    pos += size;
  }
  lua.pushNumber(pos);
  return 1;
}

/** Creates the global table struct, as luaL_register does (sized for its three functions). */
function luaOpenStruct(lua: Lua): void {
  lua.newTable(0, 3);
  lua.setFunction(-1, "pack", () => structPack(lua));
  lua.setFunction(-1, "unpack", () => structUnpack(lua));
  lua.setFunction(-1, "size", () => structSize(lua));
  lua.rawSetField(LUA_GLOBALSINDEX, "struct");
}

// --- Redis's Lua libraries: cjson and bit. Redis builds Mark Pulford's lua-cjson 2.1.0 and Mike
// Pall's Lua BitOp 1.0.2 into its Lua; these host functions behave as those C libraries do, to
// their error messages. Their tables are filled in the C libraries' order and cjson walks tables
// with lua_next as the C does, so keys come out in Redis's order; encoding and decoding keep on
// the Lua stack what the C keeps there, so lua_checkstack gives out at the same depth.

/** lua_typename, by type number. */
const LUA_TYPE_NAMES = ["nil", "boolean", "userdata", "number", "string", "table", "function", "userdata", "thread"];
const LUA_TNONE = -1, LUA_TLIGHTUSERDATA = 2;

/** cjson's settings and their defaults. They are int32s, in this order, in a userdata that the
 *  module's functions share as their upvalue: a Lua value, it lives as long as the module table
 *  (cjson.new() makes a table with settings of its own). As in Redis, a setting made by one script
 *  holds for the next until SCRIPT FLUSH, and functions have a cjson of their own (see the
 *  sandbox). encodeKeepBuffer only says whether C keeps its buffer between calls: it is kept and
 *  answered, nothing more. */
const CJSON_SETTINGS = {
  sparseConvert: 0, sparseRatio: 2, sparseSafe: 10, encodeMaxDepth: 1000, decodeMaxDepth: 1000,
  encodeInvalidNumbers: 0, decodeInvalidNumbers: 1, encodeKeepBuffer: 1, encodeNumberPrecision: 14,
};
type CjsonSettings = typeof CJSON_SETTINGS;
type CjsonSetting = keyof CjsonSettings;
const CJSON_SETTING_NAMES = Object.keys(CJSON_SETTINGS) as CjsonSetting[];
/** Where the running cjson function keeps a setting: its upvalue's address, plus the offset. */
const cjsonSettingAddr = (lua: Lua, name: CjsonSetting): number =>
  lua.toUserdata(LUA_GLOBALSINDEX - 1) + 4 * CJSON_SETTING_NAMES.indexOf(name);

/** Puts the settings at `addr` back to their defaults. SCRIPT FLUSH does it to the scripts' cjson:
 *  Redis starts a new VM, with a new cjson. */
function cjsonResetSettings(lua: Lua, addr: number): void {
  CJSON_SETTING_NAMES.forEach((name, i) => lua.writeInt32(addr + 4 * i, CJSON_SETTINGS[name]));
}

/** The running cjson function's settings. */
function cjsonSettings(lua: Lua): CjsonSettings {
  const cfg = { ...CJSON_SETTINGS };
  for (const name of CJSON_SETTING_NAMES) cfg[name] = lua.readInt32(cjsonSettingAddr(lua, name));
  return cfg;
}

/** Opens cjson as Redis does: its module table as the global `cjson`. Its settings are where
 *  scripting.cjsonSettings says, for SCRIPT FLUSH. */
function luaOpenCjson(lua: Lua): void {
  // Made once: cjson.new() makes closures of these, never new host functions.
  const functions = CJSON_FUNCTIONS.map(([name, fn]) => [name, lua.hostFunction(() => fn(lua))] as const);
  /** Pushes a new module table with settings of its own; returns their address. */
  const cjsonNew = (): number => {
    lua.newTable();
    const cfg = lua.newUserdata(4 * CJSON_SETTING_NAMES.length);
    cjsonResetSettings(lua, cfg);
    for (const [name, fp] of [...functions, ["new", newFp] as const]) {
      lua.pushValue(-1);
      lua.pushClosure(fp, 1);
      lua.rawSetField(-3, name);
    }
    lua.pop(); // the settings
    lua.pushLightUserdata(0); // cjson.null: JSON's null, which can be in a table where nil cannot
    lua.rawSetField(-2, "null");
    lua.pushString("cjson");
    lua.rawSetField(-2, "_NAME");
    lua.pushString("2.1.0");
    lua.rawSetField(-2, "_VERSION");
    return cfg;
  };
  const newFp = lua.hostFunction(() => { cjsonNew(); return 1; });
  scripting.cjsonSettings = cjsonNew();
  lua.rawSetField(LUA_GLOBALSINDEX, "cjson");
  lua.setFunction(LUA_GLOBALSINDEX, "tostring", () => luaTostring(lua));
}

/** The base library's tostring, but for cjson.null, a NULL light userdata: C's "%p" writes NULL as
 *  "(nil)" in Redis (glibc) and as "0" in this VM (musl). Other addresses are written as glibc
 *  writes them; they differ from Redis's anyway. */
function luaTostring(lua: Lua): number {
  lua.checkAny(1);
  if (lua.callMeta(1, "__tostring")) return 1;
  const t = lua.type(1);
  if (t === LUA_TNUMBER || t === LUA_TSTRING) lua.pushString(lua.toString(1)!);
  else if (t === LUA_TBOOLEAN) lua.pushString(lua.toBoolean(1) ? "true" : "false");
  else if (t === LUA_TNIL) lua.pushString("nil");
  else {
    const p = lua.toPointer(1);
    lua.pushString(`${LUA_TYPE_NAMES[t]}: ${p ? "0x" + p.toString(16) : "(nil)"}`);
  }
  return 1;
}

/** The arguments of a settings function: at most n (more is an error), the missing ones nil. */
function cjsonSettingArgs(lua: Lua, n: number): void {
  if (lua.top() > n) lua.argError(n + 1, "found too many arguments");
  lua.setTop(n);
}

/** An integer setting: set from argument i unless it is nil, then pushed. Its range error names
 *  argument 1 whichever argument it is, as cjson's does. */
function cjsonIntegerSetting(lua: Lua, i: number, name: CjsonSetting, min: number, max: number): void {
  const addr = cjsonSettingAddr(lua, name);
  if (lua.type(i) !== LUA_TNIL) {
    if (!lua.isNumber(i)) lua.typeError(i, "number");
    // luaL_checkinteger on Redis's 64-bit lua_Integer (C's truncation), kept in an int: the low
    // 32 bits, so 2^32 + 5 is 5.
    const v = Number(BigInt.asIntN(32, BigInt(cInt64(lua.toNumber(i)))));
    if (v < min || v > max) lua.argError(1, `expected integer between ${min} and ${max}`);
    lua.writeInt32(addr, v);
  }
  lua.pushNumber(lua.readInt32(addr));
}

/** An off/on setting, or one of `options`: set from argument i unless it is nil (a boolean or an
 *  option's name), then pushed, off and on as booleans. */
function cjsonEnumSetting(lua: Lua, i: number, name: CjsonSetting, options = ["off", "on"]): void {
  const addr = cjsonSettingAddr(lua, name);
  if (lua.type(i) !== LUA_TNIL) {
    let v = lua.toBoolean(i) ? 1 : 0;
    if (lua.type(i) !== LUA_TBOOLEAN) {
      const s = lua.checkString(i).split("\0", 1)[0]; // luaL_checkoption compares C strings
      v = options.indexOf(s);
      if (v < 0) lua.argError(i, `invalid option '${s}'`);
    }
    lua.writeInt32(addr, v);
  }
  const v = lua.readInt32(addr);
  if (v <= 1) lua.pushBoolean(v === 1);
  else lua.pushString(options[v]);
}

/** cjson's functions in the order it registers them (`new` comes last, see luaOpenCjson). */
const CJSON_FUNCTIONS: [string, (lua: Lua) => number][] = [
  ["encode", cjsonEncode],
  ["decode", cjsonDecode],
  ["encode_sparse_array", (lua) => {
    cjsonSettingArgs(lua, 3);
    cjsonEnumSetting(lua, 1, "sparseConvert");
    cjsonIntegerSetting(lua, 2, "sparseRatio", 0, INT_MAX);
    cjsonIntegerSetting(lua, 3, "sparseSafe", 0, INT_MAX);
    return 3;
  }],
  ["encode_max_depth", (lua) => { cjsonSettingArgs(lua, 1); cjsonIntegerSetting(lua, 1, "encodeMaxDepth", 1, INT_MAX); return 1; }],
  ["decode_max_depth", (lua) => { cjsonSettingArgs(lua, 1); cjsonIntegerSetting(lua, 1, "decodeMaxDepth", 1, INT_MAX); return 1; }],
  ["encode_number_precision", (lua) => { cjsonSettingArgs(lua, 1); cjsonIntegerSetting(lua, 1, "encodeNumberPrecision", 1, 14); return 1; }],
  ["encode_keep_buffer", (lua) => { cjsonSettingArgs(lua, 1); cjsonEnumSetting(lua, 1, "encodeKeepBuffer"); return 1; }],
  ["encode_invalid_numbers", (lua) => {
    cjsonSettingArgs(lua, 1);
    cjsonEnumSetting(lua, 1, "encodeInvalidNumbers", ["off", "on", "null"]);
    return 1;
  }],
  ["decode_invalid_numbers", (lua) => { cjsonSettingArgs(lua, 1); cjsonEnumSetting(lua, 1, "decodeInvalidNumbers"); return 1; }],
];

/** cjson.encode(value): the value as JSON text. */
function cjsonEncode(lua: Lua): number {
  const cfg = cjsonSettings(lua);
  if (lua.top() !== 1) return lua.argError(1, "expected 1 argument");
  const out: string[] = [];
  cjsonAppendValue(lua, cfg, 0, out);
  lua.pushString(out.join(""));
  return 1;
}

/** Raises "Cannot serialise <type of the value at i>: <why>". */
function cjsonEncodeError(lua: Lua, i: number, why: string): number {
  return lua.raiseWhere(`Cannot serialise ${LUA_TYPE_NAMES[lua.type(i)]}: ${why}`);
}

/** Appends the value on top of the stack; `depth` counts the tables it is in. */
function cjsonAppendValue(lua: Lua, cfg: CjsonSettings, depth: number, out: string[]): void {
  switch (lua.type(-1)) {
    case LUA_TSTRING: out.push(cjsonQuote(lua.toString(-1)!)); return;
    case LUA_TNUMBER: cjsonAppendNumber(lua, cfg, -1, out); return;
    case LUA_TBOOLEAN: out.push(lua.toBoolean(-1) ? "true" : "false"); return;
    case LUA_TNIL: out.push("null"); return;
    case LUA_TTABLE: {
      depth++;
      // Room to walk the table (a key and a value) and to raise an error.
      if (depth > cfg.encodeMaxDepth || !lua.checkStack(3)) lua.raiseWhere(`Cannot serialise, excessive nesting (${depth})`);
      const len = cjsonArrayLength(lua, cfg);
      if (len > 0) cjsonAppendArray(lua, cfg, depth, len, out);
      else cjsonAppendObject(lua, cfg, depth, out);
      return;
    }
  }
  if (lua.type(-1) === LUA_TLIGHTUSERDATA && lua.toUserdata(-1) === 0) out.push("null");
  else cjsonEncodeError(lua, -1, "type not supported");
}

/** The escapes cjson writes besides \u00XX (control characters and DEL); other bytes, UTF-8 or
 *  not, go as they are. */
const CJSON_ESCAPES: Record<string, string> = { "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\", "/": "\\/" };
const CJSON_TO_ESCAPE = /[\x00-\x1f"\\/\x7f]/;
const cjsonQuote = (s: string): string => !CJSON_TO_ESCAPE.test(s) ? `"${s}"`
  : `"${s.replace(/[\x00-\x1f"\\/\x7f]/g, (ch) => CJSON_ESCAPES[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`)}"`;

/** Appends the number at i with encode_number_precision digits; NaN and the infinities are an
 *  error, or written ("nan", "inf") when encode_invalid_numbers is on, or null. */
function cjsonAppendNumber(lua: Lua, cfg: CjsonSettings, i: number, out: string[]): void {
  const d = lua.toNumber(i);
  if (!Number.isFinite(d)) {
    if (cfg.encodeInvalidNumbers === 0) cjsonEncodeError(lua, i, "must not be NaN or Inf");
    else if (cfg.encodeInvalidNumbers !== 1) { out.push("null"); return; }
    else if (Number.isNaN(d)) { out.push("nan"); return; } // never "-nan", whatever its sign bit
  }
  out.push(formatDoubleG(d, cfg.encodeNumberPrecision));
}

/** cjson's test of the table on top: its length if every key is an integer >= 1, or -1 to write
 *  it as an object. One too sparse (its largest key above encode_sparse_array's safe and above
 *  ratio x its number of keys) is written as an object if sparse arrays convert, else an error. */
function cjsonArrayLength(lua: Lua, cfg: CjsonSettings): number {
  let max = 0, items = 0;
  lua.pushNil();
  while (lua.next(-2)) {
    const k = lua.type(-2) === LUA_TNUMBER ? lua.toNumber(-2) : 0;
    if (k >= 1 && Math.floor(k) === k) {
      // C keeps the largest key in an int: x86 makes one past INT_MAX (or inf) INT_MIN.
      if (k > max) max = k <= INT_MAX ? k : -2147483648;
      items++;
      lua.pop();
      continue;
    }
    lua.pop(2);
    return -1;
  }
  if (cfg.sparseRatio > 0 && max > Math.imul(items, cfg.sparseRatio) && max > cfg.sparseSafe) {
    if (!cfg.sparseConvert) cjsonEncodeError(lua, -1, "excessively sparse array");
    return -1;
  }
  return max;
}

/** Appends t[1] ... t[len] of the table on top, a hole as null. */
function cjsonAppendArray(lua: Lua, cfg: CjsonSettings, depth: number, len: number, out: string[]): void {
  out.push("[");
  for (let i = 1; i <= len; i++) {
    if (i > 1) out.push(",");
    lua.rawGetI(-1, i);
    cjsonAppendValue(lua, cfg, depth, out);
    lua.pop();
  }
  out.push("]");
}

/** Appends the table on top as an object, in lua_next's order; a number key is written quoted. */
function cjsonAppendObject(lua: Lua, cfg: CjsonSettings, depth: number, out: string[]): void {
  out.push("{");
  let comma = false;
  lua.pushNil();
  while (lua.next(-2)) {
    if (comma) out.push(",");
    comma = true;
    const t = lua.type(-2);
    if (t === LUA_TNUMBER) {
      out.push('"');
      cjsonAppendNumber(lua, cfg, -2, out);
      out.push('":');
    } else if (t === LUA_TSTRING) out.push(cjsonQuote(lua.toString(-2)!), ":");
    else cjsonEncodeError(lua, -2, "table key must be a number or string");
    cjsonAppendValue(lua, cfg, depth, out);
    lua.pop();
  }
  out.push("}");
}

/** C's "%.<p>g" of a double that is not NaN: p significant digits, fixed or exponent form by the
 *  exponent, trailing zeros dropped. glibc rounds the exact binary value, a tie to even, where
 *  JavaScript's toExponential rounds a tie up: a tie is looked for and settled apart. */
function formatDoubleG(d: number, p: number): string {
  if (d === Infinity) return "inf";
  if (d === -Infinity) return "-inf";
  if (d === 0) return 1 / d < 0 ? "-0" : "0";
  const sign = d < 0 ? "-" : "", a = Math.abs(d);
  if (Number.isInteger(a) && a < 10 ** p) return sign + String(a);
  const exp = (f: number): [string, number] => {
    const [m, e] = a.toExponential(f).split("e");
    return [m.replace(".", ""), Number(e)];
  };
  let [digits, x] = exp(p - 1);
  if (mayBeTie(a, p, x)) {
    const [longer, lx] = exp(p);
    if (longer.endsWith("5") && isExactDecimal(a, BigInt(longer), lx - p)) {
      digits = longer.slice(0, p);
      x = lx;
      if (Number(digits[p - 1]) % 2 === 1) {
        digits = String(BigInt(digits) + 1n);
        if (digits.length > p) { digits = digits.slice(0, p); x++; }
      }
    }
  }
  if (x < -4 || x >= p) {
    const frac = digits.slice(1).replace(/0+$/, "");
    return `${sign}${digits[0]}${frac ? "." + frac : ""}e${x < 0 ? "-" : "+"}${String(Math.abs(x)).padStart(2, "0")}`;
  }
  const frac = (x >= 0 ? digits.slice(x + 1) : "0".repeat(-x - 1) + digits).replace(/0+$/, "");
  return sign + (x >= 0 ? digits.slice(0, x + 1) : "0") + (frac ? "." + frac : "");
}

/** Can the positive double a, whose first p digits have exponent x, be exactly halfway between
 *  two p-digit decimals: its exact decimal p + 1 digits long, the last a 5? A fraction is when it
 *  has exactly p - x binary places. (Where rounding carried into a new power of ten, x is one too
 *  big and a tie can be missed; but then the digits kept were 9s, and a tie rounds up anyway.) */
function mayBeTie(a: number, p: number, x: number): boolean {
  if (a >= 1e21) return true;
  if (Number.isInteger(a)) return /^50*$/.test(String(a).slice(p));
  const k = p - x;
  return k > 0 && k < 1024 && Number.isInteger(a * 2 ** k) && !Number.isInteger(a * 2 ** (k - 1));
}

/** Is the positive double a exactly n x 10^k? */
function isExactDecimal(a: number, n: bigint, k: number): boolean {
  const bits = new DataView(new Float64Array([a]).buffer).getBigUint64(0, true);
  const biased = Number(bits >> 52n);
  const mantissa = (bits & 0xfffffffffffffn) | (biased ? 1n << 52n : 0n);
  const e = Math.max(biased, 1) - 1075; // a = mantissa x 2^e
  let left = mantissa, right = n;
  if (e > 0) left <<= BigInt(e);
  else right <<= BigInt(-e);
  if (k > 0) right *= 10n ** BigInt(k);
  else left *= 10n ** BigInt(-k);
  return left === right;
}

/** cjson.decode(text): the JSON value as Lua values, null as cjson.null. */
function cjsonDecode(lua: Lua): number {
  if (lua.top() !== 1) return lua.argError(1, "expected 1 argument");
  const cfg = cjsonSettings(lua);
  const s = lua.checkString(1);
  // Only the first character of JSON text is sure to be ASCII: a NUL in the first two is the
  // sign of UTF-16 or UTF-32.
  if (s.length >= 2 && (s.charCodeAt(0) === 0 || s.charCodeAt(1) === 0)) return lua.raiseWhere("JSON parser does not support UTF-16 or UTF-32");
  const json = new CjsonDecoder(lua, s, cfg);
  json.value(json.next());
  const end = json.next();
  if (end.type !== "T_END") json.fail("the end", end);
  return 1;
}

/** A token, its type named as cjson's errors name it; `error` says why a T_ERROR is one. A NaN
 *  comes as its bits: JavaScript has one NaN, glibc's strtod gives a sign and a payload. */
interface CjsonToken { type: string; index: number; value?: string | number | boolean; nanBits?: bigint; error?: string }

const CJSON_PUNCTUATION: Record<string, string> = { "{": "T_OBJ_BEGIN", "}": "T_OBJ_END", "[": "T_ARR_BEGIN", "]": "T_ARR_END", ",": "T_COMMA", ":": "T_COLON" };
const CJSON_UNESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", t: "\t", n: "\n", f: "\f", r: "\r" };
/** What C's strtod (glibc's) reads of a number: decimal, hexadecimal, inf, infinity, nan(...). */
const STRTOD_PREFIX = /[+-]?(?:inf(?:inity)?|nan(?:\([0-9a-z_]*\))?|0x(?:[0-9a-f]+(?:\.[0-9a-f]*)?|\.[0-9a-f]+)(?:p[+-]?\d+)?|(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)/iy;

/** cjson's decoder of one JSON text, which it reads as C reads a string: a NUL ends it. It leaves
 *  each value it reads on the Lua stack. */
class CjsonDecoder {
  private pos = 0;
  private depth = 0;
  constructor(private readonly lua: Lua, private readonly s: string, private readonly cfg: CjsonSettings) {}
  private at(i: number): number { return i < this.s.length ? this.s.charCodeAt(i) : 0; }
  private error(why: string): CjsonToken { return { type: "T_ERROR", index: this.pos, error: why }; }

  /** The next token, past whitespace; an error token leaves the position where the error is. */
  next(): CjsonToken {
    let ch = this.at(this.pos);
    while (ch === 32 || ch === 9 || ch === 10 || ch === 13) ch = this.at(++this.pos);
    const index = this.pos, punctuation = CJSON_PUNCTUATION[String.fromCharCode(ch)];
    if (ch === 0) return { type: "T_END", index };
    if (punctuation) { this.pos++; return { type: punctuation, index }; }
    if (ch === 34) return this.string();
    if (ch === 45 || (ch >= 48 && ch <= 57)) {
      if (!this.cfg.decodeInvalidNumbers && this.invalidNumber()) return this.error("invalid number");
      return this.number();
    }
    for (const [word, type, value] of [["true", "T_BOOLEAN", true], ["false", "T_BOOLEAN", false], ["null", "T_NULL", null]] as const) {
      if (this.s.startsWith(word, index)) { this.pos += word.length; return { type, index, value: value ?? undefined }; }
    }
    // With decode_invalid_numbers on, what strict JSON refuses is read as a number.
    if (this.cfg.decodeInvalidNumbers && this.invalidNumber()) return this.number();
    return this.error("invalid token");
  }

  /** A number strict JSON refuses and strtod reads: a leading '+', hexadecimal, leading zeros,
   *  inf or nan. */
  private invalidNumber(): boolean {
    let i = this.pos;
    if (this.at(i) === 43) return true;
    if (this.at(i) === 45) i++;
    const c = this.at(i);
    if (c === 48) {
      const d = this.at(i + 1);
      return (d | 0x20) === 0x78 || (d >= 48 && d <= 57);
    }
    if (c <= 57 || c >= 128) return false; // C compares a signed char: a byte past 127 is below '9'
    const word = this.s.slice(i, i + 3).toLowerCase();
    return word === "inf" || word === "nan";
  }

  private number(): CjsonToken {
    const index = this.pos;
    STRTOD_PREFIX.lastIndex = index;
    const m = STRTOD_PREFIX.exec(this.s);
    if (!m) return this.error("invalid number");
    const t = m[0];
    this.pos += t.length;
    const lead = t.charCodeAt(t[0] === "-" || t[0] === "+" ? 1 : 0) | 0x20;
    if (lead === 0x6e) return { type: "T_NUMBER", index, nanBits: glibcNanBits(t) }; // nan
    const value = lead === 0x69 ? (t[0] === "-" ? -Infinity : Infinity) : /x/i.test(t) ? parseHexFloat(t)! : Number(t);
    return { type: "T_NUMBER", index, value };
  }

  /** A string token; \u escapes become UTF-8, a surrogate pair one character. */
  private string(): CjsonToken {
    const index = this.pos;
    let p = this.pos + 1, from = p, text = "";
    for (;;) {
      const ch = this.at(p);
      if (ch === 34) break;
      if (ch === 0) { this.pos = p; return this.error("unexpected end of string"); }
      if (ch !== 92) { p++; continue; }
      text += this.s.slice(from, p);
      if (this.at(p + 1) === 117) {
        const u = this.unicodeEscape(p);
        if (!u) { this.pos = p; return this.error("invalid unicode escape code"); }
        text += u[0];
        p += u[1];
      } else {
        const c = CJSON_UNESCAPES[String.fromCharCode(this.at(p + 1))];
        if (c === undefined) { this.pos = p; return this.error("invalid escape code"); }
        text += c;
        p += 2;
      }
      from = p;
    }
    this.pos = p + 1;
    return { type: "T_STRING", index, value: text + this.s.slice(from, p) };
  }

  /** The \uXXXX escape at p (or a pair of them for a surrogate pair) as UTF-8, and its length. */
  private unicodeEscape(p: number): [string, number] | null {
    let cp = this.hex4(p + 2), len = 6;
    if (cp < 0) return null;
    if ((cp & 0xf800) === 0xd800) {
      // A surrogate: it must be a high one, with a low one in the next escape.
      if (cp & 0x400 || this.at(p + 6) !== 92 || this.at(p + 7) !== 117) return null;
      const low = this.hex4(p + 8);
      if (low < 0 || (low & 0xfc00) !== 0xdc00) return null;
      cp = (((cp & 0x3ff) << 10) | (low & 0x3ff)) + 0x10000;
      len = 12;
    }
    return [Buffer.from(String.fromCodePoint(cp), "utf8").toString("latin1"), len];
  }

  /** The four hex digits at i, or -1. */
  private hex4(i: number): number {
    const h = this.s.slice(i, i + 4);
    return /^[0-9a-f]{4}$/i.test(h) ? parseInt(h, 16) : -1;
  }

  /** Raises "Expected <what> but found <token> at character <n>" (n from 1). */
  fail(what: string, tok: CjsonToken): number {
    return this.lua.raiseWhere(`Expected ${what} but found ${tok.error ?? tok.type} at character ${tok.index + 1}`);
  }

  /** Pushes the value that starts with tok. */
  value(tok: CjsonToken): void {
    const lua = this.lua;
    switch (tok.type) {
      case "T_STRING": lua.pushString(tok.value as string); return;
      case "T_NUMBER":
        if (tok.nanBits === undefined) lua.pushNumber(tok.value as number);
        else lua.pushNumberBits(tok.nanBits);
        return;
      case "T_BOOLEAN": lua.pushBoolean(tok.value as boolean); return;
      case "T_NULL": lua.pushLightUserdata(0); return;
      case "T_OBJ_BEGIN": this.object(); return;
      case "T_ARR_BEGIN": this.array(); return;
    }
    this.fail("value", tok);
  }

  /** One level deeper, with room for `slots` more values on the stack, or an error. */
  private descend(slots: number): void {
    if (++this.depth > this.cfg.decodeMaxDepth || !this.lua.checkStack(slots)) {
      this.lua.raiseWhere(`Found too many nested data structures (${this.depth}) at character ${this.pos}`);
    }
  }

  private object(): void {
    this.descend(3); // the table, a key, a value
    this.lua.newTable();
    let tok = this.next();
    if (tok.type === "T_OBJ_END") { this.depth--; return; }
    for (;;) {
      if (tok.type !== "T_STRING") this.fail("object key string", tok);
      this.lua.pushString(tok.value as string);
      tok = this.next();
      if (tok.type !== "T_COLON") this.fail("colon", tok);
      this.value(this.next());
      this.lua.setTable(-3);
      tok = this.next();
      if (tok.type === "T_OBJ_END") { this.depth--; return; }
      if (tok.type !== "T_COMMA") this.fail("comma or object end", tok);
      tok = this.next();
    }
  }

  private array(): void {
    this.descend(2); // the table, a value
    this.lua.newTable();
    let tok = this.next();
    if (tok.type === "T_ARR_END") { this.depth--; return; }
    for (let i = 1; ; i++) {
      this.value(tok);
      this.lua.rawSetI(-2, i);
      tok = this.next();
      if (tok.type === "T_ARR_END") { this.depth--; return; }
      if (tok.type !== "T_COMMA") this.fail("comma or array end", tok);
      tok = this.next();
    }
  }
}

/** Lua BitOp's 32 bits of argument i: 2^52 + 2^51 added to the number leaves its integer part,
 *  rounded to even and modulo 2^32, in the low word of the double. A non-number is an error (a
 *  string of a number converts). */
const bitScratch = new Float64Array(1), bitScratchWords = new Uint32Array(bitScratch.buffer);
function bitArg(lua: Lua, i: number): number {
  bitScratch[0] = lua.toNumber(i) + 6755399441055744;
  const b = bitScratchWords[0]; // the low word, on a little-endian host
  if (b === 0 && !lua.isNumber(i)) return lua.typeError(i, "number");
  return b;
}
/** Returns 32 bits to Lua as BitOp does: a signed number. */
function bitReturn(lua: Lua, b: number): number {
  lua.pushNumber(b | 0);
  return 1;
}
/** band, bor, bxor: argument 1, then the others from the last one down, as BitOp reads them. */
const bitFold = (op: (a: number, b: number) => number) => (lua: Lua): number => {
  let b = bitArg(lua, 1);
  for (let i = lua.top(); i > 1; i--) b = op(b, bitArg(lua, i));
  return bitReturn(lua, b);
};
/** The shifts and rotations: by argument 2 modulo 32. */
const bitShift = (op: (b: number, n: number) => number) => (lua: Lua): number => {
  const b = bitArg(lua, 1);
  return bitReturn(lua, op(b, bitArg(lua, 2) & 31));
};

/** bit.tohex(x [, n]): the low |n| hex digits of x (8 by default, at most 8), in upper case when
 *  n is negative. */
function bitTohex(lua: Lua): number {
  let b = bitArg(lua, 1), n = lua.type(2) === LUA_TNONE ? 8 : bitArg(lua, 2) | 0;
  let digits = "0123456789abcdef";
  if (n < 0) { n = -n; digits = digits.toUpperCase(); }
  let s = "";
  for (let i = Math.min(n, 8); i > 0; i--, b >>>= 4) s = digits[b & 15] + s;
  lua.pushString(s);
  return 1;
}

/** BitOp's functions, in the order it registers them. */
const BIT_FUNCTIONS: [string, (lua: Lua) => number][] = [
  ["tobit", (lua) => bitReturn(lua, bitArg(lua, 1))],
  ["bnot", (lua) => bitReturn(lua, ~bitArg(lua, 1))],
  ["band", bitFold((a, b) => a & b)],
  ["bor", bitFold((a, b) => a | b)],
  ["bxor", bitFold((a, b) => a ^ b)],
  ["lshift", bitShift((b, n) => b << n)],
  ["rshift", bitShift((b, n) => b >>> n)],
  ["arshift", bitShift((b, n) => (b | 0) >> n)],
  ["rol", bitShift((b, n) => (b << n) | (b >>> (32 - n)))],
  ["ror", bitShift((b, n) => (b << (32 - n)) | (b >>> n))],
  ["bswap", (lua) => {
    const b = bitArg(lua, 1);
    return bitReturn(lua, (b >>> 24) | ((b >>> 8) & 0xff00) | ((b & 0xff00) << 8) | (b << 24));
  }],
  ["tohex", bitTohex],
];

/** Opens bit as Redis does (luaL_register): the global `bit`, sized for its functions. */
function luaOpenBit(lua: Lua): void {
  lua.newTable(0, BIT_FUNCTIONS.length);
  for (const [name, fn] of BIT_FUNCTIONS) lua.setFunction(-1, name, () => fn(lua));
  lua.rawSetField(LUA_GLOBALSINDEX, "bit");
}

// --- A script's return value, and its errors, as the caller's reply.

/** Pushes t[name] for the table on top, raw; returns true if it has the given type, else pops it. */
function luaTableField(name: string, type: number): boolean {
  const lua = scripting.lua!;
  lua.rawGetField(-1, name);
  if (lua.type(-1) === type) return true;
  lua.pop();
  return false;
}

/** A Lua number as C's (long long) cast makes it: truncated; what does not fit (and NaN) is
 *  LLONG_MIN, as x86 converts it. */
function luaNumberToLongLong(d: number): number | bigint {
  if (Number.isSafeInteger(Math.trunc(d))) return Math.trunc(d);
  if (!(d >= -9223372036854775808 && d < 9223372036854775808)) return -9223372036854775808n;
  return BigInt(Math.trunc(d));
}

/** A script's error as its reply. One a redis.call already counted (`counted`) is not counted in
 *  the error stats again, but its EVAL still failed: Redis's ERR_REPLY_FLAG_NO_STATS_UPDATE. */
function addScriptErrorReply(c: Client, msg: string, counted: boolean): void {
  addReplyError(c, msg, !counted);
  if (counted) { const cmd = lookupCommand(c.argv); if (cmd) cmd.failedCalls++; }
}

/** The fields of an error table on top of the stack (Redis's luaExtractErrorInformation). */
function luaErrorInformation(): { msg: string; source: string | null; line: string | null; ignoreStats: boolean } {
  const lua = scripting.lua!;
  const text = (name: string) => {
    lua.rawGetField(-1, name);
    const t = lua.type(-1), s = t === LUA_TSTRING || t === LUA_TNUMBER ? lua.toString(-1) : null;
    lua.pop();
    return s;
  };
  lua.rawGetField(-1, "ignore_error_stats_update");
  const ignoreStats = lua.type(-1) === LUA_TBOOLEAN && lua.toBoolean(-1);
  lua.pop();
  return { msg: text("err") ?? "", source: text("source"), line: text("line"), ignoreStats };
}

/** Replies the Lua value on top of the stack, and pops it (Redis's luaReplyToRedisReply). `resp`
 *  is the protocol the script chose with redis.setresp: it decides what a boolean becomes. */
function luaReplyToRedisReply(c: Client, resp: number): void {
  const lua = scripting.lua!;
  // Nested tables are walked with a stack of frames rather than by recursion: a table that holds
  // itself nests as deep as the Lua stack lets it (about 8,000 levels, as in Redis, which then
  // replies "reached lua stack limit"), deeper than the JS stack goes.
  const frames: ReplyFrame[] = [];
  for (;;) {
    // The value on top: replied and popped, or, for an array, a map or a set, a frame opened.
    if (!lua.checkStack(4)) {
      addReplyError(c, "ERR reached lua stack limit");
      lua.pop();
    } else {
      switch (lua.type(-1)) {
        case LUA_TSTRING: addReplyBulk(c, lua.toString(-1)!); lua.pop(); break;
        case LUA_TBOOLEAN:
          if (resp === 2) lua.toBoolean(-1) ? addReplyLongLong(c, 1) : addReplyNull(c);
          else addReplyBool(c, lua.toBoolean(-1));
          lua.pop();
          break;
        case LUA_TNUMBER: addReplyLongLong(c, luaNumberToLongLong(lua.toNumber(-1))); lua.pop(); break;
        case LUA_TTABLE: { const f = luaReplyTable(c, resp); if (f) frames.push(f); break; }
        default: addReplyNull(c); lua.pop();
      }
    }
    // The next element of the innermost open collection goes on top; finished ones are popped.
    for (;;) {
      const f = frames[frames.length - 1];
      if (!f) return;
      if (f.kind === "array") {
        if (f.next <= f.n) { lua.rawGetI(-1, f.next++); break; }
      } else if (f.next === 1) { // a map's value, under its key
        f.next = 2;
        break;
      } else if (lua.next(-2)) { // the next pair: [table, key, value]
        if (f.kind === "map") { lua.pushValue(-2); f.next = 1; } // the key's copy first, then the value
        else { lua.pop(); lua.pushValue(-1); } // a set replies its keys
        break;
      }
      lua.pop(f.pops);
      frames.pop();
    }
  }
}

/** An array, map or set being replied: its next element (for a map, 1 while its value is due). */
type ReplyFrame = { kind: "array"; n: number; next: number; pops: number } | { kind: "map" | "set"; next: number; pops: number };

/** A table as a reply: {err=}, {ok=}, {double=}, {big_number=}, {verbatim_string=}, {map=},
 *  {set=}, tried in that order; otherwise an array of t[1], t[2] ... up to the first nil. A
 *  table with a single reply is replied and popped; for a collection, its length is written and
 *  its frame returned, the table (and the map or set table in it) left on the stack. */
function luaReplyTable(c: Client, resp: number): ReplyFrame | null {
  const lua = scripting.lua!;
  if (luaTableField("err", LUA_TSTRING)) {
    lua.pop();
    const e = luaErrorInformation();
    addScriptErrorReply(c, e.msg, e.ignoreStats);
  } else if (luaTableField("ok", LUA_TSTRING)) {
    addReplyStatus(c, lua.toString(-1)!.replace(/[\r\n]/g, " "));
    lua.pop();
  } else if (luaTableField("double", LUA_TNUMBER)) {
    addReplyDouble(c, lua.toNumber(-1));
    lua.pop();
  } else if (luaTableField("big_number", LUA_TSTRING)) {
    addReplyBigNum(c, lua.toString(-1)!.replace(/[\r\n]/g, " "));
    lua.pop();
  } else if (luaVerbatimReply(c)) {
    // replied
  } else if (luaTableField("map", LUA_TTABLE) || luaTableField("set", LUA_TTABLE)) {
    // Which one it was: the map field is tried first.
    lua.rawGetField(-2, "map");
    const isMap = lua.type(-1) === LUA_TTABLE;
    lua.pop();
    let n = 0;
    lua.pushNil();
    while (lua.next(-2)) { n++; lua.pop(); }
    if (isMap) addReplyMapLen(c, n);
    else addReplySetLen(c, n);
    lua.pushNil(); // the key lua_next starts from
    return { kind: isMap ? "map" : "set", next: 0, pops: 2 };
  } else {
    let n = 0;
    for (;; n++) {
      lua.rawGetI(-1, n + 1);
      const nil = lua.type(-1) === LUA_TNIL;
      lua.pop();
      if (nil) break;
    }
    addReplyArrayLen(c, n);
    return { kind: "array", n, next: 1, pops: 1 };
  }
  lua.pop();
  return null;
}

/** {verbatim_string={format=, string=}}: replied if both fields are strings. */
function luaVerbatimReply(c: Client): boolean {
  const lua = scripting.lua!;
  if (!luaTableField("verbatim_string", LUA_TTABLE)) return false;
  let done = false;
  if (luaTableField("format", LUA_TSTRING)) {
    const format = lua.toString(-1)!;
    lua.pop();
    if (luaTableField("string", LUA_TSTRING)) {
      addReplyVerbatim(c, lua.toString(-1)!, format);
      lua.pop();
      done = true;
    }
  }
  lua.pop();
  return done;
}

/** The fake client scripts run commands as; made at start-up so that, as in Redis, client ids 1
 *  and 2 (the scripting and functions clients) are taken before the first connection. */
function scriptingCreateClient(): void {
  const c = new Client(null, "lua", "");
  c.authenticated = true;
  c.denyBlocking = true; // a blocking command in a script answers at once
  scripting.client = c;
  server.nextClientId++; // Redis's functions client
}

// --- Starting the VM: on first use, so a server that never scripts pays nothing for it (the VM
// costs ~28 MB of RSS and ~50 ms to start).

/** True (after holding the client) when this command needs the VM and it has not started yet:
 *  the command runs again, through processCommand, once it has. */
function scriptingHoldUntilReady(c: Client, cmd: RedisCommand): boolean {
  if (scripting.lua) return false;
  // The AOF is read before the VM can start: its FUNCTION LOADs and RESTOREs wait in `pending`.
  if (c.isAof && cmd.name.startsWith("function|")) return false;
  const needs = NEEDS_LUA_VM.has(cmd.name) || (cmd.name === "exec" && (c.mstate?.some((q) => NEEDS_LUA_VM.has(q.cmd.name)) ?? false)) ||
    (cmd.name === "debug" && c.argv[1]?.toLowerCase() === "loadaof"); // an AOF may hold scripts
  if (!needs) return false;
  if (c.mstate && cmd.name !== "exec") { scriptingStart(); return false; } // queued: EXEC will wait if it must
  c.paused = c.argv;
  scripting.waiting.add(c);
  scriptingStart();
  return true;
}

/** The commands that run Lua or compile it. */
const NEEDS_LUA_VM = new Set(["eval", "evalsha", "eval_ro", "evalsha_ro", "script|load", "fcall", "fcall_ro",
  "function|load", "function|restore", "function|list", "function|dump", "function|stats", "function|delete"]);

/** Starts the VM in the background, once; then runs the commands that waited for it. */
function scriptingStart(): void {
  scripting.starting ??= scriptingCreateLua().then((lua) => {
    scripting.lua = lua;
    // Libraries read from disk meanwhile load first. One that fails, as in Redis, is fatal.
    if (!functionsLoadPending()) {
      log("warning", "Fatal error loading the function libraries read from disk. Exiting.");
      process.exit(1);
    }
    const held = [...scripting.waiting];
    scripting.waiting.clear();
    for (const c of held) {
      if (c.closed || !c.paused) continue;
      c.argv = c.paused;
      c.paused = null;
      processCommandAndResetClient(c);
      c.argv = NO_ARGV;
      if (!c.paused) processInputBuffer(c);
    }
    handleClientsWithPendingWrites();
  }, (err) => {
    // Nothing to run scripts on: the waiting commands fail, and the next one tries again.
    log("warning", `Failed starting the Lua VM: ${(err as Error).message}`);
    scripting.starting = null;
    const held = [...scripting.waiting];
    scripting.waiting.clear();
    for (const c of held) {
      if (c.closed || !c.paused) continue;
      c.paused = null;
      addReplyError(c, `ERR Failed starting the Lua VM: ${(err as Error).message}`);
      processInputBuffer(c);
    }
    handleClientsWithPendingWrites();
  });
}

/** Starts the VM now (for startServer's callers and tests that want no first-use delay). */
async function scriptingReady(): Promise<void> {
  scriptingStart();
  await scripting.starting;
}

// --- EVAL and the SCRIPT command.

const E_NOSCRIPT = "NOSCRIPT No matching script. Please use EVAL.";

/* EVAL script numkeys [key ...] [arg ...], EVAL_RO, EVALSHA sha1 numkeys ..., EVALSHA_RO */
function evalCommand(c: Client): void {
  // Fed here, before the commands the script runs (EVAL itself is skip_monitor).
  if (server.monitors.size) feedMonitors(c, c.argv);
  evalGenericCommand(c, false);
}
function evalShaCommand(c: Client): void {
  if (server.monitors.size) feedMonitors(c, c.argv);
  if (c.argv[1].length !== 40) return addReplyError(c, E_NOSCRIPT);
  evalGenericCommand(c, true);
}

function evalGenericCommand(c: Client, evalsha: boolean): void {
  const numkeys = parseIntOrReply(c, c.argv[2]);
  if (numkeys === undefined) return;
  if (numkeys > c.argv.length - 3) return addReplyError(c, "ERR Number of keys can't be greater than number of args");
  if (numkeys < 0) return addReplyError(c, "ERR Number of keys can't be negative");
  let sha: string | undefined = evalsha ? c.argv[1].toLowerCase() : sha1hex(c.argv[1]);
  if (!scripting.scripts.has(sha)) {
    if (evalsha) return addReplyError(c, E_NOSCRIPT);
    sha = luaCreateFunction(c, c.argv[1]);
    if (sha === undefined) return;
  }
  const script = scripting.scripts.get(sha)!;
  const run = scriptPrepareForRun(c, script.flags, c.argv[0].toLowerCase().endsWith("_ro"));
  if (!run) return;
  const lua = scripting.lua!;
  // KEYS and ARGV are globals, set in the real table behind the read-only one.
  lua.getRef(scripting.realGlobals);
  luaPushArray(c.argv, 3, 3 + numkeys);
  lua.rawSetField(-2, "KEYS");
  luaPushArray(c.argv, 3 + numkeys, c.argv.length);
  lua.rawSetField(-2, "ARGV");
  lua.pop();
  run.name = sha;
  lua.getRef(script.ref);
  scriptStart(run, 0);
  // The script's writes were propagated one by one, as the commands it ran; EVAL itself is not.
  c.preventProp = true;
}

// --- Running a script, in slices when it is long.
//
// A script runs in a Lua thread of its own, with the function and its arguments on the thread's
// stack. Normally it runs to its end at once. Past busy-reply-threshold, the hook (every 100,000
// instructions) yields the thread: its EVAL stays unanswered, its client waits, and the server
// goes back to the event loop, where other clients get BUSY (or SCRIPT KILL, SHUTDOWN NOSAVE), then
// resumes the script for another slice, until it ends. What it wrote is propagated at its end, in
// one MULTI/EXEC, and nothing else touches the dataset meanwhile: no expiry cycle, no eviction,
// no blocked client served.

/** A script past busy-reply-threshold, between two slices, and its EVAL's call() bookkeeping. */
interface SuspendedScript { run: ScriptRun; call: CallState | null }

/** Runs the function on the main stack (above its nargs arguments) as the script `run`. */
function scriptStart(run: ScriptRun, nargs: number): void {
  const lua = scripting.lua!;
  if (scripting.idleThread) {
    // The thread of a script that returned normally runs the next one (Lua 5.1 resumes a thread
    // whose function returned as a new one): no thread to make and reference for each run.
    run.thread = scripting.idleThread;
    run.threadRef = scripting.idleThreadRef;
    scripting.idleThread = 0;
  } else {
    run.thread = lua.newThread();
    lua.pushValue(-1);
    run.threadRef = lua.ref();
    lua.pop(); // the thread, now referenced
  }
  lua.xmove(lua.main, run.thread, nargs + 1);
  const sc = scripting.client!;
  sc.db = run.caller.db;
  sc.resp = 2;
  if (!scriptSlice(run, nargs)) {
    scripting.suspended = { run, call: null };
    run.caller.scriptBlocked = true;
    setImmediate(scriptContinue);
  }
}

/** Resumes the script until it ends (then replies and returns true) or yields again. */
function scriptSlice(run: ScriptRun, nargs: number): boolean {
  const lua = scripting.lua!;
  scripting.run = run;
  let status: number;
  try {
    status = lua.resume(run.thread, nargs);
  } finally {
    scripting.run = null;
  }
  if (status === LUA_YIELD && scripting.hookYield) {
    scripting.hookYield = false;
    return false;
  }
  const c = run.caller;
  if (status === 0) {
    // Its first result is the reply, as Redis's pcall(0, 1) takes it.
    lua.L = run.thread;
    if (lua.top() === 0) lua.pushNil();
    else lua.setTop(1);
    // Under it, a slot for what Redis has there (its error handler): the same stack room is left
    // for the reply's nesting, which ends at the same depth.
    lua.pushNil();
    lua.insert(1);
    luaReplyToRedisReply(c, scripting.client!.resp);
    lua.L = lua.main;
  } else {
    // The error, with where it happened in the script (the thread's stack is as it failed).
    lua.getRef(scripting.threadError);
    lua.getRef(run.threadRef);
    if (status === LUA_YIELD) lua.pushString("attempt to yield across metamethod/C-call boundary");
    else lua.xmove(run.thread, lua.main, 1);
    if (lua.pcall(2, 1, 0) !== 0 || lua.type(-1) !== LUA_TTABLE) {
      addReplyError(c, `ERR Error running script ${run.name}, ${(lua.toString(-1) ?? "execution failure").slice(0, 100)}`);
    } else {
      const e = luaErrorInformation();
      addScriptErrorReply(c, e.line !== null && e.source !== null ? `${e.msg} script: ${run.name}, on ${e.source}:${e.line}.` : e.msg, e.ignoreStats);
    }
    lua.pop();
  }
  if (status === 0 && !scripting.idleThread) {
    lua.L = run.thread;
    lua.setTop(0);
    lua.L = lua.main;
    scripting.idleThread = run.thread;
    scripting.idleThreadRef = run.threadRef;
  } else lua.unref(run.threadRef);
  if (++scripting.gcCount === 50) { lua.gcStep(50); scripting.gcCount = 0; }
  return true;
}

/** The next slice of a suspended script; at its end, what its EVAL's call() left to do. */
function scriptContinue(): void {
  const sus = scripting.suspended!;
  const c = sus.run.caller;
  refreshClockBase();
  // Its commands run as inside its EVAL: at the time it started, their writes held until its end.
  cmdTime = sus.run.cmdTime;
  currentClient = requestClient = c;
  callDepth++;
  let done: boolean;
  try {
    done = scriptSlice(sus.run, 0);
  } finally {
    callDepth--;
  }
  if (!done) {
    requestClient = null;
    setImmediate(scriptContinue);
    handleClientsWithPendingWrites();
    return;
  }
  scripting.suspended = null;
  c.scriptBlocked = false;
  if (sus.call) {
    callEnd(c, sus.call);
    if (c.replyOff || c.replySkip) dropReply(c, sus.call.outMark);
  }
  resetClient(c, sus.run.argv);
  requestClient = null;
  if (readyKeys.length) handleClientsBlockedOnKeys();
  if (!c.closed) processInputBuffer(c);
  if (repl.master && !repl.master.closed) processInputBuffer(repl.master);
  handleClientsWithPendingWrites();
}

/** Every 100,000 instructions of a script: past busy-reply-threshold, the script gives way to the
 *  event loop (when it can: not from under a C function, nor when run by EXEC or the master);
 *  after SCRIPT KILL, it fails. */
function scriptingHook(): void {
  const run = scripting.run, lua = scripting.lua!;
  if (functions.loading) {
    // A library's code past its 500 ms: it fails, at every line from now on.
    if (performance.now() <= functions.loadDeadline) return;
    lua.setHook(0, scriptingHook, true);
    luaPushErrorTable("FUNCTION LOAD timeout");
    lua.raise();
  }
  if (!run) return;
  if (run.killed) {
    log("warning", "Lua script killed by user with SCRIPT KILL.");
    // From now on at every line, in this thread and the script's: a pcall cannot catch it for good.
    lua.setHook(0, scriptingHook, true);
    const here = lua.L;
    lua.L = run.thread;
    lua.setHook(0, scriptingHook, true);
    lua.L = here;
    luaPushErrorTable("Script killed by user with SCRIPT KILL...");
    lua.raise();
  }
  if (!run.timedOut) {
    const elapsed = wallClock() - run.start, limit = confNum("busy-reply-threshold");
    if (limit <= 0 || elapsed < limit) return;
    run.timedOut = true;
    log("warning", `Slow script detected: still in execution after ${elapsed} milliseconds. You can try killing the script using the SCRIPT KILL command. Script name is: ${run.name}.`);
  }
  if (run.canSuspend && lua.canYield()) {
    scripting.hookYield = true;
    lua.yield();
  }
}

/** Pushes argv[from..to) as a Lua array. */
function luaPushArray(argv: string[], from: number, to: number): void {
  const lua = scripting.lua!;
  lua.newTable(to - from);
  for (let i = from; i < to; i++) { lua.pushString(argv[i]); lua.rawSetI(-2, i - from + 1); }
}

/* SCRIPT HELP */
function scriptHelpCommand(c: Client): void {
  addReplyHelp(c, "SCRIPT", [
    "DEBUG (YES|SYNC|NO)", "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]", "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]", "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.", "    * SYNC: Synchronously flush the scripts cache.",
    "KILL", "    Kill the currently executing Lua script.",
    "LOAD <script>", "    Load a script into the scripts cache without executing it.",
  ]);
}

/* SCRIPT FLUSH [ASYNC|SYNC] */
function scriptFlushCommand(c: Client): void {
  if (c.argv.length > 3 || (c.argv.length === 3 && !["sync", "async"].includes(c.argv[2].toLowerCase()))) {
    return addReplyError(c, "ERR SCRIPT FLUSH only support SYNC|ASYNC option");
  }
  // Redis starts a new VM; here the cached functions are dropped and cjson's settings reset, which
  // is all a script can tell (math.random's state is the server's, and goes on, as in Redis).
  const lua = scripting.lua;
  if (lua) {
    for (const s of scripting.scripts.values()) lua.unref(s.ref);
    cjsonResetSettings(lua, scripting.cjsonSettings);
    lua.gcStep(0);
  }
  scripting.scripts.clear();
  scripting.scriptsMemory = 0;
  addReplyOK(c);
}

/* SCRIPT EXISTS sha1 [sha1 ...] */
function scriptExistsCommand(c: Client): void {
  addReplyArrayLen(c, c.argv.length - 2);
  for (let i = 2; i < c.argv.length; i++) addReplyLongLong(c, scripting.scripts.has(c.argv[i].toLowerCase()) ? 1 : 0);
}

/* SCRIPT LOAD script */
function scriptLoadCommand(c: Client): void {
  const sha = luaCreateFunction(c, c.argv[2]);
  if (sha !== undefined) addReplyBulk(c, sha);
}

/* SCRIPT DEBUG YES|SYNC|NO: there is no debugger; NO (the state every client is in) is accepted. */
function scriptDebugCommand(c: Client): void {
  if (c.outLen > 0) return addReplyError(c, "ERR SCRIPT DEBUG must be called outside a pipeline");
  if (c.argv[2].toLowerCase() === "no") return addReplyOK(c);
  addReplyError(c, "ERR Use SCRIPT DEBUG YES/SYNC/NO");
}

/* SCRIPT KILL: stops a script past busy-reply-threshold that has not written yet. */
function scriptKillCommand(c: Client): void { scriptKill(c, true); }

/** SCRIPT KILL (isEval) and FUNCTION KILL: each ends only its own kind of script. */
function scriptKill(c: Client, isEval: boolean): void {
  const run = scripting.suspended?.run;
  if (!run) return addReplyError(c, "NOTBUSY No scripts in execution right now.");
  if (run.caller.isMaster) {
    return addReplyError(c, "UNKILLABLE The busy script was sent by a master instance in the context of replication and cannot be killed.");
  }
  if (run.writeDirty) {
    return addReplyError(c, "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.");
  }
  if (run.isEval !== isEval) return addReplyError(c, run.isEval ? E.busyScript : E.busyFunction);
  run.killed = true;
  addReplyOK(c);
}

/** Memory INFO reports: the VM's heap and the cached scripts' bodies. */
function scriptingInfoMemory(): { vm: number; scripts: number } {
  return { vm: scripting.lua ? scripting.lua.memoryKb() * 1024 : 0, scripts: scripting.scriptsMemory };
}

// --- Functions: libraries of named scripts (FUNCTION LOAD, FCALL).
//
// A library is Lua code whose first line names it (`#!lua name=mylib`); running it registers its
// functions with redis.register_function, under the library globals the sandbox made (see there).
// Functions are called by name, with keys and arguments as their two parameters. Libraries are
// data: they are saved in the RDB (RDB_OPCODE_FUNCTION2, the code), the AOF (FUNCTION LOAD) and
// replicated, and survive FLUSHALL. Read from disk before the VM has started, a library waits in
// `pending` (its name known, its code not run) until the VM starts, which reading one triggers.

/** A library: its name, its code (with the first line) and its functions by name. */
interface FunctionLibrary { name: string; code: string; functions: Map<string, LuaFunction> }
/** A registered function: the callback (a registry reference), its flags and description. */
interface LuaFunction { name: string; library: FunctionLibrary; ref: number; flags: number; description: string | null }
/** Libraries and their functions; FUNCTION RESTORE builds one aside before joining it in. */
interface FunctionsSet { libraries: Map<string, FunctionLibrary>; byName: Map<string, LuaFunction> }

const FUNCTION_LOAD_TIMEOUT_MS = 500; // a library's code only registers functions: it has 500 ms
const E_FUNCTION_NAME = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

function newFunctionsSet(): FunctionsSet { return { libraries: new Map(), byName: new Map() }; }

/** The name and engine of a library's first line, and the code after it (its line feed kept, so
 *  line numbers stay the user's); or Redis's error text. */
function functionExtractLibMetaData(code: string): { engine: string; name: string; body: string } | { err: string } {
  if (!code.startsWith("#!")) return { err: "Missing library metadata" };
  const end = code.indexOf("\n");
  if (end < 0) return { err: "Invalid library metadata" };
  const parts = splitArgs(code.slice(0, end));
  if (!parts || parts.length === 0) return { err: "Invalid library metadata" };
  let name: string | null = null;
  for (const part of parts.slice(1)) {
    if (part.slice(0, 5).toLowerCase() !== "name=") return { err: `Invalid metadata value given: ${part}` };
    if (name !== null) return { err: "Invalid metadata value, name argument was given multiple times" };
    name = part.slice(5);
  }
  if (name === null) return { err: "Library name was not given" };
  return { engine: parts[0].slice(2), name, body: code.slice(end) };
}

/** Letters, digits and underscores, at least one. */
function functionsVerifyName(name: string): boolean { return /^[a-zA-Z0-9_]+$/.test(name); }

function libraryLink(set: FunctionsSet, lib: FunctionLibrary): void {
  set.libraries.set(lib.name, lib);
  for (const f of lib.functions.values()) set.byName.set(f.name.toLowerCase(), f);
}
function libraryUnlink(set: FunctionsSet, lib: FunctionLibrary): void {
  set.libraries.delete(lib.name);
  for (const f of lib.functions.values()) set.byName.delete(f.name.toLowerCase());
}
/** Forgets a library's compiled functions. */
function libraryFree(lib: FunctionLibrary): void {
  for (const f of lib.functions.values()) scripting.lua!.unref(f.ref);
}

/** Compiles a library and runs its code into `set` (Redis's functionsCreateWithLibraryCtx),
 *  replacing one of the same name if `replace`; returns its name or the error. `timeout` is 0 for
 *  code the master or the disk sent, which must load. */
function functionsCreateLibrary(code: string, replace: boolean, set: FunctionsSet, timeout: number): { name: string } | { err: string } {
  const md = functionExtractLibMetaData(code);
  if ("err" in md) return md;
  if (!functionsVerifyName(md.name)) return { err: E_FUNCTION_NAME };
  if (md.engine.toLowerCase() !== "lua") return { err: `Engine '${md.engine}' not found` };
  const old = set.libraries.get(md.name);
  if (old && !replace) return { err: `Library '${md.name}' already exists` };
  if (old) libraryUnlink(set, old);
  const lib: FunctionLibrary = { name: md.name, code, functions: new Map() };
  const err = luaEngineCreate(lib, md.body, timeout)
    ?? (lib.functions.size === 0 ? "No functions registered" : null)
    ?? [...lib.functions.values()].map((f) => set.byName.has(f.name.toLowerCase()) ? `Function ${f.name} already exists` : null).find((e) => e) ?? null;
  if (err !== null) {
    libraryFree(lib);
    if (old) libraryLink(set, old);
    return { err };
  }
  libraryLink(set, lib);
  if (old) libraryFree(old);
  return { name: md.name };
}

/** Runs a library's code under the library API; its redis.register_function calls fill `lib`.
 *  Returns the error text, or null. */
function luaEngineCreate(lib: FunctionLibrary, body: string, timeout: number): string | null {
  const lua = scripting.lua!;
  const err = lua.load(body, "@user_function");
  if (err !== null) return `Error compiling function: ${err}`;
  lua.getRef(functions.env);
  lua.setFenv(-2);
  functionsSetLoading(true);
  functions.loading = lib;
  functions.loadDeadline = timeout > 0 ? performance.now() + timeout : Infinity;
  let msg: string | null = null;
  try {
    if (lua.pcall(0, 0, 0) !== 0) {
      // A string error takes ERR; an error table (as register_function raises) has its own code.
      if (lua.type(-1) === LUA_TTABLE) msg = luaErrorInformation().msg;
      else msg = `ERR ${lua.toString(-1) ?? ""}`;
      lua.pop();
      msg = `Error registering functions: ${msg}`;
    }
  } finally {
    functions.loading = null;
    functionsSetLoading(false);
    lua.setHook(100000, scriptingHook); // back from the timeout's every-line hook, if it fired
  }
  return msg;
}

/** Switches the functions' globals between the library API (while a library loads) and the
 *  globals functions run with. */
function functionsSetLoading(loading: boolean): void {
  const lua = scripting.lua!;
  lua.getRef(functions.setLoading);
  lua.pushBoolean(loading);
  lua.pcall(1, 0, 0);
}

/** redis.register_function(name, callback) or redis.register_function{function_name=, callback=,
 *  flags=, description=}: adds a function to the library being loaded. */
function luaRegisterFunction(): number {
  const lua = scripting.lua!, lib = functions.loading;
  const fail = (msg: string): number => { luaPushErrorTable(msg); return lua.raise(); };
  if (!lib) return fail("redis.register_function can only be called on FUNCTION LOAD command");
  const argc = lua.top();
  if (argc < 1 || argc > 2) return fail("wrong number of arguments to redis.register_function");
  let name: string | null = null, description: string | null = null, ref = -1, flags = 0;
  const error = (msg: string): number => { if (ref !== -1) lua.unref(ref); return fail(msg); };
  const isString = (i: number) => { const t = lua.type(i); return t === LUA_TSTRING || t === LUA_TNUMBER; };
  if (argc === 2) {
    if (!isString(1)) return error("first argument to redis.register_function must be a string");
    if (lua.type(2) !== LUA_TFUNCTION) return error("second argument to redis.register_function must be a function");
    name = lua.toString(1)!;
    lua.pushValue(2);
    ref = lua.ref();
  } else {
    if (lua.type(1) !== LUA_TTABLE) return error("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
    lua.pushNil();
    while (lua.next(1)) {
      if (!isString(-2)) return error("named argument key given to redis.register_function is not a string");
      const key = lua.toString(-2)!.toLowerCase();
      if (key === "function_name") {
        if (!isString(-1)) return error("function_name argument given to redis.register_function must be a string");
        name = lua.toString(-1)!;
      } else if (key === "description") {
        if (!isString(-1)) return error("description argument given to redis.register_function must be a string");
        description = lua.toString(-1)!;
      } else if (key === "callback") {
        if (lua.type(-1) !== LUA_TFUNCTION) return error("callback argument given to redis.register_function must be a function");
        if (ref !== -1) lua.unref(ref);
        lua.pushValue(-1);
        ref = lua.ref();
      } else if (key === "flags") {
        if (lua.type(-1) !== LUA_TTABLE) return error("flags argument to redis.register_function must be a table representing function flags");
        for (let j = 1; ; j++) {
          lua.rawGetI(-1, j);
          if (lua.type(-1) === LUA_TNIL) { lua.pop(); break; }
          const bit = isString(-1) ? SCRIPT_FLAG_NAMES[lua.toString(-1)!.toLowerCase()] : undefined;
          lua.pop();
          if (bit === undefined) return error("unknown flag given");
          flags |= bit;
        }
      } else return error("unknown argument given to redis.register_function");
      lua.pop();
    }
    if (name === null) return error("redis.register_function must get a function name argument");
    if (ref === -1) return error("redis.register_function must get a callback argument");
  }
  if (!functionsVerifyName(name!)) return error(E_FUNCTION_NAME);
  if (lib.functions.has(name!)) return error("Function already exists in the library");
  lib.functions.set(name!, { name: name!, library: lib, ref, flags, description });
  return 0;
}

/** Libraries read from disk while the VM was down, loaded once it is up. Returns false when one
 *  fails to load (it was logged). */
function functionsLoadPending(): boolean {
  let ok = true;
  for (const code of functions.pending.values()) {
    const res = functionsCreateLibrary(code, true, functions, 0);
    if ("err" in res) { log("warning", `Failed loading a function library read from disk: ${res.err}`); ok = false; }
  }
  functions.pending.clear();
  return ok;
}

/** A library read from disk or from the master (FUNCTION LOAD in an AOF, RDB_OPCODE_FUNCTION2):
 *  loaded now if the VM is up, else kept by name until it starts. Returns the error, or null. */
function functionsLoadFromDisk(code: string, replace: boolean): string | null {
  if (scripting.lua) {
    const res = functionsCreateLibrary(code, replace, functions, 0);
    return "err" in res ? res.err : null;
  }
  const md = functionExtractLibMetaData(code);
  if ("err" in md) return md.err;
  if (!replace && functions.pending.has(md.name)) return `Library '${md.name}' already exists`;
  functions.pending.set(md.name, code);
  scriptingStart();
  return null;
}

/** Drops every library (FUNCTION FLUSH, FUNCTION RESTORE FLUSH, a full sync, DEBUG RELOAD). */
function functionsClear(): void {
  if (scripting.lua) for (const lib of functions.libraries.values()) libraryFree(lib);
  functions.libraries.clear();
  functions.byName.clear();
  functions.pending.clear();
}

/** The libraries' codes, in order, including those still waiting for the VM: what is saved. */
function functionsCodes(): string[] {
  return [...[...functions.libraries.values()].map((l) => l.code), ...functions.pending.values()];
}

/** The libraries in an RDB or an AOF base: one RDB_OPCODE_FUNCTION2 and the code each, or the
 *  FUNCTION LOAD commands that recreate them. */
function rdbWriteFunctions(w: RdbWriter, format: "rdb" | "aof"): void {
  for (const code of functionsCodes()) {
    if (format === "aof") w.latin1(respCommand(["FUNCTION", "LOAD", code]));
    else { w.byte(RDB_OPCODE_FUNCTION2); w.string(code); }
  }
}

/** A library entry of an RDB file or a FUNCTION DUMP payload, after its opcode: the code, or in the
 *  format of 7.0's release candidates (RDB_OPCODE_FUNCTION) name, engine, description, code. */
function rdbReadFunction(r: RdbReader, type: number): string {
  if (type === RDB_OPCODE_FUNCTION) {
    r.string(); r.string();
    if (r.length()) r.string();
  }
  return r.string();
}

/* FCALL function numkeys [key ...] [arg ...], FCALL_RO */
function fcallCommand(c: Client): void {
  // Fed here, before the commands the function runs (FCALL itself is skip_monitor).
  if (server.monitors.size) feedMonitors(c, c.argv);
  const fn = functions.byName.get(c.argv[1].toLowerCase());
  if (!fn) return addReplyError(c, "ERR Function not found");
  const numkeys = string2ll(c.argv[2]);
  if (numkeys === null) return addReplyError(c, "ERR Bad number of keys provided");
  if (numkeys > c.argv.length - 3) return addReplyError(c, "ERR Number of keys can't be greater than number of args");
  if (numkeys < 0) return addReplyError(c, "ERR Number of keys can't be negative");
  const run = scriptPrepareForRun(c, fn.flags, c.argv[0].toLowerCase() === "fcall_ro");
  if (!run) return;
  run.name = fn.name;
  run.isEval = false;
  const lua = scripting.lua!;
  lua.getRef(fn.ref);
  luaPushArray(c.argv, 3, 3 + numkeys);
  luaPushArray(c.argv, 3 + numkeys, c.argv.length);
  scriptStart(run, 2);
  c.preventProp = true;
}

/** FCALL's flags as its function's flags make them, for processCommand's gates. */
function fcallCommandFlags(argv: string[], cmd: RedisCommand): number {
  const fn = argv.length >= 2 ? functions.byName.get(argv[1].toLowerCase()) : undefined;
  return fn ? scriptFlagsToCmdFlags(cmd.flags, fn.flags) : cmd.flags;
}

/* FUNCTION LOAD [REPLACE] code */
function functionLoadCommand(c: Client): void {
  let replace = false, i = 2;
  for (; i < c.argv.length - 1; i++) {
    if (c.argv[i].toLowerCase() !== "replace") return addReplyError(c, `ERR Unknown option given: ${c.argv[i]}`);
    replace = true;
  }
  if (c.isAof || c.isMaster) {
    const err = functionsLoadFromDisk(c.argv[i], replace);
    if (err !== null) return addReplyError(c, `ERR ${err}`);
    server.dirty++;
    return addReplyBulk(c, (functionExtractLibMetaData(c.argv[i]) as { name: string }).name);
  }
  const res = functionsCreateLibrary(c.argv[i], replace, functions, FUNCTION_LOAD_TIMEOUT_MS);
  if ("err" in res) return addReplyError(c, `ERR ${res.err}`);
  server.dirty++;
  addReplyBulk(c, res.name);
}

/* FUNCTION DELETE library */
function functionDeleteCommand(c: Client): void {
  const lib = functions.libraries.get(c.argv[2]);
  if (!lib) {
    if (!functions.pending.delete(c.argv[2])) return addReplyError(c, "ERR Library not found");
  } else {
    libraryUnlink(functions, lib);
    libraryFree(lib);
  }
  server.dirty++;
  addReplyOK(c);
}

/* FUNCTION FLUSH [ASYNC | SYNC] */
function functionFlushCommand(c: Client): void {
  if (c.argv.length > 3) return addReplySubcommandSyntaxError(c);
  if (c.argv.length === 3 && !["sync", "async"].includes(c.argv[2].toLowerCase())) {
    return addReplyError(c, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
  }
  functionsClear();
  server.dirty++;
  addReplyOK(c);
}

/* FUNCTION KILL */
function functionKillCommand(c: Client): void { scriptKill(c, false); }

/* FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE] */
function functionListCommand(c: Client): void {
  let withCode = false, pattern: string | null = null;
  for (let i = 2; i < c.argv.length; i++) {
    const arg = c.argv[i].toLowerCase();
    if (!withCode && arg === "withcode") { withCode = true; continue; }
    if (pattern === null && arg === "libraryname") {
      if (i >= c.argv.length - 1) return addReplyError(c, "ERR library name argument was not given");
      pattern = c.argv[++i];
      continue;
    }
    return addReplyError(c, `ERR Unknown argument ${c.argv[i]}`);
  }
  const libs = [...functions.libraries.values()].filter((l) => pattern === null || stringmatch(pattern, l.name, true));
  addReplyArrayLen(c, libs.length);
  for (const lib of libs) {
    addReplyMapLen(c, withCode ? 4 : 3);
    addReplyBulk(c, "library_name");
    addReplyBulk(c, lib.name);
    addReplyBulk(c, "engine");
    addReplyBulk(c, "LUA");
    addReplyBulk(c, "functions");
    addReplyArrayLen(c, lib.functions.size);
    for (const f of lib.functions.values()) {
      addReplyMapLen(c, 3);
      addReplyBulk(c, "name");
      addReplyBulk(c, f.name);
      addReplyBulk(c, "description");
      if (f.description === null) addReplyNull(c);
      else addReplyBulk(c, f.description);
      addReplyBulk(c, "flags");
      const names = Object.entries(SCRIPT_FLAG_NAMES).filter(([, bit]) => f.flags & bit);
      addReplySetLen(c, names.length);
      for (const [name] of names) addReplyStatus(c, name);
    }
    if (withCode) {
      addReplyBulk(c, "library_code");
      addReplyBulk(c, lib.code);
    }
  }
}

/* FUNCTION STATS: the function running (past busy-reply-threshold), and the libraries' counts. */
function functionStatsCommand(c: Client): void {
  const run = scripting.suspended?.run;
  if (run?.isEval) return addReplyError(c, E.busyScript);
  addReplyMapLen(c, 2);
  addReplyBulk(c, "running_script");
  if (!run) addReplyNull(c);
  else {
    addReplyMapLen(c, 3);
    addReplyBulk(c, "name");
    addReplyBulk(c, run.name);
    addReplyBulk(c, "command");
    addReplyArrayLen(c, run.argv.length);
    for (const a of run.argv) addReplyBulk(c, a);
    addReplyBulk(c, "duration_ms");
    addReplyLongLong(c, wallClock() - run.start);
  }
  addReplyBulk(c, "engines");
  addReplyMapLen(c, 1);
  addReplyBulk(c, "LUA");
  addReplyMapLen(c, 2);
  addReplyBulk(c, "libraries_count");
  addReplyLongLong(c, functions.libraries.size);
  addReplyBulk(c, "functions_count");
  addReplyLongLong(c, functions.byName.size);
}

/* FUNCTION DUMP: the libraries as a payload FUNCTION RESTORE takes, framed as DUMP's. */
function functionDumpCommand(c: Client): void {
  const w = new RdbWriter();
  rdbWriteFunctions(w, "rdb");
  addReplyBulk(c, dumpPayloadFrame(w).latin1Slice());
}

/* FUNCTION RESTORE payload [FLUSH | APPEND | REPLACE] */
function functionRestoreCommand(c: Client): void {
  if (c.argv.length > 4) return addReplySubcommandSyntaxError(c);
  const policy = c.argv.length === 4 ? c.argv[3].toLowerCase() : "append";
  if (!["append", "replace", "flush"].includes(policy)) {
    return addReplyError(c, "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
  }
  const payload = Buffer.from(c.argv[2], "latin1");
  if (!verifyDumpPayload(payload)) return addReplyError(c, "ERR DUMP payload version or checksum are wrong");
  if (!scripting.lua) return functionRestoreFromDisk(c, payload, policy);
  // The payload's libraries go into a set of their own first: nothing changes unless all load.
  const set = newFunctionsSet();
  const fail = (err: string) => {
    for (const lib of set.libraries.values()) libraryFree(lib);
    addReplyError(c, `ERR ${err}`);
  };
  const r = new RdbReader(payload);
  try {
    while (payload.length - r.pos > 10) {
      const type = r.byte();
      if (type !== RDB_OPCODE_FUNCTION && type !== RDB_OPCODE_FUNCTION2) return fail("given type is not a function");
      const res = functionsCreateLibrary(rdbReadFunction(r, type), false, set, 0);
      if ("err" in res) return fail(res.err);
    }
  } catch {
    return fail("failed loading the given functions payload");
  }
  if (policy === "flush") functionsClear();
  else {
    // Joined in as Redis's libraryJoin: a library of the same name is an error or, with
    // REPLACE, replaced; a function of the same name in another library is an error.
    const replaced: FunctionLibrary[] = [];
    const undo = (err: string) => { for (const lib of replaced) libraryLink(functions, lib); fail(err); };
    for (const lib of set.libraries.values()) {
      const old = functions.libraries.get(lib.name);
      if (!old) continue;
      if (policy !== "replace") return undo(`Library ${lib.name} already exists`);
      libraryUnlink(functions, old);
      replaced.push(old);
    }
    for (const f of set.byName.values()) if (functions.byName.has(f.name.toLowerCase())) return undo(`Function ${f.name} already exists`);
    for (const lib of replaced) libraryFree(lib);
  }
  for (const lib of set.libraries.values()) libraryLink(functions, lib);
  server.dirty++;
  addReplyOK(c);
}

/** FUNCTION RESTORE read from the AOF before the VM started: its libraries wait in `pending`. */
function functionRestoreFromDisk(c: Client, payload: Buffer, policy: string): void {
  if (policy === "flush") functionsClear();
  const r = new RdbReader(payload);
  try {
    while (payload.length - r.pos > 10) {
      const type = r.byte();
      if (type !== RDB_OPCODE_FUNCTION && type !== RDB_OPCODE_FUNCTION2) return addReplyError(c, "ERR given type is not a function");
      const err = functionsLoadFromDisk(rdbReadFunction(r, type), policy !== "append");
      if (err !== null) return addReplyError(c, `ERR ${err}`);
    }
  } catch {
    return addReplyError(c, "ERR failed loading the given functions payload");
  }
  server.dirty++;
  addReplyOK(c);
}

/* FUNCTION HELP */
function functionHelpCommand(c: Client): void {
  addReplyHelp(c, "FUNCTION", [
    "LOAD [REPLACE] <FUNCTION CODE>", "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>", "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]", "    Return general information on all the libraries:", "    * Library name",
    "    * The engine used to run the Library", "    * Library description", "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS", "    Return information about the current function running:", "    * Function name",
    "    * Command used to run the function", "    * Duration in MS that the function is running",
    "    If no function is running, return nil", "    In addition, returns a list of available engines.",
    "KILL", "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]", "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.", "    * SYNC: Synchronously flush the libraries.",
    "DUMP", "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):", "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
  ]);
}

/** What INFO memory says of functions: their count, their libraries', and what they take. */
function functionsInfoMemory(): { functions: number; libraries: number; memory: number } {
  let memory = 0;
  for (const lib of functions.libraries.values()) {
    memory += lib.code.length + lib.name.length + 64;
    for (const f of lib.functions.values()) memory += f.name.length + (f.description?.length ?? 0) + 64;
  }
  return { functions: functions.byName.size, libraries: functions.libraries.size, memory };
}

/** Commands whose flags depend on their arguments, for processCommand's gates. */
const COMMAND_FLAGS_OF: Record<string, (argv: string[], cmd: RedisCommand) => number> = {
  eval: evalCommandFlags, evalsha: evalCommandFlags, eval_ro: evalCommandFlags, evalsha_ro: evalCommandFlags,
  fcall: fcallCommandFlags, fcall_ro: fcallCommandFlags,
};

const SCRIPTING_COMMANDS: CommandRows[] = [
  { group: "scripting", specs: [
    ["eval", -3, "noscript stale skip_monitor may_replicate no_mandatory_keys movablekeys", 0, 0, 0, "scripting", evalCommand],
    ["evalsha", -3, "noscript stale skip_monitor may_replicate no_mandatory_keys movablekeys", 0, 0, 0, "scripting", evalShaCommand],
    ["eval_ro", -3, "readonly noscript stale skip_monitor no_mandatory_keys movablekeys", 0, 0, 0, "scripting", evalCommand],
    ["evalsha_ro", -3, "readonly noscript stale skip_monitor no_mandatory_keys movablekeys", 0, 0, 0, "scripting", evalShaCommand],
    ["script", -2, "", 0, 0, 0, "", () => {}],
    ["fcall", -3, "noscript stale skip_monitor may_replicate no_mandatory_keys movablekeys", 0, 0, 0, "scripting", fcallCommand],
    ["fcall_ro", -3, "readonly noscript stale skip_monitor no_mandatory_keys movablekeys", 0, 0, 0, "scripting", fcallCommand],
    ["function", -2, "", 0, 0, 0, "", () => {}],
  ], subs: { script: [ // in the order Redis lists them
    ["load", 3, "noscript stale", 0, 0, 0, "scripting", scriptLoadCommand],
    ["exists", -3, "noscript", 0, 0, 0, "scripting", scriptExistsCommand],
    ["debug", 3, "noscript", 0, 0, 0, "scripting", scriptDebugCommand],
    ["kill", 2, "noscript allow_busy", 0, 0, 0, "scripting", scriptKillCommand],
    ["flush", -2, "noscript", 0, 0, 0, "scripting", scriptFlushCommand],
    ["help", 2, "loading stale", 0, 0, 0, "scripting", scriptHelpCommand],
  ], function: [
    ["delete", 3, "write noscript", 0, 0, 0, "scripting", functionDeleteCommand],
    ["dump", 2, "noscript", 0, 0, 0, "scripting", functionDumpCommand],
    ["flush", -2, "write noscript", 0, 0, 0, "scripting", functionFlushCommand],
    ["help", 2, "loading stale", 0, 0, 0, "scripting", functionHelpCommand],
    ["kill", 2, "noscript allow_busy", 0, 0, 0, "scripting", functionKillCommand],
    ["list", -2, "noscript", 0, 0, 0, "scripting", functionListCommand],
    ["load", -3, "write denyoom noscript", 0, 0, 0, "scripting", functionLoadCommand],
    ["restore", -3, "write denyoom noscript", 0, 0, 0, "scripting", functionRestoreCommand],
    ["stats", 2, "noscript allow_busy", 0, 0, 0, "scripting", functionStatsCommand],
  ] } },
];

// ############################################################################################
// Part III. Containers and algorithms
//
// The data structures the chapters build on, each behind a small interface with its byte layout
// named, and the algorithms Redis's formats need. Optimizations live here, with the why in a
// comment and the numbers in bench/results.md.
// ############################################################################################

// ============================================================================================
// Hash tables
//
// Dict is the one hash table: entries live in dense slots (keyAt(i), valAt(i)) indexed by an
// open-addressing table, and deleting swaps the last slot into the hole. Short keys and values
// live as bytes in an Arena rather than as JS strings. Db is a Dict of keys with per-slot arrays
// (access clock, save mark, memory estimate) kept in step with its slots.
// ============================================================================================

// Dense slots give O(1) random entries (RANDOMKEY, SPOP, HRANDFIELD ...) without copying, and a
// SCAN that never misses an entry: a scan walks the slots from the top down, and a swap only ever
// moves the top slot (already visited) downwards.

/** A string's hash for Dict: FNV-1a over its bytes with a seed drawn at startup (so nobody can
 *  prepare colliding keys, as Redis seeds its siphash), then a final mix. */
const DICT_SEED = crypto.getRandomValues(new Int32Array(1))[0];
function dictHash(s: string): number {
  let h = DICT_SEED ^ s.length;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return hashMix(h);
}
/** dictHash of the n bytes of b from `start`. */
function dictHashBytes(b: Buffer, start: number, n: number): number {
  let h = DICT_SEED ^ n;
  for (let i = start; i < start + n; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return hashMix(h);
}
function hashMix(h: number): number {
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return h ^ (h >>> 12);
}

// Arrays that can grow to millions of entries are kept in pages of 4096 (see Dict.pages).
const PAGE_BITS = 12, PAGE_MASK = (1 << PAGE_BITS) - 1;

// A JS string costs about 50 bytes of memory beyond its characters (its cell, its header, the
// allocator's rounding), and the collector visits each one (bench/results.md has what that did to
// a million keys). So a Dict whose values are mostly
// strings (a database, a hash) keeps a key of at most PACK_MAX bytes with its string value of at
// most PACK_MAX bytes as one entry of bytes in an Arena (and a set's Dict a member of at most
// PACK_MAX bytes, with an empty value):
//   [key length][value length][slot: 4 bytes, little-endian][key][value]
// The entry knows its Dict slot, so that the Dict's index can point at the entry itself: a lookup
// in a big table then reads the index and the entry (two cache misses), not also the slot.
const PACK_MAX = 255;
// An entry, at offset o of its chunk: key length, value length, Dict slot, then key and value.
const ENTRY_KLEN = 0, ENTRY_VLEN = 1, ENTRY_SLOT = 2, ENTRY_KEY = 6;
// A handle: the chunk's number above HANDLE_CHUNK_SHIFT bits, the entry's offset below.
const HANDLE_CHUNK_SHIFT = 16, HANDLE_OFFSET_MASK = (1 << HANDLE_CHUNK_SHIFT) - 1;
const ARENA_CHUNK = 1 << HANDLE_CHUNK_SHIFT; // the largest chunk
// A handle must fit an Int32 (the index holds ~handle): an arena of 2 GiB packs no more entries.
const ARENA_MAX_CHUNKS = 2 ** 31 / ARENA_CHUNK;

/** Entries of bytes in chunks of Buffer, allocated in size classes of 4 bytes with a free list
 *  each, so that a freed entry is reused by the next of its size. Chunks grow with the arena,
 *  from 64 bytes (a hash of one field) to 64 KiB. */
class Arena {
  private chunks: Buffer[] = [];
  private used = 0; // bytes taken in the last chunk
  private total = 0;
  private free: number[][] = [];
  private static size(klen: number, vlen: number): number { return (ENTRY_KEY + klen + vlen + 3) & ~3; }
  /** True when the next entry could need a chunk past the last one a handle can name. */
  get full(): boolean { return this.chunks.length >= ARENA_MAX_CHUNKS - 1; }
  /** A new entry for key and val in Dict slot `slot`; returns its handle. */
  alloc(key: string, val: string, slot: number): number {
    const h = this.take(Arena.size(key.length, val.length)), b = this.chunks[h >>> HANDLE_CHUNK_SHIFT], o = h & HANDLE_OFFSET_MASK;
    b[o + ENTRY_KLEN] = key.length;
    Arena.setSlot(b, o, slot);
    Arena.put(b, o + ENTRY_KEY, key);
    this.putVal(b, o, val);
    return h;
  }
  slotOf(h: number): number {
    const b = this.chunks[h >>> HANDLE_CHUNK_SHIFT], o = h & HANDLE_OFFSET_MASK;
    return b[o + ENTRY_SLOT] | (b[o + ENTRY_SLOT + 1] << 8) | (b[o + ENTRY_SLOT + 2] << 16) | (b[o + ENTRY_SLOT + 3] << 24);
  }
  moveTo(h: number, slot: number): void { Arena.setSlot(this.chunks[h >>> HANDLE_CHUNK_SHIFT], h & HANDLE_OFFSET_MASK, slot); }
  private static setSlot(b: Buffer, o: number, slot: number): void {
    b[o + ENTRY_SLOT] = slot; b[o + ENTRY_SLOT + 1] = slot >>> 8; b[o + ENTRY_SLOT + 2] = slot >>> 16; b[o + ENTRY_SLOT + 3] = slot >>> 24;
  }
  /** Copies s into b at p. (Its own copy of writeLatin1: that one, called with the clients'
   *  output buffers too, was slower per SET here: bench/results.md.) */
  private static put(b: Buffer, p: number, s: string): void {
    const n = s.length;
    if (n > 16) b.latin1Write(s, p);
    else for (let i = 0; i < n; i++) b[p + i] = s.charCodeAt(i);
  }
  private take(size: number): number {
    const list = this.free[size >> 2];
    if (list !== undefined && list.length > 0) return list.pop()!;
    let c = this.chunks.length - 1;
    if (c < 0 || this.used + size > this.chunks[c].length) {
      let n = 64;
      while (n < size || (n < this.total && n < ARENA_CHUNK)) n *= 2;
      this.chunks.push(Buffer.allocUnsafe(n));
      c++;
      this.used = 0;
    }
    const h = (c << HANDLE_CHUNK_SHIFT) + this.used;
    this.used += size;
    this.total += size;
    return h;
  }
  private putVal(b: Buffer, o: number, val: string): void {
    b[o + ENTRY_VLEN] = val.length;
    Arena.put(b, o + ENTRY_KEY + b[o + ENTRY_KLEN], val);
  }
  release(h: number): void {
    const b = this.chunks[h >>> HANDLE_CHUNK_SHIFT], o = h & HANDLE_OFFSET_MASK, cls = Arena.size(b[o + ENTRY_KLEN], b[o + ENTRY_VLEN]) >> 2;
    (this.free[cls] ??= []).push(h);
  }
  /** Gives entry h the value val: in place if its size class allows, else in a new entry whose
   *  handle it returns. */
  setVal(h: number, val: string): number {
    const b = this.chunks[h >>> HANDLE_CHUNK_SHIFT], o = h & HANDLE_OFFSET_MASK, klen = b[o + ENTRY_KLEN];
    const size = Arena.size(klen, val.length);
    if (size === Arena.size(klen, b[o + ENTRY_VLEN])) { this.putVal(b, o, val); return h; }
    const h2 = this.take(size), b2 = this.chunks[h2 >>> HANDLE_CHUNK_SHIFT], o2 = h2 & HANDLE_OFFSET_MASK;
    b.copy(b2, o2, o, o + ENTRY_KEY + klen);
    this.putVal(b2, o2, val);
    this.release(h);
    return h2;
  }
  key(h: number): string { const b = this.chunks[h >>> HANDLE_CHUNK_SHIFT], o = h & HANDLE_OFFSET_MASK; return b.latin1Slice(o + ENTRY_KEY, o + ENTRY_KEY + b[o + ENTRY_KLEN]); }
  valLength(h: number): number { return this.chunks[h >>> HANDLE_CHUNK_SHIFT][(h & HANDLE_OFFSET_MASK) + ENTRY_VLEN]; }
  /** Entry h's value as a number if it is an integer as string2ll reads one, of at most 15
   *  digits (exact in a double); else NaN. */
  intVal(h: number): number {
    const b = this.chunks[h >>> HANDLE_CHUNK_SHIFT], o = h & HANDLE_OFFSET_MASK, v = o + ENTRY_KEY + b[o + ENTRY_KLEN], n = b[o + ENTRY_VLEN];
    return n > 16 || (n === 16 && b[v] !== 45) ? NaN : parseIntBytes(b, v, v + n);
  }
  /** The lengths of entry h's key and value together. */
  bytes(h: number): number { const b = this.chunks[h >>> HANDLE_CHUNK_SHIFT], o = h & HANDLE_OFFSET_MASK; return b[o + ENTRY_KLEN] + b[o + ENTRY_VLEN]; }
  val(h: number): string {
    const b = this.chunks[h >>> HANDLE_CHUNK_SHIFT], o = h & HANDLE_OFFSET_MASK, v = o + ENTRY_KEY + b[o + ENTRY_KLEN];
    return b.latin1Slice(v, v + b[o + ENTRY_VLEN]);
  }
  keyIs(h: number, key: string): boolean {
    const b = this.chunks[h >>> HANDLE_CHUNK_SHIFT], o = h & HANDLE_OFFSET_MASK, n = key.length;
    if (b[o + ENTRY_KLEN] !== n) return false;
    for (let i = 0; i < n; i++) if (b[o + ENTRY_KEY + i] !== key.charCodeAt(i)) return false;
    return true;
  }
  hash(h: number): number { const b = this.chunks[h >>> HANDLE_CHUNK_SHIFT], o = h & HANDLE_OFFSET_MASK; return dictHashBytes(b, o + ENTRY_KEY, b[o + ENTRY_KLEN]); }
  /** Replies with entry h's value as a bulk string. */
  replyVal(c: Client, h: number): void {
    const b = this.chunks[h >>> HANDLE_CHUNK_SHIFT], o = h & HANDLE_OFFSET_MASK, v = o + ENTRY_KEY + b[o + ENTRY_KLEN];
    addReplyBulkBytes(c, b, v, v + b[o + ENTRY_VLEN]);
  }
  /** Writes the entry's key as a bulk reply, straight from the arena. */
  replyKey(c: Client, h: number): void {
    const b = this.chunks[h >>> HANDLE_CHUNK_SHIFT], o = h & HANDLE_OFFSET_MASK;
    addReplyBulkBytes(c, b, o + ENTRY_KEY, o + ENTRY_KEY + b[o + ENTRY_KLEN]);
  }
}

class Dict<V> {
  // The entries, key then value, slot i at pages[i >> PAGE_BITS][2 * (i & PAGE_MASK)]:
  // in pages of 4096 rather than one array because JavaScriptCore's collector, while it marks,
  // rescans an array in full after each store into it: one array of a million keys made every
  // collection crawl (bench/results.md).
  // In a packing Dict, a slot whose value place holds a number holds an Arena entry's handle
  // there (and null in the key's place): such a Dict never stores numbers as values.
  private pages: unknown[][] = [[]];
  private count = 0;
  readonly arena: Arena | null;
  private readonly keysOnly: boolean; // a set's members: every value is true, and not stored
  constructor(packs: "strings" | "keys" | null = null) {
    this.arena = packs ? new Arena() : null;
    this.keysOnly = packs === "keys";
  }
  // The index: an open-addressing table (linear probing, at most half full) of buckets that are
  // pairs of ints, a key's hash then a reference to its entry, so that a probe reads one cache
  // line: slot + 1, or for an entry in the arena ~handle (negative), which leads a lookup
  // straight to the key's bytes, its slot and its value; 0 is an empty bucket. Typed arrays cost
  // a JS Map's per-entry objects a fraction of the memory.
  private table = new Int32Array(16);
  private mask = 7; // buckets - 1
  // The last key found, its slot and its reference: a command usually looks its key up several
  // times (to read it, to write it, to account for its memory), and in a big table each first
  // lookup is a few cache misses. A delete forgets it, since slots move.
  private lastKey: string | null = null;
  private lastSlot = 0;
  private lastRef = 0;
  // Likewise the last key not found, with its hash and the empty bucket where it would go: a
  // write usually looks its key up before adding it. Any change to the table forgets it.
  private missKey: string | null = null;
  private missHash = 0;
  private missBucket = 0;
  get size(): number { return this.count; }
  keyAt(i: number): string {
    const page = this.pages[i >> PAGE_BITS], x = 2 * (i & PAGE_MASK), v = page[x + 1];
    if (this.arena !== null && typeof v === "number") return this.arena.key(v);
    return page[x] as string;
  }
  valAt(i: number): V {
    const h = this.handleAt(i);
    if (h >= 0) return (this.keysOnly ? true : this.arena!.val(h)) as V;
    return this.pages[i >> PAGE_BITS][2 * (i & PAGE_MASK) + 1] as V;
  }
  /** Replies slot i's key as a bulk string: from the arena's bytes when it is there, so that a
   *  reply of millions of keys (SRANDMEMBER -5000000) makes no string per key. */
  replyKeyAt(c: Client, i: number): void {
    const h = this.handleAt(i);
    if (h >= 0) this.arena!.replyKey(c, h);
    else addReplyBulk(c, this.keyAt(i));
  }
  /** The length of slot i's value, which is a string. */
  strLengthAt(i: number): number {
    const h = this.handleAt(i);
    return h >= 0 ? this.arena!.valLength(h) : (this.pages[i >> PAGE_BITS][2 * (i & PAGE_MASK) + 1] as string).length;
  }
  /** Slot i's arena handle, or -1 if its entry is not in the arena. For the last key found it
   *  comes from the index, sparing a read of the slot's page. */
  handleAt(i: number): number {
    if (this.arena === null) return -1;
    if (i === this.lastSlot && this.lastKey !== null) return this.lastRef < 0 ? ~this.lastRef : -1;
    const v = this.pages[i >> PAGE_BITS][2 * (i & PAGE_MASK) + 1];
    return typeof v === "number" ? v : -1;
  }
  /** The index's reference to slot i. */
  private refAt(i: number): number {
    const h = this.handleAt(i);
    return h >= 0 ? ~h : i + 1;
  }
  private slotOfRef(e: number): number { return e > 0 ? e - 1 : this.arena!.slotOf(~e); }
  private hashAt(i: number): number {
    const h = this.handleAt(i);
    return h >= 0 ? this.arena!.hash(h) : dictHash(this.pages[i >> PAGE_BITS][2 * (i & PAGE_MASK)] as string);
  }
  setValAt(i: number, val: V): void {
    if (this.keysOnly) return;
    if (this.arena !== null) {
      const h = this.handleAt(i);
      if (h >= 0 || typeof val === "string") return this.setPacked(this.arena, i, h, val);
    }
    const page = this.pages[i >> PAGE_BITS], x = 2 * (i & PAGE_MASK);
    // Storing the value already there (the parser hands repeated arguments over as the same
    // string) is skipped: a store into a page the collector has marked makes it rescan the page.
    // (0 is always stored: -0 === 0, and a sorted set's score can change from one to the other.)
    if (page[x + 1] !== val || val === 0) page[x + 1] = val;
  }
  /** setValAt in a packing Dict, where slot i's entry is in the arena as h (or h is -1) or the
   *  new value is a string. A value that moves into, out of or within the arena changes the
   *  entry's reference in the index. */
  private setPacked(a: Arena, i: number, h: number, val: V): void {
    const page = this.pages[i >> PAGE_BITS], x = 2 * (i & PAGE_MASK);
    if (h >= 0) {
      if (this.staysPacked(val)) {
        const h2 = a.setVal(h, val as string);
        if (h2 !== h) { page[x + 1] = h2; this.reref(i, ~h, ~h2); }
        return;
      }
      page[x] = a.key(h);
      this.reref(i, ~h, i + 1);
      a.release(h);
      page[x + 1] = val;
      return;
    }
    const key = page[x] as string;
    if (key.length <= PACK_MAX && (val as string).length <= PACK_MAX && !a.full) {
      const h2 = a.alloc(key, val as string, i);
      page[x] = null;
      page[x + 1] = h2;
      this.reref(i, i + 1, ~h2);
    } else if (page[x + 1] !== val) page[x + 1] = val;
  }
  /** True when an entry in the arena given the value val keeps it there. */
  protected staysPacked(val: V): boolean { return typeof val === "string" && val.length <= PACK_MAX && !this.arena!.full; }
  /** Points slot i's bucket, which holds reference `from`, at `to` (already in place). */
  private reref(i: number, from: number, to: number): void {
    const h = to < 0 ? this.arena!.hash(~to) : dictHash(this.pages[i >> PAGE_BITS][2 * (i & PAGE_MASK)] as string);
    this.table[2 * this.bucketHolding(from, h) + 1] = to;
    if (i === this.lastSlot) this.lastRef = to;
  }
  /** The keys, as a new array. */
  keyList(): string[] {
    const out = new Array<string>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.keyAt(i);
    return out;
  }
  has(key: string): boolean { return this.slot(key) !== undefined; }
  /** The bucket holding the key, or the empty bucket where it would go. */
  private probe(key: string, h: number): number {
    const t = this.table, m = this.mask;
    let p = h & m;
    for (let e = t[2 * p + 1]; e !== 0; e = t[2 * p + 1]) {
      if (t[2 * p] === h && (e > 0 ? this.pages[(e - 1) >> PAGE_BITS][2 * ((e - 1) & PAGE_MASK)] === key : this.arena!.keyIs(~e, key))) return p;
      p = (p + 1) & m;
    }
    return p;
  }
  /** The bucket holding slot i (which must be in the table). */
  private bucketOf(i: number): number { return this.bucketHolding(this.refAt(i), this.hashAt(i)); }
  /** The bucket holding reference e, whose key hashes to h. */
  private bucketHolding(e: number, h: number): number {
    const t = this.table, m = this.mask;
    let p = h & m;
    while (t[2 * p + 1] !== e) p = (p + 1) & m;
    return p;
  }
  /** The slot of a key, or undefined. */
  slot(key: string): number | undefined {
    if (key === this.lastKey) return this.lastSlot;
    if (key === this.missKey) return undefined;
    const h = dictHash(key), p = this.probe(key, h), e = this.table[2 * p + 1];
    if (e === 0) {
      this.missKey = key; this.missHash = h; this.missBucket = p;
      return undefined;
    }
    this.lastKey = key;
    this.lastRef = e;
    return (this.lastSlot = this.slotOfRef(e));
  }
  get(key: string): V | undefined {
    const i = this.slot(key);
    return i === undefined ? undefined : this.valAt(i);
  }
  /** Adds or replaces an entry; returns true if it is new. */
  set(key: string, val: V): boolean {
    if (key === this.lastKey) { this.setValAt(this.lastSlot, val); return false; }
    const miss = key === this.missKey;
    const h = miss ? this.missHash : dictHash(key), p = miss ? this.missBucket : this.probe(key, h), e = this.table[2 * p + 1];
    this.lastKey = key;
    if (e !== 0) {
      this.lastRef = e;
      this.setValAt((this.lastSlot = this.slotOfRef(e)), val);
      return false;
    }
    this.lastSlot = this.count;
    this.lastRef = this.insertAt(p, h, key, val);
    return true;
  }
  /** Adds an entry unless the key is there; returns true if it was added. */
  add(key: string, val: V): boolean {
    if (key === this.missKey) { this.insertAt(this.missBucket, this.missHash, key, val); return true; }
    const h = dictHash(key), p = this.probe(key, h);
    if (this.table[2 * p + 1] !== 0) return false;
    this.insertAt(p, h, key, val);
    return true;
  }
  /** Puts a new entry in the last slot and bucket p; returns its reference. */
  private insertAt(p: number, h: number, key: string, val: V): number {
    this.missKey = null;
    const i = this.count++;
    if (i >> PAGE_BITS === this.pages.length) this.pages.push([]);
    const page = this.pages[i >> PAGE_BITS];
    let e = i + 1;
    if (this.arena !== null && key.length <= PACK_MAX && !this.arena.full && (this.keysOnly || (typeof val === "string" && val.length <= PACK_MAX))) {
      const handle = this.arena.alloc(key, this.keysOnly ? "" : val as string, i);
      page.push(null, handle);
      e = ~handle;
    } else page.push(key, val);
    this.table[2 * p] = h;
    this.table[2 * p + 1] = e;
    if ((i + 1) * 2 > this.mask + 1) this.rebuild(2 * (this.mask + 1));
    return e;
  }
  /** Drops the last slot. */
  private popSlot(): void {
    const i = --this.count, page = this.pages[i >> PAGE_BITS];
    page.pop();
    page.pop();
    if (page.length === 0 && this.pages.length > 1) this.pages.pop();
  }
  /** A new table of `buckets` buckets holding what the old one held, with every slot above
   *  `removed` (if given) one lower. */
  private rebuild(buckets: number, removed = -1): void {
    const old = this.table, t = new Int32Array(2 * buckets), m = buckets - 1;
    for (let q = 1; q < old.length; q += 2) {
      let e = old[q];
      if (e === 0) continue;
      if (removed >= 0 && e - 1 > removed) e--;
      const h = old[q - 1];
      let p = h & m;
      while (t[2 * p + 1] !== 0) p = (p + 1) & m;
      t[2 * p] = h;
      t[2 * p + 1] = e;
    }
    this.table = t;
    this.mask = m;
  }
  /** Empties bucket p, moving later buckets of its cluster back so probes still find them. */
  private clearBucket(p: number): void {
    const t = this.table, m = this.mask;
    let hole = p;
    for (let q = (p + 1) & m; t[2 * q + 1] !== 0; q = (q + 1) & m) {
      const home = t[2 * q] & m;
      // The entry at q may fill the hole unless its home lies cyclically in (hole, q].
      if (hole <= q ? home <= hole || home > q : home <= hole && home > q) {
        t[2 * hole] = t[2 * q];
        t[2 * hole + 1] = t[2 * q + 1];
        hole = q;
      }
    }
    t[2 * hole] = 0;
    t[2 * hole + 1] = 0;
  }
  /** Copies slot `from`'s entry into slot `to` (an arena entry learns its new slot). */
  private moveSlot(from: number, to: number): void {
    const a = this.pages[to >> PAGE_BITS], b = this.pages[from >> PAGE_BITS];
    const x = 2 * (to & PAGE_MASK), y = 2 * (from & PAGE_MASK), v = b[y + 1];
    a[x] = b[y];
    a[x + 1] = v;
    if (this.arena !== null && typeof v === "number") this.arena.moveTo(v, to);
  }
  /** Removes an entry. `ordered` keeps the others in insertion order (O(n)), as a listpack does. */
  delete(key: string, ordered = false): boolean {
    const p = this.probe(key, dictHash(key)), e = this.table[2 * p + 1];
    if (e === 0) return false;
    this.lastKey = this.missKey = null;
    this.clearBucket(p);
    const i = this.slotOfRef(e), last = this.count - 1;
    if (e < 0) this.arena!.release(~e);
    if (ordered) {
      for (let j = i; j < last; j++) this.moveSlot(j + 1, j);
      this.popSlot();
      this.rebuild(this.mask + 1, i);
    } else {
      if (i !== last) {
        // The last slot moves into the hole: its bucket follows, unless it refers to an arena
        // entry (which moveSlot tells).
        if (this.handleAt(last) < 0) this.table[2 * this.bucketOf(last) + 1] = i + 1;
        this.moveSlot(last, i);
      }
      this.popSlot();
    }
    // A table that emptied out shrinks, as Redis's dicts do below a tenth full.
    const n = this.count, buckets = this.mask + 1;
    if (buckets > 64 && n * 10 < buckets) {
      let size = 8;
      while (size < n * 2 + 2) size *= 2;
      this.rebuild(size);
    }
    return true;
  }
  randomIndex(): number { return Math.floor(random() * this.count); }
  /** One SCAN step: visits up to `count` slots below `cursor` (0 starts), returns the next cursor
   *  (0 when done). */
  scan(cursor: number, count: number, visit: (i: number) => void): number {
    let i = cursor === 0 ? this.size : cursor < 0 ? 0 : Math.min(cursor, this.size);
    for (let n = 0; i > 0 && n < count; n++) visit(--i);
    return i;
  }
}

class Db extends Dict<RValue> {
  // Each key's LRU clock (seconds), or under an LFU policy its LFU word (minutes << 8 | counter),
  // in a slot parallel to keys/vals: what Redis keeps in the object header's lru field. These
  // per-slot numbers live in typed arrays, grown and shrunk with the table.
  access = new Int32Array(4);
  saveMark = new Int32Array(4); // the snapshot epoch that already wrote this slot (see the RDB chapter)
  memEst = new Float64Array(4); // each key's estimated bytes, for maxmemory (see costAt)
  memTotal = 0;
  expires = new Map<string, number>(); // key -> unix time in ms
  blocking = new Map<string, Client[]>(); // key -> clients blocked on it, first come first served
  watched = new Map<string, Set<Client>>(); // key -> clients that WATCH it
  // Strings whose encoding history overrides what their content suggests (see stringEncoding).
  encodings = new Map<string, "raw" | "embstr">();
  expireCursor: Iterator<[string, number]> | null = null; // where the active cycle resumes
  evictCursor: Iterator<string> | null = null; // where volatile eviction sampling resumes
  avgTtl = 0;
  constructor(public id: number) { super("strings"); }
  override set(key: string, val: RValue): boolean {
    const added = super.set(key, val);
    const i = this.slot(key)!;
    // A new value object: a fresh LRU clock, or (LFU) the old counter carried over, as dbOverwrite.
    if (added) this.initSlot(i, newAccessWord(), this.recost(i));
    else if (!lfuPolicy()) this.access[i] = lruClock();
    return added;
  }
  /** Replaces slot i's value, and its cost in memTotal. */
  override setValAt(i: number, val: RValue): void {
    const h = this.handleAt(i);
    // SET's case, a string in the arena replaced by one that stays there: the cost moves by the
    // difference of the values' lengths.
    if (h >= 0 && this.staysPacked(val)) {
      this.memTotal += (val as string).length - this.arena!.valLength(h);
      return super.setValAt(i, val);
    }
    const before = this.costAt(i);
    super.setValAt(i, val);
    this.memTotal += this.recost(i) - before;
  }
  /** Slot i's estimated bytes. An entry in the arena tells its own; the others' are kept in
   *  memEst (whose reading was one more cache miss per SET in a big keyspace). */
  costAt(i: number): number {
    const h = this.handleAt(i);
    return h >= 0 ? MEM_PACKED_OVERHEAD + this.arena!.bytes(h) : this.memEst[i];
  }
  /** Slot i's cost worked out afresh, after its value changed (kept in memEst if not in the arena). */
  recost(i: number): number {
    const h = this.handleAt(i);
    if (h >= 0) return MEM_PACKED_OVERHEAD + this.arena!.bytes(h);
    return (this.memEst[i] = MEM_KEY_OVERHEAD + this.keyAt(i).length + valueBytes(this.valAt(i)));
  }
  /** Adds a key read from an RDB file with one hash operation. Returns false if the key was
   *  there already (the file is corrupt, and the caller throws these databases away). */
  addLoaded(key: string, val: RValue, access: number): boolean {
    if (!this.add(key, val)) return false;
    this.initSlot(this.size - 1, access, this.recost(this.size - 1));
    return true;
  }
  /** The numbers of a new slot (the last one). */
  private initSlot(i: number, access: number, cost: number): void {
    if (i === this.access.length) this.resizeSlots(i * 2);
    this.access[i] = access;
    this.saveMark[i] = saveJob ? saveJob.epoch : 0; // keys born during a save are not in it
    this.memEst[i] = cost;
    this.memTotal += cost;
  }
  private resizeSlots(n: number): void {
    const access = new Int32Array(n), saveMark = new Int32Array(n), memEst = new Float64Array(n), keep = Math.min(n, this.size);
    access.set(this.access.subarray(0, keep));
    saveMark.set(this.saveMark.subarray(0, keep));
    memEst.set(this.memEst.subarray(0, keep));
    this.access = access; this.saveMark = saveMark; this.memEst = memEst;
  }
  override delete(key: string): boolean {
    const i = this.slot(key);
    if (i === undefined) return false;
    // The last slot moves into the hole, as in Dict.delete.
    const last = this.size - 1;
    this.memTotal -= this.costAt(i);
    this.access[i] = this.access[last];
    this.saveMark[i] = this.saveMark[last];
    this.memEst[i] = this.memEst[last];
    super.delete(key);
    if (this.access.length > 64 && last * 4 < this.access.length) this.resizeSlots(this.access.length / 2);
    return true;
  }
}

// ============================================================================================
// Skiplist
//
// The sorted set's order: Redis's skiplist with spans (for ranks), its nodes in one block of a
// buffer each.
// ============================================================================================

const ZSKIPLIST_MAXLEVEL = 32;
const ZSKIPLIST_P = 0.25;

/** A member with its score, as range reads return them. */
interface ZEntry { member: string; score: number }

/** Scratch space for insert and delete (Redis keeps these on the stack): the last node before the
 *  target on each level, and its rank. Neither function can run inside the other. */
const zslUpdate = new Int32Array(ZSKIPLIST_MAXLEVEL);
const zslRank = new Float64Array(ZSKIPLIST_MAXLEVEL);

/** Redis's skiplist with spans, in one buffer of ints rather than an object (and two arrays) per
 *  node, which cost memory and the garbage collector's time. Node n is the block of ints from n:
 *  its score (a double, in the first two), the node before it, its number (which finds its member
 *  and its level count), then its levels as pairs (next node, span). A search reads each node it
 *  passes in one cache line, as Redis reads its nodes: a big sorted set is mostly cache misses.
 *  Node 0 is the header, with every level; 0 as a link means none. Freed blocks and numbers are
 *  reused, and a list that shrank to an eighth is rebuilt smaller. */
// A node's block of ints: its score (a double over the first two ints), the node before it, its
// number, then one (next node, span) pair per level.
const ZN_SCORE = 0, ZN_PREV = 2, ZN_NUM = 3, ZN_LEVELS = 4;
const ZSL_HEADER = ZN_LEVELS + 2 * ZSKIPLIST_MAXLEVEL; // the header's block, first in the buffer
class SkipList {
  private i32 = new Int32Array(2 * ZSL_HEADER);
  private f64 = new Float64Array(this.i32.buffer);
  private top = ZSL_HEADER; // ints taken
  private memberPages: string[][] = [[""]]; // by node number, paged as Dict's entries are
  private levelOf = new Uint8Array(8); // by node number
  private nums = 1; // node numbers taken (the header's is 0)
  private freeNums: number[] = [];
  private freeBlocks: number[][] = []; // by level count
  tail = 0;
  length = 0;
  level = 1;

  constructor() { this.levelOf[0] = ZSKIPLIST_MAXLEVEL; }

  private static randomLevel(): number {
    let level = 1;
    while (random() < ZSKIPLIST_P && level < ZSKIPLIST_MAXLEVEL) level++;
    return level;
  }

  member(n: number): string { const k = this.i32[n + ZN_NUM]; return this.memberPages[k >> PAGE_BITS][k & PAGE_MASK]; }
  private setMember(k: number, m: string): void { (this.memberPages[k >> PAGE_BITS] ??= [])[k & PAGE_MASK] = m; }
  score(n: number): number { return this.f64[(n + ZN_SCORE) >> 1]; }
  /** The node before n (0: none). */
  prevOf(n: number): number { return this.i32[n + ZN_PREV]; }
  /** The node after n on level i (0: none). */
  next(n: number, i = 0): number { return this.i32[n + ZN_LEVELS + 2 * i]; }
  /** The first node, 0 when empty. */
  first(): number { return this.i32[ZN_LEVELS]; }

  /** A node with `level` zeroed levels. */
  private alloc(level: number): number {
    let k = this.freeNums.pop();
    if (k === undefined) {
      k = this.nums++;
      if (k === this.levelOf.length) {
        const levelOf = new Uint8Array(k * 2);
        levelOf.set(this.levelOf);
        this.levelOf = levelOf;
      }
    }
    let n = this.freeBlocks[level]?.pop();
    if (n === undefined) {
      n = this.top;
      this.top += ZN_LEVELS + 2 * level;
      if (this.top > this.i32.length) {
        const i32 = new Int32Array(Math.max(this.i32.length * 2, this.top));
        i32.set(this.i32);
        this.i32 = i32;
        this.f64 = new Float64Array(i32.buffer);
      }
    }
    this.i32.fill(0, n + ZN_LEVELS, n + ZN_LEVELS + 2 * level);
    this.i32[n + ZN_NUM] = k;
    this.levelOf[k] = level;
    return n;
  }

  private free(n: number): void {
    const k = this.i32[n + ZN_NUM];
    this.setMember(k, "");
    this.freeNums.push(k);
    (this.freeBlocks[this.levelOf[k]] ??= []).push(n);
  }

  /** True when (score, member) sorts before node n. */
  private before(score: number, member: string, n: number): boolean {
    const s = this.f64[(n + ZN_SCORE) >> 1];
    return s > score || (s === score && this.member(n) > member);
  }

  /** Inserts a member that is not present; returns its node. */
  insert(score: number, member: string): number {
    const update = zslUpdate, rank = zslRank;
    let x = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      rank[i] = i === this.level - 1 ? 0 : rank[i + 1];
      for (;;) {
        const at = x + ZN_LEVELS + 2 * i, nx = this.i32[at];
        if (nx === 0 || this.before(score, member, nx)) break;
        rank[i] += this.i32[at + 1];
        x = nx;
      }
      update[i] = x;
    }
    const level = SkipList.randomLevel();
    if (level > this.level) {
      for (let i = this.level; i < level; i++) { rank[i] = 0; update[i] = 0; this.i32[ZN_LEVELS + 1 + 2 * i] = this.length; }
      this.level = level;
    }
    x = this.alloc(level);
    const a = this.i32;
    this.f64[(x + ZN_SCORE) >> 1] = score;
    this.setMember(a[x + ZN_NUM], member);
    for (let i = 0; i < level; i++) {
      const u = update[i] + ZN_LEVELS + 2 * i, xi = x + ZN_LEVELS + 2 * i;
      a[xi] = a[u];
      a[u] = x;
      a[xi + 1] = a[u + 1] - (rank[0] - rank[i]);
      a[u + 1] = rank[0] - rank[i] + 1;
    }
    for (let i = level; i < this.level; i++) a[update[i] + ZN_LEVELS + 1 + 2 * i]++;
    a[x + ZN_PREV] = update[0];
    const nx = a[x + ZN_LEVELS];
    if (nx) a[nx + ZN_PREV] = x;
    else this.tail = x;
    this.length++;
    return x;
  }

  /** Deletes the node with this score and member; returns false if absent. */
  delete(score: number, member: string): boolean {
    const update = zslUpdate, a = this.i32, f = this.f64;
    let x = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      for (;;) {
        const nx = a[x + ZN_LEVELS + 2 * i];
        if (nx === 0) break;
        const s = f[nx >> 1];
        if (!(s < score || (s === score && this.member(nx) < member))) break;
        x = nx;
      }
      update[i] = x;
    }
    const n = a[x + ZN_LEVELS];
    if (!n || f[n >> 1] !== score || this.member(n) !== member) return false;
    this.unlink(n, update);
    this.free(n);
    if (this.nums > 1024 && this.length * 8 < this.nums) this.compact();
    return true;
  }

  private unlink(x: number, update: Int32Array): void {
    const a = this.i32, xLevel = this.levelOf[a[x + ZN_NUM]];
    for (let i = 0; i < this.level; i++) {
      const u = update[i] + ZN_LEVELS + 2 * i;
      if (i < xLevel && a[u] === x) {
        a[u + 1] += a[x + ZN_LEVELS + 1 + 2 * i] - 1;
        a[u] = a[x + ZN_LEVELS + 2 * i];
      } else a[u + 1] -= 1;
    }
    const nx = a[x + ZN_LEVELS];
    if (nx) a[nx + ZN_PREV] = a[x + ZN_PREV];
    else this.tail = a[x + ZN_PREV];
    while (this.level > 1 && a[ZN_LEVELS + 2 * (this.level - 1)] === 0) this.level--;
    this.length--;
  }

  /** Rebuilds the list in arrays sized for what it holds now. */
  private compact(): void {
    const entries: ZEntry[] = [];
    for (let n = this.first(); n; n = this.next(n)) entries.push(this.entry(n));
    const fresh = new SkipList();
    for (let i = entries.length - 1; i >= 0; i--) fresh.insert(entries[i].score, entries[i].member);
    Object.assign(this, fresh);
  }

  /** 1-based rank of a present member. */
  rank(score: number, member: string): number {
    const a = this.i32, f = this.f64;
    let rank = 0, x = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      for (;;) {
        const at = x + ZN_LEVELS + 2 * i, nx = a[at];
        if (nx === 0) break;
        const s = f[nx >> 1];
        if (!(s < score || (s === score && this.member(nx) <= member))) break;
        rank += a[at + 1];
        x = nx;
      }
      if (x !== 0 && this.member(x) === member && f[x >> 1] === score) return rank;
    }
    return 0;
  }

  /** The node at a 1-based rank, or 0. */
  byRank(rank: number): number {
    const a = this.i32;
    let traversed = 0, x = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      for (;;) {
        const at = x + ZN_LEVELS + 2 * i, nx = a[at];
        if (nx === 0 || traversed + a[at + 1] > rank) break;
        traversed += a[at + 1];
        x = nx;
      }
      if (traversed === rank) return x;
    }
    return 0;
  }

  /** The first node whose value is not below the range's minimum (by `gteMin`), if it is in range (else 0). */
  firstInRange(gteMin: ZRangeTest, lteMax: ZRangeTest): number {
    let x = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      for (let nx = this.next(x, i); nx && !gteMin(this.score(nx), this.member(nx)); nx = this.next(x, i)) x = nx;
    }
    const n = this.next(x);
    return n && lteMax(this.score(n), this.member(n)) ? n : 0;
  }

  /** The last node not above the range's maximum, if it is in range (else 0). */
  lastInRange(gteMin: ZRangeTest, lteMax: ZRangeTest): number {
    let x = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      for (let nx = this.next(x, i); nx && lteMax(this.score(nx), this.member(nx)); nx = this.next(x, i)) x = nx;
    }
    return x !== 0 && gteMin(this.score(x), this.member(x)) ? x : 0;
  }

  entry(n: number): ZEntry { return { member: this.member(n), score: this.score(n) }; }
}

// ============================================================================================
// Listpack sizes
//
// The bytes Redis's listpack encoding takes for an element, so stream nodes split where Redis's
// do, and the listpack bytes of a stream node in an RDB file.
// ============================================================================================

/** The listpack bytes of a list of elements; integers (and integer-looking strings) take
 *  Redis's integer encodings. */
function lpEncode(elements: (string | number | bigint)[]): Buffer {
  const parts: Buffer[] = [];
  let total = 7;
  for (const el of elements) {
    let enc: Buffer;
    const str = typeof el === "string" ? el : String(el);
    const asInt = lpAsInt(str);
    if (asInt !== null) {
      const v = Number(asInt), width = lpIntWidth(asInt);
      if (width === 1) enc = Buffer.from([v]);
      else if (width === 2) { const u = v < 0 ? v + 8192 : v; enc = Buffer.from([0xc0 | (u >> 8), u & 0xff]); }
      else if (width === 3) { enc = Buffer.alloc(3); enc[0] = 0xf1; enc.writeInt16LE(v, 1); }
      else if (width === 4) { enc = Buffer.alloc(4); enc[0] = 0xf2; enc.writeIntLE(v, 1, 3); }
      else if (width === 5) { enc = Buffer.alloc(5); enc[0] = 0xf3; enc.writeInt32LE(v, 1); }
      else { enc = Buffer.alloc(9); enc[0] = 0xf4; enc.writeBigInt64LE(asInt, 1); }
    } else {
      const b = Buffer.from(str, "latin1");
      if (b.length < 64) enc = Buffer.concat([Buffer.from([0x80 | b.length]), b]);
      else if (b.length < 4096) enc = Buffer.concat([Buffer.from([0xe0 | (b.length >> 8), b.length & 0xff]), b]);
      else { const h = Buffer.alloc(5); h[0] = 0xf0; h.writeUInt32LE(b.length, 1); enc = Buffer.concat([h, b]); }
    }
    // The back-length: the entry's size, 7 bits per byte, most significant byte first (in as many
    // bytes as Redis's lpEncodeBacklen uses, which its integrity check requires).
    const l = enc.length, n = lpBacklenSize(l);
    const back = Array.from({ length: n }, (_, i) => (Math.floor(l / 2 ** (7 * (n - 1 - i))) & 127) | (i > 0 ? 128 : 0));
    parts.push(enc, Buffer.from(back));
    total += enc.length + back.length;
  }
  const head = Buffer.alloc(6);
  head.writeUInt32LE(total, 0);
  head.writeUInt16LE(Math.min(elements.length, 65535), 4);
  return Buffer.concat([head, ...parts, Buffer.from([0xff])]);
}

/** A string a listpack stores as an integer, or null. */
function lpAsInt(str: string): bigint | null {
  if (str.length > 20 || !/^(0|-?[1-9]\d*)$/.test(str)) return null;
  const v = BigInt(str);
  return v >= -9223372036854775808n && v <= LLONG_MAX ? v : null;
}

/** The bytes of a listpack integer encoding: 7-bit, 13-bit, 16, 24, 32 or 64-bit. */
function lpIntWidth(v: bigint): number {
  return v >= 0n && v <= 127n ? 1 : v >= -4096n && v <= 4095n ? 2 : v >= -32768n && v <= 32767n ? 3
    : v >= -8388608n && v <= 8388607n ? 4 : v >= -2147483648n && v <= 2147483647n ? 5 : 9;
}

/** lpIntWidth for integers that fit a double exactly, without BigInts (the common case). */
function lpIntWidthSmall(v: number): number {
  return v >= 0 && v <= 127 ? 1 : v >= -4096 && v <= 4095 ? 2 : v >= -32768 && v <= 32767 ? 3
    : v >= -8388608 && v <= 8388607 ? 4 : v >= -2147483648 && v <= 2147483647 ? 5 : 9;
}

/** The bytes one element takes in a listpack, back-length included (as lpEncode writes it). */
function lpElementSize(el: string | number | bigint): number {
  let enc: number;
  const small = typeof el === "number" ? el : typeof el === "string" ? (el.length <= 15 ? string2ll(el) : null)
    : el >= -9007199254740991n && el <= 9007199254740991n ? Number(el) : null;
  if (small !== null && Number.isSafeInteger(small)) enc = lpIntWidthSmall(small);
  else {
    const str = typeof el === "string" ? el : String(el);
    const v = lpAsInt(str);
    enc = v !== null ? lpIntWidth(v) : str.length + (str.length < 64 ? 1 : str.length < 4096 ? 2 : 5);
  }
  return enc + lpBacklenSize(enc);
}

// ============================================================================================
// HyperLogLog sketches
//
// Redis's HyperLogLog, byte for byte, so a sketch moves between Redis and Redbun in RDB files,
// DUMP payloads, the AOF and replication and counts the same on both. A sketch is a string:
//
//   header (16 bytes): "HYLL", encoding (0 dense, 1 sparse), 3 zero bytes, the cached
//     cardinality as 8 bytes little endian (its top bit set when it is stale)
//   dense: 16384 registers of 6 bits, 12288 bytes; register i starts at bit 6i, counting from the
//     least significant bit of each byte, so a register may straddle two bytes
//   sparse: run-length opcodes covering the 16384 registers in order:
//     00xxxxxx          ZERO: 1..64 registers at 0 (length - 1 in x)
//     01xxxxxx yyyyyyyy XZERO: 1..16384 registers at 0 (length - 1 in 14 bits)
//     1vvvvvxx          VAL: 1..4 registers at 1..32 (value - 1 in v, length - 1 in x)
//
// An element is hashed with MurmurHash64A (seed 0xadc83b19): the low 14 bits pick the register,
// and 1 + the number of zeros above them (up to 51) is the value it takes if larger. A sparse
// sketch becomes dense when a value exceeds 32 or it would grow past hll-sparse-max-bytes. The
// estimate is Ertl's improved estimator over the registers' histogram, as Redis 7 computes it.
// Hashing works on 32-bit halves (Math.imul and 16-bit limbs): no BigInt on the PFADD path.
// ============================================================================================

const HLL_REGISTERS = 16384, HLL_P_MASK = HLL_REGISTERS - 1, HLL_Q = 50, HLL_HDR_SIZE = 16;
const HLL_DENSE_SIZE = HLL_HDR_SIZE + (HLL_REGISTERS * 6) / 8;
const HLL_DENSE = 0, HLL_SPARSE = 1;
const HLL_SPARSE_VAL_MAX_VALUE = 32, HLL_SPARSE_VAL_MAX_LEN = 4, HLL_SPARSE_ZERO_MAX_LEN = 64, HLL_SPARSE_XZERO_MAX_LEN = 16384;
const HLL_ALPHA_INF = 0.721347520444481703680; // 0.5 / ln(2)
const HLL_SEED = 0xadc83b19;
const MURMUR_M_HI = 0xc6a4a793, MURMUR_M_LO = 0x5bd1e995; // MurmurHash64A's m, 0xc6a4a7935bd1e995

/** The high 32 bits of the 64-bit product of two unsigned 32-bit integers. */
function mulHi32(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p01 = a0 * b1, p10 = a1 * b0;
  const mid = ((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
}

// A 64-bit value in flight, as two unsigned 32-bit halves (results of murmurMulM and the hash).
let u64Hi = 0, u64Lo = 0;

/** (hi, lo) * m modulo 2^64, into u64Hi/u64Lo. */
function murmurMulM(hi: number, lo: number): void {
  u64Hi = (mulHi32(lo, MURMUR_M_LO) + Math.imul(hi, MURMUR_M_LO) + Math.imul(lo, MURMUR_M_HI)) >>> 0;
  u64Lo = Math.imul(lo, MURMUR_M_LO) >>> 0;
}

/** MurmurHash64A of a latin1 string (one byte per char), as Redis's endian-neutral version
 *  (8-byte blocks read little endian), into u64Hi/u64Lo. */
function murmurHash64A(s: string, seed: number): void {
  const len = s.length;
  murmurMulM(0, len);
  let hi = u64Hi, lo = (u64Lo ^ seed) >>> 0;
  const blocks = len - (len & 7);
  let i = 0;
  for (; i < blocks; i += 8) {
    const kl = (s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24)) >>> 0;
    const kh = (s.charCodeAt(i + 4) | (s.charCodeAt(i + 5) << 8) | (s.charCodeAt(i + 6) << 16) | (s.charCodeAt(i + 7) << 24)) >>> 0;
    murmurMulM(kh, kl); // k *= m
    murmurMulM(u64Hi, (u64Lo ^ (u64Hi >>> 15)) >>> 0); // k ^= k >> 47; k *= m
    murmurMulM(hi ^ u64Hi, lo ^ u64Lo); // h ^= k; h *= m
    hi = u64Hi;
    lo = u64Lo;
  }
  const rest = len & 7;
  if (rest) {
    if (rest >= 7) hi ^= s.charCodeAt(i + 6) << 16;
    if (rest >= 6) hi ^= s.charCodeAt(i + 5) << 8;
    if (rest >= 5) hi ^= s.charCodeAt(i + 4);
    if (rest >= 4) lo ^= s.charCodeAt(i + 3) << 24;
    if (rest >= 3) lo ^= s.charCodeAt(i + 2) << 16;
    if (rest >= 2) lo ^= s.charCodeAt(i + 1) << 8;
    lo ^= s.charCodeAt(i);
    murmurMulM(hi >>> 0, lo >>> 0);
    hi = u64Hi;
    lo = u64Lo;
  }
  murmurMulM(hi, (lo ^ (hi >>> 15)) >>> 0); // h ^= h >> 47; h *= m
  u64Lo = (u64Lo ^ (u64Hi >>> 15)) >>> 0; // h ^= h >> 47
}

/** The register an element updates (hllPatLen's side result). */
let hllIndex = 0;

/** The value an element offers its register, hllIndex: 1 + the zeros above the index bits. */
function hllPatLen(ele: string): number {
  murmurHash64A(ele, HLL_SEED);
  hllIndex = u64Lo & HLL_P_MASK;
  const low = ((u64Lo >>> 14) | (u64Hi << 18)) >>> 0; // hash bits 14..45
  if (low !== 0) return 32 - Math.clz32(low & -low);
  const high = (u64Hi >>> 14) | (1 << 18); // bits 46..63, and a 1 at 64 so the count stops at Q+1
  return 33 + 31 - Math.clz32(high & -high);
}

/** Dense register i of a sketch's bytes. A missing byte past the end reads as zero (Redis reads
 *  the sds terminator there). */
function hllDenseGet(buf: Uint8Array, i: number): number {
  const byte = HLL_HDR_SIZE + ((i * 6) >> 3), fb = (i * 6) & 7;
  return ((buf[byte] >> fb) | ((buf[byte + 1] ?? 0) << (8 - fb))) & 63;
}

function hllDenseSetRegister(buf: Uint8Array, i: number, v: number): void {
  const byte = HLL_HDR_SIZE + ((i * 6) >> 3), fb = (i * 6) & 7;
  buf[byte] = (buf[byte] & ~(63 << fb)) | (v << fb);
  if (fb > 2) buf[byte + 1] = (buf[byte + 1] & ~(63 >> (8 - fb))) | (v >> (8 - fb));
}

/** Raises dense register i to count; 1 if it changed (hllDenseSet). */
function hllDenseSet(buf: Uint8Array, i: number, count: number): number {
  if (count <= hllDenseGet(buf, i)) return 0;
  hllDenseSetRegister(buf, i, count);
  return 1;
}

/** A new sketch: sparse, every register zero (one XZERO), the cached cardinality 0. */
function hllCreate(): RBytes {
  const b = RBytes.from("HYLL", HLL_HDR_SIZE + 2 * Math.ceil(HLL_REGISTERS / HLL_SPARSE_XZERO_MAX_LEN));
  b.buf[4] = HLL_SPARSE;
  let p = HLL_HDR_SIZE;
  for (let left = HLL_REGISTERS; left; left -= Math.min(left, HLL_SPARSE_XZERO_MAX_LEN)) {
    const l = Math.min(left, HLL_SPARSE_XZERO_MAX_LEN) - 1;
    b.buf[p++] = (l >> 8) | 0x40;
    b.buf[p++] = l & 0xff;
  }
  b.len = p;
  return b;
}

/** Whether a string holds a sketch Redis would accept (isHLLObjectOrReply): the magic, a known
 *  encoding, and a dense one of exactly the dense size. */
function hllIsValid(v: RString): boolean {
  const len = v.length;
  if (len < HLL_HDR_SIZE) return false;
  const at = (i: number) => (typeof v === "string" ? v.charCodeAt(i) : v.buf[i]);
  if (at(0) !== 72 || at(1) !== 89 || at(2) !== 76 || at(3) !== 76) return false; // "HYLL"
  const enc = at(4);
  return enc === HLL_SPARSE || (enc === HLL_DENSE && len === HLL_DENSE_SIZE);
}

/** The sketch's bytes to read: its own buffer, or a copy of a JS string's. */
function hllBytesOf(v: RString): Uint8Array {
  return typeof v === "string" ? Buffer.from(v, "latin1") : v.buf.subarray(0, v.len);
}

const hllSeq = new Uint8Array(5); // hllSparseSet's replacement opcodes
let hllSeqLen = 0;

function hllSeqZeros(len: number): void {
  if (len > HLL_SPARSE_ZERO_MAX_LEN) {
    hllSeq[hllSeqLen++] = ((len - 1) >> 8) | 0x40;
    hllSeq[hllSeqLen++] = (len - 1) & 0xff;
  } else hllSeq[hllSeqLen++] = len - 1;
}

const hllValOp = (value: number, len: number) => 0x80 | ((value - 1) << 2) | (len - 1);

/** Raises sparse register `index` to count (hllSparseSet): 1 if it changed, 0 if not, -1 if the
 *  opcodes are corrupt. Splits the opcode covering the register, merges equal neighbours after,
 *  and turns the sketch dense when the value or the size calls for it. */
function hllSparseSet(b: RBytes, index: number, count: number): number {
  if (count > HLL_SPARSE_VAL_MAX_VALUE) return hllPromoteAndSet(b, index, count);
  b.reserve(b.len + 3); // the worst split, XZERO into XZERO VAL XZERO, adds 3 bytes
  const buf = b.buf;
  // Find the opcode covering the register.
  let p = HLL_HDR_SIZE, end = b.len, first = 0, prev = -1, span = 0;
  while (p < end) {
    const op = buf[p];
    let oplen = 1;
    if ((op & 0xc0) === 0) span = (op & 0x3f) + 1;
    else if (op & 0x80) span = (op & 3) + 1;
    else {
      span = (((op & 0x3f) << 8) | (p + 1 < end ? buf[p + 1] : 0)) + 1;
      oplen = 2;
    }
    if (index <= first + span - 1) break;
    prev = p;
    p += oplen;
    first += span;
  }
  if (span === 0 || p >= end) return -1;
  const op = buf[p];
  const isZero = (op & 0xc0) === 0, isXzero = (op & 0xc0) === 0x40;
  let next = isXzero ? p + 2 : p + 1;
  if (next >= end) next = -1;

  let done = false;
  if (!isZero && !isXzero) {
    if (((op >> 2) & 0x1f) + 1 >= count) return 0;
    if (span === 1) { buf[p] = hllValOp(count, 1); done = true; }
  }
  if (!done && isZero && span === 1) { buf[p] = hllValOp(count, 1); done = true; }
  if (!done) {
    // Split the opcode into what comes before the register, the register, what comes after.
    const last = first + span - 1;
    hllSeqLen = 0;
    if (isZero || isXzero) {
      if (index !== first) hllSeqZeros(index - first);
      hllSeq[hllSeqLen++] = hllValOp(count, 1);
      if (index !== last) hllSeqZeros(last - index);
    } else {
      const cur = ((op >> 2) & 0x1f) + 1;
      if (index !== first) hllSeq[hllSeqLen++] = hllValOp(cur, index - first);
      hllSeq[hllSeqLen++] = hllValOp(count, 1);
      if (index !== last) hllSeq[hllSeqLen++] = hllValOp(cur, last - index);
    }
    const delta = hllSeqLen - (isXzero ? 2 : 1);
    if (delta > 0 && b.len + delta > hot.hllSparseMaxBytes) return hllPromoteAndSet(b, index, count);
    if (delta && next >= 0) buf.copyWithin(next + delta, next, end);
    b.len += delta;
    end += delta;
    if (delta < 0) buf.fill(0, end, end - delta);
    buf.set(hllSeq.subarray(0, hllSeqLen), p);
  }
  // Merge adjacent VALs of the same value, scanning up to 5 opcodes from the one before.
  p = prev >= 0 ? prev : HLL_HDR_SIZE;
  let scan = 5;
  while (p < end && scan-- !== 0) {
    const a = buf[p];
    if ((a & 0xc0) === 0x40) { p += 2; continue; }
    if ((a & 0xc0) === 0) { p++; continue; }
    if (p + 1 < end && buf[p + 1] & 0x80) {
      const v = ((a >> 2) & 0x1f) + 1, len = (a & 3) + 1 + (buf[p + 1] & 3) + 1;
      if (v === ((buf[p + 1] >> 2) & 0x1f) + 1 && len <= HLL_SPARSE_VAL_MAX_LEN) {
        buf[p + 1] = hllValOp(v, len);
        buf.copyWithin(p, p + 1, end);
        end--;
        buf[end] = 0;
        b.len--;
        continue; // and try the merged one with its right neighbour
      }
    }
    p++;
  }
  buf[15] |= 0x80; // the cached cardinality is stale
  return 1;
}

/** Turns a sparse sketch dense, then sets the register (which must change). */
function hllPromoteAndSet(b: RBytes, index: number, count: number): number {
  if (!hllSparseToDense(b)) return -1;
  return hllDenseSet(b.buf, index, count);
}

/** Rewrites a sparse sketch as dense, in place; false (and nothing changed) if its opcodes do not
 *  cover exactly the 16384 registers. */
function hllSparseToDense(b: RBytes): boolean {
  const src = b.buf;
  if (src[4] === HLL_DENSE) return true;
  const dense = Buffer.alloc(HLL_DENSE_SIZE);
  src.copy(dense, 0, 0, HLL_HDR_SIZE); // the magic and the cached cardinality
  dense[4] = HLL_DENSE;
  let idx = 0;
  for (let p = HLL_HDR_SIZE; p < b.len;) {
    const op = src[p];
    if ((op & 0xc0) === 0) { idx += (op & 0x3f) + 1; p++; }
    else if ((op & 0xc0) === 0x40) { idx += (((op & 0x3f) << 8) | (p + 1 < b.len ? src[p + 1] : 0)) + 1; p += 2; }
    else {
      const runlen = (op & 3) + 1, value = ((op >> 2) & 0x1f) + 1;
      if (runlen + idx > HLL_REGISTERS) break;
      for (let k = 0; k < runlen; k++) hllDenseSetRegister(dense, idx++, value);
      p++;
    }
  }
  if (idx !== HLL_REGISTERS) return false;
  b.buf = dense;
  b.len = HLL_DENSE_SIZE;
  return true;
}

/** Adds an element: 1 if a register changed, 0 if not, -1 if the sketch is corrupt. */
function hllAdd(b: RBytes, ele: string): number {
  const count = hllPatLen(ele);
  const enc = b.buf[4];
  if (enc === HLL_DENSE) return hllDenseSet(b.buf, hllIndex, count);
  return enc === HLL_SPARSE ? hllSparseSet(b, hllIndex, count) : -1;
}

/** Raises max[i] to each register of a sketch (hllMerge); false if a sparse one is corrupt. */
function hllMerge(max: Uint8Array, bytes: Uint8Array): boolean {
  if (bytes[4] === HLL_DENSE) {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const v = hllDenseGet(bytes, i);
      if (v > max[i]) max[i] = v;
    }
    return true;
  }
  let i = 0;
  for (let p = HLL_HDR_SIZE; p < bytes.length;) {
    const op = bytes[p];
    if ((op & 0xc0) === 0) { i += (op & 0x3f) + 1; p++; }
    else if ((op & 0xc0) === 0x40) { i += (((op & 0x3f) << 8) | (bytes[p + 1] ?? 0)) + 1; p += 2; }
    else {
      const runlen = (op & 3) + 1, value = ((op >> 2) & 0x1f) + 1;
      if (runlen + i > HLL_REGISTERS) break;
      for (let k = 0; k < runlen; k++, i++) if (value > max[i]) max[i] = value;
      p++;
    }
  }
  return i === HLL_REGISTERS;
}

const hllHisto = new Float64Array(64);

/** The estimated cardinality of a sketch's bytes, or -1 when a sparse one is corrupt (hllCount).
 *  `raw` holds one register per byte instead (PFCOUNT's union). */
function hllCount(bytes: Uint8Array | null, raw: Uint8Array | null = null): number {
  const histo = hllHisto.fill(0);
  if (raw) for (let i = 0; i < HLL_REGISTERS; i++) histo[raw[i]]++;
  else if (bytes![4] === HLL_DENSE) for (let i = 0; i < HLL_REGISTERS; i++) histo[hllDenseGet(bytes!, i)]++;
  else {
    let idx = 0;
    for (let p = HLL_HDR_SIZE; p < bytes!.length;) {
      const op = bytes![p];
      if ((op & 0xc0) === 0) { const n = (op & 0x3f) + 1; idx += n; histo[0] += n; p++; }
      else if ((op & 0xc0) === 0x40) { const n = (((op & 0x3f) << 8) | (bytes![p + 1] ?? 0)) + 1; idx += n; histo[0] += n; p += 2; }
      else { const n = (op & 3) + 1; idx += n; histo[((op >> 2) & 0x1f) + 1] += n; p++; }
    }
    if (idx !== HLL_REGISTERS) return -1;
  }
  const m = HLL_REGISTERS;
  let z = m * hllTau((m - histo[HLL_Q + 1]) / m);
  for (let j = HLL_Q; j >= 1; j--) {
    z += histo[j];
    z *= 0.5;
  }
  z += m * hllSigma(histo[0] / m);
  // llroundl gives LLONG_MIN for what it cannot hold (an infinite estimate from crafted
  // registers), which Redis then casts to 2^63.
  const e = Math.round((HLL_ALPHA_INF * m * m) / z);
  return e < 2 ** 63 ? e : 2 ** 63;
}

/** Ertl's sigma (arXiv:1702.01284), summed until it stops changing. */
function hllSigma(x: number): number {
  if (x === 1) return Infinity;
  let zPrime: number, y = 1, z = x;
  do {
    x *= x;
    zPrime = z;
    z += x * y;
    y += y;
  } while (zPrime !== z);
  return z;
}

/** Ertl's tau (arXiv:1702.01284). */
function hllTau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let zPrime: number, y = 1, z = 1 - x;
  do {
    x = Math.sqrt(x);
    zPrime = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
  } while (zPrime !== z);
  return z / 3;
}

// ============================================================================================
// Bit counting
//
// BITCOUNT's popcount. JavaScript has no 64-bit popcount, and a loop over a big bitmap, by table
// or SWAR on 32-bit words, runs at about half Redis's speed; WebAssembly has i64.popcnt. This
// 98-byte module, assembled here from the text below (wat2wasm), counts the bits of the 8-byte
// words in its one 64 KB page; a bitmap passes through that page a chunk at a time, about five
// times faster than the SWAR loop on 125 KB (bench/results.md). Short ranges use the table.
//
//   (module
//     (memory (export "memory") 1)
//     (func (export "popcount") (param $p i32) (param $words i32) (result i32)
//       (local $count i64)
//       (block $done
//         (loop $next
//           (br_if $done (i32.eqz (local.get $words)))
//           (local.set $count (i64.add (local.get $count) (i64.popcnt (i64.load (local.get $p)))))
//           (local.set $p (i32.add (local.get $p) (i32.const 8)))
//           (local.set $words (i32.sub (local.get $words) (i32.const 1)))
//           (br $next)))
//       (i32.wrap_i64 (local.get $count))))
// ============================================================================================

const POPCOUNT_WASM = "AGFzbQEAAAABBwFgAn9/AX8DAgEABQMBAAEHFQIGbWVtb3J5AgAIcG9wY291bnQAAAovAS0BAX4CQANAIAFFDQEgAiAAKQMAe3whAiAAQQhqIQAgAUEBayEBDAALCyACpws=";
const POPCOUNT_PAGE = 65536;
let popcountModule: { page: Uint8Array; count: (p: number, words: number) => number } | null = null;

/** The set bits of buf[start, end). */
function popcount(buf: Uint8Array, start: number, end: number): number {
  let count = 0;
  if (end - start >= 256) {
    if (!popcountModule) {
      const inst = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(POPCOUNT_WASM, "base64")), {});
      const memory = inst.exports.memory as WebAssembly.Memory;
      popcountModule = { page: new Uint8Array(memory.buffer, 0, POPCOUNT_PAGE), count: inst.exports.popcount as (p: number, words: number) => number };
    }
    const { page, count: countWords } = popcountModule;
    for (; end - start >= 8; ) {
      const n = Math.min(POPCOUNT_PAGE, (end - start) & ~7);
      page.set(buf.subarray(start, start + n));
      count += countWords(0, n >> 3);
      start += n;
    }
  }
  for (; start < end; start++) count += POPCOUNT[buf[start]];
  return count;
}

// ============================================================================================
// Long double
//
// 80-bit extended precision for INCRBYFLOAT and HINCRBYFLOAT, as Redis computes them.
// ============================================================================================

// --- 80-bit long double for INCRBYFLOAT, which Redis computes in x87 extended precision and prints
// with "%.17Lf": 0.2 + 0.1 is 0.3 there, not 0.30000000000000004. Values are m * 2^e in BigInt. ---

type LD =
  | { kind: "fin"; neg: boolean; m: bigint; e: number }
  | { kind: "inf"; neg: boolean }
  | { kind: "nan" };

const PREC = 64;          // mantissa bits (explicit integer bit)
const MIN_E = -16445;     // exponent of the smallest denormal, 2^-16445
const MAX_TOP = 16384;    // finite values are < 2^16384
const MAX_LONG_DOUBLE_CHARS = 5 * 1024;

const bitLen = (x: bigint): number => (x === 0n ? 0 : x.toString(2).length);

// Rounds the exact value (-1)^neg * (m + (sticky ? tiny : 0)) * 2^e to nearest-even long double.
// sticky (an extra nonzero amount below m's lsb) only counts when rounding drops bits (q > e below).
function ldRound(neg: boolean, m: bigint, e: number, sticky = false): LD {
  if (m === 0n) return { kind: "fin", neg, m: 0n, e: 0 };
  const q = Math.max(e + bitLen(m) - PREC, MIN_E);
  if (q > e) {
    const sh = BigInt(q - e), half = 1n << (sh - 1n);
    let keep = m >> sh;
    const rem = m & ((1n << sh) - 1n);
    if (rem > half || (rem === half && (sticky || (keep & 1n) === 1n))) keep += 1n;
    m = keep; e = q;
    if (bitLen(m) > PREC) { m >>= 1n; e++; } // carry out: m was 2^64, exact
  }
  if (m !== 0n && e + bitLen(m) > MAX_TOP) return { kind: "inf", neg };
  return { kind: "fin", neg, m, e };
}

// Parses like Redis string2ld: strtold over the whole string; null for empty, >= 5120 chars,
// leading whitespace, trailing garbage, NaN, overflow to ±inf, or underflow of a nonzero value to 0.
function parseLongDouble(s: string): LD | null {
  if (s.length === 0 || s.length >= MAX_LONG_DOUBLE_CHARS) return null;
  let r: RegExpExecArray | null;
  if ((r = /^([+-]?)(inf|infinity)$/i.exec(s))) return { kind: "inf", neg: r[1] === "-" };
  const neg = s[0] === "-";
  let digits: string, frac: string, exp: string | undefined, hex: boolean;
  if ((r = /^[+-]?0[xX](?=\.?[0-9a-fA-F])([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?$/.exec(s))) hex = true;
  else if ((r = /^[+-]?(?=\.?[0-9])([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/.exec(s))) hex = false;
  else return null;
  [, digits, frac = "", exp] = r;
  const mant = BigInt((hex ? "0x" : "") + ((digits + frac).replace(/^0+/, "") || "0"));
  if (mant === 0n) return { kind: "fin", neg, m: 0n, e: 0 };
  // Exponent clamped to ±1e6: far beyond any input that doesn't already over/underflow.
  const x = Math.max(-1e6, Math.min(1e6, exp === undefined ? 0 : Number(exp.replace(/^([+-]?)0+(?=\d)/, "$1").slice(0, 10))));
  let v: LD;
  if (hex) {
    // glibc quirk: a hex value landing in the denormal range loses its 65th significant bit (the
    // "round bit" of the first 64-bit truncation); only the bits below it still act as sticky.
    let m = mant, e = x - 4 * frac.length, sticky = false;
    const L = bitLen(m);
    if (L > PREC && e + L - 1 < MIN_E + PREC - 1) {
      sticky = (m & ((1n << BigInt(L - PREC - 1)) - 1n)) !== 0n;
      m >>= BigInt(L - PREC); e += L - PREC;
    }
    v = ldRound(neg, m, e, sticky);
  } else {
    const k = x - frac.length; // value = mant * 10^k
    if (k > 5000) return null;                      // >= 1e5000: overflow
    if (k < -(MAX_LONG_DOUBLE_CHARS + 5000)) return null; // < 1e-5000: underflow to 0
    if (k >= 0) v = ldRound(neg, mant * 10n ** BigInt(k), 0);
    else {
      const den = 10n ** BigInt(-k);
      const sh = Math.max(0, PREC + 2 + bitLen(den) - bitLen(mant)); // quotient gets >= 66 bits
      const num = mant << BigInt(sh);
      v = ldRound(neg, num / den, -sh, num % den !== 0n);
    }
  }
  if (v.kind === "inf" || (v.kind === "fin" && v.m === 0n)) return null; // ERANGE cases
  return v;
}

// Returns a + b as x87 long double addition (round-to-nearest-even; exact zero sum is +0 unless both are -0).
function addLongDouble(a: LD, b: LD): LD {
  if (a.kind === "nan" || b.kind === "nan") return { kind: "nan" };
  if (a.kind === "inf" || b.kind === "inf") {
    if (a.kind === "inf" && b.kind === "inf" && a.neg !== b.neg) return { kind: "nan" };
    return a.kind === "inf" ? a : b;
  }
  const e = Math.min(a.e, b.e);
  const sa = (a.neg ? -a.m : a.m) << BigInt(a.e - e), sb = (b.neg ? -b.m : b.m) << BigInt(b.e - e);
  const sum = sa + sb;
  if (sum === 0n) return { kind: "fin", neg: a.neg && b.neg, m: 0n, e: 0 };
  return ldRound(sum < 0n, sum < 0n ? -sum : sum, e);
}

// True for finite values (not ±inf, not NaN).
const isFiniteLD = (x: LD): boolean => x.kind === "fin";

/** ceill(x * 1000.0) in long double, as Redis turns a timeout in seconds into milliseconds: the
 *  product is rounded to 64 bits first, so "0.0001" becomes 1 ms and "-0.001" becomes -0. */
function ldMillisCeil(x: LD): number {
  if (x.kind !== "fin") return x.kind === "inf" && !x.neg ? Infinity : NaN;
  const p = ldRound(x.neg, x.m * 1000n, x.e);
  if (p.kind !== "fin") return Infinity;
  if (p.e >= 0) return Number(p.neg ? -(p.m << BigInt(p.e)) : p.m << BigInt(p.e));
  const sh = BigInt(-p.e);
  const whole = p.m >> sh, frac = p.m & ((1n << sh) - 1n);
  // Rounding up: positives with a fraction go to the next integer, negatives drop their fraction.
  return p.neg ? -Number(whole) || 0 : Number(whole + (frac ? 1n : 0n));
}

// The nearest double (for timeouts, which Redis converts from long double too).
function ldToNumber(x: LD): number {
  if (x.kind === "nan") return NaN;
  if (x.kind === "inf") return x.neg ? -Infinity : Infinity;
  const v = Number(x.m) * Math.pow(2, x.e);
  return x.neg ? -v : v;
}

// Formats like ld2string(LD_STR_HUMAN): "inf"/"-inf", else glibc "%.17Lf" (exact value, round-half-even)
// with trailing zeros and a trailing '.' removed, and "-0" turned into "0". "nan" is never produced by Redis.
function formatLongDoubleHuman(x: LD): string {
  if (x.kind === "nan") return x.kind;
  if (x.kind === "inf") return x.neg ? "-inf" : "inf";
  const scaled = x.m * 10n ** 17n;
  let q: bigint;
  if (x.e >= 0) q = scaled << BigInt(x.e);
  else {
    const sh = BigInt(-x.e), rem = scaled & ((1n << sh) - 1n), half = 1n << (sh - 1n);
    q = scaled >> sh;
    if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
  }
  const d = q.toString().padStart(18, "0");
  let out = (x.neg ? "-" : "") + d.slice(0, -17) + "." + d.slice(-17);
  out = out.replace(/0+$/, "").replace(/\.$/, "");
  return out === "-0" ? "0" : out;
}

// ============================================================================================
// Partial quicksort
//
// Redis's pqsort: Bentley and McIlroy's quicksort (median of three, or of nine above 40
// elements; equal keys gathered at both ends, then swapped to the middle; insertion sort below 7)
// that skips the parts lying wholly outside the wanted range of positions. Redis uses it for
// SORT ... BY ... LIMIT and for GEOSEARCH ... COUNT; where keys tie, the order it leaves is its
// own, so the same moves are made here to give the same replies.
// ============================================================================================

/** Sorts `arr` in place far enough that positions lo..hi hold what a full sort puts there,
 *  moving elements exactly as Redis's pqsort does (`cmp` returns <0, 0 or >0, as C's). */
function partialQuicksort<T>(arr: T[], cmp: (x: T, y: T) => number, lo: number, hi: number): void {
  const swap = (i: number, j: number) => { const t = arr[i]; arr[i] = arr[j]; arr[j] = t; };
  const swapRuns = (i: number, j: number, n: number) => { for (let k = 0; k < n; k++) swap(i + k, j + k); };
  const median3 = (i: number, j: number, k: number) =>
    cmp(arr[i], arr[j]) < 0
      ? (cmp(arr[j], arr[k]) < 0 ? j : cmp(arr[i], arr[k]) < 0 ? k : i)
      : (cmp(arr[j], arr[k]) > 0 ? j : cmp(arr[i], arr[k]) < 0 ? i : k);
  // Whether positions start..start+n-1 lie wholly before or wholly after the wanted range.
  const outside = (start: number, n: number) => (lo < start && hi < start) || (lo >= start + n && hi >= start + n);

  const sort = (a: number, n: number): void => {
    for (;;) {
      if (n < 7) {
        for (let m = a + 1; m < a + n; m++) for (let l = m; l > a && cmp(arr[l - 1], arr[l]) > 0; l--) swap(l, l - 1);
        return;
      }
      let m = a + Math.floor(n / 2);
      if (n > 7) {
        let l = a, r = a + n - 1;
        if (n > 40) {
          const d = Math.floor(n / 8);
          l = median3(l, l + d, l + 2 * d);
          m = median3(m - d, m, m + d);
          r = median3(r - 2 * d, r - d, r);
        }
        m = median3(l, m, r);
      }
      swap(a, m); // the pivot waits at a
      // Partition: [a+1, pa) equal, [pa, pb) less, (pc, pd] greater, (pd, a+n) equal.
      let pa = a + 1, pb = a + 1, pc = a + n - 1, pd = a + n - 1;
      for (;;) {
        let c = 0;
        while (pb <= pc && (c = cmp(arr[pb], arr[a])) <= 0) { if (c === 0) swap(pa++, pb); pb++; }
        while (pb <= pc && (c = cmp(arr[pc], arr[a])) >= 0) { if (c === 0) swap(pc, pd--); pc--; }
        if (pb > pc) break;
        swap(pb++, pc--);
      }
      const end = a + n;
      let r = Math.min(pa - a, pb - pa);
      swapRuns(a, pb - r, r);
      r = Math.min(pd - pc, end - pd - 1);
      swapRuns(pb, end - r, r);
      if ((r = pb - pa) > 1 && !outside(a, r)) sort(a, r);
      if ((r = pd - pc) <= 1) return;
      a = end - r;
      n = r;
      if (outside(a, n)) return;
    }
  };
  sort(0, arr.length);
}

// ============================================================================================
// CRC64 and LZF
//
// The checksum and the compression of Redis's RDB format.
// ============================================================================================

// --- CRC64 (Jones polynomial, reflected, as Redis's crc64.c), as two 32-bit halves per table entry.
const CRC64_LO = new Uint32Array(256), CRC64_HI = new Uint32Array(256);
{
  const poly = 0x95ac9329ac4bc9b5n; // 0xad93d23594c935a9 bit-reflected
  for (let i = 0; i < 256; i++) {
    let crc = BigInt(i);
    for (let j = 0; j < 8; j++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
    CRC64_LO[i] = Number(crc & 0xffffffffn);
    CRC64_HI[i] = Number(crc >> 32n);
  }
}

/** Continues a CRC64 over bytes; the state is [lo, hi]. */
function crc64Update(state: [number, number], buf: Uint8Array, start = 0, end = buf.length): void {
  let lo = state[0], hi = state[1];
  for (let i = start; i < end; i++) {
    const idx = (lo ^ buf[i]) & 0xff;
    lo = ((lo >>> 8) | (hi << 24)) ^ CRC64_LO[idx];
    hi = (hi >>> 8) ^ CRC64_HI[idx];
  }
  state[0] = lo >>> 0;
  state[1] = hi >>> 0;
}

// --- LZF (liblzf's format, which Redis uses for strings over 20 bytes).

/** Decompresses LZF data into exactly `outLen` bytes, or returns null if it is malformed. */
function lzfDecompress(input: Uint8Array, outLen: number): Uint8Array | null {
  const out = new Uint8Array(outLen);
  let ip = 0, op = 0;
  while (ip < input.length) {
    const ctrl = input[ip++];
    if (ctrl < 32) {
      const n = ctrl + 1;
      if (op + n > outLen || ip + n > input.length) return null;
      out.set(input.subarray(ip, ip + n), op);
      ip += n;
      op += n;
    } else {
      let len = ctrl >> 5;
      if (len === 7) len += input[ip++];
      const ref = op - ((ctrl & 0x1f) << 8) - input[ip++] - 1;
      len += 2;
      if (ref < 0 || op + len > outLen) return null;
      for (let k = 0; k < len; k++) out[op++] = out[ref + k];
    }
  }
  return op === outLen ? out : null;
}

/** Compresses with LZF; returns null when the result would not be smaller (Redis then stores the
 *  string plainly). A 3-byte hash finds back-references up to 8 KiB away, as liblzf does. */
function lzfCompress(input: Uint8Array): Uint8Array | null {
  const n = input.length;
  const out = new Uint8Array(n);
  const table = new Int32Array(1 << 14).fill(-1);
  let ip = 0, op = 1, lit = 0;
  out[0] = 0;
  while (ip < n - 2) {
    const h = Math.imul((input[ip] << 16) | (input[ip + 1] << 8) | input[ip + 2], 0x9e3779b1) >>> 18;
    const ref = table[h];
    table[h] = ip;
    const off = ip - ref - 1;
    if (ref >= 0 && off < 8192 && input[ref] === input[ip] && input[ref + 1] === input[ip + 1] && input[ref + 2] === input[ip + 2]) {
      let len = 3;
      const maxLen = Math.min(264, n - ip);
      while (len < maxLen && input[ref + len] === input[ip + len]) len++;
      if (op + 3 + 1 >= n) return null;
      if (lit === 0) op--; // drop the empty literal run header
      else out[op - lit - 1] = lit - 1;
      const l = len - 2;
      if (l < 7) out[op++] = (l << 5) | (off >> 8);
      else { out[op++] = (7 << 5) | (off >> 8); out[op++] = l - 7; }
      out[op++] = off & 0xff;
      out[op++] = 0; // next literal run header
      lit = 0;
      ip += len;
    } else {
      if (op + 1 >= n) return null;
      out[op++] = input[ip++];
      lit++;
      if (lit === 32) { out[op - lit - 1] = 31; out[op++] = 0; lit = 0; }
    }
  }
  while (ip < n) {
    if (op + 1 >= n) return null;
    out[op++] = input[ip++];
    lit++;
    if (lit === 32) { out[op - lit - 1] = 31; out[op++] = 0; lit = 0; }
  }
  if (lit === 0) op--;
  else out[op - lit - 1] = lit - 1;
  return op < n ? out.subarray(0, op) : null;
}

// ============================================================================================
// main
//
// The command-line entry point: flags and config file, start-up, signals.
// ============================================================================================

let isMainProcess = false;

export function main(argv: string[]): void {
  isMainProcess = true;
  if (argv[0] === "-v" || argv[0] === "--version") {
    console.log(`Redbun v=${REDBUN_VERSION} (Redis ${REDIS_VERSION} compatible) bun=${Bun.version}`);
    return;
  }
  const startDir = process.cwd();
  if (argv[0] && !argv[0].startsWith("--")) {
    // Absolute, as Redis keeps it: `dir` changes the working directory, CONFIG REWRITE writes here.
    server.configFile = resolvePath(argv[0]);
    try {
      readFileSync(argv[0]);
    } catch (err) {
      process.stdout.write(`${process.pid}:C ${logTimestamp()} # Fatal error, can't open config file '${argv[0]}': ${strerror(err)}\n`);
      process.exit(1);
    }
  }
  try {
    loadConfigDefaults();
    loadConfigText(argvToConfigText(argv));
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : `Fatal error loading the configuration: ${(err as Error).message}`);
    process.exit(1);
  }
  if (conf.daemonize && !process.env.REDBUN_DAEMON) {
    // daemonize yes: Bun cannot fork, so the same command starts again in a new session with its
    // standard streams on /dev/null, and this process exits, as Redis's parent does after its fork.
    const { spawn } = require("node:child_process") as typeof import("node:child_process");
    spawn(process.execPath, process.argv.slice(1), { cwd: startDir, detached: true, stdio: "ignore", env: { ...process.env, REDBUN_DAEMON: "1" } }).unref();
    process.exit(0);
  }
  // A daemon writes a pid file even when none is configured, at Redis's default place.
  if (conf.daemonize && !conf.pidfile) conf.pidfile = "/var/run/redis.pid";
  // Warnings, as Redis logs them: seen whatever the loglevel.
  log("warning", "oO0OoO0OoO0Oo Redbun is starting oO0OoO0OoO0Oo");
  log("warning", `Redbun version=${REDBUN_VERSION}, Redis version=${REDIS_VERSION}, bun=${Bun.version}, pid=${process.pid}, just started`);
  if (!server.configFile) log("warning", "Warning: no config file specified, using the default config. In order to specify a config file use bun run main.ts /path/to/redis.conf");
  else log("warning", "Configuration loaded");
  let srv: ReturnType<typeof initServer>;
  try {
    srv = initServer();
  } catch (err) {
    log("warning", (err as Error).message);
    writeHeldLog();
    process.exit(1);
  }
  srv.ready.catch((err) => {
    log("warning", (err as Error).message);
    process.exit(1);
  });
  if (conf.pidfile) {
    try { writeFileSync(String(conf.pidfile), `${process.pid}\n`); } catch (err) { log("warning", `Failed to write PID file: ${strerror(err)}`); }
  }
  // Deliberate crashes (a SIGABRT from outside, DEBUG SEGFAULT) leave Redis's crash report.
  process.on("SIGABRT", () => crashWithReport("SIGABRT"));
  // As Redis's handler: note the signal, and let serverCron shut down (see SHUTDOWN). A second
  // SIGINT means now: no save, no waiting for replicas.
  const onSignal = (sig: string) => {
    if (shutdownState.asap && sig === "SIGINT") {
      log("warning", "You insist... exiting now.");
      process.exit(1);
    }
    log("warning", server.loading ? "Received shutdown signal during loading, scheduling shutdown." : `Received ${sig} scheduling shutdown...`);
    shutdownState.asap = true;
    shutdownState.signal = sig;
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  // Anything that escapes a handler is logged; the server keeps serving.
  process.on("uncaughtException", (err) => log("warning", `Uncaught exception: ${err.stack ?? err}`));
  process.on("unhandledRejection", (err) => log("warning", `Unhandled rejection: ${err}`));
  void srv;
}

// Every chapter's rows are defined by now.
buildCommandTable();
if (import.meta.main) main(process.argv.slice(2));
else if (embedded) void serveStarter();
