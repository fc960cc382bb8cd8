/**
 * The local control interface: `fieldcast ctl` and (next) the status page
 * talk to `fieldcast run` over a unix socket, one JSON request per line and
 * one JSON answer per line:
 *
 *   → {"id":1,"op":"set","assignments":[{"key":"video.maxBitrate","value":"6M"}],"who":"ctl (uid 0)"}
 *   ← {"id":1,"ok":true,"result":{…}}
 *   ← {"id":2,"ok":false,"error":{"code":"CONFIG_INVALID","message":"…","details":{…}}}
 *
 * The socket is the owner's alone (mode 0600, in a directory only the owner
 * may change: paths.ts), so whoever connects is this user or root. A request
 * that is not JSON, not a known operation or too long gets an error answer
 * and changes nothing; the connection and the supervisor carry on.
 */
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { describeError, FieldcastError } from '../lib/errors.js';
import { createLogger } from '../lib/logger.js';
import { ensurePrivateDir } from './paths.js';

const log = createLogger('supervisor.control');

/** A request line longer than this is refused (a `set` of a whole config is a few kB). */
export const MAX_REQUEST_BYTES = 256 * 1024;
/** Connections at once: scripts and a status page, not a crowd. */
const MAX_CONNECTIONS = 32;

const Assignment = z.object({ key: z.string().min(1).max(200), value: z.string().max(64 * 1024) });

export const ControlRequest = z.discriminatedUnion('op', [
  z.object({ op: z.literal('status') }),
  z.object({ op: z.literal('start') }),
  z.object({ op: z.literal('stop') }),
  z.object({ op: z.literal('set'), assignments: z.array(Assignment).min(1).max(100) }),
  z.object({ op: z.literal('get'), key: z.string().max(200).optional() }),
  z.object({ op: z.literal('modem-reset'), modem: z.string().min(1).max(100) }),
  /** A new pipeline process; the SRT session and the bonded links stay up. */
  z.object({ op: z.literal('restart') }),
  /** Let the stream use an uplink or not, and its priority (0-9, higher preferred). */
  z.object({
    op: z.literal('uplink'),
    name: z.string().min(1).max(32),
    enabled: z.boolean().optional(),
    priority: z.number().int().min(0).max(9).optional(),
  }),
  z.object({ op: z.literal('preflight'), seconds: z.number().int().min(3).max(60).optional() }),
  z.object({
    op: z.literal('events'),
    limit: z.number().int().min(1).max(100_000).optional(),
    since: z.string().max(64).optional(),
  }),
]);
export type ControlRequestT = z.infer<typeof ControlRequest>;
export type ControlOp = ControlRequestT['op'];

const Envelope = z.object({
  id: z.union([z.number(), z.string().max(64)]).optional(),
  /** Who asks, as the client says (`ctl (uid 0, pid 123)`, `web 192.168.1.20`): for the event log. */
  who: z.string().max(100).optional(),
});

/** What the supervisor does for each request; what it returns is sent back as `result`. */
export type ControlHandler = (request: ControlRequestT, who: string) => Promise<unknown>;

export interface ControlAnswer {
  id?: number | string;
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string; details?: Record<string, unknown> };
}

/** Nobody listens at the socket: `fieldcast run` is not running (or uses another socket). */
export class ControlUnavailableError extends FieldcastError {
  constructor(socketPath: string, why: string) {
    super(
      'CONTROL_UNAVAILABLE',
      `no fieldcast run answers at ${socketPath} (${why}): is it running? (systemctl status fieldcast; or give its --socket)`,
      { socketPath },
    );
  }
}

/** The socket is taken by a supervisor that runs. */
export class ControlSocketBusyError extends FieldcastError {
  constructor(socketPath: string) {
    super(
      'CONTROL_SOCKET_BUSY',
      `another fieldcast run already answers at ${socketPath}; stop it first, or give this one another --socket`,
      {
        socketPath,
      },
    );
  }
}

/** The supervisor answered with an error (its code and message are the supervisor's). */
export class ControlRequestError extends FieldcastError {}

export class ControlServer {
  readonly socketPath: string;
  readonly #handler: ControlHandler;
  #server: net.Server | undefined;
  readonly #sockets = new Set<net.Socket>();

  constructor(socketPath: string, handler: ControlHandler) {
    this.socketPath = socketPath;
    this.#handler = handler;
  }

  /** Listens, owner-only; a socket file left by a supervisor that died is replaced, one that answers is not. */
  async listen(): Promise<void> {
    await ensurePrivateDir(path.dirname(this.socketPath));
    if (await answers(this.socketPath)) throw new ControlSocketBusyError(this.socketPath);
    await fs.rm(this.socketPath, { force: true });
    const server = net.createServer((socket) => this.#accept(socket));
    server.maxConnections = MAX_CONNECTIONS;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // The directory is the owner's alone, so nobody reaches the socket before this.
    await fs.chmod(this.socketPath, 0o600);
    server.on('error', (err) => log.error('control socket error', { err }));
    this.#server = server;
    log.info('control socket ready', { socket: this.socketPath });
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await fs.rm(this.socketPath, { force: true }).catch(() => undefined);
  }

  #accept(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.setEncoding('utf8');
    let buffer = '';
    // One request at a time per connection, answered in order.
    let chain = Promise.resolve();
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_REQUEST_BYTES && !buffer.includes('\n')) {
        this.#write(socket, {
          ok: false,
          error: { code: 'CONTROL_REQUEST_INVALID', message: `a request is one line of at most ${MAX_REQUEST_BYTES} bytes` },
        });
        socket.end();
        buffer = '';
        return;
      }
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim() !== '') chain = chain.then(() => this.#answer(socket, line));
        nl = buffer.indexOf('\n');
      }
    });
  }

  async #answer(socket: net.Socket, line: string): Promise<void> {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      this.#write(socket, { ok: false, error: { code: 'CONTROL_REQUEST_INVALID', message: 'a request is one line of JSON' } });
      return;
    }
    const env = Envelope.safeParse(raw);
    const id = env.success ? env.data.id : undefined;
    const req = ControlRequest.safeParse(raw);
    if (!env.success || !req.success) {
      const issue = (req.success ? env.error?.issues[0] : req.error.issues[0]) ?? { path: [], message: 'invalid' };
      const where = issue.path.join('.') || 'op';
      this.#write(socket, {
        ...(id !== undefined ? { id } : {}),
        ok: false,
        error: {
          code: 'CONTROL_REQUEST_INVALID',
          message: `${where}: ${issue.message} (operations: status, start, stop, set, get, events)`,
        },
      });
      return;
    }
    const who = env.data.who ?? 'control socket';
    try {
      const result = await this.#handler(req.data, who);
      this.#write(socket, { ...(id !== undefined ? { id } : {}), ok: true, result });
    } catch (err) {
      const e =
        err instanceof FieldcastError
          ? { code: err.code, message: err.message, details: { ...err.details } }
          : { code: 'CONTROL_FAILED', message: describeError(err) };
      if (!(err instanceof FieldcastError)) log.error('control request failed', { op: req.data.op, err });
      this.#write(socket, { ...(id !== undefined ? { id } : {}), ok: false, error: e });
    }
  }

  #write(socket: net.Socket, answer: ControlAnswer): void {
    if (!socket.writable) return;
    socket.write(`${JSON.stringify(answer)}\n`);
  }
}

/** True when something listens at `socketPath` (a supervisor that runs). */
async function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface ControlCallOptions {
  /** Give up after this long (default 10 s: a `set` that restarts a stream answers within a second or two). */
  timeoutMs?: number;
  who?: string;
}

/** Sends one request to `fieldcast run` and returns its result; the supervisor's errors are thrown with its code. */
export async function controlCall(socketPath: string, request: ControlRequestT, options: ControlCallOptions = {}): Promise<unknown> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    socket.setEncoding('utf8');
    let buffer = '';
    let done = false;
    const finish = (fn: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      fn();
    };
    const timer = setTimeout(
      () => finish(() => reject(new ControlUnavailableError(socketPath, `no answer within ${timeoutMs} ms`))),
      timeoutMs,
    );
    socket.once('connect', () => {
      socket.write(`${JSON.stringify({ id: 1, ...(options.who ? { who: options.who } : {}), ...request })}\n`);
    });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      let answer: ControlAnswer;
      try {
        answer = JSON.parse(buffer.slice(0, nl)) as ControlAnswer;
      } catch {
        finish(() => reject(new ControlUnavailableError(socketPath, 'the answer was not JSON')));
        return;
      }
      if (answer.ok) finish(() => resolve(answer.result));
      else {
        const e = answer.error ?? { code: 'CONTROL_FAILED', message: 'the request failed' };
        finish(() => reject(new ControlRequestError(e.code, e.message, e.details ?? {})));
      }
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' ? 'no such socket' : err.code === 'ECONNREFUSED' ? 'nothing listens' : err.message;
      finish(() =>
        reject(
          err.code === 'EACCES'
            ? new FieldcastError('CONTROL_DENIED', `not allowed to use ${socketPath}: run ctl as the user fieldcast runs as, or as root`)
            : new ControlUnavailableError(socketPath, why),
        ),
      );
    });
    socket.once('close', () => finish(() => reject(new ControlUnavailableError(socketPath, 'the connection closed before an answer'))));
  });
}
