/**
 * A throwaway copy of public/ to serve in tests, with the traps a file server must not fall into:
 * a secret next to the served folder, a sibling folder whose name starts like it, a dotfile, and
 * symlinks leading out of it (and one harmless symlink inside it).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './processes.js';

export interface ServedFolder {
  /** The folder to pass as --root. */
  root: string;
  /** Text that lives only outside root: no response may ever contain it. */
  secret: string;
  remove(): Promise<void>;
}

export const SECRET = 'TOP-SECRET-do-not-serve';

/**
 * Spellings of a way out of the served folder (dot segments encoded every way, backslashes, a NUL,
 * an empty segment) that every layer refuses with 400, from the path resolver to a running server.
 */
export const TRAVERSALS_400: readonly string[] = [
  '/../secret.txt',
  '/images/../../secret.txt',
  '/%2e%2e/secret.txt',
  '/%2E%2E/secret.txt',
  '/.%2e/secret.txt',
  '/..%2fsecret.txt',
  '/%2e%2e%2fsecret.txt',
  '/..\\secret.txt',
  '/..%5csecret.txt',
  '/secret.txt%00.html',
  '/%2fetc%2fpasswd',
  '//etc/passwd',
];

export async function makeServedFolder(): Promise<ServedFolder> {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'sb-served-'));
  const root = path.join(base, 'public');
  await fs.cp(path.join(ROOT, 'public'), root, { recursive: true });
  await fs.writeFile(path.join(base, 'secret.txt'), `${SECRET} (outside root)\n`);
  // Same prefix as root: a naive startsWith(root) check would let it through.
  await fs.mkdir(path.join(base, 'public-evil'));
  await fs.writeFile(path.join(base, 'public-evil', 'secret.txt'), `${SECRET} (sibling folder)\n`);
  await fs.writeFile(path.join(root, '.secret'), `${SECRET} (dotfile)\n`);
  await fs.symlink(path.join(base, 'secret.txt'), path.join(root, 'escape.txt'));
  await fs.symlink(path.join(base, 'public-evil'), path.join(root, 'escape-dir'));
  await fs.symlink('page.html', path.join(root, 'alias.html'));
  return { root, secret: SECRET, remove: () => fs.rm(base, { recursive: true, force: true }) };
}
