/** Errors of the bonding layer, with stable codes (CONVENTIONS.md §4) and words an operator understands. */
import { FieldcastError } from '../lib/errors.js';

/** A bonding option or link definition that does not fit. Nothing was changed. */
export class BondConfigError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('BOND_CONFIG_INVALID', message, details);
  }
}

/** An uplink could not be opened (no such interface, no address on it, address not on this machine). */
export class BondLinkError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super('BOND_LINK_UNAVAILABLE', message, details, { cause });
  }
}

/** The bonding receiver refused a registration (REG_ERR / REG_NAK). */
export class BondRefusedError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('BOND_REFUSED', message, details);
  }
}

/** The bonding receiver's address could not be resolved or reached. */
export class BondReceiverError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super('BOND_RECEIVER_UNREACHABLE', message, details, { cause });
  }
}

/** The sender was used after close(), or started twice. */
export class BondStateError extends FieldcastError {
  constructor(message: string) {
    super('BOND_STATE', message);
  }
}
