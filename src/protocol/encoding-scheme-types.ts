/** One encoding form: a director is `prefixLen` prefix bits below `bitCount` data bits. */
export interface EncodingForm {
  readonly bitCount: number;
  readonly prefixLen: number;
  /** the prefix as an unsigned integer (< 2^prefixLen) */
  readonly prefix: number;
}

/** Ordered list of forms (form number = index). */
export type EncodingScheme = readonly EncodingForm[];

/** The original JS (cjdnsencode) shape: prefix as hex of ceil(prefixLen/8) big-endian bytes. */
export interface JsEncodingForm {
  bitCount: number;
  prefix: string;
  prefixLen: number;
}
