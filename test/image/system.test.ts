/**
 * The appliance image's own security and state, in qemu (TCG) booted as a
 * box boots (OVMF, GRUB, slot A), twice, from one written-through disk:
 *
 * 1. the firewall (image/rootfs/etc/nftables.conf, filled by
 *    fieldcast-system.service from the config): the ruleset is loaded, the
 *    status page answers from this host over the LAN NIC, a guest port
 *    nobody allowed does not (though it answers inside the box), and over a
 *    second NIC named as a modem's interface (wwan9) the status page does
 *    not answer although the supervisor listens on that address;
 * 2. SSH: off at first (nothing on port 22); `fieldcast ctl set system.ssh=true
 *    system.sshKeys.0=KEY` starts sshd, opens 22 on the LAN, and this host's
 *    ssh client logs in as root with the key; port 22 stays shut over the
 *    modem's interface; the host keys are on the state partition;
 * 3. the machine id: /etc/machine-id is the one kept on the state partition;
 * 4. a power cut while configs are being saved: `fieldcast ctl set` in a loop
 *    in the box, qemu killed in the middle; the state partition's config.json
 *    is then a whole, valid config, the last acknowledged save or the one
 *    after it, and the box boots again with it, keeps its machine id and SSH
 *    host key, runs sshd at boot (the config says so) and streams vivid's
 *    HDMI input to a listener on this host.
 *
 * The modem's interface is the second NIC renamed inside the box (ip link
 * set name): its driver is virtio_net, not a modem's, so image/rootfs/etc/
 * udev/rules.d/70-fieldcast-cellular-names.rules does not name it; the name
 * is what the firewall goes by, and test/unit/system checks that rule's
 * drivers. Two boots and the checks: 14 minutes here under TCG on a loaded
 * machine, outside the CI
 * budget like the update tests: `npm run test:update` runs it too.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/index.js';
import { skipWithout } from '../peers.js';
import { FarEnd } from './far-end.js';
import {
  BootedImage,
  type BuiltImage,
  buildImage,
  CELLULAR_GUEST_ADDRESS,
  CELLULAR_NIC_MAC,
  diskWithConfig,
  GuestAgent,
  IMAGE_DIR,
  imageRigMissing,
  VIVID_CMDLINE,
  vividStreamConfig,
} from './rig.js';

const run = promisify(execFile);
const BUILD_TIMEOUT_MS = 20 * 60_000;
/**
 * A boot under TCG to a box that answers: 60-150 s on two quiet cores, a
 * few minutes on a loaded machine (fieldcast.service gives its first start
 * 90 s, systemd/fieldcast.service).
 */
const BOOT_MS = 480_000;
/** How long a port that must not answer is given to answer. */
const SILENT_MS = 8000;
const WORK = join(IMAGE_DIR, 'system-test');

const RUN = process.env.FIELDCAST_UPDATE_TESTS === '1';
if (!RUN)
  console.warn(
    '\n*** SKIPPING the image firewall/SSH/machine-id/power-cut VM tests (test/image/system.test.ts): two boots, 8-20 min under TCG, outside the CI budget; run them with npm run test:update ***\n',
  );
const missing = imageRigMissing();
for (const [tool, pkg] of [
  ['debugfs', 'e2fsprogs'],
  ['srt-live-transmit', 'srt-tools'],
  ['ffprobe', 'ffmpeg'],
  ['ssh', 'openssh-client'],
  ['ssh-keygen', 'openssh-client'],
] as const) {
  if (!(process.env.PATH ?? '').split(':').some((d) => existsSync(join(d, tool)))) missing.push(`${tool} (Debian package ${pkg})`);
}
let built: BuiltImage | undefined;
let buildFailure: string | undefined;
if (RUN && missing.length === 0) {
  const result = await buildImage(BUILD_TIMEOUT_MS);
  if ('unreachable' in result) missing.push(result.unreachable);
  else if ('failed' in result) buildFailure = result.failed;
  else built = result;
}
const skip = !RUN || skipWithout('the image system VM tests (test/image/system.test.ts)', missing);

/** What a host TCP connection to 127.0.0.1:port reads within ms ('' when nothing answers: qemu accepts, the guest drops). */
async function hostReads(port: number, ms: number, send = ''): Promise<string> {
  return await new Promise((resolve) => {
    let got = '';
    const sock = connect(port, '127.0.0.1');
    const done = (): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(got);
    };
    const timer = setTimeout(done, ms);
    sock.on('connect', () => {
      if (send) sock.write(send);
    });
    sock.on('data', (d) => {
      got += d.toString();
      if (got.includes('\n')) done();
    });
    sock.on('error', done);
    sock.on('close', done);
  });
}

/** The status page's answer over a forwarded port, retried until the deadline (it listens as addresses come). */
async function pageStatus(port: number, deadline: number): Promise<number | string> {
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(10_000) });
      return res.status;
    } catch (err) {
      last = (err as Error).message;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  return last;
}

describe.skipIf(skip)('the appliance image: firewall, SSH, machine id, power cut while saving the config', () => {
  const disk = join(WORK, 'box.img');
  const agentSocket = join(WORK, 'qga.sock');
  const key = join(WORK, 'id_ed25519');
  const agent = new GuestAgent(agentSocket);
  let vm: BootedImage | undefined;
  let far: FarEnd | undefined;
  let consoles = '';
  const first: { machineId?: string; hostKey?: string; acked?: number } = {};

  afterAll(async () => {
    await vm?.stop();
    far?.close();
    consoles += vm?.console ?? '';
    writeFileSync(join(IMAGE_DIR, 'system-console.log'), consoles);
    rmSync(disk, { force: true });
  });

  const tail = (): string => vm?.console.split('\n').slice(-40).join('\n') ?? '';
  const sh = async (script: string, ms = 60_000): Promise<string> => {
    const r = await agent.sh(script, ms);
    expect(r.exitCode, `${script}\n${r.stdout}${r.stderr}`).toBe(0);
    return r.stdout;
  };

  async function power(): Promise<BootedImage> {
    if (vm) consoles += vm.console;
    rmSync(agentSocket, { force: true });
    vm = await BootedImage.boot({ disk, snapshot: false, agentSocket, forwards: [22, 9999], cellularForwards: [8080, 22] });
    const deadline = Date.now() + BOOT_MS;
    expect(await agent.waitUp(deadline), `the guest agent never answered:\n${tail()}`).toBe(true);
    // fieldcast run is up (under a loaded TCG its first start may time out and restart). Asked with systemctl,
    // not by polling `fieldcast ctl`: a node process every 2 s would take the CPU the supervisor starts on.
    await sh('for i in $(seq 240); do systemctl is-active -q fieldcast.service && exit 0; sleep 2; done; exit 1', BOOT_MS);
    await sh('fieldcast ctl status >/dev/null', 120_000);
    return vm;
  }

  it('boots with the firewall loaded: the status page answers over the LAN, a port nobody opened and the cellular uplink do not', {
    timeout: BOOT_MS + 300_000,
  }, async () => {
    expect(buildFailure, `image/build.sh failed:\n${buildFailure}`).toBeUndefined();
    if (!built) throw new Error('no image (see the build)');
    mkdirSync(WORK, { recursive: true });
    far = await FarEnd.start();
    // vivid's input at 320x180 (x264 keeps up under TCG), and no destination yet: the box idles through the
    // firewall and SSH checks, and is given its destination just before the power-cut loop.
    const { destinations: _none, ...config } = vividStreamConfig(far.srtPort);
    await diskWithConfig(built.disk, { ...config, video: { ...(config.video as object), width: 320, height: 180 } }, disk, VIVID_CMDLINE);
    const box = await power();
    const deadline = Date.now() + BOOT_MS;

    expect(await pageStatus(box.httpPort, deadline), `the status page did not answer over the LAN:\n${tail()}`).toBe(200);
    const ruleset = await sh('nft list ruleset');
    expect(ruleset).toMatch(/table inet fieldcast \{[\s\S]*type filter hook input priority filter; policy drop;/);
    expect(ruleset).toMatch(/chain lan \{\s*tcp dport 8080 accept comment "status page"\s*\}/);
    expect(ruleset).not.toMatch(/dport 22/);

    // A listener nobody opened the firewall for: it answers inside the box, not from here.
    await agent.spawn(`exec node -e "require('net').createServer((s) => s.end('open\\n')).listen(9999)" >/dev/null 2>&1`);
    const inside = await sh(
      `for i in $(seq 30); do node -e "require('net').connect(9999, '10.0.2.15').on('data', (d) => { process.stdout.write(d); process.exit(0); }).on('error', () => process.exit(1))" && exit 0; sleep 1; done; exit 1`,
    );
    expect(inside.trim()).toBe('open');
    expect(await hostReads(box.lanPorts.get(9999) ?? 0, SILENT_MS), 'port 9999 answered through the firewall').toBe('');

    // The second NIC becomes a modem's interface (wwan9) with its address; the supervisor's "lan" listener
    // classifies by driver (virtio_net: ethernet) and so listens there: only the firewall keeps it shut.
    await sh(
      `n=$(ip -o link | grep -i '${CELLULAR_NIC_MAC}' | cut -d: -f2 | tr -d ' '); ip link set dev "$n" down && ip link set dev "$n" name wwan9 && ip link set dev wwan9 up && ip addr replace ${CELLULAR_GUEST_ADDRESS}/24 dev wwan9`,
    );
    const listens = await sh(
      `for i in $(seq 30); do node -e "fetch('http://${CELLULAR_GUEST_ADDRESS}:8080/').then((r) => { console.log(r.status); process.exit(0); }, () => process.exit(1))" && exit 0; sleep 2; done; exit 1`,
      120_000,
    );
    expect(listens.trim(), 'the status page should listen on the renamed interface (so that the firewall is what is tested)').toBe('200');
    expect(
      await hostReads(box.cellularPorts.get(8080) ?? 0, SILENT_MS, 'GET / HTTP/1.0\r\n\r\n'),
      'the status page answered over wwan9',
    ).toBe('');
    // The LAN still answers (the rename changed nothing there).
    expect(await pageStatus(box.httpPort, Date.now() + 30_000)).toBe(200);
  });

  it('SSH is off until the config turns it on; then root logs in with its key from the LAN, never over the modem', {
    timeout: 240_000,
  }, async () => {
    if (!vm) throw new Error('not booted');
    expect((await agent.sh('systemctl is-active ssh.service')).stdout.trim()).toBe('inactive');
    expect(await hostReads(vm.lanPorts.get(22) ?? 0, SILENT_MS), 'port 22 answered while SSH was off').toBe('');

    rmSync(key, { force: true });
    rmSync(`${key}.pub`, { force: true });
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'system-test', '-f', key]);
    const pub = readFileSync(`${key}.pub`, 'utf8').trim();
    const set = await sh(`fieldcast ctl set system.ssh=true 'system.sshKeys.0=${pub}' 2>&1`, 120_000);
    expect(set, 'ctl set system.ssh=true').not.toMatch(/not applied/);
    expect((await sh('systemctl is-active ssh.service')).trim()).toBe('active');
    expect(await sh('nft list chain inet fieldcast lan')).toMatch(/tcp dport 22 accept comment "ssh"/);

    const banner = await hostReads(vm.lanPorts.get(22) ?? 0, 20_000);
    expect(banner).toMatch(/^SSH-2\.0-OpenSSH_/);
    expect(await hostReads(vm.cellularPorts.get(22) ?? 0, SILENT_MS), 'port 22 answered over wwan9').toBe('');

    // This host's ssh client, as root with the key; a password is never asked (BatchMode).
    const ssh = await run(
      'ssh',
      [
        ...['-p', String(vm.lanPorts.get(22)), '-i', key, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no'],
        ...['-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=30', 'root@127.0.0.1'],
        'id -u; cat /etc/machine-id; cat /var/lib/fieldcast/machine-id; cat /var/lib/fieldcast/ssh/ssh_host_ed25519_key.pub',
      ],
      { timeout: 90_000 },
    );
    const [uid, etcId, stateId, hostKey] = ssh.stdout.trim().split('\n');
    expect(uid).toBe('0');
    // The machine id: the one kept on the state partition.
    expect(etcId).toMatch(/^[0-9a-f]{32}$/);
    expect(stateId).toBe(etcId);
    expect(hostKey).toMatch(/^ssh-ed25519 /);
    first.machineId = etcId;
    first.hostKey = hostKey?.split(' ').slice(0, 2).join(' ');
    // A password login is refused outright (no key offered).
    const pw = await run(
      'ssh',
      [
        ...['-p', String(vm.lanPorts.get(22)), '-o', 'BatchMode=yes', '-o', 'PubkeyAuthentication=no', '-o', 'StrictHostKeyChecking=no'],
        ...['-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=30', 'root@127.0.0.1', 'true'],
      ],
      { timeout: 60_000 },
    ).catch((e: Error & { stderr?: string }) => ({ stdout: '', stderr: e.stderr ?? e.message, failed: true }));
    expect('failed' in pw, 'root logged in without a key').toBe(true);
    expect(pw.stderr).toMatch(/Permission denied \(publickey\)/);
  });

  it('saves configs in a loop in the box until the power is cut', { timeout: 360_000 }, async () => {
    if (!vm) throw new Error('not booted');
    await sh(`fieldcast ctl set destinations.0.url=srt://10.0.2.2:${far?.srtPort} destinations.0.latencyMs=1000`, 120_000);
    await agent.spawn('i=0; while :; do fieldcast ctl set deviceName=cut-$i >/dev/null 2>&1 && echo $i >/run/last-saved; i=$((i+1)); done');
    const t0 = Date.now();
    const deadline = t0 + 150_000;
    let acked = -1;
    while (acked < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      acked = Number((await agent.sh('cat /run/last-saved 2>/dev/null || echo -1')).stdout.trim());
    }
    expect(acked, 'fewer than four saves in 150 s').toBeGreaterThanOrEqual(3);
    // Mid-save: some time into the next one (each takes about a second or two under TCG).
    await new Promise((r) => setTimeout(r, 300 + Math.floor(Math.random() * 1500)));
    await vm.stop();
    first.acked = acked;
    console.log(`power cut ${((Date.now() - t0) / 1000).toFixed(1)} s into the loop, after save ${acked} was acknowledged`);
  });

  it('boots again after the cut: same machine id and SSH host key, sshd up at boot, and it streams', {
    timeout: 2 * BOOT_MS + 120_000,
  }, async () => {
    if (first.acked === undefined) throw new Error('no power cut');
    const since = Date.now();
    const box = await power();
    // The config after the cut: whole and valid (the box came up with it), the last acknowledged save or a later one.
    const text = await sh('cat /var/lib/fieldcast/config.json');
    const onDisk = validateConfig(JSON.parse(text), 'config.json after the power cut');
    const n = Number(onDisk.deviceName.match(/^cut-(\d+)$/)?.[1] ?? -1);
    console.log(`after the cut (save ${first.acked} acknowledged) the box booted with deviceName=${onDisk.deviceName}`);
    expect(n, `config.json after the cut: ${text}`).toBeGreaterThanOrEqual(first.acked);
    expect(onDisk.system.ssh).toBe(true);
    expect((await sh('fieldcast ctl get deviceName')).trim()).toBe(onDisk.deviceName);
    // Nothing half-written left beside it (a cut before a rename leaves a temp file; the store sweeps them at start).
    expect(await sh('ls -a /var/lib/fieldcast')).not.toMatch(/\.config\.json\..*\.tmp/);
    expect((await sh('cat /etc/machine-id')).trim()).toBe(first.machineId);
    expect(await sh('findmnt -n -o TARGET /etc/machine-id')).toMatch(/\/etc\/machine-id/);
    // sshd at boot because the config says so, with the host key of the first boot.
    await sh('for i in $(seq 60); do systemctl is-active -q ssh.service && exit 0; sleep 2; done; exit 1', 150_000);
    expect((await sh('cut -d" " -f1,2 /var/lib/fieldcast/ssh/ssh_host_ed25519_key.pub')).trim()).toBe(first.hostKey);
    expect(await hostReads(box.lanPorts.get(22) ?? 0, 20_000)).toMatch(/^SSH-2\.0-OpenSSH_/);

    // It streams: 200 kB from this boot at the far end that decode as H.264.
    const deadline = Date.now() + BOOT_MS;
    while ((far?.since(since).length ?? 0) < 200_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1000));
    const got = far?.since(since) ?? Buffer.alloc(0);
    expect(got.length, `nothing (or too little) reached the SRT listener; console:\n${tail()}`).toBeGreaterThanOrEqual(200_000);
    const file = join(WORK, 'received.ts');
    writeFileSync(file, got);
    const { stdout } = await run('ffprobe', [
      ...['-v', 'error', '-select_streams', 'v:0', '-count_frames'],
      ...['-show_entries', 'stream=codec_name,width,nb_read_frames', '-of', 'json', file],
    ]);
    const video = (JSON.parse(stdout) as { streams: Array<{ codec_name: string; width: number; nb_read_frames: string }> }).streams[0];
    expect([video?.codec_name, video?.width]).toEqual(['h264', 320]);
    expect(Number(video?.nb_read_frames)).toBeGreaterThan(10);
    const failed = await sh('systemctl list-units --failed --plain --no-legend');
    expect(failed.trim(), 'failed units').toBe('');
  });
});
