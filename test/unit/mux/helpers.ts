/** Synthetic access units for muxer tests: real NAL/ADTS/KLV framing, fake contents. */
import type { AccessUnit } from '../../../src/mux/types.js';

/** The SPS and PPS libx264 wrote for 640x360 at 30 fps (VUI timing info present). */
export const SPS_640x360_30 = Buffer.from('0000000167' + '42c01eda0280bfe5c044000003000400000300f23c58ba80', 'hex');
export const PPS = Buffer.from('0000000168ce0fc8', 'hex');

function slice(type: 1 | 5, size: number, seed: number): Buffer {
  const b = Buffer.alloc(size, 0x5a ^ (seed & 0xff));
  b.writeUInt32BE(1, 0);
  b[4] = type === 5 ? 0x65 : 0x41;
  b[5] = 0x88; // first_mb_in_slice 0
  return b;
}

/** A picture: IDR with SPS/PPS when `withParams`, else a P slice. `size` bytes of slice. */
export function picture(i: number, opts: { idr: boolean; withParams?: boolean; size?: number; aud?: boolean }): Buffer {
  const parts: Buffer[] = [];
  if (opts.aud) parts.push(Buffer.from([0, 0, 0, 1, 9, 0xf0]));
  if (opts.idr && opts.withParams !== false) parts.push(SPS_640x360_30, PPS);
  parts.push(slice(opts.idr ? 5 : 1, opts.size ?? (opts.idr ? 20_000 : 3000), i));
  return Buffer.concat(parts);
}

/** One ADTS frame (AAC-LC, 48 kHz, stereo) with `payload` bytes after the 7-byte header. */
export function adtsFrame(payload = 300): Buffer {
  const len = 7 + payload;
  const b = Buffer.alloc(len, 0x21);
  b[0] = 0xff;
  b[1] = 0xf1;
  b[2] = (1 << 6) | (3 << 2) | 0; // LC, 48 kHz, channel config high bit 0
  b[3] = (2 << 6) | ((len >> 11) & 3);
  b[4] = (len >> 3) & 0xff;
  b[5] = ((len & 7) << 5) | 0x1f;
  b[6] = 0xfc;
  return b;
}

export function klvPacket(value = 40): Buffer {
  const key = Buffer.from('060e2b34020b01010e01030101000000', 'hex');
  return Buffer.concat([key, Buffer.from([value]), Buffer.alloc(value, 7)]);
}

/** `seconds` of 30 fps video (GOP 30, no repeated SPS after the first when `paramsOnce`) and 48 kHz audio, in DTS order. */
export function* liveStream(
  seconds: number,
  opts: { start?: number; paramsOnce?: boolean; klv?: boolean } = {},
): Generator<{ kind: 'video' | 'audio' | 'klv'; au: AccessUnit }> {
  const start = opts.start ?? 900_000;
  const frames = seconds * 30;
  let a = 0;
  for (let i = 0; i < frames; i++) {
    const t = start + i * 3000;
    while (start + Math.floor((a * 1024 * 90_000) / 48_000) <= t) {
      const at = start + Math.floor((a * 1024 * 90_000) / 48_000);
      yield { kind: 'audio', au: { data: adtsFrame(), pts: at, dts: at, key: true } };
      a++;
    }
    const idr = i % 30 === 0;
    yield { kind: 'video', au: { data: picture(i, { idr, withParams: !opts.paramsOnce || i === 0 }), pts: t, dts: t, key: idr } };
    if (opts.klv && i % 10 === 0) yield { kind: 'klv', au: { data: klvPacket(), pts: t, dts: t, key: true } };
  }
}
