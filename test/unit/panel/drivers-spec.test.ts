import { describe, expect, it } from 'vitest';
import { DisplaySpec } from '../../../src/panel/drivers/index.js';

const dc = { chip: 'pinctrl-bcm2711', line: 25 };

describe('the display spec', () => {
  it('fills the defaults of each kind', () => {
    expect(DisplaySpec.parse({ kind: 'ssd1306', bus: 1 })).toEqual({ kind: 'ssd1306', bus: 1, address: 0x3c });
    expect(DisplaySpec.parse({ kind: 'hd44780', bus: 1 })).toEqual({ kind: 'hd44780', bus: 1, address: 0x27, cols: 16, rows: 2 });
    expect(DisplaySpec.parse({ kind: 'st7789', spiBus: 0, spiDevice: 0, dc })).toEqual({
      kind: 'st7789',
      spiBus: 0,
      spiDevice: 0,
      speedHz: 24_000_000,
      spiMode: 0,
      dc,
      width: 240,
      height: 240,
      xOffset: 0,
      yOffset: 0,
      invert: true,
    });
  });

  it('rejects what does not fit, naming the key', () => {
    const bad = [
      { kind: 'ssd1306', bus: 1, address: 0x80 },
      { kind: 'st7789', spiBus: 0, spiDevice: 0 },
      { kind: 'st7789', spiBus: 0, spiDevice: 0, dc: { chip: '', line: 1 } },
      { kind: 'st7789', spiBus: 0, spiDevice: 0, dc, yOffset: 100, height: 240 },
      { kind: 'hd44780', bus: 1, rows: 3 },
      { kind: 'hd44780', bus: 1, cols: 40, rows: 4 },
      { kind: 'sh1106', bus: 1 },
    ];
    for (const b of bad) expect(DisplaySpec.safeParse(b).success, JSON.stringify(b)).toBe(false);
    const r = DisplaySpec.safeParse({ kind: 'ssd1306', bus: 1, address: 0x80 });
    expect(r.error?.issues[0]?.path).toEqual(['address']);
  });
});
