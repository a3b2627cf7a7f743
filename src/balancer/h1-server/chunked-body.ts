/**
 * The chunked request body decoder of the balancer's own HTTP/1.1 server: pure and incremental,
 * held to llhttp as the head parser is (request-head.ts). Chunk sizes are hex digits only (no
 * sign, no whitespace, no overflow); extensions are `;name` or `;name=token` or
 * `;name="quoted"` and at most 16 KiB a chunk (node's limit, 413 over it); every line ends in
 * CRLF; the data of a chunk is followed by CRLF; trailers are header lines and never a field that
 * frames or routes a message. Trailers are read and dropped: the engines frame what they send
 * upstream themselves.
 */
import { TOKEN, type HeadRefusal } from './request-head.js';

/** Where the decoder is in the body. */
const enum State {
  Size,
  ExtNameStart,
  ExtName,
  ExtValueStart,
  ExtToken,
  ExtQuoted,
  ExtQuotedEscape,
  ExtAfterQuote,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  Trailer,
  TrailerLf,
  EndLf,
  Done,
}

/** node's limit on one chunk's extensions (HPE_CHUNK_EXTENSIONS_OVERFLOW). */
export const MAX_EXTENSION_BYTES = 16 * 1024;
/** The trailer section at most, as a head. */
const MAX_TRAILER_BYTES = 16 * 1024;
/**
 * A chunk size of 13 hex digits at most, past leading zeros (which llhttp takes): under 2^52,
 * exact in a double and far past any buffer. A size this big before another digit is refused.
 */
const MAX_SIZE_BEFORE_DIGIT = 16 ** 12;

const CR = 0x0d;
const LF = 0x0a;

/** qdtext (RFC 9110 section 5.6.4): HTAB, SP, VCHAR but " and \, obs-text. */
const QDTEXT = new Uint8Array(256);
QDTEXT[0x09] = 1;
for (let c = 0x20; c <= 0x7e; c++) QDTEXT[c] = 1;
QDTEXT[0x22] = 0;
QDTEXT[0x5c] = 0;
for (let c = 0x80; c <= 0xff; c++) QDTEXT[c] = 1;

/** Names no trailer may carry: they frame or route a message, and could be read as if they did. */
const FRAMING = new Set([
  'content-length',
  'transfer-encoding',
  'host',
  'trailer',
  'connection',
  'te',
  'expect',
]);

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Receives the body's data, as ranges of the buffer being fed (valid during the call). */
export type ChunkSink = (buf: Buffer, start: number, end: number) => void;

export class ChunkedDecoder {
  private state = State.Size;
  private size = 0;
  private digits = 0;
  private remaining = 0;
  private extBytes = 0;
  private trailer = '';
  private trailerBytes = 0;
  /** Set when the body was refused. */
  refusal: HeadRefusal | null = null;

  constructor(private readonly sink: ChunkSink) {}

  get done(): boolean {
    return this.state === State.Done;
  }

  /** Start a new body. */
  reset(): void {
    this.state = State.Size;
    this.size = 0;
    this.digits = 0;
    this.remaining = 0;
    this.extBytes = 0;
    this.trailer = '';
    this.trailerBytes = 0;
    this.refusal = null;
  }

  /**
   * Decode buf[from, to): data goes to the sink. Returns where the body ended (the byte after its
   * last CRLF) once it has, `to` when it needs more, or -1 when it was refused (`refusal` says why).
   */
  feed(buf: Buffer, from: number, to: number): number {
    let pos = from;
    while (pos < to) {
      if (this.state === State.Data) {
        const n = Math.min(this.remaining, to - pos);
        this.sink(buf, pos, pos + n);
        pos += n;
        this.remaining -= n;
        if (this.remaining === 0) this.state = State.DataCr;
        continue;
      }
      const c = buf[pos++] as number;
      if (!this.step(c)) return -1;
      if (this.state === State.Done) return pos;
    }
    return to;
  }

  private fail(status: HeadRefusal['status'], reason: string): false {
    this.refusal = { status, reason };
    return false;
  }

  /** One byte outside chunk data. */
  private step(c: number): boolean {
    switch (this.state) {
      case State.Size: {
        const d = hexValue(c);
        if (d >= 0) {
          if (this.size >= MAX_SIZE_BEFORE_DIGIT) return this.fail(400, 'a chunk size is too large');
          this.digits++;
          this.size = this.size * 16 + d;
          return true;
        }
        if (this.digits === 0) return this.fail(400, 'malformed chunk size');
        if (c === 0x3b /* ; */) return this.extension(State.ExtNameStart);
        if (c === CR) {
          this.state = State.SizeLf;
          return true;
        }
        return this.fail(400, 'malformed chunk size');
      }
      case State.ExtNameStart:
        // An empty name (`;=`, `;;`), which llhttp takes in places: a named extra (extraRefusal).
        if (c === 0x3d || c === 0x3b) return this.fail(400, 'a chunk extension without a name');
        if (TOKEN[c] !== 1) return this.fail(400, 'malformed chunk extension');
        return this.extension(State.ExtName);
      case State.ExtName:
        if (TOKEN[c] === 1) return this.extension(State.ExtName);
        if (c === 0x3d /* = */) return this.extension(State.ExtValueStart);
        return this.extensionEnd(c);
      case State.ExtValueStart:
        if (c === 0x22 /* " */) return this.extension(State.ExtQuoted);
        // `;a=` with nothing after, which llhttp takes: a named extra (extraRefusal).
        if (c === CR || c === 0x3b) return this.fail(400, 'a chunk extension without a value after "="');
        if (TOKEN[c] !== 1) return this.fail(400, 'malformed chunk extension value');
        return this.extension(State.ExtToken);
      case State.ExtToken:
        if (TOKEN[c] === 1) return this.extension(State.ExtToken);
        // `;a=b"c"`, which llhttp takes: a named extra (extraRefusal).
        if (c === 0x22) return this.fail(400, 'a chunk extension value of a token and a quoted string');
        return this.extensionEnd(c);
      case State.ExtQuoted:
        if (c === 0x22) return this.extension(State.ExtAfterQuote);
        if (c === 0x5c /* \ */) return this.extension(State.ExtQuotedEscape);
        if (QDTEXT[c] !== 1) return this.fail(400, 'malformed quoted chunk extension value');
        return this.extension(State.ExtQuoted);
      case State.ExtQuotedEscape:
        if (c !== 0x09 && (c < 0x20 || c === 0x7f))
          return this.fail(400, 'malformed quoted chunk extension value');
        return this.extension(State.ExtQuoted);
      case State.ExtAfterQuote:
        return this.extensionEnd(c);
      case State.SizeLf:
        if (c !== LF) return this.fail(400, 'a chunk size line does not end in CRLF');
        this.extBytes = 0;
        if (this.size === 0) {
          this.state = State.TrailerStart;
        } else {
          this.remaining = this.size;
          this.state = State.Data;
        }
        return true;
      case State.DataCr:
        if (c !== CR) return this.fail(400, 'chunk data is not followed by CRLF');
        this.state = State.DataLf;
        return true;
      case State.DataLf:
        if (c !== LF) return this.fail(400, 'chunk data is not followed by CRLF');
        this.state = State.Size;
        this.size = 0;
        this.digits = 0;
        return true;
      case State.TrailerStart:
        if (c === CR) {
          this.state = State.EndLf;
          return true;
        }
        this.trailer = '';
        this.state = State.Trailer;
        return this.trailerByte(c);
      case State.Trailer:
        if (c === CR) {
          this.state = State.TrailerLf;
          return true;
        }
        return this.trailerByte(c);
      case State.TrailerLf:
        if (c !== LF) return this.fail(400, 'a trailer line does not end in CRLF');
        if (!this.trailerLine()) return false;
        this.state = State.TrailerStart;
        return true;
      case State.EndLf:
        if (c !== LF) return this.fail(400, 'the chunked body does not end in CRLF');
        this.state = State.Done;
        return true;
      default:
        return this.fail(400, 'bytes after the end of a chunked body');
    }
  }

  private extension(next: State): boolean {
    if (++this.extBytes > MAX_EXTENSION_BYTES)
      return this.fail(413, `chunk extensions over ${MAX_EXTENSION_BYTES} bytes`);
    this.state = next;
    return true;
  }

  /** After an extension's name or value: another extension, or the end of the size line. */
  private extensionEnd(c: number): boolean {
    if (c === 0x3b) return this.extension(State.ExtNameStart);
    if (c === CR) {
      this.state = State.SizeLf;
      return true;
    }
    return this.fail(400, 'malformed chunk extension');
  }

  private trailerByte(c: number): boolean {
    if (++this.trailerBytes > MAX_TRAILER_BYTES)
      return this.fail(400, `trailers over ${MAX_TRAILER_BYTES} bytes`);
    if (c === LF) return this.fail(400, 'a trailer line ends in a bare LF');
    if (c !== 0x09 && (c < 0x20 || c === 0x7f)) return this.fail(400, 'a control character in a trailer');
    this.trailer += String.fromCharCode(c);
    return true;
  }

  /** A whole trailer line: a header field, not one that frames the message. */
  private trailerLine(): boolean {
    const line = this.trailer;
    const colon = line.indexOf(':');
    if (colon <= 0) return this.fail(400, 'a malformed trailer');
    for (let i = 0; i < colon; i++) {
      if (TOKEN[line.charCodeAt(i)] !== 1) return this.fail(400, 'a malformed trailer name');
    }
    const name = line.slice(0, colon).toLowerCase();
    if (FRAMING.has(name)) return this.fail(400, `a ${name} trailer (framing fields are not allowed there)`);
    return true;
  }
}
