import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { AbsenceReason, MarkValue } from "@otmetka/proto/grades/events/v1/events";
import { GradesServiceClient } from "@otmetka/proto/grades/v1/grades_service";
import { promiseClient } from "@otmetka/service-kit";
import {
  freePort,
  type ServiceProcess,
  startServiceProcess,
  startTestTokenIssuer,
  type TestTokenIssuer,
  useTestEnvironment,
} from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DEFAULT_METRICS_CONFIG } from "./domain/metrics/definitions.js";
import { dashboard } from "./queries/dashboards.js";
import { diary } from "./queries/diary.js";
import { eventually, type Harness, startHarness } from "./test-support/harness.js";
import { mathsTermJournal, mathsTermQuery } from "./test-support/maths-term.js";
import { type SchoolFixture, schoolFixture } from "./test-support/school.js";

/*
 * Marks recorded through the real grades service (its own process: command validation
 * against its replicas, event log, outbox relay to JetStream) reach reporting's diary,
 * journal view and dashboards. Identity's and curriculum's facts are published to their
 * streams as their relays would.
 */
const env = useTestEnvironment({ label: "reporting_e2e" });
let grades: ServiceProcess;
let issuer: TestTokenIssuer;
let raw: GradesServiceClient;
let h: Harness;
let f: SchoolFixture;

/** grades' package directory, found through its exports (it runs from src/main.ts). */
const gradesDir = () =>
  dirname(dirname(dirname(createRequire(import.meta.url).resolve("@otmetka/grades/bench"))));

beforeAll(async () => {
  issuer = await startTestTokenIssuer();
  const port = await freePort();
  grades = startServiceProcess({
    name: "grades",
    cwd: gradesDir(),
    env: {
      ...env.env,
      GRPC_HOST: "127.0.0.1",
      GRPC_PORT: String(port),
      AUTH_JWKS_URL: issuer.jwksUrl,
      SHUTDOWN_GRACE_MS: "100",
    },
  });
  await grades.waitForOutput("grpc server listening", 60_000);
  raw = new GradesServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  h = await startHarness(env);
  f = schoolFixture();
  await h.publish(f.events.filter((e) => e.context !== "grades"));
}, 90_000);

afterAll(async () => {
  raw?.close();
  if (grades && grades.child.exitCode === null) grades.child.kill("SIGKILL");
  await h?.close();
  await issuer?.stop();
});

it("marks recorded in grades show in the diary, the journal view and the dashboards", async () => {
  const client = promiseClient(raw);
  const md = issuer.metadataFor(
    await issuer.sign({ roles: [`TEACHER@school:${f.schoolId}`], pid: f.teacher }),
  );
  const mark = (studentId: string, value: MarkValue) => ({
    studentId,
    value,
    workType: "ORAL",
    comment: "",
  });
  const req = {
    commandId: randomUUID(),
    journal: {
      classGroupId: f.cg,
      subgroupId: "",
      subjectId: f.math,
      academicYear: { startYear: 2026 },
    },
    lessonId: f.L.l1,
    marks: [mark(f.p.p1, MarkValue.MARK_VALUE_FIVE), mark(f.p.p2, MarkValue.MARK_VALUE_FOUR)],
  };
  // UNAVAILABLE until grades' replica has the facts; then the column is taken.
  const r = await eventually(() => client.recordMarks(req, md), 45_000);
  expect(r.markIds).toHaveLength(2);

  const d = await eventually(async () => {
    const x = await diary(h.db, f.p.p1, "2026-09-01", "2026-09-30");
    expect(x.marks.map((m) => m.value)).toEqual(["5"]);
    return x;
  }, 45_000);
  expect(d.averages).toContainEqual({
    subjectId: f.math,
    term: 1,
    weightedAverage: "5.00",
    roundedMark: 5,
  });

  // The two marks are two events: the projection may apply them in two batches.
  await eventually(async () => {
    const v = await mathsTermJournal(h.db, f);
    expect(v.marks.map((m) => [m.studentId, m.value]).sort()).toEqual(
      [
        [f.p.p1, "5"],
        [f.p.p2, "4"],
      ].sort(),
    );
  }, 45_000);

  await eventually(async () => {
    const dash = await dashboard(h.db, DEFAULT_METRICS_CONFIG, {
      level: "SCHOOL",
      scopeId: f.schoolId,
      startYear: 2026,
      subjectId: f.math,
      period: { kind: "TERM", term: 1 },
      asOf: "2026-10-26",
      basis: "CURRENT",
    });
    expect(dash.performance?.pupilCount.value).toBe(2);
    expect(dash.performance?.average).toMatchObject({ numerator: 9, denominator: 2 });
    expect(dash.performance?.passRate).toMatchObject({ numerator: 2, denominator: 2 });
  }, 45_000);
});

it("an excusal survives attendance taken again with the pupil still absent: missed lessons stay excused", async () => {
  const client = promiseClient(raw);
  const as = async (role: string) =>
    issuer.metadataFor(
      await issuer.sign({ roles: [`${role}@school:${f.schoolId}`], pid: f.teacher }),
    );
  const [teacher, admin] = [await as("TEACHER"), await as("SCHOOL_ADMIN")];
  const journal = {
    classGroupId: f.cg,
    subgroupId: "",
    subjectId: f.math,
    academicYear: { startYear: 2026 },
  };
  const entry = (studentId: string, reason: AbsenceReason, lateMinutes = 0) => ({
    studentId,
    reason,
    lateMinutes,
  });
  const absent = entry(f.p.p1, AbsenceReason.ABSENCE_REASON_UNEXCUSED);
  const take = (absences: ReturnType<typeof entry>[]) =>
    eventually(
      () =>
        client.recordAttendance(
          { commandId: randomUUID(), journal, lessonId: f.L.l2, absences },
          teacher,
        ),
      45_000,
    );
  await take([absent]);
  await client.excuseAbsence(
    { commandId: randomUUID(), journal, lessonId: f.L.l2, studentId: f.p.p1, note: "справка" },
    admin,
  );
  // The teacher re-saves the list (p1 still absent as first taken), now with p2 late: the
  // lateness shows that the re-save was counted.
  await take([absent, entry(f.p.p2, AbsenceReason.ABSENCE_REASON_NONE, 5)]);
  await eventually(async () => {
    const a = (await dashboard(h.db, DEFAULT_METRICS_CONFIG, mathsTermQuery(f))).attendance;
    expect(a.lateness.arrivals).toBe(1);
    expect(a.missedLessons).toMatchObject({ total: 1, excused: 1, unexcused: 0 });
  }, 45_000);
});
