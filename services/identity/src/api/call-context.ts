import type { Metadata } from "@grpc/grpc-js";
import { callMetadata } from "@otmetka/service-kit";
import type { CallContext } from "../commands/deps.js";

/** Event metadata from the call's headers: ids only (actor, correlation, trace context). */
export function callContext(md: Metadata): CallContext {
  return { metadata: callMetadata(md) };
}
