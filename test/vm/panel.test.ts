/**
 * The panel's buttons and LEDs through the real onoff backend and the
 * kernel's sysfs GPIO, on gpio-mockup lines a test can drive, in the qemu VM
 * (image/vm); i2c-stub's bus written and read back through i2c-bus; and the
 * SSD1306 driver's SMBus block transfers as they land on i2c-stub. gpio-mockup is built out of tree for the VM's kernel by
 * image/vm/panel-modules.sh (Debian's kernel does not build it).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { missingTools, skipWithout } from '../peers.js';
import { prepareVm, REPO, rigMissing, runInVm, type VmImage } from './rig.js';

const run = promisify(execFile);

/** Runs image/vm/panel-modules.sh (builds gpio-mockup once). Resolves its folder, or what went wrong. */
async function preparePanelModules(): Promise<string | { problem: string }> {
  try {
    const { stdout } = await run('bash', [join(REPO, 'image/vm/panel-modules.sh')], { timeout: 300_000 });
    const dir = stdout.trim().split('\n').pop() ?? '';
    if (!existsSync(join(dir, 'gpio-mockup.ko'))) return { problem: `panel-modules.sh gave no gpio-mockup.ko in ${dir}` };
    return dir;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    return { problem: (e.stderr || e.message).trim().split('\n').slice(-3).join(' ') };
  }
}

const missing = rigMissing();
for (const tool of missingTools('gcc-12', 'make')) missing.push(`${tool} (Debian package build-essential)`);
if (!existsSync(join(REPO, 'dist/panel/controls.js'))) missing.push('the built panel code (npm run build:ts)');
if (!existsSync(join(REPO, 'node_modules/i2c-bus/build/Release/i2c.node'))) missing.push('the i2c-bus addon (npm ci)');
if (!existsSync(join(REPO, 'node_modules/epoll/build/Release/epoll.node'))) missing.push("onoff's epoll addon (npm ci)");
let image: VmImage | undefined;
let modules: string | undefined;
if (missing.length === 0) {
  const prepared = await prepareVm();
  if ('problem' in prepared) missing.push(`the VM kernel image (${prepared.problem}; Debian 12 with its archive reachable)`);
  else image = prepared;
  const built = await preparePanelModules();
  if (typeof built !== 'string') missing.push(`gpio-mockup.ko built for the VM kernel (image/vm/panel-modules.sh: ${built.problem})`);
  else modules = built;
}
const skip = skipWithout('the panel GPIO and I2C tests in the VM (test/vm/panel.test.ts)', missing);

interface Press {
  kind: 'short' | 'long';
  heldMs: number;
  sincePressMs: number;
  whileHeld: boolean;
}
interface GuestResult {
  ms: Record<string, number>;
  bootToScriptS: number;
  modules: string[];
  chips?: Array<{ label: string; base: number }>;
  exported?: string[];
  short?: Press[];
  long?: Press[];
  tallyOn?: { sysfs: number; debugfs: number };
  tallyOff?: { sysfs: number; debugfs: number };
  blinkSlow?: { samples: number; transitions: number; ones: number };
  afterClose?: { tally: number; error: number; exported: string[] };
  missingChip?: { thrown: boolean; code?: string; message?: string };
  i2c?: { adapters: Array<{ n: string; name: string }>; bus?: number; dev?: boolean; readBack?: number };
  ssd1306?: {
    whole: { commands: number[]; data: number[] };
    partial: { commands: number[]; data: number[] };
    states: Array<{ state: string; why?: string }>;
    absent: Array<{ state: string; why?: string }>;
  };
  error?: { code?: string; message?: string; stack?: string; stderr?: string };
}

describe.skipIf(skip)('panel buttons and LEDs on gpio-mockup, and i2c-stub (qemu)', () => {
  let result: GuestResult;

  it('boots the VM, loads gpio-mockup, i2c-stub and i2c-dev, and runs the panel script', { timeout: 110_000 }, async () => {
    if (!image || !modules) throw new Error('unreachable: no image');
    const t0 = performance.now();
    const vm = await runInVm(image, `exec node ${REPO}/test/vm/guest/panel-gpio.mjs ${REPO} ${modules}\n`, {
      timeoutMs: 90_000,
      collect: ['result.json'],
    });
    const json = vm.files['result.json'] ?? '';
    if (json === '')
      throw new Error(`no result from the guest (exit ${vm.exitCode}, timed out: ${vm.timedOut})\n${vm.log}\n${vm.console.slice(-2000)}`);
    result = JSON.parse(json) as GuestResult;
    console.info(
      `panel VM: ${((performance.now() - t0) / 1000).toFixed(1)} s in all, boot to script ${result.bootToScriptS} s; guest milestones (ms): ${JSON.stringify(result.ms)}; presses ${JSON.stringify({ short: result.short, long: result.long })}; blink-slow ${JSON.stringify(result.blinkSlow)}`,
    );
    expect(result.error, JSON.stringify(result.error)).toBeUndefined();
    expect(vm.exitCode).toBe(0);
    expect(result.modules).toEqual(['i2c-stub.ko', 'i2c-dev.ko', 'gpio-mockup.ko']);
    expect(result.chips?.map((c) => c.label)).toContain('gpio-mockup-A');
  });

  it('opens the button and LED lines through sysfs, at the chip base + line', () => {
    const base = result.chips?.find((c) => c.label === 'gpio-mockup-A')?.base ?? -1;
    expect(new Set(result.exported)).toEqual(new Set([1, 4, 5].map((l) => `gpio${base + l}`)));
  });

  it('a bouncing short press gives exactly one short press', () => {
    expect(result.short).toHaveLength(1);
    const p = result.short![0]!;
    expect(p.kind).toBe('short');
    expect(p.whileHeld).toBe(false);
    expect(p.heldMs).toBeGreaterThan(100);
    expect(p.heldMs).toBeLessThan(1500);
  });

  it('a held press gives a long press while still held, and no short press after', () => {
    expect(result.long?.map((p) => p.kind)).toEqual(['long']);
    const p = result.long![0]!;
    expect(p.whileHeld).toBe(true);
    expect(p.heldMs).toBe(1500);
    expect(p.sincePressMs).toBeGreaterThanOrEqual(1400);
  });

  it('the tally LED drives its line: on reads 1, off reads 0, blink-slow toggles', () => {
    expect(result.tallyOn).toEqual({ sysfs: 1, debugfs: 1 });
    expect(result.tallyOff).toEqual({ sysfs: 0, debugfs: 0 });
    // 1 Hz over ~2.5 s is about 5 changes; the emulated guest's timers are late, so loosely.
    expect(result.blinkSlow?.transitions).toBeGreaterThanOrEqual(2);
    expect(result.blinkSlow?.transitions).toBeLessThanOrEqual(10);
    expect(result.blinkSlow?.ones).toBeGreaterThan(0);
    expect(result.blinkSlow?.ones).toBeLessThan(result.blinkSlow?.samples ?? 0);
  });

  it('close() leaves the LEDs off and gives every line back', () => {
    expect(result.afterClose).toEqual({ tally: 0, error: 0, exported: [] });
  });

  it('a pin on a chip that is not there fails with PANEL_GPIO_UNAVAILABLE naming the chips there are', () => {
    expect(result.missingChip?.thrown).toBe(true);
    expect(result.missingChip?.code).toBe('PANEL_GPIO_UNAVAILABLE');
    expect(result.missingChip?.message).toContain('"pinctrl-bcm2711"');
    expect(result.missingChip?.message).toContain('"gpio-mockup-A"');
  });

  it('i2c-stub answers at 0x3c on its /dev/i2c-N: a byte written reads back', () => {
    expect(result.i2c?.adapters.map((a) => a.name)).toContain('SMBus stub driver');
    expect(result.i2c?.dev).toBe(true);
    expect(result.i2c?.readBack).toBe(0xa5);
  });

  it("the SSD1306 driver's transfers land on the kernel's SMBus stub: a whole frame, then only the changed column", () => {
    const d = result.ssd1306;
    expect(d, 'no SSD1306 result from the guest').toBeDefined();
    // The test frame: lit where (x + y) % 3 == 0. GDDRAM (SSD1306 datasheet §8.7): page p holds rows 8p..8p+7,
    // bit r the row 8p + r. The last 32-byte data transfer of a whole frame is page 7, columns 96-127.
    const lit = (x: number, y: number): boolean => (x + y) % 3 === 0;
    const column = (x: number, page: number, on: (x: number, y: number) => boolean): number => {
      let byte = 0;
      for (let r = 0; r < 8; r++) if (on(x, page * 8 + r)) byte |= 1 << r;
      return byte;
    };
    const lastChunk = Array.from({ length: 32 }, (_, i) => column(96 + i, 7, lit));
    expect(d!.whole.data).toEqual(lastChunk);
    // Its addressing: columns 0-127, pages 0-7 (0x21, 0x22; §10.1.4-5).
    expect(d!.whole.commands).toEqual([0x21, 0, 127, 0x22, 0, 7]);
    // One pixel more at (5, 11): only page 1, column 5 is addressed and written.
    expect(d!.partial.commands).toEqual([0x21, 5, 5, 0x22, 1, 1]);
    expect(d!.partial.data).toEqual([column(5, 1, (x, y) => lit(x, y) || (x === 5 && y === 11))]);
    expect(d!.states.filter((s) => s.state === 'gone')).toEqual([]);
  });

  it('an SSD1306 address where nothing answers is reported gone, in words, without throwing', () => {
    const gone = result.ssd1306?.absent[0];
    expect(gone?.state).toBe('gone');
    expect(gone?.why).toMatch(/0x3d/);
  });
});
