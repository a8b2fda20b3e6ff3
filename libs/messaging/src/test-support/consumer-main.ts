/**
 * A consumer instance as its own process, for the shared-work proof: env DATABASE_URL,
 * NATS_URL, NATS_PREFIX, INSTANCE_ID, LEASE_TTL_MS, HANDLER_DELAY_MS. The handler writes the
 * inbox of test-support/inbox.ts. Prints "consumer ready" and "owns <partitions>" on changes.
 */
import { connectNats } from "@otmetka/service-kit";
import pg from "pg";
import { EventConsumer } from "../event-consumer.js";
import { messagingNames } from "../names.js";
import { recordHandled } from "./inbox.js";

process.on("unhandledRejection", (err) => {
  console.error("unhandled rejection:", err);
  process.exit(70);
});
const instance = process.env.INSTANCE_ID ?? `i${process.pid}`;
const delay = Number(process.env.HANDLER_DELAY_MS ?? 0);
const db = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
const nc = await connectNats({ url: process.env.NATS_URL ?? "", name: instance });
const consumer = await new EventConsumer({
  nc,
  names: messagingNames(process.env.NATS_PREFIX),
  context: "grades",
  durable: "reporting-grades",
  instanceId: instance,
  leaseTtlMs: Number(process.env.LEASE_TTL_MS ?? 2000),
  handler: async (e) => {
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    await recordHandled(db, e, instance);
  },
  onError: (err, where) => console.error(`${instance} ${where}: ${(err as Error).message}`),
}).start();
console.log("consumer ready");
let last = "";
setInterval(() => {
  const owns = consumer.ownedPartitions.join(",");
  if (owns !== last) console.log(`owns ${owns}`);
  last = owns;
}, 100);

const shutdown = async () => {
  await consumer.stop();
  await nc.drain();
  await db.end();
  process.exit(0);
};
process.on("SIGTERM", shutdown);
