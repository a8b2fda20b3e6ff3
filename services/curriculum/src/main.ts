// First import, on its own: validates the config, then starts OpenTelemetry before anything
// loads @grpc/grpc-js or pg (see bootstrap.ts).
import "./bootstrap.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { connectServiceNats, ensureStream, startContextRelay } from "@otmetka/messaging";
import { startProjection } from "@otmetka/projections";
import { CurriculumServiceService } from "@otmetka/proto/curriculum/v1/curriculum_service";
import {
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

  const { nc, names } = await connectServiceNats(lifecycle, "curriculum", config, logger);
  await startContextRelay(lifecycle, {
    nc,
    names,
    context: "curriculum",
    log: store,
    databaseUrl: config.DATABASE_URL,
    route: routeCurriculumEvent,
    logger,
  });

  // The identity replica: started before serving, so commands find its schema.
  await ensureStream(await jetstreamManager(nc), names.contextStream("identity"));
  const run = { pool: store.pool, nc, names, logger };
  await startProjection(lifecycle, "identity replica", {
    projection: identityFactsProjection,
    ...run,
  });

  // The lessons read model, fed by this service's own relayed events; it serves queries only.
  await startProjection(lifecycle, "lessons read model", { projection: lessonsProjection, ...run });

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
