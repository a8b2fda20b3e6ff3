import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openLeaseBucket } from "./kv-buckets.js";
import { messagingNames } from "./names.js";

const env = useTestEnvironment({ label: "messaging_kv_buckets" });
let nc: NatsConnection;
let other: NatsConnection;
beforeAll(async () => {
  nc = await connect({ servers: env.natsUrl });
  other = await connect({ servers: env.natsUrl });
});
afterAll(async () => {
  await nc?.close();
  await other?.close();
});

/**
 * `nc` with the race between instances made to happen: nats.js's Kvm.create asks for the
 * bucket's stream (not there yet), and just before its creation request another instance
 * (its own connection) creates the bucket with other settings, so JetStream refuses ours
 * (10058). Every request still goes to the real server.
 */
function racedBy(conn: NatsConnection, stream: string, otherCreates: () => Promise<unknown>) {
  const seen: { refusal?: string } = {};
  const raced = new Proxy(conn, {
    get(target, prop) {
      if (prop === "request") {
        return async (subject: string, ...rest: Parameters<NatsConnection["request"]>[1][]) => {
          if (subject.endsWith(`.STREAM.CREATE.${stream}`)) await otherCreates();
          const answer = await target.request(subject, ...(rest as []));
          if (subject.endsWith(`.STREAM.CREATE.${stream}`)) seen.refusal = answer.string();
          return answer;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { nc: raced, seen };
}

it("an instance that loses the race to create a bucket with other settings opens it and applies its own", async () => {
  const names = messagingNames(`${env.natsPrefix}_race`);
  const stream = `KV_${names.leaseBucket}`;
  const { nc: raced, seen } = racedBy(nc, stream, () => openLeaseBucket(other, names, 5_000));
  const kv = await openLeaseBucket(raced, names, 7_000);
  expect(seen.refusal).toMatch(/10058/); // the race happened: our creation was refused
  const info = await (await jetstreamManager(nc)).streams.info(stream);
  expect(info.config.max_age).toBe(7_000 * 1_000_000); // ours, applied by an update
  await kv.put("k", "v"); // and the bucket works through nats.js's KV API
  expect((await kv.get("k"))?.string()).toBe("v");
});

it("two instances creating a bucket with other settings at once both open it", async () => {
  const names = messagingNames(`${env.natsPrefix}_both`);
  const opened = await Promise.all([
    openLeaseBucket(nc, names, 5_000),
    openLeaseBucket(other, names, 7_000),
  ]);
  expect(opened).toHaveLength(2);
  const info = await (await jetstreamManager(nc)).streams.info(`KV_${names.leaseBucket}`);
  expect([5_000_000_000, 7_000_000_000]).toContain(info.config.max_age);
});

it("an existing bucket takes the settings of the instance opening it", async () => {
  const names = messagingNames(`${env.natsPrefix}_later`);
  await openLeaseBucket(nc, names, 5_000);
  const longer = await openLeaseBucket(nc, names, 8_000);
  expect((await longer.status()).ttl).toBe(8_000);
  // Shorter than the duplicate window JetStream set at creation (the 5 s max_age then).
  const shorter = await openLeaseBucket(nc, names, 3_000);
  expect((await shorter.status()).ttl).toBe(3_000);
});
