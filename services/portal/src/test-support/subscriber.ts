import { type Consumer, jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection, nkeyAuthenticator } from "@nats-io/transport-node";
import { CloudEvent } from "cloudevents";
import type { Harness } from "./harness.js";

export interface Delivered {
  seq: number;
  subject: string;
  event: CloudEvent<Record<string, unknown>>;
}

/** A subscriber as the state portal runs it: its own credentials and inbox prefix. */
export async function connectSubscriber(h: Harness, name: string): Promise<NatsConnection> {
  const u = h.subscriberUser(name);
  return connect({
    servers: h.nats.url,
    authenticator: nkeyAuthenticator(u.seed),
    inboxPrefix: u.inboxPrefix,
  });
}

/**
 * Fetches from the subscriber's durable consumer until `until` holds (or nothing more arrives),
 * acking each message; every message must parse as a valid CloudEvent (strict validation).
 */
export async function drain(
  nc: NatsConnection,
  h: Harness,
  name: string,
  until: (got: Delivered[]) => boolean,
  timeoutMs = 20_000,
): Promise<Delivered[]> {
  const consumer: Consumer = await jetstream(nc).consumers.get(
    h.names.stream,
    h.names.durable(name),
  );
  const got: Delivered[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!until(got) && Date.now() < deadline) {
    const batch = await consumer.fetch({ max_messages: 500, expires: 1000 });
    for await (const m of batch) {
      const json = m.json<Record<string, unknown>>();
      got.push({ seq: m.seq, subject: m.subject, event: new CloudEvent(json as never, true) });
      m.ack();
    }
  }
  return got;
}
