import {
  baseConfigSchema,
  DEFAULT_PORTS,
  databaseUrlVariable,
  loadConfig,
} from "@otmetka/service-kit/config";
import { z } from "zod";

export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/otmetka_reporting";

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
});

export type ReportingConfig = z.output<typeof reportingConfigSchema>;

export function loadReportingConfig(env: Record<string, string | undefined> = process.env) {
  return loadConfig(reportingConfigSchema, env);
}
