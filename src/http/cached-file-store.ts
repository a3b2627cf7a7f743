/**
 * The backend's file store: async `fs`, with small files held in memory. A cached file is trusted
 * for `validMs` (1 s by default, like nginx's `open_file_cache_valid`), then checked with one `stat`
 * and reloaded only if its size, time or inode changed. Large files are never read whole: only
 * their metadata is cached and the response writer streams them. Every (re)load resolves the real
 * path and refuses files that symlinks place outside the root.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { describeFile, isInsideRoot, type FileEntry, type FileMeta } from './file-meta.js';
import { NOT_A_FILE, OUTSIDE_ROOT, lookupForError, type FileLookup, type FileStore } from './file-store.js';

export interface CachedFileStoreOptions {
  /** The served folder, already resolved with realpath. */
  realRoot: string;
  /** Files up to this size are held in memory. */
  maxCachedBytes: number;
  validMs: number;
  /** Most files remembered; the oldest is dropped first. */
  maxEntries?: number;
  /**
   * Milliseconds on a monotonic clock; performance.now by default, a cheaper call than Date.now
   * on every request, and a step of the wall clock cannot stretch or cut a file's validity.
   */
  now?: () => number;
}

interface Slot {
  found: FileLookup & { kind: 'found' };
  checkedAt: number;
  /** A check in progress, shared by the requests that arrive meanwhile. */
  pending: Promise<FileLookup> | undefined;
}

export class CachedFileStore implements FileStore {
  readonly #slots = new Map<string, Slot>();
  readonly #options: Required<CachedFileStoreOptions>;

  constructor(options: CachedFileStoreOptions) {
    this.#options = { maxEntries: 1000, now: () => performance.now(), ...options };
  }

  /** Cache hits answer synchronously: no promise on the hot path. */
  lookup(relPath: string): FileLookup | Promise<FileLookup> {
    const slot = this.#slots.get(relPath);
    if (slot === undefined) return this.#load(relPath, undefined);
    if (this.#options.now() - slot.checkedAt < this.#options.validMs) return slot.found;
    slot.pending ??= this.#load(relPath, slot).finally(() => (slot.pending = undefined));
    return slot.pending;
  }

  /** Number of files remembered (for tests). */
  get size(): number {
    return this.#slots.size;
  }

  async #load(relPath: string, slot: Slot | undefined): Promise<FileLookup> {
    const absPath = path.join(this.#options.realRoot, relPath);
    try {
      const stat = await fs.stat(absPath);
      if (!stat.isFile()) return this.#forget(relPath, NOT_A_FILE);
      if (slot !== undefined && unchanged(slot.found.entry.meta, stat)) {
        slot.checkedAt = this.#options.now();
        return slot.found;
      }
      const realPath = await fs.realpath(absPath);
      if (!isInsideRoot(this.#options.realRoot, realPath)) return this.#forget(relPath, OUTSIDE_ROOT);
      const entry = await this.#read(relPath, realPath);
      const found = { kind: 'found', entry } as const;
      this.#remember(relPath, found);
      return found;
    } catch (err) {
      const answer = lookupForError(err);
      if (answer === undefined) throw err;
      return this.#forget(relPath, answer);
    }
  }

  async #read(relPath: string, realPath: string): Promise<FileEntry> {
    const handle = await fs.open(realPath, 'r');
    try {
      // Size and time from the open file, so the bytes and the validators describe the same version.
      const stat = await handle.stat();
      if (!stat.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
      if (stat.size > this.#options.maxCachedBytes) {
        return { meta: describeFile(relPath, realPath, stat), body: undefined };
      }
      const body = await handle.readFile();
      const size = body.length;
      return { meta: describeFile(relPath, realPath, { size, mtimeMs: stat.mtimeMs, ino: stat.ino }), body };
    } finally {
      await handle.close();
    }
  }

  #remember(relPath: string, found: Slot['found']): void {
    const slot = this.#slots.get(relPath);
    if (slot !== undefined) {
      slot.found = found;
      slot.checkedAt = this.#options.now();
      return;
    }
    if (this.#slots.size >= this.#options.maxEntries) {
      const oldest = this.#slots.keys().next();
      if (oldest.done !== true) this.#slots.delete(oldest.value);
    }
    this.#slots.set(relPath, { found, checkedAt: this.#options.now(), pending: undefined });
  }

  #forget(relPath: string, answer: FileLookup): FileLookup {
    this.#slots.delete(relPath);
    return answer;
  }
}

function unchanged(meta: FileMeta, stat: { size: number; mtimeMs: number; ino: number }): boolean {
  return meta.size === stat.size && meta.mtimeMs === stat.mtimeMs && meta.ino === stat.ino;
}
