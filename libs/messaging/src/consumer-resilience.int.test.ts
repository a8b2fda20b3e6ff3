import { setTimeout as sleep } from "node:timers/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats } from "@otmetka/service-kit";
import { type PrivateNats, startPrivateNats } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { EventConsumer } from "./event-consumer.js";
import { messagingNames } from "./names.js";
import { ensureStream } from "./provisioning.js";
import { eventually } from "./test-support/child.js";
import { fakeEvent, publishEvents } from "./test-support/publish-events.js";

let nats: PrivateNats;
let nc: NatsConnection;
beforeAll(async () => {
  nats = await startPrivateNats();
  nc = await connectNats({ url: nats.url, name: "consumer-resilience-test" });
});
afterAll(async () => {
  await nc?.close();
  await nats?.dispose();
});

const STREAMS = 100;
const VERSIONS = 20;

it("the consume loop survives a NATS restart and the deletion of its consumer, keeping version order", async () => {
  const names = messagingNames("cr");
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, names.contextStream("grades"));
  const firstSeen = new Map<string, number[]>();
  const handledIds = new Set<string>();
  let calls = 0;
  const consumer = await new EventConsumer({
    nc,
    names,
    context: "grades",
    durable: "reporting-grades",
    handler: async (e) => {
      calls++;
      await sleep(1);
      if (handledIds.has(e.eventId)) return; // the inbox: a redelivery changes nothing
      handledIds.add(e.eventId);
      const list = firstSeen.get(e.streamId) ?? [];
      list.push(e.version);
      firstSeen.set(e.streamId, list);
    },
  }).start();
  try {
    const publishing = (async () => {
      for (let v = 1; v <= VERSIONS; v++) {
        const round = [];
        for (let s = 0; s < STREAMS; s++) round.push(fakeEvent(`course-${s}`, v));
        // Retried through the outage: the relay would do the same.
        for (;;) {
          try {
            await publishEvents(nc, names, "grades", round);
            break;
          } catch {
            await sleep(200);
          }
        }
        await sleep(50);
      }
    })();
    await eventually("a quarter handled", () => handledIds.size >= (STREAMS * VERSIONS) / 4);
    await nats.kill();
    await sleep(1000);
    await nats.restart();
    await eventually("half handled", () => handledIds.size >= (STREAMS * VERSIONS) / 2, 30_000);
    // An operator (or a bad deploy) deletes a partition's durable consumer.
    await jsm.consumers.delete(
      names.contextStream("grades").name,
      names.partitionDurable("reporting-grades", 3),
    );
    await publishing;
    await eventually("everything handled", () => handledIds.size === STREAMS * VERSIONS, 45_000);
  } finally {
    await consumer.stop();
  }
  const expected = Array.from({ length: VERSIONS }, (_, i) => i + 1).join();
  const outOfOrder = [...firstSeen].filter(([, versions]) => versions.join() !== expected);
  expect(outOfOrder).toEqual([]);
  expect(calls).toBeGreaterThanOrEqual(STREAMS * VERSIONS);
  expect(consumer.counters.sessions).toBeGreaterThan(16); // sessions were restarted
}, 90_000);
