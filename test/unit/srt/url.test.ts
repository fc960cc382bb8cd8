import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createLogger, type LogRecord, setLogSink } from '../../../src/lib/logger.js';
import { formatSrtUrl, parseSrtUrl, Secret, SrtUrlInvalidError, validateEndpoint } from '../../../src/srt/index.js';

function invalid(url: string): SrtUrlInvalidError {
  try {
    parseSrtUrl(url);
  } catch (err) {
    expect(err).toBeInstanceOf(SrtUrlInvalidError);
    expect((err as SrtUrlInvalidError).code).toBe('SRT_URL_INVALID');
    return err as SrtUrlInvalidError;
  }
  throw new Error(`expected ${url} to be refused`);
}

describe('srt:// URLs (srt-live-transmit conventions)', () => {
  it('reads a caller URL with every option', () => {
    const e = parseSrtUrl(
      'srt://ingest.example.com:5000?mode=caller&latency=1500&passphrase=correct%20horse%20battery&pbkeylen=32&streamid=%23!::r=live/cam1,m=publish&maxbw=0&inputbw=1250000&oheadbw=25&conntimeo=2000',
    );
    expect(e).toMatchObject({
      mode: 'caller',
      host: 'ingest.example.com',
      port: 5000,
      ipv6: false,
      latencyMs: 1500,
      pbkeylen: 32,
      streamId: '#!::r=live/cam1,m=publish',
      maxBw: 0,
      inputBw: 1_250_000,
      overheadBw: 25,
      connectTimeoutMs: 2000,
      payloadSize: 1316,
    });
    expect(e.passphrase?.reveal()).toBe('correct horse battery');
  });

  it('takes a literal # in a stream id (srt-live-transmit does not treat it as a fragment)', () => {
    expect(parseSrtUrl('srt://h:1?streamid=#!::r=a,m=publish').streamId).toBe('#!::r=a,m=publish');
  });

  it('defaults the mode like srt-live-transmit: no host is a listener, a host is a caller', () => {
    expect(parseSrtUrl('srt://:9000').mode).toBe('listener');
    expect(parseSrtUrl('srt://10.0.0.1:9000').mode).toBe('caller');
    expect(parseSrtUrl('srt://10.0.0.1:9000?mode=server').mode).toBe('listener');
    expect(parseSrtUrl('srt://10.0.0.1:9000?mode=client').mode).toBe('caller');
    const r = parseSrtUrl('srt://10.0.0.1:9000?mode=rendezvous&port=9001&adapter=10.0.0.2');
    expect(r).toMatchObject({ mode: 'rendezvous', localPort: 9001, adapter: '10.0.0.2' });
  });

  it('reads [v6] hosts', () => {
    const e = parseSrtUrl('srt://[2001:db8::1]:5000?latency=200');
    expect(e).toMatchObject({ host: '2001:db8::1', ipv6: true, port: 5000 });
    expect(formatSrtUrl(e)).toBe('srt://[2001:db8::1]:5000?mode=caller&latency=200');
  });

  it('refuses malformed URLs, naming what is wrong', () => {
    expect(invalid('udp://h:5000').message).toMatch(/srt:\/\//);
    expect(invalid('srt://host').details.parameter).toBe('host');
    expect(invalid('srt://host:70000').details.parameter).toBe('port');
    expect(invalid('srt://host:5000/live').message).toMatch(/no path/);
    expect(invalid('srt://2001:db8::1:5000').details.parameter).toBe('host');
    expect(invalid('srt://:5000?mode=caller').message).toMatch(/caller needs the host/);
    expect(invalid('srt://h:5000?mode=push').details.parameter).toBe('mode');
  });

  it('refuses bad option values, naming the parameter', () => {
    expect(invalid('srt://h:1?latency=abc').details.parameter).toBe('latency');
    expect(invalid('srt://h:1?latency=-5').details.parameter).toBe('latency');
    expect(invalid('srt://h:1?passphrase=0123456789&pbkeylen=20').message).toMatch(/16, 24 or 32/);
    expect(invalid('srt://h:1?oheadbw=200').details.parameter).toBe('oheadbw');
    expect(invalid('srt://h:1?payloadsize=1400').details.parameter).toBe('payloadsize');
    expect(invalid('srt://h:1?payloadsize=1000').message).toMatch(/multiple of 188/);
    expect(invalid('srt://h:1?conntimeo=5').details.parameter).toBe('conntimeo');
    expect(invalid(`srt://h:1?streamid=${'x'.repeat(513)}`).details.parameter).toBe('streamid');
    expect(invalid('srt://h:1?latency=100&latency=200').message).toMatch(/twice/);
    expect(invalid('srt://h:1?latency').message).toMatch(/needs a value/);
    expect(invalid('srt://h:1?streamid=%E0%A4%A').details.parameter).toBe('streamid');
  });

  it('refuses unknown parameters, so a typo cannot silently drop encryption', () => {
    const err = invalid('srt://h:1?pasphrase=0123456789abcdef');
    expect(err.details.parameter).toBe('pasphrase');
    expect(err.message).toMatch(/unknown SRT parameter/);
  });

  it('says that latency is in ms when given an ffmpeg microsecond value', () => {
    const err = invalid('srt://h:1?latency=2000000');
    expect(err.message).toMatch(/milliseconds/);
    expect(err.message).toMatch(/microseconds/);
    expect(err.message).toMatch(/2000 ms/);
  });

  it('checks the passphrase length without ever echoing it', () => {
    const err = invalid('srt://h:1?passphrase=short');
    expect(err.message).toMatch(/10 to 79 characters/);
    expect(err.message).not.toContain('short');
    expect(JSON.stringify(err)).not.toContain('short');
    const long = 'p'.repeat(80);
    expect(invalid(`srt://h:1?passphrase=${long}`).message).not.toContain(long);
    expect(invalid('srt://h:1?pbkeylen=32').message).toMatch(/no passphrase/);
  });

  it('prints a redacted form, and the passphrase never reaches a log, JSON or inspect', () => {
    const pass = 'SuperSecretPassphrase42';
    const e = parseSrtUrl(`srt://ingest:5000?passphrase=${pass}&pbkeylen=16&latency=800`);
    const printable = formatSrtUrl(e);
    expect(printable).toBe('srt://ingest:5000?mode=caller&latency=800&passphrase=***&pbkeylen=16');
    expect(JSON.stringify(e)).not.toContain(pass);
    expect(inspect(e, { depth: 5 })).not.toContain(pass);
    expect(`${e.passphrase}`).not.toContain(pass);
    const records: LogRecord[] = [];
    setLogSink((r) => records.push(r));
    try {
      createLogger('test.srt').info('endpoint', { endpoint: e, secretish: e.passphrase });
    } finally {
      setLogSink(undefined);
    }
    expect(JSON.stringify(records)).not.toContain(pass);
  });

  it('merges values from the config over the URL and checks them the same way', () => {
    const e = parseSrtUrl('srt://ingest:5000?latency=200', { latencyMs: 1500, passphrase: 'abcdefghijkl', pbkeylen: 32, streamId: 'cam1' });
    expect(e).toMatchObject({ latencyMs: 1500, pbkeylen: 32, streamId: 'cam1' });
    expect(e.passphrase).toBeInstanceOf(Secret);
    expect(() => parseSrtUrl('srt://ingest:5000', { latencyMs: 1.5 })).toThrow(SrtUrlInvalidError);
    expect(() => validateEndpoint({ mode: 'caller', host: 'h', port: 1, ipv6: false, payloadSize: 1316, overheadBw: 1 })).toThrow(
      /oheadbw/,
    );
  });
});
