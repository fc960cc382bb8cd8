/** SRTLA packets that only the tests build: Fieldcast's receiver never sends them. */
import { SRTLA_TYPE } from '../../../src/bond/protocol.js';

/** REG_NAK with an optional reason (ASCII, at most 200 bytes), as a receiver that refuses for good sends it. */
export function encodeRegNak(text = ''): Buffer {
  const t = Buffer.from(text.replace(/[^\x20-\x7e]/g, '?').slice(0, 200), 'latin1');
  const buf = Buffer.alloc(2 + t.length);
  buf.writeUInt16BE(SRTLA_TYPE.REG_NAK, 0);
  buf.set(t, 2);
  return buf;
}
