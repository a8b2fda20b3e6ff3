import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import {
  ContactKind,
  IdentityServiceService,
  PersonKind,
} from "@otmetka/proto/identity/v1/identity_service";
import { requestStringFields } from "@otmetka/testing";
import { describe, expect, it } from "vitest";
import { useAuthHarness } from "../test-support/auth-harness.js";
import { grpcError } from "../test-support/grpc-client.js";
import {
  ALL_TABLES,
  givenClassGroup,
  givenPerson,
  givenSchool,
  personalData,
  snapshotTables,
  VALID_INN,
  VALID_OGRN,
} from "../test-support/in-process.js";

/*
 * NUL and other control characters in every string of every command over gRPC, each request
 * otherwise one the command would accept: INVALID_ARGUMENT naming the field (an id is "not a
 * UUID"), never echoing the value, nothing written. A NUL that reached an event would stall
 * reporting's projection (PostgreSQL text refuses it).
 */
const h = useAuthHarness("identity_request_strings");

type Request = Record<string, unknown>;
type Calls = Record<string, (req: Request, md: unknown) => Promise<unknown>>;

/** A request each command accepts as it stands, on a fresh school of its own. */
async function requests(): Promise<Record<string, Request>> {
  const deps = h.identity.deps;
  const { municipalityId, schoolId } = await givenSchool(deps);
  const staff = await givenPerson(deps, schoolId, PersonKind.PERSON_KIND_STAFF);
  const student = await givenPerson(deps, schoolId);
  const guardian = await givenPerson(deps, schoolId, PersonKind.PERSON_KIND_GUARDIAN);
  const classGroupId = await givenClassGroup(deps, { schoolId, gradeLevel: 5, letter: "А" });
  const data = personalData({
    contacts: [{ kind: ContactKind.CONTACT_KIND_PHONE, value: "+7 351 000-00-00" }],
  });
  const c = () => ({ commandId: randomUUID() });
  return {
    registerMunicipality: { ...c(), name: "Копейск" },
    renameMunicipality: { ...c(), municipalityId, name: "Копейск" },
    registerSchool: {
      ...c(),
      municipalityId,
      name: "МОУ СОШ № 2",
      shortName: "СОШ № 2",
      address: "ул. Ленина, 2",
      timeZone: "Asia/Yekaterinburg",
      inn: VALID_INN,
      ogrn: VALID_OGRN,
    },
    renameSchool: { ...c(), schoolId, name: "МОУ СОШ № 1", shortName: "СОШ № 1" },
    closeSchool: { ...c(), schoolId, closedOn: "2027-06-30" },
    registerPerson: { ...c(), kind: PersonKind.PERSON_KIND_STUDENT, schoolId, personalData: data },
    changePersonalData: { ...c(), personId: student, personalData: data },
    placeLegalHold: { ...c(), personId: student, reason: "запрос суда" },
    liftLegalHold: { ...c(), personId: student, reason: "запрос суда" },
    erasePerson: { ...c(), personId: student },
    openClassGroup: {
      ...c(),
      schoolId,
      academicYear: { startYear: 2026 },
      gradeLevel: 6,
      letter: "Б",
      homeroomTeacherId: staff,
    },
    renameClassGroup: { ...c(), classGroupId, gradeLevel: 5, letter: "В" },
    assignHomeroomTeacher: { ...c(), classGroupId, homeroomTeacherId: staff },
    closeClassGroup: { ...c(), classGroupId },
    enrollStudent: { ...c(), personId: student, classGroupId, effectiveDate: "2026-09-01" },
    transferStudent: {
      ...c(),
      personId: student,
      toClassGroupId: classGroupId,
      effectiveDate: "2026-09-01",
    },
    withdrawStudent: { ...c(), personId: student, effectiveDate: "2026-09-01" },
    rollOverYear: { ...c(), schoolId, academicYear: { startYear: 2026 } },
    openSubgroup: { ...c(), classGroupId, subjectId: "ENG", name: "Английский, группа 1" },
    addSubgroupMember: {
      ...c(),
      subgroupId: randomUUID(),
      personId: student,
      effectiveDate: "2026-09-01",
    },
    removeSubgroupMember: {
      ...c(),
      subgroupId: randomUUID(),
      personId: student,
      effectiveDate: "2026-09-01",
    },
    linkGuardian: { ...c(), studentId: student, guardianId: guardian },
    unlinkGuardian: { ...c(), studentId: student, guardianId: guardian },
    grantPortalConsent: { ...c(), studentId: student, guardianId: guardian },
    withdrawPortalConsent: { ...c(), studentId: student, guardianId: guardian },
    assignPortalId: { ...c(), studentId: student, portalId: "esia-123" },
    assignStaffToSchool: { ...c(), personId: staff, schoolId },
  };
}

/** The field an error names: a contact is named by its place in the list. */
const named = (path: string) => path.replace(/(contacts\[\d+\])\.value$/, "$1");

async function expectInvalid(what: string, call: Promise<unknown>, field: string, bad: string) {
  const err = await grpcError(call).catch((e: Error) => {
    throw new Error(`${what}: ${e.message}`);
  });
  expect({
    what,
    code: err.code,
    field: err.metadata.get("field"),
    echoes: err.details.includes(bad),
  }).toEqual({ what, code: status.INVALID_ARGUMENT, field: [field], echoes: false });
}

const CONTROLS = ["\u0000", "\u0007", "\u001b", "\u007f", "\u0085"];

describe("control characters in every command's strings", () => {
  it("IdentityService: each is INVALID_ARGUMENT naming the field, nothing written", async () => {
    const md = h.md(await h.adminToken());
    const all = await requests();
    // Every command of the service is tried (queries have no command_id).
    const commands = Object.keys(IdentityServiceService).filter((m) =>
      /^(register|rename|close|change|place|lift|erase|open|assign|enroll|transfer|withdraw|roll|add|remove|link|unlink|grant)/.test(
        m,
      ),
    );
    expect(Object.keys(all).sort()).toEqual(commands.sort());
    const api = h.api as unknown as Calls;
    const before = await snapshotTables(h.identity.deps, ALL_TABLES);
    for (const [method, request] of Object.entries(all)) {
      for (const field of requestStringFields(request)) {
        for (const ch of CONTROLS) {
          const bad = `x${ch}${randomUUID()}`;
          const req = field.set(request, bad) as Request;
          await expectInvalid(
            `${method} ${field.path} ${JSON.stringify(ch)}`,
            api[method]!({ ...req, commandId: req.commandId === bad ? bad : randomUUID() }, md),
            named(field.path),
            bad,
          );
        }
      }
    }
    expect(await snapshotTables(h.identity.deps, ALL_TABLES)).toEqual(before);
    // The clean requests are valid input (they may still break a rule or name nothing).
    for (const [method, request] of Object.entries(all)) {
      const code = await api[method]!(request, md).then(
        () => status.OK,
        (err: { code: number }) => err.code,
      );
      expect([method, code]).not.toEqual([method, status.INVALID_ARGUMENT]);
    }
  });

  it("AuthService: grants, accounts and service accounts", async () => {
    const md = h.md(await h.adminToken());
    const { schoolId } = await givenSchool(h.identity.deps);
    const staff = await givenPerson(h.identity.deps, schoolId, PersonKind.PERSON_KIND_STAFF);
    const { accountId } = await h.userWith([]);
    const all: Record<string, Request> = {
      grantRole: {
        commandId: randomUUID(),
        accountId,
        grant: { role: "MINISTRY_OFFICER", scopeKind: "region", scopeId: "74" },
      },
      revokeRole: {
        commandId: randomUUID(),
        accountId,
        grant: { role: "TEACHER", scopeKind: "school", scopeId: schoolId },
      },
      createAccount: { username: "teacher.one", password: "", personId: staff },
      createServiceAccount: { serviceName: "reporting" },
    };
    const api = h.authApi as unknown as Calls;
    const before = await snapshotTables(h.identity.deps, ALL_TABLES);
    for (const [method, request] of Object.entries(all)) {
      // Passwords are hashed, never stored or logged as text: their policy is their own.
      for (const field of requestStringFields(request).filter((f) => f.path !== "password")) {
        for (const ch of CONTROLS) {
          const bad = `x${ch}${randomUUID()}`;
          const req = field.set(request, bad) as Request;
          await expectInvalid(
            `${method} ${field.path} ${JSON.stringify(ch)}`,
            api[method]!(
              {
                ...req,
                ...(req.commandId ? { commandId: req.commandId === bad ? bad : randomUUID() } : {}),
              },
              md,
            ),
            field.path,
            bad,
          );
        }
      }
    }
    expect(await snapshotTables(h.identity.deps, ALL_TABLES)).toEqual(before);
  });
});
