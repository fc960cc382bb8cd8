import { describe, expect, it } from 'vitest';
import type { AtReply } from '../../../../src/uplinks/modems/at-parser.js';
import type { AtCommander } from '../../../../src/uplinks/modems/commander.js';
import { ModemPortGoneError } from '../../../../src/uplinks/modems/errors.js';
import { type HealingEvent, ModemHealer } from '../../../../src/uplinks/modems/healer.js';
import {
  DEFAULT_HEALING_POLICY,
  EMPTY_HEALING_HISTORY,
  type HealingFacts,
  type HealingHistory,
  observeHealing,
  planHealing,
  recordHealingStep,
} from '../../../../src/uplinks/modems/healing.js';

const S = 1000;
const stalled = (now: number, over: Partial<HealingFacts> = {}): HealingFacts => ({
  now,
  passingTraffic: false,
  registration: 'home',
  simReady: true,
  ...over,
});

/** Drives the policy through time the way the healer does, taking every step it asks for. */
function walk(untilS: number, everyS = 5): Array<{ at: number; kind: string; reason: string }> {
  let h: HealingHistory = EMPTY_HEALING_HISTORY;
  const steps: Array<{ at: number; kind: string; reason: string }> = [];
  for (let t = 0; t <= untilS * S; t += everyS * S) {
    const facts = stalled(t);
    h = observeHealing(h, facts);
    const d = planHealing(facts, h);
    if (d.action === 'step') {
      steps.push({ at: t / S, kind: d.step.kind, reason: d.step.reason });
      h = recordHealingStep(h, d.step.kind, t);
    }
  }
  return steps;
}

describe('healing policy', () => {
  it('does nothing while traffic flows, and waits out a short stall', () => {
    expect(planHealing(stalled(0, { passingTraffic: true }), EMPTY_HEALING_HISTORY).action).toBe('none');
    const h = observeHealing(EMPTY_HEALING_HISTORY, stalled(0));
    const d = planHealing(stalled(10 * S), h);
    expect(d).toEqual({ action: 'wait', until: DEFAULT_HEALING_POLICY.stallGraceMs, reason: 'traffic stopped moments ago' });
  });

  it('climbs the ladder: re-register, radio off and on, restart — each given time to work', () => {
    const steps = walk(600);
    expect(steps.slice(0, 3).map((s) => [s.at, s.kind])).toEqual([
      [30, 're-register'],
      [60, 'radio-cycle'],
      [105, 'reset'],
    ]);
    expect(steps[0]?.reason).toBe('no traffic for 30 s while registered (home)');
    expect(steps[1]?.reason).toContain('re-registering did not bring it back');
    // Restarts repeat with a doubling pause: 90 s, then 180 s.
    expect(steps.slice(3).map((s) => s.at)).toEqual([195, 375]);
  });

  it('names the registration in its reason, and leaves a SIM problem alone', () => {
    const h = observeHealing(EMPTY_HEALING_HISTORY, stalled(0));
    const d = planHealing(stalled(40 * S, { registration: 'searching' }), h);
    expect(d.action === 'step' && d.step.reason).toBe('no traffic for 40 s and not registered (searching)');
    expect(planHealing(stalled(40 * S, { simReady: false }), h).action).toBe('none');
  });

  it('forgets the episode once traffic flows again', () => {
    let h = recordHealingStep(observeHealing(EMPTY_HEALING_HISTORY, stalled(0)), 're-register', 30 * S);
    h = observeHealing(h, stalled(40 * S, { passingTraffic: true }));
    expect(h).toEqual(EMPTY_HEALING_HISTORY);
  });
});

class FakeModem implements AtCommander {
  readonly sent: string[] = [];
  constructor(private readonly fail: (command: string) => Error | undefined = () => undefined) {}
  async exchange(command: string): Promise<AtReply> {
    this.sent.push(command);
    const err = this.fail(command);
    if (err) throw err;
    return { command, lines: [], final: 'OK', ok: true };
  }
  send(command: string): Promise<AtReply> {
    return this.exchange(command);
  }
}

describe('ModemHealer', () => {
  it('runs the due step and reports it with its reason', async () => {
    let now = 0;
    const modem = new FakeModem();
    const healer = new ModemHealer(modem, { now: () => now });
    const events: HealingEvent[] = [];
    healer.on('step', (e) => events.push(e));
    await healer.observe({ passingTraffic: false, registration: 'home', simReady: true });
    now = 31 * S;
    const d = await healer.observe({ passingTraffic: false, registration: 'home', simReady: true });
    expect(d.action).toBe('step');
    expect(modem.sent).toEqual(['AT+COPS=0']);
    expect(events.map((e) => [e.kind, e.phase])).toEqual([
      ['re-register', 'started'],
      ['re-register', 'done'],
    ]);
    expect(events[0]?.reason).toBe('no traffic for 31 s while registered (home)');
  });

  it('resets when the operator asks; a port that vanishes during the restart is the restart working', async () => {
    const modem = new FakeModem((c) => (c === 'AT+CFUN=1,1' ? new ModemPortGoneError('/dev/ttyUSB2') : undefined));
    const healer = new ModemHealer(modem);
    const events: HealingEvent[] = [];
    healer.on('step', (e) => events.push(e));
    await healer.reset();
    expect(modem.sent).toEqual(['AT+CFUN=1,1']);
    expect(events.map((e) => [e.kind, e.phase, e.reason])).toEqual([
      ['reset', 'started', 'asked by the operator'],
      ['reset', 'done', 'asked by the operator'],
    ]);
  });

  it('reports a step that fails with its error code', async () => {
    const modem = new FakeModem(() => new ModemPortGoneError('/dev/ttyUSB2'));
    let now = 0;
    const healer = new ModemHealer(modem, { now: () => now });
    const events: HealingEvent[] = [];
    healer.on('step', (e) => events.push(e));
    await healer.observe({ passingTraffic: false, registration: 'denied', simReady: true });
    now = 60 * S;
    await healer.observe({ passingTraffic: false, registration: 'denied', simReady: true });
    expect(events.at(-1)).toMatchObject({ kind: 're-register', phase: 'failed', error: { code: 'MODEM_PORT_GONE' } });
  });
});
