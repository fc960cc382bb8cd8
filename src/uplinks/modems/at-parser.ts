/**
 * The AT reply parser, apart from any port: bytes in, replies and URCs out.
 *
 * A reply is the lines after a command up to its final result code (V.250
 * §5.7; TS 27.007 §9.2 for +CME/+CMS ERROR). The echo (ATE1) is dropped,
 * URCs that arrive inside a reply are taken out of it, and a line split over
 * two chunks is joined. After a command timed out, the rest of its late
 * reply is dropped rather than read as the next command's: when the modem
 * echoes, everything before the next command's echo is the old reply's.
 */
import { replyPrefix } from './at-command.js';
import { cmeErrorFromText } from './errors.js';
import { decodeUrc, type ModemUrc, urcPrefix } from './urc.js';

export interface AtReply {
  command: string;
  /** Information lines, without echo and URCs. */
  lines: string[];
  /** The final result code line (`OK`, `ERROR`, `+CME ERROR: 16`). */
  final: string;
  ok: boolean;
  /** The +CME/+CMS ERROR number, numeric or verbose (AT+CMEE=1 or 2). */
  cmeError?: number;
}

export type AtParserEvent = { kind: 'reply'; reply: AtReply } | { kind: 'urc'; urc: ModemUrc } | { kind: 'stray'; line: string };

/** A line this long without an end is noise on the line, not a reply. */
const MAX_LINE = 4096;

/** Splits a byte stream into lines at CR, LF or CRLF; empty lines are dropped. */
export class AtLineSplitter {
  private partial = '';

  push(chunk: string): string[] {
    const parts = (this.partial + chunk).split(/\r\n|\r|\n/);
    this.partial = parts.pop() ?? '';
    if (this.partial.length > MAX_LINE) {
      parts.push(this.partial);
      this.partial = '';
    }
    return parts.map((l) => l.trim()).filter((l) => l !== '');
  }

  reset(): void {
    this.partial = '';
  }
}

const SUCCESS = /^(OK|CONNECT(\s.*)?)$/i;
const FAILURE = /^(ERROR|NO CARRIER|BUSY|NO ANSWER|NO DIALTONE|\+CM[ES] ERROR:.*)$/i;

export function isFinalResult(line: string): boolean {
  return SUCCESS.test(line) || FAILURE.test(line);
}

function cmeError(final: string): number | undefined {
  const m = /^\+CM[ES] ERROR:\s*(.*)$/i.exec(final);
  if (!m) return undefined;
  const value = m[1]!.trim();
  return /^\d+$/.test(value) ? Number(value) : cmeErrorFromText(value);
}

interface Pending {
  command: string;
  prefix: string | undefined;
  lines: string[];
  sawReply: boolean;
  /** After a timeout: lines before this command's echo belong to the late reply. */
  awaitingEcho: boolean;
  echoSeen: boolean;
}

export class AtReplyParser {
  private readonly splitter = new AtLineSplitter();
  private current: Pending | undefined;
  /** A timed-out command's reply may still come: its lines are dropped up to a final result. */
  private draining = false;
  /** Whether this modem echoes commands (ATE1), as last seen. */
  private echoes = false;

  get busy(): boolean {
    return this.current !== undefined;
  }

  /** A command was written: the lines that follow are its reply. */
  begin(command: string): void {
    this.current = {
      command,
      prefix: replyPrefix(command),
      lines: [],
      sawReply: false,
      awaitingEcho: this.draining && this.echoes,
      echoSeen: false,
    };
    this.draining = false;
  }

  /** The command in progress got no answer in time. */
  abandon(): void {
    // A modem that stopped echoing must not have every later reply dropped while its echo is awaited.
    if (this.current?.awaitingEcho) this.echoes = false;
    if (this.current) this.draining = true;
    this.current = undefined;
  }

  /** The port closed or reopened: nothing in flight survives. */
  reset(): void {
    this.current = undefined;
    this.draining = false;
    this.splitter.reset();
  }

  push(chunk: string): AtParserEvent[] {
    const events: AtParserEvent[] = [];
    for (const line of this.splitter.push(chunk)) {
      const e = this.line(line);
      if (e) events.push(e);
    }
    return events;
  }

  private line(line: string): AtParserEvent | undefined {
    const cur = this.current;
    if (!cur) {
      if (this.draining) {
        if (isFinalResult(line)) this.draining = false;
        return urcPrefix(line) ? { kind: 'urc', urc: decodeUrc(line) } : { kind: 'stray', line };
      }
      // A final result with nothing asked is a leftover, not news.
      return isFinalResult(line) ? { kind: 'stray', line } : { kind: 'urc', urc: decodeUrc(line) };
    }
    const isEcho = !cur.echoSeen && line.toUpperCase() === cur.command.toUpperCase();
    if (cur.awaitingEcho) {
      if (isEcho) {
        cur.awaitingEcho = false;
        cur.echoSeen = true;
        return undefined;
      }
      return urcPrefix(line) ? { kind: 'urc', urc: decodeUrc(line) } : { kind: 'stray', line };
    }
    if (isEcho) {
      // The echo (ATE1); a URC may have come before it.
      cur.echoSeen = true;
      this.echoes = true;
      return undefined;
    }
    if (!cur.sawReply && !cur.echoSeen && /^AT/i.test(line)) return undefined; // an echo the modem mangled
    if (isFinalResult(line)) {
      this.current = undefined;
      const reply: AtReply = { command: cur.command, lines: cur.lines, final: line, ok: SUCCESS.test(line) };
      // Follow the echo as it is now (ATE0 turns it off from the next command on).
      this.echoes = cur.echoSeen && !(reply.ok && /^ATE0?$/i.test(cur.command));
      const n = cmeError(line);
      if (n !== undefined) reply.cmeError = n;
      return { kind: 'reply', reply };
    }
    // With the command's own prefix it is the reply — unless it came before the echo of a modem that echoes.
    const prefix = urcPrefix(line);
    if (prefix !== undefined && (prefix !== cur.prefix || (this.echoes && !cur.echoSeen))) return { kind: 'urc', urc: decodeUrc(line) };
    cur.sawReply = true;
    cur.lines.push(line);
    return undefined;
  }
}
