/**
 * A GPIO line as a board profile names it — the chip's label and the line's
 * offset on it — turned into the global number the sysfs GPIO interface
 * (and onoff) uses. Global numbers move between kernels (the BCM2711's base
 * was 0 and is 512 since 6.6), labels and offsets do not.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { GpioLineError } from './errors.js';

export const GpioLine = z
  .object({
    chip: z
      .string()
      .min(1)
      .describe('Label of the GPIO chip, as in /sys/class/gpio/gpiochip*/label (pinctrl-bcm2711, pinctrl-rp1, gpio0 …)'),
    line: z.number().int().min(0).max(1023).describe('Offset of the line on that chip (BCM GPIO number on a Raspberry Pi)'),
  })
  .describe('A GPIO line: chip label and offset');
export type GpioLine = z.infer<typeof GpioLine>;

interface SysfsChip {
  label: string;
  base: number;
  ngpio: number;
}

async function readChips(gpioDir: string): Promise<SysfsChip[]> {
  let entries: string[];
  try {
    entries = await readdir(gpioDir);
  } catch (err) {
    throw new GpioLineError(`this kernel has no sysfs GPIO interface (${gpioDir})`, { gpioDir }, err);
  }
  const chips: SysfsChip[] = [];
  for (const name of entries.filter((e) => /^gpiochip\d+$/.test(e))) {
    try {
      const [label, base, ngpio] = await Promise.all(
        ['label', 'base', 'ngpio'].map((f) => readFile(join(gpioDir, name, f), 'utf8').then((s) => s.trim())),
      );
      chips.push({ label: label!, base: Number(base), ngpio: Number(ngpio) });
    } catch {
      // A chip whose attributes cannot be read is not one we can drive.
    }
  }
  return chips.sort((a, b) => a.base - b.base);
}

/** The sysfs global number of `line`; `sysfsRoot` is `/sys` on the box, a fake tree in tests. */
export async function resolveGpioLine(line: GpioLine, sysfsRoot = '/sys'): Promise<number> {
  const gpioDir = join(sysfsRoot, 'class', 'gpio');
  const chips = await readChips(gpioDir);
  const chip = chips.find((c) => c.label === line.chip);
  if (!chip) {
    const found = chips.map((c) => c.label).join(', ') || 'none';
    throw new GpioLineError(`no GPIO chip labelled "${line.chip}" on this machine (found: ${found})`, { chip: line.chip, found });
  }
  if (!Number.isInteger(chip.base) || !Number.isInteger(chip.ngpio) || line.line >= chip.ngpio) {
    throw new GpioLineError(`GPIO chip "${line.chip}" has ${chip.ngpio} lines; there is no line ${line.line}`, {
      chip: line.chip,
      line: line.line,
      ngpio: chip.ngpio,
    });
  }
  return chip.base + line.line;
}
