/**
 * The status page's one door to the box: every call to /api/v1/ goes
 * through here. The session is an HttpOnly cookie the browser sends by
 * itself; the CSRF token the server gave at login is kept in memory only
 * (after a reload GET /api/v1/session gives it again) and sent in
 * `x-csrf-token` on every request that changes something.
 *
 * Errors come back as ApiError with the server's code and message (words an
 * operator understands) and, for a refused setting, its problems by key.
 */
import type { ConfigProblem, History, LoggedEvent, PageConfig, PreflightResult, StatusSnapshot, TokenInfo } from './types.ts';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problems: ConfigProblem[];
  constructor(status: number, code: string, message: string, problems: ConfigProblem[] = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.problems = problems;
  }

  /** What a problem list says about one key (the first matching problem's `expected`). */
  about(key: string): string | undefined {
    return this.problems.find((p) => p.key === key)?.expected;
  }
}

/** A session ended (expired, logged out elsewhere, the box restarted): the page goes back to its login. */
type SessionLost = () => void;

export type ControlRequest =
  | { op: 'start' }
  | { op: 'stop' }
  | { op: 'restart' }
  | { op: 'set'; assignments: { key: string; value: string }[] }
  | { op: 'get'; key?: string }
  | { op: 'events'; limit?: number }
  | { op: 'preflight'; seconds?: number }
  | { op: 'modem-reset'; modem: string }
  | { op: 'uplink'; name: string; enabled?: boolean; priority?: number };

const BASE = '/api/v1';

export class Api {
  #csrf: string | undefined;
  #onSessionLost: SessionLost = () => undefined;

  /** Called once when a request is refused for want of a session (401 AUTH_REQUIRED). */
  onSessionLost(fn: SessionLost): void {
    this.#onSessionLost = fn;
  }

  /** The session is gone: forget its token and tell the page (once). */
  endSession(): void {
    if (this.#csrf === undefined) return;
    this.#csrf = undefined;
    this.#onSessionLost();
  }

  async #call<T>(method: string, url: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && this.#csrf) headers['x-csrf-token'] = this.#csrf;
    let res: Response;
    try {
      res = await fetch(`${BASE}${url}`, {
        method,
        headers,
        credentials: 'same-origin',
        cache: 'no-store',
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch {
      throw new ApiError(0, 'UNREACHABLE', 'the box does not answer: check that this phone is on its network');
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string; problems?: ConfigProblem[] } } | undefined)?.error;
      const err = new ApiError(
        res.status,
        e?.code ?? `HTTP_${res.status}`,
        e?.message ?? `the box answered ${res.status} ${res.statusText}`.trim(),
        Array.isArray(e?.problems) ? e.problems : [],
      );
      if (res.status === 401 && err.code === 'AUTH_REQUIRED') this.endSession();
      throw err;
    }
    return json as T;
  }

  // ---- the session ----

  /** Whether a password has been set (else the setup code is needed). Needs no login. */
  auth(): Promise<{ passwordSet: boolean }> {
    return this.#call('GET', '/auth');
  }

  /** The CSRF token of the session the cookie names, when it is live (after a reload). */
  async resume(): Promise<boolean> {
    try {
      const r = await this.#call<{ csrf: string }>('GET', '/session');
      this.#csrf = r.csrf;
      return true;
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 404)) return false;
      throw err;
    }
  }

  async setup(code: string, password: string): Promise<void> {
    this.#csrf = (await this.#call<{ csrf: string }>('POST', '/setup', { code, password })).csrf;
  }

  async login(password: string): Promise<void> {
    this.#csrf = (await this.#call<{ csrf: string }>('POST', '/login', { password })).csrf;
  }

  async logout(): Promise<void> {
    try {
      await this.#call('POST', '/logout', {});
    } finally {
      this.#csrf = undefined;
    }
  }

  // ---- what the box is doing ----

  status(): Promise<StatusSnapshot> {
    return this.#call('GET', '/status');
  }

  history(): Promise<History> {
    return this.#call('GET', '/history');
  }

  events(limit = 300): Promise<LoggedEvent[]> {
    return this.#call('GET', `/events?limit=${limit}`);
  }

  /** The config with its secrets as "[redacted]". */
  async config(): Promise<PageConfig> {
    const r = await this.#call<PageConfig | { key: string; value: PageConfig }>('GET', '/config');
    // The control core's `get` answers { key, value }; the config itself is the value.
    return r && typeof r === 'object' && 'value' in r && 'key' in r ? r.value : (r as PageConfig);
  }

  // ---- what the operator changes ----

  control<T = unknown>(req: ControlRequest): Promise<T> {
    return this.#call('POST', '/control', req);
  }

  /** Sets config keys (values as typed: "2M", "1500"); refused whole, with problems by key, when one is bad. */
  set(assignments: { key: string; value: string }[]): Promise<unknown> {
    return this.control({ op: 'set', assignments });
  }

  preflight(seconds?: number): Promise<PreflightResult & { note?: string }> {
    return this.control({ op: 'preflight', ...(seconds !== undefined ? { seconds } : {}) });
  }

  tokens(): Promise<TokenInfo[]> {
    return this.#call('GET', '/tokens');
  }

  makeToken(name: string): Promise<TokenInfo & { token: string }> {
    return this.#call('POST', '/tokens', { name });
  }

  revokeToken(id: string): Promise<unknown> {
    return this.#call('DELETE', `/tokens/${encodeURIComponent(id)}`);
  }
}

export const api = new Api();

/** What to show for a failed call: the server's words, as a sentence. */
export function messageOf(err: unknown): string {
  return sentence(err instanceof Error ? err.message : String(err));
}

/** "wrong password" → "Wrong password." (the server speaks in phrases). */
export function sentence(text: string): string {
  const t = text.trim();
  if (t === '') return t;
  return `${t[0]!.toUpperCase()}${t.slice(1)}${/[.!?)]$/.test(t) ? '' : '.'}`;
}
