/**
 * The SIM: locked or ready (AT+CPIN?, TS 27.007 §8.3), and unlocking it
 * with the configured PIN. The PIN is sent once: a SIM blocks after three
 * wrong ones, so a refused PIN is reported and never retried. It never
 * reaches a log or an error (the channel shows AT+CPIN=[redacted]).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidInputError } from '../../lib/errors.js';
import { afterPrefix } from './at-fields.js';
import type { AtReply } from './at-parser.js';
import type { AtCommander } from './commander.js';
import {
  ModemAtError,
  type ModemError,
  ModemSimMissingError,
  ModemSimPinRequiredError,
  ModemSimPinWrongError,
  ModemSimPukRequiredError,
} from './errors.js';

export type SimState = 'ready' | 'pin-required' | 'puk-required' | 'missing' | 'busy' | 'device-locked' | 'unknown';

export interface SimStatus {
  state: SimState;
  /** The PIN was entered by this read and accepted. */
  unlockedWithPin: boolean;
  /** What the operator must do, when anything. */
  problem?: { code: string; message: string };
}

/** TS 27.007 §8.3 <code>; CME 10/13 (not inserted, failure) and 14 (busy) from §9.2. */
export function simStateFromReply(reply: AtReply): SimState {
  if (!reply.ok) {
    if (reply.cmeError === 10 || reply.cmeError === 13) return 'missing';
    if (reply.cmeError === 14) return 'busy';
    if (reply.cmeError === 11) return 'pin-required';
    if (reply.cmeError === 12) return 'puk-required';
    return 'unknown';
  }
  const line = reply.lines.find((l) => /^\+CPIN:/i.test(l));
  const code = (line ? afterPrefix(line, '+CPIN:') : undefined)?.toUpperCase();
  switch (code) {
    case 'READY':
    case 'SIM PIN2': // PIN2 guards fixed dialling, not data
    case 'SIM PUK2':
      return 'ready';
    case 'SIM PIN':
      return 'pin-required';
    case 'SIM PUK':
      return 'puk-required';
    case 'PH-SIM PIN':
    case 'PH-NET PIN':
      return 'device-locked';
    default:
      return 'unknown';
  }
}

/** 4 to 8 digits (TS 31.101 §9.2 / ETSI TS 102 221 §9.5.1). The value is never put in the error. */
export function checkPin(pin: string): string {
  if (!/^\d{4,8}$/.test(pin)) throw new InvalidInputError('the SIM PIN must be 4 to 8 digits');
  return pin;
}

function problem(err: ModemError): { code: string; message: string } {
  return { code: err.code, message: err.message };
}

/** After a PIN is accepted the SIM is busy for a moment (CME 14) before it reports READY. */
const READY_POLLS = 10;
const READY_POLL_MS = 300;

async function query(at: AtCommander): Promise<SimState> {
  return simStateFromReply(await at.exchange('AT+CPIN?'));
}

export interface ReadSimOptions {
  pin?: string;
}

export async function readSim(at: AtCommander, opts: ReadSimOptions = {}): Promise<SimStatus> {
  let state = await query(at);
  for (let i = 0; state === 'busy' && i < READY_POLLS; i++) {
    await sleep(READY_POLL_MS);
    state = await query(at);
  }
  if (state === 'pin-required' && opts.pin !== undefined) {
    const pin = checkPin(opts.pin);
    try {
      await at.send(`AT+CPIN="${pin}"`);
    } catch (err) {
      if (!(err instanceof ModemAtError)) throw err;
      const after = await query(at);
      if (err.cmeError === 16 || after === 'pin-required' || after === 'puk-required') {
        return { state: after, unlockedWithPin: false, problem: problem(new ModemSimPinWrongError()) };
      }
      throw err;
    }
    state = await query(at);
    for (let i = 0; state !== 'ready' && i < READY_POLLS; i++) {
      await sleep(READY_POLL_MS);
      state = await query(at);
    }
    return { state, unlockedWithPin: state === 'ready' };
  }
  const status: SimStatus = { state, unlockedWithPin: false };
  if (state === 'pin-required') status.problem = problem(new ModemSimPinRequiredError());
  else if (state === 'puk-required') status.problem = problem(new ModemSimPukRequiredError());
  else if (state === 'missing') status.problem = problem(new ModemSimMissingError());
  return status;
}
