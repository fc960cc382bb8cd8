/**
 * The muxer's output: one preallocated 1316-byte chunk that packets are
 * written into in place, per-PID continuity counters (§2.4.3.3) and counts.
 * Nothing here allocates per packet.
 */
import { CHUNK_SIZE, PID, TS_PACKET_SIZE } from './constants.js';
import { writeNullPacket } from './packet.js';

const PID_COUNT = 0x2000;

export interface MuxStats {
  packets: number;
  bytes: number;
  chunks: number;
  /** Packets per PID (decimal PID as the key). */
  perPid: Record<string, number>;
  nullPackets: number;
  pcrs: number;
  psiRepeats: number;
  /** Access units that left the muxer after their DTS (CBR rate too low, or streams further apart than the delay). */
  lateUnits: number;
  discontinuities: number;
}

export class TsOutput {
  /** The chunk being filled; handed to onChunk when 7 packets are in it, then reused. */
  private readonly chunk = Buffer.alloc(CHUNK_SIZE);
  private offset = 0;
  /** Last continuity counter sent per PID; 15 so that the first payload packet carries 0. */
  private readonly cc = new Uint8Array(PID_COUNT).fill(15);
  private readonly perPid = new Uint32Array(PID_COUNT);
  packets = 0;
  chunks = 0;

  constructor(private readonly onChunk: (chunk: Buffer) => void) {}

  /** The buffer and offset where the next packet must be written. */
  get buffer(): Buffer {
    return this.chunk;
  }
  get at(): number {
    return this.offset;
  }

  /** Continuity counter for the next packet on `pid`: advanced only when the packet has a payload. */
  nextCc(pid: number, hasPayload: boolean): number {
    if (!hasPayload) return this.cc[pid]!;
    const c = (this.cc[pid]! + 1) & 0x0f;
    this.cc[pid] = c;
    return c;
  }

  /** The packet at `at` is complete. */
  commit(pid: number): void {
    this.perPid[pid]!++;
    this.packets++;
    this.offset += TS_PACKET_SIZE;
    if (this.offset === CHUNK_SIZE) {
      this.offset = 0;
      this.chunks++;
      this.onChunk(this.chunk);
    }
  }

  writeNull(): void {
    writeNullPacket(this.chunk, this.offset);
    this.commit(PID.NULL);
  }

  /** Packets needed to complete the current chunk. */
  get packetsToChunkEnd(): number {
    return this.offset === 0 ? 0 : (CHUNK_SIZE - this.offset) / TS_PACKET_SIZE;
  }

  countFor(pid: number): number {
    return this.perPid[pid]!;
  }

  perPidRecord(): Record<string, number> {
    const r: Record<string, number> = {};
    for (let pid = 0; pid < PID_COUNT; pid++) if (this.perPid[pid]! > 0) r[String(pid)] = this.perPid[pid]!;
    return r;
  }
}
