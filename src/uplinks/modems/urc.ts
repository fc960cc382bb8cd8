/**
 * Unsolicited result codes: what a modem says by itself, between replies or
 * in the middle of one (registration changes, RING, signal reports, SIM and
 * boot notices). They are told apart from a reply by their prefix; a line
 * with the prefix of the command being answered is that command's reply.
 */
import { afterPrefix } from './at-fields.js';
import { parseRegistration, type RegistrationDomain, type RegistrationInfo } from './registration.js';

export type ModemUrc =
  | { kind: 'registration'; name: string; line: string; registration: RegistrationInfo }
  | { kind: 'ring'; name: string; line: string }
  | { kind: 'sim'; name: string; line: string }
  | { kind: 'signal'; name: string; line: string }
  | { kind: 'ready'; name: string; line: string }
  | { kind: 'other'; name: string; line: string };

type UrcKind = ModemUrc['kind'];

/** Prefixes of URCs from TS 27.007 and the Quectel, Sierra and Huawei manuals. */
const URC_PREFIXES: ReadonlyArray<readonly [string, UrcKind]> = [
  ['+CREG:', 'registration'],
  ['+CGREG:', 'registration'],
  ['+CEREG:', 'registration'],
  ['+C5GREG:', 'registration'],
  ['RING', 'ring'],
  ['+CRING:', 'ring'],
  ['+CLIP:', 'ring'],
  ['+CPIN:', 'sim'],
  ['+QUSIM:', 'sim'],
  ['^SIMST:', 'sim'],
  ['+CSQ:', 'signal'],
  ['^RSSI:', 'signal'],
  ['^HCSQ:', 'signal'],
  ['^CERSSI:', 'signal'],
  ['RDY', 'ready'],
  ['^SYSSTART', 'ready'],
  ['+CFUN:', 'ready'],
  ['+QIND:', 'other'],
  ['^MODE:', 'other'],
  ['^BOOT:', 'other'],
  ['^SRVST:', 'other'],
  ['^NDISSTAT:', 'other'],
  ['^DSFLOWRPT:', 'other'],
  ['+CMTI:', 'other'],
  ['+CMT:', 'other'],
  ['+CDS:', 'other'],
  ['+CBM:', 'other'],
  ['+CUSD:', 'other'],
  ['+CGEV:', 'other'],
  ['+CTZV:', 'other'],
  ['+CTZE:', 'other'],
  ['+QNETDEVSTATUS:', 'other'],
  ['POWERED DOWN', 'ready'],
];

const REG_DOMAIN: Readonly<Record<string, RegistrationDomain>> = {
  '+CREG:': 'cs',
  '+CGREG:': 'cs',
  '+CEREG:': 'eps',
  '+C5GREG:': '5gs',
};

/** The URC prefix `line` starts with, if any. */
export function urcPrefix(line: string): string | undefined {
  const upper = line.toUpperCase();
  for (const [prefix] of URC_PREFIXES) if (upper.startsWith(prefix)) return prefix;
  return undefined;
}

/** A typed URC for a line (any line that arrives outside a reply is one; unknown ones are `other`). */
export function decodeUrc(line: string): ModemUrc {
  const prefix = urcPrefix(line);
  if (prefix === undefined) return { kind: 'other', name: line.split(/[:\s]/, 1)[0] ?? line, line };
  const name = prefix.replace(/:$/, '');
  const kind = URC_PREFIXES.find(([p]) => p === prefix)![1];
  if (kind === 'registration') {
    const domain = REG_DOMAIN[prefix]!;
    const registration = parseRegistration(domain, afterPrefix(line, prefix) ?? '', false);
    if (registration) return { kind, name, line, registration };
    return { kind: 'other', name, line };
  }
  return { kind, name, line };
}
