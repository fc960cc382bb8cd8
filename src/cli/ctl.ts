/**
 * `fieldcast ctl`: scripts' and operators' handle on a running `fieldcast
 * run`, over its control socket (src/supervisor/control.ts).
 */

import { ConfigInvalidError, type ConfigProblem, parseAssignment } from '../config/index.js';
import { describeRecording } from '../record/recorder.js';
import { ControlRequestError, type ControlRequestT, controlCall } from '../supervisor/control.js';
import type { LoggedEvent } from '../supervisor/event-log.js';
import { controlSocketPath } from '../supervisor/paths.js';
import type { StatusSnapshot } from '../supervisor/snapshot.js';
import { formatStatusLine } from '../supervisor/status-line.js';
import { SYSTEM_APPLY_WAIT_MS } from '../system/index.js';
import type { PreflightResult } from '../uplinks/preflight.js';
import { type Command, err, numberOption, out, parseOptions, UsageError } from './command.js';

const usage = `Usage: fieldcast ctl [--socket PATH] [--json] COMMAND

  status               the state, why, and what to do; the figures
  start | stop         stream, or stop streaming (until the next start)
  set KEY=VALUE ...    change settings: validated together, saved, applied live
                       (e.g. set video.maxBitrate=6M destinations.0.latencyMs=2000)
  get [KEY]            a setting, a section, or the whole config (secrets hidden)
  events [--limit N] [--since ISO-TIME]   the event log, oldest first
  modem-reset MODEM    restart a modem (its id, port or interface, as status lists them)
  restart              a new pipeline process (the SRT session and links stay up)
  uplink NAME [--enable|--disable] [--priority N]   use an uplink or not, its priority 0-9
  preflight [--seconds N]   try each link to the bonding receiver (default 6 s): RTT,
                       loss, the rate that got through; the bit rate and latency to set

  --socket PATH   the control socket of fieldcast run (the same default as run's)
  --json          print the answer as JSON (status: the snapshot, with state and reason)`;

export const command: Command = {
  name: 'ctl',
  summary: 'control a running fieldcast run: status, start, stop, set, get, events',
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(
      argv,
      {
        socket: { type: 'string' },
        json: { type: 'boolean' },
        limit: { type: 'string' },
        since: { type: 'string' },
        seconds: { type: 'string' },
        enable: { type: 'boolean' },
        disable: { type: 'boolean' },
        priority: { type: 'string' },
      },
      true,
    );
    const [op, ...args] = positionals;
    const socketPath = controlSocketPath({ flag: values.socket, env: process.env, uid: process.getuid?.() ?? 0 });
    let request: ControlRequestT;
    switch (op) {
      case 'status':
      case 'start':
      case 'stop':
      case 'restart':
        if (args.length > 0) throw new UsageError(`ctl ${op} takes no arguments`);
        request = { op };
        break;
      case 'set':
        if (args.length === 0) throw new UsageError('ctl set needs KEY=VALUE');
        try {
          request = { op, assignments: args.map(parseAssignment) };
        } catch (e) {
          if (e instanceof ConfigInvalidError) throw new UsageError(e.message);
          throw e;
        }
        break;
      case 'get':
        if (args.length > 1) throw new UsageError('ctl get takes at most one KEY');
        request = args[0] ? { op, key: args[0] } : { op };
        break;
      case 'preflight': {
        if (args.length > 0) throw new UsageError('ctl preflight takes no arguments (but --seconds N)');
        const seconds = numberOption(values.seconds, '--seconds', 3, 60);
        request = { op, ...(seconds !== undefined ? { seconds } : {}) };
        break;
      }
      case 'modem-reset':
        if (args.length !== 1) throw new UsageError('ctl modem-reset needs the modem (its id, port or interface)');
        request = { op, modem: args[0]! };
        break;
      case 'uplink': {
        if (args.length !== 1) throw new UsageError('ctl uplink needs the uplink (its name, as status lists them)');
        if (values.enable && values.disable) throw new UsageError('ctl uplink takes --enable or --disable, not both');
        const priority = numberOption(values.priority, '--priority', 0, 9);
        if (!values.enable && !values.disable && priority === undefined)
          throw new UsageError('ctl uplink needs --enable, --disable or --priority N');
        request = {
          op,
          name: args[0]!,
          ...(values.enable ? { enabled: true } : values.disable ? { enabled: false } : {}),
          ...(priority !== undefined ? { priority } : {}),
        };
        break;
      }
      case 'events': {
        const limit = numberOption(values.limit, '--limit', 1, 100_000);
        request = { op, ...(limit !== undefined ? { limit } : {}), ...(values.since ? { since: values.since } : {}) };
        break;
      }
      default:
        throw new UsageError(op ? `unknown ctl command "${op}"` : 'ctl needs a command');
    }
    const who = `ctl (uid ${process.getuid?.() ?? '?'}, pid ${process.pid})`;
    let result: unknown;
    try {
      // A preflight takes its seconds, and the links' registration, before it answers.
      // A change of system.* waits for root to apply it (src/system/follow.ts) before it answers.
      const timeoutMs =
        request.op === 'preflight'
          ? ((request.seconds ?? 6) + 15) * 1000
          : request.op === 'set' && request.assignments.some((a) => a.key.startsWith('system'))
            ? SYSTEM_APPLY_WAIT_MS + 15_000
            : undefined;
      result = await controlCall(socketPath, request, { who, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
    } catch (e) {
      if (e instanceof ControlRequestError && e.code === 'CONFIG_INVALID') {
        const problems = (e.details.problems ?? []) as ConfigProblem[];
        if (values.json) out(JSON.stringify({ ok: false, error: { code: e.code, message: e.message, problems } }));
        else {
          err('refused, nothing changed:');
          for (const p of problems) err(`  ${p.key}: ${p.code ? `[${p.code}] ` : ''}${p.expected} (got ${JSON.stringify(p.value)})`);
        }
        return 1;
      }
      throw e;
    }
    if (values.json) {
      out(JSON.stringify(result, null, 2));
      return 0;
    }
    out(render(request, result));
    return 0;
  },
};

function render(req: ControlRequestT, result: unknown): string {
  switch (req.op) {
    case 'status': {
      const s = result as StatusSnapshot;
      const lines = [`${s.device.name}: ${formatStatusLine(s)}`];
      for (const a of s.alerts) lines.push(`  ${a.level.toUpperCase()} ${a.code}: ${a.message}${a.action ? ` → ${a.action}` : ''}`);
      if (s.stream.recording) lines.push(`  ${describeRecording(s.stream.recording)}`);
      return lines.join('\n');
    }
    case 'start':
    case 'stop': {
      const r = result as { state: string; reason: string };
      return `${r.state}: ${r.reason}`;
    }
    case 'set': {
      const r = result as { changed: string[]; applied: string[]; saved: string; notYetApplied?: string };
      const how = r.applied.length > 0 ? `applied live (${r.applied.join(', ')})` : 'saved (nothing running needed a change)';
      return `set ${r.changed.join(', ')}: ${how}; saved to ${r.saved}${r.notYetApplied ? `\nnot applied yet: ${r.notYetApplied}` : ''}`;
    }
    case 'get': {
      const r = result as { key: string; value: unknown };
      return typeof r.value === 'object' && r.value !== null ? JSON.stringify(r.value, null, 2) : String(r.value);
    }
    case 'modem-reset':
      return `modem ${req.modem}: restarted`;
    case 'restart':
      return 'the pipeline is restarting';
    case 'uplink': {
      const r = result as { name: string; enabled: boolean; priority: number };
      return `uplink ${r.name}: ${r.enabled ? 'used' : 'not used'}, priority ${r.priority}`;
    }
    case 'preflight': {
      const r = result as PreflightResult & { note?: string };
      const lines = r.links.map((l) =>
        l.registered
          ? `  ${l.name.padEnd(10)} rtt ${l.rttMs ?? '?'} ms (p95 ${l.rttP95Ms ?? '?'})  loss ${l.loss === undefined ? '?' : `${(l.loss * 100).toFixed(1)}%`}  rate ${l.rateBps === undefined ? '?' : `${(l.rateBps / 1e6).toFixed(2)} Mbit/s`}`
          : `  ${l.name.padEnd(10)} not accepted: ${l.why ?? ''}`,
      );
      return [...lines, r.summary, ...(r.note ? [r.note] : [])].join('\n');
    }
    case 'events':
      return (result as LoggedEvent[])
        .map(
          (e) =>
            `${e.at} ${e.kind.padEnd(8)} ${e.code ? `${e.code}: ` : ''}${e.message}${e.who && !e.message.includes(e.who) ? ` (${e.who})` : ''}`,
        )
        .join('\n');
  }
}
