import { EventStore, migrateEventStore, type StreamAppend } from "@otmetka/eventstore";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";

/** An event store over the database at `url`, migrated first. */
export async function openLog(url: string): Promise<EventStore> {
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }),
  });
  try {
    await migrateEventStore(db);
  } finally {
    await db.destroy();
  }
  return EventStore.connect({ connectionString: url, max: 4 });
}

export const testStreamId = (i: number) => `course-${String(i).padStart(4, "0")}`;

/**
 * Appends `rounds` events to each of `streams` streams: one transaction per round, holding
 * version `round` of every stream, so each stream's events are spread over the whole log.
 */
export async function appendRounds(
  store: EventStore,
  o: { streams: number; rounds: number; firstRound?: number; type?: string },
): Promise<number> {
  let count = 0;
  const first = o.firstRound ?? 1;
  for (let round = first; round < first + o.rounds; round++) {
    const appends: StreamAppend[] = [];
    for (let s = 0; s < o.streams; s++) {
      appends.push({
        streamId: testStreamId(s),
        expected: round - 1,
        events: [
          {
            type: o.type ?? "grades.v1.MarkRecorded",
            data: { stream: s, round },
            metadata: {
              correlationId: `corr-${s}-${round}`,
              actor: { id: "teacher-1", kind: "user" },
              traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            },
          },
        ],
      });
    }
    await store.appendMany(appends);
    count += appends.length;
  }
  return count;
}
