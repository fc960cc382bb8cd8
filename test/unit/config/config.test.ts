import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigInvalidError, defaultConfig, describeConfig, loadConfig, saveConfig, validateConfig } from '../../../src/config/index.js';

function problems(input: unknown) {
  try {
    validateConfig(input);
  } catch (e) {
    if (e instanceof ConfigInvalidError) return e.problems;
    throw e;
  }
  return [];
}

describe('config schema', () => {
  it('fills every key with a default', () => {
    const c = defaultConfig();
    expect(c.video.width).toBe(1280);
    // DVB practice and Fieldcast's own bounds (FACTS: PCR <= 40 ms, PAT/PMT <= 100 ms).
    expect(c.mux).toMatchObject({ pcrIntervalMs: 20, psiIntervalMs: 100, delayMs: 100, cbrRate: 0 });
    const described = describeConfig();
    expect(described.map((d) => d.key)).toEqual(expect.arrayContaining(['deviceName', 'video.width', 'mux.pcrIntervalMs']));
    expect(described.filter((d) => d.description.trim() === '').map((d) => d.key)).toEqual([]);
  });

  it('names the key, the value and what was expected', () => {
    const p = problems({ video: { fps: '24' }, destinations: [{ url: 'srt://ingest:5000', latencyMs: 5 }] });
    expect(p.map((x) => x.key).sort()).toEqual(['destinations.0.latencyMs', 'video.fps']);
    expect(p.find((x) => x.key === 'video.fps')).toEqual({
      key: 'video.fps',
      value: '24',
      // zod's wording; what matters is that it lists the rates there are.
      expected: expect.stringContaining('"25"|"30"|"50"|"60"|"29.97"|"59.94"'),
    });
    expect(p.find((x) => x.key === 'destinations.0.latencyMs')).toEqual({
      key: 'destinations.0.latencyMs',
      value: 5,
      expected: expect.stringMatching(/>=\s*20\b/),
    });
  });

  // The lengths libsrt takes (src/srt/url.ts SRT_PASSPHRASE_LENGTH): 10 to 80 characters.
  it.each([
    [9, 'refused'],
    [10, 'accepted'],
    [79, 'accepted'],
    [80, 'accepted'],
    [81, 'refused'],
  ])('a destination passphrase of %d characters is %s', (n, verdict) => {
    const pass = 'k'.repeat(n);
    const p = problems({ destinations: [{ url: 'srt://ingest:5000', passphrase: pass }] });
    if (verdict === 'accepted') {
      expect(p).toEqual([]);
      expect(validateConfig({ destinations: [{ url: 'srt://ingest:5000', passphrase: pass }] }).destinations[0]?.passphrase).toBe(pass);
    } else {
      expect(p).toEqual([{ key: 'destinations.0.passphrase', value: '[redacted]', expected: 'a passphrase of 10 to 80 characters' }]);
    }
  });

  it('rejects unknown keys and never echoes a passphrase', () => {
    const p = problems({ destinations: [{ url: 'srt://a:1', passphrase: 'short' }], colour: 'red' });
    expect(p.find((x) => x.key === 'colour')?.expected).toBe('no such key');
    const pass = p.find((x) => x.key === 'destinations.0.passphrase');
    expect(pass?.value).toBe('[redacted]');
    expect(JSON.stringify(p)).not.toContain('short');
  });

  it('checks minBitrate against maxBitrate', () => {
    expect(problems({ video: { minBitrate: 9_000_000, maxBitrate: 8_000_000 } })[0]?.key).toBe('video.minBitrate');
  });

  it('a data plan pays for a link or a SIM, one of them, under a name no other plan has', () => {
    const plan = { name: 'sim-a', monthlyBytes: 50e9 };
    expect(validateConfig({ uplinks: { dataPlans: [{ ...plan, link: 'cell-a' }] } }).uplinks.dataPlans[0]).toMatchObject({
      billingDay: 1,
      stopAtLimit: false,
    });
    expect(validateConfig({ uplinks: { dataPlans: [{ ...plan, iccid: '89441000303123451234' }] } }).uplinks.dataPlans[0]?.iccid).toBe(
      '89441000303123451234',
    );
    const problems = (input: unknown): string[] => {
      try {
        validateConfig(input);
        return [];
      } catch (e) {
        return (e as ConfigInvalidError).problems.map((p) => `${p.key}: ${p.expected}`);
      }
    };
    expect(problems({ uplinks: { dataPlans: [plan] } })).toEqual(['uplinks.dataPlans.0.link: either link or iccid (one of them)']);
    expect(problems({ uplinks: { dataPlans: [{ ...plan, link: 'a', iccid: '89441000303123451234' }] } })).toEqual([
      'uplinks.dataPlans.0.link: either link or iccid (one of them)',
    ]);
    expect(problems({ uplinks: { dataPlans: [{ ...plan, iccid: '8944' }] } })).toEqual([
      'uplinks.dataPlans.0.iccid: the SIM card number (ICCID), 18 to 22 digits',
    ]);
    expect(
      problems({
        uplinks: {
          dataPlans: [
            { ...plan, link: 'a' },
            { ...plan, link: 'b' },
          ],
        },
      }),
    ).toEqual(['uplinks.dataPlans.1.name: a name no other plan has']);
  });

  it('accepts IPv6 SRT URLs', () => {
    expect(validateConfig({ destinations: [{ url: 'srt://[2001:db8::1]:5000?latency=1500' }] }).destinations).toHaveLength(1);
  });
});

describe('config store', () => {
  it('saves atomically and loads back; an invalid save changes nothing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fc-config-'));
    const file = path.join(dir, 'fieldcast.json');
    await saveConfig(file, { deviceName: 'truck-2' });
    expect((await loadConfig(file)).deviceName).toBe('truck-2');
    const before = readFileSync(file, 'utf8');
    await expect(saveConfig(file, { deviceName: '' })).rejects.toBeInstanceOf(ConfigInvalidError);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(readdirSync(dir)).toEqual(['fieldcast.json']);
  });

  it('reports a file that is not JSON', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fc-config-'));
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, '{ not json');
    await expect(loadConfig(file)).rejects.toThrow(/valid JSON/);
  });
});
