import { describe, expect, it } from 'vitest';
import { formatModemReading, maskedReading } from '../../../../src/uplinks/modems/format.js';
import { maskDigitRuns, maskIdentifier } from '../../../../src/uplinks/modems/masking.js';
import type { ModemReading } from '../../../../src/uplinks/modems/reader.js';

const IMEI = '356938035643809';
const ICCID = '89441000303123451234';

const READING: ModemReading = {
  port: '/dev/ttyUSB2',
  profile: 'quectel-ec25',
  identity: { manufacturer: 'Quectel', model: 'EC25', firmware: 'EC25EFAR06A09M4G', imei: IMEI, iccid: ICCID },
  sim: { state: 'ready', unlockedWithPin: true },
  operator: { mode: 'automatic', name: 'Vodafone UK', act: 7, accessTechnology: 'LTE' },
  registration: { state: 'home', domains: [{ domain: 'eps', state: 'home', stat: 1 }] },
  signal: { csq: { raw: 20, rssiDbm: -73 } },
  refused: [],
  readAt: 0,
};

describe('masking', () => {
  it('keeps the last four digits', () => {
    expect(maskIdentifier(IMEI)).toBe('***********3809');
    expect(maskIdentifier(ICCID)).toBe('****************1234');
    expect(maskIdentifier('123')).toBe('***');
  });

  it('masks identifier-like runs in free text and leaves short numbers alone', () => {
    expect(maskDigitRuns(`${IMEI} +CSQ: 20,99`)).toBe('***********3809 +CSQ: 20,99');
  });

  it('the summary and the JSON show neither IMEI nor ICCID in full; the reading keeps them', () => {
    const text = formatModemReading(READING);
    expect(text).toContain('***********3809');
    expect(text).toContain('****************1234');
    expect(text).not.toContain(IMEI);
    expect(text).not.toContain(ICCID);
    const json = JSON.stringify(maskedReading(READING));
    expect(json).not.toContain(IMEI);
    expect(json).not.toContain(ICCID);
    expect(READING.identity.imei).toBe(IMEI);
  });
});
