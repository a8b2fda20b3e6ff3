import { DomainError } from "@otmetka/service-kit";
import { describe, expect, it } from "vitest";
import { replay, run } from "../test-support/replay.js";
import { type CalendarCommand, calendarDecider, schoolDays } from "./calendar.js";
import type { AcademicYearDefined } from "./events.js";
import { handOver, handoverClaims, handoversOf } from "./handover.js";
import { claimChanges, claimKey, claimRow, roomClaim, teacherClaim } from "./lesson-claims.js";
import { dayTerms, wantedLessons } from "./lesson-plan.js";
import {
  claimsToCheck,
  type Lesson,
  type LessonsCommand,
  type LessonsState,
  lessonIdOf,
  lessonsDecider,
  planGeneration,
} from "./lessons.js";
import { type TimetableCommand, timetableDecider } from "./timetable.js";

const school = { schoolId: "s1", municipalityId: "m1", startYear: 2026, closedOn: null };
const calendarState = run(calendarDecider, [
  {
    kind: "DefineAcademicYear",
    schoolId: "s1",
    municipalityId: "m1",
    startYear: 2026,
    daysPerWeek: 5,
  },
  {
    kind: "DefineTermSystem",
    schoolId: "s1",
    startYear: 2026,
    gradeLevels: [5],
    termKind: "TERM_KIND_HALF_YEAR",
    terms: [
      { number: 1, firstDay: "2026-09-01", lastDay: "2026-12-31" },
      { number: 2, firstDay: "2027-01-01", lastDay: "2027-05-31" },
    ],
  },
  {
    kind: "DeclareNonSchoolDays",
    schoolId: "s1",
    startYear: 2026,
    firstDay: "2026-10-26",
    lastDay: "2026-11-04",
    dayKind: "NON_SCHOOL_DAY_KIND_HOLIDAY",
    name: "Осенние каникулы",
  },
] satisfies CalendarCommand[]).state;
const days = schoolDays(calendarState, 5);
const target = {
  classGroupId: "5a",
  subgroupId: "",
  classGroup: {
    classGroupId: "5a",
    schoolId: "s1",
    startYear: 2026,
    gradeLevel: 5,
    letter: "А",
    closed: false,
  },
  subgroup: undefined,
};
const assign = (teacherId: string, subjectId: string): TimetableCommand => ({
  kind: "AssignTeacher",
  school,
  ...target,
  assignmentId: `a-${teacherId}`,
  teacherId,
  teacherIsStaff: true,
  subjectId,
  subjectKnown: true,
});
const slot = (
  slotId: string,
  weekday: number,
  period: number,
  teacherId: string,
  subjectId: string,
  validFrom = "",
  validTo = "",
): TimetableCommand => ({
  kind: "AddTimetableSlot",
  school,
  calendar: calendarState.year as AcademicYearDefined,
  ...target,
  slotId,
  weekday,
  period,
  teacherId,
  subjectId,
  room: "",
  validFrom,
  validTo,
});
/** The maths teacher's substitute (t-sub) from `firstDay` to `lastDay`. */
const substitute = (firstDay: string, lastDay: string): TimetableCommand => ({
  kind: "AssignSubstitute",
  school,
  assignmentId: "a-t-math",
  substituteId: "t-sub",
  substituteIsStaff: true,
  firstDay,
  lastDay,
});
const scope = {
  schoolId: "s1",
  municipalityId: "m1",
  academicYear: { startYear: 2026 },
  classGroupId: "5a",
};
const generate = (
  timetable: TimetableCommand[],
  from = "2026-09-01",
  to = "2027-05-31",
): LessonsCommand => ({
  kind: "GenerateLessons",
  scope,
  from,
  to,
  wanted: wantedLessons(run(timetableDecider, timetable).state, "5a", days),
});
const timetable = [
  assign("t-math", "MATH"),
  assign("t-rus", "RUS"),
  slot("mon1", 1, 1, "t-math", "MATH"),
  slot("wed2", 3, 2, "t-rus", "RUS"),
];

type GenerateCommand = Extract<LessonsCommand, { kind: "GenerateLessons" }>;

/** ConductLesson of a lesson by its scheduled teacher on `today`: a topic, no homework. */
const conductCommand = (lessonId: string, today: string): LessonsCommand => ({
  kind: "ConductLesson",
  lessonId,
  topic: "Дроби",
  workProgrammeItemId: "",
  homework: "",
  homeworkDue: "",
  conductedBy: "",
  conductedByIsStaff: true,
  today,
  nonSchoolDays: [],
});

function refusal(state: LessonsState, c: LessonsCommand): DomainError {
  try {
    lessonsDecider.decide(c, state);
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error("accepted");
}

describe("lesson generation", () => {
  it("schedules every slot on the term's school days, skipping weekends and holidays", () => {
    const { events } = run(lessonsDecider, [generate(timetable)]);
    const dates = events.map((e) => (e.data as { date: string }).date);
    expect(dates).toContain("2026-09-07");
    expect(dates).not.toContain("2026-10-26"); // Monday in the autumn holidays
    expect(dates).not.toContain("2026-10-28"); // Wednesday in the autumn holidays
    expect(dates.every((d) => d >= "2026-09-01" && d <= "2027-05-31")).toBe(true);
    const mondays = days.filter((d) => new Date(`${d.date}T00:00:00Z`).getUTCDay() === 1).length;
    const wednesdays = days.filter((d) => new Date(`${d.date}T00:00:00Z`).getUTCDay() === 3).length;
    expect(events.length).toBe(mondays + wednesdays);
    // 1 September 2026 is a Tuesday: the first lesson is Wednesday's Russian.
    expect(events[0]?.data).toMatchObject({
      ...scope,
      subjectId: "RUS",
      teacherId: "t-rus",
      date: "2026-09-02",
      period: 2,
      term: 1,
    });
    expect(events[1]?.data).toMatchObject({
      subjectId: "MATH",
      teacherId: "t-math",
      date: "2026-09-07",
      period: 1,
    });
  });

  it("regenerating the same timetable changes nothing", () => {
    const first = run(lessonsDecider, [generate(timetable)]);
    expect(lessonsDecider.decide(generate(timetable), first.state)).toEqual([]);
  });

  it("after a timetable change, unschedules the dropped lessons but keeps conducted, cancelled and moved ones", () => {
    const { state } = run(lessonsDecider, [generate(timetable)]);
    const conductedId = lessonIdOf("mon1", "2026-11-09");
    const cancelledId = lessonIdOf("mon1", "2026-11-16");
    const movedId = lessonIdOf("mon1", "2026-11-23");
    const worked = replay(
      lessonsDecider,
      [
        ...lessonsDecider.decide(conductCommand(conductedId, "2026-11-20"), state),
        ...lessonsDecider.decide(
          { kind: "CancelLesson", lessonId: cancelledId, reason: "Карантин" },
          state,
        ),
        ...lessonsDecider.decide(
          {
            kind: "MoveLesson",
            lessonId: movedId,
            toDate: "2026-11-24",
            toPeriod: 5,
            today: "2026-11-20",
            schoolDays: dayTerms(days),
          },
          state,
        ),
      ],
      state,
    );
    // Monday period 1 becomes Russian from 2026-11-01: the MATH slot ends, a RUS slot starts.
    const changed = [
      ...timetable,
      {
        kind: "EndTimetableSlot",
        school,
        slotId: "mon1",
        lastDay: "2026-10-31",
      } as TimetableCommand,
      slot("mon1b", 1, 1, "t-rus", "RUS", "2026-11-01"),
    ];
    const events = lessonsDecider.decide(generate(changed), worked);
    const after = replay(lessonsDecider, events, worked);
    const at = (date: string) =>
      [...after.lessons.values()].filter(
        (l) => l.date === date && l.period === 1 && l.status !== "unscheduled",
      );
    expect(at("2026-11-09").map((l) => [l.subjectId, l.status])).toEqual([["MATH", "conducted"]]);
    expect(after.lessons.get(cancelledId)?.status).toBe("cancelled");
    expect(after.lessons.get(movedId)).toMatchObject({
      status: "scheduled",
      date: "2026-11-24",
      period: 5,
    });
    expect(at("2026-11-30").map((l) => l.subjectId)).toEqual(["RUS"]);
    expect(after.lessons.get(lessonIdOf("mon1", "2026-12-07"))?.status).toBe("unscheduled");
    expect(after.lessons.get(lessonIdOf("mon1", "2026-10-19"))?.status).toBe("scheduled");
    // And once more: nothing.
    expect(lessonsDecider.decide(generate(changed), after)).toEqual([]);
  });

  it("a substitute's date range gives those lessons to the substitute", () => {
    const withSub = [...timetable, substitute("2026-09-14", "2026-09-18")];
    const { state } = run(lessonsDecider, [generate(withSub)]);
    expect(state.lessons.get(lessonIdOf("mon1", "2026-09-14"))?.teacherId).toBe("t-sub");
    expect(state.lessons.get(lessonIdOf("mon1", "2026-09-21"))?.teacherId).toBe("t-math");
  });
});

describe("lesson claims in generation", () => {
  const other = { lessonId: "other", classGroupId: "5b" };
  it("skips (and counts) a wanted lesson whose teacher another lesson holds in that period", () => {
    const held = new Map([[claimKey("2026-09-07", 1, teacherClaim("t-math")), other]]);
    const { events, skipped } = planGeneration(
      { ...(generate(timetable, "2026-09-01", "2026-09-13") as GenerateCommand), held },
      { lessons: new Map() },
    );
    expect(skipped).toBe(1);
    expect(events.map((e) => (e.data as { date: string }).date)).toEqual([
      "2026-09-02",
      "2026-09-09",
    ]);
    // Held by the lesson itself (a regeneration): not a conflict.
    const own = new Map([
      [
        claimKey("2026-09-07", 1, teacherClaim("t-math")),
        { lessonId: lessonIdOf("mon1", "2026-09-07"), classGroupId: "5a" },
      ],
    ]);
    const c = { ...(generate(timetable, "2026-09-01", "2026-09-13") as GenerateCommand) };
    expect(planGeneration({ ...c, held: own }, { lessons: new Map() }).skipped).toBe(0);
  });

  it("a claim freed in the same batch (a lesson unscheduled) can be taken again", () => {
    const { state } = run(lessonsDecider, [generate(timetable, "2026-09-01", "2026-09-13")]);
    // Monday's slot replaced by another slot of the same teacher in the same period.
    const replaced = [
      assign("t-math", "MATH"),
      assign("t-rus", "RUS"),
      slot("mon1", 1, 1, "t-math", "MATH", "2026-09-01", "2026-09-01"),
      slot("mon1b", 1, 1, "t-math", "MATH", "2026-09-02"),
      slot("wed2", 3, 2, "t-rus", "RUS"),
    ];
    const held = new Map([
      [
        claimKey("2026-09-07", 1, teacherClaim("t-math")),
        { lessonId: lessonIdOf("mon1", "2026-09-07"), classGroupId: "5a" },
      ],
    ]);
    const c = generate(replaced, "2026-09-01", "2026-09-13") as GenerateCommand;
    const { events, skipped } = planGeneration({ ...c, held }, state);
    expect(skipped).toBe(0);
    expect(events.map((e) => e.type)).toEqual([
      "curriculum.v1.LessonScheduled",
      "curriculum.v1.LessonUnscheduled",
    ]);
    // The table's rows follow: the old lesson's claim goes, the new one's comes.
    const change = claimChanges(state, events);
    expect(change?.removed.map((r) => [r.lessonId, r.date, r.period, r.teacherId])).toEqual([
      [lessonIdOf("mon1", "2026-09-07"), "2026-09-07", 1, "t-math"],
    ]);
    expect(change?.rows.map((r) => [r.lessonId, r.date, r.period, r.teacherId])).toEqual([
      [lessonIdOf("mon1b", "2026-09-07"), "2026-09-07", 1, "t-math"],
    ]);
  });

  it("skips a handover to a substitute busy in that period", () => {
    const { state } = run(lessonsDecider, [generate(timetable, "2026-09-01", "2026-09-20")]);
    const withSub = [...timetable, substitute("2026-09-07", "2026-09-18")];
    const held = new Map([[claimKey("2026-09-14", 1, teacherClaim("t-sub")), other]]);
    const c = generate(withSub, "2026-09-01", "2026-09-20") as GenerateCommand;
    const { events, skipped } = planGeneration({ ...c, held }, state);
    expect(skipped).toBe(1);
    expect(events.map((e) => (e.data as { date: string }).date)).toEqual(["2026-09-07"]);
  });
});

describe("the claims a generation checks", () => {
  const inRoom = [
    assign("t-math", "MATH"),
    { ...slot("mon1", 1, 1, "t-math", "MATH"), room: "12" } as TimetableCommand,
  ];
  const command = (c: LessonsCommand) => c as GenerateCommand;
  it("are the new lessons' teachers and rooms, and none when there is nothing to place", () => {
    const first = generate(inRoom, "2026-09-01", "2026-09-13");
    expect(claimsToCheck(command(first), { lessons: new Map() })).toEqual([
      { date: "2026-09-07", period: 1, claim: teacherClaim("t-math") },
      { date: "2026-09-07", period: 1, claim: roomClaim("12") },
    ]);
    const { state } = run(lessonsDecider, [first]);
    // A regeneration that changes nothing reads no claims.
    expect(claimsToCheck(command(first), state)).toEqual([]);
  });

  it("are the substitute's for a handover", () => {
    const { state } = run(lessonsDecider, [generate(inRoom, "2026-09-01", "2026-09-20")]);
    const withSub = [...inRoom, substitute("2026-09-14", "2026-09-18")];
    expect(claimsToCheck(command(generate(withSub, "2026-09-01", "2026-09-20")), state)).toEqual([
      { date: "2026-09-14", period: 1, claim: teacherClaim("t-sub") },
    ]);
  });
});

describe("lesson ids", () => {
  it("stay what earlier versions derived, so regenerating stored years never duplicates", () => {
    // Pinned: a change to the derivation would schedule every stored lesson a second time.
    expect(lessonIdOf("11111111-2222-4333-8444-555555555555", "2026-09-01")).toBe(
      "dfb4fe7d-4a8e-89e2-b281-a0df46feb15e",
    );
  });

  it("carry every scheduled fact into the loaded lesson", () => {
    const { state } = run(lessonsDecider, [generate(timetable)]);
    const lesson = state.lessons.get(lessonIdOf("mon1", "2026-09-07"));
    expect(lesson).toMatchObject({ slotId: "mon1", date: "2026-09-07", status: "scheduled" });
    expect(Object.keys(lesson ?? {}).sort()).toEqual(
      [
        "academicYear",
        "classGroupId",
        "date",
        "lessonId",
        "moved",
        "municipalityId",
        "period",
        "room",
        "schoolId",
        "slotId",
        "status",
        "subgroupId",
        "subjectId",
        "teacherId",
        "term",
      ].sort(),
    );
  });
});

describe("conduct, cancel, move", () => {
  const { state } = run(lessonsDecider, [generate(timetable)]);
  const id = lessonIdOf("mon1", "2026-09-07");
  const conduct = (
    over: Partial<Extract<LessonsCommand, { kind: "ConductLesson" }>> = {},
  ): LessonsCommand => ({
    kind: "ConductLesson",
    lessonId: id,
    topic: "Натуральные числа",
    workProgrammeItemId: "",
    homework: "№ 12, 15",
    homeworkDue: "2026-09-09",
    conductedBy: "",
    conductedByIsStaff: true,
    today: "2026-09-07",
    nonSchoolDays: [],
    ...over,
  });
  type MoveCommand = Extract<LessonsCommand, { kind: "MoveLesson" }>;
  const moveTo = (
    toDate: string,
    toPeriod: number,
    over: Partial<MoveCommand> = {},
  ): MoveCommand => ({
    kind: "MoveLesson",
    lessonId: id,
    toDate,
    toPeriod,
    today: "2026-09-07",
    schoolDays: dayTerms(days),
    ...over,
  });
  it("conducts a lesson with topic and homework, by the scheduled teacher unless told", () => {
    const [e] = lessonsDecider.decide(conduct(), state);
    expect(e?.data).toMatchObject({
      lessonId: id,
      topic: "Натуральные числа",
      homeworkDue: "2026-09-09",
      conductedBy: "t-math",
      date: "2026-09-07",
      subjectId: "MATH",
    });
    expect(lessonsDecider.decide(conduct({ conductedBy: "t-sub" }), state)[0]?.data).toMatchObject({
      conductedBy: "t-sub",
    });
  });
  it("refuses future lessons, empty topics, bad homework dates, unknown lessons and staff", () => {
    expect(refusal(state, conduct({ today: "2026-09-06" })).message).toBe(
      `lesson_id: lesson ${id} is on 2026-09-07, after today 2026-09-06`,
    );
    expect(refusal(state, conduct({ topic: " " })).field).toBe("topic");
    expect(refusal(state, conduct({ homeworkDue: "2026-09-07" })).field).toBe("homework_due");
    expect(refusal(state, conduct({ lessonId: "nope" })).kind).toBe("not_found");
    expect(refusal(state, conduct({ conductedBy: "x", conductedByIsStaff: false })).field).toBe(
      "conducted_by",
    );
  });
  it("refuses a lesson on a day declared non-school after it was scheduled", () => {
    const autumn = {
      schoolId: "s",
      municipalityId: "m",
      academicYear: { startYear: 2026 },
      firstDay: "2026-09-07",
      lastDay: "2026-09-08",
      kind: "NON_SCHOOL_DAY_KIND_DAY_OFF" as const,
      name: "Выходной",
    };
    const err = refusal(state, conduct({ nonSchoolDays: [autumn] }));
    expect([err.kind, err.message]).toEqual([
      "failed_precondition",
      `lesson_id: lesson ${id} is on 2026-09-07, a non-school day ("Выходной", 2026-09-07 - 2026-09-08)`,
    ]);
  });
  it("takes a work-programme item only from the approved programme in force", () => {
    const items = new Set(["v2.1", "v2.2"]);
    expect(
      lessonsDecider.decide(
        conduct({ workProgrammeItemId: "v2.2", programmeItemIds: items }),
        state,
      )[0]?.data,
    ).toMatchObject({ workProgrammeItemId: "v2.2" });
    const old = refusal(state, conduct({ workProgrammeItemId: "v1.1", programmeItemIds: items }));
    expect([old.kind, old.message]).toEqual([
      "not_found",
      "work_programme_item_id: no item of the approved MATH work programme v1.1",
    ]);
    const none = refusal(state, conduct({ workProgrammeItemId: "v1.1" }));
    expect([none.kind, none.message]).toEqual([
      "failed_precondition",
      "work_programme_item_id: MATH has no approved work programme for this class group's grade",
    ]);
  });
  it("never cancels a conducted lesson nor conducts a cancelled one", () => {
    const conducted = replay(lessonsDecider, lessonsDecider.decide(conduct(), state), state);
    expect(refusal(conducted, { kind: "CancelLesson", lessonId: id, reason: "x" }).message).toMatch(
      /already conducted/,
    );
    const cancelled = replay(
      lessonsDecider,
      lessonsDecider.decide({ kind: "CancelLesson", lessonId: id, reason: "Гололёд" }, state),
      state,
    );
    expect(refusal(cancelled, conduct()).message).toBe(`lesson_id: lesson ${id} was cancelled`);
    expect(refusal(state, { kind: "CancelLesson", lessonId: id, reason: "" }).field).toBe("reason");
  });
  it("refuses a move into a period the lesson's room is taken, in its class group or another", () => {
    const w = (slotId: string, date: string, period: number, subgroupId: string) => ({
      slotId,
      date,
      term: 1,
      period,
      subgroupId,
      subjectId: "ENG",
      teacherId: `t-${subgroupId}`,
      room: "12",
    });
    const roomed = run(lessonsDecider, [
      {
        kind: "GenerateLessons",
        scope,
        from: "2026-09-01",
        to: "2026-09-30",
        wanted: [w("g2", "2026-09-07", 1, "g2"), w("g1", "2026-09-08", 2, "g1")],
      },
    ]).state;
    const lessonId = lessonIdOf("g2", "2026-09-07");
    const move = (toPeriod: number): LessonsCommand => ({
      kind: "MoveLesson",
      lessonId,
      toDate: "2026-09-08",
      toPeriod,
      today: "2026-09-07",
      schoolDays: dayTerms(days),
    });
    // Two subgroups may meet at once, but not in one room.
    expect(refusal(roomed, move(2)).message).toBe(
      `to_period: room 12 is taken by lesson ${lessonIdOf("g1", "2026-09-08")} (class group 5a) on 2026-09-08 period 2`,
    );
    const other = (status: "scheduled" | "cancelled") => ({
      lessonId: "x",
      period: 4,
      classGroupId: "5b",
      status,
      room: "12",
    });
    const c = { ...move(4), roomElsewhere: [other("scheduled")] } as LessonsCommand;
    expect(refusal(roomed, c).message).toBe(
      "to_period: room 12 is taken by lesson x (class group 5b) on 2026-09-08 period 4",
    );
    const free = { ...move(4), roomElsewhere: [other("cancelled")] } as LessonsCommand;
    expect(lessonsDecider.decide(free, roomed)).toHaveLength(1);
  });
  it("refuses a move into a period the teacher teaches in another class group", () => {
    const elsewhere = [
      { lessonId: "other", period: 4, classGroupId: "5b", status: "scheduled" as const },
    ];
    const c = moveTo("2026-09-08", 4, { teacherElsewhere: elsewhere });
    expect(refusal(state, c).message).toBe(
      "to_period: teacher t-math already teaches lesson other (class group 5b) on 2026-09-08 period 4",
    );
    expect(lessonsDecider.decide({ ...c, toPeriod: 5 }, state)).toHaveLength(1);
    const cancelled = [
      { lessonId: "other", period: 4, classGroupId: "5b", status: "cancelled" as const },
    ];
    expect(lessonsDecider.decide({ ...c, teacherElsewhere: cancelled }, state)).toHaveLength(1);
  });
  it("a move to a date a substitute covers hands the lesson to them", () => {
    const c = moveTo("2026-09-08", 4, {
      teacherId: "t-sub",
      teacherElsewhere: [{ lessonId: "x", period: 4, classGroupId: "5a", status: "scheduled" }],
    });
    // Busy in the same class group too (another subgroup's lesson): refused, naming them.
    expect(refusal(state, c).message).toBe(
      "to_period: teacher t-sub already teaches lesson x (class group 5a) on 2026-09-08 period 4",
    );
    const events = lessonsDecider.decide({ ...c, teacherElsewhere: [] }, state);
    expect(events.map((e) => e.type)).toEqual([
      "curriculum.v1.LessonMoved",
      "curriculum.v1.LessonTeacherChanged",
    ]);
    const after = replay(lessonsDecider, events, state).lessons.get(id);
    expect(after).toMatchObject({ date: "2026-09-08", period: 4, teacherId: "t-sub" });
    expect(claimRow(after as Lesson)).toMatchObject({ teacherId: "t-sub", room: "" });
  });
  it("moves only to a free period of a school day", () => {
    expect(refusal(state, moveTo("2026-09-12", 3)).message).toBe(
      "to_date: 2026-09-12 is not a school day for this class group",
    );
    expect(refusal(state, moveTo("2026-10-27", 3)).field).toBe("to_date");
    expect(refusal(state, moveTo("2026-09-09", 2)).message).toMatch(
      /^to_period: the class group already has lesson .* \(RUS\) on 2026-09-09 period 2$/,
    );
    expect(lessonsDecider.decide(moveTo("2026-09-08", 3), state)[0]?.data).toMatchObject({
      date: "2026-09-07",
      period: 1,
      toDate: "2026-09-08",
      toPeriod: 3,
      toTerm: 1,
    });
  });
  it("does not move a lesson into a day before today; today is fine", () => {
    const past = refusal(state, moveTo("2026-09-08", 3, { today: "2026-09-09" }));
    expect([past.kind, past.field, past.message]).toEqual([
      "failed_precondition",
      "to_date",
      "to_date: 2026-09-08 is before today 2026-09-09; a lesson moves to today or later",
    ]);
    expect(
      lessonsDecider.decide(moveTo("2026-09-08", 3, { today: "2026-09-08" }), state),
    ).toHaveLength(1);
  });
});

describe("handover to a substitute (AssignSubstitute)", () => {
  const before = run(timetableDecider, timetable).state;
  const after = run(timetableDecider, [...timetable, substitute("2026-09-07", "2026-09-16")]).state;
  const generated = run(lessonsDecider, [generate(timetable, "2026-09-01", "2026-09-30")]).state;
  const mondays = (s: LessonsState) =>
    [...s.lessons.values()].filter((l) => l.subjectId === "MATH").map((l) => l.lessonId);
  const [, first] = mondays(generated); // 14 September (the 7th is conducted below)
  const state = replay(
    lessonsDecider,
    lessonsDecider.decide(
      conductCommand(lessonIdOf("mon1", "2026-09-07"), "2026-09-07"),
      generated,
    ),
    generated,
  );

  it("gives the substitute the covered lessons still scheduled; conducted ones and other subjects stay", () => {
    const handovers = handoversOf(before, after, state);
    expect(handovers.map((h) => [h.lesson.date, h.lesson.subjectId, h.teacherId])).toEqual([
      ["2026-09-14", "MATH", "t-sub"],
    ]);
    expect(handoverClaims(handovers)).toEqual([
      { date: "2026-09-14", period: 1, claim: teacherClaim("t-sub") },
    ]);
    const events = handOver(handovers, new Map(), "substitute_id");
    expect(events.map((e) => [e.type, e.data])).toEqual([
      [
        "curriculum.v1.LessonTeacherChanged",
        expect.objectContaining({
          lessonId: first,
          teacherId: "t-math",
          newTeacherId: "t-sub",
          date: "2026-09-14",
          period: 1,
        }),
      ],
    ]);
    // Handed over, it is nobody's handover any more.
    expect(handoversOf(before, after, replay(lessonsDecider, events, state))).toEqual([]);
  });

  it("refuses them all, naming the lesson holding the substitute in that period", () => {
    const held = new Map([
      [claimKey("2026-09-14", 1, teacherClaim("t-sub")), { lessonId: "x", classGroupId: "5b" }],
    ]);
    let err: unknown;
    try {
      handOver(handoversOf(before, after, state), held, "substitute_id");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).message).toBe(
      `substitute_id: teacher t-sub already teaches lesson x (class group 5b) on 2026-09-14 period 1, when they would take lesson ${first} (MATH, class group 5a)`,
    );
  });
});
