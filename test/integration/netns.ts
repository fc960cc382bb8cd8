/**
 * A two-namespace rig for the uplink tests: a "box" namespace whose veths are
 * the uplinks, and a "router" namespace at their far ends that holds the
 * receiver's address. Everything is created under random names and removed
 * by destroy(); traffic never leaves the two namespaces.
 */
import { type ChildProcess, execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { missingTools } from '../peers.js';

const run = promisify(execFile);

/** What this rig needs that the machine lacks, in words for the skip message. */
export function missingForNetns(): string[] {
  const missing = missingTools('ip', 'nsenter', 'mount', 'umount');
  if (process.getuid?.() !== 0) missing.push('root (network namespaces need CAP_NET_ADMIN and CAP_SYS_ADMIN)');
  if (missing.length > 0) return missing;
  const probe = `fc-probe-${randomBytes(3).toString('hex')}`;
  if (spawnSync('ip', ['netns', 'add', probe]).status !== 0) return ['a working "ip netns add" (network namespaces)'];
  const veth = spawnSync('ip', ['-n', probe, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1']).status === 0;
  spawnSync('ip', ['netns', 'del', probe]);
  return veth ? [] : ['veth support in the kernel (modprobe veth)'];
}

export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function inNs(ns: string, cmd: string, ...args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const RECEIVER_SCRIPT = `
const s = require('node:dgram').createSocket('udp4');
s.on('message', (_m, r) => process.stdout.write(r.address + '\\n'));
s.bind(Number(process.argv[2]), process.argv[1], () => process.stdout.write('ready\\n'));
process.on('SIGTERM', () => process.exit(0));
`;

const SENDER_SCRIPT = `
const [from, to, port, n] = process.argv.slice(1);
const s = require('node:dgram').createSocket('udp4');
s.bind({ address: from, port: 0 }, async () => {
  for (let i = 0; i < Number(n); i++) {
    await new Promise((res, rej) => s.send(Buffer.from('fieldcast ' + i), Number(port), to, (e) => (e ? rej(e) : res())));
  }
  s.close();
});
`;

export interface RigUplink {
  index: number;
  /** Box side. */
  name: string;
  /** Router side. */
  peer: string;
  address: string;
  routerAddress: string;
}

export class NetnsRig {
  readonly id = randomBytes(3).toString('hex');
  readonly box = `fc-box-${this.id}`;
  readonly router = `fc-rtr-${this.id}`;
  readonly receiverAddress = '10.99.0.1';
  readonly receiverPort = 40_000 + Math.floor(Math.random() * 10_000);
  /** The box namespace's own sysfs, mounted here. */
  sysRoot = '';
  private receiver: ChildProcess | undefined;
  private readonly received = new Map<string, number>();
  private created: string[] = [];

  create(): void {
    ip('netns', 'add', this.box);
    this.created.push(this.box);
    ip('netns', 'add', this.router);
    this.created.push(this.router);
    // No IPv6 in the box: router solicitations and DAD would add packets the counts do not expect.
    inNs(this.box, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
    inNs(
      this.router,
      'sysctl',
      '-q',
      '-w',
      'net.ipv4.ip_forward=1',
      'net.ipv6.conf.all.disable_ipv6=1',
      'net.ipv6.conf.default.disable_ipv6=1',
    );
    ip('-n', this.box, 'link', 'set', 'lo', 'up');
    ip('-n', this.router, 'link', 'set', 'lo', 'up');
    // The receiver's address, on a veth pair of its own inside the router.
    ip('-n', this.router, 'link', 'add', 'fcrx0', 'type', 'veth', 'peer', 'name', 'fcrx1');
    ip('-n', this.router, 'addr', 'add', `${this.receiverAddress}/24`, 'dev', 'fcrx0');
    ip('-n', this.router, 'link', 'set', 'fcrx0', 'up');
    ip('-n', this.router, 'link', 'set', 'fcrx1', 'up');
    this.sysRoot = mkdtempSync(join(tmpdir(), `fc-sys-${this.id}-`));
    // A sysfs mounted from inside a network namespace shows that namespace's interfaces (what `ip netns exec` does).
    execFileSync('nsenter', [`--net=/run/netns/${this.box}`, 'mount', '-t', 'sysfs', 'sysfs', this.sysRoot]);
  }

  /** Adds veth `fcup<i>` (10.201.<i>.1/30) to the box, its peer `fcgw<i>` (.2) to the router. */
  addUplink(i: number, opts: { defaultMetric?: number } = {}): RigUplink {
    const u: RigUplink = { index: i, name: `fcup${i}`, peer: `fcgw${i}`, address: `10.201.${i}.1`, routerAddress: `10.201.${i}.2` };
    ip('-n', this.box, 'link', 'add', u.name, 'type', 'veth', 'peer', 'name', u.peer, 'netns', this.router);
    ip('-n', this.router, 'addr', 'add', `${u.routerAddress}/30`, 'dev', u.peer);
    ip('-n', this.router, 'link', 'set', u.peer, 'up');
    ip('-n', this.box, 'addr', 'add', `${u.address}/30`, 'dev', u.name);
    ip('-n', this.box, 'link', 'set', u.name, 'up');
    if (opts.defaultMetric !== undefined) {
      ip('-n', this.box, 'route', 'add', 'default', 'via', u.routerAddress, 'dev', u.name, 'metric', String(opts.defaultMetric));
    }
    return u;
  }

  removeUplink(u: RigUplink): void {
    ip('-n', this.box, 'link', 'del', u.name); // takes its peer with it
  }

  txPackets(dev: string): number {
    return Number(readFileSync(join(this.sysRoot, 'class', 'net', dev, 'statistics', 'tx_packets'), 'utf8').trim());
  }

  /** The box's IPv4 rules, as `ip -json rule show` gives them. */
  rules(): Array<{ priority: number; src: string; table: string }> {
    return JSON.parse(ip('-n', this.box, '-4', '-N', '-json', 'rule', 'show')) as Array<{ priority: number; src: string; table: string }>;
  }

  /** Routes of every table but main and local. */
  tableRoutes(): Array<{ dst: string; dev?: string; gateway?: string; table: string }> {
    const all = JSON.parse(ip('-n', this.box, '-4', '-N', '-json', 'route', 'show', 'table', 'all')) as Array<{
      dst: string;
      dev?: string;
      gateway?: string;
      table?: string;
    }>;
    return all.filter((r): r is { dst: string; table: string } => r.table !== undefined && r.table !== '255' && r.table !== '254');
  }

  async startReceiver(): Promise<void> {
    const child = spawn(
      'ip',
      ['netns', 'exec', this.router, process.execPath, '-e', RECEIVER_SCRIPT, this.receiverAddress, String(this.receiverPort)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    this.receiver = child;
    let rest = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the receiver in the router namespace did not start')), 10_000);
      child.once('exit', (code) => reject(new Error(`the receiver exited (${code})`)));
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          if (line === 'ready') {
            clearTimeout(timer);
            resolve();
          } else if (line !== '') this.received.set(line, (this.received.get(line) ?? 0) + 1);
        }
      });
    });
  }

  receivedFrom(address: string): number {
    return this.received.get(address) ?? 0;
  }

  /** Sends `n` datagrams from a socket bound to `from` in the box to the receiver. */
  async send(from: string, n: number): Promise<void> {
    await run(
      'ip',
      ['netns', 'exec', this.box, process.execPath, '-e', SENDER_SCRIPT, from, this.receiverAddress, String(this.receiverPort), String(n)],
      {
        timeout: 15_000,
      },
    );
  }

  /** Removes everything; safe to call after a partial create() and more than once. */
  destroy(): void {
    if (this.receiver && this.receiver.exitCode === null) this.receiver.kill('SIGTERM');
    this.receiver = undefined;
    if (this.sysRoot !== '') {
      // Unmount first: the mount holds the namespace alive after `ip netns del`.
      spawnSync('umount', [this.sysRoot]);
      try {
        rmdirSync(this.sysRoot);
      } catch {
        // still mounted (busy): `umount -l` below lets it go when released
        spawnSync('umount', ['-l', this.sysRoot]);
      }
      this.sysRoot = '';
    }
    for (const ns of this.created.reverse()) spawnSync('ip', ['netns', 'del', ns]);
    this.created = [];
  }
}
