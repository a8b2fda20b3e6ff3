import type { FivePoint } from "./values.js";

/**
 * The weighted average kept as integers (sum of w·m, sum of w) so that rounding is exact:
 * 4.5 never turns into 4.4999… through floating point.
 */
export interface WeightedSum {
  readonly sumWeighted: number;
  readonly sumWeights: number;
}

/** Rounds the weighted average to a mark, x.5 up (domain.md); null without marks. */
export function roundedMark(s: WeightedSum): FivePoint | null {
  if (s.sumWeights === 0) return null;
  // floor(S/W + 1/2) = floor((2S + W) / 2W), all integers.
  const mark = Math.floor((2 * s.sumWeighted + s.sumWeights) / (2 * s.sumWeights));
  return Math.min(5, Math.max(1, mark)) as FivePoint;
}

export const weightedAverage = (s: WeightedSum): number | null =>
  s.sumWeights === 0 ? null : s.sumWeighted / s.sumWeights;
