import { randomBytes, randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { messagingNames } from "@otmetka/messaging";
import { AccessRecord } from "@otmetka/proto/audit/v1/access_record";
import {
  CurriculumServiceClient,
  LessonStatus,
} from "@otmetka/proto/curriculum/v1/curriculum_service";
import { MarkValue } from "@otmetka/proto/grades/events/v1/events";
import { GradesServiceClient } from "@otmetka/proto/grades/v1/grades_service";
import { IdentityServiceClient, PersonKind } from "@otmetka/proto/identity/v1/identity_service";
import { createCallerVerifier, createLogger, promiseClient } from "@otmetka/service-kit";
import {
  addSubject,
  conductLesson,
  defineQuarters,
  FIRST_WEEK,
  freePort,
  generateFirstWeek,
  registerPerson,
  registerSchool,
  type ServiceProcess,
  scheduleSubject,
  startServiceProcess,
  startTestTokenIssuer,
  type TestTokenIssuer,
  useTestEnvironment,
  SCHOOL_YEAR as YEAR,
} from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { jetStreamAuditSink } from "../audit/publisher.js";
import { type Backends, connectBackends } from "../backends/clients.js";
import { createGateway } from "../http/gateway.js";
import { NoticeHub } from "../subscriptions/notices.js";
import { openSubscription } from "./sse.js";

/*
 * The integration test: identity, curriculum, grades and reporting as real processes
 * against real PostgreSQL and NATS, every one verifying callers against one test JWKS. A
 * school is set up through their gRPC APIs; then a journal, a diary and a dashboard are read
 * through the gateway with names joined from identity and access records on AUDIT.
 */
const env = useTestEnvironment({ label: "gateway_e2e" });
const serviceDir = (name: string) => fileURLToPath(new URL(`../../../${name}`, import.meta.url));

let issuer: TestTokenIssuer;
let nc: NatsConnection;
const procs: ServiceProcess[] = [];
const addr: Record<string, string> = {};
let backends: Backends;
let yoga: ReturnType<typeof createGateway>;
const hub = new NoticeHub();

async function eventually<T>(check: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      // Retry what may still be on its way (UNAVAILABLE, NOT_FOUND); a refusal is final.
      const code = (err as { code?: unknown }).code;
      if (Date.now() > deadline || (typeof code === "number" && code !== 14 && code !== 5))
        throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function start(name: string, extra: Record<string, string>): Promise<void> {
  const port = await freePort();
  const db = await env.createDatabase(name);
  const p = startServiceProcess({
    name,
    cwd: serviceDir(name),
    env: {
      ...env.env,
      DATABASE_URL: db.url,
      GRPC_HOST: "127.0.0.1",
      GRPC_PORT: String(port),
      AUTH_JWKS_URL: issuer.jwksUrl,
      SHUTDOWN_GRACE_MS: "100",
      LOG_LEVEL: "info",
      ...extra,
    },
  });
  procs.push(p);
  await p.waitForOutput("grpc server listening", 90_000);
  addr[name] = `127.0.0.1:${port}`;
}

beforeAll(async () => {
  issuer = await startTestTokenIssuer();
  nc = await connect({ servers: env.natsUrl });
  await start("identity", {
    IDENTITY_MASTER_KEYS: `k1:${randomBytes(32).toString("base64")}`,
    IDENTITY_BLIND_INDEX_KEY: randomBytes(32).toString("base64"),
    IDENTITY_HTTP_HOST: "127.0.0.1",
    IDENTITY_HTTP_PORT: String(await freePort()),
  });
  await Promise.all([start("curriculum", {}), start("grades", {}), start("reporting", {})]);
  backends = connectBackends({
    identity: addr.identity as string,
    curriculum: addr.curriculum as string,
    reporting: addr.reporting as string,
  });
  const names = messagingNames(env.natsPrefix);
  const { nats } = names;
  const logger = createLogger({ service: "gateway-e2e", level: "silent" });
  hub.start(nc, `${names.eventRoot("reporting")}.changed.>`, logger);
  yoga = createGateway({
    backends,
    verifier: createCallerVerifier({ jwksUrl: issuer.jwksUrl }),
    audit: jetStreamAuditSink(jetstream(nc), nats.subject("audit", "access")),
    logger,
    regionId: "74",
    notices: hub,
    development: false,
    persistedOnly: false,
    limits: { depth: 10, cost: 5000, aliases: 15, tokens: 2000, perMinute: 10_000 },
  });
}, 240_000);

afterAll(async () => {
  hub.stop();
  backends?.close();
  for (const p of procs) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  await nc?.close();
  await issuer?.stop();
});

async function gql(token: string, query: string) {
  const res = await yoga.fetch("http://gateway.test/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  return (await res.json()) as { data?: Record<string, unknown>; errors?: { message: string }[] };
}

it("reads a journal, a diary and a dashboard through GraphQL, names joined, access audited; an unlinked guardian's diary subscription ends, and a teacher's journal subscription once their assignment ended", async () => {
  const creds = grpc.credentials.createInsecure();
  const identity = promiseClient(new IdentityServiceClient(addr.identity as string, creds));
  const curriculum = promiseClient(new CurriculumServiceClient(addr.curriculum as string, creds));
  const grades = promiseClient(new GradesServiceClient(addr.grades as string, creds));
  const admin = issuer.metadataFor(await issuer.sign({ roles: ["PLATFORM_ADMIN"] }));
  const cmd = () => randomUUID();

  const api = { identity, curriculum, metadata: admin };

  // Identity: municipality, school, teacher, two pupils, a guardian, class group, enrolments.
  const school = await registerSchool(api, {
    municipality: "Копейский ГО",
    school: "МОУ СОШ № 1",
    shortName: "СОШ 1",
    address: "ул. Ленина, 1",
  });
  const { municipalityId, schoolId } = school;
  const register = (kind: PersonKind, familyName: string, birthDate: string) =>
    registerPerson(api, schoolId, kind, { familyName, birthDate });
  const teacher = await register(PersonKind.PERSON_KIND_STAFF, "Учителева", "1980-01-02");
  const p1 = await register(PersonKind.PERSON_KIND_STUDENT, "Петров", "2015-03-01");
  const p2 = await register(PersonKind.PERSON_KIND_STUDENT, "Сидоров", "2015-04-01");
  const guardian = await register(PersonKind.PERSON_KIND_GUARDIAN, "Петрова", "1985-05-05");
  const { classGroupId } = await identity.openClassGroup(
    {
      commandId: cmd(),
      schoolId,
      academicYear: YEAR,
      gradeLevel: 5,
      letter: "А",
      homeroomTeacherId: "",
    },
    admin,
  );
  for (const p of [p1, p2]) {
    await identity.enrollStudent(
      { commandId: cmd(), personId: p, classGroupId, effectiveDate: "2026-09-01" },
      admin,
    );
  }
  await identity.linkGuardian({ commandId: cmd(), guardianId: guardian, studentId: p1 }, admin);

  // Curriculum: calendar, quarters, maths, the teacher's assignment and slot, one week of lessons.
  await defineQuarters(api, school, [5]);
  const subjectId = await addSubject(api, "MATH", "Математика");
  const slot = { weekday: 1, period: 1, room: "1" };
  await scheduleSubject(api, schoolId, { teacherId: teacher, subjectId, classGroupId }, slot);
  await generateFirstWeek(api, schoolId);
  // The lessons read model follows curriculum's own events: wait for the generated week.
  const lesson = await eventually(async () => {
    const { lessons } = await curriculum.listClassGroupLessons(
      { classGroupId, academicYear: YEAR, ...FIRST_WEEK },
      admin,
    );
    const l = lessons.find(
      (x) => x.subjectId === subjectId && x.status === LessonStatus.LESSON_STATUS_SCHEDULED,
    );
    if (!l) throw new Error(`no scheduled lesson yet: ${JSON.stringify(lessons)}`);
    return l;
  });
  const lessonId = lesson.lessonId;
  await conductLesson(
    api,
    { schoolId, classGroupId, lessonId },
    { topic: "Дроби", homework: "№ 1" },
  );

  // Grades: the teacher marks both pupils (UNAVAILABLE until grades' replicas have the facts).
  const teacherToken = await issuer.sign({ roles: [`TEACHER@school:${schoolId}`], pid: teacher });
  const marks = {
    commandId: cmd(),
    journal: { classGroupId, subgroupId: "", subjectId, academicYear: YEAR },
    lessonId,
    marks: [
      { studentId: p1, value: MarkValue.MARK_VALUE_FIVE, workType: "ORAL", comment: "" },
      { studentId: p2, value: MarkValue.MARK_VALUE_FOUR, workType: "ORAL", comment: "" },
    ],
  };
  await eventually(() => grades.recordMarks(marks, issuer.metadataFor(teacherToken)), 90_000);

  // The journal through the gateway, as the teacher: names from identity, marks from reporting.
  const journalQuery = `query TeacherJournal { journal(classGroupId: "${classGroupId}", subjectId: "${subjectId}", termId: "2026:1") {
    subject { name } lessons { topic } rows { pupil { id name } marks { value } } } }`;
  const journal = await eventually(async () => {
    const a = await gql(teacherToken, journalQuery);
    const j = a.data?.journal as
      | { rows: { pupil: { id: string; name: string }; marks: { value: string }[] }[] }
      | undefined;
    if (!j || j.rows.flatMap((r) => r.marks).length < 2) throw new Error(JSON.stringify(a));
    return j;
  }, 90_000);
  expect(journal.rows.map((r) => [r.pupil.name, r.marks.map((m) => m.value)]).sort()).toEqual([
    ["Петров Иван", ["FIVE"]],
    ["Сидоров Иван", ["FOUR"]],
  ]);

  // The diary, as the guardian; the dashboard, as the municipal officer (no names there).
  const guardianToken = await issuer.sign({ roles: ["GUARDIAN"], pid: guardian });
  const diary = await eventually(async () => {
    const a = await gql(
      guardianToken,
      `{ diary(studentId: "${p1}", from: "2026-09-01", to: "2026-09-30") { student { name } marks { value subject { id } } lessons { topic } } }`,
    );
    if (!a.data?.diary) throw new Error(JSON.stringify(a));
    return a.data.diary as {
      student: { name: string };
      marks: { value: string; subject: { id: string } }[];
    };
  });
  expect(diary.student.name).toBe("Петров Иван");
  expect(diary.marks).toEqual([{ value: "FIVE", subject: { id: subjectId } }]);
  // A person who is not a pupil has no diary: a refusal naming the argument, not reporting's
  // access text (the teacher may read their own record, so may learn they are no pupil).
  const notPupil = await gql(
    teacherToken,
    `{ diary(studentId: "${teacher}", from: "2026-09-01", to: "2026-09-30") { marks { value } } }`,
  );
  expect(notPupil.errors).toEqual([
    {
      message: `studentId: ${teacher} is not a pupil; diaries are kept for pupils only`,
      locations: [{ line: 1, column: 3 }],
      path: ["diary"],
      extensions: { code: "BAD_USER_INPUT", field: "studentId" },
    },
  ]);

  const officer = await issuer.sign({
    roles: [`MUNICIPAL_OFFICER@municipality:${municipalityId}`],
  });
  const dash = await gql(
    officer,
    `{ dashboard(scope: { schoolId: "${schoolId}" }, period: { term: 1, academicYear: 2026, basis: CURRENT }, subjectId: "${subjectId}") {
      pupilCount { value } averageMark { numerator denominator } definitionVersion children { name pupilCount { value } } } }`,
  );
  expect(dash.errors).toBeUndefined();
  expect(dash.data?.dashboard).toMatchObject({
    pupilCount: { value: 2 },
    averageMark: { numerator: 9, denominator: 2 },
  });
  expect(JSON.stringify(dash)).not.toContain("Петров");

  // One access record for the teacher's journal, on identity's AUDIT stream.
  const jsm = await jetstreamManager(nc);
  const stream = messagingNames(env.natsPrefix).nats.stream("AUDIT");
  const records = await eventually(async () => {
    const info = await jsm.streams.info(stream);
    const out: AccessRecord[] = [];
    for (
      let seq = info.state.first_seq;
      seq <= info.state.last_seq && info.state.messages > 0;
      seq++
    ) {
      const m = await jsm.streams.getMessage(stream, { seq });
      if (m) out.push(AccessRecord.decode(m.data));
    }
    return out;
  });
  const journalRecords = records.filter((r) => r.operation === "TeacherJournal");
  expect(journalRecords.length).toBeGreaterThan(0);
  expect(new Set(journalRecords.at(-1)?.pupilPersonIds)).toEqual(new Set([p1, p2]));
  expect(journalRecords.at(-1)?.actorPersonId).toBe(teacher);

  // The guardian follows the diary for as long as identity links them to the pupil: after
  // UnlinkGuardian, the diary's next notice ends the subscription with the query's FORBIDDEN.
  const diarySub = await openSubscription(
    "http://gateway.test/graphql",
    guardianToken,
    "diary",
    `subscription { diaryChanged(studentId: "${p1}") { kind id } }`,
    (url, init) => yoga.fetch(url, init),
  );
  const markP1 = () =>
    eventually(() =>
      grades.recordMarks(
        { ...marks, commandId: cmd(), marks: marks.marks.slice(0, 1) },
        issuer.metadataFor(teacherToken),
      ),
    );
  await markP1();
  await expect.poll(() => diarySub.events.length, { timeout: 60_000 }).toBeGreaterThan(0);
  expect(diarySub.events[0]).toEqual({ data: { diaryChanged: { kind: "diary", id: p1 } } });
  await identity.unlinkGuardian({ commandId: cmd(), guardianId: guardian, studentId: p1 }, admin);
  const guardianMd = issuer.metadataFor(guardianToken);
  await expect
    .poll(
      async () =>
        (await identity.getGuardianChildren({ guardianId: guardian }, guardianMd)).studentIds,
      {
        timeout: 30_000,
      },
    )
    .toEqual([]);
  await markP1();
  await expect.poll(() => diarySub.ended, { timeout: 60_000 }).toBe(true);
  expect(diarySub.events.at(-1)).toMatchObject({
    errors: [{ extensions: { code: "FORBIDDEN", field: "studentId" } }],
  });
  expect(JSON.stringify(diarySub.events.at(-1))).not.toContain("diaryChanged");

  // The teacher follows the journal while curriculum assigns them the class. Once the admin
  // ends their slot and then the assignment on the first week's last day (before today), the
  // journal's next notice ends the subscription with the query's FORBIDDEN.
  const journalSub = await openSubscription(
    "http://gateway.test/graphql",
    teacherToken,
    "journal",
    `subscription { journalChanged(classGroupId: "${classGroupId}", subjectId: "${subjectId}") { kind id } }`,
    (url, init) => yoga.fetch(url, init),
  );
  const markP2 = () =>
    grades.recordMarks({ ...marks, commandId: cmd(), marks: marks.marks.slice(1) }, admin);
  await markP2();
  await expect.poll(() => journalSub.events.length, { timeout: 60_000 }).toBeGreaterThan(0);
  expect(journalSub.ended).toBe(false);
  const at = { schoolId, academicYear: YEAR };
  const timetable = await curriculum.getTimetable(
    { ...at, classGroupId, teacherId: teacher, onDate: "" },
    admin,
  );
  const lastDay = FIRST_WEEK.toDate;
  for (const { slotId } of timetable.slots)
    await curriculum.endTimetableSlot({ ...at, commandId: cmd(), slotId, lastDay }, admin);
  expect(timetable.assignments).toHaveLength(1);
  const [{ assignmentId } = { assignmentId: "" }] = timetable.assignments;
  await curriculum.endTeacherAssignment({ ...at, commandId: cmd(), assignmentId, lastDay }, admin);
  await markP2();
  await expect.poll(() => journalSub.ended, { timeout: 60_000 }).toBe(true);
  expect(journalSub.events.at(-1)).toMatchObject({
    errors: [{ extensions: { code: "FORBIDDEN", field: "classGroupId" } }],
  });
}, 300_000);
