import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atPortLocator, discoverAtPorts, findAtPortCandidates, listUsbTtys } from '../../../../src/uplinks/modems/discovery.js';
import { loadModemProfiles, type ModemProfile } from '../../../../src/uplinks/modems/profiles.js';

/**
 * A fake /sys with what the kernel shows for two modems and a USB serial
 * adapter:
 *  - an EC25 (2c7c:0125) on 1-1: option ttys on interfaces 0–3, ttyUSB0..3
 *  - an EM7455 (1199:9071) on 1-2: qcserial on interfaces 0, 2, 3 → ttyUSB4..6
 *  - a CDC ACM device (1d6b:0104) on 1-3 interface 0 → ttyACM0
 *  - ttyS0, not on USB
 */
let sys: string;
let profiles: ModemProfile[];

function usbDevice(name: string, vendor: string, product: string): string {
  const dir = path.join(sys, 'devices/platform/soc/usb1', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'idVendor'), `${vendor}\n`);
  writeFileSync(path.join(dir, 'idProduct'), `${product}\n`);
  return dir;
}

function iface(dev: string, n: number): string {
  const dir = path.join(dev, `${path.basename(dev)}:1.${n}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'bInterfaceNumber'), `${n.toString(16).padStart(2, '0')}\n`);
  return dir;
}

function tty(name: string, deviceDir: string): void {
  const cls = path.join(sys, 'class/tty', name);
  mkdirSync(cls, { recursive: true });
  symlinkSync(deviceDir, path.join(cls, 'device'));
}

/** usb-serial (option, qcserial): the tty's device is a port directory inside the interface. */
function usbSerialTty(name: string, ifaceDir: string): void {
  const port = path.join(ifaceDir, name);
  mkdirSync(path.join(port, 'tty', name), { recursive: true });
  tty(name, port);
}

beforeAll(async () => {
  sys = mkdtempSync(path.join(tmpdir(), 'fieldcast-sysfs-'));
  profiles = await loadModemProfiles();
  const ec25 = usbDevice('1-1', '2c7c', '0125');
  for (const n of [0, 1, 2, 3]) usbSerialTty(`ttyUSB${n}`, iface(ec25, n));
  const em = usbDevice('1-2', '1199', '9071');
  for (const [i, n] of [0, 2, 3].entries()) usbSerialTty(`ttyUSB${4 + i}`, iface(em, n));
  const acm = usbDevice('1-3', '1d6b', '0104');
  tty('ttyACM0', iface(acm, 0));
  mkdirSync(path.join(sys, 'class/tty/ttyS0'), { recursive: true });
});

afterAll(() => {
  rmSync(sys, { recursive: true, force: true });
});

describe('AT port discovery from sysfs', () => {
  it('reads USB ids and interface numbers of every USB tty', async () => {
    const ttys = await listUsbTtys({ sysRoot: sys });
    expect(ttys.map((t) => [t.tty, t.vendorId, t.productId, t.interfaceNumber, t.usbDevice])).toEqual([
      ['ttyACM0', '1d6b', '0104', 0, '1-3'],
      ['ttyUSB0', '2c7c', '0125', 0, '1-1'],
      ['ttyUSB1', '2c7c', '0125', 1, '1-1'],
      ['ttyUSB2', '2c7c', '0125', 2, '1-1'],
      ['ttyUSB3', '2c7c', '0125', 3, '1-1'],
      ['ttyUSB4', '1199', '9071', 0, '1-2'],
      ['ttyUSB5', '1199', '9071', 2, '1-2'],
      ['ttyUSB6', '1199', '9071', 3, '1-2'],
    ]);
    expect(ttys[0]?.device).toBe('/dev/ttyACM0');
  });

  it('picks each modem’s AT port by its profile’s interface number', async () => {
    const c = await findAtPortCandidates(profiles, { sysRoot: sys, devRoot: '/dev' });
    expect(c.map((x) => [x.device, x.profile.name])).toEqual([
      ['/dev/ttyUSB2', 'quectel-ec25'],
      ['/dev/ttyUSB6', 'sierra-em7455'],
    ]);
  });

  it('keeps only the ports that answer AT', async () => {
    const asked: string[] = [];
    const found = await discoverAtPorts(profiles, {
      sysRoot: sys,
      probe: async (device) => {
        asked.push(device);
        return device === '/dev/ttyUSB6';
      },
    });
    expect(asked).toEqual(['/dev/ttyUSB2', '/dev/ttyUSB6']);
    expect(found.map((x) => x.profile.name)).toEqual(['sierra-em7455']);
  });

  it('finds the same modem’s AT port again by its USB device', async () => {
    expect(await atPortLocator(profiles, '1-2', { sysRoot: sys })()).toBe('/dev/ttyUSB6');
    expect(await atPortLocator(profiles, '9-9', { sysRoot: sys })()).toBeUndefined();
  });

  it('finds nothing where there is no /sys/class/tty', async () => {
    expect(await listUsbTtys({ sysRoot: path.join(sys, 'nowhere') })).toEqual([]);
  });
});
