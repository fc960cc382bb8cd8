/**
 * The healing executor: applies the policy's steps to one modem, one at a
 * time, and says what it does through 'step' events (kind, reason, phase)
 * for the supervisor's event log. An operator's reset() goes through here
 * too, so it never overlaps an automatic step.
 */
import { describeError, FieldcastError } from '../../lib/errors.js';
import { TypedEmitter } from '../../lib/events.js';
import { createLogger } from '../../lib/logger.js';
import type { AtCommander } from './commander.js';
import { ModemPortGoneError } from './errors.js';
import {
  DEFAULT_HEALING_POLICY,
  EMPTY_HEALING_HISTORY,
  type HealingDecision,
  type HealingFacts,
  type HealingHistory,
  type HealingPolicy,
  type HealingStep,
  type HealingStepKind,
  makeHealingStep,
  observeHealing,
  planHealing,
  recordHealingStep,
} from './healing.js';

const log = createLogger('uplinks.modems');

export interface HealingEvent {
  kind: HealingStepKind;
  reason: string;
  phase: 'started' | 'done' | 'failed';
  /** ms, from the healer's clock. */
  at: number;
  error?: { code: string; message: string };
}

export type ModemHealerEvents = {
  step: [event: HealingEvent];
};

export interface ModemHealerOptions {
  policy?: HealingPolicy;
  now?: () => number;
}

export class ModemHealer extends TypedEmitter<ModemHealerEvents> {
  private state: HealingHistory = EMPTY_HEALING_HISTORY;
  private running: Promise<void> | undefined;
  private readonly policy: HealingPolicy;
  private readonly now: () => number;

  constructor(
    private readonly at: AtCommander,
    opts: ModemHealerOptions = {},
  ) {
    super();
    this.policy = opts.policy ?? DEFAULT_HEALING_POLICY;
    this.now = opts.now ?? Date.now;
  }

  get history(): HealingHistory {
    return this.state;
  }

  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Takes in the latest facts; runs the next step when one is due and none is running. */
  async observe(facts: Omit<HealingFacts, 'now'>): Promise<HealingDecision> {
    const full: HealingFacts = { ...facts, now: this.now() };
    this.state = observeHealing(this.state, full);
    if (this.running) return { action: 'none', reason: 'a healing step is running' };
    const decision = planHealing(full, this.state, this.policy);
    if (decision.action === 'step') await this.run(decision.step);
    return decision;
  }

  /** The operator's restart: now, whatever the policy would say (after a running step ends). */
  async reset(reason = 'asked by the operator'): Promise<void> {
    while (this.running) await this.running;
    await this.run(makeHealingStep('reset', reason));
  }

  private run(step: HealingStep): Promise<void> {
    const p = this.apply(step).finally(() => {
      this.running = undefined;
    });
    this.running = p;
    return p;
  }

  private async apply(step: HealingStep): Promise<void> {
    const started = this.now();
    this.state = recordHealingStep(this.state, step.kind, started);
    log.info('healing modem', { kind: step.kind, reason: step.reason });
    this.emit('step', { kind: step.kind, reason: step.reason, phase: 'started', at: started });
    try {
      for (const command of step.commands) await this.at.send(command);
      this.emit('step', { kind: step.kind, reason: step.reason, phase: 'done', at: this.now() });
    } catch (err) {
      // A modem that restarts may drop its port before it says OK: that is the restart working.
      if (step.kind === 'reset' && err instanceof ModemPortGoneError) {
        this.emit('step', { kind: step.kind, reason: step.reason, phase: 'done', at: this.now() });
        return;
      }
      log.warn('healing step failed', { kind: step.kind, err: describeError(err) });
      const error =
        err instanceof FieldcastError ? { code: err.code, message: err.message } : { code: 'MODEM_ERROR', message: describeError(err) };
      this.emit('step', { kind: step.kind, reason: step.reason, phase: 'failed', at: this.now(), error });
    }
  }
}
