import { makeCheckpoint } from "./checkpoint.js";
import type { EventMetadata, RecordedEvent } from "./event-types.js";
import { parseInt8 } from "./int8.js";
import type { Upcasters } from "./upcasters.js";

/** Columns every read selects, in the shape EventRow describes. */
export const EVENT_COLUMNS =
  "position, transaction_id::text AS transaction_id, stream_id, stream_version, event_id, " +
  "type, schema_version, data, metadata, recorded_at";

export interface EventRow {
  position: string;
  transaction_id: string;
  stream_id: string;
  stream_version: string;
  event_id: string;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: EventMetadata;
  recorded_at: Date;
}

export function toRecordedEvent(row: EventRow, upcasters: Upcasters | undefined): RecordedEvent {
  const position = parseInt8(row.position, "events.position");
  const upcast = upcasters
    ? upcasters.upcast(row.type, row.schema_version, row.data)
    : { data: row.data, schemaVersion: row.schema_version };
  return {
    position,
    transactionId: row.transaction_id,
    checkpoint: makeCheckpoint(row.transaction_id, position),
    streamId: row.stream_id,
    version: parseInt8(row.stream_version, "events.stream_version"),
    eventId: row.event_id,
    type: row.type,
    schemaVersion: upcast.schemaVersion,
    storedSchemaVersion: row.schema_version,
    data: upcast.data,
    metadata: row.metadata,
    recordedAt: row.recorded_at,
  };
}
