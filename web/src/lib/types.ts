/**
 * The shapes the status page reads, one with the server's: the snapshot
 * types come from the supervisor itself; the rest are the answers of the
 * API routes the page calls (src/status/server).
 */

export type { LoggedEvent } from '../../../src/supervisor/event-log.ts';
export type {
  Alert,
  DestinationStatus,
  HealthSnapshot,
  LinkStatus,
  OperatorState,
  StatusSnapshot,
  StreamStatus,
  UplinkStatus,
} from '../../../src/supervisor/snapshot.ts';
export type { LinkPreflight, PreflightResult } from '../../../src/uplinks/preflight.ts';

/** A config problem as CONFIG_INVALID lists it (src/config/errors.ts). */
export interface ConfigProblem {
  key: string;
  value: unknown;
  expected: string;
}

/** GET /api/v1/history: one sample a second over the last 10 minutes. */
export interface History {
  /** Unix ms. */
  at: number[];
  links: { name: string; bps: (number | null)[]; rttMs: (number | null)[] }[];
}

/** GET /api/v1/tokens. */
export interface TokenInfo {
  id: string;
  name: string;
  createdAt: string;
}

/** The parts of the config (GET /api/v1/config, secrets as "[redacted]") that the page shows and edits. */
export interface PageConfig {
  input?: { name?: string; audio?: string; video?: string };
  video?: { minBitrate?: number; maxBitrate?: number; bitrate?: number; adaptive?: boolean };
  destinations?: { name?: string; url?: string; latencyMs?: number; passphrase?: string }[];
  bond?: { enabled?: boolean };
  system?: { ssh?: boolean };
}

/** A field of a settings form (SettingForm.svelte): one config key. */
export interface SettingField {
  key: string;
  label: string;
  /** The value the config has now, as the field shows it (for a secret: non-empty when one is set). */
  value: string;
  hint?: string;
  inputmode?: 'text' | 'numeric' | 'decimal' | 'url';
  suggestions?: string[];
  /** Write-only: never shown, sent only when typed. */
  secret?: boolean;
  /** Takes the whole row (a URL). */
  wide?: boolean;
}
