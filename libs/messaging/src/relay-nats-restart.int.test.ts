import { setTimeout as sleep } from "node:timers/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { EventStore } from "@otmetka/eventstore";
import { connectNats } from "@otmetka/service-kit";
import { type PrivateNats, startPrivateNats, useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { LogReader } from "./log-reader.js";
import { messagingNames } from "./names.js";
import { ensureStream } from "./provisioning.js";
import { OutboxRelay } from "./relay.js";
import { eventually } from "./test-support/child.js";
import { appendRounds, openLog } from "./test-support/log.js";
import {
  checkExactlyOnceInOrder,
  readStreamMessages,
  streamMessageCount,
} from "./test-support/stream-contents.js";

const env = useTestEnvironment({ label: "messaging_relay_nats_restart" });
let store: EventStore;
let nats: PrivateNats;
let nc: NatsConnection;

beforeAll(async () => {
  store = await openLog(env.databaseUrl);
  nats = await startPrivateNats();
  nc = await connectNats({ url: nats.url, name: "relay-nats-restart-test" });
});
afterAll(async () => {
  await nc?.close();
  await nats?.dispose();
  await store?.close();
});

/**
 * The log as the relay reads it, killing the NATS server once the relay has read `killAfter`
 * events. That read is the prefetch made while the page before it is being published, and
 * the page it returns is issued the moment the kill is done: publishes are in flight when
 * the server dies and more go out into the outage, however fast the relay or slow the
 * machine (waiting for a stream count first could find the relay already done and idle).
 */
function logKillingNatsAfter(killAfter: number): { log: LogReader; killed: Promise<void> } {
  let read = 0;
  let kill: (() => void) | undefined;
  const killed = new Promise<void>((resolve) => {
    kill = resolve;
  });
  const log: LogReader = {
    readAll: async (after, limit) => {
      const due = read >= killAfter && kill !== undefined;
      const page = await store.readAll(after, limit);
      read += page.events.length;
      if (due && kill) {
        const done = kill;
        kill = undefined;
        await nats.kill();
        done();
      }
      return page;
    },
  };
  return { log, killed };
}

it("proof 2: a NATS server restart mid-publish loses and duplicates nothing", async () => {
  const names = messagingNames("p2");
  const stream = names.contextStream("grades");
  await ensureStream(await jetstreamManager(nc), { ...stream, duplicateWindowMs: 1000 });
  await appendRounds(store, { streams: 100, rounds: 30 });
  const publishTimeoutMs = 2000;
  const { log, killed } = logKillingNatsAfter(1500);
  const errors: string[] = [];
  const relay = new OutboxRelay({
    nc,
    log,
    stream: stream.name,
    databaseUrl: env.databaseUrl,
    subjectRoot: names.eventRoot("grades"),
    source: "grades",
    publishTimeoutMs,
    onError: (err) => errors.push((err as Error).message),
  }).start();
  try {
    const appending = appendRounds(store, { streams: 100, rounds: 20, firstRound: 31 });
    await killed;
    // Down for longer than an ack's timeout and the sweep that notices it (a quarter of it):
    // a publish issued into the outage has failed before the server is back.
    await sleep(publishTimeoutMs * 1.5);
    await nats.restart();
    await appending;
    await eventually(
      "all 5,000 events in the stream after the restart",
      async () => (await streamMessageCount(nc, stream.name).catch(() => 0)) >= 5000,
      60_000,
    );
    await sleep(500);
  } finally {
    await relay.stop();
  }
  const ids = new Set<string>();
  for (let page = await store.readAll(undefined, 10_000); page.events.length > 0; ) {
    for (const e of page.events) ids.add(e.eventId);
    page = await store.readAll(page.checkpoint, 10_000);
  }
  expect(ids.size).toBe(5000);
  const messages = await readStreamMessages(nc, stream.name);
  expect(messages.length).toBe(5000);
  expect(checkExactlyOnceInOrder(messages, ids)).toEqual([]);
  // The relay did see the outage and re-read the stream's end to go on.
  expect(errors.length).toBeGreaterThan(0);
  expect(relay.stats.resyncs).toBeGreaterThan(1);
}, 90_000);
