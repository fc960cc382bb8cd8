/**
 * A modem on a pseudo-terminal, for tests of the AT code against a real
 * serial port. socat makes a pty pair (`pty,raw,echo=0,link=…` twice); the
 * simulator opens one end with serialport and answers in a vendor's dialect
 * (Quectel, Sierra, Huawei): echo on, URCs between replies and inside them,
 * a reply made slow or dropped on request, a SIM locked with a PIN, and a
 * restart on AT+CFUN=1,1 — it closes its end, socat is stopped (the links
 * disappear, as a USB modem's ttys do) and started again a moment later.
 * The code under test opens the other end, `hostPath`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SerialPort } from 'serialport';

export type Dialect = 'quectel' | 'sierra' | 'huawei';

export const SIM_IMEI: Readonly<Record<Dialect, string>> = {
  quectel: '867962041234567',
  sierra: '359072061234568',
  huawei: '862107031234569',
};
/** ICCIDs as the SIM holds them; Huawei reports EF_ICCID raw (nibble-swapped). */
export const SIM_ICCID: Readonly<Record<Dialect, string>> = {
  quectel: '89441000303123451234',
  sierra: '89014103211118510720',
  huawei: '89860117851013245678',
};

export interface SimulatorOptions {
  echo?: boolean;
  /** The SIM is locked with this PIN until it is entered. */
  pin?: string;
  /** Replies held back this long, per command. */
  slow?: Record<string, number>;
  /** Commands whose next reply is never sent (the echo still is). */
  drop?: string[];
  /** How long the port is away after AT+CFUN=1,1. */
  resetDownMs?: number;
}

const SOCAT_START_MS = 5000;

/** socat holding a pty pair, the two ends linked at fixed paths. */
class PtyPair {
  private proc: ChildProcess | undefined;

  constructor(
    readonly modemPath: string,
    readonly hostPath: string,
  ) {}

  async start(): Promise<void> {
    const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${this.modemPath}`, `pty,raw,echo=0,link=${this.hostPath}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.proc = proc;
    let stderr = '';
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (c: string) => {
      stderr += c;
    });
    const until = Date.now() + SOCAT_START_MS;
    while (!(existsSync(this.modemPath) && existsSync(this.hostPath) && /starting data transfer loop/.test(stderr))) {
      if (proc.exitCode !== null || Date.now() > until) throw new Error(`socat did not make the pty pair: ${stderr}`);
      await sleep(20);
    }
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([exited, sleep(2000)]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    }
    // socat removes its links on a clean exit; make sure of it.
    rmSync(this.modemPath, { force: true });
    rmSync(this.hostPath, { force: true });
  }
}

function swapNibbles(s: string): string {
  let out = '';
  for (let i = 0; i + 1 < s.length; i += 2) out += s[i + 1]! + s[i]!;
  return out;
}

export class ModemSimulator {
  /** Every command received, in order (the PIN too: held here for assertions, never printed). */
  readonly received: string[] = [];
  /** The APN set with AT+CGDCONT=1. */
  apn: string | undefined;
  resets = 0;
  private readonly pair: PtyPair;
  private readonly dir: string;
  private port: SerialPort | undefined;
  private inbox = '';
  private work: Promise<void> = Promise.resolve();
  private echo: boolean;
  private simLocked: boolean;
  private readonly drops: string[];
  private stopped = false;

  private constructor(
    readonly dialect: Dialect,
    private readonly opts: SimulatorOptions,
  ) {
    this.dir = mkdtempSync(path.join(tmpdir(), 'fieldcast-modem-sim-'));
    this.pair = new PtyPair(path.join(this.dir, 'modem'), path.join(this.dir, 'ttyUSB2'));
    this.echo = opts.echo ?? true;
    this.simLocked = opts.pin !== undefined;
    this.drops = [...(opts.drop ?? [])];
  }

  static async start(dialect: Dialect, opts: SimulatorOptions = {}): Promise<ModemSimulator> {
    const sim = new ModemSimulator(dialect, opts);
    try {
      await sim.pair.start();
      await sim.openPort();
    } catch (err) {
      await sim.stop();
      throw err;
    }
    return sim;
  }

  /** The end the code under test opens. */
  get hostPath(): string {
    return this.pair.hostPath;
  }

  /** Drop the next reply to `command`. */
  dropNext(command: string): void {
    this.drops.push(command);
  }

  /** A URC out of the blue, between replies. */
  async inject(line: string): Promise<void> {
    await this.write(`\r\n${line}\r\n`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.closePort();
    await this.pair.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private openPort(): Promise<void> {
    return new Promise((resolve, reject) => {
      const port = new SerialPort({ path: this.pair.modemPath, baudRate: 115_200, autoOpen: false });
      port.open((err) => {
        if (err) return reject(err);
        port.setEncoding('latin1');
        port.on('data', (chunk: string) => this.onData(chunk));
        port.on('error', () => undefined);
        this.port = port;
        resolve();
      });
    });
  }

  private closePort(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    if (!port?.isOpen) return Promise.resolve();
    return new Promise((resolve) => port.close(() => resolve()));
  }

  private write(text: string): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) return Promise.resolve();
    return new Promise((resolve) => port.write(text, 'latin1', () => port.drain(() => resolve())));
  }

  private onData(chunk: string): void {
    this.inbox += chunk;
    for (let at = this.inbox.search(/[\r\n]/); at >= 0; at = this.inbox.search(/[\r\n]/)) {
      const command = this.inbox.slice(0, at).trim();
      this.inbox = this.inbox.slice(at + 1);
      if (command === '') continue;
      // One command at a time, as a modem's AT interpreter does.
      this.work = this.work.then(() => this.handle(command)).catch(() => undefined);
    }
  }

  private async handle(command: string): Promise<void> {
    this.received.push(command);
    if (this.echo) await this.write(`${command}\r`);
    const drop = this.drops.indexOf(command);
    if (drop >= 0) {
      this.drops.splice(drop, 1);
      return;
    }
    const delay = this.opts.slow?.[command];
    if (delay) await sleep(delay);
    const { lines, final } = this.answer(command);
    // A URC inside the reply, after its first line.
    const body = lines.map((l) => `\r\n${l}\r\n`);
    body.splice(Math.min(1, body.length), 0, `\r\n${this.urc()}\r\n`);
    await this.write(`${body.join('')}\r\n${final}\r\n`);
    if (command.toUpperCase() === 'AT+CFUN=1,1') {
      await this.restart();
      return;
    }
    // And one between replies.
    if (command !== 'AT') await this.write(`\r\n${this.dialect === 'huawei' ? '^RSSI: 18' : '+CEREG: 1'}\r\n`);
  }

  private urc(): string {
    switch (this.dialect) {
      case 'quectel':
        return '+QIND: "csq",20,99';
      case 'sierra':
        return '+CREG: 1';
      case 'huawei':
        return '^HCSQ: "LTE",50,45,151,23';
    }
  }

  /** The modem reboots: its port goes away, and comes back a moment later, SIM locked again. */
  private async restart(): Promise<void> {
    this.resets++;
    await sleep(50);
    await this.closePort();
    await this.pair.stop();
    await sleep(this.opts.resetDownMs ?? 500);
    if (this.stopped) return;
    this.simLocked = this.opts.pin !== undefined;
    this.inbox = '';
    await this.pair.start();
    await this.openPort();
    await this.write('\r\nRDY\r\n');
  }

  private answer(command: string): { lines: string[]; final: string } {
    const ok = (...lines: string[]) => ({ lines, final: 'OK' });
    const cme = (n: number) => ({ lines: [], final: `+CME ERROR: ${n}` });
    const c = command.toUpperCase();
    const d = this.dialect;
    if (c === 'AT' || c === 'AT+CMEE=1' || c === 'AT+COPS=3,0' || c === 'AT+COPS=0' || /^AT\+CFUN=[01](,1)?$/.test(c)) return ok();
    if (c === 'ATE0' || c === 'ATE1') {
      this.echo = c === 'ATE1';
      return ok();
    }
    const pinSet = /^AT\+CPIN="(\d+)"$/i.exec(command);
    if (pinSet) {
      if (!this.simLocked) return cme(3);
      if (pinSet[1] !== this.opts.pin) return cme(16);
      this.simLocked = false;
      return ok();
    }
    const apn = /^AT\+CGDCONT=1,"IP","([^"]*)"$/i.exec(command);
    if (apn) {
      this.apn = apn[1];
      return ok();
    }
    const reg = this.simLocked ? 0 : 1;
    switch (c) {
      case 'AT+CGMI':
        return ok({ quectel: 'Quectel', sierra: 'Sierra Wireless, Incorporated', huawei: 'Huawei Technologies Co., Ltd.' }[d]);
      case 'AT+CGMM':
        return ok({ quectel: 'RM520N-GL', sierra: 'EM7455', huawei: 'ME909s-120' }[d]);
      case 'AT+CGMR':
        return ok({ quectel: 'RM520NGLAAR01A07M4G', sierra: 'SWI9X30C_02.24.05.06', huawei: '11.617.01.00.00' }[d]);
      case 'AT+CGSN':
        return ok(SIM_IMEI[d]);
      case 'AT+CPIN?':
        return ok(this.simLocked ? '+CPIN: SIM PIN' : '+CPIN: READY');
      case 'AT+COPS?':
        return this.simLocked ? ok('+COPS: 0') : ok(`+COPS: 0,0,"Fieldnet",${d === 'quectel' ? 11 : 7}`);
      case 'AT+CREG?':
        return ok(`+CREG: 0,${reg}`);
      case 'AT+CEREG?':
        return ok(`+CEREG: 0,${reg}`);
      case 'AT+C5GREG?':
        return d === 'quectel' ? ok(`+C5GREG: 0,${reg}`) : { lines: [], final: 'ERROR' };
      case 'AT+CSQ':
        return ok('+CSQ: 20,99');
    }
    if (d === 'quectel' && c === 'AT+QCCID') return ok(`+QCCID: ${SIM_ICCID.quectel}`);
    if (d === 'quectel' && c === 'AT+QENG="SERVINGCELL"') {
      return ok('+QENG: "servingcell","NOCONN","NR5G-SA","TDD",234,15,12AA54086,262,15EC,634080,78,7,-92,-11,18,1,-');
    }
    if (d === 'sierra' && c === 'AT!ICCID?') return ok(`ICCID: ${SIM_ICCID.sierra}`);
    if (d === 'sierra' && c === 'AT!GSTATUS?') {
      return ok(
        '!GSTATUS: ',
        'Current Time:  4561\t\tTemperature: 41',
        'Reset Counter: 1\t\tMode:        ONLINE         ',
        'System mode:   LTE        \tPS state:    Attached     ',
        'LTE band:      B7     \t\tLTE bw:      20 MHz  ',
        'LTE Rx chan:   3100\t\tLTE Tx chan: 21100',
        'EMM state:     Registered     \tNormal Service ',
        '',
        'PCC RxM RSSI:  -62\t\tRSRP (dBm):  -91',
        'PCC RxD RSSI:  -66\t\tRSRP (dBm):  -95',
        'Tx Power:      0\t\tTAC:         B4F1 (46321)',
        'RSRQ (dB):     -10.0\t\tCell ID:     0164A20F (23372303)',
        'SINR (dB):     12.4',
      );
    }
    if (d === 'huawei' && c === 'AT^ICCID?') return ok(`^ICCID: ${swapNibbles(SIM_ICCID.huawei)}`);
    if (d === 'huawei' && c === 'AT^HCSQ?') return ok('^HCSQ: "LTE",50,45,151,23');
    return { lines: [], final: 'ERROR' };
  }
}
