/** What can stop the appliance's system settings (firewall, SSH) from being applied, with their codes. */
import { FieldcastError } from '../lib/errors.js';

export type SystemErrorCode =
  /** Not the appliance image (no /etc/fieldcast-image): nothing is changed on a machine Fieldcast does not own. */
  | 'SYSTEM_NOT_APPLIANCE'
  /** Run as a user that may not load firewall rules or start units (it needs root). */
  | 'SYSTEM_NOT_ROOT'
  /** nft refused the LAN chain, or the base ruleset (nftables.service) is not loaded. */
  | 'SYSTEM_FIREWALL_FAILED'
  /** sshd did not start or stop (systemctl's words in the message), or its keys could not be written. */
  | 'SYSTEM_SSH_FAILED'
  /** The change was saved, but the box did not show it applied in time. */
  | 'SYSTEM_NOT_APPLIED';

export class SystemError extends FieldcastError {
  declare readonly code: SystemErrorCode;
  constructor(code: SystemErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
  }
}
