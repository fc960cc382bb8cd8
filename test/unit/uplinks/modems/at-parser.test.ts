import { describe, expect, it } from 'vitest';
import { commandTimeoutMs, displayCommand, replyPrefix } from '../../../../src/uplinks/modems/at-command.js';
import { AtLineSplitter, type AtParserEvent, AtReplyParser } from '../../../../src/uplinks/modems/at-parser.js';

function replies(events: AtParserEvent[]) {
  return events.flatMap((e) => (e.kind === 'reply' ? [e.reply] : []));
}
function urcs(events: AtParserEvent[]) {
  return events.flatMap((e) => (e.kind === 'urc' ? [e.urc] : []));
}

describe('AtLineSplitter', () => {
  it('joins a line split across chunks and accepts CR, LF and CRLF', () => {
    const s = new AtLineSplitter();
    expect(s.push('\r\n+CS')).toEqual([]);
    expect(s.push('Q: 20,')).toEqual([]);
    expect(s.push('99\r')).toEqual(['+CSQ: 20,99']);
    expect(s.push('\n\r\nOK\r\n')).toEqual(['OK']);
    expect(s.push('a\nb\rc\r\n')).toEqual(['a', 'b', 'c']);
  });
});

describe('AtReplyParser', () => {
  it('drops the echo and ends the reply at OK', () => {
    const p = new AtReplyParser();
    p.begin('AT+CSQ');
    const [reply] = replies(p.push('AT+CSQ\r\r\n+CSQ: 20,99\r\n\r\nOK\r\n'));
    expect(reply).toEqual({ command: 'AT+CSQ', lines: ['+CSQ: 20,99'], final: 'OK', ok: true });
    expect(p.busy).toBe(false);
  });

  it('takes URCs out of a reply and emits them, typed', () => {
    const p = new AtReplyParser();
    p.begin('AT+CGMM');
    const events = p.push('AT+CGMM\r\r\n+CEREG: 1,"2B0D","0132F10B",7\r\nEC25\r\n\r\nRING\r\n^RSSI: 18\r\n+QIND: "csq",20,99\r\nOK\r\n');
    expect(replies(events)).toEqual([{ command: 'AT+CGMM', lines: ['EC25'], final: 'OK', ok: true }]);
    const u = urcs(events);
    expect(u.map((x) => x.kind)).toEqual(['registration', 'ring', 'signal', 'other']);
    const reg = u[0];
    expect(reg?.kind === 'registration' && reg.registration).toMatchObject({
      domain: 'eps',
      state: 'home',
      areaCode: '2B0D',
      cellId: '0132F10B',
      act: 7,
    });
  });

  it('keeps a line with the command’s own prefix in the reply, a URC with it outside', () => {
    const p = new AtReplyParser();
    p.begin('AT+CREG?');
    const events = p.push('+CEREG: 5\r\n+CREG: 2,1,"00C3","0000A1B2",7\r\nOK\r\n');
    expect(replies(events)[0]?.lines).toEqual(['+CREG: 2,1,"00C3","0000A1B2",7']);
    expect(urcs(events)).toHaveLength(1);
    const after = urcs(p.push('+CREG: 2\r\n'));
    expect(after[0]?.kind === 'registration' && after[0].registration.state).toBe('searching');
  });

  it('with echo on, a URC with the command’s own prefix that comes before the echo is a URC', () => {
    const p = new AtReplyParser();
    p.begin('AT');
    p.push('AT\r\r\nOK\r\n');
    p.begin('AT+CEREG?');
    const events = p.push('\r\n+CEREG: 1\r\nAT+CEREG?\r\r\n+CEREG: 0,1\r\n\r\nOK\r\n');
    expect(replies(events)[0]?.lines).toEqual(['+CEREG: 0,1']);
    expect(urcs(events).map((u) => u.line)).toEqual(['+CEREG: 1']);
    // After ATE0 the modem no longer echoes: its replies are read all the same.
    p.begin('ATE0');
    p.push('ATE0\r\r\nOK\r\n');
    p.begin('AT+CEREG?');
    expect(replies(p.push('\r\n+CEREG: 0,5\r\n\r\nOK\r\n'))[0]?.lines).toEqual(['+CEREG: 0,5']);
  });

  it('ends a reply at +CME ERROR, numeric or verbose, and at ERROR', () => {
    const p = new AtReplyParser();
    p.begin('AT+CPIN="1234"');
    expect(replies(p.push('AT+CPIN="1234"\r\r\n+CME ERROR: 16\r\n'))[0]).toMatchObject({ ok: false, cmeError: 16 });
    p.begin('AT+CCID');
    expect(replies(p.push('\r\n+CME ERROR: SIM not inserted\r\n'))[0]).toMatchObject({ ok: false, cmeError: 10 });
    p.begin('AT+C5GREG?');
    expect(replies(p.push('\r\nERROR\r\n'))[0]).toEqual({ command: 'AT+C5GREG?', lines: [], final: 'ERROR', ok: false });
    p.begin('ATD*99#');
    expect(replies(p.push('\r\nNO CARRIER\r\n'))[0]?.ok).toBe(false);
  });

  it('reads the many lines of a table reply (AT!GSTATUS?)', () => {
    const p = new AtReplyParser();
    p.begin('AT!GSTATUS?');
    const [r] = replies(p.push('!GSTATUS: \r\nSystem mode:   LTE\tPS state:    Attached\r\n\r\nRSRQ (dB):     -10.0\r\n\r\nOK\r\n'));
    expect(r?.lines).toEqual(['!GSTATUS:', 'System mode:   LTE\tPS state:    Attached', 'RSRQ (dB):     -10.0']);
  });

  it('outside a command, lines are URCs and a leftover result code is stray', () => {
    const p = new AtReplyParser();
    const events = p.push('\r\nRDY\r\n+CPIN: READY\r\nOK\r\n');
    expect(urcs(events).map((u) => u.kind)).toEqual(['ready', 'sim']);
    expect(events.at(-1)).toEqual({ kind: 'stray', line: 'OK' });
  });

  it('drops the late reply of an abandoned command instead of giving it to the next', () => {
    const p = new AtReplyParser();
    p.begin('AT+CGSN');
    p.abandon();
    const late = p.push('867962041234567\r\n+CREG: 1\r\nOK\r\n');
    expect(late.map((e) => e.kind)).toEqual(['stray', 'urc', 'stray']);
    p.begin('AT+CGMI');
    expect(replies(p.push('Quectel\r\nOK\r\n'))[0]?.lines).toEqual(['Quectel']);
  });

  it('with echo on, a late reply that comes after the next command was sent is not taken for its answer', () => {
    const p = new AtReplyParser();
    p.begin('AT');
    p.push('AT\r\r\nOK\r\n');
    p.begin('AT+CSQ');
    p.push('AT+CSQ\r');
    p.abandon();
    p.begin('AT+CGMM');
    const events = p.push('\r\n+CSQ: 20,99\r\n\r\nOK\r\nAT+CGMM\r\r\nEC25\r\n\r\nOK\r\n');
    expect(replies(events)).toEqual([{ command: 'AT+CGMM', lines: ['EC25'], final: 'OK', ok: true }]);
  });
});

describe('AT command facts', () => {
  it('never shows a PIN', () => {
    expect(displayCommand('AT+CPIN="1234"')).toBe('AT+CPIN=[redacted]');
    expect(displayCommand('AT+CLCK="SC",0,"1234"')).toBe('AT+CLCK=[redacted]');
    expect(displayCommand('AT+CPIN?')).toBe('AT+CPIN?');
  });

  it('gives slow commands longer', () => {
    expect(commandTimeoutMs('AT+CSQ')).toBe(5000);
    expect(commandTimeoutMs('AT+CFUN=1,1')).toBeGreaterThan(5000);
    expect(commandTimeoutMs('AT+COPS=0')).toBeGreaterThan(commandTimeoutMs('AT+CFUN=0'));
    expect(commandTimeoutMs('AT+COPS=3,0')).toBe(5000);
  });

  it('knows each command’s reply prefix', () => {
    expect(replyPrefix('AT+CREG?')).toBe('+CREG:');
    expect(replyPrefix('AT^HCSQ?')).toBe('^HCSQ:');
    expect(replyPrefix('AT!GSTATUS?')).toBe('!GSTATUS:');
    expect(replyPrefix('AT+QENG="servingcell"')).toBe('+QENG:');
    expect(replyPrefix('AT')).toBeUndefined();
  });
});
