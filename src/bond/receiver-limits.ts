/**
 * Registration hardening for the receiver, per source IP address (not
 * address:port: a flood changes ports for free). SRTLA.md: the common
 * receiver lacks "a cap on groups being registered per source address, and
 * throttling of addresses whose registrations keep failing".
 *
 * - A token bucket on REG1/REG2 per address: a real sender registers once
 *   per link (16 at most) and again only after a failure.
 * - A cap on groups per address that registered but have not sent data yet
 *   (they are reaped after 5 s anyway): a REG1 flood cannot fill the
 *   receiver's group table.
 * - Addresses whose registrations keep failing (REG2 with unknown ids, REG1
 *   refused) are ignored for a while. Data and keepalives of links already
 *   registered are never throttled: a live stream is never cut by this.
 */

export interface RegistrationLimits {
  /** Sustained REG1/REG2 per second per address. */
  registrationsPerSecond: number;
  /** Bucket depth: registrations an address may send at once. */
  registrationBurst: number;
  /** Groups per address that registered but have sent no data yet. */
  maxPendingGroupsPerAddress: number;
  /** Failed registrations within failureWindowMs that get an address blocked. */
  failureLimit: number;
  failureWindowMs: number;
  /** How long a blocked address is ignored. */
  blockMs: number;
}

export const DEFAULT_REGISTRATION_LIMITS: Readonly<RegistrationLimits> = {
  registrationsPerSecond: 10,
  registrationBurst: 40,
  maxPendingGroupsPerAddress: 4,
  failureLimit: 20,
  failureWindowMs: 10_000,
  blockMs: 30_000,
};

interface AddressState {
  tokens: number;
  refilledAt: number;
  failures: number;
  windowStart: number;
  blockedUntil: number;
  pendingGroups: number;
  lastUsed: number;
}

/** Above this many tracked addresses, idle entries are forgotten first. */
const MAX_TRACKED = 50_000;

export type Admission = 'ok' | 'blocked' | 'rate';

export class RegistrationGuard {
  private readonly addrs = new Map<string, AddressState>();
  private blockedCount = 0;

  constructor(readonly limits: RegistrationLimits) {}

  /** May this address register now? Spends a token when it may. */
  admit(ip: string, now: number): Admission {
    const s = this.state(ip, now);
    if (now < s.blockedUntil) return 'blocked';
    const { registrationsPerSecond: rate, registrationBurst: burst } = this.limits;
    s.tokens = Math.min(burst, s.tokens + ((now - s.refilledAt) * rate) / 1000);
    s.refilledAt = now;
    if (s.tokens < 1) {
      this.fail(ip, now);
      return 'rate';
    }
    s.tokens -= 1;
    return 'ok';
  }

  /** A refused or unknown registration; enough of them block the address. */
  fail(ip: string, now: number): void {
    const s = this.state(ip, now);
    if (now - s.windowStart > this.limits.failureWindowMs) {
      s.windowStart = now;
      s.failures = 0;
    }
    s.failures++;
    if (s.failures >= this.limits.failureLimit && now >= s.blockedUntil) {
      s.blockedUntil = now + this.limits.blockMs;
      s.failures = 0;
      this.blockedCount++;
    }
  }

  isBlocked(ip: string, now: number): boolean {
    const s = this.addrs.get(ip);
    return s !== undefined && now < s.blockedUntil;
  }

  canCreatePending(ip: string, now: number): boolean {
    return this.state(ip, now).pendingGroups < this.limits.maxPendingGroupsPerAddress;
  }

  pendingCreated(ip: string, now: number): void {
    this.state(ip, now).pendingGroups++;
  }

  /** The group sent data, or was reaped: it no longer counts against its creator. */
  pendingEnded(ip: string): void {
    const s = this.addrs.get(ip);
    if (s && s.pendingGroups > 0) s.pendingGroups--;
  }

  /** Addresses blocked since start. */
  get blocks(): number {
    return this.blockedCount;
  }

  /** Addresses blocked right now. */
  blockedNow(now: number): number {
    let n = 0;
    for (const s of this.addrs.values()) if (now < s.blockedUntil) n++;
    return n;
  }

  /** Up to `max` addresses blocked right now and when each block ends, the longest first. */
  blockedList(now: number, max: number): { ip: string; until: number }[] {
    const out: { ip: string; until: number }[] = [];
    for (const [ip, s] of this.addrs) if (now < s.blockedUntil) out.push({ ip, until: s.blockedUntil });
    return out.sort((a, b) => b.until - a.until).slice(0, max);
  }

  /** Forgets addresses with nothing to remember (housekeeping). */
  sweep(now: number): void {
    const idle = Math.max(this.limits.failureWindowMs, (this.limits.registrationBurst / this.limits.registrationsPerSecond) * 1000);
    for (const [ip, s] of this.addrs) {
      if (s.pendingGroups === 0 && now >= s.blockedUntil && now - s.lastUsed > idle) this.addrs.delete(ip);
    }
  }

  private state(ip: string, now: number): AddressState {
    let s = this.addrs.get(ip);
    if (!s) {
      if (this.addrs.size >= MAX_TRACKED) this.sweep(now);
      s = {
        tokens: this.limits.registrationBurst,
        refilledAt: now,
        failures: 0,
        windowStart: now,
        blockedUntil: 0,
        pendingGroups: 0,
        lastUsed: now,
      };
      this.addrs.set(ip, s);
    }
    s.lastUsed = now;
    return s;
  }
}
