// First import, on its own: validates the config, then starts OpenTelemetry before anything
// loads @grpc/grpc-js or pg (see bootstrap.ts).
import "./bootstrap.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { ensureStream, startEventSourcedService } from "@otmetka/messaging";
import { startProjection } from "@otmetka/projections";
import { CurriculumServiceService } from "@otmetka/proto/curriculum/v1/curriculum_service";
import { createCallerVerifier, runService, serveGrpc, systemClock } from "@otmetka/service-kit";
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
  const { logger, store, nc, names } = await startEventSourcedService(lifecycle, {
    service: "curriculum",
    config,
    telemetry,
    openDatabase: openCurriculumDatabase,
    route: routeCurriculumEvent,
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
