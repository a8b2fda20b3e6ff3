import { randomUUID } from "node:crypto";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandAppend } from "./append-commands.js";
import { CommandIdReused, InvalidEventStoreArgument, WrongExpectedVersion } from "./errors.js";
import type { EventStore } from "./event-store.js";
import { payloadHash } from "./payload-hash.js";
import { event, openStore } from "./test-support/store.js";

const env = useTestEnvironment({ label: "es_append_commands" });
let store: EventStore;

beforeAll(async () => {
  store = await openStore(env.databaseUrl, { max: 10 });
});
afterAll(async () => {
  await store?.close();
});

const mark = (streamId: string, expected: number, n = 1): CommandAppend => ({
  command: { commandId: randomUUID(), payload: { streamId, n }, result: { streamId } },
  appends: [
    {
      streamId,
      expected,
      events: Array.from({ length: n }, (_, i) => event("MarkRecorded", { i })),
    },
  ],
});

/** Distinct writing transactions of a stream's events. */
async function transactionsOf(streamIds: string[]): Promise<number> {
  const { rows } = await store.pool.query<{ n: string }>(
    "SELECT count(DISTINCT transaction_id) AS n FROM eventstore.events WHERE stream_id = ANY($1)",
    [streamIds],
  );
  return Number(rows[0]!.n);
}

const recorded = async (commandId: string) => (await store.findCommand(commandId))?.result;

describe("appendCommands", () => {
  it("writes commands on different streams in one transaction, each with its record", async () => {
    const streams = [0, 1, 2].map(() => `batch-${randomUUID()}`);
    const items = streams.map((s, i) => mark(s, 0, i + 1));
    const out = await store.appendCommands(items);
    expect(out.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "fulfilled"]);
    expect(out.map((o) => (o.status === "fulfilled" ? o.value : undefined))).toEqual(
      streams.map((streamId, i) => ({
        replayed: false,
        result: { streamId },
        streams: [{ streamId, version: i + 1 }],
      })),
    );
    expect(await transactionsOf(streams)).toBe(1);
    for (const i of items) expect(await recorded(i.command.commandId)).toEqual(i.command.result);
    // A retry of any of them is answered by appendCommand from the same record.
    const again = await store.appendCommand(items[1]!.command, items[1]!.appends);
    expect(again).toEqual({ replayed: true, result: items[1]!.command.result });
  });

  it("answers each command alone when one stream moved: only that one conflicts", async () => {
    const streams = [0, 1, 2].map(() => `moved-${randomUUID()}`);
    await store.append(streams[1]!, "no_stream", [event("Other")]);
    const items = streams.map((s) => mark(s, 0));
    const out = await store.appendCommands(items);
    expect(out[0]!.status).toBe("fulfilled");
    expect(out[2]!.status).toBe("fulfilled");
    expect(out[1]!.status === "rejected" && out[1]!.reason).toBeInstanceOf(WrongExpectedVersion);
    expect(await store.streamVersion(streams[1]!)).toBe(1);
    expect(await recorded(items[1]!.command.commandId)).toBeUndefined();
    // Written alone, so in two transactions (the batch's was rolled back).
    expect(await transactionsOf([streams[0]!, streams[2]!])).toBe(2);
  });

  it("replays a recorded command and refuses its id with another payload", async () => {
    const done = mark(`done-${randomUUID()}`, 0);
    await store.appendCommand(done.command, done.appends);
    const reused = mark(`reused-${randomUUID()}`, 0);
    await store.appendCommand(reused.command, reused.appends);
    const fresh = mark(`fresh-${randomUUID()}`, 0);
    const retry = { ...done, appends: [{ ...done.appends[0]!, expected: 1 }] };
    const other = { ...mark(`other-${randomUUID()}`, 0), command: { ...reused.command } };
    other.command.payload = { different: true };
    const out = await store.appendCommands([retry, fresh, other]);
    expect(out[0]).toEqual({
      status: "fulfilled",
      value: { replayed: true, result: done.command.result },
    });
    expect(out[1]!.status === "fulfilled" && out[1]!.value.replayed).toBe(false);
    expect(out[2]!.status === "rejected" && out[2]!.reason).toBeInstanceOf(CommandIdReused);
    expect(await store.streamVersion(done.appends[0]!.streamId)).toBe(1);
    expect(await store.streamVersion(other.appends[0]!.streamId)).toBe(0);
    expect(await store.streamVersion(fresh.appends[0]!.streamId)).toBe(1);
  });

  it("answers a batch holding a recorded id without an error, leaving nothing of it", async () => {
    // Called directly: appendCommands accepts both answers, PostgreSQL's log does not (an
    // ERROR, with the batch's document, for every retried command that reached a batch).
    const done = mark(`answered-${randomUUID()}`, 0);
    await store.appendCommand(done.command, done.appends);
    const freshId = randomUUID();
    const streamId = `untouched-${randomUUID()}`;
    const doc = {
      streams: [{ id: streamId, expected: 0 }],
      events: [{ s: 1, id: randomUUID(), type: "MarkRecorded", v: 1, data: {}, metadata: {} }],
      commands: [
        { id: freshId, hash: "h", result: null },
        { id: done.command.commandId, hash: "h", result: null },
      ],
    };
    const { rows } = await store.pool.query<{ r: unknown }>(
      "SELECT eventstore.append_commands_json($1::jsonb) AS r",
      [JSON.stringify(doc)],
    );
    expect(rows[0]!.r).toEqual({ separately: true });
    expect(await store.findCommand(freshId)).toBeUndefined();
    expect(await store.streamVersion(streamId)).toBe(0);
    expect(await recorded(done.command.commandId)).toEqual(done.command.result);
  });

  it("lets only one of two commands on the same stream and version through", async () => {
    const streamId = `same-${randomUUID()}`;
    const out = await store.appendCommands([mark(streamId, 0), mark(streamId, 0)]);
    const ok = out.filter((o) => o.status === "fulfilled");
    const refused = out.filter((o) => o.status === "rejected");
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.status === "rejected" && refused[0]!.reason).toBeInstanceOf(
      WrongExpectedVersion,
    );
    expect(await store.streamVersion(streamId)).toBe(1);
  });

  it("refuses only the command with a bad argument", async () => {
    const good = mark(`good-${randomUUID()}`, 0);
    const bad = mark(`bad-${randomUUID()}`, 0);
    const badEvents = [{ type: "", data: {} }];
    const out = await store.appendCommands([
      good,
      { ...bad, appends: [{ ...bad.appends[0]!, events: badEvents }] },
    ]);
    expect(out[0]!.status).toBe("fulfilled");
    expect(out[1]!.status === "rejected" && out[1]!.reason).toBeInstanceOf(
      InvalidEventStoreArgument,
    );
    expect(await recorded(bad.command.commandId)).toBeUndefined();
  });
});

describe("appendCommands against a concurrent run of one of its commands", () => {
  it("waits for it, writes nothing of the batch, then answers that command from its record", async () => {
    const items = [0, 1, 2].map(() => mark(`race-${randomUUID()}`, 0));
    const raced = items[1]!;
    const other = await store.pool.connect();
    try {
      // The concurrent run has recorded the command but not committed yet.
      await other.query("BEGIN");
      await other.query(
        "INSERT INTO eventstore.commands (command_id, payload_hash, result) VALUES ($1, $2, $3)",
        [raced.command.commandId, payloadHash(raced.command.payload), { won: "elsewhere" }],
      );
      const batch = store.appendCommands(items);
      // The batch's statement waits on that row's unique key, past its own checks.
      for (let i = 0; i < 200; i++) {
        const { rows } = await store.pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'
              AND query LIKE '%append_commands%'`,
        );
        if (Number(rows[0]!.n) > 0) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      await other.query("COMMIT");
      const out = await batch;
      expect(out[1]).toEqual({
        status: "fulfilled",
        value: { replayed: true, result: { won: "elsewhere" } },
      });
      expect(out[0]!.status === "fulfilled" && out[0]!.value.replayed).toBe(false);
      expect(out[2]!.status === "fulfilled" && out[2]!.value.replayed).toBe(false);
      expect(await store.streamVersion(raced.appends[0]!.streamId)).toBe(0);
      // The batch's statement was undone: the other two were written alone.
      expect(
        await transactionsOf([items[0]!.appends[0]!.streamId, items[2]!.appends[0]!.streamId]),
      ).toBe(2);
    } finally {
      other.release();
    }
  });
});

describe("appendCommands' alsoWrite", () => {
  beforeAll(async () => {
    await store.pool.query(
      `CREATE TABLE IF NOT EXISTS batch_side_rows
         (command_id text PRIMARY KEY, tx xid8 NOT NULL DEFAULT pg_current_xact_id())`,
    );
  });

  /** An alsoWrite that writes one side row per appended command and remembers its calls. */
  function sideRows(items: CommandAppend[], refuse?: (k: number) => boolean) {
    const calls: number[][] = [];
    const alsoWrite = async (
      client: { query(t: string, v: unknown[]): Promise<unknown> },
      appended: readonly number[],
    ) => {
      calls.push([...appended]);
      if (refuse && appended.some(refuse)) throw new Error("side write refused");
      await client.query("INSERT INTO batch_side_rows (command_id) SELECT unnest($1::text[])", [
        appended.map((k) => items[k]!.command.commandId),
      ]);
    };
    return { calls, alsoWrite };
  }

  const sideRowsOf = async (items: CommandAppend[]) =>
    (
      await store.pool.query<{ command_id: string; tx: string }>(
        "SELECT command_id, tx::text AS tx FROM batch_side_rows WHERE command_id = ANY($1)",
        [items.map((i) => i.command.commandId)],
      )
    ).rows;

  it("writes the side rows in the batch's own transaction, after its events", async () => {
    const items = [0, 1, 2].map(() => mark(`side-${randomUUID()}`, 0));
    const { calls, alsoWrite } = sideRows(items);
    const out = await store.appendCommands(items, { alsoWrite });
    expect(out.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "fulfilled"]);
    expect(calls).toEqual([[0, 1, 2]]);
    const streams = items.map((i) => i.appends[0]!.streamId);
    expect(await transactionsOf(streams)).toBe(1);
    const { rows } = await store.pool.query<{ tx: string }>(
      "SELECT DISTINCT transaction_id::text AS tx FROM eventstore.events WHERE stream_id = ANY($1)",
      [streams],
    );
    const side = await sideRowsOf(items);
    expect(side).toHaveLength(3);
    expect(new Set(side.map((r) => r.tx))).toEqual(new Set([rows[0]!.tx]));
  });

  it("rolls the whole batch back when the side write throws: nothing appended", async () => {
    const items = [0, 1, 2].map(() => mark(`side-fails-${randomUUID()}`, 0));
    const { calls, alsoWrite } = sideRows(items, () => true);
    const out = await store.appendCommands(items, { alsoWrite });
    expect(out.every((o) => o.status === "rejected")).toBe(true);
    expect(out[0]!.status === "rejected" && (out[0]!.reason as Error).message).toBe(
      "side write refused",
    );
    // The batch, then each command alone (side by side): every transaction rolled back.
    expect(calls[0]).toEqual([0, 1, 2]);
    expect(calls.slice(1).sort()).toEqual([[0], [1], [2]]);
    for (const i of items) {
      expect(await store.streamVersion(i.appends[0]!.streamId)).toBe(0);
      expect(await recorded(i.command.commandId)).toBeUndefined();
    }
    expect(await sideRowsOf(items)).toEqual([]);
  });

  it("refuses only the command whose own side write throws, the others appended alone", async () => {
    const items = [0, 1, 2].map(() => mark(`side-one-${randomUUID()}`, 0));
    const { alsoWrite } = sideRows(items, (k) => k === 1);
    const out = await store.appendCommands(items, { alsoWrite });
    expect(out.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(await store.streamVersion(items[1]!.appends[0]!.streamId)).toBe(0);
    expect(await recorded(items[1]!.command.commandId)).toBeUndefined();
    const side = await sideRowsOf(items);
    expect(side.map((r) => r.command_id).sort()).toEqual(
      [items[0]!, items[2]!].map((i) => i.command.commandId).sort(),
    );
    expect(
      await transactionsOf([items[0]!.appends[0]!.streamId, items[2]!.appends[0]!.streamId]),
    ).toBe(2);
  });

  it("writes nothing for a replayed, a refused or a conflicting command", async () => {
    const done = mark(`side-done-${randomUUID()}`, 0);
    await store.appendCommand(done.command, done.appends);
    const retry = { ...done, appends: [{ ...done.appends[0]!, expected: 1 }] };
    const fresh = mark(`side-fresh-${randomUUID()}`, 0);
    const moved = mark(`side-moved-${randomUUID()}`, 0);
    await store.append(moved.appends[0]!.streamId, "no_stream", [event("Other")]);
    const reused = { ...mark(`side-reused-${randomUUID()}`, 0), command: { ...done.command } };
    reused.command.payload = { different: true };
    const items = [retry, fresh, moved, reused];
    const { calls, alsoWrite } = sideRows(items);
    const out = await store.appendCommands(items, { alsoWrite });
    expect(out.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "rejected", "rejected"]);
    expect(out[0]!.status === "fulfilled" && out[0]!.value.replayed).toBe(true);
    expect(calls).toEqual([[1]]);
    expect((await sideRowsOf([fresh])).map((r) => r.command_id)).toEqual([fresh.command.commandId]);
    expect(await sideRowsOf([retry, moved])).toEqual([]);
  });

  it("a lone command gets its side write in its own append's transaction", async () => {
    const items = [mark(`side-lone-${randomUUID()}`, 0)];
    const { calls, alsoWrite } = sideRows(items);
    const out = await store.appendCommands(items, { alsoWrite });
    expect(out[0]!.status).toBe("fulfilled");
    expect(calls).toEqual([[0]]);
    expect(await sideRowsOf(items)).toHaveLength(1);
  });
});
