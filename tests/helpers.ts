// Shared test setup. The server keeps its state in module globals, as Redis does, so one process
// runs one in-process server: `sharedServer()` starts it once (port 0) for all test files, and
// tests that need their own configuration or a fresh process use `spawnServer()`.
import { startServer, type RedbunServer } from "../main.ts";
import { RawClient } from "./client.ts";

let shared: Promise<RedbunServer> | null = null;
let clockOffset = 0;

/** The in-process server shared by the test files (DEBUG allowed from localhost). Its clock is
 *  the real one plus whatever advanceClock() added, so expiry tests need not sleep. */
export function sharedServer(): Promise<RedbunServer> {
  shared ??= startServer({ port: 0, save: "", appendonly: "no", "enable-debug-command": "local", clock: () => Date.now() + clockOffset });
  return shared;
}

/** Moves the shared server's clock forward. */
export function advanceClock(ms: number): void { clockOffset += ms; }

/** A fresh connection to the shared server, on an empty dataset (FLUSHALL) in RESP2. */
export async function connect(): Promise<RawClient> {
  const srv = await sharedServer();
  const c = await RawClient.connect(srv.port);
  await c.cmd("FLUSHALL");
  return c;
}

export interface SpawnedServer { port: number; proc: ReturnType<typeof Bun.spawn>; stdout(): string; stop(): Promise<number> }

/** Starts `bun run main.ts ...args` in its own process on a free port and waits until it answers. */
export async function spawnServer(args: string[] = [], opts: { cwd?: string; portFlag?: boolean } = {}): Promise<SpawnedServer> {
  const port = await freePort();
  const argv = ["bun", "run", `${import.meta.dir}/../main.ts`, ...args];
  if (opts.portFlag !== false) argv.push("--port", String(port));
  const proc = Bun.spawn(argv, { cwd: opts.cwd, stdout: "pipe", stderr: "pipe" });
  let out = "";
  const reader = (async () => { for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) out += Buffer.from(chunk).toString("latin1"); })();
  const deadline = Date.now() + 10000;
  for (;;) {
    try {
      const c = await RawClient.connect(port);
      c.close();
      break;
    } catch {
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start: ${out}`);
      await Bun.sleep(50);
    }
  }
  return {
    port, proc,
    stdout: () => out,
    async stop() { proc.kill("SIGTERM"); const code = await proc.exited; await reader; return code; },
  };
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}
