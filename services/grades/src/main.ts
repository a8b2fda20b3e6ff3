// First import, on its own: validates the config, then starts OpenTelemetry before anything
// loads @grpc/grpc-js or pg (see bootstrap.ts).
import "./bootstrap.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { ensureStream, startEventSourcedService } from "@otmetka/messaging";
import { startProjection } from "@otmetka/projections";
import { GradesServiceService } from "@otmetka/proto/grades/v1/grades_service";
import { createCallerVerifier, runService, serveGrpc, systemClock } from "@otmetka/service-kit";
import { routeGradesEvent } from "./api/event-routing.js";
import { createGradesService } from "./api/grades-service.js";
import { config, telemetry } from "./bootstrap.js";
import { JournalStore } from "./commands/journal-store.js";
import { openGradesDatabase } from "./db/open-database.js";
import { gradesFactsProjection } from "./projections/facts.js";
import { FactsReader } from "./projections/facts-queries.js";

// Wiring only. Shutdown runs in reverse: gRPC server, replica, relay, NATS, database, telemetry.
await runService(async (lifecycle) => {
  const { logger, store, nc, names } = await startEventSourcedService(lifecycle, {
    service: "grades",
    config,
    telemetry,
    openDatabase: openGradesDatabase,
    route: routeGradesEvent,
  });

  // The replica of identity and curriculum facts: commands read only this, never those services.
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, names.contextStream("identity"));
  await ensureStream(jsm, names.contextStream("curriculum"));
  await startProjection(lifecycle, "facts replica", {
    projection: gradesFactsProjection,
    pool: store.pool,
    nc,
    names,
    logger,
  });

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
