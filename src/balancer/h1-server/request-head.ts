/**
 * The request head parser of the balancer's own HTTP/1.1 server: pure, strict and incremental.
 * It is held to llhttp (node:http's parser) without its lenient flags: whatever llhttp refuses is
 * refused here, and the few things refused here that llhttp lets through are named in
 * `EXTRA_REFUSALS` (the differential tests and `npm run fuzz:front` check both).
 *
 * The head is read line by line as bytes arrive (`HeadReader.feed`), so a bare LF, a bad request
 * line or a header line over the limit is refused as soon as it is seen, not when the client has
 * sent a whole head or the headers timeout ends. Framing is settled here too: one Content-Length
 * of digits only, Transfer-Encoding exactly `chunked` and never with Content-Length, Host exactly
 * once on HTTP/1.1, `Expect` only `100-continue`.
 */
import { METHODS } from 'node:http';
import { sameName } from '../headers.js';

/** A request head, parsed and checked. */
export interface RequestHead {
  method: string;
  /** As sent (origin, absolute or asterisk form). */
  target: string;
  /** 0 or 1 (HTTP/1.0 or HTTP/1.1). */
  minor: 0 | 1;
  /** [name, value, name, value, ...] as sent, values without surrounding whitespace. */
  rawHeaders: string[];
  /** -1 when the request has no Content-Length. */
  contentLength: number;
  chunked: boolean;
  /** What the client asked for (Connection, by version); the answer may still close. */
  keepAlive: boolean;
  /** Connection: upgrade with an Upgrade header (handed to the upgrade handler). */
  upgrade: boolean;
  expectContinue: boolean;
}

/** Why a head is refused: the status, and a sentence for the answer's body and the log line. */
export interface HeadRefusal {
  status: 400 | 405 | 408 | 413 | 414 | 417 | 431 | 501 | 505;
  reason: string;
}

export interface HeadLimits {
  /** The whole head (request line and header lines), as node's maxHeaderSize. */
  maxHeadBytes: number;
  /** The request line alone (nginx's 8 KiB buffer for it): longer is 414. */
  maxRequestLineBytes: number;
  /** Header fields at most (Apache's LimitRequestFields, HAProxy's 101). */
  maxHeaderFields: number;
}

export const DEFAULT_LIMITS: HeadLimits = {
  maxHeadBytes: 16 * 1024,
  maxRequestLineBytes: 8 * 1024,
  maxHeaderFields: 100,
};

/**
 * What this parser refuses that llhttp lets through, so a differential test can tell an intended
 * refusal from a bug (`extraRefusal` says which a refusal is). Each is a known way to smuggle a
 * request past a proxy, a limit of the balancer's own, or RFC 9112's grammar held where llhttp is
 * lenient and no client of a public listener needs the leniency.
 */
export const EXTRA_REFUSALS = [
  'CONNECT (this is not a forward proxy)',
  'a Transfer-Encoding other than exactly chunked',
  'Transfer-Encoding on HTTP/1.0',
  'more than one Host, or none on HTTP/1.1',
  'a target not in origin or absolute form, but * for OPTIONS (llhttp takes *x and authority-form for any method)',
  'a request line over maxRequestLineBytes (414), more than maxHeaderFields fields (431)',
  'an Expect other than 100-continue (417)',
  // Node 20's llhttp refuses these as well; parsers that take them exist (http_parser's lenient mode).
  'a control character (tab, form feed) in the request target',
  // Node 20's llhttp refuses it too; later ones (Node 26) take the tab as whitespace.
  'a tab after a Content-Length or Transfer-Encoding value',
  'HTTP/0.9 (a request line without a version), or a version but 1.0 and 1.1 (505; llhttp takes 2.0)',
  'more than one space between the parts of the request line',
  'a Content-Length over 15 digits or a chunk size over 13 hex digits (leading zeros aside)',
  'a chunk extension with an empty name or value, or a token and a quoted string as its value (RFC 9112 section 7.1.1)',
  'a trailer field that routes or frames a message (Host, Connection, TE, Trailer, Expect)',
] as const;

export type ExtraRefusal = (typeof EXTRA_REFUSALS)[number];

/**
 * Which of `EXTRA_REFUSALS` a refusal (of a head or a chunked body, or read off an answer) is, or undefined when it
 * is none: then llhttp refuses the same bytes, and a differential test that finds llhttp
 * accepting them has found a bug. Read from the refusal's status and reason, which say why.
 */
export function extraRefusal(refusal: { status: number; reason: string }): ExtraRefusal | undefined {
  const { status, reason } = refusal;
  if (status === 405 && reason.startsWith('CONNECT')) return 'CONNECT (this is not a forward proxy)';
  if (reason.startsWith('Transfer-Encoding "')) return 'a Transfer-Encoding other than exactly chunked';
  if (reason === 'Transfer-Encoding on an HTTP/1.0 request') return 'Transfer-Encoding on HTTP/1.0';
  if (reason === 'more than one Host header' || reason.startsWith('no Host header'))
    return 'more than one Host, or none on HTTP/1.1';
  if (reason.startsWith('asterisk-form') || reason.startsWith('malformed request target (origin'))
    return 'a target not in origin or absolute form, but * for OPTIONS (llhttp takes *x and authority-form for any method)';
  if (status === 414 || (status === 431 && reason.endsWith('header fields')))
    return 'a request line over maxRequestLineBytes (414), more than maxHeaderFields fields (431)';
  if (status === 417) return 'an Expect other than 100-continue (417)';
  if (reason === 'a control character in the request target')
    return 'a control character (tab, form feed) in the request target';
  if (reason.startsWith('a tab after the value of'))
    return 'a tab after a Content-Length or Transfer-Encoding value';
  if (status === 505 || reason === NO_VERSION)
    return 'HTTP/0.9 (a request line without a version), or a version but 1.0 and 1.1 (505; llhttp takes 2.0)';
  if (reason === MORE_THAN_ONE_SPACE) return 'more than one space between the parts of the request line';
  if (reason.endsWith(' is too large'))
    return 'a Content-Length over 15 digits or a chunk size over 13 hex digits (leading zeros aside)';
  if (reason.startsWith('a chunk extension without a') || reason.startsWith('a chunk extension value of'))
    return 'a chunk extension with an empty name or value, or a token and a quoted string as its value (RFC 9112 section 7.1.1)';
  if (reason.endsWith('trailer (framing fields are not allowed there)'))
    return 'a trailer field that routes or frames a message (Host, Connection, TE, Trailer, Expect)';
  return undefined;
}

/** node's methods are llhttp's: the same list on every Node line the project supports. */
const KNOWN_METHODS = new Set(METHODS);

/** tchar (RFC 9110 section 5.6.2): ! # $ % & ' * + - . ^ _ ` | ~ DIGIT ALPHA. */
export const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TOKEN[c] = 1;

/** field-value octets: HTAB, SP, VCHAR, obs-text (no other control character, no DEL). */
const VALUE = new Uint8Array(256);
VALUE[0x09] = 1;
for (let c = 0x20; c <= 0x7e; c++) VALUE[c] = 1;
for (let c = 0x80; c <= 0xff; c++) VALUE[c] = 1;

/**
 * request-target octets: visible ASCII only. llhttp refuses obs-text (0x80-0xff) anywhere in a
 * target, and so does this parser: a byte the node front refuses must not reach an upstream.
 */
const TARGET = new Uint8Array(256);
for (let c = 0x21; c <= 0x7e; c++) TARGET[c] = 1;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

/** RFC 9112 section 3: one SP between the parts (llhttp takes several). */
const MORE_THAN_ONE_SPACE = 'more than one space between the parts of the request line';
const NO_VERSION = 'a request line without an HTTP version (HTTP/0.9)';

export type FeedResult =
  | { kind: 'more' }
  | { kind: 'head'; head: RequestHead; end: number }
  | { kind: 'refused'; refusal: HeadRefusal };

const MORE: FeedResult = { kind: 'more' };

function refused(status: HeadRefusal['status'], reason: string): FeedResult {
  return { kind: 'refused', refusal: { status, reason } };
}

/**
 * Reads one request head out of a buffer that grows as bytes arrive. `feed(buf, from, to)` reads
 * the complete lines in buf[from, to) it has not read yet and says whether the head is done; the
 * caller keeps the bytes from `start` until then (the reader keeps offsets, not copies).
 */
export class HeadReader {
  /** Where the head begins in the caller's buffer (after any empty lines before it). */
  start = -1;
  /** Where the next line begins. */
  private line = 0;
  private method = '';
  private target = '';
  private minor: 0 | 1 = 1;
  private raw: string[] = [];
  private contentLength = -1;
  private chunked = false;
  private hosts = 0;
  private close = false;
  private keepAliveAsked = false;
  private upgradeAsked = false;
  private upgradeHeader = false;
  private expectContinue = false;

  constructor(private readonly limits: HeadLimits = DEFAULT_LIMITS) {}

  /** Forget the last head: the next feed starts a new one at `from`. */
  reset(from: number): void {
    this.start = -1;
    this.line = from;
    this.method = '';
    this.target = '';
    this.minor = 1;
    this.raw = [];
    this.contentLength = -1;
    this.chunked = false;
    this.hosts = 0;
    this.close = false;
    this.keepAliveAsked = false;
    this.upgradeAsked = false;
    this.upgradeHeader = false;
    this.expectContinue = false;
  }

  /** The buffer was compacted: every offset moves down by `by`. */
  shift(by: number): void {
    this.line -= by;
    if (this.start >= 0) this.start -= by;
  }

  /** Bytes of the head read so far (for the caller's limit on bytes it holds). */
  headBytes(to: number): number {
    return this.start < 0 ? 0 : to - this.start;
  }

  feed(buf: Buffer, to: number): FeedResult {
    const { limits } = this;
    let pos = this.line;
    if (this.start < 0) {
      // Empty lines before a request line are ignored (RFC 9112 section 2.2), as llhttp does.
      while (pos < to && (buf[pos] === CR || buf[pos] === LF)) pos++;
      if (pos === to) {
        this.line = pos;
        return MORE;
      }
      this.start = pos;
    }
    for (;;) {
      const lf = buf.indexOf(LF, pos);
      if (lf < 0 || lf >= to) {
        this.line = pos;
        const held = to - this.start;
        if (this.method === '' && to - pos > limits.maxRequestLineBytes)
          return refused(414, `the request line is over ${limits.maxRequestLineBytes} bytes`);
        if (held > limits.maxHeadBytes)
          return refused(431, `the request head is over ${limits.maxHeadBytes} bytes`);
        return MORE;
      }
      if (lf === pos || buf[lf - 1] !== CR) {
        // A request line of a method and a target alone is llhttp's HTTP/0.9, which takes a
        // bare LF after it: say it is the missing version that is refused (a named extra).
        if (this.method === '' && oneSpace(buf, pos, lf)) return refused(400, NO_VERSION);
        return refused(400, 'a line ends in a bare LF (CRLF expected)');
      }
      const end = lf - 1;
      if (lf + 1 - this.start > limits.maxHeadBytes)
        return refused(431, `the request head is over ${limits.maxHeadBytes} bytes`);
      if (this.method === '') {
        const problem = this.requestLine(buf, pos, end);
        if (problem !== undefined) return problem;
      } else if (end === pos) {
        return this.finish(lf + 1);
      } else {
        const problem = this.headerLine(buf, pos, end);
        if (problem !== undefined) return problem;
      }
      pos = lf + 1;
    }
  }

  private requestLine(buf: Buffer, from: number, end: number): FeedResult | undefined {
    if (end - from > this.limits.maxRequestLineBytes)
      return refused(414, `the request line is over ${this.limits.maxRequestLineBytes} bytes`);
    let i = from;
    while (i < end && TOKEN[buf[i] as number] === 1) i++;
    if (i === from || i === end || buf[i] !== SP) return refused(400, 'malformed request line (method)');
    const methodEnd = i;
    const targetStart = ++i;
    if (buf[i] === SP) return refused(400, MORE_THAN_ONE_SPACE);
    while (i < end && TARGET[buf[i] as number] === 1) i++;
    if (i === targetStart) return refused(400, 'malformed request line (no target)');
    // llhttp reads a line that ends after its target as an HTTP/0.9 request (headers and all).
    if (i === end) return refused(400, NO_VERSION);
    if (buf[i] !== SP) {
      const c = buf[i] as number;
      return refused(
        400,
        c === HTAB || c === 0x0c ? 'a control character in the request target' : 'malformed request target',
      );
    }
    const targetEnd = i;
    i++;
    if (buf[i] === SP) return refused(400, MORE_THAN_ONE_SPACE);
    if (
      end - i !== 8 ||
      buf[i] !== 0x48 ||
      buf[i + 1] !== 0x54 ||
      buf[i + 2] !== 0x54 ||
      buf[i + 3] !== 0x50 ||
      buf[i + 4] !== 0x2f ||
      buf[i + 6] !== 0x2e
    )
      return refused(400, 'malformed HTTP version');
    const major = (buf[i + 5] as number) - 0x30;
    const minor = (buf[i + 7] as number) - 0x30;
    if (major < 0 || major > 9 || minor < 0 || minor > 9) return refused(400, 'malformed HTTP version');
    // A well-formed line: only now is an unknown method a 501 rather than garbage (400).
    const method = buf.toString('latin1', from, methodEnd);
    // HTTP/2's connection preface: a client that speaks h2 where ALPN settled on HTTP/1.1.
    if (method === 'PRI' && major === 2)
      return refused(400, 'an HTTP/2 connection preface on an HTTP/1.1 connection');
    if (!KNOWN_METHODS.has(method)) return refused(501, `method ${method} is not implemented`);
    if (major !== 1 || minor > 1)
      return refused(505, `HTTP/${major}.${minor} is not supported (HTTP/1.0 and HTTP/1.1 are)`);
    if (method === 'CONNECT') return refused(405, 'CONNECT is not served: this is not a forward proxy');
    const target = buf.toString('latin1', targetStart, targetEnd);
    const form = targetProblem(method, target);
    if (form !== undefined) return refused(400, form);
    this.method = method;
    this.target = target;
    this.minor = minor as 0 | 1;
    return undefined;
  }

  private headerLine(buf: Buffer, from: number, end: number): FeedResult | undefined {
    const first = buf[from] as number;
    if (first === SP || first === HTAB) return refused(400, 'obsolete line folding in a header');
    let i = from;
    while (i < end && TOKEN[buf[i] as number] === 1) i++;
    if (i === end || buf[i] !== COLON) {
      const c = buf[i] as number;
      if (i > from && (c === SP || c === HTAB))
        return refused(400, 'whitespace between a header name and its colon');
      return refused(400, i === from ? 'a header line without a name' : 'a malformed header name');
    }
    if (i === from) return refused(400, 'a header line without a name');
    const name = buf.toString('latin1', from, i);
    i++;
    while (i < end && (buf[i] === SP || buf[i] === HTAB)) i++;
    let valueEnd = end;
    for (let j = i; j < end; j++) {
      if (VALUE[buf[j] as number] !== 1) return refused(400, `a forbidden character in the value of ${name}`);
    }
    let tabAfter = false;
    while (valueEnd > i && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) {
      if (buf[valueEnd - 1] === HTAB) tabAfter = true;
      valueEnd--;
    }
    const value = buf.toString('latin1', i, valueEnd);
    if (this.raw.length >= this.limits.maxHeaderFields * 2)
      return refused(431, `more than ${this.limits.maxHeaderFields} header fields`);
    this.raw.push(name, value);
    return this.noteField(name, value, tabAfter);
  }

  /**
   * The fields that frame or route the request, checked as they come. `tabAfter`: the value was
   * followed by a tab (trimmed from it), which llhttp refuses after a Content-Length or a
   * Transfer-Encoding (Node 20's; later ones take it as whitespace, as RFC 9110 does).
   */
  private noteField(name: string, value: string, tabAfter: boolean): FeedResult | undefined {
    switch (name.length) {
      case 4:
        if (sameName(name, 'host') && ++this.hosts > 1) return refused(400, 'more than one Host header');
        return undefined;
      case 6:
        if (!sameName(name, 'expect')) return undefined;
        if (!sameName(value, '100-continue')) return refused(417, `Expect "${value}" is not supported`);
        this.expectContinue = true;
        return undefined;
      case 7:
        if (sameName(name, 'upgrade')) this.upgradeHeader = true;
        return undefined;
      case 10:
        if (sameName(name, 'connection')) this.connectionTokens(value);
        return undefined;
      case 14:
        if (!sameName(name, 'content-length')) return undefined;
        if (tabAfter) return refused(400, `a tab after the value of ${name}`);
        if (this.contentLength >= 0) return refused(400, 'more than one Content-Length');
        if (this.chunked) return refused(400, 'both Content-Length and Transfer-Encoding');
        return this.length(value);
      case 17:
        if (!sameName(name, 'transfer-encoding')) return undefined;
        if (tabAfter) return refused(400, `a tab after the value of ${name}`);
        if (this.chunked || !sameName(value, 'chunked'))
          return refused(400, `Transfer-Encoding "${value}" is not supported (only chunked, once)`);
        if (this.contentLength >= 0) return refused(400, 'both Content-Length and Transfer-Encoding');
        if (this.minor === 0) return refused(400, 'Transfer-Encoding on an HTTP/1.0 request');
        this.chunked = true;
        return undefined;
      default:
        return undefined;
    }
  }

  private length(value: string): FeedResult | undefined {
    if (value.length === 0) return refused(400, 'malformed Content-Length ""');
    let n = 0;
    for (let i = 0; i < value.length; i++) {
      const d = value.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) return refused(400, `malformed Content-Length "${value}"`);
      // 15 digits at most past leading zeros (which llhttp takes): exact in a double.
      if (n >= 1e14) return refused(400, `Content-Length ${value} is too large`);
      n = n * 10 + d;
    }
    this.contentLength = n;
    return undefined;
  }

  private connectionTokens(value: string): void {
    if (sameName(value, 'keep-alive')) {
      this.keepAliveAsked = true;
      return;
    }
    if (sameName(value, 'close')) {
      this.close = true;
      return;
    }
    for (const token of value.split(',')) {
      const t = token.trim();
      if (sameName(t, 'close')) this.close = true;
      else if (sameName(t, 'keep-alive')) this.keepAliveAsked = true;
      else if (sameName(t, 'upgrade')) this.upgradeAsked = true;
    }
  }

  private finish(end: number): FeedResult {
    if (this.minor === 1 && this.hosts === 0) return refused(400, 'no Host header (HTTP/1.1 requires one)');
    const head: RequestHead = {
      method: this.method,
      target: this.target,
      minor: this.minor,
      rawHeaders: this.raw,
      contentLength: this.contentLength,
      chunked: this.chunked,
      keepAlive: !this.close && (this.minor === 1 || this.keepAliveAsked),
      upgrade: this.upgradeAsked && this.upgradeHeader,
      expectContinue: this.expectContinue && this.minor === 1,
    };
    return { kind: 'head', head, end };
  }
}

/** Whether buf[from, to) holds exactly one space (a method and a target, no version). */
function oneSpace(buf: Buffer, from: number, to: number): boolean {
  const sp = buf.indexOf(SP, from);
  if (sp < 0 || sp >= to) return false;
  const next = buf.indexOf(SP, sp + 1);
  return next < 0 || next >= to;
}

/** Whether the target's form suits the method (RFC 9112 section 3.2), or why not. */
function targetProblem(method: string, target: string): string | undefined {
  const first = target.charCodeAt(0);
  if (first === 0x2f /* / */) return undefined;
  if (target === '*')
    return method === 'OPTIONS' ? undefined : `asterisk-form is only for OPTIONS, not ${method}`;
  // absolute-form: a scheme, then "://" (the request path checks the scheme and keeps the path).
  // The scheme is letters only, as llhttp reads it (RFC 3986's digits, +, - and . it refuses).
  const colon = target.indexOf('://');
  if (colon > 0 && /^[A-Za-z]+$/.test(target.slice(0, colon))) {
    // The authority: llhttp refuses these in it (not in the path or query after it).
    return /^[^/?]*["#<>\\^`{|}]/.test(target.slice(colon + 3))
      ? 'malformed authority in an absolute-form request target'
      : undefined;
  }
  return 'malformed request target (origin or absolute form expected)';
}
