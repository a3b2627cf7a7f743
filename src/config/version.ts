/**
 * The project's version as package.json states it, for `--version` on every entry point. Read once
 * at load; 'unknown' when package.json cannot be read (a tree copied without it), since a missing
 * version must not stop a server from starting.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './common.js';

function readVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as unknown;
    const version =
      typeof manifest === 'object' && manifest !== null && 'version' in manifest ? manifest.version : null;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export const PROJECT_VERSION: string = readVersion();
