/**
 * The `seeder` section of the configuration (docs/seeder.md). Its first four keys are the Rust
 * port's, spelled as its `config.json` spells them, so that file loads as it is; the Rust port
 * requires all four, here each has the Rust example's value as its default (no passwords: the
 * HTTP API answers nobody until some are configured). The last three are ours: the bounds and
 * the expiry the Rust port does not have (docs/seeder.md).
 */
import { z } from 'zod';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const passwords = z
  .array(z.string().min(1, 'an empty password would let anyone in').max(1024))
  .max(1024);

export const seederSchema = z
  .object({
    /** passwords of testers: `GET /seeder-peers` lists every entry, `POST /seeder-testres` posts results */
    tester_passwds: passwords.default([]),
    /** passwords of nameservers: `GET /seeder-peers` lists tested-good public peers */
    nameserver_passwds: passwords.default([]),
    /** a node announcing this many peers or more is not handed out */
    max_connection_count: int(0, 1_000_000).default(128),
    /** most entries listed to a nameserver */
    share_peers_with_nameserver: int(0, 1_000_000).default(50),
    /** most credential entries held; past it the one that reported longest ago is dropped */
    max_entries: int(1, 1_000_000).default(10_000),
    /** most entries per node (IPv6); past it that node's entry that reported longest ago is dropped */
    max_entries_per_node: int(1, 1024).default(4),
    /** an entry whose node has not posted it for this long is dropped (the Rust port keeps it forever) */
    expire_after_sec: int(60, 365 * 24 * 3600).default(3600),
  })
  .strict()
  .prefault({});

export type SeederSettings = z.infer<typeof seederSchema>;

/** The Rust port's constants (docs/seeder.md). */
export const NUM_PEERS_TO_RESPOND = 6;
/** a nameserver is only given peers a tester checked within this window */
export const NAMESERVER_CHECK_WINDOW_SEC = 3600;
