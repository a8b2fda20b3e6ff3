import { absenceReasonToJSON, markValueToJSON } from "@otmetka/proto/grades/events/v1/events";
import type { Diary } from "@otmetka/proto/reporting/v1/reporting_service";
import type { PupilPerformanceData } from "../contract/schemas.js";
import { markText, performanceSnapshot } from "../feed/marks.js";
import type { PublishablePupil } from "../feed/snapshots.js";

const MISSED = new Set([
  "ABSENCE_REASON_ILLNESS",
  "ABSENCE_REASON_EXCUSED",
  "ABSENCE_REASON_UNEXCUSED",
]);
const EXCUSED = new Set(["ABSENCE_REASON_ILLNESS", "ABSENCE_REASON_EXCUSED"]);

/**
 * A pupil's published snapshot from reporting's diary: the same shape as before, but the
 * averages are reporting's (the ministry's formula, weights as grades resolved them).
 */
export function snapshotOfDiary(p: PublishablePupil, d: Diary, asOf: Date): PupilPerformanceData {
  const marks = d.marks.flatMap((m, seq) => {
    const mark = markText(markValueToJSON(m.value));
    return mark === null
      ? []
      : [{ subject_id: m.subjectId, term: m.term, mark, weight: m.weight, seq }];
  });
  const termMarks = d.termMarks.flatMap((t) => {
    const mark = markText(markValueToJSON(t.value));
    return mark === null ? [] : [{ subject_id: t.subjectId, term: t.term, mark }];
  });
  const absences = d.absences.flatMap((a) => {
    const reason = absenceReasonToJSON(a.reason);
    const missed = MISSED.has(reason);
    const late = a.lateMinutes > 0;
    return missed || late ? [{ missed, excused: EXCUSED.has(reason), late }] : [];
  });
  const snap = performanceSnapshot({
    portalId: p.portal_id,
    schoolId: p.school_id,
    municipalityId: p.municipality_id,
    academicYear: p.academic_year,
    marks,
    termMarks,
    absences,
    exemptions: d.exemptions.map((e) => ({
      subject_id: e.subjectId,
      first_day: e.firstDay,
      last_day: e.lastDay,
    })),
    asOf,
  });
  const averages = new Map(
    d.averages
      .filter((a) => a.term === snap.currentTerm && a.weightedAverage !== "")
      .map((a) => [a.subjectId, a.weightedAverage]),
  );
  for (const s of snap.subjects) {
    const avg = averages.get(s.subjectId);
    if (avg !== undefined) s.average = Number(avg).toFixed(2);
  }
  return snap;
}
