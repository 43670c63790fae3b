import { expect } from 'chai';
import {
  encodeDel,
  encodeLogHeader,
  encodePut,
  LOG_HEADER_BYTES,
} from '../../../src/store/log-format.ts';
import { openLogContents } from '../../../src/store/log-reader.ts';
import { MemoryLogMedium } from '../../../src/store/memory-log-medium.ts';
import { captureLogger, fakeAnn, hex, keyHex } from './fixtures.ts';

const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

describe('store: reading the log at start', () => {
  const a = fakeAnn(1, 1000);
  const b = fakeAnn(2, 1001, 300);
  const c = fakeAnn(1, 1002, 5000);
  const good = concat(
    encodeLogHeader(),
    encodePut(a.hash, a.binary, a.nodeKey),
    encodePut(b.hash, b.binary, b.nodeKey),
    encodeDel(a.hash),
    encodePut(c.hash, c.binary, c.nodeKey),
  );

  it('starts an empty medium with a header', async () => {
    const m = new MemoryLogMedium();
    const { log } = captureLogger();
    const r = await openLogContents(m, log);
    expect(r.live).to.deep.equal([]);
    expect(r.stats.bytes).to.equal(LOG_HEADER_BYTES);
    expect([...m.bytes()]).to.deep.equal([...encodeLogHeader()]);
    expect(m.syncedBytes).to.equal(LOG_HEADER_BYTES);
  });

  it('resolves PUTs and DELs into the live announcements in first-PUT order', async () => {
    const m = MemoryLogMedium.holding(concat(good, encodePut(b.hash, b.binary, b.nodeKey)));
    const { log, lines } = captureLogger();
    const r = await openLogContents(m, log);
    expect(r.live.map(keyHex)).to.deep.equal([hex(b.hash), hex(c.hash)]);
    expect([...r.live[1]!.announcement]).to.deep.equal([...c.binary]);
    expect(r.stats).to.include({
      puts: 4,
      dels: 1,
      droppedBytes: 0,
      bytes: good.length + encodePut(b.hash, b.binary, b.nodeKey).length,
    });
    expect(r.stats.damage).to.equal(undefined);
    expect(lines).to.deep.equal([]);
  });

  it('drops a tail torn at any byte, logs it, and appends after the last whole record', async () => {
    const last = encodePut(c.hash, c.binary, c.nodeKey);
    const whole = good.length - last.length;
    for (let cut = whole + 1; cut < good.length; cut += 97) {
      const m = MemoryLogMedium.holding(good.subarray(0, cut));
      const { log, lines } = captureLogger();
      const r = await openLogContents(m, log);
      expect(r.live.map(keyHex), `cut at ${cut}`).to.deep.equal([hex(b.hash)]);
      expect(r.stats).to.include({ bytes: whole, droppedBytes: cut - whole });
      expect(r.stats.damage).to.deep.equal({ offset: whole, reason: 'incomplete' });
      expect(m.bytes().length).to.equal(whole);
      expect(lines.map((l) => l.event)).to.deep.equal(['store:log:tail_dropped']);
      expect(lines[0]).to.include({ offset: whole, droppedBytes: cut - whole, level: 40 });
    }
  });

  it('drops a tail of zeros (what a crashed file system can leave) and a flipped bit', async () => {
    const zeros = MemoryLogMedium.holding(concat(good, new Uint8Array(4096)));
    const r1 = await openLogContents(zeros, captureLogger().log);
    expect(r1.stats).to.include({ bytes: good.length, droppedBytes: 4096 });
    expect(r1.stats.damage?.reason).to.equal('bad_length');
    expect(r1.live).to.have.length(2);

    const flipped = new Uint8Array(good);
    const at = good.length - 10; // inside the last record's announcement
    flipped[at] = flipped[at]! ^ 0x20;
    const m = MemoryLogMedium.holding(flipped);
    const r2 = await openLogContents(m, captureLogger().log);
    expect(r2.stats.damage?.reason).to.equal('bad_checksum');
    expect(r2.live.map(keyHex)).to.deep.equal([hex(b.hash)]);
    expect(m.bytes().length).to.equal(r2.stats.bytes);
  });

  it('uses nothing after the first bad record', async () => {
    const bad = new Uint8Array(good);
    bad[LOG_HEADER_BYTES + 5] = bad[LOG_HEADER_BYTES + 5]! ^ 1; // the first record's checksum
    const m = MemoryLogMedium.holding(bad);
    const r = await openLogContents(m, captureLogger().log);
    expect(r.live).to.deep.equal([]);
    expect(r.stats).to.include({
      bytes: LOG_HEADER_BYTES,
      droppedBytes: good.length - LOG_HEADER_BYTES,
    });
  });

  it('starts again after a header torn while the file was created', async () => {
    const m = MemoryLogMedium.holding(encodeLogHeader().subarray(0, 9));
    const r = await openLogContents(m, captureLogger().log);
    expect(r.live).to.deep.equal([]);
    expect([...m.bytes()]).to.deep.equal([...encodeLogHeader()]);
    expect(r.stats.droppedBytes).to.equal(9);
  });

  it('sets a file that is not a log of ours aside instead of overwriting it', async () => {
    const m = MemoryLogMedium.holding(
      new TextEncoder().encode('{"this": "is somebody else\'s file"}\n'),
    );
    const { log, lines } = captureLogger();
    const r = await openLogContents(m, log);
    expect(r.stats.setAside).to.be.a('string');
    expect(r.live).to.deep.equal([]);
    expect(m.counts.setAside).to.equal(1);
    expect([...m.bytes()]).to.deep.equal([...encodeLogHeader()]);
    expect(lines.map((l) => l.event)).to.deep.equal(['store:log:set_aside']);
    expect(lines[0].level).to.equal(50);
  });

  it("reads records that cross the medium's read chunks", async () => {
    // the memory medium reads 4 KiB at a time; these records are larger
    const big = [fakeAnn(3, 1, 9000), fakeAnn(4, 2, 4097), fakeAnn(5, 3, 120)];
    const m = MemoryLogMedium.holding(
      concat(encodeLogHeader(), ...big.map((x) => encodePut(x.hash, x.binary, x.nodeKey))),
    );
    const r = await openLogContents(m, captureLogger().log);
    expect(r.live.map((s) => s.announcement.length)).to.deep.equal([9000, 4097, 120]);
    expect(r.stats.damage).to.equal(undefined);
  });
});
