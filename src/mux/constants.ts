/**
 * Named numbers of MPEG-TS (ISO/IEC 13818-1) and DVB SI (ETSI EN 300 468) that
 * the muxer writes and the analyser reads.
 */

/** A transport packet is 188 bytes starting with the sync byte 0x47 (§2.4.3.2). */
export const TS_PACKET_SIZE = 188;
export const TS_SYNC_BYTE = 0x47;
/** Payload bytes of a packet after its 4-byte header. */
export const TS_PAYLOAD_SIZE = 184;
/** SRT live mode carries 7 packets (1316 bytes) per datagram (FACTS.md, SRT). */
export const CHUNK_PACKETS = 7;
export const CHUNK_SIZE = CHUNK_PACKETS * TS_PACKET_SIZE;

/** PIDs Fieldcast uses. 0x0000 and 0x0011 are fixed by §2.4.4.3 and EN 300 468 §5.1.3; the rest follow FFmpeg's defaults. */
export const PID = {
  PAT: 0x0000,
  CAT: 0x0001,
  SDT: 0x0011,
  PMT: 0x1000,
  VIDEO: 0x0100,
  AUDIO: 0x0101,
  KLV: 0x0102,
  NULL: 0x1fff,
} as const;

/** stream_type values (§2.4.4.9 Table 2-34). */
export const STREAM_TYPE = {
  H264: 0x1b,
  AAC_ADTS: 0x0f,
  /** PES private data: asynchronous KLV (SMPTE RP 217). */
  PRIVATE_PES: 0x06,
  /** Metadata in PES: synchronous KLV (MISB ST 1402). */
  METADATA_PES: 0x15,
} as const;

/** stream_id values (§2.4.3.7 Table 2-22). */
export const STREAM_ID = {
  VIDEO: 0xe0,
  AUDIO: 0xc0,
  PRIVATE_STREAM_1: 0xbd,
} as const;

/** table_id values (§2.4.4.4 Table 2-31; EN 300 468 Table 2). */
export const TABLE_ID = {
  PAT: 0x00,
  PMT: 0x02,
  SDT_ACTUAL: 0x42,
} as const;

export const DESCRIPTOR_TAG = {
  /** registration_descriptor (§2.6.8): format_identifier, e.g. "KLVA". */
  REGISTRATION: 0x05,
  /** service_descriptor (EN 300 468 §6.2.33). */
  SERVICE: 0x48,
} as const;

/** The one program Fieldcast carries. */
export const PROGRAM_NUMBER = 1;
export const TRANSPORT_STREAM_ID = 1;
/** FFmpeg's default original_network_id: a private, unregistered network. */
export const ORIGINAL_NETWORK_ID = 0xff01;
/** service_type 0x01: digital television service (EN 300 468 Table 87). */
export const SERVICE_TYPE_DIGITAL_TV = 0x01;
/** SMPTE RP 217 format_identifier of asynchronous KLV. */
export const KLVA = Buffer.from('KLVA', 'ascii');

/** Readable names for stream types, for reports. */
export function streamTypeName(type: number): string {
  switch (type) {
    case STREAM_TYPE.H264:
      return 'H.264 video';
    case STREAM_TYPE.AAC_ADTS:
      return 'AAC audio (ADTS)';
    case STREAM_TYPE.PRIVATE_PES:
      return 'private data (PES)';
    case STREAM_TYPE.METADATA_PES:
      return 'metadata (PES)';
    case 0x02:
      return 'MPEG-2 video';
    case 0x03:
    case 0x04:
      return 'MPEG audio';
    case 0x24:
      return 'HEVC video';
    case 0x81:
      return 'AC-3 audio';
    default:
      return `stream type 0x${type.toString(16).padStart(2, '0')}`;
  }
}
