/**
 * Marking the booted root slot good (RAUC's GRUB A/B, image/grub/grub.cfg):
 * GRUB counts a try each time it boots a slot, and a slot whose try is not
 * cleared by `rauc status mark-good` is passed over at the next boot. The
 * supervisor feeds this its state each second; once fieldcast run has been
 * healthy — streaming, or ready to stream — for update.markGoodAfterS
 * without a break, the slot is marked, once per boot. A slot that never gets
 * there is left unmarked, and image/rootfs/usr/local/sbin/fieldcast-boot-health
 * reboots into the other slot after some minutes.
 *
 * Healthy: the operator states live, degraded, no-signal (the box works; the
 * camera is unplugged) and idle (no destination, or stopped by the operator).
 * Not: starting and error, whatever their cause — a box that cannot reach
 * its destination through that whole window is not marked either; it stays
 * on the new slot when the other is not good, and returns to the old one
 * (which streamed) when it is.
 */
import type { OperatorState } from '../supervisor/snapshot.js';

/** After a failed `rauc status mark-good`, the next attempt waits this long. */
export const MARK_GOOD_RETRY_MS = 30_000;

const HEALTHY: ReadonlySet<OperatorState> = new Set<OperatorState>(['live', 'degraded', 'no-signal', 'idle']);

export function isHealthyState(state: OperatorState): boolean {
  return HEALTHY.has(state);
}

export type SlotMarkEvent =
  | { kind: 'marked'; slot: string; healthyForMs: number }
  | { kind: 'failed'; slot: string; message: string; retryInMs: number };

export interface SlotMarkerOptions {
  /** The booted slot's bootname (rauc.slot=), undefined when not booted by the A/B boot loader: then nothing is ever marked. */
  slot: string | undefined;
  /** How long healthy before the mark, read at each observation (the config may change). */
  healthyForMs: () => number;
  markGood: () => Promise<void>;
  /** Milliseconds of a monotonic clock. */
  now: () => number;
  onEvent: (e: SlotMarkEvent) => void;
}

export type SlotMarkerState = 'not-ab' | 'waiting' | 'marking' | 'marked';

export class SlotMarker {
  #state: SlotMarkerState;
  #healthySince: number | undefined;
  #retryAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly o: SlotMarkerOptions) {
    this.#state = o.slot === undefined ? 'not-ab' : 'waiting';
  }

  get state(): SlotMarkerState {
    return this.#state;
  }

  /** Called each second with the supervisor's operator state. */
  observe(state: OperatorState): void {
    if (this.#state !== 'waiting') return;
    const now = this.o.now();
    if (!isHealthyState(state)) {
      this.#healthySince = undefined;
      return;
    }
    this.#healthySince ??= now;
    const healthyFor = now - this.#healthySince;
    if (healthyFor < this.o.healthyForMs() || now < this.#retryAt) return;
    this.#state = 'marking';
    const slot = this.o.slot ?? '';
    this.o.markGood().then(
      () => {
        this.#state = 'marked';
        this.o.onEvent({ kind: 'marked', slot, healthyForMs: healthyFor });
      },
      (err: unknown) => {
        this.#state = 'waiting';
        this.#retryAt = this.o.now() + MARK_GOOD_RETRY_MS;
        this.o.onEvent({ kind: 'failed', slot, message: (err as Error).message, retryInMs: MARK_GOOD_RETRY_MS });
      },
    );
  }
}
