/**
 * Uplink interfaces: discovery and classification (sysfs + `ip`), selection,
 * the monitor that follows changes, and per-uplink source routing.
 */
export { ARPHRD, CELLULAR_DRIVERS, classifyInterface } from './classify.js';
export { type DiscoveryOptions, discoverInterfaces } from './discovery.js';
export { UplinkConfigError, UplinkDiscoveryError, UplinkIpCommandError, UplinkRouteError, UplinkStateError } from './errors.js';
export { createIpCommand, type IpCommand, type IpCommandOptions, type IpProcess } from './ip-command.js';
export {
  DEFAULT_POLL_INTERVAL_MS,
  type MonitorMode,
  UplinkMonitor,
  type UplinkMonitorEvents,
  type UplinkMonitorOptions,
} from './monitor.js';
export { type MonitorEvent, parseMonitorLine } from './monitor-lines.js';
export { checkSelection, selectUplinks, type UnusableReason, type UplinkSelection, unusableReason } from './selection.js';
export { readRoutingState, SourceRouting, type SourceRoutingEvents, type SourceRoutingOptions } from './source-routing.js';
export {
  DEFAULT_ROUTING_RANGE,
  planSourceRouting,
  type RoutingRange,
  type RoutingState,
  type RoutingStep,
  type UplinkRouting,
} from './source-routing-plan.js';
export { DEFAULT_SYS_ROOT, readSysfsFacts } from './sysfs.js';
export {
  DEFAULT_UPLINK_KINDS,
  type DiscoveredInterface,
  type InterfaceAddress,
  type InterfaceKind,
  type OperState,
  type SysfsFacts,
  type Uplink,
} from './types.js';
export { diffUplinks, type UplinkChange, type UplinkRemovedReason } from './uplink-diff.js';
