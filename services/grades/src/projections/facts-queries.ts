import type pg from "pg";
import type { CivilDate } from "../domain/civil-date.js";
import type { LessonFact } from "../domain/journal-commands.js";
import type { Grading } from "../domain/marks.js";
import { FACTS_SCHEMA as S } from "./facts.js";

/** A journal as the request names it. */
export interface JournalKey {
  classGroupId: string;
  subgroupId: string;
  subjectId: string;
  startYear: number;
}

export interface StudentFact {
  /** Identity has told grades about the pupil at all (some enrollment somewhere). */
  known: boolean;
  /** In the journal's class group (and subgroup) on the date asked (or any date when none). */
  enrolled: boolean;
}

/** Everything one journal command needs from the replicas, read in one round trip. */
export interface CommandFacts {
  classGroup?: {
    schoolId: string;
    municipalityId: string;
    startYear: number;
    timeZone: string | null;
  };
  grading?: Grading;
  /** The class group of the journal's subgroup (undefined when unknown or no subgroup). */
  subgroupClassGroupId?: string;
  lesson?: LessonFact & { teacherId: string };
  /** Teachers assigned to the journal (a whole-class assignment covers its subgroups). */
  teacherIds: string[];
  /** The actor's substitutions on the journal. */
  substitutions: { firstDay: CivilDate; lastDay: CivilDate }[];
  /** The school's work-type table, when it has set one. */
  weights?: Record<string, number>;
  students: Map<string, StudentFact>;
  /** The stored command of this id, when it ran before. */
  command?: { payloadHash: string; result: unknown };
}

export interface FactsQuery {
  journal: JournalKey;
  lessonId?: string;
  studentIds: readonly string[];
  /** The date enrollment is checked on; defaults to the lesson's date, else "any date". */
  date?: CivilDate;
  actorPersonId?: string;
  commandId?: string;
}

const TEXT = `
SELECT
  (SELECT json_build_object('schoolId', cg.school_id, 'municipalityId', cg.municipality_id,
          'startYear', cg.start_year, 'timeZone', s.time_zone)
     FROM ${S}.class_groups cg LEFT JOIN ${S}.schools s USING (school_id)
    WHERE cg.class_group_id = $1) AS class_group,
  (SELECT grading FROM ${S}.subjects WHERE subject_id = $2) AS grading,
  (SELECT class_group_id FROM ${S}.subgroups WHERE subgroup_id = $3) AS subgroup_class_group,
  (SELECT json_build_object('lessonId', lesson_id, 'classGroupId', class_group_id,
          'subgroupId', subgroup_id, 'subjectId', subject_id, 'teacherId', teacher_id,
          'date', to_char(lesson_date, 'YYYY-MM-DD'), 'term', term, 'status', status)
     FROM ${S}.lessons WHERE lesson_id = $4) AS lesson,
  (SELECT coalesce(json_agg(teacher_id), '[]') FROM ${S}.assignments
    WHERE class_group_id = $1 AND subject_id = $2 AND start_year = $5
      AND (subgroup_id = '' OR subgroup_id = $3)) AS teachers,
  (SELECT coalesce(json_agg(json_build_object('firstDay', to_char(su.first_day, 'YYYY-MM-DD'),
          'lastDay', to_char(su.last_day, 'YYYY-MM-DD'))), '[]')
     FROM ${S}.substitutes su JOIN ${S}.assignments a USING (assignment_id)
    WHERE a.class_group_id = $1 AND a.subject_id = $2 AND a.start_year = $5
      AND (a.subgroup_id = '' OR a.subgroup_id = $3) AND su.substitute_id = $6) AS substitutions,
  (SELECT w.weights FROM grades.work_type_weights w JOIN ${S}.class_groups cg USING (school_id)
    WHERE cg.class_group_id = $1) AS weights,
  (SELECT coalesce(json_agg(json_build_object('id', p.id,
          'known', EXISTS (SELECT 1 FROM ${S}.enrollments e WHERE e.person_id = p.id),
          'enrolled', EXISTS (SELECT 1 FROM ${S}.enrollments e
             WHERE e.person_id = p.id AND e.class_group_id = $1
               AND (d.day IS NULL OR (e.first_day <= d.day AND (e.until IS NULL OR d.day < e.until))))
            AND ($3 = '' OR EXISTS (SELECT 1 FROM ${S}.subgroup_members m
             WHERE m.person_id = p.id AND m.subgroup_id = $3
               AND (d.day IS NULL OR (m.first_day <= d.day AND (m.until IS NULL OR d.day < m.until))))))), '[]')
     FROM unnest($7::text[]) AS p(id),
          (SELECT coalesce($8::date, (SELECT lesson_date FROM ${S}.lessons WHERE lesson_id = $4)) AS day) d
  ) AS students,
  (SELECT json_build_object('payloadHash', payload_hash, 'result', result)
     FROM eventstore.commands WHERE command_id = $9) AS command`;

/** The replicas' reads for commands, in PostgreSQL. */
export class FactsReader {
  constructor(private readonly pool: pg.Pool) {}

  async commandFacts(q: FactsQuery): Promise<CommandFacts> {
    const { rows } = await this.pool.query({
      name: "grades_command_facts",
      text: TEXT,
      values: [
        q.journal.classGroupId,
        q.journal.subjectId,
        q.journal.subgroupId,
        q.lessonId ?? "",
        q.journal.startYear,
        q.actorPersonId ?? "",
        q.studentIds,
        q.date ?? null,
        q.commandId ?? "",
      ],
    });
    const r = rows[0];
    const students = new Map<string, StudentFact>();
    for (const s of r.students as { id: string; known: boolean; enrolled: boolean }[]) {
      students.set(s.id, { known: s.known, enrolled: s.enrolled });
    }
    return {
      classGroup: r.class_group ?? undefined,
      grading: r.grading ?? undefined,
      subgroupClassGroupId: r.subgroup_class_group ?? undefined,
      lesson: r.lesson ?? undefined,
      teacherIds: r.teachers,
      substitutions: r.substitutions,
      weights: r.weights ?? undefined,
      students,
      command: r.command ?? undefined,
    };
  }

  /** The municipality of a school, for WorkTypeWeightsSet events. */
  async school(schoolId: string): Promise<{ municipalityId: string } | undefined> {
    const { rows } = await this.pool.query(
      `SELECT municipality_id FROM ${S}.schools WHERE school_id = $1`,
      [schoolId],
    );
    return rows[0] && { municipalityId: rows[0].municipality_id };
  }
}
