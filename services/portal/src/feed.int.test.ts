import type { NatsConnection } from "@nats-io/transport-node";
import { messagingNames } from "@otmetka/messaging";
import { rebuildProjection } from "@otmetka/projections";
import { addDays, civilDateIn } from "@otmetka/service-kit";
import { useTestEnvironment, waitFor } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERASURE_LOCK_CLASS, holdErasureFence } from "./feed/erasure-fence.js";
import { portalFeedProjection } from "./feed/projection.js";
import { FeedPublisher } from "./feed/publisher.js";
import { provisionSubscriberConsumer } from "./subscribers/consumers.js";
import {
  consent,
  grantExemption,
  recordAbsence,
  recordMark,
  seedSchool,
  setTermMark,
} from "./test-support/fixture.js";
import { type Harness, openTestPortalId, startHarness } from "./test-support/harness.js";
import { settle } from "./test-support/settle.js";
import { connectSubscriber, type Delivered, drain } from "./test-support/subscriber.js";

const env = useTestEnvironment({ label: "portal" });
let h: Harness;
let subA: NatsConnection;

beforeAll(async () => {
  h = await startHarness({
    databaseUrl: env.databaseUrl,
    prefix: env.natsPrefix,
    subscribers: ["a", "b", "c"],
  });
  // Subscriber a reads everything from the start: whichever test drains it first.
  await provisionSubscriberConsumer(h.jsm, h.names, "a", { from: "start" });
  subA = await connectSubscriber(h, "a");
}, 60_000);

afterAll(async () => {
  await subA?.close();
  await h?.stop();
});

/** Every message now in PORTAL, through the service's own (unrestricted) connection. */
async function streamContents(): Promise<
  { seq: number; subject: string; type: string; time: Date }[]
> {
  const last = (await h.jsm.streams.info(h.names.stream)).state.last_seq;
  const out = [];
  for (let seq = 1; seq <= last; seq++) {
    const m = await h.jsm.streams.getMessage(h.names.stream, { seq }).catch(() => null);
    if (m)
      out.push({
        seq,
        subject: m.subject,
        type: String(m.json<{ type: string }>().type),
        time: m.time,
      });
  }
  return out;
}

/**
 * A pupil enrolled with a portal id, consenting, with a mark: their school, class group and
 * snapshot in PORTAL. Each test that needs published history makes its own.
 */
async function publishedPupil(id: string, portalId: string): Promise<void> {
  await seedSchool(h, [{ id, portalId }]);
  await consent(h, id, true);
  await recordMark(h, id, "MARK_VALUE_FIVE");
  await settle(h);
}

const ofPortal = (got: Delivered[], portalId: string) =>
  got.filter((d) => d.event.subject === `pupil/${portalId}`);

describe("consent-gated publication", () => {
  it("publishes a pupil only while consent is granted: granted, withdrawn, re-granted", async () => {
    await seedSchool(h, [
      { id: "p1", portalId: "EPGU-1" },
      { id: "p2", portalId: "EPGU-2" },
    ]);
    await recordMark(h, "p1", "MARK_VALUE_FIVE");
    await recordMark(h, "p2", "MARK_VALUE_FOUR");
    await settle(h);
    await consent(h, "p1", true);
    await settle(h);
    await consent(h, "p1", false);
    await settle(h);
    await recordMark(h, "p1", "MARK_VALUE_THREE"); // while withdrawn: not published
    await settle(h);
    await consent(h, "p1", true);
    await settle(h);

    const got = await drain(subA, h, "a", (g) => ofPortal(g, "EPGU-1").length >= 3);
    const p1 = ofPortal(got, "EPGU-1");
    expect(p1.map((d) => d.event.type)).toEqual([
      "portal.v1.PupilPerformanceUpdated",
      "portal.v1.PupilConsentWithdrawn",
      "portal.v1.PupilPerformanceUpdated",
    ]);
    const first = p1[0]?.event.data as { subjects: { currentMarks: string[]; average: string }[] };
    expect(first.subjects[0]?.currentMarks).toEqual(["5"]);
    const again = p1[2]?.event.data as { subjects: { currentMarks: string[]; average: string }[] };
    expect(again.subjects[0]).toMatchObject({
      subjectId: "math",
      currentMarks: ["5", "3"],
      average: "4.00",
    });
    expect(p1[0]?.subject).toBe(h.names.subject("m-1", "s-1", "pupil", "EPGU-1"));

    // p2 never consented: nothing about them anywhere in the stream, and no names at all.
    const all = await streamContents();
    expect(all.some((m) => m.subject.endsWith(".EPGU-2"))).toBe(false);
    expect(all.map((m) => m.type)).toContain("portal.v1.SchoolReference");
    expect(all.map((m) => m.type)).toContain("portal.v1.ClassGroupReference");
  });
});

describe("bad internal data", () => {
  it("leaves out a snapshot the contract refuses without stalling other pupils", async () => {
    await seedSchool(h, [
      { id: "p8", portalId: "EPGU-8" },
      { id: "p9", portalId: "EPGU-9" },
    ]);
    await consent(h, "p8", true);
    await consent(h, "p9", true);
    await settle(h);
    const invalidBefore = h.publisher.counters.invalid;
    await recordMark(h, "p8", "MARK_VALUE_FIVE", ""); // no subject id: refused by the contract
    await recordMark(h, "p9", "MARK_VALUE_FOUR");
    await settle(h);
    expect(h.publisher.counters.invalid).toBe(invalidBefore + 1);
    const all = await streamContents();
    const last = (id: string) => all.filter((m) => m.subject.endsWith(`.pupil.${id}`)).at(-1);
    const p9 = await h.jsm.streams.getMessage(h.names.stream, { seq: last("EPGU-9")?.seq ?? 0 });
    expect(p9?.json<{ data: { subjects: unknown[] } }>().data.subjects).toHaveLength(1);
    const p8 = await h.jsm.streams.getMessage(h.names.stream, { seq: last("EPGU-8")?.seq ?? 0 });
    expect(p8?.json<{ data: { subjects: unknown[] } }>().data.subjects).toHaveLength(0);
  });
});

describe("exemptions", () => {
  /** The data of the latest message on the pupil's subject. */
  const latest = async (portalId: string) => {
    const last = (await streamContents())
      .filter((m) => m.subject.endsWith(`.pupil.${portalId}`))
      .at(-1);
    const m = await h.jsm.streams.getMessage(h.names.stream, { seq: last?.seq ?? 0 });
    return m?.json<{ type: string; data: { subjects: Record<string, unknown>[] } }>();
  };

  it("carries the read model's exemptions (осв.) of the year, as the reporting source does", async () => {
    await publishedPupil("p10", "EPGU-10");
    await grantExemption(h, "p10", "pe", "2026-11-01", "2026-12-31");
    await grantExemption(h, "p10", "pe", "2026-01-10", "2026-05-31"); // the year before: left out
    await settle(h);
    const snap = await latest("EPGU-10");
    expect(snap?.type).toBe("portal.v1.PupilPerformanceUpdated");
    expect(snap?.data.subjects).toEqual([
      { subjectId: "math", currentMarks: ["5"], average: "5.00", termMarks: [], yearMark: "" },
      {
        subjectId: "pe",
        currentMarks: [],
        average: "",
        termMarks: [],
        yearMark: "",
        exemptions: [{ firstDay: "2026-11-01", lastDay: "2026-12-31" }],
      },
    ]);
    // A second exemption alone is a new snapshot.
    await grantExemption(h, "p10", "pe", "2027-03-01", "2027-03-31");
    await settle(h);
    expect((await latest("EPGU-10"))?.data.subjects[1]?.exemptions).toEqual([
      { firstDay: "2026-11-01", lastDay: "2026-12-31" },
      { firstDay: "2027-03-01", lastDay: "2027-03-31" },
    ]);
  });
});

describe("replay", () => {
  it("replays from the start, from a sequence and from a time", async () => {
    await publishedPupil("p4", "EPGU-4");
    const all = await streamContents();
    await provisionSubscriberConsumer(h.jsm, h.names, "b", { from: "start" });
    const subB = await connectSubscriber(h, "b");
    try {
      const fromStart = await drain(subB, h, "b", (g) => g.length >= all.length);
      expect(fromStart.map((d) => d.seq)).toEqual(all.map((m) => m.seq));

      const mid = all[Math.floor(all.length / 2)];
      if (!mid) throw new Error("empty stream");
      await provisionSubscriberConsumer(h.jsm, h.names, "b", {
        from: "sequence",
        sequence: mid.seq,
      });
      const fromSeq = await drain(subB, h, "b", (g) => g.length >= all.length - mid.seq + 1);
      expect(fromSeq.map((d) => d.seq)).toEqual(
        all.filter((m) => m.seq >= mid.seq).map((m) => m.seq),
      );

      await provisionSubscriberConsumer(h.jsm, h.names, "b", { from: "time", time: mid.time });
      const fromTime = await drain(
        subB,
        h,
        "b",
        (g) => g.length >= 1 && g.at(-1)?.seq === all.at(-1)?.seq,
      );
      const expected = all.filter((m) => m.time >= mid.time).map((m) => m.seq);
      expect(fromTime.map((d) => d.seq)).toEqual(expected);
      expect(fromTime[0]?.seq).toBeLessThanOrEqual(mid.seq);
    } finally {
      await subB.close();
    }
  });
});

describe("backfill", () => {
  it("gives a new subscriber the latest message per subject, then the live flow with no gap", async () => {
    await publishedPupil("p7", "EPGU-7");
    // Live traffic keeps flowing while the consumer is created.
    const live = (async () => {
      for (let i = 0; i < 6; i++) {
        await recordMark(h, "p7", i % 2 ? "MARK_VALUE_FOUR" : "MARK_VALUE_FIVE", "physics");
        await h.emit("identity", "SchoolRenamed", "school-s-1", {
          schoolId: "s-1",
          municipalityId: "m-1",
          name: `МАОУ СОШ № 1 (${i})`,
          shortName: "СОШ 1",
        });
        await new Promise((r) => setTimeout(r, 30));
      }
    })();
    await new Promise((r) => setTimeout(r, 60));
    await provisionSubscriberConsumer(h.jsm, h.names, "c", { from: "backfill" });
    await live;
    await settle(h);
    const all = await streamContents();
    const subC = await connectSubscriber(h, "c");
    try {
      const lastSeq = all.at(-1)?.seq;
      const got = await drain(subC, h, "c", (g) => g.some((d) => d.seq === lastSeq));
      const bySubject = new Map<string, number[]>();
      for (const m of all) bySubject.set(m.subject, [...(bySubject.get(m.subject) ?? []), m.seq]);
      const gotBySubject = new Map<string, number[]>();
      for (const d of got)
        gotBySubject.set(d.subject, [...(gotBySubject.get(d.subject) ?? []), d.seq]);
      // Every subject is there, and what came for it is an unbroken tail of its messages.
      expect([...gotBySubject.keys()].sort()).toEqual([...bySubject.keys()].sort());
      for (const [subject, seqs] of bySubject) {
        const tail = gotBySubject.get(subject) ?? [];
        expect(tail).toEqual(seqs.slice(seqs.length - tail.length));
      }
      // The backfill started with single messages per subject: fewer than the whole stream.
      expect(got.length).toBeLessThan(all.length);
      expect(got.map((d) => d.seq)).toEqual([...got.map((d) => d.seq)].sort((a, b) => a - b));
    } finally {
      await subC.close();
    }
  });
});

describe("work programmes", () => {
  it("publishes an approved programme, its delivery as lessons are conducted, and revisions", async () => {
    await seedSchool(h, []); // the class group's grade level keys the delivery
    const programme = {
      programmeId: "wp-math-5",
      schoolId: "s-1",
      municipalityId: "m-1",
      academicYear: { startYear: 2026 },
      subjectId: "math",
      gradeLevel: 5,
    };
    const items = (v: number) => [
      { itemId: `v${v}.1`, topic: "Натуральные числа", hours: 3 },
      { itemId: `v${v}.2`, topic: "Дроби", hours: v === 1 ? 4 : 5 },
    ];
    await h.emit("curriculum", "WorkProgrammeDrafted", "programme-wp-math-5", {
      ...programme,
      version: 1,
      items: items(1),
      authorId: "t-1",
    });
    await h.emit("curriculum", "WorkProgrammeApproved", "programme-wp-math-5", {
      ...programme,
      version: 1,
      approvedBy: "a-1",
    });
    for (const date of ["2026-09-02", "2026-09-03"]) {
      await h.emit("curriculum", "LessonConducted", `lesson-${date}`, {
        lessonId: `lesson-${date}`,
        schoolId: "s-1",
        municipalityId: "m-1",
        academicYear: { startYear: 2026 },
        classGroupId: "cg-5a",
        subjectId: "math",
        teacherId: "t-1",
        date,
        period: 1,
        topic: "Натуральные числа",
        workProgrammeItemId: "v1.1",
        conductedBy: "t-1",
      });
      // One lesson at a time: two lessons within one debounce window would make one revision,
      // two windows two, and which happens depends on the machine's load.
      await settle(h);
    }
    await h.emit("curriculum", "WorkProgrammeDrafted", "programme-wp-math-5", {
      ...programme,
      version: 2,
      items: items(2),
      authorId: "t-1",
    });
    await h.emit("curriculum", "WorkProgrammeApproved", "programme-wp-math-5", {
      ...programme,
      version: 2,
      approvedBy: "a-1",
    });
    await settle(h);

    const all = await streamContents();
    const subject = h.names.subject("m-1", "s-1", "programme", "wp-math-5");
    const mine = all.filter((m) => m.subject === subject);
    expect(mine.map((m) => m.type)).toEqual([
      "portal.v1.WorkProgrammePublished",
      "portal.v1.WorkProgrammeRevised",
      "portal.v1.WorkProgrammeRevised",
      "portal.v1.WorkProgrammeRevised",
    ]);
    const data = async (seq: number) => {
      const m = await h.jsm.streams.getMessage(h.names.stream, { seq });
      return m?.json<{ data: Record<string, unknown> }>().data;
    };
    expect(await data(mine[0]?.seq ?? 0)).toMatchObject({
      version: 1,
      totalHours: 7,
      deliveredLessons: 0,
    });
    expect(await data(mine[1]?.seq ?? 0)).toMatchObject({ version: 1, deliveredLessons: 1 });
    expect(await data(mine[2]?.seq ?? 0)).toMatchObject({
      version: 1,
      deliveredLessons: 2,
      topics: [
        { itemId: "v1.1", topic: "Натуральные числа", hours: 3, deliveredLessons: 2 },
        { itemId: "v1.2", topic: "Дроби", hours: 4, deliveredLessons: 0 },
      ],
    });
    expect(await data(mine[3]?.seq ?? 0)).toMatchObject({
      version: 2,
      totalHours: 8,
      gradeLevel: 5,
      subjectId: "math",
    });
  });
});

describe("transfer", () => {
  it("withdrawal reaches every school subject that showed the pupil", async () => {
    await seedSchool(h, [{ id: "p3", portalId: "EPGU-3" }]);
    await consent(h, "p3", true);
    await recordMark(h, "p3", "MARK_VALUE_FIVE");
    await settle(h);
    await h.emit("identity", "StudentTransferred", "person-p3", {
      personId: "p3",
      fromClassGroupId: "cg-5a",
      fromSchoolId: "s-1",
      fromMunicipalityId: "m-1",
      toClassGroupId: "cg-7b",
      schoolId: "s-2",
      municipalityId: "m-1",
      academicYear: { startYear: 2026 },
      gradeLevel: 5,
      effectiveDate: "2026-10-01",
    });
    await recordMark(h, "p3", "MARK_VALUE_FOUR");
    await settle(h);
    await consent(h, "p3", false);
    await settle(h);
    const all = await streamContents();
    const last = new Map<string, string>();
    for (const m of all.filter((x) => x.subject.endsWith(".pupil.EPGU-3")))
      last.set(m.subject, m.type);
    expect([...last.keys()].sort()).toEqual([
      h.names.subject("m-1", "s-1", "pupil", "EPGU-3"),
      h.names.subject("m-1", "s-2", "pupil", "EPGU-3"),
    ]);
    expect([...last.values()]).toEqual([
      "portal.v1.PupilConsentWithdrawn",
      "portal.v1.PupilConsentWithdrawn",
    ]);
  });
});

describe("rebuild", () => {
  it("rebuilds the read model from the streams without publishing history again", async () => {
    await publishedPupil("p5", "EPGU-5");
    const before = await streamContents();
    const pupils = async () =>
      (
        await h.pool.query(
          "SELECT person_id, portal_id, consent, erased, school_id FROM proj_portal_feed.pupils ORDER BY person_id",
        )
      ).rows;
    const pupilsBefore = await pupils();
    const result = await rebuildProjection({
      projection: portalFeedProjection({ openPortalId: openTestPortalId, debounceMs: 20 }),
      pool: h.pool,
      nc: h.nc,
      names: messagingNames(h.prefix),
    });
    expect(result.events).toBeGreaterThan(0);
    await settle(h);
    expect(await pupils()).toEqual(pupilsBefore);
    expect((await streamContents()).length).toBe(before.length);
  });
});

describe("erasure", () => {
  it("publishes a tombstone and purges the pupil's earlier messages", async () => {
    await publishedPupil("p6", "EPGU-6");
    await grantExemption(h, "p6", "pe", "2026-11-01", "2026-12-31");
    await h.emit("identity", "PersonErased", "person-p6", {
      personId: "p6",
      schoolId: "s-1",
      municipalityId: "m-1",
    });
    await settle(h);
    const all = await streamContents();
    const p6 = all.filter((m) => m.subject.endsWith(".pupil.EPGU-6"));
    expect(p6.map((m) => m.type)).toEqual(["portal.v1.PupilErased"]);
    // Nothing of the pupil stays in the read model either.
    for (const table of ["marks", "exemptions"]) {
      const left = await h.pool.query(
        `SELECT 1 FROM proj_portal_feed.${table} WHERE student_id = 'p6'`,
      );
      expect(left.rowCount, table).toBe(0);
    }
    const got = await drain(subA, h, "a", (g) =>
      g.some((d) => d.event.type === "portal.v1.PupilErased"),
    );
    const tomb = got.find((d) => d.event.type === "portal.v1.PupilErased");
    expect(tomb?.event.data).toEqual({ portalId: "EPGU-6", erasedAt: expect.any(String) });
    // Later grades for the erased pupil publish nothing.
    await recordMark(h, "p6", "MARK_VALUE_TWO");
    await settle(h);
    expect(
      (await streamContents()).filter((m) => m.subject.endsWith(".pupil.EPGU-6")),
    ).toHaveLength(1);
  });

  /** The pupil's rows in the feed's read model, by table. */
  const factsOf = async (pupil: string) => {
    const left: Record<string, number> = {};
    for (const table of ["marks", "term_marks", "absences", "exemptions"]) {
      const r = await h.pool.query(
        `SELECT 1 FROM proj_portal_feed.${table} WHERE student_id = $1`,
        [pupil],
      );
      left[table] = r.rowCount ?? 0;
    }
    return left;
  };
  const none = { marks: 0, term_marks: 0, absences: 0, exemptions: 0 };

  it("keeps no grades fact that arrives after the erasure (grades lagging identity)", async () => {
    await publishedPupil("p11", "EPGU-11");
    await h.emit("identity", "PersonErased", "person-p11", {
      personId: "p11",
      schoolId: "s-1",
      municipalityId: "m-1",
    });
    await settle(h);
    // The grades context catches up: facts recorded before the erasure, applied after it.
    await grantExemption(h, "p11", "pe", "2026-11-01", "2026-12-31");
    await recordMark(h, "p11", "MARK_VALUE_FOUR");
    await recordAbsence(h, "p11");
    await setTermMark(h, "p11", "MARK_VALUE_FOUR");
    await settle(h);
    expect(await factsOf("p11")).toEqual(none);
    const p11 = (await streamContents()).filter((m) => m.subject.endsWith(".pupil.EPGU-11"));
    expect(p11.map((m) => m.type)).toEqual(["portal.v1.PupilErased"]);
  });

  it("a grades batch waits for an erasure in flight and then keeps nothing of the pupil", async () => {
    await publishedPupil("p12", "EPGU-12");
    const publishedBefore = (await streamContents()).filter((m) =>
      m.subject.endsWith(".pupil.EPGU-12"),
    ).length;
    // An erasure's transaction, not committed yet (what PersonErased's batch does first).
    const c = await h.pool.connect();
    try {
      await c.query("BEGIN");
      await holdErasureFence((text, params) => c.query(text, params), "proj_portal_feed");
      await c.query("UPDATE proj_portal_feed.pupils SET erased = true WHERE person_id = 'p12'");
      await c.query("DELETE FROM proj_portal_feed.marks WHERE student_id = 'p12'");
      await recordMark(h, "p12", "MARK_VALUE_THREE");
      await grantExemption(h, "p12", "pe", "2026-11-01", "2026-12-31");
      // The grades batch is blocked on the fence (before, it wrote the rows at once).
      await waitFor(
        "the grades batch to wait for the erasure",
        async () =>
          (
            await h.pool.query(
              `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
               AND classid = $1::bigint::oid
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
              [ERASURE_LOCK_CLASS],
            )
          ).rowCount === 1,
        10_000,
      );
      await c.query("COMMIT");
    } finally {
      c.release(true); // closed: a failed test leaves no transaction holding the fence
    }
    await settle(h);
    expect(await factsOf("p12")).toEqual(none);
    expect(
      (await streamContents()).filter((m) => m.subject.endsWith(".pupil.EPGU-12")),
    ).toHaveLength(publishedBefore);
  });

  it("a grades batch that revoked one of the pupil's marks before an erasure began does not deadlock with it", async () => {
    await publishedPupil("p13", "EPGU-13");
    const { rows } = await h.pool.query<{ mark_id: string }>(
      "SELECT mark_id FROM proj_portal_feed.marks WHERE student_id = 'p13'",
    );
    const markId = rows[0]!.mark_id;
    const projection = portalFeedProjection({ openPortalId: openTestPortalId, debounceMs: 20 });
    const g = await h.pool.connect();
    const i = await h.pool.connect();
    try {
      // A grades batch, by hand on its own transaction: a MarkRevoked of the pupil, then (below)
      // an ExemptionGranted.
      await g.query("BEGIN");
      const ctx = {
        db: undefined as never,
        schema: "proj_portal_feed",
        query: (text: string, params?: unknown[]) => g.query(text, params),
        mode: "live" as const,
        scratch: projection.createScratch!(undefined),
        carry: undefined,
        defer: () => {},
        provide: () => {},
        changed: () => {},
        writeBehind: () => {},
      };
      let sequence = 1_000_000;
      const apply = (type: string, data: Record<string, unknown>) =>
        projection.apply(
          {
            eventId: `deadlock-${type}`,
            type: `grades.v1.${type}`,
            streamId: "journal-j-math",
            version: 1,
            occurredAt: new Date(),
            data,
            subject: "",
            context: "grades",
            sequence: sequence++,
            wasPending: false,
          } as never,
          ctx as never,
        );
      await apply("MarkRevoked", { markId, studentId: "p13", journal: { subjectId: "math" } });
      // The pupil's erasure begins meanwhile: fence, then the pupil's marks (erasePupil).
      await i.query("BEGIN");
      const iPid = (await i.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
      const erasure = (async () => {
        await holdErasureFence((text, params) => i.query(text, params), "proj_portal_feed");
        await i.query("DELETE FROM proj_portal_feed.marks WHERE student_id = 'p13'");
        await i.query("COMMIT");
      })();
      erasure.catch(() => {});
      await waitFor(
        "the erasure to wait",
        async () =>
          (
            await h.pool.query(
              "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'",
              [iPid],
            )
          ).rowCount === 1,
        10_000,
      );
      // The batch goes on; before, it waited for the fence the erasure held while the erasure
      // waited for the mark's row the batch had deleted: a deadlock (40P01), one of them failed.
      await apply("ExemptionGranted", {
        exemptionId: "exemption-deadlock-p13",
        studentId: "p13",
        journal: { subjectId: "math" },
        firstDay: "2026-11-01",
        lastDay: "2026-12-31",
      });
      await g.query("COMMIT");
      await erasure;
    } finally {
      g.release(true);
      i.release(true);
    }
    expect((await factsOf("p13")).marks).toBe(0);
  });
});

// Last: it moves the clock by hand (the pending day brought to today), which a rebuild from the
// streams, at the real date, would not see.
describe("an enrollment recorded ahead of its date", () => {
  /** A transfer from s-1 to s-3 agreed today for a day 30 days ahead (the region's). */
  const transferAMonthAhead = (personId: string) =>
    h.emit("identity", "StudentTransferred", `person-${personId}`, {
      personId,
      fromClassGroupId: "cg-5a",
      fromSchoolId: "s-1",
      fromMunicipalityId: "m-1",
      toClassGroupId: "cg-5v",
      schoolId: "s-3",
      municipalityId: "m-1",
      academicYear: { startYear: 2026 },
      gradeLevel: 5,
      effectiveDate: addDays(civilDateIn(new Date(), "Asia/Yekaterinburg"), 30),
    });
  /** The harness's publisher stopped and another started in its place (a restart). */
  const publisherInstead = async (more: { recheckMs?: number } = {}) => {
    await h.publisher.stop();
    return new FeedPublisher({
      pool: h.pool,
      js: h.js,
      jsm: h.jsm,
      names: h.names,
      pollMs: 10,
      ...more,
    }).start();
  };
  /** In how many days the pupil's dirty entry is due; undefined without one. */
  const dueInDays = async (personId: string) => {
    const { rows } = await h.pool.query<{ days: string }>(
      `SELECT extract(epoch FROM due_at - now()) / 86400 AS days FROM portal.dirty
        WHERE kind = 'pupil' AND key = $1`,
      [personId],
    );
    return rows[0] ? Number(rows[0].days) : undefined;
  };

  it("leaves the pupil's snapshot at the school they attend until that day, and an entry due then", async () => {
    await seedSchool(h, [{ id: "p30", portalId: "EPGU-30" }]);
    await consent(h, "p30", true);
    await recordMark(h, "p30", "MARK_VALUE_FIVE");
    await settle(h);
    // A transfer agreed today for a day a month ahead: the pupil attends s-1 until then.
    await transferAMonthAhead("p30");
    // Taken as a change (nothing new to publish) before the mark: a mark landing while that
    // snapshot is taken can send the same figures twice (the outbox is not looked at).
    await settle(h);
    await recordMark(h, "p30", "MARK_VALUE_FOUR");
    await settle(h);
    const all = (await streamContents()).filter((x) => x.subject.endsWith(".pupil.EPGU-30"));
    expect(new Set(all.map((m) => m.subject))).toEqual(
      new Set([h.names.subject("m-1", "s-1", "pupil", "EPGU-30")]),
    );
    // The second mark was published there (two snapshots), not at s-3.
    expect(all.filter((m) => m.type === "portal.v1.PupilPerformanceUpdated")).toHaveLength(2);
    const due = await h.pool.query<{ days: number }>(
      `SELECT extract(epoch FROM due_at - now()) / 86400 AS days FROM portal.dirty
        WHERE kind = 'pupil' AND key = 'p30'`,
    );
    expect(Number(due.rows[0]?.days)).toBeGreaterThan(28);
    // The day comes (the clock moved on: the pending date and its entry brought to today):
    // the publisher moves the pupil and publishes them at s-3.
    const today = civilDateIn(new Date(), "Asia/Yekaterinburg");
    await h.pool.query(
      `UPDATE proj_portal_feed.pupils SET pending = jsonb_set(pending, '{0,from}', to_jsonb($1::text))
        WHERE person_id = 'p30'`,
      [today],
    );
    await h.pool.query(
      "UPDATE portal.dirty SET due_at = now() WHERE kind = 'pupil' AND key = 'p30'",
    );
    await settle(h);
    const moved = (await streamContents()).filter((x) => x.subject.endsWith(".pupil.EPGU-30"));
    expect(moved.at(-1)?.subject).toBe(h.names.subject("m-1", "s-3", "pupil", "EPGU-30"));
    const row = await h.pool.query(
      "SELECT school_id, pending FROM proj_portal_feed.pupils WHERE person_id = 'p30'",
    );
    expect(row.rows[0]).toEqual({ school_id: "s-3", pending: [] });
  });

  it("keeps its day after a rebuild that left no entry for it, once the publisher starts again", async () => {
    await publishedPupil("p31", "EPGU-31");
    await transferAMonthAhead("p31");
    await settle(h);
    // What the upgrade to version 3 leaves: the read model rebuilt with the placement pending
    // (a rebuild writes no dirty entries) and no entry for its day (version 2 had applied it).
    await h.pool.query("DELETE FROM portal.dirty WHERE kind = 'pupil' AND key = 'p31'");
    await rebuildProjection({
      projection: portalFeedProjection({ openPortalId: openTestPortalId, debounceMs: 20 }),
      pool: h.pool,
      nc: h.nc,
      names: messagingNames(h.prefix),
    });
    expect(await dueInDays("p31")).toBeUndefined();
    const restarted = await publisherInstead();
    try {
      await waitFor("the publisher to take over", () => restarted.counters.activations === 1);
      // Due at the start of that day in the region (UTC+5): between 29 and 30 days from now.
      const days = Number(await dueInDays("p31"));
      expect(days).toBeGreaterThan(29);
      expect(days).toBeLessThanOrEqual(30);
    } finally {
      await restarted.stop();
    }
  });

  it("keeps a re-check pending in its turn, not postponed to the placement's day", async () => {
    // Re-checks due two hours after a snapshot (0.083 days): beyond what settle() waits for.
    const publisher = await publisherInstead({ recheckMs: 7_200_000 });
    try {
      await publishedPupil("p32", "EPGU-32");
      expect(await dueInDays("p32")).toBeGreaterThan(0.08);
      await transferAMonthAhead("p32");
      await settle(h);
      // Taken as a change, and re-checked two hours on (the placement's day comes after).
      expect(await dueInDays("p32")).toBeLessThan(0.1);
    } finally {
      await publisher.stop();
    }
  });
});
