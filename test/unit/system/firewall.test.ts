/**
 * The firewall's LAN chain from the config (src/system/firewall.ts), the
 * image's base ruleset and the udev rule that names modems' interfaces, and
 * `applySystem` on a machine that is not the appliance image.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applySettings, defaultConfig, validateConfig } from '../../../src/config/index.js';
import { applySystem, awaitSystemApplied, type CommandRunner, lanChainScript, lanPorts } from '../../../src/system/index.js';
import { CELLULAR_DRIVERS } from '../../../src/uplinks/interfaces/classify.js';

const ROOTFS = join(import.meta.dirname, '../../../image/rootfs');

describe('the LAN chain follows the config', () => {
  it('opens the status page port by default, and nothing else', () => {
    const c = defaultConfig();
    expect(lanPorts(c)).toEqual([{ port: 80, why: 'status page' }]);
    expect(lanChainScript(lanPorts(c))).toBe(
      'flush chain inet fieldcast lan\nadd rule inet fieldcast lan tcp dport 80 accept comment "status page"\n',
    );
  });

  it('follows status.port, adds 22 only while system.ssh is on, and /metrics only when it listens beyond loopback', () => {
    let c = applySettings(defaultConfig(), [
      { key: 'status.port', value: '8080' },
      { key: 'metrics.port', value: '9100' },
    ]);
    expect(lanPorts(c).map((p) => p.port)).toEqual([8080]);
    c = applySettings(c, [
      { key: 'system.ssh', value: 'true' },
      { key: 'metrics.listen', value: '0.0.0.0' },
    ]);
    expect(lanPorts(c)).toEqual([
      { port: 8080, why: 'status page' },
      { port: 9100, why: 'metrics' },
      { port: 22, why: 'ssh' },
    ]);
  });

  it('opens nothing for a status page on loopback only, or not served', () => {
    expect(lanPorts(applySettings(defaultConfig(), [{ key: 'status.listen', value: 'loopback' }]))).toEqual([]);
    expect(lanPorts(applySettings(defaultConfig(), [{ key: 'status.port', value: '0' }]))).toEqual([]);
    expect(lanChainScript([])).toBe('flush chain inet fieldcast lan\n');
  });

  it('takes SSH keys only as public key lines', () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk2 operator@laptop';
    expect(validateConfig({ system: { ssh: true, sshKeys: [key] } }).system).toEqual({ ssh: true, sshKeys: [key] });
    expect(() => validateConfig({ system: { sshKeys: ['command="rm -rf /" ssh-ed25519 AAAA'] } })).toThrow(/system\.sshKeys\.0/);
    expect(() => validateConfig({ system: { sshKeys: [`${key}\nssh-rsa AAAA`] } })).toThrow(/OpenSSH public key line/);
    expect(defaultConfig().system).toEqual({ ssh: false, sshKeys: [] });
  });
});

describe("the image's base ruleset and interface names", () => {
  const rules = readFileSync(join(ROOTFS, 'etc/nftables.conf'), 'utf8');
  const udev = readFileSync(join(ROOTFS, 'etc/udev/rules.d/70-fieldcast-cellular-names.rules'), 'utf8');

  it('drops by default and drops the cellular names before any LAN jump', () => {
    expect(rules).toMatch(/type filter hook input priority filter; policy drop;/);
    const firstJump = rules.indexOf('jump lan');
    for (const name of ['ww*', 'ppp*', 'usb*']) {
      const at = rules.indexOf(`iifname "${name}" drop`);
      expect(at, name).toBeGreaterThan(0);
      expect(at, name).toBeLessThan(firstJump);
    }
    expect(rules).toMatch(/chain lan \{\s*\}/);
  });

  it("names the interfaces of every modem driver Fieldcast knows ww* (the serial-only 'option' has none)", () => {
    const drivers = udev.match(/DRIVERS=="([^"]+)"/)?.[1]?.split('|') ?? [];
    expect(new Set(drivers)).toEqual(new Set([...CELLULAR_DRIVERS].filter((d) => d !== 'option')));
  });
});

describe('on a machine that is not the appliance image', () => {
  it('applySystem changes nothing and says so; the supervisor reports the same', async () => {
    const root = mkdtempSync(join(tmpdir(), 'fieldcast-not-image-'));
    const ran: string[] = [];
    const run: CommandRunner = async (cmd, args) => {
      ran.push([cmd, ...args].join(' '));
      return { exitCode: 0, output: '' };
    };
    try {
      const c = applySettings(defaultConfig(), [{ key: 'system.ssh', value: 'true' }]);
      await expect(applySystem(c, { root, run, uid: 0 })).rejects.toMatchObject({ code: 'SYSTEM_NOT_APPLIANCE' });
      const note = await awaitSystemApplied(c.system, { root, run });
      expect(note?.code).toBe('SYSTEM_NOT_APPLIANCE');
      expect(note?.message).toMatch(/not the Fieldcast appliance image/);
      expect(ran).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
