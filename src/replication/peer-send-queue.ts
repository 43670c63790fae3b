/**
 * The bounded send side of one replication peer. Frames wait here and are handed to the socket
 * only while its `bufferedAmount` is under a high-water mark; the last frame of every hand-over
 * carries a completion callback (`onDrained`), which is how the owner learns that the socket made
 * progress (the original writes 10 frames at a time the same way, but queues without bound).
 * Over `maxFrames` / `maxBytes` the owner drops the peer; a socket that completes nothing for a
 * while (`stalledFor`) belongs to a peer that does not read.
 */
import { Deque } from '../lib/deque.ts';

/** What a peer needs of a websocket (ws.WebSocket satisfies it through a thin adapter). */
export interface PeerSocket {
  readonly bufferedAmount: number;
  send(data: Uint8Array, cb: (err?: Error) => void): void;
  /** hold writes until `uncork`: the frames of one hand-over leave in one write (optional) */
  cork?(): void;
  uncork?(): void;
  pause(): void;
  resume(): void;
  /** send a close frame; the socket is terminated if the close handshake does not complete */
  close(code: number, reason: string): void;
  terminate(): void;
}

export interface SendQueueLimits {
  readonly maxFrames: number;
  readonly maxBytes: number;
  readonly highWaterBytes: number;
}

export class PeerSendQueue {
  private readonly frames = new Deque<Uint8Array>();
  private queuedBytes = 0;
  private wire = 0;
  /** when the wire last went from idle to busy, or last made progress */
  private busySince = 0;

  constructor(
    private readonly socket: PeerSocket,
    private readonly limits: SendQueueLimits,
    /** called from the socket's completion callback with the number of frames it confirms */
    private readonly onDrained: (frames: number) => void,
  ) {}

  /** Queue a frame; false (nothing queued) when a limit would be exceeded. */
  enqueue(frame: Uint8Array): boolean {
    if (
      this.frames.length >= this.limits.maxFrames ||
      this.queuedBytes + frame.length > this.limits.maxBytes
    )
      return false;
    this.frames.push(frame);
    this.queuedBytes += frame.length;
    return true;
  }

  /** Hand frames to the socket while it is under the high-water mark. */
  flush(now: number): void {
    if (this.wire === 0) this.busySince = now;
    let batch = 0;
    let last: Uint8Array | undefined;
    if (this.frames.length > 1) this.socket.cork?.();
    while (this.frames.length > 0 && this.socket.bufferedAmount < this.limits.highWaterBytes) {
      if (last) this.socket.send(last, noop);
      last = this.frames.shift()!;
      this.queuedBytes -= last.length;
      batch++;
    }
    if (last) {
      this.wire += batch;
      const frames = batch;
      this.socket.send(last, () => this.onDrained(frames));
    }
    this.socket.uncork?.();
  }

  /** The socket confirmed `frames` frames. */
  drained(frames: number, now: number): void {
    this.wire = Math.max(0, this.wire - frames);
    this.busySince = now;
  }

  /** How long the socket has held unconfirmed frames without progress (0 when idle). */
  stalledFor(now: number): number {
    return this.wire > 0 || this.frames.length > 0 ? now - this.busySince : 0;
  }

  /** Frames waiting (not yet handed to the socket): the original's `msgQueue`. */
  get length(): number {
    return this.frames.length;
  }

  get bytes(): number {
    return this.queuedBytes;
  }

  /** Frames handed to the socket and not yet confirmed: the original's `msgsOnWire`. */
  get onWire(): number {
    return this.wire;
  }

  clear(): void {
    this.frames.clear();
    this.queuedBytes = 0;
  }
}

function noop(): void {}
