import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { type PrivateNatsCluster, startPrivateNatsCluster } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openLeaseBucket } from "./kv-buckets.js";
import { messagingNames } from "./names.js";
import { ensureStream } from "./provisioning.js";

// A private 3-server cluster: the shared server is a single node, where R3 cannot exist.
let cluster: PrivateNatsCluster;
let nc: NatsConnection;
beforeAll(async () => {
  cluster = await startPrivateNatsCluster(3);
  nc = await connect({ servers: cluster.url.split(",") });
}, 60_000);
afterAll(async () => {
  await nc?.close();
  await cluster?.dispose();
});

it("creates context, dead-letter streams and KV buckets with the configured replicas", async () => {
  const jsm = await jetstreamManager(nc);
  const names = messagingNames("r3", { replicas: 3 });
  expect(names.contextStream("grades")).toMatchObject({ name: "r3_GRADES", replicas: 3 });
  const info = await ensureStream(jsm, names.contextStream("grades"));
  expect(info.config.num_replicas).toBe(3);
  // A leader and two current followers: the stream survives the loss of any one server.
  expect(info.cluster?.replicas?.length).toBe(2);
  const dlq = await ensureStream(jsm, names.deadLetterStream);
  expect(dlq.config.num_replicas).toBe(3);
  const kv = await openLeaseBucket(nc, names);
  expect((await kv.status()).replicas).toBe(3);
}, 60_000);

it("defaults to one replica, and scales an existing stream up when the setting changes", async () => {
  const jsm = await jetstreamManager(nc);
  const single = messagingNames("r1");
  expect(single.replicas).toBe(1);
  const created = await ensureStream(jsm, single.contextStream("curriculum"));
  expect(created.config.num_replicas).toBe(1);
  const scaled = await ensureStream(
    jsm,
    messagingNames("r1", { replicas: 3 }).contextStream("curriculum"),
  );
  expect(scaled.config.num_replicas).toBe(3);
  expect(scaled.created).toEqual(created.created);
}, 60_000);

it("opens a KV bucket made with one replica after the setting changes to three", async () => {
  await openLeaseBucket(nc, messagingNames("kv1"));
  const kv = await openLeaseBucket(nc, messagingNames("kv1", { replicas: 3 }));
  expect((await kv.status()).replicas).toBe(3);
}, 60_000);

it("rejects a replica count JetStream cannot hold", () => {
  expect(() => messagingNames("x", { replicas: 0 })).toThrow(RangeError);
  expect(() => messagingNames("x", { replicas: 2.5 })).toThrow(RangeError);
});
