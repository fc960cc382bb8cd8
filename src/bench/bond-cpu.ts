/**
 * `fieldcast bench bond-cpu` (issue 12): what the bonded path costs in CPU
 * against the C reference, in one run, at 4, 10 and 20 Mbit/s.
 *
 *   one TS source (a recorded H.264 stream, padded to the rate with null
 *   packets as a CBR encoder's output is), paced by this process onto UDP,
 *   datagram for datagram to both paths at once:
 *
 *   Fieldcast: udp → `fieldcast send --input udp://… --bond` (the send
 *     process reads the UDP itself and holds SRT and the bonding sender; the
 *     pipeline process figure is 0 then) → 3 emulated links (`fieldcast linksim`) →
 *     `fieldcast receive` → srt-live-transmit listener → udp back here
 *   C reference: udp → srt-live-transmit caller → 1 emulated link (the same
 *     linksim) → srt-live-transmit listener → udp back here
 *
 * CPU is user + sys from /proc for each process over the same window, as
 * CPU-seconds per minute: the sender side (pipeline process + send process)
 * against srt-live-transmit's sending, the receiver against its receiving.
 * Each far end's bytes and continuity are checked, so a path that did not
 * carry the stream gives no figure. The emulators, the listeners and this
 * process are not counted.
 *
 * Where the sender side's time goes (this machine, 10 Mbit/s; V8 CPU
 * profiles with FIELDCAST_CPU_PROF=DIR, the per-thread split printed, and
 * `strace -c -f` / `perf record -g` on the send process):
 * - The cost is per wake-up, not per byte or per line of JavaScript: idle
 *   (connected, no stream) the send process costs 0.8 CPU-s/min, at 4 / 10 /
 *   20 Mbit/s about 5 / 7 / 8. Per datagram of the stream it makes about 6
 *   futex calls (libsrt's send-queue thread pacing each packet, and the
 *   hand-off to it), 2.4 recvmsg, 2.3 sendmsg and 2.4 epoll waits; a third of
 *   its samples are the kernel switching threads in and out. srt-live-
 *   transmit pays the pacing too; Fieldcast adds the hops around it.
 * - The JavaScript thread: of its busy time, 26 % is `dgram.send` (the
 *   syscall, which on loopback also runs the receiving side's stack) and
 *   13 % the SRT output's flush (the native call that stages the TS into
 *   libsrt); the scheduler's `choose`, the splicer, flight records, the
 *   return path's de-duplication are each 1 % or less. Sending on connected
 *   link sockets without a completion callback was tried and measured no
 *   gain: the time is in the kernel, not in libuv's requests.
 * - The pipe from the pipeline process: written a datagram at a time, each
 *   write woke the send process to read, splice and stage one chunk into
 *   libsrt. Written in batches (src/media/ts-pipe.ts: 5 ms windows for a live
 *   passthrough input, one write per loop turn for the encoder) the send
 *   process costs about a quarter less (6.3 → 4.7 CPU-s/min, the means of
 *   three alternating runs each at 10 Mbit/s).
 * - libsrt's packets still cross a loopback socket to the bonding sender,
 *   which reads and sends each one again per link — the loopback hop.
 * - Batched sockets (src/native/udp.ts: recvmmsg a 4 ms window at a time on
 *   the SRT port, one sendmmsg per link per loop turn, a passthrough UDP input
 *   read in 5 ms windows) gained no CPU above the machine's noise (full
 *   runs one after the other, before → after: sender side 6.2 → 6.7x at 4
 *   Mbit/s, 6.0 → 6.3x at 10, 5.6 → 5.9x at 20): at these rates a 4 ms window
 *   holds 1.5-8 datagrams and a loop turn rarely more than one per link, so
 *   the syscalls hardly fell. `strace -c -f` at 4 Mbit/s after them, per
 *   datagram of the stream: 5.3 futex, 2.4 epoll waits, 1.5 recvmmsg + 0.4
 *   libsrt recvmsg, 1.4 sendmmsg + 1.2 libsrt sendmsg. `perf record -g`
 *   of the send process at 4 Mbit/s after them: the JavaScript thread 65 %
 *   of the process's samples (kernel 23 points of it, most of that
 *   finish_task_switch, i.e. being woken; V8's inline-cache and call builtins
 *   about 29, spread thinly over the per-packet path: the splicer, the
 *   scheduler's choose, flight records, the return path's ACK handling, none
 *   over 1 %), V8's background threads (GC, compiling) 13 %, libsrt's three
 *   threads 22 %. No function deoptimises more than once (`--trace-deopt`).
 * - The pipeline process of a UDP passthrough: gone. Its input is read in
 *   the send process (src/supervisor/pipeline-inline.ts), where the chunks
 *   reach the splicer without the pipe. Quick runs alternating, two each, on
 *   a machine busy with other work: sender side 10.7 → 8.6 CPU-s/min at 4
 *   Mbit/s, 12.2 → 10.6 at 10, 13.8 → 12.3 at 20 (11-20 % less).
 * So what is left is the hop a packet crosses (UDP → SRT → loopback →
 *   bonding sender → links, against srt-live-transmit's UDP → SRT → link) and
 *   the per-packet JavaScript around it: the lever is a native data plane
 *   that carries each packet from libsrt's socket to the links by the
 *   scheduler's choices without entering JavaScript per packet. Its floor,
 *   from the figures above: libsrt's own threads here already cost about
 *   srt-live-transmit's whole sending (1.6 against 1.3 CPU-s/min at 10
 *   Mbit/s), Node's other threads 0.7, and forwarding each packet again over
 *   the links about what srtla_send spends (0.85x): about 2.7x with no
 *   JavaScript per packet at all, so the 2x goal needs the SRT half native
 *   as well (libsrt's socket read by the same native thread as the input).
 */
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as wait } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freeUdpPort } from '../lib/udp-ports.js';
import { TsAnalyser } from '../mux/index.js';
import { processCpuSeconds, threadCpuSeconds } from './cpu.js';
import { childOf, QuietChildren } from './proc.js';
import { FigureSheet, NotObservedError, type Scenario, type ScenarioResult } from './types.js';

const CLI = fileURLToPath(new URL('../../bin/fieldcast.js', import.meta.url));
const CHUNK = 1316;
const LATENCY_MS = 1000;
/** The sender side may cost this many times srt-live-transmit's sending; the receiver this many times its receiving. */
const GOAL_SENDER_RATIO = 2;
const GOAL_RECEIVER_RATIO = 2;
/** A path that delivered less than this share of what was fed did not carry the stream (its start is joined late). */
const MIN_DELIVERED = 0.97;

interface PathEnd {
  bytes: number;
  analyser: TsAnalyser;
  sock: dgram.Socket;
}

interface RateResult {
  mbps: number;
  /** The send process's CPU-s per minute by thread: its JavaScript thread, libsrt's threads, the rest (libuv, GC helpers). */
  sendThreads: { js: number; srt: number; other: number };
  cpuPerMin: { fcPipeline: number; fcSend: number; fcReceive: number; sltSend: number; sltReceive: number };
  /** Whether the send process had a pipeline process (a UDP passthrough is read in the send process). */
  pipelineProcess: boolean;
  delivered: { fc: number; slt: number };
  cc: { fc: number; slt: number };
}

export const scenario: Scenario = {
  name: 'bond-cpu',
  description: 'CPU of the bonded path (pipeline + bonding sender, receiver) beside srt-live-transmit, at 4, 10 and 20 Mbit/s',
  async run({ quick, workDir, signal }): Promise<ScenarioResult> {
    const sheet = new FigureSheet();
    const windowS = quick ? 10 : 30;
    const source = await recordSource(workDir);
    const results: RateResult[] = [];
    for (const mbps of [4, 10, 20]) {
      signal.throwIfAborted();
      const file = padTo(source, mbps, workDir);
      results.push(await measureRate(file, mbps, windowS, workDir, signal));
    }
    const verdicts: string[] = [];
    for (const r of results) {
      const p = `at_${r.mbps}m`;
      const c = r.cpuPerMin;
      const senderSide = c.fcPipeline + c.fcSend;
      sheet.add(
        `${p}_fieldcast_pipeline_cpu_s_per_min`,
        c.fcPipeline,
        r.pipelineProcess ? 'CPU-s/min' : 'CPU-s/min (no pipeline process: the UDP input is read in the send process)',
      );
      sheet.add(`${p}_fieldcast_send_cpu_s_per_min`, c.fcSend, 'CPU-s/min (SRT + bonding sender)');
      sheet.add(
        `${p}_fieldcast_send_by_thread`,
        `JavaScript ${r.sendThreads.js.toFixed(2)}, SRT ${r.sendThreads.srt.toFixed(2)}, other ${r.sendThreads.other.toFixed(2)} CPU-s/min`,
      );
      sheet.add(`${p}_fieldcast_sender_side_cpu_s_per_min`, senderSide, 'CPU-s/min');
      sheet.add(`${p}_srt_live_transmit_send_cpu_s_per_min`, c.sltSend, 'CPU-s/min');
      sheet.add(`${p}_sender_ratio`, senderSide / c.sltSend, `x srt-live-transmit (goal <= ${GOAL_SENDER_RATIO})`);
      sheet.add(`${p}_fieldcast_receive_cpu_s_per_min`, c.fcReceive, 'CPU-s/min');
      sheet.add(`${p}_srt_live_transmit_receive_cpu_s_per_min`, c.sltReceive, 'CPU-s/min');
      sheet.add(`${p}_receiver_ratio`, c.fcReceive / c.sltReceive, `x srt-live-transmit (goal <= ${GOAL_RECEIVER_RATIO})`);
      sheet.add(
        `${p}_delivered`,
        `Fieldcast ${(r.delivered.fc * 100).toFixed(1)}%, srt-live-transmit ${(r.delivered.slt * 100).toFixed(1)}%`,
      );
      // The source loops (a 10 s file): its own jump at each loop shows at both far ends alike.
      sheet.add(
        `${p}_cc_errors_beyond_reference`,
        r.cc.fc - r.cc.slt,
        `(Fieldcast ${r.cc.fc}, srt-live-transmit ${r.cc.slt}: the source's loops)`,
      );
      const s = senderSide / c.sltSend;
      const rr = c.fcReceive / c.sltReceive;
      verdicts.push(
        `${r.mbps} Mbit/s: sender side ${s.toFixed(2)}x (${s <= GOAL_SENDER_RATIO ? 'held' : 'not held'}), receiver ${rr.toFixed(2)}x (${rr <= GOAL_RECEIVER_RATIO ? 'held' : 'not held'})`,
      );
    }
    sheet.add('window', `${windowS} s per rate${quick ? ' (quick)' : ''}`);
    return sheet.result(verdicts.join('; '));
  },
};

/** A recorded 4 Mbit/s H.264 + AAC stream (10 s, ffmpeg's test source), kept between runs. */
export async function recordSource(workDir: string): Promise<Buffer> {
  const cacheDir = path.resolve(fileURLToPath(new URL('../../.cache/bench', import.meta.url)));
  mkdirSync(cacheDir, { recursive: true });
  const file = path.join(cacheDir, 'bond-cpu-source.ts');
  if (!existsSync(file)) {
    const tmp = path.join(workDir, 'source.ts');
    execFileSync(
      'ffmpeg',
      [
        '-v',
        'error',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=1280x720:rate=30',
        '-f',
        'lavfi',
        '-i',
        'sine=frequency=1000:sample_rate=48000',
        '-t',
        '10',
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-b:v',
        '3500k',
        '-maxrate',
        '3500k',
        '-bufsize',
        '1750k',
        '-g',
        '60',
        '-c:a',
        'aac',
        '-b:a',
        '128k',
        '-muxrate',
        '4000k',
        '-f',
        'mpegts',
        '-y',
        tmp,
      ],
      { timeout: 120_000 },
    );
    writeFileSync(file, readFileSync(tmp));
  }
  return readFileSync(file);
}

/** The source padded to `mbps` with null packets (ffmpeg's muxrate), as a CBR encoder at that rate sends. */
export function padTo(source: Buffer, mbps: number, workDir: string): Buffer {
  const inFile = path.join(workDir, 'in.ts');
  const outFile = path.join(workDir, `at-${mbps}m.ts`);
  writeFileSync(inFile, source);
  execFileSync(
    'ffmpeg',
    ['-v', 'error', '-i', inFile, '-map', '0', '-c', 'copy', '-muxrate', `${mbps * 1000}k`, '-f', 'mpegts', '-y', outFile],
    {
      timeout: 60_000,
    },
  );
  return readFileSync(outFile);
}

async function farEnd(): Promise<PathEnd & { port: number }> {
  const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 16 << 20 });
  const end = { bytes: 0, analyser: new TsAnalyser(), sock, port: 0 };
  sock.on('message', (m) => {
    end.bytes += m.length;
    end.analyser.push(m);
  });
  end.port = await freeUdpPort();
  await new Promise<void>((r) => sock.bind(end.port, '127.0.0.1', () => r()));
  return end;
}

async function measureRate(ts: Buffer, mbps: number, windowS: number, workDir: string, signal: AbortSignal): Promise<RateResult> {
  const children = new QuietChildren();
  const fcEnd = await farEnd();
  const sltEnd = await farEnd();
  const feed = dgram.createSocket('udp4');
  try {
    const [fcIn, sltIn, fcListen, sltListen, recvPort, via1, via2, via3, via4] = await Promise.all(
      Array.from({ length: 9 }, () => freeUdpPort()),
    );
    // The far ends: srt-live-transmit listeners relaying to this process.
    children.spawn('srt-live-transmit', [
      '-q',
      '-c',
      String(CHUNK),
      `srt://:${fcListen}?mode=listener&latency=${LATENCY_MS}`,
      `udp://127.0.0.1:${fcEnd.port}`,
    ]);
    const sltReceive = children.spawn('srt-live-transmit', [
      '-q',
      '-c',
      String(CHUNK),
      `srt://:${sltListen}?mode=listener&latency=${LATENCY_MS}`,
      `udp://127.0.0.1:${sltEnd.port}`,
    ]);
    // The emulated links: 20 ms each way, room for the stream; the C path's link goes straight to its listener.
    const link = (name: string, via: number) => ({
      name,
      listen: `127.0.0.1:${via}`,
      up: { rate: '60M', delayMs: 20 },
      down: { delayMs: 20 },
    });
    const linksFile = path.join(workDir, `links-${mbps}.json`);
    writeFileSync(
      linksFile,
      JSON.stringify({ seed: 1, target: `127.0.0.1:${recvPort}`, links: [link('a', via1), link('b', via2), link('c', via3)] }),
    );
    const refLinkFile = path.join(workDir, `ref-link-${mbps}.json`);
    writeFileSync(refLinkFile, JSON.stringify({ seed: 1, target: `127.0.0.1:${sltListen}`, links: [link('ref', via4)] }));
    children.spawn(process.execPath, [CLI, 'linksim', '--config', linksFile, '--interval', '3600']);
    children.spawn(process.execPath, [CLI, 'linksim', '--config', refLinkFile, '--interval', '3600']);
    const receive = children.spawn(process.execPath, [
      ...profileArgs('receive'),
      CLI,
      'receive',
      '--listen',
      `127.0.0.1:${recvPort}`,
      '--forward',
      `srt://127.0.0.1:${fcListen}`,
      '--status-interval',
      '0',
    ]);
    await wait(1500, undefined, { signal });
    const send = children.spawn(process.execPath, [
      ...profileArgs('send'),
      CLI,
      'send',
      '--input',
      `udp://127.0.0.1:${fcIn}`,
      '--to',
      `srt://127.0.0.1:${recvPort}`,
      '--latency',
      String(LATENCY_MS),
      '--bond',
      '--link',
      `name=a,via=127.0.0.1:${via1}`,
      '--link',
      `name=b,via=127.0.0.1:${via2}`,
      '--link',
      `name=c,via=127.0.0.1:${via3}`,
    ]);
    const sltSend = children.spawn('srt-live-transmit', [
      '-q',
      '-c',
      String(CHUNK),
      `udp://:${sltIn}`,
      `srt://127.0.0.1:${via4}?latency=${LATENCY_MS}`,
    ]);
    await wait(2000, undefined, { signal });

    // The feed: the same datagrams to both, paced at the rate, looping the file.
    const chunks: Buffer[] = [];
    for (let off = 0; off + CHUNK <= ts.length; off += CHUNK) chunks.push(ts.subarray(off, off + CHUNK));
    const perMs = (mbps * 1e6) / 8 / CHUNK / 1000;
    let fed = 0;
    let next = 0;
    const t0 = performance.now();
    let feeding = true;
    const feeder = (async () => {
      while (feeding) {
        const due = Math.floor((performance.now() - t0) * perMs);
        for (; fed < due; fed++) {
          const c = chunks[next]!;
          next = (next + 1) % chunks.length;
          feed.send(c, fcIn);
          feed.send(c, sltIn);
        }
        await wait(2);
      }
    })();

    const warmS = 5;
    await wait(warmS * 1000, undefined, { signal });
    // A UDP passthrough is read in the send process itself (src/supervisor/pipeline-inline.ts): then there is no pipeline process.
    const pipelinePid = childOf(send.pid!);
    const pids = {
      ...(pipelinePid !== undefined ? { fcPipeline: pipelinePid } : {}),
      fcSend: send.pid!,
      fcReceive: receive.pid!,
      sltSend: sltSend.pid!,
      sltReceive: sltReceive.pid!,
    };
    const threads0 = threadCpuSeconds(send.pid!);
    const cpu0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, processCpuSeconds(pid)])) as Record<
      keyof typeof pids,
      number
    >;
    const w0 = performance.now();
    await wait(windowS * 1000, undefined, { signal });
    const minutes = (performance.now() - w0) / 60_000;
    const cpuPerMin = {
      fcPipeline: 0,
      ...Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, (processCpuSeconds(pid) - cpu0[k as keyof typeof pids]) / minutes])),
    } as RateResult['cpuPerMin'];
    const sendThreads = { js: 0, srt: 0, other: 0 };
    for (const t of threadCpuSeconds(send.pid!)) {
      const used = (t.cpuSeconds - (threads0.find((b) => b.tid === t.tid)?.cpuSeconds ?? 0)) / minutes;
      if (t.tid === send.pid) sendThreads.js += used;
      else if (t.name.startsWith('SRT:') || t.name === 'fieldcast-srt') sendThreads.srt += used;
      else sendThreads.other += used;
    }
    feeding = false;
    await feeder;
    // Everything fed has reached the far ends by now (the latency, the links' delay): the whole run's bytes.
    await wait(LATENCY_MS + 1500, undefined, { signal });
    const fedBytes = fed * CHUNK;
    const delivered = { fc: fcEnd.bytes / fedBytes, slt: sltEnd.bytes / fedBytes };
    for (const [who, share] of [
      ['Fieldcast', delivered.fc],
      ['srt-live-transmit', delivered.slt],
    ] as const) {
      if (share < MIN_DELIVERED) {
        throw new NotObservedError(
          `at_${mbps}m_cpu`,
          `${who}'s far end got ${(share * 100).toFixed(1)}% of the ${mbps} Mbit/s fed: the path did not carry the stream`,
        );
      }
    }
    const cc = (a: TsAnalyser): number => a.report().checks.Continuity_count_error ?? 0;
    return {
      mbps,
      sendThreads,
      cpuPerMin,
      pipelineProcess: pipelinePid !== undefined,
      delivered,
      cc: { fc: cc(fcEnd.analyser), slt: cc(sltEnd.analyser) },
    };
  } finally {
    await children.stopAll();
    feed.close();
    fcEnd.sock.close();
    sltEnd.sock.close();
  }
}

/**
 * With FIELDCAST_CPU_PROF=DIR, the send and receive processes write V8 CPU profiles there
 * (open them in Chrome's DevTools): where their time goes, per function.
 */
function profileArgs(who: string): string[] {
  const dir = process.env.FIELDCAST_CPU_PROF;
  // Node names each profile by its process id: the send process and its pipeline process (which inherits the flags) apart.
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(dir, who)}`] : [];
}
