/**
 * One bonded stream at the receiver: the UDP socket that carries it to the
 * SRT listener, the reorder stage, and the return path over its links (which
 * links those are, receiver-table.ts keeps). With two forwards the SRT
 * listener is the group's own terminated session on loopback
 * (receiver-fanout.ts, given as `deps.terminate`), which sends the stream
 * on to both; with one, it is the far listener itself, the packets relayed
 * as they came. SRTLA.md "Receiving": SRT ACKs
 * go out on every live link (each link's sender frees in-flight data by
 * them); NAKs, handshakes and shutdowns too — the common receiver sends those
 * on the last link only, and a dead link swallows them. Everything else goes
 * on the most recently active link.
 */
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { createLogger } from '../lib/logger.js';
import {
  decodeSrtNak,
  encodeSrtlaAck,
  isMalformed,
  isRetransmission,
  SRT_CONTROL,
  SRTLA_ACK_COMMON_COUNT,
  srtControlType,
  srtDataSeq,
} from './protocol.js';
import type { FanoutStatsSnapshot } from './receiver-fanout-stats.js';
import { ReorderBuffer, type ReorderStats } from './reorder.js';
import { seqDiff } from './sequence.js';

const log = createLogger('receive');

/** Packets held while the forward socket connects (a few ms at most). */
const MAX_PENDING_CONNECT = 1024;

export interface ReceiverLink {
  /** `ip|port` as the socket reports it. */
  readonly key: string;
  readonly address: string;
  readonly port: number;
  readonly ip: string;
  readonly group: ReceiverGroup;
  readonly registeredAt: number;
  lastSeen: number;
  packets: number;
  bytes: number;
  keepalives: number;
  srtlaAcks: number;
  /** Data sequence numbers since the last SRTLA ACK. */
  ackLog: number[];
  rateBps: number;
  rateBytesMark: number;
}

/** What registration knows of a group when it creates it (receiver-registration.ts). */
export interface GroupSpec {
  /** Short number for logs and stats; the id itself is a credential and never shown. */
  tag: number;
  /** The full 256-byte id, and as hex (the table's key). */
  id: Buffer;
  idHex: string;
  /** Who sent REG1 (`ip|port`) and from which IP. */
  creatorKey: string;
  creatorIp: string;
  createdAt: number;
}

export interface GroupDeps {
  /** Sends on the receiver's listening socket to one link. */
  sendToLink(msg: Buffer, link: ReceiverLink): void;
  /** The group's links now, by source address (receiver-table.ts). */
  linksOf(group: ReceiverGroup): ReadonlyMap<string, ReceiverLink>;
  forwardHost: string;
  forwardPort: number;
  /** Fan-out: the group's own SRT listener on loopback, made when its first packet is forwarded. */
  terminate?: (group: ReceiverGroup) => TerminatedSession;
  reorderMs: number;
  linkTimeoutMs: number;
}

/** A group's SRT session ended at the receiver and sent on to the forwards (receiver-fanout.ts implements it). */
export interface TerminatedSession {
  /** The loopback port its SRT listener bound; rejects when it could not listen. */
  readonly port: Promise<number>;
  /** An SRT control packet from the unit, before it is forwarded (its handshake says whether it encrypts). */
  fromUnit(msg: Buffer): void;
  stats(): FanoutStatsSnapshot;
  close(): void;
}

export interface GroupCounters {
  packetsIn: number;
  bytesIn: number;
  packetsForwarded: number;
  bytesForwarded: number;
  packetsFromListener: number;
  bytesFromListener: number;
  srtAcks: number;
  /** SRT NAK packets the listener sent: retransmission requests that reordering did not prevent. */
  naks: number;
  /** Sequence numbers those NAKs asked for. */
  nakSeqs: number;
  handshakes: number;
  /** Packets from the listener sent on every live link (ACK, NAK, handshake, shutdown). */
  fannedOut: number;
  malformed: number;
}

export class ReceiverGroup implements GroupSpec {
  readonly tag: number;
  readonly id: Buffer;
  readonly idHex: string;
  readonly creatorKey: string;
  readonly creatorIp: string;
  readonly createdAt: number;
  readonly counters: GroupCounters = {
    packetsIn: 0,
    bytesIn: 0,
    packetsForwarded: 0,
    bytesForwarded: 0,
    packetsFromListener: 0,
    bytesFromListener: 0,
    srtAcks: 0,
    naks: 0,
    nakSeqs: 0,
    handshakes: 0,
    fannedOut: 0,
    malformed: 0,
  };
  /** Set on the first SRT packet: until then the group is "pending" and reaped early. */
  hadData = false;
  lastSeen: number;
  rateBps = 0;
  private rateBytesMark = 0;
  private lastActive: ReceiverLink | undefined;
  private sock: dgram.Socket | undefined;
  private session: TerminatedSession | undefined;
  /** Where the forward socket sends: the far listener's port, or the terminated session's. */
  private targetPort = 0;
  /** Packets waiting for the forward socket's connect() (a connected socket sends faster and hears only the listener). */
  private pending: Buffer[] | undefined = [];
  private readonly reorder: ReorderBuffer;
  private reorderTimer: NodeJS.Timeout | undefined;
  private reorderTimerAt = Number.POSITIVE_INFINITY;
  private closed = false;

  constructor(
    spec: GroupSpec,
    private readonly deps: GroupDeps,
  ) {
    this.tag = spec.tag;
    this.id = spec.id;
    this.idHex = spec.idHex;
    this.creatorKey = spec.creatorKey;
    this.creatorIp = spec.creatorIp;
    this.createdAt = spec.createdAt;
    this.lastSeen = spec.createdAt;
    this.reorder = new ReorderBuffer(deps.reorderMs, (pkt) => this.forward(pkt));
  }

  reorderStats(): ReorderStats {
    return this.reorder.stats();
  }

  /** The terminated session and its forwards (fan-out), once the group has sent something. */
  fanoutStats(): FanoutStatsSnapshot | undefined {
    return this.session?.stats();
  }

  /** A packet from one of this group's links that is not SRTLA: SRT data or control. */
  fromSender(msg: Buffer, link: ReceiverLink, now: number): void {
    const c = this.counters;
    c.packetsIn++;
    c.bytesIn += msg.length;
    this.lastActive = link;
    this.lastSeen = now;
    const seq = srtDataSeq(msg);
    if (seq === undefined) {
      // SRT control (handshake, ACKACK, keepalive, shutdown…): a full 16-byte header or it is junk.
      if (srtControlType(msg) === undefined) {
        c.malformed++;
        return;
      }
      this.hadData = true;
      if (this.deps.terminate) {
        this.socket();
        this.session?.fromUnit(msg);
      }
      this.forward(msg);
      return;
    }
    this.hadData = true;
    // SRTLA.md: an SRTLA ACK per link every 10 data packets received on it.
    link.ackLog.push(seq);
    if (link.ackLog.length >= SRTLA_ACK_COMMON_COUNT) {
      this.deps.sendToLink(encodeSrtlaAck(link.ackLog), link);
      link.srtlaAcks++;
      link.ackLog = [];
    }
    this.reorder.push(msg, seq, isRetransmission(msg), now);
    this.armReorderTimer();
  }

  /** Links heard from within the link timeout. */
  liveLinks(now: number): ReceiverLink[] {
    const out: ReceiverLink[] = [];
    for (const l of this.deps.linksOf(this).values()) if (now - l.lastSeen <= this.deps.linkTimeoutMs) out.push(l);
    return out;
  }

  /** Per-second rates (housekeeping). */
  updateRates(seconds: number): void {
    this.rateBps = ((this.counters.bytesIn - this.rateBytesMark) * 8) / seconds;
    this.rateBytesMark = this.counters.bytesIn;
    for (const l of this.deps.linksOf(this).values()) {
      l.rateBps = ((l.bytes - l.rateBytesMark) * 8) / seconds;
      l.rateBytesMark = l.bytes;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.reorderTimer) clearTimeout(this.reorderTimer);
    try {
      this.sock?.close();
    } catch {
      // already closed
    }
    this.session?.close();
  }

  private forward(pkt: Buffer): void {
    if (this.closed) return;
    this.counters.packetsForwarded++;
    this.counters.bytesForwarded += pkt.length;
    const sock = this.socket();
    if (this.pending === undefined) sock.send(pkt);
    else if (this.pending.length < MAX_PENDING_CONNECT) this.pending.push(pkt);
  }

  /** One socket per group: the listener tells SRT sessions apart by source address. */
  private socket(): dgram.Socket {
    if (this.sock) return this.sock;
    const terminate = this.deps.terminate;
    const type = !terminate && this.deps.forwardHost.includes(':') ? 'udp6' : 'udp4';
    const sock = dgram.createSocket(type);
    // ICMP "port unreachable" while the listener is down surfaces here; SRT retries by itself.
    sock.on('error', (err) => log.debug('forward socket error', { group: this.tag, err }));
    const connect = (host: string, port: number) => {
      this.targetPort = port;
      sock.connect(port, host, () => {
        const queued = this.pending ?? [];
        this.pending = undefined;
        if (!this.closed) for (const p of queued) sock.send(p);
      });
    };
    if (terminate) {
      const session = terminate(this);
      this.session = session;
      session.port.then(
        (port) => {
          if (!this.closed) connect('127.0.0.1', port);
        },
        (err: unknown) => log.error('cannot end the stream here for its forwards', { group: this.tag, err }),
      );
    } else connect(this.deps.forwardHost, this.deps.forwardPort);
    sock.on('message', (msg, rinfo) => {
      if (rinfo.port !== this.targetPort) return;
      try {
        this.fromListener(msg, performance.now());
      } catch (err) {
        this.counters.malformed++;
        log.debug('listener packet handler failed', { group: this.tag, err });
      }
    });
    this.sock = sock;
    return sock;
  }

  private fromListener(msg: Buffer, now: number): void {
    const c = this.counters;
    c.packetsFromListener++;
    c.bytesFromListener += msg.length;
    const type = srtControlType(msg);
    let everyLink = false;
    switch (type) {
      case SRT_CONTROL.ACK:
        c.srtAcks++;
        everyLink = true;
        break;
      case SRT_CONTROL.NAK: {
        c.naks++;
        const nak = decodeSrtNak(msg);
        if (!isMalformed(nak)) for (const r of nak.ranges) c.nakSeqs += seqDiff(r.to, r.from) + 1;
        everyLink = true;
        break;
      }
      case SRT_CONTROL.HANDSHAKE:
        c.handshakes++;
        everyLink = true;
        break;
      case SRT_CONTROL.SHUTDOWN:
        everyLink = true;
        break;
    }
    if (everyLink) {
      const live = this.liveLinks(now);
      if (live.length > 1) c.fannedOut++;
      for (const l of live) this.deps.sendToLink(msg, l);
      return;
    }
    const last = this.lastActive;
    if (last && this.deps.linksOf(this).get(last.key) === last) this.deps.sendToLink(msg, last);
  }

  private armReorderTimer(): void {
    const at = this.reorder.nextDeadline();
    if (at === undefined || at >= this.reorderTimerAt) return;
    if (this.reorderTimer) clearTimeout(this.reorderTimer);
    this.reorderTimerAt = at;
    this.reorderTimer = setTimeout(
      () => {
        this.reorderTimer = undefined;
        this.reorderTimerAt = Number.POSITIVE_INFINITY;
        if (this.closed) return;
        this.reorder.expire(performance.now());
        this.armReorderTimer();
      },
      Math.max(1, at - performance.now()),
    );
  }
}
