// main.ts, main: the installable package. The project packed (`bun pm pack`) and installed from
// the tarball into a scratch project, then used as a project's tests use it: a bun:test file on
// the in-process API (`redbun`), a Vitest file on Node through `redbun/node`, and `bunx redbun`.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RawClient } from "./client.ts";
import { freePort } from "./helpers.ts";

const ROOT = join(import.meta.dir, "..");
let scratch = "";

/** Runs a command in the scratch project; returns its exit code and output. */
async function run(argv: string[], timeoutMs = 60000): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn(argv, { cwd: scratch, stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1", CI: "1" } });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [out, err] = [await new Response(proc.stdout).text(), await new Response(proc.stderr).text()];
  clearTimeout(timer);
  return { code: await proc.exited, out: out + err };
}

// The scenario both test files run: a primary and a replica; a key that expires when time moves;
// a BLPOP that times out when time moves.
const SCENARIO = (client: string) => `
  const primary = await startServer();
  const replica = await startServer({ replicaof: "127.0.0.1 " + primary.port, seed: 1 });
  try {
    const p = ${client}(primary.port), r = ${client}(replica.port), blocked = ${client}(primary.port);
    await p.set("session", "data", "EX", 60);
    expect(await p.wait(1, 5000)).toBe(1);
    expect(await r.get("session")).toBe("data");
    await primary.time.advance(60_000);
    expect(await p.get("session")).toBe(null);
    // The replica's copy goes with the primary's DEL.
    for (let i = 0; i < 100 && (await r.exists("session")); i++) await new Promise((ok) => setTimeout(ok, 10));
    expect(await r.exists("session")).toBe(0);
    const popped = blocked.blpop("jobs", 5);
    while (!(await p.info("clients")).includes("blocked_clients:1")) await new Promise((ok) => setTimeout(ok, 10));
    await primary.time.advance(5_000);
    expect(await popped).toBe(null);
    p.disconnect(); r.disconnect(); blocked.disconnect();
  } finally {
    await replica.close();
    await primary.close();
  }
`;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "redbun-package-"));
  const packed = await Bun.spawn(["bun", "pm", "pack", "--destination", scratch, "--quiet"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" }).exited;
  expect(packed).toBe(0);
  const tarball = readdirSync(scratch).find((f) => f.endsWith(".tgz"))!;
  writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }));
  const added = await run(["bun", "add", `./${tarball}`]);
  expect(added.out).toContain("redbun");
  expect(added.code).toBe(0);
  // The test tools come from this project's own node_modules (no network needed for them).
  for (const dep of ["vitest", "ioredis"]) symlinkSync(join(ROOT, "node_modules", dep), join(scratch, "node_modules", dep));
}, 60000);

afterAll(() => { if (scratch) rmSync(scratch, { recursive: true, force: true }); });

describe("package", () => {
  test("installs from the packed tarball with what a project needs: main.ts, the node entry, the bin", () => {
    expect(readdirSync(join(scratch, "node_modules", "redbun")).filter((f) => !f.startsWith(".")).sort()).toEqual(["README.md", "bin", "main.ts", "node", "package.json"]);
    expect(readdirSync(join(scratch, "node_modules", ".bin"))).toContain("redbun");
  });

  test("bun:test in the project: two servers, replication, time moved to expire a key and time out a BLPOP", async () => {
    writeFileSync(join(scratch, "redbun-bun.test.ts"), `
      import { expect, test } from "bun:test";
      import { startServer } from "redbun";
      import Redis from "ioredis";
      const client = (port: number) => new Redis(port, "127.0.0.1");
      test("redbun in a project's bun tests", async () => {${SCENARIO("client")}});
    `);
    const { code, out } = await run(["bun", "test", "./redbun-bun.test.ts"]);
    expect(out).toContain(" 1 pass");
    expect(code).toBe(0);
  }, 60000);

  test("Vitest on Node through redbun/node: the same scenario, each server a `bun main.ts` process", async () => {
    writeFileSync(join(scratch, "redbun-node.test.mjs"), `
      import { expect, test } from "vitest";
      import { startServer } from "redbun/node";
      import Redis from "ioredis";
      const client = (port) => new Redis(port, "127.0.0.1");
      test("redbun in a project's Vitest tests", async () => {${SCENARIO("client")}}, 30000);
    `);
    const { code, out } = await run(["node", join(scratch, "node_modules", "vitest", "vitest.mjs"), "run", "redbun-node.test.mjs"], 120000);
    expect(out).toMatch(/Tests\s+1 passed/);
    expect(code).toBe(0);
  }, 120000);

  test("bunx redbun --port N starts the server with redis-server's flags", async () => {
    const port = await freePort();
    const proc = Bun.spawn(["bunx", "redbun", "--port", String(port), "--save", "", "--loglevel", "warning"], { cwd: scratch, stdout: "pipe", stderr: "pipe" });
    try {
      let c: RawClient | null = null;
      for (let i = 0; i < 200 && !c; i++) c = await RawClient.connect(port).catch(async () => (await Bun.sleep(20), null));
      expect(await c!.cmd("PING")).toBe("PONG");
      expect(await c!.cmd("CONFIG", "GET", "loglevel")).toEqual(["loglevel", "warning"]);
      c!.close();
    } finally {
      proc.kill();
      expect(await proc.exited).toBe(0);
    }
  }, 30000);
});
