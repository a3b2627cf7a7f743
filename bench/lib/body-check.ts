/** Checking a response body against what the case expects, and learning that from a sample. Pure. */
import type { BodyCheck } from './types.js';

/** Bodies are only kept (copied) for a JSON shape check; this bounds the copy. */
const JSON_CAPTURE_LIMIT = 64 * 1024;

export function captureLimit(check: BodyCheck): number {
  return check.kind === 'json-shape' ? JSON_CAPTURE_LIMIT : 0;
}

function shapeOf(value: unknown): Record<string, string> | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const fields: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) fields[key] = v === null ? 'null' : typeof v;
  return fields;
}

export function bodyMatches(check: BodyCheck, bodyBytes: number, body: Buffer | undefined): boolean {
  switch (check.kind) {
    case 'none':
      return true;
    case 'length':
      return bodyBytes === check.bytes;
    case 'json-shape': {
      if (body === undefined || body.length !== bodyBytes) return false;
      let shape: Record<string, string> | null;
      try {
        shape = shapeOf(JSON.parse(body.toString('utf8')));
      } catch {
        return false;
      }
      if (shape === null) return false;
      const wanted = Object.entries(check.fields);
      return wanted.length === Object.keys(shape).length && wanted.every(([k, t]) => shape[k] === t);
    }
  }
}

/**
 * From one good sample response: a JSON object's keys and value types (its length may vary from
 * response to response, as /work's timings do), otherwise the exact length.
 */
export function learnBodyCheck(body: Buffer): BodyCheck {
  if (body.length <= JSON_CAPTURE_LIMIT) {
    try {
      const shape = shapeOf(JSON.parse(body.toString('utf8')));
      if (shape !== null) return { kind: 'json-shape', fields: shape };
    } catch {
      // not JSON: fall through to the length
    }
  }
  return { kind: 'length', bytes: body.length };
}

export function describeBodyCheck(check: BodyCheck): string {
  switch (check.kind) {
    case 'none':
      return 'any body';
    case 'length':
      return `exactly ${check.bytes} bytes`;
    case 'json-shape':
      return `a JSON object {${Object.entries(check.fields)
        .map(([k, t]) => `${k}: ${t}`)
        .join(', ')}}`;
  }
}
