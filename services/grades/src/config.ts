import {
  baseConfigSchema,
  DEFAULT_PORTS,
  databaseUrlVariable,
  loadConfig,
} from "@otmetka/service-kit/config";
import { z } from "zod";

export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/otmetka_grades";

export const gradesConfigSchema = baseConfigSchema({
  grpcPort: DEFAULT_PORTS.grades,
}).extend({
  DATABASE_URL: databaseUrlVariable(DEFAULT_DATABASE_URL),
  // Journals whose decision state stays in memory (least recently used out).
  JOURNAL_CACHE_SIZE: z.coerce
    .number({ message: "JOURNAL_CACHE_SIZE: an integer 1-1000000" })
    .int("JOURNAL_CACHE_SIZE: an integer 1-1000000")
    .min(1, "JOURNAL_CACHE_SIZE: an integer 1-1000000")
    .max(1_000_000, "JOURNAL_CACHE_SIZE: an integer 1-1000000")
    .default(1000),
});

export type GradesConfig = z.output<typeof gradesConfigSchema>;

export function loadGradesConfig(env: Record<string, string | undefined> = process.env) {
  return loadConfig(gradesConfigSchema, env);
}
