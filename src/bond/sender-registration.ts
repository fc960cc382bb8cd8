/**
 * The bonding sender's registration (SRTLA.md "Registration") as a state
 * machine without I/O: the group (REG1, answered by REG2 with the full id)
 * and each link (REG2, answered by REG3), refusals with back-off (REG_ERR,
 * REG_NAK), a receiver that forgot the group (REG_NGP, or silence on every
 * link) and links the scheduler found dead.
 *
 * Events come in with the time (`now`, ms); actions go out: packets to send
 * on a link, and what changed. The sender (sender.ts) sends them and reports;
 * the scheduler reads each link's registration from here rather than keeping
 * a copy (CONVENTIONS.md §10, §14).
 *
 *   group: registering --REG2 (our half)--> registered --REG_NGP | silence--> registering (new id)
 *   link:  waiting --REG3--> registered --REG_ERR | REG_NAK | dead | group lost--> waiting
 */
import { randomBytes } from 'node:crypto';
import { encodeReg1, encodeReg2, idMatchesOurHalf, SRTLA_ID_LEN, type SrtlaPacket } from './protocol.js';

/** Timers of the registration (SRTLA.md "Registration": about 4 s for a REG answer). */
export const REGISTRATION_TIMING = {
  REG1_RETRY_MS: 2000,
  REG2_RETRY_MS: 1000,
  /** No answer on any link for this long: the receiver forgot us (restart) — register the group again. */
  REGROUP_SILENCE_MS: 5000,
  /** After starting over, REG_NGP answers to what was sent before are stale: ignored this long (well above any link's RTT). */
  REGROUP_GRACE_MS: 1000,
  /** Refusals back off 2, 4, 8 … s up to this (REG_ERR means "not now"). */
  REFUSAL_BACKOFF_MAX_MS: 30_000,
  /** REG_NAK means "not ever"; still try again now and then, the receiver's operator may fix it. */
  NAK_BACKOFF_MS: 60_000,
} as const;

/** What the receiver answers to registrations. */
export type RegistrationReply = Extract<SrtlaPacket, { kind: 'reg2' | 'reg3' | 'regErr' | 'regNgp' | 'regNak' }>;

export type RegistrationAction =
  /** A REG1 or REG2 to send on this link. */
  | { kind: 'send'; link: string; packet: Buffer }
  | { kind: 'group-registered'; via: string }
  /** The receiver no longer knows the group: registering again with a new id. */
  | { kind: 'group-lost'; why: 'no-such-group'; link: string }
  | { kind: 'group-lost'; why: 'silence'; silentMs: number }
  | { kind: 'link-registered'; link: string }
  | { kind: 'link-lost'; link: string }
  | { kind: 'refused'; link: string; reason: string; forGood: boolean };

interface LinkRegistration {
  registered: boolean;
  lastRegSentAt: number;
  /** Until then, no REG2 on this link (it was refused). */
  refusedUntil: number;
  refusedReason: string | undefined;
  refusals: number;
}

const REG_ERR_REASON = 'too many links or groups, or this address is in another group';

export class SenderRegistration {
  private readonly links = new Map<string, LinkRegistration>();
  private groupId: Buffer;
  private fullId: Buffer | undefined;
  private lastReg1At = -Infinity;
  private lastRegroupAt = -Infinity;
  /** REG1 rotates over the links: the first one tried may be the broken one. */
  private reg1Turn = 0;
  private groupBackoffUntil = 0;
  private lastAnswerAt: number;

  /** `newId` makes a 256-byte group id (random; tests pass their own). */
  constructor(
    now: number,
    private readonly newId: () => Buffer = () => randomBytes(SRTLA_ID_LEN),
  ) {
    this.groupId = newId();
    this.lastAnswerAt = now;
  }

  get groupRegistered(): boolean {
    return this.fullId !== undefined;
  }

  isRegistered(link: string): boolean {
    return this.links.get(link)?.registered ?? false;
  }

  /** Why a link is held back and for how long, while the receiver's refusal lasts. */
  refusal(link: string, now: number): { reason: string; retryInMs: number } | undefined {
    const l = this.links.get(link);
    if (!l || l.registered || l.refusedUntil <= now) return undefined;
    return { reason: l.refusedReason ?? 'refused', retryInMs: l.refusedUntil - now };
  }

  /** An open uplink: it joins the group at once if there is one. */
  addLink(link: string, now: number): RegistrationAction[] {
    if (this.links.has(link)) return [];
    const l: LinkRegistration = { registered: false, lastRegSentAt: -Infinity, refusedUntil: 0, refusedReason: undefined, refusals: 0 };
    this.links.set(link, l);
    return this.sendReg2(link, l, now);
  }

  removeLink(link: string): void {
    this.links.delete(link);
  }

  /** Anything from the receiver, on any link: it still knows us. */
  heard(now: number): void {
    this.lastAnswerAt = now;
  }

  /** A registration answer from the receiver on `link`. */
  onReply(link: string, p: RegistrationReply, now: number): RegistrationAction[] {
    const l = this.links.get(link);
    if (!l) return [];
    switch (p.kind) {
      case 'reg2':
        // Only the first answer with our half: a REG1 sent twice is answered twice.
        if (this.fullId || !idMatchesOurHalf(this.groupId, p.id)) return [];
        this.fullId = p.id;
        this.lastAnswerAt = now;
        return [{ kind: 'group-registered', via: link }, ...[...this.links].flatMap(([name, o]) => this.sendReg2(name, o, now))];
      case 'reg3':
        this.lastAnswerAt = now;
        if (l.registered) return [];
        l.registered = true;
        l.refusals = 0;
        l.refusedReason = undefined;
        l.refusedUntil = 0;
        return [{ kind: 'link-registered', link }];
      case 'regErr':
        return this.refused(link, l, REG_ERR_REASON, now, false);
      case 'regNak':
        return this.refused(link, l, p.text || 'refused', now, true);
      case 'regNgp':
        // One restart of the receiver answers REG_NGP on every link, to every REG2 and keepalive
        // already on its way: start over once, not once per answer (each fresh REG1 would make
        // the receiver open yet another group and refuse the links it already holds elsewhere).
        if (!this.fullId || now - this.lastRegroupAt < REGISTRATION_TIMING.REGROUP_GRACE_MS) return [];
        return [{ kind: 'group-lost', why: 'no-such-group', link }, ...this.regroup(now)];
    }
  }

  /** The scheduler found the link dead (silent for its DEAD_MS): it must register again. */
  linkDead(link: string): RegistrationAction[] {
    const l = this.links.get(link);
    if (!l?.registered) return [];
    l.registered = false;
    return [{ kind: 'link-lost', link }];
  }

  /**
   * Housekeeping: the group again after silence, REG1 until the group exists,
   * REG2 on links not yet registered and on those the scheduler found stalled
   * (a re-ask that also finds out about a restarted receiver: REG_NGP).
   */
  tick(now: number, stalled: (link: string) => boolean): RegistrationAction[] {
    if (this.links.size === 0) return [];
    const out: RegistrationAction[] = [];
    if (this.fullId && now - this.lastAnswerAt > REGISTRATION_TIMING.REGROUP_SILENCE_MS) {
      out.push({ kind: 'group-lost', why: 'silence', silentMs: Math.round(now - this.lastAnswerAt) }, ...this.regroup(now));
    }
    if (!this.fullId) {
      if (now < this.groupBackoffUntil || now - this.lastReg1At < REGISTRATION_TIMING.REG1_RETRY_MS) return out;
      const names = [...this.links.keys()];
      this.lastReg1At = now;
      out.push({ kind: 'send', link: names[this.reg1Turn++ % names.length]!, packet: encodeReg1(this.groupId) });
      return out;
    }
    for (const [name, l] of this.links) {
      if ((!l.registered || stalled(name)) && now - l.lastRegSentAt >= REGISTRATION_TIMING.REG2_RETRY_MS)
        out.push(...this.sendReg2(name, l, now));
    }
    return out;
  }

  private sendReg2(name: string, l: LinkRegistration, now: number): RegistrationAction[] {
    if (!this.fullId || l.refusedUntil > now) return [];
    l.lastRegSentAt = now;
    return [{ kind: 'send', link: name, packet: encodeReg2(this.fullId) }];
  }

  /** REG_ERR / REG_NAK: the link backs off; a refused REG1 backs the whole group off instead. */
  private refused(name: string, l: LinkRegistration, reason: string, now: number, forGood: boolean): RegistrationAction[] {
    l.refusals++;
    const backoff = forGood
      ? REGISTRATION_TIMING.NAK_BACKOFF_MS
      : Math.min(REGISTRATION_TIMING.REFUSAL_BACKOFF_MAX_MS, 1000 * 2 ** Math.min(l.refusals, 5));
    const out: RegistrationAction[] = [{ kind: 'refused', link: name, reason, forGood }];
    if (l.registered) out.push({ kind: 'link-lost', link: name });
    l.registered = false;
    l.refusedReason = reason;
    if (this.fullId) l.refusedUntil = now + backoff;
    else {
      // REG1 itself was refused: the group could not be created.
      this.groupBackoffUntil = now + backoff;
      l.refusedUntil = 0;
    }
    return out;
  }

  /** Starts over with a new group id: every link registers again. */
  private regroup(now: number): RegistrationAction[] {
    this.lastRegroupAt = now;
    this.fullId = undefined;
    this.groupId = this.newId();
    this.lastReg1At = -Infinity;
    this.lastAnswerAt = now;
    const out: RegistrationAction[] = [];
    for (const [name, l] of this.links) {
      if (l.registered) out.push({ kind: 'link-lost', link: name });
      l.registered = false;
    }
    return out;
  }
}
