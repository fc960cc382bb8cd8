/**
 * The status page as an operator uses it, in Chromium against `fieldcast
 * run` (test/browser/rig.ts): without a session everything is refused and
 * the page asks for the setup code, then the login; after it the figures
 * move with the live stream; stop on the page stops the stream at the
 * srt-live-transmit listener and start brings it back; a bad bit rate is
 * refused next to its field and changes nothing; the uplink, token, preflight
 * and event-log controls do what they say; a request without the CSRF token
 * and repeated wrong passwords are refused; the passphrase is in no response
 * of the whole session; the page breaks no rule of its Content-Security-Policy.
 * Screenshots at phone and laptop widths are kept in .cache/artifacts/status-page/.
 */
import { readFileSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusSnapshot } from '../../src/supervisor/snapshot.js';
import { waitUntil } from '../integration/receiver-helpers.js';
import { skipWithout } from '../peers.js';
import { LINKS, missingForRig, PASSPHRASE, PASSWORD, Rig, screenshot } from './rig.js';

const skip = skipWithout('the status page in Chromium', missingForRig());
const rig = new Rig();
/** The page as a bookmark names it (the first test checks that / serves the same). */
const HOME = '/index.html';
/** The operator's phone: logged in from the setup test on. */
let phone: BrowserContext;
let page: Page;

type Config = {
  video: { minBitrate: number; maxBitrate: number };
  destinations: { passphrase?: string }[];
  system: { ssh: boolean; sshKeys: string[] };
};

async function status(ctx: BrowserContext = phone): Promise<StatusSnapshot> {
  const r = await rig.request(ctx, 'GET', '/api/v1/status');
  expect(r.status).toBe(200);
  return r.json as StatusSnapshot;
}

async function config(): Promise<Config> {
  return (await rig.request(phone, 'GET', '/api/v1/config')).json as Config;
}

function stateWord(p: Page, word: RegExp): ReturnType<Page['getByTestId']> {
  return p.getByTestId('operator-state').filter({ hasText: word });
}

/** Controls an operator's thumb cannot hit: smaller than 44 × 44 CSS px (a checkbox counts with its label). */
const SMALL_TARGETS = `(() => {
  const bad = [];
  for (const el of document.querySelectorAll('button, a.button, input, select')) {
    const target = el.type === 'checkbox' ? (el.closest('label') ?? el) : el;
    const r = target.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.height < 44 || r.width < 44)
      bad.push(el.tagName.toLowerCase() + ' "' + (el.textContent || el.getAttribute('aria-label') || el.name || '').trim().slice(0, 40) + '" ' + Math.round(r.width) + 'x' + Math.round(r.height));
  }
  return bad;
})()`;

describe.skipIf(skip)('the status page in Chromium', () => {
  beforeAll(async () => {
    await rig.start();
  }, 90_000);

  afterAll(async () => {
    await rig.stop();
  }, 30_000);

  it('without a session the API refuses everything and the page asks for the setup code', async () => {
    const ctx = await rig.context();
    for (const url of [
      '/api/v1/status',
      '/api/v1/live',
      '/api/v1/history',
      '/api/v1/events?limit=5',
      '/api/v1/config',
      '/api/v1/thumbnail.jpg',
      '/api/v1/logs',
      '/api/v1/tokens',
      '/api/v1/session',
    ]) {
      expect((await rig.request(ctx, 'GET', url)).status, url).toBe(401);
    }
    expect((await rig.request(ctx, 'POST', '/api/v1/control', { body: { op: 'stop' } })).status).toBe(401);
    const p = await ctx.newPage();
    expect((await p.goto(HOME))?.status()).toBe(200);
    await p.getByRole('heading', { name: 'Fieldcast: first start' }).waitFor({ timeout: 15_000 });
    expect(await p.getByTestId('operator-state').count()).toBe(0);
    await ctx.close();
  }, 60_000);

  it('the page is at / for a browser (which accepts compressed answers), with the CSP', async () => {
    const ctx = await rig.context();
    const p = await ctx.newPage();
    const res = await p.goto('/');
    expect(res?.status(), 'GET / with Accept-Encoding: gzip, br must answer the page').toBe(200);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await p.getByRole('heading', { name: 'Fieldcast: first start' }).waitFor({ timeout: 15_000 });
    await ctx.close();
  }, 30_000);

  it('the setup code sets the password: a wrong code and a short password are refused next to their fields', async () => {
    phone = await rig.context();
    page = await phone.newPage();
    await page.goto(HOME);
    await page.getByLabel('Setup code').fill('WRONG234');
    await page.getByLabel('New password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('New password again').fill(PASSWORD);
    await page.getByRole('button', { name: 'Set the password' }).click();
    await page.locator('#setup-code-error').filter({ hasText: 'not the setup code' }).waitFor({ timeout: 15_000 });

    await page.getByLabel('Setup code').fill(rig.setupCode);
    await page.getByLabel('New password', { exact: true }).fill('short');
    await page.getByLabel('New password again').fill('short');
    await page.getByRole('button', { name: 'Set the password' }).click();
    await page
      .locator('#setup-password-error')
      .filter({ hasText: /characters/ })
      .waitFor({ timeout: 15_000 });
    expect(await page.locator('#setup-code-error').textContent()).toBe('');
    await screenshot(page, 'setup-390.png');

    await page.getByLabel('New password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('New password again').fill(PASSWORD);
    await page.getByRole('button', { name: 'Set the password' }).click();
    await page.getByTestId('operator-state').waitFor({ timeout: 20_000 });
  }, 60_000);

  it('a reload keeps the session; another phone gets the login, and a wrong password is refused in words', async () => {
    await page.reload();
    await page.getByTestId('operator-state').waitFor({ timeout: 20_000 });

    const other = await rig.context();
    const p = await other.newPage();
    await p.goto(HOME);
    await p.getByRole('button', { name: 'Log in' }).waitFor({ timeout: 15_000 });
    expect((await rig.request(other, 'GET', '/api/v1/status')).status).toBe(401);
    await p.getByLabel('Password').fill('not the password');
    await p.getByRole('button', { name: 'Log in' }).click();
    await p.locator('#login-password-error').filter({ hasText: 'Wrong password' }).waitFor({ timeout: 15_000 });
    await screenshot(p, 'login-390.png');
    await p.getByLabel('Password').fill(PASSWORD);
    await p.getByRole('button', { name: 'Log in' }).click();
    await p.getByTestId('operator-state').waitFor({ timeout: 20_000 });
    // Logging out ends that session only.
    await p.getByRole('button', { name: 'Log out' }).click();
    await p.getByRole('button', { name: 'Log in' }).waitFor({ timeout: 15_000 });
    expect((await rig.request(other, 'GET', '/api/v1/status')).status).toBe(401);
    expect((await rig.request(phone, 'GET', '/api/v1/status')).status).toBe(200);
    await other.close();
  }, 60_000);

  it('after login the figures move with the live stream: state, frames, links, graphs, picture and sound', async () => {
    await stateWord(page, /^(LIVE|DEGRADED)$/).waitFor({ timeout: 40_000 });
    await waitUntil('bytes at the listener', () => rig.arrivals.bytes > 100_000, 30_000);
    const frames = page.getByTestId('frames-encoded');
    const fresh = page.getByTestId('freshness');
    const f0 = await frames.textContent();
    const t0 = await fresh.textContent();
    await waitUntil('the frame count to move', async () => (await frames.textContent()) !== f0, 10_000);
    await waitUntil('the update time to move', async () => (await fresh.textContent()) !== t0, 10_000);
    expect(await fresh.textContent()).toMatch(/^updated /);

    const s = await status();
    expect(await page.getByTestId('uplink-card').count()).toBe(s.uplinks?.length ?? 0);
    for (const name of LINKS) await page.getByTestId('uplink-card').getByRole('heading', { name, exact: true }).waitFor();
    expect(await page.getByTestId('resolution').textContent()).toBe('640×360');
    if (s.stream.audio) expect(await page.getByTestId('audio-channel').count()).toBe(s.stream.audio.peakDbfs.length);
    if (s.stream.thumbnail) {
      await waitUntil(
        'the thumbnail to load',
        async () =>
          Number(await page.locator('.thumb img').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)) > 0,
        15_000,
      );
    } else {
      await page.getByTestId('no-picture').waitFor();
    }
    // Two graphs (uPlot draws on canvas), each naming the links.
    await waitUntil('the graphs', async () => (await page.locator('.graphs canvas').count()) === 2, 15_000);
    for (const name of LINKS) expect(await page.locator('.graphs .u-legend').first().textContent()).toContain(name);
    // The passphrase field is write-only: empty, saying only that one is set.
    const dest = page.getByTestId('setting-destination');
    expect(await dest.getByTestId('secret-status').textContent()).toBe('set');
    expect(await dest.getByLabel('Passphrase').inputValue()).toBe('');
    // Bonded: one destination, said so where the second one's form would be.
    expect(await page.getByTestId('second-destination-bonded').textContent()).toContain('one destination');
    expect(await page.getByTestId('setting-destination-2').count()).toBe(0);
  }, 90_000);

  it('stop on the page stops the stream at the listener; start brings it back', async () => {
    await waitUntil('the stream at the listener', () => performance.now() - rig.arrivals.lastAt < 500, 30_000);
    await page.getByRole('button', { name: 'Stop stream' }).click();
    await page.getByRole('button', { name: 'Tap again to stop' }).click();
    await stateWord(page, /^IDLE$/).waitFor({ timeout: 20_000 });
    // What was in flight drains (SRT latency); then nothing more arrives.
    await waitUntil('the listener to go quiet for 2 s', () => performance.now() - rig.arrivals.lastAt > 2000, 20_000);
    const quiet = rig.arrivals.bytes;
    expect((await status()).stream.desired).toBe('off');

    await page.getByRole('button', { name: 'Start stream' }).click();
    await stateWord(page, /^(STARTING|LIVE|DEGRADED)$/).waitFor({ timeout: 20_000 });
    await waitUntil('the stream at the listener again', () => rig.arrivals.bytes > quiet + 100_000, 40_000);
    await stateWord(page, /^(LIVE|DEGRADED)$/).waitFor({ timeout: 30_000 });
  }, 120_000);

  it('a bad bit rate is refused next to its field and changes nothing; a good one is saved', async () => {
    const form = page.getByTestId('setting-bitrate');
    const lowest = form.getByLabel('Lowest');
    const error = form.getByTestId('error-video.minBitrate');
    const before = await config();

    await lowest.fill('abc');
    await form.getByRole('button', { name: 'Apply' }).click();
    await error.filter({ hasText: /\w/ }).waitFor({ timeout: 20_000 });
    expect(await lowest.getAttribute('aria-invalid')).toBe('true');
    expect((await config()).video).toEqual(before.video);

    await lowest.fill('50M');
    await form.getByRole('button', { name: 'Apply' }).click();
    await error.filter({ hasText: /exceed/ }).waitFor({ timeout: 20_000 });
    expect((await config()).video).toEqual(before.video);
    await screenshot(page, 'refused-bitrate-390.png');

    await lowest.fill('600k');
    await form.getByRole('button', { name: 'Apply' }).click();
    await form.getByRole('status').filter({ hasText: 'Saved' }).waitFor({ timeout: 30_000 });
    expect(await error.textContent()).toBe('');
    expect((await config()).video).toEqual({ ...before.video, minBitrate: 600_000 });
  }, 90_000);

  it('SSH turned on from Settings on a machine that is not the appliance image: saved, and the page says nothing else changed', async () => {
    const form = page.getByTestId('setting-ssh');
    const field = form.getByLabel('SSH server');
    expect(await field.inputValue()).toBe('false');
    await field.fill('maybe');
    await form.getByRole('button', { name: 'Apply' }).click();
    await form.getByTestId('error-system.ssh').filter({ hasText: /\w/ }).waitFor({ timeout: 20_000 });
    expect((await config()).system).toEqual({ ssh: false, sshKeys: [] });

    await field.fill('true');
    await form.getByRole('button', { name: 'Apply' }).click();
    await form
      .getByRole('status')
      .filter({ hasText: /SYSTEM_NOT_APPLIANCE/ })
      .waitFor({ timeout: 30_000 });
    expect(await form.getByRole('status').textContent()).toMatch(/not the Fieldcast appliance image/);
    expect((await config()).system).toEqual({ ssh: true, sshKeys: [] });
  }, 90_000);

  it('an uplink is taken out and put back, and its priority set, from its card', async () => {
    const card = page.getByTestId('uplink-card').filter({ has: page.getByRole('heading', { name: 'cell', exact: true }) });
    const uplink = async (): Promise<{ enabled: boolean; priority: number } | undefined> =>
      (await status()).uplinks?.find((u) => u.name === 'cell');
    await card.getByTestId('uplink-enabled').click();
    await waitUntil('cell disabled', async () => (await uplink())?.enabled === false, 30_000);
    await card.getByTestId('uplink-state').filter({ hasText: 'disabled' }).waitFor({ timeout: 10_000 });
    await card.getByTestId('uplink-enabled').click();
    await waitUntil('cell enabled again', async () => (await uplink())?.enabled === true, 30_000);
    await card.getByTestId('uplink-priority').selectOption('8');
    await waitUntil('cell at priority 8', async () => (await uplink())?.priority === 8, 30_000);
    expect(await card.getByTestId('uplink-error').count()).toBe(0);
  }, 120_000);

  it('an API token is shown once, works as a bearer token, and is revoked from the page', async () => {
    await page.getByLabel("New token's name").fill('scoreboard');
    await page.getByRole('button', { name: 'Make token' }).click();
    const value = page.getByTestId('new-token-value');
    await value.waitFor({ timeout: 15_000 });
    const token = await value.inputValue();
    expect(token.length).toBeGreaterThan(20);
    const bearer = { authorization: `Bearer ${token}` };
    const anon = await rig.context();
    expect((await rig.request(anon, 'GET', '/api/v1/status', { headers: bearer })).status).toBe(200);
    await page.getByRole('button', { name: 'Done' }).click();
    expect(await page.getByTestId('new-token').count()).toBe(0);
    const item = page.getByTestId('token').filter({ hasText: 'scoreboard' });
    await item.getByRole('button', { name: 'Revoke' }).click();
    await item.getByRole('button', { name: 'Tap again to revoke' }).click();
    await item.waitFor({ state: 'detached', timeout: 15_000 });
    expect((await rig.request(anon, 'GET', '/api/v1/status', { headers: bearer })).status).toBe(401);
    await anon.close();
  }, 60_000);

  it('a request of the session without its CSRF token is refused, and changes nothing', async () => {
    const r = await rig.request(phone, 'POST', '/api/v1/control', { body: { op: 'stop' } });
    expect(r.status).toBe(403);
    expect(r.json).toMatchObject({ error: { code: 'AUTH_CSRF' } });
    expect((await status()).stream.desired).toBe('on');
  });

  it('the preflight shows its result, the pipeline restarts, the event log filters and downloads', async () => {
    const checks = page.locator('section', { has: page.getByRole('heading', { name: 'Checks and restarts' }) });
    await checks.getByLabel('Seconds').selectOption('3');
    await checks.getByRole('button', { name: 'Run preflight' }).click();
    const result = checks.getByTestId('preflight-result');
    await result.waitFor({ timeout: 60_000 });
    const tried = await result.getByTestId('preflight-link').allTextContents();
    for (const name of LINKS) expect(tried.filter((t) => t.trim().startsWith(`${name} `))).toHaveLength(1);

    await checks.getByRole('button', { name: 'Restart pipeline' }).click();
    await checks.getByRole('button', { name: /Tap again/ }).click();
    await checks.getByRole('status').filter({ hasText: 'restarted' }).waitFor({ timeout: 20_000 });

    const log = page.locator('section.events');
    const list = log.getByTestId('event-list');
    await log.getByTestId('event-kind').selectOption('operator');
    await waitUntil('operator events', async () => (await list.locator('li').count()) > 0, 15_000);
    const kinds = await list.locator('.kind').allTextContents();
    expect(new Set(kinds)).toEqual(new Set(['operator']));
    await log.getByTestId('event-kind').selectOption('');
    await log.getByTestId('event-text').fill('stopped the stream');
    await waitUntil('the stop in the log', async () => (await list.locator('li').count()) >= 1, 15_000);
    for (const m of await list.locator('.message').allTextContents()) expect(m.toLowerCase()).toContain('stopped the stream');
    await log.getByTestId('event-text').fill('');

    const [download] = await Promise.all([page.waitForEvent('download'), log.getByTestId('download-logs').click()]);
    expect(download.suggestedFilename()).toMatch(/^fieldcast-.*\.log$/);
    const text = readFileSync((await download.path())!, 'utf8');
    rig.record('/api/v1/logs (download)', text);
    expect(text).toContain('stopped the stream');
  }, 120_000);

  it('phone and laptop layouts: screenshots, touch targets of 44 px, the dark theme remembered', async () => {
    await stateWord(page, /^(LIVE|DEGRADED)$/).waitFor({ timeout: 40_000 });
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(SMALL_TARGETS)).toEqual([]);
    // Nothing wider than the phone: no sideways scrolling mid-show.
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await screenshot(page, 'phone-390.png');
    await page.setViewportSize({ width: 1280, height: 900 });
    await screenshot(page, 'laptop-1280.png');

    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('light');
    await page.getByTestId('theme-toggle').click();
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('dark');
    await page.reload();
    await page.getByTestId('operator-state').waitFor({ timeout: 20_000 });
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('dark');
    await screenshot(page, 'phone-390-dark.png');
    await page.getByTestId('theme-toggle').click();
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('light');
  }, 90_000);

  it('repeated wrong passwords are rate-limited (429), and the page says so', async () => {
    const ctx = await rig.context();
    const p = await ctx.newPage();
    await p.goto(HOME);
    const error = p.locator('#login-password-error');
    let limited = false;
    for (let i = 0; i < 8 && !limited; i++) {
      await p.getByLabel('Password').fill(`wrong password ${i}`);
      const [answer] = await Promise.all([p.waitForResponse('**/api/v1/login'), p.getByRole('button', { name: 'Log in' }).click()]);
      await error.filter({ hasText: /\w/ }).waitFor({ timeout: 15_000 });
      limited = answer.status() === 429;
      if (limited) expect(await error.textContent()).toMatch(/too many attempts/i);
      else expect(await error.textContent()).toMatch(/wrong password/i);
    }
    expect(limited).toBe(true);
    const r = await rig.request(ctx, 'POST', '/api/v1/login', { body: { password: PASSWORD } });
    expect(r.status).toBe(429);
    expect(r.json).toMatchObject({ error: { code: 'TOO_MANY_ATTEMPTS' } });
    await ctx.close();
    // The session already open is not affected.
    expect((await rig.request(phone, 'GET', '/api/v1/status')).status).toBe(200);
  }, 60_000);

  it('the passphrase is in no response of the whole session; no CSP violation, no page error', async () => {
    const live = await rig.readLive(await rig.cookie(phone), 1500);
    expect(live).toMatch(/^data: \{/);
    const bodies = await rig.allBodies();
    expect(bodies.length).toBeGreaterThan(20);
    // What carries the destination (the config, the snapshot) is among them.
    for (const route of ['/api/v1/config', '/api/v1/status', '/api/v1/live', '/api/v1/events']) {
      expect(
        bodies.some((b) => b.url.includes(route)),
        route,
      ).toBe(true);
    }
    expect(bodies.filter((b) => b.body.includes(PASSPHRASE)).map((b) => b.url)).toEqual([]);
    expect(rig.violations).toEqual([]);
    expect(rig.pageErrors).toEqual([]);
    await phone.close();
  }, 30_000);
});
