/**
 * Whether this machine is the appliance image: image/build.sh writes
 * /etc/fieldcast-image. Elsewhere (a developer's laptop, a server running
 * `fieldcast run` from a checkout) the system settings are not Fieldcast's
 * to change, and nothing is.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const IMAGE_MARKER = '/etc/fieldcast-image';

export function isApplianceImage(root = '/'): boolean {
  return existsSync(join(root, IMAGE_MARKER));
}
