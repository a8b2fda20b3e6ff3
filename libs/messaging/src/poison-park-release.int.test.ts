import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ConsumedEvent } from "./consumed-event.js";
import { DLQ } from "./dead-letter.js";
import { EventConsumer } from "./event-consumer.js";
import { messagingNames } from "./names.js";
import { listParkedStreams, parkedEvents, releaseParkedStream } from "./operator.js";
import { ensureStream } from "./provisioning.js";
import { eventually } from "./test-support/child.js";
import { fakeEvent, publishEvents } from "./test-support/publish-events.js";

const env = useTestEnvironment({ label: "messaging_poison" });
let nc: NatsConnection;
beforeAll(async () => {
  nc = await connect({ servers: env.natsUrl });
});
afterAll(async () => {
  await nc?.close();
});

const POISON = "course-poison";
const HEALTHY = ["course-a", "course-b", "course-c", "course-d"];

it("proof 4: a poison event is dead-lettered after the configured attempts, parks its stream, others flow; release resumes it in order", async () => {
  const names = messagingNames(env.natsPrefix);
  await ensureStream(await jetstreamManager(nc), names.contextStream("grades"));
  const handled: Array<{ streamId: string; version: number; released: boolean }> = [];
  const attemptsOnPoison: number[] = [];
  let broken = true;
  const consumer = await new EventConsumer({
    nc,
    names,
    context: "grades",
    durable: "reporting-grades",
    leaseTtlMs: 3000,
    retry: { maxDeliver: 3, backoffMs: [20, 50] },
    handler: async (e: ConsumedEvent) => {
      if (e.streamId === POISON && e.version === 3 && broken) {
        attemptsOnPoison.push(e.attempt);
        throw new Error("cannot apply mark: course has no teacher");
      }
      handled.push({ streamId: e.streamId, version: e.version, released: e.released });
    },
  }).start();
  const target = { nc, names, durable: "reporting-grades" };
  try {
    const events = [];
    for (let v = 1; v <= 10; v++) {
      for (const s of [POISON, ...HEALTHY]) events.push(fakeEvent(s, v, { v }));
    }
    await publishEvents(nc, names, "grades", events);

    // Every other stream flows to its end.
    await eventually("healthy streams handled", () =>
      HEALTHY.every((s) => handled.filter((h) => h.streamId === s).length === 10),
    );
    const versionsOf = (s: string) => handled.filter((h) => h.streamId === s).map((h) => h.version);
    for (const s of HEALTHY) expect(versionsOf(s)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    // The poison event: 3 attempts, then the dead-letter stream with its error; the rest of
    // its stream parked behind it, in order.
    await eventually("the poison stream's later events parked", async () => {
      return (await parkedEvents(target, POISON)).length === 8;
    });
    expect(attemptsOnPoison).toEqual([1, 2, 3]);
    expect(versionsOf(POISON)).toEqual([1, 2]);
    const letters = await parkedEvents(target, POISON);
    expect(letters.map((l) => Number(l.headers.get("ce-streamversion")))).toEqual([
      3, 4, 5, 6, 7, 8, 9, 10,
    ]);
    expect(letters[0]!.reason).toBe("poison");
    expect(letters[0]!.headers.get(DLQ.error)).toContain("course has no teacher");
    expect(letters[0]!.headers.get(DLQ.attempts)).toBe("3");
    expect(letters.slice(1).every((l) => l.reason === "parked")).toBe(true);
    const parked = await listParkedStreams(target);
    expect(parked.map((p) => [p.streamId, p.version, p.state])).toEqual([[POISON, 3, "parked"]]);

    // An event arriving while parked joins the queue; healthy streams still flow.
    await publishEvents(nc, names, "grades", [fakeEvent(POISON, 11), fakeEvent("course-a", 11)]);
    await eventually("course-a v11 handled", () => versionsOf("course-a").includes(11));
    await eventually("v11 parked", async () => (await parkedEvents(target, POISON)).length === 9);

    // The fault is fixed; the operator releases the stream: v3..v11 in order, then unparked.
    broken = false;
    await releaseParkedStream(target, POISON);
    await eventually("the released stream handled", () => versionsOf(POISON).length === 11);
    expect(versionsOf(POISON)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(handled.filter((h) => h.streamId === POISON && h.released).length).toBe(9);
    await eventually("unparked", async () => (await listParkedStreams(target)).length === 0);
    expect(await parkedEvents(target, POISON)).toEqual([]);

    // After release, new events of the stream are handled directly again.
    await publishEvents(nc, names, "grades", [fakeEvent(POISON, 12)]);
    await eventually("v12 handled", () => versionsOf(POISON).includes(12));
    expect(handled.at(-1)).toEqual({ streamId: POISON, version: 12, released: false });
  } finally {
    await consumer.stop();
  }
}, 60_000);
