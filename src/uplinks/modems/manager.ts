/**
 * The modems of a running box: found at their AT ports, read now and then,
 * healed when their uplink stops passing traffic, reset when the operator
 * asks. One AtChannel per modem, kept open; what the supervisor shows comes
 * from `list()`, with IMEI and ICCID masked (`readings()` keeps them whole
 * for the data ledger).
 *
 * A modem is known by its USB device (`1-1.2`), not its tty: a restart may
 * renumber the ttys, and the channel finds its port again through
 * `atPortLocator`. Its network interface is the one whose sysfs device sits
 * under the same USB device (wwan0 under 1-1.2:1.4).
 */
import { readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { describeError, FieldcastError } from '../../lib/errors.js';
import { TypedEmitter } from '../../lib/events.js';
import { createLogger } from '../../lib/logger.js';
import { setApn } from './apn.js';
import { AtChannel } from './at-channel.js';
import { type AtPortCandidate, atPortLocator, type DiscoveryOptions, discoverAtPorts } from './discovery.js';
import { maskedReading } from './format.js';
import { type HealingEvent, ModemHealer } from './healer.js';
import type { HealingPolicy } from './healing.js';
import type { ModemProfile } from './profiles.js';
import { type ModemReading, readModem } from './reader.js';

const log = createLogger('uplinks.modems');

const SCAN_INTERVAL_MS = 10_000;
const READ_INTERVAL_MS = 15_000;

export interface ModemStatus {
  /** The USB device (`1-1.2`): the same modem across restarts. */
  id: string;
  port: string;
  profile: string;
  /** Its network interface (wwan0, usb0), when the kernel has brought one up. */
  netInterface?: string;
  /** The latest reading, IMEI and ICCID masked. */
  reading?: ModemReading;
  /** Why the last reading failed. */
  error?: { code: string; message: string };
  /** The healing step running now, in words. */
  healing?: string;
}

export type ModemManagerEvents = {
  found: [status: ModemStatus];
  gone: [id: string];
  healing: [id: string, event: HealingEvent];
};

export interface ModemManagerOptions extends DiscoveryOptions {
  profiles: readonly ModemProfile[];
  /** The SIM PIN, used only when a SIM asks for it; never logged. */
  pin?: string;
  /** Set on every modem found (AT+CGDCONT=1). */
  apn?: string;
  /** Heal a modem whose uplink stops passing traffic (default true). */
  heal?: boolean;
  scanIntervalMs?: number;
  readIntervalMs?: number;
  /** When to take which healing step (default DEFAULT_HEALING_POLICY). */
  healingPolicy?: HealingPolicy;
  /** Injected for tests: where the AT ports are. */
  discover?: () => Promise<AtPortCandidate[]>;
}

interface Tracked {
  candidate: AtPortCandidate;
  channel: AtChannel;
  healer: ModemHealer;
  reading?: ModemReading;
  error?: { code: string; message: string };
  healing?: string;
  netInterface?: string;
  reading$?: Promise<void>;
}

export class ModemManagerStateError extends FieldcastError {
  constructor(message: string) {
    super('MODEM_NOT_FOUND', message);
  }
}

export class ModemManager extends TypedEmitter<ModemManagerEvents> {
  readonly #o: ModemManagerOptions;
  readonly #modems = new Map<string, Tracked>();
  #timers: NodeJS.Timeout[] = [];
  #closed = false;
  #scanning: Promise<void> | undefined;

  constructor(options: ModemManagerOptions) {
    super();
    this.#o = options;
  }

  /** Looks for modems now and then every scan interval; reads each now and then every read interval. */
  async start(): Promise<void> {
    await this.scan();
    this.#timers.push(setInterval(() => void this.scan(), this.#o.scanIntervalMs ?? SCAN_INTERVAL_MS));
    this.#timers.push(setInterval(() => this.#readAll(), this.#o.readIntervalMs ?? READ_INTERVAL_MS));
    for (const t of this.#timers) t.unref();
  }

  /** What the operator sees: each modem, its latest reading masked. */
  list(): ModemStatus[] {
    return [...this.#modems.entries()].map(([id, t]) => ({
      id,
      port: t.channel.path,
      profile: t.candidate.profile.name,
      ...(t.netInterface ? { netInterface: t.netInterface } : {}),
      ...(t.reading ? { reading: maskedReading(t.reading) } : {}),
      ...(t.error ? { error: t.error } : {}),
      ...(t.healing ? { healing: t.healing } : {}),
    }));
  }

  /** The latest readings whole (IMEI, ICCID): for the data ledger, never for display. */
  readings(): ModemReading[] {
    return [...this.#modems.values()].flatMap((t) => (t.reading ? [t.reading] : []));
  }

  /** The network interface of the modem that holds the SIM `iccid` now, if one does. */
  holding(iccid: string): string | undefined {
    for (const t of this.#modems.values()) if (t.reading?.identity.iccid === iccid && t.netInterface) return t.netInterface;
    return undefined;
  }

  /** Whether the uplink on `netInterface` passes traffic: a modem that stopped is healed step by step. */
  trafficOn(netInterface: string, passing: boolean): void {
    if (this.#o.heal === false) return;
    for (const t of this.#modems.values()) {
      if (t.netInterface !== netInterface || !t.reading) continue;
      void t.healer
        .observe({
          passingTraffic: passing,
          registration: t.reading.registration.state,
          simReady: t.reading.sim.state === 'ready',
        })
        .catch((err: unknown) => log.warn('cannot heal the modem', { modem: t.candidate.usbDevice, err }));
    }
  }

  /** The operator's restart of one modem, by its id, port or network interface. */
  async reset(which: string): Promise<void> {
    const entry = [...this.#modems.entries()].find(([id, t]) => id === which || t.channel.path === which || t.netInterface === which);
    if (!entry) throw new ModemManagerStateError(`there is no modem "${which}": fieldcast ctl status lists them`);
    await entry[1].healer.reset('asked by the operator');
  }

  /** Finds modems that appeared since the last look; one whose port vanished for good is dropped by its channel. */
  scan(): Promise<void> {
    this.#scanning ??= this.#scan().finally(() => {
      this.#scanning = undefined;
    });
    return this.#scanning;
  }

  async #scan(): Promise<void> {
    if (this.#closed) return;
    let found: AtPortCandidate[];
    try {
      found = await (this.#o.discover ?? (() => discoverAtPorts(this.#o.profiles, this.#o)))();
    } catch (err) {
      log.warn('cannot look for modems', { err });
      return;
    }
    for (const c of found) {
      if (this.#modems.has(c.usbDevice) || this.#closed) continue;
      let channel: AtChannel;
      try {
        channel = await AtChannel.open({ path: c.device, locate: atPortLocator(this.#o.profiles, c.usbDevice, this.#o) });
      } catch (err) {
        log.warn('a modem port did not answer', { port: c.device, err });
        continue;
      }
      const healer = new ModemHealer(channel, this.#o.healingPolicy ? { policy: this.#o.healingPolicy } : {});
      const t: Tracked = { candidate: c, channel, healer };
      const netIf = await netInterfaceOf(c.usbDevice, this.#o.sysRoot);
      if (netIf) t.netInterface = netIf;
      healer.on('step', (e) => {
        t.healing = e.phase === 'started' ? `${e.kind}: ${e.reason}` : undefined;
        this.emit('healing', c.usbDevice, e);
      });
      this.#modems.set(c.usbDevice, t);
      if (this.#o.apn) {
        await setApn(channel, this.#o.apn).catch((err: unknown) =>
          log.warn('cannot set the APN', { modem: c.usbDevice, err: describeError(err) }),
        );
      }
      await this.#read(t);
      this.emit('found', this.list().find((m) => m.id === c.usbDevice)!);
    }
  }

  #readAll(): void {
    for (const t of this.#modems.values()) void this.#read(t);
  }

  #read(t: Tracked): Promise<void> {
    t.reading$ ??= (async () => {
      try {
        t.reading = await readModem(t.channel, {
          port: t.channel.path,
          profiles: this.#o.profiles,
          profile: t.candidate.profile.name,
          ...(this.#o.pin !== undefined ? { pin: this.#o.pin } : {}),
        });
        t.error = undefined;
        t.netInterface = (await netInterfaceOf(t.candidate.usbDevice, this.#o.sysRoot)) ?? t.netInterface;
      } catch (err) {
        t.error =
          err instanceof FieldcastError ? { code: err.code, message: err.message } : { code: 'MODEM_ERROR', message: describeError(err) };
      }
    })().finally(() => {
      t.reading$ = undefined;
    });
    return t.reading$;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    await this.#scanning?.catch(() => undefined);
    for (const [id, t] of this.#modems) {
      await t.channel.close();
      this.emit('gone', id);
    }
    this.#modems.clear();
  }
}

/** The network interface whose sysfs device sits under USB device `usbDevice` (`1-1.2` → wwan0 under 1-1.2:1.4). */
export async function netInterfaceOf(usbDevice: string, sysRoot = '/sys'): Promise<string | undefined> {
  const dir = path.join(sysRoot, 'class', 'net');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  for (const n of names) {
    try {
      const dev = await realpath(path.join(dir, n, 'device'));
      if (dev.split(path.sep).some((part) => part === usbDevice || part.startsWith(`${usbDevice}:`))) return n;
    } catch {
      // no device: a virtual interface
    }
  }
  return undefined;
}
