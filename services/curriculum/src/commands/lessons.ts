import { loadAggregate, type NewEvent, payloadHash, type StreamAppend } from "@otmetka/eventstore";
import { type CivilDate, civilDate, civilDateIn, isCivilDate } from "@otmetka/service-kit";
import type pg from "pg";
import { claimsBetween, heldClaims, writeClaims } from "../db/lesson-claims.js";
import { calendarDecider, calendarStreamId, schoolDays } from "../domain/calendar.js";
import { invalidInput, notFound, refused } from "../domain/errors.js";
import {
  type ClaimHolder,
  claimChanges,
  claimKey,
  heldOf,
  roomClaim,
  teacherClaim,
} from "../domain/lesson-claims.js";
import { dayTerms, timetabledClassGroups, wantedLessons } from "../domain/lesson-plan.js";
import {
  claimsToCheck,
  foldLessons,
  type Lesson,
  type LessonsCommand,
  type LessonsState,
  lessonsDecider,
  lessonsStreamId,
  planGeneration,
} from "../domain/lessons.js";
import {
  assignmentEndedBefore,
  covers,
  foldTimetable,
  MAX_PERIOD,
  substitutedOn,
  type TimetableState,
  teacherOn,
  timetableDecider,
  timetableStreamId,
} from "../domain/timetable.js";
import { currentVersion, programmeDecider, programmeIdOf } from "../domain/work-programme.js";
import { checkSchoolId, checkStartYear } from "./calendar.js";
import type { CallContext, CurriculumDeps } from "./deps.js";
import { checkCommandId, runStreamsCommand, type StreamsCommandOptions } from "./run-command.js";

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
  /**
   * Wanted lessons not scheduled, and handovers not made, because another lesson (a moved
   * one, another class group's) holds the teacher or the room in that period.
   */
  skipped: number;
}

/**
 * From this many claims to check in a class group (a first generation: about two per lesson),
 * generation takes them from one read of the scope's claims for the whole command instead of
 * a look-up per class group; a few (a substitution's handovers) are looked up.
 */
const SCOPE_READ_FROM = 256;

/** Class groups appended at once: PostgreSQL works on one while Node decides the next. */
const CONCURRENCY = 8;

/**
 * Generates (or regenerates) lessons for a school's class groups from the timetable over
 * their school days. Each class group is its own transaction (its stream's events with the
 * expected version, and the command record `<command_id>:<class group>`), several at once:
 * a retry with the same command id skips the class groups already done and finishes the
 * rest. Each append also expects the calendar and the timetable at the versions planned on:
 * a concurrent change to the class group's stream, the calendar or the timetable re-plans that
 * class group on fresh reads. The decider never duplicates, so a regeneration appends only the
 * difference.
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
  await checkCommandIdFree(deps, commandId, payload, plan.classGroups);
  // The scope's claims, read once for the class groups with many to check (a first generation).
  let scopeClaims: Promise<ReadonlyMap<string, ClaimHolder>> | undefined;
  const claims = () => {
    scopeClaims ??= claimsBetween(deps.store.pool, plan, plan.from, plan.to);
    return scopeClaims;
  };
  const result: GenerateLessonsResult = {
    classGroups: 0,
    scheduled: 0,
    unscheduled: 0,
    teacherChanged: 0,
    skipped: 0,
  };
  let replayed = 0;
  const queue = [...plan.classGroups];
  const worker = async () => {
    for (let cg = queue.shift(); cg !== undefined; cg = queue.shift()) {
      const out = await generateForClassGroup(
        deps,
        `${commandId}:${cg}`,
        payload,
        { ...plan, claims },
        cg,
        ctx,
      );
      result.classGroups++;
      result.scheduled += out.result.scheduled;
      result.unscheduled += out.result.unscheduled;
      result.teacherChanged += out.result.teacherChanged ?? 0;
      result.skipped += out.result.skipped ?? 0;
      if (out.replayed) replayed++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { result, replayed: replayed > 0 && replayed === result.classGroups };
}

type SchoolPlan = Awaited<ReturnType<typeof planSchool>>;

/**
 * A command id already recorded for another command, or for some class group with another
 * payload, is refused before
 * any class group is generated: each class group checks its own record, so the others, run
 * beside the refused one, were generated under the reused id before the refusal came back.
 */
async function checkCommandIdFree(
  deps: CurriculumDeps,
  commandId: string,
  payload: unknown,
  classGroups: readonly string[],
) {
  const hash = payloadHash(payload);
  const [bare, ...stored] = await Promise.all([
    deps.store.findCommand(commandId),
    ...classGroups.map((cg) => deps.store.findCommand(`${commandId}:${cg}`)),
  ]);
  // A generation records only `<command_id>:<class group>`: the bare id is another command's.
  if (bare !== undefined || stored.some((c) => c !== undefined && c.payloadHash !== hash))
    throw invalidInput("command_id", "was already used for a different command");
}

/** One class group's counts (commands recorded before a count existed lack it). */
type GenerationCounts = Partial<Omit<GenerateLessonsResult, "classGroups">> &
  Pick<GenerateLessonsResult, "scheduled" | "unscheduled">;

type Decided<Result> = Awaited<ReturnType<StreamsCommandOptions<Result>["decide"]>>;

async function planSchool(
  deps: CurriculumDeps,
  schoolId: string,
  startYear: number,
  input: GenerateLessonsInput,
) {
  const basis = await readBasis(deps, schoolId, startYear);
  const { calendar, timetable } = basis;
  const year = calendar.year;
  if (!year)
    throw refused("academic_year", "the school's calendar for this year is not defined yet");
  const from = input.from === "" ? year.firstDay : civilDate("from", input.from);
  const to = input.to === "" ? year.lastDay : civilDate("to", input.to);
  if (to < from) throw invalidInput("to", "must not precede from");
  const groups = timetabledClassGroups(timetable);
  // Listed twice, a class group's second run replays the first's record and counts it again.
  const twice = input.classGroupIds.find((id, i) => input.classGroupIds.indexOf(id) !== i);
  if (twice !== undefined)
    throw invalidInput("class_group_ids", `lists class group ${twice} more than once`);
  const classGroups = input.classGroupIds.length > 0 ? input.classGroupIds : [...groups.keys()];
  const daysByGrade = new Map<number, ReturnType<typeof schoolDays>>();
  for (const cg of classGroups) {
    const grade = groups.get(cg);
    if (grade === undefined)
      throw refused("class_group_ids", `class group ${cg} has no timetable slots`);
    if (!daysByGrade.has(grade)) daysByGrade.set(grade, schoolDays(calendar, grade));
  }
  return {
    ...basis,
    schoolId,
    startYear,
    municipalityId: year.municipalityId,
    from,
    to,
    groups,
    classGroups,
    daysByGrade,
  };
}

/** What a generation plans from: the calendar (school days) and the timetable, with the versions read. */
async function readBasis(deps: CurriculumDeps, schoolId: string, startYear: number) {
  const [calendar, recorded] = await Promise.all([
    loadAggregate(deps.store, calendarStreamId(schoolId, startYear), calendarDecider),
    deps.store.readStream(timetableStreamId(schoolId, startYear)),
  ]);
  return {
    calendar: calendar.state,
    calendarVersion: calendar.version,
    timetable: foldTimetable(recorded),
    timetableVersion: recorded.at(-1)?.version ?? 0,
  };
}

/**
 * The calendar and the timetable a class group's lessons were planned from, expected at the
 * versions read with no events: a week set to five days (SetGradeWeekLength, which appends
 * nothing to the lesson streams), a slot ended or a substitution assigned while the generation
 * runs makes the append fail and the class group planned again on them.
 */
const basisAppends = (
  plan: Pick<SchoolPlan, "schoolId" | "startYear">,
  versions: { calendarVersion: number; timetableVersion: number },
): StreamAppend[] => [
  {
    streamId: calendarStreamId(plan.schoolId, plan.startYear),
    expected: versions.calendarVersion,
    events: [],
  },
  {
    streamId: timetableStreamId(plan.schoolId, plan.startYear),
    expected: versions.timetableVersion,
    events: [],
  },
];

async function generateForClassGroup(
  deps: CurriculumDeps,
  commandId: string,
  payload: unknown,
  plan: SchoolPlan & { claims: () => Promise<ReadonlyMap<string, ClaimHolder>> },
  classGroupId: string,
  ctx: CallContext,
): Promise<{ result: GenerationCounts; replayed: boolean }> {
  const streamId = lessonsStreamId(classGroupId, plan.startYear);
  const gradeLevel = plan.groups.get(classGroupId) as number;
  let basis = {
    calendarVersion: plan.calendarVersion,
    timetableVersion: plan.timetableVersion,
    wanted: wantedLessons(plan.timetable, classGroupId, plan.daysByGrade.get(gradeLevel) ?? []),
  };
  let retry = false;
  const decide = async (): Promise<Decided<GenerationCounts>> => {
    if (retry) {
      // A lost race: the calendar or the timetable may have changed since the plan.
      const fresh = await readBasis(deps, plan.schoolId, plan.startYear);
      const days = schoolDays(fresh.calendar, gradeLevel);
      basis = { ...fresh, wanted: wantedLessons(fresh.timetable, classGroupId, days) };
    }
    const wanted = basis.wanted;
    const { state, version } = await loadLessons(deps, streamId);
    const inRange = wanted.filter((w) => w.date >= plan.from && w.date <= plan.to);
    const check = claimsToCheck({ wanted: inRange, from: plan.from, to: plan.to }, state);
    // The scope's claims were read once for the command, maybe before this decision: a
    // claim they show free but taken since fails on the table's key (a retry, which reads
    // afresh); one they show held is read again, as it may have been freed since.
    let held =
      check.length < SCOPE_READ_FROM || retry ? undefined : heldOf(await plan.claims(), check);
    if (check.length > 0 && (held === undefined || held.size > 0))
      held = await heldClaims(deps.store.pool, plan, check);
    retry = true;
    const { events, skipped } = planGeneration(
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
        wanted: inRange,
        ...(held ? { held } : {}),
      },
      state,
    );
    const count = (name: string) => events.filter((e) => e.type.endsWith(name)).length;
    const result = {
      scheduled: count(".LessonScheduled"),
      unscheduled: count(".LessonUnscheduled"),
      teacherChanged: count(".LessonTeacherChanged"),
      skipped,
    };
    const metadata = { ...ctx.metadata, commandId };
    const withMeta = events.map((e) => ({ ...e, metadata }));
    return {
      result,
      appends: [{ streamId, expected: version, events: withMeta }, ...basisAppends(plan, basis)],
      alsoWrite: claimsWriter(state, events),
    };
  };
  return runStreamsCommand(deps.store, {
    commandId,
    payload,
    what: `lessons of ${classGroupId}`,
    decide,
  });
}

interface LessonRef {
  schoolId: string;
  startYear: number;
  classGroupId: string;
  lessonId: string;
}

/**
 * load -> decide -> append on one class group's lessons, with the lesson claims the events
 * change written in the same transaction (a cancellation frees its teacher and room).
 */
async function runOnLesson(
  deps: CurriculumDeps,
  commandId: string,
  ref: LessonRef,
  command: LessonsCommand,
  payload: unknown,
  ctx: CallContext,
) {
  checkCommandId(commandId);
  if (ref.classGroupId === "") throw invalidInput("class_group_id", "is required");
  const streamId = lessonsStreamId(ref.classGroupId, checkStartYear(ref.startYear));
  return runStreamsCommand(deps.store, {
    commandId,
    payload,
    what: streamId,
    metadata: ctx.metadata,
    async decide() {
      const { state, version } = await loadLessons(deps, streamId);
      const events = lessonsDecider.decide(command, state);
      return {
        result: {},
        appends: [{ streamId, expected: version, events }],
        alsoWrite: claimsWriter(state, events),
      };
    },
  });
}

/** Writes the claims of the lessons `events` touch (appended to a class group at `before`). */
export function claimsWriter(before: LessonsState, events: readonly NewEvent[]) {
  const change = claimChanges(before, events);
  return change && ((client: pg.PoolClient) => writeClaims(client, change));
}

/** "Today" is the school's civil date, not the server's (the clock is injectable). */
const schoolToday = (deps: CurriculumDeps, year: { timeZone: string }) =>
  civilDateIn(deps.clock.now(), year.timeZone);

async function calendarOf(deps: CurriculumDeps, schoolId: string, startYear: number) {
  const { state, version } = await loadAggregate(
    deps.store,
    calendarStreamId(checkSchoolId(schoolId), checkStartYear(startYear)),
    calendarDecider,
  );
  if (!state.year)
    throw refused("academic_year", "the school's calendar for this year is not defined yet");
  return { state, year: state.year, version };
}

export interface ConductInput extends LessonRef {
  topic: string;
  workProgrammeItemId: string;
  homework: string;
  homeworkDue: string;
  conductedBy: string;
}

/**
 * Records a lesson as conducted. The append expects the calendar at the version read, as a
 * move does: a day declared non-school meanwhile (DeclareNonSchoolDays, which expects the
 * lesson streams) makes it decide again and refuse the lesson on that day.
 */
export async function conductLesson(
  deps: CurriculumDeps,
  commandId: string,
  input: ConductInput,
  ctx: CallContext = {},
) {
  checkCommandId(commandId);
  if (input.classGroupId === "") throw invalidInput("class_group_id", "is required");
  const streamId = lessonsStreamId(input.classGroupId, checkStartYear(input.startYear));
  return runStreamsCommand(deps.store, {
    commandId,
    payload: { ConductLesson: input },
    what: `${streamId} or the calendar`,
    metadata: ctx.metadata,
    async decide() {
      const reads = new StreamReads(deps, input.startYear);
      const { state: calendar, year } = await reads.calendar(input.schoolId);
      const lessons = await reads.lessons(input.classGroupId);
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
        today: schoolToday(deps, year),
        nonSchoolDays: calendar.nonSchoolDays,
      };
      const events = lessonsDecider.decide(command, lessons);
      return {
        result: {},
        appends: reads.appends(streamId, events),
        alsoWrite: claimsWriter(lessons, events),
      };
    },
  });
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
 * Moves a lesson, checking its teacher (the substitute covering the target date, if any: the
 * lesson is handed to them) and its room in the target period against every lesson of the
 * school, whatever class group holds it, through the lesson_claims table. The claims are
 * written with the events, in the same transaction, and their primary key admits one lesson
 * per teacher or room and period: of two concurrent moves into one period in different
 * class groups the later fails on the key, reads again and is refused like a sequential move.
 * The append also expects the timetable (which names the substitute) and the calendar (the
 * class group's school days) at the versions read.
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
    what: `${streamId}, the timetable or the calendar`,
    metadata: ctx.metadata,
    async decide() {
      const reads = new StreamReads(deps, input.startYear);
      const { state, year } = await reads.calendar(input.schoolId);
      const group = await deps.facts.classGroup(input.classGroupId);
      if (!group) throw notFound("class_group_id", "class group", input.classGroupId);
      const lessons = await reads.lessons(input.classGroupId);
      const lesson = lessons.lessons.get(input.lessonId);
      const date = civilDateOrUndefined(input.toDate);
      const period = input.toPeriod;
      let teacherId: string | undefined;
      let teacherLastDay: CivilDate | undefined;
      let teacherElsewhere: Holder[] = [];
      let roomElsewhere: Holder[] = [];
      if (lesson && date && Number.isInteger(period) && period >= 1 && period <= MAX_PERIOD) {
        const timetable = await reads.timetable(input.schoolId);
        const slot = timetable.slots.get(lesson.slotId);
        teacherId = slot ? teacherOn(timetable, slot, date) : lesson.teacherId;
        teacherLastDay = assignmentEndedBefore(timetable, { ...lesson, teacherId }, date);
        const at = { date, period };
        const claims = [{ ...at, claim: teacherClaim(teacherId) }];
        if (lesson.room !== "") claims.push({ ...at, claim: roomClaim(lesson.room) });
        const school = { schoolId: lesson.schoolId, startYear: lesson.academicYear.startYear };
        const held = await heldClaims(deps.store.pool, school, claims);
        // A claim is held by a scheduled or conducted lesson only.
        const holding = (claim: string): Holder[] => {
          const h = held.get(claimKey(date, period, claim));
          return h ? [{ ...h, period, status: "scheduled", room: lesson.room }] : [];
        };
        teacherElsewhere = holding(teacherClaim(teacherId));
        if (lesson.room !== "") roomElsewhere = holding(roomClaim(lesson.room));
      }
      const events = lessonsDecider.decide(
        {
          kind: "MoveLesson",
          lessonId: input.lessonId,
          toDate: input.toDate,
          toPeriod: input.toPeriod,
          today: schoolToday(deps, year),
          schoolDays: dayTerms(schoolDays(state, group.gradeLevel)),
          ...(teacherId ? { teacherId } : {}),
          ...(teacherLastDay ? { teacherLastDay } : {}),
          teacherElsewhere,
          roomElsewhere,
        },
        lessons,
      );
      return {
        result: {},
        appends: reads.appends(streamId, events),
        alsoWrite: claimsWriter(lessons, events),
      };
    },
  });
}

type Holder = Pick<Lesson, "lessonId" | "classGroupId" | "period" | "status" | "room">;

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

  /** The school year's calendar: a move expects it, so a week set to five days meanwhile
   * (SetGradeWeekLength, which expects the lessons) makes it decide again. */
  async calendar(schoolId: string) {
    const calendar = await calendarOf(this.deps, schoolId, this.startYear);
    this.versions.set(calendarStreamId(checkSchoolId(schoolId), this.startYear), calendar.version);
    return calendar;
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
    // Clipped to the assignment's last day, as generation and handovers do (teacherOn).
    const a = substitutedOn(timetable, sub, lesson.date);
    if (a && covers(a, lesson)) teachers.add(sub.substituteId);
  }
  return { lesson, teachers };
}
