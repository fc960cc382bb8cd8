/**
 * The front panel's behaviour with the renderer and a display, buttons and
 * LEDs that record what they are asked (stand-ins for the drivers, which
 * have their own tests): the page shown, the pages a short press turns, the
 * long press that starts and stops, the LEDs per state, the way home.
 */
import { describe, expect, it } from 'vitest';
import type { Frame, PanelDisplay, PanelInput } from '../../../src/panel/frame.js';
import { FrontPanel, HOME_AFTER_MS, ledPatterns, type PanelButtons } from '../../../src/panel/front-panel.js';
import type { LedPattern } from '../../../src/panel/leds.js';
import { SAMPLES } from '../../../src/panel/sample.js';
import type { StatusSnapshot } from '../../../src/supervisor/snapshot.js';

class RecordingDisplay implements PanelDisplay {
  readonly kind = 'hd44780' as const;
  frames: Frame[] = [];
  closed = false;
  show(frame: Frame): void {
    this.frames.push(frame);
  }
  async idle(): Promise<void> {}
  async close(): Promise<void> {
    this.closed = true;
  }
  get text(): string {
    const f = this.frames.at(-1);
    return f?.kind === 'text' ? f.lines.join('|') : '';
  }
}

class PressableButtons implements PanelButtons {
  #fn: ((b: 'main' | 'next', p: 'short' | 'long') => void) | undefined;
  onPress(fn: (b: 'main' | 'next', p: 'short' | 'long') => void): void {
    this.#fn = fn;
  }
  press(b: 'main' | 'next', p: 'short' | 'long'): void {
    this.#fn?.(b, p);
  }
  close(): void {}
}

function rig(snapshot: StatusSnapshot, setupCode?: string) {
  let now = 0;
  const state = { snapshot, ...(setupCode ? { setupCode } : {}) } as { snapshot: StatusSnapshot; setupCode?: string };
  const display = new RecordingDisplay();
  const buttons = new PressableButtons();
  const leds = { tally: [] as LedPattern[], error: [] as LedPattern[] };
  const streaming: boolean[] = [];
  const records: { code: string; message: string }[] = [];
  const panel = new FrontPanel({
    display,
    buttons,
    leds: {
      tally: { setPattern: (p) => leds.tally.push(p), close: () => {} },
      error: { setPattern: (p) => leds.error.push(p), close: () => {} },
    },
    input: (): PanelInput => ({ ...state, urls: ['http://192.168.1.20:8080/'] }),
    setStreaming: async (on) => {
      streaming.push(on);
      if (on && state.snapshot.destinations.length === 0) throw new Error('there is nowhere to stream to: set destinations.0.url first');
    },
    record: (e) => records.push(e),
    now: () => now,
  });
  return { panel, display, buttons, leds, streaming, records, state, advance: (ms: number) => (now += ms) };
}

describe('the front panel', () => {
  it('shows the main page from the snapshot, and a short press turns the pages in order, back to main', () => {
    const r = rig(SAMPLES.live());
    r.panel.update();
    expect(r.panel.page).toBe('main');
    expect(r.display.text).toMatch(/^LIVE/);
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      r.buttons.press(i % 2 ? 'next' : 'main', 'short');
      seen.push(r.panel.page);
    }
    expect(seen).toEqual(['links', 'input', 'setup', 'network', 'main']);
    expect(r.display.frames).toHaveLength(6); // each press draws at once
  });

  it('a long press stops a stream that is on and starts one that is off; a refused start is told', async () => {
    const live = rig(SAMPLES.live());
    live.buttons.press('main', 'long');
    expect(live.streaming).toEqual([false]);
    const idle = rig(SAMPLES.idle());
    idle.buttons.press('main', 'long');
    await new Promise((r) => setImmediate(r));
    expect(idle.streaming).toEqual([true]);
    expect(idle.records).toEqual([
      {
        code: 'PANEL_CONTROL_FAILED',
        message: 'the front panel button could not start the stream: there is nowhere to stream to: set destinations.0.url first',
      },
    ]);
  });

  it('goes home after a minute without a press: the setup page while a setup code waits, else main', () => {
    const r = rig(SAMPLES.live(), 'K7Q-2MX');
    r.panel.update();
    expect(r.panel.page).toBe('setup');
    for (let i = 0; i < 3; i++) r.buttons.press('next', 'short'); // setup → network → main → links
    expect(r.panel.page).toBe('links');
    r.advance(HOME_AFTER_MS - 1);
    r.panel.update();
    expect(r.panel.page).toBe('links');
    r.advance(1);
    r.panel.update();
    expect(r.panel.page).toBe('setup');
    delete r.state.setupCode; // the password was set
    r.panel.update();
    expect(r.panel.page).toBe('main');
  });

  it('until the first press it follows its home page: the setup page as soon as a setup code is there', () => {
    const r = rig(SAMPLES.live());
    r.panel.update();
    expect(r.panel.page).toBe('main');
    r.state.setupCode = 'K7Q-2MX'; // the status page came up after the panel
    r.panel.update();
    expect(r.panel.page).toBe('setup');
    expect(r.display.text).toContain('K7Q');
  });

  it('tally lit on air, blinking while starting; the error LED by how bad it is; each set only when it changes', () => {
    expect(ledPatterns(SAMPLES.live())).toEqual({ tally: 'on', error: 'off' });
    expect(ledPatterns({ state: 'degraded', alerts: [] })).toEqual({ tally: 'on', error: 'double-flash' });
    expect(ledPatterns({ state: 'no-signal', alerts: [] })).toEqual({ tally: 'on', error: 'double-flash' });
    expect(
      ledPatterns({ state: 'live', alerts: [{ code: 'HEALTH_DISK_LOW', level: 'error', message: 'disk full', since: '' }] }).error,
    ).toBe('on');
    expect(ledPatterns(SAMPLES.error())).toEqual({ tally: 'off', error: 'blink-fast' });
    expect(ledPatterns({ state: 'starting', alerts: [] })).toEqual({ tally: 'blink-slow', error: 'off' });
    expect(ledPatterns({ ...SAMPLES.idle(), alerts: [{ code: 'HEALTH_HOT', level: 'warn', message: 'hot', since: '' }] }).error).toBe(
      'double-flash',
    );
    const r = rig(SAMPLES.live());
    r.panel.update();
    r.panel.update();
    r.state.snapshot = SAMPLES.error();
    r.panel.update();
    expect(r.leds).toEqual({ tally: ['on', 'off'], error: ['off', 'blink-fast'] });
  });

  it('close closes the display once; nothing is drawn after', async () => {
    const r = rig(SAMPLES.live());
    await r.panel.close();
    await r.panel.close();
    r.panel.update();
    r.buttons.press('main', 'short');
    expect(r.display.closed).toBe(true);
    expect(r.display.frames).toHaveLength(0);
  });
});
