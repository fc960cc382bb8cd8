import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DisplaySpec, DisplaySpec as DisplaySpecSchema, openDisplay, SSD1306_INIT } from '../../../src/panel/drivers/index.js';
import type { DisplayState, MonoFrame, PanelDisplay, TextFrame } from '../../../src/panel/frame.js';
import { FakeClock, nack, recordingI2c, recordingSpi, settle, stateRecorder, Wire } from './display-recorders.js';

const ssd1306: DisplaySpec = DisplaySpecSchema.parse({ kind: 'ssd1306', bus: 1 });

function mono(k: number): MonoFrame {
  const pixels = new Uint8Array(128 * 64);
  pixels[k] = 1;
  return { kind: 'mono', width: 128, height: 64, pixels };
}

let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
let open: PanelDisplay[] = [];

beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});

afterEach(async () => {
  await Promise.all(open.map((d) => d.close()));
  open = [];
  await settle();
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

function make(spec: DisplaySpec, wire: Wire, clock: FakeClock, onState: (s: DisplayState) => void): PanelDisplay {
  const d = openDisplay(spec, { openI2c: recordingI2c(wire), ...recordingSpi(wire), clock, onState });
  open.push(d);
  return d;
}

/** Lets the pending retry pause end and the attempt run. */
async function retry(clock: FakeClock): Promise<void> {
  await settle();
  expect(clock.retryPending).toBe(true);
  clock.fireRetry();
  await settle();
}

describe('a display that disappears and comes back', () => {
  it('reports gone once in words, retries at 1, 2, 4, 8, 10, 10 s, then initialises, redraws the newest frame whole and reports ok', async () => {
    const wire = new Wire();
    const clock = new FakeClock(wire);
    const { states, onState } = stateRecorder();
    const d = make(ssd1306, wire, clock, onState);
    d.show(mono(0));
    await d.idle();
    expect(states).toEqual([{ state: 'ok' }]);

    wire.failing = nack('EREMOTEIO');
    d.show(mono(1));
    await d.idle(); // resolves: the display is gone, show() did not throw
    await settle();
    expect(states).toHaveLength(2);
    expect(states[1]).toEqual({
      state: 'gone',
      why: expect.stringMatching(/^the display at I2C bus 1 address 0x3c does not answer: no acknowledgement; check the cable/),
    });
    expect(wire.of('close')).toHaveLength(1); // the bus is closed and reopened on each attempt

    for (let i = 0; i < 5; i++) await retry(clock);
    expect(clock.retries).toEqual([1000, 2000, 4000, 8000, 10000, 10000]);
    expect(states).toHaveLength(2); // still one 'gone'
    for (let k = 2; k < 6; k++) d.show(mono(k)); // frames shown while gone: only the newest matters
    await d.idle();

    wire.failing = undefined;
    wire.clear();
    await retry(clock);
    await d.idle();
    expect(states).toEqual([{ state: 'ok' }, states[1], { state: 'ok' }]);
    const blocks = wire.of('block');
    const commands = blocks.filter((b) => b.control === 0x00).flatMap((b) => b.bytes);
    expect(commands).toEqual([...SSD1306_INIT, 0x21, 0, 127, 0x22, 0, 7]); // full init, then the whole screen
    const ram = blocks.filter((b) => b.control === 0x40).flatMap((b) => b.bytes);
    expect(ram).toHaveLength(1024);
    expect(ram[5]).toBe(0x01); // the newest frame (pixel 5 of row 0)
    expect(ram.filter((b) => b !== 0)).toHaveLength(1);

    // the backoff starts again at 1 s after a success
    wire.failing = nack('ENXIO');
    d.show(mono(6));
    await d.idle();
    await settle();
    expect(clock.retries.at(-1)).toBe(1000);
  });

  it('treats a display that cannot be opened at start as gone, and draws once it can be', async () => {
    const wire = new Wire();
    wire.failing = Object.assign(new Error("ENOENT: no such file or directory, open '/dev/i2c-1'"), { code: 'ENOENT' });
    const clock = new FakeClock(wire);
    const { states, onState } = stateRecorder();
    const d = make(ssd1306, wire, clock, onState);
    d.show(mono(3));
    await d.idle();
    await settle();
    expect(states).toEqual([{ state: 'gone', why: expect.stringContaining('is the bus enabled in the boot configuration?') }]);
    wire.failing = undefined;
    await retry(clock);
    await d.idle();
    expect(states.at(-1)).toEqual({ state: 'ok' });
    expect(
      wire
        .of('block')
        .filter((b) => b.control === 0x40)
        .flatMap((b) => b.bytes)[3],
    ).toBe(0x01);
  });

  it('stops retrying on close() while gone, and close() resolves', async () => {
    const wire = new Wire();
    wire.failing = nack('ENODEV');
    const clock = new FakeClock(wire);
    const { states, onState } = stateRecorder();
    const d = make(ssd1306, wire, clock, onState);
    await settle();
    expect(clock.retries).toEqual([1000]);
    await d.close();
    await settle();
    expect(clock.retryPending).toBe(true); // the pause was ended by the abort, not fired: no attempt followed
    expect(clock.retries).toEqual([1000]);
    expect(states).toHaveLength(1);
  });

  it('keeps going when the state listener throws', async () => {
    const wire = new Wire();
    const clock = new FakeClock(wire);
    const d = openDisplay(ssd1306, {
      openI2c: recordingI2c(wire),
      clock,
      onState: () => {
        throw new Error('listener bug');
      },
    });
    open.push(d);
    d.show(mono(0));
    await d.idle();
    expect(wire.of('block').length).toBeGreaterThan(1);
  });

  it('re-initialises an HD44780 (figure 24 again) and rewrites the newest text after it comes back', async () => {
    const wire = new Wire();
    const clock = new FakeClock(wire);
    const { states, onState } = stateRecorder();
    const spec = DisplaySpecSchema.parse({ kind: 'hd44780', bus: 0 });
    const d = make(spec, wire, clock, onState);
    const text = (s: string): TextFrame => ({ kind: 'text', cols: 16, rows: 2, lines: [s.padEnd(16), ' '.repeat(16)] });
    d.show(text('LIVE'));
    await d.idle();
    wire.failing = nack('EIO');
    d.show(text('LOST'));
    await d.idle();
    await settle();
    expect(states.map((s) => s.state)).toEqual(['ok', 'gone']);
    expect(states[1]).toMatchObject({ why: expect.stringContaining('the display at I2C bus 0 address 0x27 does not answer') });
    wire.failing = undefined;
    wire.clear();
    await retry(clock);
    await d.idle();
    expect(states.map((s) => s.state)).toEqual(['ok', 'gone', 'ok']);
    const bytes = wire.of('byte').map((b) => b.byte);
    expect(bytes.slice(0, 3)).toEqual([0x08, 0x3c, 0x38]); // expander reset, first 0x3 nibble
    const chars = wire
      .of('byte')
      .map((b) => b.byte)
      .filter((b) => (b & 0x05) === 0x05); // E high with RS high: data nibbles
    const text4 = [];
    for (let i = 0; i < chars.length; i += 2) text4.push(String.fromCharCode((chars[i]! & 0xf0) | (chars[i + 1]! >> 4)));
    expect(text4.join('')).toBe('LOST');
  });

  it('reports an ST7789 whose SPI device is missing as gone, naming the device', async () => {
    const wire = new Wire();
    wire.failing = Object.assign(new Error('ENOENT, No such file or directory'), { code: 'ENOENT' });
    const clock = new FakeClock(wire);
    const { states, onState } = stateRecorder();
    const spec = DisplaySpecSchema.parse({ kind: 'st7789', spiBus: 0, spiDevice: 1, dc: { chip: 'pinctrl-bcm2711', line: 25 } });
    const d = make(spec, wire, clock, onState);
    expect(d.kind).toBe('st7789');
    await settle();
    expect(states).toEqual([
      { state: 'gone', why: expect.stringMatching(/^the display at SPI 0\.1 \(\/dev\/spidev0\.1\) does not answer: no such device/) },
    ]);
  });
});
