/** `fieldcast mux`: H.264 Annex B, ADTS AAC and KLV files in, one MPEG-TS out. */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { type FrameRate, frameDurationPts, parseFrameRate } from '../lib/clock.js';
import { parseBitrate } from '../lib/units.js';
import {
  type AccessUnit,
  checkScan,
  ElementaryStreamError,
  FileSource,
  type H264ScanState,
  indexAdts,
  indexH264,
  readKlvFile,
  type ScannedPicture,
  scanPictures,
  TsMuxer,
  type UnitIndex,
} from '../mux/index.js';
import { type Command, numberOption, out, parseOptions, UsageError } from './command.js';

const usage = `Usage: fieldcast mux --video IN.h264 [--audio IN.aac] [--klv IN.klv] [--fps N] [--cbr RATE] [--delay MS] -o OUT.ts

Muxes elementary streams into an MPEG-TS, as the encoder does live.
  --video FILE   H.264 Annex B (frame rate from its SPS timing info, else --fps)
  --audio FILE   AAC in ADTS
  --klv FILE     KLV packets (SMPTE RP 217 metadata), spread evenly over the video
  --fps N        frame rate: 25, 29.97, 30000/1001 (overrides the SPS)
  --cbr RATE     constant mux rate with null stuffing, e.g. 8M or 8000000 (default: VBR)
  --delay MS     how far the PCR leads the decode time (default 100)
  -o FILE        output TS ("-" for stdout)`;

/** Timestamps start here (1 s), as a live encoder's clock would not start at zero. */
const START_PTS = 90_000;
/** Output goes out in 1 MiB writes. */
const WRITE_BUFFER = 1 << 20;

export const command: Command = {
  name: 'mux',
  summary: 'mux H.264, AAC (ADTS) and KLV files into an MPEG-TS',
  usage,
  async run(argv) {
    const { values } = parseOptions(argv, {
      video: { type: 'string' },
      audio: { type: 'string' },
      klv: { type: 'string' },
      fps: { type: 'string' },
      cbr: { type: 'string' },
      delay: { type: 'string' },
      o: { type: 'string', short: 'o' },
    });
    if (!values.video && !values.audio) throw new UsageError('give --video and/or --audio');
    if (!values.o) throw new UsageError('give the output file with -o');
    const frameRate = values.fps === undefined ? undefined : parseFrameRate(values.fps);
    if (values.fps !== undefined && !frameRate)
      throw new UsageError(`--fps must be a frame rate such as 25, 29.97 or 30000/1001 (got "${values.fps}")`);
    const cbrRate = values.cbr === undefined ? 0 : parseBitrate(values.cbr, '--cbr');
    const delayMs = numberOption(values.delay, '--delay', 0, 1000) ?? 100;

    // Index the files first (reading them through a small window), then read
    // each access unit as it is muxed: a file is never held whole in memory.
    const videoFile = values.video ? new FileSource(values.video) : undefined;
    const audioFile = values.audio ? new FileSource(values.audio) : undefined;
    try {
      return muxFiles(values.o, videoFile, audioFile, values.klv, { frameRate, cbrRate, delayMs });
    } finally {
      videoFile?.close();
      audioFile?.close();
    }
  },
};

function muxFiles(
  output: string,
  videoFile: FileSource | undefined,
  audioFile: FileSource | undefined,
  klvPath: string | undefined,
  opts: { frameRate: FrameRate | undefined; cbrRate: number; delayMs: number },
): number {
  const { cbrRate, delayMs } = opts;
  // Video without reordering (POC type 2, what live encoders send) is muxed as
  // it is scanned, in one pass; with B-frames (or KLV, spread over the whole
  // duration) the file is indexed first for the picture order.
  const state: H264ScanState = { nals: 0 };
  let stream: { pictures: Generator<ScannedPicture>; first: ScannedPicture; frameRate: FrameRate } | undefined;
  if (videoFile && !klvPath) {
    const pictures = scanPictures(videoFile, state);
    const first = pictures.next();
    if (!first.done && state.sps?.pocType === 2) stream = { pictures, first: first.value, frameRate: checkScan(state, 1, opts.frameRate) };
  }
  const video = videoFile && !stream ? indexH264(videoFile, { frameRate: opts.frameRate, startPts: START_PTS }) : undefined;
  const audio = audioFile ? indexAdts(audioFile, { startPts: START_PTS }) : undefined;
  const lastOf = (u: UnitIndex[] | undefined) => (u && u.length > 0 ? u[u.length - 1]!.dts : START_PTS);
  const span = Math.max(lastOf(video?.units), lastOf(audio?.units)) - START_PTS;
  const klv = klvPath ? readKlvFile(readInput(klvPath), { startPts: START_PTS, spanPts: span }) : undefined;
  const scratch = { buf: Buffer.allocUnsafe(1 << 16) };
  const unit = (file: FileSource, u: UnitIndex): AccessUnit => ({
    data: file.view(u.offset, u.length, scratch),
    pts: u.pts,
    dts: u.dts,
    key: u.key,
  });

  let fd = 1;
  try {
    if (output !== '-') fd = openSync(output, 'w');
  } catch (e) {
    throw new ElementaryStreamError(`cannot write ${output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      path: output,
    });
  }
  const pending = Buffer.allocUnsafe(WRITE_BUFFER);
  let fill = 0;
  const drain = () => {
    let off = 0;
    while (off < fill) off += writeSync(fd, pending, off, fill - off);
    fill = 0;
  };
  const muxer = new TsMuxer({
    video: videoFile !== undefined,
    audio: audio ? { sampleRate: audio.sampleRate, channels: audio.channels } : false,
    klv: klv !== undefined,
    cbrRate,
    delayMs,
    onChunk: (chunk) => {
      if (fill + chunk.length > pending.length) drain();
      chunk.copy(pending, fill);
      fill += chunk.length;
    },
  });
  // Interleave by DTS, as the access units would arrive live; video first on ties.
  const v = video?.units ?? [];
  const a = audio?.units ?? [];
  const k = klv ?? [];
  let vi = 0;
  let ai = 0;
  let ki = 0;
  try {
    if (stream) {
      const dur = frameDurationPts(stream.frameRate);
      for (let pic: ScannedPicture | undefined = stream.first; pic; vi++) {
        const dts = START_PTS + Math.round(vi * dur);
        while (ai < a.length && a[ai]!.dts < dts) muxer.writeAudio(unit(audioFile!, a[ai++]!));
        muxer.writeVideo({ data: videoFile!.view(pic.start, pic.end - pic.start, scratch), pts: dts, dts, key: pic.idr });
        const next = stream.pictures.next();
        pic = next.done ? undefined : next.value;
      }
    }
    while (vi < v.length || ai < a.length || ki < k.length) {
      const vd = vi < v.length ? v[vi]!.dts : Number.POSITIVE_INFINITY;
      const ad = ai < a.length ? a[ai]!.dts : Number.POSITIVE_INFINITY;
      const kd = ki < k.length ? k[ki]!.dts : Number.POSITIVE_INFINITY;
      if (vd <= ad && vd <= kd) muxer.writeVideo(unit(videoFile!, v[vi++]!));
      else if (ad <= kd) muxer.writeAudio(unit(audioFile!, a[ai++]!));
      else muxer.writeKlv(k[ki++]!);
    }
  } catch (e) {
    // A stream that turns out bad halfway leaves no half-written TS behind.
    if (fd !== 1) {
      closeSync(fd);
      rmSync(output, { force: true });
    }
    throw e;
  }
  muxer.flush();
  drain();
  if (fd !== 1) closeSync(fd);
  const s = muxer.stats;
  const parts = [
    videoFile
      ? `${vi} pictures (${video ? describeVideo(video, video.frameRate) : describeVideo(state.sps!, stream!.frameRate)})`
      : undefined,
    audio ? `${a.length} audio frames (${audio.sampleRate} Hz, ${audio.channels} ch)` : undefined,
    klv ? `${k.length} KLV packets` : undefined,
  ].filter(Boolean);
  const summary = `muxed ${parts.join(', ')} into ${s.packets} packets (${s.bytes} bytes)${cbrRate ? `, CBR ${cbrRate} bit/s` : ''}`;
  if (output === '-') process.stderr.write(`${summary}\n`);
  else out(summary);
  if (s.lateUnits > 0) process.stderr.write(`warning: ${s.lateUnits} access units left after their decode time: the CBR rate is too low\n`);
  return 0;
}

function readInput(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new ElementaryStreamError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { path: file });
  }
}

function describeVideo(size: { width: number; height: number }, rate: FrameRate): string {
  return `${size.width}x${size.height} at ${(rate.num / rate.den).toFixed(3)} fps`;
}
