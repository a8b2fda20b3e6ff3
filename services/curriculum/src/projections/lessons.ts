import { type ApplyContext, defineProjection, type Projection } from "@otmetka/projections";
import { sql } from "kysely";

/*
 * The lessons read model: one row per lesson of curriculum's own lesson events, indexed for
 * the two queries that must not read many streams — a class group's lessons in a date range
 * and a teacher's day across the school. Rebuildable from `<prefix>_CURRICULUM` at any time.
 * Commands never read it: their checks read the aggregates' streams (consistent), this lags
 * by the relay.
 */
export const LESSONS_SCHEMA = "proj_lessons";

type Data = Record<string, unknown>;
const str = (d: Data, k: string) => (typeof d[k] === "string" ? (d[k] as string) : "");
const int = (d: Data, k: string) => (typeof d[k] === "number" ? (d[k] as number) : 0);

/** Scheduled lessons of a batch, inserted with one statement (generation emits thousands). */
interface Scratch {
  scheduled: unknown[][];
}

const COLUMNS = [
  "lesson_id",
  "school_id",
  "class_group_id",
  "start_year",
  "subgroup_id",
  "subject_id",
  "teacher_id",
  "date",
  "period",
  "term",
  "room",
] as const;

async function insertScheduled(ctx: ApplyContext<Scratch>) {
  const rows = ctx.scratch.scheduled;
  if (rows.length === 0) return;
  ctx.scratch.scheduled = [];
  const params: unknown[] = [];
  const values = rows.map((r) => {
    const at = params.length;
    params.push(...r);
    return `(${r.map((_, i) => `$${at + i + 1}`).join(", ")})`;
  });
  // A lesson scheduled again (same slot and date) starts over as a plain scheduled lesson.
  await ctx.query(
    `INSERT INTO "${ctx.schema}".lessons (${COLUMNS.join(", ")}) VALUES ${values.join(", ")}
     ON CONFLICT (lesson_id) DO UPDATE SET
       ${COLUMNS.slice(1)
         .map((c) => `${c} = EXCLUDED.${c}`)
         .join(", ")},
       status = 'scheduled', moved = false, topic = '', work_programme_item_id = '',
       homework = '', homework_due = '', conducted_by = ''`,
    params,
  );
}

/** At most this many rows per INSERT (PostgreSQL allows 65,535 parameters). */
const MAX_ROWS = 5_000;

export const lessonsProjection: Projection<Scratch> = defineProjection<Scratch>({
  name: "lessons",
  version: 1,
  sources: [{ context: "curriculum" }],
  createScratch: () => ({ scheduled: [] }),
  async setup(db, schema) {
    const t = (name: string) => sql.id(schema, name);
    await sql`CREATE TABLE ${t("lessons")} (
      lesson_id text PRIMARY KEY,
      school_id text NOT NULL,
      class_group_id text NOT NULL,
      start_year integer NOT NULL,
      subgroup_id text NOT NULL,
      subject_id text NOT NULL,
      teacher_id text NOT NULL,
      date text NOT NULL,
      period smallint NOT NULL,
      term smallint NOT NULL,
      room text NOT NULL,
      status text NOT NULL DEFAULT 'scheduled',
      moved boolean NOT NULL DEFAULT false,
      topic text NOT NULL DEFAULT '',
      work_programme_item_id text NOT NULL DEFAULT '',
      homework text NOT NULL DEFAULT '',
      homework_due text NOT NULL DEFAULT '',
      conducted_by text NOT NULL DEFAULT ''
    )`.execute(db);
    await sql`CREATE INDEX ON ${t("lessons")} (class_group_id, start_year, date)`.execute(db);
    await sql`CREATE INDEX ON ${t("lessons")} (school_id, date, teacher_id)`.execute(db);
    await sql`CREATE INDEX ON ${t("lessons")} (school_id, date, conducted_by)`.execute(db);
  },
  async apply(e, ctx) {
    const d = (e.data ?? {}) as Data;
    if (!e.type.startsWith("curriculum.v1.Lesson")) return;
    if (e.type === "curriculum.v1.LessonScheduled") {
      ctx.scratch.scheduled.push([
        str(d, "lessonId"),
        str(d, "schoolId"),
        str(d, "classGroupId"),
        int((d.academicYear ?? {}) as Data, "startYear"),
        str(d, "subgroupId"),
        str(d, "subjectId"),
        str(d, "teacherId"),
        str(d, "date"),
        int(d, "period"),
        int(d, "term"),
        str(d, "room"),
      ]);
      if (ctx.scratch.scheduled.length >= MAX_ROWS) await insertScheduled(ctx);
      return;
    }
    // Any change to a lesson comes after its scheduling: write the collected rows first.
    await insertScheduled(ctx);
    const set = (assignments: string, params: unknown[]) =>
      ctx.query(`UPDATE "${ctx.schema}".lessons SET ${assignments} WHERE lesson_id = $1`, [
        str(d, "lessonId"),
        ...params,
      ]);
    switch (e.type) {
      case "curriculum.v1.LessonUnscheduled":
        await set("status = 'unscheduled'", []);
        return;
      case "curriculum.v1.LessonCancelled":
        await set("status = 'cancelled'", []);
        return;
      case "curriculum.v1.LessonConducted":
        await set(
          `status = 'conducted', topic = $2, work_programme_item_id = $3, homework = $4,
           homework_due = $5, conducted_by = $6`,
          [
            str(d, "topic"),
            str(d, "workProgrammeItemId"),
            str(d, "homework"),
            str(d, "homeworkDue"),
            str(d, "conductedBy"),
          ],
        );
        return;
      case "curriculum.v1.LessonTeacherChanged":
        await set("teacher_id = $2", [str(d, "newTeacherId")]);
        return;
      case "curriculum.v1.LessonMoved":
        await set("date = $2, period = $3, term = $4, moved = true", [
          str(d, "toDate"),
          int(d, "toPeriod"),
          int(d, "toTerm"),
        ]);
        return;
      default:
        return;
    }
  },
  flush: insertScheduled,
});
