/**
 * The receiver's options: defaults, ranges, and the forward plan, checked
 * once where they enter (BondReceiver's constructor). A bad value throws
 * ReceiverOptionsError naming it; nothing has started.
 */
import { parseHostPort } from '../lib/hostport.js';
import type { Secret } from '../srt/secret.js';
import { ReceiverOptionsError } from './receiver-errors.js';
import { type ForwardPlan, parseForwardTarget, planForwards } from './receiver-forwards.js';
import { DEFAULT_REGISTRATION_LIMITS, type RegistrationLimits } from './receiver-limits.js';

export interface BondReceiverOptions extends Partial<RegistrationLimits> {
  /** host:port to listen on; `[::]:5000` (the default) takes IPv4 and IPv6. */
  listen?: string;
  /**
   * The SRT listener: `srt://host:port` (query ignored) or `host:port`; or
   * two `srt://` URLs (with their own latency, passphrase, pbkeylen, stream
   * id), each group's stream then sent on to both.
   */
  forward: string | readonly string[];
  /** Two forwards: the units' passphrase, to decrypt their sessions (and the forwards' own, unless their URL has one). */
  passphrase?: Secret;
  /** Two forwards: their SRT latency where their URL gives none (ms). */
  forwardLatencyMs?: number;
  /** Reorder hold in ms (0 = off). */
  reorderMs?: number;
  maxGroups?: number;
  maxLinksPerGroup?: number;
  linkTimeoutMs?: number;
  groupTimeoutMs?: number;
  pendingGroupTimeoutMs?: number;
  housekeepingMs?: number;
}

export const RECEIVER_DEFAULTS = {
  listen: '[::]:5000',
  reorderMs: 50,
  // SRTLA.md: common receiver limits 200 groups, 8-16 links per group; timeouts 10 s.
  maxGroups: 200,
  maxLinksPerGroup: 16,
  linkTimeoutMs: 10_000,
  groupTimeoutMs: 10_000,
  pendingGroupTimeoutMs: 5_000,
  housekeepingMs: 1_000,
} as const;

/**
 * Groups at most in fan-out mode unless told otherwise: it serves one unit
 * (README "Two listeners"), whose restarts leave a group behind for the group
 * timeout, and each group that sends holds a libsrt listener of its own.
 */
export const FANOUT_MAX_GROUPS = 8;

export type ResolvedOptions = Required<Omit<BondReceiverOptions, keyof RegistrationLimits | 'passphrase' | 'forwardLatencyMs'>> &
  RegistrationLimits;

function checkRange(name: string, v: number, min: number, max: number): number {
  if (!Number.isFinite(v) || v < min || v > max)
    throw new ReceiverOptionsError(`${name} must be from ${min} to ${max} (got ${v})`, { [name]: v });
  return v;
}

export function resolveReceiverOptions(opts: BondReceiverOptions): { options: ResolvedOptions; plan: ForwardPlan } {
  const { passphrase, forwardLatencyMs, ...rest } = opts;
  const plan = planForwards(rest.forward, { passphrase, forwardLatencyMs });
  const modeDefaults = plan.mode === 'fanout' ? { maxGroups: FANOUT_MAX_GROUPS } : {};
  const o = { ...RECEIVER_DEFAULTS, ...DEFAULT_REGISTRATION_LIMITS, ...modeDefaults, ...stripUndefined(rest) } as ResolvedOptions;
  if (plan.mode === 'relay') parseForwardTarget(plan.target);
  try {
    parseHostPort(o.listen, 'listen address', true);
  } catch (e) {
    throw new ReceiverOptionsError((e as Error).message, { listen: o.listen });
  }
  checkRange('reorderMs', o.reorderMs, 0, 2000);
  checkRange('maxGroups', o.maxGroups, 1, 100_000);
  checkRange('maxLinksPerGroup', o.maxLinksPerGroup, 1, 64);
  checkRange('linkTimeoutMs', o.linkTimeoutMs, 10, 600_000);
  checkRange('groupTimeoutMs', o.groupTimeoutMs, 10, 600_000);
  checkRange('pendingGroupTimeoutMs', o.pendingGroupTimeoutMs, 10, 600_000);
  checkRange('housekeepingMs', o.housekeepingMs, 5, 60_000);
  checkRange('registrationsPerSecond', o.registrationsPerSecond, 0.01, 1e6);
  checkRange('registrationBurst', o.registrationBurst, 1, 1e6);
  checkRange('maxPendingGroupsPerAddress', o.maxPendingGroupsPerAddress, 1, 100_000);
  checkRange('failureLimit', o.failureLimit, 1, 1e6);
  checkRange('failureWindowMs', o.failureWindowMs, 10, 3_600_000);
  checkRange('blockMs', o.blockMs, 0, 86_400_000);
  return { options: o, plan };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
