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
