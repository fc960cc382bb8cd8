/** `fieldcast probe`: which board this is, what it can capture, hear and encode, and the uplinks and modems it has. */
import {
  type BoardCheck,
  type BoardMatch,
  boardCheckText,
  checkBoard,
  loadBoardProfiles,
  matchBoard,
  readBoardIdentity,
} from '../boards/index.js';
import { describeError } from '../lib/errors.js';
import { type MediaProbe, probeMedia, TEST_PATTERN_RATES, TEST_PATTERN_SIZES } from '../media/index.js';
import { type CaptureDeviceReport, probeCaptureDevices } from '../media/v4l2.js';
import {
  createIpCommand,
  DEFAULT_ROUTING_RANGE,
  type DiscoveredInterface,
  discoverInterfaces,
  readRoutingState,
  selectUplinks,
  unusableReason,
} from '../uplinks/interfaces/index.js';
import {
  AtChannel,
  discoverAtPorts,
  formatModemReading,
  loadModemProfiles,
  type ModemReading,
  maskedReading,
  readModem,
} from '../uplinks/modems/index.js';
import { type Command, out, parseOptions } from './command.js';

const usage = `Usage: fieldcast probe [--json]

Names the board (its profile in hardware/boards, and what of that profile is
here: capture device, encoder, display bus, GPIO chips, thermal zones), lists capture devices (driver, inputs, signal and timings now, formats), audio
inputs, which H.264 encoders this system has and which actually open (each is
opened at 320x240), the built-in test pattern, the network interfaces (kind,
addresses, gateway, whether usable as an uplink and its routing table when
fieldcast run has given it one) and the modems found at their AT ports
(IMEI and ICCID masked).
  --json   print one JSON object instead of text`;

interface UplinkReport {
  name: string;
  kind: DiscoveredInterface['kind'];
  driver?: string;
  addresses: string[];
  gateway?: string;
  /** Usable as an uplink by default (an ethernet, wifi or cellular interface that is up with an IPv4 address), or why not. */
  uplink: true | string;
  /** The routing table its source rule points to (fieldcast run gives each uplink one). */
  table?: number;
}

interface BoardReport {
  profile: string;
  description: string;
  matchedBy: string;
  note?: string;
  found: BoardCheck;
}

interface ProbeReport {
  board: BoardReport | { error: string };
  capture: CaptureDeviceReport[] | { error: string };
  media: MediaProbe;
  testPattern: { sizes: readonly string[]; rates: readonly string[] };
  uplinks: UplinkReport[] | { error: string };
  modems: ({ port: string } & (ModemReading | { error: string }))[] | { error: string };
}

async function probeUplinks(): Promise<UplinkReport[]> {
  const ip = createIpCommand();
  const all = await discoverInterfaces({ ip });
  const usable = new Set(selectUplinks(all, {}).map((u) => u.name));
  const rules = await readRoutingState(ip, DEFAULT_ROUTING_RANGE)
    .then((r) => r.rules)
    .catch(() => []);
  return all.map((i) => {
    const v4 = i.addresses.find((a) => a.family === 4)?.address;
    const table = rules.find((r) => r.src === v4)?.table;
    return {
      name: i.name,
      kind: i.kind,
      ...(i.driver ? { driver: i.driver } : {}),
      addresses: i.addresses.map((a) => `${a.address}/${a.prefixLength}`),
      ...(i.gateway ? { gateway: i.gateway } : {}),
      uplink: usable.has(i.name)
        ? true
        : i.kind === 'ethernet' || i.kind === 'wifi' || i.kind === 'cellular'
          ? (unusableReason(i) ?? 'not selected')
          : `${i.kind}: not an uplink unless named in uplinks.interfaces`,
      ...(table !== undefined ? { table } : {}),
    };
  });
}

async function probeModems(): Promise<ProbeReport['modems']> {
  const profiles = await loadModemProfiles();
  const ports = await discoverAtPorts(profiles);
  const out: ({ port: string } & (ModemReading | { error: string }))[] = [];
  for (const p of ports) {
    let channel: AtChannel | undefined;
    try {
      channel = await AtChannel.open({ path: p.device, reopen: false });
      out.push(maskedReading(await readModem(channel, { port: p.device, profiles, profile: p.profile.name })));
    } catch (e) {
      out.push({ port: p.device, error: describeError(e) });
    } finally {
      await channel?.close();
    }
  }
  return out;
}

async function probeBoard(capture: ProbeReport['capture'], media: MediaProbe): Promise<BoardReport> {
  const match: BoardMatch = matchBoard(await loadBoardProfiles(), await readBoardIdentity());
  const found = await checkBoard(match.profile, {
    capture: Array.isArray(capture) ? capture.map((c) => ({ path: c.path, driver: c.driver })) : [],
    encoders: media.videoEncoders.map((e) => ({ name: e.name, opens: e.opens })),
  });
  return {
    profile: match.profile.name,
    description: match.profile.description,
    matchedBy: match.matchedBy,
    ...(match.note ? { note: match.note } : {}),
    found,
  };
}

function boardText(b: ProbeReport['board']): string[] {
  if ('error' in b) return [`  (the board could not be named: ${b.error})`];
  return [
    `  ${b.profile}: ${b.description}`,
    `  chosen by ${b.matchedBy}`,
    ...(b.note ? [`  note: ${b.note}`] : []),
    ...boardCheckText(b.found),
  ];
}

function uplinkText(r: ProbeReport['uplinks']): string[] {
  if (!Array.isArray(r)) return [`  (the interfaces could not be listed: ${r.error})`];
  return r.map(
    (u) =>
      `  ${u.name.padEnd(10)} ${u.kind.padEnd(9)} ${u.addresses.join(' ') || 'no address'}${u.gateway ? ` via ${u.gateway}` : ''}  ${u.uplink === true ? 'uplink' : u.uplink}${u.table !== undefined ? `, table ${u.table}` : ''}`,
  );
}

function modemText(r: ProbeReport['modems']): string[] {
  if (!Array.isArray(r)) return [`  (modems could not be looked for: ${r.error})`];
  if (r.length === 0) return ['  none'];
  return r.flatMap((m) =>
    'error' in m
      ? [`  ${m.port}: ${m.error}`]
      : [
          `  ${m.port}`,
          ...formatModemReading(m)
            .split('\n')
            .map((l) => `    ${l}`),
        ],
  );
}

function captureText(devices: ProbeReport['capture']): string[] {
  if (!Array.isArray(devices)) return [`  (capture devices could not be listed: ${devices.error})`];
  if (devices.length === 0) return ['  none'];
  const lines: string[] = [];
  for (const d of devices) {
    lines.push(`  ${d.path}  ${d.card} (${d.driver})`);
    if ('error' in d) {
      lines.push(`    error: ${d.error.message}`);
      continue;
    }
    for (const i of d.inputs) {
      const now = i.index === d.currentInput && d.dv?.current ? `  timings ${d.dv.current.label}` : '';
      lines.push(
        `    input ${i.index}: ${i.name}  ${i.signal ? 'signal' : `no signal${i.status.length ? ` (${i.status.join(', ')})` : ''}`}${now}`,
      );
    }
    if (d.formats.length) lines.push(`    formats: ${d.formats.map((f) => f.fourcc).join(' ')}`);
  }
  return lines;
}

function text(r: ProbeReport): string {
  const m = r.media;
  const lines = ['Board:', ...boardText(r.board), '', 'Capture devices:', ...captureText(r.capture), '', 'Audio inputs:'];
  if (m.audioInputs.length === 0) lines.push('  none (the stream carries silence unless the test tone is chosen)');
  for (const a of m.audioInputs) lines.push(`  ${a.device}  ${a.card}: ${a.name}`);
  lines.push('', 'H.264 encoders (codec auto tries them in this order):');
  for (const e of m.videoEncoders) {
    const state = !e.present ? 'not in this libavcodec' : e.opens ? 'opens' : `present, does not open: ${e.error ?? ''}`;
    lines.push(`  ${e.name.padEnd(14)} ${state}`);
  }
  lines.push(`  auto picks: ${m.autoPick ?? 'nothing — no H.264 encoder opens'}`);
  lines.push('', `Audio encoder: aac ${m.audioEncoder.opens ? 'opens' : `does not open: ${m.audioEncoder.error ?? ''}`}`);
  lines.push('', `Test pattern: ${r.testPattern.sizes.join(', ')} at ${r.testPattern.rates.join(', ')} fps, with test tone`);
  lines.push('', 'Network interfaces:', ...uplinkText(r.uplinks));
  lines.push('', 'Modems:', ...modemText(r.modems));
  return lines.join('\n');
}

export const command: Command = {
  name: 'probe',
  summary: 'list capture inputs, audio inputs and the H.264 encoders that open',
  usage,
  async run(argv) {
    const { values } = parseOptions(argv, { json: { type: 'boolean' } });
    const [capture, media, uplinks, modems] = await Promise.all([
      probeCaptureDevices().catch((e: unknown) => ({ error: describeError(e) })),
      probeMedia(),
      probeUplinks().catch((e: unknown) => ({ error: describeError(e) })),
      probeModems().catch((e: unknown) => ({ error: describeError(e) })),
    ]);
    const board = await probeBoard(capture, media).catch((e: unknown) => ({ error: describeError(e) }));
    const report: ProbeReport = {
      board,
      capture,
      media,
      testPattern: { sizes: TEST_PATTERN_SIZES, rates: TEST_PATTERN_RATES },
      uplinks,
      modems,
    };
    out(values.json ? JSON.stringify(report, null, 2) : text(report));
    return 0;
  },
};
