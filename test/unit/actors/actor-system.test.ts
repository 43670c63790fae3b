import { expect } from 'chai';
import { ActorSystem, type ReplyTo } from '../../../src/actors/actor-system.ts';
import { restartWithBudget, resumeAlways, stopOnCrash } from '../../../src/actors/supervision.ts';
import { until } from '../../helpers/fast-server.ts';

type CounterMsg =
  | { type: 'Add'; n: number }
  | { type: 'Get'; replyTo: ReplyTo<number> }
  | { type: 'Crash' }
  | { type: 'Slow'; ms: number }
  | { type: 'Wait'; until: Promise<void> };

function counter(
  system: ActorSystem,
  opts: {
    mailboxLimit?: number;
    policy?: ReturnType<typeof restartWithBudget>;
    start?: () => number;
  } = {},
) {
  return system.spawn<number, CounterMsg>({
    name: `counter-${Math.random().toString(36).slice(2)}`,
    initialState: opts.start ?? (() => 0),
    supervision: opts.policy ?? restartWithBudget({ maxRestarts: 2, withinMs: 60_000 }),
    mailboxLimit: opts.mailboxLimit,
    handle: async (state, msg, ctx) => {
      switch (msg.type) {
        case 'Add':
          return state + msg.n;
        case 'Get':
          ctx.reply(msg.replyTo, state);
          return state;
        case 'Crash':
          throw new Error('boom');
        case 'Slow':
          await new Promise((r) => setTimeout(r, msg.ms));
          return state;
        case 'Wait':
          await msg.until;
          return state;
      }
    },
  });
}

describe('actor-system', () => {
  let system: ActorSystem;
  beforeEach(() => {
    system = new ActorSystem();
  });
  afterEach(() => system.shutdown());

  describe('#tell() / #ask()', () => {
    it('processes messages in order and answers asks', async () => {
      const ref = counter(system);
      for (let i = 1; i <= 10; i++) expect(system.tell(ref, { type: 'Add', n: i })).to.equal(true);
      expect(
        await system.ask<CounterMsg, number>(ref, (replyTo) => ({ type: 'Get', replyTo }), 1000),
      ).to.equal(55);
    });

    it('times out an ask with RS_ERR_QUERY_TIMEOUT', async () => {
      const ref = counter(system);
      system.tell(ref, { type: 'Slow', ms: 200 });
      const err = await system
        .ask<CounterMsg, number>(ref, (replyTo) => ({ type: 'Get', replyTo }), 20)
        .then(
          () => undefined,
          (e: { code?: string }) => e,
        );
      expect(err?.code).to.equal('RS_ERR_QUERY_TIMEOUT');
    });
  });

  describe('bounded mailbox', () => {
    it('refuses tells beyond the limit and counts them, then accepts again once drained', async () => {
      const ref = counter(system, { mailboxLimit: 3 });
      // the first message holds the actor until the test lets it go: no timing involved
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      expect(system.tell(ref, { type: 'Wait', until: gate })).to.equal(true);
      expect(system.tell(ref, { type: 'Add', n: 1 })).to.equal(true);
      expect(system.tell(ref, { type: 'Add', n: 1 })).to.equal(true);
      expect(system.tell(ref, { type: 'Add', n: 1 })).to.equal(false);
      expect(system.mailboxStats(ref)).to.include({ pending: 3, limit: 3, rejected: 1 });
      const err = await system
        .ask<CounterMsg, number>(ref, (replyTo) => ({ type: 'Get', replyTo }), 100)
        .catch((e: { code?: string }) => e);
      expect((err as { code?: string }).code).to.equal('RS_ERR_MAILBOX_FULL');
      expect(system.mailboxStats(ref)).to.include({ pending: 3, rejected: 2 });
      release();
      await until(() => system.mailboxStats(ref).pending === 0, 'the mailbox drained');
      expect(system.mailboxStats(ref)).to.include({ pending: 0, limit: 3, rejected: 2 });
      expect(
        await system.ask<CounterMsg, number>(ref, (replyTo) => ({ type: 'Get', replyTo }), 1000),
      ).to.equal(2);
    });
  });

  describe('supervision', () => {
    it('restarts a crashed actor from its initial state and keeps processing', async () => {
      let starts = 0;
      const ref = counter(system, { start: () => (starts++, 100) });
      system.tell(ref, { type: 'Add', n: 5 });
      system.tell(ref, { type: 'Crash' });
      system.tell(ref, { type: 'Add', n: 1 });
      expect(
        await system.ask<CounterMsg, number>(ref, (replyTo) => ({ type: 'Get', replyTo }), 1000),
      ).to.equal(101);
      expect(starts).to.equal(2);
      expect(system.mailboxStats(ref).pending).to.equal(0);
    });

    it('stops the actor once the restart budget is spent', async () => {
      const ref = counter(system, {
        policy: restartWithBudget({ maxRestarts: 1, withinMs: 60_000 }),
      });
      system.tell(ref, { type: 'Crash' });
      system.tell(ref, { type: 'Crash' });
      const err = await system
        .ask<CounterMsg, number>(ref, (replyTo) => ({ type: 'Get', replyTo }), 100)
        .catch((e: { code?: string }) => e);
      expect((err as { code?: string }).code).to.equal('RS_ERR_QUERY_TIMEOUT');
    });

    it('resumes with the same state under resumeAlways, stops under stopOnCrash', async () => {
      const a = system.spawn<number, CounterMsg>({
        name: 'resumer',
        initialState: () => 7,
        supervision: resumeAlways,
        handle: (s, m, ctx) => {
          if (m.type === 'Crash') throw new Error('x');
          if (m.type === 'Get') ctx.reply(m.replyTo, s);
          return s;
        },
      });
      system.tell(a, { type: 'Crash' });
      expect(
        await system.ask<CounterMsg, number>(a, (replyTo) => ({ type: 'Get', replyTo }), 1000),
      ).to.equal(7);
      const crashes: string[] = [];
      const b = system.spawn<number, CounterMsg>({
        name: 'stopper',
        initialState: () => 0,
        supervision: stopOnCrash,
        onCrash: (_e, d) => crashes.push(d),
        handle: () => {
          throw new Error('y');
        },
      });
      system.tell(b, { type: 'Crash' });
      await new Promise((r) => setTimeout(r, 20));
      expect(crashes).to.deep.equal(['stop']);
    });

    it('hands an escalation to the root, which stops the actor and reports it', async () => {
      const reported: Array<[string, string]> = [];
      const sys = new ActorSystem(undefined, Date.now, (actor, error) =>
        reported.push([actor, (error as Error).message]),
      );
      try {
        const ref = counter(sys, {
          policy: restartWithBudget({ maxRestarts: 1, withinMs: 60_000, onExhausted: 'escalate' }),
        });
        sys.tell(ref, { type: 'Crash' }); // restarted
        expect(
          await sys.ask<CounterMsg, number>(ref, (replyTo) => ({ type: 'Get', replyTo }), 1000),
        ).to.equal(0);
        sys.tell(ref, { type: 'Crash' }); // budget spent: escalated
        for (let i = 0; i < 200 && sys.isRunning(ref); i++)
          await new Promise((r) => setTimeout(r, 5));
        expect(sys.isRunning(ref)).to.equal(false);
        expect(reported).to.deep.equal([[ref.name, 'boom']]);
        expect(sys.tell(ref, { type: 'Add', n: 1 })).to.equal(false);
      } finally {
        sys.shutdown();
      }
    });
  });
});
