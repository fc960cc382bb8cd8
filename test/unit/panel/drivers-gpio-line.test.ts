import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GpioLineError, resolveGpioLine } from '../../../src/panel/drivers/index.js';

let root: string;

/** A /sys/class/gpio as a Raspberry Pi 4 on kernel 6.6 has it (bases moved to 512+). */
async function chip(name: string, label: string, base: number, ngpio: number): Promise<void> {
  const dir = join(root, 'class', 'gpio', name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'label'), `${label}\n`);
  await writeFile(join(dir, 'base'), `${base}\n`);
  await writeFile(join(dir, 'ngpio'), `${ngpio}\n`);
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'fieldcast-sysfs-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('resolving a GPIO line by chip label', () => {
  it('adds the line offset to the base of the chip with that label', async () => {
    await chip('gpiochip512', 'pinctrl-bcm2711', 512, 58);
    await chip('gpiochip570', 'raspberrypi-exp-gpio', 570, 8);
    await writeFile(join(root, 'class', 'gpio', 'export'), '');
    expect(await resolveGpioLine({ chip: 'pinctrl-bcm2711', line: 25 }, root)).toBe(537);
    expect(await resolveGpioLine({ chip: 'raspberrypi-exp-gpio', line: 2 }, root)).toBe(572);
  });

  it('names the labels it found when none matches', async () => {
    await chip('gpiochip0', 'pinctrl-bcm2835', 0, 54);
    const err = await resolveGpioLine({ chip: 'pinctrl-bcm2711', line: 25 }, root).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GpioLineError);
    expect((err as GpioLineError).code).toBe('PANEL_GPIO_LINE_NOT_FOUND');
    expect((err as Error).message).toBe('no GPIO chip labelled "pinctrl-bcm2711" on this machine (found: pinctrl-bcm2835)');
  });

  it('refuses a line beyond the chip', async () => {
    await chip('gpiochip512', 'pinctrl-bcm2711', 512, 58);
    await expect(resolveGpioLine({ chip: 'pinctrl-bcm2711', line: 58 }, root)).rejects.toThrow(/has 58 lines; there is no line 58/);
  });

  it('says so when the kernel has no sysfs GPIO interface', async () => {
    await expect(resolveGpioLine({ chip: 'pinctrl-bcm2711', line: 25 }, root)).rejects.toThrow(/no sysfs GPIO interface/);
  });
});
