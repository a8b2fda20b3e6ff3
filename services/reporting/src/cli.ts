#!/usr/bin/env node
// Operator commands for reporting's read model, e.g. a blue/green rebuild with a progress bar:
//   DATABASE_URL=... NATS_URL=... NATS_PREFIX=... node dist/cli.js rebuild reporting
// (REPORTING_REBUILD_MEMORY_MB bounds what the rebuild holds in memory, README "Rebuild mode").
import { ProjectionError } from "@otmetka/projections";
import { projectionsProgram } from "@otmetka/projections/cli";
import { createLogger } from "@otmetka/service-kit";
import { loadConfigOrExit } from "@otmetka/service-kit/config";
import { projectionOptions, reportingConfigSchema } from "./config.js";
import { createReportingProjection } from "./projections/projection.js";

const config = loadConfigOrExit(reportingConfigSchema);
const logger = createLogger({ service: "reporting", level: config.LOG_LEVEL });
const projection = createReportingProjection({ ...projectionOptions(config), logger });
try {
  await projectionsProgram({ projections: [projection] }).parseAsync(process.argv);
} catch (err) {
  console.error(err instanceof ProjectionError ? `error: ${err.message}` : err);
  process.exitCode = 1;
}
