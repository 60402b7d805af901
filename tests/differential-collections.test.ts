// main.ts, Lists, Hashes, Sets, Sorted sets and Keys: differential tests of the collections (every command of
// Redis 7.0's list, hash, set and sorted-set groups), plus the generic key commands and WRONGTYPE
// errors across types. Same harness, targets and environment variables as tests/differential.test.ts
// (see ./differential-harness.ts); e.g. `DIFF_TARGET=redis bun test tests/differential-collections.test.ts`
// checks that every script is deterministic on real Redis.
//
// Ordering rules used here (Redis 7.0.15):
//   - lists, listpack hashes (insertion order), sorted sets and intsets (ascending) have a fixed order:
//     compared exactly;
//   - hashtable-encoded sets and hashes iterate in an order that depends on a per-process random hash
//     seed: SMEMBERS / SINTER / SUNION / SDIFF / SSCAN are sorted by default (intset results are
//     marked exact), big hashes use the sorted / sortedPairs rules per step;
//   - random picks (SRANDMEMBER, SPOP, HRANDFIELD) are sorted when the whole collection comes back,
//     and otherwise masked with rules.shapeIn (shape and membership only); ZRANDMEMBER with a count
//     >= the size walks the zset from its highest score down, so that is compared exactly;
//   - blocked clients time out on Redis's cron tick (hz 10), so each timeout step costs ~100 ms and
//     there are only a few of them.
import { runDifferentialSuites, rules, type Rule, type Script, type Step, I64_MAX, I64_MIN } from "./differential-harness.ts";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const range = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
/** A step compared exactly (overrides a command's default rule, e.g. SMEMBERS of an intset). */
const ex = (c: string | string[]): Step => ({ c, rule: rules.exact });
/** A step whose reply elements are compared as a multiset. */
const so = (c: string | string[]): Step => ({ c, rule: rules.sorted });
/** A step whose reply is field/value pairs in unspecified order. */
const sp = (c: string | string[]): Step => ({ c, rule: rules.sortedPairs });
/** A step with random picks among `allowed`: only the shape and membership are compared. */
const pick = (c: string | string[], allowed: string[]): Step => ({ c, rule: rules.shapeIn(allowed) });
/** Any rule. */
const rl = (c: string | string[], rule: Rule): Step => ({ c, rule });

const LONG = "x".repeat(65); // one byte past the listpack / intset value limits (64)
const AT_LIMIT = "y".repeat(64);
const BIG_LIST = ["RPUSH", "biglist", ...range(600, (i) => `e${i}`)];
const BIG_HASH = ["HSET", "bighash", ...range(513, (i) => [`f${i}`, `${i}`]).flat()];
const HASH_512 = ["HSET", "h512", ...range(512, (i) => [`f${i}`, `${i}`]).flat()];
const BIG_SET = ["SADD", "bigset", ...range(513, (i) => `${i}`)];
const SET_512 = ["SADD", "s512", ...range(512, (i) => `${i}`)];
const BIG_ZSET = ["ZADD", "bigzset", ...range(129, (i) => [`${i}`, `m${i}`]).flat()];
const ZSET_128 = ["ZADD", "z128", ...range(128, (i) => [`${i}`, `m${i}`]).flat()];

/** Keys of each type, for the cross-type scripts. */
const MAKE_ALL_TYPES: Step[] = ["SET str v", "RPUSH list a b", "HSET hash f v", "SADD set m", "SADD iset 1 2", "ZADD zset 1 m"];

// ---------------------------------------------------------------------------------------------
// Lists
// ---------------------------------------------------------------------------------------------

const LISTS: Record<string, Script[]> = {
  "lists: LPUSH / RPUSH / LPUSHX / RPUSHX": [
    { name: "push order and lengths", steps: [
      "LPUSH l a", "LPUSH l b c", "RPUSH l x y", "LRANGE l 0 -1", "LLEN l", "rpush l z", "LRANGE l 0 -1",
      ["RPUSH", "l", "", "with space", "\x00\xff"], "LRANGE l 0 -1", "RPUSH n 1 2 3 -4 0x10 1.5", "LRANGE n 0 -1",
      "LPUSH l", "RPUSH l", "LPUSH", "RPUSH",
    ] },
    { name: "PUSHX", steps: [
      "LPUSHX l a", "RPUSHX l a", "EXISTS l", "LPUSHX l a b", "RPUSH l m", "LPUSHX l a b", "RPUSHX l y z", "LRANGE l 0 -1",
      "LPUSHX l", "RPUSHX", "SET s v", "LPUSHX s a", "RPUSHX s a", "LPUSH s a", "RPUSH s a", "GET s",
    ] },
  ],
  "lists: LPOP / RPOP": [
    { name: "single and count", steps: [
      "RPUSH l a b c d e f", "LPOP l", "RPOP l", "LPOP l 2", "RPOP l 1", "LRANGE l 0 -1", "LPOP l 0", "RPOP l 0", "LPOP l 100", "EXISTS l",
      "LPOP l", "RPOP l", "LPOP l 2", "RPOP l 2", "LPOP l 0", "RPOP l 0",
      "RPUSH l a b", "RPOP l 5", "EXISTS l", "RPUSH l a b c", "LPOP l 3", "EXISTS l",
    ] },
    { name: "count errors", steps: [
      "RPUSH l a b c", "LPOP l -1", "RPOP l -1", "LPOP l abc", "RPOP l 1.5", ["LPOP", "l", ""], `LPOP l ${I64_MAX}`, `LPOP l ${I64_MIN}`,
      "LPOP missing -1", "LPOP missing abc", "RPOP l 9223372036854775808", "LPOP l 1 2", "LPOP", "RPOP", "LRANGE l 0 -1",
      "SET s v", "LPOP s", "RPOP s 2", "LPOP s -1",
    ] },
  ],
  "lists: LLEN / LRANGE / LINDEX / LSET": [
    { name: "LLEN and LRANGE", steps: [
      "LLEN missing", "RPUSH l a b c d e", "LLEN l", "LRANGE l 0 0", "LRANGE l 1 3", "LRANGE l -2 -1", "LRANGE l -100 100", "LRANGE l 3 1",
      "LRANGE l 5 10", "LRANGE l -1 -5", "LRANGE l 0 -6", "LRANGE l -6 0", `LRANGE l ${I64_MIN} ${I64_MAX}`, `LRANGE l ${I64_MAX} ${I64_MAX}`,
      "LRANGE missing 0 -1", "LRANGE l a 1", "LRANGE l 0 b", "LRANGE l 1.0 2", "LRANGE l 0 9223372036854775808", "LRANGE l 0", "LRANGE l 0 1 2",
      "LLEN", "LLEN a b", "SET s v", "LLEN s", "LRANGE s 0 -1",
    ] },
    { name: "LINDEX and LSET", steps: [
      "RPUSH l a b c", "LINDEX l 0", "LINDEX l -1", "LINDEX l 2", "LINDEX l 3", "LINDEX l -4", `LINDEX l ${I64_MAX}`, `LINDEX l ${I64_MIN}`,
      "LINDEX missing 0", "LINDEX l x", "LINDEX l 1.5", "LINDEX l", "LINDEX l 0 1",
      "LSET l 0 A", "LSET l -1 C", "LSET l 1 B", "LRANGE l 0 -1", "LSET l 3 x", "LSET l -4 x", `LSET l ${I64_MAX} x`, "LSET missing 0 x",
      "LSET l x y", "LSET missing x y", ["LSET", "l", "0", ""], "LINDEX l 0", ["LSET", "l", "1", LONG], "LINDEX l 1", "OBJECT ENCODING l",
      "LSET l 0", "LSET l", "SET s v", "LINDEX s 0", "LSET s 0 x",
    ] },
  ],
  "lists: LINSERT / LREM / LTRIM": [
    { name: "LINSERT", steps: [
      "RPUSH l a b c", "LINSERT l BEFORE b x", "LINSERT l AFTER b y", "LINSERT l before a first", "LINSERT l after c last", "LRANGE l 0 -1",
      "LINSERT l BEFORE nosuch z", "LINSERT missing BEFORE a z", "EXISTS missing", "LINSERT l MIDDLE a z", "LINSERT missing MIDDLE a z",
      "RPUSH d v v v", "LINSERT d AFTER v w", "LRANGE d 0 -1", "LINSERT l BEFORE a", "LINSERT l BEFORE", "LINSERT l BEFORE a b c",
      "SET s v", "LINSERT s BEFORE a b",
    ] },
    { name: "LREM", steps: [
      "RPUSH l a b a c a b a", "LREM l 2 a", "LRANGE l 0 -1", "LREM l -1 a", "LRANGE l 0 -1", "LREM l 0 b", "LRANGE l 0 -1", "LREM l 0 nosuch",
      "LREM l 10 a", "LRANGE l 0 -1", "LREM l 1 c", "EXISTS l", "LREM missing 0 a", "RPUSH n 1 2 1", "LREM n 0 1", "LRANGE n 0 -1",
      "LREM n x 1", "LREM n 1.5 1", `LREM n ${I64_MIN} 2`, "LREM n 0", "LREM", "SET s v", "LREM s 0 v",
    ] },
    { name: "LTRIM", steps: [
      "RPUSH l a b c d e f", "LTRIM l 1 -2", "LRANGE l 0 -1", "LTRIM l -2 -1", "LRANGE l 0 -1", "LTRIM l 0 100", "LRANGE l 0 -1",
      "LTRIM l -100 0", "LRANGE l 0 -1", "LTRIM l 5 10", "EXISTS l", "RPUSH l a b", "LTRIM l 1 0", "EXISTS l", "RPUSH l a b", "LTRIM l -1 -2",
      "EXISTS l", "LTRIM missing 0 1", "RPUSH l a b", "LTRIM l a 1", "LTRIM l 0 1.5", `LTRIM l ${I64_MIN} ${I64_MAX}`, "LRANGE l 0 -1",
      "LTRIM l 0", "LTRIM", "SET s v", "LTRIM s 0 1",
    ] },
  ],
  "lists: LPOS": [
    { name: "RANK COUNT MAXLEN", steps: [
      "RPUSH l a b c 1 2 3 c c", "LPOS l c", "LPOS l nosuch", "LPOS missing c", "LPOS l c RANK 1", "LPOS l c RANK 2", "LPOS l c RANK 4",
      "LPOS l c RANK -1", "LPOS l c RANK -3", "LPOS l c RANK -4", "LPOS l c COUNT 0", "LPOS l c COUNT 2", "LPOS l c COUNT 10",
      "LPOS l nosuch COUNT 0", "LPOS missing c COUNT 1", "LPOS l c RANK 2 COUNT 0", "LPOS l c RANK -1 COUNT 2", "LPOS l c MAXLEN 3",
      "LPOS l c MAXLEN 3 COUNT 0", "LPOS l c MAXLEN 0 COUNT 0", "LPOS l c RANK -1 MAXLEN 1", "LPOS l c RANK -1 MAXLEN 2 COUNT 0",
      "LPOS l c COUNT 1 COUNT 2", "LPOS l c rank 2 count 1 maxlen 100", "LPOS l 1",
    ] },
    { name: "errors", steps: [
      "RPUSH l a b c", "LPOS l c RANK 0", "LPOS l c RANK x", `LPOS l c RANK ${I64_MIN}`, `LPOS l c RANK ${I64_MAX}`, "LPOS l c COUNT -1",
      "LPOS l c COUNT x", "LPOS l c MAXLEN -1", "LPOS l c MAXLEN x", "LPOS l c RANK", "LPOS l c COUNT", "LPOS l c FOO", "LPOS l c FOO 1",
      "LPOS missing c RANK 0", "LPOS l", "LPOS", "SET s v", "LPOS s v", "LPOS s v RANK 0",
    ] },
  ],
  "lists: LMOVE / RPOPLPUSH": [
    { name: "LMOVE directions", steps: [
      "RPUSH src a b c d", "LMOVE src dst LEFT RIGHT", "LMOVE src dst RIGHT LEFT", "LMOVE src dst left left", "LMOVE src dst right right",
      "LRANGE dst 0 -1", "EXISTS src", "LMOVE src dst LEFT LEFT", "LMOVE dst dst LEFT RIGHT", "LRANGE dst 0 -1", "LMOVE dst dst RIGHT LEFT",
      "LRANGE dst 0 -1", "RPUSH one x", "LMOVE one one LEFT RIGHT", "LRANGE one 0 -1", "LMOVE dst src UP DOWN", "LMOVE dst src LEFT",
      "LMOVE dst src", "SET s v", "LMOVE dst s LEFT LEFT", "LRANGE dst 0 -1", "LMOVE s dst LEFT LEFT", "LMOVE missing s LEFT LEFT",
    ] },
    { name: "RPOPLPUSH", steps: [
      "RPUSH src a b c", "RPOPLPUSH src dst", "RPOPLPUSH src dst", "LRANGE dst 0 -1", "RPOPLPUSH src src", "LRANGE src 0 -1",
      "RPOPLPUSH src dst", "EXISTS src", "RPOPLPUSH src dst", "RPOPLPUSH missing missing", "SET s v", "RPOPLPUSH dst s", "RPOPLPUSH s dst",
      "LRANGE dst 0 -1", "RPOPLPUSH src", "RPOPLPUSH a b c",
    ] },
  ],
  "lists: LMPOP": [
    { name: "pops", steps: [
      "RPUSH a 1 2 3", "RPUSH b x y", "LMPOP 1 a LEFT", "LMPOP 1 a RIGHT", "LMPOP 2 missing b LEFT", "LMPOP 2 missing b RIGHT COUNT 10",
      "EXISTS b", "LMPOP 2 missing b LEFT", "LMPOP 1 missing right count 3", "LMPOP 2 a b left COUNT 1", "LRANGE a 0 -1", "LMPOP 3 x a a RIGHT",
    ] },
    { name: "errors", steps: [
      "RPUSH a 1 2 3", "LMPOP 0 a LEFT", "LMPOP -1 a LEFT", "LMPOP x a LEFT", "LMPOP 2 a LEFT", "LMPOP 3 a b", `LMPOP ${I64_MAX} a LEFT`,
      "LMPOP 1 a MIDDLE", "LMPOP 1 a LEFT COUNT 0", "LMPOP 1 a LEFT COUNT -1", "LMPOP 1 a LEFT COUNT x", "LMPOP 1 a LEFT COUNT",
      "LMPOP 1 a LEFT COUNT 1 COUNT 2", "LMPOP 1 a LEFT FOO", "LMPOP 1 a", "LMPOP 1", "LMPOP", "SET s v", "LMPOP 2 s a LEFT",
      "LMPOP 2 missing s LEFT", "LRANGE a 0 -1",
    ] },
  ],
  "lists: blocking commands": [
    { name: "data present (no blocking)", steps: [
      "RPUSH a 1 2 3", "RPUSH b x y z", "BLPOP missing a b 0", "BRPOP missing b 1", "BLPOP a 0.5", "BLMOVE a b LEFT RIGHT 0",
      "BLMOVE b b RIGHT LEFT 1.5", "BRPOPLPUSH b a 0", "LRANGE a 0 -1", "LRANGE b 0 -1", "BLMPOP 0 2 missing b LEFT", "BLMPOP 1 1 b RIGHT COUNT 5",
      "EXISTS b", "BLMPOP 0.1 2 missing a left count 1", "RPUSH a 1 2 3 4", "blpop a 0", "BRPOP a a 0", "BLMPOP 0 1 a RIGHT COUNT 1",
      "BLPOP a 0x10", "EXISTS a", "RPUSH c v", "BLMOVE c c LEFT RIGHT 0", "BRPOPLPUSH c c 0", "LRANGE c 0 -1",
    ] },
    { name: "timeouts on empty keys", steps: [
      // The destination's type is only checked when there is something to move: these time out instead of WRONGTYPE.
      "SET s v", "BLPOP missing 0.01", "BRPOP m1 m2 0.01", "BLMOVE missing s LEFT LEFT 0.01", "BRPOPLPUSH missing s 0.01",
      "BLMPOP 0.01 2 m1 m2 LEFT", "EXISTS missing m1 m2", "GET s",
    ] },
    { name: "timeout and argument errors", steps: [
      "RPUSH a 1", "BLPOP a -1", "BLPOP a abc", ["BLPOP", "a", ""], "BLPOP a 1e20", "BLPOP a inf", "BLPOP a -inf", "BLPOP a nan",
      `BLPOP a ${I64_MAX}`, "BLPOP a 1.5.", "BRPOP a -0.5", "BRPOP a 1s", ["BLPOP", "a", " 1"], "BLPOP a -0", "BLMOVE a b LEFT LEFT -1",
      "BLMOVE a b LEFT LEFT x", "BLMOVE a b UP LEFT 0", "BLMOVE a b LEFT LEFT 1 2", "BRPOPLPUSH a b -1", "BRPOPLPUSH a b x", "BLMPOP -1 1 a LEFT",
      "BLMPOP x 1 a LEFT", "BLMPOP 0 0 a LEFT", "BLMPOP 0 -1 a LEFT", "BLMPOP 0 1 a LEFT COUNT 0", "BLMPOP 0 1 a LEFT COUNT -1", "BLMPOP 0 1 a NONE",
      "BLMPOP 0 5 a LEFT", "BLMPOP 0 1 a LEFT COUNT", "BLPOP a", "BLPOP", "BRPOP a", "BLMOVE a b LEFT LEFT", "BRPOPLPUSH a b", "BLMPOP 0 1 a",
      "LRANGE a 0 -1", "SET s v", "BLPOP s 0", "BRPOP missing s 0", "BLPOP s missing 0", "BLMOVE s a LEFT LEFT 0", "RPUSH a 1", "BLMOVE a s LEFT LEFT 0",
      "BRPOPLPUSH a s 0", "LRANGE a 0 -1", "BLMPOP 0 1 s LEFT", "BLMPOP 0 2 missing s LEFT",
    ] },
    { name: "RESP3 timeouts and replies", steps: [
      "HELLO 3", "BLPOP missing 0.01", "BLMOVE missing dst LEFT LEFT 0.01", "RPUSH a 1 2 3", "BLPOP a 0", "BLMOVE a b LEFT LEFT 0",
      "BLMPOP 0 1 a LEFT COUNT 5", "HELLO 2",
    ] },
  ],
  "lists: RESP3 and encodings": [
    { name: "RESP3 replies", steps: [
      "HELLO 3", "LPOP missing", "LPOP missing 2", "RPOP missing 0", "LINDEX missing 0", "LPOS missing a", "LPOS missing a COUNT 0",
      "RPUSH l a b c", "LPOP l 0", "LPOP l", "RPOP l 1", "LRANGE l 0 -1", "LRANGE l 5 6", "LINDEX l 9", "LPOS l b", "LPOS l x", "LPOS l b COUNT 0",
      "LMPOP 1 l LEFT", "LMPOP 1 l LEFT", "LMOVE missing l LEFT LEFT", "RPOPLPUSH missing l", "LLEN l", "LINSERT missing BEFORE a b",
      "HELLO 2",
    ] },
    { name: "TYPE and OBJECT ENCODING", steps: [
      "RPUSH l a", "TYPE l", "OBJECT ENCODING l", BIG_LIST, "LLEN biglist", "OBJECT ENCODING biglist", "LINDEX biglist 300",
      "LRANGE biglist 297 302", "LRANGE biglist -3 -1", "LPOS biglist e599", "LPOS biglist e5 RANK -1 MAXLEN 200", "LTRIM biglist 1 -2",
      "LLEN biglist", ["RPUSH", "long", LONG], "OBJECT ENCODING long", "OBJECT ENCODING missing",
    ] },
  ],
};

// ---------------------------------------------------------------------------------------------
// Hashes
// ---------------------------------------------------------------------------------------------

const HASHES: Record<string, Script[]> = {
  // Fields and values of up to 255 bytes live in the hash's byte arena (main.ts, Arena).
  "hashes: fields and values in the arena": [
    { name: "at and past 255 bytes", steps: [
      ["HSET", "h", "f".repeat(255), "v".repeat(255)], ["HGET", "h", "f".repeat(255)], ["HSTRLEN", "h", "f".repeat(255)],
      ["HSET", "h", "f".repeat(255), "w".repeat(256)], ["HGET", "h", "f".repeat(255)], ["HSET", "h", "f".repeat(255), "short"],
      ["HGET", "h", "f".repeat(255)], ["HSET", "h", "F".repeat(256), "v"], ["HGET", "h", "F".repeat(256)], ["HLEN", "h"],
      ["HDEL", "h", "F".repeat(256)], ["HSET", "h", "", ""], ["HGET", "h", ""], ["HEXISTS", "h", ""], ["HSTRLEN", "h", ""],
      sp(["HGETALL", "h"]), "HSET h n 10", "HINCRBY h n 5", "HGET h n", "HINCRBYFLOAT h n 0.5", "HGET h n", "HSETNX h n 1", "HGET h n",
    ] },
    { name: "300 fields set, deleted and set again at other sizes", steps: [
      ["HSET", "big", ...range(300, (i) => [`field:${i}:${"y".repeat(i % 50)}`, "z".repeat((i * 7) % 100)]).flat()],
      ["HDEL", "big", ...range(150, (i) => `field:${2 * i}:${"y".repeat((2 * i) % 50)}`)], "HLEN big",
      ["HSET", "big", ...range(300, (i) => [`field:${i}:${"y".repeat(i % 50)}`, "q".repeat((i * 13) % 120)]).flat()],
      ["HMGET", "big", ...range(300, (i) => `field:${i}:${"y".repeat(i % 50)}`)], sp("HGETALL big"), "HLEN big",
    ] },
  ],
  "hashes: HSET / HSETNX / HMSET / HGET / HMGET": [
    { name: "set and get", steps: [
      "HSET h a 1", "HSET h a 2 b 3", "HSET h a 2 c 4 c 5", "HGET h a", "HGET h c", "HGET h nosuch", "HGET missing a", "HMGET h a b nosuch c",
      "HMGET missing a b", "HMSET h d 6 e 7", "HMGET h d e", "hset h a 10", "HGET h a", "HSETNX h a 99", "HSETNX h z 26", "HGET h a", "HGET h z",
      "HSETNX new f v", "HGETALL new", ["HSET", "h", "", ""], ["HGET", "h", ""], ["HSET", "h", "bin\x00\r\n", "\xff\x00"], ["HGET", "h", "bin\x00\r\n"],
      "HLEN h", "HGETALL h",
    ] },
    { name: "arity and wrong type", steps: [
      "HSET h", "HSET h a", "HSET h a 1 b", "HMSET h a", "HMSET h a 1 b", "HSETNX h a", "HSETNX h a 1 2", "HGET h", "HGET h a b", "HMGET h",
      "HMGET", "EXISTS h", "SET s v", "HSET s a 1", "HSETNX s a 1", "HMSET s a 1", "HGET s a", "HMGET s a", "GET s",
    ] },
  ],
  "hashes: HDEL / HEXISTS / HLEN / HSTRLEN": [
    { name: "delete and inspect", steps: [
      "HSET h a 1 b 22 c 333", "HEXISTS h a", "HEXISTS h nosuch", "HEXISTS missing a", "HSTRLEN h c", "HSTRLEN h nosuch", "HSTRLEN missing a",
      "HSET h n -12345", "HSTRLEN h n", "HLEN h", "HLEN missing", "HDEL h a", "HDEL h a", "HDEL h b c nosuch b", "HLEN h", "HDEL h n", "EXISTS h",
      "HDEL missing a", "HDEL h", "HDEL", "HEXISTS h", "HLEN", "HLEN a b", "HSTRLEN h", "SET s v", "HDEL s a", "HEXISTS s a", "HLEN s", "HSTRLEN s a",
    ] },
  ],
  "hashes: HKEYS / HVALS / HGETALL": [
    { name: "small hashes keep insertion order", steps: [
      "HSET h z 1 a 2 m 3", "HKEYS h", "HVALS h", "HGETALL h", "HSET h a 20", "HGETALL h", "HDEL h z", "HSET h z 10", "HGETALL h",
      "HKEYS missing", "HVALS missing", "HGETALL missing", "HKEYS h x", "HVALS", "HGETALL", "SET s v", "HKEYS s", "HVALS s", "HGETALL s",
    ] },
    { name: "hashtable hashes (sorted)", steps: [
      BIG_HASH, "HLEN bighash", so("HKEYS bighash"), so("HVALS bighash"), sp("HGETALL bighash"), "HGET bighash f512", "HMGET bighash f0 f511 nope",
      ["HSET", "lh", "a", "1", "b", LONG, "c", "3"], so("HKEYS lh"), sp("HGETALL lh"), "HSTRLEN lh b",
    ] },
  ],
  "hashes: HINCRBY / HINCRBYFLOAT": [
    { name: "HINCRBY", steps: [
      "HINCRBY h a 1", "HINCRBY h a 10", "HINCRBY h a -20", "HGET h a", "HINCRBY h b 0", "HGET h b", `HSET h max ${I64_MAX}`, "HINCRBY h max 1",
      "HINCRBY h max 0", `HSET h min ${I64_MIN}`, "HINCRBY h min -1", `HINCRBY h a ${I64_MAX}`, "HINCRBY h a 9223372036854775808", "HINCRBY h a x",
      "HINCRBY h a 1.5", ["HINCRBY", "h", "a", ""], "HSET h s abc", "HINCRBY h s 1", "HSET h f 1.5", "HINCRBY h f 1",
      ["HSET", "h", "sp", " 1"], "HINCRBY h sp 1", "HSET h z 01", "HINCRBY h z 1", ["HSET", "h", "e", ""], "HINCRBY h e 1", "HSET h m -0",
      "HINCRBY h m 1",
      "HINCRBY h a", "HINCRBY h", "HINCRBY h a 1 2", "SET str v", "HINCRBY str a 1", "HGETALL h",
    ] },
    { name: "HINCRBYFLOAT", steps: [
      "HINCRBYFLOAT h a 0.1", "HINCRBYFLOAT h a 0.2", "HINCRBYFLOAT h a -0.3", "HGET h a", "HINCRBYFLOAT h b 10.5", "HINCRBYFLOAT h b 1e3",
      "HINCRBYFLOAT h c 3.0", "HINCRBYFLOAT h d 1e-20", "HINCRBYFLOAT h e 123456789012345678", "HINCRBYFLOAT h f 1.23456789012345678901234",
      "HINCRBYFLOAT h g 5.0e3", "HSET h i 7", "HINCRBYFLOAT h i 0.5", "HINCRBYFLOAT h i -7.5", "HINCRBYFLOAT h k inf", "HINCRBYFLOAT h k nan", "HINCRBYFLOAT h k abc", "HINCRBYFLOAT h k 1.5x", ["HINCRBYFLOAT", "h", "k", ""],
      "HEXISTS h k", "HSET h s abc", "HINCRBYFLOAT h s 1", "HSET h u inf", "HINCRBYFLOAT h u 1", "HINCRBYFLOAT h k", "HINCRBYFLOAT h",
      "SET str v", "HINCRBYFLOAT str a 1", "OBJECT ENCODING h", "HGETALL h",
      // Sums past double range are fine in long double: 2e308 is written out in 309 digits, longer than 64 bytes, so the
      // hash converts to a hashtable; a 1e400 value parses too.
      "HINCRBYFLOAT big j 1e308", "OBJECT ENCODING big", "HINCRBYFLOAT big j 1e308", "OBJECT ENCODING big", "HGET big j",
      "HSET big2 t 1e400", "HINCRBYFLOAT big2 t 1", "HINCRBYFLOAT big2 t -1e400", "HSET big2 n -1e400", "HINCRBYFLOAT big2 n 0",
    ] },
  ],
  "hashes: HRANDFIELD": [
    { name: "counts", steps: [
      "HRANDFIELD missing", "HRANDFIELD missing 5", "HRANDFIELD missing -5 WITHVALUES", "HSET one f v", "HRANDFIELD one", "HRANDFIELD one 1",
      "HRANDFIELD one 5", "HRANDFIELD one -3", "HRANDFIELD one -3 WITHVALUES", "HRANDFIELD one 2 WITHVALUES", "HRANDFIELD one 0",
      "HRANDFIELD one 0 WITHVALUES", "HSET h a 1 b 2 c 3", so("HRANDFIELD h 3"), so("HRANDFIELD h 10"), sp("HRANDFIELD h 3 WITHVALUES"),
      sp("HRANDFIELD h 100 WITHVALUES"), pick("HRANDFIELD h", ["a", "b", "c"]), pick("HRANDFIELD h 2", ["a", "b", "c"]),
      pick("HRANDFIELD h -6", ["a", "b", "c"]), pick("HRANDFIELD h -4 WITHVALUES", ["a", "b", "c", "1", "2", "3"]),
      pick("HRANDFIELD h 2 WITHVALUES", ["a", "b", "c", "1", "2", "3"]), BIG_HASH, pick("HRANDFIELD bighash -3", range(513, (i) => `f${i}`)),
      pick("HRANDFIELD bighash 3", range(513, (i) => `f${i}`)), so("HRANDFIELD bighash 600"),
    ] },
    { name: "errors", steps: [
      "HSET h a 1", "HRANDFIELD h x", "HRANDFIELD h 1.5", "HRANDFIELD h 1 FOO", "HRANDFIELD h 1 WITHVALUES x", "HRANDFIELD h WITHVALUES",
      `HRANDFIELD h ${I64_MIN}`, `HRANDFIELD h ${I64_MIN} WITHVALUES`,
      // Just past ±LONG_MAX/2, which a double rounds onto the limit itself.
      "HRANDFIELD h -4611686018427387904 WITHVALUES", "HRANDFIELD h 4611686018427387904 WITHVALUES", "HRANDFIELD h 4611686018427387903 WITHVALUES",
      "HRANDFIELD missing x", "HRANDFIELD", "SET s v", "HRANDFIELD s", "HRANDFIELD s 1",
    ] },
  ],
  "hashes: HSCAN": [
    { name: "small hashes in one call", steps: [
      "HSET h a 1 b 2 c 3 ab 4", "HSCAN h 0", "HSCAN h 0 MATCH a*", "HSCAN h 0 COUNT 1", "HSCAN h 0 match *b count 100", "HSCAN missing 0",
      "HSCAN h 0 MATCH nomatch", "HSCAN h x", "HSCAN h -1", "HSCAN h 0 COUNT 0", "HSCAN h 0 COUNT x", "HSCAN h 0 COUNT", "HSCAN h 0 FOO bar",
      "HSCAN h 0 TYPE string", "HSCAN h", "HSCAN", "SET s v", "HSCAN s 0",
    ] },
    { name: "hashtable with a large COUNT", steps: [
      BIG_HASH, rl("HSCAN bighash 0 COUNT 10000", rules.sortedPairsSecond), rl("HSCAN bighash 0 MATCH f51? COUNT 10000", rules.sortedPairsSecond),
    ] },
  ],
  "hashes: RESP3 and encodings": [
    { name: "RESP3 replies", steps: [
      "HELLO 3", "HGETALL missing", "HGET missing a", "HMGET missing a b", "HSET h a 1 b 2", "HGETALL h", "HKEYS h", "HVALS h", "HGET h a",
      "HGET h nosuch", "HMGET h a nosuch", "HEXISTS h a", "HINCRBYFLOAT h a 1.5", "HINCRBY h b 1", "HRANDFIELD missing", "HRANDFIELD missing 2",
      "HRANDFIELD h 2 WITHVALUES", "HSET one f v", "HRANDFIELD one -2 WITHVALUES", "HRANDFIELD one 1 WITHVALUES", "HSCAN h 0", BIG_HASH,
      sp("HGETALL bighash"), "HELLO 2",
    ] },
    { name: "TYPE and OBJECT ENCODING", steps: [
      "HSET h f v", "TYPE h", "OBJECT ENCODING h", HASH_512, "OBJECT ENCODING h512", "HSET h512 f512 x", "OBJECT ENCODING h512",
      "HDEL h512 f512 f511", "OBJECT ENCODING h512", ["HSET", "v64", "f", AT_LIMIT], "OBJECT ENCODING v64", ["HSET", "v65", "f", LONG],
      "OBJECT ENCODING v65", ["HSET", "k65", LONG, "v"], "OBJECT ENCODING k65", "HSET nx f v", ["HSETNX", "nx", "g", LONG], "OBJECT ENCODING nx",
      "HSET fl f 1", "HINCRBYFLOAT fl f 1e300", "OBJECT ENCODING fl", "HGET fl f",
    ] },
  ],
};

// ---------------------------------------------------------------------------------------------
// Sets
// ---------------------------------------------------------------------------------------------

const SETS: Record<string, Script[]> = {
  "sets: members in the arena": [
    { name: "at and past 255 bytes", steps: [
      ["SADD", "s", "m".repeat(255), "M".repeat(256), ""], ["SISMEMBER", "s", "m".repeat(255)], ["SISMEMBER", "s", "M".repeat(256)],
      ["SISMEMBER", "s", "m".repeat(254)], ["SISMEMBER", "s", ""], "SCARD s", so("SMEMBERS s"), ["SREM", "s", "M".repeat(256), "m".repeat(255)],
      so("SMEMBERS s"), ["SADD", "s", "M".repeat(256)], ["SMOVE", "s", "t", "M".repeat(256)], so("SMEMBERS t"), "SCARD s",
    ] },
    { name: "300 members added, removed and added again", steps: [
      ["SADD", "big", ...range(300, (i) => `member:${i}:${"y".repeat(i % 60)}`)],
      ["SREM", "big", ...range(150, (i) => `member:${2 * i}:${"y".repeat((2 * i) % 60)}`)], "SCARD big",
      ["SMISMEMBER", "big", ...range(300, (i) => `member:${i}:${"y".repeat(i % 60)}`)],
      ["SADD", "big", ...range(300, (i) => `member:${i}:${"y".repeat(i % 60)}`)], "SCARD big", so("SMEMBERS big"),
      ["SADD", "other", ...range(200, (i) => `member:${i * 2}:${"y".repeat((i * 2) % 60)}`)], so("SINTER big other"), so("SDIFF big other"),
      "SINTERSTORE both big other", "SCARD both", "OBJECT ENCODING big",
    ] },
  ],
  "sets: SADD / SREM / SMEMBERS / SISMEMBER / SMISMEMBER / SCARD": [
    { name: "basics", steps: [
      "SADD s a b c", "SADD s a d", "SADD s e e e", "SCARD s", "SMEMBERS s", "SISMEMBER s a", "SISMEMBER s z", "SISMEMBER missing a",
      "SMISMEMBER s a z b", "SMISMEMBER missing a b", "SREM s a z", "SREM s b c d e", "SMEMBERS s", "EXISTS s", "SREM s a", "SREM missing a",
      "SCARD missing", "SMEMBERS missing", ["SADD", "b", "", "\x00\r\n"], ["SISMEMBER", "b", ""], "SMEMBERS b",
    ] },
    { name: "intsets are sorted", steps: [
      "SADD i 5 3 -1 100 0", ex("SMEMBERS i"), "SADD i 9223372036854775807 -9223372036854775808", ex("SMEMBERS i"), "SISMEMBER i 05",
      "SISMEMBER i 5", "SREM i 3", ex("SMEMBERS i"), "OBJECT ENCODING i", "SADD i a", "OBJECT ENCODING i", "SMEMBERS i", "SREM i a",
      "OBJECT ENCODING i", "SADD j 1 01", "OBJECT ENCODING j", "SMEMBERS j", "SADD k -0", "OBJECT ENCODING k", "SADD l 9223372036854775808",
      "OBJECT ENCODING l", "SADD m 1.0", "OBJECT ENCODING m", ["SADD", "o", "1 "], "OBJECT ENCODING o", "SADD p +1", "OBJECT ENCODING p",
    ] },
    { name: "arity and wrong type", steps: [
      "SADD s", "SADD", "SREM s", "SMEMBERS", "SMEMBERS a b", "SISMEMBER s", "SISMEMBER s a b", "SMISMEMBER s", "SCARD", "SCARD a b",
      "SET str v", "SADD str a", "SREM str a", "SMEMBERS str", "SISMEMBER str a", "SMISMEMBER str a", "SCARD str",
    ] },
  ],
  "sets: SPOP / SRANDMEMBER": [
    { name: "SPOP", steps: [
      "SPOP missing", "SPOP missing 2", "SPOP missing 0", "SADD one x", "SPOP one", "EXISTS one", "SADD s a b c", pick("SPOP s", ["a", "b", "c"]),
      "SCARD s", "SPOP s 0", pick("SPOP s 2", ["a", "b", "c"]), "EXISTS s", "SADD s a b c d e", pick("SPOP s 2", ["a", "b", "c", "d", "e"]),
      "SCARD s", pick("SPOP s 5", ["a", "b", "c", "d", "e"]), "EXISTS s", "SADD i 3 1 2", ex("SPOP i 3"), "SADD i 3 1 2", ex("SPOP i 10"), "SADD i 3 1 2", pick("SPOP i 1", ["1", "2", "3"]),
      "SCARD i", BIG_SET, pick("SPOP bigset 3", range(513, (i) => `${i}`)), "SCARD bigset", pick("SPOP bigset 1000", range(513, (i) => `${i}`)), "EXISTS bigset",
    ] },
    { name: "SPOP errors", steps: [
      "SADD s a", "SPOP s -1", "SPOP s x", "SPOP s 1.5", `SPOP s ${I64_MAX}`, "SPOP s 1 2", "SPOP", "SMEMBERS s", "SET str v", "SPOP str", "SPOP str 1",
    ] },
    { name: "SRANDMEMBER", steps: [
      "SRANDMEMBER missing", "SRANDMEMBER missing 3", "SRANDMEMBER missing -3", "SRANDMEMBER missing 0", "SADD one x", "SRANDMEMBER one",
      "SRANDMEMBER one 3", "SRANDMEMBER one -3", "SADD s a b c", so("SRANDMEMBER s 3"), so("SRANDMEMBER s 10"), "SRANDMEMBER s 0",
      pick("SRANDMEMBER s", ["a", "b", "c"]), pick("SRANDMEMBER s 2", ["a", "b", "c"]), pick("SRANDMEMBER s -7", ["a", "b", "c"]), "SCARD s",
      "SADD i 3 1 2", ex("SRANDMEMBER i 3"), ex("SRANDMEMBER i 5"), pick("SRANDMEMBER i -5", ["1", "2", "3"]), BIG_SET,
      pick("SRANDMEMBER bigset -4", range(513, (i) => `${i}`)), pick("SRANDMEMBER bigset 4", range(513, (i) => `${i}`)), so("SRANDMEMBER bigset 513"),
      "SRANDMEMBER s x", "SRANDMEMBER s 1.5", `SRANDMEMBER s ${I64_MIN}`, "SRANDMEMBER s 1 2", "SRANDMEMBER",
      "SET str v", "SRANDMEMBER str", "SRANDMEMBER str 1",
    ] },
  ],
  "sets: SMOVE": [
    { name: "SMOVE", steps: [
      "SADD src a b", "SADD dst c", "SMOVE src dst a", "SMOVE src dst a", "SMOVE src dst nosuch", "SMEMBERS dst", "SMOVE src dst b", "EXISTS src",
      "SMOVE missing dst a", "SMOVE dst dst c", "SMEMBERS dst", "SMOVE dst dst nosuch", "SMOVE dst new c", "SMEMBERS new", "SADD i 1 2",
      "SMOVE dst i x", "OBJECT ENCODING i", "SET str v", "SMOVE new str c", "SMOVE str new c", "SMOVE missing str c", "SMOVE new missing2 nosuch",
      "SMEMBERS new", "SMOVE a b", "SMOVE a b c d",
    ] },
  ],
  "sets: SINTER / SUNION / SDIFF": [
    { name: "reads", steps: [
      "SADD a 1 2 3 4", "SADD b 3 4 5", "SADD c 4 x", ex("SINTER a b"), "SINTER a b c", "SINTER a missing", ex("SINTER a"), "SINTER missing",
      ex("SUNION a b"), "SUNION a b c", ex("SUNION a missing"), "SUNION missing m2", ex("SDIFF a b"), "SDIFF a b c", "SDIFF b a c", ex("SDIFF a missing"),
      "SDIFF missing a", ex("SDIFF a a"), "SADD s1 a b c", "SADD s2 c d", "SINTER s1 s2", "SUNION s1 s2", "SDIFF s1 s2", "SDIFF s1 s2 a",
      "SINTER", "SUNION", "SDIFF", "SET str v", "SINTER a str", "SINTER missing str", "SINTER str missing", "SUNION a str", "SDIFF a str",
      "SDIFF missing str", "SDIFF str a",
    ] },
    { name: "stores", steps: [
      "SADD a 1 2 3 4", "SADD b 3 4 5", "SADD c 4 x", "SINTERSTORE d a b", ex("SMEMBERS d"), "OBJECT ENCODING d", "SINTERSTORE d a b c",
      "SMEMBERS d", "OBJECT ENCODING d", "SINTERSTORE d a missing", "EXISTS d", "SUNIONSTORE d a b", ex("SMEMBERS d"), "OBJECT ENCODING d",
      "SUNIONSTORE d a c", "SMEMBERS d", "OBJECT ENCODING d", "SDIFFSTORE d a b", ex("SMEMBERS d"), "SDIFFSTORE d a a", "EXISTS d",
      "SET d str", "SUNIONSTORE d a", "TYPE d", "SET d str", "SINTERSTORE d missing", "EXISTS d", "SET d str", "SDIFFSTORE d a b c", "TYPE d",
      "SUNIONSTORE a a b", ex("SMEMBERS a"), "SINTERSTORE x x", "SINTERSTORE d", "SUNIONSTORE", "SDIFFSTORE d", "SET str v",
      "SINTERSTORE d a str", "SUNIONSTORE d str", "SDIFFSTORE d str a", "SDIFFSTORE d missing str", "SINTERSTORE d missing str", "SMEMBERS d",
      "SUNIONSTORE str a", "TYPE str",
    ] },
    { name: "SINTERCARD", steps: [
      "SADD a 1 2 3 4", "SADD b 2 3 4 5", "SADD c x y", "SINTERCARD 2 a b", "SINTERCARD 1 a", "SINTERCARD 2 a c", "SINTERCARD 2 a missing",
      "SINTERCARD 2 a b LIMIT 0", "SINTERCARD 2 a b LIMIT 1", "SINTERCARD 2 a b LIMIT 2", "SINTERCARD 2 a b limit 100", "SINTERCARD 0 a",
      "SINTERCARD -1 a", "SINTERCARD x a", "SINTERCARD 3 a b", `SINTERCARD ${I64_MAX} a`, "SINTERCARD 2 a b LIMIT -1", "SINTERCARD 2 a b LIMIT x",
      "SINTERCARD 2 a b LIMIT", "SINTERCARD 2 a b FOO 1", "SINTERCARD 1 a b", "SINTERCARD 1", "SINTERCARD", "SET str v", "SINTERCARD 2 a str",
      "SINTERCARD 2 missing str",
    ] },
  ],
  "sets: SSCAN": [
    { name: "SSCAN", steps: [
      "SADD i 3 1 2", ex("SSCAN i 0"), ex("SSCAN i 0 MATCH 1*"), ex("SSCAN i 0 COUNT 1"), "SADD s a b c ab", "SSCAN s 0", "SSCAN s 0 MATCH a*",
      "SSCAN s 0 MATCH nomatch", "SSCAN missing 0", "SSCAN s x", "SSCAN s 0 COUNT 0", "SSCAN s 0 COUNT -1", "SSCAN s 0 COUNT x", "SSCAN s 0 FOO",
      "SSCAN s 0 MATCH", "SSCAN s", "SSCAN", BIG_SET, "SSCAN bigset 0 COUNT 10000", "SSCAN bigset 0 MATCH 50? COUNT 10000", "SET str v", "SSCAN str 0",
    ] },
  ],
  "sets: RESP3 and encodings": [
    { name: "RESP3 replies", steps: [
      "HELLO 3", "SMEMBERS missing", "SADD i 2 1", ex("SMEMBERS i"), "SADD s a b", "SMEMBERS s", "SISMEMBER s a", "SMISMEMBER s a z",
      "SPOP missing", "SPOP missing 2", "SRANDMEMBER missing", "SRANDMEMBER missing 2", ex("SRANDMEMBER i 5"), "SRANDMEMBER i 0",
      "SINTER i s", ex("SUNION i"), "SDIFF s missing", "SINTERCARD 2 i s", ex("SSCAN i 0"), ex("SPOP i 5"), "SCARD i", "HELLO 2",
    ] },
    { name: "TYPE and OBJECT ENCODING", steps: [
      "SADD i 1", "TYPE i", "OBJECT ENCODING i", SET_512, "OBJECT ENCODING s512", "SADD s512 512", "OBJECT ENCODING s512", "SREM s512 512 511",
      "OBJECT ENCODING s512", BIG_SET, "OBJECT ENCODING bigset", "SADD str a", "TYPE str", "OBJECT ENCODING str", ["SADD", "long", LONG],
      "OBJECT ENCODING long", "SINTERSTORE i2 s512 s512", "OBJECT ENCODING i2", "SCARD i2",
    ] },
  ],
};

// ---------------------------------------------------------------------------------------------
// Sorted sets
// ---------------------------------------------------------------------------------------------

const ZSETS: Record<string, Script[]> = {
  "zsets: ZADD": [
    { name: "basics and flags", steps: [
      "ZADD z 1 a 2 b 3 c", "ZADD z 1 a", "ZADD z 10 a", "ZRANGE z 0 -1 WITHSCORES", "ZADD z NX 100 a 4 d", "ZADD z XX 100 a 5 e",
      "ZRANGE z 0 -1 WITHSCORES", "ZADD z CH 100 a 200 b 6 f", "ZADD z XX CH 7 f 8 g", "ZADD z GT 50 a 300 b", "ZADD z GT CH 50 a 300 b 9 h",
      "ZADD z LT CH 500 a 1 b 10 i", "ZRANGE z 0 -1 WITHSCORES", "ZADD z INCR 5 a", "ZADD z INCR -5.5 new", "ZADD z NX INCR 1 a",
      "ZADD z XX INCR 1 nosuch", "ZADD z GT INCR -1 a", "ZADD z LT INCR -1 a", "ZADD z GT INCR 1 a", "ZADD z xx gt ch 1000 a", "ZADD z xx lt 1 a",
      "ZSCORE z a", "ZADD z gt lt 1 a", "ZADD z nx xx 1 a", "ZADD z nx gt 1 a", "ZADD z nx lt 1 a", "ZADD z INCR 1 a 2 b", "ZADD z INCR",
      "ZADD z 1", "ZADD z 1 a 2", "ZADD z", "ZADD z NX", "ZADD z CH CH 1 a", "ZADD z FOO 1 a", "ZADD z 1 a FOO", "ZCARD z",
      "ZADD missing XX 1 a", "EXISTS missing", "ZADD missing XX INCR 1 a", "EXISTS missing",
    ] },
    { name: "scores", steps: [
      "ZADD z 1.1 a", "ZSCORE z a", "ZADD z 0.1 b", "ZSCORE z b", "ZADD z 3.0 c", "ZSCORE z c", "ZADD z 1e20 d", "ZSCORE z d",
      "ZADD z 123456789012345678 e", "ZSCORE z e", "ZADD z -0 f", "ZSCORE z f", "ZADD z 1e-300 g", "ZSCORE z g", "ZADD z 1.7976931348623157e308 h",
      "ZSCORE z h", "ZADD z inf i -inf j +inf k", "ZSCORE z i", "ZSCORE z j", "ZSCORE z k", "ZADD z INF l", "ZADD z -Infinity m", "ZSCORE z m",
      "ZADD z 5e-324 n", "ZSCORE z n", "ZADD z 0x10 o", "ZADD z .5 p", "ZSCORE z p", "ZADD z 5. q", "ZSCORE z q", "ZADD z 1e309 r",
      "ZADD z -1e309 r", "ZSCORE z r", "ZADD z 2.5e-5 s", "ZSCORE z s", "ZADD z 100000000000000000000.0 t", "ZSCORE z t", "ZADD z 0.30000000000000004 u",
      "ZSCORE z u", "ZADD z 1e16 v", "ZSCORE z v", "ZADD z 1e15 w", "ZSCORE z w", "ZADD z 12345.678 x", "ZSCORE z x",
      "ZADD z nan y", "ZADD z NaN y", "ZADD z abc y", "ZADD z 1.5x y", ["ZADD", "z", "", "y"], ["ZADD", "z", " 1", "y"], "ZADD z 1 a nan b",
      "EXISTS y", "ZRANGE z 0 -1 WITHSCORES", "ZADD z INCR inf i", "ZADD z INCR -inf i", "ZSCORE z i", "ZADD z INCR 1 i",
    ] },
    { name: "wrong type", steps: ["SET s v", "ZADD s 1 a", "ZADD s NX 1 a", "ZINCRBY s 1 a", "GET s"] },
    { name: "equal scores order by member bytes", steps: [
      ["ZADD", "z", "1", "b", "1", "a", "1", "B", "1", "", "1", "\xff", "1", "a\x00", "1", "ab", "0", "zz", "2", "\x00"], "ZRANGE z 0 -1 WITHSCORES",
      "ZREVRANGE z 0 -1", "ZRANGEBYSCORE z 1 1", "ZREVRANGEBYSCORE z 1 1 LIMIT 1 3", "ZRANK z ab",
      "ZREVRANK z ab", "ZADD z INCR CH 1 zz", "ZADD z CH INCR 0 zz", "ZRANGE z 0 1", "ZPOPMIN z 2", "ZPOPMAX z 2",
      ["ZADD", "l", "0", "b", "0", "a", "0", "B", "0", "", "0", "\xff", "0", "a\x00", "0", "ab"], ["ZRANGEBYLEX", "l", "[a", "(\xff"],
      ["ZRANGEBYLEX", "l", "(", "[a\x00"], ["ZREVRANGEBYLEX", "l", "[\xff", "(a"], ["ZLEXCOUNT", "l", "[", "+"], ["ZREMRANGEBYLEX", "l", "(a", "[b"],
      "ZRANGE l 0 -1",
      "ZADD f 1e-7 a -1.5 b 123.456e10 c 0.000123 d 1e21 e 1e-5 f 33.333333333333336 g", "ZRANGE f 0 -1 WITHSCORES", "ZINCRBY f 0.1 d",
    ] },
  ],
  "zsets: ZINCRBY / ZREM / ZSCORE / ZMSCORE / ZCARD": [
    { name: "ZINCRBY", steps: [
      "ZINCRBY z 1 a", "ZINCRBY z 1.5 a", "ZINCRBY z -0.1 a", "ZINCRBY z 0.1 b", "ZINCRBY z 0.2 b", "ZINCRBY z inf c", "ZINCRBY z -inf c",
      "ZSCORE z c", "ZINCRBY z 1 c", "ZINCRBY z nan c", "ZINCRBY z x c", "ZINCRBY z 1e308 d", "ZINCRBY z 1e308 d", "ZINCRBY z", "ZINCRBY z 1",
      "ZINCRBY z 1 a b", "ZRANGE z 0 -1 WITHSCORES",
    ] },
    { name: "ZREM ZSCORE ZMSCORE ZCARD", steps: [
      "ZADD z 1 a 2 b 3 c", "ZREM z a", "ZREM z a", "ZREM z b c nosuch", "EXISTS z", "ZREM missing a", "ZADD z 1 a 2.5 b", "ZSCORE z a",
      "ZSCORE z b", "ZSCORE z nosuch", "ZSCORE missing a", "ZMSCORE z a nosuch b", "ZMSCORE missing a b", "ZCARD z", "ZCARD missing",
      "ZREM z", "ZREM", "ZSCORE z", "ZSCORE z a b", "ZMSCORE z", "ZCARD", "ZCARD a b", "SET s v", "ZREM s a", "ZSCORE s a", "ZMSCORE s a",
      "ZCARD s",
    ] },
  ],
  "zsets: ZCOUNT / ZLEXCOUNT": [
    { name: "ZCOUNT", steps: [
      "ZADD z 1 a 2 b 3 c 4 d -inf m +inf p", "ZCOUNT z -inf +inf", "ZCOUNT z 1 3", "ZCOUNT z (1 3", "ZCOUNT z (1 (3", "ZCOUNT z 3 1",
      "ZCOUNT z -inf (2", "ZCOUNT z (-inf (inf", "ZCOUNT z inf inf", "ZCOUNT z 2.5 100", "ZCOUNT missing 0 1", "ZCOUNT z a 1", "ZCOUNT z 1 b",
      "ZCOUNT z ( 1", "ZCOUNT z ((1 2", "ZCOUNT z nan 1", "ZCOUNT z [1 2", "ZCOUNT z 1", "ZCOUNT z", "SET s v", "ZCOUNT s 0 1",
    ] },
    { name: "ZLEXCOUNT", steps: [
      "ZADD z 0 a 0 b 0 c 0 d 0 e", "ZLEXCOUNT z - +", "ZLEXCOUNT z [b [d", "ZLEXCOUNT z (b (d", "ZLEXCOUNT z [b (d", "ZLEXCOUNT z + -",
      "ZLEXCOUNT z - [c", "ZLEXCOUNT z (c +", "ZLEXCOUNT z [d [b", "ZLEXCOUNT z [aa [bb", "ZLEXCOUNT missing - +", "ZLEXCOUNT z b d",
      "ZLEXCOUNT z [b d", "ZLEXCOUNT z - c", ["ZLEXCOUNT", "z", "", "+"], ["ZLEXCOUNT", "z", "[", "+"], ["ZLEXCOUNT", "z", "(", "+"],
      "ZLEXCOUNT z -a +", "ZLEXCOUNT z [a", "SET s v", "ZLEXCOUNT s - +",
    ] },
  ],
  "zsets: ZRANGE": [
    { name: "by rank", steps: [
      "ZADD z 1 a 2 b 3 c 4 d 5 e", "ZRANGE z 0 -1", "ZRANGE z 0 -1 WITHSCORES", "ZRANGE z 1 2", "ZRANGE z -2 -1", "ZRANGE z 3 1", "ZRANGE z 5 10",
      "ZRANGE z -100 100", "ZRANGE z 0 -1 REV", "ZRANGE z 0 1 REV WITHSCORES", "ZRANGE z 0 -1 withscores rev", `ZRANGE z ${I64_MIN} ${I64_MAX}`,
      "ZRANGE missing 0 -1", "ZRANGE z a 1", "ZRANGE z 0 1.5", "ZRANGE z (0 1", "ZRANGE z 0 1 LIMIT 0 1", "ZRANGE z 0 1 FOO", "ZRANGE z 0",
      "ZRANGE z 0 1 WITHSCORES WITHSCORES", "ZREVRANGE z 0 -1", "ZREVRANGE z 0 1 WITHSCORES", "ZREVRANGE z -1 -1", "ZREVRANGE z 0 1 REV",
      "ZREVRANGE z 0 1 FOO", "ZREVRANGE z 0", "ZREVRANGE missing 0 -1",
    ] },
    { name: "BYSCORE", steps: [
      "ZADD z 1 a 2 b 3 c 4 d 5 e -inf n inf p", "ZRANGE z 2 4 BYSCORE", "ZRANGE z (2 4 BYSCORE", "ZRANGE z -inf +inf BYSCORE WITHSCORES",
      "ZRANGE z (1 (5 BYSCORE", "ZRANGE z 4 2 BYSCORE", "ZRANGE z 4 2 BYSCORE REV", "ZRANGE z +inf -inf BYSCORE REV", "ZRANGE z (4 (2 BYSCORE REV",
      "ZRANGE z -inf +inf BYSCORE LIMIT 1 2", "ZRANGE z -inf +inf BYSCORE LIMIT 1 -1", "ZRANGE z -inf +inf BYSCORE LIMIT -1 2",
      "ZRANGE z -inf +inf BYSCORE LIMIT 0 0", "ZRANGE z -inf +inf BYSCORE LIMIT 10 2", "ZRANGE z +inf -inf BYSCORE REV LIMIT 1 2 WITHSCORES",
      "ZRANGE z 1 3 BYSCORE LIMIT x 1", "ZRANGE z 1 3 BYSCORE LIMIT 0", "ZRANGE z x 3 BYSCORE", "ZRANGE z 1 (x BYSCORE", "ZRANGE z [1 3 BYSCORE",
      "ZRANGE z nan 3 BYSCORE", "ZRANGE z 1 3 BYSCORE BYLEX", "ZRANGE z 1 3 BYLEX BYSCORE", "ZRANGE missing 0 1 BYSCORE",
      "ZRANGEBYSCORE z 2 4", "ZRANGEBYSCORE z (2 +inf WITHSCORES", "ZRANGEBYSCORE z -inf +inf LIMIT 2 2", "ZRANGEBYSCORE z -inf +inf WITHSCORES LIMIT 0 1",
      "ZRANGEBYSCORE z -inf +inf LIMIT 0 1 WITHSCORES", "ZRANGEBYSCORE z 4 2", "ZRANGEBYSCORE z x 1", "ZRANGEBYSCORE z 0 1 LIMIT 0",
      "ZRANGEBYSCORE z 0 1 FOO", "ZRANGEBYSCORE z 0 1 REV", "ZRANGEBYSCORE z 0", "ZREVRANGEBYSCORE z 4 2", "ZREVRANGEBYSCORE z +inf (3 WITHSCORES",
      "ZREVRANGEBYSCORE z 2 4", "ZREVRANGEBYSCORE z +inf -inf LIMIT 1 2", "ZREVRANGEBYSCORE z x 1", "ZREVRANGEBYSCORE missing +inf -inf",
    ] },
    { name: "BYLEX", steps: [
      "ZADD z 0 a 0 b 0 c 0 d 0 e 0 ee", "ZRANGE z [b [d BYLEX", "ZRANGE z (b (d BYLEX", "ZRANGE z - + BYLEX", "ZRANGE z + - BYLEX",
      "ZRANGE z + - BYLEX REV", "ZRANGE z [d [b BYLEX REV", "ZRANGE z - + BYLEX LIMIT 1 3", "ZRANGE z - + BYLEX LIMIT 2 -1",
      "ZRANGE z + - BYLEX REV LIMIT 0 2", "ZRANGE z [e + BYLEX", "ZRANGE z (e + BYLEX", "ZRANGE z - + BYLEX WITHSCORES", "ZRANGE z b d BYLEX",
      "ZRANGE z [b d BYLEX", ["ZRANGE", "z", "", "+", "BYLEX"], "ZRANGE missing - + BYLEX", "ZRANGEBYLEX z - +", "ZRANGEBYLEX z [b (e",
      "ZRANGEBYLEX z - + LIMIT 1 2", "ZRANGEBYLEX z - + LIMIT 1", "ZRANGEBYLEX z - + WITHSCORES", "ZRANGEBYLEX z a +", "ZRANGEBYLEX z -",
      "ZREVRANGEBYLEX z + -", "ZREVRANGEBYLEX z [d [b", "ZREVRANGEBYLEX z [b [d", "ZREVRANGEBYLEX z + - LIMIT 0 2", "ZREVRANGEBYLEX z d b",
      "ZADD mixed 1 a 2 b 3 c", "ZRANGEBYLEX mixed - +", "ZRANGEBYLEX mixed [b +",
    ] },
    { name: "ZRANGESTORE", steps: [
      "ZADD z 1 a 2 b 3 c 4 d", "ZRANGESTORE dst z 0 1", "ZRANGE dst 0 -1 WITHSCORES", "ZRANGESTORE dst z 2 4 BYSCORE", "ZRANGE dst 0 -1 WITHSCORES",
      "ZRANGESTORE dst z +inf -inf BYSCORE REV LIMIT 0 2", "ZRANGE dst 0 -1", "ZRANGESTORE dst z - + BYLEX", "ZRANGESTORE dst z 10 20", "EXISTS dst",
      "ZRANGESTORE dst missing 0 -1", "SET dst str", "ZRANGESTORE dst z 0 0", "TYPE dst", "SET dst str", "ZRANGESTORE dst z 5 6", "EXISTS dst",
      "ZRANGESTORE z z 1 2", "ZRANGE z 0 -1", "ZRANGESTORE dst z 0 1 WITHSCORES", "ZRANGESTORE dst z 0 1 LIMIT 0 1", "ZRANGESTORE dst z x 1",
      "ZRANGESTORE dst z 0", "ZRANGESTORE dst", "SET s v", "ZRANGESTORE dst s 0 1", "ZADD zl 0 a 0 b 0 c", "ZRANGESTORE dst zl [b + BYLEX",
      "ZRANGE dst 0 -1 WITHSCORES",
    ] },
    { name: "wrong type", steps: [
      "SET s v", "ZRANGE s 0 1", "ZRANGEBYSCORE s 0 1", "ZREVRANGEBYSCORE s 1 0", "ZRANGEBYLEX s - +", "ZREVRANGEBYLEX s + -", "ZREVRANGE s 0 1",
      "ZRANGE s x 1", "ZRANGE s 0 1 BYSCORE", "ZRANGEBYSCORE s x 1",
    ] },
  ],
  "zsets: ZRANK / ZREVRANK / ZREMRANGEBY*": [
    { name: "ZRANK ZREVRANK", steps: [
      "ZADD z 1 a 2 b 3 c", "ZRANK z a", "ZRANK z c", "ZREVRANK z a", "ZREVRANK z c", "ZRANK z nosuch", "ZREVRANK z nosuch", "ZRANK missing a",
      "ZRANK z", "ZRANK", "SET s v", "ZRANK s a", "ZREVRANK s a",
    ] },
    { name: "ZREMRANGEBYRANK / SCORE / LEX", steps: [
      "ZADD z 1 a 2 b 3 c 4 d 5 e", "ZREMRANGEBYRANK z 0 0", "ZREMRANGEBYRANK z -1 -1", "ZRANGE z 0 -1", "ZREMRANGEBYRANK z 5 10",
      "ZREMRANGEBYRANK z 2 1", "ZREMRANGEBYRANK z 0 -1", "EXISTS z", "ZREMRANGEBYRANK missing 0 -1", "ZREMRANGEBYRANK z x 1",
      "ZADD z 1 a 2 b 3 c 4 d 5 e", "ZREMRANGEBYSCORE z (1 2", "ZREMRANGEBYSCORE z 4 +inf", "ZRANGE z 0 -1", "ZREMRANGEBYSCORE z 10 20",
      "ZREMRANGEBYSCORE z x 1", "ZREMRANGEBYSCORE z -inf +inf", "EXISTS z", "ZADD z 0 a 0 b 0 c 0 d", "ZREMRANGEBYLEX z [a (c", "ZRANGE z 0 -1",
      "ZREMRANGEBYLEX z a c", "ZREMRANGEBYLEX z + -", "ZREMRANGEBYLEX z - +", "EXISTS z", "ZREMRANGEBYLEX missing - +", "ZREMRANGEBYRANK z 0",
      "ZREMRANGEBYSCORE z 0", "ZREMRANGEBYLEX z -", "SET s v", "ZREMRANGEBYRANK s 0 1", "ZREMRANGEBYSCORE s 0 1", "ZREMRANGEBYLEX s - +",
    ] },
  ],
  "zsets: ZPOPMIN / ZPOPMAX / ZMPOP / ZRANDMEMBER": [
    { name: "ZPOPMIN ZPOPMAX", steps: [
      "ZADD z 1 a 2 b 3 c 4 d 5 e", "ZPOPMIN z", "ZPOPMAX z", "ZPOPMIN z 2", "ZPOPMAX z 0", "ZPOPMIN z 0", "ZPOPMAX z 10", "EXISTS z",
      "ZPOPMIN missing", "ZPOPMIN missing 2", "ZPOPMAX missing 0", "ZADD z 1 a", "ZPOPMIN z -1", "ZPOPMAX z -1", "ZPOPMIN z x", "ZPOPMIN z 1.5",
      "ZPOPMIN z 1 2", "ZPOPMIN", "SET s v", "ZPOPMIN s", "ZPOPMAX s 1", "ZPOPMIN z",
    ] },
    { name: "ZMPOP", steps: [
      "ZADD a 1 x 2 y 3 z", "ZADD b 10 p", "ZMPOP 1 a MIN", "ZMPOP 1 a MAX", "ZMPOP 2 missing b MIN COUNT 5", "EXISTS b", "ZMPOP 2 missing b MAX",
      "ZMPOP 2 b a max count 10", "EXISTS a", "ZADD a 1 x", "ZMPOP 0 a MIN", "ZMPOP -1 a MIN", "ZMPOP x a MIN", "ZMPOP 2 a MIN", "ZMPOP 1 a",
      "ZMPOP 1 a FOO", "ZMPOP 1 a MIN COUNT 0", "ZMPOP 1 a MIN COUNT -1", "ZMPOP 1 a MIN COUNT x", "ZMPOP 1 a MIN COUNT", "ZMPOP 1 a MIN COUNT 1 COUNT 1",
      "ZMPOP 1 a MIN FOO", "ZMPOP 1", "ZMPOP", "SET s v", "ZMPOP 1 s MIN", "ZMPOP 2 missing s MAX", "ZRANGE a 0 -1 WITHSCORES",
    ] },
    { name: "ZRANDMEMBER", steps: [
      "ZRANDMEMBER missing", "ZRANDMEMBER missing 3", "ZRANDMEMBER missing -3 WITHSCORES", "ZADD one 1.5 x", "ZRANDMEMBER one", "ZRANDMEMBER one 3",
      "ZRANDMEMBER one -3", "ZRANDMEMBER one -2 WITHSCORES", "ZRANDMEMBER one 1 WITHSCORES", "ZRANDMEMBER one 0", "ZADD z 1 a 2 b 3 c",
      "ZRANDMEMBER z 3", "ZRANDMEMBER z 10 WITHSCORES", pick("ZRANDMEMBER z", ["a", "b", "c"]), pick("ZRANDMEMBER z 2", ["a", "b", "c"]),
      pick("ZRANDMEMBER z -5 WITHSCORES", ["a", "b", "c", "1", "2", "3"]), BIG_ZSET, pick("ZRANDMEMBER bigzset -3", range(129, (i) => `m${i}`)),
      pick("ZRANDMEMBER bigzset 3", range(129, (i) => `m${i}`)), "ZRANDMEMBER z x", "ZRANDMEMBER z 1 FOO", "ZRANDMEMBER z WITHSCORES",
      `ZRANDMEMBER z ${I64_MIN}`, `ZRANDMEMBER z ${I64_MIN} WITHSCORES`, "ZRANDMEMBER",
      "ZRANDMEMBER z -4611686018427387904 WITHSCORES", "ZRANDMEMBER z 4611686018427387904 WITHSCORES", "ZRANDMEMBER z 4611686018427387903 WITHSCORES",
      "SET s v", "ZRANDMEMBER s", "ZRANDMEMBER s 1",
    ] },
  ],
  "zsets: ZUNION / ZINTER / ZDIFF and STOREs": [
    { name: "ZUNION ZINTER ZDIFF", steps: [
      "ZADD a 1 x 2 y 3 z", "ZADD b 10 y 20 z 30 w", "SADD s y w q", "ZUNION 2 a b", "ZUNION 2 a b WITHSCORES", "ZINTER 2 a b WITHSCORES",
      "ZDIFF 2 a b WITHSCORES", "ZDIFF 2 b a", "ZUNION 2 a b WEIGHTS 2 0.5 WITHSCORES", "ZINTER 2 a b AGGREGATE MIN WITHSCORES",
      "ZINTER 2 a b AGGREGATE MAX WITHSCORES", "ZUNION 2 a b AGGREGATE SUM WEIGHTS 1 -1 WITHSCORES", "ZUNION 3 a b s WITHSCORES",
      "ZINTER 2 a s WITHSCORES", "ZINTER 2 s b WEIGHTS 5 1 WITHSCORES", "ZDIFF 2 a s WITHSCORES", "ZUNION 1 s WITHSCORES", "ZUNION 2 a missing",
      "ZINTER 2 a missing", "ZDIFF 2 missing a", "ZDIFF 1 a", "ZUNION 1 missing", "ZUNION 2 a b WEIGHTS inf 1 WITHSCORES",
      "ZADD i 1 x", "ZUNION 2 i i WEIGHTS inf -inf WITHSCORES", "ZINTER 2 i i WEIGHTS inf -inf AGGREGATE MAX WITHSCORES",
      "ZUNION 2 a b withscores aggregate max weights 1 2", "ZINTER 2 a b LIMIT 1",
    ] },
    { name: "errors", steps: [
      "ZADD a 1 x", "ZUNION 0 a", "ZINTER 0 a", "ZDIFF 0 a", "ZUNION -1 a", "ZUNION x a", "ZUNION 3 a b", `ZUNION ${I64_MAX} a`,
      "ZUNION 1 a WEIGHTS", "ZUNION 1 a WEIGHTS x", "ZUNION 1 a WEIGHTS 1 2", "ZUNION 1 a WEIGHTS nan", "ZUNION 1 a AGGREGATE", "ZUNION 1 a AGGREGATE AVG",
      "ZUNION 1 a FOO", "ZDIFF 1 a WEIGHTS 1", "ZDIFF 1 a AGGREGATE MIN", "ZDIFF 1 a WITHSCORES WITHSCORES", "ZUNION 1", "ZUNION", "ZINTER", "ZDIFF",
      "SET str v", "ZUNION 2 a str", "ZINTER 2 a str", "ZDIFF 2 a str", "ZDIFF 2 missing str", "ZINTER 2 missing str", "HSET h f v", "ZUNION 1 h",
    ] },
    { name: "STOREs", steps: [
      "ZADD a 1 x 2 y 3 z", "ZADD b 10 y 20 z 30 w", "SADD s y w q", "ZUNIONSTORE d 2 a b", "ZRANGE d 0 -1 WITHSCORES", "ZINTERSTORE d 2 a b",
      "ZRANGE d 0 -1 WITHSCORES", "ZINTERSTORE d 2 a b WEIGHTS 2 3 AGGREGATE MAX", "ZRANGE d 0 -1 WITHSCORES", "ZUNIONSTORE d 2 a s AGGREGATE MIN",
      "ZRANGE d 0 -1 WITHSCORES", "ZINTERSTORE d 2 s s", "ZRANGE d 0 -1 WITHSCORES", "ZDIFFSTORE d 2 a b", "ZRANGE d 0 -1 WITHSCORES",
      "ZDIFFSTORE d 2 a a", "EXISTS d", "ZINTERSTORE d 2 a missing", "EXISTS d", "SET d str", "ZUNIONSTORE d 1 missing", "EXISTS d",
      "SET d str", "ZUNIONSTORE d 1 a", "TYPE d", "ZUNIONSTORE a 2 a b", "ZRANGE a 0 -1 WITHSCORES", "ZUNIONSTORE d 0 a", "ZINTERSTORE d 0 a",
      "ZDIFFSTORE d 0 a", "ZUNIONSTORE d 1 a WITHSCORES", "ZINTERSTORE d 1 a WITHSCORES", "ZDIFFSTORE d 1 a WITHSCORES", "ZUNIONSTORE d 2 a",
      "ZUNIONSTORE d", "ZDIFFSTORE d", "SET str v", "ZUNIONSTORE d 2 a str", "ZINTERSTORE d 2 missing str", "ZDIFFSTORE d 2 missing str",
      "ZUNIONSTORE d 1 a WEIGHTS x", "OBJECT ENCODING d",
      // A zero score negated: the listpack result holds 0, not -0 (a skiplist one keeps -0).
      "ZADD zero 0 z 1 b", "ZUNIONSTORE d 1 zero WEIGHTS -1", "ZRANGE d 0 -1 WITHSCORES", "ZSCORE d z",
    ] },
    { name: "ZINTERCARD", steps: [
      "ZADD a 1 x 2 y 3 z", "ZADD b 1 y 2 z 3 w", "SADD s z", "ZINTERCARD 2 a b", "ZINTERCARD 1 a", "ZINTERCARD 3 a b s", "ZINTERCARD 2 a missing",
      "ZINTERCARD 2 a b LIMIT 1", "ZINTERCARD 2 a b LIMIT 0", "ZINTERCARD 2 a b LIMIT -1", "ZINTERCARD 2 a b LIMIT x", "ZINTERCARD 2 a b LIMIT",
      "ZINTERCARD 0 a", "ZINTERCARD -1 a", "ZINTERCARD 3 a b", "ZINTERCARD 1 a b", "ZINTERCARD 2 a b FOO 1", "ZINTERCARD 1", "ZINTERCARD",
      "SET str v", "ZINTERCARD 2 a str", "ZINTERCARD 2 missing str",
    ] },
  ],
  "zsets: ZSCAN": [
    { name: "ZSCAN", steps: [
      "ZADD z 1 a 2.5 b 3 c 1e20 ab", "ZSCAN z 0", "ZSCAN z 0 MATCH a*", "ZSCAN z 0 COUNT 1", "ZSCAN missing 0", "ZSCAN z x", "ZSCAN z 0 COUNT 0",
      "ZSCAN z 0 FOO", "ZSCAN z", "ZSCAN", BIG_ZSET, rl("ZSCAN bigzset 0 COUNT 10000", rules.sortedPairsSecond),
      rl("ZSCAN bigzset 0 MATCH m12? COUNT 10000", rules.sortedPairsSecond), "SET s v", "ZSCAN s 0",
    ] },
  ],
  "zsets: blocking commands": [
    { name: "data present (no blocking)", steps: [
      "ZADD a 1 x 2 y 3 z", "ZADD b 10 p", "BZPOPMIN missing a 0", "BZPOPMAX missing a 0.5", "BZPOPMIN b a 1", "EXISTS b", "BZMPOP 0 2 missing a MIN",
      "EXISTS a", "ZADD a 1 x 2 y 3 z 4 w", "BZMPOP 1 1 a MAX COUNT 2", "bzmpop 0.1 1 a min count 1", "BZPOPMAX a 0", "EXISTS a",
      "ZADD a 1.5 x -inf y", "BZMPOP 0 1 a MIN COUNT 10", "ZADD c 0.1 m", "BZPOPMIN c 0",
    ] },
    { name: "timeouts on empty keys", steps: [
      "SET s v", "BZPOPMIN missing 0.01", "BZPOPMAX m1 m2 0.01", "BZMPOP 0.01 2 m1 m2 MIN COUNT 3", "PING",
    ] },
    { name: "errors", steps: [
      "ZADD a 1 x", "BZPOPMIN a -1", "BZPOPMIN a x", "BZPOPMAX a 1e20", "BZPOPMAX a nan", "BZMPOP -1 1 a MIN", "BZMPOP x 1 a MIN", "BZMPOP 0 0 a MIN",
      "BZMPOP 0 1 a MIN COUNT 0", "BZMPOP 0 1 a MIN COUNT -1", "BZMPOP 0 1 a FOO", "BZMPOP 0 2 a MIN", "BZMPOP 0 1 a MIN COUNT", "BZPOPMIN a",
      "BZPOPMIN", "BZMPOP 0 1 a", "SET s v", "BZPOPMIN s 0", "BZPOPMAX missing s 0", "BZMPOP 0 1 s MIN", "BZMPOP 0 2 missing s MAX", "ZRANGE a 0 -1",
    ] },
    { name: "RESP3", steps: [
      "HELLO 3", "BZMPOP 0.01 1 missing MIN", "ZADD a 1 x 2 y 3 z", "BZPOPMIN a 0", "BZPOPMAX a 0", "BZMPOP 0 1 a MAX COUNT 2", "HELLO 2",
    ] },
  ],
  "zsets: RESP3 and encodings": [
    { name: "RESP3 replies", steps: [
      "HELLO 3", "ZADD z 1.1 a 2 b inf c", "ZSCORE z a", "ZSCORE z b", "ZSCORE z c", "ZSCORE z nosuch", "ZSCORE missing a", "ZMSCORE z a nosuch c",
      "ZMSCORE missing a", "ZINCRBY z 1 b", "ZADD z INCR 1 b", "ZADD z NX INCR 1 b", "ZRANGE z 0 -1", "ZRANGE z 0 -1 WITHSCORES",
      "ZRANGEBYSCORE z -inf +inf WITHSCORES", "ZREVRANGE z 0 0 WITHSCORES", "ZRANK z a", "ZRANK z nosuch", "ZPOPMIN missing", "ZPOPMIN missing 2",
      "ZADD p 1 a 2 b 3 c", "ZPOPMIN p", "ZPOPMAX p 1", "ZPOPMIN p 5", "ZMPOP 1 missing MIN", "ZADD p 1 a", "ZMPOP 1 p MIN", "ZRANDMEMBER missing",
      "ZRANDMEMBER missing 2", "ZADD one 2.5 x", "ZRANDMEMBER one -2 WITHSCORES", "ZRANDMEMBER one 1 WITHSCORES", "ZUNION 1 z WITHSCORES",
      "ZINTER 2 z z WITHSCORES", "ZDIFF 1 z WITHSCORES", "ZSCAN z 0", "ZRANGEBYLEX z - +", "HELLO 2",
    ] },
    { name: "TYPE and OBJECT ENCODING", steps: [
      "ZADD z 1 a", "TYPE z", "OBJECT ENCODING z", ZSET_128, "OBJECT ENCODING z128", "ZADD z128 128 m128", "OBJECT ENCODING z128",
      "ZREM z128 m128 m127", "OBJECT ENCODING z128", BIG_ZSET, "OBJECT ENCODING bigzset", "ZCARD bigzset", "ZRANGE bigzset 60 63 WITHSCORES",
      "ZRANGEBYSCORE bigzset (125 +inf", "ZRANK bigzset m100", "ZREVRANK bigzset m100", "ZCOUNT bigzset 10 (20", ["ZADD", "m64", "1", AT_LIMIT],
      "OBJECT ENCODING m64", ["ZADD", "m65", "1", LONG], "OBJECT ENCODING m65", "ZUNIONSTORE u 1 bigzset", "OBJECT ENCODING u",
      "ZRANGESTORE small bigzset 0 2", "OBJECT ENCODING small", "ZINTERSTORE d 2 bigzset z128", "ZCARD d", "OBJECT ENCODING d",
    ] },
  ],
};

// ---------------------------------------------------------------------------------------------
// Generic key commands on collections, and WRONGTYPE across types
// ---------------------------------------------------------------------------------------------

const GENERIC: Record<string, Script[]> = {
  "collections: keys": [
    { name: "TYPE EXISTS DEL", steps: [
      ...MAKE_ALL_TYPES, "TYPE str", "TYPE list", "TYPE hash", "TYPE set", "TYPE iset", "TYPE zset", "EXISTS str list hash set iset zset missing",
      "DBSIZE", "DEL list hash", "UNLINK set zset", "DEL iset str missing", "DBSIZE",
    ] },
    { name: "SCAN TYPE", steps: [
      ...MAKE_ALL_TYPES, "SCAN 0 TYPE string COUNT 100", "SCAN 0 TYPE list COUNT 100", "SCAN 0 TYPE hash COUNT 100", "SCAN 0 TYPE set COUNT 100",
      "SCAN 0 TYPE zset COUNT 100", "SCAN 0 TYPE LIST COUNT 100", "SCAN 0 TYPE stream COUNT 100", "SCAN 0 TYPE nosuch COUNT 100",
      "SCAN 0 MATCH *set TYPE set COUNT 100", "KEYS *",
    ] },
    { name: "RENAME COPY MOVE", steps: [
      ...MAKE_ALL_TYPES, "RENAME list list2", "LRANGE list2 0 -1", "RENAME hash hash2", "HGETALL hash2", "RENAME set set2", "SMEMBERS set2",
      "RENAME zset zset2", "ZRANGE zset2 0 -1 WITHSCORES", "RENAMENX list2 str", "RENAME list2 str", "TYPE str", "LRANGE str 0 -1",
      "COPY str l3", "LPUSH l3 new", "LRANGE str 0 -1", "LRANGE l3 0 -1", "COPY hash2 h3", "HSET h3 g w", "HGETALL hash2", "HGETALL h3",
      "COPY set2 s3", "SADD s3 other", "SCARD set2", "COPY iset i3", ex("SMEMBERS i3"), "OBJECT ENCODING i3", "COPY zset2 z3", "ZADD z3 2 n",
      "ZCARD zset2", "ZRANGE z3 0 -1", "COPY z3 zset2", "COPY z3 zset2 REPLACE", "ZCARD zset2", "COPY set2 hash2 REPLACE", "TYPE hash2",
      "COPY z3 z4 DB 1", "MOVE hash2 1", "MOVE i3 1", "SELECT 1", "ZRANGE z4 0 -1", "TYPE hash2", ex("SMEMBERS i3"), "SELECT 0", "EXISTS hash2 i3",
      "SADD i3 9", "MOVE i3 1", "EXPIRE zset2 100", "COPY zset2 z5", "TTL z5", "RENAME zset2 z6", "TTL z6",
    ] },
    { name: "big collections copy and rename", steps: [
      BIG_HASH, BIG_SET, BIG_ZSET, BIG_LIST, "COPY bighash bh2", "HLEN bh2", "OBJECT ENCODING bh2", "COPY bigset bs2", "SCARD bs2",
      "OBJECT ENCODING bs2", "COPY bigzset bz2", "ZCARD bz2", "OBJECT ENCODING bz2", "ZRANGE bz2 0 2 WITHSCORES", "RENAME biglist bl2", "LLEN bl2",
      "LINDEX bl2 599", "MOVE bz2 1", "SELECT 1", "OBJECT ENCODING bz2", "ZCARD bz2", "SELECT 0", "DEL bighash bigset bigzset bl2 bh2 bs2", "DBSIZE",
    ] },
  ],
  "collections: WRONGTYPE": [
    { name: "string commands on collections", steps: [
      ...MAKE_ALL_TYPES, "GET list", "GET hash", "GET set", "GET zset", "SET list v GET", "APPEND hash x", "INCR set", "INCRBYFLOAT zset 1",
      "STRLEN list", "GETRANGE hash 0 1", "SETRANGE set 0 x", "GETDEL zset", "GETEX list", "GETSET hash v", "DECRBY set 1", "LCS list str",
      "MGET str list hash set zset", "SET zset v", "TYPE zset", "SETNX list v", "TYPE list",
    ] },
    { name: "collection commands on other types", steps: [
      ...MAKE_ALL_TYPES, "LPUSH str a", "RPUSH hash a", "LRANGE set 0 -1", "LLEN zset", "LPOP hash", "LMOVE list str LEFT LEFT", "LMOVE list hash LEFT LEFT",
      "LRANGE list 0 -1", "HSET list f v", "HGET set f", "HGETALL zset", "HLEN str", "HINCRBY list f 1", "SADD list m", "SMEMBERS hash",
      "SCARD zset", "SISMEMBER str m", "SUNION set hash", "SINTERSTORE set set list", "SMEMBERS set", "ZADD list 1 m", "ZRANGE hash 0 -1",
      "ZSCORE set m", "ZCARD str", "ZUNIONSTORE out 2 zset list", "ZINTER 2 zset str", "ZUNION 2 zset iset WITHSCORES", "ZPOPMIN hash",
      "BLPOP hash 0", "BZPOPMIN list 0", "ZRANGESTORE out list 0 1", "OBJECT ENCODING str", "OBJECT ENCODING list", "OBJECT ENCODING hash",
      "OBJECT ENCODING set", "OBJECT ENCODING iset", "OBJECT ENCODING zset",
    ] },
  ],
};

runDifferentialSuites(
  { ...LISTS, ...HASHES, ...SETS, ...ZSETS, ...GENERIC },
  {
    commandRules: {
      // Hashtable-encoded sets iterate in a per-process random order; intset results are marked ex().
      SMEMBERS: rules.sorted,
      SINTER: rules.sorted,
      SUNION: rules.sorted,
      SDIFF: rules.sorted,
      SSCAN: rules.sortedSecond,
    },
  },
);
