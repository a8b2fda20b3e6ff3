import { invalidInput } from "../errors.js";
import type { DefinitionSet } from "./definition-sets.js";

/**
 * Definition versions. A figure names the version that produced it; a changed rule gets a
 * new version here (the old one stays, so old reports can be reproduced).
 */
export const DEFINITIONS = {
  pupilCount: "pupil_count.v1",
  passRate: "pass_rate.v1",
  qualityPerPupil: "quality_rate.per_pupil.v1",
  qualityPerMark: "quality_rate.per_mark.v1",
  degreeOfLearning: "sou.v1",
  average: "average_mark.v1",
  weightedAverage: "weighted_average.v1",
  distribution: "mark_distribution.v1",
  allSubjectsPass: "pass_rate.all_subjects.v1",
  allSubjectsQuality: "quality_rate.all_subjects.v1",
  attendanceRate: "attendance_rate.v1",
  missedLessons: "missed_lessons.v1",
  missedDays: "missed_days.v1",
  lateness: "lateness.v1",
  fillRate: "journal_fill_rate.v1",
  timeliness: "entry_timeliness.v1",
  medianDelay: "entry_median_delay.v1",
  programmeDelivery: "programme_delivery.v1",
} as const;

/**
 * Where a pupil's period result comes from: the term/year marks teachers set, or — during a
 * term — each pupil's weighted average rounded to a mark (x.5 up). Figures computed on the
 * current basis say so with the `+current` suffix.
 */
export type ResultBasis = "PERIOD_MARKS" | "CURRENT";

export const withBasis = (definition: string, basis: ResultBasis) =>
  basis === "CURRENT" ? `${definition}+current` : definition;

/** Configuration of the formulas (the variants schools and authorities choose). */
export interface MetricsConfig {
  /** Which quality variant is the headline figure; both are always computed. */
  readonly qualityVariant: "PER_PUPIL" | "PER_MARK";
  /** An entry is timely when recorded no later than k days after the lesson. */
  readonly timelinessDays: number;
  /** Definition sets beyond the live version 1 (weight tables changed since). */
  readonly definitionSets?: readonly DefinitionSet[];
}

export const DEFAULT_METRICS_CONFIG: MetricsConfig = {
  qualityVariant: "PER_PUPIL",
  timelinessDays: 1,
};

export function checkMetricsConfig(c: MetricsConfig): MetricsConfig {
  if (c.qualityVariant !== "PER_PUPIL" && c.qualityVariant !== "PER_MARK") {
    throw invalidInput(
      "qualityVariant",
      `must be PER_PUPIL or PER_MARK, got ${String(c.qualityVariant)}`,
    );
  }
  if (!Number.isInteger(c.timelinessDays) || c.timelinessDays < 0 || c.timelinessDays > 60) {
    throw invalidInput("timelinessDays", `must be an integer 0-60, got ${c.timelinessDays}`);
  }
  return c;
}

/** The timeliness definition carries its k so that figures with different k never mix. */
export const timelinessDefinition = (k: number) => `${DEFINITIONS.timeliness}(k=${k})`;
