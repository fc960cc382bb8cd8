/** `fieldcast analyse`: TR 101 290 checks of a TS file or of stdin. */
import { createReadStream } from 'node:fs';
import { formatReport, TsAnalyser } from '../mux/index.js';
import { type Command, numberOption, out, parseOptions, UsageError } from './command.js';

const usage = `Usage: fieldcast analyse FILE.ts|- [--json] [--pid-timeout MS]

Checks an MPEG-TS against ETSI TR 101 290 (priority 1 and 2 checks that need
no decoding) and prints the report. Exit status 1 when a priority 1 error is found.
  --json             print the report as JSON
  --pid-timeout MS   PID_error when a stream the PMT names is silent this long (default 2000)`;

export const command: Command = {
  name: 'analyse',
  summary: 'check an MPEG-TS against TR 101 290 and report',
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, { json: { type: 'boolean' }, 'pid-timeout': { type: 'string' } }, true);
    const file = positionals[0];
    if (!file || positionals.length > 1) throw new UsageError('analyse takes one FILE, or "-" for stdin');
    const pidTimeoutMs = numberOption(values['pid-timeout'], '--pid-timeout', 100, 60_000);
    const analyser = new TsAnalyser(pidTimeoutMs === undefined ? {} : { pidTimeoutMs });
    const input = file === '-' ? process.stdin : createReadStream(file, { highWaterMark: 1 << 20 });
    for await (const chunk of input) analyser.push(chunk as Buffer);
    const report = analyser.report();
    out(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
    return report.priority1Errors > 0 ? 1 : 0;
  },
};
