/** Parsers of PAT, PMT and SDT sections, for the analyser and for tests reading output back. */

import { DESCRIPTOR_TAG, TABLE_ID } from './constants.js';
import { crc32Mpeg2 } from './crc32.js';
import { readDvbString } from './tables.js';

export interface SectionHeader {
  tableId: number;
  syntax: boolean;
  /** Whole section length in bytes (3 + section_length). */
  length: number;
  idExtension: number;
  version: number;
  current: boolean;
}

export function sectionHeader(sec: Uint8Array): SectionHeader | undefined {
  if (sec.length < 3) return undefined;
  const length = 3 + (((sec[1]! & 0x0f) << 8) | sec[2]!);
  const syntax = (sec[1]! & 0x80) !== 0;
  if (!syntax) return { tableId: sec[0]!, syntax, length, idExtension: 0, version: 0, current: true };
  if (sec.length < 8) return undefined;
  return {
    tableId: sec[0]!,
    syntax,
    length,
    idExtension: (sec[3]! << 8) | sec[4]!,
    version: (sec[5]! >>> 1) & 0x1f,
    current: (sec[5]! & 1) === 1,
  };
}

/** A long-form section checks: its CRC over the whole section (CRC included) is zero. */
export function sectionCrcOk(sec: Uint8Array): boolean {
  return sec.length >= 12 && crc32Mpeg2(sec) === 0;
}

export interface PatInfo {
  transportStreamId: number;
  programs: { programNumber: number; pmtPid: number }[];
}

export function parsePat(sec: Uint8Array): PatInfo | undefined {
  const h = sectionHeader(sec);
  if (!h || h.tableId !== TABLE_ID.PAT || !h.syntax || h.length > sec.length || h.length < 12) return undefined;
  const programs: PatInfo['programs'] = [];
  for (let p = 8; p + 4 <= h.length - 4; p += 4) {
    programs.push({ programNumber: (sec[p]! << 8) | sec[p + 1]!, pmtPid: ((sec[p + 2]! & 0x1f) << 8) | sec[p + 3]! });
  }
  return { transportStreamId: h.idExtension, programs };
}

export interface PmtStreamInfo {
  streamType: number;
  pid: number;
  /** format_identifier of a registration descriptor, e.g. "KLVA". */
  registration?: string;
  descriptorTags: number[];
}

export interface PmtInfo {
  programNumber: number;
  pcrPid: number;
  streams: PmtStreamInfo[];
}

export function parsePmt(sec: Uint8Array): PmtInfo | undefined {
  const h = sectionHeader(sec);
  if (!h || h.tableId !== TABLE_ID.PMT || !h.syntax || h.length > sec.length || h.length < 16) return undefined;
  const end = h.length - 4;
  const pcrPid = ((sec[8]! & 0x1f) << 8) | sec[9]!;
  const infoLen = ((sec[10]! & 0x0f) << 8) | sec[11]!;
  const streams: PmtStreamInfo[] = [];
  let p = 12 + infoLen;
  while (p + 5 <= end) {
    const esLen = ((sec[p + 3]! & 0x0f) << 8) | sec[p + 4]!;
    const s: PmtStreamInfo = { streamType: sec[p]!, pid: ((sec[p + 1]! & 0x1f) << 8) | sec[p + 2]!, descriptorTags: [] };
    let d = p + 5;
    const dEnd = Math.min(end, d + esLen);
    while (d + 2 <= dEnd) {
      const tag = sec[d]!;
      const len = sec[d + 1]!;
      s.descriptorTags.push(tag);
      if (tag === DESCRIPTOR_TAG.REGISTRATION && len >= 4 && d + 6 <= dEnd)
        s.registration = Buffer.from(sec.subarray(d + 2, d + 6)).toString('latin1');
      d += 2 + len;
    }
    streams.push(s);
    p += 5 + esLen;
  }
  return { programNumber: h.idExtension, pcrPid, streams };
}

export interface SdtInfo {
  transportStreamId: number;
  services: { serviceId: number; serviceType: number; providerName: string; serviceName: string }[];
}

export function parseSdt(sec: Uint8Array): SdtInfo | undefined {
  const h = sectionHeader(sec);
  if (!h || h.tableId !== TABLE_ID.SDT_ACTUAL || !h.syntax || h.length > sec.length || h.length < 15) return undefined;
  const end = h.length - 4;
  const services: SdtInfo['services'] = [];
  let p = 11;
  while (p + 5 <= end) {
    const serviceId = (sec[p]! << 8) | sec[p + 1]!;
    const loopLen = ((sec[p + 3]! & 0x0f) << 8) | sec[p + 4]!;
    let d = p + 5;
    const dEnd = Math.min(end, d + loopLen);
    while (d + 2 <= dEnd) {
      const tag = sec[d]!;
      const len = sec[d + 1]!;
      if (tag === DESCRIPTOR_TAG.SERVICE && d + 2 + len <= dEnd && len >= 3) {
        const type = sec[d + 2]!;
        const pl = sec[d + 3]!;
        const provider = sec.subarray(d + 4, d + 4 + pl);
        const nl = sec[d + 4 + pl] ?? 0;
        const name = sec.subarray(d + 5 + pl, d + 5 + pl + nl);
        services.push({ serviceId, serviceType: type, providerName: readDvbString(provider), serviceName: readDvbString(name) });
      }
      d += 2 + len;
    }
    p += 5 + loopLen;
  }
  return { transportStreamId: h.idExtension, services };
}
