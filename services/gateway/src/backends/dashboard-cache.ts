import type { DashboardResult } from "@otmetka/proto/reporting/v1/reporting_service";
import type { ChangeNotice } from "../subscriptions/notices.js";

/**
 * Reporting's dashboard answers, per (caller's grants, query), for `ttlMs`. Any `dashboard-*`
 * change notice empties it (coarse but never stale past the notice); the TTL bounds the
 * staleness when a notice is lost (they are fire and forget). Keyed by the grants so an
 * answer reporting authorized for one set of grants is only ever reused for the same set;
 * the gateway's field policies still run on every request.
 */
export class DashboardCache {
  private readonly entries = new Map<string, { result: DashboardResult; expires: number }>();
  /** Bumped by each invalidation: a call that started before it does not store its answer. */
  private generation = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  onNotice(n: ChangeNotice): void {
    if (!n.kind.startsWith("dashboard-")) return;
    this.generation++;
    this.entries.clear();
  }

  get(key: string): DashboardResult | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.result;
  }

  begin(): number {
    return this.generation;
  }

  set(key: string, result: DashboardResult, generation: number): void {
    // Errors are not cached; neither is an answer older than the last invalidation.
    if (result.error || generation !== this.generation) return;
    if (this.entries.size >= 10_000) this.entries.clear();
    this.entries.set(key, { result, expires: this.now() + this.ttlMs });
  }
}
