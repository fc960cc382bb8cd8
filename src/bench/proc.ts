/** A scenario's child programs: what /proc says of one (its resident memory, its child), and stopping them all. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as wait } from 'node:timers/promises';

/** Resident set size of `pid` in MB (VmRSS), NaN when it is gone. */
export function rssMb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** The first child process of `pid` (fieldcast send's pipeline process), if it has one. */
export function childOf(pid: number): number | undefined {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return kids[0];
  } catch {
    return undefined;
  }
}

/**
 * The programs a scenario starts, quiet (no output, Fieldcast's log at errors
 * only), stopped together: SIGTERM in reverse order of start, so each stops
 * by itself (a CPU profile is written at exit), then SIGKILL for whatever is
 * left after 5 s.
 */
export class QuietChildren {
  private readonly procs: ChildProcess[] = [];

  spawn(cmd: string, args: string[]): ChildProcess {
    const p = spawn(cmd, args, { stdio: 'ignore', env: { ...process.env, FIELDCAST_LOG: 'error' } });
    this.procs.push(p);
    return p;
  }

  async stopAll(): Promise<void> {
    const running = () => this.procs.filter((p) => p.exitCode === null && p.signalCode === null);
    for (const p of [...running()].reverse()) p.kill('SIGTERM');
    await Promise.race([Promise.all(running().map((p) => new Promise((r) => p.once('exit', r)))), wait(5000)]);
    for (const p of running()) p.kill('SIGKILL');
  }
}
