// First import, on its own: validates the config, then starts OpenTelemetry before anything
// loads @grpc/grpc-js or pg (see bootstrap.ts).
import "./bootstrap.js";
import { connectServiceNats } from "@otmetka/messaging";
import { logRunnerErrors, startRunnerUpgrading, upgradeLog } from "@otmetka/projections";
import { ReportingServiceService } from "@otmetka/proto/reporting/v1/reporting_service";
import { createCallerVerifier, createLogger, runService, serveGrpc } from "@otmetka/service-kit";
import { Access } from "./api/access.js";
import { createReportingService } from "./api/reporting-service.js";
import { config, telemetry } from "./bootstrap.js";
import { projectionOptions } from "./config.js";
import { openReportingDatabase } from "./db/open-database.js";
import { checkDefinitionSets } from "./domain/metrics/definition-sets.js";
import { checkMetricsConfig } from "./domain/metrics/definitions.js";
import { createReportingProjection } from "./projections/projection.js";
import { ReadDb } from "./queries/read-db.js";
import { ensureSourceStreams } from "./streams.js";

// Wiring only. Shutdown runs in reverse: gRPC server, read model, NATS, database, telemetry.
await runService(async (lifecycle) => {
  lifecycle.onShutdown("telemetry", () => telemetry.shutdown());
  const logger = createLogger({ service: "reporting", level: config.LOG_LEVEL });
  lifecycle.useLogger(logger);

  const pool = await openReportingDatabase(config.DATABASE_URL, {
    onIdleError: (err) =>
      logger.warn({ err }, "idle database connection lost (the pool reconnects)"),
  });
  lifecycle.onShutdown("database", () => pool.end());

  const { nc, names } = await connectServiceNats(lifecycle, "reporting", config, logger);
  await ensureSourceStreams(nc, names);

  // Every read model in one projection over identity, curriculum and grades events. A read
  // model of an older version (new tables, e.g. the daily snapshots of version 2) is rebuilt
  // from sequence 1 first, blue/green (`npm run rebuild -w @otmetka/reporting` does the same).
  const reportingProjection = createReportingProjection({ ...projectionOptions(config), logger });
  const runner = await startRunnerUpgrading(
    {
      projection: reportingProjection,
      pool,
      nc,
      names,
      onError: logRunnerErrors(logger, "read model"),
    },
    upgradeLog(logger, "read model"),
  );
  lifecycle.onShutdown("read model", () => runner.stop());

  const db = new ReadDb(pool);
  const deps = {
    db,
    access: new Access(db, config.REPORTING_REGION_ID),
    metrics: checkMetricsConfig({
      qualityVariant: config.REPORTING_QUALITY_VARIANT,
      timelinessDays: config.REPORTING_TIMELINESS_DAYS,
      definitionSets: checkDefinitionSets(config.REPORTING_DEFINITION_SETS),
    }),
  };
  const verifier = createCallerVerifier({ jwksUrl: config.AUTH_JWKS_URL });
  await serveGrpc({
    config,
    logger,
    lifecycle,
    services: [
      {
        definition: ReportingServiceService,
        implementation: createReportingService(deps, verifier, logger),
      },
    ],
  });
});
