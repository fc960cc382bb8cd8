/** Errors of the uplink interfaces and their source routing, with stable codes (CONVENTIONS.md §4). */
import { FieldcastError } from '../../lib/errors.js';

/** An `interfaces` / `ignoreInterfaces` pattern or a routing range that does not fit. Nothing was changed. */
export class UplinkConfigError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('UPLINK_CONFIG_INVALID', message, details);
  }
}

/** The `ip` tool could not be run, or it failed (its own words are in `details.stderr`). */
export class UplinkIpCommandError extends FieldcastError {
  readonly stderr: string;
  readonly exitCode: number | undefined;

  constructor(message: string, details: { args: readonly string[]; stderr?: string; exitCode?: number; netns?: string }, cause?: unknown) {
    super('UPLINK_IP_FAILED', message, { ...details, args: details.args.join(' ') }, { cause });
    this.stderr = details.stderr ?? '';
    this.exitCode = details.exitCode;
  }
}

/** The network interfaces could not be listed (neither sysfs nor `ip` answered). */
export class UplinkDiscoveryError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super('UPLINK_DISCOVERY_FAILED', message, details, { cause });
  }
}

/** A routing table or source rule of an uplink could not be set or removed. */
export class UplinkRouteError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super('UPLINK_ROUTE_FAILED', message, details, { cause });
  }
}

/** The monitor or the source routing was used after close(). */
export class UplinkStateError extends FieldcastError {
  constructor(message: string) {
    super('UPLINK_STATE', message);
  }
}
