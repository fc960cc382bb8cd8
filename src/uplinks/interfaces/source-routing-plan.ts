/**
 * Source routing as a plan (pure; CONVENTIONS.md §7). Each uplink gets a
 * routing table of its own, holding its connected subnet and a default route
 * out of that interface, and a rule sending everything *from* its address to
 * that table. A socket bound to the uplink's address then leaves by that
 * uplink, whatever the main table's default is (the bonded links bind so:
 * src/bond/sender-link.ts).
 *
 * Fieldcast owns a range of tables (`tableBase` … `tableBase + tableCount - 1`)
 * and the rule priorities beside them. The planner compares what should be
 * with what `ip -json rule show` and `ip -json route show table all` report
 * for that range and returns only the `ip` commands that close the gap: a
 * second run over a settled state plans nothing, and rules or routes in the
 * range that nothing wants (an uplink gone, an old address, leftovers of a
 * crash) are deleted one by one. Nothing outside the range is touched.
 */
import { UplinkConfigError } from './errors.js';
import type { IpRoute, IpRule } from './ip-json.js';
import type { Uplink } from './types.js';

export interface RoutingRange {
  /** First table number; default 100. */
  tableBase: number;
  /** How many tables (and so uplinks) at most; default 32. */
  tableCount: number;
  /** Priority of the first table's rule (before the main table's 32766); default 1000. */
  priorityBase: number;
}

export const DEFAULT_ROUTING_RANGE: RoutingRange = { tableBase: 100, tableCount: 32, priorityBase: 1000 };

/** Tables the kernel reserves: unspec, default, main, local (rtnetlink.h). */
const RESERVED_TABLES = [0, 253, 254, 255];
/** The main table's rule; ours must come first. */
const MAIN_RULE_PRIORITY = 32766;

export function checkRoutingRange(r: RoutingRange): void {
  const bad = (key: string, value: number, expected: string): never => {
    throw new UplinkConfigError(`source routing: ${key} ${value} is not ${expected}`, { key, value, expected });
  };
  if (!Number.isInteger(r.tableCount) || r.tableCount < 1 || r.tableCount > 1024) bad('tableCount', r.tableCount, 'a whole number 1–1024');
  if (!Number.isInteger(r.tableBase) || r.tableBase < 1 || r.tableBase + r.tableCount - 1 > 0xffffffff) {
    bad('tableBase', r.tableBase, 'a table number');
  }
  for (const t of RESERVED_TABLES) {
    if (t >= r.tableBase && t < r.tableBase + r.tableCount) bad('tableBase', r.tableBase, `a range clear of the reserved table ${t}`);
  }
  if (!Number.isInteger(r.priorityBase) || r.priorityBase < 1 || r.priorityBase + r.tableCount - 1 >= MAIN_RULE_PRIORITY) {
    bad('priorityBase', r.priorityBase, `a rule priority from 1 that leaves room for ${r.tableCount} rules before ${MAIN_RULE_PRIORITY}`);
  }
}

export function ownsTable(range: RoutingRange, table: number | undefined): table is number {
  return table !== undefined && table >= range.tableBase && table < range.tableBase + range.tableCount;
}

/** One uplink's table and rule, as they should be. */
export interface UplinkRouting {
  uplink: string;
  /** Slot in the range: table = tableBase + slot, priority = priorityBase + slot. */
  slot: number;
  table: number;
  priority: number;
  address: string;
  subnet?: string;
  gateway?: string;
}

/** What the kernel has now in the owned range. */
export interface RoutingState {
  rules: readonly IpRule[];
  routes: readonly IpRoute[];
}

export type RoutingStepOp = 'route-replace' | 'rule-add' | 'rule-delete' | 'route-delete';

export interface RoutingStep {
  op: RoutingStepOp;
  table: number;
  /** The uplink it is for; absent when deleting something no uplink wants. */
  uplink?: string;
  /** The arguments of `ip`, without `ip` itself. */
  args: readonly string[];
}

/**
 * Gives each uplink a slot (pure). An uplink keeps the slot it had; one new
 * to this process takes the table of a rule already there for its address
 * (a restart changes nothing), else the lowest free slot, preferring slots
 * no gone uplink held (its table may come back with it). Uplinks beyond the
 * range's size get none and are returned in `unassigned`.
 */
export function assignSlots(
  uplinks: readonly Uplink[],
  previous: ReadonlyMap<string, number>,
  current: readonly IpRule[],
  range: RoutingRange,
): { slots: Map<string, number>; unassigned: string[] } {
  const names = new Set(uplinks.map((u) => u.name));
  const slots = new Map<string, number>();
  const taken = new Set<number>();
  for (const u of uplinks) {
    const s = previous.get(u.name);
    if (s !== undefined && s < range.tableCount && !taken.has(s)) {
      slots.set(u.name, s);
      taken.add(s);
    }
  }
  for (const u of uplinks) {
    if (slots.has(u.name)) continue;
    const rule = current.find((r) => r.src === u.address && ownsTable(range, r.table) && !taken.has(r.table - range.tableBase));
    if (rule?.table !== undefined) {
      slots.set(u.name, rule.table - range.tableBase);
      taken.add(rule.table - range.tableBase);
    }
  }
  const heldByGone = new Set([...previous].filter(([n]) => !names.has(n)).map(([, s]) => s));
  const unassigned: string[] = [];
  for (const u of uplinks) {
    if (slots.has(u.name)) continue;
    let pick: number | undefined;
    for (let s = 0; s < range.tableCount && pick === undefined; s++) if (!taken.has(s) && !heldByGone.has(s)) pick = s;
    for (let s = 0; s < range.tableCount && pick === undefined; s++) if (!taken.has(s)) pick = s;
    if (pick === undefined) {
      unassigned.push(u.name);
      continue;
    }
    slots.set(u.name, pick);
    taken.add(pick);
  }
  // Gone uplinks keep their slot while nobody needs it.
  for (const [n, s] of previous) if (!names.has(n) && !taken.has(s)) slots.set(n, s);
  return { slots, unassigned };
}

/** The tables and rules the uplinks should have (uplinks without a slot are left out). */
export function desiredRouting(uplinks: readonly Uplink[], slots: ReadonlyMap<string, number>, range: RoutingRange): UplinkRouting[] {
  const out: UplinkRouting[] = [];
  for (const u of uplinks) {
    const slot = slots.get(u.name);
    if (slot === undefined) continue;
    const r: UplinkRouting = {
      uplink: u.name,
      slot,
      table: range.tableBase + slot,
      priority: range.priorityBase + slot,
      address: u.address,
    };
    if (u.subnet !== undefined) r.subnet = u.subnet;
    if (u.gateway !== undefined) r.gateway = u.gateway;
    out.push(r);
  }
  return out;
}

interface WantedRoute {
  dst: string;
  dev: string;
  gateway?: string;
}

function wantedRoutes(d: UplinkRouting): WantedRoute[] {
  const out: WantedRoute[] = [];
  if (d.subnet !== undefined) out.push({ dst: d.subnet, dev: d.uplink });
  out.push(d.gateway !== undefined ? { dst: 'default', dev: d.uplink, gateway: d.gateway } : { dst: 'default', dev: d.uplink });
  return out;
}

function routeMatches(have: IpRoute, want: WantedRoute): boolean {
  return (
    have.type === 'unicast' &&
    have.dst === want.dst &&
    have.dev === want.dev &&
    have.gateway === want.gateway &&
    (have.metric === undefined || have.metric === 0)
  );
}

function ruleMatches(have: IpRule, want: UplinkRouting): boolean {
  return (
    have.priority === want.priority &&
    have.src === want.address &&
    (have.srclen === undefined || have.srclen === 32) &&
    have.table === want.table &&
    have.otherSelectors.length === 0
  );
}

function routeReplaceArgs(table: number, w: WantedRoute): string[] {
  const via = w.gateway !== undefined ? ['via', w.gateway] : [];
  return ['route', 'replace', w.dst, ...via, 'dev', w.dev, 'table', String(table)];
}

function routeDeleteArgs(r: IpRoute): string[] {
  const args = ['route', 'del'];
  if (r.type !== 'unicast') args.push(r.type);
  args.push(r.dst);
  if (r.gateway !== undefined) args.push('via', r.gateway);
  if (r.dev !== undefined) args.push('dev', r.dev);
  if (r.metric !== undefined) args.push('metric', String(r.metric));
  args.push('table', String(r.table));
  return args;
}

function ruleFrom(r: IpRule): string {
  return r.srclen !== undefined && r.src !== 'all' ? `${r.src}/${r.srclen}` : r.src;
}

/**
 * The commands that take the owned range from `current` to `desired`, in a
 * safe order: routes first (a rule never points at an empty table), then new
 * rules, then the deletion of old ones (an address change adds the new rule
 * before the old one goes), and last the routes nothing wants.
 */
export function planSourceRouting(desired: readonly UplinkRouting[], current: RoutingState, range: RoutingRange): RoutingStep[] {
  const routeReplaces: RoutingStep[] = [];
  const ruleAdds: RoutingStep[] = [];
  const ruleDeletes: RoutingStep[] = [];
  const routeDeletes: RoutingStep[] = [];
  const ownedRoutes = current.routes.filter((r) => ownsTable(range, r.table));
  const ownedRules = current.rules.filter((r): r is IpRule & { table: number } => ownsTable(range, r.table));

  const keptRoutes = new Set<IpRoute>();
  for (const d of desired) {
    for (const w of wantedRoutes(d)) {
      const have = ownedRoutes.find((r) => r.table === d.table && !keptRoutes.has(r) && routeMatches(r, w));
      if (have) keptRoutes.add(have);
      else routeReplaces.push({ op: 'route-replace', table: d.table, uplink: d.uplink, args: routeReplaceArgs(d.table, w) });
    }
  }
  const keptRules = new Set<IpRule>();
  for (const d of desired) {
    const have = ownedRules.find((r) => !keptRules.has(r) && ruleMatches(r, d));
    if (have) keptRules.add(have);
    else {
      ruleAdds.push({
        op: 'rule-add',
        table: d.table,
        uplink: d.uplink,
        args: ['rule', 'add', 'from', d.address, 'lookup', String(d.table), 'priority', String(d.priority)],
      });
    }
  }
  for (const r of ownedRules) {
    if (keptRules.has(r)) continue;
    ruleDeletes.push({
      op: 'rule-delete',
      table: r.table,
      args: ['rule', 'del', 'priority', String(r.priority), 'from', ruleFrom(r), ...r.otherSelectors, 'lookup', String(r.table)],
    });
  }
  for (const r of ownedRoutes) {
    if (keptRoutes.has(r)) continue;
    // A route replace above overwrites a route of the same destination and metric in place; deleting it would undo that.
    const replaced = routeReplaces.some(
      (s) => s.table === r.table && s.args[2] === r.dst && r.type === 'unicast' && (r.metric === undefined || r.metric === 0),
    );
    if (!replaced) routeDeletes.push({ op: 'route-delete', table: r.table, args: routeDeleteArgs(r) });
  }
  return [...routeReplaces, ...ruleAdds, ...ruleDeletes, ...routeDeletes];
}
