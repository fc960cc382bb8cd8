/** Exports of the media features: test pattern, encoders, ALSA, the encode session (native/src/…). */
export type MediaExports = {};
