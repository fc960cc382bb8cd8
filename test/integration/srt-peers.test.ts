// SRT against real peers on loopback: srt-live-transmit and ffmpeg as
// listeners, srt-live-transmit as caller, ffprobe to decode what arrived.
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LogRecord, setLogSink } from '../../src/lib/logger.js';
import { nativeAvailable } from '../../src/native/index.js';
import { SrtAuthFailedError, SrtConnection, type SrtError, SrtOutput, type SrtStats } from '../../src/srt/index.js';
import { missingTools, skipWithout } from '../peers.js';
import {
  Children,
  freeUdpPort,
  hasIpv6Loopback,
  makeTestTs,
  nullPackets,
  pacedSend,
  probe,
  sleep,
  sprayGarbage,
  stderrOf,
  TempDir,
  udpPortBound,
  waitUntil,
} from './srt-helpers.js';

const skip = skipWithout('the SRT integration tests', [
  ...missingTools('srt-live-transmit', 'ffmpeg', 'ffprobe'),
  ...(nativeAvailable() ? [] : ['the native addon (npm run build:native)']),
]);
const skipV6 = skipWithout('the IPv6 SRT test', hasIpv6Loopback() ? [] : ['a ::1 loopback address']);

const PASS = 'fieldcast-test-passphrase-256';

describe.skipIf(skip)('SRT with real peers', () => {
  let dir: TempDir;
  let ts: { bytes: Buffer; bitsPerSecond: number };
  const children = new Children();
  const closers: (() => void)[] = [];

  beforeAll(() => {
    dir = new TempDir();
    ts = makeTestTs(dir.file('source.ts'), 3);
  });
  afterAll(() => dir?.remove());
  afterEach(async () => {
    for (const c of closers.splice(0)) c();
    await children.killAll();
  });

  async function sltListener(port: number, query: string, out: string) {
    const child = children.srtLiveTransmit([`srt://:${port}?mode=listener${query}`, 'file://con'], out);
    await waitUntil('srt-live-transmit to listen', () => udpPortBound(port) || child.exitCode !== null, 10_000);
    expect(child.exitCode, stderrOf(child)).toBeNull();
    return child;
  }

  it('srt-live-transmit (AES-256 listener) receives our paced TS byte for byte, and ffprobe decodes it', async () => {
    const records: LogRecord[] = [];
    setLogSink((r) => records.push(r));
    closers.push(() => setLogSink(undefined));
    const port = await freeUdpPort();
    const out = dir.file('received-slt.ts');
    const slt = await sltListener(port, `&passphrase=${PASS}&pbkeylen=32`, out);

    const output = new SrtOutput(`srt://127.0.0.1:${port}?latency=200&passphrase=${PASS}&pbkeylen=32`);
    closers.push(() => output.close());
    const stats: SrtStats[] = [];
    output.on('stats', (s) => stats.push(s));
    output.start();
    await output.next('connected');
    await pacedSend(ts.bytes, ts.bitsPerSecond, (c) => output.send(c));
    await output.end(2000);
    await children.stop(slt);

    const received = readFileSync(out);
    expect(received.length).toBe(ts.bytes.length);
    expect(received.equals(ts.bytes)).toBe(true);
    const p = probe(out);
    expect(p.codecs).toEqual(['aac', 'h264']);
    expect(p.videoFrames).toBe(75);

    // Statistics: at least 10 a second while streaming (3 s here), with the fields the ABR reads.
    expect(stats.length).toBeGreaterThanOrEqual(25);
    const last = stats[stats.length - 1] as SrtStats;
    expect(last.pktSentUniqueTotal).toBeGreaterThanOrEqual(Math.floor(ts.bytes.length / 1316));
    // Loopback: measured, and small.
    expect(last.msRTT).toBeGreaterThan(0);
    expect(last.msRTT).toBeLessThan(100);
    for (const k of [
      'mbpsBandwidth',
      'mbpsSendRate',
      'byteAvailSndBuf',
      'msSndBuf',
      'pktSndLossTotal',
      'pktRetransTotal',
      'pktSndDropTotal',
    ] as const) {
      expect(typeof last[k]).toBe('number');
    }
    expect(output.counters.droppedPackets).toBe(0);
    // The passphrase reached neither a log line nor the process title.
    expect(JSON.stringify(records)).not.toContain(PASS);
    expect(process.title).not.toContain(PASS);
  });

  it('ffmpeg as an SRT listener (latency in µs there) receives a decodable stream', async () => {
    const port = await freeUdpPort();
    const out = dir.file('received-ffmpeg.ts');
    const ff = children.ffmpeg(['-i', `srt://127.0.0.1:${port}?mode=listener&latency=200000`, '-c', 'copy', '-f', 'mpegts', out]);
    await waitUntil('ffmpeg to listen', () => udpPortBound(port) || ff.exitCode !== null, 20_000);
    const conn = new SrtConnection(`srt://127.0.0.1:${port}?latency=200`);
    closers.push(() => conn.close());
    conn.start();
    const [info] = await conn.next('connected');
    expect(info.peer).toBe(`127.0.0.1:${port}`);
    await pacedSend(ts.bytes, ts.bitsPerSecond, (c) => conn.send(c));
    await conn.end(2000);
    await waitUntil('ffmpeg to finish', () => ff.exitCode !== null, 10_000);
    expect(ff.exitCode, stderrOf(ff)).toBe(0);
    const p = probe(out);
    expect(p.codecs).toEqual(['aac', 'h264']);
    expect(p.videoFrames).toBeGreaterThanOrEqual(70);
  });

  it('a wrong passphrase fails fast with SRT_AUTH_FAILED and asks the operator', async () => {
    const port = await freeUdpPort();
    await sltListener(port, `&passphrase=${PASS}&pbkeylen=32`, dir.file('never.ts'));
    // A long connect timeout: the failure must come from the passphrase, not the clock.
    const output = new SrtOutput(`srt://127.0.0.1:${port}?passphrase=not-the-right-one&conntimeo=8000`);
    closers.push(() => output.close());
    const start = Date.now();
    output.start();
    const [err, retryInMs] = await output.next('failed');
    expect(err).toBeInstanceOf(SrtAuthFailedError);
    expect(err.code).toBe('SRT_AUTH_FAILED');
    expect(err.message).toMatch(/rejected the passphrase/);
    expect(err.message).not.toContain('not-the-right-one');
    expect(Date.now() - start).toBeLessThan(8000);
    expect(output.needsOperator).toBe(true);
    expect(retryInMs).toBeGreaterThanOrEqual(30_000);
    expect(output.state).toBe('waiting');
  });

  it('no passphrase against an encrypted listener is SRT_ENCRYPTION_MISMATCH', async () => {
    const port = await freeUdpPort();
    await sltListener(port, `&passphrase=${PASS}`, dir.file('never2.ts'));
    const conn = new SrtConnection(`srt://127.0.0.1:${port}?conntimeo=8000`);
    closers.push(() => conn.close());
    conn.start();
    const [err] = await conn.next('failed');
    expect(err.code).toBe('SRT_ENCRYPTION_MISMATCH');
    expect(err.message).toMatch(/requires a passphrase/);
  });

  it('the listener stopped and restarted mid-stream: the output reconnects by itself within 2 s of its return', async () => {
    const port = await freeUdpPort();
    const first = await sltListener(port, `&passphrase=${PASS}&pbkeylen=32`, dir.file('before.ts'));
    const output = new SrtOutput(`srt://127.0.0.1:${port}?latency=200&passphrase=${PASS}&pbkeylen=32`);
    closers.push(() => output.close());
    const events: string[] = [];
    const disconnects: SrtError[] = [];
    output.on('connected', () => events.push('connected'));
    output.on('disconnected', (e) => disconnects.push(e));
    output.start();
    await output.next('connected');
    const stop = new AbortController();
    closers.push(() => stop.abort());
    const sending = pacedSend(ts.bytes, ts.bitsPerSecond, (c) => output.send(c), { loop: true, signal: stop.signal });
    await sleep(1000);

    await children.stop(first, 'SIGTERM');
    await waitUntil('the output to notice', () => disconnects.length > 0, 8000);
    expect(disconnects[0]?.code).toBe('SRT_PEER_CLOSED');
    await sleep(1000); // the pipeline keeps sending into nothing meanwhile
    // A second or more of stream went into nothing, and was counted, not queued.
    const droppedWhileDown = output.counters.droppedPackets;
    expect(droppedWhileDown).toBeGreaterThan(ts.bitsPerSecond / 8 / 1316 / 2);

    const after = dir.file('after.ts');
    await sltListener(port, `&passphrase=${PASS}&pbkeylen=32`, after);
    const back = Date.now();
    await output.next('connected');
    expect(Date.now() - back).toBeLessThan(2000);
    expect(events).toEqual(['connected', 'connected']);
    expect(output.counters.connects).toBe(2);
    await sleep(1000);
    stop.abort();
    await sending;
    await output.end(1000);
    expect(readFileSync(after).length).toBeGreaterThan(10 * 1316);
  });

  it('a listener killed outright (no goodbye) is noticed by the idle timeout and reconnected', async () => {
    const port = await freeUdpPort();
    const first = await sltListener(port, '', dir.file('killed.ts'));
    const output = new SrtOutput(`srt://127.0.0.1:${port}?latency=200&peeridletimeo=1500`);
    closers.push(() => output.close());
    output.start();
    await output.next('connected');
    const stop = new AbortController();
    closers.push(() => stop.abort());
    void pacedSend(ts.bytes, ts.bitsPerSecond, (c) => output.send(c), { loop: true, signal: stop.signal });
    await sleep(500);
    await children.stop(first, 'SIGKILL');
    const [err] = await output.next('disconnected');
    expect(err.code).toBe('SRT_CONNECTION_LOST');
    await sltListener(port, '', dir.file('killed-after.ts'));
    const back = Date.now();
    await output.next('connected');
    expect(Date.now() - back).toBeLessThan(2000);
  });

  it("Fieldcast's listener receives from srt-live-transmit as caller, unharmed by garbage datagrams at its port", async () => {
    const rx = new SrtConnection('srt://127.0.0.1:0?mode=listener&latency=200', { role: 'receive' });
    closers.push(() => rx.close());
    const chunks: Buffer[] = [];
    const disconnects: SrtError[] = [];
    rx.on('data', (d) => chunks.push(d));
    rx.on('disconnected', (e) => disconnects.push(e));
    rx.start();
    const [port] = await rx.next('listening');

    const slt = children.srtLiveTransmit(['file://con', `srt://127.0.0.1:${port}?mode=caller&latency=200`]);
    const [info] = await rx.next('connected');
    expect(info.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    const stdin = slt.stdin;
    if (!stdin) throw new Error('no stdin');
    // srt-live-transmit reads stdin in whole 1316-byte chunks and drops what it
    // reads before its own side has finished the handshake: feed it whole
    // chunks, a moment after the connection is up.
    const whole = ts.bytes.subarray(0, ts.bytes.length - (ts.bytes.length % 1316));
    await sleep(300);
    const garbage = (async () => {
      await sleep(500);
      await sprayGarbage('127.0.0.1', port, 300);
    })();
    await pacedSend(whole, ts.bitsPerSecond, (c) => stdin.write(c));
    // srt-live-transmit holds its last few reads until more come: push them out with TS null packets.
    await pacedSend(nullPackets(20 * 7), ts.bitsPerSecond, (c) => stdin.write(c));
    await garbage;
    const total = (): number => chunks.reduce((n, c) => n + c.length, 0);
    await waitUntil('everything to arrive', () => total() >= whole.length, 5000);
    expect(disconnects).toEqual([]);
    const gone = rx.next('disconnected');
    stdin.end(); // srt-live-transmit does not end at EOF, but then SIGTERM closes it gracefully
    await children.stop(slt);
    const [err] = await gone;
    expect(err.code).toBe('SRT_PEER_CLOSED');
    const received = Buffer.concat(chunks);
    expect(received.subarray(0, whole.length).equals(whole)).toBe(true);
    expect(rx.state).toBe('listening');
  });

  it('garbage datagrams at srt-live-transmit while we send do not disturb the stream', async () => {
    const port = await freeUdpPort();
    const out = dir.file('garbage-slt.ts');
    const slt = await sltListener(port, '', out);
    const output = new SrtOutput(`srt://127.0.0.1:${port}?latency=200`);
    closers.push(() => output.close());
    const disconnects: SrtError[] = [];
    output.on('disconnected', (e) => disconnects.push(e));
    output.start();
    await output.next('connected');
    const garbage = (async () => {
      await sleep(500);
      await sprayGarbage('127.0.0.1', port, 300);
    })();
    await pacedSend(ts.bytes, ts.bitsPerSecond, (c) => output.send(c));
    await garbage;
    expect(disconnects).toEqual([]);
    await output.end(2000);
    await children.stop(slt);
    expect(readFileSync(out).equals(ts.bytes)).toBe(true);
  });

  it.skipIf(skipV6)('works over IPv6: srt-live-transmit calls our listener on [::1]', async () => {
    const rx = new SrtConnection('srt://[::1]:0?mode=listener', { role: 'receive' });
    closers.push(() => rx.close());
    const chunks: Buffer[] = [];
    rx.on('data', (d) => chunks.push(d));
    rx.start();
    const [port] = await rx.next('listening');
    const slt = children.srtLiveTransmit(['file://con', `srt://[::1]:${port}?mode=caller`]);
    const [info] = await rx.next('connected');
    expect(info.peer).toMatch(/^\[::1\]:\d+$/);
    const part = ts.bytes.subarray(0, 1316 * 150);
    await sleep(300); // see above: srt-live-transmit drops what it reads before its handshake ends
    await pacedSend(part, ts.bitsPerSecond, (c) => slt.stdin?.write(c));
    await pacedSend(nullPackets(20 * 7), ts.bitsPerSecond, (c) => slt.stdin?.write(c));
    await waitUntil('everything to arrive', () => Buffer.concat(chunks).length >= part.length, 5000);
    expect(Buffer.concat(chunks).subarray(0, part.length).equals(part)).toBe(true);
  });
});
