// First import, on its own: validates the config, then starts OpenTelemetry before anything
// loads @grpc/grpc-js or pg (see bootstrap.ts).
import "./bootstrap.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { ensureStream, messagingNames, OutboxRelay } from "@otmetka/messaging";
import { ProjectionRunner } from "@otmetka/projections";
import { CurriculumServiceService } from "@otmetka/proto/curriculum/v1/curriculum_service";
import {
  connectNats,
  createCallerVerifier,
  createLogger,
  runService,
  serveGrpc,
  systemClock,
} from "@otmetka/service-kit";
import { createCurriculumService } from "./api/curriculum-service.js";
import { routeCurriculumEvent } from "./api/event-routing.js";
import { config, telemetry } from "./bootstrap.js";
import { openCurriculumDatabase } from "./db/open-database.js";
import { identityFactsProjection } from "./projections/identity-facts.js";
import { IdentityFacts } from "./projections/identity-facts-queries.js";
import { lessonsProjection } from "./projections/lessons.js";
import { LessonsReadModel } from "./projections/lessons-queries.js";

// Wiring only. Shutdown runs in reverse: gRPC server, relay, NATS, database, telemetry.
await runService(async (lifecycle) => {
  lifecycle.onShutdown("telemetry", () => telemetry.shutdown());
  const logger = createLogger({ service: "curriculum", level: config.LOG_LEVEL });
  lifecycle.useLogger(logger);

  const store = await openCurriculumDatabase(config.DATABASE_URL);
  lifecycle.onShutdown("database", () => store.close());
  logger.info("database migrated");

  const nc = await connectNats({ url: config.NATS_URL, name: "curriculum", logger });
  lifecycle.onShutdown("nats", () => nc.drain());
  const names = messagingNames(config.NATS_PREFIX, { replicas: config.NATS_STREAM_REPLICAS });
  const stream = names.contextStream("curriculum");
  await ensureStream(await jetstreamManager(nc), stream);
  const relay = new OutboxRelay({
    nc,
    log: store,
    stream: stream.name,
    databaseUrl: config.DATABASE_URL,
    subjectRoot: names.eventRoot("curriculum"),
    source: "curriculum",
    route: routeCurriculumEvent,
    onError: (err) => logger.warn({ err }, "relay error (it retries)"),
  }).start();
  lifecycle.onShutdown("relay", () => relay.stop());

  // The identity replica: started before serving, so commands find its schema.
  await ensureStream(await jetstreamManager(nc), names.contextStream("identity"));
  const identityReplica = await new ProjectionRunner({
    projection: identityFactsProjection,
    pool: store.pool,
    nc,
    names,
    onError: (err, where) => logger.warn({ err, where }, "identity replica error (it retries)"),
  }).start();
  lifecycle.onShutdown("identity replica", () => identityReplica.stop());

  // The lessons read model, fed by this service's own relayed events; it serves queries only.
  const lessonsModel = await new ProjectionRunner({
    projection: lessonsProjection,
    pool: store.pool,
    nc,
    names,
    onError: (err, where) => logger.warn({ err, where }, "lessons read model error (it retries)"),
  }).start();
  lifecycle.onShutdown("lessons read model", () => lessonsModel.stop());

  await serveGrpc({
    config,
    logger,
    lifecycle,
    services: [
      {
        definition: CurriculumServiceService,
        implementation: createCurriculumService(
          {
            store,
            clock: systemClock,
            facts: new IdentityFacts(store.pool),
            lessons: new LessonsReadModel(store.pool),
          },
          {
            verifier: createCallerVerifier({ jwksUrl: config.AUTH_JWKS_URL }),
            regionId: config.CURRICULUM_REGION_ID,
          },
          logger,
        ),
      },
    ],
  });
});
