import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gauge, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricsListenError } from '../../../src/metrics/errors.js';
import { serveMetrics } from '../../../src/metrics/server.js';
import { parsePrometheus, sampleOf } from './prometheus-text.js';

const servers: http.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function serve(registry: Registry, extra?: Parameters<typeof serveMetrics>[0]['extraRoutes']) {
  const server = await serveMetrics({ port: 0, registry, extraRoutes: extra });
  servers.push(server);
  const a = server.address() as AddressInfo;
  return { server, address: a, url: (p: string) => `http://127.0.0.1:${a.port}${p}` };
}

function registryWith(value: () => number): Registry {
  const registry = new Registry();
  new Gauge({
    name: 'fieldcast_test_value',
    help: 'a test figure',
    registers: [registry],
    collect() {
      this.set(value());
    },
  });
  return registry;
}

describe('serveMetrics', () => {
  it('serves the registry on /metrics, on loopback unless told otherwise', async () => {
    let v = 1;
    const { address, url } = await serve(registryWith(() => v));
    expect(address.address).toBe('127.0.0.1');
    const res = await fetch(url('/metrics?x=1'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(sampleOf(parsePrometheus(await res.text()), 'fieldcast_test_value')).toBe(1);
    v = 2;
    expect(sampleOf(parsePrometheus(await (await fetch(url('/metrics'))).text()), 'fieldcast_test_value')).toBe(2);
    expect((await fetch(url('/metrics'), { method: 'HEAD' })).status).toBe(200);
  });

  it('adds the extra routes, answers 404 naming the routes and 405 to anything but GET and HEAD', async () => {
    const { url } = await serve(
      registryWith(() => 0),
      { '/stats.json': { contentType: 'application/json', body: () => '{"ok":true}\n' } },
    );
    const json = await fetch(url('/stats.json'));
    expect(json.headers.get('content-type')).toBe('application/json');
    expect(await json.json()).toEqual({ ok: true });
    const missing = await fetch(url('/nothing'));
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('not found: try /metrics or /stats.json\n');
    const post = await fetch(url('/metrics'), { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers 500 when a figure cannot be read, and serves again once it can', async () => {
    let broken = true;
    const { url } = await serve(
      registryWith(() => {
        if (broken) throw new Error('no snapshot yet');
        return 7;
      }),
    );
    const res = await fetch(url('/metrics'));
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('no snapshot yet');
    broken = false;
    expect(sampleOf(parsePrometheus(await (await fetch(url('/metrics'))).text()), 'fieldcast_test_value')).toBe(7);
  });

  it('two servers in one process keep their own figures', async () => {
    const a = await serve(registryWith(() => 1));
    const b = await serve(registryWith(() => 2));
    expect(sampleOf(parsePrometheus(await (await fetch(a.url('/metrics'))).text()), 'fieldcast_test_value')).toBe(1);
    expect(sampleOf(parsePrometheus(await (await fetch(b.url('/metrics'))).text()), 'fieldcast_test_value')).toBe(2);
  });

  it('a port in use fails with METRICS_LISTEN_FAILED naming the address', async () => {
    const { address } = await serve(new Registry());
    const err = await serveMetrics({ port: address.port, registry: new Registry() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MetricsListenError);
    expect((err as MetricsListenError).code).toBe('METRICS_LISTEN_FAILED');
    expect((err as Error).message).toContain(`cannot serve metrics on 127.0.0.1:${address.port}`);
  });
});
