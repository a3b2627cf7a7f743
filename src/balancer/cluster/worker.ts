/**
 * A cluster worker: the request path over a copy of the primary's pool, whose decisions (health,
 * admin state, weight) it reads in the shared zone on every request, as it counts its requests in
 * flight there and takes its turn from the zone's one cursor. It proxies, and reports: a passive
 * failure at once (marked down in the zone for every worker, and the primary told), its counters
 * every quarter second and whenever asked, its finished requests in small batches for the
 * dashboard. It never checks health or runs discovery.
 *
 * When PM2 restarts the primary, a worker may serve on after it (the handover's old generation):
 * it keeps serving on the handed-over sockets while the next primary starts, and drains when the
 * holder says that one's workers are ready.
 *
 * Draining (a reload, a stop, or a primary that went away) keeps every connection it has: it stops
 * accepting, answers whatever arrives with `Connection: close`, and exits when the last connection
 * is gone or the grace period ends. An idle keep-alive socket is never closed under a request that
 * is already on its way.
 */
import net from 'node:net';
import type { BalancerConfig } from '../config.js';
import type { Logger } from '../../logger.js';
import { BalancerEvents } from '../events.js';
import { Pool } from '../pool.js';
import { mapSharedMemory } from './shared-memory.js';
import { Zone } from '../zone.js';
import { rescueIfElected } from '../handover/rescue.js';
import { SERVE_ON_MS } from '../handover/message.js';
import { runningUnderPm2 } from '../../config/process-input.js';
import { RequestPath } from '../request-path.js';
import type { TlsCredentials } from '../tls-credentials.js';
import type { WorkerSlot } from '../../config/process-input.js';
import { FinishedBatch } from './finished-batch.js';
import { UsageSampler } from '../../metrics/process-usage.js';
import { isToWorker, type ToPrimary, type UpstreamCounts } from './messages.js';

const REPORT_MS = 250;
const BATCH_MS = 200;

export async function runWorker(
  config: BalancerConfig,
  slot: WorkerSlot,
  logger: Logger,
  tls?: TlsCredentials,
): Promise<void> {
  const send = (message: ToPrimary): void => {
    // With a callback, a failed send (the primary just went away) is reported there, not thrown.
    if (process.connected) process.send?.(message, undefined, undefined, () => undefined);
  };
  const events = new BalancerEvents();
  const pool = new Pool({
    thresholds: { fall: config.health.fall, rise: config.health.rise },
    logger,
    events,
    policy: config.policy,
    zone: new Zone(mapSharedMemory(slot.zoneFd), false),
    row: slot.row,
    replica: { onTakeOut: (upstream, reason) => send({ lb: 'take-out', id: upstream.id, reason }) },
  });
  const path = new RequestPath(config, pool, logger, events, tls);
  const { handler, server, listener } = path;

  const usage = new UsageSampler();
  const report = (seq: number): void => {
    const upstreams: UpstreamCounts = {};
    for (const u of pool.members) {
      upstreams[u.id] = [
        u.inFlight,
        u.attempts,
        u.served,
        u.failures,
        u.tunnels,
        u.tunnelBytesUp,
        u.tunnelBytesDown,
      ];
    }
    send({
      lb: 'report',
      seq,
      totals: { ...handler.counts },
      queued: handler.queued,
      tunnels: path.upgrades.tunnels.size,
      connections: path.connections(),
      upstreams,
      usage: usage.sample(),
    });
  };
  const batch = new FinishedBatch();
  const flush = (): void => {
    if (batch.count > 0) send({ lb: 'finished', groups: batch.take() });
  };
  events.onRequestFinished((e) => batch.add(e.upstream, e.status, e.ms, e.retries));
  const reporter = setInterval(() => report(0), REPORT_MS);
  const batcher = setInterval(flush, BATCH_MS);
  reporter.unref();
  batcher.unref();

  let draining = false;
  let servingOn = false;
  const drain = (why: string): void => {
    if (draining) return;
    draining = true;
    handler.draining = true;
    logger.info(`draining (${why}): no new connections, ${config.graceMs}ms for the open ones`, {
      event: 'worker-drain',
      reason: why,
    });
    const finish = (): void => {
      clearInterval(reporter);
      clearInterval(batcher);
      flush();
      report(0);
      void path
        .close()
        .then(() => logger.close())
        .then(() => process.exit(0));
    };
    // net's close, not http's: http's also closes idle keep-alive sockets, and a request may be on
    // its way on one of them. Each is answered with Connection: close instead.
    net.Server.prototype.close.call(listener, finish);
    path.upgrades.tunnels.drain(config.graceMs);
    setTimeout(() => {
      path.upgrades.tunnels.closeAll();
      server.closeAllConnections();
    }, config.graceMs).unref();
    setTimeout(() => process.exit(0), config.graceMs + 2000).unref();
  };

  /** The primary that started this worker (after it dies, ppid is someone else). */
  const primary = process.ppid;
  /** Serve on without a primary: the handover's holder drains this worker, or it drains itself after `ms`. */
  const serveOn = (ms: number): void => {
    servingOn = true;
    setTimeout(() => drain(`no next balancer drained it within ${ms}ms`), ms).unref();
  };

  let membersKnown: () => void = () => undefined;
  const firstMembers = new Promise<void>((resolve) => (membersKnown = resolve));
  process.on('message', (message: unknown) => {
    if (!isToWorker(message)) return;
    switch (message.lb) {
      case 'members': {
        const before = pool.members;
        pool.setMembers(message.members, 'primary');
        path.forget(before.filter((u) => u.removed));
        membersKnown();
        return;
      }
      case 'available':
        pool.wake();
        return;
      case 'report?':
        // The finished requests first: the primary reads /metrics from them once this report is in
        // (the channel keeps the order), so a scrape sees every request finished before it asked.
        flush();
        report(message.seq);
        return;
      case 'drain':
        drain('the primary asked');
        return;
      case 'leave':
        path.leave(message.on, message.closeIdle);
        if (message.on) report(0);
        return;
      case 'serve-on':
        serveOn(message.ms);
        return;
    }
  });
  // PM2 signals the whole process tree on stop (SIGINT), and a terminal's Ctrl-C the whole group:
  // the primary tells its workers when to drain (after it has handed its sockets on), and reloads.
  process.on('SIGINT', () => undefined);
  process.on('SIGHUP', () => undefined);
  process.on('SIGTERM', () => drain('SIGTERM'));
  // A primary that left this worker to the next one goes first. One that died unasked under PM2
  // leaves its workers serving, one of them holding the sockets and the zone for the next primary
  // (handover/rescue.ts); outside PM2 nobody would come, so they drain.
  process.on('disconnect', () => {
    if (servingOn) {
      logger.debug('the primary has gone; serving on until the handover drains this worker', {
        event: 'worker-serve-on',
      });
      return;
    }
    if (!runningUnderPm2() || draining) {
      drain('the primary is gone');
      return;
    }
    serveOn(SERVE_ON_MS);
    void rescueIfElected({ config, slot, zone: pool.zone, slots: pool.slots(), primary, logger });
  });
  send({ lb: 'hello' });

  await path.start();
  await firstMembers;
  const port = await path.listen(slot.publicFd);
  await path.listenRedirect(slot.redirectFd ?? undefined);
  logger.debug(`worker listening on port ${port}`, { event: 'worker-listening', port });
  send({ lb: 'ready', port });
}
