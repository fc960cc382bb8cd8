/**
 * TS passthrough: an existing encoder's MPEG-TS rides Fieldcast's transport
 * unchanged (Fieldcast as a bonding gateway). Inputs: `udp://host:port`
 * (multicast groups are joined), a TS file (paced in real time by its PCR,
 * optionally looped), or `-` for standard input (already real time). SRT
 * inputs are opened by the pipeline with the SRT receiver.
 */
import { createReadStream } from 'node:fs';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { PCR_HZ, pcrDiff } from '../lib/clock.js';
import { FieldcastError } from '../lib/errors.js';
import { TypedEmitter } from '../lib/events.js';
import { parseHostPort } from '../lib/hostport.js';
import { createLogger } from '../lib/logger.js';
import { type BatchUdp, openBatchUdp } from '../native/udp.js';
import { CHUNK_BYTES, packetPcr, packetPid, TS_PACKET, TsChunker } from './ts-chunker.js';

const log = createLogger('passthrough');

export class InputError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('INPUT_UNAVAILABLE', message, details);
  }
}

export type PassthroughEvents = {
  chunk: [Buffer];
  end: [];
  error: [FieldcastError];
};

export interface PassthroughStats {
  chunks: number;
  bytes: number;
  syncLosses: number;
}

/** Longest a PCR-paced file reader waits for one chunk; a larger PCR jump is a discontinuity, not a pause. */
const MAX_PACE_GAP_MS = 500;

/**
 * A UDP input is read a window at a time (src/native/udp.ts): one wake-up of
 * this process per window instead of one per datagram, and what a window
 * brings goes down the TS pipe in one write.
 */
export const UDP_INPUT_WINDOW_MS = 5;
/** Largest UDP datagram taken (43 TS packets); larger ones are counted and dropped. */
const UDP_MAX_DATAGRAM = 8192;

/** True when the input arrives in windows by itself (the pipe to the stream unit need not gather it again). */
export function inputReadsInWindows(input: string): boolean {
  return input.startsWith('udp://');
}

export class TsPassthroughSource extends TypedEmitter<PassthroughEvents> {
  private readonly chunker: TsChunker;
  private chunks = 0;
  private bytes = 0;
  private closed = false;
  private truncationCheck: NodeJS.Timeout | undefined;
  private socket: BatchUdp | undefined;
  private stream: Readable | undefined;
  private paceTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly input: string,
    private readonly loop = false,
  ) {
    super();
    this.chunker = new TsChunker((c) => {
      this.chunks++;
      this.bytes += c.length;
      this.emit('chunk', c);
    });
  }

  /** A live input (UDP, standard input) runs in real time by itself; a file is played out by this source. */
  get isLive(): boolean {
    return this.input === '-' || /^[a-z]+:\/\//.test(this.input);
  }

  stats(): PassthroughStats {
    return { chunks: this.chunks, bytes: this.bytes, syncLosses: this.chunker.syncLosses };
  }

  async start(): Promise<void> {
    if (this.input.startsWith('udp://')) return this.startUdp(this.input.slice('udp://'.length).replace(/\/.*$/, ''));
    if (this.input === '-') return this.startStream(process.stdin);
    if (/^[a-z]+:\/\//.test(this.input)) throw new InputError(`input "${this.input}" is not udp://host:port, srt://…, a .ts file or -`);
    return this.startFile();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.paceTimer);
    clearInterval(this.truncationCheck);
    void this.socket?.close();
    if (this.stream && this.stream !== process.stdin) this.stream.destroy();
  }

  private async startUdp(addr: string): Promise<void> {
    const { host, port } = parseHostPort(addr, 'UDP input');
    const v6 = isIP(host) === 6;
    const multicast =
      isIP(host) === 4 ? Number(host.split('.')[0]) >= 224 && Number(host.split('.')[0]) <= 239 : host.toLowerCase().startsWith('ff');
    try {
      this.socket = await openBatchUdp(
        {
          family: v6 ? 6 : 4,
          address: multicast ? undefined : host,
          port,
          reuseAddr: true,
          multicast: multicast ? host : undefined,
          coalesceMs: UDP_INPUT_WINDOW_MS,
          recvBufferBytes: 4 << 20,
          maxDatagram: UDP_MAX_DATAGRAM,
        },
        (msg) => {
          if (msg.length % TS_PACKET !== 0 || msg[0] !== 0x47) log.debug('datagram not whole TS packets; resyncing', { bytes: msg.length });
          this.chunker.push(msg);
        },
        (e) => this.emit('error', new InputError(`UDP input failed: ${e instanceof Error ? e.message : String(e)}`)),
      );
    } catch (e) {
      throw new InputError(`cannot listen for TS on udp://${addr}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (this.closed) {
      void this.socket.close();
      return;
    }
    // Oversized datagrams are looked for once a second, not per datagram (the count is a native call).
    const socket = this.socket;
    this.truncationCheck = setInterval(() => {
      if (socket.stats().truncated === 0) return;
      log.warn(`UDP input: datagrams larger than ${UDP_MAX_DATAGRAM} bytes are dropped (send at most 43 TS packets per datagram)`);
      clearInterval(this.truncationCheck);
    }, 1000).unref();
    log.info('listening for TS', { input: `udp://${addr}` });
  }

  private startStream(stream: Readable): Promise<void> {
    this.stream = stream;
    stream.on('data', (d: Buffer) => this.chunker.push(d));
    stream.on('end', () => {
      this.chunker.flush();
      this.emit('end');
    });
    stream.on('error', (e) => this.emit('error', new InputError(`input stream failed: ${e.message}`)));
    return Promise.resolve();
  }

  /**
   * A file is played in real time: each chunk leaves when the PCR it carries
   * (or the last one before it) is due on the wall clock. Reading pauses
   * while the chunks wait, so memory stays bounded.
   */
  private startFile(): Promise<void> {
    return new Promise((resolve, reject) => {
      const stream = createReadStream(this.input, { highWaterMark: CHUNK_BYTES * 64 });
      this.stream = stream;
      const queue: Buffer[] = [];
      const pacer = new TsChunker((c) => queue.push(c));
      let pcrPid: number | undefined;
      let firstPcr: number | undefined;
      let lastPcr: number | undefined;
      let offsetMs = 0;
      let startedAt = 0;
      let ended = false;
      const pump = (): void => {
        this.paceTimer = undefined;
        while (queue.length > 0 && !this.closed) {
          const c = queue[0]!;
          let dueMs: number | undefined;
          for (let off = 0; off + TS_PACKET <= c.length; off += TS_PACKET) {
            const pcr = packetPcr(c, off);
            if (pcr === undefined) continue;
            const pid = packetPid(c, off);
            pcrPid ??= pid;
            if (pid !== pcrPid) continue;
            if (firstPcr === undefined) {
              firstPcr = pcr;
              if (startedAt === 0) startedAt = performance.now();
            }
            // A PCR jump (discontinuity, or the loop's restart) re-anchors the timeline.
            if (lastPcr !== undefined && Math.abs(pcrDiff(pcr, lastPcr)) / (PCR_HZ / 1000) > MAX_PACE_GAP_MS) {
              offsetMs += pcrDiff(lastPcr, firstPcr) / (PCR_HZ / 1000);
              firstPcr = pcr;
            }
            lastPcr = pcr;
            dueMs = offsetMs + pcrDiff(pcr, firstPcr) / (PCR_HZ / 1000);
            break;
          }
          if (dueMs !== undefined) {
            const wait = startedAt + dueMs - performance.now();
            if (wait > 1) {
              this.paceTimer = setTimeout(pump, Math.min(wait, MAX_PACE_GAP_MS));
              return;
            }
          }
          queue.shift();
          this.chunks++;
          this.bytes += c.length;
          this.emit('chunk', c);
        }
        if (queue.length === 0 && ended && !this.closed) {
          if (this.loop) {
            // Restart at the top: the PCR jump back is handled as a discontinuity above.
            if (lastPcr !== undefined && firstPcr !== undefined) {
              offsetMs += pcrDiff(lastPcr, firstPcr) / (PCR_HZ / 1000) + 40;
              firstPcr = undefined;
              lastPcr = undefined;
            }
            ended = false;
            this.stream = createReadStream(this.input, { highWaterMark: CHUNK_BYTES * 64 });
            wire(this.stream);
          } else {
            this.emit('end');
          }
        } else if (this.stream?.isPaused() && queue.length < 64) {
          this.stream.resume();
        }
      };
      const wire = (s: Readable): void => {
        s.on('data', (d: Buffer) => {
          pacer.push(d);
          if (queue.length > 256) s.pause();
          if (!this.paceTimer) pump();
        });
        s.on('end', () => {
          pacer.flush();
          ended = true;
          if (!this.paceTimer) pump();
        });
      };
      stream.once('open', () => resolve());
      stream.once('error', (e) => reject(new InputError(`cannot read the TS file ${this.input}: ${e.message}`)));
      wire(stream);
    });
  }
}
