/** `fieldcast modem PORT`: read a modem at a serial port — identity, SIM, network, signal. */
import { readFile } from 'node:fs/promises';
import { InvalidInputError } from '../lib/errors.js';
import {
  AtChannel,
  checkPin,
  formatModemReading,
  loadModemProfiles,
  maskedReading,
  profileByName,
  readModem,
} from '../uplinks/modems/index.js';
import { type Command, out, parseOptions, UsageError } from './command.js';

const usage = `Usage: fieldcast modem PORT [--profile NAME] [--pin-file FILE] [--json]

Reads the modem whose AT port is PORT (e.g. /dev/ttyUSB2): maker, model,
firmware, IMEI, the SIM and its ICCID, operator, registration and signal.
IMEI and ICCID are shown masked.
  --profile NAME   the modem's dialect (a file in hardware/modems/); default:
                   picked from what the modem says it is, else "generic"
  --pin-file FILE  a file holding the SIM PIN, used only if the SIM asks for it
  --json           print one JSON object instead of text`;

async function readPin(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the PIN file ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    return checkPin(text.trim());
  } catch (e) {
    if (e instanceof InvalidInputError) throw new UsageError(`the PIN file ${file} must hold only the SIM PIN: 4 to 8 digits`);
    throw e;
  }
}

export const command: Command = {
  name: 'modem',
  summary: 'read a modem at a serial port: identity, SIM, network, signal',
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(
      argv,
      { profile: { type: 'string' }, 'pin-file': { type: 'string' }, json: { type: 'boolean' } },
      true,
    );
    if (positionals.length !== 1) throw new UsageError('give one PORT, e.g. /dev/ttyUSB2');
    const port = positionals[0]!;
    const profiles = await loadModemProfiles();
    if (values.profile !== undefined) {
      try {
        profileByName(profiles, values.profile);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    }
    const pin = values['pin-file'] !== undefined ? await readPin(values['pin-file']) : undefined;
    const channel = await AtChannel.open({ path: port, reopen: false });
    try {
      const reading = await readModem(channel, {
        port,
        profiles,
        ...(values.profile !== undefined ? { profile: values.profile } : {}),
        ...(pin !== undefined ? { pin } : {}),
      });
      out(values.json ? JSON.stringify(maskedReading(reading), null, 2) : formatModemReading(reading));
      // The read worked, but what the operator asked for (unlocking the SIM) did not.
      return reading.sim.problem?.code === 'MODEM_SIM_PIN_WRONG' ? 1 : 0;
    } finally {
      await channel.close();
    }
  },
};
