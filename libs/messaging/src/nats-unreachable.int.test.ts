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
    // Long enough that the consume sessions miss their heartbeats (after ~5 s) and start
    // again, their preparation waiting for answers, before a drops its partitions.
    leaseTtlMs: 20_000,
    handler: async () => {},
  }).start();
  try {
    await eventually("a owns every partition", () => a.ownedPartitions.length === 16);
    proxy.freeze();
    await eventually("a dropped its partitions", () => a.ownedPartitions.length === 0, 30_000);
  } finally {
    proxy.thaw();
  }
  // Before, a worker stopped while its new session's consume() waited closed that session's
  // messages, which nobody iterated, and waited for their iteration's end: for ever.
  const stopped = a.stop().then(() => true);
  expect(await Promise.race([stopped, sleep(15_000).then(() => false)])).toBe(true);
}, 60_000);

it("an instance cut off from NATS stops its partitions within its lease, before another instance takes them", async () => {
  const names = messagingNames(env.natsPrefix);
  await ensureStream(await jetstreamManager(direct), names.contextStream("grades"));
  const options = {
    names,
    context: "grades",
    durable: "reporting-cut-off",
    leaseTtlMs: TTL,
    handler: async () => {},
  };
  const a = await new EventConsumer({ ...options, nc: proxied, instanceId: "a" }).start();
  let b: EventConsumer | undefined;
  try {
    await eventually("a owns every partition", () => a.ownedPartitions.length === 16);
    // a's connection goes silent: its renewals get no answer (a request times out after 5 s).
    proxy.freeze();
    const frozenAt = Date.now();
    b = await new EventConsumer({ ...options, nc: direct, instanceId: "b" }).start();
    const both: number[] = [];
    while (b.ownedPartitions.length < 16 && Date.now() - frozenAt < 15_000) {
      const mine = new Set(b.ownedPartitions);
      both.push(...a.ownedPartitions.filter((p) => mine.has(p)));
      await sleep(50);
    }
    // Before, a kept pulling until its stuck renewal round timed out, ~5 s: b took the
    // partitions at the lease's expiry and both pulled them.
    expect(both, "partitions pulled by both instances").toEqual([]);
    expect(b.ownedPartitions).toHaveLength(16);
    expect(a.ownedPartitions).toEqual([]);
  } finally {
    proxy.thaw();
    await b?.stop();
    await a.stop();
  }
}, 60_000);
