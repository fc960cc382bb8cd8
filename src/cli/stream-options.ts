/**
 * Command-line options shared by `fieldcast send` and `fieldcast demo`:
 * turning flags into a config (validated by the one schema) and a pipeline
 * spec. Passphrases come from a file or the environment when they must not
 * sit in the shell history; wherever they come from, they never reach logs
 * or the process title.
 */
import { readFileSync } from 'node:fs';
import type { BondLinkOptions } from '../bond/index.js';
import { type Config, type ConfigInput, ConfigSchema, loadConfig, validateConfig } from '../config/index.js';
import { InvalidInputError } from '../lib/errors.js';
import { parseBitrate } from '../lib/units.js';
import { UsageError } from './command.js';

/** Parses `MIN:MAX` or a single rate (adaptive off). */
export function parseBitrateRange(text: string): { min: number; max: number; adaptive: boolean } {
  try {
    return bitrateRange(text);
  } catch (e) {
    throw e instanceof InvalidInputError ? new UsageError(e.message) : e;
  }
}

function bitrateRange(text: string): { min: number; max: number; adaptive: boolean } {
  const parts = text.split(':');
  if (parts.length === 1) {
    const r = parseBitrate(parts[0]!, '--bitrate');
    return { min: r, max: r, adaptive: false };
  }
  if (parts.length !== 2) throw new UsageError(`--bitrate "${text}" is RATE or MIN:MAX (examples: 6M, 2M:8M)`);
  const min = parseBitrate(parts[0]!, '--bitrate minimum');
  const max = parseBitrate(parts[1]!, '--bitrate maximum');
  if (min > max) throw new UsageError(`--bitrate "${text}": the minimum is above the maximum`);
  return { min, max, adaptive: true };
}

/** `name=cell-a,bind=10.0.0.2,via=127.0.0.1:7001,priority=3,backup,metered` → link options. */
export function parseLinkFlag(text: string): BondLinkOptions {
  const link: BondLinkOptions = { name: '' };
  for (const part of text.split(',')) {
    const [k, v] = part.split('=', 2) as [string, string | undefined];
    switch (k) {
      case 'name':
      case 'bind':
      case 'interface':
      case 'via':
        if (!v) throw new UsageError(`--link ${k} needs a value (in "${text}")`);
        link[k] = v;
        break;
      case 'priority': {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 9) throw new UsageError(`--link priority must be 0 to 9 (in "${text}")`);
        link.priority = n;
        break;
      }
      case 'backup':
        link.backupOnly = v === undefined || v === 'true' || v === '1';
        break;
      case 'metered':
        link.metered = v === undefined || v === 'true' || v === '1';
        break;
      default:
        throw new UsageError(`--link: unknown field "${k}" (name, bind, interface, via, priority, backup, metered)`);
    }
  }
  if (!link.name) throw new UsageError(`--link "${text}" needs name=…`);
  return link;
}

/** Reads a passphrase from a file (first line), for use instead of putting it on the command line. */
export function readPassphraseFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read --passphrase-file ${file}: ${(e as Error).message}`);
  }
  return text.split('\n')[0]!.trim();
}

/** The process title shows no arguments: a passphrase typed on the command line must not be visible in ps. */
export function hideArguments(command: string): void {
  process.title = `fieldcast ${command}`;
}

export async function baseConfig(file: string | undefined): Promise<Config> {
  return file ? loadConfig(file) : ConfigSchema.parse({});
}

/** Applies overrides to a config and validates the result with the schema (errors name the key). */
export function withOverrides(config: Config, overrides: (c: ConfigInput) => void): Config {
  const copy = structuredClone(config) as ConfigInput;
  overrides(copy);
  return validateConfig(copy, 'command-line options');
}
