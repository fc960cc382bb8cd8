/**
 * The appliance image booted from its disk: image/build.sh's GPT disk under
 * qemu (TCG), the root from slot A, read-only. systemd reaches
 * multi-user.target, fieldcast.service says READY=1 and is running (the
 * image's fieldcast-console-status unit writes its state to the serial
 * console), and the status page answers on the forwarded port 8080.
 * Prints the time from qemu's start to READY.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../peers.js';
import { BootedImage, type BuiltImage, buildImage, extractVmlinux, IMAGE_DIR, imageRigMissing } from './rig.js';

/** A cold build (mmdebstrap from the archive) takes minutes on two cores; a cached one about one. */
const BUILD_TIMEOUT_MS = 20 * 60_000;
/** Boot under TCG takes 30-90 s; the whole VM is killed after this. */
const BOOT_TIMEOUT_MS = 180_000;

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
  afterAll(async () => {
    await vm?.stop();
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

  it('comes up to a running fieldcast.service that said READY, and serves its status page', {
    timeout: BOOT_TIMEOUT_MS + 30_000,
  }, async () => {
    if (!built) throw new Error('no image (see the build)');
    const vmlinux = extractVmlinux(built.vmlinuz);
    vm = await BootedImage.boot({ disk: built.disk, vmlinux, initrd: built.initrd });
    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    const tail = (): string => vm?.console.split('\n').slice(-40).join('\n') ?? '';

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
  });
});
