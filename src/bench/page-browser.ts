/**
 * The status page in Chromium for `fieldcast bench status-page`: the page
 * logged in as an operator would (the password on its login form), and the
 * time from a change made at the box to the page showing it.
 *
 * How the time is taken: a MutationObserver in the page watches the encoder
 * card and, on each mutation that changes what it shows (the bit rate range,
 * the pipeline's restart count), stamps `performance.timeOrigin +
 * performance.now()`, then again in the next animation frame — the frame
 * that paints it, as close to "on screen" as a page can tell. The change
 * itself is stamped in this process on the same kind of clock just before it
 * is made. Both clocks start from this machine's wall clock and run on its
 * monotonic clock; their offset is measured (a page read bracketed by two
 * of ours, the tightest of several) and taken off. Resolution: Chromium's
 * performance.now() is coarsened to 0.1 ms; the offset is known to within
 * half the tightest round trip (about a millisecond) — both far below the
 * 500 ms goal.
 */
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { BenchSetupError } from './errors.js';

export const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

/** What the page's encoder card shows, read in the page (a string: this code runs in Chromium, not here). */
const WATCH = `(() => {
  const stamp = () => performance.timeOrigin + performance.now();
  const read = () => {
    const card = document.getElementById('encoder-title')?.closest('section');
    if (!card) return { range: undefined, restarts: undefined };
    let range;
    for (const row of card.querySelectorAll('dl > div'))
      if (row.querySelector('dt')?.textContent?.trim() === 'Range') range = row.querySelector('dd')?.textContent?.trim();
    const m = /Pipeline restarted (\\d+) time/.exec(card.textContent ?? '');
    return { range, restarts: m ? m[1] : '0' };
  };
  const seen = { range: [], restarts: [] };
  let last = read();
  new MutationObserver(() => {
    const now = read();
    const at = stamp();
    for (const k of ['range', 'restarts']) {
      if (now[k] === last[k]) continue;
      const e = { value: now[k], domAt: at, frameAt: undefined };
      seen[k].push(e);
      requestAnimationFrame(() => { e.frameAt = stamp(); });
    }
    last = now;
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
  globalThis.__fieldcastSeen = seen;
  return last;
})()`;

export type Watched = 'range' | 'restarts';

interface Seen {
  value: string | undefined;
  domAt: number;
  frameAt: number | undefined;
}

export interface ShownAfter {
  /** From the change to the DOM showing it, ms. */
  domMs: number;
  /** From the change to the animation frame after (the paint), ms. */
  screenMs: number;
  value: string;
}

/** playwright-core's Chromium driver, loaded only when a page is timed; BenchSetupError naming the fix without it or Chromium. */
export async function requireBrowser(): Promise<typeof import('playwright-core').chromium> {
  let chromium: typeof import('playwright-core').chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    throw new BenchSetupError('playwright-core is not installed: run npm install (it is a dev dependency)');
  }
  if (!existsSync(CHROMIUM)) throw new BenchSetupError(`no Chromium at ${CHROMIUM}: apt-get install chromium`);
  return chromium;
}

/** This process's clock as the page's: ms since the epoch, at sub-ms resolution. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

export class PageSession {
  readonly #browser: Browser;
  readonly #page: Page;
  /** The page's clock minus ours, ms, and how well it is known (±). */
  readonly clockOffsetMs: number;
  readonly clockUncertaintyMs: number;

  private constructor(browser: Browser, page: Page, offset: { ms: number; uncertainty: number }) {
    this.#browser = browser;
    this.#page = page;
    this.clockOffsetMs = offset.ms;
    this.clockUncertaintyMs = offset.uncertainty;
  }

  /** Chromium on the page at `base`, logged in with `password`, watching the encoder card. */
  static async open(base: string, password: string): Promise<PageSession> {
    const chromium = await requireBrowser();
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, baseURL: base });
      const page = await ctx.newPage();
      await page.goto('/index.html');
      await page.getByLabel('Password').fill(password, { timeout: 15_000 });
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByTestId('operator-state').waitFor({ timeout: 20_000 });
      await page.locator('#encoder-title').waitFor({ timeout: 20_000 });
      const first = (await page.evaluate(WATCH)) as { range?: string };
      if (!first.range) throw new Error('the encoder card shows no bit rate range');
      return new PageSession(browser, page, await measureOffset(page));
    } catch (e) {
      await browser.close().catch(() => undefined);
      throw e;
    }
  }

  /** What the page shows now of `what` (as the watcher last read it). */
  async current(what: Watched): Promise<string | undefined> {
    const all = (await this.#page.evaluate(`globalThis.__fieldcastSeen.${what}`)) as Seen[];
    return all.at(-1)?.value;
  }

  /**
   * Makes a change (`act`, stamped just before it starts) and waits until the
   * page shows `what` with a value `shows` accepts and the frame after has
   * run; undefined when it did not within `timeoutMs`.
   */
  async timeChange(
    what: Watched,
    shows: (value: string) => boolean,
    act: () => Promise<void> | void,
    timeoutMs: number,
  ): Promise<ShownAfter | undefined> {
    const count = ((await this.#page.evaluate(`globalThis.__fieldcastSeen.${what}.length`)) as number) ?? 0;
    const t0 = wallNow();
    await act();
    const until = performance.now() + timeoutMs;
    while (performance.now() < until) {
      const seen = ((await this.#page.evaluate(`globalThis.__fieldcastSeen.${what}`)) as Seen[]).slice(count);
      const hit = seen.find((s) => s.value !== undefined && shows(s.value));
      if (hit && hit.frameAt !== undefined) {
        const local = (t: number): number => t - this.clockOffsetMs - t0;
        return { domMs: local(hit.domAt), screenMs: local(hit.frameAt), value: hit.value! };
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    return undefined;
  }

  async close(): Promise<void> {
    await this.#browser.close().catch(() => undefined);
  }
}

/** The page's clock minus ours: a page read bracketed by two of ours, the tightest of 9. */
async function measureOffset(page: Page): Promise<{ ms: number; uncertainty: number }> {
  let best = { ms: Number.NaN, uncertainty: Number.POSITIVE_INFINITY };
  for (let i = 0; i < 9; i++) {
    const a = wallNow();
    const p = (await page.evaluate('performance.timeOrigin + performance.now()')) as number;
    const b = wallNow();
    if ((b - a) / 2 < best.uncertainty) best = { ms: p - (a + b) / 2, uncertainty: (b - a) / 2 };
  }
  return best;
}
