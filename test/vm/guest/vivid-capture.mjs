// Runs inside the VM (test/vm/vivid.test.ts) with the host's node, against the
// kernel's vivid driver: the real capture code through the built dist/.
// Writes result.json into the current folder (the writable 9p share).
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = process.argv[2];
const { captureTest, probeCaptureDevice, setDvTimings } = await import(`${repo}/dist/media/v4l2.js`);

const DEVICE = '/dev/video0';
const HDMI = 3; // vivid's input 3 is "HDMI 0"
const started = Date.now();
// Seconds since the guest kernel booted, when this script began (boot + node start-up cost).
const bootToScript = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
const result = { steps: [], ms: {}, bootToScriptS: 0, encode: null };
const mark = (name) => {
  result.ms[name] = Date.now() - started;
};
const summary = (r) => ({
  opened: r.opened,
  frames: r.frames.length,
  sizes: [...new Set(r.frames.map((f) => `${f.width}x${f.height}`))],
  increasing: r.frames.every((f, i) => i === 0 || f.captureUs > r.frames[i - 1].captureUs),
  meanLuma: r.frames.length ? r.frames.reduce((a, f) => a + f.meanLuma, 0) / r.frames.length : 0,
  events: r.events.map((e) => ({
    type: e.type,
    code: e.error.code,
    name: e.error.name,
    message: e.error.message,
    atFrame: e.atFrame,
    width: e.width,
    height: e.height,
    fpsNum: e.fpsNum,
    fpsDen: e.fpsDen,
  })),
  framesAfterLastEvent: r.events.length
    ? r.frames.filter((f) => f.index >= r.events[r.events.length - 1].atFrame).map((f) => `${f.width}x${f.height}`)
    : [],
});
const vivid = (...controls) => run('v4l2-ctl', ['-d', DEVICE, ...controls.flatMap((c) => ['-c', c])]);

try {
  result.bootToScriptS = bootToScript;
  mark('node-ready');
  const t720 = await setDvTimings(DEVICE, { input: HDMI, width: 1280, height: 720, fps: 60 });
  const probe = await probeCaptureDevice(DEVICE);
  result.probe = {
    card: probe.card,
    currentInput: probe.currentInput,
    input: probe.inputs.find((i) => i.index === HDMI),
    current: probe.dv?.current?.label,
    detected: probe.dv?.detected?.label,
    supported: probe.dv?.supported.length ?? 0,
    formats: probe.formats.map((f) => f.fourcc),
  };
  result.steps.push({
    name: '720p60',
    set: t720.label,
    ...summary(await captureTest({ source: 'v4l2', device: DEVICE, input: HDMI, frames: 12 })),
  });

  mark('720p60');
  const t1080 = await setDvTimings(DEVICE, { input: HDMI, width: 1920, height: 1080, fps: 30 });
  result.steps.push({
    name: '1080p30',
    set: t1080.label,
    ...summary(await captureTest({ source: 'v4l2', device: DEVICE, input: HDMI, frames: 8 })),
  });

  mark('1080p30');
  // Signal off mid-capture, then back at 720p60 (vivid's "Selected DV Timings", menu index 9).
  // vivid's "dv_timings" menu has its own numbering (it lists interlaced modes too): read it.
  const menus = (await run('v4l2-ctl', ['-d', DEVICE, '--list-ctrls-menus'])).stdout.split('\n');
  const menuStart = menus.findIndex((l) => /^\s*dv_timings 0x/.test(l));
  const index720 = menus
    .slice(menuStart + 1)
    .map((l) => /^\s+(\d+): 1280x720p60$/.exec(l)?.[1])
    .find((m) => m !== undefined);
  if (menuStart < 0 || index720 === undefined) throw new Error('vivid has no dv_timings menu entry 1280x720p60');
  const stop = new AbortController();
  let phase = 'before';
  let afterChange = 0;
  const report = await captureTest(
    { source: 'v4l2', device: DEVICE, input: HDMI, durationMs: 60_000 },
    {
      signal: stop.signal,
      onEvent: (e) => {
        if (phase === 'before' && 'index' in e && e.index >= 4) {
          phase = 'cut';
          vivid('dv_timings_signal_mode=1').catch((err) => {
            result.controlError = String(err);
            stop.abort();
          });
        } else if (phase === 'cut' && e.type === 'no-signal') {
          phase = 'restore';
          vivid(`dv_timings=${index720}`, 'dv_timings_signal_mode=4').catch((err) => {
            result.controlError = String(err);
            stop.abort();
          });
        } else if (phase === 'restore' && e.type === 'format-changed') {
          phase = 'after';
        } else if (phase === 'after' && 'index' in e && ++afterChange >= 6) {
          stop.abort();
        }
      },
    },
  );
  mark('signal-loss');
  result.steps.push({ name: 'signal-loss', phase, ...summary(report) });

  // Opened while the camera is off (the box booted first): no signal at once,
  // then pictures when it comes (same timings: no format change).
  await vivid('dv_timings_signal_mode=1');
  const stop2 = new AbortController();
  let restored = false;
  let afterRestore = 0;
  const cold = await captureTest(
    { source: 'v4l2', device: DEVICE, input: HDMI, durationMs: 60_000 },
    {
      signal: stop2.signal,
      onEvent: (e) => {
        if (!restored && e.type === 'no-signal') {
          restored = true;
          vivid('dv_timings_signal_mode=4').catch((err) => {
            result.controlError = String(err);
            stop2.abort();
          });
        } else if (restored && 'index' in e && ++afterRestore >= 5) {
          stop2.abort();
        }
      },
    },
  );
  mark('open-without-signal');
  result.steps.push({ name: 'open-without-signal', ...summary(cold) });

  // Capture -> encode through the encoder session: the signal cut mid-stream
  // puts the slate on air with no hole in the timestamps; the input comes back.
  // 720p24 keeps the TCG guest (no KVM here) ahead of the input, so gaps in the
  // timestamps show the hand-over itself rather than an overloaded VM.
  await vivid('dv_timings_signal_mode=0');
  await setDvTimings(DEVICE, { input: HDMI, width: 1280, height: 720, fps: 24 });
  const { EncoderSession } = await import(`${repo}/dist/media/session.js`);
  const { TsMuxer } = await import(`${repo}/dist/mux/index.js`);
  // The test tone is on, so the slate's silence is a real observation; everything
  // encoded is muxed into slate.ts for the host to decode as a far end would.
  const tsChunks = [];
  const muxer = new TsMuxer({ audio: { sampleRate: 48_000, channels: 2 }, onChunk: (c) => tsChunks.push(Buffer.from(c)) });
  const session = await EncoderSession.start({
    video: `${DEVICE}:${HDMI}`,
    audio: 'testtone',
    codec: 'libx264',
    preset: 'ultrafast',
    width: 320,
    height: 180,
    bitrate: 500_000,
    inputName: 'HDMI 0',
    statsIntervalMs: 0,
  });
  const enc = { phase: 'input', units: { input: 0, slate: 0, back: 0 }, pts: [], phases: [], keys: 0, events: [] };
  const done = new Promise((resolve) => {
    const safety = setTimeout(resolve, 60_000);
    session.on('event', (e) => {
      enc.events.push({ code: e.code, message: e.message });
      if (e.code === 'INPUT_NO_SIGNAL') enc.phase = 'slate';
      if (e.code === 'INPUT_SIGNAL_RESTORED') enc.phase = 'back';
    });
    session.on('error', (e) => {
      enc.error = { code: e.code, message: e.message };
      clearTimeout(safety);
      resolve();
    });
    session.on('accessUnit', (u) => {
      if (u.stream === 'audio') {
        muxer.writeAudio(u);
        return;
      }
      muxer.writeVideo(u);
      if (enc.phase === 'slate' && enc.slateFromPts === undefined) enc.slateFromPts = u.pts;
      if (enc.phase === 'back' && enc.backFromPts === undefined) enc.backFromPts = u.pts;
      enc.pts.push(u.pts);
      enc.phases.push(enc.phase);
      if (u.key) enc.keys++;
      const n = ++enc.units[enc.phase];
      if (enc.phase === 'input' && n === 30) vivid('dv_timings_signal_mode=1').catch((err) => (enc.controlError = String(err)));
      if (enc.phase === 'slate' && n === 30) vivid('dv_timings_signal_mode=0').catch((err) => (enc.controlError = String(err)));
      if (enc.phase === 'back' && n === 30) {
        clearTimeout(safety);
        resolve();
      }
    });
  });
  await done;
  await session.close();
  muxer.flush();
  writeFileSync('slate.ts', Buffer.concat(tsChunks));
  mark('encode');
  const gaps = enc.pts.slice(1).map((p, i) => p - enc.pts[i]);
  result.encode = {
    ...enc,
    pts: undefined,
    phases: undefined,
    // The five largest steps between pictures (ms) and the phases either side.
    largestGaps: gaps
      .map((g, i) => ({ ms: Math.round(g / 90), from: enc.phases[i], to: enc.phases[i + 1], at: i + 1 }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 5),
    videoUnits: enc.pts.length,
    increasing: gaps.every((g) => g > 0),
    maxGapMs: gaps.length ? Math.max(...gaps) / 90 : 0,
    // Steps into the first slate picture and into the first picture after the signal returned.
    handoverGapsMs: [enc.phases.indexOf('slate'), enc.phases.indexOf('back')].map((i) => (i > 0 ? gaps[i - 1] / 90 : -1)),
  };
} catch (err) {
  result.error = { name: err?.name, code: err?.code, message: err?.message, stack: err?.stack };
}

// The EDID a board profile loads into its HDMI bridge (src/media/edid.ts), on vivid's HDMI input;
// and refused on its webcam input, which has none.
try {
  const { loadEdid, readEdid } = await import(`${repo}/dist/media/edid.js`);
  const before = (await readEdid(DEVICE, HDMI)).toString('hex');
  const loaded = await loadEdid(DEVICE, HDMI, 'hdmi-4k-300mhz');
  const after = (await readEdid(DEVICE, HDMI)).toString('hex');
  let refused;
  try {
    await loadEdid(DEVICE, 0, 'hdmi');
  } catch (err) {
    refused = { code: err.code, message: err.message };
  }
  result.edid = { before, after, loaded, refused };
} catch (err) {
  result.edid = { error: { code: err?.code, message: err?.message } };
}
mark('edid');
writeFileSync('result.json', JSON.stringify(result, null, 2));
