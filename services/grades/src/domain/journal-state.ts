import type { RecordedEvent } from "@otmetka/eventstore";
import type { CivilDate } from "@otmetka/service-kit";
import {
  type AbsenceReason,
  type AttendanceRecorded,
  type ExemptionGranted,
  eventName,
  type MarkCorrected,
  type MarkRecorded,
  type MarkRevoked,
  type TermClosed,
  type TermMarkCorrected,
  type TermMarkSet,
} from "./events.js";
import { type MarkFact, MarkTable } from "./mark-table.js";
import type { MarkValue } from "./marks.js";

export type { MarkFact } from "./mark-table.js";

export interface AttendanceFact {
  reason: AbsenceReason;
  lateMinutes: number;
  /** An ExcuseAbsence stands for this absence (kept while the pupil stays recorded absent). */
  excused: boolean;
}

/** Absences recorded as excused: no later excusal changes them. */
export const excusedByReason = (reason: string) =>
  reason === "ABSENCE_REASON_ILLNESS" || reason === "ABSENCE_REASON_EXCUSED";

export interface LessonAttendance {
  term: number;
  lessonDate: CivilDate;
  entries: Map<string, AttendanceFact>;
}

/**
 * The decision state of one journal. It is mutated in place by `evolveJournal` (it belongs to
 * one loader or one cache entry at a time), so a 5,000-event journal costs no copying.
 */
export interface JournalState {
  marks: MarkTable;
  /** `<studentId>:<term>` -> value (term 0 = year mark). */
  termMarks: Map<string, MarkValue>;
  closedTerms: Set<number>;
  attendance: Map<string, LessonAttendance>;
  exemptions: Map<string, { studentId: string; firstDay: CivilDate; lastDay: CivilDate }>;
}

export const termMarkKey = (studentId: string, term: number) => `${studentId}:${term}`;

export function initialJournalState(): JournalState {
  return {
    marks: new MarkTable(),
    termMarks: new Map(),
    closedTerms: new Set(),
    attendance: new Map(),
    exemptions: new Map(),
  };
}

export function evolveJournal(state: JournalState, event: Pick<RecordedEvent, "type" | "data">) {
  switch (eventName(event.type)) {
    case "MarkRecorded": {
      const d = event.data as MarkRecorded;
      state.marks.add(d.markId, {
        studentId: d.studentId,
        lessonId: d.lessonId,
        lessonDate: d.lessonDate,
        term: d.term ?? 0,
        value: d.value,
        workType: d.workType,
        weight: d.weight ?? 0,
        revoked: false,
      });
      break;
    }
    case "MarkCorrected": {
      const d = event.data as MarkCorrected;
      state.marks.correct(d.markId, d.value);
      break;
    }
    case "MarkRevoked":
      state.marks.revoke((event.data as MarkRevoked).markId);
      break;
    case "ExemptionGranted": {
      const d = event.data as ExemptionGranted;
      state.exemptions.set(d.exemptionId, {
        studentId: d.studentId,
        firstDay: d.firstDay,
        lastDay: d.lastDay,
      });
      break;
    }
    case "AttendanceRecorded": {
      const d = event.data as AttendanceRecorded;
      const entries = new Map<string, AttendanceFact>();
      const before = state.attendance.get(d.lessonId)?.entries;
      for (const e of d.entries ?? []) {
        // Taken again, an excused absence keeps its excusal while the pupil is still recorded
        // absent as excused (decide records a re-saved UNEXCUSED as EXCUSED, or ILLNESS as the
        // teacher said). Records made before that rule that say UNEXCUSED dropped the excusal,
        // as reporting counted them: replayed alike here.
        entries.set(e.studentId, {
          reason: e.reason,
          lateMinutes: e.lateMinutes ?? 0,
          excused: (before?.get(e.studentId)?.excused ?? false) && excusedByReason(e.reason),
        });
      }
      state.attendance.set(d.lessonId, { term: d.term ?? 0, lessonDate: d.lessonDate, entries });
      break;
    }
    case "AbsenceExcused": {
      const d = event.data as { lessonId: string; studentId: string };
      const entry = state.attendance.get(d.lessonId)?.entries.get(d.studentId);
      if (entry) entry.excused = true;
      break;
    }
    case "TermMarkSet":
    case "TermMarkCorrected": {
      const d = event.data as TermMarkSet | TermMarkCorrected;
      state.termMarks.set(termMarkKey(d.studentId, d.term ?? 0), d.value);
      break;
    }
    case "TermClosed":
      state.closedTerms.add((event.data as TermClosed).term ?? 0);
      break;
    case "TermReopened":
      state.closedTerms.delete((event.data as TermClosed).term ?? 0);
      break;
    default:
      break;
  }
  return state;
}

/** Plain JSON for the event store's snapshots table: ids, values and dates only, no text. */
export function journalToSnapshot(s: JournalState): unknown {
  return {
    marks: [...s.marks],
    termMarks: [...s.termMarks],
    closedTerms: [...s.closedTerms],
    attendance: [...s.attendance].map(([id, a]) => [id, { ...a, entries: [...a.entries] }]),
    exemptions: [...s.exemptions],
  };
}

export function journalFromSnapshot(data: unknown): JournalState {
  const d = data as {
    marks: [string, MarkFact][];
    termMarks: [string, MarkValue][];
    closedTerms: number[];
    attendance: [
      string,
      { term: number; lessonDate: string; entries: [string, AttendanceFact][] },
    ][];
    exemptions: [string, { studentId: string; firstDay: string; lastDay: string }][];
  };
  return {
    marks: MarkTable.from(d.marks),
    termMarks: new Map(d.termMarks),
    closedTerms: new Set(d.closedTerms),
    attendance: new Map(d.attendance.map(([id, a]) => [id, { ...a, entries: new Map(a.entries) }])),
    exemptions: new Map(d.exemptions),
  };
}
