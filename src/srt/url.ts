/**
 * srt:// URLs, following srt-live-transmit's conventions (srt-live-transmit
 * docs, "SRT URI"): `srt://host:port?mode=caller|listener|rendezvous&
 * latency=MS&passphrase=…&pbkeylen=16|24|32&streamid=…&maxbw=…&inputbw=…&
 * oheadbw=…&conntimeo=MS`.
 *
 * Units: latency, rcvlatency, peerlatency, conntimeo and peeridletimeo are in
 * MILLISECONDS as srt-live-transmit and libsrt take them. ffmpeg's srt URLs
 * take latency in MICROseconds (`latency=2000000` is 2 s there); a value
 * that only makes sense as microseconds is refused with a hint. maxbw and
 * inputbw are bytes per second (libsrt SRTO_MAXBW/SRTO_INPUTBW); oheadbw is
 * a percentage.
 *
 * Mode defaults like srt-live-transmit: no host → listener, else caller.
 * `[v6]` hosts are IPv6. `adapter` and `port` in the query set the local
 * address and port (caller, rendezvous). Unknown parameters are refused: a
 * typo in "passphrase" must not silently send in the clear.
 */

import { SrtUrlInvalidError } from './errors.js';
import { Secret } from './secret.js';

export type SrtMode = 'caller' | 'listener' | 'rendezvous';

/** A validated SRT destination or listening point. */
export interface SrtEndpoint {
  mode: SrtMode;
  /** Host name or address without brackets; '' for a listener on every address. */
  host: string;
  /** 0 only for a listener: any free port (see the 'listening' event). */
  port: number;
  ipv6: boolean;
  /** Local address and port (caller, rendezvous); rendezvous defaults to `port`. */
  adapter?: string;
  localPort?: number;
  latencyMs?: number;
  rcvLatencyMs?: number;
  peerLatencyMs?: number;
  passphrase?: Secret;
  pbkeylen?: 16 | 24 | 32;
  streamId?: string;
  /** Bytes per second; -1 unlimited, 0 = inputBw × (100 + overheadBw) / 100. */
  maxBw?: number;
  inputBw?: number;
  overheadBw?: number;
  connectTimeoutMs?: number;
  peerIdleTimeoutMs?: number;
  /** Live payload per SRT packet: 1316 = 7 × 188-byte TS packets (libsrt SRT_LIVE_DEF_PLSIZE). */
  payloadSize: number;
}

/** Values the config or the CLI give beside the URL; they win over the URL's. */
export type SrtEndpointOverrides = Partial<Omit<SrtEndpoint, 'passphrase'>> & { passphrase?: string | Secret };

const MAX_MS = 60_000;
/**
 * Passphrase length, as libsrt checks it: SRTO_PASSPHRASE refuses fewer than
 * 10 or more than HAICRYPT_PWD_MAX_SZ (80) characters (haicrypt.h; srt.h's
 * comment says 79, but libsrt 1.5.1 accepts 80 and uses all of them). AWS
 * MediaConnect's SRT password is 10–80 characters too. The config schema and
 * the pipeline channel use these same limits.
 */
export const SRT_PASSPHRASE_LENGTH = { min: 10, max: 80 } as const;
const PASS_MIN = SRT_PASSPHRASE_LENGTH.min;
const PASS_MAX = SRT_PASSPHRASE_LENGTH.max;
const STREAMID_MAX = 512;

const PARAMS = [
  'mode',
  'latency',
  'rcvlatency',
  'peerlatency',
  'passphrase',
  'pbkeylen',
  'streamid',
  'maxbw',
  'inputbw',
  'oheadbw',
  'conntimeo',
  'peeridletimeo',
  'payloadsize',
  'adapter',
  'port',
] as const;
type Param = (typeof PARAMS)[number];

function bad(parameter: string, message: string): SrtUrlInvalidError {
  return new SrtUrlInvalidError(message, { parameter });
}

function integer(name: string, text: string, min: number, max: number, unit: string): number {
  if (!/^-?\d+$/.test(text)) throw bad(name, `${name} must be a whole number${unit ? ` of ${unit}` : ''}, not "${text}"`);
  const v = Number(text);
  if (v < min || v > max) throw bad(name, `${name} must be between ${min} and ${max}${unit ? ` ${unit}` : ''}, not ${v}`);
  return v;
}

function milliseconds(name: string, text: string, min: number): number {
  if (/^\d+$/.test(text) && Number(text) > MAX_MS) {
    throw bad(
      name,
      `${name}=${text} is too long: it is in milliseconds here (as in srt-live-transmit); ffmpeg's srt URLs use microseconds, so ${text} µs would be ${latencyHint(text)}`,
    );
  }
  return integer(name, text, min, MAX_MS, 'ms');
}

function latencyHint(text: string): string {
  return `${Number(text) / 1000} ms`;
}

function parseKeyLength(text: string): 16 | 24 | 32 | undefined {
  const n = integer('pbkeylen', text, 0, 32, 'bytes');
  if (n === 0) return undefined; // srt-live-transmit: 0 = the default
  if (n !== 16 && n !== 24 && n !== 32) throw bad('pbkeylen', `pbkeylen must be 16, 24 or 32 (AES-128/192/256), not ${n}`);
  return n;
}

function decode(name: string, text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, '%20'));
  } catch {
    throw bad(name, `${name} has a broken %-escape`);
  }
}

/** Parses and validates an srt:// URL. Errors name the parameter and never echo the passphrase. */
export function parseSrtUrl(text: string, overrides: SrtEndpointOverrides = {}): SrtEndpoint {
  if (typeof text !== 'string' || !/^srt:\/\//i.test(text.trim())) {
    throw bad('url', 'an SRT address starts with srt://, e.g. srt://ingest.example.com:5000?latency=1500');
  }
  const rest = text.trim().slice(6);
  const q = rest.indexOf('?');
  const authority = (q < 0 ? rest : rest.slice(0, q)).replace(/\/$/, '');
  const query = q < 0 ? '' : rest.slice(q + 1);

  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s/:?#[\]@]*)):(\d{1,5})$/.exec(authority);
  if (!m) {
    const hint = authority.includes('/') ? ' (no path after the port)' : '';
    throw bad('host', `"${authority}" is not host:port${hint}; write srt://HOST:PORT, or srt://[IPv6]:PORT`);
  }
  const ipv6 = m[1] !== undefined;
  const host = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);

  const values = new Map<Param, string>();
  if (query !== '') {
    for (const part of query.split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const key = (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
      if (!(PARAMS as readonly string[]).includes(key)) {
        throw bad(key, `unknown SRT parameter "${key}" (known: ${PARAMS.join(', ')})`);
      }
      if (eq < 0) throw bad(key, `${key} needs a value (${key}=…)`);
      if (values.has(key as Param)) throw bad(key, `${key} is given twice`);
      values.set(key as Param, decode(key, part.slice(eq + 1)));
    }
  }

  const modeText = values.get('mode');
  let mode: SrtMode;
  if (modeText === undefined) mode = host === '' ? 'listener' : 'caller';
  else if (modeText === 'caller' || modeText === 'client') mode = 'caller';
  else if (modeText === 'listener' || modeText === 'server') mode = 'listener';
  else if (modeText === 'rendezvous') mode = 'rendezvous';
  else throw bad('mode', `mode must be caller, listener or rendezvous, not "${modeText}"`);

  const take = <T>(k: Param, parse: (text: string) => T): T | undefined => {
    const text = values.get(k);
    return text === undefined ? undefined : parse(text);
  };
  const e: SrtEndpoint = {
    mode,
    host,
    port,
    ipv6,
    payloadSize: take('payloadsize', (t) => integer('payloadsize', t, 188, 1316, 'bytes')) ?? 1316,
    latencyMs: take('latency', (t) => milliseconds('latency', t, 0)),
    rcvLatencyMs: take('rcvlatency', (t) => milliseconds('rcvlatency', t, 0)),
    peerLatencyMs: take('peerlatency', (t) => milliseconds('peerlatency', t, 0)),
    passphrase: take('passphrase', (t) => new Secret(t)),
    pbkeylen: take('pbkeylen', parseKeyLength),
    streamId: take('streamid', (t) => t),
    maxBw: take('maxbw', (t) => integer('maxbw', t, -1, 1e12, 'bytes/s')),
    inputBw: take('inputbw', (t) => integer('inputbw', t, 0, 1e12, 'bytes/s')),
    overheadBw: take('oheadbw', (t) => integer('oheadbw', t, 5, 100, '%')),
    connectTimeoutMs: take('conntimeo', (t) => milliseconds('conntimeo', t, 100)),
    peerIdleTimeoutMs: take('peeridletimeo', (t) => milliseconds('peeridletimeo', t, 1000)),
    adapter: take('adapter', (t) => t),
    localPort: take('port', (t) => integer('port', t, 1, 65535, '')),
  };

  return validateEndpoint({ ...e, ...normalizeOverrides(overrides) });
}

function normalizeOverrides(o: SrtEndpointOverrides): Partial<SrtEndpoint> {
  const out: Partial<SrtEndpoint> = {};
  for (const [k, val] of Object.entries(o)) {
    if (val !== undefined) (out as Record<string, unknown>)[k] = val;
  }
  if (typeof o.passphrase === 'string') out.passphrase = new Secret(o.passphrase);
  return out;
}

function checkInt(name: string, v: number | undefined, min: number, max: number): void {
  if (v === undefined) return;
  if (!Number.isInteger(v) || v < min || v > max) throw bad(name, `${name} must be a whole number from ${min} to ${max}, not ${v}`);
}

/** Checks an endpoint built in code (or merged with config values) by the same rules as a URL. */
export function validateEndpoint(e: SrtEndpoint): SrtEndpoint {
  if (e.mode !== 'caller' && e.mode !== 'listener' && e.mode !== 'rendezvous') {
    throw bad('mode', 'mode must be caller, listener or rendezvous');
  }
  if (e.mode !== 'listener' && e.host === '') throw bad('host', `a ${e.mode} needs the host to connect to (srt://HOST:PORT)`);
  checkInt('port', e.port, e.mode === 'listener' ? 0 : 1, 65535);
  if (e.host.includes(':') && !e.ipv6) throw bad('host', 'write an IPv6 address in brackets: srt://[2001:db8::1]:5000');
  checkInt('latency', e.latencyMs, 0, MAX_MS);
  checkInt('rcvlatency', e.rcvLatencyMs, 0, MAX_MS);
  checkInt('peerlatency', e.peerLatencyMs, 0, MAX_MS);
  checkInt('conntimeo', e.connectTimeoutMs, 100, MAX_MS);
  checkInt('peeridletimeo', e.peerIdleTimeoutMs, 1000, MAX_MS);
  checkInt('maxbw', e.maxBw, -1, 1e12);
  checkInt('inputbw', e.inputBw, 0, 1e12);
  checkInt('oheadbw', e.overheadBw, 5, 100);
  checkInt('port', e.localPort, 1, 65535);
  checkInt('payloadsize', e.payloadSize, 188, 1316);
  if (e.payloadSize % 188 !== 0) {
    throw bad('payloadsize', `payloadsize must be a multiple of 188 (whole TS packets; 1316 = 7 × 188), not ${e.payloadSize}`);
  }
  if (e.pbkeylen !== undefined && e.pbkeylen !== 16 && e.pbkeylen !== 24 && e.pbkeylen !== 32) {
    throw bad('pbkeylen', `pbkeylen must be 16, 24 or 32 (AES-128/192/256), not ${String(e.pbkeylen)}`);
  }
  if (e.passphrase !== undefined) {
    const n = e.passphrase.length;
    if (n < PASS_MIN || n > PASS_MAX) {
      throw bad('passphrase', `the passphrase must be ${PASS_MIN} to ${PASS_MAX} characters long (it has ${n})`);
    }
  } else if (e.pbkeylen !== undefined) {
    throw bad('pbkeylen', 'pbkeylen sets the key length of encryption, but no passphrase is given: the stream would go unencrypted');
  }
  if (e.streamId !== undefined && e.streamId.length > STREAMID_MAX) {
    throw bad('streamid', `streamid must be at most ${STREAMID_MAX} characters (it has ${e.streamId.length})`);
  }
  if (e.adapter !== undefined && (e.adapter === '' || /[\s/?#]/.test(e.adapter))) {
    throw bad('adapter', `adapter must be a local address, not "${e.adapter}"`);
  }
  return e;
}

/** The endpoint as a URL with the passphrase replaced by "***": safe for logs, the status page and errors. */
export function formatSrtUrl(e: SrtEndpoint): string {
  const host = e.ipv6 ? `[${e.host}]` : e.host;
  const q: string[] = [`mode=${e.mode}`];
  const add = (k: string, v: string | number | undefined): void => {
    if (v !== undefined) q.push(`${k}=${typeof v === 'string' ? encodeURIComponent(v) : v}`);
  };
  add('latency', e.latencyMs);
  add('rcvlatency', e.rcvLatencyMs);
  add('peerlatency', e.peerLatencyMs);
  if (e.passphrase) q.push('passphrase=***');
  add('pbkeylen', e.pbkeylen);
  add('streamid', e.streamId);
  add('maxbw', e.maxBw);
  add('inputbw', e.inputBw);
  add('oheadbw', e.overheadBw);
  add('conntimeo', e.connectTimeoutMs);
  add('peeridletimeo', e.peerIdleTimeoutMs);
  if (e.payloadSize !== 1316) add('payloadsize', e.payloadSize);
  add('adapter', e.adapter);
  add('port', e.localPort);
  return `srt://${host}:${e.port}?${q.join('&')}`;
}

/** "host:port" as an operator would write it. */
export function endpointTarget(e: SrtEndpoint): string {
  return `${e.ipv6 ? `[${e.host}]` : e.host || '*'}:${e.port}`;
}
