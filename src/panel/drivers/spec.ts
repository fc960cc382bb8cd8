/**
 * Which display a board has and how it is wired, as one zod schema (board
 * profiles in hardware/ embed it). The drivers take the parsed, defaulted
 * value; nothing downstream checks it again.
 */
import { z } from 'zod';
import { GpioPin } from '../gpio-pins.js';

const i2cBus = z.number().int().min(0).max(255).describe('I2C bus number (/dev/i2c-N)');
const i2cAddress = (fallback: number) =>
  z.number().int().min(0x03).max(0x77).default(fallback).describe('7-bit I2C address of the display');

export const Ssd1306Spec = z
  .object({
    kind: z.literal('ssd1306'),
    bus: i2cBus,
    address: i2cAddress(0x3c).describe('7-bit I2C address (0x3c, or 0x3d with SA0 high)'),
  })
  .describe('128x64 monochrome OLED, SSD1306 over I2C');

export const St7789Spec = z
  .object({
    kind: z.literal('st7789'),
    spiBus: z.number().int().min(0).max(15).describe('SPI bus (B of /dev/spidevB.D)'),
    spiDevice: z.number().int().min(0).max(15).describe('SPI chip select (D of /dev/spidevB.D)'),
    // The ST7789V's write cycle is 66 ns minimum (datasheet §7.4, 15 MHz nominal); modules run
    // reliably well above it on short wires, and 24 MHz keeps a full redraw near 40 ms.
    speedHz: z.number().int().min(1_000_000).max(80_000_000).default(24_000_000).describe('SPI clock in Hz'),
    spiMode: z
      .union([z.literal(0), z.literal(3)])
      .default(0)
      .describe('SPI mode: 0 for modules with a CS pin, 3 for the common 240x240 modules without one'),
    dc: GpioPin.describe('Data/command line (D/CX)'),
    reset: GpioPin.optional().describe('Reset line (RESX), if wired; otherwise a software reset is used'),
    backlight: GpioPin.optional().describe('Backlight enable line, if wired'),
    width: z.number().int().min(1).max(320).default(240).describe('Visible width in pixels'),
    height: z.number().int().min(1).max(320).default(240).describe('Visible height in pixels'),
    xOffset: z.number().int().min(0).max(319).default(0).describe('First visible column in the controller RAM'),
    yOffset: z.number().int().min(0).max(319).default(0).describe('First visible row in the controller RAM'),
    invert: z.boolean().default(true).describe('Send INVON: IPS modules show true colours only inverted'),
  })
  .describe('Colour TFT, ST7789 over SPI')
  .refine((s) => s.xOffset + s.width <= 320 && s.yOffset + s.height <= 320, {
    message: 'the visible area (offset + size) must fit the controller RAM of 240x320',
  });

export const Hd44780Spec = z
  .object({
    kind: z.literal('hd44780'),
    bus: i2cBus,
    address: i2cAddress(0x27).describe('7-bit I2C address of the PCF8574 backpack (0x27; 0x3f on PCF8574A)'),
    cols: z.number().int().min(8).max(40).default(16).describe('Characters per row'),
    rows: z
      .union([z.literal(1), z.literal(2), z.literal(4)])
      .default(2)
      .describe('Rows'),
  })
  .describe('Character LCD, HD44780 behind a PCF8574 I2C backpack')
  .refine((s) => s.cols * s.rows <= 80, { message: 'an HD44780 holds at most 80 characters' });

export const DisplaySpec = z.discriminatedUnion('kind', [Ssd1306Spec, St7789Spec, Hd44780Spec]).describe('The front-panel display');

export type Ssd1306Spec = z.infer<typeof Ssd1306Spec>;
export type St7789Spec = z.infer<typeof St7789Spec>;
export type Hd44780Spec = z.infer<typeof Hd44780Spec>;
export type DisplaySpec = z.infer<typeof DisplaySpec>;
/** What a board profile writes: defaults may be left out. */
export type DisplaySpecInput = z.input<typeof DisplaySpec>;
