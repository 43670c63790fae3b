/**
 * A small typed wrapper around nact 7.6 (pinned: its last release; CommonJS, so it is imported
 * as a default export from ESM). What it adds to nact:
 *  - typed refs and messages;
 *  - bounded mailboxes: `tell` returns false (and counts a rejection) when an actor already has
 *    `mailboxLimit` messages queued or running — callers apply back-pressure or shed load
 *    (nact's own mailbox is unbounded);
 *  - an explicit crash policy on every spawn (nact's default stops the actor);
 *  - `ask` with a mandatory timeout and a typed RsError (RS_ERR_QUERY_TIMEOUT / RS_ERR_MAILBOX_FULL).
 * nact runs each message in its own setImmediate, one at a time per actor; a handler may be
 * async and the next message waits for it.
 */
import nact from 'nact';
import { RsError } from '../errors.ts';
import type { SupervisionPolicy } from './supervision.ts';

type NactRef = nact.Ref<unknown>;

export interface ActorRef<M> {
  readonly name: string;
  /** @internal */
  readonly nactRef: NactRef;
  /** @internal phantom type */
  readonly __msg?: M;
}

/** Where an `ask` reply goes. Put it in the message as `replyTo`. */
export interface ReplyTo<R> {
  /** @internal */
  readonly nactRef: NactRef;
  readonly __reply?: R;
}

export interface ActorContext<M> {
  readonly self: ActorRef<M>;
  readonly name: string;
  reply<R>(to: ReplyTo<R>, value: R): void;
}

export interface ActorDefinition<S, M> {
  readonly name: string;
  /** called at spawn and again on every restart (reset) */
  readonly initialState: () => S;
  readonly handle: (state: S, msg: M, ctx: ActorContext<M>) => S | Promise<S>;
  readonly supervision: SupervisionPolicy;
  /** queued + running messages above which `tell` refuses (default 10 000) */
  readonly mailboxLimit?: number;
  /** notified of every crash (logging, metrics) */
  readonly onCrash?: (error: unknown, decision: string) => void;
  /** called once after the actor stopped */
  readonly afterStop?: (state: S) => void;
}

interface Mailbox {
  pending: number;
  readonly limit: number;
  rejected: number;
}

export const DEFAULT_MAILBOX_LIMIT = 10_000;

export class ActorSystem {
  private readonly root: nact.ActorSystemRef;
  private readonly mailboxes = new WeakMap<NactRef, Mailbox>();
  private stopped = false;

  constructor(
    name = `snode-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    private readonly now: () => number = Date.now,
  ) {
    // nact reads the system name from an object first argument; its .d.ts only declares plugins
    this.root = nact.start({ name } as unknown as nact.Plugin);
  }

  spawn<S, M>(def: ActorDefinition<S, M>, parent?: ActorRef<unknown>): ActorRef<M> {
    const mailbox: Mailbox = { pending: 0, limit: def.mailboxLimit ?? DEFAULT_MAILBOX_LIMIT, rejected: 0 };
    const holder: { self?: ActorRef<M> } = {};
    const ctxOf = (): ActorContext<M> => ({
      self: holder.self!,
      name: def.name,
      reply: (to, value) => nact.dispatch(to.nactRef as nact.Ref<unknown>, value),
    });
    const handler = async (state: S, msg: M): Promise<S> => {
      try {
        return await def.handle(state, msg, ctxOf());
      } finally {
        mailbox.pending--;
      }
    };
    const ref = nact.spawn(
      (parent?.nactRef ?? this.root) as nact.Ref<unknown>,
      handler as unknown as nact.ActorFunc<S, M, nact.Ref<unknown>>,
      def.name,
      {
        initialStateFunc: () => def.initialState(),
        onCrash: (msg, error, ctx) => {
          const decision = def.supervision.decide({ actor: def.name, error, message: msg }, this.now());
          def.onCrash?.(error, decision);
          if (decision === 'reset') return ctx.reset;
          if (decision === 'resume') return ctx.resume;
          if (decision === 'escalate') return ctx.escalate;
          return ctx.stop;
        },
        afterStop: (state) => def.afterStop?.(state),
      },
    ) as unknown as NactRef;
    this.mailboxes.set(ref, mailbox);
    holder.self = { name: def.name, nactRef: ref };
    return holder.self;
  }

  /** Fire and forget. False when the mailbox is full (the message was not queued). */
  tell<M>(ref: ActorRef<M>, msg: M): boolean {
    const mb = this.mailboxes.get(ref.nactRef);
    if (!mb || this.stopped) return false;
    if (mb.pending >= mb.limit) {
      mb.rejected++;
      return false;
    }
    mb.pending++;
    try {
      nact.dispatch(ref.nactRef as nact.Ref<M>, msg);
    } catch {
      // the actor stopped (crash budget spent, or stop()): nact asserts; report "not queued"
      mb.pending--;
      this.mailboxes.delete(ref.nactRef);
      return false;
    }
    return true;
  }

  /** Send a message carrying `replyTo` and wait for the reply, at most `timeoutMs`. */
  async ask<M, R>(ref: ActorRef<M>, build: (replyTo: ReplyTo<R>) => M, timeoutMs: number): Promise<R> {
    const mb = this.mailboxes.get(ref.nactRef);
    if (!mb || this.stopped) throw new RsError('RS_ERR_MAILBOX_FULL', `actor ${ref.name} is not running`);
    if (mb.pending >= mb.limit) {
      mb.rejected++;
      throw new RsError('RS_ERR_MAILBOX_FULL', `mailbox of ${ref.name} is full (${mb.limit})`);
    }
    mb.pending++;
    try {
      return (await nact.query(ref.nactRef as nact.Ref<M>, (temp: nact.Ref<R>) => build({ nactRef: temp as NactRef }), timeoutMs)) as R;
    } catch (e) {
      if (e instanceof Error && e.message === 'Query Timeout') {
        throw new RsError('RS_ERR_QUERY_TIMEOUT', `${ref.name} did not answer within ${timeoutMs} ms`);
      }
      throw e;
    }
  }

  /** Messages queued or running, and how many tells were refused. */
  mailboxStats(ref: ActorRef<unknown>): { pending: number; limit: number; rejected: number } {
    const mb = this.mailboxes.get(ref.nactRef);
    return mb ? { pending: mb.pending, limit: mb.limit, rejected: mb.rejected } : { pending: 0, limit: 0, rejected: 0 };
  }

  stop(ref: ActorRef<unknown>): void {
    nact.stop(ref.nactRef as nact.Ref<unknown>);
    this.mailboxes.delete(ref.nactRef);
  }

  shutdown(): void {
    if (this.stopped) return;
    this.stopped = true;
    nact.stop(this.root);
  }
}
