/** Shared by the encode tests: run an EncoderSession into a TS file, decode pictures and sound back with ffmpeg. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type EncodedUnit,
  EncoderSession,
  type EncoderSessionOptions,
  type SessionInfo,
  type SessionStats,
} from '../../src/media/index.js';
import { TsMuxer } from '../../src/mux/index.js';
import { nativeAvailable } from '../../src/native/index.js';
import { missingTools } from '../peers.js';

export { hasTool } from '../peers.js';

/** What is missing for the encode tests, named so a skip (test/peers.ts skipWithout) says it loudly. */
export function missingForEncode(): string[] {
  return [...missingTools('ffmpeg', 'ffprobe'), ...(nativeAvailable() ? [] : ['the native addon (npm run build:native)'])];
}

export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface EncodeResult {
  file: string;
  info: SessionInfo;
  stats: SessionStats;
  units: EncodedUnit[];
  events: { code: string; message: string }[];
}

/** Encodes into `file` through the real muxer; `onUnit` sees each unit (and the session) as it arrives. */
export async function encodeToTs(
  file: string,
  options: EncoderSessionOptions,
  onUnit?: (u: EncodedUnit, s: EncoderSession, index: number) => void,
): Promise<EncodeResult> {
  const session = await EncoderSession.start(options);
  const chunks: Buffer[] = [];
  const mux = new TsMuxer({ audio: session.info.audio, onChunk: (c) => chunks.push(Buffer.from(c)) });
  const units: EncodedUnit[] = [];
  const events: { code: string; message: string }[] = [];
  let sawVideo = false;
  let videoIndex = 0;
  session.on('event', (e) => events.push(e));
  session.on('accessUnit', (u) => {
    units.push({ ...u, data: Buffer.alloc(0) });
    if (u.stream === 'video') {
      sawVideo = true;
      mux.writeVideo(u);
      onUnit?.(u, session, videoIndex++);
    } else if (sawVideo) {
      mux.writeAudio(u);
    }
  });
  await session.whenClosed();
  mux.flush();
  writeFileSync(file, Buffer.concat(chunks));
  return { file, info: session.info, stats: session.stats(), units, events };
}

/** Decoded pictures as 8-bit luma planes, with their PTS (90 kHz, as in the TS). */
export function decodeLuma(file: string, width: number, height: number): { frames: Buffer[]; pts: number[] } {
  const raw = execFileSync(
    'ffmpeg',
    ['-v', 'error', '-i', file, '-map', '0:v', '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'],
    {
      maxBuffer: 2 ** 31,
    },
  );
  const size = width * height;
  const frames: Buffer[] = [];
  for (let off = 0; off + size <= raw.length; off += size) frames.push(raw.subarray(off, off + size));
  const json = JSON.parse(
    execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'frame=pts', '-of', 'json', file], {
      maxBuffer: 1 << 28,
    }).toString(),
  ) as { frames: { pts: number }[] };
  return { frames, pts: json.frames.map((f) => f.pts) };
}

/** Video packets of a TS: pts (90 kHz) and size, for per-second bitrates. */
export function videoPackets(file: string): { pts: number; size: number }[] {
  const json = JSON.parse(
    execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=pts,size', '-of', 'json', file], {
      maxBuffer: 1 << 28,
    }).toString(),
  ) as { packets: { pts: number; size: string }[] };
  return json.packets.map((p) => ({ pts: p.pts, size: Number(p.size) }));
}
