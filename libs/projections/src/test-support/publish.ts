import { randomUUID } from "node:crypto";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { type Checkpoint, makeCheckpoint, type RecordedEvent } from "@otmetka/eventstore";
import { ensureStream, type MessagingNames, toMessage } from "@otmetka/messaging";

let position = 0;

/** A RecordedEvent as the store would return it, for tests that publish without a log. */
export function testEvent(
  streamId: string,
  version: number,
  type: string,
  data: unknown = {},
): RecordedEvent {
  position++;
  return {
    position,
    transactionId: String(1000 + position),
    checkpoint: makeCheckpoint(String(1000 + position), position) as Checkpoint,
    streamId,
    version,
    eventId: randomUUID(),
    type,
    schemaVersion: 1,
    storedSchemaVersion: 1,
    data,
    metadata: {},
    recordedAt: new Date(),
  };
}

export async function ensureContextStream(
  nc: NatsConnection,
  names: MessagingNames,
  context: string,
) {
  await ensureStream(await jetstreamManager(nc), names.contextStream(context));
}

/**
 * Publishes events as the relay would (same subjects and headers). `copy` publishes again
 * events already published (a repair re-publish): same event ids, new stream sequences, and
 * no msgID so the duplicate window does not drop them.
 */
export async function publishEvents(
  nc: NatsConnection,
  names: MessagingNames,
  context: string,
  events: readonly RecordedEvent[],
  opts: { copy?: boolean } = {},
): Promise<void> {
  const js = jetstream(nc);
  const routing = { subjectRoot: names.eventRoot(context), source: context };
  const pending: Promise<unknown>[] = [];
  for (const e of events) {
    const m = toMessage(e, routing);
    if (opts.copy) m.headers.delete("Nats-Msg-Id");
    pending.push(
      js.publish(
        m.subject,
        m.payload,
        opts.copy ? { headers: m.headers } : { headers: m.headers, msgID: m.msgId },
      ),
    );
    if (pending.length >= 500) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
}
