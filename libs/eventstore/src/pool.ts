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
  // An idle client's connection can drop (server restart, timeout); the pool replaces it.
  // Without a listener the 'error' event would crash the process.
  pool.on("error", () => {});
  return pool;
}
