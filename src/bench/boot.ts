/**
 * `fieldcast bench boot` (issue 14): the appliance image from power-on to
 * pictures, in qemu (TCG, no KVM, so every figure is
 * slower than on the box's own CPU), booted as the box boots: UEFI firmware
 * (OVMF), GRUB, slot A.
 *
 *   image/build.sh (cached) → a copy of the disk whose state partition's
 *   config streams vivid's HDMI input to an srt-live-transmit listener on
 *   this host → qemu started (power-on) with vivid loaded → the serial
 *   console's fieldcast-console-status line (fieldcast.service READY) → the
 *   first datagram the listener relays here.
 *
 * Figures per boot and their medians: power-on → READY, power-on → first
 * packet at the listener; and the image's sizes (the root, the raw disk, and
 * what of it is data — a flasher that skips the empty slot writes only that).
 * A boot counts only when what the listener received decodes as H.264; a
 * boot that never gets there gives no figure.
 * Goals: first packet within 20 s of power-on; image under 1 GB.
 */
import { execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { freeUdpPort } from '../lib/udp-ports.js';
import { BootedImage, buildImage, diskWithConfig, imageSizes, VIVID_CMDLINE, vividStreamConfig } from './image-rig.js';
import { FigureSheet, NotObservedError, type Scenario, type ScenarioResult } from './types.js';

const run = promisify(execFile);
const GOAL_FIRST_PACKET_S = 20;
const GOAL_IMAGE_MB = 1000;
const BUILD_TIMEOUT_MS = 20 * 60_000;
const BOOT_TIMEOUT_MS = 180_000;

interface Boot {
  readyS: number;
  firstPacketS: number;
  pictures: number;
}

export const scenario: Scenario = {
  name: 'boot',
  description: 'the appliance image in qemu: power-on to fieldcast.service READY and to the first packet at a listener; image size',
  async run({ quick, runs: asked, workDir, signal }): Promise<ScenarioResult> {
    if (process.getuid?.() !== 0) throw new NotObservedError('boot_ready_s', 'building the image needs root (mmdebstrap)');
    const built = await buildImage(BUILD_TIMEOUT_MS);
    if ('unreachable' in built) throw new NotObservedError('boot_ready_s', built.unreachable);
    if ('failed' in built) throw new NotObservedError('boot_ready_s', `image/build.sh failed: ${built.failed}`);
    const sheet = new FigureSheet();
    const sizes = imageSizes(built.log);
    const runs = asked ?? (quick ? 1 : 3);
    const boots: Boot[] = [];
    for (let i = 0; i < runs; i++) {
      signal.throwIfAborted();
      const b = await bootOnce(built.disk, path.join(workDir, `boot-${i}`), signal);
      boots.push(b);
      sheet.add(
        `run_${i + 1}`,
        `READY ${b.readyS.toFixed(1)} s, first packet ${b.firstPacketS.toFixed(1)} s, ${b.pictures} pictures decoded`,
      );
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const ready = median(boots.map((b) => b.readyS));
    const first = median(boots.map((b) => b.firstPacketS));
    sheet.add('power_on_to_ready_s', ready, `s (median of ${runs}; qemu TCG)`);
    sheet.add('power_on_to_first_packet_s', first, `s (median of ${runs}; goal <= ${GOAL_FIRST_PACKET_S})`);
    const verdicts = [`first packet ${first.toFixed(1)} s after power-on (${first <= GOAL_FIRST_PACKET_S ? 'held' : 'not held'})`];
    if (sizes) {
      const dataMB = (sizes.allocatedMiB * 1.048576).toFixed(0);
      sheet.add('image_root_mib', sizes.rootMiB, 'MiB');
      sheet.add('image_disk_mib', sizes.diskMiB, 'MiB (raw, both slots and the state partition)');
      sheet.add('image_data_mib', sizes.allocatedMiB, `MiB (the disk's data: ${dataMB} MB; goal < ${GOAL_IMAGE_MB} MB)`);
      const held = sizes.allocatedMiB * 1.048576 < GOAL_IMAGE_MB;
      verdicts.push(`image ${dataMB} MB of data (${held ? 'held' : 'not held'}; the raw disk is ${sizes.diskMiB} MiB)`);
    } else sheet.missing('image_data_mib', "image/build.sh's size line was not in its output");
    return sheet.result(verdicts.join('; '));
  },
};

async function bootOnce(image: string, diskBase: string, signal: AbortSignal): Promise<Boot> {
  const srtPort = await freeUdpPort();
  const udpPort = await freeUdpPort();
  const received: Buffer[] = [];
  let firstAt: number | undefined;
  let bytes = 0;
  const far = createSocket('udp4');
  far.on('message', (m) => {
    firstAt ??= Date.now();
    bytes += m.length;
    received.push(m);
  });
  await new Promise<void>((r) => far.bind(udpPort, '127.0.0.1', () => r()));
  const listener = spawn(
    'srt-live-transmit',
    ['-q', '-c', '1316', `srt://:${srtPort}?mode=listener&latency=1000`, `udp://127.0.0.1:${udpPort}`],
    { stdio: 'ignore' },
  );
  const disk = `${diskBase}.img`;
  let vm: BootedImage | undefined;
  try {
    await diskWithConfig(image, vividStreamConfig(srtPort), disk, VIVID_CMDLINE);
    vm = await BootedImage.boot({ disk });
    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    const ready = await vm.waitFor(
      /fieldcast-console-status: uptime=\S+ (?:StatusText|ActiveState|SubState)=.*ActiveState=active/,
      deadline,
    );
    if (!ready) throw new NotObservedError('power_on_to_ready_s', 'fieldcast.service never came up in the VM');
    while (bytes < 300_000 && Date.now() < deadline && !signal.aborted) await new Promise((r) => setTimeout(r, 250));
    if (firstAt === undefined) throw new NotObservedError('power_on_to_first_packet_s', 'nothing reached the listener on the host');
    const file = `${diskBase}-received.ts`;
    writeFileSync(file, Buffer.concat(received));
    const { stdout } = await run('ffprobe', [
      ...['-v', 'error', '-select_streams', 'v:0', '-count_frames'],
      ...['-show_entries', 'stream=codec_name,nb_read_frames', '-of', 'json', file],
    ]);
    const video = (JSON.parse(stdout) as { streams: Array<{ codec_name?: string; nb_read_frames?: string }> }).streams[0];
    const pictures = Number(video?.nb_read_frames ?? 0);
    if (video?.codec_name !== 'h264' || !(pictures > 0))
      throw new NotObservedError('power_on_to_first_packet_s', 'what the listener received does not decode as H.264');
    return { readyS: ready.atMs / 1000, firstPacketS: (firstAt - vm.startedAt) / 1000, pictures };
  } finally {
    await vm?.stop();
    listener.kill('SIGKILL');
    far.close();
    rmSync(disk, { force: true });
  }
}
