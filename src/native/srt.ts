/**
 * Exports of the libsrt feature (native/src/srt_*.cc). Use them through
 * src/srt (SrtConnection, SrtOutput), which validates options first.
 */

/** Flat options the native SrtSocket reads; every value already validated (src/srt/url.ts, connection.ts). */
export interface SrtNativeOptions {
  mode: 'caller' | 'listener' | 'rendezvous';
  /** Which way the stream flows on this socket. */
  role: 'send' | 'receive';
  /** Remote host (caller, rendezvous) or bind address (listener); '' = any. */
  host: string;
  /** Remote port, or the port to listen on (0 = any free port). */
  port: number;
  localHost?: string;
  localPort?: number;
  ipv6?: boolean;
  latencyMs?: number;
  rcvLatencyMs?: number;
  peerLatencyMs?: number;
  passphrase?: string;
  pbkeylen?: number;
  streamId?: string;
  /** Listener: accept only callers with one of these stream ids (empty or absent = any). */
  acceptStreamIds?: string[];
  /** Bytes per second; -1 unlimited, 0 relative to inputBw. */
  maxBw?: number;
  inputBw?: number;
  overheadBw?: number;
  payloadSize?: number;
  connectTimeoutMs?: number;
  peerIdleTimeoutMs?: number;
  statsIntervalMs?: number;
  sendQueuePackets?: number;
}

/**
 * One srt_bstats sample (libsrt "statistics" documentation) plus Fieldcast's
 * send-queue counters. Interval fields (pktSent, pktSndLoss, ...) cover the
 * `intervalMs` since the previous sample; `...Total` fields count since the
 * connection opened; buffers and rates are instantaneous.
 */
export interface SrtNativeStats {
  intervalMs: number;
  msRTT: number;
  /** Link capacity estimate from packet pairs, Mbit/s. */
  mbpsBandwidth: number;
  mbpsSendRate: number;
  mbpsRecvRate: number;
  mbpsMaxBW: number;
  byteAvailSndBuf: number;
  byteAvailRcvBuf: number;
  /** Span of unacknowledged data in the send buffer, ms. */
  msSndBuf: number;
  pktSndBuf: number;
  byteSndBuf: number;
  msRcvBuf: number;
  pktRcvBuf: number;
  msSndTsbPdDelay: number;
  msRcvTsbPdDelay: number;
  pktFlightSize: number;
  pktSent: number;
  pktSentUnique: number;
  pktRecv: number;
  pktSndLoss: number;
  pktRcvLoss: number;
  pktRetrans: number;
  pktSndDrop: number;
  pktRcvDrop: number;
  byteSent: number;
  byteRecv: number;
  pktSentTotal: number;
  pktSentUniqueTotal: number;
  pktRecvTotal: number;
  pktSndLossTotal: number;
  pktRcvLossTotal: number;
  pktRetransTotal: number;
  /** SRT ACKs received since connect: a sender that stops hearing them has lost its receiver. */
  pktRecvACKTotal: number;
  /**
   * SRT NAKs received since connect. A receiver waiting on a lost packet
   * withholds its ACKs (the ACK number cannot pass the gap) but keeps
   * reporting the loss: NAKs, too, prove it is there.
   */
  pktRecvNAKTotal: number;
  pktSndDropTotal: number;
  pktRcvDropTotal: number;
  pktRcvUndecryptTotal: number;
  byteSentTotal: number;
  byteRecvTotal: number;
  /** Messages waiting in Fieldcast's native queue before libsrt. */
  queuePackets: number;
  queueBytes: number;
  /** Messages this socket dropped: queue full (oldest first) or sent while not connected. Cumulative. */
  queueDroppedPackets: number;
  queueDroppedBytes: number;
  /** Received bytes dropped because JS did not take them in time. Cumulative. */
  recvDroppedBytes: number;
}

export type SrtNativeMessage =
  | { type: 'listening'; port: number }
  | { type: 'connected'; peer: string; streamId: string }
  | { type: 'disconnected'; code: string; message: string }
  | { type: 'failed'; code: string; message: string; rejectReason: number }
  | { type: 'closed' }
  | { type: 'stats'; stats: SrtNativeStats }
  | { type: 'data'; data: Buffer };

export interface SrtNativeSocket {
  /** Starts the native thread (connect, or listen and accept one peer at a time). */
  start(): void;
  /** Queues data as messages of payloadSize; returns how many messages were dropped. Never blocks. */
  send(data: Uint8Array): number;
  /** Idempotent; returns after the native thread has stopped. */
  close(): void;
  readonly connected: boolean;
}

export interface SrtExports {
  SrtSocket: new (options: SrtNativeOptions, onMessage: (message: SrtNativeMessage) => void) => SrtNativeSocket;
  /** libsrt's version, e.g. "1.5.1". */
  srtVersion(): string;
}
