import type { JsMsg } from "@nats-io/jetstream";
import { type Envelope, EnvelopeEvent, scanEnvelope } from "@otmetka/messaging";
import { MalformedEventData } from "./errors.js";
import type { ProjectionEvent } from "./projection.js";

/** One message of a batch: its source and sequence always; the event unless it was malformed. */
export interface BatchEntry {
  source: string;
  sequence: number;
  event: ProjectionEvent | undefined;
}

/**
 * An event as its handlers see it; the payload is parsed on first read of `data`
 * (EnvelopeEvent: many models skip most event types, and payloads held parsed in the live
 * queue until their batch made young GC expensive).
 */
class ReceivedEvent extends EnvelopeEvent implements ProjectionEvent {
  wasPending = false;

  constructor(
    env: Envelope,
    m: JsMsg,
    public context: string,
    public sequence: number,
  ) {
    super(env, m);
  }

  protected override decode(raw: Uint8Array): unknown {
    try {
      return super.decode(raw);
    } catch (err) {
      throw new MalformedEventData(this.eventId, err);
    }
  }

  /** The plain event, payload included (what `_pending` stores). */
  toJSON(): ProjectionEvent {
    return { ...this, data: this.data };
  }
}

/** A message as a batch entry; a message without an envelope only moves the checkpoint. */
export function toEntry(m: JsMsg, source: string, sequence: number = m.seq): BatchEntry {
  let event: ProjectionEvent | undefined;
  try {
    // One scan of the raw header block (nats.js's own decoder dominated rebuilds).
    event = new ReceivedEvent(scanEnvelope(m).envelope, m, source, sequence);
  } catch {
    event = undefined;
  }
  return { source, sequence, event };
}
