import {
  addToStanding,
  classify,
  countStanding,
  emptyStanding,
  type PupilStanding,
} from "../domain/metrics/all-subjects.js";
import type { ResultBasis } from "../domain/metrics/definitions.js";
import { countResult } from "../domain/metrics/performance.js";
import { type PupilResult, pupilResult } from "../domain/metrics/pupil-result.js";
import type { Entry, EntryValue } from "../domain/metrics/values.js";
import { type Attribution, attribute } from "./attribution.js";
import type { Deltas, Scope, Touched } from "./deltas.js";
import type { Q } from "./query.js";

const BASES: ResultBasis[] = ["CURRENT", "PERIOD_MARKS"];
const basisColumn = (b: ResultBasis) => (b === "CURRENT" ? "current" : "period");

export const toEntryValue = (v: string): EntryValue =>
  v === "PASS" || v === "FAIL" || v === "NOT_ATTESTED" ? v : (Number(v) as EntryValue);

interface ResultRow {
  subject_id: string;
  scope: Scope | null;
  current: PupilResult;
  period: PupilResult;
}

interface StandingRow {
  scope: Scope | null;
  current: PupilStanding;
  period: PupilStanding;
}

interface Facts {
  entries: [string, number][];
  period_mark: string | null;
  grading: string | null;
  exempt: boolean;
}

async function loadFacts(q: Q, t: Touched, subjectId: string, a: Attribution): Promise<Facts> {
  const [row] = await q<Facts>(
    `SELECT
       (SELECT coalesce(json_agg(json_build_array(value, weight) ORDER BY seq), '[]'::json) FROM $S.marks
         WHERE student_id = $1 AND subject_id = $2 AND start_year = $3 AND ($4 = 0 OR term = $4) AND NOT revoked) AS entries,
       (SELECT value FROM $S.term_marks WHERE student_id = $1 AND subject_id = $2 AND start_year = $3 AND term = $4) AS period_mark,
       (SELECT grading FROM $S.subjects WHERE subject_id = $2) AS grading,
       EXISTS (SELECT 1 FROM $S.exemptions WHERE student_id = $1 AND subject_id = $2 AND start_year = $3
         AND ($5::date IS NULL OR (first_day <= $6::date AND last_day >= $5::date))) AS exempt`,
    [t.studentId, subjectId, t.startYear, t.term, a.exemptFirst, a.exemptLast],
  );
  return row as Facts;
}

/**
 * Recomputes the results of the pupils a batch touched (from their own marks, term marks and
 * exemptions, through the formula module) and turns each change into deltas: the pupil
 * leaves its old bucket (and class group) and enters the new one.
 */
export async function recomputePupils(q: Q, d: Deltas): Promise<void> {
  for (const t of d.touched.values()) {
    const fallback = t.subjects.values().next().value as Scope;
    const a = await attribute(q, t.studentId, t.startYear, t.term, fallback);
    const newScope = a.onRoll ? a.scope : null;
    const [st] = await q<StandingRow>(
      "SELECT scope, current, period FROM $S.pupil_standing WHERE student_id = $1 AND start_year = $2 AND term = $3",
      [t.studentId, t.startYear, t.term],
    );
    const oldStanding: StandingRow = st ?? {
      scope: null,
      current: emptyStanding(),
      period: emptyStanding(),
    };
    const standing: StandingRow = {
      scope: newScope,
      current: { ...oldStanding.current },
      period: { ...oldStanding.period },
    };
    const old = await q<ResultRow>(
      `SELECT subject_id, scope, current, period FROM $S.pupil_results
        WHERE student_id = $1 AND start_year = $2 AND term = $3 AND subject_id = ANY($4)`,
      [t.studentId, t.startYear, t.term, [...t.subjects.keys()]],
    );
    const oldBySubject = new Map(old.map((r) => [r.subject_id, r]));
    for (const subjectId of t.subjects.keys()) {
      const f = await loadFacts(q, t, subjectId, a);
      const entries: Entry[] = f.entries.map(([v, w]) => ({ value: toEntryValue(v), weight: w }));
      const scale =
        f.grading === "GRADING_PASS_FAIL" ||
        (f.grading === null && entries.some((e) => e.value === "PASS" || e.value === "FAIL"))
          ? "PASS_FAIL"
          : "FIVE_POINT";
      const facts = {
        scale,
        exempt: f.exempt,
        periodMark: f.period_mark === null ? undefined : toEntryValue(f.period_mark),
        entries,
      } as const;
      const next: ResultRow = {
        subject_id: subjectId,
        scope: newScope,
        current: pupilResult(facts, "CURRENT"),
        period: pupilResult(facts, "PERIOD_MARKS"),
      };
      const prev = oldBySubject.get(subjectId);
      for (const basis of BASES) {
        const col = basisColumn(basis);
        if (prev?.scope) {
          const r = prev[col];
          d.perfAt(prev.scope, t.startYear, t.term, subjectId, basis, (c) => countResult(c, r, -1));
          addToStanding(standing[col], r, -1);
        }
        if (newScope) {
          const r = next[col];
          d.perfAt(newScope, t.startYear, t.term, subjectId, basis, (c) => countResult(c, r, 1));
          addToStanding(standing[col], r, 1);
        }
      }
      await q(
        `INSERT INTO $S.pupil_results VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (student_id, start_year, term, subject_id)
         DO UPDATE SET scope = excluded.scope, current = excluded.current, period = excluded.period`,
        [
          t.studentId,
          subjectId,
          t.startYear,
          t.term,
          JSON.stringify(newScope),
          JSON.stringify(next.current),
          JSON.stringify(next.period),
        ],
      );
    }
    for (const basis of BASES) {
      const col = basisColumn(basis);
      if (oldStanding.scope) {
        const cls = classify(oldStanding[col]);
        d.standingAt(oldStanding.scope, t.startYear, t.term, basis, (c) =>
          countStanding(c, cls, -1),
        );
      }
      if (newScope) {
        const cls = classify(standing[col]);
        d.standingAt(newScope, t.startYear, t.term, basis, (c) => countStanding(c, cls, 1));
      }
    }
    await q(
      `INSERT INTO $S.pupil_standing VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (student_id, start_year, term)
       DO UPDATE SET scope = excluded.scope, current = excluded.current, period = excluded.period`,
      [
        t.studentId,
        t.startYear,
        t.term,
        JSON.stringify(newScope),
        JSON.stringify(standing.current),
        JSON.stringify(standing.period),
      ],
    );
    d.changedPupils.add(t.studentId);
  }
}
