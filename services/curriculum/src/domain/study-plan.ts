import type { Decider, NewEvent, RecordedEvent } from "@otmetka/eventstore";
import { invalidInput, notFound, refused } from "./errors.js";
import { type AcademicYearDefined, eventName, newEvent, type StudyPlanHoursSet } from "./events.js";
import { gradeDaysPerWeek, weekLengthReason } from "./week-length.js";

/** A school's study plan (учебный план) for a year: weekly hours per subject per grade level. */
export const studyPlanStreamId = (schoolId: string, startYear: number) =>
  `studyplan-${schoolId}-${startYear}`;

/**
 * Most lessons a week per grade level 1-11 (the sanitary rules' maximum weekly load), for a
 * five- and a six-day week.
 */
export const MAX_WEEKLY_LOAD: Record<5 | 6, readonly number[]> = {
  5: [21, 23, 23, 23, 29, 30, 32, 33, 33, 34, 34],
  6: [21, 26, 26, 26, 32, 33, 35, 36, 36, 37, 37],
};

export interface StudyPlanState {
  /** `<grade>|<subject>` -> hours per week. */
  hours: Map<string, StudyPlanHoursSet>;
}

export interface SetStudyPlanHours {
  calendar: AcademicYearDefined | undefined;
  /** The calendar's week lengths set per grade level (none: the school's, grade 1 five days). */
  weekLengths?: ReadonlyMap<number, number>;
  gradeLevel: number;
  subjectId: string;
  subjectKnown: boolean;
  hoursPerWeek: number;
}

export const studyPlanDecider: Decider<StudyPlanState, SetStudyPlanHours> = {
  initialState: () => ({ hours: new Map() }),
  evolve(state, event: RecordedEvent) {
    if (eventName(event.type) !== "StudyPlanHoursSet") return state;
    const e = event.data as StudyPlanHoursSet;
    const hours = new Map(state.hours);
    if (e.hoursPerWeek === 0) hours.delete(`${e.gradeLevel}|${e.subjectId}`);
    else hours.set(`${e.gradeLevel}|${e.subjectId}`, e);
    return { hours };
  },
  decide(c, state): NewEvent[] {
    const year = c.calendar;
    if (!year)
      throw refused("academic_year", "the school's calendar for this year is not defined yet");
    if (!Number.isInteger(c.gradeLevel) || c.gradeLevel < 1 || c.gradeLevel > 11) {
      throw invalidInput("grade_level", `must be 1-11, got ${c.gradeLevel}`);
    }
    if (!c.subjectKnown)
      throw notFound("subject_id", "subject in the regional or school catalogue", c.subjectId);
    if (!Number.isInteger(c.hoursPerWeek) || c.hoursPerWeek < 0 || c.hoursPerWeek > 10) {
      throw invalidInput("hours_per_week", `must be a whole number 0-10, got ${c.hoursPerWeek}`);
    }
    const others = [...state.hours.values()]
      .filter((h) => h.gradeLevel === c.gradeLevel && h.subjectId !== c.subjectId)
      .reduce((n, h) => n + h.hoursPerWeek, 0);
    // The grade level's week, not the school's: a six-day school's grades on five days have
    // the five-day maximum.
    const weekLengths = c.weekLengths ?? new Map<number, number>();
    const week = gradeDaysPerWeek(year, weekLengths, c.gradeLevel) as 5 | 6;
    const max = MAX_WEEKLY_LOAD[week][c.gradeLevel - 1] as number;
    if (others + c.hoursPerWeek > max) {
      const why =
        week === year.daysPerWeek && !weekLengths.has(c.gradeLevel)
          ? ""
          : ` (${weekLengthReason(year, weekLengths, c.gradeLevel)})`;
      throw refused(
        "hours_per_week",
        `grade ${c.gradeLevel} would have ${others + c.hoursPerWeek} lessons a week, more than the ${max} allowed on a ${week}-day week${why}`,
      );
    }
    return [
      newEvent("StudyPlanHoursSet", {
        schoolId: year.schoolId,
        municipalityId: year.municipalityId,
        academicYear: year.academicYear,
        gradeLevel: c.gradeLevel,
        subjectId: c.subjectId,
        hoursPerWeek: c.hoursPerWeek,
      }),
    ];
  },
};
