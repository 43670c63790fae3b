/**
 * The `/path` answer's bytes: exactly `JSON.stringify(route, null, 2)` in UTF-8 (the original's
 * bytes), written straight into a Buffer. Written by hand for speed: `/path` is the query the
 * route server answers most, and the pretty-printed string cost it ~10 µs and ~8 KB of short-lived
 * heap per answer (the printer's string parts, the flattened string, then its copy into bytes) —
 * about 40 % of what a query allocated, and so of the scavenges that pause every query in flight
 * (docs/performance.md, "Issue 17, late night"). Most of an answer is its hops' encoding schemes,
 * and a scheme is one shared object for every hop and answer that uses it
 * (protocol/scheme-json-memo.ts): its printed bytes are made once per scheme and copied.
 *
 * Only the shape the route engines build is written by hand — keys in the engines' order, strings
 * that need no JSON escape, integers — and anything else (which the engines do not make) is
 * printed by `JSON.stringify` itself, so the bytes are the same either way.
 */
import type { RouteJson } from '../routing/route-answer.ts';
import type { RouteHop } from '../routing/route-label.ts';
import { jsonAtDepth } from './json-at-depth.ts';

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');

const OPEN_LABEL = ascii('{\n  "label": "');
const HOPS_EMPTY = ascii('",\n  "hops": []');
const HOPS_OPEN = ascii('",\n  "hops": [\n    {\n      "label": "');
const HOP_NEXT = ascii('\n    },\n    {\n      "label": "');
const ORIG_LABEL = ascii('",\n      "origLabel": "');
const SCHEME = ascii('",\n      "scheme": ');
const INVERSE = ascii(',\n      "inverseFormNum": ');
const HOPS_CLOSE = ascii('\n    }\n  ]');
const PATH_EMPTY = ascii(',\n  "path": []');
const PATH_OPEN = ascii(',\n  "path": [\n    "');
const PATH_NEXT = ascii('",\n    "');
const PATH_CLOSE = ascii('"\n  ]');
const CLOSE = ascii('\n}');

/** A hop's scheme as it prints in a hop (6 spaces deep), by the shared (frozen) scheme object. */
const schemeBytes = new WeakMap<object, Buffer>();

function schemeOf(scheme: RouteHop['scheme']): Buffer {
  let b = schemeBytes.get(scheme);
  if (b === undefined) {
    b = Buffer.from(jsonAtDepth(scheme, '      '), 'utf8');
    // only what cannot change is remembered (the engines' schemes are frozen: scheme-json-memo.ts)
    if (Object.isFrozen(scheme) && scheme.every((f) => Object.isFrozen(f)))
      schemeBytes.set(scheme, b);
  }
  return b;
}

/** Printed by JSON.stringify as it is: no character to escape, nothing beyond ASCII. */
function plain(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** The keys of the engines' hops and answers, in their order (the last one only on some). */
const HOP_KEYS = ['label', 'origLabel', 'scheme', 'inverseFormNum'];
const ROUTE_KEYS = ['label', 'hops', 'path'];

/** How many of `keys` `o` has, in that order, and nothing else; -1 otherwise. */
function keysInOrder(o: object, keys: readonly string[]): number {
  let n = 0;
  for (const k in o) if (k !== keys[n++]) return -1;
  return n;
}

function isEngineHop(h: RouteHop): boolean {
  const n = keysInOrder(h, HOP_KEYS);
  return (
    n >= 3 &&
    plain(h.label) &&
    plain(h.origLabel) &&
    Array.isArray(h.scheme) &&
    (n === 3 || Number.isSafeInteger(h.inverseFormNum))
  );
}

function isEngineRoute(r: RouteJson): boolean {
  const n = keysInOrder(r, ROUTE_KEYS);
  if (n < 2 || !plain(r.label) || !Array.isArray(r.hops)) return false;
  for (const h of r.hops) if (typeof h !== 'object' || h === null || !isEngineHop(h)) return false;
  if (n === 3) {
    if (!Array.isArray(r.path)) return false;
    for (const ip of r.path) if (!plain(ip)) return false;
  }
  return true;
}

/** Grows as answers need; one per thread (a route answer is written in one synchronous run). */
let scratch = Buffer.allocUnsafe(16 * 1024);
let at = 0;

function room(n: number): void {
  if (at + n <= scratch.length) return;
  const bigger = Buffer.allocUnsafe(Math.max(scratch.length * 2, at + n));
  scratch.copy(bigger, 0, 0, at);
  scratch = bigger;
}

function put(b: Uint8Array): void {
  room(b.length);
  scratch.set(b, at);
  at += b.length;
}

/** An ASCII string (checked by `plain`, or a number's digits). */
function text(s: string): void {
  room(s.length);
  at += scratch.write(s, at, 'latin1');
}

/** `JSON.stringify(route, null, 2)` as UTF-8 bytes (a Buffer of its own). */
export function routeJsonBytes(route: RouteJson): Buffer {
  if (!isEngineRoute(route)) return Buffer.from(JSON.stringify(route, null, 2), 'utf8');
  at = 0;
  put(OPEN_LABEL);
  text(route.label);
  const hops = route.hops;
  if (hops.length === 0) put(HOPS_EMPTY);
  else {
    for (let i = 0; i < hops.length; i++) {
      const h = hops[i]!;
      put(i === 0 ? HOPS_OPEN : HOP_NEXT);
      text(h.label);
      put(ORIG_LABEL);
      text(h.origLabel);
      put(SCHEME);
      put(schemeOf(h.scheme));
      if (h.inverseFormNum !== undefined) {
        put(INVERSE);
        text(String(h.inverseFormNum));
      }
    }
    put(HOPS_CLOSE);
  }
  const path = route.path;
  if (path !== undefined) {
    if (path.length === 0) put(PATH_EMPTY);
    else {
      for (let i = 0; i < path.length; i++) {
        put(i === 0 ? PATH_OPEN : PATH_NEXT);
        text(path[i]!);
      }
      put(PATH_CLOSE);
    }
  }
  put(CLOSE);
  const out = Buffer.allocUnsafe(at);
  scratch.copy(out, 0, 0, at);
  return out;
}
