/** Where the status page listens: `lan` never takes a cellular uplink's address; listeners follow the addresses. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Listeners, resolveListen } from '../../../src/status/server/listeners.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A sysfs tree in which every real interface of this machine (but lo) is `kind`. */
function fakeSys(kind: 'ethernet' | 'cellular' | 'virtual'): string {
  const root = mkdtempSync(path.join(tmpdir(), 'fieldcast-sys-'));
  dirs.push(root);
  for (const name of Object.keys(networkInterfaces())) {
    if (name === 'lo') continue;
    const dir = path.join(root, 'class', 'net', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'type'), '1\n');
    writeFileSync(path.join(dir, 'uevent'), `INTERFACE=${name}\n`);
    if (kind === 'virtual') continue;
    const device = path.join(root, 'devices', name);
    const driver = path.join(root, 'drivers', kind === 'cellular' ? 'qmi_wwan' : 'e1000e');
    mkdirSync(device, { recursive: true });
    mkdirSync(driver, { recursive: true });
    symlinkSync(device, path.join(dir, 'device'));
    symlinkSync(driver, path.join(device, 'driver'));
  }
  return root;
}

function realAddresses(): string[] {
  return Object.entries(networkInterfaces())
    .filter(([n]) => n !== 'lo')
    .flatMap(([, a]) => (a ?? []).filter((x) => !x.internal && !x.address.startsWith('fe80')).map((x) => x.address));
}

describe('status.listen', () => {
  it('lan is loopback and the ethernet addresses, but never a cellular one; literal addresses stay as they are', async () => {
    expect(await resolveListen(['loopback', '10.1.2.3'], fakeSys('ethernet'))).toEqual(['127.0.0.1', '10.1.2.3']);
    expect(await resolveListen(['lan'], fakeSys('ethernet'))).toEqual(['127.0.0.1', ...realAddresses()]);
    expect(await resolveListen(['lan'], fakeSys('cellular'))).toEqual(['127.0.0.1']);
    expect(await resolveListen(['lan'], fakeSys('virtual'))).toEqual(['127.0.0.1']);
  });

  it('binds each address, closes those that went (live clients with them), and reports one it cannot take', async () => {
    const l = new Listeners((_req, res) => res.end('ok'), 0);
    try {
      const first = await l.sync(['127.0.0.1', '127.0.0.2']);
      expect(first).toEqual({ added: ['127.0.0.1', '127.0.0.2'], removed: [], failed: [] });
      const [a, b] = l.urls();
      expect(new URL(a!).port).toBe(new URL(b!).port);
      expect(await (await fetch(b!)).text()).toBe('ok');
      const second = await l.sync(['127.0.0.1', '192.0.2.222']);
      expect(second.removed).toEqual(['127.0.0.2']);
      expect(second.failed).toEqual([{ address: '192.0.2.222', message: expect.stringMatching(/EADDRNOTAVAIL/) }]);
      await expect(fetch(b!)).rejects.toThrow();
      expect(await (await fetch(a!)).text()).toBe('ok');
    } finally {
      await l.close();
    }
  });
});
