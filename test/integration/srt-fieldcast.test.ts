// SRT between Fieldcast's own sockets on loopback: what a real peer cannot
// easily show (one peer at a time, queue policy, timeouts, rendezvous).
import { afterEach, describe, expect, it } from 'vitest';
import { nativeAvailable } from '../../src/native/index.js';
import { SrtConnection, SrtOutput, SrtUrlInvalidError } from '../../src/srt/index.js';
import { skipWithout } from '../peers.js';
import { freeUdpPort, sleep, waitUntil } from './srt-helpers.js';

const skip = skipWithout('the Fieldcast SRT socket tests', nativeAvailable() ? [] : ['the native addon (npm run build:native)']);

describe.skipIf(skip)('SRT between Fieldcast sockets', () => {
  const closers: (() => void)[] = [];
  afterEach(() => {
    for (const c of closers.splice(0)) c();
  });
  function track<T extends { close(): void }>(x: T): T {
    closers.push(() => x.close());
    return x;
  }

  async function listener(query = '', acceptStreamIds?: string[]): Promise<{ rx: SrtConnection; port: number; chunks: Buffer[] }> {
    const rx = track(new SrtConnection(`srt://127.0.0.1:0?mode=listener${query}`, { role: 'receive', acceptStreamIds }));
    const chunks: Buffer[] = [];
    rx.on('data', (d) => chunks.push(d));
    rx.start();
    const [port] = await rx.next('listening');
    return { rx, port, chunks };
  }

  it('a listener serves one peer at a time and tells a second sender it is busy', async () => {
    const { rx, port } = await listener();
    const a = track(new SrtConnection(`srt://127.0.0.1:${port}?streamid=cam-a`));
    a.start();
    const [info] = await rx.next('connected');
    expect(info.streamId).toBe('cam-a');
    const b = track(new SrtConnection(`srt://127.0.0.1:${port}?conntimeo=5000`));
    b.start();
    const [err] = await b.next('failed');
    expect(err.code).toBe('SRT_LISTENER_BUSY');
    a.close();
    const [gone] = await rx.next('disconnected');
    expect(gone.code).toBe('SRT_PEER_CLOSED');
    // ...and takes the next one once the first has left.
    const c = track(new SrtConnection(`srt://127.0.0.1:${port}`));
    c.start();
    await c.next('connected');
  });

  it('a listener that expects certain stream ids refuses others: the caller gets SRT_STREAMID_REJECTED', async () => {
    const { rx, port } = await listener('', ['#!::r=cam1,m=publish']);
    const wrong = track(new SrtOutput(`srt://127.0.0.1:${port}?streamid=%23!::r=cam2,m=publish&conntimeo=5000`));
    wrong.start();
    const [err, retryInMs] = await wrong.next('failed');
    expect(err.code).toBe('SRT_STREAMID_REJECTED');
    expect(err.message).toMatch(/stream id/);
    expect(wrong.needsOperator).toBe(true);
    expect(retryInMs).toBeGreaterThanOrEqual(30_000);
    const right = track(new SrtConnection(`srt://127.0.0.1:${port}?streamid=%23!::r=cam1,m=publish`));
    const both = Promise.all([right.next('connected'), rx.next('connected')]);
    right.start();
    const [, [info]] = await both;
    expect(info.streamId).toBe('#!::r=cam1,m=publish');
    expect(() => new SrtConnection('srt://127.0.0.1:1', { acceptStreamIds: ['x'] })).toThrow(/listener only/);
  });

  it("carries a stream encrypted with an 80-character passphrase (libsrt's longest), and refuses one that differs in its 80th", async () => {
    const pass = `${'k'.repeat(79)}A`;
    const { rx, port, chunks } = await listener(`&passphrase=${pass}&pbkeylen=32`);
    const wrong = track(new SrtConnection(`srt://127.0.0.1:${port}?passphrase=${'k'.repeat(79)}B&pbkeylen=32&conntimeo=3000`));
    wrong.start();
    const [err] = await wrong.next('failed');
    expect(err.code).toBe('SRT_AUTH_FAILED');
    const tx = track(new SrtConnection(`srt://127.0.0.1:${port}?passphrase=${pass}&pbkeylen=32`));
    const both = Promise.all([tx.next('connected'), rx.next('connected')]);
    tx.start();
    await both;
    const data = Buffer.alloc(1316 * 3).map((_, i) => (i * 13) & 0xff);
    tx.send(data);
    await waitUntil('the encrypted data', () => Buffer.concat(chunks).length >= data.length);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });

  it('a full send queue drops the oldest messages, counts them, and never blocks', async () => {
    const { rx, port, chunks } = await listener();
    const tx = track(new SrtConnection(`srt://127.0.0.1:${port}`, { sendQueuePackets: 4 }));
    const both = Promise.all([tx.next('connected'), rx.next('connected')]);
    tx.start();
    await both;
    // One call of 1000 messages, numbered in their first byte pair: the queue keeps the newest 4.
    const burst = Buffer.alloc(1316 * 1000);
    for (let i = 0; i < 1000; i++) burst.writeUInt16BE(i, i * 1316);
    tx.send(burst);
    tx.flush(); // what send stages goes to the native queue at the end of the turn, or now
    expect(tx.droppedPackets).toBe(996);
    await waitUntil('the newest messages to arrive', () => Buffer.concat(chunks).length >= 4 * 1316);
    const got = Buffer.concat(chunks);
    expect([0, 1, 2, 3].map((i) => got.readUInt16BE(i * 1316))).toEqual([996, 997, 998, 999]);
    const [stats] = await tx.next('stats');
    expect(stats.queueDroppedPackets).toBe(996);
    expect(Buffer.concat(chunks).length).toBe(4 * 1316);
  });

  it('coalesces small writes into whole 1316-byte messages, in order', async () => {
    const { rx, port, chunks } = await listener();
    const tx = track(new SrtConnection(`srt://127.0.0.1:${port}`));
    const both = Promise.all([tx.next('connected'), rx.next('connected')]);
    tx.start();
    await both;
    const data = Buffer.alloc(188 * 100).map((_, i) => (i * 7) & 0xff);
    for (let off = 0; off < data.length; off += 188) tx.send(data.subarray(off, off + 188));
    await waitUntil('all data', () => Buffer.concat(chunks).length >= data.length);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    const [s] = await tx.next('stats');
    // 100 TS packets = 14 full messages of 7 plus one of 2: not 100 tiny ones.
    expect(s.pktSentUniqueTotal).toBe(15);
  });

  it('a caller with nobody listening fails with SRT_CONNECT_TIMEOUT; SrtOutput retries soon and counts what it drops', async () => {
    const port = await freeUdpPort();
    const conn = track(new SrtConnection(`srt://127.0.0.1:${port}?conntimeo=300`));
    conn.start();
    const [err] = await conn.next('failed');
    expect(err.code).toBe('SRT_CONNECT_TIMEOUT');
    expect(err.message).toContain(`127.0.0.1:${port}`);
    await conn.next('closed');
    expect(conn.state).toBe('closed');

    const out = track(new SrtOutput(`srt://127.0.0.1:${port}?conntimeo=300`));
    out.start();
    for (let i = 0; i < 10; i++) out.send(Buffer.alloc(1316));
    expect(out.counters.droppedPackets).toBe(10);
    const [e1, retry] = await out.next('failed');
    expect(e1.code).toBe('SRT_CONNECT_TIMEOUT');
    expect(out.needsOperator).toBe(false);
    expect(retry).toBeLessThanOrEqual(1200);
    const [attempt] = await out.next('connecting');
    expect(attempt).toBe(2);
    // The listener comes up: the output connects on its own.
    const rx = track(new SrtConnection(`srt://127.0.0.1:${port}?mode=listener`, { role: 'receive' }));
    rx.start();
    await out.next('connected');
    expect(out.lastError).toBeUndefined();
  });

  it('rendezvous: two sides each naming the other connect and carry data', async () => {
    const pa = await freeUdpPort();
    const pb = await freeUdpPort();
    const a = track(new SrtConnection(`srt://127.0.0.1:${pb}?mode=rendezvous&port=${pa}`));
    const b = track(new SrtConnection(`srt://127.0.0.1:${pa}?mode=rendezvous&port=${pb}`, { role: 'receive' }));
    const chunks: Buffer[] = [];
    b.on('data', (d) => chunks.push(d));
    const both = Promise.all([a.next('connected'), b.next('connected')]);
    a.start();
    b.start();
    await both;
    const data = Buffer.alloc(1316 * 5, 0x47);
    a.send(data);
    await waitUntil('rendezvous data', () => Buffer.concat(chunks).length >= data.length);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });

  it('close is idempotent, works before start, and ends with one closed event', async () => {
    const never = new SrtConnection('srt://127.0.0.1:9?conntimeo=1000');
    let closed = 0;
    never.on('closed', () => closed++);
    never.close();
    never.close();
    await sleep(10);
    expect(closed).toBe(1);
    const { rx } = await listener();
    let rxClosed = 0;
    rx.on('closed', () => rxClosed++);
    rx.close();
    rx.close();
    await sleep(50);
    expect(rxClosed).toBe(1);
    expect(rx.state).toBe('closed');
  });

  it('bad URLs and options are refused before anything opens', () => {
    expect(() => new SrtConnection('srt://127.0.0.1:1?latency=fast')).toThrow(SrtUrlInvalidError);
    expect(() => new SrtConnection('srt://127.0.0.1:1', { statsIntervalMs: 5 })).toThrow(/statsIntervalMs/);
    expect(() => new SrtOutput('srt://127.0.0.1:1', { retryMaxMs: -1 })).toThrow(/retryMaxMs/);
    expect(() => new SrtOutput('http://127.0.0.1:1')).toThrow(SrtUrlInvalidError);
  });

  it('a port already taken is SRT_BIND_FAILED', async () => {
    const { port } = await listener();
    const second = track(new SrtConnection(`srt://127.0.0.1:${port}?mode=listener`, { role: 'receive' }));
    second.start();
    const [err] = await second.next('failed');
    expect(err.code).toBe('SRT_BIND_FAILED');
  });
});
