/**
 * The JS form of an encoding scheme ({@link schemeToJs}), made once per scheme and shared. Every
 * hop of a `/path` answer prints its scheme, so building it per hop per query was most of what a
 * query allocated. Schemes are immutable (`EncodingScheme` is readonly) and the memo is keyed by
 * the scheme object (a WeakMap: it holds nothing a scheme's owners dropped). The shared form is
 * frozen, forms and list, so no holder can change what every other answer prints.
 */
import type { EncodingScheme, JsEncodingForm } from './encoding-scheme-types.ts';
import { schemeToJs } from './encoding-scheme.ts';

export type SharedJsScheme = readonly Readonly<JsEncodingForm>[];

const memo = new WeakMap<EncodingScheme, SharedJsScheme>();

/** `schemeToJs(scheme)`, frozen and the same object for the same scheme. */
export function sharedSchemeJs(scheme: EncodingScheme): SharedJsScheme {
  let js = memo.get(scheme);
  if (js === undefined) {
    js = Object.freeze(schemeToJs(scheme).map((f) => Object.freeze(f)));
    memo.set(scheme, js);
  }
  return js;
}
