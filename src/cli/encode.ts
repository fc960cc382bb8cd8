/** `fieldcast encode`: capture → encode → MPEG-TS file, for checking a source and an encoder by eye and by tool. */
import { closeSync, openSync, writeSync } from 'node:fs';
import { parseFrameRate } from '../lib/clock.js';
import { describeError } from '../lib/errors.js';
import { formatBitrate, parseBitrate } from '../lib/units.js';
import { EncoderSession, type EncoderSessionOptions, MediaOptionsError, TEST_PATTERN_RATES } from '../media/index.js';
import { TsMuxer } from '../mux/index.js';
import { type Command, err, numberOption, out, parseOptions, UsageError } from './command.js';

const usage = `Usage: fieldcast encode [options] -o OUT.ts

Encodes a source to an MPEG-TS file (H.264 + AAC).
  --source S     testpattern (default), or /dev/videoN[:input]
  --audio A      testtone (default), none (a silent track), or an ALSA device such as hw:1,0
  --size WxH     output size (default 1280x720; a capture input: its own size)
  --fps N        25, 29.97, 30, 50, 59.94, 60 (default 30; a capture input: its own rate)
  --codec C      auto (default: first hardware encoder that opens, then libx264) or a name
  --bitrate R    video bit rate, e.g. 4M, 2500k (default 4M)
  --preset P     libx264 preset (default superfast)
  --keyint S     seconds between keyframes (default 2)
  --seconds N    how long to encode (default 10)
  --fast         test pattern only: encode as fast as possible (timestamps stay real-time spaced)
  -o, --output F the TS file to write`;

const FILE_BATCH = 64 * 1024;

export const command: Command = {
  name: 'encode',
  summary: 'encode the test pattern or a capture input to an MPEG-TS file',
  usage,
  async run(argv) {
    const { values } = parseOptions(argv, {
      source: { type: 'string', default: 'testpattern' },
      audio: { type: 'string', default: 'testtone' },
      size: { type: 'string' },
      fps: { type: 'string' },
      codec: { type: 'string', default: 'auto' },
      bitrate: { type: 'string', default: '4M' },
      preset: { type: 'string' },
      keyint: { type: 'string' },
      seconds: { type: 'string', default: '10' },
      fast: { type: 'boolean' },
      output: { type: 'string', short: 'o' },
    });
    if (!values.output) throw new UsageError('name the output file with -o OUT.ts');
    const seconds = numberOption(values.seconds, '--seconds', 0.1, 86_400)!;
    const keyint = numberOption(values.keyint, '--keyint', 0.25, 10);
    let width: number | undefined;
    let height: number | undefined;
    if (values.size !== undefined) {
      const m = /^(\d+)x(\d+)$/.exec(values.size);
      if (!m) throw new UsageError(`--size must look like 1280x720 (got "${values.size}")`);
      width = Number(m[1]);
      height = Number(m[2]);
    }
    let bitrate: number;
    try {
      bitrate = parseBitrate(values.bitrate, '--bitrate');
    } catch (e) {
      throw new UsageError(e instanceof Error ? e.message : String(e));
    }
    const isPattern = values.source === 'testpattern';
    const fps = values.fps ?? (isPattern ? '30' : undefined);
    const rate = fps === undefined ? undefined : parseFrameRate(fps);
    if (fps !== undefined && (!rate || !(TEST_PATTERN_RATES as readonly string[]).includes(fps)))
      throw new UsageError(`--fps must be one of ${TEST_PATTERN_RATES.join(', ')} (got "${fps}")`);
    const opts: EncoderSessionOptions = {
      video: values.source,
      audio: values.audio,
      codec: values.codec,
      bitrate,
      paced: !values.fast,
      ...(width !== undefined ? { width, height } : isPattern ? { width: 1280, height: 720 } : {}),
      ...(fps !== undefined ? { fps: fps as (typeof TEST_PATTERN_RATES)[number] } : {}),
      ...(values.preset !== undefined ? { preset: values.preset as EncoderSessionOptions['preset'] } : {}),
      ...(keyint !== undefined ? { keyframeSeconds: keyint } : {}),
      ...(rate ? { maxFrames: Math.max(1, Math.round((seconds * rate.num) / rate.den)) } : {}),
    };
    let session: EncoderSession;
    try {
      session = await EncoderSession.start(opts);
    } catch (e) {
      if (e instanceof MediaOptionsError) throw new UsageError(e.message);
      throw e;
    }
    const info = session.info;
    out(
      `encoding ${values.source} ${info.width}x${info.height} at ${(info.fps.num / info.fps.den).toFixed(2)} fps with ${info.videoCodec}, ${formatBitrate(bitrate)} -> ${values.output}`,
    );
    const fd = openSync(values.output, 'w');
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let total = 0;
    const flushFile = (): void => {
      if (pendingBytes === 0) return;
      writeSync(fd, Buffer.concat(pending, pendingBytes));
      total += pendingBytes;
      pending = [];
      pendingBytes = 0;
    };
    const mux = new TsMuxer({
      audio: info.audio,
      onChunk: (chunk) => {
        pending.push(Buffer.from(chunk)); // the muxer reuses chunk memory
        pendingBytes += chunk.length;
        if (pendingBytes >= FILE_BATCH) flushFile();
      },
    });
    let firstVideoPts: number | undefined;
    let lastVideoPts = 0;
    let failure: string | undefined;
    session.on('accessUnit', (au) => {
      if (au.stream === 'video') {
        firstVideoPts ??= au.pts;
        lastVideoPts = au.pts;
        mux.writeVideo(au);
      } else if (firstVideoPts !== undefined) {
        mux.writeAudio(au); // start the file on the first picture
      }
    });
    session.on('event', (e) => err(`${e.code}: ${e.message}`));
    session.on('error', (e) => {
      failure = describeError(e);
    });
    const stopTimer = rate ? undefined : setTimeout(() => void session.close(), seconds * 1000);
    const onSigint = (): void => void session.close();
    process.once('SIGINT', onSigint);
    try {
      await session.whenClosed();
    } finally {
      if (stopTimer) clearTimeout(stopTimer);
      process.off('SIGINT', onSigint);
      mux.flush();
      flushFile();
      closeSync(fd);
    }
    const st = session.stats();
    const dur = firstVideoPts === undefined ? 0 : (lastVideoPts - firstVideoPts) / 90_000 + info.fps.den / info.fps.num;
    out(
      `wrote ${total} bytes: ${st.videoFrames} pictures (${st.keyframes} keyframes), ${st.audioFrames} audio frames, ${dur.toFixed(2)} s` +
        (dur > 0 ? `, video ${formatBitrate((st.videoBytes * 8) / dur)}` : '') +
        (st.droppedVideo + st.droppedAudio > 0 ? `, dropped ${st.droppedVideo} video / ${st.droppedAudio} audio units` : ''),
    );
    if (failure) {
      err(`fieldcast encode: ${failure}`);
      return 1;
    }
    return 0;
  },
};
