/**
 * Where the core gets files from. The backend plugs in an in-memory cache over async `fs`; the
 * thread-pool server's workers plug in blocking `fs` calls. The core does not care which.
 */
import type { FileEntry } from './file-meta.js';

export type FileLookup =
  | { kind: 'found'; entry: FileEntry }
  | { kind: 'missing'; reason: string }
  | { kind: 'forbidden'; reason: string };

export interface FileStore {
  /** `relPath` comes from resolveRequestPath: no `..`, no dotfiles, no backslashes. */
  lookup(relPath: string): FileLookup | Promise<FileLookup>;
}

export const NOT_FOUND: FileLookup = { kind: 'missing', reason: 'no such file' };
export const NOT_A_FILE: FileLookup = { kind: 'missing', reason: 'not a file (folders are not listed)' };
export const OUTSIDE_ROOT: FileLookup = {
  kind: 'forbidden',
  reason: 'the path leads outside the served folder (symlink)',
};
export const NOT_READABLE: FileLookup = { kind: 'forbidden', reason: 'the file is not readable' };

/** Map an `fs` error to an answer for the client, or undefined when it is our problem (500). */
export function lookupForError(err: unknown): FileLookup | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG' || code === 'ELOOP')
    return NOT_FOUND;
  if (code === 'EISDIR') return NOT_A_FILE;
  if (code === 'EACCES' || code === 'EPERM') return NOT_READABLE;
  return undefined;
}
