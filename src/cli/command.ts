/** What every `fieldcast` subcommand provides, and the shared option parsing. */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { describeError, FieldcastError } from '../lib/errors.js';

export interface Command {
  name: string;
  /** One line for `fieldcast --help`. */
  summary: string;
  /** Full usage text for `fieldcast NAME --help`. */
  usage: string;
  /** Runs the command; resolves to the process exit status. */
  run(argv: string[]): Promise<number>;
}

/** A usage error: wrong flags or values on the command line. Exit status 2. */
export class UsageError extends FieldcastError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs with errors turned into UsageError. */
export function parseOptions<O extends Options>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError(describeError(err));
  }
}

/** Parses a numeric option, naming the flag in the error. */
export function numberOption(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`${flag} must be a number from ${min} to ${max} (got "${value}")`);
  return n;
}

/** Writes to stdout (commands print results there; logs go through the logger). */
export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function err(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}
