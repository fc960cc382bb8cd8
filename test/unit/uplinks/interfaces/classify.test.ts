import { afterAll, describe, expect, it } from 'vitest';
import { classifyInterface, readSysfsFacts } from '../../../../src/uplinks/interfaces/index.js';
import { listSysfsInterfaces, parseUevent } from '../../../../src/uplinks/interfaces/sysfs.js';
import { BOX, fakeSysfs } from './fake-net.js';

const sys = fakeSysfs(BOX);
afterAll(() => sys.remove());

async function kindOf(name: string): Promise<string> {
  return classifyInterface(name, await readSysfsFacts(sys.root, name));
}

describe('interface classification from sysfs', () => {
  it('a QMI modem (DEVTYPE=wwan, raw IP) is cellular', async () => {
    const f = await readSysfsFacts(sys.root, 'wwan0');
    expect(f).toMatchObject({ arpType: 65534, devType: 'wwan', driver: 'qmi_wwan', bus: 'usb', hasDevice: true, operstate: 'unknown' });
    expect(classifyInterface('wwan0', f)).toBe('cellular');
  });

  it('a cdc_ncm stick and a tethered iPhone (ipheth) are cellular though they look like ethernet', async () => {
    expect(await kindOf('usb0')).toBe('cellular');
    expect(await kindOf('eth1')).toBe('cellular');
  });

  it('wlan0 with wireless/ is wifi, eth0 on PCI is ethernet', async () => {
    const w = await readSysfsFacts(sys.root, 'wlan0');
    expect(w).toMatchObject({ wireless: true, devType: 'wlan', driver: 'brcmfmac', bus: 'sdio' });
    expect(classifyInterface('wlan0', w)).toBe('wifi');
    expect(classifyInterface('wlan0', { ...w, devType: undefined })).toBe('wifi'); // wireless/ alone suffices
    expect(await kindOf('eth0')).toBe('ethernet');
  });

  it('veth, bridge, tun and loopback are virtual; ppp is a dial-up modem; a CAN bus is other', async () => {
    expect(await kindOf('veth0')).toBe('virtual');
    expect(await kindOf('br0')).toBe('virtual');
    expect(await kindOf('tun0')).toBe('virtual');
    expect(await kindOf('lo')).toBe('virtual');
    expect(await kindOf('ppp0')).toBe('cellular');
    expect(await kindOf('can0')).toBe('other');
  });

  it('reads link state: operstate, carrier, IFF_UP', async () => {
    sys.add('eth9', { type: 1, driver: 'e1000e', bus: 'pci', operstate: 'down', carrier: 0, flags: '0x1002' });
    expect(await readSysfsFacts(sys.root, 'eth9')).toMatchObject({ operstate: 'down', carrier: false, adminUp: false });
    expect(await readSysfsFacts(sys.root, 'eth0')).toMatchObject({ operstate: 'up', carrier: true, adminUp: true });
  });

  it('an interface that vanished, or a root without class/net, gives no facts and no throw', async () => {
    expect(await readSysfsFacts(sys.root, 'nope0')).toEqual({ hasDevice: false, wireless: false });
    expect(await listSysfsInterfaces('/nonexistent-sysfs')).toEqual([]);
    expect(await listSysfsInterfaces(sys.root)).toContain('wwan0');
  });

  it('parses uevent lines and ignores junk', () => {
    expect([...parseUevent('DEVTYPE=wwan\nINTERFACE=wwan0\ngarbage\n=x\n')]).toEqual([
      ['DEVTYPE', 'wwan'],
      ['INTERFACE', 'wwan0'],
    ]);
  });
});
