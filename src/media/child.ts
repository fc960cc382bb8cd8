/**
 * Entry point of the media pipeline process, forked by the stream unit
 * through src/supervisor/pipeline-child.ts. It speaks only the typed channel:
 * every message from the parent is checked; log lines go back to the parent
 * rather than to stdout; the TS goes out on its own pipe (fd 4); if the
 * parent goes away, the pipeline stops and the process exits — it never runs
 * orphaned.
 */
import { Socket } from 'node:net';
import { describeError, FieldcastError } from '../lib/errors.js';
import { createLogger, setLogSink } from '../lib/logger.js';
import { type ChildMessage, ParentMessage, type ParentMessageT, TS_FD } from './channel.js';
import { inputReadsInWindows } from './passthrough.js';
import { Pipeline } from './pipeline.js';
import { PASSTHROUGH_WINDOW_MS, TsPipeWriter } from './ts-pipe.js';

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

/** The TS pipe to the stream unit, written in batches (ts-pipe.ts); its window is set by the spec's source at start. */
const MAX_BUFFERED_BYTES = 4 << 20;
const tsOut = new Socket({ fd: TS_FD, readable: false, writable: true });
tsOut.on('error', (e) => log.warn('the TS pipe failed', { err: e }));
let tsPipe: TsPipeWriter | undefined;
function sink(chunk: Buffer): boolean {
  return tsPipe?.write(chunk) ?? false;
}

async function shutdown(code: string | null, message?: string): Promise<void> {
  if (exiting) return;
  exiting = true;
  try {
    await pipeline?.stop();
  } catch (e) {
    log.error('error while stopping the pipeline', { err: e });
  }
  // The last of the stream first, then the word that it ended.
  tsPipe?.flush();
  await new Promise<void>((r) => tsOut.end(() => r()));
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
  try {
    handle(parsed.data);
  } catch (e) {
    // A command that cannot be carried out is reported, never a crash of the stream.
    log.warn('a command from the supervisor failed', { type: parsed.data.type, err: e });
  }
});

function handle(msg: ParentMessageT): void {
  switch (msg.type) {
    case 'start': {
      if (pipeline) return;
      // A live input not already read in windows (standard input) is gathered by the pipe.
      const src = msg.spec.source;
      const gather = src.kind === 'passthrough' && !inputReadsInWindows(src.input);
      tsPipe = new TsPipeWriter(tsOut, { windowMs: gather ? PASSTHROUGH_WINDOW_MS : 0, maxBufferedBytes: MAX_BUFFERED_BYTES });
      const p = new Pipeline(msg.spec, sink);
      pipeline = p;
      p.on('state', (state, reason) => send({ type: 'state', state, ...(reason ? { reason } : {}) }));
      p.on('stats', (stats) => send({ type: 'stats', stats }));
      p.on('event', (event) => send({ type: 'event', event }));
      if (msg.spec.reportUnits) p.on('videoUnit', (captureUs) => send({ type: 'unit', captureUs }));
      if (msg.spec.thumbnails) p.on('thumbnail', (thumbnail) => send({ type: 'thumbnail', thumbnail }));
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
    case 'forceKeyframe':
      pipeline?.forceKeyframe();
      return;
    case 'outputReady':
      pipeline?.outputReady();
      return;
    case 'stop':
      void shutdown(null);
      return;
  }
}

// The supervisor is gone: never run orphaned.
process.on('disconnect', () => void shutdown(null));
process.on('SIGTERM', () => void shutdown(null));
send({ type: 'ready' });
