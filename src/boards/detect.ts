/**
 * Which board this is: the device tree's model and `compatible` list on ARM
 * boards, the DMI vendor and product on x86, and the CPU architecture; then
 * the profile that names it. An unknown board falls back to the generic
 * profile with a note saying so, never to a guess.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BoardProfileError } from './errors.js';
import { type BoardProfile, GENERIC_BOARD, loadBoardProfiles } from './profile.js';

export interface BoardIdentity {
  /** The device tree's model ("Raspberry Pi 4 Model B Rev 1.4"), on boards with one. */
  model?: string;
  /** The device tree's compatible strings, most specific first ("raspberrypi,4-model-b", "brcm,bcm2711"). */
  compatible: string[];
  /** DMI vendor and product, on x86 ("QEMU", "Standard PC (i440FX + PIIX, 1996)"). */
  dmi?: { vendor: string; product: string };
  /** Node's process.arch. */
  arch: string;
}

export interface BoardMatch {
  profile: BoardProfile;
  /** How it was chosen, in words: "device tree compatible rockchip,rk3588", "set in the config (panel.board)". */
  matchedBy: string;
  /** Said when the board is not one a profile names: which it is, and that the generic profile stands in. */
  note?: string;
}

async function text(path: string): Promise<string | undefined> {
  try {
    // Device-tree strings end with NUL; several are NUL-separated.
    return (await readFile(path, 'latin1')).replace(/\0+$/, '');
  } catch {
    return undefined;
  }
}

/** Reads the board's identity; `root` is the file system root (a test's fake tree). */
export async function readBoardIdentity(root = '/', arch: string = process.arch): Promise<BoardIdentity> {
  const dt = join(root, 'proc/device-tree');
  const [model, compatible, vendor, product] = await Promise.all([
    text(join(dt, 'model')),
    text(join(dt, 'compatible')),
    text(join(root, 'sys/class/dmi/id/sys_vendor')),
    text(join(root, 'sys/class/dmi/id/product_name')),
  ]);
  const id: BoardIdentity = { compatible: compatible ? compatible.split('\0').filter(Boolean) : [], arch };
  if (model) id.model = model.trim();
  if (vendor !== undefined || product !== undefined) id.dmi = { vendor: (vendor ?? '').trim(), product: (product ?? '').trim() };
  return id;
}

function describeIdentity(id: BoardIdentity): string {
  if (id.model) return `device tree model "${id.model}"${id.compatible[0] ? ` (${id.compatible[0]})` : ''}`;
  if (id.dmi && (id.dmi.vendor || id.dmi.product)) return `"${[id.dmi.vendor, id.dmi.product].filter(Boolean).join(' ')}" (${id.arch})`;
  return `an ${id.arch} machine with no device tree or DMI name`;
}

/**
 * The profile for this board: the one named (`wanted` other than "auto"), else
 * the first whose device-tree compatible string the board has, else the first
 * whose architecture it is (a board with a device tree matches no profile by
 * architecture alone: an unknown ARM board is not "a Pi"), else generic.
 */
export function matchBoard(profiles: readonly BoardProfile[], id: BoardIdentity, wanted = 'auto'): BoardMatch {
  if (wanted !== 'auto') {
    const p = profiles.find((x) => x.name === wanted);
    if (!p) {
      throw new BoardProfileError(`there is no board profile "${wanted}" (there are: ${profiles.map((x) => x.name).join(', ')})`, {
        name: wanted,
      });
    }
    return { profile: p, matchedBy: 'set in the config (panel.board)' };
  }
  for (const p of profiles) {
    const hit = p.match.compatible.find((c) => id.compatible.includes(c));
    if (hit) return { profile: p, matchedBy: `device tree compatible ${hit}` };
  }
  if (id.compatible.length === 0) {
    for (const p of profiles) {
      if (p.match.arch.includes(id.arch as never)) return { profile: p, matchedBy: `architecture ${id.arch}` };
    }
  }
  const generic = profiles.find((p) => p.name === GENERIC_BOARD);
  if (!generic) throw new BoardProfileError(`the "${GENERIC_BOARD}" board profile is missing`, {});
  return {
    profile: generic,
    matchedBy: 'fallback',
    note: `no board profile names this board (${describeIdentity(id)}): using the generic profile — no front panel pins, encoders tried in the generic order; add a file in hardware/boards for it`,
  };
}

/** This machine's board: the profiles in `dir`, its identity under `root`, matched (`wanted`: panel.board). */
export async function detectBoard(wanted = 'auto', o: { dir?: string; root?: string; arch?: string } = {}): Promise<BoardMatch> {
  const profiles = await loadBoardProfiles(o.dir);
  return matchBoard(profiles, await readBoardIdentity(o.root, o.arch), wanted);
}
