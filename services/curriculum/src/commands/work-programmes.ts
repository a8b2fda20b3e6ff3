import { loadAggregate } from "@otmetka/eventstore";
import { civilDate } from "@otmetka/service-kit";
import { invalidInput, notFound } from "../domain/errors.js";
import { lessonsStreamId } from "../domain/lessons.js";
import {
  currentVersion,
  type Delivery,
  delivery,
  type ProgrammeVersion,
  programmeDecider,
  programmeIdOf,
  subgroupsTaught,
} from "../domain/work-programme.js";
import { checkSchoolId, checkStartYear } from "./calendar.js";
import type { CallContext, CurriculumDeps } from "./deps.js";
import { loadLessons } from "./lessons.js";
import { runCommand } from "./run-command.js";
import { subjectKnown } from "./subjects.js";

interface ProgrammeRef {
  schoolId: string;
  startYear: number;
  subjectId: string;
  gradeLevel: number;
}

function streamOf(ref: ProgrammeRef): string {
  if (ref.subjectId === "") throw invalidInput("subject_id", "is required");
  return programmeIdOf(
    checkSchoolId(ref.schoolId),
    checkStartYear(ref.startYear),
    ref.subjectId,
    ref.gradeLevel,
  );
}

export async function draftWorkProgramme(
  deps: CurriculumDeps,
  commandId: string,
  input: ProgrammeRef & { items: { topic: string; hours: number }[]; authorId: string },
  ctx: CallContext = {},
) {
  const streamId = streamOf(input);
  const school = await deps.facts.school(input.schoolId);
  if (!school) throw notFound("school_id", "school known from identity", input.schoolId);
  const command = {
    kind: "DraftWorkProgramme" as const,
    scope: {
      schoolId: input.schoolId,
      municipalityId: school.municipalityId,
      academicYear: { startYear: input.startYear },
    },
    subjectId: input.subjectId,
    subjectKnown: await subjectKnown(deps, input.schoolId, input.subjectId),
    gradeLevel: input.gradeLevel,
    items: input.items,
    authorId: input.authorId,
    authorIsStaff: await deps.facts.isStaff(input.schoolId, input.authorId),
  };
  return runCommand(deps.store, {
    streamId,
    decider: programmeDecider,
    command,
    commandId,
    payload: { DraftWorkProgramme: input },
    result: (state) => ({ version: state.versions.length + 1 }),
    ...(ctx.metadata ? { metadata: ctx.metadata } : {}),
  });
}

export async function approveWorkProgramme(
  deps: CurriculumDeps,
  commandId: string,
  input: ProgrammeRef & { version: number; approvedBy: string },
  ctx: CallContext = {},
) {
  const streamId = streamOf(input);
  const command = {
    kind: "ApproveWorkProgramme" as const,
    version: input.version,
    approvedBy: input.approvedBy,
    approverIsStaff: await deps.facts.isStaff(input.schoolId, input.approvedBy),
  };
  return runCommand(deps.store, {
    streamId,
    decider: programmeDecider,
    command,
    commandId,
    payload: { ApproveWorkProgramme: input },
    result: () => ({}),
    ...(ctx.metadata ? { metadata: ctx.metadata } : {}),
  });
}

/** One version (0: the current approved one); every version stays readable. */
export async function getWorkProgramme(
  deps: CurriculumDeps,
  ref: ProgrammeRef,
  version: number,
): Promise<{ version: ProgrammeVersion; versions: number }> {
  const { state } = await loadAggregate(deps.store, streamOf(ref), programmeDecider);
  const found =
    version === 0 ? currentVersion(state) : state.versions.find((v) => v.version === version);
  if (!found)
    throw notFound(
      "version",
      "work programme version",
      version === 0 ? "approved" : String(version),
    );
  return { version: found, versions: state.versions.length };
}

/** Planned vs conducted to a date, for one class group, of the approved programme. */
export async function workProgrammeDelivery(
  deps: CurriculumDeps,
  input: {
    schoolId: string;
    startYear: number;
    subjectId: string;
    classGroupId: string;
    asOf: string;
    /** "": the whole class, with each subgroup's delivery. */
    subgroupId?: string;
  },
): Promise<
  Delivery & { subgroups: (Omit<Delivery, "version" | "totalHours"> & { subgroupId: string })[] }
> {
  const asOf = civilDate("as_of", input.asOf);
  const group = await deps.facts.classGroup(input.classGroupId);
  if (!group || group.schoolId !== input.schoolId)
    throw notFound("class_group_id", "class group of this school", input.classGroupId);
  const { version } = await getWorkProgramme(deps, { ...input, gradeLevel: group.gradeLevel }, 0);
  const { state } = await loadLessons(
    deps,
    lessonsStreamId(input.classGroupId, checkStartYear(input.startYear)),
  );
  const lessons = [...state.lessons.values()];
  const asked = input.subgroupId ?? "";
  if (asked !== "") {
    const sg = await deps.facts.subgroup(asked);
    if (!sg || sg.classGroupId !== input.classGroupId)
      throw notFound("subgroup_id", "subgroup of this class group", asked);
    return { ...delivery(version, lessons, asOf, asked), subgroups: [] };
  }
  return {
    ...delivery(version, lessons, asOf),
    subgroups: subgroupsTaught(lessons, input.subjectId).map((subgroupId) => {
      const { version: _v, totalHours: _t, ...d } = delivery(version, lessons, asOf, subgroupId);
      return { subgroupId, ...d };
    }),
  };
}
