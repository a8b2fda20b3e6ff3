import type { DashboardResult } from "@otmetka/proto/reporting/v1/reporting_service";
import type { ChangeNotice } from "../subscriptions/notices.js";

/**
 * Dashboard answers for `ttlMs`: reporting's (per caller's grants and query, in the loaders)
 * and whole GraphQL responses (per viewer scope and document, `http/response-cache.ts`). Any
 * `dashboard-*` change notice empties it (coarse but never stale past the notice); the TTL
 * bounds the staleness when a notice is lost (they are fire and forget) and of the names the
 * answers join from identity. Keyed by the grants so an answer authorized for one set of
 * grants is only ever reused for the same set.
 */
export class DashboardCache<V extends object = DashboardResult> {
  private readonly entries = new Map<string, { value: V; expires: number }>();
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

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  begin(): number {
    return this.generation;
  }

  set(key: string, value: V, generation: number): void {
    // Errors are not cached; neither is an answer older than the last invalidation.
    if (("error" in value && value.error) || generation !== this.generation) return;
    if (this.entries.size >= 10_000) this.entries.clear();
    this.entries.set(key, { value, expires: this.now() + this.ttlMs });
  }
}
