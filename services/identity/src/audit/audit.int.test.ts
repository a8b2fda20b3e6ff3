import { randomUUID } from "node:crypto";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { EventStore } from "@otmetka/eventstore";
import { createLogger, manualClock } from "@otmetka/service-kit";
import { useTestEnvironment, waitFor } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openIdentityDatabase } from "../db/open-database.js";
import { AuditConsumer } from "./consumer.js";
import { listAccessAudit } from "./query.js";
import { toAuditRecord } from "./record.js";
import { AuditStore } from "./store.js";
import { auditNames, ensureAuditStream } from "./stream.js";
import { accessRecord, publishRecords } from "./test-support/records.js";
import { type AccessAudit, startAccessAudit } from "./wiring.js";

const env = useTestEnvironment({ label: "audit" });
const clock = manualClock("2026-11-28T09:00:00Z");
let db: EventStore;
let nc: NatsConnection;
let audit: AccessAudit;

beforeAll(async () => {
  db = await openIdentityDatabase(env.databaseUrl);
  nc = await connect({ servers: env.natsUrl });
  audit = await startAccessAudit({
    pool: db.pool,
    nc,
    natsPrefix: env.natsPrefix,
    clock,
    logger: createLogger({ service: "identity-test", level: "silent" }),
    retentionMonths: 60,
    streamMaxAgeDays: 7,
    lingerMs: 20,
  });
});

afterAll(async () => {
  await audit?.stop();
  await nc?.drain();
  await db?.close();
});

const names = () => auditNames(env.natsPrefix);
const list = (personId: string, from: string, to: string, pageSize = 0, pageToken = "") =>
  listAccessAudit(db.pool, {
    personId,
    from: new Date(from),
    to: new Date(to),
    pageSize,
    pageToken,
  });
const countRecords = async (ids: string[]) =>
  Number(
    (
      await db.pool.query<{ n: string }>(
        "SELECT count(*) AS n FROM access_audit.records WHERE record_id = ANY($1::uuid[])",
        [ids],
      )
    ).rows[0]!.n,
  );
const storedAll = (ids: string[]) =>
  waitFor("access records stored", async () => (await countRecords(ids)) === ids.length);

describe("access audit from the AUDIT stream", () => {
  it("lists the records naming a pupil, newest first, one page at a time", async () => {
    const pupil = randomUUID();
    const other = randomUUID();
    const records = [
      accessRecord([pupil, other], "2026-11-20T08:00:00Z", { operation: "ClassJournal" }),
      accessRecord([pupil], "2026-11-21T08:00:00Z", { operation: "PupilDiary" }),
      accessRecord([other], "2026-11-22T08:00:00Z", { operation: "PupilDiary" }),
      accessRecord([pupil], "2026-11-23T08:00:00Z", { operation: "MarkHistory" }),
    ];
    await publishRecords(nc, names(), records);
    await storedAll(records.map((r) => r.recordId));

    const first = await list(pupil, "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", 2);
    expect(first.entries.map((e) => e.operation)).toEqual(["MarkHistory", "PupilDiary"]);
    expect(first.entries[0]).toEqual({
      recordId: records[3]!.recordId,
      occurredAt: new Date("2026-11-23T08:00:00Z"),
      actorAccountId: records[3]!.actorAccountId,
      actorPersonId: records[3]!.actorPersonId,
      actorRole: records[3]!.actorRole,
      operation: "MarkHistory",
      correlationId: records[3]!.correlationId,
    });
    expect(first.nextPageToken).not.toBe("");
    const second = await list(
      pupil,
      "2026-11-01T00:00:00Z",
      "2026-12-01T00:00:00Z",
      2,
      first.nextPageToken,
    );
    expect(second.entries.map((e) => e.recordId)).toEqual([records[0]!.recordId]);
    expect(second.nextPageToken).toBe("");
    // `to` is exclusive, `from` inclusive.
    const narrow = await list(pupil, "2026-11-21T08:00:00Z", "2026-11-23T08:00:00Z");
    expect(narrow.entries.map((e) => e.recordId)).toEqual([records[1]!.recordId]);
  });

  it("stores a redelivered or republished record once", async () => {
    const pupil = randomUUID();
    const records = [
      accessRecord([pupil], "2026-11-24T10:00:00Z"),
      accessRecord([pupil, pupil], "2026-11-24T11:00:00Z"),
    ];
    await publishRecords(nc, names(), records);
    await storedAll(records.map((r) => r.recordId));
    const before = { ...audit.consumer.stats };
    // Outside the stream's duplicate window (no Nats-Msg-Id), as after a publisher restart:
    // the same records arrive again, next to a new one.
    const fresh = accessRecord([pupil], "2026-11-24T12:00:00Z");
    await publishRecords(nc, names(), [...records, fresh, records[0]!], false);
    await waitFor("the republished batch handled", async () => {
      const s = audit.consumer.stats;
      return s.stored + s.duplicates >= before.stored + before.duplicates + 4;
    });
    expect(await countRecords([...records, fresh].map((r) => r.recordId))).toBe(3);
    expect(audit.consumer.stats.duplicates - before.duplicates).toBe(3);
    const page = await list(pupil, "2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z");
    expect(page.entries.map((e) => e.recordId)).toEqual(
      [fresh, records[1]!, records[0]!].map((r) => r.recordId),
    );
  });

  it("stores a record once when the write committed but the ack was lost (JetStream redelivers)", async () => {
    const redeliveryNames = auditNames(`${env.natsPrefix}r`);
    await ensureAuditStream(await jetstreamManager(nc), redeliveryNames, 86_400_000);
    let failOnce = true;
    // Commits, then fails as if the process died before acking: the consumer naks, the
    // server redelivers, and the second write finds the records stored.
    const flaky: Pick<AuditStore, "store"> = {
      store: async (records, now, options) => {
        const r = await audit.store.store(records, now, options);
        if (failOnce) {
          failOnce = false;
          throw new Error("connection lost before the ack");
        }
        return r;
      },
    };
    const consumer = await new AuditConsumer({
      nc,
      names: redeliveryNames,
      store: flaky,
      clock,
      logger: createLogger({ service: "identity-test", level: "silent" }),
      lingerMs: 20,
      retryDelayMs: 50,
    }).start();
    try {
      const pupil = randomUUID();
      const records = [
        accessRecord([pupil], "2026-11-27T08:00:00Z"),
        accessRecord([pupil], "2026-11-27T09:00:00Z"),
      ];
      await publishRecords(nc, redeliveryNames, records);
      await waitFor(
        "the redelivered records handled",
        async () => consumer.stats.stored + consumer.stats.duplicates >= 2,
      );
      expect(consumer.stats.failedWrites).toBe(1);
      expect(consumer.stats.duplicates).toBeGreaterThanOrEqual(1);
      expect(await countRecords(records.map((r) => r.recordId))).toBe(2);
      const page = await list(pupil, "2026-11-27T00:00:00Z", "2026-11-28T00:00:00Z");
      expect(page.entries).toHaveLength(2);
    } finally {
      await consumer.stop();
    }
  });

  it("answers a range across a month boundary from both months' partitions", async () => {
    const pupil = randomUUID();
    const records = [
      accessRecord([pupil], "2026-09-30T23:59:59.999Z"),
      accessRecord([pupil], "2026-10-31T23:59:59.999Z"),
      accessRecord([pupil], "2026-11-01T00:00:00.000Z"),
      accessRecord([pupil], "2026-11-02T00:00:00Z"),
    ];
    await publishRecords(nc, names(), records);
    await storedAll(records.map((r) => r.recordId));
    const { rows } = await db.pool.query<{ part: string }>(
      "SELECT DISTINCT tableoid::regclass::text AS part FROM access_audit.record_pupils WHERE pupil_id = $1 ORDER BY 1",
      [pupil],
    );
    expect(rows.map((r) => r.part)).toEqual([
      "access_audit.record_pupils_y2026m09",
      "access_audit.record_pupils_y2026m10",
      "access_audit.record_pupils_y2026m11",
    ]);
    const ids = (await list(pupil, "2026-10-31T12:00:00Z", "2026-11-01T12:00:00Z")).entries.map(
      (e) => e.recordId,
    );
    expect(ids).toEqual([records[2]!.recordId, records[1]!.recordId]);
    // Paging one by one crosses the boundary too.
    const p1 = await list(pupil, "2026-09-01T00:00:00Z", "2026-12-01T00:00:00Z", 2);
    const p2 = await list(
      pupil,
      "2026-09-01T00:00:00Z",
      "2026-12-01T00:00:00Z",
      2,
      p1.nextPageToken,
    );
    expect([...p1.entries, ...p2.entries].map((e) => e.recordId)).toEqual(
      [...records].reverse().map((r) => r.recordId),
    );
  });

  it("terminates a message that is not a valid record and stores the rest", async () => {
    const pupil = randomUUID();
    const before = audit.consumer.stats.invalid;
    const js = jetstream(nc);
    await js.publish(names().accessSubject, new Uint8Array([0xff, 0xff, 0xff]));
    const bad = accessRecord([pupil], "2026-11-25T08:00:00Z", { actorAccountId: "nobody" });
    const good = accessRecord([pupil], "2026-11-25T09:00:00Z");
    await publishRecords(nc, names(), [bad, good]);
    await storedAll([good.recordId]);
    await waitFor(
      "invalid records counted",
      async () => audit.consumer.stats.invalid >= before + 2,
    );
    expect(await countRecords([bad.recordId])).toBe(0);
  });

  it("refuses bad query input with a DomainError naming the field", async () => {
    const p = randomUUID();
    await expect(list(p, "2026-11-02T00:00:00Z", "2026-11-01T00:00:00Z")).rejects.toMatchObject({
      kind: "invalid_argument",
      field: "to",
    });
    await expect(
      list(p, "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z", 0, "garbage"),
    ).rejects.toMatchObject({ kind: "invalid_argument", field: "page_token" });
    await expect(
      list(p, "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z", 5000),
    ).rejects.toMatchObject({ kind: "invalid_argument", field: "page_size" });
  });
});

describe("bulk store idempotency", () => {
  const now = () => clock.now();
  const batch = (n: number, pupil: string) =>
    Array.from({ length: n }, (_, i) =>
      toAuditRecord(
        accessRecord([pupil], `2026-11-26T10:00:${String(i % 60).padStart(2, "0")}Z`),
        now(),
      ),
    );

  it("skips stored records whether or not the batch is flagged as a redelivery", async () => {
    const pupil = randomUUID();
    const first = batch(10, pupil);
    expect(await audit.store.store(first, now())).toEqual({
      stored: 10,
      duplicates: 0,
      expired: 0,
    });
    const second = [...first.slice(0, 5), ...batch(5, pupil)];
    expect(await audit.store.store(second, now(), { mayRepeat: true })).toEqual({
      stored: 5,
      duplicates: 5,
      expired: 0,
    });
    const third = [...first.slice(5), ...second.slice(5), ...batch(3, pupil)];
    expect(await audit.store.store(third, now())).toEqual({
      stored: 3,
      duplicates: 10,
      expired: 0,
    });
    const rows = await db.pool.query(
      "SELECT count(*)::int AS n FROM access_audit.record_pupils WHERE pupil_id = $1",
      [pupil],
    );
    expect(rows.rows[0].n).toBe(18);
  });

  it("stores each record once when instances write overlapping batches at the same time", async () => {
    const pupil = randomUUID();
    const all = batch(200, pupil);
    const slices = [all.slice(0, 120), all.slice(40, 160), all.slice(80, 200), all.slice(0, 200)];
    const results = await Promise.all(
      slices.map((s) => new AuditStore(db.pool, audit.partitions).store(s, now())),
    );
    expect(results.reduce((n, r) => n + r.stored, 0)).toBe(200);
    expect(await countRecords(all.map((r) => r.recordId))).toBe(200);
    const rows = await db.pool.query(
      "SELECT count(*)::int AS n FROM access_audit.record_pupils WHERE pupil_id = $1",
      [pupil],
    );
    expect(rows.rows[0].n).toBe(200);
  });
});

describe("retention", () => {
  it("drops whole months older than the retention and never stores records from them", async () => {
    const partitions = audit.partitions;
    const pupil = randomUUID();
    const now = clock.now();
    const old = [
      toAuditRecord(accessRecord([pupil], "2021-10-15T00:00:00Z"), now),
      toAuditRecord(accessRecord([pupil], "2021-11-15T00:00:00Z"), now),
      toAuditRecord(accessRecord([pupil], "2021-12-15T00:00:00Z"), now),
    ];
    // 60 months back from November 2026 is November 2021: October 2021 has expired.
    const r = await audit.store.store(old, now);
    expect(r).toEqual({ stored: 2, duplicates: 0, expired: 1 });
    expect(await partitions.list()).toContain(2021 * 12 + 10);

    // A month later, November 2021 expires: its partitions are dropped, December's stay.
    clock.set("2026-12-01T00:00:00Z");
    try {
      await audit.maintain();
      const months = await partitions.list();
      expect(months).not.toContain(2021 * 12 + 10);
      expect(months).toContain(2021 * 12 + 11);
      // Made ahead: December 2026 and the two months after it.
      expect(months).toEqual(expect.arrayContaining([2026 * 12 + 11, 2027 * 12, 2027 * 12 + 1]));
      const left = await list(pupil, "2021-01-01T00:00:00Z", "2027-01-01T00:00:00Z");
      expect(left.entries.map((e) => e.recordId)).toEqual([old[2]!.recordId]);
    } finally {
      clock.set("2026-11-28T09:00:00Z");
    }
  });

  it("stores a record again after its partition was dropped elsewhere", async () => {
    const pupil = randomUUID();
    const now = clock.now();
    const rec = toAuditRecord(accessRecord([pupil], "2022-03-03T00:00:00Z"), now);
    await audit.store.store([rec], now);
    // Another instance's upkeep (or an operator) dropped the month this one knows about.
    await db.pool.query(
      "DROP TABLE access_audit.records_y2022m03, access_audit.record_pupils_y2022m03",
    );
    const r = await audit.store.store(
      [toAuditRecord(accessRecord([pupil], "2022-03-04T00:00:00Z"), now)],
      now,
    );
    expect(r.stored).toBe(1);
  });
});
