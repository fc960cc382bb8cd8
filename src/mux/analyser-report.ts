/** What the TS analyser reports (ETSI TR 101 290 §5.2 check names), and its readable form. */

/** Priority 1 checks (TR 101 290 §5.2.1): a receiver cannot lock or decode reliably. */
export const PRIORITY_1_CHECKS = [
  'TS_sync_loss',
  'Sync_byte_error',
  'PAT_error',
  'Continuity_count_error',
  'PMT_error',
  'PID_error',
] as const;
/** Priority 2 checks (§5.2.2) the analyser can make. */
export const PRIORITY_2_CHECKS = [
  'Transport_error',
  'CRC_error',
  'PCR_repetition_error',
  'PCR_discontinuity_indicator_error',
  'PCR_accuracy_error',
  'PTS_error',
] as const;

export type CheckName = (typeof PRIORITY_1_CHECKS)[number] | (typeof PRIORITY_2_CHECKS)[number];

export interface StreamReport {
  pid: number;
  streamType: number;
  kind: string;
  /** format_identifier of a registration descriptor ("KLVA"). */
  registration?: string;
}

export interface ProgramReport {
  programNumber: number;
  pmtPid: number;
  pcrPid?: number;
  streams: StreamReport[];
}

export interface AnalyserReport {
  packets: number;
  bytes: number;
  /** Span of the PCR timeline, ms (null before two PCRs). */
  durationMs: number | null;
  /** Errors per check; null when the check cannot be made on this stream. */
  checks: Record<CheckName, number | null>;
  priority1Errors: number;
  priority2Errors: number;
  intervals: {
    patMaxMs: number | null;
    pmtMaxMs: number | null;
    pcrMaxMs: number | null;
    pcrMeanMs: number | null;
    /** Longest gap between PTSs, per PID. */
    ptsMaxMs: Record<string, number>;
  };
  pcr: {
    pid: number | null;
    count: number;
    /**
     * Largest deviation of a PCR from the straight line through its neighbours
     * by byte position, ns. Meaningful for a constant-rate stream only.
     */
    jitterMaxNs: number | null;
    /** The stream's rate held within 1% over every second: PCR accuracy can be judged. */
    constantRate: boolean;
  };
  bitrate: {
    totalBps: number | null;
    perPid: Record<string, number>;
    /** Lowest and highest rate over consecutive spans of at least one second of PCR time. */
    perSecondMinBps: number | null;
    perSecondMaxBps: number | null;
  };
  /** Smallest lead of a PES's DTS (or PTS) over the PCR, ms per PID: negative means a decoder underflows. */
  minDtsLeadMs: Record<string, number>;
  programs: ProgramReport[];
  services: { serviceId: number; providerName: string; serviceName: string }[];
  pids: Record<string, { packets: number; continuityErrors: number }>;
  /**
   * TS packets missing where the continuity counters jump (the count each
   * jump skips, summed over PIDs): exact for a gap of fewer than 15 packets
   * of one PID (15 lost reads as a repeat), a lower bound beyond, as the
   * 4-bit counter wraps.
   */
  missingPackets: number;
  nullPackets: number;
}

function ms(v: number | null, digits = 1): string {
  return v === null ? 'n/a' : `${v.toFixed(digits)} ms`;
}

function mbps(v: number | null): string {
  return v === null ? 'n/a' : `${(v / 1e6).toFixed(3)} Mbit/s`;
}

/** A report for people: programs, streams, then each check with its count. */
export function formatReport(r: AnalyserReport): string {
  const lines: string[] = [];
  const dur = r.durationMs === null ? 'unknown duration' : `${(r.durationMs / 1000).toFixed(2)} s`;
  lines.push(`${r.packets} packets (${r.bytes} bytes), ${dur}, ${mbps(r.bitrate.totalBps)}`);
  for (const s of r.services) lines.push(`service ${s.serviceId}: "${s.serviceName}" from "${s.providerName}"`);
  for (const p of r.programs) {
    lines.push(`program ${p.programNumber}: PMT on PID ${p.pmtPid}, PCR on PID ${p.pcrPid ?? '?'}`);
    for (const s of p.streams) {
      const rate = r.bitrate.perPid[String(s.pid)];
      const reg = s.registration ? ` [${s.registration}]` : '';
      lines.push(`  PID ${s.pid}: ${s.kind}${reg}${rate === undefined ? '' : `, ${mbps(rate)}`}`);
    }
  }
  lines.push('');
  lines.push(
    `intervals: PAT max ${ms(r.intervals.patMaxMs)}, PMT max ${ms(r.intervals.pmtMaxMs)}, PCR max ${ms(r.intervals.pcrMaxMs)} (mean ${ms(r.intervals.pcrMeanMs)})`,
  );
  for (const [pid, v] of Object.entries(r.intervals.ptsMaxMs)) lines.push(`  PTS max on PID ${pid}: ${ms(v)}`);
  const jitter = r.pcr.jitterMaxNs === null ? 'n/a' : `${Math.round(r.pcr.jitterMaxNs)} ns`;
  lines.push(
    `PCR: ${r.pcr.count} on PID ${r.pcr.pid ?? '-'}, ${r.pcr.constantRate ? 'constant rate' : 'variable rate'}, max deviation ${jitter}`,
  );
  if (r.bitrate.perSecondMinBps !== null)
    lines.push(`rate per second: ${mbps(r.bitrate.perSecondMinBps)} to ${mbps(r.bitrate.perSecondMaxBps)}`);
  lines.push('');
  const row = (name: CheckName) => {
    const v = r.checks[name];
    lines.push(`  ${name.padEnd(34)} ${v === null ? 'not measurable' : v === 0 ? 'ok' : `${v} ERROR${v === 1 ? '' : 'S'}`}`);
  };
  lines.push('TR 101 290 priority 1:');
  for (const c of PRIORITY_1_CHECKS) row(c);
  lines.push('TR 101 290 priority 2:');
  for (const c of PRIORITY_2_CHECKS) row(c);
  lines.push('');
  lines.push(
    r.priority1Errors === 0
      ? 'no priority 1 errors'
      : `${r.priority1Errors} priority 1 error(s): receivers will lose or corrupt this stream`,
  );
  return lines.join('\n');
}
