/** What a V4L2 device list must hold on this machine, worked out without the list itself. */
import { readdirSync } from 'node:fs';
import { expect } from 'vitest';
import type { NativeCaptureDevice } from '../../../src/native/capture.js';

/** The /dev/video* nodes, in the addon's order (video2 before video10). */
export function videoNodes(): string[] {
  return readdirSync('/dev')
    .filter((n) => n.startsWith('video'))
    .map((n) => `/dev/${n}`)
    .sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
}

/** The nodes that open and answer VIDIOC_QUERYCAP (what `probe` does to each): exactly what a list must name. */
export async function answeringNodes(probe: (path: string) => Promise<unknown>): Promise<string[]> {
  const out: string[] = [];
  for (const node of videoNodes()) {
    if (
      await probe(node).then(
        () => true,
        () => false,
      )
    )
      out.push(node);
  }
  return out;
}

/** Shape of one entry, as the native layer describes it. */
export const deviceShape: Record<keyof NativeCaptureDevice, unknown> = {
  path: expect.stringMatching(/^\/dev\/video\d+$/),
  driver: expect.stringMatching(/\S/),
  card: expect.any(String),
  busInfo: expect.any(String),
  capabilities: expect.any(Array),
  capture: expect.any(Boolean),
};
