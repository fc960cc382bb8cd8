/**
 * A GPIO line as board profiles and the config name it — a chip's label and
 * a line on it — and its resolution to the kernel's global GPIO number, the
 * one the sysfs interface (/sys/class/gpio, which onoff drives) speaks.
 *
 * Chip labels are stable across kernels and boots (`pinctrl-bcm2711`,
 * `gpio-mockup-A`); global numbers are not (a chip's base moves when another
 * GPIO driver loads first), so they are worked out at open time from
 * /sys/class/gpio/gpiochip<base>/{label,base,ngpio}.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { PanelGpioError } from './errors.js';

export const GpioPin = z
  .object({
    chip: z.string().min(1).describe('the GPIO chip\'s label, as in /sys/class/gpio/gpiochip*/label (e.g. "pinctrl-bcm2711")'),
    line: z.number().int().min(0).describe('the line on that chip (its offset, from 0)'),
    activeLow: z.boolean().optional().describe('true when the line reads/drives 0 for "pressed"/"lit" (a button to ground with a pull-up)'),
  })
  .strict();
export type GpioPin = z.infer<typeof GpioPin>;

/** A pin resolved on this machine. */
export interface ResolvedGpioPin {
  /** The kernel's global GPIO number (the chip's base + the line). */
  global: number;
  chip: string;
  line: number;
  activeLow: boolean;
}

interface ChipInfo {
  label: string;
  base: number;
  ngpio: number;
}

/** How a pin reads in a message: `gpio-mockup-A line 3`. */
export function describeGpioPin(pin: GpioPin): string {
  return `${pin.chip} line ${pin.line}${pin.activeLow ? ' (active low)' : ''}`;
}

function listChips(sysfsRoot: string): ChipInfo[] {
  const dir = join(sysfsRoot, 'class/gpio');
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.startsWith('gpiochip'));
  } catch (err) {
    throw new PanelGpioError(
      `There is no ${dir}: this kernel has no GPIO sysfs interface (CONFIG_GPIO_SYSFS), so no button or LED can be used.`,
      { dir },
      { cause: err },
    );
  }
  const chips: ChipInfo[] = [];
  for (const name of names) {
    try {
      const read = (f: string): string => readFileSync(join(dir, name, f), 'utf8').trim();
      chips.push({ label: read('label'), base: Number(read('base')), ngpio: Number(read('ngpio')) });
    } catch {
      // A chip going away while it is listed: not one a pin can name.
    }
  }
  return chips.sort((a, b) => a.base - b.base);
}

/**
 * The global number of `pin` on this machine. Throws PanelGpioError naming
 * the pin and the labels that do exist when its chip is not there, or when
 * the line is past the chip's last one.
 */
export function resolveGpioPin(pin: GpioPin, sysfsRoot = '/sys'): ResolvedGpioPin {
  const chips = listChips(sysfsRoot);
  const chip = chips.find((c) => c.label === pin.chip);
  if (!chip) {
    const labels = chips.map((c) => `"${c.label}"`).join(', ');
    throw new PanelGpioError(
      `GPIO ${describeGpioPin(pin)} cannot be used: no GPIO chip is labelled "${pin.chip}" ` +
        `(${labels === '' ? 'this machine has no GPIO chips' : `the chips here are ${labels}`}). ` +
        "Set the pin's chip to one of those labels in the board profile, or load the chip's driver.",
      { pin, labels: chips.map((c) => c.label) },
    );
  }
  if (pin.line >= chip.ngpio) {
    throw new PanelGpioError(
      `GPIO ${describeGpioPin(pin)} cannot be used: "${pin.chip}" has ${chip.ngpio} lines (0 to ${chip.ngpio - 1}). ` +
        'Check the line number in the board profile.',
      { pin, ngpio: chip.ngpio },
    );
  }
  return { global: chip.base + pin.line, chip: pin.chip, line: pin.line, activeLow: pin.activeLow ?? false };
}
