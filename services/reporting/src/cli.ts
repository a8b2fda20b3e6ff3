#!/usr/bin/env node
// Operator commands for reporting's read model, e.g. a blue/green rebuild with a progress bar:
//   DATABASE_URL=... NATS_URL=... NATS_PREFIX=... node dist/cli.js rebuild reporting
import { ProjectionError } from "@otmetka/projections";
import { projectionsProgram } from "@otmetka/projections/cli";
import { reportingProjection } from "./projections/projection.js";

try {
  await projectionsProgram({ projections: [reportingProjection] }).parseAsync(process.argv);
} catch (err) {
  console.error(err instanceof ProjectionError ? `error: ${err.message}` : err);
  process.exitCode = 1;
}
