/** The bonding sender's statistics as the status page, LCD and logs show them. */
import { formatHostPort } from '../lib/hostport.js';
import type { LinkState } from './link-state.js';
import type { KeepaliveInfo } from './protocol.js';
import type { LinkStats } from './scheduler.js';
import type { SenderLink } from './sender-link.js';
import type { SenderRegistration } from './sender-registration.js';

export interface SenderLinkStats extends LinkStats {
  name: string;
  local?: string;
  target?: string;
}

export interface BondSenderStats {
  group: 'registering' | 'registered';
  caller?: string;
  capacityBps: number;
  links: SenderLinkStats[];
  packetsFromCaller: number;
  packetsToCaller: number;
  unroutedPackets: number;
  duplicatesDropped: number;
  /** SRT retransmissions not forwarded: an earlier copy had arrived or was still on its way. */
  redundantRetransmissions: number;
  /** Packets waiting in the sender now because every link is full (sender-hold.ts). */
  heldPackets: number;
  /** Packets that ever waited there. */
  heldTotal: number;
  /** Packets that left over a full link: held too long, or the hold was at its limit. */
  overflowPackets: number;
  malformedPackets: number;
}

/** Per-link statistics: the scheduler's view, plus addresses and registration trouble in words. */
export function senderLinkStats(
  links: SenderLink[],
  scheduled: LinkStats[],
  registration: Pick<SenderRegistration, 'groupRegistered' | 'isRegistered' | 'refusal'>,
  now: number,
): SenderLinkStats[] {
  const byId = new Map(scheduled.map((s) => [s.id, s]));
  return links.map((link) => {
    const s = byId.get(link.name);
    const out: SenderLinkStats = s
      ? { ...s, name: link.name }
      : {
          id: link.name,
          name: link.name,
          state: 'registering',
          why: 'opening the uplink',
          priority: link.options.priority ?? 5,
          backupOnly: link.options.backupOnly ?? false,
          metered: link.options.metered ?? false,
          throughputBps: 0,
          share: 0,
          loss: 0,
          lostPackets: 0,
          sentPackets: 0,
          ackedPackets: 0,
          inFlight: 0,
          capacityBps: 0,
          deliveredBps: 0,
        };
    if (link.localAddress) out.local = link.localAddress;
    if (link.target) out.target = formatHostPort(link.target.address, link.target.port);
    const refusal = registration.refusal(link.name, now);
    if (refusal) {
      out.why = `the bonding receiver refused this link (${refusal.reason}); trying again in ${Math.ceil(refusal.retryInMs / 1000)} s`;
    } else if (!registration.isRegistered(link.name) && !registration.groupRegistered) {
      out.why = 'waiting for the bonding receiver to answer (is it running and reachable?)';
    }
    return out;
  });
}

/** What the extended keepalive tells the receiver about a link (SRTLA.md, irlserver's 38-byte form). */
export function keepaliveInfo(linkId: number, st: LinkState | undefined, now: number): KeepaliveInfo {
  return {
    linkId,
    window: st ? Math.round(st.rateBps / 1000) : 0,
    inFlight: st?.inFlight ?? 0,
    rttMs: st?.srtt ?? 0,
    nakCount: st?.lostPackets ?? 0,
    bytesPerSecond: st ? st.sent.bps(now) / 8 : 0,
  };
}
