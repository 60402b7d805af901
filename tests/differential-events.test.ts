// main.ts, Transactions and Pub/Sub: differential tests on one
// connection: the same scripts run on a real redis-server and on Redbun, and the replies are
// compared byte for byte (see ./differential-harness.ts for the script format and the knobs).
// What needs a second connection (another client's write breaking a WATCH, messages published to
// a subscriber, keyspace notifications) lives in transactions.test.ts, pubsub.test.ts and
// notifications.test.ts.
//
// A command that answers with several frames (SUBSCRIBE a b answers one confirmation per channel)
// is written as a raw step that reads that many replies: see `frames()`. Every pub/sub script
// ends with RESET, so the next script finds no leftover subscription in PUBSUB's global counts.
import { runDifferentialSuites, rules, type Script, type Step } from "./differential-harness.ts";
import { encode } from "./client.ts";

/** A command whose reply is `n` frames (one per channel for SUBSCRIBE and friends). */
const frames = (n: number, ...args: string[]): Step => ({ raw: encode(args).toString("latin1"), read: n });

/** WATCH k, then `op`, then an empty-ish transaction: EXEC's reply shows whether `op` touched k. */
const watchProbe = (op: string | string[], key = "k"): Step[] => [`WATCH ${key}`, op, "MULTI", "PING", "EXEC"];

// Writes that change nothing: Redis does not signal the key, so a WATCH on it survives them.
// Each probe starts from k holding a value of the right type (or missing, for the *X/DEL forms).
const NO_OP_WRITES: [setup: string[], op: string | string[]][] = [
  [["SET k v"], "SET k w NX"],
  [[], "SET k w XX"],
  [[], "DEL k"],
  [[], "UNLINK k"],
  [[], "EXPIRE k 100"],
  [["SET k v"], "PERSIST k"],
  [["SET k v EX 100"], "EXPIRE k 200 NX"],
  [["SET k v"], "EXPIRE k 100 XX"],
  [["SET k v EX 100"], "EXPIRE k 50 GT"],
  [["SET k v"], "SETNX k w"],
  [["SET k v"], "MSETNX k w other x"],
  [[], "GETDEL k"],
  [["SET k v"], "GETEX k"],
  [["SET k v"], ["SETRANGE", "k", "0", ""]],
  [["SET k v"], "RENAMENX other k"],
  [["SET k v", "SET other x"], "RENAMENX other k"],
  [["SET k v"], "COPY k k2"],
  [["SET k v", "SET k2 x"], "COPY k2 k"],
  [[], "LPUSHX k x"],
  [[], "RPUSHX k x"],
  [["RPUSH k a"], "LREM k 0 zz"],
  [["RPUSH k a"], "LINSERT k BEFORE zz x"],
  [[], "LPOP k"],
  [["RPUSH k a"], "LPOP k 0"],
  [[], "LMOVE k other LEFT LEFT"],
  [["HSET k f v"], "HDEL k nope"],
  [["HSET k f v"], "HSETNX k f w"],
  [["SADD k a"], "SADD k a"],
  [["SADD k a"], "SREM k nope"],
  [["SADD k a"], "SMOVE k other nope"],
  [[], "SPOP k"],
  [["SADD k a"], "SPOP k 0"],
  [["ZADD k 1 a"], "ZADD k 1 a"],
  [["ZADD k 1 a"], "ZADD k NX 5 a"],
  [["ZADD k 1 a"], "ZADD k XX 5 b"],
  [["ZADD k 1 a"], "ZADD k GT 0 a"],
  [["ZADD k 1 a"], "ZREM k nope"],
  [["ZADD k 1 a"], "ZREMRANGEBYSCORE k 5 10"],
  [["ZADD k 1 a"], "ZREMRANGEBYRANK k 5 10"],
  [["ZADD k 0 a"], "ZREMRANGEBYLEX k [x [y"],
  [[], "ZPOPMIN k"],
  [["SET k v"], "MOVE nope 1"],
  [["SET k v"], "LPUSH k x"],
  [["SET k v"], "INCR k"],
  [["RPUSH k a"], "SET k w XX GET"],
  [["SET k 1"], "INCRBY k abc"],
  [["SET k v"], "GET k"],
];

// Writes that change the key (or replace it with an equal value): the WATCH breaks.
const REAL_WRITES: [setup: string[], op: string | string[]][] = [
  [["SET k v"], "SET k v"],
  [[], "SET k v"],
  [["SET k v"], "DEL k"],
  [["SET k v"], "EXPIRE k 100"],
  [["SET k v EX 100"], "PERSIST k"],
  [["SET k v"], "EXPIRE k 0"],
  [["SET k v"], ["APPEND", "k", ""]],
  [["SET k v"], "GETEX k EX 100"],
  [["SET k v"], "GETDEL k"],
  [["SET k v"], "RENAME k k"],
  [["SET other x"], "RENAME other k"],
  [["SET k v"], "RENAME k other"],
  [["SET k2 x"], "COPY k2 k"],
  [["SET k v", "SET k2 x"], "COPY k2 k REPLACE"],
  [["SET k v"], "MOVE k 1"],
  [["RPUSH k a b"], "LTRIM k 0 -1"],
  [["RPUSH k a"], "LSET k 0 a"],
  [["RPUSH k a"], "LMOVE k k LEFT RIGHT"],
  [["HSET k f v"], "HSET k f v"],
  [["HSET k f 1"], "HINCRBY k f 0"],
  [["SADD k a", "SADD other b"], "SINTERSTORE k other k"],
  [["SADD k a"], "SDIFFSTORE k k k"],
  [["ZADD k 1 a"], "ZINCRBY k 0 a"],
  [["ZADD k 1 a"], "ZADD k INCR 0 a"],
  [["ZADD k 1 a"], "ZUNIONSTORE k 1 k"],
  [["ZADD k 1 a"], "ZRANGESTORE k k 5 10"],
  [["SET k 1"], "INCRBY k 0"],
  [["SET k 1"], "INCRBYFLOAT k 0"],
  [["SET k v"], "FLUSHDB"],
  [["SET k v"], "SWAPDB 0 1"],
  [["SELECT 1", "SET k v", "SELECT 0"], "SWAPDB 0 1"],
];

const probes = (list: [string[], string | string[]][]): Step[] =>
  list.flatMap(([setup, op]) => ["FLUSHALL", ...setup, ...watchProbe(op)]);

const SUITES: Record<string, Script[]> = {
  "transactions: MULTI / EXEC / DISCARD": [
    { name: "queued replies, then every result in order", steps: [
      "MULTI", "SET a 1", "GET a", "INCR a", "INCRBY a 10", "GET a", "DEL a", "EXISTS a", "RPUSH l x y", "LRANGE l 0 -1", "EXEC", "GET a",
    ] },
    { name: "an empty transaction", steps: ["MULTI", "EXEC", "MULTI", "DISCARD"] },
    { name: "runtime errors inside EXEC do not stop the rest", steps: [
      "MULTI", "SET a 1", "LPUSH a x", "INCR a", "SET b v EX abc", "GET a", "INCRBYFLOAT a inf", "HSET a f v", "SET c 3", "EXEC",
      "MGET a b c",
    ] },
    { name: "an unknown command while queueing aborts EXEC", steps: [
      "MULTI", "SET a 1", "NOSUCHCMD x y", "SET b 2", "EXEC", "MGET a b", "EXEC",
    ] },
    { name: "an unknown subcommand while queueing aborts EXEC", steps: ["MULTI", "SET a 1", "CONFIG NOSUCH", "OBJECT nope k", "EXEC", "GET a"] },
    { name: "a wrong arity while queueing aborts EXEC", steps: ["MULTI", "SET a", "SET a 1", "GET", "EXEC", "EXISTS a"] },
    { name: "errors are answered even after the transaction is poisoned", steps: ["MULTI", "FOO", "SET a 1", "BAR", "GET a b", "EXEC"] },
    { name: "DISCARD drops the queue and the poison", steps: [
      "MULTI", "SET a 1", "DISCARD", "GET a", "MULTI", "FOO", "DISCARD", "MULTI", "SET a 2", "EXEC", "GET a", "DISCARD",
    ] },
    { name: "nested MULTI is an error that does not abort", steps: ["MULTI", "SET a 1", "MULTI", "INCR a", "EXEC", "GET a"] },
    { name: "EXEC and DISCARD without MULTI", steps: ["EXEC", "DISCARD", "exec", "discard"] },
    { name: "MULTI and DISCARD with arguments", steps: [
      "MULTI x", "DISCARD x", "MULTI", "SET a 1", "DISCARD x", "EXEC", "GET a", "MULTI", "MULTI x", "SET a 2", "EXEC", "GET a",
    ] },
    { name: "EXEC with arguments answers EXECABORT, even outside MULTI", steps: ["EXEC x", "EXEC x y", "DISCARD"] },
    { name: "EXEC with arguments inside MULTI discards the transaction", steps: [
      "MULTI", "SET a 1", "EXEC x", "EXEC", "GET a", "DISCARD",
    ] },
    { name: "WATCH inside MULTI is an error that does not abort", steps: ["MULTI", "WATCH a", "SET a 1", "EXEC", "GET a"] },
    { name: "UNWATCH and PING are queued", steps: ["MULTI", "UNWATCH", "PING", "PING x", "ECHO y", "EXEC"] },
    { name: "SELECT inside MULTI applies to what follows and stays after EXEC", steps: [
      "MULTI", "SELECT 3", "SET a 1", "SELECT 4", "SET a 2", "EXEC", "GET a", "SELECT 3", "GET a", "SELECT 0", "GET a",
    ] },
    { name: "FLUSHALL, DBSIZE, SWAPDB queued", steps: ["SET a 1", "MULTI", "DBSIZE", "SWAPDB 0 1", "DBSIZE", "FLUSHALL", "DBSIZE", "EXEC"] },
    { name: "SHUTDOWN is refused inside MULTI; MONITOR is queued", steps: ["MULTI", "SHUTDOWN", "DISCARD", "MULTI", "MONITOR", "DISCARD", "MULTI", "SHUTDOWN NOSAVE", "EXEC"] },
    { name: "RESET inside MULTI ends the transaction", steps: ["MULTI", "SET a 1", "RESET", "EXEC", "GET a"] },
    { name: "QUIT inside MULTI answers OK and closes", steps: ["MULTI", "SET a 1", { raw: encode(["QUIT"]).toString("latin1"), read: "close" }] },
    { name: "HELLO inside EXEC switches the protocol for the rest of the replies", steps: [
      "MULTI", "HELLO 3", "GET missing", "HSET h f v", "HGETALL h", { c: "EXEC", rule: rules.helloId },
      "MULTI", "HELLO 2", "GET missing", "HGETALL h", { c: "EXEC", rule: rules.helloId },
    ] },
    { name: "SUBSCRIBE inside EXEC subscribes; then only pub/sub commands are allowed, EXEC included", steps: [
      "MULTI", "SUBSCRIBE ch", "PING", "EXEC", "MULTI", "GET a", "PING", "RESET", "MULTI", "EXEC",
    ] },
    { name: "EXEC refused in the subscribed context answers EXECABORT", steps: [
      "MULTI", "SUBSCRIBE ch", "EXEC", "MULTI", "EXEC", "EXEC x", "RESET",
    ] },
    { name: "blocking commands inside MULTI answer at once", steps: [
      "MULTI", "BLPOP q 0", "BRPOP q 1", "BLMOVE q d LEFT RIGHT 0", "BRPOPLPUSH q d 0", "BLMPOP 0 1 q LEFT", "BZPOPMIN z 0",
      "BZPOPMAX z 0", "BZMPOP 0 1 z MIN", "EXEC",
      "MULTI", "RPUSH q a b c", "BLPOP q 0", "BLMOVE q d LEFT RIGHT 0", "BLMPOP 0 1 q LEFT COUNT 5", "BLPOP q 0", "ZADD z 1 a 2 b 3 c",
      "BZPOPMIN z 0", "BZMPOP 0 1 z MAX COUNT 5", "BZPOPMAX z 0", "LRANGE d 0 -1", "EXEC",
    ] },
    { name: "bad timeouts of blocking commands fail inside EXEC", steps: [
      "MULTI", "BLPOP q -1", "BLPOP q abc", "BZPOPMIN z -1", "BLMPOP 0 0 q LEFT", "EXEC",
    ] },
  ],
  "transactions: WATCH / UNWATCH": [
    { name: "arity", steps: ["WATCH", "UNWATCH x", "WATCH a b c", "UNWATCH"] },
    { name: "a write on the same connection breaks the WATCH", steps: [
      "SET k 1", "WATCH k", "SET k 2", "MULTI", "GET k", "EXEC", "GET k",
    ] },
    { name: "reads do not break the WATCH", steps: [
      "SET k 1", "WATCH k", "GET k", "EXISTS k", "TTL k", "TYPE k", "STRLEN k", "OBJECT ENCODING k", "TOUCH k", "MULTI", "GET k", "EXEC",
    ] },
    { name: "watching a missing key, which then appears", steps: [
      "WATCH k", "MULTI", "PING", "EXEC", "WATCH k", "SET k 1", "MULTI", "PING", "EXEC",
    ] },
    { name: "EXEC and DISCARD unwatch", steps: [
      "WATCH k", "MULTI", "EXEC", "SET k 1", "MULTI", "PING", "EXEC",
      "WATCH k", "MULTI", "DISCARD", "SET k 2", "MULTI", "PING", "EXEC",
    ] },
    { name: "UNWATCH forgets the keys and a break already seen", steps: [
      "WATCH k", "UNWATCH", "SET k 1", "MULTI", "PING", "EXEC", "WATCH k", "SET k 2", "UNWATCH", "MULTI", "PING", "EXEC",
    ] },
    { name: "a failed WATCH stays failed whatever is watched next", steps: [
      "WATCH k", "SET k 1", "WATCH j", "WATCH k", "MULTI", "PING", "EXEC", "MULTI", "PING", "EXEC",
    ] },
    { name: "EXECABORT wins over a broken WATCH", steps: ["WATCH k", "SET k 1", "MULTI", "FOO", "EXEC", "MULTI", "PING", "EXEC"] },
    { name: "watching several keys; any one breaks it", steps: [
      "WATCH a b c", "SET b 1", "MULTI", "PING", "EXEC", "WATCH a b c", "WATCH a", "MULTI", "PING", "EXEC",
    ] },
    { name: "a watched key belongs to the database it was watched in", steps: [
      "SELECT 1", "WATCH k", "SELECT 0", "SET k 1", "MULTI", "PING", "EXEC",
      "SELECT 1", "WATCH k", "SELECT 0", "SELECT 1", "SET k 1", "SELECT 0", "MULTI", "PING", "EXEC",
      "WATCH k", "SELECT 1", "WATCH k", "SELECT 0", "SET k 9", "SELECT 1", "MULTI", "PING", "EXEC", "SELECT 0",
    ] },
    { name: "a key that expires before EXEC breaks the WATCH", steps: [
      "SET k v PX 30", "WATCH k", { sleep: 80 }, "MULTI", "PING", "EXEC",
      "SET j v PX 30", "WATCH j", { sleep: 80 }, "GET j", "MULTI", "PING", "EXEC",
    ] },
    { name: "a watched key given a TTL that passes before EXEC", steps: [
      "WATCH k", "SET k v PX 30", { sleep: 80 }, "MULTI", "PING", "EXEC",
    ] },
    { name: "FLUSHALL and FLUSHDB break the WATCH only of keys that existed", steps: [
      "SET k 1", "WATCH k", "FLUSHALL", "MULTI", "PING", "EXEC",
      "WATCH k", "FLUSHALL", "MULTI", "PING", "EXEC",
      "SET k 1", "WATCH k", "FLUSHDB", "MULTI", "PING", "EXEC",
      "SELECT 1", "SET k 1", "SELECT 0", "WATCH k", "FLUSHALL", "MULTI", "PING", "EXEC",
      "SELECT 1", "SET k 1", "SELECT 0", "SET k 1", "WATCH k", "SELECT 1", "FLUSHDB", "SELECT 0", "MULTI", "PING", "EXEC",
    ] },
    { name: "SWAPDB breaks the WATCH of keys present on either side", steps: [
      "SET k 1", "WATCH k", "SWAPDB 0 1", "MULTI", "PING", "EXEC", "FLUSHALL",
      "WATCH k", "SWAPDB 0 1", "MULTI", "PING", "EXEC",
      "SELECT 1", "SET k 1", "SELECT 0", "WATCH k", "SWAPDB 1 0", "MULTI", "PING", "EXEC", "FLUSHALL",
      "SELECT 2", "SET k 1", "SELECT 0", "WATCH k", "SWAPDB 1 2", "MULTI", "PING", "EXEC", "FLUSHALL",
    ] },
    { name: "SWAPDB of a database with itself changes nothing", steps: [
      "SET k 1", "WATCH k", "SWAPDB 0 0", "MULTI", "PING", "EXEC", "SELECT 1", "WATCH k", "SWAPDB 1 1", "MULTI", "PING", "EXEC",
    ] },
    { name: "RENAME breaks the WATCH of both names", steps: [
      "SET a 1", "WATCH b", "RENAME a b", "MULTI", "PING", "EXEC", "WATCH b", "RENAME b a", "MULTI", "PING", "EXEC",
      "SET b 2", "WATCH a", "RENAMENX b a", "MULTI", "PING", "EXEC",
    ] },
    { name: "MOVE breaks the WATCH in both databases", steps: [
      "SET a 1", "WATCH a", "MOVE a 1", "MULTI", "PING", "EXEC",
      "WATCH a", "SELECT 1", "MOVE a 0", "SELECT 0", "MULTI", "PING", "EXEC",
      "SELECT 1", "WATCH a", "SELECT 0", "MOVE a 1", "SELECT 1", "MULTI", "PING", "EXEC", "SELECT 0",
    ] },
    { name: "COPY to another database breaks the WATCH there", steps: [
      "SET a 1", "SELECT 1", "WATCH a", "SELECT 0", "COPY a a DB 1", "SELECT 1", "MULTI", "PING", "EXEC",
    ] },
    { name: "writes that change nothing keep the WATCH", steps: probes(NO_OP_WRITES) },
    { name: "writes that change the key break the WATCH", steps: probes(REAL_WRITES) },
    { name: "blocking pops on a watched list", steps: [
      "RPUSH k a", "WATCH k", "BLPOP k 1", "MULTI", "PING", "EXEC", "WATCH k", "BLPOP k 0.01", "MULTI", "PING", "EXEC",
    ] },
  ],
  "transactions: RESP3": [
    { name: "a broken WATCH answers null, EXECABORT is an error", steps: [
      "HELLO 3", "WATCH k", "SET k 1", "MULTI", "PING", "EXEC", "MULTI", "FOO", "EXEC", "EXEC", "DISCARD",
    ] },
    { name: "results keep their RESP3 types", steps: [
      "HELLO 3", "MULTI", "GET missing", "SET k v", "HSET h a 1", "HGETALL h", "SADD s x", "SMEMBERS s", "ZADD z 1.5 m", "ZSCORE z m",
      "ZRANGE z 0 -1 WITHSCORES", "TTL k", "EXISTS k", "LPOP nol", "CONFIG GET maxmemory", "LPUSH k x", "EXEC",
    ] },
  ],
  "pub/sub: subscriptions on one connection": [
    { name: "SUBSCRIBE counts channels, once each", steps: [
      frames(2, "SUBSCRIBE", "ch1", "ch2"), frames(1, "SUBSCRIBE", "ch1"), frames(3, "SUBSCRIBE", "ch3", "ch3", "ch4"), "RESET",
    ] },
    { name: "PSUBSCRIBE and SUBSCRIBE share the count; SSUBSCRIBE counts apart", steps: [
      frames(1, "SUBSCRIBE", "a"), frames(2, "PSUBSCRIBE", "p*", "a"), frames(1, "PSUBSCRIBE", "p*"), frames(2, "SSUBSCRIBE", "s1", "s2"),
      frames(1, "SUBSCRIBE", "b"), frames(1, "SSUBSCRIBE", "s1"), "RESET",
    ] },
    { name: "UNSUBSCRIBE / PUNSUBSCRIBE / SUNSUBSCRIBE by name, known or not", steps: [
      frames(1, "SUBSCRIBE", "a"), frames(1, "PSUBSCRIBE", "p*"), frames(1, "SSUBSCRIBE", "s"),
      frames(2, "UNSUBSCRIBE", "nope", "a"), frames(1, "PUNSUBSCRIBE", "q*"), frames(1, "SUNSUBSCRIBE", "nope"),
      frames(1, "PUNSUBSCRIBE", "p*"), frames(1, "SUNSUBSCRIBE", "s"), "PING", "RESET",
    ] },
    { name: "without arguments: everything of that kind, or one null", steps: [
      frames(1, "UNSUBSCRIBE"), frames(1, "PUNSUBSCRIBE"), frames(1, "SUNSUBSCRIBE"),
      frames(1, "SUBSCRIBE", "a"), frames(2, "PSUBSCRIBE", "p1*", "p2*"), frames(1, "SSUBSCRIBE", "s"),
      frames(1, "UNSUBSCRIBE"), frames(2, "PUNSUBSCRIBE"), frames(1, "PUNSUBSCRIBE"), frames(1, "SUNSUBSCRIBE"), frames(1, "SUNSUBSCRIBE"),
      "GET k", "RESET",
    ] },
    { name: "unsubscribing from the last channel leaves the subscribed context", steps: [
      frames(1, "SUBSCRIBE", "a"), "GET k", frames(1, "UNSUBSCRIBE", "a"), "GET k", "SET k v", "GET k",
    ] },
    { name: "odd channel names", steps: [
      frames(1, "SUBSCRIBE", ""), frames(1, "SUBSCRIBE", "with space"), frames(1, "SUBSCRIBE", "crlf\r\nin"),
      frames(1, "PSUBSCRIBE", ""), frames(1, "SSUBSCRIBE", "\x00\xff"), "RESET",
    ] },
    { name: "arity", steps: ["SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "PUBLISH a", "PUBLISH a b c", "SPUBLISH s", "PUBSUB"] },
  ],
  "pub/sub: the subscribed context in RESP2": [
    { name: "PING answers a pong array", steps: [frames(1, "SUBSCRIBE", "a"), "PING", "PING hello", ["PING", ""], "PING a b", "RESET"] },
    { name: "other commands are refused", steps: [
      frames(1, "SUBSCRIBE", "a"), "GET k", "SET k v", "PUBLISH a x", "PUBSUB NUMSUB a", "MULTI", "DISCARD", "WATCH k", "ECHO x",
      "SELECT 1", "HELLO", "CLIENT ID", "NOSUCH", "GET", "RESET", "GET k",
    ] },
    { name: "a shard subscription alone is a subscribed context too", steps: [
      frames(1, "SSUBSCRIBE", "s"), "GET k", "PING", frames(1, "SUNSUBSCRIBE", "s"), "GET k",
    ] },
    { name: "a pattern subscription alone is a subscribed context too", steps: [
      frames(1, "PSUBSCRIBE", "p*"), "DBSIZE", frames(1, "PUNSUBSCRIBE"), "DBSIZE",
    ] },
    { name: "QUIT is allowed and closes", steps: [frames(1, "SUBSCRIBE", "a"), { raw: encode(["QUIT"]).toString("latin1"), read: "close" }] },
    { name: "HELLO 3 is refused while subscribed in RESP2", steps: [frames(1, "SUBSCRIBE", "a"), "HELLO 3", "PING", "RESET"] },
  ],
  "pub/sub: PUBSUB": [
    { name: "nothing subscribed", steps: [
      "PUBSUB CHANNELS", "PUBSUB CHANNELS *", "PUBSUB SHARDCHANNELS", "PUBSUB NUMPAT", "PUBSUB NUMSUB a", "PUBSUB SHARDNUMSUB a",
    ] },
    { name: "a RESET subscriber is forgotten at once", steps: [
      "HELLO 3", frames(2, "SUBSCRIBE", "a", "b"), frames(1, "PSUBSCRIBE", "p*"), frames(1, "SSUBSCRIBE", "s"),
      "PUBSUB CHANNELS", "PUBSUB NUMPAT", "PUBSUB SHARDCHANNELS", "RESET",
      "PUBSUB CHANNELS", "PUBSUB NUMPAT", "PUBSUB SHARDCHANNELS", "PUBSUB NUMSUB a", "PUBSUB SHARDNUMSUB s",
    ] },
    { name: "CHANNELS, NUMSUB, NUMPAT from a RESP3 connection that is subscribed", steps: [
      "HELLO 3", frames(3, "SUBSCRIBE", "news.a", "news.b", "other"), frames(2, "PSUBSCRIBE", "news.*", "x?"),
      "PUBSUB CHANNELS", "PUBSUB CHANNELS news.*", "PUBSUB CHANNELS n[e]ws.?", "PUBSUB CHANNELS nomatch*",
      "PUBSUB NUMSUB", "PUBSUB NUMSUB news.a other nope news.*", "PUBSUB NUMPAT",
      frames(2, "SSUBSCRIBE", "s1", "s2"), "PUBSUB SHARDCHANNELS", "PUBSUB SHARDCHANNELS s1", "PUBSUB SHARDNUMSUB s1 s2 nope",
      "PUBSUB SHARDNUMSUB", "PUBSUB NUMSUB s1", "PUBSUB CHANNELS s*", "RESET",
    ] },
    { name: "NUMSUB and SHARDNUMSUB in RESP2", steps: [
      "PUBSUB NUMSUB", "PUBSUB NUMSUB a b a", "PUBSUB SHARDNUMSUB", "PUBSUB SHARDNUMSUB a", "PUBSUB NUMPAT",
    ] },
    { name: "NUMSUB and SHARDNUMSUB in RESP3", steps: [
      "HELLO 3", "PUBSUB NUMSUB", "PUBSUB NUMSUB a b a", "PUBSUB SHARDNUMSUB", "PUBSUB SHARDNUMSUB a", "PUBSUB NUMPAT",
    ] },
    { name: "HELP and errors", steps: [
      "PUBSUB HELP", "pubsub help", "PUBSUB HELP x", "PUBSUB FOO", "PUBSUB CHANNELS a b", "PUBSUB SHARDCHANNELS a b",
      "PUBSUB NUMPAT x", "PUBSUB NUMSUB", "PUBSUB",
    ] },
    { name: "PUBLISH and SPUBLISH to nobody", steps: ["PUBLISH nobody x", "SPUBLISH nobody x", ["PUBLISH", "", ""]] },
  ],
  "pub/sub: RESP3": [
    { name: "confirmations are push frames and every command is allowed", steps: [
      "HELLO 3", frames(2, "SUBSCRIBE", "a", "b"), frames(1, "PSUBSCRIBE", "p*"), frames(1, "SSUBSCRIBE", "s"),
      "PING", "PING hi", "GET k", "SET k v", "GET k", "HGETALL nope", "CLIENT ID", frames(1, "UNSUBSCRIBE", "a"),
      frames(1, "PUNSUBSCRIBE"), frames(1, "SUNSUBSCRIBE"), frames(1, "UNSUBSCRIBE"), frames(1, "UNSUBSCRIBE"), "RESET",
    ] },
    { name: "a connection receives its own messages, before PUBLISH's reply", steps: [
      "HELLO 3", frames(1, "SUBSCRIBE", "a"), frames(2, "PUBLISH", "a", "hello"), frames(1, "PSUBSCRIBE", "*"),
      frames(3, "PUBLISH", "a", "twice"), frames(2, "PUBLISH", "zzz", "once"), frames(1, "SSUBSCRIBE", "s"),
      frames(2, "SPUBLISH", "s", "shard"), frames(2, "PUBLISH", "s", "not a shard message, but the * pattern matches"),
      "RESET",
    ] },
    { name: "messages with empty, binary and CRLF payloads", steps: [
      "HELLO 3", frames(1, "SUBSCRIBE", "a"), frames(2, "PUBLISH", "a", ""), frames(2, "PUBLISH", "a", "\x00\r\n\xff"), "RESET",
    ] },
    { name: "inside MULTI, SUBSCRIBE and PUBLISH run at EXEC", steps: [
      "HELLO 3", "MULTI", "SUBSCRIBE a", "PUBLISH a x", "PING", frames(1, "EXEC"), "RESET",
    ] },
    { name: "HELLO 2 while subscribed in RESP3", steps: [
      "HELLO 3", frames(1, "SUBSCRIBE", "a"), { c: "HELLO 2", rule: rules.helloId }, "PING", "GET k", frames(1, "UNSUBSCRIBE"), "PING",
    ] },
  ],
};

runDifferentialSuites(SUITES, {
  commandRules: {
    // Redis lists channels in its hash table's order.
    "PUBSUB CHANNELS": rules.sorted,
    "PUBSUB SHARDCHANNELS": rules.sorted,
  },
});
