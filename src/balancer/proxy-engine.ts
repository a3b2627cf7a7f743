/**
 * The one module that knows the http-proxy library. Both implementations of its API plug in here
 * (`--proxy-library`): http-proxy 1.18.1 and http-proxy-3 1.x; README "The balancer" says which is
 * the default and why. The rest of the balancer sees three callbacks: the upstream request got a
 * socket, a response arrived, an attempt failed.
 *
 * One proxy server per upstream, with the target in its own options: `web(req, res)` then copies no
 * options per request (a per-request `{ target }` makes the library copy its whole option object).
 * Responses are handled by the balancer (`selfHandleResponse`), which strips hop-by-hop headers and
 * relays the body without the library's per-header passes. `toProxy` hands the request target on
 * as received instead of parsing it again (the balancer has already checked it is a path).
 */
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { ProxyLibraryName } from '../config/balancer-config.js';
import { UpstreamAgent, type UpstreamAgentOptions } from './upstream-agent.js';
import type { Upstream } from './upstream.js';

/** The options of the http-proxy API that the balancer sets. */
interface LibraryOptions {
  target?: { host: string; port: number; protocol: string };
  agent?: UpstreamAgent;
  selfHandleResponse?: boolean;
  toProxy?: boolean;
  xfwd?: boolean;
  buffer?: Readable;
}

/** The part of the http-proxy API the balancer uses; both libraries provide it. */
interface LibraryProxy {
  web(req: IncomingMessage, res: ServerResponse, options?: LibraryOptions): void;
  on(
    event: 'proxyReq',
    listener: (proxyReq: ClientRequest, req: IncomingMessage, res: ServerResponse) => void,
  ): void;
  on(
    event: 'proxyRes',
    listener: (proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse) => void,
  ): void;
  on(
    event: 'error' | 'econnreset',
    listener: (err: Error, req: IncomingMessage, res: ServerResponse | Socket) => void,
  ): void;
}

type CreateProxy = (options: LibraryOptions) => LibraryProxy;

/** Load only the library in use. */
async function loadLibrary(name: ProxyLibraryName): Promise<CreateProxy> {
  if (name === 'http-proxy-3') {
    const mod = await import('http-proxy-3');
    return (options) => mod.createProxyServer(options) as unknown as LibraryProxy;
  }
  const mod = await import('http-proxy');
  return (options) => mod.default.createProxyServer(options) as LibraryProxy;
}

export interface EngineHandlers {
  /** The upstream request has a socket (set timeouts on it, remember it). */
  onProxyReq(proxyReq: ClientRequest, res: ServerResponse, upstream: Upstream): void;
  /** Response headers arrived from `upstream`. */
  onProxyRes(proxyRes: IncomingMessage, res: ServerResponse, upstream: Upstream): void;
  /** The attempt on `upstream` failed (or the client went away during it). */
  onError(err: Error, res: ServerResponse, upstream: Upstream): void;
}

export interface EngineSettings extends UpstreamAgentOptions {
  library: ProxyLibraryName;
}

export class ProxyEngine {
  readonly library: ProxyLibraryName;
  private readonly agent: UpstreamAgent;
  private readonly proxies = new Map<Upstream, LibraryProxy>();

  private constructor(
    private readonly create: CreateProxy,
    settings: EngineSettings,
    private readonly handlers: EngineHandlers,
  ) {
    this.library = settings.library;
    this.agent = new UpstreamAgent(settings);
  }

  static async create(settings: EngineSettings, handlers: EngineHandlers): Promise<ProxyEngine> {
    return new ProxyEngine(await loadLibrary(settings.library), settings, handlers);
  }

  /** Send the request to `upstream`. With `body`, that stream is sent instead of reading `req`. */
  forward(upstream: Upstream, req: IncomingMessage, res: ServerResponse, body?: Readable): void {
    const proxy = this.proxies.get(upstream) ?? this.attach(upstream);
    if (body === undefined) proxy.web(req, res);
    else proxy.web(req, res, { buffer: body });
  }

  /** Forget an upstream that left the pool (its proxy server holds nothing else). */
  detach(upstream: Upstream): void {
    this.proxies.delete(upstream);
  }

  /** Close pooled connections (at shutdown). */
  close(): void {
    this.agent.destroy();
  }

  private attach(upstream: Upstream): LibraryProxy {
    const proxy = this.create({
      target: { host: upstream.host, port: upstream.port, protocol: 'http:' },
      agent: this.agent,
      selfHandleResponse: true,
      toProxy: true,
      xfwd: false,
    });
    const { handlers } = this;
    proxy.on('proxyReq', (proxyReq, _req, res) => handlers.onProxyReq(proxyReq, res, upstream));
    proxy.on('proxyRes', (proxyRes, _req, res) => handlers.onProxyRes(proxyRes, res, upstream));
    const onError = (err: Error, _req: IncomingMessage, res: ServerResponse | Socket): void => {
      // Only web requests go through here, so `res` is always a ServerResponse.
      handlers.onError(err, res as ServerResponse, upstream);
    };
    proxy.on('error', onError);
    proxy.on('econnreset', onError);
    this.proxies.set(upstream, proxy);
    return proxy;
  }
}
