import { randomUUID } from "node:crypto";
import { loadAggregate } from "@otmetka/eventstore";
import { heldClaims } from "../db/lesson-claims.js";
import { calendarDecider, calendarStreamId } from "../domain/calendar.js";
import { invalidInput, notFound } from "../domain/errors.js";
import type { TeacherAssigned } from "../domain/events.js";
import { handOver, handoverClaims, handoversOf } from "../domain/handover.js";
import { lessonsStreamId } from "../domain/lessons.js";
import {
  foldTimetable,
  type SchoolFacts,
  type TimetableState,
  timetableDecider,
  timetableStreamId,
} from "../domain/timetable.js";
import { checkSchoolId, checkStartYear } from "./calendar.js";
import type { CallContext, CurriculumDeps } from "./deps.js";
import { claimsWriter, loadLessons } from "./lessons.js";
import { checkCommandId, runCommand, runStreamsCommand } from "./run-command.js";
import { subjectKnown } from "./subjects.js";

interface Scoped {
  schoolId: string;
  startYear: number;
}

async function schoolFacts(deps: CurriculumDeps, input: Scoped): Promise<SchoolFacts> {
  const schoolId = checkSchoolId(input.schoolId);
  const startYear = checkStartYear(input.startYear);
  const school = await deps.facts.school(schoolId);
  if (!school) throw notFound("school_id", "school known from identity", schoolId);
  return { schoolId, municipalityId: school.municipalityId, startYear, closedOn: school.closedOn };
}

async function target(deps: CurriculumDeps, classGroupId: string, subgroupId: string) {
  if (classGroupId === "") throw invalidInput("class_group_id", "is required");
  return {
    classGroupId,
    subgroupId,
    classGroup: await deps.facts.classGroup(classGroupId),
    subgroup: subgroupId === "" ? undefined : await deps.facts.subgroup(subgroupId),
  };
}

function run(
  deps: CurriculumDeps,
  school: SchoolFacts,
  commandId: string,
  command: Parameters<typeof timetableDecider.decide>[0],
  payload: unknown,
  result: unknown,
  ctx: CallContext,
) {
  return runCommand(deps.store, {
    streamId: timetableStreamId(school.schoolId, school.startYear),
    decider: timetableDecider,
    command,
    commandId,
    payload,
    result: () => result,
    ...(ctx.metadata ? { metadata: ctx.metadata } : {}),
  });
}

export interface AssignTeacherInput extends Scoped {
  teacherId: string;
  subjectId: string;
  classGroupId: string;
  subgroupId: string;
}

export async function assignTeacher(
  deps: CurriculumDeps,
  commandId: string,
  input: AssignTeacherInput,
  ctx: CallContext = {},
) {
  const school = await schoolFacts(deps, input);
  const assignmentId = randomUUID();
  const command = {
    kind: "AssignTeacher" as const,
    school,
    assignmentId,
    teacherId: input.teacherId,
    teacherIsStaff: await deps.facts.isStaff(school.schoolId, input.teacherId),
    subjectId: input.subjectId,
    subjectKnown: await subjectKnown(deps, school.schoolId, input.subjectId),
    ...(await target(deps, input.classGroupId, input.subgroupId)),
  };
  const out = await run(
    deps,
    school,
    commandId,
    command,
    { AssignTeacher: input },
    { assignmentId },
    ctx,
  );
  return out as { result: { assignmentId: string }; replayed: boolean };
}

export interface AssignSubstituteInput extends Scoped {
  assignmentId: string;
  substituteId: string;
  firstDay: string;
  lastDay: string;
}

/**
 * Assigns a substitute and hands them the covered lessons already generated (handoversOf:
 * still scheduled, from the first day, past days included), in one transaction: the
 * timetable's `SubstituteAssigned` and the class group's `LessonTeacherChanged` events, both
 * streams at the versions read, with the lessons' claims. Refused whole
 * (`FAILED_PRECONDITION substitute_id`) when another lesson holds the substitute in a covered
 * lesson's period; a lost race (a concurrent move or generation) decides again on fresh reads.
 * `handedOver` counts the lessons handed over (0 in a replay of a command recorded before).
 */
export async function assignSubstitute(
  deps: CurriculumDeps,
  commandId: string,
  input: AssignSubstituteInput,
  ctx: CallContext = {},
): Promise<{ result: { handedOver?: number }; replayed: boolean }> {
  checkCommandId(commandId);
  const school = await schoolFacts(deps, input);
  const command = {
    kind: "AssignSubstitute" as const,
    school,
    assignmentId: input.assignmentId,
    substituteId: input.substituteId,
    substituteIsStaff: await deps.facts.isStaff(school.schoolId, input.substituteId),
    firstDay: input.firstDay,
    lastDay: input.lastDay,
  };
  const timetableId = timetableStreamId(school.schoolId, school.startYear);
  return runStreamsCommand(deps.store, {
    commandId,
    payload: { AssignSubstitute: input },
    what: `${timetableId} or the covered class group's lessons`,
    metadata: ctx.metadata,
    async decide() {
      const recorded = await deps.store.readStream(timetableId);
      const before = foldTimetable(recorded);
      const assigned = timetableDecider.decide(command, before);
      const after = foldTimetable([...recorded, ...assigned]);
      // The decider refuses an unknown assignment: this one is known.
      const { classGroupId } = before.assignments.get(input.assignmentId) as TeacherAssigned;
      const lessonsId = lessonsStreamId(classGroupId, school.startYear);
      const lessons = await loadLessons(deps, lessonsId);
      const handovers = handoversOf(before, after, lessons.state);
      const held = await heldClaims(deps.store.pool, school, handoverClaims(handovers));
      const handed = handOver(handovers, held, "substitute_id");
      return {
        result: { handedOver: handed.length },
        appends: [
          { streamId: timetableId, expected: recorded.at(-1)?.version ?? 0, events: assigned },
          { streamId: lessonsId, expected: lessons.version, events: handed },
        ],
        alsoWrite: claimsWriter(lessons.state, handed),
      };
    },
  });
}

export interface EndTeacherAssignmentInput extends Scoped {
  assignmentId: string;
  lastDay: string;
}

/**
 * Ends an assignment on its last day (domain/assignment-end.ts). Decided on the timetable and
 * the lessons of the assignment's class group, both appended at the versions read: a lesson
 * scheduled or handed to the teacher meanwhile makes it decide again on fresh reads.
 */
export async function endTeacherAssignment(
  deps: CurriculumDeps,
  commandId: string,
  input: EndTeacherAssignmentInput,
  ctx: CallContext = {},
): Promise<{ result: Record<string, never>; replayed: boolean }> {
  checkCommandId(commandId);
  const school = await schoolFacts(deps, input);
  const timetableId = timetableStreamId(school.schoolId, school.startYear);
  return runStreamsCommand(deps.store, {
    commandId,
    payload: { EndTeacherAssignment: input },
    what: `${timetableId} or the class group's lessons`,
    metadata: ctx.metadata,
    async decide() {
      const recorded = await deps.store.readStream(timetableId);
      const state = foldTimetable(recorded);
      const assignment = state.assignments.get(input.assignmentId);
      const lessons = assignment
        ? await loadLessons(deps, lessonsStreamId(assignment.classGroupId, school.startYear))
        : undefined;
      const events = timetableDecider.decide(
        {
          kind: "EndTeacherAssignment",
          school,
          assignmentId: input.assignmentId,
          lastDay: input.lastDay,
          lessons: lessons?.state.lessons.values() ?? [],
        },
        state,
      );
      const appends = [{ streamId: timetableId, expected: recorded.at(-1)?.version ?? 0, events }];
      if (assignment && lessons) {
        const lessonsId = lessonsStreamId(assignment.classGroupId, school.startYear);
        appends.push({ streamId: lessonsId, expected: lessons.version, events: [] });
      }
      return { result: {}, appends };
    },
  });
}

export interface AddSlotInput extends Scoped {
  weekday: number;
  period: number;
  classGroupId: string;
  subgroupId: string;
  subjectId: string;
  teacherId: string;
  room: string;
  validFrom: string;
  validTo: string;
}

export async function addTimetableSlot(
  deps: CurriculumDeps,
  commandId: string,
  input: AddSlotInput,
  ctx: CallContext = {},
) {
  checkCommandId(commandId);
  const school = await schoolFacts(deps, input);
  const slotId = randomUUID();
  const command = {
    kind: "AddTimetableSlot" as const,
    school,
    slotId,
    weekday: input.weekday,
    period: input.period,
    subjectId: input.subjectId,
    teacherId: input.teacherId,
    room: input.room,
    validFrom: input.validFrom,
    validTo: input.validTo,
    ...(await target(deps, input.classGroupId, input.subgroupId)),
  };
  const calendarId = calendarStreamId(school.schoolId, school.startYear);
  const timetableId = timetableStreamId(school.schoolId, school.startYear);
  // The calendar is appended at the version read too: a grade's week set to five days
  // meanwhile (SetGradeWeekLength, which reads the timetable likewise) makes it decide again.
  return runStreamsCommand(deps.store, {
    commandId,
    payload: { AddTimetableSlot: input },
    what: `${timetableId} or its calendar`,
    metadata: ctx.metadata,
    async decide() {
      const [calendar, recorded] = await Promise.all([
        loadAggregate(deps.store, calendarId, calendarDecider),
        deps.store.readStream(timetableId),
      ]);
      const events = timetableDecider.decide(
        {
          ...command,
          calendar: calendar.state.year,
          weekLengths: calendar.state.weekLengths,
        },
        foldTimetable(recorded),
      );
      return {
        result: { slotId },
        appends: [
          {
            streamId: timetableId,
            expected: recorded.at(-1)?.version ?? 0,
            events: events,
          },
          { streamId: calendarId, expected: calendar.version, events: [] },
        ],
      };
    },
  });
}

export async function endTimetableSlot(
  deps: CurriculumDeps,
  commandId: string,
  input: Scoped & { slotId: string; lastDay: string },
  ctx: CallContext = {},
) {
  const school = await schoolFacts(deps, input);
  const command = {
    kind: "EndTimetableSlot" as const,
    school,
    slotId: input.slotId,
    lastDay: input.lastDay,
  };
  return run(deps, school, commandId, command, { EndTimetableSlot: input }, {}, ctx);
}

export async function loadTimetable(
  deps: CurriculumDeps,
  schoolId: string,
  startYear: number,
): Promise<TimetableState> {
  const id = timetableStreamId(checkSchoolId(schoolId), checkStartYear(startYear));
  return (await loadAggregate(deps.store, id, timetableDecider)).state;
}
