/**
 * The image's firewall with the real nft, in network namespaces this test
 * makes: a "box" namespace loads image/rootfs/etc/nftables.conf and the LAN
 * chain `fieldcast system apply` would load for a config (src/system/
 * firewall.ts), and a "peer" namespace at the far end of veth pairs named as
 * the box would name its interfaces — eth7 and enx02fc00000004 (LAN: wired,
 * a USB ethernet adapter), wwan7, wwx02fc00000003 and usb7 (cellular). TCP
 * listeners in the box on the status page's port, 22 and a port nobody
 * opened; the peer connects to each over each interface. Outgoing from the
 * box over a cellular interface still works (its replies are let in).
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySettings, defaultConfig } from '../../src/config/index.js';
import { lanChainScript, lanPorts } from '../../src/system/index.js';
import { missingTools, skipWithout } from '../peers.js';
import { ip, missingForNetns } from './netns.js';

const RULES = join(import.meta.dirname, '../../image/rootfs/etc/nftables.conf');
const missing = [...missingForNetns(), ...missingTools('nft')];
const skip = skipWithout('the firewall namespace test (test/integration/firewall-netns.test.ts)', missing);

const IFACES = [
  { name: 'eth7', net: 1, lan: true },
  { name: 'wwan7', net: 2, lan: false },
  { name: 'wwx02fc00000003', net: 3, lan: false },
  { name: 'enx02fc00000004', net: 4, lan: true },
  { name: 'usb7', net: 5, lan: false },
] as const;
const [STATUS, SSH, NOBODY] = [8080, 22, 9999];

/** Connects to each host:port from inside `ns`; "open" when it is answered within 1.5 s, else "silent" or "refused". */
function probe(ns: string, targets: Array<[string, number]>): string[] {
  const script = `
    const net = require('node:net');
    const one = ([h, p]) => new Promise((res) => {
      const s = net.connect(p, h);
      const t = setTimeout(() => { s.destroy(); res('silent'); }, 1500);
      s.on('connect', () => { clearTimeout(t); s.destroy(); res('open'); });
      s.on('error', (e) => { clearTimeout(t); res(e.code === 'ECONNREFUSED' ? 'refused' : 'silent'); });
    });
    Promise.all(JSON.parse(process.argv[1]).map(one)).then((r) => console.log(JSON.stringify(r)));`;
  const out = execFileSync('ip', ['netns', 'exec', ns, process.execPath, '-e', script, JSON.stringify(targets)], { encoding: 'utf8' });
  return JSON.parse(out) as string[];
}

describe.skipIf(skip)('the firewall in a namespace (real nft)', () => {
  const id = randomBytes(3).toString('hex');
  const [box, peer] = [`fc-fwbox-${id}`, `fc-fwpeer-${id}`];
  let listeners: ReturnType<typeof spawn> | undefined;

  beforeAll(async () => {
    ip('netns', 'add', box);
    ip('netns', 'add', peer);
    ip('-n', box, 'link', 'set', 'lo', 'up');
    for (const f of IFACES) {
      ip('-n', box, 'link', 'add', f.name, 'type', 'veth', 'peer', 'name', `p${f.net}`, 'netns', peer);
      ip('-n', box, 'addr', 'add', `10.77.${f.net}.1/24`, 'dev', f.name);
      ip('-n', peer, 'addr', 'add', `10.77.${f.net}.2/24`, 'dev', `p${f.net}`);
      ip('-n', box, 'link', 'set', f.name, 'up');
      ip('-n', peer, 'link', 'set', `p${f.net}`, 'up');
    }
    execFileSync('ip', ['netns', 'exec', box, 'nft', '-f', RULES]);
    const config = applySettings(defaultConfig(), [
      { key: 'status.port', value: String(STATUS) },
      { key: 'system.ssh', value: 'true' },
    ]);
    execFileSync('ip', ['netns', 'exec', box, 'nft', '-f', '-'], { input: lanChainScript(lanPorts(config)) });
    const serve = `for (const p of JSON.parse(process.argv[1])) require('node:net').createServer((s) => s.end()).listen(p);
      setTimeout(() => console.log('ready'), 100); process.on('SIGTERM', () => process.exit(0));`;
    listeners = spawn('ip', ['netns', 'exec', box, process.execPath, '-e', serve, JSON.stringify([STATUS, SSH, NOBODY])], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((r) => listeners?.stdout?.once('data', () => r()));
  });

  afterAll(() => {
    listeners?.kill('SIGTERM');
    for (const ns of [box, peer]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // already gone
      }
    }
  });

  it('loads the ruleset with the LAN chain the config asks for', () => {
    const ruleset = execFileSync('ip', ['netns', 'exec', box, 'nft', 'list', 'chain', 'inet', 'fieldcast', 'lan'], { encoding: 'utf8' });
    expect(ruleset).toMatch(/tcp dport 8080 accept comment "status page"/);
    expect(ruleset).toMatch(/tcp dport 22 accept comment "ssh"/);
    expect(readFileSync(RULES, 'utf8')).toMatch(/policy drop/);
  });

  it('lets the LAN reach the status page and SSH only, and cellular interfaces nothing', () => {
    const targets = IFACES.flatMap((f) => [STATUS, SSH, NOBODY].map((p) => [`10.77.${f.net}.1`, p] as [string, number]));
    const got = probe(peer, targets);
    const table = Object.fromEntries(IFACES.map((f, i) => [f.name, got.slice(i * 3, i * 3 + 3)]));
    expect(table).toEqual(
      Object.fromEntries(IFACES.map((f) => [f.name, f.lan ? ['open', 'open', 'silent'] : ['silent', 'silent', 'silent']])),
    );
  });

  it('closes 22 when SSH is turned off, and keeps the status page', () => {
    execFileSync('ip', ['netns', 'exec', box, 'nft', '-f', '-'], {
      input: lanChainScript(lanPorts(applySettings(defaultConfig(), [{ key: 'status.port', value: String(STATUS) }]))),
    });
    expect(
      probe(peer, [
        ['10.77.1.1', STATUS],
        ['10.77.1.1', SSH],
      ]),
    ).toEqual(['open', 'silent']);
  });

  it('lets the replies to what the box sends over a cellular interface in', () => {
    const srv = spawn(
      'ip',
      [
        'netns',
        'exec',
        peer,
        process.execPath,
        '-e',
        "require('node:net').createServer((s) => s.end('hi\\n')).listen(7000, () => console.log('ready'))",
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      execFileSync('sleep', ['0.5']);
      const out = execFileSync(
        'ip',
        [
          'netns',
          'exec',
          box,
          process.execPath,
          '-e',
          "require('node:net').connect(7000, '10.77.2.2').on('data', (d) => { process.stdout.write(d); process.exit(0); })",
        ],
        { encoding: 'utf8', timeout: 10_000 },
      );
      expect(out.trim()).toBe('hi');
    } finally {
      srv.kill('SIGKILL');
    }
  });
});
