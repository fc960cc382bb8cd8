/**
 * Status snapshots of typical moments, for renders and tests: on air bonded
 * over three uplinks, idle with no destination, an error the operator must
 * fix, the slate on air, and a link lost with a long alert. Each is a full
 * StatusSnapshot as the supervisor builds it; the clock is fixed so a
 * render of a sample is the same on every machine.
 */
import type { Alert, LinkStatus, StatusSnapshot, UplinkStatus } from '../supervisor/snapshot.js';
import type { ModemStatus } from '../uplinks/modems/index.js';

const AT = '2026-03-14T09:26:53.000Z';
const SINCE = '2026-03-14T09:02:11.000Z';

function link(name: string, state: string, throughputBps: number, share: number, rttMs: number, why?: string): LinkStatus {
  return {
    name,
    state,
    ...(why ? { why } : {}),
    throughputBps,
    share,
    rttMs,
    loss: state === 'live' ? 0.004 : 0,
    sentPackets: Math.round(throughputBps / 10),
  };
}

function modem(id: string, netInterface: string, operator: string, rsrpDbm: number, csq: number): ModemStatus {
  return {
    id,
    port: `/dev/ttyUSB${id.endsWith('2') ? 2 : 6}`,
    profile: 'quectel-ec25',
    netInterface,
    reading: {
      port: `/dev/ttyUSB${id.endsWith('2') ? 2 : 6}`,
      profile: 'quectel-ec25',
      identity: {
        manufacturer: 'Quectel',
        model: 'EC25',
        firmware: 'EC25EFAR06A08M4G',
        imei: '86xxxxxxxxxx123',
        iccid: '8944xxxxxxxxxxxx4567',
      },
      sim: { state: 'ready', unlockedWithPin: false },
      operator: { mode: 'automatic', name: operator, act: 7, accessTechnology: 'LTE' },
      registration: { state: 'home', domains: [{ domain: 'eps', state: 'home', stat: 1 }] },
      signal: {
        csq: { raw: csq, rssiDbm: -113 + 2 * csq },
        extended: {
          parser: 'quectel-qeng',
          tech: 'LTE',
          cells: [{ rat: 'LTE', rsrpDbm, rsrqDb: -11, sinrDb: 9, band: 'B3' }],
          state: 'CONNECT',
        },
      },
      refused: [],
      readAt: Date.parse(AT),
    },
  };
}

function uplink(u: Omit<UplinkStatus, 'enabled' | 'priority' | 'metered'> & Partial<UplinkStatus>): UplinkStatus {
  return { enabled: true, priority: 5, metered: u.kind === 'cellular', ...u };
}

function base(): StatusSnapshot {
  return {
    version: 1,
    at: AT,
    device: { id: 'fc-3f9a1c07b2d4', name: 'fieldcast-cam2', version: '0.1.0', uptimeS: 5412 },
    state: 'live',
    reason: 'live to ingest over 3 links',
    since: SINCE,
    stream: {
      desired: 'on',
      picture: 'input',
      input: { name: 'HDMI', source: '/dev/video0', signal: true },
      video: {
        bitrateBps: 8_200_000,
        minBps: 1_500_000,
        maxBps: 10_000_000,
        adaptive: true,
        codec: 'h264_v4l2m2m',
        width: 1920,
        height: 1080,
        fps: '50',
      },
      audio: { source: 'hw:CARD=HDMI', peakDbfs: [-12.4, -14.1], rmsDbfs: [-21.3, -22.8] },
      tsBitrateBps: 8_650_000,
      framesEncoded: 270_600,
      framesDropped: 3,
      pipeline: { pid: 1432, restarts: 0 },
    },
    destinations: [
      {
        name: 'ingest',
        url: 'srt://ingest.example.com:5000?streamid=cam2',
        state: 'live',
        rttMs: 86,
        sendBufferMs: 240,
        sendRateBps: 8_700_000,
        lossPackets: 112,
        retransPackets: 118,
        dropPackets: 0,
        connectedForS: 1482,
      },
    ],
    health: {
      cpuLoad: 0.41,
      temperatureC: 58.2,
      throttled: [],
      memoryUsedBytes: 412_000_000,
      memoryTotalBytes: 1_900_000_000,
      diskFreeBytes: 9_800_000_000,
      diskTotalBytes: 14_600_000_000,
      eventLoopLagMs: 3.1,
      alerts: [],
    },
    alerts: [],
  };
}

function liveUplinks(): UplinkStatus[] {
  const m1 = modem('1-1.2', 'wwan0', 'Vodafone UK', -88, 22);
  const m2 = modem('1-1.3', 'wwan1', 'EE', -101, 15);
  return [
    uplink({
      name: 'eth0',
      interface: 'eth0',
      kind: 'ethernet',
      addresses: ['192.168.1.20', 'fe80::ba27:ebff:fe12:3456'],
      up: true,
      priority: 7,
      link: link('eth0', 'live', 3_900_000, 0.45, 22),
    }),
    uplink({
      name: 'wwan0',
      interface: 'wwan0',
      kind: 'cellular',
      addresses: ['10.64.12.7'],
      up: true,
      link: link('wwan0', 'live', 3_100_000, 0.36, 61),
      modem: m1,
    }),
    uplink({
      name: 'wwan1',
      interface: 'wwan1',
      kind: 'cellular',
      addresses: ['100.71.4.133'],
      up: true,
      link: link('wwan1', 'live', 1_650_000, 0.19, 78),
      modem: m2,
    }),
  ];
}

function bond(uplinks: UplinkStatus[]): StatusSnapshot['bond'] {
  return {
    receiver: 'bond.example.com:5000',
    capacityBps: uplinks.reduce((s, u) => s + (u.link?.throughputBps ?? 0), 0) * 1.3,
    links: uplinks.flatMap((u) => (u.link ? [u.link] : [])),
  };
}

/** On air, bonded over ethernet and two LTE modems. */
export function liveSample(): StatusSnapshot {
  const uplinks = liveUplinks();
  const modems = uplinks.flatMap((u) => (u.modem ? [u.modem] : []));
  return { ...base(), uplinks, bond: bond(uplinks), modems };
}

/** Not streaming: no destination configured; no bond, no uplinks listed. */
export function idleSample(): StatusSnapshot {
  const s = base();
  return {
    ...s,
    state: 'idle',
    reason: 'no destination configured',
    action: 'add one on the status page',
    stream: {
      ...s.stream,
      desired: 'off',
      picture: 'none',
      tsBitrateBps: 0,
      framesEncoded: 0,
      framesDropped: 0,
      pipeline: { restarts: 0 },
    },
    destinations: [],
  };
}

const AUTH_ALERT: Alert = {
  code: 'SRT_AUTH_FAILED',
  level: 'error',
  message: 'ingest.example.com refused the passphrase',
  action: 'check the SRT passphrase',
  since: SINCE,
};

/** Not going out: the receiver refuses the passphrase. */
export function errorSample(): StatusSnapshot {
  const s = liveSample();
  const uplinks = (s.uplinks ?? []).map((u) => ({
    ...u,
    link: u.link ? { ...u.link, state: 'registering', throughputBps: 0, share: 0 } : undefined,
  }));
  return {
    ...s,
    state: 'error',
    reason: 'ingest.example.com:5000 refused the passphrase (SRT_AUTH_FAILED)',
    action: 'check the SRT passphrase in the destination',
    uplinks,
    bond: bond(uplinks),
    destinations: (s.destinations ?? []).map((d) => ({ ...d, state: 'failed', reason: 'passphrase refused', sendRateBps: 0 })),
    alerts: [AUTH_ALERT],
  };
}

/** Going out with the slate on: the HDMI input has no signal. */
export function noSignalSample(): StatusSnapshot {
  const s = liveSample();
  return {
    ...s,
    state: 'no-signal',
    reason: 'no signal on HDMI: the slate is on air',
    action: 'check the camera and its HDMI cable',
    stream: {
      ...s.stream,
      picture: 'slate',
      input: { ...s.stream.input, signal: false },
      video: { ...s.stream.video, bitrateBps: 2_000_000 },
      audio: { source: 'hw:CARD=HDMI', peakDbfs: [-100, -100], rmsDbfs: [-100, -100] },
    },
    alerts: [
      { code: 'INPUT_NO_SIGNAL', level: 'warn', message: 'no signal on HDMI', action: 'check the camera and its HDMI cable', since: SINCE },
    ],
  };
}

/** Going out over two of three uplinks, the bit rate cut, with a long alert. */
export function degradedSample(): StatusSnapshot {
  const s = liveSample();
  const uplinks = (s.uplinks ?? []).map((u) =>
    u.name === 'wwan1' ? { ...u, up: false, addresses: [], link: link('wwan1', 'dead', 0, 0, 0, 'no packets answered for 4 s') } : u,
  );
  const message =
    'uplink wwan1 (EE) is down: the modem lost its registration and is being reset; the bit rate was cut to what the other two links carry';
  return {
    ...s,
    state: 'degraded',
    reason: 'live over 2 of 3 links, bit rate cut to 4.6 Mbit/s',
    stream: { ...s.stream, video: { ...s.stream.video, bitrateBps: 4_600_000, reason: 'capacity fell' } },
    uplinks,
    bond: bond(uplinks),
    alerts: [{ code: 'UPLINK_DOWN', level: 'warn', message, action: 'move the box to a better spot or check the SIM', since: SINCE }],
  };
}

export const SAMPLES = {
  live: liveSample,
  idle: idleSample,
  error: errorSample,
  'no-signal': noSignalSample,
  degraded: degradedSample,
} as const satisfies Record<string, () => StatusSnapshot>;

export type SampleName = keyof typeof SAMPLES;
export const SAMPLE_NAMES = Object.keys(SAMPLES) as SampleName[];

/** The status page's addresses in the samples (port 80, the default). */
export const SAMPLE_URLS: readonly string[] = ['http://192.168.1.20/'];
export const SAMPLE_SETUP_CODE = '482 913';
