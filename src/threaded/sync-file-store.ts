/**
 * The thread-pool server's file store: blocking `fs` calls on a worker thread, the faithful
 * counterpart of a thread-per-connection server reading files with blocking I/O. Every request
 * resolves the real path (refusing symlinks that lead outside the root), opens the file and reads
 * it whole when small; a large file is described only, and the main thread streams it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describeFile, isInsideRoot } from '../http/file-meta.js';
import {
  NOT_A_FILE,
  OUTSIDE_ROOT,
  lookupForError,
  type FileLookup,
  type FileStore,
} from '../http/file-store.js';

export interface SyncFileStoreOptions {
  /** The served folder, already resolved with realpath. */
  realRoot: string;
  /** Files up to this size are read and sent back whole; larger ones are streamed by the main thread. */
  maxReadBytes: number;
}

export class SyncFileStore implements FileStore {
  readonly #options: SyncFileStoreOptions;

  constructor(options: SyncFileStoreOptions) {
    this.#options = options;
  }

  lookup(relPath: string): FileLookup {
    try {
      const realPath = fs.realpathSync.native(path.join(this.#options.realRoot, relPath));
      if (!isInsideRoot(this.#options.realRoot, realPath)) return OUTSIDE_ROOT;
      const fd = fs.openSync(realPath, 'r');
      try {
        const stat = fs.fstatSync(fd);
        if (!stat.isFile()) return NOT_A_FILE;
        if (stat.size > this.#options.maxReadBytes) {
          return { kind: 'found', entry: { meta: describeFile(relPath, realPath, stat), body: undefined } };
        }
        const body = readWhole(fd, stat.size);
        const meta = describeFile(relPath, realPath, {
          size: body.length,
          mtimeMs: stat.mtimeMs,
          ino: stat.ino,
        });
        return { kind: 'found', entry: { meta, body } };
      } finally {
        fs.closeSync(fd);
      }
    } catch (err) {
      const answer = lookupForError(err);
      if (answer === undefined) throw err;
      return answer;
    }
  }
}

/** Read into a buffer that owns its memory, so it can be transferred to the main thread, not copied. */
function readWhole(fd: number, size: number): Buffer {
  const body = Buffer.allocUnsafeSlow(size);
  let filled = 0;
  while (filled < size) {
    const n = fs.readSync(fd, body, filled, size - filled, filled);
    if (n === 0) break; // the file shrank since fstat: send what is there, with its real length
    filled += n;
  }
  return filled === size ? body : body.subarray(0, filled);
}
