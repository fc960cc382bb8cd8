import { describe, expect, it } from 'vitest';
import { PCR_WRAP, TS_WRAP } from '../../../src/lib/clock.js';
import { crc32Mpeg2 } from '../../../src/mux/crc32.js';
import { NO_FLAGS, readPcr, writePacketHeader, writePcr } from '../../../src/mux/packet.js';
import { parsePesHeader, readTimestamp, writePesHeader, writeTimestamp } from '../../../src/mux/pes.js';

describe('section CRC (CRC-32/MPEG-2)', () => {
  it('matches the catalogue check value and checks to zero with its own CRC appended', () => {
    expect(crc32Mpeg2(Buffer.from('123456789'))).toBe(0x0376e6e7);
    const sec = Buffer.from('00b00d0001c100000001f0002ab104b2', 'hex'); // a PAT as FFmpeg writes it
    expect(crc32Mpeg2(sec)).toBe(0);
  });
});

describe('PCR encoding', () => {
  it('writes base and extension and reads them back, wrapping at 2^33 × 300', () => {
    const b = Buffer.alloc(6);
    for (const pcr of [0, 299, 300, 27_000_000 * 3600 + 123, PCR_WRAP - 1]) {
      writePcr(b, 0, pcr);
      expect(readPcr(b, 0)).toBe(pcr);
      expect(b[4]! & 0x7e).toBe(0x7e); // reserved bits set
    }
    writePcr(b, 0, PCR_WRAP + 301);
    expect(readPcr(b, 0)).toBe(301);
    writePcr(b, 0, -300);
    expect(readPcr(b, 0)).toBe(PCR_WRAP - 300);
  });
});

describe('PTS/DTS', () => {
  it('encodes 33 bits with marker bits and wraps', () => {
    const b = Buffer.alloc(5);
    writeTimestamp(b, 0, 2, 0x1_2345_6789);
    expect(readTimestamp(b, 0)).toBe(0x1_2345_6789);
    expect(b[0]! >> 4).toBe(2);
    expect(b[0]! & 1).toBe(1);
    expect(b[2]! & 1).toBe(1);
    expect(b[4]! & 1).toBe(1);
    writeTimestamp(b, 0, 2, TS_WRAP + 90_000);
    expect(readTimestamp(b, 0)).toBe(90_000);
  });
});

describe('PES header', () => {
  it('writes PTS only when DTS equals it, both otherwise, none for async metadata', () => {
    const b = Buffer.alloc(32);
    let n = writePesHeader(b, 0, { streamId: 0xe0, pts: 1000, dts: 1000, payloadLength: 0, unbounded: true, aligned: true });
    expect(n).toBe(14);
    expect(b.readUInt16BE(4)).toBe(0); // unbounded video
    expect(b[6]).toBe(0x84); // data_alignment_indicator
    expect(parsePesHeader(b, 0, n)).toMatchObject({ streamId: 0xe0, pts: 1000, headerLength: 14 });
    n = writePesHeader(b, 0, { streamId: 0xe0, pts: 4000, dts: 1000, payloadLength: 0, unbounded: true, aligned: true });
    expect(n).toBe(19);
    expect(parsePesHeader(b, 0, n)).toMatchObject({ pts: 4000, dts: 1000 });
    n = writePesHeader(b, 0, { streamId: 0xc0, pts: 7, payloadLength: 100, unbounded: false, aligned: true });
    expect(n).toBe(14);
    expect(b.readUInt16BE(4)).toBe(3 + 5 + 100);
    expect(parsePesHeader(b, 0, n)).toMatchObject({ streamId: 0xc0, pts: 7, headerLength: 14 });
    n = writePesHeader(b, 0, { streamId: 0xbd, payloadLength: 50, unbounded: false, aligned: true });
    expect(n).toBe(9);
    expect(b[7]).toBe(0);
    expect(() => writePesHeader(b, 0, { streamId: 0xc0, pts: 0, payloadLength: 70_000, unbounded: false, aligned: true })).toThrow(
      RangeError,
    );
  });
});

describe('packet header', () => {
  it('stuffs the adaptation field so the payload ends the packet', () => {
    const b = Buffer.alloc(188);
    let at = writePacketHeader(b, 0, 0x100, true, 5, 184, NO_FLAGS);
    expect([b[0], b[1], b[2], b[3], at]).toEqual([0x47, 0x41, 0x00, 0x15, 4]);
    at = writePacketHeader(b, 0, 0x100, false, 6, 183, NO_FLAGS);
    expect([b[3], b[4], at]).toEqual([0x36, 0, 5]); // adaptation field of length 0
    at = writePacketHeader(b, 0, 0x100, false, 7, 10, { pcr: 27_000_000, randomAccess: true, discontinuity: false });
    expect(at).toBe(178);
    expect(b[4]).toBe(173);
    expect(b[5]).toBe(0x50); // random access + PCR
    expect(readPcr(b, 6)).toBe(27_000_000);
    expect(b.subarray(12, 178).every((x) => x === 0xff)).toBe(true);
    at = writePacketHeader(b, 0, 0x100, false, 7, 0, { pcr: 5, randomAccess: false, discontinuity: true });
    expect([b[3]! >> 4, b[4], b[5], at]).toEqual([2, 183, 0x90, 188]);
  });
});
