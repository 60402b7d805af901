// main.ts, Scripting: differential tests of the cmsgpack and struct libraries scripts see, sent to
// a real redis-server and to Redbun and compared byte for byte: every encoding width and its
// boundaries, arrays against maps, the nesting limit, decoding of every type byte (and of cut-off
// input), offsets and limits, struct's format letters, byte orders and alignment, and the exact
// error texts. Same harness, targets and environment variables as tests/differential.test.ts (see
// ./differential-harness.ts).
import { runDifferentialSuites, type Script, type Step } from "./differential-harness.ts";

/** Lua helpers put before each script: hex(s); show(v), an exact rendering of any value (numbers
 *  with 17 digits, tables in pairs() order, so the order is compared too); all(...), the count of
 *  values and each one shown. */
const PRELUDE = `local function hex(s) return (string.gsub(s, '.', function(c) return string.format('%02x', string.byte(c)) end)) end
local function show(v, d)
  local t = type(v)
  if t == 'number' then return string.format('%.17g', v) end
  if t == 'string' then return #v > 40 and ('<' .. #v .. ' bytes ' .. hex(v:sub(1, 8)) .. '..' .. hex(v:sub(-4)) .. '>') or string.format('%q', v) end
  if t ~= 'table' then return tostring(v) end
  d = (d or 0) + 1
  if d > 20 then return '{...}' end
  local parts = {}
  for k, x in pairs(v) do parts[#parts + 1] = show(k, d) .. '=' .. show(x, d) end
  return '{' .. table.concat(parts, ',') .. '}'
end
local function all(...)
  local r = {tostring(select('#', ...))}
  for i = 1, select('#', ...) do r[#r + 1] = show((select(i, ...))) end
  return table.concat(r, ' ')
end
`;

/** EVAL of the prelude and `body`, no keys, with the given arguments. */
const ev = (body: string, ...args: string[]): string[] => ["EVAL", PRELUDE + body, "0", ...args];
/** The hex of cmsgpack.pack(<lua>). */
const pack = (lua: string): string[] => ev(`return hex(cmsgpack.pack(${lua}))`);
/** Everything cmsgpack.unpack reads from these bytes (as ARGV[1]). */
const unpack = (bytes: string): string[] => ev("return all(cmsgpack.unpack(ARGV[1]))", bytes);
/** A call's results, or its error message, rendered. */
const tryAll = (call: string, ...args: string[]): string[] =>
  ev(`local r = {pcall(function() return all(${call}) end)}; return r[1] and r[2] or ('error: ' .. tostring(r[2]))`, ...args);
/** The hex of struct.pack(<args>). */
const spack = (args: string): string[] => ev(`return hex(struct.pack(${args}))`);
/** Everything struct.unpack(fmt, ARGV[1] [, extra]) returns. */
const sunpack = (fmt: string, data: string, extra = ""): string[] => ev(`return all(struct.unpack('${fmt}', ARGV[1]${extra}))`, data);
/** Bytes from hex. */
const b = (hex: string): string => Buffer.from(hex.replace(/ /g, ""), "hex").toString("latin1");

const PACK: Script[] = [
  { name: "pack: nil, booleans and values MessagePack has no type for", steps: [
    pack("nil"), pack("true"), pack("false"), pack("type"), pack("coroutine.create(function() end)"), pack("redis.call"),
  ] },
  { name: "pack: integers at every width boundary", steps: [
    ...["0", "1", "127", "128", "255", "256", "65535", "65536", "2^32 - 1", "2^32", "2^53", "2^53 + 2", "9223372036854774784",
      "-1", "-32", "-33", "-128", "-129", "-32768", "-32769", "-2^31", "-2^31 - 1", "-2^53", "-1099511627776", "-2^63"].map(pack),
  ] },
  { name: "pack: integral doubles past int64, floats, doubles, infinities, NaN and -0", steps: [
    ...["2^63", "2^64", "-2^63 - 2048", "1e20", "-1e20", "0.5", "-0.5", "0.1", "1.5", "3.14159", "1e38", "3.4028234663852886e38",
      "3.4028235677973366e38", "1e39", "2^-149", "2^-150", "1e-300", "1e300", "1/0", "-1/0", "0/0", "-(0/0)", "-0.0", "0.0 * -1",
      "2^31 + 0.5", "-2^31 - 0.5"].map(pack),
  ] },
  { name: "pack: strings around each header size", steps: [
    ...["''", "'a'", "'\\0\\1\\255'", "string.rep('x', 31)", "string.rep('x', 32)", "string.rep('x', 255)", "string.rep('x', 256)",
      "string.rep('x', 65535)", "string.rep('x', 65536)", "'123'", "'1e3'"].map((s) => ev(`local p = cmsgpack.pack(${s}); return {#p, hex(p:sub(1, 6))}`)),
  ] },
  { name: "pack: arrays and maps", steps: [
    ...["{}", "{1, 2, 3}", "{'a', {}, true}", "{1, nil, 3}", "{nil, 2}", "{[1] = 1, [2] = 2, [4] = 4}", "{[0] = 1}", "{[-1] = 1}",
      "{[1.5] = 1}", "{[2^31] = 1}", "{[2^31 - 1] = 1}", "{['1'] = 1}", "{[true] = 1, [false] = 0}", "{a = 1}", "{1, 2, a = 3}",
      "{a = 1, b = 2, c = 3, d = {x = 'y'}}", "{[1] = 'a', [2] = 'b', [3] = 'c'}", "{[3] = 'c', [2] = 'b', [1] = 'a'}",
      "{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}", "{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}",
      "{k1 = 1, k2 = 2, k3 = 3, k4 = 4, k5 = 5, k6 = 6, k7 = 7, k8 = 8, k9 = 9, k10 = 10, k11 = 11, k12 = 12, k13 = 13, k14 = 14, k15 = 15}",
      "{k1 = 1, k2 = 2, k3 = 3, k4 = 4, k5 = 5, k6 = 6, k7 = 7, k8 = 8, k9 = 9, k10 = 10, k11 = 11, k12 = 12, k13 = 13, k14 = 14, k15 = 15, k16 = 16}",
      "{[1] = 1, [2] = 2, x = nil}", "{f = type, g = 1}", "{[{}] = 1}", "setmetatable({}, {__index = function() return 1 end})",
      "KEYS", "ARGV"].map(pack),
    // Library tables are packed with what they hold, though scripts see them through read-only proxies here.
    ...["string", "math", "table", "coroutine", "cmsgpack", "struct", "{string, {t = table}}"].map(pack),
    ev("local t = {}; for i = 1, 65535 do t[i] = i % 7 end; local p = cmsgpack.pack(t); return {#p, hex(p:sub(1, 8))}"),
    ev("local t = {}; for i = 1, 65536 do t[i] = i % 7 end; local p = cmsgpack.pack(t); return {#p, hex(p:sub(1, 8))}"),
    ev("local t = {}; for i = 1, 65536 do t['k' .. i] = i end; local p = cmsgpack.pack(t); return {#p, hex(p:sub(1, 12)), redis.sha1hex(p)}"),
    ev("local t = {}; for i = 1, 1000 do t[i * 3] = i end; return redis.sha1hex(cmsgpack.pack(t))"),
    ev("local t = {}; for i = 1, 300 do t[tostring(i)] = i; t[i + 0.5] = -i end; return redis.sha1hex(cmsgpack.pack(t))"),
  ] },
  { name: "pack: nesting stops at 16 tables, which also ends cycles", steps: [
    ...[14, 15, 16, 17, 20].map((n) => ev(`local t = 'leaf'; for i = 1, ${n} do t = {t} end; return hex(cmsgpack.pack(t))`)),
    ...[15, 16, 17].map((n) => ev(`local t = 'leaf'; for i = 1, ${n} do t = {k = t} end; return hex(cmsgpack.pack(t))`)),
    ev("local t = {}; t[{}] = 'v'; local u = t; for i = 1, 15 do u = {u} end; return hex(cmsgpack.pack(u))"),
    ev("local a = {x = nil, y = 5}; local b = {x = a}; a['x'] = b; return hex(cmsgpack.pack(a))"),
    ev("local a = {}; a[1] = a; return hex(cmsgpack.pack(a))"),
    ev("local a = {}; a[a] = 1; return #cmsgpack.pack(a)"),
  ] },
  { name: "pack: several arguments, and its argument errors", steps: [
    pack("1, 'a', {}, nil, true"), pack("nil, nil"), pack("{1}, {2}, {a = {3}}"),
    ev("return cmsgpack.pack()"), tryAll("cmsgpack.pack()"), ev("local ok, e = pcall(cmsgpack.pack); return e"),
    ev("local p = cmsgpack.pack; return p()"),
    ev("local t = {}; for i = 1, 3999 do t[i] = i end; return #cmsgpack.pack(unpack(t))"),
    ev("local t = {}; for i = 1, 4000 do t[i] = i end; return #cmsgpack.pack(unpack(t))"),
    ev("local t = {}; for i = 1, 4001 do t[i] = i end; return #cmsgpack.pack(unpack(t))"),
    ev("local t = {}; for i = 1, 3999 do t[i] = i end; t[4000] = {}; return #cmsgpack.pack(unpack(t))"),
    ev("local t = {}; for i = 1, 3999 do t[i] = i end; t[4000] = {a = 1}; return #cmsgpack.pack(unpack(t))"),
    ev("local t = {}; for i = 1, 3998 do t[i] = i end; t[3999] = {a = {1}}; return #cmsgpack.pack(unpack(t))"),
  ] },
];

const UNPACK: Script[] = [
  { name: "unpack: every single-byte value", steps: [
    ...["00", "01", "7f", "80", "90", "a0", "c0", "c1", "c2", "c3", "e0", "ff", "d4", "d5", "d6", "d7", "d8"].map((h) => unpack(b(h))),
  ] },
  { name: "unpack: numbers of every width", steps: [
    ...["cc00", "ccff", "cd0000", "cdffff", "ce00000000", "ceffffffff", "cf0000000000000000", "cf0000000100000000", "cf001fffffffffffff",
      "cf0020000000000001", "cf7fffffffffffffff", "cf8000000000000000", "cfffffffffffffffff", "d000", "d07f", "d080", "d0ff",
      "d10000", "d17fff", "d18000", "d1ffff", "d200000000", "d27fffffff", "d280000000", "d2ffffffff", "d30000000000000000",
      "d37fffffffffffffff", "d38000000000000000", "d3ffffffffffffffff", "d3fffffeffffffffff", "ca00000000", "ca80000000", "ca3f800000",
      "ca7f800000", "caff800000", "ca7fc00000", "caffc00000", "caff800001", "ca00000001", "cb0000000000000000", "cb8000000000000000",
      "cb3fb999999999999a", "cb7ff0000000000000", "cbfff0000000000000", "cb7ff8000000000000", "cbfff8000000000000",
      "cb7ff0000000000001", "cb0000000000000001"].map((h) => unpack(b(h))),
    ...["ca7fc00000", "caff800001", "cbfff8000000000000", "cb7ff0000000000001", "cb7ff4000000000123"].map((h) =>
      ev("local v = cmsgpack.unpack(ARGV[1]); return {tostring(v), hex(cmsgpack.pack(v)), hex(struct.pack('>d', v)), hex(struct.pack('>f', v))}", b(h))),
  ] },
  { name: "unpack: strings", steps: [
    unpack(b("a3616263")), unpack(b("bf") + "x".repeat(31)), unpack(b("d900")), unpack(b("d903") + "abc"), unpack(b("d9ff") + "y".repeat(255)),
    unpack(b("da0000")), unpack(b("da0003") + "a\0b"), unpack(b("da0100") + "z".repeat(256)), unpack(b("db00000000")),
    unpack(b("db00000002") + "hi"), unpack(b("db00010000") + "w".repeat(65536)), unpack(b("a2") + "\xff\x00"),
    unpack(b("c403616263")), unpack(b("c50003616263")), unpack(b("c600000003616263")),
  ] },
  { name: "unpack: arrays and maps", steps: [
    unpack(b("93010203")), unpack(b("92c0c0")), unpack(b("93c001c0")), unpack(b("9f" + "01".repeat(15))), unpack(b("dc0000")),
    unpack(b("dc0002a178a179")), unpack(b("dd00000003c2c3c0")), unpack(b("82a16101a16202")), unpack(b("81a16193010203")),
    unpack(b("de0000")), unpack(b("de0001a16b01")), unpack(b("df00000002a16b01a16c02")), unpack(b("820102030a")),
    unpack(b("82a16b01a16b02")), unpack(b("8101c0")), unpack(b("81c3c2")), unpack(b("8190a178")), unpack(b("81ca3fc00000a178")),
    unpack(b("8101" + "81".repeat(30) + "01")), unpack(b("91".repeat(40) + "05")),
    unpack(b("81c001")), unpack(b("81cb7ff800000000000001")), unpack(b("81cbfff800000000000001")), unpack(b("9181c001")),
    ev("local t = {}; for i = 1, 200 do t['key' .. i] = i end; local u = cmsgpack.unpack(cmsgpack.pack(t)); local ks = {}; for k in pairs(u) do ks[#ks + 1] = k end; return table.concat(ks, ',')"),
  ] },
  { name: "unpack: cut-off input and unknown types", steps: [
    ...["cc", "cd00", "ce000000", "cf00000000000000", "d0", "d100", "d2000000", "d300000000000000", "ca000000", "cb00000000000000",
      "a1", "bf00", "d9", "d902", "d90261", "da00", "da000261", "db000000", "db0000000161", "dc", "dc00", "dc0001", "dd000000",
      "dd00000001", "de00", "de0001", "de000101", "df000000", "df0000000101", "91", "93 01 02", "81", "81 01", "82 01 02 03",
      "ddffffffff01", "92 c1", "81 c1 01", "81 01 c1", "01 c1", "c1 ff", "9f", "8f", "01 02 cc"].map((h) => unpack(b(h))),
    ev("return cmsgpack.unpack(ARGV[1])", b("92 01")), ev("return cmsgpack.unpack(ARGV[1])", b("c7 01 01 00")),
  ] },
  { name: "unpack: streams of several values, and their limits", steps: [
    unpack(b("01 02 03")), unpack(b("a161 93010203 c3 81a16101")), unpack(""), tryAll("cmsgpack.unpack(123)"), tryAll("cmsgpack.unpack(1.5)"),
    tryAll("cmsgpack.unpack()"), tryAll("cmsgpack.unpack(nil)"), tryAll("cmsgpack.unpack({})"), tryAll("cmsgpack.unpack(true)"),
    ev("return cmsgpack.unpack()"), ev("return cmsgpack.unpack({})"),
    ev("local n = select('#', cmsgpack.unpack(string.rep('\\1', 7990))); return n"),
    ev("local n = select('#', cmsgpack.unpack(string.rep('\\1', 8010))); return n"),
    ev("return #cmsgpack.unpack(string.rep('\\145', 3990) .. '\\1')"), ev("return #cmsgpack.unpack(string.rep('\\145', 4010) .. '\\1')"),
    ev("return type(cmsgpack.unpack(string.rep('\\129', 7990) .. '\\1\\1'))"),
    ev("return type(cmsgpack.unpack(string.rep('\\129', 8010) .. '\\1\\1'))"),
    ev("return type(cmsgpack.unpack(string.rep('\\129\\1', 7990) .. '\\1'))"),
  ] },
  { name: "unpack_one and unpack_limit: offsets and counts", steps: [
    ...["cmsgpack.unpack_one(ARGV[1])", "cmsgpack.unpack_one(ARGV[1], 0)", "cmsgpack.unpack_one(ARGV[1], 1)", "cmsgpack.unpack_one(ARGV[1], 2)",
      "cmsgpack.unpack_one(ARGV[1], 6)", "cmsgpack.unpack_one(ARGV[1], 7)", "cmsgpack.unpack_one(ARGV[1], 8)", "cmsgpack.unpack_one(ARGV[1], -1)",
      "cmsgpack.unpack_one(ARGV[1], 1.9)", "cmsgpack.unpack_one(ARGV[1], '2')", "cmsgpack.unpack_one(ARGV[1], 'x')",
      "cmsgpack.unpack_one(ARGV[1], nil)", "cmsgpack.unpack_one(ARGV[1], 2^32)", "cmsgpack.unpack_one(ARGV[1], 2^32 + 3)",
      "cmsgpack.unpack_one(ARGV[1], 2^40 + 9)", "cmsgpack.unpack_one(ARGV[1], 2^63)", "cmsgpack.unpack_one(ARGV[1], 1/0)",
      "cmsgpack.unpack_one(ARGV[1], 0/0)", "cmsgpack.unpack_one(ARGV[1], -2^40)", "cmsgpack.unpack_one(ARGV[1], 3, 'ignored')",
      "cmsgpack.unpack_one()", "cmsgpack.unpack_one(nil, 1)", "cmsgpack.unpack_one('')", "cmsgpack.unpack_one('', 0)",
      "cmsgpack.unpack_one('', 1)",
      "cmsgpack.unpack_limit(ARGV[1])", "cmsgpack.unpack_limit(ARGV[1], 0)", "cmsgpack.unpack_limit(ARGV[1], 0, 0)",
      "cmsgpack.unpack_limit(ARGV[1], 0, 1)", "cmsgpack.unpack_limit(ARGV[1], 1)", "cmsgpack.unpack_limit(ARGV[1], 2)",
      "cmsgpack.unpack_limit(ARGV[1], 2, 1)", "cmsgpack.unpack_limit(ARGV[1], 3, 1)", "cmsgpack.unpack_limit(ARGV[1], 100)",
      "cmsgpack.unpack_limit(ARGV[1], 100, 6)", "cmsgpack.unpack_limit(ARGV[1], 1, 7)", "cmsgpack.unpack_limit(ARGV[1], -1)",
      "cmsgpack.unpack_limit(ARGV[1], -1, 3)", "cmsgpack.unpack_limit(ARGV[1], 1, -5)", "cmsgpack.unpack_limit(ARGV[1], 'x')",
      "cmsgpack.unpack_limit(ARGV[1], nil)", "cmsgpack.unpack_limit(ARGV[1], 1, 'y')", "cmsgpack.unpack_limit(ARGV[1], 2^40, 0)",
      "cmsgpack.unpack_limit(ARGV[1], 1, 2^31)", "cmsgpack.unpack_limit(ARGV[1], 1, 4)", "cmsgpack.unpack_limit(ARGV[1], 1, 3)",
      "cmsgpack.unpack_limit()"].map((call) => tryAll(call, b("01 a3616263 92 c3 c2 05"))),
    ev(`local s = cmsgpack.pack(string.rep('x', 30), string.rep('y', 250), string.rep('z', 65530), 7)
      local r, off, v = {}, 0
      repeat off, v = cmsgpack.unpack_limit(s, 1, off); r[#r + 1] = off .. ':' .. show(v) until off == -1
      return r`),
    ev("return cmsgpack.unpack_one(ARGV[1], 1)", b("01 c1")), ev("return cmsgpack.unpack_limit(ARGV[1], 2)", b("01 02 cc")),
  ] },
  { name: "round trips", steps: [
    ev(`local v = {name = 'job', data = {a = 1, b = {1, 2, 3}, c = 'x'}, opts = {attempts = 3, delay = 0, backoff = {type = 'exponential', delay = 1000},
        removeOnComplete = true, timestamp = 1700000000123, priority = -1, ratio = 0.25}}
      local p = cmsgpack.pack(v); return {hex(p), show(cmsgpack.unpack(p))}`),
    ev("local p = cmsgpack.pack(1, 'two', {3}, nil, false, 2.5); return {hex(p), all(cmsgpack.unpack(p))}"),
    ev("local u = cmsgpack.unpack(ARGV[1]); return {show(u), hex(cmsgpack.pack(u))}",
      // As msgpackr writes a job's options: a map with fixstr keys, a uint32, a float64, a nested map, a str8.
      b("86 a8 61747465 6d707473 03 a5 64656c6179 cd03e8 a9 74696d657374616d70 cf0000018bcfe56800 a7 6261636b6f6666 82 a4 74797065 ab 6578706f6e656e7469616c a5 64656c6179 cb3ff8000000000000 a5 6a6f624964 d9 24" +
        Buffer.from("0123456789abcdef0123456789abcdef0123").toString("hex") + " a4 6c696669 c3")),
    ev("local t = {}; for i = 1, 1000 do t[i] = {i, tostring(i), i / 7, i % 2 == 0} end; local p = cmsgpack.pack(t); return {redis.sha1hex(p), redis.sha1hex(cmsgpack.pack(cmsgpack.unpack(p)))}"),
  ] },
  { name: "the cmsgpack table", steps: [
    ev("local ks = {}; for k, v in pairs(cmsgpack) do ks[#ks + 1] = k .. '=' .. type(v) end; return ks"),
    ev("return {cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION}"),
    ev("cmsgpack.pack = function() return 1 end"), ev("cmsgpack.x = 1"), ev("rawset(cmsgpack, 'x', 1)"), ev("setmetatable(cmsgpack, {})"),
    ev("return type(cmsgpack_safe)"), ev("return tostring(rawget(_G, 'cmsgpack') ~= nil)"),
  ] },
];

/** Formats run through pack then unpack, with the hex in between. */
const structRoundTrip = (fmt: string, args: string): string[] =>
  ev(`local p = struct.pack('${fmt}', ${args}); return {hex(p), all(struct.unpack('${fmt}', p)), struct.size('${fmt}')}`);

const STRUCT: Script[] = [
  { name: "struct.pack: integer letters, sizes and byte orders", steps: [
    ...["'b', 1", "'b', -1", "'b', 127", "'b', 128", "'b', 255", "'b', 256", "'b', -129", "'B', -1", "'B', 300", "'h', -2", "'>h', -2",
      "'H', 65535", "'H', 65536", "'>H', 258", "'l', -1", "'>l', 1", "'L', 2^63", "'L', 2^64", "'L', 1e19", "'L', -1", "'l', 2^63",
      "'l', -2^63", "'l', -2^64", "'>L', 0/0", "'>L', 1/0", "'>L', -1/0", "'>l', 0/0", "'T', 5", "'>T', 2^53 + 2", "'i', -5", "'>i', -5",
      "'I', 2^32 + 1", "'>I', 2^31", "'i1', -1", "'i2', 513", "'>i3', -2", "'<i3', 2^23", "'>I3', 2^24 + 7", "'i5', -1", "'>i7', 2^50",
      "'i8', -3", "'>i9', -1", "'<i9', -1", "'>i16', -2", "'<I16', 2^60", "'>i32', 1", "'i0', 5", "'I0', -5", "'b', 1.9", "'b', -1.9",
      "'b', '7'", "'b', ' 12 '", "'b', '0x10'", "'h', 70000", "'>bhlTiI', 1, 2, 3, 4, 5, 6", "'<bhlTiI', 1, 2, 3, 4, 5, 6"].map(spack),
  ] },
  { name: "struct.pack: floats, doubles, strings and padding", steps: [
    ...["'f', 0.1", "'>f', 0.1", "'d', 0.1", "'>d', 0.1", "'f', 1e39", "'f', -1e39", "'f', 2^-149", "'f', 2^-150", "'>f', 0/0", "'>f', -(0/0)",
      "'>d', 0/0", "'>d', -(0/0)", "'>d', -0.0", "'>f', -0.0", "'>d', 1/0", "'>d', 'nan'", "'>d', '-nan'", "'>d', '1e3'", "'>f', '0x10'",
      // glibc's strtod keeps the payload of "nan(n)".
      "'>d', 'nan(123)'", "'>d', ' -nan(5) '", "'>d', '+NaN(0X7ffffffffffff)'", "'>f', 'nan(0xfffffffffffff)'", "'<f', 'nan(4194304)'",
      "'>d', 'nan(077)'", "'>d', 'nan(08)'", "'>d', 'nan(0x)'", "'>d', 'nan(abc)'", "'>d', 'nan()'", "'>d', 'nan(99999999999999999999999)'",
      "'>d', 'nan(1'",
      "'x'", "'xxbx', 1", "'c3', 'abc'", "'c3', 'abcdef'", "'c', 'xyz'", "'c0', 'hello'", "'c0', ''", "'c0c0', 'ab', 'cd'", "'c2', 12",
      "'s', 'hi'", "'s', ''", "'s', 'a\\0b'", "'sb', 'x', 2", "'c1s', 'a', 'b'", "' b b ', 1, 2", "'b\\0b', 1, 2", "'', 1"].map(spack),
  ] },
  { name: "struct.pack: alignment", steps: [
    ...["'!b i', 1, 2", "'!4 b i', 1, 2", "'!2 b i', 1, 2", "'!1 b i', 1, 2", "'!b d', 1, 2", "'!4 b d', 1, 2", "'!16 b d', 1, 2",
      "'!8 b h b l', 1, 2, 3, 4", "'!8 b i3', 1, 2", "'!8 b b i3', 1, 2, 3", "'!8 b i5', 1, 2", "'!8 b i6', 1, 2", "'!8 b i12', 1, 2",
      "'!4 b c3 i', 1, 'abc', 2", "'!4 b s i', 1, 'ab', 2", "'!8 b x d', 1, 2", "'!8 b f', 1, 2", "'!8 b T', 1, 2",
      "'!2 b !8 d', 1, 2", "'!8 b ! d', 1, 2", "'!4 >b i', 1, 2", "'b !4 i', 1, 2"].map(spack),
  ] },
  { name: "struct.pack: errors", steps: [
    ...["'b'", "'bb', 1", "'bbb', 1", "'d'", "'c1'", "'s'", "'c3', 'ab'", "'bc3', 1, 'ab'", "'c0c3', 'x', 'ab'", "'b', {}", "'b', 'x'",
      "'f', true", "'c1', {}", "'z'", "'5'", "'b5', 1", "'s5', 'x'", "'y', 1", "'\\200'", "'i33', 1", "'I40', 1", "'i2147483647', 1",
      "'i2147483648', 1", "'c99999999999', 'x'", "'c2147483647', 'x'", "'!3', 1", "'!0'", "'!6 b'", "'!2147483648'", "'!1073741824 b', 1",
      "", "nil", "{}", "12, 1"].map((args) => ev(`return struct.pack(${args})`)),
    ev("local ok, e = pcall(struct.pack, 'z'); return e"), ev("local ok, e = pcall(struct.pack); return e"),
    ev("local p = struct.pack; return p('b')"), ev("return struct.pack('>i5', 2^45)"),
  ] },
  { name: "struct.unpack: every letter", steps: [
    sunpack("b", "\xff"), sunpack("B", "\xff"), sunpack("h", "\xfe\xff"), sunpack(">h", "\xfe\xff"), sunpack("H", "\xfe\xff"),
    sunpack("l", "\xff".repeat(8)), sunpack("L", "\xff".repeat(8)), sunpack(">L", b("001fffffffffffff")), sunpack(">L", b("0020000000000001")),
    sunpack(">l", b("8000000000000000")), sunpack("T", "\x01" + "\0".repeat(7)), sunpack("i", "\xfb\xff\xff\xff"), sunpack("I", "\xfb\xff\xff\xff"),
    sunpack(">i3", "\xff\xff\xfe"), sunpack(">I3", "\xff\xff\xfe"), sunpack("<i3", "\0\0\x80"), sunpack(">i5", "\x80\0\0\0\0"),
    sunpack(">i12", "\xff".repeat(12)), sunpack(">i12", "\0".repeat(8) + "\x80\0\0\0"), sunpack("<i12", "\0\0\0\x80" + "\0".repeat(8)),
    sunpack(">i16", "\0".repeat(8) + "\x80" + "\0".repeat(7)), sunpack(">i16", "\xff".repeat(8) + "\x7f" + "\0".repeat(7)),
    sunpack(">I16", "\x01".repeat(16)), sunpack("<i9", "\xff".repeat(9)), sunpack(">i32", "\x80" + "\0".repeat(31)), sunpack("i0", ""),
    sunpack("I0b", "\x05"), sunpack("f", b("cdcccc3d")), sunpack(">f", b("3dcccccd")), sunpack(">f", b("7f800000")), sunpack(">f", b("ffc00000")),
    sunpack(">f", b("ff800001")), sunpack("d", b("9a9999999999b93f")), sunpack(">d", b("3fb999999999999a")), sunpack(">d", b("fff8000000000000")),
    sunpack(">d", b("7ff0000000000001")), sunpack(">d", b("8000000000000000")), sunpack("x", "a"), sunpack("xb", "ab"), sunpack("c3", "abcdef"),
    sunpack("c", "abc"), sunpack("bc0", "\x03abcd"), sunpack("c1c0", "3abcd"), sunpack("c1c0", " 2 abcd"), sunpack("bc0", "\x00abc"),
    sunpack("s", "hi\0rest"), sunpack("ss", "a\0\0b"), sunpack("s", "\0"), sunpack(" < b > h ", "\x01\x00\x02"), sunpack("", "abc"),
    sunpack("b\0b", "\x01\x02"),
  ] },
  { name: "struct.unpack: positions and alignment", steps: [
    sunpack("b", "abc", ", 1"), sunpack("b", "abc", ", 2"), sunpack("b", "abc", ", 3"), sunpack("b", "abc", ", 4"), sunpack("", "abc", ", 4"),
    sunpack("", "abc", ", 5"), sunpack("", "abc", ", -5"), sunpack("", "abc", ", 2^53"), sunpack("", "abc", ", 2^63"), sunpack("x", "abc", ", -5"),
    sunpack("b", "abc", ", 2.9"), sunpack("b", "abc", ", '3'"), sunpack("bb", "abc", ", 2"), sunpack("!4 b i", "\x01\0\0\0\x02\0\0\0"),
    sunpack("!4 b i", "\x01\0\0\0\x02\0\0\0\x03", ", 2"), sunpack("!8 b d", "\x01" + "\0".repeat(7) + b("000000000000f03f")),
    sunpack("!8 b i3", "\x01\0\0\x02\0\0"), sunpack("!8 b b i3", "\x01\x02\0\0\x03\0\0"), sunpack("!8 b i5", "\x01" + "\0".repeat(4) + "\x02\0\0\0\0"),
    sunpack("!2 b !8 d", "\x01\0" + b("000000000000f03f")), sunpack("!4 b c3 i", "\x01abc\x02\0\0\0"),
  ] },
  { name: "struct.unpack: errors", steps: [
    sunpack("b", ""), sunpack("h", "a"), sunpack("i3", "ab"), sunpack("d", "1234567"), sunpack("x", ""), sunpack("c4", "abc"),
    sunpack(" ", "abc", ", 5"), sunpack("<", "abc", ", 5"), sunpack("bc0", "\x05abc"), sunpack("bc0", "\xffabc"), sunpack("c0", "abc"),
    sunpack("xc0", "abc"), sunpack("c1c0", "xabc"), sunpack("s", "abc"), sunpack("bs", "\x01abc"), sunpack("b", "abc", ", 0"),
    sunpack("b", "abc", ", 'x'"), sunpack("z", "abc"), sunpack("bz", "abc"), sunpack("i33", "abc"), sunpack("!3", "abc"),
    sunpack("c99999999999", "abc"), sunpack("b", "abc", ", -1"),
    ev("return struct.unpack('b')"), ev("return struct.unpack()"), ev("return struct.unpack('b', {})"), ev("return struct.unpack({}, 'a')"),
    ev("return select('#', struct.unpack(string.rep('b', 7990), string.rep('\\1', 7990)))"),
    ev("return select('#', struct.unpack(string.rep('b', 8010), string.rep('\\1', 8010)))"),
  ] },
  { name: "struct.size", steps: [
    ...["'b'", "'bhlTiIfd'", "'!bhlTiIfd'", "'!4 b d'", "'!8 b d'", "'i3'", "'!8 b i3'", "'!8 b i12'", "'c10'", "'x'", "'z'", "'5'",
      "'b5'", "'zb'", "' <> '", "''", "'c2147483647c2147483647'", "'b\\0b'", "'c0'", "'s'", "'bs'", "'!3'", "'i40'", "'\\200'", "'y!'",
      "'c99999999999'", "", "{}", "12"].map((args) => ev(`return struct.size(${args})`)),
  ] },
  { name: "struct round trips and the struct table", steps: [
    structRoundTrip(">!4 b h i d s", "-1, 513, -70000, 2.5, 'str'"), structRoundTrip("<!8 B H I f c3", "200, 60000, 4000000000, 0.5, 'abc'"),
    structRoundTrip("<i7 >I7", "-2^40, 2^50"),
    ev("local ks = {}; for k, v in pairs(struct) do ks[#ks + 1] = k .. '=' .. type(v) end; return ks"),
    ev("struct.pack = nil"), ev("struct.x = 1"), ev("rawset(struct, 'x', 1)"), ev("return rawget(struct, 'size') == struct.size"),
  ] },
];

const LIBRARIES_AS_GLOBALS: Step[] = [
  ev("return {type(cmsgpack), type(struct), type(cmsgpack.pack), type(struct.unpack)}"),
];

runDifferentialSuites({
  cmsgpack: [...PACK, ...UNPACK],
  struct: [...STRUCT, { name: "the libraries are globals", steps: LIBRARIES_AS_GLOBALS }],
});
