import type { ApplyContext } from "@otmetka/projections";
import { notErased, shareErasureFence } from "./erasure-fence.js";
import { markText } from "./marks.js";
import { markDirty } from "./outbox.js";
import {
  type FeedContext,
  type FeedOptions,
  type FeedScratch,
  num,
  outboxQuery,
  str,
} from "./projection.js";

const MISSED = new Set([
  "ABSENCE_REASON_ILLNESS",
  "ABSENCE_REASON_EXCUSED",
  "ABSENCE_REASON_UNEXCUSED",
]);
const EXCUSED = new Set(["ABSENCE_REASON_ILLNESS", "ABSENCE_REASON_EXCUSED"]);
/** The grades events applyGrades writes for (MarkRecorded is gathered: flushScratch). */
const WRITTEN = new Set([
  "MarkCorrected",
  "MarkRevoked",
  "TermMarkSet",
  "TermMarkCorrected",
  "AttendanceRecorded",
  "AbsenceExcused",
  "ExemptionGranted",
]);

/**
 * Grades facts the performance snapshot needs; each touched pupil is marked for a snapshot.
 * Grades may lag identity: a fact of a pupil already erased is not kept (the erasure deleted
 * the pupil's rows and will not run again), and nothing is published for them (the debouncer
 * publishes only pupils not erased).
 */
export async function applyGrades(f: FeedContext): Promise<void> {
  const { e, ctx, t } = f;
  const d = e.data;
  const journal = (d.journal ?? {}) as Record<string, unknown>;
  const touched: string[] = [];
  const type = e.type.slice("grades.v1.".length);
  if (!WRITTEN.has(type)) return;
  // Before any write of the batch (a revoked mark's or a lesson's old absences' row locks too):
  // an erasure holding the fence may be about to delete those very rows.
  await shareErasureFence(ctx);
  switch (type) {
    case "MarkCorrected": {
      const mark = markText(d.value);
      if (mark !== null) {
        await ctx.query(`UPDATE ${t("marks")} SET mark = $2 WHERE mark_id = $1`, [
          str(d.markId),
          mark,
        ]);
      }
      touched.push(str(d.studentId));
      break;
    }
    case "MarkRevoked":
      await ctx.query(`DELETE FROM ${t("marks")} WHERE mark_id = $1`, [str(d.markId)]);
      touched.push(str(d.studentId));
      break;
    case "TermMarkSet":
    case "TermMarkCorrected": {
      const mark = markText(d.value);
      if (mark !== null) {
        await ctx.query(
          `INSERT INTO ${t("term_marks")} SELECT $1::text, $2::text, $3::int, $4::text
           WHERE ${notErased(t, "$1")}
           ON CONFLICT (student_id, subject_id, term) DO UPDATE SET mark = EXCLUDED.mark`,
          [str(d.studentId), str(journal.subjectId), num(d.term), mark],
        );
      }
      touched.push(str(d.studentId));
      break;
    }
    case "AttendanceRecorded": {
      // A later record replaces the lesson's list: pupils dropped from it change too.
      const old = await ctx.query(
        `DELETE FROM ${t("absences")} WHERE lesson_id = $1 RETURNING student_id`,
        [str(d.lessonId)],
      );
      for (const r of old.rows) touched.push(String(r.student_id));
      for (const entry of (d.entries ?? []) as Record<string, unknown>[]) {
        const reason = str(entry.reason);
        const missed = MISSED.has(reason);
        const late = num(entry.lateMinutes) > 0;
        if (!missed && !late) continue;
        await ctx.query(
          `INSERT INTO ${t("absences")} SELECT $1::text, $2::text, $3::boolean, $4::boolean, $5::boolean
           WHERE ${notErased(t, "$2")} ON CONFLICT DO NOTHING`,
          [str(d.lessonId), str(entry.studentId), missed, EXCUSED.has(reason), late],
        );
        touched.push(str(entry.studentId));
      }
      break;
    }
    case "AbsenceExcused":
      await ctx.query(
        `UPDATE ${t("absences")} SET excused = true WHERE lesson_id = $1 AND student_id = $2`,
        [str(d.lessonId), str(d.studentId)],
      );
      touched.push(str(d.studentId));
      break;
    case "ExemptionGranted":
      await ctx.query(
        `INSERT INTO ${t("exemptions")} SELECT $1::text, $2::text, $3::text, $4::text, $5::text
         WHERE ${notErased(t, "$2")} ON CONFLICT DO NOTHING`,
        [
          str(d.exemptionId),
          str(d.studentId),
          str(journal.subjectId),
          str(d.firstDay),
          str(d.lastDay),
        ],
      );
      touched.push(str(d.studentId));
      break;
    default:
      return;
  }
  for (const pupil of touched) if (pupil) ctx.scratch.dirtyPupils.add(pupil);
}

/** MarkRecorded, the bulk of the traffic: gathered, written by flushScratch. */
export function gatherMark(f: FeedContext): void {
  const d = f.e.data;
  const mark = markText(d.value);
  const s = f.ctx.scratch;
  if (mark !== null) {
    const journal = (d.journal ?? {}) as Record<string, unknown>;
    const row = [
      str(d.markId),
      str(d.studentId),
      str(journal.subjectId),
      num(d.term),
      mark,
      num(d.weight),
      f.e.sequence,
    ];
    for (const [i, v] of row.entries()) s.marks[i]?.push(v);
  }
  if (str(d.studentId)) s.dirtyPupils.add(str(d.studentId));
}

export async function flushScratch(
  ctx: ApplyContext<FeedScratch>,
  opts: FeedOptions,
): Promise<void> {
  const s = ctx.scratch;
  if ((s.marks[0]?.length ?? 0) > 0) {
    const t = (table: string) => `"${ctx.schema}".${table}`;
    await shareErasureFence(ctx);
    await ctx.query(
      `INSERT INTO ${t("marks")} SELECT m.* FROM unnest($1::text[], $2::text[], $3::text[], $4::int[],
         $5::text[], $6::int[], $7::bigint[]) AS m(mark_id, student_id, subject_id, term, mark, weight, seq)
       WHERE ${notErased(t, "m.student_id")} ON CONFLICT (mark_id) DO NOTHING`,
      s.marks,
    );
    s.marks = [[], [], [], [], [], [], []];
  }
  if (s.dirtyPupils.size > 0) {
    await shareErasureFence(ctx);
    await markDirty(outboxQuery(ctx), "pupil", [...s.dirtyPupils], opts.debounceMs);
    s.dirtyPupils = new Set();
  }
}
