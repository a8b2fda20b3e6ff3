import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { messagingNames } from "./names.js";
import { preparePartitionConsumer } from "./partition-consumer.js";
import { ensureStream } from "./provisioning.js";
import { losingAnswers } from "./test-support/losing-answers.js";

const env = useTestEnvironment({ label: "messaging_partition_consumer" });
let nc: NatsConnection;
beforeAll(async () => {
  nc = await connect({ servers: env.natsUrl });
});
afterAll(async () => {
  await nc?.close();
});

const PARTITION = 3;

/**
 * A partition consumer as a crashed holder leaves it: 5 events of the partition delivered,
 * the first 2 acked (ack floor 2), 3 outstanding.
 */
async function leftByACrash(context: string) {
  const names = messagingNames(env.natsPrefix);
  const jsm = await jetstreamManager(nc);
  const stream = names.contextStream(context).name;
  await ensureStream(jsm, names.contextStream(context));
  const g = {
    jsm,
    names,
    stream,
    subjectRoot: names.eventRoot(context),
    durable: `${context}-test`,
    ackWaitMs: 30_000,
    maxAckPending: 100,
  };
  const js = jetstream(nc);
  for (let i = 1; i <= 5; i++) await js.publish(`${g.subjectRoot}._._.${PARTITION}.Test`, `${i}`);
  const name = await preparePartitionConsumer(g, PARTITION);
  const batch = await (await js.consumers.get(stream, name)).fetch({ max_messages: 5 });
  let n = 0;
  for await (const m of batch) if (++n <= 2) m.ack();
  await nc.flush();
  expect((await jsm.consumers.info(stream, name)).ack_floor.stream_seq).toBe(2);
  return { g, name, js };
}

/** The first event the partition's consumer now delivers. */
async function firstDelivered(js: ReturnType<typeof jetstream>, stream: string, name: string) {
  const m = await (await js.consumers.get(stream, name)).next({ expires: 2000 });
  return m?.seq;
}

it("re-creates the consumer after its ack floor although the delete's and the creation's answers are lost", async () => {
  const { g, name, js } = await leftByACrash("lostdelete");
  // Both requests reach the server, their answers do not: asked again in place, the delete
  // finds nothing left (done) and the same creation is answered as a success.
  const losing = losingAnswers(g.jsm, "consumers", {
    info: ["dropped"],
    delete: ["sent"],
    add: ["sent"],
  });
  expect(await preparePartitionConsumer({ ...g, jsm: losing.jsm }, PARTITION)).toBe(name);
  expect(losing.calls).toEqual({ info: 2, delete: 2, add: 2 });
  const info = await g.jsm.consumers.info(g.stream, name);
  expect(info.config).toMatchObject({ deliver_policy: "by_start_sequence", opt_start_seq: 3 });
  // Right after the floor, not from sequence 1 again.
  expect(await firstDelivered(js, g.stream, name)).toBe(3);
});

it("a session retried after a lost delete answer still starts after the ack floor", async () => {
  const { g, name, js } = await leftByACrash("retrieddelete");
  const losing = losingAnswers(g.jsm, "consumers", { delete: ["sent"] });
  // As the partition worker does: a failed preparation is tried again by its next session.
  await preparePartitionConsumer({ ...g, jsm: losing.jsm }, PARTITION).catch(() =>
    preparePartitionConsumer(g, PARTITION),
  );
  expect(await firstDelivered(js, g.stream, name)).toBe(3);
});
