import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type LogRecord, setLogSink } from '../../../../src/lib/logger.js';
import { AtChannel } from '../../../../src/uplinks/modems/at-channel.js';
import { ModemAtError, ModemChannelClosedError, ModemNoAnswerError, ModemPortGoneError } from '../../../../src/uplinks/modems/errors.js';
import type { ModemUrc } from '../../../../src/uplinks/modems/urc.js';
import { FakeTransport, tableModem } from './fake-transport.js';

const dir = mkdtempSync(path.join(tmpdir(), 'fieldcast-at-'));
/** The reopen loop looks for the port's path before opening it: a plain file stands in for the device node. */
const DEVICE = path.join(dir, 'ttyUSB2');
writeFileSync(DEVICE, '');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const channels: AtChannel[] = [];
afterEach(async () => {
  for (const c of channels.splice(0)) await c.close();
  setLogSink(undefined);
});

async function open(transports: FakeTransport[], opts: { quietMs?: number } = {}): Promise<AtChannel> {
  let i = 0;
  const c = await AtChannel.open({
    path: DEVICE,
    openTransport: async () => {
      const t = transports[Math.min(i++, transports.length - 1)]!;
      return t;
    },
    reopenIntervalMs: 10,
    quietMs: opts.quietMs ?? 20,
  });
  channels.push(c);
  return c;
}

describe('AtChannel', () => {
  it('sends one command at a time, in order, each with its own reply', async () => {
    const t = new FakeTransport(DEVICE, tableModem({ 'AT+CGMI': ['Quectel', 'OK'], 'AT+CGMM': ['EC25', 'OK'] }));
    const c = await open([t]);
    const [a, b] = await Promise.all([c.send('AT+CGMI'), c.send('AT+CGMM')]);
    expect(a.lines).toEqual(['Quectel']);
    expect(b.lines).toEqual(['EC25']);
    expect(t.written).toEqual(['AT', 'AT+CGMI', 'AT+CGMM']);
  });

  it('emits URCs and keeps them out of replies', async () => {
    const t = new FakeTransport(DEVICE, tableModem({ 'AT+CSQ': ['+CSQ: 20,99', '+CREG: 5', 'OK'] }));
    const c = await open([t]);
    const urcs: ModemUrc[] = [];
    c.on('urc', (u) => urcs.push(u));
    expect((await c.send('AT+CSQ')).lines).toEqual(['+CSQ: 20,99']);
    t.emit('data', '\r\nRING\r\n');
    await new Promise((r) => setImmediate(r));
    expect(urcs.map((u) => u.kind)).toEqual(['registration', 'ring']);
  });

  it('rejects an ERROR reply with a ModemAtError that shows no PIN', async () => {
    const t = new FakeTransport(DEVICE, tableModem({ 'AT+CPIN="4321"': '+CME ERROR: 16' }));
    const c = await open([t]);
    const err = await c.send('AT+CPIN="4321"').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModemAtError);
    expect((err as ModemAtError).cmeError).toBe(16);
    expect((err as ModemAtError).message).not.toContain('4321');
    expect(JSON.stringify(err)).not.toContain('4321');
  });

  it('times out a lost reply with MODEM_NO_ANSWER; the next command works, even when the late reply arrives', async () => {
    const t = new FakeTransport(DEVICE, tableModem({}));
    const c = await open([t]);
    const records: LogRecord[] = [];
    setLogSink((r) => records.push(r));
    t.respond = () => undefined;
    const err = await c.send('AT+CGSN', { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModemNoAnswerError);
    expect((err as ModemNoAnswerError).code).toBe('MODEM_NO_ANSWER');
    // The reply turns up late, then the modem behaves again.
    t.emit('data', '\r\n867962041234567\r\n\r\nOK\r\n');
    t.respond = tableModem({ 'AT+CGMI': ['Quectel', 'OK'] });
    expect((await c.send('AT+CGMI')).lines).toEqual(['Quectel']);
    expect(JSON.stringify(records)).not.toContain('867962041234567');
  });

  it('fails waiting commands when the port goes, and comes back when it does', async () => {
    const first = new FakeTransport(DEVICE, tableModem({}));
    const second = new FakeTransport(DEVICE, tableModem({ 'AT+CGMM': ['EC25', 'OK'] }));
    first.respond = (cmd) => (cmd === 'AT' ? 'AT\r\r\nOK\r\n' : undefined);
    const c = await open([first, second]);
    const gone = c.next('gone');
    const pending = c.send('AT+CGMM').catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    first.vanish();
    expect(await pending).toBeInstanceOf(ModemPortGoneError);
    const [goneErr] = await gone;
    expect(goneErr.code).toBe('MODEM_PORT_GONE');
    expect(c.state).toBe('gone');
    await expect(c.send('AT+CGMM')).rejects.toBeInstanceOf(ModemPortGoneError);
    unlinkSync(DEVICE);
    // While the device node is away, the loop does not try to open it.
    await expect(c.whenOpen(AbortSignal.timeout(100))).rejects.toBeDefined();
    const back = c.next('back');
    writeFileSync(DEVICE, '');
    await c.whenOpen(AbortSignal.timeout(5000));
    expect(await back).toEqual([DEVICE]);
    expect(c.state).toBe('open');
    expect((await c.send('AT+CGMM')).lines).toEqual(['EC25']);
    expect(second.written).toEqual(['AT', 'AT+CGMM']);
  });

  it('close() is idempotent and fails what waits', async () => {
    const t = new FakeTransport(DEVICE, tableModem({}));
    const c = await open([t]);
    t.respond = (cmd) => (cmd === 'AT' ? 'OK\r\n' : undefined);
    const pending = c.send('AT+CSQ').catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    await c.close();
    await c.close();
    expect(await pending).toBeInstanceOf(ModemChannelClosedError);
    expect(t.closed).toBe(true);
    await expect(c.send('AT')).rejects.toBeInstanceOf(ModemChannelClosedError);
  });

  it('does not open a port where no modem answers', async () => {
    const t = new FakeTransport(DEVICE, () => undefined);
    await expect(AtChannel.open({ path: DEVICE, openTransport: async () => t, probeTimeoutMs: 20, reopen: false })).rejects.toBeInstanceOf(
      ModemNoAnswerError,
    );
    expect(t.closed).toBe(true);
  });
});
