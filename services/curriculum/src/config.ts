import {
  baseConfigSchema,
  DEFAULT_PORTS,
  databaseUrlVariable,
  loadConfig,
} from "@otmetka/service-kit/config";
import type { z } from "zod";

export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/otmetka_curriculum";

export const curriculumConfigSchema = baseConfigSchema({
  grpcPort: DEFAULT_PORTS.curriculum,
}).extend({
  DATABASE_URL: databaseUrlVariable(DEFAULT_DATABASE_URL),
});

export type CurriculumConfig = z.output<typeof curriculumConfigSchema>;

export function loadCurriculumConfig(env: Record<string, string | undefined> = process.env) {
  return loadConfig(curriculumConfigSchema, env);
}
