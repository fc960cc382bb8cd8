/**
 * What the receiver sends back on each link, read (SRTLA.md "Sending"): a
 * keepalive echo gives the link's RTT, an SRTLA ACK what it delivered, SRT
 * ACKs and NAKs what arrived and what was lost; registration answers go to
 * the registration; SRT packets go on to the caller, one copy each
 * (sender-dedupe.ts). Anything heard on a link tells the scheduler it is alive.
 *
 * No I/O: a packet and the time in, what to do with it out (CONVENTIONS.md §10).
 */
import { decodeSrtla, decodeSrtNak, probeSeq, SRT_CONTROL, srtAckSeq, srtControlType } from './protocol.js';
import type { Scheduler } from './scheduler.js';
import { ReturnDedupe } from './sender-dedupe.js';
import type { RegistrationAction, SenderRegistration } from './sender-registration.js';

export type ReturnAction =
  | { kind: 'none' }
  /** An SRT packet for the caller (the first copy of it). */
  | { kind: 'to-caller' }
  /** The echo of a preflight probe (see BondSender.sendProbe). */
  | { kind: 'probe'; seq: number; rttMs: number; bytes: number }
  | { kind: 'registration'; actions: RegistrationAction[] };

const NONE: ReturnAction = { kind: 'none' };

export class ReturnPath {
  /** SRT packets dropped as copies of one that already went to the caller. */
  duplicates = 0;
  malformed = 0;
  private readonly dedupe = new ReturnDedupe();

  constructor(
    private readonly scheduler: Pick<Scheduler, 'onReceive' | 'onKeepaliveRtt' | 'onSrtlaAck' | 'onSrtAck' | 'onNak'>,
    private readonly registration: Pick<SenderRegistration, 'heard' | 'onReply'>,
  ) {}

  /** A packet from the receiver on `link`. */
  read(link: string, buf: Buffer, now: number): ReturnAction {
    const srtla = decodeSrtla(buf);
    if (srtla === undefined) return this.srt(link, buf, now);
    switch (srtla.kind) {
      case 'keepalive': {
        this.heard(link, now);
        const probe = probeSeq(buf);
        if (probe !== undefined) {
          // A preflight probe's echo: its size makes its RTT no keepalive's.
          if (srtla.timestampMs === undefined) return NONE;
          return { kind: 'probe', seq: probe, rttMs: Math.max(0, now - srtla.timestampMs), bytes: buf.length };
        }
        const ts = srtla.timestampMs;
        // Only our own echoes: a timestamp from our clock, not in the future, under 10 s old.
        if (ts !== undefined && ts <= now + 1 && now - ts < 10_000) this.scheduler.onKeepaliveRtt(link, Math.max(0, now - ts), ts, now);
        return NONE;
      }
      case 'ack':
        this.heard(link, now);
        this.scheduler.onSrtlaAck(link, srtla.seqs, now);
        return NONE;
      case 'reg3':
        // An answer like any other (a stalled link that asked again is heard again), then the registration's.
        this.heard(link, now);
        return { kind: 'registration', actions: this.registration.onReply(link, srtla, now) };
      case 'reg2':
      case 'regErr':
      case 'regNak':
      case 'regNgp':
        return { kind: 'registration', actions: this.registration.onReply(link, srtla, now) };
      case 'reg1':
      case 'malformed':
        this.malformed++;
        return NONE;
    }
  }

  private srt(link: string, buf: Buffer, now: number): ReturnAction {
    this.heard(link, now);
    if (this.dedupe.isDuplicate(buf, now)) {
      this.duplicates++;
      return NONE;
    }
    const type = srtControlType(buf);
    if (type === SRT_CONTROL.ACK) {
      const ack = srtAckSeq(buf);
      if (ack !== undefined) this.scheduler.onSrtAck(ack, now);
    } else if (type === SRT_CONTROL.NAK) {
      const nak = decodeSrtNak(buf);
      if (nak.kind === 'nak') this.scheduler.onNak(nak.ranges, now);
    }
    return { kind: 'to-caller' };
  }

  private heard(link: string, now: number): void {
    this.registration.heard(now);
    this.scheduler.onReceive(link, now);
  }
}
