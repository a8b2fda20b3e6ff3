import { civilDate } from "@otmetka/service-kit";
import type pg from "pg";
import { checkSchoolId, checkStartYear } from "../commands/calendar.js";
import { invalidInput } from "../domain/errors.js";
import type { Lesson } from "../domain/lessons.js";
import { LESSONS_SCHEMA as S } from "./lessons.js";

/** What lesson queries answer with (a lesson without its event-only fields). */
export type LessonRow = Pick<
  Lesson,
  | "lessonId"
  | "classGroupId"
  | "date"
  | "period"
  | "term"
  | "subgroupId"
  | "subjectId"
  | "teacherId"
  | "room"
  | "status"
  | "moved"
  | "topic"
  | "homework"
  | "homeworkDue"
  | "conductedBy"
>;

export interface LessonsReader {
  /** A class group's lessons (not unscheduled) in [from, to], by date and period. */
  classGroupLessons(
    classGroupId: string,
    startYear: number,
    from: string,
    to: string,
  ): Promise<LessonRow[]>;
  /** A teacher's lessons on a date across the school: scheduled to them or taught by them. */
  teacherDay(input: {
    schoolId: string;
    startYear: number;
    teacherId: string;
    date: string;
  }): Promise<LessonRow[]>;
}

const rowOf = (r: Record<string, unknown>): LessonRow => ({
  lessonId: r.lesson_id as string,
  classGroupId: r.class_group_id as string,
  date: r.date as string,
  period: r.period as number,
  term: r.term as number,
  subgroupId: r.subgroup_id as string,
  subjectId: r.subject_id as string,
  teacherId: r.teacher_id as string,
  room: r.room as string,
  status: r.status as LessonRow["status"],
  moved: r.moved as boolean,
  topic: r.topic as string,
  homework: r.homework as string,
  homeworkDue: r.homework_due as string,
  conductedBy: r.conducted_by as string,
});

/** The lessons read model's queries, in PostgreSQL (eventually consistent with commands). */
export class LessonsReadModel implements LessonsReader {
  constructor(private readonly pool: pg.Pool) {}

  async classGroupLessons(classGroupId: string, startYear: number, from: string, to: string) {
    const first = civilDate("from", from);
    const last = civilDate("to", to);
    const { rows } = await this.pool.query(
      `SELECT * FROM ${S}.lessons
       WHERE class_group_id = $1 AND start_year = $2 AND date BETWEEN $3 AND $4
         AND status <> 'unscheduled'
       ORDER BY date, period, subgroup_id`,
      [classGroupId, checkStartYear(startYear), first, last],
    );
    return rows.map(rowOf);
  }

  async teacherDay(input: {
    schoolId: string;
    startYear: number;
    teacherId: string;
    date: string;
  }) {
    const date = civilDate("date", input.date);
    if (input.teacherId === "") throw invalidInput("teacher_id", "is required");
    const { rows } = await this.pool.query(
      `SELECT * FROM ${S}.lessons
       WHERE school_id = $1 AND start_year = $2 AND date = $3 AND status <> 'unscheduled'
         AND (teacher_id = $4 OR conducted_by = $4)
       ORDER BY period, class_group_id, subgroup_id`,
      [checkSchoolId(input.schoolId), checkStartYear(input.startYear), date, input.teacherId],
    );
    return rows.map(rowOf);
  }
}
