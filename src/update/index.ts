export { UpdateError, type UpdateErrorCode } from './errors.js';
export { type InstallOptions, installBundle, RAUC_SYSTEM_CONF, requestReboot } from './install.js';
export { isHealthyState, MARK_GOOD_RETRY_MS, type SlotMarkEvent, SlotMarker, type SlotMarkerState } from './mark-good.js';
export {
  bootedSlotFromCmdline,
  classifyInstallFailure,
  type InstallProgress,
  parseProgressLine,
  Rauc,
  type RaucRun,
  type RaucRunner,
} from './rauc.js';
