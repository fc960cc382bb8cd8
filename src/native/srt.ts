/** Exports of the libsrt feature (native/src/srt_*.cc). */
export type SrtExports = {};
