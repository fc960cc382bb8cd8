/**
 * The panel's buttons and LEDs against a FAKE in-memory GPIO backend and a
 * fake clock (fake-gpio.ts), and the pin resolver against a fake sysfs tree.
 * The real kernel GPIO is exercised by test/vm/panel.test.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Button, type ButtonPress } from '../../../src/panel/buttons.js';
import { PanelControls } from '../../../src/panel/controls.js';
import { PanelGpioError } from '../../../src/panel/errors.js';
import { GpioPin, resolveGpioPin } from '../../../src/panel/gpio-pins.js';
import { Led, type LedPattern } from '../../../src/panel/leds.js';
import { FakeClock, FakeGpioBackend } from './fake-gpio.js';

function rig(opts: { debounceMs?: number; longPressMs?: number } = {}) {
  const clock = new FakeClock();
  const gpio = new FakeGpioBackend(clock);
  const button = new Button(gpio.input(7, { activeLow: true, edge: 'both' }), { clock, ...opts });
  const presses: ButtonPress[] = [];
  const log: string[] = [];
  button.on('short', (p) => {
    presses.push(p);
    log.push(`short@${clock.now()}`);
  });
  button.on('long', (p) => {
    presses.push(p);
    log.push(`long@${clock.now()}`);
  });
  /** Presses for `ms` with contact bounce on both edges (pulses inside 30 ms). */
  const press = (ms: number, bounce = true): void => {
    gpio.set(7, 1);
    if (bounce) {
      for (const dt of [2, 3, 4, 5]) {
        clock.advance(dt);
        gpio.set(7, gpio.value(7) === 1 ? 0 : 1);
      }
      gpio.set(7, 1);
      clock.advance(ms - 14);
    } else clock.advance(ms);
    gpio.set(7, 0);
    if (bounce) {
      for (const dt of [3, 2, 6]) {
        clock.advance(dt);
        gpio.set(7, gpio.value(7) === 1 ? 0 : 1);
      }
      gpio.set(7, 0);
    }
  };
  return { clock, gpio, button, presses, log, press };
}

describe('panel buttons', () => {
  it('takes contact bounce within 30 ms as one press, reported when let go', () => {
    const r = rig();
    r.press(200);
    expect(r.presses).toEqual([]); // the release is still settling
    r.clock.advance(30);
    expect(r.presses).toEqual([{ button: 'main', kind: 'short', heldMs: 200 }]);
    r.clock.advance(5000);
    expect(r.presses).toHaveLength(1);
  });

  it('ignores a glitch shorter than the debounce time', () => {
    const r = rig();
    r.gpio.set(7, 1);
    r.clock.advance(10);
    r.gpio.set(7, 0);
    r.clock.advance(2000);
    expect(r.presses).toEqual([]);
    expect(r.button.pressed).toBe(false);
  });

  it('a press let go just before the threshold is short; held to the threshold it is long', () => {
    const a = rig();
    a.press(1499, false);
    a.clock.advance(100);
    expect(a.presses).toEqual([{ button: 'main', kind: 'short', heldMs: 1499 }]);

    const b = rig();
    b.press(1500, false);
    b.clock.advance(100);
    expect(b.presses).toEqual([{ button: 'main', kind: 'long', heldMs: 1500 }]);
  });

  it('fires the long press while the button is still held, and nothing when it is let go', () => {
    const r = rig();
    r.gpio.set(7, 1);
    r.clock.advance(1499);
    expect(r.log).toEqual([]);
    r.clock.advance(1);
    expect(r.log).toEqual(['long@1500']);
    expect(r.button.pressed).toBe(true);
    r.clock.advance(3000);
    r.gpio.set(7, 0);
    r.clock.advance(100);
    expect(r.log).toEqual(['long@1500']);
  });

  it('a release that starts bouncing just before the threshold is a short press, not a long one', () => {
    const r = rig();
    r.gpio.set(7, 1);
    r.clock.advance(1490);
    r.gpio.set(7, 0); // let go at 1490, bouncing past 1500
    r.clock.advance(8);
    r.gpio.set(7, 1);
    r.clock.advance(8);
    r.gpio.set(7, 0);
    r.clock.advance(100);
    expect(r.log).toEqual(['short@1536']); // 1490 + two 8 ms bounces + 30 ms settled
    expect(r.presses[0]?.heldMs).toBe(1490);
  });

  it('a bounce while held across the threshold still gives the long press, once', () => {
    const r = rig();
    r.gpio.set(7, 1);
    r.clock.advance(1495);
    r.gpio.set(7, 0); // a contact glitch, not a release
    r.clock.advance(3);
    r.gpio.set(7, 1);
    r.clock.advance(200);
    expect(r.log).toEqual(['long@1528']);
    r.gpio.set(7, 0);
    r.clock.advance(100);
    expect(r.log).toEqual(['long@1528']);
  });

  it('ignores a button already held when watching begins until it is let go', () => {
    const clock = new FakeClock();
    const gpio = new FakeGpioBackend(clock);
    const input = gpio.input(3, { activeLow: true, edge: 'both' });
    gpio.set(3, 1);
    const b = new Button(input, { clock, name: 'second' });
    const got: string[] = [];
    b.on('short', (p) => got.push(`${p.button}:${p.kind}`));
    b.on('long', (p) => got.push(`${p.button}:${p.kind}`));
    clock.advance(3000);
    gpio.set(3, 0);
    clock.advance(100);
    expect(got).toEqual([]);
    gpio.set(3, 1);
    clock.advance(300);
    gpio.set(3, 0);
    clock.advance(100);
    expect(got).toEqual(['second:short']);
  });

  it('close() stops its timers and gives the line back, twice without harm', () => {
    const r = rig();
    r.gpio.set(7, 1);
    r.clock.advance(100);
    r.button.close();
    r.button.close();
    expect(r.clock.pending).toBe(0);
    expect(r.gpio.lines.get(7)?.open).toBe(false);
    r.clock.advance(3000);
    expect(r.presses).toEqual([]);
  });

  it('refuses a long-press threshold at or under the debounce time', () => {
    const clock = new FakeClock();
    const gpio = new FakeGpioBackend(clock);
    expect(() => new Button(gpio.input(1, { activeLow: false, edge: 'both' }), { clock, debounceMs: 50, longPressMs: 50 })).toThrow(
      RangeError,
    );
  });
});

describe('panel LEDs', () => {
  const ledRig = () => {
    const clock = new FakeClock();
    const gpio = new FakeGpioBackend(clock);
    const led = new Led(gpio.output(20), { name: 'tally', clock });
    /** The level at each ms boundary from now for `ms`, as runs of [level, duration]. */
    const runs = (ms: number): Array<[number, number]> => {
      const out: Array<[number, number]> = [];
      for (let t = 0; t < ms; t++) {
        const v = gpio.value(20) ?? -1;
        const last = out.at(-1);
        if (last && last[0] === v) last[1]++;
        else out.push([v, 1]);
        clock.advance(1);
      }
      return out;
    };
    return { clock, gpio, led, runs };
  };

  it('starts off; on and off are steady', () => {
    const r = ledRig();
    expect(r.gpio.value(20)).toBe(0);
    r.led.setPattern('on');
    expect(r.runs(5000)).toEqual([[1, 5000]]);
    r.led.setPattern('off');
    expect(r.runs(5000)).toEqual([[0, 5000]]);
    expect(r.clock.pending).toBe(0);
  });

  const cases: Array<[LedPattern, number, Array<[number, number]>]> = [
    [
      'blink-slow',
      2000,
      [
        [1, 500],
        [0, 500],
        [1, 500],
        [0, 500],
      ],
    ],
    [
      'blink-fast',
      500,
      [
        [1, 125],
        [0, 125],
        [1, 125],
        [0, 125],
      ],
    ],
    [
      'double-flash',
      4000,
      [
        [1, 100],
        [0, 150],
        [1, 100],
        [0, 1650],
        [1, 100],
        [0, 150],
        [1, 100],
        [0, 1650],
      ],
    ],
  ];
  for (const [pattern, ms, expected] of cases) {
    it(`${pattern}: on and off for the pattern's times`, () => {
      const r = ledRig();
      r.led.setPattern(pattern);
      expect(r.led.pattern).toBe(pattern);
      expect(r.runs(ms)).toEqual(expected);
    });
  }

  it('a new pattern shows at once; the same one again keeps its rhythm', () => {
    const r = ledRig();
    r.led.setPattern('blink-slow');
    r.clock.advance(700); // in the off half
    expect(r.gpio.value(20)).toBe(0);
    r.led.setPattern('blink-slow');
    expect(r.runs(300)).toEqual([[0, 300]]);
    r.led.setPattern('on');
    expect(r.gpio.value(20)).toBe(1);
    r.led.setPattern('blink-fast');
    expect(r.runs(250)).toEqual([
      [1, 125],
      [0, 125],
    ]);
  });

  it('a late timer shortens one step and keeps the rhythm', () => {
    const r = ledRig();
    r.led.setPattern('blink-slow');
    // The event loop is stuck for 1.2 s: the overdue timer runs at 1200, in the "on" half of the 2nd second.
    r.clock.stall(1200);
    expect(r.gpio.value(20)).toBe(1);
    r.clock.advance(299);
    expect(r.gpio.value(20)).toBe(1);
    r.clock.advance(1); // 1500: off
    expect(r.gpio.value(20)).toBe(0);
  });

  it('close() turns it off, stops, and gives the line back; twice without harm', () => {
    const r = ledRig();
    r.led.setPattern('on');
    r.led.close();
    r.led.close();
    expect(r.gpio.value(20)).toBe(0);
    expect(r.gpio.lines.get(20)?.open).toBe(false);
    expect(r.clock.pending).toBe(0);
    r.led.setPattern('blink-fast');
    expect(r.clock.pending).toBe(0);
  });

  it('an LED that cannot be written is logged, not thrown', () => {
    const clock = new FakeClock();
    const out = {
      write: () => {
        throw new Error('EIO');
      },
      read: () => 0 as const,
      close: () => {},
    };
    const led = new Led(out, { clock });
    expect(() => led.setPattern('blink-fast')).not.toThrow();
    expect(() => clock.advance(1000)).not.toThrow();
    led.close();
  });
});

describe('GPIO pins', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'fieldcast-sysfs-'));
    const chip = (base: number, label: string, ngpio: number): void => {
      const d = join(root, 'class/gpio', `gpiochip${base}`);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'label'), `${label}\n`);
      writeFileSync(join(d, 'base'), `${base}\n`);
      writeFileSync(join(d, 'ngpio'), `${ngpio}\n`);
    };
    chip(512, 'pinctrl-bcm2711', 58);
    chip(570, 'raspberrypi-exp-gpio', 8);
    writeFileSync(join(root, 'class/gpio/export'), '');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('resolves a chip label and line to the global number', () => {
    expect(resolveGpioPin({ chip: 'pinctrl-bcm2711', line: 17 }, root)).toEqual({
      global: 529,
      chip: 'pinctrl-bcm2711',
      line: 17,
      activeLow: false,
    });
    expect(resolveGpioPin({ chip: 'raspberrypi-exp-gpio', line: 2, activeLow: true }, root).global).toBe(572);
  });

  it('names the missing chip and the labels there are', () => {
    let err: unknown;
    try {
      resolveGpioPin({ chip: 'gpio-mockup-A', line: 0 }, root);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PanelGpioError);
    const e = err as PanelGpioError;
    expect(e.code).toBe('PANEL_GPIO_UNAVAILABLE');
    expect(e.message).toContain('no GPIO chip is labelled "gpio-mockup-A"');
    expect(e.message).toContain('"pinctrl-bcm2711", "raspberrypi-exp-gpio"');
    expect(e.message).toMatch(/board profile/);
    expect(e.details['labels']).toEqual(['pinctrl-bcm2711', 'raspberrypi-exp-gpio']);
  });

  it("refuses a line past the chip's last one, and a machine without GPIO sysfs", () => {
    expect(() => resolveGpioPin({ chip: 'raspberrypi-exp-gpio', line: 8 }, root)).toThrow(/has 8 lines \(0 to 7\)/);
    expect(() => resolveGpioPin({ chip: 'x', line: 0 }, join(root, 'nowhere'))).toThrow(/CONFIG_GPIO_SYSFS/);
  });

  it('the schema takes a chip label, a line and activeLow, and nothing else', () => {
    expect(GpioPin.parse({ chip: 'gpio-mockup-A', line: 3, activeLow: true })).toEqual({ chip: 'gpio-mockup-A', line: 3, activeLow: true });
    expect(GpioPin.safeParse({ chip: 'gpio-mockup-A', line: -1 }).success).toBe(false);
    expect(GpioPin.safeParse({ chip: '', line: 1 }).success).toBe(false);
    expect(GpioPin.safeParse({ chip: 'a', line: 1, pin: 4 }).success).toBe(false);
  });

  it('the panel opens its lines from pins, reports presses of both buttons, and names a pin that cannot be opened', () => {
    const clock = new FakeClock();
    const gpio = new FakeGpioBackend(clock);
    const pins = {
      button: { chip: 'pinctrl-bcm2711', line: 5, activeLow: true },
      button2: { chip: 'pinctrl-bcm2711', line: 6, activeLow: true },
      tally: { chip: 'pinctrl-bcm2711', line: 20 },
      error: { chip: 'raspberrypi-exp-gpio', line: 1 },
    };
    const panel = new PanelControls({ pins, backend: gpio, sysfsRoot: root, clock });
    const got: string[] = [];
    panel.on('short', (p) => got.push(`${p.button}:short`));
    panel.on('long', (p) => got.push(`${p.button}:long`));
    expect(gpio.lines.get(517)).toMatchObject({ direction: 'in', activeLow: true, edge: 'both' });
    gpio.set(518, 1);
    clock.advance(200);
    gpio.set(518, 0);
    clock.advance(50);
    gpio.set(517, 1);
    clock.advance(2000);
    gpio.set(517, 0);
    clock.advance(50);
    expect(got).toEqual(['second:short', 'main:long']);
    panel.setTally('on');
    panel.setError('double-flash');
    expect(gpio.value(532)).toBe(1);
    expect(gpio.value(571)).toBe(1);
    panel.close();
    panel.close();
    expect(gpio.value(532)).toBe(0);
    expect(gpio.value(571)).toBe(0);
    expect([...gpio.lines.values()].every((l) => !l.open)).toBe(true);

    const gpio2 = new FakeGpioBackend(clock);
    expect(
      () => new PanelControls({ pins: { ...pins, error: { chip: 'nope', line: 1 } }, backend: gpio2, sysfsRoot: root, clock }),
    ).toThrow(/The panel's error \(nope line 1\): .*no GPIO chip is labelled "nope"/);
    // Lines opened before the failing one are given back.
    expect(gpio2.lines.size).toBe(3);
    expect([...gpio2.lines.values()].every((l) => !l.open)).toBe(true);
  });
});
