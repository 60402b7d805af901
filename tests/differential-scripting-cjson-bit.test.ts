// main.ts, Scripting: differential tests of the cjson and bit libraries scripts see, sent to a real
// redis-server and to Redbun and compared byte for byte: how cjson writes every Lua value (numbers
// at each precision, escapes, arrays against objects and sparse arrays, nesting limits), how it
// reads every JSON value (strtod's numbers, \u escapes and surrogate pairs, its error texts), its
// settings and cjson.new; BitOp's conversion of numbers to 32 bits and each of its functions. Same
// harness, targets and environment variables as tests/differential.test.ts (see
// ./differential-harness.ts). cjson's settings outlive a script, as in Redis: a script that
// changes them starts and ends with SCRIPT FLUSH, which makes a new Lua state.
import { runDifferentialSuites, type Script } from "./differential-harness.ts";

/** Lua helpers put before each script: show(v), an exact rendering of any value (numbers with 17
 *  digits, tables in pairs() order, so the order is compared too); all(...), the count of values
 *  and each one shown; try(f, ...), f's results shown, or its error. */
const PRELUDE = `local function show(v, d)
  local t = type(v)
  if t == 'number' then return string.format('%.17g', v) end
  if t == 'string' then return string.format('%q', v) end
  if v == cjson.null then return 'null' end
  if t ~= 'table' then return t end
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
local function try(f, ...)
  local r = {pcall(f, ...)}
  if not r[1] then return 'error: ' .. tostring(r[2]) end
  return all(unpack(r, 2, table.maxn(r)))
end
`;

/** EVAL of the prelude and `body`, no keys, with the given arguments. */
const ev = (body: string, ...args: string[]): string[] => ["EVAL", PRELUDE + body, "0", ...args];
/** cjson.encode(<lua>), or its error. */
const enc = (lua: string): string[] => ev(`return try(cjson.encode, ${lua})`);
/** cjson.decode of ARGV[1], or its error. */
const dec = (json: string): string[] => ev("return try(cjson.decode, ARGV[1])", json);
/** A script run on a fresh Lua state, which it leaves fresh: for scripts that change settings. */
const fresh = (name: string, steps: string[][]): Script => ({ name, steps: ["SCRIPT FLUSH", ...steps, "SCRIPT FLUSH"] });

const ENCODE: Script[] = [
  { name: "encode: nil, booleans, null and what JSON has no type for", steps: [
    ...["nil", "true", "false", "cjson.null", "{cjson.null, 1}", "{a = cjson.null}", "print", "type", "function() end",
      "coroutine.create(function() end)", "{f = function() end}", "{1, 2, type}"].map(enc),
    ev("return try(cjson.encode)"), ev("return try(cjson.encode, 1, 2)"), ev("return cjson.encode()"), ev("return cjson.encode(type)"),
  ] },
  { name: "encode: numbers with 14 digits, as %.14g", steps: [
    ...["1", "-1", "0", "-0", "0.1", "1/3", "-1/3", "1e100", "1e-100", "123456789012345", "100000000000005", "12345678901234.5",
      "99999999999999.5", "2^53", "2^63", "1e-5", "0.0001", "1e14", "1e15", "1e21", "5e-324", "1.7976931348623157e308", "0.5", "2.5",
      "0.125", "3.9", "-1234.5678", "{1.5, -2.25, 1e300}"].map(enc),
  ] },
  { name: "encode: NaN and the infinities", steps: [
    ...["1/0", "-1/0", "0/0", "-(0/0)", "{1/0}", "{[1/0] = 1}", "{a = 0/0}", "{[-1/0] = 'x', y = 1}"].map(enc),
  ] },
  { name: "encode: strings and their escapes", steps: [
    ...["'hello'", "''", "'a/b\\\\c\"d'", "'\\0\\1\\2\\3\\4\\5\\6\\7\\8\\9\\10\\11\\12\\13\\14\\15\\16\\17\\18\\19\\20\\21\\22\\23\\24\\25\\26\\27\\28\\29\\30\\31'",
      "'\\127\\128\\255'", "'\\195\\169 \\228\\184\\173'", "string.rep('ab/', 100)", "{['k/\\n'] = 'v'}"].map(enc),
    ev("local t = {} for i = 0, 255 do t[#t + 1] = string.char(i) end return cjson.encode(table.concat(t))"),
  ] },
  { name: "encode: arrays, objects, sparse arrays and keys", steps: [
    ...["{}", "{{}}", "{1, 2, 3}", "{1, 2, nil, 4}", "{[1] = 1, [2] = 2, [4] = 4}", "{[1] = 1, [11] = 2}", "{[10] = 1}", "{[11] = 1}",
      "{[1] = 1, [2] = 2, [3] = 3, [20] = 4}", "{[0] = 1}", "{[-1] = 1}", "{[1.5] = 1}", "{[1e10] = 1}", "{[1e10] = 1, [2] = 2}",
      "{[2^31] = 1}", "{[2^31 - 1] = 1}", "{a = 1, b = 2, c = 3, d = {e = {f = {1, 2, 3}}}}", "{one = 'one', [1] = 'one'}",
      "{[1] = 'a', ['1'] = 'b'}", "{[3.0] = 1, [1] = 1, [2] = 2}", "{[true] = 1}", "{[{}] = 1}", "{[print] = 1}",
      "{a = {b = {c = {d = {e = {f = {g = {h = {}}}}}}}}}"].map(enc),
    ev("local t = {} for i = 1, 100 do t['k' .. i] = i end return cjson.encode(t)"),
    ev("local t = {} for i = 1, 100 do t[i * 3] = i end return try(cjson.encode, t)"),
    ev("local t = {} for i = 1, 30 do t[i] = i end t[50] = 1 return cjson.encode(t)"),
    ev("local t = {} for i = 1, 300 do t[i] = i % 7 == 0 and 'x' or i / 8 end return cjson.encode(t)"),
  ] },
  { name: "encode: nesting beyond encode_max_depth, and a table that holds itself", steps: [
    ev("local t = {} t[1] = t return try(cjson.encode, t)"), ev("local t = {} t.a = t return try(cjson.encode, t)"),
    ev("local t = {} local c = t for i = 1, 999 do c[1] = {} c = c[1] end return #cjson.encode(t)"),
    ev("local t = {} local c = t for i = 1, 1000 do c[1] = {} c = c[1] end return try(cjson.encode, t)"),
    ev("local t = {} t[1] = t return cjson.encode(t)"),
  ] },
];

const DECODE: Script[] = [
  { name: "decode: every JSON value", steps: [
    ...["[1,2,3]", "\"abc\"", "  \"abc\"  ", "true", "false", "null", "[1,\"a\",true,false,null,[],{}]", "{\"a\":[1,2,{\"b\":\"c\"}]}",
      "{\"a\":1,\"a\":2}", "\t\n\r 5 \t\n\r", "[0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10]", "{\"x\":{\"y\":{\"z\":[[[]]]}}}", "[[],[[]],{}]",
      "{\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9}"].map(dec),
    ev("return cjson.decode('null') == cjson.null"), ev("return type(cjson.decode('null'))"),
    ev("return table.concat(cjson.decode('[0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10]'), ' ')"),
    ev("return cjson.decode('{\"keya\": \"a\", \"keyb\": \"b\"}').keyb"), ev("return cjson.decode('3.9')"), ev("return cjson.decode('[1,null,3]')"),
  ] },
  { name: "decode: numbers as strtod reads them", steps: [
    ...["1e400", "-1e400", "1e-400", "0x10", "0x1p3", "-0x1.8p1", "0X1F", "0x", "0xg", "+1", "+", "-", "-a", "01", "-01", "1.", ".5",
      "1.5e", "1.5e+", "1e5x", "inf", "-inf", "Infinity", "-Infinity", "infinit", "iNf", "nan", "NaN", "nan(123)", "nan(12", "-nan",
      "-0", "12345678901234567890", "0.1", "2.2250738585072011e-308", "4.9e-324", "[1,-2,+3]"].map(dec),
    ev("return tostring(cjson.decode(ARGV[1]))", "-nan"), ev("return tostring(cjson.decode(ARGV[1]))", "nan(0x10)"),
    ev("return cmsgpack.pack(cjson.decode('[nan(123), -nan, -nan(0x10), NaN(abc)]'))"),
  ] },
  { name: "decode: strings, escapes and \\u escapes to UTF-8", steps: [
    ...["\"a\\u00e9b\"", "\"\\u0041\\u00ff\\u0100\\u07ff\\u0800\\uffff\"", "\"\\ud83d\\ude00\"", "\"\\uD83D\\uDE00\"", "\"\\ud83d\"",
      "\"\\ude00\"", "\"\\ud83d\\u0041\"", "\"\\ud83dx\"", "\"\\ud83d\\ude0\"", "\"\\u12\"", "\"\\u12g4\"", "\"\\u0000x\"", "\"\\x\"",
      "\"\\/\\b\\f\\n\\r\\t\\\"\\\\\"", "\"abc", "\"abc\\", "\"a\\", "\"\\u", "\"raw \u00e9 bytes\"", "\"tab\there\""].map(dec),
  ] },
  { name: "decode: malformed JSON and its error texts", steps: [
    ...["", " ", "x", "{", "[", "[1,", "[1 2]", "{\"a\" 1}", "{\"a\":1 \"b\"}", "{1:1}", "{\"a\":}", "[1]x", "[1] [2]", "]", "}", ",", ":",
      "tru", "trueabc", "nul", "nil", "fals", "[1,]", "{\"a\":1,}", "{,}", "[,1]", "\v5", "\u00e25", "'a'"].map(dec),
    ...["\0abc", "a\0bc", "1\0bc", "\"a\0b\"", "[1]\0junk"].map(dec),
    ev("return try(cjson.decode)"), ev("return try(cjson.decode, '1', 2)"), ev("return try(cjson.decode, 123)"), ev("return try(cjson.decode, {})"),
    ev("return try(cjson.decode, nil)"), ev("return cjson.decode('{')"), ev("return cjson.decode()"),
  ] },
  { name: "decode: nesting beyond decode_max_depth", steps: [
    ev("return #cjson.decode(string.rep('[', 1000) .. string.rep(']', 1000))"),
    ev("return try(cjson.decode, string.rep('[', 1001) .. string.rep(']', 1001))"),
    ev("return try(cjson.decode, string.rep('{\"a\":', 1001) .. '1' .. string.rep('}', 1001))"),
    ev("return try(cjson.decode, string.rep('{\"a\":', 1000) .. '1' .. string.rep('}', 1000)) ~= nil"),
  ] },
];

const SETTINGS: Script[] = [
  fresh("settings: defaults, and their errors", [
    ...["encode_sparse_array", "encode_max_depth", "decode_max_depth", "encode_number_precision", "encode_keep_buffer",
      "encode_invalid_numbers", "decode_invalid_numbers"].map((f) => ev(`return try(cjson.${f})`)),
    ...["'null'", "'on'", "'off'", "'bogus'", "1", "{}", "true", "false", "'on\\0x'", "1, 2"].map((a) => ev(`return try(cjson.encode_invalid_numbers, ${a})`)),
    ...["1, 2", "0", "-1", "'x'", "{}", "'5'", "2.7", "2^32 + 5", "1e20", "0/0", "2^31", "2^31 - 1", "true"]
      .map((a) => ev(`return try(cjson.encode_max_depth, ${a})`)),
    ...["0", "15", "14", "1"].map((a) => ev(`return try(cjson.encode_number_precision, ${a})`)),
    ...["1, 2, 3, 4", "true, 3, 5", "'on', -1", "nil, nil, -1", "'x'", "nil, 'x'", "false, 2, 10", "nil, 2^32"]
      .map((a) => ev(`return try(cjson.encode_sparse_array, ${a})`)),
    ...["false", "'on'", "'yes'"].map((a) => ev(`return try(cjson.encode_keep_buffer, ${a})`)),
    ...["false", "'off'", "'null'"].map((a) => ev(`return try(cjson.decode_invalid_numbers, ${a})`)),
    ev("return try(cjson.decode_max_depth, 0)"),
  ]),
  fresh("settings: encode_number_precision", [
    ...[3, 1, 13, 10, 14].map((p) => ev(`cjson.encode_number_precision(${p}); return cjson.encode({1/3, 12345, 123.456, 0.0001234, 15, 25, 0.05, 95, 2.5, 1234567890123.5, 1e-7, -7.25e22})`)),
    ev(`local out = {} math.randomseed(7) for p = 1, 14 do cjson.encode_number_precision(p) local t = {} for i = 1, 200 do
      local k = i % 5 local x
      if k == 0 then x = math.random() * 10 ^ math.random(-30, 30) elseif k == 1 then x = math.random(1, 2^31 - 1) * 2 ^ math.random(-40, 40)
      elseif k == 2 then x = math.random(0, 99999) + 0.5 elseif k == 3 then x = (math.random(1, 9999) * 5) / 10 ^ math.random(1, 6)
      else x = -math.random() end
      t[i] = x end out[p] = cjson.encode(t) end return out`),
  ]),
  fresh("settings: encode_invalid_numbers and decode_invalid_numbers", [
    ev("cjson.encode_invalid_numbers(true); return cjson.encode({1/0, -1/0, 0/0, -(0/0), [1/0] = 1})"),
    ev("return cjson.encode({a = 1, [1/0] = 1})"),
    ev("cjson.encode_invalid_numbers('null'); return cjson.encode({1/0, -1/0, 0/0})"), ev("return cjson.encode({a = 1, [1/0] = 1})"),
    ev("cjson.encode_invalid_numbers(false); return try(cjson.encode, {0/0})"),
    ev("cjson.decode_invalid_numbers(false); return 1"),
    ...["0x10", "-inf", "inf", "+1", "01", "-01", "0", "-0", "[1, -abc]", "[1.5, -0.5e3]", "NaN", "Infinity", "-", "0.5"].map(dec),
  ]),
  fresh("settings: encode_sparse_array", [
    ev("cjson.encode_sparse_array(true); return cjson.encode({[1] = 1, [20] = 2})"),
    ev("cjson.encode_sparse_array(false, 0); return cjson.encode({[1] = 1, [20] = 2})"),
    ev("cjson.encode_sparse_array(false, 1, 0); return try(cjson.encode, {[1] = 1, [3] = 2})"),
    ev("cjson.encode_sparse_array(false, 3, 2); return {try(cjson.encode, {[1] = 1, [3] = 2}), try(cjson.encode, {[1] = 1, [7] = 2})}"),
    ev("cjson.encode_sparse_array(true, 2147483647, 0); return try(cjson.encode, {1, 2, [9] = 3})"),
  ]),
  fresh("settings: encode_max_depth and decode_max_depth, up to where the Lua stack gives out", [
    ev("cjson.encode_max_depth(2); return {try(cjson.encode, {{1}}), try(cjson.encode, {{{1}}})}"),
    ev("cjson.decode_max_depth(2); return {try(cjson.decode, '[[1]]'), try(cjson.decode, '[[[1]]]'), try(cjson.decode, '{\"a\":{\"b\":{\"c\":1}}}')}"),
    ev("cjson.encode_max_depth(100000); local t = {} local c = t for i = 1, 10000 do c[1] = {} c = c[1] end return try(cjson.encode, t)"),
    ev("local t = {} local c = t for i = 1, 10000 do c.a = {} c = c.a end return try(cjson.encode, t)"),
    ev("cjson.decode_max_depth(100000); return try(cjson.decode, string.rep('[', 10000))"),
    ev("return try(cjson.decode, string.rep('{\"a\":', 10000))"),
  ]),
  fresh("settings last from one script to the next; cjson.new has its own", [
    ev("return cjson.encode_max_depth(5)"), ev("return cjson.encode_max_depth()"),
    ev("local c = cjson.new(); return {c.encode_max_depth(), cjson.encode_max_depth()}"),
    ev("local c = cjson.new(); c.encode_max_depth(1); return {cjson.encode_max_depth(), c.encode_max_depth(), try(c.encode, {{}})}"),
    ev("local c = cjson.new(); c.x = 1; return {c.x, c._NAME, c._VERSION, c.null == cjson.null, c.encode({1, 2})}"),
    ev("local c = cjson.new(); local ks = {} for k in pairs(c) do ks[#ks + 1] = k end return ks"),
  ]),
  { name: "functions have a cjson of their own, which SCRIPT FLUSH leaves", steps: [
    "SCRIPT FLUSH", "FUNCTION FLUSH",
    ["FUNCTION", "LOAD", `#!lua name=cj
redis.register_function('depth', function(keys, args) return {cjson.encode_max_depth(tonumber(args[1])), cjson.decode_invalid_numbers(args[2] == 'on')} end)
redis.register_function('keys', function() local ks = {} for k in pairs(cjson) do ks[#ks + 1] = k end return ks end)
redis.register_function('write', function() cjson.x = 1 end)`],
    ["FCALL", "depth", "0", "7", "off"], ev("return {cjson.encode_max_depth(), cjson.decode_invalid_numbers()}"),
    ev("return {cjson.encode_max_depth(9), cjson.decode_invalid_numbers(true)}"), ["FCALL", "depth", "0", "7", "off"], "SCRIPT FLUSH",
    ["FCALL", "depth", "0", "7", "off"], ev("return {cjson.encode_max_depth(), cjson.decode_invalid_numbers()}"), "FCALL keys 0", "FCALL write 0",
    ["FUNCTION", "LOAD", "#!lua name=cj2\nlocal x = cjson.encode({1})\nredis.register_function('x', function() return x end)"],
    ["FCALL", "depth", "0", "1000", "on"], "FUNCTION FLUSH", "SCRIPT FLUSH",
  ] },
  { name: "the cjson table", steps: [
    ev("local ks = {} for k, v in pairs(cjson) do ks[#ks + 1] = k .. '=' .. type(v) end return ks"),
    ev("return {cjson._NAME, cjson._VERSION}"), ev("return tostring(cjson.null)"), ev("return cjson.null"), ev("return {1, cjson.null, 3}"),
    ev("error(cjson.null)"), ev("cjson.encode = function() return 1 end"), ev("cjson.x = 1"), ev("rawset(cjson, 'x', 1)"), ev("return cjson.foo"),
    ev("return tostring()"), ev("local f = tostring; return f()"), ev("return try(tostring)"),
    ev("return {tostring(nil), tostring(true), tostring(12), tostring(1/3), tostring('s'), tostring(setmetatable({}, {__tostring = function() return 'mt' end}))}"),
  ] },
];

const BIT: Script[] = [
  { name: "tobit: numbers to 32 bits, rounding to even, wrapping", steps: [
    ev(`local out = {} for _, x in ipairs({1, 0xffffffff, 2^32 + 5, -1, 2^31, 1.5, 2.5, -1.5, -2.5, 0.5, -0.5, 1e20, 2^52, 2^53 + 2,
      -2^63, 1/0, -1/0, 0/0, 2^51 + 0.5, 2^52 - 0.5, 1e-300, 4294967295.5}) do out[#out + 1] = bit.tobit(x) end return out`),
    ...["'10'", "'0x10'", "' 12 '", "'abc'", "{}", "", "nil", "true", "'0'", "'1e3'"].map((a) => ev(`return try(bit.tobit, ${a})`)),
    ev("return bit.tobit()"),
  ] },
  { name: "bnot, band, bor, bxor", steps: [
    ev("return {bit.bnot(0), bit.bnot(-1), bit.bnot(0x12345678), bit.bnot(2^32)}"),
    ev("return {bit.band(1), bit.band(0xff, 0x0f, 0x3), bit.bor(1, 2, 4, 8, 16, 32, 64, 128), bit.bxor(1, 2), bit.bxor(0xffffffff, 1)}"),
    ev("return {bit.band(2^40 + 7, 3), bit.bor(0.4, 0.6), bit.bor(-1, 0), bit.bxor(-2^31, 2^31)}"),
    ...["", "1, 'x', {}", "1, {}, 'x'", "'x', {}, 1", "1, nil", "1, '3'"].map((a) => ev(`return try(bit.band, ${a})`)),
    ev("return bit.band(1, {}, 'x')"),
  ] },
  { name: "shifts and rotations, by their count modulo 32", steps: [
    ...["lshift", "rshift", "arshift", "rol", "ror"].map((f) => ev(`local out = {} for _, n in ipairs({0, 1, 4, 31, 32, 33, 36, -1, 2^32 + 3}) do
      for _, x in ipairs({1, -1, 0x12345678, 0x80000000, -256}) do out[#out + 1] = bit.${f}(x, n) end end return out`)),
    ...["", "1", "'a', 1", "1, {}"].map((a) => ev(`return try(bit.lshift, ${a})`)),
  ] },
  { name: "bswap and tohex", steps: [
    ev("return {bit.bswap(0x12345678), bit.bswap(0xff), bit.bswap(-1), bit.bswap(0)}"),
    ev(`local out = {} for _, n in ipairs({0, 1, 4, 8, 9, 100, -1, -4, -8, -9, 3.5, 2^32 - 3, 2^31}) do
      out[#out + 1] = bit.tohex(0x12345678, n) out[#out + 1] = bit.tohex(0xabcdef, n) end return out`),
    ev("return {bit.tohex(1), bit.tohex(-1), bit.tohex(0x12345678)}"),
    ...["0x1234, nil", "0x1234, 'x'", "", "'x'"].map((a) => ev(`return try(bit.tohex, ${a})`)),
  ] },
  { name: "the bit table", steps: [
    ev("local ks = {} for k, v in pairs(bit) do ks[#ks + 1] = k .. '=' .. type(v) end return ks"),
    ev("bit.lshift = function() return 1 end"), ev("bit.x = 1"), ev("rawset(bit, 'x', 1)"), ev("return bit.x"),
    ev("assert(bit.tobit(1) == 1); assert(bit.band(1) == 1); assert(bit.bxor(1,2) == 3); assert(bit.bor(1,2,4,8,16,32,64,128) == 255)"),
  ] },
];

// Against Redbun as its own process: where deep nesting gives out depends on the thread's stack,
// and a server in a Worker (the shared test server) has a smaller one (see README).
runDifferentialSuites({
  cjson: [...ENCODE, ...DECODE, ...SETTINGS],
  bit: BIT,
}, { ownProcess: true });
