/**
 * Builders of the PSI/SI tables Fieldcast sends: PAT and PMT (ISO/IEC
 * 13818-1 §2.4.4.3, §2.4.4.8) and SDT (ETSI EN 300 468 §5.2.3). Each returns
 * one complete section, CRC included.
 */

import { DESCRIPTOR_TAG, ORIGINAL_NETWORK_ID, SERVICE_TYPE_DIGITAL_TV, TABLE_ID } from './constants.js';
import { crc32Mpeg2 } from './crc32.js';

/** PSI sections are at most 1024 bytes (section_length ≤ 1021, §2.4.4.3). */
export const MAX_PSI_SECTION = 1024;

export interface PmtStream {
  streamType: number;
  pid: number;
  /** Raw descriptors (tag, length, body) for the ES_info loop. */
  descriptors?: Buffer[];
}

/** Finishes a long-form section: fills section_length and appends the CRC. */
function finishSection(body: number[]): Buffer {
  const sectionLength = body.length - 3 + 4; // after the length field, CRC included
  if (sectionLength > MAX_PSI_SECTION - 3) throw new RangeError(`section of ${sectionLength + 3} bytes exceeds ${MAX_PSI_SECTION}`);
  body[1] = (body[1]! & 0xf0) | ((sectionLength >>> 8) & 0x0f);
  body[2] = sectionLength & 0xff;
  const out = Buffer.alloc(body.length + 4);
  out.set(body);
  out.writeUInt32BE(crc32Mpeg2(out, 0, body.length), body.length);
  return out;
}

function u16(v: number): number[] {
  return [(v >>> 8) & 0xff, v & 0xff];
}

/** table_id, then section_syntax_indicator 1, '0', reserved '11', length placeholder. */
function longHeader(tableId: number, idExtension: number, version: number, privateBit = 0): number[] {
  return [tableId, 0xb0 | (privateBit << 6), 0, ...u16(idExtension), 0xc1 | ((version & 0x1f) << 1), 0, 0];
}

export function buildPat(transportStreamId: number, programs: { programNumber: number; pmtPid: number }[], version = 0): Buffer {
  const body = longHeader(TABLE_ID.PAT, transportStreamId, version);
  for (const p of programs) body.push(...u16(p.programNumber), 0xe0 | ((p.pmtPid >>> 8) & 0x1f), p.pmtPid & 0xff);
  return finishSection(body);
}

export function buildPmt(programNumber: number, pcrPid: number, streams: PmtStream[], version = 0): Buffer {
  const body = longHeader(TABLE_ID.PMT, programNumber, version);
  body.push(0xe0 | ((pcrPid >>> 8) & 0x1f), pcrPid & 0xff, 0xf0, 0x00); // no program descriptors
  for (const s of streams) {
    const desc = Buffer.concat(s.descriptors ?? []);
    body.push(s.streamType, 0xe0 | ((s.pid >>> 8) & 0x1f), s.pid & 0xff, 0xf0 | ((desc.length >>> 8) & 0x0f), desc.length & 0xff, ...desc);
  }
  return finishSection(body);
}

/** registration_descriptor (§2.6.8) with a 4-byte format_identifier such as "KLVA". */
export function registrationDescriptor(formatIdentifier: Buffer): Buffer {
  return Buffer.concat([Buffer.from([DESCRIPTOR_TAG.REGISTRATION, formatIdentifier.length]), formatIdentifier]);
}

/**
 * A DVB string (EN 300 468 Annex A): plain ASCII as is; anything else as
 * UTF-8 behind the 0x15 selector byte. At most 255 bytes.
 */
export function dvbString(text: string): Buffer {
  const ascii = /^[\x20-\x7e]*$/.test(text);
  const bytes = ascii ? Buffer.from(text, 'latin1') : Buffer.concat([Buffer.from([0x15]), Buffer.from(text, 'utf8')]);
  if (bytes.length > 255) throw new RangeError(`name "${text}" is longer than 255 bytes`);
  return bytes;
}

/** Decodes a DVB string written by dvbString (ASCII, or UTF-8 behind 0x15). */
export function readDvbString(bytes: Uint8Array): string {
  if (bytes.length > 0 && bytes[0] === 0x15) return Buffer.from(bytes.subarray(1)).toString('utf8');
  if (bytes.length > 0 && bytes[0]! < 0x20) return Buffer.from(bytes.subarray(1)).toString('latin1');
  return Buffer.from(bytes).toString('latin1');
}

export interface SdtService {
  serviceId: number;
  providerName: string;
  serviceName: string;
}

export function buildSdt(transportStreamId: number, services: SdtService[], version = 0): Buffer {
  const body = longHeader(TABLE_ID.SDT_ACTUAL, transportStreamId, version, 1);
  body.push(...u16(ORIGINAL_NETWORK_ID), 0xff);
  for (const s of services) {
    const provider = dvbString(s.providerName);
    const name = dvbString(s.serviceName);
    const descriptor = [
      DESCRIPTOR_TAG.SERVICE,
      3 + provider.length + name.length,
      SERVICE_TYPE_DIGITAL_TV,
      provider.length,
      ...provider,
      name.length,
      ...name,
    ];
    // EIT flags 0; running_status 4 (running), free_CA_mode 0 (EN 300 468 Table 6).
    body.push(...u16(s.serviceId), 0xfc, 0x80 | ((descriptor.length >>> 8) & 0x0f), descriptor.length & 0xff, ...descriptor);
  }
  return finishSection(body);
}
