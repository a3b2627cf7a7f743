/**
 * The engine on the http-proxy API (node:http's client underneath): the one module that knows
 * that API. Both implementations plug in here: http-proxy 1.18.1 and http-proxy-3 1.x.
 *
 * One proxy server per upstream, with the target in its own options: `web(req, res)` then copies no
 * options per request (a per-request `{ target }` makes the library copy its whole option object).
 * Responses are handled here (`selfHandleResponse`): the balancer strips hop-by-hop headers and
 * relays the body without the library's per-header passes. `toProxy` hands the request target on
 * as received instead of parsing it again (the balancer has already checked it is a path).
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { ProxyEngineName } from '../config.js';
import { InternalError, UpstreamError } from '../../errors.js';
import type { ClientMessage, Exchange } from '../exchange.js';
import { clientProto, prepareForwardHeaders } from '../headers.js';
import type { EngineHandlers, EngineSettings, ProxyEngine } from './proxy-engine.js';
import { UpstreamAgent } from './upstream-agent.js';
import type { Upstream } from '../upstream.js';

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
  web(req: ClientMessage, res: Exchange, options?: LibraryOptions): void;
  on(event: 'proxyReq', listener: (proxyReq: ClientRequest, req: ClientMessage, res: Exchange) => void): void;
  on(
    event: 'proxyRes',
    listener: (proxyRes: IncomingMessage, req: ClientMessage, res: Exchange) => void,
  ): void;
  on(
    event: 'error' | 'econnreset',
    listener: (err: Error, req: ClientMessage, res: Exchange | Socket) => void,
  ): void;
}

type CreateProxy = (options: LibraryOptions) => LibraryProxy;

/** Load only the library in use. */
async function loadLibrary(name: Exclude<ProxyEngineName, 'undici'>): Promise<CreateProxy> {
  if (name === 'http-proxy-3') {
    const mod = await import('http-proxy-3');
    return (options) => mod.createProxyServer(options) as unknown as LibraryProxy;
  }
  const mod = await import('http-proxy');
  // The library's types name node:http's classes; it is given the balancer's (HTTP/2 ones too).
  return (options) => mod.default.createProxyServer(options) as unknown as LibraryProxy;
}

/** An upstream response being relayed, tagged with where it goes (listeners below share no closure). */
interface RelayedResponse extends IncomingMessage {
  exchange?: Exchange;
  upstream?: Upstream;
  handlers?: EngineHandlers;
}

export class HttpProxyEngine implements ProxyEngine {
  readonly name: ProxyEngineName;
  private readonly agent: UpstreamAgent;
  private readonly proxies = new Map<Upstream, LibraryProxy>();

  private constructor(
    private readonly create: CreateProxy,
    settings: EngineSettings,
    private readonly handlers: EngineHandlers,
  ) {
    this.name = settings.name;
    this.agent = new UpstreamAgent(settings);
  }

  static async create(settings: EngineSettings, handlers: EngineHandlers): Promise<HttpProxyEngine> {
    if (settings.name === 'undici') {
      throw new InternalError('ERR_ENGINE', 'createProxyEngine builds the undici engine, not this one');
    }
    return new HttpProxyEngine(await loadLibrary(settings.name), settings, handlers);
  }

  forward(upstream: Upstream, req: ClientMessage, res: Exchange, body?: Readable): void {
    // The library copies req.headers for every attempt: prepare them in place, once.
    if (res.attempts === 1)
      prepareForwardHeaders(req.headers, req.socket.remoteAddress, clientProto(req.socket), res.requestId);
    const proxy = this.proxies.get(upstream) ?? this.attach(upstream);
    if (body === undefined) proxy.web(req, res);
    else proxy.web(req, res, { buffer: body });
  }

  detach(upstream: Upstream): void {
    this.proxies.delete(upstream);
  }

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
    // The library hands back the `res` given to web(), which is always an Exchange.
    proxy.on('proxyReq', (proxyReq, _req, res) => {
      handlers.onRequestSent(proxyReq, res, upstream);
      // The balancer never asks for an upgrade here, so a 101 is a bad response. node:http's client
      // hands the connection to an 'upgrade' listener and, without one, reports nothing at all.
      proxyReq.on('upgrade', (_res: IncomingMessage, socket: Socket) => {
        socket.destroy();
        handlers.onError(
          new UpstreamError(
            'ERR_UPSTREAM_BAD_RESPONSE',
            upstream.id,
            `${upstream.name} answered 101 Switching Protocols to a request that asked for no upgrade`,
          ),
          res,
          upstream,
        );
      });
    });
    proxy.on('proxyRes', (proxyRes: RelayedResponse, _req, res) => {
      const exchange = res;
      if (!handlers.onResponse(exchange, upstream, proxyRes.statusCode ?? 502, proxyRes.rawHeaders)) {
        proxyRes.resume();
        return;
      }
      proxyRes.exchange = exchange;
      proxyRes.upstream = upstream;
      proxyRes.handlers = handlers;
      proxyRes.on('data', relayChunk);
      proxyRes.on('end', relayEnd);
      proxyRes.on('close', relayClosed);
      // Without a listener, a broken response stream would only 'close'; with one it also says why.
      proxyRes.on('error', ignore);
    });
    const onError = (err: Error, _req: ClientMessage, res: Exchange | Socket): void => {
      // Only web requests go through here, so `res` is always an Exchange.
      handlers.onError(err, res as Exchange, upstream);
    };
    proxy.on('error', onError);
    proxy.on('econnreset', onError);
    this.proxies.set(upstream, proxy);
    return proxy;
  }
}

function ignore(): void {}

function relayChunk(this: RelayedResponse, chunk: Buffer): void {
  const res = this.exchange;
  if (res === undefined || res.relay(chunk)) return;
  this.pause();
  res.once('drain', () => this.resume());
}

function relayEnd(this: RelayedResponse): void {
  this.exchange?.end();
}

/** The response stream closed: if it was not complete, the upstream broke off. */
function relayClosed(this: RelayedResponse): void {
  const { exchange, upstream, handlers } = this;
  if (this.complete || exchange === undefined || upstream === undefined || handlers === undefined) return;
  handlers.onError(
    new UpstreamError('ERR_UPSTREAM_BROKE_OFF', upstream.id, `${upstream.name} closed the connection`),
    exchange,
    upstream,
  );
}
