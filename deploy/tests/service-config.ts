// The services' own configuration schemas (each service's `./config` export), so the
// manifests are checked against exactly what each service accepts at start-up.
import { randomBytes } from "node:crypto";
import { curriculumConfigSchema } from "@otmetka/curriculum/config";
import { gatewayConfigSchema } from "@otmetka/gateway/config";
import { gradesConfigSchema } from "@otmetka/grades/config";
import { identityConfigSchema } from "@otmetka/identity/config";
import { portalConfigSchema } from "@otmetka/portal/config";
import { reportingConfigSchema } from "@otmetka/reporting/config";
import { DEFAULT_PORTS } from "@otmetka/service-kit/config";

/** architecture.md's gRPC ports, as service-kit states them. */
export const SERVICE_PORTS: Record<string, number> = {
  identity: DEFAULT_PORTS.identity,
  curriculum: DEFAULT_PORTS.curriculum,
  grades: DEFAULT_PORTS.grades,
  reporting: DEFAULT_PORTS.reporting,
  portal: DEFAULT_PORTS.portal,
};

interface Schema {
  shape: object;
  safeParse(v: unknown): {
    success: boolean;
    error?: { issues: { path: PropertyKey[]; message: string }[] };
  };
}

const SCHEMAS: Record<string, Schema> = {
  identity: identityConfigSchema,
  curriculum: curriculumConfigSchema,
  grades: gradesConfigSchema,
  reporting: reportingConfigSchema,
  portal: portalConfigSchema,
  gateway: gatewayConfigSchema,
};

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

/**
 * What is wrong with `env` for `service`: variables its schema does not know (a typo would
 * be ignored silently at run time) and values it refuses. `secret:` values are replaced by
 * valid samples, as the Secrets would supply them.
 */
export function serviceConfigErrors(service: string, env: Record<string, string>): string[] {
  const schema = SCHEMAS[service];
  if (!schema) throw new Error(`no config schema for ${service}`);
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
