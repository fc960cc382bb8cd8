/** The pipeline channel's checks on what the stream unit sends the media process, and the destination's address. */
import { describe, expect, it } from 'vitest';
import { MuxConfig, validateConfig } from '../../../src/config/index.js';
import { ParentMessage } from '../../../src/media/channel.js';
import { streamSpecFromConfig, testPatternSource } from '../../../src/media/spec.js';
import { parseSrtUrl } from '../../../src/srt/url.js';
import { destinationUrl } from '../../../src/supervisor/stream-unit.js';

describe('pipeline channel: the commands the media process takes', () => {
  it('takes each command the stream unit sends', () => {
    const spec = { source: testPatternSource(), mux: MuxConfig.parse({}), seconds: 0 };
    for (const m of [
      { type: 'start', spec },
      { type: 'setBitrate', bps: 2_000_000 },
      { type: 'forceKeyframe' },
      { type: 'outputReady' },
      { type: 'stop' },
    ])
      expect(ParentMessage.safeParse(m).success, m.type).toBe(true);
  });

  it.each([
    [{ type: 'setBitrate', bps: -5 }],
    [{ type: 'setBitrate', bps: 1.5e6 + 0.5 }],
    [{ type: 'setBitrate' }],
    [{ type: 'start' }],
    [{ type: 'start', spec: { source: { kind: 'camera' }, mux: {}, seconds: 0 } }],
    [{ type: 'reboot' }],
    ['stop'],
  ])('refuses %j (the process logs it and carries on)', (m) => {
    expect(ParentMessage.safeParse(m).success).toBe(false);
  });
});

describe('the destination address the stream unit calls', () => {
  it.each([10, 79, 80])('carries a %d-character passphrase from the config to an SRT address libsrt will take', (n) => {
    const pass = 'z'.repeat(n);
    const config = validateConfig({ destinations: [{ url: 'srt://ingest.example.com:5000?latency=1500', passphrase: pass }] });
    const spec = streamSpecFromConfig(config, config.destinations[0]!);
    const direct = parseSrtUrl(destinationUrl(spec.destination));
    expect(direct).toMatchObject({ host: 'ingest.example.com', port: 5000, latencyMs: 1500, pbkeylen: 32 });
    expect(direct.passphrase?.reveal()).toBe(pass);
    // Bonded: the local sender's port, the destination's options.
    const bonded = parseSrtUrl(destinationUrl(spec.destination, 40_000));
    expect(bonded).toMatchObject({ host: '127.0.0.1', port: 40_000, latencyMs: 1500, pbkeylen: 32 });
    expect(bonded.passphrase?.reveal()).toBe(pass);
  });

  it('the config refuses a passphrase libsrt would refuse, before any stream starts', () => {
    for (const n of [9, 81])
      expect(() => validateConfig({ destinations: [{ url: 'srt://ingest.example.com:5000', passphrase: 'q'.repeat(n) }] })).toThrow(
        /destinations\.0\.passphrase/,
      );
  });
});
