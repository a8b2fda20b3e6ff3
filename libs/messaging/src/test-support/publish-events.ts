import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { RecordedEvent } from "@otmetka/eventstore";
import { syntheticRecordedEvent } from "../event-feed.js";
import { toMessage } from "../event-message.js";
import type { MessagingNames } from "../names.js";

let position = 0;

/** A RecordedEvent as the store would return it, for tests that publish without a log. */
export function fakeEvent(streamId: string, version: number, data: unknown = {}): RecordedEvent {
  position++;
  return syntheticRecordedEvent(position, {
    streamId,
    version,
    eventId: `${streamId}-v${version}-${process.pid}-${position}`,
    type: "grades.v1.MarkRecorded",
    data,
    metadata: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
  });
}

/** Publishes events to a context's stream as the relay would (same subjects and headers). */
export async function publishEvents(
  nc: NatsConnection,
  names: MessagingNames,
  context: string,
  events: readonly RecordedEvent[],
): Promise<void> {
  const js = jetstream(nc);
  const routing = { subjectRoot: names.eventRoot(context), source: context };
  const pending: Promise<unknown>[] = [];
  for (const e of events) {
    const m = toMessage(e, routing);
    pending.push(js.publish(m.subject, m.payload, { headers: m.headers, msgID: m.msgId }));
    if (pending.length >= 200) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
}
