import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LogRecord, setLogLevel, setLogSink } from '../../../../src/lib/logger.js';
import { setApn } from '../../../../src/uplinks/modems/apn.js';
import { AtChannel } from '../../../../src/uplinks/modems/at-channel.js';
import { parseCrsmIccid, parseIccid, parseImei } from '../../../../src/uplinks/modems/identity.js';
import { loadModemProfiles, type ModemProfile } from '../../../../src/uplinks/modems/profiles.js';
import { readModem } from '../../../../src/uplinks/modems/reader.js';
import { FakeTransport, tableModem } from './fake-transport.js';

const dir = mkdtempSync(path.join(tmpdir(), 'fieldcast-reader-'));
const DEVICE = path.join(dir, 'ttyUSB2');
writeFileSync(DEVICE, '');
let profiles: ModemProfile[];
beforeAll(async () => {
  profiles = await loadModemProfiles();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const IMEI = '867962041234567';
const ICCID = '89441000303123451234';

describe('identity replies', () => {
  it('reads IMEI and ICCID in each dialect', () => {
    expect(parseImei([IMEI])).toBe(IMEI);
    expect(parseImei([`+CGSN: "${IMEI}"`])).toBe(IMEI);
    expect(parseIccid([`+QCCID: ${ICCID}`])).toBe(ICCID);
    expect(parseIccid([`ICCID: ${ICCID}`])).toBe(ICCID);
    expect(parseIccid(['+CCID: "8944100030312345123F"'])).toBe('8944100030312345123');
    // Huawei ^ICCID and +CRSM give EF_ICCID as stored: nibbles swapped.
    expect(parseIccid(['^ICCID: 98141000133021431532'])).toBe('89410100310312345123');
    expect(parseCrsmIccid(['+CRSM: 144,0,"98141000133021431532"'])).toBe('89410100310312345123');
    expect(parseIccid(['+CME ERROR: 10'])).toBeUndefined();
  });
});

function ec25(pinState: { locked: boolean }): Record<string, string[] | string> {
  return {
    'AT+CGMI': ['Quectel', 'OK'],
    'AT+CGMM': ['EC25', 'OK'],
    'AT+CGMR': ['Revision: EC25EFAR06A09M4G', 'OK'],
    'AT+CGSN': [IMEI, 'OK'],
    get 'AT+CPIN?'() {
      return [pinState.locked ? '+CPIN: SIM PIN' : '+CPIN: READY', 'OK'];
    },
    'AT+QCCID': [`+QCCID: ${ICCID}`, 'OK'],
    'AT+COPS?': ['+COPS: 0,0,"Vodafone UK",7', 'OK'],
    'AT+CREG?': ['+CREG: 0,1', 'OK'],
    'AT+CEREG?': ['+CEREG: 0,1', '+CREG: 1', 'OK'],
    'AT+CSQ': ['+CSQ: 20,99', 'OK'],
    'AT+QENG="servingcell"': ['+QENG: "servingcell","NOCONN","LTE","FDD",234,15,1A2B3C4,310,1300,3,5,5,2B0D,-95,-10,-65,140,38', 'OK'],
  };
}

describe('readModem', () => {
  it('reads a Quectel EC25, unlocking its SIM with the PIN, which no log line holds', async () => {
    const pin = { locked: true };
    const table = ec25(pin);
    const respond = tableModem(table);
    const t = new FakeTransport(DEVICE, (cmd) => {
      if (cmd === 'AT+CPIN="2468"') pin.locked = false;
      return respond(cmd);
    });
    const records: LogRecord[] = [];
    setLogLevel('debug');
    setLogSink((r) => records.push(r));
    const c = await AtChannel.open({ path: DEVICE, openTransport: async () => t });
    try {
      const r = await readModem(c, { port: DEVICE, profiles, pin: '2468', now: () => 42 });
      expect(r).toMatchObject({
        profile: 'quectel-ec25',
        identity: { manufacturer: 'Quectel', model: 'EC25', firmware: 'EC25EFAR06A09M4G', imei: IMEI, iccid: ICCID },
        sim: { state: 'ready', unlockedWithPin: true },
        operator: { name: 'Vodafone UK', accessTechnology: 'LTE' },
        registration: { state: 'home' },
        signal: { csq: { rssiDbm: -73 }, extended: { tech: 'LTE', cells: [{ band: 'B3', rsrpDbm: -95, sinrDb: 8 }] } },
        networkMode: { kind: 'ecm' },
        refused: [],
        readAt: 42,
      });
      expect(t.written).toContain('AT+CPIN="2468"');
      const logged = JSON.stringify(records);
      expect(logged).toContain('AT+CPIN=[redacted]');
      expect(logged).not.toContain('2468');
      expect(logged).not.toContain(IMEI);
      expect(logged).not.toContain(ICCID);
    } finally {
      setLogSink(undefined);
      setLogLevel('warn');
      await c.close();
    }
  });

  it('reports a locked SIM without a PIN, and a wrong PIN, which it does not retry', async () => {
    const pin = { locked: true };
    const table = { ...ec25(pin), 'AT+CPIN="1111"': '+CME ERROR: 16' };
    const t = new FakeTransport(DEVICE, tableModem(table));
    const c = await AtChannel.open({ path: DEVICE, openTransport: async () => t });
    try {
      const none = await readModem(c, { port: DEVICE, profiles });
      expect(none.sim).toMatchObject({ state: 'pin-required', problem: { code: 'MODEM_SIM_PIN_REQUIRED' } });
      const wrong = await readModem(c, { port: DEVICE, profiles, pin: '1111' });
      expect(wrong.sim).toMatchObject({ state: 'pin-required', unlockedWithPin: false, problem: { code: 'MODEM_SIM_PIN_WRONG' } });
      expect(t.written.filter((w) => w.startsWith('AT+CPIN="'))).toHaveLength(1);
      expect(JSON.stringify(wrong)).not.toContain('1111');
    } finally {
      await c.close();
    }
  });

  it('reads what a generic modem has and lists what it refused', async () => {
    const t = new FakeTransport(
      DEVICE,
      tableModem({
        'AT+CGMI': ['Telit', 'OK'],
        'AT+CGMM': ['LM960', 'OK'],
        'AT+CGSN': [IMEI, 'OK'],
        'AT+CPIN?': ['+CPIN: READY', 'OK'],
        'AT+CCID': 'ERROR',
        'AT+CRSM=176,12258,0,0,10': ['+CRSM: 144,0,"98141000133021431532"', 'OK'],
        'AT+C5GREG?': 'ERROR',
        'AT+CEREG?': ['+CEREG: 0,5', 'OK'],
        'AT+COPS?': ['+COPS: 0,0,"Roamer",7', 'OK'],
        'AT+CSQ': ['+CSQ: 99,99', 'OK'],
      }),
    );
    const c = await AtChannel.open({ path: DEVICE, openTransport: async () => t });
    try {
      const r = await readModem(c, { port: DEVICE, profiles });
      expect(r.profile).toBe('generic');
      expect(r.identity.iccid).toBe('89410100310312345123');
      expect(r.registration.state).toBe('roaming');
      expect(r.signal).toEqual({ csq: { raw: 99 } });
      expect(r.refused).toEqual(['AT+CCID', 'AT+C5GREG?']);
    } finally {
      await c.close();
    }
  });

  it('sets the APN of context 1, and rejects one that is not an APN', async () => {
    const t = new FakeTransport(DEVICE, tableModem({}));
    const c = await AtChannel.open({ path: DEVICE, openTransport: async () => t });
    try {
      await setApn(c, 'internet.example.net');
      expect(t.written.at(-1)).toBe('AT+CGDCONT=1,"IP","internet.example.net"');
      await expect(setApn(c, 'bad"apn')).rejects.toThrow(/not an APN/);
    } finally {
      await c.close();
    }
  });
});
