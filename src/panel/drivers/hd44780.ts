/**
 * Character LCD, HD44780 in 4-bit mode behind a PCF8574 I2C backpack, wired
 * the common way: P0=RS, P1=RW, P2=E, P3=backlight, P4..P7=D4..D7.
 *
 * Every expander write is one SMBus "send byte" (works on i2c-stub and any
 * adapter). A nibble is two writes, E high then E low: the controller latches
 * on E's falling edge, and one I2C byte (≥ 50 µs at 400 kHz) is far longer
 * than the 450 ns enable pulse (datasheet table 6, PWEH) and than a command's
 * 37 µs execution time, so no busy-flag read is needed except after clear.
 * When RS changes, one write with E low sets it first (address set-up time
 * tAS ≥ 40 ns before E rises, figure 25), since the PCF8574 switches all its
 * outputs at once.
 */
import type { Frame } from '../frame.js';
import { DisplayDriver, type DisplayDriverOptions } from './display-driver.js';
import type { Hd44780Spec } from './spec.js';
import { type I2cByteBus, openI2cBus } from './transports.js';

/** PCF8574 port bits of the common backpack. */
export const PCF8574 = { RS: 0x01, RW: 0x02, E: 0x04, BACKLIGHT: 0x08 } as const;

/** Instructions (datasheet table 6). */
export const HD44780 = {
  CLEAR: 0x01,
  ENTRY_INCREMENT: 0x06, // entry mode set: I/D=1 (cursor moves right), S=0 (no shift)
  DISPLAY_OFF: 0x08, // display on/off control: D=0, C=0, B=0
  DISPLAY_ON: 0x0c, // D=1, cursor and blink off
  FUNCTION_4BIT_2LINE: 0x28, // function set: DL=0 (4-bit), N=1 (2 lines), F=0 (5x8)
  FUNCTION_4BIT_1LINE: 0x20, // N=0 for a one-row module
  SET_DDRAM: 0x80,
} as const;

/** Power-on: more than 40 ms after Vcc reaches 2.7 V before the first write (figure 24). */
const POWER_ON_MS = 50;
/** After the first 0x3 nibble: more than 4.1 ms (figure 24). */
const FIRST_NIBBLE_MS = 5;
/** After the second 0x3 nibble: more than 100 µs (figure 24); also used after the third and the 0x2. */
const NEXT_NIBBLE_MS = 1;
/** Clear display executes in 1.52 ms (table 6). */
const CLEAR_MS = 2;

/** Printable ASCII, as the A00 character ROM has it (0x5c shows ¥, 0x7e/0x7f arrows); anything else shows "?". */
function charCode(c: number): number {
  return c >= 0x20 && c <= 0x7f ? c : 0x3f;
}

/** DDRAM address of each row's first character: rows 0/1 at 0x00/0x40; rows 2/3 continue them (0x14/0x54 on a 20x4). */
export function rowAddresses(cols: number, rows: number): number[] {
  return [0x00, 0x40, cols, 0x40 + cols].slice(0, rows);
}

/** A text frame as character codes, row-major, rows*cols. */
interface CharFrame {
  kind: 'chars';
  codes: Uint8Array;
}

export interface Hd44780Options extends DisplayDriverOptions {
  /** Opens the I2C bus (i2c-bus's openPromisified by default). */
  openBus?: (bus: number) => Promise<I2cByteBus>;
}

export class Hd44780Display extends DisplayDriver<CharFrame> {
  readonly kind = 'hd44780' as const;
  protected readonly where: string;
  private readonly spec: Hd44780Spec;
  private readonly openBus: (bus: number) => Promise<I2cByteBus>;
  private readonly rowAddress: number[];
  private bus: I2cByteBus | undefined;
  private backlight: number = PCF8574.BACKLIGHT;
  /** RS as last written to the expander, undefined when unknown. */
  private rs: number | undefined;
  /** What is in DDRAM, or undefined when unknown (after init). */
  private glass: Uint8Array | undefined;

  constructor(spec: Hd44780Spec, options: Hd44780Options = {}) {
    super(options, 'panel.hd44780');
    this.spec = spec;
    this.openBus = options.openBus ?? openI2cBus;
    this.rowAddress = rowAddresses(spec.cols, spec.rows);
    this.where = `the display at I2C bus ${spec.bus} address 0x${spec.address.toString(16).padStart(2, '0')}`;
    this.start();
  }

  protected accept(frame: Frame): CharFrame | string {
    const { cols, rows } = this.spec;
    if (frame.kind !== 'text') return `an HD44780 shows text frames, not ${frame.kind}`;
    if (frame.cols !== cols || frame.rows !== rows || frame.lines.length !== rows) {
      return `this HD44780 shows ${cols}x${rows} characters, not ${frame.cols}x${frame.rows}`;
    }
    const codes = new Uint8Array(cols * rows).fill(0x20);
    frame.lines.forEach((line, r) => {
      // A line of the wrong length is padded or cut rather than dropped: the rest of the page still shows.
      for (let c = 0; c < Math.min(cols, line.length); c++) codes[r * cols + c] = charCode(line.charCodeAt(c));
    });
    return { kind: 'chars', codes };
  }

  protected async connect(): Promise<void> {
    this.glass = undefined;
    this.rs = undefined;
    this.backlight = PCF8574.BACKLIGHT;
    this.bus ??= await this.openBus(this.spec.bus);
    // Initialising by instruction, 4-bit interface (datasheet figure 24).
    await this.expander(this.backlight); // E and RS low (the PCF8574 powers up with every output high)
    this.rs = 0;
    await this.clock.wait(POWER_ON_MS);
    await this.nibble(0x3, 0);
    await this.clock.wait(FIRST_NIBBLE_MS);
    await this.nibble(0x3, 0);
    await this.clock.wait(NEXT_NIBBLE_MS);
    await this.nibble(0x3, 0);
    await this.clock.wait(NEXT_NIBBLE_MS);
    await this.nibble(0x2, 0); // 4-bit from here on
    await this.clock.wait(NEXT_NIBBLE_MS);
    await this.command(this.spec.rows === 1 ? HD44780.FUNCTION_4BIT_1LINE : HD44780.FUNCTION_4BIT_2LINE);
    await this.command(HD44780.DISPLAY_OFF);
    await this.command(HD44780.CLEAR);
    await this.clock.wait(CLEAR_MS);
    await this.command(HD44780.ENTRY_INCREMENT);
    await this.command(HD44780.DISPLAY_ON);
    // The clear leaves spaces everywhere: that is now what is on the glass.
    this.glass = new Uint8Array(this.spec.cols * this.spec.rows).fill(0x20);
  }

  protected async draw(frame: CharFrame): Promise<void> {
    const { cols, rows } = this.spec;
    const next = frame.codes;
    const glass = this.glass ?? new Uint8Array(cols * rows);
    this.glass = undefined; // unknown until this draw completes
    for (let r = 0; r < rows; r++) {
      let c = 0;
      while (c < cols) {
        const at = r * cols + c;
        if (next[at] === glass[at]) {
          c++;
          continue;
        }
        let end = c;
        while (end < cols && next[r * cols + end] !== glass[r * cols + end]) end++;
        await this.command(HD44780.SET_DDRAM | (this.rowAddress[r]! + c));
        for (let i = c; i < end; i++) await this.write(next[r * cols + i]!, PCF8574.RS);
        c = end;
      }
    }
    this.glass = next;
  }

  protected async switchOff(): Promise<void> {
    if (!this.bus) return;
    await this.command(HD44780.DISPLAY_OFF);
    this.backlight = 0;
    await this.expander(0);
  }

  protected async disconnect(): Promise<void> {
    const bus = this.bus;
    this.bus = undefined;
    this.glass = undefined;
    await bus?.close().catch(() => undefined);
  }

  private async command(byte: number): Promise<void> {
    await this.write(byte, 0);
  }

  /** One byte as two nibbles, high first (4-bit interface, figure 17). */
  private async write(byte: number, rs: number): Promise<void> {
    await this.nibble(byte >> 4, rs);
    await this.nibble(byte & 0x0f, rs);
  }

  private async nibble(nibble: number, rs: number): Promise<void> {
    const bits = ((nibble & 0x0f) << 4) | this.backlight | rs;
    if (this.rs !== rs) {
      await this.expander(this.backlight | rs);
      this.rs = rs;
    }
    await this.expander(bits | PCF8574.E);
    await this.expander(bits);
  }

  private async expander(byte: number): Promise<void> {
    if (!this.bus) throw new Error('the I2C bus is not open');
    await this.bus.sendByte(this.spec.address, byte);
  }
}
