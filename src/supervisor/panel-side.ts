/**
 * The supervisor's side of the front panel: it opens what the board profile
 * names — the display (its driver retries by itself), the buttons and LEDs —
 * and hands them to the FrontPanel with the supervisor's snapshot and start
 * and stop. What cannot be opened is told in the event log; the panel runs
 * with what it has, and the stream never waits for it.
 */
import type { BoardProfile } from '../boards/index.js';
import type { FieldcastError } from '../lib/errors.js';
import {
  FrontPanel,
  openDisplay,
  type PanelButtons,
  PanelControls,
  type PanelDisplay,
  type PanelInput,
  type PanelLed,
} from '../panel/index.js';

export interface PanelSideDeps {
  input: () => PanelInput;
  setStreaming: (on: boolean) => Promise<void>;
  record: (e: { code: string; message: string }) => void;
}

/** The buttons of PanelControls as the FrontPanel takes them: the main button, and the second as "next". */
function buttonsOf(controls: PanelControls): PanelButtons {
  return {
    onPress(fn) {
      controls.on('short', (p) => fn(p.button === 'main' ? 'main' : 'next', 'short'));
      controls.on('long', (p) => fn(p.button === 'main' ? 'main' : 'next', 'long'));
    },
    close: () => controls.close(),
  };
}

export async function startFrontPanel(board: BoardProfile, deps: PanelSideDeps): Promise<FrontPanel | undefined> {
  const { display: spec, controls: pins } = board.panel;
  if (!spec && !pins) {
    deps.record({ code: 'PANEL_NONE', message: `no front panel: the board profile ${board.name} has no display, buttons or LEDs` });
    return undefined;
  }
  let display: PanelDisplay | undefined;
  if (spec) {
    display = openDisplay(spec, {
      onState: (s) => deps.record(FrontPanel.displayStateRecord(spec.kind, s)),
    });
  }
  let controls: PanelControls | undefined;
  if (pins) {
    try {
      controls = new PanelControls({ pins });
    } catch (err) {
      deps.record({
        code: (err as FieldcastError).code ?? 'PANEL_GPIO_UNAVAILABLE',
        message: `the front panel has no buttons or LEDs: ${(err as Error).message}`,
      });
    }
  }
  const leds: { tally?: PanelLed; error?: PanelLed } = {};
  if (controls?.tally) leds.tally = controls.tally;
  if (controls?.error) leds.error = controls.error;
  return new FrontPanel({
    ...(display ? { display } : {}),
    ...(controls ? { buttons: buttonsOf(controls) } : {}),
    leds,
    input: deps.input,
    setStreaming: deps.setStreaming,
    record: deps.record,
  });
}
