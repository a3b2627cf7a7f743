/**
 * Turn the path of a request target into a file path relative to the served folder, or refuse it.
 * Pure. Each segment is percent-decoded exactly once and then judged, so every spelling of `..`
 * (`/../`, `%2e%2e`, `..%2f`, `.%2e`) is seen for what it is; a double-encoded `%252e` decodes to
 * the literal text `%2e` and stays a plain file name, never decoded a second time. Backslashes, NUL
 * bytes, encoded slashes and empty segments are refused, so no segment can climb out of the folder
 * or name an absolute path. Symlinks are the file store's job (it checks the real path).
 */

export type PathResult =
  { ok: true; relPath: string } | { ok: false; status: 400 | 403 | 404; reason: string };

/** `/` serves this file. */
export const INDEX_FILE = 'page.html';

function refuse(status: 400 | 403 | 404, reason: string): PathResult {
  return { ok: false, status, reason };
}

/** `rawPath` is the request target's path, without the query string, as sent by the client. */
export function resolveRequestPath(rawPath: string): PathResult {
  if (rawPath.length === 0 || rawPath.charCodeAt(0) !== 47 /* / */) {
    return refuse(400, 'the request target must be a path starting with /');
  }
  if (rawPath === '/') return { ok: true, relPath: INDEX_FILE };
  if (isPlainPath(rawPath)) return { ok: true, relPath: rawPath.slice(1) };
  return resolveSegments(rawPath);
}

/**
 * True when the path needs no decoding and no segment can be refused: no `%`, `\\` or NUL, and
 * every `/` is followed by a character that is neither `/` nor `.` (so no empty, `.`, `..` or
 * dotfile segment, and no trailing slash). Such a path is its own answer minus the leading slash,
 * exactly what resolveSegments would build, without splitting and joining it on every request.
 */
function isPlainPath(rawPath: string): boolean {
  const end = rawPath.length;
  for (let i = 0; i < end; i++) {
    const c = rawPath.charCodeAt(i);
    if (c === 47 /* / */) {
      const next = i + 1 < end ? rawPath.charCodeAt(i + 1) : 47;
      if (next === 47 || next === 46 /* . */) return false;
    } else if (c === 37 /* % */ || c === 92 /* \\ */ || c === 0) {
      return false;
    }
  }
  return true;
}

/** The general case: each segment decoded once, then judged (exported so tests can hold the shortcut to it). */
export function resolveSegments(rawPath: string): PathResult {
  const raw = rawPath.split('/');
  const segments: string[] = [];
  // raw[0] is the empty text before the leading slash.
  for (let i = 1; i < raw.length; i++) {
    const encoded = raw[i] ?? '';
    if (encoded === '') {
      if (i === raw.length - 1) return refuse(404, 'folders are not listed');
      return refuse(400, 'empty path segment (//) in the path');
    }
    let segment = encoded;
    if (encoded.includes('%')) {
      try {
        segment = decodeURIComponent(encoded);
      } catch {
        return refuse(400, 'malformed percent-encoding in the path');
      }
    }
    if (segment === '..' || segment === '.') return refuse(400, 'path traversal (. or .. segment) refused');
    if (segment.includes('/')) return refuse(400, 'encoded slash in a path segment refused');
    if (segment.includes('\\')) return refuse(400, 'backslash in the path refused');
    if (segment.includes('\0')) return refuse(400, 'NUL byte in the path refused');
    if (segment.charCodeAt(0) === 46 /* . */) return refuse(403, 'hidden files (dotfiles) are not served');
    segments.push(segment);
  }
  return { ok: true, relPath: segments.join('/') };
}
