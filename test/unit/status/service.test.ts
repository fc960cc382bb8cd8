/** The status page as the supervisor runs it: listening where the config says, HTTPS with a certificate made once. */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { StatusConfig } from '../../../src/config/schema.js';
import { StatusService } from '../../../src/status/server/service.js';
import type { EventInput } from '../../../src/supervisor/event-log.js';
import type { StatusSnapshot } from '../../../src/supervisor/snapshot.js';
import { missingTools, skipWithout } from '../../peers.js';

const dirs: string[] = [];
const services: StatusService[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const SNAPSHOT = { version: 1, at: new Date().toISOString(), state: 'idle', reason: 'stopped' } as unknown as StatusSnapshot;

async function start(config: object, stateDir?: string) {
  const dir = stateDir ?? mkdtempSync(path.join(tmpdir(), 'fieldcast-status-'));
  if (!stateDir) dirs.push(dir);
  const events: EventInput[] = [];
  const s = await StatusService.start(StatusConfig.parse(config), {
    stateDir: dir,
    deviceName: 'Test box',
    snapshot: () => SNAPSHOT,
    control: async () => ({}),
    thumbnail: () => undefined,
    record: (e) => events.push(e),
  });
  services.push(s);
  return { s, dir, events };
}

function getTls(url: string): Promise<{ status: number; fingerprint: string; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { rejectUnauthorized: false }, (res) => {
        const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, fingerprint, body }));
      })
      .on('error', reject);
  });
}

describe('the status service', () => {
  it('listens where it is told and records the setup code', async () => {
    // Port 0 is "not served" to the supervisor; the service itself takes it as any free port.
    const { s, events } = await start({ port: 0, listen: 'loopback' });
    expect(s.urls()).toEqual([expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/$/)]);
    expect(events.find((e) => e.code === 'SETUP_CODE')?.message).toMatch(/^setup code: [A-Z2-9]{8} \(set the password with it at http:/);
    const r = await fetch(`${s.urls()[0]}api/v1/auth`);
    expect(await r.json()).toEqual({ passwordSet: false });
  });

  it.skipIf(skipWithout('HTTPS of the status page', missingTools('openssl')))(
    'serves HTTPS with a self-signed certificate made at first start, its key owner-only, the same one after a restart',
    async () => {
      const first = await start({ port: 0, listen: ['127.0.0.1'], https: true });
      const made = first.events.find((e) => e.code === 'STATUS_CERT_MADE')!;
      expect(made.message).toMatch(/SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      expect(statSync(path.join(first.dir, 'status-key.pem')).mode & 0o777).toBe(0o600);
      const url = first.s.urls()[0]!;
      expect(url).toMatch(/^https:/);
      const r = await getTls(`${url}api/v1/auth`);
      expect(r.status).toBe(200);
      expect(made.message).toContain(r.fingerprint);
      await first.s.close();
      const again = await start({ port: 0, listen: ['127.0.0.1'], https: true }, first.dir);
      expect(again.events.find((e) => e.code === 'STATUS_CERT')?.message).toContain(r.fingerprint);
    },
  );

  it('refuses a listen entry that is neither lan, loopback nor an address', () => {
    expect(StatusConfig.safeParse({ listen: ['lan', 'wwan0'] }).success).toBe(false);
    expect(StatusConfig.parse({}).listen).toEqual(['lan']);
    expect(StatusConfig.parse({ listen: '10.0.0.1' }).listen).toEqual(['10.0.0.1']);
  });
});
