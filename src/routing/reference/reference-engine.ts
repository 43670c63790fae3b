/**
 * The reference engine (`routing.mode: reference`): the original route server's timing, kept as
 * the oracle of the tests and the engine of `snode replay`. One node table applied
 * synchronously on this thread (docs/protocol.md §4.2), routes from a graph rebuilt lazily by
 * the first query after 3 s (route-engine.ts) — the original's route choice, or under policy
 * `best` the plain search on the records (best-route.ts). Nothing here does I/O.
 */
import type { AnnouncementSource } from '../../graph/announcement-source.ts';
import {
  NodeTable,
  parseAnnounceInput,
  type AnnounceInput,
  type AnnounceOutcome,
} from '../../graph/apply-announcement.ts';
import type { Announcement } from '../../protocol/announcement-types.ts';
import type { GrRoute, RouteJson } from '../route-answer.ts';
import type { ApplyRules, EngineDeps, RoutingEngine } from '../routing-engine.ts';
import type { RoutePolicy } from '../route-policy.ts';
import { RouteEngine } from './route-engine.ts';

export class ReferenceEngine implements RoutingEngine {
  readonly nodes = new NodeTable();
  /** the original's `getRoute` (or the plain `best` search): lazy graph, `dst|src` cache */
  readonly routes: RouteEngine;

  constructor(
    private readonly deps: EngineDeps,
    /** which routes to answer (default `original`) */
    policy: RoutePolicy = 'original',
  ) {
    this.routes = new RouteEngine(this.nodes, policy);
  }

  /** On this thread: always at once. */
  parse(bytes: Uint8Array, verify: boolean): AnnounceInput {
    return parseAnnounceInput(bytes, verify);
  }

  /** Synchronously: the outcome is recorded before this returns. */
  apply(ann: Announcement, rules: ApplyRules, source: AnnouncementSource): AnnounceOutcome {
    const { now, selfIp, recorder } = this.deps;
    const outcome = this.nodes.handleAnnounce(
      { ann },
      { fromNode: rules.fromNode, now: now(), selfIp: rules.selfCheck ? selfIp() : undefined },
    );
    recorder.applied(outcome, source);
    return outcome;
  }

  /** Parse and apply in order (a parse failure is recorded as `submit` records it). */
  restore(bytes: readonly Uint8Array[], rules: ApplyRules, source: AnnouncementSource): string[] {
    return bytes.map((b) => {
      const parsed = this.parse(b, false);
      if ('ann' in parsed) return this.apply(parsed.ann, rules, source).error;
      return 'failed_parse_or_validate';
    });
  }

  route(srcIp: string, dstIp: string): RouteJson | null {
    return this.routes.getRoute(srcIp, dstIp, this.deps.now());
  }

  routeForGr(srcIp: string, dstIp: string): GrRoute | null {
    return this.routes.getRouteForGr(srcIp, dstIp, this.deps.now());
  }

  /** Returns the number of announcements that left the store. */
  expire(now: number): number {
    const deleted = this.nodes.expire(now);
    this.deps.recorder.expired(deleted);
    return deleted.length;
  }

  async sync(): Promise<void> {}

  async close(): Promise<void> {}
}
