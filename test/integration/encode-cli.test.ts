/** `fieldcast encode` and `fieldcast probe` as an operator runs them (the built CLI in dist/). */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../peers.js';
import { missingForEncode, tempDir } from './encode-helpers.js';

const CLI = path.resolve(import.meta.dirname, '../../bin/fieldcast.js');
const skip = skipWithout('the fieldcast encode/probe CLI tests', [
  ...missingForEncode(),
  ...(existsSync(path.resolve(import.meta.dirname, '../../dist/cli/main.js')) ? [] : ['the built CLI in dist/ (npm run build:ts)']),
]);

const tmp = tempDir('fieldcast-encode-cli-');
afterAll(() => tmp.remove());

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, FIELDCAST_LOG: 'warn' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(skip)('fieldcast encode / probe', () => {
  it('encodes the test pattern to a TS that ffprobe reads as H.264 + AAC', () => {
    const file = path.join(tmp.dir, 'out.ts');
    const r = run([
      'encode',
      '--fast',
      '--seconds',
      '2',
      '--size',
      '640x360',
      '--fps',
      '25',
      '--bitrate',
      '1M',
      '--codec',
      'libx264',
      '-o',
      file,
    ]);
    expect(r.status).toBe(0);
    // What the command prints (log lines go to stdout too, for journald).
    const said = r.stdout.split('\n').filter((l) => !/^(DEBUG|INFO|WARN|ERROR) /.test(l) && l !== '');
    expect(said).toHaveLength(2);
    expect(said[0]).toBe(`encoding testpattern 640x360 at 25.00 fps with libx264, 1.00 Mbit/s -> ${file}`);
    // 2 s at 25 fps; AAC frames of 1024 samples at 48 kHz: 93.75 in 2 s.
    expect(said[1]).toMatch(/^wrote \d+ bytes: 50 pictures \(1 keyframes\), 9[34] audio frames, 2\.00 s, video \d+\.\d\d Mbit\/s$/);
    const p = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', file], {
      encoding: 'utf8',
    });
    // ffprobe lists the streams under the program and again on their own: one video, one audio.
    expect([...new Set(p.stdout.split('\n').filter((l) => l !== ''))]).toEqual(['h264,640,360', 'aac']);
  });

  it('bad flags: exit 2 and a message naming the flag; a missing encoder: exit 1 and why', () => {
    const out = path.join(tmp.dir, 'bad.ts');
    expect(run(['encode', '--size', 'big', '-o', out])).toMatchObject({ status: 2, stderr: expect.stringMatching(/--size/) });
    expect(run(['encode', '--bitrate', 'lots', '-o', out])).toMatchObject({ status: 2, stderr: expect.stringMatching(/--bitrate/) });
    expect(run(['encode', '--fps', 'fast', '-o', out])).toMatchObject({ status: 2, stderr: expect.stringMatching(/--fps/) });
    expect(run(['encode'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/-o OUT.ts/) });
    const r = run(['encode', '--codec', 'h264_rkmpp', '--seconds', '1', '-o', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/ENCODER_UNAVAILABLE.*h264_rkmpp/);
  });

  it('probe --json names the encoders and which open', () => {
    const r = run(['probe', '--json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as { media: { autoPick: string; videoEncoders: { name: string; opens: boolean }[] } };
    expect(report.media.videoEncoders.find((e) => e.name === 'libx264')?.opens).toBe(true);
    // auto picks the first that opens, in the order probed.
    expect(report.media.autoPick).toBe(report.media.videoEncoders.find((e) => e.opens)?.name);
  });

  it('probe --json lists the network interfaces as uplinks or not, and the modems it found, on a stdout that parses', () => {
    const r = spawnSync(process.execPath, [CLI, 'probe', '--json'], { encoding: 'utf8', env: { ...process.env, FIELDCAST_LOG: 'info' } });
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as {
      uplinks: { name: string; kind: string; addresses: string[]; uplink: true | string }[];
      modems: unknown[];
    };
    expect(report.uplinks.find((u) => u.name === 'lo')).toMatchObject({
      kind: 'virtual',
      addresses: expect.arrayContaining(['127.0.0.1/8']),
      uplink: 'virtual: not an uplink unless named in uplinks.interfaces',
    });
    for (const u of report.uplinks) expect(u.uplink === true || typeof u.uplink === 'string').toBe(true);
    expect(Array.isArray(report.modems)).toBe(true);
  });

  it('probe names the board: this x86 machine is the generic profile, with what of it is here', () => {
    const r = run(['probe', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as {
      board: { profile: string; matchedBy: string; found: { encoder: { codecs: string[]; use?: string }; thermal: { found: string[] } } };
    };
    expect(report.board).toMatchObject({ profile: 'generic', matchedBy: `architecture ${process.arch}` });
    // libx264 opens here (the test above): the profile's order picks it unless a GPU encoder opens first.
    expect(report.board.found.encoder.codecs).toContain(report.board.found.encoder.use);
    const text = run(['probe']);
    expect(text.stdout).toMatch(/^Board:\n {2}generic: .*\n {2}chosen by architecture /);
    expect(text.stdout).toMatch(/\n {2}encoder: {2}(h264_vaapi|h264_nvenc|libx264) \(of h264_vaapi, h264_nvenc, libx264\)\n/);
  });
});
