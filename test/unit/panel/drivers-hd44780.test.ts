import { afterEach, describe, expect, it } from 'vitest';
import { Hd44780Display, Hd44780Spec } from '../../../src/panel/drivers/index.js';
import type { TextFrame } from '../../../src/panel/frame.js';
import { FakeClock, recordingI2c, settle, Wire } from './display-recorders.js';

const BL = 0x08;
const E = 0x04;
const RS = 0x01;

/** The two expander writes of one nibble: E high, then E low (data latched on the falling edge). */
function nibble(n: number, rs = 0): number[] {
  const bits = (n << 4) | BL | rs;
  return [bits | E, bits];
}
function byte(b: number, rs = 0): number[] {
  return [...nibble(b >> 4, rs), ...nibble(b & 0x0f, rs)];
}

function text(...lines: string[]): TextFrame {
  return { kind: 'text', cols: 16, rows: lines.length, lines: lines.map((l) => l.padEnd(16)) };
}

/** Expander bytes and waits, in order. */
function trace(wire: Wire): Array<number | string> {
  return wire.log.flatMap((e): Array<number | string> => (e.op === 'byte' ? [e.byte] : e.op === 'wait' ? [`wait ${e.ms}`] : []));
}

let open: Hd44780Display[] = [];
function make(wire: Wire, overrides: Record<string, unknown> = {}): Hd44780Display {
  const spec = Hd44780Spec.parse({ kind: 'hd44780', bus: 1, ...overrides });
  const d = new Hd44780Display(spec, { openBus: recordingI2c(wire), clock: new FakeClock(wire) });
  open.push(d);
  return d;
}

afterEach(async () => {
  await Promise.all(open.map((d) => d.close()));
  open = [];
});

describe('HD44780 behind a PCF8574 backpack', () => {
  it('initialises by instruction in 4-bit mode (datasheet figure 24), one send-byte per expander write to 0x27', async () => {
    const wire = new Wire();
    make(wire);
    await settle();
    expect(wire.of('byte').every((b) => b.address === 0x27)).toBe(true);
    expect(trace(wire)).toEqual([
      BL, // E, RS, RW low, backlight on: the expander powers up with every output high
      'wait 50', // > 40 ms after Vcc rises to 2.7 V
      ...nibble(0x3),
      'wait 5', // > 4.1 ms
      ...nibble(0x3),
      'wait 1', // > 100 µs
      ...nibble(0x3),
      'wait 1',
      ...nibble(0x2), // function set: 4-bit interface
      'wait 1',
      ...byte(0x28), // function set: 4-bit, 2 lines, 5x8 dots (table 6)
      ...byte(0x08), // display off
      ...byte(0x01), // clear display
      'wait 2', // clear: 1.52 ms
      ...byte(0x06), // entry mode: increment, no shift
      ...byte(0x0c), // display on, cursor off, blink off
    ]);
    // the nibble the controller sees on each E falling edge: D7..D4 = P7..P4
    expect(nibble(0x3)).toEqual([0x3c, 0x38]);
  });

  it('writes "A" at row 1 column 3 as set-DDRAM 0xC3, then the character with RS high', async () => {
    const wire = new Wire();
    const d = make(wire);
    await settle();
    wire.clear();
    d.show(text('', '   A'));
    await d.idle();
    expect(trace(wire)).toEqual([
      ...byte(0x80 | (0x40 + 3)), // set DDRAM address: row 1 starts at 0x40 (table 6, §"Display data RAM")
      BL | RS, // RS set with E low first (address set-up time tAS, figure 25)
      ...byte(0x41, RS), // "A"
    ]);
    expect(trace(wire)).toEqual([0xcc, 0xc8, 0x3c, 0x38, 0x09, 0x4d, 0x49, 0x1d, 0x19]);
  });

  it('writes only the runs of characters that changed, and nothing for the same text', async () => {
    const wire = new Wire();
    const d = make(wire);
    d.show(text('ON AIR   12:00', 'LTE 4.2 Mb/s'));
    await d.idle();
    wire.clear();
    d.show(text('ON AIR   12:01', 'LTE 3.9 Mb/s'));
    await d.idle();
    const t = trace(wire);
    expect(t).toEqual([
      BL, // RS back low for a command
      ...byte(0x80 | 13), // row 0, column 13
      BL | RS,
      ...byte('1'.charCodeAt(0), RS),
      BL,
      ...byte(0x80 | (0x40 + 4)), // row 1, column 4 ("4" → "3")
      BL | RS,
      ...byte('3'.charCodeAt(0), RS),
      BL,
      ...byte(0x80 | (0x40 + 6)), // column 6 ("2" → "9"); the "." between is unchanged
      BL | RS,
      ...byte('9'.charCodeAt(0), RS),
    ]);
    wire.clear();
    d.show(text('ON AIR   12:01', 'LTE 3.9 Mb/s'));
    await d.idle();
    expect(wire.log).toEqual([]);
  });

  it('writes the first frame after the clear as its non-blank runs', async () => {
    const wire = new Wire();
    const d = make(wire);
    await settle();
    wire.clear();
    d.show(text('HI', ''));
    await d.idle();
    expect(trace(wire)).toEqual([...byte(0x80), BL | RS, ...byte(0x48, RS), ...byte(0x49, RS)]);
  });

  it('addresses rows 2 and 3 of a 20x4 module at 0x14 and 0x54', async () => {
    const wire = new Wire();
    const d = make(wire, { cols: 20, rows: 4 });
    await settle();
    wire.clear();
    d.show({ kind: 'text', cols: 20, rows: 4, lines: ['', '', 'x', '                   y'].map((l) => l.padEnd(20)) });
    await d.idle();
    expect(trace(wire)).toEqual([
      ...byte(0x80 | 0x14), // row 2 = row 0 continued: 0x00 + 20
      BL | RS,
      ...byte(0x78, RS), // "x"
      BL,
      ...byte(0x80 | (0x54 + 19)), // row 3 = row 1 continued: 0x40 + 20, column 19
      BL | RS,
      ...byte(0x79, RS), // "y"
    ]);
  });

  it('shows a character the ROM lacks as "?" and pads a short line', async () => {
    const wire = new Wire();
    const d = make(wire);
    await settle();
    wire.clear();
    d.show({ kind: 'text', cols: 16, rows: 2, lines: ['é', ''] });
    await d.idle();
    expect(trace(wire)).toEqual([...byte(0x80), BL | RS, ...byte(0x3f, RS)]);
  });

  it('turns the display and backlight off on close()', async () => {
    const wire = new Wire();
    const d = make(wire);
    await settle();
    wire.clear();
    await d.close();
    expect(trace(wire)).toEqual([...byte(0x08), 0x00]);
    expect(wire.of('close')).toHaveLength(1);
  });
});
