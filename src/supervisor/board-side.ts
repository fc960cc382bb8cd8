/**
 * The supervisor's side of the board: which board this is (its profile in
 * hardware/boards, named by panel.board or recognised), and its front panel
 * while panel.enabled. It owns both; the supervisor asks it for the thermal
 * zones the health monitor reads and calls update() each second.
 */
import { type BoardMatch, detectBoard } from '../boards/index.js';
import type { PanelConfigT } from '../config/index.js';
import type { FieldcastError } from '../lib/errors.js';
import { EDID_OFFERS, loadEdid } from '../media/edid.js';
import type { FrontPanel } from '../panel/index.js';
import type { PanelSideDeps } from './panel-side.js';

export interface BoardSideDeps {
  /** For the event log: the board found, a profile or panel problem. */
  record: (e: { kind: 'system' | 'config'; code: string; message: string }) => void;
  /** What the front panel draws from and drives. */
  panel: Omit<PanelSideDeps, 'record'>;
}

export class BoardSide {
  readonly #deps: BoardSideDeps;
  #board: BoardMatch | undefined;
  #panel: FrontPanel | undefined;
  /** What the last EDID load said, per input, so each outcome is logged once. */
  readonly #edid = new Map<string, string>();

  constructor(deps: BoardSideDeps) {
    this.#deps = deps;
  }

  /** The thermal zone types the board's profile names (none: every zone). */
  get thermalZones(): readonly string[] {
    return this.#board?.profile.thermal.zones ?? [];
  }

  /** Finds the board and, when panel.enabled, brings up its front panel. */
  async start(config: PanelConfigT): Promise<void> {
    this.#board = await this.#detect(config.board);
    if (config.enabled) await this.#startPanel();
  }

  /** panel.* changed: the panel comes down and up again with the (perhaps other) board. */
  async configure(config: PanelConfigT): Promise<void> {
    await this.close();
    await this.start(config);
  }

  /**
   * Before a capture from `video` (input.video): loads the EDID the board's
   * profile gives its HDMI bridge. A failure is told and the capture goes on
   * (the camera may still send, or the slate goes out).
   */
  async prepareCapture(video: string): Promise<void> {
    const profile = this.#board?.profile;
    const m = /^(\/dev\/video\d+)(?::(\d+))?$/.exec(video);
    if (!profile?.capture.edid || !m) return;
    const device = m[1]!;
    const pad = m[2] !== undefined ? Number(m[2]) : profile.capture.input;
    const type = profile.capture.edid;
    const key = `${device}:${pad}`;
    let said: { kind: 'system' | 'config'; code: string; message: string };
    try {
      const { blocks } = await loadEdid(device, pad, type);
      said = {
        kind: 'system',
        code: 'INPUT_EDID',
        message: `${device} input ${pad} shows the camera an HDMI EDID ${EDID_OFFERS[type]} (${blocks} blocks)`,
      };
    } catch (err) {
      said = { kind: 'config', code: (err as FieldcastError).code ?? 'INPUT_EDID_FAILED', message: (err as Error).message };
    }
    if (this.#edid.get(key) !== said.message) this.#deps.record(said);
    this.#edid.set(key, said.message);
  }

  /** Redraws the panel from the latest snapshot and sets its LEDs. */
  update(): void {
    this.#panel?.update();
  }

  async close(): Promise<void> {
    const panel = this.#panel;
    this.#panel = undefined;
    await panel?.close();
  }

  async #detect(wanted: string): Promise<BoardMatch | undefined> {
    try {
      const match = await detectBoard(wanted);
      this.#deps.record({
        kind: 'system',
        code: 'BOARD',
        message: `board: ${match.profile.name} (${match.matchedBy})${match.note ? `; ${match.note}` : ''}`,
      });
      return match;
    } catch (err) {
      this.#deps.record({
        kind: 'config',
        code: (err as FieldcastError).code ?? 'BOARD_PROFILE_INVALID',
        message: `no board profile: ${(err as Error).message}`,
      });
      return undefined;
    }
  }

  async #startPanel(): Promise<void> {
    if (!this.#board) {
      this.#deps.record({ kind: 'config', code: 'PANEL_NO_BOARD', message: 'no front panel: no board profile (see the event before)' });
      return;
    }
    // Loaded only when used: a box without a panel does not carry the drivers in memory.
    const { startFrontPanel } = await import('./panel-side.js');
    this.#panel = await startFrontPanel(this.#board.profile, {
      ...this.#deps.panel,
      record: (e) => this.#deps.record({ kind: 'system', ...e }),
    });
    this.#panel?.update();
  }
}
