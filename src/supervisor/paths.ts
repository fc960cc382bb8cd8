/**
 * Where the box keeps things. Everything that lasts (the config when
 * `--config` is not given, the event log, later keys and the data ledger)
 * lives in one state directory; `run` and `ctl` meet at one control socket.
 *
 * The choice is a pure function of the flag, the environment and the uid, so
 * `run` under systemd, `run` from a shell and `ctl` beside either agree, and
 * tests need nothing global. Order, as systemd.exec(5) and the XDG Base
 * Directory spec define the variables:
 *
 * - state: `--state-dir`, `$STATE_DIRECTORY` (StateDirectory=), /var/lib/fieldcast
 *   as root, `$XDG_STATE_HOME/fieldcast`, `$HOME/.local/state/fieldcast`;
 * - socket: `--socket`, `$RUNTIME_DIRECTORY/control.sock` (RuntimeDirectory=),
 *   /run/fieldcast/control.sock as root, `$XDG_RUNTIME_DIR/fieldcast/control.sock`,
 *   else `<tmpdir>/fieldcast-<uid>/control.sock`.
 *
 * `ensurePrivateDir` creates a directory 0700 and refuses one another user
 * controls, as sshd's StrictModes does for ~/.ssh.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { FieldcastError } from '../lib/errors.js';

/** The environment as `process.env` gives it; tests pass a plain object. */
export type PathEnv = Readonly<Record<string, string | undefined>>;

export interface PathInputs {
  /** The command-line flag (`--state-dir`, `--socket`), when given. */
  flag?: string | undefined;
  env: PathEnv;
  uid: number;
}

export const APP_DIR = 'fieldcast';
export const CONTROL_SOCKET = 'control.sock';
export const CONFIG_FILE = 'config.json';

/** A directory Fieldcast would keep secrets in, but which someone else could change. Nothing was written. */
export class DirectoryUnsafeError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('DIR_UNSAFE', message, details);
  }
}

/** A directory that cannot be chosen, created or read. */
export class DirectoryUnavailableError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super('DIR_UNAVAILABLE', message, details, { cause });
  }
}

/** The state directory: config, event log, keys, data ledger. */
export function stateDir({ flag, env, uid }: PathInputs): string {
  const given = fromFlag(flag, '--state-dir');
  if (given !== undefined) return given;
  const systemd = firstOf(env.STATE_DIRECTORY);
  if (systemd !== undefined) return systemd;
  if (uid === 0) return path.join('/var/lib', APP_DIR);
  const xdg = absolute(env.XDG_STATE_HOME);
  if (xdg !== undefined) return path.join(xdg, APP_DIR);
  const home = absolute(env.HOME);
  // XDG Base Directory spec: $XDG_STATE_HOME defaults to $HOME/.local/state.
  if (home !== undefined) return path.join(home, '.local', 'state', APP_DIR);
  throw new DirectoryUnavailableError('no state directory: neither XDG_STATE_HOME nor HOME is set; pass --state-dir DIR', { uid });
}

/** The control socket that `run` listens on and `ctl` connects to. */
export function controlSocketPath({ flag, env, uid }: PathInputs): string {
  const given = fromFlag(flag, '--socket');
  if (given !== undefined) return given;
  const systemd = firstOf(env.RUNTIME_DIRECTORY);
  if (systemd !== undefined) return path.join(systemd, CONTROL_SOCKET);
  if (uid === 0) return path.join('/run', APP_DIR, CONTROL_SOCKET);
  const xdg = absolute(env.XDG_RUNTIME_DIR);
  if (xdg !== undefined) return path.join(xdg, APP_DIR, CONTROL_SOCKET);
  // No per-user runtime directory (a shell without a login session): a
  // directory of our own in the temp dir, named by uid so users do not meet.
  return path.join(tmpDir(env), `${APP_DIR}-${uid}`, CONTROL_SOCKET);
}

/** The config file: `--config` when given, else config.json in the state directory. */
export function configFilePath({ flag, stateDir: dir }: { flag?: string | undefined; stateDir: string }): string {
  return fromFlag(flag, '--config') ?? path.join(dir, CONFIG_FILE);
}

/**
 * Creates `dir` (and missing parents) with mode 0700, then checks that it is
 * a directory owned by this user and not writable by group or others.
 * `uid` is the owner to expect; it defaults to the process's own.
 */
export async function ensurePrivateDir(dir: string, options: { uid?: number } = {}): Promise<void> {
  const uid = options.uid ?? process.getuid?.() ?? 0;
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') {
      throw new DirectoryUnavailableError(`cannot create the directory ${dir}: ${(err as Error).message}`, { dir, errno: code }, err);
    }
  }
  let st: Awaited<ReturnType<typeof fs.stat>>;
  try {
    // stat, not lstat: a symlink to the state partition is how a read-only root
    // usually provides /var/lib/fieldcast; the target is what must be ours.
    st = await fs.stat(dir);
  } catch (err) {
    throw new DirectoryUnavailableError(`cannot read the directory ${dir}: ${(err as Error).message}`, { dir }, err);
  }
  if (!st.isDirectory()) {
    throw new DirectoryUnsafeError(`${dir} exists and is not a directory; remove it or choose another place`, { dir });
  }
  if (st.uid !== uid) {
    throw new DirectoryUnsafeError(
      `${dir} belongs to another user (uid ${st.uid}, this is uid ${uid}); Fieldcast keeps its settings and keys only in a directory of its own: remove it, or choose another with --state-dir or --socket`,
      { dir, owner: st.uid, uid },
    );
  }
  const mode = st.mode & 0o777;
  if ((mode & 0o022) !== 0) {
    throw new DirectoryUnsafeError(
      `${dir} can be changed by other users (mode ${mode.toString(8).padStart(4, '0')}); run chmod go-w ${dir}`,
      { dir, mode },
    );
  }
}

function fromFlag(flag: string | undefined, name: string): string | undefined {
  if (flag === undefined) return undefined;
  if (flag.trim() === '') throw new DirectoryUnavailableError(`${name} needs a path`, { flag: name });
  return trimSlash(path.normalize(flag));
}

/** systemd joins several directories of StateDirectory=/RuntimeDirectory= with colons; the first is ours. */
function firstOf(value: string | undefined): string | undefined {
  const first = value?.split(':')[0];
  return first ? trimSlash(path.normalize(first)) : undefined;
}

/** The XDG spec says a relative path in its variables is invalid and must be ignored. */
function absolute(value: string | undefined): string | undefined {
  return value && path.isAbsolute(value) ? trimSlash(path.normalize(value)) : undefined;
}

/** What os.tmpdir() returns on POSIX, read from the given environment rather than the process's. */
function tmpDir(env: PathEnv): string {
  return trimSlash(env.TMPDIR || env.TMP || env.TEMP || '/tmp');
}

function trimSlash(p: string): string {
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}
