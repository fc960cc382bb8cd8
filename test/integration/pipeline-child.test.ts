/**
 * The pipeline runs in its own process: when it dies (a driver or encoder
 * crash), the handle restarts it within a second and says why; a malformed
 * command from the supervisor is ignored without harm.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { defaultMux, testPatternSource } from '../../src/media/spec.js';
import { PipelineChild } from '../../src/supervisor/pipeline-child.js';
import { freeUdpPort, waitUntil } from './srt-helpers.js';

let child: PipelineChild | undefined;
afterEach(async () => {
  await child?.stop();
});

describe('pipeline process handle', () => {
  it('restarts a pipeline that was killed, within a second, and reports why', async () => {
    // Nobody listens there: the pipeline keeps encoding and retrying, which is all this needs.
    const port = await freeUdpPort();
    child = new PipelineChild({
      spec: {
        source: testPatternSource({ bitrate: 1_000_000 }),
        mux: defaultMux(),
        output: { url: `srt://127.0.0.1:${port}`, latencyMs: 200 },
      },
      forwardLogs: false,
    });
    const reasons: string[] = [];
    const delays: number[] = [];
    child.on('restarting', (e, ms) => {
      reasons.push(`${e.code}: ${e.message}`);
      delays.push(ms);
    });
    let statsAfterRestart = 0;
    child.on('stats', (s) => {
      if (reasons.length > 0 && s.framesEncoded > 0) statsAfterRestart++;
    });
    child.start();
    await waitUntil('first pipeline running', () => (child!.stats?.framesEncoded ?? 0) > 0, 20_000);
    const first = child.pid!;
    process.kill(first, 'SIGKILL');
    await waitUntil('restarted and encoding again', () => statsAfterRestart > 0, 20_000);
    expect(child.pid).not.toBe(first);
    expect(child.restartCount).toBe(1);
    expect(delays[0]).toBeLessThanOrEqual(1000);
    expect(reasons[0]).toMatch(/PIPELINE_CRASHED: .*SIGKILL/);

    // A malformed command does not take the pipeline down.
    child.send({ type: 'setBitrate', bps: -5 } as never);
    const before = child.stats!.framesEncoded;
    await waitUntil('still encoding', () => (child!.stats?.framesEncoded ?? 0) > before, 10_000);
    expect(child.restartCount).toBe(1);
  }, 60_000);
});
