/**
 * Failures of the infrastructure under a call, not of the call: the database or a peer is
 * restarting or unreachable. The client should retry later (gRPC UNAVAILABLE). The outcome is
 * unknown when the connection broke during a COMMIT, so a retry is safe only with the same
 * command id (every command is idempotent by it). Recognised by shape, so that service-kit
 * does not depend on pg.
 */
const NODE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);

/** PostgreSQL: admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections. */
const SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300"]);

/** pg's own errors for a lost or never-made connection carry no code, only these messages. */
const PG_MESSAGES = [
  "Connection terminated",
  "timeout exceeded when trying to connect",
  "Client has encountered a connection error and is not queryable",
];

export function isTransientInfrastructureError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") {
    if (NODE_CODES.has(code) || SQLSTATES.has(code)) return true;
    if (code.startsWith("08")) return true; // SQLSTATE class 08: connection exception
  }
  if (PG_MESSAGES.some((m) => err.message.startsWith(m))) return true;
  // An AggregateError (every address refused) or a wrapped cause.
  const { errors, cause } = err as { errors?: unknown; cause?: unknown };
  const nested = [...(Array.isArray(errors) ? errors : []), cause];
  return nested.some((e) => e !== err && isTransientInfrastructureError(e));
}
