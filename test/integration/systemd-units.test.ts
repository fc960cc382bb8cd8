/**
 * The two unit files as systemd reads them: `systemd-analyze verify` finds
 * nothing to say, and `systemd-analyze security --offline=true` (systemd
 * 252+) rates their exposure no worse than the figures in the README.
 *
 * verify checks that the program ExecStart= names exists and is executable
 * (not its arguments), so each unit is checked as a copy whose /usr/bin/node
 * is the node running this test: the same unit wherever node is installed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingTools, skipWithout } from '../peers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

const skip = skipWithout('the systemd unit checks', missingTools('systemd-analyze'));

/** Exposure as systemd 252 rates it (0 safe … 10 unsafe), measured, with a little room. */
const UNITS = [
  { name: 'fieldcast.service', maxExposure: 2.1 },
  { name: 'fieldcast-receive.service', maxExposure: 1.3 },
] as const;

const dir = mkdtempSync(path.join(tmpdir(), 'fieldcast-units-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function unitText(name: string): string {
  return readFileSync(path.join(ROOT, 'systemd', name), 'utf8');
}

/** The unit, with this machine's node in ExecStart=, in a directory of its own. */
function checkableCopy(name: string): string {
  const text = unitText(name);
  expect(text, `${name} starts /usr/bin/node`).toMatch(/^ExecStart=\/usr\/bin\/node /m);
  const file = path.join(dir, name);
  writeFileSync(file, text.replace(/^ExecStart=\/usr\/bin\/node /gm, `ExecStart=${process.execPath} `));
  return file;
}

function analyze(args: string[]): { status: number | null; out: string } {
  const r = spawnSync('systemd-analyze', args, { encoding: 'utf8', env: { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' } });
  return { status: r.status, out: `${r.stdout}${r.stderr}`.trim() };
}

/** KEY=VALUE lines of a unit, each key with all its values in order. */
function settings(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  }
  return out;
}

describe.skipIf(skip)('systemd unit files', () => {
  for (const { name, maxExposure } of UNITS) {
    it(`${name}: systemd-analyze verify has nothing to say`, () => {
      const r = analyze(['verify', checkableCopy(name)]);
      expect(r.out).toBe('');
      expect(r.status).toBe(0);
    });

    it(`${name}: exposure at most ${maxExposure}`, () => {
      const r = analyze(['security', '--offline=true', checkableCopy(name)]);
      expect(r.status, r.out).toBe(0);
      const m = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(r.out);
      expect(m, r.out).not.toBeNull();
      const exposure = Number(m![1]);
      const open = r.out
        .split('\n')
        .filter((l) => l.startsWith('✗'))
        .map((l) => `  ${l.replace(/\s{2,}/g, '  ').trim()}`);
      console.log(`${name}: exposure ${exposure} (at most ${maxExposure}); what it keeps open:\n${open.join('\n')}`);
      expect(exposure).toBeLessThanOrEqual(maxExposure);
    });
  }

  it('fieldcast.service asks for what the supervisor sends: notify, watchdog, restart, the pipeline stopped with it', () => {
    const s = settings(unitText('fieldcast.service'));
    expect(s.get('Type')).toEqual(['notify']);
    expect(s.get('NotifyAccess')).toEqual(['main']);
    expect(Number(s.get('WatchdogSec')?.[0])).toBeGreaterThan(0);
    expect(s.get('Restart')).toEqual(['always']);
    expect(s.get('KillMode')).toEqual(['mixed']);
    expect(s.get('ExecStart')?.[0]).toMatch(/ run$/);
    expect(s.get('StateDirectory')).toEqual(['fieldcast']);
    expect(s.get('RuntimeDirectory')).toEqual(['fieldcast']);
    // Nothing of CAP_NET_ADMIN's reach beyond it, and no way to gain more.
    expect(s.get('CapabilityBoundingSet')).toEqual(['CAP_NET_ADMIN']);
    expect(s.get('AmbientCapabilities')).toEqual(['CAP_NET_ADMIN']);
    expect(s.get('NoNewPrivileges')).toEqual(['yes']);
    expect(s.has('MemoryDenyWriteExecute')).toBe(false);
  });

  // The reason both units leave MemoryDenyWriteExecute= off, checked with the
  // kernel's own form of the rule (PR_SET_MDWE, Linux 6.3+), which forbids
  // making memory executable that was not, as systemd's seccomp rule does.
  it('node cannot run with memory that may not become executable (MemoryDenyWriteExecute=)', (ctx) => {
    if (missingTools('python3').length > 0) return ctx.skip();
    const script = [
      'import ctypes, os, sys',
      'libc = ctypes.CDLL(None, use_errno=True)',
      'if libc.prctl(65, 1, 0, 0, 0) != 0: sys.exit(77)',
      'os.execv(sys.argv[1], sys.argv[1:])',
    ].join('\n');
    const work = 'let s = 0; for (let i = 0; i < 1e7; i++) s += i; console.log(s)';
    const r = spawnSync('python3', ['-c', script, process.execPath, '-e', work], { encoding: 'utf8' });
    if (r.status === 77) return ctx.skip();
    expect(r.status === 0 && r.signal === null, `node survived MDWE: ${r.stdout}`).toBe(false);
    expect(`${r.stderr}`).toMatch(/Fatal|Check failed|SetPermissions/);
  });
});
