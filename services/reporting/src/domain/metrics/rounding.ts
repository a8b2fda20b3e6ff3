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

/**
 * numerator / denominator × scale, rounded half up to `decimals` places, exactly on integers
 * (as a statutory table is rounded by hand): 169 / 40 = 4.225 gives 4.23, where
 * Math.round(4.225 * 100) and (4.225).toFixed(2) give 4.22, the double being 4.22499….
 * Non-integer or negative input falls back to floating point; null without a denominator.
 */
export function roundedRatio(
  numerator: number,
  denominator: number,
  decimals: number,
  scale = 1,
): number | null {
  if (denominator === 0) return null;
  const unit = 10 ** decimals;
  const n = numerator * scale * unit;
  const exact = Number.isInteger(n) && n >= 0 && Number.isInteger(denominator) && denominator > 0;
  // floor(n/d + 1/2) = floor((2n + d) / 2d): an integer quotient is exact in a double.
  if (exact && Number.isSafeInteger(2 * n + 2 * denominator))
    return Math.floor((2 * n + denominator) / (2 * denominator)) / unit;
  return Math.round(n / denominator) / unit;
}
