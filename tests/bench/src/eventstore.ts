/**
 * npm run bench:eventstore — the event store against raw pg on identical tables, in the same
 * run: single-event appends at 1/8/64 writers, the bulk path against COPY, and a replay of
 * 1,000,000 events against a keyset scan. Creates its own databases and drops them after.
 * Knobs: BENCH_RUNS (3), BENCH_APPEND_SECONDS (3), BENCH_REPLAY_EVENTS (1000000), DATABASE_URL.
 */
import { performance } from "node:perf_hooks";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  EventStore,
  migrateEventStoreDatabase,
  type NewEvent,
  newEventId,
  START,
  type StreamAppend,
} from "@otmetka/eventstore";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { BenchScratch, benchLog, knob, postgresVersion, report } from "./lib/bench-env.js";
import { MARK_METADATA, markPayload } from "./lib/mark-payload.js";
import { waitUntilReadable } from "./lib/readable-log.js";
import { type Figure, figureAndBaseline, machine } from "./lib/results.js";
import { repeat } from "./lib/stats.js";

const RUNS = knob("BENCH_RUNS", 3);
const APPEND_SECONDS = knob("BENCH_APPEND_SECONDS", 3);
const REPLAY_EVENTS = knob("BENCH_REPLAY_EVENTS", 1_000_000);
const CONCURRENCY = [1, 8, 64];
const BULK_STREAMS = 500;
const BULK_PER_STREAM = 100;
const BULK_CHUNK = 5000;
const PAGE = 1000;

const log = benchLog("eventstore");

const newEvent = (i: number): NewEvent => ({
  type: "grades.v1.MarkRecorded",
  data: markPayload(i),
  metadata: MARK_METADATA,
});

function poolFor(url: string, max: number, syncOff: boolean): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    idle_in_transaction_session_timeout: 10_000,
    ...(syncOff ? { options: "-c synchronous_commit=off" } : {}),
  });
  pool.on("error", () => {});
  return pool;
}

const RAW_INSERT =
  "INSERT INTO raw.events (stream_id, stream_version, event_id, type, schema_version, data, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7)";

const rawValues = (streamId: string, version: number) => [
  streamId,
  version + 1,
  newEventId(),
  "grades.v1.MarkRecorded",
  1,
  JSON.stringify(markPayload(version)),
  JSON.stringify(MARK_METADATA),
];

/**
 * Opens all of a pool's connections and runs both statements once on each, so that neither
 * connecting nor the first, per-connection compile of the append function is measured.
 */
async function warm(pool: pg.Pool, n: number): Promise<void> {
  const store = new EventStore({ pool });
  const clients = await Promise.all(Array.from({ length: n }, () => pool.connect()));
  await Promise.all(
    clients.map(async (client, i) => {
      await store.append(`warm-${n}-${i}-${newEventId()}`, "no_stream", [newEvent(i)], { client });
      await client.query({
        name: "raw_insert",
        text: RAW_INSERT,
        values: rawValues(`warm-${newEventId()}`, 0),
      });
    }),
  );
  for (const c of clients) c.release();
}

/** Events/s of `writers` loops, each appending one event per call to its own stream. */
async function appendRate(
  pool: pg.Pool,
  writers: number,
  kind: "store" | "raw",
  tag: string,
): Promise<number> {
  const store = new EventStore({ pool });
  let count = 0;
  const start = performance.now();
  const deadline = start + APPEND_SECONDS * 1000;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const streamId = `${tag}-${w}`;
      let version = 0;
      while (performance.now() < deadline) {
        if (kind === "store") {
          await store.append(streamId, version, [newEvent(version)]);
        } else {
          await pool.query({
            name: "raw_insert",
            text: RAW_INSERT,
            values: rawValues(streamId, version),
          });
        }
        version++;
        count++;
      }
    }),
  );
  return count / ((performance.now() - start) / 1000);
}

function bulkAppends(tag: string): StreamAppend[] {
  return Array.from({ length: BULK_STREAMS }, (_, s) => ({
    streamId: `${tag}-${s}`,
    expected: "no_stream" as const,
    events: Array.from({ length: BULK_PER_STREAM }, (_, k) => newEvent(s * BULK_PER_STREAM + k)),
  }));
}

const COPY_SPECIAL = /[\\\n\r\t]/g;
const copyText = (s: string) =>
  s.replace(COPY_SPECIAL, (c) => ({ "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" })[c]!);

/** The raw baseline of the bulk path: the same rows, COPY in chunks of the same size. */
async function rawCopyRate(pool: pg.Pool, tag: string): Promise<number> {
  const appends = bulkAppends(tag);
  const start = performance.now();
  let rows = 0;
  const client = await pool.connect();
  try {
    const perChunk = BULK_CHUNK / BULK_PER_STREAM;
    for (let c = 0; c < appends.length; c += perChunk) {
      const chunk = appends.slice(c, c + perChunk);
      const lines = function* () {
        for (const a of chunk) {
          let batch = "";
          a.events.forEach((e, k) => {
            batch += `${copyText(a.streamId)}\t${k + 1}\t${newEventId()}\t${copyText(e.type)}\t1\t${copyText(JSON.stringify(e.data))}\t${copyText(JSON.stringify(e.metadata))}\n`;
          });
          yield batch;
        }
      };
      await pipeline(
        Readable.from(lines()),
        client.query(
          copyFrom(
            "COPY raw.events (stream_id, stream_version, event_id, type, schema_version, data, metadata) FROM STDIN",
          ),
        ),
      );
      rows += chunk.length * BULK_PER_STREAM;
    }
  } finally {
    client.release();
  }
  return rows / ((performance.now() - start) / 1000);
}

async function bulkRate(pool: pg.Pool, tag: string): Promise<number> {
  const store = new EventStore({ pool });
  const appends = bulkAppends(tag);
  const start = performance.now();
  const r = await store.appendBulk(appends, { chunkEvents: BULK_CHUNK });
  return r.events / ((performance.now() - start) / 1000);
}

const REPLAY_COLUMNS =
  "position, transaction_id::text AS transaction_id, stream_id, stream_version, event_id, type, schema_version, data, metadata, recorded_at";

async function replayRate(pool: pg.Pool, kind: "store" | "raw"): Promise<number> {
  const store = new EventStore({ pool });
  let n = 0;
  const start = performance.now();
  if (kind === "store") {
    let cp = START;
    for (;;) {
      const page = await store.readAll(cp, PAGE);
      if (page.events.length === 0) break;
      n += page.events.length;
      cp = page.checkpoint;
    }
  } else {
    let after = "0";
    for (;;) {
      const { rows } = await pool.query<{ position: string }>({
        name: "raw_keyset",
        text: `SELECT ${REPLAY_COLUMNS} FROM eventstore.events WHERE position > $1 ORDER BY position LIMIT $2`,
        values: [after, PAGE],
      });
      if (rows.length === 0) break;
      n += rows.length;
      after = rows[rows.length - 1]!.position;
    }
  }
  if (n !== REPLAY_EVENTS)
    throw new Error(`replay (${kind}) read ${n} events, expected ${REPLAY_EVENTS}`);
  return n / ((performance.now() - start) / 1000);
}

async function main(): Promise<void> {
  const scratch = new BenchScratch();
  const began = performance.now();
  const figures: Figure[] = [];
  let postgres = "unknown";
  try {
    const writeDb = await scratch.database("bench_es_write");
    const replayDb = await scratch.database("bench_es_replay");
    await migrateEventStoreDatabase(writeDb.url);
    await migrateEventStoreDatabase(replayDb.url);
    const setup = new pg.Client({ connectionString: writeDb.url });
    await setup.connect();
    postgres = await postgresVersion(setup);
    await setup.query("CREATE SCHEMA raw");
    // Identical table: same columns, defaults (xid8, identity), constraints and indexes.
    await setup.query("CREATE TABLE raw.events (LIKE eventstore.events INCLUDING ALL)");
    await setup.end();

    // Appends, one event per call, each writer on its own stream.
    for (const syncOff of [false, true]) {
      const mode = syncOff ? "_sync_off" : "";
      for (const c of CONCURRENCY) {
        const pool = poolFor(writeDb.url, c, syncOff);
        await warm(pool, c);
        const ours: number[] = [];
        const raw: number[] = [];
        for (let run = 0; run < RUNS; run++) {
          ours.push(await appendRate(pool, c, "store", `a${mode}-c${c}-r${run}`));
          raw.push(await appendRate(pool, c, "raw", `r${mode}-c${c}-r${run}`));
          log(
            `append c=${c}${mode} run ${run + 1}: store ${Math.round(ours.at(-1)!)}/s, raw ${Math.round(raw.at(-1)!)}/s`,
          );
        }
        await pool.end();
        const note = syncOff ? "synchronous_commit=off" : "synchronous_commit=on";
        figures.push(
          ...figureAndBaseline({
            id: `append_c${c}${mode}`,
            unit: "events/s",
            runs: ours,
            baseline: { id: `raw_insert_c${c}${mode}`, runs: raw },
            goal: !syncOff && c >= 8 ? 0.8 : null,
            note,
          }),
        );
      }
    }

    // Bulk path against COPY, same rows and chunk size.
    for (const syncOff of [false, true]) {
      const mode = syncOff ? "_sync_off" : "";
      const pool = poolFor(writeDb.url, 2, syncOff);
      await warm(pool, 2);
      const ours: number[] = [];
      const raw: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        ours.push(await bulkRate(pool, `b${mode}-r${run}`));
        raw.push(await rawCopyRate(pool, `rc${mode}-r${run}`));
        log(
          `bulk${mode} run ${run + 1}: store ${Math.round(ours.at(-1)!)}/s, COPY ${Math.round(raw.at(-1)!)}/s`,
        );
      }
      await pool.end();
      const note = `${BULK_STREAMS} streams x ${BULK_PER_STREAM} events, ${BULK_CHUNK}/transaction; synchronous_commit=${syncOff ? "off" : "on"}`;
      figures.push(
        ...figureAndBaseline({
          id: `bulk_append${mode}`,
          unit: "events/s",
          runs: ours,
          baseline: { id: `raw_copy${mode}`, runs: raw },
          goal: syncOff ? null : 0.6,
          note,
        }),
      );
    }

    // Replay of the log, built once through the bulk path.
    const pool = poolFor(replayDb.url, 2, false);
    const store = new EventStore({ pool });
    const streams = REPLAY_EVENTS / 100;
    const built = performance.now();
    for (let s0 = 0; s0 < streams; s0 += 1000) {
      const appends: StreamAppend[] = Array.from(
        { length: Math.min(1000, streams - s0) },
        (_, s) => ({
          streamId: `replay-${s0 + s}`,
          expected: "no_stream" as const,
          events: Array.from({ length: 100 }, (_, k) => newEvent(k)),
        }),
      );
      await store.appendBulk(appends, { chunkEvents: 20_000 });
    }
    log(`built ${REPLAY_EVENTS} events in ${((performance.now() - built) / 1000).toFixed(1)} s`);
    await pool.query("VACUUM (ANALYZE) eventstore.events");
    // So that a timed replay never reads a log cut short by someone else's transaction.
    await waitUntilReadable(store, REPLAY_EVENTS);
    const ours: number[] = [];
    const raw: number[] = [];
    await repeat(RUNS, async (run) => {
      ours.push(await replayRate(pool, "store"));
      raw.push(await replayRate(pool, "raw"));
      log(
        `replay run ${run + 1}: readAll ${Math.round(ours.at(-1)!)}/s, keyset ${Math.round(raw.at(-1)!)}/s`,
      );
      return 0;
    });
    await pool.end();
    const note = `${REPLAY_EVENTS} events, pages of ${PAGE}`;
    figures.push(
      ...figureAndBaseline({
        id: "replay_read_all",
        unit: "events/s",
        runs: ours,
        baseline: { id: "raw_keyset_scan", runs: raw },
        goal: 0.7,
        note,
      }),
    );
  } finally {
    await scratch.cleanup();
  }
  report("eventstore", machine({ postgres }), figures, { began, runs: RUNS });
}

await main();
