/** Recording buses, pins and clock for the display driver tests: every byte and every wait, in order. */
import type { DisplayClock, I2cBus, OutputPin, SpiBus, SpiBusOptions } from '../../../src/panel/drivers/index.js';
import type { DisplayState } from '../../../src/panel/frame.js';

export type Event =
  | { op: 'block'; address: number; control: number; bytes: number[] }
  | { op: 'byte'; address: number; byte: number }
  | { op: 'spi'; dc: 0 | 1 | undefined; bytes: number[] }
  | { op: 'pin'; name: string; value: 0 | 1 }
  | { op: 'wait'; ms: number }
  | { op: 'open'; what: string }
  | { op: 'close'; what: string };

/** An errno-style failure as i2c-dev gives it when nothing acknowledges. */
export function nack(code = 'EREMOTEIO'): Error {
  return Object.assign(new Error(`${code}, Remote I/O error`), { code });
}

/** The device side of the recorders: fail on demand, or hold each write until released. */
export class Wire {
  readonly log: Event[] = [];
  failing: Error | undefined;
  /** When set, every transfer waits for this promise (a slow bus). */
  gate: Promise<void> | undefined;
  private releaseGate: (() => void) | undefined;

  hold(): void {
    this.gate = new Promise((resolve) => {
      this.releaseGate = resolve;
    });
  }

  release(): void {
    this.gate = undefined;
    this.releaseGate?.();
  }

  async transfer(event: Event): Promise<void> {
    if (this.gate) await this.gate;
    if (this.failing) throw this.failing;
    this.log.push(event);
  }

  /** Forgets what was recorded so far. */
  clear(): void {
    this.log.length = 0;
  }

  of<K extends Event['op']>(op: K): Extract<Event, { op: K }>[] {
    return this.log.filter((e): e is Extract<Event, { op: K }> => e.op === op);
  }
}

export function recordingI2c(wire: Wire): (bus: number) => Promise<I2cBus> {
  return async (bus) => {
    if (wire.failing) throw wire.failing;
    wire.log.push({ op: 'open', what: `i2c-${bus}` });
    return {
      writeI2cBlock: async (address, control, length, buffer) => {
        await wire.transfer({ op: 'block', address, control, bytes: [...buffer.subarray(0, length)] });
        return { bytesWritten: length, buffer };
      },
      sendByte: (address, byte) => wire.transfer({ op: 'byte', address, byte }),
      close: async () => {
        wire.log.push({ op: 'close', what: `i2c-${bus}` });
      },
    };
  };
}

/** SPI and GPIO recorders sharing one log, so a transfer records the D/CX level it was sent with. */
export function recordingSpi(wire: Wire, dcName = 'pinctrl-bcm2711:25') {
  const levels = new Map<string, 0 | 1>();
  const openSpi = async (bus: number, device: number, _options: SpiBusOptions): Promise<SpiBus> => {
    if (wire.failing) throw wire.failing;
    wire.log.push({ op: 'open', what: `spidev${bus}.${device}` });
    return {
      transfer: (data) => wire.transfer({ op: 'spi', dc: levels.get(dcName), bytes: [...data] }),
      close: async () => {
        wire.log.push({ op: 'close', what: `spidev${bus}.${device}` });
      },
    };
  };
  const openPin = async (line: { chip: string; line: number }, initial: 0 | 1): Promise<OutputPin> => {
    const name = `${line.chip}:${line.line}`;
    wire.log.push({ op: 'open', what: name });
    wire.log.push({ op: 'pin', name, value: initial });
    levels.set(name, initial);
    return {
      write: async (value) => {
        await wire.transfer({ op: 'pin', name, value });
        levels.set(name, value);
      },
      close: async () => {
        wire.log.push({ op: 'close', what: name });
      },
    };
  };
  return { openSpi, openPin };
}

/** Controller waits are recorded and pass at once; each retry waits until the test fires it. */
export class FakeClock implements DisplayClock {
  readonly retries: number[] = [];
  private pendingRetry: (() => void) | undefined;

  constructor(private readonly wire: Wire) {}

  async wait(ms: number): Promise<void> {
    this.wire.log.push({ op: 'wait', ms });
  }

  retryAfter(ms: number, signal: AbortSignal): Promise<void> {
    this.retries.push(ms);
    return new Promise((resolve) => {
      this.pendingRetry = resolve;
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  get retryPending(): boolean {
    return this.pendingRetry !== undefined;
  }

  /** Ends the pending retry pause (as if its time had passed). */
  fireRetry(): void {
    const fire = this.pendingRetry;
    this.pendingRetry = undefined;
    fire?.();
  }
}

/** Lets the background loop run until nothing more happens (the fake clock never really waits). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

export function stateRecorder(): { states: DisplayState[]; onState: (s: DisplayState) => void } {
  const states: DisplayState[] = [];
  return { states, onState: (s) => states.push(s) };
}
