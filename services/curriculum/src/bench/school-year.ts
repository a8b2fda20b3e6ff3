/*
 * A school year for benchmarks (tests/bench/src/curriculum.ts): a school with N class groups,
 * its calendar, subjects, assignments and a full weekly timetable, built with the real
 * deciders (every rule checked) and appended in one go; identity's facts come from memory.
 */
import { randomUUID } from "node:crypto";
import type { EventStore, NewEvent } from "@otmetka/eventstore";
import { manualClock } from "@otmetka/service-kit";
import type { CurriculumDeps } from "../commands/deps.js";
import { type CalendarCommand, calendarDecider, calendarStreamId } from "../domain/calendar.js";
import type { AcademicYearDefined } from "../domain/events.js";
import { catalogueDecider, REGIONAL_CATALOGUE } from "../domain/subject-catalogue.js";
import { type TimetableCommand, timetableDecider, timetableStreamId } from "../domain/timetable.js";
import type { ClassGroupFact, IdentityFactsReader } from "../projections/identity-facts-queries.js";

export { generateLessons } from "../commands/lessons.js";
export { openCurriculumDatabase } from "../db/open-database.js";

const SUBJECTS = ["RUS", "LIT", "MATH", "ENG", "HIST", "BIO", "PHYS", "PE"];
const LETTERS = ["А", "Б", "В"];

/** Decides commands in order with a decider, returning every event (throws on a refusal). */
function decideAll<S, C>(
  d: { initialState(): S; evolve(s: S, e: never): S; decide(c: C, s: S): NewEvent[] },
  commands: C[],
) {
  let state = d.initialState();
  const events: NewEvent[] = [];
  for (const c of commands) {
    const decided = d.decide(c, state);
    for (const e of decided) state = d.evolve(state, { ...e, version: 0 } as never);
    events.push(...decided);
  }
  return events;
}

export interface BenchSchool {
  schoolId: string;
  deps: CurriculumDeps;
  classGroups: number;
  slots: number;
}

/**
 * A school with `classGroups` class groups (grades 1-11 in turn), six lessons a day on a
 * five-day week, quarters, autumn/winter/spring holidays and public days off.
 */
export async function setUpBenchSchool(
  store: EventStore,
  classGroups = 30,
  startYear = 2026,
): Promise<BenchSchool> {
  const schoolId = randomUUID();
  const municipalityId = randomUUID();
  const groups: ClassGroupFact[] = Array.from({ length: classGroups }, (_, i) => ({
    classGroupId: randomUUID(),
    schoolId,
    startYear,
    gradeLevel: (i % 11) + 1,
    letter: LETTERS[Math.floor(i / 11)] ?? "Г",
    closed: false,
  }));
  const teacher = new Map<string, string>();
  const teacherOf = (g: ClassGroupFact, subject: string) => {
    const key = `${g.classGroupId}|${subject}`;
    if (!teacher.has(key)) teacher.set(key, randomUUID());
    return teacher.get(key) as string;
  };
  for (const g of groups) for (const s of SUBJECTS) teacherOf(g, s);
  const staff = new Set(teacher.values());
  const facts: IdentityFactsReader = {
    school: async (id) =>
      id === schoolId
        ? { schoolId, municipalityId, timeZone: "Asia/Yekaterinburg", closedOn: null }
        : undefined,
    isStaff: async (id, person) => id === schoolId && staff.has(person),
    classGroup: async (id) => groups.find((g) => g.classGroupId === id),
    subgroup: async () => undefined,
    classGroupsOf: async (id) => (id === schoolId ? groups : []),
    enrolmentPeriods: async () => [],
    everEnrolledIn: async () => false,
    wardsOf: async () => [],
  };
  const y = `${startYear}`;
  const n = `${startYear + 1}`;
  const calendarCommands: CalendarCommand[] = [
    { kind: "DefineAcademicYear", schoolId, municipalityId, startYear, daysPerWeek: 5 },
    {
      kind: "DefineTermSystem",
      schoolId,
      startYear,
      gradeLevels: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
      termKind: "TERM_KIND_QUARTER",
      terms: [
        { number: 1, firstDay: `${y}-09-01`, lastDay: `${y}-10-31` },
        { number: 2, firstDay: `${y}-11-01`, lastDay: `${y}-12-31` },
        { number: 3, firstDay: `${n}-01-01`, lastDay: `${n}-03-31` },
        { number: 4, firstDay: `${n}-04-01`, lastDay: `${n}-05-31` },
      ],
    },
    ...(
      [
        [`${y}-10-26`, `${y}-11-04`, "Осенние каникулы"],
        [`${y}-12-29`, `${n}-01-11`, "Зимние каникулы"],
        [`${n}-02-23`, `${n}-02-23`, "День защитника Отечества"],
        [`${n}-03-08`, `${n}-03-08`, "Международный женский день"],
        [`${n}-03-23`, `${n}-03-31`, "Весенние каникулы"],
        [`${n}-05-01`, `${n}-05-01`, "Праздник весны и труда"],
        [`${n}-05-10`, `${n}-05-10`, "День Победы (перенос)"],
      ] as const
    ).map(
      ([firstDay, lastDay, name]): CalendarCommand => ({
        kind: "DeclareNonSchoolDays",
        schoolId,
        startYear,
        firstDay,
        lastDay,
        dayKind: "NON_SCHOOL_DAY_KIND_HOLIDAY",
        name,
      }),
    ),
  ];
  const calendarEvents = decideAll(calendarDecider, calendarCommands);
  const year = calendarEvents[0]?.data as AcademicYearDefined;
  const subjectEvents = decideAll(
    catalogueDecider,
    SUBJECTS.map((code) => ({
      schoolId: "",
      municipalityId: "",
      code,
      name: `Предмет ${code}`,
      grading: "GRADING_FIVE_POINT",
    })),
  );
  const school = { schoolId, municipalityId, startYear, closedOn: null };
  const timetable: TimetableCommand[] = [];
  for (const g of groups) {
    const target = {
      classGroupId: g.classGroupId,
      subgroupId: "",
      classGroup: g,
      subgroup: undefined,
    };
    for (const subjectId of SUBJECTS) {
      timetable.push({
        kind: "AssignTeacher",
        school,
        ...target,
        assignmentId: randomUUID(),
        teacherId: teacherOf(g, subjectId),
        teacherIsStaff: true,
        subjectId,
        subjectKnown: true,
      });
    }
    for (let weekday = 1; weekday <= 5; weekday++) {
      for (let period = 1; period <= 6; period++) {
        const subjectId = SUBJECTS[(weekday * 7 + period) % SUBJECTS.length] as string;
        timetable.push({
          kind: "AddTimetableSlot",
          school,
          calendar: year,
          ...target,
          slotId: randomUUID(),
          weekday,
          period,
          subjectId,
          teacherId: teacherOf(g, subjectId),
          room: "",
          validFrom: "",
          validTo: "",
        });
      }
    }
  }
  const timetableEvents = decideAll(timetableDecider, timetable);
  const existingRegional = await store.streamVersion(REGIONAL_CATALOGUE);
  await store.appendMany([
    {
      streamId: calendarStreamId(schoolId, startYear),
      expected: "no_stream",
      events: calendarEvents,
    },
    ...(existingRegional === 0
      ? [{ streamId: REGIONAL_CATALOGUE, expected: "no_stream" as const, events: subjectEvents }]
      : []),
    {
      streamId: timetableStreamId(schoolId, startYear),
      expected: "no_stream",
      events: timetableEvents,
    },
  ]);
  return {
    schoolId,
    deps: { store, clock: manualClock(`${y}-09-01T03:00:00Z`), facts },
    classGroups,
    slots: classGroups * 30,
  };
}
