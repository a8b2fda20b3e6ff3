import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { EventStore } from "@otmetka/eventstore";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { messagingNames } from "./names.js";
import { ensureStream } from "./provisioning.js";
import { OutboxRelay } from "./relay.js";
import { eventually } from "./test-support/child.js";
import { appendRounds, openLog } from "./test-support/log.js";

const env = useTestEnvironment({ label: "messaging_relay_poll" });
let store: EventStore;
let nc: NatsConnection;
beforeAll(async () => {
  store = await openLog(env.databaseUrl);
  nc = await connect({ servers: env.natsUrl });
});
afterAll(async () => {
  await nc?.close();
  await store?.close();
});

it("polls at the active interval while events keep coming, at the idle one after a quiet spell", async () => {
  const names = messagingNames(env.natsPrefix);
  const spec = names.contextStream("grades");
  await ensureStream(await jetstreamManager(nc), spec);
  // The first event is there before the relay starts, so its first read publishes it (an
  // append after the start would wait out the 4 s idle poll, proving nothing more).
  await appendRounds(store, { streams: 1, rounds: 1 });
  const relay = new OutboxRelay({
    nc,
    // Only readAll: a log that does not tell of appends, as another process's writes look.
    log: { readAll: (after, limit) => store.readAll(after, limit) },
    stream: spec.name,
    databaseUrl: env.databaseUrl,
    subjectRoot: names.eventRoot("grades"),
    source: "grades",
    pollIntervalMs: 4000,
    activePollIntervalMs: 10,
    activeWindowMs: 2500,
  }).start();
  try {
    await eventually("the relay active", () => relay.stats.active, 20_000);
    await eventually("the first event out", () => relay.stats.published === 1, 20_000);
    // Right after a publish the relay is active: the next commit goes out well before the
    // idle interval would have let it (4 s; the old code waited that long every time).
    const began = performance.now();
    await appendRounds(store, { streams: 1, rounds: 1, firstRound: 2 });
    await eventually("the second event out", () => relay.stats.published === 2, 20_000, 5);
    const active = performance.now() - began;
    expect(active).toBeLessThan(2000);
    // After a quiet spell beyond the window it is back at the idle interval.
    await sleep(3000);
    const idleBegan = performance.now();
    await appendRounds(store, { streams: 1, rounds: 1, firstRound: 3 });
    await eventually("the third event out", () => relay.stats.published === 3, 20_000, 5);
    expect(performance.now() - idleBegan).toBeGreaterThan(1000);
  } finally {
    await relay.stop();
  }
}, 60_000);

const appendOne = (log: EventStore) =>
  log.append(`nudge-${randomUUID()}`, "no_stream", [
    { type: "grades.v1.MarkRecorded", data: {}, metadata: { actor: { id: "t", kind: "user" } } },
  ]);

it("wakes on this process's appends even at a long idle interval, and still polls for other writers", async () => {
  const names = messagingNames(`${env.natsPrefix}nudge`);
  const spec = names.contextStream("grades");
  await ensureStream(await jetstreamManager(nc), spec);
  const relay = new OutboxRelay({
    nc,
    log: store, // EventStore.onAppended: this process's appends wake the relay
    stream: spec.name,
    databaseUrl: env.databaseUrl,
    subjectRoot: names.eventRoot("grades"),
    source: "grades",
    // Idle polling at 6 s: an append 1 s into the wait that were not woken would go out
    // after some 5 s, beyond the 4 s the woken one is allowed.
    pollIntervalMs: 6000,
    activeWindowMs: 300,
  }).start();
  const other = await openLog(env.databaseUrl); // another process's store: no wake-ups
  try {
    await eventually("the relay active", () => relay.stats.active, 20_000);
    const before = relay.stats.published;
    // Quiet beyond the active window: polling is at 6 s now; the append wakes it.
    await sleep(1000);
    const began = performance.now();
    await appendOne(store);
    await eventually("the woken publish", () => relay.stats.published === before + 1, 20_000, 5);
    expect(performance.now() - began).toBeLessThan(4000);
    // Another store's append (no wake-up) goes out at the next poll.
    await sleep(1000);
    await appendOne(other);
    await eventually("the polled publish", () => relay.stats.published === before + 2, 20_000);
  } finally {
    await other.close();
    await relay.stop();
  }
}, 60_000);
