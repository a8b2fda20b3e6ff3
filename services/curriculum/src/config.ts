import {
  baseConfigSchema,
  DEFAULT_PORTS,
  databaseUrlVariable,
  loadConfig,
  parsePattern,
  variable,
} from "@otmetka/service-kit/config";
import type { z } from "zod";

export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/otmetka_curriculum";

export const curriculumConfigSchema = baseConfigSchema({
  grpcPort: DEFAULT_PORTS.curriculum,
}).extend({
  DATABASE_URL: databaseUrlVariable(DEFAULT_DATABASE_URL),
  // The region whose MINISTRY_OFFICER grants cover every school here (identity's region id).
  CURRICULUM_REGION_ID: variable(
    "letters, digits or '-'",
    parsePattern(/^[A-Za-z0-9-]{1,40}$/),
    "74",
  ),
});

export type CurriculumConfig = z.output<typeof curriculumConfigSchema>;

export function loadCurriculumConfig(env: Record<string, string | undefined> = process.env) {
  return loadConfig(curriculumConfigSchema, env);
}
