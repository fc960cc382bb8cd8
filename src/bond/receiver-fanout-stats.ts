/**
 * The figures of a group the receiver fans out (receiver-fanout.ts): the
 * unit's SRT session as the receiver's loopback listener sees it, and each
 * forward's own session. Plain data: what `stats()`, `--stats-json` and
 * /metrics show. No addon import (the relay-only receiver loads this).
 */
import type { DestinationSrtStats } from '../destination/destination-output.js';

/** The unit's SRT session, ended at the receiver. */
export interface TerminatedSessionSnapshot {
  /** The unit's SRT caller is connected to the receiver's loopback listener. */
  connected: boolean;
  /** Sessions the unit has opened in this group (1, more after it called again). */
  sessions: number;
  /** TS bytes received (decrypted) from the unit, over all its sessions. */
  receivedBytes: number;
  rttMs: number;
  /** Packets SRT saw lost and could not recover in time (dropped), this session. */
  lossPackets: number;
  dropPackets: number;
  /** What the unit's handshake said, once one came: it encrypts or sends in the clear. */
  unitEncryption?: 'encrypted' | 'clear';
  /** Why the unit's session does not come up, when the receiver can tell (a missing passphrase). */
  lastError?: { code: string; message: string };
}

/** One forward (an SRT listener the stream is sent on to): a destination's figures, where it is, and how often it called again. */
export interface ForwardStatsSnapshot extends DestinationSrtStats {
  /** host:port of the listener. */
  target: string;
  /** Connections after the first, over the group's life. */
  reconnects: number;
}

export interface FanoutStatsSnapshot {
  session: TerminatedSessionSnapshot;
  forwards: ForwardStatsSnapshot[];
}
