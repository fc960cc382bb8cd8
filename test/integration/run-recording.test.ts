/**
 * Recording as the box does it: `fieldcast run` with `recording.enabled`
 * set by `fieldcast ctl` (applied from the next start of the stream), the
 * segments in the state directory's recordings/, the recording in
 * `ctl status`, and `fieldcast record list` reading what was acknowledged.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nativeAvailable } from '../../src/native/index.js';
import type { StatusSnapshot } from '../../src/supervisor/snapshot.js';
import { missingTools, skipWithout } from '../peers.js';
import { Children, freeUdpPort, udpPortBound, waitUntil } from './srt-helpers.js';

const skip = skipWithout('the fieldcast run recording test', [
  ...missingTools('srt-live-transmit'),
  ...(nativeAvailable() ? [] : ['the native addon (npm run build:native)']),
  ...(existsSync(path.resolve('dist/cli/main.js')) ? [] : ['the built CLI (npm run build:ts)']),
]);

const BIN = path.resolve('bin/fieldcast.js');
const children = new Children();
const dir = mkdtempSync(path.join(tmpdir(), 'fieldcast-run-rec-'));
const socketPath = path.join(dir, 'run', 'control.sock');
const stateDir = path.join(dir, 'state');
let run: ChildProcess | undefined;

function cli(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
const status = (): StatusSnapshot => JSON.parse(cli('ctl', '--socket', socketPath, '--json', 'status').stdout) as StatusSnapshot;

afterAll(async () => {
  if (run && run.exitCode === null) run.kill('SIGTERM');
  await children.killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(skip)('fieldcast run: recording turned on by ctl', () => {
  it('records from the next start, shows it in ctl status, and record list reads the acknowledged timeline', async () => {
    const srtPort = await freeUdpPort();
    children.srtLiveTransmit([`srt://:${srtPort}?mode=listener&latency=200`, 'file://con'], path.join(dir, 'received.ts'));
    await waitUntil('the listener to bind', () => udpPortBound(srtPort), 10_000);
    const configFile = path.join(dir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        status: { port: 0 },
        video: { width: 640, height: 360, bitrate: 1_000_000, minBitrate: 400_000, maxBitrate: 1_200_000, keyframeSeconds: 1 },
        destinations: [{ name: 'ingest', url: `srt://127.0.0.1:${srtPort}`, latencyMs: 200 }],
      }),
    );
    run = children.track(
      spawn(process.execPath, [BIN, 'run', '--quiet', '--config', configFile, '--state-dir', stateDir, '--socket', socketPath], {
        stdio: 'ignore',
        env: { ...process.env, FIELDCAST_LOG: 'warn' },
      }),
    );
    await waitUntil('the control socket', () => existsSync(socketPath), 20_000);
    await waitUntil('live', () => status().stream.tsBitrateBps > 0 && status().destinations[0]?.state === 'live', 30_000);
    expect(status().stream.recording).toBeUndefined();

    const set = cli('ctl', '--socket', socketPath, 'set', 'recording.enabled=true', 'recording.segmentSeconds=2');
    expect(set.code, set.stderr).toBe(0);
    expect(cli('ctl', '--socket', socketPath, 'stop').code).toBe(0);
    expect(cli('ctl', '--socket', socketPath, 'start').code).toBe(0);
    await waitUntil('three segments recorded', () => (status().stream.recording?.segments ?? 0) >= 3, 40_000);
    const text = cli('ctl', '--socket', socketPath, 'status').stdout;
    expect(text).toMatch(/recording: recording, \d+ segments, [\d.]+ MB, since /);
    expect(readdirSync(path.join(stateDir, 'recordings')).filter((f) => f.endsWith('.ts')).length).toBeGreaterThanOrEqual(3);

    const list = cli('record', 'list', '--state-dir', stateDir);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^Recorded \d{4}-\d\d-\d\d \d\d:\d\d:\d\d to .* UTC: \d+ segments/);
    const json = JSON.parse(cli('record', 'list', '--state-dir', stateDir, '--json').stdout) as { recordedS: number; ackedS: number };
    // Live all along: all but the seconds around the start were acknowledged.
    expect(json.ackedS).toBeGreaterThanOrEqual(json.recordedS - 2);
  }, 120_000);
});
