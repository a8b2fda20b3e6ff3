import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Checkpoint } from "@otmetka/eventstore";
import { H } from "./envelope.js";
import { type EventRouting, toMessage } from "./event-message.js";
import { compareCheckpoints, type LogReader } from "./log-reader.js";

export interface RepublishOptions extends EventRouting {
  nc: NatsConnection;
  log: LogReader;
  /** Log range: events after `after` up to and including `through`. */
  after: Checkpoint;
  through: Checkpoint;
  maxInFlight?: number;
  batchSize?: number;
}

/**
 * Publishes a range of the log again, to repair a stream (a consumer rebuilt from a stream
 * that lost messages, a purge by mistake). No sequence precondition: the messages append at
 * the stream's end, deduplicated by event id inside the duplicate window, and marked so the
 * relay's resume steps over them (consumers must be idempotent anyway). Returns the count.
 */
export async function republish(o: RepublishOptions): Promise<number> {
  const js = jetstream(o.nc);
  const maxInFlight = o.maxInFlight ?? 256;
  const inFlight = new Set<Promise<unknown>>();
  let after = o.after;
  let count = 0;
  for (;;) {
    const page = await o.log.readAll(after, o.batchSize ?? 1000);
    const events = page.events.filter((e) => compareCheckpoints(e.checkpoint, o.through) <= 0);
    for (const event of events) {
      const m = toMessage(event, o);
      m.headers.set(H.republished, "true");
      const p = js.publish(m.subject, m.payload, { msgID: m.msgId, headers: m.headers });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p)).catch(() => {});
      if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
      count++;
    }
    if (events.length < page.events.length || page.events.length === 0) break;
    after = page.checkpoint;
  }
  await Promise.all(inFlight);
  return count;
}
