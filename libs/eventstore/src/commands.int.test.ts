import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CommandIdReused } from "./errors.js";
import type { EventStore } from "./event-store.js";
import { type Decider, handleCommand } from "./handle-command.js";
import { openStore } from "./test-support/store.js";

const env = useTestEnvironment({ label: "es_commands" });
let store: EventStore;

beforeAll(async () => {
  store = await openStore(env.databaseUrl, { max: 20 });
});
afterAll(async () => {
  await store?.close();
});

interface RecordMark {
  studentId: string;
  value: number;
}
interface JournalState {
  marks: number;
}
const journal: Decider<JournalState, RecordMark> = {
  initialState: () => ({ marks: 0 }),
  evolve: (s, e) => (e.type === "MarkRecorded" ? { marks: s.marks + 1 } : s),
  decide: (c) => [{ type: "MarkRecorded", data: { studentId: c.studentId, value: c.value } }],
};

async function count(sql: string, values: unknown[]): Promise<number> {
  const { rows } = await store.pool.query<{ n: string }>(sql, values);
  return Number(rows[0]!.n);
}

describe("idempotent commands", () => {
  it("records a command retried sequentially once and returns the same result", async () => {
    const run = () =>
      handleCommand(store, {
        streamId: "journal-seq",
        decider: journal,
        command: { studentId: "s1", value: 5 },
        commandId: "cmd-seq-1",
        result: ({ version }) => ({ markNumber: version }),
      });
    const first = await run();
    const second = await run();
    const third = await run();
    expect(first).toEqual({ result: { markNumber: 1 }, replayed: false, attempts: 1 });
    expect(second).toEqual({ result: { markNumber: 1 }, replayed: true, attempts: 0 });
    expect(third.result).toEqual(first.result);
    expect(await store.streamVersion("journal-seq")).toBe(1);
    expect(
      await count("SELECT count(*) AS n FROM eventstore.commands WHERE command_id = $1", [
        "cmd-seq-1",
      ]),
    ).toBe(1);
    const stored = await store.findCommand("cmd-seq-1");
    expect(stored?.result).toEqual({ markNumber: 1 });
  });

  it("records a command retried concurrently once, every caller getting the same result", async () => {
    // Other traffic on the same stream, so that retries also race with version changes.
    await store.append("journal-conc", "any", [{ type: "LessonConducted", data: {} }]);
    const attempts = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        i % 4 === 3
          ? store.append("journal-conc", "any", [{ type: "LessonConducted", data: { i } }])
          : handleCommand(store, {
              streamId: "journal-conc",
              decider: journal,
              command: { studentId: "s2", value: 4 },
              commandId: "cmd-conc-1",
              result: ({ events }) => ({ recorded: events.length, by: "grades" }),
            }),
      ),
    );
    const results = attempts.filter((a) => "replayed" in a);
    expect(results).toHaveLength(9);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    for (const r of results) expect(r.result).toEqual({ recorded: 1, by: "grades" });
    expect(
      await count(
        "SELECT count(*) AS n FROM eventstore.events WHERE stream_id = $1 AND type = 'MarkRecorded'",
        ["journal-conc"],
      ),
    ).toBe(1);
  });

  it("records concurrent retries of a command on different streams once", async () => {
    // No common stream lock: the commands table's key decides.
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        store.appendCommand({ commandId: "cmd-cross", payload: { x: 1 }, result: { i } }, [
          { streamId: `cross-${i}`, expected: "no_stream", events: [{ type: "E", data: {} }] },
        ]),
      ),
    );
    const winners = outcomes.filter((o) => !o.replayed);
    expect(winners).toHaveLength(1);
    for (const o of outcomes) expect(o.result).toEqual(winners[0]!.result);
    expect(
      await count("SELECT count(*) AS n FROM eventstore.events WHERE stream_id LIKE 'cross-%'", []),
    ).toBe(1);
  });

  it("refuses the same command id with another payload and writes nothing", async () => {
    await handleCommand(store, {
      streamId: "journal-reuse",
      decider: journal,
      command: { studentId: "s3", value: 3 },
      commandId: "cmd-reuse",
    });
    const err = await handleCommand(store, {
      streamId: "journal-reuse",
      decider: journal,
      command: { studentId: "s3", value: 2 },
      commandId: "cmd-reuse",
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandIdReused);
    expect((err as Error).message).toMatch(/commandId "cmd-reuse" was already used/);
    // Also when the reuse is only caught under the lock, in the append itself.
    await expect(
      store.appendCommand({ commandId: "cmd-reuse", payload: { other: true }, result: null }, []),
    ).rejects.toBeInstanceOf(CommandIdReused);
    expect(await store.streamVersion("journal-reuse")).toBe(1);
  });

  it("hashes the canonical payload: key order does not make a new command", async () => {
    const a = await store.appendCommand(
      { commandId: "cmd-order", payload: { a: 1, b: { c: 2, d: 3 } }, result: "ok" },
      [{ streamId: "order-1", expected: "no_stream", events: [{ type: "E", data: {} }] }],
    );
    const b = await store.appendCommand(
      { commandId: "cmd-order", payload: { b: { d: 3, c: 2 }, a: 1 }, result: "other" },
      [{ streamId: "order-1", expected: "no_stream", events: [{ type: "E", data: {} }] }],
    );
    expect(a.replayed).toBe(false);
    expect(b).toEqual({ replayed: true, result: "ok" });
  });
});
