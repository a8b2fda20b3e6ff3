/**
 * npm run bench:messaging — @otmetka/messaging against raw nats.js in the same run:
 *  - the outbox relay (PostgreSQL log → JetStream) against raw publishes of the same messages
 *    with the same number in flight;
 *  - consuming with explicit ack through EventConsumer (no handler work) against a raw
 *    durable pull consumer acking each message;
 *  - publish → handler latency (p99) through EventConsumer at 2,000 events/s.
 * Creates its own database and NATS prefix and removes them after.
 * Knobs: BENCH_RUNS (3), BENCH_RELAY_EVENTS (20000), BENCH_CONSUME_EVENTS (50000),
 * BENCH_LATENCY_SECONDS (5), BENCH_IN_FLIGHT (256), DATABASE_URL, NATS_URL.
 */
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
import {
  EventStore,
  migrateEventStoreDatabase,
  type RecordedEvent,
  type StreamAppend,
} from "@otmetka/eventstore";
import {
  EventConsumer,
  ensureStream,
  type MessagingNames,
  messagingNames,
  OutboxRelay,
  toMessage,
} from "@otmetka/messaging";
import {
  BenchScratch,
  benchLog,
  knob,
  NATS_URL,
  postgresVersion,
  report,
} from "./lib/bench-env.js";
import {
  MARK_METADATA,
  markPayload,
  numberedUuid,
  syntheticMarkRecorded,
} from "./lib/mark-payload.js";
import { waitUntilReadable } from "./lib/readable-log.js";
import { type Figure, figure, figureAndBaseline, machine } from "./lib/results.js";
import { repeat } from "./lib/stats.js";

const RUNS = knob("BENCH_RUNS", 3);
const RELAY_EVENTS = knob("BENCH_RELAY_EVENTS", 20_000);
const CONSUME_EVENTS = knob("BENCH_CONSUME_EVENTS", 50_000);
const LATENCY_SECONDS = knob("BENCH_LATENCY_SECONDS", 5);
const IN_FLIGHT = knob("BENCH_IN_FLIGHT", 256);
const RATE = 2000;
const STREAMS = 500;

const log = benchLog("messaging");

/** `count` events over STREAMS aggregate streams, appended in transactions of STREAMS events. */
async function fillLog(store: EventStore, count: number): Promise<void> {
  const rounds = Math.ceil(count / STREAMS);
  for (let r = 0; r < rounds; r++) {
    const appends: StreamAppend[] = [];
    for (let s = 0; s < STREAMS && r * STREAMS + s < count; s++) {
      appends.push({
        streamId: `journal-${s}`,
        expected: r,
        events: [
          {
            type: "grades.v1.MarkRecorded",
            data: markPayload(r * STREAMS + s),
            metadata: MARK_METADATA,
          },
        ],
      });
    }
    await store.appendMany(appends);
  }
}

/** Event-shaped records without a database, for the consume and latency figures. */
const syntheticEvent = (i: number): RecordedEvent =>
  syntheticMarkRecorded(i, STREAMS, {
    eventId: numberedUuid(i),
    data: markPayload(i),
    metadata: MARK_METADATA,
  });

async function freshStream(jsm: JetStreamManager, names: MessagingNames, context: string) {
  const spec = names.contextStream(context);
  await jsm.streams.delete(spec.name).catch(() => {});
  await ensureStream(jsm, spec);
  return spec.name;
}

/** The relay from a full log into an empty stream: events per second until all are in. */
async function relayRate(
  nc: NatsConnection,
  jsm: JetStreamManager,
  store: EventStore,
  databaseUrl: string,
  names: MessagingNames,
  run: number,
): Promise<number> {
  const context = `relay${run}`;
  const stream = await freshStream(jsm, names, context);
  const began = performance.now();
  const relay = new OutboxRelay({
    nc,
    log: store,
    stream,
    databaseUrl,
    subjectRoot: names.eventRoot(context),
    source: "grades",
    maxInFlight: IN_FLIGHT,
  }).start();
  // Watched locally: polling the server for the stream's size would slow the server down.
  while (relay.stats.published < RELAY_EVENTS) await sleep(2);
  const seconds = (performance.now() - began) / 1000;
  await relay.stop();
  await jsm.streams.delete(stream);
  return RELAY_EVENTS / seconds;
}

/** The same messages (subjects, headers, payloads) published by nats.js, IN_FLIGHT at once. */
async function rawPublishRate(
  nc: NatsConnection,
  jsm: JetStreamManager,
  events: readonly RecordedEvent[],
  names: MessagingNames,
  run: number,
): Promise<number> {
  const context = `raw${run}`;
  const stream = await freshStream(jsm, names, context);
  const routing = { subjectRoot: names.eventRoot(context), source: "grades" };
  const messages = events.map((e) => toMessage(e, routing));
  const js = jetstream(nc);
  const began = performance.now();
  const inFlight = new Set<Promise<unknown>>();
  for (const m of messages) {
    const p = js.publish(m.subject, m.payload, { msgID: m.msgId, headers: m.headers });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - began) / 1000;
  await jsm.streams.delete(stream);
  return messages.length / seconds;
}

/** A stream holding CONSUME_EVENTS event messages, for both consume figures. */
async function fillStream(nc: NatsConnection, jsm: JetStreamManager, names: MessagingNames) {
  const stream = await freshStream(jsm, names, "consume");
  const routing = { subjectRoot: names.eventRoot("consume"), source: "grades" };
  const js = jetstream(nc);
  const inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < CONSUME_EVENTS; i++) {
    const m = toMessage(syntheticEvent(i), routing);
    inFlight.push(js.publish(m.subject, m.payload, { msgID: m.msgId, headers: m.headers }));
    if (inFlight.length >= IN_FLIGHT) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
  return stream;
}

/** Raw: one durable pull consumer, consume() with explicit ack of each message. */
async function rawConsumeRate(
  nc: NatsConnection,
  jsm: JetStreamManager,
  stream: string,
  run: number,
) {
  const durable = `raw-consume-${run}`;
  await jsm.consumers.add(stream, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: 1000,
  });
  const consumer = await jetstream(nc).consumers.get(stream, durable);
  const messages = await consumer.consume({ max_messages: 256 });
  let n = 0;
  let first = 0;
  for await (const m of messages) {
    if (n === 0) first = performance.now();
    m.ack();
    if (++n === CONSUME_EVENTS) break;
  }
  const seconds = (performance.now() - first) / 1000;
  await messages.close();
  await jsm.consumers.delete(stream, durable);
  return (CONSUME_EVENTS - 1) / seconds;
}

/** Through EventConsumer (16 partitions, leases, envelope, tracing span), handler does nothing. */
async function runtimeConsumeRate(nc: NatsConnection, names: MessagingNames, run: number) {
  let n = 0;
  let first = 0;
  let last = 0;
  const consumer = new EventConsumer({
    nc,
    names,
    context: "consume",
    durable: `bench-consume-${run}`,
    handler: async () => {
      const now = performance.now();
      if (n === 0) first = now;
      n++;
      last = now;
    },
  });
  await consumer.start();
  while (n < CONSUME_EVENTS) await sleep(5);
  await consumer.stop();
  return (CONSUME_EVENTS - 1) / ((last - first) / 1000);
}

/** p99 of publish → handler through EventConsumer while publishing RATE events/s. */
async function latencyP99(
  nc: NatsConnection,
  jsm: JetStreamManager,
  names: MessagingNames,
  run: number,
) {
  const context = `latency${run}`;
  await freshStream(jsm, names, context);
  const routing = { subjectRoot: names.eventRoot(context), source: "grades" };
  const sentAt = new Map<string, number>();
  const samples: number[] = [];
  const consumer = new EventConsumer({
    nc,
    names,
    context,
    durable: `bench-latency-${run}`,
    handler: async (e) => {
      const t = sentAt.get(e.eventId);
      if (t !== undefined) samples.push(performance.now() - t);
    },
  });
  await consumer.start();
  while (consumer.ownedPartitions.length < 16) await sleep(10);
  const js = jetstream(nc);
  const total = RATE * LATENCY_SECONDS;
  const tick = 10;
  const perTick = (RATE * tick) / 1000;
  const began = performance.now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < total; ) {
    const due = Math.min(total, Math.floor(((performance.now() - began) / 1000) * RATE) + perTick);
    for (; i < due; i++) {
      const e = syntheticEvent(i);
      const m = toMessage(e, routing);
      sentAt.set(e.eventId, performance.now());
      // A generous ack timeout: on a loaded machine an ack can take seconds, and a lost
      // publish would leave the run without its sample.
      pending.push(
        js.publish(m.subject, m.payload, { msgID: m.msgId, headers: m.headers, timeout: 30_000 }),
      );
    }
    await sleep(tick);
  }
  await Promise.all(pending);
  const deadline = Date.now() + 10_000;
  while (samples.length < total && Date.now() < deadline) await sleep(20);
  await consumer.stop();
  if (samples.length < total)
    throw new Error(`latency run ${run}: ${samples.length}/${total} handled`);
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length * 0.99) - 1]!;
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
    const db = await scratch.database("bench_messaging");
    await migrateEventStoreDatabase(db.url);
    const store = EventStore.connect({ connectionString: db.url, max: 4 });
    postgres = await postgresVersion(store.pool);
    log(`filling the log with ${RELAY_EVENTS} events`);
    await fillLog(store, RELAY_EVENTS);
    // Every appended event readable before timing (and kept for the raw publishes).
    const events: RecordedEvent[] = [];
    await waitUntilReadable(store, RELAY_EVENTS, (page) => events.push(...page));
    const relay: number[] = [];
    const raw: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      relay.push(await relayRate(nc, jsm, store, db.url, names, run));
      raw.push(await rawPublishRate(nc, jsm, events, names, run));
      log(
        `relay run ${run + 1}: relay ${Math.round(relay.at(-1)!)}/s, raw publish ${Math.round(raw.at(-1)!)}/s`,
      );
    }
    const inFlightNote = `${RELAY_EVENTS} events, ${IN_FLIGHT} publishes in flight`;
    figures.push(
      ...figureAndBaseline({
        id: "relay_pg_to_jetstream",
        unit: "events/s",
        runs: relay,
        baseline: { id: "raw_js_publish", runs: raw },
        goal: 0.7,
        note: inFlightNote,
      }),
    );
    await store.close();

    log(`filling a stream with ${CONSUME_EVENTS} events`);
    const stream = await fillStream(nc, jsm, names);
    // Interleaved, so both see the same background load.
    const ours: number[] = [];
    const rawConsume: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      ours.push(await runtimeConsumeRate(nc, names, run));
      rawConsume.push(await rawConsumeRate(nc, jsm, stream, run));
      log(
        `consume run ${run + 1}: runtime ${Math.round(ours.at(-1)!)}/s, raw ${Math.round(rawConsume.at(-1)!)}/s`,
      );
    }
    const consumeNote = `${CONSUME_EVENTS} messages, first to last handled; runtime: 16 partitions`;
    figures.push(
      ...figureAndBaseline({
        id: "consume_explicit_ack",
        unit: "events/s",
        runs: ours,
        baseline: { id: "raw_js_consume_ack", runs: rawConsume },
        goal: 0.7,
        note: consumeNote,
      }),
    );

    const p99 = await repeat(RUNS, async (run) => {
      const v = await latencyP99(nc, jsm, names, run);
      log(`latency run ${run + 1}: p99 ${v.toFixed(2)} ms`);
      return v;
    });
    figures.push({
      ...figure({
        id: "publish_to_handler_p99_2000_per_s",
        unit: "ms",
        runs: p99,
        higherIsBetter: false,
        note: `${LATENCY_SECONDS} s at ${RATE} events/s`,
      }),
      limit: 50,
      limit_kind: "max",
    });
  } finally {
    await nc.close();
    await scratch.cleanup();
  }
  report("messaging", machine({ postgres }), figures, { began, runs: RUNS });
}

await main();
