/** Runs a system command (nft, systemctl) and gives back its exit code and words; the one place src/system spawns. */
import { spawn } from 'node:child_process';

export interface CommandResult {
  /** null when the command could not be started (then `spawnError` says why, e.g. ENOENT). */
  exitCode: number | null;
  output: string;
  spawnError?: string;
}

export type CommandRunner = (cmd: string, args: string[], input?: string) => Promise<CommandResult>;

export const runCommand: CommandRunner = (cmd, args, input) =>
  new Promise((resolve) => {
    let output = '';
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.once('error', (err: NodeJS.ErrnoException) => resolve({ exitCode: null, output, spawnError: err.code ?? err.message }));
    child.once('close', (code) => resolve({ exitCode: code, output: output.trim() }));
    child.stdin.on('error', () => {}); // a command that exits before reading its input
    child.stdin.end(input ?? '');
  });

/** The command's own words, or why it could not run. */
export function wordsOf(r: CommandResult): string {
  return r.spawnError ? `could not run it (${r.spawnError})` : r.output || `exit status ${r.exitCode}`;
}
