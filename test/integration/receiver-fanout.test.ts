/**
 * `fieldcast receive` with two forwards, end to end with real peers: a
 * bonded unit (`fieldcast send --input FILE.ts --bond`, three emulated
 * cellular links through linksim) → the receiver, which ends the unit's SRT
 * session and sends the stream on → two srt-live-transmit listeners, each
 * with its own passphrase, writing what they get. MERGE needs
 * binary-identical sources: the two files must be the same bytes (the
 * unit's own, unchanged), decode, and have no continuity error. One listener
 * is killed and started again mid-stream: the other's file must stay whole
 * (its forward never called again, nothing dropped, every byte handed to it
 * arrived), the first must come back by itself. And a unit that encrypts, at
 * a receiver given no passphrase, is refused with words that say what to do.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { checkTs, DualListener, overlap, wholePackets } from '../../src/bench/dual-rig.js';
import type { ForwardStatsSnapshot } from '../../src/bond/receiver-fanout-stats.js';
import type { ReceiverStats } from '../../src/bond/receiver-stats.js';
import { LinkSim, VENUE_LINKS } from '../../src/linksim/index.js';
import { nativeAvailable } from '../../src/native/index.js';
import { missingTools, skipWithout } from '../peers.js';
import { expectSameAroundOutage } from './dual-checks.js';
import { CLI, freeTcpPort, missingBuild, Opened, type ReceiverRun, sleep, startReceiver, waitUntil } from './receiver-helpers.js';
import { freeUdpPort, makeTestTs, probe, TempDir, udpPortBound } from './srt-helpers.js';

const UNIT_PASS = 'unit-passphrase-for-fanout';
const B_PASS = 'forward-b-own-passphrase';
const LISTENER_LATENCY_MS = 200;
/** What a listener may drop at a hang-up: its latency's worth of a ~750 kbit/s stream. */
const HANG_UP_BYTES = 40 * 1316;

const skip = skipWithout('the receiver fan-out tests', [
  ...missingTools('srt-live-transmit', 'ffmpeg', 'ffprobe'),
  ...(nativeAvailable() ? [] : ['the native addon (npm run build:native)']),
  ...missingBuild(),
]);

const opened = new Opened();
const listeners: DualListener[] = [];
let sim: LinkSim | undefined;
let dir: TempDir | undefined;
afterEach(async () => {
  await opened.closeAll();
  await Promise.all(listeners.map((l) => l.kill()));
  listeners.length = 0;
  sim?.close();
  sim = undefined;
  dir?.remove();
  dir = undefined;
});

async function listener(passphrase: string): Promise<DualListener> {
  const l = new DualListener(await freeUdpPort(), LISTENER_LATENCY_MS, passphrase);
  listeners.push(l);
  l.start();
  await waitUntil('the listener to bind', () => udpPortBound(l.port), 10_000);
  return l;
}

/** `fieldcast send --bond` of `input` over three emulated cellular links to the receiver; exits when the file ends. */
async function sendBonded(
  rx: ReceiverRun,
  input: string[],
  passFile: string,
): Promise<{ child: ChildProcess; exited: Promise<number | null> }> {
  sim = new LinkSim({ seed: 7, target: `127.0.0.1:${rx.port}`, links: [...VENUE_LINKS] });
  await sim.start();
  const links = sim.names.flatMap((n) => ['--link', `name=${n},bind=127.0.0.1,via=${sim!.link(n).address}`]);
  const child = spawn(
    process.execPath,
    [CLI, 'send', ...input, '--bond', ...links, '--to', `srt://127.0.0.1:${rx.port}?latency=1500`, '--passphrase-file', passFile],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FIELDCAST_LOG: 'warn' } },
  );
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  opened.add(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return { child, exited };
}

function forwards(s: ReceiverStats): ForwardStatsSnapshot[] {
  return s.perGroup[0]?.fanout?.forwards ?? [];
}

describe.skipIf(skip)('fieldcast receive --forward A --forward B', () => {
  it('a bonded unit reaches two listeners with the same bytes; one killed and started again, the other stays whole', async () => {
    dir = new TempDir();
    const input = dir.file('in.ts');
    const source = makeTestTs(input, 24).bytes;
    const passFile = dir.file('unit.pass');
    writeFileSync(passFile, `${UNIT_PASS}\n`);
    const a = await listener(UNIT_PASS);
    const b = await listener(B_PASS);
    const metricsPort = await freeTcpPort();
    // Forward 1 takes the unit's passphrase (the default), forward 2 its own from its URL.
    const rx = await startReceiver(
      a.port,
      [
        '--forward',
        `srt://127.0.0.1:${b.port}?latency=${LISTENER_LATENCY_MS}&passphrase=${B_PASS}&streamid=b`,
        '--passphrase-file',
        passFile,
        '--metrics-port',
        String(metricsPort),
      ],
      opened,
    );
    expect(rx.output()).toContain(`sent on to 127.0.0.1:${a.port}, 127.0.0.1:${b.port}`);
    const send = await sendBonded(rx, ['--input', input], passFile);

    let s = await rx.stats();
    const poll = async () => {
      s = await rx.stats();
      return s;
    };
    await waitUntil('both forwards live', async () => forwards(await poll()).filter((f) => f.connected).length === 2, 30_000);
    expect(s.mode).toBe('fanout');
    await waitUntil('a couple of seconds at both', () => a.received() > 150_000 && b.received() > 150_000, 20_000);

    await b.kill();
    await waitUntil('forward 2 seen down', async () => forwards(await poll())[1]?.connected === false, 20_000);
    expect(forwards(s)[0]).toMatchObject({ connected: true, state: 'live' });
    const aBefore = a.received();
    await sleep(1000);
    expect(a.received()).toBeGreaterThan(aBefore);
    b.start();
    await waitUntil('forward 2 back', async () => forwards(await poll())[1]?.connected === true, 20_000);
    await waitUntil('a second at forward 2 again', () => b.received() > 80_000, 20_000);
    // Everything handed to forward 1 so far arrives, while the stream still runs.
    const sentA = forwards(await poll())[0]!.sentBytes;
    await waitUntil('what was sent to forward 1 to arrive', () => a.received() >= sentA, 20_000);
    const f = forwards(s);
    expect(f[0]).toMatchObject({ target: `127.0.0.1:${a.port}`, connects: 1, reconnects: 0, droppedPackets: 0 });
    expect(f[1]).toMatchObject({ target: `127.0.0.1:${b.port}`, connects: 2, reconnects: 1 });
    expect(s.perGroup[0]!.fanout!.session).toMatchObject({ connected: true, sessions: 1, unitEncryption: 'encrypted' });
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(`^fieldcast_receive_forward_reconnects_total\\{group="1",forward="2",target="127.0.0.1:${b.port}"\\} 1$`, 'm'),
    );
    expect(metrics).toMatch(/^fieldcast_receive_forward_up\{group="1",forward="1",.*\} 1$/m);
    expect(metrics).toMatch(/^fieldcast_receive_group_unit_session_up\{group="1",from="127.0.0.1:\d+"\} 1$/m);

    expect(await send.exited).toBe(0);
    await Promise.all([a.stop(), b.stop()]);

    const fa = a.files()[0]!;
    const [b1cut, b2] = b.files() as [Buffer, Buffer];
    const b1 = wholePackets(b1cut);
    // Forward 1: the unit's own bytes, unchanged and without a gap, from where it started; whole, decodable, no CC error.
    expect(fa.length).toBeGreaterThanOrEqual(sentA);
    const fromSource = overlap(source, fa);
    expect(fromSource).toMatchObject({ differ: 0, same: fa.length });
    expect(checkTs(fa)).toMatchObject({ tailBytes: 0, continuityErrors: 0, syncErrors: 0 });
    const p = probe(writeTemp(dir, 'a.ts', fa));
    expect(p.codecs).toEqual(['aac', 'h264']);
    expect(p.videoFrames).toBeGreaterThan(300);
    // Forward 2: either side of its outage the same bytes as forward 1's (MERGE's binary-identical sources).
    expect(b1.length).toBeGreaterThan(100_000);
    expectSameAroundOutage(fa, b1, b2, HANG_UP_BYTES);
    expect(probe(writeTemp(dir, 'b2.ts', b2)).codecs).toEqual(['aac', 'h264']);

    // No passphrase in what the receiver says, nor in its process title.
    for (const secret of [UNIT_PASS, B_PASS]) {
      expect(rx.output()).not.toContain(secret);
      expect(readFileSync(`/proc/${rx.child.pid}/cmdline`, 'utf8')).not.toContain(secret);
    }
  }, 120_000);

  it('a unit that encrypts, at a receiver without its passphrase: refused, and the operator told to give it', async () => {
    dir = new TempDir();
    const passFile = dir.file('unit.pass');
    writeFileSync(passFile, `${UNIT_PASS}\n`);
    const a = await listener(UNIT_PASS);
    const b = await listener(UNIT_PASS);
    const metricsPort = await freeTcpPort();
    const rx = await startReceiver(
      a.port,
      ['--forward', `srt://127.0.0.1:${b.port}`, '--metrics-port', String(metricsPort), '--status-interval', '0'],
      opened,
    );
    await sendBonded(rx, ['--source', 'testpattern', '--size', '320x180', '--bitrate', '500k', '--seconds', '20'], passFile);
    await waitUntil(
      'the receiver to say what is missing',
      async () => (await rx.stats()).perGroup[0]?.fanout?.session.lastError?.code === 'RECEIVE_PASSPHRASE_NEEDED',
      20_000,
    );
    const s = await rx.stats();
    expect(s.perGroup[0]!.fanout!.session).toMatchObject({ connected: false, sessions: 0, unitEncryption: 'encrypted' });
    expect(forwards(s).map((f) => f.connected)).toEqual([false, false]);
    expect(rx.output()).toMatch(/the unit encrypts its stream .* start fieldcast receive with --passphrase-file FILE/);
    expect(a.received() + b.received()).toBe(0);
  }, 60_000);

  it('explains bad forwards before anything starts', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [CLI, 'receive', '--listen', '127.0.0.1:0', ...args], { encoding: 'utf8' });
    const three = run('--forward', 'srt://127.0.0.1:9001', '--forward', 'srt://127.0.0.1:9002', '--forward', 'srt://127.0.0.1:9003');
    expect(three.status).toBe(2);
    expect(three.stderr).toContain('--forward at most twice (a MediaConnect flow takes two sources); 3 were given');
    const bad = run('--forward', 'srt://127.0.0.1:9001', '--forward', 'srt://127.0.0.1:9002?latncy=200');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('--forward 2: unknown SRT parameter "latncy"');
    const one = run('--forward', 'srt://127.0.0.1:9001', '--passphrase-file', '/nonexistent');
    expect(one.status).toBe(2);
    expect(one.stderr).toContain('--passphrase-file and --forward-latency go with two --forward');
    const missing = run('--forward', 'srt://127.0.0.1:9001', '--forward', 'srt://127.0.0.1:9002', '--passphrase-file', '/nonexistent/pass');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('cannot read --passphrase-file /nonexistent/pass');
    const help = spawnSync(process.execPath, [CLI, 'receive', '--help'], { encoding: 'utf8' });
    expect(help.stdout).toMatch(/--passphrase-file FILE with two --forward: the unit's SRT passphrase/);
    expect(help.stdout).toContain('Never printed or logged');
  });
});

function writeTemp(d: TempDir, name: string, data: Buffer): string {
  const f = d.file(name);
  writeFileSync(f, data);
  return f;
}
