import type { JsMsg } from "@nats-io/jetstream";

/**
 * Acks gathered and sent together once per event-loop turn. nats.js flushes its outbound
 * buffer on a microtask; handlers await between messages, so acking each one directly costs
 * one socket write per message (measured: ~40% of the runtime's CPU). Order is kept, and
 * an ack is at most one turn late, which only widens the window for a redelivery.
 */
export class AckBatcher {
  private pending: JsMsg[] = [];
  private scheduled = false;

  ack(m: JsMsg): void {
    this.pending.push(m);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    for (const m of batch) m.ack();
  }
}
