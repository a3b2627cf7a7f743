/**
 * Requests node:http could not parse (garbage request line, headers over the limit, a client too
 * slow to send its headers): answer with a status and a reason, `Connection: close`, one log line,
 * and destroy the socket, so bad input neither crashes nor hangs the server.
 */
import { rawPlainAnswer, type PlainHeaders } from './plain-answer.js';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../logger.js';

export interface ClientErrorAnswer {
  status: number;
  reason: string;
}

/** Pure: the answer for a parser or timeout error code; undefined means just drop the socket. */
export function clientErrorAnswer(code: string | undefined): ClientErrorAnswer | undefined {
  switch (code) {
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ETIMEDOUT':
      return undefined;
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, reason: 'request line and headers are over the size limit' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, reason: 'the request was not received in time' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, reason: 'chunk extensions are too large' };
    case 'HPE_INVALID_METHOD':
      return { status: 400, reason: 'malformed request line (unknown method)' };
    case 'HPE_INVALID_URL':
      return { status: 400, reason: 'malformed request target' };
    case 'HPE_INVALID_VERSION':
      return { status: 400, reason: 'malformed HTTP version' };
    default:
      return { status: 400, reason: `malformed request (${code ?? 'parse error'})` };
  }
}

export function rawErrorResponse(answer: ClientErrorAnswer, name: string, extra: PlainHeaders = {}): string {
  return rawPlainAnswer(answer.status, answer.reason, name, extra);
}

/** node:http keeps the response in progress on the socket; writing raw bytes after it began would corrupt it. */
interface HttpSocket extends Partial<Socket> {
  _httpMessage?: { headersSent?: boolean } | null;
}

/**
 * How long a refused client may keep sending before its socket is destroyed. Closing a socket with
 * unread bytes makes the kernel send a reset, which can destroy the answer before the client reads
 * it; reading and dropping for a moment first (nginx's lingering close) lets the answer arrive.
 */
const LINGER_MS = 1000;
const answered = new WeakSet<Duplex>();

export function handleClientError(
  err: Error & { code?: string },
  socket: Duplex,
  name: string,
  logger: Logger,
  /** Headers every answer of this listener carries (the balancer's Via). */
  extra: PlainHeaders = {},
): void {
  // The parser reports every later chunk from the same client again; one answer is enough.
  if (answered.has(socket)) return;
  answered.add(socket);
  const { _httpMessage, remoteAddress, bytesRead } = socket as HttpSocket;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' && bytesRead === 0) {
    closeSilent(socket, remoteAddress, logger);
    return;
  }
  const answer = clientErrorAnswer(err.code);
  const inProgress = _httpMessage?.headersSent === true;
  if (answer === undefined || !socket.writable || inProgress) {
    socket.destroy();
    return;
  }
  socket.end(rawErrorResponse(answer, name, extra));
  socket.once('end', () => socket.destroy());
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
  if (logger.enabled('warn')) {
    logger.warn(`refused ${answer.status} from ${remoteAddress ?? '?'}: ${answer.reason}`, {
      event: 'client-error',
      status: answer.status,
      code: err.code,
      reason: answer.reason,
    });
  }
}

/**
 * A connection that sent nothing within the headers timeout (a browser's preconnect, a port
 * scanner, a flood of idle sockets) is closed without a 408, as nginx closes it: there is no
 * request to answer, and a 408 left unread on such a socket is what a client would take for the
 * answer to the request it sends next. No answer to write, no linger timer and no warning line
 * each: when thousands expire in one check of node's, the last of them closes within
 * milliseconds of the first, not a second later (docs/hardening.md).
 */
function closeSilent(socket: Duplex, remoteAddress: string | undefined, logger: Logger): void {
  socket.destroy();
  if (logger.enabled('debug')) {
    logger.debug(`closed a connection from ${remoteAddress ?? '?'} that sent nothing in time`, {
      event: 'client-silent',
    });
  }
}
