import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeSrtla,
  decodeSrtNak,
  encodeKeepalive,
  encodeReg1,
  encodeReg2,
  encodeShortReply,
  encodeSrtAck,
  encodeSrtData,
  encodeSrtlaAck,
  encodeSrtNak,
  idMatchesOurHalf,
  isControl,
  isRetransmission,
  isSrtData,
  isSrtla,
  KEEPALIVE_EXT_LEN,
  MIN_CONTROL_LEN,
  SRT_CONTROL,
  SRTLA_REG_LEN,
  srtAckSeq,
  srtControlType,
  srtDataSeq,
} from '../../../src/bond/protocol.js';
import { forEachSeq, SEQ_MAX, seqAdd, seqDiff, seqLess } from '../../../src/bond/sequence.js';
import { encodeRegNak } from './packets.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('SRT sequence arithmetic (31-bit wrap)', () => {
  it('adds and subtracts across the wrap', () => {
    expect(seqAdd(SEQ_MAX, 1)).toBe(0);
    expect(seqAdd(0, -1)).toBe(SEQ_MAX);
    expect(seqDiff(2, SEQ_MAX - 1)).toBe(4);
    expect(seqDiff(SEQ_MAX - 1, 2)).toBe(-4);
    expect(seqLess(SEQ_MAX, 0)).toBe(true);
    expect(seqLess(0, SEQ_MAX)).toBe(false);
    expect(seqDiff(100, 100)).toBe(0);
  });
});

describe('SRT packet facts', () => {
  it('reads the 31-bit sequence of a data packet', () => {
    const pkt = hex('7fffffff c0000001 00000000 00000000 47');
    expect(isSrtData(pkt)).toBe(true);
    expect(isControl(pkt)).toBe(false);
    expect(srtDataSeq(pkt)).toBe(SEQ_MAX);
    expect(srtDataSeq(encodeSrtData(12345, Buffer.alloc(4)))).toBe(12345);
  });

  it('rejects a data packet shorter than the SRT header', () => {
    expect(isSrtData(hex('00000001 c0000001'))).toBe(false);
    expect(srtDataSeq(hex('00000001'))).toBeUndefined();
  });

  it('sees the retransmission flag', () => {
    expect(isRetransmission(encodeSrtData(1, Buffer.alloc(1), 0, true))).toBe(true);
    expect(isRetransmission(encodeSrtData(1, Buffer.alloc(1), 0, false))).toBe(false);
  });

  it('reads the acknowledged sequence of an SRT ACK, full and light', () => {
    const ack = hex('80020000 00000007 00000000 11223344 0000abcd' + '00'.repeat(24));
    expect(srtControlType(ack)).toBe(SRT_CONTROL.ACK);
    expect(srtAckSeq(ack)).toBe(0xabcd);
    expect(srtAckSeq(encodeSrtAck(SEQ_MAX, 3, 0, false))).toBe(SEQ_MAX);
    expect(srtAckSeq(hex('80020000 00000007 00000000 11223344'))).toBeUndefined();
  });

  it('decodes a NAK loss list with single losses and ranges', () => {
    const nak = hex('80030000 00000000 00000000 00000000 00000005 80000010 00000014 7fffffff');
    const r = decodeSrtNak(nak);
    expect(r).toEqual({
      kind: 'nak',
      ranges: [
        { from: 5, to: 5 },
        { from: 16, to: 20 },
        { from: SEQ_MAX, to: SEQ_MAX },
      ],
    });
    const seqs: number[] = [];
    if (r.kind === 'nak') forEachSeq(r.ranges, (s) => seqs.push(s));
    expect(seqs).toEqual([5, 16, 17, 18, 19, 20, SEQ_MAX]);
  });

  it('decodes a NAK range across the wrap and round-trips the encoder', () => {
    const ranges = [
      { from: SEQ_MAX - 1, to: 1 },
      { from: 9, to: 9 },
    ];
    const r = decodeSrtNak(encodeSrtNak(ranges));
    expect(r).toEqual({ kind: 'nak', ranges });
    const seqs: number[] = [];
    if (r.kind === 'nak') forEachSeq(r.ranges, (s) => seqs.push(s));
    expect(seqs).toEqual([SEQ_MAX - 1, SEQ_MAX, 0, 1, 9]);
  });

  it('calls a NAK malformed rather than throwing', () => {
    expect(decodeSrtNak(hex('80030000 00000000 00000000 00000000 80000010')).kind).toBe('malformed');
    expect(decodeSrtNak(hex('80030000 00000000 00000000 00000000 000005')).kind).toBe('malformed');
    expect(decodeSrtNak(hex('80030000 00000000 00000000 00000000')).kind).toBe('malformed');
    expect(decodeSrtNak(hex('80030000 00000000 00000000 00000000 80000010 80000020')).kind).toBe('malformed');
    expect(decodeSrtNak(hex('80020000 00000000 00000000 00000000 00000001')).kind).toBe('malformed');
  });

  it('caps how many sequence numbers a hostile NAK range expands to', () => {
    let n = 0;
    forEachSeq([{ from: 0, to: 0x3fffffff }], () => n++, 1000);
    expect(n).toBe(1000);
  });
});

describe('SRTLA packets', () => {
  it('tells SRTLA control packets from SRT ones', () => {
    expect(isSrtla(hex('9000'))).toBe(true);
    expect(isSrtla(hex('92120000'))).toBe(true);
    expect(isSrtla(encodeSrtAck(1))).toBe(false);
    expect(isSrtla(encodeSrtData(1, Buffer.alloc(1)))).toBe(false);
    expect(decodeSrtla(encodeSrtAck(1))).toBeUndefined();
    expect(srtControlType(encodeKeepalive(5))).toBeUndefined();
  });

  it('decodes the standard 2-byte keepalive and the 10-byte timestamp form', () => {
    expect(decodeSrtla(hex('9000'))).toEqual({ kind: 'keepalive' });
    expect(decodeSrtla(hex('9000 0000018bcfe56800'))).toEqual({ kind: 'keepalive', timestampMs: 0x18bcfe56800 });
  });

  it('pads a timestamped keepalive to the carrier-NAT minimum and reads it back', () => {
    const ka = encodeKeepalive(123456789);
    // Type, 8-byte timestamp, then zeros up to the minimum.
    expect(ka.toString('hex')).toBe(`9000${(123456789).toString(16).padStart(16, '0')}${'00'.repeat(MIN_CONTROL_LEN - 10)}`);
    expect(decodeSrtla(ka)).toEqual({ kind: 'keepalive', timestampMs: 123456789 });
  });

  it('encodes the 38-byte extended keepalive byte for byte', () => {
    const info = { linkId: 3, window: 20000, inFlight: -1, rttMs: 70, nakCount: 9, bytesPerSecond: 625000 };
    const ka = encodeKeepalive(0x0102030405, info);
    expect(ka.length).toBe(KEEPALIVE_EXT_LEN);
    expect(ka.toString('hex')).toBe(
      ['9000', '0000000102030405', 'c01f', '0001', '00000003', '00004e20', 'ffffffff', '00000046', '00000009', '00098968'].join(''),
    );
    expect(decodeSrtla(ka)).toEqual({ kind: 'keepalive', timestampMs: 0x0102030405, info });
  });

  it('ignores the extension when the magic or version does not match', () => {
    const ka = encodeKeepalive(77, { linkId: 1, window: 1, inFlight: 1, rttMs: 1, nakCount: 1, bytesPerSecond: 1 });
    ka.writeUInt16BE(2, 12);
    expect(decodeSrtla(ka)).toEqual({ kind: 'keepalive', timestampMs: 77 });
  });

  it('round-trips an SRTLA ACK and rejects bad lengths', () => {
    const seqs = [1, 2, 3, SEQ_MAX, 0, 5, 6, 7, 8, 9];
    const ack = encodeSrtlaAck(seqs);
    expect(ack.length).toBe(44);
    expect(ack.subarray(0, 4).toString('hex')).toBe('91000000');
    expect(decodeSrtla(ack)).toEqual({ kind: 'ack', seqs });
    expect(decodeSrtla(hex('9100 00'))).toMatchObject({ kind: 'malformed' });
    expect(decodeSrtla(hex('91000000 000001'))).toMatchObject({ kind: 'malformed' });
    expect(decodeSrtla(hex('91000000 80000001'))).toMatchObject({ kind: 'malformed' });
    expect(decodeSrtla(hex('91000000'))).toEqual({ kind: 'ack', seqs: [] });
  });

  it('round-trips REG1 and REG2 and checks their exact length', () => {
    const id = randomBytes(256);
    const r1 = encodeReg1(id);
    expect(r1.length).toBe(SRTLA_REG_LEN);
    expect(r1.subarray(0, 2).toString('hex')).toBe('9200');
    expect(decodeSrtla(r1)).toEqual({ kind: 'reg1', id });
    expect(decodeSrtla(encodeReg2(id))).toEqual({ kind: 'reg2', id });
    expect(decodeSrtla(r1.subarray(0, 200))).toMatchObject({ kind: 'malformed' });
    expect(decodeSrtla(Buffer.concat([r1, Buffer.alloc(1)]))).toMatchObject({ kind: 'malformed' });
    expect(() => encodeReg1(Buffer.alloc(10))).toThrow(RangeError);
  });

  it('accepts short replies in the standard 2-byte form and padded', () => {
    expect(decodeSrtla(hex('9202'))).toEqual({ kind: 'reg3' });
    expect(decodeSrtla(hex('9210'))).toEqual({ kind: 'regErr' });
    expect(decodeSrtla(hex('9211'))).toEqual({ kind: 'regNgp' });
    expect(encodeShortReply('reg3').length).toBe(2);
    expect(encodeShortReply('regNgp', true).length).toBe(MIN_CONTROL_LEN);
    expect(decodeSrtla(encodeShortReply('regErr', true))).toEqual({ kind: 'regErr' });
  });

  it('reads a REG_NAK reason as printable text only', () => {
    expect(decodeSrtla(encodeRegNak('too many groups'))).toEqual({ kind: 'regNak', text: 'too many groups' });
    expect(decodeSrtla(Buffer.concat([hex('9212'), Buffer.from('bad\x1b[31mred\n')]))).toEqual({ kind: 'regNak', text: 'bad?[31mred?' });
    expect(decodeSrtla(hex('9212'))).toEqual({ kind: 'regNak', text: '' });
  });

  it('reports unknown SRTLA types as malformed', () => {
    expect(decodeSrtla(hex('9299'))).toMatchObject({ kind: 'malformed' });
  });

  it('matches the receiver-completed id against our half', () => {
    const ours = randomBytes(256);
    const full = Buffer.concat([ours.subarray(0, 128), randomBytes(128)]);
    expect(idMatchesOurHalf(ours, full)).toBe(true);
    full[5] = (full[5]! + 1) & 0xff;
    expect(idMatchesOurHalf(ours, full)).toBe(false);
  });

  it('never throws on random or truncated input', () => {
    for (let i = 0; i < 20000; i++) {
      const len = i % 300;
      const b = randomBytes(len);
      // Often an SRTLA (0x90–0x92) or SRT control (0x80) first byte, so the decoders go past their first check.
      if (i % 3 === 0 && len >= 2) b[0] = 0x90 + ((i / 3) % 3);
      if (i % 5 === 0 && len >= 2) b[0] = 0x80;
      expect(() => {
        decodeSrtla(b);
        decodeSrtNak(b);
        srtAckSeq(b);
        srtDataSeq(b);
      }).not.toThrow();
    }
  });
});
