/**
 * The front panel's shared vocabulary: which displays there are, which pages
 * they show, and the frame a page is drawn into. The renderer (pages.ts)
 * makes frames from the status snapshot; a driver (drivers/) puts a frame on
 * its glass; the front panel (front-panel.ts) joins the two to the buttons
 * and LEDs. Nothing here touches hardware.
 */
import type { StatusSnapshot } from '../supervisor/snapshot.js';

/** The displays Fieldcast drives. */
export const DISPLAY_KINDS = ['ssd1306', 'st7789', 'hd44780'] as const;
export type DisplayKind = (typeof DISPLAY_KINDS)[number];

/** The pages, in the order a short press cycles through them. */
export const PAGE_NAMES = ['main', 'links', 'input', 'setup', 'network'] as const;
export type PageName = (typeof PAGE_NAMES)[number];

/** A 1-bit picture: one byte per pixel (0 dark, 1 lit), row-major. */
export interface MonoFrame {
  kind: 'mono';
  width: number;
  height: number;
  pixels: Uint8Array;
}

/** A colour picture: one RGB565 value per pixel, row-major. */
export interface Rgb565Frame {
  kind: 'rgb565';
  width: number;
  height: number;
  pixels: Uint16Array;
}

/** A character display's contents: `rows` lines of exactly `cols` printable ASCII characters. */
export interface TextFrame {
  kind: 'text';
  cols: number;
  rows: number;
  lines: string[];
}

export type Frame = MonoFrame | Rgb565Frame | TextFrame;

/** What each display shows: its frame kind and size. */
export const DISPLAY_GEOMETRY: Record<DisplayKind, { frame: Frame['kind']; width: number; height: number }> = {
  ssd1306: { frame: 'mono', width: 128, height: 64 },
  st7789: { frame: 'rgb565', width: 240, height: 240 },
  hd44780: { frame: 'text', width: 16, height: 2 },
};

/** What a page is drawn from: the supervisor's snapshot and what the status page's server knows. */
export interface PanelInput {
  snapshot: StatusSnapshot;
  /** The one-time setup code while no password is set on the status page. */
  setupCode?: string;
  /** The status page's addresses (http://192.168.1.20:8080/), the LAN one first. */
  urls: string[];
}

/** A display's health as its driver sees it. */
export type DisplayState = { state: 'ok' } | { state: 'gone'; why: string };

/**
 * A display on the box. `show` never blocks: it queues the frame, a newer
 * frame replaces one not yet drawn, and only what changed since the last
 * frame on the glass is written. A display that stops answering is reported
 * through `onState` and retried; it never throws into the caller.
 */
export interface PanelDisplay {
  readonly kind: DisplayKind;
  show(frame: Frame): void;
  /** Resolves when every frame queued so far is on the glass (or the display is gone). */
  idle(): Promise<void>;
  close(): Promise<void>;
}
