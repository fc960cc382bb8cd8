/** Bonded uplinks (SRTLA): the wire protocol, the sender and its scheduler, the receiver. */
export * from './errors.js';
export { LINK_TUNING } from './link-state.js';
export * from './protocol.js';
export { BondReceiver, type BondReceiverOptions, parseForwardTarget, RECEIVER_DEFAULTS, type ReceiverEvents } from './receiver.js';
export { ReceiverOptionsError, ReceiverStartError } from './receiver-errors.js';
export { serveReceiverMetrics } from './receiver-http.js';
export { DEFAULT_REGISTRATION_LIMITS, type RegistrationLimits } from './receiver-limits.js';
export type { GroupStatsSnapshot, LinkStatsSnapshot, ReceiverStats } from './receiver-stats.js';
export { ReorderBuffer, type ReorderStats } from './reorder.js';
export { type LinkStateName, type LinkStats, SCHEDULER_TUNING, Scheduler, type SchedulerLinkOptions } from './scheduler.js';
export {
  BondSender,
  type BondSenderEvents,
  type BondSenderOptions,
  type BondSenderStats,
  SENDER_TIMING,
  type SenderLinkStats,
} from './sender.js';
export type { BondLinkOptions } from './sender-link.js';
export * from './sequence.js';
