import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { messagingNames } from "@otmetka/messaging";
import { MarkValue } from "@otmetka/proto/grades/events/v1/events";
import { GradesServiceClient } from "@otmetka/proto/grades/v1/grades_service";
import { checkHealth, promiseClient } from "@otmetka/service-kit";
import {
  freePort,
  type ServiceProcess,
  startTestTokenIssuer,
  type TestTokenIssuer,
  useTestEnvironment,
} from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishFeed, schoolFixture } from "./test-support/feed.js";
import { startGradesProcess } from "./test-support/grades-process.js";
import { eventually } from "./test-support/harness.js";

const env = useTestEnvironment({ label: "grades_main" });
let service: ServiceProcess;
let issuer: TestTokenIssuer;
let nc: NatsConnection;
let address: string;
let raw: GradesServiceClient;

beforeAll(async () => {
  issuer = await startTestTokenIssuer();
  address = `127.0.0.1:${await freePort()}`;
  service = startGradesProcess({
    ...env.env,
    GRPC_HOST: "127.0.0.1",
    GRPC_PORT: address.split(":")[1] as string,
    AUTH_JWKS_URL: issuer.jwksUrl,
    SHUTDOWN_GRACE_MS: "100",
  });
  await service.waitForOutput("grpc server listening", 40_000);
  raw = new GradesServiceClient(address, grpc.credentials.createInsecure());
  nc = await connect({ servers: env.natsUrl });
}, 60_000);

afterAll(async () => {
  raw?.close();
  await nc?.close();
  if (service && service.child.exitCode === null) service.child.kill("SIGKILL");
  await issuer?.stop();
});

describe("grades service process", () => {
  it("serves health, takes marks once its replica has the facts, and relays them with school tokens", async () => {
    expect(await checkHealth(address, "otmetka.grades.v1.GradesService")).toBe("SERVING");
    const names = messagingNames(env.natsPrefix);
    const f = schoolFixture();
    await publishFeed(nc, names, f.events);
    const client = promiseClient(raw);
    const md = issuer.metadataFor(
      await issuer.sign({ roles: [`TEACHER@school:${f.schoolId}`], pid: f.teachers.math }),
    );
    const journal = {
      classGroupId: f.classGroupId,
      subgroupId: "",
      subjectId: f.subjects.math,
      academicYear: { startYear: 2026 },
    };
    // Until the replica has the facts the answer is UNAVAILABLE (retry), then the mark is taken.
    const req = {
      commandId: randomUUID(),
      journal,
      lessonId: f.lessons.past,
      mark: {
        studentId: f.pupils.p1,
        value: MarkValue.MARK_VALUE_FIVE,
        workType: "TEST",
        comment: "",
      },
    };
    const r = await eventually(() => client.recordMark(req, md), 30_000);
    expect(r).toMatchObject({ replayed: false, weight: 3 });

    const consumer = await jetstream(nc).consumers.get(names.contextStream("grades").name);
    const m = await consumer.next({ expires: 30_000 });
    expect(m?.subject).toMatch(
      new RegExp(
        `^${env.natsPrefix}\\.grades\\.v1\\.${f.municipalityId}\\.${f.schoolId}\\..+\\.MarkRecorded$`,
      ),
    );
  });

  it("refuses a call without a token", async () => {
    const err = await promiseClient(raw)
      .recordMark({ commandId: randomUUID(), lessonId: "x" })
      .then(
        () => undefined,
        (e: grpc.ServiceError) => e,
      );
    expect(err?.code).toBe(grpc.status.UNAUTHENTICATED);
  });
});
