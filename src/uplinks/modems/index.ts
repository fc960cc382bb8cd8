/**
 * Modems read over their AT port: the command channel, the readings
 * (identity, SIM, network, signal), the APN, healing, finding the port,
 * and the profiles in hardware/modems/.
 */

export { checkApn, type PdpType, type SetApnOptions, setApn } from './apn.js';
export { AtChannel, type AtChannelEvents, type AtChannelOptions, type AtChannelState, type SendOptions } from './at-channel.js';
export { commandTimeoutMs, DEFAULT_COMMAND_TIMEOUT_MS, displayCommand } from './at-command.js';
export { type AtParserEvent, type AtReply, AtReplyParser } from './at-parser.js';
export type { AtCommander } from './commander.js';
export {
  type AtPortCandidate,
  atPortLocator,
  type DiscoveryOptions,
  discoverAtPorts,
  findAtPortCandidates,
  listUsbTtys,
  type PortProbe,
  probeAtPort,
  type UsbTty,
} from './discovery.js';
export * from './errors.js';
export { formatModemReading, maskedReading } from './format.js';
export { type HealingEvent, ModemHealer, type ModemHealerEvents, type ModemHealerOptions } from './healer.js';
export {
  DEFAULT_HEALING_POLICY,
  EMPTY_HEALING_HISTORY,
  type HealingDecision,
  type HealingFacts,
  type HealingHistory,
  type HealingPolicy,
  type HealingStep,
  type HealingStepKind,
  observeHealing,
  planHealing,
  recordHealingStep,
} from './healing.js';
export type { ModemIdentity } from './identity.js';
export {
  ModemManager,
  type ModemManagerEvents,
  type ModemManagerOptions,
  ModemManagerStateError,
  type ModemStatus,
  netInterfaceOf,
} from './manager.js';
export { maskDigitRuns, maskIdentifier } from './masking.js';
export type { AccessTechnology, OperatorInfo, RegistrationReading } from './network.js';
export {
  DEFAULT_PROFILE_DIR,
  GENERIC_PROFILE,
  loadModemProfiles,
  type ModemNetworkMode,
  type ModemProfile,
  parseModemProfile,
  profileByName,
  profileForIdentity,
  profileForUsb,
} from './profiles.js';
export { type ModemReading, type ReadModemOptions, readModem } from './reader.js';
export type { RegistrationDomain, RegistrationInfo, RegistrationState } from './registration.js';
export { type AtTransport, type OpenTransport, openSerialTransport } from './serial-transport.js';
export { type CellSignal, type CsqSignal, csqToDbm, type ExtendedSignal, type RadioTech } from './signal.js';
export { checkPin, type SimState, type SimStatus } from './sim.js';
export type { ModemUrc } from './urc.js';
