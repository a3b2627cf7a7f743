/**
 * One client connection on the balancer's own HTTP/1.1 server: its bytes, its requests one at a
 * time, and its deadline.
 *
 * A connection reads a head (request-head.ts), hands the request to the request path, reads its
 * body if it has one (by Content-Length, or chunked through chunked-body.ts), and parses nothing
 * more until the response has gone out: a pipelined request waits in the connection's buffer
 * for its turn, so upstreams see a connection's requests in the order it sent them and its
 * answers go back in that order (as nginx and HAProxy do). Bytes held while a response is in
 * progress are bounded: past the bound the socket is paused until the response ends.
 *
 * There is no timer per connection or per request: the server's sweep (h1-server.ts) looks at
 * every connection's `deadline` a few times a second and calls `expire` when it has passed, which
 * does what that deadline was for (`kind`): close a connection that never sent a byte or sat idle
 * after a response, answer 408 to a head that did not arrive in time, hand a request whose body
 * did not arrive in time to the request path for its 408, or cut a refused client that kept
 * sending.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { rawPlainAnswer, type PlainHeaders } from '../../http/plain-answer.js';
import { ChunkedDecoder } from './chunked-body.js';
import { InboundExchange, type ResponseLine } from './inbound-exchange.js';
import { InboundRequest, type BodySource } from './inbound-request.js';
import { HeadReader, type HeadLimits, type HeadRefusal, type RequestHead } from './request-head.js';
import type { ResponseHeadBuilder } from './response-head.js';
import type { ClientMessage } from '../client-message.js';
import type { Exchange } from '../exchange.js';

/**
 * What a connection of the balancer's own HTTP/1.1 server needs from the server and the request
 * path: its limits and timeouts, where requests and upgrades go, and the few answers the request
 * path gives for the client's own faults (so they are accounted for like any other answer).
 */
export interface ServerParts {
  readonly limits: HeadLimits;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  /** `timeout=N`, from keepAliveTimeoutMs. */
  readonly keepAliveValue: string;
  /** X-Served-By of the server's own raw answers. */
  readonly name: string;
  /** More headers of those answers (the front's Via). */
  readonly extraHeaders: PlainHeaders;
  readonly heads: ResponseHeadBuilder;
  /** The server is draining: answers close their connection. */
  draining(): boolean;
  onRequest(req: ClientMessage, res: Exchange): void;
  onUpgrade(req: ClientMessage, socket: Socket, head: Buffer): void;
  /** The body did not arrive within the request timeout: the request path's 408. */
  requestTimedOut(res: Exchange): void;
  /** The body cannot be read (a malformed chunk): the request path's 400 or 413. */
  badBody(res: Exchange, refusal: HeadRefusal): void;
  /** A head refused: the log line (the connection writes the answer). */
  refused(socket: Socket, status: number, reason: string): void;
  /** A connection closed because it sent nothing in time. */
  closedSilent(socket: Socket): void;
  /** The connection is gone (closed, or handed to the upgrade handler). */
  forget(conn: InboundConnection): void;
}

/** What the connection's deadline is for. */
export const enum Deadline {
  None,
  /** Nothing received since the connection opened: closed without an answer. */
  Silent,
  /** Kept alive after a response, nothing of the next request yet: closed without an answer. */
  Idle,
  /** Part of a head received: 408. */
  Head,
  /** The head is in, its body is not: the request path's 408. */
  Request,
  /** Refused or closing: a client still sending after this long is cut. */
  Linger,
}

/** A refused client may keep sending this long before its socket is destroyed (nginx's lingering close). */
const LINGER_MS = 1000;
/** Bytes of later requests held while a response is in progress, before the socket is paused. */
const HELD_AHEAD_BYTES = 64 * 1024;
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

export class InboundConnection implements ResponseLine, BodySource {
  deadline = 0;
  kind = Deadline.Silent;
  /** The request in progress, from its head until its response is over. */
  private current: InboundExchange | null = null;
  private req: InboundRequest | null = null;
  /** Unread bytes: buffer[pos, end) (a partial head, or requests behind the current one). */
  private buffer: Buffer | null = null;
  private pos = 0;
  private readonly reader: HeadReader;
  private decoder: ChunkedDecoder | null = null;
  /** Body bytes still to come by Content-Length (-1: chunked, or none). */
  private bodyLeft = -1;
  private chunkedBody = false;
  private paused = false;
  private clientEnded = false;
  /** Answered with `Connection: close`, refused, or upgraded: no more requests. */
  private closing = false;

  constructor(
    readonly socket: Socket,
    private readonly parts: ServerParts,
    now: number,
  ) {
    this.reader = new HeadReader(parts.limits);
    this.reader.reset(0);
    this.deadline = parts.headersTimeoutMs > 0 ? now + parts.headersTimeoutMs : 0;
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('drain', this.onDrain);
    socket.on('close', this.onClose);
    socket.on('error', ignore);
  }

  get heads(): ResponseHeadBuilder {
    return this.parts.heads;
  }

  get keepAliveValue(): string {
    return this.parts.keepAliveValue;
  }

  /** No request in progress and nothing of the next one read (draining closes these at once). */
  get idle(): boolean {
    return this.current === null && this.reader.start < 0;
  }

  // ---- bytes in ----

  private readonly onData = (chunk: Buffer): void => {
    if (this.closing && this.current === null) return; // a refused client still sending: dropped
    if (this.buffer === null || this.pos >= this.buffer.length) {
      if (this.buffer !== null) this.reader.shift(this.buffer.length);
      this.buffer = chunk;
      this.pos = 0;
    } else {
      const rest = this.buffer.subarray(this.pos);
      this.reader.shift(this.pos);
      this.buffer = Buffer.concat([rest, chunk]);
      this.pos = 0;
    }
    this.process();
  };

  private process(): void {
    const buf = this.buffer;
    if (buf === null) return;
    if (this.current !== null) {
      if (this.req !== null && !this.req.complete) this.readBody(buf);
      else if (buf.length - this.pos > HELD_AHEAD_BYTES) this.pause();
      return;
    }
    if (this.closing) return;
    const result = this.reader.feed(buf, buf.length);
    if (result.kind === 'more') {
      // Whatever was read belongs to the next request: the headers timeout counts from its first byte.
      if (this.reader.start >= 0 && this.kind !== Deadline.Head)
        this.arm(Deadline.Head, this.parts.headersTimeoutMs);
      this.pos = Math.max(this.pos, this.reader.start >= 0 ? this.reader.start : buf.length);
      return;
    }
    if (result.kind === 'refused') {
      this.refuse(result.refusal);
      return;
    }
    this.pos = result.end;
    this.begin(result.head, buf);
  }

  /** A whole head: the request goes to the request path, its body (if any) follows. */
  private begin(head: RequestHead, buf: Buffer): void {
    const parts = this.parts;
    if (head.upgrade) {
      this.upgrade(head, buf);
      return;
    }
    const hasBody = head.chunked || head.contentLength > 0;
    const req = new InboundRequest(head, this.socket, this, hasBody);
    const res = new InboundExchange(req, this, head.keepAlive && !this.closing && !parts.draining());
    this.req = req;
    this.current = res;
    if (hasBody) {
      this.chunkedBody = head.chunked;
      this.bodyLeft = head.chunked ? -1 : head.contentLength;
      if (head.chunked) {
        if (this.decoder === null) this.decoder = new ChunkedDecoder(this.onChunkData);
        else this.decoder.reset();
      }
      // The request timeout counts from the head's first byte, as node:http's does.
      const since =
        this.kind === Deadline.Head && this.deadline !== 0
          ? this.deadline - parts.headersTimeoutMs
          : performance.now();
      this.kind = Deadline.Request;
      this.deadline = parts.requestTimeoutMs > 0 ? since + parts.requestTimeoutMs : 0;
      if (head.expectContinue && this.pos >= buf.length) this.socket.write(CONTINUE, 'latin1');
    } else {
      this.kind = Deadline.None;
      this.deadline = 0;
    }
    parts.onRequest(req, res);
    if (hasBody && this.current === res && this.buffer !== null) this.readBody(this.buffer);
  }

  private readBody(buf: Buffer): void {
    const req = this.req as InboundRequest;
    const from = this.pos;
    if (from >= buf.length) return;
    if (!this.chunkedBody) {
      const n = Math.min(this.bodyLeft, buf.length - from);
      this.pos = from + n;
      this.bodyLeft -= n;
      if (!req.push(buf.subarray(from, from + n))) this.pause();
      if (this.bodyLeft === 0) this.bodyDone(req);
      return;
    }
    const decoder = this.decoder as ChunkedDecoder;
    const at = decoder.feed(buf, from, buf.length);
    if (at < 0) {
      this.badBody(decoder.refusal as HeadRefusal);
      return;
    }
    this.pos = at;
    if (decoder.done) this.bodyDone(req);
  }

  private readonly onChunkData = (buf: Buffer, start: number, end: number): void => {
    if (!(this.req as InboundRequest).push(buf.subarray(start, end))) this.pause();
  };

  private bodyDone(req: InboundRequest): void {
    req.complete = true;
    req.push(null);
    if (this.kind === Deadline.Request) {
      this.kind = Deadline.None;
      this.deadline = 0;
    }
  }

  /** The body reader wants more: read the socket again. */
  wantBody(): void {
    this.resume();
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  private resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket.resume();
  }

  // ---- responses ----

  responseEnded(res: InboundExchange): void {
    if (!res.shouldKeepAlive) this.closing = true;
    process.nextTick(afterResponse, this, res);
  }

  /** The response is on the socket: account for it, then the next request (or the end). */
  next(res: InboundExchange): void {
    res.finish();
    if (this.current !== res) return;
    const whole = this.req === null || this.req.complete;
    this.current = null;
    this.req = null;
    if (this.closing || this.clientEnded) {
      this.close(whole);
      return;
    }
    this.arm(Deadline.Idle, this.parts.keepAliveTimeoutMs);
    this.resume();
    if (this.buffer !== null && this.pos < this.buffer.length) {
      this.reader.reset(this.pos);
      this.process();
    } else {
      this.buffer = null;
      this.pos = 0;
      this.reader.reset(0);
    }
  }

  // ---- the end of a connection ----

  private readonly onEnd = (): void => {
    this.clientEnded = true;
    const res = this.current;
    if (res !== null && !res.writableFinished) {
      // A client that closes its side before its answer has gone (as nginx and node:http take
      // it): the request is abandoned (499), and its upstream request stopped.
      this.socket.destroy();
      return;
    }
    if (res === null) this.close();
  };

  private readonly onDrain = (): void => {
    this.current?.emit('drain');
  };

  private readonly onClose = (): void => {
    this.parts.forget(this);
    const res = this.current;
    this.current = null;
    if (res === null) return;
    res.destroyed = true;
    const req = this.req;
    this.req = null;
    if (req !== null && !req.complete) req.destroy();
    res.finish();
  };

  /**
   * Finish sending, then close: at once when the client has nothing unread, else after reading
   * and dropping what it sends for LINGER_MS at most.
   */
  private close(requestWhole = true): void {
    this.closing = true;
    const socket = this.socket;
    if (socket.destroyed) return;
    if (this.clientEnded || (requestWhole && (this.buffer === null || this.pos >= this.buffer.length))) {
      // Nothing of the client's is left unread: close once the answer is written, as node:http's
      // destroySoon does. Waiting for the client's FIN cost a read and an epoll_ctl per
      // connection, and the kernel sends our FIN after the answer all the same.
      this.buffer = null;
      socket.destroySoon();
      return;
    }
    // The client sent more than was answered: read and drop it for a moment before closing, so
    // the kernel does not answer those bytes with a reset that could destroy the answer in
    // flight (nginx's lingering close).
    if (!socket.writableEnded) socket.end();
    if (this.kind !== Deadline.Linger) this.arm(Deadline.Linger, LINGER_MS);
    this.resume();
  }

  /** Cut the connection now (the server is closing them all, or draining the idle ones). */
  destroy(): void {
    this.socket.destroy();
  }

  private arm(kind: Deadline, ms: number): void {
    this.kind = kind;
    this.deadline = ms > 0 ? performance.now() + ms : 0;
  }

  /** The sweep found the deadline passed. */
  expire(): void {
    const kind = this.kind;
    this.kind = Deadline.None;
    this.deadline = 0;
    switch (kind) {
      case Deadline.Silent:
        if (this.socket.bytesRead === 0) this.parts.closedSilent(this.socket);
        this.socket.destroy();
        return;
      case Deadline.Idle:
      case Deadline.Linger:
        this.socket.destroy();
        return;
      case Deadline.Head:
        this.refuse({ status: 408, reason: 'the request was not received in time' });
        return;
      case Deadline.Request: {
        const res = this.current;
        if (res !== null && !res.headersSent && !res.destroyed) {
          this.closing = true;
          this.parts.requestTimedOut(res);
        } else this.socket.destroy();
        return;
      }
      default:
        return;
    }
  }

  /** A head that cannot be served: its answer, `Connection: close`, one log line. */
  private refuse(refusal: HeadRefusal): void {
    this.closing = true;
    this.buffer = null;
    this.parts.refused(this.socket, refusal.status, refusal.reason);
    if (this.socket.writable)
      this.socket.end(
        rawPlainAnswer(refusal.status, refusal.reason, this.parts.name, this.parts.extraHeaders),
      );
    this.arm(Deadline.Linger, LINGER_MS);
    this.resume();
  }

  /** A body that cannot be read (a bad chunk): the request path answers it, no upstream blamed. */
  private badBody(refusal: HeadRefusal): void {
    this.closing = true;
    this.buffer = null;
    const res = this.current;
    if (res !== null && !res.headersSent && !res.destroyed) this.parts.badBody(res, refusal);
    else this.socket.destroy();
  }

  /** Connection: upgrade. The socket and the bytes read past the head go to the upgrade handler. */
  private upgrade(head: RequestHead, buf: Buffer): void {
    this.closing = true;
    const socket = this.socket;
    socket.off('data', this.onData);
    socket.off('end', this.onEnd);
    socket.off('drain', this.onDrain);
    socket.off('close', this.onClose);
    socket.off('error', ignore);
    this.parts.forget(this);
    this.paused = false;
    // Neither flowing nor paused, as node:http leaves an upgraded socket: it flows once the
    // handler listens for data, and no byte is lost before that.
    (socket as { readableFlowing: boolean | null }).readableFlowing = null;
    const rest = buf.subarray(this.pos);
    this.buffer = null;
    const req = new InboundRequest(head, socket, this, false);
    this.parts.onUpgrade(req, socket, rest);
  }
}

function afterResponse(conn: InboundConnection, res: InboundExchange): void {
  conn.next(res);
}

function ignore(): void {}
