/**
 * `fieldcast demo` (the default of `npm start`): the whole chain on this
 * machine, as it runs at a venue and in the cloud —
 *
 *   test pattern → pipeline process (encoder, muxer, SRT caller, ABR)
 *     → bonding sender → 3 emulated cellular links (linksim)
 *     → bonding receiver → a local SRT listener that checks every packet
 *       (TR 101 290 analyser) and re-serves the stream on UDP for a player.
 *
 * It prints where to look, then one line of live figures a second.
 * `--direct` skips bonding (pipeline → SRT listener).
 */
import dgram from 'node:dgram';
import { BondReceiver } from '../bond/receiver.js';
import { formatBitrate } from '../lib/units.js';
import { LinkSim, VENUE_LINKS } from '../linksim/index.js';
import type { PipelineEvent } from '../media/channel.js';
import { streamSpecFromConfig } from '../media/spec.js';
import { TsAnalyser } from '../mux/index.js';
import { SrtConnection, startListening } from '../srt/index.js';
import { type StreamStats, StreamUnit } from '../supervisor/stream-unit.js';
import { type Command, numberOption, out, parseOptions } from './command.js';
import { baseConfig, hideArguments, withOverrides } from './stream-options.js';

const usage = `Usage: fieldcast demo [--direct] [--seconds N] [--watch PORT] [--config FILE]

Runs the whole chain on this machine and prints live figures:
  test pattern → encoder → MPEG-TS → SRT (AES-256) → bonding sender → 3 emulated
  cellular links → bonding receiver → local SRT listener with a TS analyser.

  --direct        no bonding: SRT straight to the local listener
  --seconds N     stop after N seconds (default: until Ctrl-C)
  --watch PORT    re-serve the received TS on udp://127.0.0.1:PORT (default 5600; 0 = off)
  --config FILE   start from this config (video size, rates, …)`;

const DEMO_PASSPHRASE_BYTES = 16;

export const command: Command = {
  name: 'demo',
  summary: 'the whole chain on this machine, with live figures (npm start)',
  usage,
  async run(argv) {
    hideArguments('demo');
    const { values } = parseOptions(argv, {
      direct: { type: 'boolean' },
      seconds: { type: 'string' },
      watch: { type: 'string' },
      config: { type: 'string' },
    });
    const seconds = numberOption(values.seconds, '--seconds', 0, 1e7) ?? 0;
    const watchPort = numberOption(values.watch, '--watch', 0, 65535) ?? 5600;
    const { randomBytes } = await import('node:crypto');
    const passphrase = randomBytes(DEMO_PASSPHRASE_BYTES).toString('base64url');

    // 1. The "cloud" side: an SRT listener with a TS analyser (stands in for the ingest).
    const analyser = new TsAnalyser();
    const watch = watchPort > 0 ? dgram.createSocket('udp4') : undefined;
    let watching = watch !== undefined;
    watch?.on('close', () => {
      watching = false;
    });
    const listener = new SrtConnection(`srt://127.0.0.1:0?mode=listener&latency=1500&passphrase=${passphrase}&pbkeylen=32`, {
      role: 'receive',
    });
    let receivedBytes = 0;
    let receivedWindow = 0;
    listener.on('data', (chunk) => {
      analyser.push(chunk);
      receivedBytes += chunk.length;
      receivedWindow += chunk.length;
      // One datagram per 1316 bytes, as any TS-over-UDP sender: a larger chunk would exceed a datagram and be lost.
      if (watching) for (let o = 0; o < chunk.length; o += 1316) watch?.send(chunk.subarray(o, o + 1316), watchPort, '127.0.0.1');
    });
    const listenPort = await startListening(listener);

    // 2. Bonding: the receiver in front of the listener, 3 emulated links; the stream unit's sender uses them.
    let receiver: BondReceiver | undefined;
    let links: LinkSim | undefined;
    if (!values.direct) {
      receiver = new BondReceiver({ listen: '127.0.0.1:0', forward: `127.0.0.1:${listenPort}` });
      await receiver.start();
      links = new LinkSim({ seed: 7, target: `127.0.0.1:${receiver.port}`, links: [...VENUE_LINKS] });
      await links.start();
    }

    // 3. The stream: the pipeline process, the SRT session, the bonding sender.
    const config = withOverrides(await baseConfig(values.config), (c) => {
      c.destinations = [{ name: 'demo', url: `srt://127.0.0.1:${listenPort}`, latencyMs: 1500, passphrase, pbkeylen: 32 }];
    });
    const spec = streamSpecFromConfig(config, config.destinations[0]!, { seconds });
    if (receiver && links) {
      const sim = links;
      spec.bond = {
        receiver: `127.0.0.1:${receiver.port}`,
        links: sim.names.map((name) => ({ name, bind: '127.0.0.1', via: sim.link(name).address })),
      };
    }
    const unit = new StreamUnit(spec);
    const events: PipelineEvent[] = [];
    unit.on('event', (e) => {
      if (e.level !== 'info') events.push(e);
    });
    unit.on('restarting', (e) => out(`! ${e.message}`));

    out(
      'Fieldcast demo: test pattern → encoder → MPEG-TS → SRT (AES-256)' +
        (receiver ? ' → 3 bonded emulated cellular links → receiver' : '') +
        ' → local SRT listener',
    );
    if (receiver) {
      for (const l of VENUE_LINKS)
        out(
          `  link ${l.name}: ${l.up?.rate} uplink, RTT ${(l.up?.delayMs ?? 0) * 2} ms, ${((l.up?.loss ?? 0) * 100).toFixed(1)}% loss in bursts of ${l.up?.burst}`,
        );
      out(`  bonding receiver: 127.0.0.1:${receiver.port}`);
    }
    out(`  SRT listener (the stand-in ingest): 127.0.0.1:${listenPort}, analysing every packet (TR 101 290)`);
    if (watch) out(`  watch it: ffplay -fflags nobuffer udp://127.0.0.1:${watchPort}`);
    out('  Ctrl-C stops.\n');

    unit.on('stats', (s) => {
      const rx = receivedWindow * 8;
      receivedWindow = 0;
      out(demoLine(s, rx, analyser, events.splice(0)));
    });
    const done = new Promise<void>((resolve) => unit.on('finished', () => resolve()));
    const onSignal = (): void => void unit.stop();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    await unit.start();
    await done;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);

    const r = analyser.report();
    out(
      `\nreceived ${(receivedBytes / 1e6).toFixed(1)} MB; TR 101 290 priority 1 errors: ${r.priority1Errors}, priority 2: ${r.priority2Errors}`,
    );
    listener.close();
    watch?.close();
    links?.close();
    receiver?.close();
    return 0;
  },
};

function demoLine(s: StreamStats, rxBps: number, analyser: TsAnalyser, events: PipelineEvent[]): string {
  const t = new Date(s.uptimeS * 1000).toISOString().slice(11, 19);
  const r = analyser.report();
  const parts = [
    `${t} ${s.state}`,
    `video ${formatBitrate(s.videoBitrate)}`,
    `sent ${formatBitrate(s.tsBitrate)}`,
    `received ${formatBitrate(rxBps)}`,
    `rtt ${s.srt.rttMs.toFixed(0)} ms`,
    `retx ${s.srt.retransPackets}`,
    `CC errors ${r.checks.Continuity_count_error ?? 0}`,
  ];
  if (s.bond) parts.push(s.bond.links.map((l) => `${l.name} ${l.state === 'live' ? `${Math.round(l.share * 100)}%` : l.state}`).join(' '));
  for (const e of events) parts.push(`${e.code}: ${e.message}`);
  return parts.join(' | ');
}
