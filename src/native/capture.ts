/** Exports of the V4L2 capture feature (native/src/v4l2_*.cc). */
export type CaptureExports = {};
