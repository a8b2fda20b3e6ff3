import type { Decider, NewEvent, RecordedEvent } from "@otmetka/eventstore";
import {
  academicYearDays,
  addDays,
  type CivilDate,
  civilDate,
  eachDay,
  formatAcademicYear,
  isoWeekday,
  isTimeZone,
  quoteInput,
} from "@otmetka/service-kit";
import { invalidInput, refused } from "./errors.js";
import {
  type AcademicYearDefined,
  eventName,
  type GradeWeekLengthSet,
  type NonSchoolDayKind,
  type NonSchoolDaysDeclared,
  newEvent,
  type TermDates,
  type TermKind,
  type TermSystemDefined,
  type TimetableSlotAdded,
} from "./events.js";
import { MAX_WEEKLY_LOAD } from "./study-plan.js";
import { checkText, TEXT_LIMITS } from "./text.js";
import {
  FIRST_GRADE_RULE,
  type GradeLesson,
  gradeDaysPerWeek,
  requireNoSaturdayLessons,
} from "./week-length.js";

/** One school's calendar for one academic year: lesson days, term systems, non-school days. */
export const calendarStreamId = (schoolId: string, startYear: number) =>
  `calendar-${schoolId}-${startYear}`;

export const DEFAULT_TIME_ZONE = "Asia/Yekaterinburg";
export const TERM_COUNT: Record<TermKind, number> = {
  TERM_KIND_QUARTER: 4,
  TERM_KIND_TRIMESTER: 3,
  TERM_KIND_HALF_YEAR: 2,
};
const NON_SCHOOL_DAY_KINDS: readonly NonSchoolDayKind[] = [
  "NON_SCHOOL_DAY_KIND_HOLIDAY",
  "NON_SCHOOL_DAY_KIND_DAY_OFF",
];

export interface CalendarState {
  year: AcademicYearDefined | undefined;
  /** The term system in force per grade level (a later definition replaces an earlier one). */
  termSystems: Map<number, TermSystemDefined>;
  nonSchoolDays: NonSchoolDaysDeclared[];
  /** Week lengths set per grade level (SetGradeWeekLength); see gradeDaysPerWeek for the rest. */
  weekLengths: Map<number, number>;
}

export type CalendarCommand =
  | {
      kind: "DefineAcademicYear";
      schoolId: string;
      municipalityId: string;
      startYear: number;
      firstDay?: string;
      lastDay?: string;
      daysPerWeek: number;
      timeZone?: string;
    }
  | {
      kind: "DefineTermSystem";
      schoolId: string;
      startYear: number;
      gradeLevels: number[];
      termKind: string;
      terms: TermDates[];
    }
  | {
      kind: "DeclareNonSchoolDays";
      schoolId: string;
      startYear: number;
      firstDay: string;
      lastDay: string;
      dayKind: string;
      name: string;
    }
  | {
      kind: "SetGradeWeekLength";
      schoolId: string;
      startYear: number;
      gradeLevels: number[];
      daysPerWeek: number;
      /** The school's timetable slots and study plan hours of the year, read with the calendar. */
      slots: readonly TimetableSlotAdded[];
      plannedHours: readonly { gradeLevel: number; hoursPerWeek: number }[];
      /** Going to five days: the lessons of the grade levels' class groups (from their streams). */
      lessons: readonly GradeLesson[];
      /** Today in the school's zone: a Saturday lesson before it has taken place. */
      today: CivilDate;
    };

export const calendarDecider: Decider<CalendarState, CalendarCommand> = {
  initialState: () => ({
    year: undefined,
    termSystems: new Map(),
    nonSchoolDays: [],
    weekLengths: new Map(),
  }),
  evolve(state, event: RecordedEvent) {
    switch (eventName(event.type)) {
      case "AcademicYearDefined":
        return { ...state, year: event.data as AcademicYearDefined };
      case "TermSystemDefined": {
        const system = event.data as TermSystemDefined;
        const termSystems = new Map(state.termSystems);
        for (const g of system.gradeLevels) termSystems.set(g, system);
        return { ...state, termSystems };
      }
      case "GradeWeekLengthSet": {
        const set = event.data as GradeWeekLengthSet;
        const weekLengths = new Map(state.weekLengths);
        for (const g of set.gradeLevels) weekLengths.set(g, set.daysPerWeek);
        return { ...state, weekLengths };
      }
      case "NonSchoolDaysDeclared":
        return {
          ...state,
          nonSchoolDays: [...state.nonSchoolDays, event.data as NonSchoolDaysDeclared],
        };
      default:
        return state;
    }
  },
  decide(command, state): NewEvent[] {
    switch (command.kind) {
      case "DefineAcademicYear":
        return [defineYear(command, state)];
      case "DefineTermSystem":
        return [defineTerms(command, requireYear(state))];
      case "DeclareNonSchoolDays":
        return [declareDays(command, requireYear(state), state)];
      case "SetGradeWeekLength":
        return [setWeekLength(command, requireYear(state))];
    }
  },
};

function defineYear(
  c: Extract<CalendarCommand, { kind: "DefineAcademicYear" }>,
  state: CalendarState,
) {
  if (state.year)
    throw refused(
      "academic_year",
      `${formatAcademicYear(c.startYear)} is already defined for this school`,
    );
  const { firstDay: academicStart, lastDay: academicEnd } = academicYearDays(c.startYear);
  const firstDay = civilDate("first_day", c.firstDay || academicStart);
  const lastDay = civilDate("last_day", c.lastDay || `${c.startYear + 1}-05-31`);
  if (firstDay < academicStart || firstDay > academicEnd) {
    throw invalidInput(
      "first_day",
      `must fall in the academic year (${academicStart} - ${academicEnd})`,
    );
  }
  if (lastDay <= firstDay || lastDay > academicEnd) {
    throw invalidInput(
      "last_day",
      `must follow first_day and fall in the academic year (up to ${academicEnd})`,
    );
  }
  if (c.daysPerWeek !== 5 && c.daysPerWeek !== 6) {
    throw invalidInput("days_per_week", `must be 5 or 6, got ${c.daysPerWeek}`);
  }
  const timeZone = c.timeZone || DEFAULT_TIME_ZONE;
  if (!isTimeZone(timeZone))
    throw invalidInput("time_zone", `must be an IANA time zone, got ${quoteInput(timeZone)}`);
  return newEvent("AcademicYearDefined", {
    schoolId: c.schoolId,
    municipalityId: c.municipalityId,
    academicYear: { startYear: c.startYear },
    firstDay,
    lastDay,
    daysPerWeek: c.daysPerWeek,
    timeZone,
  });
}

function requireYear(state: CalendarState): AcademicYearDefined {
  if (!state.year)
    throw refused("academic_year", "is not defined for this school yet (DefineAcademicYear first)");
  return state.year;
}

function defineTerms(
  c: Extract<CalendarCommand, { kind: "DefineTermSystem" }>,
  year: AcademicYearDefined,
) {
  checkGradeLevels(c.gradeLevels);
  if (!(c.termKind in TERM_COUNT)) {
    throw invalidInput(
      "kind",
      "must be TERM_KIND_QUARTER, TERM_KIND_TRIMESTER or TERM_KIND_HALF_YEAR",
    );
  }
  const kind = c.termKind as TermKind;
  const count = TERM_COUNT[kind];
  if (c.terms.length !== count)
    throw invalidInput("terms", `${kind} needs ${count} terms, got ${c.terms.length}`);
  // Sorted by number, each keeps its index in the request (`at`) for the field a refusal names.
  const given = c.terms
    .map((t, at) => ({
      at,
      number: t.number,
      firstDay: civilDate(`terms[${at}].first_day`, t.firstDay),
      lastDay: civilDate(`terms[${at}].last_day`, t.lastDay),
    }))
    .sort((a, b) => a.number - b.number);
  given.forEach((t, i) => {
    if (t.number !== i + 1) throw invalidInput("terms", `must be numbered 1-${count} once each`);
    if (t.lastDay < t.firstDay)
      throw invalidInput(`terms[${t.at}].last_day`, `term ${t.number} ends before it starts`);
  });
  const terms: TermDates[] = given.map(({ number, firstDay, lastDay }) => ({
    number,
    firstDay,
    lastDay,
  }));
  // The terms tile the school year: the first starts on its first day, each next one the day
  // after the previous ends, the last ends on its last day.
  const first = terms[0] as TermDates;
  const last = terms[terms.length - 1] as TermDates;
  if (first.firstDay !== year.firstDay) {
    throw refused(
      "terms",
      `term 1 must start on the school year's first day ${year.firstDay}, not ${first.firstDay}`,
    );
  }
  for (let i = 1; i < terms.length; i++) {
    const prev = terms[i - 1] as TermDates;
    const t = terms[i] as TermDates;
    if (t.firstDay <= prev.lastDay) {
      throw refused(
        "terms",
        `term ${t.number} (from ${t.firstDay}) overlaps term ${prev.number} (to ${prev.lastDay})`,
      );
    }
    if (t.firstDay !== addDays(prev.lastDay, 1)) {
      throw refused(
        "terms",
        `gap between term ${prev.number} (to ${prev.lastDay}) and term ${t.number} (from ${t.firstDay}); declare holidays as non-school days instead`,
      );
    }
  }
  if (last.lastDay !== year.lastDay) {
    throw refused(
      "terms",
      `term ${last.number} must end on the school year's last day ${year.lastDay}, not ${last.lastDay}`,
    );
  }
  return newEvent("TermSystemDefined", {
    schoolId: year.schoolId,
    municipalityId: year.municipalityId,
    academicYear: year.academicYear,
    gradeLevels: [...c.gradeLevels].sort((a, b) => a - b),
    kind,
    terms,
  });
}

function checkGradeLevels(gradeLevels: number[]) {
  if (gradeLevels.length === 0)
    throw invalidInput("grade_levels", "must name at least one grade level");
  for (const g of gradeLevels) {
    if (!Number.isInteger(g) || g < 1 || g > 11)
      throw invalidInput("grade_levels", `must be 1-11, got ${g}`);
  }
  if (new Set(gradeLevels).size !== gradeLevels.length) {
    throw invalidInput("grade_levels", "must not repeat a grade level");
  }
}

function setWeekLength(
  c: Extract<CalendarCommand, { kind: "SetGradeWeekLength" }>,
  year: AcademicYearDefined,
) {
  checkGradeLevels(c.gradeLevels);
  if (c.daysPerWeek !== 5 && c.daysPerWeek !== 6) {
    throw invalidInput("days_per_week", `must be 5 or 6, got ${c.daysPerWeek}`);
  }
  if (c.daysPerWeek === 6 && c.gradeLevels.includes(1)) {
    throw invalidInput("days_per_week", `grade 1 always has a 5-day week (${FIRST_GRADE_RULE})`);
  }
  if (c.daysPerWeek === 5) {
    // Refused rather than ending the slots: ending them would silently drop lessons the school
    // planned; the admin ends or moves them (EndTimetableSlot) and sets the week again.
    const saturday = c.slots.filter(
      (s) => s.weekday > 5 && c.gradeLevels.includes(s.gradeLevel) && s.validFrom <= s.validTo,
    );
    if (saturday.length > 0) {
      const named = saturday
        .slice(0, 5)
        .map(
          (s) =>
            `slot ${s.slotId} (grade ${s.gradeLevel}, class group ${s.classGroupId}, period ${s.period}, ${s.validFrom} - ${s.validTo})`,
        )
        .join(", ");
      const more = saturday.length > 5 ? ` and ${saturday.length - 5} more` : "";
      throw refused(
        "days_per_week",
        `a 5-day week has no Saturday, but these Saturday slots exist: ${named}${more}; end them first (EndTimetableSlot)`,
      );
    }
    requireNoSaturdayLessons(c.lessons, c.gradeLevels, c.today);
    for (const g of [...c.gradeLevels].sort((a, b) => a - b)) {
      const planned = c.plannedHours
        .filter((h) => h.gradeLevel === g)
        .reduce((n, h) => n + h.hoursPerWeek, 0);
      const max = MAX_WEEKLY_LOAD[5][g - 1] as number;
      if (planned > max) {
        throw refused(
          "days_per_week",
          `grade ${g}'s study plan has ${planned} lessons a week, more than the ${max} allowed on a 5-day week; lower it first (SetStudyPlanHours)`,
        );
      }
    }
  }
  return newEvent("GradeWeekLengthSet", {
    schoolId: year.schoolId,
    municipalityId: year.municipalityId,
    academicYear: year.academicYear,
    gradeLevels: [...c.gradeLevels].sort((a, b) => a - b),
    daysPerWeek: c.daysPerWeek,
  });
}

function declareDays(
  c: Extract<CalendarCommand, { kind: "DeclareNonSchoolDays" }>,
  year: AcademicYearDefined,
  state: CalendarState,
) {
  const firstDay = civilDate("first_day", c.firstDay);
  const lastDay = civilDate("last_day", c.lastDay);
  if (lastDay < firstDay) throw invalidInput("last_day", "must not precede first_day");
  // The date outside is the field named (last_day too, which was reported as first_day).
  for (const [field, day] of [
    ["first_day", firstDay],
    ["last_day", lastDay],
  ] as const) {
    if (day < year.firstDay || day > year.lastDay)
      throw refused(
        field,
        `days must lie inside the school year ${year.firstDay} - ${year.lastDay}, got ${day}`,
      );
  }
  if (!NON_SCHOOL_DAY_KINDS.includes(c.dayKind as NonSchoolDayKind)) {
    throw invalidInput(
      "kind",
      "must be NON_SCHOOL_DAY_KIND_HOLIDAY or NON_SCHOOL_DAY_KIND_DAY_OFF",
    );
  }
  const name = checkText("name", c.name, { max: TEXT_LIMITS.name });
  const clash = state.nonSchoolDays.find((d) => d.firstDay <= lastDay && firstDay <= d.lastDay);
  if (clash) {
    throw refused("first_day", `overlaps "${clash.name}" (${clash.firstDay} - ${clash.lastDay})`);
  }
  return newEvent("NonSchoolDaysDeclared", {
    schoolId: year.schoolId,
    municipalityId: year.municipalityId,
    academicYear: year.academicYear,
    firstDay,
    lastDay,
    kind: c.dayKind as NonSchoolDayKind,
    name,
  });
}

/** The declaration that makes `date` a non-school day, if any. */
export const nonSchoolDayOn = (
  days: readonly NonSchoolDaysDeclared[],
  date: CivilDate,
): NonSchoolDaysDeclared | undefined => days.find((d) => d.firstDay <= date && date <= d.lastDay);

export interface SchoolDay {
  date: CivilDate;
  term: number;
}

/**
 * The days a grade level has lessons: inside a term of its system, on a weekday of the grade
 * level's week (Mon-Fri or Mon-Sat, gradeDaysPerWeek), and not a declared non-school day.
 */
export function schoolDays(state: CalendarState, gradeLevel: number): SchoolDay[] {
  const year = requireYear(state);
  const system = state.termSystems.get(gradeLevel);
  if (!system)
    throw refused(
      "grade_level",
      `grade ${gradeLevel} has no term system in ${year.academicYear.startYear}`,
    );
  const week = gradeDaysPerWeek(year, state.weekLengths, gradeLevel);
  const days: SchoolDay[] = [];
  for (const term of system.terms) {
    for (const date of eachDay(term.firstDay, term.lastDay)) {
      if (isoWeekday(date) > week) continue;
      if (nonSchoolDayOn(state.nonSchoolDays, date)) continue;
      days.push({ date, term: term.number });
    }
  }
  return days;
}
