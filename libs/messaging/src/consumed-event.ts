import type { JsMsg } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/transport-node";
import type { Envelope } from "./envelope.js";

/** An event as a consumer's handler receives it: the envelope, the payload and where it came from. */
export interface ConsumedEvent<Data = unknown> extends Envelope {
  data: Data;
  subject: string;
  /** Sequence in the domain stream. */
  streamSequence: number;
  /** 1 on the first attempt; counts the runtime's retries and JetStream's redeliveries. */
  attempt: number;
  /** Whether the event comes back from the dead-letter stream after an operator's release. */
  released: boolean;
  headers: MsgHdrs | undefined;
}

/** Handles one event; throwing means "retry, then dead-letter and park its stream". */
export type EventHandler<Data = unknown> = (event: ConsumedEvent<Data>) => Promise<void>;

const decoder = new TextDecoder();

export function decodeData(data: Uint8Array): unknown {
  return data.length === 0 ? null : JSON.parse(decoder.decode(data));
}

/**
 * A received message as a ConsumedEvent. `data` is parsed on first read and `headers`
 * decoded by nats.js only if read: handlers often skip most event types of a stream.
 * Own accessors (not a class), so that `{ ...event }` still copies both.
 */
export function consumedEvent(env: Envelope, m: JsMsg, attempt: number): ConsumedEvent {
  let data: unknown;
  let parsed = false;
  const event: ConsumedEvent = {
    eventId: env.eventId,
    type: env.type,
    source: env.source,
    streamId: env.streamId,
    version: env.version,
    schemaVersion: env.schemaVersion,
    position: env.position,
    checkpoint: env.checkpoint,
    time: env.time,
    get data() {
      if (!parsed) {
        data = decodeData(m.data);
        parsed = true;
      }
      return data;
    },
    set data(value: unknown) {
      data = value;
      parsed = true;
    },
    subject: m.subject,
    streamSequence: m.seq,
    attempt,
    released: false,
    get headers() {
      return m.headers;
    },
  };
  if (env.correlationId !== undefined) event.correlationId = env.correlationId;
  if (env.causationId !== undefined) event.causationId = env.causationId;
  if (env.commandId !== undefined) event.commandId = env.commandId;
  if (env.actorId !== undefined) event.actorId = env.actorId;
  return event;
}
