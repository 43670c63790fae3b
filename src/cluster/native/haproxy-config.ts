/**
 * The HAProxy configuration of a snode cluster, rendered for both topologies from one template so
 * they cannot drift: `deploy/haproxy.cfg` (docker-compose: servers found through Docker's DNS) is
 * exactly `renderHaproxyConfig(DOCKER_HAPROXY)` — a test checks it — and the native launcher
 * renders the same frontend and backends with explicit loopback `server` lines.
 *
 *  - POST /subnode: only from loopback and private networks (SUBNODE_CLIENTS: the cluster's own
 *    API, which the edge uses); consistent hash of the announcing node's IPv6 (`x-cjdns-ip`, canonical
 *    39-character form), so one node's announcements are ordered in one process; when a process
 *    leaves the pool only its nodes move, and they come back when it returns.
 *  - the read API: round robin (every process holds the whole graph). `/metrics` is not here:
 *    it is on each process's admin listener (docs/security.md, docs/metrics.md).
 *  - /cjdnsnode_websocket (replication peers): a long-lived tunnel pinned by source address.
 *  - the peering seeder (`/seeder-peers`, `/seeder-testres`, and `POST /subnode` tagged
 *    `x-cjdns-sq: pc` by the edge): `balance first`, i.e. one process holds the seeder's state
 *    and the next healthy one takes over when it fails (docs/seeder.md, "In a cluster").
 *  - health checks on /readyz: a process gets traffic only once it caught up with the cluster and
 *    while it can make announcements durable (docs/cluster.md, "The guarantee"); a connection
 *    error marks a server down at once (kill -9), two good checks bring it back; a request whose
 *    connection failed is re-sent to another server.
 */

export interface HaproxyServer {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

export type HaproxyServers =
  /** docker-compose: `server-template` resolved through Docker's embedded DNS */
  | {
      readonly kind: 'docker';
      readonly service: string;
      readonly port: number;
      readonly slots: number;
    }
  | { readonly kind: 'static'; readonly list: readonly HaproxyServer[] };

export interface HaproxyRenderOptions {
  /** frontend bind, e.g. `:3333` or `127.0.0.1:40000` */
  readonly bind: string;
  readonly servers: HaproxyServers;
  /** health-check interval (default 1000 ms) */
  readonly checkIntervalMs?: number;
  /** global maxconn (default 20000; haproxy needs about 2 file descriptors per connection, so
   *  the native launcher uses 4096 to stay under the usual `ulimit -n` hard limits) */
  readonly maxconn?: number;
  /** comment lines at the top (without `#`) */
  readonly header?: readonly string[];
  /** who may use the subnode API (`POST /subnode`): addresses or CIDR blocks (default SUBNODE_CLIENTS) */
  readonly subnodeClients?: readonly string[];
}

/**
 * The subnode API is the cluster's own: the edge forwards cjdns's queries to it (docs/security.md).
 * Loopback and the private networks (the edge on the Docker host reaches HAProxy from the compose
 * network's gateway) — never cjdns (fc00::/8) or the internet.
 */
export const SUBNODE_CLIENTS: readonly string[] = [
  '127.0.0.0/8',
  '::1',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  'fd00::/8',
];

export const DOCKER_HAPROXY: HaproxyRenderOptions = {
  bind: ':3333',
  maxconn: 20000,
  servers: { kind: 'docker', service: 'snode', port: 3333, slots: 8 },
  header: [
    'HAProxy in front of a snode cluster (docker-compose.yml).',
    'GENERATED from src/cluster/native/haproxy-config.ts — edit the template, then run',
    '  npm run cluster -- --render-haproxy > deploy/haproxy.cfg',
    'The native launcher (npm run cluster) renders the same frontend and backends with explicit',
    'loopback servers; test/integration/cluster/cluster-deploy.int.test.ts keeps the two in step.',
    '',
    ' - POST /subnode: only from loopback and private networks (the edge; docs/security.md);',
    "   consistent hash of the announcing node's IPv6 (x-cjdns-ip, canonical form),",
    "   so one node's announcements are ordered in one process; when a process fails only its",
    '   nodes move, and the survivor continues their stateHash (docs/cluster.md, failover).',
    ' - the read API: round robin; /cjdnsnode_websocket: tunnel pinned by source.',
    " - /metrics is on each process's admin listener, not here: scrape each process itself",
    '   (docs/metrics.md).',
    ' - the peering seeder (/seeder-peers, /seeder-testres, POST /subnode with x-cjdns-sq: pc):',
    '   the first healthy server, the next one when it fails (docs/seeder.md).',
    ' - health checks on /readyz (caught up with the cluster, Redis taking writes); a refused',
    '   connection marks a server down at once.',
  ],
};

function serverLines(s: HaproxyServers): string[] {
  if (s.kind === 'docker') {
    return [
      `    server-template ${s.service} ${s.slots} ${s.service}:${s.port} check resolvers docker init-addr none`,
    ];
  }
  return s.list.map((x) => `    server ${x.name} ${x.host}:${x.port} check`);
}

function backend(name: string, balance: string[], servers: HaproxyServers): string[] {
  return [
    `backend ${name}`,
    ...balance.map((l) => `    ${l}`),
    '    option httpchk GET /readyz',
    '    http-check expect status 200',
    ...serverLines(servers),
    '',
  ];
}

export function renderHaproxyConfig(o: HaproxyRenderOptions): string {
  const inter = o.checkIntervalMs ?? 1000;
  const lines: string[] = [];
  for (const h of o.header ?? []) lines.push(h === '' ? '#' : `# ${h}`);
  lines.push(
    'global',
    `    maxconn ${o.maxconn ?? 20000}`,
    '    log stdout format raw local0 warning',
    '',
  );
  if (o.servers.kind === 'docker') {
    lines.push(
      'resolvers docker',
      '    nameserver dns 127.0.0.11:53',
      '    resolve_retries 3',
      '    timeout resolve 1s',
      '    timeout retry 1s',
      '    hold valid 5s',
      '',
    );
  }
  lines.push(
    'defaults',
    '    mode http',
    '    log global',
    '    option httplog',
    '    option dontlognull',
    '    option http-keep-alive',
    "    # the client address for the route servers' per-client limits (http.trustedProxies)",
    '    option forwardfor',
    '    timeout connect 2s',
    '    timeout client 30s',
    '    timeout server 30s',
    '    timeout http-request 10s',
    '    timeout http-keep-alive 30s',
    '    timeout queue 5s',
    '    # websocket (replication): once upgraded, the tunnel timeout replaces client/server',
    '    timeout tunnel 1h',
    '    timeout client-fin 5s',
    '    timeout server-fin 5s',
    '    # a request whose connection failed goes to another server (never one that was sent)',
    '    retries 3',
    '    option redispatch 1',
    `    default-server inter ${inter}ms fastinter ${Math.max(100, Math.floor(inter / 4))}ms fall 2 rise 2 observe layer4 error-limit 1 on-error mark-down`,
    '',
    'frontend snode',
    `    bind ${o.bind}`,
    '    acl is_subnode path /subnode',
    '    acl is_ws path /cjdnsnode_websocket',
    '    acl is_seeder path /seeder-peers /seeder-testres',
    '    acl is_pc req.hdr(x-cjdns-sq) -m str pc',
    "    # the subnode API is the cluster's own (the edge forwards cjdns's queries): loopback and",
    '    # private networks only (docs/security.md)',
    `    acl subnode_client src ${(o.subnodeClients ?? SUBNODE_CLIENTS).join(' ')}`,
    '    http-request deny deny_status 403 if is_subnode !subnode_client',
    '    # the peering seeder lives in one process (docs/seeder.md): its API and the pc queries the',
    '    # edge tags with x-cjdns-sq go to the first healthy server',
    '    use_backend snode_seeder if is_seeder || is_subnode is_pc',
    '    use_backend snode_subnode if is_subnode',
    '    use_backend snode_ws if is_ws',
    '    default_backend snode_read',
    '',
    ...backend('snode_subnode', ['balance hdr(x-cjdns-ip)', 'hash-type consistent'], o.servers),
    ...backend('snode_read', ['balance roundrobin'], o.servers),
    ...backend('snode_ws', ['balance source', 'hash-type consistent'], o.servers),
    ...backend('snode_seeder', ['balance first'], o.servers),
  );
  return lines.join('\n').replace(/\n+$/, '\n');
}
