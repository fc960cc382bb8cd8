/**
 * The appliance image in qemu: builds the disk with image/build.sh (cached in
 * .cache/image), makes a copy with another config on its state partition
 * (and GRUB's environment on its ESP changed), and boots a disk under qemu
 * (TCG) the way a box boots: UEFI firmware (OVMF), GRUB from the ESP, the
 * slot GRUB's A/B environment chooses. Its serial console is read as it
 * comes and its port 8080 forwarded to the host. Used by `fieldcast bench
 * boot` and test/image/*.test.ts (which checks first what the machine lacks).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** The checkout (this file is src/bench/ or dist/bench/). */
export const REPO = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
export const IMAGE_DIR = join(REPO, '.cache/image');

export interface BuiltImage {
  disk: string;
  /** The root's file system as in slot A (what an update bundle holds). */
  rootfs: string;
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
    return { disk, rootfs: join(IMAGE_DIR, 'rootfs.ext4'), log: stdout + stderr };
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    const tail = `${e.stdout ?? ''}${e.stderr ?? e.message}`.trim().split('\n').slice(-8).join('\n');
    if (!(await archiveReachable())) return { unreachable: `the Debian archive (deb.debian.org) does not answer; build.sh: ${tail}` };
    return { failed: tail };
  }
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

/** The byte offset of the partition named `name` (image/build.sh: esp, rootfs-a, rootfs-b, state). */
export async function partitionOffset(disk: string, name: string): Promise<number> {
  const { stdout } = await run('sfdisk', ['--json', disk]);
  const table = JSON.parse(stdout) as { partitiontable: { sectorsize?: number; partitions: Array<{ start: number; name?: string }> } };
  const part = table.partitiontable.partitions.find((p) => p.name === name);
  if (!part) throw new Error(`${disk} has no partition named ${name}`);
  return part.start * (table.partitiontable.sectorsize ?? 512);
}

/** Where GRUB's environment is on the ESP (image/grub/grub.cfg: beside BOOTX64.EFI). */
const GRUBENV = '::/EFI/BOOT/grubenv';

/**
 * GRUB's environment on the disk's ESP (the A/B slot state: ORDER, A_OK,
 * A_TRY, B_OK, B_TRY; EXTRA_CMDLINE), read with mtools at the partition's
 * offset, nothing mounted.
 */
export async function readGrubEnv(disk: string): Promise<Record<string, string>> {
  const at = await partitionOffset(disk, 'esp');
  const dir = mkdtempSync(join(tmpdir(), 'fieldcast-grubenv-'));
  try {
    await run('mcopy', ['-n', '-i', `${disk}@@${at}`, GRUBENV, join(dir, 'grubenv')]);
    const { stdout } = await run('grub-editenv', [join(dir, 'grubenv'), 'list']);
    return Object.fromEntries(
      stdout
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Sets variables in GRUB's environment on the disk's ESP (written back whole, as grub-editenv makes it). */
export async function setGrubEnv(disk: string, vars: Record<string, string>): Promise<void> {
  const at = await partitionOffset(disk, 'esp');
  const dir = mkdtempSync(join(tmpdir(), 'fieldcast-grubenv-'));
  try {
    const file = join(dir, 'grubenv');
    await run('mcopy', ['-n', '-i', `${disk}@@${at}`, GRUBENV, file]);
    await run('grub-editenv', [file, 'set', ...Object.entries(vars).map(([k, v]) => `${k}=${v}`)]);
    await run('mcopy', ['-o', '-i', `${disk}@@${at}`, file, GRUBENV]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A copy of the built disk whose state partition holds `config` as
 * /var/lib/fieldcast/config.json (owned by the fieldcast user, as the build
 * writes it), for a boot that must do something the image's default config
 * does not; `cmdline`, when given, is added to the kernel's command line
 * through GRUB's EXTRA_CMDLINE (on the ESP: it holds for both slots). The
 * copy is sparse (the disk's empty slot costs nothing); the file is written
 * with debugfs at the partition's offset, nothing mounted.
 */
export async function diskWithConfig(disk: string, config: unknown, out: string, cmdline?: string): Promise<string> {
  await run('cp', ['--sparse=always', disk, out]);
  const fs = `${out}?offset=${await partitionOffset(out, 'state')}`;
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
  rmSync(file, { force: true });
  rmSync(scriptFile, { force: true });
  if (cmdline) await setGrubEnv(out, { EXTRA_CMDLINE: cmdline });
  return out;
}

/** The UEFI firmware qemu boots the disk with (Debian's ovmf: the 2 MiB build, all in one file). */
export const OVMF = '/usr/share/ovmf/OVMF.fd';

export interface BootOptions {
  disk: string;
  /**
   * Default true: the disk opened with snapshot=on, so it stays as it was;
   * false when the boot is to change it (an update, GRUB's boot counter) for
   * the next boot.
   */
  snapshot?: boolean;
  /** Default true: qemu ends when the box reboots; false to let it boot again in the same process. */
  noReboot?: boolean;
  /** More disks (raw files), read-only, after the boot disk: /dev/vdb, /dev/vdc, … inside. */
  readOnlyDisks?: string[];
  /** A unix socket for the guest agent (virtio port org.qemu.guest_agent.0): GuestAgent in test/image. */
  agentSocket?: string;
  /** More guest TCP ports forwarded from the host's loopback over the first (LAN) NIC: BootedImage.lanPorts. */
  forwards?: number[];
  /**
   * A second NIC on its own qemu user network (10.0.3.0/24, MAC CELLULAR_NIC_MAC)
   * with these guest ports of CELLULAR_GUEST_ADDRESS forwarded: the test
   * names it as a modem's interface inside the box. BootedImage.cellularPorts.
   */
  cellularForwards?: number[];
}

/** The second NIC's MAC and the address a test gives it in the guest (BootOptions.cellularForwards). */
export const CELLULAR_NIC_MAC = '52:54:00:ce:11:01';
export const CELLULAR_GUEST_ADDRESS = '10.0.3.15';

/** A booted image: its serial console so far, and a way to wait on it. */
export class BootedImage {
  console = '';
  readonly startedAt = Date.now();
  private readonly waiters: Array<() => void> = [];
  private exited = false;

  /** Host ports on 127.0.0.1 by guest port: over the LAN NIC (8080 and BootOptions.forwards), and over the cellular one. */
  readonly lanPorts = new Map<number, number>();
  readonly cellularPorts = new Map<number, number>();

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
   * Boots the disk as a box does: OVMF, then GRUB from the ESP, which boots
   * the slot its A/B environment chooses (image/grub/grub.cfg).
   */
  static async boot(o: BootOptions): Promise<BootedImage> {
    const port = await freePort();
    const lan = new Map<number, number>([[8080, port]]);
    for (const g of o.forwards ?? []) lan.set(g, await freePort());
    const cell = new Map<number, number>();
    for (const g of o.cellularForwards ?? []) cell.set(g, await freePort());
    const fwd = (m: Map<number, number>, to = ''): string =>
      [...m].map(([guest, host]) => `,hostfwd=tcp:127.0.0.1:${host}-${to}:${guest}`).join('');
    const args = [
      ...['-accel', 'tcg', '-cpu', 'max', '-m', '1024', '-smp', '2', '-nographic'],
      ...(o.noReboot === false ? [] : ['-no-reboot']),
      ...['-bios', OVMF],
      ...['-drive', `file=${o.disk},if=virtio,format=raw${o.snapshot === false ? '' : ',snapshot=on'}`],
      ...(o.readOnlyDisks ?? []).flatMap((d) => ['-drive', `file=${d},if=virtio,format=raw,readonly=on`]),
      ...['-nic', `user,model=virtio-net-pci${fwd(lan)}`],
      ...(o.cellularForwards
        ? ['-nic', `user,model=virtio-net-pci,net=10.0.3.0/24,mac=${CELLULAR_NIC_MAC}${fwd(cell, CELLULAR_GUEST_ADDRESS)}`]
        : []),
      ...(o.agentSocket
        ? [
            ...['-chardev', `socket,path=${o.agentSocket},server=on,wait=off,id=qga0`],
            ...['-device', 'virtio-serial', '-device', 'virtserialport,chardev=qga0,name=org.qemu.guest_agent.0'],
          ]
        : []),
    ];
    const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const booted = new BootedImage(qemu, port);
    for (const [g, h] of lan) booted.lanPorts.set(g, h);
    for (const [g, h] of cell) booted.cellularPorts.set(g, h);
    return booted;
  }

  /** Where the console is now: waitFor(re, deadline, mark) looks only at what comes after. */
  mark(): number {
    return this.console.length;
  }

  /**
   * Resolves the first match of `re` in the console's whole lines (from
   * `from`, a mark()), with the ms since qemu started; null at the deadline
   * or when qemu ends.
   */
  async waitFor(re: RegExp, deadline: number, from = 0): Promise<{ match: RegExpMatchArray; atMs: number } | null> {
    for (;;) {
      // Whole lines only: the console comes in chunks, and a line cut short would match a shorter .*
      const match = this.console.slice(from, this.console.lastIndexOf('\n') + 1).match(re);
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

  /** True until qemu has ended (a power cut, or the box's reboot with noReboot). */
  get running(): boolean {
    return !this.exited;
  }

  /** Pulls the plug: qemu is killed, what the guest had not written is lost. */
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
  const m = log.match(/image: root (\d+) MiB \(its file system \d+ MiB\); disk (\d+) MiB \((\d+) MiB allocated/);
  return m ? { rootMiB: Number(m[1]), diskMiB: Number(m[2]), allocatedMiB: Number(m[3]) } : undefined;
}

/** What a command run in the guest gave back. */
export interface GuestExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * The guest agent's channel (qemu-guest-agent in the image, on the virtio
 * port qemu's BootOptions.agentSocket makes): runs commands in the box as
 * root, the way the VM tests act as an operator at its shell. One request at
 * a time; a connection per request, so a reboot in between costs nothing.
 */
export class GuestAgent {
  constructor(private readonly socket: string) {}

  private async request(execute: string, args: Record<string, unknown>, timeoutMs: number): Promise<unknown> {
    const { connect } = await import('node:net');
    return await new Promise((resolve, reject) => {
      const conn = connect(this.socket);
      let buf = '';
      const timer = setTimeout(() => {
        conn.destroy();
        reject(new Error(`the guest agent did not answer ${execute} within ${timeoutMs} ms`));
      }, timeoutMs);
      // guest-sync first: whatever an earlier connection left unread is skipped up to its answer.
      const id = Math.floor(Math.random() * 1e9);
      let synced = false;
      conn.on('connect', () => {
        conn.write(`${JSON.stringify({ execute: 'guest-sync', arguments: { id } })}\n`);
      });
      conn.on('data', (d) => {
        buf += d.toString();
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          let msg: { return?: unknown; error?: { desc?: string } };
          try {
            msg = JSON.parse(line) as typeof msg;
          } catch {
            continue;
          }
          if (!synced) {
            if (msg.return === id) {
              synced = true;
              conn.write(`${JSON.stringify({ execute, arguments: args })}\n`);
            }
            continue;
          }
          clearTimeout(timer);
          conn.destroy();
          if (msg.error) reject(new Error(`guest agent ${execute}: ${msg.error.desc ?? 'failed'}`));
          else resolve(msg.return);
          return;
        }
      });
      conn.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** Resolves once the agent answers (the box has booted far enough), false at the deadline. */
  async waitUp(deadline: number): Promise<boolean> {
    while (Date.now() < deadline) {
      try {
        await this.request('guest-ping', {}, 5000);
        return true;
      } catch {
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
    return false;
  }

  /** Runs `sh -c script` in the guest as root and waits for it (at most timeoutMs). */
  async sh(script: string, timeoutMs = 60_000): Promise<GuestExecResult> {
    const started = (await this.request('guest-exec', { path: '/bin/sh', arg: ['-c', script], 'capture-output': true }, 10_000)) as {
      pid: number;
    };
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const st = (await this.request('guest-exec-status', { pid: started.pid }, 10_000)) as {
        exited: boolean;
        exitcode?: number;
        'out-data'?: string;
        'err-data'?: string;
      };
      if (st.exited) {
        const text = (b64?: string): string => (b64 ? Buffer.from(b64, 'base64').toString() : '');
        return { exitCode: st.exitcode ?? -1, stdout: text(st['out-data']), stderr: text(st['err-data']) };
      }
      if (Date.now() > deadline) throw new Error(`the guest command did not end within ${timeoutMs} ms: ${script}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** Starts `sh -c script` in the guest and does not wait for it. */
  async spawn(script: string): Promise<void> {
    await this.request('guest-exec', { path: '/bin/sh', arg: ['-c', script] }, 10_000);
  }
}
