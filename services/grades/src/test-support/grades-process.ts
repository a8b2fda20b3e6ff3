import { fileURLToPath } from "node:url";
import { type ServiceProcess, startServiceProcess } from "@otmetka/testing";

/** Runs src/main.ts as a real process, with `env` over a clean base. */
export function startGradesProcess(env: Record<string, string>): ServiceProcess {
  return startServiceProcess({
    name: "grades",
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
    env,
  });
}
