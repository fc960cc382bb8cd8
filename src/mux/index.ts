/**
 * MPEG-TS: the muxer the pipeline feeds access units into, the analyser that
 * checks a TS against ETSI TR 101 290, and the H.264/ADTS/KLV parsers both
 * and the encoders share.
 */
export { AAC_FRAME_SAMPLES, ADTS_SAMPLE_RATES, type AdtsHeader, parseAdtsHeader, scanAdtsFrames } from './adts.js';
export { TsAnalyser, type TsAnalyserOptions } from './analyser.js';
export { type AnalyserReport, type CheckName, formatReport, PRIORITY_1_CHECKS, PRIORITY_2_CHECKS } from './analyser-report.js';
export { type PictureArrival, type Resumption, TsArrivals } from './arrivals.js';
export { type ByteSource, bufferSource, FileSource } from './byte-source.js';
export { CHUNK_PACKETS, CHUNK_SIZE, PID, STREAM_ID, STREAM_TYPE, TS_PACKET_SIZE } from './constants.js';
export {
  type AudioIndex,
  type AudioTrack,
  checkScan,
  type H264ScanState,
  indexAdts,
  indexH264,
  readAdtsFile,
  readH264File,
  readKlvFile,
  type ScannedPicture,
  scanPictures,
  type UnitIndex,
  type VideoIndex,
  type VideoTrack,
} from './elementary.js';
export { ElementaryStreamError, MuxInputError, MuxOptionsError } from './errors.js';
export {
  AUD_NAL,
  forEachNal,
  isVcl,
  NAL_TYPE,
  type NalUnit,
  parseSliceHeader,
  parseSps,
  type SliceHeader,
  type SpsInfo,
  splitNalUnits,
  startsWithStartCode,
} from './h264.js';
export { klvPacketSize, scanKlvPackets } from './klv.js';
export { TsMuxer, type TsMuxerOptions } from './muxer.js';
export type { MuxStats } from './output.js';
export { type ChunkInfo, type SplicerOptions, type SplicerStats, TsSplicer } from './splicer.js';
export { StartGate, type StartGateOptions, type StartGateStats, type StartMode } from './start-gate.js';
export type { AccessUnit } from './types.js';
