/**
 * What the status page draws from a snapshot and what it sends, against a
 * box that exists only inside Chromium (fake-box.ts): a modem's operator,
 * technology, signal bars, RSRP and SINR, its data used against the
 * allowance; audio meters in dBFS with silence said in words; the
 * thumbnail, refreshed when a new one is announced; alerts with what to do;
 * every change sent with the session's CSRF token, and a refusal shown next
 * to its control, which then shows what the box has.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../integration/receiver-helpers.js';
import { missingTools, skipWithout } from '../peers.js';
import { CSRF, type FakeBox, fakeBox, ORIGIN, sampleSnapshot } from './fake-box.js';
import { CHROMIUM, screenshot } from './rig.js';

const skip = skipWithout('the status page drawn in Chromium', [
  ...(existsSync(CHROMIUM) ? [] : [`Chromium at ${CHROMIUM} (apt-get install chromium)`]),
  ...(existsSync(path.resolve(import.meta.dirname, '../../dist/web/index.html')) ? [] : ['the built page (npm run build:web)']),
  ...missingTools('ffmpeg'),
]);

let browser: Browser;
let page: Page;
let box: FakeBox;
const problems: string[] = [];

/** A 320×180 JPEG of the test pattern, as the box's thumbnails are. */
function jpeg(): Buffer {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x180', '-frames:v', '1', '-f', 'mjpeg', '-'], {
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`ffmpeg made no JPEG: ${r.stderr.toString()}`);
  return r.stdout;
}

describe.skipIf(skip)('the status page drawn in Chromium', () => {
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, baseURL: ORIGIN });
    await ctx.addInitScript(
      "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));",
    );
    box = await fakeBox(ctx, sampleSnapshot(), jpeg());
    page = await ctx.newPage();
    page.on('console', (m) => {
      if (/CSP violation|Content Security Policy/.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(`${e.name}: ${e.message}`));
    await page.goto('/');
    await page.getByTestId('operator-state').waitFor({ timeout: 20_000 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('the state, the alerts with what to do, the input lost', async () => {
    expect(await page.getByTestId('operator-state').textContent()).toBe('NO SIGNAL');
    expect(await page.getByTestId('operator-action').textContent()).toContain('check the camera');
    const alerts = page.getByRole('region', { name: 'Alerts' });
    expect(await alerts.textContent()).toContain('What to do: check the camera and its SDI/HDMI cable');
    expect(await alerts.textContent()).toContain('sim-a has used 85% of its 50 GB');
    expect(await page.getByTestId('input-signal').textContent()).toBe('no signal');
    expect(await page.getByTestId('resolution').textContent()).toBe('1920×1080');
    expect(await page.getByTestId('device-id').textContent()).toBe('fc-5e21b0c4a987');
  });

  it('audio meters per channel in dBFS, silence in words; the thumbnail, fetched again when a new one is announced', async () => {
    const channels = page.getByTestId('audio-channel');
    expect(await channels.count()).toBe(2);
    expect(await channels.nth(0).textContent()).toContain('pk -6.0 dBFS · rms -18.0 dBFS');
    expect(await channels.nth(1).textContent()).toContain('pk silence · rms silence');
    // -18 dBFS RMS on a -60..0 scale: 70% lit, 30% unlit.
    expect(
      await channels
        .nth(0)
        .locator('.unlit')
        .evaluate((e) => e.style.width),
    ).toBe('30%');

    const img = page.locator('.thumb img');
    await waitUntil(
      'the thumbnail',
      async () => Number(await img.evaluate((i) => (i as unknown as { naturalWidth: number }).naturalWidth)) === 320,
      10_000,
    );
    const first = await img.getAttribute('src');
    const fetched = (): number => box.calls.filter((c) => c.path === '/api/v1/thumbnail.jpg').length;
    const before = fetched();
    box.snapshot = {
      ...box.snapshot,
      stream: { ...box.snapshot.stream, thumbnail: { at: new Date(Date.now() + 1500).toISOString(), width: 320, height: 180 } },
    };
    await waitUntil('a new thumbnail', async () => (await img.getAttribute('src')) !== first && fetched() > before, 10_000);
  });

  it('a modem: operator, technology, signal bars, RSRP and SINR; data used against the allowance', async () => {
    const card = page.getByTestId('uplink-card').filter({ has: page.getByRole('heading', { name: 'wwan0', exact: true }) });
    const text = (await card.textContent()) ?? '';
    for (const s of [
      'Vodafone UK',
      'LTE',
      '-95 dBm',
      '12 dB',
      'B20',
      'Cellular · wwan0 · metered · 10.64.12.7',
      '42.50 GB',
      'of 50.00 GB (85%)',
    ]) {
      expect(text).toContain(s);
    }
    expect(await card.getByTestId('signal-bars').getAttribute('aria-label')).toBe('signal 3 of 4 bars');
    expect(await card.locator('.bar.over').count()).toBe(1);
    const wifi = page.getByTestId('uplink-card').filter({ has: page.getByRole('heading', { name: 'wifi0', exact: true }) });
    expect(await wifi.getByTestId('uplink-state').textContent()).toBe('disabled');
    expect(await wifi.getByTestId('uplink-enabled').isChecked()).toBe(false);
    await screenshot(page, 'drawn-390.png');
  });

  it('changes go with the CSRF token; a refusal shows next to its control, which shows what the box has', async () => {
    const wifi = page.getByTestId('uplink-card').filter({ has: page.getByRole('heading', { name: 'wifi0', exact: true }) });
    await wifi.getByTestId('uplink-enabled').click();
    await waitUntil('the uplink request', () => box.calls.some((c) => c.path === '/api/v1/control'), 10_000);
    expect(box.calls.find((c) => c.path === '/api/v1/control')).toMatchObject({
      method: 'POST',
      csrf: CSRF,
      body: { op: 'uplink', name: 'wifi0', enabled: true },
    });

    box.control = () => ({ status: 422, json: { error: { code: 'UPLINK_NOT_FOUND', message: 'there is no uplink wifi0 now' } } });
    await wifi.getByTestId('uplink-priority').selectOption('9');
    await wifi.getByTestId('uplink-error').filter({ hasText: 'There is no uplink wifi0 now.' }).waitFor({ timeout: 10_000 });
    expect(await wifi.getByTestId('uplink-priority').inputValue()).toBe('6');

    box.control = () => ({
      status: 400,
      json: {
        error: {
          code: 'CONFIG_INVALID',
          message: 'the change is not valid',
          problems: [{ key: 'destinations.0.latencyMs', value: 5, expected: 'Too small: expected number to be >=20' }],
        },
      },
    });
    const form = page.getByTestId('setting-latency');
    await form.getByLabel('Latency (ms)').fill('5');
    await form.getByRole('button', { name: 'Apply' }).click();
    await form.getByTestId('error-destinations.0.latencyMs').filter({ hasText: 'expected number to be >=20' }).waitFor({ timeout: 10_000 });
    const set = box.calls.filter((c) => c.path === '/api/v1/control').at(-1);
    expect(set).toMatchObject({ csrf: CSRF, body: { op: 'set', assignments: [{ key: 'destinations.0.latencyMs', value: '5' }] } });
    // The passphrase field: the box says "[redacted]"; the page says only "set", and its field is empty.
    const dest = page.getByTestId('setting-destination');
    expect(await dest.getByTestId('secret-status').textContent()).toBe('set');
    expect(await dest.getByLabel('Passphrase').inputValue()).toBe('');
    expect(await page.content()).not.toContain('[redacted]');
  });

  it('a second destination is set from its own form, only what was typed sent', async () => {
    box.control = () => ({ status: 200, json: { applied: ['connectDestination'] } });
    const form = page.getByTestId('setting-destination-2');
    expect(await form.getByLabel('SRT URL').inputValue()).toBe('');
    await form.getByLabel('SRT URL').fill('srt://ingest-b.example.com:5001');
    await form.getByRole('button', { name: 'Apply' }).click();
    await waitUntil('the set request', () => box.calls.some((c) => JSON.stringify(c.body ?? {}).includes('destinations.1.url')), 10_000);
    const set = box.calls.filter((c) => c.path === '/api/v1/control').at(-1);
    expect(set).toMatchObject({
      csrf: CSRF,
      body: { op: 'set', assignments: [{ key: 'destinations.1.url', value: 'srt://ingest-b.example.com:5001' }] },
    });
    expect(await page.getByTestId('second-destination-bonded').count()).toBe(0);
  });

  it('breaks no rule of the Content-Security-Policy, and throws nothing', () => {
    expect(problems).toEqual([]);
  });
});
