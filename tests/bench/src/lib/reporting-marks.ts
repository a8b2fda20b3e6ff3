import { randomUUID } from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import { EventStore, migrateEventStoreDatabase } from "@otmetka/eventstore";
import {
  type LogReader,
  type MessagingNames,
  messagingNames,
  OutboxRelay,
} from "@otmetka/messaging";
import { ensureSourceStreams } from "@otmetka/reporting/bench";
import pg from "pg";
import { BenchScratch } from "./bench-env.js";

/** Class groups the lag scenario spreads its marks over (10 schools, 3 municipalities). */
export const LAG_CLASS_GROUPS = 200;

/** One grades MarkRecorded as the journal decider writes it (proto3 JSON), in its own journal. */
export function markRecorded(i: number, journalId: string) {
  const cg = i % LAG_CLASS_GROUPS;
  const school = `school-${cg % 10}`;
  const municipality = `muni-${cg % 3}`;
  return {
    schoolId: school,
    municipalityId: municipality,
    journal: {
      journalId,
      schoolId: school,
      municipalityId: municipality,
      academicYear: { startYear: 2026 },
      classGroupId: `cg-${cg}`,
      subjectId: `sub-${i % 10}`,
    },
    markId: randomUUID(),
    lessonId: `l-${i % 1000}`,
    lessonDate: "2026-11-16",
    term: 2,
    studentId: `st-${cg}-${i % 25}`,
    value: `MARK_VALUE_${["ONE", "TWO", "THREE", "FOUR", "FIVE"][i % 5]}`,
    workType: "ORAL",
    weight: 1 + (i % 3),
    authorId: "teacher",
  };
}

/** Grades' outbox relay of the lag scenario: its log to its context stream, routed by school. */
export function startGradesRelay(
  nc: NatsConnection,
  names: MessagingNames,
  log: LogReader,
  databaseUrl: string,
): OutboxRelay {
  return new OutboxRelay({
    nc,
    log,
    stream: names.contextStream("grades").name,
    databaseUrl,
    subjectRoot: names.eventRoot("grades"),
    source: "grades",
    route: (e) => {
      const d = e.data as { schoolId: string; municipalityId: string };
      return { schoolId: d.schoolId, municipalityId: d.municipalityId };
    },
  }).start();
}

/**
 * One run of the lag scenario's own grades log (migrated, with its store), reporting database
 * (a pool of 6) and NATS prefix with the source streams: fresh per run, as a fresh read model
 * would otherwise first replay the earlier runs' events. `close` removes them all.
 */
export async function openLagScenario(
  nc: NatsConnection,
  labels: { grades: string; reporting: string },
) {
  const scratch = new BenchScratch();
  const prefix = scratch.natsPrefix();
  const names = messagingNames(prefix);
  const gradesDb = await scratch.database(labels.grades);
  const reportingDb = await scratch.database(labels.reporting);
  await migrateEventStoreDatabase(gradesDb.url);
  const store = await EventStore.connect({ connectionString: gradesDb.url });
  const pool = new pg.Pool({ connectionString: reportingDb.url, max: 6 });
  await ensureSourceStreams(nc, names);
  return {
    prefix,
    names,
    gradesDb,
    reportingDb,
    store,
    pool,
    async close(): Promise<void> {
      await store.close();
      await pool.end();
      await scratch.cleanup();
    },
  };
}
