import { AbsenceReason, MarkValue } from "@otmetka/proto/grades/events/v1/events";
import {
  Diary,
  type GetDiariesRequest,
  ReportingServiceService,
} from "@otmetka/proto/reporting/v1/reporting_service";
import {
  authorizedHandler,
  createCallerVerifier,
  createLogger,
  createServiceTokenSource,
  type GrpcServer,
  requireRole,
  startGrpcServer,
} from "@otmetka/service-kit";
import {
  freePort,
  startTestTokenIssuer,
  type TestTokenIssuer,
  useTestEnvironment,
  waitFor,
} from "@otmetka/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FeedPublisher } from "../feed/publisher.js";
import { consent, recordMark, S, seedSchool } from "../test-support/fixture.js";
import { type Harness, startHarness } from "../test-support/harness.js";
import { applied, settle } from "../test-support/settle.js";
import { reportingPerformance } from "./reporting-performance.js";

const env = useTestEnvironment({ label: "portal_reporting" });
const logger = createLogger({ service: "reporting-stand-in", level: "silent" });
let issuer: TestTokenIssuer;
let h: Harness;
let port: number;
let reporting: ReturnType<typeof reportingPerformance>;
let standIn: GrpcServer | undefined;
/** The publisher started in place of the harness's (the restart test). */
let restarted: FeedPublisher | undefined;
/** A test stopped the publishing instance and has not started another yet. */
let publisherStopped = false;
const errors: string[] = [];
// What the stand-in knows (a pupil it does not know gets an item error) and was asked.
const diaries = new Map<string, Diary>();
const asked: GetDiariesRequest[] = [];
// A pupil's diary once reporting has caught up: answered from the call after the first one.
const caughtUp = new Map<string, Diary>();
/** Re-check delay here: long enough to withdraw consent between a snapshot and its re-check. */
const RECHECK_MS = 1500;
/** Publisher settings of the harness's instance and of every one started in its place. */
const publishing = {
  deferMs: 50,
  recheckMs: RECHECK_MS,
  onError: (_err: unknown, where: string) => {
    errors.push(where);
  },
};
/** The publishing instance: the harness's, or the one started in its place. */
const publisher = () => restarted ?? h.publisher;
const stopPublisher = async () => {
  publisherStopped = true;
  await publisher().stop();
};
/** A new publishing instance on the same database and stream (a restart). */
const startPublisher = () => {
  publisherStopped = false;
  restarted = new FeedPublisher({
    pool: h.pool,
    js: h.js,
    jsm: h.jsm,
    names: h.names,
    pollMs: 10,
    performance: reporting.source,
    ...publishing,
  }).start();
};
/** Times the stand-in was asked for a pupil. */
const askedFor = (id: string) => asked.filter((r) => r.studentIds.includes(id)).length;

/** Reporting's GetDiaries on real gRPC, checking the caller's token as reporting does. */
async function startReportingStandIn(): Promise<GrpcServer> {
  const verifier = createCallerVerifier({ jwksUrl: issuer.jwksUrl });
  return startGrpcServer({
    host: "127.0.0.1",
    port,
    graceMs: 0,
    drainTimeoutMs: 100,
    logger,
    services: [
      {
        definition: ReportingServiceService,
        implementation: {
          getDiaries: authorizedHandler(
            logger,
            verifier,
            async (req: GetDiariesRequest, { caller }) => {
              requireRole(caller, ["SERVICE"]);
              asked.push(req);
              return {
                results: req.studentIds.map((id) => {
                  const diary = diaries.get(id);
                  const fresh = caughtUp.get(id);
                  if (fresh) {
                    diaries.set(id, fresh);
                    caughtUp.delete(id);
                  }
                  return diary
                    ? { studentId: id, diary }
                    : {
                        studentId: id,
                        error: { code: "NOT_FOUND", message: `studentIds: no pupil ${id}` },
                      };
                }),
              };
            },
          ),
          getJournalView: () => {
            throw new Error("not used");
          },
          getDashboards: () => {
            throw new Error("not used");
          },
        },
      },
    ],
  });
}

// fromPartial: fields the test does not set (ones reporting adds later too) take their defaults.
const diaryOf = (studentId: string, marks: [MarkValue, number][], average: string): Diary =>
  Diary.fromPartial({
    studentId,
    lessons: [],
    marks: marks.map(([value, weight], i) => ({
      markId: `m${i}`,
      lessonId: `l${i}`,
      date: "2026-09-10",
      subjectId: "math",
      term: 1,
      value,
      weight,
      workType: "test",
    })),
    absences: [
      { lessonId: "l9", studentId, reason: AbsenceReason.ABSENCE_REASON_ILLNESS, lateMinutes: 0 },
      { lessonId: "l8", studentId, reason: AbsenceReason.ABSENCE_REASON_NONE, lateMinutes: 5 },
    ],
    averages: [{ studentId, subjectId: "math", term: 1, weightedAverage: average, roundedMark: 4 }],
    termMarks: [],
  });

/** The performance snapshots of a portal id now in PORTAL. */
async function published(
  portalId: string,
): Promise<{ subjects: { currentMarks: string[]; average: string }[]; absences: object }[]> {
  const last = (await h.jsm.streams.info(h.names.stream)).state.last_seq;
  const out: never[] = [];
  for (let seq = 1; seq <= last; seq++) {
    const m = await h.jsm.streams.getMessage(h.names.stream, { seq }).catch(() => null);
    const e = m?.json<{ type: string; subject: string; data: never }>();
    if (e?.type === "portal.v1.PupilPerformanceUpdated" && e.subject === `pupil/${portalId}`)
      out.push(e.data);
  }
  return out;
}

beforeAll(async () => {
  issuer = await startTestTokenIssuer();
  port = await freePort();
  // The service's path: a cached SERVICE token from a token source (identity in production).
  const tokens = createServiceTokenSource(async () => ({
    token: await issuer.sign({ roles: ["SERVICE"], kind: "service", svc: "portal" }),
    expiresAt: new Date(Date.now() + 600_000),
  }));
  reporting = reportingPerformance({
    address: `127.0.0.1:${port}`,
    token: () => tokens.token(),
    deadlineMs: 2000,
    onItemError: (id, code) => errors.push(`item ${id} ${code}`),
  });
  h = await startHarness({
    databaseUrl: env.databaseUrl,
    prefix: env.natsPrefix,
    subscribers: [],
    performance: reporting.source,
    ...publishing,
  });
}, 60_000);

/** Reporting up: every test but the first (which starts with it down) needs it. */
async function reportingUp(): Promise<void> {
  standIn ??= await startReportingStandIn();
}

/** Reporting unreachable: its stand-in stopped, the port left closed. */
async function reportingDown(): Promise<void> {
  await standIn?.shutdown();
  standIn = undefined;
}

// Each test owns its setup, whatever ran before it (or alone, with -t): reporting up and only
// its own feed errors recorded.
beforeEach(async () => {
  errors.length = 0;
  await reportingUp();
});

// A failed test must not fail the ones after it. It may leave its pupil waiting (deferred while
// the stand-in does not know it, a re-check pending) or the publisher stopped, and then every
// later settle() would time out. Once the feed has applied what the test emitted (only the
// projection adds entries), what is left waiting goes and a publisher runs. A test that passed
// ended settled: nothing is left, and this changes nothing.
afterEach(async () => {
  if (publisherStopped) startPublisher();
  await applied(h);
  await h.pool.query("DELETE FROM portal.dirty");
});

afterAll(async () => {
  await restarted?.stop();
  await h?.stop();
  reporting?.close();
  await standIn?.shutdown();
  await issuer?.stop();
});

describe("performance from reporting's GetDiaries", () => {
  it("waits while reporting is unreachable, then publishes reporting's snapshot with a service token", async () => {
    await reportingDown();
    diaries.set(
      "r1",
      diaryOf(
        "r1",
        [
          [MarkValue.MARK_VALUE_FIVE, 1],
          [MarkValue.MARK_VALUE_FOUR, 2],
        ],
        "4.33",
      ),
    );
    await seedSchool(h, [{ id: "r1", portalId: "EPGU-R1" }]);
    await consent(h, "r1", true);
    await recordMark(h, "r1", "MARK_VALUE_FIVE");
    // Reporting is down: the debounce batch fails and is retried; nothing goes out.
    await waitFor("a failed snapshot attempt", async () => errors.includes("debounce"), 30_000);
    const dirty = await h.pool.query(
      "SELECT 1 FROM portal.dirty WHERE kind = 'pupil' AND key = 'r1'",
    );
    expect(dirty.rowCount).toBe(1);
    expect(await published("EPGU-R1")).toEqual([]);

    await reportingUp();
    await settle(h);
    const snaps = await published("EPGU-R1");
    expect(snaps).toHaveLength(1);
    expect(snaps[0]?.subjects).toEqual([
      { subjectId: "math", currentMarks: ["5", "4"], average: "4.33", termMarks: [], yearMark: "" },
    ]);
    expect(snaps[0]?.absences).toEqual({ lessonsMissed: 1, excused: 1, late: 1 });
    expect(asked.at(-1)).toEqual({ studentIds: ["r1"], from: "2026-09-01", to: "2027-08-31" });
  });

  it("defers a pupil reporting does not know yet and publishes it once reporting does", async () => {
    // The instance now publishing (a test may have restarted it), and what it had deferred.
    const deferredBefore = publisher().counters.deferred;
    await seedSchool(h, [{ id: "r2", portalId: "EPGU-R2" }]);
    await consent(h, "r2", true);
    await waitFor(
      "an item error for r2",
      async () => errors.some((e) => e.startsWith("item r2")),
      30_000,
    );
    expect(await published("EPGU-R2")).toEqual([]);
    // The item error is reported before the batch's deferral is written and counted.
    await waitFor(
      "r2 deferred",
      async () => publisher().counters.deferred > deferredBefore,
      30_000,
    );

    diaries.set("r2", diaryOf("r2", [[MarkValue.MARK_VALUE_THREE, 1]], "3.00"));
    await settle(h);
    const snaps = await published("EPGU-R2");
    expect(snaps).toHaveLength(1);
    expect(snaps[0]?.subjects[0]?.currentMarks).toEqual(["3"]);
    expect(snaps[0]?.subjects[0]?.average).toBe("3.00");
  });
});

// Reporting consumes grades on its own: when it lags the feed by more than the debounce, the
// first snapshot misses the latest mark. The stand-in answers the stale diary to the first
// GetDiaries and the caught-up one after it.
describe("re-check of a snapshot taken while reporting lagged", () => {
  const five: [MarkValue, number] = [MarkValue.MARK_VALUE_FIVE, 1];
  const four: [MarkValue, number] = [MarkValue.MARK_VALUE_FOUR, 1];

  /** A pupil with marks but no consent yet: consenting then makes exactly one change. */
  async function lagging(id: string, portalId: string, stale: Diary, fresh?: Diary) {
    await seedSchool(h, [{ id, portalId }]);
    await recordMark(h, id, "MARK_VALUE_FIVE");
    await recordMark(h, id, "MARK_VALUE_FOUR");
    await settle(h);
    diaries.set(id, stale);
    if (fresh) caughtUp.set(id, fresh);
  }

  /** lagging, with a first snapshot of one mark (5) that the re-check finds two (5, 4). */
  const staleThenFresh = (id: string, portalId: string) =>
    lagging(id, portalId, diaryOf(id, [five], "5.00"), diaryOf(id, [five, four], "4.50"));

  it("publishes the fresh figures after the stale snapshot", async () => {
    await staleThenFresh("r3", "EPGU-R3");
    await consent(h, "r3", true);
    await settle(h);
    const snaps = await published("EPGU-R3");
    expect(snaps.map((x) => x.subjects[0]?.currentMarks)).toEqual([["5"], ["5", "4"]]);
    expect(snaps.at(-1)?.subjects[0]?.average).toBe("4.50");
    // The re-check that published was checked once more and found nothing new.
    expect(askedFor("r3")).toBe(3);
  });

  it("publishes nothing more when the re-check finds the same figures", async () => {
    await lagging("r4", "EPGU-R4", diaryOf("r4", [five, four], "4.50"));
    await consent(h, "r4", true);
    await settle(h);
    expect(askedFor("r4")).toBe(2); // the snapshot and its re-check
    const snaps = await published("EPGU-R4");
    expect(snaps).toHaveLength(1);
    expect(snaps[0]?.subjects[0]?.currentMarks).toEqual(["5", "4"]);
  });

  it.each([
    {
      what: "consent is withdrawn",
      id: "r5",
      stop: () => consent(h, "r5", false),
      last: "portal.v1.PupilConsentWithdrawn",
      before: [["5"]],
    },
    {
      what: "the pupil is erased",
      id: "r7",
      stop: () =>
        h.emit("identity", "PersonErased", "person-r7", {
          personId: "r7",
          schoolId: S,
          municipalityId: "m-1",
        }),
      last: "portal.v1.PupilErased",
      before: [], // purged behind the tombstone
    },
  ])("publishes nothing when $what between the snapshot and the re-check", async (c) => {
    const portalId = `EPGU-${c.id.toUpperCase()}`;
    await staleThenFresh(c.id, portalId);
    await consent(h, c.id, true);
    await waitFor("the first snapshot", async () => (await published(portalId)).length === 1);
    await c.stop();
    await settle(h);
    await new Promise((r) => setTimeout(r, RECHECK_MS + 500)); // past when the re-check was due
    await settle(h);
    expect(askedFor(c.id)).toBe(1);
    const subject = h.names.subject("m-1", S, "pupil", portalId);
    const last = await h.jsm.streams.getMessage(h.names.stream, { last_by_subj: subject });
    expect(last?.json<{ type: string }>().type).toBe(c.last);
    expect((await published(portalId)).map((x) => x.subjects[0]?.currentMarks)).toEqual(c.before);
  });

  it("keeps a pending re-check across a restart of the publisher", async () => {
    await staleThenFresh("r6", "EPGU-R6");
    await consent(h, "r6", true);
    await waitFor("the first snapshot", async () => (await published("EPGU-R6")).length === 1);
    await stopPublisher();
    const pending = await h.pool.query(
      "SELECT 1 FROM portal.dirty WHERE kind = 'pupil' AND key = 'r6'",
    );
    expect(pending.rowCount).toBe(1);
    startPublisher();
    await settle(h);
    const snaps = await published("EPGU-R6");
    expect(snaps.map((x) => x.subjects[0]?.currentMarks)).toEqual([["5"], ["5", "4"]]);
  });
});

// A change whose snapshot has the figures the pupil's subject shows already (reporting not
// caught up yet, or a change that moves no figure) publishes nothing; its re-check still runs.
describe("a snapshot equal to the one the pupil's subject shows", () => {
  const five: [MarkValue, number] = [MarkValue.MARK_VALUE_FIVE, 1];
  const four: [MarkValue, number] = [MarkValue.MARK_VALUE_FOUR, 1];
  const marksOf = async (portalId: string) =>
    (await published(portalId)).map((x) => x.subjects[0]?.currentMarks);

  it("is left out, also after a restart of the publisher, but not after a withdrawal", async () => {
    await seedSchool(h, [{ id: "r8", portalId: "EPGU-R8" }]);
    diaries.set("r8", diaryOf("r8", [five], "5.00"));
    await consent(h, "r8", true);
    await settle(h);
    expect(await marksOf("EPGU-R8")).toEqual([["5"]]);

    // A new mark reporting has not applied when the debounce expires: the first look finds the
    // figures already published, the re-check the new ones.
    caughtUp.set("r8", diaryOf("r8", [five, four], "4.50"));
    const unchangedBefore = publisher().counters.unchanged;
    await recordMark(h, "r8", "MARK_VALUE_FOUR");
    await settle(h);
    expect(publisher().counters.unchanged).toBe(unchangedBefore + 1);
    expect(await marksOf("EPGU-R8")).toEqual([["5"], ["5", "4"]]);

    // What the subject shows is kept in the database: a new instance leaves it out too.
    await stopPublisher();
    startPublisher();
    await recordMark(h, "r8", "MARK_VALUE_FOUR");
    await settle(h);
    // Snapshot + re-check; change left out + re-check publishing + its re-check; change left
    // out + re-check.
    expect(askedFor("r8")).toBe(2 + 3 + 2);
    expect(publisher().counters.unchanged).toBe(1);
    expect(await marksOf("EPGU-R8")).toEqual([["5"], ["5", "4"]]);

    // After a withdrawal the subject shows the withdrawal: re-granting publishes the figures.
    await consent(h, "r8", false);
    await consent(h, "r8", true);
    await settle(h);
    expect(await marksOf("EPGU-R8")).toEqual([["5"], ["5", "4"], ["5", "4"]]);
    const subject = h.names.subject("m-1", S, "pupil", "EPGU-R8");
    const last = await h.jsm.streams.getMessage(h.names.stream, { last_by_subj: subject });
    expect(last?.json<{ type: string }>().type).toBe("portal.v1.PupilPerformanceUpdated");
  });
});

// Reporting's diary carries the pupil's exemptions (осв.) overlapping the range asked: the
// snapshot shows them per subject, an exempt subject with no marks included.
describe("exemptions (осв.) from reporting's diary", () => {
  const five: [MarkValue, number] = [MarkValue.MARK_VALUE_FIVE, 1];
  const exempt = (studentId: string, subjectId: string, firstDay: string, lastDay: string) => ({
    studentId,
    subjectId,
    firstDay,
    lastDay,
  });
  const withExemptions = (d: Diary, exemptions: ReturnType<typeof exempt>[]) =>
    Diary.fromPartial({ ...d, exemptions });

  it("publishes an exempt subject with its exemptions, and a new snapshot when only they change", async () => {
    await seedSchool(h, [{ id: "r9", portalId: "EPGU-R9" }]);
    diaries.set(
      "r9",
      withExemptions(diaryOf("r9", [five], "5.00"), [
        exempt("r9", "pe", "2026-11-01", "2026-12-31"),
        // Reporting answers those overlapping the range; one outside the year is left out.
        exempt("r9", "pe", "2025-09-01", "2025-12-31"),
        exempt("r9", "pe", "2026-09-01", "2026-09-30"),
      ]),
    );
    await consent(h, "r9", true);
    await settle(h);
    const snaps = await published("EPGU-R9");
    expect(snaps).toHaveLength(1);
    expect(snaps[0]?.subjects).toEqual([
      { subjectId: "math", currentMarks: ["5"], average: "5.00", termMarks: [], yearMark: "" },
      {
        subjectId: "pe",
        currentMarks: [],
        average: "",
        termMarks: [],
        yearMark: "",
        exemptions: [
          { firstDay: "2026-09-01", lastDay: "2026-09-30" },
          { firstDay: "2026-11-01", lastDay: "2026-12-31" },
        ],
      },
    ]);
    // A subject without exemptions has no field at all (not []): its shape is unchanged.
    expect(Object.keys(snaps[0]?.subjects[0] ?? {})).not.toContain("exemptions");

    // Only the exemptions change (extended to the end of the year; the marks are the same):
    // the snapshot differs from the one the subject shows and is published.
    diaries.set(
      "r9",
      withExemptions(diaryOf("r9", [five], "5.00"), [
        exempt("r9", "pe", "2026-09-01", "2027-05-31"),
      ]),
    );
    const unchangedBefore = publisher().counters.unchanged;
    await recordMark(h, "r9", "MARK_VALUE_FIVE");
    await settle(h);
    const after = await published("EPGU-R9");
    expect(after).toHaveLength(2);
    expect(after[1]?.subjects[1]).toMatchObject({
      subjectId: "pe",
      exemptions: [{ firstDay: "2026-09-01", lastDay: "2027-05-31" }],
    });
    expect(publisher().counters.unchanged).toBe(unchangedBefore);
  });
});
