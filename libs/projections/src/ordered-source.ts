import type { ConsumerMessages, JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { DeliverPolicy } from "@nats-io/jetstream";

/** Lets the rebuild loop sleep until any source receives a message (or a timeout). */
export class Wakeup {
  private waiters: (() => void)[] = [];

  wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }

  wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

/**
 * One source read from sequence 1 by an ordered consumer (ephemeral, flow-controlled, no
 * acks), buffered for the rebuild loop. Pauses reading when `highWater` messages wait.
 */
export class OrderedSource {
  readonly buffer: JsMsg[] = [];
  /** Messages the server still had for us after the last one received. */
  remaining = Number.POSITIVE_INFINITY;
  /** Sequence of the last message received. */
  lastSeq = 0;
  total = 0;
  private messages: ConsumerMessages | undefined;
  private resume: (() => void) | undefined;
  private failure: unknown;

  constructor(
    private readonly js: JetStreamClient,
    readonly source: string,
    private readonly stream: string,
    private readonly filter: string,
    private readonly highWater: number,
    private readonly wakeup: Wakeup,
  ) {}

  async start(): Promise<void> {
    const consumer = await this.js.consumers.get(this.stream, {
      filter_subjects: this.filter,
      deliver_policy: DeliverPolicy.All,
    });
    this.total = (await consumer.info()).num_pending;
    if (this.total === 0) this.remaining = 0;
    const messages = await consumer.consume({ max_messages: Math.min(this.highWater, 10_000) });
    this.messages = messages;
    void this.pump(messages);
  }

  private async pump(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const m of messages) {
        this.buffer.push(m);
        this.lastSeq = m.seq;
        this.remaining = m.info.pending;
        this.wakeup.wake();
        if (this.buffer.length >= this.highWater) {
          await new Promise<void>((r) => {
            this.resume = r;
          });
        }
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

  /** Takes up to `n` buffered messages. */
  take(n: number): JsMsg[] {
    const out = this.buffer.splice(0, n);
    if (this.buffer.length < this.highWater) {
      const r = this.resume;
      this.resume = undefined;
      r?.();
    }
    return out;
  }

  /** Throws what ended the consume loop, if anything did. */
  check(): void {
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    this.resume?.();
    this.messages?.stop();
    await this.messages?.closed().catch(() => {});
  }
}
