/**
 * Prepares an H.264 access unit for the TS (ITU-T H.264 Annex B; ISO/IEC
 * 13818-1 §2.14): an access unit delimiter first on every picture, and the
 * SPS/PPS (cached from the stream) in front of every IDR the encoder sent
 * without them, so a receiver can start decoding at any IDR.
 */
import { createLogger } from '../lib/logger.js';
import { MuxInputError } from './errors.js';
import { AUD_NAL, forEachNal, isVcl, NAL_TYPE, startsWithStartCode } from './h264.js';

const log = createLogger('mux');
const START_CODE_4 = Buffer.from([0, 0, 0, 1]);

export interface PreparedPicture {
  idr: boolean;
  /** Parts to send in order; `count` of them are valid (the array is reused). */
  parts: Buffer[];
  count: number;
}

export class VideoAuPreparer {
  private sps: Buffer | undefined;
  private pps: Buffer | undefined;
  private warnedNoParams = false;
  private readonly result: PreparedPicture = { idr: false, parts: [], count: 0 };

  /**
   * Checks and prepares one access unit. Throws MuxInputError, having changed
   * nothing, when it is not Annex B or has no picture. The result is reused by
   * the next call.
   */
  prepare(data: Buffer, key: boolean): PreparedPicture {
    if (!startsWithStartCode(data))
      throw new MuxInputError('video access unit is not H.264 Annex B (no start code at its beginning)', { bytes: data.length });
    let audEnd = -1;
    let sps: [number, number] | undefined;
    let pps: [number, number] | undefined;
    let vcl = 0;
    forEachNal(data, (_start, header, end) => {
      const type = data[header]! & 0x1f;
      if (type === NAL_TYPE.AUD && audEnd < 0) audEnd = end;
      else if (type === NAL_TYPE.SPS && !sps) sps = [header, end];
      else if (type === NAL_TYPE.PPS && !pps) pps = [header, end];
      else if (isVcl(type)) {
        vcl = type;
        return false;
      }
      return true;
    });
    if (vcl === 0) throw new MuxInputError('video access unit holds no picture (no slice NAL unit)', { bytes: data.length });

    if (sps) this.sps = remember(this.sps, data, sps);
    if (pps) this.pps = remember(this.pps, data, pps);
    const r = this.result;
    r.idr = vcl === NAL_TYPE.IDR || key;
    r.count = 0;
    const needParams = r.idr && (!sps || !pps);
    if (needParams && !(this.sps && this.pps) && !this.warnedNoParams) {
      this.warnedNoParams = true;
      log.warn('an IDR picture came without SPS/PPS and none were seen before: receivers cannot start decoding until they arrive');
    }
    const insert = needParams && this.sps !== undefined && this.pps !== undefined;
    if (audEnd < 0) {
      r.parts[r.count++] = AUD_NAL;
      if (insert) {
        r.parts[r.count++] = this.sps!;
        r.parts[r.count++] = this.pps!;
      }
      r.parts[r.count++] = data;
    } else if (insert) {
      r.parts[r.count++] = data.subarray(0, audEnd);
      r.parts[r.count++] = this.sps!;
      r.parts[r.count++] = this.pps!;
      r.parts[r.count++] = data.subarray(audEnd);
    } else {
      r.parts[r.count++] = data;
    }
    return r;
  }
}

/** Keeps a copy of a parameter set (with a 4-byte start code); copies only when it changed. */
function remember(cached: Buffer | undefined, data: Buffer, [from, to]: [number, number]): Buffer {
  const len = to - from;
  if (cached && cached.length === len + 4 && data.compare(cached, 4, cached.length, from, to) === 0) return cached;
  const copy = Buffer.allocUnsafe(len + 4);
  START_CODE_4.copy(copy, 0);
  data.copy(copy, 4, from, to);
  return copy;
}
