// Helpers for the SRT integration tests: real peers (srt-live-transmit,
// ffmpeg, ffprobe), free loopback ports, a short TS, paced sending.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TsArrivals } from '../../src/mux/index.js';

export function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

export function hasIpv6Loopback(): boolean {
  try {
    const r = spawnSync(process.execPath, [
      '-e',
      "const s=require('dgram').createSocket('udp6');s.on('error',()=>process.exit(1));s.bind(0,'::1',()=>{s.close();process.exit(0)})",
    ]);
    return r.status === 0;
  } catch {
    return false;
  }
}

export { freeUdpPort, udpPortBound } from '../../src/lib/udp-ports.js';

export async function waitUntil(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class TempDir {
  readonly path = mkdtempSync(join(tmpdir(), 'fieldcast-srt-'));
  file(name: string): string {
    return join(this.path, name);
  }
  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** A short H.264 + AAC MPEG-TS (testsrc + sine), like a muxer's output. */
export function makeTestTs(path: string, seconds = 3): { bytes: Buffer; bitsPerSecond: number } {
  execFileSync(
    'ffmpeg',
    [
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      `testsrc=size=320x240:rate=25:duration=${seconds}`,
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=1000:sample_rate=48000:duration=${seconds}`,
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-tune',
      'zerolatency',
      '-b:v',
      '600k',
      '-g',
      '25',
      '-c:a',
      'aac',
      '-b:a',
      '64k',
      '-f',
      'mpegts',
      '-mpegts_flags',
      'resend_headers',
      path,
    ],
    { timeout: 30_000 },
  );
  const bytes = readFileSync(path);
  return { bytes, bitsPerSecond: (bytes.length * 8) / seconds };
}

/** `count` MPEG-TS null packets (PID 0x1FFF, ISO/IEC 13818-1 §2.4.3.3): padding any demuxer ignores. */
export function nullPackets(count: number): Buffer {
  const b = Buffer.alloc(188 * count, 0xff);
  for (let i = 0; i < count; i++) {
    b.writeUInt32BE(0x471fff10, i * 188);
  }
  return b;
}

/** Streams of `ffprobe` on a file: codec names and decoded frame counts. */
export function probe(path: string): { codecs: string[]; videoFrames: number } {
  const out = execFileSync(
    'ffprobe',
    ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,codec_type,nb_read_frames', '-of', 'json', path],
    { timeout: 30_000 },
  ).toString();
  const streams = (JSON.parse(out) as { streams: { codec_name: string; codec_type: string; nb_read_frames?: string }[] }).streams;
  const video = streams.find((s) => s.codec_type === 'video');
  return { codecs: streams.map((s) => s.codec_name).sort(), videoFrames: Number(video?.nb_read_frames ?? 0) };
}

/**
 * Calls `send` with `data` paced at `bitsPerSecond`, in whole 1316-byte
 * messages, from a 10 ms timer (as a muxer would produce it). With `loop`
 * it starts over at the end until stopped. Resolves when done or stopped.
 */
export function pacedSend(
  data: Buffer,
  bitsPerSecond: number,
  send: (chunk: Buffer) => void,
  options: { loop?: boolean; signal?: AbortSignal } = {},
): Promise<void> {
  return new Promise((resolve) => {
    const start = Date.now();
    let offset = 0;
    let sentTotal = 0;
    const timer = setInterval(() => {
      if (options.signal?.aborted) {
        clearInterval(timer);
        resolve();
        return;
      }
      const due = Math.floor(((Date.now() - start) / 1000) * (bitsPerSecond / 8));
      while (sentTotal < due) {
        if (offset >= data.length) {
          if (!options.loop) {
            clearInterval(timer);
            resolve();
            return;
          }
          offset = 0;
        }
        const n = Math.min(1316, data.length - offset);
        send(data.subarray(offset, offset + n));
        offset += n;
        sentTotal += n;
      }
    }, 10);
  });
}

/** An srt-live-transmit listener read where a viewer would be: as its output arrives. */
export interface FarEnd {
  child: ChildProcess;
  /** Each PAT, PMT and picture with its arrival time (performance.now()). */
  arrivals: TsArrivals;
  /** Everything it has delivered so far. */
  bytes(): Buffer;
}

/**
 * The order a decoder meets things in a TS: a TsArrivals whose clock is the
 * index of the packet it reads, so PAT, PMT and pictures are ordered by
 * their place in the stream.
 */
export function streamOrder(ts: Buffer): TsArrivals {
  // The clock is the packet it is reading (a packet is handed on only once sync is found).
  const a: TsArrivals = new TsArrivals(() => a.packetsSeen);
  a.push(ts);
  a.flush();
  return a;
}

/** Children started by a test, killed in afterEach. */
export class Children {
  readonly #list: ChildProcess[] = [];

  /** srt-live-transmit; stdout to `outPath` when given. */
  srtLiveTransmit(args: string[], outPath?: string): ChildProcess {
    const fd = outPath ? openSync(outPath, 'w') : undefined;
    const child = spawn('srt-live-transmit', ['-q', '-c', '1316', ...args], {
      stdio: ['pipe', fd ?? 'ignore', 'pipe'],
    });
    if (fd !== undefined) closeSync(fd);
    return this.track(child);
  }

  /** srt-live-transmit as listener on `url`, its output read as it arrives (see FarEnd). */
  farEnd(url: string): FarEnd {
    const child = spawn('srt-live-transmit', ['-q', '-c', '1316', url, 'file://con'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.track(child);
    const arrivals = new TsArrivals();
    const chunks: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => {
      chunks.push(d);
      arrivals.push(d);
    });
    return { child, arrivals, bytes: () => Buffer.concat(chunks) };
  }

  ffmpeg(args: string[]): ChildProcess {
    return this.track(spawn('ffmpeg', ['-loglevel', 'error', '-nostdin', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] }));
  }

  track(child: ChildProcess): ChildProcess {
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    Object.defineProperty(child, 'stderrText', { get: () => stderr });
    this.#list.push(child);
    return child;
  }

  /** Stops one child the way an operator would (SIGTERM), resolves when it has exited. */
  async stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  }

  async killAll(): Promise<void> {
    await Promise.all(this.#list.map((c) => this.stop(c, 'SIGKILL')));
    this.#list.length = 0;
  }
}

export function stderrOf(child: ChildProcess): string {
  return (child as ChildProcess & { stderrText?: string }).stderrText ?? '';
}

/** Sends `count` garbage datagrams to host:port: random bytes and SRT-looking headers. */
export async function sprayGarbage(host: string, port: number, count: number): Promise<void> {
  const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  for (let i = 0; i < count; i++) {
    const size = [1, 4, 16, 64, 200, 1316, 1500][i % 7] ?? 16;
    const b = Buffer.alloc(size);
    for (let j = 0; j < size; j++) b[j] = Math.floor(Math.random() * 256);
    if (size >= 16 && i % 3 === 0) {
      b[0] = 0x80; // control bit set: a fake SRT control packet (handshake, ACK, NAK, shutdown)
      b[1] = i % 8;
      b.writeUInt32BE(0, 12); // destination socket 0: what the listener's handshake path reads
    }
    await new Promise<void>((r) => s.send(b, port, host, () => r()));
    if (i % 20 === 0) await sleep(2);
  }
  s.close();
}
