/**
 * One full reading of a modem: identity, SIM (unlocked with the PIN when it
 * asks and one is given), operator, registration and signal, in the
 * profile's dialect. A command the modem refuses leaves its part out (and is
 * listed in `refused`); a modem that stops answering or a port that goes
 * fails the reading.
 */
import { createLogger } from '../../lib/logger.js';
import type { AtCommander } from './commander.js';
import { ModemAtError } from './errors.js';
import { type ModemIdentity, readIccid, readIdentity } from './identity.js';
import { maskIdentifier } from './masking.js';
import { type OperatorInfo, type RegistrationReading, readOperator, readRegistration } from './network.js';
import { type ModemNetworkMode, type ModemProfile, profileByName, profileForIdentity } from './profiles.js';
import { type CsqSignal, type ExtendedSignal, parseCsq, parseExtendedSignal } from './signal.js';
import { readSim, type SimStatus } from './sim.js';

const log = createLogger('uplinks.modems');

export interface ModemReading {
  port: string;
  /** The profile the modem was read with. */
  profile: string;
  /** Full IMEI and ICCID: the data ledger keys on them. Show them only through the formatters. */
  identity: ModemIdentity;
  sim: SimStatus;
  operator?: OperatorInfo;
  registration: RegistrationReading;
  signal: { csq?: CsqSignal; extended?: ExtendedSignal };
  /** How the profile puts this modem in a mode the kernel brings up by itself. */
  networkMode?: ModemNetworkMode;
  /** Commands the modem refused (ERROR): what this reading lacks, and why. */
  refused: string[];
  /** ms since the epoch. */
  readAt: number;
}

export interface ReadModemOptions {
  port: string;
  profiles: readonly ModemProfile[];
  /** A profile name; default: the one matching what the modem says it is. */
  profile?: string;
  /** The SIM PIN, used only when the SIM asks for it. */
  pin?: string;
  now?: () => number;
}

export async function readModem(at: AtCommander, opts: ReadModemOptions): Promise<ModemReading> {
  const refused: string[] = [];
  // Numeric +CME ERROR codes: the SIM and PIN handling keys on them.
  if (!(await at.exchange('AT+CMEE=1')).ok) refused.push('AT+CMEE=1');
  const identity = await readIdentity(at, refused);
  const profile =
    opts.profile !== undefined
      ? profileByName(opts.profiles, opts.profile)
      : profileForIdentity(opts.profiles, identity.manufacturer, identity.model);
  const sim = await readSim(at, opts.pin !== undefined ? { pin: opts.pin } : {});
  const iccid = await readIccid(at, profile.iccidCommand, refused);
  if (iccid) identity.iccid = iccid;
  const operator = await readOperator(at, refused);
  const registration = await readRegistration(at, profile.registration, refused);
  const signal: ModemReading['signal'] = {};
  const csq = await at.exchange('AT+CSQ');
  if (csq.ok) {
    const parsed = parseCsq(csq.lines);
    if (parsed) signal.csq = parsed;
  } else refused.push('AT+CSQ');
  if (profile.signal) {
    try {
      const ext = parseExtendedSignal(profile.signal, (await at.send(profile.signal.command)).lines);
      if (ext) signal.extended = ext;
    } catch (err) {
      if (!(err instanceof ModemAtError)) throw err;
      refused.push(profile.signal.command);
    }
  }
  const reading: ModemReading = {
    port: opts.port,
    profile: profile.name,
    identity,
    sim,
    registration,
    signal,
    refused,
    readAt: (opts.now ?? Date.now)(),
  };
  if (operator) reading.operator = operator;
  if (profile.networkMode) reading.networkMode = profile.networkMode;
  log.debug('modem read', {
    port: opts.port,
    profile: profile.name,
    imei: identity.imei && maskIdentifier(identity.imei),
    sim: sim.state,
    registration: registration.state,
  });
  return reading;
}
