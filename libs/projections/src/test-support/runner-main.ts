/**
 * A live projection runner as its own process, for the crash proof. Env: DATABASE_URL,
 * NATS_URL, NATS_PREFIX, FLUSH_DELAY_MS (widens the window inside the transaction),
 * MAX_BATCH, CRASH_AFTER_COMMIT_BATCH=n (SIGKILLs itself after the n-th commit, before acks).
 * Prints "runner ready" and then "counters <json>" now and then.
 */
import { connect } from "@nats-io/transport-node";
import { messagingNames } from "@otmetka/messaging";
import pg from "pg";
import { ProjectionRunner } from "../projection-runner.js";
import { countingProjection } from "./counting-projection.js";

const crashAt = Number(process.env.CRASH_AFTER_COMMIT_BATCH ?? 0);
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 3 });
const nc = await connect({ servers: process.env.NATS_URL ?? "" });
const runner = await new ProjectionRunner({
  projection: countingProjection("counting", {
    flushDelayMs: Number(process.env.FLUSH_DELAY_MS ?? 0),
  }),
  pool,
  nc,
  names: messagingNames(process.env.NATS_PREFIX),
  maxBatch: Number(process.env.MAX_BATCH ?? 200),
  afterCommit: (b) => {
    if (crashAt > 0 && runner.counters.batches >= crashAt) {
      console.log(`crashing after commit of a batch of ${b.messages}, before its acks`);
      process.kill(process.pid, "SIGKILL");
    }
  },
  onError: (err, where) => console.error(`${where}: ${(err as Error).message}`),
}).start();
console.log("runner ready");
setInterval(() => console.log(`counters ${JSON.stringify(runner.counters)}`), 200);
