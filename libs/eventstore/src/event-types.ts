import type { Checkpoint } from "./checkpoint.js";
import type { ExpectedVersion } from "./expected-version.js";

/** Who caused an event: a person (by id, never by name) or a service. */
export interface Actor {
  id: string;
  kind?: "user" | "service" | "system";
}

/**
 * Stored beside each event as jsonb. Ids only: personal data never goes in metadata.
 * `traceparent`/`tracestate` are W3C trace context, so a consumer continues the trace.
 */
export interface EventMetadata {
  correlationId?: string;
  causationId?: string;
  /** Id of the command that produced the event, when it came through the command helper. */
  commandId?: string;
  actor?: Actor;
  traceparent?: string;
  tracestate?: string;
  [extra: string]: unknown;
}

/** An event to append. */
export interface NewEvent<Data = unknown> {
  type: string;
  data: Data;
  /** Version of `data`'s shape for this type; defaults to 1. Upcasters key on it. */
  schemaVersion?: number;
  metadata?: EventMetadata;
  /** UUIDv7; generated when absent. */
  eventId?: string;
}

/** An event as read back, after upcasting. */
export interface RecordedEvent<Data = unknown> {
  /** Global position (identity); unique, but not the order of `readAll` (see README). */
  position: number;
  /** Id of the transaction that wrote the event (xid8, decimal). */
  transactionId: string;
  /** Where a `readAll` reader that has handled this event resumes. */
  checkpoint: Checkpoint;
  streamId: string;
  /** 1 for a stream's first event. */
  version: number;
  eventId: string;
  type: string;
  /** Schema version of `data` after upcasting (the current one). */
  schemaVersion: number;
  /** Schema version the event was stored with. */
  storedSchemaVersion: number;
  data: Data;
  metadata: EventMetadata;
  recordedAt: Date;
}

/** Events for one stream inside a (possibly multi-stream) append. */
export interface StreamAppend {
  streamId: string;
  expected: ExpectedVersion;
  events: readonly NewEvent[];
}

export interface StreamVersion {
  streamId: string;
  /** Version of the stream after the append. */
  version: number;
}
