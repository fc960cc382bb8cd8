/**
 * `--forward` as the receiver takes it: one listener relayed to, or two it
 * sends each stream on to, each with its own SRT options; what it refuses
 * and how it says so. And what a unit's handshake tells the receiver about
 * a passphrase it lacks (the unit encrypts, the receiver cannot decrypt).
 */
import { describe, expect, it } from 'vitest';
import { SRT_CONTROL } from '../../../src/bond/protocol.js';
import { BondReceiver, FANOUT_MAX_GROUPS } from '../../../src/bond/receiver.js';
import { ReceiverOptionsError } from '../../../src/bond/receiver-errors.js';
import { FORWARD_LATENCY_DEFAULT_MS, planForwards } from '../../../src/bond/receiver-forwards.js';
import { callerEncryption, unitSessionProblem } from '../../../src/bond/srt-handshake.js';
import { Secret } from '../../../src/srt/secret.js';

const PASS = new Secret('unit-passphrase-123');

function refusal(f: () => unknown): ReceiverOptionsError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ReceiverOptionsError);
    expect((e as ReceiverOptionsError).code).toBe('RECEIVER_OPTIONS_INVALID');
    return e as ReceiverOptionsError;
  }
  throw new Error('it was accepted');
}

describe('planForwards', () => {
  it('one forward relays as before: its query is not read', () => {
    expect(planForwards('srt://10.0.1.20:5000?latency=900')).toEqual({ mode: 'relay', target: 'srt://10.0.1.20:5000?latency=900' });
    expect(planForwards(['127.0.0.1:9000'])).toEqual({ mode: 'relay', target: '127.0.0.1:9000' });
  });

  it("two forwards each get their own options from their URL, the rest from the unit's passphrase and the default latency", () => {
    const p = planForwards(
      ['srt://10.0.1.20:5000?latency=800&streamid=%23!::r=a', 'srt://flow-b.example.com:5001?passphrase=other-passphrase&pbkeylen=16'],
      { passphrase: PASS },
    );
    if (p.mode !== 'fanout') throw new Error('not fan-out');
    const [a, b] = p.forwards;
    expect(a).toMatchObject({ name: 'forward 1', latencyMs: 800, passphrase: 'unit-passphrase-123', pbkeylen: 32, streamId: '#!::r=a' });
    expect(b).toMatchObject({ name: 'forward 2', latencyMs: FORWARD_LATENCY_DEFAULT_MS, passphrase: 'other-passphrase', pbkeylen: 16 });
    // The URL kept holds no passphrase (the shape carries it apart).
    expect(b!.url).not.toContain('other-passphrase');
    expect(planForwards(['srt://a.example:1', 'srt://b.example:2'], { forwardLatencyMs: 400 })).toMatchObject({
      forwards: [{ latencyMs: 400 }, { latencyMs: 400 }],
    });
  });

  it('a fan-out receiver serves few groups unless told (one unit, and each group holds an SRT listener)', () => {
    expect(new BondReceiver({ forward: ['srt://a.example:1', 'srt://b.example:2'] }).options.maxGroups).toBe(FANOUT_MAX_GROUPS);
    expect(new BondReceiver({ forward: ['srt://a.example:1', 'srt://b.example:2'], maxGroups: 20 }).options.maxGroups).toBe(20);
    expect(new BondReceiver({ forward: 'srt://a.example:1' }).options.maxGroups).toBe(200);
  });

  it('refuses a third forward, saying why two', () => {
    const e = refusal(() => planForwards(['srt://a.example:1', 'srt://b.example:2', 'srt://c.example:3']));
    expect(e.message).toBe('at most 2 --forward (a MediaConnect flow takes two sources); 3 were given — run another receiver for more');
    // The receiver checks it where it is made: nothing starts.
    expect(() => new BondReceiver({ forward: ['srt://a.example:1', 'srt://b.example:2', 'srt://c.example:3'] })).toThrow(
      ReceiverOptionsError,
    );
  });

  it('refuses a bad URL naming the forward and what is wrong, never echoing a passphrase', () => {
    expect(refusal(() => planForwards(['srt://a.example:1', 'srt://b.example']))).toHaveProperty(
      'message',
      expect.stringMatching(/^--forward 2: "b.example" is not host:port/),
    );
    expect(refusal(() => planForwards(['rtmp://a.example:1', 'srt://b.example:2'])).message).toMatch(
      /^--forward 1: an SRT address starts with srt:\/\//,
    );
    const typo = refusal(() => planForwards(['srt://a.example:1', 'srt://b.example:2?passfrase=secret-words-here']));
    expect(typo.message).toMatch(/^--forward 2: unknown SRT parameter "passfrase"/);
    expect(typo.message).not.toContain('secret-words-here');
    expect(refusal(() => planForwards(['srt://a.example:1', 'srt://b.example:2?passphrase=short'])).message).toMatch(/^--forward 2/);
    expect(refusal(() => planForwards(['srt://a.example:1', 'srt://:2'])).message).toMatch(/^--forward 2: .*mode=caller/);
    expect(refusal(() => planForwards(['srt://a.example:1', 'srt://a.example:1?latency=300'])).message).toMatch(
      /the two --forward name the same listener \(a\.example:1\)/,
    );
  });

  it('refuses a passphrase that libsrt would, and a passphrase with one forward (the relay never decrypts)', () => {
    expect(refusal(() => planForwards(['srt://a.example:1', 'srt://b.example:2'], { passphrase: new Secret('short') })).message).toMatch(
      /passphrase must be a passphrase of 10 to 80 characters \(got 5 characters\)/,
    );
    expect(refusal(() => planForwards('srt://a.example:1', { passphrase: PASS })).message).toMatch(
      /a passphrase is for two --forward only/,
    );
    expect(refusal(() => planForwards(['srt://a.example:1', 'srt://b.example:2'], { forwardLatencyMs: 5 })).message).toMatch(
      /forward latency must be 20 to 15000 ms/,
    );
  });
});

/** A version 5 conclusion handshake as an SRT caller sends it (draft-sharabayko-srt §3.2.1), with or without its KMREQ. */
function conclusion(encrypted: boolean): Buffer {
  const hsreq = Buffer.alloc(4 + 12);
  hsreq.writeUInt16BE(1, 0); // SRT_CMD_HSREQ
  hsreq.writeUInt16BE(3, 2);
  const kmreq = Buffer.alloc(4 + 8);
  kmreq.writeUInt16BE(3, 0); // SRT_CMD_KMREQ
  kmreq.writeUInt16BE(2, 2);
  const b = Buffer.concat([Buffer.alloc(16 + 48), hsreq, ...(encrypted ? [kmreq] : [])]);
  b.writeUInt16BE(0x8000 | SRT_CONTROL.HANDSHAKE, 0);
  b.writeUInt32BE(5, 16); // version
  b.writeUInt16BE(encrypted ? 0x0003 : 0x0001, 22); // extension flags: HSREQ (+ KMREQ)
  b.writeUInt32BE(0xffffffff, 36); // CONCLUSION
  return b;
}

describe("what a unit's handshake says about its passphrase", () => {
  it('reads encryption from a conclusion, from its flag or its KMREQ block, and nothing from other packets', () => {
    expect(callerEncryption(conclusion(true))).toBe('encrypted');
    expect(callerEncryption(conclusion(false))).toBe('clear');
    const blockOnly = conclusion(true);
    blockOnly.writeUInt16BE(0x0001, 22);
    expect(callerEncryption(blockOnly)).toBe('encrypted');
    const induction = conclusion(true);
    induction.writeUInt32BE(1, 36);
    expect(callerEncryption(induction)).toBeUndefined();
    expect(callerEncryption(conclusion(true).subarray(0, 40))).toBeUndefined();
    expect(callerEncryption(Buffer.alloc(1316))).toBeUndefined();
  });

  it('a unit that encrypts, at a receiver without the passphrase: the operator is told to give it', () => {
    expect(unitSessionProblem('encrypted', false, 0)).toEqual({
      code: 'RECEIVE_PASSPHRASE_NEEDED',
      message: expect.stringContaining("start fieldcast receive with --passphrase-file FILE holding the unit's destination passphrase"),
    });
    expect(unitSessionProblem('clear', true, 0)?.code).toBe('RECEIVE_UNIT_NOT_ENCRYPTED');
    expect(unitSessionProblem('encrypted', true, 0)).toBeUndefined();
    expect(unitSessionProblem('encrypted', true, 3)?.code).toBe('RECEIVE_SESSION_REFUSED');
    expect(unitSessionProblem('clear', false, 9)).toBeUndefined();
  });
});
