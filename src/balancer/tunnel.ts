/**
 * An upgraded connection after the upstream's 101: bytes relayed both ways, with backpressure,
 * until either side closes, or nothing moves either way for the idle timeout. Nothing is retried
 * from here on: the upstream may already have acted on what it got.
 *
 * A tunnel counts as in flight for its upstream for its whole life, and adds its bytes to the
 * upstream's counters as they pass, so the status page and /metrics see long tunnels grow.
 * `TunnelSet` holds the open ones: the cap, and closing them spread out when the balancer drains.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { UpgradedConnections } from '../http/graceful-shutdown.js';
import { closeSchedule } from './close-spread.js';
import type { Upstream } from './upstream.js';

/** Why a tunnel ended, for its log line. */
export type TunnelEnd =
  'client closed' | 'upstream closed' | 'idle' | 'balancer draining' | 'cut at shutdown';

export interface TunnelClosed {
  tunnel: Tunnel;
  why: TunnelEnd;
  ms: number;
}

export class Tunnel {
  readonly started = performance.now();
  bytesUp = 0;
  bytesDown = 0;
  private ended: TunnelEnd | null = null;
  private done = false;

  constructor(
    readonly upstream: Upstream,
    private readonly client: Duplex,
    private readonly server: Socket,
    idleTimeoutMs: number,
    private readonly onClosed: (closed: TunnelClosed) => void,
  ) {
    upstream.tunnels++;
    // A tunnel is a request in flight for as long as it is open (least-request and drain count it).
    upstream.enter();
    relay(client, server, (n) => {
      this.bytesUp += n;
      upstream.tunnelBytesUp += n;
    });
    relay(server, client, (n) => {
      this.bytesDown += n;
      upstream.tunnelBytesDown += n;
    });
    client.on('close', () => this.close('client closed'));
    server.on('close', () => this.close('upstream closed'));
    client.on('end', () => this.note('client closed'));
    server.on('end', () => this.note('upstream closed'));
    // A reset on either side ends the tunnel through 'close'; these keep the error from throwing.
    client.on('error', ignore);
    server.on('error', ignore);
    // The client socket carries every byte of the tunnel, in one direction or the other.
    (client as Partial<Socket>).setTimeout?.(idleTimeoutMs, () => this.close('idle'));
    server.setNoDelay(true);
  }

  /** Bytes that crossed before the tunnel existed: read past the request head or the 101's. */
  countEarly(up: number, down: number): void {
    this.bytesUp += up;
    this.bytesDown += down;
    this.upstream.tunnelBytesUp += up;
    this.upstream.tunnelBytesDown += down;
  }

  /** End both sides now (idempotent); the first reason given is the one reported. */
  close(why: TunnelEnd): void {
    this.note(why);
    if (!this.client.destroyed) this.client.destroy();
    if (!this.server.destroyed) this.server.destroy();
    this.finish();
  }

  private note(why: TunnelEnd): void {
    this.ended ??= why;
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.upstream.tunnels--;
    this.upstream.leave();
    this.onClosed({ tunnel: this, why: this.ended ?? 'client closed', ms: performance.now() - this.started });
  }
}

function ignore(): void {}

/** Copy `from` to `to` counting bytes; a slow reader pauses the writer's side; an end half-closes. */
function relay(from: Duplex, to: Duplex, count: (bytes: number) => void): void {
  from.on('data', (chunk: Buffer) => {
    count(chunk.length);
    if (!to.write(chunk)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  });
  from.on('end', () => to.end());
}

/** The open tunnels: how many (for --max-tunnels), and closing them all when the balancer stops. */
export class TunnelSet implements UpgradedConnections {
  private readonly open = new Set<Tunnel>();
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(private readonly closeSpreadMs: number) {}

  get size(): number {
    return this.open.size;
  }

  add(tunnel: Tunnel): void {
    this.open.add(tunnel);
  }

  delete(tunnel: Tunnel): void {
    this.open.delete(tunnel);
  }

  /** Close every open tunnel, spread over the close-spread time (within `graceMs`). */
  drain(graceMs: number): void {
    const tunnels = [...this.open];
    const delays = closeSchedule(tunnels.length, Math.min(this.closeSpreadMs, graceMs));
    tunnels.forEach((tunnel, i) => {
      const timer = setTimeout(() => tunnel.close('balancer draining'), delays[i] ?? 0);
      timer.unref();
      this.timers.push(timer);
    });
  }

  closeAll(): void {
    for (const timer of this.timers) clearTimeout(timer);
    for (const tunnel of [...this.open]) tunnel.close('cut at shutdown');
  }
}
