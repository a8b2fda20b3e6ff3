import type { Decider, NewEvent, RecordedEvent } from "@otmetka/eventstore";
import {
  academicYearDays,
  type CivilDate,
  civilDate,
  formatAcademicYear,
} from "@otmetka/service-kit";
import { type EndTeacherAssignmentCommand, endTeacherAssignment } from "./assignment-end.js";
import { invalidInput, notFound, refused } from "./errors.js";
import {
  type AcademicYearDefined,
  eventName,
  newEvent,
  type SubstituteAssigned,
  type TeacherAssigned,
  type TeacherAssignmentEnded,
  type TimetableSlotAdded,
} from "./events.js";
import { checkText, TEXT_LIMITS } from "./text.js";
import { gradeDaysPerWeek, weekLengthReason } from "./week-length.js";

/*
 * One school's teaching assignments and weekly timetable for one academic year, in one
 * stream: every conflict check (teacher, class group, room in a period; assigned teacher)
 * then runs against a consistent state under the stream's expected version.
 */
export const timetableStreamId = (schoolId: string, startYear: number) =>
  `timetable-${schoolId}-${startYear}`;

export const WEEKDAYS = [
  "",
  "Monday",
  "Tuesday",
  "Wednesday",
  "Thursday",
  "Friday",
  "Saturday",
  "Sunday",
];
export const MAX_PERIOD = 10;

/** What identity (through the replica) and the calendar say, resolved before deciding. */
export interface SchoolFacts {
  schoolId: string;
  municipalityId: string;
  startYear: number;
  closedOn: string | null;
}
export interface ClassGroupFacts {
  classGroupId: string;
  schoolId: string;
  startYear: number;
  gradeLevel: number;
  letter: string;
  closed: boolean;
}
export interface SubgroupFacts {
  subgroupId: string;
  classGroupId: string;
  /** The subject the subgroup is opened for (a subgroup learns one subject). */
  subjectId: string;
}

/** An assignment, with its last day once ended (EndTeacherAssignment). */
export type Assignment = TeacherAssigned & { lastDay?: CivilDate };

export interface TimetableState {
  assignments: Map<string, Assignment>;
  substitutes: SubstituteAssigned[];
  /** Slots by id, with `validTo` moved back when ended. */
  slots: Map<string, TimetableSlotAdded>;
}

interface Target {
  classGroupId: string;
  subgroupId: string;
  /** Facts looked up for the ids above (undefined: identity never announced it). */
  classGroup: ClassGroupFacts | undefined;
  subgroup: SubgroupFacts | undefined;
}

export type TimetableCommand =
  | ({
      kind: "AssignTeacher";
      school: SchoolFacts;
      assignmentId: string;
      teacherId: string;
      teacherIsStaff: boolean;
      subjectId: string;
      subjectKnown: boolean;
    } & Target)
  | {
      kind: "AssignSubstitute";
      school: SchoolFacts;
      assignmentId: string;
      substituteId: string;
      substituteIsStaff: boolean;
      firstDay: string;
      lastDay: string;
    }
  | ({
      kind: "AddTimetableSlot";
      school: SchoolFacts;
      calendar: AcademicYearDefined | undefined;
      /** The calendar's week lengths set per grade level (none: the school's, grade 1 five days). */
      weekLengths?: ReadonlyMap<number, number>;
      slotId: string;
      weekday: number;
      period: number;
      subjectId: string;
      teacherId: string;
      room: string;
      validFrom: string;
      validTo: string;
    } & Target)
  | { kind: "EndTimetableSlot"; school: SchoolFacts; slotId: string; lastDay: string }
  | EndTeacherAssignmentCommand;

/** One event applied in place to a state the caller owns. */
function applyTimetableEvent(state: TimetableState, event: { type: string; data: unknown }) {
  switch (eventName(event.type)) {
    case "TeacherAssigned": {
      const a = event.data as TeacherAssigned;
      state.assignments.set(a.assignmentId, a);
      return;
    }
    case "TeacherAssignmentEnded": {
      const { assignmentId, lastDay } = event.data as TeacherAssignmentEnded;
      const a = state.assignments.get(assignmentId);
      if (a) state.assignments.set(assignmentId, { ...a, lastDay });
      return;
    }
    case "SubstituteAssigned":
      state.substitutes.push(event.data as SubstituteAssigned);
      return;
    case "TimetableSlotAdded": {
      const s = event.data as TimetableSlotAdded;
      state.slots.set(s.slotId, s);
      return;
    }
    case "TimetableSlotEnded": {
      const { slotId, lastDay } = event.data as { slotId: string; lastDay: string };
      const slot = state.slots.get(slotId);
      if (slot) state.slots.set(slotId, { ...slot, validTo: lastDay });
      return;
    }
  }
}

/**
 * A stream's events folded in one pass into a fresh state. `evolve` copies the state per
 * event (it is pure), which made loading a school's ~1,000-event timetable quadratic.
 */
export function foldTimetable(events: Iterable<{ type: string; data: unknown }>): TimetableState {
  const state = timetableDecider.initialState();
  for (const e of events) applyTimetableEvent(state, e);
  return state;
}

export const timetableDecider: Decider<TimetableState, TimetableCommand> = {
  initialState: () => ({ assignments: new Map(), substitutes: [], slots: new Map() }),
  evolve(state, event: RecordedEvent) {
    // A copy of the one collection the event changes; the others are shared.
    const next = { ...state };
    switch (eventName(event.type)) {
      case "TeacherAssigned":
      case "TeacherAssignmentEnded":
        next.assignments = new Map(state.assignments);
        break;
      case "SubstituteAssigned":
        next.substitutes = [...state.substitutes];
        break;
      case "TimetableSlotAdded":
      case "TimetableSlotEnded":
        next.slots = new Map(state.slots);
        break;
      default:
        return state;
    }
    applyTimetableEvent(next, event);
    return next;
  },
  decide(c, state): NewEvent[] {
    const scope = {
      schoolId: c.school.schoolId,
      municipalityId: c.school.municipalityId,
      academicYear: { startYear: c.school.startYear },
    };
    switch (c.kind) {
      case "AssignTeacher":
        return [assignTeacher(c, state, scope)];
      case "AssignSubstitute":
        return [assignSubstitute(c, state, scope)];
      case "AddTimetableSlot":
        return [addSlot(c, state, scope)];
      case "EndTimetableSlot":
        return endSlot(c, state, scope);
      case "EndTeacherAssignment":
        return endTeacherAssignment(c, state);
    }
  },
};

type Scope = Pick<TeacherAssigned, "schoolId" | "municipalityId" | "academicYear">;
type Cmd<K extends TimetableCommand["kind"]> = Extract<TimetableCommand, { kind: K }>;

function checkOpenSchool(school: SchoolFacts) {
  if (school.closedOn) throw refused("school_id", `the school closed on ${school.closedOn}`);
}

/**
 * The class group (and subgroup) must be this school's, of this year, and open; a subgroup is
 * one of the class group's for the subject taught (English subgroups do not learn maths).
 */
function checkTarget(t: Target, school: SchoolFacts, subjectId: string): ClassGroupFacts {
  const cg = t.classGroup;
  if (!cg) throw notFound("class_group_id", "class group", t.classGroupId);
  if (cg.schoolId !== school.schoolId)
    throw refused("class_group_id", `class group ${t.classGroupId} belongs to another school`);
  if (cg.startYear !== school.startYear) {
    throw refused(
      "class_group_id",
      `class group ${t.classGroupId} is of ${formatAcademicYear(cg.startYear)}, not ${formatAcademicYear(school.startYear)}`,
    );
  }
  if (cg.closed) throw refused("class_group_id", `class group ${t.classGroupId} is closed`);
  if (t.subgroupId !== "") {
    if (!t.subgroup) throw notFound("subgroup_id", "subgroup", t.subgroupId);
    if (t.subgroup.classGroupId !== t.classGroupId) {
      throw refused("subgroup_id", `subgroup ${t.subgroupId} belongs to another class group`);
    }
    if (t.subgroup.subjectId !== subjectId)
      throw refused(
        "subgroup_id",
        `subgroup ${t.subgroupId} is one for ${t.subgroup.subjectId}, not ${subjectId}`,
      );
  }
  return cg;
}

function assignTeacher(c: Cmd<"AssignTeacher">, state: TimetableState, scope: Scope) {
  checkOpenSchool(c.school);
  if (!c.teacherIsStaff) throw notFound("teacher_id", "staff member of this school", c.teacherId);
  if (!c.subjectKnown)
    throw notFound("subject_id", "subject in the regional or school catalogue", c.subjectId);
  checkTarget(c, c.school, c.subjectId);
  // An ended assignment does not count: the teacher may be assigned the class again.
  const same = [...state.assignments.values()].find(
    (a) =>
      a.lastDay === undefined &&
      a.teacherId === c.teacherId &&
      a.subjectId === c.subjectId &&
      a.classGroupId === c.classGroupId &&
      a.subgroupId === c.subgroupId,
  );
  if (same)
    throw refused(
      "teacher_id",
      `teacher ${c.teacherId} is already assigned this (assignment ${same.assignmentId})`,
    );
  return newEvent("TeacherAssigned", {
    ...scope,
    assignmentId: c.assignmentId,
    teacherId: c.teacherId,
    subjectId: c.subjectId,
    classGroupId: c.classGroupId,
    subgroupId: c.subgroupId,
  });
}

function assignSubstitute(c: Cmd<"AssignSubstitute">, state: TimetableState, scope: Scope) {
  checkOpenSchool(c.school);
  const assignment = state.assignments.get(c.assignmentId);
  if (!assignment) throw notFound("assignment_id", "teaching assignment", c.assignmentId);
  if (!c.substituteIsStaff)
    throw notFound("substitute_id", "staff member of this school", c.substituteId);
  if (c.substituteId === assignment.teacherId)
    throw refused("substitute_id", "is the assigned teacher");
  const firstDay = civilDate("first_day", c.firstDay);
  const lastDay = civilDate("last_day", c.lastDay);
  if (lastDay < firstDay) throw invalidInput("last_day", "must not precede first_day");
  // A date of another year (a typo) would cover no slot and be accepted with nothing handed over.
  const year = academicYearDays(c.school.startYear);
  for (const [field, day] of [
    ["first_day", firstDay],
    ["last_day", lastDay],
  ] as const) {
    if (day < year.firstDay || day > year.lastDay)
      throw invalidInput(
        field,
        `must lie inside the academic year ${year.firstDay} - ${year.lastDay}, got ${day}`,
      );
  }
  if (assignment.lastDay !== undefined && lastDay > assignment.lastDay)
    throw refused("last_day", `the assignment ended on ${assignment.lastDay}`);
  const clash = state.substitutes.find(
    (s) => s.assignmentId === c.assignmentId && s.firstDay <= lastDay && firstDay <= s.lastDay,
  );
  if (clash)
    throw refused(
      "first_day",
      `a substitute (${clash.substituteId}) already covers ${clash.firstDay} - ${clash.lastDay}`,
    );
  // The substitute must be free in the covered slots' periods: their own slots, or another
  // substitution of theirs, in the same weekday and period over those dates.
  for (const covered of state.slots.values()) {
    if (!covers(assignment, covered)) continue;
    const dates = overlap(covered.validFrom, covered.validTo, firstDay, lastDay);
    if (!dates) continue;
    const busy = teacherSlot(state, c.substituteId, covered.weekday, covered.period, ...dates);
    if (busy)
      throw refused(
        "substitute_id",
        `teacher ${c.substituteId} is already booked on ${WEEKDAYS[covered.weekday]} period ${covered.period} (${describeSlot(busy)}) while covering ${describeSlot(covered)}`,
      );
  }
  return newEvent("SubstituteAssigned", {
    ...scope,
    assignmentId: c.assignmentId,
    substituteId: c.substituteId,
    firstDay,
    lastDay,
  });
}

const describeSlot = (s: TimetableSlotAdded) => `slot ${s.slotId}, ${s.validFrom} - ${s.validTo}`;

function addSlot(c: Cmd<"AddTimetableSlot">, state: TimetableState, scope: Scope) {
  checkOpenSchool(c.school);
  const year = c.calendar;
  if (!year)
    throw refused("academic_year", "the school's calendar for this year is not defined yet");
  const weekLengths = c.weekLengths ?? new Map<number, number>();
  // The school's longest week first (input no grade level could take), the grade's below.
  const longest = Math.max(year.daysPerWeek, ...weekLengths.values());
  if (!Number.isInteger(c.weekday) || c.weekday < 1 || c.weekday > longest) {
    const whose = longest > year.daysPerWeek ? "a grade level of the school has" : "the school has";
    throw invalidInput(
      "weekday",
      `must be 1-${longest} (${whose} a ${longest}-day week), got ${c.weekday}`,
    );
  }
  if (!Number.isInteger(c.period) || c.period < 1 || c.period > MAX_PERIOD) {
    throw invalidInput("period", `must be 1-${MAX_PERIOD}, got ${c.period}`);
  }
  const validFrom = civilDate("valid_from", c.validFrom || year.firstDay);
  const validTo = civilDate("valid_to", c.validTo || year.lastDay);
  // The date outside is the field named (valid_to too, which was reported as valid_from).
  for (const [field, day] of [
    ["valid_from", validFrom],
    ["valid_to", validTo],
  ] as const) {
    if (day < year.firstDay || day > year.lastDay)
      throw invalidInput(
        field,
        `the slot must lie inside the school year ${year.firstDay} - ${year.lastDay}, got ${day}`,
      );
  }
  if (validTo < validFrom) throw invalidInput("valid_to", "must not precede valid_from");
  const room = checkText("room", c.room, { max: TEXT_LIMITS.room, required: false });
  const cg = checkTarget(c, c.school, c.subjectId);
  const week = gradeDaysPerWeek(year, weekLengths, cg.gradeLevel);
  if (c.weekday > week) {
    throw refused(
      "weekday",
      `${WEEKDAYS[c.weekday]} is not a school day of class group ${cg.gradeLevel}${cg.letter}: ${weekLengthReason(year, weekLengths, cg.gradeLevel)} (weekday 1-${week}, got ${c.weekday})`,
    );
  }
  const when = `${WEEKDAYS[c.weekday]} period ${c.period}`;
  for (const s of state.slots.values()) {
    if (s.weekday !== c.weekday || s.period !== c.period) continue;
    if (!(s.validFrom <= validTo && validFrom <= s.validTo)) continue;
    if (s.teacherId === c.teacherId || substitutes(state, s, c.teacherId, validFrom, validTo)) {
      throw refused(
        "teacher_id",
        `teacher ${c.teacherId} is already booked on ${when} (${describeSlot(s)})`,
      );
    }
    // Two different subgroups of one class group may meet at once (split lessons); anything
    // else involving the same class group is a double booking.
    const bothSubgroups =
      s.subgroupId !== "" && c.subgroupId !== "" && s.subgroupId !== c.subgroupId;
    if (s.classGroupId === c.classGroupId && !bothSubgroups) {
      throw refused(
        "class_group_id",
        `class group ${cg.gradeLevel}${cg.letter} is already booked on ${when} (${describeSlot(s)})`,
      );
    }
    if (room !== "" && s.room === room) {
      throw refused("room", `room ${room} is already booked on ${when} (${describeSlot(s)})`);
    }
  }
  if (!isAssigned(state, c, validTo)) {
    throw refused(
      "teacher_id",
      `teacher ${c.teacherId} is not assigned to teach ${c.subjectId} to class group ${cg.gradeLevel}${cg.letter}${c.subgroupId ? ` (subgroup ${c.subgroupId})` : ""}`,
    );
  }
  // A substitute of the teacher takes the slot's lessons over their dates (teacherOn), so must
  // be free in its period then, as AssignSubstitute requires of the slots it covers.
  for (const sub of state.substitutes) {
    const a = state.assignments.get(sub.assignmentId);
    if (!a || !covers(a, c)) continue;
    // Clipped to the assignment's last day, as teacherOn clips it (substitutedOn).
    const last = a.lastDay !== undefined && a.lastDay < sub.lastDay ? a.lastDay : sub.lastDay;
    const dates = overlap(validFrom, validTo, sub.firstDay, last);
    const busy = dates && teacherSlot(state, sub.substituteId, c.weekday, c.period, ...dates);
    if (busy)
      throw refused(
        "teacher_id",
        `teacher ${c.teacherId}'s substitute ${sub.substituteId} (${sub.firstDay} - ${sub.lastDay}) is already booked on ${when} (${describeSlot(busy)})`,
      );
  }
  return newEvent("TimetableSlotAdded", {
    ...scope,
    slotId: c.slotId,
    weekday: c.weekday,
    period: c.period,
    classGroupId: c.classGroupId,
    subgroupId: c.subgroupId,
    gradeLevel: cg.gradeLevel,
    subjectId: c.subjectId,
    teacherId: c.teacherId,
    room,
    validFrom,
    validTo,
  });
}

/**
 * An assignment of the subgroup itself, or of the whole class group, covers a subgroup slot
 * (covers); an ended one only a slot that ends by its last day.
 */
function isAssigned(state: TimetableState, slot: Taught, validTo: CivilDate) {
  for (const a of state.assignments.values()) {
    if (a.lastDay !== undefined && validTo > a.lastDay) continue;
    if (covers(a, slot)) return true;
  }
  return false;
}

function endSlot(c: Cmd<"EndTimetableSlot">, state: TimetableState, scope: Scope): NewEvent[] {
  const slot = state.slots.get(c.slotId);
  if (!slot) throw notFound("slot_id", "timetable slot", c.slotId);
  const lastDay = civilDate("last_day", c.lastDay);
  if (lastDay >= slot.validTo)
    throw refused("last_day", `the slot already ends on ${slot.validTo}`);
  return [newEvent("TimetableSlotEnded", { ...scope, slotId: c.slotId, lastDay })];
}

/** The days [from, to] two date ranges have in common, if any (civil dates compare as text). */
function overlap(
  firstA: CivilDate,
  lastA: CivilDate,
  firstB: CivilDate,
  lastB: CivilDate,
): [CivilDate, CivilDate] | undefined {
  const from = firstA > firstB ? firstA : firstB;
  const to = lastA < lastB ? lastA : lastB;
  return from <= to ? [from, to] : undefined;
}

/** What a slot or a lesson is: a teacher's subject in a class group or one of its subgroups. */
export interface Taught {
  teacherId: string;
  subjectId: string;
  classGroupId: string;
  subgroupId: string;
}

/**
 * The slots and lessons an assignment covers (and its substitute takes, up to the
 * assignment's last day once ended): its teacher's, subject's and class group's, of its own
 * subgroup, or of any subgroup for a whole-class assignment. A teacher holding one subject in
 * two subgroups has two assignments, and a substitution of one is not of the other's.
 */
export function covers(a: TeacherAssigned, t: Taught): boolean {
  return (
    a.teacherId === t.teacherId &&
    a.subjectId === t.subjectId &&
    a.classGroupId === t.classGroupId &&
    (a.subgroupId === "" || a.subgroupId === t.subgroupId)
  );
}

/** Whether `teacherId` substitutes in `slot` on some day of [from, to]. */
function substitutes(
  state: TimetableState,
  slot: TimetableSlotAdded,
  teacherId: string,
  from: CivilDate,
  to: CivilDate,
): boolean {
  return state.substitutes.some((sub) => {
    if (sub.substituteId !== teacherId || sub.firstDay > to || from > sub.lastDay) return false;
    const a = state.assignments.get(sub.assignmentId);
    if (a?.lastDay !== undefined && (from > a.lastDay || sub.firstDay > a.lastDay)) return false;
    return a !== undefined && covers(a, slot);
  });
}

/** A slot where `teacherId` teaches (as its teacher or a substitute) in a weekday and period over [from, to]. */
function teacherSlot(
  state: TimetableState,
  teacherId: string,
  weekday: number,
  period: number,
  from: CivilDate,
  to: CivilDate,
): TimetableSlotAdded | undefined {
  for (const s of state.slots.values()) {
    if (s.weekday !== weekday || s.period !== period) continue;
    if (s.validTo < from || to < s.validFrom) continue;
    if (s.teacherId === teacherId || substitutes(state, s, teacherId, from, to)) return s;
  }
  return undefined;
}

/**
 * The last day of the teacher's assignments covering `t` when none of them still runs on
 * `date` (all ended before it): a lesson of theirs on that date is one they no longer teach,
 * the state EndTeacherAssignment refuses to leave. Undefined while one covers the date, or
 * when none covers `t` at all.
 */
export function assignmentEndedBefore(
  state: TimetableState,
  t: Taught,
  date: CivilDate,
): CivilDate | undefined {
  let ended: CivilDate | undefined;
  for (const a of state.assignments.values()) {
    if (!covers(a, t)) continue;
    if (a.lastDay === undefined || date <= a.lastDay) return undefined;
    if (ended === undefined || a.lastDay > ended) ended = a.lastDay;
  }
  return ended;
}

/** The teacher who takes a slot's lesson on a date: a substitute covering it, or the assigned one. */
export function teacherOn(
  state: TimetableState,
  slot: TimetableSlotAdded,
  date: CivilDate,
): string {
  for (const s of state.substitutes) {
    const a = substitutedOn(state, s, date);
    if (a && covers(a, slot)) return s.substituteId;
  }
  return slot.teacherId;
}

/**
 * The assignment a substitution covers on a date: none outside its dates, nor after the
 * assignment's last day once ended (a substitution lends no day after it).
 */
export function substitutedOn(
  state: TimetableState,
  sub: SubstituteAssigned,
  date: CivilDate,
): Assignment | undefined {
  if (sub.firstDay > date || date > sub.lastDay) return undefined;
  const a = state.assignments.get(sub.assignmentId);
  return a?.lastDay !== undefined && date > a.lastDay ? undefined : a;
}
