/** Answer a scrape: the registry's text, or a 500 with one reported line if collecting failed. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorMessage } from '../errors.js';

export interface MetricsSource {
  readonly contentType: string;
  render(): Promise<string>;
}

export function serveMetrics(
  metrics: MetricsSource,
  req: IncomingMessage,
  res: ServerResponse,
  onError: (message: string) => void = () => undefined,
  extraHeaders: Record<string, string> = {},
): void {
  metrics.render().then(
    (text) => {
      res.writeHead(200, {
        ...extraHeaders,
        'Content-Type': metrics.contentType,
        'Content-Length': Buffer.byteLength(text),
        'Cache-Control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : text);
    },
    (err: unknown) => {
      onError(
        `${req.method ?? 'GET'} ${req.url ?? '/metrics'}: collecting metrics failed: ${errorMessage(err)}`,
      );
      const body = '500 Internal Server Error: metrics could not be collected\n';
      res.writeHead(500, {
        ...extraHeaders,
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
      });
      res.end(body);
    },
  );
}
