/**
 * A real SRT session through `BondReceiver`: srt-live-transmit (caller) ->
 * a minimal SRTLA client written here on protocol.ts (two links) ->
 * the receiver -> srt-live-transmit (listener) -> stdout. The handshake,
 * ACKs and NAKs all cross the receiver's group.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeReg1, encodeReg2, isSrtla, SRTLA_TYPE } from '../../src/bond/protocol.js';
import { BondReceiver } from '../../src/bond/receiver.js';
import { missingTools, skipWithout } from '../peers.js';

const skip = skipWithout('receiver with a real SRT session', missingTools('srt-live-transmit'));

const children: ChildProcess[] = [];
const sockets: dgram.Socket[] = [];
let receiver: BondReceiver | undefined;
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const s of sockets) s.close();
  receiver?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function bound(host = '127.0.0.1', port = 0): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((res) => s.bind(port, host, () => res()));
  sockets.push(s);
  return s;
}

async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
  const p = s.address().port;
  s.close();
  return p;
}

function nextMessage(s: dgram.Socket, type: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const on = (m: Buffer) => {
      if (m.length >= 2 && m.readUInt16BE(0) === type) {
        s.off('message', on);
        resolve(m);
      }
    };
    s.on('message', on);
  });
}

describe.skipIf(skip)('receiver with a real SRT session', () => {
  it('carries an SRT stream from srt-live-transmit to srt-live-transmit over two SRTLA links', async () => {
    const listenPort = await freePort();
    const listener = spawn('srt-live-transmit', ['-q', '-a', 'no', `srt://:${listenPort}?mode=listener&latency=300`, 'file://con']);
    children.push(listener);
    let received = 0;
    listener.stdout.on('data', (d: Buffer) => {
      received += d.length;
    });

    receiver = new BondReceiver({ listen: '127.0.0.1:0', forward: `srt://127.0.0.1:${listenPort}`, reorderMs: 40 });
    await receiver.start();

    // The SRTLA client: the SRT caller talks to `local`; two links talk to the receiver.
    const local = await bound();
    const links = [await bound(), await bound()];
    const reg2 = nextMessage(links[0]!, SRTLA_TYPE.REG2);
    links[0]!.send(encodeReg1(randomBytes(256)), receiver.port, '127.0.0.1');
    const id = (await reg2).subarray(2);
    for (const l of links) {
      const reg3 = nextMessage(l, SRTLA_TYPE.REG3);
      l.send(encodeReg2(id), receiver.port, '127.0.0.1');
      await reg3;
    }
    let caller: { port: number; address: string } | undefined;
    let turn = 0;
    local.on('message', (m, r) => {
      caller = { port: r.port, address: r.address };
      links[turn++ % links.length]!.send(m, receiver!.port, '127.0.0.1');
    });
    // The receiver sends ACKs, NAKs and handshakes on every link: pass each on once.
    const recent: string[] = [];
    for (const l of links) {
      l.on('message', (m) => {
        if (isSrtla(m) || !caller) return;
        const key = m.toString('base64');
        if (recent.includes(key)) return;
        recent.push(key);
        if (recent.length > 64) recent.shift();
        local.send(m, caller.port, caller.address);
      });
    }

    const inPort = await freePort();
    const srtCaller = spawn('srt-live-transmit', [
      '-q',
      '-a',
      'no',
      `udp://127.0.0.1:${inPort}`,
      `srt://127.0.0.1:${local.address().port}?mode=caller&latency=300`,
    ]);
    children.push(srtCaller);
    await sleep(500);
    const source = await bound();
    const chunk = Buffer.alloc(1316, 0x47);
    const packets = 600;
    for (let i = 0; i < packets; i++) {
      source.send(chunk, inPort, '127.0.0.1');
      await sleep(3);
    }
    const want = packets * chunk.length;
    const end = Date.now() + 10_000;
    while (received < want * 0.98 && Date.now() < end) await sleep(50);
    expect(received).toBeGreaterThanOrEqual(want * 0.98);

    const s = receiver.stats();
    expect(s.groups).toBe(1);
    const g = s.perGroup[0]!;
    expect(g.handshakes).toBeGreaterThan(0);
    expect(g.srtAcks).toBeGreaterThan(0);
    expect(g.links.every((l) => l.packets > packets / 3)).toBe(true);
  }, 30_000);
});
