import { describe, expect, it } from 'vitest';
import { DEFAULT_REGISTRATION_LIMITS, RegistrationGuard } from '../../../src/bond/receiver-limits.js';

describe('RegistrationGuard', () => {
  it('rate-limits registrations per address, not per port, and refills', () => {
    const g = new RegistrationGuard({ ...DEFAULT_REGISTRATION_LIMITS, registrationBurst: 5, registrationsPerSecond: 2, failureLimit: 100 });
    const got = Array.from({ length: 8 }, () => g.admit('192.0.2.1', 0));
    expect(got.filter((a) => a === 'ok')).toHaveLength(5);
    expect(got.at(-1)).toBe('rate');
    expect(g.admit('192.0.2.2', 0)).toBe('ok');
    expect(g.admit('192.0.2.1', 500)).toBe('ok');
    expect(g.admit('192.0.2.1', 500)).toBe('rate');
  });

  it('blocks an address whose registrations keep failing, for a while', () => {
    const g = new RegistrationGuard({ ...DEFAULT_REGISTRATION_LIMITS, failureLimit: 3, failureWindowMs: 1000, blockMs: 5000 });
    g.fail('198.51.100.7', 0);
    g.fail('198.51.100.7', 10);
    expect(g.isBlocked('198.51.100.7', 20)).toBe(false);
    g.fail('198.51.100.7', 20);
    expect(g.isBlocked('198.51.100.7', 21)).toBe(true);
    expect(g.admit('198.51.100.7', 100)).toBe('blocked');
    expect(g.admit('198.51.100.8', 100)).toBe('ok');
    expect(g.isBlocked('198.51.100.7', 5021)).toBe(false);
    expect(g.blocks).toBe(1);
  });

  it('failures spread beyond the window do not block', () => {
    const g = new RegistrationGuard({ ...DEFAULT_REGISTRATION_LIMITS, failureLimit: 3, failureWindowMs: 1000 });
    for (let t = 0; t < 10_000; t += 600) g.fail('203.0.113.1', t);
    expect(g.isBlocked('203.0.113.1', 10_000)).toBe(false);
  });

  it('caps groups registering from one address until they send data', () => {
    const g = new RegistrationGuard({ ...DEFAULT_REGISTRATION_LIMITS, maxPendingGroupsPerAddress: 2 });
    g.pendingCreated('a', 0);
    g.pendingCreated('a', 0);
    expect(g.canCreatePending('a', 0)).toBe(false);
    expect(g.canCreatePending('b', 0)).toBe(true);
    g.pendingEnded('a');
    expect(g.canCreatePending('a', 0)).toBe(true);
  });
});
