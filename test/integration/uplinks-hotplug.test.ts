/**
 * `fieldcast run` in a box of its own (a network namespace whose veths are
 * its uplinks), bonding every uplink it finds (bond.enabled, no bond.links)
 * to `fieldcast receive` and an srt-live-transmit listener in a router
 * namespace at the uplinks' far ends. Uplinks come and go mid-stream; what
 * the listener receives is checked as it arrives. Nothing leaves the two
 * namespaces.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TsAnalyser, TsArrivals } from '../../src/mux/index.js';
import { nativeAvailable } from '../../src/native/index.js';
import type { StatusSnapshot } from '../../src/supervisor/snapshot.js';
import { missingTools, skipWithout } from '../peers.js';
import { missingForNetns, NetnsRig, type RigUplink } from './netns.js';
import { waitUntil } from './srt-helpers.js';

const skip = skipWithout('uplinks coming and going under fieldcast run (network namespaces)', [
  ...missingForNetns(),
  ...missingTools('srt-live-transmit'),
  ...(nativeAvailable() ? [] : ['the native addon (npm run build:native)']),
  ...(existsSync(path.resolve('dist/cli/main.js')) ? [] : ['the built CLI (npm run build:ts)']),
]);

const BIN = path.resolve('bin/fieldcast.js');
const SRT_PORT = 47_321;
const BOND_PORT = 47_322;
const rig = new NetnsRig();
const procs: ChildProcess[] = [];
const arrivals = new TsArrivals();
const analyser = new TsAnalyser();
let dir: string;
let socketPath: string;
const uplinks: RigUplink[] = [];

function inNs(ns: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const p = spawn('ip', ['netns', 'exec', ns, ...args], { stdio: ['ignore', 'pipe', 'ignore'], env });
  procs.push(p);
  return p;
}

function status(): StatusSnapshot {
  const r = spawnSync(process.execPath, [BIN, 'ctl', '--socket', socketPath, '--json', 'status'], { encoding: 'utf8', timeout: 20_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as StatusSnapshot;
}

function linkNames(s: StatusSnapshot): string[] {
  return (s.bond?.links ?? []).map((l) => l.name).sort();
}

describe.skipIf(skip)('uplinks that come and go, under fieldcast run', () => {
  beforeAll(async () => {
    rig.create();
    uplinks.push(rig.addUplink(1, { defaultMetric: 101 }), rig.addUplink(2, { defaultMetric: 102 }));
    dir = mkdtempSync(path.join(tmpdir(), 'fieldcast-hotplug-'));
    socketPath = path.join(dir, 'control.sock');
    const env = { ...process.env, FIELDCAST_LOG: 'warn' };
    // The far end, in the router namespace: the listener (its TS on stdout, read here) and the bonding receiver.
    const listener = inNs(rig.router, [
      'srt-live-transmit',
      '-q',
      '-c',
      '1316',
      `srt://:${SRT_PORT}?mode=listener&latency=400`,
      'file://con',
    ]);
    listener.stdout?.on('data', (d: Buffer) => {
      arrivals.push(d);
      analyser.push(d);
    });
    inNs(
      rig.router,
      [process.execPath, BIN, 'receive', '--listen', `${rig.receiverAddress}:${BOND_PORT}`, '--forward', `srt://127.0.0.1:${SRT_PORT}`],
      env,
    );
    const configFile = path.join(dir, 'config.json');
    writeFileSync(
      configFile,
      `${JSON.stringify({
        deviceName: 'hotplug-test',
        status: { port: 0 },
        video: { width: 640, height: 360, bitrate: 1_000_000, adaptive: false, keyframeSeconds: 1 },
        destinations: [{ url: `srt://${rig.receiverAddress}:${BOND_PORT}`, latencyMs: 400 }],
        bond: { enabled: true, preflightSeconds: 3 },
        uplinks: { interfaces: ['fcup*'] },
      })}\n`,
    );
    inNs(
      rig.box,
      [process.execPath, BIN, 'run', '--config', configFile, '--state-dir', path.join(dir, 'state'), '--socket', socketPath, '--quiet'],
      env,
    );
    await waitUntil('the control socket', () => existsSync(socketPath), 20_000);
  }, 60_000);

  afterAll(async () => {
    for (const p of procs.reverse()) if (p.exitCode === null) p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1500));
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    rig.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('bonds the uplinks it finds, each leaving by its own interface', async () => {
    await waitUntil('pictures at the listener', () => arrivals.pictures.length > 30, 30_000);
    const s = status();
    expect(s.state).toBe('live');
    expect(linkNames(s)).toEqual(['fcup1', 'fcup2']);
    // Before it streamed, the power-on preflight tried both uplinks and said what to set.
    const log = spawnSync(process.execPath, [BIN, 'ctl', '--socket', socketPath, 'events'], { encoding: 'utf8', timeout: 20_000 });
    expect(log.stdout).toMatch(/PREFLIGHT: preflight: 2 of 2 links carried [\d.]+ Mbit\/s together, worst RTT \d+ ms: set video/);
    const tx = uplinks.map((u) => rig.txPackets(u.name));
    await new Promise((r) => setTimeout(r, 2000));
    // Both carry the stream (the scheduler spreads it: each is a 10 Gbit/s veth); source routing sends each by its own.
    for (const [i, u] of uplinks.entries()) expect(rig.txPackets(u.name) - tx[i]!, u.name).toBeGreaterThan(20);
    expect(rig.rules().filter((r) => r.src?.startsWith('10.201.')).length).toBe(2);
  }, 60_000);

  it('an uplink that appears carries traffic within 5 s; one pulled out costs no TS packet', async () => {
    const added = rig.addUplink(3, { defaultMetric: 103 });
    uplinks.push(added);
    const addedAt = performance.now();
    await waitUntil(
      'the new uplink carrying traffic',
      () => (status().bond?.links.find((l) => l.name === 'fcup3')?.sentPackets ?? 0) > 20,
      15_000,
    );
    const carryingMs = performance.now() - addedAt;
    console.log(`uplink fcup3 appeared: carrying traffic after ${carryingMs.toFixed(0)} ms`);
    expect(carryingMs).toBeLessThan(5000 + 1000); // what the issue asks, and the status polls' own time
    const before = analyser.report();
    const pulledAt = performance.now();
    rig.removeUplink(uplinks[0]!);
    await waitUntil('the pulled uplink gone from the bond', () => !linkNames(status()).includes('fcup1'), 15_000);
    await waitUntil('pictures after the pull', () => arrivals.picturesAfter(pulledAt + 1500).length > 30, 30_000);
    const after = analyser.report();
    expect(after.missingPackets - before.missingPackets).toBe(0);
    expect(after.checks.Continuity_count_error ?? 0).toBe(before.checks.Continuity_count_error ?? 0);
    expect(arrivals.longestGap(pulledAt)).toBeLessThan(1000);
    expect(linkNames(status())).toEqual(['fcup2', 'fcup3']);
    const events = spawnSync(process.execPath, [BIN, 'ctl', '--socket', socketPath, 'events'], { encoding: 'utf8', timeout: 20_000 });
    expect(events.stdout).toMatch(/uplink fcup3 \(virtual, 10\.201\.3\.1\) is there/);
    expect(events.stdout).toMatch(/uplink fcup1 is gone/);
  }, 90_000);

  it('the operator turns an uplink off and on again (ctl uplink, as the status page does); its card says so', async () => {
    const ctl = (...args: string[]) =>
      spawnSync(process.execPath, [BIN, 'ctl', '--socket', socketPath, ...args], { encoding: 'utf8', timeout: 20_000 });
    const off = ctl('uplink', 'fcup2', '--disable');
    expect(off.stdout.trim(), off.stderr).toBe('uplink fcup2: not used, priority 5');
    await waitUntil('fcup2 out of the bond', () => !linkNames(status()).includes('fcup2'), 15_000);
    const card = status().uplinks?.find((u) => u.name === 'fcup2');
    expect(card).toMatchObject({ name: 'fcup2', interface: 'fcup2', enabled: false, up: true });
    expect(card?.addresses).toContain('10.201.2.1');
    expect(card?.link).toBeUndefined();
    const on = ctl('uplink', 'fcup2', '--enable', '--priority', '8');
    expect(on.stdout.trim(), on.stderr).toBe('uplink fcup2: used, priority 8');
    await waitUntil('fcup2 back in the bond', () => linkNames(status()).includes('fcup2'), 15_000);
    expect(status().uplinks?.find((u) => u.name === 'fcup2')).toMatchObject({ enabled: true, priority: 8, link: { name: 'fcup2' } });
    const unknown = ctl('uplink', 'nosuch', '--disable');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/UPLINK_NOT_FOUND/);
  }, 60_000);
});
