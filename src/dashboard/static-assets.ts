/**
 * The dashboard page's files (HTML, CSS, JS: no build step), read once at start-up from
 * src/dashboard/assets and served from memory. Only these names are served: no path from a request
 * ever reaches the file system.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { PROJECT_ROOT } from '../config/common.js';
import { InternalError } from '../errors.js';

export const ASSETS_DIR = path.join(PROJECT_ROOT, 'src', 'dashboard', 'assets');

/** URL path -> file in ASSETS_DIR and its type. */
const FILES: Record<string, [file: string, type: string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/dashboard.css': ['dashboard.css', 'text/css; charset=utf-8'],
  '/dashboard.js': ['dashboard.js', 'text/javascript; charset=utf-8'],
};

/**
 * Everything the page loads comes from this listener; the browser refuses anything else, which also
 * proves the page fetches nothing from the network.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

export class StaticAssets {
  private readonly assets = new Map<string, Asset>();

  constructor(dir = ASSETS_DIR) {
    for (const [urlPath, [file, type]] of Object.entries(FILES)) {
      let body: Buffer;
      try {
        body = readFileSync(path.join(dir, file));
      } catch (err) {
        throw new InternalError('ERR_DASHBOARD_ASSET', `dashboard file ${file} not found in ${dir}`, {
          cause: err,
        });
      }
      const etag = `"${createHash('sha1').update(body).digest('base64url').slice(0, 16)}"`;
      this.assets.set(urlPath, { body, type, etag });
    }
  }

  get paths(): string[] {
    return [...this.assets.keys()];
  }

  /** Answer GET/HEAD for one of the page's files; false when `urlPath` is not one of them. */
  serve(urlPath: string, req: IncomingMessage, res: ServerResponse): boolean {
    const asset = this.assets.get(urlPath);
    if (asset === undefined) return false;
    const headers = {
      'Content-Type': asset.type,
      'Cache-Control': 'no-cache',
      ETag: asset.etag,
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    };
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers).end();
      return true;
    }
    res.writeHead(200, { ...headers, 'Content-Length': asset.body.length });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
    return true;
  }
}
