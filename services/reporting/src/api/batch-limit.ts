import { invalidInput } from "../domain/errors.js";

/**
 * The most items one GetDiaries (studentIds) or GetDashboards (queries) call takes: each item
 * is its own access check and queries, all run at once, so an unbounded batch could hold
 * every pool connection. The gateway's DataLoaders batch up to the same number
 * (REPORTING_MAX_BATCH in services/gateway/src/backends/loaders.ts): change both together.
 */
export const MAX_BATCH_ITEMS = 200;

/** The batch's items; the whole call is refused, before any item is looked at, when they are too many. */
export function withinBatchLimit<T>(field: string, items: readonly T[]): readonly T[] {
  if (items.length > MAX_BATCH_ITEMS)
    throw invalidInput(field, `at most ${MAX_BATCH_ITEMS} items a call, got ${items.length}`);
  return items;
}
