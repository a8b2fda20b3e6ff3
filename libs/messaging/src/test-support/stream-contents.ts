import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { H } from "../envelope.js";

export interface StoredEventMessage {
  seq: number;
  subject: string;
  eventId: string;
  streamId: string;
  version: number;
  republished: boolean;
}

/** Every message of a JetStream stream, in stream order (an ordered consumer from seq 1). */
export async function readStreamMessages(
  nc: NatsConnection,
  stream: string,
): Promise<StoredEventMessage[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream);
  const out: StoredEventMessage[] = [];
  if (info.state.messages === 0) return out;
  const consumer = await jetstream(nc).consumers.get(stream);
  const messages = await consumer.consume({ max_messages: 1000 });
  for await (const m of messages) {
    out.push({
      seq: m.seq,
      subject: m.subject,
      eventId: m.headers?.get(H.id) ?? "",
      streamId: m.headers?.get(H.subject) ?? "",
      version: Number(m.headers?.get(H.streamVersion)),
      republished: m.headers?.has(H.republished) ?? false,
    });
    if (m.seq >= info.state.last_seq) break;
  }
  await messages.close();
  return out;
}

/** Number of messages in the stream now. */
export async function streamMessageCount(nc: NatsConnection, stream: string): Promise<number> {
  const jsm = await jetstreamManager(nc);
  return (await jsm.streams.info(stream)).state.messages;
}

/**
 * Checks the proof's claim about a stream's contents and returns what is wrong (empty when
 * all is right): every expected event exactly once, each aggregate stream in version order
 * starting at 1 without gaps.
 */
export function checkExactlyOnceInOrder(
  messages: readonly StoredEventMessage[],
  expectedEventIds: ReadonlySet<string>,
): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  const versionOf = new Map<string, number>();
  for (const m of messages) {
    if (seen.has(m.eventId)) problems.push(`event ${m.eventId} twice (seq ${m.seq})`);
    seen.add(m.eventId);
    if (!expectedEventIds.has(m.eventId)) problems.push(`unexpected event ${m.eventId}`);
    const last = versionOf.get(m.streamId) ?? 0;
    if (m.version !== last + 1) {
      problems.push(`${m.streamId}: version ${m.version} after ${last} (seq ${m.seq})`);
    }
    versionOf.set(m.streamId, Math.max(last, m.version));
  }
  for (const id of expectedEventIds) if (!seen.has(id)) problems.push(`event ${id} missing`);
  return problems.slice(0, 20);
}
