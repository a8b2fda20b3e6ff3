import { loadAggregate } from "@otmetka/eventstore";
import type { SubjectAdded } from "../domain/events.js";
import {
  catalogueDecider,
  catalogueStreamId,
  REGIONAL_CATALOGUE,
  subjectIdOf,
} from "../domain/subject-catalogue.js";
import { checkMunicipality, checkSchoolId } from "./calendar.js";
import type { CallContext, CurriculumDeps } from "./deps.js";
import { runCommand } from "./run-command.js";

export interface AddSubjectInput {
  schoolId: string;
  municipalityId: string;
  code: string;
  name: string;
  grading: string;
}

/** Adds a regional subject (no school) or a school's own subject. */
export async function addSubject(
  deps: CurriculumDeps,
  commandId: string,
  input: AddSubjectInput,
  ctx: CallContext = {},
) {
  const schoolId = input.schoolId === "" ? "" : checkSchoolId(input.schoolId);
  const municipalityId =
    schoolId === "" ? "" : await checkMunicipality(deps, schoolId, input.municipalityId);
  const regional = schoolId === "" ? undefined : await loadCatalogue(deps, REGIONAL_CATALOGUE);
  const command = { ...input, schoolId, municipalityId, ...(regional ? { regional } : {}) };
  return runCommand(deps.store, {
    streamId: catalogueStreamId(schoolId),
    decider: catalogueDecider,
    command,
    payload: { ...input, schoolId, municipalityId },
    commandId,
    result: () => ({ subjectId: subjectIdOf(schoolId, input.code) }),
    ...(ctx.metadata ? { metadata: ctx.metadata } : {}),
  });
}

async function loadCatalogue(deps: CurriculumDeps, streamId: string) {
  return (await loadAggregate(deps.store, streamId, catalogueDecider)).state;
}

/** The regional catalogue, plus the school's own subjects when a school is named. */
export async function listSubjects(
  deps: CurriculumDeps,
  schoolId: string,
): Promise<SubjectAdded[]> {
  const regional = await loadCatalogue(deps, REGIONAL_CATALOGUE);
  const own =
    schoolId === ""
      ? []
      : [
          ...(
            await loadCatalogue(deps, catalogueStreamId(checkSchoolId(schoolId)))
          ).subjects.values(),
        ];
  return [...regional.subjects.values(), ...own].sort((a, b) =>
    a.subjectId.localeCompare(b.subjectId),
  );
}

/** Whether a subject id is in the regional catalogue or the school's own. */
export async function subjectKnown(
  deps: CurriculumDeps,
  schoolId: string,
  subjectId: string,
): Promise<boolean> {
  const [regional, own] = await Promise.all([
    loadCatalogue(deps, REGIONAL_CATALOGUE),
    loadCatalogue(deps, catalogueStreamId(checkSchoolId(schoolId))),
  ]);
  const known = (s: typeof regional) =>
    [...s.subjects.values()].some((x) => x.subjectId === subjectId);
  return known(regional) || known(own);
}
