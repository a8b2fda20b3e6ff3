import pg from "pg";

export interface EventStorePoolOptions {
  connectionString: string;
  /** Connections in the pool; default 10. */
  max?: number;
  /**
   * `idle_in_transaction_session_timeout` of every connection, in ms; default 10 000,
   * 0 disables. readAll only reads below the oldest open transaction (xmin), so a session
   * left idle inside a transaction — a crashed handler, a forgotten COMMIT — would stall every
   * reader of the log. The server ends such a session after this long.
   */
  idleInTransactionSessionTimeoutMs?: number;
  applicationName?: string;
}

export const DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000;

/** A pg pool configured for the event store (see `idleInTransactionSessionTimeoutMs`). */
export function createEventStorePool(options: EventStorePoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    idle_in_transaction_session_timeout:
      options.idleInTransactionSessionTimeoutMs ?? DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    application_name: options.applicationName ?? "otmetka-eventstore",
  });
  return surviveConnectionLoss(pool);
}

/**
 * Keeps a lost database connection (server restart, admin shutdown, network cut) from
 * crashing the process; returns the pool. pg emits 'error' on a client whose connection ends:
 * for an idle client through the pool's 'error' (reported to `onIdleError`; the pool replaces
 * it), for a checked-out client on the client itself — even while its query in flight fails
 * with the same error — and with no listener there, that is an uncaught exception. The holder
 * learns of the loss from that failed query (or its next one, "not queryable"); on release
 * the pool discards the broken client. Every pool of a long-running process needs this.
 */
export function surviveConnectionLoss(
  pool: pg.Pool,
  onIdleError: (err: Error) => void = () => {},
): pg.Pool {
  pool.on("error", onIdleError);
  pool.on("connect", (client) => client.on("error", () => {}));
  return pool;
}
