/**
 * npm run bench:audit — identity's access-audit storage against raw COPY, in the same run.
 *
 *  - store_bulk: AuditStore.store (the consumer's write path: in-batch dedupe, partitions
 *    checked, two COPYs into the month-partitioned tables in one transaction), batches of
 *    BENCH_AUDIT_BATCH records. Baseline raw_copy: COPY of the same rows, same chunks, into
 *    plain (unpartitioned) tables with the same columns and primary keys.
 *  - store_redelivered / store_republished: the same path when every batch holds one record
 *    already stored — flagged as a redelivery (stored ids looked up first) or not (the first
 *    COPY fails on the key, then the lookup) (information, no goal).
 *  - consume_and_store: records published to the AUDIT stream, then AuditConsumer drains them
 *    into PostgreSQL: protobuf decode, validation, store, acks (information, no goal).
 * Knobs: BENCH_RUNS (3), BENCH_AUDIT_RECORDS (50000 per run), BENCH_AUDIT_BATCH (5000),
 * DATABASE_URL, NATS_URL.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { newEventId } from "@otmetka/eventstore";
import {
  AuditConsumer,
  AuditPartitions,
  type AuditRecord,
  AuditStore,
  auditNames,
  encodeAccessRecord,
  ensureAuditStream,
  migrateAuditTables,
} from "@otmetka/identity/audit";
import { createLogger, systemClock } from "@otmetka/service-kit";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import {
  BenchScratch,
  benchLog,
  knob,
  NATS_URL,
  postgresVersion,
  report,
} from "./lib/bench-env.js";
import { baselineFigure, type Figure, figure, machine } from "./lib/results.js";

const RUNS = knob("BENCH_RUNS", 3);
const RECORDS = knob("BENCH_AUDIT_RECORDS", 50_000);
const BATCH = knob("BENCH_AUDIT_BATCH", 5000);

const log = benchLog("audit");

// A request mix: 7 of 10 read one pupil (a diary, a mark's history), 3 a class of 25.
const SCHOOL = randomUUID();
const CLASS = Array.from({ length: 25 }, () => randomUUID());
const pupilsOf = (i: number) => (i % 10 < 7 ? [CLASS[i % 25]!] : CLASS);
const pupilRows = (n: number) =>
  Array.from({ length: n }, (_, i) => pupilsOf(i).length).reduce((a, b) => a + b, 0);

/** `n` records within the current month, one second apart, oldest first. */
function records(n: number): AuditRecord[] {
  const start = Date.now() - n * 1000;
  const actor = randomUUID();
  const person = randomUUID();
  return Array.from({ length: n }, (_, i) => ({
    recordId: newEventId(),
    occurredAt: new Date(start + i * 1000),
    actorAccountId: actor,
    actorPersonId: person,
    actorRole: `TEACHER@school:${SCHOOL}`,
    operation: i % 10 < 7 ? "PupilDiary" : "ClassJournal",
    correlationId: randomUUID(),
    pupilIds: pupilsOf(i),
  }));
}

function* recordLines(rs: AuditRecord[]): Generator<string> {
  let s = "";
  for (const r of rs) {
    s += `${r.recordId}\t${r.occurredAt.toISOString()}\t${r.actorAccountId}\t${r.actorPersonId}\t${r.actorRole}\t${r.operation}\t${r.correlationId}\n`;
  }
  yield s;
}
function* pupilLines(rs: AuditRecord[]): Generator<string> {
  let s = "";
  for (const r of rs) {
    const tail = `\t${r.occurredAt.toISOString()}\t${r.recordId}\n`;
    for (const p of r.pupilIds) s += p + tail;
  }
  yield s;
}

/** The baseline: the same rows COPYed, one transaction per batch, into plain tables. */
async function rawCopyRate(pool: pg.Pool, rs: AuditRecord[]): Promise<number> {
  const client = await pool.connect();
  const start = performance.now();
  try {
    for (let i = 0; i < rs.length; i += BATCH) {
      const chunk = rs.slice(i, i + BATCH);
      await client.query("BEGIN");
      await pipeline(
        Readable.from(recordLines(chunk)),
        client.query(
          copyFrom(
            "COPY raw.records (record_id, occurred_at, actor_account_id, actor_person_id, actor_role, operation, correlation_id) FROM STDIN",
          ),
        ),
      );
      await pipeline(
        Readable.from(pupilLines(chunk)),
        client.query(
          copyFrom("COPY raw.record_pupils (pupil_id, occurred_at, record_id) FROM STDIN"),
        ),
      );
      await client.query("COMMIT");
    }
  } finally {
    client.release();
  }
  return rs.length / ((performance.now() - start) / 1000);
}

async function storeRate(
  store: AuditStore,
  rs: AuditRecord[],
  redeliver?: AuditRecord[],
  mayRepeat = false,
) {
  const start = performance.now();
  let stored = 0;
  for (let i = 0, b = 0; i < rs.length; i += BATCH, b++) {
    const chunk = rs.slice(i, i + BATCH);
    // One record of an earlier batch again: the redelivery a crash before the ack causes.
    if (redeliver) chunk.push(redeliver[b % redeliver.length]!);
    stored += (await store.store(chunk, new Date(), { mayRepeat })).stored;
  }
  if (stored !== rs.length) throw new Error(`stored ${stored} of ${rs.length} records`);
  return rs.length / ((performance.now() - start) / 1000);
}

async function consumeRate(store: AuditStore, prefix: string, rs: AuditRecord[]) {
  const nc = await connect({ servers: NATS_URL });
  try {
    const names = auditNames(prefix);
    const jsm = await jetstreamManager(nc);
    await ensureAuditStream(jsm, names, 86_400_000);
    const js = jetstream(nc);
    for (let i = 0; i < rs.length; i += 1000) {
      await Promise.all(
        rs.slice(i, i + 1000).map((r) =>
          js.publish(
            names.accessSubject,
            encodeAccessRecord({
              ...r,
              actorPersonId: r.actorPersonId ?? "",
              pupilPersonIds: r.pupilIds,
            }),
            { msgID: r.recordId },
          ),
        ),
      );
    }
    const consumer = new AuditConsumer({
      nc,
      names,
      store,
      clock: systemClock,
      logger: createLogger({ service: "bench-audit", level: "warn" }),
      batchSize: BATCH,
      lingerMs: 50,
    });
    const start = performance.now();
    await consumer.start();
    const deadline = start + 600_000;
    while (consumer.stats.stored + consumer.stats.duplicates < rs.length) {
      if (performance.now() > deadline)
        throw new Error(`consumer stuck: ${JSON.stringify(consumer.stats)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const rate = rs.length / ((performance.now() - start) / 1000);
    await consumer.stop();
    await jsm.streams.delete(names.stream);
    if (consumer.stats.stored !== rs.length) {
      throw new Error(`consumer stored ${consumer.stats.stored} of ${rs.length}`);
    }
    return rate;
  } finally {
    await nc.drain();
  }
}

async function main(): Promise<void> {
  const scratch = new BenchScratch();
  const prefix = scratch.natsPrefix();
  const began = performance.now();
  const figures: Figure[] = [];
  let postgres = "unknown";
  try {
    const db = await scratch.database("bench_audit");
    await migrateAuditTables(db.url);
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    pool.on("error", () => {});
    postgres = await postgresVersion(pool);
    await pool.query("CREATE SCHEMA raw");
    // Same columns, types and primary keys as the audit tables; not partitioned.
    await pool.query("CREATE TABLE raw.records (LIKE access_audit.records INCLUDING ALL)");
    await pool.query(
      "CREATE TABLE raw.record_pupils (LIKE access_audit.record_pupils INCLUDING ALL)",
    );
    const partitions = new AuditPartitions(pool, 60);
    await partitions.maintain(new Date());
    const store = new AuditStore(pool, partitions);
    const truncate = () =>
      pool.query(
        "TRUNCATE access_audit.records, access_audit.record_pupils, raw.records, raw.record_pupils",
      );
    // Warm-up: connections, COPY paths and the partition cache.
    await storeRate(store, records(BATCH));
    await rawCopyRate(pool, records(BATCH));

    const ours: number[] = [];
    const raw: number[] = [];
    const redelivered: number[] = [];
    const republished: number[] = [];
    const consumed: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      await truncate();
      await pool.query("CHECKPOINT");
      ours.push(await storeRate(store, records(RECORDS)));
      raw.push(await rawCopyRate(pool, records(RECORDS)));
      const earlier = records(BATCH);
      await storeRate(store, earlier);
      redelivered.push(await storeRate(store, records(RECORDS), earlier, true));
      republished.push(await storeRate(store, records(RECORDS), earlier));
      consumed.push(await consumeRate(store, prefix, records(RECORDS)));
      log(
        `run ${run + 1}: store ${Math.round(ours.at(-1)!)}/s, COPY ${Math.round(raw.at(-1)!)}/s, redelivered ${Math.round(redelivered.at(-1)!)}/s, republished ${Math.round(republished.at(-1)!)}/s, consume+store ${Math.round(consumed.at(-1)!)}/s`,
      );
    }
    await pool.end();
    const rows = pupilRows(RECORDS);
    const note = `${RECORDS} records (${rows} pupil rows) per run, ${BATCH} per transaction`;
    const baseline = { id: "raw_copy", runs: raw };
    figures.push(
      figure({ id: "store_bulk", unit: "records/s", runs: ours, baseline, goal: 0.5, note }),
      baselineFigure("raw_copy", "records/s", raw, `${note}; plain tables, same keys`),
      figure({
        id: "store_redelivered",
        unit: "records/s",
        runs: redelivered,
        baseline,
        note: "a stored record in every batch, flagged (JetStream redelivery): lookup, then COPY",
      }),
      figure({
        id: "store_republished",
        unit: "records/s",
        runs: republished,
        baseline,
        note: "a stored record in every batch, unflagged: COPY fails, lookup, COPY again",
      }),
      figure({
        id: "consume_and_store",
        unit: "records/s",
        runs: consumed,
        baseline,
        note: "AUDIT stream -> AuditConsumer -> PostgreSQL, acks after commit",
      }),
    );
  } finally {
    await scratch.cleanup();
  }
  report("audit", machine({ postgres }), figures, { began, runs: RUNS });
}

await main();
