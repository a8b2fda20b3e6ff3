/**
 * npm run bench:portal — the state-portal feed, domain event → subscriber delivery.
 *
 *  - feed_throughput: N grades MarkRecorded events (BENCH_PORTAL_EVENTS, 20,000) for P
 *    consented pupils (BENCH_PORTAL_PUPILS, 2,000) published to the grades stream as fast as
 *    possible; measured until a subscriber's durable consumer on PORTAL has received, for every
 *    pupil, the PupilPerformanceUpdated snapshot that contains the pupil's last mark. Goal
 *    >= 2,000 events/s (limit, min). Baseline raw_publish_consume: the same number of messages
 *    js.publish'ed to a plain stream and consumed with ack (the NATS part alone).
 *  - p99_at_500_per_s: 500 MarkRecorded/s for BENCH_PORTAL_SECONDS (10) round-robin over the
 *    pupils; latency from js.publish of each mark to the arrival at the subscriber of the first
 *    snapshot that includes it. Limit 1 s (max). Includes the per-pupil debounce
 *    (BENCH_PORTAL_DEBOUNCE_MS, 100).
 * Each run uses a fresh database and NATS prefix. Knobs: BENCH_RUNS (3), DATABASE_URL, NATS_URL.
 */
import { performance } from "node:perf_hooks";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { RecordedEvent } from "@otmetka/eventstore";
import { messagingNames, toMessage } from "@otmetka/messaging";
import { provisionSubscriberConsumer, type RunningFeed, startFeed } from "@otmetka/portal";
import pg from "pg";
import {
  ADMIN_URL,
  BenchScratch,
  benchLog,
  knob,
  NATS_URL,
  postgresVersion,
  report,
} from "./lib/bench-env.js";
import { baselineFigure, type Figure, figure, machine } from "./lib/results.js";
import { percentileAtIndex, repeat } from "./lib/stats.js";

const RUNS = knob("BENCH_RUNS", 3);
const EVENTS = knob("BENCH_PORTAL_EVENTS", 20_000);
const PUPILS = knob("BENCH_PORTAL_PUPILS", 2_000);
const SECONDS = knob("BENCH_PORTAL_SECONDS", 10);
const DEBOUNCE = knob("BENCH_PORTAL_DEBOUNCE_MS", 100);
const RATE = 500;

const log = benchLog("portal");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const openPortalId = async (_p: string, ct: string) => Buffer.from(ct, "base64").toString();

interface Env {
  feed: RunningFeed;
  /** Events the projection had applied when setup ended. */
  baseApplied: number;
  nc: NatsConnection;
  pool: pg.Pool;
  prefix: string;
  emit(context: string, type: string, streamId: string, data: object): Promise<unknown>;
  /** Calls back with (pupil index, marks in the snapshot, arrival time) for each snapshot. */
  subscribe(on: (pupil: number, marks: number, at: number) => void): Promise<void>;
  close(): Promise<void>;
}

async function setup(label: string): Promise<Env> {
  const scratch = new BenchScratch();
  const db = await scratch.database(label);
  const prefix = scratch.natsPrefix();
  const nc = await connect({ servers: NATS_URL });
  const pool = new pg.Pool({ connectionString: db.url, max: 6 });
  pool.on("error", () => {});
  const feed = await startFeed({ nc, pool, prefix, openPortalId, debounceMs: DEBOUNCE, pollMs: 5 });
  const js = jetstream(nc);
  const mnames = messagingNames(prefix);
  const versions = new Map<string, number>();
  let position = 0;
  const emit = (context: string, type: string, streamId: string, data: object) => {
    const version = (versions.get(streamId) ?? 0) + 1;
    versions.set(streamId, version);
    position++;
    const event = {
      position,
      transactionId: String(position),
      checkpoint: `${position}:${position}`,
      streamId,
      version,
      eventId: crypto.randomUUID(),
      type: `${context}.v1.${type}`,
      schemaVersion: 1,
      storedSchemaVersion: 1,
      data,
      metadata: {},
      recordedAt: new Date(),
    } as unknown as RecordedEvent;
    const m = toMessage(event, {
      subjectRoot: mnames.eventRoot(context),
      source: context,
      route: () => ({ schoolId: "s-1", municipalityId: "m-1" }),
    });
    return js.publish(m.subject, m.payload, { headers: m.headers, msgID: m.msgId });
  };
  // Pupils: enrolled, portal id, consent; wait until their (empty) first snapshots are out.
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < PUPILS; i++) {
    const personId = `p-${i}`;
    const base = { personId, schoolId: "s-1", municipalityId: "m-1" };
    pending.push(
      emit("identity", "StudentEnrolled", `person-${personId}`, {
        ...base,
        classGroupId: "cg-1",
        academicYear: { startYear: 2026 },
        gradeLevel: 5,
        effectiveDate: "2026-09-01",
      }),
      emit("identity", "PortalIdAssigned", `person-${personId}`, {
        ...base,
        portalId: Buffer.from(`EPGU-${i}`).toString("base64"),
      }),
      emit("identity", "PortalConsentGranted", `person-${personId}`, {
        ...base,
        guardianId: `g-${i}`,
      }),
    );
  }
  await Promise.all(pending);
  const jsm = await jetstreamManager(nc);
  for (;;) {
    const s = await jsm.streams.info(feed.names.stream);
    if (s.state.messages >= PUPILS) break;
    await sleep(100);
  }
  await provisionSubscriberConsumer(jsm, feed.names, "bench", { from: "new" });
  let stopConsume: (() => Promise<void>) | undefined;
  return {
    feed,
    baseApplied: feed.runner.counters.applied,
    nc,
    pool,
    prefix,
    emit,
    async subscribe(on) {
      const c = await js.consumers.get(feed.names.stream, feed.names.durable("bench"));
      const messages = await c.consume({ max_messages: 1000 });
      stopConsume = async () => {
        await messages.close();
      };
      void (async () => {
        for await (const m of messages) {
          const at = performance.now();
          const ce = m.json<{
            data: { portalId: string; subjects: { currentMarks: string[] }[] };
          }>();
          const marks = ce.data.subjects?.[0]?.currentMarks.length ?? 0;
          on(Number(ce.data.portalId.slice("EPGU-".length)), marks, at);
          m.ack();
        }
      })();
    },
    async close() {
      await stopConsume?.();
      await feed.stop();
      await pool.end();
      await nc.drain();
      await scratch.cleanup();
    },
  };
}

let markNo = 0;
const mark = (env: Env, pupil: number) => {
  markNo++;
  return env.emit("grades", "MarkRecorded", `journal-j-${pupil % 50}`, {
    schoolId: "s-1",
    municipalityId: "m-1",
    journal: {
      journalId: "j",
      schoolId: "s-1",
      municipalityId: "m-1",
      classGroupId: "cg-1",
      subjectId: "math",
    },
    markId: `mark-${markNo}`,
    lessonId: `l-${markNo}`,
    lessonDate: "2026-10-01",
    term: 1,
    studentId: `p-${pupil}`,
    value: "MARK_VALUE_FIVE",
    workType: "oral",
    weight: 1,
    authorId: "t-1",
  });
};

async function throughput(run: number): Promise<number> {
  const env = await setup(`bench_portal_t${run}`);
  try {
    const perPupil = Math.ceil(EVENTS / PUPILS);
    const seen = new Array<number>(PUPILS).fill(0);
    let complete = 0;
    let doneAt = 0;
    await env.subscribe((p, marks, at) => {
      if (marks > (seen[p] ?? 0)) {
        if (marks >= perPupil && (seen[p] ?? 0) < perPupil) {
          complete++;
          if (complete === PUPILS) doneAt = at;
        }
        seen[p] = marks;
      }
    });
    const t0 = performance.now();
    const before = { ...env.feed.runner.counters };
    for (let k = 0; k < perPupil; k++) {
      await Promise.all(Array.from({ length: PUPILS }, (_, p) => mark(env, p)));
    }
    const publishedAt = performance.now();
    // Where the time goes: when the feed's projection has applied everything (information).
    let appliedAt = 0;
    while (doneAt === 0) {
      if (
        appliedAt === 0 &&
        env.feed.runner.counters.applied >= env.baseApplied + perPupil * PUPILS
      ) {
        appliedAt = performance.now();
      }
      await sleep(20);
    }
    log(
      `run ${run}: published in ${Math.round(publishedAt - t0)} ms, applied by ${Math.round((appliedAt || doneAt) - t0)} ms, delivered by ${Math.round(doneAt - t0)} ms; runner ${env.feed.runner.counters.batches - before.batches} batches, ${Math.round(env.feed.runner.counters.transactionMs - before.transactionMs)} ms in transactions; publisher ${JSON.stringify(env.feed.publisher.counters)}`,
    );
    const rate = (perPupil * PUPILS) / ((doneAt - t0) / 1000);
    log(`run ${run}: ${Math.round(rate)} events/s`);
    return rate;
  } finally {
    await env.close();
  }
}

async function latencyP99(run: number): Promise<number> {
  const env = await setup(`bench_portal_l${run}`);
  try {
    const sent: number[][] = Array.from({ length: PUPILS }, () => []);
    const resolved = new Array<number>(PUPILS).fill(0);
    const latencies: number[] = [];
    await env.subscribe((p, marks, at) => {
      const times = sent[p] ?? [];
      for (let i = resolved[p] ?? 0; i < Math.min(marks, times.length); i++)
        latencies.push(at - (times[i] ?? at));
      resolved[p] = Math.max(resolved[p] ?? 0, marks);
    });
    const total = RATE * SECONDS;
    const t0 = performance.now();
    let n = 0;
    while (n < total) {
      // Keep to the schedule: send whatever is due, 10 ms ticks.
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * RATE));
      const batch: Promise<unknown>[] = [];
      for (; n < due; n++) {
        const p = n % PUPILS;
        sent[p]?.push(performance.now());
        batch.push(mark(env, p));
      }
      await Promise.all(batch);
      await sleep(10);
    }
    while (latencies.length < total) await sleep(20);
    const p99 = percentileAtIndex(latencies, 99);
    log(`run ${run}: p99 ${p99.toFixed(1)} ms over ${latencies.length} events`);
    return p99;
  } finally {
    await env.close();
  }
}

async function rawPublishConsume(run: number): Promise<number> {
  const nc = await connect({ servers: NATS_URL });
  const scratch = new BenchScratch();
  const prefix = scratch.natsPrefix();
  try {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    const stream = `${prefix}_RAW`;
    await jsm.streams.add({ name: stream, subjects: [`${prefix}.raw.>`] });
    await jsm.consumers.add(stream, {
      durable_name: "raw",
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
    });
    const body = new TextEncoder().encode(
      JSON.stringify({ data: { portalId: "EPGU-1", subjects: [] } }),
    );
    const t0 = performance.now();
    const consumer = await js.consumers.get(stream, "raw");
    const messages = await consumer.consume({ max_messages: 1000 });
    let got = 0;
    const done = (async () => {
      for await (const m of messages) {
        m.ack();
        if (++got >= EVENTS) break;
      }
    })();
    for (let i = 0; i < EVENTS; i += 1000) {
      await Promise.all(
        Array.from({ length: Math.min(1000, EVENTS - i) }, (_, k) =>
          js.publish(`${prefix}.raw.${(i + k) % PUPILS}`, body),
        ),
      );
    }
    await done;
    const rate = EVENTS / ((performance.now() - t0) / 1000);
    log(`run ${run}: raw ${Math.round(rate)} msgs/s`);
    return rate;
  } finally {
    await nc.drain();
    await scratch.cleanup();
  }
}

async function main(): Promise<void> {
  const began = performance.now();
  const raw = await repeat(RUNS, rawPublishConsume);
  const feed = await repeat(RUNS, throughput);
  const p99 = await repeat(RUNS, latencyP99);
  const figures: Figure[] = [
    {
      ...figure({
        id: "feed_throughput",
        unit: "events/s",
        runs: feed,
        baseline: { id: "raw_publish_consume", runs: raw },
        note: `${EVENTS} marks, ${PUPILS} pupils, debounce ${DEBOUNCE} ms`,
      }),
      limit: 2000,
      limit_kind: "min",
    },
    baselineFigure("raw_publish_consume", "msgs/s", raw),
    {
      ...figure({
        id: "p99_at_500_per_s",
        unit: "ms",
        runs: p99,
        note: `${SECONDS} s, debounce ${DEBOUNCE} ms`,
      }),
      limit: 1000,
      limit_kind: "max",
    },
  ];
  const pool = new pg.Pool({ connectionString: ADMIN_URL, max: 1 });
  const postgres = await postgresVersion(pool).finally(() => pool.end());
  report("portal", machine({ postgres }), figures, { began, runs: RUNS });
}

await main();
