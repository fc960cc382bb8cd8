/**
 * A modem reading for people: the summary `fieldcast modem` prints, and the
 * JSON it prints. Both mask IMEI and ICCID; only the reading itself, which
 * stays inside the box, holds them in full.
 */
import { maskIdentifier } from './masking.js';
import type { ModemReading } from './reader.js';
import type { CellSignal } from './signal.js';
import type { SimStatus } from './sim.js';

/** A copy of the reading fit to show or export: identifiers masked. */
export function maskedReading(r: ModemReading): ModemReading {
  const identity = { ...r.identity };
  if (identity.imei) identity.imei = maskIdentifier(identity.imei);
  if (identity.iccid) identity.iccid = maskIdentifier(identity.iccid);
  return { ...r, identity };
}

const SIM_WORDS: Readonly<Record<SimStatus['state'], string>> = {
  ready: 'ready',
  'pin-required': 'locked, needs its PIN',
  'puk-required': 'blocked, needs its PUK',
  missing: 'not found',
  busy: 'busy (still starting)',
  'device-locked': 'locked to another device',
  unknown: 'state unknown',
};

function cellText(c: CellSignal): string {
  const parts: string[] = [c.band ? `${c.rat} ${c.band}` : c.rat];
  if (c.rsrpDbm !== undefined) parts.push(`RSRP ${c.rsrpDbm} dBm`);
  if (c.rsrqDb !== undefined) parts.push(`RSRQ ${c.rsrqDb} dB`);
  if (c.sinrDb !== undefined) parts.push(`SINR ${c.sinrDb} dB`);
  if (c.rscpDbm !== undefined) parts.push(`RSCP ${c.rscpDbm} dBm`);
  if (c.ecioDb !== undefined) parts.push(`Ec/Io ${c.ecioDb} dB`);
  if (c.rssiDbm !== undefined) parts.push(`RSSI ${c.rssiDbm} dBm`);
  if (c.cellId !== undefined) parts.push(`cell ${c.cellId}`);
  if (c.pci !== undefined) parts.push(`PCI ${c.pci}`);
  return parts.join(', ');
}

export function formatModemReading(reading: ModemReading): string {
  const r = maskedReading(reading);
  const id = r.identity;
  const lines = [`Modem at ${r.port} (profile ${r.profile})`];
  const what = [id.manufacturer, id.model].filter(Boolean).join(' ') || 'unknown';
  lines.push(`  Modem:         ${what}${id.firmware ? `, firmware ${id.firmware}` : ''}`);
  lines.push(`  IMEI:          ${id.imei ?? 'not read'}`);
  const sim = `${SIM_WORDS[r.sim.state]}${r.sim.unlockedWithPin ? ' (unlocked with the PIN)' : ''}`;
  lines.push(`  SIM:           ${sim}${id.iccid ? `, ICCID ${id.iccid}` : ''}`);
  if (r.sim.problem) lines.push(`                 ${r.sim.problem.message} (${r.sim.problem.code})`);
  const op = r.operator;
  const opText = op?.name ? `${op.name}${op.accessTechnology ? `, ${op.accessTechnology}` : ''}` : 'none';
  lines.push(`  Operator:      ${opText}`);
  const domains = r.registration.domains.map((d) => `${d.domain.toUpperCase()} ${d.state}`).join(', ');
  lines.push(`  Registration:  ${r.registration.state}${domains ? ` (${domains})` : ''}`);
  const csq = r.signal.csq;
  lines.push(`  Signal (CSQ):  ${csq?.rssiDbm !== undefined ? `${csq.rssiDbm} dBm` : 'unknown'}`);
  const ext = r.signal.extended;
  if (ext) {
    lines.push(`  Serving cell:  ${ext.tech}${ext.state ? ` (${ext.state})` : ''}`);
    for (const c of ext.cells) lines.push(`                 ${cellText(c)}`);
  }
  const nm = r.networkMode;
  if (nm) {
    const how = nm.commands.join('; ');
    lines.push(`  Network mode:  ${nm.kind.toUpperCase()}: ${how}${nm.restartNeeded ? ' (applies after the modem restarts)' : ''}`);
  }
  if (r.refused.length) lines.push(`  Not supported: ${r.refused.join(', ')}`);
  return lines.join('\n');
}
