/**
 * The supervisor: what `fieldcast run` is, from power-on to power-off. It is
 * where the box's parts are wired together, and the one owner of:
 *
 * - the config (loaded once, changed only through `set`, saved atomically),
 * - the operator's word (stream on or off: autostart, then ctl start/stop),
 * - the stream unit that runs (stream-unit.ts), changed only by the executor
 *   applying the planner's steps (plan.ts, executor.ts),
 * - the status snapshot, rebuilt each second from those and the health
 *   monitor (status.ts): what `ctl status`, /metrics, systemd's STATUS= and
 *   the status line read,
 * - the event log (event-log.ts): state changes, links, restarts, alerts and
 *   operator changes, diffed from one snapshot to the next where they can be.
 *
 *   control socket ─┐                        ┌─> StreamUnit (pipeline child, SRT, bonding, ABR)
 *   config file ────┼─> desired ─> plan ─> executor
 *   autostart ──────┘        ▲                  │
 *                            └── actual <───────┘
 *   health monitor ─┐
 *   stream stats ───┴─> snapshot (1 s) ─> status line, STATUS=, /metrics, event log
 */

import { promises as fs } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import {
  type Assignment,
  applySettings,
  type Config,
  ConfigIoError,
  defaultConfig,
  getSetting,
  isSecretKey,
  loadConfig,
  redactSecrets,
  saveConfig,
  sweepSaveLeftovers,
} from '../config/index.js';
import { describeError, FieldcastError } from '../lib/errors.js';
import { createLogger } from '../lib/logger.js';
import { hostPortOf, streamSpecFromConfig } from '../media/spec.js';
import { serveMetrics, supervisorMetrics } from '../metrics/index.js';
import { RECORDINGS_DIR } from '../record/index.js';
import type { StatusService } from '../status/server/service.js';
import { awaitSystemApplied } from '../system/index.js';
import { Rauc, SlotMarker } from '../update/index.js';
import { runPreflight } from '../uplinks/preflight.js';
import { BoardSide } from './board-side.js';
import { type ControlRequestT, ControlServer } from './control.js';
import { EventLog, type LoggedEvent } from './event-log.js';
import { Executor } from './executor.js';
import { EMPTY_HEALTH, HealthMonitor } from './health.js';
import { loadOrMakeIdentity, newIdentity } from './identity.js';
import { ensurePrivateDir } from './paths.js';
import { type ActualState, type DesiredState, plan, type Step } from './plan.js';
import type { HealthSnapshot, StatusSnapshot } from './snapshot.js';
import { buildSnapshot } from './status.js';
import { formatStatusLine } from './status-line.js';
import { type StreamStats, StreamUnit } from './stream-unit.js';
import { SystemdNotifier } from './systemd.js';
import { UplinkSide } from './uplink-side.js';

const log = createLogger('supervisor');

const TICK_MS = 1000;
/** A stream up this long has overcome the failures before it: the next one backs off from the start. */
const STABLE_MS = 30_000;
/** How long `set` waits for its change to be applied before answering (it goes on after). */
const SET_SETTLE_MS = 8000;
/** The health loop is stuck (no tick for this long): the systemd watchdog is not petted. */
const LOOP_STALL_MS = 5 * TICK_MS;

export interface SupervisorOptions {
  /** The config file: read at start, written by `set`. */
  configFile: string;
  /** True when the file was chosen (--config): then it must exist. Else a missing file means the defaults. */
  configGiven: boolean;
  stateDir: string;
  socketPath: string;
  version: string;
  /** Where the status line goes each second (default: nowhere). */
  onStatusLine?: (line: string, snapshot: StatusSnapshot) => void;
  /** The status page is up: its address on each address it listens on, and the one-time setup code while no password is set. */
  onStatusServer?: (urls: string[], setupCode: string | undefined) => void;
  /** Injected for tests: the health monitor's sample period (default 5 s). */
  healthIntervalMs?: number;
  /** Injected for tests: systemd's notify protocol (default: $NOTIFY_SOCKET). */
  notifier?: SystemdNotifier;
  /** Injected for tests: the first retry delay of a failed step (default 1 s). */
  initialBackoffMs?: number;
  /** Injected for tests: RAUC, which marks the booted root slot good once the box has been healthy a while (src/update). */
  rauc?: Rauc;
}

export type SupervisorEvent = LoggedEvent;

export class Supervisor {
  readonly #o: SupervisorOptions;
  #config: Config = defaultConfig();
  #on = false;
  #unit: StreamUnit | undefined;
  #unitLiveSince = 0;
  #executor: Executor;
  #events: EventLog | undefined;
  #health: HealthMonitor | undefined;
  #control: ControlServer | undefined;
  #metrics: http.Server | undefined;
  #statusPage: StatusService | undefined;
  /** Uplinks found by themselves, modems, data plans (uplink-side.ts). */
  #uplinks: UplinkSide | undefined;
  /** The board this runs on (hardware/boards), and its front panel when panel.enabled (board-side.ts). */
  readonly #board: BoardSide;
  readonly #notifier: SystemdNotifier;
  #snapshot: StatusSnapshot | undefined;
  /** The box's id (identity.ts); a placeholder only until start() has read it. */
  #deviceId = 'fc-000000000000';
  /** Marks the booted A/B slot good after update.markGoodAfterS healthy (src/update/mark-good.ts). */
  #slotMarker: SlotMarker | undefined;
  #tick: NodeJS.Timeout | undefined;
  #lastTickAt = 0;
  readonly #startedAt = Date.now();
  #stopping: Promise<void> | undefined;
  /** Steps applied since a `set` began waiting, for its answer. */
  #appliedLog: Step['kind'][] | undefined;

  constructor(options: SupervisorOptions) {
    this.#o = options;
    this.#board = new BoardSide({
      record: (e) => this.#record(e),
      panel: {
        input: () => ({
          snapshot: this.#snapshot ?? this.#build(),
          urls: this.#statusPage?.urls() ?? [],
          ...(this.#statusPage?.setupCode ? { setupCode: this.#statusPage.setupCode } : {}),
        }),
        setStreaming: async (on) => {
          await this.#handle({ op: on ? 'start' : 'stop' }, 'the front panel');
        },
      },
    });
    this.#notifier = options.notifier ?? new SystemdNotifier();
    this.#executor = new Executor({
      planNow: () => plan(this.#actual(), this.#desired()),
      apply: (step, signal) => this.#apply(step, signal),
      ...(options.initialBackoffMs !== undefined ? { initialBackoffMs: options.initialBackoffMs } : {}),
      onApplied: (step) => this.#appliedLog?.push(step.kind),
      onFailure: (f) =>
        this.#record({
          kind: 'restart',
          code: f.code,
          message: `${f.message}; trying again in ${Math.round((f.retryAt - Date.now()) / 1000)} s`,
        }),
    });
  }

  get config(): Config {
    return structuredClone(this.#config);
  }

  /** The snapshot as of now (the event log's diff keeps to the one-second ticks). */
  snapshot(): StatusSnapshot {
    return this.#build();
  }

  /** Brings everything up; streams by itself when the config says so. Throws what stops the box from starting at all. */
  async start(): Promise<void> {
    const o = this.#o;
    await ensurePrivateDir(o.stateDir);
    const swept = await sweepSaveLeftovers(o.configFile);
    this.#config = await this.#loadConfig();
    this.#events = new EventLog({ dir: o.stateDir });
    await this.#loadIdentity();
    this.#record({
      kind: 'system',
      message: `fieldcast ${o.version} started as ${this.#config.deviceName} (${this.#deviceId})`,
      config: o.configFile,
      ...(swept.length > 0 ? { removedLeftovers: swept } : {}),
    });
    await this.#board.start(this.#config.panel);
    this.#health = new HealthMonitor({
      stateDir: o.stateDir,
      thermalZones: this.#board.thermalZones,
      ...(o.healthIntervalMs ? { intervalMs: o.healthIntervalMs } : {}),
    });
    this.#health.start();
    this.#control = new ControlServer(o.socketPath, (req, who) => this.#handle(req, who));
    await this.#control.listen();
    await this.#startMetrics();
    await this.#startStatusServer();

    this.#uplinks = new UplinkSide(
      { stateDir: o.stateDir, record: (e) => this.#record(e), changed: () => this.#executor.poke() },
      this.#config,
    );
    await this.#uplinks.start();
    const rauc = o.rauc ?? new Rauc();
    const slot = await rauc.bootedSlot();
    this.#slotMarker = new SlotMarker({
      slot,
      healthyForMs: () => this.#config.update.markGoodAfterS * 1000,
      markGood: () => rauc.markGood(),
      now: () => performance.now(),
      onEvent: (e) =>
        e.kind === 'marked'
          ? this.#record({
              kind: 'system',
              code: 'SLOT_MARKED_GOOD',
              message: `root slot ${e.slot} marked good after ${Math.round(e.healthyForMs / 1000)} s healthy: the boot loader keeps it`,
            })
          : this.#record({
              kind: 'system',
              code: 'SLOT_MARK_GOOD_FAILED',
              message: `could not mark root slot ${e.slot} good (${e.message}); trying again in ${Math.round(e.retryInMs / 1000)} s`,
            }),
    });
    if (slot !== undefined) {
      this.#record({
        kind: 'system',
        message: `booted root slot ${slot}: it is marked good once fieldcast has been healthy for ${this.#config.update.markGoodAfterS} s`,
      });
    }
    this.#on = this.#config.autostart && this.#config.destinations.length > 0;
    this.#lastTickAt = Date.now();
    this.#tick = setInterval(() => this.#onTick(), TICK_MS);
    this.#notifier.ready();
    // The preflight step: before the first stream, when asked for; its findings go to the event log.
    const pre = this.#config.bond.preflightSeconds;
    if (this.#on && this.#config.bond.enabled && pre > 0) {
      await this.#preflight(pre, 'the supervisor at power-on').catch((err: unknown) =>
        this.#record({
          kind: 'system',
          code: (err as FieldcastError).code ?? 'PREFLIGHT_FAILED',
          message: `preflight: ${(err as Error).message}`,
        }),
      );
    }
    this.#notifier.startWatchdog(() => Date.now() - this.#lastTickAt < LOOP_STALL_MS);
    this.#executor.poke();
    this.#onTick();
  }

  /** Stops the stream (what is queued reaches the destination first) and everything else. */
  stop(): Promise<void> {
    this.#stopping ??= this.#doStop();
    return this.#stopping;
  }

  async #doStop(): Promise<void> {
    this.#notifier.stopping();
    clearInterval(this.#tick);
    await this.#executor.close();
    const unit = this.#unit;
    this.#unit = undefined;
    await unit?.stop();
    await this.#control?.close();
    await this.#board.close();
    await this.#statusPage?.close();
    await this.#uplinks?.stop();
    await new Promise<void>((resolve) => (this.#metrics ? this.#metrics.close(() => resolve()) : resolve()));
    this.#health?.stop();
    this.#record({ kind: 'system', message: 'fieldcast stopped' });
    await this.#events?.close();
    this.#notifier.stop();
  }

  async #loadConfig(): Promise<Config> {
    const { configFile, configGiven } = this.#o;
    try {
      await fs.access(configFile);
    } catch {
      if (configGiven) throw new ConfigIoError(`the config file ${configFile} does not exist`, { file: configFile });
      log.info('no config file yet: running on the defaults until a setting is changed', { file: configFile });
      return defaultConfig();
    }
    return loadConfig(configFile);
  }

  /** The status API (src/status/server), when status.port is set: the same control core as the socket. */
  /** The box's identity, made at its first start; a state directory that cannot keep it costs only a changing id, never the stream. */
  async #loadIdentity(): Promise<void> {
    try {
      const r = await loadOrMakeIdentity(this.#o.stateDir);
      this.#deviceId = r.identity.id;
      if (r.how === 'made') this.#record({ kind: 'system', message: `first start of this box: its id is ${r.identity.id}` });
      if (r.how === 'replaced') {
        this.#record({ kind: 'system', code: 'IDENTITY_REPLACED', message: `${r.why}: this box's id is now ${r.identity.id}` });
      }
    } catch (err) {
      this.#deviceId = newIdentity().id;
      this.#record({
        kind: 'system',
        code: 'IDENTITY_NOT_KEPT',
        message: `the box's identity cannot be kept in ${this.#o.stateDir} (${describeError(err)}): it is ${this.#deviceId} until the next start`,
      });
    }
  }

  async #startStatusServer(): Promise<void> {
    const c = this.#config.status;
    if (c.port === 0) return;
    // Loaded only when served: a box without the page does not carry Fastify in memory.
    const { StatusService } = await import('../status/server/service.js');
    try {
      this.#statusPage = await StatusService.start(c, {
        stateDir: this.#o.stateDir,
        deviceName: this.#config.deviceName,
        snapshot: () => this.snapshot(),
        control: (req, who) => this.#handle(req, who),
        thumbnail: () => this.#unit?.thumbnail(),
        record: (e) => this.#record(e),
      });
    } catch (err) {
      // The stream matters more than the page: it goes on, and the operator is told why there is no page.
      this.#record({
        kind: 'config',
        code: (err as FieldcastError).code ?? 'STATUS_FAILED',
        message: `no status page: ${(err as Error).message}`,
      });
      return;
    }
    this.#o.onStatusServer?.(this.#statusPage.urls(), this.#statusPage.setupCode);
  }

  async #restartStatusServer(): Promise<void> {
    const old = this.#statusPage;
    this.#statusPage = undefined;
    await old?.close();
    await this.#startStatusServer();
  }

  async #startMetrics(): Promise<void> {
    const m = this.#config.metrics;
    if (m.port === 0) return;
    const registry = supervisorMetrics(() => this.snapshot());
    this.#metrics = await serveMetrics({ host: m.listen, port: m.port, registry });
    log.info('metrics served', { url: `http://${m.listen.includes(':') ? `[${m.listen}]` : m.listen}:${m.port}/metrics` });
  }

  // ---- desired and actual state ----

  #desired(): DesiredState {
    const [dest, second] = this.#config.destinations;
    const spec = dest ? streamSpecFromConfig(this.#config, dest) : undefined;
    // The second destination gets the same TS (the config allows it only unbonded: BOND_ONE_DESTINATION).
    if (spec && second && !spec.bond) spec.secondDestination = second;
    // The links: those configured or every usable uplink found, less those whose data plan ran out.
    if (spec?.bond && this.#uplinks) spec.bond.links = this.#uplinks.links();
    return { on: this.#on, spec };
  }

  /** Probes each link to the bonding receiver and recommends a bit rate range and latency (src/uplinks/preflight.ts). */
  async #preflight(seconds: number | undefined, who: string): Promise<unknown> {
    const c = this.#config;
    const dest = c.destinations[0];
    if (!dest || !c.bond.enabled) {
      throw new FieldcastError(
        'PREFLIGHT_NOT_BONDED',
        'preflight probes the links to a bonding receiver: set bond.enabled and the destination first',
      );
    }
    const links = this.#uplinks?.allLinks() ?? c.bond.links;
    if (links.length === 0) throw new FieldcastError('PREFLIGHT_NO_LINKS', 'there is no uplink to try: plug one in, or set bond.links');
    this.#record({ kind: 'operator', who, message: `${who} ran a preflight over ${links.length} links` });
    const live = this.#snapshot?.state === 'live' || this.#snapshot?.state === 'degraded';
    const result = await runPreflight({ receiver: hostPortOf(dest.url), links, ...(seconds !== undefined ? { seconds } : {}) });
    this.#record({ kind: 'system', code: 'PREFLIGHT', message: `preflight: ${result.summary}` });
    return {
      ...result,
      ...(live ? { note: 'measured while streaming: the stream shared the links, so the rates are what was left over' } : {}),
    };
  }

  #actual(): ActualState {
    return { stream: this.#unit ? { spec: this.#unit.spec } : undefined };
  }

  async #apply(step: Step, signal: AbortSignal): Promise<void> {
    log.info('applying', { step: step.kind, ...('reason' in step ? { why: step.reason } : {}) });
    switch (step.kind) {
      case 'start':
        await this.#startUnit(step.spec, signal);
        return;
      case 'stop':
        await this.#stopUnit(step.reason);
        return;
      case 'restartStream':
        await this.#stopUnit(step.reason);
        await this.#startUnit(step.spec, signal);
        return;
      case 'restartPipeline':
        this.#unit?.setPipeline(step.source, step.mux);
        this.#record({ kind: 'restart', code: 'PIPELINE_REPLACED', message: `restarting the media pipeline: ${step.reason}` });
        return;
      case 'setVideoRange':
        this.#unit?.setVideoRange(step.range);
        return;
      case 'setDestination':
        this.#unit?.setDestination(step.destination, step.index);
        return;
      case 'removeDestination':
        this.#unit?.removeSecondDestination();
        return;
      case 'addLink':
        await this.#unit?.addLink(step.link);
        this.#record({ kind: 'link', code: 'LINK_ADDED', message: `link ${step.link.name} added`, link: step.link.name });
        return;
      case 'setMeteredPolicy':
        this.#unit?.setMeteredWhenNeeded(step.whenNeeded);
        this.#record({
          kind: 'link',
          code: 'METERED_POLICY',
          message: step.whenNeeded ? 'metered links now carry only what the free links cannot' : 'every link is now bonded alike',
        });
        return;
      case 'removeLink':
        this.#unit?.removeLink(step.name);
        this.#record({ kind: 'link', code: 'LINK_REMOVED', message: `link ${step.name} taken out`, link: step.name });
        return;
    }
  }

  async #startUnit(spec: ReturnType<typeof streamSpecFromConfig>, signal: AbortSignal): Promise<void> {
    await this.#board.prepareCapture(this.#config.input.video);
    // Thumbnails only for a page to show them: a box without the page spends nothing on them.
    const { enabled: recording, ...recordingSettings } = this.#config.recording;
    const unit = new StreamUnit(spec, {
      thumbnails: this.#config.status.port !== 0,
      // Read at each start: a change of the recording settings applies from the next stream.
      ...(recording ? { recording: { dir: path.join(this.#o.stateDir, RECORDINGS_DIR), settings: recordingSettings } } : {}),
    });
    unit.on('restarting', (e, ms) => this.#record({ kind: 'restart', code: e.code, message: e.message, restartInMs: ms }));
    unit.on('event', (e) => {
      if (e.level !== 'info') log[e.level](e.message, { code: e.code });
    });
    unit.on('state', (s) => {
      if (s === 'live') this.#unitLiveSince = Date.now();
      else if (s !== 'stopping' && s !== 'stopped') this.#unitLiveSince = 0;
    });
    unit.on('finished', (code) => {
      if (this.#unit !== unit) return; // stopped on purpose
      this.#unit = undefined;
      const message = `the stream ended by itself${code ? ` (${code})` : ''}`;
      this.#record({ kind: 'restart', code: code ?? 'STREAM_ENDED', message });
      this.#executor.failed(new FieldcastError(code ?? 'STREAM_ENDED', message));
      this.#executor.poke();
    });
    try {
      await unit.start();
    } catch (err) {
      await unit.stop().catch(() => undefined);
      throw err;
    }
    if (signal.aborted) {
      await unit.stop();
      return;
    }
    this.#unit = unit;
    this.#unitLiveSince = 0;
  }

  async #stopUnit(reason: string): Promise<void> {
    const unit = this.#unit;
    this.#unit = undefined;
    if (!unit) return;
    log.info('stopping the stream', { why: reason });
    await unit.stop();
  }

  // ---- the control socket ----

  async #handle(req: ControlRequestT, who: string): Promise<unknown> {
    switch (req.op) {
      case 'status':
        return this.snapshot();
      case 'start':
      case 'stop': {
        const on = req.op === 'start';
        if (on && this.#config.destinations.length === 0) {
          throw new FieldcastError('NO_DESTINATION', 'there is nowhere to stream to: set destinations.0.url first');
        }
        const was = this.#on;
        this.#on = on;
        if (was !== on) this.#record({ kind: 'operator', who, message: `${who} ${on ? 'started' : 'stopped'} the stream` });
        this.#executor.poke({ now: true });
        await this.#settle(SET_SETTLE_MS);
        return { state: this.snapshot().state, reason: this.snapshot().reason };
      }
      case 'set':
        return this.#set(req.assignments, who);
      case 'get': {
        const value = req.key ? getSetting(this.#config, req.key) : this.#config;
        return { key: req.key ?? '', value: redactSecrets(value, req.key?.split('.').pop() ?? '') };
      }
      case 'modem-reset': {
        this.#record({ kind: 'operator', who, message: `${who} restarted modem ${req.modem}` });
        if (!(await this.#uplinks?.resetModem(req.modem))) {
          throw new FieldcastError('MODEM_NOT_FOUND', 'modems are not looked for (modems.enabled is off)');
        }
        return { modem: req.modem };
      }
      case 'restart': {
        if (!this.#unit?.restartPipeline()) throw new FieldcastError('NOT_STREAMING', 'there is no pipeline to restart: the stream is off');
        this.#record({ kind: 'restart', code: 'PIPELINE_RESTART', who, message: `${who} restarted the media pipeline` });
        return { restarting: true };
      }
      case 'uplink': {
        const uplinks = this.#uplinks;
        if (!uplinks) throw new FieldcastError('UPLINK_NOT_FOUND', 'bonding is off: there are no uplinks to choose');
        const { op: _op, name, ...change } = req;
        await this.#set(uplinks.uplinkAssignments(name, change), who);
        const card = uplinks.allLinks().find((l) => l.name === name);
        return { name, enabled: card?.enabled ?? true, priority: card?.priority ?? 5 };
      }
      case 'preflight':
        return this.#preflight(req.seconds, who);
      case 'events':
        return (
          (await this.#events?.read({
            ...(req.limit !== undefined ? { limit: req.limit } : {}),
            ...(req.since !== undefined ? { since: req.since } : {}),
          })) ?? []
        );
    }
  }

  /** Validates the whole change, saves it atomically, then applies it live; an invalid one changes nothing. */
  async #set(assignments: Assignment[], who: string): Promise<unknown> {
    const before = this.#config;
    let saved: Config;
    try {
      const next = applySettings(before, assignments); // throws CONFIG_INVALID naming each key
      saved = await saveConfig(this.#o.configFile, next); // throws CONFIG_IO; the file and the box are as they were
    } catch (err) {
      const keys = assignments.map((a) => a.key).join(', ');
      this.#record({
        kind: 'config',
        who,
        code: (err as FieldcastError).code ?? 'CONFIG_INVALID',
        message: `${who} tried to set ${keys}: refused, nothing changed (${(err as Error).message})`,
      });
      throw err;
    }
    this.#config = saved;
    await this.#uplinks?.configure(saved);
    for (const a of assignments) {
      const secret = isSecretKey(a.key);
      this.#record({
        kind: 'operator',
        who,
        message: `${who} set ${a.key}${secret ? '' : ` to ${a.value}`}`,
        setting: a.key,
        ...(secret ? {} : { from: JSON.stringify(redactSecrets(safeGet(before, a.key))) }),
      });
    }
    if (!isDeepEqualJson(before.metrics, saved.metrics)) await this.#restartMetrics();
    if (!isDeepEqualJson(before.status, saved.status)) await this.#restartStatusServer();
    if (!isDeepEqualJson(before.panel, saved.panel)) await this.#board.configure(saved.panel);
    // SSH is applied by root (fieldcast-system.service, on the saved file): wait to say whether it took.
    const systemNotApplied = isDeepEqualJson(before.system, saved.system) ? undefined : await awaitSystemApplied(saved.system);
    if (systemNotApplied) this.#record({ kind: 'config', who, code: systemNotApplied.code, message: systemNotApplied.message });
    // A new destination on a box that was idle for the want of one: stream, as at power-on.
    if (before.destinations.length === 0 && saved.destinations.length > 0 && saved.autostart) this.#on = true;
    if (saved.destinations.length === 0) this.#on = false;
    this.#appliedLog = [];
    this.#executor.poke({ now: true });
    await this.#settle(SET_SETTLE_MS);
    const applied = this.#appliedLog;
    this.#appliedLog = undefined;
    const failure = this.#executor.failure;
    const notYetApplied = [
      ...(failure && failure.step !== 'stream' ? [failure.message] : []),
      ...(systemNotApplied ? [`${systemNotApplied.code}: ${systemNotApplied.message}`] : []),
    ];
    return {
      saved: this.#o.configFile,
      changed: assignments.map((a) => a.key),
      applied,
      ...(notYetApplied.length > 0 ? { notYetApplied: notYetApplied.join('; ') } : {}),
    };
  }

  async #restartMetrics(): Promise<void> {
    const old = this.#metrics;
    this.#metrics = undefined;
    if (old) await new Promise<void>((resolve) => old.close(() => resolve()));
    try {
      await this.#startMetrics();
    } catch (err) {
      this.#record({ kind: 'config', code: 'METRICS_LISTEN_FAILED', message: (err as Error).message });
    }
  }

  async #settle(ms: number): Promise<void> {
    await Promise.race([this.#executor.settled(), new Promise((r) => setTimeout(r, ms).unref())]);
  }

  // ---- the snapshot, each second ----

  #build(): StatusSnapshot {
    const unit = this.#unit;
    const health: HealthSnapshot | undefined = this.#health?.snapshot();
    return buildSnapshot({
      now: Date.now(),
      device: {
        id: this.#deviceId,
        name: this.#config.deviceName,
        version: this.#o.version,
        uptimeS: Math.round((Date.now() - this.#startedAt) / 1000),
      },
      config: this.#config,
      on: this.#on,
      ...(unit
        ? { stream: { spec: unit.spec, stats: unit.stats() as StreamStats, audio: unit.audioLevels(), thumbnail: thumbnailOf(unit) } }
        : {}),
      ...(this.#executor.failure ? { failure: this.#executor.failure } : {}),
      health: health ?? EMPTY_HEALTH,
      ...(this.#uplinks?.statusInputs() ?? {}),
      ...(this.#snapshot ? { previous: this.#snapshot } : {}),
    });
  }

  #onTick(): void {
    this.#lastTickAt = Date.now();
    this.#uplinks?.tick();
    const before = this.#snapshot;
    const now = this.#build();
    this.#snapshot = now;
    this.#diff(before, now);
    this.#uplinks?.feedModems(now);
    this.#statusPage?.tick(now);
    this.#board.update();
    this.#slotMarker?.observe(now.state);
    if (this.#unit && this.#unitLiveSince > 0 && Date.now() - this.#unitLiveSince > STABLE_MS) this.#executor.recovered();
    this.#notifier.status(`${now.state}: ${now.reason}`);
    this.#o.onStatusLine?.(formatStatusLine(now), now);
  }

  /** What changed since the last snapshot, for the event log: the state, links, alerts. */
  #diff(before: StatusSnapshot | undefined, now: StatusSnapshot): void {
    if (!before || before.state !== now.state) {
      this.#record({ kind: 'state', code: now.state.toUpperCase().replace('-', '_'), message: now.reason, state: now.state });
    }
    const links = new Map((before?.bond?.links ?? []).map((l) => [l.name, l.state]));
    for (const l of now.bond?.links ?? []) {
      const was = links.get(l.name);
      if (was !== undefined && was !== l.state) {
        this.#record({
          kind: 'link',
          code: `LINK_${l.state.toUpperCase().replace('-', '_')}`,
          message: `link ${l.name}: ${was} → ${l.state}${l.why ? ` (${l.why})` : ''}`,
          link: l.name,
        });
      }
    }
    const had = new Set((before?.alerts ?? []).map((a) => a.code));
    const has = new Set(now.alerts.map((a) => a.code));
    for (const a of now.alerts) if (!had.has(a.code)) this.#record({ kind: 'alert', code: a.code, message: a.message, level: a.level });
    for (const a of before?.alerts ?? [])
      if (!has.has(a.code)) this.#record({ kind: 'alert', code: a.code, message: `cleared: ${a.message}` });
  }

  #record(e: Parameters<EventLog['append']>[0]): void {
    if (this.#events) this.#events.append(e);
    else log.info(e.message, { kind: e.kind });
    this.#statusPage?.changed();
  }
}

function thumbnailOf(unit: StreamUnit): { at: string; width: number; height: number } | undefined {
  const t = unit.thumbnail();
  return t ? { at: t.at, width: t.width, height: t.height } : undefined;
}

function safeGet(config: Config, key: string): unknown {
  try {
    return getSetting(config, key);
  } catch {
    return undefined;
  }
}

function isDeepEqualJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
