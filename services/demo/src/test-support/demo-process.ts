import { fileURLToPath } from "node:url";
import { type ServiceProcess, startServiceProcess } from "@otmetka/testing";

/** Starts the demo's main.ts as a real process, with `env` over a clean base. */
export function startDemoProcess(env: Record<string, string>): ServiceProcess {
  return startServiceProcess({
    name: "demo",
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
    env,
  });
}
