/**
 * Errors with stable codes and operator-readable messages.
 *
 * Every subsystem defines its own named subclasses in its `errors.ts`; the
 * `code` is stable (status page, LCD and tests key on it), the `message` is
 * written for a camera operator, and `details` carries structured fields for
 * logs. Native code returns `{code, message}`; `fromNative` rebuilds the
 * error with the caller's stack.
 */
export class FieldcastError extends Error {
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: string, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: string; message: string; details: Readonly<Record<string, unknown>> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** A value from an operator, a file or the network that does not fit. Changes nothing. */
export class InvalidInputError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('INVALID_INPUT', message, details);
  }
}

/** The shape native code uses to report a failure. */
export interface NativeErrorShape {
  code: string;
  message: string;
}

export function isNativeErrorShape(value: unknown): value is NativeErrorShape {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

/** Rebuilds an error thrown or returned by the addon so its stack is the caller's. */
export function fromNative(err: unknown): FieldcastError {
  if (err instanceof FieldcastError) return err;
  if (isNativeErrorShape(err)) return new FieldcastError(err.code, err.message);
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    return new FieldcastError(typeof code === 'string' ? code : 'NATIVE_ERROR', err.message, {}, { cause: err });
  }
  return new FieldcastError('NATIVE_ERROR', String(err));
}

/** A short, safe description of any thrown value, for logs and status lines. */
export function describeError(err: unknown): string {
  if (err instanceof FieldcastError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
