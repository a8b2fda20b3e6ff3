import { randomUUID } from "node:crypto";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { WrongExpectedVersion } from "./errors.js";
import type { EventStore } from "./event-store.js";
import { openStore } from "./test-support/store.js";

const env = useTestEnvironment({ label: "es_appended" });
let store: EventStore;
beforeAll(async () => {
  store = await openStore(env.databaseUrl);
});
afterAll(async () => {
  await store?.close();
});

const event = { type: "MarkRecorded", data: { value: 5 } };
const command = () => ({ commandId: randomUUID(), payload: { x: 1 }, result: { ok: true } });

it("tells its listeners of every append it makes, and of none that failed or replayed", async () => {
  let calls = 0;
  const unsubscribe = store.onAppended(() => calls++);
  const a = `s-${randomUUID()}`;
  const b = `s-${randomUUID()}`;
  await store.append(a, "no_stream", [event]);
  expect(calls).toBe(1);
  await store.appendMany([
    { streamId: a, expected: 1, events: [event] },
    { streamId: b, expected: "no_stream", events: [event] },
  ]);
  expect(calls).toBe(2);
  const once = command();
  await store.appendCommand(once, [{ streamId: b, expected: 1, events: [event] }]);
  expect(calls).toBe(3);
  // A retry of the same command writes nothing: nothing to tell.
  await store.appendCommand(once, [{ streamId: b, expected: 1, events: [event] }]);
  expect(calls).toBe(3);
  await store.appendCommands([
    {
      command: command(),
      appends: [{ streamId: `s-${randomUUID()}`, expected: "no_stream", events: [event] }],
    },
    {
      command: command(),
      appends: [{ streamId: `s-${randomUUID()}`, expected: "no_stream", events: [event] }],
    },
  ]);
  expect(calls).toBe(4);
  await store.appendBulk([
    { streamId: `s-${randomUUID()}`, expected: "no_stream", events: [event] },
  ]);
  expect(calls).toBe(5);
  await expect(store.append(a, 1, [event])).rejects.toBeInstanceOf(WrongExpectedVersion);
  expect(calls).toBe(5);
  unsubscribe();
  await store.append(a, 2, [event]);
  expect(calls).toBe(5);
});
