/**
 * The kernel V4L2 rig: boots Debian's kernel under qemu (TCG) with the vivid
 * driver and runs a script in a chroot of this machine's root (image/vm).
 * Used by test/vm/*.test.ts; everything it downloads is cached in .cache/vm.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const REPO = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const run = promisify(execFile);

function onPath(tool: string): boolean {
  return (process.env.PATH ?? '/usr/bin:/bin').split(':').some((d) => existsSync(join(d, tool)));
}

/** What the rig needs that this machine lacks, in words; empty when it can run. */
export function rigMissing(): string[] {
  const missing: string[] = [];
  const tools: Array<[string, string]> = [
    ['qemu-system-x86_64', 'qemu-system-x86'],
    ['apt-get', 'apt'],
    ['dpkg-deb', 'dpkg'],
    ['depmod', 'kmod'],
    ['xz', 'xz-utils'],
    ['cpio', 'cpio'],
    ['busybox', 'busybox-static'],
    ['v4l2-ctl', 'v4l-utils'],
  ];
  for (const [tool, pkg] of tools) if (!onPath(tool)) missing.push(`${tool} (Debian package ${pkg})`);
  if (!existsSync(join(REPO, 'native/build/Release/fieldcast.node'))) missing.push('the native addon (npm run build:native)');
  if (!existsSync(join(REPO, 'dist/media/v4l2.js'))) missing.push('the built TypeScript (npm run build:ts)');
  return missing;
}

export interface VmImage {
  vmlinux: string;
  initrd: string;
}

/** Runs image/vm/prepare.sh (downloads the kernel once). Resolves the image, or what went wrong. */
export async function prepareVm(): Promise<VmImage | { problem: string }> {
  try {
    const { stdout } = await run('bash', [join(REPO, 'image/vm/prepare.sh')], { timeout: 300_000 });
    const dir = stdout.trim().split('\n').pop() ?? '';
    const image = { vmlinux: join(dir, 'vmlinux'), initrd: join(dir, 'initrd.cpio.gz') };
    if (!existsSync(image.vmlinux) || !existsSync(image.initrd)) return { problem: `prepare.sh gave no image in ${dir}` };
    return image;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    return { problem: (e.stderr || e.message).trim().split('\n').slice(-3).join(' ') };
  }
}

export interface VmRun {
  /** The guest script's exit code; null when it never finished (timeout, boot failure). */
  exitCode: number | null;
  /** The guest script's stdout+stderr. */
  log: string;
  /** The VM's serial console (kernel and init messages). */
  console: string;
  /** Files the script wrote into its working folder, by name (read before cleanup). */
  files: Record<string, string>;
  /** The same for files asked for as bytes (a recorded TS). */
  binaries: Record<string, Buffer>;
  timedOut: boolean;
}

/**
 * Boots the VM and runs `script` (sh) in the host root's chroot, in a fresh
 * writable folder that is also its working directory. Kills qemu after timeoutMs.
 */
export async function runInVm(
  image: VmImage,
  script: string,
  opts: { timeoutMs: number; collect: string[]; collectBinary?: string[] },
): Promise<VmRun> {
  const out = mkdtempSync(join(tmpdir(), 'fieldcast-vm-'));
  try {
    writeFileSync(join(out, 'run.sh'), script);
    const args = [
      ...['-accel', 'tcg', '-cpu', 'max', '-m', '1024', '-smp', '2', '-nographic', '-no-reboot'],
      ...['-kernel', image.vmlinux, '-initrd', image.initrd],
      ...['-append', `console=ttyS0 panic=-1 quiet fc.out=${out}`],
      ...['-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap'],
      ...['-virtfs', `local,path=${out},mount_tag=results,security_model=none`],
    ];
    const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let consoleText = '';
    qemu.stdout.on('data', (d: Buffer) => {
      consoleText += d.toString();
    });
    qemu.stderr.on('data', (d: Buffer) => {
      consoleText += d.toString();
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      qemu.kill('SIGKILL');
    }, opts.timeoutMs);
    await new Promise<void>((resolve) => {
      qemu.on('close', () => resolve());
      qemu.on('error', () => resolve());
    });
    clearTimeout(timer);
    const read = (name: string): string => (existsSync(join(out, name)) ? readFileSync(join(out, name), 'utf8') : '');
    const code = read('exit-code').trim();
    const files: Record<string, string> = {};
    for (const name of opts.collect) files[name] = read(name);
    const binaries: Record<string, Buffer> = {};
    for (const name of opts.collectBinary ?? []) if (existsSync(join(out, name))) binaries[name] = readFileSync(join(out, name));
    return { exitCode: code === '' ? null : Number(code), log: read('guest.log'), console: consoleText, files, binaries, timedOut };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
