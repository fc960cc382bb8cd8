/**
 * The status server: the JSON API under /api/v1/ that the status page and
 * scripts use, served by the supervisor from its status snapshot and its
 * control core (the requests `fieldcast ctl` sends over the control socket).
 *
 * Every route has a schema (Fastify validates the request against it before
 * the handler runs); every answer but login and setup needs a session cookie
 * or a bearer token; a session's state-changing requests need its CSRF token
 * in `x-csrf-token`; login and setup are rate-limited. Errors are
 * `{ error: { code, message } }` in words an operator understands.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { FieldcastError } from '../../lib/errors.js';
import { formatLogLine, recentLogs } from '../../lib/logger.js';
import { version } from '../../lib/version.js';
import { ControlRequest, type ControlRequestT } from '../../supervisor/control.js';
import type { LoggedEvent } from '../../supervisor/event-log.js';
import type { StatusSnapshot } from '../../supervisor/snapshot.js';
import type { History } from '../history.js';
import { AuthError, type AuthStore, type Session } from './auth.js';
import type { RequestHandler } from './listeners.js';

const COOKIE = 'fc_session';
const LIVE_INTERVAL_MS = 500;

export interface StatusServerOptions {
  auth: AuthStore;
  snapshot: () => StatusSnapshot;
  /** The supervisor's control core: what `fieldcast ctl` asks, asked by `who`. */
  control: (req: ControlRequestT, who: string) => Promise<unknown>;
  /** The last ten minutes of each link, for the graphs. */
  history: () => History;
  /** The latest thumbnail of the picture. */
  thumbnail: () => { jpeg: Buffer; at: string } | undefined;
  /** Where the built page is (default: dist/web of this package); absent: `/` says how to build it. */
  pageDir?: string;
  /** Login and setup attempts a minute from one address (default 5). */
  loginPerMinute?: number;
}

/** The built page: dist/web beside dist/ and src/ (both three levels below the package root). */
export const PAGE_DIR = new URL('../../../dist/web/', import.meta.url).pathname;

/** Who a request is: a session, a token, or nobody. */
type Caller = { kind: 'session'; session: Session } | { kind: 'token' } | undefined;

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
  }
}

const STATUS_CODES: Record<string, number> = {
  AUTH_REQUIRED: 401,
  AUTH_BAD_PASSWORD: 401,
  AUTH_BAD_SETUP_CODE: 403,
  AUTH_CSRF: 403,
  AUTH_NOT_SET_UP: 409,
  AUTH_ALREADY_SET_UP: 409,
  AUTH_WEAK_PASSWORD: 400,
  CONFIG_INVALID: 400,
  NOT_FOUND: 404,
  UPLINK_NOT_FOUND: 404,
  MODEM_NOT_FOUND: 404,
  NOT_STREAMING: 409,
  NO_DESTINATION: 409,
};

function cookieOf(req: FastifyRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

function startSession(reply: FastifyReply, s: Session): { csrf: string } {
  const maxAge = Math.max(0, Math.floor((s.expiresAt - Date.now()) / 1000));
  reply.header('set-cookie', `${COOKIE}=${s.id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}`);
  return { csrf: s.csrf };
}

const SetupBody = {
  type: 'object',
  required: ['code', 'password'],
  additionalProperties: false,
  properties: { code: { type: 'string', minLength: 1, maxLength: 32 }, password: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;
const LoginBody = {
  type: 'object',
  required: ['password'],
  additionalProperties: false,
  properties: { password: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;
/** The control request's one shape (control.ts, zod) as the route's JSON schema: one branch checked, by its `op`. */
const ControlBody = (() => {
  const { $schema: _, ...schema } = z.toJSONSchema(ControlRequest, { target: 'draft-7' }) as Record<string, unknown>;
  return { ...schema, type: 'object', required: ['op'], discriminator: { propertyName: 'op' } };
})();
const TokenBody = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: { name: { type: 'string', minLength: 1, maxLength: 40 } },
} as const;

export interface StatusServer {
  app: FastifyInstance;
  /** What each listener (listeners.ts) hands its requests to. */
  handler: RequestHandler;
  /** Something changed: the live clients get the snapshot now rather than at the next half second. */
  pushLive: () => void;
}

/**
 * The live clients of /api/v1/live. One snapshot is built and serialised per
 * push, whatever the number of clients; a client that does not read (its
 * socket buffer full) is skipped until it drains, so a stalled phone costs
 * no memory.
 */
class LiveFeed {
  readonly #snapshot: () => StatusSnapshot;
  readonly #clients = new Set<http.ServerResponse>();
  #timer: NodeJS.Timeout | undefined;

  constructor(snapshot: () => StatusSnapshot) {
    this.#snapshot = snapshot;
  }

  add(res: http.ServerResponse): void {
    this.#clients.add(res);
    res.write(this.#event());
    this.#timer ??= setInterval(() => this.push(), LIVE_INTERVAL_MS);
  }

  remove(res: http.ServerResponse): void {
    this.#clients.delete(res);
    if (this.#clients.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  push(): void {
    if (this.#clients.size === 0) return;
    const line = this.#event();
    for (const c of this.#clients) if (!c.writableNeedDrain) c.write(line);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const c of this.#clients) c.end();
    this.#clients.clear();
  }

  #event(): string {
    return `data: ${JSON.stringify(this.#snapshot())}\n\n`;
  }
}

export async function buildStatusServer(o: StatusServerOptions): Promise<StatusServer> {
  let handler: RequestHandler | undefined;
  const app = Fastify({
    logger: false,
    bodyLimit: 256 * 1024,
    // One branch of a union is checked, by its discriminator; nothing is silently dropped from a request.
    ajv: { customOptions: { discriminator: true, removeAdditional: false } },
    // The listeners (one per address) are made by listeners.ts; Fastify's own server is never bound.
    serverFactory: (h) => {
      handler = h;
      return http.createServer(h);
    },
  });
  await app.register(rateLimit, { global: false });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Fieldcast status API',
        version: version(),
        description:
          'The JSON API of the status page, for scripts too: log in for a session (cookie + x-csrf-token on changes) or send `Authorization: Bearer TOKEN` (tokens are made on the page). Errors are `{ error: { code, message } }`.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, session: { type: 'apiKey', in: 'cookie', name: COOKIE } },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
  });
  app.decorateRequest('caller', undefined);

  app.addHook('onSend', async (req, reply) => {
    reply.header(
      'content-security-policy',
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    );
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    // The page's assets carry their content hash in their name; everything else is live.
    reply.header('cache-control', req.url.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-store');
  });

  // Who is asking: a session cookie, or a bearer token.
  app.addHook('onRequest', async (req) => {
    const s = o.auth.session(cookieOf(req, COOKIE));
    if (s) req.caller = { kind: 'session', session: s };
    else {
      const h = req.headers.authorization;
      if (h?.startsWith('Bearer ') && (await o.auth.tokenValid(h.slice(7)))) req.caller = { kind: 'token' };
    }
  });

  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, _req, reply) => {
    if (err instanceof FieldcastError) {
      return reply.status(STATUS_CODES[err.code] ?? 422).send({ error: { code: err.code, message: err.message, ...detailsOf(err) } });
    }
    if (err.validation) return reply.status(400).send({ error: { code: 'REQUEST_INVALID', message: err.message } });
    if (err.statusCode === 429)
      return reply.status(429).send({ error: { code: 'TOO_MANY_ATTEMPTS', message: 'too many attempts: wait a minute' } });
    return reply.status(err.statusCode ?? 500).send({ error: { code: 'SERVER_ERROR', message: 'the request failed' } });
  });

  const needCaller = async (req: FastifyRequest): Promise<void> => {
    if (!req.caller) throw new AuthError('AUTH_REQUIRED', 'log in first');
    if (req.caller.kind === 'session' && req.method !== 'GET' && req.headers['x-csrf-token'] !== req.caller.session.csrf) {
      throw new AuthError('AUTH_CSRF', "the request lacks this session's CSRF token (reload the page)");
    }
  };
  const needSession = async (req: FastifyRequest): Promise<void> => {
    await needCaller(req);
    if (req.caller?.kind !== 'session') throw new AuthError('AUTH_REQUIRED', 'tokens are managed from a logged-in session');
  };
  const limited = { rateLimit: { max: o.loginPerMinute ?? 5, timeWindow: 60_000 } };

  app.get('/api/v1/auth', async () => ({ passwordSet: o.auth.passwordSet }));
  app.post('/api/v1/setup', { schema: { body: SetupBody }, config: limited }, async (req, reply) => {
    const b = req.body as { code: string; password: string };
    return startSession(reply, await o.auth.setup(b.code, b.password));
  });
  app.post('/api/v1/login', { schema: { body: LoginBody }, config: limited }, async (req, reply) => {
    return startSession(reply, await o.auth.login((req.body as { password: string }).password));
  });
  app.post('/api/v1/logout', { preHandler: needSession }, async (req, reply) => {
    if (req.caller?.kind === 'session') o.auth.logout(req.caller.session.id);
    reply.header('set-cookie', `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
    return { ok: true };
  });

  app.get('/api/v1/status', { preHandler: needCaller }, async () => o.snapshot());

  // Live: the snapshot twice a second (and at once when something happens) as server-sent events, until the client goes.
  const live = new LiveFeed(o.snapshot);
  app.addHook('onClose', async () => live.close());
  app.get(
    '/api/v1/live',
    { preHandler: needCaller, schema: { summary: 'the snapshot as server-sent events, twice a second' } },
    (req, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-content-type-options': 'nosniff',
      });
      live.add(res);
      req.raw.on('close', () => live.remove(res));
    },
  );

  app.post(
    '/api/v1/control',
    {
      schema: { body: ControlBody, summary: 'what `fieldcast ctl` does: start, stop, set, get, restart, uplink, preflight, …' },
      preHandler: needCaller,
    },
    async (req) => o.control(req.body as ControlRequestT, whoOf(req)),
  );

  app.get(
    '/api/v1/session',
    { preHandler: needSession, schema: { summary: "this session's CSRF token (after a reload)" } },
    async (req) => ({
      csrf: req.caller?.kind === 'session' ? req.caller.session.csrf : '',
    }),
  );
  app.get(
    '/api/v1/history',
    { preHandler: needCaller, schema: { summary: 'the last ten minutes of each link: bit rate and RTT, one sample a second' } },
    async () => o.history(),
  );
  app.get(
    '/api/v1/thumbnail.jpg',
    { preHandler: needCaller, schema: { summary: 'the latest thumbnail of the picture (JPEG)' } },
    async (_req, reply) => {
      const t = o.thumbnail();
      if (!t) throw new FieldcastError('NOT_FOUND', 'there is no picture yet');
      return reply.type('image/jpeg').header('last-modified', new Date(t.at).toUTCString()).send(t.jpeg);
    },
  );
  app.get(
    '/api/v1/config',
    { preHandler: needCaller, schema: { summary: 'the config, with every secret as "[redacted]"' } },
    async (req) => {
      const r = (await o.control({ op: 'get' }, whoOf(req))) as { value: unknown };
      return r.value;
    },
  );
  app.get(
    '/api/v1/events',
    {
      preHandler: needCaller,
      schema: {
        summary: 'the event log, oldest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 100000 }, since: { type: 'string', maxLength: 64 } },
        },
      },
    },
    async (req) => {
      const q = req.query as { limit?: number; since?: string };
      return o.control({ op: 'events', limit: q.limit ?? 500, ...(q.since ? { since: q.since } : {}) }, whoOf(req));
    },
  );
  app.get(
    '/api/v1/logs',
    { preHandler: needCaller, schema: { summary: 'a download of the event log and the recent log lines (text)' } },
    async (req, reply) => {
      const events = (await o.control({ op: 'events', limit: 100_000 }, whoOf(req))) as LoggedEvent[];
      const s = o.snapshot();
      const stamp = s.at.replace(/[:.]/g, '-');
      const body = [
        `# Fieldcast ${s.device.version} on ${s.device.name}, ${s.at}: ${s.state} (${s.reason})`,
        `# event log (${events.length} events, oldest first)`,
        ...events.map((e) => JSON.stringify(e)),
        '# recent log lines',
        ...recentLogs().map((r) => `${new Date(r.time).toISOString()} ${formatLogLine(r)}`),
        '',
      ].join('\n');
      return reply
        .type('text/plain; charset=utf-8')
        .header('content-disposition', `attachment; filename="fieldcast-${stamp}.log"`)
        .send(body);
    },
  );
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get('/api/v1/tokens', { preHandler: needSession }, async () => o.auth.tokens());
  app.post('/api/v1/tokens', { schema: { body: TokenBody }, preHandler: needSession }, async (req) =>
    o.auth.makeToken((req.body as { name: string }).name),
  );
  app.delete('/api/v1/tokens/:id', { preHandler: needSession }, async (req) => {
    const ok = await o.auth.revokeToken((req.params as { id: string }).id);
    if (!ok) throw new FieldcastError('NOT_FOUND', 'there is no such token');
    return { ok };
  });
  await servePage(app, o.pageDir ?? PAGE_DIR);
  await app.ready();
  if (!handler) throw new Error('the status server has no request handler');
  return { app, handler, pushLive: () => live.push() };
}

/** The page, built by `npm run setup` (web/ → dist/web); without it `/` says how to build it. */
async function servePage(app: FastifyInstance, dir: string): Promise<void> {
  if (existsSync(`${dir}/index.html`)) {
    await app.register(fastifyStatic, { root: dir, index: ['index.html'], wildcard: true, preCompressed: true });
    return;
  }
  app.get('/', async (_req, reply) =>
    reply
      .status(503)
      .type('text/plain; charset=utf-8')
      .send('The status page is not built here: run npm run setup (or npm run build:web). The API is at /api/v1/.'),
  );
}

function whoOf(req: FastifyRequest): string {
  return req.caller?.kind === 'token' ? `API token (${req.ip})` : `the status page (${req.ip})`;
}

function detailsOf(err: FieldcastError): Record<string, unknown> {
  const problems = (err.details as { problems?: unknown } | undefined)?.problems;
  return problems ? { problems } : {};
}
