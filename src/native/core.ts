/** Exports of native/src/common.cc. */
export interface CoreExports {
  /** Routes the addon's log lines to JS; null stops them. */
  setLogCallback(fn: ((level: string, module: string, message: string) => void) | null): void;
  /** CLOCK_MONOTONIC in microseconds: the media clock. */
  monotonicMicros(): number;
  addonVersion: string;
}
