/**
 * The EDID an HDMI capture input shows the camera. A bridge such as the
 * TC358743 has none of its own: until one is loaded the source sees no
 * display and sends nothing. Loaded through V4L2 (VIDIOC_S_EDID on the input
 * or the bridge's subdevice) with v4l2-ctl's built-in CTA-861 EDIDs, so the
 * modes offered are the ones that tool's maintainers keep right.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CaptureEdidError } from './errors.js';

const run = promisify(execFile);

/** v4l2-ctl's built-in HDMI EDIDs (`v4l2-ctl --help-edid`), by the most each offers. */
export const EDID_TYPES = ['hdmi', 'hdmi-4k-170mhz', 'hdmi-4k-300mhz', 'hdmi-4k-600mhz'] as const;
export type EdidType = (typeof EDID_TYPES)[number];

/** What each offers the camera, in words. */
export const EDID_OFFERS: Record<EdidType, string> = {
  hdmi: 'up to 1080p60',
  'hdmi-4k-170mhz': 'up to 1080p60 or 2160p30 4:2:0',
  'hdmi-4k-300mhz': 'up to 2160p30',
  'hdmi-4k-600mhz': 'up to 2160p60',
};

/** Reads the EDID of `pad` (the input index) on `device` as bytes; empty when it has none. */
export async function readEdid(device: string, pad: number): Promise<Buffer> {
  const { stdout } = await run('v4l2-ctl', ['-d', device, `--get-edid=pad=${pad},format=hex`], { timeout: 10_000 });
  // Hex lines of up to 16 bytes, perhaps indented or spaced; the rest (headings, a decode) is skipped.
  const hex = stdout
    .split('\n')
    .map((l) => l.replace(/\s+/g, ''))
    .filter((l) => /^([0-9a-f]{2})+$/i.test(l))
    .join('');
  return Buffer.from(hex, 'hex');
}

/**
 * Gives input `pad` of `device` the EDID `type`, then reads it back: resolves
 * with its size in 128-byte blocks, or throws CaptureEdidError saying what the
 * driver answered.
 */
export async function loadEdid(device: string, pad: number, type: EdidType): Promise<{ blocks: number }> {
  const fail = (why: string): never => {
    throw new CaptureEdidError(
      `cannot give ${device} input ${pad} an HDMI EDID (${EDID_OFFERS[type]}): ${why}; the camera may see no display and send nothing`,
      { device, pad, type },
    );
  };
  let said = '';
  try {
    const r = await run('v4l2-ctl', ['-d', device, `--set-edid=pad=${pad},type=${type}`], { timeout: 10_000 });
    said = `${r.stdout}${r.stderr}`;
  } catch (err) {
    const e = err as Error & { stderr?: string; code?: unknown };
    fail(e.code === 'ENOENT' ? 'v4l2-ctl is not installed (Debian package v4l-utils)' : (e.stderr || e.message).trim());
  }
  // v4l2-ctl reports a refused ioctl on stderr, not always in its exit code.
  const refused = said.match(/VIDIOC_S_EDID: failed: (.*)/);
  if (refused) fail(`the driver refused it (${refused[1]!.trim()})`);
  const back = await readEdid(device, pad).catch((err: unknown) => fail((err as Error).message));
  if (back.length < 128 || back.subarray(0, 8).toString('hex') !== '00ffffffffffff00') fail('it did not read back');
  return { blocks: Math.floor(back.length / 128) };
}
