import { randomUUID } from "node:crypto";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { type Checkpoint, makeCheckpoint, type RecordedEvent } from "@otmetka/eventstore";
import { type MessagingNames, toMessage } from "@otmetka/messaging";
import * as C from "@otmetka/proto/curriculum/events/v1/events";
import * as G from "@otmetka/proto/grades/events/v1/events";
import * as I from "@otmetka/proto/identity/events/v1/events";

/*
 * Publishes identity, curriculum and grades events to a test's or benchmark's own streams as their relays
 * would (subjects, headers, proto3 JSON made by their own codecs), without running them.
 */
export type FeedContext = "identity" | "curriculum" | "grades";
export interface FeedEvent {
  context: FeedContext;
  event: RecordedEvent;
}

type Codec = { fromPartial(o: unknown): unknown; toJSON(m: unknown): unknown };
const CODECS = { identity: I, curriculum: C, grades: G } as unknown as Record<
  FeedContext,
  Record<string, Codec>
>;

let position = 0;
const versions = new Map<string, number>();

export function feedEvent(
  context: FeedContext,
  streamId: string,
  name: string,
  value: Record<string, unknown>,
  recordedAt = new Date(),
): FeedEvent {
  const codec = CODECS[context][name];
  if (!codec) throw new Error(`no ${context} event ${name}`);
  const version = (versions.get(streamId) ?? 0) + 1;
  versions.set(streamId, version);
  position++;
  return {
    context,
    event: {
      position,
      transactionId: String(1000 + position),
      checkpoint: makeCheckpoint(String(1000 + position), position) as Checkpoint,
      streamId,
      version,
      eventId: randomUUID(),
      type: `${context}.v1.${name}`,
      schemaVersion: 1,
      storedSchemaVersion: 1,
      data: codec.toJSON(codec.fromPartial(value)),
      metadata: {},
      recordedAt,
    },
  };
}

export async function publishFeed(
  nc: NatsConnection,
  names: MessagingNames,
  events: FeedEvent[],
  window = 1,
) {
  const js = jetstream(nc);
  // Up to `window` publishes in flight: one connection keeps them in order on the server.
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
