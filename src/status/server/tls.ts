/**
 * The status page's HTTPS certificate: self-signed, made once at first start
 * (openssl, from Debian) and kept in the state directory with a key only the
 * supervisor's user may read. Its SHA-256 fingerprint goes into the event log
 * and onto the console, so an operator can check what the browser warns about.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { FieldcastError } from '../../lib/errors.js';
import type { Tls } from './listeners.js';

const run = promisify(execFile);

export const CERT_FILE = 'status-cert.pem';
export const KEY_FILE = 'status-key.pem';

export interface Certificate extends Tls {
  fingerprint: string;
  /** Made now (first start), rather than read. */
  made: boolean;
}

export async function loadOrMakeCertificate(stateDir: string, deviceName: string): Promise<Certificate> {
  const certPath = path.join(stateDir, CERT_FILE);
  const keyPath = path.join(stateDir, KEY_FILE);
  let made = false;
  try {
    await fs.access(certPath);
    await fs.access(keyPath);
  } catch {
    await makeCertificate(certPath, keyPath, deviceName);
    made = true;
  }
  const [cert, key] = await Promise.all([fs.readFile(certPath, 'utf8'), fs.readFile(keyPath, 'utf8')]);
  let fingerprint: string;
  try {
    fingerprint = new X509Certificate(cert).fingerprint256;
  } catch (err) {
    throw new FieldcastError(
      'STATUS_TLS_INVALID',
      `the status page's certificate ${certPath} cannot be read (${(err as Error).message}): delete it and its key to make new ones`,
    );
  }
  return { cert, key, fingerprint, made };
}

async function makeCertificate(certPath: string, keyPath: string, deviceName: string): Promise<void> {
  const tmpKey = `${keyPath}.new`;
  const tmpCert = `${certPath}.new`;
  const cn = deviceName.replace(/[^A-Za-z0-9 ._-]/g, '').slice(0, 60) || 'fieldcast';
  try {
    // An empty file first, owner-only, so the key is never readable by others, not even for a moment.
    await fs.writeFile(tmpKey, '', { mode: 0o600 });
    await run(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '3650',
        '-subj',
        `/CN=${cn}`,
        '-addext',
        'subjectAltName=DNS:fieldcast.local,DNS:localhost,IP:127.0.0.1',
        '-keyout',
        tmpKey,
        '-out',
        tmpCert,
      ],
      { timeout: 30_000 },
    );
    await fs.chmod(tmpKey, 0o600);
    await fs.rename(tmpKey, keyPath);
    await fs.rename(tmpCert, certPath);
  } catch (err) {
    await fs.rm(tmpKey, { force: true });
    await fs.rm(tmpCert, { force: true });
    const e = err as NodeJS.ErrnoException;
    throw new FieldcastError(
      'STATUS_TLS_FAILED',
      e.code === 'ENOENT'
        ? 'cannot make the status page certificate: openssl is not installed'
        : `cannot make the status page certificate: ${e.message}`,
    );
  }
}
