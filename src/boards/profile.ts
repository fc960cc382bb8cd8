/**
 * Board profiles: one JSON file per board family in hardware/boards/, saying
 * how to recognise the board, where its capture device is, which H.264
 * encoders it has (in the order to try them), which display and pins its
 * front panel uses, and which thermal zones tell its temperature. Adding a
 * board is adding a file; `generic` is the fallback for a board no profile
 * names.
 */
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { loadProfileDir, type ProfileDirSpec, parseProfile } from '../lib/profile-dir.js';
import { EDID_TYPES } from '../media/edid.js';
import { DisplaySpec, PanelControlPins } from '../panel/index.js';
import { BoardProfileError } from './errors.js';

/** hardware/boards at the package root, from src/boards or dist/boards alike. */
export const DEFAULT_BOARD_DIR = fileURLToPath(new URL('../../hardware/boards/', import.meta.url));

export const GENERIC_BOARD = 'generic';

/** The H.264 encoders the pipeline can open (the config's video.codec, less auto). */
export const BOARD_CODECS = ['h264_v4l2m2m', 'h264_vaapi', 'h264_nvenc', 'h264_rkmpp', 'libx264'] as const;

export const BoardProfileSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9-]+$/, 'lower case letters, digits and dashes'),
  description: z.string().min(1),
  /** How the board is recognised; the first profile whose rule holds wins, device tree before architecture. */
  match: z
    .strictObject({
      /** Any of these in the device tree's `compatible` list (/proc/device-tree/compatible). */
      compatible: z.array(z.string().min(1)).default([]),
      /** The CPU architecture (Node's process.arch), for boards without a device tree (x86). */
      arch: z.array(z.enum(['x64', 'arm64', 'arm', 'ia32'])).default([]),
    })
    .prefault({}),
  capture: z.strictObject({
    /** V4L2 driver names (VIDIOC_QUERYCAP) of the board's HDMI/SDI capture, best first. */
    drivers: z.array(z.string().min(1)).min(1),
    /** The input to select on it. */
    input: z.number().int().min(0).max(63).default(0),
    /** The EDID to load into an HDMI bridge that has none of its own (TC358743), before each capture: v4l2-ctl's built-in type. */
    edid: z.enum(EDID_TYPES).optional(),
    note: z.string().optional(),
  }),
  encoder: z.strictObject({
    /** The encoders `video.codec: auto` tries on this board, in order; the first that opens is used. */
    codecs: z.array(z.enum(BOARD_CODECS)).min(1),
    note: z.string().optional(),
  }),
  panel: z
    .strictObject({
      display: DisplaySpec.optional(),
      /** The buttons and LEDs: button (long press: go live or stop; short: next page), button2 (next page), tally, error. */
      controls: PanelControlPins.optional(),
    })
    .prefault({}),
  thermal: z
    .strictObject({
      /** Thermal zone types (/sys/class/thermal/thermal_zone*\/type) that tell the board's temperature; none: every zone. */
      zones: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
});

export type BoardProfile = z.output<typeof BoardProfileSchema>;

const PROFILES: ProfileDirSpec<BoardProfile> = {
  what: 'board profile',
  schema: BoardProfileSchema as z.ZodType<BoardProfile>,
  fail: (message, details) => new BoardProfileError(message, details),
};

/** Validates one profile; the error names the source and each problem with its key. */
export function parseBoardProfile(value: unknown, source: string): BoardProfile {
  return parseProfile(PROFILES, value, source);
}

/** Every profile in `dir`, sorted by name; the generic one must be there. */
export function loadBoardProfiles(dir = DEFAULT_BOARD_DIR): Promise<BoardProfile[]> {
  return loadProfileDir(PROFILES, dir, GENERIC_BOARD);
}
