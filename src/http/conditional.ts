/**
 * Conditional GET (RFC 9110 section 13): may we answer 304 Not Modified? Pure.
 * `If-None-Match` wins over `If-Modified-Since` when both are sent, as the RFC requires.
 */

/** True when the client's copy (named by its validators) is still current. */
export function isNotModified(
  ifNoneMatch: string | undefined,
  ifModifiedSince: string | undefined,
  etag: string,
  mtimeMs: number,
): boolean {
  if (ifNoneMatch !== undefined) return etagMatches(ifNoneMatch, etag);
  if (ifModifiedSince === undefined) return false;
  const since = Date.parse(ifModifiedSince);
  // An unparseable date is ignored (the full response is sent). HTTP dates have whole seconds.
  if (Number.isNaN(since)) return false;
  return Math.floor(mtimeMs / 1000) * 1000 <= since;
}

/** Weak comparison over a list of entity tags, as If-None-Match requires; `*` matches anything. */
export function etagMatches(header: string, etag: string): boolean {
  const bare = stripWeak(etag);
  if (header === etag) return true;
  for (const part of header.split(',')) {
    const tag = part.trim();
    if (tag === '*' || stripWeak(tag) === bare) return true;
  }
  return false;
}

function stripWeak(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}
