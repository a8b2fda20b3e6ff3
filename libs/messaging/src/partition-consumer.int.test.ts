import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { PartitionConsumerReplaced } from "./errors.js";
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
  // Both requests reach the server, their answers do not: asked again in place, the info read
  // before repeating the delete finds nothing left (done) and the same creation is answered
  // as a success.
  const losing = losingAnswers(g.jsm, "consumers", {
    info: ["dropped"],
    delete: ["sent"],
    add: ["sent"],
  });
  expect(await preparePartitionConsumer({ ...g, jsm: losing.jsm }, PARTITION)).toBe(name);
  expect(losing.calls).toEqual({ info: 3, delete: 1, add: 2 });
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

it("a retried delete leaves alone the consumer the partition's next holder created meanwhile", async () => {
  const { g, name, js } = await leftByACrash("replaceddelete");
  // A's delete goes through unanswered; before A asks again, its lease has run out and B, the
  // new holder, finds no consumer and creates one from sequence 1.
  let created = "";
  const losing = losingAnswers(g.jsm, "consumers", { delete: ["sent"] }, async () => {
    await preparePartitionConsumer(g, PARTITION);
    created = (await g.jsm.consumers.info(g.stream, name)).created;
  });
  const prepared = preparePartitionConsumer({ ...g, jsm: losing.jsm }, PARTITION);
  await expect(prepared).rejects.toBeInstanceOf(PartitionConsumerReplaced);
  expect(losing.calls.delete).toBe(1);
  expect(losing.calls.add).toBeUndefined();
  // B's consumer, untouched: not deleted, not re-created at A's old floor.
  const info = await g.jsm.consumers.info(g.stream, name);
  expect(info.created).toBe(created);
  expect(info.config.deliver_policy).toBe("all");
  expect(await firstDelivered(js, g.stream, name)).toBe(1);
});

it("asks nothing again once aborted (the worker stopped, its lease lost)", async () => {
  const { g, name } = await leftByACrash("aborteddelete");
  const stop = new AbortController();
  const losing = losingAnswers(g.jsm, "consumers", { delete: ["dropped"] }, () => stop.abort());
  const prepared = preparePartitionConsumer({ ...g, jsm: losing.jsm }, PARTITION, stop.signal);
  await expect(prepared).rejects.toMatchObject({ name: "AbortError" });
  expect(losing.calls).toEqual({ info: 1, delete: 1 });
  // Left as the crash left it, for the next holder to prepare.
  expect((await g.jsm.consumers.info(g.stream, name)).ack_floor.stream_seq).toBe(2);

  // Aborted before a creation's retry: the lost creation is not asked again either.
  const { g: g2, name: name2 } = await leftByACrash("abortedadd");
  const stop2 = new AbortController();
  const losing2 = losingAnswers(g2.jsm, "consumers", { add: ["dropped"] }, () => stop2.abort());
  await expect(
    preparePartitionConsumer({ ...g2, jsm: losing2.jsm }, PARTITION, stop2.signal),
  ).rejects.toMatchObject({ name: "AbortError" });
  expect(losing2.calls).toEqual({ info: 1, delete: 1, add: 1 });
  await expect(g2.jsm.consumers.info(g2.stream, name2)).rejects.toThrow(/not found/);
});
