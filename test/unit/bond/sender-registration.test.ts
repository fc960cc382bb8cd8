/**
 * The sender's registration state machine, driven by hand: events in with the
 * time, actions out (SRTLA.md "Registration"). Each row is one transition:
 * what came before, the event, the actions it must produce and the state after.
 */
import { describe, expect, it } from 'vitest';
import { decodeSrtla, SRTLA_ID_HALF } from '../../../src/bond/protocol.js';
import {
  REGISTRATION_TIMING,
  type RegistrationAction,
  type RegistrationReply,
  SenderRegistration,
} from '../../../src/bond/sender-registration.js';

const REG3: RegistrationReply = { kind: 'reg3' };
const REG_ERR: RegistrationReply = { kind: 'regErr' };
const REG_NGP: RegistrationReply = { kind: 'regNgp' };
const ERR_REASON = 'too many links or groups, or this address is in another group';

/** Actions in words: `a: REG1`, `b: REG2`, `a registered`, … */
function said(actions: readonly RegistrationAction[]): string[] {
  return actions.map((a) => {
    switch (a.kind) {
      case 'send': {
        const p = decodeSrtla(a.packet);
        return `${a.link}: ${p?.kind === 'reg1' ? 'REG1' : p?.kind === 'reg2' ? 'REG2' : '?'}`;
      }
      case 'group-registered':
        return `group registered via ${a.via}`;
      case 'group-lost':
        return `group lost (${a.why})`;
      case 'link-registered':
        return `${a.link} registered`;
      case 'link-lost':
        return `${a.link} lost`;
      case 'refused':
        return `${a.link} refused${a.forGood ? ' for good' : ''}: ${a.reason}`;
      default:
        return 'unknown action';
    }
  });
}

/** A registration with a clock and group ids 1, 2, 3 … (each id 256 bytes of its number). */
class Rig {
  now = 0;
  readonly ids: Buffer[] = [];
  readonly stalled = new Set<string>();
  readonly reg = new SenderRegistration(0, () => {
    const id = Buffer.alloc(256, this.ids.length + 1);
    this.ids.push(id);
    return id;
  });

  at(ms: number): this {
    this.now = ms;
    return this;
  }

  add(...links: string[]): string[] {
    return links.flatMap((l) => said(this.reg.addLink(l, this.now)));
  }

  tick(): string[] {
    return said(this.reg.tick(this.now, (l) => this.stalled.has(l)));
  }

  reply(link: string, p: RegistrationReply): string[] {
    return said(this.reg.onReply(link, p, this.now));
  }

  /** The receiver's REG2: the id of the `i`th group (default the current one) completed with its own half. */
  reg2(i = this.ids.length - 1): RegistrationReply {
    return { kind: 'reg2', id: Buffer.concat([this.ids[i]!.subarray(0, SRTLA_ID_HALF), Buffer.alloc(SRTLA_ID_HALF, 0xee)]) };
  }

  /** The group registered and each of `links` accepted, at the current time. */
  live(...links: string[]): this {
    this.add(...links);
    this.tick();
    this.reply(links[0]!, this.reg2());
    for (const l of links) this.reply(l, REG3);
    return this;
  }

  registered(): string[] {
    return ['a', 'b', 'c'].filter((l) => this.reg.isRegistered(l));
  }
}

interface Row {
  name: string;
  given: (r: Rig) => unknown;
  when: (r: Rig) => string[];
  out: string[];
  after?: (r: Rig) => void;
}

const transitions: Row[] = [
  {
    name: 'no link: nothing to send',
    given: () => {},
    when: (r) => r.tick(),
    out: [],
  },
  {
    name: 'links open, no group: REG1 on the first link',
    given: (r) => r.add('a', 'b'),
    when: (r) => r.tick(),
    out: ['a: REG1'],
    after: (r) => expect(r.reg.groupRegistered).toBe(false),
  },
  {
    name: 'REG1 unanswered: nothing before REG1_RETRY_MS',
    given: (r) => [r.add('a', 'b'), r.tick()],
    when: (r) => r.at(REGISTRATION_TIMING.REG1_RETRY_MS - 1).tick(),
    out: [],
  },
  {
    name: 'REG1 unanswered: again after REG1_RETRY_MS, on the next link',
    given: (r) => [r.add('a', 'b'), r.tick()],
    when: (r) => r.at(REGISTRATION_TIMING.REG1_RETRY_MS).tick(),
    out: ['b: REG1'],
  },
  {
    name: 'REG2 with our half: the group is registered, REG2 on every link',
    given: (r) => [r.add('a', 'b'), r.tick()],
    when: (r) => r.reply('b', r.reg2()),
    out: ['group registered via b', 'a: REG2', 'b: REG2'],
    after: (r) => expect(r.reg.groupRegistered).toBe(true),
  },
  {
    name: 'REG2 with another sender’s half: ignored',
    given: (r) => [r.add('a'), r.tick()],
    when: (r) => r.reply('a', { kind: 'reg2', id: Buffer.alloc(256, 0x77) }),
    out: [],
    after: (r) => expect(r.reg.groupRegistered).toBe(false),
  },
  {
    name: 'a second REG2 (REG1 was sent twice and answered twice): ignored',
    given: (r) => [r.add('a', 'b'), r.tick(), r.reply('a', r.reg2())],
    when: (r) => r.reply('b', r.reg2()),
    out: [],
  },
  {
    name: 'REG3: the link is registered',
    given: (r) => [r.add('a', 'b'), r.tick(), r.reply('a', r.reg2())],
    when: (r) => r.reply('b', REG3),
    out: ['b registered'],
    after: (r) => expect(r.registered()).toEqual(['b']),
  },
  {
    name: 'a second REG3 on a registered link: nothing',
    given: (r) => r.live('a'),
    when: (r) => r.reply('a', REG3),
    out: [],
  },
  {
    name: 'a link added while the group is registered: REG2 at once',
    given: (r) => r.live('a'),
    when: (r) => r.add('c'),
    out: ['c: REG2'],
  },
  {
    name: 'an unregistered link: REG2 again after REG2_RETRY_MS',
    given: (r) => [r.add('a', 'b'), r.tick(), r.reply('a', r.reg2()), r.reply('a', REG3)],
    when: (r) => r.at(REGISTRATION_TIMING.REG2_RETRY_MS).tick(),
    out: ['b: REG2'],
  },
  {
    name: 'a registered link the scheduler found stalled: REG2 again (it finds out about a restarted receiver)',
    given: (r) => [r.live('a', 'b'), r.stalled.add('a')],
    when: (r) => r.at(REGISTRATION_TIMING.REG2_RETRY_MS).tick(),
    out: ['a: REG2'],
    after: (r) => expect(r.registered()).toEqual(['a', 'b']),
  },
  {
    name: 'a link the scheduler found dead: lost, and it asks to join again',
    given: (r) => r.live('a', 'b'),
    when: (r) => [...said(r.reg.linkDead('a')), ...r.at(REGISTRATION_TIMING.REG2_RETRY_MS).tick()],
    out: ['a lost', 'a: REG2'],
    after: (r) => expect(r.registered()).toEqual(['b']),
  },
  {
    name: 'a dead link that is not registered: nothing',
    given: (r) => [r.add('a'), r.tick()],
    when: (r) => said(r.reg.linkDead('a')),
    out: [],
  },
  {
    name: 'REG_ERR on a registered link: refused and lost',
    given: (r) => r.live('a', 'b'),
    when: (r) => r.reply('b', REG_ERR),
    out: [`b refused: ${ERR_REASON}`, 'b lost'],
    after: (r) => expect(r.registered()).toEqual(['a']),
  },
  {
    name: 'REG_NAK: refused for good, with the receiver’s reason',
    given: (r) => [r.add('a'), r.tick(), r.reply('a', r.reg2())],
    when: (r) => r.reply('a', { kind: 'regNak', text: 'this stream is not booked here' }),
    out: ['a refused for good: this stream is not booked here'],
    after: (r) => expect(r.reg.refusal('a', r.now)).toEqual({ reason: 'this stream is not booked here', retryInMs: 60_000 }),
  },
  {
    name: 'REG_NAK without a reason',
    given: (r) => [r.add('a'), r.tick(), r.reply('a', r.reg2())],
    when: (r) => r.reply('a', { kind: 'regNak', text: '' }),
    out: ['a refused for good: refused'],
  },
  {
    name: 'REG_NGP while registered (the receiver restarted): every link lost, a new id',
    given: (r) => r.live('a', 'b').at(100),
    when: (r) => r.reply('b', REG_NGP),
    out: ['group lost (no-such-group)', 'a lost', 'b lost'],
    after: (r) => {
      expect(r.reg.groupRegistered).toBe(false);
      expect(r.ids).toHaveLength(2);
    },
  },
  {
    name: 'REG_NGP before the group is registered: nothing to start over',
    given: (r) => [r.add('a'), r.tick()],
    when: (r) => r.reply('a', REG_NGP),
    out: [],
  },
  {
    name: 'after starting over, the old id’s REG2 is ignored and REG1 goes out with the new id',
    given: (r) => [r.live('a', 'b').at(100), r.reply('a', REG_NGP)],
    when: (r) => [...r.reply('a', r.reg2(0)), ...r.tick()],
    out: ['b: REG1'],
  },
  {
    name: 'REG_NGP from the other links after one restart, even once registered again within REGROUP_GRACE_MS: stale, ignored',
    given: (r) => [r.live('a', 'b', 'c').at(100), r.reply('a', REG_NGP), r.tick(), r.reply('b', r.reg2())],
    when: (r) => [...r.reply('b', REG_NGP), ...r.at(100 + REGISTRATION_TIMING.REGROUP_GRACE_MS - 1).reply('c', REG_NGP)],
    out: [],
    after: (r) => expect(r.reg.groupRegistered).toBe(true),
  },
  {
    name: 'REG_NGP once REGROUP_GRACE_MS has passed: a second restart, the group starts over again',
    given: (r) => [r.live('a').at(100), r.reply('a', REG_NGP), r.tick(), r.reply('a', r.reg2()), r.reply('a', REG3)],
    when: (r) => r.at(100 + REGISTRATION_TIMING.REGROUP_GRACE_MS).reply('a', REG_NGP),
    out: ['group lost (no-such-group)', 'a lost'],
  },
  {
    name: 'silence on every link for REGROUP_SILENCE_MS: still registered',
    given: (r) => r.live('a'),
    when: (r) => r.at(REGISTRATION_TIMING.REGROUP_SILENCE_MS).tick(),
    out: [],
  },
  {
    name: 'silence on every link beyond REGROUP_SILENCE_MS: the group starts over',
    given: (r) => r.live('a'),
    when: (r) => r.at(REGISTRATION_TIMING.REGROUP_SILENCE_MS + 1).tick(),
    out: ['group lost (silence)', 'a lost', 'a: REG1'],
  },
  {
    name: 'anything heard from the receiver holds the silence off',
    given: (r) => [r.live('a'), r.reg.heard(3000)],
    when: (r) => r.at(REGISTRATION_TIMING.REGROUP_SILENCE_MS + 1).tick(),
    out: [],
  },
  {
    name: 'a link removed and added again (on a new address) starts afresh',
    given: (r) => [r.live('a', 'b'), r.reply('b', REG_ERR), r.reg.removeLink('b')],
    when: (r) => r.add('b'),
    out: ['b: REG2'],
    after: (r) => expect(r.reg.refusal('b', r.now)).toBeUndefined(),
  },
  {
    name: 'an answer for a link that was removed: nothing',
    given: (r) => [r.live('a', 'b'), r.reg.removeLink('b')],
    when: (r) => r.reply('b', REG_ERR),
    out: [],
  },
];

describe('the sender registration state machine', () => {
  it.each(transitions)('$name', ({ given, when, out, after }) => {
    const r = new Rig();
    given(r);
    expect(when(r)).toEqual(out);
    after?.(r);
  });

  it('sends REG1 with our id and REG2 with the full id the receiver completed', () => {
    const r = new Rig();
    r.add('a');
    const [reg1] = r.reg.tick(0, () => false);
    expect(reg1).toMatchObject({ kind: 'send', link: 'a' });
    expect(decodeSrtla((reg1 as { packet: Buffer }).packet)).toEqual({ kind: 'reg1', id: r.ids[0] });
    const full = r.reg2();
    const reg2 = r.reg.onReply('a', full, 0).find((a) => a.kind === 'send');
    expect(decodeSrtla((reg2 as { packet: Buffer }).packet)).toEqual(full);
  });

  it('rotates REG1 over the links: the first one tried may be the broken one', () => {
    const r = new Rig();
    r.add('a', 'b', 'c');
    const sent = [0, 1, 2, 3].flatMap((i) => r.at(i * REGISTRATION_TIMING.REG1_RETRY_MS).tick());
    expect(sent).toEqual(['a: REG1', 'b: REG1', 'c: REG1', 'a: REG1']);
  });
});

describe('refusals back off (SRTLA.md: REG_ERR is "not now", REG_NAK "not ever")', () => {
  // The n-th REG_ERR in a row holds the link back 2^n s, at most 30 s.
  it.each([
    [1, 2000],
    [2, 4000],
    [3, 8000],
    [4, 16_000],
    [5, 30_000],
    [6, 30_000],
  ])('REG_ERR number %i in a row: no REG2 on that link for %i ms', (n, backoff) => {
    const r = new Rig().live('a', 'b');
    for (let i = 1; i < n; i++) r.at(r.now + 60_000).reply('b', REG_ERR);
    const t = r.at(r.now + 60_000).now;
    r.reply('b', REG_ERR);
    expect(r.reg.refusal('b', t)).toEqual({ reason: ERR_REASON, retryInMs: backoff });
    r.reg.heard(t + backoff - 1);
    expect(r.at(t + backoff - 1).tick()).toEqual([]);
    expect(r.at(t + backoff).tick()).toEqual(['b: REG2']);
    expect(r.reg.refusal('b', t + backoff)).toBeUndefined();
  });

  it('REG3 ends a run of refusals: the next REG_ERR backs off 2 s again', () => {
    const r = new Rig().live('a', 'b');
    for (let i = 0; i < 4; i++) r.at(r.now + 60_000).reply('b', REG_ERR);
    r.reply('b', REG3);
    expect(r.registered()).toEqual(['a', 'b']);
    r.reply('b', REG_ERR);
    expect(r.reg.refusal('b', r.now)?.retryInMs).toBe(2000);
  });

  it('REG_NAK holds the link back a minute, whatever came before', () => {
    const r = new Rig().live('a');
    r.reply('a', { kind: 'regNak', text: 'no' });
    r.reg.heard(59_999);
    expect(r.at(59_999).tick()).toEqual([]);
    expect(r.at(60_000).tick()).toEqual(['a: REG2']);
  });

  it('a refused REG1 backs the group off, not the link', () => {
    const r = new Rig();
    r.add('a');
    expect(r.tick()).toEqual(['a: REG1']);
    expect(r.reply('a', REG_ERR)).toEqual([`a refused: ${ERR_REASON}`]);
    expect(r.reg.refusal('a', 0)).toBeUndefined();
    // The first refusal: 2 s, as long as REG1's own retry.
    expect(r.at(2000).tick()).toEqual(['a: REG1']);
    // The second: 4 s.
    r.reply('a', REG_ERR);
    expect(r.at(4000).tick()).toEqual([]);
    expect(r.at(5999).tick()).toEqual([]);
    expect(r.at(6000).tick()).toEqual(['a: REG1']);
  });
});
