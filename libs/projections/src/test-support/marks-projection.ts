import { defineProjection, type Projection } from "../projection.js";

export interface EnrollmentCreated {
  enrollmentId: string;
  studentId: string;
}
export interface MarkRecorded {
  markId: string;
  enrollmentId: string;
  value: number;
}
export interface MarkCorrected {
  markId: string;
  value: number;
}

/**
 * Marks joined with the enrollments of another context (curriculum), which may arrive later:
 * a mark whose enrollment is unknown waits (`ctx.defer`), and its corrections wait behind it.
 * `history` records every value in the order applied, so order mistakes show.
 */
export function marksProjection(name = "marks"): Projection {
  return defineProjection({
    name,
    version: 1,
    sources: [{ context: "grades" }, { context: "curriculum" }],
    noticeContext: "reporting",
    async setup(db) {
      await db.schema
        .createTable("enrollments")
        .addColumn("enrollment_id", "text", (c) => c.primaryKey())
        .addColumn("student_id", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("marks")
        .addColumn("mark_id", "text", (c) => c.primaryKey())
        .addColumn("student_id", "text", (c) => c.notNull())
        .addColumn("value", "integer", (c) => c.notNull())
        .addColumn("history", "text", (c) => c.notNull())
        .execute();
    },
    async apply(e, ctx) {
      if (e.type === "curriculum.v1.EnrollmentCreated") {
        const d = e.data as EnrollmentCreated;
        await ctx.db
          .insertInto("enrollments")
          .values({ enrollment_id: d.enrollmentId, student_id: d.studentId })
          .execute();
        ctx.provide(`enrollment:${d.enrollmentId}`);
      } else if (e.type === "grades.v1.MarkRecorded") {
        const d = e.data as MarkRecorded;
        const enrollment = await ctx.db
          .selectFrom("enrollments")
          .select("student_id")
          .where("enrollment_id", "=", d.enrollmentId)
          .executeTakeFirst();
        if (!enrollment) return ctx.defer(`enrollment:${d.enrollmentId}`);
        await ctx.db
          .insertInto("marks")
          .values({
            mark_id: d.markId,
            student_id: enrollment.student_id,
            value: d.value,
            history: String(d.value),
          })
          .execute();
        ctx.changed("student", enrollment.student_id);
      } else if (e.type === "grades.v1.MarkCorrected") {
        const d = e.data as MarkCorrected;
        await ctx.query(
          `UPDATE ${ctx.schema}.marks SET value = $2::int, history = history || ',' || $2::int WHERE mark_id = $1`,
          [d.markId, d.value],
        );
      }
    },
  });
}
