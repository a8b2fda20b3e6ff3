import { defineProjection, type Projection } from "@otmetka/projections";
import { CLOCK_ZONE, closeDay, readOpenDay, writeOpenDay } from "./day-close.js";
import { Deltas } from "./deltas.js";
import { civilDate, journalOf } from "./event-data.js";
import { attendanceHandlers } from "./grades-attendance.js";
import { markHandlers } from "./grades-marks.js";
import { lessonDiaryPupils, noticeDashboards, noticeLessonChange } from "./lesson-notices.js";
import { lessonHandlers, writeLessons, writeScheduled } from "./lessons.js";
import { hasUnwrittenPupils, recomputePupils, takePupilRows } from "./pupils.js";
import type { Q } from "./query.js";
import { schemaQuery, writeBehindQuery } from "./query.js";
import { type InfoLogger, rebuildBudget } from "./rebuild-budget.js";
import { rebuildMemory } from "./rebuild-memory.js";
import {
  curriculumReplicaHandlers,
  enrollmentsWritten,
  type Handler,
  identityHandlers,
  nameHandlers,
} from "./replicas.js";
import { createTables } from "./schema.js";
import { countPendingDelays } from "./timeliness.js";
import { writeAll } from "./write-deltas.js";

export const REPORTING_SCHEMA = "proj_reporting";

const handlers: Record<string, Handler> = {
  ...identityHandlers,
  ...nameHandlers,
  ...curriculumReplicaHandlers,
  ...lessonHandlers,
  ...markHandlers,
  ...attendanceHandlers,
};

export interface ReportingProjectionOptions {
  /**
   * What a rebuild may hold in memory (estimated, rebuild-budget.ts) before the rest of it
   * goes on the live way; REPORTING_REBUILD_MEMORY_MB, 1 GiB by default.
   */
  rebuildMemoryBytes?: number;
  /** Where a rebuild's fallback is logged (once); the console by default. */
  logger?: InfoLogger;
}

/**
 * Every read model of reporting in one projection over identity, curriculum and grades: one
 * loop, so a replica fact and the grades event that needs it are applied in arrival order in
 * one transaction per batch. Handlers write facts and collect deltas; flush recomputes the
 * touched pupils and adds all deltas to the aggregates once per batch.
 */
export const createReportingProjection = (
  o: ReportingProjectionOptions = {},
): Projection<Deltas> => {
  const checkBudget = rebuildBudget({ bytes: o.rebuildMemoryBytes, logger: o.logger });
  return defineProjection<Deltas>({
    name: "reporting",
    // 2: daily snapshots (perf_h, standing_h, daily_h, day_clock, dirty flags);
    // 3: indexes for effective-mode dashboards (marks by class group, pupil_results by scope);
    // 4: pupil_results' scope indexes on stored columns (keeps its upserts HOT);
    // 5: both result bases in one perf / standing row (half the aggregate rows a mark upserts);
    // 6: the subgroups replica (a subgroup's class group, for the journal view's roster);
    // 7: names of municipalities, schools and subjects (the statutory export's rows and heading);
    // 8: the terms' kind (quarter, trimester, half-year: the export's period name);
    // 9: lessons.roll (a cancelled lesson's attendance leaves the counters it entered);
    // 10: lessons.attendance_entries (its attendance records leave timeliness too);
    // 11: a pupil counts for a period where enrolled on its last day (a transfer after a term
    //     ended left that term's results to the new class group; no table changes).
    version: 11,
    sources: [{ context: "identity" }, { context: "curriculum" }, { context: "grades" }],
    noticeContext: "reporting",
    setup: (db, schema) => createTables(db, schema),
    // A rebuild keeps its aggregates and facts in memory across batches, up to its budget.
    createScratch: (carry) => new Deltas(carry ? rebuildMemory(carry) : undefined),
    async apply(e, ctx) {
      const q = schemaQuery(ctx.query, ctx.schema);
      await advanceClock(q, ctx.scratch, e.time);
      const handler = handlers[e.type];
      if (!handler) return;
      // Attributions are computed from the replicas: a rebuild's cache of them is dropped.
      if (REPLICA_EVENTS.has(e.type)) ctx.scratch.rebuild?.attributions.clear();
      // These read which results a pupil has from the table: the batch's go there first.
      if (READS_PUPIL_RESULTS.has(e.type) && hasUnwrittenPupils(ctx.scratch))
        await writeAll(q, new Deltas(), takePupilRows(ctx.scratch));
      const d = (e.data ?? {}) as Record<string, unknown>;
      await handler(q, d, ctx.scratch, { time: e.time });
      // A rebuild publishes no notices (its batches' changes are never sent).
      if (ctx.mode === "rebuild") return;
      if (e.context === "grades" && d.journal) {
        const j = journalOf(d);
        ctx.changed("journal", j.journalId);
        noticeDashboards(ctx.changed, j.scope);
      } else if (LESSON_EVENTS.has(e.type))
        noticeLessonChange(ctx.changed, ctx.scratch.lessonDiaries, d);
    },
    async flush(ctx) {
      const q = schemaQuery(ctx.query, ctx.schema);
      // A rebuild reads nothing back after these writes: it computes its next batch while
      // PostgreSQL runs them (`writeBehind`, pipelined in @otmetka/projections' rebuild).
      const w = ctx.scratch.rebuild ? writeBehindQuery(q, ctx.writeBehind) : q;
      await writeBatch(q, ctx.scratch, true, w);
      await writeLessons(w, ctx.scratch);
      await ctx.scratch.attendance.write(w);
      if (ctx.scratch.clockMoved && ctx.scratch.openDay) await writeOpenDay(w, ctx.scratch.openDay);
      if (ctx.mode === "live") {
        for (const s of await lessonDiaryPupils(q, ctx.scratch.lessonDiaries))
          ctx.changed("diary", s);
        for (const s of ctx.scratch.changedPupils) ctx.changed("diary", s);
      }
      // Everything is written: the tables could take over from the memory from here on.
      if (ctx.carry && ctx.scratch.rebuild) checkBudget(ctx.carry, ctx.scratch.rebuild);
    },
  });
};

export const reportingProjection = createReportingProjection();

/** Curriculum's lesson events: their journal, dashboards and diaries are told (lesson-notices.ts). */
const LESSON_EVENTS = new Set(Object.keys(lessonHandlers));

const REPLICA_EVENTS = new Set([
  ...Object.keys(identityHandlers),
  ...Object.keys(curriculumReplicaHandlers),
]);

/** Handlers that read a pupil's rows in `pupil_results` (to re-attribute or re-exempt them). */
const READS_PUPIL_RESULTS = new Set([
  "identity.v1.StudentEnrolled",
  "identity.v1.StudentTransferred",
  "identity.v1.StudentWithdrawn",
  "grades.v1.ExemptionGranted",
  "curriculum.v1.TermSystemDefined",
]);

/**
 * The batch's scheduled lessons (their counts are deltas of this day), then two round trips:
 * read what the touched pupils need (the batch's new marks are taken from the scratch), then
 * write marks and deltas in one statement — with the pupils' rows at the batch's end
 * (`last`); a day close leaves them for it (pupils.ts).
 */
async function writeBatch(q: Q, d: Deltas, last = false, w: Q = q): Promise<void> {
  await writeScheduled(q, d);
  await enrollmentsWritten(q, d);
  await countPendingDelays(q, d);
  await recomputePupils(q, d);
  const pupils = last ? takePupilRows(d) : { resultRows: [], standingRows: [] };
  if (!d.rebuild) return writeAll(q, d, pupils);
  // A rebuild adds the deltas to its aggregates in memory and writes facts and aggregates
  // at the batch's end only (rebuild-memory.ts).
  d.rebuild.addDeltas(d);
  if (!last) return;
  await writeAll(w, d, pupils);
  await d.rebuild.writeChangedMarks(w);
  await d.rebuild.write(w);
}

/**
 * The recorded-time clock: an event recorded on a later day (CLOCK_ZONE) than the open one
 * closes the open day first — what the batch wrote so far is flushed, then the changed
 * aggregate rows are snapshotted — so a snapshot holds exactly the events recorded up to
 * its day, wherever batches happen to be cut (live or rebuild). Times never move it back:
 * an event recorded earlier than the open day counts in the open day.
 */
async function advanceClock(q: Q, d: Deltas, time: string): Promise<void> {
  if (!time) return;
  // A rebuild holds the open day from batch to batch (no read ahead of each batch's events).
  if (d.openDay === undefined) d.openDay = d.rebuild?.openDay ?? (await readOpenDay(q));
  const day = civilDate(time, CLOCK_ZONE);
  if (d.openDay !== null && day <= d.openDay) return;
  if (d.openDay !== null) {
    await writeBatch(q, d);
    d.clearWritten();
    if (d.rebuild) d.rebuild.closeDay(d.openDay);
    else await closeDay(q, d.openDay);
  }
  d.openDay = day;
  if (d.rebuild) d.rebuild.openDay = day;
  d.clockMoved = true;
}
