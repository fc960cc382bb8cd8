/**
 * The one typed door to the native addon (native/, built by node-gyp).
 *
 * It loads `native/build/Release/fieldcast.node` once, routes the addon's log
 * lines into the logger, and fails with one clear message naming the fix when
 * the build is missing. Every export is declared in the interface below; the
 * feature files beside this one (core.ts, …) hold each feature's part, and
 * options are validated in TypeScript before they cross.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { FieldcastError } from '../lib/errors.js';
import { createLogger, type Logger } from '../lib/logger.js';
import type { CaptureExports } from './capture.js';
import type { CoreExports } from './core.js';
import type { MediaExports } from './media.js';
import type { SrtExports } from './srt.js';

export interface NativeAddon extends CoreExports, MediaExports, CaptureExports, SrtExports {}

/** The addon could not be loaded: not built, or a system library is missing. */
export class NativeUnavailableError extends FieldcastError {
  constructor(message: string, cause?: unknown) {
    super('NATIVE_UNAVAILABLE', message, {}, { cause });
  }
}

const ADDON_PATH = fileURLToPath(new URL('../../native/build/Release/fieldcast.node', import.meta.url));
const FIX =
  'run "npm run setup" (it installs libavcodec-dev, libswscale-dev, libasound2-dev, libsrt-openssl-dev, libv4l-dev and builds), or "npm run build:native"';

let cached: NativeAddon | undefined;
const nativeLoggers = new Map<string, Logger>();

export function addonPath(): string {
  return ADDON_PATH;
}

/** Loads the addon (once). Throws NativeUnavailableError with the fix in its message. */
export function loadNative(): NativeAddon {
  if (cached) return cached;
  if (!existsSync(ADDON_PATH)) {
    throw new NativeUnavailableError(`the media addon is not built (${ADDON_PATH} is missing): ${FIX}`);
  }
  try {
    const require = createRequire(import.meta.url);
    cached = require(ADDON_PATH) as NativeAddon;
  } catch (err) {
    throw new NativeUnavailableError(`the media addon failed to load (${(err as Error).message}): ${FIX}`, err);
  }
  cached.setLogCallback((level, module, message) => {
    let log = nativeLoggers.get(module);
    if (!log) {
      log = createLogger(`native.${module}`);
      nativeLoggers.set(module, log);
    }
    if (level === 'debug' || level === 'info' || level === 'warn' || level === 'error') log[level](message);
  });
  return cached;
}

/** True when the addon loads; for `fieldcast probe` and tests that report what is missing. */
export function nativeAvailable(): boolean {
  try {
    loadNative();
    return true;
  } catch {
    return false;
  }
}
