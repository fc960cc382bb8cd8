/** The status snapshot as one line, printed each second by `fieldcast run` (and `ctl status`). */
import { formatBitrate } from '../lib/units.js';
import type { StatusSnapshot } from './snapshot.js';

export function formatStatusLine(s: StatusSnapshot): string {
  const parts = [`${s.state.toUpperCase().padEnd(9)} ${s.reason}`];
  const st = s.stream;
  if (st.picture !== 'none') {
    if (st.picture !== 'passthrough')
      parts.push(`video ${formatBitrate(st.video.bitrateBps)}${st.video.reason ? ` (${st.video.reason})` : ''}`);
    parts.push(`ts ${formatBitrate(st.tsBitrateBps)}`);
  }
  const d = s.destinations[0];
  if (d && d.state === 'live')
    parts.push(`srt rtt ${d.rttMs.toFixed(0)} ms buf ${d.sendBufferMs.toFixed(0)} ms retrans ${d.retransPackets}`);
  if (s.bond) {
    parts.push(`links ${s.bond.links.map((l) => `${l.name}:${l.state === 'live' ? `${Math.round(l.share * 100)}%` : l.state}`).join(' ')}`);
  }
  if (st.pipeline.restarts > 0) parts.push(`pipeline restarts ${st.pipeline.restarts}`);
  if (s.action) parts.push(`→ ${s.action}`);
  return parts.join(' | ');
}
