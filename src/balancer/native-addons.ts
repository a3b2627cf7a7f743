/**
 * Where the two addons that `npm install` builds from native/ (binding.gyp) are, and loading them.
 * They are Linux-only C: on another system, or when the build failed or was skipped, they are
 * missing, and `addonsProblem` says so before a cluster is started (the balancer then runs as one
 * process, which needs neither). BALANCER_ADDON_DIR points at another build: CI's run on a second
 * Node line loads addons built against that line's headers, and a test points it at nothing.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PROJECT_ROOT } from '../config/common.js';
import { errorMessage, InternalError, type InternalErrorCode } from '../errors.js';

/** The environment variable that names the folder of the built addons (node-gyp's build/Release). */
export const ADDON_DIR_ENV = 'BALANCER_ADDON_DIR';

/** fd_passing: the handover's descriptors; shared_zone: the workers' shared memory. */
export type AddonName = 'fd_passing' | 'shared_zone';

const ADDONS: readonly AddonName[] = ['fd_passing', 'shared_zone'];

/** Read on every call: a test sets the variable for the process it starts, never for itself. */
export function addonDir(): string {
  const dir = process.env[ADDON_DIR_ENV];
  return dir === undefined || dir === '' ? path.join(PROJECT_ROOT, 'build', 'Release') : path.resolve(dir);
}

export const addonFile = (name: AddonName): string => path.join(addonDir(), `${name}.node`);

/** The addon's exports; `code` names the part that needs it in the error when it cannot load. */
export function loadAddon<T>(name: AddonName, code: InternalErrorCode): T {
  const file = addonFile(name);
  if (!fs.existsSync(file)) {
    throw new InternalError(
      code,
      `${file} is missing: \`npm install\` builds it on Linux (it needs make and a C compiler)`,
    );
  }
  try {
    // node caches a loaded addon by its path: a second load is free.
    return createRequire(import.meta.url)(file) as T;
  } catch (err) {
    throw new InternalError(code, `${file} does not load: ${errorMessage(err)}`, { cause: err });
  }
}

/** Why the addons cannot be used here (the first that fails), or null when both load. */
export function addonsProblem(): string | null {
  for (const name of ADDONS) {
    try {
      loadAddon<unknown>(name, 'ERR_NATIVE');
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }
  return null;
}
