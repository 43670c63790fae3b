/**
 * Path → spliced routing label (docs/protocol.md §4.8 "Label").
 *
 * Walking the path src = n0 … nk = dst, hop i uses the best link (`[0]` after the graph sort) of
 * n_i from n_{i−1}: its label is in n_{i−1}'s scheme. Every switch swaps the forward director for
 * the reverse one as the packet passes, so at each intermediate node the forward director must be
 * at least as wide as the reverse one: when the label's form is narrower than the form of the
 * previous node's label back (`encodingFormNum` of the previous link), it is re-encoded to that
 * form. The first hop is never re-encoded and carries no `inverseFormNum`.
 *
 * Differences from the original (deliberate, they would otherwise crash or hand out a bogus
 * route): a failed re-encode, a link withdrawn or a node expired since the graph was built, and a
 * splice longer than 60 bits all give an error result (the route engine answers "no route"); the
 * original throws (no `gr` reply, crash on `/path`) or returns `ffff.ffff.ffff.ffff`.
 */
import { attempt, RsError, type Result } from '../errors.ts';
import type { EncodingScheme } from '../protocol/encoding-scheme-types.ts';
import { sharedSchemeJs, type SharedJsScheme } from '../protocol/scheme-json-memo.ts';
import {
  formatLabel,
  getEncodingForm,
  parseLabel,
  reEncode,
  spliceRoute,
} from '../protocol/routing-label.ts';
import type { NodeRecordView } from '../graph/node-record.ts';

/**
 * One hop as the original returns it (`/path`); `inverseFormNum` is absent on the first hop.
 * `scheme` is shared by every hop in that scheme (frozen, see scheme-json-memo.ts).
 */
export interface RouteHop {
  label: string;
  origLabel: string;
  scheme: SharedJsScheme;
  inverseFormNum?: number;
}

export interface RouteLabel {
  readonly label: bigint;
  readonly hops: RouteHop[];
}

/**
 * One hop of a path as label construction needs it: the best link of n_i from n_{i−1} (its
 * label, in n_{i−1}'s scheme, and the form of n_i's label back) and n_{i−1}'s scheme.
 */
export interface LabelStep {
  /** the link label as a number */
  readonly label: bigint;
  /** the label as the record stores it (the hop's `origLabel`) */
  readonly origLabel: string;
  readonly encodingFormNum: number;
  readonly scheme: EncodingScheme;
}

/** Build the label of `path` (`[src, …, dst]`, at least 2 nodes) from the current records. */
export function buildRouteLabel(
  path: readonly string[],
  lookup: (ip: string) => NodeRecordView | undefined,
): Result<RouteLabel> {
  return attempt(() => {
    const steps: LabelStep[] = [];
    let last = lookup(path[0]!);
    for (let i = 1; i < path.length; i++) {
      const node = lookup(path[i]!);
      if (!last || !node)
        throw routeFailed('node on the path no longer known', path[i - 1]!, path[i]!);
      const link = node.inwardLinksByIp.get(last.ipv6)?.[0];
      if (!link) throw routeFailed('link on the path no longer known', last.ipv6, node.ipv6);
      steps.push({
        label: parseLabel(link.label),
        origLabel: link.label,
        encodingFormNum: link.encodingFormNum,
        scheme: last.encodingScheme,
      });
      last = node;
    }
    return spliceSteps(steps, true);
  });
}

/**
 * The label of a path given hop by hop (docs/protocol.md §4.8 "Label"): the first `count` steps.
 * `withHops: false` skips the JSON hop list (the `gr` reply only needs the label). Throws RsError
 * where re-encoding or splicing fails; callers wrap it in `attempt`. Keeps no step.
 */
export function spliceSteps(
  steps: readonly LabelStep[],
  withHops: boolean,
  count: number = steps.length,
): RouteLabel {
  const hops: RouteHop[] = withHops ? new Array<RouteHop>(count) : [];
  const labels: bigint[] = new Array<bigint>(count);
  let formNum: number | undefined;
  for (let i = 0; i < count; i++) {
    const step = steps[i]!;
    let label = step.label;
    const curFormNum = getEncodingForm(label, step.scheme);
    if (formNum !== undefined && curFormNum < formNum)
      label = reEncode(label, step.scheme, formNum);
    labels[i] = label;
    if (withHops) {
      // one literal per shape (the first hop has no inverseFormNum): no property added later
      const text = formatLabel(label);
      const scheme = sharedSchemeJs(step.scheme);
      hops[i] =
        formNum === undefined
          ? { label: text, origLabel: step.origLabel, scheme }
          : { label: text, origLabel: step.origLabel, scheme, inverseFormNum: formNum };
    }
    formNum = step.encodingFormNum;
  }
  return { label: spliceRoute(labels, count), hops };
}

function routeFailed(why: string, fromIp: string, toIp: string): RsError {
  return new RsError('RS_ERR_ROUTE_FAILED', `${why}: ${fromIp} -> ${toIp}`, {
    context: { fromIp, toIp },
  });
}
