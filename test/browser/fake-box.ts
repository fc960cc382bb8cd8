/**
 * A box that exists only inside Chromium: the built page (dist/web) with the
 * status server's Content-Security-Policy, and an API that answers with a
 * snapshot the test writes — a modem with its signal and data plan, sound on
 * one channel and silence on the other, a thumbnail, alerts. It shows what
 * the page draws from figures this machine has no hardware for, and records
 * every request the page makes.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Request, Route } from 'playwright-core';
import type { StatusSnapshot, UplinkStatus } from '../../src/supervisor/snapshot.js';

export const ORIGIN = 'http://box.test';
const PAGE_DIR = path.resolve(import.meta.dirname, '../../dist/web');
/** As src/status/server sends it. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'";
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};
export const CSRF = 'csrf-of-the-fake-session';

export interface ApiCall {
  method: string;
  path: string;
  body: unknown;
  csrf: string | undefined;
}

/** An answer the test chooses for POST /api/v1/control, by the request. */
export type ControlAnswer = (body: Record<string, unknown>) => { status: number; json: unknown };

export interface FakeBox {
  snapshot: StatusSnapshot;
  calls: ApiCall[];
  control: ControlAnswer;
}

export async function fakeBox(ctx: BrowserContext, snapshot: StatusSnapshot, thumbnail: Buffer): Promise<FakeBox> {
  const box: FakeBox = { snapshot, calls: [], control: () => ({ status: 200, json: {} }) };
  const json = (route: Route, value: unknown, status = 200): Promise<void> =>
    route.fulfill({ status, contentType: 'application/json', headers: { 'content-security-policy': CSP }, body: JSON.stringify(value) });
  await ctx.route(`${ORIGIN}/**`, async (route: Route, req: Request) => {
    const url = new URL(req.url());
    if (!url.pathname.startsWith('/api/')) {
      const file = path.join(PAGE_DIR, url.pathname === '/' ? 'index.html' : path.normalize(url.pathname));
      if (!file.startsWith(PAGE_DIR)) return route.fulfill({ status: 404 });
      let body: Buffer;
      try {
        body = readFileSync(file);
      } catch {
        return route.fulfill({ status: 404, headers: { 'content-security-policy': CSP } });
      }
      return route.fulfill({
        status: 200,
        body,
        headers: { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'content-security-policy': CSP },
      });
    }
    const body = req.postData() ? (JSON.parse(req.postData()!) as Record<string, unknown>) : undefined;
    box.calls.push({ method: req.method(), path: url.pathname, body, csrf: req.headers()['x-csrf-token'] });
    switch (url.pathname) {
      case '/api/v1/session':
        return json(route, { csrf: CSRF });
      case '/api/v1/status':
        return json(route, box.snapshot);
      case '/api/v1/live':
        // One frame, then the feed ends and EventSource comes back for the next (retry: ms).
        return route.fulfill({
          status: 200,
          headers: { 'content-type': 'text/event-stream', 'content-security-policy': CSP },
          body: `retry: 300\ndata: ${JSON.stringify({ ...box.snapshot, at: new Date().toISOString() })}\n\n`,
        });
      case '/api/v1/history':
        return json(route, { at: [], links: [] });
      case '/api/v1/config':
        return json(route, {
          input: { name: 'Camera 1', audio: 'hw:1,0' },
          video: { minBitrate: 1_000_000, maxBitrate: 6_000_000 },
          destinations: [{ name: 'ingest', url: 'srt://ingest.example.com:5000', latencyMs: 1500, passphrase: '[redacted]' }],
        });
      case '/api/v1/events':
      case '/api/v1/tokens':
        return json(route, []);
      case '/api/v1/thumbnail.jpg':
        return route.fulfill({ status: 200, contentType: 'image/jpeg', body: thumbnail });
      case '/api/v1/control': {
        const a = box.control(body ?? {});
        return json(route, a.json, a.status);
      }
      default:
        return json(route, { error: { code: 'NOT_FOUND', message: 'no such route' } }, 404);
    }
  });
  return box;
}

/** An uplink card's worth: a modem on LTE with its reading, and its data plan. */
function cellular(): UplinkStatus {
  return {
    name: 'wwan0',
    interface: 'wwan0',
    kind: 'cellular',
    addresses: ['10.64.12.7'],
    up: true,
    enabled: true,
    priority: 3,
    metered: true,
    link: { name: 'wwan0', state: 'live', throughputBps: 2_400_000, share: 0.6, rttMs: 62, loss: 0.012, sentPackets: 12_000 },
    modem: {
      id: '1-1.2',
      port: '/dev/ttyUSB2',
      profile: 'quectel',
      netInterface: 'wwan0',
      reading: {
        port: '/dev/ttyUSB2',
        profile: 'quectel',
        identity: { manufacturer: 'Quectel', model: 'EG25', imei: '***********0123' },
        sim: { state: 'ready', unlockedWithPin: false },
        operator: { mode: 'automatic', name: 'Vodafone UK', accessTechnology: 'LTE' },
        registration: { state: 'home', domains: [] },
        signal: {
          csq: { raw: 20, rssiDbm: -73 },
          extended: { parser: 'quectel-qeng', tech: 'LTE', cells: [{ rat: 'LTE', rsrpDbm: -95, sinrDb: 12, band: 'B20' }] },
        },
        refused: [],
        readAt: Date.now(),
      },
    },
    data: {
      plan: 'sim-a',
      upBytes: 40e9,
      downBytes: 2.5e9,
      usedBytes: 42.5e9,
      monthlyBytes: 50e9,
      fraction: 0.85,
      periodStart: '2026-12-01',
      nextReset: '2027-01-01',
      stopped: false,
    },
  };
}

/** The box mid-show with the input lost: the slate on air, one channel of sound, a modem, a disabled Wi-Fi link. */
export function sampleSnapshot(): StatusSnapshot {
  const now = new Date().toISOString();
  return {
    version: 1,
    at: now,
    device: { id: 'fc-5e21b0c4a987', name: 'truck-2', version: '0.1.0', uptimeS: 7384 },
    state: 'no-signal',
    reason: 'the input has no signal: the slate is on air',
    action: 'check the camera and its SDI/HDMI cable',
    since: now,
    stream: {
      desired: 'on',
      picture: 'slate',
      input: { name: 'Camera 1', source: '/dev/video0', signal: false },
      video: {
        bitrateBps: 4_000_000,
        minBps: 1_000_000,
        maxBps: 6_000_000,
        adaptive: true,
        reason: 'holding: the links carry it',
        codec: 'h264_v4l2m2m',
        width: 1920,
        height: 1080,
        fps: '25',
      },
      audio: { source: 'hw:1,0', peakDbfs: [-6, -100], rmsDbfs: [-18, -100] },
      thumbnail: { at: now, width: 320, height: 180 },
      tsBitrateBps: 4_300_000,
      framesEncoded: 184_600,
      framesDropped: 2,
      pipeline: { restarts: 0 },
    },
    destinations: [
      {
        name: 'ingest',
        url: 'srt://ingest.example.com:5000',
        state: 'live',
        rttMs: 48,
        sendBufferMs: 120,
        sendRateBps: 4_300_000,
        lossPackets: 31,
        retransPackets: 29,
        dropPackets: 0,
        connectedForS: 3600,
      },
    ],
    health: {
      cpuLoad: 0.41,
      temperatureC: 61,
      throttled: [],
      memoryUsedBytes: 600e6,
      memoryTotalBytes: 4e9,
      diskFreeBytes: 20e9,
      diskTotalBytes: 32e9,
      eventLoopLagMs: 2,
      alerts: [],
    },
    uplinks: [
      cellular(),
      {
        name: 'wifi0',
        interface: 'wlan0',
        kind: 'wifi',
        addresses: ['192.168.8.20'],
        up: true,
        enabled: false,
        priority: 6,
        metered: false,
      },
    ],
    alerts: [
      {
        code: 'INPUT_NO_SIGNAL',
        level: 'error',
        message: 'the input has no signal: the slate is on air',
        action: 'check the camera and its SDI/HDMI cable',
        since: now,
      },
      { code: 'DATA_PLAN_80', level: 'warn', message: 'sim-a has used 85% of its 50 GB', since: now },
    ],
  };
}
