import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { AnnArena } from '../../../src/graph/ann-arena.ts';
import { KEEP_KEY_ENCODING_SCHEME, KEEP_KEY_VERSION } from '../../../src/graph/keep-rules.ts';
import { ArenaAnnouncement, parsedFromBytes } from '../../../src/graph/stored-announcement.ts';
import { bytesToHex } from '../../../src/protocol/hex.ts';
import { parsed, signedAnn, signedNode } from '../../helpers/signed-nodes.ts';
import { mkReset } from './fixtures.ts';

const sha = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha512').update(b).digest());
const bytes = (n: number, len: number): Uint8Array => new Uint8Array(len).fill(n & 0xff);
const SNODE = 'fc00:0000:0000:0000:0000:0000:0000:0099';

describe('ann-arena', () => {
  it('holds bytes and hash under an id while referenced, and reuses the id once released', () => {
    const a = new AnnArena();
    const b = bytes(7, 300);
    const id = a.add(sha(b), b);
    a.ref(id);
    expect(a.holds(id)).to.equal(true);
    expect(Buffer.from(a.bytes(id)).equals(Buffer.from(b))).to.equal(true);
    expect(bytesToHex(a.hash(id))).to.equal(bytesToHex(sha(b)));
    expect(a.hashEquals(id, sha(b))).to.equal(true);
    expect(a.size).to.equal(1);
    expect(a.bytesHeld).to.equal(300);
    a.ref(id);
    a.unref(id);
    expect(a.holds(id)).to.equal(true);
    a.unref(id);
    expect(a.holds(id)).to.equal(false);
    expect(a.size).to.equal(0);
    expect(() => a.unref(id)).to.throw(RangeError);
    const c = bytes(8, 10);
    expect(a.add(sha(c), c)).to.equal(id);
  });

  it('drops an added, never referenced announcement on discard', () => {
    const a = new AnnArena();
    const b = bytes(1, 50);
    const id = a.add(sha(b), b);
    a.discard(id);
    expect(a.holds(id)).to.equal(false);
    expect(() => a.add(new Uint8Array(10), b)).to.throw(RangeError);
  });

  it('compacts a chunk most of whose entries went, and every view handed out stays what it was', () => {
    const a = new AnnArena();
    const ids: number[] = [];
    const views = new Map<number, { bytes: Uint8Array; hash: Uint8Array; want: Uint8Array }>();
    // ~4 MB of 900-byte announcements: several chunks
    for (let i = 0; i < 4600; i++) {
      const b = bytes(i, 900);
      b[0] = i >> 8;
      const id = a.add(sha(b), b);
      a.ref(id);
      ids.push(id);
      views.set(id, { bytes: a.bytes(id), hash: a.hash(id), want: b });
    }
    const slab = a.slabBytes;
    // release 9 of 10: the full chunks fall under a quarter live and are compacted
    for (let i = 0; i < ids.length; i++) if (i % 10 !== 0) a.unref(ids[i]!);
    expect(a.moved).to.be.above(0);
    expect(a.slabBytes).to.be.below(slab / 2);
    for (let i = 0; i < ids.length; i += 10) {
      const id = ids[i]!;
      const v = views.get(id)!;
      expect(Buffer.from(a.bytes(id)).equals(Buffer.from(v.want))).to.equal(true);
      expect(a.hashEquals(id, sha(v.want))).to.equal(true);
    }
    // views taken before compaction and of released announcements never change
    for (const v of views.values()) {
      expect(Buffer.from(v.bytes).equals(Buffer.from(v.want))).to.equal(true);
      expect(bytesToHex(v.hash)).to.equal(bytesToHex(sha(v.want)));
    }
  });

  it('gives an announcement larger than a quarter chunk a chunk of its own', () => {
    const a = new AnnArena();
    const big = bytes(3, 400_000);
    const id = a.add(sha(big), big);
    a.ref(id);
    expect(Buffer.from(a.bytes(id)).equals(Buffer.from(big))).to.equal(true);
    a.unref(id);
    expect(a.slabBytes).to.equal(0);
  });

  it('reads the timestamp and the keep-rule keys from the bytes as the parser does', () => {
    const alice = signedNode('alice');
    const bob = signedNode('bob');
    const bin = signedAnn(alice, {
      timestamp: 0x17a3b4c5d6e,
      isReset: true,
      snodeIp: SNODE,
      entities: [
        {
          type: 'Peer',
          ipv6: bob.ipv6,
          label: 0x13,
          peerNum: 0x1234,
          mtu: 1280,
          flags: 0,
          encodingFormNum: 0,
        },
        {
          type: 'LinkState',
          nodeId: 0x1234,
          startingPoint: 0,
          samples: [{ lag: 1, drops: 0, kbRecv: 2 }],
        },
      ],
    });
    const ann = parsed(bin);
    expect(parsedFromBytes(ann)).to.equal(true);
    const a = new AnnArena();
    const id = a.add(ann.hash, ann.binary);
    expect(a.timestamp(id)).to.equal(ann.timestamp);
    const [keys, n] = a.keepKeys(id, new Int32Array(1));
    expect(Array.from(keys.subarray(0, n))).to.deep.equal([
      KEEP_KEY_VERSION,
      KEEP_KEY_ENCODING_SCHEME,
      0x1234,
    ]);
    // the view parses to the same announcement
    const view = new ArenaAnnouncement(a, id);
    expect(view.entities).to.deep.equal(ann.entities);
    expect(view.timestampHex).to.equal(ann.timestampHex);
    expect(view.nodeIp).to.equal(ann.nodeIp);
    expect(view.isReset).to.equal(true);
  });

  it('keeps an announcement built as an object (not what its bytes say) as given', () => {
    const ann = mkReset('fc00:0000:0000:0000:0000:0000:0000:0001', 1000);
    expect(parsedFromBytes(ann)).to.equal(false);
    const a = new AnnArena();
    const id = a.add(ann.hash, ann.binary, ann);
    expect(a.timestamp(id)).to.equal(1000);
    const [keys, n] = a.keepKeys(id, new Int32Array(4));
    expect(Array.from(keys.subarray(0, n))).to.deep.equal([
      KEEP_KEY_VERSION,
      KEEP_KEY_ENCODING_SCHEME,
    ]);
    expect(new ArenaAnnouncement(a, id).entities).to.equal(ann.entities);
  });
});
