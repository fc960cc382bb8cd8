// Contract test: calls every export of the libsrt feature (src/native/srt.ts).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadSrtNative, nativeAvailable } from '../../../src/native/index.js';
import type { SrtNativeMessage } from '../../../src/native/srt.js';
import { skipWithout } from '../../peers.js';

const skip = skipWithout('the native SRT contract tests', nativeAvailable() ? [] : ['the native addon (npm run build:native)']);

/** Resolves once `cond` holds over the messages seen so far. */
function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = (): void => {
      if (cond()) resolve();
      else if (Date.now() - start > timeoutMs) reject(new Error(`no ${what} within ${timeoutMs} ms`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

function waitFor<T extends SrtNativeMessage['type']>(
  messages: SrtNativeMessage[],
  type: T,
  timeoutMs = 5000,
): Promise<Extract<SrtNativeMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = (): void => {
      const m = messages.find((x) => x.type === type);
      if (m) resolve(m as Extract<SrtNativeMessage, { type: T }>);
      else if (Date.now() - start > timeoutMs) reject(new Error(`no ${type} message within ${timeoutMs} ms`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

describe.skipIf(skip)('native SRT exports', () => {
  it('srtVersion names the libsrt in use', () => {
    // The addon is built against the libsrt pkg-config names (native/binding.gyp).
    const built = execFileSync('pkg-config', ['--modversion', 'srt'], { encoding: 'utf8' }).trim();
    expect(loadSrtNative().srtVersion()).toBe(built);
  });

  it('SrtSocket: start, send, stats, data, connected, close (idempotent), closed', async () => {
    const { SrtSocket } = loadSrtNative();
    const rxMsgs: SrtNativeMessage[] = [];
    const rx = new SrtSocket({ mode: 'listener', role: 'receive', host: '127.0.0.1', port: 0, statsIntervalMs: 20 }, (m) => rxMsgs.push(m));
    expect(rx.connected).toBe(false);
    rx.start();
    const { port } = await waitFor(rxMsgs, 'listening');
    expect(port).toBeGreaterThan(0);

    const txMsgs: SrtNativeMessage[] = [];
    const tx = new SrtSocket({ mode: 'caller', role: 'send', host: '127.0.0.1', port, latencyMs: 120 }, (m) => txMsgs.push(m));
    // Not connected yet: dropped and counted, never blocking.
    expect(tx.send(new Uint8Array(1316 * 2))).toBe(2);
    tx.start();
    const c = await waitFor(txMsgs, 'connected');
    expect(c.peer).toBe(`127.0.0.1:${port}`);
    expect(tx.connected).toBe(true);
    const payload = new Uint8Array(1316 * 3 + 100).map((_, i) => i & 0xff);
    expect(tx.send(payload)).toBe(0);
    const received = (): Buffer => Buffer.concat(rxMsgs.flatMap((m) => (m.type === 'data' ? [Buffer.from(m.data)] : [])));
    await until('all the data', () => received().length >= payload.length);
    expect(received()).toEqual(Buffer.from(payload));
    // Stats come every statsIntervalMs and count what arrived: 1316-byte messages, the rest in a short one.
    const lastStats = () => rxMsgs.filter((m): m is Extract<SrtNativeMessage, { type: 'stats' }> => m.type === 'stats').at(-1);
    await until('stats counting the data', () => lastStats()?.stats.pktRecvTotal === 4);
    const { stats } = lastStats()!;
    expect(stats.intervalMs).toBeGreaterThan(0);
    expect(Number.isFinite(stats.msRTT)).toBe(true);

    tx.close();
    tx.close();
    expect(tx.connected).toBe(false);
    expect(tx.send(new Uint8Array(10))).toBe(0);
    await waitFor(txMsgs, 'closed');
    const gone = await waitFor(rxMsgs, 'disconnected');
    expect(gone.code).toBe('SRT_PEER_CLOSED');
    rx.close();
    await waitFor(rxMsgs, 'closed');
    expect(() => rx.start()).toThrow(/closed/);
  });

  it('SrtSocket refuses a malformed call with a TypeError, changing nothing', () => {
    const { SrtSocket } = loadSrtNative();
    // @ts-expect-error: deliberately wrong arguments
    expect(() => new SrtSocket({ mode: 'push' }, () => {})).toThrow(/mode/);
    // @ts-expect-error: deliberately wrong arguments
    expect(() => new SrtSocket()).toThrow(TypeError);
    const s = new SrtSocket({ mode: 'caller', role: 'send', host: '127.0.0.1', port: 9 }, () => {});
    // @ts-expect-error: deliberately wrong arguments
    expect(() => s.send('text')).toThrow(TypeError);
    s.close();
  });
});
