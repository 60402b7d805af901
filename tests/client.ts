// A raw-bytes RESP test client: sends commands (or literal bytes) and reads whole replies,
// either as exact wire bytes (for byte-for-byte checks) or decoded into JS values.
import type { Socket, SocketHandler } from "bun";

export type Reply = string | number | bigint | null | boolean | Reply[] | ReplyError | ReplyMap | ReplySet | ReplyPush;
export class ReplyError { constructor(public message: string) {} toString() { return this.message; } }
export class ReplyMap { constructor(public entries: [Reply, Reply][]) {} }
export class ReplySet { constructor(public items: Reply[]) {} }
export class ReplyPush { constructor(public items: Reply[]) {} }

/** Encodes a command as a RESP multibulk; arguments are latin1 strings (one char per byte). */
export function encode(args: (string | number)[]): Buffer {
  let s = `*${args.length}\r\n`;
  for (const a of args) { const v = String(a); s += `$${Buffer.byteLength(v, "latin1")}\r\n${v}\r\n`; }
  return Buffer.from(s, "latin1");
}

/** Returns the length of the first complete reply in buf from pos, or -1 if incomplete. */
export function replyEnd(buf: Buffer, pos: number): number {
  if (pos >= buf.length) return -1;
  const nl = buf.indexOf("\r\n", pos);
  if (nl < 0) return -1;
  const type = String.fromCharCode(buf[pos]);
  const head = buf.latin1Slice(pos + 1, nl);
  switch (type) {
    case "+": case "-": case ":": case "_": case ",": case "#": case "(":
      return nl + 2;
    case "$": case "=": case "!": {
      const n = Number(head);
      if (n < 0) return nl + 2;
      return nl + 2 + n + 2 <= buf.length ? nl + 2 + n + 2 : -1;
    }
    case "*": case "~": case ">": case "%": case "|": {
      let n = Number(head);
      if (n < 0) return nl + 2;
      if (type === "%" || type === "|") n *= 2;
      let p = nl + 2;
      for (let i = 0; i < n; i++) { p = replyEnd(buf, p); if (p < 0) return -1; }
      // An attribute precedes the reply it annotates.
      if (type === "|") return replyEnd(buf, p);
      return p;
    }
  }
  throw new Error(`bad reply type byte ${JSON.stringify(type)} in ${JSON.stringify(buf.latin1Slice(pos, Math.min(buf.length, pos + 80)))}`);
}

/** Decodes one complete reply starting at pos; returns [value, next position]. */
export function decode(buf: Buffer, pos: number): [Reply, number] {
  const nl = buf.indexOf("\r\n", pos);
  const type = String.fromCharCode(buf[pos]);
  const head = buf.latin1Slice(pos + 1, nl);
  let p = nl + 2;
  switch (type) {
    case "+": return [head, p];
    case "-": case "!": {
      if (type === "!") { const n = Number(head); return [new ReplyError(buf.latin1Slice(p, p + n)), p + n + 2]; }
      return [new ReplyError(head), p];
    }
    case ":": return [Number.isSafeInteger(Number(head)) ? Number(head) : BigInt(head), p];
    case "(": return [BigInt(head), p];
    case ",": return [head, p];
    case "_": return [null, p];
    case "#": return [head === "t", p];
    case "$": case "=": {
      const n = Number(head);
      if (n < 0) return [null, p];
      return [buf.latin1Slice(p, p + n), p + n + 2];
    }
    case "*": case "~": case ">": case "%": {
      const n = Number(head);
      if (n < 0) return [null, p];
      const items: Reply[] = [];
      for (let i = 0; i < (type === "%" ? 2 * n : n); i++) { const [v, q] = decode(buf, p); items.push(v); p = q; }
      if (type === "~") return [new ReplySet(items), p];
      if (type === ">") return [new ReplyPush(items), p];
      if (type === "%") { const e: [Reply, Reply][] = []; for (let i = 0; i < items.length; i += 2) e.push([items[i], items[i + 1]]); return [new ReplyMap(e), p]; }
      return [items, p];
    }
  }
  throw new Error(`bad reply type ${type}`);
}

/** One connection; replies are queued in arrival order and handed out one at a time. */
export class RawClient {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;
  private constructor(private sock: Socket<undefined>) {}

  static connect(port: number, host = "127.0.0.1"): Promise<RawClient> {
    return RawClient.open({ hostname: host, port });
  }
  /** A connection through a unix socket (a server's unixsocket path). */
  static connectUnix(path: string): Promise<RawClient> {
    return RawClient.open({ unix: path });
  }
  private static async open(where: { hostname: string; port: number } | { unix: string }): Promise<RawClient> {
    let self!: RawClient;
    const socket: SocketHandler<undefined> = {
      data(_s, d) { self.buf = Buffer.concat([self.buf, d]); self.wake(); },
      drain() { self.flush(); },
      close() { self.closed = true; self.wake(); },
      error() { self.closed = true; self.wake(); },
    };
    const sock = await ("unix" in where ? Bun.connect({ unix: where.unix, socket }) : Bun.connect({ ...where, socket }));
    self = new RawClient(sock);
    return self;
  }
  private wake() { const w = this.waiters; this.waiters = []; for (const f of w) f(); }
  private async waitData(timeoutMs: number) {
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`timeout waiting for reply; have ${JSON.stringify(this.buf.latin1Slice(0, Math.min(200, this.buf.length)))}`)), timeoutMs);
      this.waiters.push(() => { clearTimeout(t); res(); });
    });
  }
  /** Bytes the socket did not take yet; they go out, in order, on 'drain'. */
  private unsent: Uint8Array[] = [];
  /** Writes bytes as they are (a string is taken as latin1). A big write may be taken only in
   *  part by the socket: the rest is queued, never dropped. */
  write(data: string | Uint8Array) {
    this.unsent.push(typeof data === "string" ? Buffer.from(data, "latin1") : data);
    if (this.unsent.length === 1) this.flush();
  }
  private flush() {
    while (this.unsent.length) {
      const head = this.unsent[0];
      const n = this.sock.write(head);
      if (n < 0) { this.unsent = []; return; }
      if (n < head.length) { this.unsent[0] = head.subarray(n); return; }
      this.unsent.shift();
    }
  }
  send(...args: (string | number)[]) { this.write(encode(args)); }
  /** Reads one whole reply as its exact wire bytes (latin1). */
  async readRaw(timeoutMs = 5000): Promise<string> {
    for (;;) {
      const end = replyEnd(this.buf, 0);
      if (end >= 0) { const s = this.buf.latin1Slice(0, end); this.buf = this.buf.subarray(end); return s; }
      if (this.closed) throw new Error(`connection closed; have ${JSON.stringify(this.buf.latin1Slice(0, Math.min(200, this.buf.length)))}`);
      await this.waitData(timeoutMs);
    }
  }
  async read(timeoutMs = 5000): Promise<Reply> { const raw = Buffer.from(await this.readRaw(timeoutMs), "latin1"); return decode(raw, 0)[0]; }
  /** Sends one command and returns its reply's exact bytes. */
  async raw(...args: (string | number)[]): Promise<string> { this.send(...args); return this.readRaw(); }
  /** Sends one command and returns its decoded reply. */
  async cmd(...args: (string | number)[]): Promise<Reply> { this.send(...args); return this.read(); }
  /** Waits for the server to close the connection; returns whatever bytes were left unread. */
  async waitClosed(timeoutMs = 5000): Promise<string> {
    const until = Date.now() + timeoutMs;
    while (!this.closed) { if (Date.now() > until) throw new Error("still open"); await this.waitData(until - Date.now()).catch(() => {}); }
    return this.buf.latin1Slice(0, this.buf.length);
  }
  /** The bytes received but not yet read. */
  pending(): string { return this.buf.latin1Slice(0, this.buf.length); }
  close() { this.sock.end(); }
}
