/**
 * The frames a peer's socket delivered that its actor has not handled yet. The actor handles
 * them in turns of at most `perTurn` frames, oldest first: a burst of hundreds of DATA frames
 * (each decoded and handed to the gossip path) would otherwise hold the main thread for one long
 * turn — 5–14 ms for 300–480 frames measured on the 2-core VM — and every query waiting behind
 * it. The frames of one socket keep their order: a turn takes the oldest ones, and the next turn
 * is asked for (`take` says so) while any are left.
 */
import { Deque } from '../lib/deque.ts';

/** Frames handled per actor turn (~1–2 ms of decoding and submitting on the VM). */
export const FRAMES_PER_TURN = 64;

export class FrameInbox {
  private readonly frames = new Deque<Uint8Array>(64);

  constructor(private readonly perTurn: number = FRAMES_PER_TURN) {}

  get length(): number {
    return this.frames.length;
  }

  /** Add a frame; true when the inbox was empty (the actor must be told: no turn is pending). */
  push(frame: Uint8Array): boolean {
    this.frames.push(frame);
    return this.frames.length === 1;
  }

  /**
   * The oldest frames, at most `perTurn`; `more`: frames are left, and the caller must ask the
   * actor for another turn (no other push will, as the inbox is not empty).
   */
  take(): { frames: Uint8Array[]; more: boolean } {
    const n = Math.min(this.perTurn, this.frames.length);
    const frames = new Array<Uint8Array>(n);
    for (let i = 0; i < n; i++) frames[i] = this.frames.shift()!;
    return { frames, more: this.frames.length > 0 };
  }
}
