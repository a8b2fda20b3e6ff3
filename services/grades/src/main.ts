// First import, on its own: validates the config, then starts OpenTelemetry before anything
// loads @grpc/grpc-js or pg (see bootstrap.ts).
import "./bootstrap.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { ensureStream, messagingNames, OutboxRelay } from "@otmetka/messaging";
import { ProjectionRunner } from "@otmetka/projections";
import { GradesServiceService } from "@otmetka/proto/grades/v1/grades_service";
import {
  connectNats,
  createCallerVerifier,
  createLogger,
  runService,
  serveGrpc,
  systemClock,
} from "@otmetka/service-kit";
import { routeGradesEvent } from "./api/event-routing.js";
import { createGradesService } from "./api/grades-service.js";
import { config, telemetry } from "./bootstrap.js";
import { JournalStore } from "./commands/journal-store.js";
import { openGradesDatabase } from "./db/open-database.js";
import { gradesFactsProjection } from "./projections/facts.js";
import { FactsReader } from "./projections/facts-queries.js";

// Wiring only. Shutdown runs in reverse: gRPC server, replica, relay, NATS, database, telemetry.
await runService(async (lifecycle) => {
  lifecycle.onShutdown("telemetry", () => telemetry.shutdown());
  const logger = createLogger({ service: "grades", level: config.LOG_LEVEL });
  lifecycle.useLogger(logger);

  const store = await openGradesDatabase(config.DATABASE_URL);
  lifecycle.onShutdown("database", () => store.close());
  logger.info("database migrated");

  const nc = await connectNats({ url: config.NATS_URL, name: "grades", logger });
  lifecycle.onShutdown("nats", () => nc.drain());
  const names = messagingNames(config.NATS_PREFIX, { replicas: config.NATS_STREAM_REPLICAS });
  const jsm = await jetstreamManager(nc);
  const stream = names.contextStream("grades");
  await ensureStream(jsm, stream);
  const relay = new OutboxRelay({
    nc,
    log: store,
    stream: stream.name,
    databaseUrl: config.DATABASE_URL,
    subjectRoot: names.eventRoot("grades"),
    source: "grades",
    route: routeGradesEvent,
    onError: (err) => logger.warn({ err }, "relay error (it retries)"),
  }).start();
  lifecycle.onShutdown("relay", () => relay.stop());

  // The replica of identity and curriculum facts: commands read only this, never those services.
  await ensureStream(jsm, names.contextStream("identity"));
  await ensureStream(jsm, names.contextStream("curriculum"));
  const replica = await new ProjectionRunner({
    projection: gradesFactsProjection,
    pool: store.pool,
    nc,
    names,
    onError: (err, where) => logger.warn({ err, where }, "facts replica error (it retries)"),
  }).start();
  lifecycle.onShutdown("facts replica", () => replica.stop());

  const verifier = createCallerVerifier({ jwksUrl: config.AUTH_JWKS_URL });
  const deps = {
    store,
    clock: systemClock,
    facts: new FactsReader(store.pool),
    journals: new JournalStore(store, config.JOURNAL_CACHE_SIZE),
  };
  await serveGrpc({
    config,
    logger,
    lifecycle,
    services: [
      {
        definition: GradesServiceService,
        implementation: createGradesService(deps, verifier, logger),
      },
    ],
  });
});
