import { randomUUID } from "node:crypto";
import type { EventStore } from "@otmetka/eventstore";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openGradesDatabase } from "../db/open-database.js";
import { AppendBatcher, type PendingAppend } from "./append-batcher.js";

const env = useTestEnvironment({ label: "grades_batcher" });
let store: EventStore;

beforeAll(async () => {
  store = await openGradesDatabase(env.databaseUrl);
});

afterAll(async () => {
  await store?.close();
});

const item = (over: Partial<PendingAppend> = {}): PendingAppend => ({
  commandId: randomUUID(),
  payload: { n: Math.random() },
  result: { ok: true },
  streamId: `s-${randomUUID()}`,
  expected: 0,
  events: [{ type: "grades.v1.Test", data: { a: 1 } }],
  ...over,
});

it("appends commands that wait behind a running append together, with their command records", async () => {
  const batcher = new AppendBatcher(store, 1);
  const items = Array.from({ length: 10 }, () => item());
  const outcomes = await Promise.all(items.map((i) => batcher.submit(i)));
  expect(outcomes.every((o) => o.kind === "appended")).toBe(true);
  for (const i of items) {
    expect(await store.streamVersion(i.streamId)).toBe(1);
    expect((await store.findCommand(i.commandId))?.result).toEqual({ ok: true });
  }
});

it("sends the commands that become ready in one turn of the event loop as one batch, even with slots free", async () => {
  // Before, the first commands of a burst went alone while append slots were free.
  const sizes: number[] = [];
  const counting = Object.create(store, {
    appendCommands: {
      value: (items: Parameters<EventStore["appendCommands"]>[0]) => {
        sizes.push(items.length);
        return store.appendCommands(items);
      },
    },
  }) as EventStore;
  const batcher = new AppendBatcher(counting, 4);
  const outcomes = await Promise.all(Array.from({ length: 10 }, () => batcher.submit(item())));
  expect(outcomes.every((o) => o.kind === "appended")).toBe(true);
  expect(sizes).toEqual([10]);
});

it("answers each command exactly when one of a batch conflicts and another was already recorded", async () => {
  const recorded = item();
  await store.appendCommand(
    { commandId: recorded.commandId, payload: recorded.payload, result: { first: true } },
    [{ streamId: recorded.streamId, expected: 0, events: recorded.events }],
  );
  const moved = item();
  await store.append(moved.streamId, "no_stream", [{ type: "grades.v1.Test", data: {} }]);
  const batcher = new AppendBatcher(store, 1);
  const clean = Array.from({ length: 6 }, () => item());
  const [first, ...rest] = await Promise.all(
    [item(), recorded, moved, ...clean].map((i) => batcher.submit(i)),
  );
  expect(first).toEqual({ kind: "appended" });
  expect(rest.slice(0, 2)).toEqual([
    { kind: "replayed", result: { first: true } },
    { kind: "conflict" },
  ]);
  expect(rest.slice(2).every((o) => o.kind === "appended")).toBe(true);
  expect(await store.streamVersion(recorded.streamId)).toBe(1);
  expect(await store.streamVersion(moved.streamId)).toBe(1);
  for (const i of clean) expect(await store.streamVersion(i.streamId)).toBe(1);
});
