import {
  baseConfigSchema,
  DEFAULT_PORTS,
  databaseUrlVariable,
  loadConfig,
} from "@otmetka/service-kit/config";
import { z } from "zod";

export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/otmetka_reporting";
export const DEFAULT_REBUILD_MEMORY_MB = 1024;

const rule = (name: string, what: string) => `${name}: ${what}`;

export const reportingConfigSchema = baseConfigSchema({
  grpcPort: DEFAULT_PORTS.reporting,
}).extend({
  DATABASE_URL: databaseUrlVariable(DEFAULT_DATABASE_URL),
  // The region's id in MINISTRY_OFFICER@region:<id> grants (Chelyabinsk Region: 74).
  REPORTING_REGION_ID: z
    .string({ message: rule("REPORTING_REGION_ID", "letters, digits, '-' or '_'") })
    .regex(/^[A-Za-z0-9_-]{1,64}$/, rule("REPORTING_REGION_ID", "letters, digits, '-' or '_'"))
    .default("74"),
  // Which quality figure is the headline: per pupil (default) or per mark; both are served.
  REPORTING_QUALITY_VARIANT: z
    .enum(["PER_PUPIL", "PER_MARK"], {
      message: rule("REPORTING_QUALITY_VARIANT", "PER_PUPIL or PER_MARK"),
    })
    .default("PER_PUPIL"),
  // An entry is timely when recorded no later than k days after its lesson.
  REPORTING_TIMELINESS_DAYS: z.coerce
    .number({ message: rule("REPORTING_TIMELINESS_DAYS", "an integer 0-60") })
    .int(rule("REPORTING_TIMELINESS_DAYS", "an integer 0-60"))
    .min(0, rule("REPORTING_TIMELINESS_DAYS", "an integer 0-60"))
    .max(60, rule("REPORTING_TIMELINESS_DAYS", "an integer 0-60"))
    .default(1),
  // What a rebuild may hold in memory (MiB, estimated) before the rest of it reads and
  // writes the tables as live (README "Rebuild mode"); 0: the live way from the first batch.
  REPORTING_REBUILD_MEMORY_MB: z.coerce
    .number({ message: rule("REPORTING_REBUILD_MEMORY_MB", "an integer >= 0 (MiB)") })
    .int(rule("REPORTING_REBUILD_MEMORY_MB", "an integer >= 0 (MiB)"))
    .min(0, rule("REPORTING_REBUILD_MEMORY_MB", "an integer >= 0 (MiB)"))
    .default(DEFAULT_REBUILD_MEMORY_MB),
  // Definition sets beyond the live version 1, as JSON:
  // [{"version":2,"weights":{"CONTROL":3,"ORAL":1},"note":"..."}] (domain/metrics/definition-sets.ts).
  REPORTING_DEFINITION_SETS: z
    .string()
    .default("[]")
    .transform((text, ctx) => {
      try {
        return z
          .array(
            z.object({
              version: z.number().int().min(2),
              weights: z.record(z.string(), z.number().int().min(1)).nullable().default(null),
              note: z.string().default(""),
            }),
          )
          .parse(JSON.parse(text));
      } catch (err) {
        ctx.addIssue({
          code: "custom",
          message: rule(
            "REPORTING_DEFINITION_SETS",
            `a JSON array of {version ≥ 2, weights: {workType: weight ≥ 1}, note} (${(err as Error).message.slice(0, 200)})`,
          ),
        });
        return z.NEVER;
      }
    }),
});

export type ReportingConfig = z.output<typeof reportingConfigSchema>;

/** The projection's options from the configuration. */
export const projectionOptions = (c: ReportingConfig) => ({
  rebuildMemoryBytes: c.REPORTING_REBUILD_MEMORY_MB * 2 ** 20,
});

export function loadReportingConfig(env: Record<string, string | undefined> = process.env) {
  return loadConfig(reportingConfigSchema, env);
}
