/**
 * A strict, incremental parser for HTTP/1.1 responses (RFC 9112), for the h1 engine: bytes in,
 * a head, body slices and an end out, or a `ResponseParseError` naming what was wrong. Pure: no
 * sockets, no timers, so it is tested and fuzzed byte by byte (test/balancer/h1-parser.test.ts,
 * bench/fuzz-h1-parser.ts).
 *
 * Strict where a lenient reading lets two parties frame one message two ways (response
 * splitting, smuggling through a shared upstream connection), as llhttp is by default and
 * stricter where llhttp only tolerates:
 * - lines end in CRLF; a bare CR or LF, a NUL or another control byte anywhere in the head is an error;
 * - no whitespace before a header's colon, no obs-fold (a line starting with SP or HTAB), names are tokens;
 * - Content-Length is digits only and appears once; Transfer-Encoding, if present, is exactly
 *   `chunked`, and never with Content-Length;
 * - chunk sizes are 1-16 hex digits followed by an optional extension and CRLF, each chunk's data
 *   by CRLF; trailers are read, checked like headers and dropped;
 * - HTTP/1.0 and HTTP/1.1 only; an unasked 101 is an error (an upgrade never goes through here);
 *   the status line is checked as its bytes arrive, so a first byte that cannot start one fails
 *   the response at once, without waiting for a blank line that may never come.
 * 1xx interim heads are read and skipped. A message without Content-Length or chunked framing is
 * read until the upstream closes, and its connection is not reused.
 */

import { sameName } from '../../headers.js';

/** What kind of problem a response had (the message says the detail). */
export type ResponseProblem =
  'status-line' | 'header' | 'framing' | 'chunk' | 'head-too-large' | 'unasked-upgrade' | 'truncated';

export class ResponseParseError extends Error {
  override readonly name = 'ResponseParseError';
  constructor(
    readonly problem: ResponseProblem,
    message: string,
  ) {
    super(message);
  }
}

export interface ResponseHead {
  status: number;
  /** [name, value, name, value, ...], as received (latin1), values without surrounding whitespace. */
  rawHeaders: string[];
  /** The connection may carry another request after this response. */
  keepAlive: boolean;
}

/** What the parser calls as it reads one response. */
export interface ResponseSink {
  onHead(head: ResponseHead): void;
  /** A slice of the input (not a copy): relay or copy it before the next execute(). */
  onBody(chunk: Buffer): void;
  onEnd(): void;
}

const enum State {
  Idle,
  Head,
  Fixed,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Done,
}

const CR = 0x0d;
const LF = 0x0a;
const MAX_CHUNK_LINE = 1024;
const MAX_TRAILER_BYTES = 16 * 1024;

/** tchar of RFC 9110 section 5.6.2, indexed by byte. */
const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TOKEN[c] = 1;

/** Hex digit values, -1 for anything else. */
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[0x41 + c] = 10 + c;
  HEX[0x61 + c] = 10 + c;
}

function isTokenString(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (TOKEN[s.charCodeAt(i)] !== 1) return false;
  return true;
}

/** A field value's byte is allowed: HTAB, SP to '~', obs-text (0x80-0xff). */
function isValueByte(c: number): boolean {
  return c === 0x09 || (c >= 0x20 && c !== 0x7f);
}

function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 0x20 || s.charCodeAt(a) === 0x09)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 0x20 || s.charCodeAt(b - 1) === 0x09)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** How one message's body is framed, read from its head. */
interface Framing {
  contentLength: number;
  chunked: boolean;
  close: boolean;
}

export class ResponseParser {
  private state = State.Idle;
  private noBody = false;
  /** Head bytes held over from an earlier execute() (a head split across reads). */
  private pending: Buffer | null = null;
  private remaining = 0;
  private keepAlive = false;
  /** The chunk-size or trailer line being read, when it is split across reads. */
  private line = '';
  private trailerBytes = 0;

  constructor(private readonly maxHeadBytes: number) {}

  /** The parser waits for the response to a request with this method. */
  expect(method: string): void {
    this.state = State.Head;
    this.noBody = method === 'HEAD';
    this.pending = null;
    this.line = '';
    this.trailerBytes = 0;
  }

  /**
   * Read `data`. Returns how many bytes belonged to the response; when that is less than
   * `data.length` the response is complete and the rest is the upstream's (a protocol violation
   * with one request at a time). Throws ResponseParseError.
   */
  execute(data: Buffer, sink: ResponseSink): number {
    let at = 0;
    const end = data.length;
    while (at < end) {
      switch (this.state) {
        case State.Head:
          at = this.readHead(data, at, sink);
          break;
        case State.Fixed: {
          const take = Math.min(this.remaining, end - at);
          this.remaining -= take;
          sink.onBody(at === 0 && take === end ? data : data.subarray(at, at + take));
          at += take;
          if (this.remaining === 0) this.finish(sink);
          break;
        }
        case State.ChunkSize:
          at = this.readChunkSize(data, at);
          break;
        case State.ChunkData: {
          const take = Math.min(this.remaining, end - at);
          this.remaining -= take;
          sink.onBody(data.subarray(at, at + take));
          at += take;
          if (this.remaining === 0) {
            this.state = State.ChunkDataEnd;
            this.remaining = 2;
          }
          break;
        }
        case State.ChunkDataEnd: {
          // CRLF after the chunk's data, possibly split between reads.
          const want = this.remaining === 2 ? CR : LF;
          if (data[at] !== want) throw new ResponseParseError('chunk', 'chunk data not followed by CRLF');
          at++;
          if (--this.remaining === 0) this.state = State.ChunkSize;
          break;
        }
        case State.Trailers:
          at = this.readTrailers(data, at, sink);
          break;
        case State.UntilClose:
          sink.onBody(at === 0 ? data : data.subarray(at));
          at = end;
          break;
        case State.Done:
        case State.Idle:
          return at;
      }
    }
    return at;
  }

  /** The upstream closed the connection: completes a body read until close, else an error. */
  closed(sink: ResponseSink): void {
    if (this.state === State.UntilClose) {
      this.finish(sink);
      return;
    }
    if (this.state === State.Done || this.state === State.Idle) return;
    throw new ResponseParseError('truncated', 'the connection closed before the response was complete');
  }

  private finish(sink: ResponseSink): void {
    this.state = State.Done;
    sink.onEnd();
  }

  private readHead(data: Buffer, at: number, sink: ResponseSink): number {
    let buf = data;
    let from = at;
    let scanFrom = at;
    const held = this.pending === null ? 0 : this.pending.length;
    if (this.pending !== null) {
      // Rare: the head arrived in pieces. Scan again from a little before the join for the blank line.
      scanFrom = Math.max(0, held - 3);
      buf = Buffer.concat([this.pending, data.subarray(at)]);
      from = 0;
    }
    const blank = buf.indexOf('\r\n\r\n', scanFrom, 'latin1');
    if (blank < 0) {
      if (buf.length - from > this.maxHeadBytes) {
        throw new ResponseParseError('head-too-large', `response head over ${this.maxHeadBytes} bytes`);
      }
      const partial = buf.toString('latin1', from);
      checkHead(partial, true);
      // What is there of the status line must be able to start one: an upstream that speaks
      // another protocol (an SSH banner, a TLS alert) and then waits is a 502 now, not a 504 later.
      checkStatusLineSoFar(partial);
      this.pending = buf === data ? Buffer.from(data.subarray(at)) : buf;
      return data.length;
    }
    const headEnd = blank + 4;
    if (headEnd - from > this.maxHeadBytes) {
      throw new ResponseParseError('head-too-large', `response head over ${this.maxHeadBytes} bytes`);
    }
    this.pending = null;
    const head = buf.toString('latin1', from, blank);
    this.startBody(head, sink);
    // Where the head ended within `data` (buf is data itself, or what was held plus data[at..]).
    return buf === data ? headEnd : at + headEnd - held;
  }

  /** Parse one head (without its blank line) and set up the body that follows. */
  private startBody(head: string, sink: ResponseSink): void {
    const lines = head.split('\r\n');
    // Within a line no CR, LF or other control byte but HTAB (a plain class, cheaper than one
    // pattern with lookarounds over the whole head).
    for (let i = 0; i < lines.length; i++) {
      if (LINE_BAD_BYTE.test(lines[i] as string)) {
        checkHead(head, false); // names the byte
        throw new ResponseParseError('header', 'a control byte in the response head');
      }
    }
    const statusLine = lines[0] ?? '';
    const { status, minor } = parseStatusLine(statusLine);
    const rawHeaders: string[] = new Array<string>((lines.length - 1) * 2);
    const framing: Framing = { contentLength: -1, chunked: false, close: false };
    let keepAliveToken = false;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(':');
      if (colon <= 0) {
        const c = line.charCodeAt(0);
        throw new ResponseParseError(
          'header',
          c === 0x20 || c === 0x09
            ? 'obsolete line folding in a header'
            : `header line without a name: ${quote(line)}`,
        );
      }
      const name = line.slice(0, colon);
      if (!isTokenString(name)) throw new ResponseParseError('header', `invalid header name ${quote(name)}`);
      const value = trimOws(line.slice(colon + 1));
      rawHeaders[(i - 1) * 2] = name;
      rawHeaders[(i - 1) * 2 + 1] = value;
      if (name.length === 14 && sameName(name, 'content-length')) {
        if (framing.contentLength !== -1)
          throw new ResponseParseError('framing', 'more than one Content-Length');
        // A tab after the digits is refused as llhttp refuses it (trailing spaces pass, as there).
        if (line.indexOf('\t', colon + 1 + line.slice(colon + 1).search(/[^ \t]/)) >= 0) {
          throw new ResponseParseError('framing', `invalid Content-Length ${quote(value)}`);
        }
        framing.contentLength = parseContentLength(value);
      } else if (name.length === 17 && sameName(name, 'transfer-encoding')) {
        if (framing.chunked) throw new ResponseParseError('framing', 'more than one Transfer-Encoding');
        // Exactly `chunked`, nothing after it: llhttp reads `chunked<TAB>` as no chunked coding at
        // all, and two parsers framing one body two ways is how responses get smuggled.
        if (!sameName(value, 'chunked') || !line.endsWith(value)) {
          throw new ResponseParseError(
            'framing',
            `Transfer-Encoding ${quote(value)} (only chunked is relayed)`,
          );
        }
        framing.chunked = true;
      } else if (name.length === 10 && sameName(name, 'connection')) {
        for (const token of value.split(',')) {
          const t = trimOws(token).toLowerCase();
          if (t === 'close') framing.close = true;
          else if (t === 'keep-alive') keepAliveToken = true;
        }
      }
    }
    if (framing.chunked && framing.contentLength !== -1) {
      throw new ResponseParseError('framing', 'both Content-Length and Transfer-Encoding');
    }
    if (status === 101) throw new ResponseParseError('unasked-upgrade', 'bad upgrade');
    if (status >= 100 && status < 200) {
      // Interim (100, 103): skipped; the final head follows on the same connection.
      this.state = State.Head;
      return;
    }
    // HTTP/1.0 keeps the connection only when it says so.
    const keepAlive = !framing.close && (minor === 1 || keepAliveToken);
    this.keepAlive = keepAlive;
    const bodiless = this.noBody || status === 204 || status === 304 || status < 100;
    if (bodiless) {
      sink.onHead({ status, rawHeaders, keepAlive });
      if (this.state === State.Head) this.finish(sink);
      return;
    }
    if (framing.chunked) {
      this.state = State.ChunkSize;
      this.line = '';
    } else if (framing.contentLength >= 0) {
      this.state = State.Fixed;
      this.remaining = framing.contentLength;
    } else {
      this.state = State.UntilClose;
      this.keepAlive = false;
    }
    sink.onHead({ status, rawHeaders, keepAlive: this.keepAlive });
    if (this.state === State.Fixed && this.remaining === 0) this.finish(sink);
  }

  /** Reads `1a;ext=v\r\n`; a size of 0 moves on to the trailers. */
  private readChunkSize(data: Buffer, at: number): number {
    const lf = data.indexOf(LF, at);
    const stop = lf < 0 ? data.length : lf + 1;
    this.line += data.toString('latin1', at, stop);
    if (this.line.length > MAX_CHUNK_LINE) throw new ResponseParseError('chunk', 'chunk size line too long');
    if (lf < 0) return stop;
    const line = this.line;
    this.line = '';
    if (line.length < 3 || line.charCodeAt(line.length - 2) !== CR) {
      throw new ResponseParseError('chunk', 'chunk size line not ended by CRLF');
    }
    let size = 0;
    let i = 0;
    for (; i < line.length - 2; i++) {
      const v = HEX[line.charCodeAt(i)] as number;
      if (v < 0) break;
      if (i >= 16) throw new ResponseParseError('chunk', 'chunk size over 16 hex digits');
      size = size * 16 + v;
    }
    if (i === 0) throw new ResponseParseError('chunk', `invalid chunk size ${quote(line.slice(0, -2))}`);
    if (!Number.isSafeInteger(size)) throw new ResponseParseError('chunk', 'chunk size too large');
    if (i < line.length - 2 && !validChunkExtensions(line, i, line.length - 2)) {
      throw new ResponseParseError('chunk', `invalid chunk size or extension ${quote(line.slice(0, -2))}`);
    }
    if (size === 0) {
      this.state = State.Trailers;
      this.trailerBytes = 0;
    } else {
      this.state = State.ChunkData;
      this.remaining = size;
    }
    return stop;
  }

  /** Trailer lines until the empty line that ends the message; checked, then dropped. */
  private readTrailers(data: Buffer, at: number, sink: ResponseSink): number {
    while (at < data.length) {
      const lf = data.indexOf(LF, at);
      const stop = lf < 0 ? data.length : lf + 1;
      this.trailerBytes += stop - at;
      if (this.trailerBytes > MAX_TRAILER_BYTES) throw new ResponseParseError('chunk', 'trailers too large');
      this.line += data.toString('latin1', at, stop);
      at = stop;
      if (lf < 0) return at;
      const line = this.line;
      this.line = '';
      if (line.length < 2 || line.charCodeAt(line.length - 2) !== CR) {
        throw new ResponseParseError('chunk', 'trailer line not ended by CRLF');
      }
      if (line.length === 2) {
        this.finish(sink);
        return at;
      }
      const content = line.slice(0, -2);
      const colon = content.indexOf(':');
      const name = content.slice(0, colon);
      if (colon <= 0 || !isTokenString(name)) {
        throw new ResponseParseError('chunk', `invalid trailer line ${quote(content)}`);
      }
      // Framing fields may not arrive after the body they would have framed (RFC 9110 section 6.5.1).
      if (sameName(name, 'content-length') || sameName(name, 'transfer-encoding')) {
        throw new ResponseParseError('chunk', `${name} in the trailers`);
      }
      for (let j = colon + 1; j < content.length; j++) {
        if (!isValueByte(content.charCodeAt(j)))
          throw new ResponseParseError('chunk', 'control byte in a trailer');
      }
    }
    return at;
  }
}

/**
 * A byte no head may carry: a control byte other than HTAB, or a CR and LF that are not a CRLF
 * pair. `partial` allows a CR as the very last byte (its LF is still to come).
 */
// eslint-disable-next-line no-control-regex -- control bytes are exactly what it looks for
const BAD_HEAD_BYTE = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)|(?<!\r)\n/;

// eslint-disable-next-line no-control-regex -- control bytes are exactly what it looks for
const LINE_BAD_BYTE = /[\x00-\x08\x0a-\x1f\x7f]/;

function checkHead(head: string, partial: boolean): void {
  const text = partial && head.endsWith('\r') ? head.slice(0, -1) : head;
  const m = BAD_HEAD_BYTE.exec(text);
  if (m === null) return;
  const c = m[0].charCodeAt(0);
  throw new ResponseParseError(
    'header',
    c === 0x0d
      ? 'a bare CR in the response head'
      : c === 0x0a
        ? 'a bare LF in the response head'
        : `control byte 0x${c.toString(16).padStart(2, '0')} in the response head`,
  );
}

/**
 * `line[from..to)` is a list of chunk extensions (RFC 9112 section 7.1.1): `;name` or
 * `;name=value`, the value a token or a quoted string, no whitespace (as llhttp requires).
 */
function validChunkExtensions(line: string, from: number, to: number): boolean {
  let i = from;
  while (i < to) {
    if (line.charCodeAt(i) !== 0x3b /* ; */) return false;
    const nameStart = ++i;
    while (i < to && TOKEN[line.charCodeAt(i)] === 1) i++;
    if (i === nameStart) return false;
    if (i === to || line.charCodeAt(i) === 0x3b) continue;
    if (line.charCodeAt(i) !== 0x3d /* = */) return false;
    i++;
    if (line.charCodeAt(i) === 0x22 /* " */) {
      i++;
      for (;;) {
        if (i >= to) return false;
        const c = line.charCodeAt(i);
        if (c === 0x22) break;
        if (c === 0x5c /* \\ */) i++;
        else if (!isValueByte(c)) return false;
        i++;
      }
      i++;
    } else {
      const valueStart = i;
      while (i < to && TOKEN[line.charCodeAt(i)] === 1) i++;
      if (i === valueStart) return false;
    }
  }
  return true;
}

/** The longest prefix every status line shares in form: `HTTP/1.x SSS`, then a space or its end. */
const STATUS_LINE_FORM = 'HTTP/1.';

/**
 * A head still arriving: its first line, complete or not, must be (the start of) a status line
 * that parseStatusLine would take; whole lines get parseStatusLine itself, so both agree.
 */
function checkStatusLineSoFar(partial: string): void {
  const eol = partial.indexOf('\r\n');
  if (eol >= 0) {
    parseStatusLine(partial.slice(0, eol));
    return;
  }
  // A CR at the very end is the start of the line's CRLF.
  const line = partial.endsWith('\r') ? partial.slice(0, -1) : partial;
  const n = Math.min(line.length, 13);
  for (let i = 0; i < n; i++) {
    const c = line.charCodeAt(i);
    const fits =
      i < 7
        ? c === STATUS_LINE_FORM.charCodeAt(i)
        : i === 7
          ? c === 0x30 || c === 0x31
          : i === 8 || i === 12
            ? c === 0x20
            : c >= 0x30 && c <= 0x39;
    if (!fits) {
      throw new ResponseParseError('status-line', `not an HTTP status line: ${quote(line)}`);
    }
  }
}

function parseStatusLine(line: string): { status: number; minor: number } {
  // HTTP/1.x SSS[ reason]
  if (line.length < 12 || !line.startsWith('HTTP/1.') || line.charCodeAt(8) !== 0x20) {
    throw new ResponseParseError('status-line', `invalid status line ${quote(line)}`);
  }
  const minorCode = line.charCodeAt(7);
  if (minorCode !== 0x30 && minorCode !== 0x31) {
    throw new ResponseParseError('status-line', `unsupported HTTP version in ${quote(line)}`);
  }
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const d = line.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) throw new ResponseParseError('status-line', `invalid status code in ${quote(line)}`);
    status = status * 10 + d;
  }
  if (line.length > 12 && line.charCodeAt(12) !== 0x20) {
    throw new ResponseParseError('status-line', `invalid status code in ${quote(line)}`);
  }
  return { status, minor: minorCode - 0x30 };
}

function parseContentLength(value: string): number {
  if (value.length === 0 || value.length > 15)
    throw new ResponseParseError('framing', `invalid Content-Length ${quote(value)}`);
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const d = value.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) throw new ResponseParseError('framing', `invalid Content-Length ${quote(value)}`);
    n = n * 10 + d;
  }
  return n;
}

function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}...` : s);
}
