/** Board profiles (hardware/boards): which board this is and what of its profile is here. */
export { type BoardCheck, type BoardCheckInput, boardCheckText, checkBoard, displayNode } from './check.js';
export { type BoardIdentity, type BoardMatch, detectBoard, matchBoard, readBoardIdentity } from './detect.js';
export { BoardProfileError } from './errors.js';
export {
  BOARD_CODECS,
  type BoardProfile,
  BoardProfileSchema,
  DEFAULT_BOARD_DIR,
  GENERIC_BOARD,
  loadBoardProfiles,
  parseBoardProfile,
} from './profile.js';
