import { afterEach, describe, expect, it } from 'vitest';
import { SSD1306_INIT, Ssd1306Display, Ssd1306Spec } from '../../../src/panel/drivers/index.js';
import type { MonoFrame } from '../../../src/panel/frame.js';
import { FakeClock, recordingI2c, settle, Wire } from './display-recorders.js';

const spec = Ssd1306Spec.parse({ kind: 'ssd1306', bus: 1 });

function mono(lit: Array<[number, number]> = []): MonoFrame {
  const pixels = new Uint8Array(128 * 64);
  for (const [x, y] of lit) pixels[y * 128 + x] = 1;
  return { kind: 'mono', width: 128, height: 64, pixels };
}

/** The command bytes and data bytes in the order written (control 0x00 and 0x40 transfers). */
function split(wire: Wire): { commands: number[][]; data: number[][] } {
  const commands: number[][] = [];
  const data: number[][] = [];
  for (const e of wire.of('block')) (e.control === 0x00 ? commands : data).push(e.bytes);
  return { commands, data };
}

let open: Ssd1306Display[] = [];
function make(wire: Wire): Ssd1306Display {
  const d = new Ssd1306Display(spec, { openBus: recordingI2c(wire), clock: new FakeClock(wire) });
  open.push(d);
  return d;
}

afterEach(async () => {
  await Promise.all(open.map((d) => d.close()));
  open = [];
});

describe('SSD1306 over I2C', () => {
  it('initialises with the datasheet sequence, as commands (control byte 0x00) to address 0x3c', async () => {
    const wire = new Wire();
    make(wire);
    await settle();
    const blocks = wire.of('block');
    expect(blocks.every((b) => b.address === 0x3c && b.control === 0x00)).toBe(true);
    // SSD1306 datasheet rev 1.1, application example "software initialization flow chart"; charge pump app note; command sections of §10.1
    expect(blocks.flatMap((b) => b.bytes)).toEqual([
      0xae, // display off (§10.1.12)
      0xd5,
      0x80, // display clock divide / oscillator (§10.1.16)
      0xa8,
      0x3f, // multiplex ratio 64 (§10.1.11)
      0xd3,
      0x00, // display offset (§10.1.15)
      0x40, // start line 0 (§10.1.6)
      0x8d,
      0x14, // charge pump enable (app note, table 2-1)
      0x20,
      0x00, // horizontal addressing mode (§10.1.3)
      0xa1, // segment remap (§10.1.8)
      0xc8, // COM scan decrement (§10.1.14)
      0xda,
      0x12, // COM pins hardware configuration (§10.1.18)
      0x81,
      0xcf, // contrast (§10.1.7)
      0xd9,
      0xf1, // pre-charge period (§10.1.17)
      0xdb,
      0x40, // VCOMH deselect level (§10.1.19)
      0xa4, // resume to RAM content (§10.1.9)
      0xa6, // normal display (§10.1.10)
      0xaf, // display on (§10.1.12)
    ]);
    expect(blocks.flatMap((b) => b.bytes)).toEqual([...SSD1306_INIT]);
  });

  it('draws the first frame whole: one window over the screen, 1024 data bytes in blocks of at most 32', async () => {
    const wire = new Wire();
    const d = make(wire);
    await settle();
    wire.clear();
    d.show(
      mono([
        [0, 0],
        [127, 63],
        [5, 9],
      ]),
    );
    await d.idle();
    const { commands, data } = split(wire);
    expect(commands).toEqual([[0x21, 0, 127, 0x22, 0, 7]]); // column 0..127, page 0..7 (§10.1.4, §10.1.5)
    expect(data.every((b) => b.length <= 32)).toBe(true);
    const ram = data.flat();
    expect(ram).toHaveLength(1024);
    expect(ram[0]).toBe(0x01); // (0,0): page 0, column 0, bit 0 = top row
    expect(ram[7 * 128 + 127]).toBe(0x80); // (127,63): page 7, column 127, bit 7
    expect(ram[1 * 128 + 5]).toBe(0x02); // (5,9): page 1, bit 1
    expect(ram.filter((b) => b !== 0)).toHaveLength(3);
    expect(wire.of('block').every((b) => b.control === 0x00 || b.control === 0x40)).toBe(true);
  });

  it('writes one changed pixel as one column of one page', async () => {
    const wire = new Wire();
    const d = make(wire);
    d.show(mono());
    await d.idle();
    wire.clear();
    d.show(mono([[70, 20]]));
    await d.idle();
    const { commands, data } = split(wire);
    expect(commands).toEqual([[0x21, 70, 70, 0x22, 2, 2]]);
    expect(data).toEqual([[1 << 4]]); // row 20 = page 2, bit 4
  });

  it('writes only the dirty column span of each page that changed', async () => {
    const wire = new Wire();
    const d = make(wire);
    d.show(mono());
    await d.idle();
    wire.clear();
    d.show(
      mono([
        [10, 0],
        [40, 3],
        [100, 63],
      ]),
    );
    await d.idle();
    const { commands, data } = split(wire);
    expect(commands).toEqual([
      [0x21, 10, 40, 0x22, 0, 0],
      [0x21, 100, 100, 0x22, 7, 7],
    ]);
    expect(data.map((b) => b.length)).toEqual([31, 1]);
  });

  it('splits a long span into blocks of 32 data bytes', async () => {
    const wire = new Wire();
    const d = make(wire);
    d.show(mono());
    await d.idle();
    wire.clear();
    d.show(mono(Array.from({ length: 128 }, (_, x) => [x, 62] as [number, number])));
    await d.idle();
    const { commands, data } = split(wire);
    expect(commands).toEqual([[0x21, 0, 127, 0x22, 7, 7]]);
    expect(data.map((b) => b.length)).toEqual([32, 32, 32, 32]);
  });

  it('writes nothing for a frame identical to the one on the glass', async () => {
    const wire = new Wire();
    const d = make(wire);
    d.show(mono([[3, 3]]));
    await d.idle();
    wire.clear();
    d.show(mono([[3, 3]]));
    await d.idle();
    expect(wire.log).toEqual([]);
  });

  it('ignores a frame of another kind or size, and keeps drawing the next good one', async () => {
    const wire = new Wire();
    const d = make(wire);
    await settle();
    wire.clear();
    d.show({ kind: 'text', cols: 16, rows: 2, lines: ['x'.repeat(16), 'y'.repeat(16)] });
    d.show({ kind: 'mono', width: 64, height: 32, pixels: new Uint8Array(64 * 32) });
    await d.idle();
    expect(wire.log).toEqual([]);
    d.show(mono());
    await d.idle();
    expect(split(wire).data.flat()).toHaveLength(1024);
  });

  it('draws the first and the last of ten frames shown while the bus is slow; show() returns at once', async () => {
    const wire = new Wire();
    const d = make(wire);
    await settle();
    wire.clear();
    wire.hold();
    for (let k = 0; k < 10; k++) d.show(mono([[k, 0]]));
    expect(wire.log).toEqual([]); // nothing has reached the bus: show() did not wait
    wire.release();
    await d.idle();
    const { commands, data } = split(wire);
    // frame 0 whole, then frame 9 against frame 0: columns 0 and 9 of page 0 changed
    expect(commands).toEqual([
      [0x21, 0, 127, 0x22, 0, 7],
      [0x21, 0, 9, 0x22, 0, 0],
    ]);
    expect(data.slice(-1)[0]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('turns the display off and closes the bus on close(), once', async () => {
    const wire = new Wire();
    const d = make(wire);
    d.show(mono());
    await d.idle();
    wire.clear();
    await Promise.all([d.close(), d.close()]);
    await d.close();
    expect(wire.log).toEqual([
      { op: 'block', address: 0x3c, control: 0x00, bytes: [0xae] },
      { op: 'close', what: 'i2c-1' },
    ]);
    d.show(mono([[1, 1]]));
    await d.idle();
    expect(wire.log).toHaveLength(2);
  });
});
