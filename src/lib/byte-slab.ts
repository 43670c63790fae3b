/**
 * Many small, never-changing byte strings (a node's 32-byte key) as views into shared 64 KB
 * chunks instead of one ArrayBuffer each: an ArrayBuffer costs ~200 bytes of heap and ~340 of
 * native bookkeeping beside its payload (issue 17). A chunk lives while any view of it does.
 *
 * A view shares its chunk: copy it (`slice`) before sending it to another thread, or a
 * structured clone carries the whole chunk.
 */
const CHUNK = 64 * 1024;

export class ByteSlab {
  private chunk = new Uint8Array(CHUNK);
  private pos = 0;

  /** A view holding a copy of `bytes`. */
  copy(bytes: Uint8Array): Uint8Array {
    const n = bytes.length;
    if (n > CHUNK / 8) return bytes.slice();
    if (this.pos + n > CHUNK) {
      this.chunk = new Uint8Array(CHUNK);
      this.pos = 0;
    }
    const view = this.chunk.subarray(this.pos, this.pos + n);
    view.set(bytes);
    this.pos += n;
    return view;
  }
}
