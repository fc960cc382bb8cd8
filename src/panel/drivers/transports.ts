/**
 * The buses and pins the display drivers write through, as the small
 * interfaces the drivers need (tests record them), and the real ones: i2c-bus
 * over /dev/i2c-N, spi-device over /dev/spidevB.D, onoff over the GPIO sysfs.
 * The native modules are loaded when a display is first opened, so a box
 * without them (a laptop running the demo) only sees the display gone.
 */
import { OnoffGpioBackend } from '../gpio-backend.js';
import { type GpioPin, resolveGpioPin } from '../gpio-pins.js';

/** SMBus "write I2C block": [address][command][data…], at most 32 data bytes. The SSD1306 driver's transport. */
export interface I2cBlockBus {
  writeI2cBlock(address: number, command: number, length: number, buffer: Buffer): Promise<unknown>;
  close(): Promise<void>;
}

/** SMBus "send byte": [address][byte]. The HD44780 (PCF8574 backpack) driver's transport. */
export interface I2cByteBus {
  sendByte(address: number, byte: number): Promise<void>;
  close(): Promise<void>;
}

/** What i2c-bus's promisified bus offers and both I2C drivers use. */
export type I2cBus = I2cBlockBus & I2cByteBus;

export type OpenI2cBus = (bus: number) => Promise<I2cBus>;

export const openI2cBus: OpenI2cBus = async (bus) => {
  const i2c = await import('i2c-bus');
  return i2c.default.openPromisified(bus);
};

/** One SPI transfer per call (chip select held for its length); the ST7789 driver keeps each ≤ 4096 bytes. */
export interface SpiBus {
  transfer(data: Buffer): Promise<void>;
  close(): Promise<void>;
}

export interface SpiBusOptions {
  mode: 0 | 1 | 2 | 3;
  maxSpeedHz: number;
}

export type OpenSpiBus = (bus: number, device: number, options: SpiBusOptions) => Promise<SpiBus>;

export const openSpiBus: OpenSpiBus = async (bus, device, options) => {
  const spi = (await import('spi-device')).default;
  const dev = await new Promise<import('spi-device').SpiDevice>((resolve, reject) => {
    const d = spi.open(bus, device, { mode: options.mode, maxSpeedHz: options.maxSpeedHz }, (err) => (err ? reject(err) : resolve(d)));
  });
  let closed = false;
  return {
    transfer: (data) =>
      new Promise<void>((resolve, reject) => {
        dev.transfer([{ sendBuffer: data, byteLength: data.length, speedHz: options.maxSpeedHz }], (err) =>
          err ? reject(err) : resolve(),
        );
      }),
    close: () => {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise<void>((resolve) => dev.close(() => resolve()));
    },
  };
};

/** A GPIO output (data/command, reset, backlight). */
export interface OutputPin {
  write(value: 0 | 1): Promise<void>;
  close(): Promise<void>;
}

/** Opens `line` as an output driven to `initial` from the start (a reset line must not glitch low). */
export type OpenOutputPin = (line: GpioPin, initial: 0 | 1) => Promise<OutputPin>;

export const openOutputPin: OpenOutputPin = async (line, initial) => {
  const out = new OnoffGpioBackend().output(resolveGpioPin(line).global, { activeLow: line.activeLow ?? false, initial });
  return {
    write: async (value) => out.write(value),
    close: async () => out.close(),
  };
};
