import { connect, type NatsConnection } from "@nats-io/transport-node";
import { messagingNames } from "@otmetka/messaging";
import { createLogger, manualClock } from "@otmetka/service-kit";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openSubscription, type Subscription } from "../e2e/sse.js";
import { F, TEACHING } from "../test-support/fixture.js";
import { type GatewayHarness, startGatewayHarness } from "../test-support/harness.js";
import { bearer, connectWs } from "../test-support/ws-client.js";
import { NoticeHub } from "./notices.js";

/*
 * An open subscription is authorized again at each notice, with the facts of now: a teacher
 * whose teaching assignment was removed, or a guardian whose link to the pupil ended, gets a
 * FORBIDDEN error and the end of the stream instead of the notice. Reporting's notices on real
 * NATS; curriculum and identity are the harness's stand-ins, whose assignments and links the
 * tests change as the services' commands would.
 */
const env = useTestEnvironment({ label: "gateway_lost_permission" });

interface SseEvent {
  data?: Record<string, { kind: string; id: string }> | null;
  errors?: { message: string; extensions?: { code?: string; field?: string } }[];
}

describe("subscriptions lose their permission", () => {
  let nc: NatsConnection;
  let h: GatewayHarness;
  let root: string;
  const hub = new NoticeHub();
  // The gateway's clock: 2026-10-15 unless a test moves it (the harness's default).
  const OPENED = "2026-10-15T10:00:00Z";
  const clock = manualClock(OPENED);

  beforeAll(async () => {
    nc = await connect({ servers: env.natsUrl });
    root = `${messagingNames(env.natsPrefix).eventRoot("reporting")}.changed`;
    hub.start(nc, `${root}.>`, createLogger({ service: "gateway-test", level: "silent" }));
    await nc.flush();
    h = await startGatewayHarness({ notices: hub, now: () => clock.now() });
  });
  afterEach(() => {
    h.fakes.failures.clear();
    h.fakes.teaching = TEACHING.map((t) => ({ ...t }));
    h.fakes.guardianChildren.set(F.g1, [F.p1]);
    h.fakes.homerooms.set(F.c1, F.t1);
    h.fakes.currentSchools.clear();
    clock.set(OPENED);
  });
  afterAll(async () => {
    hub.stop();
    await h?.close();
    await nc?.close();
  });

  /** An SSE subscription through the in-process gateway: its events as they come. */
  const subscribe = async (token: string, query: string) => {
    const sub = await openSubscription(
      "http://gateway.test/graphql",
      token,
      "sub",
      query,
      (_, init) => h.raw(init),
    );
    return sub as Subscription & { events: SseEvent[] };
  };

  const publish = (kind: string, id: string) =>
    nc.publish(`${root}.${kind}`, JSON.stringify({ kind, id }));

  const delivered = (sub: Subscription, n: number) =>
    expect.poll(() => sub.events.length, { timeout: 5000 }).toBe(n);

  /** Notices one at a time, each read before the next (queued ones of an id are one notice). */
  const publishEach = async (sub: Subscription, n: number, kind: string, id: string) => {
    const seen = sub.events.length;
    for (let i = 1; i <= n; i++) {
      publish(kind, id);
      await delivered(sub, seen + i);
    }
  };

  /** A teacher's journalChanged of C1 in a subject: the token, the subscription and the journal's id. */
  const openJournal = async (teacherId: string, subjectId: string) => {
    const teacher = await h.token([`TEACHER@school:${F.s1}`], teacherId);
    const sub = await subscribe(
      teacher,
      `subscription { journalChanged(classGroupId: "${F.c1}", subjectId: "${subjectId}") { kind id } }`,
    );
    return { teacher, sub, journal: `journal-${F.c1}-${subjectId}-${F.year}` };
  };

  /** The notice after the first ended the stream with one FORBIDDEN error naming the argument. */
  const endsForbidden = async (sub: Subscription & { events: SseEvent[] }, field: string) => {
    await expect.poll(() => sub.ended, { timeout: 5000 }).toBe(true);
    expect(sub.events).toHaveLength(2);
    expect(sub.events[1]?.errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN", field });
  };

  /** The query refuses the journal the same way. */
  const journalRefused = async (teacher: string) => {
    const query = await h.query(
      teacher,
      `{ journal(classGroupId: "${F.c1}", subjectId: "rus", termId: "${F.year}:1") { subject { id } } }`,
    );
    expect(query.body.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  };

  it("ends a teacher's journalChanged with FORBIDDEN at the first notice after the assignment was removed", async () => {
    // T3 teaches rus in C1 (not its homeroom teacher): the assignment is the only reason.
    const { teacher, sub, journal } = await openJournal(F.t3, "rus");
    publish("journal", journal);
    await delivered(sub, 1);
    expect(sub.events[0]).toEqual({
      data: { journalChanged: { kind: "journal", id: journal } },
    });

    // Curriculum no longer lists T3 for rus in C1.
    const before = h.fakes.teaching.length;
    h.fakes.teaching = h.fakes.teaching.filter((t) => t.teacherId !== F.t3);
    expect(h.fakes.teaching.length).toBe(before - 1);
    publish("journal", journal);
    await endsForbidden(sub, "classGroupId");
    const refused = sub.events[1] as SseEvent;
    expect(refused.data ?? undefined).toBeUndefined();
    expect(refused.errors?.[0]?.message).toMatch(
      /^classGroupId: the caller may not read the journal of class group c1 in subject rus/,
    );
    // The refusal is the query's: the journal itself is refused the same way.
    await journalRefused(teacher);
  });

  it("ends a teacher's journalChanged at the first notice after their assignment ended (EndTeacherAssignment), not while it runs", async () => {
    // T3 teaches rus in C1 (not its homeroom teacher); the gateway's today is 2026-10-15.
    const { teacher, sub, journal } = await openJournal(F.t3, "rus");
    const end = (lastDay: string) => {
      h.fakes.teaching = h.fakes.teaching.map((t) =>
        t.teacherId === F.t3 ? { ...t, lastDay } : t,
      );
    };
    // Ending today: they still teach it today.
    end("2026-10-15");
    publish("journal", journal);
    await delivered(sub, 1);
    expect(sub.events[0]).toEqual({ data: { journalChanged: { kind: "journal", id: journal } } });

    // Ended yesterday: GetTimetable still lists the assignment, with its last day.
    end("2026-10-14");
    publish("journal", journal);
    await endsForbidden(sub, "classGroupId");
    await journalRefused(teacher);
  });

  it("checks once per notice with fresh answers: one GetClassGroups and one GetTimetable each", async () => {
    // T1 teaches math in C1 and stays assigned.
    const { sub, journal } = await openJournal(F.t1, "math");
    // T1 is C1's homeroom teacher too: the class group is read, the timetable not needed.
    h.fakes.reset();
    await publishEach(sub, 3, "journal", journal);
    expect(h.fakes.calls.get("GetClassGroups")).toBe(3);
    expect(h.fakes.calls.get("GetTimetable")).toBeUndefined();
    // Notices of other journals cost nothing.
    publish("journal", `journal-${F.c3}-math-${F.year}`);
    publish("journal", journal);
    await delivered(sub, 4);
    expect(h.fakes.calls.get("GetClassGroups")).toBe(4);
    expect(sub.ended).toBe(false);
    sub.close();

    const t3 = await h.token([`TEACHER@school:${F.s1}`], F.t3);
    h.fakes.teaching.push({ teacherId: F.t3, classGroupId: F.c3, subjectId: "math" });
    const other = await subscribe(
      t3,
      `subscription { journalChanged(classGroupId: "${F.c3}", subjectId: "math") { kind id } }`,
    );
    h.fakes.reset();
    await publishEach(other, 2, "journal", `journal-${F.c3}-math-${F.year}`);
    expect(h.fakes.calls.get("GetClassGroups")).toBe(2);
    expect(h.fakes.calls.get("GetTimetable")).toBe(2);
    other.close();
  });

  it("ends a guardian's diaryChanged with FORBIDDEN once the guardianship ended", async () => {
    const guardian = await h.token(["GUARDIAN"], F.g1);
    const sub = await subscribe(
      guardian,
      `subscription { diaryChanged(studentId: "${F.p1}") { kind id } }`,
    );
    publish("diary", F.p1);
    await delivered(sub, 1);
    h.fakes.guardianChildren.set(F.g1, []);
    publish("diary", F.p1);
    await endsForbidden(sub, "studentId");
  });

  it("ends a teacher's class-group dashboardChanged when they no longer teach the class group", async () => {
    const teacher = await h.token([`TEACHER@school:${F.s1}`], F.t3);
    h.fakes.teaching.push({ teacherId: F.t3, classGroupId: F.c3, subjectId: "rus" });
    const sub = await subscribe(
      teacher,
      `subscription { dashboardChanged(scope: { classGroupId: "${F.c3}" }) { kind id } }`,
    );
    publish("dashboard-class_group", F.c3);
    await delivered(sub, 1);
    h.fakes.teaching = h.fakes.teaching.filter((t) => t.classGroupId !== F.c3);
    publish("dashboard-class_group", F.c3);
    await endsForbidden(sub, "scope");
  });

  it("a school dashboard's check needs no service call (grants and the school's place only)", async () => {
    const admin = await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "admin-person");
    const sub = await subscribe(
      admin,
      `subscription { dashboardChanged(scope: { schoolId: "${F.s1}" }) { kind id } }`,
    );
    h.fakes.reset();
    await publishEach(sub, 3, "dashboard-school", F.s1);
    expect(h.fakes.totalCalls()).toBe(0);
    sub.close();
  });
  it("ends a journalChanged open across the midnight after the assignment's last day (the date of the notice, not of the opening)", async () => {
    // T3's rus in C1 ends today, 2026-10-15; the subscription opens a minute before midnight
    // in the region (Asia/Yekaterinburg, UTC+5: 18:59 UTC).
    h.fakes.teaching = h.fakes.teaching.map((t) =>
      t.teacherId === F.t3 ? { ...t, lastDay: "2026-10-15" } : t,
    );
    clock.set("2026-10-15T18:59:00Z");
    const { sub, journal } = await openJournal(F.t3, "rus");
    publish("journal", journal);
    await delivered(sub, 1);
    expect(sub.events[0]).toEqual({ data: { journalChanged: { kind: "journal", id: journal } } });

    clock.set("2026-10-15T19:01:00Z");
    publish("journal", journal);
    await endsForbidden(sub, "classGroupId");
  });

  it("ends a homeroom teacher's journalChanged once another teacher is the class group's homeroom teacher", async () => {
    // T1 is C1's homeroom teacher and has no assignment for rus there: the homeroom is the reason.
    const { sub, journal } = await openJournal(F.t1, "rus");
    publish("journal", journal);
    await delivered(sub, 1);
    // identity's AssignHomeroomTeacher: T3 takes C1.
    h.fakes.homerooms.set(F.c1, F.t3);
    publish("journal", journal);
    await endsForbidden(sub, "classGroupId");
  });

  it("ends a school admin's diaryChanged once the pupil left the school", async () => {
    const admin = await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "admin-person");
    const sub = await subscribe(
      admin,
      `subscription { diaryChanged(studentId: "${F.p1}") { kind id } }`,
    );
    publish("diary", F.p1);
    await delivered(sub, 1);
    // identity: P1 transferred to S2 (S1 a former school: the name only, current_school_ids [S2]).
    h.fakes.currentSchools.set(F.p1, [F.s2]);
    publish("diary", F.p1);
    await endsForbidden(sub, "studentId");
  });

  it("a burst of one journal's notices queued before the client reads is one notice and one check", async () => {
    // T3 teaches rus in C1: a check is a GetClassGroups and a GetTimetable.
    const { sub, journal } = await openJournal(F.t3, "rus");
    h.fakes.reset();
    // In one go, as reporting catching up sends them: all queued before the stream reads one.
    for (let i = 0; i < 100; i++) hub.deliver({ kind: "journal", id: journal });
    await delivered(sub, 1);
    // A later notice comes after any the burst would have left: the count is final then.
    hub.deliver({ kind: "journal", id: journal });
    await delivered(sub, 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(sub.events).toHaveLength(2);
    expect(h.fakes.calls.get("GetClassGroups")).toBe(2);
    expect(h.fakes.calls.get("GetTimetable")).toBe(2);
    sub.close();
  });

  it("ends it over WebSocket too: one FORBIDDEN error, the socket stays open", async () => {
    const teacher = await h.token([`TEACHER@school:${F.s1}`], F.t3);
    const server = await h.listen();
    const { client, connected } = connectWs(server.url, bearer(teacher));
    await connected;
    const results: unknown[] = [];
    let end: (e?: unknown) => void = () => {};
    const ended = new Promise<unknown>((r) => (end = r));
    client.subscribe(
      {
        query: `subscription { journalChanged(classGroupId: "${F.c1}", subjectId: "rus") { id } }`,
      },
      { next: (r) => void results.push(r), error: (e) => end(e), complete: () => end() },
    );
    const journal = `journal-${F.c1}-rus-${F.year}`;
    await expect
      .poll(
        () => {
          publish("journal", journal);
          return results.length;
        },
        { timeout: 5000 },
      )
      .toBeGreaterThan(0);
    h.fakes.teaching = h.fakes.teaching.filter((t) => t.teacherId !== F.t3);
    publish("journal", journal);
    const error = (await ended) as { extensions?: { code?: string } }[];
    expect(error[0]?.extensions?.code).toBe("FORBIDDEN");
    // The socket serves the caller's other operations still.
    const me = await new Promise<unknown>((resolve, reject) =>
      client.subscribe(
        { query: "{ me { personId } }" },
        { next: resolve, error: reject, complete: () => {} },
      ),
    );
    expect(me).toEqual({ data: { me: { personId: F.t3 } } });
    await client.dispose();
  });

  it("ends it with UNAVAILABLE when the check cannot be made (fails closed), not with the notice", async () => {
    const { sub, journal } = await openJournal(F.t3, "rus");
    h.fakes.failures.set("GetTimetable", { code: 14, details: "curriculum is down" });
    publish("journal", journal);
    await expect.poll(() => sub.ended, { timeout: 15_000 }).toBe(true);
    expect(sub.events).toHaveLength(1);
    expect(sub.events[0]?.data ?? undefined).toBeUndefined();
    expect(sub.events[0]?.errors?.[0]?.extensions?.code).toBe("UNAVAILABLE");
  });
});
