/**
 * Where the status page listens: one HTTP(S) server per address, all handing
 * their requests to the same Fastify app. The addresses follow the config
 * (`status.listen`): `lan` is loopback plus every address of the box's
 * ethernet, wifi and bridge interfaces — never a cellular uplink's, so the
 * page is not offered to the internet through a modem — and they follow the
 * interfaces as they come and go (a DHCP lease, a hotspot brought up).
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { describeError } from '../../lib/errors.js';
import { classifyInterface } from '../../uplinks/interfaces/classify.js';
import { readSysfsFacts } from '../../uplinks/interfaces/sysfs.js';

export type RequestHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface Tls {
  key: string;
  cert: string;
}

/** The addresses `status.listen` names now: literal ones as they are, `lan` and `loopback` resolved. */
export async function resolveListen(entries: readonly string[], sysRoot = '/sys'): Promise<string[]> {
  const out = new Set<string>();
  for (const e of entries) {
    if (e === 'loopback') out.add('127.0.0.1');
    else if (e === 'lan') for (const a of ['127.0.0.1', ...(await lanAddresses(sysRoot))]) out.add(a);
    else out.add(e);
  }
  return [...out];
}

/** The IPv4 and global IPv6 addresses of the ethernet, wifi and bridge interfaces. */
async function lanAddresses(sysRoot: string): Promise<string[]> {
  const out: string[] = [];
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (!addrs || name === 'lo') continue;
    let lan = false;
    try {
      const facts = await readSysfsFacts(sysRoot, name);
      const kind = classifyInterface(name, facts);
      lan = kind === 'ethernet' || kind === 'wifi' || facts.devType === 'bridge';
    } catch {
      lan = false;
    }
    if (!lan) continue;
    for (const a of addrs) {
      if (a.internal) continue;
      if (a.family === 'IPv6' && (a.address.startsWith('fe80') || a.scopeid)) continue;
      out.push(a.address);
    }
  }
  return out;
}

interface Bound {
  server: http.Server | https.Server;
  sockets: Set<Socket>;
}

export interface SyncResult {
  added: string[];
  removed: string[];
  failed: { address: string; message: string }[];
}

export class Listeners {
  readonly #handler: RequestHandler;
  readonly #port: number;
  readonly #tls: Tls | undefined;
  #bound = new Map<string, Bound>();
  /** The port the first listener got (when the config asks for 0: any free one, for tests). */
  #actualPort = 0;

  constructor(handler: RequestHandler, port: number, tls?: Tls) {
    this.#handler = handler;
    this.#port = port;
    this.#tls = tls;
  }

  get scheme(): 'http' | 'https' {
    return this.#tls ? 'https' : 'http';
  }

  /** The page's address on each address listened on. */
  urls(): string[] {
    return [...this.#bound.keys()].map((a) => `${this.scheme}://${a.includes(':') ? `[${a}]` : a}:${this.#actualPort}/`);
  }

  /** Listens on exactly these addresses: new ones are bound, gone ones closed (their clients with them). */
  async sync(addresses: readonly string[]): Promise<SyncResult> {
    const result: SyncResult = { added: [], removed: [], failed: [] };
    for (const a of [...this.#bound.keys()]) {
      if (addresses.includes(a)) continue;
      await this.#close(a);
      result.removed.push(a);
    }
    for (const a of addresses) {
      if (this.#bound.has(a)) continue;
      try {
        await this.#listen(a);
        result.added.push(a);
      } catch (err) {
        result.failed.push({ address: a, message: describeError(err) });
      }
    }
    return result;
  }

  async close(): Promise<void> {
    for (const a of [...this.#bound.keys()]) await this.#close(a);
  }

  async #listen(address: string): Promise<void> {
    const server = this.#tls
      ? https.createServer({ key: this.#tls.key, cert: this.#tls.cert }, this.#handler)
      : http.createServer(this.#handler);
    const sockets = new Set<Socket>();
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    const port = this.#actualPort || this.#port;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, address, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const got = server.address();
    if (this.#actualPort === 0 && got && typeof got === 'object') this.#actualPort = got.port;
    server.on('error', () => undefined);
    this.#bound.set(address, { server, sockets });
  }

  async #close(address: string): Promise<void> {
    const b = this.#bound.get(address);
    this.#bound.delete(address);
    if (!b) return;
    // Live feeds never end by themselves: their connections are closed with the server.
    for (const s of b.sockets) s.destroy();
    await new Promise<void>((resolve) => b.server.close(() => resolve()));
  }
}
