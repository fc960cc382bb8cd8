/**
 * One timer for a whole emulator: pending deliveries in a binary min-heap
 * keyed by delivery time (ties in arrival order), and a single setTimeout
 * armed for the earliest. A setTimeout per packet costs a timer object and a
 * libuv insertion each; at thousands of packets a second one heap and one
 * timer keep the emulator well under a few percent of a core. Node timers
 * have 1 ms resolution, so deliveries land within about 1 ms of their time.
 */

export interface Deliverable {
  deliver(data: Buffer, now: number): void;
}

interface Entry {
  at: number;
  seq: number;
  target: Deliverable;
  data: Buffer;
}

export class TimerHeap {
  private heap: Entry[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Number.POSITIVE_INFINITY;
  private closed = false;

  constructor(private readonly now: () => number) {}

  get size(): number {
    return this.heap.length;
  }

  push(at: number, target: Deliverable, data: Buffer): void {
    if (this.closed) return;
    const e: Entry = { at, seq: this.seq++, target, data };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
    if (at < this.armedFor) this.arm();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.heap = [];
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const first = this.heap[0];
    if (!first || this.closed) {
      this.armedFor = Number.POSITIVE_INFINITY;
      return;
    }
    this.armedFor = first.at;
    const wait = Math.max(0, first.at - this.now());
    this.timer = setTimeout(() => this.fire(), Math.floor(wait));
  }

  private fire(): void {
    this.timer = undefined;
    // Half a millisecond early is closer to the true time than a whole one late.
    const limit = this.now() + 0.5;
    const h = this.heap;
    while (h.length > 0 && h[0]!.at <= limit && !this.closed) {
      const e = this.pop();
      e.target.deliver(e.data, e.at);
    }
    this.arm();
  }

  private pop(): Entry {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function less(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
