import type { Metadata } from "@grpc/grpc-js";

/**
 * What a command's events record about its call: ids only, never personal data. (A type, not
 * an interface, so it fits event-metadata records with open keys.)
 */
export type CallMetadata = {
  /** The account that acted (a verified token's subject) and, for people, their person id. */
  actor?: { id: string; kind: "user" | "service"; personId?: string };
  correlationId?: string;
  traceparent?: string;
};

const one = (md: Metadata, key: string) => {
  const v = md.get(key)[0];
  return typeof v === "string" && v !== "" ? v : undefined;
};

/**
 * Event metadata from a call's headers (`x-actor-id`, `x-correlation-id`, `traceparent`).
 * The actor is as the caller states it until verified tokens replace the header.
 */
export function callMetadata(md: Metadata): CallMetadata {
  const actorId = one(md, "x-actor-id");
  const correlationId = one(md, "x-correlation-id");
  const traceparent = one(md, "traceparent");
  return {
    ...(actorId ? { actor: { id: actorId, kind: "user" as const } } : {}),
    ...(correlationId ? { correlationId } : {}),
    ...(traceparent ? { traceparent } : {}),
  };
}
