import { chmodSync, chownSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  configFilePath,
  controlSocketPath,
  DirectoryUnavailableError,
  DirectoryUnsafeError,
  ensurePrivateDir,
  stateDir,
} from '../../../src/supervisor/paths.js';

const USER = 1000;

describe('state directory', () => {
  it('takes --state-dir over everything', () => {
    const env = { STATE_DIRECTORY: '/var/lib/fieldcast', XDG_STATE_HOME: '/home/op/.state', HOME: '/home/op' };
    expect(stateDir({ flag: '/data/fc/', env, uid: 0 })).toBe('/data/fc');
    expect(stateDir({ flag: 'rel/dir', env, uid: USER })).toBe('rel/dir');
  });

  it("takes systemd's $STATE_DIRECTORY, the first of several", () => {
    expect(stateDir({ env: { STATE_DIRECTORY: '/var/lib/fieldcast' }, uid: USER })).toBe('/var/lib/fieldcast');
    expect(stateDir({ env: { STATE_DIRECTORY: '/var/lib/fieldcast:/var/lib/fieldcast-extra' }, uid: 0 })).toBe('/var/lib/fieldcast');
  });

  it('is /var/lib/fieldcast as root without systemd', () => {
    expect(stateDir({ env: { HOME: '/root', XDG_STATE_HOME: '/root/.state' }, uid: 0 })).toBe('/var/lib/fieldcast');
  });

  it('follows the XDG spec for other users', () => {
    expect(stateDir({ env: { XDG_STATE_HOME: '/home/op/.state', HOME: '/home/op' }, uid: USER })).toBe('/home/op/.state/fieldcast');
    expect(stateDir({ env: { HOME: '/home/op' }, uid: USER })).toBe('/home/op/.local/state/fieldcast');
    // The spec: a relative path in an XDG variable is invalid and ignored.
    expect(stateDir({ env: { XDG_STATE_HOME: 'state', HOME: '/home/op' }, uid: USER })).toBe('/home/op/.local/state/fieldcast');
    expect(stateDir({ env: { XDG_STATE_HOME: '', HOME: '/home/op' }, uid: USER })).toBe('/home/op/.local/state/fieldcast');
  });

  it('says what to do when there is nowhere to put it', () => {
    expect(() => stateDir({ env: {}, uid: USER })).toThrow(DirectoryUnavailableError);
    expect(() => stateDir({ env: {}, uid: USER })).toThrow(/--state-dir/);
    expect(() => stateDir({ flag: '', env: { HOME: '/home/op' }, uid: USER })).toThrow(/--state-dir needs a path/);
  });

  it('keeps the config in it unless --config is given', () => {
    expect(configFilePath({ stateDir: '/var/lib/fieldcast' })).toBe('/var/lib/fieldcast/config.json');
    expect(configFilePath({ flag: '/etc/fieldcast.json', stateDir: '/var/lib/fieldcast' })).toBe('/etc/fieldcast.json');
  });
});

describe('control socket', () => {
  it('takes --socket over everything', () => {
    expect(controlSocketPath({ flag: '/tmp/x.sock', env: { RUNTIME_DIRECTORY: '/run/fieldcast' }, uid: 0 })).toBe('/tmp/x.sock');
  });

  it("is control.sock in systemd's $RUNTIME_DIRECTORY, the first of several", () => {
    expect(controlSocketPath({ env: { RUNTIME_DIRECTORY: '/run/fieldcast:/run/other' }, uid: USER })).toBe('/run/fieldcast/control.sock');
  });

  it('is in /run/fieldcast as root, else in $XDG_RUNTIME_DIR/fieldcast', () => {
    expect(controlSocketPath({ env: { XDG_RUNTIME_DIR: '/run/user/0' }, uid: 0 })).toBe('/run/fieldcast/control.sock');
    expect(controlSocketPath({ env: { XDG_RUNTIME_DIR: '/run/user/1000/' }, uid: USER })).toBe('/run/user/1000/fieldcast/control.sock');
  });

  it('falls back to a directory of the user in the temp dir', () => {
    expect(controlSocketPath({ env: {}, uid: USER })).toBe('/tmp/fieldcast-1000/control.sock');
    expect(controlSocketPath({ env: { TMPDIR: '/var/tmp/' }, uid: 1001 })).toBe('/var/tmp/fieldcast-1001/control.sock');
    expect(controlSocketPath({ env: { XDG_RUNTIME_DIR: 'relative' }, uid: USER })).toBe('/tmp/fieldcast-1000/control.sock');
  });

  it('gives run and ctl the same path from the same environment', () => {
    const env = { HOME: '/home/op', XDG_RUNTIME_DIR: '/run/user/1000' };
    expect(controlSocketPath({ env, uid: USER })).toBe(controlSocketPath({ env: { ...env }, uid: USER }));
  });
});

describe('ensurePrivateDir', () => {
  let root: string;
  const me = process.getuid?.() ?? 0;

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'fieldcast-paths-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('creates missing directories 0700', async () => {
    const dir = path.join(root, 'a', 'b', 'fieldcast');
    await ensurePrivateDir(dir);
    expect(statSync(dir).isDirectory()).toBe(true);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    // Again on the same directory is fine.
    await ensurePrivateDir(dir);
  });

  it('accepts an existing directory of ours that others can read but not change', async () => {
    const dir = path.join(root, 'state');
    await ensurePrivateDir(dir);
    chmodSync(dir, 0o755);
    await expect(ensurePrivateDir(dir)).resolves.toBeUndefined();
  });

  it('accepts a symlink to a directory of ours (a state partition)', async () => {
    const target = path.join(root, 'data');
    await ensurePrivateDir(target);
    const link = path.join(root, 'link');
    symlinkSync(target, link);
    await expect(ensurePrivateDir(link)).resolves.toBeUndefined();
  });

  it('refuses a directory that group or others can write', async () => {
    const dir = path.join(root, 'open');
    await ensurePrivateDir(dir);
    chmodSync(dir, 0o775);
    await expect(ensurePrivateDir(dir)).rejects.toThrow(DirectoryUnsafeError);
    chmodSync(dir, 0o1777);
    await expect(ensurePrivateDir(dir)).rejects.toThrow(/can be changed by other users \(mode 0777\); run chmod go-w/);
  });

  it('refuses a directory owned by another user', async () => {
    const dir = path.join(root, 'theirs');
    await ensurePrivateDir(dir);
    // As if someone else had made it first (the temp dir fallback is where that happens).
    await expect(ensurePrivateDir(dir, { uid: me + 1 })).rejects.toThrow(/belongs to another user/);
    if (me === 0) {
      chownSync(dir, 4242, 4242);
      await expect(ensurePrivateDir(dir)).rejects.toThrow(DirectoryUnsafeError);
    }
  });

  it('refuses a file where the directory should be, and says why it cannot create one', async () => {
    const file = path.join(root, 'file');
    writeFileSync(file, 'x');
    await expect(ensurePrivateDir(file)).rejects.toThrow(/is not a directory/);
    const err = await ensurePrivateDir(path.join(file, 'sub')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DirectoryUnavailableError);
    expect((err as DirectoryUnavailableError).message).toMatch(/cannot create the directory/);
  });
});
