import { type MsgHdrs, headers as natsHeaders } from "@nats-io/transport-node";
import type { RecordedEvent } from "@otmetka/eventstore";
import { MissingEnvelopeHeader } from "./errors.js";

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
  const h = natsHeaders();
  h.set(H.msgId, event.eventId);
  h.set(H.specVersion, "1.0");
  h.set(H.id, event.eventId);
  h.set(H.type, event.type);
  h.set(H.source, source);
  h.set(H.subject, event.streamId);
  h.set(H.time, event.recordedAt.toISOString());
  h.set(H.contentType, "application/json");
  h.set(H.streamVersion, String(event.version));
  h.set(H.schemaVersion, String(event.schemaVersion));
  h.set(H.logPosition, String(event.position));
  h.set(H.logCheckpoint, event.checkpoint);
  const m = event.metadata;
  if (m.correlationId) h.set(H.correlationId, m.correlationId);
  if (m.causationId) h.set(H.causationId, m.causationId);
  if (m.commandId) h.set(H.commandId, m.commandId);
  if (m.actor?.id) h.set(H.actorId, m.actor.id);
  if (m.actor?.kind) h.set(H.actorKind, m.actor.kind);
  if (m.traceparent) h.set(H.traceparent, m.traceparent);
  if (m.tracestate) h.set(H.tracestate, m.tracestate);
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
  const need = (name: string) => {
    const v = h?.get(name);
    if (!v) throw new MissingEnvelopeHeader(name, subject);
    return v;
  };
  const opt = (name: string) => h?.get(name) || undefined;
  const env: Envelope = {
    eventId: need(H.id),
    type: need(H.type),
    source: opt(H.source) ?? "",
    streamId: need(H.subject),
    version: Number(need(H.streamVersion)),
    schemaVersion: Number(opt(H.schemaVersion) ?? 1),
    position: Number(opt(H.logPosition) ?? 0),
    checkpoint: opt(H.logCheckpoint) ?? "",
    time: opt(H.time) ?? "",
  };
  const extra = {
    correlationId: opt(H.correlationId),
    causationId: opt(H.causationId),
    commandId: opt(H.commandId),
    actorId: opt(H.actorId),
  };
  for (const [k, v] of Object.entries(extra))
    if (v) (env as unknown as Record<string, string>)[k] = v;
  return env;
}
