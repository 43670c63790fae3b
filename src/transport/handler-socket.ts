/** The UDP socket cjdns' UpperDistributor delivers CJDHT frames to (docs/protocol.md §6.2). */
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import type { BindHandlerSocket, HandlerSocket } from './cjdns-link-types.ts';

/** The real handler socket: UDP on `address` (udp6 dual-stack unless it is an IPv4 address). */
export const bindUdpHandlerSocket: BindHandlerSocket = ({ address, port, onDatagram, log }) =>
  new Promise<HandlerSocket>((resolve, reject) => {
    const socket = createSocket({ type: isIP(address) === 4 ? 'udp4' : 'udp6' });
    const onBindError = (err: Error): void => {
      try {
        socket.close();
      } catch {
        // already closed by the failed bind
      }
      reject(err);
    };
    socket.once('error', onBindError);
    socket.on('message', (msg) =>
      onDatagram(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength)),
    );
    socket.bind(port, address, () => {
      socket.off('error', onBindError);
      socket.on('error', (err) =>
        log.warn({ event: 'cjdns:handler:socket_error', err }, 'handler socket error'),
      );
      let closed = false;
      resolve({
        port: socket.address().port,
        send: (bytes, toPort, toAddress) =>
          new Promise<void>((ok, fail) => {
            try {
              socket.send(bytes, toPort, toAddress, (err) => (err ? fail(err) : ok()));
            } catch (e) {
              fail(e as Error);
            }
          }),
        close: () =>
          new Promise<void>((ok) => {
            if (closed) return ok();
            closed = true;
            socket.close(() => ok());
          }),
      });
    });
  });
