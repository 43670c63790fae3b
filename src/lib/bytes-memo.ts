/**
 * A small memo of values decoded from short byte strings that repeat (a cluster's few origins, a
 * network's one or two encoding schemes): looked up by comparing bytes, so a repeat costs no
 * allocation and no decode. At most `max` entries; when full it starts over (the values are
 * few, so this only happens under input that varies them, which then just decodes each time).
 */
export class BytesMemo<T> {
  private readonly entries: { bytes: Uint8Array; value: T }[] = [];

  constructor(
    private readonly max: number,
    /** decodes bytes not seen before; may throw (nothing is remembered then) */
    private readonly decode: (bytes: Uint8Array) => T,
  ) {}

  get(bytes: Uint8Array): T {
    for (const e of this.entries) {
      if (e.bytes.length !== bytes.length) continue;
      let i = 0;
      while (i < bytes.length && e.bytes[i] === bytes[i]) i++;
      if (i === bytes.length) return e.value;
    }
    const value = this.decode(bytes);
    if (this.entries.length >= this.max) this.entries.length = 0;
    this.entries.push({ bytes: new Uint8Array(bytes), value });
    return value;
  }
}
