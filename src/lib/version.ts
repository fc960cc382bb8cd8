/** Fieldcast's version, from package.json (one place: the CLI, the status snapshot, the event log). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function version(): string {
  if (cached === undefined) {
    // From src/lib and dist/lib alike: two levels below the package root.
    const pkgPath = fileURLToPath(new URL('../../package.json', import.meta.url));
    cached = (JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string }).version;
  }
  return cached;
}
