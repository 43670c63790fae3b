/**
 * `JSON.stringify(value, null, 2)` as it prints nested in a pretty-printed document, at the depth
 * whose lines start with `indent` (the value's own first line follows its key, so it is not
 * indented): the gap indentation is cumulative, and a printed string never holds a raw newline.
 * The views that stream or hand-print the original's pretty JSON splice values in with it.
 */
export function jsonAtDepth(value: unknown, indent: string): string {
  return JSON.stringify(value, null, 2).replace(/\n/g, `\n${indent}`);
}
