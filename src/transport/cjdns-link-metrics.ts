/** Prometheus metrics of the cjdns link, registered once per registry. */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CjdnsLinkState } from './cjdns-link-types.ts';

function counter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[] = [],
): Counter<L> {
  return (
    (registry.getSingleMetric(name) as Counter<L> | undefined) ??
    new Counter({ name, help, labelNames, registers: [registry] })
  );
}

export class CjdnsLinkMetrics {
  readonly frames: Counter<'result'>;
  readonly replySendErrors: Counter;
  readonly reattaches: Counter;
  readonly attachFailures: Counter;
  readonly losses: Counter;

  constructor(registry: Registry, state: () => CjdnsLinkState) {
    this.frames = counter(
      registry,
      'snode_cjdns_frames_total',
      'Handler-socket frames from cjdns, by result',
      ['result'],
    );
    this.replySendErrors = counter(
      registry,
      'snode_cjdns_reply_send_errors_total',
      'Replies that could not be sent to [fc00::1]:1',
    );
    this.reattaches = counter(
      registry,
      'snode_cjdns_reattaches_total',
      'Successful attachments to cjdroute after the first',
    );
    this.attachFailures = counter(
      registry,
      'snode_cjdns_attach_failures_total',
      'Attach attempts that failed',
    );
    this.losses = counter(
      registry,
      'snode_cjdns_link_losses_total',
      'Times the watchdog found the link gone',
    );
    if (!registry.getSingleMetric('snode_cjdns_link_attached')) {
      new Gauge({
        name: 'snode_cjdns_link_attached',
        help: '1 while attached to cjdroute',
        registers: [registry],
        collect() {
          this.set(state() === 'attached' ? 1 : 0);
        },
      });
    }
  }
}
