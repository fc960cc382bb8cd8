/**
 * The status API's security, request by request (Fastify's inject: no
 * socket): nothing without a session or token, the setup-code flow, cookies
 * HttpOnly and SameSite=Strict, CSRF on every state-changing request, login
 * rate limiting, tokens made once and revocable, hashes only on disk.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthStore } from '../../../src/status/server/auth.js';
import { buildStatusServer } from '../../../src/status/server/server.js';
import type { ControlRequestT } from '../../../src/supervisor/control.js';
import type { StatusSnapshot } from '../../../src/supervisor/snapshot.js';

const dirs: string[] = [];
const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const PASSWORD = 'correct horse battery';
const SNAPSHOT = {
  version: 1,
  at: '2026-12-02T07:00:00.000Z',
  device: { name: 'Fieldcast', version: '0.1.0', uptimeS: 5 },
  state: 'live',
  reason: 'live to ingest',
} as unknown as StatusSnapshot;

async function server(loginPerMinute = 5, extra: Partial<Parameters<typeof buildStatusServer>[0]> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'fieldcast-auth-'));
  dirs.push(dir);
  const file = path.join(dir, 'auth.json');
  const auth = await AuthStore.open(file);
  const asked: { req: ControlRequestT; who: string }[] = [];
  const { app } = await buildStatusServer({
    auth,
    snapshot: () => SNAPSHOT,
    control: async (req, who) => {
      asked.push({ req, who });
      return req.op === 'events' ? [] : { ok: true };
    },
    history: () => ({ at: [], links: [] }),
    thumbnail: () => undefined,
    pageDir: path.join(tmpdir(), 'fieldcast-no-page'),
    loginPerMinute,
    ...extra,
  });
  apps.push(app);
  return { app, auth, file, asked };
}

function cookieFrom(res: { headers: Record<string, unknown> }): string {
  return String(res.headers['set-cookie']).split(';')[0]!;
}

describe('status API: who may', () => {
  it('refuses everything without a session or token; says whether a password is set', async () => {
    const { app } = await server();
    for (const [method, url] of [
      ['GET', '/api/v1/status'],
      ['GET', '/api/v1/live'],
      ['POST', '/api/v1/control'],
      ['GET', '/api/v1/tokens'],
    ] as const) {
      const r = await app.inject({ method, url, ...(method === 'POST' ? { payload: { op: 'stop' } } : {}) });
      expect(r.statusCode, url).toBe(401);
      expect(r.json()).toEqual({ error: { code: 'AUTH_REQUIRED', message: 'log in first' } });
    }
    expect((await app.inject({ method: 'GET', url: '/api/v1/auth' })).json()).toEqual({ passwordSet: false });
  });

  it('sets the password once with the setup code; the cookie is HttpOnly and SameSite=Strict; only a hash is kept', async () => {
    const { app, auth, file } = await server();
    const code = auth.setupCode!;
    expect(code).toMatch(/^[A-Z2-9]{8}$/);
    expect((await app.inject({ method: 'POST', url: '/api/v1/login', payload: { password: PASSWORD } })).json().error.code).toBe(
      'AUTH_NOT_SET_UP',
    );
    const wrong = await app.inject({ method: 'POST', url: '/api/v1/setup', payload: { code: 'WRONG000', password: PASSWORD } });
    expect(wrong.statusCode).toBe(403);
    const weak = await app.inject({ method: 'POST', url: '/api/v1/setup', payload: { code, password: 'short' } });
    expect(weak.json().error.code).toBe('AUTH_WEAK_PASSWORD');
    const ok = await app.inject({ method: 'POST', url: '/api/v1/setup', payload: { code, password: PASSWORD } });
    expect(ok.statusCode).toBe(200);
    expect(String(ok.headers['set-cookie'])).toMatch(/^fc_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    expect(ok.json()).toEqual({ csrf: expect.stringMatching(/^[\w-]{43}$/) });
    expect(auth.setupCode).toBeUndefined();
    const again = await app.inject({ method: 'POST', url: '/api/v1/setup', payload: { code, password: PASSWORD } });
    expect(again.json().error.code).toBe('AUTH_ALREADY_SET_UP');
    const status = await app.inject({ method: 'GET', url: '/api/v1/status', headers: { cookie: cookieFrom(ok) } });
    expect(status.json()).toMatchObject({ state: 'live' });
    expect(status.headers['content-security-policy']).toMatch(/script-src 'self'/);
    const onDisk = readFileSync(file, 'utf8');
    expect(onDisk).not.toContain(PASSWORD);
    expect(JSON.parse(onDisk).password).toEqual({ salt: expect.any(String), hash: expect.any(String) });
    // The password carries over to a new start.
    const reopened = await AuthStore.open(file);
    expect(reopened.passwordSet).toBe(true);
    expect(reopened.setupCode).toBeUndefined();
  });

  it('needs the CSRF token on every state-changing request of a session', async () => {
    const { app, auth, asked } = await server();
    const ok = await app.inject({ method: 'POST', url: '/api/v1/setup', payload: { code: auth.setupCode!, password: PASSWORD } });
    const cookie = cookieFrom(ok);
    const { csrf } = ok.json() as { csrf: string };
    const without = await app.inject({ method: 'POST', url: '/api/v1/control', headers: { cookie }, payload: { op: 'stop' } });
    expect(without.statusCode).toBe(403);
    expect(without.json().error.code).toBe('AUTH_CSRF');
    const forged = await app.inject({
      method: 'POST',
      url: '/api/v1/control',
      headers: { cookie, 'x-csrf-token': 'x'.repeat(43) },
      payload: { op: 'stop' },
    });
    expect(forged.statusCode).toBe(403);
    expect(asked).toEqual([]);
    const good = await app.inject({
      method: 'POST',
      url: '/api/v1/control',
      headers: { cookie, 'x-csrf-token': csrf },
      payload: { op: 'stop' },
    });
    expect(good.statusCode).toBe(200);
    expect(asked).toEqual([{ req: { op: 'stop' }, who: expect.stringMatching(/^the status page/) }]);
    // A malformed request is refused by its schema before anything runs.
    const bad = await app.inject({
      method: 'POST',
      url: '/api/v1/control',
      headers: { cookie, 'x-csrf-token': csrf },
      payload: { op: 'reboot' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('REQUEST_INVALID');
    expect(asked).toHaveLength(1);
  });

  it('rate-limits wrong passwords', async () => {
    const { app, auth } = await server(3);
    await auth.setup(auth.setupCode!, PASSWORD);
    const codes: number[] = [];
    for (let i = 0; i < 5; i++)
      codes.push((await app.inject({ method: 'POST', url: '/api/v1/login', payload: { password: 'wrong password!' } })).statusCode);
    expect(codes).toEqual([401, 401, 401, 429, 429]);
    const limited = await app.inject({ method: 'POST', url: '/api/v1/login', payload: { password: PASSWORD } });
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('TOO_MANY_ATTEMPTS');
  });

  it('makes a token once, lets a script use it without a cookie or CSRF, and revokes it', async () => {
    const { app, auth, file } = await server();
    const s = await app.inject({ method: 'POST', url: '/api/v1/setup', payload: { code: auth.setupCode!, password: PASSWORD } });
    const headers = { cookie: cookieFrom(s), 'x-csrf-token': (s.json() as { csrf: string }).csrf };
    const made = (await app.inject({ method: 'POST', url: '/api/v1/tokens', headers, payload: { name: 'scoreboard' } })).json() as {
      id: string;
      token: string;
    };
    expect(made.token).toMatch(/^[\w-]+\.[\w-]+$/);
    expect(readFileSync(file, 'utf8')).not.toContain(made.token.split('.')[1]!);
    const listed = (await app.inject({ method: 'GET', url: '/api/v1/tokens', headers })).json() as object[];
    expect(JSON.stringify(listed)).not.toContain(made.token.split('.')[1]!);
    const bearer = { authorization: `Bearer ${made.token}` };
    expect((await app.inject({ method: 'GET', url: '/api/v1/status', headers: bearer })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/api/v1/control', headers: bearer, payload: { op: 'start' } })).statusCode).toBe(200);
    // Tokens do not make tokens.
    expect((await app.inject({ method: 'POST', url: '/api/v1/tokens', headers: bearer, payload: { name: 'x' } })).statusCode).toBe(401);
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/tokens/${made.id}`, headers })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/v1/status', headers: bearer })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/api/v1/status', headers: { authorization: 'Bearer nonsense' } })).statusCode).toBe(
      401,
    );
  });
});

async function loggedIn(extra: Partial<Parameters<typeof buildStatusServer>[0]> = {}) {
  const made = await server(5, extra);
  const ok = await made.app.inject({ method: 'POST', url: '/api/v1/setup', payload: { code: made.auth.setupCode!, password: PASSWORD } });
  const csrf = (ok.json() as { csrf: string }).csrf;
  return { ...made, csrf, headers: { cookie: cookieFrom(ok), 'x-csrf-token': csrf } };
}

describe('status API: what the page reads', () => {
  it('gives a reloaded page its CSRF token back; a bearer token has no session', async () => {
    const { app, headers, csrf } = await loggedIn();
    expect((await app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie: headers.cookie } })).json()).toEqual({ csrf });
    expect((await app.inject({ method: 'GET', url: '/api/v1/session' })).statusCode).toBe(401);
  });

  it('checks each control request against its own op: the new ops pass, a stray field or a bad priority is refused', async () => {
    const { app, headers, asked } = await loggedIn();
    const post = (payload: object) => app.inject({ method: 'POST', url: '/api/v1/control', headers, payload });
    expect((await post({ op: 'restart' })).statusCode).toBe(200);
    expect((await post({ op: 'uplink', name: 'wwan0', enabled: false, priority: 3 })).statusCode).toBe(200);
    const stray = await post({ op: 'start', assignments: [{ key: 'a', value: 'b' }] });
    expect(stray.statusCode).toBe(400);
    const priority = await post({ op: 'uplink', name: 'wwan0', priority: 12 });
    expect(priority.statusCode).toBe(400);
    expect(priority.json().error.message).toMatch(/priority/);
    const noAssignments = await post({ op: 'set' });
    expect(noAssignments.json().error.message).toMatch(/assignments/);
    expect(asked.map((a) => a.req)).toEqual([{ op: 'restart' }, { op: 'uplink', name: 'wwan0', enabled: false, priority: 3 }]);
  });

  it('serves the history, the config and the events through the control core, the thumbnail, and a log download', async () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
    let thumb: { jpeg: Buffer; at: string } | undefined;
    const { app, headers, asked } = await loggedIn({
      history: () => ({ at: [1, 2], links: [{ name: 'cell-a', bps: [1e6, null], rttMs: [40, null] }] }),
      thumbnail: () => thumb,
    });
    const get = (url: string) => app.inject({ method: 'GET', url, headers: { cookie: headers.cookie } });
    expect((await get('/api/v1/history')).json()).toEqual({ at: [1, 2], links: [{ name: 'cell-a', bps: [1e6, null], rttMs: [40, null] }] });
    expect((await get('/api/v1/thumbnail.jpg')).statusCode).toBe(404);
    thumb = { jpeg, at: '2026-12-02T07:00:00.000Z' };
    const t = await get('/api/v1/thumbnail.jpg');
    expect(t.headers['content-type']).toBe('image/jpeg');
    expect(t.rawPayload).toEqual(jpeg);
    await get('/api/v1/config');
    await get('/api/v1/events?limit=20');
    expect((await get('/api/v1/events?limit=0')).statusCode).toBe(400);
    const logs = await get('/api/v1/logs');
    expect(logs.headers['content-disposition']).toMatch(/^attachment; filename="fieldcast-.*\.log"$/);
    expect(logs.body).toMatch(/^# Fieldcast .*\n# event log/);
    expect(asked.map((a) => a.req)).toEqual([{ op: 'get' }, { op: 'events', limit: 20 }, { op: 'events', limit: 100000 }]);
  });

  it('documents itself: the OpenAPI description lists every route with its request schema', async () => {
    const { app } = await server();
    const doc = (await app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json() as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    };
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of ['/api/v1/status', '/api/v1/live', '/api/v1/control', '/api/v1/login', '/api/v1/history', '/api/v1/tokens/{id}'])
      expect(Object.keys(doc.paths)).toContain(p);
    expect(doc.paths['/api/v1/control']!.post!.requestBody).toBeDefined();
  });

  it('serves the built page with its CSP; without a build, / says how to make one', async () => {
    const { app } = await server();
    const missing = await app.inject({ method: 'GET', url: '/' });
    expect(missing.statusCode).toBe(503);
    expect(missing.body).toMatch(/npm run setup/);
    const dir = mkdtempSync(path.join(tmpdir(), 'fieldcast-page-'));
    dirs.push(dir);
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Fieldcast</title>');
    const { app: withPage } = await server(5, { pageDir: dir });
    const page = await withPage.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<title>Fieldcast</title>');
    expect(page.headers['content-security-policy']).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    );
  });
});
