/*
 * The JS cost of a command, without the network: `bun run bench/micro.ts [rev] [test ...]`.
 *
 * redis-benchmark measures the whole server, where Bun's socket layer and the kernel are most of
 * the time and a shared machine's noise is larger than most changes to main.ts. This runs the
 * parser and the commands in-process instead: it loads a copy of main.ts with a harness appended
 * (a client without a socket), feeds it the same pipelined buffer of 16 commands over and over,
 * and reports nanoseconds per command (the minimum and the median of 7 runs).
 *
 * With a git revision (`HEAD`, `HEAD~3`, a commit), it measures that revision's main.ts and the
 * working tree's alternately, twice, so that both see the same machine.
 */

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");

/** A test is a list of commands repeated to fill each pipeline, or (for a big keyspace) a
 *  setup command and a template whose "__rand_int__" becomes a random number below 1M per command
 *  (the keys DEBUG POPULATE made: redis-benchmark -r pads them to 12 digits). */
type MicroTest = string[][] | { setup: string[]; template: string[] };
const R1M = (template: string[]): MicroTest => ({ setup: ["DEBUG", "POPULATE", "1000000", "key", "3"], template });

const TESTS: Record<string, MicroTest> = {
  get: [["GET", "key:__rand_int__"]],
  set: [["SET", "key:__rand_int__", "xxx"]],
  "set-distinct": Array.from({ length: 16 }, (_, i) => ["SET", `key:0000000000${10 + i}`, `v${100 + i}`]),
  incr: [["INCR", "counter:__rand_int__"]],
  lpush: [["LPUSH", "mylist", "xxx"]],
  "lpush-lpop": [["LPUSH", "mylist2", "xxx"], ["LPOP", "mylist2"]],
  sadd: [["SADD", "myset", "element:__rand_int__"]],
  hset: [["HSET", "myhash", "element:__rand_int__", "xxx"]],
  zadd: [["ZADD", "myzset", "0", "element:__rand_int__"]],
  mset: [["MSET", ...Array.from({ length: 20 }, (_, i) => (i % 2 ? "xxx" : "key:__rand_int__"))]],
  xadd: [["XADD", "mystream", "*", "field", "xxx"]],
  "get-1m": R1M(["GET", "key:__rand_int__"]),
  "set-1m": R1M(["SET", "key:__rand_int__", "xxx"]),
  "incr-1m": R1M(["INCR", "key:__rand_int__"]),
};

// Appended to the copy of main.ts: it sees the module's internals.
const HARNESS = `
let populated = false;
export async function microBench(test: any, batch: number, rounds: number): Promise<number> {
  if (!server.listeners.length) await startServer({ port: 0, save: "", appendonly: "no", "enable-debug-command": "yes" });
  const c = new Client(null, "127.0.0.1:1", "127.0.0.1:2");
  server.clients.set(c.id, c);
  const encode = (a: string[]) => "*" + a.length + "\\r\\n" + a.map((x) => "$" + x.length + "\\r\\n" + x + "\\r\\n").join("");
  const chunks: Buffer[] = [];
  if (Array.isArray(test)) {
    let s = "";
    for (let i = 0; i < batch; i++) s += encode(test[i % test.length]);
    chunks.push(Buffer.from(s, "latin1"));
  } else {
    if (!populated) { c.argv = test.setup; processCommand(c); c.outLen = 0; populated = true; }
    for (let k = 0; k < 4096; k++) {
      let s = "";
      for (let i = 0; i < batch; i++) {
        s += encode(test.template.map((x: string) => x.replace("__rand_int__", String(Math.floor(Math.random() * 1e6)))));
      }
      chunks.push(Buffer.from(s, "latin1"));
    }
  }
  const run = (n: number) => {
    for (let r = 0; r < n; r++) {
      appendInput(c, chunks[r & (chunks.length - 1)]);
      processInputBuffer(c);
      c.outLen = 0; c.pendingWrite = false; clientsPendingWrite.length = 0;
    }
  };
  run(2000);
  const t = performance.now();
  run(rounds);
  return ((performance.now() - t) * 1e6) / (rounds * batch);
}
`;

/** A loadable copy of a main.ts source with the harness appended, not starting a server itself. */
function harnessed(source: string, dir: string, name: string): string {
  const file = join(dir, name);
  writeFileSync(file, source.replace(/^if \(import\.meta\.main\) main\(.*$/m, "") + HARNESS);
  return file;
}

/** Runs every selected test in a child process (one server per process) and returns ns/command. */
function measure(file: string, tests: string[]): Map<string, [number, number]> {
  const script = `
    const { microBench } = await import(${JSON.stringify(file)});
    const tests = ${JSON.stringify(Object.fromEntries(tests.map((t) => [t, TESTS[t]])))};
    // A big keyspace stays for the tests after it, so those run first.
    const order = Object.keys(tests).sort((a, b) => Number(a.endsWith("-1m")) - Number(b.endsWith("-1m")));
    const out = {};
    for (const name of order) {
      const cmds = tests[name];
      const rounds = name === "mset" || name === "xadd" ? 3000 : 20000;
      const runs = [];
      for (let k = 0; k < 7; k++) runs.push(await microBench(cmds, 16, rounds));
      runs.sort((a, b) => a - b);
      out[name] = [runs[0], runs[3]];
    }
    console.log("RESULT " + JSON.stringify(out));
    process.exit(0);`;
  const runner = file.replace(/\.ts$/, ".run.ts");
  writeFileSync(runner, script);
  const pin = Bun.which("taskset") ? ["taskset", "-c", "1"] : [];
  const r = Bun.spawnSync([...pin, process.execPath, "run", runner], { stdout: "pipe", stderr: "pipe" });
  const line = r.stdout.toString().split("\n").find((l) => l.startsWith("RESULT "));
  if (!line) throw new Error(`harness failed: ${r.stderr.toString()}`);
  return new Map(Object.entries(JSON.parse(line.slice(7))));
}

const args = process.argv.slice(2);
const rev = args[0] && !(args[0] in TESTS) ? args.shift()! : "";
const tests = args.length ? args : Object.keys(TESTS);
for (const t of tests) if (!(t in TESTS)) throw new Error(`unknown test ${t}; tests: ${Object.keys(TESTS).join(", ")}`);

const dir = mkdtempSync(join(tmpdir(), "redbun-micro-"));
const tree = harnessed(readFileSync(join(ROOT, "main.ts"), "latin1"), dir, "tree.ts");
const fmt = (r: [number, number]) => `${r[0].toFixed(0).padStart(5)} ${r[1].toFixed(0).padStart(5)}`;
if (!rev) {
  console.log("ns per command (min, median of 7 runs of 16-command pipelines)");
  for (const [t, r] of measure(tree, tests)) console.log(`${t.padEnd(13)} ${fmt(r)}`);
} else {
  const old = Bun.spawnSync(["git", "-C", ROOT, "show", `${rev}:main.ts`]);
  if (old.exitCode !== 0) throw new Error(`git show ${rev}:main.ts failed`);
  const base = harnessed(old.stdout.toString("latin1"), dir, "rev.ts");
  const a = [measure(base, tests), measure(tree, tests)], b = [measure(base, tests), measure(tree, tests)];
  console.log(`ns per command (min, median of 7 runs), ${rev} then the working tree, twice`);
  for (const t of tests) console.log(`${t.padEnd(13)} ${rev}: ${fmt(a[0].get(t)!)} | ${fmt(b[0].get(t)!)}    tree: ${fmt(a[1].get(t)!)} | ${fmt(b[1].get(t)!)}`);
}
