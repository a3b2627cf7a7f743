/**
 * The taking side of a handover: a starting primary asks the holder at the rendezvous for the
 * listening sockets (HAProxy's new process asking the old one with `-x`), keeps the connection
 * open while its own workers start, and says `ready` on it once they serve, which is the holder's
 * word to drain the old generation. A taker that dies or fails before that only closes the
 * connection: the holder keeps the sockets and the old generation serving for the next try.
 */
import net from 'node:net';
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { closeFd, receiveFds } from './fd-passing.js';
import { parseHandover, TAKER_READY, type Handover } from './message.js';

/** How long a starting primary waits for a holder that accepted its connection to answer. */
const RECEIVE_TIMEOUT_MS = 2000;

export interface Taken {
  handover: Handover;
  /** In the order of `handover.listeners`. */
  fds: number[];
  /** This primary's workers serve: the holder drains the old generation and lets go. */
  ready(): void;
  /** This primary will not serve: the holder keeps everything for the next one. */
  giveUp(): void;
}

function connect(file: string): Promise<net.Socket | null> {
  return new Promise((resolve, reject) => {
    const socket = new net.Socket();
    // Paused before it connects, node never reads from it: the message and its descriptors wait
    // in the kernel for recvmsg.
    socket.pause();
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
    const onError = (err: NodeJS.ErrnoException): void => {
      socket.destroy();
      // Nobody at the rendezvous: no handover under way.
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') resolve(null);
      else reject(err);
    };
    socket.once('error', onError);
    socket.connect(file);
  });
}

/** The sockets from the holder at `file`, or null when there is none (or it failed: then logged). */
export async function takeHandover(file: string | null, logger: Logger): Promise<Taken | null> {
  if (file === null) return null;
  let socket: net.Socket | null = null;
  try {
    socket = await connect(file);
    if (socket === null) return null;
    const got = receiveFds(socket, RECEIVE_TIMEOUT_MS);
    let handover: Handover;
    try {
      handover = parseHandover(got.text, got.fds.length);
    } catch (err) {
      for (const fd of got.fds) closeFd(fd);
      throw err;
    }
    const held = socket;
    held.on('error', () => undefined); // the holder may be gone by the time we answer
    held.unref();
    return {
      handover,
      fds: got.fds,
      ready: () => void held.end(TAKER_READY),
      giveUp: () => void held.destroy(),
    };
  } catch (err) {
    socket?.destroy();
    logger.warn(`could not take the handover, binding new sockets: ${errorMessage(err)}`, {
      event: 'handover-failed',
    });
    return null;
  }
}
