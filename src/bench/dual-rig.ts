/**
 * Two destinations, seen from the far ends: srt-live-transmit listeners that
 * write what they receive, and the comparison of what they wrote. Used by
 * `fieldcast bench dual` and by the two-destination integration test.
 *
 * srt-live-transmit writes each SRT payload it receives as it is, so a file
 * is the concatenation of the payloads of one session: two destinations that
 * were sent the same bytes have files where one (or each part of one, across
 * a reconnection) is found whole, byte for byte, inside the other.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { TsAnalyser } from '../mux/analyser.js';
import { TS_PACKET_SIZE } from '../mux/constants.js';

/** An srt-live-transmit listener writing each session's bytes; killed and started again on the same port. */
export class DualListener {
  readonly port: number;
  readonly #latencyMs: number;
  readonly #passphrase: string | undefined;
  #child: ChildProcess | undefined;
  /** One entry per run of the listener: the bytes it received. */
  readonly runs: Buffer[][] = [];

  /** `passphrase`: the listener decrypts with it (and refuses callers without it). */
  constructor(port: number, latencyMs: number, passphrase?: string) {
    this.port = port;
    this.#latencyMs = latencyMs;
    this.#passphrase = passphrase;
  }

  /** Starts the listener (again); its bytes go into a new run. */
  start(): void {
    const chunks: Buffer[] = [];
    this.runs.push(chunks);
    const pass = this.#passphrase ? `&passphrase=${encodeURIComponent(this.#passphrase)}` : '';
    const child = spawn(
      'srt-live-transmit',
      ['-q', '-c', '1316', `srt://:${this.port}?mode=listener&latency=${this.#latencyMs}${pass}`, 'file://con'],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    child.stdout?.on('data', (d: Buffer) => chunks.push(d));
    this.#child = child;
  }

  /** Bytes received by the current (last) run so far. */
  received(): number {
    return (this.runs.at(-1) ?? []).reduce((n, c) => n + c.length, 0);
  }

  /** Each run's bytes, whole. */
  files(): Buffer[] {
    return this.runs.map((r) => Buffer.concat(r));
  }

  /**
   * Kills the listener at once (SIGKILL: a listener gone, as a crashed
   * ingest is), resolved once it has exited. What it had received but not
   * yet written out (its standard output is buffered) is lost with it: the
   * run ends where its last whole write did.
   */
  kill(): Promise<void> {
    return this.#end('SIGKILL');
  }

  /** Stops the listener cleanly (SIGINT): it writes out all it received, then exits. */
  stop(): Promise<void> {
    return this.#end('SIGINT');
  }

  async #end(signal: NodeJS.Signals): Promise<void> {
    const c = this.#child;
    this.#child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('close', () => r()));
    c.kill(signal);
    const t = setTimeout(() => c.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  }
}

/** The whole packets of a run that was cut short (a listener killed mid-write). */
export function wholePackets(file: Buffer): Buffer {
  return file.subarray(0, file.length - (file.length % TS_PACKET_SIZE));
}

/** What one file tells about the stream it holds. */
export interface TsFileCheck {
  packets: number;
  /** Bytes after the last whole packet (0: the file is whole packets). */
  tailBytes: number;
  continuityErrors: number;
  syncErrors: number;
}

export function checkTs(file: Buffer): TsFileCheck {
  const a = new TsAnalyser();
  a.push(file);
  const r = a.report();
  return {
    packets: Math.floor(file.length / TS_PACKET_SIZE),
    tailBytes: file.length % TS_PACKET_SIZE,
    continuityErrors: r.checks.Continuity_count_error ?? 0,
    syncErrors: (r.checks.TS_sync_loss ?? 0) + (r.checks.Sync_byte_error ?? 0),
  };
}

/** Where a part of one destination's stream sits in the other's, and how much of it was compared. */
export interface Overlap {
  /** Offset in `whole` (a packet boundary), or -1 when its first packets are not found there. */
  at: number;
  /** Bytes of `part` compared with `whole` (where both have them) and the same. */
  same: number;
  /** Bytes compared that differ: 0 when the two were sent the same bytes. */
  differ: number;
}

/**
 * Finds `part` (one listener's run) in `whole` (the other's file) by its
 * first seven packets, at a packet boundary, and compares the two byte for
 * byte wherever both have the bytes: either may end first (a listener
 * stopped, or killed mid-stream).
 */
export function overlap(whole: Buffer, part: Buffer): Overlap {
  const head = part.subarray(0, Math.min(part.length, 7 * TS_PACKET_SIZE));
  let from = 0;
  for (;;) {
    const at = whole.indexOf(head, from);
    if (at < 0) return { at: -1, same: 0, differ: 0 };
    if (at % TS_PACKET_SIZE === 0) {
      const n = Math.min(part.length, whole.length - at);
      let differ = 0;
      for (let i = 0; i < n; i += TS_PACKET_SIZE) {
        const end = Math.min(n, i + TS_PACKET_SIZE);
        if (!whole.subarray(at + i, at + end).equals(part.subarray(i, end))) differ += end - i;
      }
      return { at, same: n - differ, differ };
    }
    from = at + 1;
  }
}
