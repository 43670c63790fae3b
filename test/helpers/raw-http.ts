/**
 * Raw TCP clients for the HTTP limits tests: requests that never finish, bodies that never end,
 * clients that never read — and the server side of each connection, to see what the server
 * holds (bytes read, bytes waiting to be written, whether the socket was destroyed).
 */
import type { Server } from 'node:http';
import { connect, type Socket } from 'node:net';

export interface RawClient {
  readonly socket: Socket;
  /** everything received so far */
  received(): string;
  /** resolves when the connection closed (either side) */
  readonly closed: Promise<void>;
}

/**
 * Connect (from `localAddress` when given) and send `head`. With `read: false` the client
 * never reads: the server's writes pile up in the kernel, then in the server.
 */
export function rawClient(
  port: number,
  head: string,
  opts: { localAddress?: string; read?: boolean } = {},
): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      port,
      host: '127.0.0.1',
      allowHalfOpen: true,
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    });
    let data = '';
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      if (opts.read === false) socket.pause();
      else socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
      socket.write(head);
      resolve({ socket, received: () => data, closed });
    });
    socket.once('error', reject);
  });
}

/** Resolves with the server side of the next connection `server` accepts. */
export function nextServerSocket(server: Server): Promise<Socket> {
  return new Promise((resolve) => server.once('connection', (s: Socket) => resolve(s)));
}

/** Poll `cond` every 5 ms until true; throw naming `what` after `timeoutMs`. */
export async function until(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
