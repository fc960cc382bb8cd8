/**
 * record: what recording through outages costs, and whether an upload
 * disturbs the live stream (issue 15; README "Recording through outages").
 *
 * 1. Recording's own cost. A 10 Mbit/s H.264 + AAC TS (made once by
 *    ffmpeg) is paced through the stream unit's splicer from a 10 ms timer,
 *    as the pipeline hands it over, in alternating windows without and with
 *    a StreamRecorder behind it (the same process, the same pacing): the
 *    difference in this process's CPU (user + sys, the libuv threads that
 *    write included) is the recording's, as a share of one core. The write
 *    rate is what reached the recordings folder per second.
 * 2. Upload while live. A stream unit encodes the test pattern to an
 *    srt-live-transmit listener on loopback, recording on; after a few
 *    segments, `fieldcast record upload --all` sends them to s3rver (its
 *    own process) at the default limit and then unlimited. The listener's
 *    output comes through a pipe (no lossy hop after the destination);
 *    the stretch received during each upload goes through the TR 101 290
 *    analyser afterwards. Figures: the upload
 *    throughput and the continuity errors at the listener during each
 *    (goal 0).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DestinationConfig, RecordingConfig } from '../config/schema.js';
import { freeUdpPort, udpPortBound } from '../lib/udp-ports.js';
import { defaultMux, testPatternSource } from '../media/spec.js';
import { TS_PACKET_SIZE, TsAnalyser, TsSplicer } from '../mux/index.js';
import { readIndex, StreamRecorder } from '../record/index.js';
import { StreamUnit } from '../supervisor/stream-unit.js';
import { selfCpuSeconds } from './cpu.js';
import { FigureSheet, type Scenario, type ScenarioOptions, type ScenarioResult } from './types.js';

const CLI = fileURLToPath(new URL('../../bin/fieldcast.js', import.meta.url));
const RATE_BPS = 10_000_000;
const CHUNK = 1316;
const GOAL_CORE_SHARE = 0.01;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function makeSource(file: string): Buffer {
  execFileSync(
    'ffmpeg',
    [
      ...['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30:duration=20'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000:duration=20'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '9500k', '-maxrate', '9500k', '-bufsize', '2M', '-g', '30'],
      ...['-c:a', 'aac', '-b:a', '128k', '-muxrate', String(RATE_BPS), '-f', 'mpegts', file],
    ],
    { timeout: 120_000 },
  );
  return readFileSync(file);
}

/** Paces `data` (looped) through a splicer at RATE_BPS for `ms`; returns this process's CPU seconds meanwhile. */
async function paced(
  data: Buffer,
  ms: number,
  onChunk: ConstructorParameters<typeof TsSplicer>[0]['onChunk'],
  signal: AbortSignal,
): Promise<number> {
  const splicer = new TsSplicer({ fill: false, onChunk });
  splicer.start();
  const cpu0 = selfCpuSeconds();
  const start = Date.now();
  let off = 0;
  let sent = 0;
  while (Date.now() - start < ms && !signal.aborted) {
    const due = Math.floor(((Date.now() - start) / 1000) * (RATE_BPS / 8));
    while (sent < due) {
      if (off + CHUNK > data.length) off = 0;
      splicer.push(data.subarray(off, off + CHUNK));
      off += CHUNK;
      sent += CHUNK;
    }
    await sleep(10);
  }
  const cpu = selfCpuSeconds() - cpu0;
  splicer.stop();
  return cpu;
}

async function recordingCost(sheet: FigureSheet, o: ScenarioOptions): Promise<void> {
  let data: Buffer;
  try {
    data = makeSource(path.join(o.workDir, 'source-10m.ts'));
  } catch (e) {
    sheet.missing('recording_core_share', `ffmpeg could not make the 10 Mbit/s source: ${(e as Error).message}`);
    return;
  }
  const dir = path.join(o.workDir, 'recordings-cost');
  rmSync(dir, { recursive: true, force: true });
  const rounds = o.quick ? 2 : 4;
  const windowMs = o.quick ? 5000 : 15_000;
  const recorder = await StreamRecorder.open({
    dir,
    settings: { ...RecordingConfig.parse({}), segmentSeconds: 10 },
    probe: () => [{ connection: 0, connected: false, sentBytes: 0 }],
  });
  let without = 0;
  let withRec = 0;
  let bytes0 = 0;
  let recordedBytes = 0;
  try {
    for (let i = 0; i < rounds && !o.signal.aborted; i++) {
      without += await paced(data, windowMs, () => {}, o.signal);
      bytes0 = recorder.stats().bytes;
      withRec += await paced(data, windowMs, (c, info) => recorder.write(c, info), o.signal);
      recordedBytes += recorder.stats().bytes - bytes0;
    }
  } finally {
    await recorder.close();
  }
  const seconds = (rounds * windowMs) / 1000;
  const stats = recorder.stats();
  const share = (withRec - without) / seconds;
  sheet.add('recording_rate_mbps', RATE_BPS / 1e6, 'Mbit/s of TS');
  sheet.add('recording_window_s', seconds, o.quick ? 's each way (quick)' : 's each way');
  sheet.add('pacing_cpu_share_without', without / seconds, 'of a core');
  sheet.add('pacing_cpu_share_with', withRec / seconds, 'of a core');
  sheet.add('recording_core_share', share, `of a core (goal < ${GOAL_CORE_SHARE})`);
  sheet.add('recording_write_mbps', (recordedBytes * 8) / seconds / 1e6, 'Mbit/s written');
  sheet.add('recording_dropped_bytes', stats.droppedBytes);
  rmSync(dir, { recursive: true, force: true });
}

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

function exited(p: ChildProcess): Promise<number | null> {
  return new Promise((r) => (p.exitCode !== null ? r(p.exitCode) : p.once('exit', (c) => r(c))));
}

async function uploadWhileLive(sheet: FigureSheet, o: ScenarioOptions): Promise<void> {
  let s3rverBin: string;
  try {
    s3rverBin = path.join(path.dirname(createRequire(import.meta.url).resolve('s3rver/package.json')), 'bin', 's3rver.js');
  } catch {
    sheet.missing('upload_mbps', 's3rver is not installed (npm install: it is a devDependency)');
    return;
  }
  const procs: ChildProcess[] = [];
  const stateDir = path.join(o.workDir, 'record-state');
  rmSync(stateDir, { recursive: true, force: true });
  const dir = path.join(stateDir, 'recordings');
  const srtPort = await freeUdpPort();
  // The listener's output through a pipe (lossless: it pushes back), kept whole.
  const chunks: Buffer[] = [];
  let receivedBytes = 0;
  /** What the listener has delivered so far, in whole TS packets. */
  const received = (): number => receivedBytes - (receivedBytes % TS_PACKET_SIZE);
  const windows: { name: string; from: number; to: number }[] = [];
  let unit: StreamUnit | undefined;
  try {
    const slt = spawn('srt-live-transmit', ['-q', '-c', '1316', `srt://:${srtPort}?mode=listener&latency=200`, `file://con`], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    slt.stdout?.on('data', (d: Buffer) => {
      chunks.push(d);
      receivedBytes += d.length;
    });
    procs.push(slt);
    const bound = Date.now();
    while (!(await udpPortBound(srtPort)) && Date.now() - bound < 10_000) await sleep(50);
    const s3dir = path.join(o.workDir, 's3rver');
    rmSync(s3dir, { recursive: true, force: true });
    mkdirSync(s3dir, { recursive: true });
    const s3port = await freeTcpPort();
    procs.push(
      spawn(process.execPath, [s3rverBin, '-d', s3dir, '-a', '127.0.0.1', '-p', String(s3port), '-s', '--configure-bucket', 'bench'], {
        stdio: 'ignore',
      }),
    );
    unit = new StreamUnit(
      {
        source: testPatternSource({ width: 1280, height: 720, bitrate: 4_000_000, keyframeSeconds: 1 }),
        mux: defaultMux(),
        destination: DestinationConfig.parse({ url: `srt://127.0.0.1:${srtPort}`, latencyMs: 200 }),
      },
      { recording: { dir, settings: { ...RecordingConfig.parse({}), segmentSeconds: 4 } } },
    );
    await unit.start();
    await sleep(o.quick ? 10_000 : 20_000);
    if (received() === 0) {
      sheet.missing('upload_mbps', 'the listener received nothing from the live stream');
      return;
    }
    const runs: [string, string][] = [
      ['default', '2M'],
      ['unlimited', '1G'],
    ];
    for (const [name, rate] of runs) {
      const before = (await readIndex(dir)).segments;
      const bytes = before.reduce((n, s) => n + s.bytes, 0);
      const r0 = received();
      const srt0 = unit.stats().srt;
      const t0 = performance.now();
      const up = spawn(
        process.execPath,
        [
          CLI,
          'record',
          'upload',
          '--state-dir',
          stateDir,
          '--bucket',
          'bench',
          '--prefix',
          `${name}/`,
          '--all',
          '--rate',
          rate,
          '--endpoint',
          `http://127.0.0.1:${s3port}`,
        ],
        {
          stdio: 'ignore',
          env: {
            ...process.env,
            FIELDCAST_LOG: 'error',
            AWS_ACCESS_KEY_ID: 'S3RVER',
            AWS_SECRET_ACCESS_KEY: 'S3RVER',
            AWS_REGION: 'us-east-1',
            AWS_EC2_METADATA_DISABLED: 'true',
          },
        },
      );
      procs.push(up);
      const code = await exited(up);
      const seconds = (performance.now() - t0) / 1000;
      const r1 = received();
      windows.push({ name, from: r0, to: r1 });
      const srt1 = unit.stats().srt;
      if (code !== 0) {
        sheet.missing(`upload_${name}_mbps`, `fieldcast record upload exited with ${code}`);
        continue;
      }
      sheet.add(`upload_${name}_limit`, rate, 'bit/s');
      sheet.add(`upload_${name}_mb`, bytes / 1e6, 'MB');
      sheet.add(`upload_${name}_mbps`, (bytes * 8) / seconds / 1e6, 'Mbit/s (command start to end)');
      sheet.add(`live_during_${name}_mbps`, ((r1 - r0) * 8) / seconds / 1e6, 'Mbit/s at the listener');
      // Where a continuity error came from: SRT giving packets up as too late (the sender starved), or not.
      sheet.add(`live_srt_dropped_during_${name}`, srt1.dropPackets - srt0.dropPackets, 'packets given up as too late');
      sheet.add(`live_srt_retrans_during_${name}`, srt1.retransPackets - srt0.retransPackets, 'packets');
    }
    const st = unit.stats().recording;
    if (st) sheet.add('recording_dropped_bytes_live', st.droppedBytes);
  } finally {
    await unit?.stop();
    for (const p of procs) p.kill('SIGKILL');
  }
  // What reached the destination during each upload, checked as an ingest would (TR 101 290).
  const all = Buffer.concat(chunks);
  for (const w of windows) {
    const analyser = new TsAnalyser();
    analyser.push(all.subarray(w.from, w.to));
    const cc = analyser.report().checks.Continuity_count_error;
    if (cc === null) sheet.missing(`live_cc_errors_during_${w.name}`, 'the listener received no TS during the upload');
    else sheet.add(`live_cc_errors_during_${w.name}`, cc, 'goal 0');
  }
}

export const scenario: Scenario = {
  name: 'record',
  description: 'recording at 10 Mbit/s: its CPU and write rate; upload to s3rver while live, with the live CC errors',
  async run(o: ScenarioOptions): Promise<ScenarioResult> {
    const sheet = new FigureSheet();
    await recordingCost(sheet, o);
    await uploadWhileLive(sheet, o);
    const f = (n: string): number | undefined => {
      const v = sheet.figures.find((x) => x.name === n)?.value;
      return typeof v === 'number' ? v : undefined;
    };
    const share = f('recording_core_share');
    const cc = [f('live_cc_errors_during_default'), f('live_cc_errors_during_unlimited')];
    const ccOk = cc.every((c) => c === 0);
    return sheet.result(
      `recording costs ${share === undefined ? 'unmeasured' : `${(share * 100).toFixed(2)} %`} of a core at 10 Mbit/s ` +
        `(goal < ${GOAL_CORE_SHARE * 100} %: ${share !== undefined && share < GOAL_CORE_SHARE ? 'met' : 'not met'}); ` +
        `live CC errors during the uploads: ${cc.map((c) => c ?? 'unmeasured').join(', ')} (goal 0: ${ccOk ? 'met' : 'not met'})`,
    );
  },
};
