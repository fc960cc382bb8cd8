/**
 * `fieldcast receive`: the bonding receiver for a cloud VM beside the ingest.
 * With one --forward it loads no native code; with two it ends each unit's
 * SRT session and sends it on to both (src/bond/receiver-fanout.ts), which
 * needs the SRT addon and the unit's passphrase (--passphrase-file).
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BondReceiver, FANOUT_MAX_GROUPS, RECEIVER_DEFAULTS } from '../bond/receiver.js';
import { FORWARD_LATENCY_DEFAULT_MS } from '../bond/receiver-forwards.js';
import { serveReceiverMetrics } from '../bond/receiver-http.js';
import { INGEST_POLL_DEFAULT_S, INGEST_POLL_MIN_S } from '../cloud/names.js';
import { createLogger } from '../lib/logger.js';
import { Secret } from '../srt/secret.js';
import { type Command, numberOption, out, parseOptions, UsageError } from './command.js';
import { hideArguments, readPassphraseFile } from './stream-options.js';

const log = createLogger('receive');

/** Statistics name every stream's source address: they stay on the VM unless the operator opens them. */
const DEFAULT_METRICS_HOST = '127.0.0.1';

const usage = `Usage: fieldcast receive --forward srt://HOST:PORT [--forward srt://HOST:PORT] [options]

Bonding receiver (SRTLA): merges the uplinks of one or many Fieldcast units
(or other SRTLA senders) and forwards each stream to an SRT listener, such as
an AWS Elemental MediaConnect flow's SRT listener source.

  --listen HOST:PORT     where senders connect (default ${RECEIVER_DEFAULTS.listen}: IPv4 and IPv6)
  --forward srt://H:P    the SRT listener each stream goes to (required). One: the
                         stream is relayed as it came (SRT runs from the unit to the
                         listener; the receiver never decrypts it; the URL's query is
                         not read). Give it twice (at most: a MediaConnect flow takes
                         two sources) to send each stream to two listeners, e.g. a
                         flow's two sources for MERGE: the receiver then ends the
                         unit's SRT session and calls each listener itself, with the
                         latency, passphrase, pbkeylen and streamid of its own URL
                         (srt://H:P?latency=MS&passphrase=…&streamid=…). One unit at a
                         time: two would contend for the same two listeners.
  --passphrase-file FILE with two --forward: the unit's SRT passphrase (its
                         destination passphrase; first line of FILE), to decrypt
                         its stream; also each forward's, unless its URL has its own.
                         Never printed or logged. Needed when the unit encrypts.
  --forward-latency MS   with two --forward: SRT latency of a forward whose URL
                         gives none (default ${FORWARD_LATENCY_DEFAULT_MS}; the ingest's minimum wins if larger)
  --reorder-ms N         hold out-of-order packets at least N ms to put them back in
                         sequence, more (up to 200 ms) when the links reorder more
                         (default ${RECEIVER_DEFAULTS.reorderMs}; 0 = off)
  --max-groups N         streams at most (default ${RECEIVER_DEFAULTS.maxGroups}; ${FANOUT_MAX_GROUPS} with two --forward)
  --max-links N          links per stream at most (default ${RECEIVER_DEFAULTS.maxLinksPerGroup})
  --stats-json FILE      write statistics as JSON to FILE every second
  --metrics-port P       serve /metrics (Prometheus) and /stats.json on port P
  --metrics-host H       address for the metrics port (default ${DEFAULT_METRICS_HOST})
  --status-interval S    log a one-line summary every S seconds (default 10; 0 = never)
  --flow ARN             also export the ingest's own view of a MediaConnect flow
                         (its state and CloudWatch metrics) in /metrics and as
                         /ingest.json; needs --metrics-port and AWS credentials
                         (README: "IAM permissions")
  --flow-source NAME     which of the flow's sources (default: its first)
  --flow-interval S      read it every S seconds (default ${INGEST_POLL_DEFAULT_S}, at least ${INGEST_POLL_MIN_S})`;

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  await fs.writeFile(tmp, text);
  await fs.rename(tmp, file);
}

export const command: Command = {
  name: 'receive',
  summary: 'bonding receiver (SRTLA): merge uplinks and forward to an SRT listener',
  usage,
  async run(argv) {
    // A forward's passphrase may be in its URL: the process title must not show it.
    hideArguments('receive');
    const { values } = parseOptions(argv, {
      listen: { type: 'string' },
      forward: { type: 'string', multiple: true },
      'passphrase-file': { type: 'string' },
      'forward-latency': { type: 'string' },
      'reorder-ms': { type: 'string' },
      'max-groups': { type: 'string' },
      'max-links': { type: 'string' },
      'stats-json': { type: 'string' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
      'status-interval': { type: 'string' },
      flow: { type: 'string' },
      'flow-source': { type: 'string' },
      'flow-interval': { type: 'string' },
    });
    const forwards = values.forward ?? [];
    if (forwards.length === 0) throw new UsageError('--forward srt://HOST:PORT is required');
    if (forwards.length > 2)
      throw new UsageError(`--forward at most twice (a MediaConnect flow takes two sources); ${forwards.length} were given`);
    if (forwards.length === 1 && (values['passphrase-file'] !== undefined || values['forward-latency'] !== undefined))
      throw new UsageError(
        '--passphrase-file and --forward-latency go with two --forward: with one, the stream is relayed as it came and the receiver never decrypts it',
      );
    const passphrase = values['passphrase-file'] === undefined ? undefined : new Secret(readPassphraseFile(values['passphrase-file']));
    // Without a port nothing listens: an operator who opened the metrics to the network would see nothing, silently.
    if (values['metrics-host'] !== undefined && values['metrics-port'] === undefined)
      throw new UsageError('--metrics-host needs --metrics-port (the metrics are served only on a port you give)');
    if (values.flow !== undefined && values['metrics-port'] === undefined)
      throw new UsageError('--flow needs --metrics-port (the ingest view is served in /metrics)');
    if ((values['flow-source'] !== undefined || values['flow-interval'] !== undefined) && values.flow === undefined)
      throw new UsageError('--flow-source and --flow-interval go with --flow ARN');
    const flowInterval = numberOption(values['flow-interval'], '--flow-interval', INGEST_POLL_MIN_S, 3600) ?? INGEST_POLL_DEFAULT_S;
    // The AWS SDK loads only when asked for: a receiver without --flow never needs it.
    const ingest = values.flow === undefined ? undefined : await import('../cloud/ingest-watch.js');
    const flow = values.flow === undefined || !ingest ? undefined : ingest.parseFlowArn(values.flow);
    const receiver = new BondReceiver({
      listen: values.listen,
      forward: forwards.length === 1 ? forwards[0]! : forwards,
      ...(passphrase ? { passphrase } : {}),
      forwardLatencyMs: numberOption(values['forward-latency'], '--forward-latency', 20, 15_000),
      reorderMs: numberOption(values['reorder-ms'], '--reorder-ms', 0, 2000),
      maxGroups: numberOption(values['max-groups'], '--max-groups', 1, 100_000),
      maxLinksPerGroup: numberOption(values['max-links'], '--max-links', 1, 64),
    });
    const metricsPort = numberOption(values['metrics-port'], '--metrics-port', 1, 65535);
    const statusInterval = numberOption(values['status-interval'], '--status-interval', 0, 86_400) ?? 10;
    await receiver.start();
    const s0 = receiver.stats();
    out(
      s0.mode === 'fanout'
        ? `fieldcast receive: listening on ${receiver.address}, each stream ended here and sent on to ${s0.forward}`
        : `fieldcast receive: listening on ${receiver.address}, forwarding to ${s0.forward}`,
    );
    const closers: (() => void)[] = [() => receiver.close()];
    try {
      if (metricsPort !== undefined) {
        const host = values['metrics-host'] ?? DEFAULT_METRICS_HOST;
        const watch =
          ingest && flow
            ? new ingest.IngestWatch({
                flow,
                access: { region: flow.region },
                intervalMs: flowInterval * 1000,
                ...(values['flow-source'] !== undefined ? { sourceName: values['flow-source'] } : {}),
              })
            : undefined;
        if (watch) closers.push(() => watch.close());
        const server = await serveReceiverMetrics(receiver, host, metricsPort, watch);
        closers.push(() => server.close());
        watch?.start();
        out(`fieldcast receive: metrics on http://${host.includes(':') ? `[${host}]` : host}:${metricsPort}/metrics`);
        if (watch && flow)
          out(`fieldcast receive: the ingest view of flow ${flow.name} (${flow.region}) every ${flowInterval} s in /metrics`);
      }
    } catch (e) {
      for (const c of closers) c();
      throw e;
    }
    const statsFile = values['stats-json'];
    if (statsFile) {
      let writing = false;
      const t = setInterval(() => {
        if (writing) return;
        writing = true;
        writeAtomic(statsFile, `${JSON.stringify(receiver.stats(), null, 2)}\n`)
          .catch((err) => log.warn('cannot write the statistics file', { file: statsFile, err }))
          .finally(() => {
            writing = false;
          });
      }, 1000);
      closers.push(() => clearInterval(t));
    }
    if (statusInterval > 0) {
      const t = setInterval(() => {
        const s = receiver.stats();
        const mbps = s.perGroup.reduce((n, g) => n + g.rateBps, 0) / 1e6;
        log.info('status', {
          groups: s.groups,
          links: s.links,
          mbps: Number(mbps.toFixed(2)),
          malformed: s.counters.malformed,
          throttled: s.counters.throttled,
          ...(s.mode === 'fanout'
            ? { forwardsUp: s.perGroup.reduce((n, g) => n + (g.fanout?.forwards.filter((f) => f.connected).length ?? 0), 0) }
            : {}),
        });
      }, statusInterval * 1000);
      closers.push(() => clearInterval(t));
    }
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    if (statsFile) await writeAtomic(statsFile, `${JSON.stringify(receiver.stats(), null, 2)}\n`).catch(() => undefined);
    for (const c of closers.reverse()) c();
    return 0;
  },
};
