/**
 * The one door to iproute2's `ip`. Every command of this subsystem goes
 * through an IpCommand, so a test can answer with canned output, and a box
 * (or a test rig) can aim it at a network namespace: with `netns` set the
 * commands run as `ip -n NS …`, which switches namespace inside `ip` itself
 * and needs no wrapper process.
 */
import { execFile, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { UplinkIpCommandError } from './errors.js';

/** The few things the monitor needs of a long-running `ip` child. */
export interface IpProcess {
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  once(event: 'exit', fn: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  once(event: 'error', fn: (err: Error) => void): this;
  kill(signal?: NodeJS.Signals): boolean;
}

export interface IpCommand {
  /** The namespace the commands run in, for logs; undefined for the box's own. */
  readonly netns: string | undefined;
  /** Runs `ip ARGS` and resolves with its stdout; rejects with UplinkIpCommandError. */
  run(args: readonly string[], signal?: AbortSignal): Promise<string>;
  /** Starts a long-running `ip ARGS` (the monitor); its failures arrive as 'error' and 'exit'. */
  spawn(args: readonly string[]): IpProcess;
}

export interface IpCommandOptions {
  /** Run every command in this network namespace (`ip -n NS`). */
  netns?: string;
  /** Default `ip` from PATH. */
  ipPath?: string;
  /** A command that takes longer is killed; default 5000 ms. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5000;
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

export function createIpCommand(opts: IpCommandOptions = {}): IpCommand {
  const ipPath = opts.ipPath ?? 'ip';
  const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const prefix = opts.netns !== undefined ? ['-n', opts.netns] : [];
  return {
    netns: opts.netns,
    run(args, signal) {
      const full = [...prefix, ...args];
      return new Promise((resolve, reject) => {
        execFile(ipPath, full, { timeout, maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8', signal }, (err, stdout, stderr) => {
          if (!err) return resolve(stdout);
          const code = (err as NodeJS.ErrnoException).code;
          const exitCode = typeof code === 'number' ? code : undefined;
          const detail = stderr.trim();
          const message =
            code === 'ENOENT'
              ? `the "ip" tool (iproute2) is not installed: cannot run "ip ${full.join(' ')}"`
              : `"ip ${full.join(' ')}" failed${detail ? `: ${detail}` : ''}`;
          const details: { args: readonly string[]; stderr: string; exitCode?: number; netns?: string } = { args: full, stderr: detail };
          if (exitCode !== undefined) details.exitCode = exitCode;
          if (opts.netns !== undefined) details.netns = opts.netns;
          reject(new UplinkIpCommandError(message, details, err));
        });
      });
    },
    spawn(args) {
      return spawn(ipPath, [...prefix, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    },
  };
}

/** Whether `ip` refused because the thing to add is there already (a rule added twice). */
export function isAlreadyExists(err: unknown): boolean {
  return err instanceof UplinkIpCommandError && /File exists/i.test(err.stderr);
}

/** Whether `ip` refused because the thing to delete is gone already (a route the kernel removed with its link). */
export function isAlreadyGone(err: unknown): boolean {
  return err instanceof UplinkIpCommandError && /No such (file or directory|process)/i.test(err.stderr);
}

/** Whether the interface a command names has disappeared (a modem unplugged between a scan and a change). */
export function isNoSuchDevice(err: unknown): boolean {
  return err instanceof UplinkIpCommandError && /Cannot find device|No such device/i.test(err.stderr);
}
