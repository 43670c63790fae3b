/**
 * LinkState entity (type 3, docs/protocol.md §1.10).
 *
 * ```
 *   0        1        2        3 … 3+pads-1
 * +--------+--------+--------+---------------+-----------------------------------------+
 * | length |  0x03  |  pads  |  pads × 0x00  | varint nodeId | varint startingPoint |  |
 * +--------+--------+--------+---------------+-----------------------------------------+
 *   … then (varint lag, varint drops, varint kbRecv) per sample until the end of the entity;
 *   sample k fills ring slot (startingPoint + k) % 18.
 * ```
 *
 * Parsing follows JS `cjdnsann/LinkState.js` (the authority), including its leniency: any varint
 * value (as a double), any startingPoint, zero samples; error strings are the JS ones.
 */
import { RsError } from '../errors.ts';
import type { LinkStateEntity } from './entity-types.ts';
import { PackedLinkState } from './packed-link-state.ts';
import { readVarIntDouble, writeVarInt } from './varint.ts';

/** Ring size: cjdns keeps 18 samples per link, one every 10 s (`LinkState_SLOTS`). */
export const LINK_STATE_SLOTS = 18;

export const LINK_STATE_TYPE = 3;

function pop(bytes: Uint8Array, offset: number): { value: number; next: number } {
  return readVarIntDouble(bytes, offset, 'RS_ERR_ENTITY_RUNT', 'runt');
}

/**
 * Parse one LinkState entity (`bytes` = exactly the entity slice, length byte first).
 * Errors (RsError, message = JS string): `runt` (RS_ERR_ENTITY_RUNT), `unexpected length`
 * (RS_ERR_ENTITY_BAD_LENGTH, length byte ≠ slice length), `invalid type` (RS_ERR_ENTITY_INVALID),
 * `non-zero pad entry` (RS_ERR_LINK_STATE_INVALID).
 *
 * `packed`: return a PackedLinkState (samples left in `bytes`, decoded when applied).
 *
 * One deliberate difference: JS writes the first sample at index `startingPoint` even when it is
 * ≥ 18 (growing the array); such a sample can never be read by the route server (it walks slots
 * 0–17 only), so here the slot arrays always have exactly 18 entries and that sample is dropped.
 */
export function parseLinkState(bytes: Uint8Array, packed = false): LinkStateEntity {
  const len = bytes.length;
  if (len < 3) throw new RsError('RS_ERR_ENTITY_RUNT', 'runt');
  if (bytes[0] !== len) throw new RsError('RS_ERR_ENTITY_BAD_LENGTH', 'unexpected length');
  if (bytes[1] !== LINK_STATE_TYPE) throw new RsError('RS_ERR_ENTITY_INVALID', 'invalid type');
  const pads = bytes[2]!;
  let x = 3;
  for (let i = 0; i < pads; i++, x++) {
    // JS reads past the end as `undefined` (falsy): only a present non-zero byte is an error
    if (x < len && bytes[x] !== 0)
      throw new RsError('RS_ERR_LINK_STATE_INVALID', 'non-zero pad entry');
  }
  const nodeId = pop(bytes, x);
  const startingPoint = pop(bytes, nodeId.next);
  // one walk of the samples for both forms (the packed one keeps them in the bytes)
  const p = PackedLinkState.ofBytes(bytes, startingPoint.next, nodeId.value, startingPoint.value);
  if (packed) return p;
  return {
    type: 'LinkState',
    nodeId: nodeId.value,
    startingPoint: startingPoint.value,
    lagSlots: p.lagSlots,
    dropSlots: p.dropSlots,
    kbRecvSlots: p.kbRecvSlots,
  };
}

export interface LinkStateSample {
  readonly lag: number | bigint;
  readonly drops: number | bigint;
  readonly kbRecv: number | bigint;
}

/** What to encode: samples oldest first; sample k describes ring slot (startingPoint + k) % 18. */
export interface LinkStateInput {
  readonly nodeId: number | bigint;
  readonly startingPoint: number | bigint;
  readonly samples: readonly LinkStateSample[];
  /** zero pad bytes after the header; default: pad the entity to a multiple of 8 bytes */
  readonly pads?: number;
}

/**
 * Serialize a LinkState entity like C `LinkState_encode`: header, zero pads so the entity keeps
 * 8-byte alignment, then shortest-form varints. RS_ERR_INPUT_INVALID if it exceeds 255 bytes.
 */
export function serializeLinkState(input: LinkStateInput): Uint8Array {
  const parts: Uint8Array[] = [writeVarInt(input.nodeId), writeVarInt(input.startingPoint)];
  for (const s of input.samples)
    parts.push(writeVarInt(s.lag), writeVarInt(s.drops), writeVarInt(s.kbRecv));
  const bodyLen = parts.reduce((n, p) => n + p.length, 0);
  const pads = input.pads ?? (8 - ((3 + bodyLen) % 8)) % 8;
  const total = 3 + pads + bodyLen;
  if (!Number.isInteger(pads) || pads < 0 || pads > 255 || total > 255) {
    throw new RsError('RS_ERR_INPUT_INVALID', `link state entity too long (${total} bytes)`);
  }
  const out = new Uint8Array(total);
  out[0] = total;
  out[1] = LINK_STATE_TYPE;
  out[2] = pads;
  let off = 3 + pads;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
