import { setTimeout as sleep } from "node:timers/promises";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WrongExpectedVersion } from "./errors.js";
import { type EventStore, READ_ALL_SQL } from "./event-store.js";
import type { RecordedEvent, StreamAppend } from "./event-types.js";
import { readAfterPosition } from "./test-support/naive-reader.js";
import { pick, seededRandom } from "./test-support/random.js";
import { openStore } from "./test-support/store.js";

const env = useTestEnvironment({ label: "es_ordering" });
let store: EventStore;

const WRITERS = 16;
const OPS_PER_WRITER = 20;
const STREAMS = Array.from({ length: 10 }, (_, i) => `journal-${i}`);
const SEED = Number(process.env.EVENTSTORE_TEST_SEED ?? 20261128);

beforeAll(async () => {
  store = await openStore(env.databaseUrl, { max: WRITERS + 4 });
});
afterAll(async () => {
  await store?.close();
});

interface Outcome {
  committed: Set<string>;
  aborted: Set<string>;
  conflicts: number;
  held: number;
  multi: number;
  commands: number;
}

/**
 * 16 writers on 10 overlapping streams: single appends, multi-stream appends in random
 * (crossing) stream order, exact-version appends that may conflict (some with a command
 * record), transactions held open with pg_sleep while others commit, and rolled-back ones.
 * Writer 0 starts with a long hold so that every run has late commits below positions
 * already committed.
 */
async function runWriters(random: () => number): Promise<Outcome> {
  const out: Outcome = {
    committed: new Set(),
    aborted: new Set(),
    conflicts: 0,
    held: 0,
    multi: 0,
    commands: 0,
  };
  const plan = (w: number, op: number): StreamAppend[] => {
    const streams = pick(random, STREAMS, random() < 0.3 ? 2 + Math.floor(random() * 2) : 1);
    return streams.map((streamId) => ({
      streamId,
      expected: "any" as const,
      events: Array.from({ length: 1 + Math.floor(random() * 3) }, (_, k) => ({
        type: "MarkRecorded",
        data: { writer: w, op, k, pad: "x".repeat(200) },
        eventId: crypto.randomUUID(),
      })),
    }));
  };
  const ids = (appends: StreamAppend[]) => appends.flatMap((a) => a.events.map((e) => e.eventId!));

  const writer = async (w: number) => {
    for (let op = 0; op < OPS_PER_WRITER; op++) {
      const appends = plan(w, op);
      if (appends.length > 1) out.multi++;
      const roll = random();
      const holdMs = w === 0 && op === 0 ? 600 : roll < 0.12 ? 50 + Math.floor(random() * 200) : 0;
      const rollback = roll >= 0.12 && roll < 0.17;
      const exact = roll >= 0.17 && roll < 0.35;
      if (holdMs > 0 || rollback) {
        const client = await store.pool.connect();
        try {
          await client.query("BEGIN");
          await store.appendMany(appends, { client });
          if (holdMs > 0) {
            out.held++;
            await client.query("SELECT pg_sleep($1)", [holdMs / 1000]);
          }
          if (rollback) {
            await client.query("ROLLBACK");
            for (const id of ids(appends)) out.aborted.add(id);
          } else {
            await client.query("COMMIT");
            for (const id of ids(appends)) out.committed.add(id);
          }
        } finally {
          client.release();
        }
      } else if (exact) {
        const withVersions: StreamAppend[] = [];
        for (const a of appends) {
          withVersions.push({ ...a, expected: await store.streamVersion(a.streamId) });
        }
        try {
          // Half of the one-stream ones with a command record (its own plain statement).
          if (withVersions.length === 1 && op % 2 === 0) {
            const commandId = crypto.randomUUID();
            await store.appendCommand({ commandId, payload: {}, result: null }, withVersions);
            out.commands++;
          } else {
            await store.appendMany(withVersions);
          }
          for (const id of ids(appends)) out.committed.add(id);
        } catch (err) {
          if (!(err instanceof WrongExpectedVersion)) throw err;
          out.conflicts++;
        }
      } else {
        await store.appendMany(appends);
        for (const id of ids(appends)) out.committed.add(id);
      }
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
  return out;
}

describe("readAll under concurrent writers", () => {
  it("delivers every committed event exactly once, each stream in version order; a position-order reader skips", async () => {
    const random = seededRandom(SEED);
    const stop = new AbortController();
    const tailed: RecordedEvent[] = [];
    const tailing = (async () => {
      for await (const e of store.tail({
        batchSize: 200,
        pollIntervalMs: 5,
        signal: stop.signal,
      })) {
        tailed.push(e);
      }
    })();
    const naiveSeen: string[] = [];
    const naive = (async () => {
      let after = 0;
      while (!stop.signal.aborted) {
        const rows = await readAfterPosition(store.pool, after, 500);
        for (const r of rows) naiveSeen.push(r.eventId);
        if (rows.length > 0) after = rows.at(-1)!.position;
        else await sleep(2);
      }
    })();

    const outcome = await runWriters(random);
    const deadline = Date.now() + 20_000;
    while (tailed.length < outcome.committed.size && Date.now() < deadline) await sleep(20);
    await sleep(200); // a reader that over-delivers would show it here
    stop.abort();
    await Promise.all([tailing, naive]);

    // The scenario really had what it claims.
    expect(outcome.held).toBeGreaterThanOrEqual(5);
    expect(outcome.multi).toBeGreaterThanOrEqual(20);
    expect(outcome.aborted.size).toBeGreaterThan(0);
    expect(outcome.conflicts).toBeGreaterThan(0);
    expect(outcome.commands).toBeGreaterThan(0);

    // Exactly once: no duplicates, nothing missing, nothing rolled back.
    const tailedIds = tailed.map((e) => e.eventId);
    expect(new Set(tailedIds).size).toBe(tailedIds.length);
    expect(new Set(tailedIds)).toEqual(outcome.committed);

    // Each stream in version order 1, 2, 3, ... as delivered.
    const lastVersion = new Map<string, number>();
    for (const e of tailed) {
      expect(e.version, `stream ${e.streamId}`).toBe((lastVersion.get(e.streamId) ?? 0) + 1);
      lastVersion.set(e.streamId, e.version);
    }
    for (const s of STREAMS) expect(lastVersion.get(s) ?? 0).toBe(await store.streamVersion(s));

    // Checkpoints only move forward.
    for (let i = 1; i < tailed.length; i++) {
      const [a, b] = [tailed[i - 1]!, tailed[i]!];
      const forward =
        BigInt(b.transactionId) > BigInt(a.transactionId) ||
        (b.transactionId === a.transactionId && b.position > a.position);
      expect(forward).toBe(true);
    }

    // The negative check: the same run read by position misses late commits.
    const naiveSet = new Set(naiveSeen);
    const missed = [...outcome.committed].filter((id) => !naiveSet.has(id));
    expect(missed.length).toBeGreaterThan(0);
    for (const id of naiveSet) expect(outcome.committed.has(id)).toBe(true);
  });

  it("a reader resuming from a stored checkpoint gets the same log, each event once", async () => {
    // Events below xmin never change, so a later paged read must reproduce this read as a prefix.
    const all = (await store.readAll(undefined, 100_000)).events;
    expect(all.length).toBeGreaterThan(100);
    const paged: RecordedEvent[] = [];
    let cp = (await store.readAll(undefined, 1)).checkpoint;
    paged.push(all[0]!);
    while (paged.length < all.length) {
      const page = await store.readAll(cp, 97);
      expect(page.events.length).toBeGreaterThan(0);
      paged.push(...page.events);
      cp = page.checkpoint;
    }
    expect(paged.slice(0, all.length).map((e) => e.eventId)).toEqual(all.map((e) => e.eventId));
  });

  it("reads the log straight from the (xid8, position) index, never sorting xids as text", async () => {
    const client = await store.pool.connect();
    try {
      // With sorting penalised, a query whose ORDER BY matches the index needs no Sort node.
      await client.query("SET enable_sort = off");
      const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${READ_ALL_SQL}`, ["0", 0, 1000]);
      const plan = JSON.stringify(rows[0]);
      expect(plan).toContain("events_log_order");
      expect(plan).not.toMatch(/"Node Type":\s*"Sort"/);
    } finally {
      client.release(true);
    }
  });
});
