import { makeCheckpoint } from "./checkpoint.js";
import type { EventMetadata, RecordedEvent } from "./event-types.js";
import { parseInt8 } from "./int8.js";
import type { Upcasters } from "./upcasters.js";

/**
 * Columns every read selects, in the shape EventRow describes. The xid8 comes out as text
 * under another name: an output column named transaction_id would capture ORDER BY
 * transaction_id and sort the log as text ("9" after "10").
 */
export const EVENT_COLUMNS =
  "e.position, e.transaction_id::text AS xid_text, e.stream_id, e.stream_version, e.event_id, " +
  "e.type, e.schema_version, e.data, e.metadata, e.recorded_at";

export interface EventRow {
  position: string;
  xid_text: string;
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
    transactionId: row.xid_text,
    checkpoint: makeCheckpoint(row.xid_text, position),
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
