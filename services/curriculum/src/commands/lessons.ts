import {
  CommandIdReused,
  loadAggregate,
  payloadHash,
  type StreamAppend,
  WrongExpectedVersion,
} from "@otmetka/eventstore";
import { DomainError } from "@otmetka/service-kit";
import { calendarDecider, calendarStreamId, schoolDays } from "../domain/calendar.js";
import { type CivilDate, civilDate, civilDateIn } from "../domain/civil-date.js";
import { invalidInput, notFound, refused } from "../domain/errors.js";
import { dayTerms, timetabledClassGroups, wantedLessons } from "../domain/lesson-plan.js";
import {
  type Lesson,
  type LessonsCommand,
  lessonsDecider,
  lessonsStreamId,
} from "../domain/lessons.js";
import { timetableDecider, timetableStreamId } from "../domain/timetable.js";
import { checkSchoolId, checkStartYear } from "./calendar.js";
import type { CallContext, CurriculumDeps } from "./deps.js";
import { runCommand } from "./run-command.js";

export interface GenerateLessonsInput {
  schoolId: string;
  startYear: number;
  /** Default: the school year's first and last day. */
  from: string;
  to: string;
  /** Default: every class group with timetable slots. */
  classGroupIds: string[];
}

export interface GenerateLessonsResult {
  classGroups: number;
  scheduled: number;
  unscheduled: number;
}

const MAX_ATTEMPTS = 5;

/**
 * Generates (or regenerates) lessons for a school's class groups from the timetable over
 * their school days, in one transaction across the class groups' streams, idempotent by
 * command id; a concurrent change to any stream re-plans (the decider never duplicates).
 */
export async function generateLessons(
  deps: CurriculumDeps,
  commandId: string,
  input: GenerateLessonsInput,
  ctx: CallContext = {},
): Promise<{ result: GenerateLessonsResult; replayed: boolean }> {
  if (commandId.trim() === "") throw invalidInput("command_id", "is required (a retry repeats it)");
  const schoolId = checkSchoolId(input.schoolId);
  const startYear = checkStartYear(input.startYear);
  const payload = { GenerateLessons: { ...input, schoolId } };
  const stored = await deps.store.findCommand(commandId);
  if (stored) {
    if (stored.payloadHash !== payloadHash(payload))
      throw invalidInput("command_id", "was already used for a different command");
    return { result: stored.result as GenerateLessonsResult, replayed: true };
  }
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const { appends, result } = await planGeneration(deps, schoolId, startYear, input);
    const withMeta = appends.map((a) => ({
      ...a,
      events: a.events.map((e) => ({ ...e, metadata: { ...ctx.metadata, commandId } })),
    }));
    try {
      const out = await deps.store.appendCommand({ commandId, payload, result }, withMeta);
      return { result: out.result as GenerateLessonsResult, replayed: out.replayed };
    } catch (err) {
      if (err instanceof CommandIdReused)
        throw invalidInput("command_id", "was already used for a different command");
      if (!(err instanceof WrongExpectedVersion)) throw err;
    }
  }
  throw new DomainError(
    "conflict",
    `command ${commandId}: lessons changed concurrently on every attempt; retry it`,
  );
}

async function planGeneration(
  deps: CurriculumDeps,
  schoolId: string,
  startYear: number,
  input: GenerateLessonsInput,
) {
  const calendar = (
    await loadAggregate(deps.store, calendarStreamId(schoolId, startYear), calendarDecider)
  ).state;
  const year = calendar.year;
  if (!year)
    throw refused("academic_year", "the school's calendar for this year is not defined yet");
  const from = input.from === "" ? year.firstDay : civilDate("from", input.from);
  const to = input.to === "" ? year.lastDay : civilDate("to", input.to);
  if (to < from) throw invalidInput("to", "must not precede from");
  const timetable = (
    await loadAggregate(deps.store, timetableStreamId(schoolId, startYear), timetableDecider)
  ).state;
  const groups = timetabledClassGroups(timetable);
  const ids = input.classGroupIds.length > 0 ? input.classGroupIds : [...groups.keys()];
  const appends: StreamAppend[] = [];
  const result: GenerateLessonsResult = { classGroups: 0, scheduled: 0, unscheduled: 0 };
  const daysByGrade = new Map<number, ReturnType<typeof schoolDays>>();
  for (const classGroupId of ids) {
    const grade = groups.get(classGroupId);
    if (grade === undefined)
      throw refused("class_group_ids", `class group ${classGroupId} has no timetable slots`);
    const days = daysByGrade.get(grade) ?? schoolDays(calendar, grade);
    daysByGrade.set(grade, days);
    const streamId = lessonsStreamId(classGroupId, startYear);
    const { state, version } = await loadAggregate(deps.store, streamId, lessonsDecider);
    const events = lessonsDecider.decide(
      {
        kind: "GenerateLessons",
        scope: {
          schoolId,
          municipalityId: year.municipalityId,
          academicYear: { startYear },
          classGroupId,
        },
        from,
        to,
        wanted: wantedLessons(timetable, classGroupId, days),
      },
      state,
    );
    result.classGroups++;
    for (const e of events) {
      if (e.type.endsWith("LessonScheduled")) result.scheduled++;
      else result.unscheduled++;
    }
    if (events.length > 0) appends.push({ streamId, expected: version, events });
  }
  return { appends, result };
}

interface LessonRef {
  schoolId: string;
  startYear: number;
  classGroupId: string;
  lessonId: string;
}

async function runOnLesson(
  deps: CurriculumDeps,
  commandId: string,
  ref: LessonRef,
  command: LessonsCommand,
  payload: unknown,
  ctx: CallContext,
) {
  if (ref.classGroupId === "") throw invalidInput("class_group_id", "is required");
  return runCommand(deps.store, {
    streamId: lessonsStreamId(ref.classGroupId, checkStartYear(ref.startYear)),
    decider: lessonsDecider,
    command,
    commandId,
    payload,
    result: () => ({}),
    ...(ctx.metadata ? { metadata: ctx.metadata } : {}),
  });
}

async function calendarOf(deps: CurriculumDeps, schoolId: string, startYear: number) {
  const state = (
    await loadAggregate(
      deps.store,
      calendarStreamId(checkSchoolId(schoolId), checkStartYear(startYear)),
      calendarDecider,
    )
  ).state;
  if (!state.year)
    throw refused("academic_year", "the school's calendar for this year is not defined yet");
  return { state, year: state.year };
}

export interface ConductInput extends LessonRef {
  topic: string;
  workProgrammeItemId: string;
  homework: string;
  homeworkDue: string;
  conductedBy: string;
}

export async function conductLesson(
  deps: CurriculumDeps,
  commandId: string,
  input: ConductInput,
  ctx: CallContext = {},
) {
  const { year } = await calendarOf(deps, input.schoolId, input.startYear);
  // "Today" is the school's civil date, not the server's.
  const today = civilDateIn(deps.clock.now(), year.timeZone);
  const lessons = (
    await loadAggregate(
      deps.store,
      lessonsStreamId(input.classGroupId, input.startYear),
      lessonsDecider,
    )
  ).state;
  const scheduledTeacher = lessons.lessons.get(input.lessonId)?.teacherId ?? "";
  const conductedBy = input.conductedBy || scheduledTeacher;
  const command: LessonsCommand = {
    kind: "ConductLesson",
    lessonId: input.lessonId,
    topic: input.topic,
    workProgrammeItemId: input.workProgrammeItemId,
    homework: input.homework,
    homeworkDue: input.homeworkDue,
    conductedBy,
    conductedByIsStaff: await deps.facts.isStaff(checkSchoolId(input.schoolId), conductedBy),
    today,
  };
  return runOnLesson(deps, commandId, input, command, { ConductLesson: input }, ctx);
}

export async function cancelLesson(
  deps: CurriculumDeps,
  commandId: string,
  input: LessonRef & { reason: string },
  ctx: CallContext = {},
) {
  return runOnLesson(
    deps,
    commandId,
    input,
    { kind: "CancelLesson", lessonId: input.lessonId, reason: input.reason },
    { CancelLesson: input },
    ctx,
  );
}

export async function moveLesson(
  deps: CurriculumDeps,
  commandId: string,
  input: LessonRef & { toDate: string; toPeriod: number },
  ctx: CallContext = {},
) {
  const { state } = await calendarOf(deps, input.schoolId, input.startYear);
  const group = await deps.facts.classGroup(input.classGroupId);
  if (!group) throw notFound("class_group_id", "class group", input.classGroupId);
  const command: LessonsCommand = {
    kind: "MoveLesson",
    lessonId: input.lessonId,
    toDate: input.toDate,
    toPeriod: input.toPeriod,
    schoolDays: dayTerms(schoolDays(state, group.gradeLevel)),
  };
  return runOnLesson(deps, commandId, input, command, { MoveLesson: input }, ctx);
}

/** A class group's lessons (not unscheduled) in [from, to], by date and period. */
export async function classGroupLessons(
  deps: CurriculumDeps,
  classGroupId: string,
  startYear: number,
  from: CivilDate,
  to: CivilDate,
): Promise<Lesson[]> {
  const first = civilDate("from", from);
  const last = civilDate("to", to);
  const { state } = await loadAggregate(
    deps.store,
    lessonsStreamId(classGroupId, checkStartYear(startYear)),
    lessonsDecider,
  );
  return [...state.lessons.values()]
    .filter((l) => l.status !== "unscheduled" && l.date >= first && l.date <= last)
    .sort(
      (a, b) =>
        a.date.localeCompare(b.date) ||
        a.period - b.period ||
        a.subgroupId.localeCompare(b.subgroupId),
    );
}
