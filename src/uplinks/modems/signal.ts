/**
 * Signal: AT+CSQ, which every modem answers (TS 27.007 §8.5), and the
 * vendor's richer serving-cell query named by its profile (RSRP, RSRQ, SINR,
 * band, cell). The vendor parsers live beside this file, one per dialect.
 */
import { intField, prefixedFields } from './at-fields.js';
import type { ModemSignalConfig } from './profiles.js';
import { parseHuaweiHcsq } from './signal-huawei.js';
import { parseQuectelServingCell } from './signal-quectel.js';
import { parseSierraGstatus } from './signal-sierra.js';
import type { ExtendedSignal } from './signal-types.js';

export type { CellSignal, ExtendedSignal, RadioTech } from './signal-types.js';

export interface CsqSignal {
  /** The <rssi> number as sent (0–31, 99). */
  raw: number;
  /** Undefined when the modem says 99, "not known or not detectable". */
  rssiDbm?: number;
  ber?: number;
}

/** TS 27.007 §8.5: 0 is -113 dBm or less, 31 is -51 dBm or more, 2 dB a step; 100–191 the TD-SCDMA scale from -116 dBm. */
export function csqToDbm(rssi: number): number | undefined {
  if (rssi >= 0 && rssi <= 31) return -113 + 2 * rssi;
  if (rssi >= 100 && rssi <= 191) return rssi - 216;
  return undefined;
}

export function parseCsq(lines: readonly string[]): CsqSignal | undefined {
  const f = prefixedFields(lines, '+CSQ:');
  const raw = intField(f?.[0]);
  if (raw === undefined) return undefined;
  const out: CsqSignal = { raw };
  const dbm = csqToDbm(raw);
  if (dbm !== undefined) out.rssiDbm = dbm;
  const ber = intField(f?.[1]);
  if (ber !== undefined && ber !== 99) out.ber = ber;
  return out;
}

/** The reply of the profile's signal command, read by its parser; undefined when it says nothing usable. */
export function parseExtendedSignal(config: ModemSignalConfig, lines: readonly string[]): ExtendedSignal | undefined {
  switch (config.parser) {
    case 'quectel-qeng':
      return parseQuectelServingCell(lines, { lteSinr: config.lteSinr });
    case 'sierra-gstatus':
      return parseSierraGstatus(lines);
    case 'huawei-hcsq':
      return parseHuaweiHcsq(lines);
  }
}
