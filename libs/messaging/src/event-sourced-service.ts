// The start-up every service with an event log shares, so each main.ts keeps only its wiring.
import type { NatsConnection } from "@nats-io/transport-node";
import {
  createLogger,
  type Lifecycle,
  type Logger,
  type LogLevel,
  type Telemetry,
} from "@otmetka/service-kit";
import type { RouteFn } from "./event-message.js";
import type { LogReader } from "./log-reader.js";
import type { MessagingNames } from "./names.js";
import {
  connectServiceNats,
  type ServiceNatsConfig,
  startContextRelay,
} from "./service-messaging.js";

/** The variables of an event-sourced service's config that its start-up reads. */
export interface EventSourcedServiceConfig extends ServiceNatsConfig {
  LOG_LEVEL: LogLevel;
  DATABASE_URL: string;
}

/** An opened event log: read by the relay, closed at shutdown (EventStore satisfies it). */
export interface ServiceEventLog extends LogReader {
  close(): unknown;
}

export interface EventSourcedServiceOptions<S extends ServiceEventLog> {
  /** The service's name in its logs, its NATS client name and its context (stream, subjects). */
  service: string;
  config: EventSourcedServiceConfig;
  telemetry: Pick<Telemetry, "shutdown">;
  /** Creates the database if needed, migrates it and returns the event store. */
  openDatabase: (databaseUrl: string) => Promise<S>;
  /** Runs once the database is migrated, before NATS and the relay (e.g. identity's key rewrap). */
  afterDatabase?: (store: S, logger: Logger) => Promise<void>;
  route: RouteFn;
}

export interface EventSourcedService<S extends ServiceEventLog> {
  logger: Logger;
  store: S;
  nc: NatsConnection;
  names: MessagingNames;
}

/**
 * Starts what every event-sourced service runs before its own wiring: telemetry's flush,
 * the logger, the migrated database, NATS and the relay of its event log to its stream.
 * Shutdown, in reverse: relay, NATS, database, telemetry (whatever main adds next stops first).
 */
export async function startEventSourcedService<S extends ServiceEventLog>(
  lifecycle: Lifecycle,
  o: EventSourcedServiceOptions<S>,
): Promise<EventSourcedService<S>> {
  lifecycle.onShutdown("telemetry", () => o.telemetry.shutdown());
  const logger = createLogger({ service: o.service, level: o.config.LOG_LEVEL });
  lifecycle.useLogger(logger);

  const store = await o.openDatabase(o.config.DATABASE_URL);
  lifecycle.onShutdown("database", () => store.close());
  logger.info("database migrated");
  await o.afterDatabase?.(store, logger);

  const { nc, names } = await connectServiceNats(lifecycle, o.service, o.config, logger);
  await startContextRelay(lifecycle, {
    nc,
    names,
    context: o.service,
    log: store,
    databaseUrl: o.config.DATABASE_URL,
    route: o.route,
    logger,
  });
  return { logger, store, nc, names };
}
