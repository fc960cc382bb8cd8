/** Setting the APN of the default PDP context (AT+CGDCONT, TS 27.007 §10.1.1). */
import { InvalidInputError } from '../../lib/errors.js';
import type { AtCommander } from './commander.js';

export type PdpType = 'IP' | 'IPV6' | 'IPV4V6';

/** TS 23.003 §9.1: labels of letters, digits and hyphens joined by dots, at most 100 octets. */
const APN = /^(?=.{1,100}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

export function checkApn(apn: string): string {
  if (!APN.test(apn)) {
    throw new InvalidInputError(`"${apn}" is not an APN: letters, digits and hyphens, in parts joined by dots`, { apn });
  }
  return apn;
}

export interface SetApnOptions {
  /** The PDP context; 1 is the one modems bring up by themselves. */
  cid?: number;
  pdpType?: PdpType;
}

export async function setApn(at: AtCommander, apn: string, opts: SetApnOptions = {}): Promise<void> {
  const cid = opts.cid ?? 1;
  if (!Number.isInteger(cid) || cid < 1 || cid > 24) throw new InvalidInputError('the PDP context id must be from 1 to 24', { cid });
  await at.send(`AT+CGDCONT=${cid},"${opts.pdpType ?? 'IP'}","${checkApn(apn)}"`);
}
