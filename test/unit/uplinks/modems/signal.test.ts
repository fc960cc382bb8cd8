import { describe, expect, it } from 'vitest';
import { csqToDbm, parseCsq, parseExtendedSignal } from '../../../../src/uplinks/modems/signal.js';
import { parseHuaweiHcsq } from '../../../../src/uplinks/modems/signal-huawei.js';
import { parseQuectelServingCell } from '../../../../src/uplinks/modems/signal-quectel.js';
import { gstatusPairs, parseSierraGstatus } from '../../../../src/uplinks/modems/signal-sierra.js';

describe('AT+CSQ', () => {
  it('maps <rssi> to dBm as TS 27.007 §8.5 says, 99 unknown', () => {
    expect(csqToDbm(0)).toBe(-113);
    expect(csqToDbm(1)).toBe(-111);
    expect(csqToDbm(20)).toBe(-73);
    expect(csqToDbm(31)).toBe(-51);
    expect(csqToDbm(99)).toBeUndefined();
    expect(parseCsq(['+CSQ: 99,99'])).toEqual({ raw: 99 });
    expect(parseCsq(['+CSQ: 24,0'])).toEqual({ raw: 24, rssiDbm: -65, ber: 0 });
    expect(parseCsq(['garbage'])).toBeUndefined();
  });
});

describe('Quectel AT+QENG="servingcell"', () => {
  it('reads an EC25 LTE cell, SINR in 1/5 dB', () => {
    const s = parseQuectelServingCell(['+QENG: "servingcell","NOCONN","LTE","FDD",234,15,1A2B3C4,310,1300,3,5,5,2B0D,-95,-10,-65,140,38'], {
      lteSinr: 'fifth-db',
    });
    expect(s).toEqual({
      parser: 'quectel-qeng',
      tech: 'LTE',
      state: 'NOCONN',
      cells: [
        {
          rat: 'LTE',
          mcc: '234',
          mnc: '15',
          cellId: '1A2B3C4',
          pci: 310,
          channel: 1300,
          band: 'B3',
          areaCode: '2B0D',
          rsrpDbm: -95,
          rsrqDb: -10,
          rssiDbm: -65,
          sinrDb: 8,
        },
      ],
    });
  });

  it('reads an NR5G-SA cell', () => {
    const s = parseQuectelServingCell(
      ['+QENG: "servingcell","NOCONN","NR5G-SA","TDD", 202,01,12AA54086,262,15EC,634080,78,7,-92,-11,18,1,-'],
      {
        lteSinr: 'db',
      },
    );
    expect(s?.tech).toBe('NR5G-SA');
    expect(s?.cells).toEqual([
      {
        rat: 'NR5G',
        mcc: '202',
        mnc: '01',
        cellId: '12AA54086',
        pci: 262,
        areaCode: '15EC',
        channel: 634080,
        band: 'n78',
        rsrpDbm: -92,
        rsrqDb: -11,
        sinrDb: 18,
      },
    ]);
  });

  it('reads NR5G-NSA as the LTE anchor and the NR leg', () => {
    const s = parseQuectelServingCell(
      [
        '+QENG: "servingcell","CONNECT"',
        '+QENG: "LTE","FDD",262,01,1929500,321,1300,3,5,5,34BA,-75,-7,-48,25,15,100,-',
        '+QENG: "NR5G-NSA",262,01,774,-82,30,-11,431070,1,3,0',
      ],
      { lteSinr: 'db' },
    );
    expect(s?.tech).toBe('NR5G-NSA');
    expect(s?.state).toBe('CONNECT');
    expect(s?.cells[0]).toMatchObject({ rat: 'LTE', band: 'B3', rsrpDbm: -75, rsrqDb: -7, sinrDb: 25, cellId: '1929500' });
    expect(s?.cells[1]).toEqual({
      rat: 'NR5G',
      mcc: '262',
      mnc: '01',
      pci: 774,
      rsrpDbm: -82,
      sinrDb: 30,
      rsrqDb: -11,
      channel: 431070,
      band: 'n1',
    });
  });

  it('says "none" while searching, and ignores what is not a QENG reply', () => {
    expect(parseQuectelServingCell(['+QENG: "servingcell","SEARCH"'], { lteSinr: 'db' })).toEqual({
      parser: 'quectel-qeng',
      tech: 'none',
      state: 'SEARCH',
      cells: [],
    });
    expect(parseQuectelServingCell(['OK'], { lteSinr: 'db' })).toBeUndefined();
  });
});

const GSTATUS = [
  '!GSTATUS:',
  'Current Time:  4561\t\tTemperature: 41',
  'Reset Counter: 1\t\tMode:        ONLINE',
  'System mode:   LTE        \tPS state:    Attached',
  'LTE band:      B3     \t\tLTE bw:      20 MHz',
  'LTE Rx chan:   1300\t\tLTE Tx chan: 19300',
  'LTE CA state:  NOT ASSIGNED',
  'EMM state:     Registered     \tNormal Service',
  'RRC state:     RRC Connected',
  'PCC RxM RSSI:  -62\t\tRSRP (dBm):  -91',
  'PCC RxD RSSI:  -66\t\tRSRP (dBm):  -95',
  'Tx Power:      0\t\tTAC:         B4F1 (46321)',
  'RSRQ (dB):     -10.0\t\tCell ID:     0164A20F (23372303)',
  'SINR (dB):     12.4',
];

describe('Sierra AT!GSTATUS?', () => {
  it('reads the LTE table, the main antenna’s RSRP first', () => {
    expect(parseSierraGstatus(GSTATUS)).toEqual({
      parser: 'sierra-gstatus',
      tech: 'LTE',
      state: 'ONLINE',
      cells: [
        {
          rat: 'LTE',
          band: 'B3',
          channel: 1300,
          rssiDbm: -62,
          rsrpDbm: -91,
          rsrqDb: -10,
          sinrDb: 12.4,
          areaCode: 'B4F1',
          cellId: '0164A20F',
        },
      ],
    });
  });

  it('splits columns padded with spaces as well as tabs', () => {
    const p = gstatusPairs(['System mode:   LTE          PS state:    Attached']);
    expect(p.get('system mode')).toBe('LTE');
    expect(p.get('ps state')).toBe('Attached');
  });

  it('has no cells without service', () => {
    expect(parseSierraGstatus(['!GSTATUS:', 'System mode:   No service\tPS state:    Not attached'])?.tech).toBe('none');
  });
});

describe('Huawei AT^HCSQ?', () => {
  it('scales the LTE buckets to dBm and dB', () => {
    // rssi 50 → -71 dBm, rsrp 45 → -96 dBm, sinr 151 → 10 dB, rsrq 23 → -8.5 dB
    expect(parseHuaweiHcsq(['^HCSQ: "LTE",50,45,151,23'])).toEqual({
      parser: 'huawei-hcsq',
      tech: 'LTE',
      cells: [{ rat: 'LTE', rssiDbm: -71, rsrpDbm: -96, sinrDb: 10, rsrqDb: -8.5 }],
    });
  });

  it('treats 255 as unknown and reads NOSERVICE and WCDMA', () => {
    expect(parseHuaweiHcsq(['^HCSQ: "LTE",255,255,255,255'])?.cells).toEqual([{ rat: 'LTE' }]);
    expect(parseHuaweiHcsq(['^HCSQ: "NOSERVICE"'])?.tech).toBe('none');
    expect(parseHuaweiHcsq(['^HCSQ: "WCDMA",30,30,40'])?.cells).toEqual([{ rat: 'WCDMA', rssiDbm: -91, rscpDbm: -91, ecioDb: -12.5 }]);
  });
});

describe('parseExtendedSignal', () => {
  it('dispatches on the profile’s parser name', () => {
    expect(parseExtendedSignal({ command: 'AT^HCSQ?', parser: 'huawei-hcsq', lteSinr: 'db' }, ['^HCSQ: "NOSERVICE"'])?.parser).toBe(
      'huawei-hcsq',
    );
    expect(parseExtendedSignal({ command: 'AT!GSTATUS?', parser: 'sierra-gstatus', lteSinr: 'db' }, GSTATUS)?.tech).toBe('LTE');
  });
});
