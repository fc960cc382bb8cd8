import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModemProfileError } from '../../../../src/uplinks/modems/errors.js';
import {
  loadModemProfiles,
  parseModemProfile,
  profileByName,
  profileForIdentity,
  profileForUsb,
} from '../../../../src/uplinks/modems/profiles.js';

describe('modem profiles', () => {
  it('loads every profile in hardware/modems', async () => {
    const p = await loadModemProfiles();
    expect(p.map((x) => x.name)).toEqual(['generic', 'huawei-me909', 'quectel-ec25', 'quectel-rm520n', 'sierra-em7455']);
    const ec25 = profileByName(p, 'quectel-ec25');
    expect(ec25).toMatchObject({ atInterface: 2, iccidCommand: 'AT+QCCID', signal: { parser: 'quectel-qeng', lteSinr: 'fifth-db' } });
    expect(ec25.networkMode?.commands).toEqual(['AT+QCFG="usbnet",1']);
    expect(profileByName(p, 'sierra-em7455').networkMode?.commands).toContain('AT!USBCOMP=1,1,100D');
    expect(profileByName(p, 'generic')).toMatchObject({ usb: [], iccidCommand: 'AT+CCID', registration: ['cs', 'eps', '5gs'] });
    expect(profileByName(p, 'generic').signal).toBeUndefined();
  });

  it('picks a profile from what the modem says, or by USB ids', async () => {
    const p = await loadModemProfiles();
    expect(profileForIdentity(p, 'Quectel', 'RM520N-GL').name).toBe('quectel-rm520n');
    expect(profileForIdentity(p, 'Sierra Wireless, Incorporated', 'EM7455').name).toBe('sierra-em7455');
    expect(profileForIdentity(p, 'Huawei Technologies Co., Ltd.', 'ME909s-120').name).toBe('huawei-me909');
    expect(profileForIdentity(p, 'Telit', 'LM960').name).toBe('generic');
    expect(profileForUsb(p, '12D1', '15C1')?.name).toBe('huawei-me909');
    expect(profileForUsb(p, '0000', '0000')).toBeUndefined();
  });

  it('rejects a profile naming the key and what was expected', () => {
    expect(() => parseModemProfile({ name: 'x', description: 'd', usb: [{ vendorId: '2c7', productId: '0125' }] }, 'x.json')).toThrow(
      /usb\.0\.vendorId: four hex digits/,
    );
    expect(() => parseModemProfile({ name: 'x', description: 'd', signal: { command: 'AT+X', parser: 'nokia' } }, 'x.json')).toThrow(
      ModemProfileError,
    );
    expect(() => parseModemProfile({ name: 'x', description: 'd', atPort: 2 }, 'x.json')).toThrow(/atPort/);
    expect(() => profileByName([], 'nope')).toThrow(/no modem profile "nope"/);
  });

  it('insists on a generic profile', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fieldcast-profiles-'));
    try {
      writeFileSync(path.join(dir, 'a.json'), JSON.stringify({ name: 'a', description: 'A' }));
      await expect(loadModemProfiles(dir)).rejects.toThrow(/"generic" modem profile is missing/);
      writeFileSync(path.join(dir, 'b.json'), '{ not json');
      await expect(loadModemProfiles(dir)).rejects.toThrow(/is not JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
