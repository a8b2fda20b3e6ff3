import { setTimeout as sleep } from "node:timers/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ConsumedEvent } from "./consumed-event.js";
import { EventConsumer } from "./event-consumer.js";
import { messagingNames } from "./names.js";
import { listParkedStreams, parkedEvents, releaseParkedStream } from "./operator.js";
import { ensureStream } from "./provisioning.js";
import { partitionOf } from "./subjects.js";
import { eventually } from "./test-support/child.js";
import { fakeEvent, publishEvents } from "./test-support/publish-events.js";

const env = useTestEnvironment({ label: "messaging_release_in_hand" });
let nc: NatsConnection;
beforeAll(async () => {
  nc = await connect({ servers: env.natsUrl });
});
afterAll(async () => {
  await nc?.close();
});

/** Two aggregate streams of one partition. */
function samePartition(): [string, string] {
  const first = "course-0";
  const p = partitionOf(first, 16);
  let n = 1;
  while (partitionOf(`course-${n}`, 16) !== p) n++;
  return [first, `course-${n}`];
}

it("an operator release waits for the partition's event in hand: one handler at a time per partition", async () => {
  const names = messagingNames(env.natsPrefix);
  await ensureStream(await jetstreamManager(nc), names.contextStream("grades"));
  const [parkedStream, slowStream] = samePartition();
  let broken = true;
  let finish = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  let active = 0;
  let mostActive = 0;
  const handled: string[] = [];
  const consumer = await new EventConsumer({
    nc,
    names,
    context: "grades",
    durable: "reporting-release",
    leaseTtlMs: 3000,
    retry: { maxDeliver: 1, backoffMs: [10] },
    handler: async (e: ConsumedEvent) => {
      active++;
      mostActive = Math.max(mostActive, active);
      try {
        if (e.streamId === parkedStream && broken) throw new Error("no teacher yet");
        if (e.streamId === slowStream) await finished;
        handled.push(`${e.streamId}@${e.version}`);
      } finally {
        active--;
      }
    },
  }).start();
  const target = { nc, names, durable: "reporting-release" };
  try {
    await publishEvents(nc, names, "grades", [fakeEvent(parkedStream, 1)]);
    await eventually("parked", async () => (await parkedEvents(target, parkedStream)).length === 1);

    // The partition's next event is in hand, its handler slow; meanwhile the operator releases.
    await publishEvents(nc, names, "grades", [fakeEvent(slowStream, 1)]);
    await eventually("the slow event in hand", () => active === 1);
    broken = false;
    await releaseParkedStream(target, parkedStream);
    await sleep(1500);
    // Before, the release re-handled the parked stream at once, beside the event in hand.
    expect(handled).toEqual([]);
    expect(mostActive).toBe(1);

    finish();
    await eventually("released stream handled", () => handled.length === 2);
    expect(handled).toEqual([`${slowStream}@1`, `${parkedStream}@1`]);
    expect(mostActive).toBe(1);
    await eventually("unparked", async () => (await listParkedStreams(target)).length === 0);
  } finally {
    finish();
    await consumer.stop();
  }
}, 60_000);
