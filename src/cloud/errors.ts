/**
 * What can go wrong between `fieldcast cloud` (or `fieldcast receive
 * --flow`) and AWS, as named errors an operator can act on. `fromAwsError`
 * turns what the AWS SDK throws (a service exception with its `name` and
 * HTTP status, a missing-credentials error, a socket error) into one of
 * these; nothing here ever carries a passphrase.
 */
import { FieldcastError } from '../lib/errors.js';

/** A flag or config value that does not fit (a flow ARN, a CIDR, a passphrase file). No request was made. */
export class CloudInputError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('CLOUD_INPUT_INVALID', message, details);
  }
}

/** No credentials found, or AWS refused them (unknown key, bad signature, expired token). */
export class CloudAuthError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super('CLOUD_AUTH_FAILED', message, details, { cause });
  }
}

/** The credentials are valid but their IAM policy does not allow this action (README: "IAM permissions"). */
export class CloudAccessDeniedError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super('CLOUD_ACCESS_DENIED', message, details, { cause });
  }
}

/** The flow (or the secret, or a source) does not exist in that account and region. */
export class CloudNotFoundError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super('CLOUD_NOT_FOUND', message, details, { cause });
  }
}

/** AWS kept answering "too many requests" after the SDK's retries. */
export class CloudThrottledError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super('CLOUD_THROTTLED', message, details, { cause });
  }
}

/** AWS could not be reached (DNS, no route, timeout, connection refused). */
export class CloudUnreachableError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super('CLOUD_UNREACHABLE', message, details, { cause });
  }
}

/** AWS refused the request itself (a value it does not accept, a flow in the wrong state) or failed on its side. */
export class CloudRequestError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super('CLOUD_REQUEST_FAILED', message, details, { cause });
  }
}

/** The flow's sources do not let setup decide which one to set (two sources and no --source). */
export class CloudFlowShapeError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('CLOUD_FLOW_SHAPE', message, details);
  }
}

export type CloudError =
  | CloudInputError
  | CloudAuthError
  | CloudAccessDeniedError
  | CloudNotFoundError
  | CloudThrottledError
  | CloudUnreachableError
  | CloudRequestError
  | CloudFlowShapeError;

/** Error names AWS uses for credentials it does not accept (AWS common errors, per service protocol). */
const AUTH_NAMES = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'ExpiredTokenException',
  'ExpiredToken',
  'MissingAuthenticationToken',
  'InvalidAccessKeyId',
]);
const DENIED_NAMES = new Set(['AccessDeniedException', 'AccessDenied', 'ForbiddenException', 'NotAuthorized']);
const NOT_FOUND_NAMES = new Set(['NotFoundException', 'ResourceNotFoundException', 'ResourceNotFound']);
const THROTTLE_NAMES = new Set(['TooManyRequestsException', 'ThrottlingException', 'Throttling', 'RequestLimitExceeded']);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

interface AwsLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

function asAwsLike(err: unknown): AwsLike {
  return typeof err === 'object' && err !== null ? (err as AwsLike) : {};
}

/**
 * The error an operator should see for a failed AWS call. `what` names the
 * call in plain words ("reading the flow", "creating the secret"); `target`
 * is what it was about (a flow ARN, a secret name).
 */
export function fromAwsError(err: unknown, what: string, target: string): FieldcastError {
  if (err instanceof FieldcastError) return err;
  const e = asAwsLike(err);
  const name = typeof e.name === 'string' ? e.name : '';
  const message = typeof e.message === 'string' ? e.message : String(err);
  const status = e.$metadata?.httpStatusCode;
  const code = typeof e.code === 'string' ? e.code : '';
  const details = { target, awsError: name || undefined, httpStatus: status, attempts: e.$metadata?.attempts };
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message))
    return new CloudAuthError(
      `no AWS credentials found while ${what}: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an IAM role gives them (an EC2 instance profile)`,
      details,
      err,
    );
  if (AUTH_NAMES.has(name))
    return new CloudAuthError(
      `AWS did not accept the credentials while ${what} (${name}: ${message}); check the access key, the secret key and the session token (AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)`,
      details,
      err,
    );
  if (DENIED_NAMES.has(name) || (status === 403 && !AUTH_NAMES.has(name)))
    return new CloudAccessDeniedError(
      `AWS denied ${what} for ${target} (${name || 'HTTP 403'}: ${message}); the README lists the IAM permissions each fieldcast cloud command needs`,
      details,
      err,
    );
  if (NOT_FOUND_NAMES.has(name) || status === 404)
    return new CloudNotFoundError(
      `${target} was not found while ${what} (${name || 'HTTP 404'}: ${message}); check the ARN, and that its region and account are the credentials' own`,
      details,
      err,
    );
  if (THROTTLE_NAMES.has(name) || status === 429)
    return new CloudThrottledError(
      `AWS kept refusing ${what} as too many requests, after ${e.$metadata?.attempts ?? 'several'} tries; wait a minute and run it again`,
      details,
      err,
    );
  if (NETWORK_CODES.has(code) || name === 'TimeoutError' || name === 'RequestTimeout' || (!name && code))
    return new CloudUnreachableError(
      `cannot reach AWS while ${what} (${code || name}: ${message}); check this machine's internet connection and DNS`,
      details,
      err,
    );
  return new CloudRequestError(`AWS refused ${what} for ${target} (${name || `HTTP ${status ?? '?'}`}: ${message})`, details, err);
}
