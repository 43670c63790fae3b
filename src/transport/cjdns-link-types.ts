/** Constants, options and the small interfaces the cjdns link depends on (injected for tests). */
import type { Registry } from 'prom-client';
import type { Logger } from '../log.ts';
import type { HandlerEntry, NodeInfo } from '../protocol/admin-frame.ts';
import type { BDict } from '../protocol/bencode.ts';
import type { SelfIdentity } from '../server/identity.ts';
import type { Sender } from '../server/sender.ts';
import type { SubnodeResult } from '../server/subnode-handler.ts';

/** JS cjdnsnode checks the handler every 5 s (docs/protocol.md §9). */
export const CJDNS_WATCHDOG_INTERVAL_MS = 5000;
/** First re-attach delay after a loss or failure; doubles per consecutive failure. */
export const CJDNS_REATTACH_MIN_DELAY_MS = 1000;
/** Backoff cap: a cjdroute that comes back is found within half a minute. */
export const CJDNS_REATTACH_MAX_DELAY_MS = 30_000;
/** Where cjdns expects handler replies (docs/protocol.md §6.2). */
export const CJDNS_REPLY_ADDRESS = 'fc00::1';
export const CJDNS_REPLY_PORT = 1;
/** Frames being handled at once; beyond this a datagram is dropped (and counted). */
export const CJDNS_MAX_FRAMES_IN_FLIGHT = 256;

export type CjdnsLinkState = 'detached' | 'attaching' | 'attached' | 'lost';

/** The admin API calls the link needs (AdminClient implements it). */
export interface CjdnsAdminApi {
  /** `addr:port`, for status and logs */
  readonly endpoint: string;
  nodeInfo(): Promise<NodeInfo>;
  /** `retries: 0` from the watchdog: one attempt, as the original's check */
  listHandlers(
    page: number,
    opts?: { retries?: number },
  ): Promise<{ handlers: HandlerEntry[]; more: boolean }>;
  registerHandler(contentType: number, udpPort: number): Promise<void>;
  unregisterHandler(udpPort: number): Promise<void>;
}

/** What the link needs of the route server (RouteServer implements it). */
export interface CjdnsLinkServer {
  setIdentity(self: SelfIdentity): void;
  handleSubnodeQueryResult(dict: BDict, sender: Sender): Promise<SubnodeResult>;
}

export interface HandlerSocket {
  readonly port: number;
  send(bytes: Uint8Array, port: number, address: string): Promise<void>;
  close(): Promise<void>;
}

/** Bind a datagram socket (port 0 = any); rejects with the system error (`code` EADDRINUSE …). */
export type BindHandlerSocket = (opts: {
  address: string;
  port: number;
  onDatagram: (bytes: Uint8Array) => void;
  /** only datagrams from this address and port are handed to onDatagram (cjdns: [fc00::1]:1) */
  acceptFrom?: { readonly address: string; readonly port: number };
  /** a datagram from anywhere else, dropped */
  onForeign?: (from: { address: string; port: number; bytes: number }) => void;
  log: Logger;
}) => Promise<HandlerSocket>;

export type FrameResult =
  'reply' | 'no_reply' | 'ignored' | 'malformed' | 'dropped' | 'foreign' | 'error';

export type CjdnsLinkEvent =
  | { readonly type: 'state'; readonly from: CjdnsLinkState; readonly to: CjdnsLinkState }
  | {
      readonly type: 'attached';
      readonly handlerPort: number;
      readonly identity: SelfIdentity;
      readonly reattach: boolean;
    }
  | { readonly type: 'lost'; readonly reason: string; readonly retryInMs: number }
  | { readonly type: 'attach_failed'; readonly error: string; readonly retryInMs: number }
  | { readonly type: 'frame'; readonly result: FrameResult };

export interface CjdnsLinkStatus {
  state: CjdnsLinkState;
  adminAddr: string;
  handlerPort: number | null;
  /** ISO time of the current attachment, null unless attached */
  attachedAt: string | null;
  /** successful attachments after the first one */
  reattaches: number;
  lastError: string | null;
  /** the cjdns node as `Core_nodeInfo` last described it */
  node: { key: string; ipv6: string; version: number; encodingScheme: string } | null;
}

export interface CjdnsLinkOptions {
  watchdogIntervalMs?: number;
  reattachMinDelayMs?: number;
  reattachMaxDelayMs?: number;
  /** where replies go, and the only source frames are accepted from (cjdns: [fc00::1]:1) */
  replyAddress?: string;
  replyPort?: number;
  /** the handler socket's address; default: the cjdns node's own IPv6 (its TUN address) */
  bindAddress?: string;
  maxFramesInFlight?: number;
  /** the node's key we must find (`identity.publicKey`): any other node fails the attach */
  expectedKey?: string;
}

export interface CjdnsLinkDeps {
  admin: CjdnsAdminApi;
  server: CjdnsLinkServer;
  bindSocket?: BindHandlerSocket;
  log?: Logger;
  /** metrics go here (the route server's registry); a private one when absent */
  registry?: Registry;
  /** wall clock for `attachedAt` */
  now?: () => number;
  /** [0, 1) for the backoff jitter */
  random?: () => number;
}
