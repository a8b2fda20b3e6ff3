/**
 * npm run bench:projections — @otmetka/projections against raw baselines in the same run:
 *  - live projection (ProjectionRunner: inbox + read model + checkpoint per batch, then acks)
 *    into a per-stream counter read model, against the slower of a raw nats.js durable
 *    consume with explicit ack and the same inbox + read-model rows written by batched INSERTs;
 *  - rebuild of that read model from 1,000,000 events against an ordered-consumer read of the
 *    same messages alone;
 *  - commit → change notice latency (p99) at 500 events/s: EventStore.append commits, the
 *    outbox relay publishes, the runner applies and publishes the notice.
 * Creates its own database and NATS prefix and removes them after.
 * Knobs: BENCH_RUNS (3), BENCH_LIVE_EVENTS (50000), BENCH_REBUILD_EVENTS (1000000),
 * BENCH_LATENCY_SECONDS (10), BENCH_ONLY (live | rebuild | latency), DATABASE_URL, NATS_URL.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { EventStore, migrateEventStoreDatabase, type RecordedEvent } from "@otmetka/eventstore";
import {
  ensureStream,
  type MessagingNames,
  messagingNames,
  OutboxRelay,
  toMessage,
} from "@otmetka/messaging";
import {
  type ChangeNotice,
  defineProjection,
  type Projection,
  ProjectionRunner,
  rebuildProjection,
  sourceFilter,
} from "@otmetka/projections";
import pg from "pg";
import {
  BenchScratch,
  benchLog,
  knob,
  NATS_URL,
  postgresVersion,
  report,
} from "./lib/bench-env.js";
import { atFixedRate } from "./lib/fixed-rate.js";
import { markPayload, syntheticMarkRecorded } from "./lib/mark-payload.js";
import {
  baselineFigure,
  type Figure,
  figure,
  figureAndBaseline,
  machine,
  withEarlierFigures,
} from "./lib/results.js";
import { nearestRank } from "./lib/stats.js";

const RUNS = knob("BENCH_RUNS", 3);
const LIVE_EVENTS = knob("BENCH_LIVE_EVENTS", 50_000);
const REBUILD_EVENTS = knob("BENCH_REBUILD_EVENTS", 1_000_000);
const LATENCY_SECONDS = knob("BENCH_LATENCY_SECONDS", 10);
/** One part only, for trying things: live | rebuild | latency. */
const ONLY = process.env.BENCH_ONLY ?? "";
const REBUILD_BATCH = knob("BENCH_REBUILD_BATCH", 10_000);
const RATE = 500;
const STREAMS = 500;
const MAX_BATCH = 1000;

const log = benchLog("projections");

// The mark payload without its comment, as this bench has always measured.
const payload = (i: number) => markPayload(i, { comment: false });

const fakeEvent = (i: number): RecordedEvent =>
  syntheticMarkRecorded(i, STREAMS, {
    eventId: randomUUID(),
    data: payload(i),
    metadata: { correlationId: randomUUID() },
  });

/** The simple read model: events per aggregate stream, one upsert per batch. */
function countsProjection(name: string, context: string): Projection<Map<string, number>> {
  return defineProjection<Map<string, number>>({
    name,
    version: 1,
    sources: [{ context }],
    async setup(db) {
      await db.schema
        .createTable("counts")
        .addColumn("stream_id", "text", (c) => c.primaryKey())
        .addColumn("events", "integer", (c) => c.notNull())
        .execute();
    },
    createScratch: () => new Map(),
    apply(e, ctx) {
      ctx.scratch.set(e.streamId, (ctx.scratch.get(e.streamId) ?? 0) + 1);
    },
    async flush(ctx) {
      if (ctx.scratch.size === 0) return;
      await ctx.query(
        `INSERT INTO ${ctx.schema}.counts AS c (stream_id, events)
         SELECT * FROM unnest($1::text[], $2::int[])
         ON CONFLICT (stream_id) DO UPDATE SET events = c.events + excluded.events`,
        [[...ctx.scratch.keys()], [...ctx.scratch.values()]],
      );
    },
  });
}

/** Publishes `count` events (generated in chunks) to a context stream, many in flight. */
async function fillStream(
  nc: NatsConnection,
  names: MessagingNames,
  context: string,
  count: number,
  keep = false,
): Promise<RecordedEvent[]> {
  const js = jetstream(nc);
  const routing = { subjectRoot: names.eventRoot(context), source: context };
  const kept: RecordedEvent[] = [];
  let pending: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const e = fakeEvent(i);
    if (keep) kept.push(e);
    const m = toMessage(e, routing);
    pending.push(js.publish(m.subject, m.payload, { headers: m.headers }));
    if (pending.length >= 512) {
      await Promise.all(pending);
      pending = [];
    }
    if (i > 0 && i % 200_000 === 0) log(`  ${i} published`);
  }
  await Promise.all(pending);
  return kept;
}

async function liveRate(
  nc: NatsConnection,
  pool: pg.Pool,
  names: MessagingNames,
  run: number,
): Promise<number> {
  const runner = await new ProjectionRunner({
    projection: countsProjection(`bench_live_${run}`, "grades"),
    pool,
    nc,
    names,
    maxBatch: MAX_BATCH,
  }).start();
  // Timed from the moment it consumes (schema creation, lock and consumer set-up excluded,
  // as the raw consumer's creation is): steady-state throughput.
  const began = performance.now();
  while (runner.counters.applied < LIVE_EVENTS) await sleep(5);
  const seconds = (performance.now() - began) / 1000;
  await runner.stop();
  log(
    `  runner: ${runner.counters.batches} batches, ${Math.round(LIVE_EVENTS / runner.counters.batches)} events per batch, ${Math.round(runner.counters.transactionMs)} ms in transactions`,
  );
  return LIVE_EVENTS / seconds;
}

async function rawConsumeRate(
  nc: NatsConnection,
  jsm: JetStreamManager,
  names: MessagingNames,
  run: number,
): Promise<number> {
  const stream = names.contextStream("grades").name;
  const durable = `raw-consume-${run}`;
  await jsm.consumers.add(stream, {
    durable_name: durable,
    filter_subject: sourceFilter(names, "grades"),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: MAX_BATCH * 4,
  });
  const began = performance.now();
  const consumer = await jetstream(nc).consumers.get(stream, durable);
  const messages = await consumer.consume({ max_messages: MAX_BATCH });
  let n = 0;
  for await (const m of messages) {
    m.ack();
    if (++n === LIVE_EVENTS) break;
  }
  const seconds = (performance.now() - began) / 1000;
  messages.stop();
  await jsm.consumers.delete(stream, durable);
  return LIVE_EVENTS / seconds;
}

/** The same inbox rows, read-model upserts and checkpoint updates, in batches of MAX_BATCH. */
async function rawInsertRate(pool: pg.Pool, events: RecordedEvent[], run: number): Promise<number> {
  const s = `raw_${run}`;
  await pool.query(`CREATE SCHEMA ${s}`);
  await pool.query(`CREATE TABLE ${s}._inbox (event_id text PRIMARY KEY)`);
  await pool.query(
    `CREATE TABLE ${s}.counts (stream_id text PRIMARY KEY, events integer NOT NULL)`,
  );
  await pool.query(
    `CREATE TABLE ${s}._checkpoint (source text PRIMARY KEY, seq bigint NOT NULL, updated_at timestamptz)`,
  );
  await pool.query(`INSERT INTO ${s}._checkpoint VALUES ('grades', 0, now())`);
  const client = await pool.connect();
  const began = performance.now();
  try {
    for (let i = 0; i < events.length; i += MAX_BATCH) {
      const batch = events.slice(i, i + MAX_BATCH);
      const counts = new Map<string, number>();
      for (const e of batch) counts.set(e.streamId, (counts.get(e.streamId) ?? 0) + 1);
      await client.query("BEGIN");
      await client.query(
        `INSERT INTO ${s}._inbox (event_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING RETURNING event_id`,
        [batch.map((e) => e.eventId)],
      );
      await client.query(
        `INSERT INTO ${s}.counts AS c (stream_id, events) SELECT * FROM unnest($1::text[], $2::int[])
         ON CONFLICT (stream_id) DO UPDATE SET events = c.events + excluded.events`,
        [[...counts.keys()], [...counts.values()]],
      );
      await client.query(
        `UPDATE ${s}._checkpoint SET seq = $1, updated_at = now() WHERE source = 'grades'`,
        [i + batch.length],
      );
      await client.query("COMMIT");
    }
  } finally {
    client.release();
  }
  return events.length / ((performance.now() - began) / 1000);
}

async function rebuildRate(
  nc: NatsConnection,
  pool: pg.Pool,
  names: MessagingNames,
): Promise<number> {
  const r = await rebuildProjection({
    projection: countsProjection("bench_rebuild", "curriculum"),
    pool,
    nc,
    names,
    batchSize: REBUILD_BATCH,
  });
  log(`  rebuild ${r.durationMs} ms: transactions ${r.applyMs} ms, decoding ${r.decodeMs} ms`);
  if (r.events !== REBUILD_EVENTS)
    throw new Error(`rebuild applied ${r.events} of ${REBUILD_EVENTS}`);
  return REBUILD_EVENTS / (r.durationMs / 1000);
}

async function orderedReadRate(nc: NatsConnection, names: MessagingNames): Promise<number> {
  const began = performance.now();
  const consumer = await jetstream(nc).consumers.get(names.contextStream("curriculum").name, {
    filter_subjects: sourceFilter(names, "curriculum"),
    deliver_policy: DeliverPolicy.All,
  });
  const messages = await consumer.consume({ max_messages: 10_000 });
  let n = 0;
  for await (const _ of messages) if (++n === REBUILD_EVENTS) break;
  const seconds = (performance.now() - began) / 1000;
  messages.stop();
  return REBUILD_EVENTS / seconds;
}

/** p99 of EventStore.append returning → notice received, at RATE events/s, each event its own item. */
async function noticeLatencyP99(
  nc: NatsConnection,
  store: EventStore,
  databaseUrl: string,
  pool: pg.Pool,
  names: MessagingNames,
  run: number,
): Promise<{ endToEnd: number; fromBatchCommit: number }> {
  const context = `notice${run}`;
  await ensureStream(await jetstreamManager(nc), names.contextStream(context));
  const relay = new OutboxRelay({
    nc,
    log: store,
    stream: names.contextStream(context).name,
    databaseUrl,
    subjectRoot: names.eventRoot(context),
    source: context,
  }).start();
  // The simple read model (one upsert per batch), announcing each changed stream.
  const counts = countsProjection(`bench_notice_${run}`, context);
  const projection = defineProjection({
    ...counts,
    noticeContext: "reporting",
    apply(e, ctx) {
      counts.apply(e, ctx);
      ctx.changed("stream", e.streamId);
    },
  });
  const committed = new Map<string, number>();
  const latencies: number[] = [];
  const fromBatch: number[] = [];
  const batchCommitted = new Map<number, number>();
  const sub = nc.subscribe(`${names.eventRoot("reporting")}.changed.stream.>`, {
    callback: (_e, m) => {
      const at = performance.now();
      const n = m.json<ChangeNotice>();
      const t = committed.get(n.id);
      if (t !== undefined) latencies.push(at - t);
      const b = batchCommitted.get(n.checkpoints[context] ?? -1);
      if (process.env.BENCH_DEBUG && Math.random() < 0.01)
        log(
          `notice ${JSON.stringify(n)} batches ${[...batchCommitted.keys()].slice(-3)} e2e ${t === undefined ? "?" : (at - t).toFixed(1)}`,
        );
      if (b !== undefined) fromBatch.push(at - b);
    },
  });
  const runner = await new ProjectionRunner({
    projection,
    pool,
    nc,
    names,
    maxBatch: MAX_BATCH,
    afterCommit: (b) => {
      batchCommitted.set(b.checkpoints.get(context) ?? -1, performance.now());
    },
  }).start();
  const total = RATE * LATENCY_SECONDS;
  await atFixedRate(RATE, total, async (i) => {
    const streamId = `lat-${run}-${i}`;
    await store.append(streamId, "no_stream", [
      { type: `${context}.v1.MarkRecorded`, data: payload(i) },
    ]);
    committed.set(streamId, performance.now());
  });
  const deadline = Date.now() + 30_000;
  while (latencies.length < total && Date.now() < deadline) await sleep(50);
  sub.unsubscribe();
  await runner.stop();
  await relay.stop();
  if (latencies.length < total)
    throw new Error(`only ${latencies.length} of ${total} notices arrived`);
  return {
    endToEnd: nearestRank(latencies, 0.99),
    fromBatchCommit: nearestRank(fromBatch, 0.99),
  };
}

async function main(): Promise<void> {
  const began = performance.now();
  const scratch = new BenchScratch();
  const prefix = scratch.natsPrefix();
  const names = messagingNames(prefix);
  const nc = await connect({ servers: NATS_URL });
  const figures: Figure[] = [];
  let postgres = "unknown";
  try {
    const jsm = await jetstreamManager(nc);
    const db = await scratch.database("bench_projections");
    const pool = new pg.Pool({ connectionString: db.url, max: 6 });
    postgres = await postgresVersion(pool);

    // 1. Live projection against its raw parts.
    if (ONLY === "" || ONLY === "live") {
      await ensureStream(jsm, names.contextStream("grades"));
      log(`filling a stream with ${LIVE_EVENTS} events`);
      const liveEvents = await fillStream(nc, names, "grades", LIVE_EVENTS, true);
      const live: number[] = [];
      const rawConsume: number[] = [];
      const rawInsert: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        live.push(await liveRate(nc, pool, names, run));
        rawConsume.push(await rawConsumeRate(nc, jsm, names, run));
        rawInsert.push(await rawInsertRate(pool, liveEvents, run));
        log(
          `live run ${run + 1}: runner ${Math.round(live.at(-1)!)}/s, raw consume+ack ${Math.round(rawConsume.at(-1)!)}/s, raw batched INSERTs ${Math.round(rawInsert.at(-1)!)}/s`,
        );
      }
      // The slower of the two raw parts, run by run.
      const slower = rawConsume.map((c, i) => Math.min(c, rawInsert[i]!));
      const liveNote = `${LIVE_EVENTS} events over ${STREAMS} streams, batches up to ${MAX_BATCH}`;
      figures.push(
        ...figureAndBaseline({
          id: "live_projection",
          unit: "events/s",
          runs: live,
          baseline: { id: "raw_slower_of_consume_and_insert", runs: slower },
          goal: 0.5,
          note: liveNote,
        }),
        baselineFigure("raw_js_consume_ack", "events/s", rawConsume, liveNote),
        baselineFigure("raw_batched_inserts", "events/s", rawInsert, liveNote),
      );
    }
    // 2. Rebuild from REBUILD_EVENTS against an ordered read of the same messages.
    if (ONLY === "" || ONLY === "rebuild") {
      await ensureStream(jsm, names.contextStream("curriculum"));
      log(`filling a stream with ${REBUILD_EVENTS} events`);
      await fillStream(nc, names, "curriculum", REBUILD_EVENTS);
      const rebuild: number[] = [];
      const ordered: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        ordered.push(await orderedReadRate(nc, names));
        rebuild.push(await rebuildRate(nc, pool, names));
        log(
          `rebuild run ${run + 1}: rebuild ${Math.round(rebuild.at(-1)!)}/s, ordered read ${Math.round(ordered.at(-1)!)}/s`,
        );
      }
      const rebuildNote = `${REBUILD_EVENTS} events, batches of ${REBUILD_BATCH}, swap included`;
      figures.push(
        ...figureAndBaseline({
          id: "rebuild_1m",
          unit: "events/s",
          runs: rebuild,
          baseline: { id: "raw_ordered_read", runs: ordered },
          goal: 0.4,
          note: rebuildNote,
        }),
      );
      await jsm.streams.delete(names.contextStream("curriculum").name);
    }
    if (ONLY === "" || ONLY === "latency") {
      // 3. Commit → notice latency, the whole way: append, relay, runner, notice.
      const fromBatch: number[] = [];
      const endToEnd: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        // A fresh log per run: the relay publishes the whole log, earlier runs' events included.
        const logDb = await scratch.database(`bench_projections_log${run}`);
        await migrateEventStoreDatabase(logDb.url);
        const store = EventStore.connect({ connectionString: logDb.url, max: 8 });
        const v = await noticeLatencyP99(nc, store, logDb.url, pool, names, run).finally(
          async () => {
            await store.close();
            await logDb.drop().catch(() => {});
          },
        );
        fromBatch.push(v.fromBatchCommit);
        endToEnd.push(v.endToEnd);
        log(
          `latency run ${run + 1}: p99 read-model commit → notice ${v.fromBatchCommit.toFixed(1)} ms, event append commit → notice ${v.endToEnd.toFixed(1)} ms`,
        );
      }
      figures.push(
        {
          ...figure({
            id: "commit_to_notice_p99_500_per_s",
            unit: "ms",
            runs: fromBatch,
            higherIsBetter: false,
            note: `${LATENCY_SECONDS} s at ${RATE} events/s; read-model batch commit → notice received`,
          }),
          limit: 150,
          limit_kind: "max",
        },
        figure({
          id: "append_to_notice_p99_500_per_s",
          unit: "ms",
          runs: endToEnd,
          higherIsBetter: false,
          note: "event append commit → relay → JetStream → runner commit → notice received",
        }),
      );
    }
    await pool.end();
  } finally {
    await nc.close();
    await scratch.cleanup();
  }
  report("projections", machine({ postgres }), figures, {
    began,
    runs: RUNS,
    written: withEarlierFigures("projections", figures, ONLY),
  });
}

await main();
