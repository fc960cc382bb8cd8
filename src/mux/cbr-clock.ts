/**
 * The byte clock of a constant-rate TS: the 27 MHz time of each packet is its
 * byte position divided by the mux rate, kept exactly with an integer
 * remainder so it never drifts, however long the stream runs.
 */
import { PCR_HZ } from '../lib/clock.js';
import { TS_PACKET_SIZE } from './constants.js';
import { PCR_BYTE_IN_PACKET } from './packet.js';

const PACKET_TICKS_NUMERATOR = TS_PACKET_SIZE * 8 * PCR_HZ;
const PCR_OFFSET_NUMERATOR = PCR_BYTE_IN_PACKET * 8 * PCR_HZ;

export class ByteClock {
  private ticks = 0;
  private remainder = 0;
  private readonly whole: number;
  private readonly part: number;
  /** 27 MHz ticks one packet lasts, rounded up. */
  readonly packetTicks: number;

  constructor(readonly bitsPerSecond: number) {
    this.whole = Math.floor(PACKET_TICKS_NUMERATOR / bitsPerSecond);
    this.part = PACKET_TICKS_NUMERATOR % bitsPerSecond;
    this.packetTicks = Math.ceil(PACKET_TICKS_NUMERATOR / bitsPerSecond);
  }

  reset(ticks: number): void {
    this.ticks = Math.round(ticks);
    this.remainder = 0;
  }

  /** 27 MHz time at which the next packet starts. */
  get packetStart(): number {
    return this.ticks;
  }

  /** The PCR a PCR field in the next packet must carry (the arrival of its byte 11, §2.4.2.2). */
  pcrOfNextPacket(): number {
    return this.ticks + Math.floor((this.remainder + PCR_OFFSET_NUMERATOR) / this.bitsPerSecond);
  }

  /** One packet was sent. */
  tick(): void {
    this.ticks += this.whole;
    this.remainder += this.part;
    if (this.remainder >= this.bitsPerSecond) {
      this.ticks++;
      this.remainder -= this.bitsPerSecond;
    }
  }
}
