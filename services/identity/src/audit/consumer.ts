import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Clock, Logger } from "@otmetka/service-kit";
import { type AuditRecord, decodeAuditRecord, InvalidAccessRecord } from "./record.js";
import type { AuditStore } from "./store.js";
import type { AuditNames } from "./stream.js";

export interface AuditConsumerOptions {
  nc: NatsConnection;
  names: AuditNames;
  store: Pick<AuditStore, "store">;
  clock: Clock;
  logger: Logger;
  /** Records per bulk write (default 5000). */
  batchSize?: number;
  /** How long a partial batch waits for more before it is written (default 200 ms). */
  lingerMs?: number;
  /** Delay before a batch whose write failed is redelivered (default 2 s). */
  retryDelayMs?: number;
}

export interface AuditConsumerStats {
  stored: number;
  duplicates: number;
  expired: number;
  invalid: number;
  failedWrites: number;
}

/** A message with its record, or with why it is not one; decoded as it arrives. */
type Decoded = { m: JsMsg; record: AuditRecord } | { m: JsMsg; invalid: InvalidAccessRecord };

const ns = (ms: number) => ms * 1_000_000;
/** Longer than a batch can wait plus its write, so a slow write is not redelivered meanwhile. */
const ACK_WAIT_MS = 120_000;

/**
 * Reads the AUDIT stream through one durable pull consumer (shared by every identity
 * instance) and stores records in batches; messages are acked only after their batch
 * committed, so a crash redelivers them and the store's idempotency absorbs the repeat.
 * A message that is not a valid record is terminated (logged with its sequence).
 */
export class AuditConsumer {
  readonly stats: AuditConsumerStats = {
    stored: 0,
    duplicates: 0,
    expired: 0,
    invalid: 0,
    failedWrites: 0,
  };
  private messages: ConsumerMessages | undefined;
  private buffer: Decoded[] = [];
  private chain: Promise<void> = Promise.resolve();
  /** The writes queued before the latest one: the reader waits for these, not the latest. */
  private previous: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  private readonly batchSize: number;
  private readonly lingerMs: number;
  private readonly retryDelayMs: number;

  constructor(private readonly o: AuditConsumerOptions) {
    this.batchSize = o.batchSize ?? 5000;
    this.lingerMs = o.lingerMs ?? 200;
    this.retryDelayMs = o.retryDelayMs ?? 2000;
  }

  async start(): Promise<this> {
    const { names } = this.o;
    const jsm = await jetstreamManager(this.o.nc);
    try {
      await jsm.consumers.info(names.stream, names.durable);
    } catch (err) {
      if (!(err instanceof JetStreamApiError) || err.code !== JetStreamApiCodes.ConsumerNotFound) {
        throw err;
      }
      await jsm.consumers.add(names.stream, {
        durable_name: names.durable,
        filter_subject: names.accessSubject,
        ack_policy: AckPolicy.Explicit,
        ack_wait: ns(ACK_WAIT_MS),
        deliver_policy: DeliverPolicy.All,
        max_deliver: -1,
        max_ack_pending: this.batchSize * 4,
      });
    }
    const consumer = await jetstream(this.o.nc).consumers.get(names.stream, names.durable);
    this.messages = await consumer.consume({ max_messages: this.batchSize * 2 });
    this.loop = this.run(this.messages);
    return this;
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    for await (const m of messages) {
      this.buffer.push(this.decode(m));
      if (this.buffer.length >= this.batchSize) {
        // Double buffering: the next batch gathers (and decodes) while this one is written;
        // reading pauses only while two batches are waiting for PostgreSQL.
        void this.flush();
        await this.previous;
      } else if (!this.timer) {
        this.timer = setTimeout(() => void this.flush(), this.lingerMs);
      }
    }
  }

  /** Writes what is buffered; writes run one at a time, in arrival order. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const msgs = this.buffer;
    this.buffer = [];
    if (msgs.length > 0) {
      this.previous = this.chain;
      this.chain = this.chain.then(() =>
        this.write(msgs).catch((err: unknown) => {
          // Not a store failure (those are handled in write): keep the chain alive.
          this.stats.failedWrites++;
          this.o.logger.error({ err }, "access audit batch failed (redelivered)");
          for (const { m } of msgs) m.nak(this.retryDelayMs);
        }),
      );
    }
    return this.chain;
  }

  private decode(m: JsMsg): Decoded {
    try {
      return { m, record: decodeAuditRecord(m.data, this.o.clock.now()) };
    } catch (err) {
      if (!(err instanceof InvalidAccessRecord)) throw err;
      return { m, invalid: err };
    }
  }

  private async write(items: Decoded[]): Promise<void> {
    const valid: JsMsg[] = [];
    const records: AuditRecord[] = [];
    for (const item of items) {
      if ("record" in item) {
        records.push(item.record);
        valid.push(item.m);
        continue;
      }
      const { m, invalid } = item;
      this.stats.invalid++;
      this.o.logger.warn(
        { stream_seq: m.seq, field: invalid.field, reason: invalid.message },
        "access record refused (terminated)",
      );
      m.term(invalid.message);
    }
    if (records.length === 0) return;
    const now = this.o.clock.now();
    try {
      const mayRepeat = valid.some((m) => m.redelivered);
      const r = await this.o.store.store(records, now, { mayRepeat });
      this.stats.stored += r.stored;
      this.stats.duplicates += r.duplicates;
      this.stats.expired += r.expired;
      for (const m of valid) m.ack();
    } catch (err) {
      this.stats.failedWrites++;
      this.o.logger.warn({ err, records: records.length }, "access records not stored (retried)");
      for (const m of valid) m.nak(this.retryDelayMs);
    }
  }

  /** Stops reading, writes what it holds, and waits for the last write. */
  async stop(): Promise<void> {
    this.messages?.stop();
    await this.loop?.catch(() => {});
    await this.flush();
  }
}
