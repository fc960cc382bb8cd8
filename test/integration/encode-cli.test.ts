/** `fieldcast encode` and `fieldcast probe` as an operator runs them (the built CLI in dist/). */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingForEncode, tempDir } from './encode-helpers.js';

const CLI = path.resolve(import.meta.dirname, '../../bin/fieldcast.js');
const missing = missingForEncode();
if (!existsSync(path.resolve(import.meta.dirname, '../../dist/cli/main.js'))) missing.push('the built CLI in dist/ (npm run build:ts)');
if (missing.length) console.warn(`\n*** SKIPPING fieldcast encode/probe CLI tests: missing ${missing.join(', ')} ***\n`);

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

describe.skipIf(missing.length > 0)('fieldcast encode / probe', () => {
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
    expect(r.stdout).toMatch(/with libx264/);
    expect(r.stdout).toMatch(/50 pictures/);
    const p = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', file], {
      encoding: 'utf8',
    });
    expect(p.stdout).toMatch(/h264,640,360/);
    expect(p.stdout).toMatch(/aac/);
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
    expect(report.media.autoPick).toBeTruthy();
  });
});
