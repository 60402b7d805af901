// Types of redbun/node: the same API as main.ts's startServer (written out here, so that a
// project on Node needs neither Bun's types nor main.ts to type-check).

/** A server started by startServer. */
export interface RedbunServer {
  /** The TCP port it listens on. */
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** The server's clock: moving it expires keys, times out blocked clients, moves TIME ... */
  readonly time: ServerClock;
  /** Stops the server and removes the directory startServer made for it. */
  close(): Promise<void>;
}

export interface ServerClock {
  /** The server's time, in unix milliseconds. */
  now(): number;
  advance(ms: number): Promise<void>;
  set(unixMs: number): Promise<void>;
  freeze(): Promise<void>;
  resume(): Promise<void>;
}

/** Any redis.conf parameter by its name, and `seed` (repeatable random choices). */
export type ServerOptions = { [param: string]: string | number | boolean | undefined; seed?: number };

/** Starts a server as a `bun main.ts` child process (Bun must be on the PATH); resolves once it
 *  answers PING. */
export function startServer(options?: ServerOptions): Promise<RedbunServer>;
