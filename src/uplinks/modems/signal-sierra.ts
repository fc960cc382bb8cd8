/**
 * Sierra Wireless AT!GSTATUS? (EM74xx/MC74xx AT command reference): a
 * table of `Key: value` pairs, two to a line, separated by tabs.
 *
 *   System mode:   LTE        	PS state:    Attached
 *   LTE band:      B3     		LTE bw:      20 MHz
 *   PCC RxM RSSI:  -62		RSRP (dBm):  -91
 *   RSRQ (dB):     -10.0		Cell ID:     0164A20F (23372303)
 *   SINR (dB):     12.4
 */
import { assignDefined, intField, numberField } from './at-fields.js';
import type { CellSignal, ExtendedSignal, RadioTech } from './signal-types.js';

/** Splits the table into pairs; the first of a repeated key wins (RxM, the main antenna, comes before RxD). */
export function gstatusPairs(lines: readonly string[]): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const line of lines) {
    if (/^!GSTATUS:\s*$/i.test(line)) continue;
    // Columns are tab-separated; some firmware pads with spaces instead.
    for (const part of line.split(/\t+|\s{2,}(?=[A-Za-z][\w()/.-]*(?: [\w()/.-]+)*\s*:)/)) {
      const m = /^\s*([^:]+?)\s*:\s*(.*?)\s*$/.exec(part);
      if (m && !pairs.has(m[1]!.toLowerCase())) pairs.set(m[1]!.toLowerCase(), m[2]!);
    }
  }
  return pairs;
}

/** `0164A20F (23372303)` → `0164A20F`. */
function hexPart(v: string | undefined): string | undefined {
  const m = v === undefined ? null : /^([0-9A-Fa-f]+)/.exec(v);
  return m ? m[1] : undefined;
}

function tech(mode: string | undefined): RadioTech {
  const m = (mode ?? '').toUpperCase();
  if (m.startsWith('LTE')) return 'LTE';
  if (m.startsWith('WCDMA') || m.startsWith('HSPA') || m.startsWith('UMTS')) return 'WCDMA';
  if (m.startsWith('GSM') || m.startsWith('EDGE')) return 'GSM';
  if (m.includes('NO SERVICE') || m === 'NONE' || m === '') return 'none';
  return 'unknown';
}

export function parseSierraGstatus(lines: readonly string[]): ExtendedSignal | undefined {
  const p = gstatusPairs(lines);
  if (!p.has('system mode')) return undefined;
  const t = tech(p.get('system mode'));
  const out = assignDefined<ExtendedSignal>({ parser: 'sierra-gstatus', tech: t, cells: [] }, { state: p.get('mode') });
  if (t === 'LTE') {
    out.cells.push(
      assignDefined<CellSignal>(
        { rat: 'LTE' },
        {
          band: p.get('lte band')?.split(/\s/)[0],
          channel: intField(p.get('lte rx chan')),
          rssiDbm: numberField(p.get('pcc rxm rssi')),
          rsrpDbm: numberField(p.get('rsrp (dbm)')),
          rsrqDb: numberField(p.get('rsrq (db)')),
          sinrDb: numberField(p.get('sinr (db)')),
          areaCode: hexPart(p.get('tac')),
          cellId: hexPart(p.get('cell id')),
        },
      ),
    );
  } else if (t === 'WCDMA') {
    out.cells.push(
      assignDefined<CellSignal>(
        { rat: 'WCDMA' },
        {
          band: p.get('wcdma band'),
          channel: intField(p.get('wcdma channel')),
          rssiDbm: numberField(p.get('rssi (dbm)')),
          rscpDbm: numberField(p.get('rscp (dbm)')),
          ecioDb: numberField(p.get('ecio (db)')),
        },
      ),
    );
  }
  return out;
}
