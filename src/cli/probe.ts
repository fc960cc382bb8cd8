/** `fieldcast probe`: what this box can capture, hear and encode. */
import { describeError } from '../lib/errors.js';
import { type MediaProbe, probeMedia, TEST_PATTERN_RATES, TEST_PATTERN_SIZES } from '../media/index.js';
import { type CaptureDeviceReport, probeCaptureDevices } from '../media/v4l2.js';
import { type Command, out, parseOptions } from './command.js';

const usage = `Usage: fieldcast probe [--json]

Lists capture devices (driver, inputs, signal and timings now, formats), audio
inputs, which H.264 encoders this system has and which actually open (each is
opened at 320x240), and the built-in test pattern.
  --json   print one JSON object instead of text`;

interface ProbeReport {
  capture: CaptureDeviceReport[] | { error: string };
  media: MediaProbe;
  testPattern: { sizes: readonly string[]; rates: readonly string[] };
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
  const lines = ['Capture devices:', ...captureText(r.capture), '', 'Audio inputs:'];
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
  return lines.join('\n');
}

export const command: Command = {
  name: 'probe',
  summary: 'list capture inputs, audio inputs and the H.264 encoders that open',
  usage,
  async run(argv) {
    const { values } = parseOptions(argv, { json: { type: 'boolean' } });
    const [capture, media] = await Promise.all([probeCaptureDevices().catch((e: unknown) => ({ error: describeError(e) })), probeMedia()]);
    const report: ProbeReport = { capture, media, testPattern: { sizes: TEST_PATTERN_SIZES, rates: TEST_PATTERN_RATES } };
    out(values.json ? JSON.stringify(report, null, 2) : text(report));
    return 0;
  },
};
