/**
 * Finds transport packets in a byte stream cut at any boundary, with the
 * hysteresis of ETSI TR 101 290 §5.2.1 check 1.1: sync is lost after 2
 * corrupted sync bytes in a row and regained after 5 good ones.
 */
import { TS_PACKET_SIZE, TS_SYNC_BYTE } from './constants.js';

const SYNC_LOST_AFTER = 2;
const SYNC_FOUND_AFTER = 5;

export class PacketSync {
  private rest: Buffer = Buffer.alloc(0);
  private synced = false;
  private badSyncRun = 0;

  constructor(
    /** A packet at `buf[off..off+188)`; valid during the call only. */
    private readonly onPacket: (buf: Buffer, off: number) => void,
    private readonly onBadSyncByte: () => void,
    private readonly onSyncLoss: () => void,
  ) {}

  /** Feeds bytes; they are not kept past the call (a partial packet is copied). */
  push(data: Buffer): void {
    const chunk = this.rest.length > 0 ? Buffer.concat([this.rest, data]) : data;
    let i = 0;
    for (;;) {
      if (!this.synced) {
        const s = findSync(chunk, i);
        if (s < 0) {
          i = Math.max(i, chunk.length - (SYNC_FOUND_AFTER - 1) * TS_PACKET_SIZE - 1);
          break;
        }
        i = s;
        this.synced = true;
        this.badSyncRun = 0;
      }
      if (i + TS_PACKET_SIZE > chunk.length) break;
      if (chunk[i] !== TS_SYNC_BYTE) {
        this.onBadSyncByte();
        if (++this.badSyncRun >= SYNC_LOST_AFTER) {
          this.onSyncLoss();
          this.synced = false;
          i++;
        } else i += TS_PACKET_SIZE;
        continue;
      }
      this.badSyncRun = 0;
      this.onPacket(chunk, i);
      i += TS_PACKET_SIZE;
    }
    this.rest = Buffer.from(chunk.subarray(Math.max(0, i)));
  }
}

/** First offset from `from` where SYNC_FOUND_AFTER sync bytes follow at packet spacing, or -1. */
function findSync(b: Buffer, from: number): number {
  const span = (SYNC_FOUND_AFTER - 1) * TS_PACKET_SIZE;
  for (let i = b.indexOf(TS_SYNC_BYTE, from); i >= 0 && i + span < b.length; i = b.indexOf(TS_SYNC_BYTE, i + 1)) {
    let ok = true;
    for (let k = 1; k < SYNC_FOUND_AFTER && ok; k++) ok = b[i + k * TS_PACKET_SIZE] === TS_SYNC_BYTE;
    if (ok) return i;
  }
  return -1;
}
