/**
 * Where an announcement comes from: `node` = the announcing node itself (`sq: ann`), `gossip` =
 * replication from another route server, `cluster` = accepted by another process of our own
 * cluster (like gossip, but without the self check, since every process shares the snode
 * identity; the route server also skips re-verification and already-stored hashes).
 */
export type AnnouncementSource = 'node' | 'gossip' | 'cluster';
