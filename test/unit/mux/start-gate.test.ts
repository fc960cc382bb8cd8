import { describe, expect, it } from 'vitest';
import { type ChunkInfo, StartGate, type StartMode, TsArrivals, TsMuxer, TsSplicer } from '../../../src/mux/index.js';
import { liveStream } from './helpers.js';

/** 4 s of the synthetic stream (keyframe each second) as the splicer hands it on, each chunk with its media time (ms from 0). */
function chunks(): { at: number; chunk: Buffer; info: ChunkInfo }[] {
  const out: { at: number; chunk: Buffer; info: ChunkInfo }[] = [];
  let now = 0;
  const splicer = new TsSplicer({ now: () => now, onChunk: (c, info) => out.push({ at: now, chunk: Buffer.from(c), info }) });
  const m = new TsMuxer({ audio: { sampleRate: 48_000, channels: 2 }, onChunk: (c) => splicer.push(c) });
  for (const { kind, au } of liveStream(4)) {
    now = (au.dts - 900_000) / 90;
    kind === 'video' ? m.writeVideo(au) : m.writeAudio(au);
  }
  return out;
}

/** Feeds the chunks, opening the gate at `openAt` ms; what came out, in the order a decoder meets it. */
function run(mode: StartMode, openAt: number, bufferMs = 3000): { out: TsArrivals; sent: number; gate: StartGate } {
  let now = 0;
  const sent: Buffer[] = [];
  const gate = new StartGate({ mode, bufferMs, now: () => now, onChunk: (c) => sent.push(Buffer.from(c)) });
  for (const c of chunks()) {
    now = c.at;
    if (now >= openAt) gate.open();
    gate.push(c.chunk, c.info);
  }
  const out: TsArrivals = new TsArrivals(() => out.packetsSeen);
  out.push(Buffer.concat(sent));
  out.flush();
  return { out, sent: sent.length, gate };
}

describe('StartGate: the destination gets a stream a decoder can start on', () => {
  it('closed, nothing passes', () => {
    expect(run('next', Number.POSITIVE_INFINITY).sent).toBe(0);
  });

  it("'next': from the first keyframe after it opened, PAT and PMT first, nothing older", () => {
    const { out } = run('next', 1500);
    const first = out.pictures[0]!;
    expect(first).toMatchObject({ key: true, parameterSets: true });
    // The keyframe at 2 s (PTS 900000 + 2 s): the one at 1 s came before the gate opened.
    expect(first.pts).toBe(900_000 + 180_000);
    expect(out.pats[0]).toBeLessThan(first.atMs);
    expect(out.pmts[0]).toBeLessThan(first.atMs);
    expect(out.pictures).toHaveLength(60);
  });

  it("'buffered': from the last keyframe before it opened, so the first picture is not lost", () => {
    const { out, gate } = run('buffered', 1500);
    const first = out.pictures[0]!;
    expect(first).toMatchObject({ key: true, parameterSets: true, pts: 900_000 + 90_000 });
    expect(out.pats[0]).toBeLessThan(first.atMs);
    expect(out.pmts[0]).toBeLessThan(first.atMs);
    // Every picture from the keyframe at 1 s to the end.
    expect(out.pictures).toHaveLength(90);
    expect(gate.stats.sentFromBuffer).toBeGreaterThan(10);
  });

  it("'buffered': a keyframe older than the buffer is not sent; it waits for the next", () => {
    const { out } = run('buffered', 1800, 500);
    expect(out.pictures[0]).toMatchObject({ key: true, pts: 900_000 + 180_000 });
  });

  it("'buffered': an attempt that fails before the first connection keeps the keyframe that came before it", () => {
    let now = 0;
    const sent: Buffer[] = [];
    const gate = new StartGate({ mode: 'buffered', now: () => now, onChunk: (c) => sent.push(Buffer.from(c)) });
    for (const c of chunks()) {
      now = c.at;
      if (now >= 1200 && now < 1500) gate.close(); // the stream unit closes the gate on each failed attempt
      if (now >= 1500) gate.open();
      gate.push(c.chunk, c.info);
    }
    const out: TsArrivals = new TsArrivals(() => out.packetsSeen);
    out.push(Buffer.concat(sent));
    out.flush();
    expect(out.pictures[0]).toMatchObject({ key: true, parameterSets: true, pts: 900_000 + 90_000 });
    expect(out.pats[0]).toBeLessThan(out.pictures[0]!.atMs);
  });

  it("'buffered': after a disconnection it keeps what comes from the next keyframe for the reconnection", () => {
    let now = 0;
    const sent: Buffer[] = [];
    const gate = new StartGate({ mode: 'buffered', now: () => now, onChunk: (c) => sent.push(Buffer.from(c)) });
    let openedAgain = 0;
    for (const c of chunks()) {
      now = c.at;
      if (now >= 100 && now < 1500) gate.open();
      if (now >= 1500 && now < 2500) gate.close();
      if (now >= 2500) {
        if (!openedAgain) openedAgain = sent.length;
        gate.open();
      }
      gate.push(c.chunk, c.info);
    }
    const again: TsArrivals = new TsArrivals(() => again.packetsSeen);
    again.push(Buffer.concat(sent.slice(openedAgain)));
    again.flush();
    // The keyframe at 2 s, which came while the destination was away.
    expect(again.pictures[0]).toMatchObject({ key: true, parameterSets: true, pts: 900_000 + 180_000 });
  });

  it('closing and opening again starts over from a keyframe', () => {
    let now = 0;
    const sent: Buffer[] = [];
    const gate = new StartGate({ mode: 'next', now: () => now, onChunk: (c) => sent.push(Buffer.from(c)) });
    let openedAgain = 0;
    for (const c of chunks()) {
      now = c.at;
      if (now >= 100 && now < 1500) gate.open();
      if (now >= 1500 && now < 2500) gate.close();
      if (now >= 2500) {
        if (!openedAgain) openedAgain = sent.length;
        gate.open();
      }
      gate.push(c.chunk, c.info);
    }
    const again: TsArrivals = new TsArrivals(() => again.packetsSeen);
    again.push(Buffer.concat(sent.slice(openedAgain)));
    again.flush();
    expect(again.pictures[0]).toMatchObject({ key: true, pts: 900_000 + 270_000 });
  });
});
