/**
 * What the benchmark uses of loadtest 8's JavaScript API. The package's bundled index.d.ts still
 * describes the callback API of older versions (loadTest(options, callback) returning an Operation),
 * so this declaration, written from node_modules/loadtest/lib/{loadtest,options,result}.js, replaces it.
 */
declare module 'loadtest' {
  export interface LoadTestOptions {
    /** http:// or https:// URL (mandatory). */
    url: string;
    /** Concurrent clients; loadtest's default is 10. */
    concurrency?: number;
    /** Stop after this many completed requests. */
    maxRequests?: number;
    /** Stop after this many seconds (fractions work); with maxRequests, whichever comes first. */
    maxSeconds?: number;
    /** Keep connections alive through agentkeepalive (HTTP client only). */
    agentKeepAlive?: boolean;
    /**
     * Experimental raw-TCP client: keep-alive, its own minimal HTTP parser, no per-request hooks
     * (statusCallback, requestGenerator and indexParam throw), no request timeout.
     */
    tcp?: boolean;
    /** No console output (otherwise it prints progress every 5 s). */
    quiet?: boolean;
    method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
    headers?: Record<string, string>;
    /** Per-request timeout in ms (HTTP client only). */
    timeout?: number;
  }

  /** The fields of lib/result.js's Result that the benchmark reads. */
  export interface LoadTestResult {
    url: string;
    /** 'none' (a connection per request), 'keepalive' or 'tcp'. */
    agent: 'none' | 'keepalive' | 'tcp';
    concurrency: number;
    maxRequests: number;
    /** Requests it counted as finished, failed ones included. */
    totalRequests: number;
    /** Status >= 400 and connection errors (not wrong bodies). */
    totalErrors: number;
    /** Failures by status code, or '-1' for connection errors. */
    errorCodes: Record<string, number>;
    elapsedSeconds: number;
    meanLatencyMs: number;
    effectiveRps: number;
    /** Whole milliseconds, floored: a request of 0.9 ms counts as 0. */
    maxLatencyMs: number;
    minLatencyMs: number;
    /** Latency histogram in whole (floored) milliseconds: {"0": 812, "1": 180, ...}. */
    histogramMs: Record<string, number>;
    percentiles: Record<string, number | false>;
  }

  export function loadTest(options: LoadTestOptions): Promise<LoadTestResult>;
}
