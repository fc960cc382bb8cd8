import { FieldcastError } from '../lib/errors.js';

export interface ConfigProblem {
  /** Dotted key path, e.g. `destinations.0.latencyMs`. */
  key: string;
  /** The offending value (secrets redacted). */
  value: unknown;
  /** What was expected, in words. */
  expected: string;
  /** A stable code for this problem, where it has one of its own (BOND_ONE_DESTINATION). */
  code?: string;
}

/** A config that does not validate. Nothing was changed. */
export class ConfigInvalidError extends FieldcastError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: ConfigProblem[], source = 'config') {
    const lines = problems.map((p) => `${p.key}: ${p.code ? `[${p.code}] ` : ''}${p.expected} (got ${JSON.stringify(p.value)})`);
    super('CONFIG_INVALID', `${source} is not valid: ${lines.join('; ')}`, { problems });
    this.problems = problems;
  }
}

/** The config file could not be read or written. */
export class ConfigIoError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super('CONFIG_IO', message, details, { cause });
  }
}
