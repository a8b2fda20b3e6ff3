import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { ContactKind, PersonKind, Sex } from "@otmetka/proto/identity/v1/identity_service";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkHealth, grpcError, identityClient } from "./test-support/grpc-client.js";
import {
  type IdentityProcess,
  startIdentityProcess,
  startServedIdentity,
} from "./test-support/identity-process.js";
import { testKeys } from "./test-support/test-keys.js";

const env = useTestEnvironment({ label: "identity_main" });
const keys = testKeys();
let service: IdentityProcess;
let address: string;
let jwksUrl: string;
let client: ReturnType<typeof identityClient>;

beforeAll(async () => {
  const served = await startServedIdentity({ ...env.env, ...keys.env });
  ({ service, address, jwksUrl } = served);
  client = identityClient(address, served.adminToken);
});

afterAll(() => {
  client?.close();
  if (service && service.child.exitCode === null) service.child.kill("SIGKILL");
});

describe("identity service process", () => {
  it("migrates its database, serves health and the region", async () => {
    expect(await checkHealth(address)).toBe("SERVING");
    expect(await checkHealth(address, "otmetka.identity.v1.IdentityService")).toBe("SERVING");
    expect(await client.call.getRegion({})).toEqual({
      regionId: "74",
      name: "Челябинская область",
    });
  });

  it("relays events to <prefix>_IDENTITY with municipality and school tokens", async () => {
    const { municipalityId } = await client.call.registerMunicipality({
      commandId: randomUUID(),
      name: "Копейский городской округ",
    });
    const { schoolId } = await client.call.registerSchool({
      commandId: randomUUID(),
      municipalityId,
      name: "МОУ СОШ № 5",
      shortName: "СОШ 5",
      address: "ул. Мира, 5",
      timeZone: "",
      inn: "7707083893",
      ogrn: "1027700132195",
    });
    const nc = await connect({ servers: env.natsUrl });
    try {
      const consumer = await jetstream(nc).consumers.get(`${env.natsPrefix}_IDENTITY`);
      // The bootstrap admin's RoleGranted comes first; the organisations follow.
      const next = async () => {
        for (;;) {
          const m = await consumer.next({ expires: 30_000 });
          if (!m?.subject.endsWith(".RoleGranted")) return m;
        }
      };
      const first = await next();
      const second = await next();
      const root = `${env.natsPrefix}.identity.v1`;
      expect(first?.subject).toMatch(
        new RegExp(`^${root}\\.${municipalityId}\\._\\.\\d+\\.MunicipalityRegistered$`),
      );
      expect(second?.subject).toMatch(
        new RegExp(`^${root}\\.${municipalityId}\\.${schoolId}\\.\\d+\\.SchoolRegistered$`),
      );
      expect(second?.json()).toMatchObject({ schoolId, municipalityId, inn: "7707083893" });
    } finally {
      await nc.close();
    }
  });

  it("maps class groups, enrollment, subgroups and rollover through gRPC", async () => {
    const c = client.call;
    const { municipalityId } = await c.registerMunicipality({
      commandId: randomUUID(),
      name: "Троицкий ГО",
    });
    const { schoolId } = await c.registerSchool({
      commandId: randomUUID(),
      municipalityId,
      name: "МОУ СОШ № 7",
      shortName: "СОШ 7",
      address: "ул. Гагарина, 7",
      timeZone: "Asia/Yekaterinburg",
      inn: "7736050003",
      ogrn: "1027700132195",
    });
    const { personId } = await c.registerPerson({
      commandId: randomUUID(),
      kind: PersonKind.PERSON_KIND_STUDENT,
      schoolId,
      personalData: {
        familyName: "Сидоров",
        givenName: "Иван",
        patronymic: "",
        birthDate: "2016-05-05",
        sex: Sex.SEX_MALE,
        snils: "",
        contacts: [{ kind: ContactKind.CONTACT_KIND_PHONE, value: "+7 351 000-00-00" }],
      },
    });
    const academicYear = { startYear: 2026 };
    const { classGroupId } = await c.openClassGroup({
      commandId: randomUUID(),
      schoolId,
      academicYear,
      gradeLevel: 4,
      letter: "б",
      homeroomTeacherId: "",
    });
    await c.enrollStudent({
      commandId: randomUUID(),
      personId,
      classGroupId,
      effectiveDate: "2026-09-01",
    });
    const { subgroupId } = await c.openSubgroup({
      commandId: randomUUID(),
      classGroupId,
      subjectId: "labour",
      name: "Труд, мальчики",
    });
    await c.addSubgroupMember({
      commandId: randomUUID(),
      subgroupId,
      personId,
      effectiveDate: "2026-09-02",
    });
    expect((await c.getRoster({ classGroupId, date: "2026-09-01" })).personIds).toEqual([personId]);
    expect(await c.getSubgroupRoster({ subgroupId, date: "2026-09-02" })).toEqual({
      personIds: [personId],
      classGroupId,
      subjectId: "labour",
      name: "Труд, мальчики",
    });
    // An unknown subgroup: no members, no class group.
    expect(await c.getSubgroupRoster({ subgroupId: randomUUID(), date: "2026-09-02" })).toEqual({
      personIds: [],
      classGroupId: "",
      subjectId: "",
      name: "",
    });
    expect(
      (await c.getClassGroups({ classGroupIds: [classGroupId], schoolId: "" })).classGroups[0],
    ).toMatchObject({
      academicYear,
      gradeLevel: 4,
      letter: "Б",
    });
    const rolled = await c.rollOverYear({ commandId: randomUUID(), schoolId, academicYear });
    expect(rolled.classGroupIds).toHaveLength(1);
    expect(
      (await c.getEnrollmentHistory({ personId })).enrollments.map((e) => e.classGroupId),
    ).toEqual([classGroupId, rolled.classGroupIds[0]]);
    const err = await grpcError(
      c.enrollStudent({
        commandId: randomUUID(),
        personId,
        classGroupId,
        effectiveDate: "2026-10-01",
      }),
    );
    expect(err.code).toBe(status.FAILED_PRECONDITION);
  });

  it("answers typed errors naming the field", async () => {
    const err = await grpcError(
      client.call.registerSchool({
        commandId: randomUUID(),
        municipalityId: randomUUID(),
        name: "x",
        shortName: "x",
        address: "x",
        timeZone: "",
        inn: "1234567890",
        ogrn: "1027700132195",
      }),
    );
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/^inn: /);
    expect(err.metadata.get("field")).toEqual(["inn"]);
  });

  it("serves its JWKS over HTTP and refuses a call without a token", async () => {
    const res = await fetch(jwksUrl);
    expect(res.status).toBe(200);
    const { keys: published } = (await res.json()) as { keys: { kty: string; alg: string }[] };
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ kty: "OKP", alg: "EdDSA" });
    const anonymous = identityClient(address);
    try {
      const err = await grpcError(anonymous.call.getRegion({}));
      expect(err.code).toBe(status.UNAUTHENTICATED);
    } finally {
      anonymous.close();
    }
  });

  it("shuts down on SIGTERM and exits 0", async () => {
    service.child.kill("SIGTERM");
    const { code } = await service.exited;
    expect(code, service.stdout + service.stderr).toBe(0);
  });
});

describe("identity start-up with bad configuration", () => {
  it("exits 1 naming a missing master key variable", async () => {
    const bad = startIdentityProcess({
      ...env.env,
      IDENTITY_BLIND_INDEX_KEY: keys.env.IDENTITY_BLIND_INDEX_KEY,
    });
    const { code } = await bad.exited;
    expect(code).toBe(1);
    expect(bad.stderr).toContain("IDENTITY_MASTER_KEYS");
    expect(bad.stderr).not.toContain("at ");
  });
});
