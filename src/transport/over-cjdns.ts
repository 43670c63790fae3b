/**
 * Which HTTP connections came over cjdns: those the cjdns-address listener accepted
 * (tun-listener.ts marks them) and any whose local address is a cjdns address (fc00::/8, e.g.
 * with `http.host: ::`). Whoever reaches us over cjdns is a cjdns node or a stranger on the
 * mesh, never a process of our cluster: the subnode API is refused to them (cjdns nodes query
 * through cjdroute's handler socket, where cjdns authenticates the sender; docs/security.md).
 */
import type { Socket } from 'node:net';

const accepted = new WeakSet<Socket>();

/** The cjdns-address listener accepted this connection. */
export function markOverCjdns(socket: Socket): void {
  accepted.add(socket);
}

export function arrivedOverCjdns(socket: Socket): boolean {
  return accepted.has(socket) || /^fc/i.test(socket.localAddress ?? '');
}
