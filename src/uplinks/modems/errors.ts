/**
 * What can go wrong talking to a modem over its AT port, each with a stable
 * code and a message an operator can act on. No message or detail ever holds
 * a SIM PIN, and IMEI/ICCID appear only masked.
 */
import { FieldcastError } from '../../lib/errors.js';

/** The base of every modem error, so callers can catch the family. */
export class ModemError extends FieldcastError {}

/** The modem did not answer a command in time. The channel stays usable for the next one. */
export class ModemNoAnswerError extends ModemError {
  constructor(command: string, timeoutMs: number, port: string) {
    super('MODEM_NO_ANSWER', `the modem at ${port} did not answer ${command} within ${(timeoutMs / 1000).toFixed(1)} s`, {
      command,
      timeoutMs,
      port,
    });
  }
}

/** The modem answered ERROR, +CME ERROR or +CMS ERROR. */
export class ModemAtError extends ModemError {
  /** The final result line as the modem sent it (`ERROR`, `+CME ERROR: 10`). */
  readonly result: string;
  /** The +CME/+CMS error number, when the modem gave one. */
  readonly cmeError: number | undefined;

  constructor(command: string, result: string, cmeError: number | undefined, port: string) {
    const why = cmeError !== undefined ? describeCmeError(cmeError) : undefined;
    super('MODEM_AT_ERROR', `the modem at ${port} refused ${command}: ${why ?? result}`, { command, result, cmeError, port });
    this.result = result;
    this.cmeError = cmeError;
  }
}

/** The port disappeared (unplugged, the modem reset, the driver let go). */
export class ModemPortGoneError extends ModemError {
  constructor(port: string, cause?: unknown) {
    super('MODEM_PORT_GONE', `the modem port ${port} went away (modem unplugged or restarting)`, { port }, { cause });
  }
}

/** The port is not there at all when it is opened. */
export class ModemPortNotFoundError extends ModemError {
  constructor(port: string, cause?: unknown) {
    super(
      'MODEM_PORT_NOT_FOUND',
      `there is no modem port ${port}: check the modem is plugged in and the path is right`,
      { port },
      { cause },
    );
  }
}

/** The port exists but this user may not open it, or another program holds it. */
export class ModemPortBusyError extends ModemError {
  constructor(port: string, reason: 'denied' | 'locked', cause?: unknown) {
    super(
      'MODEM_PORT_BUSY',
      reason === 'denied'
        ? `no permission to open ${port}: run as a user in the dialout group`
        : `${port} is held by another program (ModemManager, a terminal): stop it and try again`,
      { port, reason },
      { cause },
    );
  }
}

/** The channel was closed while a command waited. */
export class ModemChannelClosedError extends ModemError {
  constructor(port: string) {
    super('MODEM_CHANNEL_CLOSED', `the connection to the modem at ${port} was closed`, { port });
  }
}

/** The SIM asks for its PIN and none was configured. */
export class ModemSimPinRequiredError extends ModemError {
  constructor() {
    super('MODEM_SIM_PIN_REQUIRED', 'the SIM card is locked with a PIN: enter the PIN in the settings (or give --pin-file)');
  }
}

/** The PIN given was refused. It is not tried again: a SIM locks after three wrong PINs. */
export class ModemSimPinWrongError extends ModemError {
  constructor() {
    super('MODEM_SIM_PIN_WRONG', 'the SIM card refused the PIN: check it; it is not tried again, since three wrong PINs lock the SIM');
  }
}

/** The SIM is locked with its PUK (three wrong PINs). */
export class ModemSimPukRequiredError extends ModemError {
  constructor() {
    super('MODEM_SIM_PUK_REQUIRED', 'the SIM card is blocked and needs its PUK: unlock it in a phone, then put it back');
  }
}

/** No SIM in the slot, or the modem cannot read it. */
export class ModemSimMissingError extends ModemError {
  constructor() {
    super('MODEM_SIM_MISSING', 'no SIM card found in the modem: check the SIM is inserted the right way round');
  }
}

/** A modem profile file that does not validate, or a name no profile has. */
export class ModemProfileError extends ModemError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('MODEM_PROFILE_INVALID', message, details);
  }
}

/** 3GPP TS 27.007 §9.2: the +CME ERROR numbers an operator may meet. */
const CME_ERRORS: Readonly<Record<number, string>> = {
  3: 'operation not allowed',
  4: 'operation not supported',
  10: 'SIM not inserted',
  11: 'SIM PIN required',
  12: 'SIM PUK required',
  13: 'SIM failure',
  14: 'SIM busy',
  15: 'SIM wrong',
  16: 'incorrect PIN',
  30: 'no network service',
  31: 'network timeout',
  100: 'unknown error',
};

export function describeCmeError(n: number): string {
  return CME_ERRORS[n] ?? `error ${n}`;
}

/** The +CME ERROR number for a verbose error text (after AT+CMEE=2), when it is one we act on. */
export function cmeErrorFromText(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  for (const [n, words] of Object.entries(CME_ERRORS)) if (words.toLowerCase() === t) return Number(n);
  if (t === 'incorrect password') return 16;
  return undefined;
}
