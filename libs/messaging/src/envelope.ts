import { type MsgHdrs, headers as natsHeaders } from "@nats-io/transport-node";
import type { RecordedEvent } from "@otmetka/eventstore";
import { InvalidMessagingArgument, MissingEnvelopeHeader } from "./errors.js";
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

/** Calls `put` with each envelope header of one event, in wire order. */
export function forEachEnvelopeHeader(
  event: RecordedEvent,
  source: string,
  put: (name: string, value: string) => void,
): void {
  put(H.msgId, event.eventId);
  put(H.specVersion, "1.0");
  put(H.id, event.eventId);
  put(H.type, event.type);
  put(H.source, source);
  put(H.subject, event.streamId);
  put(H.time, event.recordedAt.toISOString());
  put(H.contentType, "application/json");
  put(H.streamVersion, String(event.version));
  put(H.schemaVersion, String(event.schemaVersion));
  put(H.logPosition, String(event.position));
  put(H.logCheckpoint, event.checkpoint);
  const m = event.metadata;
  if (m.correlationId) put(H.correlationId, m.correlationId);
  if (m.causationId) put(H.causationId, m.causationId);
  if (m.commandId) put(H.commandId, m.commandId);
  if (m.actor?.id) put(H.actorId, m.actor.id);
  if (m.actor?.kind) put(H.actorKind, m.actor.kind);
  if (m.traceparent) put(H.traceparent, m.traceparent);
  if (m.tracestate) put(H.tracestate, m.tracestate);
}

/** Headers of one event; `source` is the publishing service (`grades`). */
export function envelopeHeaders(event: RecordedEvent, source: string): MsgHdrs {
  // append, not set: the headers are new, and set() scans every existing key twice.
  const h = natsHeaders();
  forEachEnvelopeHeader(event, source, (name, value) => h.append(name, value));
  return h;
}

const CR_OR_LF = /[\r\n]/;

/**
 * The envelope headers as the wire's header block (`NATS/1.0\r\nname: value\r\n...\r\n`),
 * then the `extra` headers: what nats.js's `headers()` + `append` + `encode()` produce, without a
 * Map, key validation or set() scans per header (~20 % of the relay's CPU went there).
 * Values are checked and trimmed as nats.js does.
 */
export function envelopeHeaderBlock(
  event: RecordedEvent,
  source: string,
  extra: readonly (readonly [name: string, value: string])[] = [],
): string {
  let block = "NATS/1.0";
  const put = (name: string, value: string) => {
    if (CR_OR_LF.test(value)) {
      throw new InvalidMessagingArgument(`header ${name}`, "must not contain CR or LF");
    }
    block += `\r\n${name}: ${value.trim()}`;
  };
  forEachEnvelopeHeader(event, source, put);
  for (const [name, value] of extra) put(name, value);
  return `${block}\r\n\r\n`;
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
