/**
 * The modem manager as `fieldcast run` uses it, against a simulated Quectel
 * modem on a pseudo-terminal (socat): found, read (masked for display, whole
 * for the ledger), tied to its network interface through sysfs, healed when
 * its uplink stops passing traffic, and restarted when the operator asks —
 * its port going away and coming back.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AtPortCandidate, loadModemProfiles, ModemManager, type ModemProfile } from '../../src/uplinks/modems/index.js';
import { missingTools, skipWithout } from '../peers.js';
import { ModemSimulator, SIM_ICCID, SIM_IMEI } from './modem-simulator.js';
import { waitUntil } from './srt-helpers.js';

const skip = skipWithout('the modem manager over a pty (socat)', missingTools('socat'));

let profiles: ModemProfile[];
let sysRoot: string;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  profiles = await loadModemProfiles();
  // A sysfs with the modem's network interface: wwan0's device under USB device 1-1.2.
  sysRoot = mkdtempSync(path.join(tmpdir(), 'fieldcast-sys-'));
  const dev = path.join(sysRoot, 'devices', 'pci0000:00', 'usb1', '1-1', '1-1.2', '1-1.2:1.4');
  mkdirSync(dev, { recursive: true });
  mkdirSync(path.join(sysRoot, 'class', 'net', 'wwan0'), { recursive: true });
  symlinkSync(dev, path.join(sysRoot, 'class', 'net', 'wwan0', 'device'));
});
afterAll(() => rmSync(sysRoot, { recursive: true, force: true }));
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ sim: ModemSimulator; manager: ModemManager }> {
  const sim = await ModemSimulator.start('quectel', { resetDownMs: 500 });
  cleanups.push(() => sim.stop());
  const profile = profiles.find((p) => p.name === 'quectel-ec25')!;
  const candidate: AtPortCandidate = {
    tty: 'ttyUSB2',
    device: sim.hostPath,
    vendorId: '2c7c',
    productId: '0125',
    interfaceNumber: 2,
    usbDevice: '1-1.2',
    profile,
  };
  const manager = new ModemManager({
    profiles,
    sysRoot,
    apn: 'internet.example',
    discover: async () => [candidate],
    healingPolicy: { stallGraceMs: 300, settleMs: { 're-register': 200, 'radio-cycle': 200, reset: 200 }, maxResetIntervalMs: 1000 },
    scanIntervalMs: 60_000,
    readIntervalMs: 60_000,
  });
  cleanups.push(() => manager.close());
  return { sim, manager };
}

describe.skipIf(skip)('ModemManager', () => {
  it('finds the modem, sets the APN, reads it masked for display and whole for the ledger, with its interface', async () => {
    const { sim, manager } = await setup();
    const found: string[] = [];
    manager.on('found', (m) => found.push(m.id));
    await manager.start();
    expect(found).toEqual(['1-1.2']);
    expect(sim.apn).toBe('internet.example');
    const [m] = manager.list();
    expect(m).toMatchObject({ id: '1-1.2', profile: 'quectel-ec25', netInterface: 'wwan0' });
    expect(m!.reading!.identity.imei).toBe(`${'*'.repeat(SIM_IMEI.quectel.length - 4)}${SIM_IMEI.quectel.slice(-4)}`);
    expect(JSON.stringify(manager.list())).not.toContain(SIM_ICCID.quectel);
    expect(manager.readings()[0]!.identity.iccid).toBe(SIM_ICCID.quectel);
    // A data plan keyed by the SIM finds the interface of the modem that holds it.
    expect(manager.holding(SIM_ICCID.quectel)).toBe('wwan0');
    expect(manager.holding('89000000000000000000')).toBeUndefined();
  }, 60_000);

  it('heals a modem whose uplink stopped passing traffic, step by step, saying each step', async () => {
    const { sim, manager } = await setup();
    await manager.start();
    const steps: string[] = [];
    manager.on('healing', (_id, e) => steps.push(`${e.kind} ${e.phase}`));
    manager.trafficOn('wwan0', false);
    await waitUntil(
      'a re-registration',
      () => {
        manager.trafficOn('wwan0', false);
        return steps.includes('re-register done');
      },
      10_000,
    );
    expect(sim.received).toContain('AT+COPS=0');
    // Traffic again: nothing more is done.
    manager.trafficOn('wwan0', true);
    const taken = steps.length;
    await new Promise((r) => setTimeout(r, 500));
    manager.trafficOn('wwan0', true);
    expect(steps.length).toBe(taken);
  }, 60_000);

  it("restarts a modem at the operator's word, found by its interface; an unknown one is refused by name", async () => {
    const { sim, manager } = await setup();
    await manager.start();
    await manager.reset('wwan0');
    await waitUntil('the modem to restart', () => sim.resets === 1, 10_000);
    expect(sim.received).toContain('AT+CFUN=1,1');
    await expect(manager.reset('wwan9')).rejects.toThrow(/there is no modem "wwan9"/);
  }, 60_000);
});
