import { countEntry } from "../domain/metrics/performance.js";
import type { Deltas, NewMark, Scope } from "./deltas.js";
import { type Data, int, journalOf, markValue, str } from "./event-data.js";
import { toEntryValue } from "./pupils.js";
import type { Q } from "./query.js";
import { termMarkKey } from "./rebuild-memory.js";
import type { Handler } from "./replicas.js";
import { countEntryDelay } from "./timeliness.js";

/*
 * Marks, term marks and exemptions. Each stored fact feeds the diary and journal views; each
 * change adds its entry delta to the journal's class group (mark-level figures) and marks the
 * pupil's subject and periods (term and year) for recomputation in flush.
 */
interface MarkRow {
  mark_id: string;
  student_id: string;
  subject_id: string;
  start_year: number;
  term: number;
  value: string;
  weight: number;
  revoked: boolean;
  class_group_id: string;
  school_id: string;
  municipality_id: string;
}

function countMark(deltas: Deltas, m: MarkRow, sign: 1 | -1) {
  const scope: Scope = {
    classGroupId: m.class_group_id,
    schoolId: m.school_id,
    municipalityId: m.municipality_id,
  };
  const entry = { value: toEntryValue(m.value), weight: m.weight };
  for (const term of [m.term, 0]) {
    deltas.entriesAt(scope, m.start_year, term, m.subject_id, (c) => countEntry(c, entry, sign));
    deltas.touch(m.student_id, m.start_year, term, m.subject_id, scope);
  }
}

async function loadMark(q: Q, deltas: Deltas, markId: string): Promise<MarkRow | undefined> {
  const held = deltas.newMarks.get(markId);
  if (held) return held;
  // A rebuild holds all its marks: one it does not hold is not stored.
  if (deltas.rebuild) return deltas.rebuild.marks.get(markId);
  return readMark(q, markId);
}

const readMark = async (q: Q, markId: string): Promise<MarkRow | undefined> =>
  (
    await q<MarkRow>(
      `SELECT mark_id, student_id, subject_id, start_year, term, value, weight, revoked, class_group_id, school_id,
              municipality_id FROM $S.marks WHERE mark_id = $1`,
      [markId],
    )
  )[0];

async function touchAllTerms(
  q: Q,
  deltas: Deltas,
  studentId: string,
  subjectId: string,
  startYear: number,
  scope: Scope,
) {
  const rows = await q<{ term: number }>(
    "SELECT DISTINCT term FROM $S.pupil_results WHERE student_id = $1 AND subject_id = $2 AND start_year = $3",
    [studentId, subjectId, startYear],
  );
  const terms = new Set([0, ...rows.map((r) => r.term)]);
  for (const term of terms) deltas.touch(studentId, startYear, term, subjectId, scope);
}

/** A rebuild's mark of an earlier batch, to change in memory (written back by the flush). */
function heldMark(deltas: Deltas, markId: string): NewMark | undefined {
  const m = deltas.rebuild?.marks.get(markId);
  if (m) deltas.rebuild?.changedMarks.add(m);
  return m;
}

/** The batch's or the rebuild's copy of a mark, about to change (its entries with it). */
function changingMark(deltas: Deltas, markId: string): NewMark | undefined {
  const m = deltas.newMarks.get(markId) ?? heldMark(deltas, markId);
  if (m) deltas.rebuild?.markChanged(m);
  return m;
}

export const markHandlers: Record<string, Handler> = {
  "grades.v1.MarkRecorded": async (q, d, deltas, meta) => {
    const j = journalOf(d);
    const value = markValue(d);
    const markId = str(d, "markId");
    // The inbox applies each event once; grades records a mark id once.
    if (value === null || deltas.newMarks.has(markId)) return;
    const m = {
      mark_id: markId,
      journal_id: j.journalId,
      school_id: j.scope.schoolId,
      municipality_id: j.scope.municipalityId,
      start_year: j.startYear,
      class_group_id: j.scope.classGroupId,
      subgroup_id: j.subgroupId,
      subject_id: j.subjectId,
      term: int(d, "term"),
      lesson_id: str(d, "lessonId"),
      lesson_date: str(d, "lessonDate"),
      student_id: str(d, "studentId"),
      value,
      weight: Math.max(1, int(d, "weight")),
      work_type: str(d, "workType"),
      revoked: false,
    };
    deltas.newMarks.set(markId, m);
    deltas.rebuild?.addMark(m);
    countMark(deltas, m, 1);
    await countEntryDelay(q, deltas, j.scope, j.subjectId, m.lesson_date, meta.time);
  },
  "grades.v1.MarkCorrected": async (q, d, deltas) => {
    const before = await loadMark(q, deltas, str(d, "markId"));
    const value = markValue(d);
    if (!before || before.revoked || value === null) return;
    countMark(deltas, before, -1);
    const pending = changingMark(deltas, before.mark_id);
    if (pending) pending.value = value;
    else await q("UPDATE $S.marks SET value = $2 WHERE mark_id = $1", [before.mark_id, value]);
    countMark(deltas, { ...before, value }, 1);
  },
  "grades.v1.MarkRevoked": async (q, d, deltas) => {
    const before = await loadMark(q, deltas, str(d, "markId"));
    if (!before || before.revoked) return;
    countMark(deltas, before, -1);
    const pending = changingMark(deltas, before.mark_id);
    if (pending) pending.revoked = true;
    else await q("UPDATE $S.marks SET revoked = true WHERE mark_id = $1", [before.mark_id]);
  },
  "grades.v1.TermMarkSet": (q, d, deltas) => setTermMark(q, d, deltas),
  "grades.v1.TermMarkCorrected": (q, d, deltas) => setTermMark(q, d, deltas),
  "grades.v1.ExemptionGranted": async (q, d, deltas) => {
    const j = journalOf(d);
    const student = str(d, "studentId");
    const row = [
      str(d, "exemptionId"),
      student,
      j.subjectId,
      j.startYear,
      str(d, "firstDay"),
      str(d, "lastDay"),
    ] as const;
    await q("INSERT INTO $S.exemptions VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING", [
      ...row,
    ]);
    deltas.rebuild?.addExemption(...row);
    await touchAllTerms(q, deltas, student, j.subjectId, j.startYear, j.scope);
  },
};

async function setTermMark(q: Q, d: Data, deltas: Deltas) {
  const j = journalOf(d);
  const value = markValue(d);
  if (value === null) return;
  const student = str(d, "studentId");
  const term = int(d, "term");
  await q(
    `INSERT INTO $S.term_marks VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (student_id, subject_id, start_year, term) DO UPDATE SET value = excluded.value,
       journal_id = excluded.journal_id, class_group_id = excluded.class_group_id, subgroup_id = excluded.subgroup_id`,
    [
      student,
      j.subjectId,
      j.startYear,
      term,
      j.journalId,
      j.scope.classGroupId,
      j.subgroupId,
      value,
    ],
  );
  deltas.rebuild?.termMarks.set(termMarkKey(student, j.subjectId, j.startYear, term), value);
  deltas.touch(student, j.startYear, term, j.subjectId, j.scope);
}

/**
 * The batch's new marks as column arrays: written by writeAll's one statement, after flush
 * has recomputed the pupils (which read them from the scratch, not from the table).
 */
export function newMarkColumns(deltas: Deltas): unknown[][] {
  const ms = [...deltas.newMarks.values()];
  return [
    ms.map((m) => m.mark_id),
    ms.map((m) => m.journal_id),
    ms.map((m) => m.school_id),
    ms.map((m) => m.municipality_id),
    ms.map((m) => m.start_year),
    ms.map((m) => m.class_group_id),
    ms.map((m) => m.subgroup_id),
    ms.map((m) => m.subject_id),
    ms.map((m) => m.term),
    ms.map((m) => m.lesson_id),
    ms.map((m) => m.lesson_date),
    ms.map((m) => m.student_id),
    ms.map((m) => m.value),
    ms.map((m) => m.weight),
    ms.map((m) => m.work_type),
    ms.map((m) => m.revoked),
  ];
}
