import { afterEach, describe, expect, it } from 'vitest';
import { St7789Display, St7789Spec } from '../../../src/panel/drivers/index.js';
import type { Rgb565Frame } from '../../../src/panel/frame.js';
import { type Event, FakeClock, recordingSpi, settle, Wire } from './display-recorders.js';

const DC = { chip: 'pinctrl-bcm2711', line: 25 };
const RESET = { chip: 'pinctrl-bcm2711', line: 27 };
const BACKLIGHT = { chip: 'pinctrl-bcm2711', line: 24 };

function frame(paint?: (px: Uint16Array) => void): Rgb565Frame {
  const pixels = new Uint16Array(240 * 240);
  paint?.(pixels);
  return { kind: 'rgb565', width: 240, height: 240, pixels };
}

/** SPI traffic as commands: the D/CX-low byte and the D/CX-high bytes after it. */
function commands(log: Event[]): Array<{ cmd: number; params: number[] }> {
  const out: Array<{ cmd: number; params: number[] }> = [];
  for (const e of log) {
    if (e.op !== 'spi') continue;
    if (e.dc === 0) {
      expect(e.bytes).toHaveLength(1); // D/CX low only while a command byte is clocked
      out.push({ cmd: e.bytes[0]!, params: [] });
    } else {
      expect(e.dc).toBe(1);
      out.at(-1)!.params.push(...e.bytes);
    }
  }
  return out;
}

let open: St7789Display[] = [];
function make(wire: Wire, overrides: Record<string, unknown> = {}): St7789Display {
  const spec = St7789Spec.parse({ kind: 'st7789', spiBus: 0, spiDevice: 0, dc: DC, ...overrides });
  const d = new St7789Display(spec, { ...recordingSpi(wire), clock: new FakeClock(wire) });
  open.push(d);
  return d;
}

afterEach(async () => {
  await Promise.all(open.map((d) => d.close()));
  open = [];
});

describe('ST7789 over SPI', () => {
  it('initialises per the ST7789V datasheet, with a reset pulse when a reset line is wired', async () => {
    const wire = new Wire();
    make(wire, { reset: RESET });
    await settle();
    const pins = wire.log.filter((e) => e.op === 'pin' && e.name.endsWith(':27'));
    // datasheet §7.4 reset timing: RESX low ≥ 10 µs (TRW), then up to 120 ms (TRT) before it takes commands
    expect(pins.map((p) => (p as { value: number }).value)).toEqual([1, 0, 1]);
    const afterReset = wire.log.slice(wire.log.findIndex((e) => e.op === 'pin' && e.name.endsWith(':27') && e.value === 0));
    expect(afterReset.filter((e) => e.op === 'wait').map((e) => (e as { ms: number }).ms)).toEqual([1, 150, 150, 120]);
    expect(commands(wire.log)).toEqual([
      { cmd: 0x01, params: [] }, // 01h SWRESET (§9.1), then 5 ms before a command, 120 ms before SLPOUT
      { cmd: 0x11, params: [] }, // 11h SLPOUT (§9.1), then 5 ms before a command, 120 ms before SLPIN
      { cmd: 0x3a, params: [0x55] }, // 3Ah COLMOD 55h: 65k colours, 16 bit/pixel (§9.1)
      { cmd: 0x36, params: [0x00] }, // 36h MADCTL 00h: top to bottom, left to right, RGB (§9.1)
      { cmd: 0x21, params: [] }, // 21h INVON (§9.1): IPS modules
      { cmd: 0x13, params: [] }, // 13h NORON (§9.1)
      { cmd: 0x29, params: [] }, // 29h DISPON (§9.1)
    ]);
  });

  it('waits after SWRESET and SLPOUT and sends INVOFF when not inverted, without a reset line', async () => {
    const wire = new Wire();
    make(wire, { invert: false });
    await settle();
    const seq = wire.log.flatMap((e) => (e.op === 'wait' ? [`wait ${e.ms}`] : e.op === 'spi' && e.dc === 0 ? [`cmd ${e.bytes[0]}`] : []));
    expect(seq).toEqual(['cmd 1', 'wait 150', 'cmd 17', 'wait 120', 'cmd 58', 'cmd 54', 'cmd 32', 'cmd 19', 'cmd 41']);
  });

  it('draws the first frame whole: CASET 0..239, RASET 0..239, RAMWR, big-endian pixels in transfers ≤ 4096 bytes', async () => {
    const wire = new Wire();
    const d = make(wire);
    await settle();
    wire.clear();
    d.show(
      frame((px) => {
        px[0] = 0xf800; // red at (0,0)
        px[239 * 240 + 239] = 0x001f; // blue at (239,239)
      }),
    );
    await d.idle();
    expect(wire.of('spi').every((t) => t.bytes.length <= 4096)).toBe(true);
    const cmds = commands(wire.log);
    expect(cmds.map((c) => c.cmd)).toEqual([0x2a, 0x2b, 0x2c]);
    expect(cmds[0]!.params).toEqual([0, 0, 0, 239]); // 2Ah CASET xs, xe as 16-bit big-endian (§9.1)
    expect(cmds[1]!.params).toEqual([0, 0, 0, 239]); // 2Bh RASET ys, ye (§9.1)
    const ram = cmds[2]!.params;
    expect(ram).toHaveLength(240 * 240 * 2);
    expect(ram.slice(0, 2)).toEqual([0xf8, 0x00]); // 2Ch RAMWR, 16 bit/pixel: R4..R0 G5..G3 first, then G2..G0 B4..B0 (§8.8 data colour coding)
    expect(ram.slice(-2)).toEqual([0x00, 0x1f]);
  });

  it('writes a one-glyph change as a small window of a few hundred bytes, with the module offsets', async () => {
    const wire = new Wire();
    const d = make(wire, { xOffset: 0, yOffset: 80 });
    d.show(frame());
    await d.idle();
    wire.clear();
    // an 8x16 glyph at (100, 40): rows 40..55 straddle the bands 32..47 and 48..63
    d.show(
      frame((px) => {
        for (let y = 40; y < 56; y++) for (let x = 100; x < 108; x++) if ((x + y) % 2) px[y * 240 + x] = 0xffff;
      }),
    );
    await d.idle();
    const cmds = commands(wire.log);
    expect(cmds.map((c) => c.cmd)).toEqual([0x2a, 0x2b, 0x2c, 0x2a, 0x2b, 0x2c]);
    const rows = (p: number[]) => [(p[0]! << 8) | p[1]!, (p[2]! << 8) | p[3]!];
    expect(rows(cmds[0]!.params)).toEqual([100, 107]);
    expect(rows(cmds[1]!.params)).toEqual([80 + 40, 80 + 47]);
    expect(rows(cmds[3]!.params)).toEqual([100, 107]);
    expect(rows(cmds[4]!.params)).toEqual([80 + 48, 80 + 55]);
    const bytes = wire.of('spi').reduce((n, t) => n + t.bytes.length, 0);
    expect(bytes).toBe(2 * (3 + 8 + 8 * 8 * 2)); // two windows: 3 command bytes, 8 address bytes, 64 pixels each
    expect(bytes).toBeLessThan(400);
  });

  it('writes one changed pixel as a 1x1 window, and nothing for an identical frame', async () => {
    const wire = new Wire();
    const d = make(wire);
    d.show(frame());
    await d.idle();
    wire.clear();
    d.show(frame((px) => (px[10 * 240 + 200] = 0x1234)));
    await d.idle();
    const cmds = commands(wire.log);
    expect(cmds).toEqual([
      { cmd: 0x2a, params: [0, 200, 0, 200] },
      { cmd: 0x2b, params: [0, 10, 0, 10] },
      { cmd: 0x2c, params: [0x12, 0x34] },
    ]);
    wire.clear();
    d.show(frame((px) => (px[10 * 240 + 200] = 0x1234)));
    await d.idle();
    expect(wire.log).toEqual([]);
  });

  it('copies the frame at show(): a renderer reusing its buffer does not change what is drawn', async () => {
    const wire = new Wire();
    const d = make(wire);
    d.show(frame());
    await d.idle();
    wire.clear();
    wire.hold();
    const f = frame((px) => (px[0] = 0xaaaa));
    d.show(f);
    f.pixels[0] = 0x5555;
    wire.release();
    await d.idle();
    expect(commands(wire.log)[2]!.params).toEqual([0xaa, 0xaa]);
  });

  it('turns the backlight on once the first picture is in RAM, and off with DISPOFF/SLPIN on close', async () => {
    const wire = new Wire();
    const d = make(wire, { backlight: BACKLIGHT });
    await settle();
    const bl = () =>
      wire
        .of('pin')
        .filter((p) => p.name.endsWith(':24'))
        .map((p) => p.value);
    expect(bl()).toEqual([0]);
    d.show(frame());
    await d.idle();
    expect(bl()).toEqual([0, 1]);
    wire.clear();
    await d.close();
    expect(bl()).toEqual([0]);
    expect(commands(wire.log).map((c) => c.cmd)).toEqual([0x28, 0x10]); // DISPOFF, SLPIN
    expect(
      wire
        .of('close')
        .map((c) => c.what)
        .sort(),
    ).toEqual(['pinctrl-bcm2711:24', 'pinctrl-bcm2711:25', 'spidev0.0']);
  });
});
