import { loadAggregate, type NewEvent, type StreamAppend } from "@otmetka/eventstore";
import { type CivilDate, civilDate, civilDateIn, isCivilDate } from "@otmetka/service-kit";
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
import {
  foldTimetable,
  type TimetableState,
  timetableDecider,
  timetableStreamId,
} from "../domain/timetable.js";
import { currentVersion, programmeDecider, programmeIdOf } from "../domain/work-programme.js";
import { checkSchoolId, checkStartYear } from "./calendar.js";
import type { CallContext, CurriculumDeps } from "./deps.js";
import { checkCommandId, runCommand, runStreamsCommand } from "./run-command.js";

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
  const streamId = lessonsStreamId(classGroupId, plan.startYear);
  const days = plan.daysByGrade.get(plan.groups.get(classGroupId) as number) ?? [];
  const wanted = wantedLessons(plan.timetable, classGroupId, days);
  return runStreamsCommand(deps.store, {
    commandId,
    payload,
    what: `lessons of ${classGroupId}`,
    async decide() {
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
      const metadata = { ...ctx.metadata, commandId };
      const withMeta = events.map((e) => ({ ...e, metadata }));
      return { result, appends: [{ streamId, expected: version, events: withMeta }] };
    },
  });
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

/**
 * Moves a lesson, checking its teacher and room in the target period against the other class
 * groups' lessons. Those live in other streams, so the stream's expected version alone would
 * let two moves in different class groups both pass their checks and both commit: the append
 * also expects every stream the check read (the timetable, which names the class groups to
 * read, and their lessons) at the version read. Of two crossing moves the later append fails
 * on the other's stream (the store locks all of them for the append), and its retry reads
 * the other's move and is refused like a sequential move. Advisory locks on (teacher, date,
 * period) would need the reads inside the locking transaction, on its connection; a
 * reservations table would have to follow every lesson event of every command.
 */
export async function moveLesson(
  deps: CurriculumDeps,
  commandId: string,
  input: LessonRef & { toDate: string; toPeriod: number },
  ctx: CallContext = {},
) {
  checkCommandId(commandId);
  const streamId = lessonsStreamId(input.classGroupId, checkStartYear(input.startYear));
  return runStreamsCommand(deps.store, {
    commandId,
    payload: { MoveLesson: input },
    what: `${streamId} or the lessons the move was checked against`,
    async decide() {
      const { state } = await calendarOf(deps, input.schoolId, input.startYear);
      const group = await deps.facts.classGroup(input.classGroupId);
      if (!group) throw notFound("class_group_id", "class group", input.classGroupId);
      const reads = new StreamReads(deps, input.startYear);
      const lessons = await reads.lessons(input.classGroupId);
      const lesson = lessons.lessons.get(input.lessonId);
      const date = civilDateOrUndefined(input.toDate);
      let teacherElsewhere: Lesson[] = [];
      let roomElsewhere: Lesson[] = [];
      if (lesson && date) {
        const timetable = await reads.timetable(input.schoolId);
        teacherElsewhere = await teacherLessons(reads, timetable, lesson.teacherId, date);
        if (lesson.room !== "")
          roomElsewhere = await roomLessons(reads, timetable, lesson.room, date);
      }
      const events = lessonsDecider.decide(
        {
          kind: "MoveLesson",
          lessonId: input.lessonId,
          toDate: input.toDate,
          toPeriod: input.toPeriod,
          schoolDays: dayTerms(schoolDays(state, group.gradeLevel)),
          teacherElsewhere,
          roomElsewhere,
        },
        lessons,
      );
      const metadata = ctx.metadata;
      const moved = metadata
        ? events.map((e) => ({ ...e, metadata: { ...metadata, ...e.metadata } }))
        : events;
      return { result: {}, appends: reads.appends(streamId, moved) };
    },
  });
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
 * The streams a decision reads, each read once, with the version read: the other streams'
 * expected versions in its append (see moveLesson).
 */
class StreamReads {
  private readonly versions = new Map<string, number>();
  private readonly states = new Map<string, LessonsState>();

  constructor(
    private readonly deps: CurriculumDeps,
    private readonly startYear: number,
  ) {}

  async lessons(classGroupId: string): Promise<LessonsState> {
    const streamId = lessonsStreamId(classGroupId, this.startYear);
    const known = this.states.get(streamId);
    if (known) return known;
    const { state, version } = await loadLessons(this.deps, streamId);
    this.states.set(streamId, state);
    this.versions.set(streamId, version);
    return state;
  }

  async timetable(schoolId: string): Promise<TimetableState> {
    const streamId = timetableStreamId(checkSchoolId(schoolId), this.startYear);
    const events = await this.deps.store.readStream(streamId);
    this.versions.set(streamId, events.at(-1)?.version ?? 0);
    return foldTimetable(events);
  }

  /** `events` for `streamId`, and every other stream read, expected at the version read. */
  appends(streamId: string, events: NewEvent[]): StreamAppend[] {
    const others = [...this.versions].filter(([id]) => id !== streamId);
    return [
      { streamId, expected: this.versions.get(streamId) ?? 0, events },
      ...others.map(([id, expected]) => ({ streamId: id, expected, events: [] })),
    ];
  }
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
  const reads = new StreamReads(deps, checkStartYear(input.startYear));
  return teacherLessons(reads, await reads.timetable(input.schoolId), input.teacherId, date);
}

async function teacherLessons(
  reads: StreamReads,
  timetable: TimetableState,
  teacherId: string,
  date: CivilDate,
): Promise<Lesson[]> {
  const groups = new Set<string>();
  for (const s of timetable.slots.values())
    if (s.teacherId === teacherId) groups.add(s.classGroupId);
  for (const sub of timetable.substitutes) {
    const a = timetable.assignments.get(sub.assignmentId);
    if (a && sub.substituteId === teacherId && sub.firstDay <= date && date <= sub.lastDay)
      groups.add(a.classGroupId);
  }
  return lessonsOf(
    reads,
    groups,
    (l) =>
      l.date === date &&
      l.status !== "unscheduled" &&
      (l.teacherId === teacherId || l.conductedBy === teacherId),
  );
}

/**
 * A room's lessons on a date across the school. A lesson's room comes from its slot, so only
 * the class groups with a slot (current or ended) in that room can have one.
 */
async function roomLessons(
  reads: StreamReads,
  timetable: TimetableState,
  room: string,
  date: CivilDate,
): Promise<Lesson[]> {
  const groups = new Set<string>();
  for (const s of timetable.slots.values()) if (s.room === room) groups.add(s.classGroupId);
  return lessonsOf(
    reads,
    groups,
    (l) => l.date === date && l.room === room && l.status !== "unscheduled",
  );
}

/** The lessons of some class groups that pass `keep`, by period. */
async function lessonsOf(
  reads: StreamReads,
  classGroupIds: Iterable<string>,
  keep: (l: Lesson) => boolean,
): Promise<Lesson[]> {
  const lessons: Lesson[] = [];
  for (const cg of classGroupIds)
    for (const l of (await reads.lessons(cg)).lessons.values()) if (keep(l)) lessons.push(l);
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
