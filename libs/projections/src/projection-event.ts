import type { JsMsg } from "@nats-io/jetstream";
import { decodeData, type Envelope, scanEnvelope } from "@otmetka/messaging";
import { MalformedEventData } from "./errors.js";
import type { ProjectionEvent } from "./projection.js";

/** One message of a batch: its source and sequence always; the event unless it was malformed. */
export interface BatchEntry {
  source: string;
  sequence: number;
  event: ProjectionEvent | undefined;
}

/**
 * An event as its handlers see it; the payload is parsed on first read of `data` (many models
 * skip most event types, and payloads parsed on arrival and held in the queue until their
 * batch made the live runtime's young GC expensive). A class with `data` as a prototype
 * accessor: an object literal with own accessors costs ~1.2 µs to create, this ~30 ns. A
 * spread (`{ ...event }`) does not copy it: copies name `data: event.data`.
 */
class ReceivedEvent implements ProjectionEvent {
  eventId: string;
  type: string;
  source: string;
  streamId: string;
  version: number;
  schemaVersion: number;
  position: number;
  checkpoint: string;
  time: string;
  declare correlationId?: string;
  declare causationId?: string;
  declare commandId?: string;
  declare actorId?: string;
  subject: string;
  wasPending = false;
  #data: unknown;
  #parsed = false;
  readonly #raw: Uint8Array;

  constructor(
    env: Envelope,
    m: JsMsg,
    public context: string,
    public sequence: number,
  ) {
    this.#raw = m.data;
    this.eventId = env.eventId;
    this.type = env.type;
    this.source = env.source;
    this.streamId = env.streamId;
    this.version = env.version;
    this.schemaVersion = env.schemaVersion;
    this.position = env.position;
    this.checkpoint = env.checkpoint;
    this.time = env.time;
    this.subject = m.subject;
    if (env.correlationId !== undefined) this.correlationId = env.correlationId;
    if (env.causationId !== undefined) this.causationId = env.causationId;
    if (env.commandId !== undefined) this.commandId = env.commandId;
    if (env.actorId !== undefined) this.actorId = env.actorId;
  }

  get data(): unknown {
    if (!this.#parsed) {
      try {
        this.#data = decodeData(this.#raw);
      } catch (err) {
        throw new MalformedEventData(this.eventId, err);
      }
      this.#parsed = true;
    }
    return this.#data;
  }

  set data(value: unknown) {
    this.#data = value;
    this.#parsed = true;
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
