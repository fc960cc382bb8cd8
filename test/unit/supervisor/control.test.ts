import { statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FieldcastError } from '../../../src/lib/errors.js';
import { type ControlRequestT, ControlServer, controlCall, MAX_REQUEST_BYTES } from '../../../src/supervisor/control.js';

let dir: string;
let socketPath: string;
let server: ControlServer | undefined;
const seen: { req: ControlRequestT; who: string }[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fieldcast-control-'));
  socketPath = path.join(dir, 'run', 'control.sock');
  seen.length = 0;
  server = new ControlServer(socketPath, async (req, who) => {
    seen.push({ req, who });
    if (req.op === 'set') throw new FieldcastError('CONFIG_INVALID', 'video.fps: expected 25 or 30', { problems: [{ key: 'video.fps' }] });
    if (req.op === 'start') throw new Error('something broke');
    return { state: 'live', op: req.op };
  });
  await server.listen();
});

afterEach(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Raw lines in, raw lines out, on one connection. */
async function raw(lines: string[], expectAnswers: number): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socketPath);
    let buf = '';
    const answers: unknown[] = [];
    const t = setTimeout(() => reject(new Error(`only ${answers.length} answers`)), 3000);
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        answers.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
        nl = buf.indexOf('\n');
      }
      if (answers.length >= expectAnswers) {
        clearTimeout(t);
        s.destroy();
        resolve(answers);
      }
    });
    s.on('error', reject);
    s.on('connect', () => s.write(lines.join('')));
  });
}

describe('the control socket', () => {
  it('is the owner’s alone', () => {
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(socketPath)).mode & 0o077).toBe(0);
  });

  it('answers a request with its result, and says who asked', async () => {
    await expect(controlCall(socketPath, { op: 'status' }, { who: 'ctl (uid 0)' })).resolves.toEqual({ state: 'live', op: 'status' });
    expect(seen).toEqual([{ req: { op: 'status' }, who: 'ctl (uid 0)' }]);
  });

  it("returns the supervisor's error with its code and details; other failures as CONTROL_FAILED", async () => {
    await expect(controlCall(socketPath, { op: 'set', assignments: [{ key: 'video.fps', value: '31' }] })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: 'video.fps: expected 25 or 30',
      details: { problems: [{ key: 'video.fps' }] },
    });
    await expect(controlCall(socketPath, { op: 'start' })).rejects.toMatchObject({ code: 'CONTROL_FAILED' });
  });

  it('refuses what is not a request, in words, and carries on with the same connection', async () => {
    const answers = await raw(
      [
        'this is not json\n',
        '{"op":"reboot"}\n',
        '{"id":7,"op":"set","assignments":[]}\n',
        '{"id":8,"op":"events","limit":-1}\n',
        '[1,2,3]\n',
        '{"id":9,"op":"status"}\n',
      ],
      6,
    );
    expect(answers.slice(0, 5)).toEqual([
      { ok: false, error: { code: 'CONTROL_REQUEST_INVALID', message: 'a request is one line of JSON' } },
      { ok: false, error: { code: 'CONTROL_REQUEST_INVALID', message: expect.stringContaining('operations: status, start, stop') } },
      { id: 7, ok: false, error: { code: 'CONTROL_REQUEST_INVALID', message: expect.stringMatching(/^assignments:/) } },
      { id: 8, ok: false, error: { code: 'CONTROL_REQUEST_INVALID', message: expect.stringMatching(/^limit:/) } },
      { ok: false, error: { code: 'CONTROL_REQUEST_INVALID', message: expect.any(String) } },
    ]);
    expect(answers[5]).toEqual({ id: 9, ok: true, result: { state: 'live', op: 'status' } });
    expect(seen.map((s) => s.req.op)).toEqual(['status']);
  });

  it('refuses a request too long to be one, and still serves the next connection', async () => {
    const [a] = await raw(['x'.repeat(MAX_REQUEST_BYTES + 10)], 1);
    expect(a).toMatchObject({ ok: false, error: { code: 'CONTROL_REQUEST_INVALID' } });
    await expect(controlCall(socketPath, { op: 'status' })).resolves.toMatchObject({ state: 'live' });
  });

  it('will not take a socket another supervisor answers on, but replaces one left by a dead one', async () => {
    const second = new ControlServer(socketPath, async () => 'second');
    await expect(second.listen()).rejects.toMatchObject({ code: 'CONTROL_SOCKET_BUSY' });
    await expect(controlCall(socketPath, { op: 'status' })).resolves.toMatchObject({ state: 'live' });
    await server!.close();
    server = undefined;
    writeFileSync(socketPath, ''); // what a SIGKILLed supervisor leaves: a file nobody listens on
    const third = new ControlServer(socketPath, async () => 'third');
    await third.listen();
    await expect(controlCall(socketPath, { op: 'status' })).resolves.toBe('third');
    await third.close();
  });

  it('ctl without a supervisor says so, naming the socket', async () => {
    await expect(controlCall(path.join(dir, 'nobody.sock'), { op: 'status' })).rejects.toMatchObject({
      code: 'CONTROL_UNAVAILABLE',
      message: expect.stringContaining('nobody.sock'),
    });
  });
});
