/**
 * The byte pipe under the AT channel. `openSerialTransport` opens a real
 * serial port with the `serialport` package; tests give the channel a fake
 * with the same interface.
 */
import { SerialPort } from 'serialport';
import { TypedEmitter } from '../../lib/events.js';
import { ModemPortBusyError, ModemPortGoneError, ModemPortNotFoundError } from './errors.js';

export type AtTransportEvents = {
  data: [chunk: string];
  /** The port closed by itself (unplugged, modem reset) or with an error; never after close(). */
  lost: [cause: Error | undefined];
};

export interface AtTransport extends TypedEmitter<AtTransportEvents> {
  readonly path: string;
  write(text: string): Promise<void>;
  close(): Promise<void>;
}

export type OpenTransport = (path: string) => Promise<AtTransport>;

/** USB modems ignore the rate; a real UART behind a board's pins wants 115200. */
export const DEFAULT_BAUD_RATE = 115_200;

function openError(path: string, err: Error): Error {
  const m = err.message;
  if (/ENOENT|No such file/i.test(m)) return new ModemPortNotFoundError(path, err);
  if (/EACCES|Permission denied/i.test(m)) return new ModemPortBusyError(path, 'denied', err);
  if (/lock|EBUSY|Resource temporarily unavailable/i.test(m)) return new ModemPortBusyError(path, 'locked', err);
  return new ModemPortGoneError(path, err);
}

class SerialTransport extends TypedEmitter<AtTransportEvents> implements AtTransport {
  private closing = false;

  constructor(
    readonly path: string,
    private readonly port: SerialPort,
  ) {
    super();
    port.setEncoding('latin1');
    port.on('data', (chunk: string) => this.emit('data', chunk));
    port.on('close', (err?: Error | null) => {
      if (!this.closing) this.emit('lost', err ?? undefined);
    });
    port.on('error', (err: Error) => {
      if (this.closing) return;
      this.closing = true;
      this.emit('lost', err);
      if (port.isOpen) port.close(() => undefined);
    });
  }

  write(text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.port.write(text, 'latin1', (err) => (err ? reject(new ModemPortGoneError(this.path, err)) : resolve()));
    });
  }

  close(): Promise<void> {
    if (this.closing) return Promise.resolve();
    this.closing = true;
    return new Promise((resolve) => {
      if (!this.port.isOpen) return resolve();
      this.port.close(() => resolve());
    });
  }
}

export function openSerialTransport(path: string, baudRate = DEFAULT_BAUD_RATE): Promise<AtTransport> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    port.open((err) => {
      if (err) reject(openError(path, err));
      else resolve(new SerialTransport(path, port));
    });
  });
}
