/**
 * The modem code against a real serial port: a simulated modem on a socat
 * pty pair (modem-simulator.ts) answering in the Quectel, Sierra and Huawei
 * dialects, with echo, URCs, a slow and a lost reply, a SIM PIN, and a
 * restart that takes the port away and brings it back.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LogRecord, setLogLevel, setLogSink } from '../../src/lib/logger.js';
import {
  AtChannel,
  type HealingEvent,
  loadModemProfiles,
  ModemHealer,
  ModemNoAnswerError,
  type ModemProfile,
  type ModemUrc,
  maskIdentifier,
  readModem,
  setApn,
} from '../../src/uplinks/modems/index.js';
import { missingTools, skipWithout } from '../peers.js';
import { type Dialect, ModemSimulator, SIM_ICCID, SIM_IMEI, type SimulatorOptions } from './modem-simulator.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'bin/fieldcast.js');
const BUILT_CLI = path.join(ROOT, 'dist/cli/modem.js');

const skip = skipWithout('modem over a pty (socat)', missingTools('socat'));
const skipCli = skip || skipWithout('fieldcast modem CLI against the simulator', existsSync(BUILT_CLI) ? [] : ['dist/ (npm run build:ts)']);

const sims: ModemSimulator[] = [];
const channels: AtChannel[] = [];
let profiles: ModemProfile[];

beforeAll(async () => {
  profiles = await loadModemProfiles();
});

afterEach(async () => {
  setLogSink(undefined);
  setLogLevel(process.env['FIELDCAST_LOG'] ?? 'warn');
  for (const c of channels.splice(0)) await c.close();
  for (const s of sims.splice(0)) await s.stop();
});

async function simulator(dialect: Dialect, opts: SimulatorOptions = {}): Promise<ModemSimulator> {
  const sim = await ModemSimulator.start(dialect, opts);
  sims.push(sim);
  return sim;
}

async function channel(sim: ModemSimulator, reopenIntervalMs = 100): Promise<AtChannel> {
  const c = await AtChannel.open({ path: sim.hostPath, reopenIntervalMs });
  channels.push(c);
  return c;
}

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 30_000, cwd: ROOT }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe.skipIf(skip)('modem over a pseudo-terminal', () => {
  it('reads a Quectel RM520N in its dialect, URCs kept out of the replies', async () => {
    const sim = await simulator('quectel');
    const c = await channel(sim);
    const urcs: ModemUrc[] = [];
    c.on('urc', (u) => urcs.push(u));
    const r = await readModem(c, { port: sim.hostPath, profiles });
    expect(r.profile).toBe('quectel-rm520n');
    expect(r.identity).toEqual({
      manufacturer: 'Quectel',
      model: 'RM520N-GL',
      firmware: 'RM520NGLAAR01A07M4G',
      imei: SIM_IMEI.quectel,
      iccid: SIM_ICCID.quectel,
    });
    expect(r.sim).toEqual({ state: 'ready', unlockedWithPin: false });
    expect(r.operator).toMatchObject({ name: 'Fieldnet', accessTechnology: 'NR5G-SA' });
    expect(r.registration.state).toBe('home');
    expect(r.registration.domains.map((d) => d.domain)).toEqual(['cs', 'eps', '5gs']);
    expect(r.signal.csq?.rssiDbm).toBe(-73);
    expect(r.signal.extended).toMatchObject({ tech: 'NR5G-SA', cells: [{ band: 'n78', rsrpDbm: -92, rsrqDb: -11, sinrDb: 18 }] });
    expect(r.refused).toEqual([]);
    expect(urcs.some((u) => u.line.startsWith('+QIND:'))).toBe(true);
    expect(urcs.some((u) => u.kind === 'registration')).toBe(true);
  });

  it('reads a Sierra EM7455 in its dialect', async () => {
    const sim = await simulator('sierra');
    const c = await channel(sim);
    const r = await readModem(c, { port: sim.hostPath, profiles });
    expect(r.profile).toBe('sierra-em7455');
    expect(r.identity).toMatchObject({ model: 'EM7455', imei: SIM_IMEI.sierra, iccid: SIM_ICCID.sierra });
    expect(r.operator?.accessTechnology).toBe('LTE');
    expect(r.registration.state).toBe('home');
    expect(r.signal.extended).toEqual({
      parser: 'sierra-gstatus',
      tech: 'LTE',
      state: 'ONLINE',
      cells: [
        {
          rat: 'LTE',
          band: 'B7',
          channel: 3100,
          rssiDbm: -62,
          rsrpDbm: -91,
          rsrqDb: -10,
          sinrDb: 12.4,
          areaCode: 'B4F1',
          cellId: '0164A20F',
        },
      ],
    });
    expect(r.networkMode?.commands).toContain('AT!USBCOMP=1,1,100D');
  });

  it('reads a Huawei ME909 in its dialect, its raw ICCID decoded', async () => {
    const sim = await simulator('huawei');
    const c = await channel(sim);
    const r = await readModem(c, { port: sim.hostPath, profiles });
    expect(r.profile).toBe('huawei-me909');
    expect(r.identity).toMatchObject({ manufacturer: 'Huawei Technologies Co., Ltd.', imei: SIM_IMEI.huawei, iccid: SIM_ICCID.huawei });
    expect(r.signal.extended).toEqual({
      parser: 'huawei-hcsq',
      tech: 'LTE',
      cells: [{ rat: 'LTE', rssiDbm: -71, rsrpDbm: -96, sinrDb: 10, rsrqDb: -8.5 }],
    });
  });

  it('unlocks the SIM with its PIN, which no log line holds; sets the APN', async () => {
    const PIN = '2580';
    const sim = await simulator('quectel', { pin: PIN });
    const records: LogRecord[] = [];
    setLogLevel('debug');
    setLogSink((rec) => records.push(rec));
    const c = await channel(sim);
    const r = await readModem(c, { port: sim.hostPath, profiles, pin: PIN });
    expect(r.sim).toEqual({ state: 'ready', unlockedWithPin: true });
    expect(r.registration.state).toBe('home');
    expect(sim.received).toContain(`AT+CPIN="${PIN}"`);
    await setApn(c, 'internet.fieldnet.example');
    expect(sim.apn).toBe('internet.fieldnet.example');
    const logged = JSON.stringify(records);
    expect(records.length).toBeGreaterThan(10);
    expect(logged).toContain('AT+CPIN=[redacted]');
    expect(logged).not.toContain(PIN);
    expect(logged).not.toContain(SIM_IMEI.quectel);
    expect(logged).not.toContain(SIM_ICCID.quectel);
  });

  it('times out a lost reply and a too-slow one; the next command gets its own answer', async () => {
    const sim = await simulator('quectel', { slow: { 'AT+CSQ': 800 } });
    const c = await channel(sim);
    // Slow, within its timeout: answered.
    expect((await c.send('AT+CSQ')).lines).toEqual(['+CSQ: 20,99']);
    // Lost: MODEM_NO_ANSWER, then the channel goes on.
    sim.dropNext('AT+CGSN');
    await expect(c.send('AT+CGSN', { timeoutMs: 500 })).rejects.toBeInstanceOf(ModemNoAnswerError);
    expect((await c.send('AT+CGMM')).lines).toEqual(['RM520N-GL']);
    // Slower than its timeout: the late reply is not taken for the next command's.
    await expect(c.send('AT+CSQ', { timeoutMs: 200 })).rejects.toMatchObject({ code: 'MODEM_NO_ANSWER' });
    expect((await c.send('AT+CGMI')).lines).toEqual(['Quectel']);
    expect((await c.send('AT+CGSN')).lines).toEqual([SIM_IMEI.quectel]);
  });

  it('survives the modem restarting: the port goes, comes back, and is read again', async () => {
    const sim = await simulator('sierra', { resetDownMs: 600 });
    const c = await channel(sim);
    const healer = new ModemHealer(c);
    const steps: HealingEvent[] = [];
    healer.on('step', (e) => steps.push(e));
    const gone = c.next('gone', AbortSignal.timeout(10_000));
    await healer.reset();
    const [err] = await gone;
    expect(err.code).toBe('MODEM_PORT_GONE');
    expect(steps.map((s) => [s.kind, s.phase, s.reason])).toEqual([
      ['reset', 'started', 'asked by the operator'],
      ['reset', 'done', 'asked by the operator'],
    ]);
    await c.whenOpen(AbortSignal.timeout(15_000));
    expect(sim.resets).toBe(1);
    const r = await readModem(c, { port: sim.hostPath, profiles });
    expect(r.identity.imei).toBe(SIM_IMEI.sierra);
    expect(r.signal.extended?.tech).toBe('LTE');
  });
});

describe.skipIf(skipCli)('fieldcast modem', () => {
  it('prints the reading as JSON with IMEI and ICCID masked', async () => {
    const sim = await simulator('quectel');
    const { code, stdout, stderr } = await run(['modem', sim.hostPath, '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).not.toContain(SIM_IMEI.quectel);
    expect(stdout).not.toContain(SIM_ICCID.quectel);
    const json = JSON.parse(stdout) as {
      profile: string;
      identity: { imei: string; iccid: string };
      signal: { extended: { tech: string } };
    };
    expect(json.profile).toBe('quectel-rm520n');
    expect(json.identity.imei).toBe(maskIdentifier(SIM_IMEI.quectel));
    expect(json.identity.imei.endsWith(SIM_IMEI.quectel.slice(-4))).toBe(true);
    expect(json.identity.iccid).toBe(maskIdentifier(SIM_ICCID.quectel));
    expect(json.signal.extended.tech).toBe('NR5G-SA');
  });

  it('prints a masked summary, using the PIN from a file', async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(path.join(tmpdir(), 'fieldcast-pin-'));
    try {
      const pinFile = path.join(dir, 'pin');
      writeFileSync(pinFile, '1357\n');
      const sim = await simulator('huawei', { pin: '1357' });
      const { code, stdout } = await run(['modem', sim.hostPath, '--pin-file', pinFile]);
      expect(code).toBe(0);
      expect(stdout).toContain('unlocked with the PIN');
      expect(stdout).toContain(maskIdentifier(SIM_IMEI.huawei));
      expect(stdout).not.toContain(SIM_IMEI.huawei);
      expect(stdout).not.toContain(SIM_ICCID.huawei);
      expect(stdout).not.toContain('1357');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says clearly when there is no port, and exits 1; a usage error exits 2', async () => {
    const missing = await run(['modem', '/dev/ttyNOPE9']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('MODEM_PORT_NOT_FOUND');
    const usage = await run(['modem']);
    expect(usage.code).toBe(2);
    const profile = await run(['modem', '/dev/ttyUSB2', '--profile', 'nokia-3310']);
    expect(profile.code).toBe(2);
    expect(profile.stderr).toContain('no modem profile "nokia-3310"');
  });
});
