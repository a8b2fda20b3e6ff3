import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { EventStore } from "@otmetka/eventstore";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { messagingNames } from "./names.js";
import { type Child, eventually, spawnMain } from "./test-support/child.js";
import { appendRounds, openLog } from "./test-support/log.js";
import {
  checkExactlyOnceInOrder,
  readStreamMessages,
  streamMessageCount,
} from "./test-support/stream-contents.js";

const env = useTestEnvironment({ label: "messaging_relay_standby" });
let store: EventStore;
let nc: NatsConnection;
const children: Child[] = [];

beforeAll(async () => {
  store = await openLog(env.databaseUrl);
  nc = await connect({ servers: env.natsUrl });
});
afterAll(async () => {
  await Promise.all(children.map((c) => c.kill("SIGKILL")));
  await nc?.close();
  await store?.close();
});

it("one relay publishes while another waits; the standby takes over after a SIGKILL", async () => {
  const stream = messagingNames(env.natsPrefix).contextStream("grades").name;
  const childEnv = { ...env.env, DUPLICATE_WINDOW_MS: "1000" };
  const a = spawnMain("relay-main.ts", childEnv);
  const b = spawnMain("relay-main.ts", childEnv);
  children.push(a, b);
  await Promise.all([a.waitForOutput("relay ready"), b.waitForOutput("relay ready")]);
  await eventually("one relay active", () =>
    [a, b].some((c) => c.output().includes("relay active")),
  );
  const [active, standby] = a.output().includes("relay active") ? [a, b] : [b, a];
  const appending = appendRounds(store, { streams: 50, rounds: 20 });
  await eventually("300 events in the stream", async () => {
    return (await streamMessageCount(nc, stream).catch(() => 0)) >= 300;
  });
  expect(standby.output()).not.toContain("relay active"); // never two at once
  await active.kill("SIGKILL");
  await standby.waitForOutput("relay active", 15_000);
  await appending;
  await eventually(
    "all 1,000 events in the stream",
    async () => (await streamMessageCount(nc, stream)) >= 1000,
    45_000,
  );
  const ids = new Set<string>();
  for (let page = await store.readAll(undefined, 5000); page.events.length > 0; ) {
    for (const e of page.events) ids.add(e.eventId);
    page = await store.readAll(page.checkpoint, 5000);
  }
  const messages = await readStreamMessages(nc, stream);
  expect(messages.length).toBe(1000);
  expect(checkExactlyOnceInOrder(messages, ids)).toEqual([]);
}, 90_000);
