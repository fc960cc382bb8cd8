/** Bonded uplinks (SRTLA): the wire protocol, the sender and its scheduler, the receiver. */
export * from './errors.js';
export { LINK_TUNING } from './link-state.js';
export * from './protocol.js';
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
