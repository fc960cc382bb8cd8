/**
 * Quectel AT+QENG="servingcell" (Quectel EC25 and RG50xQ/RM5xxQ AT manuals).
 *
 *   LTE:      +QENG: "servingcell",<state>,"LTE",<is_tdd>,<MCC>,<MNC>,<cellID>,<PCID>,<earfcn>,<band>,<ul_bw>,<dl_bw>,<TAC>,<RSRP>,<RSRQ>,<RSSI>,<SINR>,…
 *   NR5G-SA:  +QENG: "servingcell",<state>,"NR5G-SA",<duplex>,<MCC>,<MNC>,<cellID>,<PCID>,<TAC>,<ARFCN>,<band>,<bw>,<RSRP>,<RSRQ>,<SINR>,…
 *   NR5G-NSA: +QENG: "servingcell",<state>
 *             +QENG: "LTE",<is_tdd>,<MCC>,<MNC>,<cellID>,<PCID>,<earfcn>,<band>,<ul_bw>,<dl_bw>,<TAC>,<RSRP>,<RSRQ>,<RSSI>,<SINR>,…
 *             +QENG: "NR5G-NSA",<MCC>,<MNC>,<PCID>,<RSRP>,<SINR>,<RSRQ>,<ARFCN>,<band>,…
 *   WCDMA:    +QENG: "servingcell",<state>,"WCDMA",<MCC>,<MNC>,<LAC>,<cellID>,<uarfcn>,<PSC>,<RAC>,<RSCP>,<ecio>,…
 */
import { afterPrefix, assignDefined, intField, numberField, splitFields, textField } from './at-fields.js';
import type { CellSignal, ExtendedSignal, RadioTech } from './signal-types.js';

export interface QuectelOptions {
  /** EC2x: 1/5 dB steps from -20 dB (0–250); RM5xx: dB. */
  lteSinr: 'db' | 'fifth-db';
}

function lteSinr(raw: string | undefined, scale: QuectelOptions['lteSinr']): number | undefined {
  const n = numberField(raw);
  if (n === undefined) return undefined;
  return scale === 'fifth-db' ? Math.round((n / 5 - 20) * 10) / 10 : n;
}

/** LTE fields from <is_tdd> on (the same in the single-line and the NSA layouts). */
function lteCell(f: readonly string[], scale: QuectelOptions['lteSinr']): CellSignal {
  const band = textField(f[6]);
  return assignDefined<CellSignal>(
    { rat: 'LTE' },
    {
      mcc: textField(f[1]),
      mnc: textField(f[2]),
      cellId: textField(f[3]),
      pci: intField(f[4]),
      channel: intField(f[5]),
      band: band !== undefined ? `B${band}` : undefined,
      areaCode: textField(f[9]),
      rsrpDbm: numberField(f[10]),
      rsrqDb: numberField(f[11]),
      rssiDbm: numberField(f[12]),
      sinrDb: lteSinr(f[13], scale),
    },
  );
}

function nrSaCell(f: readonly string[]): CellSignal {
  const band = textField(f[7]);
  return assignDefined<CellSignal>(
    { rat: 'NR5G' },
    {
      mcc: textField(f[1]),
      mnc: textField(f[2]),
      cellId: textField(f[3]),
      pci: intField(f[4]),
      areaCode: textField(f[5]),
      channel: intField(f[6]),
      band: band !== undefined ? `n${band}` : undefined,
      rsrpDbm: numberField(f[9]),
      rsrqDb: numberField(f[10]),
      sinrDb: numberField(f[11]),
    },
  );
}

function nrNsaCell(f: readonly string[]): CellSignal {
  const band = textField(f[8]);
  return assignDefined<CellSignal>(
    { rat: 'NR5G' },
    {
      mcc: textField(f[1]),
      mnc: textField(f[2]),
      pci: intField(f[3]),
      rsrpDbm: numberField(f[4]),
      sinrDb: numberField(f[5]),
      rsrqDb: numberField(f[6]),
      channel: intField(f[7]),
      band: band !== undefined ? `n${band}` : undefined,
    },
  );
}

function wcdmaCell(f: readonly string[]): CellSignal {
  return assignDefined<CellSignal>(
    { rat: 'WCDMA' },
    {
      mcc: textField(f[0]),
      mnc: textField(f[1]),
      areaCode: textField(f[2]),
      cellId: textField(f[3]),
      channel: intField(f[4]),
      rscpDbm: numberField(f[7]),
      ecioDb: numberField(f[8]),
    },
  );
}

export function parseQuectelServingCell(lines: readonly string[], opts: QuectelOptions): ExtendedSignal | undefined {
  const rows = lines.flatMap((l) => {
    const rest = afterPrefix(l, '+QENG:');
    return rest === undefined ? [] : [splitFields(rest)];
  });
  const head = rows.find((r) => r[0]?.toLowerCase() === 'servingcell');
  if (!head) return undefined;
  const state = textField(head[1]);
  const rat = textField(head[2])?.toUpperCase();
  const out = (tech: RadioTech, cells: CellSignal[]): ExtendedSignal =>
    assignDefined<ExtendedSignal>({ parser: 'quectel-qeng', tech, cells }, { state });

  if (rat === undefined) {
    // EN-DC (NSA) splits the cells over lines of their own; SEARCH/LIMSRV have none.
    const lte = rows.find((r) => r[0]?.toUpperCase() === 'LTE');
    const nr = rows.find((r) => r[0]?.toUpperCase() === 'NR5G-NSA');
    const cells: CellSignal[] = [];
    if (lte) cells.push(lteCell(lte.slice(1), opts.lteSinr));
    if (nr) cells.push(nrNsaCell(nr));
    if (nr) return out('NR5G-NSA', cells);
    if (lte) return out('LTE', cells);
    return out('none', []);
  }
  const body = head.slice(3);
  switch (rat) {
    case 'LTE':
      return out('LTE', [lteCell(body, opts.lteSinr)]);
    case 'NR5G-SA':
      return out('NR5G-SA', [nrSaCell(body)]);
    case 'WCDMA':
      return out('WCDMA', [wcdmaCell(body)]);
    case 'GSM':
      return out('GSM', [assignDefined<CellSignal>({ rat: 'GSM' }, { mcc: textField(body[0]), mnc: textField(body[1]) })]);
    default:
      return out('unknown', []);
  }
}
