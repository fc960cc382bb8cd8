/**
 * The far end of the image tests' streams (test/image/*.test.ts):
 * srt-live-transmit listening on this host (10.0.2.2 from inside qemu's user
 * network), relaying what it receives to a UDP socket here.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { freeUdpPort } from '../../src/lib/udp-ports.js';

/** Started again whenever it ends (a box that went away). */
export class FarEnd {
  readonly chunks: Array<{ at: number; data: Buffer }> = [];
  private listener: ChildProcess | undefined;
  private closed = false;
  private constructor(
    readonly srtPort: number,
    private readonly udpPort: number,
    private readonly sock: Socket,
  ) {
    sock.on('message', (m) => this.chunks.push({ at: Date.now(), data: m }));
    this.listen();
  }

  static async start(): Promise<FarEnd> {
    const [srtPort, udpPort] = [await freeUdpPort(), await freeUdpPort()];
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(udpPort, '127.0.0.1', () => r()));
    return new FarEnd(srtPort, udpPort, sock);
  }

  private listen(): void {
    if (this.closed) return;
    this.listener = spawn(
      'srt-live-transmit',
      ['-q', '-c', '1316', `srt://:${this.srtPort}?mode=listener&latency=1000`, `udp://127.0.0.1:${this.udpPort}`],
      { stdio: 'ignore' },
    );
    this.listener.once('exit', () => setTimeout(() => this.listen(), 200));
  }

  /** The bytes received since `since` (ms of Date.now()). */
  since(since: number): Buffer {
    return Buffer.concat(this.chunks.filter((c) => c.at >= since).map((c) => c.data));
  }

  close(): void {
    this.closed = true;
    this.listener?.kill('SIGKILL');
    this.sock.close();
  }
}
