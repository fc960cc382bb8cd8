/**
 * The appliance image rig for test/image/*.test.ts: what building and
 * booting the image needs that this machine lacks (the tests skip loudly
 * naming it), and the rig itself (src/bench/image-rig.ts, shared with
 * `fieldcast bench boot`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { OVMF, REPO } from '../../src/bench/image-rig.js';

export {
  BootedImage,
  type BuiltImage,
  buildImage,
  CELLULAR_GUEST_ADDRESS,
  CELLULAR_NIC_MAC,
  diskWithConfig,
  freePort,
  GuestAgent,
  type GuestExecResult,
  IMAGE_DIR,
  OVMF,
  partitionOffset,
  readGrubEnv,
  setGrubEnv,
  VIVID_CMDLINE,
  vividStreamConfig,
} from '../../src/bench/image-rig.js';

function onPath(tool: string): boolean {
  return (process.env.PATH ?? '/usr/bin:/bin').split(':').some((d) => existsSync(join(d, tool)));
}

/** What building and booting the image needs that this machine lacks, in words. */
export function imageRigMissing(): string[] {
  const missing: string[] = [];
  const tools: Array<[string, string]> = [
    ['mmdebstrap', 'mmdebstrap'],
    ['mke2fs', 'e2fsprogs'],
    ['sfdisk', 'fdisk'],
    ['qemu-system-x86_64', 'qemu-system-x86'],
    ['xz', 'xz-utils'],
    ['grub-mkstandalone', 'grub-efi-amd64-bin'],
    ['grub-editenv', 'grub-common'],
    ['mcopy', 'mtools'],
    ['mkfs.vfat', 'dosfstools'],
    ['openssl', 'openssl'],
  ];
  for (const [tool, pkg] of tools) if (!onPath(tool)) missing.push(`${tool} (Debian package ${pkg})`);
  if (!existsSync(OVMF)) missing.push(`the UEFI firmware ${OVMF} (Debian package ovmf)`);
  if (!existsSync('/usr/lib/grub/x86_64-efi/linux.mod')) missing.push("GRUB's EFI modules (Debian package grub-efi-amd64-bin)");
  if (process.getuid?.() !== 0) missing.push('root (mmdebstrap in root mode, and the files of the root owned by their users)');
  if (!existsSync(join(REPO, 'native/build/Release/fieldcast.node'))) missing.push('the native addon (npm run build:native)');
  if (!existsSync(join(REPO, 'dist/cli/main.js'))) missing.push('the built TypeScript (npm run build:ts)');
  if (!existsSync(join(REPO, 'dist/web/index.html'))) missing.push('the built status page (npm run build:web)');
  return missing;
}
