/**
 * The one typed door to the native addons (native/, built by node-gyp).
 *
 * There are two, so the supervisor never maps the capture and encoder
 * libraries: `fieldcast.node` (capture, encoders, the slate; the pipeline
 * process and tools load it through `loadNative()`) and `fieldcast_srt.node`
 * (libsrt and sd_notify; the supervisor loads it through `loadSrtNative()`).
 * Both carry the batched UDP socket of the bonded path (udp-exports.ts, wrapped by udp.ts), reached
 * through `loadUdpNative()` from whichever addon the process already holds.
 * Each is loaded once, routes its log lines into the logger, and fails with
 * one clear message naming the fix when the build is missing. Every export is
 * declared in the interfaces below; the feature files beside this one
 * (core.ts, …) hold each feature's part, and options are validated in
 * TypeScript before they cross.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { FieldcastError } from '../lib/errors.js';
import { createLogger, type Logger } from '../lib/logger.js';
import type { CaptureExports } from './capture.js';
import type { CoreExports, SystemExports } from './core.js';
import type { MediaExports } from './media.js';
import type { SrtExports } from './srt.js';
import type { UdpExports } from './udp-exports.js';

/** fieldcast.node: capture, encoders, the slate. */
export interface NativeAddon extends CoreExports, MediaExports, CaptureExports, UdpExports {}
/** fieldcast_srt.node: SRT and sd_notify. */
export interface SrtAddon extends CoreExports, SrtExports, SystemExports, UdpExports {}

/** An addon could not be loaded: not built, or a system library is missing. */
export class NativeUnavailableError extends FieldcastError {
  constructor(message: string, cause?: unknown) {
    super('NATIVE_UNAVAILABLE', message, {}, { cause });
  }
}

const MEDIA_PATH = fileURLToPath(new URL('../../native/build/Release/fieldcast.node', import.meta.url));
const SRT_PATH = fileURLToPath(new URL('../../native/build/Release/fieldcast_srt.node', import.meta.url));
const FIX =
  'run "npm run setup" (it installs libavcodec-dev, libswscale-dev, libasound2-dev, libsrt-openssl-dev, libv4l-dev and builds), or "npm run build:native"';

const nativeLoggers = new Map<string, Logger>();
const loaded = new Map<string, CoreExports>();

function load<T extends CoreExports>(file: string, what: string): T {
  const hit = loaded.get(file);
  if (hit) return hit as T;
  if (!existsSync(file)) throw new NativeUnavailableError(`the ${what} addon is not built (${file} is missing): ${FIX}`);
  let addon: T;
  try {
    addon = createRequire(import.meta.url)(file) as T;
  } catch (err) {
    throw new NativeUnavailableError(`the ${what} addon failed to load (${(err as Error).message}): ${FIX}`, err);
  }
  addon.setLogCallback((level, module, message) => {
    let log = nativeLoggers.get(module);
    if (!log) {
      log = createLogger(`native.${module}`);
      nativeLoggers.set(module, log);
    }
    if (level === 'debug' || level === 'info' || level === 'warn' || level === 'error') log[level](message);
  });
  loaded.set(file, addon);
  return addon;
}

export function addonPath(): string {
  return MEDIA_PATH;
}

/** Loads the media addon (once). Throws NativeUnavailableError with the fix in its message. */
export function loadNative(): NativeAddon {
  return load<NativeAddon>(MEDIA_PATH, 'media');
}

/** Loads the SRT addon (once): all the supervisor's native code. Throws NativeUnavailableError. */
export function loadSrtNative(): SrtAddon {
  return load<SrtAddon>(SRT_PATH, 'SRT');
}

/**
 * The batched UDP socket is in both addons: the one this process has loaded
 * already (the media addon in the pipeline process), else the SRT addon.
 */
export function loadUdpNative(): UdpExports {
  const media = loaded.get(MEDIA_PATH) as NativeAddon | undefined;
  return media ?? loadSrtNative();
}

/** True when both addons load; for `fieldcast probe` and tests that report what is missing. */
export function nativeAvailable(): boolean {
  try {
    loadNative();
    loadSrtNative();
    return true;
  } catch {
    return false;
  }
}
