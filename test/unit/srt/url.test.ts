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

  // README "SRT addresses": latency, conntimeo and peeridletimeo are milliseconds; a value that
  // only makes sense as ffmpeg's microseconds is refused with a hint.
  it.each([
    ['latency', 2_000_000, '2000 ms'],
    ['rcvlatency', 1_500_000, '1500 ms'],
    ['peerlatency', 120_000, '120 ms'],
    ['conntimeo', 3_000_000, '3000 ms'],
    ['peeridletimeo', 5_000_000, '5000 ms'],
  ])('says that %s is in ms when given an ffmpeg microsecond value (%d)', (name, value, asMs) => {
    const err = invalid(`srt://h:1?${name}=${value}`);
    expect(err.details.parameter).toBe(name);
    expect(err.message).toBe(
      `${name}=${value} is too long: it is in milliseconds here (as in srt-live-transmit); ffmpeg's srt URLs use microseconds, so ${value} µs would be ${asMs}`,
    );
  });

  it('takes conntimeo and peeridletimeo as milliseconds, up to a minute', () => {
    expect(parseSrtUrl('srt://h:1?conntimeo=3000&peeridletimeo=5000')).toMatchObject({ connectTimeoutMs: 3000, peerIdleTimeoutMs: 5000 });
    expect(parseSrtUrl('srt://h:1?conntimeo=100&peeridletimeo=1000')).toMatchObject({ connectTimeoutMs: 100, peerIdleTimeoutMs: 1000 });
    expect(parseSrtUrl('srt://h:1?conntimeo=60000&peeridletimeo=60000')).toMatchObject({
      connectTimeoutMs: 60_000,
      peerIdleTimeoutMs: 60_000,
    });
    expect(invalid('srt://h:1?conntimeo=60001').message).toMatch(/milliseconds.*microseconds/);
    expect(invalid('srt://h:1?peeridletimeo=60001').message).toMatch(/milliseconds.*microseconds/);
    expect(invalid('srt://h:1?conntimeo=99').message).toBe('conntimeo must be between 100 and 60000 ms, not 99');
    expect(invalid('srt://h:1?peeridletimeo=999').message).toBe('peeridletimeo must be between 1000 and 60000 ms, not 999');
    expect(formatSrtUrl(parseSrtUrl('srt://h:1?conntimeo=3000&peeridletimeo=5000'))).toBe(
      'srt://h:1?mode=caller&conntimeo=3000&peeridletimeo=5000',
    );
    // Values set beside the URL (config, CLI) are checked the same way.
    expect(() => parseSrtUrl('srt://h:1', { connectTimeoutMs: 3_000_000 })).toThrow(/conntimeo must be a whole number from 100 to 60000/);
    expect(() => parseSrtUrl('srt://h:1', { peerIdleTimeoutMs: 5_000_000 })).toThrow(
      /peeridletimeo must be a whole number from 1000 to 60000/,
    );
  });

  // libsrt takes 10 to 80 characters (SRTO_PASSPHRASE; HAICRYPT_PWD_MAX_SZ), as does MediaConnect.
  it.each([
    [9, 'refused'],
    [10, 'accepted'],
    [79, 'accepted'],
    [80, 'accepted'],
    [81, 'refused'],
  ])('a passphrase of %d characters is %s', (n, verdict) => {
    const pass = 'p'.repeat(n);
    if (verdict === 'accepted') {
      expect(parseSrtUrl(`srt://h:1?passphrase=${pass}`).passphrase?.reveal()).toBe(pass);
      expect(parseSrtUrl('srt://h:1', { passphrase: pass }).passphrase?.reveal()).toBe(pass);
      return;
    }
    const err = invalid(`srt://h:1?passphrase=${pass}`);
    expect(err.details.parameter).toBe('passphrase');
    expect(err.message).toBe(`the passphrase must be 10 to 80 characters long (it has ${n})`);
    expect(JSON.stringify(err)).not.toContain(pass);
    expect(() => parseSrtUrl('srt://h:1', { passphrase: pass })).toThrow(err.message);
  });

  it('checks the passphrase length without ever echoing it', () => {
    const err = invalid('srt://h:1?passphrase=short');
    expect(err.message).toBe('the passphrase must be 10 to 80 characters long (it has 5)');
    expect(JSON.stringify(err)).not.toContain('short');
    expect(inspect(err)).not.toContain('short');
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
