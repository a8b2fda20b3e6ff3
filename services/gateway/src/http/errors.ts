import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { trace } from "@opentelemetry/api";
import { DomainError } from "@otmetka/service-kit";
import { GraphQLError } from "graphql";
import { variableInputPlace } from "./input-errors.js";

/** GraphQL `extensions.code` values (conventions.md "Errors"), plus the two transport ones. */
export type ErrorCode =
  | "BAD_USER_INPUT"
  | "FAILED_PRECONDITION"
  | "CONFLICT"
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "UNAVAILABLE"
  | "RATE_LIMITED"
  | "INTERNAL_SERVER_ERROR";

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  RATE_LIMITED: 429,
};

/** A typed client error; `field` names the argument or path the message is about. */
export function gqlError(code: ErrorCode, message: string, field?: string): GraphQLError {
  const http = HTTP_STATUS[code];
  return new GraphQLError(message, {
    extensions: { code, ...(field ? { field } : {}), ...(http ? { http: { status: http } } : {}) },
  });
}

const CODE_OF_KIND: Record<DomainError["kind"], ErrorCode> = {
  invalid_argument: "BAD_USER_INPUT",
  failed_precondition: "FAILED_PRECONDITION",
  conflict: "CONFLICT",
  unauthenticated: "UNAUTHENTICATED",
  permission_denied: "FORBIDDEN",
  not_found: "NOT_FOUND",
  unavailable: "UNAVAILABLE",
};

const CODE_OF_GRPC: Partial<Record<number, ErrorCode>> = {
  [GrpcStatus.INVALID_ARGUMENT]: "BAD_USER_INPUT",
  [GrpcStatus.OUT_OF_RANGE]: "BAD_USER_INPUT",
  [GrpcStatus.FAILED_PRECONDITION]: "FAILED_PRECONDITION",
  [GrpcStatus.ABORTED]: "CONFLICT",
  [GrpcStatus.ALREADY_EXISTS]: "CONFLICT",
  [GrpcStatus.UNAUTHENTICATED]: "UNAUTHENTICATED",
  [GrpcStatus.PERMISSION_DENIED]: "FORBIDDEN",
  [GrpcStatus.NOT_FOUND]: "NOT_FOUND",
  [GrpcStatus.UNAVAILABLE]: "UNAVAILABLE",
  [GrpcStatus.DEADLINE_EXCEEDED]: "UNAVAILABLE",
};

/** The status-name codes reporting puts in per-item errors of its batch answers. */
const CODE_OF_STATUS_NAME: Record<string, ErrorCode> = {
  INVALID_ARGUMENT: "BAD_USER_INPUT",
  FAILED_PRECONDITION: "FAILED_PRECONDITION",
  ABORTED: "CONFLICT",
  UNAUTHENTICATED: "UNAUTHENTICATED",
  PERMISSION_DENIED: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  UNAVAILABLE: "UNAVAILABLE",
};

export function itemError(code: string, message: string, field?: string): GraphQLError {
  return gqlError(CODE_OF_STATUS_NAME[code] ?? "INTERNAL_SERVER_ERROR", message, field);
}

function isServiceError(err: unknown): err is ServiceError {
  return (
    err instanceof Error &&
    typeof (err as Partial<ServiceError>).code === "number" &&
    "metadata" in err
  );
}

/** graphql-js/yoga refusals of a document: invalid input in conventions.md's terms. */
export const YOGA_INPUT_CODES = new Set([
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_REQUEST",
  // The persisted-operations plugin: not persisted, unknown hash, hash and document both sent.
  "PERSISTED_QUERY_ID_REQUIRED",
  "PERSISTED_QUERY_NOT_IN_LIST",
  "CANNOT_SEND_PQ_ID_AND_BODY",
]);

/** By name, not instanceof: graphql-js may be loaded twice (ESM and CJS) in one process. */
function isGraphQLError(err: unknown): err is GraphQLError {
  return err instanceof Error && err.name === "GraphQLError" && "extensions" in err;
}

/**
 * The client-facing form of any error a resolver threw: typed errors pass with their code,
 * gRPC statuses of the services map by conventions.md, everything else is masked with the
 * trace id (the original is logged by the caller of this function).
 */
export function toClientError(err: unknown): { error: GraphQLError; internal: boolean } {
  // A variable that does not fit its input type (graphql-js's coercion, before any resolver):
  // the path in the argument it feeds.
  const place = isGraphQLError(err) && !err.path ? variableInputPlace(err) : undefined;
  if (place && isGraphQLError(err))
    return {
      error: new GraphQLError(`${place.field}: ${place.detail}`, {
        ...(err.nodes ? { nodes: err.nodes } : {}),
        extensions: { code: "BAD_USER_INPUT", field: place.field },
      }),
      internal: false,
    };
  const original = isGraphQLError(err) && err.originalError ? err.originalError : err;
  if (isGraphQLError(original) && typeof original.extensions.code === "string") {
    return { error: original, internal: false };
  }
  // A GraphQLError of its own (no original) is a refusal by graphql-js, yoga or the limits:
  // parse, validation, depth, cost, aliases, CSRF. It stays, typed BAD_USER_INPUT if untyped.
  if (isGraphQLError(err) && !err.originalError) {
    const own = err.extensions.code;
    if (typeof own === "string" && !YOGA_INPUT_CODES.has(own))
      return { error: err, internal: false };
    const http = err.extensions.http as { status?: number } | undefined;
    const code: ErrorCode = http?.status === 403 ? "FORBIDDEN" : "BAD_USER_INPUT";
    return {
      error: new GraphQLError(err.message, {
        ...(err.nodes ? { nodes: err.nodes } : {}),
        extensions: { ...err.extensions, code },
      }),
      internal: false,
    };
  }
  if (original instanceof DomainError) {
    return {
      error: gqlError(CODE_OF_KIND[original.kind], original.message, original.field),
      internal: false,
    };
  }
  if (isServiceError(original)) {
    const code = CODE_OF_GRPC[original.code];
    if (code) {
      const field = original.metadata.get("field")[0];
      return {
        error: gqlError(
          code,
          original.details || original.message,
          typeof field === "string" ? field : undefined,
        ),
        internal: false,
      };
    }
  }
  const traceId = trace.getActiveSpan()?.spanContext().traceId ?? "none";
  return {
    error: gqlError("INTERNAL_SERVER_ERROR", `internal error (trace ${traceId})`),
    internal: true,
  };
}

/**
 * `client` placed where graphql-js located the field error it stands for: spec 7.1.2 gives a
 * field error its `path` (and `locations` in the document), so a request of several fields
 * tells which one failed. Errors without a path (request-level: parse, validation, limits,
 * authentication) pass as they are. Nothing of the located error but its place is kept.
 */
export function locatedAt(client: GraphQLError, located: unknown): GraphQLError {
  if (client.path || !isGraphQLError(located) || !located.path) return client;
  return new GraphQLError(client.message, {
    ...(located.nodes ? { nodes: located.nodes } : {}),
    ...(located.source ? { source: located.source } : {}),
    ...(located.positions ? { positions: located.positions } : {}),
    path: located.path,
    extensions: client.extensions,
  });
}
