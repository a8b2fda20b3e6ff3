import { randomUUID } from "node:crypto";
import type { EventStore } from "@otmetka/eventstore";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openGradesDatabase } from "../db/open-database.js";
import { newEvent } from "../domain/events.js";
import { journalToSnapshot } from "../domain/journal-state.js";
import { JournalStore } from "./journal-store.js";

const env = useTestEnvironment({ label: "grades_journal_store" });
let store: EventStore;

beforeAll(async () => {
  store = await openGradesDatabase(env.databaseUrl);
});

afterAll(async () => {
  await store?.close();
});

const ref = {
  journalId: "j",
  schoolId: "s",
  municipalityId: "m",
  academicYear: { startYear: 2026 },
  classGroupId: "cg",
  subgroupId: "",
  subjectId: "MATH",
};
const markEvent = (i: number) =>
  newEvent("MarkRecorded", {
    schoolId: "s",
    municipalityId: "m",
    journal: ref,
    markId: `m${i}`,
    lessonId: `l${i % 10}`,
    lessonDate: "2026-09-10",
    term: 1,
    studentId: `p${i % 7}`,
    value: "MARK_VALUE_FOUR",
    workType: "ORAL",
    weight: 1,
    authorId: "t",
    noteId: "",
  });

it("loads a long journal once, snapshots it, and a fresh cache starts from the snapshot plus later events", async () => {
  const streamId = `journal-${randomUUID()}`;
  await store.appendBulk([
    {
      streamId,
      expected: "no_stream",
      events: Array.from({ length: 1200 }, (_, i) => markEvent(i)),
    },
  ]);
  const a = new JournalStore(store);
  expect((await a.read(streamId)).marks.size).toBe(1200);
  const { rows } = await store.pool.query(
    "SELECT version FROM eventstore.snapshots WHERE stream_id = $1",
    [streamId],
  );
  expect(Number(rows[0]?.version)).toBe(1200);

  // Written by "another process": both caches see it on their next read.
  await store.append(streamId, 1200, [markEvent(1200)]);
  const b = new JournalStore(store);
  const fromSnapshot = await b.read(streamId);
  expect(fromSnapshot.marks.size).toBe(1201);
  expect(journalToSnapshot(await a.read(streamId))).toEqual(journalToSnapshot(fromSnapshot));
});

it("a cache smaller than the journals it serves evicts the least recently used and reloads it", async () => {
  const ids = [randomUUID(), randomUUID(), randomUUID()].map((id) => `journal-${id}`);
  for (const id of ids) await store.append(id, "no_stream", [markEvent(1)]);
  const small = new JournalStore(store, 2);
  for (const id of ids) expect((await small.read(id)).marks.size).toBe(1);
  await store.append(ids[0] as string, 1, [markEvent(2)]);
  expect((await small.read(ids[0] as string)).marks.size).toBe(2);
});
