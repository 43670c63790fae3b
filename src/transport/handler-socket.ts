/**
 * The UDP socket cjdns' UpperDistributor delivers CJDHT frames to (docs/protocol.md §6.2).
 * cjdroute sends them from `[fc00::1]:1` through its TUN device; with `acceptFrom` set, a
 * datagram from anywhere else is dropped before it is parsed (and reported through `onForeign`):
 * only the cjdns node may hand us queries.
 */
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { BindHandlerSocket, HandlerSocket } from './cjdns-link-types.ts';

/** One spelling per address (`fc00::1` = `fc00:0:…:1`; IPv4-mapped = IPv4); undefined when unparsable. */
export function canonicalAddress(address: string): string | undefined {
  try {
    return ipaddr.process(address.replace(/%.*$/, '')).toNormalizedString();
  } catch {
    return undefined;
  }
}

/** The real handler socket: UDP on `address` (udp6 dual-stack unless it is an IPv4 address). */
export const bindUdpHandlerSocket: BindHandlerSocket = ({
  address,
  port,
  onDatagram,
  acceptFrom,
  onForeign,
  log,
}) =>
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
    const source = acceptFrom
      ? { address: canonicalAddress(acceptFrom.address), port: acceptFrom.port }
      : undefined;
    socket.once('error', onBindError);
    socket.on('message', (msg, rinfo) => {
      if (
        source &&
        (rinfo.port !== source.port || canonicalAddress(rinfo.address) !== source.address)
      ) {
        onForeign?.({ address: rinfo.address, port: rinfo.port, bytes: msg.length });
        return;
      }
      onDatagram(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
    });
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
