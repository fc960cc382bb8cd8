/**
 * SRT errors with stable codes (the status page, LCD and tests key on them)
 * and messages a camera operator understands. Native code reports
 * `{code, message}` (native/src/srt_reject.cc); `srtErrorFromNative` rebuilds
 * the named class here with the caller's stack.
 */
import { FieldcastError } from '../lib/errors.js';

export class SrtError extends FieldcastError {}

/** A malformed srt:// URL or option value; names the parameter. Changes nothing. */
export class SrtUrlInvalidError extends SrtError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('SRT_URL_INVALID', message, details);
  }
}

/** The destination rejected the passphrase (SRT_REJ_BADSECRET). The operator must fix it. */
export class SrtAuthFailedError extends SrtError {
  constructor(message = 'the destination rejected the passphrase', details: Record<string, unknown> = {}) {
    super('SRT_AUTH_FAILED', message, details);
  }
}

/** One side has a passphrase and the other has none (SRT_REJ_UNSECURE). */
export class SrtEncryptionMismatchError extends SrtError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('SRT_ENCRYPTION_MISMATCH', message, details);
  }
}

/** The listener's access control refused the stream id (SRT_REJX_*, SRT_REJ_PEER). */
export class SrtStreamIdRejectedError extends SrtError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('SRT_STREAMID_REJECTED', message, details);
  }
}

/** No answer within the connect timeout (SRT_REJ_TIMEOUT). */
export class SrtConnectTimeoutError extends SrtError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('SRT_CONNECT_TIMEOUT', message, details);
  }
}

/** The peer closed a connection that was up. */
export class SrtPeerClosedError extends SrtError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('SRT_PEER_CLOSED', message, details);
  }
}

/** The peer went silent longer than the peer idle timeout. */
export class SrtConnectionLostError extends SrtError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('SRT_CONNECTION_LOST', message, details);
  }
}

/** The destination already serves another sender (SRT_REJX_CONFLICT, SRT_REJ_BACKLOG). */
export class SrtListenerBusyError extends SrtError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('SRT_LISTENER_BUSY', message, details);
  }
}

/** Refused for another reason (version, congestion control, rendezvous cookie...). */
export class SrtConnectRejectedError extends SrtError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('SRT_CONNECT_REJECTED', message, details);
  }
}

/** The connection could not even start: resolve, socket, network error, option refused. */
export class SrtConnectFailedError extends SrtError {}

/** A listener could not bind its port. */
export class SrtBindFailedError extends SrtError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('SRT_BIND_FAILED', message, details);
  }
}

type Ctor = new (message: string, details: Record<string, unknown>) => SrtError;

const BY_CODE: Record<string, Ctor> = {
  SRT_AUTH_FAILED: SrtAuthFailedError,
  SRT_ENCRYPTION_MISMATCH: SrtEncryptionMismatchError,
  SRT_STREAMID_REJECTED: SrtStreamIdRejectedError,
  SRT_CONNECT_TIMEOUT: SrtConnectTimeoutError,
  SRT_PEER_CLOSED: SrtPeerClosedError,
  SRT_CONNECTION_LOST: SrtConnectionLostError,
  SRT_LISTENER_BUSY: SrtListenerBusyError,
  SRT_CONNECT_REJECTED: SrtConnectRejectedError,
  SRT_BIND_FAILED: SrtBindFailedError,
  SRT_URL_INVALID: SrtUrlInvalidError,
};

/**
 * Codes the operator must act on (the passphrase or stream id is wrong):
 * retrying fast cannot help, so SrtOutput retries slowly and flags it.
 */
export const OPERATOR_FIX_CODES: ReadonlySet<string> = new Set(['SRT_AUTH_FAILED', 'SRT_ENCRYPTION_MISMATCH', 'SRT_STREAMID_REJECTED']);

/** Rebuilds the named class for a code reported by the addon. */
export function srtErrorFromNative(code: string, message: string, details: Record<string, unknown> = {}): SrtError {
  const C = BY_CODE[code];
  if (C) return new C(message, details);
  // SRT_CONNECT_FAILED, SRT_RESOLVE_FAILED, SRT_SOCKET_FAILED, SRT_OPTION_REJECTED, SRT_CLOSED...
  return new SrtConnectFailedError(code, message, details);
}
