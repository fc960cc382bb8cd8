/**
 * The timeline of what reached the destination, one entry per wall-clock
 * second, from SRT's own acknowledgements.
 *
 * libsrt acknowledges cumulatively: every packet before the ACK's sequence
 * number has arrived, and leaves the send buffer. So the packets of the
 * current connection that are settled — acknowledged, or given up as too
 * late (`pktSndDropTotal`) — are `pktSentUniqueTotal − pktSndBuf` (sent
 * once, minus those still waiting in the send buffer; the ABR controller
 * reads the same figures). At the end of each second the timeline notes how
 * many packets had been sent by then (its mark); the second is `acked` once
 * the settled count passes the mark with no packet dropped meanwhile,
 * `partial` if some of it never went out (not connected for all of it) or
 * libsrt dropped packets as too late while it waited, and `missed` when
 * nothing of it went out, or the connection ended (or stayed silent for
 * PENDING_LIMIT_S) before its acknowledgement came. Unconfirmed is missed:
 * the operator may upload a second the ingest did get, never skip one it lost.
 *
 * Pure: the recorder feeds it samples and the clock.
 */
import type { DeliveryT } from './index-file.js';

/** What the SRT output says now (the stream unit's probe). Totals are the current connection's. */
export interface DeliverySample {
  /** Which connection: changes with each new one (SrtOutput's connect count). */
  connection: number;
  connected: boolean;
  /** Bytes handed to SRT since the output started (all connections). */
  sentBytes: number;
  /** This connection's packets sent once, still in the send buffer, and dropped too late (absent before its first statistics). */
  srt?: { sentUnique: number; sndBuf: number; dropped: number };
}

/** A second not acknowledged after this long is counted as missed (a peer that stopped answering). */
export const PENDING_LIMIT_S = 30;
/** Less than this share of a second's recorded bytes handed to SRT makes it partial. */
const WHOLE_SHARE = 0.9;

interface Pending {
  t: number;
  connection: number;
  mark: number;
  dropped: number;
  short: boolean;
}

export class DeliveryTimeline {
  private readonly pending: Pending[] = [];
  private lastSentBytes: number | undefined;
  /** The current connection's too-late drops at the end of the last second. */
  private droppedAtSecond = 0;
  private lastConnection = -1;

  constructor(private readonly onSecond: (t: number, d: DeliveryT) => void) {}

  /** The second `t` (epoch s) has ended, with `recordedBytes` recorded in it and `s` the output's state at its end. */
  endSecond(t: number, recordedBytes: number, s: DeliverySample): void {
    const sent = this.lastSentBytes === undefined ? 0 : Math.max(0, s.sentBytes - this.lastSentBytes);
    this.lastSentBytes = s.sentBytes;
    this.update(t, s);
    if (recordedBytes === 0) {
      if (s.srt) this.droppedAtSecond = s.srt.dropped;
      return;
    }
    if (sent === 0 || !s.connected || !s.srt) {
      if (s.srt) this.droppedAtSecond = s.srt.dropped;
      this.onSecond(t, 'missed');
      return;
    }
    this.pending.push({
      t,
      connection: s.connection,
      mark: s.srt.sentUnique,
      dropped: this.droppedAtSecond,
      short: sent < recordedBytes * WHOLE_SHARE,
    });
    this.droppedAtSecond = s.srt.dropped;
    this.update(t, s);
  }

  /** A newer sample: resolves the seconds it acknowledges. `now` is the current epoch second. */
  update(now: number, s: DeliverySample): void {
    if (s.connection !== this.lastConnection) {
      this.lastConnection = s.connection;
      this.droppedAtSecond = 0;
    }
    while (this.pending.length > 0) {
      const p = this.pending[0]!;
      // A connection that ended (its statistics are gone) or was replaced never acknowledges it. One that is
      // draining at the end of the stream (no longer "connected", still reporting) still may.
      if (p.connection !== s.connection || !s.srt) {
        this.resolve('missed');
        continue;
      }
      // Out of the send buffer: acknowledged, or dropped as too late (counted below).
      const settled = s.srt.sentUnique - s.srt.sndBuf;
      if (settled >= p.mark) {
        // Drops since the second began: some of its packets may be among them (counted against it, never for it).
        this.resolve(p.short || s.srt.dropped > p.dropped ? 'partial' : 'acked');
        continue;
      }
      if (now - p.t > PENDING_LIMIT_S) {
        this.resolve('missed');
        continue;
      }
      break;
    }
  }

  /** The stream stops: what is still waiting was never confirmed. */
  flush(): void {
    while (this.pending.length > 0) this.resolve('missed');
  }

  get waiting(): number {
    return this.pending.length;
  }

  private resolve(d: DeliveryT): void {
    const p = this.pending.shift();
    if (p) this.onSecond(p.t, d);
  }
}
