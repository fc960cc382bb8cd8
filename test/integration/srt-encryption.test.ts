/**
 * The key length SRT actually negotiates, read on the wire at the listener's
 * side. A UDP relay between Fieldcast's caller and an srt-live-transmit
 * listener (given only the passphrase, so the key length is the caller's
 * choice) parses the handshake: the caller's conclusion request carries a
 * KMREQ extension, the listener's conclusion response a KMRSP — the keying
 * material the listener installed. Its KLen field is the key length in
 * 4-byte words (haicrypt hcrypt_msg.h; draft-sharabayko-srt §3.2.2), so
 * AES-256 reads 8 (32 bytes) and AES-128 reads 4 (16 bytes). The data that
 * follows must be unreadable on the wire and decrypt, whole, at the listener.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nativeAvailable } from '../../src/native/index.js';
import { SrtOutput } from '../../src/srt/index.js';
import { missingTools, skipWithout } from '../peers.js';
import { Children, freeUdpPort, makeTestTs, pacedSend, probe, stderrOf, TempDir, udpPortBound, waitUntil } from './srt-helpers.js';

const skip = skipWithout('SRT encryption on the wire', [
  ...missingTools('srt-live-transmit', 'ffmpeg', 'ffprobe'),
  ...(nativeAvailable() ? [] : ['the native addon (npm run build:native)']),
]);

const CLI = path.resolve(import.meta.dirname, '../../bin/fieldcast.js');
const PASS = 'fieldcast-test-passphrase-256';
const TS_PACKET = 188;

// SRT handshake (draft-sharabayko-srt §3.2.1): a control packet of type 0, a 48-byte CIF, then extensions.
const SRT_HEADER = 16;
const HS_CIF_LEN = 48;
const HS_CONCLUSION = 0xffff_ffff;
const EXT_KMREQ = 3;
const EXT_KMRSP = 4;
// Keying material (hcrypt_msg.h): version 1, packet type 2, sign 'HAI' = 0x2029.
const KM_SIGN = 0x2029;
const KM_PT = 2;
const KM_CIPHER_AES_CTR = 2;

interface KeyMaterial {
  version: number;
  packetType: number;
  sign: number;
  /** Which keys it carries: 1 even, 2 odd, 3 both. */
  keys: number;
  cipher: number;
  saltBytes: number;
  keyBytes: number;
  wrappedBytes: number;
}

interface Handshake {
  from: 'caller' | 'listener';
  type: number;
  /** Advertised cipher: 0 none, 2/3/4 AES-128/192/256 (the key length / 8). */
  encryption: number;
  extensions: Map<number, Buffer>;
}

function parseHandshake(pkt: Buffer, from: Handshake['from']): Handshake | undefined {
  if (pkt.length < SRT_HEADER + HS_CIF_LEN || (pkt[0]! & 0x80) === 0 || (pkt.readUInt16BE(0) & 0x7fff) !== 0) return undefined;
  const cif = pkt.subarray(SRT_HEADER);
  const extensions = new Map<number, Buffer>();
  for (let off = HS_CIF_LEN; off + 4 <= cif.length; ) {
    const type = cif.readUInt16BE(off);
    const bytes = cif.readUInt16BE(off + 2) * 4;
    extensions.set(type, cif.subarray(off + 4, off + 4 + bytes));
    off += 4 + bytes;
  }
  return { from, type: cif.readUInt32BE(20), encryption: cif.readUInt16BE(4), extensions };
}

/** A KM message as it crosses the wire in KMREQ/KMRSP; undefined for a bare error word (a KMRSP that refuses). */
function parseKeyMaterial(b: Buffer | undefined): KeyMaterial | undefined {
  if (!b || b.length < 16) return undefined;
  const saltBytes = b[14]! * 4;
  return {
    version: (b[0]! >> 4) & 0x7,
    packetType: b[0]! & 0xf,
    sign: b.readUInt16BE(1),
    keys: b[3]! & 0x3,
    cipher: b[8]!,
    saltBytes,
    keyBytes: b[15]! * 4,
    wrappedBytes: b.length - 16 - saltBytes,
  };
}

/**
 * A UDP relay on loopback between one SRT caller and a listener, recording
 * the handshakes both ways and how the caller's data packets look: the KK
 * flags (which key encrypted them, 0 = clear) and whether the payload reads
 * as MPEG-TS (a sync byte at every 188-byte boundary).
 */
class HandshakeRelay {
  readonly handshakes: Handshake[] = [];
  dataPackets = 0;
  clearPackets = 0;
  readableTs = 0;
  private readonly front = dgram.createSocket('udp4');
  private readonly back = dgram.createSocket('udp4');
  private caller: dgram.RemoteInfo | undefined;

  async start(listenerPort: number): Promise<number> {
    await new Promise<void>((r) => this.front.bind(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => this.back.bind(0, '127.0.0.1', () => r()));
    this.front.on('message', (m, r) => {
      this.caller = r;
      this.inspect(m);
      this.back.send(m, listenerPort, '127.0.0.1');
    });
    this.back.on('message', (m) => {
      const hs = parseHandshake(m, 'listener');
      if (hs) this.handshakes.push(hs);
      if (this.caller) this.front.send(m, this.caller.port, this.caller.address);
    });
    return this.front.address().port;
  }

  /** The caller's conclusion request and the listener's conclusion response. */
  conclusion(from: Handshake['from']): Handshake | undefined {
    return this.handshakes.find((h) => h.from === from && h.type === HS_CONCLUSION);
  }

  close(): void {
    this.front.close();
    this.back.close();
  }

  private inspect(m: Buffer): void {
    const hs = parseHandshake(m, 'caller');
    if (hs) this.handshakes.push(hs);
    if (m.length <= SRT_HEADER || (m[0]! & 0x80) !== 0) return;
    this.dataPackets++;
    // Word 1 of a data packet: PP(2) O(1) KK(2) R(1) message number (draft-sharabayko-srt §3.1).
    if (((m[4]! >> 3) & 0x3) === 0) this.clearPackets++;
    const payload = m.subarray(SRT_HEADER);
    let ts = payload.length >= TS_PACKET;
    for (let off = 0; ts && off < payload.length; off += TS_PACKET) ts = payload[off] === 0x47;
    if (ts) this.readableTs++;
  }
}

describe.skipIf(skip)('SRT encryption as negotiated on the wire', () => {
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

  /** srt-live-transmit listening with the passphrase only, writing what it decrypts to `out`; a relay in front. */
  async function listenerBehindRelay(out: string): Promise<{ relay: HandshakeRelay; port: number; stop: () => Promise<void> }> {
    const port = await freeUdpPort();
    const slt = children.srtLiveTransmit([`srt://:${port}?mode=listener&latency=200&passphrase=${PASS}`, 'file://con'], out);
    await waitUntil('srt-live-transmit to listen', () => udpPortBound(port) || slt.exitCode !== null, 10_000);
    expect(slt.exitCode, stderrOf(slt)).toBeNull();
    const relay = new HandshakeRelay();
    closers.push(() => relay.close());
    return { relay, port: await relay.start(port), stop: () => children.stop(slt) };
  }

  /** Streams `data` through SrtOutput with this key length; the relay's view, and what the listener wrote. */
  async function streamWithKeyLength(pbkeylen: 16 | 32, data: Buffer): Promise<{ relay: HandshakeRelay; received: Buffer }> {
    const out = dir.file(`received-${pbkeylen}.ts`);
    const { relay, port, stop } = await listenerBehindRelay(out);
    const output = new SrtOutput(`srt://127.0.0.1:${port}?latency=200&passphrase=${PASS}&pbkeylen=${pbkeylen}`);
    closers.push(() => output.close());
    output.start();
    await output.next('connected');
    await pacedSend(data, ts.bitsPerSecond, (c) => output.send(c));
    await output.end(2000);
    await stop();
    return { relay, received: readFileSync(out) };
  }

  function expectKeyLength(relay: HandshakeRelay, bytes: number): void {
    const request = relay.conclusion('caller');
    const response = relay.conclusion('listener');
    expect(request, 'the caller sent no conclusion handshake').toBeDefined();
    expect(response, 'the listener sent no conclusion handshake').toBeDefined();
    expect(request!.encryption).toBe(bytes / 8);
    const asked = parseKeyMaterial(request!.extensions.get(EXT_KMREQ));
    const installed = parseKeyMaterial(response!.extensions.get(EXT_KMRSP));
    expect(asked?.keyBytes).toBe(bytes);
    // The listener's own answer: keying material, not a bare error word, for a key of this length.
    expect(installed).toMatchObject({
      version: 1,
      packetType: KM_PT,
      sign: KM_SIGN,
      cipher: KM_CIPHER_AES_CTR,
      saltBytes: 16,
      keyBytes: bytes,
    });
    // AES key wrap (RFC 3394): 8 bytes of integrity check, then each key carried.
    expect(installed!.wrappedBytes).toBe(8 + bytes * (installed!.keys === 3 ? 2 : 1));
  }

  it('pbkeylen=32: the listener installs a 32-byte key (KMRSP KLen 8), the data is unreadable on the wire and decrypts whole', async () => {
    const { relay, received } = await streamWithKeyLength(32, ts.bytes);
    expectKeyLength(relay, 32);
    expect(relay.dataPackets).toBeGreaterThanOrEqual(Math.floor(ts.bytes.length / 1316));
    expect(relay.clearPackets).toBe(0);
    expect(relay.readableTs).toBe(0);
    expect(received.equals(ts.bytes)).toBe(true);
    const p = probe(dir.file('received-32.ts'));
    expect(p.codecs).toEqual(['aac', 'h264']);
    expect(p.videoFrames).toBe(75);
  });

  it('pbkeylen=16 reads as a 16-byte key (KMRSP KLen 4): the same check tells the key lengths apart', async () => {
    const part = ts.bytes.subarray(0, 1316 * 100);
    const { relay, received } = await streamWithKeyLength(16, part);
    expectKeyLength(relay, 16);
    expect(relay.clearPackets).toBe(0);
    expect(received.equals(part)).toBe(true);
  });

  /** `fieldcast send --input` the test TS to `--to` with the passphrase in a file; the relay's view. */
  async function sendCli(query: string): Promise<HandshakeRelay> {
    const out = dir.file(`received-send-${query.length}.ts`);
    const { relay, port, stop } = await listenerBehindRelay(out);
    const keyFile = dir.file('srt.key');
    writeFileSync(keyFile, `${PASS}\n`, { mode: 0o600 });
    const args = ['send', '--input', dir.file('source.ts'), '--to', `srt://127.0.0.1:${port}?${query}`, '--passphrase-file', keyFile];
    const send = children.track(
      spawn(process.execPath, [CLI, ...args, '--seconds', '3'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, FIELDCAST_LOG: 'warn' },
      }),
    );
    let text = '';
    send.stdout?.on('data', (d: Buffer) => {
      text += d.toString();
    });
    const code = await new Promise<number | null>((r) => send.once('exit', (c) => r(c)));
    expect(code, `${text}${stderrOf(send)}`).toBe(0);
    await stop();
    const p = probe(out);
    expect(p.codecs).toEqual(['aac', 'h264']);
    expect(p.videoFrames).toBeGreaterThan(0);
    return relay;
  }

  it('fieldcast send --to …?latency=2000&pbkeylen=32 --passphrase-file, as README "Going live" shows, negotiates a 32-byte key', async () => {
    const relay = await sendCli('latency=2000&pbkeylen=32');
    expectKeyLength(relay, 32);
    expect(relay.clearPackets).toBe(0);
    expect(relay.readableTs).toBe(0);
  });

  it('fieldcast send --passphrase-file with no pbkeylen in --to negotiates a 32-byte key: AES-256 is the default', async () => {
    const relay = await sendCli('latency=200');
    expectKeyLength(relay, 32);
    expect(relay.clearPackets).toBe(0);
    expect(relay.readableTs).toBe(0);
  });
});
