/**
 * Network namespaces for the uplink benchmarks: a "box" namespace whose veth
 * pairs are its uplinks, and a "router" namespace at their far ends that
 * forwards and holds the receiver's address on a veth of its own. Both get
 * random names, IPv6 is off in both (router solicitations and DAD would add
 * traffic nobody asked for) and nothing is routed out of them: the router has
 * no link to the host. destroy() removes everything, after a partial create()
 * too, and may be called more than once.
 *
 * Every command is run asynchronously: the benchmark reads the far end's
 * stream in this process while uplinks come and go, and a synchronous child
 * would stall those readers.
 */
import { type ChildProcess, execFile, type SpawnOptions, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** The tools of `names` that are not on PATH. */
export function missingTools(...names: string[]): string[] {
  const dirs = (process.env['PATH'] ?? '').split(path.delimiter).filter(Boolean);
  const found = (name: string): boolean =>
    dirs.some((d) => {
      try {
        accessSync(path.join(d, name), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  return names.filter((n) => !found(n));
}

/** What the rig needs that this machine lacks, in words (empty: it can run). */
export async function missingForNetns(): Promise<string[]> {
  const missing = missingTools('ip');
  if (process.getuid?.() !== 0) missing.push('root (network namespaces need CAP_NET_ADMIN and CAP_SYS_ADMIN)');
  if (missing.length > 0) return missing;
  const probe = `fc-probe-${randomBytes(3).toString('hex')}`;
  try {
    await exec('ip', ['netns', 'add', probe]);
  } catch {
    return ['a working "ip netns add" (network namespaces)'];
  }
  try {
    await exec('ip', ['-n', probe, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1']);
    return [];
  } catch {
    return ['veth support in the kernel (modprobe veth)'];
  } finally {
    await exec('ip', ['netns', 'del', probe]).catch(() => undefined);
  }
}

async function ip(...args: string[]): Promise<string> {
  return (await exec('ip', args, { encoding: 'utf8' })).stdout;
}

export interface RigUplink {
  index: number;
  /** Box side: `fcup<i>`. */
  name: string;
  /** Router side: `fcgw<i>`. */
  peer: string;
  /** 10.201.<i>.1 */
  address: string;
  /** 10.201.<i>.2, the uplink's gateway. */
  routerAddress: string;
}

export class NetnsRig {
  readonly id = randomBytes(3).toString('hex');
  readonly box = `fc-box-${this.id}`;
  readonly router = `fc-rtr-${this.id}`;
  readonly receiverAddress = '10.99.0.1';
  private created: string[] = [];

  async create(): Promise<void> {
    await ip('netns', 'add', this.box);
    this.created.push(this.box);
    await ip('netns', 'add', this.router);
    this.created.push(this.router);
    await this.exec(this.box, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
    await this.exec(
      this.router,
      'sysctl',
      '-q',
      '-w',
      'net.ipv4.ip_forward=1',
      'net.ipv6.conf.all.disable_ipv6=1',
      'net.ipv6.conf.default.disable_ipv6=1',
    );
    await ip('-n', this.box, 'link', 'set', 'lo', 'up');
    await ip('-n', this.router, 'link', 'set', 'lo', 'up');
    // The receiver's address, on a veth pair of its own inside the router.
    await ip('-n', this.router, 'link', 'add', 'fcrx0', 'type', 'veth', 'peer', 'name', 'fcrx1');
    await ip('-n', this.router, 'addr', 'add', `${this.receiverAddress}/24`, 'dev', 'fcrx0');
    await ip('-n', this.router, 'link', 'set', 'fcrx0', 'up');
    await ip('-n', this.router, 'link', 'set', 'fcrx1', 'up');
  }

  /**
   * Plugs in uplink `i`: veth `fcup<i>` (10.201.<i>.1/30) in the box, its
   * peer `fcgw<i>` (.2) in the router, and a default route by it in the box
   * with metric `defaultMetric`, as DHCP on a real uplink would leave.
   */
  async addUplink(i: number, defaultMetric: number): Promise<RigUplink> {
    const u: RigUplink = { index: i, name: `fcup${i}`, peer: `fcgw${i}`, address: `10.201.${i}.1`, routerAddress: `10.201.${i}.2` };
    await ip('-n', this.box, 'link', 'add', u.name, 'type', 'veth', 'peer', 'name', u.peer, 'netns', this.router);
    await ip('-n', this.router, 'addr', 'add', `${u.routerAddress}/30`, 'dev', u.peer);
    await ip('-n', this.router, 'link', 'set', u.peer, 'up');
    await ip('-n', this.box, 'addr', 'add', `${u.address}/30`, 'dev', u.name);
    await ip('-n', this.box, 'link', 'set', u.name, 'up');
    await ip('-n', this.box, 'route', 'add', 'default', 'via', u.routerAddress, 'dev', u.name, 'metric', String(defaultMetric));
    return u;
  }

  /** Pulls uplink `u` out: deleting the box side takes its peer with it. */
  async removeUplink(u: RigUplink): Promise<void> {
    await ip('-n', this.box, 'link', 'del', u.name);
  }

  /** Runs a command in namespace `ns` to completion. */
  async exec(ns: string, cmd: string, ...args: string[]): Promise<string> {
    return (await exec('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8' })).stdout;
  }

  /** Starts a long-running command in namespace `ns` (`ip netns exec` execs it: the child's pid is the command's). */
  spawnIn(ns: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    return spawn('ip', ['netns', 'exec', ns, ...args], options);
  }

  /** Removes both namespaces and everything in them; safe after a partial create() and more than once. */
  async destroy(): Promise<void> {
    for (const ns of this.created.reverse()) await ip('netns', 'del', ns).catch(() => undefined);
    this.created = [];
  }
}
