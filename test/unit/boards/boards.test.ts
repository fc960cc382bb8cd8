/**
 * Board profiles: every file in hardware/boards loads; a board is recognised
 * from its device tree (or its architecture where it has none), an unknown one
 * falls back to generic with a note; what of a profile is present is read from
 * the file system (a fake tree here: /proc/device-tree, /sys/class/gpio,
 * /sys/class/thermal, /dev).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { boardCheckText, checkBoard, detectBoard, loadBoardProfiles, matchBoard, readBoardIdentity } from '../../../src/boards/index.js';
import { readHottestZone } from '../../../src/supervisor/health-sources.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'fieldcast-board-'));
  roots.push(root);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

const PI4 = {
  'proc/device-tree/model': 'Raspberry Pi 4 Model B Rev 1.4\0',
  'proc/device-tree/compatible': 'raspberrypi,4-model-b\0brcm,bcm2711\0',
};

describe('board profiles', () => {
  it('loads every profile in hardware/boards, generic among them', async () => {
    const names = (await loadBoardProfiles()).map((p) => p.name);
    expect(names).toEqual(['generic', 'rk3588', 'rpi4-tc358743']);
  });

  it('a profile that does not fit names the file and the key', async () => {
    const dir = tree({
      'generic.json': JSON.stringify({
        name: 'generic',
        description: 'x',
        capture: { drivers: ['uvcvideo'] },
        encoder: { codecs: ['libx264'] },
      }),
      'bad.json': JSON.stringify({ name: 'bad', description: 'x', capture: { drivers: [] }, encoder: { codecs: ['h265_magic'] } }),
    });
    await expect(loadBoardProfiles(dir)).rejects.toThrow(/bad\.json is not valid: capture\.drivers: .*encoder\.codecs\.0/);
  });

  it('recognises a Raspberry Pi 4 and an RK3588 by their device tree, an x86 machine by its architecture', async () => {
    const profiles = await loadBoardProfiles();
    const pi = matchBoard(profiles, await readBoardIdentity(tree(PI4), 'arm64'));
    expect(pi.profile.name).toBe('rpi4-tc358743');
    expect(pi.matchedBy).toBe('device tree compatible raspberrypi,4-model-b');
    // The TC358743 has no EDID of its own: the profile gives it one to load before capture.
    expect(pi.profile.capture).toMatchObject({ drivers: ['unicam'], input: 0, edid: 'hdmi' });
    const rk = matchBoard(
      profiles,
      await readBoardIdentity(tree({ 'proc/device-tree/compatible': 'radxa,rock-5b\0rockchip,rk3588\0' }), 'arm64'),
    );
    expect(rk.profile.name).toBe('rk3588');
    const pc = matchBoard(
      profiles,
      await readBoardIdentity(tree({ 'sys/class/dmi/id/sys_vendor': 'QEMU\n', 'sys/class/dmi/id/product_name': 'Standard PC\n' }), 'x64'),
    );
    expect(pc).toMatchObject({ matchedBy: 'architecture x64' });
    expect(pc.profile.name).toBe('generic');
    expect(pc.note).toBeUndefined();
  });

  it('an unknown board falls back to generic and says which board it saw', async () => {
    const id = await readBoardIdentity(
      tree({ 'proc/device-tree/model': 'Pine H64\0', 'proc/device-tree/compatible': 'pine64,pine-h64\0allwinner,sun50i-h6\0' }),
      'arm64',
    );
    const m = matchBoard(await loadBoardProfiles(), id);
    expect(m.profile.name).toBe('generic');
    expect(m.note).toMatch(
      /no board profile names this board \(device tree model "Pine H64" \(pine64,pine-h64\)\): using the generic profile/,
    );
  });

  it('panel.board names a profile; a name with no file is refused with the names there are', async () => {
    await expect(detectBoard('rk3588', { root: tree({}), arch: 'x64' })).resolves.toMatchObject({
      matchedBy: 'set in the config (panel.board)',
    });
    await expect(detectBoard('rpi5', { root: tree({}) })).rejects.toMatchObject({
      code: 'BOARD_PROFILE_INVALID',
      message: 'there is no board profile "rpi5" (there are: generic, rk3588, rpi4-tc358743)',
    });
  });

  it('says what of the Pi profile is there: capture, encoder, display bus, GPIO chip, thermal zone', async () => {
    const pi = (await loadBoardProfiles()).find((p) => p.name === 'rpi4-tc358743')!;
    const root = tree({
      'sys/class/gpio/gpiochip0/label': 'pinctrl-bcm2711\n',
      'sys/class/gpio/gpiochip0/base': '0\n',
      'sys/class/gpio/gpiochip0/ngpio': '58\n',
      'sys/class/gpio/gpiochip504/label': 'raspberrypi-exp-gpio\n',
      'sys/class/gpio/gpiochip504/base': '504\n',
      'sys/class/gpio/gpiochip504/ngpio': '8\n',
      'sys/class/thermal/thermal_zone0/type': 'cpu-thermal\n',
      'dev/spidev0.0': '',
    });
    const c = await checkBoard(pi, {
      root,
      capture: [{ path: '/dev/video0', driver: 'unicam' }],
      encoders: [
        { name: 'h264_v4l2m2m', opens: true },
        { name: 'libx264', opens: true },
      ],
    });
    expect(c.capture.found).toBe('/dev/video0');
    expect(c.encoder.use).toBe('h264_v4l2m2m');
    expect(c.display).toEqual({ kind: 'st7789', node: '/dev/spidev0.0', present: true });
    expect(c.pins.map((p) => [p.role, p.line, p.present])).toEqual([
      ['button', 21, true],
      ['button 2', 20, true],
      ['LED tally', 5, true],
      ['LED error', 6, true],
    ]);
    expect(c.thermal.found).toEqual(['cpu-thermal']);

    // The same profile on a machine without its parts: each gap named.
    const bare = await checkBoard(pi, {
      root: tree({}),
      capture: [{ path: '/dev/video0', driver: 'vivid' }],
      encoders: [{ name: 'libx264', opens: true }],
    });
    const text = boardCheckText(bare).join('\n');
    expect(text).toContain('no capture device with driver unicam');
    expect(text).toContain('encoder:  libx264 (of h264_v4l2m2m, libx264)');
    expect(text).toContain('st7789 at /dev/spidev0.0 — not there');
    expect(text).toContain('pinctrl-bcm2711 line 21 — that GPIO chip is not there');
  });

  it("the temperature is the hottest of the profile's zones when they are there, else of every zone", async () => {
    const root = tree({
      'class/thermal/thermal_zone0/type': 'cpu-thermal\n',
      'class/thermal/thermal_zone0/temp': '61000\n',
      'class/thermal/thermal_zone1/type': 'wifi\n',
      'class/thermal/thermal_zone1/temp': '75000\n',
    });
    expect((await readHottestZone(root, ['cpu-thermal'])).hottest).toMatchObject({ celsius: 61, type: 'cpu-thermal' });
    expect((await readHottestZone(root, ['soc-thermal'])).hottest).toMatchObject({ celsius: 75, type: 'wifi' });
    expect((await readHottestZone(root)).hottest).toMatchObject({ celsius: 75 });
  });
});
