/** The userspace link emulator (DESIGN.md "Test rig: Networks"). */
export {
  DIRECTION_DEFAULTS,
  type DirectionParams,
  type DirectionPatch,
  type DirectionPatchInput,
  type LinkSimConfig,
  type LinkSimConfigInput,
  LinkSimConfigSchema,
  type LinkSpecInput,
  parseLinkSimConfig,
  type ScheduleEvent,
} from './config.js';
export { LinkSimConfigError, LinkSimSocketError, LinkSimUsageError } from './errors.js';
export { type DirectionStats, type DropReason, Impairment, type Verdict } from './impairment.js';
export type { LinkStats } from './link.js';
export { type LinkChangeInput, type LinkHandle, LinkSim } from './linksim.js';
export { cellLink, VENUE_CAPACITY_BPS, VENUE_LINKS } from './presets.js';
export { deriveSeed, Prng } from './prng.js';
