import { describe, expect, it } from 'vitest';
import { loadNative } from '../../../src/native/index.js';

describe('native addon: core exports', () => {
  it('loads and reads the media clock', () => {
    const n = loadNative();
    const a = n.monotonicMicros();
    const b = n.monotonicMicros();
    expect(b).toBeGreaterThanOrEqual(a);
    expect(typeof n.addonVersion).toBe('string');
  });
});
