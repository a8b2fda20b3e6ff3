import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import {
  AccessAuditServiceClient,
  AccessAuditServiceService,
} from "@otmetka/proto/identity/v1/access_audit_service";
import {
  createCallerVerifier,
  createLogger,
  type GrpcServer,
  promiseClient,
  startGrpcServer,
} from "@otmetka/service-kit";
import {
  grpcError,
  startTestGrpcApi,
  TEST_GRPC_SERVER_OPTIONS,
  type TestGrpcApi,
} from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enrollStudent, transferStudent } from "../commands/enrollment.js";
import { linkGuardian } from "../commands/guardians.js";
import { PersonKind } from "../domain/person.js";
import {
  cmd,
  givenClassGroup,
  givenPerson,
  givenSchool,
  useIdentity,
} from "../test-support/in-process.js";
import { createAccessAuditService } from "./api.js";
import { AuditPartitions } from "./partitions.js";
import { toAuditRecord } from "./record.js";
import { AuditStore } from "./store.js";
import { accessRecord } from "./test-support/records.js";

const t = useIdentity("audit_api");
let api: TestGrpcApi<GrpcServer>;
let call: ReturnType<typeof promiseClient<AccessAuditServiceClient>>;
const people = {
  pupil: "",
  sibling: "",
  guardian: "",
  otherGuardian: "",
  schoolId: "",
  municipalityId: "",
  otherSchoolId: "",
};
const readAt = "2026-11-20T10:00:00Z";

beforeAll(async () => {
  const logger = createLogger({ service: "identity-test", level: "silent" });
  api = await startTestGrpcApi((issuer) =>
    startGrpcServer({
      ...TEST_GRPC_SERVER_OPTIONS,
      logger,
      services: [
        {
          definition: AccessAuditServiceService,
          implementation: createAccessAuditService({
            pool: t.deps.store.pool,
            regionId: "74",
            verifier: createCallerVerifier({ jwksUrl: issuer.jwksUrl }),
            logger,
          }),
        },
      ],
    }),
  );
  call = promiseClient(api.connect(AccessAuditServiceClient));

  const { schoolId, municipalityId } = await givenSchool(t.deps);
  people.municipalityId = municipalityId;
  const { schoolId: otherSchoolId } = await givenSchool(t.deps);
  const person = (kind: PersonKind) => givenPerson(t.deps, schoolId, kind);
  people.schoolId = schoolId;
  people.otherSchoolId = otherSchoolId;
  people.pupil = await person(PersonKind.PERSON_KIND_STUDENT);
  people.sibling = await person(PersonKind.PERSON_KIND_STUDENT);
  people.guardian = await person(PersonKind.PERSON_KIND_GUARDIAN);
  people.otherGuardian = await person(PersonKind.PERSON_KIND_GUARDIAN);
  await linkGuardian(t.deps, {
    commandId: cmd(),
    studentId: people.pupil,
    guardianId: people.guardian,
  });
  await linkGuardian(t.deps, {
    commandId: cmd(),
    studentId: people.sibling,
    guardianId: people.otherGuardian,
  });
  const now = new Date("2026-11-28T09:00:00Z");
  const store = new AuditStore(t.deps.store.pool, new AuditPartitions(t.deps.store.pool, 60));
  await store.store(
    [toAuditRecord(accessRecord([people.pupil, people.sibling], readAt), now)],
    now,
  );
});

afterAll(async () => {
  await api?.close();
});

const request = (personId: string) => ({
  personId,
  from: new Date("2026-11-01T00:00:00Z"),
  to: new Date("2026-12-01T00:00:00Z"),
  pageSize: 0,
  pageToken: "",
});

async function listAs(claims: { pid?: string; roles: string[] }, personId = people.pupil) {
  return call.listAccessAudit(request(personId), await api.as(claims.roles, claims.pid));
}

describe("ListAccessAudit authorization", () => {
  it("answers the pupil, a linked guardian, a SCHOOL_ADMIN of the pupil's school and PLATFORM_ADMIN", async () => {
    const callers = [
      { pid: people.pupil, roles: ["STUDENT"] },
      { pid: people.guardian, roles: ["GUARDIAN"] },
      { roles: [`SCHOOL_ADMIN@school:${people.schoolId}`] },
      { roles: ["PLATFORM_ADMIN"] },
    ];
    for (const c of callers) {
      const res = await listAs(c);
      expect(
        res.entries.map((e) => e.occurredAt),
        JSON.stringify(c),
      ).toEqual([new Date(readAt)]);
    }
  });

  it("follows the pupil: after a transfer the new school's admin reads it, the old one's not", async () => {
    const pupil = await givenPerson(t.deps, people.schoolId);
    const group = (schoolId: string) =>
      givenClassGroup(t.deps, { schoolId, gradeLevel: 7, letter: "В" });
    const move = { commandId: cmd(), personId: pupil };
    await enrollStudent(t.deps, {
      ...move,
      classGroupId: await group(people.schoolId),
      effectiveDate: "2026-09-01",
    });
    const store = new AuditStore(t.deps.store.pool, new AuditPartitions(t.deps.store.pool, 60));
    const now = new Date("2026-11-28T09:00:00Z");
    await store.store([toAuditRecord(accessRecord([pupil], readAt), now)], now);
    const admin = (schoolId: string) => ({ roles: [`SCHOOL_ADMIN@school:${schoolId}`] });
    expect((await listAs(admin(people.schoolId), pupil)).entries).toHaveLength(1);
    await transferStudent(t.deps, {
      commandId: cmd(),
      personId: pupil,
      toClassGroupId: await group(people.otherSchoolId),
      effectiveDate: "2026-10-01",
    });
    expect((await listAs(admin(people.otherSchoolId), pupil)).entries).toHaveLength(1);
    const old = await grpcError(listAs(admin(people.schoolId), pupil));
    expect(old.code).toBe(grpc.status.PERMISSION_DENIED);
  });

  it("refuses everyone else with PERMISSION_DENIED, and a call without a token with UNAUTHENTICATED", async () => {
    const refused = [
      { pid: people.sibling, roles: ["STUDENT"] }, // another pupil
      { pid: people.pupil, roles: ["GUARDIAN"] }, // right person id, wrong role
      { pid: people.otherGuardian, roles: ["GUARDIAN"] }, // a guardian of someone else
      { roles: [`SCHOOL_ADMIN@school:${people.otherSchoolId}`] }, // another school's admin
      { roles: [`TEACHER@school:${people.schoolId}`] }, // staff of the school, not its admin
      { roles: [`MUNICIPAL_OFFICER@municipality:${randomUUID()}`] },
      // GetPeople's readers that the audit does not admit (its SCHOOL_ADMIN check asks
      // peopleAccess for that role alone): the school's municipality, a service, a teacher
      // reading themself.
      { roles: [`MUNICIPAL_OFFICER@municipality:${people.municipalityId}`] },
      { roles: ["SERVICE"] },
      { pid: people.pupil, roles: [`TEACHER@school:${people.schoolId}`] },
    ];
    for (const c of refused) {
      const err = await grpcError(listAs(c));
      expect(err.code, JSON.stringify(c)).toBe(grpc.status.PERMISSION_DENIED);
    }
    // An unknown person is refused the same way for a scoped caller (no existence leak).
    const unknown = await grpcError(
      listAs({ roles: [`SCHOOL_ADMIN@school:${people.schoolId}`] }, randomUUID()),
    );
    expect(unknown.code).toBe(grpc.status.PERMISSION_DENIED);
    const anonymous = await grpcError(
      call.listAccessAudit(request(people.pupil), new grpc.Metadata()),
    );
    expect(anonymous.code).toBe(grpc.status.UNAUTHENTICATED);
    const expired = await grpcError(
      call.listAccessAudit(
        request(people.pupil),
        api.issuer.metadataFor(
          await api.issuer.sign({ roles: ["PLATFORM_ADMIN"], expiresInSeconds: -60 }),
        ),
      ),
    );
    expect(expired.code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it("refuses bad input with INVALID_ARGUMENT naming the field", async () => {
    const md = await api.as(["PLATFORM_ADMIN"]);
    const cases: [Partial<ReturnType<typeof request>>, string][] = [
      [{ personId: "not-a-uuid" }, "person_id"],
      [{ from: undefined }, "from"],
      [{ pageSize: -1 }, "page_size"],
      [{ pageToken: "x" }, "page_token"],
    ];
    for (const [change, field] of cases) {
      const err = await grpcError(
        call.listAccessAudit({ ...request(people.pupil), ...change }, md),
      );
      expect(err.code, field).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err.metadata.get("field"), field).toEqual([field]);
    }
  });
});
