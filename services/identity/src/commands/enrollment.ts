import type { Queryable, StreamAppend } from "@otmetka/eventstore";
import { PersonalData } from "@otmetka/proto/identity/v1/identity_service";
import { aadOf, open } from "../crypto/aead.js";
import { nameTokens } from "../crypto/blind-index.js";
import { findDataKey } from "../crypto/person-keys.js";
import type { EnrollmentTarget } from "../domain/enrollment.js";
import { personDecider } from "../domain/person.js";
import { nameText } from "../domain/personal-data.js";
import { streamIds } from "../domain/stream-ids.js";
import { requireCivilDate, requireCommandId, requireId } from "../domain/validators.js";
import { readClassGroup } from "./class-groups.js";
import type { CallContext, IdentityDeps } from "./deps.js";
import { readSchool } from "./organisations.js";
import { loadPerson } from "./people.js";
import { decideOnStream, runCommand, runPlan } from "./run-command.js";

/**
 * The target class group and its school, with both streams' reads for the plan: a class group
 * or school closed after this read moves a stream the append checks, so the command plans again
 * and is refused, instead of enrolling into what closed meanwhile.
 */
async function loadTarget(
  deps: IdentityDeps,
  field: string,
  classGroupId: string,
): Promise<{ target: EnrollmentTarget; reads: StreamAppend[] }> {
  const g = await readClassGroup(deps, field, classGroupId);
  const school = await readSchool(deps, field, g.state.schoolId);
  const target = {
    classGroupId,
    schoolId: g.state.schoolId,
    municipalityId: g.state.municipalityId,
    academicYear: g.state.academicYear,
    gradeLevel: g.state.gradeLevel,
    classGroupClosed: g.state.closed,
    schoolClosedOn: school.state.closedOn,
  };
  return { target, reads: [g.read, school.read] };
}

/**
 * Makes a pupil's name searchable in the school they join: the tokens are computed from their
 * decrypted name (they were indexed only where they were registered).
 */
export async function indexNameAtSchool(
  deps: IdentityDeps,
  db: Queryable,
  personId: string,
  schoolId: string,
): Promise<void> {
  const { rows } = await db.query<{ personal_data: Buffer | null }>(
    "SELECT personal_data FROM people WHERE person_id = $1",
    [personId],
  );
  const key = await findDataKey(db, deps.masterKeys, personId);
  const blob = rows[0]?.personal_data;
  const plain = key && blob ? open(key, aadOf.personalData(personId), blob) : undefined;
  if (!plain) return;
  for (const token of nameTokens(
    deps.blindIndexKey,
    schoolId,
    nameText(PersonalData.decode(plain)),
  )) {
    await db.query(
      "INSERT INTO person_name_index (school_id, token, person_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
      [schoolId, token, personId],
    );
  }
}

async function moveCommand(
  deps: IdentityDeps,
  type: "EnrollStudent" | "TransferStudent",
  input: { commandId: string; personId: string; classGroupId: string; effectiveDate: string },
  field: "class_group_id" | "to_class_group_id",
  ctx: CallContext,
): Promise<void> {
  const commandId = requireCommandId(input.commandId);
  const personId = requireId("person_id", input.personId);
  const classGroupId = requireId(field, input.classGroupId);
  const effectiveDate = requireCivilDate("effective_date", input.effectiveDate);
  const person = await loadPerson(deps, "person_id", personId);
  let joined = "";
  await runPlan(deps.store, {
    commandId,
    payload: { type, personId, classGroupId, effectiveDate },
    ...(ctx.metadata ? { metadata: ctx.metadata } : {}),
    plan: async () => {
      const { target, reads } = await loadTarget(deps, field, classGroupId);
      joined = target.schoolId;
      const append = await decideOnStream(deps.store, streamIds.person(personId), personDecider, {
        type,
        target,
        effectiveDate,
      });
      return { appends: [append, ...reads], result: {} };
    },
    alsoWrite: async (client) => {
      if (joined !== person.schoolId) await indexNameAtSchool(deps, client, personId, joined);
    },
  });
}

export const enrollStudent = (
  deps: IdentityDeps,
  input: { commandId: string; personId: string; classGroupId: string; effectiveDate: string },
  ctx: CallContext = {},
) => moveCommand(deps, "EnrollStudent", input, "class_group_id", ctx);

export const transferStudent = (
  deps: IdentityDeps,
  input: { commandId: string; personId: string; toClassGroupId: string; effectiveDate: string },
  ctx: CallContext = {},
) =>
  moveCommand(
    deps,
    "TransferStudent",
    { ...input, classGroupId: input.toClassGroupId },
    "to_class_group_id",
    ctx,
  );

export async function withdrawStudent(
  deps: IdentityDeps,
  input: { commandId: string; personId: string; effectiveDate: string },
  ctx: CallContext = {},
): Promise<void> {
  const commandId = requireCommandId(input.commandId);
  const personId = requireId("person_id", input.personId);
  const effectiveDate = requireCivilDate("effective_date", input.effectiveDate);
  await loadPerson(deps, "person_id", personId);
  await runCommand(deps.store, {
    streamId: streamIds.person(personId),
    decider: personDecider,
    command: { type: "WithdrawStudent", effectiveDate },
    commandId,
    payload: { type: "WithdrawStudent", personId, effectiveDate },
    result: () => ({}),
    ...ctx,
  });
}
