/**
 * Answer a raw socket once and close it for good: a refused upgrade, a CONNECT, a malformed or
 * timed-out request. `socket.end()` alone only half-closes: the server waits for the client's
 * side to end, so a client that never closes keeps the descriptor forever. Here the socket is
 * destroyed as soon as the answer is flushed, and at the latest after `graceMs` (a client that
 * reads nothing, with earlier answers still queued, never lets it flush).
 */
import type { Duplex } from 'node:stream';

export const REFUSE_GRACE_MS = 1000;

export function refuseSocket(socket: Duplex, response: string, graceMs = REFUSE_GRACE_MS): void {
  if (socket.destroyed) return;
  socket.on('error', () => socket.destroy());
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const timer = setTimeout(() => socket.destroy(), graceMs);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.end(response, () => socket.destroy());
}

/** An HTTP/1.1 answer with no body that closes the connection. */
export function httpStatusOnly(
  statusLine: string,
  headers: Readonly<Record<string, string>> = {},
): string {
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return `HTTP/1.1 ${statusLine}\r\n${extra}Connection: close\r\nContent-Length: 0\r\n\r\n`;
}
