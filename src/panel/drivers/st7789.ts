/**
 * Colour TFT (240x240 IPS modules), ST7789V over SPI with a data/command
 * line and optional reset and backlight lines.
 *
 * 4-line serial interface (ST7789V datasheet §8.4): D/CX low while the command
 * byte is clocked, high for its parameters and for pixel data. Pixels are
 * RGB565 (COLMOD 0x55), high byte first. Only the changed rectangles are
 * written (dirty-rects.ts); each SPI transfer stays ≤ 4096 bytes, spidev's
 * default bufsiz.
 *
 * SPI has no acknowledgement: a module that is unplugged is not noticed.
 * 'gone' here means the SPI device or a GPIO line could not be used.
 */
import type { Frame, Rgb565Frame } from '../frame.js';
import { dirtyRects, type Rect } from './dirty-rects.js';
import { DisplayDriver, type DisplayDriverOptions } from './display-driver.js';
import type { St7789Spec } from './spec.js';
import { type OpenOutputPin, type OpenSpiBus, type OutputPin, openOutputPin, openSpiBus, type SpiBus } from './transports.js';

/** spidev's default bufsiz (module parameter): the largest single transfer it accepts. */
export const SPI_MAX_TRANSFER = 4096;

/** Commands (datasheet §9.1, system function commands). */
export const ST7789 = {
  SWRESET: 0x01,
  SLPIN: 0x10,
  SLPOUT: 0x11,
  NORON: 0x13,
  INVOFF: 0x20,
  INVON: 0x21,
  DISPOFF: 0x28,
  DISPON: 0x29,
  CASET: 0x2a,
  RASET: 0x2b,
  RAMWR: 0x2c,
  MADCTL: 0x36,
  COLMOD: 0x3a,
} as const;

/** Reset low pulse: TRW ≥ 10 µs (§7.4 reset timing); 1 ms is the shortest timer. */
const RESET_PULSE_MS = 1;
/** After a hardware or software reset: 5 ms before a command, 120 ms before SLPOUT (§7.4, SWRESET in §9.1). */
const RESET_SETTLE_MS = 150;
/** SLPOUT: 5 ms before the next command, 120 ms before SLPIN (§9.1); 120 ms covers both. */
const SLEEP_OUT_MS = 120;

export interface St7789Options extends DisplayDriverOptions {
  openSpi?: OpenSpiBus;
  openPin?: OpenOutputPin;
}

/** A colour frame owned by the driver (copied at show()). */
type OwnedFrame = Rgb565Frame;

export class St7789Display extends DisplayDriver<OwnedFrame> {
  readonly kind = 'st7789' as const;
  protected readonly where: string;
  private readonly spec: St7789Spec;
  private readonly openSpi: OpenSpiBus;
  private readonly openPin: OpenOutputPin;
  private spi: SpiBus | undefined;
  private dc: OutputPin | undefined;
  private reset: OutputPin | undefined;
  private backlight: OutputPin | undefined;
  private dcLevel: 0 | 1 | undefined;
  private backlightOn = false;
  /** What is in the controller's RAM, or undefined when unknown (after init). */
  private glass: Uint16Array | undefined;

  constructor(spec: St7789Spec, options: St7789Options = {}) {
    super(options, 'panel.st7789');
    this.spec = spec;
    this.openSpi = options.openSpi ?? openSpiBus;
    this.openPin = options.openPin ?? openOutputPin;
    this.where = `the display at SPI ${spec.spiBus}.${spec.spiDevice} (/dev/spidev${spec.spiBus}.${spec.spiDevice})`;
    this.start();
  }

  protected accept(frame: Frame): OwnedFrame | string {
    const { width, height } = this.spec;
    if (frame.kind !== 'rgb565') return `an ST7789 shows RGB565 frames, not ${frame.kind}`;
    if (frame.width !== width || frame.height !== height || frame.pixels.length !== width * height) {
      return `this ST7789's frame is ${width}x${height}, not ${frame.width}x${frame.height}`;
    }
    return { kind: 'rgb565', width, height, pixels: frame.pixels.slice() };
  }

  protected async connect(): Promise<void> {
    this.glass = undefined;
    this.dcLevel = undefined;
    const { spec } = this;
    this.spi ??= await this.openSpi(spec.spiBus, spec.spiDevice, { mode: spec.spiMode, maxSpeedHz: spec.speedHz });
    this.dc ??= await this.openPin(spec.dc, 0);
    if (spec.reset) this.reset ??= await this.openPin(spec.reset, 1);
    if (spec.backlight && !this.backlight) {
      this.backlight = await this.openPin(spec.backlight, 0);
      this.backlightOn = false;
    }
    if (this.reset) {
      await this.reset.write(0);
      await this.clock.wait(RESET_PULSE_MS);
      await this.reset.write(1);
      await this.clock.wait(RESET_SETTLE_MS);
    }
    await this.command(ST7789.SWRESET);
    await this.clock.wait(RESET_SETTLE_MS);
    await this.command(ST7789.SLPOUT);
    await this.clock.wait(SLEEP_OUT_MS);
    await this.command(ST7789.COLMOD, [0x55]); // COLMOD: 65k colours, 16 bit/pixel on the interface
    await this.command(ST7789.MADCTL, [0x00]); // MADCTL: top to bottom, left to right, RGB order
    await this.command(spec.invert ? ST7789.INVON : ST7789.INVOFF);
    await this.command(ST7789.NORON);
    await this.command(ST7789.DISPON);
  }

  protected async draw(frame: OwnedFrame): Promise<void> {
    const { width, height } = this.spec;
    const rects = this.glass ? dirtyRects(this.glass, frame.pixels, width, height) : [{ x: 0, y: 0, width, height }];
    for (const rect of rects) await this.writeRect(frame.pixels, rect);
    this.glass = frame.pixels;
    // The backlight comes on once a whole picture is in RAM, not over what the RAM held at power-up.
    if (this.backlight && !this.backlightOn) {
      await this.backlight.write(1);
      this.backlightOn = true;
    }
  }

  protected async switchOff(): Promise<void> {
    if (this.backlight) await this.backlight.write(0);
    this.backlightOn = false;
    if (this.spi && this.dc) {
      await this.command(ST7789.DISPOFF);
      await this.command(ST7789.SLPIN);
    }
  }

  protected async disconnect(): Promise<void> {
    const closing = [this.spi, this.dc, this.reset, this.backlight];
    this.spi = this.dc = this.reset = this.backlight = undefined;
    this.glass = undefined;
    await Promise.all(closing.map((c) => c?.close().catch(() => undefined)));
  }

  private async writeRect(pixels: Uint16Array, rect: Rect): Promise<void> {
    const { width, xOffset, yOffset } = this.spec;
    const xs = rect.x + xOffset;
    const xe = xs + rect.width - 1;
    const ys = rect.y + yOffset;
    const ye = ys + rect.height - 1;
    // CASET/RASET: start and end, each 16-bit big-endian, inclusive.
    await this.command(ST7789.CASET, [xs >> 8, xs & 0xff, xe >> 8, xe & 0xff]);
    await this.command(ST7789.RASET, [ys >> 8, ys & 0xff, ye >> 8, ye & 0xff]);
    const out = Buffer.allocUnsafe(rect.width * rect.height * 2);
    let o = 0;
    for (let y = rect.y; y < rect.y + rect.height; y++) {
      const row = y * width;
      for (let x = rect.x; x < rect.x + rect.width; x++) {
        const v = pixels[row + x]!;
        out[o++] = v >> 8;
        out[o++] = v & 0xff;
      }
    }
    await this.command(ST7789.RAMWR, out);
  }

  /** The command byte with D/CX low, then its parameters or pixel data with D/CX high. */
  private async command(cmd: number, params?: ArrayLike<number>): Promise<void> {
    await this.setDc(0);
    await this.send(Buffer.of(cmd));
    if (!params || params.length === 0) return;
    await this.setDc(1);
    const buf = Buffer.isBuffer(params) ? params : Buffer.from(Array.from(params));
    for (let at = 0; at < buf.length; at += SPI_MAX_TRANSFER) await this.send(buf.subarray(at, at + SPI_MAX_TRANSFER));
  }

  private async setDc(level: 0 | 1): Promise<void> {
    if (!this.dc) throw new Error('the data/command line is not open');
    if (this.dcLevel === level) return;
    this.dcLevel = undefined;
    await this.dc.write(level);
    this.dcLevel = level;
  }

  private async send(data: Buffer): Promise<void> {
    if (!this.spi) throw new Error('the SPI device is not open');
    await this.spi.transfer(data);
  }
}
