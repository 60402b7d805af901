// redbun/node: Redbun's startServer for programs on Node (Jest, Vitest on Node ...). The same API
// as main.ts's (see its startServer and the README's "Use in tests"), with each server a process
// of its own, `bun main.ts`, since Node cannot run Redbun itself: Bun must be on the PATH. The
// clock and the seed travel over RESP as DEBUG TIME and DEBUG SEED (so enable-debug-command is
// "local" unless an option says otherwise). CommonJS, so that Jest can require it; index.mjs
// gives it to `import`.
"use strict";
const { spawn } = require("node:child_process");
const { mkdtempSync, rmSync } = require("node:fs");
const { connect, createServer } = require("node:net");
const { tmpdir } = require("node:os");
const { join } = require("node:path");

const MAIN = join(__dirname, "..", "main.ts");
const DEFAULTS = { save: "", appendonly: "no", "repl-diskless-sync-delay": "0", "enable-debug-command": "local" };
const START_TIMEOUT_MS = 20000;
/** Children not yet stopped, and the directories made for them. */
const running = new Map();

// A test runner that ends without close() leaves no server (and no directory) behind.
process.on("exit", () => {
  for (const [child, dir] of running) {
    child.kill("SIGKILL");
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});

/** Starts a server; resolves once it answers on its port. Options are redis.conf parameters by
 *  name, and `seed`. */
async function startServer(options = {}) {
  const params = { ...DEFAULTS };
  let seed;
  for (const [name, v] of Object.entries(options)) {
    if (v === undefined) continue;
    if (name === "seed") {
      seed = Number(v);
      if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, not ${v}`);
    } else params[name.toLowerCase()] = typeof v === "boolean" ? (v ? "yes" : "no") : String(v);
  }
  const ownDir = params.dir === undefined ? mkdtempSync(join(tmpdir(), "redbun-")) : null;
  if (ownDir) params.dir = ownDir;
  const showLogs = params.loglevel !== undefined && params.logfile === undefined;
  const choosePort = params.port === undefined || params.port === "0";
  let child, port, link;
  try {
    // A port chosen here may be taken by someone else before the server binds it: then another.
    for (let attempt = 0; ; attempt++) {
      port = choosePort ? await freePort() : Number(params.port);
      const args = [MAIN];
      for (const [name, v] of Object.entries({ ...params, port: String(port) })) args.push(`--${name}`, v);
      try {
        child = await launch(args, port, showLogs, ownDir);
        break;
      } catch (err) {
        if (!(choosePort && attempt < 4 && /in use/i.test(err.message))) throw err;
      }
    }
    link = await RespLink.open(port);
    if (params.requirepass) await link.call("AUTH", params.requirepass);
    // The server that answers must be ours (not another one that had the port).
    const info = await link.call("INFO", "server").catch((err) => `(${err.message})`);
    const pid = /process_id:(\d+)/.exec(info)?.[1];
    if (Number(pid) !== child.pid) throw new Error(`another server answers on port ${port}${pid ? "" : ` ${info}`}`);
    if (seed !== undefined) await link.call("DEBUG", "SEED", String(seed));
  } catch (err) {
    link?.close();
    if (child) { child.kill("SIGKILL"); running.delete(child); }
    if (ownDir) rmSync(ownDir, { recursive: true, force: true });
    throw err;
  }
  const exited = new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  // The server's clock as last read, with the local time it was read at.
  let read = { at: Date.now(), value: Date.now(), frozen: false };
  const move = async (...op) => {
    if (op.length > 1 && !Number.isFinite(op[1])) throw new RangeError(`the server's clock moves by a finite number of milliseconds, not ${op[1]}`);
    await link.call("DEBUG", "TIME", ...op.map((a) => String(typeof a === "number" ? Math.trunc(a) : a)));
    const value = Number(await link.call("DEBUG", "TIME", "NOW"));
    read = { at: Date.now(), value, frozen: op[0] === "FREEZE" || (read.frozen && op[0] !== "RESUME") };
  };
  let closing = null;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    time: {
      now: () => read.frozen ? read.value : read.value + (Date.now() - read.at),
      advance: (ms) => move("ADVANCE", ms),
      set: (unixMs) => move("SET", unixMs),
      freeze: () => move("FREEZE"),
      resume: () => move("RESUME"),
    },
    close: () => closing ??= (async () => {
      link.close();
      child.kill("SIGKILL"); // nothing to save: a test server's files go with its directory
      await exited;
      running.delete(child);
      if (ownDir) rmSync(ownDir, { recursive: true, force: true });
    })(),
  };
}

/** Starts `bun main.ts ...` and waits until its port answers (+PONG, or -NOAUTH with a
 *  password), or fails: the child ended, or START_TIMEOUT_MS passed. */
function launch(args, port, showLogs, dir) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.env.BUN_BINARY ?? "bun", args, { stdio: ["ignore", "pipe", "pipe"] });
    running.set(child, dir);
    let output = "", settled = false;
    const keep = (chunk) => {
      if (showLogs) process.stdout.write(chunk);
      output = (output + chunk).slice(-4000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const timer = setTimeout(() => fail(new Error(`redbun did not answer on port ${port} within ${START_TIMEOUT_MS} ms:\n${output.trim()}`)), START_TIMEOUT_MS);
    const fail = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      running.delete(child);
      reject(err);
    };
    child.once("error", (err) => fail(err.code === "ENOENT"
      ? new Error("redbun/node runs each server as `bun main.ts`, and bun is not on the PATH (install it: npm install -g bun)")
      : err));
    child.once("exit", (code) => fail(new Error(`redbun exited (${code}) before accepting connections:\n${output.trim()}`)));
    const poll = () => {
      if (settled) return;
      const sock = connect(port, "127.0.0.1");
      sock.once("connect", () => sock.write("PING\r\n"));
      sock.once("data", (d) => {
        sock.destroy();
        const reply = d.toString();
        if ((reply.startsWith("+PONG") || reply.startsWith("-NOAUTH")) && !settled) {
          settled = true;
          clearTimeout(timer);
          resolve(child);
        } else setTimeout(poll, 20);
      });
      sock.once("error", () => { sock.destroy(); setTimeout(poll, 20); });
    };
    poll();
  });
}

/** A port the system has free now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

/** One RESP connection for DEBUG commands: a command at a time, a simple, integer or bulk reply.
 *  If the server goes away, what waits for a reply fails. */
class RespLink {
  static open(port) {
    return new Promise((resolve, reject) => {
      const sock = connect(port, "127.0.0.1");
      sock.once("connect", () => resolve(new RespLink(sock)));
      sock.once("error", reject);
    });
  }
  constructor(sock) {
    this.sock = sock;
    this.buf = "";
    this.waiting = [];
    sock.setEncoding("latin1");
    sock.on("data", (d) => { this.buf += d; this.drain(); });
    sock.on("error", () => {});
    sock.on("close", () => {
      for (const { reject } of this.waiting.splice(0)) reject(new Error("the server closed the connection"));
    });
  }
  call(...argv) {
    if (this.sock.destroyed) return Promise.reject(new Error("the server closed the connection"));
    this.sock.write(`*${argv.length}\r\n${argv.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }
  drain() {
    for (;;) {
      const eol = this.buf.indexOf("\r\n");
      if (eol < 0 || !this.waiting.length) return;
      const type = this.buf[0], line = this.buf.slice(1, eol);
      let value, end = eol + 2;
      if (type === "$") {
        const len = Number(line);
        if (len >= 0 && this.buf.length < end + len + 2) return;
        value = len < 0 ? null : this.buf.slice(end, end + len);
        end = len < 0 ? end : end + len + 2;
      } else value = line;
      this.buf = this.buf.slice(end);
      const { resolve, reject } = this.waiting.shift();
      if (type === "-") reject(new Error(value));
      else resolve(value);
    }
  }
  close() { this.sock.destroy(); }
}

module.exports = { startServer };
