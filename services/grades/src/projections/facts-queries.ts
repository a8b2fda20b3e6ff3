import type { CivilDate } from "@otmetka/service-kit";
import type pg from "pg";
import { BatchQueue, type Waiting } from "../db/batch-queue.js";
import type { Enrollment, LessonFact, SchoolYear, TermDates } from "../domain/journal-commands.js";
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
  /** The subject the journal's subgroup is for (undefined when unknown or no subgroup). */
  subgroupSubjectId?: string;
  /** The lesson's teacher (as scheduled or handed over) and who conducted it ("" until then). */
  lesson?: LessonFact & { teacherId: string; conductedBy: string };
  /**
   * Teachers assigned to the journal (a whole-class assignment covers its subgroups), with the
   * last day taught once the assignment ended (null: open).
   */
  teachers: { teacherId: string; lastDay: CivilDate | null }[];
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

/*
 * Journal-level facts (class group, school zone, grading, subgroup, assignments, substitutes:
 * those of an ended assignment up to its last day, as curriculum hands them lessons) are cached per journal: no event changes a class group's school or a subject's grading, and
 * an assignment only gets added or ended (an end is seen once the entry is read again, at most
 * JOURNAL_FACTS_TTL_MS later); the per-call facts (lesson, pupils' enrollment, the school's
 * weights, the command id) are read on every call.
 */
const JOURNAL_TEXT = `
SELECT
  (SELECT json_build_object('schoolId', cg.school_id, 'municipalityId', cg.municipality_id,
          'startYear', cg.start_year, 'timeZone', s.time_zone)
     FROM ${S}.class_groups cg LEFT JOIN ${S}.schools s USING (school_id)
    WHERE cg.class_group_id = $1) AS class_group,
  (SELECT grading FROM ${S}.subjects WHERE subject_id = $2) AS grading,
  (SELECT json_build_object('classGroupId', class_group_id, 'subjectId', subject_id)
     FROM ${S}.subgroups WHERE subgroup_id = $3) AS subgroup,
  (SELECT coalesce(json_agg(json_build_object('teacherId', teacher_id,
          'lastDay', to_char(last_day, 'YYYY-MM-DD'))), '[]') FROM ${S}.assignments
    WHERE class_group_id = $1 AND subject_id = $2 AND start_year = $4
      AND (subgroup_id = '' OR subgroup_id = $3)) AS teachers,
  (SELECT coalesce(json_agg(json_build_object('substituteId', su.substitute_id,
          'firstDay', to_char(su.first_day, 'YYYY-MM-DD'),
          'lastDay', to_char(least(su.last_day, a.last_day), 'YYYY-MM-DD'))), '[]')
     FROM ${S}.substitutes su JOIN ${S}.assignments a USING (assignment_id)
    WHERE a.class_group_id = $1 AND a.subject_id = $2 AND a.start_year = $4
      AND (a.subgroup_id = '' OR a.subgroup_id = $3)
      AND (a.last_day IS NULL OR su.first_day <= a.last_day)) AS substitutions`;

/*
 * The per-call facts of every call waiting at the same moment, in one statement: one JSON
 * parameter, an array of calls (index, class group, subgroup, lesson, date, command id,
 * pupils). Not one array parameter per column: with arrays PostgreSQL estimated `unnest` from
 * each call's values, so a custom plan always looked cheaper and every execution was planned
 * again (~0.3 ms of its ~0.4 ms CPU, EXPLAIN); a record set's estimate does not depend on the
 * value, so the prepared statement settles on its generic plan. (One JSON.stringify is also
 * cheaper here than pg's array literals.)
 */
const CALL_TEXT = `
SELECT r.i,
  (SELECT json_build_object('lessonId', lesson_id, 'classGroupId', class_group_id,
          'subgroupId', subgroup_id, 'subjectId', subject_id, 'teacherId', teacher_id,
          'date', to_char(lesson_date, 'YYYY-MM-DD'), 'term', term, 'status', status,
          'conductedBy', conducted_by)
     FROM ${S}.lessons WHERE lesson_id = r.lesson) AS lesson,
  (SELECT w.weights FROM grades.work_type_weights w JOIN ${S}.class_groups cg USING (school_id)
    WHERE cg.class_group_id = r.cg) AS weights,
  (SELECT coalesce(json_agg(json_build_object('id', p.id,
          'known', EXISTS (SELECT 1 FROM ${S}.enrollments e WHERE e.person_id = p.id),
          'enrolled', EXISTS (SELECT 1 FROM ${S}.enrollments e
             WHERE e.person_id = p.id AND e.class_group_id = r.cg
               AND (d.day IS NULL OR (e.first_day <= d.day AND (e.until IS NULL OR d.day < e.until))))
            AND (r.sg = '' OR EXISTS (SELECT 1 FROM ${S}.subgroup_members m
             WHERE m.person_id = p.id AND m.subgroup_id = r.sg
               AND (d.day IS NULL OR (m.first_day <= d.day AND (m.until IS NULL OR d.day < m.until))))))), '[]')
     FROM unnest(r.students) AS p(id),
          (SELECT coalesce(r.day, (SELECT lesson_date FROM ${S}.lessons WHERE lesson_id = r.lesson)) AS day) d
  ) AS students,
  (SELECT json_build_object('payloadHash', payload_hash, 'result', result)
     FROM eventstore.commands WHERE command_id = r.command_id) AS command
FROM jsonb_to_recordset($1::jsonb)
  AS r(i int, cg text, sg text, lesson text, day date, command_id text, students text[])`;

interface CallFacts {
  lesson?: CommandFacts["lesson"];
  weights?: Record<string, number>;
  students: Map<string, StudentFact>;
  command?: { payloadHash: string; result: unknown };
}

type JournalFacts = Pick<
  CommandFacts,
  "classGroup" | "grading" | "subgroupClassGroupId" | "subgroupSubjectId" | "teachers"
> & {
  substitutions: { substituteId: string; firstDay: CivilDate; lastDay: CivilDate }[];
  readAt: number;
};

const JOURNAL_FACTS_TTL_MS = 60_000;
const JOURNAL_FACTS_MAX = 20_000;

/** The replicas' reads for commands, in PostgreSQL. */
export class FactsReader {
  private readonly journals = new Map<string, JournalFacts>();
  /** Per-call facts of concurrent calls, read together (a quiet service reads each alone). */
  private readonly calls = new BatchQueue<FactsQuery, CallFacts>((batch) => this.readCalls(batch));

  constructor(private readonly pool: pg.Pool) {}

  async commandFacts(q: FactsQuery): Promise<CommandFacts> {
    const [journal, call] = await Promise.all([this.journalFacts(q), this.calls.submit(q)]);
    const actor = q.actorPersonId ?? "";
    // Field by field: spreads here made a slow dictionary-mode object on every call.
    return {
      classGroup: journal.classGroup,
      grading: journal.grading,
      subgroupClassGroupId: journal.subgroupClassGroupId,
      subgroupSubjectId: journal.subgroupSubjectId,
      teachers: journal.teachers,
      substitutions: journal.substitutions.filter((s) => s.substituteId === actor),
      lesson: call.lesson,
      weights: call.weights,
      students: call.students,
      command: call.command,
    };
  }

  /**
   * A lesson of the journal as the replica knows it (undefined when unseen), read with the
   * concurrent calls' facts: for a command that learns which lesson it needs from the journal's
   * state (a correction's mark) and needs it only for some callers.
   */
  async lessonOf(journal: JournalKey, lessonId: string): Promise<CommandFacts["lesson"]> {
    return (await this.calls.submit({ journal, lessonId, studentIds: [] })).lesson;
  }

  /**
   * A term mark's pupil on its roll day: whether they are in the journal's class group (and
   * subgroup) then, and, for a whole-class journal, the subgroup of its class group and subject
   * they are a member of then (null: none), whose journal holds their term mark.
   */
  async termMarkRoll(
    k: JournalKey,
    studentId: string,
    day: CivilDate,
  ): Promise<{ enrollment: Enrollment; inSubgroup: string | null }> {
    const { rows } = await this.pool.query<{ enrolled: boolean; in_subgroup: string | null }>(
      `SELECT
         EXISTS (SELECT 1 FROM ${S}.enrollments e
                  WHERE e.person_id = $3 AND e.class_group_id = $1
                    AND e.first_day <= $5 AND (e.until IS NULL OR $5 < e.until))
           AND ($2 = '' OR EXISTS (SELECT 1 FROM ${S}.subgroup_members m
                  WHERE m.person_id = $3 AND m.subgroup_id = $2
                    AND m.first_day <= $5 AND (m.until IS NULL OR $5 < m.until))) AS enrolled,
         (SELECT min(m.subgroup_id) FROM ${S}.subgroup_members m JOIN ${S}.subgroups g USING (subgroup_id)
           WHERE $2 = '' AND m.person_id = $3 AND g.class_group_id = $1 AND g.subject_id = $4
             AND m.first_day <= $5 AND (m.until IS NULL OR $5 < m.until)) AS in_subgroup`,
      [k.classGroupId, k.subgroupId, studentId, k.subjectId, day],
    );
    const r = rows[0];
    return {
      enrollment: r?.enrolled ? "enrolled" : "not_enrolled",
      inSubgroup: r?.in_subgroup ?? null,
    };
  }

  private async journalFacts(q: FactsQuery): Promise<JournalFacts> {
    const k = q.journal;
    const key = `${k.classGroupId}|${k.subgroupId}|${k.subjectId}|${k.startYear}`;
    const hit = this.journals.get(key);
    const actor = q.actorPersonId ?? "";
    // A cached entry answers unless stale, or unless it holds no open assignment of the
    // actor (their assignment or substitution may have arrived since): then read again.
    if (
      hit &&
      Date.now() - hit.readAt < JOURNAL_FACTS_TTL_MS &&
      (actor === "" || hit.teachers.some((t) => t.teacherId === actor && t.lastDay === null))
    )
      return hit;
    const { rows } = await this.pool.query({
      name: "grades_journal_facts",
      text: JOURNAL_TEXT,
      values: [k.classGroupId, k.subjectId, k.subgroupId, k.startYear],
    });
    const r = rows[0];
    const facts: JournalFacts = {
      classGroup: r.class_group ?? undefined,
      grading: r.grading ?? undefined,
      subgroupClassGroupId: r.subgroup?.classGroupId ?? undefined,
      subgroupSubjectId: r.subgroup?.subjectId ?? undefined,
      teachers: r.teachers,
      substitutions: r.substitutions,
      readAt: Date.now(),
    };
    // Only complete answers are kept: a fact not replicated yet must be asked again.
    if (facts.classGroup && facts.grading && (k.subgroupId === "" || facts.subgroupClassGroupId)) {
      this.journals.delete(key);
      this.journals.set(key, facts);
      if (this.journals.size > JOURNAL_FACTS_MAX)
        this.journals.delete(this.journals.keys().next().value as string);
    }
    return facts;
  }

  private async readCalls(batch: Waiting<FactsQuery, CallFacts>[]): Promise<void> {
    const calls = batch.map((b, i) => ({
      i,
      cg: b.item.journal.classGroupId,
      sg: b.item.journal.subgroupId,
      lesson: b.item.lessonId ?? "",
      day: b.item.date ?? null,
      command_id: b.item.commandId ?? "",
      students: b.item.studentIds,
    }));
    const { rows } = await this.pool.query({
      name: "grades_call_facts",
      text: CALL_TEXT,
      values: [JSON.stringify(calls)],
    });
    const answered = new Set<number>();
    for (const r of rows) {
      answered.add(r.i as number);
      const students = new Map<string, StudentFact>();
      for (const st of r.students as { id: string; known: boolean; enrolled: boolean }[]) {
        students.set(st.id, { known: st.known, enrolled: st.enrolled });
      }
      batch[r.i as number]?.resolve({
        lesson: r.lesson ?? undefined,
        weights: r.weights ?? undefined,
        students,
        command: r.command ?? undefined,
      });
    }
    // Every call gets its row; an Error (with its stack) only when one did not.
    batch.forEach((b, i) => {
      if (!answered.has(i)) b.reject(new Error("grades facts: no row for a call"));
    });
  }

  /**
   * A class group's calendar in its year: the terms of its grade level ([] until curriculum's
   * TermSystemDefined for it is replicated) and the school year's first and last lesson day
   * (null until any term system of the school and year is: each tiles the whole school year).
   * Read per call, not cached: a term system may be redefined, and only exemptions (rare) ask.
   */
  async calendar(
    classGroupId: string,
    startYear: number,
  ): Promise<{ terms: TermDates[]; year: SchoolYear | null }> {
    const { rows } = await this.pool.query<{ terms: TermDates[]; year: SchoolYear | null }>(
      `SELECT
         (SELECT coalesce(json_agg(json_build_object('term', t.term,
                 'firstDay', to_char(t.first_day, 'YYYY-MM-DD'),
                 'lastDay', to_char(t.last_day, 'YYYY-MM-DD')) ORDER BY t.term), '[]')
            FROM ${S}.terms t
           WHERE t.school_id = cg.school_id AND t.start_year = $2
             AND t.grade_level = cg.grade_level) AS terms,
         (SELECT json_build_object('firstDay', to_char(min(t.first_day), 'YYYY-MM-DD'),
                 'lastDay', to_char(max(t.last_day), 'YYYY-MM-DD'))
            FROM ${S}.terms t WHERE t.school_id = cg.school_id AND t.start_year = $2
          HAVING count(*) > 0) AS year
         FROM ${S}.class_groups cg WHERE cg.class_group_id = $1`,
      [classGroupId, startYear],
    );
    return rows[0] ?? { terms: [], year: null };
  }

  /**
   * The first day of `(firstDay, lastDay]` on which the pupil is not in the journal's class
   * group (or, for a subgroup journal, its subgroup), or null. Ranges are [first_day, until), so
   * a pupil in on firstDay can first be out on the `until` of one of their ranges: only those
   * days are looked at (a long period costs nothing more).
   */
  async notEnrolledFrom(
    k: JournalKey,
    studentId: string,
    firstDay: CivilDate,
    lastDay: CivilDate,
  ): Promise<CivilDate | null> {
    const { rows } = await this.pool.query<{ day: CivilDate | null }>(
      `SELECT to_char(min(g.day), 'YYYY-MM-DD') AS day
         FROM (SELECT until AS day FROM ${S}.enrollments
                WHERE person_id = $3 AND class_group_id = $1 AND until > $4 AND until <= $5
               UNION
               SELECT until FROM ${S}.subgroup_members
                WHERE $2 <> '' AND person_id = $3 AND subgroup_id = $2 AND until > $4 AND until <= $5) g
        WHERE NOT (EXISTS (SELECT 1 FROM ${S}.enrollments e
                    WHERE e.person_id = $3 AND e.class_group_id = $1
                      AND e.first_day <= g.day AND (e.until IS NULL OR g.day < e.until))
               AND ($2 = '' OR EXISTS (SELECT 1 FROM ${S}.subgroup_members m
                    WHERE m.person_id = $3 AND m.subgroup_id = $2
                      AND m.first_day <= g.day AND (m.until IS NULL OR g.day < m.until))))`,
      [k.classGroupId, k.subgroupId, studentId, firstDay, lastDay],
    );
    return rows[0]?.day ?? null;
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
