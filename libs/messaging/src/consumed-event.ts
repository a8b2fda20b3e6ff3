import type { JsMsg } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/transport-node";
import type { Envelope } from "./envelope.js";
import { EnvelopeEvent } from "./envelope-event.js";

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

/**
 * A received message as a ConsumedEvent: `data` is parsed on first read (EnvelopeEvent) and
 * `headers` decoded by nats.js only if read.
 */
class ReceivedEvent extends EnvelopeEvent implements ConsumedEvent {
  released = false;
  readonly #m: JsMsg;

  constructor(
    env: Envelope,
    m: JsMsg,
    public attempt: number,
    public streamSequence: number,
  ) {
    super(env, m);
    this.#m = m;
  }

  get headers(): MsgHdrs | undefined {
    return this.#m.headers;
  }

  /** The plain event with `data` and `headers` (JSON.stringify skips prototype accessors). */
  toJSON(): ConsumedEvent {
    return { ...this, data: this.data, headers: this.headers };
  }
}

export function consumedEvent(
  env: Envelope,
  m: JsMsg,
  attempt: number,
  streamSequence: number = m.seq,
): ConsumedEvent {
  return new ReceivedEvent(env, m, attempt, streamSequence);
}
