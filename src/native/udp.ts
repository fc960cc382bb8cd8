/**
 * UDP sockets for the bonded path's hot sockets, read and written in batches.
 *
 * node:dgram wakes JavaScript once per datagram and makes a syscall per send:
 * for a paced SRT stream, ~1000 wake-ups a second at 10 Mbit/s on each socket
 * it crosses. The addon's UdpBatchSocket (native/src/udp_batch.cc, in both
 * addons) reads everything pending with recvmmsg and hands it over in one
 * call, optionally a window at a time (`coalesceMs`), and sends what a turn of
 * the event loop queued with one sendmmsg. Without the addon (a bare cloud VM
 * running only the receiver, or `native: false`) the same interface runs on
 * node:dgram, datagram by datagram.
 *
 *   const s = await openBatchUdp({ family: 4, address: '127.0.0.1', coalesceMs: 4 }, (msg, from) => …);
 *   const t = s.target('10.0.0.1', 5000);
 *   s.send(buf, t);            // staged; all of this turn's sends leave together
 *   await s.close();
 */
import dgram from 'node:dgram';
import { FieldcastError } from '../lib/errors.js';
import { loadUdpNative } from './binding.js';
import type { NativeUdpBatchSocket, NativeUdpOptions, UdpExports } from './udp-exports.js';

export type { NativeUdpOptions, NativeUdpStats, UdpExports } from './udp-exports.js';

const DEFAULT_MAX_DATAGRAM = 2048;

export interface UdpPeer {
  readonly address: string;
  readonly port: number;
}

/** A destination of one socket (made once, used for every datagram to it). */
export interface UdpTarget extends UdpPeer {
  readonly id: number;
}

export interface BatchUdpOptions extends NativeUdpOptions {
  /** Use the addon when it loads (default true); false runs on node:dgram. */
  native?: boolean;
}

export interface BatchUdpStats {
  sendErrors: number;
  receiveErrors: number;
  /** Datagrams larger than maxDatagram, dropped on arrival. */
  truncated: number;
}

export interface BatchUdp {
  /** True when reads and writes are batched by the addon. */
  readonly batched: boolean;
  readonly port: number;
  target(address: string, port: number): UdpTarget;
  /** Sends `buf` to `to`; with the addon it is copied and leaves with the rest of this turn's sends. */
  send(buf: Uint8Array, to: UdpTarget): void;
  stats(): BatchUdpStats;
  close(): Promise<void>;
}

export class UdpSocketError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown>, cause?: unknown) {
    super('UDP_SOCKET', message, details, { cause });
  }
}

type OnPacket = (msg: Buffer, from: UdpPeer) => void;
/** A packet handler threw: the socket goes on with the next datagram. */
type OnError = (err: unknown) => void;

/** Sockets with staged datagrams, flushed once at the end of the current turn. */
const dirty = new Set<NativeBatch>();
let flushQueued = false;
function flushSoon(s: NativeBatch): void {
  dirty.add(s);
  if (flushQueued) return;
  flushQueued = true;
  queueMicrotask(() => {
    flushQueued = false;
    for (const d of dirty) d.flushNow();
    dirty.clear();
  });
}

class NativeBatch implements BatchUdp {
  readonly batched = true;
  readonly port: number;
  private peer: UdpPeer = { address: '', port: 0 };
  private readonly targets = new Map<string, UdpTarget>();
  private closed = false;

  constructor(
    private readonly sock: NativeUdpBatchSocket,
    onPacket: OnPacket,
    onError: OnError,
  ) {
    this.port = sock.localPort() ?? 0;
    this.deliver = (data, lengths, sources) => {
      let next = sources.length > 0 ? (sources[0] as number) : -1;
      let s = 0;
      let off = 0;
      for (let i = 0; i < lengths.length; i++) {
        if (i === next) {
          this.peer = { address: sources[s + 1] as string, port: sources[s + 2] as number };
          s += 3;
          next = s < sources.length ? (sources[s] as number) : -1;
        }
        const len = lengths[i]!;
        const msg = data.subarray(off, off + len);
        off += len;
        try {
          onPacket(msg, this.peer);
        } catch (err) {
          onError(err);
        }
      }
    };
  }

  readonly deliver: (data: Buffer, lengths: Uint32Array, sources: (number | string)[]) => void;

  target(address: string, port: number): UdpTarget {
    const key = `${address}|${port}`;
    let t = this.targets.get(key);
    if (!t) {
      try {
        t = { id: this.sock.target(address, port), address, port };
      } catch (err) {
        throw new UdpSocketError(`cannot send to ${address} port ${port}: ${(err as Error).message}`, { address, port }, err);
      }
      this.targets.set(key, t);
    }
    return t;
  }

  send(buf: Uint8Array, to: UdpTarget): void {
    if (this.closed) return;
    this.sock.queue(buf, to.id);
    flushSoon(this);
  }

  flushNow(): void {
    if (!this.closed) this.sock.flush();
  }

  stats(): BatchUdpStats {
    const s = this.sock.stats();
    return { sendErrors: s.sendErrors, receiveErrors: s.receiveErrors, truncated: s.truncated };
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      dirty.delete(this);
      this.sock.close();
    }
    return Promise.resolve();
  }
}

class DgramBatch implements BatchUdp {
  readonly batched = false;
  private sendErrors = 0;
  /** Datagrams over maxDatagram, dropped as the addon drops them. */
  truncated = 0;
  private closed = false;
  private idSeq = 0;

  constructor(private readonly sock: dgram.Socket) {}

  get port(): number {
    return this.sock.address().port;
  }

  target(address: string, port: number): UdpTarget {
    return { id: this.idSeq++, address, port };
  }

  send(buf: Uint8Array, to: UdpTarget): void {
    if (this.closed) return;
    this.sock.send(buf, to.port, to.address, (err) => {
      if (err) this.sendErrors++;
    });
  }

  stats(): BatchUdpStats {
    return { sendErrors: this.sendErrors, receiveErrors: 0, truncated: this.truncated };
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((r) => this.sock.close(() => r()));
  }
}

/** The addon's socket class, or undefined when no addon loads here. */
function nativeClass(): UdpExports['UdpBatchSocket'] | undefined {
  try {
    return loadUdpNative().UdpBatchSocket;
  } catch {
    return undefined;
  }
}

/** Opens and binds a socket; rejects with UdpSocketError (the address in use, not on this box, …). */
export async function openBatchUdp(o: BatchUdpOptions, onPacket: OnPacket, onError: OnError): Promise<BatchUdp> {
  const where = `${o.address ?? '*'} port ${o.port ?? 0}`;
  const Native = o.native === false ? undefined : nativeClass();
  if (Native) {
    let batch: NativeBatch | undefined;
    let sock: NativeUdpBatchSocket;
    try {
      sock = new Native(o, (data, lengths, sources) => batch?.deliver(data, lengths, sources));
    } catch (err) {
      throw new UdpSocketError(`cannot open UDP ${where}: ${(err as Error).message}`, { address: o.address, port: o.port }, err);
    }
    batch = new NativeBatch(sock, onPacket, onError);
    return batch;
  }
  const sock = dgram.createSocket({
    type: o.family === 6 ? 'udp6' : 'udp4',
    reuseAddr: o.reuseAddr,
    ipv6Only: false,
    recvBufferSize: o.recvBufferBytes,
    sendBufferSize: o.sendBufferBytes,
  });
  const batch = new DgramBatch(sock);
  const max = o.maxDatagram ?? DEFAULT_MAX_DATAGRAM;
  sock.on('message', (msg, rinfo) => {
    if (msg.length > max) {
      batch.truncated++;
      return;
    }
    try {
      onPacket(msg, rinfo);
    } catch (err) {
      onError(err);
    }
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ address: o.address, port: o.port ?? 0, exclusive: true }, () => {
      sock.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    sock.close();
    throw new UdpSocketError(`cannot open UDP ${where}: ${(err as Error).message}`, { address: o.address, port: o.port }, err);
  });
  if (o.multicast) sock.addMembership(o.multicast);
  sock.on('error', onError);
  return batch;
}
