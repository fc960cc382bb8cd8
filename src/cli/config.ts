import { ConfigInvalidError } from '../config/errors.js';
import { describeConfig, loadConfig } from '../config/index.js';
import { type Command, out, parseOptions, UsageError } from './command.js';

const usage = `Usage:
  fieldcast config check FILE      validate a config file; every bad key is named
  fieldcast config defaults [--json]  print every key, its default and what it means`;

export const command: Command = {
  name: 'config',
  summary: 'check a config file, or print every key with its default',
  usage,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === 'check') {
      const { positionals } = parseOptions(rest, {}, true);
      const file = positionals[0];
      if (!file || positionals.length > 1) throw new UsageError('config check takes one FILE');
      try {
        await loadConfig(file);
      } catch (e) {
        if (e instanceof ConfigInvalidError) {
          out(`${file}: not valid`);
          for (const p of e.problems) out(`  ${p.key}: ${p.expected} (got ${JSON.stringify(p.value)})`);
          return 1;
        }
        throw e;
      }
      out(`${file}: valid`);
      return 0;
    }
    if (sub === 'defaults') {
      const { values } = parseOptions(rest, { json: { type: 'boolean' } });
      const docs = describeConfig();
      if (values.json) {
        out(JSON.stringify(docs, null, 2));
      } else {
        for (const d of docs) out(`${d.key} = ${JSON.stringify(d.default) ?? '(unset)'}\n    ${d.description}`);
      }
      return 0;
    }
    throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'config needs a subcommand');
  },
};
