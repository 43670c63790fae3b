import { expect } from 'chai';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileLogMedium } from '../../../src/store/file-log-medium.ts';

async function readAll(m: FileLogMedium): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of m.read()) parts.push(c);
  return Buffer.concat(parts);
}

describe('store: the log file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'snode-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the file (0600) and its directory (0700), appends, syncs and reads back', async () => {
    const path = join(dir, 'state', 'announcements.log');
    const m = await FileLogMedium.open(path);
    expect(statSync(path).mode & 0o777).to.equal(0o600);
    expect(statSync(join(dir, 'state')).mode & 0o777).to.equal(0o700);
    await m.append([Buffer.from('abc'), Buffer.alloc(0), Buffer.from('def')]);
    await m.sync();
    await m.append([Buffer.alloc(3 * 1024 * 1024, 7)]);
    await m.sync();
    const all = await readAll(m);
    expect(all.length).to.equal(6 + 3 * 1024 * 1024);
    expect(all.subarray(0, 6).toString()).to.equal('abcdef');
    await m.close();
    const again = await FileLogMedium.open(path);
    expect((await readAll(again)).length).to.equal(all.length);
    await again.close();
  });

  it('cuts a tail and appends after the cut', async () => {
    const path = join(dir, 'a.log');
    const m = await FileLogMedium.open(path);
    await m.append([Buffer.from('0123456789')]);
    await m.truncate(4);
    await m.append([Buffer.from('xy')]);
    await m.sync();
    expect(readFileSync(path, 'utf8')).to.equal('0123xy');
    await m.close();
  });

  it('replaces the content atomically on commit and keeps appending to the new file', async () => {
    const path = join(dir, 'a.log');
    const m = await FileLogMedium.open(path);
    await m.append([Buffer.from('old content')]);
    await m.sync();
    const r = await m.beginReplacement();
    await r.append([Buffer.from('new')]);
    expect(readFileSync(path, 'utf8'), 'before the commit').to.equal('old content');
    await m.append([Buffer.from('+')]);
    await r.commit();
    await m.append([Buffer.from('!')]);
    await m.sync();
    expect(readFileSync(path, 'utf8')).to.equal('new!');
    expect(existsSync(`${path}.compact`)).to.equal(false);
    await m.close();
  });

  it('leaves the old content when a replacement is aborted, and removes a replacement a crash left', async () => {
    const path = join(dir, 'a.log');
    const m = await FileLogMedium.open(path);
    await m.append([Buffer.from('keep')]);
    const r = await m.beginReplacement();
    await r.append([Buffer.from('drop')]);
    await r.abort();
    await r.abort();
    expect(readFileSync(path, 'utf8')).to.equal('keep');
    expect(existsSync(`${path}.compact`)).to.equal(false);
    await m.close();
    writeFileSync(`${path}.compact`, 'half a compaction');
    const again = await FileLogMedium.open(path);
    expect(existsSync(`${path}.compact`)).to.equal(false);
    expect((await readAll(again)).toString()).to.equal('keep');
    await again.close();
  });

  it('sets a file aside under a new name and starts empty', async () => {
    const path = join(dir, 'a.log');
    writeFileSync(path, 'not ours');
    const m = await FileLogMedium.open(path);
    const where = await m.setAside();
    expect(readFileSync(where, 'utf8')).to.equal('not ours');
    expect(readFileSync(path, 'utf8')).to.equal('');
    await m.append([Buffer.from('log')]);
    await m.sync();
    expect(readFileSync(path, 'utf8')).to.equal('log');
    expect(readdirSync(dir).filter((f) => f.startsWith('a.log.unreadable-'))).to.have.length(1);
    await m.close();
  });
});
