// main.ts, Scripting: differential tests of EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT sent to a
// real redis-server and to Redbun, replies compared byte for byte (error texts, SHA1s in them, and
// the Lua values each reply type becomes). Same harness, targets and environment variables as
// tests/differential.test.ts (see ./differential-harness.ts).
import { runDifferentialSuites, type Script, type Step } from "./differential-harness.ts";

/** EVAL of a script with no keys and the given arguments. */
const ev = (body: string, ...args: string[]): string[] => ["EVAL", body, "0", ...args];
/** EVAL with keys. */
const evk = (body: string, keys: string[], ...args: string[]): string[] => ["EVAL", body, String(keys.length), ...keys, ...args];

const CONVERSIONS: Script[] = [
  { name: "Lua values to replies (RESP2)", steps: [
    ev("return 1"), ev("return -7"), ev("return 3.99"), ev("return -3.99"), ev("return 1e20"), ev("return -1e20"), ev("return 0/0"),
    ev("return 'hello'"), ev("return ''"), ev("return '\\0\\1\\255'"), ev("return true"), ev("return false"), ev("return nil"),
    ev("return {}"), ev("return {1, 2, {3, 'x', {}}}"), ev("return {1, 2, nil, 4}"), ev("return {1, false, true, 'a'}"),
    ev("return {a = 1, b = 2}"), ev("return {1, 2, a = 3}"), ev("return {ok = 'fine'}"), ev("return {ok = 'a\\r\\nb'}"),
    ev("return {err = 'My Error'}"), ev("return {err = 'ERR bad thing'}"), ev("return {err = 'a\\nb'}"),
    ev("return {ok = 1}"), ev("return {err = 1}"), ev("return {err = 'x', ok = 'y'}"),
    ev("return {double = 3.5}"), ev("return {double = 'x'}"), ev("return {big_number = '123456789012345678901234567890'}"),
    ev("return {map = {a = 1}}"), ev("return {set = {a = true}}"),
    ev("return {verbatim_string = {format = 'txt', string = 'hello'}}"), ev("return {verbatim_string = {format = 'txt'}}"),
    ev("return redis.status_reply('PONG')"), ev("return redis.error_reply('My Error')"), ev("return redis.error_reply('-CODE msg')"),
    ev("return redis.error_reply('-CODE')"), ev("return redis.error_reply(1)"), ev("return redis.status_reply()"),
    ev("return {1, {2, {3, {4, {5}}}}}"), ev("return ARGV", "a", "b", ""), evk("return KEYS", ["k1", "k2"], "a"),
    ev("return #ARGV"), evk("return {#KEYS, #ARGV}", ["k"], "a", "b"),
    // Tables that hold themselves nest until the Lua stack runs out, at the same depth as Redis.
    ev("local a = {}; local b = {a}; a[1] = b; return a"), ev("local a = {}; a[1] = {map = {x = a}}; return a"),
    ev("local t = {}; t.set = {}; t.set[t] = true; return t"), "PING",
  ] },
  { name: "Lua values to replies (RESP3 client)", steps: [
    "HELLO 3",
    ev("return true"), ev("return false"), ev("return nil"), ev("return {double = 3.5}"), ev("return {double = 1/0}"),
    ev("return {big_number = '12345678901234567890'}"), ev("return {map = {a = 1}}"), ev("return {set = {x = true}}"),
    ev("return {verbatim_string = {format = 'txt', string = 'hello'}}"), ev("return {verbatim_string = {format = 'markdown', string = 'hi'}}"),
    ev("redis.setresp(3); return true"), ev("redis.setresp(3); return false"), ev("redis.setresp(3); return nil"),
    ev("return {1, 'two', {3}}"),
  ] },
  { name: "replies to Lua values (RESP2)", steps: [
    "SET s hello", "RPUSH l a b c", "HSET h f v", "SADD st m", "ZADD z 1.5 m",
    ev("return redis.call('GET', 's')"), ev("return redis.call('GET', 'nokey')"), ev("return type(redis.call('GET', 'nokey'))"),
    ev("return redis.call('LRANGE', 'l', 0, -1)"), ev("return redis.call('SET', 'x', 'y')"), ev("return type(redis.call('SET', 'x', 'y'))"),
    ev("return redis.call('SET', 'x', 'y')['ok']"), ev("return redis.call('INCR', 'cnt')"), ev("return type(redis.call('INCR', 'cnt'))"),
    ev("return redis.call('HGETALL', 'h')"), ev("return redis.call('ZRANGE', 'z', 0, -1, 'WITHSCORES')"),
    ev("return redis.call('BLPOP', 'nolist', 0)"), ev("return type(redis.call('BLPOP', 'nolist', 0))"),
    ev("return redis.pcall('INCR', 's')"), ev("return redis.pcall('INCR', 's')['err']"), ev("return type(redis.pcall('INCR', 's'))"),
    ev("return redis.call('EXISTS', 's', 'l', 'zz')"), ev("return redis.call('TYPE', 'l')"),
    ev("return redis.call('SET', 'n', 12.5)"), ev("return redis.call('GET', 'n')"), ev("redis.call('SET', 'n', 0.1); return redis.call('GET', 'n')"),
    ev("redis.call('SET', 'n', 1e300); return redis.call('GET', 'n')"), ev("redis.call('SET', 'n', 2^53 + 1); return redis.call('GET', 'n')"),
  ] },
  { name: "replies to Lua values (RESP3 in the script)", steps: [
    "HSET h f v", "SADD st m", "ZADD z 1.5 m",
    ev("redis.setresp(3); return redis.call('HGETALL', 'h')"), ev("redis.setresp(3); return redis.call('HGETALL', 'h')['map']['f']"),
    ev("redis.setresp(3); return redis.call('SMEMBERS', 'st')"), ev("redis.setresp(3); return type(redis.call('SMEMBERS', 'st')['set'])"),
    ev("redis.setresp(3); return redis.call('ZSCORE', 'z', 'm')"), ev("redis.setresp(3); return redis.call('ZSCORE', 'z', 'm')['double']"),
    ev("redis.setresp(3); return redis.call('GET', 'nokey')"), ev("redis.setresp(3); return type(redis.call('GET', 'nokey'))"),
    ev("redis.setresp(3); return redis.call('EXISTS', 'h')"), ev("redis.setresp(4)"), ev("redis.setresp()"), ev("redis.setresp(2, 3)"),
    "HELLO 3",
    ev("redis.setresp(3); return redis.call('HGETALL', 'h')"), ev("redis.setresp(3); return redis.call('SMEMBERS', 'st')"),
    ev("redis.setresp(3); return redis.call('ZSCORE', 'z', 'm')"),
  ] },
];

const ERRORS: Script[] = [
  { name: "errors raised by scripts", steps: [
    "SET s hello",
    ev("error('boom')"), ev("error('boom', 0)"), ev("error({err = 'CODE custom'})"), ev("error(nil)"), ev("error(12)"),
    ev("return redis.call('INCR', 's')"), ev("return redis.call('nosuchcommand')"), ev("return redis.call('GET')"), ev("return redis.call()"),
    ev("return redis.call('GET', {})"), ev("return redis.call('GET', nil)"), ev("return redis.call('GET', true)"),
    ev("return redis.pcall('nosuchcommand')"), ev("return redis.pcall()"), ev("return redis.pcall('GET', {})"),
    ev("local ok, e = pcall(redis.call, 'INCR', 's'); return {tostring(ok), e}"),
    ev("local ok, e = pcall(redis.call, 'nosuch'); return {tostring(ok), e}"),
    ev("local ok, e = pcall(error, 'x'); return {tostring(ok), e}"), ev("local ok, e = pcall(error, {err = 'y'}); return {tostring(ok), e}"),
    ev("local ok, e = pcall(error, {1}); return {tostring(ok), type(e)}"),
    ev("return redis.call('EVAL', 'return 1', 0)"), ev("return redis.call('MULTI')"), ev("return redis.call('SUBSCRIBE', 'c')"),
    ev("return redis.call('SCRIPT', 'LOAD', 'return 1')"), ev("return redis.call('INCR', 's', 'extra')"),
    ev("local t = nil; return t.x"), ev("return 1 +"), ev("return"), ev("return {"), ev("return 'unfinished"), ["EVAL", "", "0"],
    ev("return redis.sha1hex()"), ev("return redis.log()"), ev("return redis.log('x', 'y')"), ev("return redis.log(99, 'y')"),
    ev("return redis.set_repl()"), ev("return redis.set_repl(99)"), ev("return redis.acl_check_cmd()"), ev("return redis.acl_check_cmd('nosuch')"),
    ev("return math.random(1, 2, 3)"), ev("return math.random(0)"), ev("return math.random(5, 1)"), ev("return math.random('x')"),
    ev("return math.randomseed()"),
  ] },
  { name: "arguments of EVAL and EVALSHA", steps: [
    "EVAL", "EVAL x", ev("return 1", "a"), ["EVAL", "return 1", "x"], ["EVAL", "return 1", "-1"], ["EVAL", "return 1", "2", "k"],
    ["EVAL", "return 1", "1"], ["EVAL", "return KEYS[1]", "1", "k"], ["EVALSHA", "abc", "0"], ["EVALSHA", "0".repeat(40), "0"],
    ["EVALSHA", "0".repeat(41), "0"], ["EVALSHA", "0".repeat(40), "x"], ["EVAL_RO", "return 1", "0"], ["EVALSHA_RO", "0".repeat(40), "0"],
  ] },
  { name: "globals and the sandbox", steps: [
    ev("x = 1"), ev("return x"), ev("return _G.x"), ev("_G.x = 1"), ev("rawset(_G, 'x', 1)"), ev("local t = {}; rawset(t, 'a', 1); return t.a"),
    ev("setmetatable(_G, {})"), ev("return getmetatable(_G) == nil"), ev("string.x = 1"), ev("table.x = 1"), ev("math.x = 1"),
    ev("redis.x = 1"), ev("redis.call = nil"), ev("local r = redis; r.call = 1"), ev("return type(print)"), ev("return type(loadfile)"),
    ev("return type(dofile)"), ev("return type(os)"), ev("return type(io)"), ev("return type(debug)"), ev("return type(require)"),
    ev("return type(package)"), ev("return type(getfenv)"), ev("return type(setfenv)"), ev("return type(newproxy)"), ev("return type(module)"),
    ev("return type(loadstring)"), ev("return type(load)"), ev("return type(coroutine)"), ev("return type(unpack)"), ev("return type(gcinfo)"),
    ev("return _VERSION"), ev("return ('abc'):upper()"), ev("return string.format('%5.2f|%s|%d', 3.14159, 'x', 42)"),
    ev("return table.concat({1, 2, 3}, ',')"), ev("return table.getn({1, 2})"), ev("return unpack({1, 2, 3})"), ev("return select('#', 1, 2)"),
    ev("return tostring(math.floor(3.7))"), ev("return tostring(math.huge)"), ev("return tonumber('0x10')"), ev("return tostring(10/3)"),
    ev("local f = function() x = 1 end; f()"), ev("local ok, e = pcall(function() y = 1 end); return e"),
    ev("local ok, e = pcall(function() return z end); return e"),
    ev("return redis.REDIS_VERSION"), ev("return redis.REDIS_VERSION_NUM"), ev("return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}"),
    ev("return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}"),
    ev("return redis.sha1hex('')"), ev("return redis.sha1hex('Pizza & Mandolino')"), ev("return redis.sha1hex(12)"),
    ev("return redis.replicate_commands()"), ev("return redis.breakpoint()"), ev("return redis.debug('x')"),
    ev("redis.log(redis.LOG_WARNING, 'from a script'); return 1"), ev("return redis.set_repl(redis.REPL_ALL)"),
    ev("local ks = {}; for k in pairs(_G) do ks[#ks + 1] = k end; table.sort(ks); return ks"),
    ev("local ks = {}; for k in pairs(redis) do ks[#ks + 1] = k end; table.sort(ks); return ks"),
    ev("local n = 0; for k, v in next, math do n = n + 1 end; return n"), ev("return rawget(_G, 'KEYS') ~= nil"),
    ev("return loadstring('return 1')()"), ev("local f = loadstring('x = 5'); local ok, e = pcall(f); return e"),
    ev("local co = coroutine.create(function() coroutine.yield(1) end); local ok, v = coroutine.resume(co); return v"),
    ev("math.randomseed(42); return {tostring(math.random()), math.random(10), math.random(5, 8)}"),
  ] },
];

const SCRIPT_CMD: Script[] = [
  { name: "SCRIPT LOAD, EXISTS and EVALSHA", steps: [
    "SCRIPT FLUSH", ["SCRIPT", "LOAD", "return 'loaded'"], ["EVALSHA", "b534286061d4b9e4026607613b95c06c06015ae8", "0"],
    ["SCRIPT", "EXISTS", "b534286061d4b9e4026607613b95c06c06015ae8", "B534286061D4B9E4026607613B95C06C06015AE8", "nope"],
    ["EVALSHA", "B534286061D4B9E4026607613B95C06C06015AE8", "0"], ["EVALSHA_RO", "b534286061d4b9e4026607613b95c06c06015ae8", "0"],
    ["SCRIPT", "LOAD", "return +"], ["SCRIPT", "LOAD", "return 1", "x"], "SCRIPT LOAD", ["SCRIPT", "LOAD", ""],
    ev("return 'via eval'"), ["SCRIPT", "EXISTS", "ea04f0a0b5ed7a0b16d9d1bcfd51fcc89a0f2ab1"],
    ["EVALSHA", "ea04f0a0b5ed7a0b16d9d1bcfd51fcc89a0f2ab1", "0"],
    "SCRIPT FLUSH", ["SCRIPT", "EXISTS", "b534286061d4b9e4026607613b95c06c06015ae8"], ["EVALSHA", "b534286061d4b9e4026607613b95c06c06015ae8", "0"],
    "SCRIPT FLUSH ASYNC", "SCRIPT FLUSH sync", "SCRIPT FLUSH x", "SCRIPT FLUSH sync x", "SCRIPT EXISTS", "SCRIPT KILL", "SCRIPT KILL x",
    "SCRIPT HELP", "SCRIPT HELP x", "SCRIPT", "SCRIPT NOPE", "SCRIPT DEBUG", // SCRIPT DEBUG NO|YES: scripting.test.ts (it depends on pipelining)
  ] },
  { name: "shebang flags", steps: [
    "SET k v",
    ev("#!lua\nreturn redis.call('GET', 'k')"), ev("#!lua flags=no-writes\nreturn redis.call('GET', 'k')"),
    ev("#!lua flags=no-writes\nreturn redis.call('SET', 'k', 'w')"), ev("#!lua flags=no-writes,allow-oom\nreturn 1"),
    ev("#!lua flags=allow-stale,no-cluster,allow-cross-slot-keys\nreturn 2"), ev("#!lua flags=\nreturn 3"),
    ev("#!lua flags=bogus\nreturn 1"), ev("#!lua name=x\nreturn 1"), ev("#!python\nreturn 1"), ev("#!lua"), ev("#!\nreturn 1"),
    ev("#!lua\nerror('line two')"), ev("#!lua\n\nx = 1"), ["EVAL_RO", "#!lua\nreturn 1", "0"], ["EVAL_RO", "#!lua flags=no-writes\nreturn 1", "0"],
    ["EVAL_RO", "return redis.call('SET', 'k', 'x')", "0"], ["EVAL_RO", "return redis.call('GET', 'k')", "0"],
    ["EVAL_RO", "return redis.call('PUBLISH', 'c', 'm')", "0"], ev("#!lua flags=no-writes\nreturn redis.call('PUBLISH', 'c', 'm')"),
    ev("#!lua\nreturn redis.call('PUBLISH', 'c', 'm')"),
  ] },
  { name: "scripts in transactions and databases", steps: [
    "MULTI", ev("return redis.call('INCR', 'c')"), ev("return redis.call('INCR', 'c')"), "EXEC",
    "SELECT 3", ev("redis.call('SET', 'in3', 'x'); return redis.call('GET', 'in3')"), "SELECT 0", "EXISTS in3",
    ev("redis.call('SELECT', 5); redis.call('SET', 'in5', 'y'); return 1"), "GET in5", "SELECT 5", "GET in5", "SELECT 0",
    ev("return redis.call('SELECT', 99)"), "FLUSHALL",
  ] },
];

const COMMAND_INFO: Step[] = ["COMMAND GETKEYS EVAL x 2 a b c",
  "COMMAND GETKEYS EVAL x 0 a", "COMMAND GETKEYS EVALSHA_RO x 1 k"];

/** A library's code: its first line, then the body. */
const lib = (name: string, body: string): string => `#!lua name=${name}\n${body}`;
/** A library of one function. */
const lib1 = (name: string, fn: string, body: string): string => lib(name, `redis.register_function('${fn}', function(keys, args) ${body} end)`);
const load = (code: string, ...opts: string[]): string[] => ["FUNCTION", "LOAD", ...opts, code];
/** Code that registers through the named-arguments form. */
const named = (args: string): string => lib("named", `redis.register_function{${args}}`);

const FUNCTIONS: Script[] = [
  { name: "FUNCTION LOAD and its errors", steps: [
    load(lib1("l1", "f1", "return 'hello'")), ["FCALL", "f1", "0"], ["FCALL", "F1", "0"],
    load(lib1("l1", "f1", "return 'again'")), load(lib1("l1", "f1", "return 'replaced'"), "REPLACE"), ["FCALL", "f1", "0"],
    load(lib1("l1", "f1", "return 'x'"), "replace", "REPLACE"), load(lib1("l9", "f9", "return 1"), "foo"), ["FUNCTION", "LOAD"],
    ["FUNCTION", "LOAD", "REPLACE"], load("return 1"), load("#!lua name=x"), load("#!lua\nreturn 1"), load("#!lua name=a name=b\nreturn 1"),
    load("#!lua foo=bar\nreturn 1"), load("#!lua name=bad-name\nreturn 1"), load("#!lua name=\nreturn 1"), load("#!bad_engine name=x\nreturn 1"),
    load("#!\nreturn 1"), load("#!lua name='unbalanced\nreturn 1"), load("#!lua NAME=upper\nredis.register_function('fu', function() return 1 end)"),
    load(lib1("Upper", "fu2", "return 2")), load("#!LUA name=engcase\nredis.register_function('fe', function() return 3 end)"), ["FCALL", "fe", "0"],
    load(lib("e1", "bad script")), load(lib("e2", "error('boom')")), load(lib("e3", "return 1")), load(lib("e4", "redis.call('ping')")),
    load(lib("e5", "math.random()")), load(lib("e6", "a = 1")), load(lib("e7", "redis.setresp(3)")), load(lib("e8", "local t = getmetatable(_G)")),
    load(lib("e9", "redis.register_function()")), load(lib("e10", "redis.register_function('f', 'notfn')")),
    load(lib("e11", "redis.register_function({}, function() end)")), load(lib("e12", "redis.register_function('a', function() end, 3)")),
    load(lib("e13", "redis.register_function('bad name', function() end)")), load(lib("e14", "redis.register_function('', function() end)")),
    load(lib("e15", "redis.register_function('d', function() end); redis.register_function('d', function() end)")),
    load(lib("e16", "redis.register_function('f1', function() end)")), load(lib("e17", "redis.math.random()")),
    load(lib("e18", "redis.redis.call('ping')")), load(lib("e19", "redis.log(redis.LOG_NOTICE, 'loading'); redis.register_function('fv', function() return redis.REDIS_VERSION_NUM > 0 end)")),
    load(lib("e20", "redis.LOG_NOTICE = 1")), load(lib("e21", "local r = redis; r.x = 1")), load(lib("e22", "error({err='-MY code'})")),
    load(lib("e23", "redis.register_function(7, function() return 7 end)")), ["FCALL", "7", "0"],
    load(named("function_name='n1', callback=function() return 'n1' end")), ["FCALL", "n1", "0"],
    load(named("function_name='n2'")), load(named("callback=function() end")), load(named("function_name='n3', callback='x'")),
    load(named("function_name={}, callback=function() end")), load(named("function_name='n4', callback=function() end, description={}")),
    load(named("function_name='n5', callback=function() end, flags='no-writes'")), load(named("function_name='n6', callback=function() end, flags={'bad'}")),
    load(named("function_name='n7', callback=function() end, flags={1}")), load(named("function_name='n8', callback=function() end, foo=1")),
    load(lib("named2", "redis.register_function{[1]='x', callback=function() end}")), load(lib("named3", "redis.register_function('a')")),
    load(named("function_name='n9', callback=function() end, flags={'no-writes', 'ALLOW-OOM', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'}, description='all'")),
    ["FUNCTION", "LIST", "LIBRARYNAME", "named"], "FUNCTION STATS",
    load(lib("t", "local a = 1 while 1 do a = a + 1 end")),
  ] },
  { name: "FCALL and FCALL_RO", steps: [
    load(lib("fc", "redis.register_function('args', function(keys, args) return {#keys, #args, keys[1] or 'none', args[1] or 'none'} end)\n" +
      "redis.register_function('err', function() error('oops') end)\n" +
      "redis.register_function('werr', function(keys) return redis.call('INCR', keys[1]) end)\n" +
      "redis.register_function('pc', function(keys) return redis.pcall('INCR', keys[1]) end)\n" +
      "redis.register_function('gkeys', function() return KEYS end)\n" +
      "redis.register_function('setg', function() x = 1 end)\n" +
      "redis.register_function('reg', function() redis.register_function('y', function() end) end)\n" +
      "redis.register_function('w', function(keys, args) return redis.call('SET', keys[1], args[1]) end)\n" +
      "redis.register_function{function_name='ro', callback=function(keys) return redis.call('GET', keys[1]) end, flags={'no-writes'}}\n" +
      "redis.register_function{function_name='rowrite', callback=function(keys) return redis.call('SET', keys[1], 'v') end, flags={'no-writes'}}\n" +
      "redis.register_function('g', function() return {type(_G), type(redis.call), type(redis.register_function), type(string.rep)} end)\n" +
      "redis.register_function('resp', function() redis.setresp(3); return redis.call('HGETALL', 'h') end)\n" +
      "redis.register_function('table', function() return {1, 'two', {3}, {ok='fine'}} end)")),
    ["FCALL", "nofunc", "0"], ["FCALL", "args", "bad"], ["FCALL", "args", "10", "k"], ["FCALL", "args", "-1", "k"], ["FCALL", "args"],
    ["FCALL", "args", "0"], ["FCALL", "args", "2", "k1", "k2", "a1"], ["FCALL", "ARGS", "1", "k", "a", "b"],
    ["FCALL", "err", "0"], "SET s str", ["FCALL", "werr", "1", "s"], ["FCALL", "pc", "1", "s"], ["FCALL", "gkeys", "0"],
    ["FCALL", "setg", "0"], ["FCALL", "reg", "0"], ["FCALL", "w", "1", "k", "v"], "GET k", ["FCALL_RO", "w", "1", "k", "v"],
    ["FCALL_RO", "ro", "1", "k"], ["FCALL", "ro", "1", "k"], ["FCALL_RO", "rowrite", "1", "k"], ["FCALL", "rowrite", "1", "k"],
    ["FCALL", "g", "0"], "HSET h f v", ["FCALL", "resp", "0"], ["FCALL", "table", "0"],
    "MULTI", ["FCALL", "w", "1", "m", "1"], ["FCALL", "ro", "1", "m"], "EXEC",
    ["EVAL", "return redis.call('FCALL', 'ro', 1, 'k')", "0"], ["EVAL", "return redis.call('FUNCTION', 'LIST')", "0"],
    "HELLO 3", ["FCALL", "resp", "0"], ["FCALL", "table", "0"], ["FUNCTION", "LIST", "LIBRARYNAME", "nothing*"], "HELLO 2",
    "FLUSHALL", ["FCALL", "ro", "1", "k"], "FUNCTION STATS",
  ] },
  { name: "FUNCTION LIST, DELETE, FLUSH, STATS, KILL, RESTORE, HELP", steps: [
    "FUNCTION FLUSH", "FUNCTION LIST", "FUNCTION STATS", load(lib1("alpha", "fa", "return 1")), load(lib1("beta", "fb", "return 2")),
    load(named("function_name='fn', callback=function() end, description='described', flags={'allow-stale', 'no-writes'}")),
    "FUNCTION LIST LIBRARYNAME alpha", "FUNCTION LIST LIBRARYNAME ALPHA", "FUNCTION LIST LIBRARYNAME b* WITHCODE", "FUNCTION LIST WITHCODE LIBRARYNAME named",
    "FUNCTION LIST foo", "FUNCTION LIST LIBRARYNAME", "FUNCTION LIST WITHCODE WITHCODE", "FUNCTION LIST LIBRARYNAME a LIBRARYNAME b",
    "FUNCTION STATS", "FUNCTION DELETE nolib", "FUNCTION DELETE ALPHA", "FUNCTION DELETE alpha", "FCALL fa 0", "FUNCTION DELETE",
    "FUNCTION DELETE a b", "FUNCTION STATS", "FUNCTION KILL", "FUNCTION KILL x", "FUNCTION STATS x",
    "FUNCTION FLUSH bad", "FUNCTION FLUSH a b", "FUNCTION FLUSH SYNC", "FUNCTION LIST", load(lib1("gamma", "fg", "return 3")),
    "FUNCTION FLUSH ASYNC", "FUNCTION FLUSH", "FUNCTION LIST",
    "FUNCTION RESTORE bad", "FUNCTION RESTORE bad BADPOLICY", "FUNCTION RESTORE bad FLUSH", "FUNCTION RESTORE a b c",
    "FUNCTION DUMP x", "FUNCTION HELP", "FUNCTION HELP x", "FUNCTION", "FUNCTION bad", "FUNCTION load",
    "SCRIPT KILL", "FCALL", "FCALL_RO f",
    "COMMAND GETKEYS FCALL f 2 a b c", "COMMAND GETKEYS FCALL_RO f 0 a",
  ] },
];

runDifferentialSuites({
  "FUNCTION and FCALL": FUNCTIONS,
  "Lua and RESP conversions": CONVERSIONS,
  "script errors and the sandbox": ERRORS,
  "SCRIPT and flags": [...SCRIPT_CMD, { name: "command table rows", steps: COMMAND_INFO }],
});
