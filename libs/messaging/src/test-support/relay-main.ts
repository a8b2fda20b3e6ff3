/**
 * The relay as its own process, for the crash proof: env DATABASE_URL, NATS_URL, NATS_PREFIX,
 * RELAY_CONTEXT (default grades), DUPLICATE_WINDOW_MS, RELAY_SIGKILL_AFTER (see below).
 * Prints "relay ready" once started.
 */
import { connectNats } from "@otmetka/service-kit";
import type { LogReader } from "../log-reader.js";
import { messagingNames } from "../names.js";
import { ensureStream } from "../provisioning.js";
import { OutboxRelay } from "../relay.js";
import { openLog } from "./log.js";

const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`relay-main: ${name} is not set`);
  return v;
};

const context = process.env.RELAY_CONTEXT ?? "grades";
const names = messagingNames(process.env.NATS_PREFIX);
const databaseUrl = env("DATABASE_URL");
const nc = await connectNats({ url: env("NATS_URL"), name: "relay-main" });
const stream = names.contextStream(context);
const { jetstreamManager } = await import("@nats-io/jetstream");
await ensureStream(await jetstreamManager(nc), {
  ...stream,
  duplicateWindowMs: Number(process.env.DUPLICATE_WINDOW_MS ?? 120_000),
});
const log = await openLog(databaseUrl);

/**
 * RELAY_SIGKILL_AFTER=n: the process SIGKILLs itself once the relay has the page that takes
 * it past n events read, after that turn's publishes went out and before any ack is read
 * (an immediate runs before the next poll for I/O). So publishes are always in flight at
 * the kill and fewer events than it read are in the stream; a kill from outside at a
 * stream count could come late enough, on a loaded machine, to find the relay done.
 */
function sigkillAfter(reader: LogReader, n: number): LogReader {
  let read = 0;
  return {
    readAll: async (after, limit) => {
      const page = await reader.readAll(after, limit);
      read += page.events.length;
      if (read > n) {
        console.log(`relay SIGKILL after reading ${read} events`); // a pipe: written at once
        setImmediate(() => process.kill(process.pid, "SIGKILL"));
      }
      return page;
    },
  };
}

const killAfter = process.env.RELAY_SIGKILL_AFTER;
const relay = new OutboxRelay({
  nc,
  log: killAfter ? sigkillAfter(log, Number(killAfter)) : log,
  stream: stream.name,
  databaseUrl,
  subjectRoot: names.eventRoot(context),
  source: context,
  onError: (err) => console.error("relay error:", (err as Error).message),
}).start();
console.log("relay ready");
// Tells the test which instance holds the lock.
let wasActive = false;
setInterval(() => {
  if (relay.stats.active !== wasActive)
    console.log(relay.stats.active ? "relay active" : "relay standby");
  wasActive = relay.stats.active;
}, 50);

const shutdown = async () => {
  await relay.stop();
  await log.close();
  await nc.drain();
  process.exit(0);
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
