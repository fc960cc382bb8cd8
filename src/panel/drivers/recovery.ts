/**
 * How a display that stops answering is retried, and how the failure is put
 * into words for the status page and the log.
 */
import { describeError } from '../../lib/errors.js';

/** The first retry comes a second after the failure; each next one waits twice as long, up to 10 s. */
export const RETRY_FIRST_MS = 1_000;
export const RETRY_MAX_MS = 10_000;

export function nextRetryMs(previousMs: number): number {
  return Math.min(previousMs * 2, RETRY_MAX_MS);
}

/** What an errno from i2c-dev, spidev or the GPIO sysfs means on this box, in words. */
const ERRNO_WORDS: Record<string, string> = {
  ENOENT: 'no such device; is the bus enabled in the boot configuration?',
  EACCES: 'permission denied; the service user needs the i2c, spi and gpio groups',
  EPERM: 'permission denied; the service user needs the i2c, spi and gpio groups',
  EBUSY: 'in use by another driver or program',
  ENXIO: 'no acknowledgement; check the cable, the power and the address',
  EREMOTEIO: 'no acknowledgement; check the cable, the power and the address',
  EIO: 'input/output error; check the cable and the power',
  ENODEV: 'the adapter has gone (unplugged?)',
  ETIMEDOUT: 'the bus timed out; check the cable',
  EAGAIN: 'the bus is busy (arbitration lost); check for another master or a stuck line',
};

/** "no acknowledgement; check … (EREMOTEIO: Remote I/O error)" */
export function describeFailure(err: unknown): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  const words = typeof code === 'string' ? ERRNO_WORDS[code] : undefined;
  const detail = describeError(err);
  return words ? `${words} (${detail})` : detail;
}
