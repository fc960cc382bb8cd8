/**
 * What the flow's source should be, and the changes that get it there: a
 * pure comparison of what DescribeFlow returned with what setup was asked
 * for, so a second run with the same inputs finds nothing to change and
 * sends no request. Field names are UpdateFlowSource's (MediaConnect API
 * reference); the SDK puts them on the wire in camelCase.
 */
import type { SourceView } from './flow.js';

export const SRT_LISTENER = 'srt-listener';
/** srt-password: the passphrase is in a Secrets Manager secret; the key length comes from the SRT handshake (pbkeylen). */
export const SRT_PASSWORD = 'srt-password';

export interface DesiredSource {
  ingestPort: number;
  whitelistCidr: string;
  /** ms; the session uses the larger of both sides' latency. */
  minLatency: number;
  /** Left as the source has it when undefined. */
  streamId: string | undefined;
  /** Left as the source has it when undefined (no passphrase given). */
  decryption: { roleArn: string; secretArn: string } | undefined;
}

export interface SourceChanges {
  protocol?: typeof SRT_LISTENER;
  ingestPort?: number;
  whitelistCidr?: string;
  minLatency?: number;
  streamId?: string;
  decryption?: { keyType: typeof SRT_PASSWORD; roleArn: string; secretArn: string };
}

/** The fields that differ; all of them when the current source is unknown (a dry run) or speaks another protocol. */
export function planSource(current: SourceView | undefined, want: DesiredSource): SourceChanges {
  const all = current === undefined || current.protocol !== SRT_LISTENER;
  const c: SourceChanges = {};
  if (all) c.protocol = SRT_LISTENER;
  if (all || current.ingestPort !== want.ingestPort) c.ingestPort = want.ingestPort;
  if (all || current.whitelistCidr !== want.whitelistCidr) c.whitelistCidr = want.whitelistCidr;
  if (all || current.minLatency !== want.minLatency) c.minLatency = want.minLatency;
  if (want.streamId !== undefined && (all || current.streamId !== want.streamId)) c.streamId = want.streamId;
  const d = want.decryption;
  if (
    d !== undefined &&
    (all ||
      current.decryption?.keyType !== SRT_PASSWORD ||
      current.decryption.roleArn !== d.roleArn ||
      current.decryption.secretArn !== d.secretArn)
  )
    c.decryption = { keyType: SRT_PASSWORD, roleArn: d.roleArn, secretArn: d.secretArn };
  return c;
}

export function hasChanges(c: SourceChanges): boolean {
  return Object.keys(c).length > 0;
}

/** The changes in plain words, with what each was before when known. */
export function describeChanges(c: SourceChanges, before: SourceView | undefined): string[] {
  const was = (v: unknown) => (before === undefined ? '' : ` (was ${v === undefined || v === '' ? 'unset' : String(v)})`);
  const out: string[] = [];
  if (c.protocol) out.push(`protocol ${c.protocol}${was(before?.protocol)}`);
  if (c.ingestPort !== undefined) out.push(`ingest port ${c.ingestPort}${was(before?.ingestPort)}`);
  if (c.whitelistCidr !== undefined) out.push(`senders allowed from ${c.whitelistCidr}${was(before?.whitelistCidr)}`);
  if (c.minLatency !== undefined) out.push(`minimum latency ${c.minLatency} ms${was(before?.minLatency)}`);
  if (c.streamId !== undefined) out.push(`stream id "${c.streamId}"${was(before?.streamId)}`);
  if (c.decryption) out.push(`SRT password read from ${c.decryption.secretArn} with role ${c.decryption.roleArn}`);
  return out;
}
