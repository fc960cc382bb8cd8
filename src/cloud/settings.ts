/**
 * The inputs of `fieldcast cloud setup`, checked once where they enter (the
 * CLI), from flags and, where it gives them, the box's config: the SRT
 * latency and stream id of its destination, its passphrase, and — when the
 * stream is bonded — the bonding receiver's address, which is then the
 * address the flow hears from. The latency and stream id take the config
 * schema's own validators (src/config).
 */
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { z } from 'zod';
import { type Config, DestinationConfig, srtPassphrase } from '../config/schema.js';
import { Secret } from '../srt/secret.js';
import { parseSrtUrl } from '../srt/url.js';
import { checkRoleArn, checkSecretName, type FlowArn, parseFlowArn } from './arn.js';
import { parseCidr } from './cidr.js';
import { CloudInputError } from './errors.js';

/** MediaConnect SRT listener ports: 1024-65535 less the two it keeps for Zixi. */
const RESERVED_PORTS = new Set([2077, 2088]);
export const IngestPort = z
  .number()
  .int()
  .min(1024)
  .max(65535)
  .refine((p) => !RESERVED_PORTS.has(p), 'not 2077 or 2088 (MediaConnect keeps them for Zixi)');
const MinLatency = DestinationConfig.shape.latencyMs.removeDefault();
const StreamId = DestinationConfig.shape.streamId;

export interface SetupOptions {
  flow: FlowArn;
  /** Undefined: the source's current port when it is already an SRT listener. */
  ingestPort: number | undefined;
  whitelistCidr: string;
  /** Where the CIDR came from, for the report. */
  cidrFrom: string;
  minLatency: number;
  streamId: string | undefined;
  passphrase: Secret | undefined;
  roleArn: string | undefined;
  secretName: string | undefined;
  sourceName: string | undefined;
  /**
   * Source failover on the flow (its two sources: MERGE or FAILOVER), set if
   * it is not so already; with it, a --source the flow does not have yet is
   * added as its second source.
   */
  failover: FailoverWish | undefined;
  start: boolean;
}

/** MediaConnect's FailoverConfig as setup sets it. */
export interface FailoverWish {
  mode: 'MERGE' | 'FAILOVER';
  /** ms the flow waits for the other source's copy of a packet (MERGE only); undefined: MediaConnect's own or the flow's. */
  recoveryWindowMs: number | undefined;
}

/** A MERGE recovery window, ms: above the difference in delay between the two paths (the console offers 100-15000). */
export const RecoveryWindow = z.number().int().min(100).max(15_000);

export interface SetupFlags {
  flow: string;
  port?: string;
  cidr?: string;
  latencyMs?: string;
  streamId?: string;
  /** The passphrase file's text. */
  passphraseText?: string;
  roleArn?: string;
  secretName?: string;
  source?: string;
  /** merge or failover. */
  failover?: string;
  recoveryWindowMs?: string;
  /** Which of the config's destinations (0 or 1) gives the latency, stream id, passphrase and address. */
  destination?: string;
  start?: boolean;
}

/** What the box's config says about its destination. */
export type SetupConfig = Pick<Config, 'destinations' | 'bond'>;

function zodCheck<T>(schema: z.ZodType<T>, value: unknown, flag: string): T {
  const r = schema.safeParse(value);
  if (!r.success)
    throw new CloudInputError(`${flag}: ${r.error.issues.map((i) => i.message).join('; ')} (got ${JSON.stringify(value)})`, { flag });
  return r.data;
}

function numberFlag(text: string, flag: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new CloudInputError(`${flag} must be a number (got "${text}")`, { flag });
  return n;
}

/** The sender's address from the config: with bonding, the receiver in the destination URL (a name is resolved). */
async function senderFromConfig(
  config: SetupConfig | undefined,
  dest: SetupConfig['destinations'][number] | undefined,
): Promise<{ cidr: string; from: string } | undefined> {
  if (!dest || !config?.bond.enabled) return undefined;
  const host = parseSrtUrl(dest.url).host;
  let ip = host;
  if (isIP(host) === 0) {
    try {
      ip = (await dns.lookup(host, { family: 4 })).address;
    } catch (err) {
      throw new CloudInputError(
        `cannot resolve the bonding receiver ${host} (the config's destination) to an address: ${(err as Error).message}; give --cidr`,
        { host },
      );
    }
  }
  if (isIP(ip) !== 4) return undefined;
  return { cidr: `${ip}/32`, from: `the bonding receiver in the config's destination (${host})` };
}

export async function setupOptions(f: SetupFlags, config: SetupConfig | undefined): Promise<SetupOptions> {
  const flow = parseFlowArn(f.flow);
  const index = f.destination === undefined ? 0 : numberFlag(f.destination, '--destination');
  if (index !== 0 && index !== 1)
    throw new CloudInputError(`--destination must be 0 or 1 (got "${f.destination}")`, { flag: '--destination' });
  const dest = config?.destinations[index];
  if (config && index > 0 && !dest)
    throw new CloudInputError(`the config has no destinations.${index}: add it, or leave out --destination`, { flag: '--destination' });
  const bonded = config?.bond.enabled === true;
  let whitelistCidr: string;
  let cidrFrom: string;
  if (f.cidr !== undefined) {
    whitelistCidr = parseCidr(f.cidr);
    cidrFrom = '--cidr';
  } else {
    const s = await senderFromConfig(config, dest);
    if (!s)
      throw new CloudInputError(
        dest && !bonded
          ? "give --cidr: the box sends straight to the flow (bond off), from its uplinks' public addresses, which the config cannot know"
          : "give --cidr (who may send to the flow: the bonding receiver's public address, e.g. 203.0.113.7/32), or --config with a bonded destination",
        {},
      );
    whitelistCidr = s.cidr;
    cidrFrom = s.from;
  }
  let ingestPort: number | undefined;
  if (f.port !== undefined) ingestPort = zodCheck(IngestPort, numberFlag(f.port, '--port'), '--port');
  else if (dest && !bonded) {
    // Unbonded, the destination URL is the flow's own listener.
    const p = parseSrtUrl(dest.url).port;
    ingestPort = IngestPort.safeParse(p).success ? p : undefined;
  }
  const minLatency =
    f.latencyMs !== undefined
      ? zodCheck(MinLatency, numberFlag(f.latencyMs, '--latency-ms'), '--latency-ms')
      : (dest?.latencyMs ?? DestinationConfig.shape.latencyMs.parse(undefined));
  const streamId = f.streamId !== undefined ? zodCheck(StreamId, f.streamId, '--stream-id') : dest?.streamId;
  let passphrase: Secret | undefined;
  if (f.passphraseText !== undefined) {
    // A file ends with a newline; the passphrase itself has none.
    const text = f.passphraseText.replace(/\r?\n$/, '');
    const r = srtPassphrase.safeParse(text);
    if (!r.success)
      throw new CloudInputError(`the passphrase file: ${r.error.issues[0]?.message ?? 'not a passphrase'} (it has ${text.length})`, {});
    passphrase = new Secret(text);
  } else if (dest?.passphrase !== undefined) passphrase = new Secret(dest.passphrase);
  return {
    flow,
    ingestPort,
    whitelistCidr,
    cidrFrom,
    minLatency,
    streamId,
    passphrase,
    roleArn: f.roleArn !== undefined ? checkRoleArn(f.roleArn) : undefined,
    secretName: f.secretName !== undefined ? checkSecretName(f.secretName) : undefined,
    sourceName: f.source,
    failover: failoverWish(f),
    start: f.start === true,
  };
}

function failoverWish(f: SetupFlags): FailoverWish | undefined {
  if (f.failover === undefined) {
    if (f.recoveryWindowMs !== undefined)
      throw new CloudInputError('--recovery-window goes with --failover merge', { flag: '--recovery-window' });
    return undefined;
  }
  const mode = f.failover.toUpperCase();
  if (mode !== 'MERGE' && mode !== 'FAILOVER')
    throw new CloudInputError(`--failover must be merge or failover (got "${f.failover}")`, { flag: '--failover' });
  if (f.recoveryWindowMs !== undefined && mode !== 'MERGE')
    throw new CloudInputError('--recovery-window is a MERGE setting: use it with --failover merge', { flag: '--recovery-window' });
  const recoveryWindowMs =
    f.recoveryWindowMs === undefined
      ? undefined
      : zodCheck(RecoveryWindow, numberFlag(f.recoveryWindowMs, '--recovery-window'), '--recovery-window');
  return { mode, recoveryWindowMs };
}
