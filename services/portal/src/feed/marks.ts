import { academicYearDays } from "@otmetka/service-kit";
import type { PupilPerformanceData, SubjectPerformanceData } from "../contract/schemas.js";

// Internal grades values (proto3 JSON enum names) → the feed's stable mark text. An unknown
// internal value maps to null and is left out, so a new internal mark never breaks the feed.
const MARK_TEXT: Record<string, string> = {
  MARK_VALUE_ONE: "1",
  MARK_VALUE_TWO: "2",
  MARK_VALUE_THREE: "3",
  MARK_VALUE_FOUR: "4",
  MARK_VALUE_FIVE: "5",
  MARK_VALUE_PASS: "pass",
  MARK_VALUE_FAIL: "fail",
  MARK_VALUE_NOT_ATTESTED: "not_attested",
};

export function markText(value: unknown): string | null {
  return typeof value === "string" ? (MARK_TEXT[value] ?? null) : null;
}

export interface MarkRow {
  subject_id: string;
  term: number;
  mark: string;
  weight: number;
  seq: number;
}
export interface TermMarkRow {
  subject_id: string;
  term: number;
  mark: string;
}
export interface AbsenceRow {
  missed: boolean;
  excused: boolean;
  late: boolean;
}
/** An exemption (осв.) from a subject, civil dates YYYY-MM-DD inclusive. */
export interface ExemptionRow {
  subject_id: string;
  first_day: string;
  last_day: string;
}

/** The academic year's civil dates as a query's range. */
export function yearRange(startYear: number): { from: string; to: string } {
  const { firstDay, lastDay } = academicYearDays(startYear);
  return { from: firstDay, to: lastDay };
}

/** The snapshot published for a pupil, from the read model's rows (pure, unit-tested). */
export function performanceSnapshot(o: {
  portalId: string;
  schoolId: string;
  municipalityId: string;
  academicYear: number;
  marks: MarkRow[];
  termMarks: TermMarkRow[];
  absences: AbsenceRow[];
  /** Only those overlapping the academic year (1 September to 31 August) are kept. */
  exemptions?: ExemptionRow[];
  asOf: Date;
}): PupilPerformanceData {
  const currentTerm = o.marks.reduce((t, m) => Math.max(t, m.term), 0);
  const subjects = new Map<string, SubjectPerformanceData>();
  const subject = (id: string) => {
    let s = subjects.get(id);
    if (!s) {
      s = { subjectId: id, currentMarks: [], average: "", termMarks: [], yearMark: "" };
      subjects.set(id, s);
    }
    return s;
  };
  const sums = new Map<string, { w: number; total: number }>();
  for (const m of [...o.marks].sort((a, b) => a.seq - b.seq)) {
    if (m.term !== currentTerm) continue;
    subject(m.subject_id).currentMarks.push(m.mark as never);
    const n = Number(m.mark);
    if (Number.isInteger(n) && m.weight > 0) {
      const acc = sums.get(m.subject_id) ?? { w: 0, total: 0 };
      acc.w += m.weight;
      acc.total += n * m.weight;
      sums.set(m.subject_id, acc);
    }
  }
  for (const [id, acc] of sums) subject(id).average = (acc.total / acc.w).toFixed(2);
  for (const t of [...o.termMarks].sort((a, b) => a.term - b.term)) {
    if (t.term === 0) subject(t.subject_id).yearMark = t.mark as never;
    else subject(t.subject_id).termMarks.push({ term: t.term, mark: t.mark as never });
  }
  // An exempt subject appears even without marks: the parent sees "осв." rather than nothing.
  // Civil dates compare as strings.
  const year = yearRange(o.academicYear);
  const exemptions = (o.exemptions ?? [])
    .filter((e) => e.first_day <= year.to && e.last_day >= year.from)
    .sort(
      (a, b) =>
        a.first_day.localeCompare(b.first_day) ||
        a.last_day.localeCompare(b.last_day) ||
        a.subject_id.localeCompare(b.subject_id),
    );
  for (const e of exemptions) {
    const s = subject(e.subject_id);
    // Last key of the entry, added only when there is one: the digest of a snapshot without
    // exemptions stays what it was.
    s.exemptions = [...(s.exemptions ?? []), { firstDay: e.first_day, lastDay: e.last_day }];
  }
  return {
    portalId: o.portalId,
    schoolId: o.schoolId,
    municipalityId: o.municipalityId,
    academicYear: o.academicYear,
    currentTerm,
    subjects: [...subjects.values()].sort((a, b) => a.subjectId.localeCompare(b.subjectId)),
    absences: {
      lessonsMissed: o.absences.filter((a) => a.missed).length,
      excused: o.absences.filter((a) => a.missed && a.excused).length,
      late: o.absences.filter((a) => a.late).length,
    },
    asOf: o.asOf.toISOString(),
  };
}
