/**
 * What of a board profile this machine actually has: its capture device, the
 * first of its encoders that opens, its display's bus, its GPIO chips and its
 * thermal zones. `fieldcast probe` prints it, so a missing overlay or a
 * wrong pin is seen before the show, not during it.
 */
import { access, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type DisplaySpec, type GpioPin, resolveGpioPin } from '../panel/index.js';
import type { BoardProfile } from './profile.js';

export interface BoardCheckInput {
  /** The capture devices found (path and V4L2 driver name). */
  capture: { path: string; driver: string }[];
  /** The H.264 encoders probed and whether each opened. */
  encoders: { name: string; opens: boolean }[];
  /** The file system root (a test's fake tree). */
  root?: string;
}

export interface BoardCheck {
  capture: { drivers: string[]; found?: string; note?: string };
  encoder: { codecs: string[]; use?: string; note?: string };
  display?: { kind: string; node: string; present: boolean };
  pins: { role: string; chip: string; line: number; present: boolean }[];
  thermal: { zones: string[]; found: string[] };
}

/** The device node a display's bus appears as. */
export function displayNode(spec: DisplaySpec): string {
  return spec.kind === 'st7789' ? `/dev/spidev${spec.spiBus}.${spec.spiDevice}` : `/dev/i2c-${spec.bus}`;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function listFiles(dir: string, pattern: RegExp, file: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const out = await Promise.all(
    names
      .filter((n) => pattern.test(n))
      .map((n) =>
        readFile(join(dir, n, file), 'latin1').then(
          (t) => t.trim(),
          () => undefined,
        ),
      ),
  );
  return out.filter((x): x is string => x !== undefined);
}

/** The pin is on this machine: the same resolution the buttons, LEDs and display lines open it by. */
function resolves(pin: GpioPin, sysfsRoot: string): boolean {
  try {
    resolveGpioPin(pin, sysfsRoot);
    return true;
  } catch {
    return false;
  }
}

export async function checkBoard(profile: BoardProfile, input: BoardCheckInput): Promise<BoardCheck> {
  const root = input.root ?? '/';
  const cap = profile.capture.drivers.map((d) => input.capture.find((c) => c.driver === d)).find((c) => c !== undefined);
  const capture: BoardCheck['capture'] = { drivers: profile.capture.drivers };
  if (cap) capture.found = `${cap.path}${profile.capture.input ? `:${profile.capture.input}` : ''}`;
  else
    capture.note = `no capture device with driver ${profile.capture.drivers.join(' or ')}${profile.capture.note ? ` (${profile.capture.note})` : ''}`;

  const use = profile.encoder.codecs.find((c) => input.encoders.some((e) => e.name === c && e.opens));
  const encoder: BoardCheck['encoder'] = { codecs: profile.encoder.codecs };
  if (use) encoder.use = use;
  else encoder.note = `none of ${profile.encoder.codecs.join(', ')} opens here`;

  const pins: BoardCheck['pins'] = [];
  const { controls, display } = profile.panel;
  for (const [role, pin] of [
    ['button', controls?.button],
    ['button 2', controls?.button2],
    ['LED tally', controls?.tally],
    ['LED error', controls?.error],
  ] as const) {
    if (pin) pins.push({ role, chip: pin.chip, line: pin.line, present: resolves(pin, join(root, 'sys')) });
  }

  const zoneTypes = await listFiles(join(root, 'sys/class/thermal'), /^thermal_zone\d+$/, 'type');
  const check: BoardCheck = {
    capture,
    encoder,
    pins,
    thermal: {
      zones: profile.thermal.zones,
      found: profile.thermal.zones.length ? profile.thermal.zones.filter((z) => zoneTypes.includes(z)) : zoneTypes,
    },
  };
  if (display) {
    const node = displayNode(display);
    check.display = { kind: display.kind, node, present: await exists(join(root, node)) };
  }
  return check;
}

/** The check as lines for `fieldcast probe`. */
export function boardCheckText(c: BoardCheck): string[] {
  const lines = [
    `  capture:  ${c.capture.found ? `${c.capture.found} (${c.capture.drivers.join('/')})` : c.capture.note}`,
    `  encoder:  ${c.encoder.use ? `${c.encoder.use} (of ${c.encoder.codecs.join(', ')})` : c.encoder.note}`,
  ];
  if (c.display)
    lines.push(
      `  display:  ${c.display.kind} at ${c.display.node}${c.display.present ? '' : ' — not there (enable its bus in the boot config)'}`,
    );
  else lines.push('  display:  none in this profile');
  for (const p of c.pins) lines.push(`  ${p.role.padEnd(11)} ${p.chip} line ${p.line}${p.present ? '' : ' — that GPIO chip is not there'}`);
  lines.push(
    `  thermal:  ${c.thermal.found.length ? c.thermal.found.join(', ') : 'no zone'}${c.thermal.zones.length && c.thermal.found.length < c.thermal.zones.length ? ` (profile names ${c.thermal.zones.join(', ')})` : ''}`,
  );
  return lines;
}
