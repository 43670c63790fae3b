/** Listen and close a server as promises (a failed bind rejects with the system error). */
import type { Server } from 'node:net';

export function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stop accepting, drop idle keep-alive connections, and resolve once every connection closed. */
export function closeServer(server: Server & { closeIdleConnections?: () => void }): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections?.();
  });
}
