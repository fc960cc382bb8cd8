/**
 * SRT transport (libsrt in the addon): URLs, one connection, the
 * reconnecting output, statistics and errors.
 */
export {
  SrtConnection,
  type SrtConnectionEvents,
  type SrtConnectionOptions,
  type SrtConnectionState,
  type SrtPeerInfo,
  startListening,
} from './connection.js';
export * from './errors.js';
export { SrtOutput, type SrtOutputCounters, type SrtOutputEvents, type SrtOutputOptions, type SrtOutputState } from './output.js';
export { Secret } from './secret.js';
export { describeStats, type SrtStats } from './stats.js';
export {
  endpointTarget,
  formatSrtUrl,
  parseSrtUrl,
  type SrtEndpoint,
  type SrtEndpointOverrides,
  type SrtMode,
  validateEndpoint,
} from './url.js';
