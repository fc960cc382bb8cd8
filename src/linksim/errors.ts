import { FieldcastError } from '../lib/errors.js';

/** A link emulator config that does not validate. Nothing was started. */
export class LinkSimConfigError extends FieldcastError {
  readonly problems: readonly string[];
  constructor(problems: string[], source = 'link emulator config') {
    super('LINKSIM_CONFIG_INVALID', `${source} is not valid: ${problems.join('; ')}`, { problems });
    this.problems = problems;
  }
}

/** A relay socket could not be opened (port in use, address not on this machine). */
export class LinkSimSocketError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super('LINKSIM_SOCKET', message, details, { cause });
  }
}

/** A name or value given to a running emulator that it does not know. */
export class LinkSimUsageError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('LINKSIM_USAGE', message, details);
  }
}
