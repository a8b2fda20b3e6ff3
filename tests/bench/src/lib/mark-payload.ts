/**
 * The MarkRecorded-sized event the storage and messaging benches (bench:eventstore,
 * bench:messaging, bench:projections) write, publish and consume, so that all of them move
 * the same bytes.
 */
import { makeCheckpoint, type RecordedEvent } from "@otmetka/eventstore";

/** A UUID-shaped id that is the same for the same `i` (run to run, and in every bench). */
export const numberedUuid = (i: number) => `0192a7c4-5b1e-7c3d-9f10-${String(i).padStart(12, "0")}`;

/**
 * ~300 bytes of JSON, like a MarkRecorded payload. Without the comment (`comment: false`) it
 * is the slightly smaller payload bench:projections has always measured with.
 */
export function markPayload(i: number, { comment = true }: { comment?: boolean } = {}) {
  return {
    journalId: "0192a7c4-5b1e-7c3d-9f10-2a3b4c5d6e7f",
    lessonId: "0192a7c4-5b1e-7c3d-9f10-8a9b0c1d2e3f",
    studentId: numberedUuid(i),
    mark: { scale: "FIVE_POINT", value: (i % 5) + 1 },
    workType: "INDEPENDENT_WORK",
    weight: 2,
    lessonDate: "2026-11-28",
    ...(comment ? { comment: "Solved all tasks of the independent work on fractions" } : {}),
  };
}

/** The metadata a command handler attaches: correlation, actor and trace context. */
export const MARK_METADATA = {
  correlationId: "0192a7c4-5b1e-7c3d-9f10-aaaaaaaaaaaa",
  actor: { id: "0192a7c4-5b1e-7c3d-9f10-bbbbbbbbbbbb", kind: "user" as const },
  traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
};

/**
 * The i-th MarkRecorded of a log written round-robin over `streams` aggregate streams
 * (`journal-<i mod streams>`), as the event store would return it but made without a
 * database: for the figures that publish or consume events and do not measure the store.
 */
export function syntheticMarkRecorded(
  i: number,
  streams: number,
  event: Pick<RecordedEvent, "eventId" | "data" | "metadata">,
): RecordedEvent {
  return {
    position: i + 1,
    transactionId: String(1000 + i),
    checkpoint: makeCheckpoint(String(1000 + i), i + 1),
    streamId: `journal-${i % streams}`,
    version: Math.floor(i / streams) + 1,
    eventId: event.eventId,
    type: "grades.v1.MarkRecorded",
    schemaVersion: 1,
    storedSchemaVersion: 1,
    data: event.data,
    metadata: event.metadata,
    recordedAt: new Date(),
  };
}
