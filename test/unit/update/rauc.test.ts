import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bootedSlotFromCmdline,
  classifyInstallFailure,
  type InstallProgress,
  installBundle,
  parseProgressLine,
  Rauc,
  type RaucRunner,
  UpdateError,
} from '../../../src/update/index.js';

/** What `rauc install` prints (RAUC 1.8), as lines. */
const OK = [
  'installing',
  '  0% Installing',
  '  0% Determining slot states',
  ' 20% Determining slot states done.',
  ' 40% Checking bundle done.',
  ' 80% Copying image to rootfs.1 done.',
  '100% Installing done.',
  'idle',
  'Installing `/run/bundle/fieldcast.raucb` succeeded',
];

function runner(lines: string[], exitCode: number | null, spawnError?: string): { run: RaucRunner; args: string[][] } {
  const args: string[][] = [];
  const run: RaucRunner = async (a, onLine) => {
    args.push(a);
    for (const l of lines) onLine?.(l);
    return { exitCode, output: lines.join('\n'), ...(spawnError ? { spawnError } : {}) };
  };
  return { run, args };
}

function code(output: string, exitCode: number | null = 1, spawnError?: string): string {
  return classifyInstallFailure({ exitCode, output, ...(spawnError ? { spawnError } : {}) }).code;
}

describe('RAUC', () => {
  it("reads rauc install's progress lines", () => {
    expect(parseProgressLine(' 80% Copying image to rootfs.1 done.')).toEqual({ percent: 80, message: 'Copying image to rootfs.1 done.' });
    expect(parseProgressLine('idle')).toBeUndefined();
  });

  it('installs: the progress as it comes, and success on exit 0', async () => {
    const r = runner(OK, 0);
    const seen: InstallProgress[] = [];
    await new Rauc(r.run).install('/b.raucb', (p) => seen.push(p));
    expect(r.args).toEqual([['install', '/b.raucb']]);
    expect(seen.map((p) => p.percent)).toEqual([0, 0, 20, 40, 80, 100]);
  });

  it("names why an install failed from RAUC's words", () => {
    expect(
      code(
        'installing\n  0% Installing\n 10% Checking bundle\nLastError: signature verification failed: Verify error:unable to get local issuer certificate\nInstalling `/x.raucb` failed',
      ),
    ).toBe('UPDATE_BAD_SIGNATURE');
    expect(code("LastError: Compatible mismatch: Expected 'fieldcast-amd64' but bundle manifest has 'other-box'")).toBe(
      'UPDATE_WRONG_COMPATIBLE',
    );
    expect(code('LastError: Failed writing image: No space left on device')).toBe('UPDATE_NO_SPACE');
    expect(code('', null, 'ENOENT')).toBe('UPDATE_NOT_RAUC_SYSTEM');
    expect(code('rauc-WARNING: Failed to connect to system bus: Could not connect: No such file or directory')).toBe(
      'UPDATE_NOT_RAUC_SYSTEM',
    );
    expect(code('LastError: Installation error: Failed to mount bundle: loop device busy')).toBe('UPDATE_FAILED');
    const e = classifyInstallFailure({ exitCode: 1, output: "LastError: Compatible mismatch: Expected 'a' but bundle manifest has 'b'" });
    expect(e.message).toContain("Compatible mismatch: Expected 'a' but bundle manifest has 'b'");
  });

  it('throws the classified error when rauc install fails', async () => {
    const r = runner(['installing', "LastError: Compatible mismatch: Expected 'a' but bundle manifest has 'b'"], 1);
    await expect(new Rauc(r.run).install('/b.raucb')).rejects.toMatchObject({ code: 'UPDATE_WRONG_COMPATIBLE' });
  });

  it('marks the booted slot good with rauc status mark-good booted', async () => {
    const r = runner([], 0);
    await new Rauc(r.run).markGood();
    expect(r.args).toEqual([['status', 'mark-good', 'booted']]);
    await expect(new Rauc(runner(['error: no booted slot'], 1).run).markGood()).rejects.toBeInstanceOf(UpdateError);
  });

  it('knows the booted slot from the boot loader (rauc.slot=), and none without it', async () => {
    expect(bootedSlotFromCmdline('BOOT_IMAGE=/vmlinuz root=PARTLABEL=rootfs-b ro rauc.slot=B console=ttyS0')).toBe('B');
    expect(bootedSlotFromCmdline('root=/dev/sda1 ro quiet')).toBeUndefined();
    const dir = mkdtempSync(join(tmpdir(), 'fieldcast-cmdline-'));
    writeFileSync(join(dir, 'cmdline'), 'root=PARTLABEL=rootfs-a rauc.slot=A\n');
    expect(await new Rauc(runner([], 0).run, join(dir, 'cmdline')).bootedSlot()).toBe('A');
    expect(await new Rauc(runner([], 0).run, join(dir, 'missing')).bootedSlot()).toBeUndefined();
  });

  it('refuses before RAUC is asked: a missing bundle, or a system that is not the appliance image', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fieldcast-update-'));
    const r = runner(OK, 0);
    await expect(installBundle(join(dir, 'none.raucb'), { rauc: new Rauc(r.run) })).rejects.toMatchObject({ code: 'UPDATE_NO_FILE' });
    writeFileSync(join(dir, 'b.raucb'), 'x');
    await expect(
      installBundle(join(dir, 'b.raucb'), { rauc: new Rauc(r.run), systemConf: join(dir, 'system.conf') }),
    ).rejects.toMatchObject({ code: 'UPDATE_NOT_RAUC_SYSTEM' });
    expect(r.args).toEqual([]);
    writeFileSync(join(dir, 'system.conf'), '[system]\n');
    await installBundle(join(dir, 'b.raucb'), { rauc: new Rauc(r.run), systemConf: join(dir, 'system.conf') });
    expect(r.args).toEqual([['install', join(dir, 'b.raucb')]]);
  });
});
