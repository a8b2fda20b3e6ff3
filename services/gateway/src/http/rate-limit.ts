/**
 * Requests per caller per fixed one-minute window. In memory, per gateway instance: with N
 * instances behind a balancer the effective limit is up to N times this (README).
 */
export class RateLimiter {
  private window = 0;
  private counts = new Map<string, number>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts `n` requests (default one) of `key`; false when it is over the limit. */
  take(key: string, n = 1): boolean {
    const w = Math.floor(this.now() / 60_000);
    if (w !== this.window) {
      // A new window forgets every count at once, so the map never outgrows one minute of callers.
      this.window = w;
      this.counts = new Map();
    }
    const count = (this.counts.get(key) ?? 0) + n;
    this.counts.set(key, count);
    return count <= this.perMinute;
  }
}
