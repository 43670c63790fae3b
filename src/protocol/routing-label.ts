/**
 * Routing labels (docs/protocol.md §3): 64-bit unsigned integers held as `bigint`, read right to
 * left. The first hop's director sits in the least significant bits and the most significant set
 * bit terminates the label. String form `xxxx.xxxx.xxxx.xxxx`; self route `0000.0000.0000.0001`.
 *
 * Where cjdns C and the original JS (cjdnsplice) disagree, the plain name has the C behaviour and
 * the JS behaviour has a `Js` suffix — except {@link reEncode} and {@link unsplice}, which keep the
 * JS behaviour the route server's replies depend on ({@link reEncodeC} is the C one).
 * All functions here are pure and allocation-light: they run on the route hot path.
 */
import { RsError, type ErrorCode } from '../errors.ts';
import type { EncodingForm, EncodingScheme } from './encoding-scheme-types.ts';
import { isV358, printScheme } from './encoding-scheme.ts';

/** Labels the server handles have at most this many bits (docs/protocol.md §3.1). */
export const MAX_LABEL_BITS = 60;
export const SELF_ROUTE = 1n;
/** What C `LabelSplicer_splice` and JS `splice` return on failure. */
export const LABEL_ALL_ONES = 0xffff_ffff_ffff_ffffn;
/** cjdnsplice `FORM_CANNONICAL`; printed in its error messages. */
const JS_FORM_CANONICAL = -5000;

export type DesiredForm = number | 'canonical';

const U64_LIMIT = 1n << 64n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const TWO_32 = 2 ** 32;
const LABEL_LIMIT = 1n << BigInt(MAX_LABEL_BITS);
/** BigInt(i) for 0..64, so shifts by a form size do not allocate a new BigInt each time. */
const BIG: readonly bigint[] = Array.from({ length: 65 }, (_, i) => BigInt(i));
/** (1 << i) - 1 for 0..64. */
const MASK: readonly bigint[] = BIG.map((b) => (1n << b) - 1n);

function big(n: number): bigint {
  return n >= 0 && n <= 64 ? BIG[n]! : BigInt(n);
}

function mask(n: number): bigint {
  return n >= 0 && n <= 64 ? MASK[n]! : (1n << BigInt(n)) - 1n;
}

// ---------------------------------------------------------------------------------------------
// string form

const LABEL_RE = /^([0-9a-fA-F]{4})\.([0-9a-fA-F]{4})\.([0-9a-fA-F]{4})\.([0-9a-fA-F]{4})$/;

/**
 * Strict `xxxx.xxxx.xxxx.xxxx` (either case), as Rust `RoutingLabel::try_from`. The all-zero label
 * is not a routing label and is rejected unless `allowZero` (it is a valid withdrawal label in a
 * Peer entity). Failures are RS_ERR_LABEL_INVALID. (JS does not validate label strings at all.)
 */
export function parseLabel(str: string, opts?: { allowZero?: boolean }): bigint {
  const m = typeof str === 'string' ? LABEL_RE.exec(str) : null;
  if (m === null) {
    throw new RsError(
      'RS_ERR_LABEL_INVALID',
      `not a valid routing label: ${JSON.stringify(String(str).slice(0, 40))}`,
    );
  }
  const label = BigInt('0x' + m[1]! + m[2]! + m[3]! + m[4]!);
  if (label === 0n && opts?.allowZero !== true) {
    throw new RsError('RS_ERR_LABEL_INVALID', 'routing label is all zeroes');
  }
  return label;
}

const HEX_DIGITS = '0123456789abcdef';
const labelCodes: number[] = new Array<number>(19).fill(0x2e); // '.' where no digit is written

/** Write the 8 hex digits of `word` (< 2^32) into `labelCodes` from character `at` on. */
function putWord(word: number, at: number): void {
  for (let i = 7; i >= 0; i--) {
    const pos = at + i + (i >= 4 ? 1 : 0);
    labelCodes[pos] = HEX_DIGITS.charCodeAt(word & 15);
    word >>>= 4;
  }
}

/**
 * `0000.0003.64b5.10e5`; RS_ERR_LABEL_INVALID outside 0..2^64-1. Built from char codes into one
 * flat string (it runs once per hop of every `/path` answer): no hex, padded and sliced
 * intermediates, and no BigInt arithmetic for labels below 2^53.
 */
export function formatLabel(label: bigint): string {
  if (label < 0n || label >= U64_LIMIT) {
    throw new RsError('RS_ERR_LABEL_INVALID', `label out of 64-bit range: ${label}`);
  }
  let hi: number;
  let lo: number;
  if (label <= MAX_SAFE) {
    const n = Number(label);
    lo = n % TWO_32;
    hi = (n - lo) / TWO_32;
  } else {
    hi = Number(label >> 32n);
    lo = Number(label & 0xffff_ffffn);
  }
  putWord(hi, 0);
  putWord(lo, 10);
  return String.fromCharCode.apply(null, labelCodes);
}

// ---------------------------------------------------------------------------------------------
// bit helpers

/** Number of significant bits (0 for 0). `label` must be non-negative. */
export function labelBitLength(label: bigint): number {
  if (label <= 0xffff_ffffn) {
    const n = Number(label);
    return n <= 0 ? 0 : 32 - Math.clz32(n);
  }
  // below 2^53 the high word is exact in a Number: no BigInt shift
  if (label <= MAX_SAFE) return 64 - Math.clz32(Math.floor(Number(label) / TWO_32));
  if (label < U64_LIMIT) return 64 - Math.clz32(Number(label >> 32n));
  return label.toString(2).length;
}

/** Index of the highest set bit; 0 for 0 (C `Bits_log2x64`). */
export function log2(label: bigint): number {
  const n = labelBitLength(label);
  return n === 0 ? 0 : n - 1;
}

function log2Number(n: number): number {
  return n <= 0 ? 0 : 31 - Math.clz32(n);
}

// ---------------------------------------------------------------------------------------------
// encoding forms

/**
 * cjdnsplice `getEncodingForm`: index of the first form (scheme order) whose `prefixLen` low bits
 * equal its prefix; a form with prefixLen 0 matches anything; −1 if none (docs/protocol.md §3.2).
 */
export function getEncodingForm(label: bigint, scheme: EncodingScheme): number {
  const low = lowWord(label);
  for (let i = 0; i < scheme.length; i++) {
    const f = scheme[i]!;
    const m = f.prefixLen >= 32 ? 0xffffffff : 2 ** f.prefixLen - 1;
    if ((low & m) >>> 0 === (f.prefix & m) >>> 0) return i;
  }
  return -1;
}

/** The low 32 bits of `label` (two's complement for a negative one), without BigInt arithmetic below 2^53. */
function lowWord(label: bigint): number {
  if (label >= 0n && label <= MAX_SAFE) return Number(label) % TWO_32;
  return Number(BigInt.asUintN(32, label));
}

/** C `EncodingScheme_getFormNum`: a one-form scheme is form 0 without looking. */
function getFormNumC(label: bigint, scheme: EncodingScheme): number {
  return scheme.length === 1 ? 0 : getEncodingForm(label, scheme);
}

function formSize(f: EncodingForm): number {
  return f.bitCount + f.prefixLen;
}

function reEncodeError(
  code: ErrorCode,
  label: bigint,
  scheme: EncodingScheme,
  desired: DesiredForm,
  reason: string,
): RsError {
  const formNum = desired === 'canonical' ? JS_FORM_CANONICAL : desired;
  return new RsError(
    code,
    `Failed to reencode ${formatLabel(BigInt.asUintN(64, label))} to form ${formNum} in scheme ${printScheme(scheme)}`,
    { context: { reason } },
  );
}

/** cjdnsplice canonical choice: the form with the smallest bitCount ≥ the director's bit length. */
function canonicalFormJs(dir: number, scheme: EncodingScheme): number {
  const bitLen = dir === 0 ? 0 : log2Number(dir) + 1;
  let best = -1;
  for (let i = 0; i < scheme.length; i++) {
    const bc = scheme[i]!.bitCount;
    if (bc < bitLen) continue;
    if (best > -1 && bc >= scheme[best]!.bitCount) continue;
    best = i;
  }
  return best;
}

/**
 * cjdnsplice `reEncode` (docs/protocol.md §3.4), the one the route server uses: re-encode the first director
 * of `label` into form `desiredForm` (or the canonical form). For v358 the director numbering is
 * adjusted (docs/protocol.md §3.3), including the JS quirk: a form-1 director `00111` asked for form 0, or
 * any form-2 director `00000111`, is not adjusted but is still written in the requested form.
 * Errors (message as JS: `Failed to reencode <label> to form <n> in scheme <name>`):
 * RS_ERR_LABEL_NO_FORM, RS_ERR_LABEL_BAD_FORM, RS_ERR_LABEL_SELF_ROUTE,
 * RS_ERR_LABEL_DIRECTOR_TOO_WIDE, RS_ERR_LABEL_TOO_LONG (result over 60 bits).
 */
export function reEncode(label: bigint, scheme: EncodingScheme, desiredForm: DesiredForm): bigint {
  const formN = getEncodingForm(label, scheme);
  if (formN < 0) {
    throw reEncodeError(
      'RS_ERR_LABEL_NO_FORM',
      label,
      scheme,
      desiredForm,
      'could not detect encoding form',
    );
  }
  const cur = scheme[formN]!;
  let dir = Number((label >> big(cur.prefixLen)) & mask(cur.bitCount));
  const rest = label >> big(formSize(cur));

  const desiredN = desiredForm === 'canonical' ? canonicalFormJs(dir, scheme) : desiredForm;
  const next = Number.isInteger(desiredN) && desiredN >= 0 ? scheme[desiredN] : undefined;
  if (next === undefined) {
    throw reEncodeError(
      'RS_ERR_LABEL_BAD_FORM',
      label,
      scheme,
      desiredForm,
      'invalid desiredFormNum',
    );
  }

  if (isV358(scheme)) {
    // JS: `desiredFormN === 0 && dir === '00111' || dir === '00000111'` (precedence bug) switches
    // the numbering target to form 1, but `next` (the form written) stays as requested.
    let numberingN = desiredN;
    if ((desiredN === 0 && cur.bitCount === 5 && dir === 7) || (cur.bitCount === 8 && dir === 7)) {
      numberingN = 1;
    }
    if (formN === 0) {
      if (dir === 0) {
        throw reEncodeError(
          'RS_ERR_LABEL_SELF_ROUTE',
          label,
          scheme,
          desiredForm,
          'cannot re-encode self-route',
        );
      }
      dir = dir === 1 ? 0 : dir - 1;
    }
    if (numberingN === 0) dir = dir === 0 ? 1 : dir + 1;
  }

  if (dir > 2 ** next.bitCount - 1) {
    throw reEncodeError(
      'RS_ERR_LABEL_DIRECTOR_TOO_WIDE',
      label,
      scheme,
      desiredForm,
      'length cannot be reduced',
    );
  }
  const out =
    (((rest << big(next.bitCount)) | BigInt(dir)) << big(next.prefixLen)) |
    (BigInt(next.prefix) & mask(next.prefixLen));
  if (out >= LABEL_LIMIT) {
    throw reEncodeError(
      'RS_ERR_LABEL_TOO_LONG',
      label,
      scheme,
      desiredForm,
      'length cannot be reduced',
    );
  }
  return out;
}

function convertError(
  code: ErrorCode,
  label: bigint,
  convertTo: DesiredForm,
  reason: string,
): RsError {
  return new RsError(code, `EncodingScheme_convertLabel_INVALID: ${reason}`, {
    context: { label: formatLabel(BigInt.asUintN(64, label)), convertTo },
  });
}

/**
 * C `EncodingScheme_convertLabel`. Differs from {@link reEncode} only when narrowing or for the
 * self route: the v358 renumbering is done on interface numbers (no JS quirk), a self route
 * converts to form 0/canonical unchanged, a one-form scheme only to form 0, and "canonical"
 * counts the extra number a non-`1`-prefix form can hold. C's INVALID return becomes an RsError
 * (codes as for {@link reEncode}).
 */
export function reEncodeC(label: bigint, scheme: EncodingScheme, convertTo: DesiredForm): bigint {
  const formNum = getFormNumC(label, scheme);
  if (formNum < 0) throw convertError('RS_ERR_LABEL_NO_FORM', label, convertTo, 'no matching form');
  const cur = scheme[formNum]!;
  const v358 = isV358(scheme);

  if (scheme.length === 1 || (label & mask(formSize(cur))) === 1n) {
    if (convertTo === 0 || convertTo === 'canonical') return label;
    throw convertError(
      scheme.length === 1 ? 'RS_ERR_LABEL_BAD_FORM' : 'RS_ERR_LABEL_SELF_ROUTE',
      label,
      convertTo,
      scheme.length === 1 ? 'fixed-width scheme has only form 0' : 'self route',
    );
  }

  let director = Number((label >> big(cur.prefixLen)) & mask(cur.bitCount));
  const rest = label >> big(formSize(cur));
  if (v358) {
    if ((cur.prefix & (2 ** cur.prefixLen - 1)) === 1) {
      if (director === 1) director = 0;
    } else if (director !== 0) {
      director++;
    }
  }

  let to = convertTo;
  if (to === 'canonical') {
    const minBitsA = log2Number(director) + 1;
    const minBitsB = director === 0 ? 64 : log2Number(director - 1) + 1;
    for (let i = 0; i < scheme.length; i++) {
      const f = scheme[i]!;
      const minBits = (f.prefix & (2 ** f.prefixLen - 1)) === 1 ? minBitsA : minBitsB;
      if (f.bitCount >= minBits) {
        to = i;
        break;
      }
    }
  }
  const next = typeof to === 'number' && Number.isInteger(to) && to >= 0 ? scheme[to] : undefined;
  if (next === undefined)
    throw convertError('RS_ERR_LABEL_BAD_FORM', label, convertTo, 'no such form');

  if (v358) {
    if ((next.prefix & (2 ** next.prefixLen - 1)) === 1) {
      if (director === 0) director = 1;
    } else if (director !== 0) {
      director--;
    }
  }
  if (log2Number(director) + 1 > next.bitCount) {
    throw convertError('RS_ERR_LABEL_DIRECTOR_TOO_WIDE', label, convertTo, 'director does not fit');
  }
  if (log2(rest) + formSize(next) > MAX_LABEL_BITS - 1) {
    throw convertError('RS_ERR_LABEL_TOO_LONG', label, convertTo, 'label too long');
  }
  const out =
    (((rest << big(next.bitCount)) | BigInt(director)) << big(next.prefixLen)) |
    BigInt(next.prefix);
  if ((out & mask(formSize(next))) === 1n) {
    throw convertError(
      'RS_ERR_LABEL_SELF_ROUTE',
      label,
      convertTo,
      'result looks like a self route',
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// splice / unsplice

/** C `LabelSplicer_splice` on one pair: null when log2(go) + log2(via) > 59. */
function splice2(go: bigint, via: bigint): bigint | null {
  const l = log2(via);
  if (log2(go) + l > MAX_LABEL_BITS - 1) return null;
  return ((go ^ 1n) << big(l)) ^ via;
}

function needTwo(n: number): void {
  if (n < 2) throw new RsError('RS_ERR_INPUT_INVALID', 'must have at least 2 args');
}

/**
 * Splice labels, destination-most first (the last argument is the first hop):
 * `splice2(go, via) = ((go ^ 1) << log2(via)) ^ via`, applied left to right (docs/protocol.md §3.5).
 * C/Rust limit: fails with RS_ERR_LABEL_TOO_LONG when log2(go) + log2(via) > 59; a 60-bit result
 * is allowed. JS ({@link spliceJs}) already fails at 60 result bits and returns all-ones instead
 * of throwing. Fewer than 2 labels: RS_ERR_INPUT_INVALID.
 */
export function splice(...labels: bigint[]): bigint {
  needTwo(labels.length);
  let acc = labels[0]!;
  for (let i = 1; i < labels.length; i++) {
    const r = splice2(acc, labels[i]!);
    if (r === null) {
      throw new RsError(
        'RS_ERR_LABEL_TOO_LONG',
        `spliced label would exceed ${MAX_LABEL_BITS} bits`,
        {
          context: {
            go: formatLabel(BigInt.asUintN(64, acc)),
            via: formatLabel(BigInt.asUintN(64, labels[i]!)),
          },
        },
      );
    }
    acc = r;
  }
  return acc;
}

/**
 * The label of a route given hop by hop, first hop first: `splice(SELF_ROUTE, labels[count − 1],
 * …, labels[0])`, with the same result and the same error. Splicing only concatenates the labels'
 * bodies (the bits below each terminating bit) above the first hop's, so it is computed that way,
 * in Number arithmetic while the result fits 53 bits: one BigInt per route instead of several per
 * hop (it runs for every route answered). A label below 2 or a route over 60 bits is left to
 * {@link splice} (which decides its result or error).
 */
export function spliceRoute(labels: readonly bigint[], count: number): bigint {
  if (count < 1) return spliceReversed(labels, count);
  let bits = 0;
  let body = 0;
  let bigBody: bigint | undefined;
  for (let i = 0; i < count; i++) {
    const label = labels[i]!;
    const l = label < 2n ? -1 : log2(label);
    if (l < 0 || bits + l > MAX_LABEL_BITS - 1) return spliceReversed(labels, count);
    if (bigBody === undefined && bits + l <= 52) {
      body += (Number(label) - 2 ** l) * 2 ** bits;
    } else {
      bigBody = (bigBody ?? BigInt(body)) | ((label & mask(l)) << big(bits));
    }
    bits += l;
  }
  return bigBody === undefined ? BigInt(2 ** bits + body) : bigBody | (1n << big(bits));
}

function spliceReversed(labels: readonly bigint[], count: number): bigint {
  const dstFirst: bigint[] = [SELF_ROUTE];
  for (let i = count - 1; i >= 0; i--) dstFirst.push(labels[i]!);
  return splice(...dstFirst);
}

/**
 * cjdnsplice `splice`, kept only to reproduce the original on demand: returns
 * {@link LABEL_ALL_ONES} (`ffff.ffff.ffff.ffff`) as soon as a partial result would have ≥ 60 bits
 * (log2(go) + log2(via) ≥ 59), and the all-ones value then propagates. Throws RS_ERR_INPUT_INVALID
 * 'must have at least 2 args' like JS.
 */
export function spliceJs(...labels: bigint[]): bigint {
  needTwo(labels.length);
  let acc = labels[0]!;
  for (let i = 1; i < labels.length; i++) {
    const via = labels[i]!;
    const l = log2(via);
    // JS drops via's terminating bit (and leading zeros), appends go's bits above, then strips
    // and re-adds go's top bit: the identity unless everything is zero, which gives [1].
    const joined = (acc << big(l)) | (via & mask(l));
    const r = joined === 0n ? 1n : joined;
    acc = labelBitLength(r) >= MAX_LABEL_BITS ? LABEL_ALL_ONES : r;
  }
  return acc;
}

/**
 * cjdnsplice `unsplice`: `dest >> log2(mid)`, after checking that the low log2(mid) bits of both
 * agree (RS_ERR_LABEL_NOT_ROUTED, message as JS; also for mid = 0). Like JS (and unlike Rust) it
 * does not check that `mid` is shorter than `dest`. C does no check at all.
 */
export function unsplice(dest: bigint, mid: bigint): bigint {
  if (!routesThroughJs(dest, mid)) {
    throw new RsError(
      'RS_ERR_LABEL_NOT_ROUTED',
      `impossible to unsplice ${formatLabel(BigInt.asUintN(64, dest))} ${formatLabel(BigInt.asUintN(64, mid))}`,
    );
  }
  return dest >> big(log2(mid));
}

/**
 * C `LabelSplicer_routesThrough`: false when `mid > dest`, true when `mid < 2`, else whether the
 * low log2(mid) bits of both are equal.
 */
export function routesThrough(dest: bigint, mid: bigint): boolean {
  if (mid > dest) return false;
  if (mid < 2n) return true;
  return ((dest ^ mid) & mask(log2(mid))) === 0n;
}

/** cjdnsplice `routesThrough`: low log2(mid) bits equal, no length check; false for mid = 0. */
export function routesThroughJs(dest: bigint, mid: bigint): boolean {
  if (mid === 0n) return false;
  return ((dest ^ mid) & mask(log2(mid))) === 0n;
}

// ---------------------------------------------------------------------------------------------
// one hop, build

/** C `EncodingScheme_isOneHop`: log2(label) == bitCount + prefixLen of its form; false if none. */
export function isOneHop(label: bigint, scheme: EncodingScheme): boolean {
  const fn = getFormNumC(label, scheme);
  if (fn < 0) return false;
  return log2(label) === formSize(scheme[fn]!);
}

/** cjdnsplice `isOneHop`: log2(label) <= bitCount + prefixLen; RS_ERR_LABEL_NO_FORM if no form. */
export function isOneHopJs(label: bigint, scheme: EncodingScheme): boolean {
  const fn = getEncodingForm(label, scheme);
  if (fn < 0) throw new RsError('RS_ERR_LABEL_NO_FORM', 'not a valid label for the given scheme');
  return log2(label) <= formSize(scheme[fn]!);
}
