/**
 * The network: operator and access technology (AT+COPS?, TS 27.007 §7.3)
 * and registration in each domain the profile lists (AT+CREG?, AT+CEREG?,
 * AT+C5GREG?).
 */
import { intField, prefixedFields, textField } from './at-fields.js';
import type { AtCommander } from './commander.js';
import { ModemAtError } from './errors.js';
import {
  overallRegistration,
  parseRegistration,
  REGISTRATION_COMMANDS,
  REGISTRATION_PREFIXES,
  type RegistrationDomain,
  type RegistrationInfo,
  type RegistrationState,
} from './registration.js';

export type AccessTechnology =
  | 'GSM'
  | 'GSM-EDGE'
  | 'UMTS'
  | 'HSPA'
  | 'LTE'
  | 'LTE-M'
  | 'NB-IoT'
  | 'LTE-5GC'
  | 'NR5G-SA'
  | 'NR5G-NSA'
  | 'unknown';

/** TS 27.007 §7.3 <AcT>. Many modems say 7 (E-UTRAN) on EN-DC; the serving-cell query tells NSA apart. */
export function accessTechnologyFromAct(act: number): AccessTechnology {
  switch (act) {
    case 0:
    case 1:
      return 'GSM';
    case 3:
      return 'GSM-EDGE';
    case 2:
      return 'UMTS';
    case 4:
    case 5:
    case 6:
      return 'HSPA';
    case 7:
      return 'LTE';
    case 8:
      return 'LTE-M';
    case 9:
      return 'NB-IoT';
    case 10:
      return 'LTE-5GC';
    case 11:
    case 12:
      return 'NR5G-SA';
    case 13:
      return 'NR5G-NSA';
    default:
      return 'unknown';
  }
}

export type OperatorMode = 'automatic' | 'manual' | 'deregistered' | 'manual-automatic' | 'unknown';

export interface OperatorInfo {
  mode: OperatorMode;
  /** The long alphanumeric name (after AT+COPS=3,0), or what the modem gave. */
  name?: string;
  act?: number;
  accessTechnology?: AccessTechnology;
}

const MODES: readonly OperatorMode[] = ['automatic', 'manual', 'deregistered', 'unknown', 'manual-automatic'];

/** `+COPS: 0,0,"Vodafone UK",7`; `+COPS: 0` when not registered. */
export function parseCops(lines: readonly string[]): OperatorInfo | undefined {
  const f = prefixedFields(lines, '+COPS:');
  const mode = intField(f?.[0]);
  if (!f || mode === undefined) return undefined;
  const info: OperatorInfo = { mode: MODES[mode] ?? 'unknown' };
  const name = textField(f[2]);
  const act = intField(f[3]);
  if (name !== undefined) info.name = name;
  if (act !== undefined) {
    info.act = act;
    info.accessTechnology = accessTechnologyFromAct(act);
  }
  return info;
}

export async function readOperator(at: AtCommander, refused: string[]): Promise<OperatorInfo | undefined> {
  // Format 0 is the long name; without it some modems answer the numeric MCC/MNC.
  const format = await at.exchange('AT+COPS=3,0');
  if (!format.ok) refused.push('AT+COPS=3,0');
  const reply = await at.exchange('AT+COPS?');
  if (!reply.ok) {
    refused.push('AT+COPS?');
    return undefined;
  }
  return parseCops(reply.lines);
}

export interface RegistrationReading {
  state: RegistrationState;
  domains: RegistrationInfo[];
}

export function parseRegistrationReply(domain: RegistrationDomain, lines: readonly string[]): RegistrationInfo | undefined {
  const prefix = REGISTRATION_PREFIXES[domain];
  // The solicited form has at least <n>,<stat>; a lone `+CREG: 1` beside it is a URC.
  for (const line of lines) {
    if (!line.toUpperCase().startsWith(prefix)) continue;
    const info = parseRegistration(domain, line.slice(prefix.length), true);
    if (info) return info;
  }
  return undefined;
}

export async function readRegistration(
  at: AtCommander,
  domains: readonly RegistrationDomain[],
  refused: string[],
): Promise<RegistrationReading> {
  const infos: RegistrationInfo[] = [];
  for (const d of domains) {
    try {
      const info = parseRegistrationReply(d, (await at.send(REGISTRATION_COMMANDS[d])).lines);
      if (info) infos.push(info);
    } catch (err) {
      if (!(err instanceof ModemAtError)) throw err;
      refused.push(REGISTRATION_COMMANDS[d]);
    }
  }
  return { state: overallRegistration(infos), domains: infos };
}
