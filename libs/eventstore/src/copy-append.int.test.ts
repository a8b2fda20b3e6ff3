import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COPY_APPEND_MIN_EVENTS } from "./copy-append.js";
import { CommandIdReused, WrongExpectedVersion } from "./errors.js";
import type { EventStore } from "./event-store.js";
import type { StreamAppend } from "./event-types.js";
import { openStore } from "./test-support/store.js";

const env = useTestEnvironment({ label: "es_copy_append" });
let store: EventStore;

beforeAll(async () => {
  store = await openStore(env.databaseUrl, { max: 12 });
});
afterAll(async () => {
  await store?.close();
});

/** Enough events across two streams to take the COPY path. */
const big = (prefix: string, expected: StreamAppend["expected"] = "no_stream"): StreamAppend[] =>
  [0, 1].map((s) => ({
    streamId: `${prefix}-${s}`,
    expected,
    events: Array.from({ length: COPY_APPEND_MIN_EVENTS }, (_, k) => ({
      type: "LessonScheduled",
      data: { s, k, topic: 'tab\there, quote" and back\\slash' },
      metadata: { commandId: `${prefix}-cmd` },
    })),
  }));

const eventsOf = async (sql: string, values: unknown[]) =>
  Number((await store.pool.query<{ n: string }>(sql, values)).rows[0]!.n);

describe("large appends go through COPY with the same rules", () => {
  it("appends, records the command, and replays a retry without writing", async () => {
    const command = { commandId: "gen-1", payload: { year: 2026 }, result: { lessons: 512 } };
    const first = await store.appendCommand(command, big("cg"));
    expect(first).toEqual({
      replayed: false,
      result: { lessons: 512 },
      streams: [
        { streamId: "cg-0", version: COPY_APPEND_MIN_EVENTS },
        { streamId: "cg-1", version: COPY_APPEND_MIN_EVENTS },
      ],
    });
    const again = await store.appendCommand(command, big("cg"));
    expect(again).toEqual({ replayed: true, result: { lessons: 512 } });
    expect(
      await eventsOf("SELECT count(*) AS n FROM eventstore.events WHERE stream_id LIKE 'cg-%'", []),
    ).toBe(2 * COPY_APPEND_MIN_EVENTS);
    const [e] = await store.readStream("cg-1", { fromVersion: 7, limit: 1 });
    expect(e).toMatchObject({
      version: 7,
      data: { s: 1, k: 6, topic: 'tab\there, quote" and back\\slash' },
    });
    // One transaction for both streams.
    expect(
      await eventsOf(
        "SELECT count(DISTINCT transaction_id) AS n FROM eventstore.events WHERE stream_id LIKE 'cg-%'",
        [],
      ),
    ).toBe(1);
  });

  it("refuses the same command id with another payload, writing nothing", async () => {
    await store.appendCommand(
      { commandId: "gen-2", payload: { a: 1 }, result: null },
      big("reuse-a"),
    );
    await expect(
      store.appendCommand({ commandId: "gen-2", payload: { a: 2 }, result: null }, big("reuse-b")),
    ).rejects.toBeInstanceOf(CommandIdReused);
    expect(await store.streamVersion("reuse-b-0")).toBe(0);
  });

  it("a stream not at its expected version refuses the whole append, command included", async () => {
    await store.append("late-1", "no_stream", [{ type: "X", data: {} }]);
    const failed = await store
      .appendCommand({ commandId: "gen-3", payload: {}, result: null }, big("late"))
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(failed).toBeInstanceOf(WrongExpectedVersion);
    expect(failed).toMatchObject({ streamId: "late-1", actualVersion: 1 });
    expect(await store.streamVersion("late-0")).toBe(0);
    expect(await store.findCommand("gen-3")).toBeUndefined();
  });

  it("concurrent retries of one command write it once", async () => {
    const command = { commandId: "gen-4", payload: { n: 4 }, result: { ok: true } };
    const outcomes = await Promise.all(
      Array.from({ length: 4 }, () => store.appendCommand(command, big("race"))),
    );
    expect(outcomes.filter((o) => !o.replayed)).toHaveLength(1);
    expect(await store.streamVersion("race-0")).toBe(COPY_APPEND_MIN_EVENTS);
  });
});

describe("appendCommand's alsoWrite", () => {
  beforeAll(async () => {
    await store.pool.query("CREATE TABLE IF NOT EXISTS also_written (k text PRIMARY KEY)");
  });
  const rows = (k: string) =>
    eventsOf("SELECT count(*) AS n FROM also_written WHERE k LIKE $1", [`${k}%`]);
  const write = (k: string) => async (c: { query(t: string, v: unknown[]): Promise<unknown> }) => {
    await c.query("INSERT INTO also_written (k) VALUES ($1)", [k]);
  };
  const small = (streamId: string): StreamAppend[] => [
    { streamId, expected: "no_stream", events: [{ type: "X", data: {} }] },
  ];

  it.each([
    ["a large append (COPY)", "aw-big", big],
    ["a small append", "aw-small", small],
  ])("%s commits the extra write with the events, once", async (_, key, appends) => {
    const command = { commandId: `${key}-cmd`, payload: {}, result: null };
    const stream = `${key}-s`;
    const out = await store.appendCommand(command, appends(stream), { alsoWrite: write(key) });
    expect(out.replayed).toBe(false);
    expect(await rows(key)).toBe(1);
    // The retry is replayed: no second write (it would break the key).
    const again = await store.appendCommand(command, appends(stream), {
      alsoWrite: write(key),
    });
    expect(again.replayed).toBe(true);
    expect(await rows(key)).toBe(1);
  });

  it.each([
    ["a large append (COPY)", "aw-fail-big", big],
    ["a small append", "aw-fail-small", small],
  ])("%s is rolled back when the extra write fails", async (_, key, appends) => {
    await store.pool.query("INSERT INTO also_written (k) VALUES ($1)", [key]);
    const command = { commandId: `${key}-cmd`, payload: {}, result: null };
    await expect(
      store.appendCommand(command, appends(`${key}-s`), { alsoWrite: write(key) }),
    ).rejects.toMatchObject({ code: "23505" });
    expect(await store.streamVersion(`${key}-s-0`)).toBe(0);
    expect(await store.streamVersion(`${key}-s`)).toBe(0);
    expect(await store.findCommand(command.commandId)).toBeUndefined();
  });

  it("is not run when a stream is not at its expected version", async () => {
    await store.append("aw-late-1", "no_stream", [{ type: "X", data: {} }]);
    await expect(
      store.appendCommand({ commandId: "aw-late", payload: {}, result: null }, big("aw-late"), {
        alsoWrite: write("aw-late"),
      }),
    ).rejects.toBeInstanceOf(WrongExpectedVersion);
    expect(await rows("aw-late")).toBe(0);
  });
});
