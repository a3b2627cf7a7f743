/**
 * What the servers know about one servable file, and the response headers that follow from it.
 * Pure: the file stores fill it in from `stat`, the core turns it into responses.
 */
import path from 'node:path';
import mime from 'mime-types';

export interface FileMeta {
  /** The file's real path (symlinks resolved, checked to be under the root): what gets opened. */
  realPath: string;
  size: number;
  mtimeMs: number;
  /** Inode, to notice a file replaced by another of the same size and time. */
  ino: number;
  contentType: string;
  etag: string;
  lastModified: string;
  cacheControl: string;
}

/** A file with, for small files, its bytes held in memory. */
export interface FileEntry {
  meta: FileMeta;
  /** The whole file when small enough to hold; otherwise it is streamed from `meta.realPath`. */
  body: Uint8Array | undefined;
}

export function describeFile(
  relPath: string,
  realPath: string,
  stat: { size: number; mtimeMs: number; ino: number },
): FileMeta {
  return {
    realPath,
    size: stat.size,
    mtimeMs: stat.mtimeMs,
    ino: stat.ino,
    contentType: contentTypeFor(relPath),
    etag: makeEtag(stat.size, stat.mtimeMs),
    lastModified: new Date(stat.mtimeMs).toUTCString(),
    cacheControl: cacheControlFor(relPath),
  };
}

export function contentTypeFor(relPath: string): string {
  const type = mime.contentType(path.extname(relPath));
  return type === false ? 'application/octet-stream' : type;
}

/** Pages are revalidated on every view (so an edit shows at once); assets may be kept an hour. */
export function cacheControlFor(relPath: string): string {
  return relPath.endsWith('.html') ? 'no-cache' : 'public, max-age=3600';
}

/** Strong validator from size and modification time, in the spirit of nginx's `"mtime-size"`. */
export function makeEtag(size: number, mtimeMs: number): string {
  return `"${Math.floor(mtimeMs).toString(16)}-${size.toString(16)}"`;
}

/** True when `realPath` is `realRoot` itself or inside it (`/srv/public-evil` is not in `/srv/public`). */
export function isInsideRoot(realRoot: string, realPath: string): boolean {
  return realPath.startsWith(realRoot.endsWith(path.sep) ? realRoot : realRoot + path.sep);
}
