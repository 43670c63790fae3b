/**
 * The `sq: "pc"` query and its reply (docs/seeder.md): the reply carries `txid`, a non-zero `p`
 * (the C node drops a reply without it), `recvTime`, and `pr` or `err` (cut to 128 bytes).
 */
import { expect } from 'chai';
import { bencodeDecode, bencodeEncode, type BDict } from '../../../src/protocol/bencode.ts';
import { buildPcReply, parsePcQuery } from '../../../src/protocol/seeder-message.ts';
import { expectRsError } from '../../helpers/errors.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('seeder message (sq: pc)', () => {
  const txid = enc('01abcdEFGHIJKL');

  it('reads txid, pc and p', () => {
    const raw: BDict = {
      sq: enc('pc'),
      txid,
      pc: Uint8Array.of(4, 3, 0x41),
      p: 22,
      es: Uint8Array.of(0x61),
      ei: 0,
    };
    const q = parsePcQuery(raw);
    expect(q).to.deep.equal({ kind: 'pc', raw, txid, pc: Uint8Array.of(4, 3, 0x41), p: 22 });
    expect(parsePcQuery({ sq: enc('pc'), txid }).pc).to.equal(undefined);
  });

  it('refuses a missing txid and fields of the wrong type', () => {
    expectRsError(
      () => parsePcQuery({ sq: enc('pc'), pc: Uint8Array.of(1) }),
      'RS_ERR_SUBNODE_INVALID',
    );
    expectRsError(() => parsePcQuery({ sq: enc('pc'), txid: 5 }), 'RS_ERR_SUBNODE_INVALID');
    expectRsError(() => parsePcQuery({ sq: enc('pc'), txid, pc: 5 }), 'RS_ERR_SUBNODE_INVALID');
    expectRsError(() => parsePcQuery({ sq: enc('pc'), txid, pc: [] }), 'RS_ERR_SUBNODE_INVALID');
    expectRsError(
      () => parsePcQuery({ sq: enc('pc'), txid, p: enc('22') }),
      'RS_ERR_SUBNODE_INVALID',
    );
  });

  it('builds {txid, p, recvTime, pr}, keys sorted on the wire, pr possibly empty', () => {
    const reply = buildPcReply({
      txid,
      p: 22,
      recvTime: 1_700_000_000_123,
      outcome: { pr: new Uint8Array(0) },
    });
    expect(Buffer.from(bencodeEncode(reply)).toString('latin1')).to.equal(
      'd1:pi22e2:pr0:8:recvTimei1700000000123e4:txid14:01abcdEFGHIJKLe',
    );
    const withPeers = buildPcReply({
      txid,
      p: 22,
      recvTime: 1,
      outcome: { pr: Uint8Array.of(2, 2) },
    });
    expect(bencodeDecode(bencodeEncode(withPeers))).to.deep.equal({
      p: 22,
      pr: Uint8Array.of(2, 2),
      recvTime: 1,
      txid,
    });
  });

  it('builds {txid, p, recvTime, err} with err cut to 128 bytes on a character boundary', () => {
    const reply = buildPcReply({ txid, p: 22, recvTime: 1, outcome: { err: 'TLV is truncated' } });
    expect(Buffer.from(bencodeEncode(reply)).toString('latin1')).to.equal(
      'd3:err16:TLV is truncated1:pi22e8:recvTimei1e4:txid14:01abcdEFGHIJKLe',
    );
    expect(
      (
        buildPcReply({ txid, p: 22, recvTime: 1, outcome: { err: 'x'.repeat(300) } })
          .err as Uint8Array
      ).length,
    ).to.equal(128);
    const cut = buildPcReply({ txid, p: 22, recvTime: 1, outcome: { err: 'x'.repeat(127) + 'é' } })
      .err as Uint8Array;
    expect(Buffer.from(cut).toString('utf8')).to.equal('x'.repeat(127));
  });

  it('never builds a reply without a positive p', () => {
    for (const p of [0, -1, 1.5])
      expectRsError(
        () => buildPcReply({ txid, p, recvTime: 1, outcome: { pr: new Uint8Array(0) } }),
        'RS_ERR_SUBNODE_INVALID',
      );
  });
});
