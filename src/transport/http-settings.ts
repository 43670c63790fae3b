/**
 * The `http` (public listener) and `admin` (operator listener) sections of the configuration
 * (docs/security.md). Mounted by src/config.ts; kept free of runtime imports so loading the
 * configuration stays cheap.
 */
import { isIP } from 'node:net';
import { z } from 'zod';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const portSchema = z.coerce.number().int().min(0).max(65535);

/** `auto`: loopback, plus the cjdns node's own address once the cjdns link is attached. */
export const HTTP_HOST_AUTO = 'auto';
/** Where `auto` and the admin listener bind: loopback only. */
export const LOOPBACK_HOST = '127.0.0.1';

const isAddressOrCidr = (s: string): boolean => {
  const [addr, prefix, ...rest] = s.split('/');
  if (rest.length > 0 || !addr || isIP(addr) === 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d{1,3}$/.test(prefix) && bits <= (isIP(addr) === 4 ? 32 : 128);
};

/** Limits of the heavy read endpoints (`/walk`, `/dump`, `/ni`; others may use them too). */
export const heavySchema = z
  .object({
    /** heavy requests one client (an IPv4 address, an IPv6 /64) may have in progress */
    perAddress: int(1, 10_000).default(2),
    /** heavy requests in progress from all clients together */
    total: int(1, 100_000).default(16),
    /** a heavy answer the client does not read for this long is cut (its socket destroyed) */
    writeTimeoutMs: int(10, 3_600_000).default(30_000),
    /** a heavy answer not finished by then is cut, however slowly it is being read */
    deadlineMs: int(10, 24 * 3_600_000).default(600_000),
  })
  .strict()
  .prefault({});

export const httpSchema = z
  .object({
    /**
     * public listener address: `auto` = loopback, plus the cjdns node's IPv6 (its TUN address)
     * while the cjdns link is attached; any other value is the one address to bind (`::` = every
     * interface, as the original)
     */
    host: z.string().min(1).default(HTTP_HOST_AUTO),
    port: portSchema.default(3333),
    /** largest accepted request body (POST /subnode); a larger declared length is refused at once */
    maxBodyBytes: int(256, 16 * 1024 * 1024).default(64 * 1024),
    /** time to receive a whole request (headers and body) */
    requestTimeoutMs: z.coerce.number().int().min(100).default(10_000),
    /**
     * proxies (addresses or CIDR blocks) whose `X-Forwarded-For` names the client, e.g. the
     * HAProxy of a cluster; empty = the socket's peer is the client
     */
    trustedProxies: z
      .array(z.string().refine(isAddressOrCidr, 'must be an IP address or a CIDR block'))
      .default([]),
    heavy: heavySchema,
  })
  .strict()
  .prefault({});

export const adminSchema = z
  .object({
    /** the operator listener (`/status`, `/metrics`, `/debugnode`, health); false = none */
    enabled: z.boolean().default(true),
    /** its address: loopback unless you put it behind a firewall or a token */
    host: z.string().min(1).default(LOOPBACK_HOST),
    port: portSchema.default(3335),
    /** when set, every admin request needs `Authorization: Bearer <token>` */
    token: z.string().min(16, 'must be at least 16 characters').optional(),
  })
  .strict()
  .prefault({});

export type HttpSettings = z.infer<typeof httpSchema>;
export type HeavySettings = z.infer<typeof heavySchema>;
export type AdminSettings = z.infer<typeof adminSchema>;

/** Whether `host` only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  return (
    host === 'localhost' || /^127\./.test(host) || host === '::1' || /^::ffff:127\./i.test(host)
  );
}
