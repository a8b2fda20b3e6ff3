import { setTimeout as sleep } from "node:timers/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { EventConsumer } from "./event-consumer.js";
import { messagingNames } from "./names.js";
import { ensureStream } from "./provisioning.js";
import { eventually } from "./test-support/child.js";

const env = useTestEnvironment({ label: "messaging_lease_under_load" });
let nc: NatsConnection;
beforeAll(async () => {
  nc = await connect({ servers: env.natsUrl });
});
afterAll(async () => {
  await nc?.close();
});

const TTL = 1500;

/** Keeps the event loop busy for `blockMs` out of every `blockMs + gapMs`, as CPU load does. */
function loadEventLoop(blockMs: number, gapMs: number): () => void {
  let on = true;
  void (async () => {
    while (on) {
      const until = Date.now() + blockMs;
      while (Date.now() < until) {} // busy: timers and answers from NATS wait meanwhile
      await sleep(gapMs);
    }
  })();
  return () => {
    on = false;
  };
}

it("a healthy instance whose event loop lags keeps its partitions", async () => {
  const names = messagingNames(env.natsPrefix);
  await ensureStream(await jetstreamManager(nc), names.contextStream("grades"));
  const consumer = await new EventConsumer({
    nc,
    names,
    context: "grades",
    durable: "reporting-loaded",
    instanceId: "only",
    leaseTtlMs: TTL,
    handler: async () => {},
  }).start();
  try {
    await eventually("all partitions owned", () => consumer.ownedPartitions.length === 16);
    // Every renewal is answered (one instance, NATS healthy), only late: the lease is safe,
    // and a partition stopped here would wait for its lease to expire before anyone pulls it.
    const fewest: number[] = [];
    const unload = loadEventLoop(300, 20);
    try {
      for (const end = Date.now() + 5 * TTL; Date.now() < end; ) {
        fewest.push(consumer.ownedPartitions.length);
        await sleep(10);
      }
    } finally {
      unload();
    }
    expect(Math.min(...fewest), "partitions owned while the event loop lags").toBe(16);
  } finally {
    await consumer.stop();
  }
}, 60_000);
