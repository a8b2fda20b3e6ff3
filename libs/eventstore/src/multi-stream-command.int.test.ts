import { randomUUID } from "node:crypto";
import { useTestEnvironment } from "@otmetka/testing";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COPY_APPEND_MIN_EVENTS } from "./copy-append.js";
import { CommandIdReused, CommandRetriesExhausted, WrongExpectedVersion } from "./errors.js";
import type { EventStore } from "./event-store.js";
import type { NewEvent } from "./event-types.js";
import { runMultiStreamCommand } from "./multi-stream-command.js";
import { holdAfterFirstLookup } from "./test-support/held-lookup.js";
import { event, openStore } from "./test-support/store.js";

const env = useTestEnvironment({ label: "es_multi_cmd" });
let store: EventStore;

beforeAll(async () => {
  store = await openStore(env.databaseUrl);
  // A table a service keeps with its events: a claim on a key, taken once.
  await store.pool.query(
    "CREATE TABLE IF NOT EXISTS multi_stream_claims (key text PRIMARY KEY, command_id text NOT NULL)",
  );
});
afterAll(async () => {
  await store?.close();
});

const id = (what: string) => `${what}-${randomUUID()}`;
const claim = (key: string, commandId: string) => (client: pg.PoolClient) =>
  client
    .query("INSERT INTO multi_stream_claims (key, command_id) VALUES ($1, $2)", [key, commandId])
    .then(() => {});
/** A concurrent command's claim. */
const takeKey = (key: string) =>
  store.pool.query("INSERT INTO multi_stream_claims (key, command_id) VALUES ($1, 'other')", [key]);
const claimOf = async (key: string) =>
  (await store.pool.query("SELECT command_id FROM multi_stream_claims WHERE key = $1", [key]))
    .rows[0]?.command_id as string | undefined;

describe("runMultiStreamCommand", () => {
  it("appends every stream at the version read with the command; a retry replays it, another payload is refused", async () => {
    const [written, read, commandId] = [id("written"), id("read"), id("cmd")];
    await store.append(read, "no_stream", [event("Opened")]);
    let plans = 0;
    const run = (payload: unknown) =>
      runMultiStreamCommand(store, {
        commandId,
        payload,
        metadata: { actor: { id: "u1" } },
        plan: async () => {
          plans++;
          return {
            appends: [
              { streamId: written, expected: "no_stream", events: [event("Done")] },
              { streamId: read, expected: await store.streamVersion(read), events: [] },
            ],
            result: { n: 1 },
          };
        },
      });
    expect(await run({ a: 1 })).toEqual({ result: { n: 1 }, replayed: false, attempts: 1 });
    const [done] = await store.readStream(written);
    expect(done!.metadata).toMatchObject({ actor: { id: "u1" } });

    expect(await run({ a: 1 })).toEqual({ result: { n: 1 }, replayed: true, attempts: 0 });
    await expect(run({ a: 2 })).rejects.toBeInstanceOf(CommandIdReused);
    expect(plans).toBe(1);
    expect(await store.streamVersion(written)).toBe(1);
  });

  it("a retry that looked its command id up before the first run committed answers that run's result, not its plan's refusal", async () => {
    const [stream, key, commandId] = [id("once"), id("key"), id("cmd")];
    const run = (s: EventStore, refuseTaken: boolean) =>
      runMultiStreamCommand(s, {
        commandId,
        payload: { key },
        plan: async () => {
          const version = await s.streamVersion(stream);
          if (refuseTaken && version > 0) throw new Error("once: already done");
          return {
            appends: [{ streamId: stream, expected: version, events: [event("Done")] }],
            result: { key },
            alsoWrite: claim(key, commandId),
          };
        },
        onUniqueViolation: () => new Error("key: taken"),
      });
    // Refused by its plan (the stream has the first run's event).
    const planned = holdAfterFirstLookup(store);
    const retry = run(planned.store, true);
    await planned.looked;
    const first = await run(store, true);
    planned.release();
    expect(await retry).toEqual({ result: first.result, replayed: true, attempts: 0 });
    expect(await store.streamVersion(stream)).toBe(1);
  });

  it("plans again when a stream it only read changed after the read", async () => {
    const [written, read] = [id("written"), id("read")];
    await store.append(read, "no_stream", [event("Opened")]);
    const seen: number[] = [];
    const { result, attempts } = await runMultiStreamCommand(store, {
      commandId: id("cmd"),
      payload: {},
      plan: async () => {
        const version = await store.streamVersion(read);
        seen.push(version);
        // Another writer moves the read stream between the first read and its append.
        if (seen.length === 1) await store.append(read, 1, [event("Changed")]);
        return {
          appends: [
            { streamId: written, expected: "any", events: [event("Done", { readAt: version })] },
            { streamId: read, expected: version, events: [] },
          ],
          result: version,
        };
      },
    });
    expect(seen).toEqual([1, 2]);
    expect({ result, attempts }).toEqual({ result: 2, attempts: 2 });
    expect((await store.readStream(written)).map((e) => e.data)).toEqual([{ readAt: 2 }]);
  });

  it("gives up after maxAttempts lost races with CommandRetriesExhausted; nothing written", async () => {
    const [written, read, commandId] = [id("written"), id("read"), id("cmd")];
    let plans = 0;
    const err = await runMultiStreamCommand(store, {
      commandId,
      payload: {},
      maxAttempts: 3,
      plan: async () => {
        plans++;
        const version = await store.streamVersion(read);
        await store.append(read, "any", [event("Changed")]);
        return {
          appends: [
            { streamId: written, expected: "any", events: [event("Done")] },
            { streamId: read, expected: version, events: [] },
          ],
          result: null,
        };
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandRetriesExhausted);
    expect(err).toMatchObject({ commandId, attempts: 3 });
    expect((err as CommandRetriesExhausted).cause).toBeInstanceOf(WrongExpectedVersion);
    expect((err as Error).message).toContain("on each of 3 attempts");
    expect(plans).toBe(3);
    expect(await store.streamVersion(written)).toBe(0);
    expect(await store.findCommand(commandId)).toBeUndefined();
  });

  it("a unique violation in alsoWrite plans again when told to retry", async () => {
    const [stream, commandId, taken, free] = [id("s"), id("cmd"), id("key"), id("key")];
    let plans = 0;
    const out = await runMultiStreamCommand(store, {
      commandId,
      payload: {},
      onUniqueViolation: () => "retry",
      plan: async () => {
        plans++;
        // The first plan reads the key as free; a concurrent command claims it before the append.
        if (plans === 1) await takeKey(taken);
        const key = plans === 1 ? taken : free;
        return {
          appends: [{ streamId: stream, expected: "any", events: [event("Claimed", { key })] }],
          result: key,
          alsoWrite: claim(key, commandId),
        };
      },
    });
    expect(out).toMatchObject({ result: free, replayed: false, attempts: 2 });
    expect(await claimOf(taken)).toBe("other");
    expect(await claimOf(free)).toBe(commandId);
    expect((await store.readStream(stream)).map((e) => e.data)).toEqual([{ key: free }]);
  });

  it("a unique violation in alsoWrite throws the refusal it maps to, or itself without a mapping", async () => {
    const [stream, key] = [id("s"), id("key")];
    await takeKey(key);
    const plan = async () => ({
      appends: [{ streamId: stream, expected: "any" as const, events: [event("Claimed")] }],
      result: null,
      alsoWrite: claim(key, "mine"),
    });
    const refusal = new Error("key: already claimed");
    const mapped = runMultiStreamCommand(store, {
      commandId: id("cmd"),
      payload: {},
      plan,
      onUniqueViolation: (err) =>
        err.constraint === "multi_stream_claims_pkey" ? refusal : new Error("unexpected"),
    });
    await expect(mapped).rejects.toBe(refusal);
    const raw = runMultiStreamCommand(store, { commandId: id("cmd"), payload: {}, plan });
    await expect(raw).rejects.toMatchObject({ code: "23505" });
    expect(await store.streamVersion(stream)).toBe(0);
  });

  it("alsoWrite runs in the append's transaction, with the stamped events: what it throws rolls both back", async () => {
    for (const count of [1, COPY_APPEND_MIN_EVENTS]) {
      const [stream, key, commandId] = [id("s"), id("key"), id("cmd")];
      const events = Array.from({ length: count }, (_, i) => event("Counted", { i }));
      let given: NewEvent[] = [];
      const plan = (fail: boolean) => async () => ({
        appends: [{ streamId: stream, expected: "no_stream" as const, events }],
        result: count,
        alsoWrite: async (client: pg.PoolClient, appended: NewEvent[]) => {
          given = appended;
          await claim(key, commandId)(client);
          if (fail) throw new Error("read model: broken");
        },
      });
      const failed = runMultiStreamCommand(store, {
        commandId,
        payload: { count },
        metadata: { commandId },
        plan: plan(true),
      });
      await expect(failed).rejects.toThrow("read model: broken");
      expect(await claimOf(key)).toBeUndefined();
      expect(await store.streamVersion(stream)).toBe(0);
      expect(await store.findCommand(commandId)).toBeUndefined();

      const ok = await runMultiStreamCommand(store, {
        commandId,
        payload: { count },
        metadata: { commandId },
        plan: plan(false),
      });
      expect(ok).toMatchObject({ result: count, replayed: false });
      expect(given).toHaveLength(count);
      expect(given[0]!.metadata).toEqual({ commandId });
      expect(await claimOf(key)).toBe(commandId);
      expect(await store.streamVersion(stream)).toBe(count);
    }
  });

  it("does not run alsoWrite when a concurrent run of the same command won (replayed)", async () => {
    const [stream, commandId] = [id("s"), id("cmd")];
    let alsoWrites = 0;
    const out = await runMultiStreamCommand(store, {
      commandId,
      payload: { p: 1 },
      plan: async () => {
        // The same command, run elsewhere, commits between this one's lookup and its append.
        await store.appendCommand({ commandId, payload: { p: 1 }, result: "theirs" }, [
          { streamId: id("other"), expected: "any", events: [event("Done")] },
        ]);
        return {
          appends: [{ streamId: stream, expected: "any", events: [event("Done")] }],
          result: "mine",
          alsoWrite: async () => {
            alsoWrites++;
          },
        };
      },
    });
    expect(out).toMatchObject({ result: "theirs", replayed: true });
    expect(alsoWrites).toBe(0);
    expect(await store.streamVersion(stream)).toBe(0);
  });

  it("with no events: records the command by default, writes nothing with whenNoEvents skip", async () => {
    const read = id("read");
    const plan = async () => ({
      appends: [{ streamId: read, expected: 0, events: [] as NewEvent[] }],
      result: "nothing to do",
    });
    const [recorded, skipped] = [id("cmd"), id("cmd")];
    await runMultiStreamCommand(store, { commandId: recorded, payload: {}, plan });
    expect(await store.findCommand(recorded)).toMatchObject({ result: "nothing to do" });
    const out = await runMultiStreamCommand(store, {
      commandId: skipped,
      payload: {},
      plan,
      whenNoEvents: "skip",
    });
    expect(out).toEqual({ result: "nothing to do", replayed: false, attempts: 1 });
    expect(await store.findCommand(skipped)).toBeUndefined();
  });
});
