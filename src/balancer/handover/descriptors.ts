/**
 * The primary's listening sockets, as descriptors it keeps (nginx's master): every worker inherits
 * a copy when it starts, and a primary that PM2 stops hands them to the next one. They come from
 * the last primary's handover when there is one (matched by role and port, as HAProxy's
 * `sock_find_compatible_fd` does), otherwise they are bound here.
 */
import net from 'node:net';
import type { BalancerConfig } from '../config.js';
import type { Logger } from '../../logger.js';
import { listenRetrying } from '../../net/listen.js';
import { closeFd, dupFd, fdOf } from './fd-passing.js';
import type { ListenerRole } from './message.js';
import { takeHandover, type Taken } from './taking.js';

export interface PrimarySockets {
  public: number;
  redirect: number | null;
  /** Only when handed over; otherwise the admin listener binds its port itself. */
  admin: number | null;
  /** The shared zone, when handed over; otherwise the primary makes a new one. */
  zone: number | null;
  /** The handover they came from, to answer once this primary serves. */
  taken: Taken | null;
}

/** Listen with node (a taken port is retried), keep a copy of the descriptor, close node's server. */
async function bindFresh(port: number, host: string, logger: Logger, what: string): Promise<number> {
  const server = net.createServer();
  await listenRetrying(server, port, host, { logger, what });
  const fd = dupFd(fdOf(server));
  await new Promise((resolve) => server.close(resolve));
  return fd;
}

export async function acquireSockets(
  config: BalancerConfig,
  logger: Logger,
  file: string | null,
): Promise<PrimarySockets> {
  const taken = await takeHandover(file, logger);
  const used = new Set<number>();
  const use = (role: ListenerRole, port: number | null): number | null => {
    if (taken === null || port === null) return null;
    const at = taken.handover.listeners.findIndex((l) => l.role === role && l.port === port);
    const fd = at === -1 ? undefined : taken.fds[at];
    if (fd === undefined) return null;
    used.add(fd);
    return fd;
  };
  const sockets: PrimarySockets = {
    public: use('public', config.port) ?? (await bindFresh(config.port, config.host, logger, config.name)),
    redirect:
      config.httpRedirectPort === null
        ? null
        : (use('redirect', config.httpRedirectPort) ??
          (await bindFresh(config.httpRedirectPort, config.host, logger, `${config.name} redirect`))),
    admin: use('admin', config.adminPort),
    zone: null,
    taken,
  };
  if (taken?.handover.zone === true) {
    const fd = taken.fds[taken.handover.listeners.length];
    if (fd !== undefined) {
      used.add(fd);
      sockets.zone = fd;
    }
  }
  // A port that changed since: that socket is not ours to keep.
  for (const fd of taken?.fds ?? []) if (!used.has(fd)) closeFd(fd);
  return sockets;
}
