import { setTimeout as sleep } from "node:timers/promises";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { EventStore } from "@otmetka/eventstore";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { messagingNames } from "./names.js";
import { eventually, spawnMain } from "./test-support/child.js";
import { appendRounds, openLog } from "./test-support/log.js";
import {
  checkExactlyOnceInOrder,
  readStreamMessages,
  streamMessageCount,
} from "./test-support/stream-contents.js";

const env = useTestEnvironment({ label: "messaging_relay_crash" });
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

it("proof 1: SIGKILL mid-publish with a 1 s duplicate window, restart after 2 s: each event once, in order", async () => {
  const stream = messagingNames(env.natsPrefix).contextStream("grades").name;
  const childEnv = { ...env.env, DUPLICATE_WINDOW_MS: "1000" };
  // 10,000 events: 200 aggregate streams x 50 versions; half before the relay starts, half
  // appended while it publishes.
  await appendRounds(store, { streams: 200, rounds: 25 });
  // The first relay kills itself with publishes in flight once past 3,000 events read.
  const first = spawnMain("relay-main.ts", { ...childEnv, RELAY_SIGKILL_AFTER: "3000" });
  await first.waitForOutput("relay ready");
  const appending = appendRounds(store, { streams: 200, rounds: 25, firstRound: 26 });
  await first.waitForOutput("relay SIGKILL after reading");
  expect(await first.exited).toBe("SIGKILL");
  const killedAt = performance.now();
  const readAtKill = Number(/SIGKILL after reading (\d+) events/.exec(first.output())?.[1]);
  const atKill = await streamMessageCount(nc, stream);
  await appending;
  // 2 s after the kill, longer than the duplicate window: deduplication cannot help. (The
  // appends since the kill count towards it: the first relay published nothing after it.)
  await sleep(Math.max(0, 2000 - (performance.now() - killedAt)));
  const second = spawnMain("relay-main.ts", childEnv);
  try {
    await eventually(
      "the restarted relay to publish all 10,000 events",
      async () => (await streamMessageCount(nc, stream)) >= 10_000,
      60_000,
    );
    await sleep(500); // let a wrong extra publish show up if there were one
  } finally {
    await second.kill("SIGTERM");
  }
  const ids = new Set<string>();
  for await (const e of store.tail({ signal: AbortSignal.timeout(5000) })) {
    ids.add(e.eventId);
    if (ids.size === 10_000) break;
  }
  expect(ids.size).toBe(10_000);
  const messages = await readStreamMessages(nc, stream);
  // Cut off mid-publish: events it had read were not all in the stream.
  expect(atKill).toBeLessThan(readAtKill);
  expect(messages.length).toBe(10_000);
  expect(checkExactlyOnceInOrder(messages, ids)).toEqual([]);
}, 90_000);
