import {
  type DashboardQuery,
  type DashboardResult,
  Level,
} from "@otmetka/proto/reporting/v1/reporting_service";
import type { ChangeNotice } from "../subscriptions/notices.js";

/** What reporting's `dashboard-<level>` notices and the queries' levels both name. */
const LEVEL_NAMES: Partial<Record<Level, string>> = {
  [Level.LEVEL_CLASS_GROUP]: "class_group",
  [Level.LEVEL_SCHOOL]: "school",
  [Level.LEVEL_MUNICIPALITY]: "municipality",
  [Level.LEVEL_REGION]: "region",
};

// There is one region: its notices' id is reporting's business, its queries' id is ignored.
const tagOf = (level: string, id: string) => (level === "region" ? level : `${level}:${id}`);

/** The scope a dashboard notice says changed (`school:<id>`), or undefined for other notices. */
export function noticeTag(n: ChangeNotice): string | undefined {
  return n.kind.startsWith("dashboard-")
    ? tagOf(n.kind.slice("dashboard-".length), n.id)
    : undefined;
}

/**
 * The scope whose notices change a query's answer. Reporting sends a notice for every level a
 * change rolls up to (class group, school, municipality, region), so the query's own scope is
 * enough. Undefined for a level this gateway does not know: any notice empties such an entry.
 */
export function queryTag(q: DashboardQuery): string | undefined {
  const level = LEVEL_NAMES[q.level];
  return level === undefined ? undefined : tagOf(level, q.scopeId);
}

interface Entry<V> {
  value: V;
  expires: number;
  /** The scopes whose notices drop it; null: any dashboard notice does. */
  tags: readonly string[] | null;
}

const MAX_ENTRIES = 10_000;
const MAX_TAGS_REMEMBERED = 100_000;

/**
 * Dashboard answers for `ttlMs`: reporting's (per caller's grants and query, in the loaders)
 * and whole GraphQL responses (per viewer scope and document, `http/response-cache.ts`). A
 * `dashboard-<level>` notice drops the entries of that scope only (an entry is tagged with the
 * scopes of the dashboards it holds), so marks flowing in one school leave every other school's
 * answers cached; an entry with no known scope is dropped by any dashboard notice. The TTL
 * bounds the staleness when a notice is lost (they are fire and forget) and of what notices do
 * not announce (the names joined from identity, enrollments). Keyed by the grants so an answer
 * authorized for one set of grants is only ever reused for the same set.
 */
export class DashboardCache<V extends object = DashboardResult> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly byTag = new Map<string, Set<string>>();
  private readonly untagged = new Set<string>();
  /** Bumped by each dashboard notice: `begin()` tells a call when it started. */
  private generation = 0;
  /** Each scope's last notice, and any scope's: a call begun before it does not store its answer. */
  private readonly noticed = new Map<string, number>();
  private lastNotice = 0;
  /** Calls begun before this are not stored (`noticed` was reset). */
  private floor = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  onNotice(n: ChangeNotice): void {
    const tag = noticeTag(n);
    if (tag === undefined) return;
    const g = ++this.generation;
    this.lastNotice = g;
    if (this.noticed.size >= MAX_TAGS_REMEMBERED) {
      this.noticed.clear();
      this.floor = g;
    }
    this.noticed.set(tag, g);
    for (const key of this.byTag.get(tag) ?? []) this.drop(key);
    for (const key of this.untagged) this.drop(key);
  }

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.drop(key);
      return undefined;
    }
    return e.value;
  }

  begin(): number {
    return this.generation;
  }

  /** No notice of these scopes (of any scope when none are known) came since `begin()` gave `since`. */
  fresh(since: number, tags: readonly string[] | null): boolean {
    if (since < this.floor) return false;
    if (!tags?.length) return this.lastNotice <= since;
    return tags.every((t) => (this.noticed.get(t) ?? 0) <= since);
  }

  /** Stores an answer computed since `since` (`begin()`), dropped by notices of `tags`. */
  set(key: string, value: V, since: number, tags: readonly string[] | null = null): void {
    // Errors are not cached; neither is an answer older than a notice of its scopes.
    if (("error" in value && value.error) || !this.fresh(since, tags)) return;
    if (this.entries.size >= MAX_ENTRIES) this.clear();
    this.drop(key);
    const t = tags?.length ? tags : null;
    this.entries.set(key, { value, expires: this.now() + this.ttlMs, tags: t });
    if (!t) this.untagged.add(key);
    else
      for (const tag of t) {
        const keys = this.byTag.get(tag) ?? new Set<string>();
        this.byTag.set(tag, keys.add(key));
      }
  }

  private drop(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    if (!e.tags) {
      this.untagged.delete(key);
      return;
    }
    for (const tag of e.tags) {
      const keys = this.byTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.byTag.delete(tag);
    }
  }

  private clear(): void {
    this.entries.clear();
    this.byTag.clear();
    this.untagged.clear();
  }
}
