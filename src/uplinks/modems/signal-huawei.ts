/**
 * Huawei AT^HCSQ? (ME909s AT command interface specification): the serving
 * system and its figures as bucket numbers, 255 for "unknown".
 *
 *   ^HCSQ: "LTE",<rssi>,<rsrp>,<sinr>,<rsrq>
 *   ^HCSQ: "WCDMA",<rssi>,<rscp>,<ecio>
 *   ^HCSQ: "GSM",<rssi>
 *   ^HCSQ: "NOSERVICE"
 */
import { afterPrefix, assignDefined, intField, splitFields } from './at-fields.js';
import type { CellSignal, ExtendedSignal } from './signal-types.js';

const UNKNOWN = 255;

/** Each bucket's lower edge: n=1 is [-120, -119) dBm for RSSI/RSCP, [-140, -139) for RSRP; and so on. */
function scale(raw: string | undefined, max: number, at1: number, step: number): number | undefined {
  const n = intField(raw);
  if (n === undefined || n === UNKNOWN || n < 0 || n > max) return undefined;
  const value = at1 + (n - 1) * step;
  return Math.round(value * 10) / 10;
}

export const hcsq = {
  rssiDbm: (raw: string | undefined) => scale(raw, 96, -120, 1),
  rsrpDbm: (raw: string | undefined) => scale(raw, 97, -140, 1),
  sinrDb: (raw: string | undefined) => scale(raw, 251, -20, 0.2),
  rsrqDb: (raw: string | undefined) => scale(raw, 34, -19.5, 0.5),
  rscpDbm: (raw: string | undefined) => scale(raw, 96, -120, 1),
  ecioDb: (raw: string | undefined) => scale(raw, 65, -32, 0.5),
};

export function parseHuaweiHcsq(lines: readonly string[]): ExtendedSignal | undefined {
  let f: string[] | undefined;
  for (const l of lines) {
    const rest = afterPrefix(l, '^HCSQ:');
    if (rest !== undefined) f = splitFields(rest);
  }
  if (!f) return undefined;
  const sysmode = (f[0] ?? '').toUpperCase();
  const out = (tech: ExtendedSignal['tech'], cells: CellSignal[]): ExtendedSignal => ({ parser: 'huawei-hcsq', tech, cells });
  switch (sysmode) {
    case 'LTE':
      return out('LTE', [
        assignDefined<CellSignal>(
          { rat: 'LTE' },
          { rssiDbm: hcsq.rssiDbm(f[1]), rsrpDbm: hcsq.rsrpDbm(f[2]), sinrDb: hcsq.sinrDb(f[3]), rsrqDb: hcsq.rsrqDb(f[4]) },
        ),
      ]);
    case 'WCDMA':
      return out('WCDMA', [
        assignDefined<CellSignal>(
          { rat: 'WCDMA' },
          { rssiDbm: hcsq.rssiDbm(f[1]), rscpDbm: hcsq.rscpDbm(f[2]), ecioDb: hcsq.ecioDb(f[3]) },
        ),
      ]);
    case 'GSM':
      return out('GSM', [assignDefined<CellSignal>({ rat: 'GSM' }, { rssiDbm: hcsq.rssiDbm(f[1]) })]);
    case 'NOSERVICE':
      return out('none', []);
    default:
      return out('unknown', []);
  }
}
