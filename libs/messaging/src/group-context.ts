import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { AckBatcher } from "./ack-batcher.js";
import type { EventHandler } from "./consumed-event.js";
import type { RetryPolicy } from "./handler-runner.js";
import type { MessagingNames } from "./names.js";
import type { ParkedStream } from "./parking.js";

/** What the partition workers of one consumer group share. */
export interface GroupContext {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  names: MessagingNames;
  /** Domain stream consumed. */
  stream: string;
  subjectRoot: string;
  /** Base durable name (`reporting-grades`), unprefixed; partitions add `-pNN`. */
  durable: string;
  partitions: number;
  handler: EventHandler;
  retry: RetryPolicy;
  ackWaitMs: number;
  maxAckPending: number;
  batch: number;
  parkingKv: KV;
  /** Parked aggregate streams of this durable, by stream id (kept current by a KV watch). */
  parked: Map<string, ParkedStream>;
  report(err: unknown, where: string): void;
  counters: GroupCounters;
  /** One for all partitions: their acks of a turn go out in one socket write. */
  acks: AckBatcher;
}

export interface GroupCounters {
  handled: number;
  duplicatesSkipped: number;
  deadLettered: number;
  parkedEvents: number;
  released: number;
  sessions: number;
}
