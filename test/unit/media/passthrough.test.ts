import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TsPassthroughSource } from '../../../src/media/passthrough.js';
import { CHUNK_BYTES, packetPcr, TsChunker } from '../../../src/media/ts-chunker.js';
import { missingTools, skipWithout } from '../../peers.js';

const noFfmpeg = skipWithout('the TS file passthrough test', missingTools('ffmpeg'));

function packets(n: number, startCc = 0): Buffer {
  const b = Buffer.alloc(n * 188, 0xff);
  for (let i = 0; i < n; i++) {
    b[i * 188] = 0x47;
    b[i * 188 + 1] = 0x01;
    b[i * 188 + 2] = 0x00;
    b[i * 188 + 3] = 0x10 | ((startCc + i) & 0xf);
  }
  return b;
}

describe('TsChunker', () => {
  it('turns arbitrary boundaries into whole 1316-byte payloads', () => {
    const out: Buffer[] = [];
    const c = new TsChunker((b) => out.push(b));
    const data = packets(70);
    for (let off = 0; off < data.length; off += 100) c.push(data.subarray(off, off + 100));
    expect(out).toHaveLength(10);
    expect(out.every((b) => b.length === CHUNK_BYTES && b[0] === 0x47 && b[188] === 0x47)).toBe(true);
    expect(Buffer.concat(out)).toEqual(data);
  });

  it('finds sync again after garbage and counts it', () => {
    const out: Buffer[] = [];
    const c = new TsChunker((b) => out.push(b));
    c.push(Buffer.concat([Buffer.from('garbage!'), packets(14), Buffer.from([0x47, 1, 2]), packets(7)]));
    c.flush();
    // Exactly the 21 whole packets, in three full payloads; the junk before each run is one loss of sync.
    expect(out.map((b) => b.length)).toEqual([CHUNK_BYTES, CHUNK_BYTES, CHUNK_BYTES]);
    expect(Buffer.concat(out)).toEqual(Buffer.concat([packets(14), packets(7)]));
    expect(c.syncLosses).toBe(2);
  });

  it('reads a PCR from an adaptation field', () => {
    const p = Buffer.alloc(188, 0xff);
    p.set([0x47, 0x01, 0x00, 0x20, 183, 0x10]);
    // base = 0x1_0000_0001 (33 bits), ext = 0x123
    const base = 2 ** 32 + 1;
    p[6] = Math.floor(base / 2 ** 25) & 0xff;
    p[7] = Math.floor(base / 2 ** 17) & 0xff;
    p[8] = Math.floor(base / 2 ** 9) & 0xff;
    p[9] = Math.floor(base / 2) & 0xff;
    p[10] = ((base & 1) << 7) | 0x7e | (0x123 >> 8);
    p[11] = 0x123 & 0xff;
    expect(packetPcr(p, 0)).toBe(base * 300 + 0x123);
  });
});

describe('TS passthrough source', () => {
  it('re-chunks TS arriving over UDP', async () => {
    // Find a free port, then listen there as an operator would.
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
    const port = probe.address().port;
    probe.close();
    const live = new TsPassthroughSource(`udp://127.0.0.1:${port}`);
    const got: Buffer[] = [];
    live.on('chunk', (c) => got.push(c));
    await live.start();
    const tx = dgram.createSocket('udp4');
    const data = packets(35);
    for (let off = 0; off < data.length; off += 188 * 5) {
      await new Promise<void>((r) => tx.send(data.subarray(off, off + 188 * 5), port, '127.0.0.1', () => r()));
    }
    const deadline = Date.now() + 3000;
    while (got.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    tx.close();
    live.close();
    expect(Buffer.concat(got)).toEqual(data);
  });

  it.skipIf(noFfmpeg)('plays a TS file paced by its PCR', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fc-pass-'));
    const file = path.join(dir, 'in.ts');
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=320x240:rate=25',
      '-t',
      '2',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-f',
      'mpegts',
      file,
    ]);
    const src = new TsPassthroughSource(file);
    const got: Buffer[] = [];
    const times: number[] = [];
    src.on('chunk', (c) => {
      got.push(c);
      times.push(performance.now());
    });
    const ended = new Promise<void>((r) => src.on('end', () => r()));
    await src.start();
    await ended;
    src.close();
    // The whole file, to its last partial payload.
    expect(Buffer.concat(got)).toEqual(readFileSync(file));
    // Paced, not dumped: the 2 s file takes over a second to play (a bound on behaviour, not speed).
    expect(times.at(-1)! - times[0]!).toBeGreaterThan(1000);
  });

  it('rejects an input it cannot open, with a clear message', async () => {
    await expect(new TsPassthroughSource('/nonexistent/file.ts').start()).rejects.toThrow(/cannot read the TS file/);
    await expect(new TsPassthroughSource('rtmp://x').start()).rejects.toThrow(/not udp/);
  });
});
