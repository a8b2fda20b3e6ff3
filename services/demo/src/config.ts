import { baseConfigSchema, DEFAULT_PORTS, loadConfig } from "@otmetka/service-kit/config";

/** The demo owns no database; it needs only the base variables (GRPC_PORT defaults to 50050). */
export const demoConfigSchema = baseConfigSchema({ grpcPort: DEFAULT_PORTS.demo });

export type DemoConfig = ReturnType<typeof loadDemoConfig>;

export function loadDemoConfig(env: Record<string, string | undefined> = process.env) {
  return loadConfig(demoConfigSchema, env);
}
