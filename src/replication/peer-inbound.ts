/**
 * The inbound half of a peer session (they connected to us; docs/protocol.md §7.3): the
 * inventory pump. After HELLO we send our whole store as INV batches of 128 in store order —
 * pulled from the store's live iterator only as fast as the socket drains, never materialised as
 * frames at once — then INVs for newly accepted announcements. (GET_DATA and PING are answered
 * by the session core.)
 *
 * Owned by its PeerSession (peer-session.ts), inside the peer actor.
 */
import type { PeerSessionLink } from './peer-session.ts';
import { INV_BATCH_HASHES } from './replication-settings.ts';

/** Inventory INVs are produced only while fewer frames than this wait in the send queue. */
const INVENTORY_QUEUE_MARK = 16;

export class InventoryPump {
  private inventory: Iterator<Uint8Array> | null = null;
  private sent = 0;

  constructor(private readonly s: PeerSessionLink) {}

  /** The whole inventory went out (or the session closed). */
  get done(): boolean {
    return this.inventory === null;
  }

  start(): void {
    this.inventory = this.s.d.store.hashes();
  }

  /** Newly accepted announcements; during the inventory the live iterator reaches them itself. */
  advertise(hashes: readonly Uint8Array[]): void {
    if (this.inventory !== null) return;
    for (let i = 0; i < hashes.length; i += INV_BATCH_HASHES) {
      if (!this.s.send({ type: 'INV', seq: 0, hashes: hashes.slice(i, i + INV_BATCH_HASHES) }))
        return;
    }
  }

  /** Send inventory batches while the send queue and the socket have room. */
  pump(now: number): void {
    const { d } = this.s;
    while (
      this.inventory &&
      !this.s.closed &&
      this.s.queuedFrames() < INVENTORY_QUEUE_MARK &&
      d.socket.bufferedAmount < d.settings.sendHighWaterBytes
    ) {
      const batch: Uint8Array[] = [];
      while (batch.length < INV_BATCH_HASHES) {
        const r = this.inventory.next();
        if (r.done) {
          this.inventory = null;
          break;
        }
        batch.push(r.value);
      }
      if (batch.length > 0) {
        this.sent += batch.length;
        if (!this.s.send({ type: 'INV', seq: 0, hashes: batch })) return;
      }
      if (this.inventory === null) {
        d.log.info(
          { event: 'peer:inventory:sent', peer: d.id, addr: d.addr, hashes: this.sent },
          'inventory sent to replication peer',
        );
      }
      this.s.flush(now);
    }
  }

  /** The session closed. */
  release(): void {
    this.inventory = null;
  }
}
