/**
 * One figure of a dashboard: the value with the numerator and denominator it came from, and
 * the definition version that produced it, so an old report stays reproducible after a rule
 * changes (domain.md "Performance metrics").
 */
export interface Figure {
  /** null when the denominator is 0 (no population to speak of). */
  readonly value: number | null;
  readonly numerator: number;
  readonly denominator: number;
  readonly definition: string;
}

export function ratio(
  numerator: number,
  denominator: number,
  definition: string,
  scale = 1,
): Figure {
  return {
    value: denominator === 0 ? null : (scale * numerator) / denominator,
    numerator,
    denominator,
    definition,
  };
}
