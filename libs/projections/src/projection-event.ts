import type { JsMsg } from "@nats-io/jetstream";
import { decodeData, envelopeOf, headerMapOf } from "@otmetka/messaging";
import type { ProjectionEvent } from "./projection.js";

/** One message of a batch: its source and sequence always; the event unless it was malformed. */
export interface BatchEntry {
  source: string;
  sequence: number;
  event: ProjectionEvent | undefined;
}

/** A message as a batch entry; a message without an envelope only moves the checkpoint. */
export function toEntry(m: JsMsg, source: string): BatchEntry {
  let event: ProjectionEvent | undefined;
  try {
    // One-pass header parse (messaging's headerMapOf): nats.js's own decoder dominated rebuilds.
    const env = envelopeOf(headerMapOf(m), m.subject);
    event = {
      ...env,
      data: decodeData(m.data),
      subject: m.subject,
      context: source,
      sequence: m.seq,
      wasPending: false,
    };
  } catch {
    event = undefined;
  }
  return { source, sequence: m.seq, event };
}
