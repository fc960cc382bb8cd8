/**
 * The stream's way out: an SRT sender that keeps itself connected.
 *
 * It opens an SrtConnection (role 'send') and, whenever the connection fails
 * or breaks, opens a new one after a backoff: 200 ms doubling to 1 s, with
 * ±20% jitter. The ceiling is short on purpose: an attempt in progress
 * already re-sends its handshake every 250 ms for the whole connect timeout
 * (libsrt), and the gap between attempts bounds how late we notice a
 * listener that has come back (issue 4: resume within 2 s of its return).
 *
 * A wrong passphrase, an encryption mismatch or a refused stream id cannot
 * fix themselves: SrtOutput then sets `needsOperator`, keeps the error in
 * `lastError` for the status page, and retries only every 30 s (the operator
 * may fix the other side).
 *
 * Sends while not connected are dropped and counted: the stream unit holds
 * the stream back until 'connected' and starts it there on a keyframe.
 *
 * A connected session is given up when libsrt says it broke, or when the
 * peer watch (stats.ts) finds data waiting unanswered for too long; never
 * merely because an idle session is quiet.
 */
import { TypedEmitter } from '../lib/events.js';
import { createLogger } from '../lib/logger.js';
import { SrtConnection, type SrtPeerInfo, toNativeOptions } from './connection.js';
import { OPERATOR_FIX_CODES, SrtConnectionLostError, type SrtError } from './errors.js';
import { type PeerWatch, type SrtStats, watchPeer } from './stats.js';
import { endpointTarget, parseSrtUrl, type SrtEndpoint } from './url.js';

const log = createLogger('srt.output');

export interface SrtOutputOptions {
  /** Statistics period in ms (10..1000, default 100). */
  statsIntervalMs?: number;
  sendQueuePackets?: number;
  /** First retry delay (default 200 ms). */
  retryInitialMs?: number;
  /** Longest retry delay for ordinary failures (default 1000 ms). */
  retryMaxMs?: number;
  /** Retry delay once the operator must fix something (default 30000 ms). */
  operatorRetryMs?: number;
}

export type SrtOutputState = 'idle' | 'connecting' | 'connected' | 'waiting' | 'closed';

export type SrtOutputEvents = {
  /** A connection attempt starts (1 = first since start or since the last success). */
  connecting: [attempt: number];
  /** Connected: force a keyframe and restart the stream (PAT/PMT first). */
  connected: [info: SrtPeerInfo];
  /** A connected stream broke; a reconnect follows. */
  disconnected: [error: SrtError];
  /** An attempt failed; `retryInMs` says when the next one starts. */
  failed: [error: SrtError, retryInMs: number];
  stats: [stats: SrtStats];
  closed: [];
};

export interface SrtOutputCounters {
  /** Successful connections since start. */
  connects: number;
  /** Attempts that failed since start. */
  failures: number;
  /** Messages dropped (not connected, or the native queue overflowed), since start. */
  droppedPackets: number;
  droppedBytes: number;
  /** Bytes handed to send() while connected, since start. */
  sentBytes: number;
}

export class SrtOutput extends TypedEmitter<SrtOutputEvents> {
  readonly endpoint: SrtEndpoint;
  readonly #options: SrtOutputOptions;
  #conn: SrtConnection | undefined;
  #state: SrtOutputState = 'idle';
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  #lastError: SrtError | undefined;
  #stats: SrtStats | undefined;
  #connDroppedBase = 0;
  #peer: PeerWatch | undefined;
  readonly #counters: SrtOutputCounters = { connects: 0, failures: 0, droppedPackets: 0, droppedBytes: 0, sentBytes: 0 };

  /** Validates the URL and options now (SrtUrlInvalidError, RangeError); connects on start(). */
  constructor(endpoint: SrtEndpoint | string, options: SrtOutputOptions = {}) {
    super();
    this.endpoint = typeof endpoint === 'string' ? parseSrtUrl(endpoint) : endpoint;
    if (this.endpoint.mode === 'listener') {
      log.info('output is a listener: it waits for the destination to call', { port: this.endpoint.port });
    }
    toNativeOptions(this.endpoint, { statsIntervalMs: options.statsIntervalMs, sendQueuePackets: options.sendQueuePackets });
    for (const k of ['retryInitialMs', 'retryMaxMs', 'operatorRetryMs'] as const) {
      const v = options[k];
      if (v !== undefined && (!Number.isFinite(v) || v < 10 || v > 600_000)) throw new RangeError(`${k} must be 10..600000 ms, not ${v}`);
    }
    this.#options = options;
  }

  get state(): SrtOutputState {
    return this.#state;
  }

  get connected(): boolean {
    return this.#state === 'connected';
  }

  /** The last failure or disconnection; cleared on connect. */
  get lastError(): SrtError | undefined {
    return this.#lastError;
  }

  /** True while the last failure is one only the operator can fix (passphrase, stream id). */
  get needsOperator(): boolean {
    return this.#lastError !== undefined && OPERATOR_FIX_CODES.has(this.#lastError.code);
  }

  /** The latest statistics sample, while connected. */
  get stats(): SrtStats | undefined {
    return this.#stats;
  }

  get counters(): Readonly<SrtOutputCounters> {
    return { ...this.#counters };
  }

  start(): this {
    if (this.#state === 'idle') this.#open();
    return this;
  }

  /** Never blocks; dropped and counted while not connected. */
  send(data: Uint8Array): void {
    if (this.#state !== 'connected' || !this.#conn) {
      this.#counters.droppedPackets += Math.ceil(data.length / this.endpoint.payloadSize);
      this.#counters.droppedBytes += data.length;
      return;
    }
    this.#counters.sentBytes += data.length;
    this.#conn.send(data);
  }

  /** Stops retrying, lets what is queued reach the destination (at most `timeoutMs`), then closes. */
  async end(timeoutMs = 1000): Promise<void> {
    if (this.#state === 'closed') return;
    clearTimeout(this.#timer);
    const conn = this.#conn;
    if (conn && this.#state === 'connected') {
      this.#state = 'waiting'; // no retry while draining
      await conn.end(timeoutMs);
    }
    this.close();
  }

  /** Idempotent: stops retrying and closes the connection. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#timer);
    this.#dropConnection();
    this.#stats = undefined;
    this.emit('closed');
  }

  #open(): void {
    this.#attempt += 1;
    this.#state = 'connecting';
    let conn: SrtConnection;
    try {
      conn = new SrtConnection(this.endpoint, {
        role: 'send',
        statsIntervalMs: this.#options.statsIntervalMs,
        sendQueuePackets: this.#options.sendQueuePackets,
      });
    } catch (err) {
      // Options were checked in the constructor; only a missing addon lands here.
      this.#state = 'closed';
      throw err;
    }
    this.#conn = conn;
    this.#connDroppedBase = 0;
    this.#peer = undefined;
    conn.on('connected', (info) => {
      if (this.#conn !== conn) return;
      this.#attempt = 0;
      this.#lastError = undefined;
      this.#state = 'connected';
      this.#counters.connects += 1;
      this.emit('connected', info);
    });
    conn.on('stats', (s) => {
      if (this.#conn !== conn) return;
      this.#stats = s;
      this.#syncDropped(s);
      this.emit('stats', s);
      this.#watchPeer(s);
    });
    conn.on('disconnected', (err) => {
      if (this.#conn !== conn) return;
      this.#lastError = err;
      this.#stats = undefined;
      this.emit('disconnected', err);
      if (this.endpoint.mode === 'listener') {
        // The native listener keeps listening and takes the next caller.
        this.#state = 'connecting';
        this.#attempt += 1;
        this.emit('connecting', this.#attempt);
      } else {
        this.#retry(err, false);
      }
    });
    conn.on('failed', (err) => {
      if (this.#conn !== conn) return;
      this.#lastError = err;
      this.#counters.failures += 1;
      this.#retry(err, true);
    });
    conn.on('closed', () => {
      // A listener-mode output whose native thread ended (bind failure) also retries.
      if (this.#conn === conn && this.#state !== 'closed' && this.#state !== 'waiting') {
        this.#retry(this.#lastError, false);
      }
    });
    this.emit('connecting', this.#attempt);
    log.debug('connecting', { to: endpointTarget(this.endpoint), attempt: this.#attempt });
    conn.start();
  }

  /** Drops a session whose peer has stopped answering the data it is sent, and calls again (see watchPeer). */
  #watchPeer(s: SrtStats): void {
    const v = watchPeer(this.#peer, s, performance.now(), this.endpoint.latencyMs ?? 120);
    this.#peer = v.watch;
    if (!v.lost || this.#state !== 'connected') return;
    const err = new SrtConnectionLostError(
      `no answer from ${endpointTarget(this.endpoint)} for ${(v.silentMs / 1000).toFixed(1)} s; calling again`,
      { silentMs: Math.round(v.silentMs), limitMs: Math.round(v.limitMs), unackedPackets: s.pktFlightSize },
    );
    this.#peer = undefined;
    this.#lastError = err;
    this.#stats = undefined;
    this.emit('disconnected', err);
    this.#retry(err, false);
  }

  #syncDropped(s: SrtStats): void {
    // The native socket's cumulative counter; add only what is new.
    const delta = s.queueDroppedPackets - this.#connDroppedBase;
    if (delta > 0) {
      this.#counters.droppedPackets += delta;
      this.#counters.droppedBytes += delta * this.endpoint.payloadSize;
      this.#connDroppedBase = s.queueDroppedPackets;
    }
  }

  #dropConnection(): void {
    const conn = this.#conn;
    this.#conn = undefined;
    conn?.close();
  }

  #retry(err: SrtError | undefined, failedAttempt: boolean): void {
    if (this.#state === 'closed' || this.#state === 'waiting') return;
    this.#dropConnection();
    this.#stats = undefined;
    this.#state = 'waiting';
    const delay = this.#delay(err);
    if (err && failedAttempt) {
      const fields = { to: endpointTarget(this.endpoint), code: err.code, retryInMs: delay };
      if (this.needsOperator) log.error(err.message, fields);
      else if (this.#attempt <= 1) log.warn(err.message, fields);
      else log.debug(err.message, fields);
      this.emit('failed', err, delay);
    } else if (err) {
      log.warn(err.message, { to: endpointTarget(this.endpoint), code: err.code });
    }
    this.#timer = setTimeout(() => {
      if (this.#state === 'waiting') this.#open();
    }, delay);
  }

  #delay(err: SrtError | undefined): number {
    if (err && OPERATOR_FIX_CODES.has(err.code)) return this.#options.operatorRetryMs ?? 30_000;
    const initial = this.#options.retryInitialMs ?? 200;
    const max = this.#options.retryMaxMs ?? 1000;
    const base = Math.min(max, initial * 2 ** Math.max(0, this.#attempt - 1));
    return Math.round(base * (0.8 + 0.4 * Math.random()));
  }
}
