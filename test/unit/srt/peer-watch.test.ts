import { describe, expect, it } from 'vitest';
import { type PeerWatch, type PeerWatchSample, peerSilenceLimitMs, watchPeer } from '../../../src/srt/stats.js';

/** One sample as the output sees it every 100 ms; the counters are totals since connect. */
interface Tick {
  /** ms since connect */
  at: number;
  acks?: number;
  naks?: number;
  recv?: number;
  /** Unacknowledged packets: sent (pktFlightSize) and in the send buffer (pktSndBuf). */
  flight?: number;
  sndBuf?: number;
  rtt?: number;
}

/** Feeds the samples of one session in order; when (ms) the watch says the peer is lost, if it does (the session ends there). */
function lostAt(ticks: Tick[], latencyMs = 1000): number[] {
  let w: PeerWatch | undefined;
  const lost: number[] = [];
  for (const t of ticks) {
    const s: PeerWatchSample = {
      pktRecvACKTotal: t.acks ?? 0,
      pktRecvNAKTotal: t.naks ?? 0,
      pktRecvTotal: t.recv ?? 0,
      pktFlightSize: t.flight ?? 0,
      pktSndBuf: t.sndBuf ?? t.flight ?? 0,
      msRTT: t.rtt ?? 100,
    };
    const v = watchPeer(w, s, t.at, latencyMs);
    w = v.watch;
    if (v.lost) {
      lost.push(t.at);
      break;
    }
  }
  return lost;
}

/** Samples every 100 ms from `from` to `to` (inclusive), each built by `f`. */
function every100(from: number, to: number, f: (at: number) => Omit<Tick, 'at'>): Tick[] {
  const out: Tick[] = [];
  for (let at = from; at <= to; at += 100) out.push({ at, ...f(at) });
  return out;
}

describe('watchPeer: a session is given up only on evidence that the peer is gone', () => {
  const cases: { name: string; ticks: Tick[]; latencyMs?: number; lost: number[] }[] = [
    {
      // libsrt counts no keepalive: to the statistics an idle session is total silence.
      name: 'an idle session (keepalives only, nothing sent) is never given up, however long',
      ticks: every100(100, 30_000, () => ({})),
      lost: [],
    },
    {
      name: 'an input that starts 1.5 s after connect, answered within an RTT, is not taken for a lost peer',
      ticks: [
        ...every100(100, 1500, () => ({})),
        { at: 1600, flight: 40 }, // the first data: its ACK is still on its way (RTT 150 ms)
        ...every100(1700, 6000, (at) => ({ acks: (at - 1600) / 10, flight: 15, rtt: 150 })),
      ],
      lost: [],
    },
    {
      name: 'the first ACK taking longer than a sample but within the limit: no',
      ticks: [
        ...every100(100, 3000, () => ({})),
        ...every100(3100, 3900, () => ({ flight: 60 })),
        ...every100(4000, 6000, (at) => ({ acks: at / 10, flight: 20 })),
      ],
      lost: [],
    },
    {
      name: 'data in flight and total silence past the limit: lost, one limit after the last answer',
      ticks: [
        ...every100(100, 2000, (at) => ({ acks: at / 10, flight: 20 })),
        // The listener dies at 2 s: nothing more is heard, unacknowledged data piles up.
        ...every100(2100, 5000, (at) => ({ acks: 200, flight: 20 + (at - 2000) / 10 })),
      ],
      lost: [3100],
    },
    {
      name: 'a peer that dies while the session is idle is given up one limit after data starts to wait',
      ticks: [...every100(100, 4000, () => ({})), ...every100(4100, 7000, (at) => ({ flight: (at - 4000) / 10 }))],
      lost: [5200],
    },
    {
      name: 'data in flight, no ACK (a gap the receiver waits on) but NAKs arriving: no',
      ticks: [
        ...every100(100, 1000, (at) => ({ acks: at / 10, flight: 20 })),
        ...every100(1100, 6000, (at) => ({ acks: 100, naks: (at - 1000) / 100, flight: 80 })),
      ],
      lost: [],
    },
    {
      name: 'data in flight and ACKs arriving: no',
      ticks: every100(100, 10_000, (at) => ({ acks: at / 10, flight: 30 })),
      lost: [],
    },
    {
      name: 'data from the peer (a bidirectional session) counts as an answer',
      ticks: [
        ...every100(100, 1000, (at) => ({ acks: at / 10, flight: 20 })),
        ...every100(1100, 6000, (at) => ({ acks: 100, recv: at / 10, flight: 20 })),
      ],
      lost: [],
    },
    {
      // pktSndBuf from srt_bstats is a moving average: it lingers after everything is acknowledged.
      name: 'the send buffer still shows packets but none is in flight: no',
      ticks: [...every100(100, 1000, (at) => ({ acks: at / 10, flight: 20 })), ...every100(1100, 8000, () => ({ acks: 100, sndBuf: 12 }))],
      lost: [],
    },
    {
      name: 'packets in flight but an empty send buffer: no',
      ticks: every100(100, 8000, () => ({ flight: 5, sndBuf: 0 })),
      lost: [],
    },
    {
      name: 'a long latency lengthens the limit to half of it',
      latencyMs: 4000,
      ticks: [...every100(100, 1000, (at) => ({ acks: at / 10, flight: 20 })), ...every100(1100, 6000, () => ({ acks: 100, flight: 50 }))],
      lost: [3100],
    },
    {
      name: 'a long RTT lengthens the limit to 4 RTTs',
      ticks: [
        ...every100(100, 1000, (at) => ({ acks: at / 10, flight: 20, rtt: 400 })),
        ...every100(1100, 6000, () => ({ acks: 100, flight: 50, rtt: 0 })),
      ],
      lost: [2700],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(lostAt(c.ticks, c.latencyMs)).toEqual(c.lost);
    });
  }

  it('the limit: a second, 4 RTTs or half the latency, whichever is longest', () => {
    expect(peerSilenceLimitMs(20, 200)).toBe(1000);
    expect(peerSilenceLimitMs(300, 200)).toBe(1200);
    expect(peerSilenceLimitMs(100, 3000)).toBe(1500);
  });

  it('says how long data has waited unanswered', () => {
    let v = watchPeer(
      undefined,
      { pktRecvACKTotal: 5, pktRecvNAKTotal: 0, pktRecvTotal: 0, pktFlightSize: 9, pktSndBuf: 9, msRTT: 30 },
      0,
      200,
    );
    v = watchPeer(
      v.watch,
      { pktRecvACKTotal: 5, pktRecvNAKTotal: 0, pktRecvTotal: 0, pktFlightSize: 9, pktSndBuf: 9, msRTT: 30 },
      700,
      200,
    );
    expect(v).toMatchObject({ lost: false, silentMs: 700, limitMs: 1000 });
  });
});
