import type {
  ConsumerMessages,
  JetStreamClient,
  JetStreamManager,
  JsMsg,
} from "@nats-io/jetstream";
import { deliveryOf, stopOnConsumerLoss } from "@otmetka/messaging";
import { type DurableSpec, positionDurable } from "./durable-position.js";

export interface SessionSink {
  /** A message in delivery order; `generation` tells stale sessions' messages apart. */
  push(m: JsMsg, sequence: number, source: string, generation: number): void;
  /** The session ended on its own (server restart, consumer deleted, delivery gap). */
  ended(source: string, generation: number, err?: unknown): void;
}

/**
 * One consume() of one source's durable consumer, positioned from the checkpoint. Messages go
 * straight to the runner's queue; the runner batches whatever has arrived while the previous
 * transaction ran, so batches grow with load and stay small (low latency) when it is light.
 */
export class SourceSession {
  private messages: ConsumerMessages | undefined;
  private closed = false;

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly source: string,
    private readonly spec: DurableSpec,
    private readonly generation: number,
    private readonly sink: SessionSink,
    private readonly pullBatch: number,
  ) {}

  async start(checkpoint: number): Promise<void> {
    await positionDurable(this.jsm, this.spec, checkpoint);
    const consumer = await this.js.consumers.get(this.spec.stream, this.spec.durable);
    const messages = await consumer.consume({ max_messages: this.pullBatch, expires: 5000 });
    this.messages = messages;
    if (this.closed) {
      messages.stop();
      return;
    }
    stopOnConsumerLoss(messages);
    void this.pump(messages);
  }

  private async pump(messages: ConsumerMessages): Promise<void> {
    let lastDelivery = 0;
    let failure: unknown;
    try {
      for await (const m of messages) {
        if (this.closed) break;
        // A jump in the delivery sequence means deliveries were lost on the way (a NATS
        // restart): later events must not overtake them, so start again at the checkpoint.
        const { deliverySequence, streamSequence } = deliveryOf(m);
        if (lastDelivery > 0 && deliverySequence !== lastDelivery + 1) {
          failure = new Error(`delivery gap on ${this.spec.durable} after ${lastDelivery}`);
          break;
        }
        lastDelivery = deliverySequence;
        this.sink.push(m, streamSequence, this.source, this.generation);
      }
    } catch (err) {
      failure = err;
    } finally {
      messages.stop();
    }
    if (!this.closed) this.sink.ended(this.source, this.generation, failure);
  }

  async close(): Promise<void> {
    this.closed = true;
    const m = this.messages;
    if (!m) return;
    m.stop();
    await m.closed().catch(() => {});
  }
}
