/**
 * The supervisor's uplink side: the interfaces it bonds by themselves (the
 * uplink monitor and source routing, while bond.enabled has no bond.links),
 * the modems (found, read, healed), and the data ledger counted from the
 * links' interface counters. The supervisor owns the config and the stream;
 * this owns these three and tells it, through `changed`, when what it should
 * stream over has changed (an uplink came or went, a plan ran out).
 */
import { promises as fs, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import type { BondLinkOptions } from '../bond/index.js';
import type { Config } from '../config/index.js';
import { FieldcastError } from '../lib/errors.js';
import { createLogger } from '../lib/logger.js';
import { type InterfaceKind, SourceRouting, type Uplink, UplinkMonitor } from '../uplinks/interfaces/index.js';
import { DataLedger, type DataPlan, LEDGER_FILE } from '../uplinks/ledger.js';
import { loadModemProfiles, ModemManager } from '../uplinks/modems/index.js';
import type { EventLog } from './event-log.js';
import type { StatusSnapshot } from './snapshot.js';
import type { StatusInputs, UplinkInfo } from './status.js';

const log = createLogger('supervisor.uplinks');

/** The data ledger is written this often (and at stop): a power cut loses at most this much of the count. */
const LEDGER_SAVE_TICKS = 30;

interface UplinkWatch {
  /** The selection it runs with. */
  key: string;
  monitor: UplinkMonitor;
  routing?: SourceRouting;
  stopFollowing?: () => void;
}

export interface UplinkSideOptions {
  stateDir: string;
  record: (e: Parameters<EventLog['append']>[0]) => void;
  /** What to stream over changed: plan again. */
  changed: () => void;
}

export class UplinkSide {
  readonly #o: UplinkSideOptions;
  #config: Config;
  #ledger: DataLedger | undefined;
  #uplinkWatch: UplinkWatch | undefined;
  #uplinks: readonly Uplink[] = [];
  #modems: { key: string; manager: ModemManager } | undefined;
  #bootId = '';
  #stoppedLinks = '';
  #ticks = 0;

  constructor(options: UplinkSideOptions, config: Config) {
    this.#o = options;
    this.#config = config;
  }

  async start(): Promise<void> {
    this.#bootId = readBootId();
    this.#ledger = await DataLedger.open(path.join(this.#o.stateDir, LEDGER_FILE), dataPlans(this.#config));
    await this.#syncUplinks();
    await this.#syncModems();
  }

  /** The config changed: the plans, the uplink selection and the modems' settings follow it. */
  async configure(config: Config): Promise<void> {
    this.#config = config;
    this.#ledger?.setPlans(dataPlans(config));
    await this.#syncUplinks();
    await this.#syncModems();
  }

  async stop(): Promise<void> {
    await this.#stopUplinks();
    await this.#modems?.manager.close();
    this.#modems = undefined;
    await this.#ledger?.save();
  }

  /** The links to bond: those configured, or every usable uplink found; without those a plan has stopped. */
  links(): BondLinkOptions[] {
    const stopped = this.stoppedLinks();
    return this.allLinks().filter((l) => l.enabled && !stopped.has(l.name));
  }

  /** Every link there is (for a preflight and the status page): the operator's choices and the plans' stops do not apply. */
  allLinks(): ChosenLink[] {
    if (this.#config.bond.links.length > 0) return this.#config.bond.links;
    const prefs = this.#config.uplinks.preferences;
    return this.#uplinks.map((u) =>
      linkForUplink(
        u,
        prefs.find((p) => p.interface === u.name),
      ),
    );
  }

  /** What the snapshot shows of this side. */
  statusInputs(): Pick<StatusInputs, 'data' | 'modems' | 'uplinks'> {
    return {
      ...(this.#ledger ? { data: { usage: this.#ledger.usage(), alerts: this.#ledger.alerts() } } : {}),
      ...(this.#modems ? { modems: this.#modems.manager.list() } : {}),
      ...(this.#config.bond.enabled ? { uplinks: this.#uplinkInfo() } : {}),
    };
  }

  /** Each link there is, as the status page's card starts it: what it is and what the operator chose. */
  #uplinkInfo(): UplinkInfo[] {
    const plans = new Map((this.#ledger?.usage() ?? []).map((u) => [u.plan, u]));
    const modems = this.#modems?.manager;
    return this.allLinks().map((l) => {
      const iface = this.#interfaceOfLink(l.name);
      const found = this.#uplinks.find((u) => u.name === iface);
      const plan = this.#config.uplinks.dataPlans.find(
        (p) => p.link === l.name || (p.iccid !== undefined && iface !== undefined && modems?.holding(p.iccid) === iface),
      );
      const addresses = iface ? (networkInterfaces()[iface] ?? []).map((a) => a.address) : l.bind ? [l.bind] : [];
      const usage = plan ? plans.get(plan.name) : undefined;
      return {
        name: l.name,
        ...(iface ? { interface: iface } : {}),
        kind: cardKind(found?.kind ?? (l.metered ? 'cellular' : 'other')),
        addresses,
        up: found ? found.operstate !== 'down' : iface ? addresses.length > 0 : true,
        enabled: l.enabled,
        priority: l.priority,
        metered: l.metered,
        ...(usage ? { data: usage } : {}),
      };
    });
  }

  /**
   * The operator's choice for one uplink, as the config changes it: a configured link's own keys, or
   * the discovered uplink's entry in uplinks.preferences. The caller applies it through its `set`.
   */
  uplinkAssignments(name: string, change: { enabled?: boolean; priority?: number }): { key: string; value: string }[] {
    const c = this.#config;
    const configured = c.bond.links.findIndex((l) => l.name === name);
    const out: { key: string; value: string }[] = [];
    if (configured >= 0) {
      if (change.enabled !== undefined) out.push({ key: `bond.links.${configured}.enabled`, value: String(change.enabled) });
      if (change.priority !== undefined) out.push({ key: `bond.links.${configured}.priority`, value: String(change.priority) });
      return out;
    }
    if (c.bond.links.length > 0 || !this.#uplinks.some((u) => u.name === name)) {
      throw new FieldcastError('UPLINK_NOT_FOUND', `there is no uplink ${name} (the status page lists them)`);
    }
    const prefs = c.uplinks.preferences.filter((p) => p.interface !== name);
    const was = c.uplinks.preferences.find((p) => p.interface === name);
    const priority = change.priority ?? was?.priority;
    prefs.push({ interface: name, enabled: change.enabled ?? was?.enabled ?? true, ...(priority !== undefined ? { priority } : {}) });
    return [{ key: 'uplinks.preferences', value: JSON.stringify(prefs) }];
  }

  /** The operator's restart of a modem. */
  async resetModem(which: string): Promise<boolean> {
    const m = this.#modems?.manager;
    if (!m) return false;
    await m.reset(which);
    return true;
  }

  /** Links whose data plan is used up, with stopAtLimit: not used until the plan starts again. */
  stoppedLinks(): Set<string> {
    const used = new Set((this.#ledger?.usage() ?? []).filter((u) => u.stopped).map((u) => u.plan));
    const out = new Set<string>();
    for (const p of this.#config.uplinks.dataPlans) {
      if (!used.has(p.name)) continue;
      const name = p.link ?? (p.iccid !== undefined ? this.#linkOfInterface(this.#modems?.manager.holding(p.iccid)) : undefined);
      if (name) out.add(name);
    }
    return out;
  }

  /** The bonded link that leaves by `iface`: a configured one bound to it, or the discovered uplink of that name. */
  #linkOfInterface(iface: string | undefined): string | undefined {
    if (!iface) return undefined;
    const configured = this.#config.bond.links.find((l) => this.#interfaceOfLink(l.name) === iface);
    return configured?.name ?? (this.#config.bond.links.length === 0 ? iface : undefined);
  }

  /** The interface a link leaves by: a configured link's own or its bind address's, or a discovered uplink (named after it). */
  #interfaceOfLink(name: string | undefined): string | undefined {
    const configured = this.#config.bond.links.find((l) => l.name === name);
    if (configured) return configured.interface ?? interfaceWithAddress(configured.bind);
    return this.#uplinks.find((u) => u.name === name)?.name;
  }

  /** Runs the uplink monitor (and source routing) while the config bonds every uplink, with its selection. */
  async #syncUplinks(): Promise<void> {
    const c = this.#config;
    const auto = c.bond.enabled && c.bond.links.length === 0;
    const key = auto ? JSON.stringify([c.uplinks.interfaces, c.uplinks.ignoreInterfaces, c.uplinks.sourceRouting]) : '';
    if ((this.#uplinkWatch?.key ?? '') === key) return;
    await this.#stopUplinks();
    if (!auto) return;
    const monitor = new UplinkMonitor({
      ...(c.uplinks.interfaces.length > 0 ? { interfaces: c.uplinks.interfaces } : {}),
      ignoreInterfaces: c.uplinks.ignoreInterfaces,
    });
    const watch: UplinkWatch = { key, monitor };
    monitor.on('added', (u) =>
      this.#o.record({ kind: 'link', code: 'UPLINK_ADDED', message: `uplink ${u.name} (${u.kind}, ${u.address}) is there`, link: u.name }),
    );
    monitor.on('removed', (u, why) =>
      this.#o.record({ kind: 'link', code: 'UPLINK_REMOVED', message: `uplink ${u.name} is gone (${why})`, link: u.name }),
    );
    monitor.on('uplinks', (list) => {
      this.#uplinks = list;
      this.#o.changed();
    });
    if (c.uplinks.sourceRouting) {
      const routing = new SourceRouting();
      let reported = false;
      routing.on('failed', (err) => {
        if (reported) return;
        reported = true;
        this.#o.record({ kind: 'link', code: err.code, message: `cannot route the uplinks by their own interfaces: ${err.message}` });
      });
      routing.on('applied', () => {
        reported = false;
      });
      watch.routing = routing;
      watch.stopFollowing = routing.follow(monitor);
    }
    this.#uplinkWatch = watch;
    try {
      this.#uplinks = await monitor.start();
    } catch (err) {
      this.#o.record({ kind: 'link', code: 'UPLINK_DISCOVERY_FAILED', message: `cannot list the uplinks: ${(err as Error).message}` });
    }
  }

  /** Runs the modem manager while modems.enabled, with the APN, PIN and healing the config gives. */
  async #syncModems(): Promise<void> {
    const c = this.#config.modems;
    const key = c.enabled ? JSON.stringify(c) : '';
    if ((this.#modems?.key ?? '') === key) return;
    await this.#modems?.manager.close();
    this.#modems = undefined;
    if (!c.enabled) return;
    let pin: string | undefined;
    if (c.pinFile) {
      try {
        pin = (await fs.readFile(c.pinFile, 'utf8')).trim();
      } catch (err) {
        this.#o.record({
          kind: 'config',
          code: 'MODEM_PIN_FILE',
          message: `cannot read the SIM PIN file ${c.pinFile} (${(err as NodeJS.ErrnoException).code ?? 'error'}): a locked SIM stays locked`,
        });
      }
    }
    const manager = new ModemManager({
      profiles: await loadModemProfiles(),
      ...(pin ? { pin } : {}),
      ...(c.apn ? { apn: c.apn } : {}),
      heal: c.heal,
    });
    manager.on('found', (m) => {
      const what = m.reading ? `${m.reading.identity.manufacturer ?? ''} ${m.reading.identity.model ?? ''}`.trim() : m.profile;
      this.#o.record({
        kind: 'link',
        code: 'MODEM_FOUND',
        message: `modem ${what} found on ${m.port}${m.netInterface ? ` (${m.netInterface})` : ''}`,
        modem: m.id,
      });
    });
    manager.on('healing', (id, e) =>
      this.#o.record({
        kind: 'link',
        code: `MODEM_${e.kind.toUpperCase()}_${e.phase.toUpperCase()}`,
        message: `modem ${id}: ${e.kind} ${e.phase} (${e.reason})${e.error ? `: ${e.error.message}` : ''}`,
        modem: id,
      }),
    );
    this.#modems = { key, manager };
    void manager.start().catch((err: unknown) => log.warn('cannot look for modems', { err }));
  }

  /** Tells the modem manager which uplinks pass traffic: a modem whose link stalled is healed. */
  feedModems(s: StatusSnapshot): void {
    const m = this.#modems?.manager;
    if (!m || !s.bond) return;
    for (const l of s.bond.links) {
      const iface = this.#interfaceOfLink(l.name);
      if (iface) m.trafficOn(iface, l.state === 'live');
    }
  }

  /** Stops following the uplinks and takes the source routing down (what it added, nothing else). */
  async #stopUplinks(): Promise<void> {
    const w = this.#uplinkWatch;
    this.#uplinkWatch = undefined;
    this.#uplinks = [];
    if (!w) return;
    w.stopFollowing?.();
    w.monitor.close();
    await w.routing?.close().catch((err: unknown) => log.warn('cannot take the source routing down', { err }));
  }

  /** Each second: each data plan's link, its interface's counters, into the ledger. */
  tick(): void {
    const ledger = this.#ledger;
    if (!ledger) return;
    const modems = this.#modems?.manager;
    for (const p of this.#config.uplinks.dataPlans) {
      // A SIM's plan follows the SIM: the interface of the modem that holds it now.
      const iface = p.iccid !== undefined ? modems?.holding(p.iccid) : this.#interfaceOfLink(p.link);
      if (!iface) continue;
      const counters = interfaceCounters(iface);
      if (counters) ledger.record(p.name, { iface, ...counters, bootId: this.#bootId });
    }
    const stopped = [...this.stoppedLinks()].sort().join(',');
    if (stopped !== this.#stoppedLinks) {
      this.#stoppedLinks = stopped;
      this.#o.changed();
    }
    if (++this.#ticks % LEDGER_SAVE_TICKS === 0) void ledger.save();
  }
}

/** Wired ethernet first, then wifi, then cellular (metered: used when the others cannot carry the stream). */
const UPLINK_PRIORITY: Partial<Record<InterfaceKind, number>> = { ethernet: 7, wifi: 6, cellular: 5 };

/** A link to bond, with whether the operator lets the stream use it. */
type ChosenLink = BondLinkOptions & { enabled: boolean; priority: number; metered: boolean };

function cardKind(k: InterfaceKind | 'other'): UplinkInfo['kind'] {
  return k === 'ethernet' || k === 'wifi' || k === 'cellular' ? k : 'other';
}

function linkForUplink(u: Uplink, pref?: { enabled: boolean; priority?: number | undefined }): ChosenLink {
  return {
    name: u.name,
    bind: u.address,
    priority: pref?.priority ?? UPLINK_PRIORITY[u.kind] ?? 5,
    enabled: pref?.enabled ?? true,
    backupOnly: false,
    metered: u.kind === 'cellular',
  };
}

function dataPlans(config: Config): DataPlan[] {
  return config.uplinks.dataPlans.map((p) => ({
    name: p.name,
    monthlyBytes: p.monthlyBytes,
    billingDay: p.billingDay,
    stopAtLimit: p.stopAtLimit,
  }));
}

/** The kernel's boot id: interface counters start again with a new one. */
function readBootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

/** The interface that holds `address` (a link's bind address), if any. */
function interfaceWithAddress(address: string | undefined): string | undefined {
  if (!address) return undefined;
  for (const [name, addrs] of Object.entries(networkInterfaces())) if (addrs?.some((a) => a.address === address)) return name;
  return undefined;
}

/** Bytes sent and received by an interface since it came up (/sys/class/net); undefined when it is not there. */
function interfaceCounters(iface: string): { txBytes: number; rxBytes: number } | undefined {
  if (!/^[\w.:-]{1,15}$/.test(iface)) return undefined;
  try {
    const dir = `/sys/class/net/${iface}/statistics`;
    return { txBytes: Number(readFileSync(`${dir}/tx_bytes`, 'utf8')), rxBytes: Number(readFileSync(`${dir}/rx_bytes`, 'utf8')) };
  } catch {
    return undefined;
  }
}
