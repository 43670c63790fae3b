import { RsError, type ErrorCode } from '../errors.ts';

/**
 * Bounds-checked cursor over a byte array. Every read either returns a value or throws an
 * RsError (default code RS_ERR_INPUT_TRUNCATED), never reads past the end.
 */
export class ByteReader {
  private pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    private readonly truncatedCode: ErrorCode = 'RS_ERR_INPUT_TRUNCATED',
  ) {}

  get offset(): number {
    return this.pos;
  }
  get remaining(): number {
    return this.bytes.length - this.pos;
  }
  atEnd(): boolean {
    return this.pos >= this.bytes.length;
  }

  private need(n: number, what: string): void {
    if (this.bytes.length - this.pos < n) {
      throw new RsError(
        this.truncatedCode,
        `truncated: need ${n} byte(s) for ${what} at offset ${this.pos}`,
      );
    }
  }
  u8(what = 'u8'): number {
    this.need(1, what);
    return this.bytes[this.pos++]!;
  }
  u16(what = 'u16'): number {
    this.need(2, what);
    const v = (this.bytes[this.pos]! << 8) | this.bytes[this.pos + 1]!;
    this.pos += 2;
    return v;
  }
  u32(what = 'u32'): number {
    this.need(4, what);
    const b = this.bytes;
    const p = this.pos;
    const v = ((b[p]! << 24) >>> 0) + (b[p + 1]! << 16) + (b[p + 2]! << 8) + b[p + 3]!;
    this.pos += 4;
    return v;
  }
  u64(what = 'u64'): bigint {
    const hi = BigInt(this.u32(what));
    const lo = BigInt(this.u32(what));
    return (hi << 32n) | lo;
  }
  take(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  rest(): Uint8Array {
    const out = this.bytes.subarray(this.pos);
    this.pos = this.bytes.length;
    return out;
  }
}

export function writeU16BE(v: number): Uint8Array {
  return Uint8Array.of((v >>> 8) & 0xff, v & 0xff);
}
export function writeU32BE(v: number): Uint8Array {
  return Uint8Array.of((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}
export function writeU64BE(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  let x = BigInt.asUintN(64, v);
  for (let i = 7; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}
