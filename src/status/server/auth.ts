/**
 * Who may use the status page and its API.
 *
 * There is no default password. Until the operator sets one, the box holds
 * a one-time setup code (shown on the console and in the event log, later on
 * the LCD); `setup(code, password)` sets the password once. Passwords and API
 * tokens are kept only as scrypt hashes, in `auth.json` in the state
 * directory (written atomically, owner-only). A login starts a session: a
 * random id for an HttpOnly, SameSite=Strict cookie, with its own CSRF token
 * that every state-changing request must carry. Scripts use bearer tokens,
 * made and revoked by a logged-in operator; a token is shown once, when made.
 */
import { randomBytes, randomUUID, scrypt, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { writeFileAtomic } from '../../lib/atomic-file.js';
import { FieldcastError } from '../../lib/errors.js';

export const AUTH_FILE = 'auth.json';
const SESSION_MS = 12 * 3600_000;
const MIN_PASSWORD = 10;
const MAX_PASSWORD = 200;
/** scrypt cost: N = 2^14, r = 8, p = 1 (about 16 MB and tens of ms per hash). */
const SCRYPT = { N: 1 << 14, r: 8, p: 1, keylen: 32 } as const;

export class AuthError extends FieldcastError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

interface Hashed {
  salt: string;
  hash: string;
}

interface AuthFile {
  version: 1;
  password?: Hashed;
  tokens: { id: string; name: string; createdAt: string; secret: Hashed }[];
}

export interface Session {
  id: string;
  csrf: string;
  expiresAt: number;
}

export interface TokenInfo {
  id: string;
  name: string;
  createdAt: string;
}

function hashSecret(secret: string, salt = randomBytes(16)): Promise<Hashed> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p }, (err, key) => {
      if (err) reject(err);
      else resolve({ salt: salt.toString('base64'), hash: key.toString('base64') });
    });
  });
}

async function matches(secret: string, h: Hashed): Promise<boolean> {
  const again = await hashSecret(secret, Buffer.from(h.salt, 'base64'));
  const a = Buffer.from(again.hash, 'base64');
  const b = Buffer.from(h.hash, 'base64');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Eight characters from an alphabet without look-alikes (no 0/O, 1/I/L). */
function setupCode(): string {
  const alphabet = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(8);
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
}

export class AuthStore {
  readonly #file: string;
  #data: AuthFile = { version: 1, tokens: [] };
  #setupCode: string | undefined;
  readonly #sessions = new Map<string, Session>();
  readonly #now: () => number;

  private constructor(file: string, now: () => number) {
    this.#file = file;
    this.#now = now;
  }

  /** Reads auth.json; with no password set yet, makes the setup code. */
  static async open(file: string, now: () => number = Date.now): Promise<AuthStore> {
    const s = new AuthStore(file, now);
    try {
      const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<AuthFile>;
      if (parsed.version === 1)
        s.#data = { version: 1, tokens: parsed.tokens ?? [], ...(parsed.password ? { password: parsed.password } : {}) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new AuthError('AUTH_FILE_UNREADABLE', `cannot read ${file}: ${(err as Error).message}`);
    }
    if (!s.#data.password) s.#setupCode = setupCode();
    return s;
  }

  /** The one-time code that sets the password, while none is set (for the console, the event log, the LCD). */
  get setupCode(): string | undefined {
    return this.#setupCode;
  }

  get passwordSet(): boolean {
    return this.#data.password !== undefined;
  }

  /** Sets the password with the setup code; the code is then spent. */
  async setup(code: string, password: string): Promise<Session> {
    if (!this.#setupCode) throw new AuthError('AUTH_ALREADY_SET_UP', 'a password is already set: log in with it');
    const a = Buffer.from(code.trim().toUpperCase());
    const b = Buffer.from(this.#setupCode);
    if (a.length !== b.length || !timingSafeEqual(a, b))
      throw new AuthError('AUTH_BAD_SETUP_CODE', 'that is not the setup code the box shows');
    checkPassword(password);
    this.#data.password = await hashSecret(password);
    await this.#save();
    this.#setupCode = undefined;
    return this.#newSession();
  }

  async login(password: string): Promise<Session> {
    const h = this.#data.password;
    if (!h) throw new AuthError('AUTH_NOT_SET_UP', 'no password is set yet: use the setup code the box shows');
    if (typeof password !== 'string' || !(await matches(password, h))) throw new AuthError('AUTH_BAD_PASSWORD', 'wrong password');
    return this.#newSession();
  }

  logout(id: string): void {
    this.#sessions.delete(id);
  }

  /** The live session of that id, if any. */
  session(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.#sessions.get(id);
    if (!s) return undefined;
    if (s.expiresAt <= this.#now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    return s;
  }

  /** Whether `token` is a live API token (`<id>.<secret>`). */
  async tokenValid(token: string): Promise<boolean> {
    const [id, secret] = token.split('.', 2);
    const t = this.#data.tokens.find((x) => x.id === id);
    return t !== undefined && secret !== undefined && (await matches(secret, t.secret));
  }

  tokens(): TokenInfo[] {
    return this.#data.tokens.map(({ id, name, createdAt }) => ({ id, name, createdAt }));
  }

  /** Makes a token; its secret is in the answer only, never stored or shown again. */
  async makeToken(name: string): Promise<TokenInfo & { token: string }> {
    const id = randomUUID();
    const secret = randomBytes(24).toString('base64url');
    const info = { id, name, createdAt: new Date(this.#now()).toISOString() };
    this.#data.tokens.push({ ...info, secret: await hashSecret(secret) });
    await this.#save();
    return { ...info, token: `${id}.${secret}` };
  }

  async revokeToken(id: string): Promise<boolean> {
    const before = this.#data.tokens.length;
    this.#data.tokens = this.#data.tokens.filter((t) => t.id !== id);
    if (this.#data.tokens.length === before) return false;
    await this.#save();
    return true;
  }

  #newSession(): Session {
    const s: Session = {
      id: randomBytes(32).toString('base64url'),
      csrf: randomBytes(32).toString('base64url'),
      expiresAt: this.#now() + SESSION_MS,
    };
    this.#sessions.set(s.id, s);
    return s;
  }

  async #save(): Promise<void> {
    await writeFileAtomic(this.#file, `${JSON.stringify(this.#data)}\n`, 0o600);
  }
}

function checkPassword(p: unknown): asserts p is string {
  if (typeof p !== 'string' || p.length < MIN_PASSWORD || p.length > MAX_PASSWORD) {
    throw new AuthError('AUTH_WEAK_PASSWORD', `a password of ${MIN_PASSWORD} to ${MAX_PASSWORD} characters`);
  }
}
