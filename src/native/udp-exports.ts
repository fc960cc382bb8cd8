/**
 * What the addon's batched UDP socket (native/src/udp_batch.cc, in both
 * addons) exports, as binding.ts loads it; src/native/udp.ts wraps it.
 */
export interface NativeUdpOptions {
  family: 4 | 6;
  address?: string;
  port?: number;
  coalesceMs?: number;
  recvBufferBytes?: number;
  sendBufferBytes?: number;
  reuseAddr?: boolean;
  multicast?: string;
  /** Largest datagram kept (default 2048, an SRT packet with room); longer ones are dropped and counted. */
  maxDatagram?: number;
}

export interface NativeUdpStats {
  received: number;
  sent: number;
  staged: number;
  sendErrors: number;
  receiveErrors: number;
  truncated: number;
}

export interface NativeUdpBatchSocket {
  target(address: string, port: number): number;
  queue(buf: Uint8Array, target: number): boolean;
  /** Sends what is staged; returns how many datagrams still wait for the kernel's buffer. */
  flush(): number;
  localPort(): number | undefined;
  stats(): NativeUdpStats;
  close(): void;
}

/** Exports of native/src/udp_batch.cc (in both addons). */
export interface UdpExports {
  UdpBatchSocket: new (
    options: NativeUdpOptions,
    /** The datagrams back to back, their lengths, and [index, address, port] for each datagram whose source differs from the one before. */
    onBatch: (data: Buffer, lengths: Uint32Array, sources: (number | string)[]) => void,
  ) => NativeUdpBatchSocket;
}
