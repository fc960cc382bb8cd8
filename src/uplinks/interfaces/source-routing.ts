/**
 * Source routing, applied: reads what the kernel has in Fieldcast's table
 * range, plans (source-routing-plan.ts) and runs the `ip` commands, one run
 * at a time; a run asked for while one is going waits and uses the newest
 * list. It owns which uplink has which table. close() removes every rule and
 * route it owns.
 *
 * A step that finds its work done already (a rule added twice, a route the
 * kernel removed with its link, an interface unplugged since the scan) is not
 * a failure: the next scan settles it. Any other failure is reported as
 * UplinkRouteError after the remaining steps ran, so one bad uplink does not
 * hold back the others.
 */
import { TypedEmitter } from '../../lib/events.js';
import { createLogger } from '../../lib/logger.js';
import { UplinkRouteError, UplinkStateError } from './errors.js';
import { createIpCommand, type IpCommand, isAlreadyExists, isAlreadyGone, isNoSuchDevice } from './ip-command.js';
import { parseRouteShow, parseRuleShow } from './ip-json.js';
import type { UplinkMonitor } from './monitor.js';
import {
  assignSlots,
  checkRoutingRange,
  DEFAULT_ROUTING_RANGE,
  desiredRouting,
  ownsTable,
  planSourceRouting,
  type RoutingRange,
  type RoutingState,
  type RoutingStep,
  type UplinkRouting,
} from './source-routing-plan.js';
import type { Uplink } from './types.js';

const log = createLogger('uplinks.routing');

export interface SourceRoutingOptions extends Partial<RoutingRange> {
  /** Default: `ip` of this box's own namespace. */
  ip?: IpCommand;
}

export type SourceRoutingEvents = {
  /** A run finished; `steps` are the commands it ran (none when all was in place). */
  applied: [steps: readonly RoutingStep[], routing: readonly UplinkRouting[]];
  /** A run left something undone. */
  failed: [err: UplinkRouteError];
};

/** Reads the rules and the routes of the owned tables (IPv4). */
export async function readRoutingState(ip: IpCommand, range: RoutingRange): Promise<RoutingState> {
  const [rules, routes] = await Promise.all([
    ip.run(['-4', '-N', '-json', 'rule', 'show']),
    ip.run(['-4', '-N', '-json', 'route', 'show', 'table', 'all']),
  ]);
  return {
    rules: parseRuleShow(rules).filter((r) => ownsTable(range, r.table)),
    routes: parseRouteShow(routes).filter((r) => ownsTable(range, r.table)),
  };
}

export interface StepFailure {
  step: RoutingStep;
  error: unknown;
}

/** Runs the steps in order; returns the ones that failed for a reason that is not "done already". */
export async function executeRoutingSteps(ip: IpCommand, steps: readonly RoutingStep[]): Promise<StepFailure[]> {
  const failures: StepFailure[] = [];
  for (const step of steps) {
    try {
      await ip.run(step.args);
      log.debug('ip', { args: step.args.join(' ') });
    } catch (err) {
      if (step.op === 'rule-add' && isAlreadyExists(err)) continue;
      if ((step.op === 'rule-delete' || step.op === 'route-delete') && isAlreadyGone(err)) continue;
      if (isNoSuchDevice(err)) {
        log.debug('interface gone before its route was set', { uplink: step.uplink, args: step.args.join(' ') });
        continue;
      }
      failures.push({ step, error: err });
    }
  }
  return failures;
}

export class SourceRouting extends TypedEmitter<SourceRoutingEvents> {
  private readonly ip: IpCommand;
  private readonly range: RoutingRange;
  private slots = new Map<string, number>();
  private routing: UplinkRouting[] = [];
  private closed = false;
  private running: Promise<RoutingStep[]> | undefined;
  private pending:
    | { uplinks: readonly Uplink[]; waiters: Array<{ resolve: (s: RoutingStep[]) => void; reject: (e: unknown) => void }> }
    | undefined;
  private readonly warnedFull = new Set<string>();

  constructor(opts: SourceRoutingOptions = {}) {
    super();
    this.range = {
      tableBase: opts.tableBase ?? DEFAULT_ROUTING_RANGE.tableBase,
      tableCount: opts.tableCount ?? DEFAULT_ROUTING_RANGE.tableCount,
      priorityBase: opts.priorityBase ?? DEFAULT_ROUTING_RANGE.priorityBase,
    };
    checkRoutingRange(this.range);
    this.ip = opts.ip ?? createIpCommand();
  }

  get tableRange(): Readonly<RoutingRange> {
    return this.range;
  }

  /** The table of an uplink, once applied. */
  tableOf(uplink: string): number | undefined {
    return this.routing.find((r) => r.uplink === uplink)?.table;
  }

  /** Each uplink's table and rule as last applied. */
  current(): readonly UplinkRouting[] {
    return this.routing;
  }

  /**
   * Makes the kernel's rules and owned tables match `uplinks`; resolves with
   * the commands run. Rejects with UplinkRouteError when some could not be.
   */
  apply(uplinks: readonly Uplink[]): Promise<RoutingStep[]> {
    if (this.closed) return Promise.reject(new UplinkStateError('source routing was closed'));
    return this.enqueue(uplinks);
  }

  /** Applies the monitor's list on each change, from now on; returns the function that stops it. */
  follow(monitor: UplinkMonitor): () => void {
    const onUplinks = (uplinks: readonly Uplink[]): void => {
      if (this.closed) return;
      this.enqueue(uplinks).catch(() => {}); // reported through 'failed' and the log
    };
    monitor.on('uplinks', onUplinks);
    onUplinks(monitor.uplinks());
    return () => monitor.off('uplinks', onUplinks);
  }

  /** Removes every rule and route in the owned range. Idempotent; a second call resolves at once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.enqueue([]).catch(() => {}); // 'failed' was emitted, and it is logged
    this.slots.clear();
  }

  private enqueue(uplinks: readonly Uplink[]): Promise<RoutingStep[]> {
    return new Promise((resolve, reject) => {
      if (this.pending) {
        this.pending.uplinks = uplinks;
        this.pending.waiters.push({ resolve, reject });
      } else {
        this.pending = { uplinks, waiters: [{ resolve, reject }] };
      }
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      const { uplinks, waiters } = this.pending;
      this.pending = undefined;
      this.running = this.runOnce(uplinks);
      try {
        const steps = await this.running;
        for (const w of waiters) w.resolve(steps);
      } catch (err) {
        for (const w of waiters) w.reject(err);
      } finally {
        this.running = undefined;
      }
    }
  }

  private async runOnce(uplinks: readonly Uplink[]): Promise<RoutingStep[]> {
    let state: RoutingState;
    try {
      state = await readRoutingState(this.ip, this.range);
    } catch (err) {
      throw this.fail(new UplinkRouteError('cannot read the routing rules and tables', { netns: this.ip.netns }, err));
    }
    const { slots, unassigned } = assignSlots(uplinks, this.slots, state.rules, this.range);
    for (const name of unassigned) {
      if (this.warnedFull.has(name)) continue;
      this.warnedFull.add(name);
      log.warn(`uplink ${name} has no routing table: all ${this.range.tableCount} are in use`, { uplink: name });
    }
    this.slots = slots;
    const desired = desiredRouting(uplinks, slots, this.range);
    const steps = planSourceRouting(desired, state, this.range);
    const failures = await executeRoutingSteps(this.ip, steps);
    this.routing = desired;
    if (steps.length > 0)
      log.info('source routing applied', { steps: steps.length, uplinks: desired.map((d) => `${d.uplink}:${d.table}`).join(',') });
    if (failures.length > 0) {
      const first = failures[0]!;
      const who = first.step.uplink !== undefined ? `uplink ${first.step.uplink}` : `table ${first.step.table}`;
      throw this.fail(
        new UplinkRouteError(
          `cannot set the routing of ${who}: ${first.error instanceof Error ? first.error.message : String(first.error)}`,
          { failed: failures.map((f) => f.step.args.join(' ')), netns: this.ip.netns },
          first.error,
        ),
      );
    }
    this.emit('applied', steps, desired);
    return steps;
  }

  private fail(err: UplinkRouteError): UplinkRouteError {
    log.warn(err.message, { ...err.details });
    this.emit('failed', err);
    return err;
  }
}
