/**
 * Reading the output of `ip -json monitor link address route` (pure).
 *
 * iproute2 prints one JSON object per event where it supports JSON for
 * `monitor` (6.x); older versions ignore `-json` there and print the plain
 * text of `ip link`/`ip addr`/`ip route`, with `Deleted ` before a removal
 * and indented continuation lines. Both are read here. The monitor only
 * needs to know that something changed, and where: it rescans anyway, so an
 * event is a hint, and a line this cannot read is dropped (never thrown).
 */

export type MonitorEventKind = 'link' | 'address' | 'route';

export interface MonitorEvent {
  kind: MonitorEventKind;
  deleted: boolean;
  /** The interface it concerns, when the line names one. */
  ifname?: string;
}

/** `5: vc@vd: <BROADCAST,…> mtu …` */
const TEXT_LINK = /^(\d+):\s+([^\s:@]+)(?:@[^\s:]+)?:\s+<[^>]*>/;
/** `5: vc    inet 10.0.3.1/24 scope global vc` */
const TEXT_ADDR = /^(\d+):\s+(\S+)\s+inet6?\s+\S+/;
/** The start of an `ip route` line: a route type or a destination. */
const TEXT_ROUTE =
  /^(?:(?:unicast|local|broadcast|multicast|anycast|unreachable|blackhole|prohibit|throw|nat)\s+)?(?:default|\d{1,3}(?:\.\d{1,3}){3}(?:\/\d+)?|[0-9a-f]*:[0-9a-f]*:[0-9a-f:.]*(?:\/\d+)?)(?:\s|$)/i;
const ROUTE_DEV = /\sdev\s+(\S+)/;
/** `[LINK]`, `[ADDR]`, `[ROUTE]` tags when monitoring several objects with `label`. */
const TAG = /^\[(LINK|ADDR|ROUTE|NEIGH|RULE|NETCONF|NSID)\]\s*/;
/** A line longer than this is not iproute2 output: drop it rather than hold it. */
export const MAX_LINE_LENGTH = 64 * 1024;

function parseJsonLine(line: string): MonitorEvent | undefined {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return undefined;
  const r = o as Record<string, unknown>;
  const deleted = r['deleted'] === true || r['event'] === 'deleted';
  const name = (k: string): string | undefined => (typeof r[k] === 'string' && r[k] !== '' ? (r[k] as string) : undefined);
  let kind: MonitorEventKind | undefined;
  if (Array.isArray(r['addr_info']) || (name('local') !== undefined && typeof r['prefixlen'] === 'number')) kind = 'address';
  else if (name('dst') !== undefined) kind = 'route';
  else if (name('ifname') !== undefined) kind = 'link';
  if (kind === undefined) return undefined;
  const ev: MonitorEvent = { kind, deleted };
  const ifname = name('ifname') ?? name('dev') ?? name('label');
  if (ifname !== undefined) ev.ifname = ifname;
  return ev;
}

export function parseMonitorLine(raw: string): MonitorEvent | undefined {
  if (raw.length > MAX_LINE_LENGTH) return undefined;
  // Continuation lines (`    link/ether …`, `valid_lft …`) belong to the event above.
  if (/^\s/.test(raw)) return undefined;
  let line = raw.trimEnd();
  if (line === '') return undefined;
  if (line.startsWith('{')) return parseJsonLine(line);
  const tag = TAG.exec(line);
  if (tag) {
    if (tag[1] !== 'LINK' && tag[1] !== 'ADDR' && tag[1] !== 'ROUTE') return undefined;
    line = line.slice(tag[0].length);
  }
  let deleted = false;
  if (line.startsWith('Deleted ')) {
    deleted = true;
    line = line.slice('Deleted '.length);
  }
  const link = TEXT_LINK.exec(line);
  if (link) return { kind: 'link', deleted, ifname: link[2]! };
  const addr = TEXT_ADDR.exec(line);
  if (addr) return { kind: 'address', deleted, ifname: addr[2]! };
  if (TEXT_ROUTE.test(line)) {
    const dev = ROUTE_DEV.exec(line);
    return dev ? { kind: 'route', deleted, ifname: dev[1]! } : { kind: 'route', deleted };
  }
  return undefined;
}

/** Splits a byte stream into lines; a partial last line waits for the next chunk. */
export class LineSplitter {
  private rest = '';

  /** The complete lines in `chunk` (and before it). */
  push(chunk: string): string[] {
    const text = this.rest + chunk;
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    if (this.rest.length > MAX_LINE_LENGTH) this.rest = ''; // garbage without newlines: drop, do not grow
    return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  }

  /** What is left when the stream ends. */
  end(): string[] {
    const last = this.rest;
    this.rest = '';
    return last === '' ? [] : [last];
  }
}
