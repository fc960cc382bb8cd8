import { describe, expect, it } from 'vitest';
import { parseSps, startsWithStartCode } from '../../../src/mux/h264.js';
import { parseAdtsHeader, readAdtsFile, readKlvFile, scanKlvPackets, splitNalUnits } from '../../../src/mux/index.js';
import { adtsFrame, klvPacket, picture, SPS_640x360_30 } from './helpers.js';

describe('H.264 Annex B', () => {
  it('splits NAL units with 3- and 4-byte start codes', () => {
    const buf = Buffer.concat([Buffer.from('0000000109f0', 'hex'), Buffer.from('00000167aa', 'hex'), Buffer.from('0000000165bbcc', 'hex')]);
    expect(splitNalUnits(buf).map((n) => [n.type, n.start, n.header, n.end])).toEqual([
      [9, 0, 4, 6],
      [7, 6, 9, 11],
      [5, 11, 15, 18],
    ]);
    expect(startsWithStartCode(buf)).toBe(true);
    expect(startsWithStartCode(Buffer.from('0102', 'hex'))).toBe(false);
  });

  it('reads size and frame rate from the SPS VUI timing info', () => {
    const sps = parseSps(SPS_640x360_30.subarray(4));
    expect(sps).toMatchObject({ width: 640, height: 360, profileIdc: 66, frameRate: { num: 30, den: 1 }, pocType: 2 });
  });

  it('throws on a truncated SPS rather than inventing fields', () => {
    expect(() => parseSps(SPS_640x360_30.subarray(4, 9))).toThrow(RangeError);
  });

  it('finds the pictures of a stream', () => {
    const pics = splitNalUnits(Buffer.concat([picture(0, { idr: true }), picture(1, { idr: false })]));
    expect(pics.map((n) => n.type)).toEqual([7, 8, 5, 1]);
  });
});

describe('ADTS and KLV', () => {
  it('parses an ADTS header and times frames by their samples', () => {
    expect(parseAdtsHeader(adtsFrame(100), 0)).toMatchObject({ frameLength: 107, sampleRate: 48_000, channels: 2, objectType: 2 });
    const track = readAdtsFile(Buffer.concat([adtsFrame(), adtsFrame(), adtsFrame()]), { startPts: 1000 });
    expect(track.units.map((u) => u.pts)).toEqual([1000, 2920, 4840]);
    expect(() => readAdtsFile(Buffer.concat([adtsFrame(), Buffer.from('junk')]))).toThrow(/byte 307/);
  });

  it('splits KLV packets with short and long BER lengths', () => {
    const long = Buffer.concat([klvPacket(0).subarray(0, 16), Buffer.from([0x82, 0x01, 0x00]), Buffer.alloc(256)]);
    const { packets, badOffset } = scanKlvPackets(Buffer.concat([klvPacket(10), long]));
    expect(badOffset).toBeUndefined();
    expect(packets).toEqual([
      { offset: 0, size: 27 },
      { offset: 27, size: 275 },
    ]);
    expect(readKlvFile(Buffer.concat([klvPacket(), klvPacket()]), { startPts: 0, spanPts: 90_000 }).map((u) => u.pts)).toEqual([0, 45_000]);
    expect(scanKlvPackets(Buffer.from('not klv at all, not at all')).badOffset).toBe(0);
  });
});
