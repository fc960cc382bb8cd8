/**
 * CPU seconds (user + sys, from the OS) of a child program, not wall time:
 * the machines are shared and noisy. The child runs under a tiny shell that,
 * once it has reaped the child, reports its own cutime/cstime from
 * /proc/self/stat — the child's whole CPU use, its own children included.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const CLK_TCK = 100; // Linux USER_HZ, fixed at 100 for /proc on every architecture

export interface MeasuredRun {
  code: number | null;
  cpuSeconds: number;
  wallSeconds: number;
  stdout: string;
  stderr: string;
}

/** Parses user+sys of the children (cutime, cstime: fields 16 and 17) from a /proc/PID/stat line. */
export function childCpuFromStat(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); cutime is field 16, cstime field 17.
  return (Number(fields[13]) + Number(fields[14])) / CLK_TCK;
}

/** CPU seconds this process has used so far (user + sys). */
export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** CPU seconds a live process has used so far (user + sys, fields 14 and 15), children not included. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

export function runMeasured(cmd: string, args: string[], opts: { input?: Buffer; signal?: AbortSignal } = {}): Promise<MeasuredRun> {
  const script = '"$@" <&0; rc=$?; cat /proc/$$/stat >&3; exit $rc';
  const started = process.hrtime.bigint();
  const child = spawn('sh', ['-c', script, 'sh', cmd, ...args], {
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    signal: opts.signal,
  });
  const out: Buffer[] = [];
  const errOut: Buffer[] = [];
  let stat = '';
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => errOut.push(d));
  (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => {
    stat += d.toString();
  });
  if (opts.input) child.stdin.end(opts.input);
  else child.stdin.end();
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({
        code,
        cpuSeconds: stat ? childCpuFromStat(stat) : Number.NaN,
        wallSeconds: Number(process.hrtime.bigint() - started) / 1e9,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(errOut).toString(),
      });
    });
  });
}

/** CPU seconds (user + sys) of each thread of a live process, by thread id, with the thread's name (comm). */
export function threadCpuSeconds(pid: number): { tid: number; name: string; cpuSeconds: number }[] {
  const threads: { tid: number; name: string; cpuSeconds: number }[] = [];
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.push({ tid: Number(t), name, cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLK_TCK });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return threads;
}
