/**
 * The data ledger: what each data plan has carried this billing period, from
 * the interface counters (bytes up and down), kept in the state directory
 * across restarts and reboots.
 *
 * A plan is counted from the counters of the interface its link leaves by.
 * The kernel's counters start again at zero when the box reboots or the modem
 * re-enumerates; the ledger keeps what it had counted and, seeing a counter
 * smaller than the last one (or another boot id), counts the new value as
 * traffic since the restart. The period starts again on the plan's billing
 * day (the last day of a shorter month for 29-31). Against the monthly
 * allowance it raises an alert at 80% and another when it is used up; with
 * `stopAtLimit` the supervisor then stops using the link until the period
 * starts again.
 *
 * The ledger does no I/O of its own beyond its file: counters and the clock
 * come from the caller (tests drive both).
 */
import { promises as fs } from 'node:fs';
import { writeFileAtomic } from '../lib/atomic-file.js';
import { createLogger } from '../lib/logger.js';

const log = createLogger('uplinks.ledger');

export const LEDGER_FILE = 'data-ledger.json';
/** The share of the allowance at which the operator is warned. */
export const WARN_FRACTION = 0.8;

export interface DataPlan {
  name: string;
  monthlyBytes: number;
  /** 1-31: the day of the month a new period starts. */
  billingDay: number;
  stopAtLimit: boolean;
}

export interface CounterSample {
  /** The interface the counters are of (a plan's link may move to another). */
  iface: string;
  txBytes: number;
  rxBytes: number;
  /** The kernel's boot id (/proc/sys/kernel/random/boot_id): counters start again with a new one. */
  bootId: string;
}

export interface DataUsage {
  plan: string;
  upBytes: number;
  downBytes: number;
  usedBytes: number;
  monthlyBytes: number;
  /** Used / allowance, 0.. (above 1 once over). */
  fraction: number;
  /** The period's first day and the next one's (YYYY-MM-DD, local time). */
  periodStart: string;
  nextReset: string;
  /** Used up and to be stopped (stopAtLimit). */
  stopped: boolean;
}

export interface LedgerAlert {
  code: string;
  level: 'warn' | 'error';
  message: string;
}

interface Entry {
  periodStart: string;
  upBytes: number;
  downBytes: number;
  /** The last counters seen, per interface. */
  last: Record<string, { tx: number; rx: number; bootId: string }>;
}

interface LedgerFile {
  version: 1;
  plans: Record<string, Entry>;
}

/** The local date `d` as YYYY-MM-DD. */
function isoDay(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function billingDate(year: number, month: number, day: number): Date {
  const last = new Date(year, month + 1, 0).getDate();
  return new Date(year, month, Math.min(day, last));
}

/** The first day of the billing period `now` is in, and of the next one. */
export function billingPeriod(now: Date, billingDay: number): { start: string; next: string } {
  let start = billingDate(now.getFullYear(), now.getMonth(), billingDay);
  if (start.getTime() > now.getTime()) start = billingDate(now.getFullYear(), now.getMonth() - 1, billingDay);
  const next = billingDate(start.getFullYear(), start.getMonth() + 1, billingDay);
  return { start: isoDay(start), next: isoDay(next) };
}

/** Bytes as an operator reads them: 950 MB, 9.5 GB. */
export function formatBytes(n: number): string {
  if (n >= 1e12) return `${(n / 1e12).toFixed(n >= 1e13 ? 0 : 1)} TB`;
  if (n >= 1e9) return `${(n / 1e9).toFixed(n >= 1e10 ? 0 : 1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)} MB`;
  return `${Math.round(n / 1e3)} kB`;
}

export class DataLedger {
  readonly #file: string;
  readonly #now: () => Date;
  #plans: DataPlan[];
  #data: LedgerFile;
  #dirty = false;

  private constructor(file: string, plans: DataPlan[], data: LedgerFile, now: () => Date) {
    this.#file = file;
    this.#plans = plans;
    this.#data = data;
    this.#now = now;
  }

  /** Reads the ledger file (a missing or unreadable one starts empty, and says so). */
  static async open(file: string, plans: DataPlan[], now: () => Date = () => new Date()): Promise<DataLedger> {
    let data: LedgerFile = { version: 1, plans: {} };
    try {
      const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<LedgerFile>;
      if (parsed.version === 1 && parsed.plans && typeof parsed.plans === 'object') data = { version: 1, plans: parsed.plans };
      else log.warn('the data ledger is not one this version reads: starting it again', { file });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn('cannot read the data ledger: starting it again', { file, err });
    }
    return new DataLedger(file, plans, data, now);
  }

  /** The plans changed (config): usage of a plan kept by name is kept. */
  setPlans(plans: DataPlan[]): void {
    this.#plans = plans;
  }

  /** Counts what the plan's interface carried since the last sample. */
  record(plan: string, s: CounterSample): void {
    const p = this.#plans.find((x) => x.name === plan);
    if (!p) return;
    const e = this.#entry(p);
    const last = e.last[s.iface];
    if (last) {
      // Counters that went back (a reboot, a modem that re-enumerated) count again from zero.
      const restarted = last.bootId !== s.bootId || s.txBytes < last.tx || s.rxBytes < last.rx;
      e.upBytes += restarted ? s.txBytes : s.txBytes - last.tx;
      e.downBytes += restarted ? s.rxBytes : s.rxBytes - last.rx;
    }
    // An interface seen for the first time is a base: what it carried before is not known to be this plan's.
    e.last[s.iface] = { tx: s.txBytes, rx: s.rxBytes, bootId: s.bootId };
    this.#dirty = true;
  }

  usage(): DataUsage[] {
    return this.#plans.map((p) => {
      const e = this.#entry(p);
      const { next } = billingPeriod(this.#now(), p.billingDay);
      const used = e.upBytes + e.downBytes;
      const fraction = used / p.monthlyBytes;
      return {
        plan: p.name,
        upBytes: e.upBytes,
        downBytes: e.downBytes,
        usedBytes: used,
        monthlyBytes: p.monthlyBytes,
        fraction,
        periodStart: e.periodStart,
        nextReset: next,
        stopped: p.stopAtLimit && fraction >= 1,
      };
    });
  }

  /** The alerts the plans raise now, in plain words. */
  alerts(): LedgerAlert[] {
    const out: LedgerAlert[] = [];
    for (const u of this.usage()) {
      const of = `${formatBytes(u.usedBytes)} of its ${formatBytes(u.monthlyBytes)}`;
      if (u.fraction >= 1) {
        out.push({
          code: `DATA_PLAN_USED_UP:${u.plan}`,
          level: 'error',
          message: u.stopped
            ? `data plan ${u.plan} is used up (${of}): its link is not used until ${u.nextReset}`
            : `data plan ${u.plan} is used up (${of}) and still in use: it may cost extra until ${u.nextReset}`,
        });
      } else if (u.fraction >= WARN_FRACTION) {
        out.push({
          code: `DATA_PLAN_LOW:${u.plan}`,
          level: 'warn',
          message: `data plan ${u.plan} has used ${Math.floor(u.fraction * 100)}% (${of}); it starts again on ${u.nextReset}`,
        });
      }
    }
    return out;
  }

  /** Writes the ledger if anything changed (atomically: a power cut leaves the old or the new one). */
  async save(): Promise<void> {
    if (!this.#dirty) return;
    this.#dirty = false;
    try {
      await writeFileAtomic(this.#file, `${JSON.stringify(this.#data)}\n`);
    } catch (err) {
      this.#dirty = true;
      log.warn('cannot save the data ledger (kept in memory, tried again later)', { file: this.#file, err });
    }
  }

  /** The plan's entry for the current period: a new period starts from zero (the counters seen are kept as the base). */
  #entry(p: DataPlan): Entry {
    const { start } = billingPeriod(this.#now(), p.billingDay);
    let e = this.#data.plans[p.name];
    if (!e) {
      e = { periodStart: start, upBytes: 0, downBytes: 0, last: {} };
      this.#data.plans[p.name] = e;
      this.#dirty = true;
    } else if (e.periodStart !== start) {
      log.info('a new billing period: the data plan starts again', { plan: p.name, from: start });
      e.periodStart = start;
      e.upBytes = 0;
      e.downBytes = 0;
      this.#dirty = true;
    }
    return e;
  }
}
