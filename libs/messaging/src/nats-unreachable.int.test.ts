import { setTimeout as sleep } from "node:timers/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { EventConsumer } from "./event-consumer.js";
import { messagingNames } from "./names.js";
import { ensureStream } from "./provisioning.js";
import { eventually } from "./test-support/child.js";
import { type FreezableProxy, freezableProxy } from "./test-support/freezable-proxy.js";

const env = useTestEnvironment({ label: "messaging_nats_unreachable" });
let direct: NatsConnection;
let proxy: FreezableProxy;
let proxied: NatsConnection;
beforeAll(async () => {
  direct = await connect({ servers: env.natsUrl });
  proxy = await freezableProxy(env.natsUrl);
  proxied = await connect({ servers: proxy.url, ignoreClusterUpdates: true, noRandomize: true });
});
afterAll(async () => {
  proxy?.thaw();
  await proxied?.close();
  await direct?.close();
  await proxy?.close();
});

const TTL = 1500;

it("workers dropped while NATS is unreachable finish stopping once it answers again", async () => {
  const names = messagingNames(env.natsPrefix);
  await ensureStream(await jetstreamManager(direct), names.contextStream("grades"));
  const a = await new EventConsumer({
    nc: proxied,
    names,
    context: "grades",
    durable: "reporting-stop-cut-off",
    instanceId: "a",
    leaseTtlMs: TTL,
    handler: async () => {},
  }).start();
  try {
    await eventually("a owns every partition", () => a.ownedPartitions.length === 16);
    proxy.freeze();
    // Long enough for the consume sessions to miss heartbeats and start again (their consume()
    // waiting for an answer) and for a to drop its partitions meanwhile.
    await eventually("a dropped its partitions", () => a.ownedPartitions.length === 0, 20_000);
    await sleep(2000);
  } finally {
    proxy.thaw();
  }
  // Before, a worker stopped while its new session's consume() waited closed that session's
  // messages, which nobody iterated, and waited for their iteration's end: for ever.
  const stopped = a.stop().then(() => true);
  expect(await Promise.race([stopped, sleep(15_000).then(() => false)])).toBe(true);
}, 60_000);
