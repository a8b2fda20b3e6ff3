import type { MsgHdrs } from "@nats-io/transport-node";
import type { RecordedEvent } from "@otmetka/eventstore";
import { envelopeHeaders } from "./envelope.js";
import { DEFAULT_PARTITIONS, eventSubject, partitionOf } from "./subjects.js";

/** Municipality and school tokens of an event's subject; absent ones become `_`. */
export interface RouteTokens {
  municipalityId?: string | undefined;
  schoolId?: string | undefined;
}

export type RouteFn = (event: RecordedEvent) => RouteTokens;

/** How a service's events become messages of its context stream. */
export interface EventRouting {
  /** Subject root, e.g. `p.grades.v1` (messagingNames().eventRoot("grades")). */
  subjectRoot: string;
  /** `ce-source`: the publishing service. */
  source: string;
  /** Default: `_` for both tokens. */
  route?: RouteFn;
  /** Default 16; must never change for a stream that has consumers. */
  partitions?: number;
}

export interface OutgoingMessage {
  subject: string;
  payload: Uint8Array;
  headers: MsgHdrs;
  msgId: string;
}

const encoder = new TextEncoder();

/** The subject an event is published on. */
export function messageSubject(event: RecordedEvent, routing: EventRouting): string {
  const tokens = routing.route?.(event) ?? {};
  return eventSubject(routing.subjectRoot, {
    municipalityId: tokens.municipalityId,
    schoolId: tokens.schoolId,
    partition: partitionOf(event.streamId, routing.partitions ?? DEFAULT_PARTITIONS),
    type: event.type,
  });
}

export function toMessage(event: RecordedEvent, routing: EventRouting): OutgoingMessage {
  return {
    subject: messageSubject(event, routing),
    payload: encoder.encode(JSON.stringify(event.data)),
    headers: envelopeHeaders(event, routing.source),
    msgId: event.eventId,
  };
}
