/*
 * Set-up for `npm run bench:grades` (tests/bench/src/grades.ts), exported as
 * `@otmetka/grades/bench`: journals pre-filled through the event store's bulk path, the facts
 * replica filled by SQL (no identity or curriculum needed), and the gRPC service in-process.
 */
import { randomUUID } from "node:crypto";
import type { EventStore, NewEvent } from "@otmetka/eventstore";
import { GradesServiceService } from "@otmetka/proto/grades/v1/grades_service";
import {
  createCallerVerifier,
  createLogger,
  type GrpcServer,
  startGrpcServer,
  systemClock,
} from "@otmetka/service-kit";
import { Kysely, PostgresDialect } from "kysely";
import { createGradesService } from "../api/grades-service.js";
import { journalStreamId } from "../commands/journal-context.js";
import { JournalStore } from "../commands/journal-store.js";
import { newEvent } from "../domain/events.js";
import { FACTS_SCHEMA, gradesFactsProjection } from "../projections/facts.js";
import { FactsReader } from "../projections/facts-queries.js";

export { openGradesDatabase } from "../db/open-database.js";

export interface BenchJournal {
  journal: {
    classGroupId: string;
    subgroupId: string;
    subjectId: string;
    academicYear: { startYear: number };
  };
  streamId: string;
  lessonIds: string[];
  pupils: string[];
}

export interface BenchSchool {
  schoolId: string;
  teacherId: string;
  journals: BenchJournal[];
}

const PUPILS = 25;
const LESSONS = 100;
const VALUES = [
  "MARK_VALUE_THREE",
  "MARK_VALUE_FOUR",
  "MARK_VALUE_FIVE",
  "MARK_VALUE_TWO",
] as const;

/**
 * One school with `journals` class groups (one subject each, a teacher assigned to all),
 * 25 pupils and 100 past lessons per class group in the replica, and each journal's stream
 * pre-filled with `eventsPerJournal` MarkRecorded events by appendBulk.
 */
export async function setUpBenchJournals(
  store: EventStore,
  o: { journals: number; eventsPerJournal: number; onProgress?: (done: number) => void },
): Promise<BenchSchool> {
  const schoolId = randomUUID();
  const municipalityId = randomUUID();
  const teacherId = randomUUID();
  const S = FACTS_SCHEMA;
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: store.pool }) });
  await store.pool.query(`CREATE SCHEMA IF NOT EXISTS ${S}`);
  const exists = await store.pool.query(
    `SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'lessons'`,
    [S],
  );
  if (exists.rowCount === 0) await gradesFactsProjection.setup(db, S);
  await store.pool.query(`INSERT INTO ${S}.schools VALUES ($1, $2, 'Asia/Yekaterinburg')`, [
    schoolId,
    municipalityId,
  ]);
  await store.pool.query(
    `INSERT INTO ${S}.subjects VALUES ('MATH', 'GRADING_FIVE_POINT') ON CONFLICT DO NOTHING`,
  );
  const journals: BenchJournal[] = [];
  for (let j = 0; j < o.journals; j++) {
    const classGroupId = randomUUID();
    const pupils = Array.from({ length: PUPILS }, () => randomUUID());
    const lessonIds = Array.from({ length: LESSONS }, () => randomUUID());
    await store.pool.query(`INSERT INTO ${S}.class_groups VALUES ($1, $2, $3, 2026, 5)`, [
      classGroupId,
      schoolId,
      municipalityId,
    ]);
    await store.pool.query(
      `INSERT INTO ${S}.enrollments (person_id, class_group_id, first_day) SELECT p, $2, '2026-09-01' FROM unnest($1::text[]) p`,
      [pupils, classGroupId],
    );
    await store.pool.query(
      `INSERT INTO ${S}.lessons SELECT l, $2, '', 'MATH', $3, DATE '2026-09-01' + (n % 60)::int, 1, 'CONDUCTED'
       FROM unnest($1::text[]) WITH ORDINALITY AS t(l, n)`,
      [lessonIds, classGroupId, teacherId],
    );
    await store.pool.query(`INSERT INTO ${S}.assignments VALUES ($1, $2, $3, '', 'MATH', 2026)`, [
      randomUUID(),
      teacherId,
      classGroupId,
    ]);
    const journal = {
      classGroupId,
      subgroupId: "",
      subjectId: "MATH",
      academicYear: { startYear: 2026 },
    };
    journals.push({
      journal,
      streamId: journalStreamId({
        classGroupId,
        subgroupId: "",
        subjectId: "MATH",
        startYear: 2026,
      }),
      lessonIds,
      pupils,
    });
  }
  // Bulk-load the history, ten journals per call so memory stays small.
  for (let start = 0; start < journals.length; start += 10) {
    const appends = journals.slice(start, start + 10).map((j) => ({
      streamId: j.streamId,
      expected: "no_stream" as const,
      events: history(j, schoolId, municipalityId, teacherId, o.eventsPerJournal),
    }));
    await store.appendBulk(appends, { chunkEvents: 10_000 });
    o.onProgress?.(Math.min(start + 10, journals.length));
  }
  // Not db.destroy(): that would end the store's pool.
  return { schoolId, teacherId, journals };
}

function history(
  j: BenchJournal,
  schoolId: string,
  municipalityId: string,
  teacherId: string,
  n: number,
): NewEvent[] {
  const ref = {
    journalId: j.streamId,
    schoolId,
    municipalityId,
    academicYear: { startYear: 2026 },
    classGroupId: j.journal.classGroupId,
    subgroupId: "",
    subjectId: "MATH",
  };
  return Array.from({ length: n }, (_, i) =>
    newEvent("MarkRecorded", {
      schoolId,
      municipalityId,
      journal: ref,
      markId: randomUUID(),
      lessonId: j.lessonIds[i % LESSONS] as string,
      lessonDate: "2026-09-10",
      term: 1,
      studentId: j.pupils[i % PUPILS] as string,
      value: VALUES[i % VALUES.length] as (typeof VALUES)[number],
      workType: i % 5 === 0 ? "TEST" : "ORAL",
      weight: i % 5 === 0 ? 3 : 1,
      authorId: teacherId,
      noteId: "",
    }),
  );
}

/** The gRPC service on a free local port, verifying tokens against `jwksUrl`. */
export async function startBenchServer(store: EventStore, jwksUrl: string): Promise<GrpcServer> {
  const logger = createLogger({ service: "grades-bench", level: "warn" });
  const deps = {
    store,
    clock: systemClock,
    facts: new FactsReader(store.pool),
    journals: new JournalStore(store),
  };
  return startGrpcServer({
    host: "127.0.0.1",
    port: 0,
    graceMs: 0,
    drainTimeoutMs: 1000,
    logger,
    services: [
      {
        definition: GradesServiceService,
        implementation: createGradesService(deps, createCallerVerifier({ jwksUrl }), logger),
      },
    ],
  });
}
