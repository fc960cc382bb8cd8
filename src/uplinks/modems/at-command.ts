/**
 * Facts about one AT command from its text alone: how long the modem may take
 * to answer it, which reply prefix is its own, and how to show it without a
 * secret in it. Pure, so the parser and the channel share one set of rules.
 */

/** Most commands answer in well under a second; 5 s covers a busy modem. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 5000;

/**
 * Maximum response times from the vendors' AT manuals (Quectel EC25/RM520N,
 * Sierra EM74xx, Huawei ME909): the radio switching on or off takes up to
 * 15 s; an operator selection (AT+COPS=0) may take up to 180 s (TS 27.007 §7.3).
 */
const SLOW_COMMANDS: ReadonlyArray<readonly [RegExp, number]> = [
  [/^AT\+CFUN=/i, 15_000],
  [/^AT\+COPS=[0124]/i, 180_000],
  [/^AT\+COPS=\?/i, 180_000],
  [/^AT\+CGATT=/i, 140_000],
  [/^AT!RESET/i, 15_000],
];

export function commandTimeoutMs(command: string): number {
  for (const [re, ms] of SLOW_COMMANDS) if (re.test(command)) return ms;
  return DEFAULT_COMMAND_TIMEOUT_MS;
}

/** Commands whose arguments are secrets: the SIM PIN, PUK and facility passwords. */
const SECRET_ARGS = /^(AT\+(?:CPIN|CLCK|CPWD)=)(.*)$/i;

/** The command as it may be shown in logs and errors: secret arguments replaced. */
export function displayCommand(command: string): string {
  return command.replace(SECRET_ARGS, '$1[redacted]');
}

/** Whether a command carries a secret (its echo must never reach a log either). */
export function isSecretCommand(command: string): boolean {
  return SECRET_ARGS.test(command);
}

/**
 * The information-response prefix that belongs to a command: `AT+CREG?` →
 * `+CREG:`, `AT^HCSQ?` → `^HCSQ:`, `AT!GSTATUS?` → `!GSTATUS:`. A line with a
 * URC's prefix is part of the reply only when it is the command's own.
 */
export function replyPrefix(command: string): string | undefined {
  const m = /^AT([+^!$#%][A-Z0-9]+)/i.exec(command.trim());
  return m ? `${m[1]!.toUpperCase()}:` : undefined;
}
