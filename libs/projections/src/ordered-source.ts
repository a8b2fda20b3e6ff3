import type { Consumer, ConsumerMessages, JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { DeliverPolicy } from "@nats-io/jetstream";
import type { Wakeup } from "@otmetka/messaging";
import { type BatchEntry, toEntry } from "./projection-event.js";

/**
 * One source read from sequence 1 by an ordered consumer (ephemeral, no acks), buffered for
 * the rebuild loop. Reads with `fetch` of `batch` messages, one fetch at a time and only
 * while fewer than `highWater` wait: nats.js `consume()` keeps pulling whatever the
 * iterator's reader does, so with no acks to bound it a slower rebuild would buffer the
 * whole stream in memory (and spend its time in GC). Messages are decoded here, as they
 * arrive: that overlaps with the rebuild's transaction in flight, and the buffer holds
 * events instead of whole messages.
 */
export class OrderedSource {
  readonly buffer: BatchEntry[] = [];
  /** Messages the server still had for us after the last one received. */
  remaining = Number.POSITIVE_INFINITY;
  total = 0;
  /** Time spent decoding messages into entries, ms. */
  decodeMs = 0;
  private closed = false;
  private resume: (() => void) | undefined;
  private failure: unknown;
  private done: Promise<void> | undefined;
  /** The fetch in flight: stopped by `close` instead of waiting for it to expire. */
  private fetching: ConsumerMessages | undefined;

  constructor(
    private readonly js: JetStreamClient,
    readonly source: string,
    private readonly stream: string,
    private readonly filter: string,
    private readonly batch: number,
    private readonly highWater: number,
    private readonly wakeup: Wakeup,
  ) {}

  async start(): Promise<void> {
    const consumer = await this.js.consumers.get(this.stream, {
      filter_subjects: this.filter,
      deliver_policy: DeliverPolicy.All,
    });
    this.total = (await consumer.info()).num_pending;
    this.remaining = this.total;
    this.done = this.pump(consumer);
  }

  private async pump(consumer: Consumer): Promise<void> {
    try {
      while (!this.closed) {
        if (this.buffer.length >= this.highWater) {
          await new Promise<void>((r) => {
            this.resume = r;
          });
          continue;
        }
        // What the server had for us: once that many came, a fetch for more would wait until
        // it expires (a second per source at the end of every rebuild) unless more arrived.
        const expected = Math.min(this.batch, this.remaining);
        const fetched = await consumer.fetch({ max_messages: this.batch, expires: 1000 });
        this.fetching = fetched;
        let got = 0;
        let last: JsMsg | undefined;
        // info parses the reply subject: read once or twice a fetch, not per message.
        let counted: JsMsg | undefined;
        for await (const m of fetched) {
          const t0 = performance.now();
          this.buffer.push(toEntry(m, this.source));
          this.decodeMs += performance.now() - t0;
          last = m;
          got++;
          if (got === expected) {
            counted = m;
            this.remaining = m.info.pending;
            if (this.remaining === 0 && got < this.batch) fetched.stop();
          }
        }
        this.fetching = undefined;
        if (last && last !== counted) this.remaining = last.info.pending;
        // An empty fetch that expired: nothing more in the stream for now.
        if (got === 0) this.remaining = 0;
        this.wakeup.wake();
      }
    } catch (err) {
      this.failure = err;
      this.wakeup.wake();
    }
  }

  /** Caught up with what the stream held when the last message was sent. */
  get caughtUp(): boolean {
    return this.remaining === 0;
  }

  /** Takes up to `n` buffered entries. */
  take(n: number): BatchEntry[] {
    const out = this.buffer.splice(0, n);
    if (this.buffer.length < this.highWater) {
      const r = this.resume;
      this.resume = undefined;
      r?.();
    }
    return out;
  }

  /** Throws what ended the read loop, if anything did. */
  check(): void {
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.fetching?.stop();
    this.resume?.();
    await this.done?.catch(() => {});
  }
}
