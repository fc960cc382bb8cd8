/**
 * `fieldcast send --bond`: the pipeline's SRT stream over three emulated
 * cellular links (linksim), through Fieldcast's bonding receiver, to
 * srt-live-transmit — the way a venue uplink reaches a cloud ingest.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BondReceiver } from '../../src/bond/receiver.js';
import { LinkSim, VENUE_LINKS } from '../../src/linksim/index.js';
import { TsAnalyser } from '../../src/mux/index.js';
import { missingTools, skipWithout } from '../peers.js';
import { Children, freeUdpPort, probe, TempDir, udpPortBound, waitUntil } from './srt-helpers.js';

const CLI = path.resolve(import.meta.dirname, '../../bin/fieldcast.js');
const skip = skipWithout('the fieldcast send --bond test', missingTools('srt-live-transmit', 'ffprobe'));

const children = new Children();
let sim: LinkSim | undefined;
let receiver: BondReceiver | undefined;
let dir: TempDir | undefined;
afterEach(async () => {
  await children.killAll();
  sim?.close();
  receiver?.close();
  dir?.remove();
});

describe.skipIf(skip)('fieldcast send --bond', () => {
  it('spreads the stream over three lossy links and the listener gets it whole', async () => {
    dir = new TempDir();
    const port = await freeUdpPort();
    const file = dir.file('rx.ts');
    const pass = 'bonded-stream-passphrase';
    const listener = children.srtLiveTransmit([`srt://:${port}?mode=listener&latency=1500&passphrase=${pass}`, 'file://con'], file);
    await waitUntil('listener bound', () => udpPortBound(port));
    receiver = new BondReceiver({ listen: '127.0.0.1:0', forward: `127.0.0.1:${port}` });
    await receiver.start();
    sim = new LinkSim({ seed: 11, target: `127.0.0.1:${receiver.port}`, links: [...VENUE_LINKS] });
    await sim.start();
    const links = sim.names.flatMap((n) => ['--link', `name=${n},bind=127.0.0.1,via=${sim!.link(n).address}`]);
    const child = children.track(
      spawn(
        process.execPath,
        [
          CLI,
          'send',
          '--bond',
          ...links,
          '--to',
          `srt://127.0.0.1:${receiver.port}?latency=1500&passphrase=${pass}`,
          '--bitrate',
          '6M',
          '--size',
          '1280x720',
          '--seconds',
          '15',
          '--json',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FIELDCAST_LOG: 'warn' } },
      ),
    );
    let text = '';
    child.stdout?.on('data', (d: Buffer) => {
      text += d.toString();
    });
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(0);

    const lines = text
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { state: string; bond?: { links: { name: string; share: number; sentPackets: number }[] } });
    expect(lines.some((l) => l.state === 'live')).toBe(true);
    const lastBond = lines.filter((l) => l.bond).at(-1)!.bond!;
    // 6 Mbit/s of video does not fit one 5 Mbit/s or 3 Mbit/s modem: more than one link carries it.
    expect(lastBond.links.filter((l) => l.sentPackets > 100).length).toBeGreaterThanOrEqual(2);

    await children.stop(listener); // srt-live-transmit writes its buffered tail as it exits
    const p = probe(file);
    expect(p.codecs).toEqual(['aac', 'h264']);
    expect(p.videoFrames).toBeGreaterThan(200);
    const a = new TsAnalyser();
    a.push(readFileSync(file));
    const r = a.report();
    expect(r.checks.Continuity_count_error).toBe(0);
    expect(r.priority1Errors).toBe(0);
  }, 60_000);
});
