import { RsError } from '../errors.ts';

/**
 * Bencode codec for the CJDHT content of handler frames and for the cjdns admin API.
 *
 * Why not just call the `bencode` package (webtorrent, 4.x)? It is the reference we test against
 * (test/unit/protocol/bencode.test.ts checks both directions against it), but on untrusted bytes it
 * is unsafe to use directly: it does no bounds checking (a string length past the end is silently
 * truncated), throws plain `Error`s or recurses until `RangeError` on deep nesting, ignores trailing
 * garbage, accepts floats (`i1.5e`) and `+` signs, loses precision past 2^53, and turns dictionary
 * keys that are not valid UTF-8 into hex. Its encoder silently drops `bigint` values. Normalising
 * its input would need a full validating pass, which *is* a decoder, so this file holds a small
 * decoder that is strict about structure and tolerant where cjdns needs it, and an encoder that
 * produces the same bytes as bencode 0.10 (which cjdnsniff used for replies).
 *
 * Decoding rules:
 * - byte strings stay bytes (`Uint8Array`, copied out of the input), never text;
 * - integers: optional `-`, then at least one digit; leading zeros are accepted because cjdns has
 *   emitted `i042e` (and `002:ei` for string lengths, likewise accepted). `-0` reads as 0. They
 *   must fit in a signed 64-bit integer (cjdns `Benc` uses int64_t); they are returned as `number`
 *   when safe (|x| <= 2^53-1), as `bigint` otherwise;
 * - dictionary keys are byte strings read as UTF-8 (invalid sequences become U+FFFD, which is what
 *   `Buffer#toString()` did in bencode 0.10); order is not checked; a repeated key keeps the last
 *   value (as in JS);
 * - nesting deeper than `maxDepth` (default 32) and any byte after the top-level value are errors.
 * Every failure is an RsError with code RS_ERR_BENCODE_INVALID.
 */

export type BValue = number | bigint | Uint8Array | BValue[] | { [k: string]: BValue };
export type BDict = { [k: string]: BValue };

/**
 * What the encoder accepts: decoded values plus JS strings (written as their UTF-8 bytes).
 * `undefined` dictionary values are skipped, as bencode 0.10 skipped `null`/`undefined`.
 */
export type BInput =
  | number
  | bigint
  | string
  | Uint8Array
  | readonly BInput[]
  | { readonly [k: string]: BInput | undefined };

/** Nesting limit for decode and encode. cjdns messages nest at most 3 levels. */
export const BENCODE_MAX_DEPTH = 32;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

const CH_D = 0x64; // 'd'
const CH_L = 0x6c; // 'l'
const CH_I = 0x69; // 'i'
const CH_E = 0x65; // 'e'
const CH_COLON = 0x3a;
const CH_MINUS = 0x2d;
const CH_0 = 0x30;
const CH_9 = 0x39;

const utf8Decoder = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();

function invalid(message: string, offset: number): RsError {
  return new RsError('RS_ERR_BENCODE_INVALID', `invalid bencode: ${message} at offset ${offset}`, {
    context: { offset },
  });
}

/** Own enumerable property even for `__proto__` (plain assignment would set the prototype). */
function setKey(dict: BDict, key: string, value: BValue): void {
  if (key === '__proto__') {
    Object.defineProperty(dict, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    dict[key] = value;
  }
}

class Decoder {
  private pos = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly maxDepth: number,
  ) {}

  decodeAll(): BValue {
    if (this.bytes.length === 0) throw invalid('empty input', 0);
    const v = this.value(0);
    if (this.pos !== this.bytes.length) {
      throw invalid(`${this.bytes.length - this.pos} trailing byte(s)`, this.pos);
    }
    return v;
  }

  private peek(): number {
    if (this.pos >= this.bytes.length) throw invalid('unexpected end of input', this.pos);
    return this.bytes[this.pos]!;
  }

  private value(depth: number): BValue {
    const c = this.peek();
    if (c === CH_I) return this.integer();
    if (c >= CH_0 && c <= CH_9) return this.byteString();
    if (c === CH_L || c === CH_D) {
      if (depth >= this.maxDepth) throw invalid(`nesting deeper than ${this.maxDepth}`, this.pos);
      return c === CH_L ? this.list(depth + 1) : this.dict(depth + 1);
    }
    throw invalid(`unexpected byte 0x${c.toString(16).padStart(2, '0')}`, this.pos);
  }

  private list(depth: number): BValue[] {
    this.pos++; // 'l'
    const out: BValue[] = [];
    while (this.peek() !== CH_E) out.push(this.value(depth));
    this.pos++; // 'e'
    return out;
  }

  private dict(depth: number): BDict {
    this.pos++; // 'd'
    const out: BDict = {};
    while (this.peek() !== CH_E) {
      const c = this.peek();
      if (c < CH_0 || c > CH_9) throw invalid('dictionary key is not a byte string', this.pos);
      const key = utf8Decoder.decode(this.byteString());
      setKey(out, key, this.value(depth));
    }
    this.pos++; // 'e'
    return out;
  }

  /** Digits up to `terminator`; leading zeros allowed; returns the digits without leading zeros. */
  private digits(terminator: number, what: string): string {
    const start = this.pos;
    let firstSignificant = -1;
    for (;;) {
      const c = this.peek();
      if (c === terminator) break;
      if (c < CH_0 || c > CH_9) throw invalid(`non-digit in ${what}`, this.pos);
      if (firstSignificant < 0 && c !== CH_0) firstSignificant = this.pos;
      this.pos++;
      // 19 significant digits hold any int64; more cannot be valid whatever the zeros before them
      if (firstSignificant >= 0 && this.pos - firstSignificant > 19)
        throw invalid(`${what} too large`, start);
    }
    if (this.pos === start) throw invalid(`empty ${what}`, start);
    const digits = firstSignificant < 0 ? '0' : ascii(this.bytes, firstSignificant, this.pos);
    this.pos++; // terminator
    return digits;
  }

  private integer(): number | bigint {
    const start = this.pos;
    this.pos++; // 'i'
    let negative = false;
    if (this.peek() === CH_MINUS) {
      negative = true;
      this.pos++;
    }
    const big = BigInt(this.digits(CH_E, 'integer'));
    const v = negative ? -big : big;
    if (v < INT64_MIN || v > INT64_MAX)
      throw invalid('integer outside the signed 64-bit range', start);
    return v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : v;
  }

  private byteString(): Uint8Array {
    const start = this.pos;
    const len = Number(this.digits(CH_COLON, 'string length'));
    if (len > this.bytes.length - this.pos)
      throw invalid(`string of ${len} bytes runs past the end`, start);
    const out = this.bytes.slice(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
}

function ascii(bytes: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** Decode one complete bencoded value. Throws RsError RS_ERR_BENCODE_INVALID, nothing else. */
export function bencodeDecode(bytes: Uint8Array, opts: { maxDepth?: number } = {}): BValue {
  return new Decoder(bytes, opts.maxDepth ?? BENCODE_MAX_DEPTH).decodeAll();
}

/**
 * Encode like bencode 0.10: dictionary keys sorted with `Array.prototype.sort()` (UTF-16 code
 * unit order; for the ASCII keys of cjdns this is raw byte order), `undefined` values skipped,
 * integers in decimal. Rejects (RsError RS_ERR_BENCODE_INVALID) non-integer, unsafe or non-finite
 * numbers, bigints outside int64, `undefined`/`null` list items and anything else unencodable,
 * and nesting deeper than `BENCODE_MAX_DEPTH` (which also stops cycles).
 */
export function bencodeEncode(value: BInput): Uint8Array {
  const parts: Uint8Array[] = [];
  encodeInto(parts, value, 0);
  return new Uint8Array(Buffer.concat(parts));
}

const B_D = Uint8Array.of(CH_D);
const B_L = Uint8Array.of(CH_L);
const B_E = Uint8Array.of(CH_E);

function encodeBytes(parts: Uint8Array[], b: Uint8Array): void {
  parts.push(utf8Encoder.encode(`${b.length}:`), b);
}

function encodeInto(parts: Uint8Array[], v: unknown, depth: number): void {
  if (v instanceof Uint8Array) return encodeBytes(parts, v);
  if (typeof v === 'string') return encodeBytes(parts, utf8Encoder.encode(v));
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) {
      throw new RsError('RS_ERR_BENCODE_INVALID', `cannot bencode number ${v}: not a safe integer`);
    }
    parts.push(utf8Encoder.encode(`i${Object.is(v, -0) ? 0 : v}e`));
    return;
  }
  if (typeof v === 'bigint') {
    if (v < INT64_MIN || v > INT64_MAX) {
      throw new RsError(
        'RS_ERR_BENCODE_INVALID',
        `cannot bencode ${v}: outside the signed 64-bit range`,
      );
    }
    parts.push(utf8Encoder.encode(`i${v}e`));
    return;
  }
  if (typeof v === 'object' && v !== null) {
    if (depth >= BENCODE_MAX_DEPTH) {
      throw new RsError(
        'RS_ERR_BENCODE_INVALID',
        `cannot bencode: nesting deeper than ${BENCODE_MAX_DEPTH}`,
      );
    }
    if (Array.isArray(v)) {
      parts.push(B_L);
      for (const item of v) encodeInto(parts, item, depth + 1);
      parts.push(B_E);
      return;
    }
    if (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null) {
      const o = v as Record<string, unknown>;
      parts.push(B_D);
      for (const k of Object.keys(o).sort()) {
        const item = o[k];
        if (item === undefined) continue;
        encodeBytes(parts, utf8Encoder.encode(k));
        encodeInto(parts, item, depth + 1);
      }
      parts.push(B_E);
      return;
    }
  }
  throw new RsError(
    'RS_ERR_BENCODE_INVALID',
    `cannot bencode a value of type ${v === null ? 'null' : typeof v}`,
  );
}

// ---- helpers for reading decoded values -------------------------------------------------------

export function isBDict(v: unknown): v is BDict {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** The byte string itself, or undefined if `v` is not a byte string. */
export function bbytes(v: BValue | undefined): Uint8Array | undefined {
  return v instanceof Uint8Array ? v : undefined;
}

/** UTF-8 text of a byte string (lossy, like `Buffer#toString()`), or undefined if not a byte string. */
export function bstr(v: BValue | undefined): string | undefined {
  return v instanceof Uint8Array ? utf8Decoder.decode(v) : undefined;
}

/** An integer that fits in a JS number, or undefined. */
export function bint(v: BValue | undefined): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

export function blist(v: BValue | undefined): BValue[] | undefined {
  return Array.isArray(v) ? v : undefined;
}

export function bdict(v: BValue | undefined): BDict | undefined {
  return isBDict(v) ? v : undefined;
}

/** UTF-8 bytes of a JS string (for building byte-string values). */
export function utf8Bytes(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}
