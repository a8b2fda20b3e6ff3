import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { RecordedEvent } from "@otmetka/eventstore";
import {
  ensureStream,
  type MessagingNames,
  syntheticRecordedEvent,
  toMessage,
} from "@otmetka/messaging";

let position = 0;

/** A RecordedEvent as the store would return it, for tests that publish without a log. */
export function testEvent(
  streamId: string,
  version: number,
  type: string,
  data: unknown = {},
): RecordedEvent {
  position++;
  return syntheticRecordedEvent(position, { streamId, version, type, data });
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
