import { DomainError } from "@otmetka/service-kit";
import { describe, expect, it } from "vitest";
import type { AttendanceRecorded } from "./events.js";
import { decideJournal, termMarkRollDay } from "./journal.js";
import type { Actor, JournalCommand, LessonFact } from "./journal-commands.js";
import {
  evolveJournal,
  initialJournalState,
  type JournalState,
  journalFromSnapshot,
  journalToSnapshot,
} from "./journal-state.js";

const ref = {
  journalId: "journal-cg-MATH-2026",
  schoolId: "s1",
  municipalityId: "m1",
  academicYear: { startYear: 2026 },
  classGroupId: "cg",
  subgroupId: "",
  subjectId: "MATH",
};
const journal = { ref, grading: "GRADING_FIVE_POINT" as const };
/** An attendance entry of an enrolled pupil, on time, with `reason`. */
const absent = (studentId: string, reason: string) => ({
  studentId,
  reason,
  lateMinutes: 0,
  enrollment: "enrolled" as const,
});
const teacher: Actor = {
  id: "t1",
  admin: false,
  assignedOn: () => true,
  firstDayNotAssigned: () => undefined,
};
const stranger: Actor = {
  id: "t2",
  admin: false,
  assignedOn: () => false,
  firstDayNotAssigned: (first) => first,
};
const admin: Actor = {
  id: "a1",
  admin: true,
  assignedOn: () => false,
  firstDayNotAssigned: (first) => first,
};
const lesson: LessonFact = {
  lessonId: "l1",
  classGroupId: "cg",
  subgroupId: "",
  subjectId: "MATH",
  date: "2026-09-10",
  term: 1,
  status: "CONDUCTED",
};
const base = { journal, actor: teacher, today: "2026-09-15" };

function mark(
  over: Partial<Extract<JournalCommand, { kind: "RecordMarks" }>["marks"][number]> = {},
) {
  return {
    markId: "m1",
    studentId: "p1",
    value: "MARK_VALUE_FIVE",
    workType: "ORAL",
    weight: 1,
    noteId: "",
    enrollment: "enrolled" as const,
    ...over,
  };
}

const record = (
  over: Partial<Extract<JournalCommand, { kind: "RecordMarks" }>> = {},
): JournalCommand => ({
  kind: "RecordMarks",
  ...base,
  lesson,
  marks: [mark()],
  field: "mark",
  ...over,
});

/** Decides and applies, as the command layer does. */
function run(state: JournalState, c: JournalCommand) {
  const events = decideJournal(c, state);
  for (const e of events) evolveJournal(state, e);
  return events;
}

/** Takes attendance at the default lesson: these pupils absent or late, the rest present. */
const takeAttendance = (state: JournalState, ...entries: ReturnType<typeof absent>[]) =>
  run(state, { kind: "RecordAttendance", ...base, lesson, entries });

function refusal(f: () => unknown): DomainError {
  try {
    f();
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("marks", () => {
  it("refuses a pupil listed twice for one work type, naming both entries", () => {
    const s = initialJournalState();
    const err = refusal(() =>
      run(
        s,
        record({
          field: "marks",
          marks: [mark(), mark({ markId: "m2", studentId: "p2" }), mark({ markId: "m3" })],
        }),
      ),
    );
    expect([err.kind, err.field, err.message]).toEqual([
      "invalid_argument",
      "marks[2].student_id",
      "marks[2].student_id: pupil p1 already has a mark of work type ORAL in this call (marks[0])",
    ]);
    expect(s.marks.size).toBe(0);
  });

  it("takes a pupil's marks for different work types in one call (an oral answer and a test)", () => {
    const events = run(
      initialJournalState(),
      record({ marks: [mark(), mark({ markId: "m2", workType: "TEST", weight: 3 })] }),
    );
    expect(events.map((e) => (e.data as { workType: string }).workType)).toEqual(["ORAL", "TEST"]);
  });

  it("puts every fact of a mark into MarkRecorded, and nothing else", () => {
    const [e] = decideJournal(record(), initialJournalState());
    expect(e).toEqual({
      type: "grades.v1.MarkRecorded",
      data: {
        schoolId: "s1",
        municipalityId: "m1",
        journal: ref,
        markId: "m1",
        lessonId: "l1",
        lessonDate: "2026-09-10",
        term: 1,
        studentId: "p1",
        value: "MARK_VALUE_FIVE",
        workType: "ORAL",
        weight: 1,
        authorId: "t1",
        noteId: "",
      },
    });
  });

  it("records a mark with its resolved weight, and several per pupil per lesson", () => {
    const s = initialJournalState();
    run(s, record());
    run(
      s,
      record({
        marks: [mark({ markId: "m2", value: "MARK_VALUE_THREE", workType: "TEST", weight: 3 })],
      }),
    );
    expect([...s.marks.keys()]).toEqual(["m1", "m2"]);
    expect(s.marks.get("m2")).toMatchObject({ value: "MARK_VALUE_THREE", weight: 3, term: 1 });
  });

  it("refuses a value off the scale", () => {
    const e = refusal(() =>
      decideJournal(record({ marks: [mark({ value: "MARK_VALUE_FAIL" })] }), initialJournalState()),
    );
    expect([e.kind, e.field]).toEqual(["failed_precondition", "mark.value"]);
    expect(e.message).toMatch(/value_off_scale/);
    const pf = { ...base.journal, grading: "GRADING_PASS_FAIL" as const };
    expect(
      refusal(() => decideJournal(record({ journal: pf }), initialJournalState())).message,
    ).toMatch(/value_off_scale/);
    expect(
      refusal(() => decideJournal(record({ marks: [mark({ value: "7" })] }), initialJournalState()))
        .kind,
    ).toBe("invalid_argument");
    // Special entries fit both scales.
    expect(
      decideJournal(
        record({ journal: pf, marks: [mark({ value: "MARK_VALUE_NOT_ATTESTED" })] }),
        initialJournalState(),
      ),
    ).toHaveLength(1);
    expect(
      decideJournal(record({ marks: [mark({ value: "MARK_VALUE_PASS" })] }), initialJournalState()),
    ).toHaveLength(1);
  });

  it("refuses a pupil not enrolled on the lesson date", () => {
    const e = refusal(() =>
      decideJournal(
        record({ marks: [mark({ enrollment: "not_enrolled" })] }),
        initialJournalState(),
      ),
    );
    expect(e.message).toMatch(/student_not_enrolled/);
    expect(e.field).toBe("mark.student_id");
  });

  it("refuses an author not assigned, accepts a school admin", () => {
    const e = refusal(() => decideJournal(record({ actor: stranger }), initialJournalState()));
    expect([e.kind, e.field]).toEqual(["permission_denied", "caller"]);
    expect(e.message).toMatch(/author_not_assigned/);
    expect(decideJournal(record({ actor: admin }), initialJournalState())).toHaveLength(1);
  });

  it("refuses a lesson in the future, a cancelled lesson and another journal's lesson", () => {
    const future = refusal(() =>
      decideJournal(record({ today: "2026-09-09" }), initialJournalState()),
    );
    expect(future.message).toMatch(/lesson_in_future/);
    const cancelled = refusal(() =>
      decideJournal(record({ lesson: { ...lesson, status: "CANCELLED" } }), initialJournalState()),
    );
    expect(cancelled.message).toMatch(/lesson_cancelled/);
    const other = refusal(() =>
      decideJournal(record({ lesson: { ...lesson, subjectId: "RUS" } }), initialJournalState()),
    );
    expect(other.message).toMatch(/lesson_not_in_journal/);
  });

  it("bulk entry is all or nothing: one bad pupil refuses the column", () => {
    const c = record({
      field: "marks",
      marks: [mark(), mark({ markId: "m2", studentId: "p2", enrollment: "not_enrolled" })],
    });
    const e = refusal(() => decideJournal(c, initialJournalState()));
    expect(e.field).toBe("marks[1].student_id");
  });
});

describe("corrections and revocations", () => {
  it("corrects and revokes with a reason; refuses correcting a revoked or unknown mark", () => {
    const s = initialJournalState();
    run(s, record());
    expect(
      refusal(() =>
        decideJournal(
          {
            kind: "CorrectMark",
            ...base,
            markId: "m1",
            value: "MARK_VALUE_FOUR",
            reason: " ",
            reasonNoteId: "n",
          },
          s,
        ),
      ).field,
    ).toBe("reason");
    run(s, {
      kind: "CorrectMark",
      ...base,
      markId: "m1",
      value: "MARK_VALUE_FOUR",
      reason: "typo",
      reasonNoteId: "n",
    });
    expect(s.marks.get("m1")?.value).toBe("MARK_VALUE_FOUR");
    run(s, { kind: "RevokeMark", ...base, markId: "m1", reason: "wrong pupil", reasonNoteId: "n" });
    const e = refusal(() =>
      decideJournal(
        {
          kind: "CorrectMark",
          ...base,
          markId: "m1",
          value: "MARK_VALUE_FIVE",
          reason: "x",
          reasonNoteId: "n",
        },
        s,
      ),
    );
    expect(e.message).toMatch(/mark_revoked/);
    expect(
      refusal(() =>
        decideJournal(
          { kind: "RevokeMark", ...base, markId: "zz", reason: "x", reasonNoteId: "n" },
          s,
        ),
      ).kind,
    ).toBe("not_found");
  });
});

describe("changes that change nothing", () => {
  const correct = (value: string): JournalCommand => ({
    kind: "CorrectMark",
    ...base,
    markId: "m1",
    value,
    reason: "typo",
    reasonNoteId: "n",
  });

  it("refuses correcting a mark to the value it has, naming value", () => {
    const s = initialJournalState();
    run(s, record());
    const e = refusal(() => decideJournal(correct("MARK_VALUE_FIVE"), s));
    expect([e.kind, e.field, /\[([a-z_]+)\]/.exec(e.message)?.[1]]).toEqual([
      "failed_precondition",
      "value",
      "value_unchanged",
    ]);
    run(s, correct("MARK_VALUE_FOUR"));
    expect(refusal(() => decideJournal(correct("MARK_VALUE_FOUR"), s)).field).toBe("value");
    // A stranger learns nothing of the mark's value: the caller is judged first.
    expect(
      refusal(() => decideJournal({ ...correct("MARK_VALUE_FOUR"), actor: stranger }, s)).kind,
    ).toBe("permission_denied");
  });

  it("refuses correcting a term mark to the value it has, naming value", () => {
    const s = initialJournalState();
    const set = (value: string, reason: string): JournalCommand => ({
      kind: "SetTermMark",
      ...base,
      studentId: "p1",
      term: 1,
      value,
      reason,
      reasonNoteId: reason ? "n" : "",
      enrollment: "enrolled",
      inSubgroup: null,
      terms: [],
    });
    run(s, set("MARK_VALUE_FOUR", ""));
    const e = refusal(() => decideJournal(set("MARK_VALUE_FOUR", "пересдача"), s));
    expect([e.kind, e.field, /\[([a-z_]+)\]/.exec(e.message)?.[1]]).toEqual([
      "failed_precondition",
      "value",
      "value_unchanged",
    ]);
    expect(decideJournal(set("MARK_VALUE_FIVE", "пересдача"), s)).toHaveLength(1);
  });
});

describe("closed terms", () => {
  it("refuses every change in a closed term except an admin correction with a reason", () => {
    const s = initialJournalState();
    run(s, record());
    expect(
      refusal(() =>
        decideJournal({ kind: "CloseTerm", ...base, terms: [], term: 1, reason: "end" }, s),
      ).kind,
    ).toBe("permission_denied");
    run(s, { kind: "CloseTerm", ...base, terms: [], actor: admin, term: 1, reason: "end of term" });
    expect(
      refusal(() => decideJournal(record({ marks: [mark({ markId: "m9" })] }), s)).message,
    ).toMatch(/term_closed/);
    expect(refusal(() => decideJournal(record({ actor: admin }), s)).message).toMatch(
      /term_closed/,
    );
    const correct = {
      kind: "CorrectMark" as const,
      ...base,
      markId: "m1",
      value: "MARK_VALUE_THREE",
      reason: "appeal",
      reasonNoteId: "n",
    };
    // Named by the request's own field: CorrectMark and RevokeMark have mark_id, not term.
    const e1 = refusal(() => decideJournal(correct, s));
    expect([e1.field, e1.message]).toEqual([
      "mark_id",
      "mark_id: [term_closed] term 1 is closed; only a school admin may correct it, with a reason",
    ]);
    const revoke = { ...correct, kind: "RevokeMark" as const };
    expect(refusal(() => decideJournal(revoke, s)).field).toBe("mark_id");
    const [e] = decideJournal({ ...correct, actor: admin }, s);
    // The reason is in the notes table: the event names it, without its text.
    expect(e?.data).toMatchObject({ inClosedTerm: true, reason: "", reasonNoteId: "n" });
    expect(
      refusal(() => decideJournal({ kind: "RecordAttendance", ...base, lesson, entries: [] }, s))
        .message,
    ).toMatch(/term_closed/);
    run(s, { kind: "ReopenTerm", ...base, terms: [], actor: admin, term: 1, reason: "audit" });
    expect(decideJournal(record({ marks: [mark({ markId: "m9" })] }), s)).toHaveLength(1);
    expect(
      refusal(() =>
        decideJournal(
          { kind: "ReopenTerm", ...base, terms: [], actor: admin, term: 1, reason: "x" },
          s,
        ),
      ).message,
    ).toMatch(/term_not_closed/);
  });

  it("refuses a teacher's exemption over any day of a closed term; an admin's is marked", () => {
    const terms = [
      { term: 1, firstDay: "2026-09-01", lastDay: "2026-10-31" },
      { term: 2, firstDay: "2026-11-01", lastDay: "2026-12-31" },
      { term: 3, firstDay: "2027-01-01", lastDay: "2027-03-31" },
      { term: 4, firstDay: "2027-04-01", lastDay: "2027-05-31" },
    ];
    const exempt = (over: Partial<Extract<JournalCommand, { kind: "GrantExemption" }>> = {}) =>
      ({
        kind: "GrantExemption",
        ...base,
        exemptionId: "e1",
        studentId: "p1",
        firstDay: "2026-12-20",
        lastDay: "2027-01-10",
        reason: "медицинская группа",
        reasonNoteId: "n",
        enrollment: "enrolled",
        notEnrolledFrom: null,
        terms,
        year: { firstDay: "2026-09-01", lastDay: "2027-05-31" },
        ...over,
      }) as const;
    const s = initialJournalState();
    run(s, { kind: "CloseTerm", ...base, terms: [], actor: admin, term: 2, reason: "end of term" });
    // Starting in it, ending in it, spanning it: each touches a day of term 2.
    for (const [firstDay, lastDay, field] of [
      ["2026-12-20", "2027-01-10", "first_day"],
      ["2026-10-20", "2026-11-01", "last_day"],
      ["2026-10-01", "2027-02-01", "last_day"],
      ["2026-12-31", "2026-12-31", "first_day"],
    ] as const) {
      const e = refusal(() => decideJournal(exempt({ firstDay, lastDay }), s));
      expect(e).toMatchObject({ kind: "failed_precondition", field });
      expect(e.message).toMatch(new RegExp(`^${field}: \\[term_closed\\]`));
    }
    const [granted] = decideJournal(exempt({ actor: admin }), s);
    expect(granted?.data).toMatchObject({ inClosedTerm: true, reasonNoteId: "n" });
    // Only other terms' days: nothing closed is touched.
    expect(decideJournal(exempt({ firstDay: "2027-01-01" }), s)[0]?.data).toMatchObject({
      inClosedTerm: false,
    });
    expect(
      decideJournal(exempt({ firstDay: "2026-09-01", lastDay: "2026-10-31" }), s),
    ).toHaveLength(1);
    // A day outside every term of the journal's grade level is in no closed term.
    const halves = [{ term: 2, firstDay: "2026-11-01", lastDay: "2026-11-30" }];
    expect(
      decideJournal(exempt({ terms: halves, firstDay: "2026-12-01", lastDay: "2026-12-31" }), s),
    ).toHaveLength(1);
    // Term 2 is closed but its dates are not replicated yet: retry later, never guess.
    expect(refusal(() => decideJournal(exempt({ terms: [] }), s))).toMatchObject({
      kind: "unavailable",
      field: "first_day",
    });
    // A journal with no closed term needs no term dates.
    expect(decideJournal(exempt({ terms: [] }), initialJournalState())).toHaveLength(1);
  });
});

describe("exemptions", () => {
  const exempt = (over: Partial<Extract<JournalCommand, { kind: "GrantExemption" }>> = {}) =>
    ({
      kind: "GrantExemption",
      ...base,
      exemptionId: "e1",
      studentId: "p1",
      firstDay: "2026-09-15",
      lastDay: "2026-12-31",
      reason: "медицинская группа",
      reasonNoteId: "n",
      enrollment: "enrolled",
      notEnrolledFrom: null,
      terms: [],
      year: { firstDay: "2026-09-01", lastDay: "2027-05-31" },
      ...over,
    }) as const;

  it("refuses a period the pupil is already exempt over (it adds no day), naming student_id", () => {
    const s = initialJournalState();
    run(s, exempt());
    for (const period of [
      {},
      { firstDay: "2026-10-01", lastDay: "2026-10-31" },
      { firstDay: "2026-12-31" },
    ]) {
      const e = refusal(() => decideJournal(exempt({ exemptionId: "e2", ...period }), s));
      expect([e.kind, e.field]).toEqual(["failed_precondition", "student_id"]);
      expect(e.message).toMatch(/^student_id: \[already_exempt\] .*2026-09-15\.\.2026-12-31/);
    }
    // A day more, or another pupil, is a new fact; a stranger is refused as a stranger.
    expect(decideJournal(exempt({ exemptionId: "e2", lastDay: "2027-01-01" }), s)).toHaveLength(1);
    expect(decideJournal(exempt({ exemptionId: "e2", studentId: "p2" }), s)).toHaveLength(1);
    expect(refusal(() => decideJournal(exempt({ actor: stranger }), s)).kind).toBe(
      "permission_denied",
    );
  });

  it("refuses a period outside the school year, naming the field and the year's bounds", () => {
    const s = initialJournalState();
    for (const [firstDay, lastDay, field] of [
      ["2026-08-25", "2026-09-10", "first_day"],
      ["2026-03-01", "2026-03-10", "first_day"],
      ["2027-05-20", "2027-06-10", "last_day"],
      ["2027-06-01", "2027-06-10", "first_day"],
      // Into the next academic year.
      ["2026-10-01", "2027-09-10", "last_day"],
    ] as const) {
      for (const actor of [teacher, admin]) {
        const e = refusal(() => decideJournal(exempt({ actor, firstDay, lastDay }), s));
        expect(e).toMatchObject({ kind: "failed_precondition", field });
        expect(e.message).toMatch(
          new RegExp(`^${field}: \\[outside_academic_year\\] .*2026-09-01\\.\\.2027-05-31`),
        );
      }
    }
    // Its first and last lesson days are in it.
    expect(
      decideJournal(exempt({ firstDay: "2026-09-01", lastDay: "2027-05-31" }), s),
    ).toHaveLength(1);
  });

  it("retries a period while the school year's days are not replicated, unless it is outside 1 September..31 August", () => {
    const s = initialJournalState();
    // Curriculum's school year lies within the academic year 2026-09-01..2027-08-31: a period
    // outside it is refused for good, one inside may or may not be in the school year.
    expect(refusal(() => decideJournal(exempt({ year: null }), s))).toMatchObject({
      kind: "unavailable",
      field: "first_day",
    });
    expect(
      refusal(() => decideJournal(exempt({ actor: admin, year: null, lastDay: "2027-08-31" }), s)),
    ).toMatchObject({ kind: "unavailable", field: "first_day" });
    for (const [firstDay, lastDay, field] of [
      ["2026-08-31", "2026-09-10", "first_day"],
      ["2027-06-01", "2027-09-01", "last_day"],
    ] as const) {
      const e = refusal(() => decideJournal(exempt({ year: null, firstDay, lastDay }), s));
      expect(e).toMatchObject({ kind: "failed_precondition", field });
      expect(e.message).toMatch(/\[outside_academic_year\] .*2026-09-01\.\.2027-08-31/);
    }
  });

  it("refuses a period whose later days fall after the pupil left, naming last_day", () => {
    const s = initialJournalState();
    const e = refusal(() => decideJournal(exempt({ notEnrolledFrom: "2026-10-01" }), s));
    expect(e).toMatchObject({ kind: "failed_precondition", field: "last_day" });
    expect(e.message).toMatch(/^last_day: \[student_not_enrolled\] .*2026-10-01/);
    // An admin is refused too: it is the pupil who is not in the journal.
    expect(
      refusal(() => decideJournal(exempt({ actor: admin, notEnrolledFrom: "2026-12-31" }), s)),
    ).toMatchObject({ field: "last_day" });
    expect(refusal(() => decideJournal(exempt({ enrollment: "not_enrolled" }), s))).toMatchObject({
      field: "student_id",
    });
    expect(decideJournal(exempt(), s)).toHaveLength(1);
  });

  it("refuses a teacher who does not teach the journal on every day of the period", () => {
    const s = initialJournalState();
    // A substitute over 2026-09-14..18.
    const sub: Actor = {
      id: "t3",
      admin: false,
      assignedOn: (d) => d >= "2026-09-14" && d <= "2026-09-18",
      firstDayNotAssigned: (first, last) =>
        first < "2026-09-14" ? first : last > "2026-09-18" ? "2026-09-19" : undefined,
    };
    const e = refusal(() => decideJournal(exempt({ actor: sub }), s));
    expect(e).toMatchObject({ kind: "permission_denied", field: "caller" });
    expect(e.message).toMatch(/\[author_not_assigned\].*2026-09-19/);
    expect(decideJournal(exempt({ actor: sub, lastDay: "2026-09-18" }), s)).toHaveLength(1);
    expect(decideJournal(exempt({ actor: admin }), s)).toHaveLength(1);
  });
});

describe("term marks", () => {
  const set = (
    over: Partial<Extract<JournalCommand, { kind: "SetTermMark" }>> = {},
  ): JournalCommand => ({
    kind: "SetTermMark",
    ...base,
    studentId: "p1",
    term: 1,
    value: "MARK_VALUE_FOUR",
    reason: "",
    reasonNoteId: over.reason ? "n" : "",
    enrollment: "enrolled",
    inSubgroup: null,
    terms: [],
    ...over,
  });

  it("offers the weighted average, refuses a second term mark, and a change is a correction", () => {
    const s = initialJournalState();
    // Two columns on the lesson (one mark per pupil in each).
    run(s, record({ marks: [mark({ value: "MARK_VALUE_FIVE", weight: 1 })] }));
    run(s, record({ marks: [mark({ markId: "m2", value: "MARK_VALUE_THREE", weight: 3 })] }));
    const [first] = run(s, set());
    expect(first?.data).toMatchObject({ weightedAverage: "3.50", value: "MARK_VALUE_FOUR" });
    const e = refusal(() => decideJournal(set({ value: "MARK_VALUE_FIVE" }), s));
    expect(e.message).toMatch(/term_mark_exists/);
    const [corr] = run(s, set({ value: "MARK_VALUE_FIVE", reason: "retake" }));
    expect(corr?.type).toBe("grades.v1.TermMarkCorrected");
    expect(s.termMarks.get("p1:1")).toBe("MARK_VALUE_FIVE");
    expect(refusal(() => decideJournal(set({ term: 5 }), s)).field).toBe("term");
  });

  it("judges the pupil on the roll at the end of the term, or today while it runs, naming that day", () => {
    const terms = [
      { term: 1, firstDay: "2026-09-01", lastDay: "2026-10-25" },
      { term: 2, firstDay: "2026-11-05", lastDay: "2026-12-28" },
    ];
    expect(termMarkRollDay(1, terms, "2026-09-15")).toBe("2026-09-15");
    expect(termMarkRollDay(1, terms, "2026-11-20")).toBe("2026-10-25");
    expect(termMarkRollDay(0, terms, "2027-01-10")).toBe("2026-12-28");
    expect(termMarkRollDay(3, terms, "2027-01-10")).toBeNull();
    expect(termMarkRollDay(1, [], "2026-11-20")).toBeNull();
    const e = refusal(() =>
      decideJournal(
        set({ terms, today: "2026-11-20", enrollment: "not_enrolled" }),
        initialJournalState(),
      ),
    );
    expect([e.kind, e.field, e.message]).toEqual([
      "failed_precondition",
      "student_id",
      "student_id: [student_not_enrolled] pupil p1 is not in this journal's class group (or subgroup) on 2026-10-25",
    ]);
    expect(
      refusal(() => decideJournal(set({ enrollment: "not_enrolled" }), initialJournalState()))
        .message,
    ).toMatch(/ on any day of 2026\/2027$/);
  });

  it("refuses a term mark for a pupil in a subgroup of the subject on the roll day, naming it", () => {
    const terms = [{ term: 1, firstDay: "2026-09-01", lastDay: "2026-10-25" }];
    const e = refusal(() =>
      decideJournal(set({ terms, today: "2026-11-20", inSubgroup: "sg-1" }), initialJournalState()),
    );
    expect([e.kind, e.field, e.message]).toEqual([
      "failed_precondition",
      "student_id",
      "student_id: [term_mark_in_subgroup] pupil p1 studies this subject in subgroup sg-1 on 2026-10-25: their term mark is that subgroup journal's",
    ]);
  });

  it("refuses a term the journal's term system does not have; the year mark is always one", () => {
    const trimesters = [1, 2, 3].map((term) => ({ term, firstDay: "", lastDay: "" }));
    const e = refusal(() =>
      decideJournal(set({ term: 4, terms: trimesters }), initialJournalState()),
    );
    expect([e.kind, e.field]).toEqual(["failed_precondition", "term"]);
    expect(e.message).toBe(
      "term: [no_such_term] this journal's term system has terms 1, 2, 3 (0: the year), not 4",
    );
    for (const term of [0, 3])
      expect(decideJournal(set({ term, terms: trimesters }), initialJournalState())).toHaveLength(
        1,
      );
    // Not known yet: any 1-4, as before.
    expect(decideJournal(set({ term: 4 }), initialJournalState())).toHaveLength(1);
    // Nor is a term it does not have closed or reopened.
    for (const kind of ["CloseTerm", "ReopenTerm"] as const) {
      const c = { kind, ...base, actor: admin, term: 4, reason: "x", terms: trimesters };
      expect(refusal(() => decideJournal(c, initialJournalState())).message).toMatch(
        /^term: \[no_such_term\]/,
      );
    }
  });

  it("refuses a term mark for a term not begun yet (today in the school's zone), and a year mark before the year", () => {
    // base.today is 2026-09-15: term 1 has begun, term 2 has not.
    const terms = [
      { term: 1, firstDay: "2026-09-01", lastDay: "2026-10-25" },
      { term: 2, firstDay: "2026-11-05", lastDay: "2026-12-28" },
    ];
    const e = refusal(() => decideJournal(set({ term: 2, terms }), initialJournalState()));
    expect([e.kind, e.field]).toEqual(["failed_precondition", "term"]);
    expect(e.message).toBe(
      "term: [term_not_begun] term 2 begins on 2026-11-05, after today (2026-09-15) in the school's zone",
    );
    expect(decideJournal(set({ term: 1, terms }), initialJournalState())).toHaveLength(1);
    // The first day of a term is in it.
    expect(
      decideJournal(set({ term: 2, terms, today: "2026-11-05" }), initialJournalState()),
    ).toHaveLength(1);
    // The year mark: not before the year's first term begins.
    expect(
      refusal(() =>
        decideJournal(set({ term: 0, terms, today: "2026-08-20" }), initialJournalState()),
      ).message,
    ).toBe(
      "term: [term_not_begun] the school year begins on 2026-09-01, after today (2026-08-20) in the school's zone",
    );
    expect(decideJournal(set({ term: 0, terms }), initialJournalState())).toHaveLength(1);
    // Dates unknown (the replica has no term system yet): taken, as before.
    expect(decideJournal(set({ term: 2, terms: [] }), initialJournalState())).toHaveLength(1);
    // Nor is a term closed before it begins; reopening is not judged by dates.
    const close = {
      kind: "CloseTerm" as const,
      ...base,
      actor: admin,
      term: 2,
      reason: "x",
      terms,
    };
    expect(refusal(() => decideJournal(close, initialJournalState())).message).toBe(
      "term: [term_not_begun] term 2 begins on 2026-11-05, after today (2026-09-15) in the school's zone",
    );
    expect(decideJournal({ ...close, term: 1 }, initialJournalState())).toHaveLength(1);
  });
});

describe("attendance", () => {
  it("records attendance with nobody absent, absences and lateness; excuses an absence later", () => {
    const s = initialJournalState();
    takeAttendance(s);
    expect(s.attendance.get("l1")?.entries.size).toBe(0);
    takeAttendance(s, absent("p1", "ABSENCE_REASON_UNEXCUSED"), {
      studentId: "p2",
      reason: "ABSENCE_REASON_NONE",
      lateMinutes: 10,
      enrollment: "enrolled",
    });
    run(s, { kind: "ExcuseAbsence", ...base, lesson, studentId: "p1", noteId: "n1" });
    expect(s.attendance.get("l1")?.entries.get("p1")?.excused).toBe(true);
    expect(
      refusal(() =>
        decideJournal({ kind: "ExcuseAbsence", ...base, lesson, studentId: "p2", noteId: "" }, s),
      ).message,
    ).toMatch(/not_absent/);
    expect(
      refusal(() =>
        decideJournal(
          {
            kind: "ExcuseAbsence",
            ...base,
            lesson: { ...lesson, lessonId: "l9" },
            studentId: "p1",
            noteId: "",
          },
          s,
        ),
      ).message,
    ).toMatch(/attendance_not_recorded/);
  });

  it("refuses an absence with minutes late, naming late_minutes", () => {
    const e = refusal(() =>
      decideJournal(
        {
          kind: "RecordAttendance",
          ...base,
          lesson,
          entries: [{ ...absent("p1", "ABSENCE_REASON_UNEXCUSED"), lateMinutes: 10 }],
        },
        initialJournalState(),
      ),
    );
    expect([e.kind, e.field]).toEqual(["invalid_argument", "absences[0].late_minutes"]);
  });

  it("refuses excusing an absence already excused, naming the pupil", () => {
    const s = initialJournalState();
    const absent = {
      studentId: "p1",
      reason: "ABSENCE_REASON_UNEXCUSED",
      lateMinutes: 0,
      enrollment: "enrolled" as const,
    };
    takeAttendance(s, absent);
    const excuse = { kind: "ExcuseAbsence" as const, ...base, lesson, studentId: "p1" };
    run(s, { ...excuse, noteId: "n1" });
    const e = refusal(() => decideJournal({ ...excuse, noteId: "n2" }, s));
    expect(e).toMatchObject({ kind: "failed_precondition", field: "student_id" });
    expect(e.message).toMatch(/^student_id: \[absence_already_excused\]/);
    // Attendance taken again keeps the excusal: still excused, refused as before.
    takeAttendance(s, absent);
    expect(refusal(() => decideJournal({ ...excuse, noteId: "n3" }, s)).message).toMatch(
      /absence_already_excused/,
    );
  });

  it("keeps an excusal when attendance is taken again with the pupil still absent; drops it when not", () => {
    const s = initialJournalState();
    const take = (...entries: ReturnType<typeof absent>[]) => takeAttendance(s, ...entries);
    const entry = (studentId: string) => s.attendance.get("l1")?.entries.get(studentId);
    const late = { ...absent("p3", "ABSENCE_REASON_NONE"), lateMinutes: 5 };
    take(
      absent("p1", "ABSENCE_REASON_UNEXCUSED"),
      absent("p2", "ABSENCE_REASON_UNEXCUSED"),
      absent("p3", "ABSENCE_REASON_UNEXCUSED"),
    );
    for (const studentId of ["p1", "p2", "p3"])
      run(s, { kind: "ExcuseAbsence", ...base, lesson, studentId, noteId: "n" });
    // The teacher re-saves the same list for p1, now says ILLNESS for p2, p3 arrived late.
    const recorded = take(
      absent("p1", "ABSENCE_REASON_UNEXCUSED"),
      absent("p2", "ABSENCE_REASON_ILLNESS"),
      late,
    );
    // The event says what stands: consumers count p1 excused without knowing of the excusal.
    expect(
      (recorded[0]?.data as AttendanceRecorded | undefined)?.entries.map((x) => [
        x.studentId,
        x.reason,
      ]),
    ).toEqual([
      ["p1", "ABSENCE_REASON_EXCUSED"],
      ["p2", "ABSENCE_REASON_ILLNESS"],
      ["p3", "ABSENCE_REASON_NONE"],
    ]);
    expect(entry("p1")).toMatchObject({ reason: "ABSENCE_REASON_EXCUSED", excused: true });
    expect(entry("p2")).toMatchObject({ reason: "ABSENCE_REASON_ILLNESS", excused: true });
    expect(entry("p3")?.excused).toBe(false);
    // Back to UNEXCUSED: the excusal still stands for p1 and p2; p3's went with its absence.
    take(
      absent("p1", "ABSENCE_REASON_UNEXCUSED"),
      absent("p2", "ABSENCE_REASON_UNEXCUSED"),
      absent("p3", "ABSENCE_REASON_UNEXCUSED"),
    );
    expect(entry("p1")?.reason).toBe("ABSENCE_REASON_EXCUSED");
    expect(entry("p2")?.reason).toBe("ABSENCE_REASON_EXCUSED");
    expect(entry("p3")).toMatchObject({ reason: "ABSENCE_REASON_UNEXCUSED", excused: false });
    // Removed from the list (present), then absent again: a new absence, to be excused anew.
    take();
    take(absent("p1", "ABSENCE_REASON_UNEXCUSED"));
    expect(entry("p1")).toMatchObject({ reason: "ABSENCE_REASON_UNEXCUSED", excused: false });
    expect(
      decideJournal({ kind: "ExcuseAbsence", ...base, lesson, studentId: "p1", noteId: "n" }, s),
    ).toHaveLength(1);
  });

  it("replays a record made before excusals survived it as it was counted: UNEXCUSED", () => {
    const s = initialJournalState();
    takeAttendance(s, absent("p1", "ABSENCE_REASON_UNEXCUSED"));
    run(s, { kind: "ExcuseAbsence", ...base, lesson, studentId: "p1", noteId: "n" });
    const [e] = decideJournal(
      {
        kind: "RecordAttendance",
        ...base,
        lesson,
        entries: [absent("p1", "ABSENCE_REASON_UNEXCUSED")],
      },
      initialJournalState(),
    );
    if (e) evolveJournal(s, e);
    expect(s.attendance.get("l1")?.entries.get("p1")).toMatchObject({
      reason: "ABSENCE_REASON_UNEXCUSED",
      excused: false,
    });
  });

  it("refuses excusing an absence recorded as ILLNESS or EXCUSED: already excused by its reason", () => {
    const s = initialJournalState();
    takeAttendance(
      s,
      absent("p1", "ABSENCE_REASON_ILLNESS"),
      absent("p2", "ABSENCE_REASON_EXCUSED"),
    );
    for (const studentId of ["p1", "p2"]) {
      const e = refusal(() =>
        decideJournal({ kind: "ExcuseAbsence", ...base, lesson, studentId, noteId: "n" }, s),
      );
      expect(e).toMatchObject({ kind: "failed_precondition", field: "student_id" });
      expect(e.message).toMatch(/^student_id: \[absence_already_excused\]/);
    }
  });

  it("judges who may excuse on the date the attendance was taken for, also after the lesson moved", () => {
    const s = initialJournalState();
    takeAttendance(s, absent("p1", "ABSENCE_REASON_UNEXCUSED"));
    // The lesson of 2026-09-10 moved to 2026-09-12 since; substitutes for one of the days.
    const moved = { ...lesson, date: "2026-09-12" };
    const substitute = (id: string, day: string): Actor => ({
      id,
      admin: false,
      assignedOn: (d) => d === day,
      firstDayNotAssigned: (first) => first,
    });
    const excuse = (actor: Actor, l: LessonFact = moved) =>
      decideJournal(
        { kind: "ExcuseAbsence", ...base, actor, lesson: l, studentId: "p1", noteId: "" },
        s,
      );
    const e = refusal(() => excuse(substitute("new", "2026-09-12")));
    expect(e).toMatchObject({ kind: "permission_denied", field: "caller" });
    expect(e.message).toMatch(/\[author_not_assigned\].*2026-09-10/);
    expect(excuse(substitute("old", "2026-09-10"))).toHaveLength(1);
    // No attendance taken: the lesson's own date is the only one there is.
    const unseen = { ...moved, lessonId: "l9" };
    expect(refusal(() => excuse(substitute("new", "2026-09-12"), unseen)).message).toMatch(
      /attendance_not_recorded/,
    );
    expect(refusal(() => excuse(substitute("old", "2026-09-10"), unseen)).message).toMatch(
      /author_not_assigned/,
    );
  });

  it("refuses excusing an absence on a lesson cancelled or unscheduled since, whoever asks", () => {
    const s = initialJournalState();
    run(s, {
      kind: "RecordAttendance",
      ...base,
      lesson: { ...lesson, status: "SCHEDULED" },
      entries: [absent("p1", "ABSENCE_REASON_UNEXCUSED")],
    });
    for (const [status, rule] of [
      ["CANCELLED", "lesson_cancelled"],
      ["UNSCHEDULED", "lesson_not_in_journal"],
    ] as const) {
      for (const actor of [teacher, admin]) {
        const e = refusal(() =>
          decideJournal(
            {
              kind: "ExcuseAbsence",
              ...base,
              actor,
              lesson: { ...lesson, status },
              studentId: "p1",
              noteId: "n",
            },
            s,
          ),
        );
        expect(e).toMatchObject({ kind: "failed_precondition", field: "lesson_id" });
        expect(e.message).toMatch(new RegExp(`^lesson_id: \\[${rule}\\]`));
      }
    }
  });

  it("refuses a caller who may not excuse before anything about the absence shows", () => {
    const s = initialJournalState();
    takeAttendance(
      s,
      absent("p1", "ABSENCE_REASON_UNEXCUSED"),
      absent("p2", "ABSENCE_REASON_ILLNESS"),
    );
    run(s, { kind: "ExcuseAbsence", ...base, lesson, studentId: "p1", noteId: "n" });
    // Already excused, excused by its reason, not absent, no attendance taken: the same answer.
    for (const [l, studentId] of [
      [lesson, "p1"],
      [lesson, "p2"],
      [lesson, "p3"],
      [{ ...lesson, lessonId: "l9" }, "p1"],
    ] as const) {
      const e = refusal(() =>
        decideJournal(
          { kind: "ExcuseAbsence", ...base, actor: stranger, lesson: l, studentId, noteId: "" },
          s,
        ),
      );
      expect(e).toMatchObject({ kind: "permission_denied", field: "caller" });
      expect(e.message).toMatch(/\[author_not_assigned\]/);
    }
    // Another journal's lesson is refused as such, before anything else.
    const elsewhere = { ...lesson, classGroupId: "cg2" };
    for (const actor of [teacher, stranger]) {
      const e = refusal(() =>
        decideJournal(
          { kind: "ExcuseAbsence", ...base, actor, lesson: elsewhere, studentId: "p1", noteId: "" },
          s,
        ),
      );
      expect(e.message).toMatch(/^lesson_id: \[lesson_not_in_journal\]/);
    }
  });
});

it("a snapshot round-trips the state", () => {
  const s = initialJournalState();
  run(s, record());
  takeAttendance(s, absent("p1", "ABSENCE_REASON_ILLNESS"));
  // A correction to a value not seen before, then a mark with it: the loaded table meets its
  // values in another order than the live one did.
  run(s, {
    kind: "CorrectMark",
    ...base,
    markId: "m1",
    value: "MARK_VALUE_TWO",
    reason: "typo",
    reasonNoteId: "n",
  });
  run(s, record({ marks: [mark({ markId: "m2", value: "MARK_VALUE_TWO", workType: "TEST" })] }));
  run(s, { kind: "RevokeMark", ...base, markId: "m2", reason: "wrong pupil", reasonNoteId: "n" });
  run(s, { kind: "CloseTerm", ...base, terms: [], actor: admin, term: 2, reason: "x" });
  const loaded = journalFromSnapshot(JSON.parse(JSON.stringify(journalToSnapshot(s))));
  expect(journalToSnapshot(loaded)).toEqual(journalToSnapshot(s));
  expect([...loaded.marks]).toEqual([...s.marks]);
  expect(loaded.marks.get("m1")).toMatchObject({ value: "MARK_VALUE_TWO", revoked: false });
  expect(loaded.marks.get("m2")).toMatchObject({ value: "MARK_VALUE_TWO", revoked: true });
  expect(loaded.attendance).toEqual(s.attendance);
  expect(loaded.closedTerms).toEqual(new Set([2]));
});
