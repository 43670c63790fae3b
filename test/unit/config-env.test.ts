/**
 * SNODE_* variables: every config variable maps to its key, booleans are parsed strictly, lists
 * are split, and a SNODE_* variable snode does not read is reported with the nearest known name.
 */
import { expect } from 'chai';
import { ENV_VARIABLES, configFromEnv, parseEnvBoolean } from '../../src/config-env.ts';
import type { ConfigWarning } from '../../src/config-file.ts';

function rejected(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    return e as { code: string; message: string };
  }
  return expect.fail('expected a refusal');
}

describe('config from the environment', () => {
  it('booleans: 1/true and 0/false in any case; anything else names the variable', () => {
    for (const t of ['1', 'true', 'TRUE', 'True', ' true '])
      expect(parseEnvBoolean('SNODE_CJDNS', t), t).to.equal(true);
    for (const f of ['0', 'false', 'FALSE'])
      expect(parseEnvBoolean('SNODE_CJDNS', f), f).to.equal(false);
    for (const bad of ['yes', 'on', 'no', '2', 'tru', 'enabled']) {
      const e = rejected(() => configFromEnv({ SNODE_CJDNS: bad }));
      expect(e.code, bad).to.equal('RS_ERR_CONFIG_INVALID');
      expect(e.message, bad).to.contain('SNODE_CJDNS: must be 1, true, 0 or false');
    }
  });

  it('SNODE_CJDNS=0 sets cjdns.enabled false (it overrides a file that enables it)', () => {
    expect(configFromEnv({ SNODE_CJDNS: '0' })).to.deep.equal({ cjdns: { enabled: false } });
    expect(configFromEnv({ SNODE_CJDNS: 'true' })).to.deep.equal({ cjdns: { enabled: true } });
  });

  it('lists are comma separated, blanks dropped; empty variables are unset', () => {
    expect(configFromEnv({ SNODE_PEERS: ' ws://a/x , ,ws://b/y,' })).to.deep.equal({
      peers: ['ws://a/x', 'ws://b/y'],
    });
    expect(configFromEnv({ SNODE_PEERS: '', SNODE_CJDNS: '', SNODE_HTTP_PORT: '' })).to.deep.equal(
      {},
    );
  });

  it('every variable of the table reaches its key', () => {
    for (const { name, path, kind } of ENV_VARIABLES) {
      const value = kind === 'boolean' ? '1' : kind === 'list' ? 'ws://x/y' : 'v';
      let o: unknown = configFromEnv({ [name]: value });
      for (const k of path) o = (o as Record<string, unknown>)[k];
      expect(o, name).to.deep.equal(
        kind === 'boolean' ? true : kind === 'list' ? ['ws://x/y'] : 'v',
      );
    }
  });

  it('warns about SNODE_* variables it does not read, suggesting the nearest known one', () => {
    const warnings: ConfigWarning[] = [];
    const out = configFromEnv(
      {
        SNODE_HTTP_PROT: '4000',
        SNODE_LOGLEVEL: 'debug',
        SNODE_COMPLETELY_ELSE: 'x',
        SNODE_FROM_SOURCE: '1',
        HOME: '/root',
        SNODE_HTTP_PORT: '1',
      },
      (w) => warnings.push(w),
    );
    expect(out).to.deep.equal({ http: { port: '1' } });
    expect(warnings.map((w) => [w.event, w.variable, w.didYouMean])).to.deep.equal([
      ['config:env:unknown', 'SNODE_COMPLETELY_ELSE', undefined],
      ['config:env:unknown', 'SNODE_HTTP_PROT', 'SNODE_HTTP_PORT'],
      ['config:env:unknown', 'SNODE_LOGLEVEL', 'SNODE_LOG_LEVEL'],
    ]);
    expect(warnings[1]!.message).to.contain('did you mean SNODE_HTTP_PORT?');
  });
});
