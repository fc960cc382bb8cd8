/**
 * The one door to RAUC (rauc(1) 1.8, the client of its D-Bus service): the
 * install of a bundle, marking the booted slot good, and which slot the A/B
 * boot loader booted. Everything else in src/update goes through here, so
 * tests give it a fake runner.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { UpdateError } from './errors.js';

/** One run of the rauc command: its exit code (null when it could not start) and everything it printed. */
export interface RaucRun {
  exitCode: number | null;
  output: string;
  /** Set when the command could not be started (ENOENT: RAUC is not installed). */
  spawnError?: string;
}

/** Runs `rauc ARGS`, each line of output to onLine as it comes. */
export type RaucRunner = (args: string[], onLine?: (line: string) => void) => Promise<RaucRun>;

export const spawnRauc: RaucRunner = (args, onLine) =>
  new Promise((resolve) => {
    let output = '';
    let partial = '';
    const child = spawn('rauc', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const take = (d: Buffer): void => {
      const text = d.toString();
      output += text;
      partial += text;
      for (let nl = partial.indexOf('\n'); nl >= 0; nl = partial.indexOf('\n')) {
        onLine?.(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.once('error', (err: NodeJS.ErrnoException) => resolve({ exitCode: null, output, spawnError: err.code ?? err.message }));
    child.once('close', (code) => {
      if (partial) onLine?.(partial);
      resolve({ exitCode: code, output });
    });
  });

/** One progress step of an install: RAUC's own percentage and words. */
export interface InstallProgress {
  percent: number;
  message: string;
}

/** A progress line of `rauc install` ("` 40% Checking slot rootfs.1 done.`"), or undefined. */
export function parseProgressLine(line: string): InstallProgress | undefined {
  const m = line.match(/^\s*(\d{1,3})%\s+(.+?)\s*$/);
  return m ? { percent: Number(m[1]), message: m[2] ?? '' } : undefined;
}

/** The last lines of RAUC's output that say what went wrong, for the operator. */
function raucWords(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !parseProgressLine(l) && !/^(installing|idle)$/i.test(l));
  const said = lines.filter((l) => /error|fail|mismatch|invalid|space|not /i.test(l));
  return (said.length > 0 ? said : lines).slice(-3).join('; ') || 'no output';
}

/** Why `rauc install` failed, from what it printed: the code the operator acts on. */
export function classifyInstallFailure(run: RaucRun): UpdateError {
  if (run.spawnError === 'ENOENT') {
    return new UpdateError(
      'UPDATE_NOT_RAUC_SYSTEM',
      'this system has no RAUC (rauc is not installed): updates install only on the Fieldcast appliance image',
    );
  }
  if (run.spawnError) return new UpdateError('UPDATE_FAILED', `could not run rauc: ${run.spawnError}`);
  const out = run.output;
  const words = raucWords(out);
  if (/compatible mismatch|compatible .*(does not match|mismatch)/i.test(out)) {
    return new UpdateError('UPDATE_WRONG_COMPATIBLE', `the bundle is made for another kind of box (${words}): nothing was changed`, {
      rauc: words,
    });
  }
  if (/signature|verif(y|ication) failed|failed to verify|unable to get (local )?issuer|certificate|cms/i.test(out)) {
    return new UpdateError(
      'UPDATE_BAD_SIGNATURE',
      `the bundle is not signed by a key this box trusts, or it was changed after it was signed (${words}): nothing was changed`,
      { rauc: words },
    );
  }
  if (/no space|ENOSPC|too (small|large|big)|not enough space|exceeds/i.test(out)) {
    return new UpdateError('UPDATE_NO_SPACE', `the update does not fit (${words})`, { rauc: words });
  }
  if (/already in progress|another installation|installer is busy/i.test(out)) {
    return new UpdateError('UPDATE_BUSY', `another update is being installed (${words}): wait for it to end`, { rauc: words });
  }
  if (
    /system\.conf|failed to (connect|load system config)|name de\.pengutronix\.rauc|was not provided by any \.service|cannot autolaunch|system bus/i.test(
      out,
    )
  ) {
    return new UpdateError(
      'UPDATE_NOT_RAUC_SYSTEM',
      `RAUC's service does not answer or is not set up here (${words}): updates install only on the Fieldcast appliance image`,
      { rauc: words },
    );
  }
  return new UpdateError('UPDATE_FAILED', `RAUC could not install the bundle (${words})`, { rauc: words, exitCode: run.exitCode });
}

export class Rauc {
  constructor(
    private readonly runner: RaucRunner = spawnRauc,
    private readonly cmdlineFile = '/proc/cmdline',
  ) {}

  /** Installs a bundle into the slot that is not running; resolves when RAUC says it succeeded. */
  async install(bundle: string, onProgress?: (p: InstallProgress) => void): Promise<void> {
    const run = await this.runner(['install', bundle], (line) => {
      const p = parseProgressLine(line);
      if (p) onProgress?.(p);
    });
    if (run.exitCode !== 0) throw classifyInstallFailure(run);
  }

  /** `rauc status mark-good booted`: the boot loader keeps this slot (its try is over). */
  async markGood(): Promise<void> {
    const run = await this.runner(['status', 'mark-good', 'booted']);
    if (run.exitCode !== 0) {
      if (run.spawnError === 'ENOENT') throw new UpdateError('UPDATE_NOT_RAUC_SYSTEM', 'rauc is not installed');
      throw new UpdateError('UPDATE_FAILED', `rauc status mark-good failed: ${raucWords(run.output)}`);
    }
  }

  /** The slot the A/B boot loader booted (its bootname, `rauc.slot=` on the kernel's command line), or undefined when it did not. */
  async bootedSlot(): Promise<string | undefined> {
    const cmdline = await readFile(this.cmdlineFile, 'utf8').catch(() => '');
    return bootedSlotFromCmdline(cmdline);
  }
}

export function bootedSlotFromCmdline(cmdline: string): string | undefined {
  return cmdline.match(/(?:^|\s)rauc\.slot=(\S+)/)?.[1];
}
