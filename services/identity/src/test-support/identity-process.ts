import { fileURLToPath } from "node:url";
import { type ServiceProcess, startServiceProcess } from "@otmetka/testing";

export type IdentityProcess = ServiceProcess;

/** Starts identity's main.ts as a real process, with `env` over a clean base. */
export function startIdentityProcess(env: Record<string, string>): IdentityProcess {
  return startServiceProcess({
    name: "identity",
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
    env,
  });
}
