// Another context's events published to a test's or benchmark's own streams as that context's
// relay would (subjects, headers, message ids, proto3 JSON made by its own codecs), without
// running its service or event store: how a consumer is fed the facts it reacts to.
import { randomUUID } from "node:crypto";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { type Checkpoint, makeCheckpoint, type RecordedEvent } from "@otmetka/eventstore";
import { toMessage } from "./event-message.js";
import type { MessagingNames } from "./names.js";

/** A generated event message's codec: the producer stores `toJSON(fromPartial(value))`. */
export interface EventCodec {
  fromPartial(o: unknown): unknown;
  toJSON(m: unknown): unknown;
}

export interface FeedEvent<Context extends string = string> {
  context: Context;
  event: RecordedEvent;
}

export type FeedEventMaker<Context extends string> = (
  context: Context,
  streamId: string,
  name: string,
  value: Record<string, unknown>,
  recordedAt?: Date,
) => FeedEvent<Context>;

/**
 * Makes recorded events of the given contexts, each a generated events module (`name` is its
 * message name). Positions and stream versions count up per maker, as one log would number them.
 */
export function createEventFeed<Context extends string>(
  modules: Record<Context, object>,
): FeedEventMaker<Context> {
  let position = 0;
  const versions = new Map<string, number>();
  return (context, streamId, name, value, recordedAt = new Date()) => {
    const codec = (modules[context] as Record<string, EventCodec | undefined>)[name];
    if (!codec) throw new Error(`no ${context} event ${name}`);
    const version = (versions.get(streamId) ?? 0) + 1;
    versions.set(streamId, version);
    position++;
    return {
      context,
      event: syntheticRecordedEvent(position, {
        streamId,
        version,
        type: `${context}.v1.${name}`,
        data: codec.toJSON(codec.fromPartial(value)),
        recordedAt,
      }),
    };
  };
}

/**
 * A RecordedEvent as the store would return it at log `position` (transaction 1000 + position),
 * for tests and benchmarks that publish without a log.
 */
export function syntheticRecordedEvent(
  position: number,
  e: Pick<RecordedEvent, "streamId" | "version" | "type" | "data"> &
    Partial<Pick<RecordedEvent, "eventId" | "metadata" | "recordedAt">>,
): RecordedEvent {
  return {
    position,
    transactionId: String(1000 + position),
    checkpoint: makeCheckpoint(String(1000 + position), position) as Checkpoint,
    streamId: e.streamId,
    version: e.version,
    eventId: e.eventId ?? randomUUID(),
    type: e.type,
    schemaVersion: 1,
    storedSchemaVersion: 1,
    data: e.data,
    metadata: e.metadata ?? {},
    recordedAt: e.recordedAt ?? new Date(),
  };
}

/**
 * Publishes the events in order to their contexts' streams (which must exist), routed by the
 * `municipalityId` and `schoolId` of their data as the relays route them. Up to `window`
 * publishes are in flight: one connection keeps them in order on the server.
 */
export async function publishFeedEvents(
  nc: NatsConnection,
  names: MessagingNames,
  events: FeedEvent[],
  window = 1,
): Promise<void> {
  const js = jetstream(nc);
  let inFlight: Promise<unknown>[] = [];
  for (const { context, event } of events) {
    const m = toMessage(event, {
      subjectRoot: names.eventRoot(context),
      source: context,
      route: (e: RecordedEvent) => {
        const d = e.data as { municipalityId?: string; schoolId?: string };
        return { municipalityId: d.municipalityId || undefined, schoolId: d.schoolId || undefined };
      },
    });
    inFlight.push(js.publish(m.subject, m.payload, { headers: m.headers, msgID: m.msgId }));
    if (inFlight.length >= window) {
      await Promise.all(inFlight);
      inFlight = [];
    }
  }
  await Promise.all(inFlight);
}
