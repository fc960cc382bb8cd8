/**
 * Reads the test pattern back from decoded pictures: the capture time drawn as
 * blocks, the once-a-second white flash and the second code drawn in it
 * (native/src/test_pattern.h holds the layout — change both together). Works
 * on 8-bit luma (ffmpeg `-f rawvideo -pix_fmt gray`). Used by tests and by
 * the latency and A/V sync benchmarks.
 */

const DATA_BITS = 64;
const BLOCKS = 3 + DATA_BITS + 1 + 1;
const BLOCK_DIVISOR = 72;
const BAND_NUM = 17;
const BAND_DEN = 20;
/** Second n of the pattern carries code n mod SECOND_CODES, in the flash and in the beep's pitch (kSecondCodes). */
export const SECOND_CODES = 16;
/** The code strip spans rows H/10 to 2H/10 (kSecondStripDivisor). */
const STRIP_DIVISOR = 10;
/** Luma steps below this between the code's dark cell and the white ones are not a code (as for the timecode's marks). */
const MIN_CONTRAST = 60;

export interface Timecode {
  /** Capture time on the media clock (µs of CLOCK_MONOTONIC) drawn in the picture. */
  captureUs: number;
  /** Luma contrast between the white and black marks: how clearly it was read. */
  contrast: number;
}

function blockLuma(gray: Uint8Array, width: number, cx: number, cy: number, rx: number, ry: number): number {
  let sum = 0;
  let n = 0;
  for (let y = cy - ry; y <= cy + ry; y++) {
    const row = y * width;
    for (let x = cx - rx; x <= cx + rx; x++) {
      sum += gray[row + x]!;
      n++;
    }
  }
  return sum / n;
}

/**
 * Reads the capture time from one picture's luma plane, or undefined when the
 * code is not there or fails its checks (start/end marks, even parity). Each
 * block is read at its centre (half its width and height), thresholded midway
 * between the white and black start marks, so encoding blur and level shifts
 * do not matter; a block too near that threshold makes the picture unread.
 */
export function readTimecode(gray: Uint8Array, width: number, height: number): Timecode | undefined {
  if (gray.length < width * height || width < BLOCK_DIVISOR * 2 || height < 40) return undefined;
  const bw = Math.floor(width / BLOCK_DIVISOR);
  const x0 = Math.floor((width - BLOCKS * bw) / 2);
  const top = Math.floor((height * BAND_NUM) / BAND_DEN);
  const band = height - top;
  const cy = top + Math.floor(band / 2);
  const rx = Math.max(0, Math.floor(bw / 4));
  const ry = Math.max(0, Math.floor(band / 4));
  const lumas = new Array<number>(BLOCKS);
  for (let i = 0; i < BLOCKS; i++) lumas[i] = blockLuma(gray, width, x0 + i * bw + Math.floor(bw / 2), cy, rx, ry);
  const white = (lumas[0]! + lumas[2]!) / 2;
  const black = lumas[1]!;
  const contrast = white - black;
  if (contrast < MIN_CONTRAST) return undefined;
  const threshold = (white + black) / 2;
  // A block within a quarter of the contrast of the threshold is smeared by
  // encoding (or damaged in transit): refuse the picture rather than read a
  // wrong time that parity, which catches one flipped bit, would let through.
  const margin = contrast / 4;
  if (lumas.some((l) => Math.abs(l - threshold) < margin)) return undefined;
  const bit = (i: number): number => (lumas[i]! > threshold ? 1 : 0);
  if (bit(0) !== 1 || bit(1) !== 0 || bit(2) !== 1 || bit(BLOCKS - 1) !== 1) return undefined;
  let value = 0n;
  let parity = 0;
  for (let i = 0; i < DATA_BITS; i++) {
    const b = bit(3 + i);
    parity ^= b;
    value = (value << 1n) | BigInt(b);
  }
  if (bit(3 + DATA_BITS) !== parity) return undefined;
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return { captureUs: Number(value), contrast };
}

/** Mean luma of the picture above the timecode band: about 235 on a flash frame, far less on bars. */
export function patternLuma(gray: Uint8Array, width: number, height: number): number {
  const top = Math.floor((height * BAND_NUM) / BAND_DEN);
  let sum = 0;
  // Every 4th pixel of every 4th row is plenty for a mean.
  let n = 0;
  for (let y = 0; y < top; y += 4) {
    for (let x = 0; x < width; x += 4) {
      sum += gray[y * width + x]!;
      n++;
    }
  }
  return n ? sum / n : 0;
}

/** True for the test pattern's once-a-second white flash. */
export function isFlashFrame(gray: Uint8Array, width: number, height: number): boolean {
  return patternLuma(gray, width, height) > 200;
}

/**
 * Reads the second code (0 .. SECOND_CODES-1) from a flash frame's luma
 * plane: the strip of cells of which exactly one is black. Each cell is read
 * at its centre (half its width and height) and thresholded midway between
 * the brightest and darkest cell; undefined unless exactly one cell is dark
 * and the two differ clearly, so a picture that is not a flash, or a mark
 * smeared by encoding, gives no code rather than a wrong one.
 */
export function readSecondCode(gray: Uint8Array, width: number, height: number): number | undefined {
  if (gray.length < width * height || width < SECOND_CODES * 4 || height < STRIP_DIVISOR * 4) return undefined;
  const top = Math.floor(height / STRIP_DIVISOR);
  const bottom = Math.floor((2 * height) / STRIP_DIVISOR);
  const cy = Math.floor((top + bottom) / 2);
  const ry = Math.floor((bottom - top) / 4);
  const lumas: number[] = [];
  for (let i = 0; i < SECOND_CODES; i++) {
    const x0 = Math.floor((width * i) / SECOND_CODES);
    const x1 = Math.floor((width * (i + 1)) / SECOND_CODES);
    lumas.push(blockLuma(gray, width, Math.floor((x0 + x1) / 2), cy, Math.floor((x1 - x0) / 4), ry));
  }
  const white = Math.max(...lumas);
  const black = Math.min(...lumas);
  if (white - black < MIN_CONTRAST) return undefined;
  const threshold = (white + black) / 2;
  const dark = lumas.flatMap((l, i) => (l < threshold ? [i] : []));
  return dark.length === 1 ? dark[0] : undefined;
}
