import {
  type AllSubjectsCounters,
  addToStanding,
  classify,
  countStanding,
  emptyAllSubjects,
  emptyStanding,
  type PupilStanding,
} from "../domain/metrics/all-subjects.js";
import type { ResultBasis } from "../domain/metrics/definitions.js";
import {
  countEntry,
  countResult,
  emptyPerformance,
  type PerformanceCounters,
} from "../domain/metrics/performance.js";
import { pupilResult } from "../domain/metrics/pupil-result.js";
import type { Entry } from "../domain/metrics/values.js";
import { ALL_SUBJECTS, type Level } from "../projections/deltas.js";
import { toEntryValue } from "../projections/pupils.js";
import type { ReadDb } from "./read-db.js";

/** What an effective-mode dashboard recomputes: one period's pupil and mark figures. */
export interface EffectiveInput {
  readonly level: Level;
  readonly scopeId: string;
  readonly startYear: number;
  /** 1-4, 0 = the year. */
  readonly term: number;
  readonly subjectId: string;
  readonly basis: ResultBasis;
  /** Lessons up to this day count (YYYY-MM-DD). */
  readonly asOf: string;
  /** A definition set's weight table (work type -> weight), null = weights as recorded. */
  readonly weights: Readonly<Record<string, number>> | null;
}

const SCOPE_KEY: Record<Level, string> = {
  CLASS_GROUP: "classGroupId",
  SCHOOL: "schoolId",
  MUNICIPALITY: "municipalityId",
  REGION: "",
};

/** The class groups a level's scope covers (marks are found by class group: an index). */
const CLASS_GROUPS: Record<Level, string> = {
  CLASS_GROUP: "SELECT $1::text",
  SCHOOL: "SELECT class_group_id FROM $S.class_groups WHERE school_id = $1",
  MUNICIPALITY: "SELECT class_group_id FROM $S.class_groups WHERE municipality_id = $1",
  REGION: "SELECT class_group_id FROM $S.class_groups WHERE $1::text IS NOT NULL",
};

interface PopulationRow {
  student_id: string;
  subject_id: string;
  exempt: boolean;
  period_mark: string | null;
  grading: string | null;
}

interface EntryGroup {
  student_id: string;
  subject_id: string;
  value: string;
  w: number;
  last: string;
}

/**
 * "What is known now about lessons up to D": the population's current results recomputed
 * through the formula module from the journal facts, with the marks of lessons after D left
 * out (corrections and revocations made later are in, as they stand now). The population
 * and exemptions are the read model's current attribution; period (term/year) marks are
 * taken as they stand (they carry no lesson date). Three queries; entries arrive grouped per
 * pupil, subject and value (Σ weights, the latest sequence), which keeps the weighted sums
 * and the latest pass/fail entry exact.
 */
export async function effectiveCounters(
  db: ReadDb,
  i: EffectiveInput,
): Promise<{ perf: PerformanceCounters; standing: AllSubjectsCounters }> {
  const subject = i.subjectId || ALL_SUBJECTS;
  const weights = JSON.stringify(i.weights ?? {});
  // The scope's pupils are found through enrollments (indexed by class group), then their
  // results by key; the attribution in scope decides, as in the live aggregates.
  const scopeFilter =
    i.level === "REGION"
      ? "$3::text IS NOT NULL"
      : `r.student_id IN (SELECT e.person_id FROM $S.enrollments e
           WHERE e.class_group_id IN (${CLASS_GROUPS[i.level].replace("$1", "$3")}))
         AND r.scope->>'${SCOPE_KEY[i.level]}' = $3`;
  const population = await db.rows<PopulationRow>(
    `SELECT r.student_id, r.subject_id, r.current->>'kind' = 'EXEMPT' AS exempt,
            t.value AS period_mark, s.grading
       FROM $S.pupil_results r
       LEFT JOIN $S.term_marks t ON t.student_id = r.student_id AND t.subject_id = r.subject_id
        AND t.start_year = r.start_year AND t.term = r.term
       LEFT JOIN $S.subjects s ON s.subject_id = r.subject_id
      WHERE r.start_year = $1 AND r.term = $2 AND jsonb_typeof(r.scope) = 'object' AND ${scopeFilter}
        AND ($4 = '*' OR r.subject_id = $4)`,
    [i.startYear, i.term, i.scopeId, subject],
  );
  const perf = emptyPerformance();
  const filters = `m.start_year = $2 AND ($3 = 0 OR m.term = $3) AND NOT m.revoked
      AND m.lesson_date <= $4::date AND ($5 = '*' OR m.subject_id = $5)`;
  const weight = "coalesce(($6::jsonb ->> m.work_type)::int, m.weight)";
  const [groups, journalEntries] = await Promise.all([
    i.basis === "CURRENT" && population.length > 0
      ? db.rows<EntryGroup>(
          `SELECT m.student_id, m.subject_id, m.value, sum(${weight})::int AS w, max(m.seq)::text AS last
             FROM $S.marks m WHERE m.student_id = ANY($1::text[]) AND ${filters}
            GROUP BY 1, 2, 3`,
          [
            [...new Set(population.map((p) => p.student_id))],
            i.startYear,
            i.term,
            i.asOf,
            subject,
            weights,
          ],
        )
      : Promise.resolve([]),
    // Mark-level figures: every entry recorded in the population's journals.
    db.rows<{ value: string; w: number; n: number }>(
      `SELECT m.value, ${weight} AS w, count(*)::int AS n FROM $S.marks m
        WHERE m.class_group_id IN (${CLASS_GROUPS[i.level]}) AND ${filters}
        GROUP BY 1, 2`,
      [i.scopeId, i.startYear, i.term, i.asOf, subject, weights],
    ),
  ]);
  for (const g of journalEntries) {
    const e: Entry = { value: toEntryValue(g.value), weight: g.w };
    for (let k = 0; k < g.n; k++) countEntry(perf, e);
  }
  const entriesOf = new Map<string, EntryGroup[]>();
  for (const g of groups) {
    const k = `${g.student_id}|${g.subject_id}`;
    const list = entriesOf.get(k) ?? [];
    list.push(g);
    entriesOf.set(k, list);
  }
  const standings = new Map<string, PupilStanding>();
  for (const p of population) {
    // Five-point groups first (their order does not matter), special entries by their
    // latest sequence, so the last one is the latest pass/fail/н/а entry.
    const list = (entriesOf.get(`${p.student_id}|${p.subject_id}`) ?? []).sort(
      (a, b) => Number(a.last) - Number(b.last),
    );
    const entries: Entry[] = list.map((g) => ({ value: toEntryValue(g.value), weight: g.w }));
    const passFail =
      p.grading === "GRADING_PASS_FAIL" ||
      (p.grading === null && entries.some((e) => e.value === "PASS" || e.value === "FAIL"));
    const r = pupilResult(
      {
        scale: passFail ? "PASS_FAIL" : "FIVE_POINT",
        exempt: p.exempt,
        periodMark: p.period_mark == null ? undefined : toEntryValue(p.period_mark),
        entries,
      },
      i.basis,
    );
    countResult(perf, r);
    const s = standings.get(p.student_id) ?? emptyStanding();
    standings.set(p.student_id, s);
    addToStanding(s, r);
  }
  const standing = emptyAllSubjects();
  for (const s of standings.values()) countStanding(standing, classify(s));
  return { perf, standing };
}
