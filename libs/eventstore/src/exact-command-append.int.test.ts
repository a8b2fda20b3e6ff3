import { randomUUID } from "node:crypto";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CommandIdReused, WrongExpectedVersion } from "./errors.js";
import type { CommandRecord, EventStore } from "./event-store.js";
import type { ExpectedVersion } from "./expected-version.js";
import { event, openStore } from "./test-support/store.js";

// appendCommand of one stream at an exact version (or "no_stream"): the plain statement of
// exact-append.ts, answered as append_events answers.
const env = useTestEnvironment({ label: "es_exact_command" });
let store: EventStore;

beforeAll(async () => {
  store = await openStore(env.databaseUrl, { max: 12 });
});
afterAll(async () => {
  await store?.close();
});

const command = (payload: unknown = { p: randomUUID() }): CommandRecord => ({
  commandId: randomUUID(),
  payload,
  result: { ok: randomUUID() },
});

const append = (c: CommandRecord, streamId: string, expected: ExpectedVersion, n = 1) =>
  store.appendCommand(c, [
    {
      streamId,
      expected,
      events: Array.from({ length: n }, (_, i) => event("MarkRecorded", { i })),
    },
  ]);

/** The transaction that wrote the command's record, or undefined when none is stored. */
async function recordTransaction(commandId: string): Promise<string | undefined> {
  const { rows } = await store.pool.query<{ x: string }>(
    "SELECT xmin::text AS x FROM eventstore.commands WHERE command_id = $1",
    [commandId],
  );
  return rows[0]?.x;
}

async function eventTransactions(streamId: string): Promise<string[]> {
  const { rows } = await store.pool.query<{ x: string }>(
    `SELECT DISTINCT (transaction_id::text::bigint % 4294967296)::text AS x
       FROM eventstore.events WHERE stream_id = $1`,
    [streamId],
  );
  return rows.map((r) => r.x);
}

describe("appendCommand on one stream at an exact version", () => {
  it("writes the record and the events in one transaction, numbered after the expected version", async () => {
    const s = `exact-${randomUUID()}`;
    const first = command();
    expect(await append(first, s, "no_stream")).toEqual({
      replayed: false,
      result: first.result,
      streams: [{ streamId: s, version: 1 }],
    });
    const second = command();
    expect(await append(second, s, 1, 3)).toMatchObject({ streams: [{ streamId: s, version: 4 }] });
    const events = await store.readStream(s);
    expect(events.map((e) => [e.version, e.data])).toEqual([
      [1, { i: 0 }],
      [2, { i: 0 }],
      [3, { i: 1 }],
      [4, { i: 2 }],
    ]);
    const firstTx = await recordTransaction(first.commandId);
    const secondTx = await recordTransaction(second.commandId);
    expect(firstTx).toBeDefined();
    expect(new Set(await eventTransactions(s))).toEqual(new Set([firstTx, secondTx]));
    expect((await store.findCommand(second.commandId))?.result).toEqual(second.result);
  });

  it("on a stream behind or past the expected version writes neither record nor events", async () => {
    const s = `exact-${randomUUID()}`;
    await append(command(), s, "no_stream", 2);
    for (const expected of [5, 1, "no_stream" as const]) {
      const c = command();
      const err = await append(c, s, expected).catch((e: unknown) => e);
      expect(err, `expected ${expected}`).toBeInstanceOf(WrongExpectedVersion);
      expect((err as WrongExpectedVersion).actualVersion).toBe(2);
      expect(await recordTransaction(c.commandId)).toBeUndefined();
    }
    expect(await store.streamVersion(s)).toBe(2);
  });

  it("answers a recorded command id before the version: replayed, or CommandIdReused, writing nothing", async () => {
    const s = `exact-${randomUUID()}`;
    const c = command({ mark: 5 });
    await append(c, s, "no_stream");
    await append(command(), s, 1);
    // Retried with the version it first expected (the stream has moved) and at the current one.
    for (const expected of [0, 2, 7]) {
      expect(await append({ ...c, result: "other" }, s, expected)).toEqual({
        replayed: true,
        result: c.result,
      });
    }
    const err = await append({ ...c, payload: { mark: 4 } }, s, 2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandIdReused);
    expect(await store.streamVersion(s)).toBe(2);
  });

  it("of concurrent commands at the same version one wins; the others' records are undone", async () => {
    const s = `exact-${randomUUID()}`;
    await append(command(), s, "no_stream");
    const racers = Array.from({ length: 10 }, () => command());
    const settled = await Promise.allSettled(racers.map((c) => append(c, s, 1)));
    const won = settled.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    for (const r of settled) {
      if (r.status === "rejected") {
        expect(r.reason).toBeInstanceOf(WrongExpectedVersion);
        expect((r.reason as WrongExpectedVersion).actualVersion).toBe(2);
      }
    }
    const stored = await Promise.all(racers.map((c) => recordTransaction(c.commandId)));
    expect(stored.filter((x) => x !== undefined)).toHaveLength(1);
    expect(await store.streamVersion(s)).toBe(2);
  });

  it("of concurrent runs of one command on one stream one appends, the others replay its result", async () => {
    const s = `exact-${randomUUID()}`;
    await append(command(), s, "no_stream");
    const c = command();
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) => append({ ...c, result: { i } }, s, 1)),
    );
    const winners = outcomes.filter((o) => !o.replayed);
    expect(winners).toHaveLength(1);
    for (const o of outcomes) expect(o.result).toEqual(winners[0]!.result);
    expect(await store.streamVersion(s)).toBe(2);
  });
});
