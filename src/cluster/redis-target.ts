/**
 * Where a Redis bus connects, as the logs, /status and the launcher print it — never with a
 * password. Free of ioredis, so a process on the embedded bus never loads it.
 */

/** Only the host and port of a URL: passwords never reach the logs. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname && u.pathname !== '/' ? u.pathname : ''}`;
  } catch {
    return '(unparsable redis url)';
  }
}

export interface RedisTarget {
  readonly url?: string;
  readonly sentinels?: readonly { readonly host: string; readonly port: number }[];
  readonly sentinelMaster?: string;
}

/** `redis://host:port[/db]`, or `sentinel:<master>@host:port,…`. */
export function describeRedisTarget(o: RedisTarget): string {
  if (o.sentinels && o.sentinels.length > 0)
    return `sentinel:${o.sentinelMaster ?? 'snode'}@${o.sentinels.map((x) => `${x.host}:${x.port}`).join(',')}`;
  return o.url ? redactRedisUrl(o.url) : '(no redis target)';
}
