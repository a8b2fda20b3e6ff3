import { loadAggregate } from "@otmetka/eventstore";
import { quoteInput } from "@otmetka/service-kit";
import {
  type CalendarCommand,
  type CalendarState,
  calendarDecider,
  calendarStreamId,
} from "../domain/calendar.js";
import { invalidInput } from "../domain/errors.js";
import type { CallContext, CurriculumDeps } from "./deps.js";
import { runCommand } from "./run-command.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function checkSchoolId(schoolId: string, field = "school_id"): string {
  if (!UUID.test(schoolId))
    throw invalidInput(field, `must be a UUID, got ${quoteInput(schoolId)}`);
  return schoolId.toLowerCase();
}

export function checkStartYear(startYear: number | undefined): number {
  if (
    startYear === undefined ||
    !Number.isInteger(startYear) ||
    startYear < 2000 ||
    startYear > 2100
  ) {
    throw invalidInput(
      "academic_year",
      "must be given as start_year 2000-2100 (e.g. 2026 for 2026/2027)",
    );
  }
  return startYear;
}

/** Validates the ids every calendar command shares, then runs it on the school-year stream. */
export async function runCalendarCommand(
  deps: CurriculumDeps,
  commandId: string,
  command: CalendarCommand,
  ctx: CallContext = {},
) {
  const schoolId = checkSchoolId(command.schoolId);
  const startYear = checkStartYear(command.startYear);
  if (command.kind === "DefineAcademicYear")
    checkSchoolId(command.municipalityId, "municipality_id");
  const normalized = { ...command, schoolId, startYear };
  return runCommand(deps.store, {
    streamId: calendarStreamId(schoolId, startYear),
    decider: calendarDecider,
    command: normalized,
    commandId,
    result: () => ({}),
    ...(ctx.metadata ? { metadata: ctx.metadata } : {}),
  });
}

export async function loadCalendar(
  deps: CurriculumDeps,
  schoolId: string,
  startYear: number,
): Promise<CalendarState> {
  const id = calendarStreamId(checkSchoolId(schoolId), checkStartYear(startYear));
  return (await loadAggregate(deps.store, id, calendarDecider)).state;
}
