/** `fieldcast update FILE`: installs a signed update bundle into the other root slot (src/update). */
import { describeError } from '../lib/errors.js';
import { installBundle, requestReboot, UpdateError } from '../update/index.js';
import { type Command, err, out, parseOptions, UsageError } from './command.js';

const usage = `Usage: fieldcast update [--reboot] FILE

Installs FILE, a signed Fieldcast update bundle (.raucb, image/bundle.sh),
into the root slot the box is not running from, printing RAUC's progress.
Nothing is written unless the bundle is signed by a key this box trusts and
is made for this kind of box. The new slot boots at the next restart; once
fieldcast run has been healthy there for update.markGoodAfterS (60 s) it is
kept, else the box returns to the slot it runs now.
  --reboot   restart into the new slot as soon as it is installed

Exit status: 0 installed; 1 not installed, the reason's code printed
(UPDATE_BAD_SIGNATURE, UPDATE_WRONG_COMPATIBLE, UPDATE_NO_SPACE,
UPDATE_NOT_RAUC_SYSTEM, UPDATE_NO_FILE, UPDATE_BUSY, UPDATE_FAILED); 2 usage.
Runs as root (or a member of the group fieldcast, which may talk to RAUC).`;

export const command: Command = {
  name: 'update',
  summary: 'install a signed update bundle into the other root slot (A/B, RAUC)',
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, { reboot: { type: 'boolean' } }, true);
    const file = positionals[0];
    if (!file || positionals.length > 1) throw new UsageError('update takes one FILE, the bundle');
    out(`update: installing ${file}`);
    try {
      await installBundle(file, { onProgress: (p) => out(`update: ${String(p.percent).padStart(3)}% ${p.message}`) });
    } catch (e) {
      if (e instanceof UpdateError) {
        err(`update: not installed (${e.code}): ${e.message}`);
        return 1;
      }
      err(`update: not installed (UPDATE_FAILED): ${describeError(e)}`);
      return 1;
    }
    out('update: installed into the other root slot; it boots at the next restart and is kept once fieldcast has been healthy there');
    if (values.reboot) {
      out('update: restarting now');
      await requestReboot();
    }
    return 0;
  },
};
