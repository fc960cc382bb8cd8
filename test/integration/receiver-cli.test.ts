/**
 * `fieldcast receive` as an operator runs it (README "Running the receiver
 * on a cloud VM"): its defaults and limits, the hardening, the reorder hold,
 * where the metrics listen, /stats.json and the statistics file — each seen
 * from outside the process, by what senders get back and what the stand-in
 * SRT listener receives. Hand-driven SRTLA links come from their own
 * loopback addresses (127.x.y.z) where a promise is per source address.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeKeepalive, encodeReg1, encodeReg2, encodeSrtNak, SRTLA_TYPE } from '../../src/bond/protocol.js';
import type { ReceiverStats } from '../../src/bond/receiver-stats.js';
import { skipWithout } from '../peers.js';
import {
  CLI,
  FakeListener,
  freeTcpPort,
  missingBuild,
  Opened,
  registerGroup,
  sleep,
  startReceiver,
  TestLink,
  waitUntil,
} from './receiver-helpers.js';

const skip = skipWithout('fieldcast receive (CLI)', missingBuild());

const opened = new Opened();
afterEach(() => opened.closeAll());

async function receiverWithMetrics(args: string[] = []) {
  const listener = await FakeListener.open(opened);
  const metricsPort = await freeTcpPort();
  const rx = await startReceiver(listener.port, ['--metrics-port', String(metricsPort), ...args], opened);
  return { listener, rx, metricsPort };
}

/** Addresses a TCP port is listening on, from the kernel's tables (/proc/net/tcp{,6}: state 0A is LISTEN). */
function tcpListenAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const found: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== '0A') continue;
      const [addr, p] = local.split(':');
      if (p !== hexPort || !addr) continue;
      // IPv4 is one little-endian word: 0100007F is 127.0.0.1.
      found.push(addr.length === 8 ? [3, 2, 1, 0].map((i) => parseInt(addr.slice(i * 2, i * 2 + 2), 16)).join('.') : `ipv6:${addr}`);
    }
  }
  return found;
}

/** This machine's first address that is not loopback, if it has one. */
function nonLoopbackIPv4(): string | undefined {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

async function reachable(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

describe.skipIf(skip)('fieldcast receive', () => {
  it('serves Prometheus metrics and writes a statistics file, without the native addon', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fc-recv-'));
    opened.add(() => rmSync(dir, { recursive: true, force: true }));
    const statsFile = path.join(dir, 'stats.json');
    const { listener, rx, metricsPort } = await receiverWithMetrics(['--stats-json', statsFile]);
    expect(rx.output()).toContain(`listening on 127.0.0.1:${rx.port}`);
    expect(rx.output()).toContain(`metrics on http://127.0.0.1:${metricsPort}/metrics`);

    const link = await TestLink.open(rx.port, opened);
    await registerGroup([link]);
    for (let i = 0; i < 30; i++) void link.data(i, 1316);
    await waitUntil('30 packets at the listener', () => listener.packets.length >= 30);
    expect(listener.packets.length).toBe(30);

    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^fieldcast_receive_groups 1$/m);
    expect(text).toMatch(/^fieldcast_receive_group_packets_forwarded_total\{group="1",.*\} 30$/m);
    await waitUntil('the statistics file', () => existsSync(statsFile));
    await sleep(1100);
    const stats = JSON.parse(readFileSync(statsFile, 'utf8')) as ReceiverStats;
    expect(stats.groups).toBe(1);
    expect(stats.perGroup[0]?.packetsForwarded).toBe(30);

    // A cloud VM runs it alone: the media addon is never mapped into the process.
    const maps = readFileSync(`/proc/${rx.child.pid}/maps`, 'utf8');
    expect(maps).not.toMatch(/fieldcast(_srt)?\.node|libsrt|libavcodec/);
    expect(await rx.stop()).toBe(0);
  });

  it('explains bad flags and exits 2', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [CLI, 'receive', ...args], { encoding: 'utf8' });
    const r = run('--listen', '[::]:5000');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--forward srt://HOST:PORT is required');
    const r2 = run('--forward', 'srt://127.0.0.1:9000', '--reorder-ms', 'lots');
    expect(r2.status).toBe(2);
    expect(r2.stderr).toContain('--reorder-ms must be a number');
    const r3 = run('--forward', 'rtmp://x');
    expect(r3.status).toBe(1);
    expect(r3.stderr).toContain('is not srt://HOST:PORT');
    // An operator opening the metrics to the network must not be left with no metrics at all.
    const r4 = run('--forward', 'srt://127.0.0.1:9000', '--metrics-host', '0.0.0.0');
    expect(r4.status).toBe(2);
    expect(r4.stderr).toContain('--metrics-host needs --metrics-port');
  });

  it('--help gives the defaults: [::]:5000, 50 ms reorder, 200 streams, 16 links, metrics on 127.0.0.1, stats every second', () => {
    const r = spawnSync(process.execPath, [CLI, 'receive', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--listen HOST:PORT .*\(default \[::\]:5000: IPv4 and IPv6\)/);
    expect(r.stdout).toMatch(/--reorder-ms N [^\n]*\n[^\n]*\n[^\n]*\(default 50; 0 = off\)/);
    expect(r.stdout).toMatch(/--max-groups N .*\(default 200; 8 with two --forward\)/);
    expect(r.stdout).toMatch(/--max-links N .*\(default 16\)/);
    expect(r.stdout).toMatch(/--metrics-host H .*\(default 127\.0\.0\.1\)/);
    expect(r.stdout).toMatch(/--stats-json FILE .*every second/);
  });

  it('with no limit flags it takes 200 streams and 16 links each: the 201st stream and a 17th link get REG_ERR', async () => {
    const { listener, rx } = await receiverWithMetrics();
    const before = await rx.stats();
    expect(before.limits).toEqual({ maxGroups: 200, maxLinksPerGroup: 16, pendingGroupTimeoutS: 5, blockS: 30 });
    expect(before.reorderMs).toBe(50);

    // One unit with 16 links, then a 17th.
    const unit = await Promise.all(Array.from({ length: 17 }, () => TestLink.open(rx.port, opened, '127.0.2.1')));
    const id = await registerGroup(unit.slice(0, 16));
    expect(await unit[16]!.join(id)).toBe('regErr');
    await unit[0]!.data(1);

    // 199 more units, each from its own address; each sends, so none is reaped as silent meanwhile.
    for (let batch = 0; batch < 199; batch += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, 199 - batch) }, async (_, i) => {
          const n = batch + i;
          const l = await TestLink.open(rx.port, opened, `127.0.${10 + Math.floor(n / 100)}.${1 + (n % 100)}`);
          await registerGroup([l]);
          await l.data(1);
        }),
      );
    }
    const extra = await TestLink.open(rx.port, opened, '127.0.3.1');
    expect((await extra.createGroup()).reply).toBe('regErr');

    const s = await rx.stats();
    expect(s.groups).toBe(200);
    expect(s.links).toBe(16 + 199);
    expect(s.counters.regErr).toBe(2);
    // Every stream reaches the listener, each over its own socket.
    await waitUntil('a packet of every stream at the listener', () => listener.peers.size === 200);
  });

  it('--max-groups 2: a third sender gets REG_ERR for its REG1; --max-links 2: a third link gets REG_ERR for its REG2', async () => {
    const { rx } = await receiverWithMetrics(['--max-groups', '2', '--max-links', '2']);
    expect((await rx.stats()).limits).toMatchObject({ maxGroups: 2, maxLinksPerGroup: 2 });
    const a = await Promise.all([1, 2, 3].map(() => TestLink.open(rx.port, opened, '127.0.0.11')));
    const id = await registerGroup(a.slice(0, 2));
    expect(await a[2]!.join(id)).toBe('regErr');
    await registerGroup([await TestLink.open(rx.port, opened, '127.0.0.12')]);
    const third = await TestLink.open(rx.port, opened, '127.0.0.13');
    expect((await third.createGroup()).reply).toBe('regErr');
    const s = await rx.stats();
    expect(s.groups).toBe(2);
    expect(s.links).toBe(3);
    expect(s.counters.regErr).toBe(2);
  });

  it('ignores an address whose registrations keep failing, for 30 s, and only that address', async () => {
    const { rx } = await receiverWithMetrics();
    const bad = await TestLink.open(rx.port, opened, '127.0.4.1');
    // REG2 for groups that do not exist: each is a failed registration, answered REG_NGP until the block.
    for (let i = 0; i < 40; i++) void bad.send(encodeReg2(randomBytes(256)));
    await sleep(500);
    const ngp = bad.got.filter((m) => m.readUInt16BE(0) === SRTLA_TYPE.REG_NGP).length;
    expect(ngp).toBeGreaterThan(0);
    expect(ngp).toBeLessThan(40);

    // Ignored now, even from a new port; another address is not.
    const sameAddress = await TestLink.open(rx.port, opened, '127.0.4.1');
    expect((await sameAddress.ask(encodeReg1(randomBytes(256)), 1000)).reply).toBe('none');
    const other = await TestLink.open(rx.port, opened, '127.0.4.2');
    expect((await other.createGroup()).reply).toBe('reg2');

    const s = await rx.stats();
    expect(s.blockedAddresses).toBe(1);
    expect(s.blocked).toHaveLength(1);
    expect(s.blocked[0]!.address).toBe('127.0.4.1');
    expect(s.blocked[0]!.remainingS).toBeGreaterThan(20);
    expect(s.blocked[0]!.remainingS).toBeLessThanOrEqual(30);
    expect(s.limits.blockS).toBe(30);
    expect(s.counters.throttled).toBeGreaterThan(0);

    // Still ignored a few seconds on, its time running down.
    await sleep(2000);
    expect((await sameAddress.ask(encodeReg1(randomBytes(256)), 500)).reply).toBe('none');
    const later = await rx.stats();
    expect(later.blocked[0]?.address).toBe('127.0.4.1');
    expect(later.blocked[0]!.remainingS).toBeLessThanOrEqual(s.blocked[0]!.remainingS - 1.5);
  });

  it('drops a stream that registers but never sends data after 5 s, though its keepalives come; one that sends stays', async () => {
    const { rx } = await receiverWithMetrics();
    const quiet = await TestLink.open(rx.port, opened, '127.0.5.1');
    const quietId = await registerGroup([quiet]);
    const live = await TestLink.open(rx.port, opened, '127.0.5.2');
    await registerGroup([live]);
    let seq = 0;
    const tick = setInterval(() => {
      void quiet.send(encodeKeepalive(Date.now()));
      void live.data(seq++);
    }, 200);
    opened.add(() => clearInterval(tick));

    // Ages by the receiver's own clock (uptimeS and ageS), not this process's.
    let lastAgeS = 0;
    let createdAtS: number | undefined;
    let goneAtS = 0;
    await waitUntil(
      'the silent stream to be dropped',
      async () => {
        const s = await rx.stats();
        const q = s.perGroup.find((g) => g.from === quiet.address);
        if (q) {
          lastAgeS = q.ageS;
          createdAtS ??= s.uptimeS - q.ageS;
        } else goneAtS = s.uptimeS;
        return q === undefined;
      },
      9000,
    );
    clearInterval(tick);
    // Housekeeping once a second drops it between 5 and 6 s of age; the statistics are polled all along.
    expect(lastAgeS).toBeGreaterThanOrEqual(4.5);
    expect(goneAtS - createdAtS!).toBeGreaterThan(4.8);
    expect(goneAtS - createdAtS!).toBeLessThanOrEqual(7);
    const s = await rx.stats();
    expect(s.counters.groupsReaped).toBe(1);
    expect(s.perGroup.map((g) => g.from)).toEqual([live.address]);
    expect(s.perGroup[0]!.sendingData).toBe(true);
    // The receiver has forgotten it: the sender must start over.
    expect(await quiet.join(quietId)).toBe('regNgp');
  });

  it('holds out-of-order packets 50 ms by default: a swap comes out in order, a gap is given up after the hold', async () => {
    const { listener, rx } = await receiverWithMetrics();
    const [a, b] = await Promise.all([TestLink.open(rx.port, opened), TestLink.open(rx.port, opened)]);
    await registerGroup([a!, b!]);
    await a!.data(100);
    await a!.data(102);
    await b!.data(101); // a moment after 102, over the other link
    await a!.data(103);
    await waitUntil('four packets at the listener', () => listener.packets.length >= 4);
    expect(listener.seqs()).toEqual([100, 101, 102, 103]);

    // 104 is lost for good: 105 waits out the hold, then goes on (SRT repairs the gap).
    const sentAt = performance.now();
    await a!.data(105);
    await waitUntil('105 at the listener', () => listener.packets.length >= 5, 3000);
    expect(listener.seqs()).toEqual([100, 101, 102, 103, 105]);
    const waited = listener.packets[4]!.at - sentAt;
    expect(waited).toBeGreaterThanOrEqual(45);
    expect(waited).toBeLessThan(2000);

    const s = await rx.stats();
    expect(s.reorderMs).toBe(50);
    expect(s.perGroup[0]!.reorder).toMatchObject({ held: 2, reordered: 1, gapTimeouts: 1, skipped: 1, late: 0 });
  });

  it('--reorder-ms 0 forwards packets as they come', async () => {
    const { listener, rx } = await receiverWithMetrics(['--reorder-ms', '0']);
    const [a, b] = await Promise.all([TestLink.open(rx.port, opened), TestLink.open(rx.port, opened)]);
    await registerGroup([a!, b!]);
    await a!.data(100);
    await a!.data(102);
    await waitUntil('two packets at the listener', () => listener.packets.length >= 2);
    await b!.data(101);
    await waitUntil('three packets at the listener', () => listener.packets.length >= 3);
    expect(listener.seqs()).toEqual([100, 102, 101]);
    const s = await rx.stats();
    expect(s.reorderMs).toBe(0);
    expect(s.perGroup[0]!.reorder).toMatchObject({ held: 0, reordered: 1 });
  });

  it('serves metrics on 127.0.0.1 only by default; --metrics-host 0.0.0.0 opens them on every address', async () => {
    const other = nonLoopbackIPv4();
    const { metricsPort: local } = await receiverWithMetrics();
    expect(tcpListenAddresses(local)).toEqual(['127.0.0.1']);
    expect(await reachable(`http://127.0.0.1:${local}/metrics`)).toBe(true);
    // Another address of this machine (loopback's 127.0.0.2, and the network's if it has one) finds nothing.
    expect(await reachable(`http://127.0.0.2:${local}/metrics`)).toBe(false);
    if (other) expect(await reachable(`http://${other}:${local}/stats.json`)).toBe(false);

    const { rx, metricsPort: open } = await receiverWithMetrics(['--metrics-host', '0.0.0.0']);
    expect(rx.output()).toContain(`metrics on http://0.0.0.0:${open}/metrics`);
    expect(tcpListenAddresses(open)).toEqual(['0.0.0.0']);
    expect(await reachable(`http://127.0.0.2:${open}/metrics`)).toBe(true);
    if (other) expect(await reachable(`http://${other}:${open}/stats.json`)).toBe(true);
  });

  it('GET /stats.json: per stream and per link, rate, packets, last heard, reordering and the NAKs; never the group id', async () => {
    const began = performance.now();
    const { listener, rx, metricsPort } = await receiverWithMetrics();
    const [a, b] = await Promise.all([TestLink.open(rx.port, opened), TestLink.open(rx.port, opened)]);
    const id = await registerGroup([a!, b!]);
    for (let i = 0; i < 10; i++) await a!.data(i);
    for (let i = 10; i < 20; i++) await b!.data(i);
    await waitUntil('20 packets at the listener', () => listener.packets.length >= 20);
    // The listener asks again for 3 and 4: the NAK goes back on both links and is counted.
    listener.answer(encodeSrtNak([{ from: 3, to: 4 }]));
    const isNak = (m: Buffer) => m.length >= 16 && m.readUInt16BE(0) === 0x8003;
    await waitUntil('the NAK on both links', () => a!.got.some(isNak) && b!.got.some(isNak));

    const res = await fetch(`http://127.0.0.1:${metricsPort}/stats.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = await res.text();
    expect(body).not.toContain(id.toString('hex').slice(0, 32));
    expect(body).not.toContain(id.toString('hex').slice(256, 288));
    const s = JSON.parse(body) as ReceiverStats;
    expect(s).toMatchObject({
      listen: `127.0.0.1:${rx.port}`,
      forward: `127.0.0.1:${listener.port}`,
      reorderMs: 50,
      groups: 1,
      links: 2,
      blockedAddresses: 0,
      blocked: [],
      limits: { maxGroups: 200, maxLinksPerGroup: 16, pendingGroupTimeoutS: 5, blockS: 30 },
    });
    // Since the receiver started (rounded to 0.1 s: a fast run gets here within 50 ms of it).
    expect(s.uptimeS).toBeGreaterThanOrEqual(0);
    expect(s.uptimeS).toBeLessThanOrEqual((performance.now() - began) / 1000 + 0.1);
    expect(s.counters).toMatchObject({ regGroups: 1, regLinks: 2, regErr: 0, malformed: 0 });
    expect(s.counters.packetsIn).toBeGreaterThanOrEqual(23);
    const g = s.perGroup[0]!;
    expect(g).toMatchObject({
      group: 1,
      from: a!.address,
      sendingData: true,
      liveLinks: 2,
      packetsIn: 20,
      packetsForwarded: 20,
      naks: 1,
      nakSeqs: 2,
      reorder: { held: 0, reordered: 0, gapTimeouts: 0 },
    });
    expect(typeof g.rateBps).toBe('number');
    expect(g.lastSeenMsAgo).toBeGreaterThanOrEqual(0);
    expect(g.lastSeenMsAgo).toBeLessThan(5000);
    expect(g.links.map((l) => [l.address, l.packets, l.live])).toEqual([
      [a!.address, 10, true],
      [b!.address, 10, true],
    ]);
    for (const l of g.links) {
      expect(typeof l.rateBps).toBe('number');
      expect(l.lastSeenMsAgo).toBeGreaterThanOrEqual(0);
    }
    expect((await fetch(`http://127.0.0.1:${metricsPort}/nothing`)).status).toBe(404);
  });

  it('--stats-json FILE is rewritten every second while streams run, atomically', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fc-recv-stats-'));
    opened.add(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'stats.json');
    const listener = await FakeListener.open(opened);
    const rx = await startReceiver(listener.port, ['--stats-json', file], opened);
    const link = await TestLink.open(rx.port, opened);
    await registerGroup([link]);
    let seq = 0;
    const tick = setInterval(() => void link.data(seq++, 1316), 20);
    opened.add(() => clearInterval(tick));

    // Every version of the file over 4.5 s, told apart by its contents.
    const versions: ReceiverStats[] = [];
    let last = '';
    const end = Date.now() + 4500;
    while (Date.now() < end) {
      if (existsSync(file)) {
        const text = readFileSync(file, 'utf8');
        if (text !== last) {
          last = text;
          versions.push(JSON.parse(text) as ReceiverStats);
        }
      }
      await sleep(50);
    }
    clearInterval(tick);
    expect(versions.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < versions.length; i++) {
      expect(versions[i]!.uptimeS).toBeGreaterThan(versions[i - 1]!.uptimeS);
      expect(versions[i]!.perGroup[0]!.packetsIn).toBeGreaterThan(versions[i - 1]!.perGroup[0]!.packetsIn);
    }
    // About a second apart by the receiver's own clock.
    const spans = versions.slice(1).map((v, i) => v.uptimeS - versions[i]!.uptimeS);
    expect(Math.min(...spans)).toBeGreaterThanOrEqual(0.5);
    expect(spans.filter((d) => d <= 1.5).length).toBeGreaterThanOrEqual(spans.length - 1);
    expect(versions.at(-1)!.perGroup[0]!.rateBps).toBeGreaterThan(0);
    expect(Date.now() - statSync(file).mtimeMs).toBeLessThan(2500);
    // Written whole and renamed into place: no temporary file left beside it.
    expect(readdirSync(dir)).toEqual(['stats.json']);
    expect(await rx.stop()).toBe(0);
  });
});

describe.skipIf(skip)('fieldcast linksim', () => {
  it('runs a config, prints a statistics line per link per interval, and stops on SIGINT', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fc-linksim-'));
    opened.add(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'links.json');
    writeFileSync(
      file,
      JSON.stringify({ target: '127.0.0.1:9', links: [{ name: 'cell-a', up: { rate: '2M', delayMs: 20 } }, { name: 'cell-b' }] }),
    );
    const child = spawn(process.execPath, [CLI, 'linksim', '--config', file, '--interval', '0.2']);
    opened.add(() => {
      child.kill('SIGKILL');
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    await waitUntil('four statistics lines', () => (stdout.match(/\| up /g) ?? []).length >= 4, 10_000);
    expect(stdout).toMatch(/cell-a: listening on 127\.0\.0\.1:\d+/);
    expect(stdout).toMatch(/^cell-b 127\.0\.0\.1:\d+ \| up 0\.00 Mbit\/s delivered=0/m);
    const exited = new Promise<number | null>((res) => child.once('exit', res));
    child.kill('SIGINT');
    expect(await exited).toBe(0);

    writeFileSync(file, JSON.stringify({ links: [{ name: 'x', up: { loss: 3 } }] }));
    const bad = spawnSync(process.execPath, [CLI, 'linksim', '--config', file], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('links.0.up.loss');
  });
});
