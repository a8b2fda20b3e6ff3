import type { Metadata } from "@grpc/grpc-js";
import type { CallContext } from "../commands/deps.js";

const one = (md: Metadata, key: string) => {
  const v = md.get(key)[0];
  return typeof v === "string" && v !== "" ? v : undefined;
};

/** Event metadata from the call's headers: ids only (actor, correlation, trace context). */
export function callContext(md: Metadata): CallContext {
  const actorId = one(md, "x-actor-id");
  const correlationId = one(md, "x-correlation-id");
  const traceparent = one(md, "traceparent");
  return {
    metadata: {
      ...(actorId ? { actor: { id: actorId, kind: "user" as const } } : {}),
      ...(correlationId ? { correlationId } : {}),
      ...(traceparent ? { traceparent } : {}),
    },
  };
}
