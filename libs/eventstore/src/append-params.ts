import { InvalidEventStoreArgument } from "./errors.js";
import { newEventId } from "./event-id.js";
import type { StreamAppend } from "./event-types.js";
import { encodeExpectedVersion } from "./expected-version.js";

/** Parameters of eventstore.append_events, one array per column (see the migration). */
export interface AppendParams {
  streamIds: string[];
  expected: number[];
  /** 1-based index into streamIds, per event. */
  eventStreams: number[];
  eventIds: string[];
  types: string[];
  schemaVersions: number[];
  data: string[];
  metadata: string[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Validates appends and lays them out as column arrays, generating missing event ids. With
 * `lazy: true`, `eventIds`, `data` and `metadata` stay empty: the bulk path makes them while
 * COPY streams, so Node's work overlaps PostgreSQL's.
 */
export function toAppendParams(
  appends: readonly StreamAppend[],
  options: { lazy?: boolean } = {},
): AppendParams {
  const eager = !options.lazy;
  const p: AppendParams = {
    streamIds: [],
    expected: [],
    eventStreams: [],
    eventIds: [],
    types: [],
    schemaVersions: [],
    data: [],
    metadata: [],
  };
  const seen = new Set<string>();
  appends.forEach((a, i) => {
    const field = `appends[${i}]`;
    if (typeof a.streamId !== "string" || a.streamId.length === 0) {
      throw new InvalidEventStoreArgument(`${field}.streamId`, "must be a non-empty string");
    }
    if (seen.has(a.streamId)) {
      throw new InvalidEventStoreArgument(
        `${field}.streamId`,
        `stream "${a.streamId}" appears twice; give each stream one entry per append`,
      );
    }
    seen.add(a.streamId);
    p.streamIds.push(a.streamId);
    p.expected.push(encodeExpectedVersion(a.expected, `${field}.expected`));
    a.events.forEach((e, j) => {
      const ef = `${field}.events[${j}]`;
      if (typeof e.type !== "string" || e.type.length === 0) {
        throw new InvalidEventStoreArgument(`${ef}.type`, "must be a non-empty string");
      }
      const sv = e.schemaVersion ?? 1;
      if (!Number.isInteger(sv) || sv < 1) {
        throw new InvalidEventStoreArgument(`${ef}.schemaVersion`, `must be an integer >= 1`);
      }
      if (e.eventId !== undefined && !UUID.test(e.eventId)) {
        throw new InvalidEventStoreArgument(`${ef}.eventId`, "must be a UUID");
      }
      if (e.data === undefined) {
        throw new InvalidEventStoreArgument(`${ef}.data`, "must be JSON (undefined given)");
      }
      p.eventStreams.push(i + 1);
      if (eager) p.eventIds.push(e.eventId ?? newEventId());
      p.types.push(e.type);
      p.schemaVersions.push(sv);
      if (eager) {
        p.data.push(JSON.stringify(e.data));
        p.metadata.push(JSON.stringify(e.metadata ?? {}));
      }
    });
  });
  return p;
}
