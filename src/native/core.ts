/** Exports of native/src/common.cc. */
export interface CoreExports {
  /** Routes the addon's log lines to JS; null stops them. */
  setLogCallback(fn: ((level: string, module: string, message: string) => void) | null): void;
  /** CLOCK_MONOTONIC in microseconds: the media clock. */
  monotonicMicros(): number;
  addonVersion: string;
}

/** Exports of native/src/sd_notify.cc (in the SRT addon, which the supervisor loads). */
export interface SystemExports {
  /** Sends one sd_notify(3) datagram ("READY=1\nSTATUS=…") to $NOTIFY_SOCKET; false when unset or it failed. */
  sdNotify(message: string): boolean;
}
