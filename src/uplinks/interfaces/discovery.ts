/**
 * Discovery: every network interface of the box (or of a namespace), what
 * kind it is, whether it is up, its addresses and its default gateway.
 *
 * `ip -json addr show` says which interfaces exist and their addresses;
 * sysfs says what each one is and its link state; `ip -json route show`
 * gives each interface's default gateway in the main table. The two `ip`
 * calls and the sysfs reads run in parallel (a scan is a few milliseconds).
 */
import { classifyInterface } from './classify.js';
import { UplinkDiscoveryError } from './errors.js';
import { createIpCommand, type IpCommand } from './ip-command.js';
import { type IpLink, type IpRoute, MAIN_TABLE, parseAddrShow, parseRouteShow } from './ip-json.js';
import { DEFAULT_SYS_ROOT, hasSysfsInterface, readSysfsFacts } from './sysfs.js';
import type { DiscoveredInterface, OperState, SysfsFacts } from './types.js';

export interface DiscoveryOptions {
  /** Default /sys. In a namespace, a sysfs mounted from inside it. */
  sysRoot?: string;
  /** Default: `ip` of this box's own namespace. */
  ip?: IpCommand;
}

/** The lowest-metric IPv4 default gateway of each interface in `routes`. */
export function gatewaysByInterface(routes: readonly IpRoute[]): Map<string, string> {
  const best = new Map<string, { gateway: string; metric: number }>();
  for (const r of routes) {
    if (r.dst !== 'default' || r.type !== 'unicast' || r.table !== MAIN_TABLE) continue;
    if (r.dev === undefined || r.gateway === undefined || r.gateway.includes(':')) continue;
    const metric = r.metric ?? 0;
    const had = best.get(r.dev);
    if (had === undefined || metric < had.metric) best.set(r.dev, { gateway: r.gateway, metric });
  }
  return new Map([...best].map(([dev, v]) => [dev, v.gateway]));
}

/**
 * Up means administratively up and the link working: operstate `up`, or
 * `unknown` with carrier, which is how tun-like and raw-IP modem drivers
 * report a working link.
 */
export function isLinkUp(operstate: OperState, adminUp: boolean, carrier: boolean | undefined): boolean {
  if (!adminUp) return false;
  if (operstate === 'up') return true;
  return operstate === 'unknown' && carrier !== false;
}

/** Joins one `ip` link with its sysfs facts (pure). Facts of a vanished interface are `undefined`. */
export function describeInterface(link: IpLink, facts: SysfsFacts | undefined, gateway: string | undefined): DiscoveredInterface {
  const f: SysfsFacts = facts ?? { hasDevice: false, wireless: false };
  const operstate = f.operstate ?? link.operstate;
  const adminUp = f.adminUp ?? link.flags.includes('UP');
  const carrier = f.carrier ?? (adminUp ? link.flags.includes('LOWER_UP') : undefined);
  const out: DiscoveredInterface = {
    name: link.name,
    index: link.index,
    // Without sysfs (the interface vanished mid-scan, or a sysfs of another namespace) only loopback is certain.
    kind: facts !== undefined ? classifyInterface(link.name, f) : link.linkType === 'loopback' ? 'virtual' : 'other',
    operstate,
    adminUp,
    up: isLinkUp(operstate, adminUp, carrier),
    addresses: link.addresses,
  };
  if (carrier !== undefined) out.carrier = carrier;
  if (f.driver !== undefined) out.driver = f.driver;
  if (f.bus !== undefined) out.bus = f.bus;
  if (gateway !== undefined) out.gateway = gateway;
  return out;
}

export async function discoverInterfaces(opts: DiscoveryOptions = {}): Promise<DiscoveredInterface[]> {
  const sysRoot = opts.sysRoot ?? DEFAULT_SYS_ROOT;
  const ip = opts.ip ?? createIpCommand();
  let addrText: string;
  let routeText: string;
  try {
    [addrText, routeText] = await Promise.all([
      ip.run(['-json', 'addr', 'show']),
      ip.run(['-4', '-N', '-json', 'route', 'show', 'table', 'main']),
    ]);
  } catch (err) {
    throw new UplinkDiscoveryError('cannot list the network interfaces', { netns: ip.netns }, err);
  }
  const links = parseAddrShow(addrText);
  const gateways = gatewaysByInterface(parseRouteShow(routeText));
  const facts = await Promise.all(
    links.map(async (l) => ((await hasSysfsInterface(sysRoot, l.name)) ? readSysfsFacts(sysRoot, l.name) : undefined)),
  );
  return links.map((l, i) => describeInterface(l, facts[i], gateways.get(l.name)));
}
