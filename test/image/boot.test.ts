/**
 * The appliance image booted from its disk: image/build.sh's GPT disk under
 * qemu (TCG) with UEFI firmware (OVMF), GRUB from the ESP choosing slot A by
 * its A/B environment, the root read-only. systemd reaches
 * multi-user.target, fieldcast.service says READY=1 and is running (the
 * image's fieldcast-console-status unit writes its state to the serial
 * console), and the status page answers on the forwarded port 8080.
 *
 * It boots as a crew would use it: the kernel's vivid driver loaded (the
 * virtual HDMI capture card, `modules-load=vivid`), and a config on the
 * state partition that captures vivid's HDMI input and sends it to an
 * srt-live-transmit listener on this host (10.0.2.2 from inside qemu's user
 * network). What that listener receives must decode. Prints the times from
 * qemu's start (power-on) to READY and to the first packet at the listener.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../../src/lib/udp-ports.js';
import { skipWithout } from '../peers.js';
import {
  BootedImage,
  type BuiltImage,
  buildImage,
  diskWithConfig,
  IMAGE_DIR,
  imageRigMissing,
  VIVID_CMDLINE,
  vividStreamConfig,
} from './rig.js';

const run = promisify(execFile);

/** A cold build (mmdebstrap from the archive) takes minutes on two cores; a cached one about one. */
const BUILD_TIMEOUT_MS = 20 * 60_000;
/** Boot under TCG takes 30-110 s (OVMF and GRUB first; more on a busy machine); the whole VM is killed after this. */
const BOOT_TIMEOUT_MS = 300_000;

const missing = imageRigMissing();
let built: BuiltImage | undefined;
let buildFailure: string | undefined;
if (missing.length === 0) {
  const result = await buildImage(BUILD_TIMEOUT_MS);
  if ('unreachable' in result) missing.push(result.unreachable);
  else if ('failed' in result) buildFailure = result.failed;
  else built = result;
}
const skip = skipWithout('the appliance image boot test (test/image/boot.test.ts)', missing);

describe.skipIf(skip)('the appliance image, booted from its disk', () => {
  let vm: BootedImage | undefined;
  let listener: ChildProcess | undefined;
  const streamDisk = join(IMAGE_DIR, 'boot-test.img');
  afterAll(async () => {
    await vm?.stop();
    listener?.kill('SIGKILL');
    rmSync(streamDisk, { force: true });
    // The whole serial console, for reading after a failure.
    if (vm) writeFileSync(join(IMAGE_DIR, 'boot-console.log'), vm.console);
  });

  it('builds', () => {
    expect(buildFailure, `image/build.sh failed:\n${buildFailure}`).toBeUndefined();
    expect(built?.disk).toMatch(/fieldcast-amd64\.img$/);
    console.log(
      built?.log
        .split('\n')
        .filter((l) => l.startsWith('image: '))
        .join('\n'),
    );
  });

  it("comes up to a running fieldcast.service that said READY, serves its status page, and streams vivid's HDMI input to a listener on the host", {
    timeout: BOOT_TIMEOUT_MS + 30_000,
  }, async () => {
    if (!built) throw new Error('no image (see the build)');
    // The far end: srt-live-transmit listening on this host, relaying what it receives to a UDP port here.
    const [srtPort, udpPort] = [await freeUdpPort(), await freeUdpPort()];
    const received: Buffer[] = [];
    let firstPacketAt: number | undefined;
    const far = createSocket('udp4');
    far.on('message', (m) => {
      firstPacketAt ??= Date.now();
      received.push(m);
    });
    await new Promise<void>((r) => far.bind(udpPort, '127.0.0.1', () => r()));
    listener = spawn(
      'srt-live-transmit',
      ['-q', '-c', '1316', `srt://:${srtPort}?mode=listener&latency=1000`, `udp://127.0.0.1:${udpPort}`],
      {
        stdio: 'ignore',
      },
    );
    const config = vividStreamConfig(srtPort);
    const disk = await diskWithConfig(built.disk, config, streamDisk, VIVID_CMDLINE);
    vm = await BootedImage.boot({ disk });
    const poweredOnAt = vm.startedAt;
    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    const tail = (): string => vm?.console.split('\n').slice(-40).join('\n') ?? '';
    // GRUB chose slot A (good, untried) and counted its try.
    const grub = await vm.waitFor(/fieldcast boot: slot (\S+) \(ORDER=A B A_OK=1 A_TRY=(\d) B_OK=0/, deadline);
    expect(grub?.match.slice(1, 3), `GRUB did not boot slot A:\n${tail()}`).toEqual(['A', '1']);

    // Written once fieldcast.service's start job is done: for Type=notify, at READY=1 (or at its failure).
    const status = await vm.waitFor(/fieldcast-console-status: uptime=(\S+) ((?:StatusText|ActiveState|SubState)=.*)/, deadline);
    expect(status, `fieldcast.service's state never reached the console; it ended:\n${tail()}`).not.toBeNull();
    const line = status?.match[2] ?? '';
    expect(line, tail()).toContain('ActiveState=active');
    expect(line).toContain('SubState=running');
    // STATUS= comes from the supervisor (src/supervisor/systemd.ts) only once it is up.
    expect(line).toMatch(/StatusText=\S/);
    // Once the boot's last job is done (systemctl is-system-running --wait in the guest).
    const target = await vm.waitFor(
      /fieldcast-console-status: uptime=(\S+) system=(\S+) multi-user\.target=(\S+) failed=\[(.*)\]/,
      deadline,
    );
    expect(target, `the boot did not end; the console ended:\n${tail()}`).not.toBeNull();
    expect(target?.match[3], 'multi-user.target').toBe('active');
    expect({ system: target?.match[2], failed: target?.match[4]?.trim() }).toEqual({ system: 'running', failed: '' });
    // Where the status page is, and the one-time setup code (no password is set on a new box), on the console.
    const page = await vm.waitFor(/fieldcast-console-status: status page (http:\/\/(?!127\.)[\d.]+\S*)/, deadline);
    expect(page?.match[1], `no status page address on the console:\n${tail()}`).toMatch(/^http:\/\/[\d.]+:8080\//);
    const code = await vm.waitFor(/fieldcast-console-status: setup code: (\S+)/, deadline);
    expect(code?.match[1], `no setup code on the console:\n${tail()}`).toMatch(/^\S{4,}$/);
    // The root read-only (slot A, as the kernel mounted it); the state partition writable at /var/lib/fieldcast.
    const mounts = await vm.waitFor(/fieldcast-console-status: root=(\S+)\s+(\S+) state=(\S+)\s+(\S+)\s+(\S+)/, deadline);
    expect(mounts?.match.slice(1, 6)).toEqual(['/dev/vda2', 'ro', '/dev/vda4', 'ext4', 'rw']);
    console.log(
      `boot to READY: ${((status?.atMs ?? 0) / 1000).toFixed(1)} s from qemu's start ` +
        `(guest uptime ${status?.match[1]} s; boot over at ${((target?.atMs ?? 0) / 1000).toFixed(1)} s); ${line.trim()}`,
    );

    // The default config serves the page on 8080; it listens as the DHCP address comes.
    let answer: { status: number; body: string } | undefined;
    let lastError = '';
    while (!answer && Date.now() < deadline) {
      try {
        const res = await fetch(`http://127.0.0.1:${vm.httpPort}/`, { signal: AbortSignal.timeout(10_000) });
        answer = { status: res.status, body: await res.text() };
      } catch (err) {
        lastError = (err as Error).message;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    expect(answer, `the status page did not answer on the forwarded port (${lastError}); console:\n${tail()}`).toBeDefined();
    expect(answer?.status).toBe(200);
    expect(answer?.body).toMatch(/<html/i);

    // The picture at the far end: packets arrive, and a few seconds of them decode as H.264.
    while (received.reduce((n, b) => n + b.length, 0) < 600_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    far.close();
    const bytes = received.reduce((n, b) => n + b.length, 0);
    expect(firstPacketAt, `nothing reached the SRT listener on the host; console:\n${tail()}`).toBeDefined();
    const file = join(IMAGE_DIR, 'boot-received.ts');
    writeFileSync(file, Buffer.concat(received));
    const { stdout } = await run('ffprobe', [
      ...['-v', 'error', '-select_streams', 'v:0', '-count_frames'],
      ...['-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', file],
    ]);
    const video = (JSON.parse(stdout) as { streams: Array<{ codec_name: string; width: number; height: number; nb_read_frames: string }> })
      .streams[0];
    expect(video?.codec_name).toBe('h264');
    expect([video?.width, video?.height]).toEqual([640, 360]);
    expect(Number(video?.nb_read_frames)).toBeGreaterThan(30);
    // vivid's colour bars (not Fieldcast's no-signal slate): green in the fourth eighth, red in the sixth. The last
    // picture decoded is looked at (seeking near the file's end can land past its last keyframe, where nothing decodes:
    // under TCG the encoder drops frames and its keyframes come seconds apart).
    const last = Number(video?.nb_read_frames) - 1;
    const frame = await run(
      'ffmpeg',
      ['-v', 'error', '-i', file, '-vf', `select=eq(n\\,${last})`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
      {
        encoding: 'buffer',
        maxBuffer: 8 << 20,
      },
    );
    const rgb = (x: number, y: number): number[] => [...frame.stdout.subarray((y * 640 + x) * 3, (y * 640 + x) * 3 + 3)];
    const [green, red] = [rgb(280, 300), rgb(440, 300)];
    expect(green[1]! > 120 && green[0]! < 60 && green[2]! < 60, `green bar ${green}`).toBe(true);
    expect(red[0]! > 120 && red[1]! < 60 && red[2]! < 60, `red bar ${red}`).toBe(true);
    console.log(
      `power-on to the first packet at the listener: ${(((firstPacketAt ?? 0) - poweredOnAt) / 1000).toFixed(1)} s; ` +
        `received ${(bytes / 1e6).toFixed(1)} MB, ${video?.nb_read_frames} pictures decoded (${video?.width}x${video?.height})`,
    );
  });
});
