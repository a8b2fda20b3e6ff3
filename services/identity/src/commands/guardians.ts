import { loadAggregate, type StreamAppend } from "@otmetka/eventstore";
import { parseRoleClaim } from "@otmetka/service-kit";
import { accountsOfPerson, requireNoAccountSincePlan } from "../accounts/accounts.js";
import { aadOf, seal } from "../crypto/aead.js";
import { findDataKey } from "../crypto/person-keys.js";
import { accountGrantsDecider, type GrantRouting } from "../domain/account-grants.js";
import { refused } from "../domain/errors.js";
import { PersonKind, personDecider } from "../domain/person.js";
import { streamIds } from "../domain/stream-ids.js";
import { requireCommandId, requireId, requireName } from "../domain/validators.js";
import type { CallContext, IdentityDeps } from "./deps.js";
import { indexNameAtSchool } from "./enrollment.js";
import { inOpenSchool, loadSchool } from "./organisations.js";
import { loadPerson } from "./people.js";
import { decideOnStream, readStream, runCommand, runPlan } from "./run-command.js";

type GuardianCommandType =
  | "LinkGuardian"
  | "UnlinkGuardian"
  | "GrantPortalConsent"
  | "WithdrawPortalConsent";

interface GuardianInput {
  commandId: string;
  studentId: string;
  guardianId: string;
}

/** Commands on a student's stream that name one of their guardians. */
async function guardianCommand(
  deps: IdentityDeps,
  type: GuardianCommandType,
  input: GuardianInput,
  ctx: CallContext,
): Promise<void> {
  const commandId = requireCommandId(input.commandId);
  const studentId = requireId("student_id", input.studentId);
  const guardianId = requireId("guardian_id", input.guardianId);
  await loadPerson(deps, "student_id", studentId);
  await loadPerson(deps, "guardian_id", guardianId);
  // Linking and consent need a guardian who is not erased: their stream is read in the plan and
  // checked in the append, so an erasure committed meanwhile makes the command plan again and
  // refuse (and a retry is answered first). Unlinking and withdrawing only narrow.
  const needsGuardian = type === "LinkGuardian" || type === "GrantPortalConsent";
  await runPlan(deps.store, {
    commandId,
    payload: { type, studentId, guardianId },
    ...(ctx.metadata ? { metadata: ctx.metadata } : {}),
    plan: async () => {
      const reads: StreamAppend[] = [];
      if (needsGuardian) {
        const guardian = await readStream(deps.store, streamIds.person(guardianId), personDecider);
        if (type === "LinkGuardian" && guardian.state.kind !== PersonKind.PERSON_KIND_GUARDIAN)
          throw refused("guardian_id", "is not a guardian");
        if (guardian.state.erased)
          throw refused("guardian_id", type === "LinkGuardian" ? "is not a guardian" : "is erased");
        reads.push(guardian.read);
      }
      const appends = [
        await decideOnStream(deps.store, streamIds.person(studentId), personDecider, {
          type,
          guardianId,
        }),
        ...reads,
      ];
      return { appends, result: {} };
    },
  });
}

export const linkGuardian = (deps: IdentityDeps, input: GuardianInput, ctx: CallContext = {}) =>
  guardianCommand(deps, "LinkGuardian", input, ctx);
export const unlinkGuardian = (deps: IdentityDeps, input: GuardianInput, ctx: CallContext = {}) =>
  guardianCommand(deps, "UnlinkGuardian", input, ctx);
export const grantPortalConsent = (
  deps: IdentityDeps,
  input: GuardianInput,
  ctx: CallContext = {},
) => guardianCommand(deps, "GrantPortalConsent", input, ctx);
export const withdrawPortalConsent = (
  deps: IdentityDeps,
  input: GuardianInput,
  ctx: CallContext = {},
) => guardianCommand(deps, "WithdrawPortalConsent", input, ctx);

/**
 * The portal id links the pupil to their account at the state portal: personal data, so it is
 * stored as ciphertext under the pupil's key (the external purpose, which the portal feed opens
 * with DecryptForPerson).
 */
export async function assignPortalId(
  deps: IdentityDeps,
  input: { commandId: string; studentId: string; portalId: string },
  ctx: CallContext = {},
): Promise<void> {
  const commandId = requireCommandId(input.commandId);
  const studentId = requireId("student_id", input.studentId);
  const portalId = requireName("portal_id", input.portalId, 100);
  const student = await loadPerson(deps, "student_id", studentId);
  if (student.erased) throw refused("student_id", "is erased");
  const key = await findDataKey(deps.store.pool, deps.masterKeys, studentId);
  if (!key) throw refused("student_id", "has no data key");
  await runCommand(deps.store, {
    streamId: streamIds.person(studentId),
    decider: personDecider,
    command: {
      type: "AssignPortalId",
      portalId: seal(key, aadOf.external(studentId), Buffer.from(portalId)),
    },
    commandId,
    // No portal id in clear in the commands table.
    payload: { type: "AssignPortalId", studentId },
    result: () => ({}),
    ...ctx,
  });
}

interface StaffSchoolInput {
  commandId: string;
  personId: string;
  schoolId: string;
}

/** A staff-school command's checked ids, with the person and the school found (typed errors). */
async function staffSchoolCommand(deps: IdentityDeps, input: StaffSchoolInput) {
  const commandId = requireCommandId(input.commandId);
  const personId = requireId("person_id", input.personId);
  const schoolId = requireId("school_id", input.schoolId);
  await loadPerson(deps, "person_id", personId);
  const school = await loadSchool(deps, "school_id", schoolId);
  return { commandId, personId, schoolId, school };
}

export async function assignStaffToSchool(
  deps: IdentityDeps,
  input: StaffSchoolInput,
  ctx: CallContext = {},
): Promise<void> {
  const { commandId, personId, schoolId, school } = await staffSchoolCommand(deps, input);
  await runPlan(deps.store, {
    commandId,
    payload: { type: "AssignStaffToSchool", personId, schoolId },
    ...(ctx.metadata ? { metadata: ctx.metadata } : {}),
    plan: async () => ({
      appends: await inOpenSchool(deps, schoolId, async () => [
        await decideOnStream(deps.store, streamIds.person(personId), personDecider, {
          type: "AssignStaffToSchool",
          schoolId,
          municipalityId: school.municipalityId,
        }),
      ]),
      result: {},
    }),
    // Staff of that school can find their colleague by name too.
    alsoWrite: (client) => indexNameAtSchool(deps, client, personId, schoolId),
  });
}

/**
 * The staff member stops working at the school (a teacher who left): the school is no longer
 * one of theirs, so it no longer reads their data nor has a say over them, and their roles
 * there (TEACHER, SCHOOL_ADMIN at that school, on each of their accounts) are revoked in the
 * same command: leaving a school ends access there. Never their only school (the decider
 * refuses). A closed school may be left. A grant at the school made meanwhile moves the
 * account's stream, so the command plans again and revokes it too.
 */
export async function unassignStaffFromSchool(
  deps: IdentityDeps,
  input: StaffSchoolInput,
  ctx: CallContext = {},
): Promise<void> {
  const { commandId, personId, schoolId, school } = await staffSchoolCommand(deps, input);
  const routing = { schoolId, municipalityId: school.municipalityId };
  let accountIds: string[] = [];
  await runPlan(deps.store, {
    commandId,
    payload: { type: "UnassignStaffFromSchool", personId, schoolId },
    ...(ctx.metadata ? { metadata: ctx.metadata } : {}),
    plan: async () => {
      const appends = [
        await decideOnStream(deps.store, streamIds.person(personId), personDecider, {
          type: "UnassignStaffFromSchool",
          ...routing,
        }),
      ];
      accountIds = await accountsOfPerson(deps.store.pool, personId);
      for (const accountId of accountIds) {
        appends.push(await revokeGrantsAtSchool(deps, accountId, routing));
      }
      return { appends, result: {} };
    },
    // An account opened after the plan read them may hold a role at the school granted
    // meanwhile (the grant committed before this append locked the person's stream): plan
    // again and revoke it too.
    alsoWrite: async (client) =>
      requireNoAccountSincePlan(accountIds, await accountsOfPerson(client, personId)),
  });
}

/** RoleRevoked for each grant the account holds at the school (none: no events). */
async function revokeGrantsAtSchool(
  deps: IdentityDeps,
  accountId: string,
  routing: GrantRouting,
): Promise<StreamAppend> {
  const streamId = streamIds.account(accountId);
  const { state, version } = await loadAggregate(deps.store, streamId, accountGrantsDecider);
  // Each claim is held once, so each revocation is decided on the loaded state.
  const events = [...state.claims]
    .sort()
    .map(parseRoleClaim)
    .filter((g) => g.scope.kind === "school" && g.scope.id === routing.schoolId)
    .flatMap((grant) =>
      accountGrantsDecider.decide({ type: "RevokeRole", accountId, grant, routing }, state),
    );
  return { streamId, expected: version, events };
}
