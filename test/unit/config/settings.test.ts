import { describe, expect, it } from 'vitest';
import {
  applySettings,
  ConfigInvalidError,
  defaultConfig,
  getSetting,
  parseAssignment,
  redactSecrets,
  validateConfig,
} from '../../../src/config/index.js';

const base = () =>
  validateConfig({ destinations: [{ name: 'ingest', url: 'srt://ingest.example.com:5000', passphrase: 'a very secret phrase' }] });

function refusal(fn: () => unknown): ConfigInvalidError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigInvalidError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('settings: set and get by key', () => {
  it('reads each value as the schema wants it at that key', () => {
    const c = applySettings(base(), [
      parseAssignment('video.maxBitrate=6M'),
      parseAssignment('video.minBitrate=500k'),
      parseAssignment('video.adaptive=off'),
      parseAssignment('video.fps=29.97'),
      parseAssignment('destinations.0.pbkeylen=16'),
      parseAssignment('destinations.0.streamId=#!::r=truck=2'),
      parseAssignment('input.name=Stage left'),
    ]);
    expect(c.video).toMatchObject({ maxBitrate: 6_000_000, minBitrate: 500_000, adaptive: false, fps: '29.97' });
    expect(c.destinations[0]).toMatchObject({ pbkeylen: 16, streamId: '#!::r=truck=2' });
    expect(c.input.name).toBe('Stage left');
  });

  it('creates an element or section from what is set in it, the defaults filling the rest', () => {
    const c = applySettings(defaultConfig(), [parseAssignment('destinations.0.url=srt://10.0.0.5:9000')]);
    expect(c.destinations).toEqual([{ name: 'ingest', url: 'srt://10.0.0.5:9000', latencyMs: 1500, pbkeylen: 32 }]);
    const links = applySettings(c, [
      parseAssignment('bond.links=[{"name":"cell-a","interface":"wwan0"}]'),
      parseAssignment('bond.enabled=true'),
    ]);
    expect(links.bond.links).toEqual([
      { name: 'cell-a', interface: 'wwan0', priority: 5, enabled: true, backupOnly: false, metered: false },
    ]);
  });

  it('refuses the whole change when one value is wrong, naming key, value and what was expected, and leaves the config as it was', () => {
    const c = base();
    const before = structuredClone(c);
    const e = refusal(() => applySettings(c, [parseAssignment('video.maxBitrate=5M'), parseAssignment('video.fps=31')]));
    expect(e.problems).toEqual([{ key: 'video.fps', value: '31', expected: expect.stringContaining('"30"') }]);
    expect(c).toEqual(before);
    // Checked whole: a minimum above the maximum is caught though each value fits alone.
    const range = refusal(() => applySettings(c, [parseAssignment('video.minBitrate=9M')]));
    expect(range.problems[0]).toMatchObject({ key: 'video.minBitrate', value: 9_000_000 });
    expect(refusal(() => applySettings(c, [parseAssignment('video.bitrate=fast')])).problems[0]).toMatchObject({
      key: 'video.bitrate',
      value: 'fast',
    });
    expect(refusal(() => applySettings(c, [parseAssignment('video.adaptive=maybe')])).problems[0]?.key).toBe('video.adaptive');
  });

  it('refuses keys the config does not have, and says which it has', () => {
    const e = refusal(() => applySettings(base(), [parseAssignment('video.bitrat=1M')]));
    expect(e.problems[0]).toMatchObject({ key: 'video.bitrat', expected: expect.stringContaining('bitrate') });
    expect(refusal(() => applySettings(base(), [parseAssignment('destinations.3.url=srt://x:1')])).problems[0]?.expected).toMatch(
      /index from 0 to 1/,
    );
    expect(refusal(() => applySettings(base(), [parseAssignment('video..width=3')])).problems[0]?.key).toBe('video..width');
    expect(refusal(() => parseAssignment('video.width')).problems[0]?.expected).toMatch(/KEY=VALUE/);
    expect(() => getSetting(base(), 'nothing.here')).toThrow(ConfigInvalidError);
  });

  it('never echoes a passphrase back: not in get, not in a refusal', () => {
    const c = base();
    expect(redactSecrets(getSetting(c, 'destinations'))).toEqual([expect.objectContaining({ passphrase: '[set]' })]);
    expect(redactSecrets(getSetting(c, 'destinations.0.passphrase'), 'passphrase')).toBe('[set]');
    const e = refusal(() => applySettings(c, [parseAssignment('destinations.0.passphrase=short')]));
    expect(e.problems[0]).toMatchObject({ key: 'destinations.0.passphrase', value: '[redacted]' });
    expect(e.message).not.toContain('short');
  });
});
