import { setTimeout as sleep } from "node:timers/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { EventConsumer, ownerOf } from "./event-consumer.js";
import { openLeaseBucket } from "./kv-buckets.js";
import { messagingNames } from "./names.js";
import { ensureStream } from "./provisioning.js";
import { partitionOf } from "./subjects.js";
import { eventually } from "./test-support/child.js";
import { fakeEvent, publishEvents } from "./test-support/publish-events.js";

const env = useTestEnvironment({ label: "messaging_lease_renewal" });
let nc: NatsConnection;
beforeAll(async () => {
  nc = await connect({ servers: env.natsUrl });
});
afterAll(async () => {
  await nc?.close();
});

const PARTITIONS = 16; // as publishEvents routes
const TTL = 1500;
const DURABLE = "reporting-slow";
const ME = "instance-a";

/** A second member that takes `slow` from ME and leaves `kept` to it. */
function layout() {
  for (let i = 0; ; i++) {
    const other = `instance-${i}`;
    const owners = [...Array(PARTITIONS).keys()].map((p) => ownerOf(p, [ME, other]));
    const slow = owners.indexOf(other);
    const kept = owners.indexOf(ME);
    if (slow >= 0 && kept >= 0) {
      let n = 0;
      while (partitionOf(`course-${n}`, PARTITIONS) !== slow) n++;
      return { other, slow, kept, streamId: `course-${n}` };
    }
  }
}

it("renews the other partitions' leases while a given-back worker is slow to stop, and takes its partition again only after it stopped", async () => {
  const names = messagingNames(env.natsPrefix);
  await ensureStream(await jetstreamManager(nc), names.contextStream("grades"));
  const { other, slow, kept, streamId } = layout();
  let inHandler = 0;
  let finish = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const handled: string[] = [];
  const consumer = await new EventConsumer({
    nc,
    names,
    context: "grades",
    durable: DURABLE,
    partitions: PARTITIONS,
    instanceId: ME,
    leaseTtlMs: TTL,
    handler: async (e) => {
      inHandler++;
      await finished; // the event in hand is not interrupted by a stop
      handled.push(`${e.streamId}@${e.version}`);
    },
  }).start();
  const kv = await openLeaseBucket(nc, names, TTL);
  // The other member announces itself as an instance does, and deletes its key on leaving.
  let present = false;
  let announcing = Promise.resolve();
  const join = () => {
    present = true;
    announcing = (async () => {
      while (present) {
        await kv.put(`${DURABLE}.m.${other}`, other);
        await sleep(200);
      }
      await kv.delete(`${DURABLE}.m.${other}`);
    })();
  };
  const leave = async () => {
    present = false;
    await announcing;
  };
  const lease = async (p: number) => {
    const e = await kv.get(`${DURABLE}.l.${p}`);
    return e?.operation === "PUT" ? { holder: e.string(), revision: e.revision } : undefined;
  };
  try {
    await eventually("all partitions owned", () => consumer.ownedPartitions.length === PARTITIONS);
    await publishEvents(nc, names, "grades", [fakeEvent(streamId, 1)]);
    await eventually("the slow event in hand", () => inHandler === 1);

    // Another member appears: `slow` is given back, its worker waits for its handler.
    join();
    await eventually("slow given back", () => !consumer.ownedPartitions.includes(slow));
    const first = await lease(kept);
    for (const end = Date.now() + 3 * TTL; Date.now() < end; ) {
      expect(await lease(kept), `lease of partition ${kept}`).toMatchObject({ holder: ME });
      // The given-back partition's lease stays ME's while its worker finishes the event in
      // hand: were it left to expire, its next owner would pull while that handler runs.
      expect(await lease(slow), `lease of given-back partition ${slow}`).toMatchObject({
        holder: ME,
      });
      await sleep(200);
    }
    expect((await lease(kept))!.revision).toBeGreaterThan(first!.revision);
    expect(consumer.ownedPartitions).toContain(kept);

    // The member leaves again: `slow` is free once its lease expires, but not taken while the
    // old worker still holds its event (two workers of one partition).
    await leave();
    await sleep(3 * TTL);
    expect(consumer.ownedPartitions).not.toContain(slow);
    expect(await lease(slow), `lease of given-back partition ${slow}`).toMatchObject({
      holder: ME,
    });
    finish();
    await eventually("slow taken again", () => consumer.ownedPartitions.includes(slow));
    expect(handled).toEqual([`${streamId}@1`]);
  } finally {
    finish();
    await leave();
    await consumer.stop();
  }
});
