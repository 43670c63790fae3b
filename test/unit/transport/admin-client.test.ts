import { expect } from 'chai';
import { createSocket } from 'node:dgram';
import { isRsError } from '../../../src/errors.ts';
import { bencodeEncode } from '../../../src/protocol/bencode.ts';
import { AdminClient } from '../../../src/transport/admin-client.ts';
import { FakeCjdroute, captureNodeInfo, waitFor } from '../../helpers/fake-cjdroute.ts';

async function rejection(
  p: Promise<unknown>,
): Promise<{ code: string; context: Record<string, unknown> | undefined }> {
  try {
    await p;
  } catch (e) {
    if (!isRsError(e)) throw e;
    return { code: e.code, context: e.context as Record<string, unknown> | undefined };
  }
  throw new Error('expected a rejection');
}

describe('transport/admin-client', () => {
  describe('AdminClient', () => {
    let fake: FakeCjdroute;
    const clients: AdminClient[] = [];
    const client = (
      opts: Partial<ConstructorParameters<typeof AdminClient>[0]> = {},
    ): AdminClient => {
      const c = new AdminClient({
        addr: fake.address,
        port: fake.port,
        password: 'secret',
        timeoutMs: 100,
        retries: 2,
        ...opts,
      });
      clients.push(c);
      return c;
    };

    beforeEach(async () => {
      fake = await FakeCjdroute.start({ nodeInfo: captureNodeInfo('A'), password: 'secret' });
    });
    afterEach(async () => {
      for (const c of clients.splice(0)) await c.close();
      await fake.close();
    });

    describe('#call()', () => {
      it('authenticates with the cookie and sha256 hash and gets the reply', async () => {
        const c = client();
        const info = await c.nodeInfo();
        expect(info.myIp6).to.equal('fc0c:d99e:8c36:fbdf:7ac2:748a:05ba:31b4');
        expect(info.myAddr).to.match(/^v21\.0000\.0000\.0000\.0001\.5tuqmm/);
        expect(fake.requests).to.deep.equal(['cookie', 'Core_nodeInfo']);
        expect(fake.authFailures).to.equal(0);
      });

      it('fails with RS_ERR_ADMIN_AUTH on "Auth failed." and does not retry it', async () => {
        const c = client({ password: 'wrong' });
        const err = await rejection(c.listHandlers(0));
        expect(err.code).to.equal('RS_ERR_ADMIN_AUTH');
        expect(err.context?.error).to.equal('Auth failed.');
        expect(fake.requests).to.deep.equal(['cookie', 'UpperDistributor_listHandlers']);
      });

      it('fails auth when the cookie is older than 20 s, as cjdns does', async () => {
        const c = client();
        const real = fake.nowSeconds;
        let first = true;
        // the cookie is issued 30 s in the past, checked now
        fake.nowSeconds = () => (first ? ((first = false), real() - 30) : real());
        expect((await rejection(c.listHandlers(0))).code).to.equal('RS_ERR_ADMIN_AUTH');
      });

      it('calls a function that needs auth with the NONE password', async () => {
        fake.password = 'NONE';
        const c = client({ password: 'NONE' });
        await c.registerHandler(256, 4242);
        expect(fake.handlers).to.deep.equal([{ type: 256, udpPort: 4242 }]);
      });

      it('turns any other error string into RS_ERR_ADMIN_CALL with the string in context', async () => {
        const c = client();
        await c.registerHandler(256, 5000);
        const err = await rejection(c.registerHandler(256, 5000));
        expect(err.code).to.equal('RS_ERR_ADMIN_CALL');
        expect(err.context?.error).to.equal('UpperDistributor_registerHandler_PORT_REGISTERED');
        expect((await rejection(c.registerHandler(256, 0))).context?.error).to.equal(
          'invalid_udpPort',
        );
      });

      it('sends a plain query when auth is off', async () => {
        await client().ping();
        expect(fake.requests).to.deep.equal(['ping']);
      });

      it('retries a timed-out call with a new cookie and succeeds', async () => {
        const c = client();
        fake.dropRequests = 1; // the first cookie request is lost
        const { handlers } = await c.listHandlers(0);
        expect(handlers).to.deep.equal([]);
        expect(fake.requests).to.deep.equal(['cookie', 'cookie', 'UpperDistributor_listHandlers']);
        expect(c.stats()).to.include({ retries: 1, timeouts: 1 });
      });

      it('fails with RS_ERR_ADMIN_TIMEOUT after 1 + retries attempts', async () => {
        const c = client({ timeoutMs: 40, retries: 2 });
        fake.silent = true;
        const err = await rejection(c.nodeInfo());
        expect(err.code).to.equal('RS_ERR_ADMIN_TIMEOUT');
        expect(fake.requests).to.deep.equal(['cookie', 'cookie', 'cookie']);
        expect(c.stats()).to.include({ timeouts: 3, retries: 2, inFlight: 0 });
      });

      it('keeps at most maxInFlight calls on the wire and queues the rest', async () => {
        const c = client({ maxInFlight: 2, timeoutMs: 150, retries: 0 });
        fake.silent = true;
        const calls = [0, 1, 2, 3, 4].map((i) =>
          c.listHandlers(i).then(
            () => 'ok',
            (e: { code: string }) => e.code,
          ),
        );
        await waitFor(() => fake.requests.length === 2, 'two cookie requests');
        expect(c.stats()).to.include({ inFlight: 2, queued: 3 });
        fake.silent = false;
        const results = await Promise.all(calls);
        expect(results).to.deep.equal([
          'RS_ERR_ADMIN_TIMEOUT',
          'RS_ERR_ADMIN_TIMEOUT',
          'ok',
          'ok',
          'ok',
        ]);
        expect(c.stats()).to.include({ inFlight: 0, queued: 0 });
      });

      it('refuses a call when the queue is full (RS_ERR_ADMIN_BUSY)', async () => {
        const c = client({ maxInFlight: 1, maxQueued: 1, timeoutMs: 60, retries: 0 });
        fake.silent = true;
        const a = c.ping().catch(() => undefined);
        const b = c.ping().catch(() => undefined);
        expect((await rejection(c.ping())).code).to.equal('RS_ERR_ADMIN_BUSY');
        await Promise.all([a, b]);
      });

      it('drops garbage, foreign and stale datagrams and keeps working', async () => {
        const c = client();
        await c.ping(); // lets the fake learn the client's address
        const garbage = [
          new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
          new Uint8Array(0),
          bencodeEncode(['a', 'list']),
          bencodeEncode({ txid: 7 }),
          bencodeEncode({ txid: 'no-such-call', error: 'none' }),
          new Uint8Array(1200).fill(0x64), // "ddd…": nesting past the limit, unterminated
        ];
        for (const g of garbage) await fake.sendToClient(g);
        // a well-formed reply from another port is not the admin API
        const other = createSocket('udp4');
        const to = fake.client()!;
        await new Promise<void>((resolve) =>
          other.send(bencodeEncode({ txid: 'x', error: 'none' }), to.port, to.address, () =>
            resolve(),
          ),
        );
        other.close();
        await waitFor(
          () => c.stats().garbage + c.stats().stale >= garbage.length + 1,
          'garbage to be counted',
        );
        expect(c.stats()).to.include({ garbage: 6, stale: 1 });
        expect((await c.nodeInfo()).version).to.equal(21);
      });

      it('fails every pending call with RS_ERR_ADMIN_CLOSED on close()', async () => {
        const c = client({ timeoutMs: 5000 });
        fake.silent = true;
        const pending = rejection(c.nodeInfo());
        await waitFor(() => fake.requests.length === 1, 'the cookie request');
        await c.close();
        expect((await pending).code).to.equal('RS_ERR_ADMIN_CLOSED');
        expect((await rejection(c.ping())).code).to.equal('RS_ERR_ADMIN_CLOSED');
      });
    });

    describe('IPv6', () => {
      it('talks to an admin API on ::1', async () => {
        const fake6 = await FakeCjdroute.start({
          nodeInfo: captureNodeInfo('B'),
          password: 'pw6',
          address: '::1',
        });
        const c = new AdminClient({
          addr: '::1',
          port: fake6.port,
          password: 'pw6',
          timeoutMs: 200,
        });
        try {
          expect(c.endpoint).to.equal(`[::1]:${fake6.port}`);
          expect((await c.nodeInfo()).myIp6).to.equal('fca2:86df:b9f7:6f46:2792:a59b:834d:975b');
        } finally {
          await c.close();
          await fake6.close();
        }
      });
    });
  });
});
