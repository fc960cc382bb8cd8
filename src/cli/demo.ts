/**
 * `fieldcast demo` (the default of `npm start`): the whole chain on this
 * machine, as it runs at a venue and in the cloud —
 *
 *   the supervisor (`fieldcast run`, with a demo config in a scratch state
 *   directory): test pattern → pipeline process (encoder, muxer) → SRT
 *   caller, ABR → bonding sender → 3 emulated cellular links (linksim)
 *     → bonding receiver → a local SRT listener that checks every packet
 *       (TR 101 290 analyser) and re-serves the stream on UDP for a player.
 *
 * It prints where to look and how to drive it (`fieldcast ctl` on the demo's
 * control socket works as on the box), then the supervisor's status line
 * each second with what the far end received. `--direct` skips bonding.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BondReceiver } from '../bond/receiver.js';
import { saveConfig } from '../config/index.js';
import { setLogLevel } from '../lib/logger.js';
import { formatBitrate } from '../lib/units.js';
import { version } from '../lib/version.js';
import { LinkSim, VENUE_LINKS } from '../linksim/index.js';
import { TsAnalyser } from '../mux/index.js';
import { SrtConnection, startListening } from '../srt/index.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { type Command, numberOption, out, parseOptions } from './command.js';
import { baseConfig, hideArguments, withOverrides } from './stream-options.js';

const usage = `Usage: fieldcast demo [--direct] [--seconds N] [--watch PORT] [--config FILE]

Runs the whole chain on this machine and prints live figures:
  test pattern → encoder → MPEG-TS → SRT (AES-256) → bonding sender → 3 emulated
  cellular links → bonding receiver → local SRT listener with a TS analyser,
  run by the supervisor as fieldcast run does: fieldcast ctl drives it.

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
    // The figures are what the demo shows; the details are in its event log (or FIELDCAST_LOG=info).
    if (!process.env.FIELDCAST_LOG) setLogLevel('warn');
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

    // 3. The box: the supervisor with a demo config, in a scratch state directory, its status API on this machine.
    const statusPort = await freeTcpPort();
    const config = withOverrides(await baseConfig(values.config), (c) => {
      c.autostart = true;
      c.destinations = [
        {
          name: 'demo ingest',
          url: `srt://127.0.0.1:${receiver ? receiver.port : listenPort}`,
          latencyMs: 1500,
          passphrase,
          pbkeylen: 32,
        },
      ];
      const sim = links;
      c.bond = sim
        ? { enabled: true, links: sim.names.map((name) => ({ name, bind: '127.0.0.1', via: sim.link(name).address })) }
        : { enabled: false, links: [] };
      c.status = { listen: ['loopback'], port: statusPort, https: false };
    });
    const dir = mkdtempSync(path.join(tmpdir(), 'fieldcast-demo-'));
    const configFile = path.join(dir, 'config.json');
    await saveConfig(configFile, config);
    const socketPath = path.join(dir, 'control.sock');
    const supervisor = new Supervisor({
      configFile,
      configGiven: true,
      stateDir: dir,
      socketPath,
      version: version(),
      onStatusServer: (urls, code) => {
        for (const url of urls) out(`  status page: ${url}`);
        if (code) out(`  setup code: ${code} (open the page and set a password with it)`);
        if (urls[0]) openInBrowser(urls[0]);
      },
      onStatusLine: (line) => {
        const rx = receivedWindow * 8;
        receivedWindow = 0;
        const cc = analyser.report().checks.Continuity_count_error ?? 0;
        const t = new Date().toISOString().slice(11, 19);
        out(`${t} ${line} | far end: received ${formatBitrate(rx)} | CC errors ${cc}`);
      },
    });

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
    out(`  drive it: node bin/fieldcast.js ctl --socket ${socketPath} status   (also: stop, start, set video.maxBitrate=3M, events)`);
    out(`  config and event log: ${dir} (every log line: FIELDCAST_LOG=info npm start)`);
    out('  Ctrl-C stops.\n');

    let onSignal: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => {
      onSignal = (): void => void supervisor.stop().then(resolve);
    });
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const timer = seconds > 0 ? setTimeout(onSignal, seconds * 1000) : undefined;
    try {
      await supervisor.start();
      await stopped;
    } finally {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }

    const r = analyser.report();
    out(
      `\nreceived ${(receivedBytes / 1e6).toFixed(1)} MB; TR 101 290 priority 1 errors: ${r.priority1Errors}, priority 2: ${r.priority2Errors}`,
    );
    listener.close();
    watch?.close();
    links?.close();
    receiver?.close();
    rmSync(dir, { recursive: true, force: true });
    return 0;
  },
};

/** On a desktop, the page opens in the browser by itself; on a server (no display) its address is printed above. */
function openInBrowser(url: string): void {
  if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return;
  const child = spawn('xdg-open', [url], { stdio: 'ignore', detached: true });
  child.on('error', () => undefined); // no xdg-open: the address is printed
  child.unref();
}

/** A TCP port free on loopback now (for the demo's status API). */
function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
