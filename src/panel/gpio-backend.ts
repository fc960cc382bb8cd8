/**
 * The GPIO lines the buttons and LEDs use, behind one small interface, and
 * its implementation on `onoff` (the kernel's sysfs GPIO interface, global
 * line numbers: see gpio-pins.ts). Values are logical: with `activeLow` the
 * kernel inverts them (sysfs `active_low`), so 1 is always "pressed"/"lit".
 */
import { createRequire } from 'node:module';
import type { BinaryValue, Edge, Gpio as OnoffGpio } from 'onoff';
import { createLogger } from '../lib/logger.js';
import { PanelGpioError } from './errors.js';

const log = createLogger('panel');

export type Level = 0 | 1;
export type GpioEdge = Edge;

export interface GpioInput {
  read(): Level;
  /** `cb` is called with the line's level after each edge of the kind asked for. */
  watch(cb: (value: Level) => void): void;
  /** Stops watching and gives the line back (unexports it). Idempotent. */
  close(): void;
}

export interface GpioOutput {
  write(value: Level): void;
  read(): Level;
  /** Gives the line back (unexports it), leaving it as last written. Idempotent. */
  close(): void;
}

export interface GpioBackend {
  /** `line` is the kernel's global GPIO number. */
  input(line: number, opts: { activeLow: boolean; edge: GpioEdge }): GpioInput;
  /** Opens `line` as an output driving `initial` (default logical 0, off) from the start, without a glitch. */
  output(line: number, opts?: { activeLow?: boolean; initial?: Level }): GpioOutput;
}

type GpioClass = typeof OnoffGpio;
let gpioClass: GpioClass | undefined;

/** onoff's Gpio, loaded on first use: it needs the epoll addon, which exists on Linux only. */
function loadOnoff(): GpioClass {
  if (!gpioClass) {
    try {
      gpioClass = (createRequire(import.meta.url)('onoff') as { Gpio: GpioClass }).Gpio;
    } catch (err) {
      throw new PanelGpioError(
        `The GPIO library (onoff) cannot be loaded: ${(err as Error).message}. Buttons and LEDs work on Linux with its epoll addon built (npm ci).`,
        {},
        { cause: err },
      );
    }
  }
  return gpioClass;
}

/** Why the kernel refused a line, and what to do about it. */
function openError(line: number, direction: string, err: unknown): PanelGpioError {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'EACCES' || code === 'EPERM'
      ? 'permission denied (run as root, or give the user access to /sys/class/gpio)'
      : code === 'EBUSY'
        ? 'the line is in use (a kernel driver or another program holds it; check the board profile and the device tree)'
        : code === 'EINVAL'
          ? 'the kernel has no such GPIO line'
          : code === 'ENOENT'
            ? 'there is no /sys/class/gpio (a kernel without CONFIG_GPIO_SYSFS)'
            : (err as Error).message;
  return new PanelGpioError(`GPIO ${line} cannot be opened as an ${direction}: ${why}.`, { line, errno: code }, { cause: err });
}

function unexport(gpio: OnoffGpio, line: number): void {
  try {
    gpio.unwatchAll();
    gpio.unexport();
  } catch (err) {
    log.warn('could not give a GPIO line back', { line, err });
  }
}

export class OnoffGpioBackend implements GpioBackend {
  input(line: number, opts: { activeLow: boolean; edge: GpioEdge }): GpioInput {
    const Gpio = loadOnoff();
    let gpio: OnoffGpio;
    try {
      gpio = new Gpio(line, 'in', opts.edge, { activeLow: opts.activeLow });
    } catch (err) {
      throw openError(line, 'input', err);
    }
    let closed = false;
    return {
      read: () => gpio.readSync(),
      watch: (cb) => {
        gpio.watch((err: Error | null | undefined, value: BinaryValue) => {
          if (closed) return;
          if (err) log.warn('GPIO watch failed', { line, err });
          else cb(value);
        });
      },
      close: () => {
        if (closed) return;
        closed = true;
        unexport(gpio, line);
      },
    };
  }

  output(line: number, opts: { activeLow?: boolean; initial?: Level } = {}): GpioOutput {
    const Gpio = loadOnoff();
    const activeLow = opts.activeLow ?? false;
    let gpio: OnoffGpio;
    try {
      // sysfs "high"/"low" set the raw level: logical 0 is raw high on an active-low line.
      const rawHigh = (opts.initial ?? 0) === 1 ? !activeLow : activeLow;
      gpio = new Gpio(line, rawHigh ? 'high' : 'low', 'none', { activeLow });
    } catch (err) {
      throw openError(line, 'output', err);
    }
    let closed = false;
    return {
      write: (value) => {
        if (!closed) gpio.writeSync(value);
      },
      read: () => gpio.readSync(),
      close: () => {
        if (closed) return;
        closed = true;
        unexport(gpio, line);
      },
    };
  }
}
