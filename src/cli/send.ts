/**
 * `fieldcast send`: one live stream from the command line — capture (or a TS
 * passthrough input) → encoder → muxer → SRT, directly or over bonded
 * uplinks — printing one status line a second, through the same stream unit
 * the supervisor runs (the media pipeline in its own process, the SRT
 * session and the bonding here).
 */
import { formatBitrate } from '../lib/units.js';
import { streamSpecFromConfig } from '../media/spec.js';
import { parseSrtUrl } from '../srt/index.js';
import { type StreamStats, StreamUnit } from '../supervisor/stream-unit.js';
import { type Command, numberOption, out, parseOptions, UsageError } from './command.js';
import { baseConfig, hideArguments, parseBitrateRange, parseLinkFlag, readPassphraseFile, withOverrides } from './stream-options.js';

const usage = `Usage: fieldcast send (--source SRC | --input IN) --to srt://HOST:PORT[?options] [options]

Sources:
  --source testpattern|/dev/videoN[:input]   capture and encode (default testpattern)
  --input udp://HOST:PORT|srt://…|FILE.ts|-  pass an existing encoder's TS through unchanged
  --loop                                     play --input FILE.ts again and again
Encoding:
  --audio testtone|none|hw:X,Y   sound source (default testtone; none still sends silence)
  --size WxH  --fps N  --codec auto|NAME
  --bitrate RATE | MIN:MAX       fixed video bit rate, or the adaptive range (e.g. 2M:8M)
Destination:
  --to URL                SRT URL (srt-live-transmit conventions: latency in ms, passphrase, pbkeylen, streamid)
  --latency MS            SRT latency (default from the config: 1500)
  --passphrase-file FILE  read the passphrase from a file (or set FIELDCAST_SRT_PASSPHRASE)
  --streamid ID
Bonding (SRTLA):
  --bond                  send over the bonded links; --to names the bonding receiver
  --link name=N[,bind=ADDR|interface=IF][,via=HOST:PORT][,priority=0-9][,backup][,metered]   (repeat per uplink)
Other:
  --config FILE   start from this config file
  --seconds N     stop after N seconds
  --json          status lines as JSON`;

export const command: Command = {
  name: 'send',
  summary: 'stream live over SRT (directly or bonded), printing a status line a second',
  usage,
  async run(argv) {
    hideArguments('send');
    const { values } = parseOptions(argv, {
      source: { type: 'string' },
      input: { type: 'string' },
      loop: { type: 'boolean' },
      audio: { type: 'string' },
      size: { type: 'string' },
      fps: { type: 'string' },
      codec: { type: 'string' },
      bitrate: { type: 'string' },
      to: { type: 'string' },
      latency: { type: 'string' },
      'passphrase-file': { type: 'string' },
      streamid: { type: 'string' },
      bond: { type: 'boolean' },
      link: { type: 'string', multiple: true },
      config: { type: 'string' },
      seconds: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (values.source && values.input) throw new UsageError('give --source or --input, not both');
    if (!values.to) throw new UsageError('--to srt://HOST:PORT is needed');
    // The passphrase from a file or the environment first: the URL's own options
    // (pbkeylen, say) are checked against it, as the README's example relies on.
    let passphrase: string | undefined;
    if (values['passphrase-file']) passphrase = readPassphraseFile(values['passphrase-file']);
    else if (process.env.FIELDCAST_SRT_PASSPHRASE) passphrase = process.env.FIELDCAST_SRT_PASSPHRASE;
    const endpoint = parseSrtUrl(values.to, passphrase ? { passphrase } : {});
    passphrase ??= endpoint.passphrase?.reveal();
    const seconds = numberOption(values.seconds, '--seconds', 0, 1e7) ?? 0;
    const latency = numberOption(values.latency, '--latency', 20, 15_000);

    const config = withOverrides(await baseConfig(values.config), (c) => {
      c.input ??= {};
      c.video ??= {};
      if (values.source) c.input.video = values.source;
      if (values.audio) c.input.audio = values.audio;
      if (values.size) {
        const m = /^(\d+)x(\d+)$/.exec(values.size);
        if (!m) throw new UsageError(`--size "${values.size}" is WxH (e.g. 1280x720)`);
        c.video.width = Number(m[1]);
        c.video.height = Number(m[2]);
      }
      if (values.fps) c.video.fps = values.fps as typeof c.video.fps;
      if (values.codec) c.video.codec = values.codec;
      if (values.bitrate) {
        const r = parseBitrateRange(values.bitrate);
        c.video.adaptive = r.adaptive;
        c.video.minBitrate = r.min;
        c.video.maxBitrate = r.max;
        c.video.bitrate = r.adaptive ? Math.round((r.min + r.max) / 2) : r.max;
      }
      if (values.bond) {
        // --to names the bonding receiver, as the config's destination does when bonded.
        const links = (values.link ?? []).map(parseLinkFlag);
        c.bond = { ...c.bond, enabled: true, ...(links.length > 0 ? { links } : {}) };
        if ((c.bond.links ?? []).length === 0) throw new UsageError('--bond needs at least one --link (or bond.links in the config)');
      }
      c.destinations = [
        {
          name: 'cli',
          url: values.to!,
          latencyMs: latency ?? endpoint.latencyMs ?? 1500,
          ...(passphrase ? { passphrase } : {}),
          ...(endpoint.pbkeylen ? { pbkeylen: endpoint.pbkeylen as 16 | 24 | 32 } : {}),
          ...((values.streamid ?? endpoint.streamId) ? { streamId: values.streamid ?? endpoint.streamId } : {}),
        },
      ];
    });
    const dest = config.destinations[0]!;
    const spec = streamSpecFromConfig(config, dest, {
      seconds,
      ...(values.input ? { passthrough: { input: values.input, loop: Boolean(values.loop) } } : {}),
    });
    const unit = new StreamUnit(spec);
    let failedCode: string | null = null;
    unit.on('event', (e) => {
      if (e.level !== 'info') out(`${e.level === 'error' ? 'ERROR' : 'WARN '} ${e.code}: ${e.message}`);
      if (e.code === 'SRT_AUTH_FAILED') failedCode = e.code;
      if (e.code === 'SRT_AUTH_FAILED') void unit.stop();
    });
    unit.on('restarting', (e, ms) => out(`WARN  ${e.code}: ${e.message} (in ${ms} ms)`));
    unit.on('stats', (s) => out(values.json ? JSON.stringify(s) : statusLine(s)));

    const done = new Promise<string | null>((resolve) => unit.on('finished', (code) => resolve(code)));
    const onSignal = (): void => void unit.stop();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    await unit.start();
    const code = await done;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    return code === null && failedCode === null ? 0 : 1;
  },
};

function statusLine(s: StreamStats): string {
  const t = new Date(s.uptimeS * 1000).toISOString().slice(11, 19);
  const parts = [
    `${s.state.padEnd(12)} ${t}`,
    s.picture === 'passthrough' ? 'passthrough' : `video ${formatBitrate(s.videoBitrate)}${s.abrReason ? ` (${s.abrReason})` : ''}`,
    `ts ${formatBitrate(s.tsBitrate)}`,
    `rtt ${s.srt.rttMs.toFixed(0)} ms`,
    `buffer ${s.srt.sendBufferMs.toFixed(0)} ms`,
    `loss ${s.srt.lossPackets} retx ${s.srt.retransPackets} drop ${s.srt.dropPackets}`,
  ];
  if (s.picture === 'slate') parts.push('SLATE (no signal)');
  if (s.pipeline.restarts > 0) parts.push(`pipeline restarts ${s.pipeline.restarts}`);
  if (s.bond) {
    const links = s.bond.links.map((l) => `${l.name}:${l.state === 'live' ? `${Math.round(l.share * 100)}%` : l.state}`).join(' ');
    parts.push(`links ${links}`);
  }
  return parts.join(' | ');
}
