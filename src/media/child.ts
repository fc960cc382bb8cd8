/**
 * Entry point of the media pipeline process, forked by the supervisor (or
 * `fieldcast send`) through src/supervisor/pipeline-child.ts. It speaks only
 * the typed channel: every message from the parent is validated; log lines go
 * back to the parent rather than to stdout; if the parent goes away, the
 * pipeline stops and the process exits — it never runs orphaned.
 */
import { describeError, FieldcastError } from '../lib/errors.js';
import { createLogger, setLogSink } from '../lib/logger.js';
import { type ChildMessage, ParentMessage } from './channel.js';
import { Pipeline } from './pipeline.js';

const log = createLogger('media.child');

function send(msg: ChildMessage): void {
  if (process.connected) process.send?.(msg);
}

setLogSink((r) => {
  // Errors in fields are not structured-cloneable in a useful way: send their messages.
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r.fields)) fields[k] = v instanceof Error ? describeError(v) : v;
  send({ type: 'log', level: r.level, module: r.module, message: r.message, fields });
});

let pipeline: Pipeline | undefined;
let exiting = false;

async function shutdown(code: string | null, message?: string): Promise<void> {
  if (exiting) return;
  exiting = true;
  try {
    await pipeline?.stop();
  } catch (e) {
    log.error('error while stopping the pipeline', { err: e });
  }
  send({ type: 'stopped', code, ...(message ? { message } : {}) });
  // Let the IPC message flush before leaving.
  setTimeout(() => process.exit(code === null ? 0 : 1), 50);
}

process.on('message', (raw) => {
  const parsed = ParentMessage.safeParse(raw);
  if (!parsed.success) {
    log.warn('ignored a malformed message from the supervisor', { issue: parsed.error.issues[0]?.message });
    return;
  }
  const msg = parsed.data;
  switch (msg.type) {
    case 'start': {
      if (pipeline) return;
      const p = new Pipeline(msg.spec);
      pipeline = p;
      p.on('state', (state, reason) => send({ type: 'state', state, ...(reason ? { reason } : {}) }));
      p.on('stats', (stats) => send({ type: 'stats', stats }));
      p.on('event', (event) => send({ type: 'event', event }));
      p.on('finished', (code, message) => void shutdown(code, message));
      p.start().catch((e: unknown) => {
        const err = e instanceof FieldcastError ? e : new FieldcastError('PIPELINE_FAILED', describeError(e));
        send({ type: 'event', event: { code: err.code, message: err.message, level: 'error' } });
        void shutdown(err.code, err.message);
      });
      return;
    }
    case 'setBitrate':
      pipeline?.setBitrate(msg.bps);
      return;
    case 'setAdaptive':
      pipeline?.setAdaptive(msg.on);
      return;
    case 'forceKeyframe':
      pipeline?.forceKeyframe();
      return;
    case 'capacity':
      pipeline?.setCapacity(msg.bps);
      return;
    case 'stop':
      void shutdown(null);
      return;
  }
});

// The supervisor is gone: never run orphaned.
process.on('disconnect', () => void shutdown(null));
process.on('SIGTERM', () => void shutdown(null));
send({ type: 'ready' });
