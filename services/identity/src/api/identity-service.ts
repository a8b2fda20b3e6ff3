import type { Metadata } from "@grpc/grpc-js";
import type { IdentityServiceServer } from "@otmetka/proto/identity/v1/identity_service";
import { type Logger, unaryHandler } from "@otmetka/service-kit";
import {
  assignHomeroomTeacher,
  closeClassGroup,
  openClassGroup,
  renameClassGroup,
} from "../commands/class-groups.js";
import type { IdentityDeps } from "../commands/deps.js";
import { enrollStudent, transferStudent, withdrawStudent } from "../commands/enrollment.js";
import {
  assignPortalId,
  assignStaffToSchool,
  grantPortalConsent,
  linkGuardian,
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
  getSubgroupRoster,
} from "../projections/class-group-queries.js";
import { getSchools, listMunicipalities } from "../projections/organisation-queries.js";
import {
  getGuardianChildren,
  getPeople,
  getStaffSchools,
  searchPeople,
} from "../projections/people-queries.js";
import { callContext } from "./call-context.js";

export interface IdentityApiOptions {
  deps: IdentityDeps;
  logger: Logger;
  region: { id: string; name: string };
}

/**
 * gRPC handlers: map proto messages to commands and queries, no rules here. Logs carry ids
 * only — never a request body, which may hold personal data.
 */
export function createIdentityService(o: IdentityApiOptions): IdentityServiceServer {
  const { deps, logger } = o;
  const h = <Req, Res>(fn: (req: Req, md: Metadata) => Promise<Res>) => unaryHandler(logger, fn);
  return {
    getRegion: h(async () => ({ regionId: o.region.id, name: o.region.name })),
    registerMunicipality: h(async (req, md) => registerMunicipality(deps, req, callContext(md))),
    renameMunicipality: h(async (req, md) => {
      await renameMunicipality(deps, req, callContext(md));
      return {};
    }),
    listMunicipalities: h(async () => ({
      municipalities: await listMunicipalities(deps.store.pool),
    })),
    registerSchool: h(async (req, md) => registerSchool(deps, req, callContext(md))),
    renameSchool: h(async (req, md) => {
      await renameSchool(deps, req, callContext(md));
      return {};
    }),
    closeSchool: h(async (req, md) => {
      await closeSchool(deps, req, callContext(md));
      return {};
    }),
    getSchools: h(async (req) => ({
      schools: await getSchools(deps.store.pool, {
        schoolIds: req.schoolIds.map((id, i) => requireId(`school_ids[${i}]`, id)),
        municipalityId:
          req.municipalityId === "" ? "" : requireId("municipality_id", req.municipalityId),
      }),
    })),
    registerPerson: h(async (req, md) => {
      const res = await registerPerson(deps, req, callContext(md));
      logger.info({ person_id: res.personId }, "person registered");
      return res;
    }),
    changePersonalData: h(async (req, md) => {
      await changePersonalData(deps, req, callContext(md));
      return {};
    }),
    getPeople: h(async (req) => ({
      people: await getPeople(
        deps,
        req.personIds.map((id, i) => requireId(`person_ids[${i}]`, id)),
        req.includePersonalData,
      ),
    })),
    searchPeople: h(async (req) => ({
      personIds: await searchPeople(deps, requireId("school_id", req.schoolId), req.query),
    })),
    placeLegalHold: h(async (req, md) => {
      await placeLegalHold(deps, req, callContext(md));
      return {};
    }),
    liftLegalHold: h(async (req, md) => {
      await liftLegalHold(deps, req, callContext(md));
      return {};
    }),
    erasePerson: h(async (req, md) => {
      await erasePerson(deps, req, callContext(md));
      logger.info({ person_id: req.personId }, "person erased");
      return {};
    }),
    encryptForPerson: h(async (req) => ({ ciphertext: await encryptForPerson(deps, req) })),
    decryptForPerson: h(async (req) => ({ plaintext: await decryptForPerson(deps, req) })),
    openClassGroup: h(async (req, md) => openClassGroup(deps, req, callContext(md))),
    renameClassGroup: h(async (req, md) => {
      await renameClassGroup(deps, req, callContext(md));
      return {};
    }),
    assignHomeroomTeacher: h(async (req, md) => {
      await assignHomeroomTeacher(deps, req, callContext(md));
      return {};
    }),
    closeClassGroup: h(async (req, md) => {
      await closeClassGroup(deps, req, callContext(md));
      return {};
    }),
    getClassGroups: h(async (req) => ({
      classGroups: await getClassGroups(deps.store.pool, {
        classGroupIds: req.classGroupIds.map((id, i) => requireId(`class_group_ids[${i}]`, id)),
        schoolId: req.schoolId === "" ? "" : requireId("school_id", req.schoolId),
        academicYear: req.academicYear ? requireAcademicYear("academic_year", req.academicYear) : 0,
      }),
    })),
    enrollStudent: h(async (req, md) => {
      await enrollStudent(deps, req, callContext(md));
      return {};
    }),
    transferStudent: h(async (req, md) => {
      await transferStudent(deps, req, callContext(md));
      return {};
    }),
    withdrawStudent: h(async (req, md) => {
      await withdrawStudent(deps, req, callContext(md));
      return {};
    }),
    getEnrollmentHistory: h(async (req) => ({
      enrollments: await getEnrollmentHistory(
        deps.store.pool,
        requireId("person_id", req.personId),
      ),
    })),
    getRoster: h(async (req) => ({
      personIds: await getRoster(
        deps.store.pool,
        requireId("class_group_id", req.classGroupId),
        requireCivilDate("date", req.date),
      ),
    })),
    rollOverYear: h(async (req, md) => rollOverYear(deps, req, callContext(md))),
    openSubgroup: h(async (req, md) => openSubgroup(deps, req, callContext(md))),
    addSubgroupMember: h(async (req, md) => {
      await addSubgroupMember(deps, req, callContext(md));
      return {};
    }),
    removeSubgroupMember: h(async (req, md) => {
      await removeSubgroupMember(deps, req, callContext(md));
      return {};
    }),
    getSubgroupRoster: h(async (req) => ({
      personIds: await getSubgroupRoster(
        deps.store.pool,
        requireId("subgroup_id", req.subgroupId),
        requireCivilDate("date", req.date),
      ),
    })),
    linkGuardian: h(async (req, md) => {
      await linkGuardian(deps, req, callContext(md));
      return {};
    }),
    unlinkGuardian: h(async (req, md) => {
      await unlinkGuardian(deps, req, callContext(md));
      return {};
    }),
    grantPortalConsent: h(async (req, md) => {
      await grantPortalConsent(deps, req, callContext(md));
      return {};
    }),
    withdrawPortalConsent: h(async (req, md) => {
      await withdrawPortalConsent(deps, req, callContext(md));
      return {};
    }),
    assignPortalId: h(async (req, md) => {
      await assignPortalId(deps, req, callContext(md));
      return {};
    }),
    getGuardianChildren: h(async (req) => ({
      studentIds: await getGuardianChildren(deps, requireId("guardian_id", req.guardianId)),
    })),
    assignStaffToSchool: h(async (req, md) => {
      await assignStaffToSchool(deps, req, callContext(md));
      return {};
    }),
    getStaffSchools: h(async (req) => ({
      schoolIds: await getStaffSchools(deps, requireId("person_id", req.personId)),
    })),
  };
}
