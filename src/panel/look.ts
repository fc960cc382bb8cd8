/**
 * How each pixel display looks: its colours and text sizes. The OLED is
 * one colour, so every tone is "lit" and emphasis is drawn by inverting;
 * the colour LCD has a palette chosen for contrast in daylight, with the
 * state in tally colours: LIVE white on red, DEGRADED and NO SIGNAL black on
 * amber, IDLE white on grey, STARTING white on blue, and ERROR red on white
 * so that a fault never reads as being on air.
 */
import type { OperatorState } from '../supervisor/snapshot.js';
import { type Colour, rgb565 } from './canvas.js';
import type { Tone } from './page-model.js';

export interface StateLook {
  band: Colour;
  text: Colour;
  /** An outline inside the band (the OLED marks a warning state with a box). */
  outline?: Colour;
}

export interface Look {
  bg: Colour;
  fg: Colour;
  /** Labels and secondary text. */
  dim: Colour;
  tones: Record<Tone, Colour>;
  /** Unlit parts of meters and bars. */
  track: Colour;
  title: { band: Colour; text: Colour };
  state: Record<OperatorState, StateLook>;
  /** Scale of body text, and the line pitch that goes with it. */
  small: number;
  line: number;
  /** Scale of the main page's figures. */
  figure: number;
  /** Largest scale of the state word and the setup code. */
  bigMax: number;
  /** Height of the main page's state band and of a title bar. */
  bandHeight: number;
  titleHeight: number;
  /** A second, dim line under each uplink: its name, the network or why it is down. */
  linkDetail: boolean;
}

const LIT = 1;
const DARK = 0;

export const MONO_LOOK: Look = {
  bg: DARK,
  fg: LIT,
  dim: LIT,
  tones: { good: LIT, warn: LIT, bad: LIT, off: LIT },
  track: DARK,
  title: { band: LIT, text: DARK },
  state: {
    live: { band: LIT, text: DARK },
    error: { band: LIT, text: DARK },
    degraded: { band: DARK, text: LIT, outline: LIT },
    'no-signal': { band: DARK, text: LIT, outline: LIT },
    idle: { band: DARK, text: LIT },
    starting: { band: DARK, text: LIT },
  },
  small: 1,
  line: 8,
  figure: 1,
  bigMax: 3,
  bandHeight: 26,
  titleHeight: 9,
  linkDetail: false,
};

const WHITE = rgb565(255, 255, 255);
const BLACK = rgb565(0, 0, 0);
const RED = rgb565(224, 0, 0);
const AMBER = rgb565(255, 176, 0);

export const COLOUR_LOOK: Look = {
  bg: BLACK,
  fg: WHITE,
  dim: rgb565(168, 168, 168),
  tones: { good: rgb565(64, 224, 96), warn: AMBER, bad: rgb565(255, 72, 72), off: rgb565(136, 136, 136) },
  track: rgb565(56, 56, 56),
  title: { band: rgb565(40, 56, 88), text: WHITE },
  state: {
    live: { band: RED, text: WHITE },
    error: { band: WHITE, text: RED, outline: RED },
    degraded: { band: AMBER, text: BLACK },
    'no-signal': { band: AMBER, text: BLACK },
    idle: { band: rgb565(88, 88, 88), text: WHITE },
    starting: { band: rgb565(32, 88, 208), text: WHITE },
  },
  small: 2,
  line: 18,
  figure: 3,
  bigMax: 6,
  bandHeight: 80,
  titleHeight: 24,
  linkDetail: true,
};
