import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LogRecord, setLogSink } from '../../../src/lib/logger.js';
import { Secret } from '../../../src/srt/secret.js';
import { EventLog, type LoggedEvent } from '../../../src/supervisor/event-log.js';

const PASS = 'correct-horse-battery-staple';

let dir: string;
let logs: EventLog[];
let records: LogRecord[];

/** A clock that moves one second per reading, from a fixed start. */
function steppingClock(start = Date.UTC(2025, 5, 1, 12, 0, 0)): () => number {
  let t = start - 1000;
  return () => {
    t += 1000;
    return t;
  };
}

function open(options: Partial<ConstructorParameters<typeof EventLog>[0]> = {}): EventLog {
  const log = new EventLog({ dir, now: steppingClock(), ...options });
  logs.push(log);
  return log;
}

function lines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}

function allText(): string {
  return readdirSync(dir)
    .map((f) => readFileSync(path.join(dir, f), 'utf8'))
    .join('');
}

const seqs = (events: LoggedEvent[]): unknown[] => events.map((e) => e.seq);

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'fieldcast-events-'));
  logs = [];
  records = [];
  setLogSink((r) => records.push(r));
});

afterEach(async () => {
  await Promise.all(logs.map((l) => l.close()));
  setLogSink(undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe('event log', () => {
  it('writes one JSON line per event, stamped, readable by its owner only', async () => {
    const log = open();
    const kept = log.append({ kind: 'link', code: 'UPLINK_DOWN', message: 'cell-a lost its carrier', link: 'cell-a' });
    log.append({ kind: 'operator', message: 'stopped the stream', who: 'ctl (uid 0)' });
    expect(kept).toEqual({
      at: '2025-06-01T12:00:00.000Z',
      kind: 'link',
      code: 'UPLINK_DOWN',
      message: 'cell-a lost its carrier',
      link: 'cell-a',
    });
    await log.flush();
    const file = path.join(dir, 'events.jsonl');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(lines(file).map((l) => JSON.parse(l))).toEqual([
      kept,
      { at: '2025-06-01T12:00:01.000Z', kind: 'operator', message: 'stopped the stream', who: 'ctl (uid 0)' },
    ]);
    expect(await log.read()).toEqual(lines(file).map((l) => JSON.parse(l)));
  });

  it('rotates at the size bound and keeps only the given number of old files', async () => {
    const maxBytes = 1000;
    const log = open({ maxBytes, files: 2 });
    for (let seq = 0; seq < 60; seq++) log.append({ kind: 'state', message: `state change number ${seq}`, seq });
    await log.flush();
    expect(readdirSync(dir).sort()).toEqual(['events.1.jsonl', 'events.2.jsonl', 'events.jsonl']);
    for (const f of readdirSync(dir)) expect(statSync(path.join(dir, f)).size).toBeLessThanOrEqual(maxBytes);
    // Oldest file first, each file in order, together the newest events without a gap.
    const kept = ['events.2.jsonl', 'events.1.jsonl', 'events.jsonl'].flatMap((f) =>
      lines(path.join(dir, f)).map((l) => JSON.parse(l).seq),
    );
    expect(kept.at(-1)).toBe(59);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 60 - kept.length + i));
    expect(kept.length).toBeLessThan(60);
  });

  it('reads the newest events across the rotated files, oldest first', async () => {
    const log = open({ maxBytes: 600, files: 3 });
    for (let seq = 0; seq < 30; seq++) log.append({ kind: 'state', message: `change ${seq}`, seq });
    const all = await log.read();
    expect(seqs(all).at(-1)).toBe(29);
    expect(seqs(all)).toEqual(Array.from({ length: all.length }, (_, i) => 30 - all.length + i));
    // A limit larger than the current file reaches into the rotated ones.
    const current = lines(path.join(dir, 'events.jsonl')).length;
    const newest = await log.read({ limit: current + 3 });
    expect(seqs(newest)).toEqual(seqs(all).slice(-(current + 3)));
    expect(seqs(await log.read({ limit: 1 }))).toEqual([29]);
    expect(await log.read({ limit: 0 })).toEqual([]);
    // Seconds step with each event: since the 25th event's time gives the last five.
    expect(seqs(await log.read({ since: all.find((e) => e.seq === 25)!.at }))).toEqual([25, 26, 27, 28, 29]);
    expect(seqs(await log.read({ since: new Date(Date.parse(all.at(-1)!.at)), limit: 10 }))).toEqual([29]);
  });

  it('skips a line torn by a power cut and starts the next event on a line of its own', async () => {
    const file = path.join(dir, 'events.jsonl');
    const before = { at: '2025-06-01T11:00:00.000Z', kind: 'state', message: 'live', seq: 1 };
    writeFileSync(file, `${JSON.stringify(before)}\n`);
    appendFileSync(file, '{"at":"2025-06-01T11:00:01.000Z","kind":"link","mess');
    const log = open();
    expect(await log.read()).toEqual([before]);
    log.append({ kind: 'system', message: 'supervisor started', seq: 2 });
    const events = await log.read();
    expect(seqs(events)).toEqual([1, 2]);
    const raw = readFileSync(file, 'utf8').split('\n');
    expect(raw[1]).toBe('{"at":"2025-06-01T11:00:01.000Z","kind":"link","mess');
    expect(JSON.parse(raw[2]!)).toMatchObject({ message: 'supervisor started' });
  });

  it('is kept across restarts: a new log on the same directory reads and continues it', async () => {
    const first = open({ maxBytes: 800, files: 2 });
    for (let seq = 0; seq < 12; seq++) first.append({ kind: 'state', message: `before restart ${seq}`, seq });
    await first.close();
    const second = open({ maxBytes: 800, files: 2, now: steppingClock(Date.UTC(2025, 5, 2)) });
    const kept = await second.read();
    expect(seqs(kept).at(-1)).toBe(11);
    for (let seq = 12; seq < 20; seq++) second.append({ kind: 'state', message: `after restart ${seq}`, seq });
    const after = await second.read();
    expect(seqs(after).at(-1)).toBe(19);
    expect(seqs(after)).toEqual(Array.from({ length: after.length }, (_, i) => 20 - after.length + i));
    await second.close();
    await second.close();
  });

  it('never writes a passphrase: in a field, nested, in an array, in a URL, in an error, as a Secret, as a setting', async () => {
    const log = open();
    const url = `srt://ingest.example.com:5000?latency=1500&passphrase=${PASS}&pbkeylen=32`;
    const kept = [
      log.append({ kind: 'config', message: 'destination set', passphrase: PASS }),
      log.append({
        kind: 'config',
        message: 'destination set',
        destination: { name: 'ingest', srt: { passphrase: PASS, latencyMs: 1500 } },
      }),
      log.append({ kind: 'config', message: 'destinations', destinations: [{ url: 'srt://a:1', passphrase: PASS }] }),
      log.append({ kind: 'state', message: `connecting to ${url} failed: timeout`, url }),
      log.append({ kind: 'state', message: 'upper case', url: `SRT://ingest:5000?PASSPHRASE=${PASS}` }),
      log.append({ kind: 'restart', message: 'pipeline restarted', error: new Error(`cannot open ${url}`) }),
      log.append({ kind: 'config', message: 'loaded', secret: new Secret(PASS), token: PASS }),
      log.append({
        kind: 'operator',
        message: 'setting changed',
        who: 'web 192.168.1.20',
        setting: 'destinations.0.passphrase',
        from: PASS,
        to: PASS,
      }),
      log.append({ kind: 'operator', message: 'setting changed', who: 'ctl', key: 'destinations.0.passphrase', value: PASS }),
    ];
    const events = await log.read();
    expect(allText()).not.toContain(PASS);
    expect(JSON.stringify(kept)).not.toContain(PASS);
    expect(JSON.stringify(events)).not.toContain(PASS);
    // What is not secret stays readable.
    expect(events[1]).toMatchObject({ destination: { name: 'ingest', srt: { passphrase: '[redacted]', latencyMs: 1500 } } });
    expect(events[3]!.message).toBe(
      'connecting to srt://ingest.example.com:5000?latency=1500&passphrase=[redacted]&pbkeylen=32 failed: timeout',
    );
    expect(events[5]!.error).toBe('cannot open srt://ingest.example.com:5000?latency=1500&passphrase=[redacted]&pbkeylen=32');
    expect(events[7]).toMatchObject({ setting: 'destinations.0.passphrase', from: '[redacted]', to: '[redacted]' });
    expect(records).toEqual([]);
  });

  it('keeps a value the logger would not flag when the setting is not a secret', async () => {
    const log = open();
    log.append({ kind: 'operator', message: 'setting changed', who: 'ctl', setting: 'video.bitrate', from: 6_000_000, to: 4_000_000 });
    expect((await log.read())[0]).toMatchObject({ setting: 'video.bitrate', from: 6_000_000, to: 4_000_000 });
  });

  it('never throws into the caller, whatever the fields', async () => {
    const log = open();
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    const shared = { a: 1 };
    expect(() =>
      log.append({ kind: 'state', message: 'odd fields', loop, big: 10n, nan: Number.NaN, twice: [shared, shared] }),
    ).not.toThrow();
    const bad = {
      toJSON() {
        throw new Error('no');
      },
    };
    expect(() => log.append({ kind: 'state', message: 'unserialisable', bad })).not.toThrow();
    expect(() => log.append({ kind: 'state', message: 'huge', blob: 'x'.repeat(100_000) })).not.toThrow();
    const [odd, unser, huge] = await log.read();
    expect(odd).toMatchObject({ loop: { name: 'loop', self: '[circular]' }, big: '10', nan: 'NaN', twice: [{ a: 1 }, { a: 1 }] });
    expect(unser).toMatchObject({ message: 'unserialisable', unrecorded: 'no' });
    expect(huge).toMatchObject({ message: 'huge', truncated: true });
    expect(huge!.blob).toBeUndefined();
  });

  it('goes on in memory when the directory cannot be written, says so once, and returns to disk later', async () => {
    const blocker = path.join(dir, 'not-a-dir');
    writeFileSync(blocker, '');
    let t = Date.UTC(2025, 5, 1);
    const log = open({ dir: path.join(blocker, 'state'), memoryEvents: 5, retryMs: 60_000, now: () => t });
    for (let seq = 0; seq < 8; seq++) {
      expect(() => log.append({ kind: 'link', message: `flap ${seq}`, seq })).not.toThrow();
      t += 1000;
    }
    await log.flush();
    expect(log.inMemoryOnly).toBe(true);
    expect(records.filter((r) => r.level === 'warn').map((r) => r.message)).toEqual([
      'the event log cannot be written; keeping the latest events in memory',
    ]);
    // `ctl events` still shows the latest, bounded by the ring.
    expect(seqs(await log.read())).toEqual([3, 4, 5, 6, 7]);
    expect(seqs(await log.read({ limit: 2 }))).toEqual([6, 7]);

    // The state partition comes back; after the retry interval what the ring still holds is written first, in order.
    rmSync(blocker);
    t += 60_000;
    log.append({ kind: 'link', message: 'flap 8', seq: 8 });
    await log.flush();
    expect(log.inMemoryOnly).toBe(false);
    const file = path.join(blocker, 'state', 'events.jsonl');
    expect(existsSync(file)).toBe(true);
    expect(lines(file).map((l) => JSON.parse(l).seq)).toEqual([4, 5, 6, 7, 8]);
    expect(seqs(await log.read())).toEqual([4, 5, 6, 7, 8]);
    expect(records.filter((r) => r.level === 'warn')).toHaveLength(1);
  });
});
