/**
 * The appliance image in qemu: builds the disk with image/build.sh (cached in
 * .cache/image), makes a copy with another config on its state partition,
 * and boots a disk under qemu (TCG), its serial console read as it comes and
 * its port 8080 forwarded to the host. Used by `fieldcast bench boot` and
 * test/image/*.test.ts (which checks first what the machine lacks).
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** The checkout (this file is src/bench/ or dist/bench/). */
export const REPO = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
export const IMAGE_DIR = join(REPO, '.cache/image');

export interface BuiltImage {
  disk: string;
  vmlinuz: string;
  initrd: string;
  /** image/build.sh's output: its phase times and the sizes. */
  log: string;
}

/** Whether the Debian archive answers (a failed build is told apart from an unreachable archive). */
async function archiveReachable(): Promise<boolean> {
  try {
    const res = await fetch('http://deb.debian.org/debian/dists/bookworm/InRelease', {
      method: 'HEAD',
      signal: AbortSignal.timeout(10_000),
    });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Runs image/build.sh (minutes cold, about a minute cached). Resolves the
 * image; `unreachable` when the Debian archive cannot be reached; `failed`
 * with the end of the build's output otherwise.
 */
export async function buildImage(timeoutMs: number): Promise<BuiltImage | { unreachable: string } | { failed: string }> {
  try {
    const { stdout, stderr } = await run('bash', [join(REPO, 'image/build.sh'), '--out', IMAGE_DIR], {
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
    });
    const disk = stdout.trim().split('\n').pop() ?? '';
    return {
      disk,
      vmlinuz: join(IMAGE_DIR, 'fieldcast-amd64.vmlinuz'),
      initrd: join(IMAGE_DIR, 'fieldcast-amd64.initrd'),
      log: stdout + stderr,
    };
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    const tail = `${e.stdout ?? ''}${e.stderr ?? e.message}`.trim().split('\n').slice(-8).join('\n');
    if (!(await archiveReachable())) return { unreachable: `the Debian archive (deb.debian.org) does not answer; build.sh: ${tail}` };
    return { failed: tail };
  }
}

/**
 * The uncompressed kernel inside the bzImage, like image/vm/prepare.sh: the
 * in-guest XZ decompressor is very slow under TCG. The payload starts at the
 * XZ magic FD 37 7A 58 5A 00; xz stops at the end of its stream (and says so
 * about what follows, which is ignored).
 */
export function extractVmlinux(vmlinuz: string): string {
  const out = vmlinuz.replace(/\.vmlinuz$/, '.vmlinux');
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(vmlinuz).mtimeMs) return out;
  const bz = readFileSync(vmlinuz);
  const at = bz.indexOf(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
  if (at < 0) throw new Error(`no XZ payload in ${vmlinuz}`);
  const xz = spawnSync('xz', ['-dc', '--single-stream'], { input: bz.subarray(at), maxBuffer: 512 * 1024 * 1024 });
  if (!xz.stdout || xz.stdout.length < 1024 * 1024) throw new Error(`could not extract vmlinux from ${vmlinuz}`);
  writeFileSync(out, xz.stdout);
  return out;
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A copy of the built disk whose state partition holds `config` as
 * /var/lib/fieldcast/config.json (owned by the fieldcast user, as the build
 * writes it), for a boot that must do something the image's default config
 * does not. The copy is sparse (the disk's empty slot costs nothing); the
 * file is written with debugfs at the partition's offset, nothing mounted.
 */
export async function diskWithConfig(disk: string, config: unknown, out: string): Promise<string> {
  await run('cp', ['--sparse=always', disk, out]);
  const { stdout } = await run('sfdisk', ['--json', out]);
  const table = JSON.parse(stdout) as { partitiontable: { sectorsize?: number; partitions: Array<{ start: number; name?: string }> } };
  const state = table.partitiontable.partitions.find((p) => p.name === 'state');
  if (!state) throw new Error(`${disk} has no partition named state`);
  const fs = `${out}?offset=${state.start * (table.partitiontable.sectorsize ?? 512)}`;
  const { stdout: stat } = await run('debugfs', ['-R', 'stat /config.json', fs]);
  const owner = stat.match(/User:\s+(\d+)\s+Group:\s+(\d+)/);
  if (!owner) throw new Error(`the state partition of ${disk} has no config.json to replace`);
  const file = `${out}.config.json`;
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  const script = [
    'rm /config.json',
    `write ${file} config.json`,
    `set_inode_field /config.json uid ${owner[1]}`,
    `set_inode_field /config.json gid ${owner[2]}`,
    'set_inode_field /config.json mode 0100640',
  ].join('\n');
  const scriptFile = `${out}.debugfs`;
  writeFileSync(scriptFile, `${script}\n`);
  await run('debugfs', ['-w', '-f', scriptFile, fs]);
  return out;
}

/** A booted image: its serial console so far, and a way to wait on it. */
export class BootedImage {
  console = '';
  readonly startedAt = Date.now();
  private readonly waiters: Array<() => void> = [];
  private exited = false;

  private constructor(
    private readonly qemu: ChildProcess,
    readonly httpPort: number,
  ) {
    const onData = (d: Buffer): void => {
      this.console += d.toString();
      for (const w of this.waiters.splice(0)) w();
    };
    qemu.stdout?.on('data', onData);
    qemu.stderr?.on('data', onData);
    qemu.on('close', () => {
      this.exited = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /**
   * Boots the disk: slot A's kernel and initrd given to qemu (the image has
   * no boot loader yet), the root found by its partition label, the disk
   * opened with snapshot=on so the image stays as built.
   */
  static async boot(image: { disk: string; vmlinux: string; initrd: string; cmdline?: string }): Promise<BootedImage> {
    const port = await freePort();
    const args = [
      ...['-accel', 'tcg', '-cpu', 'max', '-m', '1024', '-smp', '2', '-nographic', '-no-reboot'],
      ...['-drive', `file=${image.disk},if=virtio,format=raw,snapshot=on`],
      ...['-kernel', image.vmlinux, '-initrd', image.initrd],
      ...['-append', `root=PARTLABEL=rootfs-a ro console=ttyS0 loglevel=4 systemd.show_status=1 panic=-1 ${image.cmdline ?? ''}`.trim()],
      ...['-nic', `user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:${port}-:8080`],
    ];
    const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    return new BootedImage(qemu, port);
  }

  /** Resolves the first match of `re` in the console's whole lines, with the ms since qemu started; null at the deadline or when qemu ends. */
  async waitFor(re: RegExp, deadline: number): Promise<{ match: RegExpMatchArray; atMs: number } | null> {
    for (;;) {
      // Whole lines only: the console comes in chunks, and a line cut short would match a shorter .*
      const match = this.console.slice(0, this.console.lastIndexOf('\n') + 1).match(re);
      if (match) return { match, atMs: Date.now() - this.startedAt };
      const left = deadline - Date.now();
      if (left <= 0 || this.exited) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const closed = new Promise<void>((resolve) => this.qemu.once('close', () => resolve()));
    this.qemu.kill('SIGKILL');
    await closed;
  }
}

/** The kernel command line that loads vivid, the virtual HDMI capture card, at boot. */
export const VIVID_CMDLINE = 'modules-load=vivid';

/**
 * A config that streams vivid's HDMI input (input 3) to an SRT listener on
 * the host (10.0.2.2 from inside qemu's user network), small enough for
 * x264 under TCG: 640x360 at 30 fps, the bit rate fixed.
 */
export function vividStreamConfig(srtPort: number): Record<string, unknown> {
  return {
    status: { port: 8080 },
    input: { video: '/dev/video0:3', audio: 'none' },
    video: { width: 640, height: 360, fps: '30', bitrate: 1_000_000, adaptive: false, preset: 'ultrafast' },
    destinations: [{ name: 'host', url: `srt://10.0.2.2:${srtPort}`, latencyMs: 1000 }],
  };
}

/** The line image/build.sh prints last but one: the root's and the disk's sizes, MiB. */
export function imageSizes(log: string): { rootMiB: number; diskMiB: number; allocatedMiB: number } | undefined {
  const m = log.match(/image: root (\d+) MiB; disk (\d+) MiB \((\d+) MiB allocated/);
  return m ? { rootMiB: Number(m[1]), diskMiB: Number(m[2]), allocatedMiB: Number(m[3]) } : undefined;
}
