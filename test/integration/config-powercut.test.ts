/**
 * Power can be cut at any moment on a camera rig, so saving the config must
 * leave either the old file or the new one, never a mix, never nothing. A
 * child process saves config A and config B in turn as fast as it can; the
 * test kills it with SIGKILL at random moments inside a save, many times,
 * and after each kill the file must be exactly A or exactly B.
 *
 * SIGKILL stops the process, not the kernel: what was written stays in the
 * page cache, so this checks the order of the steps (temp file, rename), not
 * the fsyncs; those only matter when the machine itself loses power.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type ConfigInput, saveConfig, validateConfig } from '../../src/config/index.js';

const KILLS = 70;
/** How long after the child says it starts a save the kill comes, ms (0 to this). */
const MAX_DELAY_MS = 30;
const TEMP_FILE = /^\.config\.json\.[0-9a-f]+\.tmp$/;

const STORE = fileURLToPath(new URL('../../dist/config/store.js', import.meta.url));

/** Saves A, B, A, … forever, saying "S" as each save starts. */
const CHILD = `
import { readFileSync } from 'node:fs';
const [storeUrl, file, a, b, first] = process.argv.slice(2);
const { saveConfig } = await import(storeUrl);
const configs = [JSON.parse(readFileSync(a, 'utf8')), JSON.parse(readFileSync(b, 'utf8'))];
for (let i = Number(first); ; i++) {
  process.stdout.write('S\\n');
  await saveConfig(file, configs[i % 2]);
}
`;

/** Two valid configs that differ all through and in size (a few KB: every save still writes, fsyncs and renames). */
function configs(): { a: ConfigInput; b: ConfigInput } {
  const a: ConfigInput = {
    deviceName: 'config-A',
    video: { bitrate: 4_000_000, width: 1920, height: 1080 },
    destinations: [{ name: 'receiver', url: 'srt://receiver.example.com:5000', passphrase: 'a-passphrase-0123456789' }],
    bond: {
      enabled: true,
      links: Array.from({ length: 16 }, (_, i) => ({ name: `a-link-${i}`, bind: `10.0.${i}.2`, priority: i % 10 })),
    },
  };
  const b: ConfigInput = {
    deviceName: 'config-B',
    destinations: [
      { name: 'ingest', url: 'srt://ingest.example.com:5000', passphrase: 'b-passphrase-0123456789', streamId: 'b'.repeat(512) },
    ],
    bond: { links: Array.from({ length: 12 }, (_, i) => ({ name: `bee-${i}`, interface: `wwan${i}` })) },
  };
  return { a, b };
}

/** What saveConfig writes for a config. */
function fileText(input: ConfigInput): string {
  return `${JSON.stringify(validateConfig(input), null, 2)}\n`;
}

let dir: string | undefined;
let child: ChildProcessByStdio<null, Readable, Readable> | undefined;

afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Starts the saver and kills it shortly after it has started its `nth` save; resolves once it is gone. */
async function saveAndKill(script: string, file: string, aFile: string, bFile: string, first: number, nth: number): Promise<void> {
  const c = spawn(process.execPath, [script, pathToFileURL(STORE).href, file, aFile, bFile, String(first)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = c;
  let stderr = '';
  c.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    c.on('exit', (code, signal) => resolve({ code, signal })),
  );
  let starts = 0;
  let timer: NodeJS.Timeout | undefined;
  c.stdout.on('data', (d: Buffer) => {
    starts += d
      .toString()
      .split('\n')
      .filter((l) => l === 'S').length;
    if (starts >= nth && timer === undefined) {
      timer = setTimeout(() => c.kill('SIGKILL'), Math.floor(Math.random() * (MAX_DELAY_MS + 1)));
    }
  });
  const guard = setTimeout(() => c.kill('SIGKILL'), 10_000);
  const { signal } = await exited;
  clearTimeout(guard);
  child = undefined;
  if (signal !== 'SIGKILL' || starts < nth) throw new Error(`the saver stopped by itself (${signal ?? 'no signal'}): ${stderr}`);
}

describe('config save and power cuts', () => {
  it('leaves exactly the old or the new config, whenever the saver is killed', { timeout: 60_000 }, async () => {
    if (!existsSync(STORE)) throw new Error(`${STORE} is missing: run npm run build:ts first`);
    dir = mkdtempSync(path.join(tmpdir(), 'fieldcast-powercut-'));
    const file = path.join(dir, 'config.json');
    const { a, b } = configs();
    const textA = fileText(a);
    const textB = fileText(b);
    expect(textA).not.toBe(textB);
    const aFile = path.join(dir, 'a.input.json');
    const bFile = path.join(dir, 'b.input.json');
    writeFileSync(aFile, JSON.stringify(a));
    writeFileSync(bFile, JSON.stringify(b));
    const script = path.join(dir, 'saver.mjs');
    writeFileSync(script, CHILD);
    await saveConfig(file, a);

    const seen = { A: 0, B: 0 };
    let leftTemp = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      await saveAndKill(script, file, aFile, bFile, kill % 2, 1 + Math.floor(Math.random() * 3));

      const text = readFileSync(file, 'utf8');
      expect(text === textA || text === textB, `after kill ${kill} the file is ${text.length} bytes of neither A nor B`).toBe(true);
      expect(validateConfig(JSON.parse(text)).deviceName).toBe(text === textA ? 'config-A' : 'config-B');
      seen[text === textA ? 'A' : 'B']++;

      // At most the temp file of the save that was cut; saveConfig cannot clean up after SIGKILL.
      const temps = readdirSync(dir).filter((f) => TEMP_FILE.test(f));
      expect(temps.length, `temp files after kill ${kill}: ${temps.join(', ')}`).toBeLessThanOrEqual(1);
      leftTemp += temps.length;
      // What a sweep at start-up would do, so the next kill's leftover is told apart from this one's.
      for (const t of temps) rmSync(path.join(dir, t));
    }
    // The kills spanned both configs, and some landed inside a save (its temp file was still there).
    expect(seen.A).toBeGreaterThan(0);
    expect(seen.B).toBeGreaterThan(0);
    expect(leftTemp).toBeGreaterThan(0);
  });
});
