// main.ts, RESP, Strings, Keys and Server: differential tests: the same command scripts are sent to a real redis-server and to Redbun,
// and the replies are compared byte for byte (after a few explicit, per-command masking rules).
// The machinery (script format, rules, servers, runner) lives in ./differential-harness.ts.
//
// Run:   bun test tests/differential.test.ts
// Target selection (the "candidate" compared against the reference redis-server):
//   default              Redbun, started in-process via startServer() from ../main.ts
//   DIFF_TARGET=redis    a second redis-server spawned by the harness (self-check of the harness)
//   DIFF_TARGET_PORT=N   an already running server on 127.0.0.1:N (it gets FLUSHALLed!)
// REQUIRE_REDIS=1 makes a missing redis-server binary a failure instead of a skip.
// DIFF_ONLY=substr runs only scripts whose "family / name" contains substr.
// DIFF_DUMP=1 prints every step with the reference server's reply.
import {
  runDifferentialSuites, rules, type Script, type Step,
  ALL_BYTES, CRLF_VALUE, FAR_SEC, FAR_MS, PAST_SEC, I64_MAX, I64_MIN,
} from "./differential-harness.ts";

// ---------------------------------------------------------------------------------------------
// The scripts (data). Each script runs on a fresh connection after FLUSHALL.
// ---------------------------------------------------------------------------------------------

// Keys and values of up to 255 bytes live in the keyspace's byte arena (main.ts, Arena): these
// cross its limits and its size classes, and change a key's type and value back and forth.
const K255 = "k".repeat(254) + "\n", K256 = "K".repeat(256), V255 = ALL_BYTES.slice(1), V200 = CRLF_VALUE + ALL_BYTES.slice(0, 176);
const ARENA_KEYS = Array.from({ length: 300 }, (_, i) => `key:${"x".repeat(i % 40)}:${i}`);
const ARENA_VALS = (round: number) => ARENA_KEYS.flatMap((k, i) => [k, "v".repeat((i * 7 + round * 13) % 90) + round]);

/** Random members around a few hard centres (a pole's edge, the date line, the equator, a
 *  cell corner) and searches of every size over them, unsorted and with ANY, so the order of
 *  Redis's nine-cell walk is compared, not only the set of results. Seeded: the same every run. */
function geoWalkSteps(): Step[] {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const steps: Step[] = [];
  const centres: [number, number][] = [[0, 0], [179.9, 10], [-180, -30], [13.4, 85], [-70, -84.5], [0.0001, 45], [90, 66.5]];
  const radii = ["0 m", "50 m", "3 km", "120 km", "900 km", "5000 km", "20000 km"];
  centres.forEach(([lon, lat], k) => {
    const add = ["GEOADD", `w${k}`];
    for (let i = 0; i < 120; i++) {
      const spread = [0.01, 1, 20][i % 3];
      const x = Math.max(-180, Math.min(180, lon + (rand() - 0.5) * spread * 2));
      const y = Math.max(-85.05, Math.min(85.05, lat + (rand() - 0.5) * spread));
      add.push(x.toFixed(6), y.toFixed(6), `m${i}`);
    }
    steps.push(add);
    for (const r of radii) {
      const [n, unit] = r.split(" ");
      steps.push(["GEOSEARCH", `w${k}`, "FROMLONLAT", String(lon), String(lat), "BYRADIUS", n, unit]);
      steps.push(["GEORADIUS", `w${k}`, String(lon), String(lat), n, unit, "COUNT", "5", "ANY", "WITHHASH"]);
      steps.push(["GEOSEARCH", `w${k}`, "FROMMEMBER", "m7", "BYBOX", n, String(Number(n) / 2), unit, "WITHDIST"]);
      steps.push(["GEOSEARCH", `w${k}`, "FROMMEMBER", "m1", "BYRADIUS", n, unit, "DESC", "COUNT", "7", "WITHCOORD"]);
    }
    steps.push(["GEORADIUSBYMEMBER", `w${k}`, "m2", "700", "km", "STOREDIST", `d${k}`], ["ZRANGE", `d${k}`, "0", "-1", "WITHSCORES"]);
  });
  return steps;
}


/** PFADDs of random elements, with the sketch's bytes compared after each, at several
 *  hll-sparse-max-bytes (so promotions to dense happen at different sizes), then merges and
 *  unions over sparse and dense sketches. Seeded: the same every run. */
function hllRandomSteps(): Step[] {
  let seed = 4242;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const steps: Step[] = [];
  [3000, 200, 60, 12000].forEach((maxBytes, k) => {
    steps.push(["CONFIG", "SET", "hll-sparse-max-bytes", String(maxBytes)]);
    for (let r = 0; r < 24; r++) {
      const n = Math.floor(rand() * [4, 40, 400][r % 3]);
      const els = Array.from({ length: n }, () => Math.floor(rand() * 1e9).toString(36) + "\x00\xff".repeat(Math.floor(rand() * 6)));
      steps.push(["PFADD", `h${k}`, ...els], ["GET", `h${k}`]);
      if (r % 6 === 5) steps.push(["PFCOUNT", `h${k}`], ["PFDEBUG", "ENCODING", `h${k}`]);
    }
  });
  steps.push(["CONFIG", "SET", "hll-sparse-max-bytes", "3000"]);
  steps.push(["PFADD", "tiny", "a", "b"], ["PFCOUNT", "h0", "h1", "h2", "h3", "tiny"], ["PFMERGE", "m", "tiny", "h2"], ["GET", "m"]);
  steps.push(["PFMERGE", "tiny", "h0"], ["GET", "tiny"], ["PFMERGE", "m2", "h1", "h3"], ["GET", "m2"], ["PFCOUNT", "m2"]);
  steps.push(["PFDEBUG", "TODENSE", "h2"], ["PFMERGE", "m3", "h2", "tiny"], ["GET", "m3"], ["PFCOUNT", "m3"]);
  return steps;
}

/** Sketches with random bytes overwritten, as Redis's own fuzz test does: every reply (counts,
 *  INVALIDOBJ, WRONGTYPE) and the bytes left behind must match. */
function hllCorruptionSteps(): Step[] {
  let seed = 777;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const steps: Step[] = [];
  for (let k = 0; k < 40; k++) {
    const key = `c${k}`;
    const n = Math.floor(rand() * (k % 4 === 3 ? 3000 : 120));
    steps.push(["PFADD", key, ...Array.from({ length: n }, (_, i) => `e${k}-${i}`)]);
    for (let w = 0; w < 1 + (k % 3); w++) {
      const pos = 16 + Math.floor(rand() * (k % 4 === 3 ? 12288 : 60));
      steps.push(["SETRANGE", key, String(pos), String.fromCharCode(Math.floor(rand() * 256))]);
    }
    steps.push(["PFCOUNT", key], ["PFADD", key, "x", "y", "z"], ["GET", key], ["PFMERGE", `d${k}`, key], ["PFCOUNT", key, "c0"]);
  }
  return steps;
}

const SUITES: Record<string, Script[]> = {
  "strings: keys and values in the arena": [
    { name: "at and past 255 bytes", steps: [
      ["SET", K255, V255], ["GET", K255], ["STRLEN", K255], ["APPEND", K255, "z"], ["GET", K255], ["STRLEN", K255],
      ["SETRANGE", K255, "250", "abcdefgh"], ["GET", K255], ["SET", K255, "short"], ["GET", K255], ["GETRANGE", K255, "1", "3"],
      ["SET", K256, "v"], ["GET", K256], ["EXISTS", K256], ["SET", K256, V255], ["GET", K256], ["DEL", K256], ["GET", K256],
      ["SET", "k", ""], ["GET", "k"], ["STRLEN", "k"], ["SET", "", "empty key"], ["GET", ""], ["SET", "b", V200], ["GET", "b"],
      ["SET", "b", ALL_BYTES], ["GET", "b"], ["SET", "b", V200], ["GET", "b"], ["DBSIZE"],
    ] },
    { name: "growing and shrinking across size classes", steps: [
      ...Array.from({ length: 40 }, (_, i) => [["SET", "g", "a".repeat((i * 11) % 270)], ["GET", "g"], ["STRLEN", "g"]]).flat(),
      ["APPEND", "g", "tail"], ["GET", "g"], ["GETSET", "g", "x"], ["GETDEL", "g"], ["GET", "g"],
    ] },
    { name: "type changes, counters, encodings", steps: [
      "SET t v", "DEL t", "RPUSH t a", "TYPE t", "SET t v2", "TYPE t", "GET t", "HSET t f v", "SET t v3", "GET t",
      "SET n 41", "INCR n", "GET n", "OBJECT ENCODING n", "APPEND n 0", "GET n", "INCRBY n 5", "SET n 7", "DECR n", "GET n",
      "SET e abc", "OBJECT ENCODING e", ["SET", "e", "x".repeat(45)], "OBJECT ENCODING e", "SET e 12", "OBJECT ENCODING e",
      "SET r v", "RENAME r r2", "GET r2", "COPY r2 r3", "GET r3", "SET r3 other", "GET r2", "GET r3", "SETNX r3 no", "GETEX r3",
    ] },
    { name: "300 keys set, deleted and set again at other sizes", steps: [
      ["MSET", ...ARENA_VALS(1)], ["MGET", ...ARENA_KEYS], ["DEL", ...ARENA_KEYS.filter((_, i) => i % 3 === 0)], ["DBSIZE"],
      ["MSET", ...ARENA_VALS(2)], ["MGET", ...ARENA_KEYS], ["DEL", ...ARENA_KEYS.filter((_, i) => i % 2 === 0)], ["DBSIZE"],
      ["MSETNX", "fresh", "1", ARENA_KEYS[1], "2"], ["MSET", ...ARENA_VALS(3).slice(0, 200)], ["MGET", ...ARENA_KEYS], ["DBSIZE"],
    ] },
    { name: "DUMP of values in the arena", steps: [
      ["SET", "d", V200], ["DUMP", "d"], ["SET", K255, "val"], ["DUMP", K255],
    ] },
  ],
  "strings: SET": [
    { name: "basic and overwrite", steps: ["SET k v", "GET k", "SET k v2", "GET k", "set K lower", "GET K", "GET k", "SeT k mixed", "GET k"] },
    { name: "NX / XX", steps: ["SET k v NX", "SET k w NX", "GET k", "SET k w XX", "GET k", "SET missing v XX", "EXISTS missing", "SET k a nx", "SET k b xx"] },
    { name: "EX / PX / EXAT / PXAT", steps: [
      "SET a v EX 100", "TTL a", "PTTL a",
      "SET b v PX 100000", "TTL b", "PTTL b",
      `SET c v EXAT ${FAR_SEC}`, "EXPIRETIME c", "PEXPIRETIME c",
      `SET d v PXAT ${FAR_MS}`, "EXPIRETIME d", "PEXPIRETIME d",
      `SET e v PXAT ${FAR_MS.slice(0, -3)}123`, "PEXPIRETIME e", "EXPIRETIME e",
      "SET f v ex 100", "TTL f",
    ] },
    { name: "expire in the past deletes / short expire elapses", steps: [
      `SET p v EXAT ${PAST_SEC}`, "EXISTS p", "GET p",
      "SET q v PXAT 1", "EXISTS q",
      "SET s v PX 30", { sleep: 80 }, "GET s", "EXISTS s", "DBSIZE",
    ] },
    { name: "invalid expire values", steps: [
      "SET k v EX 0", "SET k v EX -1", "SET k v PX 0", "SET k v PX -5", "SET k v EXAT 0", "SET k v PXAT 0",
      "SET k v EX abc", "SET k v EX 1.5", "SET k v PX 1e3", ["SET", "k", "v", "EX", ""],
      "SET k v EX 9223372036854775807", "SET k v PX 9223372036854775807", "SET k v EX 9223372036854775808",
      "SET k v EX 92233720368547758", "SET k v EXAT 9223372036854775807",
      "SET k v EX", "SET k v PX", "EXISTS k",
    ] },
    { name: "KEEPTTL", steps: [
      "SET k v EX 100", "SET k v2 KEEPTTL", "TTL k", "GET k",
      "SET k v3", "TTL k",
      "SET k v EX 100", "SET k v4 KEEPTTL XX", "TTL k", "SET n v KEEPTTL", "TTL n",
    ] },
    { name: "GET option", steps: [
      "SET k v GET", "SET k v2 GET", "GET k", "SET k v3 GET EX 100", "TTL k", "SET k v4 NX GET", "SET k v5 XX GET", "GET k",
      "SET m v GET XX", "EXISTS m", "SET n v NX GET", "GET n",
      "SET list v GET", "GET list", "TYPE list", "SET list v", "TYPE list",
    ] },
    { name: "option conflicts and syntax errors", steps: [
      "SET k v NX XX", "SET k v XX NX", "SET k v EX 10 PX 100", "SET k v PX 100 EX 10", "SET k v EX 10 EXAT 100", "SET k v PXAT 1 EXAT 1",
      "SET k v EX 10 KEEPTTL", "SET k v KEEPTTL EX 10", "SET k v KEEPTTL PXAT 1", "SET k v EX 10 EX 20", "SET k v NX NX", "SET k v GET GET",
      "SET k v FOO", "SET k v EX 10 FOO", "SET k v NX foo", "SET k v GET EXAT", "EXISTS k",
      "SET", "SET k", ["SET", "", ""], ["GET", ""],
    ] },
  ],
  "strings: GET / GETSET / GETDEL": [
    { name: "GET", steps: ["GET missing", "SET k v", "GET k", "GET k extra", "GET", "GET l", "GET h"] },
    { name: "GETSET", steps: ["GETSET k v", "GETSET k w", "GET k", "SET t v EX 100", "GETSET t x", "TTL t", "GETSET l v", "GETSET k", "GETSET k a b"] },
    { name: "GETDEL", steps: ["GETDEL missing", "SET k v", "GETDEL k", "EXISTS k", "GETDEL k", "GETDEL l", "EXISTS l", "GETDEL", "GETDEL a b"] },
  ],
  "strings: GETEX": [
    { name: "options", steps: [
      "GETEX missing", "GETEX missing EX 10", "SET k v", "GETEX k", "TTL k",
      "GETEX k EX 100", "TTL k", "GETEX k PX 200000", "TTL k", `GETEX k EXAT ${FAR_SEC}`, "EXPIRETIME k",
      `GETEX k PXAT ${FAR_MS}`, "PEXPIRETIME k", "GETEX k PERSIST", "TTL k", "GETEX k persist", "TTL k", "GETEX k ex 50", "TTL k",
    ] },
    { name: "past time deletes", steps: ["SET k v", `GETEX k EXAT ${PAST_SEC}`, "EXISTS k", "SET k v", "GETEX k PXAT 1", "EXISTS k"] },
    { name: "errors", steps: [
      "SET k v", "GETEX k EX 0", "GETEX k EX -1", "GETEX k PX 0", "GETEX k EXAT 0", "GETEX k PXAT -1", "GETEX k EX abc", "GETEX k EX",
      "GETEX k EX 10 PX 10", "GETEX k PERSIST EX 10", "GETEX k EX 10 PERSIST", "GETEX k PERSIST PERSIST", "GETEX k FOO", "GETEX k EX 9223372036854775807",
      "GETEX k KEEPTTL", "GETEX", "GETEX l", "GETEX l EX 10", "TTL k", "GET k",
    ] },
  ],
  "strings: SETNX / SETEX / PSETEX": [
    { name: "SETNX", steps: ["SETNX k v", "SETNX k w", "GET k", "SETNX k", "SETNX k a b", "SETNX l v"] },
    { name: "SETEX", steps: [
      "SETEX k 100 v", "TTL k", "GET k", "SETEX k 0 v", "SETEX k -1 v", "SETEX k abc v", "SETEX k 1.5 v", "SETEX k 9223372036854775807 v",
      "SETEX k 9223372036854775 v", "SETEX k 100", "SETEX k", "SETEX l 100 v", "TYPE l", "TTL l", "GET k",
    ] },
    { name: "PSETEX", steps: [
      "PSETEX k 100000 v", "TTL k", "GET k", "PSETEX k 0 v", "PSETEX k -100 v", "PSETEX k abc v", "PSETEX k 9223372036854775807 v",
      "PSETEX k 100 v x", "PSETEX s 30 v", { sleep: 80 }, "GET s", "EXISTS s",
    ] },
  ],
  "strings: MGET / MSET / MSETNX": [
    { name: "MGET", steps: ["SET a 1", "SET b 2", "MGET a b missing l a", "MGET missing", "MGET"] },
    { name: "MSET", steps: [
      "MSET a 1 b 2 c 3", "MGET a b c", "MSET a x a y", "GET a", "MSET a", "MSET a 1 b", "MSET", "SET t v EX 100", "MSET t w", "TTL t",
      ["MSET", "", "empty", "bin", ALL_BYTES], ["MGET", "", "bin"],
    ] },
    { name: "MSETNX", steps: [
      "MSETNX a 1 b 2", "MGET a b", "MSETNX a 9 c 3", "MGET a c", "MSETNX c 3 c 4", "GET c", "MSETNX a", "MSETNX x 1 y", "MSETNX", "EXISTS x",
    ] },
  ],
  "strings: APPEND / STRLEN": [
    { name: "APPEND", steps: [
      "APPEND k hello", "APPEND k world", "GET k", ["APPEND", "k", ""], ["APPEND", "e", ""], "EXISTS e", ["GET", "e"], "STRLEN e",
      "SET n 10", "APPEND n 5", "GET n", "INCR n", "APPEND l x", "APPEND k", "APPEND",
    ] },
    { name: "STRLEN", steps: [
      "STRLEN missing", "SET k hello", "STRLEN k", "SET n 12345", "STRLEN n", "INCR n", "STRLEN n", ["SET", "b", ALL_BYTES], "STRLEN b",
      "SET neg -1", "STRLEN neg", "STRLEN l", "STRLEN", "STRLEN a b",
    ] },
  ],
  "strings: GETRANGE / SUBSTR": [
    { name: "ranges", steps: [
      "SET k Hello,World", "GETRANGE k 0 4", "GETRANGE k -5 -1", "GETRANGE k 0 -1", "GETRANGE k 5 2", "GETRANGE k -1 -5",
      "GETRANGE k 0 100", "GETRANGE k 100 200", "GETRANGE k -100 2", "GETRANGE k -100 -50", "GETRANGE k 3 3", "GETRANGE k -1 -1",
      `GETRANGE k 0 ${I64_MAX}`, `GETRANGE k ${I64_MIN} ${I64_MAX}`, `GETRANGE k ${I64_MAX} ${I64_MAX}`, `GETRANGE k -9223372036854775807 -1`,
      "GETRANGE k 0 9223372036854775808", "GETRANGE k a 1", "GETRANGE k 1.5 3", "GETRANGE missing 0 -1", "GETRANGE missing 5 1",
      "SUBSTR k 0 4", "SUBSTR k -3 -1", "substr k 1 1",
      "SET n 12345", "GETRANGE n 1 2", ["SET", "e", ""], "GETRANGE e 0 -1", "GETRANGE e 0 0", "GETRANGE e -1 -1",
      "GETRANGE l 0 1", "GETRANGE k 0", "GETRANGE k", "SUBSTR k 0", "GETRANGE k 0 1 2",
    ] },
  ],
  "strings: SETRANGE": [
    { name: "overwrite, extend, padding", steps: [
      ["SET", "k", "Hello World"], "SETRANGE k 6 Redis", "GET k", "SETRANGE k 20 !", "GET k", "STRLEN k",
      "SETRANGE new 5 abc", "GET new", "SETRANGE k 0 J", "GET k",
      ["SETRANGE", "missing", "0", ""], "EXISTS missing", ["SETRANGE", "missing", "10", ""], "EXISTS missing",
      ["SETRANGE", "k", "100", ""], "STRLEN k", ["SETRANGE", "k", "0", ""],
      "SET n 100", "SETRANGE n 1 5", "GET n", "INCR n",
    ] },
    { name: "offset errors", steps: [
      "SET k v", "SETRANGE k -1 x", "SETRANGE k abc x", "SETRANGE k 1.5 x", "SETRANGE k 536870912 x", "SETRANGE k 536870911 ",
      "SETRANGE k 9223372036854775807 x", "SETRANGE k 9223372036854775808 x", ["SETRANGE", "k", "-1", ""], ["SETRANGE", "k", "536870912", ""],
      ["SETRANGE", "missing", "-1", ""], "GET k", "SETRANGE l 0 x", ["SETRANGE", "l", "0", ""], "SETRANGE k 0", "SETRANGE",
    ] },
  ],
  // Strings that APPEND and SETRANGE make long are kept as bytes changed in place: every string
  // command must read them as it reads any string, across the 4 KiB and 1 MiB steps of that form.
  "strings: written in place": [
    { name: "past 4 KiB", steps: [
      ["SET", "k", "a".repeat(4000)], ["APPEND", "k", "b".repeat(200)], "STRLEN k", "GET k", "GETRANGE k 3995 4005", "GETRANGE k -3 -1",
      "OBJECT ENCODING k", "SETRANGE k 4300 xyz", "STRLEN k", "GETRANGE k 4195 4310", "SETRANGE k 0 start", "GETRANGE k 0 9", "SUBSTR k 4299 4302",
      ["APPEND", "k", "c".repeat(10000)], "STRLEN k", "GETRANGE k 14290 14299", "GET k", "MGET k missing k", "LCS k k LEN",
      "INCR k", "INCRBYFLOAT k 1", "COPY k k2", "APPEND k more", "STRLEN k2", "STRLEN k", "SET k x GET", "GET k", "GETSET k2 y", "GET k2",
      ["SETRANGE", "n", "5000", "tail"], "STRLEN n", "GETRANGE n 4990 5010", "OBJECT ENCODING n", "GETEX n PERSIST", "GETDEL n", "EXISTS n",
      ["SETRANGE", "m", "4096", ""], "EXISTS m", "SET d 5", ["APPEND", "d", "0".repeat(4200)], "STRLEN d", "INCR d", "TYPE d",
    ] },
    { name: "past 1 MiB", steps: [
      "SETRANGE big 1100000 end", "STRLEN big", "GETRANGE big 1099998 1100005", "APPEND big more", "STRLEN big", "GETRANGE big -8 -1",
      "SETRANGE big 2200000 far", "STRLEN big", "GETRANGE big 2199999 2200010", "GETRANGE big 1099990 1100010", "SETRANGE big 5 mid",
      "GETRANGE big 0 10", "OBJECT ENCODING big", "TYPE big", "DEL big", "EXISTS big",
    ] },
  ],
  "strings: INCR / DECR / INCRBY / DECRBY": [
    { name: "basics", steps: [
      "INCR k", "INCR k", "DECR k", "DECR k", "DECR k", "INCRBY k 10", "DECRBY k 20", "GET k", "INCRBY k -5", "DECRBY k -5", "GET k",
      "incrby n 0", "GET n", "SET t 5 EX 100", "INCR t", "TTL t",
    ] },
    { name: "overflow", steps: [
      `SET k ${I64_MAX}`, "INCR k", "INCRBY k 1", "INCRBY k 0", "DECR k", "GET k",
      `SET m ${I64_MIN}`, "DECR m", "DECRBY m 1", "INCR m", "GET m",
      "SET z 0", `INCRBY z ${I64_MAX}`, `DECRBY z ${I64_MAX}`, `DECRBY z ${I64_MAX}`, "GET z",
      "SET y 0", `DECRBY y ${I64_MIN}`, `INCRBY y ${I64_MIN}`, "GET y", `SET w -1`, `DECRBY w ${I64_MIN}`,
      `SET v 9223372036854775808`, "INCR v", `SET u -9223372036854775809`, "DECR u", `INCRBY z 9223372036854775808`,
      `INCRBY z -9223372036854775809`,
    ] },
    { name: "non-integer values", steps: [
      ...[
        "abc", "1.5", " 1", "1 ", "01", "007", "+1", "-0", "0x10", "1e3", "--1", "-", "+", "inf", "9223372036854775807a", "0.0",
      ].flatMap((v) => [["SET", "k", v], ["INCR", "k"], ["GET", "k"]]),
      ["SET", "k", ""], "INCR k", "DECR k", ["SET", "k", "\t1"], "INCR k", ["SET", "k", "1\r\n"], "INCR k",
      ["SET", "k", "-1"], "INCR k", ["SET", "k", "-0001"], "INCR k",
    ] },
    { name: "15 digits and more (read in place up to 15, then exactly)", steps: [
      "SET k 999999999999998", "INCR k", "INCR k", "INCR k", "GET k", "DECR k", "DECR k", "GET k",
      "SET m -999999999999999", "DECR m", "INCR m", "INCRBY m -9007199254740000", "GET m",
      "SET s 9007199254740991", "INCR s", "INCR s", "DECRBY s 3", "GET s", "SET b 123456789012345678", "INCR b", "DECRBY b 5",
      "SET z 000000000000001", "INCR z", "SET d 1234567890123456789", "INCRBY d -1234567890123456789", "GET d",
    ] },
    { name: "non-integer increments", steps: [
      "SET k 1", "INCRBY k abc", "INCRBY k 1.0", "INCRBY k +1", "INCRBY k 01", "INCRBY k -0", ["INCRBY", "k", " 1"],
      ["INCRBY", "k", ""], "DECRBY k 1.5", "DECRBY k +2", ["DECRBY", "k", ""], "GET k",
    ] },
    { name: "wrong type and arity", steps: [
      "INCR l", "DECR l", "INCRBY l 1", "DECRBY l 1", "INCR", "INCR a b", "INCRBY k", "INCRBY k 1 2", "DECRBY", "DECR",
    ] },
  ],
  "strings: INCRBYFLOAT": [
    { name: "formatting", steps: [
      "INCRBYFLOAT f 0.1", "INCRBYFLOAT f 0.2", "GET f", "INCRBYFLOAT g 10.5", "INCRBYFLOAT g 0.1", "INCRBYFLOAT g -10.6",
      "INCRBYFLOAT h 3", "INCRBYFLOAT h 1.0", "INCRBYFLOAT h -4", "GET h", "INCRBYFLOAT i 5.0e3", "INCRBYFLOAT i 2.0e2", "INCRBYFLOAT i 1E2",
      "INCRBYFLOAT j 1e-5", "INCRBYFLOAT j 1e-20", "INCRBYFLOAT k 123456789012345678", "INCRBYFLOAT k 1", "INCRBYFLOAT l 1e17",
      "INCRBYFLOAT m 1e200", "INCRBYFLOAT m -1e200", "INCRBYFLOAT n 0.1", "INCRBYFLOAT n -0.1", "INCRBYFLOAT o -0", "INCRBYFLOAT o -0.0",
      "INCRBYFLOAT p 1.23456789012345678901234", "INCRBYFLOAT q 3.0000000000000000001", "INCRBYFLOAT r .5", "INCRBYFLOAT r 5.",
      "INCRBYFLOAT s +1.5", "INCRBYFLOAT t 0x10", "INCRBYFLOAT u 1.1", "INCRBYFLOAT u 2.2", "INCRBYFLOAT u 3.3",
      "SET v 10", "INCRBYFLOAT v 0.5", "SET w 5.0e3", "INCRBYFLOAT w 1", "SET x 1.50", "INCRBYFLOAT x 0", "SET y -0", "INCRBYFLOAT y 0",
      "INCRBYFLOAT z 1e308", "INCRBYFLOAT z 0",
    ] },
    { name: "overflow, inf, nan, errors", steps: [
      "INCRBYFLOAT k 1e308", "INCRBYFLOAT k 1e308", "GET k", "INCRBYFLOAT k -1e308", "INCRBYFLOAT k -1e308", "INCRBYFLOAT k -1e308",
      "INCRBYFLOAT a inf", "INCRBYFLOAT a -inf", "INCRBYFLOAT a nan", "INCRBYFLOAT a infinity", "INCRBYFLOAT a NaN", "INCRBYFLOAT a 1e309",
      "INCRBYFLOAT a abc", "INCRBYFLOAT a 1.5x", ["INCRBYFLOAT", "a", ""], ["INCRBYFLOAT", "a", " 1"], ["INCRBYFLOAT", "a", "1 "], "EXISTS a",
      "SET s abc", "INCRBYFLOAT s 1", "SET s inf", "INCRBYFLOAT s 1", ["SET", "s", " 1"], "INCRBYFLOAT s 1", "SET s 1e400", "INCRBYFLOAT s 1",
      "INCRBYFLOAT l 1", "INCRBYFLOAT k", "INCRBYFLOAT", "INCRBYFLOAT k 1 2",
    ] },
  ],
  "strings: LCS": [
    { name: "LCS", steps: [
      "MSET key1 ohmytext key2 mynewtext", "LCS key1 key2", "LCS key1 key2 LEN", "LCS key1 key2 IDX", "LCS key1 key2 IDX MINMATCHLEN 4",
      "LCS key1 key2 IDX WITHMATCHLEN", "LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN", "LCS key1 key2 idx withmatchlen minmatchlen 0",
      "LCS key1 key2 LEN IDX", "LCS key1 key2 IDX LEN", "LCS key1 key2 MINMATCHLEN 2", "LCS key1 key2 WITHMATCHLEN", "LCS key1 key2 LEN WITHMATCHLEN",
      "LCS key1 key2 IDX MINMATCHLEN -1", "LCS key1 key2 IDX MINMATCHLEN abc", "LCS key1 key2 IDX MINMATCHLEN", "LCS key1 key2 FOO",
      "LCS key1 missing", "LCS missing1 missing2", "LCS missing1 missing2 LEN", "LCS missing1 missing2 IDX", "LCS key1 key1 IDX",
      "MSET a ABCBDAB b BDCABA", "LCS a b", "LCS a b IDX WITHMATCHLEN", ["SET", "e", ""], "LCS e a IDX",
      "LCS key1 l", "LCS key1", "LCS",
    ] },
  ],
  "keys: DEL / UNLINK / EXISTS / TYPE / TOUCH": [
    { name: "DEL and UNLINK", steps: [
      "MSET a 1 b 2 c 3", "DEL a", "DEL a", "DEL b c missing", "MSET a 1 b 2", "UNLINK a b a", "UNLINK x", "DEL", "UNLINK", "DEL l l", "DBSIZE",
    ] },
    { name: "EXISTS", steps: ["SET a 1", "EXISTS a", "EXISTS a a a", "EXISTS a missing a", "EXISTS missing", "EXISTS", "EXISTS l a"] },
    { name: "TYPE", steps: [
      "SET s v", "TYPE s", "TYPE l", "TYPE st", "TYPE h", "TYPE z", "TYPE x",
      "TYPE missing", "TYPE", "TYPE a b",
    ] },
    { name: "TOUCH", steps: ["MSET a 1 b 2", "TOUCH a", "TOUCH a b missing a", "TOUCH missing", "TOUCH"] },
  ],
  "keys: KEYS": [
    { name: "glob patterns", steps: [
      ["MSET", "a", "1", "b", "1", "c", "1", "d", "1", "ab", "1", "abc", "1", "hello", "1", "hallo", "1", "hxllo", "1", "hllo", "1", "heeeello", "1",
        "*", "1", "a*b", "1", "?", "1", "[x]", "1", "x", "1", "\\", "1", "a\\b", "1", "-", "1", "^", "1", "]", "1", "", "1", "A", "1"],
      "KEYS *", "KEYS ?", "KEYS ??", "KEYS h?llo", "KEYS h*llo", "KEYS h[ae]llo", "KEYS h[^e]llo", "KEYS h[a-b]llo", "KEYS [a-c]", "KEYS [c-a]",
      "KEYS [^a]", "KEYS [!a]", "KEYS \\*", "KEYS a\\*b", "KEYS *\\**", "KEYS \\?", "KEYS \\[x]", "KEYS [[]x]", "KEYS [", "KEYS [a", "KEYS [a-",
      "KEYS a[", "KEYS \\", "KEYS \\\\", "KEYS a\\\\b", "KEYS []]", "KEYS [\\]]", "KEYS [-]", "KEYS [a-]", "KEYS [\\^]", "KEYS missing*", "KEYS A",
      "KEYS a", ["KEYS", ""], "KEYS **", "KEYS *?*", "KEYS [abc", "KEYS [^", "KEYS ab*", "KEYS *c", "KEYS [A-Z]", "keys [a-c]*",
      "KEYS", "KEYS a b",
    ] },
    { name: "nocase and expired keys", steps: ["SET Aa 1", "SET a 1", "SET b 1 PX 20", { sleep: 60 }, "KEYS *", "KEYS a*", "KEYS A*"] },
    { name: "SCAN full cursor", steps: ["MSET k1 1 k2 2 k3 3 other 4", "SCAN 0 COUNT 1000", "SCAN 0 MATCH k* COUNT 1000", "SCAN abc", "SCAN 0 COUNT 0"] },
  ],
  "keys: RENAME / RENAMENX": [
    { name: "RENAME", steps: [
      "SET a 1", "RENAME a b", "GET a", "GET b", "RENAME b b", "GET b", "RENAME missing x", "RENAME missing missing",
      "SET c 3", "RENAME b c", "GET c", "SET t v EX 100", "RENAME t t2", "TTL t2", "RENAME l c", "TYPE c", "RENAME a", "RENAME",
      "RENAME c d e",
    ] },
    { name: "RENAMENX", steps: [
      "SET a 1", "SET b 2", "RENAMENX a b", "RENAMENX a c", "GET c", "RENAMENX c c", "RENAMENX missing x", "RENAMENX missing missing",
      "SET t v EX 100", "RENAMENX t t2", "TTL t2", "RENAMENX a", "RENAMENX",
    ] },
  ],
  "keys: COPY / MOVE": [
    { name: "COPY", steps: [
      "SET a 1", "COPY a b", "GET b", "COPY a b", "COPY a b REPLACE", "SET a 2", "COPY a b replace", "GET b", "COPY a a", "COPY missing x",
      "COPY a b DB 1", "COPY a c DB 1", "SELECT 1", "GET c", "SELECT 0", "COPY a c DB 1", "COPY a c DB 1 REPLACE", "COPY a a DB 0",
      "COPY a c DB 16", "COPY a c DB -1", "COPY a c DB abc", "COPY a c DB", "COPY a c FOO", "COPY a c REPLACE REPLACE",
      "SET t v EX 100", "COPY t t2", "TTL t2", "COPY l l2", "COPY a", "COPY",
    ] },
    { name: "MOVE", steps: [
      "SET a 1", "MOVE a 1", "EXISTS a", "SELECT 1", "GET a", "SET b x", "SELECT 0", "SET b y", "MOVE b 1", "GET b", "MOVE missing 1",
      "SET c 1", "MOVE c 0", "MOVE c 16", "MOVE c -1", "MOVE c abc", "MOVE c", "MOVE", "SET t v EX 100", "MOVE t 2", "SELECT 2", "TTL t",
    ] },
  ],
  "keys: EXPIRE family": [
    { name: "EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT", steps: [
      "SET k v", "EXPIRE k 100", "TTL k", "PEXPIRE k 200000", "TTL k", `EXPIREAT k ${FAR_SEC}`, "EXPIRETIME k", `PEXPIREAT k ${FAR_MS}`,
      "PEXPIRETIME k", "EXPIRE missing 10", "PEXPIRE missing 10", `EXPIREAT missing ${FAR_SEC}`, "PEXPIREAT missing 1", "expire k 300", "TTL k",
    ] },
    { name: "times that overflow 64-bit milliseconds are refused, exactly at the bounds", steps: [
      "SET foo bar", "EXPIRE foo -9223372036854776", "EXPIRE nokey -9223372036854776", "EXPIRE foo 9223372036854775", "EXPIRE foo 9223372036854776",
      "EXPIRE foo -9223372036854775", "SET foo bar", "PEXPIRE foo 9223372036854775807", "PEXPIRE foo 9223372036854770000", "PEXPIRE foo -9223372036854775808",
      "SET foo bar", "EXPIREAT foo 9223372036854775", "SET foo bar", "EXPIREAT foo 9223372036854776", "PEXPIREAT foo 9223372036854775807", "EXISTS foo",
    ] },
    { name: "non-positive and past times delete", steps: [
      "SET a v", "EXPIRE a 0", "EXISTS a", "SET a v", "EXPIRE a -10", "EXISTS a", "SET a v", "PEXPIRE a -1", "EXISTS a",
      "SET a v", `EXPIREAT a ${PAST_SEC}`, "EXISTS a", "SET a v", "PEXPIREAT a 0", "EXISTS a", "SET b v", "PEXPIRE b 30", { sleep: 80 }, "EXISTS b",
    ] },
    { name: "NX XX GT LT", steps: [
      "SET k v", "EXPIRE k 100 XX", "TTL k", "EXPIRE k 100 GT", "TTL k", "EXPIRE k 100 LT", "TTL k", "PERSIST k", "EXPIRE k 100 NX", "TTL k",
      "EXPIRE k 200 NX", "TTL k", "EXPIRE k 200 XX", "TTL k", "EXPIRE k 100 GT", "EXPIRE k 300 GT", "TTL k", "EXPIRE k 400 LT", "EXPIRE k 150 LT",
      "TTL k", "PEXPIRE k 100000 lt", "TTL k", `EXPIREAT k ${FAR_SEC} GT`, "EXPIRETIME k", `PEXPIREAT k ${FAR_MS} NX`, `PEXPIREAT k ${FAR_MS} XX`,
      "EXPIRE missing 10 NX", "EXPIRE missing 10 GT", "SET p v", "EXPIRE p 10 LT", "TTL p", "PERSIST p", "EXPIRE p 0 GT", "EXISTS p",
    ] },
    { name: "invalid combinations and times", steps: [
      "SET k v", "EXPIRE k 100 NX XX", "EXPIRE k 100 GT LT", "EXPIRE k 100 NX GT", "EXPIRE k 100 NX LT", "EXPIRE k 100 XX GT", "EXPIRE k 100 FOO",
      "EXPIRE k 100 NX NX", "EXPIRE k abc", "EXPIRE k 1.5", ["EXPIRE", "k", ""], "EXPIRE k 9223372036854775807", "EXPIRE k 9223372036854775",
      "EXPIRE k 9223372036854776", "PEXPIRE k 9223372036854775807", "PEXPIRE k 9223372036854775806", "EXPIREAT k 9223372036854775807",
      "PEXPIREAT k 9223372036854775807", "EXPIRE k -9223372036854775808", "PEXPIRE k -9223372036854775808", "EXISTS k", "SET k v",
      "EXPIRE k", "EXPIRE", "PEXPIRE k", "EXPIREAT k", "PEXPIREAT", "TTL k",
    ] },
    { name: "TTL / PTTL / EXPIRETIME / PEXPIRETIME / PERSIST", steps: [
      "TTL missing", "PTTL missing", "EXPIRETIME missing", "PEXPIRETIME missing", "SET k v", "TTL k", "PTTL k", "EXPIRETIME k", "PEXPIRETIME k",
      "PERSIST k", "PERSIST missing", "EXPIRE k 100", "PERSIST k", "TTL k", "PERSIST k", // TTL rounds to the nearest second; keep clear of the .5 boundaries so elapsed ms do not matter
      "PEXPIRE k 1600", "TTL k", "PEXPIRE k 1400", "TTL k", "PEXPIRE k 600", "TTL k", "PEXPIRE k 400", "TTL k", "TTL", "TTL a b", "PTTL", "EXPIRETIME", "PERSIST", "PERSIST a b",
      { c: "PEXPIRE k 100000", rule: rules.exact }, { c: "EXPIRETIME k", rule: rules.anyInt },
    ] },
  ],
  "keys: SELECT / SWAPDB / DBSIZE / FLUSHDB / FLUSHALL": [
    { name: "SELECT", steps: [
      "SET k db0", "SELECT 1", "GET k", "SET k db1", "SELECT 15", "DBSIZE", "SELECT 16", "SELECT -1", "SELECT abc", "SELECT 1.5", ["SELECT", ""],
      "SELECT 01", "GET k", "SELECT +0", "GET k", "SELECT 9223372036854775808", "SELECT", "SELECT 1 2", "SELECT 0", "GET k",
    ] },
    { name: "SWAPDB", steps: [
      "SET k db0", "SELECT 1", "SET k db1", "SET only1 x", "SWAPDB 0 1", "GET k", "EXISTS only1", "SELECT 0", "GET k", "EXISTS only1",
      "SWAPDB 0 0", "GET k", "SWAPDB 0 16", "SWAPDB -1 0", "SWAPDB abc 0", "SWAPDB 0 abc", "SWAPDB 0", "SWAPDB", "SWAPDB 0 1 2",
    ] },
    { name: "DBSIZE / FLUSHDB / FLUSHALL", steps: [
      "DBSIZE", "MSET a 1 b 2", "DBSIZE", "SELECT 1", "SET c 3", "DBSIZE", "FLUSHDB", "DBSIZE", "SELECT 0", "DBSIZE", "FLUSHDB ASYNC", "DBSIZE",
      "SET a 1", "FLUSHDB SYNC", "DBSIZE", "SET a 1", "FLUSHDB async", "FLUSHDB FOO", "FLUSHDB SYNC ASYNC", "SET a 1", "SELECT 2", "SET b 1",
      "FLUSHALL SYNC", "DBSIZE", "SELECT 0", "DBSIZE", "SET a 1", "FLUSHALL ASYNC", "DBSIZE", "FLUSHALL FOO", "FLUSHALL SYNC ASYNC",
      "FLUSHALL sync", "DBSIZE a", "FLUSHALL", "DBSIZE",
    ] },
  ],
  "server: DEBUG DIGEST / DIGEST-VALUE": [
    { name: "the same data gives redis-server's digests, for every type, encoding, TTL and database", steps: [
      "DEBUG DIGEST", "DEBUG DIGEST-VALUE missing", "DEBUG DIGEST-VALUE", "SET s hello", "SET n 12345", "SET neg -7", ["SET", "bin", ALL_BYTES],
      "RPUSH l a b c 1 2", ["RPUSH", "biglist", ...Array.from({ length: 300 }, (_, i) => `e${i}`)], "SADD si 3 1 2", "SADD st x y 3",
      ["SADD", "bigset", ...Array.from({ length: 600 }, (_, i) => `m${i}`)], "HSET h f v g 1", ["HSET", "bighash", ...Array.from({ length: 200 }, (_, i) => [`f${i}`, "v".repeat(i)]).flat()],
      "ZADD z 1.5 a 2 b -inf c 1e300 d 0.1 e 3.14159e-7 f inf g -0 h", ["ZADD", "bigz", ...Array.from({ length: 200 }, (_, i) => [String(i / 7), `m${i}`]).flat()], "ZADD bigz -0 neg0",
      "XADD x 1-1 f v g w", "XADD x 2-5 a b", "XADD x 3-0 f v g w", "XDEL x 2-5", "XADD gone 1-1 a b", "XDEL gone 1-1", "XGROUP CREATE x g 0",
      "SET e v EX 1000", "PEXPIRE l 100000", "SELECT 3", "SET k3 v", "SELECT 0",
      "DEBUG DIGEST", "DEBUG DIGEST-VALUE s n neg bin l biglist si st bigset h bighash z bigz x gone e missing",
      "PERSIST e", "DEBUG DIGEST-VALUE e", "MOVE k3 0", "DEBUG DIGEST", "FLUSHALL", "DEBUG DIGEST", "DEBUG digest extra",
    ] },
  ],
  "server: MODULE, and the cluster commands of a server without cluster support": [
    { name: "MODULE LIST is empty, LOAD/UNLOAD are protected, READONLY/READWRITE/ASKING refused", steps: [
      "MODULE LIST", "MODULE HELP", "MODULE", "MODULE FOO", "MODULE LOAD /x.so", "MODULE LOADEX /x.so", "MODULE UNLOAD foo", "MODULE UNLOAD",
      "MODULE LIST x", "READONLY", "READWRITE", "ASKING", "READONLY x", "HELLO 3", "MODULE LIST", "HELLO 2",
    ] },
  ],
  "connection: PING / ECHO": [
    { name: "PING and ECHO", steps: [
      "PING", "PING hello", ["PING", ""], "PING a b", "ping", "ECHO hi", ["ECHO", ""], ["ECHO", ALL_BYTES], ["ECHO", CRLF_VALUE], "ECHO", "ECHO a b", "TIME",
    ] },
  ],
  "server: CONFIG SET refusals": [
    { name: "protected and immutable parameters, checked name by name before any value", steps: [
      "CONFIG SET dir /tmp", "CONFIG SET dbfilename authorized_keys", "CONFIG SET dbfilename ../x.rdb", "CONFIG SET hz 10 dir /tmp",
      "CONFIG SET dir /tmp hz abc", "CONFIG SET hz abc daemonize yes", "CONFIG SET hz abc nosuch 1", "CONFIG SET nosuch 1 dir /tmp",
      "CONFIG SET dir /tmp nosuch 1", "CONFIG SET appendfilename x.aof", "CONFIG SET appenddirname d", ["CONFIG", "SET", "replicaof", "127.0.0.1 1"],
      ["CONFIG", "SET", "slaveof", "no one"], "CONFIG SET enable-protected-configs yes", "CONFIG SET hz 10 hz 11", "CONFIG GET hz",
      "CLIENT PAUSE abc foo", "CLIENT PAUSE abc all", "CLIENT PAUSE -1",
    ] },
    { name: "hz outside 1..500 is accepted and kept within them (a server with hz 0 must go on)", steps: [
      "CONFIG SET hz 0", "CONFIG GET hz", "PING", "CONFIG SET hz 100000", "CONFIG GET hz", "CONFIG SET hz 10", "CONFIG GET hz",
    ] },
  ],
  "connection: arity and unknown commands": [
    { name: "wrong number of arguments", steps: [
      "GET", "GET a b", "SET", "SET a", "DEL", "UNLINK", "EXISTS", "TYPE", "INCR", "DECR", "INCRBY a", "MGET", "MSET", "MSET a", "MSETNX",
      "APPEND a", "STRLEN", "GETRANGE a 1", "SETRANGE a 1", "GETSET a", "GETDEL", "GETEX", "SETNX a", "SETEX a 1", "PSETEX a 1", "LCS a",
      "KEYS", "RENAME a", "RENAMENX a", "COPY a", "MOVE a", "TOUCH", "EXPIRE a", "PEXPIRE a", "EXPIREAT a", "PEXPIREAT a", "TTL", "PTTL",
      "PERSIST", "SELECT", "SWAPDB 1", "DBSIZE x", "PING a b", "ECHO", "INCRBYFLOAT a", "get", "Get a b c", "CONFIG", "CONFIG GET",
      "CONFIG SET maxmemory",
    ] },
    { name: "unknown commands", steps: [
      "FOO", "foo a b", "FOO a b c d e f g h i j k l m n o p q r s t", ["FOO", "x".repeat(200)], ["FOO", "a".repeat(100), "b".repeat(100), "c"], ["X".repeat(200), "a"], ["FOO", ""], ["FOO", "a b", "c'd"],
      ["", "a"], [""], ["FOO\r\nBAR"], ["FOO", "\x00\x01\xff"], "CONFIG FOO", "CONFIG foo bar", "CLIENT FOO", ["GET\x00", "a"],
    ] },
    { name: "empty strings", steps: [
      ["SET", "", ""], ["GET", ""], ["EXISTS", ""], ["STRLEN", ""], ["APPEND", "", "x"], ["GET", ""], ["DEL", ""], ["SET", "k", ""], ["GET", "k"],
      ["STRLEN", "k"], ["TYPE", "k"], ["MSET", "", "a"], ["RENAME", "", "k"], ["GET", "k"],
    ] },
    { name: "binary values", steps: [
      ["SET", "bin", ALL_BYTES], ["GET", "bin"], ["STRLEN", "bin"], ["GETRANGE", "bin", "250", "-1"], ["APPEND", "bin", ALL_BYTES], ["STRLEN", "bin"],
      ["SET", ALL_BYTES, "v"], ["GET", ALL_BYTES], ["EXISTS", ALL_BYTES], ["SET", "crlf", CRLF_VALUE], ["GET", "crlf"], ["MGET", "crlf", "bin"],
      ["SET", "\r\n", "\r\n"], ["GET", "\r\n"], ["SETRANGE", "crlf", "2", "\x00\r\n"], ["GET", "crlf"], ["KEYS", "\r*"],
      ["SET", "nul\x00key", "\x00"], ["GET", "nul\x00key"], ["GET", "nul"], ["LCS", "bin", "crlf"],
    ] },
  ],
  protocol: [
    { name: "a NUL byte before a line's end hides the end: the line waits, then is too big", steps: [
      { raw: "\x00\x00\x00\r\nPING\r\n", read: "pending" },
      { raw: "a".repeat(70000), read: "close" },
    ] },
    { name: "a NUL byte in a multibulk count line hides its CR", steps: [
      { raw: "*1\x00\r\n$4\r\nPING\r\nPING\r\n", read: "pending" },
      { raw: "b".repeat(70000), read: "close" },
    ] },
    { name: "a NUL byte in a bulk length line hides its CR", steps: [
      { raw: "*1\r\n$4\x00\r\nPING\r\nPING\r\n", read: "pending" },
      { raw: "c".repeat(70000), read: "close" },
    ] },
    { name: "inline commands", steps: [
      { raw: "PING\r\n", read: 1 },
      { raw: "SET k \"hello world\"\r\n", read: 1 },
      { raw: "GET k\r\n", read: 1 },
      { raw: "SET k2 'single quoted'\r\nGET k2\r\n", read: 2 },
      { raw: "SET k3 \"esc\\x41\\n\\t\\\\\\\"\"\r\nGET k3\r\n", read: 2 },
      { raw: "SET k4 'it\\'s'\r\nGET k4\r\n", read: 2 },
      { raw: "  GET    k   \r\n", read: 1 },
      { raw: "GET k\n", read: 1 },
      { raw: "\r\n\r\nPING\r\n", read: 1 },
      { raw: "ECHO \"\"\r\n", read: 1 },
      { raw: "SET e \"\"\r\nSTRLEN e\r\n", read: 2 },
      { raw: "FOO bar\r\n", read: 1 },
      { raw: "EXISTS k k2 k3\r\n", read: 1 },
    ] },
    { name: "inline unbalanced quotes", steps: [{ raw: "SET k \"abc\r\n", read: "close" }] },
    { name: "inline unbalanced single quote", steps: [{ raw: "PING\r\nECHO 'abc\r\nPING\r\n", read: "close" }] },
    { name: "inline closing quote followed by char", steps: [{ raw: "ECHO \"abc\"def\r\n", read: "close" }] },
    { name: "multibulk and inline mixed, pipelined", steps: [{ raw: "*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n", read: 3 }] },
    { name: "split multibulk across writes", steps: [
      { raw: "*3\r\n$3\r\nSET\r\n$1\r\nx", read: "pending" }, { raw: "\r\n$3\r\nabc", read: "pending" }, { raw: "\r\n", read: 1 }, "GET x",
    ] },
    { name: "empty and negative multibulk are ignored", steps: [{ raw: "*0\r\n*-1\r\n*-5\r\nPING\r\n", read: 1 }] },
    { name: "*abc", steps: [{ raw: "*abc\r\n", read: "close" }] },
    { name: "*1x", steps: [{ raw: "*1x\r\n", read: "close" }] },
    { name: "* with no number", steps: [{ raw: "*\r\n", read: "close" }] },
    { name: "huge multibulk count", steps: [{ raw: "*2147483648\r\n", read: "close" }] },
    { name: "$-5 bulk length", steps: [{ raw: "*3\r\n$-5\r\n", read: "close" }] },
    { name: "$abc bulk length", steps: [{ raw: "*1\r\n$abc\r\n", read: "close" }] },
    { name: "bulk length above 512MB", steps: [{ raw: "*1\r\n$536870913\r\n", read: "close" }] },
    { name: "expected $ got x", steps: [{ raw: "*3\r\n$3\r\nSET\r\nx\r\n", read: "close" }] },
    { name: "expected $ got :", steps: [{ raw: "*1\r\n:1\r\n", read: "close" }] },
    { name: "bulk payload not followed by CRLF (Redis skips 2 bytes unchecked)", steps: [{ raw: "*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n", read: 2 }] },
    { name: "error after valid pipelined commands", steps: [{ raw: "PING\r\n*1\r\n$4\r\nPING\r\n*x\r\nPING\r\n", read: "close" }] },
    { name: "incomplete command then nothing", steps: [{ raw: "*3\r\n$3\r\nSET\r\nx", read: "pending" }] },
    { name: "too big inline request", steps: [{ raw: "a".repeat(70 * 1024), read: "close" }] },
    { name: "too big mbulk header", steps: [{ raw: "*" + "1".repeat(70 * 1024), read: "close" }] },
    { name: "top-level $ is an inline command", steps: [{ raw: "$3\r\nfoo\r\n", read: 2 }] },
  ],
  "RESP3: HELLO": [
    { name: "HELLO 2 / HELLO 3", steps: ["HELLO", "HELLO 2", "HELLO 3", "HELLO", "HELLO 2", "PING", "CLIENT ID"] },
    { name: "HELLO errors and options", steps: [
      "HELLO 4", "HELLO 1", "HELLO abc", "HELLO 0", "HELLO -1", "HELLO 3 FOO", "HELLO 3 SETNAME", "HELLO 3 AUTH default",
      "HELLO 3 SETNAME myname", "CLIENT GETNAME", "HELLO 2 SETNAME with space", "HELLO 2 AUTH default whatever", "HELLO 2 AUTH nouser pw",
      "CLIENT GETNAME",
    ] },
  ],
  "RESP3: typed replies": [
    { name: "after HELLO 3", steps: [
      "HELLO 3", "GET missing", "SET k v", "GET k", "MGET k missing", "TTL k", "TTL missing", "PTTL missing", "EXISTS k missing", "DBSIZE",
      "SET k v GET", "SET n v NX GET", "GETDEL missing", "GETEX missing", "TYPE k", "PING", "PING x", "ECHO x", "INCRBYFLOAT f 1.5",
      "SET t v EX 100", "TTL t", "EXPIRETIME missing", "CONFIG GET maxmemory", "CONFIG GET databases", "CONFIG GET nosuchconfig", "KEYS *",
      "SCAN 0 COUNT 1000", "MSET a 1 b 2", "MSETNX a 1", "COPY a z", "SET k2 ohmytext", "SET k3 mynewtext", "LCS k2 k3", "LCS k2 k3 LEN",
      "LCS k2 k3 IDX MINMATCHLEN 2 WITHMATCHLEN", "INCR n2", "GET nosuch", "FOO", "GET", "SET k v NX", "SET k v XX GET", "LCS missing missing IDX",
      "HELLO 2", "GET missing", "CONFIG GET maxmemory", "LCS k2 k3 IDX",
    ] },
  ],
  Bitmaps: [
    { name: "SETBIT and GETBIT", steps: [
      "SETBIT b 7 1", "GET b", "GETBIT b 7", "GETBIT b 6", "GETBIT b 100", "SETBIT b 7 1", "SETBIT b 7 0", "GET b", "STRLEN b",
      "SETBIT b 100 1", "STRLEN b", "GET b", "SETBIT b 0 1", "GETBIT b 0", "SETBIT b -1 1", "SETBIT b x 1", "SETBIT b 1 2", "SETBIT b 1 -1",
      "SETBIT b 1 x", "SETBIT b 4294967296 1", "SETBIT b 4294967295 0", "GETBIT b -1", "GETBIT b x", "GETBIT missing 3", "GETBIT b 4294967296",
      "SET s abc", "SETBIT s 1 1", "GET s", "SET n 12", "SETBIT n 6 1", "GET n", "RPUSH l a", "SETBIT l 1 1", "GETBIT l 1", "SETBIT big 40000 1",
      "STRLEN big", "GETBIT big 40000", "SETBIT big 39999 1", "BITCOUNT big", "OBJECT ENCODING b",
    ] },
    { name: "BITCOUNT and BITPOS", steps: [
      "SET s foobar", "BITCOUNT s", "BITCOUNT s 0 0", "BITCOUNT s 1 1", "BITCOUNT s 1 1 BYTE", "BITCOUNT s 5 30 BIT", "BITCOUNT s -1 -1",
      "BITCOUNT s -5 -1 BIT", "BITCOUNT s -1 -5", "BITCOUNT s -1 -5 FOO", "BITCOUNT s 0 -1 FOO", "BITCOUNT s 0", "BITCOUNT s 0 1 BIT x",
      "BITCOUNT s a 1", "BITCOUNT s 0 b", "BITCOUNT s 100 200", "BITCOUNT s 3 1", "BITCOUNT missing", "BITCOUNT missing 0 1 FOO",
      "SET z ''", "BITCOUNT z", "SET ones \xff\xf0\x00", "BITPOS ones 0", "BITPOS ones 1", "BITPOS ones 0 1", "BITPOS ones 1 2",
      "BITPOS ones 1 2 -1", "BITPOS ones 0 0 0", "BITPOS ones 0 0 -1 BIT", "BITPOS ones 1 7 15 BIT", "BITPOS ones 0 3 11 BIT", "BITPOS ones 0 12 BIT",
      "BITPOS ones 1 20 23 BIT", "BITPOS ones 0 0 7 BIT", "BITPOS ones 2", "BITPOS ones x", "BITPOS ones 1 a", "BITPOS ones 1 0 b",
      "BITPOS ones 1 0 1 FOO", "BITPOS ones 1 0 1 BIT x", "BITPOS missing 0", "BITPOS missing 1", "SET full \xff\xff", "BITPOS full 0",
      "BITPOS full 0 0 -1", "BITPOS full 0 0 15 BIT", "BITPOS full 1 5 2", "BITPOS z 0", "BITPOS z 1", "RPUSH l a", "BITPOS l 1", "BITCOUNT l",
    ] },
    { name: "BITFIELD and BITFIELD_RO", steps: [
      "BITFIELD bf SET i8 0 100 GET i8 0 GET u4 0 GET u4 4 GET i4 4", "GET bf", "BITFIELD bf INCRBY i8 0 100", "BITFIELD bf OVERFLOW SAT INCRBY i8 0 100",
      "BITFIELD bf OVERFLOW FAIL INCRBY i8 0 100 INCRBY i8 0 -1", "BITFIELD bf OVERFLOW WRAP INCRBY u8 8 300 GET u8 8", "BITFIELD bf SET u8 #2 255 GET u8 #2",
      "BITFIELD bf OVERFLOW SAT SET u8 16 300 SET i8 16 -300 GET i8 16", "BITFIELD bf OVERFLOW FAIL SET u8 16 -1 SET i8 16 200 SET i8 16 -128",
      "BITFIELD bf SET i64 0 -1 GET i64 0 GET u63 0 GET u63 1", "BITFIELD bf INCRBY i64 0 -9223372036854775807 INCRBY i64 0 -5",
      "BITFIELD bf OVERFLOW SAT INCRBY i64 0 -9223372036854775808", "BITFIELD bf OVERFLOW WRAP INCRBY i64 0 9223372036854775807",
      "BITFIELD bf SET u63 3 9223372036854775807 INCRBY u63 3 1 GET u63 3", "BITFIELD bf OVERFLOW SAT INCRBY u63 3 -9223372036854775808",
      "BITFIELD bf SET i5 100 -16 GET i5 100 INCRBY i5 100 -1 OVERFLOW SAT INCRBY i5 100 -1", "STRLEN bf", "GET bf",
      "BITFIELD bf GET i65 0", "BITFIELD bf GET u64 0", "BITFIELD bf GET x8 0", "BITFIELD bf GET i0 0", "BITFIELD bf GET u8 -1", "BITFIELD bf GET u8 #-1",
      "BITFIELD bf GET u8 4294967296", "BITFIELD bf SET u8 0 x", "BITFIELD bf SET u8 0", "BITFIELD bf FOO", "BITFIELD bf OVERFLOW", "BITFIELD bf OVERFLOW X",
      "BITFIELD bf", "BITFIELD missing GET u8 0", "EXISTS missing", "BITFIELD missing OVERFLOW FAIL INCRBY u2 0 5", "GET missing",
      "BITFIELD_RO bf GET u8 0 GET i16 4", "BITFIELD_RO bf SET u8 0 1", "BITFIELD_RO bf INCRBY u8 0 1", "BITFIELD_RO missing GET u8 0",
      "RPUSH l a", "BITFIELD l GET u8 0", "BITFIELD l SET u8 0 1", "BITFIELD new SET u8 100 0", "STRLEN new", "BITFIELD new SET u8 100 0",
    ] },
    { name: "BITOP", steps: [
      "SET a \x0f\xff", "SET b \xf0", "BITOP AND d a b", "GET d", "BITOP OR d a b", "GET d", "BITOP XOR d a b missing", "GET d",
      "BITOP NOT d a", "GET d", "BITOP NOT d a b", "BITOP FOO d a", "BITOP AND d missing", "EXISTS d", "BITOP AND d missing",
      "RPUSH l x", "BITOP OR d a l", "BITOP and d2 a", "GET d2", "BITOP", "BITOP AND d", "SET d x EX 100", "BITOP OR d a", "TTL d",
    ] },
  ],
  Geo: [
    { name: "GEOADD, GEOPOS, GEODIST, GEOHASH", steps: [
      "GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania", "GEOPOS Sicily Palermo Catania NonExisting",
      "GEODIST Sicily Palermo Catania", "GEODIST Sicily Palermo Catania km", "GEODIST Sicily Palermo Catania MI", "GEODIST Sicily Palermo Catania ft",
      "GEODIST Sicily Palermo Catania yards", "GEODIST Sicily Palermo nope", "GEODIST nokey a b", "GEODIST Sicily Palermo Catania km x",
      "GEOHASH Sicily Palermo Catania nope", "GEOHASH nokey a", "GEOPOS nokey a", "ZRANGE Sicily 0 -1 WITHSCORES",
      "GEOADD Sicily 13.361389 38.115556 Palermo", "GEOADD Sicily CH 13.5 38.1 Palermo", "GEOADD Sicily NX 1 1 Palermo 2 2 New",
      "GEOADD Sicily XX CH 3 3 Palermo 4 4 Other", "GEOADD Sicily NX XX 1 1 a", "GEOADD Sicily 1 1", "GEOADD Sicily 200 10 x",
      "GEOADD Sicily 10 86 x", "GEOADD Sicily 10 -85.06 x", "GEOADD Sicily abc 10 x", "GEOADD Sicily 10 nan x", "GEOADD Sicily 10",
      "GEOADD Sicily inf 10 x", "GEOADD Sicily -0 -inf x", "GEOADD Sicily 1e300 0 x",
      "GEOADD edge 180 85.05112878 ne -180 -85.05112878 sw 0 0 zero -0.0000001 0.0000001 tiny", "GEOPOS edge ne sw zero tiny",
      "GEOHASH edge ne sw zero tiny", "GEODIST edge ne sw", "GEODIST edge zero tiny", "GEOADD edge 10 20 same 10 50 same2", "GEODIST edge same same2",
      "SET str x", "GEOADD str 1 1 a", "GEOPOS str a", "GEODIST str a b", "GEOHASH str a", "GEOPOS Sicily", "GEOHASH Sicily",
      "HELLO 3", "GEOPOS Sicily Palermo nope", "GEODIST Sicily Palermo Catania", "HELLO 2",
    ] },
    { name: "GEOSEARCH, GEOSEARCHSTORE and the GEORADIUS family: options, replies and errors", steps: [
      "GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 12.758489 38.788135 edge1 17.241510 38.788135 edge2",
      "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km", "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC WITHDIST WITHCOORD WITHHASH",
      "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km DESC WITHDIST", "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 300 mi COUNT 2",
      "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 1000 1000 ft", "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1000 km COUNT 1 ANY",
      "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1000 km COUNT 3 ANY DESC WITHDIST", "GEOSEARCH Sicily FROMMEMBER nope BYRADIUS 1 km",
      "GEOSEARCH Sicily BYRADIUS 1 km", "GEOSEARCH Sicily FROMLONLAT 15 37", "GEOSEARCH Sicily FROMLONLAT 15 37 FROMMEMBER Palermo BYRADIUS 1 km",
      "GEOSEARCH Sicily FROMMEMBER Palermo FROMLONLAT 15 37 BYRADIUS 1 km", "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km BYBOX 1 1 km",
      "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1 km BYRADIUS 1 km", "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km ANY",
      "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km COUNT 0", "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km COUNT -1",
      "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km COUNT x", "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km COUNT",
      "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS -1 km", "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS x km", "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 yd",
      "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX -1 1 km", "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX x 1 km", "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 x km",
      "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1 yd", "GEOSEARCH Sicily FROMLONLAT 200 37 BYRADIUS 1 km", "GEOSEARCH Sicily FROMLONLAT 15 x BYRADIUS 1 km",
      "GEOSEARCH Sicily FROMLONLAT inf 37 BYRADIUS 1 km", "GEOSEARCH Sicily FROMLONLAT -0 86 BYRADIUS 1 km",
      "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km STOREDIST", "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km STORE x", "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km FOO",
      "geosearch Sicily BYRADIUS 1 km", "GEOSEARCH nokey FROMMEMBER x BYRADIUS 1 km", "GEOSEARCH nokey FROMLONLAT 1 1 BYBOX 1 1 m WITHDIST",
      "GEOSEARCH nokey FROMMEMBER x FROMLONLAT 1 1 BYRADIUS 1 km", "GEOSEARCH Sicily FROMLONLAT 0 0 BYRADIUS 1 m", "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 0 m",
      "GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km", "ZRANGE dst 0 -1 WITHSCORES", "OBJECT ENCODING dst",
      "GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST ASC COUNT 1", "ZRANGE dst 0 -1 WITHSCORES",
      "GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km WITHDIST", "GEOSEARCHSTORE dst Sicily FROMLONLAT 0 0 BYRADIUS 1 m", "EXISTS dst",
      "SET dst x", "GEOSEARCHSTORE dst nokey FROMLONLAT 0 0 BYRADIUS 1 m", "EXISTS dst", "GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km STORE x",
      "GEORADIUS Sicily 15 37 200 km", "GEORADIUS Sicily 15 37 200 km WITHDIST WITHCOORD WITHHASH DESC", "GEORADIUS Sicily 15 37 200 km COUNT 1",
      "GEORADIUS Sicily 15 37 200 km STORE dst", "ZRANGE dst 0 -1 WITHSCORES", "GEORADIUS Sicily 15 37 200 km STOREDIST dst", "ZRANGE dst 0 -1 WITHSCORES",
      "GEORADIUS Sicily 15 37 200 km STORE dst WITHDIST", "GEORADIUS Sicily 15 37 200 km STORE", "GEORADIUS Sicily 15 37 200 km STORE a STOREDIST b", "ZRANGE b 0 -1",
      "GEORADIUS Sicily 15 37 200 km FROMLONLAT 1 1", "GEORADIUS Sicily 15 37 200", "GEORADIUS Sicily 200 37 200 km", "GEORADIUS Sicily 15 37 -2 km",
      "GEORADIUS nokey 15 37 200 km", "GEORADIUS nokey 15 37 200 km STORE dst", "GEORADIUS_RO Sicily 15 37 200 km WITHDIST", "GEORADIUS_RO Sicily 15 37 200 km STORE dst",
      "GEORADIUSBYMEMBER Sicily Palermo 200 km WITHDIST", "GEORADIUSBYMEMBER Sicily nope 200 km", "GEORADIUSBYMEMBER Sicily nope x km", "GEORADIUSBYMEMBER Sicily Palermo x km",
      "GEORADIUSBYMEMBER nokey nope x km", "GEORADIUSBYMEMBER nokey nope 1 km STORE dst", "GEORADIUSBYMEMBER nokey nope 1 km FOO",
      "GEORADIUSBYMEMBER Sicily Palermo 500 km STOREDIST dst COUNT 2 DESC", "ZRANGE dst 0 -1 WITHSCORES", "GEORADIUSBYMEMBER_RO Sicily Palermo 500 km ASC",
      "GEORADIUSBYMEMBER_RO Sicily Palermo 500 km STOREDIST dst", "SET str x", "GEOSEARCH str FROMLONLAT 1 1 BYRADIUS 1 km", "GEORADIUS str 1 1 1 km",
      "COMMAND GETKEYS GEORADIUS Sicily 15 37 200 km STORE a STOREDIST b", "COMMAND GETKEYS GEORADIUSBYMEMBER Sicily x 1 km", "COMMAND GETKEYS GEOSEARCHSTORE a b x",
      "HELLO 3", "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC WITHDIST WITHCOORD WITHHASH", "GEOSEARCH nokey FROMLONLAT 15 37 BYRADIUS 200 km", "HELLO 2",
    ] },
    { name: "search walks: random points near the poles, the date line and the equator, every radius", steps: geoWalkSteps() },
  ],
  HyperLogLog: [
    { name: "PFADD, PFCOUNT, PFMERGE and PFDEBUG: bytes, cache, encodings and errors", steps: [
      "PFADD h", "GET h", "PFCOUNT h", "PFADD h a b c", "GET h", "PFADD h a b c", "PFADD h ''", ["PFADD", "h", ""], "GETRANGE h 15 15",
      "PFCOUNT h", "GETRANGE h 15 15", "GET h", "PFADD h a", "GETRANGE h 15 15", "PFADD h d", "GETRANGE h 15 15", "OBJECT ENCODING h",
      "PFCOUNT missing", "PFCOUNT missing h", "PFCOUNT missing missing2", "PFDEBUG ENCODING h", "PFDEBUG DECODE h", "PFDEBUG GETREG missing",
      "PFDEBUG FOO h", "PFDEBUG FOO missing", "PFDEBUG ENCODING", "PFDEBUG TODENSE h", "PFDEBUG TODENSE h", "PFDEBUG ENCODING h", "PFDEBUG DECODE h",
      "PFCOUNT h", "GET h", "PFADD h x y z", "PFCOUNT h", "PFADD s 1 2 3", "PFMERGE m s h", "PFDEBUG ENCODING m", "PFCOUNT m", "GET m",
      "PFMERGE m2 s missing", "GET m2", "PFMERGE m3", "GET m3", "PFMERGE s s", "GET s", "PFMERGE s", "EXISTS nothere", "PFMERGE nothere nothere2", "GET nothere",
      "PFADD s2 a b", "PFMERGE s2 s", "PFDEBUG DECODE s2", "PFCOUNT s2", "PFCOUNT s s2 h",
      "SET str hello", "PFADD str a", "PFCOUNT str", "PFCOUNT h str", "PFMERGE str h", "PFMERGE h str", "PFDEBUG ENCODING str", "RPUSH l a", "PFADD l a",
      "PFCOUNT l", "PFMERGE h l", "PFDEBUG GETREG l", "SET fake HYLLxxxxxxxxxxxxxxx", "PFCOUNT fake", "SET fake2 HYLL\x00",
      ["SET", "dense-short", "HYLL\x00\x00\x00\x00" + "\x00".repeat(8) + "\x00".repeat(100)], "PFCOUNT dense-short", "PFADD dense-short a",
      "PFADD c a b c", "APPEND c hello", "PFCOUNT c", "PFADD c zz", "PFMERGE c2 c", "PFCOUNT c c2", "PFDEBUG TODENSE c", "PFDEBUG GETREG c", "PFDEBUG DECODE c",
      "PFADD c3 a b c", "SETRANGE c3 0 0123", "PFCOUNT c3", "PFADD c4 a b c", "SETRANGE c4 4 x", "PFCOUNT c4", "PFADD c5 a b c", ["SETRANGE", "c5", "4", "\x00"], "PFCOUNT c5",
      ["SET", "cached", "HYLL\x01\x00\x00\x00\x2a\x00\x00\x00\x00\x00\x00\x00\x7f\xff"], "PFCOUNT cached", "PFADD cached a", "PFCOUNT cached",
      ["SET", "bigcache", "HYLL\x01\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\x7f\x7f\xff"], "PFCOUNT bigcache",
      "HELLO 3", "PFCOUNT h", "PFDEBUG ENCODING h", "HELLO 2",
    ] },
    { name: "random adds across hll-sparse-max-bytes: every byte of every sketch, merges of sparse and dense", steps: hllRandomSteps() },
    { name: "corrupted sketches: random bytes overwritten, then counted, added to and merged", steps: hllCorruptionSteps() },
  ],
  SORT: [
    { name: "numeric, ALPHA, DESC and LIMIT on lists, sets and sorted sets", steps: [
      "RPUSH l 3 1 2 10 -5 1.5 0x10 ' 7' inf", "SORT l", "SORT l DESC", "SORT l ALPHA", "SORT l ALPHA DESC",
      "SORT l LIMIT 1 3", "SORT l LIMIT -5 2", "SORT l LIMIT 2 -1", "SORT l LIMIT 100 2", "SORT l LIMIT 0 0", "SORT l DESC LIMIT 0 3",
      "SADD s 5 3 9 1", "SORT s", "SORT s DESC", "SADD w b a c 10", "SORT w", "SORT w ALPHA", "SORT w ALPHA DESC LIMIT 1 2",
      "ZADD z 3 a 1 b 2 c", "SORT z ALPHA", "SORT z BY nosort", "SORT z BY nosort DESC", "SORT z BY nosort LIMIT 1 1",
      "SORT z BY nosort DESC LIMIT 1 5", "SORT l BY nosort", "SORT l BY nosort DESC LIMIT 1 2", "SORT s BY nosort",
      "RPUSH bad 1 x 3", "SORT bad", "RPUSH big 1e400", "SORT big", "RPUSH nan nan", "SORT nan", "RPUSH e ''", "SORT e",
      "RPUSH ties 2 10 2 1", "SORT ties", "SORT missing", "SORT missing ALPHA LIMIT 0 1",
    ] },
    { name: "BY and GET patterns, hash fields, #", steps: [
      "RPUSH ids 3 1 2", "MSET w_1 30 w_2 10 w_3 20 d_1 one d_2 two d_3 three", "HSET h_1 f 9 g x", "HSET h_2 f 8", "HSET h_3 f 7",
      "SORT ids BY w_*", "SORT ids BY w_* DESC GET d_*", "SORT ids BY w_* GET # GET d_* GET h_*->f GET nosuch_* GET nostar",
      "SORT ids BY h_*->f", "SORT ids BY h_*->g ALPHA", "SORT ids BY h_*-> ", "SORT ids BY d_* ALPHA", "SORT ids BY d_*",
      "SORT ids BY missing_*", "SORT ids BY missing_* ALPHA", "SORT ids GET h_*", "SORT ids GET d_*->f", "SORT ids GET #",
      "SORT ids BY w_* LIMIT 1 1 GET d_*", "SORT_RO ids BY w_* GET d_*",
    ] },
    { name: "ties under ALPHA BY, with and without LIMIT (Redis's stable sort, or its partial quicksort)", steps: [
      ["RPUSH", "many", ...Array.from({ length: 70 }, (_, i) => String(i))],
      ["MSET", ...Array.from({ length: 70 }, (_, i) => (i % 9 === 4 ? [] : [`t_${i}`, "abcde"[i % 5]])).flat()],
      "SORT many BY t_* ALPHA", "SORT many BY t_* ALPHA DESC", "SORT many BY t_* ALPHA LIMIT 0 10", "SORT many BY t_* ALPHA LIMIT 20 15",
      "SORT many BY t_* ALPHA DESC LIMIT 3 30", "SORT many BY t_* ALPHA LIMIT 65 10", "SORT many BY t_* ALPHA LIMIT 0 70",
      "SORT many BY nosuch_* ALPHA LIMIT 10 5", "SORT many BY t_* LIMIT 5 5", "SORT many BY t_* ALPHA LIMIT 2 3 STORE out", "LRANGE out 0 -1",
    ] },
    { name: "STORE, errors and SORT_RO", steps: [
      "RPUSH l 3 1 2", "SORT l STORE dst", "TYPE dst", "LRANGE dst 0 -1", "OBJECT ENCODING dst", "SET dst x", "SORT l DESC STORE dst", "LRANGE dst 0 -1",
      "SORT l GET nosuch_* STORE dst", "LRANGE dst 0 -1", "SORT missing STORE dst", "EXISTS dst", "SORT missing STORE dst",
      "SADD s c a b", "SORT s BY nosort STORE dst", "LRANGE dst 0 -1", "SORT l STORE dst STORE dst2", "EXISTS dst dst2",
      "SET str x", "SORT str", "SORT l LIMIT", "SORT l LIMIT 1", "SORT l LIMIT a 1", "SORT l LIMIT 1 b", "SORT l BY", "SORT l GET", "SORT l FOO",
      "SORT l STORE", "SORT", "SORT_RO l STORE dst", "SORT_RO str", "SORT_RO l", "SORT_RO", "SORT l ASC DESC ALPHA ASC",
      "COMMAND GETKEYS SORT l STORE d", "COMMAND GETKEYS SORT l LIMIT 0 1 GET x BY y STORE d", "COMMAND GETKEYS SORT l STORE", "COMMAND GETKEYS SORT_RO l",
    ] },
  ],
};

runDifferentialSuites(SUITES);
