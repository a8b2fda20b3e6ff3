import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { messagingNames } from "@otmetka/messaging";
import { AccessRecord } from "@otmetka/proto/audit/v1/access_record";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { F, pupilsOfC1 } from "../test-support/fixture.js";
import { type GatewayHarness, startGatewayHarness } from "../test-support/harness.js";
import { jetStreamAuditSink } from "./publisher.js";

/*
 * Audit records on the real AUDIT stream (as identity consumes them), and the gRPC budget of a
 * journal page: a fixed number of calls whatever the number of pupils.
 */
const env = useTestEnvironment({ label: "gateway_audit" });

describe("access audit on the AUDIT stream", () => {
  let nc: NatsConnection;
  let h: GatewayHarness;
  let stream: string;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    nc = await connect({ servers: env.natsUrl });
    const { nats } = messagingNames(env.natsPrefix);
    stream = nats.stream("AUDIT");
    const subject = nats.subject("audit", "access");
    // Identity owns the stream; the test makes it the way identity's ensureAuditStream does.
    await (await jetstreamManager(nc)).streams.add({
      name: stream,
      subjects: [subject],
      duplicate_window: 120e9,
    });
    h = await startGatewayHarness({ sink: jetStreamAuditSink(jetstream(nc), subject) });
    tokens.teacher = await h.token([`TEACHER@school:${F.s1}`], F.t1);
    tokens.admin = await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "admin-person");
    tokens.student = await h.token(["STUDENT"], F.p1);
    tokens.guardian = await h.token(["GUARDIAN"], F.g1);
    tokens.ministry = await h.token([`MINISTRY_OFFICER@region:${F.region}`], "ministry-person");
  });
  afterAll(async () => {
    await h?.close();
    await nc?.close();
  });

  async function records(): Promise<AccessRecord[]> {
    const jsm = await jetstreamManager(nc);
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
  }

  const journalPage = (classGroupId: string) => `query JournalPage {
    journal(classGroupId: "${classGroupId}", subjectId: "math", termId: "${F.year}:1") {
      classGroup { name } subject { name } lessons { date topic }
      rows { pupil { id name familyName } marks { value } weightedAverage termMark }
    }
  }`;

  it("a teacher's journal page: names joined, one record naming all 30 pupils", async () => {
    const before = (await records()).length;
    const a = await h.query(tokens.teacher as string, journalPage(F.c1));
    expect(a.body.errors).toBeUndefined();
    const journal = a.body.data?.journal as { rows: { pupil: { id: string; name: string } }[] };
    const rows = journal.rows;
    expect(rows).toHaveLength(30);
    expect(rows[0]?.pupil.name).toBe("Pupil-p01 Имя");
    const after = await records();
    expect(after.length - before).toBe(1);
    const r = after[after.length - 1] as AccessRecord;
    expect(new Set(r.pupilPersonIds)).toEqual(new Set(pupilsOfC1));
    expect(r.actorPersonId).toBe(F.t1);
    expect(r.actorRole).toBe(`TEACHER@school:${F.s1}`);
    expect(r.operation).toBe("JournalPage");
    expect(r.recordId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
  });

  it("a school admin reading a pupil's diary and a person: one record per request", async () => {
    const before = (await records()).length;
    await h.query(
      tokens.admin as string,
      `query D { diary(studentId: "${F.p1}", from: "2026-09-01", to: "2026-09-30") { student { name } marks { value } } }`,
    );
    await h.query(tokens.admin as string, `query P { person(id: "${F.p1}") { name birthDate } }`);
    const after = (await records()).slice(before);
    expect(after.map((r) => [r.operation, r.pupilPersonIds])).toEqual([
      ["D", [F.p1]],
      ["P", [F.p1]],
    ]);
  });

  const diaryOf = (alias: string, studentId: string, to = "2026-09-30") =>
    `${alias}: diary(studentId: "${studentId}", from: "2026-09-01", to: "${to}") { student { name } marks { value } }`;

  it("a diary refused after its policy (not a pupil, range too long) writes no record", async () => {
    const before = (await records()).length;
    const teacher = await h.query(tokens.admin as string, `query D { ${diaryOf("d", F.t1)} }`);
    expect(teacher.body.errors?.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    const long = await h.query(
      tokens.admin as string,
      `query D { ${diaryOf("d", F.p1, "2027-12-31")} }`,
    );
    expect(long.body.errors?.map((e) => e.extensions?.field)).toEqual(["to"]);
    expect((await records()).length).toBe(before);
  });

  it("one request serving some items and refusing others records only the served pupils", async () => {
    const before = (await records()).length;
    // A diary beside a refused one; a pupil's name beside an erased pupil's (nothing to serve).
    const a = await h.query(
      tokens.admin as string,
      `query Mixed { ${diaryOf("ok", F.p1)} ${diaryOf("no", F.t1)}
        named: person(id: "${F.p1}") { name } erased: person(id: "${F.e1}") { name birthDate } }`,
    );
    expect(a.body.errors?.map((e) => e.message)).toEqual([
      `studentId: ${F.t1} is not a pupil; diaries are kept for pupils only`,
    ]);
    expect(a.body.data?.no).toBeNull();
    expect(a.body.data?.erased).toEqual({ name: null, birthDate: null });
    const after = (await records()).slice(before);
    expect(after.map((r) => [r.operation, r.pupilPersonIds, r.actorRole])).toEqual([
      ["Mixed", [F.p1], `SCHOOL_ADMIN@school:${F.s1}`],
    ]);
    // Only the erased pupil asked: nothing was served, so nothing is recorded.
    const erased = await h.query(
      tokens.admin as string,
      `query E { person(id: "${F.e1}") { name familyName } }`,
    );
    expect(erased.body.errors).toBeUndefined();
    expect((await records()).length).toBe(before + 1);
  });

  it("pupils and guardians reading their own diary, and dashboards, write no record", async () => {
    const before = (await records()).length;
    const diary = `{ diary(studentId: "${F.p1}", from: "2026-09-01", to: "2026-09-30") { student { name } marks { value } } }`;
    expect((await h.query(tokens.student as string, diary)).body.errors).toBeUndefined();
    expect((await h.query(tokens.guardian as string, diary)).body.errors).toBeUndefined();
    const dash = await h.query(
      tokens.ministry as string,
      `{ dashboard(scope: { regionId: "74" }, period: { year: true, academicYear: ${F.year} }) { pupilCount { value } children { name children { name } } } }`,
    );
    expect(dash.body.errors).toBeUndefined();
    expect((await records()).length).toBe(before);
  });

  it("a journal page costs a fixed, small number of gRPC calls, whatever its size", async () => {
    // Same query over 30 pupils (C1) and 1 pupil (C2); admin of each school, so no timetable call.
    h.fakes.reset();
    await h.query(tokens.admin as string, journalPage(F.c1));
    const big = new Map(h.fakes.calls);
    const s2admin = await h.token([`SCHOOL_ADMIN@school:${F.s2}`], "admin2");
    h.fakes.reset();
    await h.query(s2admin, journalPage(F.c2));
    const small = new Map(h.fakes.calls);
    expect(big).toEqual(small);
    // GetClassGroups, GetJournalView, GetPeople (kinds), GetPeople (names), ListSubjects.
    expect([...big.values()].reduce((x, y) => x + y, 0)).toBe(5);
    expect(big.get("GetPeople")).toBe(2);
    // As the teacher: one more call, the teacher's timetable.
    h.fakes.reset();
    await h.query(
      await h.token([`TEACHER@school:${F.s1}`], F.t3),
      journalPage(F.c1).replace('"math"', '"rus"'),
    );
    expect(h.fakes.totalCalls()).toBe(6);
    // Every call carried the caller's own token.
    expect(new Set(h.fakes.tokens).size).toBe(1);
    expect(h.fakes.tokens[0]).toMatch(/^Bearer ey/);
  });

  it("when the record cannot be written, the data is withheld (UNAVAILABLE)", async () => {
    const broken = await startGatewayHarness({
      sink: jetStreamAuditSink(jetstream(nc, { timeout: 1000 }), `${env.natsPrefix}.nowhere.audit`),
    });
    try {
      const token = await broken.token([`SCHOOL_ADMIN@school:${F.s1}`], "admin-person");
      const a = await broken.query(token, journalPage(F.c1));
      expect(a.body.data ?? null).toBeNull();
      expect(a.body.errors?.map((e) => e.extensions?.code)).toEqual(["UNAVAILABLE"]);
      expect(a.text).not.toContain("Pupil-");
    } finally {
      await broken.close();
    }
  });
});
