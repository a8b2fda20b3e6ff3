import { DomainError } from "@otmetka/service-kit";
import { describe, expect, it } from "vitest";
import { run } from "../test-support/replay.js";
import type { AcademicYearDefined } from "./events.js";
import { foldTimetable, type TimetableCommand, teacherOn, timetableDecider } from "./timetable.js";

const school = { schoolId: "s1", municipalityId: "m1", startYear: 2026, closedOn: null };
const calendar: AcademicYearDefined = {
  schoolId: "s1",
  municipalityId: "m1",
  academicYear: { startYear: 2026 },
  firstDay: "2026-09-01",
  lastDay: "2027-05-31",
  daysPerWeek: 5,
  timeZone: "Asia/Yekaterinburg",
};
const group = (id: string, letter: string) => ({
  classGroupId: id,
  schoolId: "s1",
  startYear: 2026,
  gradeLevel: 5,
  letter,
  closed: false,
});
const groups: Record<string, ReturnType<typeof group>> = {
  "5a": group("5a", "А"),
  "5b": group("5b", "Б"),
};
const subgroups: Record<string, { subgroupId: string; classGroupId: string; subjectId: string }> = {
  en1: { subgroupId: "en1", classGroupId: "5a", subjectId: "ENG" },
  en2: { subgroupId: "en2", classGroupId: "5a", subjectId: "ENG" },
};
const target = (classGroupId: string, subgroupId = "") => ({
  classGroupId,
  subgroupId,
  classGroup: groups[classGroupId],
  subgroup: subgroups[subgroupId],
});

const assign = (
  teacherId: string,
  subjectId: string,
  classGroupId: string,
  subgroupId = "",
): TimetableCommand => ({
  kind: "AssignTeacher",
  school,
  assignmentId: `a-${teacherId}-${subjectId}-${classGroupId}-${subgroupId}`,
  teacherId,
  teacherIsStaff: true,
  subjectId,
  subjectKnown: true,
  ...target(classGroupId, subgroupId),
});
let slotNo = 0;
const slot = (
  over: Partial<{
    weekday: number;
    period: number;
    teacherId: string;
    subjectId: string;
    room: string;
    validFrom: string;
    validTo: string;
  }>,
  classGroupId = "5a",
  subgroupId = "",
): TimetableCommand => ({
  kind: "AddTimetableSlot",
  school,
  calendar,
  slotId: `slot-${++slotNo}`,
  weekday: 1,
  period: 1,
  teacherId: "t-math",
  subjectId: "MATH",
  room: "",
  validFrom: "",
  validTo: "",
  ...over,
  ...target(classGroupId, subgroupId),
});
const staff = [
  assign("t-math", "MATH", "5a"),
  assign("t-math", "MATH", "5b"),
  assign("t-rus", "RUS", "5a"),
  assign("t-rus", "RUS", "5b"),
  assign("t-en1", "ENG", "5a", "en1"),
  assign("t-en2", "ENG", "5a", "en2"),
];

function refusal(commands: TimetableCommand[]): DomainError {
  try {
    run(timetableDecider, commands);
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error("accepted");
}

describe("teaching assignments", () => {
  it("need a staff member, a known subject and an open class group of this school and year", () => {
    const base = assign("t1", "MATH", "5a");
    expect(refusal([{ ...base, teacherIsStaff: false } as TimetableCommand]).field).toBe(
      "teacher_id",
    );
    expect(refusal([{ ...base, subjectKnown: false } as TimetableCommand]).kind).toBe("not_found");
    expect(refusal([{ ...base, classGroup: undefined } as TimetableCommand]).message).toBe(
      "class_group_id: no class group 5a",
    );
    expect(
      refusal([
        { ...base, classGroup: { ...group("5a", "А"), startYear: 2025 } } as TimetableCommand,
      ]).message,
    ).toMatch(/is of 2025\/2026, not 2026\/2027/);
    expect(
      refusal([{ ...base, classGroup: { ...group("5a", "А"), closed: true } } as TimetableCommand])
        .message,
    ).toMatch(/closed/);
    expect(refusal([assign("t1", "ENG", "5b", "en1")]).message).toBe(
      "subgroup_id: subgroup en1 belongs to another class group",
    );
    expect(
      refusal([{ ...base, school: { ...school, closedOn: "2026-12-31" } } as TimetableCommand])
        .field,
    ).toBe("school_id");
    expect(refusal([base, base]).message).toMatch(/is already assigned this/);
  });
});

describe("timetable conflicts", () => {
  it("refuses a teacher booked twice in a period", () => {
    expect(refusal([...staff, slot({}), slot({ room: "12" }, "5b")]).message).toMatch(
      /^teacher_id: teacher t-math is already booked on Monday period 1 \(slot slot-\d+, 2026-09-01 - 2027-05-31\)$/,
    );
  });
  it("refuses a class group booked twice in a period", () => {
    const err = refusal([...staff, slot({}), slot({ teacherId: "t-rus", subjectId: "RUS" })]);
    expect([err.field, err.message]).toEqual([
      "class_group_id",
      expect.stringMatching(/^class_group_id: class group 5А is already booked on Monday period 1/),
    ]);
    // A subgroup lesson while the whole class has another lesson is a double booking too.
    expect(
      refusal([...staff, slot({}), slot({ teacherId: "t-en1", subjectId: "ENG" }, "5a", "en1")])
        .field,
    ).toBe("class_group_id");
  });
  it("lets two subgroups of one class group meet at once", () => {
    const { state } = run(timetableDecider, [
      ...staff,
      slot({ teacherId: "t-en1", subjectId: "ENG", room: "21" }, "5a", "en1"),
      slot({ teacherId: "t-en2", subjectId: "ENG", room: "22" }, "5a", "en2"),
    ]);
    expect(state.slots.size).toBe(2);
    expect(
      refusal([
        ...staff,
        slot({ teacherId: "t-en1", subjectId: "ENG" }, "5a", "en1"),
        slot({ teacherId: "t-en1", subjectId: "ENG", period: 2 }, "5a", "en1"),
        slot({ teacherId: "t-en2", subjectId: "ENG", period: 2 }, "5a", "en1"),
      ]).field,
    ).toBe("class_group_id");
  });
  it("refuses a room booked twice in a period", () => {
    expect(
      refusal([
        ...staff,
        slot({ room: "12" }),
        slot({ teacherId: "t-rus", subjectId: "RUS", room: "12" }, "5b"),
      ]).message,
    ).toMatch(/^room: room 12 is already booked on Monday period 1/);
  });
  it("refuses a slot for a teacher not assigned to that subject and class group", () => {
    expect(refusal([...staff, slot({ teacherId: "t-rus" })]).message).toBe(
      "teacher_id: teacher t-rus is not assigned to teach MATH to class group 5А",
    );
    expect(
      refusal([...staff, slot({ teacherId: "t-en1", subjectId: "ENG" }, "5a", "en2")]).message,
    ).toMatch(/subgroup en2/);
  });
  it("allows the same period in disjoint date ranges, and after a slot ended", () => {
    const { state } = run(timetableDecider, [
      ...staff,
      slot({ validTo: "2026-12-31" }),
      slot({ validFrom: "2027-01-01", teacherId: "t-rus", subjectId: "RUS" }),
    ]);
    expect(state.slots.size).toBe(2);
    const ended = run(timetableDecider, [
      ...staff,
      slot({}),
      { kind: "EndTimetableSlot", school, slotId: `slot-${slotNo}`, lastDay: "2026-10-31" },
      slot({ validFrom: "2026-11-01", teacherId: "t-rus", subjectId: "RUS" }),
    ]);
    expect(ended.state.slots.size).toBe(2);
  });
  it("checks weekday, period and dates against the calendar", () => {
    expect(refusal([...staff, slot({ weekday: 6 })]).message).toBe(
      "weekday: must be 1-5 (the school has a 5-day week), got 6",
    );
    expect(refusal([...staff, slot({ period: 0 })]).field).toBe("period");
    expect(refusal([...staff, slot({ validTo: "2027-06-30" })]).message).toBe(
      "valid_to: the slot must lie inside the school year 2026-09-01 - 2027-05-31, got 2027-06-30",
    );
    expect(refusal([...staff, slot({ validFrom: "2026-08-31" })]).field).toBe("valid_from");
    // A start after the year's end is named, not reported as the (default) end preceding it.
    expect(refusal([...staff, slot({ validFrom: "2027-06-01" })]).field).toBe("valid_from");
    expect(
      refusal([...staff, { ...slot({}), calendar: undefined } as TimetableCommand]).field,
    ).toBe("academic_year");
  });
});

it("a substitute takes the lessons of their date range", () => {
  const a = assign("t-math", "MATH", "5a") as Extract<TimetableCommand, { kind: "AssignTeacher" }>;
  const { state } = run(timetableDecider, [
    a,
    slot({}),
    {
      kind: "AssignSubstitute",
      school,
      assignmentId: a.assignmentId,
      substituteId: "t-sub",
      substituteIsStaff: true,
      firstDay: "2026-10-05",
      lastDay: "2026-10-09",
    },
  ]);
  const s = [...state.slots.values()][0];
  if (!s) throw new Error("no slot");
  expect([teacherOn(state, s, "2026-10-05"), teacherOn(state, s, "2026-10-12")]).toEqual([
    "t-sub",
    "t-math",
  ]);
  expect(
    refusal([
      a,
      {
        kind: "AssignSubstitute",
        school,
        assignmentId: a.assignmentId,
        substituteId: "t-math",
        substituteIsStaff: true,
        firstDay: "2026-10-05",
        lastDay: "2026-10-09",
      },
    ]).field,
  ).toBe("substitute_id");
});

it("refuses a substitute booked in a covered slot's period, and a slot in a period someone substitutes in", () => {
  // t-rus teaches 5b on Mondays period 1; t-math's 5a Monday period 1 needs a substitute.
  const sub = (substituteId: string, firstDay = "2026-10-05", lastDay = "2026-10-09") =>
    ({
      kind: "AssignSubstitute",
      school,
      assignmentId: "a-t-math-MATH-5a-",
      substituteId,
      substituteIsStaff: true,
      firstDay,
      lastDay,
    }) as TimetableCommand;
  const rus5b = slot({ teacherId: "t-rus", subjectId: "RUS", validFrom: "2026-09-01" }, "5b");
  const err = refusal([...staff, slot({}), rus5b, sub("t-rus")]);
  expect([err.field, err.message]).toEqual([
    "substitute_id",
    expect.stringMatching(
      /^substitute_id: teacher t-rus is already booked on Monday period 1 \(slot slot-\d+, 2026-09-01 - 2027-05-31\) while covering slot slot-\d+, 2026-09-01 - 2027-05-31$/,
    ),
  ]);
  // Free outside the slot's validity, and in another period.
  const ended = slot(
    { teacherId: "t-rus", subjectId: "RUS", validFrom: "2026-09-01", validTo: "2026-09-30" },
    "5b",
  );
  expect(run(timetableDecider, [...staff, slot({}), ended, sub("t-rus")]).events).toHaveLength(9);
  // The other way round: a slot in a period where its teacher substitutes.
  const late = refusal([...staff, slot({}), sub("t-rus"), rus5b]);
  expect([late.field, late.message]).toEqual([
    "teacher_id",
    expect.stringMatching(/^teacher_id: teacher t-rus is already booked on Monday period 1 /),
  ]);
});

it("refuses a slot whose lessons a substitution would hand to a substitute booked in its period", () => {
  // t-math's 5a assignment has t-rus as substitute 5-9 October; t-rus teaches 5b on Mondays
  // period 1. A 5a maths slot on Mondays period 1 would give t-rus two lessons on 5 October.
  const sub = {
    kind: "AssignSubstitute",
    school,
    assignmentId: "a-t-math-MATH-5a-",
    substituteId: "t-rus",
    substituteIsStaff: true,
    firstDay: "2026-10-05",
    lastDay: "2026-10-09",
  } as TimetableCommand;
  const rus5b = slot({ teacherId: "t-rus", subjectId: "RUS" }, "5b");
  const err = refusal([...staff, rus5b, sub, slot({})]);
  expect([err.kind, err.field, err.message]).toEqual([
    "failed_precondition",
    "teacher_id",
    expect.stringMatching(
      /^teacher_id: teacher t-math's substitute t-rus \(2026-10-05 - 2026-10-09\) is already booked on Monday period 1 \(slot slot-\d+, 2026-09-01 - 2027-05-31\)$/,
    ),
  ]);
  // Another period, or a slot outside the substitution's dates, is free.
  run(timetableDecider, [...staff, rus5b, sub, slot({ period: 2 })]);
  run(timetableDecider, [...staff, rus5b, sub, slot({ validFrom: "2026-10-10" })]);
  run(timetableDecider, [...staff, rus5b, sub, slot({ validTo: "2026-10-04" })]);
});

it("folds a stream in one pass to what evolve gives event by event, without touching it", () => {
  const a = staff[0] as Extract<TimetableCommand, { kind: "AssignTeacher" }>;
  const { state, events } = run(timetableDecider, [
    ...staff,
    slot({}),
    { kind: "EndTimetableSlot", school, slotId: `slot-${slotNo}`, lastDay: "2026-10-31" },
    slot({ validFrom: "2026-11-01", teacherId: "t-rus", subjectId: "RUS" }),
    {
      kind: "AssignSubstitute",
      school,
      assignmentId: a.assignmentId,
      substituteId: "t-sub",
      substituteIsStaff: true,
      firstDay: "2026-10-05",
      lastDay: "2026-10-09",
    },
  ]);
  const copies = JSON.stringify(events);
  const folded = foldTimetable(events);
  expect(folded).toEqual(state);
  expect(folded.slots.size).toBe(2);
  expect(folded.substitutes).toHaveLength(1);
  expect(JSON.stringify(events)).toBe(copies);
});

it("evolve leaves the state it was given as it was", () => {
  const { state: before } = run(timetableDecider, [...staff]);
  const size = before.slots.size;
  const [e] = timetableDecider.decide(slot({}) as TimetableCommand, before);
  const after = timetableDecider.evolve(before, { ...e, version: 1 } as never);
  expect(after.slots.size).toBe(size + 1);
  expect(before.slots.size).toBe(size);
});

describe("an ended assignment", () => {
  const end = (assignmentId: string, lastDay = "2026-10-31"): TimetableCommand => ({
    kind: "EndTeacherAssignment",
    school,
    assignmentId,
    lastDay,
    lessons: [],
  });
  const idOf = (c: TimetableCommand) => (c as { assignmentId: string }).assignmentId;

  it("lends its substitution no day after its last day, even to a new assignment of the same teacher; a slot needs an open one or to end by the last day", () => {
    const a = assign("t-math", "MATH", "5a");
    const before = [
      a,
      slot({ validTo: "2026-10-31" }),
      {
        kind: "AssignSubstitute",
        school,
        assignmentId: idOf(a),
        substituteId: "t-sub",
        substituteIsStaff: true,
        firstDay: "2026-10-26",
        lastDay: "2026-11-06",
      },
      end(idOf(a)),
    ] as TimetableCommand[];
    const lateSlot = slot({ period: 2, validFrom: "2026-11-02" });
    expect(refusal([...before, lateSlot]).field).toBe("teacher_id");
    // A slot that ends by the last day still fits the ended assignment.
    run(timetableDecider, [...before, slot({ period: 3, validTo: "2026-10-31" })]);
    const again = { ...assign("t-math", "MATH", "5a"), assignmentId: "a-again" };
    const { state } = run(timetableDecider, [...before, again, lateSlot]);
    const [first, late] = [...state.slots.values()];
    if (!first || !late) throw new Error("no slots");
    expect(teacherOn(state, first, "2026-10-30")).toBe("t-sub");
    // Without the end, t-sub's substitution (to 6 November) would take the new slot's lesson.
    expect(teacherOn(state, late, "2026-11-02")).toBe("t-math");
  });

  it("is not held up by a slot that another open assignment of the teacher covers", () => {
    const whole = assign("t-en1", "ENG", "5a");
    const sub = assign("t-en1", "ENG", "5a", "en1");
    const base = [whole, sub, slot({ teacherId: "t-en1", subjectId: "ENG" }, "5a", "en1")];
    // The whole-class assignment keeps the subgroup's slot: the subgroup one may end.
    run(timetableDecider, [...base, end(idOf(sub))]);
    const err = refusal([...base, end(idOf(sub)), end(idOf(whole))]);
    expect([err.kind, err.field]).toEqual(["failed_precondition", "last_day"]);
    expect(err.message).toMatch(/^last_day: 1 timetable slot\(s\) of the assignment run past/);
  });
});
