/**
 * Encoding schemes: (de)serialisation, sanity rules and the JS / admin-API shapes.
 *
 * Wire layout (docs/protocol.md §1.7, C `EncodingScheme_serialize`): the bytes are one
 * little-endian bit stream, least significant bit of byte 0 first. Each form in order appends
 * `prefixLen` (5 bits), `bitCount` (5 bits), then `prefix` (`prefixLen` bits), every field
 * least-significant bit first; the last byte is padded with zero bits.
 *
 * Two parsers, because the route server and the cjdns node disagree:
 *  - {@link parseSchemeJs}: cjdnsencode 0.0.3, what the original route server runs on every
 *    EncodingScheme entity. Lenient: missing bits read as zero, no sanity check.
 *  - {@link parseSchemeStrict}: C `EncodingScheme_deserialize` + `EncodingScheme_isSane`.
 */
import { RsError } from '../errors.ts';
import type { EncodingForm, EncodingScheme, JsEncodingForm } from './encoding-scheme-types.ts';

const FIELD_BITS = 5;
const FIELD_MAX = 31;
/** Largest director + prefix a form may use and still leave room in a 60-bit label (C isSane). */
const MAX_FORM_SIZE_BITS = 59;
const MAX_FORMS = 31;

function form(bitCount: number, prefixLen: number, prefix: number): EncodingForm {
  return Object.freeze({ bitCount, prefixLen, prefix });
}

/** The named schemes of cjdnsplice `SCHEMES` (docs/protocol.md §1.7). v358 is the cjdns default. */
export const SCHEMES = Object.freeze({
  f4: Object.freeze([form(4, 0, 0)]),
  f8: Object.freeze([form(8, 0, 0)]),
  v48: Object.freeze([form(4, 1, 1), form(8, 1, 0)]),
  v358: Object.freeze([form(3, 1, 1), form(5, 2, 2), form(8, 2, 0)]),
  v37: Object.freeze([form(3, 1, 1), form(7, 1, 0)]),
} satisfies Record<string, EncodingScheme>);

export type SchemeName = keyof typeof SCHEMES;

/** Mask of the low `n` bits (0 ≤ n ≤ 32) as a non-negative number. */
function lowMask(n: number): number {
  return n >= 32 ? 0xffffffff : 2 ** n - 1;
}

/** `prefix` reduced to its `prefixLen` low bits (what every reader of the wire sees). */
function maskedPrefix(f: EncodingForm): number {
  return (f.prefix & lowMask(f.prefixLen)) >>> 0;
}

function formsEqual(a: EncodingScheme, b: EncodingScheme): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.bitCount !== y.bitCount || x.prefixLen !== y.prefixLen || x.prefix !== y.prefix)
      return false;
  }
  return true;
}

/**
 * True iff `scheme` is exactly v358 `[(3,1,1),(5,2,2),(8,2,0)]`. JS compares the JSON of the
 * parsed scheme with its built-in v358; for schemes that come from the wire that is the same as
 * comparing the three numbers of every form.
 */
export function isV358(scheme: EncodingScheme): boolean {
  if (scheme === SCHEMES.v358) return true;
  return formsEqual(scheme, SCHEMES.v358);
}

/** Name of the matching {@link SCHEMES} entry, or null. */
export function schemeName(scheme: EncodingScheme): SchemeName | null {
  for (const name of Object.keys(SCHEMES) as SchemeName[]) {
    if (formsEqual(scheme, SCHEMES[name])) return name;
  }
  return null;
}

/** cjdnsplice `printScheme`: the SCHEMES name, else the JSON of the JS form list. */
export function printScheme(scheme: EncodingScheme): string {
  return schemeName(scheme) ?? JSON.stringify(schemeToJs(scheme));
}

/**
 * A string that identifies the scheme exactly, for memoising per-scheme work
 * (`bitCount,prefixLen,prefix` per form, `;`-separated; `''` for the empty scheme).
 */
export function schemeKey(scheme: EncodingScheme): string {
  let out = '';
  for (let i = 0; i < scheme.length; i++) {
    const f = scheme[i]!;
    out += (i === 0 ? '' : ';') + f.bitCount + ',' + f.prefixLen + ',' + f.prefix;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// bit stream helpers (LSB of byte 0 first; bits past the end read as 0)

function readBits(bytes: Uint8Array, pos: number, n: number): number {
  let out = 0;
  for (let i = 0; i < n; i++) {
    const p = pos + i;
    const byte = bytes[p >>> 3];
    if (byte !== undefined && ((byte >>> (p & 7)) & 1) === 1) out += 2 ** i;
  }
  return out;
}

/** True iff every bit of the stream at index ≥ `pos` is zero. */
function zeroFrom(bytes: Uint8Array, pos: number): boolean {
  const total = bytes.length * 8;
  if (pos >= total) return true;
  const first = pos >>> 3;
  if (bytes[first]! >>> (pos & 7) !== 0) return false;
  for (let i = first + 1; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

function writeBits(out: Uint8Array, pos: number, n: number, value: number): void {
  for (let i = 0; i < n; i++) {
    if (Math.floor(value / 2 ** i) % 2 === 1) {
      const p = pos + i;
      out[p >>> 3] = out[p >>> 3]! | (1 << (p & 7));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// parse / serialize

/**
 * cjdnsencode 0.0.3 `parse`: read `prefixLen`, then `bitCount`; a `bitCount` of 0 ends the list
 * (the bits of that terminating `prefixLen` are discarded) and every later bit must be zero, else
 * RS_ERR_SCHEME_INVALID 'invalid encoding'. Bits past the end read as zero, and there is no sanity
 * check: `0000` → `[]`, a truncated `61144581` → v358, `6114458180` → v358.
 * This is what the route server applies to EncodingScheme entities.
 */
export function parseSchemeJs(bytes: Uint8Array): EncodingScheme {
  const out: EncodingForm[] = [];
  let pos = 0;
  for (;;) {
    const prefixLen = readBits(bytes, pos, FIELD_BITS);
    pos += FIELD_BITS;
    const bitCount = readBits(bytes, pos, FIELD_BITS);
    if (bitCount === 0) {
      if (!zeroFrom(bytes, pos)) throw new RsError('RS_ERR_SCHEME_INVALID', 'invalid encoding');
      return out;
    }
    pos += FIELD_BITS;
    const prefix = readBits(bytes, pos, prefixLen);
    pos += prefixLen;
    out.push(form(bitCount, prefixLen, prefix));
  }
}

/**
 * C `EncodingScheme_deserialize`: like {@link parseSchemeJs}, but a form that runs past the end,
 * a non-zero bit after the terminator (including the terminator's own `prefixLen` bits) or data
 * the 64-bit decode window never reached is RS_ERR_SCHEME_INVALID 'invalid encoding'; then the
 * scheme must pass {@link isSaneScheme} (else RS_ERR_SCHEME_INVALID 'encoding scheme is not sane').
 */
export function parseSchemeStrict(bytes: Uint8Array): EncodingScheme {
  const total = bytes.length * 8;
  const out: EncodingForm[] = [];
  let pos = 0; // bits consumed
  let loaded = 0; // bytes loaded into C's 64-bit block
  for (;;) {
    // C loads whole bytes while the block holds fewer than 56 unread bits.
    while (loaded * 8 - pos < 56 && loaded < bytes.length) loaded++;
    const prefixLen = readBits(bytes, pos, FIELD_BITS);
    const bitCount = readBits(bytes, pos + FIELD_BITS, FIELD_BITS);
    const size = bitCount === 0 ? 0 : 2 * FIELD_BITS + prefixLen;
    if (size === 0 || pos + size > total) {
      if (pos + size > total || loaded < bytes.length || !zeroFrom(bytes, pos)) {
        throw new RsError('RS_ERR_SCHEME_INVALID', 'invalid encoding');
      }
      break;
    }
    out.push(form(bitCount, prefixLen, readBits(bytes, pos + 2 * FIELD_BITS, prefixLen)));
    pos += size;
  }
  if (!isSaneScheme(out)) throw new RsError('RS_ERR_SCHEME_INVALID', 'encoding scheme is not sane');
  return out;
}

function isField(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= FIELD_MAX;
}

function isPrefixValue(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}

/**
 * C `EncodingScheme_serialize`. Works on any representable scheme, sane or not (the empty scheme
 * gives zero bytes); like C, prefix bits above `prefixLen` are dropped. A field that cannot be
 * written (`bitCount`/`prefixLen` outside 0..31, `prefix` outside uint32) is RS_ERR_SCHEME_INVALID.
 */
export function serializeScheme(scheme: EncodingScheme): Uint8Array {
  let bits = 0;
  for (const f of scheme) {
    if (!isField(f.bitCount) || !isField(f.prefixLen) || !isPrefixValue(f.prefix)) {
      throw new RsError(
        'RS_ERR_SCHEME_INVALID',
        `encoding form cannot be serialized: ${JSON.stringify(f)}`,
      );
    }
    bits += 2 * FIELD_BITS + f.prefixLen;
  }
  const out = new Uint8Array(Math.ceil(bits / 8));
  let pos = 0;
  for (const f of scheme) {
    writeBits(out, pos, FIELD_BITS, f.prefixLen);
    writeBits(out, pos + FIELD_BITS, FIELD_BITS, f.bitCount);
    writeBits(out, pos + 2 * FIELD_BITS, f.prefixLen, maskedPrefix(f));
    pos += 2 * FIELD_BITS + f.prefixLen;
  }
  return out;
}

/**
 * C `EncodingScheme_isSane`: 1..31 forms. One form: `prefixLen == 0`, `prefix == 0`,
 * `1 <= bitCount <= 31`. Several forms: each has `1 <= prefixLen <= 31`, `1 <= bitCount <= 31`,
 * `bitCount + prefixLen <= 59`, bitCount strictly increasing, and no other form's prefix equals
 * this form's prefix on this form's `prefixLen` low bits. (Non-integer fields are not sane.)
 */
export function isSaneScheme(scheme: EncodingScheme): boolean {
  if (scheme.length === 0 || scheme.length > MAX_FORMS) return false;
  for (const f of scheme) {
    if (!Number.isInteger(f.bitCount) || !Number.isInteger(f.prefixLen) || !isPrefixValue(f.prefix))
      return false;
  }
  if (scheme.length === 1) {
    const f = scheme[0]!;
    return f.prefixLen === 0 && f.prefix === 0 && f.bitCount >= 1 && f.bitCount <= FIELD_MAX;
  }
  for (let i = 0; i < scheme.length; i++) {
    const f = scheme[i]!;
    if (f.prefixLen < 1 || f.prefixLen > FIELD_MAX) return false;
    if (f.bitCount < 1 || f.bitCount > FIELD_MAX) return false;
    if (f.bitCount + f.prefixLen > MAX_FORM_SIZE_BITS) return false;
    if (i > 0 && f.bitCount <= scheme[i - 1]!.bitCount) return false;
    const mask = lowMask(f.prefixLen);
    for (let j = 0; j < scheme.length; j++) {
      if (j !== i && (scheme[j]!.prefix & mask) >>> 0 === f.prefix) return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// JS and admin-API shapes

function prefixHex(f: EncodingForm): string {
  if (f.prefixLen === 0) return '';
  const bytes = Math.ceil(f.prefixLen / 8);
  return maskedPrefix(f)
    .toString(16)
    .padStart(bytes * 2, '0');
}

/**
 * The cjdnsencode output shape: `{bitCount, prefix, prefixLen}` (in that key order) with `prefix`
 * the hex of ceil(prefixLen/8) big-endian bytes, `''` when prefixLen is 0.
 */
export function schemeToJs(scheme: EncodingScheme): JsEncodingForm[] {
  return scheme.map((f) => ({
    bitCount: f.bitCount,
    prefix: prefixHex(f),
    prefixLen: f.prefixLen,
  }));
}

const HEX_RE = /^[0-9a-fA-F]*$/;

function prefixFromHex(hex: string, prefixLen: number, what: string): number {
  if (!HEX_RE.test(hex) || hex.length > 8) {
    throw new RsError(
      'RS_ERR_SCHEME_INVALID',
      `${what}: invalid prefix ${JSON.stringify(hex.slice(0, 16))}`,
    );
  }
  if (hex === '') return 0;
  return (Number.parseInt(hex, 16) & lowMask(prefixLen)) >>> 0;
}

/**
 * Inverse of {@link schemeToJs}. Like cjdnsplice, only the low `prefixLen` bits of the prefix
 * count. No sanity check (JS has none); malformed fields are RS_ERR_SCHEME_INVALID.
 */
export function schemeFromJs(forms: readonly JsEncodingForm[]): EncodingScheme {
  return forms.map((f) => {
    if (!isField(f.bitCount) || !isField(f.prefixLen) || typeof f.prefix !== 'string') {
      throw new RsError('RS_ERR_SCHEME_INVALID', `invalid encoding form ${JSON.stringify(f)}`);
    }
    return form(f.bitCount, f.prefixLen, prefixFromHex(f.prefix, f.prefixLen, 'encoding form'));
  });
}

/**
 * C `EncodingScheme_asList` (the `encodingScheme` of `Core_nodeInfo`), same form order. `prefix` is
 * `''` for prefixLen 0, else the 8 hex digits of the uint32 prefix with leading pairs removed
 * while the string starts with '0' and is longer than 2. Faithful to C, including its quirk
 * that a pair like `01` in `00000123` is dropped too (`0x123` → `'23'`); real schemes have prefixes
 * below 0x100, where the result is exact.
 */
export function schemeToAdminList(scheme: EncodingScheme): JsEncodingForm[] {
  return scheme.map((f) => {
    let prefix = '';
    if (f.prefixLen !== 0) {
      prefix = (f.prefix >>> 0).toString(16).padStart(8, '0');
      while (prefix[0] === '0' && prefix.length > 2) prefix = prefix.slice(2);
    }
    return { bitCount: f.bitCount, prefix, prefixLen: f.prefixLen };
  });
}

/** One admin-API form as a bencode decoder may hand it over. */
export interface AdminListForm {
  readonly bitCount: number | bigint;
  readonly prefixLen: number | bigint;
  readonly prefix: string | Uint8Array;
}

function adminInt(v: unknown): number | null {
  const n = typeof v === 'bigint' ? Number(v) : v;
  return isField(n) ? n : null;
}

/**
 * Parse `Core_nodeInfo.encodingScheme`. Accepts the stripped prefix strings of current cjdns
 * (`''`, `'01'`) and the 8-digit ones of old cjdns (`EncodingScheme_fromList`). The result must be
 * sane (as C requires); anything else is RS_ERR_SCHEME_INVALID.
 */
export function schemeFromAdminList(list: readonly AdminListForm[]): EncodingScheme {
  if (!Array.isArray(list))
    throw new RsError('RS_ERR_SCHEME_INVALID', 'encodingScheme is not a list');
  const scheme = list.map((f: AdminListForm) => {
    const bitCount = adminInt(f?.bitCount);
    const prefixLen = adminInt(f?.prefixLen);
    const rawPrefix: unknown = f?.prefix;
    const prefix =
      rawPrefix instanceof Uint8Array ? Buffer.from(rawPrefix).toString('latin1') : rawPrefix;
    if (bitCount === null || prefixLen === null || typeof prefix !== 'string') {
      throw new RsError('RS_ERR_SCHEME_INVALID', 'invalid encodingScheme entry');
    }
    if (prefix.length % 2 !== 0)
      throw new RsError('RS_ERR_SCHEME_INVALID', 'invalid encodingScheme prefix');
    const value = prefixFromHex(prefix, FIELD_MAX + 1, 'encodingScheme');
    return form(bitCount, prefixLen, value);
  });
  if (!isSaneScheme(scheme))
    throw new RsError('RS_ERR_SCHEME_INVALID', 'encoding scheme is not sane');
  return scheme;
}
