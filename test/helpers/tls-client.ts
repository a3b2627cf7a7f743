/**
 * HTTPS for the TLS tests: a development certificate made by `npm run cert:dev` into a throwaway
 * folder, and small HTTP/1.1 and HTTP/2 clients that trust exactly that certificate (no
 * verification is switched off). Folders, sessions and sockets are removed by the test (t.after).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { ROOT } from './processes.js';
import { wholeResponse } from './raw-http.js';

export interface DevCert {
  folder: string;
  certPath: string;
  keyPath: string;
  cert: Buffer;
}

/** `npm run cert:dev <folder>` into a new temporary folder, removed after the test. */
export function makeDevCert(t: TestContext): DevCert {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'lb-cert-'));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'cert-dev.js'), folder], { stdio: 'pipe' });
  const certPath = path.join(folder, 'cert.pem');
  return { folder, certPath, keyPath: path.join(folder, 'key.pem'), cert: readFileSync(certPath) };
}

export interface TlsResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** What ALPN settled on: h2 or http/1.1. */
  protocol: string;
}

/** One request over HTTPS/1.1 on a fresh connection. */
export function https1(
  port: number,
  ca: Buffer,
  urlPath: string,
  options: { method?: string; body?: Buffer | string; headers?: Record<string, string> } = {},
): Promise<TlsResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: urlPath,
        method: options.method ?? 'GET',
        headers: options.headers,
        ca,
        agent: false,
      },
      (res) => {
        const protocol = (res.socket as { alpnProtocol?: string | false }).alpnProtocol || 'http/1.1';
        void wholeResponse(res).then((whole) => resolve({ ...whole, protocol }), reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** An HTTP/2 session to the balancer, closed after the test. */
export function h2Session(t: TestContext, port: number, ca: Buffer): http2.ClientHttp2Session {
  const session = http2.connect(`https://127.0.0.1:${port}`, { ca });
  session.on('error', () => undefined);
  t.after(() => session.destroy());
  return session;
}

/** One request on an HTTP/2 session; the body, if any, is streamed without a Content-Length. */
export function h2Request(
  session: http2.ClientHttp2Session,
  urlPath: string,
  options: { method?: string; body?: Buffer; headers?: http2.OutgoingHttpHeaders } = {},
): Promise<TlsResponse> {
  return new Promise((resolve, reject) => {
    const stream = session.request(
      { ':path': urlPath, ':method': options.method ?? 'GET', ...options.headers },
      { endStream: options.body === undefined },
    );
    let status = 0;
    let headers: Record<string, string | string[] | undefined> = {};
    stream.on('response', (h) => {
      status = Number(h[':status']);
      headers = h;
    });
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve({ status, headers, body: Buffer.concat(chunks), protocol: 'h2' }));
    stream.on('error', reject);
    if (options.body !== undefined) {
      // Several DATA frames, so the balancer has to stream the body on rather than see it whole.
      const body = options.body;
      const step = Math.ceil(body.length / 4);
      for (let i = 0; i < body.length; i += step) stream.write(body.subarray(i, i + step));
      stream.end();
    }
  });
}
