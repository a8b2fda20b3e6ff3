import type { IdentityServiceServer } from "@otmetka/proto/identity/v1/identity_service";
import {
  type AuthorizedCall,
  authorizedHandler,
  type CallerVerifier,
  DomainError,
  type Logger,
  type Role,
  requireRole,
} from "@otmetka/service-kit";
import {
  assignHomeroomTeacher,
  closeClassGroup,
  openClassGroup,
  renameClassGroup,
} from "../commands/class-groups.js";
import type { CallContext, IdentityDeps } from "../commands/deps.js";
import { enrollStudent, transferStudent, withdrawStudent } from "../commands/enrollment.js";
import {
  assignPortalId,
  assignStaffToSchool,
  grantPortalConsent,
  linkGuardian,
  unassignStaffFromSchool,
  unlinkGuardian,
  withdrawPortalConsent,
} from "../commands/guardians.js";
import {
  closeSchool,
  registerMunicipality,
  registerSchool,
  renameMunicipality,
  renameSchool,
} from "../commands/organisations.js";
import {
  changePersonalData,
  decryptForPerson,
  encryptForPerson,
  erasePerson,
  liftLegalHold,
  placeLegalHold,
  registerPerson,
} from "../commands/people.js";
import { rollOverYear } from "../commands/rollover.js";
import { addSubgroupMember, openSubgroup, removeSubgroupMember } from "../commands/subgroups.js";
import { requireAcademicYear } from "../domain/academic-year.js";
import { requireCivilDate, requireId } from "../domain/validators.js";
import {
  getClassGroups,
  getEnrollmentHistory,
  getRoster,
  getSubgroup,
  getSubgroupRoster,
} from "../projections/class-group-queries.js";
import { getSchools, listMunicipalities } from "../projections/organisation-queries.js";
import {
  getGuardianChildren,
  getPeople,
  getStaffSchools,
  searchPeople,
} from "../projections/people-queries.js";
import { ROLES_OF, requireRoleWhere, Targets, type Where } from "./authorize.js";
import { peopleAccess, requireReadablePerson } from "./personal-data-access.js";

export interface IdentityApiOptions {
  deps: IdentityDeps;
  logger: Logger;
  region: { id: string; name: string };
  /** Verifies each call's bearer token (identity's own JWKS, like every service). */
  verifier: CallerVerifier;
}

/**
 * gRPC handlers: map proto messages to commands and queries, no rules here. Logs carry ids
 * only — never a request body, which may hold personal data. Every call needs a verified
 * caller (UNAUTHENTICATED otherwise); commands also need a role over the school, municipality
 * or region they touch (PERMISSION_DENIED otherwise; see authorize.ts and the README).
 */
export function createIdentityService(o: IdentityApiOptions): IdentityServiceServer {
  const { deps, logger } = o;
  const targets = new Targets(deps.store.pool, o.region.id);
  const h = <Req, Res>(fn: (req: Req, call: AuthorizedCall) => Promise<Res>) =>
    authorizedHandler(logger, o.verifier, fn);
  /** A command allowed to `roles` over `where`, then run with the caller as actor. */
  const guarded = <Req, Res>(
    roles: readonly Role[],
    where: (req: NoInfer<Req>) => Promise<Where> | Where,
    fn: (req: NoInfer<Req>, ctx: CallContext) => Promise<NoInfer<Res>>,
  ) =>
    h<Req, Res>(async (req, call) => {
      requireRoleWhere(call.caller, roles, await where(req), o.region.id);
      return fn(req, { metadata: call.metadata });
    });
  const ok =
    <Req>(fn: (req: Req, ctx: CallContext) => Promise<unknown>) =>
    async (req: Req, ctx: CallContext) => {
      await fn(req, ctx);
      return {};
    };
  const atSchool = (req: { schoolId: string }) => targets.school(req.schoolId);
  const atPerson = (req: { personId: string }) => targets.person(req.personId);
  const atClassGroup = (req: { classGroupId: string }) => targets.classGroup(req.classGroupId);
  const atSubgroup = (req: { subgroupId: string }) => targets.subgroup(req.subgroupId);
  const atStudent = (req: { studentId: string }) => targets.person(req.studentId);
  // The person as a whole (their data, erasure, guardians): every school holding them.
  const wholePerson = (req: { personId: string }) => targets.everySchoolOf(req.personId);
  const wholeStudent = (req: { studentId: string }) => targets.everySchoolOf(req.studentId);
  return {
    getRegion: h(async () => ({ regionId: o.region.id, name: o.region.name })),
    registerMunicipality: guarded(
      ROLES_OF.region,
      () => targets.region(),
      (req, ctx) => registerMunicipality(deps, req, ctx),
    ),
    renameMunicipality: guarded(
      ROLES_OF.region,
      () => targets.region(),
      ok((req, ctx) => renameMunicipality(deps, req, ctx)),
    ),
    listMunicipalities: h(async () => ({
      municipalities: await listMunicipalities(deps.store.pool),
    })),
    registerSchool: guarded(
      ROLES_OF.municipality,
      (req) => targets.municipality(req.municipalityId),
      (req, ctx) => registerSchool(deps, req, ctx),
    ),
    renameSchool: guarded(
      [...ROLES_OF.municipality, "SCHOOL_ADMIN"],
      atSchool,
      ok((req, ctx) => renameSchool(deps, req, ctx)),
    ),
    closeSchool: guarded(
      ROLES_OF.municipality,
      atSchool,
      ok((req, ctx) => closeSchool(deps, req, ctx)),
    ),
    getSchools: h(async (req) => ({
      schools: await getSchools(deps.store.pool, {
        schoolIds: req.schoolIds.map((id, i) => requireId(`school_ids[${i}]`, id)),
        municipalityId:
          req.municipalityId === "" ? "" : requireId("municipality_id", req.municipalityId),
      }),
    })),
    registerPerson: guarded(ROLES_OF.school, atSchool, async (req, ctx) => {
      const res = await registerPerson(deps, req, ctx);
      logger.info({ person_id: res.personId }, "person registered");
      return res;
    }),
    changePersonalData: guarded(
      ROLES_OF.school,
      wholePerson,
      ok((req, ctx) => changePersonalData(deps, req, ctx)),
    ),
    getPeople: h(async (req, call) => {
      const ids = req.personIds.map((id, i) => requireId(`person_ids[${i}]`, id));
      const access = await peopleAccess(deps.store.pool, targets, call.caller, ids, {
        personalData: req.includePersonalData,
      });
      return { people: await getPeople(deps, ids, req.includePersonalData, access) };
    }),
    // Name search reveals who is at a school: its staff and the authorities above.
    searchPeople: h(async (req, call) => {
      const schoolId = requireId("school_id", req.schoolId);
      requireRole(call.caller, ROLES_OF.personalData, await targets.school(schoolId));
      return { personIds: await searchPeople(deps, schoolId, req.query) };
    }),
    // A hold only preserves: an authority of one of the person's schools may place it; lifting
    // it opens the way to erasure, so it needs every school, as erasure does.
    placeLegalHold: guarded(
      ROLES_OF.legalHold,
      atPerson,
      ok((req, ctx) => placeLegalHold(deps, req, ctx)),
    ),
    liftLegalHold: guarded(
      ROLES_OF.legalHold,
      wholePerson,
      ok((req, ctx) => liftLegalHold(deps, req, ctx)),
    ),
    erasePerson: guarded(ROLES_OF.erasure, wholePerson, async (req, ctx) => {
      await erasePerson(deps, req, ctx);
      logger.info({ person_id: req.personId }, "person erased");
      return {};
    }),
    encryptForPerson: guarded(ROLES_OF.encryption, atPerson, async (req) => ({
      ciphertext: await encryptForPerson(deps, req),
    })),
    decryptForPerson: guarded(ROLES_OF.encryption, atPerson, async (req) => ({
      plaintext: await decryptForPerson(deps, req),
    })),
    openClassGroup: guarded(ROLES_OF.school, atSchool, (req, ctx) =>
      openClassGroup(deps, req, ctx),
    ),
    renameClassGroup: guarded(
      ROLES_OF.school,
      atClassGroup,
      ok((req, ctx) => renameClassGroup(deps, req, ctx)),
    ),
    assignHomeroomTeacher: guarded(
      ROLES_OF.school,
      atClassGroup,
      ok((req, ctx) => assignHomeroomTeacher(deps, req, ctx)),
    ),
    closeClassGroup: guarded(
      ROLES_OF.school,
      atClassGroup,
      ok((req, ctx) => closeClassGroup(deps, req, ctx)),
    ),
    getClassGroups: h(async (req) => ({
      classGroups: await getClassGroups(deps.store.pool, {
        classGroupIds: req.classGroupIds.map((id, i) => requireId(`class_group_ids[${i}]`, id)),
        schoolId: req.schoolId === "" ? "" : requireId("school_id", req.schoolId),
        academicYear: req.academicYear ? requireAcademicYear("academic_year", req.academicYear) : 0,
      }),
    })),
    // Each roster written must be within the caller's schools. Enrolling or transferring makes
    // the receiving school one of the pupil's, so it also needs every school of the pupil
    // (Targets.joining: for a transfer the school left; for a pupil enrolled nowhere their last
    // school, or the registering one); a transfer within the current school joins none, so that
    // school alone (as RollOverYear); a withdrawal ends the current stay.
    enrollStudent: guarded(
      ROLES_OF.school,
      async (req) => targets.joining(req.personId, await targets.classGroup(req.classGroupId)),
      ok((req, ctx) => enrollStudent(deps, req, ctx)),
    ),
    transferStudent: guarded(
      ROLES_OF.school,
      async (req) => {
        const left = await targets.stay(req.personId);
        const to = await targets.classGroup(req.toClassGroupId);
        // An unknown pupil or group: joining asks the region (then NOT_FOUND).
        const school = to.length > 0 && left.length > 0 ? to[0]?.schoolId : undefined;
        const within = school !== undefined && left.every((t) => t.schoolId === school);
        return within ? to : targets.joining(req.personId, to);
      },
      ok((req, ctx) => transferStudent(deps, req, ctx)),
    ),
    withdrawStudent: guarded(
      ROLES_OF.school,
      (req) => targets.stay(req.personId),
      ok((req, ctx) => withdrawStudent(deps, req, ctx)),
    ),
    // Where a pupil is enrolled now tells their school and class group: GetPeople's readers only.
    getEnrollmentHistory: h(async (req, call) => {
      const personId = requireId("person_id", req.personId);
      await requireReadablePerson(deps.store.pool, targets, call.caller, personId, {
        field: "person_id",
        what: "the enrollment history",
      });
      return { enrollments: await getEnrollmentHistory(deps.store.pool, personId) };
    }),
    getRoster: h(async (req) => ({
      personIds: await getRoster(
        deps.store.pool,
        requireId("class_group_id", req.classGroupId),
        requireCivilDate("date", req.date),
      ),
    })),
    rollOverYear: guarded(ROLES_OF.school, atSchool, (req, ctx) => rollOverYear(deps, req, ctx)),
    openSubgroup: guarded(ROLES_OF.teaching, atClassGroup, (req, ctx) =>
      openSubgroup(deps, req, ctx),
    ),
    addSubgroupMember: guarded(
      ROLES_OF.teaching,
      atSubgroup,
      ok((req, ctx) => addSubgroupMember(deps, req, ctx)),
    ),
    removeSubgroupMember: guarded(
      ROLES_OF.teaching,
      atSubgroup,
      ok((req, ctx) => removeSubgroupMember(deps, req, ctx)),
    ),
    getSubgroupRoster: h(async (req) => {
      const subgroupId = requireId("subgroup_id", req.subgroupId);
      const date = requireCivilDate("date", req.date);
      const [personIds, subgroup] = await Promise.all([
        getSubgroupRoster(deps.store.pool, subgroupId, date),
        getSubgroup(deps.store.pool, subgroupId),
      ]);
      return {
        personIds,
        classGroupId: subgroup?.classGroupId ?? "",
        subjectId: subgroup?.subjectId ?? "",
        name: subgroup?.name ?? "",
      };
    }),
    // Guardians see the pupil's data from every school: who they are is the pupil's schools' act.
    // Linking also makes the pupil's schools the guardian's (they read the guardian's data), so
    // it needs every school of the guardian too, as any school joining a person; unlinking only
    // narrows the guardian's schools.
    linkGuardian: guarded(
      ROLES_OF.school,
      (req) => targets.everySchoolOfAll([req.studentId, req.guardianId]),
      ok((req, ctx) => linkGuardian(deps, req, ctx)),
    ),
    unlinkGuardian: guarded(
      ROLES_OF.school,
      wholeStudent,
      ok((req, ctx) => unlinkGuardian(deps, req, ctx)),
    ),
    // Consent is the guardian's own act, or recorded on their behalf: granting shares the
    // pupil's data with the portal (every school of the pupil), withdrawing only stops it (one).
    grantPortalConsent: h(async (req, call) => {
      await requireGuardianOrSchool(req, call, await wholeStudent(req));
      await grantPortalConsent(deps, req, { metadata: call.metadata });
      return {};
    }),
    withdrawPortalConsent: h(async (req, call) => {
      await requireGuardianOrSchool(req, call, await atStudent(req));
      await withdrawPortalConsent(deps, req, { metadata: call.metadata });
      return {};
    }),
    assignPortalId: guarded(
      ROLES_OF.portal,
      atStudent,
      ok((req, ctx) => assignPortalId(deps, req, ctx)),
    ),
    getGuardianChildren: h(async (req) => ({
      studentIds: await getGuardianChildren(deps, requireId("guardian_id", req.guardianId)),
    })),
    // The receiving school and every school of the staff member (Targets.joining).
    assignStaffToSchool: guarded(
      ROLES_OF.school,
      async (req) => targets.joining(req.personId, [await targets.school(req.schoolId)]),
      ok((req, ctx) => assignStaffToSchool(deps, req, ctx)),
    ),
    // A school ends its own staff assignment, as it withdraws its own pupil: it only narrows.
    // Never the caller's own: it revokes their roles there (an admin would lock themselves out,
    // as nobody disables their own account).
    unassignStaffFromSchool: h(async (req, call) => {
      if (call.caller.personId && call.caller.personId === req.personId.trim().toLowerCase())
        throw new DomainError(
          "permission_denied",
          "person_id: nobody ends their own work at a school; another of its admins does",
          { field: "person_id" },
        );
      requireRoleWhere(call.caller, ROLES_OF.school, await atSchool(req), o.region.id);
      await unassignStaffFromSchool(deps, req, { metadata: call.metadata });
      return {};
    }),
    getStaffSchools: h(async (req) => ({
      schoolIds: await getStaffSchools(deps, requireId("person_id", req.personId)),
    })),
  };

  async function requireGuardianOrSchool(
    req: { guardianId: string; studentId: string },
    call: AuthorizedCall,
    school: Where,
  ): Promise<void> {
    const self = call.caller.personId !== undefined && call.caller.personId === req.guardianId;
    if (self && call.caller.grants.some((g) => g.role === "GUARDIAN")) return;
    requireRoleWhere(call.caller, ROLES_OF.school, school, o.region.id);
  }
}
