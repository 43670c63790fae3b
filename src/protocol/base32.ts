/**
 * cjdns Base32 (C `util/Base32.h`, docs/protocol.md §2.1).
 *
 * Alphabet `0123456789bcdfghjklmnpqrstuvwxyz` (no a, e, i, o). Bits are consumed least
 * significant first: each input byte is or-ed into an accumulator above the bits already there,
 * and 5-bit groups are emitted from the bottom. A final partial group is emitted as is.
 *
 * Decoding reverses this. It is strict: a character outside the alphabet (case-insensitive), or
 * 5+ bits / any non-zero bits left over at the end, is an RS_ERR_BASE32_INVALID.
 */
import { RsError } from '../errors.ts';

const ALPHABET = '0123456789bcdfghjklmnpqrstuvwxyz';

/** ASCII code → 5-bit value, or -1 for a character outside the alphabet. Case-insensitive. */
const DECODE_TABLE: Int8Array = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) {
    const c = ALPHABET.charCodeAt(i);
    t[c] = i;
    t[String.fromCharCode(c).toUpperCase().charCodeAt(0)] = i;
  }
  return t;
})();

export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < bytes.length; i++) {
    acc |= bytes[i]! << bits;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[acc & 31];
      acc >>>= 5;
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[acc & 31];
  return out;
}

export function base32Decode(str: string): Uint8Array {
  const out = new Uint8Array(Math.floor((str.length * 5) / 8));
  let n = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < str.length; i++) {
    const code = str.charCodeAt(i);
    const v = code < 128 ? DECODE_TABLE[code]! : -1;
    if (v < 0) {
      throw new RsError(
        'RS_ERR_BASE32_INVALID',
        `bad character ${JSON.stringify(str[i])} at index ${i}`,
      );
    }
    acc |= v << bits;
    bits += 5;
    if (bits >= 8) {
      out[n++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  if (bits >= 5 || acc !== 0) {
    throw new RsError('RS_ERR_BASE32_INVALID', `bits is ${bits} and nextByte is ${acc}`);
  }
  return out;
}
