/**
 * A small typed wrapper around nact 7.6 (pinned: `"nact": "7.6.2"`, its last release). What it
 * adds to nact:
 *  - typed refs and messages;
 *  - bounded mailboxes: `tell` returns false (and counts a rejection) when an actor already has
 *    `mailboxLimit` messages queued or running — callers apply back-pressure or shed load
 *    (nact's own mailbox is an unbounded denque);
 *  - an explicit crash policy on every spawn (nact's default stops the actor and logs with
 *    console.log);
 *  - `ask` with a mandatory timeout and a typed RsError (RS_ERR_QUERY_TIMEOUT / RS_ERR_MAILBOX_FULL),
 *    answered through a reply registry (no temporary nact actor and timer per ask, as
 *    `nact.query` would create: asks are on the announcement hot path);
 *  - actor families (`family()`): many actors of one kind (one per announcing node) share their
 *    handler, supervision and hooks, so an actor costs nact's own object (~1.3 KB) and little
 *    else; `spawn()` is a family of one.
 *
 * nact quirks (ESM): it is CommonJS, so it is imported as a default export (`import nact from
 * 'nact'`; named imports fail at run time); its .d.ts does not declare the `{name}` form of
 * `start`; `dispatch` to a stopped actor throws an AssertionError (we turn that into `false`).
 * nact runs each message in its own setImmediate, one at a time per actor; a handler may be
 * async and the next message waits for it. A handler that throws leaves the state unchanged
 * and hands the crash to the supervision policy; the failed message is dropped.
 */
import nact from 'nact';
import { RsError } from '../errors.ts';
import type { CrashDecision, SupervisionPolicy } from './supervision.ts';

type NactRef = nact.Ref<unknown>;

interface Mailbox {
  pending: number;
  readonly limit: number;
  rejected: number;
  stopped: boolean;
}

export interface ActorRef<M> {
  readonly name: string;
  /** @internal */
  readonly nactRef: NactRef;
  /** @internal */
  readonly box: Mailbox;
  /** @internal phantom type */
  readonly __msg?: M;
}

/** Where an `ask` reply goes. Put it in the message as `replyTo`. Plain data (an id). */
export interface ReplyTo<R> {
  /** @internal the pending ask */
  readonly askId: number;
  readonly __reply?: R;
}

interface PendingAsk {
  resolve(value: unknown): void;
  reject(e: Error): void;
  readonly actor: string;
  readonly timeoutMs: number;
}

/** Asks with the same timeout expire in the order they were made: one FIFO and one timer each. */
interface TimeoutQueue {
  ids: number[];
  deadlines: number[];
  head: number;
  timer: NodeJS.Timeout | undefined;
}

/** The reply type of a message union (the `R` of its `replyTo: ReplyTo<R>` members). */
export type ReplyOf<M> = M extends { replyTo: ReplyTo<infer R> } ? R : never;

export interface ActorContext<M> {
  readonly self: ActorRef<M>;
  readonly name: string;
  reply<R>(to: ReplyTo<R>, value: R): void;
  /** `ActorSystem.tell` (bounded: false when the target's mailbox is full) */
  tell<T>(to: ActorRef<T>, msg: T): boolean;
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

/** Many actors of one kind, told apart by name (e.g. one per node IPv6). */
export interface FamilyDefinition<S, M> {
  /** the kind, used in logs and crash reports */
  readonly kind: string;
  /** called at spawn and on every restart (reset); `restart` is false at spawn */
  readonly initialState: (name: string, restart: boolean) => S;
  readonly handle: (state: S, msg: M, ctx: ActorContext<M>) => S | Promise<S>;
  /** one policy for the family; `CrashInfo.actor` names the member */
  readonly supervision: SupervisionPolicy;
  readonly mailboxLimit?: number;
  readonly onCrash?: (
    name: string,
    error: unknown,
    decision: CrashDecision,
    message: M | undefined,
  ) => void;
  readonly afterStop?: (name: string, state: S) => void;
}

export interface ActorFamily<M> {
  readonly kind: string;
  /** Spawn a member; names must be unique in the family. */
  spawn(name: string): ActorRef<M>;
  /** Live members. */
  readonly size: number;
}

export const DEFAULT_MAILBOX_LIMIT = 10_000;

interface Member<S, M> {
  ref: ActorRef<M>;
  ctx: ActorContext<M>;
  /** replies made while a message is being handled, delivered once it is done */
  replies: Array<[ReplyTo<unknown>, unknown]> | undefined;
  /** initialState ran once already (the next call is a restart) */
  started: boolean;
  /** phantom: the member's state type */
  readonly __state?: S;
}

export class ActorSystem {
  private readonly nactSystem: nact.ActorSystemRef;
  /** the parent of every actor spawned without one: decides about the escalations that reach it */
  private readonly root: NactRef;
  private stopped = false;
  private readonly asks = new Map<number, PendingAsk>();
  private readonly timeouts = new Map<number, TimeoutQueue>();
  private nextAskId = 1;

  /**
   * @param onEscalated an actor whose policy escalated (its restart budget spent) reached the
   *   root, which stops it and reports it here (nact's own root would only console.log)
   */
  constructor(
    name = `snode-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    private readonly now: () => number = Date.now,
    onEscalated: (actor: string, error: unknown) => void = () => undefined,
  ) {
    // nact reads the system name from an object first argument; its .d.ts only declares plugins
    this.nactSystem = nact.start({ name } as unknown as nact.Plugin);
    const rootProps = {
      onCrash: (
        _msg: unknown,
        error: unknown,
        ctx: { stopChild: unknown },
        child?: { name?: string },
      ) => {
        onEscalated(child?.name ?? '?', error);
        return ctx.stopChild;
      },
    };
    // (spawnStateless would override onCrash with `resume`)
    this.root = nact.spawn(
      this.nactSystem,
      (state: unknown) => state,
      'root',
      rootProps as unknown as nact.ActorProps<unknown, unknown, nact.Ref<unknown>>,
    ) as unknown as NactRef;
  }

  /** Define a family of actors sharing one behaviour (see FamilyDefinition). */
  family<S, M>(def: FamilyDefinition<S, M>, parent?: ActorRef<unknown>): ActorFamily<M> {
    const members = new Map<NactRef, Member<S, M>>();
    let spawning: Member<S, M> | undefined;
    const memberOf = (nactRef: unknown): Member<S, M> | undefined => {
      const m = members.get(nactRef as NactRef);
      if (m) return m;
      // nact calls initialStateFunc inside spawn, before we know the reference
      if (spawning) {
        members.set(nactRef as NactRef, spawning);
        return spawning;
      }
      return undefined;
    };
    const tell = <T>(to: ActorRef<T>, msg: T): boolean => this.tell(to, msg);
    const handler = async (state: S, msg: M, nctx: { self: unknown }): Promise<S> => {
      const m = memberOf(nctx.self)!;
      m.replies = [];
      try {
        return await def.handle(state, msg, m.ctx);
      } finally {
        m.ref.box.pending--;
        // an asker resumes only once the message is done (its mailbox count already lowered)
        const replies = m.replies;
        m.replies = undefined;
        for (const [to, value] of replies) this.reply(to, value);
      }
    };
    const properties = {
      initialStateFunc: (nctx: { self: unknown }): S => {
        const m = memberOf(nctx.self)!;
        const restart = m.started;
        m.started = true;
        return def.initialState(m.ref.name, restart);
      },
      onCrash: (
        msg: unknown,
        error: unknown,
        nctx: nact.SupervisionContext<unknown, NactRef> & { self: unknown },
      ) => {
        const m = memberOf(nctx.self);
        const name = m?.ref.name ?? '?';
        const decision = def.supervision.decide(
          { actor: `${def.kind}:${name}`, error, message: msg },
          this.now(),
        );
        def.onCrash?.(name, error, decision, msg as M | undefined);
        if (decision === 'reset') return nctx.reset;
        if (decision === 'resume') return nctx.resume;
        if (decision === 'escalate') return nctx.escalate;
        if (m) m.ref.box.stopped = true;
        return nctx.stop;
      },
      afterStop: (state: S, nctx: { self: unknown }): void => {
        const m = members.get(nctx.self as NactRef);
        if (!m) return;
        members.delete(nctx.self as NactRef);
        m.ref.box.stopped = true;
        def.afterStop?.(m.ref.name, state);
      },
    };
    const parentRef = (parent?.nactRef ?? this.root) as nact.Ref<unknown>;
    const limit = def.mailboxLimit ?? DEFAULT_MAILBOX_LIMIT;
    return {
      kind: def.kind,
      get size() {
        return members.size;
      },
      spawn: (name: string): ActorRef<M> => {
        const box: Mailbox = { pending: 0, limit, rejected: 0, stopped: false };
        // nact runs initialStateFunc inside spawn, before the reference exists: the member
        // starts with a provisional ref (name and mailbox are all initialState reads)
        const provisional: ActorRef<M> = { name, nactRef: undefined as unknown as NactRef, box };
        const member: Member<S, M> = {
          ref: provisional,
          ctx: undefined as unknown as ActorContext<M>,
          replies: undefined,
          started: false,
        };
        spawning = member;
        let nactRef: NactRef;
        try {
          nactRef = nact.spawn(
            parentRef,
            handler as unknown as nact.ActorFunc<S, M, nact.Ref<unknown>>,
            name,
            properties as unknown as nact.ActorProps<S, M, nact.Ref<unknown>>,
          ) as unknown as NactRef;
        } finally {
          spawning = undefined;
        }
        const ref: ActorRef<M> = { name, nactRef, box };
        member.ref = ref;
        member.ctx = {
          self: ref,
          name,
          reply: <R>(to: ReplyTo<R>, value: R): void => {
            if (member.replies) member.replies.push([to, value]);
            else this.reply(to, value);
          },
          tell,
        };
        members.set(nactRef, member);
        return ref;
      },
    };
  }

  spawn<S, M>(def: ActorDefinition<S, M>, parent?: ActorRef<unknown>): ActorRef<M> {
    return this.family<S, M>(
      {
        kind: def.name,
        initialState: () => def.initialState(),
        handle: def.handle,
        supervision: def.supervision,
        mailboxLimit: def.mailboxLimit,
        onCrash: def.onCrash
          ? (_name, error, decision) => def.onCrash!(error, decision)
          : undefined,
        afterStop: def.afterStop ? (_name, state) => def.afterStop!(state) : undefined,
      },
      parent,
    ).spawn(def.name);
  }

  /** Fire and forget. False when the mailbox is full or the actor stopped (not queued). */
  tell<M>(ref: ActorRef<M>, msg: M): boolean {
    const mb = ref.box;
    if (mb.stopped || this.stopped) return false;
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
      mb.stopped = true;
      return false;
    }
    return true;
  }

  /**
   * Send a message carrying `replyTo` and wait for the reply, at most `timeoutMs`. The reply
   * type defaults to the one the message union declares for `replyTo`. (TypeScript widens the
   * literal `type` of a message built in the callback unless the type arguments are given:
   * `system.ask<Msg, Reply>(ref, (replyTo) => ({ type: 'Get', replyTo }), ms)`.)
   */
  ask<M, R = ReplyOf<M>>(
    ref: ActorRef<M>,
    build: (replyTo: ReplyTo<R>) => M,
    timeoutMs: number,
  ): Promise<R> {
    const mb = ref.box;
    if (mb.stopped || this.stopped)
      return Promise.reject(new RsError('RS_ERR_MAILBOX_FULL', `actor ${ref.name} is not running`));
    if (mb.pending >= mb.limit) {
      mb.rejected++;
      return Promise.reject(
        new RsError('RS_ERR_MAILBOX_FULL', `mailbox of ${ref.name} is full (${mb.limit})`),
      );
    }
    const askId = this.nextAskId++;
    return new Promise<R>((resolve, reject) => {
      this.asks.set(askId, {
        resolve: resolve as (v: unknown) => void,
        reject,
        actor: ref.name,
        timeoutMs,
      });
      this.armTimeout(askId, timeoutMs);
      if (!this.tell(ref, build({ askId }))) {
        this.asks.delete(askId);
        reject(new RsError('RS_ERR_MAILBOX_FULL', `actor ${ref.name} is not running`));
      }
    });
  }

  /** Answer an ask (actors use `ctx.reply`). A reply after the timeout is dropped. */
  private reply<R>(to: ReplyTo<R>, value: R): void {
    const p = this.asks.get(to.askId);
    if (!p) return;
    this.asks.delete(to.askId);
    p.resolve(value);
  }

  private armTimeout(askId: number, timeoutMs: number): void {
    let q = this.timeouts.get(timeoutMs);
    if (!q) {
      q = { ids: [], deadlines: [], head: 0, timer: undefined };
      this.timeouts.set(timeoutMs, q);
    }
    q.ids.push(askId);
    q.deadlines.push(performance.now() + timeoutMs);
    if (!q.timer) this.scheduleTimeouts(q, timeoutMs);
  }

  private scheduleTimeouts(q: TimeoutQueue, timeoutMs: number): void {
    // skip asks answered already
    while (q.head < q.ids.length && !this.asks.has(q.ids[q.head]!)) q.head++;
    if (q.head >= q.ids.length) {
      q.ids = [];
      q.deadlines = [];
      q.head = 0;
      q.timer = undefined;
      return;
    }
    if (q.head > 1024 && q.head * 2 > q.ids.length) {
      q.ids = q.ids.slice(q.head);
      q.deadlines = q.deadlines.slice(q.head);
      q.head = 0;
    }
    const wait = Math.max(0, q.deadlines[q.head]! - performance.now());
    q.timer = setTimeout(() => {
      const now = performance.now();
      while (q.head < q.ids.length && q.deadlines[q.head]! <= now) {
        const id = q.ids[q.head++]!;
        const p = this.asks.get(id);
        if (!p) continue;
        this.asks.delete(id);
        p.reject(
          new RsError('RS_ERR_QUERY_TIMEOUT', `${p.actor} did not answer within ${p.timeoutMs} ms`),
        );
      }
      this.scheduleTimeouts(q, timeoutMs);
    }, Math.ceil(wait));
  }

  /** Messages queued or running, and how many tells were refused. */
  mailboxStats(ref: ActorRef<unknown>): { pending: number; limit: number; rejected: number } {
    const mb = ref.box;
    return mb.stopped
      ? { pending: 0, limit: 0, rejected: mb.rejected }
      : { pending: mb.pending, limit: mb.limit, rejected: mb.rejected };
  }

  /** True until the actor stopped (by `stop`, or by its crash policy). */
  isRunning(ref: ActorRef<unknown>): boolean {
    return !ref.box.stopped && !this.stopped;
  }

  stop(ref: ActorRef<unknown>): void {
    ref.box.stopped = true;
    nact.stop(ref.nactRef as nact.Ref<unknown>);
  }

  shutdown(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const q of this.timeouts.values()) if (q.timer) clearTimeout(q.timer);
    this.timeouts.clear();
    const err = new RsError('RS_ERR_MAILBOX_FULL', 'the actor system shut down');
    for (const p of this.asks.values()) p.reject(err);
    this.asks.clear();
    nact.stop(this.nactSystem);
  }
}
