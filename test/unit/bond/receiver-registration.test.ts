/**
 * The receiver's registration, driven by hand: a packet, its source address
 * and the time in; the reply and what changed out (SRTLA.md "Registration").
 * No socket: the groups are made with a listener that is never reached.
 */
import { describe, expect, it } from 'vitest';
import { decodeSrtla, SRTLA_ID_HALF, type SrtlaPacket } from '../../../src/bond/protocol.js';
import { RECEIVER_DEFAULTS } from '../../../src/bond/receiver.js';
import { ReceiverGroup } from '../../../src/bond/receiver-group.js';
import { DEFAULT_REGISTRATION_LIMITS } from '../../../src/bond/receiver-limits.js';
import {
  ReceiverRegistration,
  type RegistrationOptions,
  type RegistrationResult,
  type Source,
} from '../../../src/bond/receiver-registration.js';
import { GroupTable } from '../../../src/bond/receiver-table.js';

const OURS = 0xee;

function from(ip: string, port: number): Source {
  return { key: `${ip}|${port}`, address: ip, port, ip };
}

/** A sender's id: its half filled with `n`. */
const senderId = (n: number): Buffer => Buffer.alloc(256, n);
/** The id the receiver completes from it: the sender's half, then ours. */
const fullId = (n: number): Buffer => Buffer.concat([senderId(n).subarray(0, SRTLA_ID_HALF), Buffer.alloc(SRTLA_ID_HALF, OURS)]);

class Rig {
  now = 0;
  readonly table = new GroupTable();
  readonly reg: ReceiverRegistration;

  constructor(opts: Partial<RegistrationOptions> = {}) {
    const table = this.table;
    const deps = {
      sendToLink() {},
      linksOf: (g: ReceiverGroup) => table.linksOf(g),
      forwardHost: '127.0.0.1',
      forwardPort: 9,
      reorderMs: 0,
      linkTimeoutMs: 10_000,
    };
    const options = { ...RECEIVER_DEFAULTS, ...DEFAULT_REGISTRATION_LIMITS, ...opts };
    this.reg = new ReceiverRegistration(
      table,
      options,
      (spec) => new ReceiverGroup(spec, deps),
      (n) => Buffer.alloc(n, OURS),
    );
  }

  at(ms: number): this {
    this.now = ms;
    return this;
  }

  reg1(src: Source, n: number): RegistrationResult {
    return this.reg.onPacket({ kind: 'reg1', id: senderId(n) }, src, this.now);
  }

  reg2(src: Source, id: Buffer): RegistrationResult {
    return this.reg.onPacket({ kind: 'reg2', id }, src, this.now);
  }

  /** A group from sender `n` with a link at each of `links` (the first also sent REG1). */
  group(n: number, ...links: Source[]): ReceiverGroup {
    const r = this.reg1(links[0]!, n);
    if (r.kind !== 'group') throw new Error(`no group: ${r.kind}`);
    for (const l of links) this.reg2(l, fullId(n));
    return r.group;
  }
}

/** What a result says: its kind and the reply's SRTLA type, e.g. `link REG3`. */
function said(r: RegistrationResult): string {
  if (r.kind === 'ignored') return 'ignored';
  const p = decodeSrtla(r.reply) as SrtlaPacket;
  const names: Record<string, string> = { reg2: 'REG2', reg3: 'REG3', regErr: 'REG_ERR', regNgp: 'REG_NGP' };
  return `${r.kind} ${names[p.kind] ?? p.kind}${r.kind === 'refused' ? `: ${r.why}` : ''}`;
}

const A = from('192.0.2.1', 4001);
const B = from('192.0.2.1', 4002);
const C = from('198.51.100.7', 5000);

interface Row {
  name: string;
  opts?: Partial<RegistrationOptions>;
  given?: (r: Rig) => unknown;
  when: (r: Rig) => RegistrationResult;
  out: string;
  after?: (r: Rig) => void;
}

const transitions: Row[] = [
  {
    name: 'REG1: a new group, answered with REG2',
    when: (r) => r.reg1(A, 1),
    out: 'group REG2',
    after: (r) => {
      expect(r.table.groupCount).toBe(1);
      expect(r.table.pendingFrom(A.key)?.id).toEqual(fullId(1));
      expect(r.reg.counters.regGroups).toBe(1);
    },
  },
  {
    name: 'REG1 again from the same address with the same id (our REG2 was lost): the same group, the same answer',
    given: (r) => r.reg1(A, 1),
    when: (r) => r.reg1(A, 1),
    out: 'answered REG2',
    after: (r) => expect([r.table.groupCount, r.reg.counters.regGroups]).toEqual([1, 1]),
  },
  {
    name: 'REG1 from the same address with a new id (the sender started over): a new group',
    given: (r) => r.reg1(A, 1),
    when: (r) => r.reg1(A, 2),
    out: 'group REG2',
    after: (r) => expect(r.table.pendingFrom(A.key)?.id).toEqual(fullId(2)),
  },
  {
    name: 'REG1 from an address that is a link already',
    given: (r) => r.group(1, A),
    when: (r) => r.reg1(A, 2),
    out: 'refused REG_ERR: address is already a link of a group',
  },
  {
    name: 'REG1 with the receiver full',
    opts: { maxGroups: 1 },
    given: (r) => r.reg1(A, 1),
    when: (r) => r.reg1(C, 2),
    out: 'refused REG_ERR: too many groups',
  },
  {
    name: 'REG1 beyond the groups one address may have registering at once',
    opts: { maxPendingGroupsPerAddress: 1 },
    given: (r) => r.reg1(A, 1),
    when: (r) => r.reg1(B, 2),
    out: 'refused REG_ERR: too many groups registering from this address',
  },
  {
    name: 'REG1 from that address once its first group sent data: accepted',
    opts: { maxPendingGroupsPerAddress: 1 },
    given: (r) => {
      const g = r.group(1, A);
      g.hadData = true;
      r.reg.sentData(g);
    },
    when: (r) => r.reg1(B, 2),
    out: 'group REG2',
  },
  {
    name: 'REG2 with a group’s id: the address becomes a link of it',
    given: (r) => r.reg1(A, 1),
    when: (r) => r.reg2(A, fullId(1)),
    out: 'link REG3',
    after: (r) => {
      const g = r.table.group(fullId(1).toString('hex'))!;
      expect(r.table.link(A.key)?.group).toBe(g);
      expect([...r.table.linksOf(g).keys()]).toEqual([A.key]);
      expect(r.reg.counters.regLinks).toBe(1);
    },
  },
  {
    name: 'REG2 again from a link (our REG3 was lost): REG3 again, no second link',
    given: (r) => [r.group(1, A), r.at(500)],
    when: (r) => r.reg2(A, fullId(1)),
    out: 'answered REG3',
    after: (r) => {
      expect(r.table.link(A.key)!.lastSeen).toBe(500);
      expect(r.table.linksOf(r.table.link(A.key)!.group).size).toBe(1);
      expect(r.reg.counters.regLinks).toBe(1);
    },
  },
  {
    name: 'REG2 for a group this receiver does not know (it restarted, or reaped it): REG_NGP',
    when: (r) => r.reg2(A, fullId(1)),
    out: 'answered REG_NGP',
    after: (r) => expect([r.reg.counters.regNgp, r.table.groupCount]).toEqual([1, 0]),
  },
  {
    name: 'REG2 from a link of another group',
    given: (r) => [r.group(1, A), r.group(2, C)],
    when: (r) => r.reg2(A, fullId(2)),
    out: 'refused REG_ERR: address is already a link of another group',
  },
  {
    name: 'REG2 beyond the links a group may have',
    opts: { maxLinksPerGroup: 1 },
    given: (r) => r.group(1, A),
    when: (r) => r.reg2(B, fullId(1)),
    out: 'refused REG_ERR: too many links in the group',
  },
  {
    name: 'registrations past the address’s burst: ignored, unanswered',
    opts: { registrationBurst: 2, registrationsPerSecond: 1 },
    given: (r) => [r.reg1(A, 1), r.reg2(A, fullId(1))],
    when: (r) => r.reg2(B, fullId(1)),
    out: 'ignored',
    after: (r) => expect(r.reg.counters.throttled).toBe(1),
  },
  {
    name: 'traffic from an address that is no link (after a restart): REG_NGP',
    when: (r) => r.reg.unknownSource(A, r.now),
    out: 'answered REG_NGP',
  },
  {
    name: 'more traffic from it within the second: no second REG_NGP',
    given: (r) => [r.reg.unknownSource(A, 0), r.at(999)],
    when: (r) => r.reg.unknownSource(A, r.now),
    out: 'ignored',
    after: (r) => expect([r.reg.counters.unknownSource, r.reg.counters.regNgp]).toEqual([2, 1]),
  },
  {
    name: 'more traffic from it a second later: REG_NGP again',
    given: (r) => [r.reg.unknownSource(A, 0), r.at(1000)],
    when: (r) => r.reg.unknownSource(A, r.now),
    out: 'answered REG_NGP',
  },
];

describe('the receiver registration', () => {
  it.each(transitions)('$name', ({ opts, given, when, out, after }) => {
    const r = new Rig(opts);
    given?.(r);
    expect(said(when(r))).toBe(out);
    after?.(r);
  });

  it('completes the id with its own half and answers REG2 with all of it', () => {
    const r = new Rig();
    const res = r.reg1(A, 1);
    expect(res.kind === 'group' && decodeSrtla(res.reply)).toEqual({ kind: 'reg2', id: fullId(1) });
    expect(res.kind === 'group' && res.group).toMatchObject({ tag: 1, creatorKey: A.key, creatorIp: A.ip, createdAt: 0 });
  });

  it('after a restart, a sender’s REG1 makes a group again and its links join it', () => {
    const before = new Rig();
    before.group(1, A, B);
    // A new receiver on the same port: the links' REG2 and data get REG_NGP, the sender starts over.
    const r = new Rig();
    expect(said(r.reg2(A, fullId(1)))).toBe('answered REG_NGP');
    expect(said(r.reg.unknownSource(B, 0))).toBe('answered REG_NGP');
    expect(said(r.reg1(A, 2))).toBe('group REG2');
    expect(said(r.reg2(A, fullId(2)))).toBe('link REG3');
    expect(said(r.reg2(B, fullId(2)))).toBe('link REG3');
    expect(r.table.groupCount).toBe(1);
  });

  it('a link that comes back on a new address (its NAT mapping changed) joins again; the old address times out', () => {
    const r = new Rig();
    const g = r.group(1, A);
    r.now = 3000;
    expect(said(r.reg2(C, fullId(1)))).toBe('link REG3');
    expect(r.table.linksOf(g).size).toBe(2);
    r.now = 3000 + RECEIVER_DEFAULTS.linkTimeoutMs;
    r.table.link(C.key)!.lastSeen = r.now;
    g.hadData = true;
    r.reg.sentData(g);
    const gone = r.reg.expire(r.now);
    expect(gone).toEqual([{ kind: 'link-timeout', link: expect.objectContaining({ key: A.key }) }]);
    expect(r.table.link(A.key)).toBeUndefined();
    expect([...r.table.linksOf(g).keys()]).toEqual([C.key]);
    // The old address is free again: another sender may use it.
    expect(said(r.reg1(A, 2))).toBe('group REG2');
  });

  it('a sender that restarts again and again from one address and port can always register: each new group replaces the one before', () => {
    const r = new Rig({ maxPendingGroupsPerAddress: 2 });
    for (let n = 1; n <= 10; n++) expect(said(r.at(n * 100).reg1(A, n)), `restart ${n}`).toBe('group REG2');
    // The abandoned groups went as they were replaced: one group, and the address may still make another.
    expect(r.table.groupCount).toBe(1);
    expect(said(r.at(1200).reg1(B, 99))).toBe('group REG2');
  });

  describe('expiry', () => {
    it.each([
      { name: 'a group that never sent data, after the pending timeout', data: false, links: true, at: 5001, reason: 'never-sent-data' },
      { name: 'a group without links, after the group timeout', data: true, links: false, at: 10_001, reason: 'timeout' },
    ])('drops $name', ({ data, links, at, reason }) => {
      const r = new Rig({ maxPendingGroupsPerAddress: 1 });
      const g = r.group(1, A);
      if (data) {
        g.hadData = true;
        r.reg.sentData(g);
      }
      for (const l of r.table.linksOf(g).values()) l.lastSeen = links ? at : -Infinity;
      expect(r.reg.expire(at - 1).filter((e) => e.kind === 'group-dropped')).toEqual([]);
      expect(r.reg.expire(at).filter((e) => e.kind === 'group-dropped')).toEqual([{ kind: 'group-dropped', group: g, reason }]);
      expect(r.table.groupCount).toBe(0);
      expect(r.table.link(A.key)).toBeUndefined();
      // Its creator may register a group again.
      r.now = at;
      expect(said(r.reg1(B, 2))).toBe('group REG2');
    });

    it('keeps a live group and its links', () => {
      const r = new Rig();
      const g = r.group(1, A, B);
      g.hadData = true;
      for (const l of r.table.linksOf(g).values()) l.lastSeen = 60_000;
      g.lastSeen = 60_000;
      expect(r.reg.expire(60_000)).toEqual([]);
      expect(r.table.linksOf(g).size).toBe(2);
    });
  });
});
