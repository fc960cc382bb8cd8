/**
 * The healing policy: what to do about a modem that stopped passing
 * traffic. Pure — facts and history in, a decision out — so the ladder is
 * tested without a modem. Each rung is given time to work before the next:
 * re-register with the network, switch the radio off and on, restart the
 * modem; restarts repeat with a growing pause while traffic stays dead.
 */
import type { RegistrationState } from './registration.js';

export type HealingStepKind = 're-register' | 'radio-cycle' | 'reset';

export interface HealingStep {
  kind: HealingStepKind;
  /** Why, in words for the event log ("no traffic for 45 s while registered (home)"). */
  reason: string;
  commands: readonly string[];
}

/** TS 27.007 §7.3 automatic selection; §8.2 minimum/full functionality; `1,1` restarts the modem. */
export const HEALING_COMMANDS: Readonly<Record<HealingStepKind, readonly string[]>> = {
  're-register': ['AT+COPS=0'],
  'radio-cycle': ['AT+CFUN=0', 'AT+CFUN=1'],
  reset: ['AT+CFUN=1,1'],
};

export interface HealingFacts {
  /** ms, from one clock for the whole history. */
  now: number;
  /** Whether the link carried traffic lately (the uplink's own judgement). */
  passingTraffic: boolean;
  registration: RegistrationState;
  /** A SIM that is locked or missing is reported on its own; restarting the modem does not fix it. */
  simReady: boolean;
}

export interface HealingHistory {
  /** When traffic stopped; undefined while it flows. */
  stalledSince?: number;
  /** Steps taken since then, oldest first. */
  taken: ReadonlyArray<{ kind: HealingStepKind; at: number }>;
}

export interface HealingPolicy {
  /** A stall shorter than this is left alone (a handover, a busy cell). */
  stallGraceMs: number;
  /** How long each step is given to bring traffic back. */
  settleMs: Readonly<Record<HealingStepKind, number>>;
  /** Repeated restarts wait twice as long each time, up to this. */
  maxResetIntervalMs: number;
}

export const DEFAULT_HEALING_POLICY: HealingPolicy = {
  stallGraceMs: 30_000,
  // A restarted modem takes 20–60 s to enumerate, boot and register.
  settleMs: { 're-register': 30_000, 'radio-cycle': 45_000, reset: 90_000 },
  maxResetIntervalMs: 15 * 60_000,
};

export type HealingDecision =
  | { action: 'none'; reason: string }
  | { action: 'wait'; until: number; reason: string }
  | { action: 'step'; step: HealingStep };

export const EMPTY_HEALING_HISTORY: HealingHistory = { taken: [] };

/** The history after an observation: traffic flowing clears it, a new stall starts it. */
export function observeHealing(history: HealingHistory, facts: HealingFacts): HealingHistory {
  if (facts.passingTraffic) return EMPTY_HEALING_HISTORY;
  if (history.stalledSince === undefined) return { stalledSince: facts.now, taken: [] };
  return history;
}

/** The history after a step was taken. */
export function recordHealingStep(history: HealingHistory, kind: HealingStepKind, at: number): HealingHistory {
  return { stalledSince: history.stalledSince ?? at, taken: [...history.taken, { kind, at }] };
}

const NEXT: Readonly<Record<HealingStepKind, HealingStepKind>> = {
  're-register': 'radio-cycle',
  'radio-cycle': 'reset',
  reset: 'reset',
};

const STEP_WORDS: Readonly<Record<HealingStepKind, string>> = {
  're-register': 're-registering',
  'radio-cycle': 'switching the radio off and on',
  reset: 'restarting the modem',
};

export function makeHealingStep(kind: HealingStepKind, reason: string): HealingStep {
  return { kind, reason, commands: HEALING_COMMANDS[kind] };
}

function settleFor(history: HealingHistory, kind: HealingStepKind, policy: HealingPolicy): number {
  if (kind !== 'reset') return policy.settleMs[kind];
  const resets = history.taken.filter((t) => t.kind === 'reset').length;
  return Math.min(policy.settleMs.reset * 2 ** Math.max(0, resets - 1), policy.maxResetIntervalMs);
}

export function planHealing(facts: HealingFacts, history: HealingHistory, policy: HealingPolicy = DEFAULT_HEALING_POLICY): HealingDecision {
  if (facts.passingTraffic) return { action: 'none', reason: 'traffic is flowing' };
  if (!facts.simReady) return { action: 'none', reason: 'the SIM is not ready; that is reported by itself' };
  const since = history.stalledSince ?? facts.now;
  const graceEnd = since + policy.stallGraceMs;
  if (facts.now < graceEnd) return { action: 'wait', until: graceEnd, reason: 'traffic stopped moments ago' };
  const stalledS = Math.round((facts.now - since) / 1000);
  const registered = facts.registration === 'home' || facts.registration === 'roaming';
  const why = `no traffic for ${stalledS} s ${registered ? `while registered (${facts.registration})` : `and not registered (${facts.registration})`}`;
  const last = history.taken[history.taken.length - 1];
  if (!last) return { action: 'step', step: makeHealingStep('re-register', why) };
  const settleEnd = last.at + settleFor(history, last.kind, policy);
  if (facts.now < settleEnd) return { action: 'wait', until: settleEnd, reason: `giving ${STEP_WORDS[last.kind]} time to work` };
  return { action: 'step', step: makeHealingStep(NEXT[last.kind], `${why}; ${STEP_WORDS[last.kind]} did not bring it back`) };
}
