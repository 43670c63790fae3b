/**
 * The `cjdns` section of the configuration: whether to attach to the local cjdroute, where its
 * admin API is, and the link's tuning. Mounted by src/config.ts; kept free of runtime imports so
 * loading the configuration stays cheap.
 */
import { z } from 'zod';

export const cjdnsSchema = z
  .object({
    enabled: z.boolean().default(false),
    adminAddr: z.string().optional(),
    adminPort: z.coerce.number().int().min(1).max(65535).optional(),
    adminPassword: z.string().optional(),
    /** ~/.cjdnsadmin-style file holding {addr, port, password} (default ~/.cjdnsadmin) */
    adminFile: z.string().optional(),
    // Link tuning. Absent = the defaults beside the code that uses them (admin-client.ts,
    // cjdns-link-types.ts): 10 s, 2 retries, 5 s, 30 s, [fc00::1]:1, the node's own IPv6.
    /** wait this long for each admin API reply (cookie and call separately) */
    callTimeoutMs: z.coerce.number().int().min(10).optional(),
    /** attempts after a timed-out admin call */
    callRetries: z.coerce.number().int().min(0).max(10).optional(),
    /** how often UpperDistributor_listHandlers checks that cjdroute still has our handler */
    watchdogIntervalMs: z.coerce.number().int().min(10).optional(),
    /** cap of the re-attach backoff (it starts at 1 s and doubles) */
    reattachMaxDelayMs: z.coerce.number().int().min(10).optional(),
    /**
     * where handler replies go, and the only source handler frames are accepted from; cjdns
     * sends from and accepts only [fc00::1]:1 (tests point it at loopback)
     */
    replyAddress: z.string().min(1).optional(),
    replyPort: z.coerce.number().int().min(1).max(65535).optional(),
    /** address of the handler socket; default: the cjdns node's own IPv6 (its TUN address, where cjdns delivers) */
    handlerBindAddress: z.string().min(1).optional(),
  })
  .strict()
  .prefault({});

export type CjdnsSettings = z.infer<typeof cjdnsSchema>;
