import { loadAggregate } from "@otmetka/eventstore";
import { civilDate } from "@otmetka/service-kit";
import { calendarDecider, calendarStreamId, schoolDays } from "../domain/calendar.js";
import { refused } from "../domain/errors.js";
import type { StudyPlanHoursSet } from "../domain/events.js";
import {
  type Coverage,
  type ProgrammeHoursMismatch,
  planCoverage,
  programmeHoursMismatches,
} from "../domain/plan-coverage.js";
import { studyPlanDecider, studyPlanStreamId } from "../domain/study-plan.js";
import { timetableDecider, timetableStreamId } from "../domain/timetable.js";
import { gradeDaysPerWeek } from "../domain/week-length.js";
import { currentVersion, programmeDecider, programmeIdOf } from "../domain/work-programme.js";
import { checkSchoolId, checkStartYear } from "./calendar.js";
import type { CallContext, CurriculumDeps } from "./deps.js";
import { checkCommandId, runStreamsCommand } from "./run-command.js";
import { subjectKnown } from "./subjects.js";

export async function setStudyPlanHours(
  deps: CurriculumDeps,
  commandId: string,
  input: {
    schoolId: string;
    startYear: number;
    gradeLevel: number;
    subjectId: string;
    hoursPerWeek: number;
  },
  ctx: CallContext = {},
) {
  checkCommandId(commandId);
  const schoolId = checkSchoolId(input.schoolId);
  const startYear = checkStartYear(input.startYear);
  const known = await subjectKnown(deps, schoolId, input.subjectId);
  const calendarId = calendarStreamId(schoolId, startYear);
  const planId = studyPlanStreamId(schoolId, startYear);
  // The calendar is appended at the version read too: a grade's week set to five days
  // meanwhile (SetGradeWeekLength, which reads the plan likewise) makes it decide again.
  return runStreamsCommand(deps.store, {
    commandId,
    payload: { SetStudyPlanHours: input },
    what: `${planId} or its calendar`,
    metadata: ctx.metadata,
    async decide() {
      const [calendar, plan] = await Promise.all([
        loadAggregate(deps.store, calendarId, calendarDecider),
        loadAggregate(deps.store, planId, studyPlanDecider),
      ]);
      const events = studyPlanDecider.decide(
        {
          calendar: calendar.state.year,
          weekLengths: calendar.state.weekLengths,
          gradeLevel: input.gradeLevel,
          subjectId: input.subjectId,
          subjectKnown: known,
          hoursPerWeek: input.hoursPerWeek,
        },
        plan.state,
      );
      return {
        result: {},
        appends: [
          { streamId: planId, expected: plan.version, events: events },
          { streamId: calendarId, expected: calendar.version, events: [] },
        ],
      };
    },
  });
}

export async function getStudyPlan(
  deps: CurriculumDeps,
  schoolId: string,
  startYear: number,
): Promise<StudyPlanHoursSet[]> {
  const id = studyPlanStreamId(checkSchoolId(schoolId), checkStartYear(startYear));
  const { state } = await loadAggregate(deps.store, id, studyPlanDecider);
  return [...state.hours.values()].sort(
    (a, b) => a.gradeLevel - b.gradeLevel || a.subjectId.localeCompare(b.subjectId),
  );
}

/**
 * Where the timetable on a date (default: the school year's first day) differs from the study
 * plan. A report, not a refusal: a timetable is built slot by slot and the plan may come
 * before or after it, so every intermediate state would be "wrong" (see README).
 */
export async function studyPlanCoverage(
  deps: CurriculumDeps,
  input: { schoolId: string; startYear: number; onDate: string },
): Promise<{
  onDate: string;
  mismatches: Coverage[];
  programmeMismatches: ProgrammeHoursMismatch[];
}> {
  const schoolId = checkSchoolId(input.schoolId);
  const startYear = checkStartYear(input.startYear);
  const calendar = (
    await loadAggregate(deps.store, calendarStreamId(schoolId, startYear), calendarDecider)
  ).state;
  const year = calendar.year;
  if (!year)
    throw refused("academic_year", "the school's calendar for this year is not defined yet");
  const onDate = input.onDate === "" ? year.firstDay : civilDate("on_date", input.onDate);
  const [plan, timetable, classGroups] = await Promise.all([
    loadAggregate(deps.store, studyPlanStreamId(schoolId, startYear), studyPlanDecider),
    loadAggregate(deps.store, timetableStreamId(schoolId, startYear), timetableDecider),
    deps.facts.classGroupsOf(schoolId, startYear),
  ]);
  // The approved programme of every planned subject (one stream each; a report, not a hot path).
  const schoolWeeks = new Map<number, number>();
  const programmes = [];
  for (const h of plan.state.hours.values()) {
    if (!schoolWeeks.has(h.gradeLevel) && calendar.termSystems.has(h.gradeLevel)) {
      const days = schoolDays(calendar, h.gradeLevel).length;
      const week = gradeDaysPerWeek(year, calendar.weekLengths, h.gradeLevel);
      schoolWeeks.set(h.gradeLevel, Math.round(days / week));
    }
    const { state } = await loadAggregate(
      deps.store,
      programmeIdOf(schoolId, startYear, h.subjectId, h.gradeLevel),
      programmeDecider,
    );
    const current = currentVersion(state);
    if (current)
      programmes.push({
        gradeLevel: h.gradeLevel,
        subjectId: h.subjectId,
        version: current.version,
        hours: current.items.reduce((n, i) => n + i.hours, 0),
      });
  }
  return {
    onDate,
    mismatches: planCoverage(plan.state, timetable.state.slots.values(), classGroups, onDate, (g) =>
      gradeDaysPerWeek(year, calendar.weekLengths, g),
    ),
    programmeMismatches: programmeHoursMismatches(plan.state, programmes, schoolWeeks),
  };
}
