import { setTimeout as sleep } from "node:timers/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { EventStore } from "@otmetka/eventstore";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { messagingNames } from "./names.js";
import { ensureStream } from "./provisioning.js";
import { OutboxRelay } from "./relay.js";
import { eventually } from "./test-support/child.js";
import { appendRounds, openLog } from "./test-support/log.js";
import { checkExactlyOnceInOrder, readStreamMessages } from "./test-support/stream-contents.js";

const env = useTestEnvironment({ label: "messaging_relay_gapless" });
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

it("a publish the server rejects mid-pipeline leaves no gap: later events wait until it goes in", async () => {
  const names = messagingNames(env.natsPrefix);
  const spec = names.contextStream("grades");
  const jsm = await jetstreamManager(nc);
  const info = await ensureStream(jsm, spec);
  // The server refuses messages over 4 KB; one event in the middle of the log is larger.
  await jsm.streams.update(spec.name, { ...info.config, max_msg_size: 4096 });
  await appendRounds(store, { streams: 50, rounds: 4 }); // 200 small events
  await store.append("course-big", "no_stream", [
    { type: "grades.v1.MarkRecorded", data: { comment: "x".repeat(6000) } },
  ]);
  await appendRounds(store, { streams: 50, rounds: 4, firstRound: 5 }); // 200 more behind it
  const errors: string[] = [];
  const relay = new OutboxRelay({
    nc,
    log: store,
    stream: spec.name,
    databaseUrl: env.databaseUrl,
    subjectRoot: names.eventRoot("grades"),
    source: "grades",
    onError: (err) => errors.push((err as Error).message),
  }).start();
  try {
    await eventually("the rejection reported", () => errors.length > 0);
    await sleep(500);
    // Only the prefix before the big event is in: nothing from behind it slipped past.
    const before = await readStreamMessages(nc, spec.name);
    expect(before.length).toBe(200);
    expect(before.some((m) => m.streamId === "course-big")).toBe(false);
    expect(before.every((m) => m.version <= 4)).toBe(true);

    // The operator raises the limit: the relay goes on from exactly there.
    const current = await jsm.streams.info(spec.name);
    await jsm.streams.update(spec.name, { ...current.config, max_msg_size: -1 });
    await eventually("all 401 events in", async () => {
      return (await jsm.streams.info(spec.name)).state.messages >= 401;
    });
    await sleep(300);
  } finally {
    await relay.stop();
  }
  const ids = new Set<string>();
  for (let page = await store.readAll(undefined, 1000); page.events.length > 0; ) {
    for (const e of page.events) ids.add(e.eventId);
    page = await store.readAll(page.checkpoint, 1000);
  }
  const messages = await readStreamMessages(nc, spec.name);
  expect(messages.length).toBe(401);
  expect(checkExactlyOnceInOrder(messages, ids)).toEqual([]);
}, 60_000);
