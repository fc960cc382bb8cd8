/**
 * Packets the bonding sender holds while every uplink is full.
 *
 * When the stream offered to the bond exceeds what the links left can carry
 * — a modem has just gone dark, SRT repairs what was in flight on it, and the
 * encoder has not yet followed its bit rate down — sending anyway overflows
 * the modems' own queues, which drop from their tail: new packets and
 * repairs alike, so SRT must repair its repairs and some arrive too late.
 * Holding the excess here for a few hundred ms (well inside SRT's latency)
 * and releasing it as the links drain turns that loss into delay, which SRT
 * absorbs and the bit rate controller sees as congestion.
 *
 * Repairs (SRT retransmissions) leave before new data: they are older and
 * closer to their deadline. Each queue keeps arrival order. The hold has a
 * time limit (the sender's HOLD_MAX_MS): a packet that has waited that long
 * leaves first whichever queue it is in, so a repair held later cannot keep
 * older data waiting past the limit.
 */

export interface HeldPacket {
  msg: Buffer;
  seq: number;
  retransmission: boolean;
  /** When it was held (the sender's clock, ms). */
  at: number;
}

/** A FIFO over an array with a moving head: O(1) push and shift without Array#shift's copying. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(x: T): void {
    this.items.push(x);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    const x = this.items[this.head];
    if (x === undefined) return undefined;
    this.items[this.head] = undefined as T;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

export class HoldQueue {
  private readonly repairs = new Fifo<HeldPacket>();
  private readonly data = new Fifo<HeldPacket>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get length(): number {
    return this.repairs.length + this.data.length;
  }

  get heldBytes(): number {
    return this.bytes;
  }

  /** Holds a packet; false (and nothing held) when the queue is at its byte limit. */
  push(p: HeldPacket): boolean {
    if (this.bytes + p.msg.length > this.maxBytes) return false;
    this.bytes += p.msg.length;
    (p.retransmission ? this.repairs : this.data).push(p);
    return true;
  }

  /**
   * The next packet to leave: the oldest repair, else the oldest new packet.
   * With `overdueAt` (packets held at or before it have waited their limit),
   * an overdue packet comes before one that is not, repairs first among them.
   */
  peek(overdueAt?: number): HeldPacket | undefined {
    return this.next(overdueAt).peek();
  }

  /** Removes and returns what `peek(overdueAt)` returns. */
  shift(overdueAt?: number): HeldPacket | undefined {
    const p = this.next(overdueAt).shift();
    if (p) this.bytes -= p.msg.length;
    return p;
  }

  private next(overdueAt: number | undefined): Fifo<HeldPacket> {
    const repair = this.repairs.peek();
    if (overdueAt !== undefined && !(repair && repair.at <= overdueAt)) {
      const data = this.data.peek();
      if (data && data.at <= overdueAt) return this.data;
    }
    return repair ? this.repairs : this.data;
  }

  /** Whether new data must queue behind what is held (order is kept among new packets). */
  get holdingData(): boolean {
    return this.data.length > 0;
  }

  /** Whether a repair must queue behind held repairs. */
  get holdingRepairs(): boolean {
    return this.repairs.length > 0;
  }

  clear(): void {
    this.repairs.clear();
    this.data.clear();
    this.bytes = 0;
  }
}
