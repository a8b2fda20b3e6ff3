import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CommandIdReused, ConcurrencyRetriesExhausted, WrongExpectedVersion } from "./errors.js";
import type { EventStore } from "./event-store.js";
import { type Decider, handleCommand, loadAggregate } from "./handle-command.js";
import type { SnapshotPolicy } from "./snapshots.js";
import { holdAfterFirstLookup } from "./test-support/held-lookup.js";
import { openStore } from "./test-support/store.js";

const env = useTestEnvironment({ label: "es_decide" });
let store: EventStore;

beforeAll(async () => {
  store = await openStore(env.databaseUrl);
});
afterAll(async () => {
  await store?.close();
});

interface Counter {
  total: number;
  seats: number;
}
type Reserve = { seats: number };
const theatre: Decider<Counter, Reserve> = {
  initialState: () => ({ total: 0, seats: 0 }),
  evolve: (s, e) => {
    const d = e.data as { seats: number };
    return { total: s.total + 1, seats: s.seats + d.seats };
  },
  decide: (c, s) => {
    if (s.seats + c.seats > 10) throw new Error("seats: no more than 10 in total");
    return [{ type: "Reserved", data: { seats: c.seats, after: s.seats } }];
  },
};

describe("expected version and the command helper", () => {
  it("lets one of two writers with the same expected version win; the other gets WrongExpectedVersion", async () => {
    await store.append("race-1", "no_stream", [{ type: "Opened", data: {} }]);
    const both = await Promise.allSettled([
      store.append("race-1", 1, [{ type: "A", data: {} }]),
      store.append("race-1", 1, [{ type: "B", data: {} }]),
    ]);
    const won = both.filter((r) => r.status === "fulfilled");
    const lost = both.filter((r) => r.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    const err = (lost[0] as PromiseRejectedResult).reason;
    expect(err).toBeInstanceOf(WrongExpectedVersion);
    expect(err).toMatchObject({ streamId: "race-1", expected: "1", actualVersion: 2 });
    expect(await store.streamVersion("race-1")).toBe(2);
  });

  it("re-decides on the new state after losing the race, and succeeds", async () => {
    let decisions = 0;
    const decider: Decider<Counter, Reserve> = {
      ...theatre,
      decide: (c, s) => {
        decisions++;
        return theatre.decide(c, s);
      },
    };
    await store.append("race-2", "no_stream", [{ type: "Reserved", data: { seats: 4 } }]);
    // A competitor appends between the helper's first load and its append.
    const original = store.appendMany.bind(store);
    let first = true;
    store.appendMany = async (appends, options) => {
      if (first) {
        first = false;
        await original([
          {
            streamId: "race-2",
            expected: "any",
            events: [{ type: "Reserved", data: { seats: 5 } }],
          },
        ]);
      }
      return original(appends, options);
    };
    try {
      const r = await handleCommand(store, { streamId: "race-2", decider, command: { seats: 1 } });
      expect(r.attempts).toBe(2);
      expect(r.result).toEqual({ streamId: "race-2", version: 3 });
    } finally {
      store.appendMany = original;
    }
    expect(decisions).toBe(2);
    const events = await store.readStream("race-2");
    expect(events.map((e) => (e.data as { seats: number }).seats)).toEqual([4, 5, 1]);
    // The second decision saw the competitor's 5 seats.
    expect(events[2]!.data).toEqual({ seats: 1, after: 9 });
  });

  it("resolves many concurrent commands on one stream by re-deciding", async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () =>
        handleCommand(store, {
          streamId: "race-3",
          decider: theatre,
          command: { seats: 1 },
          maxAttempts: 20,
        }),
      ),
    );
    expect(results.every((r) => r.status === "fulfilled")).toBe(true);
    const events = await store.readStream("race-3");
    expect(events.map((e) => (e.data as { after: number }).after)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7,
    ]);
    const retried = results.filter((r) => r.status === "fulfilled" && r.value.attempts > 1).length;
    expect(retried).toBeGreaterThan(0);
  });

  it("gives up with ConcurrencyRetriesExhausted after maxAttempts", async () => {
    await store.append("race-4", "no_stream", [{ type: "Reserved", data: { seats: 1 } }]);
    const decider = theatre;
    const original = store.appendMany.bind(store);
    store.appendMany = async (appends, options) => {
      // Someone else always gets there first.
      await original([
        { streamId: "race-4", expected: "any", events: [{ type: "Reserved", data: { seats: 0 } }] },
      ]);
      return original(appends, options);
    };
    try {
      const err = await handleCommand(store, {
        streamId: "race-4",
        decider,
        command: { seats: 1 },
        maxAttempts: 3,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConcurrencyRetriesExhausted);
      expect(err).toMatchObject({ attempts: 3, streamId: "race-4" });
      expect((err as ConcurrencyRetriesExhausted).cause).toBeInstanceOf(WrongExpectedVersion);
    } finally {
      store.appendMany = original;
    }
  });

  it("passes domain errors through and adds metadata to every event", async () => {
    await expect(
      handleCommand(store, { streamId: "race-5", decider: theatre, command: { seats: 11 } }),
    ).rejects.toThrow(/^seats: no more than 10/);
    await handleCommand(store, {
      streamId: "race-5",
      decider: theatre,
      command: { seats: 2 },
      metadata: { correlationId: "corr-1", actor: { id: "teacher-7", kind: "user" } },
    });
    const [e] = await store.readStream("race-5");
    expect(e!.metadata).toEqual({
      correlationId: "corr-1",
      actor: { id: "teacher-7", kind: "user" },
    });
  });

  it("a retry that looked its command id up before the first run committed answers that run's result, not the refusal its events make", async () => {
    // Opening twice is refused: the second decision sees the first run's event.
    const door: Decider<boolean, "open"> = {
      initialState: () => false,
      evolve: () => true,
      decide: (_c, open) => {
        if (open) throw new Error("door: already open");
        return [{ type: "Opened", data: {} }];
      },
    };
    const open = (s: EventStore, streamId: string, commandId: string, payload?: unknown) =>
      handleCommand(s, { streamId, decider: door, command: "open", commandId, payload });
    const held = holdAfterFirstLookup(store);
    const retry = open(held.store, "door-1", "open-door-1");
    await held.looked;
    const first = await open(store, "door-1", "open-door-1");
    held.release();
    expect(await retry).toEqual({ result: first.result, replayed: true, attempts: 0 });
    expect(await store.streamVersion("door-1")).toBe(1);

    // Another payload under the same id is a reused id, not the refusal.
    const other = holdAfterFirstLookup(store);
    const reused = open(other.store, "door-2", "open-door-2", { door: "another" });
    await other.looked;
    await open(store, "door-2", "open-door-2");
    other.release();
    await expect(reused).rejects.toBeInstanceOf(CommandIdReused);
    // A refusal without a record of its id stays the refusal.
    await expect(open(store, "door-1", "open-door-3")).rejects.toThrow(/^door: already open/);
  });

  it("loads from a snapshot and reads only the later events", async () => {
    const snapshots: SnapshotPolicy<Counter> = {
      schemaVersion: 1,
      every: 3,
      toSnapshot: (s) => ({ t: s.total, s: s.seats }),
      fromSnapshot: (d) => {
        const x = d as { t: number; s: number };
        return { total: x.t, seats: x.s };
      },
    };
    for (let i = 0; i < 5; i++) {
      await handleCommand(store, {
        streamId: "snap-1",
        decider: theatre,
        command: { seats: 1 },
        snapshots,
      });
    }
    const { rows } = await store.pool.query<{ version: string; state: unknown }>(
      "SELECT version, state FROM eventstore.snapshots WHERE stream_id = 'snap-1'",
    );
    expect(Number(rows[0]!.version)).toBe(3);
    expect(rows[0]!.state).toEqual({ t: 3, s: 3 });
    let evolved = 0;
    const counting = {
      ...theatre,
      evolve: (s: Counter, e: Parameters<typeof theatre.evolve>[1]) => {
        evolved++;
        return theatre.evolve(s, e);
      },
    };
    const loaded = await loadAggregate(store, "snap-1", counting, snapshots);
    expect(loaded).toEqual({ state: { total: 5, seats: 5 }, version: 5 });
    expect(evolved).toBe(2);
    // A snapshot of an older shape is ignored, not misread.
    const v2 = { ...snapshots, schemaVersion: 2 };
    evolved = 0;
    expect(await loadAggregate(store, "snap-1", counting, v2)).toEqual(loaded);
    expect(evolved).toBe(5);
  });
});
