import { describe, expect, it } from 'vitest';
import { KLVA, PID, STREAM_TYPE } from '../../../src/mux/constants.js';
import { parsePat, parsePmt, parseSdt, sectionCrcOk } from '../../../src/mux/psi-parse.js';
import { SectionPackets } from '../../../src/mux/section.js';
import { SectionAssembler } from '../../../src/mux/section-assembler.js';
import { buildPat, buildPmt, buildSdt, registrationDescriptor } from '../../../src/mux/tables.js';

describe('PSI tables', () => {
  it('builds the PAT FFmpeg builds, byte for byte', () => {
    const pat = buildPat(1, [{ programNumber: 1, pmtPid: 0x1000 }]);
    expect(pat.toString('hex')).toBe('00b00d0001c100000001f0002ab104b2');
    expect(parsePat(pat)).toEqual({ transportStreamId: 1, programs: [{ programNumber: 1, pmtPid: 0x1000 }] });
  });

  it('builds a PMT with the KLV registration descriptor and reads it back', () => {
    const pmt = buildPmt(1, PID.VIDEO, [
      { streamType: STREAM_TYPE.H264, pid: PID.VIDEO },
      { streamType: STREAM_TYPE.AAC_ADTS, pid: PID.AUDIO },
      { streamType: STREAM_TYPE.PRIVATE_PES, pid: PID.KLV, descriptors: [registrationDescriptor(KLVA)] },
    ]);
    expect(sectionCrcOk(pmt)).toBe(true);
    const info = parsePmt(pmt)!;
    expect(info.pcrPid).toBe(PID.VIDEO);
    expect(info.streams.map((s) => [s.streamType, s.pid, s.registration])).toEqual([
      [0x1b, 0x100, undefined],
      [0x0f, 0x101, undefined],
      [0x06, 0x102, 'KLVA'],
    ]);
  });

  it('builds an SDT with provider and service names, UTF-8 when not ASCII', () => {
    const sdt = buildSdt(1, [{ serviceId: 1, providerName: 'Fieldcast', serviceName: 'Caméra 2' }]);
    expect(sectionCrcOk(sdt)).toBe(true);
    expect(parseSdt(sdt)!.services).toEqual([{ serviceId: 1, serviceType: 1, providerName: 'Fieldcast', serviceName: 'Caméra 2' }]);
  });

  it('detects a flipped bit by CRC', () => {
    const pat = buildPat(1, [{ programNumber: 1, pmtPid: 0x1000 }]);
    pat[9]! ^= 0x01;
    expect(sectionCrcOk(pat)).toBe(false);
  });
});

describe('section writer and reassembly', () => {
  it('splits a long section over packets and reassembles it', () => {
    const streams = Array.from({ length: 40 }, (_, i) => ({
      streamType: STREAM_TYPE.PRIVATE_PES,
      pid: 0x200 + i,
      descriptors: [registrationDescriptor(KLVA)],
    }));
    const pmt = buildPmt(1, 0x200, streams); // 12 + 40 × 11 + 4 bytes: three packets
    const packets = new SectionPackets(PID.PMT, pmt);
    expect(packets.count).toBe(3);
    const got: Buffer[] = [];
    const asm = new SectionAssembler((s) => got.push(s));
    const out = Buffer.alloc(188);
    for (let i = 0; i < packets.count; i++) {
      packets.copyPacket(i, out, 0, i);
      expect(out[0]).toBe(0x47);
      expect(out[3]! & 0x0f).toBe(i);
      asm.push(out.subarray(4), (out[1]! & 0x40) !== 0);
    }
    expect(got).toHaveLength(1);
    expect(got[0]!.equals(pmt)).toBe(true);
  });
});
