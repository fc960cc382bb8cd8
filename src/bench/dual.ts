/**
 * `fieldcast bench dual`: one stream to two listeners, one of them gone for
 * 10 s — twice: the box's own two destinations (unbonded), then a bonded
 * box whose receiver sends the stream on to both (`fieldcast receive
 * --forward A --forward B`, the fan-out; figures prefixed `fanout_`).
 *
 * The test pattern (640×360, 2 Mbit/s) goes to two srt-live-transmit
 * listeners, as a box feeds a MediaConnect flow's two sources: directly from
 * a stream unit; or from a bonded stream unit over three emulated cellular
 * links (linksim's venue preset, lossy) to an in-process BondReceiver with
 * two forwards. Once both are live, one listener is killed (SIGKILL: an
 * ingest gone), left down for 10 s, and started again on the same port. The
 * figures, for each:
 *
 * - what the other listener lost: TS packets handed to it and not received
 *   (every byte sent is waited for, while the stream still runs), its
 *   continuity errors, its reconnections, the packets it dropped;
 * - whether the two got the same bytes outside the outage: the failed one's
 *   file before the kill and after its return, compared byte for byte with
 *   the other's where both have them;
 * - how the failed one behaved by itself: how long until it was seen down,
 *   and until it was live again after its listener came back.
 *
 * Goal: 0 lost TS packets on the other, 0 differing bytes outside the outage.
 * `--quick` shortens the stretches before and after the outage (not the outage).
 */
import { setTimeout as wait } from 'node:timers/promises';
import { DestinationConfig } from '../config/schema.js';
import type { DestinationSrtStats } from '../destination/index.js';
import { freeUdpPort, udpPortBound } from '../lib/udp-ports.js';
import { VENUE_LINKS } from '../linksim/index.js';
import { defaultMux, testPatternSource } from '../media/spec.js';
import { TS_PACKET_SIZE } from '../mux/constants.js';
import { StreamUnit } from '../supervisor/stream-unit.js';
import { type BondedPath, startBondedPath } from './bonded-path.js';
import { checkTs, DualListener, overlap, wholePackets } from './dual-rig.js';
import { FigureSheet, NotObservedError, type Scenario, type ScenarioResult } from './types.js';

const LATENCY_MS = 500;
/** The bonded unit's own SRT latency: its session crosses the lossy emulated cellular links. */
const BONDED_LATENCY_MS = 1500;
const OUTAGE_S = 10;
const BITRATE = 2_000_000;

type Dest = Pick<DestinationSrtStats, 'connected' | 'sentBytes' | 'connects' | 'droppedPackets' | 'dropPackets'>;

/** What sends to the two listeners: started, read, stopped. */
interface DualRig {
  start(): Promise<void>;
  /** The two destinations (or forwards), in order; fewer before they exist. */
  dests(): Dest[];
  stop(): Promise<void>;
}

async function until(cond: () => boolean, ms: number, signal: AbortSignal): Promise<boolean> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end || signal.aborted) return false;
    await wait(50);
  }
  return true;
}

function source() {
  return testPatternSource({ inputName: 'bench', width: 640, height: 360, bitrate: BITRATE, keyframeSeconds: 2 });
}

/** The box's own two destinations. */
function directRig(a: DualListener, b: DualListener): DualRig {
  const unit = new StreamUnit({
    source: source(),
    mux: defaultMux(),
    destination: DestinationConfig.parse({ name: 'flow-a', url: `srt://127.0.0.1:${a.port}`, latencyMs: LATENCY_MS }),
    secondDestination: DestinationConfig.parse({ name: 'flow-b', url: `srt://127.0.0.1:${b.port}`, latencyMs: LATENCY_MS }),
  });
  return { start: () => unit.start(), dests: () => unit.stats().destinations, stop: () => unit.stop() };
}

/** A bonded box, its receiver sending the stream on to both listeners. */
function fanoutRig(a: DualListener, b: DualListener): DualRig {
  let path: BondedPath | undefined;
  let unit: StreamUnit | undefined;
  return {
    async start() {
      path = await startBondedPath(
        [`srt://127.0.0.1:${a.port}?latency=${LATENCY_MS}`, `srt://127.0.0.1:${b.port}?latency=${LATENCY_MS}`],
        VENUE_LINKS,
        15,
      );
      unit = new StreamUnit({
        source: source(),
        mux: defaultMux(),
        destination: DestinationConfig.parse({ name: 'receiver', url: `srt://127.0.0.1:${a.port}`, latencyMs: BONDED_LATENCY_MS }),
        bond: path.bond,
      });
      await unit.start();
    },
    dests: () => path?.receiver.stats().perGroup[0]?.fanout?.forwards ?? [],
    async stop() {
      await unit?.stop();
      path?.close();
    },
  };
}

/** One run of the scenario on a rig: both live, `b` killed for OUTAGE_S, started again; its figures on `sheet`, named with `prefix`. */
async function outageRun(
  make: (a: DualListener, b: DualListener) => DualRig,
  prefix: string,
  sheet: FigureSheet,
  o: { beforeS: number; afterS: number; signal: AbortSignal },
): Promise<{ held: boolean; summary: string }> {
  const { signal } = o;
  const name = (n: string) => `${prefix}${n}`;
  const a = new DualListener(await freeUdpPort(), LATENCY_MS);
  const b = new DualListener(await freeUdpPort(), LATENCY_MS);
  a.start();
  b.start();
  const rig = make(a, b);
  try {
    if (!(await until(() => udpPortBound(a.port) && udpPortBound(b.port), 10_000, signal)))
      throw new NotObservedError(name('lost_ts_packets_other'), 'the srt-live-transmit listeners did not start');
    await rig.start();
    const dests = () => rig.dests();
    if (!(await until(() => dests().length === 2 && dests().every((d) => d.connected), 30_000, signal)))
      throw new NotObservedError(name('lost_ts_packets_other'), 'the two destinations never were both live');
    await wait(o.beforeS * 1000, undefined, { signal });

    const killedAt = performance.now();
    await b.kill();
    const seenDown = await until(() => dests()[1]?.connected === false, 15_000, signal);
    const downS = (performance.now() - killedAt) / 1000;
    const rest = OUTAGE_S * 1000 - (performance.now() - killedAt);
    if (rest > 0) await wait(rest, undefined, { signal });
    const otherLiveThrough = dests()[0]?.connected === true;
    const backAt = performance.now();
    b.start();
    const back = await until(() => dests()[1]?.connected === true, 20_000, signal);
    const backS = (performance.now() - backAt) / 1000;
    await wait(o.afterS * 1000, undefined, { signal });

    // What was handed to the other destination until now must all arrive; a listener drops what it holds at a hang-up.
    const sentA = dests()[0]!.sentBytes;
    await until(() => a.received() >= sentA, 10_000, signal);
    const receivedA = a.received();
    const sentPackets = sentA / TS_PACKET_SIZE;
    const end = dests();
    await rig.stop();
    await Promise.all([a.stop(), b.stop()]);

    const fa = a.files()[0] ?? Buffer.alloc(0);
    const [b1cut, b2] = b.files();
    const b1 = wholePackets(b1cut ?? Buffer.alloc(0));
    const other = end[0]!;
    const failed = end[1]!;
    const checkA = checkTs(fa);
    sheet
      .add(name('run_s'), Math.round(o.beforeS + OUTAGE_S + o.afterS), 's')
      .add(name('outage_s'), OUTAGE_S, 's (the second listener killed, then started again)')
      .add(name('video_bitrate'), BITRATE / 1e6, 'Mbit/s')
      .add(name('other_sent_ts_packets'), sentPackets)
      .add(name('lost_ts_packets_other'), Math.max(0, Math.round((sentA - Math.min(receivedA, sentA)) / TS_PACKET_SIZE)), 'goal 0')
      .add(name('other_cc_errors'), checkA.continuityErrors, 'goal 0')
      .add(name('other_reconnects'), other.connects - 1, 'goal 0')
      .add(name('other_dropped_packets'), other.droppedPackets, 'not sent (queue full or not connected), goal 0')
      .add(name('other_srt_too_late_drops'), other.dropPackets, 'goal 0')
      .add(name('other_live_through_outage'), otherLiveThrough ? 'yes' : 'no');
    sheet.measured(name('failed_seen_down_s'), seenDown ? Math.round(downS * 10) / 10 : undefined, 's', 'the second never seen down');
    sheet.measured(
      name('failed_back_live_s'),
      back ? Math.round(backS * 10) / 10 : undefined,
      's after its listener returned',
      'the second never came back',
    );
    sheet.add(name('failed_connects'), failed.connects);

    const before = overlap(fa, b1);
    const after = b2 ? overlap(fa, b2) : undefined;
    sheet
      .add(name('compared_bytes_before_outage'), before.same + before.differ)
      .add(name('differing_bytes_before_outage'), before.at < 0 ? b1.length : before.differ, 'goal 0');
    if (after && b2) {
      sheet
        .add(name('compared_bytes_after_outage'), after.same + after.differ)
        .add(name('differing_bytes_after_outage'), after.at < 0 ? b2.length : after.differ, 'goal 0');
    } else sheet.missing(name('differing_bytes_after_outage'), 'the second received nothing after its return');
    const identical = before.at >= 0 && before.differ === 0 && after !== undefined && after.at >= 0 && after.differ === 0;
    sheet.add(name('identical_outside_outage'), identical ? 'yes' : 'no');

    const lost = sheet.value(name('lost_ts_packets_other'));
    const held = lost === 0 && checkA.continuityErrors === 0 && other.connects === 1 && identical && back;
    return {
      held,
      summary: held
        ? `lost 0 of ${sentPackets} TS packets on the other, identical outside the outage`
        : `lost ${lost} TS packets on the other, ${checkA.continuityErrors} CC errors, ${other.connects - 1} reconnects, identical outside the outage: ${identical ? 'yes' : 'no'}, the second back: ${back ? 'yes' : 'no'}`,
    };
  } finally {
    await rig.stop();
    await Promise.all([a.kill(), b.kill()]);
  }
}

export const scenario: Scenario = {
  name: 'dual',
  description:
    'two listeners, one killed for 10 s, from the box directly and through the bonded receiver fan-out: lost TS packets on the other, byte identity outside the outage',
  async run({ quick, signal }): Promise<ScenarioResult> {
    const o = { beforeS: quick ? 4 : 10, afterS: quick ? 4 : 10, signal };
    const sheet = new FigureSheet();
    const direct = await outageRun(directRig, '', sheet, o);
    const fanout = await outageRun(fanoutRig, 'fanout_', sheet, o);
    const verdict = `two destinations: ${direct.summary}; bonded fan-out: ${fanout.summary}`;
    return sheet.result(`${direct.held && fanout.held ? 'goal met' : 'goal missed'}: ${verdict}`);
  },
};
