/**
 * Who the modem is: maker, model and firmware (AT+CGMI, AT+CGMM, AT+CGMR,
 * TS 27.007 §5), its IMEI (AT+CGSN) and the SIM's ICCID (the profile's
 * command, or the EF_ICCID file read with AT+CRSM). The values are kept in
 * full here; whatever shows them masks them (masking.ts).
 */
import { afterPrefix, textField } from './at-fields.js';
import type { AtCommander } from './commander.js';
import { ModemAtError } from './errors.js';

export interface ModemIdentity {
  manufacturer?: string;
  model?: string;
  firmware?: string;
  imei?: string;
  iccid?: string;
}

/** The one value of a simple reply: `Quectel`, or `+CGMI: "Quectel"` on modems that prefix it. */
export function simpleValue(lines: readonly string[], prefix: string): string | undefined {
  const line = lines.find((l) => l.trim() !== '');
  if (line === undefined) return undefined;
  const v = (afterPrefix(line, prefix) ?? line).trim().replace(/^"(.*)"$/, '$1');
  return textField(v);
}

/** IMEI: 15 digits (14 + check digit, 3GPP TS 23.003 §6.2); some modems answer 16 (IMEISV). */
export function parseImei(lines: readonly string[]): string | undefined {
  for (const l of lines) {
    const m = /(?:^|\D)(\d{14,16})(?:\D|$)/.exec(l);
    if (m) return m[1];
  }
  return undefined;
}

/** EF_ICCID stores the digits nibble-swapped (ETSI TS 102 221 §13.2): `98...` read raw is `89...`. */
function swapNibbles(s: string): string {
  let out = '';
  for (let i = 0; i + 1 < s.length; i += 2) out += s[i + 1]! + s[i]!;
  return out;
}

/**
 * An ICCID from any of the dialects: `+CCID: 8944…`, `+QCCID: 8944…`,
 * `ICCID: 8944…` (Sierra), `^ICCID: 9844…` (Huawei, raw EF_ICCID), or the
 * bare digits. Every ICCID starts 89 (ITU-T E.118), so a raw read is told by
 * its 98; the padding F of a 19-digit ICCID is dropped.
 */
export function parseIccid(lines: readonly string[]): string | undefined {
  for (const l of lines) {
    const m = /([0-9A-Fa-f]{18,20})/.exec(l.replace(/^[+^!]?[A-Z]*ICCID:\s*/i, ''));
    if (!m) continue;
    let v = m[1]!.toUpperCase();
    if (v.startsWith('98') && v.length % 2 === 0) v = swapNibbles(v);
    v = v.replace(/F+$/, '');
    if (/^89\d{16,18}$/.test(v)) return v;
  }
  return undefined;
}

/** The +CRSM reply to READ BINARY of EF_ICCID (TS 27.007 §8.18): `+CRSM: 144,0,"98…"`; 144 is SW1 90, success. */
export function parseCrsmIccid(lines: readonly string[]): string | undefined {
  const line = lines.find((l) => /^\+CRSM:/i.test(l));
  const m = line ? /^\+CRSM:\s*144\s*,\s*0\s*,\s*"?([0-9A-Fa-f]+)"?/i.exec(line) : null;
  return m ? parseIccid([m[1]!]) : undefined;
}

/** READ BINARY (176) of EF_ICCID (file 2FE2 = 12258), 10 bytes. */
export const CRSM_READ_ICCID = 'AT+CRSM=176,12258,0,0,10';

/** The optional reads: a command the modem refuses leaves its field out and is noted. */
async function optional(at: AtCommander, command: string, refused: string[]): Promise<string[] | undefined> {
  try {
    return (await at.send(command)).lines;
  } catch (err) {
    if (err instanceof ModemAtError) {
      refused.push(command);
      return undefined;
    }
    throw err;
  }
}

export async function readIdentity(at: AtCommander, refused: string[]): Promise<ModemIdentity> {
  const id: ModemIdentity = {};
  const maker = await optional(at, 'AT+CGMI', refused);
  const model = await optional(at, 'AT+CGMM', refused);
  const fw = await optional(at, 'AT+CGMR', refused);
  const imei = await optional(at, 'AT+CGSN', refused);
  const m = maker && simpleValue(maker, '+CGMI:');
  const mo = model && simpleValue(model, '+CGMM:');
  const f = fw && simpleValue(fw, '+CGMR:');
  const i = imei && parseImei(imei);
  if (m) id.manufacturer = m;
  if (mo) id.model = mo;
  if (f) id.firmware = f.replace(/^Revision:\s*/i, '');
  if (i) id.imei = i;
  return id;
}

/** The ICCID by the profile's command, else from EF_ICCID (every 3GPP modem has +CRSM). */
export async function readIccid(at: AtCommander, command: string, refused: string[]): Promise<string | undefined> {
  const lines = await optional(at, command, refused);
  const iccid = lines && parseIccid(lines);
  if (iccid) return iccid;
  const raw = await optional(at, CRSM_READ_ICCID, refused);
  return raw && parseCrsmIccid(raw);
}
