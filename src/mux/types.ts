/** What the encoders hand the muxer, and what the muxer is told to build. */

/** One encoded access unit on the media clock. */
export interface AccessUnit {
  /** H.264: Annex B NAL units of one picture (AUD optional). AAC: one or more ADTS frames. KLV: one KLV packet. */
  data: Buffer;
  /** Presentation time in 90 kHz ticks, unbounded (the muxer reduces to 33 bits). */
  pts: number;
  /** Decode time in 90 kHz ticks, unbounded; equals pts without B-frames. */
  dts: number;
  /** H.264: an IDR picture (random access point). Audio and KLV: always true. */
  key: boolean;
}
