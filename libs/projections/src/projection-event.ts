import type { JsMsg } from "@nats-io/jetstream";
import { decodeData, scanEnvelope } from "@otmetka/messaging";
import type { ProjectionEvent } from "./projection.js";

/** One message of a batch: its source and sequence always; the event unless it was malformed. */
export interface BatchEntry {
  source: string;
  sequence: number;
  event: ProjectionEvent | undefined;
}

/** A message as a batch entry; a message without an envelope only moves the checkpoint. */
export function toEntry(m: JsMsg, source: string): BatchEntry {
  const sequence = m.seq;
  let event: ProjectionEvent | undefined;
  try {
    // One scan of the raw header block (nats.js's own decoder dominated rebuilds), and the
    // event built field by field: an object spread of the envelope cost more than the scan.
    const env = scanEnvelope(m).envelope;
    event = {
      eventId: env.eventId,
      type: env.type,
      source: env.source,
      streamId: env.streamId,
      version: env.version,
      schemaVersion: env.schemaVersion,
      position: env.position,
      checkpoint: env.checkpoint,
      time: env.time,
      data: decodeData(m.data),
      subject: m.subject,
      context: source,
      sequence,
      wasPending: false,
    };
    if (env.correlationId !== undefined) event.correlationId = env.correlationId;
    if (env.causationId !== undefined) event.causationId = env.causationId;
    if (env.commandId !== undefined) event.commandId = env.commandId;
    if (env.actorId !== undefined) event.actorId = env.actorId;
  } catch {
    event = undefined;
  }
  return { source, sequence, event };
}
