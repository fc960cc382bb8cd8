/**
 * 128x64 monochrome OLED, SSD1306 over I2C.
 *
 * Every write is an SMBus "write I2C block" whose command byte is the
 * SSD1306 control byte (datasheet §8.1.5.1: Co=0, D/C#=0 → commands follow,
 * D/C#=1 → GDDRAM data follows), at most 32 bytes each: that is what
 * SMBus-only adapters (i2c-stub, many SBC controllers) carry.
 *
 * GDDRAM (§8.7): 8 pages of 8 rows, one byte per column and page, bit 0 the
 * page's top row. Only the dirty column span of each page is written.
 */
import type { Frame, MonoFrame } from '../frame.js';
import { DisplayDriver, type DisplayDriverOptions } from './display-driver.js';
import type { Ssd1306Spec } from './spec.js';
import { type I2cBlockBus, openI2cBus } from './transports.js';

export const SSD1306_WIDTH = 128;
export const SSD1306_HEIGHT = 64;
const PAGES = SSD1306_HEIGHT / 8;

/** Control bytes (§8.1.5.2). */
export const SSD1306_CONTROL_COMMAND = 0x00;
export const SSD1306_CONTROL_DATA = 0x40;
/** I2C_SMBUS_BLOCK_MAX: the most data bytes one SMBus block write carries. */
export const SMBUS_BLOCK_MAX = 32;

/** Commands (datasheet §9, table 9-1). */
const CMD = {
  displayOff: 0xae,
  displayOn: 0xaf,
  columnAddress: 0x21,
  pageAddress: 0x22,
} as const;

/**
 * Initialisation of a 128x64 module on the internal charge pump, in
 * horizontal addressing mode: the datasheet's software initialization flow
 * chart (application example) with the charge pump application note's 0x8D 0x14.
 */
// biome-ignore format: one command and its parameters per line, as in the datasheet
export const SSD1306_INIT: readonly number[] = [
  0xae, // display off
  0xd5, 0x80, // clock divide ratio / oscillator frequency: reset value
  0xa8, 0x3f, // multiplex ratio: 64 rows
  0xd3, 0x00, // display offset 0
  0x40, // display start line 0
  0x8d, 0x14, // charge pump on (app note: charge pump setting)
  0x20, 0x00, // memory addressing mode: horizontal
  0xa1, // segment remap: column 127 → SEG0
  0xc8, // COM output scan direction: remapped (COM63 → COM0)
  0xda, 0x12, // COM pins: alternative configuration, no left/right remap (128x64)
  0x81, 0xcf, // contrast
  0xd9, 0xf1, // pre-charge period: phase 1 = 1, phase 2 = 15 DCLK (charge pump)
  0xdb, 0x40, // VCOMH deselect level
  0xa4, // entire display on: follow RAM
  0xa6, // normal (not inverted)
  0xaf, // display on
];

export interface Ssd1306Options extends DisplayDriverOptions {
  /** Opens the I2C bus (i2c-bus's openPromisified by default). */
  openBus?: (bus: number) => Promise<I2cBlockBus>;
}

/** Packs a 1-bit frame into GDDRAM order: page p, column c at p*128 + c; bit r = row p*8 + r. */
export function packGddram(frame: MonoFrame): Uint8Array {
  const out = new Uint8Array(SSD1306_WIDTH * PAGES);
  const px = frame.pixels;
  for (let page = 0; page < PAGES; page++) {
    for (let bit = 0; bit < 8; bit++) {
      const row = (page * 8 + bit) * SSD1306_WIDTH;
      const mask = 1 << bit;
      const base = page * SSD1306_WIDTH;
      for (let col = 0; col < SSD1306_WIDTH; col++) if (px[row + col]) out[base + col]! |= mask;
    }
  }
  return out;
}

/** A frame already in GDDRAM order. */
interface GddramFrame {
  kind: 'gddram';
  ram: Uint8Array;
}

export class Ssd1306Display extends DisplayDriver<GddramFrame> {
  readonly kind = 'ssd1306' as const;
  protected readonly where: string;
  private readonly spec: Ssd1306Spec;
  private readonly openBus: (bus: number) => Promise<I2cBlockBus>;
  private bus: I2cBlockBus | undefined;
  /** What is in GDDRAM, or undefined when unknown (after init: the next frame is drawn whole). */
  private glass: Uint8Array | undefined;

  constructor(spec: Ssd1306Spec, options: Ssd1306Options = {}) {
    super(options, 'panel.ssd1306');
    this.spec = spec;
    this.openBus = options.openBus ?? openI2cBus;
    this.where = `the display at I2C bus ${spec.bus} address 0x${spec.address.toString(16).padStart(2, '0')}`;
    this.start();
  }

  protected accept(frame: Frame): GddramFrame | string {
    if (frame.kind !== 'mono') return `an SSD1306 shows 1-bit frames, not ${frame.kind}`;
    if (frame.width !== SSD1306_WIDTH || frame.height !== SSD1306_HEIGHT || frame.pixels.length !== SSD1306_WIDTH * SSD1306_HEIGHT) {
      return `an SSD1306 frame is ${SSD1306_WIDTH}x${SSD1306_HEIGHT}, not ${frame.width}x${frame.height}`;
    }
    return { kind: 'gddram', ram: packGddram(frame) };
  }

  protected async connect(): Promise<void> {
    this.glass = undefined;
    this.bus ??= await this.openBus(this.spec.bus);
    await this.commands(SSD1306_INIT);
  }

  protected async draw(frame: GddramFrame): Promise<void> {
    const ram = frame.ram;
    const glass = this.glass;
    if (!glass) {
      // First frame, or after recovery: the whole screen in one window.
      await this.commands([CMD.columnAddress, 0, SSD1306_WIDTH - 1, CMD.pageAddress, 0, PAGES - 1]);
      await this.data(ram);
      this.glass = ram;
      return;
    }
    for (let page = 0; page < PAGES; page++) {
      const base = page * SSD1306_WIDTH;
      let first = -1;
      let last = -1;
      for (let col = 0; col < SSD1306_WIDTH; col++) {
        if (ram[base + col] !== glass[base + col]) {
          if (first < 0) first = col;
          last = col;
        }
      }
      if (first < 0) continue;
      await this.commands([CMD.columnAddress, first, last, CMD.pageAddress, page, page]);
      await this.data(ram.subarray(base + first, base + last + 1));
      glass.set(ram.subarray(base + first, base + last + 1), base + first);
    }
  }

  protected async switchOff(): Promise<void> {
    if (this.bus) await this.commands([CMD.displayOff]);
  }

  protected async disconnect(): Promise<void> {
    const bus = this.bus;
    this.bus = undefined;
    this.glass = undefined;
    await bus?.close().catch(() => undefined);
  }

  private async commands(bytes: readonly number[]): Promise<void> {
    await this.blocks(SSD1306_CONTROL_COMMAND, Uint8Array.from(bytes));
  }

  private async data(bytes: Uint8Array): Promise<void> {
    await this.blocks(SSD1306_CONTROL_DATA, bytes);
  }

  private async blocks(control: number, bytes: Uint8Array): Promise<void> {
    const bus = this.bus;
    if (!bus) throw new Error('the I2C bus is not open');
    for (let at = 0; at < bytes.length; at += SMBUS_BLOCK_MAX) {
      const chunk = Buffer.from(bytes.subarray(at, at + SMBUS_BLOCK_MAX));
      await bus.writeI2cBlock(this.spec.address, control, chunk.length, chunk);
    }
  }
}
