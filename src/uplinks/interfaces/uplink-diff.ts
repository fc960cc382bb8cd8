/** What changed between two lists of uplinks (pure): the monitor's events are made from this. */
import type { UnusableReason } from './selection.js';
import type { Uplink } from './types.js';

/** What about an uplink changed: its address (or prefix), its gateway, its link state. */
export type UplinkChange = 'address' | 'gateway' | 'state';

/** Why an uplink stopped being one: the interface is gone, it went down, it lost its IPv4 address. */
export type UplinkRemovedReason = 'gone' | UnusableReason;

export interface UplinkDiff {
  added: Uplink[];
  removed: Uplink[];
  changed: Array<{ uplink: Uplink; previous: Uplink; changes: UplinkChange[] }>;
}

export function uplinkChanges(previous: Uplink, next: Uplink): UplinkChange[] {
  const out: UplinkChange[] = [];
  if (previous.address !== next.address || previous.prefixLength !== next.prefixLength) out.push('address');
  if (previous.gateway !== next.gateway) out.push('gateway');
  if (previous.operstate !== next.operstate) out.push('state');
  return out;
}

export function diffUplinks(before: readonly Uplink[], after: readonly Uplink[]): UplinkDiff {
  const old = new Map(before.map((u) => [u.name, u]));
  const now = new Set(after.map((u) => u.name));
  const diff: UplinkDiff = { added: [], removed: before.filter((u) => !now.has(u.name)), changed: [] };
  for (const u of after) {
    const previous = old.get(u.name);
    if (previous === undefined) {
      diff.added.push(u);
      continue;
    }
    const changes = uplinkChanges(previous, u);
    if (changes.length > 0) diff.changed.push({ uplink: u, previous, changes });
  }
  return diff;
}

export function isEmptyDiff(d: UplinkDiff): boolean {
  return d.added.length === 0 && d.removed.length === 0 && d.changed.length === 0;
}
