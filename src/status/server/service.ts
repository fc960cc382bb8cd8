/**
 * The status page as the supervisor runs it: the API server (server.ts), the
 * listeners on the addresses the config names (listeners.ts, following the
 * LAN interfaces as they come and go), the accounts (auth.ts), the optional
 * HTTPS certificate (tls.ts) and the ten-minute history of the links
 * (history.ts). The supervisor owns the snapshot and the control core; this
 * reads the one and calls the other.
 */
import path from 'node:path';
import type { StatusConfigT } from '../../config/schema.js';
import { FieldcastError } from '../../lib/errors.js';
import { createLogger, keepRecentLogs } from '../../lib/logger.js';
import type { ControlRequestT } from '../../supervisor/control.js';
import type { EventInput } from '../../supervisor/event-log.js';
import type { StatusSnapshot } from '../../supervisor/snapshot.js';
import { LinkHistory } from '../history.js';
import { AUTH_FILE, AuthStore } from './auth.js';
import { Listeners, resolveListen } from './listeners.js';
import { buildStatusServer, type StatusServer } from './server.js';
import { loadOrMakeCertificate } from './tls.js';

const log = createLogger('status');

/** The listen addresses are looked at again this often (ticks of the supervisor, 1 s each). */
const RESYNC_TICKS = 5;
/** Changes that come together (a stop: the state, an alert, a link) go out as one push. */
const PUSH_COALESCE_MS = 100;
/** Log lines kept for the page's log download. */
const RECENT_LOG_LINES = 2000;

export interface StatusServiceOptions {
  stateDir: string;
  deviceName: string;
  snapshot: () => StatusSnapshot;
  control: (req: ControlRequestT, who: string) => Promise<unknown>;
  thumbnail: () => { jpeg: Buffer; at: string } | undefined;
  record: (e: EventInput) => void;
  /** Where the built page is (tests); default dist/web. */
  pageDir?: string;
  /** Where interfaces are classified from (tests); default /sys. */
  sysRoot?: string;
}

export class StatusService {
  readonly #o: StatusServiceOptions;
  readonly #config: StatusConfigT;
  readonly #history = new LinkHistory();
  #server: StatusServer | undefined;
  #listeners: Listeners | undefined;
  #auth: AuthStore | undefined;
  #ticks = 0;
  #syncing = false;
  #pushTimer: NodeJS.Timeout | undefined;
  /** Addresses that could not be listened on, reported once each until they work. */
  #failing = new Set<string>();

  private constructor(config: StatusConfigT, o: StatusServiceOptions) {
    this.#config = config;
    this.#o = o;
  }

  static async start(config: StatusConfigT, o: StatusServiceOptions): Promise<StatusService> {
    const s = new StatusService(config, o);
    await s.#start();
    return s;
  }

  /** The one-time setup code while no password is set. */
  get setupCode(): string | undefined {
    return this.#auth?.setupCode;
  }

  /** The page's address on each address listened on, loopback first. */
  urls(): string[] {
    return this.#listeners?.urls() ?? [];
  }

  async #start(): Promise<void> {
    keepRecentLogs(RECENT_LOG_LINES);
    this.#auth = await AuthStore.open(path.join(this.#o.stateDir, AUTH_FILE));
    this.#server = await buildStatusServer({
      auth: this.#auth,
      snapshot: this.#o.snapshot,
      control: this.#o.control,
      history: () => this.#history.toJSON(),
      thumbnail: this.#o.thumbnail,
      ...(this.#o.pageDir ? { pageDir: this.#o.pageDir } : {}),
    });
    let tls: { key: string; cert: string } | undefined;
    if (this.#config.https) {
      const c = await loadOrMakeCertificate(this.#o.stateDir, this.#o.deviceName);
      tls = c;
      this.#o.record({
        kind: 'system',
        code: c.made ? 'STATUS_CERT_MADE' : 'STATUS_CERT',
        message: `the status page's HTTPS certificate${c.made ? ' was made' : ''}: SHA-256 ${c.fingerprint}`,
      });
    }
    this.#listeners = new Listeners(this.#server.handler, this.#config.port, tls);
    await this.#sync();
    if (this.urls().length === 0) {
      await this.close();
      throw new StatusListenError(this.#config.listen.join(', '), this.#config.port);
    }
    if (this.#auth.setupCode) {
      this.#o.record({
        kind: 'system',
        code: 'SETUP_CODE',
        message: `setup code: ${this.#auth.setupCode} (set the password with it at ${this.urls().at(-1)})`,
      });
    }
  }

  /** Something happened (an event was recorded): the live clients see it now, at most every 100 ms. */
  changed(): void {
    if (this.#pushTimer || !this.#server) return;
    this.#pushTimer = setTimeout(() => {
      this.#pushTimer = undefined;
      this.#server?.pushLive();
    }, PUSH_COALESCE_MS);
  }

  /** Each second: the history takes the snapshot; now and then the listen addresses follow the interfaces. */
  tick(s: StatusSnapshot): void {
    this.#history.push(s);
    if (++this.#ticks % RESYNC_TICKS === 0 && !this.#syncing) void this.#sync();
  }

  async #sync(): Promise<void> {
    const l = this.#listeners;
    if (!l) return;
    this.#syncing = true;
    try {
      const r = await l.sync(await resolveListen(this.#config.listen, this.#o.sysRoot));
      for (const a of r.added) log.info('the status page listens', { address: a, port: this.#config.port });
      for (const a of r.removed) log.info('the status page no longer listens', { address: a });
      for (const a of r.added) this.#failing.delete(a);
      for (const f of r.failed) {
        if (this.#failing.has(f.address)) continue;
        this.#failing.add(f.address);
        this.#o.record({
          kind: 'config',
          code: 'STATUS_LISTEN_FAILED',
          message: `the status page cannot listen on ${f.address}: ${f.message}`,
        });
      }
    } finally {
      this.#syncing = false;
    }
  }

  async close(): Promise<void> {
    clearTimeout(this.#pushTimer);
    this.#pushTimer = undefined;
    await this.#listeners?.close();
    await this.#server?.app.close();
    this.#listeners = undefined;
    this.#server = undefined;
  }
}

export class StatusListenError extends FieldcastError {
  constructor(listen: string, port: number) {
    super('STATUS_LISTEN_FAILED', `the status page could not listen on any of ${listen} (port ${port}): is the port taken?`, {
      listen,
      port,
    });
  }
}
