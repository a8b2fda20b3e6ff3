import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WrongExpectedVersion } from "./errors.js";
import type { EventStore } from "./event-store.js";
import type { RecordedEvent, StreamAppend, StreamVersion } from "./event-types.js";
import { openStore, readAllSettled } from "./test-support/store.js";

const env = useTestEnvironment({ label: "es_bulk" });
let store: EventStore;

beforeAll(async () => {
  store = await openStore(env.databaseUrl, { max: 12 });
});
afterAll(async () => {
  await store?.close();
});

const appendsFor = (prefix: string, streams: number, perStream: number): StreamAppend[] =>
  Array.from({ length: streams }, (_, s) => ({
    streamId: `${prefix}-${s}`,
    expected: "any" as const,
    events: Array.from({ length: perStream }, (_, k) => ({
      type: "PupilImported",
      data: { s, k, name: 'tab\there, newline\nthere, back\\slash, quote"' },
      metadata: { correlationId: `import-${prefix}` },
    })),
  }));

describe("bulk append", () => {
  it("imports many streams in committed chunks, exactly as the events were given", async () => {
    const committed: StreamVersion[][] = [];
    const r = await store.appendBulk(appendsFor("imp", 300, 10), {
      chunkEvents: 1000,
      onChunkCommitted: (s) => {
        committed.push(s);
      },
    });
    expect(r).toMatchObject({ chunks: 3, events: 3000 });
    expect(committed.map((c) => c.length)).toEqual([100, 100, 100]);
    const events = await store.readStream("imp-7");
    expect(events.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(events[3]!.data).toEqual({
      s: 7,
      k: 3,
      name: 'tab\there, newline\nthere, back\\slash, quote"',
    });
    expect(events[3]!.metadata).toEqual({ correlationId: "import-imp" });
    expect(await store.streamVersion("imp-299")).toBe(10);
    // Each chunk is one transaction.
    const { rows } = await store.pool.query<{ n: string }>(
      "SELECT count(DISTINCT transaction_id) AS n FROM eventstore.events WHERE stream_id LIKE 'imp-%'",
    );
    expect(Number(rows[0]!.n)).toBe(3);
  });

  it("checks expected versions per chunk; a failing chunk writes nothing, earlier ones stay", async () => {
    await store.append("chk-5", "no_stream", [{ type: "X", data: {} }]);
    const appends = appendsFor("chk", 10, 2).map((a, i) => ({
      ...a,
      expected: i === 5 ? ("no_stream" as const) : ("any" as const),
    }));
    const err = await store.appendBulk(appends, { chunkEvents: 8 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WrongExpectedVersion);
    expect(err).toMatchObject({ streamId: "chk-5", actualVersion: 1 });
    expect(await store.streamVersion("chk-3")).toBe(2); // chunk 1 (streams 0-3) committed
    expect(await store.streamVersion("chk-4")).toBe(0); // chunk 2 (streams 4-7) rolled back
    expect(await store.streamVersion("chk-5")).toBe(1);
  });

  it("keeps readAll's guarantees while bulk chunks and single appends interleave", async () => {
    const before = await readAllSettled(store);
    const stop = new AbortController();
    const tailed: RecordedEvent[] = [];
    const tailing = (async () => {
      for await (const e of store.tail({
        after: before.checkpoint,
        pollIntervalMs: 5,
        signal: stop.signal,
      })) {
        tailed.push(e);
      }
    })();
    const shared = Array.from({ length: 6 }, (_, i) => `mix-${i}`);
    const bulk = Promise.all(
      [0, 1, 2].map((b) =>
        store.appendBulk(
          shared.map((streamId) => ({
            streamId,
            expected: "any" as const,
            events: Array.from({ length: 50 }, (_, k) => ({ type: "B", data: { b, k } })),
          })),
          { chunkEvents: 100 },
        ),
      ),
    );
    const singles = Promise.all(
      Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; i < 25; i++) {
          await store.append(shared[(w + i) % shared.length]!, "any", [
            { type: "S", data: { w, i } },
          ]);
        }
      }),
    );
    await Promise.all([bulk, singles]);
    const expected = 3 * 6 * 50 + 4 * 25;
    const deadline = Date.now() + 20_000;
    while (tailed.length < expected && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    stop.abort();
    await tailing;
    expect(tailed).toHaveLength(expected);
    const last = new Map<string, number>();
    for (const e of tailed) {
      expect(e.version).toBe((last.get(e.streamId) ?? 0) + 1);
      last.set(e.streamId, e.version);
    }
    for (const s of shared) expect(last.get(s)).toBe(await store.streamVersion(s));
  });
  it("an event that cannot be serialised fails its chunk mid-COPY: nothing of it is written, the pool stays usable", async () => {
    const appends = appendsFor("ser", 4, 3);
    appends[2]!.events[1]!.data = { amount: 10n }; // JSON.stringify throws on a bigint
    const failed = await store.appendBulk(appends, { chunkEvents: 6 }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failed).toBeInstanceOf(TypeError);
    // The first chunk (streams 0-1) committed; the second (2-3) rolled back as a whole.
    expect(await store.streamVersion("ser-1")).toBe(3);
    expect(await store.streamVersion("ser-2")).toBe(0);
    expect(await store.streamVersion("ser-3")).toBe(0);
    for (let i = 0; i < 12; i++) {
      await store.append(`ser-after-${i}`, "no_stream", [{ type: "X", data: { i } }]);
    }
    expect(await store.streamVersion("ser-after-11")).toBe(1);
  });
});
