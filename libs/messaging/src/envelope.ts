import { type MsgHdrs, headers as natsHeaders } from "@nats-io/transport-node";
import type { RecordedEvent } from "@otmetka/eventstore";
import { MissingEnvelopeHeader } from "./errors.js";
import { type HeaderMap, headerMapFromHdrs } from "./header-map.js";

/**
 * Header names of the envelope (architecture.md "Events"). CloudEvents binary-mode names
 * (`ce-*`) for the standard attributes and as extension attributes for the rest.
 */
export const H = {
  msgId: "Nats-Msg-Id",
  specVersion: "ce-specversion",
  id: "ce-id",
  type: "ce-type",
  source: "ce-source",
  subject: "ce-subject",
  time: "ce-time",
  contentType: "ce-datacontenttype",
  streamVersion: "ce-streamversion",
  schemaVersion: "ce-schemaversion",
  logPosition: "ce-logposition",
  logCheckpoint: "ce-logcheckpoint",
  correlationId: "ce-correlationid",
  causationId: "ce-causationid",
  commandId: "ce-commandid",
  actorId: "ce-actorid",
  actorKind: "ce-actorkind",
  traceparent: "traceparent",
  tracestate: "tracestate",
  /** Set on messages written by `republish`: the relay's resume skips them. */
  republished: "Otmetka-Republished",
} as const;

/** Headers of one event; `source` is the publishing service (`grades`). */
export function envelopeHeaders(event: RecordedEvent, source: string): MsgHdrs {
  // append, not set: the headers are new, and set() scans every existing key twice.
  const h = natsHeaders();
  h.append(H.msgId, event.eventId);
  h.append(H.specVersion, "1.0");
  h.append(H.id, event.eventId);
  h.append(H.type, event.type);
  h.append(H.source, source);
  h.append(H.subject, event.streamId);
  h.append(H.time, event.recordedAt.toISOString());
  h.append(H.contentType, "application/json");
  h.append(H.streamVersion, String(event.version));
  h.append(H.schemaVersion, String(event.schemaVersion));
  h.append(H.logPosition, String(event.position));
  h.append(H.logCheckpoint, event.checkpoint);
  const m = event.metadata;
  if (m.correlationId) h.append(H.correlationId, m.correlationId);
  if (m.causationId) h.append(H.causationId, m.causationId);
  if (m.commandId) h.append(H.commandId, m.commandId);
  if (m.actor?.id) h.append(H.actorId, m.actor.id);
  if (m.actor?.kind) h.append(H.actorKind, m.actor.kind);
  if (m.traceparent) h.append(H.traceparent, m.traceparent);
  if (m.tracestate) h.append(H.tracestate, m.tracestate);
  return h;
}

/** The envelope of a received message, as a consumer's handler sees it. */
export interface Envelope {
  eventId: string;
  type: string;
  source: string;
  streamId: string;
  version: number;
  schemaVersion: number;
  position: number;
  checkpoint: string;
  time: string;
  correlationId?: string;
  causationId?: string;
  commandId?: string;
  actorId?: string;
}

export function readEnvelope(h: MsgHdrs | undefined, subject: string): Envelope {
  return envelopeOf(headerMapFromHdrs(h), subject);
}

/** The envelope from headers already read into a map (see header-map.ts). */
export function envelopeOf(v: HeaderMap, subject: string): Envelope {
  const need = (name: string) => {
    const value = v.get(name);
    if (!value) throw new MissingEnvelopeHeader(name, subject);
    return value;
  };
  const env: Envelope = {
    eventId: need(H.id),
    type: need(H.type),
    source: v.get(H.source) ?? "",
    streamId: need(H.subject),
    version: Number(need(H.streamVersion)),
    schemaVersion: Number(v.get(H.schemaVersion) ?? 1),
    position: Number(v.get(H.logPosition) ?? 0),
    checkpoint: v.get(H.logCheckpoint) ?? "",
    time: v.get(H.time) ?? "",
  };
  const correlationId = v.get(H.correlationId);
  if (correlationId) env.correlationId = correlationId;
  const causationId = v.get(H.causationId);
  if (causationId) env.causationId = causationId;
  const commandId = v.get(H.commandId);
  if (commandId) env.commandId = commandId;
  const actorId = v.get(H.actorId);
  if (actorId) env.actorId = actorId;
  return env;
}
