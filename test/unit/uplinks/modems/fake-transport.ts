/** An in-memory AT port: each command written gets the raw bytes `respond` returns (or nothing, a lost reply). */
import { TypedEmitter } from '../../../../src/lib/events.js';
import type { AtTransport, AtTransportEvents } from '../../../../src/uplinks/modems/serial-transport.js';

export type Responder = (command: string) => string | undefined;

export class FakeTransport extends TypedEmitter<AtTransportEvents> implements AtTransport {
  readonly written: string[] = [];
  closed = false;

  constructor(
    readonly path: string,
    public respond: Responder,
  ) {
    super();
  }

  async write(text: string): Promise<void> {
    const command = text.replace(/\r$/, '');
    this.written.push(command);
    const reply = this.respond(command);
    if (reply !== undefined) setImmediate(() => this.emit('data', reply));
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** The far end goes away (unplugged, a modem restart). */
  vanish(): void {
    this.emit('lost', new Error('disconnected'));
  }
}

/** A modem with echo on that answers from a table; `OK` for AT and anything not listed. */
export function tableModem(table: Record<string, string[] | string>): Responder {
  return (command) => {
    const r = table[command];
    const body = r === undefined ? ['OK'] : typeof r === 'string' ? [r] : r;
    return `${command}\r${body.map((l) => `\r\n${l}\r\n`).join('')}`;
  };
}
