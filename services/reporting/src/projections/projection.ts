import { defineProjection, type Projection } from "@otmetka/projections";
import { Deltas, levelsOf } from "./deltas.js";
import { journalOf } from "./event-data.js";
import { attendanceHandlers } from "./grades-attendance.js";
import { markHandlers } from "./grades-marks.js";
import { lessonHandlers } from "./lessons.js";
import { recomputePupils } from "./pupils.js";
import { schemaQuery } from "./query.js";
import { curriculumReplicaHandlers, type Handler, identityHandlers } from "./replicas.js";
import { createTables } from "./schema.js";
import { countPendingDelays } from "./timeliness.js";
import { writeAll } from "./write-deltas.js";

export const REPORTING_SCHEMA = "proj_reporting";

const handlers: Record<string, Handler> = {
  ...identityHandlers,
  ...curriculumReplicaHandlers,
  ...lessonHandlers,
  ...markHandlers,
  ...attendanceHandlers,
};

/**
 * Every read model of reporting in one projection over identity, curriculum and grades: one
 * loop, so a replica fact and the grades event that needs it are applied in arrival order in
 * one transaction per batch. Handlers write facts and collect deltas; flush recomputes the
 * touched pupils and adds all deltas to the aggregates once per batch.
 */
export const reportingProjection: Projection<Deltas> = defineProjection<Deltas>({
  name: "reporting",
  version: 1,
  sources: [{ context: "identity" }, { context: "curriculum" }, { context: "grades" }],
  noticeContext: "reporting",
  setup: (db, schema) => createTables(db, schema),
  createScratch: () => new Deltas(),
  async apply(e, ctx) {
    const handler = handlers[e.type];
    if (!handler) return;
    const d = (e.data ?? {}) as Record<string, unknown>;
    await handler(schemaQuery(ctx.query, ctx.schema), d, ctx.scratch, { time: e.time });
    if (e.context === "grades" && d.journal) {
      const j = journalOf(d);
      ctx.changed("journal", j.journalId);
      for (const [level, id] of levelsOf(j.scope))
        ctx.changed(`dashboard-${level.toLowerCase()}`, id);
    }
  },
  async flush(ctx) {
    const q = schemaQuery(ctx.query, ctx.schema);
    // Two round trips a batch: read what the touched pupils need (the batch's new marks are
    // taken from the scratch), then write marks, pupils' rows and deltas in one statement.
    await countPendingDelays(q, ctx.scratch);
    const pupils = await recomputePupils(q, ctx.scratch);
    await writeAll(q, ctx.scratch, pupils);
    for (const s of ctx.scratch.changedPupils) ctx.changed("diary", s);
  },
});
