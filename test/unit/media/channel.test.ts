/** The pipeline channel's checks on what the supervisor sends the media process (src/media/channel.ts). */
import { describe, expect, it } from 'vitest';
import { MuxConfig, validateConfig } from '../../../src/config/index.js';
import { OutputSpec, ParentMessage, PipelineSpec, type PipelineSpecInput } from '../../../src/media/channel.js';
import { pipelineSpecFromConfig, testPatternSource } from '../../../src/media/spec.js';
import { parseSrtUrl } from '../../../src/srt/url.js';

function spec(passphrase: string): PipelineSpecInput {
  return {
    source: testPatternSource(),
    mux: MuxConfig.parse({}),
    output: { url: 'srt://ingest.example.com:5000', latencyMs: 1500, passphrase, pbkeylen: 32 },
  };
}

describe('pipeline channel: the output passphrase', () => {
  // The lengths libsrt takes (src/srt/url.ts SRT_PASSPHRASE_LENGTH): 10 to 80 characters.
  it.each([
    [9, 'refused'],
    [10, 'accepted'],
    [79, 'accepted'],
    [80, 'accepted'],
    [81, 'refused'],
  ])('a passphrase of %d characters is %s by the spec and the start message', (n, verdict) => {
    const pass = 'q'.repeat(n);
    const accepted = verdict === 'accepted';
    expect(OutputSpec.safeParse(spec(pass).output).success).toBe(accepted);
    const r = PipelineSpec.safeParse(spec(pass));
    expect(r.success).toBe(accepted);
    if (r.success) expect(r.data.output.passphrase).toBe(pass);
    else
      expect(r.error.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
        ['output.passphrase', 'a passphrase of 10 to 80 characters'],
      ]);
    expect(ParentMessage.safeParse({ type: 'start', spec: spec(pass) }).success).toBe(accepted);
  });

  it('carries the longest passphrase the config accepts to an SRT address libsrt will take', () => {
    const pass = 'z'.repeat(80);
    const config = validateConfig({ destinations: [{ url: 'srt://ingest.example.com:5000?latency=1500', passphrase: pass }] });
    const s = PipelineSpec.parse(pipelineSpecFromConfig(config, config.destinations[0]!));
    expect(s.output.passphrase).toBe(pass);
    // As the pipeline builds its output address: the spec's fields over the URL's.
    const u = new URL(s.output.url);
    u.searchParams.set('passphrase', s.output.passphrase!);
    u.searchParams.set('pbkeylen', String(s.output.pbkeylen));
    expect(parseSrtUrl(u.toString()).passphrase?.reveal()).toBe(pass);
  });
});
