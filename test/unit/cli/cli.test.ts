import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = path.resolve(import.meta.dirname, '../../../bin/fieldcast.js');

describe('fieldcast CLI', () => {
  it('prints help and version', () => {
    expect(execFileSync('node', [CLI, '--help'], { encoding: 'utf8' })).toMatch(/Usage: fieldcast COMMAND/);
    expect(execFileSync('node', [CLI, '--version'], { encoding: 'utf8' }).trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('config check names each bad key and exits non-zero', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'fc-cli-')), 'c.json');
    writeFileSync(file, JSON.stringify({ video: { bitrate: 5 } }));
    const r = spawnSync('node', [CLI, 'config', 'check', file], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('video.bitrate');
  });

  it('an unknown command is a usage error', () => {
    expect(spawnSync('node', [CLI, 'frobnicate'], { encoding: 'utf8' }).status).toBe(2);
  });
});
