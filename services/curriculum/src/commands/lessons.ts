import {
  CommandIdReused,
  loadAggregate,
  payloadHash,
  WrongExpectedVersion,
} from "@otmetka/eventstore";
import {
  type CivilDate,
  civilDate,
  civilDateIn,
  DomainError,
  isCivilDate,
} from "@otmetka/service-kit";
import { calendarDecider, calendarStreamId, schoolDays } from "../domain/calendar.js";
import { invalidInput, notFound, refused } from "../domain/errors.js";
import { dayTerms, timetabledClassGroups, wantedLessons } from "../domain/lesson-plan.js";
import {
  foldLessons,
  type Lesson,
  type LessonsCommand,
  type LessonsState,
  lessonsDecider,
  lessonsStreamId,
} from "../domain/lessons.js";
import { foldTimetable, timetableDecider, timetableStreamId } from "../domain/timetable.js";
import { currentVersion, programmeDecider, programmeIdOf } from "../domain/work-programme.js";
import { checkSchoolId, checkStartYear } from "./calendar.js";
import type { CallContext, CurriculumDeps } from "./deps.js";
import { checkCommandId, runCommand } from "./run-command.js";

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
  /** Scheduled lessons handed to another teacher (substitutions added or withdrawn). */
  teacherChanged: number;
}

const MAX_ATTEMPTS = 5;
/** Class groups appended at once: PostgreSQL works on one while Node decides the next. */
const CONCURRENCY = 8;

/**
 * Generates (or regenerates) lessons for a school's class groups from the timetable over
 * their school days. Each class group is its own transaction (its stream's events with the
 * expected version, and the command record `<command_id>:<class group>`), several at once:
 * a retry with the same command id skips the class groups already done and finishes the
 * rest; a concurrent change to a class group's stream re-plans that class group. The
 * decider never duplicates, so a regeneration appends only the difference.
 */
export async function generateLessons(
  deps: CurriculumDeps,
  commandId: string,
  input: GenerateLessonsInput,
  ctx: CallContext = {},
): Promise<{ result: GenerateLessonsResult; replayed: boolean }> {
  checkCommandId(commandId);
  const schoolId = checkSchoolId(input.schoolId);
  const startYear = checkStartYear(input.startYear);
  const payload = { GenerateLessons: { ...input, schoolId } };
  const plan = await planSchool(deps, schoolId, startYear, input);
  const result: GenerateLessonsResult = {
    classGroups: 0,
    scheduled: 0,
    unscheduled: 0,
    teacherChanged: 0,
  };
  let replayed = 0;
  const queue = [...plan.classGroups];
  const worker = async () => {
    for (let cg = queue.shift(); cg !== undefined; cg = queue.shift()) {
      const out = await generateForClassGroup(deps, `${commandId}:${cg}`, payload, plan, cg, ctx);
      result.classGroups++;
      result.scheduled += out.result.scheduled;
      result.unscheduled += out.result.unscheduled;
      result.teacherChanged += out.result.teacherChanged ?? 0;
      if (out.replayed) replayed++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { result, replayed: replayed > 0 && replayed === result.classGroups };
}

type SchoolPlan = Awaited<ReturnType<typeof planSchool>>;

async function planSchool(
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
  const timetable = foldTimetable(
    await deps.store.readStream(timetableStreamId(schoolId, startYear)),
  );
  const groups = timetabledClassGroups(timetable);
  const classGroups = input.classGroupIds.length > 0 ? input.classGroupIds : [...groups.keys()];
  const daysByGrade = new Map<number, ReturnType<typeof schoolDays>>();
  for (const cg of classGroups) {
    const grade = groups.get(cg);
    if (grade === undefined)
      throw refused("class_group_ids", `class group ${cg} has no timetable slots`);
    if (!daysByGrade.has(grade)) daysByGrade.set(grade, schoolDays(calendar, grade));
  }
  return {
    schoolId,
    startYear,
    municipalityId: year.municipalityId,
    from,
    to,
    timetable,
    groups,
    classGroups,
    daysByGrade,
  };
}

async function generateForClassGroup(
  deps: CurriculumDeps,
  commandId: string,
  payload: unknown,
  plan: SchoolPlan,
  classGroupId: string,
  ctx: CallContext,
): Promise<{ result: Omit<GenerateLessonsResult, "classGroups">; replayed: boolean }> {
  const stored = await deps.store.findCommand(commandId);
  if (stored) {
    if (stored.payloadHash !== payloadHash(payload))
      throw invalidInput("command_id", "was already used for a different command");
    return { result: stored.result as Omit<GenerateLessonsResult, "classGroups">, replayed: true };
  }
  const streamId = lessonsStreamId(classGroupId, plan.startYear);
  const days = plan.daysByGrade.get(plan.groups.get(classGroupId) as number) ?? [];
  const wanted = wantedLessons(plan.timetable, classGroupId, days);
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const { state, version } = await loadLessons(deps, streamId);
    const events = lessonsDecider.decide(
      {
        kind: "GenerateLessons",
        scope: {
          schoolId: plan.schoolId,
          municipalityId: plan.municipalityId,
          academicYear: { startYear: plan.startYear },
          classGroupId,
        },
        from: plan.from,
        to: plan.to,
        wanted,
      },
      state,
    );
    const count = (name: string) => events.filter((e) => e.type.endsWith(name)).length;
    const result = {
      scheduled: count(".LessonScheduled"),
      unscheduled: count(".LessonUnscheduled"),
      teacherChanged: count(".LessonTeacherChanged"),
    };
    if (events.length === 0) return { result, replayed: false };
    const metadata = { ...ctx.metadata, commandId };
    const withMeta = events.map((e) => ({ ...e, metadata }));
    try {
      const out = await deps.store.appendCommand({ commandId, payload, result }, [
        { streamId, expected: version, events: withMeta },
      ]);
      return { result: out.result as typeof result, replayed: out.replayed };
    } catch (err) {
      if (err instanceof CommandIdReused)
        throw invalidInput("command_id", "was already used for a different command");
      if (!(err instanceof WrongExpectedVersion)) throw err;
    }
  }
  throw new DomainError(
    "conflict",
    `command ${commandId}: lessons of ${classGroupId} changed concurrently on every attempt; retry it`,
  );
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
  const lesson = lessons.lessons.get(input.lessonId);
  const conductedBy = input.conductedBy || (lesson?.teacherId ?? "");
  const command: LessonsCommand = {
    kind: "ConductLesson",
    lessonId: input.lessonId,
    topic: input.topic,
    workProgrammeItemId: input.workProgrammeItemId,
    homework: input.homework,
    homeworkDue: input.homeworkDue,
    conductedBy,
    conductedByIsStaff: await deps.facts.isStaff(checkSchoolId(input.schoolId), conductedBy),
    ...(lesson && input.workProgrammeItemId !== ""
      ? { programmeItemIds: await programmeItemIds(deps, input, lesson.subjectId) }
      : {}),
    today,
  };
  return runOnLesson(deps, commandId, input, command, { ConductLesson: input }, ctx);
}

/** The item ids of the work programme in force for a class group's grade and a subject. */
async function programmeItemIds(
  deps: CurriculumDeps,
  ref: LessonRef,
  subjectId: string,
): Promise<ReadonlySet<string> | undefined> {
  const group = await deps.facts.classGroup(ref.classGroupId);
  if (!group) return undefined;
  const { state } = await loadAggregate(
    deps.store,
    programmeIdOf(checkSchoolId(ref.schoolId), ref.startYear, subjectId, group.gradeLevel),
    programmeDecider,
  );
  const version = currentVersion(state);
  return version && new Set(version.items.map((i) => i.itemId));
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
  const lesson = (
    await loadLessons(deps, lessonsStreamId(input.classGroupId, checkStartYear(input.startYear)))
  ).state.lessons.get(input.lessonId);
  const teacherElsewhere =
    lesson && civilDateOrUndefined(input.toDate)
      ? await teacherDay(deps, {
          schoolId: input.schoolId,
          startYear: input.startYear,
          teacherId: lesson.teacherId,
          date: input.toDate,
        })
      : [];
  const roomElsewhere =
    lesson && lesson.room !== "" && civilDateOrUndefined(input.toDate)
      ? await roomDay(deps, {
          schoolId: input.schoolId,
          startYear: input.startYear,
          room: lesson.room,
          date: input.toDate,
        })
      : [];
  const command: LessonsCommand = {
    kind: "MoveLesson",
    lessonId: input.lessonId,
    toDate: input.toDate,
    toPeriod: input.toPeriod,
    schoolDays: dayTerms(schoolDays(state, group.gradeLevel)),
    teacherElsewhere,
    roomElsewhere,
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

/** A lesson stream's state and version, folded in one pass (see foldLessons). */
export async function loadLessons(
  deps: CurriculumDeps,
  streamId: string,
): Promise<{ state: LessonsState; version: number }> {
  const events = await deps.store.readStream(streamId);
  return { state: foldLessons(events), version: events.at(-1)?.version ?? 0 };
}

/**
 * A teacher's lessons on a date across the school: the class groups where the timetable
 * gives them a slot or a substitution, read from those class groups' streams.
 */
export async function teacherDay(
  deps: CurriculumDeps,
  input: { schoolId: string; startYear: number; teacherId: string; date: string },
): Promise<Lesson[]> {
  const date = civilDate("date", input.date);
  if (input.teacherId === "") throw invalidInput("teacher_id", "is required");
  const startYear = checkStartYear(input.startYear);
  const timetable = (
    await loadAggregate(
      deps.store,
      timetableStreamId(checkSchoolId(input.schoolId), startYear),
      timetableDecider,
    )
  ).state;
  const groups = new Set<string>();
  for (const s of timetable.slots.values())
    if (s.teacherId === input.teacherId) groups.add(s.classGroupId);
  for (const sub of timetable.substitutes) {
    const a = timetable.assignments.get(sub.assignmentId);
    if (a && sub.substituteId === input.teacherId && sub.firstDay <= date && date <= sub.lastDay)
      groups.add(a.classGroupId);
  }
  const lessons: Lesson[] = [];
  for (const cg of groups) {
    const { state } = await loadLessons(deps, lessonsStreamId(cg, startYear));
    for (const l of state.lessons.values()) {
      if (
        l.date === date &&
        l.status !== "unscheduled" &&
        (l.teacherId === input.teacherId || l.conductedBy === input.teacherId)
      )
        lessons.push(l);
    }
  }
  return lessons.sort((a, b) => a.period - b.period);
}

/**
 * A room's lessons on a date across the school. A lesson's room comes from its slot, so only
 * the class groups with a slot (current or ended) in that room can have one.
 */
export async function roomDay(
  deps: CurriculumDeps,
  input: { schoolId: string; startYear: number; room: string; date: string },
): Promise<Lesson[]> {
  const startYear = checkStartYear(input.startYear);
  const timetable = (
    await loadAggregate(
      deps.store,
      timetableStreamId(checkSchoolId(input.schoolId), startYear),
      timetableDecider,
    )
  ).state;
  const groups = new Set<string>();
  for (const s of timetable.slots.values()) if (s.room === input.room) groups.add(s.classGroupId);
  const lessons: Lesson[] = [];
  for (const cg of groups) {
    const { state } = await loadLessons(deps, lessonsStreamId(cg, startYear));
    for (const l of state.lessons.values())
      if (l.date === input.date && l.room === input.room && l.status !== "unscheduled")
        lessons.push(l);
  }
  return lessons.sort((a, b) => a.period - b.period);
}

/** The date when it is one; the decider reports a bad date with its field name. */
const civilDateOrUndefined = (text: string) => (isCivilDate(text) ? text : undefined);

/**
 * A lesson and the people who teach it on its date: the scheduled teacher and whoever
 * substitutes (a substitution added after generation, before the lessons were handed over).
 */
export async function lessonTeachers(
  deps: CurriculumDeps,
  ref: LessonRef,
): Promise<{ lesson: Lesson | undefined; teachers: Set<string> }> {
  if (ref.classGroupId === "") throw invalidInput("class_group_id", "is required");
  const startYear = checkStartYear(ref.startYear);
  const lesson = (
    await loadLessons(deps, lessonsStreamId(ref.classGroupId, startYear))
  ).state.lessons.get(ref.lessonId);
  const teachers = new Set<string>();
  if (!lesson) return { lesson, teachers };
  teachers.add(lesson.teacherId);
  const timetable = (
    await loadAggregate(
      deps.store,
      timetableStreamId(checkSchoolId(ref.schoolId), startYear),
      timetableDecider,
    )
  ).state;
  for (const sub of timetable.substitutes) {
    const a = timetable.assignments.get(sub.assignmentId);
    if (
      a &&
      a.teacherId === lesson.teacherId &&
      a.classGroupId === lesson.classGroupId &&
      a.subjectId === lesson.subjectId &&
      (a.subgroupId === "" || a.subgroupId === lesson.subgroupId) &&
      sub.firstDay <= lesson.date &&
      lesson.date <= sub.lastDay
    )
      teachers.add(sub.substituteId);
  }
  return { lesson, teachers };
}
