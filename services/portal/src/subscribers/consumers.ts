import { AckPolicy, DeliverPolicy, type JetStreamManager } from "@nats-io/jetstream";
import { DomainError } from "@otmetka/service-kit";
import type { PortalNames } from "../stream.js";

/** Where a subscriber's consumer starts. */
export type StartPosition =
  | { from: "backfill" } // the latest message of every subject, then the live flow
  | { from: "start" }
  | { from: "sequence"; sequence: number }
  | { from: "time"; time: Date }
  | { from: "new" };

const NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;

export function checkSubscriberName(name: string): string {
  if (!NAME.test(name)) {
    throw new DomainError("invalid_argument", "subscriber: must be 1-40 of a-z 0-9 -", {
      field: "subscriber",
    });
  }
  return name;
}

function deliverOf(start: StartPosition) {
  switch (start.from) {
    case "backfill":
      return { deliver_policy: DeliverPolicy.LastPerSubject };
    case "start":
      return { deliver_policy: DeliverPolicy.All };
    case "new":
      return { deliver_policy: DeliverPolicy.New };
    case "sequence":
      if (!Number.isInteger(start.sequence) || start.sequence < 1) {
        throw new DomainError("invalid_argument", "start.sequence: must be an integer >= 1", {
          field: "start.sequence",
        });
      }
      return { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start.sequence };
    case "time":
      if (Number.isNaN(start.time.getTime())) {
        throw new DomainError("invalid_argument", "start.time: must be a valid time", {
          field: "start.time",
        });
      }
      return { deliver_policy: DeliverPolicy.StartTime, opt_start_time: start.time.toISOString() };
  }
}

/**
 * (Re)creates the subscriber's durable pull consumer at `start`. A replay is the same call on an
 * existing subscriber: its consumer is replaced, so the next fetch starts there.
 */
export async function provisionSubscriberConsumer(
  jsm: JetStreamManager,
  names: PortalNames,
  subscriber: string,
  start: StartPosition,
): Promise<void> {
  const durable = names.durable(checkSubscriberName(subscriber));
  const deliver = deliverOf(start);
  await jsm.consumers.delete(names.stream, durable).catch(() => false);
  await jsm.consumers.add(names.stream, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    ack_wait: 30_000_000_000,
    max_ack_pending: 1000,
    // Required by last-per-subject on 2.9; the whole feed for every subscriber.
    filter_subject: `${names.root}.>`,
    ...deliver,
  });
}
