/**
 * The primary's listening sockets, as descriptors it keeps (nginx's master): every worker inherits
 * a copy when it starts, and a primary that PM2 stops hands them to the next one. They come from
 * the last primary when it left them (matched by role and port), otherwise they are bound here.
 */
import net from 'node:net';
import type { BalancerConfig } from '../config.js';
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { closeFd, dupFd, listeningFd, receiveFds } from '../../net/fd-passing.js';
import { listenRetrying } from '../../net/listen.js';
import { parseHandoff, type Handoff, type ListenerRole } from './handoff.js';

export interface PrimarySockets {
  public: number;
  redirect: number | null;
  /** Only when handed over; otherwise the admin listener binds its port itself. */
  admin: number | null;
  /** What the last primary said when it handed them over. */
  handoff: Handoff | null;
}

/** How long a starting primary waits for a holder that accepted its connection to answer. */
const RECEIVE_TIMEOUT_MS = 2000;

/** Listen with node (a taken port is retried), keep a copy of the descriptor, close node's server. */
async function bindFresh(port: number, host: string, logger: Logger, what: string): Promise<number> {
  const server = net.createServer();
  await listenRetrying(server, port, host, { logger, what });
  const fd = dupFd(listeningFd(server));
  await new Promise((resolve) => server.close(resolve));
  return fd;
}

interface Taken {
  handoff: Handoff;
  fds: number[];
}

function takeOver(file: string | null, logger: Logger): Taken | null {
  if (file === null) return null;
  let got: { fds: number[]; text: string } | null;
  try {
    got = receiveFds(file, RECEIVE_TIMEOUT_MS);
  } catch (err) {
    logger.warn(`could not take the last balancer's sockets, binding new ones: ${errorMessage(err)}`, {
      event: 'takeover-failed',
    });
    return null;
  }
  if (got === null) return null;
  try {
    return { handoff: parseHandoff(got.text, got.fds.length), fds: got.fds };
  } catch (err) {
    for (const fd of got.fds) closeFd(fd);
    logger.warn(`${errorMessage(err)}; binding new sockets`, { event: 'takeover-failed' });
    return null;
  }
}

export async function acquireSockets(
  config: BalancerConfig,
  logger: Logger,
  file: string | null,
): Promise<PrimarySockets> {
  const taken = takeOver(file, logger);
  const used = new Set<number>();
  const use = (role: ListenerRole, port: number | null): number | null => {
    if (taken === null || port === null) return null;
    const at = taken.handoff.listeners.findIndex((l) => l.role === role && l.port === port);
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
    handoff: taken?.handoff ?? null,
  };
  // A port that changed since: that socket is not ours to keep.
  for (const fd of taken?.fds ?? []) if (!used.has(fd)) closeFd(fd);
  return sockets;
}
