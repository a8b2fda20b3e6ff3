import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { useTestEnvironment } from "@otmetka/testing";
import type pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { COPY_APPEND_MIN_EVENTS } from "./copy-append.js";
import { WrongExpectedVersion } from "./errors.js";
import type { EventStore } from "./event-store.js";
import { event, openStore } from "./test-support/store.js";

/*
 * A stream an append only expects (a guard, `events: []`) is locked shared (migration 008):
 * appends guarded by one stream run side by side, while a writer of that stream waits for
 * them (and they for it), so the guarded version cannot move before they commit.
 */
const env = useTestEnvironment({ label: "es_guard_locks" });
let store: EventStore;
const open: pg.PoolClient[] = [];

beforeAll(async () => {
  store = await openStore(env.databaseUrl);
});
afterAll(async () => {
  for (const c of open) {
    await c.query("ROLLBACK").catch(() => {});
    c.release();
  }
  await store?.close();
});

const id = (what: string) => `${what}-${randomUUID()}`;

/** A transaction left open after an append guarded by `guard` at `version`. */
async function guardedAppendLeftOpen(guard: string, version: number) {
  const client = await store.pool.connect();
  open.push(client);
  await client.query("BEGIN");
  await store.appendMany(
    [
      { streamId: id("lessons"), expected: "no_stream", events: [event("LessonScheduled")] },
      { streamId: guard, expected: version, events: [] },
    ],
    { client },
  );
  return client;
}

/** What `p` has done after `ms`: its value, its error, or "waiting". */
const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p.then(
      (v) => ({ done: v as T }),
      (e: unknown) => ({ failed: e }),
    ),
    sleep(ms).then(() => "waiting" as const),
  ]);

it("runs appends guarded by one stream side by side", async () => {
  const calendar = id("calendar");
  await store.append(calendar, "no_stream", [event("YearDefined")]);
  const first = await guardedAppendLeftOpen(calendar, 1);
  // Before 008 the second waited for the first's commit (both took the calendar exclusive).
  const second = await within(guardedAppendLeftOpen(calendar, 1), 2000);
  expect(second).not.toBe("waiting");
  await first.query("COMMIT");
});

it("runs a large (COPY) append beside another guarded by the same stream", async () => {
  const calendar = id("calendar");
  await store.append(calendar, "no_stream", [event("YearDefined")]);
  const first = await guardedAppendLeftOpen(calendar, 1);
  const many = Array.from({ length: COPY_APPEND_MIN_EVENTS + 10 }, () => event("LessonScheduled"));
  const copied = await within(
    store.appendMany([
      { streamId: id("lessons"), expected: "no_stream", events: many },
      { streamId: calendar, expected: 1, events: [] },
    ]),
    2000,
  );
  expect(copied).toMatchObject({ done: expect.any(Array) });
  await first.query("COMMIT");
});

it("makes a writer of the guarded stream wait for the guarded appends, then go on", async () => {
  const calendar = id("calendar");
  await store.append(calendar, "no_stream", [event("YearDefined")]);
  const guarded = await guardedAppendLeftOpen(calendar, 1);
  const writing = store.appendMany([
    { streamId: calendar, expected: 1, events: [event("WeekSetToFiveDays")] },
    { streamId: id("other"), expected: "no_stream", events: [event("Noted")] },
  ]);
  expect(await within(writing, 500)).toBe("waiting");
  await guarded.query("COMMIT");
  await expect(writing).resolves.toHaveLength(2);
  expect(await store.streamVersion(calendar)).toBe(2);
});

it("makes a guarded append wait for a writer in progress, then refuses the version it expected", async () => {
  const calendar = id("calendar");
  await store.append(calendar, "no_stream", [event("YearDefined")]);
  const writer = await store.pool.connect();
  open.push(writer);
  await writer.query("BEGIN");
  await store.appendMany(
    [
      { streamId: calendar, expected: 1, events: [event("WeekSetToFiveDays")] },
      { streamId: id("other"), expected: "no_stream", events: [event("Noted")] },
    ],
    { client: writer },
  );
  const guarded = store.appendMany([
    { streamId: id("lessons"), expected: "no_stream", events: [event("LessonScheduled")] },
    { streamId: calendar, expected: 1, events: [] },
  ]);
  expect(await within(guarded, 500)).toBe("waiting");
  await writer.query("COMMIT");
  await expect(guarded).rejects.toBeInstanceOf(WrongExpectedVersion);
});
