import {
  AbsenceExcused,
  AttendanceRecorded,
  ExemptionGranted,
  MarkCorrected,
  MarkRecorded,
  MarkRevoked,
  TermClosed,
  TermMarkCorrected,
  TermMarkSet,
  TermReopened,
} from "@otmetka/proto/grades/events/v1/events";
import { expect, it } from "vitest";
import { decideJournal } from "./journal.js";
import type { JournalCommand } from "./journal-commands.js";
import { evolveJournal, initialJournalState } from "./journal-state.js";

const codecs = {
  AbsenceExcused,
  AttendanceRecorded,
  ExemptionGranted,
  MarkCorrected,
  MarkRecorded,
  MarkRevoked,
  TermClosed,
  TermMarkCorrected,
  TermMarkSet,
  TermReopened,
};

const ref = {
  journalId: "journal-cg-MATH-2026",
  schoolId: "s1",
  municipalityId: "m1",
  academicYear: { startYear: 2026 },
  classGroupId: "cg",
  subgroupId: "",
  subjectId: "MATH",
};
const base = {
  journal: { ref, grading: "GRADING_FIVE_POINT" as const },
  actor: { id: "t1", admin: true, assignedOn: () => true, firstDayNotAssigned: () => undefined },
  today: "2026-09-15",
};
const lesson = {
  lessonId: "l1",
  classGroupId: "cg",
  subgroupId: "",
  subjectId: "MATH",
  date: "2026-09-10",
  term: 1,
  status: "CONDUCTED" as const,
};

it("every event the decider writes is the proto3 JSON of its message", () => {
  const s = initialJournalState();
  const commands: JournalCommand[] = [
    {
      kind: "RecordMarks",
      ...base,
      lesson,
      field: "marks",
      marks: [
        {
          markId: "m1",
          studentId: "p1",
          value: "MARK_VALUE_FIVE",
          workType: "TEST",
          weight: 3,
          noteId: "n1",
          enrollment: "enrolled",
        },
      ],
    },
    {
      kind: "CorrectMark",
      ...base,
      markId: "m1",
      value: "MARK_VALUE_FOUR",
      reason: "typo",
      reasonNoteId: "r1",
    },
    {
      kind: "GrantExemption",
      ...base,
      exemptionId: "e1",
      studentId: "p1",
      firstDay: "2026-09-01",
      lastDay: "2026-10-01",
      reason: "medical",
      reasonNoteId: "r2",
      enrollment: "enrolled",
      notEnrolledFrom: null,
      terms: [{ term: 1, firstDay: "2026-09-01", lastDay: "2026-10-31" }],
      year: { firstDay: "2026-09-01", lastDay: "2027-05-31" },
    },
    {
      kind: "RecordAttendance",
      ...base,
      lesson,
      entries: [
        {
          studentId: "p1",
          reason: "ABSENCE_REASON_UNEXCUSED",
          lateMinutes: 0,
          enrollment: "enrolled",
        },
        {
          studentId: "p2",
          reason: "ABSENCE_REASON_ILLNESS",
          lateMinutes: 0,
          enrollment: "enrolled",
        },
      ],
    },
    { kind: "ExcuseAbsence", ...base, lesson, studentId: "p1", noteId: "n2" },
    {
      kind: "SetTermMark",
      ...base,
      studentId: "p1",
      term: 1,
      value: "MARK_VALUE_FOUR",
      reason: "",
      reasonNoteId: "",
      enrollment: "enrolled",
      inSubgroup: null,
      terms: [],
    },
    {
      kind: "SetTermMark",
      ...base,
      studentId: "p1",
      term: 1,
      value: "MARK_VALUE_FIVE",
      reason: "retake",
      reasonNoteId: "r3",
      enrollment: "enrolled",
      inSubgroup: null,
      terms: [],
    },
    { kind: "CloseTerm", ...base, terms: [], term: 1, reason: "end" },
    // An admin's exemption over the closed term carries in_closed_term.
    {
      kind: "GrantExemption",
      ...base,
      exemptionId: "e2",
      studentId: "p1",
      firstDay: "2026-10-01",
      lastDay: "2026-10-31",
      reason: "medical",
      reasonNoteId: "r5",
      enrollment: "enrolled",
      notEnrolledFrom: null,
      terms: [{ term: 1, firstDay: "2026-09-01", lastDay: "2026-10-31" }],
      year: { firstDay: "2026-09-01", lastDay: "2027-05-31" },
    },
    { kind: "RevokeMark", ...base, markId: "m1", reason: "appeal", reasonNoteId: "r4" },
    { kind: "ReopenTerm", ...base, terms: [], term: 1, reason: "audit" },
  ];
  for (const c of commands) {
    for (const e of decideJournal(c, s)) {
      const name = e.type.replace("grades.v1.", "") as keyof typeof codecs;
      const codec = codecs[name] as unknown as {
        fromJSON(o: unknown): unknown;
        toJSON(m: unknown): unknown;
      };
      // fromJSON -> toJSON drops defaults (false, 0, ""): compare to the data without them.
      const data = JSON.parse(
        JSON.stringify(e.data, (_k, v) => (v === false || v === 0 || v === "" ? undefined : v)),
      );
      expect(codec.toJSON(codec.fromJSON(e.data)), name).toEqual(data);
      evolveJournal(s, e);
    }
  }
});
