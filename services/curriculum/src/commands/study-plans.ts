import { loadAggregate } from "@otmetka/eventstore";
import { calendarDecider, calendarStreamId } from "../domain/calendar.js";
import type { StudyPlanHoursSet } from "../domain/events.js";
import { studyPlanDecider, studyPlanStreamId } from "../domain/study-plan.js";
import { checkSchoolId, checkStartYear } from "./calendar.js";
import type { CallContext, CurriculumDeps } from "./deps.js";
import { runCommand } from "./run-command.js";
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
  const schoolId = checkSchoolId(input.schoolId);
  const startYear = checkStartYear(input.startYear);
  const calendar = (
    await loadAggregate(deps.store, calendarStreamId(schoolId, startYear), calendarDecider)
  ).state.year;
  return runCommand(deps.store, {
    streamId: studyPlanStreamId(schoolId, startYear),
    decider: studyPlanDecider,
    command: {
      calendar,
      gradeLevel: input.gradeLevel,
      subjectId: input.subjectId,
      subjectKnown: await subjectKnown(deps, schoolId, input.subjectId),
      hoursPerWeek: input.hoursPerWeek,
    },
    commandId,
    payload: { SetStudyPlanHours: input },
    result: () => ({}),
    ...(ctx.metadata ? { metadata: ctx.metadata } : {}),
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
