import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordingConfig } from '../../../src/config/schema.js';
import { readIndex, SegmentStore } from '../../../src/record/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'fieldcast-rec-'));
  dirs.push(d);
  return d;
}
const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);
const packets = (n: number) => Buffer.alloc(188 * n, 0x47);

async function threeSegments(dir: string): Promise<SegmentStore> {
  const store = await SegmentStore.open(dir);
  for (let i = 0; i < 3; i++) {
    await store.start(T0 + i * 10_000);
    await store.write(packets(100));
    await store.seconds([[T0 / 1000 + i * 10, 'acked', 0]]);
  }
  await store.close(T0 + 30_000);
  return store;
}

describe('SegmentStore retention', () => {
  it('the config defaults bound the recordings sensibly', () => {
    const r = RecordingConfig.parse({});
    expect(r).toMatchObject({ enabled: false, segmentSeconds: 30, maxAgeMinutes: 1440 });
    expect(r.maxBytes).toBe(4 * 1024 ** 3);
    expect(r.minFreeBytes).toBeGreaterThan(0);
    expect(r.minFreeBytes).toBeLessThan(r.maxBytes);
  });

  it('deletes the oldest segments over the size bound and rewrites the index without them', async () => {
    const dir = tmp();
    const store = await threeSegments(dir);
    const settings = { segmentSeconds: 10, maxBytes: 188 * 100 * 2, maxAgeMinutes: 1440, minFreeBytes: 1 };
    const r = await store.prune(settings, T0 + 31_000);
    expect(r).toEqual({ removed: 1, diskLow: false });
    const ix = await readIndex(dir);
    expect(ix.segments.map((s) => s.from)).toEqual([T0 + 10_000, T0 + 20_000]);
    expect([...ix.seconds[0]!.keys()]).toEqual([T0 / 1000 + 10, T0 / 1000 + 20]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.ts')).length).toBe(2);
  });

  it('deletes segments older than the age bound', async () => {
    const dir = tmp();
    const store = await threeSegments(dir);
    const r = await store.prune({ segmentSeconds: 10, maxBytes: 1 << 30, maxAgeMinutes: 1, minFreeBytes: 1 }, T0 + 85_000);
    expect(r.removed).toBe(2); // ended at +10 s and +20 s: over a minute before +85 s
    expect((await readIndex(dir)).segments.length).toBe(1);
  });

  it('says the disk is low when free space stays under the margin with nothing left to delete', async () => {
    const dir = tmp();
    const store = await threeSegments(dir);
    const r = await store.prune({ segmentSeconds: 10, maxBytes: 1 << 30, maxAgeMinutes: 1440, minFreeBytes: Number.MAX_SAFE_INTEGER }, T0);
    expect(r).toEqual({ removed: 3, diskLow: true });
    expect(store.segments.length).toBe(0);
  });

  it('removes segment files the index does not know, at open', async () => {
    const dir = tmp();
    await threeSegments(dir);
    writeFileSync(path.join(dir, '20261203-130000-000.ts'), packets(1));
    const store = await SegmentStore.open(dir);
    expect(store.segments.length).toBe(3);
    expect(readdirSync(dir).filter((f) => f.endsWith('.ts')).length).toBe(3);
  });
});
