import { Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { trace } from "@opentelemetry/api";
import type { Logger } from "pino";
import type { DomainErrorKind } from "./domain-error.js";
import { isDomainError } from "./domain-error.js";
import { isTransientInfrastructureError } from "./transient-errors.js";

export const GRPC_STATUS_OF_KIND: Readonly<Record<DomainErrorKind, status>> = {
  invalid_argument: status.INVALID_ARGUMENT,
  failed_precondition: status.FAILED_PRECONDITION,
  conflict: status.ABORTED,
  unauthenticated: status.UNAUTHENTICATED,
  permission_denied: status.PERMISSION_DENIED,
  not_found: status.NOT_FOUND,
  unavailable: status.UNAVAILABLE,
};

/** A status error as grpc-js handlers pass it to their callback. */
export type GrpcStatusError = Partial<ServiceError> & { code: status; details: string };

/**
 * Maps a thrown value to the status a client sees. Domain errors keep their message (and the
 * field in the `field` trailer); a lost database or peer connection is UNAVAILABLE (retry);
 * everything else is logged with the trace id and masked, so no internals leak but an
 * operator can find the log line from the id the client reports.
 */
export function toGrpcError(err: unknown, logger: Logger): GrpcStatusError {
  if (isDomainError(err)) {
    const metadata = new Metadata();
    if (err.field) metadata.set("field", err.field);
    return { code: GRPC_STATUS_OF_KIND[err.kind], details: err.message, metadata };
  }
  const traceId = trace.getActiveSpan()?.spanContext().traceId;
  if (isTransientInfrastructureError(err)) {
    // The database (or a peer) is restarting: the call did not take effect; retrying is right.
    logger.warn({ err }, "call failed: infrastructure unavailable");
    return {
      code: status.UNAVAILABLE,
      details: traceId
        ? `temporarily unavailable, retry (trace ${traceId})`
        : "temporarily unavailable, retry",
    };
  }
  logger.error({ err }, "internal error while handling a call");
  return {
    code: status.INTERNAL,
    details: traceId ? `internal error (trace ${traceId})` : "internal error",
  };
}

/**
 * Wraps an async unary handler for a ts-proto service implementation: resolves the callback
 * with the result, or with the mapped status when it throws.
 */
export function unaryHandler<Req, Res>(
  logger: Logger,
  handle: (request: Req, metadata: Metadata) => Promise<Res>,
) {
  return (
    call: { request: Req; metadata: Metadata },
    callback: (err: GrpcStatusError | null, res?: Res) => void,
  ): void => {
    handle(call.request, call.metadata).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toGrpcError(err, logger)),
    );
  };
}
