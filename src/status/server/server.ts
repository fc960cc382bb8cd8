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
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { FieldcastError } from '../../lib/errors.js';
import type { ControlRequestT } from '../../supervisor/control.js';
import type { StatusSnapshot } from '../../supervisor/snapshot.js';
import { AuthError, type AuthStore, type Session } from './auth.js';

const COOKIE = 'fc_session';
const LIVE_INTERVAL_MS = 500;

export interface StatusServerOptions {
  auth: AuthStore;
  snapshot: () => StatusSnapshot;
  /** The supervisor's control core: what `fieldcast ctl` asks, asked by `who`. */
  control: (req: ControlRequestT, who: string) => Promise<unknown>;
  /** Login and setup attempts a minute from one address (default 5). */
  loginPerMinute?: number;
}

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
const ControlBody = {
  type: 'object',
  required: ['op'],
  additionalProperties: false,
  properties: {
    op: { type: 'string', enum: ['start', 'stop', 'set', 'get', 'events', 'preflight', 'modem-reset'] },
    assignments: {
      type: 'array',
      minItems: 1,
      maxItems: 100,
      items: {
        type: 'object',
        required: ['key', 'value'],
        additionalProperties: false,
        properties: { key: { type: 'string', minLength: 1, maxLength: 200 }, value: { type: 'string', maxLength: 65536 } },
      },
    },
    key: { type: 'string', maxLength: 200 },
    limit: { type: 'integer', minimum: 1, maximum: 100000 },
    seconds: { type: 'integer', minimum: 3, maximum: 60 },
    modem: { type: 'string', minLength: 1, maxLength: 100 },
  },
} as const;
const TokenBody = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: { name: { type: 'string', minLength: 1, maxLength: 40 } },
} as const;

export async function buildStatusServer(o: StatusServerOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 256 * 1024 });
  await app.register(rateLimit, { global: false });
  app.decorateRequest('caller', undefined);

  app.addHook('onSend', async (_req, reply) => {
    reply.header(
      'content-security-policy',
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    );
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cache-control', 'no-store');
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

  // Live: the snapshot twice a second as server-sent events, until the client goes.
  app.get('/api/v1/live', { preHandler: needCaller }, (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
    });
    const send = (): void => {
      res.write(`data: ${JSON.stringify(o.snapshot())}\n\n`);
    };
    send();
    const timer = setInterval(send, LIVE_INTERVAL_MS);
    req.raw.on('close', () => clearInterval(timer));
  });

  app.post('/api/v1/control', { schema: { body: ControlBody }, preHandler: needCaller }, async (req) => {
    const who = req.caller?.kind === 'token' ? `API token (${req.ip})` : `the status page (${req.ip})`;
    return o.control(req.body as ControlRequestT, who);
  });

  app.get('/api/v1/tokens', { preHandler: needSession }, async () => o.auth.tokens());
  app.post('/api/v1/tokens', { schema: { body: TokenBody }, preHandler: needSession }, async (req) =>
    o.auth.makeToken((req.body as { name: string }).name),
  );
  app.delete('/api/v1/tokens/:id', { preHandler: needSession }, async (req) => {
    const ok = await o.auth.revokeToken((req.params as { id: string }).id);
    if (!ok) throw new FieldcastError('NOT_FOUND', 'there is no such token');
    return { ok };
  });
  return app;
}

function detailsOf(err: FieldcastError): Record<string, unknown> {
  const problems = (err.details as { problems?: unknown } | undefined)?.problems;
  return problems ? { problems } : {};
}
