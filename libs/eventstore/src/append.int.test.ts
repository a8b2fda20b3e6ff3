import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppendNotFirstWrite, InvalidEventStoreArgument, WrongExpectedVersion } from "./errors.js";
import type { EventStore } from "./event-store.js";
import { event, openStore, readAllSettled } from "./test-support/store.js";

const env = useTestEnvironment({ label: "es_append" });
let store: EventStore;

beforeAll(async () => {
  store = await openStore(env.databaseUrl, { idleInTransactionSessionTimeoutMs: 1500 });
});
afterAll(async () => {
  await store?.close();
});

describe("append", () => {
  it("numbers a stream's events from 1 and reads them back with their envelope", async () => {
    const r = await store.append("journal-1", "no_stream", [
      {
        type: "MarkRecorded",
        data: { mark: 5 },
        metadata: { correlationId: "c1", actor: { id: "t1" } },
      },
      event("MarkRecorded", { mark: 4 }),
    ]);
    expect(r).toEqual({ streamId: "journal-1", version: 2 });
    const events = await store.readStream("journal-1");
    expect(events.map((e) => [e.version, e.type, e.data])).toEqual([
      [1, "MarkRecorded", { mark: 5 }],
      [2, "MarkRecorded", { mark: 4 }],
    ]);
    const first = events[0]!;
    expect(first.metadata).toEqual({ correlationId: "c1", actor: { id: "t1" } });
    expect(first.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    expect(first.schemaVersion).toBe(1);
    expect(first.recordedAt).toBeInstanceOf(Date);
    expect(first.transactionId).toBe(events[1]!.transactionId);
    expect(await store.readStream("journal-1", { fromVersion: 2 })).toHaveLength(1);
    expect(await store.streamVersion("journal-1")).toBe(2);
    expect(await store.streamVersion("nothing")).toBe(0);
  });

  it("checks each kind of expected version and reports the actual version", async () => {
    await expect(store.append("ev-1", "stream_exists", [event("A")])).rejects.toMatchObject({
      name: "WrongExpectedVersion",
      streamId: "ev-1",
      actualVersion: 0,
    });
    await store.append("ev-1", "no_stream", [event("A")]);
    await expect(store.append("ev-1", "no_stream", [event("A")])).rejects.toBeInstanceOf(
      WrongExpectedVersion,
    );
    await store.append("ev-1", "stream_exists", [event("A")]);
    await store.append("ev-1", 2, [event("A")]);
    const err = await store.append("ev-1", 2, [event("A")]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WrongExpectedVersion);
    expect((err as WrongExpectedVersion).actualVersion).toBe(3);
    expect((err as Error).message).toContain('stream "ev-1"');
    await store.append("ev-1", "any", [event("A")]);
    expect(await store.streamVersion("ev-1")).toBe(4);
  });

  it("appends to several streams atomically: one mismatch writes nothing", async () => {
    await store.append("acc-a", "no_stream", [event("Opened")]);
    await expect(
      store.appendMany([
        { streamId: "acc-a", expected: 1, events: [event("Debited")] },
        { streamId: "acc-b", expected: "stream_exists", events: [event("Credited")] },
      ]),
    ).rejects.toMatchObject({ name: "WrongExpectedVersion", streamId: "acc-b" });
    expect(await store.streamVersion("acc-a")).toBe(1);
    const ok = await store.appendMany([
      { streamId: "acc-b", expected: "no_stream", events: [event("Credited")] },
      { streamId: "acc-a", expected: 1, events: [event("Debited"), event("Noted")] },
    ]);
    expect(ok).toEqual([
      { streamId: "acc-b", version: 1 },
      { streamId: "acc-a", version: 3 },
    ]);
    const a = await store.readStream("acc-a");
    const b = await store.readStream("acc-b");
    expect(a[1]!.transactionId).toBe(b[0]!.transactionId);
  });

  it("refuses bad input with errors that name the field", async () => {
    await expect(store.append("", "any", [event("A")])).rejects.toThrow(/streamId/);
    await expect(store.append("s", -1, [event("A")])).rejects.toBeInstanceOf(
      InvalidEventStoreArgument,
    );
    await expect(
      store.appendMany([
        { streamId: "dup", expected: "any", events: [] },
        { streamId: "dup", expected: "any", events: [] },
      ]),
    ).rejects.toThrow(/appears twice/);
    await expect(store.append("s", "any", [{ type: "", data: {} }])).rejects.toThrow(
      /events\[0\]\.type/,
    );
    await expect(store.readAll("nonsense" as never)).rejects.toThrow(/after: must be a checkpoint/);
    await expect(
      store.append("dup-id", "any", [{ type: "A", data: 1, eventId: "x" }]),
    ).rejects.toThrow(/eventId/);
  });

  it("refuses a duplicate event id", async () => {
    const eventId = "01900000-0000-7000-8000-000000000001";
    await store.append("dup-evt", "any", [{ type: "A", data: 1, eventId }]);
    await expect(
      store.append("dup-evt-2", "any", [{ type: "A", data: 1, eventId }]),
    ).rejects.toThrow(/events_event_id_key/);
    expect(await store.streamVersion("dup-evt-2")).toBe(0);
  });

  it("runs inside a caller's transaction, but only as its first write", async () => {
    const client = await store.pool.connect();
    try {
      await client.query("BEGIN");
      await store.append("tx-1", "no_stream", [event("A")], { client });
      await expect(
        store.append("tx-2", "no_stream", [event("B")], { client }),
      ).rejects.toBeInstanceOf(AppendNotFirstWrite);
      await client.query("ROLLBACK");
      await client.query("BEGIN");
      await store.append("tx-1", "no_stream", [event("A")], { client });
      await client.query("COMMIT");
    } finally {
      client.release();
    }
    expect(await store.streamVersion("tx-1")).toBe(1);
    const c2 = await store.pool.connect();
    try {
      await c2.query("BEGIN");
      await c2.query("CREATE TEMP TABLE scratch (x int)");
      await c2.query("INSERT INTO scratch VALUES (1)");
      await expect(
        store.append("tx-3", "any", [event("A")], { client: c2 }),
      ).rejects.toBeInstanceOf(AppendNotFirstWrite);
      await c2.query("ROLLBACK");
    } finally {
      c2.release();
    }
  });

  it("sets idle_in_transaction_session_timeout on its connections, which ends a stuck writer", async () => {
    const { rows } = await store.pool.query<{ t: string }>(
      "SELECT current_setting('idle_in_transaction_session_timeout') AS t",
    );
    expect(rows[0]!.t).toBe("1500ms");
    const client = await store.pool.connect();
    client.on("error", () => {});
    try {
      await client.query("BEGIN");
      await store.append("stuck", "any", [event("A")], { client });
      await new Promise((r) => setTimeout(r, 2500));
      await expect(client.query("COMMIT")).rejects.toThrow();
    } finally {
      client.release(true);
    }
    expect(await store.streamVersion("stuck")).toBe(0);
    // With the stuck writer gone, the log is readable again up to the newest commit.
    const page = await readAllSettled(store);
    expect(page.events.length).toBeGreaterThan(0);
  });
});
