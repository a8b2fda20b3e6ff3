/** Median of the runs (the mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median: values must not be empty");
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Runs `fn` `runs` times in sequence and returns what each run measured. */
export async function repeat(
  runs: number,
  fn: (run: number) => Promise<number>,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) out.push(await fn(i));
  return out;
}

/** Rounds a figure for reading, keeping 3 significant digits for small ones. */
export function round(value: number): number {
  if (Math.abs(value) >= 100) return Math.round(value);
  return Number(value.toPrecision(3));
}

/**
 * The nearest-rank quantile: the ⌈q·n⌉-th smallest of the values (q from 0 to 1), NaN when
 * there are none.
 */
export function nearestRank(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(s.length * q) - 1)] ?? Number.NaN;
}

/**
 * The value at index ⌊p/100·n⌋ of the sorted values (p from 0 to 100; 0 when there are none):
 * the percentile bench:gateway, bench:grades and bench:portal have always reported, one rank
 * above nearestRank where p/100·n is whole (of 100 values, p99 is the largest). Kept apart so
 * that their figures stay comparable with earlier results.
 */
export function percentileAtIndex(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}
