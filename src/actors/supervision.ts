/**
 * Explicit crash policies (nact's default stops a crashed actor and logs with console.log).
 * Every spawn names one. Restarts are rate-limited OTP-style: at most `maxRestarts` within
 * `withinMs`; past the budget the policy's `onExhausted` decides (stop, or escalate to the parent).
 */
export type CrashDecision = 'resume' | 'reset' | 'stop' | 'escalate';

export interface CrashInfo {
  readonly actor: string;
  readonly error: unknown;
  readonly message: unknown;
}

export interface SupervisionPolicy {
  /** decide what happens to an actor whose handler threw */
  decide(info: CrashInfo, now: number): CrashDecision;
}

/** Restart (reset the actor's state via its initial-state function) within a budget. */
export function restartWithBudget(
  opts: { maxRestarts?: number; withinMs?: number; onExhausted?: 'stop' | 'escalate' } = {},
): SupervisionPolicy {
  const max = opts.maxRestarts ?? 5;
  const window = opts.withinMs ?? 5000;
  const restarts: number[] = [];
  return {
    decide(_info, now) {
      while (restarts.length > 0 && restarts[0]! < now - window) restarts.shift();
      if (restarts.length >= max) return opts.onExhausted ?? 'stop';
      restarts.push(now);
      return 'reset';
    },
  };
}

/** Keep the state and go on with the next message (for stateless workers). */
export const resumeAlways: SupervisionPolicy = { decide: () => 'resume' };

/** Stop on the first crash (for actors whose owner re-creates them, e.g. a peer connection). */
export const stopOnCrash: SupervisionPolicy = { decide: () => 'stop' };

/**
 * `restartWithBudget` kept separately for every member of an actor family (one budget per
 * node, so a node that keeps crashing cannot spend the budget of the others). At most
 * `maxTracked` members are tracked; the least recently crashed is forgotten first.
 */
export function restartWithBudgetPerActor(
  opts: {
    maxRestarts?: number;
    withinMs?: number;
    onExhausted?: 'stop' | 'escalate';
    maxTracked?: number;
  } = {},
): SupervisionPolicy {
  const budgets = new Map<string, SupervisionPolicy>();
  const maxTracked = opts.maxTracked ?? 10_000;
  return {
    decide(info, now) {
      let p = budgets.get(info.actor);
      if (p) budgets.delete(info.actor);
      else p = restartWithBudget(opts);
      budgets.set(info.actor, p);
      if (budgets.size > maxTracked) budgets.delete(budgets.keys().next().value!);
      return p.decide(info, now);
    },
  };
}
