/**
 * Network registration as +CREG (circuit-switched), +CEREG (EPS, LTE) and
 * +C5GREG (5GS) report it, solicited or unsolicited — 3GPP TS 27.007 §7.2,
 * §10.1.22 and §10.1.49.
 */
import { intField, splitFields, textField } from './at-fields.js';

export type RegistrationState = 'home' | 'roaming' | 'searching' | 'denied' | 'not-registered' | 'emergency-only' | 'unknown';

/** `cs`: +CREG, `eps`: +CEREG, `5gs`: +C5GREG. */
export type RegistrationDomain = 'cs' | 'eps' | '5gs';

export const REGISTRATION_COMMANDS: Readonly<Record<RegistrationDomain, string>> = {
  cs: 'AT+CREG?',
  eps: 'AT+CEREG?',
  '5gs': 'AT+C5GREG?',
};

export const REGISTRATION_PREFIXES: Readonly<Record<RegistrationDomain, string>> = {
  cs: '+CREG:',
  eps: '+CEREG:',
  '5gs': '+C5GREG:',
};

export interface RegistrationInfo {
  domain: RegistrationDomain;
  state: RegistrationState;
  /** The <stat> number as the modem sent it. */
  stat: number;
  /** Location/tracking area code, hex as sent. */
  areaCode?: string;
  /** Cell id, hex as sent. */
  cellId?: string;
  /** The <AcT> number (see accessTechnologyFromAct). */
  act?: number;
}

/** TS 27.007 <stat>: 6/7 are "SMS only", 9/10 "CSFB not preferred" — registered all the same for data. */
export function registrationState(stat: number): RegistrationState {
  switch (stat) {
    case 1:
    case 6:
    case 9:
      return 'home';
    case 5:
    case 7:
    case 10:
      return 'roaming';
    case 2:
      return 'searching';
    case 3:
      return 'denied';
    case 0:
      return 'not-registered';
    case 8:
    case 11:
      return 'emergency-only';
    default:
      return 'unknown';
  }
}

/**
 * Decodes the text after the prefix. The solicited reply to `AT+CREG?`
 * starts with <n> (the URC mode), the unsolicited one with <stat>.
 */
export function parseRegistration(domain: RegistrationDomain, text: string, solicited: boolean): RegistrationInfo | undefined {
  const f = splitFields(text);
  const at = solicited ? 1 : 0;
  const stat = intField(f[at]);
  if (stat === undefined) return undefined;
  const info: RegistrationInfo = { domain, state: registrationState(stat), stat };
  const area = textField(f[at + 1]);
  const cell = textField(f[at + 2]);
  const act = intField(f[at + 3]);
  if (area !== undefined) info.areaCode = area;
  if (cell !== undefined) info.cellId = cell;
  if (act !== undefined) info.act = act;
  return info;
}

const RANK: Readonly<Record<RegistrationState, number>> = {
  home: 6,
  roaming: 5,
  'emergency-only': 4,
  searching: 3,
  denied: 2,
  'not-registered': 1,
  unknown: 0,
};

/** The modem's registration for data: the best of its domains (LTE home with CS denied is still home). */
export function overallRegistration(infos: readonly RegistrationInfo[]): RegistrationState {
  let best: RegistrationState = 'unknown';
  for (const i of infos) if (RANK[i.state] > RANK[best]) best = i.state;
  return best;
}

export function isRegistered(state: RegistrationState): boolean {
  return state === 'home' || state === 'roaming';
}
