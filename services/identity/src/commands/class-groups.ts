import { randomUUID } from "node:crypto";
import type { StreamAppend } from "@otmetka/eventstore";
import { requireAcademicYear } from "../domain/academic-year.js";
import {
  type ClassGroupState,
  classGroupDecider,
  requireGradeLevel,
  requireLetter,
} from "../domain/class-group.js";
import { notFound, refused } from "../domain/errors.js";
import { PersonKind } from "../domain/person.js";
import { streamIds } from "../domain/stream-ids.js";
import { requireCommandId, requireId } from "../domain/validators.js";
import type { CallContext, IdentityDeps } from "./deps.js";
import { inOpenSchool, loadSchool } from "./organisations.js";
import { loadPerson } from "./people.js";
import { decideOnStream, readStream, runCommand, runPlan } from "./run-command.js";

/** The class group and its read for a plan (readStream), or NOT_FOUND naming `field`. */
export async function readClassGroup(
  deps: IdentityDeps,
  field: string,
  classGroupId: string,
): Promise<{ state: ClassGroupState; read: StreamAppend }> {
  const r = await readStream(deps.store, streamIds.classGroup(classGroupId), classGroupDecider);
  if (!r.state.opened) throw notFound(field, "class group", classGroupId);
  return r;
}

export async function loadClassGroup(
  deps: IdentityDeps,
  field: string,
  classGroupId: string,
): Promise<ClassGroupState> {
  return (await readClassGroup(deps, field, classGroupId)).state;
}

/** "" or a staff member who is not erased. */
async function requireTeacher(deps: IdentityDeps, raw: string): Promise<string> {
  if (raw.trim() === "") return "";
  const id = requireId("homeroom_teacher_id", raw);
  const person = await loadPerson(deps, "homeroom_teacher_id", id);
  if (person.kind !== PersonKind.PERSON_KIND_STAFF || person.erased) {
    throw refused("homeroom_teacher_id", "is not a staff member");
  }
  return id;
}

async function refuseDuplicateName(
  deps: IdentityDeps,
  g: { schoolId: string; academicYear: number; gradeLevel: number; letter: string },
): Promise<void> {
  const { rowCount } = await deps.store.pool.query(
    `SELECT 1 FROM class_groups WHERE school_id = $1 AND academic_year = $2
       AND grade_level = $3 AND letter = $4 AND NOT closed`,
    [g.schoolId, g.academicYear, g.gradeLevel, g.letter],
  );
  if (rowCount) {
    throw refused("letter", `the school already has an open ${g.gradeLevel} ${g.letter} that year`);
  }
}

export interface OpenClassGroupInput {
  commandId: string;
  schoolId: string;
  academicYear?: { startYear: number } | undefined;
  gradeLevel: number;
  letter: string;
  homeroomTeacherId: string;
}

export async function openClassGroup(
  deps: IdentityDeps,
  input: OpenClassGroupInput,
  ctx: CallContext = {},
): Promise<{ classGroupId: string }> {
  const commandId = requireCommandId(input.commandId);
  const schoolId = requireId("school_id", input.schoolId);
  const academicYear = requireAcademicYear("academic_year", input.academicYear);
  const gradeLevel = requireGradeLevel("grade_level", input.gradeLevel);
  const letter = requireLetter("letter", input.letter);
  const school = await loadSchool(deps, "school_id", schoolId);
  const homeroomTeacherId = await requireTeacher(deps, input.homeroomTeacherId);
  const payload = {
    type: "OpenClassGroup",
    schoolId,
    academicYear,
    gradeLevel,
    letter,
    homeroomTeacherId,
  };
  if (!(await deps.store.findCommand(commandId))) {
    await refuseDuplicateName(deps, { schoolId, academicYear, gradeLevel, letter });
  }
  const classGroupId = randomUUID();
  const { result } = await runPlan(deps.store, {
    commandId,
    payload,
    ...(ctx.metadata ? { metadata: ctx.metadata } : {}),
    plan: () =>
      inOpenSchool(deps, schoolId, async () => [
        await decideOnStream(deps.store, streamIds.classGroup(classGroupId), classGroupDecider, {
          type: "OpenClassGroup",
          classGroupId,
          schoolId,
          municipalityId: school.municipalityId,
          academicYear,
          gradeLevel,
          letter,
          homeroomTeacherId,
        }),
      ]).then((appends) => ({ appends, result: { classGroupId } })),
  });
  return result;
}

export async function renameClassGroup(
  deps: IdentityDeps,
  input: { commandId: string; classGroupId: string; gradeLevel: number; letter: string },
  ctx: CallContext = {},
): Promise<void> {
  const commandId = requireCommandId(input.commandId);
  const classGroupId = requireId("class_group_id", input.classGroupId);
  const gradeLevel = requireGradeLevel("grade_level", input.gradeLevel);
  const letter = requireLetter("letter", input.letter);
  const g = await loadClassGroup(deps, "class_group_id", classGroupId);
  const changes = g.gradeLevel !== gradeLevel || g.letter !== letter;
  if (changes && !(await deps.store.findCommand(commandId))) {
    await refuseDuplicateName(deps, { ...g, gradeLevel, letter });
  }
  await runCommand(deps.store, {
    streamId: streamIds.classGroup(classGroupId),
    decider: classGroupDecider,
    command: { type: "RenameClassGroup", gradeLevel, letter },
    commandId,
    payload: { type: "RenameClassGroup", classGroupId, gradeLevel, letter },
    result: () => ({}),
    ...ctx,
  });
}

export async function assignHomeroomTeacher(
  deps: IdentityDeps,
  input: { commandId: string; classGroupId: string; homeroomTeacherId: string },
  ctx: CallContext = {},
): Promise<void> {
  const commandId = requireCommandId(input.commandId);
  const classGroupId = requireId("class_group_id", input.classGroupId);
  await loadClassGroup(deps, "class_group_id", classGroupId);
  const homeroomTeacherId = await requireTeacher(deps, input.homeroomTeacherId);
  await runCommand(deps.store, {
    streamId: streamIds.classGroup(classGroupId),
    decider: classGroupDecider,
    command: { type: "AssignHomeroomTeacher", homeroomTeacherId },
    commandId,
    payload: { type: "AssignHomeroomTeacher", classGroupId, homeroomTeacherId },
    result: () => ({}),
    ...ctx,
  });
}

export async function closeClassGroup(
  deps: IdentityDeps,
  input: { commandId: string; classGroupId: string },
  ctx: CallContext = {},
): Promise<void> {
  const commandId = requireCommandId(input.commandId);
  const classGroupId = requireId("class_group_id", input.classGroupId);
  await loadClassGroup(deps, "class_group_id", classGroupId);
  await runCommand(deps.store, {
    streamId: streamIds.classGroup(classGroupId),
    decider: classGroupDecider,
    command: { type: "CloseClassGroup" },
    commandId,
    payload: { type: "CloseClassGroup", classGroupId },
    result: () => ({}),
    ...ctx,
  });
}
