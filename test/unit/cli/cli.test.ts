import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWithout } from '../../peers.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const CLI = path.join(ROOT, 'bin/fieldcast.js');
const skip = skipWithout(
  'the CLI tests',
  existsSync(path.join(ROOT, 'dist/cli/main.js')) ? [] : ['the built CLI in dist/ (npm run build:ts)'],
);
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe.skipIf(skip)('fieldcast CLI', () => {
  it('prints help and version', () => {
    const help = execFileSync('node', [CLI, '--help'], { encoding: 'utf8' });
    expect(help.split('\n').slice(0, 3)).toEqual([
      `fieldcast ${VERSION} — live-video contribution encoder`,
      '',
      'Usage: fieldcast COMMAND [options]',
    ]);
    for (const command of ['config', 'probe', 'encode', 'mux', 'analyse', 'send', 'receive', 'cloud'])
      expect(help).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(execFileSync('node', [CLI, '--version'], { encoding: 'utf8' })).toBe(`${VERSION}\n`);
  });

  it('config check names each bad key and exits non-zero', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'fc-cli-')), 'c.json');
    writeFileSync(file, JSON.stringify({ video: { bitrate: 5, fps: '24' } }));
    const r = spawnSync('node', [CLI, 'config', 'check', file], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(`${file}: not valid`);
    expect(
      lines
        .slice(1)
        .map((l) => l.trim().split(':')[0])
        .sort(),
    ).toEqual(['video.bitrate', 'video.fps']);
    expect(r.stdout).toMatch(/^ {2}video\.bitrate: .*100000.* \(got 5\)$/m);
  });

  it('an unknown command is a usage error', () => {
    const r = spawnSync('node', [CLI, 'frobnicate'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('fieldcast: unknown command "frobnicate"');
    expect(r.stdout).toBe('');
  });
});
