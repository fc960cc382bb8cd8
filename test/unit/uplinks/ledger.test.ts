import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { billingPeriod, DataLedger, type DataPlan, formatBytes, LEDGER_FILE } from '../../../src/uplinks/ledger.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function file(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'fieldcast-ledger-'));
  dirs.push(d);
  return path.join(d, LEDGER_FILE);
}

const PLAN: DataPlan = { name: 'sim-a', monthlyBytes: 10e9, billingDay: 15, stopAtLimit: false };
const BOOT = 'boot-1';

describe('billing periods', () => {
  it('start on the billing day, or the last day of a shorter month', () => {
    expect(billingPeriod(new Date(2026, 11, 20), 15)).toEqual({ start: '2026-12-15', next: '2027-01-15' });
    expect(billingPeriod(new Date(2026, 11, 3), 15)).toEqual({ start: '2026-11-15', next: '2026-12-15' });
    expect(billingPeriod(new Date(2027, 1, 28, 12), 31)).toEqual({ start: '2027-02-28', next: '2027-03-31' });
    expect(billingPeriod(new Date(2027, 1, 10), 31)).toEqual({ start: '2027-01-31', next: '2027-02-28' });
    expect(billingPeriod(new Date(2026, 0, 1), 1)).toEqual({ start: '2026-01-01', next: '2026-02-01' });
  });

  it('reads bytes as an operator does', () => {
    expect(formatBytes(950e6)).toBe('950 MB');
    expect(formatBytes(9.5e9)).toBe('9.5 GB');
    expect(formatBytes(12e9)).toBe('12 GB');
  });
});

describe('DataLedger', () => {
  it('counts what the counters moved by, not what they held when it first saw them', async () => {
    const l = await DataLedger.open(file(), [PLAN], () => new Date(2026, 11, 20));
    l.record('sim-a', { iface: 'wwan0', txBytes: 5e9, rxBytes: 1e9, bootId: BOOT }); // traffic from before: a base
    l.record('sim-a', { iface: 'wwan0', txBytes: 5e9 + 300e6, rxBytes: 1e9 + 20e6, bootId: BOOT });
    expect(l.usage()[0]).toMatchObject({
      upBytes: 300e6,
      downBytes: 20e6,
      usedBytes: 320e6,
      periodStart: '2026-12-15',
      nextReset: '2027-01-15',
    });
  });

  it('carries on across a reboot and a modem that re-enumerates (counters from zero again)', async () => {
    const f = file();
    let l = await DataLedger.open(f, [PLAN], () => new Date(2026, 11, 20));
    l.record('sim-a', { iface: 'wwan0', txBytes: 1000, rxBytes: 1000, bootId: BOOT });
    l.record('sim-a', { iface: 'wwan0', txBytes: 1000 + 4e9, rxBytes: 1000 + 1e9, bootId: BOOT });
    await l.save();
    // Power cut, reboot: a new boot id, counters small again.
    l = await DataLedger.open(f, [PLAN], () => new Date(2026, 11, 21));
    l.record('sim-a', { iface: 'wwan0', txBytes: 2e9, rxBytes: 0.5e9, bootId: 'boot-2' });
    expect(l.usage()[0]!.usedBytes).toBe(5e9 + 2.5e9);
    // The modem re-enumerated under the same boot: its counters went back.
    l.record('sim-a', { iface: 'wwan0', txBytes: 0.1e9, rxBytes: 0, bootId: 'boot-2' });
    expect(l.usage()[0]!.usedBytes).toBe(7.5e9 + 0.1e9);
  });

  it('warns at 80%, says when it is used up, and stops the link only when told to', async () => {
    const plans: DataPlan[] = [
      { ...PLAN, name: 'sim-a', monthlyBytes: 1e9 },
      { ...PLAN, name: 'sim-b', monthlyBytes: 1e9, stopAtLimit: true },
    ];
    const l = await DataLedger.open(file(), plans, () => new Date(2026, 11, 20));
    for (const p of ['sim-a', 'sim-b']) l.record(p, { iface: p, txBytes: 0, rxBytes: 0, bootId: BOOT });
    l.record('sim-a', { iface: 'sim-a', txBytes: 0.85e9, rxBytes: 0, bootId: BOOT });
    l.record('sim-b', { iface: 'sim-b', txBytes: 0.9e9, rxBytes: 0.15e9, bootId: BOOT });
    expect(l.alerts()).toEqual([
      {
        code: 'DATA_PLAN_LOW:sim-a',
        level: 'warn',
        message: 'data plan sim-a has used 85% (850 MB of its 1.0 GB); it starts again on 2027-01-15',
      },
      {
        code: 'DATA_PLAN_USED_UP:sim-b',
        level: 'error',
        message: 'data plan sim-b is used up (1.1 GB of its 1.0 GB): its link is not used until 2027-01-15',
      },
    ]);
    expect(l.usage().map((u) => u.stopped)).toEqual([false, true]);
  });

  it('starts from zero on the billing day, kept across a restart until then', async () => {
    const f = file();
    let now = new Date(2027, 0, 14, 23, 0);
    let l = await DataLedger.open(f, [PLAN], () => now);
    l.record('sim-a', { iface: 'wwan0', txBytes: 0, rxBytes: 0, bootId: BOOT });
    l.record('sim-a', { iface: 'wwan0', txBytes: 3e9, rxBytes: 0, bootId: BOOT });
    await l.save();
    l = await DataLedger.open(f, [PLAN], () => now);
    expect(l.usage()[0]).toMatchObject({ usedBytes: 3e9, periodStart: '2026-12-15' });
    now = new Date(2027, 0, 15, 0, 30);
    expect(l.usage()[0]).toMatchObject({ usedBytes: 0, periodStart: '2027-01-15', nextReset: '2027-02-15' });
    l.record('sim-a', { iface: 'wwan0', txBytes: 3e9 + 5e6, rxBytes: 0, bootId: BOOT });
    expect(l.usage()[0]!.usedBytes).toBe(5e6);
  });

  it('a torn or foreign ledger file starts the ledger again rather than failing the box', async () => {
    const f = file();
    writeFileSync(f, '{"version":1,"plans":{"sim-a":');
    const l = await DataLedger.open(f, [PLAN], () => new Date(2026, 11, 20));
    expect(l.usage()[0]!.usedBytes).toBe(0);
    l.record('sim-a', { iface: 'wwan0', txBytes: 1, rxBytes: 1, bootId: BOOT });
    await l.save();
    expect(JSON.parse(readFileSync(f, 'utf8'))).toMatchObject({ version: 1, plans: { 'sim-a': { periodStart: '2026-12-15' } } });
  });
});
