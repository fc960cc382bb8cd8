/**
 * Modem profiles: one JSON file per modem family in hardware/modems/, saying
 * how to find its AT port (USB ids, interface number), which vendor commands
 * read its ICCID and signal, and which command puts it in a network mode the
 * kernel brings up by itself. Adding a modem is adding a file.
 */
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { loadProfileDir, type ProfileDirSpec, parseProfile } from '../../lib/profile-dir.js';
import { ModemProfileError } from './errors.js';

/** hardware/modems at the package root, from src/uplinks/modems or dist/uplinks/modems alike. */
export const DEFAULT_PROFILE_DIR = fileURLToPath(new URL('../../../hardware/modems/', import.meta.url));

export const GENERIC_PROFILE = 'generic';

const usbId = z
  .string()
  .regex(/^[0-9a-fA-F]{4}$/, 'four hex digits, as in lsusb')
  .transform((s) => s.toLowerCase());

export const SIGNAL_PARSERS = ['quectel-qeng', 'sierra-gstatus', 'huawei-hcsq'] as const;
export type SignalParserName = (typeof SIGNAL_PARSERS)[number];

export const ModemProfileSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9-]+$/, 'lower case letters, digits and dashes'),
  description: z.string().min(1),
  /** Picks the profile from the modem's own AT+CGMI / AT+CGMM answer (substrings, any case). */
  match: z.strictObject({ manufacturer: z.string().min(1), models: z.array(z.string().min(1)).min(1) }).optional(),
  usb: z.array(z.strictObject({ vendorId: usbId, productId: usbId })).default([]),
  /** bInterfaceNumber of the USB interface whose tty is the AT port. */
  atInterface: z.number().int().min(0).max(255).optional(),
  iccidCommand: z.string().regex(/^AT/i).default('AT+CCID'),
  registration: z
    .array(z.enum(['cs', 'eps', '5gs']))
    .min(1)
    .default(['cs', 'eps', '5gs']),
  signal: z
    .strictObject({
      command: z.string().regex(/^AT/i),
      parser: z.enum(SIGNAL_PARSERS),
      /** EC2x report LTE SINR in 1/5 dB from -20 dB (Quectel EC25 AT manual, AT+QENG); later modules in dB. */
      lteSinr: z.enum(['db', 'fifth-db']).default('db'),
    })
    .optional(),
  networkMode: z
    .strictObject({
      kind: z.enum(['ecm', 'mbim', 'ncm', 'qmi', 'rndis']),
      commands: z.array(z.string().regex(/^AT/i)).min(1),
      restartNeeded: z.boolean(),
      note: z.string().optional(),
    })
    .optional(),
});

export type ModemProfile = z.output<typeof ModemProfileSchema>;
export type ModemSignalConfig = NonNullable<ModemProfile['signal']>;
export type ModemNetworkMode = NonNullable<ModemProfile['networkMode']>;

const PROFILES: ProfileDirSpec<ModemProfile> = {
  what: 'modem profile',
  schema: ModemProfileSchema as z.ZodType<ModemProfile>,
  fail: (message, details) => new ModemProfileError(message, details),
};

/** Validates one profile; the error names the source and each problem with its key. */
export function parseModemProfile(value: unknown, source: string): ModemProfile {
  return parseProfile(PROFILES, value, source);
}

/** Every profile in `dir`, sorted by name; the generic one must be there. */
export function loadModemProfiles(dir = DEFAULT_PROFILE_DIR): Promise<ModemProfile[]> {
  return loadProfileDir(PROFILES, dir, GENERIC_PROFILE);
}

export function profileByName(profiles: readonly ModemProfile[], name: string): ModemProfile {
  const p = profiles.find((x) => x.name === name);
  if (!p) {
    throw new ModemProfileError(`there is no modem profile "${name}" (there are: ${profiles.map((x) => x.name).join(', ')})`, { name });
  }
  return p;
}

/** The profile whose match fits what the modem says it is (AT+CGMI, AT+CGMM); the generic one otherwise. */
export function profileForIdentity(profiles: readonly ModemProfile[], manufacturer = '', model = ''): ModemProfile {
  const maker = manufacturer.toLowerCase();
  const m = model.toLowerCase();
  const hit = profiles.find(
    (p) => p.match && maker.includes(p.match.manufacturer.toLowerCase()) && p.match.models.some((x) => m.includes(x.toLowerCase())),
  );
  return hit ?? profileByName(profiles, GENERIC_PROFILE);
}

/** The profile for a USB device, if one lists its ids. */
export function profileForUsb(profiles: readonly ModemProfile[], vendorId: string, productId: string): ModemProfile | undefined {
  const v = vendorId.toLowerCase();
  const p = productId.toLowerCase();
  return profiles.find((x) => x.usb.some((u) => u.vendorId === v && u.productId === p));
}
