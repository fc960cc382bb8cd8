/**
 * Readers of `ip -json` output (iproute2 ≥ 4.14). Each returns plain typed
 * records and skips entries that do not have the fields it needs, so an older
 * or newer iproute2 adding fields, or a half-torn-down interface, never throws.
 * Table numbers are read as numbers: callers pass `-N` so that names from
 * /etc/iproute2/rt_tables do not stand in for them.
 */
import type { InterfaceAddress, OperState } from './types.js';

export interface IpLink {
  index: number;
  name: string;
  /** IFF_* names: `UP`, `LOWER_UP`, `POINTOPOINT`… */
  flags: string[];
  operstate: OperState;
  /** `ether`, `loopback`, `none`, `ppp`… */
  linkType?: string;
  addresses: InterfaceAddress[];
}

export interface IpRoute {
  /** `default` or a CIDR / address. */
  dst: string;
  /** `unicast` unless `ip` says otherwise (`local`, `broadcast`, `unreachable`…). */
  type: string;
  dev?: string;
  gateway?: string;
  /** The routing table; 254 (main) when `ip` does not name one. */
  table: number;
  metric?: number;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
}

export interface IpRule {
  priority: number;
  /** `all`, or an address. */
  src: string;
  srclen?: number;
  /** Undefined when the rule's table is not a number (a `goto`, a `nop`, an unknown name). */
  table?: number;
  /** Selectors other than `from` (iif, oif, dst, fwmark…), as `ip rule` words, for an exact `ip rule del`. */
  otherSelectors: string[];
}

/** The main routing table (rtnetlink RT_TABLE_MAIN). */
export const MAIN_TABLE = 254;

const OPERSTATES: ReadonlySet<string> = new Set(['up', 'down', 'dormant', 'lowerlayerdown', 'notpresent', 'testing', 'unknown']);

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Json, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function num(o: Json, key: string): number | undefined {
  const v = o[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

/** Parses `ip -json …` output: an array of objects, anything else is no entries. */
export function parseJsonArray(text: string): Json[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return [];
  }
  return Array.isArray(parsed) ? parsed.filter(isObject) : [];
}

export function toOperState(v: unknown): OperState {
  const s = typeof v === 'string' ? v.toLowerCase() : '';
  return OPERSTATES.has(s) ? (s as OperState) : 'unknown';
}

function parseAddress(a: Json): InterfaceAddress | undefined {
  const family = a['family'] === 'inet' ? 4 : a['family'] === 'inet6' ? 6 : undefined;
  const local = str(a, 'local');
  const prefixLength = num(a, 'prefixlen');
  if (family === undefined || local === undefined || prefixLength === undefined) return undefined;
  // Addresses still in duplicate-address detection, or failed it, cannot be sent from.
  if (a['tentative'] === true || a['dadfailed'] === true) return undefined;
  const out: InterfaceAddress = {
    family,
    address: local,
    prefixLength,
    scope: str(a, 'scope') ?? 'global',
    secondary: a['secondary'] === true,
  };
  const peer = str(a, 'address');
  if (peer !== undefined && peer !== local) out.peer = peer;
  return out;
}

/** `ip -json addr show`: links with their addresses, IPv4 first. */
export function parseAddrShow(text: string): IpLink[] {
  const out: IpLink[] = [];
  for (const o of parseJsonArray(text)) {
    const index = num(o, 'ifindex');
    const name = str(o, 'ifname');
    if (index === undefined || name === undefined) continue;
    const flags = Array.isArray(o['flags']) ? o['flags'].filter((f): f is string => typeof f === 'string') : [];
    const infos = Array.isArray(o['addr_info']) ? o['addr_info'].filter(isObject) : [];
    const addresses = infos.map(parseAddress).filter((a): a is InterfaceAddress => a !== undefined);
    addresses.sort((x, y) => x.family - y.family); // stable: the kernel's order within a family
    const link: IpLink = { index, name, flags, operstate: toOperState(o['operstate']), addresses };
    const linkType = str(o, 'link_type');
    if (linkType !== undefined) link.linkType = linkType;
    out.push(link);
  }
  return out;
}

/** `ip -json route show …`. */
export function parseRouteShow(text: string): IpRoute[] {
  const out: IpRoute[] = [];
  for (const o of parseJsonArray(text)) {
    const dst = str(o, 'dst');
    if (dst === undefined) continue;
    const tableRaw = o['table'];
    let table: number | undefined = MAIN_TABLE;
    if (tableRaw !== undefined) table = tableRaw === 'main' ? MAIN_TABLE : num(o, 'table');
    if (table === undefined) continue; // a named table we do not own (local, default, a name)
    const route: IpRoute = { dst, type: str(o, 'type') ?? 'unicast', table };
    const dev = str(o, 'dev');
    if (dev !== undefined) route.dev = dev;
    const gateway = str(o, 'gateway');
    if (gateway !== undefined) route.gateway = gateway;
    const metric = num(o, 'metric');
    if (metric !== undefined) route.metric = metric;
    const protocol = str(o, 'protocol');
    if (protocol !== undefined) route.protocol = protocol;
    const scope = str(o, 'scope');
    if (scope !== undefined) route.scope = scope;
    const prefsrc = str(o, 'prefsrc');
    if (prefsrc !== undefined) route.prefsrc = prefsrc;
    out.push(route);
  }
  return out;
}

/** Keys of `ip -json rule show` that select packets besides `from`, and the `ip rule` word for each. */
const SELECTORS: ReadonlyArray<[key: string, word: string]> = [
  ['iif', 'iif'],
  ['oif', 'oif'],
  ['fwmark', 'fwmark'],
  ['tos', 'tos'],
  ['ipproto', 'ipproto'],
  ['sport', 'sport'],
  ['dport', 'dport'],
  ['uidrange', 'uidrange'],
];

/** `ip -json rule show` (IPv4). */
export function parseRuleShow(text: string): IpRule[] {
  const out: IpRule[] = [];
  for (const o of parseJsonArray(text)) {
    const priority = num(o, 'priority');
    const src = str(o, 'src');
    if (priority === undefined || src === undefined) continue;
    const rule: IpRule = { priority, src, otherSelectors: [] };
    const srclen = num(o, 'srclen');
    if (srclen !== undefined) rule.srclen = srclen;
    const table = o['table'] === 'main' ? MAIN_TABLE : num(o, 'table');
    if (table !== undefined) rule.table = table;
    const dst = str(o, 'dst');
    if (dst !== undefined && dst !== 'all') {
      const dstlen = num(o, 'dstlen');
      rule.otherSelectors.push('to', dstlen !== undefined ? `${dst}/${dstlen}` : dst);
    }
    if (o['not'] === true || o['flags'] === 'not') rule.otherSelectors.unshift('not');
    for (const [key, word] of SELECTORS) {
      const v = o[key];
      if (typeof v === 'string' || typeof v === 'number') rule.otherSelectors.push(word, String(v));
    }
    out.push(rule);
  }
  return out;
}
