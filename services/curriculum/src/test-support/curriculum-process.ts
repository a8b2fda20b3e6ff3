import { fileURLToPath } from "node:url";
import { type ServiceProcess, startServiceProcess } from "@otmetka/testing";

export type CurriculumProcess = ServiceProcess;

/** Runs src/main.ts as a real process, with `env` over a clean base. */
export function startCurriculumProcess(env: Record<string, string>): CurriculumProcess {
  return startServiceProcess({
    name: "curriculum",
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
    env,
  });
}
