import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkFigures, formatFigure, NotObservedError, SCENARIOS } from '../bench/index.js';
import type { ScenarioResult } from '../bench/types.js';
import { type Command, numberOption, out, parseOptions, UsageError } from './command.js';

function usage(): string {
  const names = Object.entries(SCENARIOS).map(([n, s]) => `  ${n.padEnd(16)} ${s.description}`);
  return [
    'Usage: fieldcast bench SCENARIO|all [--quick] [--runs N] [--json FILE] [--keep]',
    '',
    'Prints one "name: value unit" per figure and a last "verdict:" line. A figure',
    'a scenario could not observe is printed as "not observed: name: why", never',
    'as a number, and the exit status is then 1.',
    '  --quick       shorter runs (figures are noisier)',
    '  --runs N      how many runs, for a scenario that repeats them (failover-harsh)',
    '  --json FILE   also write the figures as JSON',
    '  --keep        keep the working folder',
    '',
    'Scenarios:',
    ...names,
  ].join('\n');
}

export const command: Command = {
  name: 'bench',
  summary: 'run the benchmark scenarios and print their figures',
  get usage() {
    return usage();
  },
  async run(argv) {
    const { values, positionals } = parseOptions(
      argv,
      { quick: { type: 'boolean' }, runs: { type: 'string' }, json: { type: 'string' }, keep: { type: 'boolean' } },
      true,
    );
    const runs = numberOption(values.runs, '--runs', 1, 1000);
    if (runs !== undefined && !Number.isInteger(runs)) throw new UsageError('--runs must be a whole number');
    const which = positionals[0];
    if (!which) throw new UsageError('name a scenario, or "all"');
    const names = which === 'all' ? Object.keys(SCENARIOS) : [which];
    for (const n of names) if (!SCENARIOS[n]) throw new UsageError(`unknown scenario "${n}"`);
    const results: Record<string, ScenarioResult> = {};
    let status = 0;
    const ac = new AbortController();
    const onSig = (): void => ac.abort(new Error('interrupted'));
    process.once('SIGINT', onSig);
    try {
      for (const n of names) {
        const entry = SCENARIOS[n]!;
        const workDir = mkdtempSync(path.join(tmpdir(), `fieldcast-bench-${n}-`));
        try {
          const { scenario } = await entry.load();
          out(`# ${n}: ${scenario.description}`);
          let r: ScenarioResult;
          try {
            r = checkFigures(
              await scenario.run({ quick: Boolean(values.quick), workDir, signal: ac.signal, ...(runs === undefined ? {} : { runs }) }),
            );
          } catch (e) {
            if (!(e instanceof NotObservedError)) throw e;
            r = { figures: [], verdict: `not observed: ${e.message}`, unobserved: [e.message] };
          }
          for (const f of r.figures) out(formatFigure(f));
          for (const u of r.unobserved ?? []) out(`not observed: ${u}`);
          out(`verdict: ${r.verdict}`);
          if (r.unobserved?.length) status = 1;
          results[n] = r;
        } finally {
          if (!values.keep) rmSync(workDir, { recursive: true, force: true });
          else out(`# kept ${workDir}`);
        }
      }
    } finally {
      process.off('SIGINT', onSig);
    }
    if (values.json) writeFileSync(values.json, `${JSON.stringify({ date: new Date().toISOString(), results }, null, 2)}\n`);
    return status;
  },
};
