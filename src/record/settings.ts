/** The recorder's settings: the config's `recording` section, checked where the config was loaded. */
import type { RecordingConfigT } from '../config/schema.js';

export type RecordingSettings = Omit<RecordingConfigT, 'enabled'>;

/** The folder of the state directory that holds the recordings. */
export const RECORDINGS_DIR = 'recordings';
