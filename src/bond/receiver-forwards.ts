/**
 * `--forward` as the receiver takes it: one SRT listener, to which each
 * group's packets are relayed as they came (the SRT session runs from the
 * unit to that listener; the query is not read), or two, each group's
 * session then ended here and its TS sent on to both
 * (receiver-fanout.ts) — at most two, as a MediaConnect flow takes two
 * sources (FAILOVER or MERGE).
 *
 * A fan-out forward is a destination like the box's own (DestinationConfig,
 * one shape for both): its latency, passphrase, pbkeylen and stream id come
 * from its URL's query, its latency otherwise from `forwardLatencyMs`, its
 * passphrase otherwise from the unit's (the one the receiver decrypts with),
 * so an ingest set up for the unit's own stream takes the forward unchanged.
 * Pure: no addon, no I/O; everything is checked here, before anything starts.
 */
import { DestinationConfig, type DestinationConfigT, MAX_DESTINATIONS, srtPassphrase } from '../config/schema.js';
import { formatHostPort, parseHostPort } from '../lib/hostport.js';
import type { Secret } from '../srt/secret.js';
import { parseSrtUrl } from '../srt/url.js';
import { ReceiverOptionsError } from './receiver-errors.js';

/**
 * A forward's SRT latency when its URL gives none (ms). The forward runs
 * from the receiver to an ingest in the same region, a few ms of RTT: this
 * covers several retransmissions (3-4 x RTT and more, FACTS.md "SRT"), and the
 * ingest's own minimum latency raises it where it is set higher (SRT uses
 * the larger of both sides).
 */
export const FORWARD_LATENCY_DEFAULT_MS = 250;

export type ForwardPlan = { mode: 'relay'; target: string } | { mode: 'fanout'; forwards: DestinationConfigT[] };

export interface ForwardOptions {
  /** The unit's passphrase: the receiver decrypts with it, and each forward without its own encrypts with it. */
  passphrase?: Secret;
  /** Each forward's latency when its URL says none (default FORWARD_LATENCY_DEFAULT_MS). */
  forwardLatencyMs?: number;
}

function fail(message: string, details: Record<string, unknown> = {}): never {
  throw new ReceiverOptionsError(message, details);
}

export function planForwards(forward: string | readonly string[], o: ForwardOptions = {}): ForwardPlan {
  const list = typeof forward === 'string' ? [forward] : [...forward];
  if (list.length === 0) fail('a --forward srt://HOST:PORT is needed');
  if (list.length > MAX_DESTINATIONS)
    fail(
      `at most ${MAX_DESTINATIONS} --forward (a MediaConnect flow takes two sources); ${list.length} were given — run another receiver for more`,
      { forwards: list.length },
    );
  if (o.passphrase !== undefined) {
    const p = srtPassphrase.safeParse(o.passphrase.reveal());
    if (!p.success) fail(`the passphrase must be ${p.error.issues[0]?.message ?? 'valid'} (got ${o.passphrase.length} characters)`);
  }
  const latency = o.forwardLatencyMs ?? FORWARD_LATENCY_DEFAULT_MS;
  if (!Number.isInteger(latency) || latency < 20 || latency > 15_000)
    fail(`the forward latency must be 20 to 15000 ms (got ${latency})`, { forwardLatencyMs: latency });
  if (list.length === 1) {
    if (o.passphrase !== undefined)
      fail(
        'a passphrase is for two --forward only: with one, the SRT session runs from the unit to the listener through the receiver, which never decrypts it (give the listener the unit passphrase)',
      );
    return { mode: 'relay', target: list[0]! };
  }
  const forwards = list.map((text, i) => forwardDestination(text, i, o.passphrase, latency));
  const [a, b] = forwards.map((d) => {
    const u = new URL(d.url);
    return `${u.hostname.toLowerCase()}:${u.port}`;
  });
  if (a === b)
    fail(`the two --forward name the same listener (${a}): give two listeners (a flow's two sources, or two flows)`, { target: a });
  return { mode: 'fanout', forwards };
}

function forwardDestination(text: string, i: number, passphrase: Secret | undefined, latencyMs: number): DestinationConfigT {
  const flag = `--forward ${i + 1}`;
  let e: ReturnType<typeof parseSrtUrl>;
  try {
    e = parseSrtUrl(text);
  } catch (err) {
    fail(`${flag}: ${(err as Error).message}`, { forward: i + 1 });
  }
  if (e.mode !== 'caller')
    fail(`${flag}: the receiver calls the listener (mode=caller); ${e.mode} is not possible here`, { forward: i + 1, mode: e.mode });
  if (e.host === '') fail(`${flag}: the listener's host is missing (srt://HOST:PORT)`, { forward: i + 1 });
  const target = formatHostPort(e.host, e.port);
  // The URL that is kept holds no passphrase: the config shape carries it apart (destinationUrl puts it back for libsrt).
  const url = new URL(text.trim());
  url.searchParams.delete('passphrase');
  const pass = e.passphrase ?? passphrase;
  const parsed = DestinationConfig.safeParse({
    name: `forward ${i + 1}`,
    url: url.toString(),
    latencyMs: e.latencyMs ?? latencyMs,
    ...(pass ? { passphrase: pass.reveal() } : {}),
    ...(e.pbkeylen !== undefined ? { pbkeylen: e.pbkeylen } : {}),
    ...(e.streamId !== undefined ? { streamId: e.streamId } : {}),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    fail(`${flag} (${target}): ${issue?.path.join('.') || 'url'} must be ${issue?.message ?? 'valid'}`, { forward: i + 1 });
  }
  return parsed.data;
}

/** host:port of a forward, for logs and statistics (never its query: it may hold a passphrase). */
export function forwardTarget(d: DestinationConfigT): string {
  const e = parseSrtUrl(d.url);
  return formatHostPort(e.host, e.port);
}

/** `srt://host:port?…` or `host:port` -> host and port. */
export function parseForwardTarget(text: string): { host: string; port: number } {
  const m = /^(?:srt:\/\/)?(\[[0-9a-fA-F:.]+\]|[^\s/:?#[\]]+):(\d{1,5})(?:[/?].*)?$/.exec(text.trim());
  if (!m) throw new ReceiverOptionsError(`forward target "${text}" is not srt://HOST:PORT (e.g. srt://127.0.0.1:9000)`, { value: text });
  try {
    return parseHostPort(`${m[1]}:${m[2]}`, 'forward target');
  } catch (e) {
    throw new ReceiverOptionsError((e as Error).message, { value: text });
  }
}
