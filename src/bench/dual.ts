/**
 * `fieldcast bench dual`: one stream to two destinations, one of them gone
 * for 10 s.
 *
 * A stream unit sends the test pattern (640×360, 2 Mbit/s) to two
 * srt-live-transmit listeners, as a box feeds a MediaConnect flow's two
 * sources. Once both are live, one listener is killed (SIGKILL: an ingest
 * gone), left down for 10 s, and started again on the same port. The figures:
 *
 * - what the other destination lost: TS packets handed to it and not
 *   received (every byte sent is waited for, while the stream still runs),
 *   its continuity errors, its reconnections, the packets it dropped;
 * - whether the two destinations got the same bytes outside the outage: the
 *   failed one's file before the kill and after its return, compared byte for
 *   byte with the other's where both have them;
 * - how the failed one behaved by itself: how long until it was seen down,
 *   and until it was live again after its listener came back.
 *
 * Goal: 0 lost TS packets on the other, 0 differing bytes outside the outage.
 * `--quick` shortens the stretches before and after the outage (not the outage).
 */
import { setTimeout as wait } from 'node:timers/promises';
import { DestinationConfig } from '../config/schema.js';
import { freeUdpPort, udpPortBound } from '../lib/udp-ports.js';
import { defaultMux, testPatternSource } from '../media/spec.js';
import { TS_PACKET_SIZE } from '../mux/constants.js';
import { StreamUnit } from '../supervisor/stream-unit.js';
import { checkTs, DualListener, overlap, wholePackets } from './dual-rig.js';
import { FigureSheet, NotObservedError, type Scenario, type ScenarioResult } from './types.js';

const LATENCY_MS = 500;
const OUTAGE_S = 10;
const BITRATE = 2_000_000;

async function until(cond: () => boolean, ms: number, signal: AbortSignal): Promise<boolean> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end || signal.aborted) return false;
    await wait(50);
  }
  return true;
}

export const scenario: Scenario = {
  name: 'dual',
  description: 'two destinations, one listener killed for 10 s: lost TS packets on the other, byte identity outside the outage',
  async run({ quick, signal }): Promise<ScenarioResult> {
    const beforeS = quick ? 4 : 10;
    const afterS = quick ? 4 : 10;
    const a = new DualListener(await freeUdpPort(), LATENCY_MS);
    const b = new DualListener(await freeUdpPort(), LATENCY_MS);
    a.start();
    b.start();
    const unit = new StreamUnit({
      source: testPatternSource({ inputName: 'bench', width: 640, height: 360, bitrate: BITRATE, keyframeSeconds: 2 }),
      mux: defaultMux(),
      destination: DestinationConfig.parse({ name: 'flow-a', url: `srt://127.0.0.1:${a.port}`, latencyMs: LATENCY_MS }),
      secondDestination: DestinationConfig.parse({ name: 'flow-b', url: `srt://127.0.0.1:${b.port}`, latencyMs: LATENCY_MS }),
    });
    const sheet = new FigureSheet();
    try {
      if (!(await until(() => udpPortBound(a.port) && udpPortBound(b.port), 10_000, signal)))
        throw new NotObservedError('lost_ts_packets_other', 'the srt-live-transmit listeners did not start');
      await unit.start();
      const dests = () => unit.stats().destinations;
      if (!(await until(() => dests().every((d) => d.connected), 20_000, signal)))
        throw new NotObservedError('lost_ts_packets_other', 'the two destinations never were both live');
      await wait(beforeS * 1000, undefined, { signal });

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
      await wait(afterS * 1000, undefined, { signal });

      // What was handed to the other destination until now must all arrive; a listener drops what it holds at a hang-up.
      const sentA = dests()[0]!.sentBytes;
      await until(() => a.received() >= sentA, 10_000, signal);
      const receivedA = a.received();
      const sentPackets = sentA / TS_PACKET_SIZE;
      const end = unit.stats().destinations;
      await unit.stop();
      await Promise.all([a.stop(), b.stop()]);

      const fa = a.files()[0] ?? Buffer.alloc(0);
      const [b1cut, b2] = b.files();
      const b1 = wholePackets(b1cut ?? Buffer.alloc(0));
      const other = end[0]!;
      const failed = end[1]!;
      const checkA = checkTs(fa);
      sheet
        .add('run_s', Math.round(beforeS + OUTAGE_S + afterS), 's')
        .add('outage_s', OUTAGE_S, 's (flow-b listener killed, then started again)')
        .add('video_bitrate', BITRATE / 1e6, 'Mbit/s')
        .add('other_sent_ts_packets', sentPackets)
        .add('lost_ts_packets_other', Math.max(0, Math.round((sentA - Math.min(receivedA, sentA)) / TS_PACKET_SIZE)), 'goal 0')
        .add('other_cc_errors', checkA.continuityErrors, 'goal 0')
        .add('other_reconnects', other.connects - 1, 'goal 0')
        .add('other_dropped_packets', other.droppedPackets, 'not sent (queue full or not connected), goal 0')
        .add('other_srt_too_late_drops', other.dropPackets, 'goal 0')
        .add('other_live_through_outage', otherLiveThrough ? 'yes' : 'no');
      sheet.measured('failed_seen_down_s', seenDown ? Math.round(downS * 10) / 10 : undefined, 's', 'flow-b never seen down');
      sheet.measured(
        'failed_back_live_s',
        back ? Math.round(backS * 10) / 10 : undefined,
        's after its listener returned',
        'flow-b never came back',
      );
      sheet.add('failed_connects', failed.connects);

      const before = overlap(fa, b1);
      const after = b2 ? overlap(fa, b2) : undefined;
      sheet
        .add('compared_bytes_before_outage', before.same + before.differ)
        .add('differing_bytes_before_outage', before.at < 0 ? b1.length : before.differ, 'goal 0');
      if (after && b2) {
        sheet
          .add('compared_bytes_after_outage', after.same + after.differ)
          .add('differing_bytes_after_outage', after.at < 0 ? b2.length : after.differ, 'goal 0');
      } else sheet.missing('differing_bytes_after_outage', 'flow-b received nothing after its return');
      const identical = before.at >= 0 && before.differ === 0 && after !== undefined && after.at >= 0 && after.differ === 0;
      sheet.add('identical_outside_outage', identical ? 'yes' : 'no');

      const lost = sheet.value('lost_ts_packets_other');
      const held = lost === 0 && checkA.continuityErrors === 0 && other.connects === 1 && identical && back;
      return sheet.result(
        held
          ? `goal met: the other destination lost 0 of ${sentPackets} TS packets through flow-b's ${OUTAGE_S} s outage; the two got the same bytes outside it`
          : `goal missed: lost ${lost} TS packets on the other, ${checkA.continuityErrors} CC errors, ${other.connects - 1} reconnects, identical outside the outage: ${identical ? 'yes' : 'no'}, flow-b back: ${back ? 'yes' : 'no'}`,
      );
    } finally {
      await unit.stop();
      await Promise.all([a.kill(), b.kill()]);
    }
  },
};
