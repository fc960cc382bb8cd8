/**
 * `fieldcast receive` as a program: statistics file, Prometheus endpoint,
 * clear usage errors, and no native addon loaded (a cloud VM runs it alone).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeReg1, encodeReg2, encodeSrtData } from '../../src/bond/protocol.js';

const CLI = path.resolve(import.meta.dirname, '../../bin/fieldcast.js');
const BUILT = existsSync(path.resolve(import.meta.dirname, '../../dist/cli/receive.js'));
if (!BUILT) console.warn('SKIPPED receiver-cli: dist/cli/receive.js is missing (run npm run build:ts)');

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(type: 'udp4' = 'udp4'): Promise<number> {
  const s = dgram.createSocket(type);
  await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
  const p = s.address().port;
  s.close();
  return p;
}

describe.skipIf(!BUILT)('fieldcast receive', () => {
  it('serves Prometheus metrics and writes a statistics file, without the native addon', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fc-recv-'));
    const statsFile = path.join(dir, 'stats.json');
    const port = await freePort();
    const metricsPort = await freePort();
    const sink = dgram.createSocket('udp4');
    await new Promise<void>((res) => sink.bind(0, '127.0.0.1', () => res()));
    let sunk = 0;
    sink.on('message', () => {
      sunk++;
    });
    const child = spawn('node', [
      CLI,
      'receive',
      '--listen',
      `127.0.0.1:${port}`,
      '--forward',
      `srt://127.0.0.1:${sink.address().port}?latency=500`,
      '--stats-json',
      statsFile,
      '--metrics-port',
      String(metricsPort),
    ]);
    children.push(child);
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const end = Date.now() + 10_000;
    while (!stdout.includes('metrics on') && Date.now() < end) await sleep(20);
    expect(stdout).toContain(`listening on 127.0.0.1:${port}`);

    const link = dgram.createSocket('udp4');
    await new Promise<void>((res) => link.bind(0, '127.0.0.1', () => res()));
    const reg2 = new Promise<Buffer>((res) => link.once('message', res));
    link.send(encodeReg1(randomBytes(256)), port, '127.0.0.1');
    const id = (await reg2).subarray(2);
    const reg3 = new Promise<Buffer>((res) => link.once('message', res));
    link.send(encodeReg2(id), port, '127.0.0.1');
    await reg3;
    for (let i = 0; i < 30; i++) link.send(encodeSrtData(i, Buffer.alloc(1316)), port, '127.0.0.1');
    while (sunk < 30 && Date.now() < end) await sleep(20);
    expect(sunk).toBe(30);

    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(text).toMatch(/^fieldcast_receive_groups 1$/m);
    expect(text).toMatch(/^fieldcast_receive_group_packets_forwarded_total\{group="1",.*\} 30$/m);
    while (!existsSync(statsFile) && Date.now() < end) await sleep(50);
    await sleep(1100);
    const stats = JSON.parse(readFileSync(statsFile, 'utf8'));
    expect(stats.groups).toBe(1);
    expect(stats.perGroup[0].packetsForwarded).toBe(30);

    // A cloud VM runs it alone: the media addon is never mapped into the process.
    const maps = readFileSync(`/proc/${child.pid}/maps`, 'utf8');
    expect(maps).not.toMatch(/fieldcast\.node|libavcodec/);

    child.kill('SIGTERM');
    const code = await new Promise<number | null>((res) => child.once('exit', res));
    expect(code).toBe(0);
    link.close();
    sink.close();
  });

  it('explains bad flags and exits 2', () => {
    const r = spawnSync('node', [CLI, 'receive', '--listen', '[::]:5000'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--forward srt://HOST:PORT is required');
    const r2 = spawnSync('node', [CLI, 'receive', '--forward', 'srt://127.0.0.1:9000', '--reorder-ms', 'lots'], { encoding: 'utf8' });
    expect(r2.status).toBe(2);
    expect(r2.stderr).toContain('--reorder-ms must be a number');
    const r3 = spawnSync('node', [CLI, 'receive', '--forward', 'rtmp://x'], { encoding: 'utf8' });
    expect(r3.status).toBe(1);
    expect(r3.stderr).toContain('is not srt://HOST:PORT');
  });
});

describe.skipIf(!BUILT)('fieldcast linksim', () => {
  it('runs a config, prints a statistics line per link per interval, and stops on SIGINT', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fc-linksim-'));
    const file = path.join(dir, 'links.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      file,
      JSON.stringify({ target: '127.0.0.1:9', links: [{ name: 'cell-a', up: { rate: '2M', delayMs: 20 } }, { name: 'cell-b' }] }),
    );
    const child = spawn('node', [CLI, 'linksim', '--config', file, '--interval', '0.2']);
    children.push(child);
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const end = Date.now() + 10_000;
    while ((stdout.match(/\| up /g) ?? []).length < 4 && Date.now() < end) await sleep(20);
    expect(stdout).toMatch(/cell-a: listening on 127\.0\.0\.1:\d+/);
    expect(stdout).toMatch(/^cell-b 127\.0\.0\.1:\d+ \| up 0\.00 Mbit\/s delivered=0/m);
    child.kill('SIGINT');
    expect(await new Promise<number | null>((res) => child.once('exit', res))).toBe(0);

    writeFileSync(file, JSON.stringify({ links: [{ name: 'x', up: { loss: 3 } }] }));
    const bad = spawnSync('node', [CLI, 'linksim', '--config', file], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('links.0.up.loss');
  });
});
