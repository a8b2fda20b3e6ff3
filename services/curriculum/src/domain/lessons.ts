import { hash } from "node:crypto";
import type { Decider, NewEvent, RecordedEvent } from "@otmetka/eventstore";
import { type CivilDate, civilDate } from "@otmetka/service-kit";
import { nonSchoolDayOn } from "./calendar.js";
import { invalidInput, notFound, refused } from "./errors.js";
import {
  eventName,
  type LessonFacts,
  type LessonMoved,
  type LessonScheduled,
  type NonSchoolDaysDeclared,
  newEvent,
} from "./events.js";
import {
  type Claim,
  type ClaimHolder,
  claimKey,
  roomClaim,
  teacherClaim,
  type WantedClaim,
} from "./lesson-claims.js";
import { checkText, TEXT_LIMITS } from "./text.js";
import { MAX_PERIOD } from "./timetable.js";

/** A class group's lessons of one academic year: one stream per class group and year. */
export const lessonsStreamId = (classGroupId: string, startYear: number) =>
  `lessons-${classGroupId}-${startYear}`;

/**
 * A lesson's id is derived from its slot and date, so regenerating the same timetable over
 * the same days yields the same ids: nothing is duplicated.
 */
export function lessonIdOf(slotId: string, date: CivilDate): string {
  // One-shot hash (Node >= 20.12): no Hash object per lesson, ~30,000 of them a school year.
  const h = hash("sha256", `${slotId}|${date}`, "hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((Number.parseInt(h.slice(16, 17), 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const wantedIds = new WeakMap<WantedLesson, string>();

/** lessonIdOf a wanted lesson, hashed once however often a plan asks (a year: ~30,000). */
export function wantedLessonId(w: WantedLesson): string {
  let id = wantedIds.get(w);
  if (id === undefined) {
    id = lessonIdOf(w.slotId, w.date);
    wantedIds.set(w, id);
  }
  return id;
}

export type LessonStatus = "scheduled" | "conducted" | "cancelled" | "unscheduled";

export interface Lesson extends LessonScheduled {
  status: LessonStatus;
  moved: boolean;
  topic?: string;
  workProgrammeItemId?: string;
  homework?: string;
  homeworkDue?: string;
  conductedBy?: string;
}

export interface LessonsState {
  lessons: Map<string, Lesson>;
}

/** A lesson the timetable asks for (computed from slots, substitutes and the calendar). */
export interface WantedLesson {
  slotId: string;
  date: CivilDate;
  term: number;
  period: number;
  subgroupId: string;
  subjectId: string;
  teacherId: string;
  room: string;
}

type Scope = Pick<LessonFacts, "schoolId" | "municipalityId" | "academicYear" | "classGroupId">;

export type LessonsCommand =
  | {
      kind: "GenerateLessons";
      scope: Scope;
      from: CivilDate;
      to: CivilDate;
      wanted: WantedLesson[];
      /**
       * Claims (claimKey) of the wanted lessons' teachers and rooms that some lesson holds,
       * from the lesson_claims table: a wanted lesson whose teacher or room another lesson
       * holds is skipped.
       */
      held?: ReadonlyMap<string, ClaimHolder>;
    }
  | {
      kind: "ConductLesson";
      lessonId: string;
      topic: string;
      workProgrammeItemId: string;
      homework: string;
      homeworkDue: string;
      conductedBy: string;
      conductedByIsStaff: boolean;
      /**
       * Item ids of the work programme in force (latest approved version) for the lesson's
       * subject and grade; undefined when none is approved. Checked when an item is named.
       */
      programmeItemIds?: ReadonlySet<string>;
      /** Today in the school's zone: a lesson in the future cannot be conducted. */
      today: CivilDate;
      /** The calendar's declared non-school days: a lesson on one did not take place. */
      nonSchoolDays: readonly NonSchoolDaysDeclared[];
    }
  | { kind: "CancelLesson"; lessonId: string; reason: string }
  | {
      kind: "MoveLesson";
      lessonId: string;
      toDate: string;
      toPeriod: number;
      /** Today in the school's zone: a lesson is not moved into an earlier day. */
      today: CivilDate;
      /** The class group's school days with their terms (from the calendar). */
      schoolDays: ReadonlyMap<CivilDate, number>;
      /**
       * Who teaches the lesson on the target date: a substitute covering that date (from the
       * timetable), else the lesson's teacher. The lesson is handed to them when it moves.
       */
      teacherId?: string;
      /**
       * The last day of that teacher's assignment for the lesson when it ended before the
       * target date (assignmentEndedBefore): the move is refused.
       */
      teacherLastDay?: CivilDate;
      /** Lessons (any class group's) holding that teacher on the target date (lesson_claims). */
      teacherElsewhere?: readonly Pick<Lesson, "lessonId" | "period" | "classGroupId" | "status">[];
      /** Lessons (any class group's) holding the lesson's room on the target date. */
      roomElsewhere?: readonly Pick<
        Lesson,
        "lessonId" | "period" | "classGroupId" | "status" | "room"
      >[];
    };

/**
 * Folds events in one pass into a fresh state (a class group's year is ~1,000 lessons;
 * copying the map per event would make loading quadratic). Pure: it owns the map it fills.
 */
export function foldLessons(
  events: Iterable<{ type: string; data: unknown }>,
  from: LessonsState = { lessons: new Map() },
): LessonsState {
  const lessons = new Map(from.lessons);
  for (const e of events) {
    const id = (e.data as LessonFacts).lessonId;
    const next = applyLessonEvent(lessons.get(id), e);
    if (next) lessons.set(id, next);
  }
  return { lessons };
}

export const lessonsDecider: Decider<LessonsState, LessonsCommand> = {
  initialState: () => ({ lessons: new Map() }),
  evolve: (state, event: RecordedEvent) => foldLessons([event], state),
  decide(c, state): NewEvent[] {
    switch (c.kind) {
      case "GenerateLessons":
        return planGeneration(c, state).events;
      case "ConductLesson":
        return [conduct(c, state)];
      case "CancelLesson":
        return [cancel(c, state)];
      case "MoveLesson":
        return move(c, state);
    }
  },
};

/** One event applied to one lesson; undefined when it changes nothing. */
function applyLessonEvent(
  lesson: Lesson | undefined,
  event: { type: string; data: unknown },
): Lesson | undefined {
  const name = eventName(event.type);
  if (name === "LessonScheduled") return scheduledLesson(event.data as LessonScheduled);
  if (!lesson) return undefined;
  switch (name) {
    case "LessonUnscheduled":
      return { ...lesson, status: "unscheduled" };
    case "LessonCancelled":
      return { ...lesson, status: "cancelled" };
    case "LessonConducted": {
      const c = event.data as {
        topic: string;
        workProgrammeItemId: string;
        homework: string;
        homeworkDue: string;
        conductedBy: string;
      };
      return {
        ...lesson,
        status: "conducted",
        topic: c.topic,
        workProgrammeItemId: c.workProgrammeItemId,
        homework: c.homework,
        homeworkDue: c.homeworkDue,
        conductedBy: c.conductedBy,
      };
    }
    case "LessonTeacherChanged":
      return { ...lesson, teacherId: (event.data as { newTeacherId: string }).newTeacherId };
    case "LessonMoved": {
      const m = event.data as LessonMoved;
      return { ...lesson, date: m.toDate, period: m.toPeriod, term: m.toTerm, moved: true };
    }
    default:
      return undefined;
  }
}

/**
 * Built field by field rather than spread: V8 turns `{ ...x, more }` into a slow
 * dictionary-mode object, which cost ~10 µs per lesson in loading and generating a year.
 */
const scheduledLesson = (s: LessonScheduled): Lesson => ({
  schoolId: s.schoolId,
  municipalityId: s.municipalityId,
  academicYear: s.academicYear,
  lessonId: s.lessonId,
  classGroupId: s.classGroupId,
  subgroupId: s.subgroupId,
  subjectId: s.subjectId,
  teacherId: s.teacherId,
  date: s.date,
  period: s.period,
  slotId: s.slotId,
  term: s.term,
  room: s.room,
  status: "scheduled",
  moved: false,
});

const factsOf = (l: Lesson): LessonFacts => ({
  lessonId: l.lessonId,
  schoolId: l.schoolId,
  municipalityId: l.municipalityId,
  academicYear: l.academicYear,
  classGroupId: l.classGroupId,
  subgroupId: l.subgroupId,
  subjectId: l.subjectId,
  teacherId: l.teacherId,
  date: l.date,
  period: l.period,
});

/**
 * A lesson handed to `newTeacherId` (a substitution, a move into or out of one), named by the
 * date and period it has after the events before it (`at`: a move's target).
 */
export const teacherChanged = (
  l: Lesson,
  newTeacherId: string,
  at: { date: CivilDate; period: number } = l,
): NewEvent =>
  newEvent("LessonTeacherChanged", {
    ...factsOf(l),
    date: at.date,
    period: at.period,
    newTeacherId,
  });

/** A scheduled lesson taken off the class group's schedule (never conducted, so nothing lost). */
export const unscheduled = (l: Lesson, reason: string): NewEvent =>
  newEvent("LessonUnscheduled", { ...factsOf(l), reason });

/** Two lessons of one class group clash in a period unless they are different subgroups. */
const clashes = (a: { subgroupId: string }, b: { subgroupId: string }) =>
  a.subgroupId === "" || b.subgroupId === "" || a.subgroupId === b.subgroupId;

/**
 * Brings the class group's lessons in [from, to] in line with the timetable: schedules the
 * wanted lessons not there yet, hands scheduled ones to the teacher a substitution now
 * names, unschedules scheduled (never conducted, cancelled or moved)
 * lessons the timetable no longer has. A wanted lesson is skipped where a conducted or moved
 * lesson already holds its period, or where another lesson (any class group's) holds its
 * teacher or room in that period (`held`); so is a handover to a teacher busy then. Skipped
 * lessons and handovers are counted in `skipped`. Running it twice changes nothing the
 * second time.
 */
export function planGeneration(
  c: Extract<LessonsCommand, { kind: "GenerateLessons" }>,
  state: LessonsState,
): { events: NewEvent[]; skipped: number } {
  const events: NewEvent[] = [];
  const held = new Map<string, Lesson[]>();
  for (const l of state.lessons.values()) {
    if (l.status !== "conducted" && !(l.moved && l.status === "scheduled")) continue;
    const key = `${l.date}|${l.period}`;
    held.set(key, [...(held.get(key) ?? []), l]);
  }
  const inRange = c.wanted.filter((w) => w.date >= c.from && w.date <= c.to);
  const wantedIds = new Set(inRange.map(wantedLessonId));
  const dropped = [...state.lessons.values()].filter(
    (l) =>
      l.status === "scheduled" &&
      !l.moved &&
      !wantedIds.has(l.lessonId) &&
      l.date >= c.from &&
      l.date <= c.to,
  );
  // Claims this batch takes or frees, over what the table held when read.
  const claims = new Map(c.held ?? []);
  const freed = new Set(dropped.map((l) => l.lessonId));
  const takenBy = (lessonId: string, date: CivilDate, period: number, claim: Claim) => {
    const holder = claims.get(claimKey(date, period, claim));
    return holder && holder.lessonId !== lessonId && !freed.has(holder.lessonId);
  };
  const take = (lessonId: string, date: CivilDate, period: number, claim: Claim) =>
    claims.set(claimKey(date, period, claim), { lessonId, classGroupId: c.scope.classGroupId });
  let skipped = 0;
  for (const w of inRange) {
    const lessonId = wantedLessonId(w);
    const existing = state.lessons.get(lessonId);
    if (existing) {
      // A substitution added or withdrawn after generation: the lesson changes hands.
      if (
        existing.status === "scheduled" &&
        !existing.moved &&
        existing.teacherId !== w.teacherId
      ) {
        const claim = teacherClaim(w.teacherId);
        if (takenBy(lessonId, w.date, w.period, claim)) {
          skipped++;
          continue;
        }
        take(lessonId, w.date, w.period, claim);
        events.push(teacherChanged(existing, w.teacherId));
      }
      continue;
    }
    if ((held.get(`${w.date}|${w.period}`) ?? []).some((l) => clashes(l, w))) continue;
    const wants =
      w.room === "" ? [teacherClaim(w.teacherId)] : [teacherClaim(w.teacherId), roomClaim(w.room)];
    if (wants.some((claim) => takenBy(lessonId, w.date, w.period, claim))) {
      skipped++;
      continue;
    }
    for (const claim of wants) take(lessonId, w.date, w.period, claim);
    events.push(
      newEvent("LessonScheduled", {
        schoolId: c.scope.schoolId,
        municipalityId: c.scope.municipalityId,
        academicYear: c.scope.academicYear,
        classGroupId: c.scope.classGroupId,
        lessonId,
        subgroupId: w.subgroupId,
        subjectId: w.subjectId,
        teacherId: w.teacherId,
        date: w.date,
        period: w.period,
        slotId: w.slotId,
        term: w.term,
        room: w.room,
      }),
    );
  }
  for (const l of dropped) events.push(unscheduled(l, "no longer in the timetable"));
  return { events, skipped };
}

/**
 * The claims planGeneration may check against `held`: those of the wanted lessons not there
 * yet and the teachers of the handovers. A regeneration that changes nothing checks none, so
 * it needs no read of the claims table.
 */
export function claimsToCheck(
  c: Pick<Extract<LessonsCommand, { kind: "GenerateLessons" }>, "wanted" | "from" | "to">,
  state: LessonsState,
): WantedClaim[] {
  const out: WantedClaim[] = [];
  for (const w of c.wanted) {
    if (w.date < c.from || w.date > c.to) continue;
    const existing = state.lessons.get(wantedLessonId(w));
    if (existing) {
      if (existing.status === "scheduled" && !existing.moved && existing.teacherId !== w.teacherId)
        out.push({ date: w.date, period: w.period, claim: teacherClaim(w.teacherId) });
      continue;
    }
    out.push({ date: w.date, period: w.period, claim: teacherClaim(w.teacherId) });
    if (w.room !== "") out.push({ date: w.date, period: w.period, claim: roomClaim(w.room) });
  }
  return out;
}

function lessonOf(state: LessonsState, lessonId: string): Lesson {
  const l = state.lessons.get(lessonId);
  if (!l || l.status === "unscheduled") throw notFound("lesson_id", "lesson", lessonId);
  return l;
}

function conduct(c: Extract<LessonsCommand, { kind: "ConductLesson" }>, state: LessonsState) {
  const l = lessonOf(state, c.lessonId);
  if (l.status === "cancelled") throw refused("lesson_id", `lesson ${c.lessonId} was cancelled`);
  if (l.status === "conducted")
    throw refused("lesson_id", `lesson ${c.lessonId} is already conducted`);
  if (l.date > c.today)
    throw refused("lesson_id", `lesson ${c.lessonId} is on ${l.date}, after today ${c.today}`);
  const off = nonSchoolDayOn(c.nonSchoolDays, l.date);
  if (off)
    throw refused(
      "lesson_id",
      `lesson ${c.lessonId} is on ${l.date}, a non-school day ("${off.name}", ${off.firstDay} - ${off.lastDay})`,
    );
  const topic = checkText("topic", c.topic, { max: TEXT_LIMITS.topic });
  const conductedBy = c.conductedBy || l.teacherId;
  if (!c.conductedByIsStaff)
    throw notFound("conducted_by", "staff member of this school", conductedBy);
  if (c.workProgrammeItemId !== "") {
    if (!c.programmeItemIds)
      throw refused(
        "work_programme_item_id",
        `${l.subjectId} has no approved work programme for this class group's grade`,
      );
    if (!c.programmeItemIds.has(c.workProgrammeItemId))
      throw notFound(
        "work_programme_item_id",
        `item of the approved ${l.subjectId} work programme`,
        c.workProgrammeItemId,
      );
  }
  const homework = checkText("homework", c.homework, {
    max: TEXT_LIMITS.homework,
    required: false,
    multiline: true,
  });
  let homeworkDue = "";
  if (c.homeworkDue !== "") {
    if (homework === "") throw invalidInput("homework_due", "needs homework text");
    homeworkDue = civilDate("homework_due", c.homeworkDue);
    if (homeworkDue <= l.date)
      throw invalidInput("homework_due", `must be after the lesson date ${l.date}`);
  }
  return newEvent("LessonConducted", {
    ...factsOf(l),
    topic,
    workProgrammeItemId: c.workProgrammeItemId,
    homework,
    homeworkDue,
    conductedBy,
  });
}

function cancel(c: Extract<LessonsCommand, { kind: "CancelLesson" }>, state: LessonsState) {
  const l = lessonOf(state, c.lessonId);
  if (l.status === "conducted")
    throw refused("lesson_id", `lesson ${c.lessonId} is already conducted`);
  if (l.status === "cancelled")
    throw refused("lesson_id", `lesson ${c.lessonId} is already cancelled`);
  const reason = checkText("reason", c.reason, { max: TEXT_LIMITS.reason, multiline: true });
  return newEvent("LessonCancelled", { ...factsOf(l), reason });
}

function move(c: Extract<LessonsCommand, { kind: "MoveLesson" }>, state: LessonsState): NewEvent[] {
  const l = lessonOf(state, c.lessonId);
  if (l.status !== "scheduled")
    throw refused(
      "lesson_id",
      `lesson ${c.lessonId} is ${l.status}; only a scheduled lesson moves`,
    );
  const toDate = civilDate("to_date", c.toDate);
  if (!Number.isInteger(c.toPeriod) || c.toPeriod < 1 || c.toPeriod > MAX_PERIOD) {
    throw invalidInput("to_period", `must be 1-${MAX_PERIOD}, got ${c.toPeriod}`);
  }
  // The past is recorded, not planned: a lesson there would be one nobody can hold.
  if (toDate < c.today)
    throw refused(
      "to_date",
      `${toDate} is before today ${c.today}; a lesson moves to today or later`,
    );
  const toTerm = c.schoolDays.get(toDate);
  if (toTerm === undefined)
    throw refused("to_date", `${toDate} is not a school day for this class group`);
  if (toDate === l.date && c.toPeriod === l.period)
    throw invalidInput("to_date", "is the lesson's current date and period");
  const teacherId = c.teacherId || l.teacherId;
  if (c.teacherLastDay !== undefined && toDate > c.teacherLastDay)
    throw refused(
      "to_date",
      `teacher ${teacherId}'s assignment to ${l.subjectId} in this class group ended on ${c.teacherLastDay}; their lesson moves to that day or earlier`,
    );
  for (const o of state.lessons.values()) {
    if (o.lessonId === l.lessonId || o.date !== toDate || o.period !== c.toPeriod) continue;
    if (o.status === "scheduled" || o.status === "conducted") {
      if (clashes(o, l))
        throw refused(
          "to_period",
          `the class group already has lesson ${o.lessonId} (${o.subjectId}) on ${toDate} period ${c.toPeriod}`,
        );
    }
  }
  const busy = (c.teacherElsewhere ?? []).find(
    (o) =>
      o.lessonId !== l.lessonId &&
      o.period === c.toPeriod &&
      (o.status === "scheduled" || o.status === "conducted"),
  );
  if (busy) {
    throw refused(
      "to_period",
      `teacher ${teacherId} already teaches lesson ${busy.lessonId} (class group ${busy.classGroupId}) on ${toDate} period ${c.toPeriod}`,
    );
  }
  const roomBusy =
    l.room === ""
      ? undefined
      : [
          ...[...state.lessons.values()].filter((o) => o.date === toDate),
          ...(c.roomElsewhere ?? []),
        ].find(
          (o) =>
            o.lessonId !== l.lessonId &&
            o.period === c.toPeriod &&
            o.room === l.room &&
            (o.status === "scheduled" || o.status === "conducted"),
        );
  if (roomBusy) {
    throw refused(
      "to_period",
      `room ${l.room} is taken by lesson ${roomBusy.lessonId} (class group ${roomBusy.classGroupId}) on ${toDate} period ${c.toPeriod}`,
    );
  }
  const moved = newEvent("LessonMoved", { ...factsOf(l), toDate, toPeriod: c.toPeriod, toTerm });
  if (teacherId === l.teacherId) return [moved];
  // Moved lessons are never handed over by a regeneration: the move hands it over itself.
  return [moved, teacherChanged(l, teacherId, { date: toDate, period: c.toPeriod })];
}
