/**
 * The link emulator's configuration as one zod schema: per link, a listen
 * address (the sender's link sends there, see BondLinkConfig.via), the target
 * (the receiver), and per direction rate, queue, delay, jitter and loss, plus
 * a schedule of outages and changes. Rates take the units operators type
 * ("8M", "4500k") or bit/s; 0 or "unlimited" lifts the limit.
 */
import { z } from 'zod';
import { parseHostPort } from '../lib/hostport.js';
import { parseBitrate } from '../lib/units.js';
import { LinkSimConfigError } from './errors.js';

const hostPort = (allowZero: boolean) =>
  z.string().refine(
    (s) => {
      try {
        parseHostPort(s, 'address', allowZero);
        return true;
      } catch {
        return false;
      }
    },
    { message: allowZero ? 'host:port (port 0 picks a free one), e.g. 127.0.0.1:6001' : 'host:port, e.g. 127.0.0.1:5000' },
  );

const rate = z.union([z.number(), z.string()]).transform((v, ctx): number => {
  if (v === 0 || v === 'unlimited') return 0;
  if (typeof v === 'number') {
    if (Number.isFinite(v) && v >= 1000 && v <= 10e9) return Math.round(v);
    ctx.addIssue({ code: 'custom', message: 'a rate from 1000 bit/s to 10 Gbit/s, 0 or "unlimited"' });
    return z.NEVER;
  }
  try {
    const bps = parseBitrate(v, 'rate');
    if (bps >= 1000 && bps <= 10e9) return bps;
  } catch {
    // reported below
  }
  ctx.addIssue({ code: 'custom', message: 'a rate such as "8M", "4500k" or 3000000 (bit/s), 0 or "unlimited"' });
  return z.NEVER;
});

/** One direction's impairments; every field optional (a live change names only what changes). */
export const DirectionPatchSchema = z
  .object({
    rate: rate.describe(
      'Bottleneck rate of IP packets (each datagram plus its 28-byte IPv4/UDP header, 48 for IPv6), token bucket; 0 or "unlimited" for none',
    ),
    burstBytes: z.number().int().min(1500).max(10_000_000).describe('Token bucket depth in bytes'),
    queuePackets: z.number().int().min(1).max(1_000_000).describe('Queue limit in packets (tail drop beyond it)'),
    queueMs: z.number().min(1).max(60_000).describe('Queue limit as queueing delay in ms (tail drop beyond it)'),
    delayMs: z.number().min(0).max(10_000).describe('Base one-way delay in ms'),
    jitterMs: z.number().min(0).max(5_000).describe('Jitter: each packet gets an extra delay uniform in ±jitterMs'),
    loss: z.number().min(0).max(1).describe('Long-run fraction of packets lost (0.005 = 0.5%)'),
    burst: z.number().min(1).max(10_000).describe('Mean loss burst length in packets (1 = independent losses; Gilbert-Elliott)'),
    reorder: z.boolean().describe('Let jitter reorder packets (off: a packet never overtakes the one before it)'),
  })
  .partial()
  .strict();

export type DirectionPatchInput = z.input<typeof DirectionPatchSchema>;
export type DirectionPatch = z.output<typeof DirectionPatchSchema>;

export interface DirectionParams {
  /** bit/s; 0 = unlimited. */
  rate: number;
  burstBytes: number;
  queuePackets: number;
  queueMs: number;
  delayMs: number;
  jitterMs: number;
  loss: number;
  burst: number;
  reorder: boolean;
}

export const DIRECTION_DEFAULTS: Readonly<DirectionParams> = {
  rate: 0,
  burstBytes: 6000,
  queuePackets: 1000,
  queueMs: 200,
  delayMs: 0,
  jitterMs: 0,
  loss: 0,
  burst: 1,
  reorder: false,
};

export const ScheduleEventSchema = z
  .object({
    at: z.number().min(0).max(86_400).describe('Seconds after start'),
    outage: z.number().positive().max(86_400).optional().describe('The link goes dark (both directions) for this many seconds'),
    up: DirectionPatchSchema.optional().describe('Changes to the sender-to-receiver direction from then on'),
    down: DirectionPatchSchema.optional().describe('Changes to the receiver-to-sender direction from then on'),
  })
  .strict()
  .refine((e) => e.outage !== undefined || e.up !== undefined || e.down !== undefined, {
    message: 'a schedule event needs "outage", "up" or "down"',
  });

export type ScheduleEvent = z.output<typeof ScheduleEventSchema>;

export const LinkSpecSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,32}$/, '1-32 letters, digits, "_", "." or "-"')
      .describe('Link name, e.g. cell-a'),
    listen: hostPort(true).default('127.0.0.1:0').describe('Where the sender sends this link (BondLinkConfig.via)'),
    target: hostPort(false).optional().describe('Where the relay forwards (default: the emulator-wide target)'),
    up: DirectionPatchSchema.default({}).describe('Sender to receiver'),
    down: DirectionPatchSchema.default({}).describe('Receiver to sender'),
    schedule: z.array(ScheduleEventSchema).max(1000).default([]).describe('Outages and changes over time'),
  })
  .strict();

export type LinkSpecInput = z.input<typeof LinkSpecSchema>;
export type LinkSpec = z.output<typeof LinkSpecSchema>;

export const LinkSimConfigSchema = z
  .object({
    seed: z.number().int().min(0).max(0xffff_ffff).default(1).describe('Seed of the random draws: the same seed repeats a run'),
    target: hostPort(false).optional().describe('Where every relay forwards (the receiver), host:port'),
    links: z.array(LinkSpecSchema).min(1).max(64).describe('The emulated uplinks'),
  })
  .strict()
  .check((ctx) => {
    const seen = new Set<string>();
    ctx.value.links.forEach((l, i) => {
      if (seen.has(l.name))
        ctx.issues.push({ code: 'custom', path: ['links', i, 'name'], input: l.name, message: 'link names must be unique' });
      seen.add(l.name);
      if (!l.target && !ctx.value.target) {
        ctx.issues.push({
          code: 'custom',
          path: ['links', i, 'target'],
          input: l.target,
          message: 'no target here and no emulator-wide "target"',
        });
      }
    });
  });

export type LinkSimConfigInput = z.input<typeof LinkSimConfigSchema>;
export type LinkSimConfig = z.output<typeof LinkSimConfigSchema>;

function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(top level)'}: ${i.message}`);
}

/** Validates a link emulator config; throws LinkSimConfigError naming every bad key. */
export function parseLinkSimConfig(input: unknown, source?: string): LinkSimConfig {
  const r = LinkSimConfigSchema.safeParse(input);
  if (!r.success) throw new LinkSimConfigError(describeIssues(r.error), source);
  return r.data;
}

/** Validates a live change to one direction. */
export function parseDirectionPatch(input: unknown, source = 'link change'): DirectionPatch {
  const r = DirectionPatchSchema.safeParse(input);
  if (!r.success) throw new LinkSimConfigError(describeIssues(r.error), source);
  return r.data;
}

export function applyPatch(base: DirectionParams, patch: DirectionPatch): DirectionParams {
  const out = { ...base };
  for (const [k, v] of Object.entries(patch) as [keyof DirectionParams, never][]) if (v !== undefined) out[k] = v;
  return out;
}
