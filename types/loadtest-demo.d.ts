/**
 * What the operations demo adds to types/loadtest.d.ts: a fixed request rate and the per-request
 * hooks of loadtest 8's HTTP client (lib/pool.js, lib/httpClient.js). Declared here and merged into
 * the same module, so the benchmark's declaration stays as its owner wrote it.
 */
declare module 'loadtest' {
  /** What statusCallback gets for a request that was answered (lib/httpClient.js createResult). */
  export interface LoadTestRequestResult {
    statusCode: number;
    headers: import('node:http').IncomingHttpHeaders;
    body: string;
    /** Whole milliseconds (floored) from just before the request was made to the end of the answer. */
    requestElapsed: number;
  }

  /** Makes each request: loadtest passes the request options it built and node's request function. */
  export type RequestGenerator = (
    options: LoadTestOptions,
    params: import('node:http').RequestOptions,
    request: typeof import('node:http').request,
    callback: (response: import('node:http').IncomingMessage) => void,
  ) => import('node:http').ClientRequest;

  interface LoadTestOptions {
    /** Send at this pace (a timer) instead of keeping `concurrency` clients busy. */
    requestsPerSecond?: number;
    /**
     * Called once per finished request. `error` is a message (`Status code 502`, `Connection error:
     * ...`, `Connection timed out`) or null; `result` is missing when there was no answer at all.
     */
    statusCallback?: (error: string | null, result: LoadTestRequestResult | undefined) => void;
    requestGenerator?: RequestGenerator;
  }
}
