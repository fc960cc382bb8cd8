// Runs inside the VM (test/vm/panel.test.ts) with the host's node: the
// panel's buttons and LEDs through the real onoff backend and the kernel's
// sysfs GPIO of gpio-mockup (driven through its debugfs files), an I2C
// write and read on i2c-stub through i2c-bus, and the SSD1306 driver's
// transfers as they land on i2c-stub. Writes result.json into the
// current folder (the writable 9p share).
//   node panel-gpio.mjs <repo> <folder of panel-modules.sh>
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const [repo, modules] = process.argv.slice(2);
const started = Date.now();
const result = { ms: {}, bootToScriptS: Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]), modules: [] };
const mark = (name) => {
  result.ms[name] = Date.now() - started;
};
const read = (path) => readFileSync(path, 'utf8').trim();

const BUTTON = 1; // active low: pulled down is pressed
const TALLY = 4;
const ERROR = 5;

try {
  const params = { 'i2c-stub.ko': ['chip_addr=0x3c'], 'gpio-mockup.ko': ['gpio_mockup_ranges=-1,8'] };
  for (const m of read(join(modules, 'modules')).split('\n')) {
    execFileSync('insmod', [join(modules, m), ...(params[m] ?? [])]);
    result.modules.push(m);
  }
  execFileSync('mount', ['-t', 'debugfs', 'debugfs', '/sys/kernel/debug']);
  mark('modules');

  // The chip, as the resolver will find it; its debugfs folder (the only gpio-mockup chip).
  const chips = readdirSync('/sys/class/gpio').filter((n) => n.startsWith('gpiochip'));
  result.chips = chips.map((n) => ({ label: read(`/sys/class/gpio/${n}/label`), base: Number(read(`/sys/class/gpio/${n}/base`)) }));
  const chip = result.chips.find((c) => c.label === 'gpio-mockup-A');
  if (!chip) throw new Error(`no gpio-mockup-A chip: ${JSON.stringify(result.chips)}`);
  const debugDirs = readdirSync('/sys/kernel/debug/gpio-mockup');
  if (debugDirs.length !== 1) throw new Error(`gpio-mockup debugfs has ${debugDirs.join(', ')}`);
  const pullFile = (line) => `/sys/kernel/debug/gpio-mockup/${debugDirs[0]}/${line}`;
  const pull = (line, v) => writeFileSync(pullFile(line), String(v));
  const sysValue = (line) => Number(read(`/sys/class/gpio/gpio${chip.base + line}/value`));
  pull(BUTTON, 1); // released

  const { PanelControls } = await import(`${repo}/dist/panel/controls.js`);
  const panel = new PanelControls({
    pins: {
      button: { chip: 'gpio-mockup-A', line: BUTTON, activeLow: true },
      tally: { chip: 'gpio-mockup-A', line: TALLY },
      error: { chip: 'gpio-mockup-A', line: ERROR },
    },
  });
  result.exported = readdirSync('/sys/class/gpio').filter((n) => /^gpio\d+$/.test(n));
  let pressedAt = 0;
  let released = true;
  const events = [];
  const record = (kind) => (p) => events.push({ kind, heldMs: p.heldMs, sincePressMs: Date.now() - pressedAt, whileHeld: !released });
  panel.on('short', record('short'));
  panel.on('long', record('long'));
  await sleep(100);

  // A short press with contact bounce on both edges.
  const bounce = async (to) => {
    const other = to === 0 ? 1 : 0;
    for (const v of [to, other, to, other, to]) {
      pull(BUTTON, v);
      await sleep(2);
    }
  };
  pressedAt = Date.now();
  released = false;
  await bounce(0);
  await sleep(200);
  released = true;
  await bounce(1);
  await sleep(400);
  result.short = events.splice(0);
  mark('short');

  // A long press: held 2.5 s.
  pressedAt = Date.now();
  released = false;
  pull(BUTTON, 0);
  await sleep(2500);
  released = true;
  pull(BUTTON, 1);
  await sleep(500);
  result.long = events.splice(0);
  mark('long');

  // The tally LED.
  panel.setTally('on');
  result.tallyOn = { sysfs: sysValue(TALLY), debugfs: Number(read(pullFile(TALLY))) };
  panel.setTally('off');
  result.tallyOff = { sysfs: sysValue(TALLY), debugfs: Number(read(pullFile(TALLY))) };
  panel.setTally('blink-slow');
  const samples = [];
  const until = Date.now() + 2500;
  while (Date.now() < until) {
    samples.push(sysValue(TALLY));
    await sleep(20);
  }
  result.blinkSlow = {
    samples: samples.length,
    transitions: samples.slice(1).filter((v, i) => v !== samples[i]).length,
    ones: samples.filter((v) => v === 1).length,
  };
  mark('leds');

  panel.setTally('on');
  panel.setError('blink-fast');
  panel.close();
  panel.close();
  result.afterClose = {
    tally: Number(read(pullFile(TALLY))),
    error: Number(read(pullFile(ERROR))),
    exported: readdirSync('/sys/class/gpio').filter((n) => /^gpio\d+$/.test(n)),
  };

  // A pin whose chip is not there: the error names it and the chips there are.
  try {
    new PanelControls({
      pins: {
        button: { chip: 'pinctrl-bcm2711', line: 17 },
        tally: { chip: 'gpio-mockup-A', line: TALLY },
        error: { chip: 'gpio-mockup-A', line: ERROR },
      },
    });
    result.missingChip = { thrown: false };
  } catch (err) {
    result.missingChip = { thrown: true, code: err.code, message: err.message };
  }
  mark('gpio');

  // i2c-stub through /dev/i2c-N and i2c-bus.
  const adapters = readdirSync('/sys/class/i2c-dev').map((n) => ({ n, name: read(`/sys/class/i2c-dev/${n}/name`) }));
  const stub = adapters.find((a) => a.name === 'SMBus stub driver');
  result.i2c = { adapters };
  if (stub) {
    const bus = Number(stub.n.replace('i2c-', ''));
    const i2c = createRequire(`${repo}/package.json`)('i2c-bus');
    const handle = i2c.openSync(bus);
    handle.writeByteSync(0x3c, 0x10, 0xa5);
    result.i2c = { ...result.i2c, bus, dev: existsSync(`/dev/i2c-${bus}`), readBack: handle.readByteSync(0x3c, 0x10) };
    handle.closeSync();
  }
  mark('i2c');

  // The SSD1306 driver through the kernel's SMBus stub: i2c-stub keeps each
  // I2C block write in its registers from the control byte on (0x00 commands,
  // 0x40 data), so the last command and data transfers can be read back.
  if (stub) {
    const bus = Number(stub.n.replace('i2c-', ''));
    const { openDisplay } = await import(`${repo}/dist/panel/drivers/index.js`);
    const i2c = createRequire(`${repo}/package.json`)('i2c-bus');
    const peek = (reg, n) => {
      const h = i2c.openSync(bus);
      const buf = Buffer.alloc(n);
      h.readI2cBlockSync(0x3c, reg, n, buf);
      h.closeSync();
      return [...buf];
    };
    const frame = (lit) => {
      const pixels = new Uint8Array(128 * 64);
      for (let y = 0; y < 64; y++) for (let x = 0; x < 128; x++) pixels[y * 128 + x] = lit(x, y) ? 1 : 0;
      return { kind: 'mono', width: 128, height: 64, pixels };
    };
    const states = [];
    const display = openDisplay({ kind: 'ssd1306', bus, address: 0x3c }, { onState: (st) => states.push(st) });
    display.show(frame((x, y) => (x + y) % 3 === 0));
    await display.idle();
    const whole = { commands: peek(0x00, 6), data: peek(0x40, 32) };
    display.show(frame((x, y) => (x + y) % 3 === 0 || (x === 5 && y === 11)));
    await display.idle();
    const partial = { commands: peek(0x00, 6), data: peek(0x40, 1) };
    await display.close();
    // Nothing answers at 0x3d: the driver says so in words, and does not throw.
    const absentStates = [];
    const absent = openDisplay({ kind: 'ssd1306', bus, address: 0x3d }, { onState: (st) => absentStates.push(st) });
    absent.show(frame(() => true));
    const until = Date.now() + 10_000;
    while (absentStates.length === 0 && Date.now() < until) await sleep(100);
    await absent.close();
    result.ssd1306 = { whole, partial, states, absent: absentStates };
  }
  mark('ssd1306');
} catch (err) {
  result.error = { name: err?.name, code: err?.code, message: err?.message, stack: err?.stack, stderr: err?.stderr?.toString() };
}
writeFileSync('result.json', JSON.stringify(result, null, 2));
