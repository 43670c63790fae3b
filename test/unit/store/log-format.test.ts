import { expect } from 'chai';
import fc from 'fast-check';
import { crc32 } from 'node:zlib';
import {
  checkLogHeader,
  decodeRecord,
  encodeDel,
  encodeLogHeader,
  encodePut,
  LOG_HEADER_BYTES,
  MAX_ANNOUNCEMENT_BYTES,
  MIN_ANNOUNCEMENT_BYTES,
  storableAnnouncement,
} from '../../../src/store/log-format.ts';

const hash = (b: number): Uint8Array => new Uint8Array(64).fill(b);
const KEY = new Uint8Array(32).fill(0xab);
const ann = (n: number, b = 7): Uint8Array => new Uint8Array(n).map((_x, i) => (i * 31 + b) & 0xff);

describe('store: log format', () => {
  it('writes the header as documented and recognises it', () => {
    const h = Buffer.from(encodeLogHeader());
    expect(h.length).to.equal(LOG_HEADER_BYTES);
    expect(h.subarray(0, 8).toString('latin1')).to.equal('SNODEANN');
    expect(h.readUInt32BE(8)).to.equal(1);
    expect(h.readUInt32BE(12)).to.equal(crc32(h.subarray(0, 12)));
    expect(checkLogHeader(h)).to.equal('ok');
    for (let n = 0; n < LOG_HEADER_BYTES; n++)
      expect(checkLogHeader(h.subarray(0, n))).to.equal('short');
    const other = Buffer.from(h);
    other[3] = other[3]! ^ 1;
    expect(checkLogHeader(other)).to.equal('foreign');
    const future = Buffer.from(h);
    future.writeUInt32BE(2, 8);
    future.writeUInt32BE(crc32(future.subarray(0, 12)), 12);
    expect(checkLogHeader(future)).to.equal('unsupported_version');
  });

  it('lays out a PUT and a DEL record as documented', () => {
    const a = ann(130);
    const put = Buffer.from(encodePut(hash(1), a, KEY));
    expect(put.readUInt32BE(0)).to.equal(1 + 64 + 130 + 32);
    expect(put.readUInt32BE(4)).to.equal(crc32(put.subarray(8), crc32(put.subarray(0, 4))));
    expect(put[8]).to.equal(1);
    expect([...put.subarray(9, 73)]).to.deep.equal([...hash(1)]);
    expect([...put.subarray(73, 73 + 130)]).to.deep.equal([...a]);
    expect([...put.subarray(73 + 130)]).to.deep.equal([...KEY]);
    const del = Buffer.from(encodeDel(hash(2)));
    expect(del.length).to.equal(8 + 65);
    expect(del.readUInt32BE(0)).to.equal(65);
    expect(del[8]).to.equal(2);
  });

  it('decodes what it encodes, as copies', () => {
    const a = ann(200);
    const bytes = Buffer.concat([encodePut(hash(3), a, KEY), encodeDel(hash(3))]);
    const first = decodeRecord(bytes, 0);
    expect(first.ok).to.equal(true);
    if (!first.ok || first.record.kind !== 'put') throw new Error('expected a PUT');
    expect([...first.record.announcement]).to.deep.equal([...a]);
    expect([...first.record.nodeKey]).to.deep.equal([...KEY]);
    expect(first.record.announcement.buffer, 'the announcement is a copy').to.not.equal(
      bytes.buffer,
    );
    const second = decodeRecord(bytes, first.size);
    expect(second.ok && second.record.kind).to.equal('del');
    expect(second.ok && second.size).to.equal(73);
  });

  it('says incomplete for every truncation of a record', () => {
    const rec = encodePut(hash(4), ann(150), KEY);
    for (let n = 0; n < rec.length; n++)
      expect(decodeRecord(rec.subarray(0, n), 0)).to.deep.equal({
        ok: false,
        reason: 'incomplete',
      });
  });

  it('refuses lengths outside the bounds of the kinds before reading a body', () => {
    const b = Buffer.alloc(8 + 200);
    for (const len of [
      0,
      1,
      64,
      66,
      65 + MIN_ANNOUNCEMENT_BYTES + 31,
      65 + MAX_ANNOUNCEMENT_BYTES + 33,
      0xffffffff,
    ]) {
      b.writeUInt32BE(len, 0);
      expect(decodeRecord(b, 0), `length ${len}`).to.deep.equal({
        ok: false,
        reason: 'bad_length',
      });
    }
  });

  it('detects any single flipped bit (zeros, a torn tail, a bit rot)', () => {
    const rec = Buffer.from(encodePut(hash(5), ann(140), KEY));
    for (let i = 0; i < rec.length; i++) {
      for (const bit of [0, 3, 7]) {
        const bad = Buffer.from(rec);
        bad[i] = bad[i]! ^ (1 << bit);
        const r = decodeRecord(bad, 0);
        expect(r.ok, `byte ${i} bit ${bit}`).to.equal(false);
      }
    }
    expect(decodeRecord(Buffer.alloc(100), 0)).to.deep.equal({ ok: false, reason: 'bad_length' });
  });

  it('refuses a record with a valid checksum but an unknown kind or a kind that does not match its length', () => {
    const forge = (kind: number, bodyLen: number): Buffer => {
      const b = Buffer.alloc(8 + bodyLen, 9);
      b.writeUInt32BE(bodyLen, 0);
      b[8] = kind;
      b.writeUInt32BE(crc32(b.subarray(8), crc32(b.subarray(0, 4))), 4);
      return b;
    };
    expect(decodeRecord(forge(3, 65), 0)).to.deep.equal({ ok: false, reason: 'bad_kind' });
    expect(decodeRecord(forge(1, 65), 0)).to.deep.equal({ ok: false, reason: 'bad_kind' });
    expect(decodeRecord(forge(2, 65 + 152), 0)).to.deep.equal({ ok: false, reason: 'bad_kind' });
    expect(decodeRecord(forge(2, 65), 0).ok).to.equal(true);
  });

  it('stores only announcements within the bounds', () => {
    expect(storableAnnouncement(ann(MIN_ANNOUNCEMENT_BYTES - 1))).to.equal(false);
    expect(storableAnnouncement(ann(MIN_ANNOUNCEMENT_BYTES))).to.equal(true);
    expect(() => encodePut(hash(1), ann(100), KEY)).to.throw(RangeError);
    expect(() => encodePut(new Uint8Array(63), ann(200), KEY)).to.throw(RangeError);
    expect(() => encodePut(hash(1), ann(200), new Uint8Array(31))).to.throw(RangeError);
    expect(() => encodeDel(new Uint8Array(65))).to.throw(RangeError);
  });

  it('round-trips any sequence of records (property)', () => {
    const recordArb = fc.oneof(
      fc.record({
        kind: fc.constant('put' as const),
        h: fc.uint8Array({ minLength: 64, maxLength: 64 }),
        a: fc.uint8Array({ minLength: 120, maxLength: 600 }),
      }),
      fc.record({
        kind: fc.constant('del' as const),
        h: fc.uint8Array({ minLength: 64, maxLength: 64 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 20 }), (recs) => {
        const bytes = Buffer.concat(
          recs.map((r) => (r.kind === 'put' ? encodePut(r.h, r.a, KEY) : encodeDel(r.h))),
        );
        let at = 0;
        for (const r of recs) {
          const step = decodeRecord(bytes, at);
          if (!step.ok) return false;
          if (step.record.kind !== r.kind || Buffer.compare(step.record.hash, r.h) !== 0)
            return false;
          if (
            step.record.kind === 'put' &&
            r.kind === 'put' &&
            Buffer.compare(step.record.announcement, r.a) !== 0
          )
            return false;
          at += step.size;
        }
        return at === bytes.length && !decodeRecord(bytes, at).ok;
      }),
    );
  });
});
