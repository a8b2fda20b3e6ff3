#!/usr/bin/env node
import { ProjectionError } from "../errors.js";
import { projectionsProgram } from "./program.js";

try {
  await projectionsProgram().parseAsync(process.argv);
} catch (err) {
  // Typed errors name what was wrong; anything else is a bug worth its stack.
  console.error(err instanceof ProjectionError ? `error: ${err.message}` : err);
  process.exitCode = 1;
}
