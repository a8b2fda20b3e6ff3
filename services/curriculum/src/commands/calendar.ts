import { loadAggregate, type StreamAppend } from "@otmetka/eventstore";
import { civilDateIn, quoteInput } from "@otmetka/service-kit";
import type pg from "pg";
import { writeClaims } from "../db/lesson-claims.js";
import {
  type CalendarCommand,
  type CalendarState,
  calendarDecider,
  calendarStreamId,
} from "../domain/calendar.js";
import { invalidInput } from "../domain/errors.js";
import type { NonSchoolDaysDeclared, TimetableSlotAdded } from "../domain/events.js";
import { claimChanges } from "../domain/lesson-claims.js";
import { timetabledClassGroups } from "../domain/lesson-plan.js";
import { foldLessons, type LessonsState, lessonsStreamId } from "../domain/lessons.js";
import { lessonsOnDaysOff } from "../domain/non-school-days.js";
import { studyPlanDecider, studyPlanStreamId } from "../domain/study-plan.js";
import { foldTimetable, timetableStreamId } from "../domain/timetable.js";
import type { GradeLesson } from "../domain/week-length.js";
import type { CallContext, CurriculumDeps } from "./deps.js";
import { checkCommandId, runCommand, runStreamsCommand } from "./run-command.js";

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

/**
 * The municipality a caller names for a school (DefineAcademicYear, a school's AddSubject) must
 * be the one identity gives it: it goes into the events (the year's, hence every lesson's, and
 * the subject's), whose subjects, replicas and dashboards are by municipality. A school the
 * replica does not know yet is taken as named.
 */
export async function checkMunicipality(
  deps: CurriculumDeps,
  schoolId: string,
  municipalityId: string,
): Promise<string> {
  const id = checkSchoolId(municipalityId, "municipality_id");
  const school = await deps.facts.school(schoolId);
  if (school && school.municipalityId.toLowerCase() !== id)
    throw invalidInput(
      "municipality_id",
      `school ${schoolId} belongs to municipality ${school.municipalityId}, not ${id}`,
    );
  return id;
}

/** The calendar commands decided on the calendar alone (SetGradeWeekLength reads more). */
export type CalendarRequest = Exclude<CalendarCommand, { kind: "SetGradeWeekLength" }>;

/** Validates the ids every calendar command shares, then runs it on the school-year stream. */
export async function runCalendarCommand(
  deps: CurriculumDeps,
  commandId: string,
  command: CalendarRequest,
  ctx: CallContext = {},
) {
  const schoolId = checkSchoolId(command.schoolId);
  const startYear = checkStartYear(command.startYear);
  if (command.kind === "DefineAcademicYear")
    await checkMunicipality(deps, schoolId, command.municipalityId);
  const normalized = { ...command, schoolId, startYear };
  if (normalized.kind === "DeclareNonSchoolDays")
    return declareNonSchoolDays(deps, commandId, normalized, ctx);
  return runCommand(deps.store, {
    streamId: calendarStreamId(schoolId, startYear),
    decider: calendarDecider,
    command: normalized,
    commandId,
    result: () => ({}),
    ...(ctx.metadata ? { metadata: ctx.metadata } : {}),
  });
}

export interface SetGradeWeekLengthInput {
  schoolId: string;
  startYear: number;
  gradeLevels: number[];
  daysPerWeek: number;
}

/**
 * Sets the week length of some grade levels. The decision reads the school's timetable (no
 * Saturday slot of a grade level going to five days), study plan (no more planned hours than a
 * five-day week allows) and, going to five days, the lessons of the grade levels' class groups
 * (none on a Saturday from today on) besides the calendar: all are appended at the versions
 * read, so a slot, plan hours or a lesson moved meanwhile make it decide again on fresh reads
 * (AddTimetableSlot, SetStudyPlanHours and MoveLesson expect the calendar at theirs).
 */
export async function setGradeWeekLength(
  deps: CurriculumDeps,
  commandId: string,
  input: SetGradeWeekLengthInput,
  ctx: CallContext = {},
) {
  checkCommandId(commandId);
  const schoolId = checkSchoolId(input.schoolId);
  const startYear = checkStartYear(input.startYear);
  const calendarId = calendarStreamId(schoolId, startYear);
  const timetableId = timetableStreamId(schoolId, startYear);
  const planId = studyPlanStreamId(schoolId, startYear);
  return runStreamsCommand(deps.store, {
    commandId,
    payload: { SetGradeWeekLength: { ...input, schoolId, startYear } },
    what: `${calendarId}, its timetable, study plan or lessons`,
    metadata: ctx.metadata,
    async decide() {
      const [calendar, timetable, plan] = await Promise.all([
        loadAggregate(deps.store, calendarId, calendarDecider),
        deps.store.readStream(timetableId),
        loadAggregate(deps.store, planId, studyPlanDecider),
      ]);
      const slots = [...foldTimetable(timetable).slots.values()];
      const lessons =
        input.daysPerWeek === 5
          ? await gradeLessons(deps, startYear, slots, input.gradeLevels)
          : { lessons: [], appends: [] };
      const year = calendar.state.year;
      const events = calendarDecider.decide(
        {
          kind: "SetGradeWeekLength",
          schoolId,
          startYear,
          gradeLevels: input.gradeLevels,
          daysPerWeek: input.daysPerWeek,
          slots,
          plannedHours: [...plan.state.hours.values()],
          lessons: lessons.lessons,
          today: year ? civilDateIn(deps.clock.now(), year.timeZone) : "",
        },
        calendar.state,
      );
      return {
        result: {},
        appends: [
          { streamId: calendarId, expected: calendar.version, events: events },
          { streamId: timetableId, expected: timetable.at(-1)?.version ?? 0, events: [] },
          { streamId: planId, expected: plan.version, events: [] },
          ...lessons.appends,
        ],
      };
    },
  });
}

/**
 * Declares non-school days. Lessons already on them are decided with the calendar
 * (lessonsOnDaysOff): plain generated ones still scheduled are unscheduled in the same
 * transaction (their claims freed), moved or conducted ones refuse the declaration. Every
 * class group with slots has its lesson stream read and appended at the version read, the
 * timetable too, so a generation, move or conduct committed meanwhile makes it decide again;
 * they expect the calendar at theirs, so one committed after it decides again on the new days.
 */
async function declareNonSchoolDays(
  deps: CurriculumDeps,
  commandId: string,
  command: Extract<CalendarRequest, { kind: "DeclareNonSchoolDays" }>,
  ctx: CallContext,
) {
  checkCommandId(commandId);
  const calendarId = calendarStreamId(command.schoolId, command.startYear);
  const timetableId = timetableStreamId(command.schoolId, command.startYear);
  return runStreamsCommand(deps.store, {
    commandId,
    payload: command,
    what: `${calendarId}, its timetable or lessons`,
    metadata: ctx.metadata,
    async decide() {
      const [calendar, timetable] = await Promise.all([
        loadAggregate(deps.store, calendarId, calendarDecider),
        deps.store.readStream(timetableId),
      ]);
      // Input and calendar first: a bad declaration is refused before any lesson is read.
      const events = calendarDecider.decide(command, calendar.state);
      const days = events[0]?.data as NonSchoolDaysDeclared;
      const groups = timetabledClassGroups(foldTimetable(timetable));
      const read = await readLessonStreams(deps, command.startYear, groups.keys());
      const off = lessonsOnDaysOff(new Map(read.map((r) => [r.classGroupId, r.state])), days);
      const changes = read.flatMap(
        (r) => claimChanges(r.state, off.get(r.classGroupId) ?? []) ?? [],
      );
      return {
        result: {},
        appends: [
          { streamId: calendarId, expected: calendar.version, events },
          { streamId: timetableId, expected: timetable.at(-1)?.version ?? 0, events: [] },
          ...read.map((r) => ({ ...r.append, events: off.get(r.classGroupId) ?? [] })),
        ],
        ...(changes.length > 0
          ? {
              alsoWrite: (client: pg.PoolClient) =>
                writeClaims(client, {
                  removed: changes.flatMap((c) => c.removed),
                  rows: changes.flatMap((c) => c.rows),
                }),
            }
          : {}),
      };
    },
  });
}

/**
 * Some class groups' lessons, each stream with the version read as an append expecting it
 * (no events): a decision on them is made again when one changed.
 */
async function readLessonStreams(
  deps: CurriculumDeps,
  startYear: number,
  classGroupIds: Iterable<string>,
): Promise<{ classGroupId: string; state: LessonsState; append: StreamAppend }[]> {
  return Promise.all(
    [...classGroupIds].map(async (classGroupId) => {
      const streamId = lessonsStreamId(classGroupId, startYear);
      const events = await deps.store.readStream(streamId);
      const append = { streamId, expected: events.at(-1)?.version ?? 0, events: [] };
      return { classGroupId, state: foldLessons(events), append };
    }),
  );
}

/**
 * The lessons of the class groups the timetable gives slots of these grade levels (a class
 * group has lessons only from its slots; a move keeps it in its stream), and each stream at the
 * version read, expected with no events.
 */
async function gradeLessons(
  deps: CurriculumDeps,
  startYear: number,
  slots: readonly TimetableSlotAdded[],
  gradeLevels: readonly number[],
): Promise<{ lessons: GradeLesson[]; appends: StreamAppend[] }> {
  const gradeOf = new Map<string, number>();
  for (const s of slots)
    if (gradeLevels.includes(s.gradeLevel)) gradeOf.set(s.classGroupId, s.gradeLevel);
  const read = await readLessonStreams(deps, startYear, gradeOf.keys());
  const lessons = read.flatMap(({ classGroupId, state }) =>
    [...state.lessons.values()].map(
      (l): GradeLesson => ({
        lessonId: l.lessonId,
        classGroupId,
        gradeLevel: gradeOf.get(classGroupId) as number,
        date: l.date,
        status: l.status,
      }),
    ),
  );
  return { lessons, appends: read.map((r) => r.append) };
}

export async function loadCalendar(
  deps: CurriculumDeps,
  schoolId: string,
  startYear: number,
): Promise<CalendarState> {
  const id = calendarStreamId(checkSchoolId(schoolId), checkStartYear(startYear));
  return (await loadAggregate(deps.store, id, calendarDecider)).state;
}
