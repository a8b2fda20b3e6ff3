// The services' own configuration schemas (services/<name>/src/config.ts), loaded by path so
// the manifests are checked against exactly what each service accepts at start-up.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { repoRoot } from "./manifests.js";

/** architecture.md's ports, as libs/service-kit states them. */
export const SERVICE_PORTS: Record<string, number> = {
  identity: 50051,
  curriculum: 50052,
  grades: 50053,
  reporting: 50054,
  portal: 50055,
};

interface Schema {
  shape: Record<string, unknown>;
  safeParse(v: unknown): {
    success: boolean;
    error?: { issues: { path: PropertyKey[]; message: string }[] };
  };
}

/** Read by the OpenTelemetry SDK or Node itself, not by the config schemas. */
const OUTSIDE_SCHEMA = new Set(["OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG", "NODE_ENV"]);

/** A valid stand-in for a value a Secret supplies in the cluster. */
function secretSample(variable: string, service: string): string {
  const key = () => randomBytes(32).toString("base64");
  if (variable === "DATABASE_URL") return `postgres://otmetka:pw@db:5432/otmetka_${service}`;
  if (variable === "IDENTITY_MASTER_KEYS") return `k1:${key()}`;
  if (variable === "IDENTITY_BLIND_INDEX_KEY") return key();
  if (variable.includes("PASSWORD")) return "a-long-enough-password";
  return "sample-value";
}

export async function serviceSchema(service: string): Promise<Schema> {
  const file = join(repoRoot, "services", service, "src", "config.ts");
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const schema = Object.entries(mod).find(([k]) => k.endsWith("ConfigSchema"))?.[1];
  if (!schema) throw new Error(`${file} exports no *ConfigSchema`);
  return schema as Schema;
}

/**
 * What is wrong with `env` for `service`: variables its schema does not know (a typo would
 * be ignored silently at run time) and values it refuses. `secret:` values are replaced by
 * valid samples, as the Secrets would supply them.
 */
export async function serviceConfigErrors(
  service: string,
  env: Record<string, string>,
): Promise<string[]> {
  const schema = await serviceSchema(service);
  const errors: string[] = [];
  const resolved: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (!(k in schema.shape) && !OUTSIDE_SCHEMA.has(k))
      errors.push(`${k}: not a variable of ${service}`);
    resolved[k] = v.startsWith("secret:") ? secretSample(k, service) : v;
  }
  const parsed = schema.safeParse(
    Object.fromEntries(Object.entries(resolved).filter(([, v]) => v !== "")),
  );
  for (const issue of parsed.error?.issues ?? [])
    errors.push(`${String(issue.path[0])}: ${issue.message}`);
  return errors;
}
